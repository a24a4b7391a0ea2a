//! The organisation-insight page (`/w/{ws}/insight`) and the chain graph on unit pages.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use kohtaamo_domain::insight::Chain;
use kohtaamo_domain::Id;

use super::diagrams::{Line, Rect, Svg, Text};
use super::pages::{chrome, Nav};
use super::{html, PageCtx, PageError};
use crate::i18n::I18n;
use crate::AppState;
use kohtaamo_app::directory::Names;
use kohtaamo_app::report::{chain_lines, far_reason};

pub struct ChainRow {
    unit: Id,
    name: String,
    far: bool,
    /// Why a unit far from the customer is: nobody told them, or no chain reaches.
    why: String,
    /// One line per segment reached.
    paths: Vec<String>,
}
pub struct JourneyHandOffs {
    name: String,
    count: String,
    undeclared: Vec<String>,
}

#[derive(Template)]
#[template(path = "insight.html")]
struct InsightPage {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    slug: String,
    date: String,
    units_with: usize,
    units_total: usize,
    stale: usize,
    share: String,
    without: Vec<(Id, String)>,
    chains: Vec<ChainRow>,
    journeys: Vec<JourneyHandOffs>,
    /// Column headings (owners) and rows (owner, count per column).
    matrix: (Vec<String>, Vec<(String, Vec<String>)>),
    interfaces: Vec<(String, String, String)>,
    gaps: Vec<String>,
    orphans: Vec<String>,
    unsupported: Vec<String>,
    labyrinth: Vec<(String, usize, usize, usize, i64, String)>,
    no_core: Vec<String>,
    missing: Vec<String>,
    unowned: Vec<String>,
}

pub async fn insight(State(st): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    let (w, _) = ctx.ws()?;
    let i = &ctx.i;
    let today = st.clock.today();
    let (snapshot, report) = kohtaamo_app::insight::load(&st.store, w.id, today).await?;
    let ins = report.insight;
    let n = Names::new(&snapshot, i);
    let names = |m: &std::collections::HashMap<Id, String>, ids: &[Id]| {
        ids.iter().map(|id| Names::get(m, *id)).collect::<Vec<_>>()
    };
    let c = &ins.coverage;
    let chrome = chrome(&ctx);
    let page = InsightPage {
        slug: w.data.slug.to_string(),
        date: i.date(&today),
        units_with: c.units_with_customers.len(),
        units_total: snapshot.units.len(),
        stale: c.stale_relations.len(),
        share: format!("{:.0} %", c.share_reaching_external * 100.0),
        without: c
            .units_without_customers
            .iter()
            .map(|id| (*id, Names::get(&n.units, *id)))
            .collect(),
        chains: ins
            .chains
            .iter()
            .map(|ch| ChainRow {
                unit: ch.unit,
                name: Names::get(&n.units, ch.unit),
                far: ch.far_from_customer,
                why: far_reason(ch).map(|k| i.t(k)).unwrap_or_default(),
                paths: chain_lines(&n, ch),
            })
            .collect(),
        journeys: snapshot
            .journeys
            .iter()
            .map(|(jid, _)| {
                let mine: Vec<_> = ins.hand_offs.iter().filter(|h| h.journey == *jid).collect();
                JourneyHandOffs {
                    name: Names::get(&n.journeys, *jid),
                    count: format!(
                        "{} ({})",
                        i.n("report-hand-off-count", "count", mine.len() as i64),
                        i.n(
                            "report-undeclared-count",
                            "count",
                            mine.iter().filter(|h| h.undeclared).count() as i64
                        )
                    ),
                    undeclared: mine
                        .iter()
                        .map(|h| {
                            let flag = if h.undeclared {
                                format!(" — {}", i.t("insight-undeclared"))
                            } else {
                                String::new()
                            };
                            format!(
                                "{} → {} ({}: {}){flag}",
                                n.party(h.from),
                                n.party(h.to),
                                i.t("report-at"),
                                Names::get(&n.touchpoints, h.to_touchpoint)
                            )
                        })
                        .collect(),
                }
            })
            .collect(),
        matrix: {
            // Owners that hand off or receive, as both the rows and the columns.
            let mut parties: Vec<kohtaamo_domain::insight::Party> = ins
                .hand_off_matrix
                .iter()
                .flat_map(|(a, b, _)| [*a, *b])
                .collect();
            parties.sort();
            parties.dedup();
            let cols: Vec<String> = parties.iter().map(|p| n.party(*p)).collect();
            let rows = parties
                .iter()
                .map(|from| {
                    let cells = parties
                        .iter()
                        .map(|to| {
                            ins.hand_off_matrix
                                .iter()
                                .find(|(a, b, _)| a == from && b == to)
                                .map(|(_, _, k)| k.to_string())
                                .unwrap_or_default()
                        })
                        .collect();
                    (n.party(*from), cells)
                })
                .collect();
            (cols, rows)
        },
        interfaces: ins
            .interfaces
            .iter()
            .map(|g| {
                let label = g
                    .kind
                    .map(|k| i.enum_label("interface", k.as_str()))
                    .unwrap_or_else(|| i.t("report-no-interface"));
                let owners: std::collections::BTreeSet<String> = g
                    .touchpoints
                    .iter()
                    .filter_map(|(_, o)| o.map(|p| n.party(p)))
                    .collect();
                (
                    label,
                    i.n("touchpoint-count", "count", g.touchpoints.len() as i64),
                    owners.into_iter().collect::<Vec<_>>().join(", "),
                )
            })
            .collect(),
        gaps: names(&n.touchpoints, &ins.interface_gaps),
        orphans: names(&n.steps, &ins.orphan_steps),
        unsupported: names(&n.touchpoints, &ins.unsupported_touchpoints),
        labyrinth: ins
            .labyrinth
            .iter()
            .map(|l| {
                (
                    Names::get(&n.journeys, l.journey),
                    l.customer_steps,
                    l.hand_offs,
                    l.channel_switches,
                    l.total_minutes,
                    i.decimals(format!("{:.1}", l.score)),
                )
            })
            .collect(),
        no_core: names(&n.packages, &ins.packages_without_core),
        missing: ins
            .missing_enablers
            .iter()
            .map(|m| {
                format!(
                    "{} ({}) — {}: {}",
                    Names::get(&n.touchpoints, m.touchpoint),
                    Names::get(&n.elements, m.core_element),
                    i.t("report-none-earlier"),
                    names(&n.elements, &m.missing).join(", ")
                )
            })
            .collect(),
        unowned: names(&n.elements, &ins.unowned_elements),
        i: chrome.i,
        nav: chrome.nav,
        langs: chrome.langs,
        here: chrome.here,
    };
    Ok(html(page.render()))
}

/// The unit's paths to external customers as a small graph: one row per path, boxes
/// joined by arrows-as-lines, the segment last. `None` when the unit has no path.
pub fn chain_svg(i: &I18n, n: &Names, chain: &Chain) -> Option<Svg> {
    if chain.paths.is_empty() {
        return None;
    }
    let (w, h, gap) = (170, 40, 50);
    let longest = chain
        .paths
        .iter()
        .map(|(p, _)| p.len() + 1)
        .max()
        .unwrap_or(1) as i32;
    let mut s = Svg {
        id: format!("chain-{}", chain.unit),
        class: "chain",
        title: i.t("unit-chain"),
        width: longest * (w + gap) + 10,
        height: chain.paths.len() as i32 * (h + 20) + 10,
        ..Default::default()
    };
    for (row, (path, seg)) in chain.paths.iter().enumerate() {
        let y = 10 + row as i32 * (h + 20);
        let mut labels: Vec<(String, bool)> = path
            .iter()
            .map(|u| (Names::get(&n.units, *u), false))
            .collect();
        labels.push((Names::get(&n.segments, *seg), true));
        for (k, (label, external)) in labels.iter().enumerate() {
            let x = 10 + k as i32 * (w + gap);
            s.rects.push(Rect {
                x,
                y,
                w,
                h,
                fill: if *external { "#bbf7d0" } else { "#e2e8f0" },
                stroke: "#334155",
                stroke_width: 1,
                class: if *external {
                    "chain-segment".into()
                } else {
                    "chain-unit".into()
                },
                ..Default::default()
            });
            s.texts.push(Text {
                x: x + w / 2,
                y: y + 25,
                size: 12,
                anchor: "middle",
                bold: *external,
                fill: "#1d2433",
                class: "chain-name".into(),
                text: label.chars().take(24).collect(),
            });
            if k + 1 < labels.len() {
                s.lines.push(Line {
                    x1: x + w,
                    y1: y + h / 2,
                    x2: x + w + gap,
                    y2: y + h / 2,
                    stroke: "#0b5cad",
                    width: 2,
                    class: "chain-edge".into(),
                    ..Default::default()
                });
                s.lines.push(Line {
                    x1: x + w + gap - 8,
                    y1: y + h / 2 - 5,
                    x2: x + w + gap,
                    y2: y + h / 2,
                    stroke: "#0b5cad",
                    width: 2,
                    class: "chain-arrow".into(),
                    ..Default::default()
                });
            }
        }
    }
    Some(s)
}
