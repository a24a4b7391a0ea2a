//! Organisation insight (seeds 000, 002, 004): who knows its customers, the chain from
//! each unit to an external customer, hand-offs between owners along a journey, the
//! five interfaces, processes that do or do not serve the journey, and service-package
//! checks. Pure functions over a [`Snapshot`] of one workspace's model; definitions of
//! every figure are in `docs/metrics.md`.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use chrono::NaiveDate;
use serde::Serialize;

use crate::model::*;
use crate::Id;

/// A stage with its touchpoints, in order.
pub type StageWithTouchpoints = (Id, StageData, Vec<(Id, TouchpointData)>);

/// One workspace's model, as the insight rules read it. Journeys' stages and
/// touchpoints are in their order.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub units: Vec<(Id, UnitData)>,
    pub people: Vec<(Id, PersonData)>,
    pub partners: Vec<(Id, PartnerData)>,
    pub segments: Vec<(Id, SegmentData)>,
    pub relations: Vec<(Id, RelationData)>,
    pub elements: Vec<(Id, ElementData)>,
    pub packages: Vec<(Id, PackageData)>,
    pub journeys: Vec<(Id, JourneyData)>,
    /// Stages per journey, in order, each with its touchpoints in order.
    pub stages: Vec<StageWithTouchpoints>,
    pub steps: Vec<(Id, ProcessStepData)>,
}

/// Who owns an encounter or does the work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    Unit(Id),
    Partner(Id),
}

impl From<Owner> for Party {
    fn from(o: Owner) -> Self {
        match o {
            Owner::Unit(u) => Party::Unit(u),
            Owner::Partner(p) => Party::Partner(p),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    pub units_with_customers: Vec<Id>,
    pub units_without_customers: Vec<Id>,
    pub people_with_customers: Vec<Id>,
    pub people_without_customers: Vec<Id>,
    pub stale_relations: Vec<Id>,
    /// Units with a path through internal customer relations to an external segment.
    pub units_reaching_external: Vec<Id>,
    /// Share of units reaching an external customer, 0–1 (0 when there are no units).
    pub share_reaching_external: f64,
}

/// Paths from a unit through internal customer relations to external segments.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chain {
    pub unit: Id,
    /// Each segment reached, once, with the shortest path to it: the units passed
    /// (starting with `unit`) and the segment.
    pub paths: Vec<(Vec<Id>, Id)>,
    /// No path to an end customer (an external segment).
    pub far_from_customer: bool,
    /// The unit (or one of its people) has recorded at least one customer — an internal
    /// unit, a partner or a segment. Far from the customer *without* any is "nobody has
    /// told them who it is"; with some, their chains just do not reach an end customer.
    pub has_customers: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HandOff {
    pub journey: Id,
    pub from: Party,
    pub to: Party,
    /// The touchpoint (or process step → touchpoint) where the hand-off happens.
    pub from_touchpoint: Option<Id>,
    pub from_step: Option<Id>,
    pub to_touchpoint: Id,
    /// No internal customer relation is declared between the two sides (either way),
    /// so the information passed here has no owner.
    pub undeclared: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InterfaceGroup {
    pub kind: Option<InterfaceKind>,
    pub touchpoints: Vec<(Id, Option<Party>)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Labyrinth {
    pub journey: Id,
    /// Touchpoints in the customer-action lane: steps the customer must act in.
    pub customer_steps: usize,
    pub hand_offs: usize,
    /// Times the channel changes between consecutive touchpoints.
    pub channel_switches: usize,
    /// Sum of the expected durations of the process steps serving the journey.
    pub total_minutes: i64,
    /// customer_steps + hand_offs + channel_switches + total_minutes / 60.
    pub score: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MissingEnabler {
    pub journey: Id,
    pub touchpoint: Id,
    /// The core element the touchpoint delivers.
    pub core_element: Id,
    /// Enabling elements of that core's packages that no earlier touchpoint delivers.
    pub missing: Vec<Id>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Insight {
    pub coverage: Coverage,
    pub chains: Vec<Chain>,
    pub hand_offs: Vec<HandOff>,
    /// Hand-offs counted per (from, to) pair of owners.
    pub hand_off_matrix: Vec<(Party, Party, usize)>,
    pub interfaces: Vec<InterfaceGroup>,
    /// Touchpoints without an interface kind or without an owner.
    pub interface_gaps: Vec<Id>,
    pub orphan_steps: Vec<Id>,
    /// Frontstage touchpoints with no process step behind them.
    pub unsupported_touchpoints: Vec<Id>,
    pub labyrinth: Vec<Labyrinth>,
    pub packages_without_core: Vec<Id>,
    pub missing_enablers: Vec<MissingEnabler>,
    pub unowned_elements: Vec<Id>,
}

impl Snapshot {
    /// A unit's name (None for an id the workspace does not have).
    pub fn unit_name(&self, id: Id) -> Option<&crate::text::Texts> {
        self.units
            .iter()
            .find(|(u, _)| *u == id)
            .map(|(_, d)| &d.name)
    }

    /// Every finding, as of `today` (for staleness).
    pub fn insight(&self, today: NaiveDate) -> Insight {
        let hand_offs = self.hand_offs();
        let mut matrix: BTreeMap<(Party, Party), usize> = BTreeMap::new();
        for h in &hand_offs {
            *matrix.entry((h.from, h.to)).or_default() += 1;
        }
        Insight {
            coverage: self.coverage(today),
            chains: self.chains(),
            hand_off_matrix: matrix.into_iter().map(|((a, b), n)| (a, b, n)).collect(),
            labyrinth: self.labyrinth(&hand_offs),
            hand_offs,
            interfaces: self.interfaces(),
            interface_gaps: self
                .touchpoints()
                .filter(|(_, _, t)| t.interface.is_none() || t.owner.is_none())
                .map(|(_, id, _)| id)
                .collect(),
            orphan_steps: self
                .steps
                .iter()
                .filter(|(_, s)| s.touchpoint_ids.is_empty())
                .map(|(id, _)| *id)
                .collect(),
            unsupported_touchpoints: self
                .touchpoints()
                .filter(|(_, id, t)| {
                    t.lane == Lane::Frontstage
                        && !self
                            .steps
                            .iter()
                            .any(|(_, s)| s.touchpoint_ids.contains(id))
                })
                .map(|(_, id, _)| id)
                .collect(),
            packages_without_core: self
                .packages
                .iter()
                .filter(|(_, p)| !crate::rules::has_core(p.elements.iter().map(|e| e.role)))
                .map(|(id, _)| *id)
                .collect(),
            missing_enablers: self.missing_enablers(),
            unowned_elements: self
                .elements
                .iter()
                .filter(|(_, e)| e.owner.is_none())
                .map(|(id, _)| *id)
                .collect(),
        }
    }

    /// Every touchpoint of the model: (journey, touchpoint id, touchpoint) in journey
    /// order.
    pub fn touchpoints(&self) -> impl Iterator<Item = (Id, Id, &TouchpointData)> {
        self.stages
            .iter()
            .flat_map(|(_, st, tps)| tps.iter().map(move |(id, t)| (st.journey_id, *id, t)))
    }

    fn journey_touchpoints(&self, journey: Id) -> Vec<(Id, &TouchpointData)> {
        self.stages
            .iter()
            .filter(|(_, st, _)| st.journey_id == journey)
            .flat_map(|(_, _, tps)| tps.iter().map(|(id, t)| (*id, t)))
            .collect()
    }

    fn unit_of_person(&self, person: Id) -> Option<Id> {
        self.people
            .iter()
            .find(|(id, _)| *id == person)
            .and_then(|(_, p)| p.unit_id)
    }

    pub fn coverage(&self, today: NaiveDate) -> Coverage {
        let serving_units: BTreeSet<Id> = self
            .relations
            .iter()
            .filter_map(|(_, r)| match r.provider {
                Provider::Unit(u) => Some(u),
                Provider::Person(p) => self.unit_of_person(p),
            })
            .collect();
        let serving_people: BTreeSet<Id> = self
            .relations
            .iter()
            .filter_map(|(_, r)| {
                if let Provider::Person(p) = r.provider {
                    Some(p)
                } else {
                    None
                }
            })
            .collect();
        let (with, without): (Vec<Id>, Vec<Id>) = self
            .units
            .iter()
            .map(|(id, _)| *id)
            .partition(|id| serving_units.contains(id));
        let (pwith, pwithout): (Vec<Id>, Vec<Id>) = self
            .people
            .iter()
            .map(|(id, _)| *id)
            .partition(|id| serving_people.contains(id));
        let reaching: Vec<Id> = self
            .chains()
            .into_iter()
            .filter(|c| !c.far_from_customer)
            .map(|c| c.unit)
            .collect();
        let share = if self.units.is_empty() {
            0.0
        } else {
            reaching.len() as f64 / self.units.len() as f64
        };
        Coverage {
            units_with_customers: with,
            units_without_customers: without,
            people_with_customers: pwith,
            people_without_customers: pwithout,
            stale_relations: self
                .relations
                .iter()
                .filter(|(_, r)| r.is_stale(today))
                .map(|(id, _)| *id)
                .collect(),
            units_reaching_external: reaching,
            share_reaching_external: share,
        }
    }

    /// Breadth-first from each unit along "serves" edges (unit → internal customer unit,
    /// unit → segment); a unit visited once per search, so cycles end.
    pub fn chains(&self) -> Vec<Chain> {
        let mut to_units: HashMap<Id, Vec<Id>> = HashMap::new();
        let mut to_segments: HashMap<Id, Vec<Id>> = HashMap::new();
        let mut providers: BTreeSet<Id> = BTreeSet::new();
        for (_, r) in &self.relations {
            let from = match r.provider {
                Provider::Unit(u) => Some(u),
                Provider::Person(p) => self.unit_of_person(p),
            };
            let Some(from) = from else { continue };
            if r.customer != Customer::Unit(from) {
                providers.insert(from);
            }
            match r.customer {
                Customer::Unit(u) if u != from => to_units.entry(from).or_default().push(u),
                Customer::Segment(s) => to_segments.entry(from).or_default().push(s),
                _ => {}
            }
        }
        self.units
            .iter()
            .map(|(start, _)| {
                let mut paths = vec![];
                let mut seen = BTreeSet::from([*start]);
                // Breadth first: the first path to reach a segment is a shortest one;
                // a segment reached again (another unit, a person of the same unit)
                // is not listed twice.
                let mut reached: BTreeSet<Id> = BTreeSet::new();
                let mut queue = VecDeque::from([vec![*start]]);
                while let Some(path) = queue.pop_front() {
                    let last = *path.last().unwrap_or(start);
                    for seg in to_segments.get(&last).into_iter().flatten() {
                        if reached.insert(*seg) {
                            paths.push((path.clone(), *seg));
                        }
                    }
                    for next in to_units.get(&last).into_iter().flatten() {
                        if seen.insert(*next) {
                            let mut p = path.clone();
                            p.push(*next);
                            queue.push_back(p);
                        }
                    }
                }
                Chain {
                    unit: *start,
                    far_from_customer: paths.is_empty(),
                    has_customers: providers.contains(start),
                    paths,
                }
            })
            .collect()
    }

    fn declared(&self, a: Party, b: Party) -> bool {
        let unit_of = |p: Provider| match p {
            Provider::Unit(u) => Some(u),
            Provider::Person(x) => self.unit_of_person(x),
        };
        self.relations.iter().any(|(_, r)| {
            let from = unit_of(r.provider).map(Party::Unit);
            let to = match r.customer {
                Customer::Unit(u) => Some(Party::Unit(u)),
                Customer::Partner(p) => Some(Party::Partner(p)),
                Customer::Segment(_) => None,
            };
            (from == Some(a) && to == Some(b)) || (from == Some(b) && to == Some(a))
        })
    }

    /// Consecutive touchpoints with different owners, and process steps whose owner
    /// differs from the touchpoint they serve.
    pub fn hand_offs(&self) -> Vec<HandOff> {
        let mut out = vec![];
        for (jid, _) in &self.journeys {
            let tps = self.journey_touchpoints(*jid);
            let owned: Vec<(Id, Party)> = tps
                .iter()
                .filter_map(|(id, t)| Some((*id, Party::from(t.owner?))))
                .collect();
            for w in owned.windows(2) {
                let ((a_tp, a), (b_tp, b)) = (w[0], w[1]);
                if a != b {
                    out.push(HandOff {
                        journey: *jid,
                        from: a,
                        to: b,
                        from_touchpoint: Some(a_tp),
                        from_step: None,
                        to_touchpoint: b_tp,
                        undeclared: !self.declared(a, b),
                    });
                }
            }
            for (sid, s) in &self.steps {
                let Some(step_owner) = s.owner_unit_id.map(Party::Unit) else {
                    continue;
                };
                for (tid, t) in &tps {
                    if !s.touchpoint_ids.contains(tid) {
                        continue;
                    }
                    if let Some(o) = t.owner.map(Party::from) {
                        if o != step_owner {
                            out.push(HandOff {
                                journey: *jid,
                                from: step_owner,
                                to: o,
                                from_touchpoint: None,
                                from_step: Some(*sid),
                                to_touchpoint: *tid,
                                undeclared: !self.declared(step_owner, o),
                            });
                        }
                    }
                }
            }
        }
        out
    }

    pub fn interfaces(&self) -> Vec<InterfaceGroup> {
        let mut groups: BTreeMap<Option<InterfaceKind>, Vec<(Id, Option<Party>)>> = BTreeMap::new();
        for (_, id, t) in self.touchpoints() {
            groups
                .entry(t.interface)
                .or_default()
                .push((id, t.owner.map(Party::from)));
        }
        groups
            .into_iter()
            .map(|(kind, touchpoints)| InterfaceGroup { kind, touchpoints })
            .collect()
    }

    fn labyrinth(&self, hand_offs: &[HandOff]) -> Vec<Labyrinth> {
        self.journeys
            .iter()
            .map(|(jid, _)| {
                let tps = self.journey_touchpoints(*jid);
                let customer_steps = tps
                    .iter()
                    .filter(|(_, t)| t.lane == Lane::CustomerAction)
                    .count();
                let channel_switches = tps
                    .windows(2)
                    .filter(|w| w[0].1.channel != w[1].1.channel)
                    .count();
                let ids: BTreeSet<Id> = tps.iter().map(|(id, _)| *id).collect();
                let total_minutes: i64 = self
                    .steps
                    .iter()
                    .filter(|(_, s)| s.touchpoint_ids.iter().any(|t| ids.contains(t)))
                    .filter_map(|(_, s)| s.duration_minutes)
                    .sum();
                let hand_offs = hand_offs.iter().filter(|h| h.journey == *jid).count();
                let score = customer_steps as f64
                    + hand_offs as f64
                    + channel_switches as f64
                    + total_minutes as f64 / 60.0;
                Labyrinth {
                    journey: *jid,
                    customer_steps,
                    hand_offs,
                    channel_switches,
                    total_minutes,
                    score: (score * 10.0).round() / 10.0,
                }
            })
            .collect()
    }

    /// A touchpoint delivering a core element whose packages' enabling elements appear
    /// in no earlier touchpoint of the journey.
    fn missing_enablers(&self) -> Vec<MissingEnabler> {
        let mut out = vec![];
        for (jid, _) in &self.journeys {
            let tps = self.journey_touchpoints(*jid);
            for (k, (tid, t)) in tps.iter().enumerate() {
                let Some(el) = t.element_id else { continue };
                let enablers: BTreeSet<Id> = self
                    .packages
                    .iter()
                    .filter(|(_, p)| {
                        p.elements
                            .iter()
                            .any(|e| e.element_id == el && e.role == ElementRole::Core)
                    })
                    .flat_map(|(_, p)| {
                        p.elements
                            .iter()
                            .filter(|e| e.role == ElementRole::Enabling)
                            .map(|e| e.element_id)
                    })
                    .collect();
                if enablers.is_empty() {
                    continue;
                }
                let earlier: BTreeSet<Id> =
                    tps[..k].iter().filter_map(|(_, t)| t.element_id).collect();
                if enablers.is_disjoint(&earlier) {
                    out.push(MissingEnabler {
                        journey: *jid,
                        touchpoint: *tid,
                        core_element: el,
                        missing: enablers.into_iter().collect(),
                    });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn t(s: &str) -> BTreeMap<String, String> {
        [("en".to_string(), s.to_string())].into()
    }
    fn unit(id: Id) -> (Id, UnitData) {
        (
            id,
            UnitInput {
                slug: format!("u{id}"),
                name: t("U"),
                description: BTreeMap::new(),
                parent_id: None,
            }
            .parse()
            .unwrap(),
        )
    }
    fn rel(
        id: Id,
        provider: Provider,
        customer: Customer,
        last: Option<&str>,
    ) -> (Id, RelationData) {
        let r = RelationInput {
            provider,
            customer,
            value_statement: BTreeMap::new(),
            review_interval_days: 30,
            last_reviewed_on: last.map(String::from),
        };
        (id, r.parse().unwrap())
    }
    fn tp(
        id: Id,
        owner: Option<Owner>,
        lane: &str,
        channel: &str,
        element: Option<Id>,
        interface: Option<&str>,
    ) -> (Id, TouchpointData) {
        let i = TouchpointInput {
            stage_id: 1,
            slug: format!("t{id}"),
            name: t("T"),
            description: BTreeMap::new(),
            channel: channel.into(),
            owner,
            element_id: element,
            lane: lane.into(),
            interface: interface.map(String::from),
            emotion: 0,
            moment_of_truth: false,
            presence: None,
        };
        (id, i.parse().unwrap())
    }
    fn journey(id: Id) -> (Id, JourneyData) {
        (
            id,
            JourneyInput {
                slug: format!("j{id}"),
                name: t("J"),
                description: BTreeMap::new(),
                segment_id: 1,
                package_ids: None,
            }
            .parse()
            .unwrap(),
        )
    }
    fn stage(
        id: Id,
        journey: Id,
        tps: Vec<(Id, TouchpointData)>,
    ) -> (Id, StageData, Vec<(Id, TouchpointData)>) {
        (
            id,
            StageInput {
                slug: format!("s{id}"),
                name: t("S"),
                description: BTreeMap::new(),
                journey_id: journey,
            }
            .parse()
            .unwrap(),
            tps,
        )
    }
    fn step(
        id: Id,
        owner: Option<Id>,
        minutes: Option<i64>,
        serves: Vec<Id>,
    ) -> (Id, ProcessStepData) {
        let s = ProcessStepInput {
            slug: format!("p{id}"),
            name: t("P"),
            description: BTreeMap::new(),
            owner_unit_id: owner,
            duration_minutes: minutes,
            touchpoint_ids: Some(serves),
        };
        (id, s.parse().unwrap())
    }
    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
    }

    #[test]
    fn coverage_and_chains_through_internal_customers() {
        // IT(1) serves CS(2), CS serves commuters (segment 7); Legal(3) serves nobody;
        // Finance(4) and Ops(5) serve each other in a cycle and never reach a segment.
        let s = Snapshot {
            units: (1..=5).map(unit).collect(),
            relations: vec![
                rel(10, Provider::Unit(1), Customer::Unit(2), Some("2026-05-20")),
                rel(11, Provider::Unit(2), Customer::Segment(7), None),
                rel(12, Provider::Unit(4), Customer::Unit(5), Some("2026-05-20")),
                rel(13, Provider::Unit(5), Customer::Unit(4), Some("2026-05-20")),
            ],
            ..Default::default()
        };
        let c = s.coverage(today());
        assert_eq!(c.units_with_customers, vec![1, 2, 4, 5]);
        assert_eq!(c.units_without_customers, vec![3]);
        assert_eq!(c.stale_relations, vec![11], "never reviewed is stale");
        assert_eq!(c.units_reaching_external, vec![1, 2]);
        assert!((c.share_reaching_external - 0.4).abs() < 1e-9);
        let chains = s.chains();
        let it = chains.iter().find(|c| c.unit == 1).unwrap();
        assert_eq!(
            it.paths,
            vec![(vec![1, 2], 7)],
            "IT → customer service → commuter"
        );
        assert!(
            chains
                .iter()
                .find(|c| c.unit == 4)
                .unwrap()
                .far_from_customer,
            "a cycle ends and reaches nobody"
        );
        assert!(
            chains
                .iter()
                .find(|c| c.unit == 3)
                .unwrap()
                .far_from_customer
        );
    }

    #[test]
    fn each_segment_once_with_its_shortest_path() {
        // IT(1) serves customer service(2), sales(3) and leisure travellers(8); customer
        // service and sales both serve commuters(7) — customer service twice (the unit
        // and one of its people). Legal(4) serves IT and so reaches both segments
        // through it. Archive(5) serves a partner only; unit 6 serves nobody.
        let person = PersonInput {
            slug: "anna".into(),
            name: "Anna".into(),
            email: None,
            unit_id: Some(2),
            role_title: BTreeMap::new(),
        }
        .parse()
        .unwrap();
        let s = Snapshot {
            units: (1..=6).map(unit).collect(),
            people: vec![(20, person)],
            relations: vec![
                rel(10, Provider::Unit(1), Customer::Unit(2), None),
                rel(11, Provider::Unit(1), Customer::Unit(3), None),
                rel(12, Provider::Unit(2), Customer::Segment(7), None),
                rel(13, Provider::Person(20), Customer::Segment(7), None),
                rel(14, Provider::Unit(3), Customer::Segment(7), None),
                rel(15, Provider::Unit(1), Customer::Segment(8), None),
                rel(16, Provider::Unit(4), Customer::Unit(1), None),
                rel(17, Provider::Unit(5), Customer::Partner(30), None),
            ],
            ..Default::default()
        };
        let chains = s.chains();
        let of = |u: Id| chains.iter().find(|c| c.unit == u).unwrap();
        assert_eq!(of(1).paths, vec![(vec![1], 8), (vec![1, 2], 7)]);
        assert_eq!(
            of(2).paths,
            vec![(vec![2], 7)],
            "the unit and its person: once"
        );
        assert_eq!(of(4).paths, vec![(vec![4, 1], 8), (vec![4, 1, 2], 7)]);
        let archive = of(5);
        assert!(
            archive.far_from_customer && archive.has_customers,
            "a partner only"
        );
        let nobody = of(6);
        assert!(nobody.far_from_customer && !nobody.has_customers);
    }

    #[test]
    fn a_person_counts_for_their_unit() {
        let person = PersonInput {
            slug: "anna".into(),
            name: "Anna".into(),
            email: None,
            unit_id: Some(1),
            role_title: BTreeMap::new(),
        }
        .parse()
        .unwrap();
        let s = Snapshot {
            units: vec![unit(1)],
            people: vec![(9, person)],
            relations: vec![rel(1, Provider::Person(9), Customer::Segment(3), None)],
            ..Default::default()
        };
        let c = s.coverage(today());
        assert_eq!(c.units_with_customers, vec![1]);
        assert_eq!(c.people_with_customers, vec![9]);
        assert_eq!(c.units_reaching_external, vec![1]);
    }

    #[test]
    fn hand_offs_between_owners_and_steps() {
        // Touchpoints: unit 1, unit 1, partner 5, unit 2; a step of unit 3 serves the last.
        // Only unit 1 ↔ partner 5 is a declared relation.
        let s = Snapshot {
            units: vec![unit(1), unit(2), unit(3)],
            relations: vec![rel(1, Provider::Unit(1), Customer::Partner(5), None)],
            journeys: vec![journey(100)],
            stages: vec![
                stage(
                    1,
                    100,
                    vec![
                        tp(
                            11,
                            Some(Owner::Unit(1)),
                            "customer_action",
                            "web",
                            None,
                            Some("company_customer"),
                        ),
                        tp(12, Some(Owner::Unit(1)), "frontstage", "web", None, None),
                    ],
                ),
                stage(
                    2,
                    100,
                    vec![
                        tp(
                            13,
                            Some(Owner::Partner(5)),
                            "frontstage",
                            "in_person",
                            None,
                            Some("company_partner"),
                        ),
                        tp(
                            14,
                            Some(Owner::Unit(2)),
                            "frontstage",
                            "phone",
                            None,
                            Some("company_customer"),
                        ),
                    ],
                ),
            ],
            steps: vec![
                step(50, Some(3), Some(90), vec![14]),
                step(51, Some(2), None, vec![]),
            ],
            ..Default::default()
        };
        let i = s.insight(today());
        let pairs: Vec<(Party, Party, bool)> = i
            .hand_offs
            .iter()
            .map(|h| (h.from, h.to, h.undeclared))
            .collect();
        assert_eq!(
            pairs,
            vec![
                (Party::Unit(1), Party::Partner(5), false),
                (Party::Partner(5), Party::Unit(2), true),
                (Party::Unit(3), Party::Unit(2), true)
            ]
        );
        assert_eq!(i.hand_off_matrix.len(), 3);
        assert_eq!(i.orphan_steps, vec![51]);
        assert_eq!(
            i.unsupported_touchpoints,
            vec![12, 13],
            "frontstage with no step behind"
        );
        assert_eq!(i.interface_gaps, vec![12]);
        let l = &i.labyrinth[0];
        assert_eq!(
            (
                l.customer_steps,
                l.hand_offs,
                l.channel_switches,
                l.total_minutes
            ),
            (1, 3, 2, 90)
        );
        assert!((l.score - 7.5).abs() < 1e-9);
        let groups: Vec<(Option<InterfaceKind>, usize)> = i
            .interfaces
            .iter()
            .map(|g| (g.kind, g.touchpoints.len()))
            .collect();
        assert_eq!(
            groups,
            vec![
                (None, 1),
                (Some(InterfaceKind::CompanyCustomer), 2),
                (Some(InterfaceKind::CompanyPartner), 1)
            ]
        );
    }

    #[test]
    fn empty_journeys_and_empty_workspaces() {
        let s = Snapshot {
            journeys: vec![journey(1)],
            ..Default::default()
        };
        let i = s.insight(today());
        assert!(i.hand_offs.is_empty() && i.unsupported_touchpoints.is_empty());
        assert_eq!(i.labyrinth[0].score, 0.0);
        assert_eq!(i.coverage.share_reaching_external, 0.0);
        let empty = Snapshot::default().insight(today());
        assert!(empty.chains.is_empty() && empty.labyrinth.is_empty());
    }

    #[test]
    fn package_checks() {
        let el = |id: Id, owner: Option<Owner>| {
            (
                id,
                ElementInput {
                    slug: format!("e{id}"),
                    name: t("E"),
                    description: BTreeMap::new(),
                    kind: "service".into(),
                    customer_visible: true,
                    has_it_components: false,
                    owner,
                }
                .parse()
                .unwrap(),
            )
        };
        let pkg = |id: Id, els: Vec<(Id, &str)>| {
            (
                id,
                PackageInput {
                    slug: format!("p{id}"),
                    name: t("P"),
                    description: BTreeMap::new(),
                    published: false,
                    elements: els
                        .into_iter()
                        .map(|(e, r)| PackageElementInput {
                            element_id: e,
                            role: r.into(),
                        })
                        .collect(),
                }
                .parse()
                .unwrap(),
            )
        };
        // Core 1 needs enabler 2 (or 3). Journey A uses 2 before 1: fine. Journey B
        // delivers 1 first: missing enablers.
        let s = Snapshot {
            elements: vec![
                el(1, Some(Owner::Unit(1))),
                el(2, Some(Owner::Partner(4))),
                el(3, None),
            ],
            packages: vec![
                pkg(10, vec![(1, "core"), (2, "enabling"), (3, "enabling")]),
                pkg(11, vec![(2, "enabling")]),
            ],
            journeys: vec![journey(100), journey(200)],
            stages: vec![
                stage(
                    1,
                    100,
                    vec![
                        tp(11, None, "customer_action", "web", Some(2), None),
                        tp(12, None, "customer_action", "web", Some(1), None),
                    ],
                ),
                stage(
                    2,
                    200,
                    vec![tp(21, None, "customer_action", "web", Some(1), None)],
                ),
            ],
            ..Default::default()
        };
        let i = s.insight(today());
        assert_eq!(i.packages_without_core, vec![11]);
        assert_eq!(i.unowned_elements, vec![3]);
        assert_eq!(
            i.missing_enablers,
            vec![MissingEnabler {
                journey: 200,
                touchpoint: 21,
                core_element: 1,
                missing: vec![2, 3]
            }]
        );
    }

    #[test]
    fn a_unit_serving_itself_is_no_path_and_no_loop() {
        // Validation refuses this relation, but data from elsewhere might hold it.
        let mut r = rel(1, Provider::Unit(1), Customer::Segment(9), None).1;
        r.customer = Customer::Unit(1);
        let s = Snapshot {
            units: vec![unit(1)],
            relations: vec![(1, r)],
            ..Default::default()
        };
        let chains = s.chains();
        assert!(chains[0].far_from_customer);
        assert_eq!(
            s.coverage(today()).units_with_customers,
            vec![1],
            "it did record a relation"
        );
    }
}
