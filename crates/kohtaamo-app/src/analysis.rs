//! The analysis of experience scores: NPS, CSAT and CES per scope (touchpoint, stage,
//! journey, package, element, owning unit, partner, segment, channel, language, survey)
//! for a period beside the previous one, with response rates, from the rollups only;
//! trends per day, week or month; the weakest encounter of each journey; drivers of a
//! journey's NPS. [`Analysis`] loads what every view needs once (the model, names, the
//! surveys and how responses map to scopes). Formulas in docs/metrics.md.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use kohtaamo_domain::analytics::{
    self, Counted, GroupKey, Scope, Scopes, Score, Selector, Shown, Tally,
};
use kohtaamo_domain::survey::SurveyData;
use kohtaamo_domain::{Id, Reason};
use kohtaamo_storage::feedback::TallyBy;
use kohtaamo_storage::{ListQuery, Store};
use serde::Serialize;
use utoipa::ToSchema;

use crate::directory::Names;
use crate::i18n::I18n;
use crate::Result;

fn id_of(k: &GroupKey) -> Option<Id> {
    match k {
        GroupKey::Id(id) => Some(*id),
        GroupKey::Text(_) => None,
    }
}

/// Below this many answers a score is "not enough answers", never a number.
pub const MIN_SAMPLE: i64 = 30;

#[derive(Debug, Serialize, ToSchema)]
pub struct ScoreRow {
    /// Id (touchpoint, stage, journey, unit, partner, survey) or text (channel, language).
    pub key: GroupKey,
    pub name: String,
    /// Complete responses in the period.
    pub responses: i64,
    pub nps: Shown,
    pub csat: Shown,
    pub ces: Shown,
    pub previous_nps: Shown,
    /// The NPS moved significantly since the previous period.
    pub nps_changed: bool,
    /// The experience index, 0–100: the first of NPS, CSAT, CES with enough answers on
    /// one scale (docs/metrics.md).
    pub index: Shown,
    /// The metric the index is computed from.
    pub index_metric: Option<kohtaamo_domain::alerts::Metric>,
    pub previous_index: Shown,
    /// The index moved significantly since the previous period.
    pub index_changed: bool,
    /// The journey's weakest encounter: its index is significantly below every other
    /// touchpoint's of the journey (touchpoints only).
    pub weakest: bool,
    /// Tied for the journey's weakest encounter: the lowest index, or not significantly
    /// above it, when no touchpoint is significantly lowest (touchpoints only).
    pub tied_weakest: bool,
    /// Times the surveys behind this group were shown, where impressions are known.
    pub shown: Option<i64>,
    /// Complete responses ÷ times shown, in per cent, where impressions are known and
    /// at least as many as the responses (else null: responses came without a showing).
    pub response_rate: Option<f64>,
    /// Encounters in the period (touchpoints and stages; from the encounter log).
    pub encounters: Option<i64>,
    /// Complete responses ÷ encounters, in per cent, where there were encounters and at
    /// least as many as the responses (touchpoints and stages).
    pub feedback_coverage: Option<f64>,
    /// Distinct customers with an encounter at the stage in the period (stages only).
    pub customers: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScoreTable {
    pub by: String,
    pub from: String,
    pub to: String,
    pub previous_from: String,
    pub previous_to: String,
    pub min_sample: i64,
    pub rows: Vec<ScoreRow>,
}

/// One day, week or month (`week` = its first day; weeks start on Monday).
#[derive(Debug, Serialize, ToSchema)]
pub struct Week {
    pub week: String,
    pub responses: i64,
    pub nps: Shown,
    pub csat: Shown,
    pub ces: Shown,
    /// The experience index of the period (0–100).
    pub index: Shown,
}

/// A rollup sum as the domain's grouping reads it.
fn counted(r: &kohtaamo_storage::feedback::TallyRow) -> Counted<'_> {
    Counted {
        survey_id: r.survey_id,
        touchpoint_id: r.touchpoint_id,
        channel: &r.channel,
        locale: &r.locale,
        tally: r.tally,
    }
}

/// How a trend is grouped in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grain {
    Day,
    Week,
    Month,
}

impl Grain {
    pub const ALL: [Grain; 3] = [Grain::Day, Grain::Week, Grain::Month];
    pub fn as_str(self) -> &'static str {
        match self {
            Grain::Day => "day",
            Grain::Week => "week",
            Grain::Month => "month",
        }
    }
    pub fn parse(s: &str) -> std::result::Result<Self, Reason> {
        match s {
            "day" => Ok(Grain::Day),
            "week" => Ok(Grain::Week),
            "month" => Ok(Grain::Month),
            other => Err(Reason::new("not-one-of")
                .with("value", other)
                .with("options", "day, week, month")),
        }
    }
    /// The first day of the period holding `day` (weeks start on Monday).
    fn start(self, day: NaiveDate) -> NaiveDate {
        use chrono::Datelike;
        match self {
            Grain::Day => day,
            Grain::Week => {
                day - chrono::Duration::days(day.weekday().num_days_from_monday() as i64)
            }
            Grain::Month => day.with_day(1).unwrap_or(day),
        }
    }
}

/// Scores per day, week or month between two days, oldest first; of one group
/// (`only`: the scopes, the scope and the group's key) or of the whole workspace.
pub async fn trend(
    store: &Store,
    ws: Id,
    from: NaiveDate,
    to: NaiveDate,
    grain: Grain,
    only: Option<(&Scopes, Scope, &GroupKey)>,
) -> Result<Vec<Week>> {
    let mut weeks: BTreeMap<NaiveDate, Tally> = BTreeMap::new();
    let by = if only.is_some() {
        TallyBy::GroupAndDay
    } else {
        TallyBy::Day
    };
    for r in store.tallies(ws, from, to, by).await? {
        let Ok(day) = NaiveDate::parse_from_str(&r.day, "%Y-%m-%d") else {
            continue;
        };
        if let Some((scopes, scope, key)) = only {
            if !scopes.keys(scope, &counted(&r)).contains(key) {
                continue;
            }
        }
        *weeks.entry(grain.start(day)).or_default() += r.tally;
    }
    // Every point's index from the metric of the whole span's (see index_by).
    let mut all = Tally::default();
    for t in weeks.values() {
        all += *t;
    }
    let metric = analytics::index(&all, MIN_SAMPLE).map(|x| x.metric);
    Ok(weeks
        .into_iter()
        .map(|(w, t)| Week {
            week: w.to_string(),
            responses: t.responses,
            nps: analytics::shown(analytics::nps(&t), MIN_SAMPLE),
            csat: analytics::shown(analytics::csat(&t), MIN_SAMPLE),
            ces: analytics::shown(analytics::ces(&t), MIN_SAMPLE),
            index: match metric {
                Some(m) => analytics::index_by_shown(&t, m, MIN_SAMPLE),
                None => analytics::index_shown(&t, MIN_SAMPLE),
            },
        })
        .collect())
}

/// One touchpoint named as (or tied for) a journey's weakest encounter.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WeakTouchpoint {
    pub touchpoint_id: Id,
    pub name: String,
    /// Its experience index (0–100) with n and margin.
    pub index: Score,
    pub metric: kohtaamo_domain::alerts::Metric,
    /// Who owns the encounter: a unit or a partner (none when nobody does).
    pub owner: Option<kohtaamo_domain::model::Owner>,
    pub owner_name: String,
}

/// The weakest encounter of one journey in a period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WeakestEncounter {
    pub journey_id: Id,
    pub journey: String,
    /// `one`: a touchpoint is significantly weakest; `tied`: the lowest is not
    /// significantly below the others listed; `unknown`: fewer than two touchpoints
    /// have enough answers to compare.
    pub status: WeakestStatus,
    /// The weakest touchpoint, or those tied for it (lowest index first).
    pub touchpoints: Vec<WeakTouchpoint>,
    /// Touchpoints of the journey with an index in the period.
    pub measured: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WeakestStatus {
    One,
    Tied,
    Unknown,
}

/// Per journey (in the model's order): which of its touchpoints with an index in
/// `per` is the weakest encounter. The one rule every page and the API use.
pub fn weakest_by_journey(
    snapshot: &kohtaamo_domain::insight::Snapshot,
    per: &HashMap<Id, Tally>,
) -> Vec<(Id, analytics::Weakest<Id>, usize)> {
    snapshot
        .journeys
        .iter()
        .map(|(j, _)| {
            let indexes: Vec<(Id, Score)> = snapshot
                .stages
                .iter()
                .filter(|(_, s, _)| s.journey_id == *j)
                .flat_map(|(_, _, tps)| tps.iter())
                .filter_map(|(tp, _)| {
                    let x = analytics::index(per.get(tp)?, MIN_SAMPLE)?;
                    Some((*tp, x.score))
                })
                .collect();
            (*j, analytics::weakest(&indexes), indexes.len())
        })
        .collect()
}

/// Per touchpoint named by [`weakest_by_journey`]: `true` when it is its journey's
/// weakest encounter, `false` when tied for it.
pub fn weakest_flags(
    snapshot: &kohtaamo_domain::insight::Snapshot,
    per: &HashMap<Id, Tally>,
) -> HashMap<Id, bool> {
    let mut flags = HashMap::new();
    for (_, w, _) in weakest_by_journey(snapshot, per) {
        match w {
            analytics::Weakest::One(t) => {
                flags.insert(t, true);
            }
            analytics::Weakest::Tied(ts) => flags.extend(ts.into_iter().map(|t| (t, false))),
            analytics::Weakest::Unknown => {}
        }
    }
    flags
}

/// The weakest encounter of every journey between two days, with names and owners.
pub async fn weakest_encounters(
    store: &Store,
    ws: Id,
    (from, to): (NaiveDate, NaiveDate),
    i: &I18n,
) -> Result<Vec<WeakestEncounter>> {
    let (snapshot, per) = tokio::try_join!(
        async { Ok::<_, crate::Error>(store.snapshot(ws).await?) },
        touchpoint_tallies(store, ws, from, to)
    )?;
    let names = Names::new(&snapshot, i);
    Ok(weakest_encounters_of(&snapshot, &names, &per))
}

/// [`weakest_encounters`] from what the caller already holds.
pub fn weakest_encounters_of(
    snapshot: &kohtaamo_domain::insight::Snapshot,
    names: &Names,
    per: &HashMap<Id, Tally>,
) -> Vec<WeakestEncounter> {
    let owner_of: HashMap<Id, Option<kohtaamo_domain::model::Owner>> = snapshot
        .touchpoints()
        .map(|(_, id, t)| (id, t.owner))
        .collect();
    weakest_by_journey(snapshot, per)
        .into_iter()
        .map(|(j, w, measured)| {
            let (status, ids) = match w {
                analytics::Weakest::Unknown => (WeakestStatus::Unknown, vec![]),
                analytics::Weakest::One(t) => (WeakestStatus::One, vec![t]),
                analytics::Weakest::Tied(ts) => (WeakestStatus::Tied, ts),
            };
            let touchpoints = ids
                .into_iter()
                .filter_map(|t| {
                    let x = analytics::index(per.get(&t)?, MIN_SAMPLE)?;
                    let owner = owner_of.get(&t).copied().flatten();
                    Some(WeakTouchpoint {
                        touchpoint_id: t,
                        name: Names::get(&names.touchpoints, t),
                        index: x.score,
                        metric: x.metric,
                        owner,
                        owner_name: names.owner(&owner),
                    })
                })
                .collect();
            WeakestEncounter {
                journey_id: j,
                journey: Names::get(&names.journeys, j),
                status,
                touchpoints,
                measured,
            }
        })
        .collect()
}

/// One case's journey NPS (if answered) and its touchpoint scores (0–100).
type CaseAnswers = (Option<i64>, Vec<(Id, f64)>);

/// A touchpoint's impact on its journey's NPS, with its name.
#[derive(Debug, Serialize, ToSchema)]
pub struct DriverRow {
    pub touchpoint_id: Id,
    pub name: String,
    pub impact: f64,
    pub performance: f64,
    pub n: i64,
    pub significant: bool,
}

/// Drivers of every journey's NPS: cases (`case_ref`) that answered both a survey about
/// the journey and surveys at its touchpoints (method in docs/metrics.md). One pass over
/// the model and the case-carrying responses serves all journeys. Journeys without
/// enough cases are left out.
pub async fn journey_drivers(
    store: &Store,
    ws: Id,
    from: NaiveDate,
    to: NaiveDate,
    i: &I18n,
) -> Result<BTreeMap<Id, Vec<DriverRow>>> {
    let snapshot = store.snapshot(ws).await?;
    let names = Names::new(&snapshot, i);
    let journey_of_tp: HashMap<Id, Id> = snapshot
        .stages
        .iter()
        .flat_map(|(_, s, t)| t.iter().map(move |(id, _)| (*id, s.journey_id)))
        .collect();
    let journey_of_survey: HashMap<Id, Id> = store
        .list::<SurveyData>(ws, &ListQuery::all())
        .await?
        .items
        .into_iter()
        .filter_map(|s| s.data.journey_id.map(|j| (s.id, j)))
        .collect();
    // Per journey and case: the journey NPS, and the touchpoint scores (0–100).
    let mut cases: HashMap<(Id, String), CaseAnswers> = HashMap::new();
    for r in store.case_rows(ws, from, to).await? {
        match (r.touchpoint_id, journey_of_survey.get(&r.survey_id)) {
            (None, Some(j)) => {
                let e = cases.entry((*j, r.case_ref)).or_default();
                e.0 = r.nps.or(e.0);
            }
            (Some(t), _) => {
                if let (Some(j), Some(v)) = (
                    journey_of_tp.get(&t),
                    analytics::scaled(r.nps, r.csat, r.ces),
                ) {
                    cases.entry((*j, r.case_ref)).or_default().1.push((t, v));
                }
            }
            (None, None) => {}
        }
    }
    let mut per_journey: BTreeMap<Id, Vec<analytics::CaseScores>> = BTreeMap::new();
    for ((j, _), (nps, touchpoints)) in cases {
        if let Some(journey_nps) = nps {
            per_journey
                .entry(j)
                .or_default()
                .push(analytics::CaseScores {
                    journey_nps,
                    touchpoints,
                });
        }
    }
    Ok(per_journey
        .into_iter()
        .map(|(j, cases)| {
            let mut rows: Vec<DriverRow> = analytics::drivers(&cases, MIN_SAMPLE)
                .into_iter()
                .map(|d| DriverRow {
                    touchpoint_id: d.touchpoint_id,
                    name: Names::get(&names.touchpoints, d.touchpoint_id),
                    impact: d.impact,
                    performance: d.performance,
                    n: d.n,
                    significant: d.significant,
                })
                .collect();
            rows.sort_by(|a, b| b.impact.total_cmp(&a.impact));
            (j, rows)
        })
        .filter(|(_, rows)| !rows.is_empty())
        .collect())
}

/// What every score view of a workspace needs once: the model, its names in one
/// language, the surveys, and how responses map to scopes.
pub struct Analysis {
    pub snapshot: kohtaamo_domain::insight::Snapshot,
    pub names: Names,
    pub survey_names: HashMap<Id, String>,
    pub scopes: Scopes,
}

impl Analysis {
    pub async fn load(store: &Store, ws: Id, i: &I18n) -> Result<Self> {
        // Independent reads, run at once (SQLite in WAL mode serves readers in parallel).
        let all = ListQuery::all();
        let (snapshot, surveys) =
            tokio::try_join!(store.snapshot(ws), store.list::<SurveyData>(ws, &all))?;
        Ok(Self::new(snapshot, &surveys.items, i))
    }

    /// From a model snapshot the caller already holds, and the workspace's surveys.
    pub fn new(
        snapshot: kohtaamo_domain::insight::Snapshot,
        surveys: &[kohtaamo_storage::Record<SurveyData>],
        i: &I18n,
    ) -> Self {
        let names = Names::new(&snapshot, i);
        let scopes = Scopes::new(
            &snapshot,
            surveys
                .iter()
                .filter_map(|s| s.data.target().map(|t| (s.id, t))),
        );
        let survey_names = surveys
            .iter()
            .map(|s| (s.id, i.text(&s.data.name)))
            .collect();
        Self {
            snapshot,
            names,
            survey_names,
            scopes,
        }
    }

    /// The display name of a group.
    pub fn name(&self, scope: Scope, k: &GroupKey, i: &I18n) -> String {
        let n = &self.names;
        match (scope, k) {
            (Scope::Touchpoint, GroupKey::Id(id)) => Names::get(&n.touchpoints, *id),
            (Scope::Journey, GroupKey::Id(id)) => Names::get(&n.journeys, *id),
            (Scope::Package, GroupKey::Id(id)) => Names::get(&n.packages, *id),
            (Scope::Element, GroupKey::Id(id)) => Names::get(&n.elements, *id),
            (Scope::Unit, GroupKey::Id(id)) => Names::get(&n.units, *id),
            (Scope::Partner, GroupKey::Id(id)) => Names::get(&n.partners, *id),
            (Scope::Segment, GroupKey::Id(id)) => Names::get(&n.segments, *id),
            (Scope::Survey, GroupKey::Id(id)) => Names::get(&self.survey_names, *id),
            (Scope::Stage, GroupKey::Id(id)) => self
                .snapshot
                .stages
                .iter()
                .find(|(s, _, _)| s == id)
                .map(|(_, s, _)| i.text(&s.name))
                .unwrap_or_else(|| format!("#{id}")),
            (Scope::Channel, GroupKey::Text(c)) if !c.is_empty() => i.enum_label("channel", c),
            (_, GroupKey::Text(t)) if t.is_empty() => i.t("unknown"),
            (_, GroupKey::Text(t)) => t.clone(),
            (_, GroupKey::Id(id)) => format!("#{id}"),
        }
    }

    /// Sums the rollups of a period into the groups of `scope`.
    pub async fn grouped(
        &self,
        store: &Store,
        ws: Id,
        scope: Scope,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<BTreeMap<GroupKey, Tally>> {
        let rows = store.tallies(ws, from, to, TallyBy::Group).await?;
        let rows: Vec<Counted> = rows.iter().map(counted).collect();
        Ok(analytics::group(&rows, scope, &self.scopes))
    }

    /// Times shown per group of `scope` in a period (channel and language are not
    /// known for impressions, so those scopes get none).
    pub async fn shown(
        &self,
        store: &Store,
        ws: Id,
        scope: Scope,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<HashMap<GroupKey, i64>> {
        let mut out: HashMap<GroupKey, i64> = HashMap::new();
        if matches!(scope, Scope::Channel | Scope::Language) {
            return Ok(out);
        }
        for (survey_id, touchpoint_id, n) in store.shown(ws, from, to).await? {
            let c = Counted {
                survey_id,
                touchpoint_id,
                channel: "",
                locale: "",
                tally: Tally::default(),
            };
            for k in self.scopes.keys(scope, &c) {
                *out.entry(k).or_default() += n;
            }
        }
        Ok(out)
    }
}

/// The summed counts of every touchpoint with answers between two days.
pub async fn touchpoint_tallies(
    store: &Store,
    ws: Id,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<HashMap<Id, Tally>> {
    Ok(period_tallies(store, ws, from, to).await?.1)
}

/// Between two days, in one read of the rollups: every counted response summed (those
/// about no touchpoint included), and the sums per touchpoint.
pub async fn period_tallies(
    store: &Store,
    ws: Id,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(Tally, HashMap<Id, Tally>)> {
    let mut all = Tally::default();
    let mut per: HashMap<Id, Tally> = HashMap::new();
    for r in store.tallies(ws, from, to, TallyBy::Group).await? {
        all += r.tally;
        if let Some(t) = r.touchpoint_id {
            *per.entry(t).or_default() += r.tally;
        }
    }
    Ok((all, per))
}

/// The scores of one scope and period with names in `i`'s language.
pub async fn score_table(
    store: &Store,
    ws: Id,
    scope: Scope,
    from: NaiveDate,
    to: NaiveDate,
    i: &I18n,
) -> Result<ScoreTable> {
    Analysis::load(store, ws, i)
        .await?
        .table(store, ws, scope, from, to, i)
        .await
}

impl Analysis {
    /// The touchpoints inside a model group (a journey, a unit …) with their scores in
    /// a period, weakest first by the experience index; those without one (not enough
    /// answers) last. Empty for a touchpoint
    /// and for channel, language and survey groups.
    pub async fn touchpoints_of(
        &self,
        store: &Store,
        ws: Id,
        scope: Scope,
        key: &GroupKey,
        (from, to): (NaiveDate, NaiveDate),
        i: &I18n,
    ) -> Result<Vec<ScoreRow>> {
        if !scope.is_model() || scope == Scope::Touchpoint {
            return Ok(vec![]);
        }
        let inside: std::collections::HashSet<Id> = match self.scopes.selector(scope, key) {
            Selector::Model { touchpoints, .. } => touchpoints.into_iter().collect(),
            _ => Default::default(),
        };
        let mut rows: Vec<ScoreRow> = self
            .table(store, ws, Scope::Touchpoint, from, to, i)
            .await?
            .rows
            .into_iter()
            .filter(|r| matches!(r.key, GroupKey::Id(id) if inside.contains(&id)))
            .collect();
        // By the experience index; those without one last.
        let rank = |r: &ScoreRow| -> f64 {
            match r.index {
                Shown::Score(s) => s.value,
                _ => f64::INFINITY,
            }
        };
        rows.sort_by(|a, b| rank(a).total_cmp(&rank(b)));
        Ok(rows)
    }

    /// The scores of one scope and period, beside the previous period of the same length.
    pub async fn table(
        &self,
        store: &Store,
        ws: Id,
        scope: Scope,
        from: NaiveDate,
        to: NaiveDate,
        i: &I18n,
    ) -> Result<ScoreTable> {
        let an = self;
        let snapshot = &an.snapshot;
        let days = (to - from).num_days() + 1;
        let prev_to = from - chrono::Duration::days(1);
        let prev_from = prev_to - chrono::Duration::days(days - 1);
        let (mut now, before, shown) = tokio::try_join!(
            an.grouped(store, ws, scope, from, to),
            an.grouped(store, ws, scope, prev_from, prev_to),
            an.shown(store, ws, scope, from, to)
        )?;
        // The encounter log beside the answers: encounters per touchpoint (and summed
        // per stage), distinct customers per stage.
        let (first, last) = (from.to_string(), to.to_string());
        let mut encounters: HashMap<Id, i64> = HashMap::new();
        let mut customers: HashMap<Id, i64> = HashMap::new();
        if matches!(scope, Scope::Touchpoint | Scope::Stage) {
            let per_tp = store.encounter_counts(ws, &first, &last).await?;
            if scope == Scope::Touchpoint {
                // Only touchpoints of the model (history keeps those since removed).
                let known: std::collections::HashSet<Id> =
                    snapshot.touchpoints().map(|(_, t, _)| t).collect();
                encounters = per_tp
                    .into_iter()
                    .filter(|(t, _)| known.contains(t))
                    .collect();
            } else {
                for (stage, _, tps) in &snapshot.stages {
                    let n: i64 = tps.iter().filter_map(|(t, _)| per_tp.get(t)).sum();
                    if n > 0 {
                        encounters.insert(*stage, n);
                    }
                }
                customers = store.stage_customers(ws, &first, &last).await?;
            }
            // A place with encounters but no answers is a row too: its coverage is 0 %.
            for id in encounters.keys() {
                now.entry(GroupKey::Id(*id)).or_default();
            }
        }
        let name = |k: &GroupKey| an.name(scope, k, i);
        // The weakest encounter per journey, by the experience index.
        let weak: HashMap<Id, bool> = if scope == Scope::Touchpoint {
            let per: HashMap<Id, Tally> = now
                .iter()
                .filter_map(|(k, t)| match k {
                    GroupKey::Id(id) => Some((*id, *t)),
                    GroupKey::Text(_) => None,
                })
                .collect();
            weakest_flags(snapshot, &per)
        } else {
            HashMap::new()
        };
        let mut rows: Vec<ScoreRow> = now
        .iter()
        .map(|(k, t)| {
            let prev = before.get(k).copied().unwrap_or_default();
            let (a, b) = (analytics::nps(t), analytics::nps(&prev));
            let changed = matches!((a, b), (Some(a), Some(b)) if a.n >= MIN_SAMPLE && b.n >= MIN_SAMPLE && a.differs_from(&b));
            // The previous period on the same metric as this one: an index from NPS and
            // one from CSAT are not the same measurement.
            let x = analytics::index(t, MIN_SAMPLE);
            let xb = x.and_then(|x| analytics::index_by(&prev, x.metric, MIN_SAMPLE));
            let index_changed = matches!((x, xb), (Some(a), Some(b)) if a.score.differs_from(&b.score));
            let flag = match k {
                GroupKey::Id(id) => weak.get(id).copied(),
                GroupKey::Text(_) => None,
            };
            ScoreRow {
                key: k.clone(),
                name: name(k),
                responses: t.responses,
                nps: analytics::shown(a, MIN_SAMPLE),
                csat: analytics::shown(analytics::csat(t), MIN_SAMPLE),
                ces: analytics::shown(analytics::ces(t), MIN_SAMPLE),
                previous_nps: analytics::shown(b, MIN_SAMPLE),
                nps_changed: changed,
                index: analytics::index_shown(t, MIN_SAMPLE),
                index_metric: x.map(|x| x.metric),
                previous_index: match x {
                    Some(x) => analytics::index_by_shown(&prev, x.metric, MIN_SAMPLE),
                    None => analytics::index_shown(&prev, MIN_SAMPLE),
                },
                index_changed,
                weakest: flag == Some(true),
                tied_weakest: flag == Some(false),
                shown: shown.get(k).copied().filter(|n| *n > 0),
                // Responses that came without a recorded showing (an integration
                // posting directly) would push the rate past 100 %: then there is none.
                response_rate: shown
                    .get(k)
                    .filter(|n| **n > 0 && **n >= t.responses)
                    .map(|n| 100.0 * t.responses as f64 / *n as f64),
                encounters: id_of(k).and_then(|id| encounters.get(&id).copied()),
                feedback_coverage: id_of(k)
                    .and_then(|id| encounters.get(&id))
                    .filter(|n| **n > 0 && **n >= t.responses)
                    .map(|n| 100.0 * t.responses as f64 / *n as f64),
                customers: id_of(k).and_then(|id| customers.get(&id).copied()),
            }
        })
        .collect();
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(ScoreTable {
            by: scope.as_str().into(),
            from: from.to_string(),
            to: to.to_string(),
            previous_from: prev_from.to_string(),
            previous_to: prev_to.to_string(),
            min_sample: MIN_SAMPLE,
            rows,
        })
    }
}
