//! Cases as stored: a journey's customer-facing steps (replaced as a whole), cases
//! (idempotent by the sender's id), their status changes (idempotent by status and
//! time; each recorded as an encounter in the same transaction) and the capability
//! links to their status pages (only a hash of the token is kept).

use kohtaamo_domain::cases::Step;
use kohtaamo_domain::Id;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::encounters::NewEncounter;
use crate::entity::decode_err;
use crate::{now_text, Result, Store, StoreError};

/// A case to create (the application layer has validated it and chosen its
/// reference).
#[derive(Debug, Clone)]
pub struct NewCase {
    pub client_id: String,
    pub reference: String,
    pub journey_id: Id,
    /// The stored identifier (`kind:value` or `kind:#pseudonym`).
    pub customer: Option<String>,
    pub unit_id: Option<Id>,
    pub language: Option<String>,
    pub title: Option<String>,
    pub status: String,
    /// When it was opened (RFC 3339 UTC).
    pub at: String,
    pub ask: Option<String>,
    pub ask_due: Option<String>,
    /// The keyed hash of the customer's second factor (see the application layer).
    pub verifier_hash: Option<String>,
    pub created_by: String,
}

/// A case as stored and listed.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Case {
    pub id: Id,
    /// The sender's id.
    pub client_id: String,
    /// What the customer reads aloud (stored without the dash: `K7MP4XRT`).
    pub reference: String,
    pub journey_id: Id,
    /// The customer's stored identifier (personal kinds as a pseudonym).
    pub customer: Option<String>,
    pub unit_id: Option<Id>,
    /// The customer's language (fi, en, sv); none: the workspace's.
    pub language: Option<String>,
    pub title: Option<String>,
    /// The latest internal status, and when it was reached.
    pub status: String,
    pub status_at: String,
    /// What is needed from the customer now, and by when (YYYY-MM-DD).
    pub ask: Option<String>,
    pub ask_due: Option<String>,
    /// Whether the customer can look the case up with a second factor.
    pub has_verifier: bool,
    #[serde(skip)]
    pub verifier_hash: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
}

/// A status change to record.
#[derive(Debug, Clone)]
pub struct NewChange {
    pub status: String,
    /// When it happened (RFC 3339 UTC).
    pub at: String,
    pub note: Option<String>,
    pub ask: Option<String>,
    pub ask_due: Option<String>,
    pub recorded_by: String,
}

/// A status change as stored.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CaseChange {
    pub id: Id,
    pub status: String,
    /// When it happened.
    pub at: String,
    /// What the organisation wrote to the customer with it.
    pub note: Option<String>,
    pub ask: Option<String>,
    pub ask_due: Option<String>,
    pub recorded_by: String,
    pub recorded_at: String,
}

/// A link to a case's status page (the token itself is never stored).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CaseLink {
    pub id: Id,
    pub expires_at: String,
    pub revoked_at: Option<String>,
    pub created_by: String,
    pub created_at: String,
}

/// Which cases to list.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub journey_id: Option<Id>,
    pub status: Option<String>,
    pub customers: Option<Vec<String>>,
    pub unit_id: Option<Id>,
    /// Only those with an id below this (the next page).
    pub before: Option<Id>,
    pub limit: i64,
}

const COLUMNS: &str = "id, client_id, reference, journey_id, customer, unit_id, language, title, status, status_at, ask, ask_due, verifier_hash, created_by, created_at, updated_at";

fn case(r: &AnyRow) -> std::result::Result<Case, sqlx::Error> {
    Ok(Case {
        id: r.try_get("id")?,
        client_id: r.try_get("client_id")?,
        reference: r.try_get("reference")?,
        journey_id: r.try_get("journey_id")?,
        customer: r.try_get("customer")?,
        unit_id: r.try_get("unit_id")?,
        language: r.try_get("language")?,
        title: r.try_get("title")?,
        status: r.try_get("status")?,
        status_at: r.try_get("status_at")?,
        ask: r.try_get("ask")?,
        ask_due: r.try_get("ask_due")?,
        has_verifier: r.try_get::<Option<String>, _>("verifier_hash")?.is_some(),
        verifier_hash: r.try_get("verifier_hash")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn change(r: &AnyRow) -> std::result::Result<CaseChange, sqlx::Error> {
    Ok(CaseChange {
        id: r.try_get("id")?,
        status: r.try_get("status")?,
        at: r.try_get("at")?,
        note: r.try_get("note")?,
        ask: r.try_get("ask")?,
        ask_due: r.try_get("ask_due")?,
        recorded_by: r.try_get("recorded_by")?,
        recorded_at: r.try_get("recorded_at")?,
    })
}

/// An e-mail to a case's customer and the status-page link it carries (only the
/// link's token hash is stored).
#[derive(Debug, Clone)]
pub struct Notice {
    pub mail: crate::mail::NewMail,
    pub link_hash: String,
    pub link_expires: String,
    pub by: String,
}

/// Inserts a status-page link (only its token's hash) in an open transaction.
async fn insert_link(
    tx: &mut crate::Tx,
    (ws, case_id): (Id, Id),
    (token_hash, expires_at, by): (&str, &str, &str),
) -> Result<CaseLink> {
    let row = sqlx::query(
        "INSERT INTO case_links (workspace_id, case_id, token_hash, expires_at, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, expires_at, revoked_at, created_by, created_at",
    )
    .bind(ws)
    .bind(case_id)
    .bind(token_hash)
    .bind(expires_at)
    .bind(by)
    .bind(now_text())
    .fetch_one(&mut **tx)
    .await
    .map_err(|e| StoreError::from_db(e, "case link"))?;
    Ok(link(&row)?)
}

async fn queue_notices(tx: &mut crate::Tx, ws: Id, case_id: Id, notices: &[Notice]) -> Result<()> {
    let now = now_text();
    for n in notices {
        insert_link(tx, (ws, case_id), (&n.link_hash, &n.link_expires, &n.by)).await?;
    }
    let mails: Vec<crate::mail::NewMail> = notices.iter().map(|n| n.mail.clone()).collect();
    crate::mail::queue(tx, Some(ws), &mails, &now).await
}

/// A status change on its way to the database (see [`Store::change_case`]).
#[derive(Debug, Clone)]
pub struct ChangeJob {
    pub ws: Id,
    pub id: Id,
    pub change: NewChange,
    pub encounter: NewEncounter,
    pub notices: Vec<Notice>,
}

/// [`Store::change_case`] inside an open transaction (the portable path).
pub(crate) async fn change_in(
    tx: &mut crate::Tx,
    backend: crate::Backend,
    j: &ChangeJob,
) -> Result<(Case, bool)> {
    let (ws, id, c) = (j.ws, j.id, &j.change);
    let lock = if backend == crate::Backend::Postgres {
        " FOR UPDATE"
    } else {
        ""
    };
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM cases WHERE workspace_id = $1 AND id = $2{lock}"
    ))
    .bind(ws)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    let current = case(&row)?;
    if !insert_change(tx, ws, id, c).await? {
        return Ok((current, false));
    }
    if c.at >= current.status_at {
        sqlx::query(
            "UPDATE cases SET status = $1, status_at = $2, ask = $3, ask_due = $4, updated_at = $5 WHERE id = $6",
        )
        .bind(&c.status)
        .bind(&c.at)
        .bind(&c.ask)
        .bind(&c.ask_due)
        .bind(now_text())
        .bind(id)
        .execute(&mut **tx)
        .await?;
        queue_notices(tx, ws, id, &j.notices).await?;
    }
    crate::encounters::record_in(tx, ws, std::slice::from_ref(&j.encounter)).await?;
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM cases WHERE id = $1"))
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    Ok((case(&row)?, true))
}

fn case_sqlite(r: &rusqlite::Row) -> rusqlite::Result<Case> {
    Ok(Case {
        id: r.get("id")?,
        client_id: r.get("client_id")?,
        reference: r.get("reference")?,
        journey_id: r.get("journey_id")?,
        customer: r.get("customer")?,
        unit_id: r.get("unit_id")?,
        language: r.get("language")?,
        title: r.get("title")?,
        status: r.get("status")?,
        status_at: r.get("status_at")?,
        ask: r.get("ask")?,
        ask_due: r.get("ask_due")?,
        has_verifier: r.get::<_, Option<String>>("verifier_hash")?.is_some(),
        verifier_hash: r.get("verifier_hash")?,
        created_by: r.get("created_by")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
    })
}

/// [`change_in`] on the SQLite writer's own connection, inside its transaction: the
/// same statements. A case that is not there is this change's NotFound (the outer
/// Err is the database's).
pub(crate) fn sqlite_change(
    tx: &rusqlite::Connection,
    j: &ChangeJob,
) -> rusqlite::Result<Result<(Case, bool)>> {
    use rusqlite::{params, OptionalExtension};
    let (ws, id, c) = (j.ws, j.id, &j.change);
    let current = tx
        .prepare_cached(&numbered(&format!(
            "SELECT {COLUMNS} FROM cases WHERE workspace_id = $1 AND id = $2"
        )))?
        .query_row(params![ws, id], case_sqlite)
        .optional()?;
    let Some(current) = current else {
        return Ok(Err(StoreError::NotFound));
    };
    let now = now_text();
    let n = tx
        .prepare_cached(&numbered(
            "INSERT INTO case_changes (workspace_id, case_id, status, at, note, ask, ask_due, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (case_id, status, at) DO NOTHING",
        ))?
        .execute(params![ws, id, c.status, c.at, c.note, c.ask, c.ask_due, c.recorded_by, now])?;
    if n == 0 {
        return Ok(Ok((current, false)));
    }
    if c.at >= current.status_at {
        tx.prepare_cached(&numbered(
            "UPDATE cases SET status = $1, status_at = $2, ask = $3, ask_due = $4, updated_at = $5 WHERE id = $6",
        ))?
        .execute(params![c.status, c.at, c.ask, c.ask_due, now, id])?;
        for n in &j.notices {
            tx.prepare_cached(&numbered(
                "INSERT INTO case_links (workspace_id, case_id, token_hash, expires_at, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            ))?
            .execute(params![ws, id, n.link_hash, n.link_expires, n.by, now])?;
            let m = &n.mail;
            tx.prepare_cached(&numbered(
                "INSERT INTO mail_queue (workspace_id, dedupe, kind, to_addr, subject, body, unsubscribe, status, attempts, next_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $8, 'queued', 0, $7, $7) ON CONFLICT (dedupe) DO NOTHING",
            ))?
            .execute(params![ws, m.dedupe, m.kind, m.to, m.subject, m.body, now, m.unsubscribe])?;
        }
    }
    crate::encounters::sqlite_record(tx, ws, std::slice::from_ref(&j.encounter))?;
    let case = tx
        .prepare_cached(&numbered(&format!(
            "SELECT {COLUMNS} FROM cases WHERE id = $1"
        )))?
        .query_row(params![id], case_sqlite)?;
    Ok(Ok((case, true)))
}

/// SQL written with `$N` for sqlx (which reads the number) as rusqlite binds it:
/// SQLite numbers `?N` by N but `$N` by order of first appearance.
fn numbered(sql: &str) -> String {
    sql.replace('$', "?")
}

/// A customer's e-mail subscription to a case's step changes.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Subscription {
    pub id: Id,
    pub case_id: Id,
    /// The address (shown to staff of the workspace only).
    pub email: String,
    pub language: String,
    /// The consent text the customer agreed to, and where (`status-page`, `api`).
    pub consent: String,
    pub channel: String,
    pub created_at: String,
    pub unsubscribed_at: Option<String>,
}

/// A subscription to add (or renew, for the same case and address).
#[derive(Debug, Clone)]
pub struct NewSubscription {
    pub email: String,
    pub language: String,
    pub consent: String,
    pub channel: String,
}

/// What a subscription's consent is recorded under (`consents.source`).
fn consent_source(subscription: Id) -> String {
    format!("subscription:{subscription}")
}

fn subscription(r: &AnyRow) -> std::result::Result<Subscription, sqlx::Error> {
    Ok(Subscription {
        id: r.try_get("id")?,
        case_id: r.try_get("case_id")?,
        email: r.try_get("email")?,
        language: r.try_get("language")?,
        consent: r.try_get("consent")?,
        channel: r.try_get("channel")?,
        created_at: r.try_get("created_at")?,
        unsubscribed_at: r.try_get("unsubscribed_at")?,
    })
}

const SUB_COLUMNS: &str =
    "id, case_id, email, language, consent, channel, created_at, unsubscribed_at";

/// One case's step times and outcome, for the journey's case analytics.
#[derive(Debug, Clone)]
pub struct CaseTrace {
    pub id: Id,
    pub unit_id: Option<Id>,
    pub client_id: String,
    pub created_at: String,
    /// (status, when), oldest first.
    pub changes: Vec<(String, String)>,
}

/// Inserts a change; returns whether it was new (not a retry of a stored one).
async fn insert_change(tx: &mut crate::Tx, ws: Id, case_id: Id, c: &NewChange) -> Result<bool> {
    let n = sqlx::query(
        "INSERT INTO case_changes (workspace_id, case_id, status, at, note, ask, ask_due, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (case_id, status, at) DO NOTHING",
    )
    .bind(ws)
    .bind(case_id)
    .bind(&c.status)
    .bind(&c.at)
    .bind(&c.note)
    .bind(&c.ask)
    .bind(&c.ask_due)
    .bind(&c.recorded_by)
    .bind(now_text())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(n > 0)
}

impl Store {
    /// Replaces a journey's customer-facing steps. NotFound if the journey is not the
    /// workspace's.
    pub async fn set_case_steps(&self, ws: Id, journey: Id, steps: &[Step]) -> Result<()> {
        let (_gate, mut tx) = self.write().await?;
        let r = async {
            let found: Option<i64> =
                sqlx::query_scalar("SELECT id FROM journeys WHERE workspace_id = $1 AND id = $2")
                    .bind(ws)
                    .bind(journey)
                    .fetch_optional(&mut *tx)
                    .await?;
            if found.is_none() {
                return Err(StoreError::NotFound);
            }
            sqlx::query("DELETE FROM case_steps WHERE workspace_id = $1 AND journey_id = $2")
                .bind(ws)
                .bind(journey)
                .execute(&mut *tx)
                .await?;
            for (i, s) in steps.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO case_steps (workspace_id, journey_id, position, step_key, name, meaning, next_text, expected_days, statuses) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(ws)
                .bind(journey)
                .bind(i as i64)
                .bind(s.key.as_str())
                .bind(serde_json::to_string(&s.name).unwrap_or_default())
                .bind(serde_json::to_string(&s.meaning).unwrap_or_default())
                .bind(serde_json::to_string(&s.next).unwrap_or_default())
                .bind(s.expected_days)
                .bind(serde_json::to_string(&s.statuses).unwrap_or_default())
                .execute(&mut *tx)
                .await?;
            }
            Ok(())
        }
        .await;
        self.finish(tx, r).await
    }

    /// A journey's customer-facing steps, in order (empty: none defined).
    pub async fn case_steps(&self, ws: Id, journey: Id) -> Result<Vec<Step>> {
        let rows = sqlx::query(
            "SELECT step_key, name, meaning, next_text, expected_days, statuses FROM case_steps \
             WHERE workspace_id = $1 AND journey_id = $2 ORDER BY position",
        )
        .bind(ws)
        .bind(journey)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let json = |c: &str| -> Result<serde_json::Value> {
                    let t: String = r.try_get(c)?;
                    serde_json::from_str(&t).map_err(|e| decode_err(c, e.to_string()).into())
                };
                let key: String = r.try_get("step_key")?;
                let step = serde_json::json!({
                    "key": key,
                    "name": json("name")?,
                    "meaning": json("meaning")?,
                    "next": json("next_text")?,
                    "expected_days": r.try_get::<Option<i64>, _>("expected_days")?,
                    "statuses": json("statuses")?,
                });
                serde_json::from_value(step)
                    .map_err(|e| decode_err("case_steps", e.to_string()).into())
            })
            .collect()
    }

    /// Creates a case with its first change and that change's encounter, in one
    /// transaction. A case with the same sender's id already there is returned as it
    /// is, with `false` (a retry); a reference already taken is a Conflict (the caller
    /// draws another).
    pub async fn create_case(
        &self,
        ws: Id,
        c: &NewCase,
        first: &NewChange,
        encounter: &NewEncounter,
    ) -> Result<(Case, bool)> {
        let (_gate, mut tx) = self.write().await?;
        let r = async {
            let now = now_text();
            let row = sqlx::query(&format!(
                "INSERT INTO cases (workspace_id, client_id, reference, journey_id, customer, unit_id, language, title, status, status_at, ask, ask_due, created_by, created_at, updated_at, verifier_hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15) \
                 ON CONFLICT (workspace_id, client_id) DO NOTHING RETURNING {COLUMNS}"
            ))
            .bind(ws)
            .bind(&c.client_id)
            .bind(&c.reference)
            .bind(c.journey_id)
            .bind(&c.customer)
            .bind(c.unit_id)
            .bind(&c.language)
            .bind(&c.title)
            .bind(&c.status)
            .bind(&c.at)
            .bind(&c.ask)
            .bind(&c.ask_due)
            .bind(&c.created_by)
            .bind(&now)
            .bind(&c.verifier_hash)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| StoreError::from_db(e, "case"))?;
            let Some(row) = row else {
                let row = sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM cases WHERE workspace_id = $1 AND client_id = $2"
                ))
                .bind(ws)
                .bind(&c.client_id)
                .fetch_one(&mut *tx)
                .await?;
                return Ok((case(&row)?, false));
            };
            let created = case(&row)?;
            insert_change(&mut tx, ws, created.id, first).await?;
            crate::encounters::record_in(&mut tx, ws, std::slice::from_ref(encounter)).await?;
            Ok((created, true))
        }
        .await;
        self.finish(tx, r).await
    }

    /// Records a status change and its encounter, in one transaction. The same status
    /// at the same time again changes nothing (`false`). A change older than the
    /// case's current status joins the history without moving the case back.
    ///
    /// `notices` (e-mail to the customer's subscriptions, each with the new status-page
    /// link it carries) are queued only when the change is new and moves the case.
    pub async fn change_case(
        &self,
        ws: Id,
        id: Id,
        c: &NewChange,
        encounter: &NewEncounter,
        notices: &[Notice],
    ) -> Result<(Case, bool)> {
        let job = ChangeJob {
            ws,
            id,
            change: c.clone(),
            encounter: encounter.clone(),
            notices: notices.to_vec(),
        };
        // SQLite: through the instance's writer, so changes arriving together share
        // one commit (one fsync). PostgreSQL takes many writers at once: through the
        // one writer, its statements ran one after another and changes/s fell by a
        // quarter (docs/BENCHMARKS.md).
        if self.sqlite_file().is_some() {
            if let Some(queue) = self.running_writer() {
                return crate::feedback::queue_case_change(&queue, job).await;
            }
        }
        let (_gate, mut tx) = self.write().await?;
        let r = change_in(&mut tx, self.backend(), &job).await;
        self.finish(tx, r).await
    }

    pub async fn case(&self, ws: Id, id: Id) -> Result<Case> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM cases WHERE workspace_id = $1 AND id = $2"
        ))
        .bind(ws)
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(case(&row)?)
    }

    /// A case by its reference (stored form).
    pub async fn case_by_reference(&self, ws: Id, reference: &str) -> Result<Option<Case>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM cases WHERE workspace_id = $1 AND reference = $2"
        ))
        .bind(ws)
        .bind(reference)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(case).transpose()?)
    }

    /// A workspace's cases, newest first.
    pub async fn cases(&self, ws: Id, f: &CaseFilter) -> Result<Vec<Case>> {
        let mut sql = format!("SELECT {COLUMNS} FROM cases WHERE workspace_id = $1");
        let mut vals: Vec<crate::entity::Val> = vec![ws.into()];
        let mut add = |cond: &str, v: crate::entity::Val, sql: &mut String| {
            vals.push(v);
            sql.push_str(&format!(" AND {cond} ${}", vals.len()));
        };
        if let Some(j) = f.journey_id {
            add("journey_id =", j.into(), &mut sql);
        }
        if let Some(s) = &f.status {
            add("status =", s.clone().into(), &mut sql);
        }
        if let Some(u) = f.unit_id {
            add("unit_id =", u.into(), &mut sql);
        }
        if let Some(b) = f.before {
            add("id <", b.into(), &mut sql);
        }
        if let Some(cs) = &f.customers {
            if cs.is_empty() {
                return Ok(vec![]);
            }
            let start = vals.len();
            let marks: Vec<String> = (0..cs.len())
                .map(|i| format!("${}", start + i + 1))
                .collect();
            vals.extend(cs.iter().map(|c| c.clone().into()));
            sql.push_str(&format!(" AND customer IN ({})", marks.join(", ")));
        }
        vals.push(f.limit.into());
        sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", vals.len()));
        let rows = crate::entity::bind(sqlx::query(&sql), vals)
            .fetch_all(self.pool())
            .await?;
        Ok(rows
            .iter()
            .map(case)
            .collect::<std::result::Result<_, _>>()?)
    }

    /// A case's status changes, oldest first.
    pub async fn case_changes(&self, ws: Id, id: Id) -> Result<Vec<CaseChange>> {
        let rows = sqlx::query(
            "SELECT id, status, at, note, ask, ask_due, recorded_by, recorded_at FROM case_changes \
             WHERE workspace_id = $1 AND case_id = $2 ORDER BY at, id",
        )
        .bind(ws)
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(change)
            .collect::<std::result::Result<_, _>>()?)
    }

    /// Stores a new link's token hash; returns the link.
    pub async fn add_case_link(
        &self,
        ws: Id,
        case_id: Id,
        token_hash: &str,
        expires_at: &str,
        by: &str,
    ) -> Result<CaseLink> {
        let (_gate, mut tx) = self.write().await?;
        let r = insert_link(&mut tx, (ws, case_id), (token_hash, expires_at, by)).await;
        self.finish(tx, r).await
    }

    /// Revokes every live link of a case at `at`; returns how many.
    pub async fn revoke_case_links(&self, ws: Id, case_id: Id, at: &str) -> Result<u64> {
        let (_gate, mut tx) = self.write().await?;
        let r = async {
            Ok(sqlx::query(
                "UPDATE case_links SET revoked_at = $1 WHERE workspace_id = $2 AND case_id = $3 AND revoked_at IS NULL",
            )
            .bind(at)
            .bind(ws)
            .bind(case_id)
            .execute(&mut *tx)
            .await?
            .rows_affected())
        }
        .await;
        self.finish(tx, r).await
    }

    /// A case's links, newest first.
    pub async fn case_links(&self, ws: Id, case_id: Id) -> Result<Vec<CaseLink>> {
        let rows = sqlx::query(
            "SELECT id, expires_at, revoked_at, created_by, created_at FROM case_links \
             WHERE workspace_id = $1 AND case_id = $2 ORDER BY id DESC",
        )
        .bind(ws)
        .bind(case_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(link)
            .collect::<std::result::Result<_, _>>()?)
    }

    /// The workspace and case a link's token hash opens, if the link is live at `now`
    /// (not revoked, not expired). Reading changes nothing.
    pub async fn case_by_link(&self, token_hash: &str, now: &str) -> Result<Option<(Id, Case)>> {
        let row = sqlx::query(&format!(
            "SELECT l.workspace_id AS ws, {} FROM case_links l JOIN cases c ON c.id = l.case_id \
             WHERE l.token_hash = $1 AND l.revoked_at IS NULL AND l.expires_at > $2",
            COLUMNS
                .split(", ")
                .map(|c| format!("c.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .bind(token_hash)
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        match row {
            Some(r) => Ok(Some((r.try_get("ws")?, case(&r)?))),
            None => Ok(None),
        }
    }
}

fn link(r: &AnyRow) -> std::result::Result<CaseLink, sqlx::Error> {
    Ok(CaseLink {
        id: r.try_get("id")?,
        expires_at: r.try_get("expires_at")?,
        revoked_at: r.try_get("revoked_at")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
    })
}

impl Store {
    /// Adds (or renews: same case and address, unsubscribed or not) a subscription, and
    /// queues the notice `confirm` builds from its id, in one transaction. Refused
    /// (`Conflict`) when the case already has `max_active` other live subscriptions.
    pub async fn subscribe_case(
        &self,
        ws: Id,
        case_id: Id,
        sub: &NewSubscription,
        max_active: i64,
        confirm: impl FnOnce(Id) -> Notice + Send,
    ) -> Result<Subscription> {
        let (_gate, mut tx) = self.write().await?;
        let r = async {
            let others: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM case_subscriptions WHERE workspace_id = $1 AND case_id = $2 \
                 AND unsubscribed_at IS NULL AND email <> $3",
            )
            .bind(ws)
            .bind(case_id)
            .bind(&sub.email)
            .fetch_one(&mut *tx)
            .await?;
            if others >= max_active {
                return Err(StoreError::Conflict("case-subscriptions-full".into()));
            }
            let row = sqlx::query(&format!(
                "INSERT INTO case_subscriptions (workspace_id, case_id, email, language, consent, channel, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (case_id, email) DO UPDATE SET language = excluded.language, consent = excluded.consent, \
                 channel = excluded.channel, created_at = excluded.created_at, unsubscribed_at = NULL \
                 RETURNING {SUB_COLUMNS}"
            ))
            .bind(ws)
            .bind(case_id)
            .bind(&sub.email)
            .bind(&sub.language)
            .bind(&sub.consent)
            .bind(&sub.channel)
            .bind(now_text())
            .fetch_one(&mut *tx)
            .await?;
            let s = subscription(&row)?;
            // The consent, as the person gave it: renewed with the subscription.
            sqlx::query(
                "INSERT INTO consents (workspace_id, purpose, subject, contact, text, version, language, channel, source, given_at) \
                 VALUES ($1, 'case-updates', (SELECT customer FROM cases WHERE id = $2), $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (workspace_id, source) DO UPDATE SET subject = excluded.subject, contact = excluded.contact, \
                 text = excluded.text, version = excluded.version, language = excluded.language, channel = excluded.channel, \
                 given_at = excluded.given_at, withdrawn_at = NULL",
            )
            .bind(ws)
            .bind(case_id)
            .bind(&sub.email)
            .bind(&sub.consent)
            .bind(kohtaamo_domain::privacy::consent_version(&sub.consent))
            .bind(&sub.language)
            .bind(&sub.channel)
            .bind(consent_source(s.id))
            .bind(&s.created_at)
            .execute(&mut *tx)
            .await?;
            queue_notices(&mut tx, ws, case_id, &[confirm(s.id)]).await?;
            Ok(s)
        }
        .await;
        self.finish(tx, r).await
    }

    /// A case's subscriptions (live and ended), newest first.
    pub async fn case_subscriptions(&self, ws: Id, case_id: Id) -> Result<Vec<Subscription>> {
        let rows = sqlx::query(&format!(
            "SELECT {SUB_COLUMNS} FROM case_subscriptions WHERE workspace_id = $1 AND case_id = $2 ORDER BY id DESC"
        ))
        .bind(ws)
        .bind(case_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(subscription)
            .collect::<std::result::Result<_, _>>()?)
    }

    /// A subscription by id, with its workspace.
    pub async fn subscription(&self, id: Id) -> Result<Option<(Id, Subscription)>> {
        let row = sqlx::query(&format!(
            "SELECT workspace_id, {SUB_COLUMNS} FROM case_subscriptions WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        match row {
            Some(r) => Ok(Some((r.try_get("workspace_id")?, subscription(&r)?))),
            None => Ok(None),
        }
    }

    /// Ends a subscription at `at` and withdraws its consent (again: nothing changes);
    /// returns whether it was live.
    pub async fn unsubscribe_case(&self, id: Id, at: &str) -> Result<bool> {
        let (_gate, mut tx) = self.write().await?;
        let r = async {
            let ended = sqlx::query(
                "UPDATE case_subscriptions SET unsubscribed_at = $1 WHERE id = $2 AND unsubscribed_at IS NULL",
            )
            .bind(at)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                > 0;
            sqlx::query(
                "UPDATE consents SET withdrawn_at = $1 WHERE workspace_id = (SELECT workspace_id FROM case_subscriptions WHERE id = $2) \
                 AND source = $3 AND withdrawn_at IS NULL",
            )
            .bind(at)
            .bind(id)
            .bind(consent_source(id))
            .execute(&mut *tx)
            .await?;
            Ok(ended)
        }
        .await;
        self.finish(tx, r).await
    }

    /// Adds page opens counted in memory: (workspace, case, hour `YYYY-MM-DDTHH`, n).
    /// Opens of a case deleted meanwhile are dropped.
    pub async fn add_case_opens(&self, opens: &[(Id, Id, String, i64)]) -> Result<()> {
        if opens.is_empty() {
            return Ok(());
        }
        let (_gate, mut tx) = self.write().await?;
        let r = async {
            for (ws, case_id, hour, n) in opens {
                sqlx::query(
                    "INSERT INTO case_opens (workspace_id, case_id, hour, n) \
                     SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM cases WHERE workspace_id = $1 AND id = $2) \
                     ON CONFLICT (case_id, hour) DO UPDATE SET n = case_opens.n + excluded.n",
                )
                .bind(ws)
                .bind(case_id)
                .bind(hour)
                .bind(n)
                .execute(&mut *tx)
                .await?;
            }
            Ok(())
        }
        .await;
        self.finish(tx, r).await
    }

    /// The page opens of a journey's cases: (case, hour, n).
    pub async fn case_opens(&self, ws: Id, journey: Id) -> Result<Vec<(Id, String, i64)>> {
        let rows = sqlx::query(
            "SELECT o.case_id, o.hour, o.n FROM case_opens o JOIN cases c ON c.id = o.case_id \
             WHERE c.workspace_id = $1 AND c.journey_id = $2",
        )
        .bind(ws)
        .bind(journey)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("case_id")?, r.try_get("hour")?, r.try_get("n")?)))
            .collect()
    }

    /// The internal statuses a journey's cases stand in now, with how many.
    pub async fn case_statuses_in_use(&self, ws: Id, journey: Id) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT status, COUNT(*) AS n FROM cases WHERE workspace_id = $1 AND journey_id = $2 GROUP BY status ORDER BY status",
        )
        .bind(ws)
        .bind(journey)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("status")?, r.try_get("n")?)))
            .collect()
    }

    /// The latest `limit` cases of a journey opened at or after `since`, each with its
    /// status changes, for analytics (two queries).
    pub async fn case_traces(
        &self,
        ws: Id,
        journey: Id,
        since: &str,
        limit: i64,
    ) -> Result<Vec<CaseTrace>> {
        let rows = sqlx::query(
            "SELECT id, unit_id, client_id, created_at FROM cases WHERE workspace_id = $1 AND journey_id = $2 \
             AND created_at >= $3 ORDER BY id DESC LIMIT $4",
        )
        .bind(ws)
        .bind(journey)
        .bind(since)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        let mut out: Vec<CaseTrace> = rows
            .iter()
            .map(|r| {
                Ok(CaseTrace {
                    id: r.try_get("id")?,
                    unit_id: r.try_get("unit_id")?,
                    client_id: r.try_get("client_id")?,
                    created_at: r.try_get("created_at")?,
                    changes: vec![],
                })
            })
            .collect::<Result<_>>()?;
        let Some(oldest) = out.last().map(|c| c.id) else {
            return Ok(out);
        };
        let index: std::collections::HashMap<Id, usize> =
            out.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
        let rows = sqlx::query(
            "SELECT ch.case_id, ch.status, ch.at FROM case_changes ch JOIN cases c ON c.id = ch.case_id \
             WHERE c.workspace_id = $1 AND c.journey_id = $2 AND c.id >= $3 ORDER BY ch.case_id, ch.at, ch.id",
        )
        .bind(ws)
        .bind(journey)
        .bind(oldest)
        .fetch_all(self.pool())
        .await?;
        for r in &rows {
            let id: Id = r.try_get("case_id")?;
            if let Some(&i) = index.get(&id) {
                out[i]
                    .changes
                    .push((r.try_get("status")?, r.try_get("at")?));
            }
        }
        Ok(out)
    }

    /// The closing answers of cases (responses whose case reference is one of
    /// `client_ids`): (case reference, NPS, CSAT, CES) of complete, counted responses.
    pub async fn case_answers(
        &self,
        ws: Id,
        client_ids: &[String],
    ) -> Result<Vec<(String, Option<i64>, Option<i64>, Option<i64>)>> {
        let mut out = vec![];
        for chunk in client_ids.chunks(500) {
            let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT case_ref, nps, csat, ces FROM responses WHERE workspace_id = $1 AND complete = 1 \
                 AND suspect IS NULL AND case_ref IN ({}) ORDER BY id",
                marks.join(", ")
            );
            let mut q = sqlx::query(&sql).bind(ws);
            for c in chunk {
                q = q.bind(c);
            }
            for r in q.fetch_all(self.pool()).await? {
                out.push((
                    r.try_get("case_ref")?,
                    r.try_get("nps")?,
                    r.try_get("csat")?,
                    r.try_get("ces")?,
                ));
            }
        }
        Ok(out)
    }

    /// What a workspace's look-up form calls the second factor (JSON by language;
    /// none: the default label).
    pub async fn case_verifier_label(&self, ws: Id) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT verifier_label FROM case_settings WHERE workspace_id = $1")
                .bind(ws)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// Sets (Some) or clears (None) the second factor's label.
    pub async fn set_case_verifier_label(&self, ws: Id, label: Option<&str>) -> Result<()> {
        let (_gate, mut tx) = self.write().await?;
        let r = async {
            match label {
                Some(l) => {
                    sqlx::query(
                        "INSERT INTO case_settings (workspace_id, verifier_label, updated_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (workspace_id) DO UPDATE SET verifier_label = excluded.verifier_label, updated_at = excluded.updated_at",
                    )
                    .bind(ws)
                    .bind(l)
                    .bind(now_text())
                    .execute(&mut *tx)
                    .await?;
                }
                None => {
                    sqlx::query("DELETE FROM case_settings WHERE workspace_id = $1")
                        .bind(ws)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            Ok(())
        }
        .await;
        self.finish(tx, r).await
    }
}
