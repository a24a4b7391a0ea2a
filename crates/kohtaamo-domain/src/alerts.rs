//! Alert rules on experience scores: "tell the owning unit when the NPS of this
//! touchpoint falls below 0", or "… drops significantly from the previous period".
//! Pure: parsing a rule and deciding whether a period's tallies trigger it. The job that
//! evaluates rules and notifies lives in `kohtaamo-app` (`jobs/alerts.rs`), the storage
//! of rules and alerts in `kohtaamo-storage` (`alerts.rs`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::analytics::{self, GroupKey, Scope, Score, Tally};
use crate::model::{positive_id, str_enum};
use crate::{FieldErrors, Id, Reason};

str_enum!(
    /// Which score a rule watches.
    Metric { Nps => "nps", Csat => "csat", Ces => "ces" }
);
str_enum!(
    /// When a rule fires: the score is below a threshold, or it dropped significantly
    /// from the previous period of the same length.
    Condition { Below => "below", Drop => "drop" }
);

impl Metric {
    /// The range a threshold of this metric must lie in.
    pub fn range(self) -> (f64, f64) {
        match self {
            Metric::Nps => (-100.0, 100.0),
            Metric::Csat => (0.0, 100.0),
            Metric::Ces => (1.0, 7.0),
        }
    }
    /// Where `value` sits on this metric's scale, from 0 (worst) to 1 (best).
    pub fn position(self, value: f64) -> f64 {
        let (lo, hi) = self.range();
        (value - lo) / (hi - lo)
    }
    /// The metric's name as people write it: NPS, CSAT, CES.
    pub fn label(self) -> &'static str {
        match self {
            Metric::Nps => "NPS",
            Metric::Csat => "CSAT",
            Metric::Ces => "CES",
        }
    }
    pub fn score(self, t: &Tally) -> Option<Score> {
        match self {
            Metric::Nps => analytics::nps(t),
            Metric::Csat => analytics::csat(t),
            Metric::Ces => analytics::ces(t),
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertRuleInput {
    /// touchpoint, stage, journey, package, element, unit, partner, segment, channel,
    /// language or survey.
    pub scope: String,
    /// The group's key: an id, or a channel or language code.
    pub key: String,
    /// nps, csat or ces.
    pub metric: String,
    /// below or drop.
    pub condition: String,
    /// For `below`: fire when the score is under this (NPS −100…100, CSAT 0…100, CES 1…7).
    #[serde(default)]
    pub threshold: Option<f64>,
    /// Length of the evaluated period in days, 1–365 (default 7); `drop` compares it
    /// with the period just before.
    #[serde(default)]
    pub period_days: Option<i64>,
    /// The unit to notify; default: the unit owning the group (a unit, or the owner of
    /// a touchpoint). Rules on groups without an owning unit need one.
    #[serde(default)]
    pub unit_id: Option<Id>,
}

/// A validated alert rule.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AlertRuleData {
    #[schema(value_type = String)]
    pub scope: Scope,
    #[schema(value_type = String)]
    pub key: GroupKey,
    pub metric: Metric,
    pub condition: Condition,
    pub threshold: Option<f64>,
    pub period_days: i64,
    pub unit_id: Option<Id>,
}

impl crate::model::Parse for AlertRuleInput {
    type Data = AlertRuleData;
    fn parse(&self) -> Result<AlertRuleData, FieldErrors> {
        let mut e = FieldErrors::new();
        let scope = e.take("scope", Scope::parse(self.scope.trim()));
        let key = scope.and_then(|s| e.take("key", GroupKey::parse(s, self.key.trim())));
        let metric = e.take("metric", Metric::parse(self.metric.trim()));
        let condition = e.take("condition", Condition::parse(self.condition.trim()));
        match (condition, metric, self.threshold) {
            (Some(Condition::Below), _, None) => e.add("threshold", Reason::new("empty")),
            (_, Some(m), Some(t)) => {
                let (lo, hi) = m.range();
                if !(t.is_finite() && (lo..=hi).contains(&t)) {
                    e.add(
                        "threshold",
                        Reason::new("score-range")
                            .with("min", lo.to_string())
                            .with("max", hi.to_string()),
                    );
                }
            }
            _ => {}
        }
        let period_days = self.period_days.unwrap_or(7);
        if !(1..=365).contains(&period_days) {
            e.add("period_days", Reason::new("period-range"));
        }
        if let Some(u) = self.unit_id {
            positive_id(&mut e, "unit_id", u);
        }
        match (scope, key, metric, condition) {
            (Some(scope), Some(key), Some(metric), Some(condition)) if e.is_empty() => {
                Ok(AlertRuleData {
                    scope,
                    key,
                    metric,
                    condition,
                    threshold: self.threshold,
                    period_days,
                    unit_id: self.unit_id,
                })
            }
            _ => Err(e),
        }
    }
}

/// What a rule found in a period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct Finding {
    /// The score in the period.
    pub value: f64,
    /// Its margin of error (95 %).
    pub margin: f64,
    pub n: i64,
    /// The previous period's score (for `drop`).
    pub previous: Option<f64>,
}

impl AlertRuleData {
    /// Whether the period's tallies (`now`, and `before` = the previous period of the
    /// same length) trigger the rule. No alert without `min_n` answers in every period
    /// looked at: a rule never fires on noise the dashboard would not show.
    pub fn evaluate(&self, now: &Tally, before: &Tally, min_n: i64) -> Option<Finding> {
        let s = self.metric.score(now).filter(|s| s.n >= min_n)?;
        match self.condition {
            Condition::Below => {
                let t = self.threshold?;
                (s.value < t).then_some(Finding {
                    value: s.value,
                    margin: s.margin,
                    n: s.n,
                    previous: None,
                })
            }
            Condition::Drop => {
                let p = self.metric.score(before).filter(|p| p.n >= min_n)?;
                (s.value < p.value && s.differs_from(&p)).then_some(Finding {
                    value: s.value,
                    margin: s.margin,
                    n: s.n,
                    previous: Some(p.value),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Parse;

    fn input(scope: &str, key: &str, metric: &str, cond: &str, t: Option<f64>) -> AlertRuleInput {
        AlertRuleInput {
            scope: scope.into(),
            key: key.into(),
            metric: metric.into(),
            condition: cond.into(),
            threshold: t,
            period_days: None,
            unit_id: None,
        }
    }

    fn tally(scores: &[i64]) -> Tally {
        let mut t = Tally::default();
        for s in scores {
            t += Tally::of(Some(*s), None, None);
        }
        t
    }

    #[test]
    fn parse_names_every_bad_field() {
        let e = input("town", "x", "mood", "sometimes", None)
            .parse()
            .unwrap_err();
        let fields: Vec<&str> = e.0.keys().map(|k| k.as_str()).collect();
        assert_eq!(fields, ["condition", "metric", "scope"]);
        let e = input("touchpoint", "abc", "nps", "below", None)
            .parse()
            .unwrap_err();
        assert!(e.0.contains_key("key") && e.0.contains_key("threshold"));
        let e = input("touchpoint", "3", "ces", "below", Some(9.0))
            .parse()
            .unwrap_err();
        assert!(e.0.contains_key("threshold"));
        let ok = input("channel", "web", "csat", "drop", None)
            .parse()
            .unwrap();
        assert_eq!(ok.key, GroupKey::Text("web".into()));
        assert_eq!(ok.period_days, 7);
    }

    #[test]
    fn below_fires_only_with_enough_answers_under_the_threshold() {
        let r = input("touchpoint", "3", "nps", "below", Some(0.0))
            .parse()
            .unwrap();
        // 20 detractors, 10 promoters: NPS −33.
        let low: Vec<i64> = [vec![3; 20], vec![10; 10]].concat();
        let f = r.evaluate(&tally(&low), &Tally::default(), 30).unwrap();
        assert!((f.value + 100.0 / 3.0).abs() < 1e-9);
        assert_eq!(f.n, 30);
        assert_eq!(r.evaluate(&tally(&low[..29]), &Tally::default(), 30), None);
        assert_eq!(r.evaluate(&tally(&[10; 40]), &Tally::default(), 30), None);
    }

    #[test]
    fn drop_fires_only_on_a_significant_fall() {
        let r = input("journey", "1", "nps", "drop", None).parse().unwrap();
        let good = tally(&[[10; 80].as_slice(), &[8; 20]].concat());
        let bad = tally(&[[10; 30].as_slice(), &[3; 70]].concat());
        let f = r.evaluate(&bad, &good, 30).unwrap();
        assert_eq!(f.previous, Some(80.0));
        // A rise, or a small dip, is not an alert.
        assert_eq!(r.evaluate(&good, &bad, 30), None);
        let dip = tally(&[[10; 78].as_slice(), &[8; 22]].concat());
        assert_eq!(r.evaluate(&dip, &good, 30), None);
        // Not enough answers before: nothing to compare with.
        assert_eq!(r.evaluate(&bad, &tally(&[10; 5]), 30), None);
    }
}
