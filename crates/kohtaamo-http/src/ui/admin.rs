//! Members and roles of a workspace (its admins only), and the user's own API tokens.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use kohtaamo_domain::model::Role;
use kohtaamo_domain::Id;
use kohtaamo_storage::StoreError;
use serde::Deserialize;

use super::pages::{chrome, Nav};
use super::{html, CsrfForm, PageCtx, PageError};
use crate::i18n::I18n;
use crate::AppState;

pub struct MemberRow {
    user_id: Id,
    username: String,
    role: String,
}

#[derive(Template)]
#[template(path = "members.html")]
struct MembersPage {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    slug: String,
    csrf: String,
    members: Vec<MemberRow>,
    roles: Vec<(String, String)>,
    error: Option<&'static str>,
    /// What was wrong with a new account, field by field.
    problems: Vec<String>,
    /// Admins of the installation: admin in every workspace without being listed.
    installation_admins: Vec<String>,
    /// The caller may create accounts (an installation admin).
    can_create_accounts: bool,
}

async fn members_page(
    st: &AppState,
    ctx: &PageCtx,
    error: Option<&'static str>,
    problems: Vec<String>,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    if !role.is_admin() {
        return Err(PageError::Forbidden(ctx.i.clone()));
    }
    let members = st
        .store
        .members(w.id)
        .await?
        .into_iter()
        .map(|m| MemberRow {
            user_id: m.user_id,
            username: m.username,
            role: m.role.as_str().to_owned(),
        })
        .collect();
    let installation_admins = st
        .store
        .list_users()
        .await?
        .into_iter()
        .filter(|u| u.is_superadmin)
        .map(|u| u.username)
        .collect();
    let c = chrome(ctx);
    let status = if error.is_some() || !problems.is_empty() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    Ok((
        status,
        html(
            MembersPage {
                slug: w.data.slug.to_string(),
                csrf: ctx.csrf.clone(),
                members,
                roles: Role::ALL
                    .iter()
                    .map(|r| (r.as_str().to_owned(), ctx.i.enum_label("role", r.as_str())))
                    .collect(),
                error,
                problems,
                installation_admins,
                can_create_accounts: ctx.user.is_superadmin,
                i: c.i,
                nav: c.nav,
                langs: c.langs,
                here: c.here,
            }
            .render(),
        ),
    )
        .into_response())
}

pub async fn members(State(st): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    members_page(&st, &ctx, None, vec![]).await
}

#[derive(Deserialize)]
pub struct MemberForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    role: String,
}

pub async fn set_member(
    State(st): State<AppState>,
    CsrfForm { ctx, form }: CsrfForm<MemberForm>,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    if !role.is_admin() {
        return Err(PageError::Forbidden(ctx.i.clone()));
    }
    let Ok(new_role) = Role::parse(&form.role) else {
        return members_page(&st, &ctx, Some("err-choose-one"), vec![]).await;
    };
    let Some(user) = st.store.user_by_name(form.username.trim()).await? else {
        return members_page(&st, &ctx, Some("err-no-such-user"), vec![]).await;
    };
    st.store.set_member(w.id, user.id, new_role).await?;
    Ok(Redirect::to(&format!("/w/{}/members", w.data.slug)).into_response())
}

#[derive(Deserialize)]
pub struct AccountForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    role: String,
}

/// An installation admin creates an account and adds it to this workspace.
pub async fn create_account(
    State(st): State<AppState>,
    CsrfForm { ctx, form }: CsrfForm<AccountForm>,
) -> Result<Response, PageError> {
    let (w, _) = ctx.ws()?;
    let Ok(role) = Role::parse(&form.role) else {
        return members_page(&st, &ctx, Some("err-choose-one"), vec![]).await;
    };
    let username = form.username.trim();
    match kohtaamo_app::accounts::create_member_account(
        &st.store,
        &ctx.user,
        (username, &form.password),
        (w.id, role),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/w/{}/members", w.data.slug)).into_response()),
        Err(kohtaamo_app::Error::Invalid(e)) => {
            let problems = super::surveys_page::errors_text(&ctx.i, &e);
            members_page(&st, &ctx, None, problems).await
        }
        Err(kohtaamo_app::Error::Conflict(_)) => {
            members_page(&st, &ctx, Some("err-account-exists"), vec![]).await
        }
        Err(e) => Err(PageError::app(e, &ctx.i)),
    }
}

pub async fn remove_member(
    State(st): State<AppState>,
    Path((_, user_id)): Path<(String, Id)>,
    CsrfForm { ctx, .. }: CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    if !role.is_admin() {
        return Err(PageError::Forbidden(ctx.i.clone()));
    }
    match st.store.remove_member(w.id, user_id).await {
        Ok(()) | Err(StoreError::NotFound) => {
            Ok(Redirect::to(&format!("/w/{}/members", w.data.slug)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub struct TokenRow {
    id: Id,
    name: String,
    created: String,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    csrf: String,
    tokens: Vec<TokenRow>,
    new_token: Option<String>,
    error: Option<String>,
    /// The address the user is notified at, and whether e-mail is on.
    email: String,
    mail_on: bool,
    email_saved: bool,
}

async fn tokens_page(
    st: &AppState,
    ctx: &PageCtx,
    new_token: Option<String>,
    error: Option<String>,
) -> Result<Response, PageError> {
    account_page(st, ctx, (new_token, error), (None, false)).await
}

/// The user's own page: API tokens, and the e-mail address notifications go to
/// (`email`: what was typed when it was refused).
async fn account_page(
    st: &AppState,
    ctx: &PageCtx,
    (new_token, error): (Option<String>, Option<String>),
    (email, email_saved): (Option<String>, bool),
) -> Result<Response, PageError> {
    let email = match email {
        Some(e) => e,
        None => kohtaamo_app::accounts::email_of(&st.store, ctx.user.id)
            .await
            .map_err(|e| PageError::app(e, &ctx.i))?
            .unwrap_or_default(),
    };
    let tokens = st
        .store
        .list_tokens(ctx.user.id)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            name: t.name,
            created: chrono::DateTime::parse_from_rfc3339(&t.created_at)
                .map(|d| ctx.i.date(&d.date_naive()))
                .unwrap_or(t.created_at),
            revoked: t.revoked_at.is_some(),
        })
        .collect();
    let c = chrome(ctx);
    Ok(html(
        TokensPage {
            csrf: ctx.csrf.clone(),
            tokens,
            new_token,
            error,
            email,
            mail_on: st.hooks.mailer.is_some(),
            email_saved,
            i: c.i,
            nav: c.nav,
            langs: c.langs,
            here: c.here,
        }
        .render(),
    ))
}

pub async fn tokens(State(st): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    tokens_page(&st, &ctx, None, None).await
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
}

/// Creates a token and shows its secret on this response only.
pub async fn create_token(
    State(st): State<AppState>,
    CsrfForm { ctx, form }: CsrfForm<TokenForm>,
) -> Result<Response, PageError> {
    match st.store.create_token(ctx.user.id, &form.name).await {
        Ok((_, token)) => tokens_page(&st, &ctx, Some(token), None).await,
        Err(StoreError::Invalid(fe)) => {
            let msg = fe.0.values().next().map(|r| ctx.i.reason(r));
            tokens_page(&st, &ctx, None, msg).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
}

/// `POST /tokens/email`: the user's own notification address (empty removes it).
pub async fn set_email(
    State(st): State<AppState>,
    CsrfForm { ctx, form }: CsrfForm<EmailForm>,
) -> Result<Response, PageError> {
    let typed = form.email.trim();
    match kohtaamo_app::accounts::set_email(&st.store, &ctx.user, &ctx.user.username, Some(typed))
        .await
    {
        Ok(()) => account_page(&st, &ctx, (None, None), (None, true)).await,
        Err(kohtaamo_app::Error::Invalid(fe)) => {
            let msg = fe.0.values().next().map(|r| ctx.i.reason(r));
            let page =
                account_page(&st, &ctx, (None, msg), (Some(typed.to_owned()), false)).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(PageError::app(e, &ctx.i)),
    }
}

pub async fn revoke_token(
    State(st): State<AppState>,
    Path(id): Path<Id>,
    CsrfForm { ctx, .. }: CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    match st.store.revoke_token(ctx.user.id, id).await {
        Ok(()) | Err(StoreError::NotFound) => Ok(Redirect::to("/tokens").into_response()),
        Err(e) => Err(e.into()),
    }
}
