//! `/api/v1/workspaces/{ws}/…`: create, read, update, delete and list every entity of
//! the model. One generic set of handlers serves them all
//! (`kohtaamo_app::model::Collection`); each entity contributes its path, input type
//! and filters.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use kohtaamo_domain::model::*;
use kohtaamo_domain::{FieldErrors, Id};
use kohtaamo_storage::{ListQuery, Page, Record};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use kohtaamo_app::model::Collection;

use super::doc::{Api, Op};
use crate::auth::Ws;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::AppState;

pub const MAX_LIMIT: i64 = 500;
pub const DEFAULT_LIMIT: i64 = 50;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderInput {
    /// Every child id, in the new order.
    pub ids: Vec<Id>,
}

pub fn routes(api: Api) -> Api {
    let api = resource::<UnitData>(api);
    let api = resource::<PersonData>(api);
    let api = resource::<PartnerData>(api);
    let api = resource::<SegmentData>(api);
    let api = resource::<RelationData>(api);
    let api = resource::<ChannelData>(api);
    let api = resource::<ElementData>(api);
    let api = resource::<PackageData>(api);
    let api = resource::<JourneyData>(api);
    let api = resource::<StageData>(api);
    let api = resource::<TouchpointData>(api);
    let api = resource::<ProcessStepData>(api);
    let api = resource::<kohtaamo_domain::survey::SurveyData>(api);
    let api = resource::<kohtaamo_domain::alerts::AlertRuleData>(api);
    let mut api = resource::<kohtaamo_domain::followups::FollowUpRuleData>(api);
    let order = api.schema::<OrderInput>();
    let relation = api.schema::<RelationData>();
    api.route(
        "/api/v1/workspaces/{ws}/journeys/{id}/stage-order",
        put(reorder::<StageData>),
        vec![Op::new(
            "put",
            "journeys",
            "Reorder the stages of a journey (list every stage id once)",
        )
        .body(order.clone())
        .ok(204, None)],
    )
    .route(
        "/api/v1/workspaces/{ws}/stages/{id}/touchpoint-order",
        put(reorder::<TouchpointData>),
        vec![Op::new(
            "put",
            "journeys",
            "Reorder the touchpoints of a stage (list every touchpoint id once)",
        )
        .body(order)
        .ok(204, None)],
    )
    .route(
        "/api/v1/workspaces/{ws}/relations/{id}/review",
        post(mark_reviewed),
        vec![Op::new(
            "post",
            "customers",
            "Mark a who-is-my-customer relation reviewed today",
        )
        .ok(200, Some(relation))],
    )
}

fn record_schema(data: serde_json::Value) -> serde_json::Value {
    json!({"allOf": [data, {"type": "object", "required": ["id"], "properties": {
        "id": {"type": "integer"},
        "position": {"type": "integer", "description": "Order within the parent (stages, touchpoints)"}
    }}]})
}

fn resource<R: Collection>(mut api: Api) -> Api {
    let input = api.schema::<R::Input>();
    let data = api.schema::<R>();
    let rec = record_schema(data);
    let page = json!({"type": "object", "required": ["items", "total", "limit", "offset"], "properties": {
        "items": {"type": "array", "items": rec}, "total": {"type": "integer"},
        "limit": {"type": "integer"}, "offset": {"type": "integer"}}});
    let noun = R::NOUN;
    let mut list_op = Op::new("get", R::TAG, format!("List {noun}s"))
        .ok(200, Some(page))
        .query("limit", "integer", "Page size, 1–500 (default 50)")
        .query("offset", "integer", "Items to skip (default 0)")
        .query("q", "string", "Case-insensitive text search");
    for f in R::FILTERS {
        list_op = list_op.query(f.param, "string", "Filter");
    }
    let base = format!("/api/v1/workspaces/{{ws}}/{}", R::PATH);
    api.route(
        &base,
        get(list::<R>).post(create::<R>),
        vec![
            list_op,
            Op::new("post", R::TAG, format!("Create a {noun}"))
                .body(input.clone())
                .ok(201, Some(rec.clone())),
        ],
    )
    .route(
        &format!("{base}/{{id}}"),
        get(show::<R>).put(update::<R>).delete(remove::<R>),
        vec![
            Op::new("get", R::TAG, format!("One {noun}")).ok(200, Some(rec.clone())),
            Op::new("put", R::TAG, format!("Replace a {noun}"))
                .body(input)
                .ok(200, Some(rec)),
            Op::new(
                "delete",
                R::TAG,
                format!("Delete a {noun} (409 while other records refer to it)"),
            )
            .ok(204, None),
        ],
    )
}

/// Splits list parameters into paging, search and entity filters.
fn list_query(mut params: BTreeMap<String, String>) -> ApiResult<ListQuery> {
    let mut e = FieldErrors::new();
    let mut num = |name: &str, default: i64, min: i64, max: i64| match params.remove(name) {
        None => default,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => n,
            _ => {
                e.add(name, format!("must be an integer from {min} to {max}"));
                default
            }
        },
    };
    let limit = num("limit", DEFAULT_LIMIT, 1, MAX_LIMIT);
    let offset = num("offset", 0, 0, i64::MAX / 2);
    if !e.is_empty() {
        return Err(ApiError::Invalid(e));
    }
    let q = params.remove("q");
    Ok(ListQuery {
        limit,
        offset,
        q,
        filters: params.into_iter().collect(),
    })
}

async fn list<R: Collection>(
    ws: Ws,
    State(st): State<AppState>,
    Query(params): Query<BTreeMap<String, String>>,
) -> ApiResult<axum::Json<Page<Record<R>>>> {
    let q = list_query(params)?;
    Ok(axum::Json(st.store.list::<R>(ws.id, &q).await?))
}

async fn show<R: Collection>(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
) -> ApiResult<axum::Json<Record<R>>> {
    Ok(axum::Json(st.store.get::<R>(ws.id, id).await?))
}

async fn create<R: Collection>(
    ws: Ws,
    State(st): State<AppState>,
    Json(input): Json<R::Input>,
) -> ApiResult<(StatusCode, axum::Json<Record<R>>)> {
    ws.require_edit()?;
    let data = input.parse()?;
    Ok((
        StatusCode::CREATED,
        axum::Json(st.store.create(ws.id, &data).await?),
    ))
}

async fn update<R: Collection>(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    Json(input): Json<R::Input>,
) -> ApiResult<axum::Json<Record<R>>> {
    ws.require_edit()?;
    let data = input.parse()?;
    Ok(axum::Json(
        kohtaamo_app::model::update(&st.store, ws.id, id, &data).await?,
    ))
}

async fn remove<R: Collection>(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
) -> ApiResult<StatusCode> {
    ws.require_edit()?;
    st.store.delete::<R>(ws.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn reorder<R: Collection>(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, parent)): Path<(String, Id)>,
    Json(input): Json<OrderInput>,
) -> ApiResult<StatusCode> {
    ws.require_edit()?;
    st.store.reorder::<R>(ws.id, parent, &input.ids).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn mark_reviewed(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
) -> ApiResult<axum::Json<Record<RelationData>>> {
    // Editors, admins and members of the providing unit; recorded with who and when
    // in the relation's review history.
    let rec = kohtaamo_app::units::review(
        &st.store,
        ws.id,
        id,
        (ws.user.id, ws.role),
        st.clock.today(),
    )
    .await?;
    Ok(axum::Json(rec))
}
