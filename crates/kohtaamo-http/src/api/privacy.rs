//! `/api/v1/workspaces/{ws}/privacy/…`: a person's data found and exported, erased
//! (with a preview), the register of personal data, the deletion ledger, and the
//! audit chain's check. Identifiers travel in request bodies, never in URLs, so they
//! stay out of access logs.

use axum::extract::State;
use axum::routing::{get, post};
use kohtaamo_app::privacy::{self as pv, SubjectInput};
use kohtaamo_storage::privacy::Actor;
use serde_json::json;

use crate::api::{Api, Op};
use crate::auth::Ws;
use crate::error::ApiResult;
use crate::extract::Json;
use crate::AppState;

pub fn routes(mut api: Api) -> Api {
    let subject = api.schema::<SubjectInput>();
    let export = api.schema::<pv::SubjectExport>();
    let erasure = api.schema::<kohtaamo_storage::privacy::Erasure>();
    let table = api.schema::<pv::RegisterTable>();
    let entry = api.schema::<kohtaamo_storage::privacy::LedgerEntry>();
    let check = api.schema::<pv::ChainCheck>();
    api.route(
        "/api/v1/workspaces/{ws}/privacy/export",
        post(export_subject),
        vec![Op::new("post", "privacy", "Everything held about one person (privacy officers and admins): found by any of their identifiers or case references (and every customer linked to them), every declared column of every table of customers' data, and the consents they gave. Audited as `privacy.export` under a keyed hash of the person.")
            .body(subject.clone())
            .ok(200, Some(export))],
    )
    .route(
        "/api/v1/workspaces/{ws}/privacy/erase/preview",
        post(preview_erasure),
        vec![Op::new("post", "privacy", "What erasing the person would remove, table by table, and the free text elsewhere that names them (for review): the erasure run and rolled back, so the counts are exact. Changes nothing; audited as `privacy.preview`.")
            .body(subject.clone())
            .ok(200, Some(erasure.clone()))],
    )
    .route(
        "/api/v1/workspaces/{ws}/privacy/erase",
        post(erase_subject),
        vec![Op::new("post", "privacy", "Erase everything held about the person in one transaction (privacy officers and admins): score and encounter rollups are corrected in it, the erasure goes to the deletion ledger (keyed hashes, never the identifiers) and the audit trail, and on SQLite the freed bytes are overwritten and the WAL truncated. Free text elsewhere that names the person is listed in `review`, not changed. Erasing again removes nothing.")
            .body(subject)
            .ok(200, Some(erasure))],
    )
    .route(
        "/api/v1/workspaces/{ws}/privacy/register",
        get(get_register),
        vec![Op::new("get", "privacy", "The register of personal data: every table, whose data it holds, and for tables of people's data every column and what it holds")
            .ok(200, Some(crate::api::doc::items(table)))],
    )
    .route(
        "/api/v1/workspaces/{ws}/privacy/ledger",
        get(get_ledger),
        vec![Op::new("get", "privacy", "The deletion ledger (privacy officers and admins): each erasure's keyed hashes, counts, who and when")
            .ok(200, Some(crate::api::doc::items(entry)))],
    )
    .route(
        "/api/v1/workspaces/{ws}/audit/verify",
        get(verify_audit),
        vec![Op::new("get", "privacy", "Check the workspace's audit chain (privacy officers and admins): every entry's hash over the previous one and its fields, and the chain's stored head")
            .ok(200, Some(check))],
    )
}

fn actor(ws: &Ws) -> Actor {
    Actor::user(ws.user.id)
}

async fn export_subject(
    ws: Ws,
    State(st): State<AppState>,
    Json(input): Json<SubjectInput>,
) -> ApiResult<axum::Json<pv::SubjectExport>> {
    Ok(axum::Json(
        pv::export(&st.store, ws.id, (&actor(&ws), ws.role), &input).await?,
    ))
}

async fn preview_erasure(
    ws: Ws,
    State(st): State<AppState>,
    Json(input): Json<SubjectInput>,
) -> ApiResult<axum::Json<kohtaamo_storage::privacy::Erasure>> {
    Ok(axum::Json(
        pv::erase(&st.store, ws.id, (&actor(&ws), ws.role), &input, true).await?,
    ))
}

async fn erase_subject(
    ws: Ws,
    State(st): State<AppState>,
    Json(input): Json<SubjectInput>,
) -> ApiResult<axum::Json<kohtaamo_storage::privacy::Erasure>> {
    Ok(axum::Json(
        pv::erase(&st.store, ws.id, (&actor(&ws), ws.role), &input, false).await?,
    ))
}

async fn get_register(_ws: Ws) -> ApiResult<axum::Json<serde_json::Value>> {
    Ok(axum::Json(json!({ "items": pv::register() })))
}

async fn get_ledger(
    ws: Ws,
    State(st): State<AppState>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let items = pv::ledger(&st.store, ws.id, ws.role).await?;
    Ok(axum::Json(json!({ "items": items })))
}

async fn verify_audit(ws: Ws, State(st): State<AppState>) -> ApiResult<axum::Json<pv::ChainCheck>> {
    Ok(axum::Json(
        pv::verify_audit(&st.store, ws.id, ws.role).await?,
    ))
}
