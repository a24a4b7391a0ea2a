//! The planner's statistics on PostgreSQL. PostgreSQL plans a query from per-table
//! statistics that `ANALYZE` gathers; autovacuum gathers them in the background, but
//! it can be turned off, and it lags a bulk load by up to its nap time (a minute by
//! default). A table never analysed is planned as if it held a row or two: right after
//! 15,069 encounters were recorded, journey mining's read of a period joined the
//! period once per instance (a nested loop, 100 s) where a hash join takes 70 ms.
//! [`Store::refresh_statistics`] applies autovacuum's own rule (a table whose rows
//! changed since its last analysis by more than 50 + 10 % of its rows is analysed
//! again) so the product does not depend on autovacuum's settings or timing. SQLite
//! keeps no statistics unless asked to and plans from its indexes alone, which the
//! schema is built for: nothing to do there.

use sqlx::Row;

use crate::{Backend, Result, Store};

impl Store {
    /// Analyses again every table of the product's schema whose statistics are stale by
    /// autovacuum's default rule; how many it analysed (0 on SQLite). One catalog query
    /// when nothing is stale.
    pub async fn refresh_statistics(&self) -> Result<usize> {
        if self.backend() != Backend::Postgres {
            return Ok(0);
        }
        let stale: Vec<String> = sqlx::query(
            "SELECT CAST(relname AS TEXT) FROM pg_stat_user_tables \
             WHERE schemaname = current_schema() \
               AND n_mod_since_analyze > 50 + n_live_tup / 10 \
             ORDER BY relname",
        )
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>(0))
        .collect::<std::result::Result<_, _>>()?;
        let mut done = 0;
        for table in stale {
            // A name from the catalog, quoted; only the schema's plain names qualify.
            if table.is_empty()
                || !table
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                continue;
            }
            sqlx::query(&format!("ANALYZE \"{table}\""))
                .execute(self.pool())
                .await?;
            done += 1;
        }
        Ok(done)
    }
}
