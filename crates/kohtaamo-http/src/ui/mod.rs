//! The web UI: server-rendered pages under `/` (login, workspaces) and `/w/{ws}/…`
//! (home, service catalogue, package, journey map and blueprint, units). Pages work
//! without JavaScript; every text goes through [`crate::i18n`]; every form carries the
//! session's CSRF token and is checked by [`CsrfForm`] before its handler runs.

mod admin;
mod alerts_page;
mod case_analytics_page;
mod case_steps_page;
mod cases_page;
mod charts;
mod customers_page;
mod dashboard;
mod diagrams;
mod followup_rules_page;
mod followups_page;
mod forms;
mod import_page;
mod insight_page;
mod mining_page;
mod pages;
mod pdf;
mod privacy_page;
pub mod public;
mod recovery_page;
mod status_page;
mod surveys_page;
mod themes_page;

use std::collections::HashMap;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use kohtaamo_domain::model::Role;
use kohtaamo_storage::auth::{User, Workspace};

use crate::auth::session_cookie;
use crate::i18n::I18n;
pub(crate) use crate::i18n::{language_for, LANG_COOKIE};
use crate::AppState;

pub const LOGIN_CSRF_COOKIE: &str = "kohtaamo_login_csrf";

/// The pages whose work can take longer than a request is otherwise given: creating a
/// workspace (the demo generates a year of history) and importing a file. The caller
/// gives them `long_request_timeout` instead of `request_timeout`.
pub fn long_router(config: &crate::HttpConfig) -> Router<AppState> {
    Router::new()
        .route("/workspaces/new", post(pages::create_workspace))
        .route(
            "/w/{ws}/encounters/import",
            get(import_page::start)
                .post(import_page::upload)
                .layer(axum::extract::DefaultBodyLimit::max(config.upload_limit)),
        )
        .route(
            "/w/{ws}/encounters/import/{token}",
            get(import_page::mapping).post(import_page::run),
        )
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::workspaces))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/lang/{code}", get(pages::set_language))
        .route("/static/app.css", get(stylesheet))
        .route("/static/app.js", get(script))
        .route("/static/survey.css", get(public::survey_css))
        .route("/static/survey.js", get(public::survey_js))
        .route("/widget.js", get(public::widget))
        .route("/f/{key}", get(public::page).post(public::submit))
        .route(
            "/r/{id}/{token}",
            get(recovery_page::page).post(recovery_page::answer),
        )
        .route(
            "/s",
            get(status_page::lookup_form).post(status_page::lookup),
        )
        .route("/s/{token}", get(status_page::page))
        .route("/s/{token}/reply", post(status_page::reply))
        .route("/s/{token}/subscribe", post(status_page::subscribe))
        .route(
            "/s/u/{id}/{token}",
            get(status_page::unsubscribe_form).post(status_page::unsubscribe),
        )
        .route(
            "/w/{ws}/privacy",
            get(privacy_page::page).post(privacy_page::act),
        )
        .route("/w/{ws}/privacy/retention", post(privacy_page::retention))
        .route("/w/{ws}/cases", get(cases_page::list))
        .route("/w/{ws}/cases/analytics", get(case_analytics_page::page))
        .route("/w/{ws}/cases/settings", post(cases_page::settings))
        .route("/w/{ws}/cases/{id}", get(cases_page::one))
        .route("/w/{ws}/cases/{id}/status", post(cases_page::move_to))
        .route("/w/{ws}/cases/{id}/links", post(cases_page::issue))
        .route("/w/{ws}/cases/{id}/links/revoke", post(cases_page::revoke))
        .route("/w/{ws}/cases/{id}/preview", get(status_page::preview))
        .route(
            "/w/{ws}/journeys/{id}/case-steps",
            get(case_steps_page::editor).post(case_steps_page::post),
        )
        .route("/w/{ws}", get(pages::home))
        .route("/w/{ws}/packages", get(pages::catalogue))
        .route("/w/{ws}/packages/{id}", get(pages::package))
        .route("/w/{ws}/packages/{id}/diagram.svg", get(pages::package_svg))
        .route("/w/{ws}/packages/{id}/diagram.pdf", get(pages::package_pdf))
        .route("/w/{ws}/journeys/{id}/map.pdf", get(pages::journey_map_pdf))
        .route(
            "/w/{ws}/journeys/{id}/blueprint.pdf",
            get(pages::journey_blueprint_pdf),
        )
        .route("/w/{ws}/journeys/{id}", get(pages::journey_map))
        .route("/w/{ws}/journeys/{id}/actual", get(mining_page::page))
        .route("/w/{ws}/journeys/{id}/actual.svg", get(mining_page::svg))
        .route("/w/{ws}/journeys/{id}/actual.pdf", get(mining_page::pdf))
        .route(
            "/w/{ws}/journeys/{id}/blueprint",
            get(pages::journey_blueprint),
        )
        .route("/w/{ws}/journeys/{id}/map.svg", get(pages::journey_map_svg))
        .route(
            "/w/{ws}/journeys/{id}/blueprint.svg",
            get(pages::journey_blueprint_svg),
        )
        .route("/w/{ws}/insight", get(insight_page::insight))
        .route(
            "/w/{ws}/surveys",
            get(surveys_page::list).post(surveys_page::create),
        )
        .route("/w/{ws}/surveys/{id}", get(surveys_page::show))
        .route(
            "/w/{ws}/surveys/{id}/status",
            post(surveys_page::set_status),
        )
        .route(
            "/w/{ws}/surveys/{id}/questions",
            post(surveys_page::add_question),
        )
        .route(
            "/w/{ws}/surveys/{id}/questions/{key}/delete",
            post(surveys_page::delete_question),
        )
        .route(
            "/w/{ws}/surveys/{id}/questions/{key}/edit",
            post(surveys_page::edit_question),
        )
        .route("/w/{ws}/surveys/{id}/preview", get(surveys_page::preview))
        .route(
            "/w/{ws}/surveys/{id}/questions/{key}/move",
            post(surveys_page::move_question),
        )
        .route(
            "/w/{ws}/surveys/{id}/settings",
            post(surveys_page::settings),
        )
        .route(
            "/w/{ws}/surveys/{id}/invitations",
            post(surveys_page::invitations),
        )
        .route(
            "/w/{ws}/surveys/{id}/responses",
            get(surveys_page::responses),
        )
        .route(
            "/w/{ws}/surveys/{id}/responses/{rid}",
            get(surveys_page::response),
        )
        .route(
            "/w/{ws}/surveys/{id}/responses/{rid}/delete",
            post(surveys_page::delete_response),
        )
        .route(
            "/w/{ws}/surveys/{id}/responses/{rid}/accept",
            post(surveys_page::accept_response),
        )
        .route("/w/{ws}/dashboard", get(dashboard::dashboard))
        .route("/w/{ws}/dashboard.csv", get(dashboard::dashboard_csv))
        .route(
            "/w/{ws}/dashboard/{by}/{key}",
            get(dashboard::group_dashboard),
        )
        .route(
            "/w/{ws}/dashboard/{by}/{key}/touchpoints.csv",
            get(dashboard::group_csv),
        )
        .route("/w/{ws}/responses", get(surveys_page::group_responses))
        .route("/w/{ws}/follow-ups", get(followups_page::list))
        .route(
            "/w/{ws}/follow-up-rules",
            get(followup_rules_page::list).post(followup_rules_page::add),
        )
        .route(
            "/w/{ws}/follow-up-rules/apply",
            post(followup_rules_page::apply),
        )
        .route(
            "/w/{ws}/follow-up-rules/{id}/delete",
            post(followup_rules_page::delete),
        )
        .route(
            "/w/{ws}/follow-up-rules/{id}/active",
            post(followup_rules_page::toggle),
        )
        .route(
            "/w/{ws}/follow-ups/{id}",
            get(followups_page::one).post(followups_page::act),
        )
        .route("/w/{ws}/alerts", get(alerts_page::alerts))
        .route("/w/{ws}/alerts/rules", post(alerts_page::create_rule))
        .route(
            "/w/{ws}/alerts/rules/{id}/delete",
            post(alerts_page::delete_rule),
        )
        .route("/w/{ws}/customers", get(customers_page::search))
        .route("/w/{ws}/customers/{ident}", get(customers_page::timeline))
        .route("/w/{ws}/customers/{ident}/link", post(customers_page::link))
        .route(
            "/w/{ws}/customer-links/{id}/unlink",
            post(customers_page::unlink),
        )
        .route(
            "/w/{ws}/capture",
            get(customers_page::capture_form).post(customers_page::capture_post),
        )
        .route("/w/{ws}/capture/qr/{file}", get(customers_page::capture_qr))
        .route(
            "/w/{ws}/capture-themes",
            get(themes_page::list).post(themes_page::add),
        )
        .route(
            "/w/{ws}/capture-themes/{id}/accept",
            post(themes_page::accept),
        )
        .route(
            "/w/{ws}/capture-themes/{id}/merge",
            post(themes_page::merge),
        )
        .route("/w/{ws}/units", get(pages::units))
        .route("/w/{ws}/units/{id}", get(pages::unit))
        .route("/w/{ws}/relations/{id}/review", post(pages::mark_reviewed))
        .route("/w/{ws}/units/{id}/members", post(pages::add_unit_member))
        .route(
            "/w/{ws}/units/{id}/members/remove",
            post(pages::remove_unit_member),
        )
        .route("/tokens", get(admin::tokens).post(admin::create_token))
        .route("/tokens/email", post(admin::set_email))
        .route("/tokens/{id}/revoke", post(admin::revoke_token))
        .route(
            "/w/{ws}/members",
            get(admin::members).post(admin::set_member),
        )
        .route(
            "/w/{ws}/members/{user_id}/remove",
            post(admin::remove_member),
        )
        .route("/w/{ws}/members/account", post(admin::create_account))
        .route("/workspaces", get(pages::workspace_list))
        .route("/w/{ws}/edit", get(forms::index))
        .route("/w/{ws}/edit/{collection}", get(forms::list))
        .route(
            "/w/{ws}/edit/{collection}/new",
            get(forms::new_form).post(forms::create),
        )
        .route(
            "/w/{ws}/edit/{collection}/{id}",
            get(forms::edit_form).post(forms::update),
        )
        .route("/w/{ws}/edit/{collection}/{id}/delete", post(forms::delete))
        .route(
            "/w/{ws}/edit/{collection}/{id}/move",
            post(forms::move_item),
        )
}

async fn stylesheet() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../static/app.css"),
    )
}

async fn script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../static/app.js"),
    )
}

/// A static file compiled into the binary, cacheable for five minutes.
pub(super) fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// Only local paths are followed after login or a language switch (no open redirect).
pub fn safe_next(next: &str) -> String {
    // Browsers drop TAB, CR and LF anywhere in a URL and read `\` as `/`, so
    // "/<TAB>/evil.example" becomes "//evil.example", another site. Only a path on this
    // site is kept: one leading `/`, then no `/` or `\`, and no control characters or
    // spaces anywhere (a CR or LF would also break the Location header).
    let bytes = next.as_bytes();
    let ok = bytes.first() == Some(&b'/')
        && !matches!(bytes.get(1), Some(b'/') | Some(b'\\'))
        && !next.contains('\\')
        && !next.chars().any(|c| c.is_control() || c.is_whitespace());
    if ok {
        next.to_owned()
    } else {
        "/".into()
    }
}

/// What a page failed with; rendered as a page, never as JSON.
pub enum PageError {
    Login(String),
    NotFound(I18n),
    Forbidden(I18n),
    /// The database is down or its disk full: 503 with `Retry-After`.
    Unavailable(kohtaamo_storage::Outage),
    /// A report still being computed (longer than the report wait): 202, the page
    /// at this address (path and query) reloads itself.
    Computing(I18n, String),
    Internal(String),
}

impl From<kohtaamo_storage::StoreError> for PageError {
    fn from(e: kohtaamo_storage::StoreError) -> Self {
        match e {
            kohtaamo_storage::StoreError::NotFound => PageError::NotFound(I18n::new("en", "en")),
            kohtaamo_storage::StoreError::Unavailable(o, _) => PageError::Unavailable(o),
            other => PageError::Internal(other.to_string()),
        }
    }
}

impl PageError {
    /// A use case's error as a page in the reader's language.
    pub fn app(e: kohtaamo_app::Error, i: &I18n) -> Self {
        match e {
            kohtaamo_app::Error::NotFound => PageError::NotFound(i.clone()),
            kohtaamo_app::Error::Forbidden(_) => PageError::Forbidden(i.clone()),
            other => other.into(),
        }
    }
}

impl From<kohtaamo_app::Error> for PageError {
    fn from(e: kohtaamo_app::Error) -> Self {
        match e {
            kohtaamo_app::Error::NotFound => PageError::NotFound(I18n::new("en", "en")),
            kohtaamo_app::Error::Forbidden(_) => PageError::Forbidden(I18n::new("en", "en")),
            kohtaamo_app::Error::Internal(cause) => PageError::Internal(cause),
            kohtaamo_app::Error::Unavailable(o) => PageError::Unavailable(o),
            other => PageError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::Login(next) => {
                Redirect::to(&format!("/login?next={}", pages::encode(&next))).into_response()
            }
            PageError::NotFound(i) => (
                StatusCode::NOT_FOUND,
                pages::error_page(i, "not-found-text"),
            )
                .into_response(),
            PageError::Forbidden(i) => (
                StatusCode::FORBIDDEN,
                pages::error_page(i, "forbidden-text"),
            )
                .into_response(),
            PageError::Unavailable(o) => {
                let mut resp = (
                    StatusCode::SERVICE_UNAVAILABLE,
                    pages::error_page(I18n::new("en", "en"), "unavailable-text"),
                )
                    .into_response();
                if let Ok(v) = o.retry_after_secs().to_string().parse() {
                    resp.headers_mut()
                        .insert(axum::http::header::RETRY_AFTER, v);
                }
                resp
            }
            PageError::Computing(i, here) => {
                pages::computing_page(i, here, crate::REPORT_RETRY_SECONDS)
            }
            PageError::Internal(cause) => {
                tracing::error!(%cause, "page failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
            }
        }
    }
}

/// The signed-in user of a page, the language to show it in and, under `/w/{ws}`, the
/// workspace and the user's role there (a non-member gets the not-found page).
pub struct PageCtx {
    pub user: User,
    /// The CSRF token for this page's forms, masked afresh for each response.
    pub csrf: String,
    csrf_secret: String,
    pub ws: Option<(Workspace, Role)>,
    pub i: I18n,
    /// Path and query of this page (for the language switch).
    pub here: String,
}

impl PageCtx {
    pub fn ws(&self) -> Result<(&Workspace, Role), PageError> {
        self.ws
            .as_ref()
            .map(|(w, r)| (w, *r))
            .ok_or_else(|| PageError::NotFound(self.i.clone()))
    }

    /// The workspace, for a step only editors (and admins) may take: 403 otherwise.
    pub fn edit_ws(&self) -> Result<&Workspace, PageError> {
        match self.ws()? {
            (w, role) if role.can_edit() => Ok(w),
            _ => Err(PageError::Forbidden(self.i.clone())),
        }
    }
}

impl FromRequestParts<AppState> for PageCtx {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, PageError> {
        let here = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".into());
        let token = session_cookie(&parts.headers).ok_or_else(|| PageError::Login(here.clone()))?;
        let (user, csrf) = st
            .store
            .session(&token)
            .await?
            .ok_or_else(|| PageError::Login(here.clone()))?;
        let params: HashMap<String, String> =
            axum::extract::Path::<HashMap<String, String>>::from_request_parts(parts, st)
                .await
                .map(|p| p.0)
                .unwrap_or_default();
        let mut ws = None;
        if let Some(slug) = params.get("ws") {
            let lang = language_for(&parts.headers, None);
            let not_found = || PageError::NotFound(I18n::new(&lang, &lang));
            let w = st
                .store
                .workspace_by_slug(slug)
                .await?
                .ok_or_else(not_found)?;
            let role = st.store.role_in(&user, w.id).await?.ok_or_else(not_found)?;
            ws = Some((w, role));
        }
        let default = ws
            .as_ref()
            .map(|(w, _)| w.data.default_language.as_str().to_owned());
        let lang = language_for(&parts.headers, default.as_deref());
        let i = I18n::new(&lang, default.as_deref().unwrap_or(&lang));
        Ok(PageCtx {
            user,
            csrf: crate::auth::mask_csrf(&csrf),
            csrf_secret: csrf,
            ws,
            i,
            here,
        })
    }
}

/// A form posted from one of our pages: the body is read, its `_csrf` field must equal
/// the session's token (403 otherwise), and the remaining fields deserialize into `T`.
pub struct CsrfForm<T> {
    pub ctx: PageCtx,
    pub form: T,
}

impl<T: serde::de::DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, st: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let ctx = PageCtx::from_request_parts(&mut parts, st)
            .await
            .map_err(IntoResponse::into_response)?;
        let bytes = axum::body::to_bytes(body, st.config.body_limit)
            .await
            .map_err(|_| StatusCode::PAYLOAD_TOO_LARGE.into_response())?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| StatusCode::BAD_REQUEST.into_response())?;
        let sent = pairs
            .iter()
            .find(|(k, _)| k == "_csrf")
            .map(|(_, v)| v.as_str())
            .unwrap_or_default();
        if !crate::auth::csrf_matches(sent.as_bytes(), &ctx.csrf_secret) {
            return Err(PageError::Forbidden(ctx.i.clone()).into_response());
        }
        let rest: Vec<&(String, String)> = pairs.iter().filter(|(k, _)| k != "_csrf").collect();
        let encoded = serde_urlencoded::to_string(rest)
            .map_err(|_| StatusCode::BAD_REQUEST.into_response())?;
        let form = serde_urlencoded::from_str(&encoded)
            .map_err(|_| StatusCode::BAD_REQUEST.into_response())?;
        Ok(CsrfForm { ctx, form })
    }
}

pub fn html(body: Result<String, askama::Error>) -> Response {
    match body {
        Ok(b) => Html(b).into_response(),
        Err(e) => PageError::Internal(e.to_string()).into_response(),
    }
}

/// A PDF as a download named `filename`.
pub fn pdf_download(pdf: Vec<u8>, filename: &str) -> Response {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        pdf,
    )
        .into_response()
}

pub fn svg_download(body: Result<String, askama::Error>, filename: &str) -> Response {
    match body {
        Ok(b) => {
            let disposition =
                HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
                    .unwrap_or(HeaderValue::from_static("attachment"));
            (
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("image/svg+xml; charset=utf-8"),
                    ),
                    (header::CONTENT_DISPOSITION, disposition),
                ],
                b,
            )
                .into_response()
        }
        Err(e) => PageError::Internal(e.to_string()).into_response(),
    }
}

#[cfg(test)]
mod next_tests {
    use super::safe_next;

    #[test]
    fn only_paths_on_this_site_are_followed() {
        for ok in ["/", "/w/demo", "/w/demo/units/3?done=reviewed", "/w/d%20x"] {
            assert_eq!(safe_next(ok), ok);
        }
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\r\nSet-Cookie: x=1",
            "/%0d%0a".replace("%0d%0a", "\n").as_str(),
            "/ /evil.example",
            "https://evil.example",
            "evil.example",
            "",
            "/a\\b",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
    }
}
