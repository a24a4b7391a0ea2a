//! `/api/v1/tokens`: the caller's API tokens. A token's secret is returned once, at
//! creation, and stored only as a hash.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use kohtaamo_domain::Id;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::api::{Api, Op};
use crate::auth::{Auth, Via};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path};
use crate::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    pub name: String,
}

pub fn routes(mut api: Api) -> Api {
    let input = api.schema::<TokenInput>();
    api.route(
        "/api/v1/tokens",
        get(list).post(create),
        vec![
            Op::new("get", "tokens", "Your API tokens (without secrets)").ok(200, Some(json!({"type": "array"}))),
            Op::new("post", "tokens", "Create an API token from a logged-in session (403 with a token); the secret is shown only in this response")
                .body(input)
                .ok(201, Some(json!({"type": "object", "properties": {"id": {"type": "integer"}, "token": {"type": "string"}}}))),
        ],
    )
    .route("/api/v1/tokens/{id}", delete(revoke), vec![Op::new("delete", "tokens", "Revoke one of your tokens").ok(204, None)])
}

async fn list(auth: Auth, State(st): State<AppState>) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(json!(st.store.list_tokens(auth.user.id).await?)))
}

async fn create(
    auth: Auth,
    State(st): State<AppState>,
    Json(input): Json<TokenInput>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    // Only a person in a session makes tokens (or the CLI): a token that made tokens
    // could be revoked and leave its offspring working.
    if matches!(auth.via, Via::Token) {
        return Err(ApiError::Forbidden(
            "API tokens are made from a logged-in session or with `kohtaamo token create`, not with another token".into(),
        ));
    }
    let (id, token) = st.store.create_token(auth.user.id, &input.name).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"id": id, "name": input.name.trim(), "token": token})),
    ))
}

async fn revoke(
    auth: Auth,
    State(st): State<AppState>,
    Path(id): Path<Id>,
) -> ApiResult<StatusCode> {
    st.store.revoke_token(auth.user.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
