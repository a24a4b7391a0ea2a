//! Encounter ingest benchmark: `cargo bench -p kohtaamo --bench encounters`.
//!
//! For each backend (SQLite, and PostgreSQL at the test URL), starts the real `kohtaamo
//! serve` binary, posts batches of 1000 encounters (a JSON array, each with its own
//! customer among 100,000 and a case) from `BENCH_CONCURRENCY` keep-alive connections
//! for `BENCH_SECONDS`, and prints encounters/s and p50/p99 batch latency; then checks
//! that every acknowledged encounter is stored (lost = 0). In the same run, the raw
//! batched-insert rate of the store (`Store::record_encounters`, no HTTP, no
//! validation) beside it, and one customer's timeline read 200 times (p50, p95) once
//! the database holds what the runs wrote.
//!
//! Then single-encounter posts (one JSON object per request) from
//! `BENCH_SINGLE_CONNECTIONS` connections, which the server's writer group-commits.
//!
//! Environment: `BENCH_SECONDS` (20), `BENCH_CONCURRENCY` (4),
//! `BENCH_SINGLE_CONNECTIONS` (256), `BENCH_BACKENDS` (`sqlite,postgres`),
//! `BENCH_PHASES` (`batches,singles,raw,timeline`: a subset runs only those, e.g. to
//! profile one).

use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use kohtaamo_storage::encounters::NewEncounter;
use kohtaamo_storage::testing::TestDb;
use kohtaamo_storage::{Backend, Store};

mod common;
use common::{env_num, free_port, pct, serve};

const BATCH: usize = 1000;

struct Target {
    store: Store,
    url: String,
    ws: i64,
    token: String,
    /// The unit and its two touchpoints (desk, web), for the raw insert.
    unit: i64,
    touchpoints: Vec<i64>,
    _db: TestDb,
    _dir: tempfile::TempDir,
}

async fn target(backend: Backend) -> Target {
    let b = common::workspace(backend).await;
    let (unit, touchpoints) = b.touchpoints(&["desk".into(), "web".into()]).await;
    let token = b.admin_token().await;
    Target {
        store: b.store,
        url: b.url,
        ws: b.ws,
        token,
        unit,
        touchpoints,
        _db: b.db,
        _dir: b.dir,
    }
}

fn start_server(t: &Target, port: u16) -> Child {
    serve(&t.url, t._dir.path(), port, &[])
}

/// What one encounter of the load looks like: a live feed, as the systems that post
/// encounters send them — the time is now (so the time, touchpoint and unit indexes
/// grow at their ends), while the client's id (a UUID), the customer (among 100,000)
/// and the case (a third of that) are random, so their indexes take each row at a
/// random place. `BENCH_SPREAD_DAYS` (0) > 0 spreads the times at random over that many
/// past days instead (a back-fill of history).
struct Shape {
    spread_days: u64,
}

impl Shape {
    fn from_env() -> Self {
        Self {
            spread_days: env_num("BENCH_SPREAD_DAYS", 0),
        }
    }
    /// (client id, time, customer, case) of one encounter.
    fn one(&self) -> (String, String, String, String) {
        let id = uuid::Uuid::new_v4();
        let r = id.as_u128();
        let customer = (r % 100_000) as u64;
        let at = chrono::Utc::now()
            - chrono::Duration::seconds(match self.spread_days {
                0 => 0,
                d => ((r >> 64) as u64 % (d * 86_400)) as i64,
            });
        (
            id.to_string(),
            at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            format!("crm:{customer}"),
            format!("case-{}", customer / 3),
        )
    }
}

/// A JSON array of `size` encounters, or one encounter object when `size` is 1.
fn batch_json(shape: &Shape, size: usize) -> (String, Vec<String>) {
    let mut ids = Vec::with_capacity(size);
    let mut body = String::with_capacity(size * 200);
    if size > 1 {
        body.push('[');
    }
    for k in 0..size {
        let (id, at, customer, case) = shape.one();
        if k > 0 {
            body.push(',');
        }
        body.push_str(&format!(
            "{{\"id\":\"{id}\",\"at\":\"{at}\",\"touchpoint\":\"{}\",\"kind\":\"contact\",\"customer\":\"{customer}\",\"case_ref\":\"{case}\"}}",
            if k % 2 == 0 { "desk" } else { "web" },
        ));
        ids.push(id);
    }
    if size > 1 {
        body.push(']');
    }
    (body, ids)
}

async fn connection(
    port: u16,
    token: String,
    size: usize,
    stop: Arc<AtomicBool>,
) -> (Vec<String>, Vec<u32>, u64) {
    let shape = Shape::from_env();
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    stream.set_nodelay(true).ok();
    let (mut sender, c) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .expect("handshake");
    tokio::spawn(c);
    let (mut acked, mut lat, mut errors) = (Vec::new(), Vec::new(), 0u64);
    while !stop.load(Ordering::Relaxed) {
        let (body, ids) = batch_json(&shape, size);
        let req = hyper::Request::post("/api/v1/workspaces/bench/encounters")
            .header("host", "127.0.0.1")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .expect("request");
        let t0 = Instant::now();
        match sender.send_request(req).await {
            Ok(resp) => {
                let ok = resp.status().is_success();
                let _ = resp.into_body().collect().await;
                lat.push(t0.elapsed().as_micros() as u32);
                if ok {
                    acked.extend(ids);
                } else {
                    errors += 1;
                }
            }
            Err(_) => {
                errors += 1;
                break;
            }
        }
    }
    (acked, lat, errors)
}

async fn count(t: &Target) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM encounters WHERE workspace_id = $1")
        .bind(t.ws)
        .fetch_one(t.store.pool())
        .await
        .expect("count")
}

/// (encounters/s, p50 ms, p99 ms per request, lost, errors) with `concurrency`
/// connections each posting `size` encounters per request.
async fn over_http(
    t: &Target,
    concurrency: usize,
    size: usize,
    seconds: u64,
) -> (f64, f64, f64, i64, u64) {
    let port = free_port();
    let mut server = start_server(t, port);
    let before = count(t).await;
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| tokio::spawn(connection(port, t.token.clone(), size, stop.clone())))
        .collect();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let (mut acked, mut lat, mut errors) = (0usize, vec![], 0u64);
    for task in tasks {
        let (a, l, e) = task.await.expect("task");
        acked += a.len();
        lat.extend(l);
        errors += e;
    }
    let elapsed = start.elapsed();
    let _ = server.kill();
    let _ = server.wait();
    let stored = count(t).await - before;
    lat.sort_unstable();
    (
        acked as f64 / elapsed.as_secs_f64(),
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        acked as i64 - stored.min(acked as i64),
        errors,
    )
}

/// The store's own batched insert, no HTTP and no validation: the ceiling.
async fn raw(t: &Target, seconds: u64) -> f64 {
    let start = Instant::now();
    let shape = Shape::from_env();
    let mut written = 0usize;
    while start.elapsed() < Duration::from_secs(seconds) {
        let rows: Vec<NewEncounter> = (0..BATCH)
            .map(|k| {
                let (client_id, occurred_at, customer, case) = shape.one();
                NewEncounter {
                    client_id,
                    occurred_at,
                    touchpoint_id: Some(t.touchpoints[k % 2]),
                    touchpoint_name: None,
                    stage_id: None,
                    journey_id: None,
                    channel: "web".into(),
                    owner: Some(kohtaamo_domain::model::Owner::Unit(t.unit)),
                    owner_name: None,
                    customer: Some(customer),
                    case_ref: Some(case),
                    kind: "contact".into(),
                    text: None,
                    attributes: Default::default(),
                    source: "api",
                    recorded_by: "bench".into(),
                    capture: None,
                }
            })
            .collect();
        t.store.record_encounters(t.ws, &rows).await.expect("batch");
        written += rows.len();
    }
    written as f64 / start.elapsed().as_secs_f64()
}

/// One customer's timeline, read 200 times: (p50, p95) ms.
async fn timeline(t: &Target) -> (f64, f64) {
    let mut lat = vec![];
    for k in 0..200 {
        let who = format!("crm:{}", (k * 487) % 100_000);
        let t0 = Instant::now();
        let _ = kohtaamo_app::encounters::timeline(
            &t.store,
            t.ws,
            &who,
            500,
            &kohtaamo_storage::privacy::Actor::system(),
        )
        .await;
        lat.push(t0.elapsed().as_micros() as u32);
    }
    lat.sort_unstable();
    (pct(&lat, 0.5), pct(&lat, 0.95))
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let seconds = env_num("BENCH_SECONDS", 20);
    let concurrency = env_num("BENCH_CONCURRENCY", 4) as usize;
    let singles = env_num("BENCH_SINGLE_CONNECTIONS", 256) as usize;
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let phases =
        std::env::var("BENCH_PHASES").unwrap_or_else(|_| "batches,singles,raw,timeline".into());
    let phase = |p: &str| phases.split(',').any(|x| x.trim() == p);
    println!(
        "encounter ingest: batches of {BATCH}, concurrency {concurrency}, {seconds} s per run"
    );
    println!(
        "{:<10} {:<30} {:>13} {:>9} {:>9} {:>6} {:>7}",
        "backend", "path", "encounters/s", "p50 ms", "p99 ms", "lost", "errors"
    );
    rt.block_on(async {
        for name in backends.split(',') {
            let backend = match name.trim() {
                "sqlite" => Backend::Sqlite,
                "postgres" => Backend::Postgres,
                _ => continue,
            };
            let t = target(backend).await;
            if phase("batches") {
                let (eps, p50, p99, lost, err) =
                    over_http(&t, concurrency, BATCH, seconds).await;
                println!(
                    "{name:<10} {:<30} {eps:>13.0} {p50:>9.2} {p99:>9.2} {lost:>6} {err:>7}",
                    format!("HTTP, JSON arrays of {BATCH}")
                );
            }
            if phase("singles") {
                let (eps, p50, p99, lost, err) = over_http(&t, singles, 1, seconds).await;
                println!(
                    "{name:<10} {:<30} {eps:>13.0} {p50:>9.2} {p99:>9.2} {lost:>6} {err:>7}",
                    format!("HTTP, single posts, {singles} conns")
                );
            }
            if phase("raw") {
                let ceiling = raw(&t, seconds).await;
                println!(
                    "{name:<10} {:<30} {ceiling:>13.0} {:>9} {:>9} {:>6} {:>7}",
                    "raw batched insert (no HTTP)", "-", "-", "-", "-"
                );
            }
            if phase("timeline") {
                let (t50, t95) = timeline(&t).await;
                println!(
                    "{name:<10} one customer's timeline with {} encounters stored: p50 {t50:.2} ms, p95 {t95:.2} ms",
                    count(&t).await
                );
            }
        }
    });
}
