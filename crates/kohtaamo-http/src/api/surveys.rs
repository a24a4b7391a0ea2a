//! Staff side of feedback under `/api/v1/workspaces/{ws}/surveys/{id}/…` (the survey
//! CRUD itself is the generic [`super::model`] resource): links and QR codes,
//! personal invitations, responses (list, detail, delete with audit), CSV and XLSX
//! export, the response funnel; and the workspace's audit trail.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use kohtaamo_domain::survey::SurveyData;
use kohtaamo_domain::{Id, Reason};
use kohtaamo_storage::feedback::{
    AuditEntry, Funnel, Invitation, Response as Answered, ResponsePage,
};
use kohtaamo_storage::Record;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use kohtaamo_app::analysis::Analysis;
use kohtaamo_app::feedback::{asked_at, touchpoint_refusal};
use kohtaamo_app::links::{issue_invitations, survey_url, widget_snippet};
use kohtaamo_app::responses::{survey_themes, Export, WordsOf};

use super::doc::{Api, Op};
use crate::auth::Ws;
use crate::error::{ApiError, ApiResult};
use crate::export::{attachment, csv_lines, safe_cell};
use crate::extract::{Json, Path, Query};
use crate::i18n::{language_for, I18n};
use crate::params::{paging, parse_filter, parse_group_filter};
use crate::AppState;

pub fn routes(mut api: Api) -> Api {
    let page = api.schema::<ResponsePage>();
    let one = api.schema::<Answered>();
    let inv = api.schema::<InvitationsInput>();
    let invs = api.schema::<Invitation>();
    let funnel = api.schema::<Funnel>();
    let audit = api.schema::<AuditEntry>();
    let links = api.schema::<Links>();
    let base = "/api/v1/workspaces/{ws}/surveys/{id}";
    let filters = |op: Op| {
        op.query("from", "string", "First day, YYYY-MM-DD")
            .query("to", "string", "Last day, YYYY-MM-DD")
            .query("band", "string", "NPS band: promoter, passive or detractor")
            .query("lang", "string", "Respondent language")
            .query("touchpoint_id", "integer", "Touchpoint")
            .query("q", "string", "Text in the answers")
            .query("complete", "string", "true or false")
            .query(
                "suspect",
                "string",
                "true: only responses a bot check set apart (not counted in scores); false: only counted ones",
            )
    };
    api.route(
        &format!("{base}/links"),
        get(survey_links),
        vec![Op::new(
            "get",
            "feedback",
            "Public link, per-touchpoint links, widget snippet and QR code addresses",
        )
        .ok(200, Some(links))],
    )
    .route(
        &format!("{base}/qr.svg"),
        get(qr_svg),
        vec![Op::new(
            "get",
            "feedback",
            "QR code (SVG) of the survey link, with the touchpoint in it",
        )
        .query("touchpoint_id", "integer", "Touchpoint to put in the link")
        .produces("image/svg+xml")],
    )
    .route(
        &format!("{base}/qr.png"),
        get(qr_png),
        vec![Op::new(
            "get",
            "feedback",
            "QR code (PNG) of the survey link, with the touchpoint in it",
        )
        .query("touchpoint_id", "integer", "Touchpoint to put in the link")
        .query("scale", "integer", "Pixels per module, 2–40 (default 10)")
        .produces("image/png")],
    )
    .route(
        &format!("{base}/invitations"),
        get(list_invitations).post(create_invitations),
        vec![
            Op::new(
                "get",
                "feedback",
                "Personal invitations (without their tokens) and whether each was used",
            )
            .ok(200, Some(json!({"type": "array", "items": invs}))),
            Op::new(
                "post",
                "feedback",
                "Create single-use personal invitation links; each link is shown once",
            )
            .body(inv)
            .ok(201, Some(json!({"type": "object"}))),
        ],
    )
    .route(
        &format!("{base}/responses"),
        get(list_responses),
        vec![
            filters(Op::new("get", "feedback", "Responses, newest first"))
                .query("limit", "integer", "1–500 (default 50)")
                .query("offset", "integer", "Items to skip")
                .ok(200, Some(page.clone())),
        ],
    )
    .route(
        "/api/v1/workspaces/{ws}/responses",
        get(group_responses),
        vec![filters(Op::new(
            "get",
            "analytics",
            "The responses behind one figure of the score tables: every survey's responses in the group `key` of scope `by`",
        ))
        .query_one_of("by", kohtaamo_domain::analytics::Scope::ALL.iter().map(|s| s.as_str()), "The scope of the figure's group")
        .query("key", "string", "The group's key as in the score table (an id, or a channel or language code); only complete responses unless `complete` is given, so the total equals the figure's n")
        .query("limit", "integer", "1–500 (default 50)")
        .query("offset", "integer", "Items to skip")
        .ok(200, Some(page))],
    )
    .route(
        &format!("{base}/responses.csv"),
        get(export_csv),
        vec![filters(Op::new(
            "get",
            "feedback",
            "Every matching response as CSV (streamed)",
        ))
        .produces("text/csv")],
    )
    .route(
        &format!("{base}/responses.xlsx"),
        get(export_xlsx),
        vec![filters(Op::new(
            "get",
            "feedback",
            "Every matching response as an Excel workbook",
        ))
        .produces("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")],
    )
    .route(
        &format!("{base}/responses/{{response_id}}"),
        get(show_response).delete(delete_response),
        vec![
            Op::new("get", "feedback", "One response").ok(200, Some(one)),
            Op::new(
                "delete",
                "feedback",
                "Delete a response (editor or admin); recorded in the audit trail",
            )
            .ok(204, None),
        ],
    )
    .route(
        &format!("{base}/responses/{{response_id}}/accept"),
        post(accept_response),
        vec![Op::new(
            "post",
            "feedback",
            "Count a response a bot check set apart (editor or admin): it joins the scores; recorded in the audit trail",
        )
        .ok(204, None)],
    )
    .route(
        &format!("{base}/funnel"),
        get(funnel_of),
        vec![Op::new(
            "get",
            "feedback",
            "Times shown, responses started and completed",
        )
        .ok(200, Some(funnel))],
    )
    .route(
        &format!("{base}/themes"),
        get(themes_of),
        vec![filters(Op::new("get", "analytics", "Themes in the open answers (stemmed terms and two-word phrases), and which are over-represented among unhappy or happy respondents"))
            .query_one_of(
                "source",
                WordsOf::ALL.map(WordsOf::as_str),
                "Whose words: respondents' open answers (default), staff's frontline captures at the survey's touchpoints (period and touchpoint filters apply), or both",
            )
            .ok(200, Some(json!({"type": "array", "items": {"type": "object"}})))],
    )
    .route(
        "/api/v1/workspaces/{ws}/audit",
        get(audit_log),
        vec![
            Op::new("get", "feedback", "Audit trail, newest first (admins and privacy officers): each entry with its place in the workspace's hash chain")
                .ok(200, Some(json!({"type": "array", "items": audit}))),
        ],
    )
}

#[derive(Serialize, ToSchema)]
pub struct Links {
    pub public_url: String,
    /// False when the installation has no public URL (`KOHTAAMO_PUBLIC_URL`) and this
    /// request did not come over loopback: the links then use `http://localhost` as a
    /// stand-in, because the request's `Host` header cannot be trusted.
    pub public_url_configured: bool,
    pub touchpoints: Vec<TouchpointLink>,
    /// Paste into any page whose origin is in `allowed_origins`.
    pub widget_snippet: String,
}
#[derive(Serialize, ToSchema)]
pub struct TouchpointLink {
    pub touchpoint_id: Id,
    pub url: String,
    pub qr_svg: String,
    pub qr_png: String,
}

async fn survey_of(st: &AppState, ws: &Ws, id: Id) -> ApiResult<(Record<SurveyData>, String)> {
    let rec = st.store.get::<SurveyData>(ws.id, id).await?;
    let key = st.store.survey_key(ws.id, id).await?;
    Ok((rec, key))
}

/// Touchpoints a survey is used at: its own, or every touchpoint of its journey.
/// The touchpoints listed with a survey's links (none for a survey about a package).
async fn touchpoints_of(st: &AppState, ws: &Ws, s: &SurveyData) -> ApiResult<Vec<Id>> {
    Ok(asked_at(&st.store, ws.id, s).await?.unwrap_or_default())
}

async fn survey_links(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    headers: HeaderMap,
) -> ApiResult<axum::Json<Links>> {
    let (rec, key) = survey_of(&st, &ws, id).await?;
    let base = st.public_base(&headers);
    let api = format!("/api/v1/workspaces/{}/surveys/{id}", ws.slug);
    let touchpoints = touchpoints_of(&st, &ws, &rec.data)
        .await?
        .into_iter()
        .map(|t| TouchpointLink {
            touchpoint_id: t,
            url: survey_url(&base, &key, Some(t)),
            qr_svg: format!("{api}/qr.svg?touchpoint_id={t}"),
            qr_png: format!("{api}/qr.png?touchpoint_id={t}"),
        })
        .collect();
    Ok(axum::Json(Links {
        public_url: survey_url(&base, &key, None),
        public_url_configured: !st.public_base_missing(&headers),
        touchpoints,
        widget_snippet: widget_snippet(&base, &key, rec.data.touchpoint_id),
    }))
}

#[derive(Deserialize)]
struct QrQuery {
    touchpoint_id: Option<Id>,
    scale: Option<u32>,
}

async fn qr_target(
    st: &AppState,
    ws: &Ws,
    id: Id,
    tp: Option<Id>,
    headers: &HeaderMap,
) -> ApiResult<qrcode::QrCode> {
    let (rec, key) = survey_of(st, ws, id).await?;
    if let Some(t) = tp {
        // Only a touchpoint this survey is asked at: a code for another one would
        // collect answers the survey refuses.
        let asked = asked_at(&st.store, ws.id, &rec.data).await?;
        if let Some(r) = touchpoint_refusal(&st.store, ws.id, &asked, t).await? {
            return Err(ApiError::invalid("touchpoint_id", r));
        }
    }
    let url = survey_url(&st.public_base(headers), &key, tp);
    qrcode::QrCode::new(url.as_bytes()).map_err(|e| ApiError::Internal(format!("qr: {e}")))
}

async fn qr_svg(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    Query(q): Query<QrQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let code = qr_target(&st, &ws, id, q.touchpoint_id, &headers).await?;
    Ok(crate::export::qr_svg(&code))
}

async fn qr_png(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    Query(q): Query<QrQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let scale = q.scale.unwrap_or(10);
    if !(2..=40).contains(&scale) {
        return Err(ApiError::invalid(
            "scale",
            Reason::new("text").with("text", "must be from 2 to 40"),
        ));
    }
    let code = qr_target(&st, &ws, id, q.touchpoint_id, &headers).await?;
    let png = qr_to_png(&code, scale).map_err(|e| ApiError::Internal(format!("png: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}

/// Renders the code's modules as an 8-bit greyscale PNG with a 4-module quiet zone.
pub fn qr_to_png(code: &qrcode::QrCode, scale: u32) -> Result<Vec<u8>, png::EncodingError> {
    let quiet = 4;
    let modules = code.width() as u32;
    let colors = code.to_colors();
    let side = (modules + 2 * quiet) * scale;
    let mut pixels = vec![255u8; (side * side) as usize];
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (mx, my) = (i as u32 % modules + quiet, i as u32 / modules + quiet);
            for y in my * scale..(my + 1) * scale {
                let row = (y * side) as usize;
                pixels[row + (mx * scale) as usize..row + ((mx + 1) * scale) as usize].fill(0);
            }
        }
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, side, side);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header()?;
        w.write_image_data(&pixels)?;
    }
    Ok(out)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationsInput {
    /// One entry per recipient (at most 1000 per call).
    pub recipients: Vec<RecipientInput>,
}
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecipientInput {
    #[serde(default)]
    pub customer_ref: Option<String>,
    #[serde(default)]
    pub case_ref: Option<String>,
    #[serde(default)]
    pub touchpoint_id: Option<Id>,
}

async fn create_invitations(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    headers: HeaderMap,
    Json(input): Json<InvitationsInput>,
) -> ApiResult<(StatusCode, axum::Json<serde_json::Value>)> {
    ws.require_edit()?;
    let (rec, _) = survey_of(&st, &ws, id).await?;
    if input.recipients.is_empty() || input.recipients.len() > 1000 {
        return Err(ApiError::invalid(
            "recipients",
            Reason::new("too-many").with("max", 1000),
        ));
    }
    let recipients = input
        .recipients
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            (
                format!("recipients[{i}]"),
                kohtaamo_domain::survey::HiddenInput {
                    touchpoint_id: r.touchpoint_id,
                    customer_ref: r.customer_ref,
                    case_ref: r.case_ref,
                    ..Default::default()
                },
            )
        })
        .collect();
    let issued = issue_invitations(
        &st.store,
        ws.id,
        id,
        &rec.data,
        &st.public_base(&headers),
        recipients,
    )
    .await?;
    let out: Vec<_> = issued
        .iter()
        .map(|x| json!({"id": x.id, "token": x.token, "url": x.url}))
        .collect();
    Ok((StatusCode::CREATED, axum::Json(json!({"items": out}))))
}

async fn list_invitations(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
) -> ApiResult<axum::Json<Vec<Invitation>>> {
    survey_of(&st, &ws, id).await?;
    Ok(axum::Json(st.store.invitations(ws.id, id).await?))
}

async fn list_responses(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<axum::Json<ResponsePage>> {
    let f = parse_filter(&q)?;
    let (limit, offset) = paging(&q)?;
    survey_of(&st, &ws, id).await?;
    Ok(axum::Json(
        st.store
            .responses(ws.id, Some(id), &f, limit, offset)
            .await?,
    ))
}

async fn group_responses(
    ws: Ws,
    State(st): State<AppState>,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<axum::Json<ResponsePage>> {
    let i = I18n::new("en", "en");
    let an = Analysis::load(&st.store, ws.id, &i).await?;
    let (f, _) = parse_group_filter(&q, &an.scopes)?;
    let (limit, offset) = paging(&q)?;
    Ok(axum::Json(
        st.store.responses(ws.id, None, &f, limit, offset).await?,
    ))
}

async fn show_response(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, id, rid)): Path<(String, Id, Id)>,
) -> ApiResult<axum::Json<Answered>> {
    Ok(axum::Json(st.store.response(ws.id, id, rid).await?))
}

async fn delete_response(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, id, rid)): Path<(String, Id, Id)>,
) -> ApiResult<StatusCode> {
    ws.require_edit()?;
    st.store
        .delete_response(ws.id, id, rid, Some(ws.user.id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn accept_response(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, id, rid)): Path<(String, Id, Id)>,
) -> ApiResult<StatusCode> {
    ws.require_edit()?;
    st.store
        .accept_response(ws.id, id, rid, Some(ws.user.id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn funnel_of(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
) -> ApiResult<axum::Json<Funnel>> {
    survey_of(&st, &ws, id).await?;
    Ok(axum::Json(st.store.funnel(ws.id, id).await?))
}

async fn themes_of(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<axum::Json<Vec<kohtaamo_domain::themes::Theme>>> {
    let f = parse_filter(&q)?;
    let words = match q.get("source").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => WordsOf::default(),
        Some(s) => WordsOf::parse(s).map_err(|r| {
            let mut e = kohtaamo_domain::FieldErrors::new();
            e.add("source", r);
            crate::error::ApiError::Invalid(e)
        })?,
    };
    let (rec, _) = survey_of(&st, &ws, id).await?;
    Ok(axum::Json(
        survey_themes(&st.store, ws.id, &rec.data, id, &f, words).await?,
    ))
}

async fn audit_log(ws: Ws, State(st): State<AppState>) -> ApiResult<axum::Json<Vec<AuditEntry>>> {
    if !ws.role.can_handle_privacy() {
        return Err(crate::error::ApiError::forbidden_role());
    }
    Ok(axum::Json(st.store.audit_log(ws.id, 500).await?))
}

/// Streams CSV: one database page at a time goes out as one chunk, so memory stays
/// flat however many responses there are.
async fn export_csv(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let mut export = open_export(&st, &ws, id, &q, &headers, "csv").await?;
    let name = format!("{}-responses.csv", export.survey.data.slug);
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    tokio::spawn(async move {
        let encode = |header: Option<&[String]>, rows: Vec<Vec<String>>| {
            csv_lines(header, rows).map_err(std::io::Error::other)
        };
        // UTF-8 byte order mark: spreadsheet programs then read ä and ö right.
        let mut first = b"\xEF\xBB\xBF".to_vec();
        match encode(Some(&export.header()), vec![]) {
            Ok(h) => first.extend(h),
            Err(e) => {
                let _ = tx.send(Err(e)).await;
                return;
            }
        }
        if tx.send(Ok(first)).await.is_err() {
            return;
        }
        loop {
            let rows = match export.next_rows().await {
                Ok(Some(rows)) => rows,
                Ok(None) => return,
                Err(e) => {
                    tracing::error!(error = ?e, "export failed");
                    let _ = tx.send(Err(std::io::Error::other("export failed"))).await;
                    return;
                }
            };
            if tx.send(encode(None, rows)).await.is_err() {
                return; // the client went away
            }
        }
    });
    // Fused: the gzip layer polls a body once more after its end, which a bare
    // `unfold` answers with a panic.
    let stream =
        futures_util::StreamExt::fuse(futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|c| (c, rx))
        }));
    Ok(attachment(
        &name,
        "text/csv; charset=utf-8",
        Body::from_stream(stream),
    ))
}

/// The export of survey `id` with the request's filters, touchpoint names in the
/// reader's language as the pages choose it (their choice, then the browser's).
async fn open_export(
    st: &AppState,
    ws: &Ws,
    id: Id,
    q: &BTreeMap<String, String>,
    headers: &HeaderMap,
    format: &str,
) -> ApiResult<Export> {
    let f = parse_filter(q)?;
    let lang = language_for(headers, None);
    let i = I18n::new(&lang, &lang);
    let reader = kohtaamo_storage::privacy::Actor::user(ws.user.id);
    Ok(Export::open(&st.store, ws.id, id, f, &i, (&reader, format)).await?)
}

/// Writes the workbook in constant-memory mode to a temporary file (rows are flushed
/// to disk as they are written), then streams the file.
async fn export_xlsx(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let mut export = open_export(&st, &ws, id, &q, &headers, "xlsx").await?;
    let name = format!("{}-responses.xlsx", export.survey.data.slug);
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Vec<String>>>(2);
    let writer = tokio::task::spawn_blocking(move || -> Result<tempfile::NamedTempFile, String> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let sheet = wb.add_worksheet_with_constant_memory();
        let mut row: u32 = 0;
        let numeric = [10u16, 11, 12]; // nps, csat, ces
        for rows in rx {
            for r in rows {
                for (c, v) in r.iter().enumerate() {
                    let col = c as u16;
                    let res = match v.parse::<f64>() {
                        Ok(n) if row > 0 && numeric.contains(&col) => {
                            sheet.write_number(row, col, n).map(|_| ())
                        }
                        _ => sheet.write_string(row, col, safe_cell(v)).map(|_| ()),
                    };
                    res.map_err(|e| e.to_string())?;
                }
                row += 1;
            }
        }
        let file = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
        wb.save(file.path()).map_err(|e| e.to_string())?;
        Ok(file)
    });
    let _ = tx.send(vec![export.header()]);
    while let Some(rows) = export.next_rows().await? {
        let sender = tx.clone();
        // The channel is bounded: wait for the writer without blocking the runtime.
        if tokio::task::spawn_blocking(move || sender.send(rows))
            .await
            .ok()
            .and_then(|r| r.ok())
            .is_none()
        {
            break;
        }
    }
    drop(tx);
    let file = writer
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(ApiError::Internal)?;
    // Reopen, then let the path go: the open handle keeps the data until streamed.
    let handle = file
        .reopen()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    drop(file);
    let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(handle));
    Ok(attachment(
        &name,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Body::from_stream(stream),
    ))
}
