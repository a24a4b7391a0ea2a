//! The JSON API (staff API under `/api/v1`, public feedback under `/api/public/v1`),
//! one module per part of the URL tree. Handlers parse the request, call a use case in
//! `kohtaamo_app` (or the store's generic entity path for plain CRUD) and answer JSON.
//! Nothing here imports from `ui/`; what both need is in `kohtaamo_app` or in the
//! crate's shared modules (auth, error, extract, i18n, params, links, export).
//!
//! - `/healthz`, `/readyz` → [`health`]
//! - `/api/v1/auth/…` → [`session`]
//! - `/api/v1/tokens…` → [`tokens`], `/api/v1/users…` → [`users`]
//! - `/api/v1/workspaces`, `/api/v1/workspaces/{ws}` (+ members, model) → [`workspaces`]
//! - `/api/v1/workspaces/{ws}/{units,people,…}` → [`model`]
//! - `/api/public/v1/surveys/{key}…` → [`feedback`]; surveys, responses, exports → [`surveys`]
//! - encounters, captures, customer timelines and links → [`encounters`]
//! - follow-ups and what is done to them → [`followups`] (their rules: [`model`])
//! - scores, trends, drivers, alerts → [`scores`]; insight → [`insight`]; reviews → [`reviews`]
//! - journey mining, its event log and Petri net → [`mining`]
//! - `/api/v1/openapi.json` → here

pub mod cases;
pub mod doc;
pub mod encounters;
pub mod feedback;
pub mod followups;
pub mod health;
pub mod insight;
pub mod mining;
pub mod model;
pub mod privacy;
pub mod reviews;
pub mod scores;
pub mod session;
pub mod surveys;
pub mod tokens;
pub mod users;
pub mod workspaces;

use axum::extract::State;
use axum::routing::get;

use crate::auth::Auth;
use crate::{AppState, HttpConfig};
pub use doc::{Api, Op};

pub fn api(cfg: &HttpConfig) -> Api {
    let api = Api::new();
    let api = health::routes(api);
    let api = session::routes(api);
    let api = tokens::routes(api);
    let api = users::routes(api);
    let api = workspaces::routes(api, cfg);
    let api = model::routes(api);
    let api = insight::routes(api);
    let api = reviews::routes(api);
    let api = encounters::routes(api);
    let api = followups::routes(api);
    let api = cases::routes(api);
    let api = privacy::routes(api);
    let api = privacy::more_routes(api);
    let api = feedback::routes(api);
    let api = surveys::routes(api);
    let api = scores::routes(api);
    let api = mining::routes(api);
    api.route(
        "/api/v1/openapi.json",
        get(openapi),
        vec![Op::new("get", "meta", "This OpenAPI document")
            .ok(200, Some(serde_json::json!({"type": "object"})))],
    )
}

async fn openapi(_auth: Auth, State(st): State<AppState>) -> axum::Json<serde_json::Value> {
    axum::Json((*st.openapi).clone())
}
