//! The journey's actual flow kept up to date cheaply (`docs/metrics.md`, "Journey
//! mining" → "Kept up to date"): the per-day rollups of
//! [`kohtaamo_domain::mining_rollup`], brought up to date by the scheduler (and by a
//! read, for the few encounters that arrived since), and a period's flow — directly-
//! follows counts, start and end activities, instances, stage funnel — read as their
//! sum. By case, and by customer at the default gap; any other gap is counted from the
//! log. The figures are those [`crate::mining::mine`] gives for the same period.

use std::collections::{BTreeMap, HashMap};

use kohtaamo_domain::insight::Snapshot;
use kohtaamo_domain::mining::{Activity, Design, Event};
use kohtaamo_domain::mining_rollup::{day_of, Flow, FlowRows};
use kohtaamo_domain::Id;
use kohtaamo_storage::mining::InstanceKey;
use kohtaamo_storage::mining_rollup::{JourneyRows, KeyStream};
use kohtaamo_storage::Store;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::i18n::I18n;
use crate::jobs::JobCtx;
use crate::mining::{self, ActivityOut, Journey, Namer, Query, StageRef, DEFAULT_GAP_HOURS};
use crate::Result;

/// Unapplied encounters one pass takes (with their keys' whole streams) in one
/// transaction.
/// Small, so the write lock is held briefly (SQLite: other processes, such as a CLI
/// command, wait for it at most their busy timeout).
pub const PASS_ROWS: i64 = 2_000;
/// Between passes: room for other writers to take the lock.
const PAUSE: std::time::Duration = std::time::Duration::from_millis(25);
/// A read brings the rollups up to date itself when at most this many encounters
/// wait; with more, it counts the period from the log instead (same figures).
pub const READ_CATCH_UP: i64 = 20_000;

const KINDS: [InstanceKey; 2] = [InstanceKey::Case, InstanceKey::Customer];

/// Every journey of the workspace as the rollups read it.
fn designs(snapshot: &Snapshot) -> Result<Vec<(Id, Design)>> {
    let i = I18n::new("en", "en");
    let mut ids: Vec<Id> = snapshot.journeys.iter().map(|(id, _)| *id).collect();
    ids.sort_unstable();
    ids.into_iter()
        .map(|id| Ok((id, Journey::of(snapshot, id, &i)?.design)))
        .collect()
}

/// What the rollups depend on in the design: each journey's stages and the stage and
/// presence of its touchpoints (not names, owners or hand-offs).
fn fingerprint(designs: &[(Id, Design)]) -> String {
    let mut h = Sha256::new();
    for (id, d) in designs {
        h.update(format!("j{id}/{};", d.stages));
        for t in &d.touchpoints {
            h.update(format!("t{}@{}:{};", t.id, t.stage, t.presence.as_str()));
        }
    }
    hex::encode(h.finalize())
}

fn millis(at: &str) -> Option<i64> {
    chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M:%SZ")
        .ok()
        .map(|t| t.and_utc().timestamp_millis())
}

/// What turns key streams into rollup rows: the designs, which journey each
/// touchpoint belongs to, the gap for `by`, and the channel table being filled.
struct Rows<'a> {
    designs: &'a [(Id, Design)],
    journey_of: HashMap<Id, usize>,
    gap: Option<i64>,
    ix: HashMap<String, u32>,
    channels: Vec<String>,
    rows: BTreeMap<usize, FlowRows>,
}

impl<'a> Rows<'a> {
    fn new(designs: &'a [(Id, Design)], by: InstanceKey) -> Self {
        let mut journey_of: HashMap<Id, usize> = HashMap::new();
        for (j, (_, d)) in designs.iter().enumerate() {
            for t in &d.touchpoints {
                journey_of.insert(t.id, j);
            }
        }
        Rows {
            designs,
            journey_of,
            gap: (by == InstanceKey::Customer).then_some(DEFAULT_GAP_HOURS * 3_600_000),
            ix: HashMap::new(),
            channels: vec![],
            rows: BTreeMap::new(),
        }
    }

    /// Adds one stream's change: for each journey it meets, the rows of the whole
    /// stream minus those of its applied part.
    fn add(&mut self, s: &KeyStream) {
        let mut old: Vec<Event> = vec![];
        let mut new: Vec<Event> = vec![];
        let mut met: Vec<usize> = vec![];
        for (applied, e) in &s.events {
            let Some(at) = millis(&e.occurred_at) else {
                continue;
            };
            let channel = match self.ix.get(&e.channel) {
                Some(c) => *c,
                None => {
                    self.channels.push(e.channel.clone());
                    let c = self.channels.len() as u32 - 1;
                    self.ix.insert(e.channel.clone(), c);
                    c
                }
            };
            let ev = Event {
                at,
                touchpoint: e.touchpoint_id,
                channel,
                owner: None,
            };
            if let Some(j) = e.touchpoint_id.and_then(|t| self.journey_of.get(&t)) {
                if !met.contains(j) {
                    met.push(*j);
                }
            }
            if *applied {
                old.push(ev);
            }
            new.push(ev);
        }
        for j in met {
            let r = self.rows.entry(j).or_default();
            r.add(&self.designs[j].1, &old, self.gap, -1);
            r.add(&self.designs[j].1, &new, self.gap, 1);
        }
    }

    /// The non-empty changes per journey, and the channel table they index.
    fn done(self) -> (Vec<JourneyRows>, Vec<String>) {
        let designs = self.designs;
        let rows = self
            .rows
            .into_iter()
            .filter_map(|(j, mut r)| {
                r.prune();
                (!r.is_empty()).then(|| JourneyRows {
                    journey: designs[j].0,
                    rows: r,
                })
            })
            .collect();
        (rows, self.channels)
    }
}

/// Row changes for the streams of one pass.
fn changes(
    designs: &[(Id, Design)],
    by: InstanceKey,
    streams: &[KeyStream],
    channels: &mut Vec<String>,
) -> Vec<JourneyRows> {
    let mut rows = Rows::new(designs, by);
    for s in streams {
        rows.add(s);
    }
    let (rows, table) = rows.done();
    *channels = table;
    rows
}

/// Rebuilds the workspace's rollups from the whole log for `fp` (see
/// [`Store::mining_build_start`]): each kind's streams read once in key order, their
/// rows summed in memory and written, every encounter read marked applied. False when
/// another rebuild holds the lease or this one was overtaken (a deletion meanwhile):
/// the rollups stay stale and reads count from the log. Returns how many streams it
/// read.
async fn rebuild(
    store: &Store,
    ws: Id,
    designs: &[(Id, Design)],
    fp: &str,
) -> Result<Option<usize>> {
    let Some((generation, upto)) = store.mining_build_start(ws).await? else {
        return Ok(None);
    };
    let mut streams = 0;
    let t = std::time::Instant::now();
    let built = async {
        for by in KINDS {
            let mut rows = Rows::new(designs, by);
            if !store
                .mining_build_read(ws, (generation, upto), by, |s| {
                    streams += 1;
                    rows.add(&s)
                })
                .await?
            {
                return Ok::<_, crate::Error>(false);
            }
            let (rows, channels) = rows.done();
            if !store
                .mining_build_write(ws, generation, by, &rows, &channels)
                .await?
            {
                return Ok(false);
            }
        }
        store
            .mining_build_mark(ws, generation, upto)
            .await
            .map_err(Into::into)
    }
    .await;
    let built = match built {
        Ok(b) => b,
        Err(e) => {
            // Give the lease up so the next pass may start again at once.
            let _ = store.mining_build_finish(ws, generation, None).await;
            return Err(e);
        }
    };
    let done = store
        .mining_build_finish(ws, generation, built.then_some(fp))
        .await?;
    tracing::info!(
        built = done,
        upto,
        streams,
        seconds = t.elapsed().as_secs_f64(),
        "journey-mining rollups rebuilt from the log"
    );
    Ok(done.then_some(streams))
}

/// How waiting encounters are applied: by passes, or — a backlog too large for them —
/// by a rebuild from the whole log.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Unapplied encounters one pass takes.
    pub pass_rows: i64,
    /// A backlog of more than this many encounters that is also more than a quarter of
    /// the workspace's log is applied by a rebuild, which reads each stream once
    /// instead of each touched key's whole stream a pass (docs/BENCHMARKS.md,
    /// seventeenth session: at 10 M encounters with 7.6 M waiting, passes took 704 s and
    /// a rebuild 206 s; passes apply about 7,500–10,800 encounters/s, a rebuild reads
    /// about 49,000/s of the whole log, so past about a fifth of it a rebuild is done
    /// sooner).
    pub rebuild_over: i64,
}

/// The job's pace.
pub const PACE: Pace = Pace {
    pass_rows: PASS_ROWS,
    rebuild_over: 100_000,
};

/// What [`refresh_by`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Refreshed {
    /// A rebuild from the whole log ran (a change of design, a deletion, a large
    /// backlog): the streams it read.
    pub rebuilt: Option<usize>,
    /// Keys applied by passes.
    pub applied: usize,
}

/// Brings the workspace's rollups up to date: rebuilds them when the design they
/// were built for changed (or a deletion made them stale) or when the backlog is too
/// large for passes ([`Pace::rebuild_over`]), then applies waiting encounters, at most
/// `budget` keys (None: all). Returns how many keys (streams, for a rebuild) it
/// applied.
pub async fn refresh(store: &Store, ws: Id, budget: Option<usize>) -> Result<usize> {
    let r = refresh_by(store, ws, budget, PACE).await?;
    Ok(r.rebuilt.unwrap_or(0) + r.applied)
}

/// [`refresh`] at `pace` (the job's is [`PACE`]; the benchmark compares pass sizes: a
/// bigger pass applies more a second and holds the write lock longer).
pub async fn refresh_by(
    store: &Store,
    ws: Id,
    budget: Option<usize>,
    pace: Pace,
) -> Result<Refreshed> {
    let snapshot = store.snapshot(ws).await?;
    let designs = designs(&snapshot)?;
    let fp = fingerprint(&designs);
    // The passes read keys' streams by joins planned from PostgreSQL's statistics.
    store.refresh_statistics().await?;
    let mut out = Refreshed::default();
    if store.mining_state(ws).await?.0 != fp || backlog(store, ws, pace.rebuild_over).await? {
        match rebuild(store, ws, &designs, &fp).await? {
            Some(n) => out.rebuilt = Some(n),
            None => return Ok(out),
        }
    }
    // The kinds take turns, a pass each, until neither has anything left: under a
    // steady stream of new encounters one kind never runs dry, and would otherwise
    // keep the other from ever being applied.
    let mut done = 0;
    let mut busy = KINDS.map(|_| true);
    'passes: while busy.contains(&true) {
        for (k, by) in KINDS.into_iter().enumerate() {
            if !busy[k] {
                continue;
            }
            let left = budget.map_or(pace.pass_rows, |b| {
                (b.saturating_sub(done) as i64).min(pace.pass_rows)
            });
            if left == 0 {
                break 'passes;
            }
            let n = store
                .mining_pass(ws, by, &fp, left, |streams, channels| {
                    changes(&designs, by, streams, channels)
                })
                .await?;
            done += n;
            busy[k] = n > 0;
            if n > 0 {
                tokio::time::sleep(PAUSE).await;
            }
        }
    }
    if done > 0 {
        store.mining_tidy(ws).await?;
    }
    out.applied = done;
    Ok(out)
}

/// More than `over` encounters wait, and more than a quarter of the log (the log is
/// counted only past `over`; both counts read an index).
async fn backlog(store: &Store, ws: Id, over: i64) -> Result<bool> {
    let waiting = store.mining_pending(ws, i64::MAX).await?;
    Ok(waiting > over && waiting.saturating_mul(4) > store.mining_encounters(ws, i64::MAX).await?)
}

/// Brings the rollups up to date when few encounters wait (or, after a change of
/// design, when the workspace has few at all) — many: the job will. Then, if they are
/// built for the current design with every encounter applied, a stamp of the data:
/// it changes whenever the encounters do (a report worked out from the log may be
/// kept under it).
pub async fn current(store: &Store, ws: Id, snapshot: &Snapshot) -> Result<Option<String>> {
    let fp = fingerprint(&designs(snapshot)?);
    let waiting = if store.mining_state(ws).await?.0 == fp {
        store.mining_pending(ws, READ_CATCH_UP + 1).await?
    } else {
        store.mining_encounters(ws, READ_CATCH_UP + 1).await?.max(1)
    };
    if waiting > 0 && waiting <= READ_CATCH_UP {
        refresh(store, ws, None).await?;
    }
    let (design, generation) = store.mining_state(ws).await?;
    Ok((design == fp && store.mining_pending(ws, 1).await? == 0)
        .then(|| format!("{generation}/{fp}")))
}

/// One pass of the rollup job over every workspace; how many keys it applied.
pub async fn mining_rollups_once(ctx: &JobCtx) -> Result<usize> {
    let mut total = 0;
    for ws in ctx.store.workspace_ids().await? {
        total += refresh(&ctx.store, ws, None).await?;
    }
    Ok(total)
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FlowActivity {
    pub activity: ActivityOut,
    /// Encounters at it.
    pub encounters: u64,
    /// Instances whose first / last encounter it is.
    pub starts: u64,
    pub ends: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FlowEdge {
    pub from: ActivityOut,
    pub to: ActivityOut,
    pub count: u64,
    /// The design has this step (as in the mining report).
    pub designed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FlowStage {
    pub stage: StageRef,
    pub reached: u64,
    pub stopped: u64,
}

/// A period's actual flow of a journey.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct JourneyFlow {
    pub journey: String,
    pub name: String,
    pub from: String,
    pub to: String,
    /// `case` or `customer`.
    pub by: String,
    pub gap_hours: i64,
    /// `rollups` (the per-day sums) or `log` (counted from the encounter log: another
    /// gap, or too many encounters waiting to be applied).
    pub source: String,
    pub instances: u64,
    /// Most encounters first.
    pub activities: Vec<FlowActivity>,
    /// Most frequent first.
    pub edges: Vec<FlowEdge>,
    pub funnel: Vec<FlowStage>,
    /// Time to answer, milliseconds (for a count kept from an earlier request, that
    /// request's).
    pub took_ms: f64,
    /// Counted from the log for an earlier request over the same encounters and names.
    pub cached: bool,
    /// An earlier count over fewer encounters, shown while the current one is being
    /// counted (never one from before a deletion, a change of design or a rename).
    pub stale: bool,
}

/// The flow of `q`'s journey and period, waiting as long as it takes.
pub async fn flow(store: &Store, ws: Id, q: &Query, i: &I18n) -> Result<JourneyFlow> {
    flow_within(store, ws, q, i, None)
        .await?
        .ok_or_else(|| crate::Error::Internal("the journey's flow gave no figures".into()))
}

/// The flow of `q`'s journey and period: from the rollups when they are current for
/// it (at once), else counted from the log, waiting at most `wait` (None: as long as
/// it takes) — a count from the log is shared by concurrent requests, runs on when they
/// stop waiting and is kept for the next request over the same encounters
/// ([`crate::shared::within`]). None when it is still being counted and no earlier
/// count may stand in (one over the same design and names, from before no deletion:
/// marked `stale`).
pub async fn flow_within(
    store: &Store,
    ws: Id,
    q: &Query,
    i: &I18n,
    wait: Option<std::time::Duration>,
) -> Result<Option<JourneyFlow>> {
    let started = std::time::Instant::now();
    let snapshot = store.snapshot(ws).await?;
    let journey = Journey::of(&snapshot, q.journey, i)?;
    let stamp = current(store, ws, &snapshot).await?;
    if stamp.is_some() && (q.by == InstanceKey::Case || q.gap_hours == DEFAULT_GAP_HOURS) {
        let mut channels = vec![];
        let day = |d: chrono::NaiveDate| {
            day_of(
                d.and_hms_opt(0, 0, 0)
                    .unwrap_or_default()
                    .and_utc()
                    .timestamp_millis(),
            )
        };
        let sums = store
            .mining_sums(
                ws,
                journey.id,
                q.by,
                journey.design.stages,
                (day(q.from), day(q.to)),
                &mut channels,
            )
            .await?;
        let counted = Flow::of_sums(&sums);
        return Ok(Some(flow_out(
            &journey, q, &counted, &channels, i, "rollups", started,
        )));
    }
    let names = journey.names_hash();
    let (st, q2, i2, j) = (store.clone(), q.clone(), i.clone(), journey.clone());
    let shared = crate::shared::within(
        store,
        ws,
        format!("flow/{q:?}/{}", i.lang),
        stamp.map(|s| format!("{s}/{names}")),
        || mining::guard_of(store, ws, &journey, &names),
        wait,
        move || async move {
            let _slot = mining::slot().await?;
            let started = std::time::Instant::now();
            let inst = mining::instances(&st, ws, &j, &q2).await?;
            let counted =
                Flow::of_instances(&j.design, inst.list.iter().map(|x| x.events.as_slice()));
            Ok(flow_out(
                &j,
                &q2,
                &counted,
                &inst.channels,
                &i2,
                "log",
                started,
            ))
        },
    )
    .await?;
    Ok(shared.map(|s| JourneyFlow {
        cached: s.cached,
        stale: s.stale,
        ..s.value
    }))
}

/// The flow as served, most frequent first.
fn flow_out(
    journey: &Journey,
    q: &Query,
    counted: &Flow,
    channels: &[String],
    i: &I18n,
    source: &str,
    started: std::time::Instant,
) -> JourneyFlow {
    let nm = Namer {
        journey,
        channels,
        i,
    };
    let mut activities: Vec<FlowActivity> = counted
        .activities
        .iter()
        .map(|(a, n)| FlowActivity {
            activity: nm.activity(*a),
            encounters: *n,
            starts: counted.starts.get(a).copied().unwrap_or(0),
            ends: counted.ends.get(a).copied().unwrap_or(0),
        })
        .collect();
    activities.sort_by(|a, b| {
        b.encounters
            .cmp(&a.encounters)
            .then(a.activity.label.cmp(&b.activity.label))
    });
    let mut edges: Vec<(Activity, Activity, u64)> = counted
        .edges
        .iter()
        .map(|((a, b), n)| (*a, *b, *n))
        .collect();
    edges.sort_by(|x, y| y.2.cmp(&x.2).then((x.0, x.1).cmp(&(y.0, y.1))));
    JourneyFlow {
        journey: journey.slug.clone(),
        name: journey.name.clone(),
        from: q.from.to_string(),
        to: q.to.to_string(),
        by: q.by.as_str().into(),
        gap_hours: q.gap_hours,
        source: source.into(),
        instances: counted.instances,
        activities,
        edges: edges
            .into_iter()
            .map(|(a, b, n)| FlowEdge {
                from: nm.activity(a),
                to: nm.activity(b),
                count: n,
                designed: journey.designed_step(a, b),
            })
            .collect(),
        funnel: journey
            .stages
            .iter()
            .enumerate()
            .map(|(s, (slug, name))| FlowStage {
                stage: StageRef {
                    slug: slug.clone(),
                    name: name.clone(),
                },
                reached: counted.reached.get(s).copied().unwrap_or(0),
                stopped: counted.stopped.get(s).copied().unwrap_or(0),
            })
            .collect(),
        took_ms: started.elapsed().as_secs_f64() * 1000.0,
        cached: false,
        stale: false,
    }
}
