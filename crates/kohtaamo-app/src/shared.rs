//! Figures worked out from the encounter log, shared and kept: requests for the same
//! figures share one computation ([`Store::flight`]), which runs on when they stop
//! waiting and is kept ([`Store::memo_put`]) for the next request over the same data.
//! The journey-mining report and a journey's flow counted from the log use it.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use kohtaamo_domain::Id;
use kohtaamo_storage::memo::Flight;
use kohtaamo_storage::Store;

use crate::{Error, Result};

/// What [`within`] gives.
pub struct Shared<T> {
    pub value: T,
    /// Kept from an earlier request over the same data.
    pub cached: bool,
    /// An earlier value over other data, shown while the current one is being
    /// computed (its guard was the same as now).
    pub stale: bool,
}

/// A value kept in the memo, with what must not have changed for it to be shown
/// while its successor is computed.
struct Kept<T> {
    guard: String,
    value: T,
}

/// How a shared computation ended.
enum Computed<T> {
    Value(Arc<Kept<T>>),
    Unavailable(kohtaamo_storage::Outage),
    Failed,
}

/// The value of `key` in `ws`, waiting at most `wait` (None: as long as it takes).
///
/// - `stamp`: what the value depends on (None: it cannot be told, never kept-and-found);
///   a value kept under the same stamp is given at once (`cached`).
/// - `guard`: what a kept value over other data must share with the data now to stand
///   in for the current one when the wait runs out (`stale`).
/// - `compute`: works the value out; it runs on its own task, shared with every request
///   for the same key and stamp, and goes on when they stop waiting.
///
/// None when the wait ran out and nothing may stand in.
pub async fn within<T, G, GF, F, Fut>(
    store: &Store,
    ws: Id,
    key: String,
    stamp: Option<String>,
    guard: G,
    wait: Option<Duration>,
    compute: F,
) -> Result<Option<Shared<T>>>
where
    T: Clone + Send + Sync + 'static,
    G: Fn() -> GF,
    GF: Future<Output = Result<String>>,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<T>> + Send + 'static,
{
    if let Some(hit) = stamp
        .as_ref()
        .and_then(|s| store.memo_get::<Kept<T>>(ws, &key, s))
    {
        return Ok(Some(Shared {
            value: hit.value.clone(),
            cached: true,
            stale: false,
        }));
    }
    let flight = format!("{key}@{}", stamp.as_deref().unwrap_or("-"));
    let mut rx = match store.flight::<Computed<T>>(ws, flight) {
        Flight::Follow(rx) => rx,
        Flight::Lead(lead) => {
            let rx = lead.subscribe();
            let guard = guard().await?;
            let (store, key) = (store.clone(), key.clone());
            tokio::spawn(async move {
                let computed = match compute().await {
                    Ok(value) => {
                        let kept = Arc::new(Kept { guard, value });
                        store.memo_put(ws, key, stamp.unwrap_or_default(), kept.clone());
                        Computed::Value(kept)
                    }
                    Err(Error::Unavailable(o)) => Computed::Unavailable(o),
                    Err(e) => {
                        tracing::error!(error = ?e, key, "a shared computation failed");
                        Computed::Failed
                    }
                };
                lead.land(Arc::new(computed));
            });
            rx
        }
    };
    // The outcome, or None when the computation ended without one.
    let landed = async move {
        match rx.wait_for(Option::is_some).await {
            Ok(v) => v.clone(),
            Err(_) => None,
        }
    };
    let landed = match wait {
        None => landed.await,
        Some(w) => match tokio::time::timeout(w, landed).await {
            Ok(r) => r,
            Err(_) => {
                // What was kept when the wait ran out (taken before the guard is read,
                // so nothing landing meanwhile is mistaken for an earlier value).
                let Some(k) = store.memo_latest::<Kept<T>>(ws, &key) else {
                    return Ok(None);
                };
                let guard_now = guard().await?;
                return Ok((k.guard == guard_now).then(|| Shared {
                    value: k.value.clone(),
                    cached: true,
                    stale: true,
                }));
            }
        },
    };
    match landed.as_deref() {
        Some(Computed::Value(k)) => Ok(Some(Shared {
            value: k.value.clone(),
            cached: false,
            stale: false,
        })),
        Some(Computed::Unavailable(o)) => Err(Error::Unavailable(*o)),
        Some(Computed::Failed) | None => Err(Error::Internal("a shared computation failed".into())),
    }
}
