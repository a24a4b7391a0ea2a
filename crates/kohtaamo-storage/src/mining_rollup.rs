//! The stored rollups of each journey's actual flow
//! ([`kohtaamo_domain::mining_rollup`]): three tables of per-day rows, kept exact by
//! passes that take the customers and cases whose encounters are not yet in them,
//! subtract the rows of what was applied of their streams and add the rows of the whole
//! streams now. Each encounter row says which of its streams are applied (`mined`: bit 1
//! its case's, bit 2 its customer's), so a late or out-of-order encounter is simply one
//! more unapplied row. A change of the designed journeys, a deletion or an
//! anonymisation marks the workspace's rollups stale (`mining_state.design` = ''); the
//! next refresh empties and rebuilds them. One SQL code path for both backends.

use futures_util::TryStreamExt;
use kohtaamo_domain::mining::Activity;
use kohtaamo_domain::mining_rollup::{Day, FlowRows, FlowSums};
use kohtaamo_domain::Id;
use sqlx::Row;

use crate::encounters::placeholders;
use crate::entity::{bind, Val};
use crate::mining::{event_at, key_text, InstanceKey, MiningEvent};
use crate::{Backend, Result, Store, Tx};

impl InstanceKey {
    /// The bit of `encounters.mined` that says a row's stream of this kind is applied.
    fn bit(self) -> i64 {
        match self {
            InstanceKey::Case => 1,
            InstanceKey::Customer => 2,
        }
    }

    fn code(self) -> i64 {
        self.bit()
    }

    fn col(self) -> &'static str {
        match self {
            InstanceKey::Case => "case_ref",
            InstanceKey::Customer => "customer_id",
        }
    }
}

/// One key's whole stream: its encounters in time order, each with whether it is
/// already applied to the rollups.
#[derive(Debug, Clone)]
pub struct KeyStream {
    pub key: String,
    pub events: Vec<(bool, MiningEvent)>,
}

/// Row changes of one journey, with the channel table their activities index.
pub struct JourneyRows {
    pub journey: Id,
    pub rows: FlowRows,
}

/// An activity as stored: `t:<touchpoint id>` or `c:<channel>`.
pub fn act_text(a: Activity, channels: &[String]) -> String {
    match a {
        Activity::Touchpoint(t) => format!("t:{t}"),
        Activity::Channel(c) => {
            format!("c:{}", channels.get(c as usize).map_or("", |s| s.as_str()))
        }
    }
}

/// The stored form back, channels added to `channels` as met.
pub fn act_parse(s: &str, channels: &mut Vec<String>) -> Option<Activity> {
    if let Some(t) = s.strip_prefix("t:") {
        return t.parse().ok().map(Activity::Touchpoint);
    }
    let c = s.strip_prefix("c:")?;
    let i = match channels.iter().position(|x| x == c) {
        Some(i) => i,
        None => {
            channels.push(c.to_owned());
            channels.len() - 1
        }
    };
    Some(Activity::Channel(i as u32))
}

/// Keys read per statement.
const KEYS_CHUNK: usize = 400;
/// How long a rebuild holds the right to rebuild without renewing it (seconds).
const LEASE_SECONDS: i64 = 120;
/// How often a rebuild's read renews its lease.
const RENEW_EVERY: std::time::Duration = std::time::Duration::from_secs(20);
/// Rollup rows a rebuild writes per transaction.
const BUILD_ROWS: usize = 4_096;
/// Ids a rebuild marks per transaction.
const MARK_IDS: Id = 20_000;

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
/// Rows per multi-row upsert or update (sqlx's SQLite driver ran 400-row statements
/// ~5× slower per row than 64-row ones).
const ROWS_CHUNK: usize = 64;

impl Store {
    /// The design the rollups were built for ('' = stale or never built) and their
    /// generation (changes whenever they do).
    pub async fn mining_state(&self, ws: Id) -> Result<(String, i64)> {
        let r = sqlx::query("SELECT design, generation FROM mining_state WHERE workspace_id = $1")
            .bind(ws)
            .fetch_optional(self.pool())
            .await?;
        Ok(match r {
            Some(r) => (r.try_get(0)?, r.try_get(1)?),
            None => (String::new(), 0),
        })
    }

    /// How many times encounters of `ws` were deleted or anonymised (see
    /// `mark_stale`): a report kept from before a different count may name what is gone.
    pub async fn mining_erasures(&self, ws: Id) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT erasures FROM mining_state WHERE workspace_id = $1")
                .bind(ws)
                .fetch_optional(self.pool())
                .await?
                .unwrap_or(0),
        )
    }

    /// Whether encounters wait to be applied; at most `limit` are counted.
    pub async fn mining_pending(&self, ws: Id, limit: i64) -> Result<i64> {
        Ok(sqlx::query(
            "SELECT COUNT(*) FROM (SELECT 1 FROM encounters WHERE workspace_id = $1 AND mined <> 3 LIMIT $2) p",
        )
        .bind(ws)
        .bind(limit)
        .fetch_one(self.pool())
        .await?
        .try_get(0)?)
    }

    /// How many encounters the workspace has; at most `limit` are counted.
    pub async fn mining_encounters(&self, ws: Id, limit: i64) -> Result<i64> {
        Ok(sqlx::query(
            "SELECT COUNT(*) FROM (SELECT 1 FROM encounters WHERE workspace_id = $1 LIMIT $2) p",
        )
        .bind(ws)
        .bind(limit)
        .fetch_one(self.pool())
        .await?
        .try_get(0)?)
    }

    /// Starts a rebuild of the workspace's rollups from the whole log (the first
    /// build, a change of design, a deletion): unless another rebuild holds the lease,
    /// takes it, marks the rollups stale, empties them and returns the new generation
    /// and the last encounter id the rebuild covers. Every encounter recorded later has
    /// a higher id (on PostgreSQL the id is read under a lock that waits for inserts in
    /// flight, whose sequence numbers could otherwise commit below it).
    pub async fn mining_build_start(&self, ws: Id) -> Result<Option<(i64, Id)>> {
        let now = unix_now();
        let (permit, mut tx) = self.write().await?;
        let r = async {
            lock_state(&mut tx, self.backend(), ws).await?;
            let lease: Option<i64> =
                sqlx::query("SELECT build_lease FROM mining_state WHERE workspace_id = $1")
                    .bind(ws)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get(0)?;
            if lease.is_some_and(|l| l > now) {
                return Ok(None);
            }
            sqlx::query("UPDATE mining_state SET design = '', generation = generation + 1, build_lease = $2 WHERE workspace_id = $1")
                .bind(ws)
                .bind(now + LEASE_SECONDS)
                .execute(&mut *tx)
                .await?;
            for t in ["mining_flow_acts", "mining_flow_edges", "mining_flow_stages"] {
                sqlx::query(&format!("DELETE FROM {t} WHERE workspace_id = $1"))
                    .bind(ws)
                    .execute(&mut *tx)
                    .await?;
            }
            let g: i64 = sqlx::query("SELECT generation FROM mining_state WHERE workspace_id = $1")
                .bind(ws)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
            Ok(Some(g))
        }
        .await;
        let g = self.finish(tx, r).await?;
        drop(permit);
        let Some(g) = g else { return Ok(None) };
        let mut tx = self.pool().begin().await?;
        if self.backend() == Backend::Postgres {
            sqlx::query("LOCK TABLE encounters IN SHARE MODE")
                .execute(&mut *tx)
                .await?;
        }
        let upto: Option<Id> =
            sqlx::query("SELECT MAX(id) FROM encounters WHERE workspace_id = $1")
                .bind(ws)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
        tx.commit().await?;
        Ok(Some((g, upto.unwrap_or(0))))
    }

    /// Calls `each` with every `by` stream of the workspace's encounters up to id
    /// `upto` (each event unapplied), in key order; outside any write lock, renewing
    /// the rebuild's lease as it reads. False: the rebuild was overtaken (a deletion,
    /// another rebuild) and should stop.
    pub async fn mining_build_read(
        &self,
        ws: Id,
        (generation, upto): (i64, Id),
        by: InstanceKey,
        mut each: impl FnMut(KeyStream),
    ) -> Result<bool> {
        let col = by.col();
        let sql = format!(
            "SELECT {k}, customer_id, occurred_at, touchpoint_id, channel, unit_id, partner_id \
             FROM encounters WHERE workspace_id = $1 AND {col} IS NOT NULL AND id <= $2 \
             ORDER BY encounters.{col}, encounters.occurred_at, encounters.id",
            k = key_text(by, col),
        );
        let mut rows = sqlx::query(&sql).bind(ws).bind(upto).fetch(self.pool());
        let mut current: Option<KeyStream> = None;
        let mut renewed = std::time::Instant::now();
        while let Some(r) = rows.try_next().await? {
            let e = event_at(&r, 0)?;
            match current.as_mut() {
                Some(s) if s.key == e.key => s.events.push((false, e)),
                _ => {
                    if let Some(s) = current.take() {
                        each(s);
                    }
                    current = Some(KeyStream {
                        key: e.key.clone(),
                        events: vec![(false, e)],
                    });
                }
            }
            if renewed.elapsed() >= RENEW_EVERY {
                if !self.mining_build_renew(ws, generation).await? {
                    return Ok(false);
                }
                renewed = std::time::Instant::now();
            }
        }
        if let Some(s) = current {
            each(s);
        }
        self.mining_build_renew(ws, generation).await
    }

    /// Extends the rebuild's lease while the rollups are still at `generation`.
    async fn mining_build_renew(&self, ws: Id, generation: i64) -> Result<bool> {
        let (_permit, mut tx) = self.write().await?;
        let r = sqlx::query(
            "UPDATE mining_state SET build_lease = $3 WHERE workspace_id = $1 AND generation = $2",
        )
        .bind(ws)
        .bind(generation)
        .bind(unix_now() + LEASE_SECONDS)
        .execute(&mut *tx)
        .await
        .map(|r| r.rows_affected() == 1)
        .map_err(Into::into);
        self.finish(tx, r).await
    }

    /// Writes a rebuild's rows of `by` in transactions of a few thousand rows (the
    /// rollups are stale meanwhile, so no reader sums them half-written); each first
    /// checks that the rebuild still holds (`generation`). False: overtaken.
    pub async fn mining_build_write(
        &self,
        ws: Id,
        generation: i64,
        by: InstanceKey,
        changes: &[JourneyRows],
        channels: &[String],
    ) -> Result<bool> {
        for c in changes {
            let head = [Val::from(ws), Val::from(c.journey), Val::from(by.code())];
            for (table, cols, rows) in row_values(&c.rows, channels) {
                for chunk in rows.chunks(BUILD_ROWS) {
                    let (_permit, mut tx) = self.write().await?;
                    let r = async {
                        if !holds(&mut tx, self.backend(), ws, generation).await? {
                            return Ok(false);
                        }
                        upsert(&mut tx, self.backend(), table, cols, &head, chunk.to_vec()).await?;
                        Ok(true)
                    }
                    .await;
                    if !self.finish(tx, r).await? {
                        return Ok(false);
                    }
                }
            }
        }
        Ok(true)
    }

    /// Marks every encounter up to id `upto` applied (both kinds), in slices of ids so
    /// no write holds the database for long; rows already marked are not touched (a
    /// rebuild after a change of design rewrites nothing here). False: overtaken.
    pub async fn mining_build_mark(&self, ws: Id, generation: i64, upto: Id) -> Result<bool> {
        let lo: Option<Id> =
            sqlx::query("SELECT MIN(id) FROM encounters WHERE workspace_id = $1 AND mined <> 3")
                .bind(ws)
                .fetch_one(self.pool())
                .await?
                .try_get(0)?;
        let Some(mut at) = lo else { return Ok(true) };
        while at <= upto {
            let (_permit, mut tx) = self.write().await?;
            let r = async {
                if !holds(&mut tx, self.backend(), ws, generation).await? {
                    return Ok(false);
                }
                sqlx::query("UPDATE encounters SET mined = 3 WHERE workspace_id = $1 AND mined <> 3 AND id >= $2 AND id < $3 AND id <= $4")
                    .bind(ws)
                    .bind(at)
                    .bind(at + MARK_IDS)
                    .bind(upto)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE mining_state SET build_lease = $2 WHERE workspace_id = $1")
                    .bind(ws)
                    .bind(unix_now() + LEASE_SECONDS)
                    .execute(&mut *tx)
                    .await?;
                Ok(true)
            }
            .await;
            if !self.finish(tx, r).await? {
                return Ok(false);
            }
            at += MARK_IDS;
        }
        Ok(true)
    }

    /// Ends a rebuild: records `design` as what the rollups are built for (when the
    /// rebuild still holds) and gives up the lease. False: overtaken (the next refresh
    /// starts again).
    pub async fn mining_build_finish(
        &self,
        ws: Id,
        generation: i64,
        design: Option<&str>,
    ) -> Result<bool> {
        let (_permit, mut tx) = self.write().await?;
        let r = async {
            let ours = holds(&mut tx, self.backend(), ws, generation).await?;
            if let (true, Some(design)) = (ours, design) {
                sqlx::query("UPDATE mining_state SET design = $2, generation = generation + 1, build_lease = NULL WHERE workspace_id = $1")
                    .bind(ws)
                    .bind(design)
                    .execute(&mut *tx)
                    .await?;
                return Ok(true);
            }
            sqlx::query("UPDATE mining_state SET build_lease = NULL WHERE workspace_id = $1")
                .bind(ws)
                .execute(&mut *tx)
                .await?;
            Ok(false)
        }
        .await;
        self.finish(tx, r).await
    }

    /// One pass for `by`: takes up to `limit` unapplied encounters' keys, reads those
    /// keys' whole streams, lets `compute` turn them into row changes (the rows of the
    /// whole stream minus those of its applied part, per journey; it fills the channel
    /// table the activities index) and writes them, marking the encounters read as
    /// applied, in one transaction and only while the rollups are built for `design`.
    ///
    /// The reading is done before the write lock is taken, so ingest is not held up by
    /// it; the write then checks that nothing it read was applied meanwhile (another
    /// pass: the read catch-up, another instance) and that no erasure came, and if one
    /// did, the pass is done again with the reading inside the lock. A new encounter of
    /// a key read meanwhile changes nothing: it is not marked, and the next pass takes
    /// its stream again. Returns how many keys it applied and keyless rows it marked
    /// (0: nothing left, or the design differs).
    pub async fn mining_pass(
        &self,
        ws: Id,
        by: InstanceKey,
        design: &str,
        limit: i64,
        compute: impl Fn(&[KeyStream], &mut Vec<String>) -> Vec<JourneyRows>,
    ) -> Result<usize> {
        let t_start = std::time::Instant::now();
        let erasures = self.mining_erasures(ws).await?;
        let mut tx = self.pool().begin().await?;
        let read = read_batch(&mut tx, ws, by, limit).await;
        tx.rollback().await?;
        let read = read?;
        let mut channels = vec![];
        let changes = compute(&read.streams, &mut channels);
        let t_read = t_start.elapsed();
        if read.keyless.is_empty() && read.streams.is_empty() {
            return Ok(0);
        }
        let (permit, mut tx) = self.write().await?;
        let t_lock = std::time::Instant::now();
        let r = async {
            if lock_state(&mut tx, self.backend(), ws).await? != design {
                return Ok(Some(0));
            }
            if read_erasures(&mut tx, ws).await? != erasures
                || any_marked(&mut tx, by.bit(), &read.unapplied).await?
            {
                return Ok(None);
            }
            Ok(Some(
                apply(&mut tx, self.backend(), ws, by, &read, changes, &channels).await?,
            ))
        }
        .await;
        let done = self.finish(tx, r).await?;
        drop(permit);
        tracing::debug!(
            keys = read.streams.len(),
            read_ms = t_read.as_millis() as u64,
            locked_ms = t_lock.elapsed().as_millis() as u64,
            again = done.is_none(),
            "journey-mining rollup pass"
        );
        if let Some(n) = done {
            return Ok(n);
        }
        // Overtaken: read again inside the lock, where nothing can change under it.
        let (_permit, mut tx) = self.write().await?;
        let r = async {
            if lock_state(&mut tx, self.backend(), ws).await? != design {
                return Ok(0);
            }
            let read = read_batch(&mut tx, ws, by, limit).await?;
            let mut channels = vec![];
            let changes = compute(&read.streams, &mut channels);
            apply(&mut tx, self.backend(), ws, by, &read, changes, &channels).await
        }
        .await;
        self.finish(tx, r).await
    }

    /// Drops rollup rows whose count came back to zero.
    pub async fn mining_tidy(&self, ws: Id) -> Result<()> {
        let (_permit, mut tx) = self.write().await?;
        let r = async {
            for t in [
                "mining_flow_acts",
                "mining_flow_edges",
                "mining_flow_stages",
            ] {
                sqlx::query(&format!(
                    "DELETE FROM {t} WHERE workspace_id = $1 AND n = 0"
                ))
                .bind(ws)
                .execute(&mut *tx)
                .await?;
            }
            Ok(())
        }
        .await;
        self.finish(tx, r).await
    }

    /// The sums of the rollup rows of `journey` for the days `from`…`to` (days since
    /// the epoch, inclusive), activities parsed into `channels`.
    pub async fn mining_sums(
        &self,
        ws: Id,
        journey: Id,
        by: InstanceKey,
        stages: usize,
        (from, to): (Day, Day),
        channels: &mut Vec<String>,
    ) -> Result<FlowSums> {
        let mut s = FlowSums {
            reached: vec![0; stages],
            stopped: vec![0; stages],
            ..FlowSums::default()
        };
        let acts = sqlx::query(
            "SELECT act, CAST(SUM(n) AS BIGINT) FROM mining_flow_acts WHERE workspace_id = $1 AND journey_id = $2 AND by_kind = $3 \
             AND day >= $4 AND day <= $5 AND (on_before >= $4 OR on_after <= $5) GROUP BY act",
        )
        .bind(ws)
        .bind(journey)
        .bind(by.code())
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        for r in acts {
            let a: String = r.try_get(0)?;
            let n: i64 = r.try_get(1)?;
            if let (Some(a), true) = (act_parse(&a, channels), n != 0) {
                s.acts.insert(a, n);
            }
        }
        let edges = sqlx::query(
            "SELECT from_act, to_act, CAST(SUM(n) AS BIGINT) FROM mining_flow_edges WHERE workspace_id = $1 AND journey_id = $2 AND by_kind = $3 \
             AND day >= $4 AND day <= $5 AND prev_day >= $4 AND (on_before >= $4 OR on_after <= $5) GROUP BY from_act, to_act",
        )
        .bind(ws)
        .bind(journey)
        .bind(by.code())
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        for r in edges {
            let a: String = r.try_get(0)?;
            let b: String = r.try_get(1)?;
            let n: i64 = r.try_get(2)?;
            if let (Some(a), Some(b), true) =
                (act_parse(&a, channels), act_parse(&b, channels), n != 0)
            {
                s.edges.insert((a, b), n);
            }
        }
        let st = sqlx::query(
            "SELECT stage, CAST(SUM(n) AS BIGINT), CAST(SUM(CASE WHEN prev_later < $4 AND next_later > $5 THEN n ELSE 0 END) AS BIGINT) \
             FROM mining_flow_stages WHERE workspace_id = $1 AND journey_id = $2 AND by_kind = $3 \
             AND day >= $4 AND day <= $5 AND prev_same < $4 GROUP BY stage",
        )
        .bind(ws)
        .bind(journey)
        .bind(by.code())
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        for r in st {
            let stage: i64 = r.try_get(0)?;
            if let Some(i) = usize::try_from(stage).ok().filter(|i| *i < stages) {
                s.reached[i] = r.try_get(1)?;
                s.stopped[i] = r.try_get(2)?;
            }
        }
        Ok(s)
    }
}

/// Takes the workspace's rollup state for this transaction (the row, created if
/// missing; on PostgreSQL locked, so two instances never apply the same encounters
/// twice — on SQLite the write gate serialises); returns its design.
async fn lock_state(tx: &mut Tx, backend: Backend, ws: Id) -> Result<String> {
    sqlx::query("INSERT INTO mining_state (workspace_id, design, generation) VALUES ($1, '', 0) ON CONFLICT (workspace_id) DO NOTHING")
        .bind(ws)
        .execute(&mut **tx)
        .await?;
    let lock = if backend == Backend::Postgres {
        " FOR UPDATE"
    } else {
        ""
    };
    Ok(sqlx::query(&format!(
        "SELECT design FROM mining_state WHERE workspace_id = $1{lock}"
    ))
    .bind(ws)
    .fetch_one(&mut **tx)
    .await?
    .try_get(0)?)
}

/// Whether the rollups are still at `generation` (a rebuild's own), locking the
/// state row on PostgreSQL.
async fn holds(tx: &mut Tx, backend: Backend, ws: Id, generation: i64) -> Result<bool> {
    lock_state(tx, backend, ws).await?;
    let g: i64 = sqlx::query("SELECT generation FROM mining_state WHERE workspace_id = $1")
        .bind(ws)
        .fetch_one(&mut **tx)
        .await?
        .try_get(0)?;
    Ok(g == generation)
}

/// What a pass read: its keyless rows, its keys' whole streams and which of their
/// encounters were not applied.
struct PassRead {
    keyless: Vec<Id>,
    streams: Vec<KeyStream>,
    unapplied: Vec<Id>,
}

/// The oldest `limit` unapplied rows for `by` (those with no key of this kind have
/// nothing to apply and are only marked) and their keys' whole streams.
async fn read_batch(tx: &mut Tx, ws: Id, by: InstanceKey, limit: i64) -> Result<PassRead> {
    let col = by.col();
    let bit = by.bit();
    let sql = format!(
        "SELECT id, {k} FROM encounters WHERE workspace_id = $1 AND mined <> 3 AND (mined & $2) = 0 ORDER BY id LIMIT $3",
        k = key_text(by, col),
    );
    let batch = sqlx::query(&sql)
        .bind(ws)
        .bind(bit)
        .bind(limit)
        .fetch_all(&mut **tx)
        .await?;
    let mut keys: Vec<String> = vec![];
    let mut keyless: Vec<Id> = vec![];
    for r in &batch {
        match r.try_get::<Option<String>, _>(1)? {
            Some(k) => keys.push(k),
            None => keyless.push(r.try_get(0)?),
        }
    }
    keys.sort_unstable();
    keys.dedup();
    let mut streams: Vec<KeyStream> = Vec::with_capacity(keys.len());
    let mut unapplied: Vec<Id> = vec![];
    for chunk in keys.chunks(KEYS_CHUNK) {
        let vals: Vec<Val> = chunk
            .iter()
            .map(|k| match by {
                InstanceKey::Case => Val::from(k.clone()),
                InstanceKey::Customer => Val::from(k.parse::<Id>().unwrap_or(0)),
            })
            .collect();
        let marks = placeholders(2, vals.len());
        let sql = format!(
            "SELECT id, mined, {k}, customer_id, occurred_at, touchpoint_id, channel, unit_id, partner_id \
             FROM encounters WHERE workspace_id = $1 AND {col} IN ({marks}) \
             ORDER BY encounters.{col}, encounters.occurred_at, encounters.id",
            k = key_text(by, col),
        );
        let mut all = vec![Val::from(ws)];
        all.extend(vals);
        for r in bind(sqlx::query(&sql).persistent(false), all)
            .fetch_all(&mut **tx)
            .await?
        {
            let id: Id = r.try_get(0)?;
            let mined: i64 = r.try_get(1)?;
            let e = event_at(&r, 2)?;
            let applied = mined & bit != 0;
            if !applied {
                unapplied.push(id);
            }
            match streams.last_mut() {
                Some(s) if s.key == e.key => s.events.push((applied, e)),
                _ => streams.push(KeyStream {
                    key: e.key.clone(),
                    events: vec![(applied, e)],
                }),
            }
        }
    }
    Ok(PassRead {
        keyless,
        streams,
        unapplied,
    })
}

/// Writes a pass's row changes and marks what it read as applied (`by`'s bit); the
/// rollups' generation moves on. How many keys and keyless rows it applied.
async fn apply(
    tx: &mut Tx,
    backend: Backend,
    ws: Id,
    by: InstanceKey,
    read: &PassRead,
    changes: Vec<JourneyRows>,
    channels: &[String],
) -> Result<usize> {
    mark(tx, by.bit(), &read.keyless).await?;
    if read.streams.is_empty() {
        return Ok(read.keyless.len());
    }
    for c in changes {
        write_rows(tx, backend, ws, c.journey, by, &c.rows, channels).await?;
    }
    mark(tx, by.bit(), &read.unapplied).await?;
    sqlx::query("UPDATE mining_state SET generation = generation + 1 WHERE workspace_id = $1")
        .bind(ws)
        .execute(&mut **tx)
        .await?;
    Ok(read.streams.len() + read.keyless.len())
}

async fn read_erasures(tx: &mut Tx, ws: Id) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT erasures FROM mining_state WHERE workspace_id = $1")
            .bind(ws)
            .fetch_optional(&mut **tx)
            .await?
            .unwrap_or(0),
    )
}

/// Whether any of the encounters `ids` has `bit` (applied) set.
async fn any_marked(tx: &mut Tx, bit: i64, ids: &[Id]) -> Result<bool> {
    for chunk in ids.chunks(ROWS_CHUNK) {
        let marks = placeholders(2, chunk.len());
        let mut all = vec![Val::from(bit)];
        all.extend(chunk.iter().map(|id| Val::from(*id)));
        let n: i64 = bind(
            sqlx::query(&format!(
                "SELECT COUNT(*) FROM encounters WHERE id IN ({marks}) AND (mined & $1) <> 0"
            ))
            .persistent(false),
            all,
        )
        .fetch_one(&mut **tx)
        .await?
        .try_get(0)?;
        if n > 0 {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Sets `bit` (applied) on the encounters `ids` (of the workspace the caller read).
async fn mark(tx: &mut Tx, bit: i64, ids: &[Id]) -> Result<()> {
    for chunk in ids.chunks(ROWS_CHUNK) {
        let marks = placeholders(2, chunk.len());
        // The ids alone: SQLite ran this with more terms (the workspace, the bit
        // unset) some 200× slower although its plan was the same primary-key search.
        let mut all = vec![Val::from(bit)];
        all.extend(chunk.iter().map(|id| Val::from(*id)));
        bind(
            sqlx::query(&format!(
                "UPDATE encounters SET mined = mined | $1 WHERE id IN ({marks})"
            ))
            .persistent(false),
            all,
        )
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Marks the workspace's rollups stale (a deletion or anonymisation of encounters):
/// the next refresh rebuilds them, and reports computed before are not shown again.
pub(crate) async fn mark_stale(tx: &mut Tx, ws: Id) -> Result<()> {
    sqlx::query(
        "INSERT INTO mining_state (workspace_id, design, generation, erasures) VALUES ($1, '', 1, 1) \
         ON CONFLICT (workspace_id) DO UPDATE SET design = '', \
         generation = mining_state.generation + 1, erasures = mining_state.erasures + 1",
    )
    .bind(ws)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

type Table = (&'static str, &'static [&'static str], Vec<Vec<Val>>);

/// The non-zero rows of `rows` as each table's key columns and values (`n` last).
fn row_values(rows: &FlowRows, channels: &[String]) -> [Table; 3] {
    let acts: Vec<Vec<Val>> = rows
        .acts
        .iter()
        .filter(|(_, n)| **n != 0)
        .map(|(r, n)| {
            vec![
                Val::from(r.day),
                Val::from(act_text(r.act, channels)),
                Val::from(r.on_before),
                Val::from(r.on_after),
                Val::from(*n),
            ]
        })
        .collect();
    let edges: Vec<Vec<Val>> = rows
        .edges
        .iter()
        .filter(|(_, n)| **n != 0)
        .map(|(r, n)| {
            vec![
                Val::from(r.day),
                Val::from(r.prev_day),
                Val::from(act_text(r.from, channels)),
                Val::from(act_text(r.to, channels)),
                Val::from(r.on_before),
                Val::from(r.on_after),
                Val::from(*n),
            ]
        })
        .collect();
    let stages: Vec<Vec<Val>> = rows
        .stages
        .iter()
        .filter(|(_, n)| **n != 0)
        .map(|(r, n)| {
            vec![
                Val::from(r.day),
                Val::from(r.stage as i64),
                Val::from(r.prev_same),
                Val::from(r.prev_later),
                Val::from(r.next_later),
                Val::from(*n),
            ]
        })
        .collect();
    [
        (
            "mining_flow_acts",
            &["day", "act", "on_before", "on_after"],
            acts,
        ),
        (
            "mining_flow_edges",
            &[
                "day",
                "prev_day",
                "from_act",
                "to_act",
                "on_before",
                "on_after",
            ],
            edges,
        ),
        (
            "mining_flow_stages",
            &["day", "stage", "prev_same", "prev_later", "next_later"],
            stages,
        ),
    ]
}

async fn write_rows(
    tx: &mut Tx,
    backend: Backend,
    ws: Id,
    journey: Id,
    by: InstanceKey,
    rows: &FlowRows,
    channels: &[String],
) -> Result<()> {
    let head = [Val::from(ws), Val::from(journey), Val::from(by.code())];
    for (table, cols, values) in row_values(rows, channels) {
        upsert(tx, backend, table, cols, &head, values).await?;
    }
    Ok(())
}

/// Adds `n` (the last value of each row) to the rows keyed by the workspace, journey,
/// kind and `cols`, creating them: one statement whose rows arrive as one JSON array
/// (a table function unpacks it). sqlx's SQLite driver spent some 25 µs a row on
/// multi-row `VALUES` upserts of 64 rows — parsing and binding hundreds of parameters
/// per statement; one parameter leaves the B-tree work.
async fn upsert(
    tx: &mut Tx,
    backend: Backend,
    table: &str,
    cols: &[&str],
    head: &[Val; 3],
    rows: Vec<Vec<Val>>,
) -> Result<()> {
    let Some(first) = rows.first() else {
        return Ok(());
    };
    let all = ["workspace_id", "journey_id", "by_kind"]
        .iter()
        .chain(cols)
        .chain(&["n"])
        .copied()
        .collect::<Vec<_>>();
    let fields = head
        .iter()
        .chain(first)
        .enumerate()
        .map(|(k, v)| match v {
            Val::Text(_) => format!("value->>{k}"),
            _ => format!("CAST(value->>{k} AS BIGINT)"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let json = serde_json::Value::Array(
        rows.iter()
            .map(|r| serde_json::Value::Array(head.iter().chain(r).map(val_json).collect()))
            .collect(),
    )
    .to_string();
    let each = match backend {
        Backend::Sqlite => "json_each($1)",
        Backend::Postgres => "json_array_elements(CAST($1 AS JSON))",
    };
    // `WHERE true`: SQLite reads `ON CONFLICT` after a bare `FROM` as a join clause.
    let sql = format!(
        "INSERT INTO {table} ({}) SELECT {fields} FROM {each} WHERE true \
         ON CONFLICT (journey_id, by_kind, {}) DO UPDATE SET n = {table}.n + excluded.n",
        all.join(", "),
        cols.join(", ")
    );
    sqlx::query(&sql)
        .persistent(false)
        .bind(json)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn val_json(v: &Val) -> serde_json::Value {
    match v {
        Val::Int(Some(i)) => (*i).into(),
        Val::Text(Some(t)) => t.as_str().into(),
        Val::Real(Some(r)) => (*r).into(),
        _ => serde_json::Value::Null,
    }
}
