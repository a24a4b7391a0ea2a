//! What journey mining reads from the encounter log: the encounters of every customer
//! (or case) that met one of a journey's touchpoints in a period — all their
//! encounters in that period, on the map or not — in (instance, time) order, and the
//! counted answers of the same customers (or cases). Streamed, so memory holds only
//! what the caller keeps. One SQL code path for both backends.

use futures_util::TryStreamExt;
use kohtaamo_domain::Id;
use sqlx::Row;

use crate::{Result, Store};

/// What one journey instance is: the encounters of one case, or of one customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceKey {
    Case,
    Customer,
}

impl InstanceKey {
    fn column(self) -> &'static str {
        match self {
            InstanceKey::Case => "case_ref",
            InstanceKey::Customer => "customer_id",
        }
    }

    /// The name the API and reports use: `case` or `customer`.
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceKey::Case => "case",
            InstanceKey::Customer => "customer",
        }
    }
}

/// The key column `col` as text on both backends (a case reference already is).
pub(crate) fn key_text(by: InstanceKey, col: &str) -> String {
    match by {
        InstanceKey::Case => col.to_owned(),
        InstanceKey::Customer => format!("CAST({col} AS TEXT)"),
    }
}

/// The encounter in columns `at`… of `r`: key, customer, time, touchpoint, channel,
/// unit, partner.
pub(crate) fn event_at(r: &sqlx::any::AnyRow, at: usize) -> Result<MiningEvent> {
    Ok(MiningEvent {
        key: r.try_get(at)?,
        customer_id: r.try_get(at + 1)?,
        occurred_at: r.try_get(at + 2)?,
        touchpoint_id: r.try_get(at + 3)?,
        channel: r.try_get(at + 4)?,
        unit_id: r.try_get(at + 5)?,
        partner_id: r.try_get(at + 6)?,
    })
}

/// One encounter as mining reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct MiningEvent {
    /// The case reference, or the customer's id as text.
    pub key: String,
    pub customer_id: Option<Id>,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub occurred_at: String,
    pub touchpoint_id: Option<Id>,
    pub channel: String,
    pub unit_id: Option<Id>,
    pub partner_id: Option<Id>,
}

/// One counted answer (complete, not suspect) of an instance's customer or case.
#[derive(Debug, Clone, PartialEq)]
pub struct MiningAnswer {
    pub key: String,
    pub created_at: String,
    pub nps: Option<i64>,
    pub csat: Option<i64>,
    pub ces: Option<i64>,
}

impl Store {
    /// Calls `each` for every encounter in `[from, to)` of each customer or case that
    /// had an encounter at one of `touchpoints` (a journey's, as designed now) in that
    /// period, ordered by the
    /// instance key, then time. Encounters with no customer (or case) are not read.
    pub async fn mining_events(
        &self,
        ws: Id,
        touchpoints: &[Id],
        by: InstanceKey,
        (from, to): (&str, &str),
        mut each: impl FnMut(MiningEvent),
    ) -> Result<()> {
        let col = by.column();
        let key = key_text(by, &format!("e.{col}"));
        if touchpoints.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "SELECT {key} AS k, e.customer_id, e.occurred_at, e.touchpoint_id, e.channel, e.unit_id, e.partner_id \
             FROM encounters e \
             WHERE e.workspace_id = $1 AND e.occurred_at >= $2 AND e.occurred_at < $3 \
               AND e.{col} IN (SELECT DISTINCT j.{col} FROM encounters j \
                   WHERE j.workspace_id = $1 AND j.touchpoint_id IN ({tps}) \
                     AND j.occurred_at >= $2 AND j.occurred_at < $3 AND j.{col} IS NOT NULL) \
             ORDER BY e.{col}, e.occurred_at, e.id",
            tps = crate::encounters::placeholders(4, touchpoints.len()),
        );
        let mut q = sqlx::query(&sql).bind(ws).bind(from).bind(to);
        for t in touchpoints {
            q = q.bind(*t);
        }
        let mut rows = q.fetch(self.pool());
        while let Some(r) = rows.try_next().await? {
            each(event_at(&r, 0)?);
        }
        Ok(())
    }

    /// The counted answers created in `[from, to)` of the customers or cases that
    /// [`Store::mining_events`] reads for the same journey and period (a response
    /// names its customer by an identifier the customer has: `kind:value`, or for
    /// kind `ref` the bare value), ordered by key, then time.
    pub async fn mining_answers(
        &self,
        ws: Id,
        touchpoints: &[Id],
        by: InstanceKey,
        (events_from, events_to): (&str, &str),
        (from, to): (&str, &str),
    ) -> Result<Vec<MiningAnswer>> {
        let col = by.column();
        if touchpoints.is_empty() {
            return Ok(vec![]);
        }
        let keys = format!(
            "SELECT DISTINCT j.{col} FROM encounters j WHERE j.workspace_id = $1 AND j.touchpoint_id IN ({tps}) \
             AND j.occurred_at >= $2 AND j.occurred_at < $3 AND j.{col} IS NOT NULL",
            tps = crate::encounters::placeholders(6, touchpoints.len()),
        );
        let sql = match by {
            InstanceKey::Case => format!(
                "SELECT r.case_ref, r.created_at, r.nps, r.csat, r.ces FROM responses r \
                 WHERE r.workspace_id = $1 AND r.case_ref IN ({keys}) \
                   AND r.created_at >= $4 AND r.created_at < $5 AND r.complete = 1 AND r.suspect IS NULL \
                 ORDER BY r.case_ref, r.created_at, r.id"
            ),
            InstanceKey::Customer => format!(
                "SELECT CAST(ci.customer_id AS TEXT), r.created_at, r.nps, r.csat, r.ces \
                 FROM responses r JOIN customer_identifiers ci ON ci.workspace_id = r.workspace_id \
                   AND (ci.ident = r.customer_ref OR ci.ident = 'ref:' || r.customer_ref) \
                 WHERE r.workspace_id = $1 AND r.customer_ref IS NOT NULL AND ci.customer_id IN ({keys}) \
                   AND r.created_at >= $4 AND r.created_at < $5 AND r.complete = 1 AND r.suspect IS NULL \
                 ORDER BY ci.customer_id, r.created_at, r.id"
            ),
        };
        let mut q = sqlx::query(&sql)
            .bind(ws)
            .bind(events_from)
            .bind(events_to)
            .bind(from)
            .bind(to);
        for t in touchpoints {
            q = q.bind(*t);
        }
        q.fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                Ok(MiningAnswer {
                    key: r.try_get(0)?,
                    created_at: r.try_get(1)?,
                    nps: r.try_get(2)?,
                    csat: r.try_get(3)?,
                    ces: r.try_get(4)?,
                })
            })
            .collect()
    }
}
