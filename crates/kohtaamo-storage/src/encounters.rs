//! The encounter log on disk: customers and their identifiers, links between
//! customers, encounters (with the names of their touchpoint and owner as they were),
//! frontline captures, capture themes and the workspace's own encounter kinds. One SQL
//! code path for both backends. Indexes make one customer's, one case's, one
//! touchpoint's and one unit's encounters each a range scan (migration 0009).

use std::collections::{BTreeMap, HashMap, HashSet};

use kohtaamo_domain::model::Owner;
use kohtaamo_domain::text::Texts;
use kohtaamo_domain::Id;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use utoipa::ToSchema;

use crate::entity::{bind, Val};
use crate::{now_text, Result, Store, StoreError, Tx};

/// A capture's details, beside its encounter.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCapture {
    pub words: &'static str,
    pub theme_id: Option<Id>,
    pub feeling: i64,
    pub needs_follow_up: bool,
    pub promise: Option<String>,
    pub promise_due: Option<String>,
    /// The follow-up it opens (marked "needs follow-up"), stored with it.
    pub follow_up: Option<crate::followups::NewFollowUp>,
}

/// An encounter resolved against the model, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEncounter {
    pub client_id: String,
    /// RFC 3339 UTC, `…Z`, so text order is time order.
    pub occurred_at: String,
    pub touchpoint_id: Option<Id>,
    pub touchpoint_name: Option<Texts>,
    pub stage_id: Option<Id>,
    pub journey_id: Option<Id>,
    pub channel: String,
    pub owner: Option<Owner>,
    pub owner_name: Option<Texts>,
    /// The customer's stored identifier (`kind:value` or `kind:#pseudonym`).
    pub customer: Option<String>,
    pub case_ref: Option<String>,
    pub kind: String,
    pub text: Option<String>,
    pub attributes: BTreeMap<String, String>,
    pub source: &'static str,
    /// Who recorded it: `user:<name>`, `token:<name>`, `rule:<name>`, `system`.
    pub recorded_by: String,
    pub capture: Option<NewCapture>,
}

/// What became of one encounter of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Recorded {
    pub id: Id,
    /// False when an encounter with this client id was already stored (a retry).
    pub created: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Capture {
    /// `quote` or `interpretation`.
    pub words: String,
    pub theme_id: Option<Id>,
    pub feeling: i64,
    pub needs_follow_up: bool,
    pub promise: Option<String>,
    pub promise_due: Option<String>,
}

/// A stored encounter.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Encounter {
    pub id: Id,
    pub client_id: String,
    pub at: String,
    pub touchpoint_id: Option<Id>,
    /// The touchpoint's name when the encounter was recorded.
    pub touchpoint_name: Option<Texts>,
    pub stage_id: Option<Id>,
    pub journey_id: Option<Id>,
    pub channel: String,
    pub owner: Option<Owner>,
    /// The owner's name when the encounter was recorded.
    pub owner_name: Option<Texts>,
    pub customer_id: Option<Id>,
    pub case_ref: Option<String>,
    pub kind: String,
    pub text: Option<String>,
    pub attributes: BTreeMap<String, String>,
    pub source: String,
    pub recorded_by: String,
    pub created_at: String,
    pub capture: Option<Capture>,
}

/// Which encounters to list; every field narrows.
#[derive(Debug, Clone, Default)]
pub struct EncounterFilter {
    pub customers: Option<Vec<Id>>,
    pub case_ref: Option<String>,
    pub touchpoint_id: Option<Id>,
    pub journey_id: Option<Id>,
    pub unit_id: Option<Id>,
    pub partner_id: Option<Id>,
    pub kind: Option<String>,
    pub source: Option<String>,
    /// `occurred_at >= from` (RFC 3339 text or a day).
    pub from: Option<String>,
    /// `occurred_at < to`.
    pub to: Option<String>,
    /// Only captures.
    pub captures_only: bool,
    /// Newest first from this (at, id), exclusive (the next page's cursor).
    pub before: Option<(String, Id)>,
    pub limit: i64,
}

/// A link between two customers found to be one person.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CustomerLink {
    pub id: Id,
    pub customer_a: Id,
    pub customer_b: Id,
    pub reason: String,
    pub linked_by: String,
    pub linked_at: String,
    pub unlinked_by: Option<String>,
    pub unlinked_at: Option<String>,
}

/// A theme of frontline captures.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CaptureTheme {
    pub id: Id,
    pub slug: String,
    pub name: Texts,
    /// `accepted` (on the list) or `proposed` (waiting for an editor).
    pub status: String,
    pub proposed_by: Option<String>,
    pub captures: i64,
}

const ENCOUNTER_COLS: usize = 19;
const SELECT: &str = "SELECT e.id, e.client_id, e.occurred_at, e.touchpoint_id, e.touchpoint_name, e.stage_id, e.journey_id, e.channel, e.unit_id, e.partner_id, e.owner_name, e.customer_id, e.case_ref, e.kind, e.text, e.attributes, e.source, e.recorded_by, e.created_at, c.words, c.theme_id, c.feeling, c.needs_follow_up, c.promise, c.promise_due FROM encounters e LEFT JOIN captures c ON c.encounter_id = e.id";

fn texts(v: Option<String>) -> Option<Texts> {
    v.and_then(|s| Texts::from_json(&s).ok())
}

fn encounter_from_row(r: &AnyRow) -> std::result::Result<Encounter, sqlx::Error> {
    let unit: Option<Id> = r.try_get(8)?;
    let partner: Option<Id> = r.try_get(9)?;
    let words: Option<String> = r.try_get(19)?;
    Ok(Encounter {
        id: r.try_get(0)?,
        client_id: r.try_get(1)?,
        at: r.try_get(2)?,
        touchpoint_id: r.try_get(3)?,
        touchpoint_name: texts(r.try_get(4)?),
        stage_id: r.try_get(5)?,
        journey_id: r.try_get(6)?,
        channel: r.try_get(7)?,
        owner: unit.map(Owner::Unit).or(partner.map(Owner::Partner)),
        owner_name: texts(r.try_get(10)?),
        customer_id: r.try_get(11)?,
        case_ref: r.try_get(12)?,
        kind: r.try_get(13)?,
        text: r.try_get(14)?,
        attributes: serde_json::from_str(&r.try_get::<String, _>(15)?).unwrap_or_default(),
        source: r.try_get(16)?,
        recorded_by: r.try_get(17)?,
        created_at: r.try_get(18)?,
        capture: match words {
            Some(words) => Some(Capture {
                words,
                theme_id: r.try_get(20)?,
                feeling: r.try_get(21)?,
                needs_follow_up: r.try_get::<i64, _>(22)? != 0,
                promise: r.try_get(23)?,
                promise_due: r.try_get(24)?,
            }),
            None => None,
        },
    })
}

fn link_from_row(r: &AnyRow) -> std::result::Result<CustomerLink, sqlx::Error> {
    Ok(CustomerLink {
        id: r.try_get(0)?,
        customer_a: r.try_get(1)?,
        customer_b: r.try_get(2)?,
        reason: r.try_get(3)?,
        linked_by: r.try_get(4)?,
        linked_at: r.try_get(5)?,
        unlinked_by: r.try_get(6)?,
        unlinked_at: r.try_get(7)?,
    })
}

/// `$from, $from+1, …` for `n` values (every statement with a list of values binds
/// them this way).
pub(crate) fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|k| format!("${k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// Stores a batch of encounters in one transaction: every customer identifier is
    /// found or created, every encounter whose client id is new is inserted (a retry
    /// stores nothing twice), captures beside their encounters. One outcome per
    /// encounter, in order. While the instance's ingest writer runs (a server), the
    /// batch goes through it and shares its commit with whatever else is queued
    /// (group commit) — on PostgreSQL only batches of up to 64; otherwise it is
    /// written directly.
    pub async fn record_encounters(&self, ws: Id, rows: &[NewEncounter]) -> Result<Vec<Recorded>> {
        // PostgreSQL takes many writers at once: a large batch amortises its own commit
        // and runs beside others (through the one writer, batches ran at half the
        // rate); small ones share the writer's commits. SQLite has one writer anyway.
        let shared = self.sqlite_file().is_some() || rows.len() <= GROUP_COMMIT_ROWS;
        match self.running_writer().filter(|_| shared) {
            Some(queue) => crate::feedback::queue_encounters(&queue, ws, rows.to_vec()).await,
            None => self.record_encounters_directly(ws, rows).await,
        }
    }

    /// [`Store::record_encounters`] in a transaction of its own, outside the writer.
    async fn record_encounters_directly(
        &self,
        ws: Id,
        rows: &[NewEncounter],
    ) -> Result<Vec<Recorded>> {
        if self.sqlite_file().is_some() {
            // SQLite: rusqlite with cached one-row statements, as the ingest writer
            // does — sqlx's SQLite driver slows down with the number of parameters of
            // a statement (a 500-row insert ran at ~2,700 rows/s), rusqlite does not.
            let rows = rows.to_vec();
            return self
                .with_bulk_connection(move |conn| {
                    let tx =
                        conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                    let out = sqlite_record(&tx, ws, &rows)?;
                    tx.commit()?;
                    Ok(out)
                })
                .await;
        }
        let (_gate, mut tx) = self.write().await?;
        let r = record_in(&mut tx, ws, rows).await;
        self.finish(tx, r).await
    }

    /// Encounters matching `f`, newest first, at most `f.limit`.
    pub async fn encounters(&self, ws: Id, f: &EncounterFilter) -> Result<Vec<Encounter>> {
        let mut vals: Vec<Val> = vec![ws.into()];
        let mut sql = format!("{SELECT} WHERE e.workspace_id = $1");
        let cond = |sql: &mut String, vals: &mut Vec<Val>, c: &str, v: Val| {
            vals.push(v);
            sql.push_str(&format!(
                " AND {}",
                c.replace('?', &format!("${}", vals.len()))
            ));
        };
        if let Some(cs) = &f.customers {
            if cs.is_empty() {
                return Ok(vec![]);
            }
            let start = vals.len() + 1;
            vals.extend(cs.iter().map(|c| Val::from(*c)));
            sql.push_str(&format!(
                " AND e.customer_id IN ({})",
                placeholders(start, cs.len())
            ));
        }
        if let Some(v) = &f.case_ref {
            cond(&mut sql, &mut vals, "e.case_ref = ?", v.clone().into());
        }
        if let Some(v) = f.touchpoint_id {
            cond(&mut sql, &mut vals, "e.touchpoint_id = ?", v.into());
        }
        if let Some(v) = f.journey_id {
            cond(&mut sql, &mut vals, "e.journey_id = ?", v.into());
        }
        if let Some(v) = f.unit_id {
            cond(&mut sql, &mut vals, "e.unit_id = ?", v.into());
        }
        if let Some(v) = f.partner_id {
            cond(&mut sql, &mut vals, "e.partner_id = ?", v.into());
        }
        if let Some(v) = &f.kind {
            cond(&mut sql, &mut vals, "e.kind = ?", v.clone().into());
        }
        if let Some(v) = &f.source {
            cond(&mut sql, &mut vals, "e.source = ?", v.clone().into());
        }
        if let Some(v) = &f.from {
            cond(&mut sql, &mut vals, "e.occurred_at >= ?", v.clone().into());
        }
        if let Some(v) = &f.to {
            cond(&mut sql, &mut vals, "e.occurred_at < ?", v.clone().into());
        }
        if f.captures_only {
            sql.push_str(" AND c.encounter_id IS NOT NULL");
        }
        if let Some((at, id)) = &f.before {
            vals.push(at.clone().into());
            vals.push(at.clone().into());
            vals.push((*id).into());
            let n = vals.len();
            sql.push_str(&format!(
                " AND (e.occurred_at < ${} OR (e.occurred_at = ${} AND e.id < ${}))",
                n - 2,
                n - 1,
                n
            ));
        }
        vals.push(f.limit.clamp(1, 1000).into());
        // For a list of customers, SQLite's planner (without statistics) would walk
        // the time index of the whole workspace to avoid a sort; an expression it
        // cannot read from an index makes it use the customer index and sort the few
        // rows found. (PostgreSQL plans by its statistics either way.)
        let order = if f.customers.is_some() {
            "e.occurred_at || ''"
        } else {
            "e.occurred_at"
        };
        sql.push_str(&format!(
            " ORDER BY {order} DESC, e.id DESC LIMIT ${}",
            vals.len()
        ));
        let rows = bind(sqlx::query(&sql), vals).fetch_all(self.pool()).await?;
        rows.iter()
            .map(encounter_from_row)
            .collect::<std::result::Result<_, _>>()
            .map_err(StoreError::from)
    }

    pub async fn encounter(&self, ws: Id, id: Id) -> Result<Encounter> {
        let row = sqlx::query(&format!("{SELECT} WHERE e.workspace_id = $1 AND e.id = $2"))
            .bind(ws)
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(encounter_from_row(&row)?)
    }

    /// Responses that name one of these customer references or this case, oldest
    /// first, at most `limit` (the most recent ones).
    pub async fn responses_of(
        &self,
        ws: Id,
        refs: &[String],
        case_ref: Option<&str>,
        limit: i64,
    ) -> Result<Vec<crate::feedback::Response>> {
        let mut vals: Vec<Val> = vec![ws.into()];
        let mut any = vec![];
        if !refs.is_empty() {
            any.push(format!("customer_ref IN ({})", placeholders(2, refs.len())));
            vals.extend(refs.iter().map(|r| Val::from(r.clone())));
        }
        if let Some(c) = case_ref {
            vals.push(c.into());
            any.push(format!("case_ref = ${}", vals.len()));
        }
        if any.is_empty() {
            return Ok(vec![]);
        }
        vals.push(limit.clamp(1, 1000).into());
        let sql = format!(
            "{} WHERE workspace_id = $1 AND ({}) ORDER BY created_at DESC, id DESC LIMIT ${}",
            crate::feedback::RESPONSE_SELECT,
            any.join(" OR "),
            vals.len()
        );
        let mut out = bind(sqlx::query(&sql), vals)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(crate::feedback::response_from_row)
            .collect::<std::result::Result<Vec<_>, _>>()?;
        out.reverse();
        Ok(out)
    }

    /// The customer with this stored identifier.
    pub async fn customer_by_ident(&self, ws: Id, ident: &str) -> Result<Option<Id>> {
        Ok(sqlx::query_scalar(
            "SELECT customer_id FROM customer_identifiers WHERE workspace_id = $1 AND ident = $2",
        )
        .bind(ws)
        .bind(ident)
        .fetch_optional(self.pool())
        .await?)
    }

    pub async fn customer_exists(&self, ws: Id, id: Id) -> Result<bool> {
        Ok(sqlx::query_scalar::<_, i64>(
            "SELECT id FROM customers WHERE workspace_id = $1 AND id = $2",
        )
        .bind(ws)
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .is_some())
    }

    /// The customer and every customer linked to it, directly or through others (the
    /// active links only), in id order.
    pub async fn customer_group(&self, ws: Id, customer: Id) -> Result<Vec<Id>> {
        let mut seen: HashSet<Id> = HashSet::from([customer]);
        let mut frontier = vec![customer];
        // Bounded: each round adds at least one customer or stops.
        while !frontier.is_empty() && seen.len() < 10_000 {
            let sql = format!(
                "SELECT customer_a, customer_b FROM customer_links WHERE workspace_id = $1 AND unlinked_at IS NULL AND (customer_a IN ({0}) OR customer_b IN ({0}))",
                placeholders(2, frontier.len())
            );
            let mut q = sqlx::query(&sql).bind(ws);
            for c in &frontier {
                q = q.bind(*c);
            }
            let mut next = vec![];
            for r in q.fetch_all(self.pool()).await? {
                for c in [r.try_get::<i64, _>(0)?, r.try_get::<i64, _>(1)?] {
                    if seen.insert(c) {
                        next.push(c);
                    }
                }
            }
            frontier = next;
        }
        let mut out: Vec<Id> = seen.into_iter().collect();
        out.sort_unstable();
        Ok(out)
    }

    /// The stored identifiers of these customers: (customer, ident, kind).
    pub async fn customer_identifiers(
        &self,
        ws: Id,
        customers: &[Id],
    ) -> Result<Vec<(Id, String, String)>> {
        if customers.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            // No ORDER BY: asked to sort, SQLite's planner walks the primary key
            // (workspace_id, ident) — every identifier of the workspace — instead of
            // the customer index. The few rows are sorted here.
            "SELECT customer_id, ident, kind FROM customer_identifiers WHERE workspace_id = $1 AND customer_id IN ({})",
            placeholders(2, customers.len())
        );
        let mut q = sqlx::query(&sql).bind(ws);
        for c in customers {
            q = q.bind(*c);
        }
        let mut out = q
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect::<Result<Vec<(Id, String, String)>>>()?;
        out.sort_unstable();
        Ok(out)
    }

    /// Every link that touches one of these customers, active or undone.
    pub async fn customer_links(&self, ws: Id, customers: &[Id]) -> Result<Vec<CustomerLink>> {
        if customers.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT id, customer_a, customer_b, reason, linked_by, linked_at, unlinked_by, unlinked_at FROM customer_links WHERE workspace_id = $1 AND (customer_a IN ({0}) OR customer_b IN ({0})) ORDER BY id",
            placeholders(2, customers.len())
        );
        let mut q = sqlx::query(&sql).bind(ws);
        for c in customers {
            q = q.bind(*c);
        }
        q.fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| Ok(link_from_row(r)?))
            .collect()
    }

    /// Records that two customers are one person. A link that already exists (in
    /// either direction, not undone) is returned as it is.
    pub async fn link_customers(
        &self,
        ws: Id,
        a: Id,
        b: Id,
        reason: &str,
        by: &str,
    ) -> Result<(Id, bool)> {
        let (a, b) = (a.min(b), a.max(b));
        let (_gate, mut tx) = self.write().await?;
        let r = async {
            if let Some(id) = sqlx::query_scalar::<_, i64>(
                "SELECT id FROM customer_links WHERE workspace_id = $1 AND customer_a = $2 AND customer_b = $3 AND unlinked_at IS NULL",
            )
            .bind(ws)
            .bind(a)
            .bind(b)
            .fetch_optional(&mut *tx)
            .await?
            {
                return Ok((id, false));
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO customer_links (workspace_id, customer_a, customer_b, reason, linked_by, linked_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(ws)
            .bind(a)
            .bind(b)
            .bind(reason)
            .bind(by)
            .bind(now_text())
            .fetch_one(&mut *tx)
            .await?;
            Ok((id, true))
        }
        .await;
        self.finish(tx, r).await
    }

    /// Undoes a link (kept, with who undid it and when). Undoing twice changes nothing.
    pub async fn unlink_customers(&self, ws: Id, link: Id, by: &str) -> Result<CustomerLink> {
        let (_gate, mut tx) = self.write().await?;
        let r = sqlx::query(
            "UPDATE customer_links SET unlinked_by = $1, unlinked_at = $2 WHERE workspace_id = $3 AND id = $4 AND unlinked_at IS NULL",
        )
        .bind(by)
        .bind(now_text())
        .bind(ws)
        .bind(link)
        .execute(&mut *tx)
        .await
        .map(|_| ())
        .map_err(StoreError::from);
        self.finish(tx, r).await?;
        let row = sqlx::query(
            "SELECT id, customer_a, customer_b, reason, linked_by, linked_at, unlinked_by, unlinked_at FROM customer_links WHERE workspace_id = $1 AND id = $2",
        )
        .bind(ws)
        .bind(link)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref()
            .map(link_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    /// Encounters per touchpoint on the days `from..=to` (`YYYY-MM-DD`, UTC).
    pub async fn encounter_counts(&self, ws: Id, from: &str, to: &str) -> Result<HashMap<Id, i64>> {
        sqlx::query("SELECT touchpoint_id, CAST(SUM(encounters) AS BIGINT) FROM encounter_rollups WHERE workspace_id = $1 AND day >= $2 AND day <= $3 GROUP BY touchpoint_id")
            .bind(ws)
            .bind(from)
            .bind(to)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Distinct customers with an encounter at each journey stage on the days
    /// `from..=to` (customers linked as one person still count apart here).
    pub async fn stage_customers(&self, ws: Id, from: &str, to: &str) -> Result<HashMap<Id, i64>> {
        let end = chrono::NaiveDate::parse_from_str(to, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.succ_opt())
            .map(|d| d.to_string())
            .unwrap_or_else(|| format!("{to}~"));
        sqlx::query("SELECT stage_id, COUNT(DISTINCT customer_id) FROM encounters WHERE workspace_id = $1 AND stage_id IS NOT NULL AND occurred_at >= $2 AND occurred_at < $3 AND customer_id IS NOT NULL GROUP BY stage_id")
            .bind(ws)
            .bind(from)
            .bind(end)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// The workspace's own encounter kinds: (slug, name).
    pub async fn encounter_kinds(&self, ws: Id) -> Result<Vec<(String, Texts)>> {
        sqlx::query("SELECT slug, name FROM encounter_kinds WHERE workspace_id = $1 ORDER BY slug")
            .bind(ws)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, texts(r.try_get(1)?).unwrap_or_default())))
            .collect()
    }

    pub async fn create_encounter_kind(&self, ws: Id, slug: &str, name: &Texts) -> Result<()> {
        let (_gate, mut tx) = self.write().await?;
        let r = sqlx::query(
            "INSERT INTO encounter_kinds (workspace_id, slug, name) VALUES ($1, $2, $3)",
        )
        .bind(ws)
        .bind(slug)
        .bind(name.to_json())
        .execute(&mut *tx)
        .await
        .map(|_| ())
        .map_err(|e| conflict(e, "a kind with this slug exists"));
        self.finish(tx, r).await
    }

    /// Capture themes, accepted first, with how many captures each has.
    pub async fn capture_themes(&self, ws: Id) -> Result<Vec<CaptureTheme>> {
        sqlx::query(
            "SELECT t.id, t.slug, t.name, t.status, t.proposed_by, (SELECT COUNT(*) FROM captures c WHERE c.workspace_id = t.workspace_id AND c.theme_id = t.id) FROM capture_themes t WHERE t.workspace_id = $1 ORDER BY t.status, t.slug",
        )
        .bind(ws)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(CaptureTheme {
                id: r.try_get(0)?,
                slug: r.try_get(1)?,
                name: texts(r.try_get(2)?).unwrap_or_default(),
                status: r.try_get(3)?,
                proposed_by: r.try_get(4)?,
                captures: r.try_get(5)?,
            })
        })
        .collect()
    }

    pub async fn create_capture_theme(
        &self,
        ws: Id,
        slug: &str,
        name: &Texts,
        proposed_by: Option<&str>,
    ) -> Result<Id> {
        let (_gate, mut tx) = self.write().await?;
        let r = sqlx::query_scalar(
            "INSERT INTO capture_themes (workspace_id, slug, name, status, proposed_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(ws)
        .bind(slug)
        .bind(name.to_json())
        .bind(if proposed_by.is_some() { "proposed" } else { "accepted" })
        .bind(proposed_by)
        .bind(now_text())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| conflict(e, "a theme with this slug exists"));
        self.finish(tx, r).await
    }

    /// Puts a proposed theme on the list.
    /// Puts a theme on the list, renamed to `name` when one is given.
    pub async fn accept_capture_theme(&self, ws: Id, id: Id, name: Option<&Texts>) -> Result<()> {
        let (_gate, mut tx) = self.write().await?;
        let r = sqlx::query(
            "UPDATE capture_themes SET status = 'accepted', name = COALESCE($3, name) WHERE workspace_id = $1 AND id = $2",
        )
        .bind(ws)
        .bind(id)
        .bind(name.map(Texts::to_json))
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)
        .and_then(|d| {
            if d.rows_affected() == 0 {
                Err(StoreError::NotFound)
            } else {
                Ok(())
            }
        });
        self.finish(tx, r).await
    }

    /// Merges theme `from` into `into`: its captures move, it goes. Both in one
    /// transaction, so no capture is ever without its theme.
    pub async fn merge_capture_theme(&self, ws: Id, from: Id, into: Id) -> Result<i64> {
        let (_gate, mut tx) = self.write().await?;
        let r = async {
            let found: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM capture_themes WHERE workspace_id = $1 AND id IN ($2, $3)",
            )
            .bind(ws)
            .bind(from)
            .bind(into)
            .fetch_one(&mut *tx)
            .await?;
            if found != 2 || from == into {
                return Err(StoreError::NotFound);
            }
            let moved = sqlx::query(
                "UPDATE captures SET theme_id = $1 WHERE workspace_id = $2 AND theme_id = $3",
            )
            .bind(into)
            .bind(ws)
            .bind(from)
            .execute(&mut *tx)
            .await?
            .rows_affected() as i64;
            sqlx::query("DELETE FROM capture_themes WHERE workspace_id = $1 AND id = $2")
                .bind(ws)
                .bind(from)
                .execute(&mut *tx)
                .await?;
            Ok(moved)
        }
        .await;
        self.finish(tx, r).await
    }
}

fn conflict(e: sqlx::Error, what: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(what.into()),
        _ => StoreError::from(e),
    }
}

/// Batches of at most this many encounters go through the group-commit writer on
/// PostgreSQL; larger ones are written in a transaction of their own.
const GROUP_COMMIT_ROWS: usize = 64;

/// Identifiers per look-up or insert statement.
const CHUNK: usize = 100;
/// Encounters per multi-row insert on the sqlx path (PostgreSQL; SQLite files go
/// through rusqlite). 250 rows × 19 values stays under PostgreSQL's 65,535 parameters;
/// sqlx's SQLite driver, by contrast, ran 500-row statements ~10× slower per row.
const INSERT_CHUNK: usize = 250;

pub(crate) async fn record_in(tx: &mut Tx, ws: Id, rows: &[NewEncounter]) -> Result<Vec<Recorded>> {
    let now = now_text();
    let customers = resolve_customers(tx, ws, rows, &now).await?;
    // Insert in client-id order, whatever order they came in, so two instances writing
    // overlapping batches lock rows in one direction and cannot deadlock.
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| rows[a].client_id.cmp(&rows[b].client_id));
    order.dedup_by(|a, b| rows[*a].client_id == rows[*b].client_id);
    let mut created: HashMap<String, Id> = HashMap::new();
    for chunk in order.chunks(INSERT_CHUNK) {
        let mut sql = String::from("INSERT INTO encounters (workspace_id, client_id, occurred_at, touchpoint_id, touchpoint_name, stage_id, journey_id, channel, unit_id, partner_id, owner_name, customer_id, case_ref, kind, text, attributes, source, recorded_by, created_at) VALUES ");
        let mut vals: Vec<Val> = Vec::with_capacity(chunk.len() * ENCOUNTER_COLS);
        for (k, &i) in chunk.iter().enumerate() {
            let r = &rows[i];
            if k > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            sql.push_str(&placeholders(k * ENCOUNTER_COLS + 1, ENCOUNTER_COLS));
            sql.push(')');
            let (unit, partner) = match r.owner {
                Some(Owner::Unit(u)) => (Some(u), None),
                Some(Owner::Partner(p)) => (None, Some(p)),
                None => (None, None),
            };
            vals.extend([
                Val::from(ws),
                r.client_id.clone().into(),
                r.occurred_at.clone().into(),
                r.touchpoint_id.into(),
                r.touchpoint_name.as_ref().map(Texts::to_json).into(),
                r.stage_id.into(),
                r.journey_id.into(),
                r.channel.clone().into(),
                unit.into(),
                partner.into(),
                r.owner_name.as_ref().map(Texts::to_json).into(),
                r.customer
                    .as_ref()
                    .and_then(|c| customers.get(c).copied())
                    .into(),
                r.case_ref.clone().into(),
                r.kind.clone().into(),
                r.text.clone().into(),
                serde_json::to_string(&r.attributes)
                    .unwrap_or_else(|_| "{}".into())
                    .into(),
                r.source.into(),
                r.recorded_by.clone().into(),
                now.clone().into(),
            ]);
        }
        sql.push_str(" ON CONFLICT (workspace_id, client_id) DO NOTHING RETURNING id, client_id");
        for row in bind(sqlx::query(&sql), vals).fetch_all(&mut **tx).await? {
            created.insert(row.try_get(1)?, row.try_get(0)?);
        }
    }
    // The ids of those stored before (retries).
    let missing: Vec<&str> = order
        .iter()
        .map(|&i| rows[i].client_id.as_str())
        .filter(|c| !created.contains_key(*c))
        .collect();
    let mut existing: HashMap<String, Id> = HashMap::new();
    for chunk in missing.chunks(CHUNK) {
        let sql = format!(
            "SELECT client_id, id FROM encounters WHERE workspace_id = $1 AND client_id IN ({})",
            placeholders(2, chunk.len())
        );
        let mut q = sqlx::query(&sql).bind(ws);
        for c in chunk {
            q = q.bind(*c);
        }
        for row in q.fetch_all(&mut **tx).await? {
            existing.insert(row.try_get(0)?, row.try_get(1)?);
        }
    }
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let rec = match (created.get(&r.client_id), existing.get(&r.client_id)) {
            (Some(id), _) => Recorded {
                id: *id,
                created: true,
            },
            (None, Some(id)) => Recorded {
                id: *id,
                created: false,
            },
            (None, None) => {
                return Err(StoreError::Conflict(
                    "encounter vanished while being written".into(),
                ))
            }
        };
        out.push(rec);
    }
    // Captures of the encounters this batch created (once each: a duplicate client id
    // in one batch is refused before it gets here).
    for (r, rec) in rows.iter().zip(&out) {
        if let (Some(c), true) = (&r.capture, rec.created) {
            sqlx::query("INSERT INTO captures (encounter_id, workspace_id, words, theme_id, feeling, needs_follow_up, promise, promise_due) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(rec.id)
                .bind(ws)
                .bind(c.words)
                .bind(c.theme_id)
                .bind(c.feeling)
                .bind(c.needs_follow_up as i64)
                .bind(&c.promise)
                .bind(&c.promise_due)
                .execute(&mut **tx)
                .await?;
            if let Some(f) = &c.follow_up {
                crate::entity::bind(
                    sqlx::query(crate::followups::INSERT_SQL),
                    capture_follow_up(ws, rec.id, r, f),
                )
                .execute(&mut **tx)
                .await?;
            }
        }
    }
    // Many (touchpoint, day) keys in a batch of history: a few multi-row upserts, not a
    // round trip per key (the keys of one statement are distinct, as PostgreSQL needs).
    let deltas: Vec<((Id, String), i64)> = rollup_deltas(rows, &out).into_iter().collect();
    for chunk in deltas.chunks(INSERT_CHUNK) {
        let sql = format!(
            "INSERT INTO encounter_rollups (workspace_id, touchpoint_id, day, encounters) VALUES {} ON CONFLICT (workspace_id, touchpoint_id, day) DO UPDATE SET encounters = encounter_rollups.encounters + excluded.encounters",
            (0..chunk.len())
                .map(|k| format!("($1, ${}, ${}, ${})", 3 * k + 2, 3 * k + 3, 3 * k + 4))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut q = sqlx::query(&sql).bind(ws);
        for ((tp, day), n) in chunk {
            q = q.bind(*tp).bind(day.as_str()).bind(*n);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(out)
}

const INSERT_ONE: &str = "INSERT INTO encounters (workspace_id, client_id, occurred_at, touchpoint_id, touchpoint_name, stage_id, journey_id, channel, unit_id, partner_id, owner_name, customer_id, case_ref, kind, text, attributes, source, recorded_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) ON CONFLICT (workspace_id, client_id) DO NOTHING";
const CAPTURE_ONE: &str = "INSERT INTO captures (encounter_id, workspace_id, words, theme_id, feeling, needs_follow_up, promise, promise_due) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// The SQLite path of [`Store::record_encounters`]: the same SQL one row at a time
/// through cached statements, inside the caller's transaction `tx`.
pub(crate) fn sqlite_record(
    tx: &rusqlite::Connection,
    ws: Id,
    rows: &[NewEncounter],
) -> rusqlite::Result<Vec<Recorded>> {
    use rusqlite::{params, OptionalExtension};
    let now = now_text();
    let mut customers: HashMap<String, Id> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    {
        let mut find = tx.prepare_cached(
            "SELECT customer_id FROM customer_identifiers WHERE workspace_id = $1 AND ident = $2",
        )?;
        let mut new_customer = tx.prepare_cached(
            "INSERT INTO customers (workspace_id, created_at, origin) VALUES ($1, $2, $3)",
        )?;
        let mut new_ident = tx.prepare_cached(
            "INSERT INTO customer_identifiers (workspace_id, ident, kind, customer_id, created_at) VALUES ($1, $2, $3, $4, $5)",
        )?;
        let mut insert = tx.prepare_cached(INSERT_ONE)?;
        let mut existing = tx.prepare_cached(
            "SELECT id FROM encounters WHERE workspace_id = $1 AND client_id = $2",
        )?;
        let mut capture = tx.prepare_cached(CAPTURE_ONE)?;
        for r in rows {
            let customer = match &r.customer {
                None => None,
                Some(ident) => match customers.get(ident) {
                    Some(id) => Some(*id),
                    None => {
                        // One writer at a time on SQLite (the write gate): no race here.
                        let id = match find
                            .query_row(params![ws, ident], |row| row.get::<_, i64>(0))
                            .optional()?
                        {
                            Some(id) => id,
                            None => {
                                new_customer.execute(params![ws, now, ident])?;
                                let id = tx.last_insert_rowid();
                                new_ident.execute(params![
                                    ws,
                                    ident,
                                    ident.split(':').next().unwrap_or("ref"),
                                    id,
                                    now
                                ])?;
                                id
                            }
                        };
                        customers.insert(ident.clone(), id);
                        Some(id)
                    }
                },
            };
            let (unit, partner) = match r.owner {
                Some(Owner::Unit(u)) => (Some(u), None),
                Some(Owner::Partner(p)) => (None, Some(p)),
                None => (None, None),
            };
            let attributes = serde_json::to_string(&r.attributes).unwrap_or_else(|_| "{}".into());
            // No RETURNING here: SQLite runs a statement with RETURNING through a
            // temporary table, which halved the rate of these one-row inserts.
            let inserted = insert.execute(params![
                ws,
                r.client_id,
                r.occurred_at,
                r.touchpoint_id,
                r.touchpoint_name.as_ref().map(Texts::to_json),
                r.stage_id,
                r.journey_id,
                r.channel,
                unit,
                partner,
                r.owner_name.as_ref().map(Texts::to_json),
                customer,
                r.case_ref,
                r.kind,
                r.text,
                attributes,
                r.source,
                r.recorded_by,
                now
            ])?;
            let rec = match inserted {
                1 => {
                    let id = tx.last_insert_rowid();
                    if let Some(c) = &r.capture {
                        capture.execute(params![
                            id,
                            ws,
                            c.words,
                            c.theme_id,
                            c.feeling,
                            c.needs_follow_up as i64,
                            c.promise,
                            c.promise_due
                        ])?;
                        if let Some(f) = &c.follow_up {
                            tx.prepare_cached(crate::followups::INSERT_SQL)?.execute(
                                rusqlite::params_from_iter(
                                    capture_follow_up(ws, id, r, f)
                                        .into_iter()
                                        .map(crate::feedback::to_sql),
                                ),
                            )?;
                        }
                    }
                    Recorded { id, created: true }
                }
                _ => Recorded {
                    id: existing.query_row(params![ws, r.client_id], |row| row.get(0))?,
                    created: false,
                },
            };
            out.push(rec);
        }
    }
    let mut upsert = tx.prepare_cached(ROLLUP_UPSERT)?;
    for ((tp, day), n) in rollup_deltas(rows, &out) {
        upsert.execute(params![ws, tp, day, n])?;
    }
    Ok(out)
}

/// The values of the follow-up a capture opens, its clocks starting when the
/// encounter happened.
fn capture_follow_up(
    ws: Id,
    encounter: Id,
    r: &NewEncounter,
    f: &crate::followups::NewFollowUp,
) -> Vec<crate::entity::Val> {
    crate::followups::insert_values(
        ws,
        crate::followups::Origin::Capture { encounter },
        f,
        &r.occurred_at,
    )
}

const ROLLUP_UPSERT: &str = "INSERT INTO encounter_rollups (workspace_id, touchpoint_id, day, encounters) VALUES ($1, $2, $3, $4) ON CONFLICT (workspace_id, touchpoint_id, day) DO UPDATE SET encounters = encounter_rollups.encounters + excluded.encounters";

/// The encounters a batch created, per touchpoint and day, in key order (a fixed lock
/// order for concurrent writers).
fn rollup_deltas(rows: &[NewEncounter], out: &[Recorded]) -> BTreeMap<(Id, String), i64> {
    let mut m: BTreeMap<(Id, String), i64> = BTreeMap::new();
    for (r, rec) in rows.iter().zip(out) {
        if let (Some(tp), true) = (r.touchpoint_id, rec.created) {
            let day = r.occurred_at.get(..10).unwrap_or_default().to_owned();
            *m.entry((tp, day)).or_default() += 1;
        }
    }
    m
}

/// Finds the customer of every identifier in the batch, creating those not seen yet.
async fn resolve_customers(
    tx: &mut Tx,
    ws: Id,
    rows: &[NewEncounter],
    now: &str,
) -> Result<HashMap<String, Id>> {
    let mut idents: Vec<&str> = rows.iter().filter_map(|r| r.customer.as_deref()).collect();
    idents.sort_unstable();
    idents.dedup();
    let mut found: HashMap<String, Id> = HashMap::new();
    for chunk in idents.chunks(CHUNK) {
        let sql = format!(
            "SELECT ident, customer_id FROM customer_identifiers WHERE workspace_id = $1 AND ident IN ({})",
            placeholders(2, chunk.len())
        );
        let mut q = sqlx::query(&sql).bind(ws);
        for c in chunk {
            q = q.bind(*c);
        }
        for row in q.fetch_all(&mut **tx).await? {
            found.insert(row.try_get(0)?, row.try_get(1)?);
        }
    }
    let missing: Vec<&str> = idents
        .into_iter()
        .filter(|i| !found.contains_key(*i))
        .collect();
    // New customers in a few multi-row statements: customers (each with the identifier
    // it came with as `origin`), then their identifiers. An identifier another
    // instance created meanwhile keeps its customer; ours is removed.
    for chunk in missing.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO customers (workspace_id, created_at, origin) VALUES {} RETURNING id, origin",
            (0..chunk.len())
                .map(|k| format!("($1, $2, ${})", k + 3))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut q = sqlx::query(&sql).bind(ws).bind(now);
        for c in chunk {
            q = q.bind(*c);
        }
        let mut fresh: HashMap<String, Id> = HashMap::new();
        for row in q.fetch_all(&mut **tx).await? {
            fresh.insert(row.try_get(1)?, row.try_get(0)?);
        }
        let sql = format!(
            "INSERT INTO customer_identifiers (workspace_id, ident, kind, customer_id, created_at) VALUES {} ON CONFLICT (workspace_id, ident) DO NOTHING RETURNING ident",
            (0..chunk.len())
                .map(|k| format!("($1, ${}, ${}, ${}, $2)", 3 * k + 3, 3 * k + 4, 3 * k + 5))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut q = sqlx::query(&sql).bind(ws).bind(now);
        for c in chunk {
            q = q
                .bind(*c)
                .bind(c.split(':').next().unwrap_or("ref"))
                .bind(fresh.get(*c).copied());
        }
        let won: HashSet<String> = q
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<std::result::Result<_, _>>()?;
        for c in chunk {
            let ours = fresh.get(*c).copied();
            if won.contains(*c) {
                if let Some(id) = ours {
                    found.insert((*c).to_owned(), id);
                }
                continue;
            }
            if let Some(id) = ours {
                sqlx::query("DELETE FROM customers WHERE id = $1")
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
            }
            let id: Id = sqlx::query_scalar(
                "SELECT customer_id FROM customer_identifiers WHERE workspace_id = $1 AND ident = $2",
            )
            .bind(ws)
            .bind(*c)
            .fetch_one(&mut **tx)
            .await?;
            found.insert((*c).to_owned(), id);
        }
    }
    Ok(found)
}
