//! Kohtaamo storage. One code path of portable SQL runs on SQLite and PostgreSQL
//! through sqlx's `Any` driver; the backend is chosen at run time from the URL.
//! Backend-specific code exists only where it earns its place, each with a comment:
//! the identity column in migrations, PostgreSQL's advisory lock around migrations,
//! SQLite's pragmas and its single-writer gate.
//!
//! - [`entity`]: the generic CRUD for every model entity (one set of SQL, driven by
//!   each entity's column list), [`entities`]: the per-entity column mappings.
//! - [`auth`]: users, sessions, API tokens, workspaces and memberships.
//! - [`model_io`]: model-as-code import and export.
//! - [`encounters`]: the encounter log, customers and their links, captures.
//! - [`migrate`]: versioned migrations.
//! - [`statistics`]: PostgreSQL's planner statistics kept current.

pub mod alerts;
pub mod auth;
pub mod cases;
pub mod encounters;
pub mod entities;
pub mod entity;
pub mod feedback;
pub mod followups;
pub mod mail;
pub mod memo;
pub mod migrate;
pub mod mining;
pub mod mining_rollup;
pub mod model_io;
pub mod privacy;
pub mod retention;
pub mod reviews;
pub mod statistics;
pub mod testing;

use std::str::FromStr;
use std::sync::{Arc, Once};

use kohtaamo_domain::FieldErrors;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use tokio::sync::{Semaphore, SemaphorePermit};

pub use entity::{Entity, ListQuery, Page, Record};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("invalid input")]
    Invalid(FieldErrors),
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database cannot take requests for now (down, unreachable, disk full);
    /// the caller should retry later. The text is the driver's message, for logs.
    #[error("database unavailable ({what}): {1}", what = .0.as_str())]
    Unavailable(Outage, String),
    #[error("database error")]
    Db(#[source] sqlx::Error),
}

/// Why the database cannot serve for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// It does not answer: stopped, restarting, unreachable, or every connection busy.
    Unreachable,
    /// The disk under it is full: reads work, writes do not.
    DiskFull,
}

impl Outage {
    /// Seconds a client should wait before trying again.
    pub fn retry_after_secs(self) -> u64 {
        match self {
            Outage::Unreachable => 5,
            Outage::DiskFull => 30,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outage::Unreachable => "database unreachable",
            Outage::DiskFull => "disk full",
        }
    }

    /// What a driver error means for availability, if anything: connection failures,
    /// pool timeouts, server shutdown (PostgreSQL class 08, 57P0x, 53xxx) and a full
    /// disk (SQLite `SQLITE_FULL`, PostgreSQL 53100). Constraint violations and bad SQL
    /// are not outages.
    pub fn of(e: &sqlx::Error) -> Option<Outage> {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
                Some(Outage::Unreachable)
            }
            sqlx::Error::Database(db) => {
                let code = db.code()?;
                match code.as_ref() {
                    "53100" => Some(Outage::DiskFull),
                    c if c.starts_with("08") || c.starts_with("57P") || c.starts_with("53") => {
                        Some(Outage::Unreachable)
                    }
                    // SQLite's extended result codes: the primary code is the low byte.
                    c => match c.parse::<i32>().ok().map(|n| n & 0xff) {
                        Some(13) => Some(Outage::DiskFull),
                        Some(5 | 6 | 10 | 14) => Some(Outage::Unreachable),
                        _ => None,
                    },
                }
            }
            _ => None,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match Outage::of(&e) {
            Some(o) => StoreError::Unavailable(o, e.to_string()),
            None => StoreError::Db(e),
        }
    }
}

/// Whether the database is in an outage this instance has seen, so the condition is
/// logged once when it starts and once when it clears, and `/readyz` can report it.
#[derive(Default)]
struct Health {
    outage: std::sync::Mutex<Option<Outage>>,
}

impl Health {
    fn current(&self) -> Option<Outage> {
        self.outage.lock().map(|g| *g).unwrap_or(None)
    }

    /// Notes what a database call's result says about availability: an outage starts
    /// (logged once), or a success ends it (logged once).
    fn note<T>(&self, r: &Result<T>) {
        let now = match r {
            Err(StoreError::Unavailable(o, _)) => Some(*o),
            Ok(_) => None,
            Err(_) => return,
        };
        let Ok(mut g) = self.outage.lock() else {
            return;
        };
        if *g == now {
            return;
        }
        match (now, &r) {
            (Some(o), Err(StoreError::Unavailable(_, cause))) => {
                tracing::error!(condition = o.as_str(), %cause, "database unavailable; requests get 503 until it recovers")
            }
            _ => tracing::warn!(was = g.map(Outage::as_str), "database available again"),
        }
        *g = now;
    }
}

impl From<FieldErrors> for StoreError {
    fn from(e: FieldErrors) -> Self {
        StoreError::Invalid(e)
    }
}

impl StoreError {
    /// Turns constraint violations into conflicts a client can act on; everything else
    /// stays an internal error (logged, never shown).
    pub(crate) fn from_db(e: sqlx::Error, noun: &str) -> Self {
        if let sqlx::Error::Database(db) = &e {
            match db.kind() {
                sqlx::error::ErrorKind::UniqueViolation => {
                    return StoreError::Conflict(format!("a {noun} with the same identity already exists"))
                }
                sqlx::error::ErrorKind::ForeignKeyViolation => {
                    return StoreError::Conflict(format!("this {noun} is still referenced by other records, or refers to a record that is gone"))
                }
                _ => {}
            }
        }
        StoreError::Db(e)
    }
}

/// Every SQLite connection's settings: WAL for concurrent readers; FULL sync, so a
/// commit is fsynced before anything is acknowledged (an acknowledged write survives
/// power loss); foreign keys for integrity; and a checkpoint once the WAL holds 16,384
/// pages (64 MB; SQLite's default is 1,000). A commit of random-key index inserts (a
/// customer's, a case's, a client id's) dirties a page per row, and with the default
/// nearly every commit of the ingest writer ran a checkpoint that copied those pages
/// into the database file again: with the larger interval a page changed by many
/// commits is copied once (an encounter batch insert went from 28,000 to 45,000 rows/s
/// in a measurement, docs/BENCHMARKS.md). `journal_size_limit` truncates the WAL back
/// to that size after a checkpoint has reset it. `secure_delete` zeroes the bytes of
/// deleted rows and freed pages, so an erased person's data is not left in free space
/// of the file (docs/PRIVACY.md).
pub(crate) const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA wal_autocheckpoint = 16384; PRAGMA journal_size_limit = 67108864; PRAGMA secure_delete = ON;";

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The handle every layer above uses. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite allows one writer at a time; taking this gate before a write transaction
    /// turns "database is locked" races between pooled connections into a fair queue.
    /// PostgreSQL gets a gate with many permits, i.e. none in practice.
    write_gate: Arc<Semaphore>,
    /// Bumped by every model write (and webhook change) on this instance, so caches
    /// of model data (the public side's survey cache, [`Store::snapshot_cached`],
    /// [`Store::webhooks_cached`]) know when to reload.
    generation: Arc<std::sync::atomic::AtomicU64>,
    /// The SQLite database file, for the ingest writer's own connection.
    sqlite_file: Option<Arc<str>>,
    health: Arc<Health>,
    /// The running ingest writer of this instance, if any (weak: the writer stops
    /// when its last [`feedback::Ingest`] handle is dropped).
    writer: Arc<std::sync::RwLock<Option<tokio::sync::mpsc::WeakSender<feedback::Job>>>>,
    /// SQLite: one connection kept for bulk writes outside the ingest writer (the
    /// demo generator, imports), so its page cache stays warm between batches.
    bulk: Arc<std::sync::Mutex<Option<rusqlite::Connection>>>,
    /// Instance secrets read so far (they never change once stored).
    secrets: Arc<std::sync::RwLock<std::collections::HashMap<String, String>>>,
    /// Workspace models read for validating writes (see [`Store::snapshot_cached`]).
    snapshots: Arc<PerWorkspace<kohtaamo_domain::insight::Snapshot>>,
    /// Workspace webhooks, for the events sent on hot paths (encounters).
    hooks: Arc<PerWorkspace<Vec<reviews::Webhook>>>,
    /// Workspace follow-up rules, matched against every response and capture.
    follow_up_rules: Arc<PerWorkspace<Vec<FollowUpRule>>>,
    /// Reports worked out from the log, per workspace and query, with the stamp of the
    /// data they were computed from (see [`Store::memo_get`]).
    memo: Arc<std::sync::Mutex<memo::Memo>>,
    /// Reports being computed, shared by the requests that wait for them.
    flights: Arc<std::sync::Mutex<memo::Flights>>,
}

/// A follow-up rule with its id.
pub type FollowUpRule = (
    kohtaamo_domain::Id,
    kohtaamo_domain::followups::FollowUpRuleData,
);

/// What this instance read of a workspace, kept while the generation is the same and
/// for at most 2 s: this instance's own changes are seen at once (they bump the
/// generation), another instance's within 2 s.
#[derive(Default)]
struct PerWorkspace<V> {
    map: std::sync::RwLock<std::collections::HashMap<kohtaamo_domain::Id, Kept<V>>>,
}

/// (read at, the generation then, the value).
type Kept<V> = (std::time::Instant, u64, Arc<V>);

impl<V> PerWorkspace<V> {
    const TTL: std::time::Duration = std::time::Duration::from_secs(2);

    fn get(&self, ws: kohtaamo_domain::Id, generation: u64) -> Option<Arc<V>> {
        let m = self.map.read().ok()?;
        let (at, g, v) = m.get(&ws)?;
        (*g == generation && at.elapsed() < Self::TTL).then(|| v.clone())
    }

    fn put(&self, ws: kohtaamo_domain::Id, generation: u64, v: Arc<V>) {
        if let Ok(mut m) = self.map.write() {
            // Bounded: dropped whole when it grows large.
            if m.len() > 1_000 {
                m.clear();
            }
            m.insert(ws, (std::time::Instant::now(), generation, v));
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

static DRIVERS: Once = Once::new();

/// How long a request waits for a database connection before it is told the database
/// is unavailable (503): a stopped PostgreSQL is reported within seconds, not after
/// the driver's default 30 s.
pub const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

impl Store {
    /// Connects to `url` (`sqlite://path` or `postgres://…`) and applies migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        let store = Self::connect_without_migrating(url).await?;
        migrate::run(&store).await?;
        Ok(store)
    }

    pub async fn connect_without_migrating(url: &str) -> Result<Self> {
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::Invalid({
                let mut e = FieldErrors::new();
                e.add("database_url", "must start with sqlite: or postgres:");
                e
            }));
        };
        let opts = AnyConnectOptions::from_str(url)?;
        let pool = match backend {
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute(SQLITE_PRAGMAS).await?;
                            Ok(())
                        })
                    })
                    .connect_with(opts)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // Plan each execution of a prepared statement for its
                            // parameters. With PostgreSQL's default, a statement first
                            // run against a near-empty table (a new workspace's
                            // customers) may keep a generic plan that reads the whole
                            // workspace: a customer look-up took 300 ms at 50,000
                            // identifiers instead of 0.07 ms, and imports slowed with
                            // every row.
                            conn.execute("SET plan_cache_mode = force_custom_plan")
                                .await?;
                            Ok(())
                        })
                    })
                    .connect_with(opts)
                    .await?
            }
        };
        let permits = match backend {
            Backend::Sqlite => 1,
            Backend::Postgres => Semaphore::MAX_PERMITS,
        };
        Ok(Self {
            pool,
            backend,
            write_gate: Arc::new(Semaphore::new(permits)),
            generation: Arc::default(),
            health: Arc::default(),
            writer: Arc::default(),
            bulk: Arc::default(),
            secrets: Arc::default(),
            snapshots: Arc::default(),
            hooks: Arc::default(),
            follow_up_rules: Arc::default(),
            memo: Arc::default(),
            flights: Arc::default(),
            sqlite_file: match backend {
                Backend::Sqlite => {
                    let rest = url
                        .trim_start_matches("sqlite://")
                        .trim_start_matches("sqlite:");
                    let path = rest.split('?').next().unwrap_or_default();
                    (!path.is_empty() && !path.contains(":memory:")).then(|| Arc::from(path))
                }
                Backend::Postgres => None,
            },
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Begins a write transaction behind the backend's write gate. Keep the permit alive
    /// until commit.
    pub async fn write(&self) -> Result<(SemaphorePermit<'_>, Tx)> {
        let permit = self.write_permit().await?;
        let tx = self.pool.begin().await.map_err(StoreError::from);
        if tx.is_err() {
            self.health.note(&tx);
        }
        Ok((permit, tx?))
    }

    /// Ends a write transaction: commit if `r` is Ok, roll back now if not. Relying on
    /// the rollback sqlx queues when a transaction is dropped would leave SQLite's
    /// write lock held by a pooled connection until that connection is next used. The
    /// outcome tells the store whether the database is available.
    pub async fn finish<T>(&self, tx: Tx, r: Result<T>) -> Result<T> {
        let out = finish(tx, r).await;
        self.health.note(&out);
        out
    }

    /// Notes a write made outside [`Store::finish`] (the ingest writer's own
    /// connection).
    pub fn note_write<T>(&self, r: &Result<T>) {
        self.health.note(r);
    }

    /// The outage this instance is in, if any (for `/readyz`).
    pub fn outage(&self) -> Option<Outage> {
        self.health.current()
    }

    /// The model generation: changes whenever this instance writes model data.
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }
    pub(crate) fn bump(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// Makes `queue` this instance's writer (see [`feedback::Ingest`]).
    pub(crate) fn register_writer(&self, queue: tokio::sync::mpsc::WeakSender<feedback::Job>) {
        if let Ok(mut w) = self.writer.write() {
            *w = Some(queue);
        }
    }

    /// Whether this instance's ingest writer is running (a server is serving): a long
    /// transaction of a bulk job would then hold up the responses queued behind it.
    pub fn writer_running(&self) -> bool {
        self.running_writer().is_some()
    }

    /// The running writer's queue, if one is running.
    pub(crate) fn running_writer(&self) -> Option<tokio::sync::mpsc::Sender<feedback::Job>> {
        self.writer.read().ok()?.as_ref()?.upgrade()
    }

    /// Runs `f` on the bulk-write SQLite connection (opened on first use) behind the
    /// write gate, on a blocking thread. Only for a store with a SQLite file.
    pub(crate) async fn with_bulk_connection<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let path = self
            .sqlite_file()
            .ok_or_else(|| StoreError::Conflict("no SQLite file".into()))?
            .to_owned();
        let _gate = self.write_permit().await?;
        let slot = self.bulk.clone();
        let r = tokio::task::spawn_blocking(move || {
            let mut slot = slot.lock().map_err(|_| rusqlite::Error::InvalidQuery)?;
            let conn = match slot.take() {
                Some(c) => c,
                None => feedback::open_sqlite(&path)?,
            };
            let conn = slot.insert(conn);
            f(conn)
        })
        .await
        .map_err(|e| StoreError::Conflict(format!("bulk writer: {e}")))?
        .map_err(feedback::sqlite_err);
        self.note_write(&r);
        r
    }

    /// A workspace's whole model like [`Store::snapshot`], shared and cached for the
    /// hot write paths that validate against it (encounters): reloaded when this
    /// instance changed the model, or when the copy is over 2 s old.
    pub async fn snapshot_cached(
        &self,
        ws: kohtaamo_domain::Id,
    ) -> Result<Arc<kohtaamo_domain::insight::Snapshot>> {
        let generation = self.generation();
        if let Some(s) = self.snapshots.get(ws, generation) {
            return Ok(s);
        }
        let s = Arc::new(self.snapshot(ws).await?);
        self.snapshots.put(ws, generation, s.clone());
        Ok(s)
    }

    /// The workspace's webhooks like [`Store::webhooks`], cached as
    /// [`Store::snapshot_cached`] is (adding or removing one bumps the generation), so
    /// an event on a hot path costs no query when nobody listens.
    pub async fn webhooks_cached(
        &self,
        ws: kohtaamo_domain::Id,
    ) -> Result<Arc<Vec<reviews::Webhook>>> {
        let generation = self.generation();
        if let Some(h) = self.hooks.get(ws, generation) {
            return Ok(h);
        }
        let h = Arc::new(self.webhooks(ws).await?);
        self.hooks.put(ws, generation, h.clone());
        Ok(h)
    }

    /// The workspace's active follow-up rules, cached as [`Store::snapshot_cached`] is
    /// (a rule change bumps the generation): matched against every response, they
    /// must cost no query when unchanged.
    pub async fn follow_up_rules_cached(
        &self,
        ws: kohtaamo_domain::Id,
    ) -> Result<Arc<Vec<FollowUpRule>>> {
        use kohtaamo_domain::followups::FollowUpRuleData;
        let generation = self.generation();
        if let Some(r) = self.follow_up_rules.get(ws, generation) {
            return Ok(r);
        }
        let rules: Vec<FollowUpRule> = self
            .list::<FollowUpRuleData>(ws, &ListQuery::all())
            .await?
            .items
            .into_iter()
            .filter(|r| r.data.active)
            .map(|r| (r.id, r.data))
            .collect();
        let rules = Arc::new(rules);
        self.follow_up_rules.put(ws, generation, rules.clone());
        Ok(rules)
    }

    /// The SQLite file behind this store (None for PostgreSQL or in-memory).
    pub fn sqlite_file(&self) -> Option<&str> {
        self.sqlite_file.as_deref()
    }

    /// Takes the write gate without starting a transaction (for writers that use
    /// their own connection).
    pub async fn write_permit(&self) -> Result<SemaphorePermit<'_>> {
        self.write_gate
            .acquire()
            .await
            .map_err(|_| StoreError::Conflict("store is closing".into()))
    }

    /// Checks the database answers (for `/readyz`), within `within`. While a full
    /// disk is known, a tiny write tells whether space has come back.
    pub async fn ping(&self, within: std::time::Duration) -> Result<()> {
        let check = async {
            if self.health.current() == Some(Outage::DiskFull) {
                let (_gate, mut tx) = self.write().await?;
                let r = sqlx::query("UPDATE kohtaamo_meta SET probed_at = $1")
                    .bind(now_text())
                    .execute(&mut *tx)
                    .await
                    .map(|_| ())
                    .map_err(StoreError::from);
                self.finish(tx, r).await
            } else {
                let r = sqlx::query("SELECT 1")
                    .execute(&self.pool)
                    .await
                    .map(|_| ())
                    .map_err(StoreError::from);
                self.health.note(&r);
                r
            }
        };
        match tokio::time::timeout(within, check).await {
            Ok(r) => r,
            Err(_) => Err(StoreError::Unavailable(
                Outage::Unreachable,
                format!("no answer within {} ms", within.as_millis()),
            )),
        }
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The current time as stored: RFC 3339 UTC with second precision, so text order is
/// time order on both backends.
pub fn now_text() -> String {
    time_text(chrono::Utc::now())
}

/// A time as stored: RFC 3339 UTC to the second.
pub fn time_text(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A stored time read back (None when it is not RFC 3339).
pub fn parse_time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// Commits or rolls back (see [`Store::finish`], which also notes availability).
async fn finish<T>(tx: Tx, r: Result<T>) -> Result<T> {
    match r {
        Ok(v) => {
            tx.commit().await?;
            Ok(v)
        }
        Err(e) => {
            if let Err(re) = tx.rollback().await {
                tracing::warn!(error = %re, "rollback failed");
            }
            Err(e)
        }
    }
}

pub fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

/// Model CRUD, each write in its own transaction behind the write gate.
impl Store {
    pub async fn get<E: Entity>(
        &self,
        ws: kohtaamo_domain::Id,
        id: kohtaamo_domain::Id,
    ) -> Result<Record<E>> {
        let mut c = self.pool.acquire().await?;
        entity::get(&mut c, ws, id).await
    }

    pub async fn list<E: Entity>(
        &self,
        ws: kohtaamo_domain::Id,
        q: &ListQuery,
    ) -> Result<Page<Record<E>>> {
        let mut c = self.pool.acquire().await?;
        entity::list(&mut c, ws, q).await
    }

    pub async fn create<E: Entity>(&self, ws: kohtaamo_domain::Id, data: &E) -> Result<Record<E>> {
        let (_gate, mut tx) = self.write().await?;
        let r = async {
            let id = entity::create(&mut tx, ws, data).await?;
            entity::get(&mut tx, ws, id).await
        }
        .await;
        // After the commit, so a reload never caches the old data as new.
        let out = self.finish(tx, r).await;
        self.bump();
        out
    }

    pub async fn update<E: Entity>(
        &self,
        ws: kohtaamo_domain::Id,
        id: kohtaamo_domain::Id,
        data: &E,
    ) -> Result<Record<E>> {
        let (_gate, mut tx) = self.write().await?;
        let r = async {
            entity::update(&mut tx, ws, id, data).await?;
            entity::get(&mut tx, ws, id).await
        }
        .await;
        // After the commit, so a reload never caches the old data as new.
        let out = self.finish(tx, r).await;
        self.bump();
        out
    }

    pub async fn delete<E: Entity>(
        &self,
        ws: kohtaamo_domain::Id,
        id: kohtaamo_domain::Id,
    ) -> Result<()> {
        let (_gate, mut tx) = self.write().await?;
        let r = entity::delete::<E>(&mut tx, ws, id).await;
        // After the commit, so a reload never caches the old data as new.
        let out = self.finish(tx, r).await;
        self.bump();
        out
    }

    pub async fn reorder<E: Entity>(
        &self,
        ws: kohtaamo_domain::Id,
        parent: kohtaamo_domain::Id,
        ids: &[kohtaamo_domain::Id],
    ) -> Result<()> {
        let (_gate, mut tx) = self.write().await?;
        let r = entity::reorder::<E>(&mut tx, ws, parent, ids).await;
        // After the commit, so a reload never caches the old data as new.
        let out = self.finish(tx, r).await;
        self.bump();
        out
    }
}
