//! The recovery survey a customer gets after their follow-up closed:
//! `/r/{id}/{token}` (the link staff give, or the e-mail carries). One question on a
//! phone-first page without JavaScript, in the customer's language with a switch.
//! Viewing changes nothing (mail scanners open links first); the answer is stored once
//! per closing, and a poor one reopens the follow-up. A wrong token and an unknown
//! follow-up get the same page.

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use kohtaamo_app::followups as fu;
use kohtaamo_domain::followups::RECOVERY_SCALE;
use kohtaamo_domain::Id;
use kohtaamo_storage::followups::RecoveryOutcome;
use serde::Deserialize;

use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::i18n::{respondent_language, I18n};
use crate::AppState;

#[derive(Template)]
#[template(path = "recovery.html")]
struct RecoveryPage {
    i: I18n,
    org: String,
    action: String,
    languages: Vec<(String, String, String, bool)>,
    /// form, thanks, reopened, answered
    state: &'static str,
    error: String,
    points: Vec<i64>,
}

#[derive(Deserialize, Default)]
pub struct LangQuery {
    #[serde(default)]
    lang: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct AnswerForm {
    #[serde(default)]
    score: String,
    #[serde(default)]
    lang: String,
}

fn not_found(i: &I18n) -> Response {
    super::public::unavailable_page(i, StatusCode::NOT_FOUND, "recovery-not-found")
}

async fn show(
    st: &AppState,
    (id, token): (Id, &str),
    lang: Option<&str>,
    headers: &HeaderMap,
    state: Option<&'static str>,
    error: String,
) -> Response {
    let (w, f) = match fu::recovery_of(&st.store, id, token).await {
        Ok(x) => x,
        Err(kohtaamo_app::Error::NotFound) => {
            return not_found(&respondent_language(lang, headers, None))
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    let i = respondent_language(lang, headers, Some(w.data.default_language.as_str()));
    let state = state.unwrap_or(
        if f.status == kohtaamo_domain::followups::Status::Closed && f.recovery_score.is_none() {
            "form"
        } else {
            "answered"
        },
    );
    let action = format!("/r/{id}/{token}");
    let languages = super::public::language_links(&i, |l| format!("{action}?lang={l}"));
    let status = if error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = RecoveryPage {
        org: i.text(&w.data.name),
        action,
        languages,
        state,
        error,
        points: (RECOVERY_SCALE.0..=RECOVERY_SCALE.1).collect(),
        i,
    };
    match page.render() {
        Ok(html) => (
            status,
            [
                (header::REFERRER_POLICY, "no-referrer"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            Html(html),
        )
            .into_response(),
        Err(e) => ApiError::Internal(e.to_string()).into_response(),
    }
}

/// `GET /r/{id}/{token}`: the question (or that it was answered).
pub async fn page(
    State(st): State<AppState>,
    Path((id, token)): Path<(Id, String)>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    show(
        &st,
        (id, &token),
        q.lang.as_deref(),
        &headers,
        None,
        String::new(),
    )
    .await
}

/// `POST /r/{id}/{token}`: the answer (`score` 1–5).
pub async fn answer(
    State(st): State<AppState>,
    Path((id, token)): Path<(Id, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let form: AnswerForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let lang = Some(form.lang.as_str()).filter(|l| !l.is_empty());
    // No number chosen is the same mistake as one off the scale.
    let outcome = match form.score.trim().parse::<i64>() {
        Ok(score) => fu::answer_recovery(&st.hooks, id, &token, score).await,
        Err(_) => Err(kohtaamo_app::Error::invalid(
            "score",
            kohtaamo_domain::Reason::new("choose-one"),
        )),
    };
    let state = match outcome {
        Ok(RecoveryOutcome::Stored) => "thanks",
        Ok(RecoveryOutcome::Reopened) => "reopened",
        Ok(RecoveryOutcome::NotOpen) => "answered",
        Err(kohtaamo_app::Error::NotFound) => {
            return not_found(&respondent_language(lang, &headers, None))
        }
        Err(kohtaamo_app::Error::Invalid(_)) => {
            let i = respondent_language(lang, &headers, None);
            return show(
                &st,
                (id, &token),
                lang,
                &headers,
                Some("form"),
                i.t("recovery-choose"),
            )
            .await;
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    show(
        &st,
        (id, &token),
        lang,
        &headers,
        Some(state),
        String::new(),
    )
    .await
}
