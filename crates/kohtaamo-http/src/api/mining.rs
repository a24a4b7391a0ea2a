//! `/api/v1/workspaces/{ws}/journeys/{id}/mining`: the journey customers actually take
//! beside the designed one (`kohtaamo_app::mining`); `…/flow`: its counts from the
//! per-day rollups (`kohtaamo_app::mining_rollups`); `…/mining/events.csv`, `.xes`, `.jsonocel` (the
//! instances as an event log) and `…/journey.pnml` (the designed journey as the Petri
//! net the fitness is computed against).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use kohtaamo_app::event_logs::{self, Format};
use kohtaamo_app::mining::{self as mn, JourneyMining};
use kohtaamo_app::mining_rollups::JourneyFlow;
use kohtaamo_domain::Id;

use super::doc::{Api, Op};
use crate::auth::Ws;
use crate::error::ApiResult;
use crate::extract::{Path, Query};
use crate::params::days;
use crate::AppState;

fn query(st: &AppState, journey: Id, q: &BTreeMap<String, String>) -> ApiResult<mn::Query> {
    let period = days(q, st.clock.today())?;
    Ok(mn::Query::parse(journey, period, q)?)
}

async fn mining(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, journey)): Path<(String, Id)>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: axum::http::HeaderMap,
) -> ApiResult<Response> {
    let q = query(&st, journey, &q)?;
    let lang = crate::i18n::language_for(&headers, None);
    let i = crate::i18n::I18n::new(&lang, "en");
    Ok(
        match mn::mine_within(&st.store, ws.id, &q, &i, Some(st.config.report_wait)).await? {
            Some((_, report)) => axum::Json(report).into_response(),
            None => computing(),
        },
    )
}

/// `202`: the report is being computed; ask again in [`crate::REPORT_RETRY_SECONDS`].
fn computing() -> Response {
    let retry = crate::REPORT_RETRY_SECONDS;
    (
        axum::http::StatusCode::ACCEPTED,
        [(axum::http::header::RETRY_AFTER, retry.to_string())],
        axum::Json(serde_json::json!({
            "status": "computing",
            "retry_after_seconds": retry,
        })),
    )
        .into_response()
}

async fn flow(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, journey)): Path<(String, Id)>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: axum::http::HeaderMap,
) -> ApiResult<Response> {
    let q = query(&st, journey, &q)?;
    let lang = crate::i18n::language_for(&headers, None);
    let i = crate::i18n::I18n::new(&lang, "en");
    let wait = Some(st.config.report_wait);
    Ok(
        match kohtaamo_app::mining_rollups::flow_within(&st.store, ws.id, &q, &i, wait).await? {
            Some(flow) => axum::Json::<JourneyFlow>(flow).into_response(),
            None => computing(),
        },
    )
}

/// The instances as an event log in `format` (audited as `data.export`).
async fn event_log(
    ws: Ws,
    st: AppState,
    journey: Id,
    q: BTreeMap<String, String>,
    format: Format,
) -> ApiResult<Response> {
    let q = query(&st, journey, &q)?;
    let reader = kohtaamo_storage::privacy::Actor::user(ws.user.id);
    let body = event_logs::export(&st.store, ws.id, &q, format, &reader).await?;
    let (media, ext) = format.media();
    Ok((
        [
            (CONTENT_TYPE, media.to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"journey-{journey}-events.{ext}\""),
            ),
        ],
        body,
    )
        .into_response())
}

async fn events_csv(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, journey)): Path<(String, Id)>,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<Response> {
    event_log(ws, st, journey, q, Format::Csv).await
}

async fn events_xes(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, journey)): Path<(String, Id)>,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<Response> {
    event_log(ws, st, journey, q, Format::Xes).await
}

async fn events_ocel(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, journey)): Path<(String, Id)>,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<Response> {
    event_log(ws, st, journey, q, Format::Ocel).await
}

async fn pnml(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, journey)): Path<(String, Id)>,
) -> ApiResult<Response> {
    let (j, _, xml) = mn::pnml(&st.store, ws.id, journey).await?;
    Ok((
        [
            (CONTENT_TYPE, "application/xml; charset=utf-8".to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}.pnml\"", j.slug),
            ),
        ],
        xml,
    )
        .into_response())
}

fn period_ops(op: Op) -> Op {
    op.query("from", "string", "First day, YYYY-MM-DD (default: 90 days ago)")
        .query("to", "string", "Last day, YYYY-MM-DD (default: today); at most 366 days")
        .query_one_of(
            "by",
            ["case", "customer"],
            "An instance is the encounters of one case (default), or of one customer split at pauses longer than `gap_hours`",
        )
        .query("gap_hours", "integer", "Instances by customer: a pause this long (hours, 1–8784, default 168) starts a new instance")
}

pub fn routes(mut api: Api) -> Api {
    let report = api.schema::<JourneyMining>();
    let flow_schema = api.schema::<JourneyFlow>();
    api.route(
        "/api/v1/workspaces/{ws}/journeys/{id}/mining",
        get(mining),
        vec![period_ops(Op::new(
            "get",
            "analytics",
            "Journey mining: the directly-follows graph, variants, stage funnel, token-replay fitness against the designed journey, deviations and real hand-offs, each with the experience scores of its instances (docs/metrics.md)",
        ))
        .query("variants", "integer", "Variants listed, most frequent first (1–1000, default 50)")
        .ok(200, Some(report))
        .responds(202, "Being computed (longer than the server's report wait): `{\"status\": \"computing\"}`; ask again after `Retry-After` seconds. The computation goes on and is kept")],
    )
    .route(
        "/api/v1/workspaces/{ws}/journeys/{id}/flow",
        get(flow),
        vec![period_ops(Op::new(
            "get",
            "analytics",
            "The journey's actual flow from the per-day rollups: directly-follows counts, start and end activities, instances and the stage funnel — the counts of the mining report without times, variants or conformance, fast for any period (docs/metrics.md). Another gap, or more encounters waiting to be applied than a read applies itself, counts from the log instead (`source: log`)",
        ))
        .ok(200, Some(flow_schema))
        .responds(202, "Being counted from the log (longer than the server's report wait): `{\"status\": \"computing\"}`; ask again after `Retry-After` seconds. The count goes on and is kept")],
    )
    .route(
        "/api/v1/workspaces/{ws}/journeys/{id}/mining/events.csv",
        get(events_csv),
        vec![period_ops(Op::new(
            "get",
            "analytics",
            "The journey's instances as a CSV event log (case_id, activity, timestamp, touchpoint, stage, channel, unit, partner, case_ref, customer); audited as data.export",
        ))
        .produces("text/csv")],
    )
    .route(
        "/api/v1/workspaces/{ws}/journeys/{id}/mining/events.xes",
        get(events_xes),
        vec![period_ops(Op::new(
            "get",
            "analytics",
            "The journey's instances as an XES event log (IEEE 1849; concept, time, lifecycle and org extensions; channel, stage, touchpoint, unit and partner as attributes); audited as data.export",
        ))
        .produces("application/xml")],
    )
    .route(
        "/api/v1/workspaces/{ws}/journeys/{id}/mining/events.jsonocel",
        get(events_ocel),
        vec![period_ops(Op::new(
            "get",
            "analytics",
            "The journey's instances as an OCEL 2.0 JSON log (customers and cases as objects, encounters as events); audited as data.export",
        ))
        .ok(
            200,
            Some(serde_json::json!({"type": "object",
                "required": ["eventTypes", "objectTypes", "events", "objects"],
                "properties": {"eventTypes": {"type": "array"}, "objectTypes": {"type": "array"},
                               "events": {"type": "array"}, "objects": {"type": "array"}}})),
        )],
    )
    .route(
        "/api/v1/workspaces/{ws}/journeys/{id}/journey.pnml",
        get(pnml),
        vec![Op::new(
            "get",
            "analytics",
            "The designed journey as a PNML Petri net (initial and final marking), the model token-replay fitness is computed against",
        )
        .produces("application/xml")],
    )
}
