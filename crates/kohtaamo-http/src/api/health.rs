//! Liveness and readiness, the only routes that need no authentication.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

use crate::api::{Api, Op};
use crate::AppState;

pub fn routes(api: Api) -> Api {
    api.route(
        "/healthz",
        get(healthz),
        vec![Op::new("get", "meta", "The process is up").public()],
    )
    .route(
        "/readyz",
        get(readyz),
        vec![Op::new(
            "get",
            "meta",
            "The process can reach its database and write to it: 200 `ready`, else 503 `database unreachable` or `disk full` with Retry-After; answers within 1 s",
        )
        .public()],
    )
}

async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the database answers within 800 ms (so the probe itself answers within
/// 1 s) and takes writes: while a full disk is known, a tiny write checks whether
/// space has come back. Otherwise 503 with what is wrong and `Retry-After`.
async fn readyz(State(st): State<AppState>) -> axum::response::Response {
    use axum::response::IntoResponse;
    match st.store.ping(std::time::Duration::from_millis(800)).await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(kohtaamo_storage::StoreError::Unavailable(o, _)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(
                axum::http::header::RETRY_AFTER,
                o.retry_after_secs().to_string(),
            )],
            o.as_str(),
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}
