//! Accounts and access: users (argon2id password hashes), server-side sessions, API
//! tokens (stored as SHA-256 hashes, shown once), workspaces and per-workspace roles.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use kohtaamo_domain::model::{Role, WorkspaceData};
use kohtaamo_domain::text::{Lang, Slug, Texts};
use kohtaamo_domain::{FieldErrors, Id};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::{now_text, Result, Store, StoreError};

pub const MIN_PASSWORD: usize = 10;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct User {
    pub id: Id,
    pub username: String,
    pub is_superadmin: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Workspace {
    pub id: Id,
    #[serde(flatten)]
    pub data: WorkspaceData,
}

#[derive(Debug, Clone, Serialize)]
pub struct Member {
    pub user_id: Id,
    pub username: String,
    pub role: Role,
}

#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    pub id: Id,
    pub name: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// A random secret, hex-encoded: 32 bytes from the OS generator.
pub fn random_secret() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// Tokens are looked up by hash so a leaked database does not leak usable tokens.
/// They are long random values, so a fast hash is enough (unlike passwords).
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn hash_password(pw: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(pw.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Conflict(format!("could not hash password: {e}")))
}

fn verify_password(hash: &str, pw: &str) -> bool {
    PasswordHash::new(hash)
        .is_ok_and(|h| Argon2::default().verify_password(pw.as_bytes(), &h).is_ok())
}

pub fn validate_username(u: &str) -> std::result::Result<(), String> {
    let ok = !u.is_empty()
        && u.len() <= 64
        && u.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-@".contains(&b));
    if ok {
        Ok(())
    } else {
        Err("must be 1–64 characters of a–z, 0–9 and . _ - @".into())
    }
}

pub fn validate_password(p: &str) -> std::result::Result<(), String> {
    if p.chars().count() < MIN_PASSWORD {
        Err(format!("must be at least {MIN_PASSWORD} characters"))
    } else if p.len() > 1024 {
        Err("must be at most 1024 bytes".into())
    } else {
        Ok(())
    }
}

fn user_from(row: &sqlx::any::AnyRow) -> Result<User> {
    Ok(User {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        is_superadmin: row.try_get::<i64, _>("is_superadmin")? != 0,
    })
}

impl Store {
    pub async fn create_user(
        &self,
        username: &str,
        password: &str,
        superadmin: bool,
    ) -> Result<Id> {
        let mut e = FieldErrors::new();
        e.take("username", validate_username(username));
        e.take("password", validate_password(password));
        if !e.is_empty() {
            return Err(StoreError::Invalid(e));
        }
        let hash = hash_password(password)?;
        let (_gate, mut tx) = self.write().await?;
        let r: Result<_> = async {
            let id: Id = sqlx::query_scalar("INSERT INTO users (username, password_hash, is_superadmin, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
                .bind(username)
                .bind(hash)
                .bind(superadmin as i64)
                .bind(now_text())
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| StoreError::from_db(e, "user"))?;
            Ok(id)
        }
        .await;
        let id = self.finish(tx, r).await?;
        Ok(id)
    }

    /// Creates the first admin account if there are no users. Returns the password when
    /// it was generated (to be shown once), `None` if given or if users already exist.
    pub async fn ensure_admin(&self, password: Option<&str>) -> Result<Option<String>> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(self.pool())
            .await?;
        if n > 0 {
            return Ok(None);
        }
        let generated = password
            .is_none()
            .then(|| random_secret()[..20].to_string());
        let pw = password
            .map(str::to_owned)
            .or(generated.clone())
            .unwrap_or_default();
        self.create_user("admin", &pw, true).await?;
        Ok(generated)
    }

    pub async fn user_by_name(&self, username: &str) -> Result<Option<User>> {
        let row = sqlx::query("SELECT id, username, is_superadmin FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(user_from).transpose()
    }

    pub async fn list_users(&self) -> Result<Vec<User>> {
        let rows = sqlx::query("SELECT id, username, is_superadmin FROM users ORDER BY username")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(user_from).collect()
    }

    /// Sets a new password and ends every session of the user.
    pub async fn set_password(&self, username: &str, password: &str) -> Result<()> {
        let mut e = FieldErrors::new();
        e.take("password", validate_password(password));
        if !e.is_empty() {
            return Err(StoreError::Invalid(e));
        }
        let user = self
            .user_by_name(username)
            .await?
            .ok_or(StoreError::NotFound)?;
        let hash = hash_password(password)?;
        let (_gate, mut tx) = self.write().await?;
        let r: Result<_> = async {
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                .bind(hash)
                .bind(user.id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user.id)
                .execute(&mut *tx)
                .await?;
            // A reset is what someone does when a secret may have leaked: the tokens
            // made with the old password end too.
            sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
            )
            .bind(now_text())
            .bind(user.id)
            .execute(&mut *tx)
            .await?;
            Ok(())
        }
        .await;
        self.finish(tx, r).await?;
        Ok(())
    }

    /// Checks a username and password. Does the same argon2 work for an unknown user,
    /// so response time does not reveal which accounts exist.
    pub async fn authenticate(&self, username: &str, password: &str) -> Result<Option<User>> {
        static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let row = sqlx::query(
            "SELECT id, username, is_superadmin, password_hash FROM users WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(self.pool())
        .await?;
        let hash: String = match &row {
            Some(r) => r.try_get("password_hash")?,
            None => DUMMY
                .get_or_init(|| hash_password(&random_secret()).unwrap_or_default())
                .clone(),
        };
        let pw = password.to_owned();
        let ok = tokio::task::spawn_blocking(move || verify_password(&hash, &pw))
            .await
            .unwrap_or(false);
        match row {
            Some(r) if ok => Ok(Some(user_from(&r)?)),
            _ => Ok(None),
        }
    }

    // --- sessions -------------------------------------------------------------------

    /// Creates a session; returns (session token for the cookie, CSRF token).
    pub async fn create_session(
        &self,
        user_id: Id,
        ttl: chrono::Duration,
    ) -> Result<(String, String)> {
        let token = random_secret();
        let csrf = random_secret();
        let expires = (chrono::Utc::now() + ttl)
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let (_gate, mut tx) = self.write().await?;
        let r: Result<_> = async {
            sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(token_hash(&token))
                .bind(user_id)
                .bind(&csrf)
                .bind(now_text())
                .bind(expires)
                .execute(&mut *tx)
                .await?;
            // Expired sessions are swept as new ones are made.
            sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
                .bind(now_text())
                .execute(&mut *tx)
                .await?;
            Ok(())
        }
        .await;
        self.finish(tx, r).await?;
        Ok((token, csrf))
    }

    /// The user and CSRF token of a live session.
    pub async fn session(&self, token: &str) -> Result<Option<(User, String)>> {
        let row = sqlx::query(
            "SELECT u.id, u.username, u.is_superadmin, s.csrf_token FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2",
        )
        .bind(token_hash(token))
        .bind(now_text())
        .fetch_optional(self.pool())
        .await?;
        match row {
            Some(r) => Ok(Some((user_from(&r)?, r.try_get("csrf_token")?))),
            None => Ok(None),
        }
    }

    pub async fn delete_session(&self, token: &str) -> Result<()> {
        let (_gate, mut tx) = self.write().await?;
        let r: Result<_> = async {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(token_hash(token))
                .execute(&mut *tx)
                .await?;
            Ok(())
        }
        .await;
        self.finish(tx, r).await?;
        Ok(())
    }

    // --- API tokens -----------------------------------------------------------------

    /// Creates an API token; the returned secret is shown once and stored only hashed.
    pub async fn create_token(&self, user_id: Id, name: &str) -> Result<(Id, String)> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            let mut e = FieldErrors::new();
            e.add("name", "must be 1–100 characters");
            return Err(StoreError::Invalid(e));
        }
        let token = format!("kt_{}", random_secret());
        let (_gate, mut tx) = self.write().await?;
        let r: Result<_> = async {
            let id: Id = sqlx::query_scalar("INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
                .bind(user_id)
                .bind(name)
                .bind(token_hash(&token))
                .bind(now_text())
                .fetch_one(&mut *tx)
                .await?;
            Ok(id)
        }
        .await;
        let id = self.finish(tx, r).await?;
        Ok((id, token))
    }

    pub async fn token_user(&self, token: &str) -> Result<Option<User>> {
        let row = sqlx::query(
            "SELECT u.id, u.username, u.is_superadmin FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
        )
        .bind(token_hash(token))
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(user_from).transpose()
    }

    /// The user of an API token and, in the same query, the workspace `slug` with the
    /// user's role there (a superadmin is admin everywhere) — what every API request on
    /// a workspace needs before it starts, in one round trip instead of three. `None`
    /// for an unknown or revoked token; `Some((user, None))` when the workspace does
    /// not exist or the user is not a member.
    pub async fn token_access(
        &self,
        token: &str,
        slug: &str,
    ) -> Result<Option<(User, Option<(Id, Role)>)>> {
        let row = sqlx::query(
            "SELECT u.id, u.username, u.is_superadmin, w.id AS ws_id, m.role FROM api_tokens t \
             JOIN users u ON u.id = t.user_id \
             LEFT JOIN workspaces w ON w.slug = $2 \
             LEFT JOIN memberships m ON m.workspace_id = w.id AND m.user_id = u.id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
        )
        .bind(token_hash(token))
        .bind(slug)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let user = user_from(&row)?;
        let ws: Option<Id> = row.try_get("ws_id")?;
        let role = match ws {
            Some(_) if user.is_superadmin => Some(Role::Admin),
            Some(_) => row
                .try_get::<Option<String>, _>("role")?
                .and_then(|r| Role::parse(&r).ok()),
            None => None,
        };
        Ok(Some((user, ws.zip(role))))
    }

    pub async fn list_tokens(&self, user_id: Id) -> Result<Vec<TokenInfo>> {
        let rows = sqlx::query("SELECT id, name, created_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY id")
            .bind(user_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(TokenInfo {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    created_at: r.try_get("created_at")?,
                    revoked_at: r.try_get("revoked_at")?,
                })
            })
            .collect()
    }

    /// Revokes a token of `user_id`; NotFound if it is not theirs or already revoked.
    pub async fn revoke_token(&self, user_id: Id, token_id: Id) -> Result<()> {
        let (_gate, mut tx) = self.write().await?;
        let r: Result<_> = async {
            let r = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
                .bind(now_text())
                .bind(token_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            Ok(r)
        }
        .await;
        let r = self.finish(tx, r).await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    // --- workspaces and roles -------------------------------------------------------

    pub async fn create_workspace(&self, data: &WorkspaceData, admin: Option<Id>) -> Result<Id> {
        let (_gate, mut tx) = self.write().await?;
        let r: Result<_> = async {
            let id = insert_workspace(&mut tx, data).await?;
            if let Some(u) = admin {
                sqlx::query(
                    "INSERT INTO memberships (workspace_id, user_id, role) VALUES ($1, $2, 'admin')",
                )
                .bind(id)
                .bind(u)
                .execute(&mut *tx)
                .await?;
            }
            Ok(id)
        }
        .await;
        let id = self.finish(tx, r).await?;
        Ok(id)
    }

    pub async fn update_workspace(&self, id: Id, data: &WorkspaceData) -> Result<()> {
        let (_gate, mut tx) = self.write().await?;
        let r: Result<_> = async {
            sqlx::query(
                "UPDATE workspaces SET slug = $1, name = $2, default_language = $3 WHERE id = $4",
            )
            .bind(data.slug.as_str())
            .bind(data.name.to_json())
            .bind(data.default_language.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::from_db(e, "workspace"))?;
            Ok(())
        }
        .await;
        self.finish(tx, r).await?;
        Ok(())
    }

    pub async fn delete_workspace(&self, id: Id) -> Result<()> {
        let (_gate, mut tx) = self.write().await?;
        let r: Result<_> = async {
            sqlx::query("DELETE FROM workspaces WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            Ok(())
        }
        .await;
        self.finish(tx, r).await?;
        Ok(())
    }

    pub async fn workspace_by_id(&self, id: Id) -> Result<Option<Workspace>> {
        let row =
            sqlx::query("SELECT id, slug, name, default_language FROM workspaces WHERE id = $1")
                .bind(id)
                .fetch_optional(self.pool())
                .await?;
        row.as_ref().map(workspace_from).transpose()
    }

    pub async fn workspace_by_slug(&self, slug: &str) -> Result<Option<Workspace>> {
        let row =
            sqlx::query("SELECT id, slug, name, default_language FROM workspaces WHERE slug = $1")
                .bind(slug)
                .fetch_optional(self.pool())
                .await?;
        row.as_ref().map(workspace_from).transpose()
    }

    /// Workspaces the user can see (all of them for a superadmin), with the role there.
    pub async fn workspaces_for(&self, user: &User) -> Result<Vec<(Workspace, Role)>> {
        let rows = if user.is_superadmin {
            sqlx::query("SELECT id, slug, name, default_language, 'admin' AS role FROM workspaces ORDER BY slug").fetch_all(self.pool()).await?
        } else {
            sqlx::query(
                "SELECT w.id, w.slug, w.name, w.default_language, m.role FROM workspaces w \
                 JOIN memberships m ON m.workspace_id = w.id WHERE m.user_id = $1 ORDER BY w.slug",
            )
            .bind(user.id)
            .fetch_all(self.pool())
            .await?
        };
        rows.iter()
            .map(|r| {
                let role = Role::parse(&r.try_get::<String, _>("role")?)
                    .map_err(|e| StoreError::Db(crate::entity::decode_err("role", e)))?;
                Ok((workspace_from(r)?, role))
            })
            .collect()
    }

    /// The user's role in a workspace: a superadmin is admin everywhere; `None` for a
    /// non-member (who must not learn that the workspace exists).
    pub async fn role_in(&self, user: &User, ws: Id) -> Result<Option<Role>> {
        if user.is_superadmin {
            return Ok(Some(Role::Admin));
        }
        let role: Option<String> = sqlx::query_scalar(
            "SELECT role FROM memberships WHERE workspace_id = $1 AND user_id = $2",
        )
        .bind(ws)
        .bind(user.id)
        .fetch_optional(self.pool())
        .await?;
        Ok(role.and_then(|r| Role::parse(&r).ok()))
    }

    pub async fn set_member(&self, ws: Id, user_id: Id, role: Role) -> Result<()> {
        let (_gate, mut tx) = self.write().await?;
        let r: Result<_> = async {
            sqlx::query("DELETE FROM memberships WHERE workspace_id = $1 AND user_id = $2")
                .bind(ws)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO memberships (workspace_id, user_id, role) VALUES ($1, $2, $3)",
            )
            .bind(ws)
            .bind(user_id)
            .bind(role.as_str())
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::from_db(e, "member"))?;
            Ok(())
        }
        .await;
        self.finish(tx, r).await?;
        Ok(())
    }

    pub async fn remove_member(&self, ws: Id, user_id: Id) -> Result<()> {
        let (_gate, mut tx) = self.write().await?;
        let r: Result<_> = async {
            let r = sqlx::query("DELETE FROM memberships WHERE workspace_id = $1 AND user_id = $2")
                .bind(ws)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            // No longer in the workspace, so in none of its units either.
            sqlx::query("DELETE FROM unit_members WHERE workspace_id = $1 AND user_id = $2")
                .bind(ws)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            Ok(r)
        }
        .await;
        let r = self.finish(tx, r).await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn members(&self, ws: Id) -> Result<Vec<Member>> {
        let rows = sqlx::query("SELECT u.id, u.username, m.role FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.workspace_id = $1 ORDER BY u.username")
            .bind(ws)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Member {
                    user_id: r.try_get("id")?,
                    username: r.try_get("username")?,
                    role: Role::parse(&r.try_get::<String, _>("role")?)
                        .map_err(|e| StoreError::Db(crate::entity::decode_err("role", e)))?,
                })
            })
            .collect()
    }
}

/// A user working in a unit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct UnitMember {
    pub user_id: Id,
    pub username: String,
    /// The unit's lead: told when a follow-up of the unit misses its target and the
    /// assignee did not act.
    pub lead: bool,
}

/// Where a user is reached: their e-mail address, if they gave one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub user_id: Id,
    pub username: String,
    pub email: Option<String>,
}

impl Store {
    /// Sets (or, with None, removes) the e-mail address a user is notified at. 404 for
    /// an unknown user; 422 for an address that is not one.
    pub async fn set_user_email(&self, username: &str, email: Option<&str>) -> Result<()> {
        let email = match email.map(str::trim).filter(|e| !e.is_empty()) {
            None => None,
            Some(e) => match kohtaamo_domain::model::Email::parse(e) {
                Ok(e) => Some(e.as_str().to_owned()),
                Err(r) => {
                    let mut fe = FieldErrors::new();
                    fe.add("email", r);
                    return Err(StoreError::Invalid(fe));
                }
            },
        };
        let (_gate, mut tx) = self.write().await?;
        let r: Result<u64> = async {
            Ok(
                sqlx::query("UPDATE users SET email = $1 WHERE username = $2")
                    .bind(email)
                    .bind(username)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected(),
            )
        }
        .await;
        match self.finish(tx, r).await? {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    /// How to reach these users (unknown ids are left out), by name.
    pub async fn contacts(&self, ids: &[Id]) -> Result<Vec<Contact>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let marks: Vec<String> = (1..=ids.len()).map(|k| format!("${k}")).collect();
        let sql = format!(
            "SELECT id, username, email FROM users WHERE id IN ({}) ORDER BY username",
            marks.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                Ok(Contact {
                    user_id: r.try_get("id")?,
                    username: r.try_get("username")?,
                    email: r.try_get("email")?,
                })
            })
            .collect()
    }
}

impl Store {
    /// The users working in `unit`, by name.
    pub async fn unit_members(&self, ws: Id, unit: Id) -> Result<Vec<UnitMember>> {
        let rows = sqlx::query("SELECT u.id, u.username, um.lead FROM unit_members um JOIN users u ON u.id = um.user_id WHERE um.workspace_id = $1 AND um.unit_id = $2 ORDER BY u.username")
            .bind(ws)
            .bind(unit)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(UnitMember {
                    user_id: r.try_get("id")?,
                    username: r.try_get("username")?,
                    lead: r.try_get::<i64, _>("lead")? != 0,
                })
            })
            .collect()
    }

    /// The units `user` works in, in id order.
    pub async fn units_of_user(&self, ws: Id, user: Id) -> Result<Vec<Id>> {
        Ok(sqlx::query_scalar(
            "SELECT unit_id FROM unit_members WHERE workspace_id = $1 AND user_id = $2 ORDER BY unit_id",
        )
        .bind(ws)
        .bind(user)
        .fetch_all(self.pool())
        .await?)
    }

    /// Puts a workspace member in a unit, as its lead or not (doing it again sets the
    /// lead flag and changes nothing else). 404 when the unit is not the workspace's;
    /// 422 when the user is not a member of the workspace.
    pub async fn add_unit_member(&self, ws: Id, unit: Id, user: Id, lead: bool) -> Result<()> {
        let (_gate, mut tx) = self.write().await?;
        let r: Result<()> = async {
            let unit_ok: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM units WHERE workspace_id = $1 AND id = $2")
                .bind(ws)
                .bind(unit)
                .fetch_one(&mut *tx)
                .await?;
            if unit_ok == 0 {
                return Err(StoreError::NotFound);
            }
            let member: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE workspace_id = $1 AND user_id = $2")
                .bind(ws)
                .bind(user)
                .fetch_one(&mut *tx)
                .await?;
            if member == 0 {
                let mut e = FieldErrors::new();
                e.add("username", kohtaamo_domain::Reason::new("not-a-member"));
                return Err(StoreError::Invalid(e));
            }
            sqlx::query("INSERT INTO unit_members (workspace_id, unit_id, user_id, created_at, lead) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (unit_id, user_id) DO UPDATE SET lead = excluded.lead")
                .bind(ws)
                .bind(unit)
                .bind(user)
                .bind(now_text())
                .bind(lead as i64)
                .execute(&mut *tx)
                .await?;
            Ok(())
        }
        .await;
        self.finish(tx, r).await
    }

    /// Takes a user out of a unit; 404 when they were not in it.
    pub async fn remove_unit_member(&self, ws: Id, unit: Id, user: Id) -> Result<()> {
        let (_gate, mut tx) = self.write().await?;
        let r: Result<u64> = async {
            Ok(sqlx::query("DELETE FROM unit_members WHERE workspace_id = $1 AND unit_id = $2 AND user_id = $3")
                .bind(ws)
                .bind(unit)
                .bind(user)
                .execute(&mut *tx)
                .await?
                .rows_affected())
        }
        .await;
        match self.finish(tx, r).await? {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }
}

pub(crate) async fn insert_workspace(
    tx: &mut sqlx::AnyConnection,
    data: &WorkspaceData,
) -> Result<Id> {
    sqlx::query_scalar("INSERT INTO workspaces (slug, name, default_language, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
        .bind(data.slug.as_str())
        .bind(data.name.to_json())
        .bind(data.default_language.as_str())
        .bind(now_text())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::from_db(e, "workspace"))
}

pub(crate) fn workspace_from(r: &sqlx::any::AnyRow) -> Result<Workspace> {
    fn bad(c: &str, e: impl std::fmt::Display) -> StoreError {
        StoreError::Db(crate::entity::decode_err(c, e))
    }
    Ok(Workspace {
        id: r.try_get("id")?,
        data: WorkspaceData {
            slug: Slug::parse(&r.try_get::<String, _>("slug")?).map_err(|e| bad("slug", e))?,
            name: Texts::from_json(&r.try_get::<String, _>("name")?).map_err(|e| bad("name", e))?,
            default_language: Lang::parse(&r.try_get::<String, _>("default_language")?)
                .map_err(|e| bad("default_language", e))?,
        },
    })
}
