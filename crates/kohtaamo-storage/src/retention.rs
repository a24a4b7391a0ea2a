//! Retention: rows past their period deleted or anonymised, a short write transaction
//! per batch. Candidates are read outside the write lock (by id, in id order), then
//! one batch is changed in its own transaction, so a run over a million rows holds
//! SQLite's write lock for one batch at a time and feedback keeps flowing between.
//! Rollups stay exact (a deleted response's tally and a deleted encounter's count are
//! taken out in the same transaction). Deleting is idempotent, so instances running
//! the same pass at once each change only what is still there.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use kohtaamo_domain::privacy::{Action, Retained, RetentionRule};
use kohtaamo_domain::Id;
use sqlx::Row;

use crate::entity::{bind, Val};
use crate::{Result, Store, StoreError, Tx};

/// The table a kind lives in and the condition (on `$1` workspace, `$2` cutoff) that
/// picks its rows past the period for `action`.
fn scope(kind: Retained, action: Action) -> (&'static str, &'static str) {
    match (kind, action) {
        (Retained::Responses, Action::Delete) => ("responses", "created_at < $2"),
        (Retained::Responses, Action::Anonymise) => ("responses", "created_at < $2 AND redacted < 2"),
        (Retained::FreeText, _) => ("responses", "created_at < $2 AND redacted < 1"),
        (Retained::Encounters, Action::Delete) => ("encounters", "occurred_at < $2"),
        (Retained::Encounters, Action::Anonymise) => (
            "encounters",
            "occurred_at < $2 AND (customer_id IS NOT NULL OR case_ref IS NOT NULL OR text IS NOT NULL OR attributes <> '{}')",
        ),
        (Retained::Captures, _) => (
            "encounters",
            "occurred_at < $2 AND id IN (SELECT encounter_id FROM captures WHERE workspace_id = $1)",
        ),
        (Retained::FollowUps, _) => ("follow_ups", "status = 'closed' AND closed_at < $2"),
        (Retained::Cases, _) => ("cases", "updated_at < $2"),
        (Retained::Mail, _) => ("mail_queue", "status <> 'queued' AND created_at < $2"),
        (Retained::Audit, _) => ("audit_log", "seq IS NOT NULL AND at < $2"),
    }
}

/// The key a kind's rows are taken in order of, and how the workspace condition is
/// written. For tables keyed by `id` it is `+workspace_id`, which no index can serve:
/// the candidates are then read by walking the primary key from where the last batch
/// ended (one pass over the table for a whole run), and a batch's rows are fetched by
/// their ids — with `workspace_id = $1`, SQLite read every row past the cutoff through
/// the (workspace, time) index and sorted them, ~130 ms per batch at 1 M such rows
/// whatever the batch's size (docs/BENCHMARKS.md). The audit trail is taken by its
/// sequence number, through its (workspace, seq) index.
fn keyed(kind: Retained) -> (&'static str, &'static str) {
    if kind == Retained::Audit {
        ("seq", "workspace_id")
    } else {
        ("id", "+workspace_id")
    }
}

fn list(from: usize, ids: &[Id]) -> String {
    (from..from + ids.len())
        .map(|k| format!("${k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// The workspace's own retention rules (kinds it has not set follow the defaults).
    pub async fn retention_settings(&self, ws: Id) -> Result<Vec<RetentionRule>> {
        let rows = sqlx::query("SELECT kind, days, action FROM retention_settings WHERE workspace_id = $1 ORDER BY kind")
            .bind(ws)
            .fetch_all(self.pool())
            .await?;
        let mut out = vec![];
        for r in rows {
            let (kind, days, action): (String, Option<i64>, String) =
                (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
            // A kind this version does not know is skipped, not an error.
            if let Ok(rule) = RetentionRule::parse(&kind, days, &action) {
                out.push(rule);
            }
        }
        Ok(out)
    }

    pub async fn set_retention(&self, ws: Id, rule: &RetentionRule) -> Result<()> {
        let (_gate, mut tx) = self.write().await?;
        let r = sqlx::query("INSERT INTO retention_settings (workspace_id, kind, days, action, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (workspace_id, kind) DO UPDATE SET days = excluded.days, action = excluded.action, updated_at = excluded.updated_at")
            .bind(ws)
            .bind(rule.kind.as_str())
            .bind(rule.days)
            .bind(rule.action.as_str())
            .bind(crate::now_text())
            .execute(&mut *tx)
            .await
            .map(|_| ())
            .map_err(StoreError::from);
        self.finish(tx, r).await
    }

    /// How many rows the rule would change now with this cutoff (a read).
    pub async fn retention_count(&self, ws: Id, rule: &RetentionRule, cutoff: &str) -> Result<i64> {
        let (table, cond) = scope(rule.kind, rule.action);
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE workspace_id = $1 AND {cond}");
        Ok(sqlx::query_scalar(&sql)
            .bind(ws)
            .bind(cutoff)
            .fetch_one(self.pool())
            .await?)
    }

    /// Up to `limit` ids (audit: sequence numbers) past the cutoff after `after`, in
    /// order (a read, outside the write lock).
    pub async fn retention_candidates(
        &self,
        ws: Id,
        rule: &RetentionRule,
        cutoff: &str,
        after: Id,
        limit: i64,
    ) -> Result<Vec<Id>> {
        let (table, cond) = scope(rule.kind, rule.action);
        let (key, ws_col) = keyed(rule.kind);
        let sql = format!("SELECT {key} FROM {table} WHERE {ws_col} = $1 AND {cond} AND {key} > $3 ORDER BY {key} LIMIT $4");
        Ok(sqlx::query_scalar(&sql)
            .bind(ws)
            .bind(cutoff)
            .bind(after)
            .bind(limit)
            .fetch_all(self.pool())
            .await?)
    }

    /// Applies the rule to these rows (still past `cutoff`) in one transaction;
    /// returns how many changed and how long the write gate was held (from having it
    /// to the commit's end — SQLite's write lock is held within that). `text_keys`:
    /// per survey, the answers that are free text (removed when anonymising).
    pub async fn retention_apply(
        &self,
        ws: Id,
        rule: &RetentionRule,
        cutoff: &str,
        ids: &[Id],
        text_keys: &HashMap<Id, Vec<String>>,
    ) -> Result<(i64, Duration)> {
        if ids.is_empty() {
            return Ok((0, Duration::ZERO));
        }
        let (table, cond) = scope(rule.kind, rule.action);
        let (key, ws_col) = keyed(rule.kind);
        // Still past the cutoff and still to do (another instance may have been first).
        let pick = format!("{key} IN ({}) AND {ws_col} = $1 AND {cond}", list(3, ids));
        let mut vals: Vec<Val> = vec![ws.into(), cutoff.into()];
        vals.extend(ids.iter().map(|i| Val::from(*i)));
        let (_gate, mut tx) = self.write().await?;
        let held = Instant::now();
        let r = apply(&mut tx, ws, rule, table, &pick, vals, text_keys).await;
        let n = self.finish(tx, r).await?;
        Ok((n, held.elapsed()))
    }
}

async fn apply(
    tx: &mut Tx,
    ws: Id,
    rule: &RetentionRule,
    table: &str,
    pick: &str,
    vals: Vec<Val>,
    text_keys: &HashMap<Id, Vec<String>>,
) -> Result<i64> {
    match (rule.kind, rule.action) {
        (Retained::Responses, Action::Delete) => {
            let sql = format!("DELETE FROM responses WHERE {pick} RETURNING survey_id, complete, nps, csat, ces, touchpoint_id, day, channel, locale, suspect");
            let rows = bind(sqlx::query(&sql).persistent(false), vals)
                .fetch_all(&mut **tx)
                .await?;
            crate::feedback::subtract_from_rollups(tx, ws, &rows).await?;
            Ok(rows.len() as i64)
        }
        (Retained::Responses | Retained::FreeText, _) => {
            let level = if rule.kind == Retained::FreeText {
                1
            } else {
                2
            };
            let sql = format!("SELECT id, survey_id, answers FROM responses WHERE {pick}");
            let rows = bind(sqlx::query(&sql).persistent(false), vals)
                .fetch_all(&mut **tx)
                .await?;
            let mut n = 0;
            for r in &rows {
                let (id, survey, answers): (Id, Id, String) =
                    (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
                let mut map: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(&answers).unwrap_or_default();
                for k in text_keys.get(&survey).into_iter().flatten() {
                    map.remove(k);
                }
                let answers = serde_json::Value::Object(map).to_string();
                // Re-checked: another instance may have done it since the read.
                let sql = if level == 2 {
                    "UPDATE responses SET answers = $2, custom = '{}', customer_ref = NULL, case_ref = NULL, redacted = 2 WHERE id = $1 AND redacted < 2"
                } else {
                    "UPDATE responses SET answers = $2, custom = '{}', redacted = 1 WHERE id = $1 AND redacted < 1"
                };
                n += sqlx::query(sql)
                    .bind(id)
                    .bind(answers)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected() as i64;
            }
            Ok(n)
        }
        (Retained::Encounters, Action::Anonymise) => {
            let sql = format!("UPDATE captures SET promise = NULL WHERE encounter_id IN (SELECT id FROM encounters WHERE {pick})");
            bind(sqlx::query(&sql).persistent(false), vals.clone())
                .execute(&mut **tx)
                .await?;
            let sql = format!("UPDATE encounters SET customer_id = NULL, case_ref = NULL, text = NULL, attributes = '{{}}' WHERE {pick}");
            let n = bind(sqlx::query(&sql).persistent(false), vals)
                .execute(&mut **tx)
                .await?
                .rows_affected() as i64;
            if n > 0 {
                crate::mining_rollup::mark_stale(tx, ws).await?;
            }
            Ok(n)
        }
        (Retained::Encounters | Retained::Captures, _) => {
            crate::privacy::delete_encounters(tx, ws, pick, vals).await
        }
        (Retained::Audit, _) => {
            // The head row's lock first: a second instance pruning at once waits, then
            // sees where the first one stopped.
            let pruned: (i64, String) = sqlx::query("UPDATE audit_heads SET seq = seq WHERE workspace_id = $1 RETURNING pruned_seq, pruned_hash")
                .bind(ws)
                .fetch_optional(&mut **tx)
                .await?
                .map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?)))
                .transpose()?
                .unwrap_or_default();
            let sql = format!(
                "SELECT seq, hash FROM audit_log WHERE {pick} AND seq > ${} ORDER BY seq",
                vals.len() + 1
            );
            let mut vals = vals;
            vals.push(pruned.0.into());
            let rows = bind(sqlx::query(&sql).persistent(false), vals)
                .fetch_all(&mut **tx)
                .await?;
            // Only the oldest entries go, in an unbroken run, so the kept chain starts
            // right after the last one removed.
            let mut last = pruned.clone();
            for r in &rows {
                let seq: i64 = r.try_get(0)?;
                if seq != last.0 + 1 {
                    break;
                }
                last = (seq, r.try_get::<Option<String>, _>(1)?.unwrap_or_default());
            }
            if last.0 == pruned.0 {
                return Ok(0);
            }
            sqlx::query(
                "DELETE FROM audit_log WHERE workspace_id = $1 AND seq IS NOT NULL AND seq <= $2",
            )
            .bind(ws)
            .bind(last.0)
            .execute(&mut **tx)
            .await?;
            sqlx::query(
                "UPDATE audit_heads SET pruned_seq = $2, pruned_hash = $3 WHERE workspace_id = $1",
            )
            .bind(ws)
            .bind(last.0)
            .bind(&last.1)
            .execute(&mut **tx)
            .await?;
            Ok(last.0 - pruned.0)
        }
        _ => {
            let sql = format!("DELETE FROM {table} WHERE {pick}");
            Ok(bind(sqlx::query(&sql).persistent(false), vals)
                .execute(&mut **tx)
                .await?
                .rows_affected() as i64)
        }
    }
}

impl Store {
    /// SQLite: copies what the WAL holds into the database file without waiting for
    /// or blocking anyone (`wal_checkpoint(PASSIVE)`), outside the write gate. A bulk
    /// change run between its batches keeps the WAL short this way, so no commit —
    /// its own inside the gate, or the ingest writer's — pays for the automatic
    /// checkpoint at 16,384 pages. Does nothing on PostgreSQL; a failure is ignored
    /// (the automatic checkpoint still runs).
    pub async fn checkpoint_passive(&self) {
        if self.backend() == crate::Backend::Sqlite {
            let _ = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .fetch_optional(self.pool())
                .await;
        }
    }

    /// Every workspace's id (for jobs that visit each).
    pub async fn workspace_ids(&self) -> Result<Vec<Id>> {
        Ok(sqlx::query_scalar("SELECT id FROM workspaces ORDER BY id")
            .fetch_all(self.pool())
            .await?)
    }
}
