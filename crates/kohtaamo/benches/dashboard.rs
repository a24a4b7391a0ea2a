//! Dashboard query benchmark: `scripts/bench-dashboard` (generates the data, runs this,
//! then the DuckDB comparison). Direct use:
//! `BENCH_DATA_DIRS=/tmp/b1m,/tmp/b10m cargo bench -p kohtaamo --bench dashboard`.
//!
//! For each data directory (made by `kohtaamo serve --demo` and `kohtaamo demo
//! responses`), this serves the SQLite database with the real HTTP stack on loopback
//! and times, sequentially after a warm-up, what the workspace dashboard asks for: the
//! score table of a scope for the last 90 days beside the 90 before, and the weekly
//! trend. Each round requests the table of every scope (11) and the trend; a "dashboard
//! load" is the default view's pair (touchpoint table + trend). Prints p50/p95 per
//! request kind and per load, the number of responses and rollup rows, and writes the
//! touchpoint table and trend to `target/bench-dashboard-<dir name>.json` so the DuckDB
//! comparison can check it computed the same numbers.
//!
//! Environment: `BENCH_DATA_DIRS` (comma-separated, required), `BENCH_ROUNDS` (100).

use std::time::Instant;

use kohtaamo_http::HttpConfig;
use kohtaamo_storage::Store;

const SCOPES: [&str; 11] = [
    "touchpoint",
    "stage",
    "journey",
    "package",
    "element",
    "unit",
    "partner",
    "segment",
    "channel",
    "language",
    "survey",
];

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn summary(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    (pct(&v, 0.5), pct(&v, 0.95))
}

async fn bench_dir(dir: &str, rounds: usize) -> serde_json::Value {
    let url = format!("sqlite://{dir}/kohtaamo.db?mode=rw");
    let store = Store::connect(&url).await.expect("open the data directory");
    let responses: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM responses")
        .fetch_one(store.pool())
        .await
        .expect("count");
    let rollups: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM score_rollups")
        .fetch_one(store.pool())
        .await
        .expect("count");
    let admin = store
        .user_by_name("admin")
        .await
        .expect("users")
        .expect("the demo's admin");
    let (_, token) = store.create_token(admin.id, "bench").await.expect("token");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = kohtaamo_http::app(store.clone(), HttpConfig::default());
    tokio::spawn(kohtaamo_http::serve(
        listener,
        app,
        std::future::pending(),
        Default::default(),
    ));
    let client = reqwest::Client::new();
    let base = format!("http://{addr}/api/v1/workspaces/demo");
    let get = |path: String| {
        let client = client.clone();
        let token = token.clone();
        async move {
            let t = Instant::now();
            let r = client
                .get(&path)
                .bearer_auth(&token)
                .send()
                .await
                .expect("request");
            assert!(r.status().is_success(), "{path}: {}", r.status());
            let body: serde_json::Value = r.json().await.expect("json");
            (t.elapsed().as_secs_f64() * 1000.0, body)
        }
    };
    // Warm-up: every request once (pages in the OS cache, statements prepared).
    for s in SCOPES {
        get(format!("{base}/scores?by={s}")).await;
    }
    get(format!("{base}/scores/weekly")).await;
    let mut per: Vec<(String, Vec<f64>)> = SCOPES
        .iter()
        .map(|s| (format!("scores?by={s}"), vec![]))
        .chain(std::iter::once(("scores/weekly".to_string(), vec![])))
        .collect();
    let mut loads = vec![];
    let mut all = vec![];
    for _ in 0..rounds {
        let mut table_ms = 0.0;
        for (k, (path, times)) in per.iter_mut().enumerate() {
            let (ms, _) = get(format!("{base}/{path}")).await;
            times.push(ms);
            all.push(ms);
            if k == 0 {
                table_ms = ms;
            }
        }
        let weekly_ms = *per.last().and_then(|p| p.1.last()).unwrap_or(&0.0);
        loads.push(table_ms + weekly_ms);
    }
    let (_, table) = get(format!("{base}/scores?by=touchpoint")).await;
    let (_, weekly) = get(format!("{base}/scores/weekly")).await;
    let name = std::path::Path::new(dir)
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "data".into());
    println!("\n== {dir}: {responses} responses, {rollups} rollup rows, {rounds} rounds");
    println!("{:<24} {:>9} {:>9}", "request", "p50 ms", "p95 ms");
    let mut rows = vec![];
    for (path, times) in per {
        let (p50, p95) = summary(times);
        println!("{path:<24} {p50:>9.2} {p95:>9.2}");
        rows.push(serde_json::json!({"request": path, "p50_ms": p50, "p95_ms": p95}));
    }
    let (all50, all95) = summary(all);
    let (l50, l95) = summary(loads);
    println!("{:<24} {all50:>9.2} {all95:>9.2}", "any request");
    println!("{:<24} {l50:>9.2} {l95:>9.2}", "dashboard load (pair)");
    let out = serde_json::json!({
        "dir": dir, "responses": responses, "rollup_rows": rollups, "rounds": rounds,
        "requests": rows, "any_p50_ms": all50, "any_p95_ms": all95,
        "load_p50_ms": l50, "load_p95_ms": l95,
        "touchpoint_table": table, "weekly": weekly,
    });
    let path = format!(
        "{}/../../target/bench-dashboard-{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::write(&path, serde_json::to_vec_pretty(&out).expect("json")).expect("write");
    println!("written: {path}");
    out
}

fn main() {
    let dirs = std::env::var("BENCH_DATA_DIRS").unwrap_or_default();
    if dirs.is_empty() {
        eprintln!("set BENCH_DATA_DIRS (see scripts/bench-dashboard); nothing to do");
        return;
    }
    let rounds = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let results: Vec<serde_json::Value> = dirs
        .split(',')
        .map(|d| rt.block_on(bench_dir(d.trim(), rounds)))
        .collect();
    if let [small, big] = results.as_slice() {
        let g =
            |k: &str| big[k].as_f64().unwrap_or(f64::NAN) / small[k].as_f64().unwrap_or(f64::NAN);
        println!(
            "\ngrowth {} → {} responses: any request p95 ×{:.2}, dashboard load p95 ×{:.2}",
            small["responses"],
            big["responses"],
            g("any_p95_ms"),
            g("load_p95_ms")
        );
    }
}
