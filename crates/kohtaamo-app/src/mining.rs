//! Journey mining as served (definitions in docs/metrics.md, "Journey mining"): reads
//! a journey's instances of a period from the encounter log — the encounters of each
//! case, or of each customer split at pauses longer than a gap — with the answers given
//! in them, mines them against the designed journey (`kohtaamo_domain::mining`) and
//! names every touchpoint, stage, channel and owner. Also the designed journey as a
//! PNML Petri net and the instances as a CSV event log, so any process-mining tool can
//! reproduce the figures. The JSON API and the pages read it from here.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime};
use kohtaamo_domain::analytics::{self, Shown, Tally};
use kohtaamo_domain::insight::{Party, Snapshot};
use kohtaamo_domain::mining::{
    self, Activity, Design, DesignedTouchpoint, Deviation, Event, Instance, Mined, PetriNet, Tokens,
};
use kohtaamo_domain::model::Presence;
use kohtaamo_domain::{Id, Reason};
use kohtaamo_storage::mining::InstanceKey;
use kohtaamo_storage::Store;
use serde::Serialize;
use utoipa::ToSchema;

use crate::analysis::MIN_SAMPLE;
use crate::i18n::I18n;
use crate::{Error, Result};

/// A customer's encounters more than this far apart start a new instance (default).
pub const DEFAULT_GAP_HOURS: i64 = 168;
pub const MAX_GAP_HOURS: i64 = 24 * 366;
/// Variants listed by default, and at most.
pub const DEFAULT_VARIANTS: usize = 50;
pub const MAX_VARIANTS: usize = 1000;
/// Longest period mined in one request, in days.
pub const MAX_DAYS: i64 = 366;

/// What to mine.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub journey: Id,
    /// First and last day (UTC), inclusive.
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by: InstanceKey,
    pub gap_hours: i64,
    pub variants: usize,
}

impl Query {
    /// Reads `by`, `gap_hours` and `variants` (absent: the defaults), with every bad
    /// field's reason.
    pub fn parse(
        journey: Id,
        (from, to): (NaiveDate, NaiveDate),
        params: &BTreeMap<String, String>,
    ) -> Result<Query> {
        let mut e = kohtaamo_domain::FieldErrors::new();
        let get = |k: &str| params.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
        let by = match get("by") {
            None | Some("case") => Some(InstanceKey::Case),
            Some("customer") => Some(InstanceKey::Customer),
            Some(x) => {
                e.add(
                    "by",
                    Reason::new("not-one-of")
                        .with("value", x)
                        .with("options", "case, customer"),
                );
                None
            }
        };
        let mut int = |k: &str, default: i64, max: i64| match get(k) {
            None => Some(default),
            Some(s) => e.take(
                k,
                s.parse::<i64>()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or_else(|| Reason::new("number-range").with("min", 1).with("max", max)),
            ),
        };
        let gap = int("gap_hours", DEFAULT_GAP_HOURS, MAX_GAP_HOURS);
        let variants = int("variants", DEFAULT_VARIANTS as i64, MAX_VARIANTS as i64);
        if (to - from).num_days() + 1 > MAX_DAYS {
            e.add("to", Reason::new("too-many").with("max", MAX_DAYS));
        }
        if !e.is_empty() {
            return Err(Error::Invalid(e));
        }
        Ok(Query {
            journey,
            from,
            to,
            by: by.unwrap_or(InstanceKey::Case),
            gap_hours: gap.unwrap_or(DEFAULT_GAP_HOURS),
            variants: variants.unwrap_or(DEFAULT_VARIANTS as i64) as usize,
        })
    }

    fn window(&self) -> (String, String) {
        (
            format!("{}T00:00:00Z", self.from),
            format!("{}T00:00:00Z", self.to + chrono::Duration::days(1)),
        )
    }
}

/// The designed journey as mining reads it, with the names of its parts.
#[derive(Clone)]
pub struct Journey {
    pub id: Id,
    pub slug: String,
    pub name: String,
    pub design: Design,
    /// (slug, name) of each stage, in order.
    pub stages: Vec<(String, String)>,
    /// Every touchpoint of the workspace: (slug, name, stage index if on this journey).
    pub touchpoints: HashMap<Id, (String, String, Option<usize>)>,
    /// Units and partners: (slug, name).
    pub units: HashMap<Id, (String, String)>,
    pub partners: HashMap<Id, (String, String)>,
}

impl Journey {
    /// The journey `id` of `snapshot`, names in `i`'s language.
    pub fn of(snapshot: &Snapshot, id: Id, i: &I18n) -> Result<Journey> {
        let (_, j) = snapshot
            .journeys
            .iter()
            .find(|(jid, _)| *jid == id)
            .ok_or(Error::NotFound)?;
        let mut stages = vec![];
        let mut designed = vec![];
        let mut touchpoints = HashMap::new();
        for (_, s, tps) in &snapshot.stages {
            let on = s.journey_id == id;
            if on {
                stages.push((s.slug.to_string(), i.text(&s.name)));
            }
            for (tid, t) in tps {
                let stage = on.then(|| stages.len() - 1);
                touchpoints.insert(*tid, (t.slug.to_string(), i.text(&t.name), stage));
                if let Some(stage) = stage {
                    designed.push(DesignedTouchpoint {
                        id: *tid,
                        label: t.slug.to_string(),
                        stage,
                        presence: t.presence,
                        owner: t.owner.map(Party::from),
                    });
                }
            }
        }
        let hand_offs = snapshot
            .hand_offs()
            .into_iter()
            .filter(|h| h.journey == id && h.from_touchpoint.is_some())
            .map(|h| (h.from, h.to))
            .collect();
        Ok(Journey {
            id,
            slug: j.slug.to_string(),
            name: i.text(&j.name),
            design: Design {
                stages: stages.len(),
                touchpoints: designed,
                hand_offs,
            },
            stages,
            touchpoints,
            units: snapshot
                .units
                .iter()
                .map(|(id, u)| (*id, (u.slug.to_string(), i.text(&u.name))))
                .collect(),
            partners: snapshot
                .partners
                .iter()
                .map(|(id, p)| (*id, (p.slug.to_string(), i.text(&p.name))))
                .collect(),
        })
    }

    /// A digest of every name a report shows (journey, stages, touchpoints, units,
    /// partners), so a kept report is not shown after a rename.
    pub fn names_hash(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(format!(
            "{}\u{0}{}\u{0}{:?}",
            self.slug, self.name, self.stages
        ));
        let sorted = |m: &HashMap<Id, (String, String)>| {
            m.iter()
                .collect::<BTreeMap<_, _>>()
                .into_iter()
                .map(|(k, v)| format!("{k}={v:?}"))
                .collect::<Vec<_>>()
                .join(";")
        };
        let tps: BTreeMap<_, _> = self.touchpoints.iter().collect();
        h.update(format!(
            "{tps:?}\u{0}{}\u{0}{}",
            sorted(&self.units),
            sorted(&self.partners)
        ));
        hex::encode(h.finalize())
    }

    /// Whether the design has a step from `a` to `b`: on to a later stage past none
    /// that cannot be left out, or within a stage unless it is from one alternative to
    /// another.
    pub fn designed_step(&self, a: Activity, b: Activity) -> bool {
        let stage_of = |a: Activity| match a {
            Activity::Touchpoint(t) => self.touchpoints.get(&t).and_then(|x| x.2),
            Activity::Channel(_) => None,
        };
        let alternative = |a: Activity| match a {
            Activity::Touchpoint(t) => self
                .design
                .touchpoints
                .iter()
                .any(|d| d.id == t && d.presence == Presence::Alternative),
            Activity::Channel(_) => false,
        };
        match (stage_of(a), stage_of(b)) {
            (Some(x), Some(y)) if y > x => (x + 1..y).all(|s| {
                self.design
                    .touchpoints
                    .iter()
                    .all(|t| t.stage != s || t.presence == Presence::Optional)
            }),
            (Some(x), Some(y)) if y == x => a != b && !(alternative(a) && alternative(b)),
            _ => false,
        }
    }

    /// An activity's label in event logs and the Petri net: the touchpoint's slug, or
    /// `channel:<channel>` for an encounter at no touchpoint.
    pub fn label(&self, a: Activity, channels: &[String]) -> String {
        match a {
            Activity::Touchpoint(t) => self
                .touchpoints
                .get(&t)
                .map(|x| x.0.clone())
                .unwrap_or_else(|| format!("touchpoint-{t}")),
            Activity::Channel(c) => format!(
                "channel:{}",
                channels.get(c as usize).map_or("unknown", |s| s.as_str())
            ),
        }
    }
}

/// Where one instance came from, to find it again.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct InstanceRef {
    /// The case reference (instances by case).
    pub case_ref: Option<String>,
    /// The customer's id (instances by customer; also by case when it names one).
    pub customer_id: Option<Id>,
    /// An identifier the customer's timeline opens with (one that is not a pseudonym).
    pub identifier: Option<String>,
    /// First and last encounter, `YYYY-MM-DDTHH:MM:SSZ`.
    pub first: String,
    pub last: String,
}

/// A period's instances of a journey, read from the log.
pub struct Instances {
    pub list: Vec<Instance<InstanceRef>>,
    /// Channel table the events' `channel` indexes.
    pub channels: Vec<String>,
}

fn millis(at: &str) -> Option<i64> {
    NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M:%SZ")
        .ok()
        .map(|t| t.and_utc().timestamp_millis())
}

pub(crate) fn time_text(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// Reads the instances of `q` (with their answers) for `journey`.
pub async fn instances(store: &Store, ws: Id, journey: &Journey, q: &Query) -> Result<Instances> {
    // The read below is a join whose plan needs current statistics on PostgreSQL.
    store.refresh_statistics().await?;
    let (from, to) = q.window();
    let gap = q.gap_hours * 3_600_000;
    let on_map: Vec<Id> = journey.design.touchpoints.iter().map(|t| t.id).collect();
    let mut channels: Vec<String> = vec![];
    let mut channel_ix: HashMap<String, u32> = HashMap::new();
    let mut list: Vec<Instance<InstanceRef>> = vec![];
    let mut current: Option<(String, Option<Id>)> = None;
    let mut events: Vec<Event> = vec![];
    let flush = |key: &Option<(String, Option<Id>)>,
                 events: &mut Vec<Event>,
                 list: &mut Vec<Instance<InstanceRef>>| {
        let Some((k, customer)) = key else { return };
        let parts = match q.by {
            InstanceKey::Case => std::iter::once(0..events.len()).collect(),
            InstanceKey::Customer => mining::split_by_gap(events, gap),
        };
        for r in parts {
            let ev = &events[r];
            if ev.is_empty() || !mining::on_map(&journey.design, ev) {
                continue;
            }
            list.push(Instance {
                key: InstanceRef {
                    case_ref: (q.by == InstanceKey::Case).then(|| k.clone()),
                    customer_id: *customer,
                    identifier: None,
                    first: time_text(ev[0].at),
                    last: time_text(ev[ev.len() - 1].at),
                },
                events: ev.to_vec(),
                tally: Tally::default(),
            });
        }
        events.clear();
    };
    store
        .mining_events(ws, &on_map, q.by, (&from, &to), |e| {
            if current.as_ref().map(|c| &c.0) != Some(&e.key) {
                flush(&current, &mut events, &mut list);
                current = Some((e.key.clone(), e.customer_id));
            }
            let Some(at) = millis(&e.occurred_at) else {
                return;
            };
            let channel = match channel_ix.get(&e.channel) {
                Some(c) => *c,
                None => {
                    let c = channels.len() as u32;
                    channels.push(e.channel.clone());
                    channel_ix.insert(e.channel, c);
                    c
                }
            };
            events.push(Event {
                at,
                touchpoint: e.touchpoint_id,
                channel,
                owner: e
                    .unit_id
                    .map(Party::Unit)
                    .or(e.partner_id.map(Party::Partner)),
            });
        })
        .await?;
    flush(&current, &mut events, &mut list);
    // Answers: a case's belong to its instance; a customer's to the instance whose span
    // (first encounter … last + gap) holds the answer's time.
    let answers_to = time_text(
        millis(&to).unwrap_or_default()
            + if q.by == InstanceKey::Customer {
                gap
            } else {
                0
            },
    );
    let answers = store
        .mining_answers(ws, &on_map, q.by, (&from, &to), (&from, &answers_to))
        .await?;
    let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, inst) in list.iter().enumerate() {
        let key = match q.by {
            InstanceKey::Case => inst.key.case_ref.clone().unwrap_or_default(),
            InstanceKey::Customer => inst.key.customer_id.unwrap_or_default().to_string(),
        };
        by_key.entry(key).or_default().push(i);
    }
    for a in answers {
        let Some(at) = millis(&a.created_at) else {
            continue;
        };
        let Some(candidates) = by_key.get(&a.key) else {
            continue;
        };
        let hit = candidates.iter().copied().find(|i| {
            let ev = &list[*i].events;
            q.by == InstanceKey::Case || (at >= ev[0].at && at <= ev[ev.len() - 1].at + gap)
        });
        if let Some(i) = hit {
            list[i].tally += Tally::of(a.nps, a.csat, a.ces);
        }
    }
    Ok(Instances { list, channels })
}

/// An activity as shown: a touchpoint (on this journey's map or another's) or, for an
/// encounter at no touchpoint, its channel.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ActivityOut {
    /// The label in event logs and the Petri net (`docs/metrics.md`).
    pub label: String,
    pub name: String,
    pub touchpoint: Option<String>,
    pub channel: Option<String>,
    /// The stage's slug, when the touchpoint is on this journey.
    pub stage: Option<String>,
    pub on_map: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StageRef {
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PartyOut {
    /// `unit` or `partner`.
    pub kind: String,
    pub slug: String,
    pub name: String,
}

/// Experience scores of a set of instances (their counted answers).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Scores {
    pub answers: i64,
    /// The experience index (0–100), from the metric the whole period's index uses.
    pub index: Shown,
    pub nps: Shown,
    pub csat: Shown,
    pub ces: Shown,
}

/// The instances with something beside those without it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Compared {
    pub with: Scores,
    pub without: Scores,
    /// The two indexes differ significantly (docs/metrics.md).
    pub differs: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EdgeOut {
    pub from: ActivityOut,
    pub to: ActivityOut,
    pub count: u64,
    /// Time between the two encounters, seconds: median and 90th percentile.
    pub median_seconds: f64,
    pub p90_seconds: f64,
    /// The design has this step: both on the map, on to a later stage past none that
    /// cannot be left out, or within a stage unless from one alternative to another.
    pub designed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CountOut {
    pub activity: ActivityOut,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct VariantOut {
    /// 1 = the most frequent.
    pub rank: usize,
    pub path: Vec<String>,
    pub instances: u64,
    pub share: f64,
    pub fitness: f64,
    pub tokens: Tokens,
    pub scores: Scores,
    pub examples: Vec<InstanceRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FunnelOut {
    pub stage: StageRef,
    /// Instances with an encounter at the stage.
    pub reached: u64,
    /// Instances whose furthest stage this was (at the last stage: completed).
    pub stopped: u64,
    pub stopped_scores: Scores,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DeviationOut {
    /// `skipped_stage`, `back_to_stage`, `rework`, `outside`, `channel_switch`,
    /// `other_owner`.
    pub kind: String,
    /// The stage skipped; the stage left (back to stage); the stage of the second
    /// encounter (channel switch, when on the map).
    pub stage: Option<StageRef>,
    /// The earlier stage returned to (back to stage).
    pub to_stage: Option<StageRef>,
    /// The touchpoint repeated, met outside the map, or owned by another than designed.
    pub activity: Option<ActivityOut>,
    pub from_channel: Option<String>,
    pub to_channel: Option<String>,
    /// Who owned the encounter (another owner).
    pub owner: Option<PartyOut>,
    pub instances: u64,
    pub share: f64,
    pub scores: Compared,
    pub examples: Vec<InstanceRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct HandOffOut {
    pub from: PartyOut,
    pub to: PartyOut,
    pub count: u64,
    pub instances: u64,
    /// The designed journey has this hand-off (organisation insight).
    pub designed: bool,
    pub scores: Compared,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct HandOffPair {
    pub from: PartyOut,
    pub to: PartyOut,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Fitness {
    /// Token-replay fitness of all instances together (the log's).
    pub log_fitness: f64,
    pub tokens: Tokens,
    pub fitting_instances: u64,
    /// Mean of the instances' own fitness.
    pub average_fitness: f64,
}

/// Journey mining of one journey and period.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct JourneyMining {
    pub journey: String,
    pub name: String,
    pub from: String,
    pub to: String,
    /// `case` or `customer`.
    pub by: String,
    pub gap_hours: i64,
    pub min_sample: i64,
    pub instances: u64,
    pub encounters: u64,
    pub outside_encounters: u64,
    pub scores: Scores,
    pub fitness: Fitness,
    pub edges: Vec<EdgeOut>,
    pub starts: Vec<CountOut>,
    pub ends: Vec<CountOut>,
    pub variants_total: u64,
    /// The most frequent variants (at most `variants`).
    pub variants: Vec<VariantOut>,
    pub funnel: Vec<FunnelOut>,
    pub deviations: Vec<DeviationOut>,
    pub hand_offs: Vec<HandOffOut>,
    pub designed_not_seen: Vec<HandOffPair>,
    /// Where the time went, ms: reading the model, encounters and answers; mining.
    pub timings: Timings,
    /// Kept from an earlier request over the same encounters and names (the timings
    /// are that request's).
    pub cached: bool,
    /// When it was computed (UTC, `YYYY-MM-DDTHH:MM:SSZ`).
    pub computed_at: String,
    /// An earlier report over fewer encounters, shown while the current one is being
    /// computed (never one from before a deletion, a change of design or a rename).
    pub stale: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Timings {
    pub read_ms: f64,
    pub mine_ms: f64,
}

/// Loads the journey (names in `i`'s language) and its instances, and mines them,
/// waiting as long as that takes.
pub async fn mine(store: &Store, ws: Id, q: &Query, i: &I18n) -> Result<JourneyMining> {
    mine_within(store, ws, q, i, None)
        .await?
        .map(|(_, m)| m)
        .ok_or_else(|| Error::Internal("journey mining gave no report".into()))
}

/// Reports computed at once on this instance, whatever their periods: each reads its
/// period's encounters and holds them while it mines.
static MINING_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// [`mine`] with the designed journey the figures are drawn over, waiting at most
/// `wait` (None: as long as it takes). Requests for the same report share one
/// computation, which runs on when they stop waiting and is kept for the next one
/// ([`crate::shared::within`]). None when it is still being computed and no earlier
/// report may stand in for it (one over the same design and names, from before no
/// deletion: marked `stale`).
pub async fn mine_within(
    store: &Store,
    ws: Id,
    q: &Query,
    i: &I18n,
    wait: Option<std::time::Duration>,
) -> Result<Option<(Journey, JourneyMining)>> {
    let snapshot = store.snapshot(ws).await?;
    let journey = Journey::of(&snapshot, q.journey, i)?;
    // Kept per query and language while the encounters (the rollups' stamp) and every
    // name the report shows stay the same.
    let names = journey.names_hash();
    let stamp = crate::mining_rollups::current(store, ws, &snapshot)
        .await?
        .map(|s| format!("{s}/{names}"));
    let (st, q2, i2, j) = (store.clone(), q.clone(), i.clone(), journey.clone());
    let shared = crate::shared::within(
        store,
        ws,
        report_key(q, i),
        stamp,
        || guard_of(store, ws, &journey, &names),
        wait,
        move || async move { compute(&st, ws, j, &q2, &i2).await },
    )
    .await?;
    Ok(shared.map(|s| {
        let mut out = s.value;
        out.cached = s.cached;
        out.stale = s.stale;
        (journey, out)
    }))
}

/// Where a report is kept: its journey and languages first, which [`asked_in`] reads
/// back.
fn report_key(q: &Query, i: &I18n) -> String {
    format!("mining/{}/{}/{}/{q:?}", q.journey, i.lang, i.fallback)
}

/// The journey and languages of a key [`report_key`] made (None: another key).
fn asked_in(key: &str) -> Option<(Id, String, String)> {
    let mut parts = key.strip_prefix("mining/")?.splitn(4, '/');
    let journey = parts.next()?.parse::<Id>().ok()?;
    Some((journey, parts.next()?.to_owned(), parts.next()?.to_owned()))
}

/// Keeps the default report (the last 90 days to today, by case, the default gap and
/// variants, as the actual-journey page opens) computed for every journey and language
/// a report was asked for on this instance, so that a day's first reader, or the first
/// after new encounters, is not kept waiting (the scheduler's
/// `Job::MINING_REPORTS`). A report already kept for the current data is not computed
/// again; one journey at a time, each holding one of the mining slots. How many were
/// computed.
pub async fn mining_reports_once(ctx: &crate::jobs::JobCtx) -> Result<usize> {
    let today = ctx.clock.today();
    let mut computed = 0;
    for ws in ctx.store.workspace_ids().await? {
        let asked: std::collections::BTreeSet<(Id, String, String)> = ctx
            .store
            .memo_keys(ws)
            .iter()
            .filter_map(|k| asked_in(k))
            .collect();
        for (journey, lang, fallback) in asked {
            let q = Query::parse(
                journey,
                crate::clock::default_period(today),
                &BTreeMap::new(),
            )?;
            let i = I18n::new(&lang, &fallback);
            match mine_within(&ctx.store, ws, &q, &i, None).await {
                Ok(Some((_, m))) if !m.cached => computed += 1,
                Ok(_) => {}
                // The journey was deleted since: nothing to keep.
                Err(Error::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(computed)
}

/// What a kept report must share with the data now to be shown in its place.
pub(crate) async fn guard_of(
    store: &Store,
    ws: Id,
    journey: &Journey,
    names: &str,
) -> Result<String> {
    use sha2::{Digest, Sha256};
    let design = Sha256::digest(format!("{:?}", journey.design));
    Ok(format!(
        "{}/{names}/{}",
        store.mining_erasures(ws).await?,
        hex::encode(design)
    ))
}

/// One of [`MINING_SLOTS`], held while a computation reads a period's encounters
/// from the log and works on them.
pub(crate) async fn slot() -> Result<tokio::sync::SemaphorePermit<'static>> {
    MINING_SLOTS
        .acquire()
        .await
        .map_err(|e| Error::Internal(format!("mining slots: {e}")))
}

/// Reads `q`'s instances and mines them (one of [`MINING_SLOTS`] at a time).
async fn compute(
    store: &Store,
    ws: Id,
    journey: Journey,
    q: &Query,
    i: &I18n,
) -> Result<JourneyMining> {
    let _slot = slot().await?;
    let started = std::time::Instant::now();
    let inst = instances(store, ws, &journey, q).await?;
    let read = started.elapsed();
    // Mining is CPU work: off the async workers.
    let (journey, inst, mined) = tokio::task::spawn_blocking(move || {
        let mined = mining::mine(&journey.design, &inst.list);
        (journey, inst, mined)
    })
    .await
    .map_err(|e| Error::Internal(format!("mining: {e}")))?;
    let mut out = report(&journey, q, &inst, &mined, i);
    name_examples(store, ws, &mut out).await?;
    out.timings = Timings {
        read_ms: read.as_secs_f64() * 1000.0,
        mine_ms: (started.elapsed() - read).as_secs_f64() * 1000.0,
    };
    Ok(out)
}

/// Gives each listed instance's customer an identifier its timeline opens with.
async fn name_examples(store: &Store, ws: Id, m: &mut JourneyMining) -> Result<()> {
    let refs = m
        .variants
        .iter_mut()
        .flat_map(|v| v.examples.iter_mut())
        .chain(m.deviations.iter_mut().flat_map(|d| d.examples.iter_mut()));
    let mut refs: Vec<&mut InstanceRef> = refs.collect();
    let mut ids: Vec<Id> = refs.iter().filter_map(|r| r.customer_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut names: HashMap<Id, String> = HashMap::new();
    for chunk in ids.chunks(500) {
        for (c, ident, _) in store.customer_identifiers(ws, chunk).await? {
            if !ident.contains(":#") {
                names.entry(c).or_insert(ident);
            }
        }
    }
    for r in refs.iter_mut() {
        r.identifier = r.customer_id.and_then(|c| names.get(&c).cloned());
    }
    Ok(())
}

pub(crate) struct Namer<'a> {
    pub(crate) journey: &'a Journey,
    pub(crate) channels: &'a [String],
    pub(crate) i: &'a I18n,
}

impl Namer<'_> {
    pub(crate) fn activity(&self, a: Activity) -> ActivityOut {
        let label = self.journey.label(a, self.channels);
        match a {
            Activity::Touchpoint(t) => {
                let x = self.journey.touchpoints.get(&t);
                let stage = x.and_then(|x| x.2);
                ActivityOut {
                    name: x.map_or_else(|| label.clone(), |x| x.1.clone()),
                    touchpoint: Some(x.map_or_else(|| label.clone(), |x| x.0.clone())),
                    channel: None,
                    stage: stage.map(|s| self.journey.stages[s].0.clone()),
                    on_map: stage.is_some(),
                    label,
                }
            }
            Activity::Channel(c) => {
                let ch = self.channel(c);
                ActivityOut {
                    name: self.i.enum_label("channel", &ch),
                    touchpoint: None,
                    channel: Some(ch),
                    stage: None,
                    on_map: false,
                    label,
                }
            }
        }
    }
    fn channel(&self, c: u32) -> String {
        self.channels
            .get(c as usize)
            .cloned()
            .unwrap_or_else(|| "unknown".into())
    }
    fn stage(&self, s: usize) -> StageRef {
        let (slug, name) = self.journey.stages[s].clone();
        StageRef { slug, name }
    }
    fn party(&self, p: Party) -> PartyOut {
        let (kind, m, id) = match p {
            Party::Unit(id) => ("unit", &self.journey.units, id),
            Party::Partner(id) => ("partner", &self.journey.partners, id),
        };
        let (slug, name) = m
            .get(&id)
            .cloned()
            .unwrap_or_else(|| (format!("{kind}-{id}"), format!("#{id}")));
        PartyOut {
            kind: kind.into(),
            slug,
            name,
        }
    }
}

fn scores(t: &Tally, metric: Option<kohtaamo_domain::alerts::Metric>) -> Scores {
    Scores {
        answers: t.responses,
        index: match metric {
            Some(m) => analytics::index_by_shown(t, m, MIN_SAMPLE),
            None => analytics::index_shown(t, MIN_SAMPLE),
        },
        nps: analytics::shown(analytics::nps(t), MIN_SAMPLE),
        csat: analytics::shown(analytics::csat(t), MIN_SAMPLE),
        ces: analytics::shown(analytics::ces(t), MIN_SAMPLE),
    }
}

fn compared(
    with: &Tally,
    without: &Tally,
    metric: Option<kohtaamo_domain::alerts::Metric>,
) -> Compared {
    let differs = match metric {
        Some(m) => match (
            analytics::index_by(with, m, MIN_SAMPLE),
            analytics::index_by(without, m, MIN_SAMPLE),
        ) {
            (Some(a), Some(b)) => a.score.differs_from(&b.score),
            _ => false,
        },
        None => false,
    };
    Compared {
        with: scores(with, metric),
        without: scores(without, metric),
        differs,
    }
}

fn share(n: u64, of: u64) -> f64 {
    if of == 0 {
        0.0
    } else {
        n as f64 / of as f64
    }
}

fn report(journey: &Journey, q: &Query, inst: &Instances, m: &Mined, i: &I18n) -> JourneyMining {
    let nm = Namer {
        journey,
        channels: &inst.channels,
        i,
    };
    let metric = analytics::index(&m.tally, MIN_SAMPLE).map(|x| x.metric);
    let examples = |ix: &[usize]| -> Vec<InstanceRef> {
        ix.iter().map(|k| inst.list[*k].key.clone()).collect()
    };
    let designed = |a: Activity, b: Activity| journey.designed_step(a, b);
    JourneyMining {
        journey: journey.slug.clone(),
        name: journey.name.clone(),
        from: q.from.to_string(),
        to: q.to.to_string(),
        by: q.by.as_str().into(),
        gap_hours: q.gap_hours,
        min_sample: MIN_SAMPLE,
        instances: m.instances,
        encounters: m.events,
        outside_encounters: m.outside_events,
        scores: scores(&m.tally, metric),
        fitness: Fitness {
            log_fitness: m.tokens.fitness(),
            tokens: m.tokens,
            fitting_instances: m.fitting_instances,
            average_fitness: m.average_fitness,
        },
        edges: m
            .edges
            .iter()
            .map(|e| EdgeOut {
                from: nm.activity(e.from),
                to: nm.activity(e.to),
                count: e.count,
                median_seconds: e.median_ms / 1000.0,
                p90_seconds: e.p90_ms as f64 / 1000.0,
                designed: designed(e.from, e.to),
            })
            .collect(),
        starts: m
            .starts
            .iter()
            .map(|(a, n)| CountOut {
                activity: nm.activity(*a),
                count: *n,
            })
            .collect(),
        ends: m
            .ends
            .iter()
            .map(|(a, n)| CountOut {
                activity: nm.activity(*a),
                count: *n,
            })
            .collect(),
        variants_total: m.variants.len() as u64,
        variants: m
            .variants
            .iter()
            .take(q.variants)
            .enumerate()
            .map(|(r, v)| VariantOut {
                rank: r + 1,
                path: v
                    .path
                    .iter()
                    .map(|a| journey.label(*a, &inst.channels))
                    .collect(),
                instances: v.instances,
                share: v.share,
                fitness: v.tokens.fitness(),
                tokens: v.tokens,
                scores: scores(&v.tally, metric),
                examples: examples(&v.examples),
            })
            .collect(),
        funnel: m
            .funnel
            .iter()
            .map(|f| FunnelOut {
                stage: nm.stage(f.stage),
                reached: f.reached,
                stopped: f.stopped,
                stopped_scores: scores(&f.tally_stopped, metric),
            })
            .collect(),
        deviations: m
            .deviations
            .iter()
            .map(|r| {
                let mut d = DeviationOut {
                    kind: String::new(),
                    stage: None,
                    to_stage: None,
                    activity: None,
                    from_channel: None,
                    to_channel: None,
                    owner: None,
                    instances: r.instances,
                    share: share(r.instances, m.instances),
                    scores: compared(&r.with, &r.without, metric),
                    examples: examples(&r.examples),
                };
                match r.deviation {
                    Deviation::SkippedStage { stage } => {
                        d.kind = "skipped_stage".into();
                        d.stage = Some(nm.stage(stage));
                    }
                    Deviation::BackToStage { from, to } => {
                        d.kind = "back_to_stage".into();
                        d.stage = Some(nm.stage(from));
                        d.to_stage = Some(nm.stage(to));
                    }
                    Deviation::Rework { touchpoint } => {
                        d.kind = "rework".into();
                        d.activity = Some(nm.activity(Activity::Touchpoint(touchpoint)));
                    }
                    Deviation::Outside { activity } => {
                        d.kind = "outside".into();
                        d.activity = Some(nm.activity(activity));
                    }
                    Deviation::ChannelSwitch { from, to, stage } => {
                        d.kind = "channel_switch".into();
                        d.from_channel = Some(nm.channel(from));
                        d.to_channel = Some(nm.channel(to));
                        d.stage = stage.map(|s| nm.stage(s));
                    }
                    Deviation::OtherOwner { touchpoint, owner } => {
                        d.kind = "other_owner".into();
                        d.activity = Some(nm.activity(Activity::Touchpoint(touchpoint)));
                        d.owner = Some(nm.party(owner));
                    }
                }
                d
            })
            .collect(),
        hand_offs: m
            .hand_offs
            .iter()
            .map(|h| HandOffOut {
                from: nm.party(h.from),
                to: nm.party(h.to),
                count: h.count,
                instances: h.instances,
                designed: h.designed,
                scores: compared(&h.with, &h.without, metric),
            })
            .collect(),
        designed_not_seen: m
            .designed_not_seen
            .iter()
            .map(|(a, b)| HandOffPair {
                from: nm.party(*a),
                to: nm.party(*b),
            })
            .collect(),
        cached: false,
        computed_at: kohtaamo_storage::now_text(),
        stale: false,
        timings: Timings {
            read_ms: 0.0,
            mine_ms: 0.0,
        },
    }
}

/// The designed journey `id` as a PNML Petri net (place/transition net, with the final
/// marking in the `finalmarkings` element process-mining tools read), and the net.
pub async fn pnml(store: &Store, ws: Id, id: Id) -> Result<(Journey, PetriNet, String)> {
    let snapshot = store.snapshot(ws).await?;
    let journey = Journey::of(&snapshot, id, &I18n::new("en", "en"))?;
    let net = PetriNet::of(&journey.design);
    let xml = pnml_text(&journey.slug, &net).map_err(|e| Error::Internal(format!("pnml: {e}")))?;
    Ok((journey, net, xml))
}

fn pnml_text(name: &str, net: &PetriNet) -> std::io::Result<String> {
    use quick_xml::events::BytesText;
    use quick_xml::Writer;
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(quick_xml::events::Event::Decl(
        quick_xml::events::BytesDecl::new("1.0", Some("UTF-8"), None),
    ))?;
    let text = |w: &mut Writer<Vec<u8>>, tag: &str, v: &str| -> std::io::Result<()> {
        w.create_element(tag).write_inner_content(|w| {
            w.create_element("text")
                .write_text_content(BytesText::new(v))?;
            Ok::<(), std::io::Error>(())
        })?;
        Ok(())
    };
    w.create_element("pnml").write_inner_content(|w| {
        w.create_element("net")
            .with_attribute(("id", name))
            .with_attribute((
                "type",
                "http://www.pnml.org/version-2009/grammar/pnmlcoremodel",
            ))
            .write_inner_content(|w| {
                text(w, "name", name)?;
                w.create_element("page")
                    .with_attribute(("id", "page"))
                    .write_inner_content(|w| {
                        for (k, p) in net.places.iter().enumerate() {
                            w.create_element("place")
                                .with_attribute(("id", p.as_str()))
                                .write_inner_content(|w| {
                                    text(w, "name", p)?;
                                    if net.initial.contains(&k) {
                                        let n = net.initial.iter().filter(|x| **x == k).count();
                                        text(w, "initialMarking", &n.to_string())?;
                                    }
                                    Ok::<(), std::io::Error>(())
                                })?;
                        }
                        for t in &net.transitions {
                            let id = format!("t-{}", t.label);
                            w.create_element("transition")
                                .with_attribute(("id", id.as_str()))
                                .write_inner_content(|w| text(w, "name", &t.label))?;
                        }
                        let mut arc = 0;
                        for t in &net.transitions {
                            let tid = format!("t-{}", t.label);
                            for p in &t.inputs {
                                arc += 1;
                                w.create_element("arc")
                                    .with_attribute(("id", format!("a{arc}").as_str()))
                                    .with_attribute(("source", net.places[*p].as_str()))
                                    .with_attribute(("target", tid.as_str()))
                                    .write_empty()?;
                            }
                            for p in &t.outputs {
                                arc += 1;
                                w.create_element("arc")
                                    .with_attribute(("id", format!("a{arc}").as_str()))
                                    .with_attribute(("source", tid.as_str()))
                                    .with_attribute(("target", net.places[*p].as_str()))
                                    .write_empty()?;
                            }
                        }
                        Ok::<(), std::io::Error>(())
                    })?;
                w.create_element("finalmarkings").write_inner_content(|w| {
                    w.create_element("marking").write_inner_content(|w| {
                        for p in &net.r#final {
                            w.create_element("place")
                                .with_attribute(("idref", net.places[*p].as_str()))
                                .write_inner_content(|w| {
                                    w.create_element("text")
                                        .write_text_content(BytesText::new("1"))?;
                                    Ok::<(), std::io::Error>(())
                                })?;
                        }
                        Ok::<(), std::io::Error>(())
                    })?;
                    Ok::<(), std::io::Error>(())
                })?;
                Ok::<(), std::io::Error>(())
            })?;
        Ok::<(), std::io::Error>(())
    })?;
    String::from_utf8(w.into_inner()).map_err(std::io::Error::other)
}
