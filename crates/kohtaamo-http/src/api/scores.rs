//! `/api/v1/workspaces/{ws}/scores`: NPS, CSAT, CES and the experience index per scope
//! for a period beside the previous one (`kohtaamo_app::analysis`); `…/scores/weekly`
//! (trends), `…/weakest` (the weakest encounter of each journey), `…/alerts`,
//! `…/journeys/{id}/drivers`.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::routing::get;
use kohtaamo_app::analysis::{
    journey_drivers, score_table, trend, weakest_encounters, Analysis, DriverRow, Grain,
    ScoreTable, WeakestEncounter, Week,
};
use kohtaamo_app::i18n::I18n;
use kohtaamo_domain::analytics::Scope;
use kohtaamo_domain::{FieldErrors, Id, Reason};

use super::doc::{Api, Op};
use crate::auth::Ws;
use crate::error::{ApiError, ApiResult};
use crate::extract::Query;
use crate::params::{parse_group, period};
use crate::AppState;

async fn weekly_scores(
    ws: Ws,
    State(st): State<AppState>,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<axum::Json<Vec<Week>>> {
    let (_, from, to) = period(&q, st.clock.today())?;
    let grain = match q.get("grain").filter(|g| !g.is_empty()) {
        None => Grain::Week,
        Some(g) => Grain::parse(g).map_err(|r| {
            let mut e = FieldErrors::new();
            e.add("grain", r);
            ApiError::Invalid(e)
        })?,
    };
    if q.contains_key("key") {
        let i = I18n::new("en", "en");
        let an = Analysis::load(&st.store, ws.id, &i).await?;
        let (scope, key, _) = parse_group(&q, &an.scopes)?;
        let only = Some((&an.scopes, scope, &key));
        return Ok(axum::Json(
            trend(&st.store, ws.id, from, to, grain, only).await?,
        ));
    }
    Ok(axum::Json(
        trend(&st.store, ws.id, from, to, grain, None).await?,
    ))
}

async fn drivers(
    ws: Ws,
    State(st): State<AppState>,
    crate::extract::Path((_, journey)): crate::extract::Path<(String, Id)>,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<axum::Json<Vec<DriverRow>>> {
    let (_, from, to) = period(&q, st.clock.today())?;
    st.store
        .get::<kohtaamo_domain::model::JourneyData>(ws.id, journey)
        .await?;
    let i = I18n::new("en", "en");
    let mut all = journey_drivers(&st.store, ws.id, from, to, &i).await?;
    Ok(axum::Json(all.remove(&journey).unwrap_or_default()))
}

async fn alerts(
    ws: Ws,
    State(st): State<AppState>,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let mut e = FieldErrors::new();
    let mut id = |k: &str| {
        q.get(k).filter(|s| !s.is_empty()).and_then(|s| {
            e.take(
                k,
                s.parse::<Id>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| Reason::new("positive-id")),
            )
        })
    };
    let unit = id("unit_id");
    let rule = id("rule_id");
    if !e.is_empty() {
        return Err(ApiError::Invalid(e));
    }
    let items = st.store.alerts(ws.id, unit, rule, 500).await?;
    Ok(axum::Json(serde_json::json!({ "items": items })))
}

pub fn routes(mut api: Api) -> Api {
    let alert = api.schema::<kohtaamo_storage::alerts::Alert>();
    let api = api.route(
        "/api/v1/workspaces/{ws}/alerts",
        get(alerts),
        vec![Op::new("get", "analytics", "Score alerts raised by the alert rules, newest first (at most 500)")
            .query("unit_id", "integer", "Only alerts to this unit")
            .query("rule_id", "integer", "Only alerts of this rule")
            .ok(200, Some(serde_json::json!({"type": "object", "properties": {"items": {"type": "array", "items": alert}}})))],
    );
    let mut api = api;
    let table = api.schema::<ScoreTable>();
    let driver = api.schema::<DriverRow>();
    let mut api = api.route(
        "/api/v1/workspaces/{ws}/journeys/{id}/drivers",
        get(drivers),
        vec![Op::new("get", "analytics", "Each touchpoint's impact on the journey NPS (correlation over cases with both answers) and its performance")
            .query("from", "string", "First day, YYYY-MM-DD (default: 90 days ago)")
            .query("to", "string", "Last day, YYYY-MM-DD (default: today)")
            .ok(200, Some(serde_json::json!({"type": "array", "items": driver})))],
    );
    let week = api.schema::<Week>();
    let mut api = api.route(
        "/api/v1/workspaces/{ws}/scores/weekly",
        get(weekly_scores),
        vec![Op::new(
            "get",
            "analytics",
            "NPS, CSAT and CES per week (from Monday), day or month: of the whole workspace, or of one group (`by` and `key`)",
        )
        .query_one_of("grain", ["week", "day", "month"], "week (default), day or month")
        .query_one_of(
            "by",
            Scope::ALL.iter().map(|s| s.as_str()),
            "With `key`: the scope of one group",
        )
        .query("key", "string", "With `by`: the group's key")
        .query(
            "from",
            "string",
            "First day, YYYY-MM-DD (default: 90 days ago)",
        )
        .query("to", "string", "Last day, YYYY-MM-DD (default: today)")
        .ok(
            200,
            Some(serde_json::json!({"type": "array", "items": week})),
        )],
    );
    let overview = api.schema::<kohtaamo_app::overview::Overview>();
    let mut api = api.route(
        "/api/v1/workspaces/{ws}/overview",
        get(overview_of),
        vec![Op::new("get", "analytics", "The leaders' overview of the last 90 days (the workspace home's figures): experience index beside the 90 days before and by month, the weakest encounter of each journey, what moved, recent alerts, how well units know their customers")
            .ok(200, Some(overview))],
    );
    let weak = api.schema::<WeakestEncounter>();
    let api = api.route(
        "/api/v1/workspaces/{ws}/weakest",
        get(weakest),
        vec![Op::new("get", "analytics", "The weakest encounter of each journey by the experience index: one touchpoint when it is significantly lowest, else those tied for it (docs/metrics.md)")
            .query("from", "string", "First day, YYYY-MM-DD (default: 90 days ago)")
            .query("to", "string", "Last day, YYYY-MM-DD (default: today)")
            .ok(200, Some(serde_json::json!({"type": "object", "required": ["from", "to", "items"], "properties": {"from": {"type": "string"}, "to": {"type": "string"}, "items": {"type": "array", "items": weak}}})))],
    );
    api.route(
        "/api/v1/workspaces/{ws}/scores",
        get(scores),
        vec![Op::new("get", "analytics", "NPS, CSAT and CES per scope for a period and the one before (formulas in docs/metrics.md)")
            .query_one_of("by", Scope::ALL.iter().map(|s| s.as_str()), "What to group by (default: touchpoint)")
            .query("from", "string", "First day, YYYY-MM-DD (default: 90 days ago)")
            .query("to", "string", "Last day, YYYY-MM-DD (default: today)")
            .ok(200, Some(table))],
    )
}

async fn overview_of(
    ws: Ws,
    State(st): State<AppState>,
) -> ApiResult<axum::Json<kohtaamo_app::overview::Overview>> {
    let i = I18n::new("en", "en");
    Ok(axum::Json(
        kohtaamo_app::overview::Overview::load(&st.store, ws.id, st.clock.today(), &i).await?,
    ))
}

async fn weakest(
    ws: Ws,
    State(st): State<AppState>,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let (_, from, to) = period(&q, st.clock.today())?;
    let i = I18n::new("en", "en");
    let items = weakest_encounters(&st.store, ws.id, (from, to), &i).await?;
    Ok(axum::Json(serde_json::json!({
        "from": from.to_string(),
        "to": to.to_string(),
        "items": items,
    })))
}

async fn scores(
    ws: Ws,
    State(st): State<AppState>,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<axum::Json<ScoreTable>> {
    let (scope, from, to) = period(&q, st.clock.today())?;
    let i = I18n::new("en", "en");
    Ok(axum::Json(
        score_table(&st.store, ws.id, scope, from, to, &i).await?,
    ))
}
