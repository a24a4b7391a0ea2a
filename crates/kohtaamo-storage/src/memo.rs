//! Reports this instance worked out from the log (the memo), and computations that
//! concurrent requests share (flights): one request computes a report, the others
//! asking for the same one wait for its outcome instead of reading the log again.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use kohtaamo_domain::Id;
use tokio::sync::watch;

use crate::Store;

/// Reports kept at most (the whole memo is dropped when it would grow past this).
const MEMO_ENTRIES: usize = 64;

pub(crate) type Memo = HashMap<(Id, String), (String, Arc<dyn Any + Send + Sync>)>;
pub(crate) type Flights = HashMap<(Id, String), Box<dyn Any + Send + Sync>>;

/// A shared computation's outcome (the caller's type says how it failed, if it may);
/// `None` while it runs.
pub type Landing<T> = Option<Arc<T>>;

/// A computation concurrent requests share (see [`Store::flight`]).
pub enum Flight<T: Send + Sync + 'static> {
    /// Nobody computes it: the caller does, and lands the outcome.
    Lead(FlightLead<T>),
    /// Someone does: the outcome arrives here.
    Follow(watch::Receiver<Landing<T>>),
}

/// The right, and the duty, to compute a flight's value. Dropped without landing (a
/// panic, a cancelled task), the waiting requests see the channel close.
pub struct FlightLead<T: Send + Sync + 'static> {
    tx: watch::Sender<Landing<T>>,
    flights: Arc<Mutex<Flights>>,
    key: (Id, String),
}

impl<T: Send + Sync + 'static> FlightLead<T> {
    /// Where the outcome arrives (for the request that started the computation).
    pub fn subscribe(&self) -> watch::Receiver<Landing<T>> {
        self.tx.subscribe()
    }

    /// Hands the outcome to everyone waiting; the next request starts a new flight.
    pub fn land(self, outcome: Arc<T>) {
        self.tx.send_replace(Some(outcome));
    }
}

impl<T: Send + Sync + 'static> Drop for FlightLead<T> {
    fn drop(&mut self) {
        if let Ok(mut f) = self.flights.lock() {
            let ours = f
                .get(&self.key)
                .and_then(|b| b.downcast_ref::<watch::Receiver<Landing<T>>>())
                .is_some_and(|rx| rx.same_channel(&self.tx.subscribe()));
            if ours {
                f.remove(&self.key);
            }
        }
    }
}

impl Store {
    /// A report this instance computed for `ws` and `key`, if it was computed from data
    /// with this same `stamp` (the caller's account of what the report depends on).
    pub fn memo_get<T: Any + Send + Sync>(&self, ws: Id, key: &str, stamp: &str) -> Option<Arc<T>> {
        let m = self.memo.lock().ok()?;
        let (s, v) = m.get(&(ws, key.to_owned()))?;
        (s == stamp).then(|| v.clone().downcast::<T>().ok())?
    }

    /// The last report kept for `ws` and `key`, whatever data it was computed from
    /// (the caller decides whether it may still be shown).
    pub fn memo_latest<T: Any + Send + Sync>(&self, ws: Id, key: &str) -> Option<Arc<T>> {
        let m = self.memo.lock().ok()?;
        let (_, v) = m.get(&(ws, key.to_owned()))?;
        v.clone().downcast::<T>().ok()
    }

    /// The keys of what is kept for `ws` (what this instance was asked for since the
    /// memo last filled up).
    pub fn memo_keys(&self, ws: Id) -> Vec<String> {
        self.memo
            .lock()
            .map(|m| {
                m.keys()
                    .filter(|(w, _)| *w == ws)
                    .map(|(_, k)| k.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Keeps a report for [`Store::memo_get`].
    pub fn memo_put<T: Any + Send + Sync>(&self, ws: Id, key: String, stamp: String, v: Arc<T>) {
        if let Ok(mut m) = self.memo.lock() {
            if m.len() >= MEMO_ENTRIES && !m.contains_key(&(ws, key.clone())) {
                m.clear();
            }
            m.insert((ws, key), (stamp, v));
        }
    }

    /// The computation of `key` in `ws` on this instance: led by the caller when none
    /// runs, else followed.
    pub fn flight<T: Send + Sync + 'static>(&self, ws: Id, key: String) -> Flight<T> {
        let key = (ws, key);
        let Ok(mut f) = self.flights.lock() else {
            // A poisoned table: compute alone rather than fail.
            let (tx, _) = watch::channel(None);
            return Flight::Lead(FlightLead {
                tx,
                flights: Arc::default(),
                key,
            });
        };
        if let Some(rx) = f
            .get(&key)
            .and_then(|b| b.downcast_ref::<watch::Receiver<Landing<T>>>())
        {
            return Flight::Follow(rx.clone());
        }
        let (tx, rx) = watch::channel(None);
        f.insert(key.clone(), Box::new(rx));
        Flight::Lead(FlightLead {
            tx,
            flights: self.flights.clone(),
            key,
        })
    }
}
