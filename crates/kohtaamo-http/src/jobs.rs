//! Background jobs, each safe on several instances at once: a unique key decides which
//! instance creates a notification or alert, and only that instance delivers it to the
//! workspace's webhooks, signed with HMAC-SHA256 of the body
//! (`X-Kohtaamo-Signature: sha256=<hex>`).
//! - The review cycle: notify owning units of who-is-my-customer relations due for
//!   review (`Store::run_review_cycle`). Tests call [`review_cycle_once`].
//! - Score alerts: evaluate every alert rule on its last complete period
//!   ([`alert_period`]) from the rollups and notify the unit it names or the unit owning
//!   the group. Tests call [`alert_cycle_once`].

use std::time::Duration;

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use hmac::{Hmac, Mac};
use kohtaamo_domain::alerts::AlertRuleData;
use kohtaamo_domain::analytics::{GroupKey, Scope, Tally};
use kohtaamo_domain::insight::Snapshot;
use kohtaamo_domain::model::Owner;
use kohtaamo_domain::Id;
use kohtaamo_storage::alerts::Alert;
use kohtaamo_storage::{Record, Result, Store};
use sha2::Sha256;

use crate::error::ApiResult;
use crate::i18n::I18n;
use crate::routes::scores::{Analysis, MIN_SAMPLE};

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
        deliver(store, client, n.workspace_id, body).await?;
    }
    if !created.is_empty() {
        tracing::info!(count = created.len(), "review notifications created");
    }
    Ok(created.len())
}

/// POSTs `body` to every webhook of workspace `ws`, signed. Failures are logged, not
/// retried (what was delivered stays in the app).
async fn deliver(store: &Store, client: &reqwest::Client, ws: Id, body: String) -> Result<()> {
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

/// Rule periods are consecutive blocks of `days` days counted from Monday 2000-01-03
/// (so 7-day rules look at Monday–Sunday weeks). Returns the last block that ended
/// before `today` and the block before it: every instance evaluating a rule on the
/// same day looks at the same period, which is the alert's unique key.
pub fn alert_period(
    today: NaiveDate,
    days: i64,
) -> ((NaiveDate, NaiveDate), (NaiveDate, NaiveDate)) {
    let anchor = NaiveDate::from_ymd_opt(2000, 1, 3).unwrap_or_default();
    let days = days.max(1);
    let k = (today - anchor).num_days().div_euclid(days);
    let start = anchor + chrono::Duration::days((k - 1) * days);
    let end = start + chrono::Duration::days(days - 1);
    let prev_start = start - chrono::Duration::days(days);
    (
        (start, end),
        (prev_start, start - chrono::Duration::days(1)),
    )
}

/// The unit an alert on this group goes to when the rule names none: the unit itself,
/// or the unit owning the touchpoint or package element.
fn owning_unit(snapshot: &Snapshot, scope: Scope, key: &GroupKey) -> Option<Id> {
    let GroupKey::Id(id) = key else {
        return None;
    };
    let unit = |o: Option<Owner>| match o {
        Some(Owner::Unit(u)) => Some(u),
        _ => None,
    };
    match scope {
        Scope::Unit => Some(*id),
        Scope::Touchpoint => snapshot
            .stages
            .iter()
            .flat_map(|(_, _, t)| t.iter())
            .find(|(t, _)| t == id)
            .and_then(|(_, t)| unit(t.owner)),
        Scope::Element => snapshot
            .elements
            .iter()
            .find(|(e, _)| e == id)
            .and_then(|(_, e)| unit(e.owner)),
        _ => None,
    }
}

type Sums = HashMap<(Scope, NaiveDate, NaiveDate), BTreeMap<GroupKey, Tally>>;

/// The tally of a rule's group in a period; rules of one scope and period share one
/// pass over the rollups (`sums`).
async fn group_tally(
    an: &Analysis,
    store: &Store,
    ws: Id,
    sums: &mut Sums,
    d: &AlertRuleData,
    (from, to): (NaiveDate, NaiveDate),
) -> ApiResult<Tally> {
    let k = (d.scope, from, to);
    if let std::collections::hash_map::Entry::Vacant(e) = sums.entry(k) {
        e.insert(an.grouped(store, ws, d.scope, from, to).await?);
    }
    Ok(sums
        .get(&k)
        .and_then(|g| g.get(&d.key))
        .copied()
        .unwrap_or_default())
}

/// One pass over every alert rule of every workspace on day `today`; returns the
/// alerts this call created (each delivered to the workspace's webhooks).
pub async fn alert_cycle_once(
    store: &Store,
    client: &reqwest::Client,
    today: NaiveDate,
) -> ApiResult<Vec<Alert>> {
    let rules = store.all_alert_rules().await?;
    let mut created = vec![];
    let mut ws_rules: BTreeMap<Id, Vec<Record<AlertRuleData>>> = BTreeMap::new();
    for (ws, r) in rules {
        ws_rules.entry(ws).or_default().push(r);
    }
    let i = I18n::new("en", "en");
    for (ws, rules) in ws_rules {
        let an = match Analysis::load(store, ws, &i).await {
            Ok(an) => an,
            Err(e) => {
                tracing::error!(workspace = ws, error = %e, "alert rules: loading the model failed");
                continue;
            }
        };
        let mut sums = Sums::new();
        for rule in rules {
            let d = &rule.data;
            let (now, before) = alert_period(today, d.period_days);
            let t_now = group_tally(&an, store, ws, &mut sums, d, now).await?;
            let t_before = group_tally(&an, store, ws, &mut sums, d, before).await?;
            let Some(finding) = d.evaluate(&t_now, &t_before, MIN_SAMPLE) else {
                continue;
            };
            let unit = d
                .unit_id
                .or_else(|| owning_unit(&an.snapshot, d.scope, &d.key));
            if let Some(a) = store.record_alert(ws, rule.id, unit, now, &finding).await? {
                let body = serde_json::json!({
                    "event": "score_alert",
                    "alert": a,
                    "rule": rule,
                    "group": an.name(d.scope, &d.key, &i),
                })
                .to_string();
                deliver(store, client, ws, body).await?;
                created.push(a);
            }
        }
    }
    if !created.is_empty() {
        tracing::info!(count = created.len(), "score alerts raised");
    }
    Ok(created)
}

/// Evaluates the alert rules every `every` until the process ends.
pub fn spawn_alert_cycle(store: Store, every: Duration) {
    spawn_every(store, every, "alert cycle", |store, client| async move {
        alert_cycle_once(&store, &client, kohtaamo_storage::today())
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
}

/// Runs the review cycle every `every` until the process ends.
pub fn spawn_review_cycle(store: Store, every: Duration) {
    spawn_every(store, every, "review cycle", |store, client| async move {
        review_cycle_once(&store, &client)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
}

/// Runs `pass` every `every` (the first at once) until the process ends; a failed pass
/// is logged and the next one runs as planned.
fn spawn_every<F, Fut>(store: Store, every: Duration, name: &'static str, pass: F)
where
    F: Fn(Store, reqwest::Client) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = std::result::Result<(), String>> + Send,
{
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Err(e) = pass(store.clone(), client.clone()).await {
                tracing::error!(job = name, error = %e, "background job failed");
            }
        }
    });
}
