//! `/api/v1/auth`: log in (rate-limited per account and per address; the session id is
//! new at every login), log out (the session dies server-side), and who am I.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::api::{Api, Op};
use crate::auth::{session_cookie, Auth, ClientIp, Via, SESSION_COOKIE};
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;
use crate::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    pub username: String,
    pub password: String,
}

#[derive(Serialize)]
pub struct SessionInfo {
    user: kohtaamo_storage::auth::User,
    /// Echo in `X-CSRF-Token` on state-changing requests made with the session cookie.
    csrf_token: Option<String>,
    workspaces: Vec<serde_json::Value>,
}

pub fn routes(mut api: Api) -> Api {
    let login = api.schema::<LoginInput>();
    let session = json!({"type": "object", "properties": {"user": {"type": "object"}, "csrf_token": {"type": ["string", "null"]}, "workspaces": {"type": "array"}}});
    api.route(
        "/api/v1/auth/login",
        post(login_handler),
        vec![Op::new("post", "auth", "Log in; sets the session cookie")
            .body(login)
            .ok(200, Some(session.clone()))
            .responds(401, "Wrong username or password (never says which)")
            .limited()
            .public()],
    )
    .route(
        "/api/v1/auth/logout",
        post(logout),
        vec![Op::new("post", "auth", "Log out; ends the session").ok(204, None)],
    )
    .route(
        "/api/v1/auth/session",
        get(me),
        vec![
            Op::new("get", "auth", "The current user, CSRF token and workspaces")
                .ok(200, Some(session)),
        ],
    )
}

/// The session cookie: HttpOnly, SameSite=Lax, Secure when served over HTTPS.
/// `max_age_secs` 0 deletes it.
fn cookie(value: &str, max_age_secs: i64, secure: bool) -> HeaderValue {
    let c = cookie::Cookie::build((SESSION_COOKIE, value.to_owned()))
        .path("/")
        .http_only(true)
        .same_site(cookie::SameSite::Lax)
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .build();
    // A cookie built from hex and fixed attributes is always a valid header value.
    HeaderValue::from_str(&c.to_string())
        .unwrap_or(HeaderValue::from_static("kohtaamo_session=; Max-Age=0"))
}

async fn info(
    st: &AppState,
    user: kohtaamo_storage::auth::User,
    csrf: Option<String>,
) -> ApiResult<SessionInfo> {
    let workspaces = st
        .store
        .workspaces_for(&user)
        .await?
        .into_iter()
        .map(|(w, role)| json!({"id": w.id, "slug": w.data.slug, "name": w.data.name, "default_language": w.data.default_language, "role": role}))
        .collect();
    Ok(SessionInfo {
        user,
        csrf_token: csrf,
        workspaces,
    })
}

async fn login_handler(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Json(input): Json<LoginInput>,
) -> ApiResult<Response> {
    st.limiter
        .check(&input.username, ip)
        .map_err(ApiError::TooManyRequests)?;
    let user = st
        .store
        .authenticate(&input.username, &input.password)
        .await?
        .ok_or_else(|| {
            tracing::info!(username = %input.username, %ip, "failed login");
            ApiError::BadCredentials
        })?;
    // Rotate: whatever session the browser had before is ended, a new id is issued.
    if let Some(old) = session_cookie(&headers) {
        st.store.delete_session(&old).await?;
    }
    let ttl = chrono::Duration::hours(st.config.session_ttl_hours);
    let (token, csrf) = st.store.create_session(user.id, ttl).await?;
    tracing::info!(username = %user.username, "logged in");
    let body = info(&st, user, Some(csrf)).await?;
    let mut resp = axum::Json(body).into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        cookie(&token, ttl.num_seconds(), st.config.secure_cookies),
    );
    Ok(resp)
}

async fn logout(auth: Auth, State(st): State<AppState>) -> ApiResult<Response> {
    match auth.via {
        Via::Session { token, .. } => {
            st.store.delete_session(&token).await?;
            let mut resp = StatusCode::NO_CONTENT.into_response();
            resp.headers_mut()
                .insert(header::SET_COOKIE, cookie("", 0, st.config.secure_cookies));
            Ok(resp)
        }
        Via::Token => Err(ApiError::Conflict(
            "API tokens have no session to end; revoke the token instead".into(),
        )),
    }
}

async fn me(auth: Auth, State(st): State<AppState>) -> ApiResult<axum::Json<SessionInfo>> {
    let csrf = match auth.via {
        Via::Session { csrf, .. } => Some(csrf),
        Via::Token => None,
    };
    Ok(axum::Json(info(&st, auth.user, csrf).await?))
}
