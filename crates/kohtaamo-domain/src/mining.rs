//! Journey mining, pure: the journey customers actually take (journey instances built
//! from the encounter log), beside the designed one. Discovery (the directly-follows
//! graph with times, start and end touchpoints, variants, the stage funnel), the
//! designed journey read as a Petri net and token-replay fitness against it, deviations
//! in journey terms, real hand-offs, and each of these joined with the experience
//! scores of the instances that have answers. Definitions in `docs/metrics.md`
//! ("Journey mining"); the storage layer supplies the events, this module only counts.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use crate::analytics::Tally;
use crate::insight::Party;
use crate::model::Presence;
use crate::Id;

/// Milliseconds since the Unix epoch (UTC).
pub type Millis = i64;

/// What happened at an encounter, as process mining names an event's activity: the
/// touchpoint, or for an encounter recorded at no touchpoint its channel (an index into
/// the caller's channel table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Activity {
    Touchpoint(Id),
    Channel(u32),
}

/// One encounter of an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub at: Millis,
    pub touchpoint: Option<Id>,
    /// Index into the caller's channel table.
    pub channel: u32,
    pub owner: Option<Party>,
}

impl Event {
    pub fn activity(&self) -> Activity {
        match self.touchpoint {
            Some(t) => Activity::Touchpoint(t),
            None => Activity::Channel(self.channel),
        }
    }
}

/// A touchpoint of the designed journey.
#[derive(Debug, Clone, PartialEq)]
pub struct DesignedTouchpoint {
    pub id: Id,
    /// Its slug: the transition's label in the exported Petri net and in event logs.
    pub label: String,
    /// Index of its stage in the journey's stage order.
    pub stage: usize,
    pub presence: Presence,
    pub owner: Option<Party>,
}

/// The designed journey as the conformance check reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    /// Number of stages (touchpoints refer to them by index).
    pub stages: usize,
    /// In stage order, then position within the stage.
    pub touchpoints: Vec<DesignedTouchpoint>,
    /// Hand-offs the designed journey has (organisation insight), (from, to).
    pub hand_offs: Vec<(Party, Party)>,
}

impl Design {
    fn touchpoint(&self, id: Id) -> Option<&DesignedTouchpoint> {
        self.touchpoints.iter().find(|t| t.id == id)
    }

    /// Stages that an instance cannot leave out: those with an alternative or a
    /// required touchpoint (a stage of optional touchpoints only may be passed by).
    fn mandatory_stage(&self, stage: usize) -> bool {
        self.touchpoints
            .iter()
            .any(|t| t.stage == stage && t.presence != Presence::Optional)
    }
}

/// A place/transition net with unit arc weights, as exported to PNML.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PetriNet {
    /// Place identifiers (`start`, `stage-2`, `pending-<slug>`, …).
    pub places: Vec<String>,
    pub transitions: Vec<Transition>,
    pub initial: Vec<usize>,
    pub r#final: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transition {
    pub touchpoint: Id,
    pub label: String,
    pub inputs: Vec<usize>,
    pub outputs: Vec<usize>,
}

impl PetriNet {
    /// The designed journey read as a Petri net, with no silent transitions, so that
    /// token replay has one answer and any tool reproduces it (`docs/metrics.md`):
    ///
    /// - a token moves from stage to stage through the stages that have alternatives:
    ///   place `c0` (the start), then one place after each such stage; each alternative
    ///   of the stage moves it on (so exactly one alternative per such stage);
    /// - a required or optional touchpoint of stage *i* belongs to the window from the
    ///   alternative of the nearest earlier stage with alternatives (or the start) to
    ///   the alternative of the nearest later one (or the end): that alternative (or the
    ///   initial marking) puts a token in its own place, and the next one takes it back;
    ///   a required touchpoint moves that token to a "done" place (so it must happen
    ///   once in its window), an optional one puts it back (any number of times).
    pub fn of(design: &Design) -> PetriNet {
        let alt_stages: Vec<usize> = (0..design.stages)
            .filter(|s| {
                design
                    .touchpoints
                    .iter()
                    .any(|t| t.stage == *s && t.presence == Presence::Alternative)
            })
            .collect();
        let mut places: Vec<String> = (0..=alt_stages.len()).map(|i| format!("c{i}")).collect();
        // For each carrier step j (0 = start, j = after the j-th stage with
        // alternatives): places the step produces and places the next one consumes.
        let steps = alt_stages.len() + 1;
        let mut produce: Vec<Vec<usize>> = (0..steps).map(|j| vec![j]).collect();
        let mut consume: Vec<Vec<usize>> = (0..steps).map(|j| vec![j]).collect();
        let mut transitions = vec![];
        for t in &design.touchpoints {
            if t.presence == Presence::Alternative {
                continue;
            }
            // The window: after step `before` (alternative stages earlier than this
            // stage) until the next alternative stage later than it.
            let before = alt_stages.iter().filter(|s| **s < t.stage).count();
            let through = alt_stages.iter().filter(|s| **s <= t.stage).count();
            match t.presence {
                Presence::Required => {
                    let pending = places.len();
                    places.push(format!("pending-{}", t.label));
                    let done = places.len();
                    places.push(format!("done-{}", t.label));
                    produce[before].push(pending);
                    consume[through].push(done);
                    transitions.push(Transition {
                        touchpoint: t.id,
                        label: t.label.clone(),
                        inputs: vec![pending],
                        outputs: vec![done],
                    });
                }
                _ => {
                    let window = places.len();
                    places.push(format!("window-{}", t.label));
                    produce[before].push(window);
                    consume[through].push(window);
                    transitions.push(Transition {
                        touchpoint: t.id,
                        label: t.label.clone(),
                        inputs: vec![window],
                        outputs: vec![window],
                    });
                }
            }
        }
        for t in &design.touchpoints {
            if t.presence != Presence::Alternative {
                continue;
            }
            let j = alt_stages.iter().filter(|s| **s <= t.stage).count();
            transitions.push(Transition {
                touchpoint: t.id,
                label: t.label.clone(),
                inputs: consume[j - 1].clone(),
                outputs: produce[j].clone(),
            });
        }
        // Transitions in the design's touchpoint order (stable output).
        let order: HashMap<Id, usize> = design
            .touchpoints
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id, i))
            .collect();
        transitions.sort_by_key(|t| order.get(&t.touchpoint).copied());
        PetriNet {
            places,
            transitions,
            initial: produce[0].clone(),
            r#final: consume[steps - 1].clone(),
        }
    }
}

/// Token counts of a replay (pm4py's token-based replay on a net without silent
/// transitions gives the same four numbers).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Tokens {
    pub missing: u64,
    pub consumed: u64,
    pub remaining: u64,
    pub produced: u64,
}

impl Tokens {
    /// ½(1 − missing/consumed) + ½(1 − remaining/produced); 1 when nothing moved.
    pub fn fitness(&self) -> f64 {
        if self.consumed == 0 || self.produced == 0 {
            return 1.0;
        }
        0.5 * (1.0 - self.missing as f64 / self.consumed as f64)
            + 0.5 * (1.0 - self.remaining as f64 / self.produced as f64)
    }
    pub fn fits(&self) -> bool {
        self.missing == 0 && self.remaining == 0
    }
    fn add(&mut self, o: Tokens, times: u64) {
        self.missing += o.missing * times;
        self.consumed += o.consumed * times;
        self.remaining += o.remaining * times;
        self.produced += o.produced * times;
    }
}

/// Replays one instance's activities on `net`: each touchpoint of the net fires its
/// transition, adding the tokens it lacks as missing; activities not in the net are
/// passed over. The initial marking counts as produced, the final as consumed; what
/// is left beyond the final marking is remaining.
pub fn replay(net: &PetriNet, by_touchpoint: &HashMap<Id, usize>, path: &[Activity]) -> Tokens {
    let mut marking = vec![0u64; net.places.len()];
    let mut tokens = Tokens::default();
    for p in &net.initial {
        marking[*p] += 1;
        tokens.produced += 1;
    }
    for a in path {
        let Activity::Touchpoint(id) = a else {
            continue;
        };
        let Some(t) = by_touchpoint.get(id).map(|i| &net.transitions[*i]) else {
            continue;
        };
        for p in &t.inputs {
            if marking[*p] == 0 {
                tokens.missing += 1;
            } else {
                marking[*p] -= 1;
            }
            tokens.consumed += 1;
        }
        for p in &t.outputs {
            marking[*p] += 1;
            tokens.produced += 1;
        }
    }
    for p in &net.r#final {
        if marking[*p] == 0 {
            tokens.missing += 1;
        } else {
            marking[*p] -= 1;
        }
        tokens.consumed += 1;
    }
    tokens.remaining = marking.iter().sum();
    tokens
}

/// A deviation from the designed journey, in journey terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Deviation {
    /// A stage that cannot be passed by had no encounter, though a later one had.
    SkippedStage { stage: usize },
    /// An encounter at an earlier stage than the one before it.
    BackToStage { from: usize, to: usize },
    /// A touchpoint met more than once in the instance.
    Rework { touchpoint: Id },
    /// An encounter at a touchpoint of another journey or at none.
    Outside { activity: Activity },
    /// Consecutive encounters in different channels; the stage of the second, when it
    /// is on the map.
    ChannelSwitch {
        from: u32,
        to: u32,
        stage: Option<usize>,
    },
    /// An encounter at a touchpoint owned by another unit or partner than designed.
    OtherOwner { touchpoint: Id, owner: Party },
}

/// Deviations of one instance, each once.
pub fn deviations(design: &Design, events: &[Event]) -> BTreeSet<Deviation> {
    let mut out = BTreeSet::new();
    let mut seen: HashMap<Id, u32> = HashMap::new();
    let mut last_stage: Option<usize> = None;
    let mut stages_met = vec![false; design.stages];
    let mut furthest: Option<usize> = None;
    for (i, e) in events.iter().enumerate() {
        let tp = e.touchpoint.and_then(|t| design.touchpoint(t));
        if let Some(prev) = i.checked_sub(1).map(|j| events[j]) {
            if prev.channel != e.channel {
                out.insert(Deviation::ChannelSwitch {
                    from: prev.channel,
                    to: e.channel,
                    stage: tp.map(|t| t.stage),
                });
            }
        }
        let Some(tp) = tp else {
            out.insert(Deviation::Outside {
                activity: e.activity(),
            });
            continue;
        };
        let n = seen.entry(tp.id).or_default();
        *n += 1;
        if *n == 2 {
            out.insert(Deviation::Rework { touchpoint: tp.id });
        }
        if let Some(prev) = last_stage {
            if tp.stage < prev {
                out.insert(Deviation::BackToStage {
                    from: prev,
                    to: tp.stage,
                });
            }
        }
        if let (Some(designed), Some(actual)) = (tp.owner, e.owner) {
            if designed != actual {
                out.insert(Deviation::OtherOwner {
                    touchpoint: tp.id,
                    owner: actual,
                });
            }
        }
        last_stage = Some(tp.stage);
        stages_met[tp.stage] = true;
        furthest = furthest.max(Some(tp.stage));
    }
    if let Some(f) = furthest {
        for (s, met) in stages_met.iter().enumerate().take(f) {
            if !met && design.mandatory_stage(s) {
                out.insert(Deviation::SkippedStage { stage: s });
            }
        }
    }
    out
}

/// Consecutive encounters of an instance owned by different units or partners.
pub fn hand_offs(events: &[Event]) -> Vec<(Party, Party)> {
    let owned: Vec<Party> = events.iter().filter_map(|e| e.owner).collect();
    owned
        .windows(2)
        .filter(|w| w[0] != w[1])
        .map(|w| (w[0], w[1]))
        .collect()
}

/// Where a customer's encounters split into instances: a new instance starts after a
/// pause longer than `gap`. `events` are in time order; returns the index ranges.
pub fn split_by_gap(events: &[Event], gap: Millis) -> Vec<std::ops::Range<usize>> {
    let mut out = vec![];
    let mut start = 0;
    for i in 1..events.len() {
        if events[i].at - events[i - 1].at > gap {
            out.push(start..i);
            start = i;
        }
    }
    if !events.is_empty() {
        out.push(start..events.len());
    }
    out
}

/// Whether an instance is one of this journey's: it has an encounter at one of its
/// touchpoints.
pub fn on_map(design: &Design, events: &[Event]) -> bool {
    events
        .iter()
        .any(|e| e.touchpoint.is_some_and(|t| design.touchpoint(t).is_some()))
}

/// One journey instance: its encounters in time order and the answers given in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance<K> {
    pub key: K,
    pub events: Vec<Event>,
    /// Answers of the instance's customer or case (none: `Tally::default()`).
    pub tally: Tally,
}

/// An edge of the directly-follows graph.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Edge {
    pub from: Activity,
    pub to: Activity,
    pub count: u64,
    /// Time between the two encounters: median and 90th percentile (nearest rank), ms.
    pub median_ms: f64,
    pub p90_ms: i64,
}

/// A variant: a distinct path (sequence of activities) and the instances that took it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Variant {
    pub path: Vec<Activity>,
    pub instances: u64,
    pub share: f64,
    pub tokens: Tokens,
    pub tally: Tally,
    /// Indexes of its instances (in the input order), at most [`MAX_EXAMPLES`].
    pub examples: Vec<usize>,
}

/// One stage of the funnel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunnelStage {
    pub stage: usize,
    /// Instances with an encounter at this stage.
    pub reached: u64,
    /// Instances whose furthest stage this was (for the last stage: completed).
    pub stopped: u64,
    pub tally_stopped: Tally,
}

/// A deviation kind and what it does to the score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeviationRow {
    pub deviation: Deviation,
    pub instances: u64,
    /// Answers of the instances with it, and of those without.
    pub with: Tally,
    pub without: Tally,
    pub examples: Vec<usize>,
}

/// A hand-off seen between owners, and whether the design has it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HandOffRow {
    pub from: Party,
    pub to: Party,
    /// Times it happened, and in how many instances.
    pub count: u64,
    pub instances: u64,
    pub designed: bool,
    pub with: Tally,
    pub without: Tally,
}

/// Everything journey mining finds in a set of instances.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mined {
    pub instances: u64,
    pub events: u64,
    /// Encounters of the instances at touchpoints outside the journey or at none.
    pub outside_events: u64,
    pub edges: Vec<Edge>,
    pub starts: Vec<(Activity, u64)>,
    pub ends: Vec<(Activity, u64)>,
    /// Most frequent first (ties by path).
    pub variants: Vec<Variant>,
    pub funnel: Vec<FunnelStage>,
    /// Summed over all instances (the log's fitness).
    pub tokens: Tokens,
    pub fitting_instances: u64,
    /// Mean of the instances' own fitness.
    pub average_fitness: f64,
    pub deviations: Vec<DeviationRow>,
    pub hand_offs: Vec<HandOffRow>,
    /// Hand-offs of the design that no instance had.
    pub designed_not_seen: Vec<(Party, Party)>,
    /// All answers of the instances.
    pub tally: Tally,
}

/// Instances listed per variant, deviation and hand-off.
pub const MAX_EXAMPLES: usize = 20;

/// Mines `instances` against `design`.
pub fn mine<K>(design: &Design, instances: &[Instance<K>]) -> Mined {
    let net = PetriNet::of(design);
    let by_touchpoint: HashMap<Id, usize> = net
        .transitions
        .iter()
        .enumerate()
        .map(|(i, t)| (t.touchpoint, i))
        .collect();
    let mut total = Tally::default();
    let mut events = 0u64;
    let mut outside = 0u64;
    let mut edge_times: HashMap<(Activity, Activity), Vec<i64>> = HashMap::new();
    let mut starts: BTreeMap<Activity, u64> = BTreeMap::new();
    let mut ends: BTreeMap<Activity, u64> = BTreeMap::new();
    let mut variant_of: HashMap<Vec<Activity>, usize> = HashMap::new();
    let mut variants: Vec<Variant> = vec![];
    let mut reached = vec![0u64; design.stages];
    let mut stopped = vec![(0u64, Tally::default()); design.stages];
    let mut dev_rows: BTreeMap<Deviation, (u64, Tally, Vec<usize>)> = BTreeMap::new();
    let mut hand_rows: BTreeMap<(Party, Party), (u64, u64, Tally)> = BTreeMap::new();
    let stage_of: HashMap<Id, usize> = design.touchpoints.iter().map(|t| (t.id, t.stage)).collect();
    for (i, inst) in instances.iter().enumerate() {
        total += inst.tally;
        events += inst.events.len() as u64;
        let path: Vec<Activity> = inst.events.iter().map(Event::activity).collect();
        for (w, e) in inst.events.windows(2).zip(path.windows(2)) {
            edge_times
                .entry((e[0], e[1]))
                .or_default()
                .push(w[1].at - w[0].at);
        }
        if let (Some(f), Some(l)) = (path.first(), path.last()) {
            *starts.entry(*f).or_default() += 1;
            *ends.entry(*l).or_default() += 1;
        }
        let mut met = vec![false; design.stages];
        for e in &inst.events {
            match e.touchpoint.and_then(|t| stage_of.get(&t)) {
                Some(s) => met[*s] = true,
                None => outside += 1,
            }
        }
        for (s, m) in met.iter().enumerate() {
            reached[s] += *m as u64;
        }
        if let Some(f) = met.iter().rposition(|m| *m) {
            stopped[f].0 += 1;
            stopped[f].1 += inst.tally;
        }
        let v = match variant_of.get(&path) {
            Some(v) => *v,
            None => {
                let tokens = replay(&net, &by_touchpoint, &path);
                variants.push(Variant {
                    path: path.clone(),
                    instances: 0,
                    share: 0.0,
                    tokens,
                    tally: Tally::default(),
                    examples: vec![],
                });
                variant_of.insert(path, variants.len() - 1);
                variants.len() - 1
            }
        };
        let var = &mut variants[v];
        var.instances += 1;
        var.tally += inst.tally;
        if var.examples.len() < MAX_EXAMPLES {
            var.examples.push(i);
        }
        let devs = deviations(design, &inst.events);
        for d in &devs {
            let row = dev_rows.entry(*d).or_default();
            row.0 += 1;
            row.1 += inst.tally;
            if row.2.len() < MAX_EXAMPLES {
                row.2.push(i);
            }
        }
        let hs = hand_offs(&inst.events);
        let distinct: BTreeSet<(Party, Party)> = hs.iter().copied().collect();
        for h in &hs {
            hand_rows.entry(*h).or_default().0 += 1;
        }
        for h in distinct {
            let row = hand_rows.entry(h).or_default();
            row.1 += 1;
            row.2 += inst.tally;
        }
    }
    let n = instances.len() as u64;
    let mut tokens = Tokens::default();
    let mut fitting = 0;
    let mut fitness_sum = 0.0;
    for v in &mut variants {
        v.share = if n == 0 {
            0.0
        } else {
            v.instances as f64 / n as f64
        };
        tokens.add(v.tokens, v.instances);
        if v.tokens.fits() {
            fitting += v.instances;
        }
        fitness_sum += v.tokens.fitness() * v.instances as f64;
    }
    // Variants most frequent first.
    let mut order: Vec<usize> = (0..variants.len()).collect();
    order.sort_by(|a, b| {
        variants[*b]
            .instances
            .cmp(&variants[*a].instances)
            .then_with(|| variants[*a].path.cmp(&variants[*b].path))
    });
    let mut slots: Vec<Option<Variant>> = variants.into_iter().map(Some).collect();
    let variants: Vec<Variant> = order.iter().filter_map(|i| slots[*i].take()).collect();
    let mut edges: Vec<Edge> = edge_times
        .into_iter()
        .map(|((from, to), mut times)| {
            times.sort_unstable();
            Edge {
                from,
                to,
                count: times.len() as u64,
                median_ms: median(&times),
                p90_ms: nearest_rank(&times, 0.9),
            }
        })
        .collect();
    edges.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then((a.from, a.to).cmp(&(b.from, b.to)))
    });
    let designed: BTreeSet<(Party, Party)> = design.hand_offs.iter().copied().collect();
    let hand_offs: Vec<HandOffRow> = hand_rows
        .into_iter()
        .map(|((from, to), (count, inst, with))| HandOffRow {
            from,
            to,
            count,
            instances: inst,
            designed: designed.contains(&(from, to)),
            with,
            without: minus(total, with),
        })
        .collect();
    let designed_not_seen = designed
        .iter()
        .filter(|h| !hand_offs.iter().any(|r| (r.from, r.to) == **h))
        .copied()
        .collect();
    Mined {
        instances: n,
        events,
        outside_events: outside,
        edges,
        starts: starts.into_iter().collect(),
        ends: ends.into_iter().collect(),
        variants,
        funnel: (0..design.stages)
            .map(|s| FunnelStage {
                stage: s,
                reached: reached[s],
                stopped: stopped[s].0,
                tally_stopped: stopped[s].1,
            })
            .collect(),
        tokens,
        fitting_instances: fitting,
        average_fitness: if n == 0 { 0.0 } else { fitness_sum / n as f64 },
        deviations: dev_rows
            .into_iter()
            .map(|(deviation, (instances, with, examples))| DeviationRow {
                deviation,
                instances,
                with,
                without: minus(total, with),
                examples,
            })
            .collect(),
        hand_offs,
        designed_not_seen,
        tally: total,
    }
}

fn minus(a: Tally, b: Tally) -> Tally {
    let mut t = a;
    t += -b;
    t
}

/// The median of sorted values (the mean of the middle two for an even count, as
/// numpy and pm4py take it).
fn median(sorted: &[i64]) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return 0.0;
    }
    if n % 2 == 1 {
        sorted[n / 2] as f64
    } else {
        (sorted[n / 2 - 1] as f64 + sorted[n / 2] as f64) / 2.0
    }
}

/// The nearest-rank percentile of sorted values.
fn nearest_rank(sorted: &[i64], q: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    const U1: Party = Party::Unit(1);
    const U2: Party = Party::Unit(2);
    const P9: Party = Party::Partner(9);

    fn tp(id: Id, stage: usize, presence: Presence, owner: Option<Party>) -> DesignedTouchpoint {
        DesignedTouchpoint {
            id,
            label: format!("tp{id}"),
            stage,
            presence,
            owner,
        }
    }

    /// Three stages: 0 = {10 | 11} (alternatives), 1 = {20 (alternative), 21 required,
    /// 22 optional}, 2 = {30}.
    fn design() -> Design {
        use Presence::*;
        Design {
            stages: 3,
            touchpoints: vec![
                tp(10, 0, Alternative, Some(U1)),
                tp(11, 0, Alternative, Some(U1)),
                tp(20, 1, Alternative, Some(U2)),
                tp(21, 1, Required, Some(U2)),
                tp(22, 1, Optional, None),
                tp(30, 2, Alternative, Some(P9)),
            ],
            hand_offs: vec![(U1, U2), (U2, P9)],
        }
    }

    fn ev(at: Millis, touchpoint: Option<Id>, channel: u32, owner: Option<Party>) -> Event {
        Event {
            at,
            touchpoint,
            channel,
            owner,
        }
    }

    /// Events at these touchpoints, one minute apart, channel 0, owned as designed.
    fn walk(tps: &[Id]) -> Vec<Event> {
        let d = design();
        tps.iter()
            .enumerate()
            .map(|(i, t)| {
                let owner = d.touchpoint(*t).and_then(|x| x.owner);
                ev(i as i64 * 60_000, Some(*t), 0, owner)
            })
            .collect()
    }

    fn tokens(tps: &[Id]) -> Tokens {
        let net = PetriNet::of(&design());
        let idx = net
            .transitions
            .iter()
            .enumerate()
            .map(|(i, t)| (t.touchpoint, i))
            .collect();
        let path: Vec<Activity> = walk(tps).iter().map(Event::activity).collect();
        replay(&net, &idx, &path)
    }

    #[test]
    fn the_net_follows_the_stages() {
        let net = PetriNet::of(&design());
        // c0..c3, pending/done of 21, window of 22.
        assert_eq!(net.places.len(), 4 + 3);
        assert_eq!(net.initial, vec![0]);
        assert_eq!(net.r#final, vec![3]);
        let t = |id| net.transitions.iter().find(|t| t.touchpoint == id).unwrap();
        let place = |name: &str| net.places.iter().position(|p| p == name).unwrap();
        // Stage 0's alternatives open the window of stage 1's required and optional
        // touchpoints; stage 2's alternative closes it.
        assert_eq!(t(10).inputs, vec![0]);
        assert_eq!(
            t(10).outputs,
            vec![1, place("pending-tp21"), place("window-tp22")]
        );
        assert_eq!(t(21).inputs, vec![place("pending-tp21")]);
        assert_eq!(t(21).outputs, vec![place("done-tp21")]);
        assert_eq!(t(22).inputs, t(22).outputs);
        assert_eq!(
            t(30).inputs,
            vec![2, place("done-tp21"), place("window-tp22")]
        );
        assert_eq!(t(30).outputs, vec![3]);
    }

    #[test]
    fn a_designed_walk_fits() {
        for path in [
            &[10, 20, 21, 30][..],
            &[11, 21, 20, 30],
            &[10, 22, 21, 22, 20, 30],
            &[10, 21, 20, 22, 30],
        ] {
            let t = tokens(path);
            assert!(t.fits(), "{path:?}: {t:?}");
            assert_eq!(t.fitness(), 1.0);
            assert!(
                deviations(&design(), &walk(path))
                    .iter()
                    .all(|d| matches!(d, Deviation::Rework { touchpoint: 22 })),
                "{path:?}"
            );
        }
    }

    #[test]
    fn token_counts_of_unfitting_walks() {
        // Skipping stage 1 entirely: 20 and 21 missing. Produced: c0 (1) + 10 (3) + 30 (1);
        // 30 lacks c2 and done-21 (2 missing); consumed 1 + 3 + final 1; remaining:
        // c1 and pending-21.
        let t = tokens(&[10, 30]);
        assert_eq!(
            t,
            Tokens {
                missing: 2,
                consumed: 5,
                remaining: 2,
                produced: 5
            }
        );
        assert!((t.fitness() - (0.5 * (1.0 - 2.0 / 5.0) + 0.5 * (1.0 - 2.0 / 5.0))).abs() < 1e-12);
        // Two alternatives of one stage: the second lacks c0, and leaves a second c1
        // and second pending/window tokens.
        let t = tokens(&[10, 11, 20, 21, 30]);
        assert_eq!(t.missing, 1);
        assert_eq!(t.remaining, 3);
        // The empty path: the start token remains, the end token is missing.
        let t = tokens(&[]);
        assert_eq!(
            t,
            Tokens {
                missing: 1,
                consumed: 1,
                remaining: 1,
                produced: 1
            }
        );
    }

    #[test]
    fn each_deviation_kind_is_found() {
        let d = design();
        // Skipped stage 1 (30 reached without any of stage 1).
        let devs = deviations(&d, &walk(&[10, 30]));
        assert!(devs.contains(&Deviation::SkippedStage { stage: 1 }));
        assert!(!devs.contains(&Deviation::SkippedStage { stage: 2 }));
        // Stopping early is not skipping.
        assert!(deviations(&d, &walk(&[10])).is_empty());
        // Back to an earlier stage, and rework of 10.
        let devs = deviations(&d, &walk(&[10, 20, 21, 10, 30]));
        assert!(devs.contains(&Deviation::BackToStage { from: 1, to: 0 }));
        assert!(devs.contains(&Deviation::Rework { touchpoint: 10 }));
        // A touchpoint of another journey, and an encounter at none (channel 3).
        let mut e = walk(&[10, 20, 21, 30]);
        e.insert(1, ev(1, Some(99), 0, None));
        e.insert(2, ev(2, None, 3, None));
        let devs = deviations(&d, &e);
        assert!(devs.contains(&Deviation::Outside {
            activity: Activity::Touchpoint(99)
        }));
        assert!(devs.contains(&Deviation::Outside {
            activity: Activity::Channel(3)
        }));
        // The switch to channel 3 is outside the map, the switch back is at stage 1.
        assert!(devs.contains(&Deviation::ChannelSwitch {
            from: 0,
            to: 3,
            stage: None
        }));
        assert!(devs.contains(&Deviation::ChannelSwitch {
            from: 3,
            to: 0,
            stage: Some(1)
        }));
        // Another owner than designed.
        let mut e = walk(&[10, 20, 21, 30]);
        e[3].owner = Some(U1);
        let devs = deviations(&d, &e);
        assert_eq!(
            devs.into_iter().collect::<Vec<_>>(),
            vec![Deviation::OtherOwner {
                touchpoint: 30,
                owner: U1
            }]
        );
        // A stage of optional touchpoints only cannot be skipped.
        let mut d2 = design();
        d2.touchpoints.retain(|t| t.stage != 1 || t.id == 22);
        assert!(deviations(&d2, &walk(&[10, 30])).is_empty());
        assert!(tokens_on(&d2, &[10, 30]).fits());
    }

    fn tokens_on(d: &Design, tps: &[Id]) -> Tokens {
        let net = PetriNet::of(d);
        let idx = net
            .transitions
            .iter()
            .enumerate()
            .map(|(i, t)| (t.touchpoint, i))
            .collect();
        let path: Vec<Activity> = tps.iter().map(|t| Activity::Touchpoint(*t)).collect();
        replay(&net, &idx, &path)
    }

    #[test]
    fn a_journey_of_required_touchpoints_only() {
        use Presence::*;
        let d = Design {
            stages: 2,
            touchpoints: vec![tp(1, 0, Required, None), tp(2, 1, Required, None)],
            hand_offs: vec![],
        };
        assert!(tokens_on(&d, &[1, 2]).fits());
        // Any order: there is no alternative between them to order them.
        assert!(tokens_on(&d, &[2, 1]).fits());
        let t = tokens_on(&d, &[1]);
        assert_eq!((t.missing, t.remaining), (1, 1));
    }

    #[test]
    fn gaps_split_a_customers_encounters() {
        let e: Vec<Event> = [0, 10, 100, 105, 500]
            .iter()
            .map(|t| ev(*t, Some(10), 0, None))
            .collect();
        assert_eq!(split_by_gap(&e, 50), vec![0..2, 2..4, 4..5]);
        assert_eq!(split_by_gap(&e, 1000), vec![0..5]);
        assert!(split_by_gap(&[], 10).is_empty());
    }

    #[test]
    fn mining_counts_edges_variants_funnel_and_hand_offs() {
        let d = design();
        let good = Tally::of(Some(10), None, None);
        let bad = Tally::of(Some(0), None, None);
        let inst = |tps: &[Id], tally| Instance {
            key: (),
            events: walk(tps),
            tally,
        };
        let instances = vec![
            inst(&[10, 20, 21, 30], good),
            inst(&[10, 20, 21, 30], good),
            inst(&[10, 30], bad),
            inst(&[11, 20], Tally::default()),
        ];
        let m = mine(&d, &instances);
        assert_eq!((m.instances, m.events, m.outside_events), (4, 12, 0));
        assert_eq!(m.variants.len(), 3);
        assert_eq!(m.variants[0].instances, 2);
        assert_eq!(m.variants[0].share, 0.5);
        assert_eq!(m.variants[0].examples, vec![0, 1]);
        // Ties by path: [10, 30] before [11, 20].
        let examples: Vec<&[usize]> = m.variants.iter().map(|v| v.examples.as_slice()).collect();
        assert_eq!(examples, vec![&[0, 1][..], &[2], &[3]]);
        let edge = |a, b| {
            m.edges
                .iter()
                .find(|e| e.from == Activity::Touchpoint(a) && e.to == Activity::Touchpoint(b))
                .map(|e| e.count)
        };
        assert_eq!(edge(10, 20), Some(2));
        assert_eq!(edge(10, 30), Some(1));
        assert_eq!(edge(30, 10), None);
        assert_eq!(m.edges[0].median_ms, 60_000.0);
        assert_eq!(
            m.starts,
            vec![(Activity::Touchpoint(10), 3), (Activity::Touchpoint(11), 1)]
        );
        let reached: Vec<u64> = m.funnel.iter().map(|f| f.reached).collect();
        assert_eq!(reached, vec![4, 3, 3]);
        let stopped: Vec<u64> = m.funnel.iter().map(|f| f.stopped).collect();
        assert_eq!(stopped, vec![0, 1, 3]);
        // Log fitness sums the tokens of all instances.
        let sum = |f: fn(&Tokens) -> u64| -> u64 {
            [
                &[10, 20, 21, 30][..],
                &[10, 20, 21, 30],
                &[10, 30],
                &[11, 20],
            ]
            .iter()
            .map(|p| f(&tokens(p)))
            .sum()
        };
        assert_eq!(m.tokens.missing, sum(|t| t.missing));
        assert_eq!(m.tokens.produced, sum(|t| t.produced));
        assert_eq!(m.fitting_instances, 2);
        // The skipped stage carries the detractor; without it, the promoters.
        let skipped = m
            .deviations
            .iter()
            .find(|r| r.deviation == Deviation::SkippedStage { stage: 1 })
            .unwrap();
        assert_eq!(skipped.instances, 1);
        assert_eq!((skipped.with.detractors, skipped.without.promoters), (1, 2));
        // Hand-offs: U1→U2 designed and seen (3 instances), U2→P9 seen twice, U1→P9
        // seen but not designed; every designed one was seen.
        let h = |a, b| {
            m.hand_offs
                .iter()
                .find(|r| (r.from, r.to) == (a, b))
                .unwrap()
        };
        assert_eq!((h(U1, U2).count, h(U1, U2).designed), (3, true));
        assert_eq!(h(U2, P9).instances, 2);
        assert!(!h(U1, P9).designed);
        assert!(m.designed_not_seen.is_empty());
    }

    #[test]
    fn percentiles() {
        assert_eq!(median(&[1, 2, 3, 4]), 2.5);
        assert_eq!(median(&[5]), 5.0);
        assert_eq!(nearest_rank(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9), 9);
        assert_eq!(nearest_rank(&[7], 0.9), 7);
    }
}
