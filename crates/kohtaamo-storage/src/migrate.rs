//! Versioned migrations, applied in order, each in its own transaction, recorded in
//! `kohtaamo_migrations`. Written once for both backends; see the `{ID}` token.

use sqlx::Executor;

use crate::{Backend, Result, Store};

/// A migration's SQL: one text for both backends, or one per backend (for what the
/// two cannot say alike).
#[derive(Clone, Copy)]
enum Sql {
    Both(&'static str),
    PerBackend {
        sqlite: &'static str,
        postgres: &'static str,
        /// A query that must return 1 (not 0) on the migrated database of that backend (run
        /// in the migration's transaction), for steps the database cannot check itself.
        check: Option<(Backend, &'static str)>,
    },
}

/// (version, name, SQL). Append only; never edit an applied migration.
const MIGRATIONS: &[(i64, &str, Sql)] = &[
    (1, "initial", Sql::Both(include_str!("../migrations/0001_initial.sql"))),
    (2, "reviews", Sql::Both(include_str!("../migrations/0002_reviews.sql"))),
    (
        3,
        "feedback",
        Sql::Both(include_str!("../migrations/0003_feedback.sql")),
    ),
    (4, "rollups", Sql::Both(include_str!("../migrations/0004_rollups.sql"))),
    (5, "alerts", Sql::Both(include_str!("../migrations/0005_alerts.sql"))),
    (6, "meta", Sql::Both(include_str!("../migrations/0006_meta.sql"))),
    (7, "suspect", Sql::Both(include_str!("../migrations/0007_suspect.sql"))),
    (
        8,
        "unit_members",
        Sql::Both(include_str!("../migrations/0008_unit_members.sql")),
    ),
    (
        9,
        "encounters",
        Sql::Both(include_str!("../migrations/0009_encounters.sql")),
    ),
    (
        10,
        "encounter_lookups",
        Sql::Both(include_str!("../migrations/0010_encounter_lookups.sql")),
    ),
    (
        11,
        "follow_ups",
        Sql::Both(include_str!("../migrations/0011_follow_ups.sql")),
    ),
    (
        12,
        "follow_up_clocks",
        Sql::Both(include_str!("../migrations/0012_follow_up_clocks.sql")),
    ),
    (
        13,
        "follow_up_recovery",
        Sql::Both(include_str!("../migrations/0013_follow_up_recovery.sql")),
    ),
    (
        14,
        "alert_follow_ups",
        Sql::PerBackend {
            sqlite: include_str!("../migrations/0014_alert_follow_ups.sqlite.sql"),
            postgres: include_str!("../migrations/0014_alert_follow_ups.postgres.sql"),
            check: Some((
                Backend::Sqlite,
                "SELECT (SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' \
                 AND name IN ('follow_ups', 'follow_up_rules') AND sql LIKE '%''capture'', ''alert''))%') = 2 \
                 AND (SELECT quick_check FROM pragma_quick_check) = 'ok'",
            )),
        },
    ),
    (15, "cases", Sql::Both(include_str!("../migrations/0015_cases.sql"))),
    (
        16,
        "case_updates",
        Sql::Both(include_str!("../migrations/0016_case_updates.sql")),
    ),
    (17, "privacy", Sql::Both(include_str!("../migrations/0017_privacy.sql"))),
    (
        18,
        "privacy_role",
        Sql::PerBackend {
            sqlite: include_str!("../migrations/0018_privacy_role.sqlite.sql"),
            postgres: include_str!("../migrations/0018_privacy_role.postgres.sql"),
            check: Some((
                Backend::Sqlite,
                "SELECT (SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' \
                 AND name = 'memberships' AND sql LIKE '%''viewer'', ''privacy''))%') = 1 \
                 AND (SELECT quick_check FROM pragma_quick_check) = 'ok'",
            )),
        },
    ),
    (
        19,
        "retention",
        Sql::Both(include_str!("../migrations/0019_retention.sql")),
    ),
    (
        20,
        "consents",
        Sql::Both(include_str!("../migrations/0020_consents.sql")),
    ),
    (
        21,
        "privacy_lookups",
        Sql::Both(include_str!("../migrations/0021_privacy_lookups.sql")),
    ),
    (
        22,
        "journey_mining",
        Sql::Both(include_str!("../migrations/0022_journey_mining.sql")),
    ),
    (
        23,
        "mining_rollups",
        Sql::Both(include_str!("../migrations/0023_mining_rollups.sql")),
    ),
    (
        24,
        "mining_rollups_clustered",
        Sql::PerBackend {
            sqlite: include_str!("../migrations/0024_mining_rollups_clustered.sqlite.sql"),
            postgres: include_str!("../migrations/0024_mining_rollups_clustered.postgres.sql"),
            check: Some((
                Backend::Sqlite,
                "SELECT (SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' \
                 AND name IN ('mining_flow_acts', 'mining_flow_edges', 'mining_flow_stages') \
                 AND sql LIKE '%WITHOUT ROWID') = 3",
            )),
        },
    ),
];

fn render(sql: &str, backend: Backend) -> String {
    // The one DDL difference between the backends: an auto-assigned BIGINT key.
    // AUTOINCREMENT keeps SQLite from reusing the id of a deleted row.
    let id = match backend {
        Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        Backend::Postgres => "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    };
    // An unguessable default key for public links, generated by the database so the
    // generic insert path needs no special case.
    let key = match backend {
        Backend::Sqlite => "(lower(hex(randomblob(10))))",
        Backend::Postgres => "(substr(md5(random()::text || clock_timestamp()::text), 1, 20))",
    };
    sql.replace("{ID}", id).replace("{RANDOM_KEY}", key)
}

/// Applies every pending migration; returns the versions applied.
pub async fn run(store: &Store) -> Result<Vec<i64>> {
    let mut conn = store.pool().acquire().await?;
    if store.backend() == Backend::Postgres {
        // Several instances may start at once against one PostgreSQL; only one migrates.
        conn.execute("SELECT pg_advisory_lock(7171001)").await?;
    }
    let result = apply(&mut conn, store.backend()).await;
    if store.backend() == Backend::Postgres {
        conn.execute("SELECT pg_advisory_unlock(7171001)").await?;
    }
    result
}

async fn apply(conn: &mut sqlx::AnyConnection, backend: Backend) -> Result<Vec<i64>> {
    conn.execute("CREATE TABLE IF NOT EXISTS kohtaamo_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
        .await?;
    let done: Vec<i64> = sqlx::query_scalar("SELECT version FROM kohtaamo_migrations")
        .fetch_all(&mut *conn)
        .await?;
    let mut applied = Vec::new();
    for (version, name, sql) in MIGRATIONS {
        if done.contains(version) {
            continue;
        }
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        let r = async {
            let (text, check) = match *sql {
                Sql::Both(text) => (text, None),
                Sql::PerBackend {
                    sqlite,
                    postgres,
                    check,
                } => match backend {
                    Backend::Sqlite => (sqlite, check),
                    Backend::Postgres => (postgres, check),
                },
            };
            let mut text = render(text, backend);
            if text.contains("{NEXT_SCHEMA_VERSION}") {
                let v: i64 = sqlx::query_scalar("PRAGMA schema_version")
                    .fetch_one(&mut *tx)
                    .await?;
                text = text.replace("{NEXT_SCHEMA_VERSION}", &(v + 1).to_string());
            }
            sqlx::raw_sql(&text).execute(&mut *tx).await?;
            if let Some((_, q)) = check.filter(|(b, _)| *b == backend) {
                let ok: i64 = sqlx::query_scalar(q).fetch_one(&mut *tx).await?;
                if ok == 0 {
                    return Err(sqlx::Error::Protocol(format!(
                        "migration {version} ({name}) did not apply as expected"
                    )));
                }
            }
            sqlx::query(
                "INSERT INTO kohtaamo_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            )
            .bind(*version)
            .bind(*name)
            .bind(crate::now_text())
            .execute(&mut *tx)
            .await?;
            Ok::<_, sqlx::Error>(())
        }
        .await;
        match r {
            Ok(()) => tx.commit().await?,
            Err(e) => {
                let _ = tx.rollback().await;
                return Err(e.into());
            }
        }
        tracing::info!(version, name, "applied migration");
        applied.push(*version);
    }
    Ok(applied)
}

/// Versions recorded as applied.
pub async fn applied(store: &Store) -> Result<Vec<i64>> {
    Ok(
        sqlx::query_scalar("SELECT version FROM kohtaamo_migrations ORDER BY version")
            .fetch_all(store.pool())
            .await?,
    )
}
