//! `/api/v1/workspaces/{ws}/insight`: organisation insight (`kohtaamo_app::insight`).

use axum::extract::State;
use axum::routing::get;
use kohtaamo_app::insight::InsightReport;
use serde_json::json;

use super::doc::{Api, Op};
use crate::auth::Ws;
use crate::error::ApiResult;
use crate::AppState;

pub fn routes(api: Api) -> Api {
    api.route(
        "/api/v1/workspaces/{ws}/insight",
        get(insight),
        vec![Op::new("get", "insight", "Organisation insight: coverage, chains, hand-offs, interfaces, process and package checks")
            .ok(200, Some(json!({"type": "object"})))],
    )
}

async fn insight(ws: Ws, State(st): State<AppState>) -> ApiResult<axum::Json<InsightReport>> {
    let (_, report) = kohtaamo_app::insight::load(&st.store, ws.id, st.clock.today()).await?;
    Ok(axum::Json(report))
}
