//! The per-journey editor of the steps a case's customer sees:
//! `/w/{ws}/journeys/{id}/case-steps` (editors). Each step has a key, names and texts
//! in fi, en and sv, an expected duration and the internal statuses it covers; rows
//! are ordered by their order number, an emptied or ticked row is dropped, "add a
//! step" gives one more row. Beside the form, a preview of the customer's status page
//! at a chosen step in a chosen language follows the form as it is typed (app.js posts
//! the form with `do=preview` and swaps the preview in; without JavaScript the
//! Preview button does the same with a reload). Saving goes through the same use case
//! as the API; every bad field is shown at its row and nothing is stored then.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use kohtaamo_app::cases as cs;
use kohtaamo_domain::cases::{StepInput, StepsInput, MAX_STEPS};
use kohtaamo_domain::Id;
use serde::Deserialize;

use super::pages::{chrome, Nav};
use super::{html, CsrfForm, PageCtx, PageError};
use crate::extract::{Path, Query};
use crate::i18n::I18n;
use crate::AppState;

/// The languages a step's texts are written in.
const LANGS: [&str; 3] = ["fi", "en", "sv"];

/// One step row as the form holds it.
#[derive(Debug, Clone, Default)]
struct Row {
    key: String,
    /// Per language (fi, en, sv): name, meaning, what happens next.
    texts: Vec<(String, String, String, String)>,
    days: String,
    statuses: String,
    order: String,
    /// "Remove this step" ticked.
    remove: bool,
    /// What is wrong with this row, as sentences.
    errors: Vec<String>,
}

impl Row {
    fn is_empty(&self) -> bool {
        self.key.trim().is_empty()
            && self.days.trim().is_empty()
            && self.statuses.trim().is_empty()
            && self.texts.iter().all(|(_, n, m, x)| {
                n.trim().is_empty() && m.trim().is_empty() && x.trim().is_empty()
            })
    }

    fn text(&self, lang: &str, which: usize) -> String {
        self.texts
            .iter()
            .find(|t| t.0 == lang)
            .map(|t| match which {
                0 => t.1.clone(),
                1 => t.2.clone(),
                _ => t.3.clone(),
            })
            .unwrap_or_default()
    }

    fn input(&self) -> StepInput {
        let map = |which: usize| -> BTreeMap<String, String> {
            LANGS
                .iter()
                .map(|l| (l.to_string(), self.text(l, which)))
                .filter(|(_, v)| !v.trim().is_empty())
                .collect()
        };
        StepInput {
            key: self.key.trim().to_owned(),
            name: map(0),
            meaning: map(1),
            next: map(2),
            expected_days: match self.days.trim() {
                "" => None,
                d => Some(d.parse().unwrap_or(0)),
            },
            statuses: self
                .statuses
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
        }
    }
}

fn rows_of(steps: &[kohtaamo_domain::cases::Step]) -> Vec<Row> {
    steps
        .iter()
        .enumerate()
        .map(|(k, s)| Row {
            key: s.key.as_str().to_owned(),
            texts: LANGS
                .iter()
                .map(|l| {
                    let get = |t: &kohtaamo_domain::text::Texts| {
                        t.raw().get(*l).cloned().unwrap_or_default()
                    };
                    (l.to_string(), get(&s.name), get(&s.meaning), get(&s.next))
                })
                .collect(),
            days: s.expected_days.map(|d| d.to_string()).unwrap_or_default(),
            statuses: s.statuses.join(", "),
            order: ((k + 1) * 10).to_string(),
            remove: false,
            errors: vec![],
        })
        .collect()
}

fn blank(order: usize) -> Row {
    Row {
        texts: LANGS
            .iter()
            .map(|l| (l.to_string(), String::new(), String::new(), String::new()))
            .collect(),
        order: (order * 10).to_string(),
        ..Default::default()
    }
}

/// The rows a posted form holds (at most [`MAX_STEPS`] + 5), as written.
fn rows_from(form: &[(String, String)]) -> Vec<Row> {
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let n: usize = get("rows").parse().unwrap_or(0).min(MAX_STEPS + 5);
    (0..n)
        .map(|i| Row {
            key: get(&format!("k{i}")),
            texts: LANGS
                .iter()
                .map(|l| {
                    (
                        l.to_string(),
                        get(&format!("n{i}_{l}")),
                        get(&format!("m{i}_{l}")),
                        get(&format!("x{i}_{l}")),
                    )
                })
                .collect(),
            days: get(&format!("d{i}")),
            statuses: get(&format!("s{i}")),
            order: get(&format!("o{i}")),
            remove: get(&format!("del{i}")) == "1",
            errors: vec![],
        })
        .collect()
}

/// The steps to save from the rows: emptied and ticked rows dropped, in order of
/// their order numbers (equal numbers keep the form's order).
fn kept(rows: Vec<Row>) -> Vec<Row> {
    let mut kept: Vec<(i64, usize, Row)> = rows
        .into_iter()
        .enumerate()
        .filter(|(_, r)| !r.is_empty() && !r.remove)
        .map(|(i, r)| (r.order.trim().parse().unwrap_or(i64::MAX), i, r))
        .collect();
    kept.sort_by_key(|(o, i, _)| (*o, *i));
    kept.into_iter()
        .enumerate()
        .map(|(k, (_, _, mut r))| {
            r.order = ((k + 1) * 10).to_string();
            r
        })
        .collect()
}

/// One step of the preview.
struct PreviewStep {
    name: String,
    state: &'static str,
}

/// The customer's page in the preview: at step `at`, in `lang`.
struct Preview {
    lang: String,
    at: usize,
    steps: Vec<PreviewStep>,
    name: String,
    meaning: String,
    next: String,
    expected_by: String,
    done: bool,
}

/// `pi`: the customer's language, in which the preview's own words are written.
fn preview(pi: &I18n, rows: &[Row], lang: &str, at: usize, today: chrono::NaiveDate) -> Preview {
    let at = at.min(rows.len().saturating_sub(1));
    // The preview's language is the customer's: fall back as the status page does.
    let text = |r: &Row, which: usize| {
        let own = r.text(lang, which);
        if !own.trim().is_empty() {
            return own;
        }
        ["fi", "en", "sv"]
            .iter()
            .map(|l| r.text(l, which))
            .find(|t| !t.trim().is_empty())
            .unwrap_or_default()
    };
    let done = rows.len() > 1 && at + 1 == rows.len();
    let steps = rows
        .iter()
        .enumerate()
        .map(|(k, r)| PreviewStep {
            name: {
                let n = text(r, 0);
                if n.trim().is_empty() {
                    r.key.clone()
                } else {
                    n
                }
            },
            state: if k < at || (k == at && done) {
                "done"
            } else if k == at {
                "current"
            } else {
                "later"
            },
        })
        .collect();
    let row = rows.get(at);
    Preview {
        lang: lang.to_owned(),
        at,
        steps,
        name: row.map(|r| text(r, 0)).unwrap_or_default(),
        meaning: row.map(|r| text(r, 1)).unwrap_or_default(),
        next: if done {
            String::new()
        } else {
            row.map(|r| text(r, 2)).unwrap_or_default()
        },
        expected_by: match row.and_then(|r| r.days.trim().parse::<i64>().ok()) {
            Some(d) if !done && (1..=kohtaamo_domain::cases::MAX_DAYS).contains(&d) => pi.s(
                "status-expected-by",
                "when",
                &pi.date(&(today + chrono::Duration::days(d))),
            ),
            _ => String::new(),
        },
        done,
    }
}

/// The preview alone (the live update swaps it in).
#[derive(Template)]
#[template(path = "case_steps_preview.html")]
struct PreviewPart {
    i: I18n,
    pi: I18n,
    preview: Preview,
}

#[derive(Template)]
#[template(path = "case_steps.html")]
struct Page {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    slug: String,
    csrf: String,
    id: Id,
    journey: String,
    rows: Vec<Row>,
    /// Errors of no single row (a status cases stand in).
    errors: Vec<String>,
    done: bool,
    preview: Preview,
    /// The preview's texts, in the customer's language.
    pi: I18n,
    /// (code, name) of the languages a step is written in.
    text_langs: Vec<(String, String)>,
    /// How many cases stand in each status now.
    in_use: Vec<(String, i64)>,
}

#[derive(Deserialize, Default)]
pub struct EditorQuery {
    #[serde(default)]
    done: Option<String>,
}

fn journey_name(
    st_snapshot: &kohtaamo_domain::insight::Snapshot,
    i: &I18n,
    id: Id,
) -> Option<String> {
    st_snapshot
        .journeys
        .iter()
        .find(|(j, _)| *j == id)
        .map(|(_, d)| i.text(&d.name))
}

#[allow(clippy::too_many_arguments)]
async fn render(
    st: &AppState,
    ctx: &PageCtx,
    id: Id,
    rows: Vec<Row>,
    errors: Vec<String>,
    (lang, at): (String, usize),
    done: bool,
    partial: bool,
) -> Result<Response, PageError> {
    let w = ctx.edit_ws()?;
    let snapshot = st.store.snapshot_cached(w.id).await?;
    let Some(journey) = journey_name(&snapshot, &ctx.i, id) else {
        return Err(kohtaamo_app::Error::from(kohtaamo_storage::StoreError::NotFound).into());
    };
    let in_use = st.store.case_statuses_in_use(w.id, id).await?;
    let lang = if LANGS.contains(&lang.as_str()) {
        lang
    } else {
        ctx.i.lang.clone()
    };
    let today = st.clock.now().date_naive();
    let pi = crate::i18n::respondent_language(Some(&lang), &axum::http::HeaderMap::new(), None);
    let pv = preview(&pi, &kept(rows.clone()), &lang, at, today);
    if partial {
        let part = PreviewPart {
            i: ctx.i.clone(),
            pi,
            preview: pv,
        };
        return Ok(html(part.render()));
    }
    let ch = chrome(ctx);
    let page = Page {
        slug: w.data.slug.to_string(),
        csrf: ctx.csrf.clone(),
        id,
        journey,
        rows,
        errors,
        done,
        preview: pv,
        pi,
        text_langs: LANGS
            .iter()
            .map(|l| (l.to_string(), ctx.i.t(&format!("lang-name-{l}"))))
            .collect(),
        in_use,
        i: ch.i,
        nav: ch.nav,
        langs: ch.langs,
        here: ch.here,
    };
    Ok(html(page.render()))
}

/// `GET /w/{ws}/journeys/{id}/case-steps`.
pub async fn editor(
    State(st): State<AppState>,
    ctx: PageCtx,
    Path((_, id)): Path<(String, Id)>,
    Query(q): Query<EditorQuery>,
) -> Result<Response, PageError> {
    let w = ctx.edit_ws()?;
    let steps = cs::steps(&st.store, w.id, id).await?;
    let mut rows = rows_of(&steps);
    if rows.is_empty() {
        rows = (1..=3).map(blank).collect();
    }
    let n = rows.len();
    rows.push(blank(n + 1));
    let lang = ctx.i.lang.clone();
    render(
        &st,
        &ctx,
        id,
        rows,
        vec![],
        (lang, 0),
        q.done.is_some(),
        false,
    )
    .await
}

/// `POST /w/{ws}/journeys/{id}/case-steps`: `do=save` stores the steps; `preview`
/// (with `partial=1`: only the preview) and `add` show the form as sent.
pub async fn post(
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    CsrfForm { ctx, form }: CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let w = ctx.edit_ws()?;
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    let action = get("do").to_owned();
    let lang = get("pv_lang").to_owned();
    let at: usize = get("pv_at").parse().unwrap_or(0);
    let partial = get("partial") == "1";
    let mut rows = rows_from(&form);
    match action.as_str() {
        "save" => {}
        "add" => {
            if rows.len() < MAX_STEPS + 5 {
                let n = rows.len();
                rows.push(blank(n + 1));
            }
            return render(&st, &ctx, id, rows, vec![], (lang, at), false, false).await;
        }
        _ => return render(&st, &ctx, id, rows, vec![], (lang, at), false, partial).await,
    }
    let keep = kept(rows);
    let input = StepsInput {
        steps: keep.iter().map(Row::input).collect(),
    };
    match cs::set_steps(&st.store, w.id, ctx.ws()?.1, id, &input).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/w/{}/journeys/{id}/case-steps?done=1",
            w.data.slug
        ))
        .into_response()),
        Err(kohtaamo_app::Error::Invalid(e)) => {
            let mut rows = keep;
            let mut general = vec![];
            for (field, reason) in &e.0 {
                let text = ctx.i.reason(reason);
                // `steps[i].field` belongs to row i; anything else to the whole form.
                let row = field
                    .strip_prefix("steps[")
                    .and_then(|r| r.split_once(']'))
                    .and_then(|(k, rest)| Some((k.parse::<usize>().ok()?, rest)));
                match row {
                    Some((k, rest)) if k < rows.len() => {
                        let label = match rest.trim_start_matches('.') {
                            "key" => ctx.i.t("steps-key"),
                            "name" => ctx.i.t("steps-name"),
                            "meaning" => ctx.i.t("steps-meaning"),
                            "next" => ctx.i.t("steps-next"),
                            "expected_days" => ctx.i.t("steps-days"),
                            _ => ctx.i.t("steps-statuses"),
                        };
                        rows[k].errors.push(format!("{label}: {text}"));
                    }
                    _ => general.push(text),
                }
            }
            if rows.is_empty() {
                rows.push(blank(1));
            }
            let mut r = render(&st, &ctx, id, rows, general, (lang, at), false, false).await?;
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}
