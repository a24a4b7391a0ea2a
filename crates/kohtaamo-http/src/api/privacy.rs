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

/// `GET/PUT …/privacy/retention`, `GET …/privacy/retention/preview`,
/// `POST …/privacy/withdraw`, `GET …/privacy/records`.
pub fn more_routes(mut api: Api) -> Api {
    let view = api.schema::<kohtaamo_app::retention::RetentionView>();
    let input = api.schema::<kohtaamo_app::retention::RetentionInput>();
    let preview = api.schema::<kohtaamo_app::retention::RetentionPreview>();
    let subject = api.schema::<SubjectInput>();
    let withdrawal = api.schema::<kohtaamo_storage::privacy::Withdrawal>();
    let records = api.schema::<pv::Records>();
    api.route(
        "/api/v1/workspaces/{ws}/privacy/retention",
        get(get_retention).put(put_retention),
        vec![
            Op::new("get", "privacy", "How long each kind of data is kept: the workspace's own rules and the defaults (docs/PRIVACY.md)")
                .ok(200, Some(crate::api::doc::items(view.clone()))),
            Op::new("put", "privacy", "Set some retention rules (privacy officers and admins): each kind with its days (null: kept) and action; every bad field is named `[i].field` and nothing is stored then. Audited.")
                .body(json!({"type": "array", "items": input}))
                .ok(200, Some(crate::api::doc::items(view))),
        ],
    )
    .route(
        "/api/v1/workspaces/{ws}/privacy/retention/preview",
        get(get_preview),
        vec![Op::new("get", "privacy", "What the next retention run would delete or anonymise, kind by kind, and the cutoff time (privacy officers and admins)")
            .ok(200, Some(crate::api::doc::items(preview)))],
    )
    .route(
        "/api/v1/workspaces/{ws}/privacy/withdraw",
        post(withdraw),
        vec![Op::new("post", "privacy", "Withdraw every consent the person gave and stop contacting them at once (privacy officers and admins): queued e-mail to them cancelled, case e-mail unsubscribed, follow-ups no longer allowed to contact them. Audited as `privacy.withdraw`.")
            .body(subject)
            .ok(200, Some(withdrawal))],
    )
    .route(
        "/api/v1/workspaces/{ws}/privacy/records",
        get(get_records),
        vec![Op::new("get", "privacy", "The records of processing (GDPR art. 30) generated from the register of personal data, the retention rules and the recipients (webhooks, SMTP), in the language of Accept-Language (privacy officers and admins)")
            .ok(200, Some(records))],
    )
}

async fn get_retention(
    ws: Ws,
    State(st): State<AppState>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let items = kohtaamo_app::retention::rules(&st.store, ws.id).await?;
    Ok(axum::Json(json!({ "items": items })))
}

async fn put_retention(
    ws: Ws,
    State(st): State<AppState>,
    Json(input): Json<Vec<kohtaamo_app::retention::RetentionInput>>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let items =
        kohtaamo_app::retention::set_rules(&st.store, ws.id, (&actor(&ws), ws.role), &input)
            .await?;
    Ok(axum::Json(json!({ "items": items })))
}

async fn get_preview(
    ws: Ws,
    State(st): State<AppState>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let items = kohtaamo_app::retention::preview(&st.store, ws.id, ws.role, st.clock.now()).await?;
    Ok(axum::Json(json!({ "items": items })))
}

async fn withdraw(
    ws: Ws,
    State(st): State<AppState>,
    Json(input): Json<SubjectInput>,
) -> ApiResult<axum::Json<kohtaamo_storage::privacy::Withdrawal>> {
    Ok(axum::Json(
        pv::withdraw(&st.store, ws.id, (&actor(&ws), ws.role), &input).await?,
    ))
}

async fn get_records(
    ws: Ws,
    State(st): State<AppState>,
    headers: axum::http::HeaderMap,
) -> ApiResult<axum::Json<pv::Records>> {
    let lang = crate::i18n::language_for(&headers, None);
    let i = crate::i18n::I18n::new(&lang, "en");
    let mailer = st.mail().and_then(|m| m.mailer.as_deref());
    Ok(axum::Json(
        pv::records(&st.store, ws.id, ws.role, &i, mailer).await?,
    ))
}
