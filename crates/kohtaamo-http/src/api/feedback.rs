//! Public feedback JSON, no login: `/api/public/v1/surveys/{key}` (definition in one
//! language, for the widget), `…/responses` (answers), `…/impressions` (survey shown)
//! — CORS per survey. The survey page `/f/{key}` and `/widget.js` are in `ui/public.rs`;
//! both call `kohtaamo_app::feedback::Feedback`.
//!
//! A 2xx from `…/responses` or the page means the response is committed to disk.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use kohtaamo_domain::Id;
use kohtaamo_storage::feedback::Stored;
use serde::Deserialize;
use serde_json::json;

use kohtaamo_app::feedback::{Feedback, Live, PublicSurvey, ResponseInput};

use super::doc::{Api, Op};
use crate::auth::ClientIp;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Path, Query as RawQuery};
use crate::i18n::respondent_language;
use crate::AppState;

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
            .responds(410, "The survey is closed")
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
        .responds(200, "Already stored (the same id again)")
        .responds(403, "The page's origin is not among the survey's allowed origins")
        .responds(410, "The survey is closed, or the invitation already used")
        .limited()
        .public()],
    )
    .route(
        "/api/public/v1/surveys/{key}/impressions",
        post(impression).options(preflight),
        vec![Op::new("post", "feedback", "Record that the survey was shown (for response rate and drop-off)")
            .query("touchpoint_id", "integer", "Where it was shown")
            .ok(204, None)
            .responds(403, "The page's origin is not among the survey's allowed origins")
            .responds(410, "The survey is closed")
            .limited()
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
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<Response> {
    // Over the installation's body limit the extractor refuses; say so as JSON too.
    let body = body.map_err(|r| ApiError::Rejected(r.status(), r.body_text()))?;
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
    let (id, stored) = st.feedback.submit(&live, input, None).await?;
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
