//! The experience dashboards. `/w/{ws}/dashboard`: NPS, CSAT and CES per scope
//! (touchpoint, stage, journey, package, element, owning unit, partner, segment,
//! channel, language, survey) for a period beside the previous one, with response rates,
//! the weakest encounter flagged, the weekly trend, and the table as CSV.
//! `/w/{ws}/dashboard/{scope}/{key}`: one group (a journey, a unit, a partner …) with
//! its touchpoints weakest first, trend, drivers (journeys) and alert rules, also as
//! CSV. Every count links to the responses behind it.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use kohtaamo_domain::analytics::{GroupKey, Scope, Shown};
use kohtaamo_domain::Id;

use super::pages::{chrome, Nav};
use super::{html, PageCtx, PageError};
use crate::export::csv_lines;
use crate::extract::Path;
use crate::i18n::I18n;
use crate::params::period;
use crate::AppState;
use kohtaamo_app::analysis::{score_table, trend, Analysis, Grain, ScoreRow, ScoreTable};

use super::charts::{esc, label_width, place_labels, trend_svg, trend_table};

pub struct Row {
    name: String,
    /// The group's own dashboard.
    link: Option<String>,
    /// The complete responses behind the row's figures, and behind the previous NPS.
    responses_link: String,
    previous_link: String,
    responses: i64,
    /// Response rate (complete ÷ shown) where impressions are known.
    rate: String,
    nps: String,
    previous: String,
    csat: String,
    ces: String,
    changed: bool,
    /// The experience index with its metric, and whether it moved significantly.
    index: String,
    index_changed: bool,
    weakest: bool,
    tied: bool,
    /// The touchpoint's id when the row is a touchpoint (pages mark the weakest with it).
    touchpoint: Option<Id>,
    /// Encounters in the period, feedback coverage and (stages) distinct customers.
    encounters: String,
    coverage: String,
    customers: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    error: Option<String>,
    min_sample: i64,
    scopes: Vec<(&'static str, String, bool)>,
    scope_label: String,
    /// Encounter columns (touchpoints and stages with encounters in the period).
    show_encounters: bool,
    show_customers: bool,
    by: &'static str,
    from: String,
    to: String,
    previous: String,
    csv: String,
    rows: Vec<Row>,
    trend: String,
    trend_rows: Vec<[String; 6]>,
    caption: String,
    grains: Vec<(&'static str, String, bool)>,
}

#[derive(Template)]
#[template(path = "group_dashboard.html")]
struct GroupPage {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    error: Option<String>,
    min_sample: i64,
    scope_label: String,
    show_encounters: bool,
    show_customers: bool,
    name: String,
    back: String,
    from: String,
    to: String,
    previous: String,
    /// The group itself (one row), then its touchpoints, weakest first.
    summary: Option<Row>,
    touchpoints: Vec<Row>,
    /// The weakest touchpoint with its NPS, beside the group's (journeys).
    weakest: Option<String>,
    trend: String,
    trend_rows: Vec<[String; 6]>,
    caption: String,
    grains: Vec<(&'static str, String, bool)>,
    /// The priority matrix, and its figures as table rows (touchpoint, performance,
    /// impact, cases, significant).
    drivers: Option<(String, Vec<[String; 5]>)>,
    rules: Vec<super::alerts_page::RuleRow>,
    form: super::alerts_page::RuleFormView,
    /// The outer loop beside the scores: per touchpoint (weakest first) its index,
    /// follow-ups closed in the period, their root causes and the recovery rate; and
    /// the group's figures in one line.
    loop_rows: Vec<[String; 5]>,
    loop_line: String,
    slug: String,
    csrf: String,
    can_edit: bool,
    /// The rule form's fixed group (scope, key) and the page to return to.
    fixed: Option<(String, String)>,
    back_here: String,
    csv: String,
}

/// The impact × performance priority matrix of one journey as SVG: touchpoints high on
/// impact and low on performance (top left) are where improvement pays most.
fn drivers_svg(
    i: &I18n,
    rows: &[kohtaamo_app::analysis::DriverRow],
    weakest: Option<Id>,
) -> String {
    let (w, h, left, top, bottom, right) = (640.0, 340.0, 48.0, 16.0, 40.0, 16.0);
    let (pw, ph) = (w - left - right, h - top - bottom);
    let x = |p: f64| left + pw * p.clamp(0.0, 100.0) / 100.0;
    let y = |r: f64| top + ph * (1.0 - r.clamp(0.0, 1.0));
    let n = rows.len().max(1) as f64;
    let mean_p = rows.iter().map(|r| r.performance).sum::<f64>() / n;
    let mean_i = rows.iter().map(|r| r.impact).sum::<f64>() / n;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"100%\" class=\"drivers\" role=\"img\" aria-label=\"{}\">",
        esc(&i.t("drivers-title"))
    );
    svg += &format!(
        "<rect x=\"{left}\" y=\"{top}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#fdecee\"/>",
        x(mean_p) - left,
        y(mean_i) - top
    );
    svg += &format!("<rect x=\"{left}\" y=\"{top}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"#94a3b8\"/>");
    svg += &format!("<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{top}\" y2=\"{:.1}\" stroke=\"#94a3b8\" stroke-dasharray=\"4 3\"/>", x(mean_p), x(mean_p), top + ph);
    svg += &format!("<line x1=\"{left}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#94a3b8\" stroke-dasharray=\"4 3\"/>", left + pw, y(mean_i), y(mean_i));
    svg += &format!("<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" font-weight=\"bold\" fill=\"#8a1c1c\">{}</text>", left + 6.0, top + 16.0, esc(&i.t("drivers-priority")));
    svg += &format!("<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\" fill=\"#222\">{}</text>", left + pw / 2.0, h - 8.0, esc(&i.t("drivers-performance")));
    svg += &format!("<text x=\"14\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\" fill=\"#222\" transform=\"rotate(-90 14 {:.1})\">{}</text>", top + ph / 2.0, top + ph / 2.0, esc(&i.t("drivers-impact")));
    // Every point first, then the labels placed so none overlaps another or a point
    // (charts::place_labels), joined to their point by a line when moved away.
    let (bounds, mut pts) = ((left, top, w - right, top + ph), vec![]);
    for r in rows {
        let (cx, cy) = (x(r.performance), y(r.impact));
        let is_weak = weakest == Some(r.touchpoint_id);
        let fill = if r.significant { "#0b57d0" } else { "#ffffff" };
        let title = format!(
            "{}: {} {:.0}, {} {:.2} (n = {})",
            r.name,
            i.t("drivers-performance"),
            r.performance,
            i.t("drivers-impact"),
            r.impact,
            r.n
        );
        svg += &format!("<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"5\" fill=\"{fill}\" stroke=\"#0b57d0\" stroke-width=\"2\" class=\"driver\"><title>{}</title></circle>", esc(&i.decimals(title)));
        if is_weak {
            svg += &format!("<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"9\" fill=\"none\" stroke=\"#7f1d1d\" stroke-width=\"2.5\" class=\"weakest\" data-weakest=\"{}\"/>", r.touchpoint_id);
        }
        let label = if is_weak {
            format!("▼ {}", r.name)
        } else {
            r.name.clone()
        };
        let label: String = if label.chars().count() > 40 {
            label.chars().take(39).chain(std::iter::once('…')).collect()
        } else {
            label
        };
        pts.push((cx, cy, label_width(&label), label, is_weak));
    }
    let spots: Vec<(f64, f64, f64)> = pts.iter().map(|p| (p.0, p.1, p.2)).collect();
    for ((cx, cy, _, label, is_weak), at) in pts.iter().zip(place_labels(&spots, bounds)) {
        if at.leader {
            let lx = if at.left > *cx {
                at.left - 2.0
            } else {
                at.left + at.width + 2.0
            };
            svg += &format!("<line x1=\"{cx:.1}\" y1=\"{cy:.1}\" x2=\"{lx:.1}\" y2=\"{:.1}\" stroke=\"#94a3b8\" stroke-width=\"1\" class=\"leader\"/>", at.baseline - 4.0);
        }
        svg += &format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\"{} fill=\"{}\" class=\"driver-label\">{}</text>",
            at.left,
            at.baseline,
            if *is_weak { " font-weight=\"bold\"" } else { "" },
            if *is_weak { "#7f1d1d" } else { "#222" },
            esc(label)
        );
    }
    svg + "</svg>"
}

/// A score as people read it: "+12 ± 8 (n = 240)", "not enough answers (n = 12)";
/// Finnish and Swedish write decimals with a comma.
pub fn show(i: &I18n, s: &Shown, percent: bool) -> String {
    i.decimals(show_raw(i, s, percent))
}

fn show_raw(i: &I18n, s: &Shown, percent: bool) -> String {
    match s {
        Shown::Score(s) if percent => format!("{:+.0} ± {:.0} (n = {})", s.value, s.margin, s.n),
        Shown::Score(s) => format!("{:.2} ± {:.2} (n = {})", s.value, s.margin, s.n),
        Shown::NotEnough { n } => i.n("dashboard-not-enough", "n", *n),
        Shown::NoAnswers => "–".into(),
    }
}

fn csat_text(i: &I18n, s: &Shown) -> String {
    match s {
        Shown::Score(s) => format!("{:.0} % ± {:.0} (n = {})", s.value, s.margin, s.n),
        other => show(i, other, true),
    }
}

/// The trend's grouping in time a page asks for (`grain`: day, week or month; the
/// form offers only those, so anything else shows weeks).
fn grain_of(q: &BTreeMap<String, String>) -> Grain {
    q.get("grain")
        .and_then(|g| Grain::parse(g).ok())
        .unwrap_or(Grain::Week)
}

/// The choices of the trend's grouping: (value, label, selected).
fn grains(i: &I18n, current: Grain) -> Vec<(&'static str, String, bool)> {
    Grain::ALL
        .iter()
        .map(|g| {
            (
                g.as_str(),
                i.t(&format!("grain-{}", g.as_str())),
                *g == current,
            )
        })
        .collect()
}

/// The period (and scope) a page asks for; a bad one is reported on the page, which then
/// shows the default (touchpoints, the last 90 days).
fn period_or_default(
    q: &BTreeMap<String, String>,
    i: &I18n,
    today: chrono::NaiveDate,
) -> Result<(Scope, chrono::NaiveDate, chrono::NaiveDate, Option<String>), PageError> {
    match period(q, today) {
        Ok((s, f, t)) => Ok((s, f, t, None)),
        Err(crate::error::ApiError::Invalid(e)) => {
            let msg = super::surveys_page::errors_text(i, &e).join("; ");
            let (from, to) = kohtaamo_app::clock::default_period(today);
            Ok((Scope::Touchpoint, from, to, Some(msg)))
        }
        Err(e) => Err(PageError::Internal(e.to_string())),
    }
}

async fn load(
    st: &AppState,
    ctx: &PageCtx,
    q: &BTreeMap<String, String>,
) -> Result<(ScoreTable, Option<String>), PageError> {
    let (w, _) = ctx.ws()?;
    let (scope, from, to, error) = period_or_default(q, &ctx.i, st.clock.today())?;
    let table = score_table(&st.store, w.id, scope, from, to, &ctx.i).await?;
    Ok((table, error))
}

pub async fn dashboard(
    State(st): State<AppState>,
    Query(q): Query<BTreeMap<String, String>>,
    ctx: PageCtx,
) -> Result<Response, PageError> {
    let (w, _) = ctx.ws()?;
    let (t, error) = load(&st, &ctx, &q).await?;
    let i = &ctx.i;
    let from =
        chrono::NaiveDate::parse_from_str(&t.from, "%Y-%m-%d").unwrap_or_else(|_| st.clock.today());
    let to =
        chrono::NaiveDate::parse_from_str(&t.to, "%Y-%m-%d").unwrap_or_else(|_| st.clock.today());
    let grain = grain_of(&q);
    let weeks = trend(&st.store, w.id, from, to, grain, None).await?;
    let caption = i.t(&format!("trend-{}", grain.as_str()));
    let trend = trend_svg(i, &caption, &weeks, grain);
    let trend_rows = trend_table(i, &weeks, grain);
    let by = Scope::ALL
        .into_iter()
        .find(|s| s.as_str() == t.by)
        .unwrap_or(Scope::Touchpoint);
    let rows = t
        .rows
        .iter()
        .map(|r| row(i, w.data.slug.as_str(), by, &t, r))
        .collect();
    let c = chrome(&ctx);
    let page = DashboardPage {
        show_encounters: matches!(by, Scope::Touchpoint | Scope::Stage)
            && t.rows.iter().any(|r| r.encounters.is_some()),
        show_customers: by == Scope::Stage && t.rows.iter().any(|r| r.customers.is_some()),
        error,
        min_sample: t.min_sample,
        scopes: Scope::ALL
            .iter()
            .map(|s| (s.as_str(), i.t(&format!("scope-{}", s.as_str())), *s == by))
            .collect(),
        scope_label: i.t(&format!("scope-{}", by.as_str())),
        by: by.as_str(),
        previous: period_text(i, &t.previous_from, &t.previous_to),
        csv: format!(
            "/w/{}/dashboard.csv?by={}&from={}&to={}",
            w.data.slug,
            by.as_str(),
            t.from,
            t.to
        ),
        from: t.from,
        to: t.to,
        rows,
        trend,
        trend_rows,
        caption,
        grains: grains(i, grain),
        i: c.i,
        nav: c.nav,
        langs: c.langs,
        here: c.here,
    };
    Ok(html(page.render()))
}

/// One score row as the pages show it, with its links.
fn row(i: &I18n, slug: &str, by: Scope, t: &ScoreTable, r: &ScoreRow) -> Row {
    let key = r.key.to_string();
    let (from, to) = (&t.from, &t.to);
    let list = |from: &str, to: &str| {
        let q = serde_urlencoded::to_string([
            ("by", by.as_str()),
            ("key", key.as_str()),
            ("from", from),
            ("to", to),
            ("complete", "true"),
        ])
        .unwrap_or_default();
        format!("/w/{slug}/responses?{q}")
    };
    // Keys are ids, channel slugs or language tags: safe in a path as they are.
    Row {
        link: (!key.is_empty()).then(|| {
            format!(
                "/w/{slug}/dashboard/{}/{}?from={from}&to={to}",
                by.as_str(),
                key
            )
        }),
        responses_link: list(from, to),
        previous_link: list(&t.previous_from, &t.previous_to),
        name: r.name.clone(),
        responses: r.responses,
        rate: match (r.response_rate, r.shown) {
            (Some(p), Some(n)) => i.decimals(format!("{p:.1} % ({n})")),
            _ => "–".into(),
        },
        nps: show(i, &r.nps, true),
        previous: show(i, &r.previous_nps, true),
        csat: csat_text(i, &r.csat),
        ces: show(i, &r.ces, false),
        changed: r.nps_changed,
        index: index_text(i, &r.index, r.index_metric),
        index_changed: r.index_changed,
        weakest: r.weakest,
        tied: r.tied_weakest,
        touchpoint: match (by, &r.key) {
            (Scope::Touchpoint, GroupKey::Id(id)) => Some(*id),
            _ => None,
        },
        encounters: r.encounters.map(|n| n.to_string()).unwrap_or("–".into()),
        coverage: match (r.feedback_coverage, r.encounters) {
            (Some(p), Some(_)) => i.decimals(format!("{p:.1} %")),
            _ => "–".into(),
        },
        customers: r.customers.map(|n| n.to_string()).unwrap_or("–".into()),
    }
}

/// Two ISO days as this language writes a period.
fn period_text(i: &I18n, from: &str, to: &str) -> String {
    match (
        chrono::NaiveDate::parse_from_str(from, "%Y-%m-%d"),
        chrono::NaiveDate::parse_from_str(to, "%Y-%m-%d"),
    ) {
        (Ok(f), Ok(t)) => i.period(&f, &t),
        _ => format!("{from} – {to}"),
    }
}

/// "62 ± 4 (NPS)": an experience index, the metric it comes from.
pub fn index_text(i: &I18n, s: &Shown, metric: Option<kohtaamo_domain::alerts::Metric>) -> String {
    match (s, metric) {
        (Shown::Score(x), Some(m)) => {
            i.decimals(format!("{:.0} ± {:.0} ({})", x.value, x.margin, m.label()))
        }
        (Shown::Score(x), None) => i.decimals(format!("{:.0} ± {:.0}", x.value, x.margin)),
        _ => show(i, s, true),
    }
}

/// What a group page or its CSV asks for: the group from the path (unknown → 404), the
/// period from the query (a bad one → the default, with the message), and the model.
struct GroupRequest {
    scope: Scope,
    key: GroupKey,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    error: Option<String>,
    an: Analysis,
}

impl GroupRequest {
    async fn parse(
        st: &AppState,
        ws: kohtaamo_domain::Id,
        (by, key): (&str, &str),
        q: &BTreeMap<String, String>,
        i: &I18n,
    ) -> Result<Self, PageError> {
        let scope = Scope::parse(by).map_err(|_| PageError::NotFound(i.clone()))?;
        let key = GroupKey::parse(scope, key).map_err(|_| PageError::NotFound(i.clone()))?;
        // The scope is in the path; a `by` in the query is not this page's.
        let mut pq = q.clone();
        pq.remove("by");
        let (_, from, to, error) = period_or_default(&pq, i, st.clock.today())?;
        let an = Analysis::load(&st.store, ws, i).await?;
        Ok(Self {
            scope,
            key,
            from,
            to,
            error,
            an,
        })
    }
}

/// `/w/{ws}/dashboard/{by}/{key}`: one group's dashboard — a journey, a unit ("my
/// touchpoints and their scores"), a partner (the same figures as our own units), a
/// package, a channel …: its scores beside the previous period, response rate, its
/// touchpoints ranked weakest first, its trend, drivers (journeys) and alert rules.
pub async fn group_dashboard(
    State(st): State<AppState>,
    Path((_, by, key)): Path<(String, String, String)>,
    Query(q): Query<BTreeMap<String, String>>,
    ctx: PageCtx,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    let i = &ctx.i;
    let g = GroupRequest::parse(&st, w.id, (&by, &key), &q, i).await?;
    let (scope, key, from, to, error, an) = (g.scope, g.key, g.from, g.to, g.error, g.an);
    let slug = w.data.slug.as_str();
    let table = an.table(&st.store, w.id, scope, from, to, i).await?;
    let (f, t) = (table.from.clone(), table.to.clone());
    let summary = table
        .rows
        .iter()
        .find(|r| r.key == key)
        .map(|r| row(i, slug, scope, &table, r));
    let ranked = an
        .touchpoints_of(&st.store, w.id, scope, &key, (from, to), i)
        .await?;
    // The weakest encounter (or those tied for it) of each journey in the group.
    let one: Vec<String> = ranked
        .iter()
        .filter(|r| r.weakest)
        .map(|r| {
            let score = index_text(i, &r.index, r.index_metric);
            i.args("group-weakest", &[("name", &r.name), ("score", &score)])
        })
        .collect();
    let tied: Vec<String> = ranked
        .iter()
        .filter(|r| r.tied_weakest)
        .map(|r| format!("{} {}", r.name, index_text(i, &r.index, r.index_metric)))
        .collect();
    let mut flagged = one;
    if !tied.is_empty() {
        flagged.push(i.s("group-weakest-tied", "names", &tied.join(", ")));
    }
    let weakest = (!flagged.is_empty()).then(|| flagged.join("; "));
    let touchpoints = ranked
        .iter()
        .map(|r| row(i, slug, Scope::Touchpoint, &table, r))
        .collect();
    let grain = grain_of(&q);
    let weeks = trend(
        &st.store,
        w.id,
        from,
        to,
        grain,
        Some((&an.scopes, scope, &key)),
    )
    .await?;
    let drivers = match (scope, &key) {
        (Scope::Journey, GroupKey::Id(j)) => {
            kohtaamo_app::analysis::journey_drivers(&st.store, w.id, from, to, i)
                .await?
                .remove(j)
                .map(|rows| {
                    // The journey's weakest encounter, marked among the drivers.
                    let weak = ranked.iter().find(|r| r.weakest).and_then(|r| match r.key {
                        GroupKey::Id(id) => Some(id),
                        GroupKey::Text(_) => None,
                    });
                    let table = rows
                        .iter()
                        .map(|r| {
                            [
                                r.name.clone(),
                                i.decimals(format!("{:.0}", r.performance)),
                                i.decimals(format!("{:.2}", r.impact)),
                                r.n.to_string(),
                                i.t(if r.significant { "yes" } else { "no" }),
                            ]
                        })
                        .collect();
                    (drivers_svg(i, &rows, weak), table)
                })
        }
        _ => None,
    };
    // Which root causes sit behind the weakest encounters: the follow-ups closed in
    // the period at each touchpoint of the group.
    let outcomes = kohtaamo_app::followups::outcomes(&st.store, w.id, (from, to)).await?;
    let mut group_rows = vec![];
    let loop_rows: Vec<[String; 5]> = ranked
        .iter()
        .filter_map(|r| {
            let GroupKey::Id(tp) = r.key else { return None };
            let g = outcomes.by_touchpoint.iter().find(|g| g.key == Some(tp))?;
            group_rows.push(&g.outcome);
            let causes = g
                .outcome
                .causes
                .iter()
                .take(3)
                .map(|c| format!("{} {}", i.t(&format!("root-cause-{}", c.cause)), c.n))
                .collect::<Vec<_>>()
                .join(" · ");
            Some([
                r.name.clone(),
                index_text(i, &r.index, r.index_metric),
                g.outcome.closed.to_string(),
                causes,
                super::followups_page::rate_text(i, &g.outcome.recovery),
            ])
        })
        .collect();
    let loop_line = match scope {
        Scope::Unit => outcomes
            .by_unit
            .iter()
            .find(|g| GroupKey::Id(g.key.unwrap_or(0)) == key)
            .map(|g| super::followups_page::outcome_text(i, &g.outcome))
            .unwrap_or_default(),
        Scope::Journey => outcomes
            .by_journey
            .iter()
            .find(|g| GroupKey::Id(g.key.unwrap_or(0)) == key)
            .map(|g| super::followups_page::outcome_text(i, &g.outcome))
            .unwrap_or_default(),
        _ => String::new(),
    };
    let rules = super::alerts_page::rules_of(&st, w.id, slug, i, &an, Some((scope, &key))).await?;
    let form = super::alerts_page::RuleFormView::load(&st, w.id, i, &an).await?;
    let c = chrome(&ctx);
    let page = GroupPage {
        show_encounters: false,
        show_customers: false,
        error,
        min_sample: table.min_sample,
        scope_label: i.t(&format!("scope-{}", scope.as_str())),
        name: an.name(scope, &key, i),
        back: format!("/w/{slug}/dashboard?by={}&from={f}&to={t}", scope.as_str()),
        previous: period_text(i, &table.previous_from, &table.previous_to),
        from: f,
        to: t,
        summary,
        touchpoints,
        weakest,
        trend: trend_svg(
            i,
            &i.t(&format!("group-trend-{}", grain.as_str())),
            &weeks,
            grain,
        ),
        trend_rows: trend_table(i, &weeks, grain),
        caption: i.t(&format!("group-trend-{}", grain.as_str())),
        grains: grains(i, grain),
        drivers,
        rules,
        form,
        loop_rows,
        loop_line,
        slug: slug.to_owned(),
        csrf: ctx.csrf.clone(),
        can_edit: role.can_edit(),
        fixed: Some((scope.as_str().to_owned(), key.to_string())),
        csv: format!(
            "/w/{slug}/dashboard/{}/{key}/touchpoints.csv?from={}&to={}",
            scope.as_str(),
            table.from,
            table.to
        ),
        back_here: format!("/w/{slug}/dashboard/{}/{}", scope.as_str(), key),
        i: c.i,
        nav: c.nav,
        langs: c.langs,
        here: c.here,
    };
    Ok(html(page.render()))
}

/// The same table as CSV (numbers unrounded; empty where not enough answers).
pub async fn dashboard_csv(
    State(st): State<AppState>,
    Query(q): Query<BTreeMap<String, String>>,
    ctx: PageCtx,
) -> Result<Response, PageError> {
    let (t, _) = load(&st, &ctx, &q).await?;
    scores_csv(&t.by, &t.rows)
}

/// `/w/{ws}/dashboard/{by}/{key}/touchpoints.csv`: a group's touchpoints table as CSV.
pub async fn group_csv(
    State(st): State<AppState>,
    Path((_, by, key)): Path<(String, String, String)>,
    Query(q): Query<BTreeMap<String, String>>,
    ctx: PageCtx,
) -> Result<Response, PageError> {
    let (w, _) = ctx.ws()?;
    let i = &ctx.i;
    let g = GroupRequest::parse(&st, w.id, (&by, &key), &q, i).await?;
    let rows =
        g.an.touchpoints_of(&st.store, w.id, g.scope, &g.key, (g.from, g.to), i)
            .await?;
    scores_csv("touchpoint", &rows)
}

/// Score rows as CSV (numbers unrounded; empty where not enough answers), with a BOM
/// for spreadsheet programs and formula-looking cells neutralised.
fn scores_csv(first: &str, rows: &[ScoreRow]) -> Result<Response, PageError> {
    let num = |s: &Shown| match s {
        Shown::Score(s) => [s.value.to_string(), s.margin.to_string(), s.n.to_string()],
        Shown::NotEnough { n } => [String::new(), String::new(), n.to_string()],
        Shown::NoAnswers => [String::new(), String::new(), "0".into()],
    };
    let head = vec![
        first.to_owned(),
        "responses".into(),
        "nps".into(),
        "nps_margin".into(),
        "nps_n".into(),
        "csat".into(),
        "csat_margin".into(),
        "csat_n".into(),
        "ces".into(),
        "ces_margin".into(),
        "ces_n".into(),
        "previous_nps".into(),
        "nps_changed".into(),
        "weakest".into(),
        "tied_weakest".into(),
        "index".into(),
        "index_margin".into(),
        "index_n".into(),
        "index_metric".into(),
        "shown".into(),
        "response_rate".into(),
        "encounters".into(),
        "feedback_coverage".into(),
        "customers".into(),
    ];
    let mut out = vec![];
    for r in rows {
        let mut row = vec![r.name.clone(), r.responses.to_string()];
        row.extend(num(&r.nps));
        row.extend(num(&r.csat));
        row.extend(num(&r.ces));
        row.push(num(&r.previous_nps)[0].clone());
        row.push(r.nps_changed.to_string());
        row.push(r.weakest.to_string());
        row.push(r.tied_weakest.to_string());
        row.extend(num(&r.index));
        row.push(
            r.index_metric
                .map(|m| m.as_str().to_owned())
                .unwrap_or_default(),
        );
        row.push(r.shown.map(|n| n.to_string()).unwrap_or_default());
        row.push(r.response_rate.map(|p| p.to_string()).unwrap_or_default());
        row.push(r.encounters.map(|n| n.to_string()).unwrap_or_default());
        row.push(
            r.feedback_coverage
                .map(|p| p.to_string())
                .unwrap_or_default(),
        );
        row.push(r.customers.map(|n| n.to_string()).unwrap_or_default());
        out.push(row);
    }
    // UTF-8 byte order mark: spreadsheet programs then read ä and ö right.
    let mut body = vec![0xEF, 0xBB, 0xBF];
    body.extend(csv_lines(Some(&head), out).map_err(|e| PageError::Internal(e.to_string()))?);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"scores.csv\""),
            ),
        ],
        body,
    )
        .into_response())
}
