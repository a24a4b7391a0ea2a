//! Page handlers and the data each template shows.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use kohtaamo_domain::model::*;
use kohtaamo_domain::Id;
use kohtaamo_storage::{Entity, ListQuery, Record, Store};
use serde::Deserialize;

use super::diagrams::{self, JourneyLayout};
use super::{
    html, language_for, safe_next, svg_download, CsrfForm, PageCtx, PageError, LANG_COOKIE,
    LOGIN_CSRF_COOKIE,
};
use crate::auth::{ClientIp, SESSION_COOKIE};
use crate::i18n::{self, I18n};
use crate::AppState;
use kohtaamo_app::directory::Names;

pub struct WsNav {
    pub slug: String,
    pub name: String,
    pub can_edit: bool,
    pub is_admin: bool,
    /// A privacy officer or an admin: the privacy page.
    pub privacy: bool,
}
pub struct Nav {
    pub username: String,
    pub csrf: String,
    pub ws: Option<WsNav>,
}

fn langs(i: &I18n) -> Vec<(String, String)> {
    i18n::languages()
        .into_iter()
        .map(|l| (l.clone(), i.t(&format!("lang-name-{l}"))))
        .collect()
}

pub fn encode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|e| e.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

/// The parts of every page: language, navigation, language links.
pub(super) struct Chrome {
    pub i: I18n,
    pub nav: Option<Nav>,
    pub langs: Vec<(String, String)>,
    pub here: String,
}

pub(super) fn chrome(ctx: &PageCtx) -> Chrome {
    let ws = ctx.ws.as_ref().map(|(w, r)| WsNav {
        slug: w.data.slug.to_string(),
        name: ctx.i.text(&w.data.name),
        can_edit: r.can_edit(),
        is_admin: r.is_admin(),
        privacy: r.can_handle_privacy(),
    });
    Chrome {
        i: ctx.i.clone(),
        nav: Some(Nav {
            username: ctx.user.username.clone(),
            csrf: ctx.csrf.clone(),
            ws,
        }),
        langs: langs(&ctx.i),
        here: encode(&ctx.here),
    }
}

pub(super) async fn all<E: Entity>(store: &Store, ws: Id) -> Result<Vec<Record<E>>, PageError> {
    Ok(store
        .list::<E>(
            ws,
            &ListQuery {
                limit: i64::MAX,
                offset: 0,
                q: None,
                filters: vec![],
            },
        )
        .await?
        .items)
}

fn yes_no(i: &I18n, b: bool) -> String {
    i.t(if b { "yes" } else { "no" })
}

// --- error page ------------------------------------------------------------------

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    message: &'static str,
}

pub fn error_page(i: I18n, message: &'static str) -> Response {
    html(
        ErrorPage {
            langs: langs(&i),
            i,
            nav: None,
            here: "/".into(),
            message,
        }
        .render(),
    )
}

#[derive(Template)]
#[template(path = "computing.html")]
struct ComputingPage {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    seconds: u64,
}

/// `202`: a report still being computed; the page reloads itself after `seconds`
/// (and says so), `Retry-After` for other clients.
pub fn computing_page(i: I18n, here: String, seconds: u64) -> Response {
    let mut resp = (
        axum::http::StatusCode::ACCEPTED,
        html(
            ComputingPage {
                langs: langs(&i),
                i,
                nav: None,
                here,
                seconds,
            }
            .render(),
        ),
    )
        .into_response();
    if let Ok(v) = seconds.to_string().parse() {
        resp.headers_mut()
            .insert(axum::http::header::RETRY_AFTER, v);
    }
    resp
}

// --- login -----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    csrf: String,
    next: String,
    username: String,
    error: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

fn login_page(
    headers: &HeaderMap,
    csrf: String,
    next: String,
    username: String,
    error: Option<&'static str>,
) -> Result<String, askama::Error> {
    let lang = language_for(headers, None);
    let i = I18n::new(&lang, &lang);
    LoginPage {
        langs: langs(&i),
        here: encode("/login"),
        i,
        nav: None,
        csrf,
        next,
        username,
        error,
    }
    .render()
}

fn cookie_header(
    name: &str,
    value: &str,
    max_age: i64,
    secure: bool,
    http_only: bool,
) -> HeaderValue {
    let c = cookie::Cookie::build((name.to_owned(), value.to_owned()))
        .path("/")
        .http_only(http_only)
        .same_site(cookie::SameSite::Lax)
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(max_age))
        .build();
    HeaderValue::from_str(&c.to_string()).unwrap_or(HeaderValue::from_static("x=; Max-Age=0"))
}

/// The login form. Its CSRF token is a double-submit cookie (there is no session yet).
pub async fn login_form(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> Response {
    let csrf = crate::auth::cookie_value(&headers, LOGIN_CSRF_COOKIE)
        .unwrap_or_else(kohtaamo_storage::auth::random_secret);
    let mut resp = html(login_page(
        &headers,
        csrf.clone(),
        safe_next(&q.next),
        String::new(),
        None,
    ));
    resp.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(
            LOGIN_CSRF_COOKIE,
            &csrf,
            3600,
            st.config.secure_cookies,
            true,
        ),
    );
    resp
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn login(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    use subtle::ConstantTimeEq;
    let expected = crate::auth::cookie_value(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || f.csrf.as_bytes().ct_eq(expected.as_bytes()).unwrap_u8() != 1 {
        let lang = language_for(&headers, None);
        return PageError::Forbidden(I18n::new(&lang, &lang)).into_response();
    }
    let next = safe_next(&f.next);
    let fail = |status: StatusCode, key: &'static str| {
        (
            status,
            html(login_page(
                &headers,
                expected.clone(),
                next.clone(),
                f.username.clone(),
                Some(key),
            )),
        )
            .into_response()
    };
    if let Err(secs) = st.limiter.check(&f.username, ip) {
        let mut resp = fail(StatusCode::TOO_MANY_REQUESTS, "login-rate-limited");
        resp.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(secs.max(1)));
        return resp;
    }
    let user = match st.store.authenticate(&f.username, &f.password).await {
        Ok(Some(u)) => u,
        Ok(None) => return fail(StatusCode::UNAUTHORIZED, "login-failed"),
        Err(e) => return PageError::from(e).into_response(),
    };
    if let Some(old) = crate::auth::session_cookie(&headers) {
        let _ = st.store.delete_session(&old).await;
    }
    let ttl = chrono::Duration::hours(st.config.session_ttl_hours);
    match st.store.create_session(user.id, ttl).await {
        Ok((token, _)) => {
            let mut resp = Redirect::to(&next).into_response();
            resp.headers_mut().append(
                header::SET_COOKIE,
                cookie_header(
                    SESSION_COOKIE,
                    &token,
                    ttl.num_seconds(),
                    st.config.secure_cookies,
                    true,
                ),
            );
            resp.headers_mut().append(
                header::SET_COOKIE,
                cookie_header(LOGIN_CSRF_COOKIE, "", 0, st.config.secure_cookies, true),
            );
            resp
        }
        Err(e) => PageError::from(e).into_response(),
    }
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn logout(
    State(st): State<AppState>,
    headers: HeaderMap,
    CsrfForm { .. }: CsrfForm<Empty>,
) -> Response {
    if let Some(token) = crate::auth::session_cookie(&headers) {
        let _ = st.store.delete_session(&token).await;
    }
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(SESSION_COOKIE, "", 0, st.config.secure_cookies, true),
    );
    resp
}

pub async fn set_language(
    State(st): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<NextQuery>,
) -> Response {
    let mut resp = Redirect::to(&safe_next(&q.next)).into_response();
    if i18n::languages().contains(&code) {
        resp.headers_mut().append(
            header::SET_COOKIE,
            cookie_header(
                LANG_COOKIE,
                &code,
                365 * 24 * 3600,
                st.config.secure_cookies,
                false,
            ),
        );
    }
    resp
}

// --- workspaces and home -----------------------------------------------------------

pub struct WsRow {
    slug: String,
    name: String,
    role: String,
}

#[derive(Template)]
#[template(path = "workspaces.html")]
struct WorkspacesPage {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    workspaces: Vec<WsRow>,
    /// The caller may create workspaces (an installation admin).
    can_create: bool,
    csrf: String,
    problems: Vec<String>,
    languages: Vec<(String, String)>,
}

pub async fn workspaces(State(st): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    workspaces_page(&st, &ctx, vec![], true).await
}

/// The list of workspaces (and the installation admin's forms) without going straight
/// into a single one: what the navigation's "Workspaces" opens.
pub async fn workspace_list(
    State(st): State<AppState>,
    ctx: PageCtx,
) -> Result<Response, PageError> {
    workspaces_page(&st, &ctx, vec![], false).await
}

/// `enter_single`: with one workspace (and nothing to report) go straight into it.
async fn workspaces_page(
    st: &AppState,
    ctx: &PageCtx,
    problems: Vec<String>,
    enter_single: bool,
) -> Result<Response, PageError> {
    let c = chrome(ctx);
    let mine = st.store.workspaces_for(&ctx.user).await?;
    // With a single workspace there is nothing to choose: go straight to it — to
    // the member's own unit when they work in one and do not edit the model.
    if let ([(only, role)], true) = (mine.as_slice(), enter_single && problems.is_empty()) {
        let to = match kohtaamo_app::units::landing_unit(&st.store, only.id, ctx.user.id, *role)
            .await?
        {
            Some(u) => format!("/w/{}/units/{u}", only.data.slug),
            None => format!("/w/{}", only.data.slug),
        };
        return Ok(Redirect::to(&to).into_response());
    }
    let workspaces = mine
        .into_iter()
        .map(|(w, r)| WsRow {
            slug: w.data.slug.to_string(),
            name: ctx.i.text(&w.data.name),
            role: ctx.i.enum_label("role", r.as_str()),
        })
        .collect();
    let status = if problems.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((
        status,
        html(
            WorkspacesPage {
                i: c.i,
                nav: c.nav,
                langs: c.langs,
                here: c.here,
                workspaces,
                can_create: ctx.user.is_superadmin,
                csrf: ctx.csrf.clone(),
                problems,
                languages: langs(&ctx.i),
            }
            .render(),
        ),
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct NewWorkspaceForm {
    #[serde(default)]
    slug: String,
    #[serde(default)]
    name_fi: String,
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    language: String,
    /// A model file (YAML) to create the workspace from, instead of the fields above.
    #[serde(default)]
    model: String,
    /// "demo": create the demo workspace instead.
    #[serde(default)]
    demo: String,
}

/// An installation admin creates a workspace: empty, or from a pasted model file.
pub async fn create_workspace(
    State(st): State<AppState>,
    CsrfForm { ctx, form }: CsrfForm<NewWorkspaceForm>,
) -> Result<Response, PageError> {
    let made = if form.demo == "demo" {
        kohtaamo_app::accounts::create_demo_workspace(&st.store, &ctx.user).await
    } else if form.model.trim().is_empty() {
        let name = [("fi", &form.name_fi), ("en", &form.name_en)]
            .into_iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(l, v)| (l.to_string(), v.trim().to_string()))
            .collect();
        let input = kohtaamo_domain::model::WorkspaceInput {
            slug: form.slug.trim().to_owned(),
            name,
            default_language: form.language.clone(),
        };
        kohtaamo_app::accounts::create_workspace(&st.store, &ctx.user, &input)
            .await
            .map(|_| form.slug.trim().to_owned())
    } else {
        kohtaamo_app::accounts::create_workspace_from_model(&st.store, &ctx.user, &form.model).await
    };
    match made {
        Ok(slug) => Ok(Redirect::to(&format!("/w/{slug}")).into_response()),
        Err(kohtaamo_app::Error::Invalid(e)) => {
            let problems = super::surveys_page::errors_text(&ctx.i, &e);
            workspaces_page(&st, &ctx, problems, false).await
        }
        Err(kohtaamo_app::Error::Conflict(_)) => {
            workspaces_page(&st, &ctx, vec![ctx.i.t("err-conflict")], false).await
        }
        Err(e) => Err(PageError::app(e, &ctx.i)),
    }
}

pub struct StaleRow {
    provider: String,
    provider_unit: Option<Id>,
    customer: String,
    last_reviewed: String,
}
pub struct JourneyRow {
    id: Id,
    name: String,
    stages: i64,
    touchpoints: i64,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    slug: String,
    ws_name: String,
    counts: Vec<(&'static str, i64)>,
    stale: Vec<StaleRow>,
    no_core: Vec<(Id, String)>,
    journeys: Vec<JourneyRow>,
    o: OverviewView,
    /// The index by month (the overview's trend; named as `trend.html` expects).
    trend: String,
    trend_rows: Vec<[String; 6]>,
    caption: String,
}

/// The leaders' overview as the home page shows it (figures from
/// `kohtaamo_app::overview::Overview`, texts in the reader's language).
pub struct OverviewView {
    period: String,
    previous: String,
    /// "62 ± 2 (NPS)" or "not enough answers".
    index: String,
    previous_index: String,
    /// Some(true) up, Some(false) down: moved significantly.
    moved: Option<bool>,
    responses: i64,
    dashboard: String,
    trend: String,
    trend_rows: Vec<[String; 6]>,
    caption: String,
    weakest: Vec<WeakestRow>,
    changes: Vec<(Id, String, String, bool)>,
    recent_alerts: i64,
    reaching: String,
    reviews_overdue: i64,
}

/// A journey's weakest encounter on the home page.
pub struct WeakestRow {
    journey_id: Id,
    journey: String,
    /// "one", "tied" or "unknown".
    status: &'static str,
    /// (touchpoint id, name, index text).
    touchpoints: Vec<(Id, String, String)>,
    owner: String,
    owner_link: Option<String>,
    measured: i64,
}

pub async fn home(State(st): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    let (w, _) = ctx.ws()?;
    let (ws, i) = (w.id, &ctx.i);
    let dir = Names::load(&st.store, ws, i).await?;
    let relations = all::<RelationData>(&st.store, ws).await?;
    let packages = all::<PackageData>(&st.store, ws).await?;
    let journeys = all::<JourneyData>(&st.store, ws).await?;
    let journey_count = journeys.len() as i64;
    let stages = all::<StageData>(&st.store, ws).await?;
    let touchpoints = all::<TouchpointData>(&st.store, ws).await?;
    let today = st.clock.today();
    let stale = relations
        .iter()
        .filter(|r| r.data.is_stale(today))
        .map(|r| StaleRow {
            provider: dir.provider(&r.data.provider),
            provider_unit: match r.data.provider {
                Provider::Unit(u) => Some(u),
                Provider::Person(_) => None,
            },
            customer: dir.customer(&r.data.customer),
            last_reviewed: i.opt_date(&r.data.last_reviewed_on),
        })
        .collect();
    let no_core = packages
        .iter()
        .filter(|p| !kohtaamo_domain::rules::has_core(p.data.elements.iter().map(|e| e.role)))
        .map(|p| (p.id, i.text(&p.data.name)))
        .collect();
    let journeys = journeys
        .iter()
        .map(|j| {
            let st: Vec<Id> = stages
                .iter()
                .filter(|s| s.data.journey_id == j.id)
                .map(|s| s.id)
                .collect();
            JourneyRow {
                id: j.id,
                name: i.text(&j.data.name),
                stages: st.len() as i64,
                touchpoints: touchpoints
                    .iter()
                    .filter(|t| st.contains(&t.data.stage_id))
                    .count() as i64,
            }
        })
        .collect();
    let mut o = overview_view(&st, w.id, w.data.slug.as_str(), i, today).await?;
    let counts = vec![
        ("count-units", dir.units.len() as i64),
        ("count-segments", dir.segments.len() as i64),
        ("count-packages", packages.len() as i64),
        ("count-journeys", journey_count),
        ("count-touchpoints", touchpoints.len() as i64),
        ("count-relations", relations.len() as i64),
    ];
    let c = chrome(&ctx);
    Ok(html(
        HomePage {
            slug: w.data.slug.to_string(),
            ws_name: i.text(&w.data.name),
            i: c.i,
            nav: c.nav,
            langs: c.langs,
            here: c.here,
            counts,
            stale,
            no_core,
            journeys,
            trend: std::mem::take(&mut o.trend),
            trend_rows: std::mem::take(&mut o.trend_rows),
            caption: o.caption.clone(),
            o,
        }
        .render(),
    ))
}

async fn overview_view(
    st: &AppState,
    ws: Id,
    slug: &str,
    i: &I18n,
    today: chrono::NaiveDate,
) -> Result<OverviewView, PageError> {
    use kohtaamo_app::analysis::{Grain, WeakestStatus};
    use kohtaamo_domain::analytics::Shown;
    let o = kohtaamo_app::overview::Overview::load(&st.store, ws, today, i).await?;
    let day = |d: &str| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap_or(today);
    let index = |s: &Shown, m| super::dashboard::index_text(i, s, m);
    let weakest = o
        .weakest
        .iter()
        .map(|w| {
            let owner = w.touchpoints.first().and_then(|t| t.owner);
            WeakestRow {
                journey_id: w.journey_id,
                journey: w.journey.clone(),
                status: match w.status {
                    WeakestStatus::One => "one",
                    WeakestStatus::Tied => "tied",
                    WeakestStatus::Unknown => "unknown",
                },
                touchpoints: w
                    .touchpoints
                    .iter()
                    .map(|t| {
                        (
                            t.touchpoint_id,
                            t.name.clone(),
                            index(&Shown::Score(t.index), Some(t.metric)),
                        )
                    })
                    .collect(),
                owner: if w.status == WeakestStatus::One {
                    w.touchpoints
                        .first()
                        .map(|t| t.owner_name.clone())
                        .unwrap_or_default()
                } else {
                    String::new()
                },
                owner_link: match (w.status, owner) {
                    (WeakestStatus::One, Some(Owner::Unit(u))) => {
                        Some(format!("/w/{slug}/units/{u}"))
                    }
                    _ => None,
                },
                measured: w.measured as i64,
            }
        })
        .collect();
    let caption = i.t("home-trend-caption");
    let k = &o.knowing;
    Ok(OverviewView {
        period: i.period(&day(&o.from), &day(&o.to)),
        previous: i.period(&day(&o.previous_from), &day(&o.previous_to)),
        index: index(&o.index, o.index_metric),
        previous_index: index(&o.previous_index, None),
        moved: match (o.index_changed, o.index, o.previous_index) {
            (true, Shown::Score(a), Shown::Score(b)) => Some(a.value > b.value),
            _ => None,
        },
        responses: o.responses,
        dashboard: format!("/w/{slug}/dashboard?from={}&to={}", o.from, o.to),
        trend: super::charts::trend_svg(i, &caption, &o.trend, Grain::Month),
        trend_rows: super::charts::trend_table(i, &o.trend, Grain::Month),
        caption,
        weakest,
        changes: o
            .moved
            .iter()
            .map(|m| {
                (
                    m.touchpoint_id,
                    m.name.clone(),
                    i.decimals(format!("{:.0} → {:.0}", m.previous_index, m.index)),
                    m.up,
                )
            })
            .collect(),
        recent_alerts: o.recent_alerts as i64,
        reaching: i.args(
            "home-reaching",
            &[
                ("reaching", &k.units_reaching_external.to_string()),
                ("units", &k.units.to_string()),
                (
                    "share",
                    &i.decimals(format!("{:.0}", 100.0 * k.share_reaching_external)),
                ),
            ],
        ),
        reviews_overdue: k.reviews_overdue as i64,
    })
}

// --- catalogue and package ---------------------------------------------------------

pub struct PackageRow {
    id: Id,
    name: String,
    status: String,
    core: String,
    elements: i64,
}

#[derive(Template)]
#[template(path = "catalogue.html")]
struct CataloguePage {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    slug: String,
    packages: Vec<PackageRow>,
}

pub async fn catalogue(State(st): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    let (w, _) = ctx.ws()?;
    let i = &ctx.i;
    let elements: HashMap<Id, String> = all::<ElementData>(&st.store, w.id)
        .await?
        .into_iter()
        .map(|e| (e.id, i.text(&e.data.name)))
        .collect();
    let packages = all::<PackageData>(&st.store, w.id)
        .await?
        .into_iter()
        .map(|p| PackageRow {
            id: p.id,
            name: i.text(&p.data.name),
            status: i.t(if p.data.published {
                "status-published"
            } else {
                "status-draft"
            }),
            core: p
                .data
                .elements
                .iter()
                .filter(|e| e.role == ElementRole::Core)
                .filter_map(|e| elements.get(&e.element_id).cloned())
                .collect::<Vec<_>>()
                .join(", "),
            elements: p.data.elements.len() as i64,
        })
        .collect();
    let c = chrome(&ctx);
    Ok(html(
        CataloguePage {
            slug: w.data.slug.to_string(),
            i: c.i,
            nav: c.nav,
            langs: c.langs,
            here: c.here,
            packages,
        }
        .render(),
    ))
}

pub struct ElementRow {
    name: String,
    role: String,
    kind: String,
    visible: String,
    it: String,
    owner: String,
}

#[derive(Template)]
#[template(path = "package.html")]
struct PackagePage {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    slug: String,
    id: Id,
    name: String,
    status: String,
    description: String,
    has_core: bool,
    svg: String,
    elements: Vec<ElementRow>,
}

async fn package_parts(
    st: &AppState,
    ctx: &PageCtx,
    id: Id,
) -> Result<
    (
        Record<PackageData>,
        Vec<(ElementRole, Record<ElementData>)>,
        Names,
    ),
    PageError,
> {
    let (w, _) = ctx.ws()?;
    let pkg = st
        .store
        .get::<PackageData>(w.id, id)
        .await
        .map_err(|_| PageError::NotFound(ctx.i.clone()))?;
    let mut elements = vec![];
    for pe in &pkg.data.elements {
        elements.push((
            pe.role,
            st.store.get::<ElementData>(w.id, pe.element_id).await?,
        ));
    }
    Ok((pkg, elements, Names::load(&st.store, w.id, &ctx.i).await?))
}

fn package_svg_of(
    ctx: &PageCtx,
    pkg: &Record<PackageData>,
    elements: &[(ElementRole, Record<ElementData>)],
    names: &Names,
) -> diagrams::Svg {
    let refs: Vec<(ElementRole, &Record<ElementData>)> =
        elements.iter().map(|(r, e)| (*r, e)).collect();
    diagrams::package(&ctx.i, pkg.id, &ctx.i.text(&pkg.data.name), &refs, names)
}

pub async fn package(
    State(st): State<AppState>,
    ctx: PageCtx,
    Path((_, id)): Path<(String, Id)>,
) -> Result<Response, PageError> {
    let (pkg, elements, names) = package_parts(&st, &ctx, id).await?;
    let i = &ctx.i;
    let svg = package_svg_of(&ctx, &pkg, &elements, &names)
        .render()
        .map_err(|e| PageError::Internal(e.to_string()))?;
    let rows = elements
        .iter()
        .map(|(role, e)| ElementRow {
            name: i.text(&e.data.name),
            role: i.enum_label("role", role.as_str()),
            kind: i.enum_label("kind", e.data.kind.as_str()),
            visible: yes_no(i, e.data.customer_visible),
            it: yes_no(i, e.data.has_it_components),
            owner: names.owner(&e.data.owner),
        })
        .collect();
    let (w, _) = ctx.ws()?;
    let c = chrome(&ctx);
    Ok(html(
        PackagePage {
            slug: w.data.slug.to_string(),
            id,
            name: i.text(&pkg.data.name),
            status: i.t(if pkg.data.published {
                "status-published"
            } else {
                "status-draft"
            }),
            description: i.text(&pkg.data.description),
            has_core: elements.iter().any(|(r, _)| *r == ElementRole::Core),
            svg,
            elements: rows,
            i: c.i,
            nav: c.nav,
            langs: c.langs,
            here: c.here,
        }
        .render(),
    ))
}

pub async fn package_pdf(
    State(st): State<AppState>,
    ctx: PageCtx,
    Path((_, id)): Path<(String, Id)>,
) -> Result<Response, PageError> {
    use super::pdf::{page, Paper, Part};
    let (pkg, elements, names) = package_parts(&st, &ctx, id).await?;
    let svg = package_svg_of(&ctx, &pkg, &elements, &names);
    let (width, height) = (svg.width as f64, svg.height as f64);
    let svg = svg
        .render()
        .map_err(|e| PageError::Internal(e.to_string()))?;
    let title = format!(
        "{} · {}",
        ctx.i.text(&pkg.data.name),
        ctx.i.t("package-diagram")
    );
    let name = format!("{}.pdf", pkg.data.slug);
    let pdf = tokio::task::spawn_blocking(move || {
        page(Paper::A4Portrait, &title, &[Part { svg, width, height }])
    })
    .await
    .map_err(|e| PageError::Internal(e.to_string()))?
    .map_err(PageError::Internal)?;
    Ok(super::pdf_download(pdf, &name))
}

pub async fn package_svg(
    State(st): State<AppState>,
    ctx: PageCtx,
    Path((_, id)): Path<(String, Id)>,
) -> Result<Response, PageError> {
    let (pkg, elements, names) = package_parts(&st, &ctx, id).await?;
    Ok(svg_download(
        package_svg_of(&ctx, &pkg, &elements, &names).render(),
        &format!("{}.svg", pkg.data.slug),
    ))
}

// --- journeys ----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "journey.html")]
struct JourneyPage {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    slug: String,
    id: Id,
    name: String,
    segment: String,
    blueprint: bool,
    svg: String,
    /// The whole journey at once: its stages as columns of touchpoint cards (the map).
    stages: Vec<StageCards>,
    /// The drawing scaled to the page's width.
    fit: bool,
}

/// A stage of the at-a-glance view, with its touchpoints in order.
pub struct StageCards {
    name: String,
    cards: Vec<TouchpointCard>,
}

pub struct TouchpointCard {
    id: Id,
    name: String,
    channel: String,
    owner: String,
    /// The expected emotion in words.
    emotion: String,
    /// The index cell's text, and its heat class (`heat-low`, `-mid`, `-high`, `-none`).
    score: String,
    heat: &'static str,
    weakest: Option<bool>,
    moment: bool,
}

/// Everything a journey view needs, loaded once.
pub struct JourneyView {
    pub journey: Record<JourneyData>,
    pub stages: Vec<Record<StageData>>,
    pub touchpoints: Vec<Record<TouchpointData>>,
    pub steps: Vec<Record<ProcessStepData>>,
    pub names: Names,
    pub channels: HashMap<String, String>,
    pub segment: String,
    /// Each touchpoint's score over the last 90 days, for the map's score lane.
    pub scores: HashMap<Id, diagrams::ScoreCell>,
}

/// The score lane's cells: per touchpoint its experience index over the last 90 days
/// with the metric and n, coloured red / amber / green by the index; grey "not enough
/// answers" under the minimum sample; the weakest encounter of each journey (or those
/// tied for it) marked, by the rule every page and the API share.
async fn score_cells(
    store: &Store,
    ws: Id,
    i: &I18n,
    to: chrono::NaiveDate,
) -> Result<HashMap<Id, diagrams::ScoreCell>, PageError> {
    use kohtaamo_domain::analytics::index;
    let (from, to) = kohtaamo_app::clock::default_period(to);
    let (snapshot, per) = tokio::try_join!(
        async { Ok::<_, kohtaamo_app::Error>(store.snapshot(ws).await?) },
        kohtaamo_app::analysis::touchpoint_tallies(store, ws, from, to)
    )?;
    let weak = kohtaamo_app::analysis::weakest_flags(&snapshot, &per);
    let min = kohtaamo_app::analysis::MIN_SAMPLE;
    Ok(per
        .into_iter()
        .map(|(id, t)| {
            let most = t.nps_n.max(t.csat_n).max(t.ces_n);
            let cell = match index(&t, min) {
                Some(x) => {
                    let v = x.score.value;
                    diagrams::ScoreCell {
                        label: i.decimals(format!(
                            "{:.0} ({}, n {})",
                            v,
                            x.metric.label(),
                            x.score.n
                        )),
                        fill: if v < 45.0 {
                            "#fca5a5"
                        } else if v < 70.0 {
                            "#fde68a"
                        } else {
                            "#86efac"
                        },
                        index: Some(v),
                        weakest: weak.get(&id).copied(),
                    }
                }
                None if most > 0 => diagrams::ScoreCell {
                    label: i.n("dashboard-not-enough", "n", most),
                    fill: "#e2e8f0",
                    index: None,
                    weakest: None,
                },
                None => diagrams::ScoreCell {
                    label: "–".into(),
                    fill: "#f8fafc",
                    index: None,
                    weakest: None,
                },
            };
            (id, cell)
        })
        .collect())
}

pub async fn load_journey(
    store: &Store,
    ws: Id,
    id: Id,
    i: &I18n,
    today: chrono::NaiveDate,
) -> Result<JourneyView, PageError> {
    let journey = store
        .get::<JourneyData>(ws, id)
        .await
        .map_err(|_| PageError::NotFound(i.clone()))?;
    let by_journey = vec![("journey_id".to_string(), id.to_string())];
    let q = ListQuery {
        limit: i64::MAX,
        offset: 0,
        q: None,
        filters: by_journey,
    };
    let stages = store.list::<StageData>(ws, &q).await?.items;
    let touchpoints = store.list::<TouchpointData>(ws, &q).await?.items;
    let steps = all::<ProcessStepData>(store, ws).await?;
    let dir = Names::load(store, ws, i).await?;
    let channels = all::<ChannelData>(store, ws)
        .await?
        .into_iter()
        .map(|c| (c.data.slug.to_string(), i.text(&c.data.name)))
        .collect();
    let segment = dir
        .segments
        .get(&journey.data.segment_id)
        .cloned()
        .unwrap_or_default();
    let scores = score_cells(store, ws, i, today).await?;
    Ok(JourneyView {
        journey,
        stages,
        touchpoints,
        steps,
        names: dir,
        channels,
        segment,
        scores,
    })
}

impl JourneyView {
    /// The at-a-glance view: every stage with its touchpoints, their index and the
    /// weakest encounter marked (the same cells as the map's score lane).
    pub fn cards(&self, i: &I18n) -> Vec<StageCards> {
        self.layout()
            .stages
            .iter()
            .map(|(stage, tps)| StageCards {
                name: i.text(&stage.data.name),
                cards: tps
                    .iter()
                    .map(|t| {
                        let cell = self.scores.get(&t.id);
                        TouchpointCard {
                            id: t.id,
                            name: i.text(&t.data.name),
                            channel: match &t.data.channel {
                                Channel::Builtin(b) => i.enum_label("channel", b.as_str()),
                                Channel::Custom(c) => self
                                    .channels
                                    .get(c.as_str())
                                    .cloned()
                                    .unwrap_or_else(|| c.to_string()),
                            },
                            owner: self.names.owner(&t.data.owner),
                            emotion: i.t(&format!("emotion-level-{}", t.data.emotion.value() + 2)),
                            score: cell.map(|c| c.label.clone()).unwrap_or_else(|| "–".into()),
                            heat: match cell.and_then(|c| c.index) {
                                Some(v) if v < 45.0 => "heat-low",
                                Some(v) if v < 70.0 => "heat-mid",
                                Some(_) => "heat-high",
                                None => "heat-none",
                            },
                            weakest: cell.and_then(|c| c.weakest),
                            moment: t.data.moment_of_truth,
                        }
                    })
                    .collect(),
            })
            .collect()
    }

    /// The map or blueprint on an A3 landscape page: the journey in as many bands as
    /// make it largest (up to six), under a title with the date of the scores.
    pub fn pdf(
        &self,
        i: &I18n,
        blueprint: bool,
        today: chrono::NaiveDate,
    ) -> Result<Vec<u8>, String> {
        use super::pdf::{fit_scale, page, Paper, Part};
        let name = i.text(&self.journey.data.name);
        let full = self.layout();
        let draw = |band: &JourneyLayout| {
            let svg = if blueprint {
                let steps: Vec<&Record<ProcessStepData>> = self.steps.iter().collect();
                diagrams::blueprint(
                    i,
                    (self.journey.id, &name),
                    band,
                    &steps,
                    &self.names,
                    &self.scores,
                    None,
                )
            } else {
                diagrams::journey_map(
                    i,
                    (self.journey.id, &name),
                    band,
                    &self.names,
                    &self.channels,
                    &self.scores,
                    None,
                )
            };
            let (width, height) = (svg.width as f64, svg.height as f64);
            svg.render()
                .map(|svg| Part { svg, width, height })
                .map_err(|e| e.to_string())
        };
        let mut best: Option<(f64, Vec<Part>)> = None;
        for k in 1..=full.touchpoints().clamp(1, 6) {
            let parts = full
                .bands(k)
                .iter()
                .map(&draw)
                .collect::<Result<Vec<_>, _>>()?;
            let s = fit_scale(
                Paper::A3Landscape,
                &parts
                    .iter()
                    .map(|p| (p.width, p.height))
                    .collect::<Vec<_>>(),
            );
            if best.as_ref().is_none_or(|(b, _)| s > *b) {
                best = Some((s, parts));
            }
        }
        let parts = best.map(|(_, p)| p).unwrap_or_default();
        let kind = i.t(if blueprint {
            "journey-blueprint"
        } else {
            "journey-map"
        });
        let (from, to) = kohtaamo_app::clock::default_period(today);
        let title = format!(
            "{name} · {kind} · {} {}",
            i.t("row-scores"),
            i.period(&from, &to)
        );
        page(Paper::A3Landscape, &title, &parts)
    }

    pub fn layout(&self) -> JourneyLayout<'_> {
        JourneyLayout {
            stages: self
                .stages
                .iter()
                .map(|s| {
                    (
                        s,
                        self.touchpoints
                            .iter()
                            .filter(|t| t.data.stage_id == s.id)
                            .collect(),
                    )
                })
                .collect(),
        }
    }
    /// The map or blueprint; `links` (the workspace's page root, `/w/{slug}`) makes each
    /// touchpoint a link to its dashboard, for the drawing shown on a page.
    pub fn svg(&self, i: &I18n, blueprint: bool, links: Option<&str>) -> diagrams::Svg {
        let name = i.text(&self.journey.data.name);
        if blueprint {
            let steps: Vec<&Record<ProcessStepData>> = self.steps.iter().collect();
            diagrams::blueprint(
                i,
                (self.journey.id, &name),
                &self.layout(),
                &steps,
                &self.names,
                &self.scores,
                links,
            )
        } else {
            diagrams::journey_map(
                i,
                (self.journey.id, &name),
                &self.layout(),
                &self.names,
                &self.channels,
                &self.scores,
                links,
            )
        }
    }
}

async fn journey_page(
    st: AppState,
    ctx: PageCtx,
    id: Id,
    blueprint: bool,
    fit: bool,
) -> Result<Response, PageError> {
    let (w, _) = ctx.ws()?;
    let data = load_journey(&st.store, w.id, id, &ctx.i, st.clock.today()).await?;
    let svg = data
        .svg(&ctx.i, blueprint, Some(&format!("/w/{}", w.data.slug)))
        .render()
        .map_err(|e| PageError::Internal(e.to_string()))?;
    let c = chrome(&ctx);
    Ok(html(
        JourneyPage {
            slug: w.data.slug.to_string(),
            id,
            name: ctx.i.text(&data.journey.data.name),
            segment: ctx.i.s("journey-for-segment", "name", &data.segment),
            blueprint,
            svg,
            stages: if blueprint {
                vec![]
            } else {
                data.cards(&ctx.i)
            },
            fit,
            i: c.i,
            nav: c.nav,
            langs: c.langs,
            here: c.here,
        }
        .render(),
    ))
}

/// `?fit=1`: the drawing scaled to the page's width instead of at its size.
#[derive(Deserialize)]
pub struct FitQuery {
    #[serde(default)]
    fit: Option<String>,
}

pub async fn journey_map(
    State(st): State<AppState>,
    ctx: PageCtx,
    Path((_, id)): Path<(String, Id)>,
    Query(q): Query<FitQuery>,
) -> Result<Response, PageError> {
    journey_page(st, ctx, id, false, q.fit.is_some()).await
}
pub async fn journey_blueprint(
    State(st): State<AppState>,
    ctx: PageCtx,
    Path((_, id)): Path<(String, Id)>,
    Query(q): Query<FitQuery>,
) -> Result<Response, PageError> {
    journey_page(st, ctx, id, true, q.fit.is_some()).await
}

async fn journey_svg(
    st: AppState,
    ctx: PageCtx,
    id: Id,
    blueprint: bool,
) -> Result<Response, PageError> {
    let (w, _) = ctx.ws()?;
    let data = load_journey(&st.store, w.id, id, &ctx.i, st.clock.today()).await?;
    let suffix = if blueprint { "blueprint" } else { "map" };
    Ok(svg_download(
        data.svg(&ctx.i, blueprint, None).render(),
        &format!("{}-{suffix}.svg", data.journey.data.slug),
    ))
}
async fn journey_pdf(
    st: AppState,
    ctx: PageCtx,
    id: Id,
    blueprint: bool,
) -> Result<Response, PageError> {
    let (w, _) = ctx.ws()?;
    let today = st.clock.today();
    let data = load_journey(&st.store, w.id, id, &ctx.i, today).await?;
    let suffix = if blueprint { "blueprint" } else { "map" };
    let name = format!("{}-{suffix}.pdf", data.journey.data.slug);
    let i = ctx.i.clone();
    // Layout and conversion are CPU work: off the async workers.
    let pdf = tokio::task::spawn_blocking(move || data.pdf(&i, blueprint, today))
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?
        .map_err(PageError::Internal)?;
    Ok(super::pdf_download(pdf, &name))
}
pub async fn journey_map_pdf(
    State(st): State<AppState>,
    ctx: PageCtx,
    Path((_, id)): Path<(String, Id)>,
) -> Result<Response, PageError> {
    journey_pdf(st, ctx, id, false).await
}
pub async fn journey_blueprint_pdf(
    State(st): State<AppState>,
    ctx: PageCtx,
    Path((_, id)): Path<(String, Id)>,
) -> Result<Response, PageError> {
    journey_pdf(st, ctx, id, true).await
}

pub async fn journey_map_svg(
    State(st): State<AppState>,
    ctx: PageCtx,
    Path((_, id)): Path<(String, Id)>,
) -> Result<Response, PageError> {
    journey_svg(st, ctx, id, false).await
}
pub async fn journey_blueprint_svg(
    State(st): State<AppState>,
    ctx: PageCtx,
    Path((_, id)): Path<(String, Id)>,
) -> Result<Response, PageError> {
    journey_svg(st, ctx, id, true).await
}

// --- units -------------------------------------------------------------------------

pub struct UnitRow {
    id: Id,
    name: String,
    depth: usize,
    relations: usize,
}

#[derive(Template)]
#[template(path = "units.html")]
struct UnitsPage {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    slug: String,
    units: Vec<UnitRow>,
}

pub async fn units(State(st): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    let (w, _) = ctx.ws()?;
    let units = all::<UnitData>(&st.store, w.id).await?;
    let relations = all::<RelationData>(&st.store, w.id).await?;
    // Depth-first over the tree, children in slug order.
    let mut rows = vec![];
    fn walk(
        units: &[Record<UnitData>],
        rels: &[Record<RelationData>],
        parent: Option<Id>,
        depth: usize,
        i: &I18n,
        out: &mut Vec<UnitRow>,
    ) {
        for u in units.iter().filter(|u| u.data.parent_id == parent) {
            let n = rels
                .iter()
                .filter(|r| r.data.provider == Provider::Unit(u.id))
                .count();
            out.push(UnitRow {
                id: u.id,
                name: i.text(&u.data.name),
                depth: depth.min(3),
                relations: n,
            });
            walk(units, rels, Some(u.id), depth + 1, i, out);
        }
    }
    walk(&units, &relations, None, 0, &ctx.i, &mut rows);
    let c = chrome(&ctx);
    Ok(html(
        UnitsPage {
            slug: w.data.slug.to_string(),
            i: c.i,
            nav: c.nav,
            langs: c.langs,
            here: c.here,
            units: rows,
        }
        .render(),
    ))
}

/// A touchpoint the unit owns, with its score and whether it is its journey's weakest
/// encounter (`Some(true)`) or tied for it (`Some(false)`).
pub struct UnitTouchpoint {
    id: Id,
    name: String,
    journey: String,
    channel: String,
    lane: String,
    score: String,
    weakest: Option<bool>,
}

pub struct CustomerRow {
    id: Id,
    customer: String,
    customer_kind: String,
    value: String,
    last_reviewed: String,
    stale: bool,
}

#[derive(Template)]
#[template(path = "unit.html")]
struct UnitPage {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    slug: String,
    id: Id,
    csrf: String,
    can_edit: bool,
    name: String,
    parent: Option<String>,
    description: String,
    flash: Option<&'static str>,
    customers: Vec<CustomerRow>,
    served_by: Vec<String>,
    touchpoints: Vec<UnitTouchpoint>,
    steps: Vec<String>,
    elements: Vec<String>,
    people: Vec<String>,
    chain: Option<String>,
    /// The unit's who-is-my-customer answers due for review now: (relation id,
    /// customer, "due since …" or "never reviewed"). Read from the relations, so a
    /// review takes an item off at once.
    due: Vec<(Id, String, String)>,
    /// The user may review this unit's answers (an editor, or someone working here).
    can_review: bool,
    /// Who works in the unit (name, whether the unit's lead); the workspace's members
    /// not in it (admins add them).
    members: Vec<(String, bool)>,
    others: Vec<String>,
    can_admin: bool,
    /// Score alerts sent to this unit, newest first.
    alerts: Vec<super::alerts_page::AlertRow>,
    /// Frontline captures at the unit's touchpoints, newest first: (when, where,
    /// what, needs follow-up).
    captures: Vec<(String, String, String, bool)>,
    /// The unit's open follow-ups, most urgent first: (id, due or overdue in words,
    /// overdue, why it opened); how many are open and overdue.
    follow_ups: Vec<(Id, String, bool, String)>,
    follow_ups_open: i64,
    follow_ups_overdue: i64,
    /// Root causes of its closed follow-ups, most frequent first: (cause, count).
    causes: Vec<(String, i64)>,
    /// The last 90 days in one line: closed, on time, recovered ("" when none closed).
    follow_up_outcome: String,
}

#[derive(Deserialize)]
pub struct FlashQuery {
    #[serde(default)]
    done: Option<String>,
}

pub async fn unit(
    State(st): State<AppState>,
    ctx: PageCtx,
    Path((_, id)): Path<(String, Id)>,
    Query(q): Query<FlashQuery>,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    let i = &ctx.i;
    let unit = st
        .store
        .get::<UnitData>(w.id, id)
        .await
        .map_err(|_| PageError::NotFound(i.clone()))?;
    // One read of the workspace serves every section of the page.
    let snapshot = st.store.snapshot(w.id).await?;
    let dir = Names::new(&snapshot, i);
    let relations = &snapshot.relations;
    let today = st.clock.today();
    let people_here: Vec<&(Id, PersonData)> = snapshot
        .people
        .iter()
        .filter(|(_, p)| p.unit_id == Some(id))
        .collect();
    let ours = |p: &Provider| match p {
        Provider::Unit(u) => *u == id,
        Provider::Person(pid) => people_here.iter().any(|(x, _)| x == pid),
    };
    let customers = relations
        .iter()
        .filter(|(_, r)| ours(&r.provider))
        .map(|(rid, r)| CustomerRow {
            id: *rid,
            customer: dir.customer(&r.customer),
            customer_kind: i.t(match r.customer {
                Customer::Segment(_) => "customer-segment",
                Customer::Unit(_) => "customer-unit",
                Customer::Partner(_) => "customer-partner",
            }),
            value: i.text(&r.value_statement),
            last_reviewed: i.opt_date(&r.last_reviewed_on),
            stale: r.is_stale(today),
        })
        .collect();
    let served_by = relations
        .iter()
        .filter(|(_, r)| r.customer == Customer::Unit(id))
        .map(|(_, r)| dir.provider(&r.provider))
        .collect();
    // "My touchpoints and their scores": the numbers reach the unit that owns them.
    let scores = score_cells(&st.store, w.id, i, st.clock.today()).await?;
    let touchpoints = snapshot
        .stages
        .iter()
        .flat_map(|(_, stage, tps)| tps.iter().map(move |(tid, t)| (stage.journey_id, tid, t)))
        .filter(|(_, _, t)| t.owner == Some(Owner::Unit(id)))
        .map(|(journey, tid, t)| {
            let channel = match &t.channel {
                Channel::Builtin(b) => i.enum_label("channel", b.as_str()),
                Channel::Custom(s) => s.to_string(),
            };
            let cell = scores.get(tid);
            UnitTouchpoint {
                id: *tid,
                name: i.text(&t.name),
                journey: Names::get(&dir.journeys, journey),
                channel,
                lane: i.enum_label("lane", t.lane.as_str()),
                score: cell.map(|c| c.label.clone()).unwrap_or_else(|| "–".into()),
                weakest: cell.and_then(|c| c.weakest),
            }
        })
        .collect();
    let steps = snapshot
        .steps
        .iter()
        .filter(|(_, s)| s.owner_unit_id == Some(id))
        .map(|(_, s)| i.text(&s.name))
        .collect();
    let elements = snapshot
        .elements
        .iter()
        .filter(|(_, e)| e.owner == Some(Owner::Unit(id)))
        .map(|(_, e)| i.text(&e.name))
        .collect();
    let names = &dir;
    let chain = snapshot
        .chains()
        .into_iter()
        .find(|ch| ch.unit == id)
        .and_then(|ch| super::insight_page::chain_svg(i, names, &ch))
        .map(|svg| askama::Template::render(&svg))
        .transpose()
        .map_err(|e| PageError::Internal(e.to_string()))?;
    let due = relations
        .iter()
        .filter(|(_, r)| ours(&r.provider) && r.is_stale(today))
        .map(|(rid, r)| {
            let when = match r.last_reviewed_on {
                Some(d) => i.s(
                    "due-since",
                    "date",
                    &i.date(&(d + chrono::Duration::days(r.review_interval_days))),
                ),
                None => i.t("never-reviewed"),
            };
            (*rid, dir.customer(&r.customer), when)
        })
        .collect();
    let members = kohtaamo_app::units::members(&st.store, w.id, id).await?;
    let works_here = members.iter().any(|m| m.user_id == ctx.user.id);
    let others = if role.is_admin() {
        st.store
            .members(w.id)
            .await?
            .into_iter()
            .filter(|m| !members.iter().any(|u| u.user_id == m.user_id))
            .map(|m| m.username)
            .collect()
    } else {
        vec![]
    };
    // The model is loaded already (a copy in memory beats reading it again): only the
    // surveys are missing for the alerts' names.
    let surveys = all::<kohtaamo_domain::survey::SurveyData>(&st.store, w.id).await?;
    let an = kohtaamo_app::analysis::Analysis::new(snapshot.clone(), &surveys, i);
    let alerts =
        super::alerts_page::alert_rows(&st, w.id, w.data.slug.as_str(), i, &an, Some(id)).await?;
    let captures = st
        .store
        .encounters(
            w.id,
            &kohtaamo_storage::encounters::EncounterFilter {
                unit_id: Some(id),
                captures_only: true,
                limit: 10,
                ..Default::default()
            },
        )
        .await?
        .into_iter()
        .map(|e| {
            let place = e
                .touchpoint_name
                .as_ref()
                .map(|t| i.text(t))
                .unwrap_or_default();
            let follow_up = e.capture.as_ref().is_some_and(|c| c.needs_follow_up);
            (i.time(&e.at), place, e.text.unwrap_or_default(), follow_up)
        })
        .collect();
    let open = kohtaamo_app::followups::list(
        &st.store,
        w.id,
        &kohtaamo_storage::followups::FollowUpFilter {
            open: true,
            unit_ids: Some(vec![id]),
            limit: 1000,
            ..Default::default()
        },
    )
    .await?;
    let now = st.clock.now();
    let follow_ups: Vec<(Id, String, bool, String)> = open
        .iter()
        .map(|f| {
            let (due, overdue) = super::followups_page::due(i, f, now);
            (f.id, due, overdue, super::followups_page::reason_text(i, f))
        })
        .collect();
    let follow_ups_overdue = follow_ups.iter().filter(|f| f.2).count() as i64;
    let causes = st
        .store
        .follow_up_causes(w.id, Some(id))
        .await?
        .into_iter()
        .map(|(c, n)| (i.t(&format!("root-cause-{c}")), n))
        .collect();
    // The last 90 days of the outer loop: on time, recovered.
    let today = st.clock.today();
    let outcomes = kohtaamo_app::followups::outcomes(
        &st.store,
        w.id,
        kohtaamo_app::clock::default_period(today),
    )
    .await?;
    let follow_up_outcome = outcomes
        .by_unit
        .iter()
        .find(|g| g.key == Some(id))
        .map(|g| super::followups_page::outcome_text(i, &g.outcome))
        .unwrap_or_default();
    let c = chrome(&ctx);
    Ok(html(
        UnitPage {
            follow_ups_open: follow_ups.len() as i64,
            follow_ups_overdue,
            follow_ups: follow_ups.into_iter().take(10).collect(),
            causes,
            follow_up_outcome,
            captures,
            due,
            can_review: role.can_edit() || works_here,
            members: members.into_iter().map(|m| (m.username, m.lead)).collect(),
            others,
            can_admin: role.is_admin(),
            alerts,
            chain,
            slug: w.data.slug.to_string(),
            id,
            csrf: ctx.csrf.clone(),
            can_edit: role.can_edit(),
            name: i.text(&unit.data.name),
            parent: unit.data.parent_id.and_then(|p| dir.units.get(&p).cloned()),
            description: i.text(&unit.data.description),
            flash: q.done.filter(|d| d == "reviewed").map(|_| "reviewed-done"),
            customers,
            served_by,
            touchpoints,
            steps,
            elements,
            people: people_here
                .iter()
                .map(|(_, p)| p.name.as_str().to_owned())
                .collect(),
            i: c.i,
            nav: c.nav,
            langs: c.langs,
            here: c.here,
        }
        .render(),
    ))
}

#[derive(Deserialize)]
pub struct UnitMemberForm {
    #[serde(default)]
    username: String,
    /// "1": the unit's lead (adding again changes only this).
    #[serde(default)]
    lead: String,
}

/// An admin puts a workspace member in the unit, or takes them out.
async fn change_unit_member(
    st: &AppState,
    id: Id,
    ctx: &PageCtx,
    username: &str,
    add: Option<bool>,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    let r = if let Some(lead) = add {
        kohtaamo_app::units::add_member(&st.store, w.id, id, username, lead, role).await
    } else {
        kohtaamo_app::units::remove_member(&st.store, w.id, id, username, role).await
    };
    r.map_err(|e| PageError::app(e, &ctx.i))?;
    Ok(Redirect::to(&format!("/w/{}/units/{id}#staff-h", w.data.slug)).into_response())
}

pub async fn add_unit_member(
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    CsrfForm { ctx, form }: CsrfForm<UnitMemberForm>,
) -> Result<Response, PageError> {
    change_unit_member(&st, id, &ctx, &form.username, Some(form.lead == "1")).await
}

pub async fn remove_unit_member(
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    CsrfForm { ctx, form }: CsrfForm<UnitMemberForm>,
) -> Result<Response, PageError> {
    change_unit_member(&st, id, &ctx, &form.username, None).await
}

#[derive(Deserialize)]
pub struct NextForm {
    #[serde(default)]
    next: String,
}

/// "Mark reviewed" on a who-is-my-customer relation (editors, admins, and members of
/// the providing unit: `kohtaamo_app::units`).
pub async fn mark_reviewed(
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    CsrfForm { ctx, form }: CsrfForm<NextForm>,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    kohtaamo_app::units::review(&st.store, w.id, id, (ctx.user.id, role), st.clock.today())
        .await
        .map_err(|e| PageError::app(e, &ctx.i))?;
    let next = safe_next(&form.next);
    let sep = if next.contains('?') { '&' } else { '?' };
    Ok(Redirect::to(&format!("{next}{sep}done=reviewed")).into_response())
}
