//! A customer's case status page: `/s/{token}` (the capability link the case's
//! system sends, or staff hand over). Phone-first, no JavaScript, in the customer's
//! language with a switch; `noindex`, `no-referrer`, nothing from another origin.
//! Viewing changes nothing (mail scanners open links first). An unknown, revoked or
//! expired link gets one and the same answer.

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use kohtaamo_app::cases as cs;
use kohtaamo_domain::cases::shown_reference;
use serde::Deserialize;

use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::i18n::{respondent_language, I18n};
use crate::AppState;

/// One step as the page lists it.
struct StepRow {
    name: String,
    meaning: String,
    /// done, current or later.
    state: &'static str,
    /// Where the case is (the current step; the last one once done).
    here: bool,
}

/// One entry of the dated history.
struct HistoryRow {
    when: String,
    step: String,
    note: String,
}

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    i: I18n,
    org: String,
    reference: String,
    title: String,
    languages: Vec<(String, String, String, bool)>,
    /// The current step's name, what it means, since when, what happens next, by when.
    current: String,
    meaning: String,
    since: String,
    next: String,
    expected_by: String,
    done: bool,
    /// When done: the closing survey's address (empty: none).
    survey: String,
    /// Shown to staff: this is the customer's page as it stands.
    preview: bool,
    /// Where the reply form posts (empty: no form, in a preview); its one-time id;
    /// whether a reply was just sent; what was wrong with one.
    reply_action: String,
    form_id: String,
    sent: bool,
    reply_error: String,
    /// Where the e-mail form posts (empty: e-mail is off, or a preview); whether an
    /// address was just subscribed; what was wrong with one.
    subscribe_action: String,
    subscribed: bool,
    subscribe_error: String,
    ask: String,
    ask_due: String,
    unit: String,
    steps: Vec<StepRow>,
    history: Vec<HistoryRow>,
}

#[derive(Deserialize, Default)]
pub struct LangQuery {
    #[serde(default)]
    lang: Option<String>,
    /// After a reply: `1`.
    #[serde(default)]
    sent: Option<String>,
    /// After subscribing to e-mail: `1`.
    #[serde(default)]
    subscribed: Option<String>,
}

/// What a status page shows beside the case: a preview or not; a reply just sent or
/// what was wrong with it; an address just subscribed or what was wrong with it.
#[derive(Default)]
struct Shown {
    preview: bool,
    sent: bool,
    reply_error: String,
    subscribed: bool,
    subscribe_error: String,
}

/// A case page's answer: never kept by a cache, indexed or given away as a referrer.
fn private(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    h.insert(
        header::HeaderName::from_static("x-robots-tag"),
        header::HeaderValue::from_static("noindex"),
    );
    r
}

fn respond(status: StatusCode, html: Result<String, askama::Error>) -> Response {
    match html {
        Ok(html) => private((status, Html(html)).into_response()),
        Err(e) => ApiError::Internal(e.to_string()).into_response(),
    }
}

fn not_found(i: &I18n) -> Response {
    private(super::public::unavailable_page(
        i,
        StatusCode::NOT_FOUND,
        "status-not-found",
    ))
}

/// `GET /s/{token}`.
pub async fn page(
    State(st): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let found = match cs::public(&st.store, &token, st.clock.now()).await {
        Ok(x) => x,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let Some(p) = found else {
        return not_found(&respondent_language(q.lang.as_deref(), &headers, None));
    };
    st.case_opens
        .count(p.workspace_id, p.case.id, st.clock.now());
    let page = Shown {
        sent: q.sent.is_some(),
        subscribed: q.subscribed.is_some(),
        ..Default::default()
    };
    show(
        &st,
        p,
        (q.lang.as_deref(), &headers),
        format!("/s/{token}"),
        page,
    )
    .await
}

#[derive(Deserialize, Default)]
pub struct ReplyForm {
    #[serde(default)]
    text: String,
    #[serde(default)]
    form: String,
    #[serde(default)]
    lang: String,
}

/// `POST /s/{token}/reply`: what the customer wrote goes to the unit handling the case.
pub async fn reply(
    State(st): State<AppState>,
    Path(token): Path<String>,
    crate::auth::ClientIp(ip): crate::auth::ClientIp,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let f: ReplyForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let lang = Some(f.lang.as_str()).filter(|l| !l.is_empty());
    let r = st
        .case_replies
        .reply(&st.store, (&token, &f.form, &f.text), ip, st.clock.now())
        .await;
    let i = respondent_language(lang, &headers, None);
    match r {
        Ok(Some((p, case))) => {
            if let Ok(Some(w)) = st.store.workspace_by_id(p.workspace_id).await {
                cs::announce(
                    &st.hooks,
                    p.workspace_id,
                    w.data.slug.as_str(),
                    "reply",
                    &case,
                )
                .await;
            }
            let to = format!("/s/{token}?sent=1&lang={}", i.lang);
            axum::response::Redirect::to(&to).into_response()
        }
        Ok(None) => not_found(&i),
        Err(e) => {
            let shown = |error| Shown {
                reply_error: error,
                ..Default::default()
            };
            refused(&st, &token, (lang, &headers), &i, e, shown).await
        }
    }
}

/// A status-page form (reply, e-mail sign-up) refused: the page again with what was
/// wrong where `shown` puts it, 422; over a limit, the seconds to wait.
async fn refused(
    st: &AppState,
    token: &str,
    (lang, headers): (Option<&str>, &HeaderMap),
    i: &I18n,
    e: kohtaamo_app::Error,
    shown: fn(String) -> Shown,
) -> Response {
    let error = match e {
        kohtaamo_app::Error::Invalid(e) => i.reasons(&e),
        kohtaamo_app::Error::Limited(secs) => i.n("status-lookup-limited", "seconds", secs as i64),
        e => return ApiError::from(e).into_response(),
    };
    match cs::public(&st.store, token, st.clock.now()).await {
        Ok(Some(p)) => {
            let mut r = show(st, p, (lang, headers), format!("/s/{token}"), shown(error)).await;
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
        Ok(None) => not_found(i),
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[derive(Deserialize, Default)]
pub struct SubscribeForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    consent: String,
    #[serde(default)]
    lang: String,
}

/// `POST /s/{token}/subscribe`: e-mail on each step change to the address given, with
/// the customer's consent (the box ticked); a first message confirms it.
pub async fn subscribe(
    State(st): State<AppState>,
    Path(token): Path<String>,
    crate::auth::ClientIp(ip): crate::auth::ClientIp,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let f: SubscribeForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let i = respondent_language(
        Some(f.lang.as_str()).filter(|l| !l.is_empty()),
        &headers,
        None,
    );
    let Some(mail) = st.mail() else {
        return not_found(&i);
    };
    let r = cs::subscribe_on_page(
        mail,
        &st.case_replies,
        (&token, &f.email, f.consent == "1", &i.lang),
        ip,
        st.clock.now(),
    )
    .await;
    match r {
        Ok(Some(_)) => {
            let to = format!("/s/{token}?subscribed=1&lang={}#sub-h", i.lang);
            axum::response::Redirect::to(&to).into_response()
        }
        Ok(None) => not_found(&i),
        Err(e) => {
            let shown = |error| Shown {
                subscribe_error: error,
                ..Default::default()
            };
            let lang = Some(i.lang.as_str());
            refused(&st, &token, (lang, &headers), &i, e, shown).await
        }
    }
}

#[derive(Template)]
#[template(path = "status_unsubscribe.html")]
struct UnsubscribePage {
    i: I18n,
    org: String,
    reference: String,
    /// Where the button posts (empty: done).
    action: String,
    done: bool,
}

async fn unsubscribe_page(
    st: &AppState,
    (id, token): (&str, &str),
    lang: Option<&str>,
    headers: &HeaderMap,
    act: bool,
) -> Response {
    // Anything but a number opens nothing: the same page as a wrong token.
    let Ok(id) = id.parse::<kohtaamo_domain::Id>() else {
        return not_found(&respondent_language(lang, headers, None));
    };
    let now = st.clock.now();
    let found = if act {
        cs::unsubscribe(&st.store, id, token, now).await
    } else {
        cs::subscription_of(&st.store, id, token).await
    };
    let (ws, sub, case) = match found {
        Ok(Some(x)) => x,
        Ok(None) => return not_found(&respondent_language(lang, headers, None)),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let w = match st.store.workspace_by_id(ws).await {
        Ok(Some(w)) => w,
        Ok(None) => return not_found(&respondent_language(lang, headers, None)),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let chosen = lang.or(Some(sub.language.as_str()).filter(|l| !l.is_empty()));
    let i = respondent_language(chosen, headers, Some(w.data.default_language.as_str()));
    let done = act || sub.unsubscribed_at.is_some();
    let page = UnsubscribePage {
        org: i.text(&w.data.name),
        reference: shown_reference(&case.reference),
        action: if done {
            String::new()
        } else {
            format!("/s/u/{id}/{token}")
        },
        done,
        i,
    };
    respond(StatusCode::OK, page.render())
}

/// `GET /s/u/{id}/{token}`: asks to confirm (a mail scanner opening the link changes
/// nothing).
pub async fn unsubscribe_form(
    State(st): State<AppState>,
    Path((id, token)): Path<(String, String)>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    unsubscribe_page(&st, (&id, &token), q.lang.as_deref(), &headers, false).await
}

/// `POST /s/u/{id}/{token}`: ends the subscription — the page's button, or a mail
/// program's one-click unsubscribe (RFC 8058; any body).
pub async fn unsubscribe(
    State(st): State<AppState>,
    Path((id, token)): Path<(String, String)>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    unsubscribe_page(&st, (&id, &token), q.lang.as_deref(), &headers, true).await
}

/// `GET /w/{ws}/cases/{id}/preview`: the customer's page as staff see it before they
/// send the link (members of the workspace), marked as a preview.
pub async fn preview(
    State(st): State<AppState>,
    ctx: super::PageCtx,
    Path((_, id)): Path<(String, kohtaamo_domain::Id)>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, super::PageError> {
    let (w, _) = ctx.ws()?;
    let p = cs::preview(&st.store, w.id, id).await?;
    let action = format!("/w/{}/cases/{id}/preview", w.data.slug);
    let page = Shown {
        preview: true,
        ..Default::default()
    };
    Ok(show(&st, p, (q.lang.as_deref(), &headers), action, page).await)
}

async fn show(
    st: &AppState,
    p: cs::PublicCase,
    (lang, headers): (Option<&str>, &HeaderMap),
    action: String,
    shown: Shown,
) -> Response {
    let preview = shown.preview;
    let (w, snapshot) = match (
        st.store.workspace_by_id(p.workspace_id).await,
        st.store.snapshot_cached(p.workspace_id).await,
    ) {
        (Ok(Some(w)), Ok(s)) => (w, s),
        (Err(e), _) | (_, Err(e)) => return ApiError::from(e).into_response(),
        (Ok(None), _) => return not_found(&respondent_language(lang, headers, None)),
    };
    let default = w.data.default_language.as_str().to_owned();
    let chosen = lang.or(p.case.language.as_deref());
    let i = respondent_language(chosen, headers, Some(&default));
    // Dates only: the installation keeps times in UTC and has no time zone per
    // workspace yet, and a customer asks "which day", not "which minute".
    let day = |t: &str| {
        chrono::DateTime::parse_from_rfc3339(t)
            .map(|t| i.date(&t.date_naive()))
            .unwrap_or_default()
    };
    let text = |t: &kohtaamo_domain::text::Texts| {
        t.get(&i.lang, &default)
            .or_else(|| t.get("fi", "en"))
            .unwrap_or_default()
            .to_owned()
    };
    let languages = super::public::language_links(&i, |l| format!("{action}?lang={l}"));
    let (current, done) = p
        .progress
        .as_ref()
        .map_or((None, false), |g| (Some(g.current), g.done));
    let step = current.and_then(|c| p.steps.get(c));
    let steps = p
        .steps
        .iter()
        .enumerate()
        .map(|(k, s)| StepRow {
            name: text(&s.name),
            meaning: text(&s.meaning),
            state: kohtaamo_domain::cases::step_state(p.progress.as_ref(), k),
            here: current == Some(k),
        })
        .collect();
    let history = p
        .progress
        .as_ref()
        .map(|g| {
            g.history
                .iter()
                .rev()
                .map(|h| HistoryRow {
                    when: day(&h.at),
                    step: p
                        .steps
                        .get(h.step)
                        .map(|s| text(&s.name))
                        .unwrap_or_default(),
                    note: h.note.clone().unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    let unit = p
        .case
        .unit_id
        .and_then(|u| snapshot.unit_name(u))
        .map(text)
        .unwrap_or_default();
    let survey = if done {
        match cs::closing_survey(&st.store, p.workspace_id, p.case.journey_id).await {
            Ok(Some((_, key, tp))) => {
                let mut path = format!(
                    "/f/{key}?case={}&lang={}",
                    super::pages::encode(&p.case.client_id),
                    i.lang
                );
                if let Some(tp) = tp {
                    path.push_str(&format!("&tp={tp}"));
                }
                // A customer identifier kept as given (not a pseudonym) goes along.
                if let Some(c) = p.case.customer.as_deref().filter(|c| !c.contains(":#")) {
                    path.push_str(&format!("&cref={}", super::pages::encode(c)));
                }
                path
            }
            Ok(None) => String::new(),
            Err(e) => return ApiError::from(e).into_response(),
        }
    } else {
        String::new()
    };
    let page = StatusPage {
        org: i.text(&w.data.name),
        reference: shown_reference(&p.case.reference),
        title: p.case.title.clone().unwrap_or_default(),
        languages,
        current: step.map(|s| text(&s.name)).unwrap_or_default(),
        meaning: step.map(|s| text(&s.meaning)).unwrap_or_default(),
        since: p
            .progress
            .as_ref()
            .map(|g| day(&g.since))
            .unwrap_or_default(),
        next: if done {
            String::new()
        } else {
            step.map(|s| text(&s.next)).unwrap_or_default()
        },
        expected_by: p
            .progress
            .as_ref()
            .and_then(|g| g.expected_by.as_deref())
            .map(day)
            .unwrap_or_default(),
        done,
        survey,
        preview,
        reply_action: if preview {
            String::new()
        } else {
            format!("{action}/reply")
        },
        form_id: kohtaamo_app::links::new_token(),
        sent: shown.sent,
        reply_error: shown.reply_error,
        subscribe_action: if preview || st.mail().is_none() {
            String::new()
        } else {
            format!("{action}/subscribe")
        },
        subscribed: shown.subscribed,
        subscribe_error: shown.subscribe_error,
        ask: if done {
            String::new()
        } else {
            p.case.ask.clone().unwrap_or_default()
        },
        ask_due: p
            .case
            .ask_due
            .as_deref()
            .and_then(|d| d.parse::<chrono::NaiveDate>().ok())
            .map(|d| i.date(&d))
            .unwrap_or_default(),
        unit,
        steps,
        history,
        i,
    };
    respond(StatusCode::OK, page.render())
}

#[derive(Template)]
#[template(path = "status_lookup.html")]
struct LookupPage {
    i: I18n,
    org: String,
    org_name: String,
    languages: Vec<(String, String, String, bool)>,
    reference: String,
    error: String,
    /// What the workspace calls the second factor (default: postcode or surname).
    verifier_label: String,
}

#[derive(Deserialize, Default)]
pub struct LookupQuery {
    #[serde(default)]
    org: Option<String>,
    #[serde(default)]
    lang: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct LookupForm {
    #[serde(default)]
    org: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    verifier: String,
    #[serde(default)]
    lang: String,
}

async fn lookup_page(
    st: &AppState,
    (org, lang): (&str, Option<&str>),
    headers: &HeaderMap,
    (reference, error): (String, String),
    status: StatusCode,
) -> Response {
    let w = match st.store.workspace_by_slug(org).await {
        Ok(w) => w,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let i = respondent_language(
        lang,
        headers,
        w.as_ref().map(|w| w.data.default_language.as_str()),
    );
    let Some(w) = w else {
        return not_found(&i);
    };
    let languages = super::public::language_links(&i, |l| {
        format!("/s?org={}&lang={l}", super::pages::encode(org))
    });
    let verifier_label = match cs::verifier_label(&st.store, w.id).await {
        Ok(Some(t)) => t
            .get(&i.lang, w.data.default_language.as_str())
            .map(str::to_owned)
            .unwrap_or_else(|| i.t("status-lookup-verifier")),
        Ok(None) => i.t("status-lookup-verifier"),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let page = LookupPage {
        verifier_label,
        org: org.to_owned(),
        org_name: i.text(&w.data.name),
        languages,
        reference,
        error,
        i,
    };
    respond(status, page.render())
}

/// `GET /s?org={workspace}`: the form to find one's case by its reference and the
/// second factor, for a customer without their link.
pub async fn lookup_form(
    State(st): State<AppState>,
    Query(q): Query<LookupQuery>,
    headers: HeaderMap,
) -> Response {
    let org = q.org.unwrap_or_default();
    lookup_page(
        &st,
        (&org, q.lang.as_deref()),
        &headers,
        (String::new(), String::new()),
        StatusCode::OK,
    )
    .await
}

/// `POST /s`: a match opens the case's status page through a fresh one-day link;
/// anything else gets one and the same answer.
pub async fn lookup(
    State(st): State<AppState>,
    crate::auth::ClientIp(ip): crate::auth::ClientIp,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let f: LookupForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let lang = Some(f.lang.as_str()).filter(|l| !l.is_empty());
    let found = st
        .case_lookup
        .find(
            &st.store,
            (&f.org, &f.reference, &f.verifier),
            ip,
            st.clock.now(),
        )
        .await;
    let i = respondent_language(lang, &headers, None);
    match found {
        Ok(Some(link)) => axum::response::Redirect::to(&link.path).into_response(),
        Ok(None) => {
            let error = i.t("status-lookup-no-match");
            lookup_page(
                &st,
                (&f.org, lang),
                &headers,
                (f.reference, error),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(kohtaamo_app::Error::Limited(secs)) => {
            let error = i.n("status-lookup-limited", "seconds", secs as i64);
            let mut r = lookup_page(
                &st,
                (&f.org, lang),
                &headers,
                (f.reference, error),
                StatusCode::TOO_MANY_REQUESTS,
            )
            .await;
            if let Ok(v) = header::HeaderValue::from_str(&secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}
