//! Who is calling: a session cookie (browser; state-changing requests must echo the
//! session's CSRF token in `X-CSRF-Token`) or an API token (`Authorization: Bearer`).
//! [`Ws`] adds the caller's role in the workspace named in the path; a workspace the
//! caller is not a member of is answered 404, exactly like one that does not exist.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use kohtaamo_domain::model::Role;
use kohtaamo_domain::Id;
use kohtaamo_storage::auth::User;
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::AppState;

pub const SESSION_COOKIE: &str = "kohtaamo_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The session's CSRF token as written into a page: a fresh random mask and the token
/// XOR that mask, in hex. Pages are gzip-compressed; a secret that is the same bytes in
/// every response could be read off compressed sizes (BREACH), a masked one cannot.
pub fn mask_csrf(secret: &str) -> String {
    use rand::RngCore;
    let secret = secret.as_bytes();
    let mut mask = vec![0u8; secret.len()];
    rand::rngs::OsRng.fill_bytes(&mut mask);
    let masked: Vec<u8> = secret.iter().zip(&mask).map(|(s, m)| s ^ m).collect();
    format!("{}{}", hex::encode(&mask), hex::encode(masked))
}

/// Whether a token sent with a request is the session's: as issued (API clients that
/// read it from the login answer) or masked by [`mask_csrf`] (forms). Constant time.
pub fn csrf_matches(sent: &[u8], secret: &str) -> bool {
    let secret = secret.as_bytes();
    if secret.is_empty() {
        return false;
    }
    if sent.len() == secret.len() * 4 {
        let Ok(raw) = hex::decode(sent) else {
            return false;
        };
        let (mask, masked) = raw.split_at(secret.len());
        let unmasked: Vec<u8> = mask.iter().zip(masked).map(|(m, x)| m ^ x).collect();
        return unmasked.ct_eq(secret).unwrap_u8() == 1;
    }
    sent.ct_eq(secret).unwrap_u8() == 1
}

#[derive(Debug, Clone)]
pub enum Via {
    Session { token: String, csrf: String },
    Token,
}

#[derive(Debug, Clone)]
pub struct Auth {
    pub user: User,
    pub via: Via,
}

/// The value of cookie `name` in the request, if sent.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, SESSION_COOKIE)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(a) = parts.extensions.get::<Auth>() {
            return Ok(a.clone());
        }
        let auth = if let Some(token) = bearer(&parts.headers) {
            let user = state
                .store
                .token_user(token)
                .await?
                .ok_or(ApiError::Unauthorized)?;
            Auth {
                user,
                via: Via::Token,
            }
        } else if let Some(token) = session_cookie(&parts.headers) {
            let (user, csrf) = state
                .store
                .session(&token)
                .await?
                .ok_or(ApiError::Unauthorized)?;
            let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
            if !safe {
                let sent = parts
                    .headers
                    .get(CSRF_HEADER)
                    .map(|v| v.as_bytes())
                    .unwrap_or_default();
                if !csrf_matches(sent, &csrf) {
                    return Err(ApiError::Forbidden(
                        "missing or wrong CSRF token (send the X-CSRF-Token header)".into(),
                    ));
                }
            }
            Auth {
                user,
                via: Via::Session { token, csrf },
            }
        } else {
            return Err(ApiError::Unauthorized);
        };
        parts.extensions.insert(auth.clone());
        Ok(auth)
    }
}

/// The workspace named by the `{ws}` path segment, with the caller's role there.
#[derive(Debug, Clone)]
pub struct Ws {
    pub id: Id,
    pub slug: String,
    pub role: Role,
    pub user: User,
}

impl Ws {
    pub fn require_edit(&self) -> Result<(), ApiError> {
        if self.role.can_edit() {
            Ok(())
        } else {
            Err(ApiError::forbidden_role())
        }
    }
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.role.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden_role())
        }
    }
}

impl FromRequestParts<AppState> for Ws {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let crate::extract::Path(params) =
            crate::extract::Path::<HashMap<String, String>>::from_request_parts(parts, state)
                .await?;
        let slug = params.get("ws").ok_or(ApiError::NotFound)?;
        if parts.extensions.get::<Auth>().is_none() {
            if let Some(token) = bearer(&parts.headers) {
                // A token's user, the workspace and the role in one query (the hot
                // path of integrations posting encounters one by one).
                let (user, access) = state
                    .store
                    .token_access(token, slug)
                    .await?
                    .ok_or(ApiError::Unauthorized)?;
                parts.extensions.insert(Auth {
                    user: user.clone(),
                    via: Via::Token,
                });
                let (id, role) = access.ok_or(ApiError::NotFound)?;
                return Ok(Ws {
                    id,
                    slug: slug.clone(),
                    role,
                    user,
                });
            }
        }
        let auth = Auth::from_request_parts(parts, state).await?;
        let ws = state
            .store
            .workspace_by_slug(slug)
            .await?
            .ok_or(ApiError::NotFound)?;
        let role = state
            .store
            .role_in(&auth.user, ws.id)
            .await?
            .ok_or(ApiError::NotFound)?;
        Ok(Ws {
            id: ws.id,
            slug: slug.clone(),
            role,
            user: auth.user,
        })
    }
}

/// Login attempts limited per account and per client address, in memory per
/// instance (an attacker spreading over instances gets at most N× the quota).
#[derive(Clone)]
pub struct LoginLimiter {
    per_account: Arc<DefaultKeyedRateLimiter<String>>,
    per_ip: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

impl LoginLimiter {
    /// `account_per_minute` and `ip_per_minute` attempts, each as a burst that refills
    /// evenly over a minute.
    pub fn new(account_per_minute: u32, ip_per_minute: u32) -> Self {
        let q = |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN));
        Self {
            per_account: Arc::new(RateLimiter::keyed(q(account_per_minute))),
            per_ip: Arc::new(RateLimiter::keyed(q(ip_per_minute))),
        }
    }

    /// Ok, or the seconds to wait.
    pub fn check(&self, account: &str, ip: IpAddr) -> Result<(), u64> {
        let clock = governor::clock::DefaultClock::default();
        let wait = |e: governor::NotUntil<governor::clock::QuantaInstant>| {
            use governor::clock::Clock;
            e.wait_time_from(clock.now()).as_secs() + 1
        };
        self.per_ip.check_key(&ip).map_err(wait)?;
        self.per_account
            .check_key(&account.to_owned())
            .map_err(wait)?;
        Ok(())
    }
}

/// The peer address of the connection (loopback when there is none, as in
/// in-process tests). Behind a proxy this is the proxy's address.
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip())
                .unwrap_or(IpAddr::from([127, 0, 0, 1])),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_csrf_tokens_differ_each_time_and_all_match() {
        let secret = "0123456789abcdef0123456789abcdef";
        let (a, b) = (mask_csrf(secret), mask_csrf(secret));
        assert_ne!(a, b, "a fresh mask per page");
        assert!(!a.contains(secret));
        assert!(csrf_matches(a.as_bytes(), secret));
        assert!(csrf_matches(b.as_bytes(), secret));
        assert!(
            csrf_matches(secret.as_bytes(), secret),
            "the token as issued"
        );
        assert!(!csrf_matches(
            mask_csrf("another-secret-of-32-characters!").as_bytes(),
            secret
        ));
        let mut wrong = a.clone().into_bytes();
        wrong[70] = if wrong[70] == b'0' { b'1' } else { b'0' };
        assert!(!csrf_matches(&wrong, secret));
        assert!(!csrf_matches(b"", secret));
        assert!(!csrf_matches(b"", ""), "no session token, nothing matches");
        assert!(!csrf_matches(&[b'z'; 128], secret), "not hex");
    }
}
