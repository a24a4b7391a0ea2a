//! What the benches that drive the real server share: settings from the environment,
//! a fresh database with a workspace `bench` (and, for the encounter benches, a unit
//! with touchpoints and an admin token), a free port, starting `kohtaamo serve` and
//! waiting for it, percentiles. Each bench uses part of it.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kohtaamo_domain::model::*;
use kohtaamo_storage::testing::{fresh, TestDb};
use kohtaamo_storage::{Backend, Store};

/// A number from the environment, or `default`.
pub fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

/// Starts the release `kohtaamo serve` on `port` over the database at `url` (jobs and
/// rate limits off, logs at warn) with `env` besides, and waits until it listens.
/// `BENCH_SERVER_BIN` names another build of the binary to run instead (to compare a
/// saved build with the current one back to back).
pub fn serve(url: &str, data_dir: &Path, port: u16, env: &[(&str, String)]) -> Child {
    let bin = std::env::var("BENCH_SERVER_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_kohtaamo").to_owned());
    let mut child = Command::new(bin)
        .arg("serve")
        .env("KOHTAAMO_BIND", format!("127.0.0.1:{port}"))
        .env("KOHTAAMO_DATABASE_URL", url)
        .env("KOHTAAMO_DATA_DIR", data_dir)
        .env("KOHTAAMO_LOG", "warn")
        .env("KOHTAAMO_REVIEW_CYCLE_MINUTES", "0")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .spawn()
        .expect("start kohtaamo serve");
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return child;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("server did not start");
}

/// The `p` quantile (0–1) of sorted microseconds, in milliseconds (0 when empty).
pub fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

/// A fresh database (dropped with this value), a data directory and the workspace
/// `bench` in it.
pub struct Bench {
    pub store: Store,
    pub url: String,
    pub ws: i64,
    pub db: TestDb,
    pub dir: tempfile::TempDir,
}

fn en(s: &str) -> std::collections::BTreeMap<String, String> {
    [("en".to_string(), s.to_string())].into()
}

pub async fn workspace(backend: Backend) -> Bench {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = fresh(backend).await;
    let url = db.url.clone();
    let store = Store::connect(&url).await.expect("connect");
    let ws = WorkspaceInput {
        slug: "bench".into(),
        name: en("Bench"),
        default_language: "en".into(),
    }
    .parse()
    .unwrap();
    let ws = store.create_workspace(&ws, None).await.expect("workspace");
    Bench {
        store,
        url,
        ws,
        db,
        dir,
    }
}

impl Bench {
    /// A unit `ops` owning one touchpoint per slug, all in one stage of one journey:
    /// (unit, touchpoint ids in `slugs` order).
    pub async fn touchpoints(&self, slugs: &[String]) -> (i64, Vec<i64>) {
        let (store, ws) = (&self.store, self.ws);
        let unit = UnitInput {
            slug: "ops".into(),
            name: en("Ops"),
            description: Default::default(),
            parent_id: None,
        };
        let unit = store.create(ws, &unit.parse().unwrap()).await.unwrap().id;
        let seg = SegmentInput {
            slug: "s".into(),
            name: en("S"),
            description: Default::default(),
            needs: None,
        };
        let seg = store.create(ws, &seg.parse().unwrap()).await.unwrap().id;
        let j = JourneyInput {
            slug: "j".into(),
            name: en("J"),
            description: Default::default(),
            segment_id: seg,
            package_ids: None,
        };
        let j = store.create(ws, &j.parse().unwrap()).await.unwrap().id;
        let st = StageInput {
            slug: "st".into(),
            name: en("St"),
            description: Default::default(),
            journey_id: j,
        };
        let st = store.create(ws, &st.parse().unwrap()).await.unwrap().id;
        let mut ids = vec![];
        for slug in slugs {
            let tp = TouchpointInput {
                stage_id: st,
                slug: slug.clone(),
                name: en(slug),
                description: Default::default(),
                channel: "web".into(),
                owner: Some(Owner::Unit(unit)),
                element_id: None,
                lane: "frontstage".into(),
                interface: None,
                emotion: 0,
                moment_of_truth: false,
            };
            ids.push(store.create(ws, &tp.parse().unwrap()).await.unwrap().id);
        }
        (unit, ids)
    }

    /// An API token of the installation's admin.
    pub async fn admin_token(&self) -> String {
        self.store
            .ensure_admin(Some("bench-admin-password"))
            .await
            .unwrap();
        let admin = self.store.user_by_name("admin").await.unwrap().unwrap();
        self.store.create_token(admin.id, "bench").await.unwrap().1
    }
}

/// GETs each of `paths` once, one after another, with the bearer `token`: (p50, p95,
/// p99 ms, items in the last answer).
pub async fn reads(port: u16, token: &str, paths: &[String]) -> (f64, f64, f64, usize) {
    let client = reqwest::Client::new();
    let mut lat = vec![];
    let mut items = 0;
    for p in paths {
        let t0 = Instant::now();
        let r = client
            .get(format!("http://127.0.0.1:{port}{p}"))
            .bearer_auth(token)
            .send()
            .await
            .expect("get");
        assert!(r.status().is_success(), "{p}: {}", r.status());
        let body: serde_json::Value = r.json().await.expect("json");
        lat.push(t0.elapsed().as_micros() as u32);
        items = body["items"].as_array().map_or(0, Vec::len);
    }
    lat.sort_unstable();
    (pct(&lat, 0.5), pct(&lat, 0.95), pct(&lat, 0.99), items)
}
