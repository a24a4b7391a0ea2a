//! Background jobs. The review cycle: notify owning units of who-is-my-customer
//! relations due for review (in-app, via `Store::run_review_cycle`) and deliver each new
//! notification to the workspace's webhooks, signed with HMAC-SHA256 of the body
//! (`X-Kohtaamo-Signature: sha256=<hex>`). Safe on several instances at once: only the
//! instance that created a notification delivers it. Tests call [`review_cycle_once`].

use std::time::Duration;

use hmac::{Hmac, Mac};
use kohtaamo_storage::{Result, Store};
use sha2::Sha256;

pub const SIGNATURE_HEADER: &str = "x-kohtaamo-signature";

/// `sha256=<hex of HMAC-SHA256(secret, body)>`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// One pass; returns how many notifications were created. Webhook failures are logged,
/// not retried (the notification stays in-app).
pub async fn review_cycle_once(store: &Store, client: &reqwest::Client) -> Result<usize> {
    let created = store.run_review_cycle(kohtaamo_storage::today()).await?;
    for n in &created {
        let body = serde_json::json!({ "event": "review_due", "notification": n }).to_string();
        for hook in store.webhooks(n.workspace_id).await? {
            let result = client
                .post(&hook.url)
                .header("content-type", "application/json")
                .header(SIGNATURE_HEADER, sign(&hook.secret, body.as_bytes()))
                .body(body.clone())
                .timeout(Duration::from_secs(10))
                .send()
                .await;
            match result {
                Ok(r) if r.status().is_success() => {}
                Ok(r) => {
                    tracing::warn!(webhook = hook.id, status = %r.status(), "webhook refused the notification")
                }
                Err(e) => tracing::warn!(webhook = hook.id, error = %e, "webhook delivery failed"),
            }
        }
    }
    if !created.is_empty() {
        tracing::info!(count = created.len(), "review notifications created");
    }
    Ok(created.len())
}

/// Runs the review cycle every `every` until the process ends.
pub fn spawn_review_cycle(store: Store, every: Duration) {
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Err(e) = review_cycle_once(&store, &client).await {
                tracing::error!(error = %e, "review cycle failed");
            }
        }
    });
}
