//! The durable e-mail queue: messages are written in the transaction of what caused
//! them (an escalation step, a recovery survey), so none is lost on a crash; the mail
//! job claims due rows with a lease, sends them, and marks each sent (with an audit
//! entry) or schedules a retry with backoff, until it gives up (`failed`). A message is
//! queued once per `dedupe` key. On PostgreSQL the claim skips rows another instance
//! holds (`FOR UPDATE SKIP LOCKED`); on SQLite the write gate serialises claims.

use kohtaamo_domain::Id;
use serde::Serialize;
use sqlx::Row;

use crate::{Backend, Result, Store, Tx};

/// Sending attempts before a message is marked `failed`.
pub const MAX_ATTEMPTS: i64 = 8;
/// How long a claimed message is held before another pass may try it again (an
/// instance that died while sending).
pub const LEASE_SECONDS: i64 = 300;

/// A message to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMail {
    /// One message per key (`esc:<follow-up>:<clock>:<step>:<user>`): queuing it again
    /// adds nothing.
    pub dedupe: String,
    /// What it is (`follow-up-escalation`, …): the audit entry names it.
    pub kind: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    /// Where the recipient unsubscribes with one click (messages to customers; sent as
    /// the `List-Unsubscribe` header).
    pub unsubscribe: Option<String>,
}

/// A queued message as stored.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Mail {
    pub id: Id,
    pub workspace_id: Option<Id>,
    pub kind: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    /// Where the recipient unsubscribes with one click (none: a message to staff).
    pub unsubscribe: Option<String>,
    /// queued, sent or failed.
    pub status: String,
    pub attempts: i64,
    pub next_at: String,
    pub sent_at: Option<String>,
    pub last_error: Option<String>,
    pub created_at: String,
}

const COLUMNS: &str = "id, workspace_id, kind, to_addr, subject, body, unsubscribe, status, attempts, next_at, sent_at, last_error, created_at";

fn mail(r: &sqlx::any::AnyRow) -> std::result::Result<Mail, sqlx::Error> {
    Ok(Mail {
        id: r.try_get("id")?,
        workspace_id: r.try_get("workspace_id")?,
        kind: r.try_get("kind")?,
        to: r.try_get("to_addr")?,
        subject: r.try_get("subject")?,
        body: r.try_get("body")?,
        unsubscribe: r.try_get("unsubscribe")?,
        status: r.try_get("status")?,
        attempts: r.try_get("attempts")?,
        next_at: r.try_get("next_at")?,
        sent_at: r.try_get("sent_at")?,
        last_error: r.try_get("last_error")?,
        created_at: r.try_get("created_at")?,
    })
}

/// Queues `mails` in an open transaction, due at once (`at`).
pub async fn queue(tx: &mut Tx, ws: Option<Id>, mails: &[NewMail], at: &str) -> Result<()> {
    for m in mails {
        sqlx::query(
            "INSERT INTO mail_queue (workspace_id, dedupe, kind, to_addr, subject, body, unsubscribe, status, attempts, next_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $8, 'queued', 0, $7, $7) ON CONFLICT (dedupe) DO NOTHING",
        )
        .bind(ws)
        .bind(&m.dedupe)
        .bind(&m.kind)
        .bind(&m.to)
        .bind(&m.subject)
        .bind(&m.body)
        .bind(at)
        .bind(&m.unsubscribe)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// When a message that failed `attempts` times is tried again: 1, 2, 4, … minutes
/// after the attempt, at most six hours.
pub fn backoff_seconds(attempts: i64) -> i64 {
    (60_i64 << attempts.clamp(0, 20) as u32 >> 1).clamp(60, 6 * 3600)
}

impl Store {
    /// Queues messages on their own (due at `at`).
    pub async fn queue_mail(&self, ws: Option<Id>, mails: &[NewMail], at: &str) -> Result<()> {
        let (_gate, mut tx) = self.write().await?;
        let r = queue(&mut tx, ws, mails, at).await;
        self.finish(tx, r).await
    }

    /// Claims up to `limit` queued messages due at `now`: each gets one more attempt
    /// counted and is held for [`LEASE_SECONDS`] (another pass, on this instance or
    /// another, does not take it meanwhile).
    pub async fn claim_mail(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        limit: i64,
    ) -> Result<Vec<Mail>> {
        let lease = crate::time_text(now + chrono::Duration::seconds(LEASE_SECONDS));
        let lock = if self.backend() == Backend::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let (_gate, mut tx) = self.write().await?;
        let r = async {
            let rows = sqlx::query(&format!(
                "UPDATE mail_queue SET attempts = attempts + 1, next_at = $1 WHERE id IN \
                 (SELECT id FROM mail_queue WHERE status = 'queued' AND next_at <= $2 ORDER BY next_at, id LIMIT $3{lock}) \
                 RETURNING {COLUMNS}"
            ))
            .bind(&lease)
            .bind(crate::time_text(now))
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
            let mut out = rows.iter().map(mail).collect::<std::result::Result<Vec<_>, _>>()?;
            out.sort_by_key(|m| m.id);
            Ok(out)
        }
        .await;
        self.finish(tx, r).await
    }

    /// Marks a claimed message sent, with an audit entry (`mail.sent`, its kind; the
    /// address stays in the queue, not in the audit text).
    pub async fn mail_sent(&self, m: &Mail, at: &str) -> Result<()> {
        let (_gate, mut tx) = self.write().await?;
        let r = async {
            sqlx::query("UPDATE mail_queue SET status = 'sent', sent_at = $1, last_error = NULL WHERE id = $2")
                .bind(at)
                .bind(m.id)
                .execute(&mut *tx)
                .await?;
            if let Some(ws) = m.workspace_id {
                crate::feedback::audit(&mut tx, ws, None, "mail.sent", &format!("mail {}", m.id), &m.kind).await?;
            }
            Ok(())
        }
        .await;
        self.finish(tx, r).await
    }

    /// A claimed message that could not be sent: tried again after a backoff, or
    /// marked `failed` (with an audit entry) after [`MAX_ATTEMPTS`].
    pub async fn mail_not_sent(
        &self,
        m: &Mail,
        error: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<()> {
        let give_up = m.attempts >= MAX_ATTEMPTS;
        let next = crate::time_text(now + chrono::Duration::seconds(backoff_seconds(m.attempts)));
        let error: String = error.chars().take(500).collect();
        let (_gate, mut tx) = self.write().await?;
        let r = async {
            sqlx::query(
                "UPDATE mail_queue SET status = $1, next_at = $2, last_error = $3 WHERE id = $4",
            )
            .bind(if give_up { "failed" } else { "queued" })
            .bind(next)
            .bind(&error)
            .bind(m.id)
            .execute(&mut *tx)
            .await?;
            if let (true, Some(ws)) = (give_up, m.workspace_id) {
                crate::feedback::audit(
                    &mut tx,
                    ws,
                    None,
                    "mail.failed",
                    &format!("mail {}", m.id),
                    &m.kind,
                )
                .await?;
            }
            Ok(())
        }
        .await;
        self.finish(tx, r).await
    }

    /// A workspace's messages, newest first.
    pub async fn mail_of(&self, ws: Id, limit: i64) -> Result<Vec<Mail>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM mail_queue WHERE workspace_id = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(ws)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(mail)
            .collect::<std::result::Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_from_a_minute_to_six_hours() {
        let b: Vec<i64> = (1..=10).map(super::backoff_seconds).collect();
        assert_eq!(&b[..4], &[60, 120, 240, 480]);
        assert_eq!(b[9], 6 * 3600);
    }
}
