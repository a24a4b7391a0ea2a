//! The encounter log at size: `cargo bench -p kohtaamo --bench encounters_scale`.
//!
//! For each backend (SQLite, and PostgreSQL at the test URL):
//!
//! 1. **CSV import**: writes a file of `BENCH_IMPORT_ROWS` (1,000,000) encounter rows
//!    (ten touchpoints, customers among 100,000, a case each) and imports it into a
//!    fresh database with the real `kohtaamo import encounters` command; prints rows/s
//!    and the command's peak resident memory (`VmHWM`, sampled every 20 ms), beside the
//!    same for a tenth of the file, so a memory that grows with the file shows.
//! 2. **Reads at size**: fills a fresh database with `BENCH_CUSTOMERS` (1,000,000)
//!    customers and `BENCH_ENCOUNTERS` (10,000,000) encounters over the last 365 days at
//!    20 touchpoints of one unit — written by SQL in bulk (`INSERT … SELECT` with the
//!    schema's secondary indexes dropped and then re-created from their own
//!    definitions, and `encounter_rollups` counted from the rows, as migration 0010
//!    does), because the product's write path would take hours on PostgreSQL; the
//!    resulting tables and indexes are the ones the product writes. Then starts the
//!    real `kohtaamo serve` on it and reads over HTTP on loopback (so each figure
//!    includes HTTP): 500 customers' timelines, the encounters list of one touchpoint
//!    for 90 days (the first page of 100, and of 1,000), one case's encounters and one
//!    unit's last 90 days; p50, p95 and p99 of each.
//!
//! Environment: `BENCH_BACKENDS` (`sqlite,postgres`), `BENCH_IMPORT_ROWS`,
//! `BENCH_CUSTOMERS`, `BENCH_ENCOUNTERS`, `BENCH_READS` (500).

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kohtaamo_storage::testing::TestDb;
use kohtaamo_storage::{Backend, Store};

mod common;
use common::{env_num, free_port, reads, serve};

struct Target {
    store: Store,
    url: String,
    ws: i64,
    unit: i64,
    touchpoints: Vec<i64>,
    token: String,
    _db: TestDb,
    dir: tempfile::TempDir,
}

/// A fresh database with a workspace `bench`, one unit owning `n` touchpoints
/// (`tp0`, `tp1`, …) of one stage, and an admin token.
async fn target(backend: Backend, n: usize) -> Target {
    let b = common::workspace(backend).await;
    let slugs: Vec<String> = (0..n).map(|k| format!("tp{k}")).collect();
    let (unit, touchpoints) = b.touchpoints(&slugs).await;
    let token = b.admin_token().await;
    Target {
        store: b.store,
        url: b.url,
        ws: b.ws,
        unit,
        touchpoints,
        token,
        _db: b.db,
        dir: b.dir,
    }
}

/// Writes `rows` encounter rows as CSV; returns the file.
fn csv_file(dir: &std::path::Path, rows: u64) -> std::path::PathBuf {
    let path = dir.join(format!("encounters-{rows}.csv"));
    let mut w = std::io::BufWriter::new(std::fs::File::create(&path).expect("csv"));
    writeln!(w, "id,at,touchpoint,customer,case_ref,kind,text").unwrap();
    for i in 0..rows {
        let customer = (i * 7919) % 100_000;
        writeln!(
            w,
            "imp-{i},2026-{:02}-{:02} {:02}:{:02},tp{},crm:c-{customer},case-{},contact,Asked about the timetable",
            1 + i % 9,
            1 + i % 28,
            i % 24,
            i % 60,
            i % 10,
            customer / 3
        )
        .unwrap();
    }
    w.flush().unwrap();
    path
}

/// Runs `kohtaamo import encounters FILE` on the target's database: (rows/s, peak
/// resident memory in MB).
fn import(t: &Target, file: &std::path::Path, rows: u64) -> (f64, f64) {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kohtaamo"))
        .args(["import", "encounters"])
        .arg(file)
        .args(["--workspace", "bench"])
        .env("KOHTAAMO_DATABASE_URL", &t.url)
        .env("KOHTAAMO_DATA_DIR", t.dir.path())
        .env("KOHTAAMO_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("kohtaamo import");
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0u64;
    let status = loop {
        if let Ok(s) = std::fs::read_to_string(&status_file) {
            if let Some(kb) = s
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            {
                peak_kb = peak_kb.max(kb);
            }
        }
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "import failed");
    (
        rows as f64 / start.elapsed().as_secs_f64(),
        peak_kb as f64 / 1024.0,
    )
}

/// GETs each path on one keep-alive connection: (p50, p95, p99) ms and the rows of
/// the last answer's `items`.
fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let import_rows = env_num("BENCH_IMPORT_ROWS", 1_000_000);
    let customers = env_num("BENCH_CUSTOMERS", 1_000_000);
    let encounters = env_num("BENCH_ENCOUNTERS", 10_000_000);
    let n_reads = env_num("BENCH_READS", 500) as usize;
    rt.block_on(async {
        for name in backends.split(',') {
            let backend = match name.trim() {
                "sqlite" => Backend::Sqlite,
                "postgres" => Backend::Postgres,
                _ => continue,
            };
            if import_rows > 0 {
                for rows in [import_rows / 10, import_rows] {
                    let t = target(backend, 10).await;
                    let file = csv_file(t.dir.path(), rows);
                    let (rate, peak) = import(&t, &file, rows);
                    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM encounters")
                        .fetch_one(t.store.pool())
                        .await
                        .unwrap();
                    assert_eq!(stored as u64, rows, "every row stored");
                    println!(
                        "{name:<9} CSV import {rows:>9} rows: {rate:>9.0} rows/s, peak resident {peak:.0} MB"
                    );
                }
            }
            if encounters == 0 {
                continue;
            }
            let t = target(backend, 20).await;
            let took = common::fill_encounters(
                &t.store,
                (t.ws, t.unit, &t.touchpoints),
                customers,
                encounters,
            )
            .await;
            println!(
                "{name:<9} filled {encounters} encounters, {customers} customers in {took:.0} s"
            );
            let port = free_port();
            let mut server = serve(&t.url, t.dir.path(), port, &[]);
            let base = "/api/v1/workspaces/bench";
            let today = chrono::Utc::now().date_naive();
            let from = today - chrono::Duration::days(89);
            let pick = |k: usize, n: u64| ((k as u64 * 2_654_435_761) % n) + 1;
            let timelines: Vec<String> = (0..n_reads)
                .map(|k| format!("{base}/customers/crm:c-{}/timeline", pick(k, customers)))
                .collect();
            let tp_list = |limit: usize| -> Vec<String> {
                (0..n_reads)
                    .map(|k| {
                        format!(
                            "{base}/encounters?touchpoint_id={}&from={from}&to={today}&limit={limit}",
                            t.touchpoints[k % t.touchpoints.len()]
                        )
                    })
                    .collect()
            };
            let cases: Vec<String> = (0..n_reads)
                .map(|k| format!("{base}/encounters?case_ref=case-{}", pick(k, encounters / 4)))
                .collect();
            let units: Vec<String> = (0..n_reads)
                .map(|_| format!("{base}/encounters?unit_id={}&from={from}&to={today}", t.unit))
                .collect();
            // Warm up the connection and the server's caches.
            reads(port, &t.token, &timelines[..10]).await;
            for (what, paths) in [
                ("one customer's timeline", timelines),
                ("one touchpoint, 90 days, first 100", tp_list(100)),
                ("one touchpoint, 90 days, first 1000", tp_list(1000)),
                ("one case's encounters", cases),
                ("one unit, 90 days, first 100", units),
            ] {
                let (p50, p95, p99, items) = reads(port, &t.token, &paths).await;
                println!(
                    "{name:<9} {what:<38} p50 {p50:>7.2} ms  p95 {p95:>7.2} ms  p99 {p99:>7.2} ms  ({items} items in the last)"
                );
            }
            let _ = server.kill();
            let _ = server.wait();
        }
    });
}
