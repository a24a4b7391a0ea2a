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

/// The statements that re-create the secondary indexes of `table` (not those behind
/// a primary key or UNIQUE constraint), with their names.
async fn secondary_indexes(store: &Store, table: &str) -> Vec<(String, String)> {
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

/// Fills the target with `customers` customers (`crm:c-N`) and `encounters`
/// encounters over the last 365 days; returns seconds taken.
async fn fill(t: &Target, customers: u64, encounters: u64) -> f64 {
    let start = Instant::now();
    let mut conn = t.store.pool().acquire().await.expect("conn");
    let sqlite = matches!(t.store.backend(), Backend::Sqlite);
    if sqlite {
        sqlx::query("PRAGMA cache_size = -1000000")
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    let mut dropped = vec![];
    for table in ["encounters", "customer_identifiers"] {
        for (name, def) in secondary_indexes(&t.store, table).await {
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
    let ws = t.ws;
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
    let tps = t
        .touchpoints
        .iter()
        .enumerate()
        .map(|(k, id)| format!("SELECT {k} AS k, {id} AS tp"))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let n_tp = t.touchpoints.len();
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
    let unit = t.unit;
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
            let took = fill(&t, customers, encounters).await;
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
