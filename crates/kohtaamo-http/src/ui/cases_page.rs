//! Cases for staff: `/w/{ws}/cases` (newest first, by journey and step) and
//! `/w/{ws}/cases/{id}`: the case as its customer sees it (steps, where it stands,
//! what is asked), every internal status change, and for editors a form to move it,
//! issue a link to the customer's status page (shown once) or revoke the links, and a
//! preview of the customer's page. The forms go through the same use cases as the API.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use kohtaamo_app::cases as cs;
use kohtaamo_app::directory::Names;
use kohtaamo_app::encounters::Recorder;
use kohtaamo_domain::cases::{shown_reference, StatusInput};
use kohtaamo_domain::Id;
use kohtaamo_storage::privacy::Actor;
use serde::Deserialize;

use super::pages::{chrome, Nav};
use super::{html, CsrfForm, PageCtx, PageError};
use crate::extract::{Path, Query};
use crate::i18n::I18n;
use crate::AppState;

struct Row {
    id: Id,
    reference: String,
    title: String,
    journey: String,
    step: String,
    status: String,
    since: String,
    unit: String,
}

#[derive(Template)]
#[template(path = "cases.html")]
struct ListPage {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    slug: String,
    view: String,
    views: Vec<(&'static str, String)>,
    rows: Vec<Row>,
    editor: bool,
    csrf: String,
    /// Journeys with their step editors: (id, name, whether steps are set).
    journeys: Vec<(Id, String, bool)>,
    /// The look-up form's label of the second factor, per language (fi, en, sv):
    /// (code, language name, label).
    verifier: Vec<(String, String, String)>,
    /// The look-up form's address.
    lookup: String,
    /// A message after saving, or what was wrong.
    done: String,
    error: String,
}

/// The name of the step a status belongs to, in the reader's language.
fn step_name(i: &I18n, steps: &[kohtaamo_domain::cases::Step], status: &str) -> String {
    kohtaamo_domain::cases::step_of(steps, status)
        .ok()
        .map(|k| i.text(&steps[k].name))
        .unwrap_or_default()
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    view: Option<String>,
    #[serde(default)]
    done: Option<String>,
}

/// `GET /w/{ws}/cases?view=open|done|all` (open: not yet at their journey's last
/// step, the longest in their current status first; the default).
pub async fn list(
    State(st): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<ListQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let done = if q.done.is_some() {
        ctx.i.t("cases-settings-saved")
    } else {
        String::new()
    };
    let page = (done, String::new());
    list_page(&st, &ctx, (q.view.as_deref(), &headers), page).await
}

async fn list_page(
    st: &AppState,
    ctx: &PageCtx,
    (view, headers): (Option<&str>, &HeaderMap),
    (done, error): (String, String),
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    let (view, listed) = match view {
        Some("done") => ("done", cs::View::Done),
        Some("all") => ("all", cs::View::All),
        _ => ("open", cs::View::Open),
    };
    let i = &ctx.i;
    let cases = cs::in_view(&st.store, w.id, listed, 500).await?;
    let names = Names::new(&*(st.store.snapshot_cached(w.id).await?), i);
    let mut rows = vec![];
    for (c, step) in &cases {
        rows.push(Row {
            id: c.id,
            reference: shown_reference(&c.reference),
            title: c.title.clone().unwrap_or_default(),
            journey: Names::get(&names.journeys, c.journey_id),
            step: step.as_ref().map(|s| i.text(&s.name)).unwrap_or_default(),
            status: c.status.clone(),
            since: i.time(&c.status_at),
            unit: c
                .unit_id
                .map(|u| Names::get(&names.units, u))
                .unwrap_or_default(),
        });
    }
    let snapshot = st.store.snapshot_cached(w.id).await?;
    let mut journeys = vec![];
    for (id, d) in &snapshot.journeys {
        let set = !st.store.case_steps(w.id, *id).await?.is_empty();
        journeys.push((*id, i.text(&d.name), set));
    }
    let label = cs::verifier_label(&st.store, w.id)
        .await?
        .map(|t| t.raw())
        .unwrap_or_default();
    let verifier = kohtaamo_domain::cases::CASE_LANGUAGES
        .iter()
        .map(|l| {
            (
                l.to_string(),
                i.t(&format!("lang-name-{l}")),
                label.get(*l).cloned().unwrap_or_default(),
            )
        })
        .collect();
    let ch = chrome(ctx);
    let page = ListPage {
        editor: role.can_edit(),
        csrf: ctx.csrf.clone(),
        journeys,
        verifier,
        lookup: format!("{}/s?org={}", st.public_base(headers), w.data.slug),
        done,
        error,
        i: ch.i,
        nav: ch.nav,
        langs: ch.langs,
        here: ch.here,
        slug: w.data.slug.to_string(),
        view: view.to_owned(),
        views: ["open", "done", "all"]
            .into_iter()
            .map(|v| (v, i.t(&format!("cases-view-{v}"))))
            .collect(),
        rows,
    };
    Ok(html(page.render()))
}

struct StepRow {
    name: String,
    state: &'static str,
}

struct ChangeRow {
    at: String,
    status: String,
    step: String,
    note: String,
    ask: String,
    by: String,
}

struct LinkRow {
    created: String,
    expires: String,
    revoked: String,
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    slug: String,
    csrf: String,
    id: Id,
    reference: String,
    title: String,
    journey: String,
    unit: String,
    customer: String,
    timeline_link: String,
    status: String,
    step: String,
    since: String,
    expected_by: String,
    ask: String,
    steps: Vec<StepRow>,
    changes: Vec<ChangeRow>,
    /// What the customer wrote on their status page: (when, text), newest first.
    replies: Vec<(String, String)>,
    links: Vec<LinkRow>,
    /// E-mail subscriptions: (address, since, ended).
    subscriptions: Vec<(String, String, String)>,
    /// The statuses to move to, each with its step's name.
    statuses: Vec<(String, String)>,
    editor: bool,
    /// A link just issued (shown this once), or a message.
    issued: String,
    done: String,
    error: String,
}

#[derive(Deserialize, Default)]
pub struct OneQuery {
    #[serde(default)]
    done: Option<String>,
}

async fn render(
    st: &AppState,
    ctx: &PageCtx,
    id: Id,
    (issued, done, error): (String, String, String),
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    let i = &ctx.i;
    let d = cs::get(&st.store, w.id, id, &Actor::user(ctx.user.id)).await?;
    let names = Names::new(&*(st.store.snapshot_cached(w.id).await?), i);
    let slug = w.data.slug.to_string();
    let steps = d
        .steps
        .iter()
        .enumerate()
        .map(|(k, s)| StepRow {
            name: i.text(&s.name),
            state: kohtaamo_domain::cases::step_state(d.progress.as_ref(), k),
        })
        .collect();
    let changes = d
        .changes
        .iter()
        .rev()
        .map(|c| ChangeRow {
            at: i.time(&c.at),
            status: c.status.clone(),
            step: step_name(i, &d.steps, &c.status),
            note: c.note.clone().unwrap_or_default(),
            ask: c.ask.clone().unwrap_or_default(),
            by: c.recorded_by.clone(),
        })
        .collect();
    let links = d
        .links
        .iter()
        .map(|l| LinkRow {
            created: i.time(&l.created_at),
            expires: i.time(&l.expires_at),
            revoked: l
                .revoked_at
                .as_deref()
                .map(|r| i.time(r))
                .unwrap_or_default(),
        })
        .collect();
    let statuses = d
        .steps
        .iter()
        .flat_map(|s| {
            let name = i.text(&s.name);
            s.statuses.iter().map(move |x| (x.clone(), name.clone()))
        })
        .collect();
    let replies = cs::replies(&st.store, w.id, &d.case)
        .await?
        .into_iter()
        .map(|e| (i.time(&e.at), e.text.unwrap_or_default()))
        .collect();
    let c = &d.case;
    let ch = chrome(ctx);
    let page = CasePage {
        slug: slug.clone(),
        csrf: ctx.csrf.clone(),
        id,
        reference: d.shown_reference.clone(),
        title: c.title.clone().unwrap_or_default(),
        journey: Names::get(&names.journeys, c.journey_id),
        unit: c
            .unit_id
            .map(|u| Names::get(&names.units, u))
            .unwrap_or_default(),
        customer: c.customer.clone().unwrap_or_default(),
        timeline_link: c
            .customer
            .as_deref()
            .map(|x| format!("/w/{slug}/customers/{}", super::pages::encode(x)))
            .unwrap_or_default(),
        status: c.status.clone(),
        step: step_name(i, &d.steps, &c.status),
        since: i.time(&c.status_at),
        expected_by: d
            .progress
            .as_ref()
            .and_then(|p| p.expected_by.as_deref())
            .map(|t| i.time(t))
            .unwrap_or_default(),
        ask: match (&c.ask, &c.ask_due) {
            (Some(a), Some(due)) => format!("{a} ({due})"),
            (Some(a), None) => a.clone(),
            _ => String::new(),
        },
        steps,
        changes,
        replies,
        links,
        subscriptions: d
            .subscriptions
            .iter()
            .map(|s| {
                (
                    s.email.clone(),
                    i.time(&s.created_at),
                    s.unsubscribed_at
                        .as_deref()
                        .map(|t| i.time(t))
                        .unwrap_or_default(),
                )
            })
            .collect(),
        statuses,
        editor: role.can_edit(),
        issued,
        done: match done.as_str() {
            "status" | "revoked" => i.t(&format!("case-done-{done}")),
            _ => String::new(),
        },
        error,
        i: ch.i,
        nav: ch.nav,
        langs: ch.langs,
        here: ch.here,
    };
    Ok(html(page.render()))
}

/// `GET /w/{ws}/cases/{id}`.
pub async fn one(
    State(st): State<AppState>,
    ctx: PageCtx,
    Path((_, id)): Path<(String, Id)>,
    Query(q): Query<OneQuery>,
) -> Result<Response, PageError> {
    render(
        &st,
        &ctx,
        id,
        (String::new(), q.done.unwrap_or_default(), String::new()),
    )
    .await
}

#[derive(Deserialize, Default)]
pub struct StatusForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    ask: String,
    #[serde(default)]
    ask_due: String,
}

/// `POST /w/{ws}/cases/{id}/status` (editors).
pub async fn move_to(
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    CsrfForm { ctx, form }: CsrfForm<StatusForm>,
) -> Result<Response, PageError> {
    let w = ctx.edit_ws()?;
    let input = StatusInput {
        status: form.status,
        at: None,
        note: Some(form.note),
        ask: Some(form.ask),
        ask_due: Some(form.ask_due),
    };
    let by = Recorder::user(&ctx.user.username);
    match cs::change(
        &st.store,
        w.id,
        id,
        &by,
        &input,
        (st.clock.now(), st.mail()),
    )
    .await
    {
        Ok((case, changed)) => {
            if changed {
                cs::announce(
                    &st.hooks,
                    w.id,
                    w.data.slug.as_str(),
                    "status_changed",
                    &case,
                )
                .await;
            }
            Ok(Redirect::to(&format!("/w/{}/cases/{id}?done=status", w.data.slug)).into_response())
        }
        Err(kohtaamo_app::Error::Invalid(e)) => {
            let error = ctx.i.reasons(&e);
            render(&st, &ctx, id, (String::new(), String::new(), error)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub struct LinkForm {
    #[serde(default)]
    days: String,
}

/// `POST /w/{ws}/cases/{id}/links` (editors): the new link, shown on the page once.
pub async fn issue(
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    headers: HeaderMap,
    CsrfForm { ctx, form }: CsrfForm<LinkForm>,
) -> Result<Response, PageError> {
    let w = ctx.edit_ws()?;
    let days = match form.days.trim() {
        "" => None,
        d => match d.parse::<i64>() {
            Ok(d) => Some(d),
            Err(_) => Some(0),
        },
    };
    let by = Recorder::user(&ctx.user.username);
    let base = st.public_base(&headers);
    match cs::issue_link(&st.store, w.id, id, &by, days, (st.clock.now(), &base)).await {
        Ok(l) => render(&st, &ctx, id, (l.url, String::new(), String::new())).await,
        Err(kohtaamo_app::Error::Invalid(e)) => {
            let error = ctx.i.reasons(&e);
            render(&st, &ctx, id, (String::new(), String::new(), error)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /w/{ws}/cases/settings` (editors): what the look-up form calls the second
/// factor, per language (all empty: the default).
pub async fn settings(
    State(st): State<AppState>,
    headers: HeaderMap,
    CsrfForm { ctx, form }: CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let w = ctx.edit_ws()?;
    let label: std::collections::BTreeMap<String, String> = form
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("label_")?.to_owned(), v.clone())))
        .collect();
    match cs::set_verifier_label(&st.store, w.id, ctx.ws()?.1, &label).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/w/{}/cases?done=settings", w.data.slug)).into_response())
        }
        Err(kohtaamo_app::Error::Invalid(e)) => {
            let error = ctx.i.reasons(&e);
            let page = (String::new(), error);
            let mut r = list_page(&st, &ctx, (None, &headers), page).await?;
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /w/{ws}/cases/{id}/links/revoke` (editors).
pub async fn revoke(
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    CsrfForm { ctx, .. }: CsrfForm<super::pages::Empty>,
) -> Result<Response, PageError> {
    let w = ctx.edit_ws()?;
    cs::revoke_links(&st.store, w.id, id, st.clock.now()).await?;
    Ok(Redirect::to(&format!("/w/{}/cases/{id}?done=revoked", w.data.slug)).into_response())
}
