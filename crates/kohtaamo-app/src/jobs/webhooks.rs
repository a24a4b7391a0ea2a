//! Webhook delivery: a JSON body POSTed to every webhook of a workspace, signed with
//! HMAC-SHA256 of the body (`X-Kohtaamo-Signature: sha256=<hex>`). Failures are logged,
//! not retried: what a job delivers also stays in the app (notifications, alerts).

use std::time::Duration;

use hmac::{Hmac, Mac};
use kohtaamo_domain::Id;
use kohtaamo_storage::Store;
use sha2::Sha256;

use crate::Result;

pub const SIGNATURE_HEADER: &str = "x-kohtaamo-signature";

/// `sha256=<hex of HMAC-SHA256(secret, body)>`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// POSTs `body` to every webhook of workspace `ws`, signed. Failures are logged, not
/// retried (what was delivered stays in the app).
pub async fn deliver(store: &Store, client: &reqwest::Client, ws: Id, body: String) -> Result<()> {
    for hook in store.webhooks(ws).await? {
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
                tracing::warn!(webhook = hook.id, status = %r.status(), "webhook refused the delivery")
            }
            Err(e) => tracing::warn!(webhook = hook.id, error = %e, "webhook delivery failed"),
        }
    }
    Ok(())
}
