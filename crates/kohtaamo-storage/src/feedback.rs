//! Feedback storage: survey lookup by public key, the group-commit ingest writer,
//! impressions, invitations, and the staff side (list, detail, delete with audit,
//! streaming export rows).
//!
//! **Ingest.** Every public answer, and every encounter recorded while the server
//! runs, goes through one writer task per server instance ([`Ingest`]). Handlers hand
//! it validated rows and wait; the writer takes everything queued since its last
//! commit, writes it in one transaction, commits — on SQLite in WAL with
//! `synchronous=FULL`, i.e. fsynced — and only then answers each waiting handler. So a
//! 2xx means "on disk", and one fsync is shared by every response and encounter that
//! arrived while the previous one ran (group commit). Several instances on PostgreSQL
//! each run their own writer; the unique `(survey_id, response_key)` and
//! `(workspace_id, client_id)` keep retries idempotent across them. A started writer
//! registers itself with its [`Store`], so [`Store::record_encounters`] queues to it;
//! with none running (the CLI, the demo generator) encounters are written directly.
//!
//! On SQLite the writer is an OS thread with its own `rusqlite` connection and cached
//! single-row statements: the same SQL text as the portable path, but without sqlx's
//! per-statement hop to a worker thread, which capped batched inserts at a fraction of
//! what SQLite can do (measured in docs/BENCHMARKS.md). It takes the store's write gate
//! for each batch, so it queues fairly with every other write.

use std::collections::{BTreeMap, HashMap, HashSet};

use kohtaamo_domain::analytics::{Selector, Tally};
use kohtaamo_domain::survey::{Answers, Hidden, ResponseKey, Scores, SurveyData, Suspicion};
use kohtaamo_domain::Id;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use tokio::sync::{mpsc, oneshot};

use crate::encounters::{NewEncounter, Recorded};
use crate::entity::{bind, Val};
use crate::{Result, Store, StoreError, Tx};

/// A survey as the public side needs it.
#[derive(Debug, Clone)]
pub struct LiveSurvey {
    pub id: Id,
    pub workspace_id: Id,
    pub public_key: String,
    pub default_language: String,
    pub data: SurveyData,
}

/// A validated response on its way to the database.
#[derive(Debug, Clone)]
pub struct NewResponse {
    pub workspace_id: Id,
    pub survey_id: Id,
    pub key: ResponseKey,
    pub hidden: Hidden,
    pub answers: Answers,
    pub scores: Scores,
    pub complete: bool,
    /// SHA-256 (hex) of a personal invitation token, used up by this response.
    pub invitation: Option<String>,
    /// When it was given (RFC 3339 UTC, seconds); None = now. Set only by imports and
    /// the demo generator, never from public input.
    pub at: Option<String>,
    /// Set apart by a bot check: stored, not counted in scores until accepted.
    pub suspect: Option<Suspicion>,
    /// Follow-ups the workspace's rules open for it, stored in the same transaction
    /// (once: a retry or a later save of the same response opens none again).
    pub follow_ups: Vec<crate::followups::NewFollowUp>,
    /// The consent a contact answer gives, recorded in the same transaction.
    pub consent: Option<crate::privacy::NewConsent>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// Written (a new response, or a partial one completed or extended).
    Written,
    /// Already stored complete under this id: nothing changed.
    Duplicate,
    /// The invitation was used by another response.
    InvitationUsed,
}

#[derive(Debug, Clone)]
pub struct Impression {
    pub workspace_id: Id,
    pub survey_id: Id,
    pub touchpoint_id: Option<Id>,
}

pub(crate) enum Job {
    Response(Box<NewResponse>, oneshot::Sender<Result<Stored>>),
    Impression(Impression, oneshot::Sender<Result<()>>),
    Encounters(
        Id,
        Vec<NewEncounter>,
        oneshot::Sender<Result<Vec<Recorded>>>,
    ),
    /// A case's status change with its encounter (and notices): see
    /// [`Store::change_case`].
    CaseChange(
        Box<crate::cases::ChangeJob>,
        oneshot::Sender<Result<(crate::cases::Case, bool)>>,
    ),
}

/// What one transaction of the writer produced: one outcome per response job and one
/// list per encounter job, each in queue order.
#[derive(Default)]
struct Outcomes {
    stored: Vec<Stored>,
    recorded: Vec<Vec<Recorded>>,
    /// One per case change, in queue order (a case that is not there is its own
    /// NotFound, not the batch's failure).
    cases: Vec<Result<(crate::cases::Case, bool)>>,
}

/// Handle to the instance's ingest writer. Cheap to clone.
#[derive(Clone)]
pub struct Ingest {
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    /// The single writer with group commit.
    Queue(mpsc::Sender<Job>),
    /// No writer: each request inserts through the shared pool in its own transaction,
    /// as most web applications store a form post. Kept as the benchmark's comparison.
    Direct(Store),
}

/// Rows per INSERT statement. Batches are cut into these sizes so only a handful of
/// distinct statements are ever prepared.
const CHUNKS: [usize; 4] = [128, 32, 8, 1];
const RESPONSE_COLS: usize = 18;

impl Ingest {
    /// Starts the writer. `max_batch` = 1 turns group commit off (one transaction per
    /// response through the writer); 0 means no writer at all (one INSERT per request
    /// through the pool). Both exist for comparison in the benchmark.
    pub fn start(store: Store, max_batch: usize) -> Self {
        if max_batch == 0 {
            return Self {
                inner: Inner::Direct(store),
            };
        }
        let (tx, rx) = mpsc::channel(65_536);
        store.register_writer(tx.downgrade());
        match store.sqlite_file().map(str::to_owned) {
            Some(path) => {
                let handle = tokio::runtime::Handle::current();
                std::thread::Builder::new()
                    .name("kohtaamo-ingest".into())
                    .spawn(move || sqlite_writer(store, path, handle, rx, max_batch))
                    .expect("spawn the ingest writer thread");
            }
            None => {
                tokio::spawn(writer(store, rx, max_batch));
            }
        }
        Self {
            inner: Inner::Queue(tx),
        }
    }

    fn queue(&self) -> std::result::Result<&mpsc::Sender<Job>, &Store> {
        match &self.inner {
            Inner::Queue(tx) => Ok(tx),
            Inner::Direct(store) => Err(store),
        }
    }

    /// Stores a response; returns once it is committed.
    pub async fn response(&self, r: NewResponse) -> Result<Stored> {
        let queue = match self.queue() {
            Ok(q) => q,
            Err(store) => {
                let mut out = write_batch(store, &[&r], &[]).await?;
                return Ok(out.pop().unwrap_or(Stored::Written));
            }
        };
        let (tx, rx) = oneshot::channel();
        queue
            .send(Job::Response(Box::new(r), tx))
            .await
            .map_err(|_| closing())?;
        rx.await.map_err(|_| closing())?
    }

    /// Counts one showing of a survey.
    pub async fn impression(&self, i: Impression) -> Result<()> {
        let queue = match self.queue() {
            Ok(q) => q,
            Err(store) => return write_batch(store, &[], &[&i]).await.map(|_| ()),
        };
        let (tx, rx) = oneshot::channel();
        queue
            .send(Job::Impression(i, tx))
            .await
            .map_err(|_| closing())?;
        rx.await.map_err(|_| closing())?
    }
}

fn closing() -> StoreError {
    StoreError::Conflict("the ingest writer has stopped".into())
}

/// Hands a batch of encounters to a running writer and waits for its commit.
pub(crate) async fn queue_case_change(
    queue: &mpsc::Sender<Job>,
    job: crate::cases::ChangeJob,
) -> Result<(crate::cases::Case, bool)> {
    let (tx, rx) = oneshot::channel();
    queue
        .send(Job::CaseChange(Box::new(job), tx))
        .await
        .map_err(|_| closing())?;
    rx.await.map_err(|_| closing())?
}

pub(crate) async fn queue_encounters(
    queue: &mpsc::Sender<Job>,
    ws: Id,
    rows: Vec<NewEncounter>,
) -> Result<Vec<Recorded>> {
    let (tx, rx) = oneshot::channel();
    queue
        .send(Job::Encounters(ws, rows, tx))
        .await
        .map_err(|_| closing())?;
    rx.await.map_err(|_| closing())?
}

async fn writer(store: Store, mut rx: mpsc::Receiver<Job>, max_batch: usize) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < max_batch {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let result = write_jobs(&store, &jobs).await;
        match settle(jobs, result) {
            None => {}
            Some(jobs) => {
                // One bad row must not fail the others: write the jobs one by one.
                for job in jobs {
                    let r = write_jobs(&store, std::slice::from_ref(&job)).await;
                    answer(vec![job], r);
                }
            }
        }
    }
}

/// Answers a batch's jobs from its result. A batch that failed for a reason other
/// than an outage is handed back (`Some`) to be written job by job.
fn settle(jobs: Vec<Job>, result: Result<Outcomes>) -> Option<Vec<Job>> {
    match result {
        Ok(_) => answer(jobs, result),
        Err(_) if jobs.len() == 1 => answer(jobs, result),
        // The database is down, full or unreachable: every row would fail alike.
        Err(StoreError::Unavailable(o, m)) => {
            for job in jobs {
                answer(vec![job], Err(StoreError::Unavailable(o, m.clone())));
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, size = jobs.len(), "batch failed; retrying singly");
            return Some(jobs);
        }
    }
    None
}

/// Sends every job its outcome (or the batch's error, for a batch of one).
fn answer(jobs: Vec<Job>, result: Result<Outcomes>) {
    let o = match result {
        Ok(o) => o,
        Err(e) => {
            // Only ever called with one job on failure (see `settle`).
            if let Some(job) = jobs.into_iter().next() {
                match job {
                    Job::Response(_, tx) => drop(tx.send(Err(e))),
                    Job::Impression(_, tx) => drop(tx.send(Err(e))),
                    Job::Encounters(_, _, tx) => drop(tx.send(Err(e))),
                    Job::CaseChange(_, tx) => drop(tx.send(Err(e))),
                }
            }
            return;
        }
    };
    let mut stored = o.stored.into_iter();
    let mut recorded = o.recorded.into_iter();
    let mut cases = o.cases.into_iter();
    for job in jobs {
        match job {
            Job::Response(_, tx) => {
                let _ = tx.send(Ok(stored.next().unwrap_or(Stored::Written)));
            }
            Job::Impression(_, tx) => {
                let _ = tx.send(Ok(()));
            }
            Job::Encounters(_, _, tx) => {
                let _ = tx.send(recorded.next().ok_or_else(|| {
                    StoreError::Conflict("no outcome for a batch of encounters".into())
                }));
            }
            Job::CaseChange(_, tx) => {
                let _ = tx.send(cases.next().unwrap_or_else(|| {
                    Err(StoreError::Conflict("no outcome for a case change".into()))
                }));
            }
        }
    }
}

fn take_batch_blocking(rx: &mut mpsc::Receiver<Job>, max_batch: usize) -> Option<Vec<Job>> {
    let first = rx.blocking_recv()?;
    let mut jobs = vec![first];
    while jobs.len() < max_batch {
        match rx.try_recv() {
            Ok(j) => jobs.push(j),
            Err(_) => break,
        }
    }
    Some(jobs)
}

fn sqlite_writer(
    store: Store,
    path: String,
    handle: tokio::runtime::Handle,
    mut rx: mpsc::Receiver<Job>,
    max_batch: usize,
) {
    let mut conn = match open_sqlite(&path) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "ingest writer cannot open the database; using the portable writer");
            handle.spawn(writer(store, rx, max_batch));
            return;
        }
    };
    let mut run = |jobs: &[Job]| {
        let _gate = handle.block_on(store.write_permit());
        let r = sqlite_jobs(&mut conn, jobs).map_err(sqlite_err);
        store.note_write(&r);
        r
    };
    while let Some(jobs) = take_batch_blocking(&mut rx, max_batch) {
        let result = run(&jobs);
        if let Some(jobs) = settle(jobs, result) {
            for job in jobs {
                let r = run(std::slice::from_ref(&job));
                answer(vec![job], r);
            }
        }
    }
}

/// Writes a batch of jobs in one SQLite transaction.
fn sqlite_jobs(conn: &mut rusqlite::Connection, jobs: &[Job]) -> rusqlite::Result<Outcomes> {
    let (responses, impressions, encounters) = split(jobs);
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut out = Outcomes {
        stored: sqlite_batch(&tx, &responses, &impressions)?,
        recorded: Vec::with_capacity(encounters.len()),
        cases: vec![],
    };
    for (ws, rows) in encounters {
        out.recorded
            .push(crate::encounters::sqlite_record(&tx, ws, rows)?);
    }
    for j in jobs {
        if let Job::CaseChange(c, _) = j {
            out.cases.push(crate::cases::sqlite_change(&tx, c)?);
        }
    }
    tx.commit()?;
    Ok(out)
}

/// Writes a batch of jobs in one transaction through the pool (PostgreSQL).
async fn write_jobs(store: &Store, jobs: &[Job]) -> Result<Outcomes> {
    let (responses, impressions, encounters) = split(jobs);
    let (_gate, mut tx) = store.write().await?;
    let r = async {
        let mut out = Outcomes {
            stored: if responses.is_empty() && impressions.is_empty() {
                vec![]
            } else {
                write_in(&mut tx, &responses, &impressions).await?
            },
            recorded: Vec::with_capacity(encounters.len()),
            cases: vec![],
        };
        for (ws, rows) in encounters {
            out.recorded
                .push(crate::encounters::record_in(&mut tx, ws, rows).await?);
        }
        for j in jobs {
            if let Job::CaseChange(c, _) = j {
                out.cases
                    .push(crate::cases::change_in(&mut tx, store.backend(), c).await);
            }
        }
        Ok(out)
    }
    .await;
    store.finish(tx, r).await
}

/// The ingest writer's own SQLite errors, classified as the pool's are: a full disk or
/// an unreachable file is an outage (503), the rest internal.
pub(crate) fn sqlite_err(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode as C;
    let outage = match e.sqlite_error_code() {
        Some(C::DiskFull) => Some(crate::Outage::DiskFull),
        Some(C::DatabaseBusy | C::DatabaseLocked | C::SystemIoFailure | C::CannotOpen) => {
            Some(crate::Outage::Unreachable)
        }
        _ => None,
    };
    match outage {
        Some(o) => StoreError::Unavailable(o, e.to_string()),
        None => StoreError::Db(sqlx::Error::Io(std::io::Error::other(e.to_string()))),
    }
}

pub(crate) fn open_sqlite(path: &str) -> rusqlite::Result<rusqlite::Connection> {
    let c = rusqlite::Connection::open(path)?;
    // The same settings as the pool's connections (durability: a commit is fsynced
    // before the writer acknowledges anything), and a 64 MB page cache (SQLite's
    // default is 2 MB) that keeps the upper levels of every index a batch touches in
    // memory.
    c.execute_batch(crate::SQLITE_PRAGMAS)?;
    c.execute_batch("PRAGMA cache_size = -65536;")?;
    Ok(c)
}

pub(crate) fn to_sql(v: Val) -> rusqlite::types::Value {
    use rusqlite::types::Value;
    match v {
        Val::Int(Some(i)) => Value::Integer(i),
        Val::Text(Some(t)) => Value::Text(t),
        Val::Real(Some(r)) => Value::Real(r),
        Val::Int(None) | Val::Text(None) | Val::Real(None) => Value::Null,
    }
}

/// Writes responses and impressions inside the caller's transaction `tx`; one outcome
/// per response.
fn sqlite_batch(
    tx: &rusqlite::Connection,
    responses: &[&NewResponse],
    impressions: &[&Impression],
) -> rusqlite::Result<Vec<Stored>> {
    let now = crate::now_text();
    let day = now[..10].to_owned();
    let mut out = Vec::with_capacity(responses.len());
    let mut stored_at: Vec<Option<StoredAt>> = Vec::with_capacity(responses.len());
    {
        let upsert = upsert_sql(1);
        let mut stmt = tx.prepare_cached(&upsert)?;
        for r in responses {
            if let Some(h) = &r.invitation {
                let n = tx
                    .prepare_cached(INVITATION_SQL)?
                    .execute(rusqlite::params![now, r.key.as_str(), h, r.survey_id])?;
                if n == 0 {
                    out.push(Stored::InvitationUsed);
                    stored_at.push(None);
                    continue;
                }
            }
            // One statement per row, in arrival order: repeated ids in a batch need
            // no special handling here.
            let vals = response_values(r, &now, &day).into_iter().map(to_sql);
            let mut rows = stmt.query(rusqlite::params_from_iter(vals))?;
            match rows.next()? {
                Some(row) => {
                    out.push(Stored::Written);
                    stored_at.push(Some(StoredAt {
                        touchpoint_id: row.get(2)?,
                        channel: row.get(3)?,
                        locale: row.get(4)?,
                        day: row.get(5)?,
                    }));
                }
                None => {
                    out.push(Stored::Duplicate);
                    stored_at.push(None);
                }
            }
        }
    }
    for (k, t) in rollup_deltas(responses, &stored_at) {
        tx.prepare_cached(ROLLUP_SQL)?
            .execute(rusqlite::params_from_iter(
                rollup_values(&k, &t).into_iter().map(to_sql),
            ))?;
    }
    for ((ws, survey, tp), n) in impression_counts(impressions) {
        tx.prepare_cached(IMPRESSION_SQL)?
            .execute(rusqlite::params![ws, survey, tp, day, n])?;
    }
    for (r, o) in responses.iter().zip(&out) {
        if *o != Stored::Written {
            continue;
        }
        for f in &r.follow_ups {
            tx.prepare_cached(crate::followups::INSERT_SQL)?.execute(
                rusqlite::params_from_iter(follow_up_values(r, f, &now).into_iter().map(to_sql)),
            )?;
        }
        if let Some(c) = &r.consent {
            tx.prepare_cached(crate::privacy::CONSENT_SQL)?
                .execute(rusqlite::params_from_iter(
                    crate::privacy::consent_values(
                        r.workspace_id,
                        c,
                        r.at.as_deref().unwrap_or(&now),
                    )
                    .into_iter()
                    .map(to_sql),
                ))?;
        }
    }
    Ok(out)
}

/// The values of a follow-up opened with response `r`, at the response's time.
fn follow_up_values(r: &NewResponse, f: &crate::followups::NewFollowUp, now: &str) -> Vec<Val> {
    crate::followups::insert_values(
        r.workspace_id,
        crate::followups::Origin::Response {
            survey: r.survey_id,
            key: r.key.as_str(),
        },
        f,
        r.at.as_deref().unwrap_or(now),
    )
}

/// Where a complete response is counted: survey, touchpoint (0 = none), day, channel
/// and locale ('' = none).
type RollupKey = (Id, Id, Id, String, String, String);

fn rollup_values(k: &RollupKey, t: &Tally) -> Vec<Val> {
    vec![
        k.0.into(),
        k.1.into(),
        k.2.into(),
        k.3.clone().into(),
        k.4.clone().into(),
        k.5.clone().into(),
        t.responses.into(),
        t.nps_n.into(),
        t.promoters.into(),
        t.detractors.into(),
        t.csat_n.into(),
        t.csat_pos.into(),
        t.ces_n.into(),
        t.ces_sum.into(),
        t.ces_sumsq.into(),
    ]
}

/// Where a stored response row (`complete, nps, csat, ces, touchpoint_id, day,
/// channel, locale, suspect`) is counted and with what, if it counts: complete and
/// not suspect.
fn counted_tally(
    ws: Id,
    survey: Id,
    row: &AnyRow,
) -> std::result::Result<Option<(RollupKey, Tally)>, sqlx::Error> {
    if row.try_get::<i64, _>("complete")? == 0
        || row.try_get::<Option<String>, _>("suspect")?.is_some()
    {
        return Ok(None);
    }
    let k: RollupKey = (
        ws,
        survey,
        row.try_get::<Option<i64>, _>("touchpoint_id")?.unwrap_or(0),
        row.try_get("day")?,
        row.try_get::<Option<String>, _>("channel")?
            .unwrap_or_default(),
        row.try_get::<Option<String>, _>("locale")?
            .unwrap_or_default(),
    );
    let t = Tally::of(
        row.try_get("nps")?,
        row.try_get("csat")?,
        row.try_get("ces")?,
    );
    Ok(Some((k, t)))
}

/// Adds a tally (negative to subtract) to one rollup row.
const ROLLUP_SQL: &str = "INSERT INTO score_rollups (workspace_id, survey_id, touchpoint_id, day, channel, locale, responses, nps_n, promoters, detractors, csat_n, csat_pos, ces_n, ces_sum, ces_sumsq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (survey_id, touchpoint_id, day, channel, locale) DO UPDATE SET responses = score_rollups.responses + excluded.responses, nps_n = score_rollups.nps_n + excluded.nps_n, promoters = score_rollups.promoters + excluded.promoters, detractors = score_rollups.detractors + excluded.detractors, csat_n = score_rollups.csat_n + excluded.csat_n, csat_pos = score_rollups.csat_pos + excluded.csat_pos, ces_n = score_rollups.ces_n + excluded.ces_n, ces_sum = score_rollups.ces_sum + excluded.ces_sum, ces_sumsq = score_rollups.ces_sumsq + excluded.ces_sumsq";

/// Where a written response now is (read back from the upsert, since completing a
/// partial response may change its touchpoint, channel or language but not its day).
#[derive(Debug, Clone)]
struct StoredAt {
    touchpoint_id: Option<Id>,
    channel: Option<String>,
    locale: Option<String>,
    day: String,
}

/// The rollup deltas of a batch: every response that became complete in it (a
/// complete response is final, so it is counted exactly once), under the values the
/// stored row has. A suspect response is not counted (until accepted).
fn rollup_deltas(
    responses: &[&NewResponse],
    stored_at: &[Option<StoredAt>],
) -> BTreeMap<RollupKey, Tally> {
    let mut m: BTreeMap<RollupKey, Tally> = BTreeMap::new();
    for (r, at) in responses.iter().zip(stored_at) {
        if let (Some(at), true, None) = (at, r.complete, r.suspect) {
            let k: RollupKey = (
                r.workspace_id,
                r.survey_id,
                at.touchpoint_id.unwrap_or(0),
                at.day.clone(),
                at.channel.clone().unwrap_or_default(),
                at.locale.clone().unwrap_or_default(),
            );
            *m.entry(k).or_default() += Tally::of(r.scores.nps, r.scores.csat, r.scores.ces);
        }
    }
    m
}

const INVITATION_SQL: &str = "UPDATE invitations SET used_at = $1, response_key = $2 WHERE token_hash = $3 AND survey_id = $4 AND (used_at IS NULL OR response_key = $2)";
const IMPRESSION_SQL: &str = "INSERT INTO impressions (workspace_id, survey_id, touchpoint_id, day, shown) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (survey_id, touchpoint_id, day) DO UPDATE SET shown = impressions.shown + excluded.shown";

fn impression_counts(impressions: &[&Impression]) -> BTreeMap<(Id, Id, Id), i64> {
    let mut counts: BTreeMap<(Id, Id, Id), i64> = BTreeMap::new();
    for i in impressions {
        *counts
            .entry((i.workspace_id, i.survey_id, i.touchpoint_id.unwrap_or(0)))
            .or_default() += 1;
    }
    counts
}

/// The bound values of one response row, in [`upsert_sql`]'s column order.
fn response_values(r: &NewResponse, now: &str, day: &str) -> Vec<Val> {
    let h = &r.hidden;
    let (now, day) = match &r.at {
        Some(at) if at.len() >= 10 => (at.as_str(), &at[..10]),
        _ => (now, day),
    };
    vec![
        Val::from(r.workspace_id),
        r.survey_id.into(),
        r.key.as_str().into(),
        h.touchpoint_id.into(),
        h.channel.clone().into(),
        h.locale.as_ref().map(|l| l.as_str().to_owned()).into(),
        h.customer_ref.clone().into(),
        h.case_ref.clone().into(),
        serde_json::to_string(&h.custom)
            .unwrap_or_else(|_| "{}".into())
            .into(),
        r.answers.to_json().into(),
        r.scores.nps.into(),
        r.scores.csat.into(),
        r.scores.ces.into(),
        r.complete.into(),
        day.into(),
        now.into(),
        now.into(),
        r.suspect.map(|s| s.as_str().to_owned()).into(),
    ]
}

type Split<'a> = (
    Vec<&'a NewResponse>,
    Vec<&'a Impression>,
    Vec<(Id, &'a [NewEncounter])>,
);

fn split(jobs: &[Job]) -> Split<'_> {
    let (mut r, mut i, mut e) = (Vec::new(), Vec::new(), Vec::new());
    for j in jobs {
        match j {
            Job::Response(x, _) => r.push(&**x),
            Job::Impression(x, _) => i.push(x),
            Job::Encounters(ws, rows, _) => e.push((*ws, rows.as_slice())),
            Job::CaseChange(..) => {}
        }
    }
    (r, i, e)
}

/// Writes one batch the way the instance's writer does (on SQLite through its own
/// connection), outside the queue: the benchmark's "raw batched insert" ceiling.
pub async fn write_batch_direct(store: &Store, responses: &[&NewResponse]) -> Result<Vec<Stored>> {
    match store.sqlite_file() {
        Some(_) => {
            let owned: Vec<NewResponse> = responses.iter().map(|r| (*r).clone()).collect();
            store
                .with_bulk_connection(move |conn| {
                    let refs: Vec<&NewResponse> = owned.iter().collect();
                    let tx =
                        conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                    let out = sqlite_batch(&tx, &refs, &[])?;
                    tx.commit()?;
                    Ok(out)
                })
                .await
        }
        None => write_batch(store, responses, &[]).await,
    }
}

/// Writes responses and impressions in one transaction; one outcome per response.
pub async fn write_batch(
    store: &Store,
    responses: &[&NewResponse],
    impressions: &[&Impression],
) -> Result<Vec<Stored>> {
    let (_gate, mut tx) = store.write().await?;
    let r = write_in(&mut tx, responses, impressions).await;
    store.finish(tx, r).await
}

async fn write_in(
    tx: &mut Tx,
    responses: &[&NewResponse],
    impressions: &[&Impression],
) -> Result<Vec<Stored>> {
    let now = crate::now_text();
    let day = now[..10].to_owned();
    let mut out = vec![Stored::Duplicate; responses.len()];
    let mut stored_at: Vec<Option<StoredAt>> = vec![None; responses.len()];
    let mut pending = Vec::with_capacity(responses.len());
    // Invitations are taken in the order of their hashes (lock order, as below).
    let mut by_invitation: Vec<usize> = (0..responses.len()).collect();
    by_invitation.sort_by_key(|&i| responses[i].invitation.as_deref());
    for i in by_invitation {
        let r = responses[i];
        if let Some(h) = &r.invitation {
            // Single use: the first response takes it; the same response may come
            // back (a retry, or a partial save being completed).
            let n = sqlx::query(INVITATION_SQL)
                .bind(&now)
                .bind(r.key.as_str())
                .bind(h)
                .bind(r.survey_id)
                .execute(&mut **tx)
                .await?
                .rows_affected();
            if n == 0 {
                out[i] = Stored::InvitationUsed;
                continue;
            }
        }
        pending.push(i);
    }
    pending.sort_unstable();
    // A multi-row upsert may not touch one key twice, so repeated keys in one batch
    // go in later rounds, in arrival order.
    while !pending.is_empty() {
        let mut seen = HashSet::new();
        let (mut this, next): (Vec<usize>, Vec<usize>) = pending
            .into_iter()
            .partition(|&i| seen.insert((responses[i].survey_id, responses[i].key.as_str())));
        // Rows are locked in key order, whatever order they arrived in, so two
        // instances writing overlapping ids cannot deadlock (each waits for the other
        // only in one direction). Later rounds lock nothing new: their keys were
        // locked in the first.
        this.sort_by_key(|&i| (responses[i].survey_id, responses[i].key.as_str()));
        let mut rest = &this[..];
        while !rest.is_empty() {
            let size = CHUNKS.into_iter().find(|c| *c <= rest.len()).unwrap_or(1);
            let (chunk, tail) = rest.split_at(size);
            rest = tail;
            let mut written = upsert(tx, chunk.iter().map(|&i| responses[i]), &now, &day).await?;
            for &i in chunk {
                let r = responses[i];
                if let Some(at) = written.remove(&(r.survey_id, r.key.as_str().to_owned())) {
                    out[i] = Stored::Written;
                    stored_at[i] = Some(at);
                }
            }
        }
        pending = next;
    }
    for (k, t) in rollup_deltas(responses, &stored_at) {
        bind(sqlx::query(ROLLUP_SQL), rollup_values(&k, &t))
            .execute(&mut **tx)
            .await?;
    }
    for ((ws, survey, tp), n) in impression_counts(impressions) {
        sqlx::query(IMPRESSION_SQL)
            .bind(ws)
            .bind(survey)
            .bind(tp)
            .bind(&day)
            .bind(n)
            .execute(&mut **tx)
            .await?;
    }
    for (r, o) in responses.iter().zip(&out) {
        if *o != Stored::Written {
            continue;
        }
        for f in &r.follow_ups {
            bind(
                sqlx::query(crate::followups::INSERT_SQL),
                follow_up_values(r, f, &now),
            )
            .execute(&mut **tx)
            .await?;
        }
        if let Some(c) = &r.consent {
            bind(
                sqlx::query(crate::privacy::CONSENT_SQL),
                crate::privacy::consent_values(r.workspace_id, c, r.at.as_deref().unwrap_or(&now)),
            )
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(out)
}

fn upsert_sql(rows: usize) -> String {
    let mut sql = String::from("INSERT INTO responses (workspace_id, survey_id, response_key, touchpoint_id, channel, locale, customer_ref, case_ref, custom, answers, nps, csat, ces, complete, day, created_at, updated_at, suspect) VALUES ");
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..RESPONSE_COLS {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", r * RESPONSE_COLS + c + 1));
        }
        sql.push(')');
    }
    // A complete response is final; a partial one (the widget saves as it goes) is
    // replaced by its later saves.
    sql.push_str(" ON CONFLICT (survey_id, response_key) DO UPDATE SET touchpoint_id = excluded.touchpoint_id, channel = excluded.channel, locale = excluded.locale, customer_ref = excluded.customer_ref, case_ref = excluded.case_ref, custom = excluded.custom, answers = excluded.answers, nps = excluded.nps, csat = excluded.csat, ces = excluded.ces, complete = excluded.complete, updated_at = excluded.updated_at, suspect = excluded.suspect WHERE responses.complete = 0 RETURNING survey_id, response_key, touchpoint_id, channel, locale, day");
    sql
}

async fn upsert<'a>(
    tx: &mut Tx,
    rows: impl Iterator<Item = &'a NewResponse>,
    now: &str,
    day: &str,
) -> Result<HashMap<(Id, String), StoredAt>> {
    let mut vals = Vec::new();
    let mut n = 0;
    for r in rows {
        n += 1;
        vals.extend(response_values(r, now, day));
    }
    let sql = upsert_sql(n);
    let rows = bind(sqlx::query(&sql), vals).fetch_all(&mut **tx).await?;
    rows.iter()
        .map(|row| {
            Ok((
                (row.try_get::<i64, _>(0)?, row.try_get::<String, _>(1)?),
                StoredAt {
                    touchpoint_id: row.try_get(2)?,
                    channel: row.try_get(3)?,
                    locale: row.try_get(4)?,
                    day: row.try_get(5)?,
                },
            ))
        })
        .collect()
}

/// A stored response as staff see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Response {
    pub id: Id,
    pub survey_id: Id,
    pub response_key: String,
    pub touchpoint_id: Option<Id>,
    pub channel: Option<String>,
    pub locale: Option<String>,
    pub customer_ref: Option<String>,
    pub case_ref: Option<String>,
    pub custom: BTreeMap<String, String>,
    pub answers: Answers,
    pub nps: Option<i64>,
    pub csat: Option<i64>,
    pub ces: Option<i64>,
    pub complete: bool,
    pub created_at: String,
    pub updated_at: String,
    /// Why a bot check set it apart (not counted in scores); null = counted.
    pub suspect: Option<Suspicion>,
}

pub(crate) const RESPONSE_SELECT: &str = "SELECT id, survey_id, response_key, touchpoint_id, channel, locale, customer_ref, case_ref, custom, answers, nps, csat, ces, complete, created_at, updated_at, suspect FROM responses";

pub fn response_from_row(row: &AnyRow) -> std::result::Result<Response, sqlx::Error> {
    let custom: String = row.try_get("custom")?;
    let answers: String = row.try_get("answers")?;
    Ok(Response {
        id: row.try_get("id")?,
        survey_id: row.try_get("survey_id")?,
        response_key: row.try_get("response_key")?,
        touchpoint_id: row.try_get("touchpoint_id")?,
        channel: row.try_get("channel")?,
        locale: row.try_get("locale")?,
        customer_ref: row.try_get("customer_ref")?,
        case_ref: row.try_get("case_ref")?,
        custom: serde_json::from_str(&custom)
            .map_err(|e| crate::entity::decode_err("custom", e))?,
        answers: Answers::from_json(&answers)
            .map_err(|e| crate::entity::decode_err("answers", e))?,
        nps: row.try_get("nps")?,
        csat: row.try_get("csat")?,
        ces: row.try_get("ces")?,
        complete: row.try_get::<i64, _>("complete")? != 0,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        // An unknown stored value (a later version's) still reads as suspect.
        suspect: row
            .try_get::<Option<String>, _>("suspect")?
            .map(|s| Suspicion::parse(&s).unwrap_or(Suspicion::TooFast)),
    })
}

/// Filters of the staff response list and exports. All optional.
#[derive(Debug, Clone, Default)]
pub struct ResponseFilter {
    /// Inclusive first day, `YYYY-MM-DD`.
    pub from: Option<chrono::NaiveDate>,
    /// Inclusive last day.
    pub to: Option<chrono::NaiveDate>,
    /// NPS band: promoter, passive or detractor.
    pub band: Option<&'static str>,
    pub lang: Option<String>,
    pub touchpoint_id: Option<Id>,
    /// Case-insensitive text search in the answers.
    pub q: Option<String>,
    /// Only complete (true) or only partial (false) responses.
    pub complete: Option<bool>,
    /// Only responses a bot check set apart (true) or only counted ones (false).
    /// Figures never count suspect responses, so a `group` implies false.
    pub suspect: Option<bool>,
    /// Only the responses behind one analytics group (any survey of the workspace).
    pub group: Option<Selector>,
}

impl ResponseFilter {
    /// The WHERE clause and its values; `survey` None = every survey of `ws`.
    fn sql(&self, ws: Id, survey: Option<Id>) -> (String, Vec<Val>) {
        let mut conds = vec!["workspace_id = $1".to_string()];
        let mut vals: Vec<Val> = vec![ws.into()];
        let mut add = |cond: &str, v: Val, vals: &mut Vec<Val>| {
            vals.push(v);
            conds.push(cond.replace('?', &format!("${}", vals.len())));
        };
        if let Some(s) = survey {
            add("survey_id = ?", s.into(), &mut vals);
        }
        if let Some(d) = self.from {
            add(
                "created_at >= ?",
                d.format("%Y-%m-%d").to_string().into(),
                &mut vals,
            );
        }
        if let Some(d) = self.to {
            // created_at is RFC 3339 text; the day after, as text, bounds the last day.
            let next = d.succ_opt().unwrap_or(d);
            add(
                "created_at < ?",
                next.format("%Y-%m-%d").to_string().into(),
                &mut vals,
            );
        }
        if let Some(b) = self.band {
            let (lo, hi) = match b {
                "promoter" => (9, 10),
                "passive" => (7, 8),
                _ => (0, 6),
            };
            add("nps >= ?", Val::from(lo as i64), &mut vals);
            add("nps <= ?", Val::from(hi as i64), &mut vals);
        }
        if let Some(l) = &self.lang {
            add("locale = ?", l.clone().into(), &mut vals);
        }
        if let Some(t) = self.touchpoint_id {
            add("touchpoint_id = ?", t.into(), &mut vals);
        }
        if let Some(q) = &self.q {
            let pat = format!(
                "%{}%",
                q.to_lowercase()
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            add("LOWER(answers) LIKE ? ESCAPE '\\'", pat.into(), &mut vals);
        }
        if let Some(c) = self.complete {
            add("complete = ?", c.into(), &mut vals);
        }
        match &self.group {
            None => {}
            Some(Selector::Survey(s)) => add("survey_id = ?", (*s).into(), &mut vals),
            // Rollups keep a missing channel or language as ''.
            Some(Selector::Channel(c)) => {
                add("COALESCE(channel, '') = ?", c.clone().into(), &mut vals)
            }
            Some(Selector::Language(l)) => {
                add("COALESCE(locale, '') = ?", l.clone().into(), &mut vals)
            }
            Some(Selector::Model {
                touchpoints,
                surveys,
            }) => {
                let list = |ids: &[Id], vals: &mut Vec<Val>| {
                    let marks: Vec<String> = ids
                        .iter()
                        .map(|id| {
                            vals.push((*id).into());
                            format!("${}", vals.len())
                        })
                        .collect();
                    if marks.is_empty() {
                        "NULL".to_string()
                    } else {
                        marks.join(", ")
                    }
                };
                let t = list(touchpoints, &mut vals);
                let s = list(surveys, &mut vals);
                conds.push(format!(
                    "(touchpoint_id IN ({t}) OR (touchpoint_id IS NULL AND survey_id IN ({s})))"
                ));
            }
        }
        match self.suspect.or(self.group.as_ref().map(|_| false)) {
            Some(true) => conds.push("suspect IS NOT NULL".into()),
            Some(false) => conds.push("suspect IS NULL".into()),
            None => {}
        }
        (conds.join(" AND "), vals)
    }
}

/// One page of responses, newest first, with the total.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ResponsePage {
    pub items: Vec<Response>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// Impressions and responses of a survey, for response rate and drop-off.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Funnel {
    pub shown: i64,
    pub started: i64,
    pub completed: i64,
}

/// A personal invitation as listed to staff (the token itself is shown once).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Invitation {
    pub id: Id,
    pub touchpoint_id: Option<Id>,
    pub customer_ref: Option<String>,
    pub case_ref: Option<String>,
    pub created_at: String,
    pub used_at: Option<String>,
}

/// A personal invitation to create: token hash, touchpoint, customer and case refs.
pub type NewInvitation = (String, Option<Id>, Option<String>, Option<String>);

/// What an invitation pre-fills.
#[derive(Debug, Clone)]
pub struct InvitationInfo {
    pub touchpoint_id: Option<Id>,
    pub customer_ref: Option<String>,
    pub case_ref: Option<String>,
    pub used_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: Id,
    pub user_id: Option<Id>,
    /// Who acted: `user:<id>`, `token:<name>`, `system`, `retention`.
    pub actor: Option<String>,
    pub action: String,
    pub object: String,
    pub detail: String,
    pub at: String,
    /// Its place in the workspace's chain (from 1) and its hash (SHA-256, hex) over
    /// the previous entry's hash and its fields; see `kohtaamo audit verify`.
    pub seq: Option<i64>,
    pub hash: Option<String>,
}

impl Store {
    /// The survey behind a public key, with what the public side needs.
    pub async fn live_survey(&self, key: &str) -> Result<Option<LiveSurvey>> {
        use crate::Entity;
        let sql = format!(
            "SELECT s.id, s.workspace_id, s.public_key, w.default_language, {} FROM surveys s JOIN workspaces w ON w.id = s.workspace_id WHERE s.public_key = $1",
            kohtaamo_domain::survey::SurveyData::COLUMNS
                .iter()
                .map(|c| format!("s.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let row = sqlx::query(&sql)
            .bind(key)
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(LiveSurvey {
            id: row.try_get("id")?,
            workspace_id: row.try_get("workspace_id")?,
            public_key: row.try_get("public_key")?,
            default_language: row.try_get("default_language")?,
            data: SurveyData::from_row(&row)?,
        }))
    }

    /// The public key of a survey (its link).
    pub async fn survey_key(&self, ws: Id, id: Id) -> Result<String> {
        sqlx::query_scalar("SELECT public_key FROM surveys WHERE workspace_id = $1 AND id = $2")
            .bind(ws)
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Every touchpoint id of workspace `ws`.
    pub async fn touchpoint_ids(&self, ws: Id) -> Result<Vec<Id>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM touchpoints WHERE workspace_id = $1")
                .bind(ws)
                .fetch_all(self.pool())
                .await?,
        )
    }

    /// The touchpoints of a journey, in map order.
    pub async fn journey_touchpoint_ids(&self, ws: Id, journey: Id) -> Result<Vec<Id>> {
        Ok(sqlx::query_scalar("SELECT t.id FROM touchpoints t JOIN stages s ON s.workspace_id = t.workspace_id AND s.id = t.stage_id WHERE t.workspace_id = $1 AND s.journey_id = $2 ORDER BY s.position, t.position")
            .bind(ws)
            .bind(journey)
            .fetch_all(self.pool())
            .await?)
    }

    /// Whether `touchpoint` is a touchpoint of workspace `ws`.
    pub async fn touchpoint_exists(&self, ws: Id, touchpoint: Id) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM touchpoints WHERE workspace_id = $1 AND id = $2",
        )
        .bind(ws)
        .bind(touchpoint)
        .fetch_one(self.pool())
        .await?;
        Ok(n > 0)
    }

    pub async fn responses(
        &self,
        ws: Id,
        survey: Option<Id>,
        f: &ResponseFilter,
        limit: i64,
        offset: i64,
    ) -> Result<ResponsePage> {
        let (cond, vals) = f.sql(ws, survey);
        let total: i64 = bind(
            sqlx::query(&format!("SELECT COUNT(*) FROM responses WHERE {cond}")),
            vals.clone(),
        )
        .fetch_one(self.pool())
        .await?
        .try_get(0)?;
        let n = vals.len();
        let sql = format!(
            "{RESPONSE_SELECT} WHERE {cond} ORDER BY created_at DESC, id DESC LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let mut vals = vals;
        vals.push(limit.into());
        vals.push(offset.into());
        let rows = bind(sqlx::query(&sql), vals).fetch_all(self.pool()).await?;
        let items = rows
            .iter()
            .map(response_from_row)
            .collect::<std::result::Result<_, _>>()?;
        Ok(ResponsePage {
            items,
            total,
            limit,
            offset,
        })
    }

    /// Up to `limit` matching responses with ids above `after`, in id order: exports
    /// walk a survey's responses page by page without holding them all in memory.
    pub async fn responses_after(
        &self,
        ws: Id,
        survey: Id,
        f: &ResponseFilter,
        after: Id,
        limit: i64,
    ) -> Result<Vec<Response>> {
        let (cond, mut vals) = f.sql(ws, Some(survey));
        let n = vals.len();
        let sql = format!(
            "{RESPONSE_SELECT} WHERE {cond} AND id > ${} ORDER BY id LIMIT ${}",
            n + 1,
            n + 2
        );
        vals.push(after.into());
        vals.push(limit.into());
        let rows = bind(sqlx::query(&sql), vals).fetch_all(self.pool()).await?;
        Ok(rows
            .iter()
            .map(response_from_row)
            .collect::<std::result::Result<_, _>>()?)
    }

    pub async fn response(&self, ws: Id, survey: Id, id: Id) -> Result<Response> {
        let row = sqlx::query(&format!(
            "{RESPONSE_SELECT} WHERE workspace_id = $1 AND survey_id = $2 AND id = $3"
        ))
        .bind(ws)
        .bind(survey)
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(response_from_row(&row)?)
    }

    /// Deletes a response and records who did it in the audit trail, atomically.
    pub async fn delete_response(
        &self,
        ws: Id,
        survey: Id,
        id: Id,
        user: Option<Id>,
    ) -> Result<()> {
        let (_gate, mut tx) = self.write().await?;
        let r = async {
            let row = sqlx::query(
                "DELETE FROM responses WHERE workspace_id = $1 AND survey_id = $2 AND id = $3 RETURNING response_key, complete, nps, csat, ces, touchpoint_id, day, channel, locale, suspect",
            )
            .bind(ws)
            .bind(survey)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
            let key: String = row.try_get("response_key")?;
            // Keep the rollups exact: take a counted response's tally back out.
            if let Some((k, t)) = counted_tally(ws, survey, &row)? {
                bind(sqlx::query(ROLLUP_SQL), rollup_values(&k, &-t))
                    .execute(&mut *tx)
                    .await?;
            }
            audit(
                &mut tx,
                ws,
                user,
                "delete_response",
                &format!("survey {survey} response {id}"),
                &format!("response id {key}"),
            )
            .await
        }
        .await;
        self.finish(tx, r).await
    }

    /// Counts a response a bot check set apart (a person's answer after all): clears
    /// the mark and adds it to the rollups, with an audit entry, atomically. Accepting
    /// a counted response changes nothing.
    pub async fn accept_response(
        &self,
        ws: Id,
        survey: Id,
        id: Id,
        user: Option<Id>,
    ) -> Result<()> {
        let (_gate, mut tx) = self.write().await?;
        let r = async {
            let row = sqlx::query(
                "UPDATE responses SET suspect = NULL WHERE workspace_id = $1 AND survey_id = $2 AND id = $3 AND suspect IS NOT NULL RETURNING response_key, complete, nps, csat, ces, touchpoint_id, day, channel, locale, NULL AS suspect",
            )
            .bind(ws)
            .bind(survey)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = row else {
                // Not suspect (nothing to do) or not there (404).
                let n: i64 = sqlx::query(
                    "SELECT COUNT(*) FROM responses WHERE workspace_id = $1 AND survey_id = $2 AND id = $3",
                )
                .bind(ws)
                .bind(survey)
                .bind(id)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
                return if n == 0 {
                    Err(StoreError::NotFound)
                } else {
                    Ok(())
                };
            };
            if let Some((k, t)) = counted_tally(ws, survey, &row)? {
                bind(sqlx::query(ROLLUP_SQL), rollup_values(&k, &t))
                    .execute(&mut *tx)
                    .await?;
            }
            let key: String = row.try_get("response_key")?;
            audit(
                &mut tx,
                ws,
                user,
                "accept_response",
                &format!("survey {survey} response {id}"),
                &format!("response id {key}"),
            )
            .await
        }
        .await;
        self.finish(tx, r).await
    }

    pub async fn audit_log(&self, ws: Id, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query("SELECT id, user_id, actor, action, object, detail, at, seq, hash FROM audit_log WHERE workspace_id = $1 ORDER BY id DESC LIMIT $2")
            .bind(ws)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get("id")?,
                    user_id: r.try_get("user_id")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    object: r.try_get("object")?,
                    detail: r.try_get("detail")?,
                    at: r.try_get("at")?,
                    seq: r.try_get("seq")?,
                    hash: r.try_get("hash")?,
                })
            })
            .collect()
    }

    pub async fn funnel(&self, ws: Id, survey: Id) -> Result<Funnel> {
        let shown: Option<i64> = sqlx::query_scalar(
            "SELECT CAST(SUM(shown) AS BIGINT) FROM impressions WHERE workspace_id = $1 AND survey_id = $2",
        )
        .bind(ws)
        .bind(survey)
        .fetch_one(self.pool())
        .await?;
        let row = sqlx::query("SELECT COUNT(*), CAST(SUM(complete) AS BIGINT) FROM responses WHERE workspace_id = $1 AND survey_id = $2")
            .bind(ws)
            .bind(survey)
            .fetch_one(self.pool())
            .await?;
        Ok(Funnel {
            shown: shown.unwrap_or(0),
            started: row.try_get(0)?,
            completed: row.try_get::<Option<i64>, _>(1)?.unwrap_or(0),
        })
    }

    /// Creates personal invitations; `hashes` are SHA-256 of the tokens the caller
    /// hands out once.
    pub async fn create_invitations(
        &self,
        ws: Id,
        survey: Id,
        items: &[NewInvitation],
    ) -> Result<Vec<Id>> {
        let (_gate, mut tx) = self.write().await?;
        let r = async {
            let now = crate::now_text();
            let mut ids = Vec::new();
            for (hash, tp, cref, case) in items {
                let id: i64 = sqlx::query_scalar("INSERT INTO invitations (workspace_id, survey_id, token_hash, touchpoint_id, customer_ref, case_ref, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
                    .bind(ws)
                    .bind(survey)
                    .bind(hash)
                    .bind(*tp)
                    .bind(cref.clone())
                    .bind(case.clone())
                    .bind(&now)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| StoreError::from_db(e, "invitation"))?;
                ids.push(id);
            }
            Ok(ids)
        }
        .await;
        self.finish(tx, r).await
    }

    pub async fn invitations(&self, ws: Id, survey: Id) -> Result<Vec<Invitation>> {
        let rows = sqlx::query("SELECT id, touchpoint_id, customer_ref, case_ref, created_at, used_at FROM invitations WHERE workspace_id = $1 AND survey_id = $2 ORDER BY id")
            .bind(ws)
            .bind(survey)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Invitation {
                    id: r.try_get("id")?,
                    touchpoint_id: r.try_get("touchpoint_id")?,
                    customer_ref: r.try_get("customer_ref")?,
                    case_ref: r.try_get("case_ref")?,
                    created_at: r.try_get("created_at")?,
                    used_at: r.try_get("used_at")?,
                })
            })
            .collect()
    }

    /// The invitation behind a token hash for `survey`, if any.
    pub async fn invitation(&self, survey: Id, hash: &str) -> Result<Option<InvitationInfo>> {
        let row = sqlx::query("SELECT touchpoint_id, customer_ref, case_ref, response_key FROM invitations WHERE survey_id = $1 AND token_hash = $2")
            .bind(survey)
            .bind(hash)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| {
            Ok(InvitationInfo {
                touchpoint_id: r.try_get("touchpoint_id")?,
                customer_ref: r.try_get("customer_ref")?,
                case_ref: r.try_get("case_ref")?,
                used_by: r.try_get("response_key")?,
            })
        })
        .transpose()
    }

    /// A per-installation secret, created on first use and shared by every instance.
    /// Once stored a secret never changes, so each instance keeps what it has read.
    pub async fn instance_secret(&self, name: &str) -> Result<String> {
        if let Some(v) = self.secrets.read().ok().and_then(|m| m.get(name).cloned()) {
            return Ok(v);
        }
        let v = self.load_instance_secret(name).await?;
        if let Ok(mut m) = self.secrets.write() {
            m.insert(name.to_owned(), v.clone());
        }
        Ok(v)
    }

    /// Stores `value` as the secret `name` unless one is stored; returns the stored one.
    pub async fn set_instance_secret_if_absent(&self, name: &str, value: &str) -> Result<String> {
        let (_gate, mut tx) = self.write().await?;
        let r = sqlx::query("INSERT INTO instance_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(value)
            .execute(&mut *tx)
            .await
            .map(|_| ())
            .map_err(StoreError::from);
        self.finish(tx, r).await?;
        if let Ok(mut m) = self.secrets.write() {
            m.remove(name);
        }
        self.instance_secret(name).await
    }

    async fn load_instance_secret(&self, name: &str) -> Result<String> {
        if let Some(v) =
            sqlx::query_scalar::<_, String>("SELECT value FROM instance_settings WHERE name = $1")
                .bind(name)
                .fetch_optional(self.pool())
                .await?
        {
            return Ok(v);
        }
        let fresh = {
            use rand::RngCore;
            let mut b = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut b);
            hex::encode(b)
        };
        let (_gate, mut tx) = self.write().await?;
        let r = sqlx::query("INSERT INTO instance_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(&fresh)
            .execute(&mut *tx)
            .await
            .map(|_| ())
            .map_err(StoreError::from);
        self.finish(tx, r).await?;
        // Another instance may have won the race; everyone uses the stored value.
        Ok(
            sqlx::query_scalar("SELECT value FROM instance_settings WHERE name = $1")
                .bind(name)
                .fetch_one(self.pool())
                .await?,
        )
    }

    /// Adds `n` showings of a survey on `day` (the demo generator's history).
    pub async fn add_impressions(
        &self,
        ws: Id,
        survey: Id,
        touchpoint: Option<Id>,
        day: &str,
        n: i64,
    ) -> Result<()> {
        let (_gate, mut tx) = self.write().await?;
        let r = sqlx::query(IMPRESSION_SQL)
            .bind(ws)
            .bind(survey)
            .bind(touchpoint.unwrap_or(0))
            .bind(day)
            .bind(n)
            .execute(&mut *tx)
            .await
            .map(|_| ())
            .map_err(StoreError::from);
        self.finish(tx, r).await
    }

    /// Counts responses per survey key (for the benchmark's and crash test's checks).
    /// The id of the response `key` of a survey in workspace `ws`, if stored.
    pub async fn response_id(&self, ws: Id, survey: Id, key: &str) -> Result<Option<Id>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM responses WHERE workspace_id = $1 AND survey_id = $2 AND response_key = $3",
        )
        .bind(ws)
        .bind(survey)
        .bind(key)
        .fetch_optional(self.pool())
        .await?)
    }

    pub async fn response_keys(&self, survey: Id) -> Result<HashMap<String, bool>> {
        let rows = sqlx::query("SELECT response_key, complete FROM responses WHERE survey_id = $1")
            .bind(survey)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get::<i64, _>(1)? != 0)))
            .collect()
    }
}

/// An audit entry by a user (or the system) in the workspace's chain.
pub(crate) async fn audit(
    tx: &mut Tx,
    ws: Id,
    user: Option<Id>,
    action: &str,
    object: &str,
    detail: &str,
) -> Result<()> {
    let by = user.map_or_else(crate::privacy::Actor::system, crate::privacy::Actor::user);
    crate::privacy::append(tx, ws, &by, action, object, detail).await
}

/// Takes deleted responses' tallies back out of the rollups (rows as returned by a
/// `DELETE … RETURNING survey_id, complete, nps, csat, ces, touchpoint_id, day,
/// channel, locale, suspect`).
pub(crate) async fn subtract_from_rollups(tx: &mut Tx, ws: Id, rows: &[AnyRow]) -> Result<()> {
    for row in rows {
        let survey: Id = row.try_get("survey_id")?;
        if let Some((k, t)) = counted_tally(ws, survey, row)? {
            bind(sqlx::query(ROLLUP_SQL), rollup_values(&k, &-t))
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

/// How [`Store::tallies`] sums rollups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TallyBy {
    Group,
    GroupAndDay,
    Day,
}

/// Summed rollups of one survey × touchpoint × channel × locale (× day when asked).
#[derive(Debug, Clone)]
pub struct TallyRow {
    pub survey_id: Id,
    /// None: the response named no touchpoint (journey or package surveys).
    pub touchpoint_id: Option<Id>,
    pub channel: String,
    pub locale: String,
    /// `YYYY-MM-DD` when grouped by day, else empty.
    pub day: String,
    pub tally: Tally,
}

impl Store {
    /// Times surveys were shown between two days (inclusive), per survey and touchpoint
    /// (None = shown without one): the denominators of response rates.
    pub async fn shown(
        &self,
        ws: Id,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<(Id, Option<Id>, i64)>> {
        let rows = sqlx::query(
            "SELECT survey_id, touchpoint_id, CAST(SUM(shown) AS BIGINT) FROM impressions \
             WHERE workspace_id = $1 AND day >= $2 AND day <= $3 GROUP BY survey_id, touchpoint_id",
        )
        .bind(ws)
        .bind(from.to_string())
        .bind(to.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let tp: i64 = r.try_get(1)?;
                Ok((r.try_get(0)?, (tp != 0).then_some(tp), r.try_get(2)?))
            })
            .collect()
    }

    /// Rollups of workspace `ws` between two days (inclusive), summed per survey,
    /// touchpoint, channel and locale ([`TallyBy::Group`]), also per day
    /// ([`TallyBy::GroupAndDay`]), or per day only ([`TallyBy::Day`]: survey and
    /// touchpoint 0, channel and locale ''). Reads rollup rows only.
    pub async fn tallies(
        &self,
        ws: Id,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        by: TallyBy,
    ) -> Result<Vec<TallyRow>> {
        let (keys, group) = match by {
            TallyBy::Group => (
                "survey_id, touchpoint_id, channel, locale, ''",
                "survey_id, touchpoint_id, channel, locale",
            ),
            TallyBy::GroupAndDay => (
                "survey_id, touchpoint_id, channel, locale, day",
                "survey_id, touchpoint_id, channel, locale, day",
            ),
            // The workspace trend needs only daily totals: a few rows instead of one per
            // survey × touchpoint × channel × language × day.
            TallyBy::Day => ("0, 0, '', '', day", "day"),
        };
        let sql = format!(
            "SELECT {keys}, CAST(SUM(responses) AS BIGINT), CAST(SUM(nps_n) AS BIGINT), CAST(SUM(promoters) AS BIGINT), CAST(SUM(detractors) AS BIGINT), CAST(SUM(csat_n) AS BIGINT), CAST(SUM(csat_pos) AS BIGINT), CAST(SUM(ces_n) AS BIGINT), CAST(SUM(ces_sum) AS BIGINT), CAST(SUM(ces_sumsq) AS BIGINT) FROM score_rollups WHERE workspace_id = $1 AND day >= $2 AND day <= $3 GROUP BY {group}"
        );
        let rows = sqlx::query(&sql)
            .bind(ws)
            .bind(from.format("%Y-%m-%d").to_string())
            .bind(to.format("%Y-%m-%d").to_string())
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                let n = |i: usize| r.try_get::<i64, _>(i);
                let tp: i64 = r.try_get(1)?;
                Ok(TallyRow {
                    survey_id: r.try_get(0)?,
                    touchpoint_id: (tp != 0).then_some(tp),
                    channel: r.try_get(2)?,
                    locale: r.try_get(3)?,
                    day: r.try_get(4)?,
                    tally: Tally {
                        responses: n(5)?,
                        nps_n: n(6)?,
                        promoters: n(7)?,
                        detractors: n(8)?,
                        csat_n: n(9)?,
                        csat_pos: n(10)?,
                        ces_n: n(11)?,
                        ces_sum: n(12)?,
                        ces_sumsq: n(13)?,
                    },
                })
            })
            .collect()
    }
}

/// A complete response that names a case, for driver analysis.
#[derive(Debug, Clone)]
pub struct CaseRow {
    pub survey_id: Id,
    pub touchpoint_id: Option<Id>,
    pub case_ref: String,
    pub nps: Option<i64>,
    pub csat: Option<i64>,
    pub ces: Option<i64>,
}

impl Store {
    /// Complete responses with a case reference between two days (inclusive).
    pub async fn case_rows(
        &self,
        ws: Id,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<CaseRow>> {
        let rows = sqlx::query("SELECT survey_id, touchpoint_id, case_ref, nps, csat, ces FROM responses WHERE workspace_id = $1 AND complete = 1 AND case_ref IS NOT NULL AND day >= $2 AND day <= $3")
            .bind(ws)
            .bind(from.format("%Y-%m-%d").to_string())
            .bind(to.format("%Y-%m-%d").to_string())
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(CaseRow {
                    survey_id: r.try_get(0)?,
                    touchpoint_id: r.try_get(1)?,
                    case_ref: r.try_get(2)?,
                    nps: r.try_get(3)?,
                    csat: r.try_get(4)?,
                    ces: r.try_get(5)?,
                })
            })
            .collect()
    }
}
