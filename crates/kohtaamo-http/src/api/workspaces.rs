//! `/api/v1/workspaces`: the workspaces a caller belongs to, their settings, members
//! and roles, and the whole model as a YAML document (export and import).

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use kohtaamo_domain::model::{Parse, Role, WorkspaceInput};
use kohtaamo_domain::Id;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::api::{Api, Op};
use crate::auth::{Auth, Ws};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::{AppState, HttpConfig};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberInput {
    pub role: String,
}

#[derive(Deserialize)]
pub struct ImportParams {
    #[serde(default)]
    prune: bool,
}

pub fn routes(mut api: Api, cfg: &HttpConfig) -> Api {
    let input = api.schema::<WorkspaceInput>();
    let output = api.schema::<kohtaamo_domain::model::WorkspaceData>();
    let member = api.schema::<MemberInput>();
    let report = json!({"type": "object", "properties": {
        "workspace": {"type": "string"}, "created": {"type": "integer"}, "updated": {"type": "integer"},
        "unchanged": {"type": "integer"}, "deleted": {"type": "integer"}}});
    api.route(
        "/api/v1/workspaces",
        get(list).post(create),
        vec![
            Op::new(
                "get",
                "workspaces",
                "Workspaces you belong to, with your role",
            )
            .ok(200, Some(crate::api::doc::items(json!({"type": "object"})))),
            Op::new(
                "post",
                "workspaces",
                "Create a workspace (installation admin); you become its admin",
            )
            .body(input.clone())
            .ok(201, Some(output.clone())),
        ],
    )
    .route(
        "/api/v1/workspaces/{ws}",
        get(show).put(update).delete(remove),
        vec![
            Op::new("get", "workspaces", "One workspace").ok(200, Some(output.clone())),
            Op::new(
                "put",
                "workspaces",
                "Change slug, name or default language (admin)",
            )
            .body(input)
            .ok(200, Some(output)),
            Op::new(
                "delete",
                "workspaces",
                "Delete the workspace and its whole model (admin)",
            )
            .ok(204, None),
        ],
    )
    .route(
        "/api/v1/workspaces/{ws}/members",
        get(members),
        vec![Op::new("get", "members", "Members and their roles (admin)")
            .ok(200, Some(crate::api::doc::items(json!({"type": "object"}))))],
    )
    .route(
        "/api/v1/workspaces/{ws}/members/{username}",
        put(set_member).delete(remove_member),
        vec![
            Op::new(
                "put",
                "members",
                "Add a member or change their role: admin, editor or viewer (admin)",
            )
            .body(member)
            .ok(200, Some(json!({"type": "object"}))),
            Op::new("delete", "members", "Remove a member (admin)").ok(204, None),
        ],
    )
    .route(
        "/api/v1/workspaces/{ws}/units/{id}/members",
        get(unit_members),
        vec![Op::new("get", "members", "Who works in a unit (they may review its who-is-my-customer answers and land on its page)")
            .ok(200, Some(crate::api::doc::items(json!({"type": "object", "properties": {"user_id": {"type": "integer"}, "username": {"type": "string"}, "lead": {"type": "boolean"}}}))))],
    )
    .route(
        "/api/v1/workspaces/{ws}/units/{id}/members/{username}",
        put(add_unit_member).delete(remove_unit_member),
        vec![
            Op::new(
                "put",
                "members",
                "Put a workspace member in a unit, as its lead with ?lead=true (told when the unit's follow-ups miss their targets); a user may work in several units; putting them again sets only the lead flag (admin)",
            )
            .query("lead", "boolean", "The unit's lead (default false)")
            .ok(204, None)
            .responds(422, "The user is not a member of the workspace"),
            Op::new("delete", "members", "Take a user out of a unit (admin)").ok(204, None),
        ],
    )
    .route(
        "/api/v1/workspaces/{ws}/model",
        get(export)
            .put(import)
            .layer(DefaultBodyLimit::max(cfg.import_limit)),
        vec![
            Op::new(
                "get",
                "model",
                "The whole model as a YAML document (see docs/model-format.md)",
            )
            .yaml_response(),
            Op::new(
                "put",
                "model",
                "Import a YAML model document into this workspace, transactionally (editor)",
            )
            .yaml_body()
            .query(
                "prune",
                "boolean",
                "Also delete model records the document does not mention",
            )
            .ok(200, Some(report)),
        ],
    )
}

fn ws_json(w: &kohtaamo_storage::auth::Workspace, role: Role) -> Value {
    json!({"id": w.id, "slug": w.data.slug, "name": w.data.name, "default_language": w.data.default_language, "role": role})
}

async fn list(auth: Auth, State(st): State<AppState>) -> ApiResult<axum::Json<Value>> {
    let items: Vec<Value> = st
        .store
        .workspaces_for(&auth.user)
        .await?
        .iter()
        .map(|(w, r)| ws_json(w, *r))
        .collect();
    Ok(axum::Json(json!({ "items": items })))
}

async fn create(
    auth: Auth,
    State(st): State<AppState>,
    Json(input): Json<WorkspaceInput>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let id = kohtaamo_app::accounts::create_workspace(&st.store, &auth.user, &input).await?;
    let data = input.parse()?;
    let w = kohtaamo_storage::auth::Workspace { id, data };
    Ok((StatusCode::CREATED, axum::Json(ws_json(&w, Role::Admin))))
}

async fn show(ws: Ws, State(st): State<AppState>) -> ApiResult<axum::Json<Value>> {
    let w = st
        .store
        .workspace_by_slug(&ws.slug)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(axum::Json(ws_json(&w, ws.role)))
}

async fn update(
    ws: Ws,
    State(st): State<AppState>,
    Json(input): Json<WorkspaceInput>,
) -> ApiResult<axum::Json<Value>> {
    ws.require_admin()?;
    let data = input.parse()?;
    st.store.update_workspace(ws.id, &data).await?;
    Ok(axum::Json(ws_json(
        &kohtaamo_storage::auth::Workspace { id: ws.id, data },
        ws.role,
    )))
}

async fn remove(ws: Ws, State(st): State<AppState>) -> ApiResult<StatusCode> {
    ws.require_admin()?;
    st.store.delete_workspace(ws.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn members(ws: Ws, State(st): State<AppState>) -> ApiResult<axum::Json<Value>> {
    ws.require_admin()?;
    Ok(axum::Json(
        json!({ "items": st.store.members(ws.id).await? }),
    ))
}

async fn set_member(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, username)): Path<(String, String)>,
    Json(input): Json<MemberInput>,
) -> ApiResult<axum::Json<Value>> {
    ws.require_admin()?;
    let role = Role::parse(&input.role).map_err(|e| ApiError::invalid("role", e))?;
    let user = st
        .store
        .user_by_name(&username)
        .await?
        .ok_or(ApiError::NotFound)?;
    st.store.set_member(ws.id, user.id, role).await?;
    Ok(axum::Json(
        json!({"user_id": user.id, "username": user.username, "role": role}),
    ))
}

async fn unit_members(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, unit)): Path<(String, Id)>,
) -> ApiResult<axum::Json<Value>> {
    st.store
        .get::<kohtaamo_domain::model::UnitData>(ws.id, unit)
        .await?;
    Ok(axum::Json(
        json!({ "items": kohtaamo_app::units::members(&st.store, ws.id, unit).await? }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnitMemberParams {
    #[serde(default)]
    lead: bool,
}

async fn add_unit_member(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, unit, username)): Path<(String, Id, String)>,
    Query(p): Query<UnitMemberParams>,
) -> ApiResult<StatusCode> {
    kohtaamo_app::units::add_member(&st.store, ws.id, unit, &username, p.lead, ws.role).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_unit_member(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, unit, username)): Path<(String, Id, String)>,
) -> ApiResult<StatusCode> {
    kohtaamo_app::units::remove_member(&st.store, ws.id, unit, &username, ws.role).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_member(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, username)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    ws.require_admin()?;
    let user = st
        .store
        .user_by_name(&username)
        .await?
        .ok_or(ApiError::NotFound)?;
    st.store.remove_member(ws.id, user.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn export(ws: Ws, State(st): State<AppState>) -> ApiResult<Response> {
    let yaml = kohtaamo_app::model::export_yaml(&st.store, &ws.slug).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/yaml; charset=utf-8")],
        yaml,
    )
        .into_response())
}

async fn import(
    ws: Ws,
    State(st): State<AppState>,
    Query(params): Query<ImportParams>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<axum::Json<Value>> {
    ws.require_edit()?;
    let who = if ws.role.is_admin() {
        kohtaamo_app::model::Importer::Admin
    } else {
        kohtaamo_app::model::Importer::Editor
    };
    let body = body.map_err(|r| ApiError::Rejected(r.status(), r.body_text()))?;
    let text = std::str::from_utf8(&body).map_err(|_| {
        ApiError::Rejected(
            StatusCode::BAD_REQUEST,
            "the document is not UTF-8 text".into(),
        )
    })?;
    let report =
        kohtaamo_app::model::import_yaml(&st.store, text, Some(&ws.slug), params.prune, who)
            .await?;
    Ok(axum::Json(json!(report)))
}
