//! `/api/v1/workspaces/{ws}/follow-ups…`: the follow-ups rules opened, and what people
//! do to them. The rules themselves are a plain collection (`/follow-up-rules`, in
//! [`crate::api::model`]).

use axum::extract::State;
use axum::routing::{get, post};
use kohtaamo_app::followups as fu;
use kohtaamo_domain::followups::{Action, Status, ROOT_CAUSES};
use kohtaamo_domain::{FieldErrors, Id, Reason};
use kohtaamo_storage::followups::{Act, FollowUp, FollowUpEvent, FollowUpFilter};
use kohtaamo_storage::privacy::Actor;
use serde::{Deserialize, Serialize};
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
    status: Option<String>,
    #[serde(default)]
    open: Option<bool>,
    #[serde(default)]
    unit_id: Option<Id>,
    #[serde(default)]
    assignee_id: Option<Id>,
    #[serde(default)]
    mine: Option<bool>,
    #[serde(default)]
    customer: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
}

/// Something done to a follow-up.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActInput {
    /// assign, contact, wait (for the customer: both clocks stop), resume (they run
    /// again), resolve, close, reopen or note.
    pub action: String,
    /// assign: the member who takes it.
    #[serde(default)]
    pub assignee_id: Option<Id>,
    /// close: one of the root causes (`GET …/root-causes`).
    #[serde(default)]
    pub root_cause: Option<String>,
    /// close: what was done.
    #[serde(default)]
    pub action_taken: Option<String>,
    /// note: the text; wait: what the customer was asked (optional).
    #[serde(default)]
    pub note: Option<String>,
}

/// A rule applied to a past period.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyInput {
    /// First day, YYYY-MM-DD.
    pub from: String,
    /// Last day, YYYY-MM-DD.
    pub to: String,
    /// true (default): only count what would open; false: open them.
    #[serde(default)]
    pub dry_run: Option<bool>,
}

/// A period of days.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodQuery {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

/// A follow-up with what was done to it.
#[derive(Serialize, ToSchema)]
pub struct FollowUpDetail {
    #[serde(flatten)]
    pub follow_up: FollowUp,
    pub events: Vec<FollowUpEvent>,
}

pub fn routes(mut api: Api) -> Api {
    let one = api.schema::<FollowUp>();
    let detail = api.schema::<FollowUpDetail>();
    let act = api.schema::<ActInput>();
    let list = crate::api::doc::items(one.clone());
    let outcomes_schema = api.schema::<kohtaamo_domain::followups::Outcomes>();
    let apply_in = api.schema::<ApplyInput>();
    let applied = api.schema::<fu::Applied>();
    api.route(
        "/api/v1/workspaces/{ws}/follow-ups",
        get(list_follow_ups),
        vec![Op::new("get", "follow-ups", "Follow-ups, open ones first by the target that falls due next")
            .query_one_of("status", ["new", "contacted", "resolved", "closed"], "In this status")
            .query("open", "boolean", "Only new and contacted ones")
            .query("unit_id", "integer", "Of this unit")
            .query("assignee_id", "integer", "Assigned to this member")
            .query("mine", "boolean", "Assigned to me, or unassigned in a unit I work in")
            .query("customer", "string", "Of this customer (the identifier as the response or capture gave it)")
            .query("limit", "integer", "At most this many (1–1000, default 100)")
            .ok(200, Some(list))],
    )
    .route(
        "/api/v1/workspaces/{ws}/follow-ups/{id}",
        get(one_follow_up),
        vec![Op::new("get", "follow-ups", "One follow-up and what was done to it").ok(200, Some(detail))],
    )
    .route(
        "/api/v1/workspaces/{ws}/follow-ups/{id}/actions",
        post(act_on),
        vec![Op::new("post", "follow-ups", "Do something to a follow-up: assign (a member), contact, wait for the customer (both clocks stop until resume, contact, resolve or close; the time waited moves the due times), resume, resolve, close (a root cause and the action taken are required), reopen, or add a note. Editors, and members of the owning unit. A step its status does not allow is refused (422) and changes nothing. Webhooks that opted in to `follow-ups` hear `follow_up.<action>`; the follow-up clock job sends `follow_up.escalated` when a target is missed.")
            .body(act)
            .ok(200, Some(one))],
    )
    .route(
        "/api/v1/workspaces/{ws}/follow-up-rules/{id}/apply",
        post(apply_rule),
        vec![Op::new("post", "follow-ups", "Apply a rule to the responses of a past period: first a preview (`dry_run`, the default) counting the responses it matches and those that already have its follow-up; with `dry_run: false` it opens the rest (opened now, so their clocks start now; never twice). Editors. A capture rule has no past responses (422).")
            .body(apply_in)
            .ok(200, Some(applied))],
    )
    .route(
        "/api/v1/workspaces/{ws}/follow-up-outcomes",
        get(outcomes),
        {
            vec![Op::new("get", "follow-ups", "The outer loop over the follow-ups closed in a period: SLA compliance (first contact, resolution), recovery rate (the recovery answer 4–5, else the customer's next score at any touchpoint) and root causes — overall and per unit, touchpoint, journey, root cause and month (docs/metrics.md)")
                .query("from", "string", "First day, YYYY-MM-DD (default: 89 days before `to`)")
                .query("to", "string", "Last day, YYYY-MM-DD (default: today)")
                .ok(200, Some(outcomes_schema))]
        },
    )
    .route(
        "/api/v1/workspaces/{ws}/root-causes",
        get(root_causes),
        vec![Op::new("get", "follow-ups", "The root causes a follow-up can be closed with")
            .ok(200, Some(crate::api::doc::items(json!({"type": "string"}))))],
    )
}

async fn list_follow_ups(
    ws: Ws,
    State(st): State<AppState>,
    Query(q): Query<ListQuery>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let mut e = FieldErrors::new();
    let status = q
        .status
        .as_deref()
        .and_then(|s| e.take("status", Status::parse(s)));
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        e.add(
            "limit",
            Reason::new("score-range").with("min", 1).with("max", 1000),
        );
    }
    if !e.is_empty() {
        return Err(ApiError::Invalid(e));
    }
    let f = FollowUpFilter {
        status,
        open: q.open.unwrap_or(false),
        unit_ids: q.unit_id.map(|u| vec![u]),
        assignee_id: q.assignee_id,
        customer: q.customer.clone(),
        customers: None,
        mine: None,
        limit,
    };
    let items = if q.mine.unwrap_or(false) {
        fu::mine(&st.store, ws.id, ws.user.id, &f).await?
    } else {
        fu::list(&st.store, ws.id, &f).await?
    };
    Ok(axum::Json(json!({ "items": items })))
}

async fn one_follow_up(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
) -> ApiResult<axum::Json<FollowUpDetail>> {
    let (follow_up, events) = fu::get(&st.store, ws.id, id, &Actor::user(ws.user.id)).await?;
    Ok(axum::Json(FollowUpDetail { follow_up, events }))
}

async fn act_on(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    Json(input): Json<ActInput>,
) -> ApiResult<axum::Json<FollowUp>> {
    let action = Action::parse(input.action.trim()).map_err(|r| {
        let mut e = FieldErrors::new();
        e.add("action", r);
        ApiError::Invalid(e)
    })?;
    let act = Act {
        action,
        assignee_id: input.assignee_id,
        root_cause: input.root_cause,
        action_taken: input.action_taken,
        note: input.note,
        by: format!("user:{}", ws.user.username),
        at: kohtaamo_storage::time_text(st.clock.now()),
        mails: vec![],
    };
    let f = fu::act(&st.hooks, ws.id, id, (ws.user.id, ws.role), &act).await?;
    fu::announce(&st.hooks, ws.id, &ws.slug, action, &f);
    Ok(axum::Json(f))
}

async fn apply_rule(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    Json(input): Json<ApplyInput>,
) -> ApiResult<axum::Json<fu::Applied>> {
    ws.require_edit()?;
    let mut e = FieldErrors::new();
    let from = e.take("from", kohtaamo_domain::rules::parse_day(&input.from));
    let to = e.take("to", kohtaamo_domain::rules::parse_day(&input.to));
    let (Some(from), Some(to)) = (from, to) else {
        return Err(ApiError::Invalid(e));
    };
    Ok(axum::Json(
        fu::apply_rule(
            &st.store,
            ws.id,
            id,
            (from, to),
            input.dry_run.unwrap_or(true),
            st.clock.now(),
        )
        .await?,
    ))
}

async fn outcomes(
    ws: Ws,
    State(st): State<AppState>,
    Query(q): Query<PeriodQuery>,
) -> ApiResult<axum::Json<kohtaamo_domain::followups::Outcomes>> {
    let q: std::collections::BTreeMap<String, String> = [("from", q.from), ("to", q.to)]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
        .collect();
    let (_, from, to) = crate::params::period(&q, st.clock.today())?;
    Ok(axum::Json(
        fu::outcomes(&st.store, ws.id, (from, to)).await?,
    ))
}

async fn root_causes(_ws: Ws) -> axum::Json<serde_json::Value> {
    axum::Json(json!({ "items": ROOT_CAUSES }))
}
