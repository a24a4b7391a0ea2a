//! Alert rules (stored through the generic entity path, see `entities.rs`) and the
//! alerts they raise: one per rule and evaluated period, created with `ON CONFLICT DO
//! NOTHING RETURNING` so that only the instance that created an alert delivers it.

use kohtaamo_domain::alerts::{AlertRuleData, Finding};
use kohtaamo_domain::Id;
use serde::Serialize;
use sqlx::Row;

use crate::entity::Record;
use crate::{now_text, Result, Store};

/// An alert as stored and listed.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Alert {
    pub id: Id,
    pub workspace_id: Id,
    pub rule_id: Id,
    /// The unit notified (None: the workspace's alert list only).
    pub unit_id: Option<Id>,
    pub period_from: String,
    pub period_to: String,
    pub value: f64,
    pub margin: f64,
    pub n: i64,
    pub previous: Option<f64>,
    pub created_at: String,
}

const ALERT_COLUMNS: &str =
    "id, workspace_id, rule_id, unit_id, period_from, period_to, value, margin, n, previous, created_at";

fn alert(r: &sqlx::any::AnyRow) -> Result<Alert> {
    Ok(Alert {
        id: r.try_get("id")?,
        workspace_id: r.try_get("workspace_id")?,
        rule_id: r.try_get("rule_id")?,
        unit_id: r.try_get("unit_id")?,
        period_from: r.try_get("period_from")?,
        period_to: r.try_get("period_to")?,
        value: r.try_get("value")?,
        margin: r.try_get("margin")?,
        n: r.try_get("n")?,
        previous: r.try_get("previous")?,
        created_at: r.try_get("created_at")?,
    })
}

impl Store {
    /// Every alert rule of every workspace, for the evaluating job.
    pub async fn all_alert_rules(&self) -> Result<Vec<(Id, Record<AlertRuleData>)>> {
        use crate::Entity;
        let sql = format!(
            "SELECT id, workspace_id, {} FROM alert_rules ORDER BY workspace_id, id",
            AlertRuleData::COLUMNS.join(", ")
        );
        let rows = sqlx::query(&sql).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("workspace_id")?,
                    Record {
                        id: r.try_get("id")?,
                        position: None,
                        data: AlertRuleData::from_row(r)?,
                        derived: Default::default(),
                    },
                ))
            })
            .collect()
    }

    /// Records that rule `rule` fired for the period `from`–`to`, and opens the
    /// follow-ups that follow-up rules with an `alert` trigger open for it, in the same
    /// transaction. Returns the alert only if this call created it: a second call for
    /// the same period, here or on another instance, returns None and opens nothing.
    pub async fn record_alert(
        &self,
        ws: Id,
        rule: Id,
        unit: Option<Id>,
        (from, to): (chrono::NaiveDate, chrono::NaiveDate),
        f: &Finding,
        follow_ups: &[crate::followups::NewFollowUp],
    ) -> Result<Option<Alert>> {
        let (_gate, mut tx) = self.write().await?;
        let r = async {
            let sql = format!(
                "INSERT INTO alerts (workspace_id, rule_id, unit_id, period_from, period_to, value, margin, n, previous, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING RETURNING {ALERT_COLUMNS}"
            );
            let q = sqlx::query(&sql)
                .bind(ws)
                .bind(rule)
                .bind(unit)
                .bind(from.to_string())
                .bind(to.to_string())
                .bind(f.value)
                .bind(f.margin)
                .bind(f.n);
            let row = crate::entity::bind_real(q, f.previous)
                .bind(now_text())
                .fetch_optional(&mut *tx)
                .await?;
            let created = row.as_ref().map(alert).transpose()?;
            if let Some(a) = &created {
                crate::followups::open_for_alert(&mut tx, ws, (a.id, &a.created_at), follow_ups)
                    .await?;
            }
            Ok(created)
        }
        .await;
        self.finish(tx, r).await
    }

    /// How many alerts each rule of a workspace has raised.
    pub async fn alert_counts(&self, ws: Id) -> Result<std::collections::HashMap<Id, i64>> {
        let rows = sqlx::query(
            "SELECT rule_id, COUNT(*) FROM alerts WHERE workspace_id = $1 GROUP BY rule_id",
        )
        .bind(ws)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Alerts of a workspace, newest first; of one unit, or of one rule.
    pub async fn alerts(
        &self,
        ws: Id,
        unit: Option<Id>,
        rule: Option<Id>,
        limit: i64,
    ) -> Result<Vec<Alert>> {
        let rows = sqlx::query(&format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE workspace_id = $1 AND ($2 = 0 OR unit_id = $2) \
             AND ($3 = 0 OR rule_id = $3) ORDER BY id DESC LIMIT $4"
        ))
        .bind(ws)
        .bind(unit.unwrap_or(0))
        .bind(rule.unwrap_or(0))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(alert).collect()
    }

    /// Alerts of a workspace raised in `[from, to)` (RFC 3339 bounds), oldest first.
    pub async fn alerts_raised(&self, ws: Id, (from, to): (&str, &str)) -> Result<Vec<Alert>> {
        let rows = sqlx::query(&format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE workspace_id = $1 AND created_at >= $2 \
             AND created_at < $3 ORDER BY id"
        ))
        .bind(ws)
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(alert).collect()
    }
}
