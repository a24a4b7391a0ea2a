//! The journey's actual flow kept up to date cheaply: per-day rows from which any
//! period's directly-follows counts, start and end activities, instance count and stage
//! funnel are a sum — exactly what [`crate::mining::mine`] finds for the same period
//! (definitions in `docs/metrics.md`, "Journey mining" → "Kept up to date").
//!
//! A period's instance is cut from the stream of one case (or one customer, split by
//! the gap) at the period's edges, so a per-day count alone cannot say whether a pair of
//! encounters falls in a period. Each row therefore carries the days of the neighbours
//! that decide it: the pair's first day, the nearest encounter on the map (does the
//! instance count for the journey in the period?), the nearest earlier encounter at the
//! same or a later stage and the nearest later one at a later stage (is this the
//! instance's first encounter at its stage, at its furthest stage?). A row counts for the
//! days `from`…`to` when its day is in the period and those neighbours are (or are not)
//! — conditions on the row alone, so the sum is one range scan.
//!
//! Rows are a function of one key's (case's or customer's) whole encounter stream: when
//! a stream changes, the rows of its old stream are subtracted and those of the new one
//! added ([`FlowRows::add`] with sign −1 and +1).

use std::collections::BTreeMap;

use crate::mining::{split_by_gap, Activity, Design, Event, Millis};
use crate::Id;

/// Days since the Unix epoch (UTC).
pub type Day = i64;

/// "No such encounter before": earlier than any period's first day.
pub const NONE_BEFORE: Day = -1_000_000_000;
/// "No such encounter after": later than any period's last day.
pub const NONE_AFTER: Day = 1_000_000_000;

const DAY_MS: Millis = 86_400_000;

/// The UTC day of a time.
pub fn day_of(at: Millis) -> Day {
    at.div_euclid(DAY_MS)
}

/// Encounters of one activity on one day. Counts in a period when `day` is in it and
/// the instance has an encounter on the map in it: `on_before ≥ from` or `on_after ≤ to`
/// (the days of the nearest encounters on the map at or before / at or after this one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ActRow {
    pub day: Day,
    pub act: Activity,
    pub on_before: Day,
    pub on_after: Day,
}

/// Pairs of consecutive encounters of an instance, by the second's day. Counts when
/// `day` is in the period, `prev_day ≥ from`, and as [`ActRow`] for `on_before` (nearest
/// on the map at or before the first) and `on_after` (at or after the second).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EdgeRow {
    pub day: Day,
    pub prev_day: Day,
    pub from: Activity,
    pub to: Activity,
    pub on_before: Day,
    pub on_after: Day,
}

/// Encounters at a stage of the journey (index in its order). **Reached** counts one
/// when `day` is in the period and `prev_same < from` (no earlier encounter at this
/// stage in the period); **stopped here** when also `prev_later < from` and
/// `next_later > to` (no encounter at a later stage in the period).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StageRow {
    pub day: Day,
    pub stage: usize,
    pub prev_same: Day,
    pub prev_later: Day,
    pub next_later: Day,
}

/// Row counts (a multiset; a negative count is a change to subtract).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowRows {
    pub acts: BTreeMap<ActRow, i64>,
    pub edges: BTreeMap<EdgeRow, i64>,
    pub stages: BTreeMap<StageRow, i64>,
}

fn bump<K: Ord>(m: &mut BTreeMap<K, i64>, k: K, by: i64) {
    let v = m.entry(k).or_insert(0);
    *v += by;
}

impl FlowRows {
    /// Adds `sign` × the rows of one key's whole encounter stream (time order; with
    /// `gap`, a customer's stream split where two encounters are more than `gap` apart).
    pub fn add(&mut self, design: &Design, events: &[Event], gap: Option<Millis>, sign: i64) {
        let stage_of: BTreeMap<Id, usize> =
            design.touchpoints.iter().map(|t| (t.id, t.stage)).collect();
        let runs = match gap {
            Some(g) => split_by_gap(events, g),
            None => std::iter::once(0..events.len()).collect(),
        };
        for r in runs {
            let ev = &events[r];
            let stage: Vec<Option<usize>> = ev
                .iter()
                .map(|e| e.touchpoint.and_then(|t| stage_of.get(&t).copied()))
                .collect();
            if stage.iter().all(Option::is_none) {
                continue; // never one of this journey's instances
            }
            let day: Vec<Day> = ev.iter().map(|e| day_of(e.at)).collect();
            let n = ev.len();
            let mut before = vec![NONE_BEFORE; n];
            let mut last = NONE_BEFORE;
            for i in 0..n {
                if stage[i].is_some() {
                    last = day[i];
                }
                before[i] = last;
            }
            let mut after = vec![NONE_AFTER; n];
            let mut next = NONE_AFTER;
            for i in (0..n).rev() {
                if stage[i].is_some() {
                    next = day[i];
                }
                after[i] = next;
            }
            for i in 0..n {
                let act = ev[i].activity();
                bump(
                    &mut self.acts,
                    ActRow {
                        day: day[i],
                        act,
                        on_before: before[i],
                        on_after: after[i],
                    },
                    sign,
                );
                if i > 0 {
                    bump(
                        &mut self.edges,
                        EdgeRow {
                            day: day[i],
                            prev_day: day[i - 1],
                            from: ev[i - 1].activity(),
                            to: act,
                            on_before: before[i - 1],
                            on_after: after[i],
                        },
                        sign,
                    );
                }
            }
            // Stage neighbours: the latest earlier day per stage going forward, the
            // earliest later day per stage going backward (days never decrease).
            let stages = design.stages;
            let mut seen = vec![NONE_BEFORE; stages];
            let mut prev: Vec<(Day, Day)> = vec![(NONE_BEFORE, NONE_BEFORE); n];
            for i in 0..n {
                if let Some(s) = stage[i] {
                    let later = seen[s + 1..].iter().copied().max().unwrap_or(NONE_BEFORE);
                    prev[i] = (seen[s], later);
                    seen[s] = day[i];
                }
            }
            let mut coming = vec![NONE_AFTER; stages];
            for i in (0..n).rev() {
                if let Some(s) = stage[i] {
                    let next_later = coming[s + 1..].iter().copied().min().unwrap_or(NONE_AFTER);
                    bump(
                        &mut self.stages,
                        StageRow {
                            day: day[i],
                            stage: s,
                            prev_same: prev[i].0,
                            prev_later: prev[i].1,
                            next_later,
                        },
                        sign,
                    );
                    coming[s] = day[i];
                }
            }
        }
    }

    /// Adds another set of rows (a change) to these, dropping rows that reach zero.
    pub fn merge(&mut self, other: FlowRows) {
        for (k, v) in other.acts {
            bump(&mut self.acts, k, v);
        }
        for (k, v) in other.edges {
            bump(&mut self.edges, k, v);
        }
        for (k, v) in other.stages {
            bump(&mut self.stages, k, v);
        }
        self.prune();
    }

    /// Drops rows whose count is zero.
    pub fn prune(&mut self) {
        self.acts.retain(|_, v| *v != 0);
        self.edges.retain(|_, v| *v != 0);
        self.stages.retain(|_, v| *v != 0);
    }

    pub fn is_empty(&self) -> bool {
        self.acts.is_empty() && self.edges.is_empty() && self.stages.is_empty()
    }

    /// The sums for the days `from`…`to` (inclusive), as the storage layer computes them
    /// in SQL.
    pub fn sum(&self, stages: usize, (from, to): (Day, Day)) -> FlowSums {
        let member = |b: Day, a: Day| b >= from || a <= to;
        let mut s = FlowSums {
            reached: vec![0; stages],
            stopped: vec![0; stages],
            ..FlowSums::default()
        };
        for (r, n) in &self.acts {
            if (from..=to).contains(&r.day) && member(r.on_before, r.on_after) {
                *s.acts.entry(r.act).or_default() += n;
            }
        }
        for (r, n) in &self.edges {
            if (from..=to).contains(&r.day) && r.prev_day >= from && member(r.on_before, r.on_after)
            {
                *s.edges.entry((r.from, r.to)).or_default() += n;
            }
        }
        for (r, n) in &self.stages {
            if (from..=to).contains(&r.day) && r.prev_same < from && r.stage < stages {
                s.reached[r.stage] += n;
                if r.prev_later < from && r.next_later > to {
                    s.stopped[r.stage] += n;
                }
            }
        }
        s.acts.retain(|_, v| *v != 0);
        s.edges.retain(|_, v| *v != 0);
        s
    }
}

/// A period's sums of the rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowSums {
    /// Encounters per activity.
    pub acts: BTreeMap<Activity, i64>,
    /// Directly-follows counts.
    pub edges: BTreeMap<(Activity, Activity), i64>,
    /// Per stage: instances that reached it, instances whose furthest stage it is.
    pub reached: Vec<i64>,
    pub stopped: Vec<i64>,
}

/// A period's actual flow: what [`crate::mining::mine`] counts, without times,
/// variants or conformance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flow {
    pub instances: u64,
    /// Encounters per activity.
    pub activities: BTreeMap<Activity, u64>,
    pub edges: BTreeMap<(Activity, Activity), u64>,
    pub starts: BTreeMap<Activity, u64>,
    pub ends: BTreeMap<Activity, u64>,
    pub reached: Vec<u64>,
    pub stopped: Vec<u64>,
}

impl Flow {
    /// From the sums: an encounter that follows none in its instance starts it, one
    /// that none follows ends it — starts(b) = encounters at b − pairs into b, ends(a) =
    /// encounters at a − pairs out of a, instances = the starts.
    pub fn of_sums(s: &FlowSums) -> Flow {
        let mut f = Flow {
            reached: s.reached.iter().map(|n| (*n).max(0) as u64).collect(),
            stopped: s.stopped.iter().map(|n| (*n).max(0) as u64).collect(),
            ..Flow::default()
        };
        let mut into: BTreeMap<Activity, i64> = BTreeMap::new();
        let mut out: BTreeMap<Activity, i64> = BTreeMap::new();
        for ((a, b), n) in &s.edges {
            *out.entry(*a).or_default() += n;
            *into.entry(*b).or_default() += n;
            f.edges.insert((*a, *b), (*n).max(0) as u64);
        }
        for (a, n) in &s.acts {
            f.activities.insert(*a, (*n).max(0) as u64);
            let st = n - into.get(a).copied().unwrap_or(0);
            let en = n - out.get(a).copied().unwrap_or(0);
            if st > 0 {
                f.starts.insert(*a, st as u64);
                f.instances += st as u64;
            }
            if en > 0 {
                f.ends.insert(*a, en as u64);
            }
        }
        f
    }

    /// Counted directly from a period's instances (each already cut to the period and
    /// on the map): the definition the sums must equal.
    pub fn of_instances<'a>(
        design: &Design,
        instances: impl IntoIterator<Item = &'a [Event]>,
    ) -> Flow {
        let stage_of: BTreeMap<Id, usize> =
            design.touchpoints.iter().map(|t| (t.id, t.stage)).collect();
        let mut f = Flow {
            reached: vec![0; design.stages],
            stopped: vec![0; design.stages],
            ..Flow::default()
        };
        for ev in instances {
            let (Some(first), Some(last)) = (ev.first(), ev.last()) else {
                continue;
            };
            f.instances += 1;
            *f.starts.entry(first.activity()).or_default() += 1;
            *f.ends.entry(last.activity()).or_default() += 1;
            for e in ev {
                *f.activities.entry(e.activity()).or_default() += 1;
            }
            for w in ev.windows(2) {
                *f.edges
                    .entry((w[0].activity(), w[1].activity()))
                    .or_default() += 1;
            }
            let mut met = vec![false; design.stages];
            for e in ev {
                if let Some(s) = e.touchpoint.and_then(|t| stage_of.get(&t)) {
                    met[*s] = true;
                }
            }
            for (s, m) in met.iter().enumerate() {
                f.reached[s] += *m as u64;
            }
            if let Some(s) = met.iter().rposition(|m| *m) {
                f.stopped[s] += 1;
            }
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mining::{on_map, DesignedTouchpoint};
    use crate::model::Presence;

    fn design() -> Design {
        let tp = |id: Id, stage: usize| DesignedTouchpoint {
            id,
            label: format!("t{id}"),
            stage,
            presence: Presence::Alternative,
            owner: None,
        };
        Design {
            stages: 3,
            touchpoints: vec![tp(1, 0), tp(2, 0), tp(3, 1), tp(4, 2)],
            hand_offs: vec![],
        }
    }

    /// A small deterministic generator (no dependency for tests).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) % n
        }
    }

    fn streams(seed: u64) -> Vec<Vec<Event>> {
        let mut g = Lcg(seed);
        (0..60)
            .map(|_| {
                let mut at = 1_700_000_000_000 + g.next(40) as i64 * DAY_MS;
                let n = 1 + g.next(9);
                (0..n)
                    .map(|_| {
                        at += g.next(4 * DAY_MS as u64) as i64;
                        // touchpoints 1–4 on the map, 9 of another journey, or none
                        let t = g.next(7);
                        Event {
                            at,
                            touchpoint: match t {
                                0..=3 => Some(t as Id + 1),
                                4 => Some(9),
                                _ => None,
                            },
                            channel: g.next(2) as u32,
                            owner: None,
                        }
                    })
                    .collect()
            })
            .collect()
    }

    /// The definition: each stream cut to the period, split by the gap, kept when on
    /// the map.
    fn direct(
        d: &Design,
        streams: &[Vec<Event>],
        gap: Option<Millis>,
        (from, to): (Day, Day),
    ) -> Flow {
        let mut cut: Vec<Vec<Event>> = vec![];
        for s in streams {
            let inside: Vec<Event> = s
                .iter()
                .copied()
                .filter(|e| (from..=to).contains(&day_of(e.at)))
                .collect();
            let runs = match gap {
                Some(g) => split_by_gap(&inside, g),
                None => std::iter::once(0..inside.len()).collect(),
            };
            for r in runs {
                if !inside[r.clone()].is_empty() && on_map(d, &inside[r.clone()]) {
                    cut.push(inside[r].to_vec());
                }
            }
        }
        Flow::of_instances(d, cut.iter().map(Vec::as_slice))
    }

    #[test]
    fn a_periods_sum_is_what_its_instances_count() {
        let d = design();
        for seed in 1..6 {
            let ss = streams(seed);
            for gap in [None, Some(2 * DAY_MS)] {
                let mut rows = FlowRows::default();
                for s in &ss {
                    rows.add(&d, s, gap, 1);
                }
                let first = day_of(1_700_000_000_000);
                let mut g = Lcg(seed * 31);
                for _ in 0..40 {
                    let from = first + g.next(60) as i64 - 5;
                    let to = from + g.next(30) as i64;
                    assert_eq!(
                        Flow::of_sums(&rows.sum(d.stages, (from, to))),
                        direct(&d, &ss, gap, (from, to)),
                        "seed {seed}, gap {gap:?}, days {from}..={to}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_changed_stream_is_its_old_rows_out_and_new_rows_in() {
        let d = design();
        let ss = streams(7);
        let mut kept = FlowRows::default();
        for s in &ss {
            kept.add(&d, s, None, 1);
        }
        // Insert an encounter in the middle of stream 0 (out of time order), drop
        // stream 1's first: subtract the old streams, add the new.
        let mut s0 = ss[0].clone();
        let mid = s0[0].at + 1;
        s0.insert(
            1,
            Event {
                at: mid,
                touchpoint: Some(3),
                channel: 1,
                owner: None,
            },
        );
        s0.sort_by_key(|e| e.at);
        let s1: Vec<Event> = ss[1][1..].to_vec();
        let mut change = FlowRows::default();
        change.add(&d, &ss[0], None, -1);
        change.add(&d, &s0, None, 1);
        change.add(&d, &ss[1], None, -1);
        change.add(&d, &s1, None, 1);
        kept.merge(change);
        let mut fresh = FlowRows::default();
        let mut now = ss.clone();
        now[0] = s0;
        now[1] = s1;
        for s in &now {
            fresh.add(&d, s, None, 1);
        }
        fresh.prune();
        assert_eq!(kept, fresh);
    }
}
