//! Feedback ingest benchmark: `cargo bench -p kohtaamo --bench ingest`.
//!
//! For each backend (SQLite, and PostgreSQL at `KOHTAAMO_BENCH_PG`, default
//! `postgres://postgres@127.0.0.1:5432/postgres` as the admin URL for a fresh
//! database), this starts the real `kohtaamo serve` binary, posts valid responses at
//! concurrency 64 over keep-alive HTTP/1.1 from this process for the configured time,
//! prints responses/s and p50/p99 latency, then reads the database and checks that
//! every acknowledged response id is stored (lost = 0). In the same run it measures
//! the same server with no writer (each request does one INSERT and commit through the
//! connection pool, as Formbricks stores a response), with the writer but batches of
//! one, and the raw batched insert rate of the database. On PostgreSQL it also runs two
//! instances on the one database posting the same ids at once, and prints the
//! deadlocks PostgreSQL counted meanwhile.
//!
//! With `BENCH_FOLLOW_UP_RULE=1` the workspace has a follow-up rule "NPS ≤ 1" and the
//! answers' NPS runs 0–9, so 20 % of responses open a follow-up in their own
//! transaction; after the group-commit run it prints how many follow-ups were opened
//! against how many stored responses match (they must be equal).
//!
//! Environment: `BENCH_SECONDS` (30), `BENCH_BASELINE_SECONDS` (10),
//! `BENCH_CONCURRENCY` (64), `BENCH_BACKENDS` (`sqlite,postgres`),
//! `BENCH_FOLLOW_UP_RULE` (0), `BENCH_SERVER_BIN` (another build of `kohtaamo` to run as
//! the server, e.g. a copy of the release binary saved before a change).

use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use kohtaamo_domain::model::{PackageInput, Parse};
use kohtaamo_domain::survey::{Answer, Answers, Hidden, ResponseKey, Scores, SurveyInput};
use kohtaamo_storage::feedback::{write_batch_direct, NewResponse};
use kohtaamo_storage::testing::TestDb;
use kohtaamo_storage::{Backend, Store};

mod common;
use common::{env_num, free_port, pct, serve};

struct Target {
    store: Store,
    url: String,
    survey: i64,
    key: String,
    ws: i64,
    _db: TestDb,
    _dir: tempfile::TempDir,
}

async fn target(backend: Backend) -> Target {
    let common::Bench {
        store,
        url,
        ws,
        db,
        dir,
    } = common::workspace(backend).await;
    let t = |s: &str| [("en".to_string(), s.to_string())].into();
    let pkg = PackageInput {
        slug: "p".into(),
        name: t("P"),
        description: Default::default(),
        published: false,
        elements: vec![],
    }
    .parse()
    .unwrap();
    let pkg = store.create(ws, &pkg).await.expect("package").id;
    let survey: SurveyInput = serde_json::from_value(serde_json::json!({
        "slug": "s", "name": {"en": "S"}, "status": "active", "package_id": pkg,
        "questions": [{"key": "nps", "kind": "nps", "required": true},
                      {"key": "why", "kind": "text", "text": {"en": "Why?"}}]
    }))
    .unwrap();
    let survey = store
        .create(ws, &survey.parse().unwrap())
        .await
        .expect("survey")
        .id;
    let key = store.survey_key(ws, survey).await.unwrap();
    if follow_up_rule() {
        let rule = kohtaamo_domain::followups::FollowUpRuleInput {
            name: "Detractors".into(),
            trigger: "nps".into(),
            threshold: Some(1),
            question: None,
            terms: None,
            scope: None,
            scope_id: None,
            unit_id: None,
            contact_hours: None,
            resolve_hours: None,
            active: None,
        };
        store
            .create(ws, &rule.parse().unwrap())
            .await
            .expect("follow-up rule");
    }
    Target {
        store,
        url,
        survey,
        key,
        ws,
        _db: db,
        _dir: dir,
    }
}

fn start_server(t: &Target, port: u16, batch_max: usize) -> Child {
    serve(
        &t.url,
        t._dir.path(),
        port,
        &[
            ("KOHTAAMO_ADMIN_PASSWORD", "bench-admin-password".into()),
            ("KOHTAAMO_FEEDBACK_PER_MINUTE_IP", "0".into()),
            ("KOHTAAMO_FEEDBACK_PER_MINUTE_SURVEY", "0".into()),
            ("KOHTAAMO_INGEST_BATCH_MAX", batch_max.to_string()),
        ],
    )
}

struct Run {
    acked: Vec<String>,
    latencies_us: Vec<u32>,
    errors: u64,
    elapsed: Duration,
}

/// One keep-alive connection posting responses until `stop`.
fn follow_up_rule() -> bool {
    env_num("BENCH_FOLLOW_UP_RULE", 0) == 1
}

async fn connection(
    port: u16,
    key: String,
    tag: String,
    conn: usize,
    stop: Arc<AtomicBool>,
) -> (Vec<String>, Vec<u32>, u64) {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    stream.set_nodelay(true).ok();
    let (mut sender, c) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .expect("handshake");
    tokio::spawn(c);
    let path = format!("/api/public/v1/surveys/{key}/responses");
    let scale = if follow_up_rule() { 10 } else { 11 };
    let (mut acked, mut lat, mut errors) = (Vec::new(), Vec::new(), 0u64);
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let id = format!("{tag}-{conn:03}-{n:09}");
        let body = format!(
            "{{\"id\":\"{id}\",\"answers\":{{\"nps\":{},\"why\":\"Benchmark answer number {n}\"}},\"hidden\":{{\"channel\":\"web\",\"locale\":\"fi\"}}}}",
            n % scale
        );
        let req = hyper::Request::post(&path)
            .header("host", "127.0.0.1")
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
                    acked.push(id);
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

async fn load(port: u16, key: &str, tag: &str, concurrency: usize, seconds: u64) -> Run {
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|c| {
            tokio::spawn(connection(
                port,
                key.to_owned(),
                tag.to_owned(),
                c,
                stop.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut run = Run {
        acked: vec![],
        latencies_us: vec![],
        errors: 0,
        elapsed: Duration::ZERO,
    };
    for t in tasks {
        let (a, l, e) = t.await.expect("task");
        run.acked.extend(a);
        run.latencies_us.extend(l);
        run.errors += e;
    }
    run.elapsed = start.elapsed();
    run
}

/// Serves, loads, stops, verifies; returns (responses/s, p50 ms, p99 ms, lost).
async fn measure(
    t: &Target,
    batch_max: usize,
    concurrency: usize,
    seconds: u64,
) -> (f64, f64, f64, usize, u64) {
    let port = free_port();
    let mut server = start_server(t, port, batch_max);
    // Warm up connections and caches for a moment first.
    let _ = load(port, &t.key, &format!("warm{batch_max}"), concurrency, 1).await;
    let before = t.store.response_keys(t.survey).await.expect("count").len();
    let mut run = load(
        port,
        &t.key,
        &format!("run{batch_max}"),
        concurrency,
        seconds,
    )
    .await;
    let _ = server.kill();
    let _ = server.wait();
    let stored = t.store.response_keys(t.survey).await.expect("count");
    let lost = run
        .acked
        .iter()
        .filter(|id| !stored.contains_key(*id))
        .count();
    assert_eq!(
        stored.len(),
        before + run.acked.len() - lost,
        "every acknowledged id once"
    );
    run.latencies_us.sort_unstable();
    let rps = run.acked.len() as f64 / run.elapsed.as_secs_f64();
    (
        rps,
        pct(&run.latencies_us, 0.5),
        pct(&run.latencies_us, 0.99),
        lost,
        run.errors,
    )
}

/// Deadlocks PostgreSQL has counted in the target's database so far.
async fn deadlocks(t: &Target) -> i64 {
    sqlx::query_scalar::<_, i64>(
        "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()",
    )
    .fetch_one(t.store.pool())
    .await
    .unwrap_or(-1)
}

/// Two server instances on one PostgreSQL database, each loaded with the same response
/// ids at once (half the concurrency each): (responses/s acknowledged by both, p50, p99,
/// lost, errors, deadlocks). An id acknowledged by both is one stored response.
async fn measure_two_instances(
    t: &Target,
    concurrency: usize,
    seconds: u64,
) -> (f64, f64, f64, usize, u64, i64) {
    let (pa, pb) = (free_port(), free_port());
    let mut a = start_server(t, pa, 4096);
    let mut b = start_server(t, pb, 4096);
    let half = (concurrency / 2).max(1);
    let _ = tokio::join!(
        load(pa, &t.key, "warm2", half, 1),
        load(pb, &t.key, "warm2", half, 1)
    );
    let before = t.store.response_keys(t.survey).await.expect("count").len();
    let dead0 = deadlocks(t).await;
    let (ra, rb) = tokio::join!(
        load(pa, &t.key, "two", half, seconds),
        load(pb, &t.key, "two", half, seconds)
    );
    for s in [&mut a, &mut b] {
        let _ = s.kill();
        let _ = s.wait();
    }
    let dead = deadlocks(t).await - dead0;
    let stored = t.store.response_keys(t.survey).await.expect("count");
    let mut acked: Vec<&String> = ra.acked.iter().chain(&rb.acked).collect();
    acked.sort_unstable();
    acked.dedup();
    let lost = acked.iter().filter(|id| !stored.contains_key(**id)).count();
    assert_eq!(
        stored.len(),
        before + acked.len() - lost,
        "every acknowledged id once"
    );
    let mut lat: Vec<u32> = ra.latencies_us.into_iter().chain(rb.latencies_us).collect();
    lat.sort_unstable();
    let elapsed = ra.elapsed.max(rb.elapsed).as_secs_f64();
    let rps = (ra.acked.len() + rb.acked.len()) as f64 / elapsed;
    (
        rps,
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        lost,
        ra.errors + rb.errors,
        dead,
    )
}

/// The database's own ceiling: the same rows through the same batched upsert, no HTTP.
async fn raw_ceiling(t: &Target) -> f64 {
    let rows: Vec<NewResponse> = (0..200_000)
        .map(|i| NewResponse {
            workspace_id: t.ws,
            survey_id: t.survey,
            key: ResponseKey::parse(&format!("raw-{i:09}")).unwrap(),
            hidden: Hidden::default(),
            answers: Answers([("nps".to_string(), Answer::Score(i % 11))].into()),
            scores: Scores {
                nps: Some(i % 11),
                ..Default::default()
            },
            complete: true,
            invitation: None,
            at: None,
            suspect: None,
            follow_ups: vec![],
            consent: None,
        })
        .collect();
    let start = Instant::now();
    for chunk in rows.chunks(1000) {
        let refs: Vec<&NewResponse> = chunk.iter().collect();
        write_batch_direct(&t.store, &refs).await.expect("batch");
    }
    rows.len() as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let seconds = env_num("BENCH_SECONDS", 30);
    let base_seconds = env_num("BENCH_BASELINE_SECONDS", 10);
    let concurrency = env_num("BENCH_CONCURRENCY", 64) as usize;
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    println!("ingest benchmark: concurrency {concurrency}, {seconds} s per group-commit run, {base_seconds} s per one-insert-per-request run");
    println!(
        "{:<10} {:<28} {:>12} {:>9} {:>9} {:>6} {:>7}",
        "backend", "path", "responses/s", "p50 ms", "p99 ms", "lost", "errors"
    );
    rt.block_on(async {
        for name in backends.split(',') {
            let backend = match name.trim() {
                "sqlite" => Backend::Sqlite,
                "postgres" => Backend::Postgres,
                _ => continue,
            };
            let t = target(backend).await;
            let (rps, p50, p99, lost, err) = measure(&t, 4096, concurrency, seconds).await;
            println!(
                "{name:<10} {:<28} {rps:>12.0} {p50:>9.2} {p99:>9.2} {lost:>6} {err:>7}",
                "HTTP, group commit"
            );
            if follow_up_rule() {
                let opened: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM follow_ups WHERE workspace_id = $1")
                        .bind(t.ws)
                        .fetch_one(t.store.pool())
                        .await
                        .expect("follow-ups");
                let matching: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM responses WHERE survey_id = $1 AND nps <= 1",
                )
                .bind(t.survey)
                .fetch_one(t.store.pool())
                .await
                .expect("matching");
                println!(
                    "{name:<10} follow-ups opened: {opened} for {matching} matching responses{}",
                    if opened == matching { "" } else { "  MISMATCH" }
                );
            }
            if backend == Backend::Postgres {
                let (rps2, p50, p99, lost, err, dead) =
                    measure_two_instances(&t, concurrency, seconds).await;
                println!(
                    "{name:<10} {:<28} {rps2:>12.0} {p50:>9.2} {p99:>9.2} {lost:>6} {err:>7}  deadlocks {dead}",
                    "two instances, same ids"
                );
            }
            let (rps1, p50, p99, lost, err) = measure(&t, 0, concurrency, base_seconds).await;
            println!(
                "{name:<10} {:<28} {rps1:>12.0} {p50:>9.2} {p99:>9.2} {lost:>6} {err:>7}",
                "HTTP, one insert/request"
            );
            let (rpsw, p50, p99, lost, err) = measure(&t, 1, concurrency, base_seconds).await;
            println!(
                "{name:<10} {:<28} {rpsw:>12.0} {p50:>9.2} {p99:>9.2} {lost:>6} {err:>7}",
                "HTTP, writer, batch of 1"
            );
            let raw = raw_ceiling(&t).await;
            println!(
                "{name:<10} {:<28} {raw:>12.0} {:>9} {:>9} {:>6} {:>7}",
                "raw batched insert (no HTTP)", "-", "-", "-", "-"
            );
            println!(
                "{name:<10} group commit / one-insert-per-request = {:.1}x",
                rps / rps1.max(1.0)
            );
        }
    });
}
