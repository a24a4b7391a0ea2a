//! Public feedback, no login:
//! - `/api/public/v1/surveys/{key}` (definition in one language, for the widget),
//!   `…/responses` (answers, JSON), `…/impressions` (survey shown) — CORS per survey;
//! - `/f/{key}` — the survey page (HTML form, works without JavaScript);
//! - `/widget.js` — the embeddable widget.
//!
//! A 2xx from `…/responses` or the page means the response is committed to disk.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Query as RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use kohtaamo_domain::survey::{QuestionKind, ShowIf, SurveyData};
use kohtaamo_domain::Id;
use kohtaamo_storage::feedback::Stored;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::api::{Api, Op};
use crate::auth::ClientIp;
use crate::error::{ApiError, ApiResult};
use crate::extract::Path;
use crate::feedback::{Feedback, Live, ResponseInput};
use crate::i18n::{self, I18n};
use crate::AppState;

/// A survey as a respondent sees it, in one language.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicSurvey {
    pub key: String,
    pub lang: String,
    pub title: String,
    pub intro: String,
    pub thanks: String,
    pub questions: Vec<PublicQuestion>,
    pub labels: PublicLabels,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicQuestion {
    pub key: String,
    pub kind: QuestionKind,
    pub text: String,
    pub required: bool,
    /// Scale of a scored question.
    pub min: Option<i64>,
    pub max: Option<i64>,
    /// Words at the ends of the scale.
    pub low: String,
    pub high: String,
    pub options: Vec<PublicOption>,
    pub show_if: Option<ShowIf>,
    /// "If you answered 0–6" (shown when scripts cannot hide the question).
    pub condition: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicOption {
    pub key: String,
    pub label: String,
}

/// Fixed texts of the page and widget in the respondent's language.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicLabels {
    pub submit: String,
    pub required: String,
    pub thanks_title: String,
    pub error: String,
    pub closed: String,
}

impl PublicSurvey {
    /// The survey `d` (public key `key`) as a respondent in `i`'s language sees it.
    pub fn build(key: &str, d: &SurveyData, i: &I18n) -> Self {
        let questions = d
            .questions
            .iter()
            .map(|q| {
                let kind = q.kind.as_str();
                let text = if q.text.is_empty() {
                    i.t(&format!("survey-std-{kind}"))
                } else {
                    i.text(&q.text)
                };
                let (min, max) = q.range().map_or((None, None), |(a, b)| (Some(a), Some(b)));
                let (low, high) = if q.kind.has_standard_wording() {
                    (
                        i.t(&format!("survey-low-{kind}")),
                        i.t(&format!("survey-high-{kind}")),
                    )
                } else {
                    (String::new(), String::new())
                };
                let condition = q
                    .show_if
                    .as_ref()
                    .map(|c| i.s("survey-condition", "range", &format!("{}–{}", c.min, c.max)))
                    .unwrap_or_default();
                PublicQuestion {
                    key: q.key.to_string(),
                    kind: q.kind,
                    text,
                    required: q.required,
                    min,
                    max,
                    low,
                    high,
                    options: q
                        .options
                        .iter()
                        .map(|c| PublicOption {
                            key: c.key.to_string(),
                            label: i.text(&c.label),
                        })
                        .collect(),
                    show_if: q.show_if.clone(),
                    condition,
                }
            })
            .collect();
        let thanks = if d.thanks.is_empty() {
            i.t("survey-thanks-default")
        } else {
            i.text(&d.thanks)
        };
        Self {
            key: key.to_owned(),
            lang: i.lang.clone(),
            title: i.text(&d.name),
            intro: i.text(&d.intro),
            thanks,
            questions,
            labels: PublicLabels {
                submit: i.t("survey-submit"),
                required: i.t("survey-required"),
                thanks_title: i.t("survey-thanks-title"),
                error: i.t("survey-error"),
                closed: i.t("survey-closed"),
            },
        }
    }
}

/// The respondent's language: `lang` in the link, then the browser's, then the
/// workspace default (None before the survey is known).
pub fn respondent_language(lang: Option<&str>, headers: &HeaderMap, default: Option<&str>) -> I18n {
    let l = i18n::negotiate(
        lang,
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
        default,
    );
    I18n::new(&l, default.unwrap_or(&l))
}

pub fn routes(mut api: Api) -> Api {
    let survey = api.schema::<PublicSurvey>();
    let input = api.schema::<ResponseInput>();
    let stored = json!({"type": "object", "required": ["id", "status"], "properties": {
        "id": {"type": "string"}, "status": {"type": "string", "enum": ["stored", "duplicate"]}}});
    api.route(
        "/api/public/v1/surveys/{key}",
        get(definition).options(preflight),
        vec![Op::new("get", "feedback", "A survey in one language (for the widget); 404 unknown or draft, 410 closed")
            .query("lang", "string", "Language code, e.g. fi or en")
            .ok(200, Some(survey))
            .public()],
    )
    .route(
        "/api/public/v1/surveys/{key}/responses",
        post(respond).options(preflight),
        vec![Op::new(
            "post",
            "feedback",
            "Answer a survey. 201 stored, 200 already stored (same id), 404 unknown survey, 410 closed, 422 invalid answers, 429 rate limited. A 2xx means committed to disk.",
        )
        .body(input)
        .ok(201, Some(stored))
        .public()],
    )
    .route(
        "/api/public/v1/surveys/{key}/impressions",
        post(impression).options(preflight),
        vec![Op::new("post", "feedback", "Record that the survey was shown (for response rate and drop-off)")
            .query("touchpoint_id", "integer", "Where it was shown")
            .ok(204, None)
            .public()],
    )
}

/// Whether a request from `headers`' Origin may use this survey; the CORS headers to
/// add when it may. Requests without Origin (servers, same-origin forms) pass.
fn cors(headers: &HeaderMap, live: &Live) -> ApiResult<Option<HeaderValue>> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(None);
    };
    let o = origin.to_str().unwrap_or_default().to_ascii_lowercase();
    let own = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| o == format!("http://{h}") || o == format!("https://{h}"));
    if own || live.survey.data.allows_origin(&o) {
        Ok(Some(origin.clone()))
    } else {
        Err(ApiError::Forbidden(
            "this site is not among the survey's allowed origins".into(),
        ))
    }
}

fn with_cors(mut resp: Response, origin: Option<HeaderValue>) -> Response {
    if let Some(o) = origin {
        let h = resp.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    resp
}

async fn preflight(
    State(st): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let live = st.feedback.live(&key).await?;
    let origin = cors(&headers, &live)?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    let _ = Method::OPTIONS;
    Ok(with_cors(resp, origin))
}

async fn definition(
    State(st): State<AppState>,
    Path(key): Path<String>,
    RawQuery(q): RawQuery<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let live = st.feedback.live(&key).await?;
    let origin = cors(&headers, &live)?;
    Feedback::require_open(&live)?;
    let i = respondent_language(
        q.get("lang").map(String::as_str),
        &headers,
        Some(&live.survey.default_language),
    );
    Ok(with_cors(
        axum::Json(PublicSurvey::build(
            &live.survey.public_key,
            &live.survey.data,
            &i,
        ))
        .into_response(),
        origin,
    ))
}

async fn respond(
    State(st): State<AppState>,
    Path(key): Path<String>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let live = st.feedback.live(&key).await?;
    let origin = cors(&headers, &live)?;
    st.feedback.check_limits(ip, live.survey.id)?;
    if body.len() > st.config.public_body_limit {
        return Err(ApiError::Rejected(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body too large".into(),
        ));
    }
    // The widget posts JSON as text/plain too (a "simple" request needs no preflight).
    let input: ResponseInput = serde_json::from_slice(&body)
        .map_err(|e| ApiError::Rejected(StatusCode::BAD_REQUEST, format!("invalid JSON: {e}")))?;
    let (id, stored) = st.feedback.submit(&live, input).await?;
    let (status, word) = match stored {
        Stored::Duplicate => (StatusCode::OK, "duplicate"),
        _ => (StatusCode::CREATED, "stored"),
    };
    Ok(with_cors(
        (status, axum::Json(json!({"id": id, "status": word}))).into_response(),
        origin,
    ))
}

#[derive(Deserialize)]
struct ImpressionQuery {
    touchpoint_id: Option<Id>,
}

async fn impression(
    State(st): State<AppState>,
    Path(key): Path<String>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    RawQuery(q): RawQuery<ImpressionQuery>,
) -> ApiResult<Response> {
    let live = st.feedback.live(&key).await?;
    let origin = cors(&headers, &live)?;
    st.feedback.check_limits(ip, live.survey.id)?;
    Feedback::require_open(&live)?;
    st.feedback.impression(&live, q.touchpoint_id).await?;
    Ok(with_cors(StatusCode::NO_CONTENT.into_response(), origin))
}
