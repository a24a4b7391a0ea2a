//! `/api/v1/workspaces/{ws}/…`: review history of relations, notifications of units,
//! and the workspace's webhooks (admins).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use kohtaamo_domain::Id;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::api::{Api, Op};
use crate::auth::Ws;
use crate::error::ApiResult;
use crate::extract::{Json, Path, Query};
use crate::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    pub url: String,
    pub secret: String,
    /// Events beyond the default ones (review reminders, score alerts):
    /// `encounters` = one event per batch of encounters recorded (API, capture, or
    /// each stored transaction of an import); `follow-ups` = one event per step taken
    /// on a follow-up (`follow_up.assign`, `.contact`, `.resolve`, `.close`, `.reopen`,
    /// `.note`); `cases` = one event per case created or moved (`case.created`,
    /// `case.status_changed`).
    #[serde(default)]
    pub events: Vec<String>,
}

#[derive(Deserialize)]
pub struct UnitFilter {
    #[serde(default)]
    unit_id: Option<Id>,
}

pub fn routes(mut api: Api) -> Api {
    let hook = api.schema::<WebhookInput>();
    let array = crate::api::doc::items(json!({"type": "object"}));
    api.route(
        "/api/v1/workspaces/{ws}/relations/{id}/reviews",
        get(reviews),
        vec![Op::new("get", "customers", "Who reviewed a who-is-my-customer relation, and when (newest first)").ok(200, Some(array.clone()))],
    )
    .route(
        "/api/v1/workspaces/{ws}/notifications",
        get(notifications),
        vec![Op::new("get", "customers", "Notifications to units (reviews due), newest first").query("unit_id", "integer", "Only this unit's").ok(200, Some(array.clone()))],
    )
    .route(
        "/api/v1/workspaces/{ws}/webhooks",
        get(webhooks).post(add_webhook),
        vec![
            Op::new("get", "webhooks", "Webhooks of the workspace (admin; secrets not shown)").ok(200, Some(array)),
            Op::new("post", "webhooks", "Add a webhook; notifications are POSTed to it, signed with HMAC-SHA256 in X-Kohtaamo-Signature (admin)")
                .body(hook)
                .ok(201, Some(json!({"type": "object"}))),
        ],
    )
    .route("/api/v1/workspaces/{ws}/webhooks/{id}", delete(delete_webhook), vec![Op::new("delete", "webhooks", "Remove a webhook (admin)").ok(204, None)])
}

async fn reviews(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
) -> ApiResult<axum::Json<Value>> {
    st.store
        .get::<kohtaamo_domain::model::RelationData>(ws.id, id)
        .await?;
    Ok(axum::Json(
        json!({ "items": st.store.reviews(ws.id, id).await? }),
    ))
}

async fn notifications(
    ws: Ws,
    State(st): State<AppState>,
    Query(q): Query<UnitFilter>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(
        json!({ "items": st.store.notifications(ws.id, q.unit_id).await? }),
    ))
}

async fn webhooks(ws: Ws, State(st): State<AppState>) -> ApiResult<axum::Json<Value>> {
    ws.require_admin()?;
    Ok(axum::Json(
        json!({ "items": st.store.webhooks(ws.id).await? }),
    ))
}

async fn add_webhook(
    ws: Ws,
    State(st): State<AppState>,
    Json(input): Json<WebhookInput>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    ws.require_admin()?;
    // Not into the installation's own network (checked again at every delivery).
    let id = kohtaamo_app::jobs::webhooks::add_webhook(
        &st.store,
        &st.config.webhook_targets,
        ws.id,
        input.url.trim(),
        &input.secret,
        &input.events,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"id": id, "url": input.url.trim()})),
    ))
}

async fn delete_webhook(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
) -> ApiResult<StatusCode> {
    ws.require_admin()?;
    st.store.delete_webhook(ws.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
