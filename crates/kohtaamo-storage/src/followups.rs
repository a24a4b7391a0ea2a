//! Follow-ups as stored: opened inside the transaction that stores the response or
//! capture behind them (the ingest writer's, on both backends) with `ON CONFLICT DO
//! NOTHING` on `(workspace_id, dedupe)`, so a crash loses none and a retry opens none
//! twice; then moved through their statuses, each step a row of `follow_up_events`.

use kohtaamo_domain::followups::{self as fu, Action, State, Status};
use kohtaamo_domain::{FieldErrors, Id, Reason};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::entity::decode_err;
use crate::{parse_time, time_text, Result, Store, StoreError};

/// A follow-up to open with a response or capture (the application layer decides
/// which rules match; the writer stores them with it).
#[derive(Debug, Clone, PartialEq)]
pub struct NewFollowUp {
    /// The rule that opened it (None: a capture marked "needs follow-up" that no rule
    /// covers, with the default targets).
    pub rule_id: Option<Id>,
    pub customer: Option<String>,
    pub case_ref: Option<String>,
    pub touchpoint_id: Option<Id>,
    pub journey_id: Option<Id>,
    /// The owning unit (the touchpoint's owner, or the rule's fallback unit).
    pub unit_id: Option<Id>,
    /// The partner whose encounter it was, if any.
    pub partner_id: Option<Id>,
    /// Why it opened ("NPS 2 ≤ 6").
    pub reason: String,
    /// Whether the customer allowed being contacted about their answer.
    pub may_contact: bool,
    /// The contact detail given with that consent.
    pub contact: Option<String>,
    pub contact_hours: i64,
    pub resolve_hours: i64,
}

/// A follow-up as stored and listed.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct FollowUp {
    pub id: Id,
    pub rule_id: Option<Id>,
    /// response, capture or alert.
    pub source: String,
    pub survey_id: Option<Id>,
    pub response_key: Option<String>,
    pub encounter_id: Option<Id>,
    /// The score alert that opened it (source `alert`).
    pub alert_id: Option<Id>,
    /// The customer's identifier as the response or encounter carries it.
    pub customer: Option<String>,
    pub case_ref: Option<String>,
    pub touchpoint_id: Option<Id>,
    pub journey_id: Option<Id>,
    pub unit_id: Option<Id>,
    pub partner_id: Option<Id>,
    pub assignee_id: Option<Id>,
    pub status: Status,
    pub reason: String,
    /// Whether the customer allowed being contacted about their answer (without it the
    /// follow-up is for learning only: no contact step).
    pub may_contact: bool,
    /// The e-mail address or phone number they gave with that consent.
    pub contact: Option<String>,
    /// Their answer to the recovery survey after closing (1–5), and when.
    pub recovery_score: Option<i64>,
    pub recovery_at: Option<String>,
    /// When the first contact is due, and the resolution (RFC 3339 UTC).
    pub contact_due: String,
    pub resolve_due: String,
    /// The targets of the two clocks, in hours (from the rule).
    pub contact_hours: i64,
    pub resolve_hours: i64,
    /// Seconds the clocks stood still in waits that ended.
    pub paused_seconds: i64,
    /// Since when the clocks stand still, waiting for the customer.
    pub waiting_since: Option<String>,
    pub contacted_at: Option<String>,
    pub resolved_at: Option<String>,
    pub closed_at: Option<String>,
    pub root_cause: Option<String>,
    pub action_taken: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// One thing done to a follow-up.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct FollowUpEvent {
    pub id: Id,
    pub action: Action,
    /// The status after it.
    pub status: Status,
    /// The note, the assignee's id, or the root cause and the action taken.
    pub detail: String,
    pub by: String,
    pub at: String,
}

/// Which follow-ups to list.
#[derive(Debug, Clone, Default)]
pub struct FollowUpFilter {
    pub status: Option<Status>,
    /// Open ones only (new or contacted).
    pub open: bool,
    pub unit_ids: Option<Vec<Id>>,
    pub assignee_id: Option<Id>,
    pub customer: Option<String>,
    /// Of any of these customers (a timeline: every identifier of a customer and of
    /// those linked to them).
    pub customers: Option<Vec<String>>,
    /// *My follow-ups*: those assigned to this user, and the unassigned ones of these
    /// units (the units they work in).
    pub mine: Option<(Id, Vec<Id>)>,
    pub limit: i64,
}

/// What a person does to a follow-up, with what the action needs.
#[derive(Debug, Clone)]
pub struct Act {
    pub action: Action,
    pub assignee_id: Option<Id>,
    pub root_cause: Option<String>,
    pub action_taken: Option<String>,
    pub note: Option<String>,
    pub by: String,
    /// When (RFC 3339 UTC; the caller's clock).
    pub at: String,
    /// E-mail to queue when the step is taken (closing: the recovery survey to a
    /// consenting customer), in its transaction.
    pub mails: Vec<crate::mail::NewMail>,
}

/// A follow-up's due times for its targets and the time its clocks stood still: a
/// clock already stopped (contacted, resolved) keeps its due time.
fn dues(f: &FollowUp, contact_hours: i64, resolve_hours: i64, paused: i64) -> (String, String) {
    let Some(opened) = parse_time(&f.created_at) else {
        return (f.contact_due.clone(), f.resolve_due.clone());
    };
    let contact = if f.contacted_at.is_none() {
        time_text(fu::due_at(opened, contact_hours, paused))
    } else {
        f.contact_due.clone()
    };
    let resolve = if f.resolved_at.is_none() {
        time_text(fu::due_at(opened, resolve_hours, paused))
    } else {
        f.resolve_due.clone()
    };
    (contact, resolve)
}

/// Ends a wait for the customer at `at`: the time waited is added to the paused time
/// and the running clocks' due times move by it.
async fn end_wait(tx: &mut crate::Tx, f: &FollowUp, at: &str) -> Result<()> {
    let Some(since) = f.waiting_since.as_deref() else {
        return Ok(());
    };
    let waited = match (parse_time(since), parse_time(at)) {
        (Some(a), Some(b)) => (b - a).num_seconds().max(0),
        _ => 0,
    };
    let paused = f.paused_seconds + waited;
    let (contact, resolve) = dues(f, f.contact_hours, f.resolve_hours, paused);
    sqlx::query(
        "UPDATE follow_ups SET waiting_since = NULL, paused_seconds = $1, contact_due = $2, resolve_due = $3 WHERE id = $4",
    )
    .bind(paused)
    .bind(contact)
    .bind(resolve)
    .bind(f.id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

const COLUMNS: &str = "id, rule_id, source, survey_id, response_key, encounter_id, alert_id, customer, case_ref, touchpoint_id, journey_id, unit_id, partner_id, assignee_id, status, reason, may_contact, contact, recovery_score, recovery_at, contact_due, resolve_due, contact_hours, resolve_hours, paused_seconds, waiting_since, contacted_at, resolved_at, closed_at, root_cause, action_taken, created_at, updated_at";

pub(crate) const INSERT_SQL: &str = "INSERT INTO follow_ups (workspace_id, dedupe, rule_id, source, survey_id, response_key, encounter_id, customer, case_ref, touchpoint_id, journey_id, unit_id, partner_id, status, reason, may_contact, contact, contact_due, resolve_due, contact_hours, resolve_hours, created_at, updated_at, alert_id) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'new', $14, $15, $16, $17, $18, $19, $20, $21, $21, $22) ON CONFLICT (workspace_id, dedupe) DO NOTHING";

/// Where a new follow-up comes from.
pub(crate) enum Origin<'a> {
    Response {
        survey: Id,
        key: &'a str,
    },
    Capture {
        encounter: Id,
    },
    /// A score alert (one follow-up per follow-up rule and alert).
    Alert {
        alert: Id,
    },
}

/// Opens `items` for alert `alert` (each at most once per follow-up rule and alert),
/// at `at`, in `tx`. Returns how many opened.
pub(crate) async fn open_for_alert(
    tx: &mut crate::Tx,
    ws: Id,
    (alert, at): (Id, &str),
    items: &[NewFollowUp],
) -> Result<u64> {
    let mut n = 0;
    for f in items {
        let vals = insert_values(ws, Origin::Alert { alert }, f, at);
        n += crate::entity::bind(sqlx::query(INSERT_SQL), vals)
            .execute(&mut **tx)
            .await?
            .rows_affected();
    }
    Ok(n)
}

/// The values of [`INSERT_SQL`] for one follow-up opened at `at` (RFC 3339 UTC).
pub(crate) fn insert_values(
    ws: Id,
    origin: Origin,
    f: &NewFollowUp,
    at: &str,
) -> Vec<crate::entity::Val> {
    let start = parse_time(at).unwrap_or_else(chrono::Utc::now);
    let due = |h: i64| time_text(fu::due_at(start, h, 0));
    let (dedupe, source, survey, key, encounter, alert) = match origin {
        Origin::Response { survey, key } => (
            format!("r{}:{survey}:{key}", f.rule_id.unwrap_or(0)),
            "response",
            Some(survey),
            Some(key.to_owned()),
            None,
            None,
        ),
        Origin::Capture { encounter } => (
            format!("c{encounter}"),
            "capture",
            None,
            None,
            Some(encounter),
            None,
        ),
        Origin::Alert { alert } => (
            format!("a{alert}:{}", f.rule_id.unwrap_or(0)),
            "alert",
            None,
            None,
            None,
            Some(alert),
        ),
    };
    vec![
        ws.into(),
        dedupe.into(),
        f.rule_id.into(),
        source.into(),
        survey.into(),
        key.into(),
        encounter.into(),
        f.customer.clone().into(),
        f.case_ref.clone().into(),
        f.touchpoint_id.into(),
        f.journey_id.into(),
        f.unit_id.into(),
        f.partner_id.into(),
        f.reason.clone().into(),
        f.may_contact.into(),
        f.contact.clone().into(),
        due(f.contact_hours).into(),
        due(f.resolve_hours).into(),
        f.contact_hours.into(),
        f.resolve_hours.into(),
        at.into(),
        alert.into(),
    ]
}

fn follow_up(r: &AnyRow) -> std::result::Result<FollowUp, sqlx::Error> {
    let status: String = r.try_get("status")?;
    Ok(FollowUp {
        id: r.try_get("id")?,
        rule_id: r.try_get("rule_id")?,
        source: r.try_get("source")?,
        survey_id: r.try_get("survey_id")?,
        response_key: r.try_get("response_key")?,
        encounter_id: r.try_get("encounter_id")?,
        alert_id: r.try_get("alert_id")?,
        customer: r.try_get("customer")?,
        case_ref: r.try_get("case_ref")?,
        touchpoint_id: r.try_get("touchpoint_id")?,
        journey_id: r.try_get("journey_id")?,
        unit_id: r.try_get("unit_id")?,
        partner_id: r.try_get("partner_id")?,
        assignee_id: r.try_get("assignee_id")?,
        status: Status::parse(&status).map_err(|e| decode_err("status", e.english()))?,
        reason: r.try_get("reason")?,
        may_contact: r.try_get::<i64, _>("may_contact")? != 0,
        contact: r.try_get("contact")?,
        recovery_score: r.try_get("recovery_score")?,
        recovery_at: r.try_get("recovery_at")?,
        contact_due: r.try_get("contact_due")?,
        resolve_due: r.try_get("resolve_due")?,
        contact_hours: r.try_get("contact_hours")?,
        resolve_hours: r.try_get("resolve_hours")?,
        paused_seconds: r.try_get("paused_seconds")?,
        waiting_since: r.try_get("waiting_since")?,
        contacted_at: r.try_get("contacted_at")?,
        resolved_at: r.try_get("resolved_at")?,
        closed_at: r.try_get("closed_at")?,
        root_cause: r.try_get("root_cause")?,
        action_taken: r.try_get("action_taken")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

impl Store {
    /// A follow-up read inside a write transaction, its row taken for update on
    /// PostgreSQL (on SQLite the write gate already serialises writers).
    async fn locked(&self, tx: &mut crate::Tx, ws: Id, id: Id) -> Result<FollowUp> {
        let lock = if self.backend() == crate::Backend::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM follow_ups WHERE workspace_id = $1 AND id = $2{lock}"
        ))
        .bind(ws)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(follow_up(&row)?)
    }

    /// A workspace's follow-ups, most urgent first: open ones by when their next
    /// target falls due (first contact for a new one, resolution otherwise), then the
    /// others, newest first.
    pub async fn follow_ups(&self, ws: Id, f: &FollowUpFilter) -> Result<Vec<FollowUp>> {
        let mut sql = format!("SELECT {COLUMNS} FROM follow_ups WHERE workspace_id = $1");
        let mut n = 1;
        let mut next = || {
            n += 1;
            n
        };
        let mut binds: Vec<crate::entity::Val> = vec![ws.into()];
        if let Some(s) = f.status {
            sql += &format!(" AND status = ${}", next());
            binds.push(s.as_str().into());
        }
        if f.open {
            sql += " AND status IN ('new', 'contacted')";
        }
        if let Some(units) = &f.unit_ids {
            if units.is_empty() {
                return Ok(vec![]);
            }
            let marks: Vec<String> = units.iter().map(|_| format!("${}", next())).collect();
            sql += &format!(" AND unit_id IN ({})", marks.join(", "));
            binds.extend(units.iter().map(|u| (*u).into()));
        }
        if let Some(a) = f.assignee_id {
            sql += &format!(" AND assignee_id = ${}", next());
            binds.push(a.into());
        }
        if let Some((user, units)) = &f.mine {
            let mut cond = format!("assignee_id = ${}", next());
            binds.push((*user).into());
            if !units.is_empty() {
                let marks: Vec<String> = units.iter().map(|_| format!("${}", next())).collect();
                cond += &format!(
                    " OR (assignee_id IS NULL AND unit_id IN ({}))",
                    marks.join(", ")
                );
                binds.extend(units.iter().map(|u| (*u).into()));
            }
            sql += &format!(" AND ({cond})");
        }
        if let Some(cs) = &f.customers {
            if cs.is_empty() {
                return Ok(vec![]);
            }
            let marks: Vec<String> = cs.iter().map(|_| format!("${}", next())).collect();
            sql += &format!(" AND customer IN ({})", marks.join(", "));
            binds.extend(cs.iter().map(|c| c.clone().into()));
        }
        if let Some(c) = &f.customer {
            sql += &format!(" AND customer = ${}", next());
            binds.push(c.clone().into());
        }
        sql += &format!(
            " ORDER BY CASE WHEN status IN ('new', 'contacted') THEN 0 ELSE 1 END, \
             CASE WHEN status = 'new' AND may_contact = 1 THEN contact_due WHEN status IN ('new', 'contacted') THEN resolve_due ELSE '' END, \
             id DESC LIMIT ${}",
            next()
        );
        binds.push(f.limit.into());
        let rows = crate::entity::bind(sqlx::query(&sql), binds)
            .fetch_all(self.pool())
            .await?;
        Ok(rows
            .iter()
            .map(follow_up)
            .collect::<std::result::Result<_, _>>()?)
    }

    /// One follow-up of a workspace.
    pub async fn follow_up(&self, ws: Id, id: Id) -> Result<FollowUp> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM follow_ups WHERE workspace_id = $1 AND id = $2"
        ))
        .bind(ws)
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(follow_up(&row)?)
    }

    /// Follow-ups by their keys (`r<rule>:<survey>:<response key>` for those a
    /// response opened, `c<encounter>` for a capture's): through the unique index the
    /// ingest writer already keeps, so announcing them adds no index to the hot path.
    pub async fn follow_ups_by_key(&self, ws: Id, keys: &[String]) -> Result<Vec<FollowUp>> {
        if keys.is_empty() {
            return Ok(vec![]);
        }
        let marks: Vec<String> = (0..keys.len()).map(|k| format!("${}", k + 2)).collect();
        let sql = format!(
            "SELECT {COLUMNS} FROM follow_ups WHERE workspace_id = $1 AND dedupe IN ({}) ORDER BY id",
            marks.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(ws);
        for k in keys {
            q = q.bind(k);
        }
        let rows = q.fetch_all(self.pool()).await?;
        Ok(rows
            .iter()
            .map(follow_up)
            .collect::<std::result::Result<_, _>>()?)
    }

    /// A follow-up by its id alone (ids are unique across workspaces): (workspace,
    /// follow-up). For the customer's recovery link, which names no workspace.
    pub async fn follow_up_by_id(&self, id: Id) -> Result<(Id, FollowUp)> {
        let row = sqlx::query(&format!(
            "SELECT workspace_id AS ws, {COLUMNS} FROM follow_ups WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok((row.try_get("ws")?, follow_up(&row)?))
    }

    /// What was done to a follow-up, in order.
    pub async fn follow_up_events(&self, ws: Id, id: Id) -> Result<Vec<FollowUpEvent>> {
        Ok(self
            .follow_up_events_of(ws, &[id])
            .await?
            .into_iter()
            .map(|(_, e)| e)
            .collect())
    }

    /// What was done to each of these follow-ups: (follow-up, event), in order.
    pub async fn follow_up_events_of(
        &self,
        ws: Id,
        ids: &[Id],
    ) -> Result<Vec<(Id, FollowUpEvent)>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let marks: Vec<String> = (0..ids.len()).map(|k| format!("${}", k + 2)).collect();
        let sql = format!(
            "SELECT follow_up_id, id, action, status, detail, by_user, at FROM follow_up_events \
             WHERE workspace_id = $1 AND follow_up_id IN ({}) ORDER BY id",
            marks.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(ws);
        for id in ids {
            q = q.bind(*id);
        }
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                let action: String = r.try_get("action")?;
                let status: String = r.try_get("status")?;
                Ok((
                    r.try_get("follow_up_id")?,
                    FollowUpEvent {
                        id: r.try_get("id")?,
                        action: Action::parse(&action)
                            .map_err(|e| decode_err("action", e.english()))?,
                        status: Status::parse(&status)
                            .map_err(|e| decode_err("status", e.english()))?,
                        detail: r.try_get("detail")?,
                        by: r.try_get("by_user")?,
                        at: r.try_get("at")?,
                    },
                ))
            })
            .collect()
    }

    /// Does `act` to a follow-up in one transaction: checks the step against the
    /// status machine (and that closing names a root cause from `causes` and the
    /// action taken), updates the follow-up and records the event. A step the status
    /// does not allow changes nothing.
    pub async fn act_on_follow_up(
        &self,
        ws: Id,
        id: Id,
        act: &Act,
        causes: &[&str],
    ) -> Result<FollowUp> {
        let (_gate, mut tx) = self.write().await?;
        let r = async {
            let cur = self.locked(&mut tx, ws, id).await?;
            let invalid = |field: &str, reason: Reason| {
                let mut e = FieldErrors::new();
                e.add(field, reason);
                StoreError::Invalid(e)
            };
            let to = fu::next(
                State {
                    status: cur.status,
                    contacted: cur.contacted_at.is_some(),
                    waiting: cur.waiting_since.is_some(),
                    may_contact: cur.may_contact,
                },
                act.action,
            )
            .map_err(|r| invalid("action", r))?;
            let now = act.at.clone();
            if matches!(
                act.action,
                Action::Resume | Action::Contact | Action::Resolve | Action::Close
            ) {
                end_wait(&mut tx, &cur, &now).await?;
            }
            let detail = match act.action {
                Action::Assign => {
                    let who = act
                        .assignee_id
                        .ok_or_else(|| invalid("assignee_id", Reason::new("empty")))?;
                    sqlx::query("UPDATE follow_ups SET assignee_id = $1 WHERE id = $2")
                        .bind(who)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    who.to_string()
                }
                Action::Close => {
                    fu::check_close(
                        act.root_cause.as_deref(),
                        act.action_taken.as_deref(),
                        causes,
                    )
                    .map_err(StoreError::Invalid)?;
                    let cause = act.root_cause.as_deref().unwrap_or_default().trim();
                    let taken = act.action_taken.as_deref().unwrap_or_default().trim();
                    sqlx::query(
                        "UPDATE follow_ups SET root_cause = $1, action_taken = $2, closed_at = $3 WHERE id = $4",
                    )
                    .bind(cause)
                    .bind(taken)
                    .bind(&now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    format!("{cause}: {taken}")
                }
                Action::Contact => {
                    sqlx::query("UPDATE follow_ups SET contacted_at = $1 WHERE id = $2")
                        .bind(&now)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    String::new()
                }
                Action::Resolve => {
                    sqlx::query("UPDATE follow_ups SET resolved_at = $1 WHERE id = $2")
                        .bind(&now)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    String::new()
                }
                Action::Wait => {
                    let note = act.note.as_deref().map(str::trim).unwrap_or_default();
                    if note.chars().count() > fu::MAX_NOTE {
                        return Err(invalid(
                            "note",
                            Reason::new("too-long").with("max", fu::MAX_NOTE),
                        ));
                    }
                    sqlx::query("UPDATE follow_ups SET waiting_since = $1 WHERE id = $2")
                        .bind(&now)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    note.to_owned()
                }
                Action::Resume | Action::Escalate | Action::Recovery => String::new(),
                Action::Reopen => {
                    sqlx::query(
                        "UPDATE follow_ups SET resolved_at = NULL, closed_at = NULL, recovery_score = NULL, recovery_at = NULL WHERE id = $1",
                    )
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    String::new()
                }
                Action::Note => {
                    let note = act.note.as_deref().map(str::trim).unwrap_or_default();
                    if note.is_empty() {
                        return Err(invalid("note", Reason::new("empty")));
                    }
                    if note.chars().count() > fu::MAX_NOTE {
                        return Err(invalid(
                            "note",
                            Reason::new("too-long").with("max", fu::MAX_NOTE),
                        ));
                    }
                    note.to_owned()
                }
            };
            sqlx::query("UPDATE follow_ups SET status = $1, updated_at = $2 WHERE id = $3")
                .bind(to.as_str())
                .bind(&now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO follow_up_events (workspace_id, follow_up_id, action, status, detail, by_user, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(ws)
            .bind(id)
            .bind(act.action.as_str())
            .bind(to.as_str())
            .bind(detail)
            .bind(&act.by)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
            crate::mail::queue(&mut tx, Some(ws), &act.mails, &now).await?;
            let row = sqlx::query(&format!(
                "SELECT {COLUMNS} FROM follow_ups WHERE workspace_id = $1 AND id = $2"
            ))
            .bind(ws)
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            Ok(follow_up(&row)?)
        }
        .await;
        self.finish(tx, r).await
    }
}

/// A follow-up's past, written at once (the demo generator: follow-ups handled weeks
/// ago, with the times they were handled).
#[derive(Debug, Clone)]
pub struct Settled {
    pub id: Id,
    pub status: Status,
    /// The customer's recovery answer and when (a closed one).
    pub recovery: Option<(i64, String)>,
    pub contacted_at: Option<String>,
    pub resolved_at: Option<String>,
    pub closed_at: Option<String>,
    pub root_cause: Option<String>,
    pub action_taken: Option<String>,
    pub by: String,
}

impl Store {
    /// Writes the past of many follow-ups in one transaction: their status and times,
    /// and an event for each step taken (contacted, resolved, closed).
    pub async fn settle_follow_ups(&self, ws: Id, rows: &[Settled]) -> Result<()> {
        let (_gate, mut tx) = self.write().await?;
        let r = async {
            for s in rows {
                let last = s
                    .closed_at
                    .as_ref()
                    .or(s.resolved_at.as_ref())
                    .or(s.contacted_at.as_ref());
                sqlx::query(
                    "UPDATE follow_ups SET status = $1, contacted_at = $2, resolved_at = $3, closed_at = $4, \
                     root_cause = $5, action_taken = $6, updated_at = COALESCE($7, updated_at) \
                     WHERE workspace_id = $8 AND id = $9",
                )
                .bind(s.status.as_str())
                .bind(&s.contacted_at)
                .bind(&s.resolved_at)
                .bind(&s.closed_at)
                .bind(&s.root_cause)
                .bind(&s.action_taken)
                .bind(last)
                .bind(ws)
                .bind(s.id)
                .execute(&mut *tx)
                .await?;
                let steps = [
                    (Action::Contact, Status::Contacted, &s.contacted_at, String::new()),
                    (Action::Resolve, Status::Resolved, &s.resolved_at, String::new()),
                    (
                        Action::Close,
                        Status::Closed,
                        &s.closed_at,
                        format!(
                            "{}: {}",
                            s.root_cause.as_deref().unwrap_or_default(),
                            s.action_taken.as_deref().unwrap_or_default()
                        ),
                    ),
                ];
                for (action, status, at, detail) in steps {
                    let Some(at) = at else { continue };
                    sqlx::query(
                        "INSERT INTO follow_up_events (workspace_id, follow_up_id, action, status, detail, by_user, at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(ws)
                    .bind(s.id)
                    .bind(action.as_str())
                    .bind(status.as_str())
                    .bind(detail)
                    .bind(&s.by)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                }
                if let Some((score, at)) = &s.recovery {
                    sqlx::query("UPDATE follow_ups SET recovery_score = $1, recovery_at = $2 WHERE workspace_id = $3 AND id = $4")
                        .bind(score)
                        .bind(at)
                        .bind(ws)
                        .bind(s.id)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(
                        "INSERT INTO follow_up_events (workspace_id, follow_up_id, action, status, detail, by_user, at) \
                         VALUES ($1, $2, 'recovery', 'closed', $3, 'customer', $4)",
                    )
                    .bind(ws)
                    .bind(s.id)
                    .bind(score.to_string())
                    .bind(at)
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

impl Store {
    /// Root causes of the closed follow-ups of a workspace, or of one unit, most
    /// frequent first: (cause, how many).
    pub async fn follow_up_causes(&self, ws: Id, unit: Option<Id>) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT root_cause, COUNT(*) AS n FROM follow_ups WHERE workspace_id = $1 \
             AND status = 'closed' AND root_cause IS NOT NULL AND ($2 = 0 OR unit_id = $2) \
             GROUP BY root_cause ORDER BY n DESC, root_cause",
        )
        .bind(ws)
        .bind(unit.unwrap_or(0))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("root_cause")?, r.try_get("n")?)))
            .collect()
    }
}

/// A follow-up past a due time, with the escalation steps already taken.
#[derive(Debug, Clone)]
pub struct Overdue {
    pub workspace_id: Id,
    pub follow_up: FollowUp,
    pub done: Vec<(fu::Clock, fu::Step)>,
}

/// An escalation step to record: who was told (their names, for the timeline), and
/// the e-mails that tell them.
#[derive(Debug, Clone)]
pub struct Escalation {
    pub clock: fu::Clock,
    pub step: fu::Step,
    /// Who was told, by name ("" when nobody could be: no lead, no parent unit).
    pub told: String,
    pub mails: Vec<crate::mail::NewMail>,
    pub at: String,
}

impl Store {
    /// Open follow-ups, of every workspace, whose running clock is past its due time at
    /// `now` (the contact clock runs only where the customer allowed contact), that
    /// are not waiting for the customer and have steps left to take (the last step of
    /// that clock not taken), by id after `after`, at most `limit`, each with the
    /// escalation steps already taken. Read workspace by workspace through
    /// `follow_ups_status (workspace_id, status, …)`: only open follow-ups are visited,
    /// and the ingest path keeps no extra index for this job.
    pub async fn overdue_follow_ups(
        &self,
        now: &str,
        after: Id,
        limit: i64,
    ) -> Result<Vec<Overdue>> {
        let cols = COLUMNS
            .split(", ")
            .map(|c| format!("f.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let last = |clock: &str| {
            format!(
                "NOT EXISTS (SELECT 1 FROM follow_up_escalations e WHERE e.follow_up_id = f.id AND e.clock = '{clock}' AND e.step = 3)"
            )
        };
        let sql = format!(
            "SELECT f.workspace_id AS ws, {cols} FROM follow_ups f WHERE f.workspace_id = $4 \
             AND f.status IN ('new', 'contacted') AND f.waiting_since IS NULL AND f.id > $2 AND \
             ((f.status = 'new' AND f.may_contact = 1 AND f.contact_due <= $1 AND {}) \
              OR (f.resolve_due <= $1 AND {})) \
             ORDER BY f.id LIMIT $3",
            last("contact"),
            last("resolve")
        );
        let workspaces: Vec<Id> = sqlx::query_scalar("SELECT id FROM workspaces ORDER BY id")
            .fetch_all(self.pool())
            .await?;
        let mut rows = vec![];
        for ws in workspaces {
            rows.extend(
                sqlx::query(&sql)
                    .bind(now)
                    .bind(after)
                    .bind(limit)
                    .bind(ws)
                    .fetch_all(self.pool())
                    .await?,
            );
        }
        rows.sort_by_key(|r| r.try_get::<Id, _>("id").unwrap_or_default());
        rows.truncate(limit.max(0) as usize);
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(Overdue {
                workspace_id: r.try_get("ws")?,
                follow_up: follow_up(r)?,
                done: vec![],
            });
        }
        if out.is_empty() {
            return Ok(out);
        }
        let marks: Vec<String> = (0..out.len()).map(|k| format!("${}", k + 1)).collect();
        let sql = format!(
            "SELECT follow_up_id, clock, step FROM follow_up_escalations WHERE follow_up_id IN ({})",
            marks.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for o in &out {
            q = q.bind(o.follow_up.id);
        }
        for r in q.fetch_all(self.pool()).await? {
            let id: Id = r.try_get("follow_up_id")?;
            let clock: String = r.try_get("clock")?;
            let step: i64 = r.try_get("step")?;
            let (Ok(clock), Some(step)) = (fu::Clock::parse(&clock), fu::Step::from_number(step))
            else {
                continue;
            };
            if let Some(o) = out.iter_mut().find(|o| o.follow_up.id == id) {
                o.done.push((clock, step));
            }
        }
        Ok(out)
    }

    /// Records one escalation step of a follow-up, once: the step's row (`INSERT … ON
    /// CONFLICT DO NOTHING`), an `escalate` event for the timeline (detail
    /// `<clock>:<step>:<who was told>`) and its e-mails, in one transaction. Returns
    /// whether this call took the step (false: another instance did, or it was taken
    /// before).
    pub async fn escalate_follow_up(&self, ws: Id, id: Id, e: &Escalation) -> Result<bool> {
        let (_gate, mut tx) = self.write().await?;
        let r = async {
            let took = sqlx::query(
                "INSERT INTO follow_up_escalations (workspace_id, follow_up_id, clock, step, at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (follow_up_id, clock, step) DO NOTHING",
            )
            .bind(ws)
            .bind(id)
            .bind(e.clock.as_str())
            .bind(e.step.number())
            .bind(&e.at)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if !took {
                return Ok(false);
            }
            sqlx::query(
                "INSERT INTO follow_up_events (workspace_id, follow_up_id, action, status, detail, by_user, at) \
                 SELECT workspace_id, id, 'escalate', status, $1, '', $2 FROM follow_ups WHERE workspace_id = $3 AND id = $4",
            )
            .bind(format!("{}:{}:{}", e.clock.as_str(), e.step.as_str(), e.told))
            .bind(&e.at)
            .bind(ws)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            crate::mail::queue(&mut tx, Some(ws), &e.mails, &e.at).await?;
            Ok(true)
        }
        .await;
        self.finish(tx, r).await
    }

    /// The escalation steps taken on a follow-up: (clock, step, when), in order.
    pub async fn follow_up_escalations(
        &self,
        ws: Id,
        id: Id,
    ) -> Result<Vec<(fu::Clock, fu::Step, String)>> {
        let rows = sqlx::query(
            "SELECT clock, step, at FROM follow_up_escalations WHERE workspace_id = $1 AND follow_up_id = $2 ORDER BY at, clock, step",
        )
        .bind(ws)
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        let mut out = vec![];
        for r in rows {
            let clock: String = r.try_get("clock")?;
            let step: i64 = r.try_get("step")?;
            if let (Ok(c), Some(s)) = (fu::Clock::parse(&clock), fu::Step::from_number(step)) {
                out.push((c, s, r.try_get("at")?));
            }
        }
        Ok(out)
    }

    /// A rule's new targets applied to the follow-ups it opened that are still open:
    /// their targets and the due times of the clocks still running change (the time
    /// spent waiting for the customer still counts as paused). Returns how many.
    pub async fn retime_follow_ups(
        &self,
        ws: Id,
        rule: Id,
        contact_hours: i64,
        resolve_hours: i64,
    ) -> Result<u64> {
        let (_gate, mut tx) = self.write().await?;
        let r = async {
            let rows = sqlx::query(&format!(
                "SELECT {COLUMNS} FROM follow_ups WHERE workspace_id = $1 AND rule_id = $2 \
                 AND status IN ('new', 'contacted') AND (contact_hours <> $3 OR resolve_hours <> $4)"
            ))
            .bind(ws)
            .bind(rule)
            .bind(contact_hours)
            .bind(resolve_hours)
            .fetch_all(&mut *tx)
            .await?;
            for r in &rows {
                let f = follow_up(r)?;
                let (contact, resolve) = dues(&f, contact_hours, resolve_hours, f.paused_seconds);
                sqlx::query(
                    "UPDATE follow_ups SET contact_hours = $1, resolve_hours = $2, contact_due = $3, resolve_due = $4 WHERE id = $5",
                )
                .bind(contact_hours)
                .bind(resolve_hours)
                .bind(contact)
                .bind(resolve)
                .bind(f.id)
                .execute(&mut *tx)
                .await?;
            }
            Ok(rows.len() as u64)
        }
        .await;
        self.finish(tx, r).await
    }
}

/// A customer's scored response: (customer, when, nps, csat, ces).
pub type LaterScore = (String, String, Option<i64>, Option<i64>, Option<i64>);

/// What became of a recovery answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecoveryOutcome {
    /// Stored; the follow-up stays closed.
    Stored,
    /// Stored, and so poor that the follow-up was reopened.
    Reopened,
    /// The follow-up is not closed, or was answered already: nothing changed.
    NotOpen,
}

impl Store {
    /// The customer's answer to the recovery survey of a closed follow-up (once per
    /// closing): stored with a `recovery` event (detail: the score); at or below
    /// [`fu::REOPEN_AT_OR_BELOW`] the follow-up is reopened (a `reopen` event by the
    /// customer; the answer stays in the history, the next closing asks again), all in
    /// one transaction.
    pub async fn record_recovery(
        &self,
        ws: Id,
        id: Id,
        score: i64,
        at: &str,
    ) -> Result<RecoveryOutcome> {
        let (_gate, mut tx) = self.write().await?;
        let r = async {
            let f = self.locked(&mut tx, ws, id).await?;
            if f.status != Status::Closed || f.recovery_score.is_some() {
                return Ok(RecoveryOutcome::NotOpen);
            }
            let event = |action: Action, status: Status, detail: String| {
                sqlx::query(
                    "INSERT INTO follow_up_events (workspace_id, follow_up_id, action, status, detail, by_user, at) \
                     VALUES ($1, $2, $3, $4, $5, 'customer', $6)",
                )
                .bind(ws)
                .bind(id)
                .bind(action.as_str())
                .bind(status.as_str())
                .bind(detail)
                .bind(at.to_owned())
            };
            sqlx::query("UPDATE follow_ups SET recovery_score = $1, recovery_at = $2, updated_at = $2 WHERE id = $3")
                .bind(score)
                .bind(at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            event(Action::Recovery, Status::Closed, score.to_string())
                .execute(&mut *tx)
                .await?;
            if score > fu::REOPEN_AT_OR_BELOW {
                return Ok(RecoveryOutcome::Stored);
            }
            let to = if f.contacted_at.is_some() {
                Status::Contacted
            } else {
                Status::New
            };
            sqlx::query(
                "UPDATE follow_ups SET status = $1, resolved_at = NULL, closed_at = NULL, recovery_score = NULL, recovery_at = NULL, updated_at = $2 WHERE id = $3",
            )
            .bind(to.as_str())
            .bind(at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            event(Action::Reopen, to, format!("recovery:{score}"))
                .execute(&mut *tx)
                .await?;
            Ok(RecoveryOutcome::Reopened)
        }
        .await;
        self.finish(tx, r).await
    }

    /// The follow-ups of a workspace closed in `[from, to)` (RFC 3339 bounds), for
    /// recovery and root-cause figures.
    pub async fn closed_follow_ups(&self, ws: Id, from: &str, to: &str) -> Result<Vec<FollowUp>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM follow_ups WHERE workspace_id = $1 AND status = 'closed' \
             AND closed_at >= $2 AND closed_at < $3 ORDER BY closed_at"
        ))
        .bind(ws)
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(follow_up)
            .collect::<std::result::Result<_, _>>()?)
    }

    /// Each of `customers`' scored responses after `after` (RFC 3339), oldest first:
    /// (customer, when, nps, csat, ces).
    pub async fn scores_of_customers(
        &self,
        ws: Id,
        customers: &[String],
        after: &str,
    ) -> Result<Vec<LaterScore>> {
        let mut out: Vec<LaterScore> = vec![];
        for chunk in customers.chunks(500) {
            let marks: Vec<String> = (0..chunk.len()).map(|k| format!("${}", k + 3)).collect();
            let sql = format!(
                "SELECT customer_ref, created_at, nps, csat, ces FROM responses WHERE workspace_id = $1 \
                 AND created_at > $2 AND customer_ref IN ({}) \
                 AND (nps IS NOT NULL OR csat IS NOT NULL OR ces IS NOT NULL) ORDER BY created_at",
                marks.join(", ")
            );
            let mut q = sqlx::query(&sql).bind(ws).bind(after);
            for c in chunk {
                q = q.bind(c);
            }
            for r in q.fetch_all(self.pool()).await? {
                out.push((
                    r.try_get("customer_ref")?,
                    r.try_get("created_at")?,
                    r.try_get("nps")?,
                    r.try_get("csat")?,
                    r.try_get("ces")?,
                ));
            }
        }
        out.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(out)
    }
}

/// A stored response as a rule applied to the past reads it.
#[derive(Debug, Clone)]
pub struct PastResponse {
    pub id: Id,
    pub survey_id: Id,
    pub key: String,
    pub touchpoint_id: Option<Id>,
    pub locale: Option<String>,
    pub customer_ref: Option<String>,
    pub case_ref: Option<String>,
    pub answers: String,
    pub created_at: String,
}

impl Store {
    /// Complete, counted (not suspect) responses of a workspace made in `[from, to)`
    /// (RFC 3339 bounds), by id after `after`, at most `limit`.
    pub async fn past_responses(
        &self,
        ws: Id,
        (from, to): (&str, &str),
        after: Id,
        limit: i64,
    ) -> Result<Vec<PastResponse>> {
        let rows = sqlx::query(
            "SELECT id, survey_id, response_key, touchpoint_id, locale, customer_ref, case_ref, answers, created_at \
             FROM responses WHERE workspace_id = $1 AND complete = 1 AND suspect IS NULL \
             AND created_at >= $2 AND created_at < $3 AND id > $4 ORDER BY id LIMIT $5",
        )
        .bind(ws)
        .bind(from)
        .bind(to)
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PastResponse {
                    id: r.try_get("id")?,
                    survey_id: r.try_get("survey_id")?,
                    key: r.try_get("response_key")?,
                    touchpoint_id: r.try_get("touchpoint_id")?,
                    locale: r.try_get("locale")?,
                    customer_ref: r.try_get("customer_ref")?,
                    case_ref: r.try_get("case_ref")?,
                    answers: r.try_get("answers")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// Opens follow-ups for stored alerts (a rule applied to a past period), opened at
    /// `at`, in one transaction; one already opened by the same rule for the same
    /// alert is not opened again. Returns how many opened.
    pub async fn open_follow_ups_for_alerts(
        &self,
        ws: Id,
        at: &str,
        items: &[(Id, NewFollowUp)],
    ) -> Result<u64> {
        let (_gate, mut tx) = self.write().await?;
        let r = async {
            let mut n = 0;
            for (alert, f) in items {
                n += open_for_alert(&mut tx, ws, (*alert, at), std::slice::from_ref(f)).await?;
            }
            Ok(n)
        }
        .await;
        self.finish(tx, r).await
    }

    /// The alerts a rule already opened a follow-up for.
    pub async fn alerts_with_follow_up(&self, ws: Id, rule: Id) -> Result<Vec<Id>> {
        Ok(sqlx::query_scalar(
            "SELECT alert_id FROM follow_ups WHERE workspace_id = $1 AND rule_id = $2 AND source = 'alert'",
        )
        .bind(ws)
        .bind(rule)
        .fetch_all(self.pool())
        .await?)
    }

    /// The responses (survey, key) a rule already opened a follow-up for.
    pub async fn responses_with_follow_up(&self, ws: Id, rule: Id) -> Result<Vec<(Id, String)>> {
        let rows = sqlx::query(
            "SELECT survey_id, response_key FROM follow_ups WHERE workspace_id = $1 AND rule_id = $2 AND source = 'response'",
        )
        .bind(ws)
        .bind(rule)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("survey_id")?, r.try_get("response_key")?)))
            .collect()
    }

    /// Opens follow-ups for stored responses (a rule applied to a past period), each
    /// with its clocks from the response's time, in one transaction; one already
    /// opened by the same rule is not opened again. Returns how many opened.
    pub async fn open_follow_ups_for_responses(
        &self,
        ws: Id,
        items: &[(Id, String, String, NewFollowUp)],
    ) -> Result<u64> {
        let (_gate, mut tx) = self.write().await?;
        let r = async {
            let mut n = 0;
            for (survey, key, at, f) in items {
                let vals = insert_values(
                    ws,
                    Origin::Response {
                        survey: *survey,
                        key: key.as_str(),
                    },
                    f,
                    at,
                );
                n += crate::entity::bind(sqlx::query(INSERT_SQL), vals)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            Ok(n)
        }
        .await;
        self.finish(tx, r).await
    }
}
