//! Webhook delivery: a JSON body POSTed to every webhook of a workspace, signed with
//! HMAC-SHA256 of the body (`X-Kohtaamo-Signature: sha256=<hex>`). Failures are logged,
//! not retried: what a job delivers also stays in the app (notifications, alerts).
//!
//! A webhook's address is chosen by a workspace admin, so it must not reach the
//! installation's own network: [`Targets`] refuses loopback, private, link-local,
//! shared, unspecified and multicast addresses when a webhook is registered *and*, after
//! DNS resolution, at every delivery (a name may later resolve elsewhere); deliveries
//! follow no redirects. An installation may allow named internal hosts
//! (`webhook_allowed_hosts`).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use kohtaamo_domain::{Id, Reason};

use super::JobCtx;
use crate::Result;

/// Which webhook addresses may be reached.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    /// Host names or IP addresses allowed even though they are internal.
    allowed_hosts: Arc<Vec<String>>,
}

/// Whether `ip` is an address on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xC0) == 64)) // 100.64.0.0/10, shared
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80) // link-local
        }
    }
}

fn internal() -> Reason {
    Reason::from(
        "is an internal address (loopback, private, link-local or the like); an installation admin can allow its host with webhook_allowed_hosts",
    )
}

impl Targets {
    /// Internal hosts an installation allows (names or addresses, any port).
    pub fn allowing<I: IntoIterator<Item = S>, S: Into<String>>(hosts: I) -> Self {
        Self {
            allowed_hosts: Arc::new(
                hosts
                    .into_iter()
                    .map(|h| {
                        h.into()
                            .trim()
                            .trim_matches(['[', ']'])
                            .to_ascii_lowercase()
                    })
                    .filter(|h| !h.is_empty())
                    .collect(),
            ),
        }
    }

    fn allowed(&self, host: &str) -> bool {
        let host = host.trim_matches(['[', ']']).to_ascii_lowercase();
        self.allowed_hosts.contains(&host)
    }

    /// Checks an address a workspace admin gives: http(s), and every address its host
    /// resolves to public (or the host allowed). The reason names what is wrong.
    pub async fn check(&self, url: &str) -> std::result::Result<(), Reason> {
        let u = reqwest::Url::parse(url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| Reason::from("must be an http:// or https:// address"))?;
        let host = u.host_str().unwrap_or_default().to_owned();
        if host.is_empty() {
            return Err(Reason::from("must name a host"));
        }
        match self.verdict(&host) {
            Some(true) => return Ok(()),
            Some(false) => return Err(internal()),
            None => {}
        }
        let port = u.port_or_known_default().unwrap_or(80);
        let lookup = tokio::time::timeout(
            Duration::from_secs(5),
            tokio::net::lookup_host((host.as_str(), port)),
        )
        .await;
        let addrs: Vec<SocketAddr> = match lookup {
            Ok(Ok(a)) => a.collect(),
            _ => return Err(Reason::from("cannot be resolved to an address")),
        };
        if addrs.is_empty() || addrs.iter().any(|a| !is_public(a.ip())) {
            return Err(internal());
        }
        Ok(())
    }

    /// Whether a delivery to `url` may start: an IP-literal host must be public (or
    /// allowed); a name is checked by the client's resolver when it connects.
    pub fn permits(&self, url: &str) -> bool {
        let Ok(u) = reqwest::Url::parse(url) else {
            return false;
        };
        self.verdict(u.host_str().unwrap_or_default())
            .unwrap_or(true)
    }

    /// What can be decided without DNS: an allowed host may be reached, an IP literal
    /// if it is public; a name needs resolving (None).
    fn verdict(&self, host: &str) -> Option<bool> {
        if self.allowed(host) {
            return Some(true);
        }
        host.trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .ok()
            .map(is_public)
    }

    /// The HTTP client for deliveries: no redirects, 10-second timeout, and a resolver
    /// that refuses names resolving to internal addresses (unless allowed).
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .dns_resolver(Arc::new(PublicOnly(self.clone())))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new())
    }
}

/// Registers a webhook of workspace `ws`: the address must be one the installation may
/// reach ([`Targets::check`]) and the secret at least 16 characters; every problem is
/// reported at once and nothing is stored.
pub async fn add_webhook(
    store: &kohtaamo_storage::Store,
    targets: &Targets,
    ws: Id,
    url: &str,
    secret: &str,
    events: &[String],
) -> Result<Id> {
    let mut e = kohtaamo_domain::FieldErrors::new();
    for ev in events {
        if !OPT_IN_EVENTS.contains(&ev.as_str()) {
            e.add(
                "events",
                Reason::new("not-one-of")
                    .with("value", ev)
                    .with("options", OPT_IN_EVENTS.join(", ")),
            );
        }
    }
    if let Err(r) = targets.check(url).await {
        e.add("url", r);
    }
    if secret.len() < 16 {
        e.add("secret", "must be at least 16 characters");
    }
    if !e.is_empty() {
        return Err(crate::Error::Invalid(e));
    }
    let mut events: Vec<&str> = events.iter().map(String::as_str).collect();
    events.sort_unstable();
    events.dedup();
    Ok(store.add_webhook(ws, url, secret, &events).await?)
}

/// Events a webhook takes only when it asks for them (they can be many): `encounters`
/// (each batch recorded), `follow-ups` (each step taken on a follow-up), `cases` (each
/// case created or moved).
pub const OPT_IN_EVENTS: [&str; 3] = ["cases", "encounters", "follow-ups"];

/// Resolves names with the system resolver and keeps only public addresses.
struct PublicOnly(Targets);

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let targets = self.0.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed = targets.allowed(&host);
            let ok: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|a| allowed || is_public(a.ip()))
                .collect();
            if ok.is_empty() {
                return Err(format!("{host} resolves only to internal addresses").into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(ok.into_iter());
            Ok(addrs)
        })
    }
}

pub const SIGNATURE_HEADER: &str = "x-kohtaamo-signature";

/// `sha256=<hex of HMAC-SHA256(secret, body)>`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    format!(
        "sha256={}",
        crate::keyed::hmac_hex(secret.as_bytes(), &[body])
    )
}

/// POSTs `body` to every webhook of workspace `ws`, signed. Failures are logged, not
/// retried (what was delivered stays in the app).
pub async fn deliver(ctx: &JobCtx, ws: Id, body: String) -> Result<()> {
    deliver_to(ctx, ws, None, body).await
}

/// POSTs `body` to the webhooks of `ws` that opted in to `event` (one of
/// [`OPT_IN_EVENTS`]).
pub async fn deliver_opt_in(ctx: &JobCtx, ws: Id, event: &str, body: String) -> Result<()> {
    deliver_to(ctx, ws, Some(event), body).await
}

async fn deliver_to(ctx: &JobCtx, ws: Id, event: Option<&str>, body: String) -> Result<()> {
    // From the store's short-lived cache: opt-in events come from hot paths (every
    // batch of encounters), and most workspaces have no webhook listening.
    for hook in ctx.store.webhooks_cached(ws).await?.iter() {
        if event.is_some_and(|ev| !hook.events.iter().any(|e| e == ev)) {
            continue;
        }
        if !ctx.targets.permits(&hook.url) {
            tracing::warn!(
                webhook = hook.id,
                "webhook address is internal; not delivered"
            );
            continue;
        }
        let result = ctx
            .http
            .post(&hook.url)
            .header("content-type", "application/json")
            .header(SIGNATURE_HEADER, sign(&hook.secret, body.as_bytes()))
            .body(body.clone())
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        match result {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => {
                tracing::warn!(webhook = hook.id, status = %r.status(), "webhook refused the delivery")
            }
            Err(e) => tracing::warn!(webhook = hook.id, error = %e, "webhook delivery failed"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:4700::1111", "8.8.8.8"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn registration_refuses_internal_targets_unless_allowed() {
        let t = Targets::default();
        for url in [
            "http://169.254.169.254/latest/meta-data/",
            "http://127.0.0.1:22/",
            "http://localhost:5432/",
            "http://[::1]:6379/",
            "http://10.0.0.1/",
            "http://0.0.0.0/",
            "ftp://example.com/",
            "not a url",
        ] {
            assert!(t.check(url).await.is_err(), "{url}");
            assert!(
                !t.permits(url) || url.contains("localhost") || url.starts_with("ftp"),
                "{url}"
            );
        }
        assert!(t.check("http://93.184.216.34/hook").await.is_ok());
        let allowed = Targets::allowing(["127.0.0.1", "Hooks.Internal"]);
        assert!(allowed.check("http://127.0.0.1:9000/hook").await.is_ok());
        assert!(allowed.permits("http://127.0.0.1:9000/hook"));
        assert!(allowed.check("http://127.0.0.2/").await.is_err());
    }

    #[tokio::test]
    async fn deliveries_follow_no_redirects() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let hits = Arc::new(AtomicUsize::new(0));
        let seen = hits.clone();
        let target = axum::Router::new().route(
            "/",
            axum::routing::post(move || {
                let seen = seen.clone();
                async move {
                    seen.fetch_add(1, Ordering::SeqCst);
                    "ok"
                }
            }),
        );
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target_url = format!("http://{}/", l.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(l, target).await });
        let to = target_url.clone();
        let redirecting = axum::Router::new().route(
            "/",
            axum::routing::post(move || {
                let to = to.clone();
                async move { axum::response::Redirect::temporary(&to) }
            }),
        );
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let hook = format!("http://{}/", l.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(l, redirecting).await });
        let client = Targets::allowing(["127.0.0.1"]).client();
        let r = client.post(&hook).body("{}").send().await.unwrap();
        assert_eq!(r.status().as_u16(), 307, "the redirect is the answer");
        assert_eq!(hits.load(Ordering::SeqCst), 0, "not followed");
        // The same client reaches the target itself (the test's receivers are allowed).
        client.post(&target_url).body("{}").send().await.unwrap();
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        // Without the allowance, a name resolving to loopback is refused by the resolver.
        let strict = Targets::default().client();
        let port = target_url.rsplit(':').next().unwrap();
        assert!(strict
            .post(format!("http://localhost:{port}"))
            .send()
            .await
            .is_err());
        assert_eq!(hits.load(Ordering::SeqCst), 1);
    }
}
