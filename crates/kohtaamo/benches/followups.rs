//! *My follow-ups* at size: `cargo bench -p kohtaamo --bench followups`.
//!
//! For each backend (SQLite, and PostgreSQL at the test URL): fills a fresh database
//! with `BENCH_FOLLOW_UPS` (100,000) follow-ups of one workspace by SQL in bulk — 95 %
//! closed, 3 % new, 2 % contacted; a tenth owned by the unit a unit head works in, the
//! rest spread over nine other units; every seventh assigned to the unit head; due
//! times over 18 days — then starts the real `kohtaamo serve` on it and reads over HTTP
//! on loopback, `BENCH_READS` (500) requests each, one after another: the unit head's
//! open *my follow-ups* (`GET …/follow-ups?mine=true&open=true`: what the page shows by
//! default), the workspace's open follow-ups, and one unit's open ones. Prints p50, p95
//! and p99 (each includes HTTP and JSON) and how many items the last answer had.
//!
//! Environment: `BENCH_BACKENDS` (`sqlite,postgres`), `BENCH_FOLLOW_UPS`,
//! `BENCH_READS`.

use std::time::Instant;

use kohtaamo_domain::model::Role;
use kohtaamo_storage::Backend;

mod common;
use common::{env_num, free_port, reads, serve};

async fn fill(b: &common::Bench, unit: i64, head: i64, touchpoints: &[i64], n: u64) -> f64 {
    let start = Instant::now();
    let series = match b.store.backend() {
        Backend::Sqlite => format!(
            "(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) SELECT i FROM s)"
        ),
        Backend::Postgres => format!("(SELECT generate_series(1, {n})::bigint AS i)"),
    };
    let tp = |k: usize| touchpoints[k % touchpoints.len()];
    let (tp0, tp1) = (tp(0), tp(1));
    let ws = b.ws;
    // Texts built with `||` from integers work alike on both backends.
    let sql = format!(
        "INSERT INTO follow_ups (workspace_id, dedupe, rule_id, source, survey_id, response_key, \
         customer, touchpoint_id, unit_id, assignee_id, status, reason, may_contact, contact_due, \
         resolve_due, created_at, updated_at) \
         SELECT {ws}, 'b' || i, 1, 'response', 1, 'k' || i, 'crm:c-' || (i % 50000), \
         CASE WHEN i % 2 = 0 THEN {tp0} ELSE {tp1} END, \
         CASE WHEN i % 10 = 0 THEN {unit} ELSE {unit} + 1000 + i % 9 END, \
         CASE WHEN i % 7 = 0 THEN {head} ELSE NULL END, \
         CASE WHEN i % 100 < 3 THEN 'new' WHEN i % 100 < 5 THEN 'contacted' ELSE 'closed' END, \
         'NPS 2 ≤ 6', 0, \
         '2026-11-' || (10 + i % 18) || 'T10:00:00Z', '2026-11-' || (10 + i % 18) || 'T20:00:00Z', \
         '2026-11-' || (10 + i % 18) || 'T09:00:00Z', '2026-11-' || (10 + i % 18) || 'T09:00:00Z' \
         FROM {series} AS n"
    );
    sqlx::query(&sql)
        .execute(b.store.pool())
        .await
        .expect("fill");
    if b.store.backend() == Backend::Postgres {
        sqlx::query("ANALYZE follow_ups")
            .execute(b.store.pool())
            .await
            .expect("analyze");
    }
    start.elapsed().as_secs_f64()
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let n = env_num("BENCH_FOLLOW_UPS", 100_000);
    let n_reads = env_num("BENCH_READS", 500) as usize;
    rt.block_on(async {
        for name in backends.split(',') {
            let backend = match name.trim() {
                "sqlite" => Backend::Sqlite,
                "postgres" => Backend::Postgres,
                _ => continue,
            };
            let b = common::workspace(backend).await;
            let slugs: Vec<String> = (0..20).map(|k| format!("tp-{k}")).collect();
            let (unit, tps) = b.touchpoints(&slugs).await;
            let admin = b.admin_token().await;
            let head = b
                .store
                .create_user("unit-head", "bench-member-password", false)
                .await
                .expect("user");
            b.store
                .set_member(b.ws, head, Role::Viewer)
                .await
                .expect("member");
            b.store
                .add_unit_member(b.ws, unit, head, false)
                .await
                .expect("unit member");
            let head_token = b.store.create_token(head, "bench").await.expect("token").1;
            let secs = fill(&b, unit, head, &tps, n).await;
            println!("{name:<9} filled {n} follow-ups in {secs:.1} s");
            let port = free_port();
            let mut server = serve(&b.url, b.dir.path(), port, &[]);
            let cases = [
                ("my open follow-ups (mine, open)", head_token.as_str(), "/api/v1/workspaces/bench/follow-ups?mine=true&open=true".to_owned()),
                ("the workspace's open ones", admin.as_str(), "/api/v1/workspaces/bench/follow-ups?open=true".to_owned()),
                ("one unit's open ones", admin.as_str(), format!("/api/v1/workspaces/bench/follow-ups?open=true&unit_id={unit}")),
            ];
            for (label, token, path) in &cases {
                // Warm-up, then the measured reads.
                reads(port, token, &vec![path.clone(); 20]).await;
                let (p50, p95, p99, items) = reads(port, token, &vec![path.clone(); n_reads]).await;
                println!(
                    "{name:<9} {label:<30} p50 {p50:>7.2} ms  p95 {p95:>7.2} ms  p99 {p99:>7.2} ms  ({items} items)"
                );
            }
            let _ = server.kill();
            let _ = server.wait();
        }
    });
}
