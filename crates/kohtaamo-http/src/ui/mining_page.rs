//! `/w/{ws}/journeys/{id}/actual`: the journey customers actually took beside the
//! designed one (`kohtaamo_app::mining`) — the flow drawn over the map, the stage
//! funnel, the deviations and variants with what each does to the experience index,
//! real hand-offs against the designed ones — each linking to its instances' customer
//! timelines; `…/actual.svg` and `…/actual.pdf` download the drawing. Definitions:
//! docs/metrics.md, "Journey mining".

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use kohtaamo_app::mining::{self as mn, Compared, InstanceRef, JourneyMining, Scores};
use kohtaamo_domain::analytics::Shown;
use kohtaamo_domain::Id;

use super::diagrams;
use super::pages::{chrome, encode, Nav};
use super::{html, PageCtx, PageError};
use crate::extract::{Path, Query};
use crate::i18n::I18n;
use crate::AppState;

/// Rows of deviations and of hand-offs shown before "show all".
const SHOWN: usize = 15;

/// A link to one instance: its case's or customer's timeline.
struct Example {
    href: String,
    label: String,
}

struct Row {
    what: String,
    n: u64,
    share: String,
    with: String,
    without: String,
    differs: bool,
    /// Hand-offs: the design has it.
    designed: bool,
    examples: Vec<Example>,
}

struct VariantRow {
    rank: usize,
    path: String,
    n: u64,
    share: String,
    fitness: String,
    score: String,
    examples: Vec<Example>,
}

struct FunnelRow {
    stage: String,
    reached: u64,
    reached_share: String,
    stopped: u64,
    score: String,
    last: bool,
}

#[derive(Template)]
#[template(path = "mining.html")]
struct Page {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    slug: String,
    id: Id,
    name: String,
    from: String,
    to: String,
    by: String,
    gap_hours: i64,
    error: Option<String>,
    /// An earlier report stands in while the current one is computed: when it was.
    stale: Option<String>,
    query: String,
    instances: u64,
    encounters: u64,
    outside: u64,
    fitness: String,
    fitting: String,
    score: String,
    variants_total: u64,
    svg: String,
    funnel: Vec<FunnelRow>,
    deviations: Vec<Row>,
    more_deviations: Vec<Row>,
    variants: Vec<VariantRow>,
    hand_offs: Vec<Row>,
    more_hand_offs: Vec<Row>,
    not_seen: Vec<String>,
}

fn pct(i: &I18n, x: f64) -> String {
    i.decimals(format!("{:.1} %", 100.0 * x))
}

fn score(i: &I18n, s: &Scores) -> String {
    match s.index {
        Shown::NoAnswers => i.t("mining-no-answers"),
        _ => super::dashboard::index_text(i, &s.index, None),
    }
}

fn examples(slug: &str, refs: &[InstanceRef], i: &I18n) -> Vec<Example> {
    refs.iter()
        .take(3)
        .filter_map(|r| {
            let key = r.case_ref.clone().or_else(|| r.identifier.clone())?;
            Some(Example {
                href: format!("/w/{slug}/customers/{}", encode(&key)),
                label: match &r.case_ref {
                    Some(c) => c.clone(),
                    None => i.s(
                        "mining-customer-instance",
                        "when",
                        &r.first[..10.min(r.first.len())],
                    ),
                },
            })
        })
        .collect()
}

fn compared_row(i: &I18n, what: String, (n, share): (u64, f64), c: &Compared) -> Row {
    Row {
        what,
        n,
        share: pct(i, share),
        with: score(i, &c.with),
        without: score(i, &c.without),
        differs: c.differs,
        designed: false,
        examples: vec![],
    }
}

/// The deviation as a sentence.
fn deviation_text(i: &I18n, d: &mn::DeviationOut) -> String {
    let stage = |s: &Option<mn::StageRef>| s.as_ref().map(|s| s.name.clone()).unwrap_or_default();
    let activity = d
        .activity
        .as_ref()
        .map(|a| a.name.clone())
        .unwrap_or_default();
    let channel = |c: &Option<String>| {
        c.as_deref()
            .map(|c| i.enum_label("channel", c))
            .unwrap_or_default()
    };
    match d.kind.as_str() {
        "skipped_stage" => i.s("mining-dev-skipped", "stage", &stage(&d.stage)),
        "back_to_stage" => i.args(
            "mining-dev-back",
            &[("from", &stage(&d.stage)), ("to", &stage(&d.to_stage))],
        ),
        "rework" => i.s("mining-dev-rework", "touchpoint", &activity),
        "outside" => i.s("mining-dev-outside", "activity", &activity),
        "channel_switch" if d.stage.is_some() => i.args(
            "mining-dev-switch",
            &[
                ("from", &channel(&d.from_channel)),
                ("to", &channel(&d.to_channel)),
                ("stage", &stage(&d.stage)),
            ],
        ),
        "channel_switch" => i.args(
            "mining-dev-switch-outside",
            &[
                ("from", &channel(&d.from_channel)),
                ("to", &channel(&d.to_channel)),
            ],
        ),
        _ => i.args(
            "mining-dev-owner",
            &[
                ("touchpoint", &activity),
                (
                    "owner",
                    &d.owner.as_ref().map(|o| o.name.clone()).unwrap_or_default(),
                ),
            ],
        ),
    }
}

struct Loaded {
    journey: mn::Journey,
    report: JourneyMining,
    query: mn::Query,
    error: Option<String>,
}

/// The query from the page's parameters; a bad one gives the defaults and the message.
async fn load(
    st: &AppState,
    ctx: &PageCtx,
    id: Id,
    q: &BTreeMap<String, String>,
) -> Result<Loaded, PageError> {
    let (w, _) = ctx.ws()?;
    let i = &ctx.i;
    let today = st.clock.today();
    let default = kohtaamo_app::clock::default_period(today);
    let parsed = crate::params::days(q, today)
        .map_err(|e| match e {
            crate::error::ApiError::Invalid(f) => {
                super::surveys_page::errors_text(i, &f).join("; ")
            }
            other => other.to_string(),
        })
        .and_then(|p| {
            mn::Query::parse(id, p, q).map_err(|e| match e {
                kohtaamo_app::Error::Invalid(f) => {
                    super::surveys_page::errors_text(i, &f).join("; ")
                }
                other => other.to_string(),
            })
        });
    let (query, error) = match parsed {
        Ok(x) => (x, None),
        Err(msg) => (
            mn::Query::parse(id, default, &BTreeMap::new()).map_err(PageError::from)?,
            Some(msg),
        ),
    };
    let (journey, report) =
        mn::mine_within(&st.store, w.id, &query, i, Some(st.config.report_wait))
            .await?
            .ok_or_else(|| PageError::Computing(i.clone(), ctx.here.clone()))?;
    Ok(Loaded {
        journey,
        report,
        query,
        error,
    })
}

/// `GET /w/{ws}/journeys/{id}/actual`.
pub async fn page(
    State(st): State<AppState>,
    ctx: PageCtx,
    Path((_, id)): Path<(String, Id)>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let (w, _) = ctx.ws()?;
    let slug = w.data.slug.to_string();
    let l = load(&st, &ctx, id, &q).await?;
    let i = &ctx.i;
    let m = &l.report;
    let title = i.s("mining-title", "journey", &m.name);
    let svg = diagrams::actual_flow(i, (&slug, &title), &l.journey, m)
        .render()
        .map_err(|e| PageError::Internal(e.to_string()))?;
    let n = m.instances;
    let share = |k: u64| if n == 0 { 0.0 } else { k as f64 / n as f64 };
    let last = m.funnel.len().saturating_sub(1);
    let funnel = m
        .funnel
        .iter()
        .enumerate()
        .map(|(k, f)| FunnelRow {
            stage: f.stage.name.clone(),
            reached: f.reached,
            reached_share: pct(i, share(f.reached)),
            stopped: f.stopped,
            score: score(i, &f.stopped_scores),
            last: k == last,
        })
        .collect();
    // The most frequent first; the first rows shown, the rest behind "all".
    let mut devs: Vec<&mn::DeviationOut> = m.deviations.iter().collect();
    devs.sort_by(|a, b| b.instances.cmp(&a.instances).then(a.kind.cmp(&b.kind)));
    let mut deviations: Vec<Row> = devs
        .into_iter()
        .map(|d| {
            let mut r = compared_row(i, deviation_text(i, d), (d.instances, d.share), &d.scores);
            r.examples = examples(&slug, &d.examples, i);
            r
        })
        .collect();
    let more_deviations = deviations.split_off(deviations.len().min(SHOWN));
    let variants = m
        .variants
        .iter()
        .take(20)
        .map(|v| VariantRow {
            rank: v.rank,
            path: v
                .path
                .iter()
                .map(|label| {
                    m.edges
                        .iter()
                        .flat_map(|e| [&e.from, &e.to])
                        .chain(m.starts.iter().map(|s| &s.activity))
                        .find(|a| a.label == *label)
                        .map_or_else(|| label.clone(), |a| a.name.clone())
                })
                .collect::<Vec<_>>()
                .join(" → "),
            n: v.instances,
            share: pct(i, v.share),
            fitness: i.decimals(format!("{:.2}", v.fitness)),
            score: score(i, &v.scores),
            examples: examples(&slug, &v.examples, i),
        })
        .collect();
    let mut hands: Vec<&mn::HandOffOut> = m.hand_offs.iter().collect();
    hands.sort_by_key(|h| std::cmp::Reverse(h.count));
    let mut hand_offs: Vec<Row> = hands
        .into_iter()
        .map(|h| {
            let mut r = compared_row(
                i,
                format!("{} → {}", h.from.name, h.to.name),
                (h.instances, share(h.instances)),
                &h.scores,
            );
            r.n = h.count;
            r.designed = h.designed;
            r
        })
        .collect();
    let more_hand_offs = hand_offs.split_off(hand_offs.len().min(SHOWN));
    let not_seen = m
        .designed_not_seen
        .iter()
        .map(|p| format!("{} → {}", p.from.name, p.to.name))
        .collect();
    let query = format!(
        "from={}&to={}&by={}&gap_hours={}",
        m.from, m.to, m.by, m.gap_hours
    );
    let ch = chrome(&ctx);
    let page = Page {
        slug,
        id,
        name: m.name.clone(),
        from: m.from.clone(),
        to: m.to.clone(),
        by: m.by.clone(),
        gap_hours: l.query.gap_hours,
        error: l.error,
        stale: m.stale.then(|| i.time(&m.computed_at)),
        query,
        instances: m.instances,
        encounters: m.encounters,
        outside: m.outside_encounters,
        fitness: pct(i, m.fitness.log_fitness),
        fitting: pct(i, share(m.fitness.fitting_instances)),
        score: score(i, &m.scores),
        variants_total: m.variants_total,
        svg,
        funnel,
        deviations,
        more_deviations,
        variants,
        hand_offs,
        more_hand_offs,
        not_seen,
        i: ch.i,
        nav: ch.nav,
        langs: ch.langs,
        here: ch.here,
    };
    Ok(html(page.render()))
}

/// `GET /w/{ws}/journeys/{id}/actual.svg`.
pub async fn svg(
    State(st): State<AppState>,
    ctx: PageCtx,
    Path((_, id)): Path<(String, Id)>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let (w, _) = ctx.ws()?;
    let slug = w.data.slug.to_string();
    let l = load(&st, &ctx, id, &q).await?;
    let title = title(&ctx.i, &l.report);
    Ok(super::svg_download(
        diagrams::actual_flow(&ctx.i, (&slug, &title), &l.journey, &l.report).render(),
        &format!("{}-actual.svg", l.journey.slug),
    ))
}

fn title(i: &I18n, m: &JourneyMining) -> String {
    format!(
        "{} · {} – {} · {}",
        i.s("mining-title", "journey", &m.name),
        m.from,
        m.to,
        i.args(
            "mining-pdf-summary",
            &[
                ("n", &m.instances.to_string()),
                ("fitness", &pct(i, m.fitness.log_fitness)),
            ],
        )
    )
}

/// `GET /w/{ws}/journeys/{id}/actual.pdf`: the drawing on an A3 landscape page.
pub async fn pdf(
    State(st): State<AppState>,
    ctx: PageCtx,
    Path((_, id)): Path<(String, Id)>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let (w, _) = ctx.ws()?;
    let slug = w.data.slug.to_string();
    let l = load(&st, &ctx, id, &q).await?;
    let title = title(&ctx.i, &l.report);
    let drawing = diagrams::actual_flow(&ctx.i, (&slug, &title), &l.journey, &l.report);
    let (width, height) = (drawing.width as f64, drawing.height as f64);
    let svg = drawing
        .render()
        .map_err(|e| PageError::Internal(e.to_string()))?;
    let name = format!("{}-actual.pdf", l.journey.slug);
    let pdf = tokio::task::spawn_blocking(move || {
        super::pdf::page(
            super::pdf::Paper::A3Landscape,
            &title,
            &[super::pdf::Part { svg, width, height }],
        )
    })
    .await
    .map_err(|e| PageError::Internal(e.to_string()))?
    .map_err(PageError::Internal)?;
    Ok(super::pdf_download(pdf, &name))
}
