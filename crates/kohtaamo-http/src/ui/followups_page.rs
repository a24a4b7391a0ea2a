//! Follow-ups for staff: `/w/{ws}/follow-ups` (*my follow-ups* — assigned to me, or
//! unassigned in a unit I work in — the open ones of the workspace, or the closed
//! ones; overdue first, said in words), and `/w/{ws}/follow-ups/{id}`: one follow-up on
//! a phone — why it opened, the customer and their timeline, the clocks, and one form
//! per step (take it, contacted, resolved, close with a root cause and the action
//! taken, reopen, a note), then what was done so far. The steps go through the same
//! use case as the API's `…/actions`.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kohtaamo_app::directory::Names;
use kohtaamo_app::followups as fu;
use kohtaamo_domain::followups::{Action, Status, ROOT_CAUSES};
use kohtaamo_domain::Id;
use kohtaamo_storage::followups::{Act, FollowUp, FollowUpFilter};
use kohtaamo_storage::privacy::Actor;
use serde::Deserialize;

use super::pages::{chrome, Nav};
use super::{html, CsrfForm, PageCtx, PageError};
use crate::extract::{Path, Query};
use crate::i18n::I18n;
use crate::AppState;

/// A follow-up as a row of the list or the head of its page.
struct Row {
    id: Id,
    status: String,
    status_key: &'static str,
    reason: String,
    place: String,
    unit: String,
    customer: String,
    assignee: String,
    /// "Contact due 27.11. 14:00" / "Contact overdue since …" / "Closed …".
    due: String,
    overdue: bool,
}

fn when(i: &I18n, at: &str) -> String {
    i.time(at)
}

/// Why a follow-up opened, as people read it: scores and options as stored ("NPS 2 ≤
/// 6", "why = late"); words found ("“refund”"), a capture's mark and a score alert's
/// finding in the reader's language.
pub(super) fn reason_text(i: &I18n, f: &FollowUp) -> String {
    if f.alert_id.is_some() {
        return i.s("follow-up-reason-alert", "what", &f.reason);
    }
    match f.reason.as_str() {
        kohtaamo_domain::followups::CAPTURE_REASON => i.t("follow-up-reason-capture"),
        // Words found in an answer are stored quoted: “refund”.
        r if r.starts_with('“') => i.s("follow-up-reason-words", "words", r),
        r => r.to_owned(),
    }
}

/// What falls due next, in words ("Contact by …", "Resolution overdue since …"; for a
/// resolved or closed one, since when), and whether it is overdue.
pub(super) fn due(i: &I18n, f: &FollowUp, now: chrono::DateTime<chrono::Utc>) -> (String, bool) {
    if let Some(since) = &f.waiting_since {
        return (i.s("follow-up-waiting-since", "at", &when(i, since)), false);
    }
    let (which, at) = match f.status {
        Status::New if f.may_contact => (Some("contact"), &f.contact_due),
        Status::New | Status::Contacted => (Some("resolve"), &f.resolve_due),
        _ => (None, &f.updated_at),
    };
    let overdue =
        which.is_some() && chrono::DateTime::parse_from_rfc3339(at).is_ok_and(|d| d < now);
    let text = match (which, overdue) {
        (Some(w), true) => i.s(&format!("follow-up-{w}-overdue"), "at", &when(i, at)),
        (Some(w), false) => i.s(&format!("follow-up-{w}-due"), "at", &when(i, at)),
        (None, _) => i.s(
            &format!("follow-up-{}-at", f.status.as_str()),
            "at",
            &when(i, at),
        ),
    };
    (text, overdue)
}

/// Who took a step: a user's name, the customer, or the follow-up clock.
pub(super) fn by_text(i: &I18n, by: &str) -> String {
    match by {
        "" => i.t("follow-up-by-clock"),
        "customer" => i.t("follow-up-by-customer"),
        by => by.strip_prefix("user:").unwrap_or(by).to_owned(),
    }
}

/// A share in words: "80 % (of 35)", or a dash when nothing was counted.
pub(super) fn rate_text(i: &I18n, r: &kohtaamo_domain::followups::Rate) -> String {
    match r.percent() {
        Some(p) => i.args(
            "follow-up-rate",
            &[
                ("percent", &i.decimals(format!("{p:.0}"))),
                ("of", &r.of.to_string()),
            ],
        ),
        None => "–".into(),
    }
}

/// The outer loop of a group in one line: closed, on time, recovered.
pub(super) fn outcome_text(i: &I18n, o: &kohtaamo_domain::followups::Outcome) -> String {
    i.args(
        "follow-up-outcome",
        &[
            ("closed", &o.closed.to_string()),
            ("contact", &rate_text(i, &o.contact_sla)),
            ("resolve", &rate_text(i, &o.resolve_sla)),
            ("recovered", &rate_text(i, &o.recovery)),
        ],
    )
}

/// A closing step's detail ("cause: action taken") as people read it: the root cause
/// in the reader's language, then the action.
fn close_detail(i: &I18n, detail: &str) -> String {
    match detail.split_once(": ") {
        Some((cause, taken)) => format!("{} — {taken}", i.t(&format!("root-cause-{cause}"))),
        None => detail.to_owned(),
    }
}

/// An escalation step's detail (`<clock>:<step>:<names>`) in words: "First contact
/// overdue: told the unit's lead (anna)", or that there was nobody to tell.
fn escalation_detail(i: &I18n, detail: &str) -> String {
    let mut parts = detail.splitn(3, ':');
    let (Some(clock), Some(step), who) = (parts.next(), parts.next(), parts.next()) else {
        return detail.to_owned();
    };
    let who = who.unwrap_or_default();
    let whom = if who.is_empty() {
        i.t("follow-up-escalated-nobody")
    } else {
        who.to_owned()
    };
    i.args(
        "follow-up-escalated",
        &[
            ("clock", &i.t(&format!("follow-up-clock-{clock}"))),
            ("step", &i.t(&format!("follow-up-step-{step}"))),
            ("who", &whom),
        ],
    )
}

/// What a step of a follow-up's history says beside its name: who took it (from
/// `users`), the root cause and action, an escalation in words, the note.
pub(super) fn event_detail(
    i: &I18n,
    action: Action,
    detail: &str,
    users: &[(Id, String)],
) -> String {
    match action {
        Action::Assign => detail
            .parse::<Id>()
            .ok()
            .and_then(|a| users.iter().find(|(id, _)| *id == a))
            .map(|(_, n)| n.clone())
            .unwrap_or_default(),
        Action::Close => close_detail(i, detail),
        Action::Escalate => escalation_detail(i, detail),
        Action::Recovery => detail
            .parse::<i64>()
            .map(|n| i.n("follow-up-recovery-answer", "score", n))
            .unwrap_or_default(),
        Action::Reopen => detail
            .strip_prefix("recovery:")
            .and_then(|n| n.parse::<i64>().ok())
            .map(|n| i.n("follow-up-reopened-by-recovery", "score", n))
            .unwrap_or_else(|| detail.to_owned()),
        _ => detail.to_owned(),
    }
}

fn row(
    i: &I18n,
    names: &Names,
    users: &[(Id, String)],
    f: &FollowUp,
    now: chrono::DateTime<chrono::Utc>,
) -> Row {
    let (due, overdue) = due(i, f, now);
    Row {
        id: f.id,
        status: i.t(&format!("follow-up-status-{}", f.status.as_str())),
        status_key: f.status.as_str(),
        reason: reason_text(i, f),
        place: f
            .touchpoint_id
            .map(|t| Names::get(&names.touchpoints, t))
            .unwrap_or_default(),
        unit: f
            .unit_id
            .map(|u| Names::get(&names.units, u))
            .unwrap_or_else(|| i.t("follow-up-no-unit")),
        customer: f.customer.clone().unwrap_or_default(),
        assignee: f
            .assignee_id
            .and_then(|a| users.iter().find(|(id, _)| *id == a))
            .map(|(_, n)| n.clone())
            .unwrap_or_default(),
        due,
        overdue,
    }
}

#[derive(Template)]
#[template(path = "follow_ups.html")]
struct ListPage {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    slug: String,
    view: String,
    views: Vec<(&'static str, String)>,
    rows: Vec<Row>,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    view: Option<String>,
}

async fn members(st: &AppState, ws: Id) -> Result<Vec<(Id, String)>, PageError> {
    Ok(st
        .store
        .members(ws)
        .await?
        .into_iter()
        .map(|m| (m.user_id, m.username))
        .collect())
}

/// `GET /w/{ws}/follow-ups?view=mine|open|closed`.
pub async fn list(
    State(st): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let (w, _) = ctx.ws()?;
    let i = &ctx.i;
    let view = match q.view.as_deref() {
        Some("open") => "open",
        Some("closed") => "closed",
        _ => "mine",
    };
    let mut f = FollowUpFilter {
        limit: 500,
        ..Default::default()
    };
    match view {
        "open" => f.open = true,
        "closed" => f.status = Some(Status::Closed),
        _ => {}
    }
    let items = if view == "mine" {
        f.open = true;
        fu::mine(&st.store, w.id, ctx.user.id, &f).await?
    } else {
        fu::list(&st.store, w.id, &f).await?
    };
    let names = Names::new(&*(st.store.snapshot_cached(w.id).await?), i);
    let users = members(&st, w.id).await?;
    let now = st.clock.now();
    let rows = items
        .iter()
        .map(|f| row(i, &names, &users, f, now))
        .collect();
    let ch = chrome(&ctx);
    let page = ListPage {
        i: ch.i,
        nav: ch.nav,
        langs: ch.langs,
        here: ch.here,
        slug: w.data.slug.to_string(),
        view: view.to_owned(),
        views: ["mine", "open", "closed"]
            .into_iter()
            .map(|v| (v, i.t(&format!("follow-ups-view-{v}"))))
            .collect(),
        rows,
    };
    Ok(html(page.render()))
}

struct EventRow {
    what: String,
    detail: String,
    by: String,
    at: String,
}

#[derive(Template)]
#[template(path = "follow_up.html")]
struct OnePage {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    slug: String,
    csrf: String,
    r: Row,
    journey: String,
    opened: String,
    /// The response (or the score alerts) behind it, and the customer's timeline
    /// (empty: none).
    source_link: String,
    source_text: String,
    /// Opened by a score alert: no single customer.
    from_alert: bool,
    timeline_link: String,
    may_act: bool,
    assigned_to_me: bool,
    /// The steps the status allows now.
    can: Vec<&'static str>,
    /// E-mail is not configured: escalations are told here only.
    mail_off: bool,
    /// Whether the customer may be contacted, and how (mailto:/tel: link, shown text).
    may_contact: bool,
    contact: Option<(String, String)>,
    /// Closed with consent: the recovery survey link to give the customer; their
    /// answer when given.
    recovery_link: String,
    recovery: String,
    causes: Vec<(&'static str, String)>,
    events: Vec<EventRow>,
    root_cause: String,
    action_taken: String,
    error: String,
    done: String,
    f: ActForm,
}

#[derive(Deserialize, Default)]
pub struct OneQuery {
    #[serde(default)]
    done: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
pub struct ActForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    root_cause: String,
    #[serde(default)]
    action_taken: String,
    #[serde(default)]
    note: String,
}

async fn render(
    st: &AppState,
    (ctx, headers): (&PageCtx, &axum::http::HeaderMap),
    id: Id,
    done: &str,
    error: String,
    form: ActForm,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    let i = &ctx.i;
    let (f, events) = fu::get(&st.store, w.id, id, &Actor::user(ctx.user.id)).await?;
    let names = Names::new(&*(st.store.snapshot_cached(w.id).await?), i);
    let users = members(st, w.id).await?;
    let units = st.store.units_of_user(w.id, ctx.user.id).await?;
    let may_act = role.can_edit() || f.unit_id.is_some_and(|u| units.contains(&u));
    let slug = w.data.slug.to_string();
    let source_link = match (f.survey_id, &f.response_key, f.alert_id) {
        (Some(s), Some(k), _) => st
            .store
            .response_id(w.id, s, k)
            .await?
            .map(|rid| format!("/w/{slug}/surveys/{s}/responses/{rid}"))
            .unwrap_or_default(),
        (_, _, Some(_)) => format!("/w/{slug}/alerts"),
        _ => String::new(),
    };
    let source_text = i.t(if f.alert_id.is_some() {
        "follow-up-see-alert"
    } else {
        "follow-up-see-response"
    });
    let timeline_link = f
        .customer
        .as_deref()
        .map(|c| format!("/w/{slug}/customers/{}", super::pages::encode(c)))
        .unwrap_or_default();
    let state = kohtaamo_domain::followups::State {
        status: f.status,
        contacted: f.contacted_at.is_some(),
        waiting: f.waiting_since.is_some(),
        may_contact: f.may_contact,
    };
    let can = [
        Action::Contact,
        Action::Wait,
        Action::Resume,
        Action::Resolve,
        Action::Close,
        Action::Reopen,
    ]
    .into_iter()
    .filter(|a| kohtaamo_domain::followups::next(state, *a).is_ok())
    .map(Action::as_str)
    .collect();
    let recovery_link = if f.status == Status::Closed && f.may_contact {
        format!(
            "{}{}",
            st.public_base(headers),
            fu::recovery_path(&st.store, f.id).await?
        )
    } else {
        String::new()
    };
    let done = match done {
        "assign" | "contact" | "wait" | "resume" | "resolve" | "close" | "reopen" | "note" => {
            i.t(&format!("follow-up-done-{done}"))
        }
        _ => String::new(),
    };
    let ch = chrome(ctx);
    let page = OnePage {
        slug,
        csrf: ctx.csrf.clone(),
        journey: f
            .journey_id
            .map(|j| Names::get(&names.journeys, j))
            .unwrap_or_default(),
        opened: when(i, &f.created_at),
        source_link,
        source_text,
        from_alert: f.alert_id.is_some(),
        timeline_link,
        may_act,
        assigned_to_me: f.assignee_id == Some(ctx.user.id),
        can,
        causes: ROOT_CAUSES
            .iter()
            .map(|c| (*c, i.t(&format!("root-cause-{c}"))))
            .collect(),
        events: events
            .iter()
            .map(|e| EventRow {
                what: i.t(&format!("follow-up-event-{}", e.action.as_str())),
                detail: event_detail(i, e.action, &e.detail, &users),
                by: by_text(i, &e.by),
                at: when(i, &e.at),
            })
            .collect(),
        // A reopened one's earlier cause stays in its history, not in its facts.
        root_cause: f
            .root_cause
            .as_deref()
            .filter(|_| f.status == Status::Closed)
            .map(|c| i.t(&format!("root-cause-{c}")))
            .unwrap_or_default(),
        action_taken: f.action_taken.clone().unwrap_or_default(),
        mail_off: st.hooks.mailer.is_none(),
        may_contact: f.may_contact,
        contact: f.contact.as_deref().map(|c| {
            let href = if kohtaamo_domain::survey::is_email(c) {
                format!("mailto:{c}")
            } else {
                format!("tel:{c}")
            };
            (href, c.to_owned())
        }),
        recovery_link,
        recovery: f
            .recovery_score
            .map(|n| i.n("follow-up-recovery-answer", "score", n))
            .unwrap_or_default(),
        r: row(i, &names, &users, &f, st.clock.now()),
        error,
        done,
        f: form,
        i: ch.i,
        nav: ch.nav,
        langs: ch.langs,
        here: ch.here,
    };
    Ok(html(page.render()))
}

/// `GET /w/{ws}/follow-ups/{id}`.
pub async fn one(
    State(st): State<AppState>,
    ctx: PageCtx,
    Path((_, id)): Path<(String, Id)>,
    Query(q): Query<OneQuery>,
    headers: axum::http::HeaderMap,
) -> Result<Response, PageError> {
    render(
        &st,
        (&ctx, &headers),
        id,
        q.done.as_deref().unwrap_or_default(),
        String::new(),
        ActForm::default(),
    )
    .await
}

/// `POST /w/{ws}/follow-ups/{id}`: one step (`action`); "assign" takes it for the one
/// who sends the form. A step that cannot be taken shows the page again with why.
pub async fn act(
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    headers: axum::http::HeaderMap,
    CsrfForm { ctx, form }: CsrfForm<ActForm>,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    let i = &ctx.i;
    let error = match Action::parse(form.action.trim()) {
        Err(r) => i.reason(&r),
        Ok(action) => {
            let act = Act {
                action,
                assignee_id: (action == Action::Assign).then_some(ctx.user.id),
                root_cause: Some(form.root_cause.clone()),
                action_taken: Some(form.action_taken.clone()),
                note: Some(form.note.clone()),
                by: format!("user:{}", ctx.user.username),
                at: kohtaamo_storage::time_text(st.clock.now()),
                mails: vec![],
            };
            match fu::act(&st.hooks, w.id, id, (ctx.user.id, role), &act).await {
                Ok(f) => {
                    fu::announce(&st.hooks, w.id, w.data.slug.as_str(), action, &f);
                    return Ok(Redirect::to(&format!(
                        "/w/{}/follow-ups/{id}?done={}",
                        w.data.slug,
                        action.as_str()
                    ))
                    .into_response());
                }
                Err(kohtaamo_app::Error::Invalid(e)) => i.reasons(&e),
                Err(kohtaamo_app::Error::Forbidden(_)) => {
                    return Err(PageError::Forbidden(ctx.i.clone()))
                }
                Err(e) => return Err(PageError::app(e, i)),
            }
        }
    };
    let page = render(&st, (&ctx, &headers), id, "", error, form).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}
