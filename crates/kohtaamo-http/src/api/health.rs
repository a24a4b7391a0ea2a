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
            "The process can reach its database (503 if not)",
        )
        .public()],
    )
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(st): State<AppState>) -> (StatusCode, &'static str) {
    match st.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
