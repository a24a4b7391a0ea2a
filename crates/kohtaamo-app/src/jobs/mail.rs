//! The mail job: drains the durable e-mail queue (`kohtaamo_storage::mail`). Each pass
//! claims the messages that are due (a lease keeps other instances off them), sends
//! each over SMTP, and marks it sent (audited) or schedules a retry with backoff. A
//! message the server accepted is never sent again; one whose instance died between
//! the server's answer and the mark is sent again after the lease (at least once).
//! With e-mail off the pass does nothing and the queue stays empty.

use super::JobCtx;
use crate::Result;

/// Messages claimed at a time.
const BATCH: i64 = 50;

/// One pass; returns how many messages were sent.
pub async fn mail_once(ctx: &JobCtx) -> Result<usize> {
    let Some(mailer) = &ctx.mailer else {
        return Ok(0);
    };
    let mut sent = 0;
    loop {
        let batch = ctx.store.claim_mail(ctx.clock.now(), BATCH).await?;
        for m in &batch {
            match mailer
                .send(&m.to, &m.subject, &m.body, m.unsubscribe.as_deref())
                .await
            {
                Ok(()) => {
                    ctx.store
                        .mail_sent(m, &kohtaamo_storage::time_text(ctx.clock.now()))
                        .await?;
                    sent += 1;
                }
                Err(e) => {
                    // The reason goes to the queue row only: a server's answer may
                    // quote the address.
                    tracing::warn!(
                        mail = m.id,
                        attempts = m.attempts,
                        "mail not sent; will retry"
                    );
                    ctx.store.mail_not_sent(m, &e, ctx.clock.now()).await?;
                }
            }
        }
        if (batch.len() as i64) < BATCH {
            break;
        }
    }
    Ok(sent)
}
