//! Kohtaamo's HTTP layer: two thin doors into the use cases of `kohtaamo_app`.
//! - [`api`]: the JSON API (`/api/v1`, public feedback under `/api/public/v1`) and the
//!   OpenAPI document; every route is registered through [`api::Api`], which builds the
//!   router and the document together so the two cannot disagree.
//! - [`ui`]: the server-rendered pages, forms and templates.
//!
//! `api/` and `ui/` never import each other. What both need is either behaviour (in
//! `kohtaamo_app`) or one of the shared modules here: [`auth`] (sessions, tokens,
//! workspace roles), [`error`] (the one HTTP error), [`extract`], [`i18n`] (the
//! request's language), [`params`] (query parameters into validated values) and
//! [`export`] (spreadsheet cells, downloads); [`AppState::public_base`] gives the
//! address respondents reach.

pub mod api;
pub mod auth;
pub mod error;
pub mod export;
pub mod extract;
pub mod i18n;
pub mod params;
pub mod ui;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::Router;
use kohtaamo_app::clock::SharedClock;
use kohtaamo_app::feedback::{Feedback, FeedbackConfig};
use kohtaamo_storage::Store;

/// Settings of the HTTP layer (the binary fills them from its configuration).
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Mark cookies `Secure` (set when served over HTTPS).
    pub secure_cookies: bool,
    pub session_ttl_hours: i64,
    pub login_per_minute_account: u32,
    pub login_per_minute_ip: u32,
    /// Largest JSON body accepted, in bytes (413 above).
    pub body_limit: usize,
    /// Largest model document accepted by the import endpoint, in bytes.
    pub import_limit: usize,
    /// Public feedback: group commit, rate limits, bot checks.
    pub feedback: FeedbackConfig,
    /// Largest public feedback post, in bytes.
    pub public_body_limit: usize,
    /// Longest a request may take, its body included (408 after).
    pub request_timeout: Duration,
    /// Longest a request waits for a report being computed (journey mining) before it
    /// answers "being computed"; the computation goes on and is kept.
    pub report_wait: Duration,
    /// Which webhook addresses a workspace admin may register (public ones, plus the
    /// installation's allowed internal hosts).
    pub webhook_targets: kohtaamo_app::jobs::Targets,
    /// The address respondents use (links, QR codes), e.g. `https://palaute.example.fi`;
    /// when unset, the staff member's request host if it is a loopback address, else
    /// `http://localhost` (and the pages ask for this setting).
    pub public_url: Option<String>,
    /// Where files uploaded for import wait between the steps of the import page
    /// (`uploads/` in the data directory).
    pub upload_dir: std::path::PathBuf,
    /// Largest file the import page takes, in bytes.
    pub upload_limit: usize,
    /// What creating a workspace and importing a file on the pages may take.
    pub long_request_timeout: Duration,
    /// The SMTP client (None: e-mail off; the pages say so).
    pub mailer: Option<kohtaamo_app::mail::Mailer>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            session_ttl_hours: 12,
            login_per_minute_account: 5,
            login_per_minute_ip: 30,
            body_limit: 256 * 1024,
            import_limit: 16 * 1024 * 1024,
            feedback: FeedbackConfig::default(),
            public_body_limit: 64 * 1024,
            request_timeout: Duration::from_secs(30),
            report_wait: Duration::from_secs(20),
            webhook_targets: Default::default(),
            public_url: None,
            upload_dir: std::env::temp_dir().join("kohtaamo-uploads"),
            upload_limit: 256 * 1024 * 1024,
            long_request_timeout: Duration::from_secs(600),
            mailer: None,
        }
    }
}

/// Seconds a client (the API's `Retry-After`, the page's own polling) is asked to wait
/// before asking again for a report still being computed.
pub const REPORT_RETRY_SECONDS: u64 = 10;

/// What every handler reads. Cloned for each request and for each middleware that
/// takes it, so it is one `Arc`: cloning the parts instead (two stores' dozen `Arc`s,
/// a `String`) cost about 7 % of the server's CPU at 20,000 responses/s.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The parts of [`AppState`].
pub struct Shared {
    pub store: Store,
    pub config: Arc<HttpConfig>,
    pub limiter: auth::LoginLimiter,
    pub openapi: Arc<serde_json::Value>,
    pub feedback: Arc<Feedback>,
    /// "Today" for every handler (periods, staleness, reviews).
    pub clock: SharedClock,
    /// For webhook events sent from requests (encounters recorded): the allowed
    /// targets and one HTTP client.
    pub hooks: kohtaamo_app::jobs::JobCtx,
    /// The customers' case look-up by reference and second factor, with its limits.
    pub case_lookup: kohtaamo_app::cases::Lookup,
    /// Customers' replies on their status pages, with their limits.
    pub case_replies: kohtaamo_app::cases::Replies,
    /// Status page opens counted in memory, added to storage every
    /// [`OPENS_FLUSH`] by a background task (and before analytics are read).
    pub case_opens: kohtaamo_app::cases::Opens,
}

/// How often counted status page opens are written.
pub const OPENS_FLUSH: Duration = Duration::from_secs(5);

impl Shared {
    /// The job context when e-mail is on (None: off), for use cases that send mail.
    pub fn mail(&self) -> Option<&kohtaamo_app::jobs::JobCtx> {
        self.hooks.mailer.as_ref().map(|_| &self.hooks)
    }

    /// The address respondents reach (links, QR codes, the widget snippet,
    /// invitations): the configured public URL, else this request's host if it is a
    /// loopback address (see [`kohtaamo_app::links::public_base`]).
    pub fn public_base(&self, headers: &axum::http::HeaderMap) -> String {
        kohtaamo_app::links::public_base(self.config.public_url.as_deref(), host(headers))
    }

    /// Whether the links given to this request are only a stand-in (`http://localhost`)
    /// because no public URL is configured and the request came from elsewhere.
    pub fn public_base_missing(&self, headers: &axum::http::HeaderMap) -> bool {
        self.config.public_url.is_none()
            && !host(headers).is_some_and(kohtaamo_app::links::is_loopback_host)
    }
}

fn host(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers.get(header::HOST).and_then(|h| h.to_str().ok())
}

/// Limits of the listening socket (see [`serve`]).
#[derive(Debug, Clone)]
pub struct ServeLimits {
    /// Time a client has to send a request's headers; a slower client is disconnected.
    pub header_read_timeout: Duration,
    /// Most connections open at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// After the shutdown signal: how long requests in flight may still take before
    /// the server stops anyway.
    pub shutdown_grace: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 4096,
            shutdown_grace: Duration::from_secs(20),
        }
    }
}

/// The whole application as a router (use `oneshot` in tests, or [`serve`]), on the
/// system clock.
pub fn app(store: Store, config: HttpConfig) -> Router {
    app_with_clock(store, config, kohtaamo_app::clock::system())
}

/// The whole application, with "today" read from `clock`.
pub fn app_with_clock(store: Store, config: HttpConfig, clock: SharedClock) -> Router {
    let api = api::api(&config);
    let (router, openapi) = api.finish();
    let state = AppState(Arc::new(Shared {
        store: store.clone(),
        limiter: auth::LoginLimiter::new(
            config.login_per_minute_account,
            config.login_per_minute_ip,
        ),
        config: Arc::new(config.clone()),
        openapi: Arc::new(openapi),
        feedback: Arc::new(Feedback::new(
            store.clone(),
            &config.feedback,
            clock.clone(),
        )),
        hooks: kohtaamo_app::jobs::JobCtx::with_targets(
            store.clone(),
            clock.clone(),
            config.webhook_targets.clone(),
        )
        .with_mailer(config.mailer.clone())
        .with_base_url(config.public_url.clone()),
        clock,
        case_lookup: Default::default(),
        case_replies: Default::default(),
        case_opens: Default::default(),
    }));
    state.feedback.set_hooks(state.hooks.clone());
    if let Ok(rt) = tokio::runtime::Handle::try_current() {
        // Holds the state only weakly: the task ends with the application.
        let weak = Arc::downgrade(&state.0);
        rt.spawn(async move {
            loop {
                tokio::time::sleep(OPENS_FLUSH).await;
                let Some(shared) = weak.upgrade() else {
                    break;
                };
                if let Err(e) = shared.case_opens.flush(&shared.store).await {
                    tracing::warn!(error = %e, "status page opens not written; kept for the next try");
                }
            }
        });
    }
    router
        .merge(ui::router())
        .fallback(|| async {
            error::ApiError::Rejected(axum::http::StatusCode::NOT_FOUND, "no such route".into())
        })
        .layer(DefaultBodyLimit::max(config.body_limit))
        // A request (its body read and its answer prepared) gets `request_timeout`; a
        // client that sends its body a byte at a time, or a request stuck behind a
        // database that does not answer, gets 408 (made a JSON error below) instead
        // of holding its connection. Streaming downloads count until their first byte.
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            config.request_timeout,
        ))
        // Creating a workspace (the demo's year of history) and importing a file get
        // longer; merged after the layer above, so it does not wrap them.
        .merge(
            ui::long_router(&config).layer(tower_http::timeout::TimeoutLayer::with_status_code(
                axum::http::StatusCode::REQUEST_TIMEOUT,
                config.long_request_timeout,
            )),
        )
        .layer(axum::middleware::map_response(security_headers))
        // gzip for clients that accept it (a large journey map shrinks ~8×). The CSRF
        // token in pages is masked per response, so compression does not leak it.
        .layer({
            use tower_http::compression::predicate::{
                DefaultPredicate, NotForContentType, Predicate,
            };
            // PDFs and spreadsheets are compressed already.
            tower_http::compression::CompressionLayer::new()
                .gzip(true)
                .compress_when(
                    DefaultPredicate::new()
                        .and(NotForContentType::const_new("application/pdf"))
                        .and(NotForContentType::const_new("application/vnd.")),
                )
        })
        .layer(axum::middleware::from_fn(close_after_refusal))
        // 5xx are logged where they arise (an internal error with its cause; an outage
        // once by the store), not again per response.
        .layer(
            tower_http::trace::TraceLayer::new_for_http().on_failure(
                tower_http::trace::DefaultOnFailure::new().level(tracing::Level::DEBUG),
            ),
        )
        .with_state(state)
}

/// A refusal of a request that carried a body (413, 401, 403, 429 …) may come before
/// the body was read; the connection cannot then be reused, so say `Connection: close`
/// and the client opens a new one instead of failing its next request on this one.
async fn close_after_refusal(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let h = req.headers();
    let has_body = h
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > 0)
        || h.contains_key(header::TRANSFER_ENCODING);
    let mut resp = next.run(req).await;
    let status = resp.status();
    if has_body && (status.is_client_error() || status.is_server_error()) {
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}

async fn security_headers(mut resp: axum::response::Response) -> axum::response::Response {
    use axum::response::IntoResponse;
    // The request deadline's bare 408 becomes the JSON error every refusal is.
    if resp.status() == axum::http::StatusCode::REQUEST_TIMEOUT
        && !resp.headers().contains_key(header::CONTENT_TYPE)
    {
        resp = error::ApiError::Rejected(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            "the request took too long (was its body sent too slowly?)".into(),
        )
        .into_response();
    }
    let h = resp.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // A page may ask for less (the customer's capability links: no-referrer).
    h.entry(header::REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("same-origin"));
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    // No inline script or style anywhere; the widget script is served from here and
    // runs on other sites under their own policy.
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
        ));
    resp
}

/// Serves `app` on `listener` until `shutdown` resolves; in-flight requests then get
/// `limits.shutdown_grace` to finish. Headers must arrive within
/// `limits.header_read_timeout`; at most `limits.max_connections` are open at once.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    limits: ServeLimits,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::server::graceful::GracefulShutdown;
    use hyper_util::service::TowerToHyperService;
    use tower::ServiceExt;

    let graceful = GracefulShutdown::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // At the limit, connections wait in the listen backlog until one closes.
        let permit = tokio::select! {
            biased;
            _ = &mut shutdown => break,
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (stream, remote) = tokio::select! {
            biased;
            _ = &mut shutdown => break,
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let router = app.clone();
        let service = tower::service_fn(move |req: axum::http::Request<hyper::body::Incoming>| {
            let mut req = req.map(axum::body::Body::new);
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(remote));
            router.clone().oneshot(req)
        });
        let watcher = graceful.watcher();
        let header_timeout = limits.header_read_timeout;
        tokio::spawn(async move {
            let mut builder = Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            builder.http2().timer(TokioTimer::new());
            let conn = builder.serve_connection_with_upgrades(
                TokioIo::new(stream),
                TowerToHyperService::new(service),
            );
            if let Err(e) = watcher.watch(conn).await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    // Idle connections close now, busy ones after their response; whatever is still
    // open at the deadline (a client that never finishes its request) is dropped.
    tokio::select! {
        _ = graceful.shutdown() => tracing::info!("all connections closed"),
        _ = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!(grace_s = limits.shutdown_grace.as_secs(), "shutdown deadline passed; dropping the connections still open");
        }
    }
    Ok(())
}

/// The layers the architecture promises, checked on the sources: `api/` and `ui/` never
/// import each other, and the binary reaches into this crate only to build and serve
/// the application.
#[cfg(test)]
mod layering {
    fn sources(dir: &str) -> Vec<(String, String)> {
        let root = format!("{}/{dir}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "rs"))
            .map(|p| {
                (
                    p.display().to_string(),
                    std::fs::read_to_string(&p).unwrap(),
                )
            })
            .collect()
    }

    fn offenders(dir: &str, forbidden: &[&str]) -> Vec<String> {
        sources(dir)
            .into_iter()
            .flat_map(|(path, text)| {
                text.lines()
                    .filter(|l| forbidden.iter().any(|f| l.contains(f)))
                    .map(|l| format!("{path}: {}", l.trim()))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn api_and_ui_never_import_each_other() {
        let api = offenders("src/api", &["crate::ui", "super::super"]);
        assert!(api.is_empty(), "api/ imports ui/: {api:#?}");
        let ui = offenders("src/ui", &["crate::api", "super::super"]);
        assert!(ui.is_empty(), "ui/ imports api/: {ui:#?}");
        // The check itself finds what it looks for.
        assert!(!offenders("src", &["pub mod api"]).is_empty());
    }

    #[test]
    fn the_binary_uses_this_crate_only_to_serve() {
        let allowed = [
            "kohtaamo_http::app(",
            "kohtaamo_http::app_with_clock(",
            "kohtaamo_http::serve(",
            "kohtaamo_http::HttpConfig",
            "kohtaamo_http::ServeLimits",
        ];
        let mut seen = 0;
        for (path, text) in sources("../kohtaamo/src") {
            for (n, _) in text.match_indices("kohtaamo_http::") {
                seen += 1;
                assert!(
                    allowed.iter().any(|a| text[n..].starts_with(a)),
                    "{path}: {}",
                    &text[n..(n + 60).min(text.len())]
                );
            }
        }
        assert!(seen > 0, "the binary serves the app through this crate");
    }
}
