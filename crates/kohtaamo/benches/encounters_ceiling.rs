//! SQLite's own ceiling for storing encounters, beside what the product's ingest does
//! (`benches/encounters.rs`): how many encounters a second the engine itself writes
//! into the product's `encounters` table, with nothing of ours in the way.
//!
//! For each variant of the schema, a fresh database made by the product (every
//! migration, the product's pragmas on the connection, the ingest writer's 64 MB page
//! cache) gets 100,000 customers, then `CEILING_ROWS` (300,000) encounters shaped as
//! the ingest bench sends them (the time is now, a UUID client id, a customer among
//! 100,000 at random and that customer's case, two touchpoints taking turns), in
//! commits of each size in `CEILING_COMMITS` (`1000,4000,16000`) rows. A commit is one
//! statement, `INSERT … SELECT … FROM json_each(?)` with the rows as one JSON
//! parameter: SQLite parses them and writes the table and its indexes; no HTTP, no
//! validation, no statement per row, no customer look-up. The rows are made before the
//! clock starts.
//!
//! The variants: the schema as it is; without the three indexes whose keys a live feed
//! gives at random (client id, customer, case); with the client-id key alone; and the
//! table with no secondary index at all.
//!
//! `cargo bench -p kohtaamo --bench encounters_ceiling`

mod common;

use std::time::Instant;

use common::{env_num, secondary_indexes, workspace};
use kohtaamo_storage::Backend;

const CUSTOMERS: u64 = 100_000;
const VARIANTS: [&str; 4] = [
    "the schema as it is",
    "without the random-key indexes",
    "the client-id key alone",
    "no secondary index",
];

const INSERT: &str = "INSERT INTO encounters (workspace_id, client_id, occurred_at, touchpoint_id, \
    touchpoint_name, stage_id, journey_id, channel, unit_id, owner_name, customer_id, case_ref, kind, \
    attributes, source, recorded_by, created_at) \
    SELECT $1, value ->> 'c', value ->> 't', value ->> 'tp', '{\"en\":\"Desk\"}', 3, 1, 'web', 2, \
    '{\"en\":\"Ops\"}', value ->> 'cu', value ->> 'case', 'contact', '{}', 'api', 'token:1', value ->> 't' \
    FROM json_each($2)";

/// The rows of one run, a JSON array per commit.
fn commits(rows: u64, per_commit: u64, first_customer: i64) -> Vec<String> {
    let mut out = vec![];
    let mut start = 0;
    while start < rows {
        let end = (start + per_commit).min(rows);
        let rows: Vec<serde_json::Value> = (start..end)
            .map(|i| {
                let id = uuid::Uuid::new_v4();
                let customer = (id.as_u128() % CUSTOMERS as u128) as i64;
                serde_json::json!({
                    "c": id.to_string(),
                    "t": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
                    "tp": 1 + i % 2,
                    "cu": first_customer + customer,
                    "case": format!("case-{}", customer / 3),
                })
            })
            .collect();
        out.push(serde_json::Value::Array(rows).to_string());
        start = end;
    }
    out
}

/// Runs one statement without parameters on `c`.
async fn exec(c: &mut sqlx::AnyConnection, sql: &str) {
    sqlx::query(sql)
        .execute(&mut *c)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn run(variant: &str, rows: u64, per_commit: u64) -> f64 {
    let b = workspace(Backend::Sqlite).await;
    let mut c = b.store.pool().acquire().await.expect("connection");
    for sql in [
        "PRAGMA cache_size = -65536".to_string(),
        format!(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {CUSTOMERS}) \
             INSERT INTO customers (workspace_id, origin, created_at) \
             SELECT {}, 'crm:' || i, '2026-01-01T00:00:00Z' FROM s",
            b.ws
        ),
    ] {
        exec(&mut c, &sql).await;
    }
    let (first,): (i64,) = sqlx::query_as("SELECT MIN(id) FROM customers WHERE workspace_id = $1")
        .bind(b.ws)
        .fetch_one(&mut *c)
        .await
        .expect("customers");
    let indexes = secondary_indexes(&b.store, "encounters").await;
    let drop: Vec<&(String, String)> = match variant {
        "the schema as it is" => vec![],
        "without the random-key indexes" => indexes
            .iter()
            .filter(|(n, _)| n == "encounters_customer" || n == "encounters_case")
            .collect(),
        _ => indexes.iter().collect(),
    };
    for (name, _) in &drop {
        exec(&mut c, &format!("DROP INDEX {name}")).await;
    }
    if variant == "without the random-key indexes" || variant == "no secondary index" {
        // The client-id key is part of the table's definition: make the (empty) table
        // again without it, with the indexes it keeps.
        let (sql,): (String,) =
            sqlx::query_as("SELECT sql FROM sqlite_master WHERE name = 'encounters'")
                .fetch_one(&mut *c)
                .await
                .expect("table");
        let without = sql.replace("UNIQUE (workspace_id, client_id),", "");
        assert_ne!(
            without, sql,
            "the client-id key is in the table's definition"
        );
        let keep: Vec<String> = secondary_indexes(&b.store, "encounters")
            .await
            .into_iter()
            .map(|(_, def)| def)
            .collect();
        for sql in [
            "PRAGMA foreign_keys = OFF",
            "DROP TABLE encounters",
            &without,
        ]
        .into_iter()
        .map(str::to_owned)
        .chain(keep)
        .chain(["PRAGMA foreign_keys = ON".to_owned()])
        {
            exec(&mut c, &sql).await;
        }
    }
    exec(&mut c, "PRAGMA wal_checkpoint(TRUNCATE)").await;
    let data = commits(rows, per_commit, first);
    let started = Instant::now();
    for d in data {
        exec(&mut c, "BEGIN IMMEDIATE").await;
        sqlx::query(INSERT)
            .bind(b.ws)
            .bind(d)
            .execute(&mut *c)
            .await
            .expect("insert");
        exec(&mut c, "COMMIT").await;
    }
    let secs = started.elapsed().as_secs_f64();
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM encounters")
        .fetch_one(&mut *c)
        .await
        .expect("count");
    assert_eq!(n as u64, rows, "every row stored");
    rows as f64 / secs
}

fn main() {
    let rows = env_num("CEILING_ROWS", 300_000);
    let sizes: Vec<u64> = std::env::var("CEILING_COMMITS")
        .unwrap_or_else(|_| "1000,4000,16000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("CEILING_COMMITS: numbers"))
        .collect();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let (version,): (String,) = sqlx::query_as("SELECT sqlite_version()")
            .fetch_one(workspace(Backend::Sqlite).await.store.pool())
            .await
            .expect("version");
        println!("SQLite {version}; {rows} encounters a run, each into a fresh database");
        println!("| schema | rows a commit | encounters/s |");
        println!("|---|---|---|");
        for variant in VARIANTS {
            for &size in &sizes {
                let rate = run(variant, rows, size).await;
                println!("| {variant} | {size} | {rate:.0} |");
            }
        }
    });
}
