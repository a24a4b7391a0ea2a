//! `/api/v1/workspaces/{ws}/cases…` and `…/journeys/{id}/case-steps`: cases that
//! back-office systems and staff create and move, the steps their customers see, and
//! the links to the customers' status pages (`/s/{token}`, served by the pages).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use kohtaamo_app::cases as cs;
use kohtaamo_app::encounters::Recorder;
use kohtaamo_domain::cases::{CaseInput, StatusInput, Step, StepsInput};
use kohtaamo_domain::{FieldErrors, Id, Reason};
use kohtaamo_storage::cases::{Case, CaseFilter};
use kohtaamo_storage::privacy::Actor;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::api::{Api, Op};
use crate::auth::Ws;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::AppState;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    journey_id: Option<Id>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    unit_id: Option<Id>,
    #[serde(default)]
    customer: Option<String>,
    #[serde(default)]
    before: Option<Id>,
    #[serde(default)]
    limit: Option<i64>,
}

/// An address for e-mail on the case's step changes.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionInput {
    /// The customer's e-mail address, given with their consent.
    pub email: String,
}

/// A workspace's status page settings.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CaseSettingsInput {
    /// What the look-up form asks for beside the case reference, per language (fi,
    /// en, sv; at most 60 characters each); empty or none: the default ("Postcode or
    /// surname").
    #[serde(default)]
    pub verifier_label: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AnalyticsQuery {
    #[serde(default)]
    days: Option<i64>,
}

/// A new status-page link.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
#[schema(as = StatusLinkInput)]
pub struct LinkInput {
    /// How long the link works, in days (1–730, default 180).
    #[serde(default)]
    pub days: Option<i64>,
}

pub fn routes(mut api: Api) -> Api {
    let case = api.schema::<Case>();
    let detail = api.schema::<cs::CaseDetail>();
    let case_in = api.schema::<CaseInput>();
    let status_in = api.schema::<StatusInput>();
    let steps_in = api.schema::<StepsInput>();
    let step = api.schema::<Step>();
    let link_in = api.schema::<LinkInput>();
    let issued = api.schema::<cs::IssuedLink>();
    let sub_in = api.schema::<SubscriptionInput>();
    let sub = api.schema::<kohtaamo_storage::cases::Subscription>();
    let settings_in = api.schema::<CaseSettingsInput>();
    let analytics = api.schema::<cs::Analytics>();
    api.route(
        "/api/v1/workspaces/{ws}/journeys/{id}/case-steps",
        get(get_steps).put(put_steps),
        vec![
            Op::new("get", "cases", "The steps a case on this journey shows its customer, in order (the last one means done)")
                .ok(200, Some(crate::api::doc::items(step.clone()))),
            Op::new("put", "cases", "Replace the journey's customer-facing steps (editors): each with its names per language, what it means, what happens next, an expected duration and the internal statuses it covers (each status in one step). Every bad field is named `steps[i].field`; nothing is stored then.")
                .body(steps_in)
                .ok(200, Some(crate::api::doc::items(step))),
        ],
    )
    .route(
        "/api/v1/workspaces/{ws}/journeys/{id}/case-analytics",
        get(get_analytics),
        vec![Op::new("get", "cases", "The journey's cases step by step (see docs/metrics.md, \"Case analytics\"): entries, days in step (median, 90th percentile) against the expected days, cases in each step now and overdue (per unit), status page opens per change in the days before and after, and the closing answers of done cases that waited past each step's expected time against those that did not, with the step whose waiting lowers the score most")
            .query("days", "integer", "Cases opened in the last this many days (1–3660, default 180)")
            .ok(200, Some(analytics))],
    )
    .route(
        "/api/v1/workspaces/{ws}/case-settings",
        get(get_settings).put(put_settings),
        vec![
            Op::new("get", "cases", "The workspace's status page settings").ok(200, Some(json!({"type": "object", "properties": {"verifier_label": {"type": "object", "additionalProperties": {"type": "string"}}}}))),
            Op::new("put", "cases", "Set what the look-up form asks for beside the reference (editors)")
                .body(settings_in)
                .ok(200, Some(json!({"type": "object", "properties": {"verifier_label": {"type": "object", "additionalProperties": {"type": "string"}}}}))),
        ],
    )
    .route(
        "/api/v1/workspaces/{ws}/cases/{id}/subscriptions",
        post(add_subscription),
        vec![Op::new("post", "cases", "E-mail the customer each time the case moves to another step (editors and API tokens; the address given with the customer's consent, which the sender vouches for). A first message goes at once; every message has a one-click unsubscribe link. The same address again renews it. 422 with e-mail off.")
            .body(sub_in)
            .ok(201, Some(sub))],
    )
    .route(
        "/api/v1/workspaces/{ws}/cases",
        get(list_cases).post(create_case),
        vec![
            Op::new("get", "cases", "Cases, newest first")
                .query("journey_id", "integer", "On this journey")
                .query("status", "string", "In this internal status")
                .query("unit_id", "integer", "Handled by this unit")
                .query("customer", "string", "Of this customer (kind:value)")
                .query("before", "integer", "Only cases with a smaller id (the next page)")
                .query("limit", "integer", "At most this many (1–1000, default 100)")
                .ok(200, Some(crate::api::doc::items(case.clone()))),
            Op::new("post", "cases", "Create a case (editors and API tokens): idempotent by `id` — a retry returns the stored case with 200 instead of 201. The status must belong to one of the journey's steps. The case gets a reference its customer can read aloud; its first status is an encounter in the customer's timeline.")
                .body(case_in)
                .ok(201, Some(case.clone()))
                .responds(200, "A retry with the same `id`: the case as stored"),
        ],
    )
    .route(
        "/api/v1/workspaces/{ws}/cases/{id}",
        get(one_case),
        vec![Op::new("get", "cases", "A case with its status changes, the journey's steps, where it stands as its customer sees it, and its links").ok(200, Some(detail))],
    )
    .route(
        "/api/v1/workspaces/{ws}/cases/{id}/status",
        post(change_status),
        vec![Op::new("post", "cases", "Move a case to an internal status (editors and API tokens), with the time it happened: the same status at the same time again changes nothing (200, `changed: false`); an older change joins the history without moving the case back. Each change is an encounter in the customer's timeline.")
            .body(status_in)
            .ok(200, Some(json!({"type": "object", "properties": {"case": case, "changed": {"type": "boolean"}}})))],
    )
    .route(
        "/api/v1/workspaces/{ws}/cases/{id}/links",
        post(issue_link),
        vec![Op::new("post", "cases", "Issue a link to the case's status page (editors): shown once; only its hash is kept. Earlier links stay valid until revoked.")
            .body(link_in)
            .ok(201, Some(issued))],
    )
    .route(
        "/api/v1/workspaces/{ws}/cases/{id}/links/revoke",
        post(revoke_links),
        vec![Op::new("post", "cases", "Revoke every live link to the case's status page (editors)")
            .ok(200, Some(json!({"type": "object", "properties": {"revoked": {"type": "integer"}}})))],
    )
}

fn recorder(ws: &Ws) -> Recorder {
    Recorder::user(&ws.user.username)
}

async fn get_steps(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let steps = cs::steps(&st.store, ws.id, id).await?;
    Ok(axum::Json(json!({ "items": steps })))
}

async fn put_steps(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    Json(input): Json<StepsInput>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let steps = cs::set_steps(&st.store, ws.id, ws.role, id, &input).await?;
    Ok(axum::Json(json!({ "items": steps })))
}

async fn list_cases(
    ws: Ws,
    State(st): State<AppState>,
    Query(q): Query<ListQuery>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let mut e = FieldErrors::new();
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        e.add(
            "limit",
            Reason::new("score-range").with("min", 1).with("max", 1000),
        );
    }
    let status = q
        .status
        .as_deref()
        .and_then(|s| e.take("status", kohtaamo_domain::cases::parse_status(s)));
    if !e.is_empty() {
        return Err(ApiError::Invalid(e));
    }
    let f = CaseFilter {
        journey_id: q.journey_id,
        status,
        customers: None,
        unit_id: q.unit_id,
        before: q.before,
        limit,
    };
    let items = cs::list(&st.store, ws.id, f, q.customer.as_deref()).await?;
    Ok(axum::Json(json!({ "items": items })))
}

async fn create_case(
    ws: Ws,
    State(st): State<AppState>,
    Json(input): Json<CaseInput>,
) -> ApiResult<(StatusCode, axum::Json<Case>)> {
    ws.require_edit()?;
    let (case, created) = cs::create(
        &st.store,
        ws.id,
        &recorder(&ws),
        &input,
        (st.clock.now(), st.mail()),
    )
    .await?;
    if created {
        cs::announce(&st.hooks, ws.id, &ws.slug, "created", &case).await;
    }
    let code = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((code, axum::Json(case)))
}

async fn one_case(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
) -> ApiResult<axum::Json<cs::CaseDetail>> {
    Ok(axum::Json(
        cs::get(&st.store, ws.id, id, &Actor::user(ws.user.id)).await?,
    ))
}

async fn change_status(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    Json(input): Json<StatusInput>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    ws.require_edit()?;
    let (case, changed) = cs::change(
        &st.store,
        ws.id,
        id,
        &recorder(&ws),
        &input,
        (st.clock.now(), st.mail()),
    )
    .await?;
    if changed {
        cs::announce(&st.hooks, ws.id, &ws.slug, "status_changed", &case).await;
    }
    Ok(axum::Json(json!({ "case": case, "changed": changed })))
}

async fn issue_link(
    ws: Ws,
    State(st): State<AppState>,
    headers: HeaderMap,
    Path((_, id)): Path<(String, Id)>,
    Json(input): Json<LinkInput>,
) -> ApiResult<(StatusCode, axum::Json<cs::IssuedLink>)> {
    ws.require_edit()?;
    let base = st.public_base(&headers);
    let issued = cs::issue_link(
        &st.store,
        ws.id,
        id,
        &recorder(&ws),
        input.days,
        (st.clock.now(), &base),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(issued)))
}

async fn revoke_links(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    ws.require_edit()?;
    let n = cs::revoke_links(&st.store, ws.id, id, st.clock.now()).await?;
    Ok(axum::Json(json!({ "revoked": n })))
}

async fn get_analytics(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    Query(q): Query<AnalyticsQuery>,
) -> ApiResult<axum::Json<cs::Analytics>> {
    Ok(axum::Json(
        cs::analytics(
            &st.store,
            &st.case_opens,
            (ws.id, id),
            q.days,
            st.clock.now(),
        )
        .await?,
    ))
}

async fn get_settings(
    ws: Ws,
    State(st): State<AppState>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let label = cs::verifier_label(&st.store, ws.id)
        .await?
        .map(|t| t.raw())
        .unwrap_or_default();
    Ok(axum::Json(json!({ "verifier_label": label })))
}

async fn put_settings(
    ws: Ws,
    State(st): State<AppState>,
    Json(input): Json<CaseSettingsInput>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let label = cs::set_verifier_label(&st.store, ws.id, ws.role, &input.verifier_label)
        .await?
        .map(|t| t.raw())
        .unwrap_or_default();
    Ok(axum::Json(json!({ "verifier_label": label })))
}

async fn add_subscription(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    Json(input): Json<SubscriptionInput>,
) -> ApiResult<(
    StatusCode,
    axum::Json<kohtaamo_storage::cases::Subscription>,
)> {
    ws.require_edit()?;
    let sub = cs::subscribe(
        &st.store,
        ws.id,
        id,
        &recorder(&ws),
        &input.email,
        (st.clock.now(), st.mail()),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(sub)))
}
