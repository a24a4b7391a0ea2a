//! The one HTTP error type. Each variant documents its status; the body is always
//! `{"error": "...", "fields": {...}}`. Internal errors are logged and hidden.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use kohtaamo_domain::FieldErrors;
use kohtaamo_storage::StoreError;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: malformed body, wrong types, bad path or query.
    #[error("{1}")]
    Rejected(StatusCode, String),
    /// 401: no valid session or token.
    #[error("authentication required")]
    Unauthorized,
    /// 401 on login: wrong username or password (never says which).
    #[error("wrong username or password")]
    BadCredentials,
    /// 403: authenticated but not allowed (role, CSRF).
    #[error("{0}")]
    Forbidden(String),
    /// 404: unknown id or route, or a workspace the caller is not a member of.
    #[error("not found")]
    NotFound,
    /// 409: duplicate slug/name, or still referenced.
    #[error("{0}")]
    Conflict(String),
    /// 410: the thing existed but is over (a closed survey, a used invitation).
    #[error("{0}")]
    Gone(String),
    /// 422: validation failed; every field's reason.
    #[error("validation failed")]
    Invalid(FieldErrors),
    /// 429: rate limited; retry after this many seconds.
    #[error("too many attempts, try again later")]
    TooManyRequests(u64),
    /// 503: the database is down or its disk full; `Retry-After` says when to try
    /// again. Not logged per request (the store logs the outage once).
    #[error("{}: try again in {} s", .0.as_str(), .0.retry_after_secs())]
    Unavailable(kohtaamo_storage::Outage),
    /// 500: logged with its cause, shown without it.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn invalid(field: &str, reason: impl Into<kohtaamo_domain::Reason>) -> Self {
        let mut e = FieldErrors::new();
        e.add(field, reason);
        ApiError::Invalid(e)
    }
    pub fn forbidden_role() -> Self {
        ApiError::Forbidden("your role in this workspace does not allow this".into())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Invalid(f) => ApiError::Invalid(f),
            StoreError::Conflict(m) => ApiError::Conflict(m),
            StoreError::Unavailable(o, _) => ApiError::Unavailable(o),
            StoreError::Db(e) => ApiError::Internal(format!("database: {e}")),
        }
    }
}

impl From<kohtaamo_app::Error> for ApiError {
    fn from(e: kohtaamo_app::Error) -> Self {
        use kohtaamo_app::Error as E;
        match e {
            E::NotFound => ApiError::NotFound,
            E::Invalid(f) => ApiError::Invalid(f),
            E::Forbidden(m) => ApiError::Forbidden(m),
            E::Conflict(m) => ApiError::Conflict(m),
            E::Gone(m) => ApiError::Gone(m),
            E::Limited(secs) => ApiError::TooManyRequests(secs),
            E::Unavailable(o) => ApiError::Unavailable(o),
            E::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<FieldErrors> for ApiError {
    fn from(e: FieldErrors) -> Self {
        ApiError::Invalid(e)
    }
}

impl From<JsonRejection> for ApiError {
    /// Malformed JSON and wrong types are 400 (axum says 422 for the latter; we keep
    /// 422 for values that parse but fail validation). Oversized bodies stay 413, a
    /// missing JSON content type 415.
    fn from(r: JsonRejection) -> Self {
        let status = match &r {
            JsonRejection::JsonDataError(_) | JsonRejection::JsonSyntaxError(_) => {
                StatusCode::BAD_REQUEST
            }
            other => other.status(),
        };
        ApiError::Rejected(status, r.body_text())
    }
}
impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::Rejected(StatusCode::BAD_REQUEST, r.body_text())
    }
}
impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::Rejected(StatusCode::BAD_REQUEST, r.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::Rejected(s, _) => *s,
            ApiError::Unauthorized | ApiError::BadCredentials => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Gone(_) => StatusCode::GONE,
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let fields = match &self {
            ApiError::Invalid(f) => serde_json::to_value(f).unwrap_or_default(),
            _ => json!({}),
        };
        let mut resp = (
            status,
            axum::Json(json!({ "error": self.to_string(), "fields": fields })),
        )
            .into_response();
        let retry = match self {
            ApiError::TooManyRequests(secs) => Some(secs),
            ApiError::Unavailable(o) => Some(o.retry_after_secs()),
            _ => None,
        };
        if let Some(secs) = retry {
            if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
