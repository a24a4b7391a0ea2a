//! The journey's flow rollups at size: `cargo bench -p kohtaamo --bench mining_rollups`.
//!
//! For each backend: fills a fresh database with `BENCH_CUSTOMERS` (1,000,000)
//! customers and `BENCH_ENCOUNTERS` (10,000,000) encounters over the last 365 days at
//! 20 touchpoints of one journey (four per case; the bulk SQL fill of the encounter
//! benches), then
//!
//! 1. **builds the rollups** as the job's first pass does (`mining_rollups::refresh`:
//!    a rebuild from the whole log, by case and by customer) and prints encounters/s
//!    and the rows it wrote;
//! 2. **reads the 90-day flow** `BENCH_READS` (200) times through the use case (by
//!    case, then by customer) and prints p50, p95 and p99;
//! 3. with `BENCH_CHECK=1`, also mines the same period from the log and checks that
//!    the counts agree (minutes at 10 M);
//! 4. marks the newest `BENCH_WAITING` (100,000) encounters unapplied again and times
//!    the job's passes applying them, for each pass size in `BENCH_PASSES` (the job's,
//!    2,000; e.g. `2000,10000,30000`) — a backlog as steady ingest leaves it;
//! 5. marks the rollups stale, as a change of design does, and times the rebuild
//!    (every encounter already marked: nothing to rewrite in the log).
//!
//! Environment: `BENCH_BACKENDS` (`sqlite`; add `postgres`), `BENCH_CUSTOMERS`,
//! `BENCH_ENCOUNTERS`, `BENCH_READS`, `BENCH_CHECK`, `BENCH_WAITING`, `BENCH_PASSES`;
//! `KOHTAAMO_LOG` (e.g. `kohtaamo_storage=debug`: each pass's times).

use std::collections::BTreeMap;
use std::time::Instant;

use kohtaamo_app::i18n::I18n;
use kohtaamo_app::mining::Query;
use kohtaamo_app::mining_rollups as mr;
use kohtaamo_storage::Backend;

mod common;
use common::{env_num, pct};

fn main() {
    // `KOHTAAMO_LOG=kohtaamo_storage=debug` prints each pass's read, compute, write and
    // mark times.
    if let Ok(f) = tracing_subscriber::EnvFilter::try_from_env("KOHTAAMO_LOG") {
        tracing_subscriber::fmt().with_env_filter(f).init();
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite".into());
    for b in backends.split(',') {
        let backend = match b.trim() {
            "postgres" => Backend::Postgres,
            _ => Backend::Sqlite,
        };
        rt.block_on(run(backend));
    }
}

async fn run(backend: Backend) {
    let customers = env_num("BENCH_CUSTOMERS", 1_000_000);
    let encounters = env_num("BENCH_ENCOUNTERS", 10_000_000);
    let reads = env_num("BENCH_READS", 200) as usize;
    let b = common::workspace(backend).await;
    let slugs: Vec<String> = (0..20).map(|k| format!("tp{k}")).collect();
    let (unit, tps) = b.touchpoints(&slugs).await;
    let fill = common::fill_encounters(&b.store, (b.ws, unit, &tps), customers, encounters).await;
    println!("{backend:?}: {encounters} encounters of {customers} customers written by SQL in {fill:.0} s");

    let t = Instant::now();
    let applied = mr::refresh(&b.store, b.ws, None).await.expect("refresh");
    let secs = t.elapsed().as_secs_f64();
    let rows: i64 = {
        let mut n = 0;
        for t in [
            "mining_flow_acts",
            "mining_flow_edges",
            "mining_flow_stages",
        ] {
            let c: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {t}"))
                .fetch_one(b.store.pool())
                .await
                .expect("count");
            n += c;
        }
        n
    };
    println!(
        "  built the rollups in {secs:.1} s: {:.0} encounters/s (by case and by customer; {applied} streams read), {rows} rollup rows",
        encounters as f64 / secs
    );

    let snapshot = b.store.snapshot(b.ws).await.expect("snapshot");
    let journey = snapshot.journeys[0].0;
    let today = chrono::Utc::now().date_naive();
    let i = I18n::new("en", "en");
    for by in ["case", "customer"] {
        let params: BTreeMap<String, String> = [("by".to_string(), by.to_string())].into();
        let q = Query::parse(
            journey,
            (today - chrono::Duration::days(89), today),
            &params,
        )
        .expect("query");
        let mut lat = vec![];
        let mut last = None;
        for _ in 0..reads {
            let t = Instant::now();
            let f = mr::flow(&b.store, b.ws, &q, &i).await.expect("flow");
            lat.push(t.elapsed().as_micros() as u32);
            last = Some(f);
        }
        lat.sort_unstable();
        let f = last.expect("a read");
        println!(
            "  90-day flow by {by} ({}, {} instances, {} edges), {reads} reads: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms",
            f.source,
            f.instances,
            f.edges.len(),
            pct(&lat, 0.5),
            pct(&lat, 0.95),
            pct(&lat, 0.99)
        );
        assert_eq!(f.source, "rollups");
        if env_num("BENCH_CHECK", 0) == 1 {
            let t = Instant::now();
            let m = kohtaamo_app::mining::mine(&b.store, b.ws, &q, &i)
                .await
                .expect("mine");
            let same = m.instances == f.instances
                && m.edges.iter().map(|e| e.count).sum::<u64>()
                    == f.edges.iter().map(|e| e.count).sum::<u64>();
            println!(
                "  the same period mined from the log in {:.1} s: same instances and edge counts: {same}",
                t.elapsed().as_secs_f64()
            );
            assert!(same);
        }
    }

    // The job's passes at a backlog: the newest `BENCH_WAITING` encounters marked
    // unapplied again (their streams are the fill's last cases, wholly new, as under
    // ingest) and applied by passes of each size in `BENCH_PASSES`. Counted twice in
    // the rollups afterwards: timing only, so it comes after the reads.
    let waiting = env_num("BENCH_WAITING", 100_000);
    let sizes = std::env::var("BENCH_PASSES").unwrap_or_else(|_| mr::PASS_ROWS.to_string());
    for size in sizes.split(',').map(|s| {
        s.trim()
            .parse::<i64>()
            .expect("BENCH_PASSES: pass sizes separated by commas")
    }) {
        sqlx::query(
            "UPDATE encounters SET mined = 0 WHERE id > (SELECT MAX(id) FROM encounters) - $1",
        )
        .bind(waiting as i64)
        .execute(b.store.pool())
        .await
        .expect("unapply");
        let t = Instant::now();
        let pace = mr::Pace {
            pass_rows: size,
            rebuild_over: i64::MAX,
        };
        let keys = mr::refresh_by(&b.store, b.ws, None, pace)
            .await
            .expect("passes")
            .applied;
        let secs = t.elapsed().as_secs_f64();
        println!(
            "  {waiting} waiting encounters applied by passes of {size}: {secs:.1} s, {:.0} encounters/s ({keys} keys)",
            waiting as f64 / secs
        );
    }

    sqlx::query("UPDATE mining_state SET design = '' WHERE workspace_id = $1")
        .bind(b.ws)
        .execute(b.store.pool())
        .await
        .expect("stale");
    let t = Instant::now();
    mr::refresh(&b.store, b.ws, None).await.expect("rebuild");
    println!(
        "  rebuilt after a change of design in {:.1} s",
        t.elapsed().as_secs_f64()
    );
}
