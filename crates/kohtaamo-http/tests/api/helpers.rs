use kohtaamo_domain::model::{Parse, Role, WorkspaceInput};
use kohtaamo_domain::Id;
use kohtaamo_http::HttpConfig;
use kohtaamo_storage::testing::{backend_from_env, fresh, TestDb};
use kohtaamo_storage::Store;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub store: Store,
    /// Token of the installation admin.
    pub admin: String,
    /// The database, for a second "instance" connecting to it.
    pub db_url: String,
    _db: TestDb,
}

pub fn texts(en: &str) -> Value {
    json!({ "en": en })
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(HttpConfig {
        login_per_minute_account: 1000,
        login_per_minute_ip: 1000,
        ..Default::default()
    })
    .await
}

pub async fn spawn_app_with(config: HttpConfig) -> TestApp {
    spawn_app_serving(config, Default::default(), std::future::pending())
        .await
        .0
}

/// The app served with `limits` until `shutdown` resolves; the handle ends when the
/// server has stopped.
pub async fn spawn_app_serving(
    mut config: HttpConfig,
    limits: kohtaamo_http::ServeLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> (TestApp, tokio::task::JoinHandle<std::io::Result<()>>) {
    // The tests' webhook receivers listen on loopback (see `webhook_sink`).
    config.webhook_targets = kohtaamo_app::jobs::Targets::allowing(["127.0.0.1"]);
    let db = fresh(backend_from_env()).await;
    let store = Store::connect(&db.url).await.expect("connect");
    store
        .ensure_admin(Some(ADMIN_PASSWORD))
        .await
        .expect("admin");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = kohtaamo_http::app(store.clone(), config);
    let server = tokio::spawn(kohtaamo_http::serve(listener, app, shutdown, limits));
    let admin_user = store.user_by_name("admin").await.unwrap().unwrap();
    let (_, admin) = store.create_token(admin_user.id, "tests").await.unwrap();
    let app = TestApp {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        store,
        admin,
        db_url: db.url.clone(),
        _db: db,
    };
    (app, server)
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends a request with a bearer token; returns status and JSON body (Null if none).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, token, None).await
    }
    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, token, Some(body)).await
    }
    pub async fn put(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, token, Some(body)).await
    }
    pub async fn delete(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, token, None).await
    }

    /// Creates a workspace through the store; returns its id.
    pub async fn workspace(&self, slug: &str) -> Id {
        let data = WorkspaceInput {
            slug: slug.into(),
            name: texts(slug)
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect(),
            default_language: "fi".into(),
        }
        .parse()
        .unwrap();
        self.store.create_workspace(&data, None).await.unwrap()
    }

    /// A new account with `role` in workspace `ws`; returns its API token.
    pub async fn member(&self, username: &str, ws: Id, role: Role) -> String {
        let id = self
            .store
            .create_user(username, "member-password-1", false)
            .await
            .unwrap();
        self.store.set_member(ws, id, role).await.unwrap();
        self.store.create_token(id, "t").await.unwrap().1
    }

    /// Creates an entity through the API as admin, asserting 201; returns its id.
    /// The public key of survey `id` (its links' `KEY`).
    pub async fn survey_key(&self, ws: &str, id: Id) -> String {
        let (_, s) = self
            .get(
                &format!("/api/v1/workspaces/{ws}/surveys/{id}"),
                &self.admin,
            )
            .await;
        s["public_key"].as_str().expect("public_key").to_owned()
    }

    pub async fn create(&self, ws: &str, collection: &str, body: Value) -> Id {
        let (s, b) = self
            .post(
                &format!("/api/v1/workspaces/{ws}/{collection}"),
                &self.admin,
                body,
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "creating {collection}: {b}");
        b["id"].as_i64().unwrap()
    }

    /// A journey `trip` (for a segment `s`) in `ws` with stages of these slugs, in
    /// order: (journey id, stage ids).
    pub async fn trip(&self, ws: &str, stages: &[&str]) -> (Id, Vec<Id>) {
        let seg = self
            .create(ws, "segments", json!({"slug": "s", "name": texts("S")}))
            .await;
        let j = self
            .create(
                ws,
                "journeys",
                json!({"slug": "trip", "name": texts("Trip"), "segment_id": seg}),
            )
            .await;
        let mut ids = vec![];
        for slug in stages {
            ids.push(
                self.create(
                    ws,
                    "stages",
                    json!({"slug": slug, "name": texts(slug), "journey_id": j}),
                )
                .await,
            );
        }
        (j, ids)
    }
}

pub fn unit(slug: &str) -> Value {
    json!({"slug": slug, "name": texts(slug)})
}

/// Webhook deliveries received: (signature header, body).
pub type Deliveries = std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>;

/// A webhook receiver on loopback: its URL and what it received.
pub async fn webhook_sink() -> (String, Deliveries) {
    let got: Deliveries = Default::default();
    let sink = got.clone();
    let receiver = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let sink = sink.clone();
            async move {
                let sig = headers
                    .get(kohtaamo_app::jobs::SIGNATURE_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                sink.lock().unwrap().push((sig, body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await });
    (url, got)
}

/// What a job run needs, with "today" fixed to `day` (noon UTC).
pub fn jobs_on(store: &Store, day: chrono::NaiveDate) -> kohtaamo_app::jobs::JobCtx {
    kohtaamo_app::jobs::JobCtx::with_targets(
        store.clone(),
        std::sync::Arc::new(kohtaamo_app::clock::FixedClock::on(day)),
        kohtaamo_app::jobs::Targets::allowing(["127.0.0.1"]),
    )
}
