//! The review cycle: who-is-my-customer answers go stale and must be reviewed "every
//! now and then" (seed 000). Each pass notifies the owning units of relations due for
//! review (one notification per relation and due date, a unique key, so several
//! instances may run it at once) and delivers each new one to the workspace's webhooks.

use super::webhooks::deliver;
use super::JobCtx;
use crate::Result;

/// One pass; returns how many notifications were created. Webhook failures are logged,
/// not retried (the notification stays in-app).
pub async fn review_cycle_once(ctx: &JobCtx) -> Result<usize> {
    let store = &ctx.store;
    let created = store.run_review_cycle(ctx.clock.today()).await?;
    for n in &created {
        let body = serde_json::json!({ "event": "review_due", "notification": n }).to_string();
        deliver(ctx, n.workspace_id, body).await?;
    }
    if !created.is_empty() {
        tracing::info!(count = created.len(), "review notifications created");
    }
    Ok(created.len())
}
