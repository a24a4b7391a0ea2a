//! `/w/{ws}/cases/analytics?journey={id}&days={n}`: what a journey's cases say, step
//! by step — how long cases stay in each step against the expected duration, how
//! many are overdue now and with which unit, how often customers open their status
//! page before and after a step change, and the closing score of done cases that
//! waited past a step's expected time against those that did not: which step's
//! *waiting* is the weakest encounter. Definitions: docs/metrics.md, "Case analytics".

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use kohtaamo_app::cases as cs;
use kohtaamo_app::directory::Names;
use kohtaamo_domain::analytics::{index, index_by_shown, index_shown};
use kohtaamo_domain::Id;
use serde::Deserialize;

use super::pages::{chrome, Nav};
use super::{html, PageCtx, PageError};
use crate::extract::Query;
use crate::i18n::I18n;
use crate::AppState;

struct StepRow {
    name: String,
    entered: i64,
    median: String,
    p90: String,
    expected: String,
    over: String,
    open_now: i64,
    overdue_now: i64,
    opens_before: String,
    opens_after: String,
    waited_over: String,
    waited_within: String,
    weakest: bool,
}

#[derive(Template)]
#[template(path = "case_analytics.html")]
struct Page {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    slug: String,
    /// Journeys with steps: (id, name).
    journeys: Vec<(Id, String)>,
    journey: Option<Id>,
    /// The journey shown (0: none).
    journey_id: Id,
    days: i64,
    capped: bool,
    cases: i64,
    done: i64,
    closing: String,
    rows: Vec<StepRow>,
    /// The weakest waiting, in a sentence (empty: none found).
    weakest: String,
    /// Overdue now: (unit, step, cases), most first.
    overdue: Vec<(String, String, i64)>,
    window: i64,
    editor: bool,
}

#[derive(Deserialize, Default)]
pub struct AnalyticsQuery {
    #[serde(default)]
    journey: Option<Id>,
    #[serde(default)]
    days: Option<i64>,
}

/// `GET /w/{ws}/cases/analytics`.
pub async fn page(
    State(st): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<AnalyticsQuery>,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    let i = &ctx.i;
    let snapshot = st.store.snapshot_cached(w.id).await?;
    let names = Names::new(&snapshot, i);
    let mut journeys = vec![];
    for (id, d) in &snapshot.journeys {
        if !st.store.case_steps(w.id, *id).await?.is_empty() {
            journeys.push((*id, i.text(&d.name)));
        }
    }
    let journey = q
        .journey
        .filter(|j| journeys.iter().any(|(id, _)| id == j))
        .or(journeys.first().map(|(id, _)| *id));
    let days = q.days.unwrap_or(cs::ANALYTICS_DAYS).clamp(1, 3660);
    let a = match journey {
        Some(j) => Some(
            cs::analytics(
                &st.store,
                &st.case_opens,
                (w.id, j),
                Some(days),
                st.clock.now(),
            )
            .await?,
        ),
        None => None,
    };
    let num = |x: Option<f64>| {
        x.map(|v| i.decimals(format!("{v:.1}")))
            .unwrap_or_else(|| "–".into())
    };
    let mut rows = vec![];
    let mut overdue = vec![];
    let mut weakest = String::new();
    let (mut cases, mut done, mut closing, mut capped) = (0, 0, String::new(), false);
    if let Some(a) = &a {
        let f = &a.figures;
        cases = f.cases;
        done = f.done;
        capped = a.capped;
        let metric = index(&f.done_answers, kohtaamo_app::analysis::MIN_SAMPLE).map(|x| x.metric);
        closing = super::dashboard::index_text(
            i,
            &index_shown(&f.done_answers, kohtaamo_app::analysis::MIN_SAMPLE),
            metric,
        );
        for s in &f.steps {
            let step = &a.steps[s.step];
            let name = i.text(&step.name);
            // Both groups on the metric of the in-time group, as the weakest rule does.
            let m = index(&s.waited_within, kohtaamo_app::analysis::MIN_SAMPLE)
                .or_else(|| index(&s.waited_over, kohtaamo_app::analysis::MIN_SAMPLE))
                .map(|x| x.metric);
            let score = |t: &kohtaamo_domain::analytics::Tally| match m {
                Some(m) => super::dashboard::index_text(
                    i,
                    &index_by_shown(t, m, kohtaamo_app::analysis::MIN_SAMPLE),
                    Some(m),
                ),
                None => super::dashboard::index_text(
                    i,
                    &index_shown(t, kohtaamo_app::analysis::MIN_SAMPLE),
                    None,
                ),
            };
            let over = match (s.over_expected, s.ended) {
                (Some(o), n) if n > 0 => {
                    i.decimals(format!("{o} ({:.0} %)", 100.0 * o as f64 / n as f64))
                }
                (Some(o), _) => o.to_string(),
                (None, _) => "–".into(),
            };
            let last = s.step + 1 == a.steps.len();
            rows.push(StepRow {
                entered: s.entered,
                median: num(s.median_days),
                p90: num(s.p90_days),
                expected: step
                    .expected_days
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "–".into()),
                over,
                open_now: if last { 0 } else { s.open_now },
                overdue_now: s.overdue_now,
                opens_before: num(s.opens_before),
                opens_after: num(s.opens_after),
                waited_over: if step.expected_days.is_some() {
                    score(&s.waited_over)
                } else {
                    "–".into()
                },
                waited_within: if step.expected_days.is_some() {
                    score(&s.waited_within)
                } else {
                    "–".into()
                },
                weakest: a.weakest_wait == Some(s.step),
                name: name.clone(),
            });
            for (unit, n) in &s.overdue_by_unit {
                let unit = unit
                    .map(|u| Names::get(&names.units, u))
                    .unwrap_or_else(|| i.t("case-analytics-no-unit"));
                overdue.push((unit, name.clone(), *n));
            }
            if a.weakest_wait == Some(s.step) {
                weakest = i.args(
                    "case-analytics-weakest",
                    &[
                        ("step", &name),
                        ("over", &score(&s.waited_over)),
                        ("within", &score(&s.waited_within)),
                    ],
                );
            }
        }
        overdue.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    }
    let ch = chrome(&ctx);
    let page = Page {
        slug: w.data.slug.to_string(),
        journeys,
        journey,
        journey_id: journey.unwrap_or(0),
        days,
        capped,
        cases,
        done,
        closing,
        rows,
        weakest,
        overdue,
        window: kohtaamo_domain::cases::OPEN_WINDOW_DAYS,
        editor: role.can_edit(),
        i: ch.i,
        nav: ch.nav,
        langs: ch.langs,
        here: ch.here,
    };
    Ok(html(page.render()))
}
