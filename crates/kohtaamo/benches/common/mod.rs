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
                presence: None,
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

/// The statements that re-create the secondary indexes of `table` (not those behind
/// a primary key or UNIQUE constraint), with their names.
pub async fn secondary_indexes(store: &Store, table: &str) -> Vec<(String, String)> {
    let sql = match store.backend() {
        Backend::Sqlite => {
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL"
        }
        Backend::Postgres => {
            "SELECT indexname::text, indexdef::text FROM pg_indexes WHERE tablename = $1 \
             AND indexname NOT IN (SELECT conname::text FROM pg_constraint)"
        }
    };
    sqlx::query_as(sql)
        .bind(table)
        .fetch_all(store.pool())
        .await
        .expect("indexes")
}

/// Fills the workspace with `customers` customers (`crm:c-N`) and `encounters`
/// encounters over the last 365 days at the touchpoints of `unit`, by SQL in bulk
/// (secondary indexes dropped and re-created, `encounter_rollups` counted from the
/// rows as migration 0010 does); returns seconds taken.
pub async fn fill_encounters(
    store: &Store,
    (ws, unit, touchpoints): (i64, i64, &[i64]),
    customers: u64,
    encounters: u64,
) -> f64 {
    let start = Instant::now();
    let mut conn = store.pool().acquire().await.expect("conn");
    let sqlite = matches!(store.backend(), Backend::Sqlite);
    if sqlite {
        sqlx::query("PRAGMA cache_size = -1000000")
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    let mut dropped = vec![];
    for table in ["encounters", "customer_identifiers"] {
        for (name, def) in secondary_indexes(store, table).await {
            sqlx::query(&format!("DROP INDEX {name}"))
                .execute(&mut *conn)
                .await
                .unwrap();
            dropped.push(def);
        }
    }
    let series = |n: u64| {
        if sqlite {
            format!("(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) SELECT i FROM s)")
        } else {
            format!("(SELECT generate_series(1, {n})::bigint AS i)")
        }
    };
    sqlx::query(&format!(
        "INSERT INTO customers (workspace_id, origin, created_at) \
         SELECT {ws}, 'crm:c-' || i, '2025-01-01T00:00:00Z' FROM {} AS n ORDER BY i",
        series(customers)
    ))
    .execute(&mut *conn)
    .await
    .unwrap();
    let (first, last): (i64, i64) =
        sqlx::query_as("SELECT MIN(id), MAX(id) FROM customers WHERE workspace_id = $1")
            .bind(ws)
            .fetch_one(&mut *conn)
            .await
            .unwrap();
    assert_eq!(
        (last - first + 1) as u64,
        customers,
        "consecutive customer ids"
    );
    sqlx::query(&format!(
        "INSERT INTO customer_identifiers (workspace_id, ident, kind, customer_id, created_at) \
         SELECT {ws}, origin, 'crm', id, created_at FROM customers WHERE workspace_id = {ws}"
    ))
    .execute(&mut *conn)
    .await
    .unwrap();
    // Touchpoint k of n, as a small table to join.
    let tps = touchpoints
        .iter()
        .enumerate()
        .map(|(k, id)| format!("SELECT {k} AS k, {id} AS tp"))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let n_tp = touchpoints.len();
    let now = chrono::Utc::now().timestamp();
    let year = 365 * 86_400;
    // Encounter i: customer (i·7919 mod C), touchpoint i mod n, case i/4, at a moment
    // spread over the last 365 days.
    let at = if sqlite {
        format!("strftime('%Y-%m-%dT%H:%M:%SZ', {now} - ((n.i * 104729) % {year}), 'unixepoch')")
    } else {
        format!("to_char(to_timestamp({now} - ((n.i * 104729) % {year})) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
    };
    let client = if sqlite {
        "printf('e-%09d', n.i)".to_string()
    } else {
        "'e-' || lpad(n.i::text, 9, '0')".to_string()
    };
    sqlx::query(&format!(
        "INSERT INTO encounters (workspace_id, client_id, occurred_at, touchpoint_id, touchpoint_name, \
         stage_id, journey_id, channel, unit_id, partner_id, owner_name, customer_id, case_ref, kind, text, \
         attributes, source, recorded_by, created_at) \
         SELECT {ws}, {client}, {at}, tp.tp, '{{\"en\":\"tp\"}}', NULL, NULL, 'web', {unit}, NULL, \
         '{{\"en\":\"Ops\"}}', {first} + ((n.i * 7919) % {customers}), 'case-' || (n.i / 4), 'contact', \
         'Asked about the timetable', '{{}}', 'api', 'bench', '2026-01-01T00:00:00Z' \
         FROM {} AS n JOIN ({tps}) AS tp ON tp.k = n.i % {n_tp} ORDER BY n.i",
        series(encounters)
    ))
    .execute(&mut *conn)
    .await
    .unwrap();
    for def in dropped {
        sqlx::query(&def).execute(&mut *conn).await.unwrap();
    }
    sqlx::query(
        "INSERT INTO encounter_rollups (workspace_id, touchpoint_id, day, encounters) \
         SELECT workspace_id, touchpoint_id, substr(occurred_at, 1, 10), COUNT(*) \
         FROM encounters WHERE touchpoint_id IS NOT NULL \
         GROUP BY workspace_id, touchpoint_id, substr(occurred_at, 1, 10)",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    if !sqlite {
        // What autovacuum does after a bulk load.
        sqlx::query("ANALYZE").execute(&mut *conn).await.unwrap();
    }
    start.elapsed().as_secs_f64()
}
