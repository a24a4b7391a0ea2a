//! `/api/v1/users`: accounts of the installation, managed by a superadmin (the first
//! admin). Roles are per workspace, see the members routes.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::api::{Api, Op};
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path};
use crate::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    pub username: String,
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailInput {
    /// Where notifications (follow-up escalations) are sent; null removes it.
    pub email: Option<String>,
}

fn superadmin(auth: &Auth) -> ApiResult<()> {
    if auth.user.is_superadmin {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only an installation admin can manage accounts".into(),
        ))
    }
}

pub fn routes(mut api: Api) -> Api {
    let input = api.schema::<UserInput>();
    let email = api.schema::<EmailInput>();
    api.route(
        "/api/v1/users/{username}/email",
        put(set_email),
        vec![Op::new(
            "put",
            "users",
            "Set the e-mail address an account is notified at (the account itself, or an installation admin)",
        )
        .body(email)
        .ok(204, None)
        .responds(422, "Not an e-mail address")],
    )
    .route(
        "/api/v1/users",
        get(list).post(create),
        vec![
            Op::new("get", "users", "All accounts (installation admin)")
                .ok(200, Some(json!({"type": "array"}))),
            Op::new("post", "users", "Create an account (installation admin)")
                .body(input)
                .ok(201, Some(json!({"type": "object"}))),
        ],
    )
}

async fn set_email(
    auth: Auth,
    State(st): State<AppState>,
    Path(username): Path<String>,
    Json(input): Json<EmailInput>,
) -> ApiResult<StatusCode> {
    kohtaamo_app::accounts::set_email(&st.store, &auth.user, &username, input.email.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list(auth: Auth, State(st): State<AppState>) -> ApiResult<axum::Json<Value>> {
    superadmin(&auth)?;
    Ok(axum::Json(json!(st.store.list_users().await?)))
}

async fn create(
    auth: Auth,
    State(st): State<AppState>,
    Json(input): Json<UserInput>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let id = kohtaamo_app::accounts::create_account(
        &st.store,
        &auth.user,
        &input.username,
        &input.password,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"id": id, "username": input.username, "is_superadmin": false})),
    ))
}
