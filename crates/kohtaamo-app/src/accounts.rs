//! The installation admin's work: creating workspaces (empty, or from a model file)
//! and accounts. The JSON API and the pages both come here, so the rule — only an
//! installation admin — lives once.

use kohtaamo_domain::model::{Parse, Role, WorkspaceInput};
use kohtaamo_domain::Id;
use kohtaamo_storage::auth::User;
use kohtaamo_storage::Store;

use crate::model::{import_yaml, Importer};
use crate::{Error, Result};

fn installation_admin(user: &User, what: &str) -> Result<()> {
    if user.is_superadmin {
        Ok(())
    } else {
        Err(Error::Forbidden(format!(
            "only an installation admin can {what}"
        )))
    }
}

/// Creates an empty workspace with `by` as its admin; returns its id.
pub async fn create_workspace(store: &Store, by: &User, input: &WorkspaceInput) -> Result<Id> {
    installation_admin(by, "create workspaces")?;
    let data = input.parse()?;
    Ok(store.create_workspace(&data, Some(by.id)).await?)
}

/// Creates the workspace a model file describes, with everything in it (one
/// transaction), and makes `by` its admin; returns its slug.
pub async fn create_workspace_from_model(store: &Store, by: &User, yaml: &str) -> Result<String> {
    installation_admin(by, "create workspaces")?;
    let doc = kohtaamo_storage::model_io::parse_yaml(yaml)?;
    let slug = doc.workspace.slug.clone();
    if store.workspace_by_slug(&slug).await?.is_some() {
        return Err(Error::invalid(
            "workspace.slug",
            format!("a workspace '{slug}' exists already"),
        ));
    }
    import_yaml(store, yaml, None, false, Importer::Admin).await?;
    if let Some(ws) = store.workspace_by_slug(&slug).await? {
        store.set_member(ws.id, by.id, Role::Admin).await?;
    }
    Ok(slug)
}

/// Sets (or, with none or blank, removes) the e-mail address `username` is notified
/// at: the account itself may, and an installation admin.
pub async fn set_email(
    store: &Store,
    by: &User,
    username: &str,
    email: Option<&str>,
) -> Result<()> {
    if by.username != username {
        installation_admin(by, "change another account's e-mail address")?;
    }
    let email = email.map(str::trim).filter(|e| !e.is_empty());
    Ok(store.set_user_email(username, email).await?)
}

/// The e-mail address a user is notified at, if they gave one.
pub async fn email_of(store: &Store, user: Id) -> Result<Option<String>> {
    Ok(store
        .contacts(&[user])
        .await?
        .into_iter()
        .next()
        .and_then(|c| c.email))
}

/// Creates an account (not an installation admin); returns its id.
pub async fn create_account(
    store: &Store,
    by: &User,
    username: &str,
    password: &str,
) -> Result<Id> {
    installation_admin(by, "manage accounts")?;
    Ok(store.create_user(username, password, false).await?)
}

/// Creates an account and makes it a member of workspace `ws` with `role`; returns
/// its id.
pub async fn create_member_account(
    store: &Store,
    by: &User,
    (username, password): (&str, &str),
    (ws, role): (Id, Role),
) -> Result<Id> {
    let id = create_account(store, by, username, password).await?;
    store.set_member(ws, id, role).await?;
    Ok(id)
}

/// Creates the demo workspace (the passenger-rail model and a year of responses) with
/// `by` as its admin; returns its slug. 422 when it exists already.
pub async fn create_demo_workspace(store: &Store, by: &User) -> Result<String> {
    installation_admin(by, "create workspaces")?;
    if crate::demo::create(store).await?.is_none() {
        return Err(Error::invalid(
            "slug",
            "the demo workspace exists already".to_string(),
        ));
    }
    if let Some(ws) = store.workspace_by_slug("demo").await? {
        store.set_member(ws.id, by.id, Role::Admin).await?;
    }
    Ok("demo".into())
}
