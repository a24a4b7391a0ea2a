//! Experience scores from counted answers (formulas in `docs/metrics.md`): NPS with a
//! 95 % margin of error, CSAT (% of 4–5 answers), CES (mean of 1–7), a minimum sample
//! below which no number is shown, and whether two scores differ significantly. Pure:
//! the inputs are the sums that storage keeps per touchpoint × day × channel × language.

use serde::Serialize;

/// z for a two-sided 95 % interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// Sums of complete responses' standard scores; adding two tallies gives the tally of
/// the union, so any scope is a sum of stored rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Tally {
    pub responses: i64,
    pub nps_n: i64,
    pub promoters: i64,
    pub detractors: i64,
    pub csat_n: i64,
    pub csat_pos: i64,
    pub ces_n: i64,
    pub ces_sum: i64,
    pub ces_sumsq: i64,
}

impl std::ops::AddAssign for Tally {
    fn add_assign(&mut self, o: Tally) {
        self.responses += o.responses;
        self.nps_n += o.nps_n;
        self.promoters += o.promoters;
        self.detractors += o.detractors;
        self.csat_n += o.csat_n;
        self.csat_pos += o.csat_pos;
        self.ces_n += o.ces_n;
        self.ces_sum += o.ces_sum;
        self.ces_sumsq += o.ces_sumsq;
    }
}

impl std::ops::Neg for Tally {
    type Output = Tally;
    fn neg(self) -> Tally {
        Tally {
            responses: -self.responses,
            nps_n: -self.nps_n,
            promoters: -self.promoters,
            detractors: -self.detractors,
            csat_n: -self.csat_n,
            csat_pos: -self.csat_pos,
            ces_n: -self.ces_n,
            ces_sum: -self.ces_sum,
            ces_sumsq: -self.ces_sumsq,
        }
    }
}

impl Tally {
    /// The tally of one complete response with these standard scores.
    pub fn of(nps: Option<i64>, csat: Option<i64>, ces: Option<i64>) -> Self {
        let mut t = Tally {
            responses: 1,
            ..Default::default()
        };
        if let Some(n) = nps {
            t.nps_n = 1;
            t.promoters = (n >= 9) as i64;
            t.detractors = (n <= 6) as i64;
        }
        if let Some(c) = csat {
            t.csat_n = 1;
            t.csat_pos = (c >= 4) as i64;
        }
        if let Some(c) = ces {
            t.ces_n = 1;
            t.ces_sum = c;
            t.ces_sumsq = c * c;
        }
        t
    }
}

/// A score with its sample size and 95 % margin of error (same unit as the value).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Score {
    pub value: f64,
    pub n: i64,
    pub margin: f64,
}

impl Score {
    /// Significantly different at 95 %: the difference exceeds the combined margin
    /// (independent samples: √(m₁² + m₂²)).
    pub fn differs_from(&self, other: &Score) -> bool {
        (self.value - other.value).abs() > (self.margin.powi(2) + other.margin.powi(2)).sqrt()
    }
}

/// NPS = % promoters (9–10) − % detractors (0–6), −100 … 100. Margin: each answer is
/// +1, 0 or −1; its variance is p + d − (p − d)², so the margin is
/// 100 · z · √(variance / n). None with no answers.
pub fn nps(t: &Tally) -> Option<Score> {
    if t.nps_n <= 0 {
        return None;
    }
    let n = t.nps_n as f64;
    let p = t.promoters as f64 / n;
    let d = t.detractors as f64 / n;
    let var = (p + d - (p - d).powi(2)).max(0.0);
    Some(Score {
        value: 100.0 * (p - d),
        n: t.nps_n,
        margin: 100.0 * Z95 * (var / n).sqrt(),
    })
}

/// CSAT = % of answers that are 4 or 5 (of 1–5), 0 … 100; margin from the normal
/// approximation of a proportion.
pub fn csat(t: &Tally) -> Option<Score> {
    if t.csat_n <= 0 {
        return None;
    }
    let n = t.csat_n as f64;
    let p = t.csat_pos as f64 / n;
    Some(Score {
        value: 100.0 * p,
        n: t.csat_n,
        margin: 100.0 * Z95 * (p * (1.0 - p) / n).sqrt(),
    })
}

/// CES = mean of 1–7 answers; margin z · s / √n with the sample standard deviation
/// (0 for a single answer).
pub fn ces(t: &Tally) -> Option<Score> {
    if t.ces_n <= 0 {
        return None;
    }
    let n = t.ces_n as f64;
    let mean = t.ces_sum as f64 / n;
    let var = if t.ces_n > 1 {
        ((t.ces_sumsq as f64 - n * mean * mean) / (n - 1.0)).max(0.0)
    } else {
        0.0
    };
    Some(Score {
        value: mean,
        n: t.ces_n,
        margin: Z95 * (var / n).sqrt(),
    })
}

/// The one figure that stands for a group where space allows only one (the score lane
/// of a journey map): NPS if answered, else CSAT, else CES, with where it sits on its
/// scale from 0 (worst) to 1 (best).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Headline {
    pub metric: crate::alerts::Metric,
    pub score: Score,
    pub position: f64,
}

pub fn headline(t: &Tally) -> Option<Headline> {
    use crate::alerts::Metric;
    [Metric::Nps, Metric::Csat, Metric::Ces]
        .into_iter()
        .find_map(|metric| {
            metric.score(t).map(|score| Headline {
                metric,
                score,
                position: metric.position(score.value),
            })
        })
}

/// A score to show, or "not enough answers" below the minimum sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Shown {
    Score(Score),
    NotEnough { n: i64 },
    NoAnswers,
}

pub fn shown(s: Option<Score>, min_n: i64) -> Shown {
    match s {
        None => Shown::NoAnswers,
        Some(s) if s.n < min_n => Shown::NotEnough { n: s.n },
        Some(s) => Shown::Score(s),
    }
}

/// What scores are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Touchpoint,
    Stage,
    Journey,
    Package,
    Element,
    Unit,
    Partner,
    Segment,
    Channel,
    Language,
    Survey,
}

impl Scope {
    pub const ALL: [Scope; 11] = [
        Scope::Touchpoint,
        Scope::Stage,
        Scope::Journey,
        Scope::Package,
        Scope::Element,
        Scope::Unit,
        Scope::Partner,
        Scope::Segment,
        Scope::Channel,
        Scope::Language,
        Scope::Survey,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Touchpoint => "touchpoint",
            Scope::Stage => "stage",
            Scope::Journey => "journey",
            Scope::Package => "package",
            Scope::Element => "element",
            Scope::Unit => "unit",
            Scope::Partner => "partner",
            Scope::Segment => "segment",
            Scope::Channel => "channel",
            Scope::Language => "language",
            Scope::Survey => "survey",
        }
    }
    pub fn parse(s: &str) -> Result<Self, crate::Reason> {
        Self::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| {
                crate::Reason::new("not-one-of")
                    .with("value", s)
                    .with("options", Self::ALL.map(|x| x.as_str()).join(", "))
            })
    }
    /// Scopes whose groups are parts of the model (keyed by id and resolved through
    /// touchpoints or survey targets), as opposed to columns of the response.
    pub fn is_model(self) -> bool {
        !matches!(self, Scope::Channel | Scope::Language | Scope::Survey)
    }
}

/// A group's key: an id (touchpoint, stage, journey, package, element, unit, partner,
/// segment, survey) or a text (channel, language).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(untagged)]
pub enum GroupKey {
    Id(crate::Id),
    Text(String),
}

impl utoipa::PartialSchema for GroupKey {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .description(Some(
                "An id (touchpoint, stage, journey, package, element, unit, partner, segment, survey) or a text (channel, language)",
            ))
            .item(ObjectBuilder::new().schema_type(Type::Integer))
            .item(ObjectBuilder::new().schema_type(Type::String))
            .into()
    }
}
impl utoipa::ToSchema for GroupKey {}

impl utoipa::PartialSchema for Shown {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        let number = || ObjectBuilder::new().schema_type(Type::Number);
        ObjectBuilder::new()
            .description(Some(
                "`score` with `value`, `n` and the 95 % `margin`; `not_enough` answers (below the minimum sample) with `n`; or `no_answers`",
            ))
            .property(
                "status",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["score", "not_enough", "no_answers"])),
            )
            .required("status")
            .property("value", number())
            .property("n", ObjectBuilder::new().schema_type(Type::Integer))
            .property("margin", number())
            .into()
    }
}
impl utoipa::ToSchema for Shown {}

impl GroupKey {
    /// Parses a key as it appears in links: digits are ids, anything else text.
    pub fn parse(scope: Scope, s: &str) -> Result<Self, crate::Reason> {
        match s.parse::<crate::Id>() {
            Ok(id) if scope != Scope::Channel && scope != Scope::Language && id > 0 => {
                Ok(GroupKey::Id(id))
            }
            _ if !scope.is_model() && scope != Scope::Survey => Ok(GroupKey::Text(s.to_owned())),
            _ => Err(crate::Reason::new("positive-id")),
        }
    }
}

impl std::fmt::Display for GroupKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GroupKey::Id(id) => write!(f, "{id}"),
            GroupKey::Text(t) => f.write_str(t),
        }
    }
}

/// One row of summed rollups.
pub struct Counted<'a> {
    pub survey_id: crate::Id,
    pub touchpoint_id: Option<crate::Id>,
    pub channel: &'a str,
    pub locale: &'a str,
    pub tally: Tally,
}

/// Where a touchpoint sits in the model.
#[derive(Debug, Clone)]
struct Place {
    stage: crate::Id,
    journey: crate::Id,
    owner: Option<crate::model::Owner>,
    element: Option<crate::Id>,
}

/// Which model groups a response belongs to, from the touchpoint it names or, when it
/// names none, from what its survey is about. Built once from the model; [`group`] sums
/// rollups with it and [`Scopes::selector`] turns a group back into the responses
/// behind it, so a figure and its list of responses agree by construction.
///
/// A response naming a touchpoint counts for that touchpoint, its stage, journey, the
/// journey's segment, the touchpoint's element and every package holding that element,
/// and the unit or partner owning the touchpoint. A response naming no touchpoint counts
/// for its survey's journey (and segment) or package. Channel, language (empty =
/// unknown) and survey take every response.
#[derive(Debug, Clone, Default)]
pub struct Scopes {
    places: std::collections::HashMap<crate::Id, Place>,
    journey_segment: std::collections::HashMap<crate::Id, crate::Id>,
    element_packages: std::collections::HashMap<crate::Id, Vec<crate::Id>>,
    survey_targets: std::collections::HashMap<crate::Id, crate::survey::SurveyTarget>,
}

/// The responses behind a group: those naming one of `touchpoints`, plus those naming
/// no touchpoint whose survey is one of `surveys`; or a plain column match.
#[derive(Debug, Clone, PartialEq)]
pub enum Selector {
    Model {
        touchpoints: Vec<crate::Id>,
        surveys: Vec<crate::Id>,
    },
    Channel(String),
    Language(String),
    Survey(crate::Id),
}

impl Scopes {
    pub fn new(
        snapshot: &crate::insight::Snapshot,
        survey_targets: impl IntoIterator<Item = (crate::Id, crate::survey::SurveyTarget)>,
    ) -> Self {
        let mut s = Scopes {
            survey_targets: survey_targets.into_iter().collect(),
            ..Default::default()
        };
        for (stage_id, stage, tps) in &snapshot.stages {
            for (tp_id, tp) in tps {
                s.places.insert(
                    *tp_id,
                    Place {
                        stage: *stage_id,
                        journey: stage.journey_id,
                        owner: tp.owner,
                        element: tp.element_id,
                    },
                );
            }
        }
        for (id, j) in &snapshot.journeys {
            s.journey_segment.insert(*id, j.segment_id);
        }
        for (id, p) in &snapshot.packages {
            for pe in &p.elements {
                s.element_packages
                    .entry(pe.element_id)
                    .or_default()
                    .push(*id);
            }
        }
        s
    }

    /// The model groups of `scope` that a response with this survey and touchpoint
    /// belongs to (none, one, or several for packages).
    fn model_keys(
        &self,
        scope: Scope,
        survey: crate::Id,
        touchpoint: Option<crate::Id>,
    ) -> Vec<crate::Id> {
        use crate::model::Owner;
        use crate::survey::SurveyTarget;
        match touchpoint {
            Some(t) => {
                let Some(p) = self.places.get(&t) else {
                    return vec![];
                };
                match scope {
                    Scope::Touchpoint => vec![t],
                    Scope::Stage => vec![p.stage],
                    Scope::Journey => vec![p.journey],
                    Scope::Segment => self
                        .journey_segment
                        .get(&p.journey)
                        .copied()
                        .into_iter()
                        .collect(),
                    Scope::Element => p.element.into_iter().collect(),
                    Scope::Package => p
                        .element
                        .and_then(|e| self.element_packages.get(&e).cloned())
                        .unwrap_or_default(),
                    Scope::Unit => match p.owner {
                        Some(Owner::Unit(u)) => vec![u],
                        _ => vec![],
                    },
                    Scope::Partner => match p.owner {
                        Some(Owner::Partner(x)) => vec![x],
                        _ => vec![],
                    },
                    _ => vec![],
                }
            }
            None => match (scope, self.survey_targets.get(&survey)) {
                (Scope::Journey, Some(SurveyTarget::Journey(j))) => vec![*j],
                (Scope::Segment, Some(SurveyTarget::Journey(j))) => {
                    self.journey_segment.get(j).copied().into_iter().collect()
                }
                (Scope::Package, Some(SurveyTarget::Package(p))) => vec![*p],
                _ => vec![],
            },
        }
    }

    /// The groups of `scope` a counted row belongs to.
    pub fn keys(&self, scope: Scope, r: &Counted<'_>) -> Vec<GroupKey> {
        match scope {
            Scope::Channel => vec![GroupKey::Text(r.channel.to_owned())],
            Scope::Language => vec![GroupKey::Text(r.locale.to_owned())],
            Scope::Survey => vec![GroupKey::Id(r.survey_id)],
            _ => self
                .model_keys(scope, r.survey_id, r.touchpoint_id)
                .into_iter()
                .map(GroupKey::Id)
                .collect(),
        }
    }

    /// Which responses make up the group `key` of `scope`.
    pub fn selector(&self, scope: Scope, key: &GroupKey) -> Selector {
        match (scope, key) {
            (Scope::Channel, k) => Selector::Channel(k.to_string()),
            (Scope::Language, k) => Selector::Language(k.to_string()),
            (Scope::Survey, GroupKey::Id(id)) => Selector::Survey(*id),
            (_, GroupKey::Id(id)) => {
                let mut touchpoints: Vec<crate::Id> = self
                    .places
                    .keys()
                    .filter(|t| self.model_keys(scope, 0, Some(**t)).contains(id))
                    .copied()
                    .collect();
                let mut surveys: Vec<crate::Id> = self
                    .survey_targets
                    .keys()
                    .filter(|s| self.model_keys(scope, **s, None).contains(id))
                    .copied()
                    .collect();
                touchpoints.sort_unstable();
                surveys.sort_unstable();
                Selector::Model {
                    touchpoints,
                    surveys,
                }
            }
            _ => Selector::Model {
                touchpoints: vec![],
                surveys: vec![],
            },
        }
    }
}

/// Sums rows into groups of `scope` (see [`Scopes`] for who counts where).
pub fn group(
    rows: &[Counted<'_>],
    scope: Scope,
    scopes: &Scopes,
) -> std::collections::BTreeMap<GroupKey, Tally> {
    let mut out: std::collections::BTreeMap<GroupKey, Tally> = Default::default();
    for r in rows {
        for k in scopes.keys(scope, r) {
            *out.entry(k).or_default() += r.tally;
        }
    }
    out
}

/// The experience index of a group: one figure on 0–100 that compares touchpoints
/// whatever they are measured with. It is the group's first metric — NPS, then CSAT,
/// then CES — with at least `min_n` answers, placed on its scale (0 = the worst the
/// metric can say, 100 = the best): (NPS + 100) / 2, CSAT as it is, (CES − 1) · 100 / 6.
/// The margin is scaled the same way. `None` when no metric has enough answers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Index {
    pub score: Score,
    /// The metric it was computed from.
    pub metric: crate::alerts::Metric,
}

pub fn index(t: &Tally, min_n: i64) -> Option<Index> {
    use crate::alerts::Metric;
    [Metric::Nps, Metric::Csat, Metric::Ces]
        .into_iter()
        .find_map(|metric| index_by(t, metric, min_n))
}

/// The index from one given metric (`None` below `min_n` answers of it). Periods that
/// are compared — a trend's points, a period and the one before — use the metric the
/// whole span's index uses, so a point never jumps because its metric changed.
pub fn index_by(t: &Tally, metric: crate::alerts::Metric, min_n: i64) -> Option<Index> {
    let s = metric.score(t).filter(|s| s.n >= min_n)?;
    let (lo, hi) = metric.range();
    Some(Index {
        score: Score {
            value: 100.0 * metric.position(s.value),
            n: s.n,
            margin: 100.0 * s.margin / (hi - lo),
        },
        metric,
    })
}

/// [`index_by`] as shown: a score, or "not enough answers" with that metric's n.
pub fn index_by_shown(t: &Tally, metric: crate::alerts::Metric, min_n: i64) -> Shown {
    match index_by(t, metric, min_n) {
        Some(x) => Shown::Score(x.score),
        None => match metric.score(t).map_or(0, |s| s.n) {
            0 => Shown::NoAnswers,
            n => Shown::NotEnough { n },
        },
    }
}

/// The index as shown: a score, "not enough answers" (with the most answers any metric
/// has) or none.
pub fn index_shown(t: &Tally, min_n: i64) -> Shown {
    match index(t, min_n) {
        Some(x) => Shown::Score(x.score),
        None => match t.nps_n.max(t.csat_n).max(t.ces_n) {
            0 => Shown::NoAnswers,
            n => Shown::NotEnough { n },
        },
    }
}

/// The weakest encounter of a journey, by the experience index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Weakest<K> {
    /// Fewer than two touchpoints have an index: nothing to compare.
    Unknown,
    /// This touchpoint's index is significantly below every other one's.
    One(K),
    /// The lowest index is not significantly below these (lowest first): they are
    /// tied for the weakest.
    Tied(Vec<K>),
}

impl<K: PartialEq> Weakest<K> {
    /// Whether `k` is the weakest encounter, or tied for it.
    pub fn names(&self, k: &K) -> bool {
        match self {
            Weakest::Unknown => false,
            Weakest::One(x) => x == k,
            Weakest::Tied(xs) => xs.contains(k),
        }
    }
}

/// The weakest encounter among touchpoints with an index (each counted once): the
/// lowest index if it is significantly below every other (the rule of
/// [`Score::differs_from`]); otherwise every touchpoint not significantly above the
/// lowest, lowest first. Ties in value are broken by key, so the answer is the same
/// wherever it is asked.
pub fn weakest<K: Clone + Ord>(indexes: &[(K, Score)]) -> Weakest<K> {
    if indexes.len() < 2 {
        return Weakest::Unknown;
    }
    let mut sorted: Vec<&(K, Score)> = indexes.iter().collect();
    sorted.sort_by(|a, b| a.1.value.total_cmp(&b.1.value).then_with(|| a.0.cmp(&b.0)));
    let low = sorted[0];
    let tied: Vec<K> = sorted[1..]
        .iter()
        .filter(|o| !(o.1.value > low.1.value && o.1.differs_from(&low.1)))
        .map(|o| o.0.clone())
        .collect();
    if tied.is_empty() {
        Weakest::One(low.0.clone())
    } else {
        Weakest::Tied(std::iter::once(low.0.clone()).chain(tied).collect())
    }
}

#[cfg(test)]
mod doc_tests {
    /// docs/metrics.md states the z every margin and test uses; it must be this one.
    #[test]
    fn metrics_doc_states_the_z_in_use() {
        let doc = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/metrics.md"
        ))
        .unwrap();
        assert!(
            doc.contains(&format!("z = {:.6}", super::Z95)),
            "z in docs/metrics.md"
        );
        assert!(doc.contains(&format!("Z95 = {}", super::Z95)));
        assert!(
            !doc.contains("· 1.96 ·"),
            "no margin written with a rounded z"
        );
    }
}

#[cfg(test)]
mod headline_tests {
    use super::*;

    #[test]
    fn nps_first_then_csat_then_ces_with_their_position() {
        // 10 answers: 5 promoters, 1 detractor → NPS 40, position (40 + 100) / 200.
        let t = Tally {
            responses: 10,
            nps_n: 10,
            promoters: 5,
            detractors: 1,
            csat_n: 4,
            csat_pos: 1,
            ..Default::default()
        };
        let h = headline(&t).unwrap();
        assert_eq!(h.metric, crate::alerts::Metric::Nps);
        assert!((h.score.value - 40.0).abs() < 1e-9 && (h.position - 0.7).abs() < 1e-9);
        // Without NPS answers: CSAT 25 % → position 0.25.
        let t = Tally {
            nps_n: 0,
            promoters: 0,
            detractors: 0,
            ..t
        };
        let h = headline(&t).unwrap();
        assert_eq!(h.metric, crate::alerts::Metric::Csat);
        assert!((h.position - 0.25).abs() < 1e-9);
        // Only CES: mean 7 on 1–7 → position 1.
        let t = Tally {
            responses: 2,
            ces_n: 2,
            ces_sum: 14,
            ces_sumsq: 98,
            ..Default::default()
        };
        let h = headline(&t).unwrap();
        assert_eq!(h.metric, crate::alerts::Metric::Ces);
        assert!((h.position - 1.0).abs() < 1e-9);
        assert!(headline(&Tally::default()).is_none());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tally(scores: &[i64]) -> Tally {
        let mut t = Tally::default();
        for s in scores {
            t += Tally::of(Some(*s), None, None);
        }
        t
    }

    #[test]
    fn known_values() {
        // 5 promoters, 3 passives, 2 detractors → 50 % − 20 % = 30.
        let t = tally(&[10, 9, 9, 10, 9, 7, 8, 7, 0, 6]);
        let s = nps(&t).unwrap();
        assert!((s.value - 30.0).abs() < 1e-9);
        assert_eq!(s.n, 10);
        // variance = .5 + .2 − .09 = .61; margin = 100·1.96·√(.061) ≈ 48.4
        assert!((s.margin - 100.0 * Z95 * (0.061f64).sqrt()).abs() < 1e-9);
        let mut c = Tally::default();
        for v in [5, 4, 3, 1] {
            c += Tally::of(None, Some(v), None);
        }
        assert_eq!(csat(&c).unwrap().value, 50.0);
        let mut e = Tally::default();
        for v in [7, 5, 3] {
            e += Tally::of(None, None, Some(v));
        }
        let s = ces(&e).unwrap();
        assert_eq!(s.value, 5.0);
        assert!((s.margin - Z95 * (4.0f64 / 3.0).sqrt()).abs() < 1e-9);
    }

    #[test]
    fn empty_single_and_minimum_sample() {
        assert_eq!(nps(&Tally::default()), None);
        assert_eq!(csat(&Tally::default()), None);
        assert_eq!(ces(&Tally::default()), None);
        let one = nps(&tally(&[10])).unwrap();
        assert_eq!((one.value, one.n, one.margin), (100.0, 1, 0.0));
        assert_eq!(ces(&Tally::of(None, None, Some(4))).unwrap().margin, 0.0);
        assert_eq!(shown(Some(one), 30), Shown::NotEnough { n: 1 });
        assert_eq!(shown(None, 30), Shown::NoAnswers);
    }

    #[test]
    fn significance() {
        let good = nps(&tally(&[10; 200])).unwrap();
        let bad = nps(&tally(&[0; 200])).unwrap();
        assert!(good.differs_from(&bad));
        let a = nps(&tally(&[10, 0, 8, 9, 3])).unwrap();
        let b = nps(&tally(&[9, 1, 7, 10, 4])).unwrap();
        assert!(!a.differs_from(&b));
    }

    #[test]
    fn the_weakest_is_flagged_only_when_significantly_lowest() {
        let s = |v: &[i64]| index(&tally(v), 30).unwrap().score;
        let good = s(&[10; 100]);
        let also_good = s(&[9; 80]);
        let bad = s(&[[0i64; 60].as_slice(), [10i64; 40].as_slice()].concat());
        assert_eq!(
            weakest(&[("a", good), ("b", also_good), ("c", bad)]),
            Weakest::One("c")
        );
        // Within the margin of another: both named, lowest first.
        let close = s(&[[0i64; 55].as_slice(), [10i64; 45].as_slice()].concat());
        assert_eq!(
            weakest(&[("d", close), ("c", bad), ("a", good)]),
            Weakest::Tied(vec!["c", "d"])
        );
        // One measured touchpoint is not "the weakest" of anything.
        assert_eq!(weakest(&[("a", good)]), Weakest::Unknown);
        // Too few answers give no index at all.
        assert_eq!(index(&tally(&[0, 0]), 30), None);
        assert_eq!(index_shown(&tally(&[0, 0]), 30), Shown::NotEnough { n: 2 });
    }

    #[test]
    fn the_index_puts_every_metric_on_0_to_100() {
        use crate::alerts::Metric;
        // NPS 30 with margin m → index 65, margin m / 2.
        let t = tally(&[[10i64; 50].as_slice(), &[8; 30], &[0; 20]].concat());
        let (n, x) = (nps(&t).unwrap(), index(&t, 30).unwrap());
        assert_eq!(x.metric, Metric::Nps);
        assert!((x.score.value - 65.0).abs() < 1e-9);
        assert!((x.score.margin - n.margin / 2.0).abs() < 1e-9);
        // Too few NPS answers: the CSAT (share of 4–5) is the index.
        let mut c = tally(&[10; 5]);
        for v in [5, 4, 2].iter().cycle().take(30) {
            c += Tally::of(None, Some(*v), None);
        }
        let x = index(&c, 30).unwrap();
        assert_eq!(x.metric, Metric::Csat);
        assert!((x.score.value - 200.0 / 3.0).abs() < 1e-9);
        // CES mean 4 on 1–7 → 50; margin × 100 / 6.
        let mut e = Tally::default();
        for v in [7, 1].iter().cycle().take(40) {
            e += Tally::of(None, None, Some(*v));
        }
        let (m, x) = (ces(&e).unwrap(), index(&e, 30).unwrap());
        assert!((x.score.value - 50.0).abs() < 1e-9);
        assert!((x.score.margin - m.margin * 100.0 / 6.0).abs() < 1e-9);
    }

    proptest! {
        #[test]
        fn bounds(scores in proptest::collection::vec(0i64..=10, 1..300)) {
            let s = nps(&tally(&scores)).unwrap();
            prop_assert!((-100.0..=100.0).contains(&s.value));
            prop_assert!(s.margin >= 0.0 && s.margin <= 100.0 * Z95);
            prop_assert_eq!(s.n, scores.len() as i64);
        }

        #[test]
        fn mirroring_swaps_the_sign(scores in proptest::collection::vec(0i64..=10, 1..300)) {
            // 10 − x maps promoters 9–10 to 0–1 (detractors) but detractors 0–6 to 4–10,
            // so mirror through the bands instead: promoter ↔ detractor, passive stays.
            let mirrored: Vec<i64> = scores.iter().map(|s| match s { 9..=10 => 0, 0..=6 => 10, x => *x }).collect();
            let a = nps(&tally(&scores)).unwrap();
            let b = nps(&tally(&mirrored)).unwrap();
            prop_assert!((a.value + b.value).abs() < 1e-9);
            prop_assert!((a.margin - b.margin).abs() < 1e-9);
        }

        #[test]
        fn tallies_add_up(a in proptest::collection::vec(0i64..=10, 0..100), b in proptest::collection::vec(0i64..=10, 0..100)) {
            let mut sum = tally(&a);
            sum += tally(&b);
            let all: Vec<i64> = a.iter().chain(b.iter()).copied().collect();
            prop_assert_eq!(sum, tally(&all));
            let mut back = sum;
            back += -tally(&b);
            prop_assert_eq!(back, tally(&a));
        }

        #[test]
        fn csat_and_ces_bounds(c in proptest::collection::vec(1i64..=5, 1..200), e in proptest::collection::vec(1i64..=7, 1..200)) {
            let mut t = Tally::default();
            for v in &c { t += Tally::of(None, Some(*v), None); }
            for v in &e { t += Tally::of(None, None, Some(*v)); }
            let s = csat(&t).unwrap();
            prop_assert!((0.0..=100.0).contains(&s.value));
            let m = ces(&t).unwrap();
            prop_assert!((1.0..=7.0).contains(&m.value));
            prop_assert!(m.margin >= 0.0);
        }
    }
}

/// One customer's (or case's) experience: the journey-level NPS and the touchpoint
/// scores given in the same case, each touchpoint score scaled to 0–100.
pub struct CaseScores {
    pub journey_nps: i64,
    pub touchpoints: Vec<(crate::Id, f64)>,
}

/// A touchpoint's estimated impact on the journey score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Driver {
    pub touchpoint_id: crate::Id,
    /// Pearson correlation of the touchpoint's score with the journey NPS answer over
    /// the cases that have both (−1 … 1).
    pub impact: f64,
    /// Mean touchpoint score on a 0–100 scale (performance axis).
    pub performance: f64,
    pub n: i64,
    /// |t| = |r|·√(n−2)/√(1−r²) above 1.96 (95 %, large-sample).
    pub significant: bool,
}

/// Scales a standard score to 0–100: NPS 0–10, CSAT 1–5, CES 1–7.
pub fn scaled(nps: Option<i64>, csat: Option<i64>, ces: Option<i64>) -> Option<f64> {
    nps.map(|v| v as f64 * 10.0)
        .or(csat.map(|v| (v - 1) as f64 * 25.0))
        .or(ces.map(|v| (v - 1) as f64 * 100.0 / 6.0))
}

/// Drivers: for each touchpoint with at least `min_n` cases, the correlation between its
/// score and the journey NPS of the same case (documented in docs/metrics.md).
pub fn drivers(cases: &[CaseScores], min_n: i64) -> Vec<Driver> {
    use std::collections::BTreeMap;
    let mut pairs: BTreeMap<crate::Id, Vec<(f64, f64)>> = BTreeMap::new();
    for c in cases {
        for (tp, score) in &c.touchpoints {
            pairs
                .entry(*tp)
                .or_default()
                .push((*score, c.journey_nps as f64));
        }
    }
    pairs
        .into_iter()
        .filter(|(_, v)| v.len() as i64 >= min_n)
        .map(|(tp, v)| {
            let n = v.len() as f64;
            let (mx, my) = (
                v.iter().map(|p| p.0).sum::<f64>() / n,
                v.iter().map(|p| p.1).sum::<f64>() / n,
            );
            let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
            for (x, y) in &v {
                sxy += (x - mx) * (y - my);
                sxx += (x - mx).powi(2);
                syy += (y - my).powi(2);
            }
            let r = if sxx > 0.0 && syy > 0.0 {
                sxy / (sxx * syy).sqrt()
            } else {
                0.0
            };
            let t = if r.abs() < 1.0 {
                r.abs() * (n - 2.0).sqrt() / (1.0 - r * r).sqrt()
            } else {
                f64::INFINITY
            };
            Driver {
                touchpoint_id: tp,
                impact: r,
                performance: mx,
                n: v.len() as i64,
                significant: n > 2.0 && t > Z95,
            }
        })
        .collect()
}

#[cfg(test)]
mod driver_tests {
    use super::*;

    #[test]
    fn a_touchpoint_that_moves_the_journey_score_is_a_significant_driver() {
        let mut cases = Vec::new();
        for k in 0..100i64 {
            let good = k % 2 == 0;
            cases.push(CaseScores {
                journey_nps: if good { 9 } else { 3 },
                // Touchpoint 1 follows the journey score; touchpoint 2 does not.
                touchpoints: vec![
                    (1, if good { 90.0 } else { 20.0 }),
                    (2, if k % 4 < 2 { 80.0 } else { 40.0 }),
                ],
            });
        }
        let d = drivers(&cases, 30);
        let one = d.iter().find(|x| x.touchpoint_id == 1).unwrap();
        assert!(one.impact > 0.99 && one.significant && one.n == 100);
        assert!((one.performance - 55.0).abs() < 1e-9);
        let two = d.iter().find(|x| x.touchpoint_id == 2).unwrap();
        assert!(two.impact.abs() < 0.05 && !two.significant, "{two:?}");
        assert!(drivers(&cases, 101).is_empty(), "minimum sample");
        assert_eq!(scaled(None, Some(5), None), Some(100.0));
        assert_eq!(scaled(None, None, Some(1)), Some(0.0));
    }
}
