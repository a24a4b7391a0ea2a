//! `/api/v1/workspaces/{ws}/…`: the encounter log — encounters (one, a JSON array or
//! NDJSON), frontline captures, the customer timeline, links between customers,
//! capture themes and the workspace's own encounter kinds.
//!
//! Roles: editors and admins record encounters (other systems, with a token); every
//! member records captures and proposes themes ("we all take part in collecting the
//! data"); editors keep the theme and kind lists and link customers.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::{get, post};
use kohtaamo_app::encounters::{self as enc, Recorder};
use kohtaamo_domain::encounters::{CaptureInput, EncounterInput, Source};
use kohtaamo_domain::{FieldErrors, Id, Reason};
use kohtaamo_storage::encounters::EncounterFilter;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::api::{Api, Op};
use crate::auth::Ws;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::AppState;

/// A batch may be large (NDJSON loads); 16 MB per request.
const BATCH_BODY_LIMIT: usize = 16 * 1024 * 1024;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    customer: Option<String>,
    #[serde(default)]
    case_ref: Option<String>,
    #[serde(default)]
    touchpoint_id: Option<Id>,
    #[serde(default)]
    journey_id: Option<Id>,
    #[serde(default)]
    unit_id: Option<Id>,
    #[serde(default)]
    partner_id: Option<Id>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    before: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkInput {
    /// An identifier of one customer (`kind:value`).
    pub a: String,
    /// An identifier of the other.
    pub b: String,
    /// Why they are one person (kept with the link).
    pub reason: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThemeInput {
    pub slug: String,
    pub name: BTreeMap<String, String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeInput {
    /// The theme that stays.
    pub into: Id,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KindInput {
    pub slug: String,
    pub name: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewQuery {
    a: String,
    b: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitQuery {
    #[serde(default)]
    limit: Option<i64>,
}

pub fn routes(mut api: Api) -> Api {
    let input = api.schema::<EncounterInput>();
    let encounter = api.schema::<kohtaamo_storage::encounters::Encounter>();
    let recorded = api.schema::<kohtaamo_storage::encounters::Recorded>();
    let capture = api.schema::<CaptureInput>();
    let timeline = api.schema::<enc::Timeline>();
    let link = api.schema::<LinkInput>();
    let link_out = api.schema::<kohtaamo_storage::encounters::CustomerLink>();
    let preview = api.schema::<enc::LinkPreview>();
    let theme = api.schema::<ThemeInput>();
    let theme_out = api.schema::<kohtaamo_storage::encounters::CaptureTheme>();
    let merge = api.schema::<MergeInput>();
    let kind = api.schema::<KindInput>();
    let batch = json!({"oneOf": [input.clone(), {"type": "array", "items": input, "minItems": 1, "maxItems": kohtaamo_domain::encounters::MAX_BATCH}]});
    let outcome = json!({"type": "object", "required": ["items", "created", "existing"], "properties": {
        "items": {"type": "array", "items": recorded},
        "created": {"type": "integer"}, "existing": {"type": "integer"}}});
    let list = json!({"type": "object", "required": ["items"], "properties": {
        "items": {"type": "array", "items": encounter.clone()},
        "next": {"type": ["string", "null"], "description": "Pass as `before` for the next (older) page"}}});
    let filters = |op: Op| {
        op.query(
            "customer",
            "string",
            "An identifier, kind:value (linked customers included)",
        )
        .query("case_ref", "string", "The customer's matter")
        .query("touchpoint_id", "integer", "At this touchpoint")
        .query("journey_id", "integer", "At a touchpoint of this journey")
        .query("unit_id", "integer", "Owned by this unit")
        .query("partner_id", "integer", "Owned by this partner")
        .query("kind", "string", "Of this kind")
        .query_one_of(
            "source",
            ["api", "import", "feedback", "staff", "case", "follow-up"],
            "From this source",
        )
        .query("from", "string", "From this day (YYYY-MM-DD), inclusive")
        .query("to", "string", "To this day (YYYY-MM-DD), inclusive")
        .query("before", "string", "The `next` of the previous page")
        .query(
            "limit",
            "integer",
            "At most this many (1–1000, default 100)",
        )
    };
    api.route(
        "/api/v1/workspaces/{ws}/encounters",
        get(list_encounters).post(record).layer(DefaultBodyLimit::max(BATCH_BODY_LIMIT)),
        vec![
            filters(Op::new("get", "encounters", "Encounters, newest first")).ok(200, Some(list.clone())),
            Op::new("post", "encounters", "Record an encounter, or a batch (a JSON array, or NDJSON with Content-Type application/x-ndjson; at most 5000). Idempotent by each encounter's `id`: a retry stores nothing twice. A batch with any bad row stores nothing; `fields` names every bad field of every row (`[3].touchpoint`). Editors and admins.")
                .body(batch)
                .ok(201, Some(outcome.clone()))
                .responds(200, "Every encounter was already stored (a retry): nothing new"),
        ],
    )
    .route(
        "/api/v1/workspaces/{ws}/encounters/{id}",
        get(one_encounter),
        vec![Op::new("get", "encounters", "One encounter").ok(200, Some(encounter))],
    )
    .route(
        "/api/v1/workspaces/{ws}/captures",
        get(list_captures).post(record_capture),
        vec![
            filters(Op::new("get", "encounters", "Frontline captures, newest first")).ok(200, Some(list)),
            Op::new("post", "encounters", "Record a frontline capture: what a customer said or did at a touchpoint. Any member. A theme not on the list is proposed. Idempotent by `id`.")
                .body(capture)
                .ok(201, Some(recorded.clone()))
                .responds(200, "Already stored (a retry): nothing new"),
        ],
    )
    .route(
        "/api/v1/workspaces/{ws}/customers/{identifier}/timeline",
        get(customer_timeline),
        vec![Op::new("get", "encounters", "A customer's timeline: encounters and feedback of the customer and every customer linked to them, oldest first (the latest `limit` of each)")
            .query("limit", "integer", "At most this many of each kind (1–1000, default 500)")
            .ok(200, Some(timeline))],
    )
    .route(
        "/api/v1/workspaces/{ws}/customer-links/preview",
        get(link_preview),
        vec![Op::new("get", "encounters", "What linking two customers would join; warns when they share nothing but an e-mail address")
            .query("a", "string", "An identifier of one customer")
            .query("b", "string", "An identifier of the other")
            .ok(200, Some(preview))],
    )
    .route(
        "/api/v1/workspaces/{ws}/customer-links",
        post(link_customers),
        vec![Op::new("post", "encounters", "Link two customers found to be one person (editors). Nothing is merged; unlinking restores both.")
            .body(link)
            .ok(201, Some(link_out.clone()))
            .responds(200, "They were linked already")],
    )
    .route(
        "/api/v1/workspaces/{ws}/customer-links/{id}/unlink",
        post(unlink_customers),
        vec![Op::new("post", "encounters", "Undo a link (editors); the record of it stays").ok(200, Some(link_out))],
    )
    .route(
        "/api/v1/workspaces/{ws}/capture-themes",
        get(list_themes).post(add_theme),
        vec![
            Op::new("get", "encounters", "Themes of frontline captures, with their counts").ok(200, Some(crate::api::doc::items(theme_out))),
            Op::new("post", "encounters", "Add a theme (editors), or propose one (other members)").body(theme).ok(201, Some(json!({"type": "object"}))),
        ],
    )
    .route(
        "/api/v1/workspaces/{ws}/capture-themes/{id}/accept",
        post(accept_theme),
        vec![Op::new("post", "encounters", "Put a proposed theme on the list (editors)").ok(204, None)],
    )
    .route(
        "/api/v1/workspaces/{ws}/capture-themes/{id}/merge",
        post(merge_theme),
        vec![Op::new("post", "encounters", "Merge a theme into another (editors): its captures move, it goes")
            .body(merge)
            .ok(200, Some(json!({"type": "object", "properties": {"moved": {"type": "integer"}}})))],
    )
    .route(
        "/api/v1/workspaces/{ws}/encounter-kinds",
        get(list_kinds).post(add_kind),
        vec![
            Op::new("get", "encounters", "Kinds of encounter: the built-in ones and the workspace's own").ok(200, Some(crate::api::doc::items(json!({"type": "object"})))),
            Op::new("post", "encounters", "Add a kind of encounter (editors)").body(kind).ok(201, Some(json!({"type": "object"}))),
        ],
    )
}

fn recorder(ws: &Ws) -> Recorder {
    Recorder::user(&ws.user.username)
}

/// One encounter, a JSON array of them, or NDJSON; a row that does not even parse as
/// an encounter is reported by its position with the parser's reason.
fn parse_body(headers: &HeaderMap, body: &[u8]) -> Result<(Vec<EncounterInput>, bool), ApiError> {
    let ndjson = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-ndjson"));
    let mut errors = FieldErrors::new();
    let mut out = vec![];
    let mut item =
        |k: Option<usize>, v: Value, errors: &mut FieldErrors| match serde_json::from_value::<
            EncounterInput,
        >(v)
        {
            Ok(i) => out.push(i),
            Err(e) => errors.add(
                k.map(|k| format!("[{k}]")).unwrap_or_else(|| "body".into()),
                Reason::from(e.to_string()),
            ),
        };
    let single = if ndjson {
        let text = std::str::from_utf8(body).map_err(|_| {
            ApiError::Rejected(StatusCode::BAD_REQUEST, "the body is not UTF-8".into())
        })?;
        for (k, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
            match serde_json::from_str::<Value>(line) {
                Ok(v) => item(Some(k), v, &mut errors),
                Err(e) => errors.add(format!("[{k}]"), Reason::from(e.to_string())),
            }
        }
        false
    } else {
        let v: Value = serde_json::from_slice(body).map_err(|e| {
            ApiError::Rejected(
                StatusCode::BAD_REQUEST,
                format!("the body is not JSON: {e}"),
            )
        })?;
        match v {
            Value::Array(rows) => {
                for (k, r) in rows.into_iter().enumerate() {
                    item(Some(k), r, &mut errors);
                }
                false
            }
            v @ Value::Object(_) => {
                item(None, v, &mut errors);
                true
            }
            _ => {
                return Err(ApiError::Rejected(
                    StatusCode::BAD_REQUEST,
                    "send an encounter object or an array of them".into(),
                ))
            }
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    Ok((out, single))
}

async fn record(
    ws: Ws,
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    ws.require_edit()?;
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !(ct.starts_with("application/json") || ct.starts_with("application/x-ndjson")) {
        return Err(ApiError::Rejected(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send application/json or application/x-ndjson".into(),
        ));
    }
    let (inputs, single) = parse_body(&headers, &body)?;
    let out = enc::record(
        &st.store,
        ws.id,
        &inputs,
        single,
        (Source::Api, &recorder(&ws)),
        st.clock.now(),
    )
    .await?;
    let _ = enc::announce(&st.hooks, ws.id, &ws.slug, Source::Api, &out);
    let created = out.iter().filter(|r| r.created).count();
    let status = if created > 0 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        axum::Json(json!({"items": out, "created": created, "existing": out.len() - created})),
    ))
}

fn filter(q: &ListQuery) -> Result<EncounterFilter, ApiError> {
    let mut e = FieldErrors::new();
    let day = |e: &mut FieldErrors, f: &str, v: &Option<String>| {
        v.as_deref()
            .and_then(|d| e.take(f, kohtaamo_domain::rules::parse_day(d)))
    };
    let from = day(&mut e, "from", &q.from);
    let to = day(&mut e, "to", &q.to);
    if let Some(s) = &q.source {
        e.take("source", Source::parse(s));
    }
    let before = q.before.as_deref().and_then(|b| {
        let parsed = b
            .rsplit_once('~')
            .and_then(|(at, id)| Some((at.to_owned(), id.parse::<Id>().ok()?)));
        if parsed.is_none() {
            e.add("before", Reason::from("is not a `next` value of this list"));
        }
        parsed
    });
    if let Some(l) = q.limit {
        if !(1..=1000).contains(&l) {
            e.add(
                "limit",
                Reason::new("score-range").with("min", 1).with("max", 1000),
            );
        }
    }
    if !e.is_empty() {
        return Err(ApiError::Invalid(e));
    }
    Ok(EncounterFilter {
        customers: None,
        case_ref: q.case_ref.clone(),
        touchpoint_id: q.touchpoint_id,
        journey_id: q.journey_id,
        unit_id: q.unit_id,
        partner_id: q.partner_id,
        kind: q.kind.clone(),
        source: q.source.clone(),
        from: from.map(|d| d.to_string()),
        to: to.and_then(|d| d.succ_opt()).map(|d| d.to_string()),
        captures_only: false,
        before,
        limit: q.limit.unwrap_or(100),
    })
}

async fn listing(
    st: &AppState,
    ws: &Ws,
    q: &ListQuery,
    captures_only: bool,
) -> ApiResult<axum::Json<Value>> {
    let mut f = filter(q)?;
    f.captures_only = captures_only;
    let limit = f.limit;
    let items = enc::list(&st.store, ws.id, q.customer.as_deref(), f).await?;
    let next = (items.len() as i64 == limit)
        .then(|| items.last().map(|e| format!("{}~{}", e.at, e.id)))
        .flatten();
    Ok(axum::Json(json!({"items": items, "next": next})))
}

async fn list_encounters(
    ws: Ws,
    State(st): State<AppState>,
    Query(q): Query<ListQuery>,
) -> ApiResult<axum::Json<Value>> {
    listing(&st, &ws, &q, false).await
}

async fn list_captures(
    ws: Ws,
    State(st): State<AppState>,
    Query(q): Query<ListQuery>,
) -> ApiResult<axum::Json<Value>> {
    listing(&st, &ws, &q, true).await
}

async fn one_encounter(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
) -> ApiResult<axum::Json<kohtaamo_storage::encounters::Encounter>> {
    Ok(axum::Json(st.store.encounter(ws.id, id).await?))
}

async fn record_capture(
    ws: Ws,
    State(st): State<AppState>,
    Json(input): Json<CaptureInput>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let r = enc::capture(&st.store, ws.id, &input, &recorder(&ws), st.clock.now()).await?;
    let _ = enc::announce(&st.hooks, ws.id, &ws.slug, Source::Staff, &[r]);
    if r.created {
        kohtaamo_app::followups::announce_opened(
            &st.hooks,
            ws.id,
            kohtaamo_app::followups::OpenedBy::Capture(r.id),
        )
        .await;
    }
    let status = if r.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(json!(r))))
}

async fn customer_timeline(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, identifier)): Path<(String, String)>,
    Query(q): Query<LimitQuery>,
) -> ApiResult<axum::Json<enc::Timeline>> {
    let limit = q.limit.unwrap_or(500);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::Invalid({
            let mut e = FieldErrors::new();
            e.add(
                "limit",
                Reason::new("score-range").with("min", 1).with("max", 1000),
            );
            e
        }));
    }
    Ok(axum::Json(
        enc::timeline(
            &st.store,
            ws.id,
            &identifier,
            limit,
            &kohtaamo_storage::privacy::Actor::user(ws.user.id),
        )
        .await?,
    ))
}

async fn link_preview(
    ws: Ws,
    State(st): State<AppState>,
    Query(q): Query<PreviewQuery>,
) -> ApiResult<axum::Json<enc::LinkPreview>> {
    Ok(axum::Json(
        enc::link_preview(
            &st.store,
            ws.id,
            (&q.a, &q.b),
            &kohtaamo_storage::privacy::Actor::user(ws.user.id),
        )
        .await?,
    ))
}

async fn link_customers(
    ws: Ws,
    State(st): State<AppState>,
    Json(input): Json<LinkInput>,
) -> ApiResult<(
    StatusCode,
    axum::Json<kohtaamo_storage::encounters::CustomerLink>,
)> {
    ws.require_edit()?;
    let (link, created) = enc::link(
        &st.store,
        ws.id,
        (&input.a, &input.b),
        &input.reason,
        &recorder(&ws),
    )
    .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(link)))
}

async fn unlink_customers(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
) -> ApiResult<axum::Json<kohtaamo_storage::encounters::CustomerLink>> {
    ws.require_edit()?;
    Ok(axum::Json(
        enc::unlink(&st.store, ws.id, id, &recorder(&ws)).await?,
    ))
}

async fn list_themes(ws: Ws, State(st): State<AppState>) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(
        json!({"items": enc::themes(&st.store, ws.id).await?}),
    ))
}

async fn add_theme(
    ws: Ws,
    State(st): State<AppState>,
    Json(input): Json<ThemeInput>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let id = enc::add_theme(
        &st.store,
        ws.id,
        ws.role,
        &input.slug,
        &input.name,
        &recorder(&ws),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(json!({"id": id}))))
}

async fn accept_theme(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
) -> ApiResult<StatusCode> {
    enc::accept_theme(&st.store, ws.id, ws.role, id, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn merge_theme(
    ws: Ws,
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    Json(input): Json<MergeInput>,
) -> ApiResult<axum::Json<Value>> {
    let moved = enc::merge_theme(&st.store, ws.id, ws.role, id, input.into).await?;
    Ok(axum::Json(json!({"moved": moved})))
}

async fn list_kinds(ws: Ws, State(st): State<AppState>) -> ApiResult<axum::Json<Value>> {
    let items: Vec<Value> = enc::kinds(&st.store, ws.id)
        .await?
        .into_iter()
        .map(|(slug, name)| json!({"slug": slug, "builtin": name.is_none(), "name": name}))
        .collect();
    Ok(axum::Json(json!({"items": items})))
}

async fn add_kind(
    ws: Ws,
    State(st): State<AppState>,
    Json(input): Json<KindInput>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    ws.require_edit()?;
    enc::add_kind(&st.store, ws.id, &input.slug, &input.name).await?;
    Ok((StatusCode::CREATED, axum::Json(json!({"slug": input.slug}))))
}
