//! Fresh databases for tests: a new SQLite file in a temporary directory, or a new
//! PostgreSQL database on the server named by `KOHTAAMO_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). Used by this crate's conformance
//! suite and by the HTTP API tests.

use crate::Backend;

pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database that exists for one test. SQLite files are removed on drop; PostgreSQL
/// test databases are named `kt_test_*` and dropped by `scripts/test` before each run.
pub struct TestDb {
    pub url: String,
    dir: Option<std::path::PathBuf>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(d) = &self.dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

fn suffix() -> String {
    crate::auth::random_secret()[..16].to_string()
}

/// Which backend the HTTP tests run on: `KOHTAAMO_TEST_BACKEND=postgres` or SQLite.
pub fn backend_from_env() -> Backend {
    match std::env::var("KOHTAAMO_TEST_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    }
}

pub async fn fresh(backend: Backend) -> TestDb {
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(format!("kohtaamo-test-{}", suffix()));
            std::fs::create_dir_all(&dir).expect("create temp dir");
            TestDb {
                url: format!("sqlite://{}?mode=rwc", dir.join("kohtaamo.db").display()),
                dir: Some(dir),
            }
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let admin =
                std::env::var("KOHTAAMO_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_PG_URL.into());
            let name = format!("kt_test_{}", suffix());
            let mut conn = sqlx::PgConnection::connect(&admin)
                .await
                .unwrap_or_else(|e| panic!("PostgreSQL test server not reachable at {admin}: {e} (start it, see scripts/test)"));
            sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
                .await
                .expect("create test database");
            let _ = conn.close().await;
            let base = admin
                .rsplit_once('/')
                .map(|(b, _)| b.to_string())
                .unwrap_or(admin.clone());
            TestDb {
                url: format!("{base}/{name}"),
                dir: None,
            }
        }
    }
}
