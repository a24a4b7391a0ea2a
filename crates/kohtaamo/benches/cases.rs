//! Cases at size: `cargo bench -p kohtaamo --bench cases`.
//!
//! For each backend (`BENCH_BACKENDS`, default `sqlite`): fills a fresh database with
//! `BENCH_CASES` (1,000,000) cases of one journey by SQL in bulk, each with three
//! status changes, and as many status-page links (plus `BENCH_LINKS`, 10,000, real
//! ones whose tokens the viewers hold), then starts the real `kohtaamo serve` on it.
//!
//! 1. **Status page**: `BENCH_VIEWERS` (200) concurrent customers open their pages
//!    (`GET /s/{token}`, a random one of the real links each time) for
//!    `BENCH_SECONDS` (10) — once back to back (each viewer asks again as soon as it
//!    has its page: the server's limit), once with `BENCH_THINK_MS` (1,000 ms) between
//!    a viewer's pages (200 people reading). Prints pages/s and p50/p95/p99 as the
//!    client on the same machine sees them (HTTP on loopback included: an upper bound
//!    of the server's time).
//! 2. **Status changes**: `BENCH_WRITERS` (32) concurrent back-office connections move
//!    cases (`POST …/cases/{id}/status`, each a new status at a new time: a change and
//!    its timeline encounter in one transaction) for `BENCH_SECONDS`; prints changes/s
//!    and p50/p95/p99, and checks that every acknowledged change is stored with its
//!    encounter.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kohtaamo_domain::cases::StepsInput;
use kohtaamo_storage::Backend;

mod common;
use common::{env_num, free_port, pct, serve};

const STATUSES: [&str; 6] = ["new", "triage", "checking", "waiting", "approved", "paid"];

async fn fill(b: &common::Bench, journey: i64, n: u64, real: &[String]) -> f64 {
    let start = Instant::now();
    let series = match b.store.backend() {
        Backend::Sqlite => format!(
            "(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) SELECT i FROM s)"
        ),
        Backend::Postgres => format!("(SELECT generate_series(1, {n})::bigint AS i)"),
    };
    let ws = b.ws;
    let pool = b.store.pool();
    let exec = |sql: String| async move {
        sqlx::query(&sql).execute(pool).await.expect("fill");
    };
    // References are unique per workspace; these are not readable ones, which the
    // page shows as they are.
    exec(format!(
        "INSERT INTO cases (workspace_id, client_id, reference, journey_id, customer, unit_id, language, title, \
         status, status_at, ask, ask_due, verifier_hash, created_by, created_at, updated_at) \
         SELECT {ws}, 'c' || i, 'R' || i, {journey}, 'crm:' || i, NULL, 'fi', 'Hyvitys ' || i, \
         CASE WHEN i % 3 = 0 THEN 'approved' WHEN i % 3 = 1 THEN 'checking' ELSE 'paid' END, \
         '2026-11-0' || (1 + i % 9) || 'T12:00:00Z', NULL, NULL, NULL, 'bench', \
         '2026-11-0' || (1 + i % 9) || 'T08:00:00Z', '2026-11-0' || (1 + i % 9) || 'T12:00:00Z' \
         FROM {series} AS n"
    ))
    .await;
    for (k, (status, hour)) in [("new", "08"), ("triage", "10")].iter().enumerate() {
        exec(format!(
            "INSERT INTO case_changes (workspace_id, case_id, status, at, note, ask, ask_due, recorded_by, recorded_at) \
             SELECT {ws}, id, '{status}', '2026-11-0' || (1 + CAST(substr(client_id, 2) AS BIGINT) % 9) || 'T{hour}:00:00Z', \
             {note}, NULL, NULL, 'bench', created_at FROM cases WHERE workspace_id = {ws}",
            note = if k == 1 { "'Tarkistamme hakemuksesi.'" } else { "NULL" }
        ))
        .await;
    }
    exec(format!(
        "INSERT INTO case_changes (workspace_id, case_id, status, at, note, ask, ask_due, recorded_by, recorded_at) \
         SELECT {ws}, id, status, status_at, NULL, NULL, NULL, 'bench', status_at FROM cases WHERE workspace_id = {ws}"
    ))
    .await;
    exec(format!(
        "INSERT INTO case_links (workspace_id, case_id, token_hash, expires_at, created_by, created_at) \
         SELECT {ws}, id, 'h' || id, '2099-01-01T00:00:00Z', 'bench', created_at FROM cases WHERE workspace_id = {ws}"
    ))
    .await;
    // The real links: spread over the cases.
    let step = (n / real.len().max(1) as u64).max(1);
    for (chunk_no, chunk) in real.chunks(500).enumerate() {
        let values: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(k, t)| {
                let case = 1 + ((chunk_no * 500 + k) as u64 * step) % n;
                format!(
                    "({ws}, (SELECT id FROM cases WHERE workspace_id = {ws} AND client_id = 'c{case}'), '{}', '2099-01-01T00:00:00Z', 'bench', '2026-11-01T00:00:00Z')",
                    kohtaamo_app::feedback::token_hash(t)
                )
            })
            .collect();
        exec(format!(
            "INSERT INTO case_links (workspace_id, case_id, token_hash, expires_at, created_by, created_at) VALUES {}",
            values.join(", ")
        ))
        .await;
    }
    if b.store.backend() == Backend::Postgres {
        exec("ANALYZE".into()).await;
    }
    start.elapsed().as_secs_f64()
}

/// `viewers` concurrent customers for `secs`, `think` between a viewer's pages:
/// (pages, pages/s, p50, p95, p99 ms).
async fn view(
    port: u16,
    tokens: Arc<Vec<String>>,
    viewers: usize,
    secs: u64,
    think: Duration,
) -> (usize, f64, f64, f64, f64) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(viewers)
        .build()
        .expect("client");
    let until = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let mut tasks = vec![];
    for v in 0..viewers {
        let (client, tokens) = (client.clone(), tokens.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = vec![];
            let mut k = v * 7919;
            // Readers arrive spread over one think time, not all at once.
            if !think.is_zero() {
                tokio::time::sleep(think * v as u32 / viewers as u32).await;
            }
            while Instant::now() < until {
                k = (k * 31 + 17) % tokens.len();
                let t0 = Instant::now();
                let r = client
                    .get(format!("http://127.0.0.1:{port}/s/{}", tokens[k]))
                    .send()
                    .await
                    .expect("get");
                assert_eq!(r.status(), 200);
                let body = r.text().await.expect("body");
                assert!(
                    body.contains("aria-current=\"step\""),
                    "a page with a current step"
                );
                lat.push(t0.elapsed().as_micros() as u32);
                if !think.is_zero() {
                    tokio::time::sleep(think).await;
                }
            }
            lat
        }));
    }
    let mut all = vec![];
    for t in tasks {
        all.extend(t.await.expect("viewer"));
    }
    let took = started.elapsed().as_secs_f64();
    all.sort_unstable();
    (
        all.len(),
        all.len() as f64 / took,
        pct(&all, 0.5),
        pct(&all, 0.95),
        pct(&all, 0.99),
    )
}

/// `writers` concurrent status changes for `secs` over distinct cases: (acknowledged,
/// changes/s, p50, p95, p99 ms).
async fn change(
    port: u16,
    token: &str,
    n: u64,
    writers: usize,
    secs: u64,
) -> (u64, f64, f64, f64, f64) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(writers)
        .build()
        .expect("client");
    let until = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let counter = Arc::new(AtomicU64::new(0));
    let mut tasks = vec![];
    for w in 0..writers {
        let (client, token, counter) = (client.clone(), token.to_owned(), counter.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = vec![];
            while Instant::now() < until {
                let k = counter.fetch_add(1, Ordering::Relaxed);
                // Case ids are 1..=n (a fresh database); each change a new time.
                let case = 1 + (k * 7 + w as u64) % n;
                let status = STATUSES[(k % STATUSES.len() as u64) as usize];
                let at = format!(
                    "2026-11-20T{:02}:{:02}:{:02}Z",
                    (k / 3600) % 24,
                    (k / 60) % 60,
                    k % 60
                );
                let t0 = Instant::now();
                let r = client
                    .post(format!(
                        "http://127.0.0.1:{port}/api/v1/workspaces/bench/cases/{case}/status"
                    ))
                    .bearer_auth(&token)
                    .json(&serde_json::json!({"status": status, "at": at}))
                    .send()
                    .await
                    .expect("post");
                assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
                let _ = r.bytes().await;
                lat.push(t0.elapsed().as_micros() as u32);
            }
            lat
        }));
    }
    let mut all = vec![];
    for t in tasks {
        all.extend(t.await.expect("writer"));
    }
    let took = started.elapsed().as_secs_f64();
    all.sort_unstable();
    (
        all.len() as u64,
        all.len() as f64 / took,
        pct(&all, 0.5),
        pct(&all, 0.95),
        pct(&all, 0.99),
    )
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite".into());
    let n = env_num("BENCH_CASES", 1_000_000);
    let n_links = env_num("BENCH_LINKS", 10_000) as usize;
    let viewers = env_num("BENCH_VIEWERS", 200) as usize;
    let writers = env_num("BENCH_WRITERS", 32) as usize;
    let secs = env_num("BENCH_SECONDS", 10);
    let think = Duration::from_millis(env_num("BENCH_THINK_MS", 1000));
    rt.block_on(async {
        for name in backends.split(',') {
            let backend = match name.trim() {
                "sqlite" => Backend::Sqlite,
                "postgres" => Backend::Postgres,
                _ => continue,
            };
            let b = common::workspace(backend).await;
            b.touchpoints(&["tp".to_string()]).await;
            let admin = b.admin_token().await;
            let journey: i64 = sqlx::query_scalar("SELECT id FROM journeys WHERE workspace_id = $1")
                .bind(b.ws)
                .fetch_one(b.store.pool())
                .await
                .expect("journey");
            let steps: StepsInput = serde_json::from_value(serde_json::json!({"steps": [
                {"key": "received", "name": {"fi": "Vastaanotettu", "en": "Received"}, "next": {"fi": "Tarkistamme hakemuksesi.", "en": "We check your claim."}, "expected_days": 2, "statuses": ["new", "triage"]},
                {"key": "checking", "name": {"fi": "Käsittelyssä", "en": "Being checked"}, "next": {"fi": "Saat päätöksen sähköpostiisi.", "en": "You get the decision by e-mail."}, "expected_days": 7, "statuses": ["checking", "waiting"]},
                {"key": "decided", "name": {"fi": "Päätös tehty", "en": "Decided"}, "expected_days": 5, "statuses": ["approved", "rejected"]},
                {"key": "paid", "name": {"fi": "Valmis", "en": "Done"}, "statuses": ["paid", "closed"]}
            ]}))
            .expect("steps");
            b.store
                .set_case_steps(b.ws, journey, &steps.parse().expect("valid steps"))
                .await
                .expect("steps stored");
            let tokens: Vec<String> = (0..n_links).map(|_| kohtaamo_app::links::new_token()).collect();
            let took = fill(&b, journey, n, &tokens).await;
            println!("{name:<9} filled {n} cases (3 changes and a link each) + {n_links} real links in {took:.1} s");
            let port = free_port();
            let mut server = serve(&b.url, b.dir.path(), port, &[]);
            let tokens = Arc::new(tokens);
            // Warm-up.
            view(port, tokens.clone(), 8, 2, Duration::ZERO).await;
            for (label, t) in [("back to back", Duration::ZERO), ("reading", think)] {
                let (pages, rate, p50, p95, p99) = view(port, tokens.clone(), viewers, secs, t).await;
                println!(
                    "{name:<9} status page, {viewers} viewers {label:<13} {pages:>7} pages  {rate:>8.0}/s  p50 {p50:>6.2} ms  p95 {p95:>6.2} ms  p99 {p99:>6.2} ms"
                );
            }
            let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM case_changes")
                .fetch_one(b.store.pool())
                .await
                .expect("count");
            let enc_before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM encounters")
                .fetch_one(b.store.pool())
                .await
                .expect("count");
            let (acked, rate, p50, p95, p99) = change(port, &admin, n, writers, secs).await;
            let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM case_changes")
                .fetch_one(b.store.pool())
                .await
                .expect("count");
            let enc_after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM encounters")
                .fetch_one(b.store.pool())
                .await
                .expect("count");
            println!(
                "{name:<9} status changes, {writers} writers   {acked:>7} changes {rate:>8.0}/s  p50 {p50:>6.2} ms  p95 {p95:>6.2} ms  p99 {p99:>6.2} ms  (stored: {} changes, {} encounters)",
                after - before,
                enc_after - enc_before
            );
            assert_eq!((after - before) as u64, acked, "every acknowledged change is stored");
            assert_eq!((enc_after - enc_before) as u64, acked, "each with its encounter");
            let _ = server.kill();
            let _ = server.wait();
        }
    });
}
