//! Follow-ups: closing the loop on a poor encounter. A **follow-up rule** says when a
//! response or a frontline capture opens a follow-up (NPS ≤ n, CSAT ≤ n, CES ≥ n, a
//! chosen option, words in an open answer, a capture marked "needs follow-up"), for
//! which part of the model (scope), and the targets of its two clocks. A **follow-up**
//! moves *new → contacted → resolved → closed* (and can be reopened); closing needs a
//! root cause and the action taken.
//!
//! Pure: parsing rules, deciding whether a response or capture matches one, and the
//! status machine. Storage keeps rules (generic entity path) and follow-ups (created in
//! the transaction that stores the response or capture); the application layer
//! gathers the facts a rule is matched against.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::model::{positive_id, str_enum};
use crate::survey::{Answer, Answers, Scores};
use crate::themes::{Analyzer, SnowballAnalyzer};
use crate::{FieldErrors, Id, Reason};

str_enum!(
    /// What opens a follow-up: a score at or past a threshold, an option chosen, words
    /// in an open answer, a capture marked "needs follow-up", or a score alert raised
    /// (on a touchpoint, stage, journey, package, element, unit, partner or survey).
    Trigger { Nps => "nps", Csat => "csat", Ces => "ces", Option => "option", Words => "words", Capture => "capture", Alert => "alert" }
);
str_enum!(
    /// The part of the model a rule watches: everything, or one survey, touchpoint,
    /// stage, journey, service package or unit (the unit owning the touchpoint).
    RuleScope { Workspace => "workspace", Survey => "survey", Touchpoint => "touchpoint", Stage => "stage", Journey => "journey", Package => "package", Unit => "unit" }
);
str_enum!(
    /// Where a follow-up is.
    Status { New => "new", Contacted => "contacted", Resolved => "resolved", Closed => "closed" }
);
str_enum!(
    /// What someone does to a follow-up.
    /// `wait` stops both clocks while waiting for the customer, `resume` starts them
    /// again; `escalate` is the clock job's (a missed target, told to someone), never a
    /// person's.
    /// `recovery` is the customer's answer to the recovery survey.
    Action { Assign => "assign", Contact => "contact", Wait => "wait", Resume => "resume", Resolve => "resolve", Close => "close", Reopen => "reopen", Note => "note", Escalate => "escalate", Recovery => "recovery" }
);

/// The recovery survey's one question is answered 1–5 ("How well was your matter
/// put right?"): 4 or 5 counts as recovered; 1 or 2 reopens the follow-up.
pub const RECOVERY_SCALE: (i64, i64) = (1, 5);
pub const RECOVERED_FROM: i64 = 4;
pub const REOPEN_AT_OR_BELOW: i64 = 2;

/// Whether a customer's next score after a follow-up closed, at any touchpoint, says
/// they recovered: NPS 7 or more, CSAT 4 or more, or CES 3 or less (the first of these
/// the response carries, in that order).
pub fn recovered_by_score(nps: Option<i64>, csat: Option<i64>, ces: Option<i64>) -> Option<bool> {
    nps.map(|n| n >= 7)
        .or(csat.map(|c| c >= 4))
        .or(ces.map(|c| c <= 3))
}
str_enum!(
    /// A follow-up's two clocks: time to first contact and time to resolution.
    Clock { Contact => "contact", Resolve => "resolve" }
);
str_enum!(
    /// Who an escalation step tells: the assignee (or, with none, the unit's members),
    /// the unit's lead, the parent unit.
    Step { Assignee => "assignee", Lead => "lead", Parent => "parent" }
);

impl Step {
    pub fn number(self) -> i64 {
        match self {
            Step::Assignee => 1,
            Step::Lead => 2,
            Step::Parent => 3,
        }
    }

    pub fn from_number(n: i64) -> Option<Step> {
        Step::ALL.iter().copied().find(|s| s.number() == n)
    }
}

/// When a clock's due time is: `target_hours` after the follow-up opened, plus the
/// time its clocks stood still while waiting for the customer.
pub fn due_at(
    opened: chrono::DateTime<chrono::Utc>,
    target_hours: i64,
    paused_seconds: i64,
) -> chrono::DateTime<chrono::Utc> {
    opened + chrono::Duration::hours(target_hours) + chrono::Duration::seconds(paused_seconds)
}

/// The escalation steps a missed clock has reached at `now`: none before its due
/// time, the assignee at it, the unit's lead one target period later, the parent unit
/// two periods later (a 24-hour target: at 24 h, 48 h and 72 h).
pub fn steps_reached(
    due: chrono::DateTime<chrono::Utc>,
    target_hours: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<Step> {
    let period = chrono::Duration::hours(target_hours.max(1));
    Step::ALL
        .iter()
        .copied()
        .filter(|s| now >= due + period * (s.number() as i32 - 1))
        .collect()
}

/// The root causes every workspace starts with (their names are in the locales:
/// `root-cause-<key>`).
pub const ROOT_CAUSES: &[&str] = &[
    "process",
    "it-system",
    "partner",
    "information",
    "policy",
    "staff-behaviour",
    "customer-expectation",
];

/// Why a capture marked "needs follow-up" opened one (stored as such; the pages say it
/// in the reader's language).
pub const CAPTURE_REASON: &str = "needs follow-up";

/// Hours in a year: the longest target a rule may set.
const MAX_HOURS: i64 = 8_760;
/// Words or options a rule may list.
const MAX_TERMS: usize = 20;
/// Characters of one word or option key.
const MAX_TERM: usize = 60;
/// Characters of a rule's name, a note, the action taken.
pub const MAX_NAME: usize = 200;
pub const MAX_NOTE: usize = 4_000;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpRuleInput {
    /// What people call the rule ("Detractors at the service desk").
    pub name: String,
    /// nps, csat, ces, option, words, capture or alert (a score alert raised within
    /// the scope opens one follow-up, for learning: there is no customer to contact).
    pub trigger: String,
    /// nps: open at this score or below (0–10); csat: at or below (1–5); ces: at or
    /// above (1–7).
    #[serde(default)]
    pub threshold: Option<i64>,
    /// option: the key of the survey question whose options are listed in `terms`.
    #[serde(default)]
    pub question: Option<String>,
    /// option: the option keys that open a follow-up; words: the words (any form —
    /// they are matched by stem, in Finnish, English and Swedish).
    #[serde(default)]
    pub terms: Option<Vec<String>>,
    /// workspace (default), survey, touchpoint, stage, journey, package or unit.
    #[serde(default)]
    pub scope: Option<String>,
    /// The id of the survey, touchpoint, stage, journey, package or unit of the scope.
    #[serde(default)]
    pub scope_id: Option<Id>,
    /// The unit that gets the follow-up when the encounter has no owning unit (no
    /// touchpoint, or a partner's touchpoint).
    #[serde(default)]
    pub unit_id: Option<Id>,
    /// Target for the first contact, hours (default 24).
    #[serde(default)]
    pub contact_hours: Option<i64>,
    /// Target for the resolution, hours (default 120), at least the contact target.
    #[serde(default)]
    pub resolve_hours: Option<i64>,
    /// Whether the rule opens follow-ups (default true).
    #[serde(default)]
    pub active: Option<bool>,
}

/// A validated follow-up rule.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FollowUpRuleData {
    pub name: String,
    pub trigger: Trigger,
    pub threshold: Option<i64>,
    pub question: Option<String>,
    pub terms: Vec<String>,
    pub scope: RuleScope,
    pub scope_id: Option<Id>,
    pub unit_id: Option<Id>,
    pub contact_hours: i64,
    pub resolve_hours: i64,
    pub active: bool,
}

impl crate::model::Parse for FollowUpRuleInput {
    type Data = FollowUpRuleData;
    fn parse(&self) -> Result<FollowUpRuleData, FieldErrors> {
        let mut e = FieldErrors::new();
        let name = self.name.trim();
        if name.is_empty() {
            e.add("name", Reason::new("empty"));
        } else if name.chars().count() > MAX_NAME {
            e.add("name", Reason::new("too-long").with("max", MAX_NAME));
        }
        let trigger = e.take("trigger", Trigger::parse(self.trigger.trim()));
        let range = match trigger {
            Some(Trigger::Nps) => Some((0, 10)),
            Some(Trigger::Csat) => Some((1, 5)),
            Some(Trigger::Ces) => Some((1, 7)),
            _ => None,
        };
        match (range, self.threshold) {
            (Some(_), None) => e.add("threshold", Reason::new("empty")),
            (Some((lo, hi)), Some(t)) if !(lo..=hi).contains(&t) => e.add(
                "threshold",
                Reason::new("score-range").with("min", lo).with("max", hi),
            ),
            (None, Some(_)) if trigger.is_some() => {
                e.add("threshold", Reason::new("options-not-used"))
            }
            _ => {}
        }
        let terms: Vec<String> = self
            .terms
            .iter()
            .flatten()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect();
        let question = self
            .question
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_owned);
        match trigger {
            Some(Trigger::Option | Trigger::Words) => {
                if terms.is_empty() {
                    e.add("terms", Reason::new("empty"));
                } else if terms.len() > MAX_TERMS {
                    e.add("terms", Reason::new("too-many").with("max", MAX_TERMS));
                } else if terms.iter().any(|t| t.chars().count() > MAX_TERM) {
                    e.add("terms", Reason::new("too-long").with("max", MAX_TERM));
                }
                if trigger == Some(Trigger::Option) && question.is_none() {
                    e.add("question", Reason::new("empty"));
                }
            }
            Some(_) if !terms.is_empty() => e.add("terms", Reason::new("options-not-used")),
            _ => {}
        }
        if question.is_some() && trigger.is_some() && trigger != Some(Trigger::Option) {
            e.add("question", Reason::new("options-not-used"));
        }
        let scope = match self.scope.as_deref().map(str::trim) {
            None | Some("") => Some(RuleScope::Workspace),
            Some(s) => e.take("scope", RuleScope::parse(s)),
        };
        match (scope, self.scope_id) {
            (Some(RuleScope::Workspace), Some(_)) => {
                e.add("scope_id", Reason::new("options-not-used"))
            }
            (Some(s), None) if s != RuleScope::Workspace => e.add("scope_id", Reason::new("empty")),
            (_, Some(id)) => positive_id(&mut e, "scope_id", id),
            _ => {}
        }
        if let Some(u) = self.unit_id {
            positive_id(&mut e, "unit_id", u);
        }
        let contact_hours = self.contact_hours.unwrap_or(24);
        let resolve_hours = self.resolve_hours.unwrap_or(120);
        for (f, h) in [
            ("contact_hours", contact_hours),
            ("resolve_hours", resolve_hours),
        ] {
            if !(1..=MAX_HOURS).contains(&h) {
                e.add(f, Reason::new("hours-range").with("max", MAX_HOURS));
            }
        }
        if resolve_hours < contact_hours && !e.0.contains_key("resolve_hours") {
            e.add("resolve_hours", Reason::new("resolve-after-contact"));
        }
        match (trigger, scope) {
            (Some(trigger), Some(scope)) if e.is_empty() => Ok(FollowUpRuleData {
                name: name.to_owned(),
                trigger,
                threshold: self.threshold,
                question,
                terms,
                scope,
                scope_id: self.scope_id,
                unit_id: self.unit_id,
                contact_hours,
                resolve_hours,
                active: self.active.unwrap_or(true),
            }),
            _ => Err(e),
        }
    }
}

/// What a rule is matched against: where an answer or capture happened and what it
/// said. Built by the application layer from the stored model.
#[derive(Debug, Clone, Default)]
pub struct Facts<'a> {
    pub survey_id: Option<Id>,
    pub touchpoint_id: Option<Id>,
    pub stage_id: Option<Id>,
    pub journey_id: Option<Id>,
    /// The unit owning the touchpoint.
    pub unit_id: Option<Id>,
    /// The service packages the encounter belongs to: the survey's package, the one
    /// holding the touchpoint's element, and those of the touchpoint's journey.
    pub package_ids: Vec<Id>,
    pub scores: Scores,
    /// A response's answers (None for a capture).
    pub answers: Option<&'a Answers>,
    /// A capture's words (None for a response).
    pub words: Option<&'a str>,
    /// The respondent's language, for stemming; empty when unknown (a capture): the
    /// words are then stemmed in Finnish, English and Swedish.
    pub lang: &'a str,
    /// A capture marked "needs follow-up".
    pub needs_follow_up: bool,
    /// A score alert: what it found ([`alert_reason`]).
    pub alert: Option<&'a str>,
}

/// Why a score alert opened a follow-up: the metric, the period's score with its
/// margin and sample, and the period ("NPS −12 ± 9 (n = 48), 2026-11-16 – 2026-11-22").
pub fn alert_reason(
    metric: &str,
    f: &crate::alerts::Finding,
    (from, to): (chrono::NaiveDate, chrono::NaiveDate),
) -> String {
    // Rounded first, so that −0.4 reads "0", not "−0".
    let value = format!("{}", f.value.round() + 0.0).replace('-', "−");
    format!(
        "{} {value} ± {:.0} (n = {}), {from} – {to}",
        metric.to_uppercase(),
        f.margin,
        f.n
    )
}

impl FollowUpRuleData {
    fn in_scope(&self, f: &Facts) -> bool {
        let at = match self.scope {
            RuleScope::Workspace => return true,
            RuleScope::Survey => f.survey_id,
            RuleScope::Touchpoint => f.touchpoint_id,
            RuleScope::Stage => f.stage_id,
            RuleScope::Journey => f.journey_id,
            RuleScope::Unit => f.unit_id,
            RuleScope::Package => {
                return self.scope_id.is_some_and(|p| f.package_ids.contains(&p));
            }
        };
        at.is_some() && at == self.scope_id
    }

    /// Why this rule opens a follow-up for these facts ("NPS 2 ≤ 6"), or None. An
    /// inactive rule opens nothing.
    pub fn matches(&self, f: &Facts) -> Option<String> {
        if !self.active || !self.in_scope(f) {
            return None;
        }
        let t = self.threshold.unwrap_or_default();
        match self.trigger {
            Trigger::Nps => f
                .scores
                .nps
                .filter(|s| *s <= t)
                .map(|s| format!("NPS {s} ≤ {t}")),
            Trigger::Csat => f
                .scores
                .csat
                .filter(|s| *s <= t)
                .map(|s| format!("CSAT {s} ≤ {t}")),
            Trigger::Ces => f
                .scores
                .ces
                .filter(|s| *s >= t)
                .map(|s| format!("CES {s} ≥ {t}")),
            Trigger::Option => {
                let q = self.question.as_deref()?;
                let chosen: Vec<&str> = match f.answers?.0.get(q)? {
                    Answer::Choice(c) => vec![c.as_str()],
                    Answer::Choices(cs) => cs.iter().map(String::as_str).collect(),
                    _ => vec![],
                };
                let hit = chosen
                    .into_iter()
                    .find(|c| self.terms.iter().any(|t| t == c))?;
                Some(format!("{q} = {hit}"))
            }
            Trigger::Words => {
                let texts: Vec<&str> = match (f.answers, f.words) {
                    (Some(a), _) => {
                        a.0.values()
                            // Read back from storage, free text and a single choice are
                            // both strings (see `Answers::from_json`): both are looked at.
                            .filter_map(|a| match a {
                                Answer::Text(t) | Answer::Choice(t) => Some(t.as_str()),
                                _ => None,
                            })
                            .collect()
                    }
                    (None, Some(w)) => vec![w],
                    (None, None) => vec![],
                };
                texts
                    .into_iter()
                    .find_map(|text| self.word_in(text, f.lang))
            }
            Trigger::Capture => f.needs_follow_up.then(|| CAPTURE_REASON.to_owned()),
            Trigger::Alert => f.alert.map(str::to_owned),
        }
    }

    /// The first listed word found in `text` (by stem, in the text's language; a
    /// listed word is stemmed in every language it might be written in). See
    /// [`same_word`].
    fn word_in(&self, text: &str, lang: &str) -> Option<String> {
        let a = SnowballAnalyzer;
        let langs: &[&str] = if lang.is_empty() {
            &["fi", "en", "sv"]
        } else {
            &[lang]
        };
        let stems: Vec<String> = langs
            .iter()
            .flat_map(|l| a.terms(text, l))
            .filter(|(k, _)| !k.contains(' '))
            .map(|(k, _)| k)
            .collect();
        self.terms.iter().find_map(|term| {
            ["fi", "en", "sv"]
                .iter()
                .flat_map(|l| a.terms(term, l))
                .filter(|(k, _)| !k.contains(' '))
                .any(|(k, _)| stems.iter().any(|s| same_word(s, &k)))
                .then(|| format!("“{term}”"))
        })
    }
}

/// Whether two stems are forms of one word: equal, or sharing all but the last two
/// letters of the shorter one and at least five. Snowball's Finnish stemmer leaves
/// consonant gradation alone (*hyvitys*, *hyvitystä* → "hyvity", *hyvityksen* →
/// "hyvityks"), which the shared beginning catches; five letters keep *refund* and
/// *refuse* apart.
pub fn same_word(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let shorter = a.chars().count().min(b.chars().count());
    let common = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    common >= 5.max(shorter.saturating_sub(2))
}

/// A follow-up's state as far as the status machine cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State {
    pub status: Status,
    /// Whether the customer was contacted at some point (a reopened follow-up goes
    /// back to *contacted* rather than *new*).
    pub contacted: bool,
    /// Whether its clocks stand still, waiting for the customer.
    pub waiting: bool,
    /// Whether the customer allowed being contacted about their answer: without it a
    /// follow-up is for learning only (no contact step, no waiting for the customer).
    pub may_contact: bool,
}

/// Where `action` takes a follow-up in `state`, or why it cannot. Contacting and
/// waiting for the customer need the customer's consent. Assigning and
/// notes leave the status as it is; contacting is for a new one; waiting for the
/// customer for an open one not already waiting, resuming for one that is (contacting,
/// resolving and closing also end a wait); resolving for an open one; closing for any
/// not closed (closing needs a root cause and the action taken, which the caller checks
/// with [`check_close`]); reopening for a resolved or closed one. Escalating is the
/// clock job's, never a person's.
pub fn next(state: State, action: Action) -> Result<Status, Reason> {
    use Status::*;
    if matches!(action, Action::Contact | Action::Wait) && !state.may_contact {
        return Err(Reason::new("no-consent"));
    }
    let to = match (action, state.status) {
        (Action::Assign | Action::Note, s) => Some(s),
        (Action::Wait, s @ (New | Contacted)) if !state.waiting => Some(s),
        (Action::Resume, s) if state.waiting => Some(s),
        (Action::Contact, New) => Some(Contacted),
        (Action::Resolve, New | Contacted) => Some(Resolved),
        (Action::Close, New | Contacted | Resolved) => Some(Closed),
        (Action::Reopen, Resolved | Closed) => Some(if state.contacted { Contacted } else { New }),
        _ => None,
    };
    to.ok_or_else(|| {
        Reason::new("bad-transition")
            .with("action", action.as_str())
            .with("status", state.status.as_str())
    })
}

/// Closing needs a root cause from `causes` and the action taken.
pub fn check_close(
    root_cause: Option<&str>,
    action_taken: Option<&str>,
    causes: &[&str],
) -> Result<(), FieldErrors> {
    let mut e = FieldErrors::new();
    match root_cause.map(str::trim).filter(|c| !c.is_empty()) {
        None => e.add("root_cause", Reason::new("empty")),
        Some(c) if !causes.contains(&c) => e.add(
            "root_cause",
            Reason::new("not-one-of")
                .with("value", c)
                .with("options", causes.join(", ")),
        ),
        _ => {}
    }
    match action_taken.map(str::trim).filter(|a| !a.is_empty()) {
        None => e.add("action_taken", Reason::new("empty")),
        Some(a) if a.chars().count() > MAX_NOTE => e.add(
            "action_taken",
            Reason::new("too-long").with("max", MAX_NOTE),
        ),
        _ => {}
    }
    if e.is_empty() {
        Ok(())
    } else {
        Err(e)
    }
}

/// One closed follow-up as the outer loop counts it.
#[derive(Debug, Clone, Default)]
pub struct ClosedRow {
    pub unit_id: Option<Id>,
    pub touchpoint_id: Option<Id>,
    pub journey_id: Option<Id>,
    pub root_cause: Option<String>,
    /// The month it closed, `YYYY-MM`.
    pub month: String,
    /// First contact within its target: None where the customer did not allow contact.
    pub contact_met: Option<bool>,
    /// Resolved (or closed, when never marked resolved) within its target.
    pub resolve_met: bool,
    /// Whether the customer recovered: their recovery answer (4–5), else their next
    /// score at any touchpoint ([`recovered_by_score`]); None when neither is known.
    pub recovered: Option<bool>,
}

/// A share: how many of how many.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Rate {
    pub hits: i64,
    pub of: i64,
}

impl Rate {
    fn add(&mut self, hit: Option<bool>) {
        if let Some(h) = hit {
            self.of += 1;
            self.hits += h as i64;
        }
    }
    /// Percent, none of none counted.
    pub fn percent(&self) -> Option<f64> {
        (self.of > 0).then(|| 100.0 * self.hits as f64 / self.of as f64)
    }
}

/// The outer loop's figures for a group of closed follow-ups.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct Outcome {
    pub closed: i64,
    /// First contact within target (consenting customers only).
    pub contact_sla: Rate,
    /// Resolution within target.
    pub resolve_sla: Rate,
    /// Customers who recovered, of those whose recovery is known.
    pub recovery: Rate,
    /// Root causes, most frequent first.
    pub causes: Vec<CauseCount>,
}

/// A root cause and how many follow-ups closed with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CauseCount {
    pub cause: String,
    pub n: i64,
}

impl Outcome {
    fn add(&mut self, r: &ClosedRow) {
        self.closed += 1;
        self.contact_sla.add(r.contact_met);
        self.resolve_sla.add(Some(r.resolve_met));
        self.recovery.add(r.recovered);
        if let Some(c) = &r.root_cause {
            match self.causes.iter_mut().find(|k| &k.cause == c) {
                Some(k) => k.n += 1,
                None => self.causes.push(CauseCount {
                    cause: c.clone(),
                    n: 1,
                }),
            }
        }
    }
    fn finish(&mut self) {
        self.causes
            .sort_by(|a, b| b.n.cmp(&a.n).then(a.cause.cmp(&b.cause)));
    }
}

/// A group's key and figures.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Keyed<K> {
    pub key: K,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// The outer loop over a period's closed follow-ups: overall, and per unit,
/// touchpoint, journey, root cause and month (groups in key order; None: no unit,
/// no touchpoint …).
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct Outcomes {
    pub all: Outcome,
    pub by_unit: Vec<Keyed<Option<Id>>>,
    pub by_touchpoint: Vec<Keyed<Option<Id>>>,
    pub by_journey: Vec<Keyed<Option<Id>>>,
    pub by_root_cause: Vec<Keyed<Option<String>>>,
    pub by_month: Vec<Keyed<String>>,
}

/// Counts the outer loop's figures (pure: the application layer gathers the rows).
pub fn outcomes(rows: &[ClosedRow]) -> Outcomes {
    use std::collections::BTreeMap;
    fn group<K: Ord + Clone>(rows: &[ClosedRow], key: impl Fn(&ClosedRow) -> K) -> Vec<Keyed<K>> {
        let mut m: BTreeMap<K, Outcome> = BTreeMap::new();
        for r in rows {
            m.entry(key(r)).or_default().add(r);
        }
        m.into_iter()
            .map(|(key, mut outcome)| {
                outcome.finish();
                Keyed { key, outcome }
            })
            .collect()
    }
    let mut all = Outcome::default();
    for r in rows {
        all.add(r);
    }
    all.finish();
    Outcomes {
        all,
        by_unit: group(rows, |r| r.unit_id),
        by_touchpoint: group(rows, |r| r.touchpoint_id),
        by_journey: group(rows, |r| r.journey_id),
        by_root_cause: group(rows, |r| r.root_cause.clone()),
        by_month: group(rows, |r| r.month.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Parse;

    fn rule(trigger: &str) -> FollowUpRuleInput {
        FollowUpRuleInput {
            name: "r".into(),
            trigger: trigger.into(),
            threshold: None,
            question: None,
            terms: None,
            scope: None,
            scope_id: None,
            unit_id: None,
            contact_hours: None,
            resolve_hours: None,
            active: None,
        }
    }

    #[test]
    fn parse_names_every_bad_field() {
        let e = FollowUpRuleInput {
            name: " ".into(),
            scope: Some("town".into()),
            contact_hours: Some(0),
            ..rule("mood")
        }
        .parse()
        .unwrap_err();
        let fields: Vec<&str> = e.0.keys().map(String::as_str).collect();
        assert_eq!(fields, ["contact_hours", "name", "scope", "trigger"]);
        let e = rule("nps").parse().unwrap_err();
        assert!(e.0.contains_key("threshold"));
        let e = FollowUpRuleInput {
            threshold: Some(11),
            ..rule("nps")
        }
        .parse()
        .unwrap_err();
        assert_eq!(e.0["threshold"].code, "score-range");
        let e = rule("option").parse().unwrap_err();
        assert!(e.0.contains_key("terms") && e.0.contains_key("question"));
        let e = FollowUpRuleInput {
            scope: Some("touchpoint".into()),
            threshold: Some(6),
            contact_hours: Some(48),
            resolve_hours: Some(24),
            ..rule("nps")
        }
        .parse()
        .unwrap_err();
        assert!(e.0.contains_key("scope_id") && e.0.contains_key("resolve_hours"));
        let ok = FollowUpRuleInput {
            threshold: Some(6),
            ..rule("nps")
        }
        .parse()
        .unwrap();
        assert_eq!(
            (ok.scope, ok.contact_hours, ok.resolve_hours, ok.active),
            (RuleScope::Workspace, 24, 120, true)
        );
    }

    fn answers(v: serde_json::Value) -> Answers {
        Answers(serde_json::from_value(v).unwrap())
    }

    #[test]
    fn scores_open_at_the_threshold_and_past_it_only() {
        let r = FollowUpRuleInput {
            threshold: Some(6),
            ..rule("nps")
        }
        .parse()
        .unwrap();
        let f = |nps| Facts {
            scores: Scores {
                nps: Some(nps),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(r.matches(&f(6)).as_deref(), Some("NPS 6 ≤ 6"));
        assert!(r.matches(&f(0)).is_some());
        assert_eq!(r.matches(&f(7)), None);
        assert_eq!(r.matches(&Facts::default()), None, "no NPS answer");
        let ces = FollowUpRuleInput {
            threshold: Some(5),
            ..rule("ces")
        }
        .parse()
        .unwrap();
        let high = Facts {
            scores: Scores {
                ces: Some(6),
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(ces.matches(&high).is_some());
        let inactive = FollowUpRuleData {
            active: false,
            ..r.clone()
        };
        assert_eq!(inactive.matches(&f(0)), None);
    }

    #[test]
    fn scope_limits_where_a_rule_opens() {
        let r = FollowUpRuleInput {
            threshold: Some(6),
            scope: Some("touchpoint".into()),
            scope_id: Some(7),
            ..rule("nps")
        }
        .parse()
        .unwrap();
        let at = |tp| Facts {
            touchpoint_id: tp,
            scores: Scores {
                nps: Some(1),
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(r.matches(&at(Some(7))).is_some());
        assert_eq!(r.matches(&at(Some(8))), None);
        assert_eq!(r.matches(&at(None)), None);
        // A service package: any encounter that belongs to it.
        let p = FollowUpRuleInput {
            threshold: Some(6),
            scope: Some("package".into()),
            scope_id: Some(3),
            ..rule("nps")
        }
        .parse()
        .unwrap();
        let low = |packages: Vec<Id>| Facts {
            package_ids: packages,
            scores: Scores {
                nps: Some(2),
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(p.matches(&low(vec![1, 3])).is_some());
        assert_eq!(p.matches(&low(vec![1])), None);
        assert_eq!(p.matches(&low(vec![])), None);
    }

    #[test]
    fn an_alert_rule_opens_on_alerts_only() {
        let r = FollowUpRuleInput {
            scope: Some("journey".into()),
            scope_id: Some(4),
            ..rule("alert")
        }
        .parse()
        .unwrap();
        let finding = crate::alerts::Finding {
            value: -37.5,
            margin: 9.2,
            n: 40,
            previous: None,
        };
        let d = |day| chrono::NaiveDate::from_ymd_opt(2026, 11, day).unwrap();
        let why = alert_reason("nps", &finding, (d(16), d(22)));
        assert_eq!(why, "NPS −38 ± 9 (n = 40), 2026-11-16 – 2026-11-22");
        let near_zero = crate::alerts::Finding {
            value: -0.4,
            ..finding
        };
        assert!(alert_reason("csat", &near_zero, (d(16), d(22))).starts_with("CSAT 0 ± 9"));
        let alert = |journey| Facts {
            journey_id: journey,
            alert: Some(why.as_str()),
            ..Default::default()
        };
        assert_eq!(r.matches(&alert(Some(4))), Some(why.clone()));
        assert_eq!(r.matches(&alert(Some(5))), None, "another journey's alert");
        // A poor answer is not an alert; an alert is not an answer.
        let answer = Facts {
            journey_id: Some(4),
            scores: Scores {
                nps: Some(0),
                ..Default::default()
            },
            needs_follow_up: true,
            ..Default::default()
        };
        assert_eq!(r.matches(&answer), None);
        let nps = FollowUpRuleInput {
            threshold: Some(6),
            ..rule("nps")
        }
        .parse()
        .unwrap();
        assert_eq!(nps.matches(&alert(Some(4))), None);
        // An alert rule takes no threshold, question or terms.
        let e = FollowUpRuleInput {
            threshold: Some(3),
            terms: Some(vec!["late".into()]),
            ..rule("alert")
        }
        .parse()
        .unwrap_err();
        assert!(
            e.0.contains_key("threshold") && e.0.contains_key("terms"),
            "{e:?}"
        );
    }

    #[test]
    fn options_and_words_by_stem_in_each_language() {
        let opt = FollowUpRuleInput {
            question: Some("why".into()),
            terms: Some(vec!["late".into(), "rude".into()]),
            ..rule("option")
        }
        .parse()
        .unwrap();
        let a = answers(serde_json::json!({"why": ["price", "rude"]}));
        let f = Facts {
            answers: Some(&a),
            ..Default::default()
        };
        assert_eq!(opt.matches(&f).as_deref(), Some("why = rude"));
        let a = answers(serde_json::json!({"why": "price"}));
        let f = Facts {
            answers: Some(&a),
            ..Default::default()
        };
        assert_eq!(opt.matches(&f), None);

        let words = FollowUpRuleInput {
            terms: Some(vec!["hyvitys".into(), "refund".into()]),
            ..rule("words")
        }
        .parse()
        .unwrap();
        // Another form of the word, in Finnish.
        let a = answers(serde_json::json!({"open": "Hyvitystä ei ole kuulunut kuuteen viikkoon"}));
        let fi = Facts {
            answers: Some(&a),
            lang: "fi",
            ..Default::default()
        };
        assert_eq!(words.matches(&fi).as_deref(), Some("“hyvitys”"));
        let a = answers(serde_json::json!({"open": "Still waiting for my refunds"}));
        let en = Facts {
            answers: Some(&a),
            lang: "en",
            ..Default::default()
        };
        assert_eq!(words.matches(&en).as_deref(), Some("“refund”"));
        let a = answers(serde_json::json!({"open": "Kiitos, hyvä palvelu"}));
        let none = Facts {
            answers: Some(&a),
            lang: "fi",
            ..Default::default()
        };
        assert_eq!(words.matches(&none), None);
        // A capture's words count too.
        let cap = Facts {
            words: Some("asiakas odottaa hyvitystä"),
            lang: "fi",
            ..Default::default()
        };
        assert!(words.matches(&cap).is_some());
        let a = answers(serde_json::json!({"open": "Odotan yhä hyvityksen käsittelyä"}));
        let gradation = Facts {
            answers: Some(&a),
            lang: "fi",
            ..Default::default()
        };
        assert!(words.matches(&gradation).is_some());
        assert!(same_word("myöhä", "myöhästyi"));
        assert!(!same_word("refund", "refuse"));
        assert!(!same_word("palv", "palk"));
    }

    #[test]
    fn the_status_machine_and_what_closing_needs() {
        let s = |status, contacted| State {
            status,
            contacted,
            waiting: false,
            may_contact: true,
        };
        assert_eq!(
            next(s(Status::New, false), Action::Contact),
            Ok(Status::Contacted)
        );
        assert_eq!(
            next(s(Status::Contacted, true), Action::Resolve),
            Ok(Status::Resolved)
        );
        assert_eq!(
            next(s(Status::Resolved, true), Action::Close),
            Ok(Status::Closed)
        );
        assert_eq!(
            next(s(Status::Closed, true), Action::Reopen),
            Ok(Status::Contacted)
        );
        assert_eq!(
            next(s(Status::Resolved, false), Action::Reopen),
            Ok(Status::New)
        );
        assert_eq!(
            next(s(Status::Closed, true), Action::Note),
            Ok(Status::Closed)
        );
        let e = next(s(Status::Closed, true), Action::Contact).unwrap_err();
        assert_eq!(e.code, "bad-transition");
        assert!(next(s(Status::New, false), Action::Reopen).is_err());
        assert!(next(s(Status::Closed, false), Action::Close).is_err());
        let e = check_close(None, Some(" "), ROOT_CAUSES).unwrap_err();
        assert!(e.0.contains_key("root_cause") && e.0.contains_key("action_taken"));
        let e = check_close(Some("weather"), Some("called"), ROOT_CAUSES).unwrap_err();
        assert_eq!(e.0["root_cause"].code, "not-one-of");
        assert!(check_close(Some("process"), Some("refund paid"), ROOT_CAUSES).is_ok());
        // Waiting for the customer: once, then resumed; not on a resolved one.
        assert_eq!(
            next(s(Status::Contacted, true), Action::Wait),
            Ok(Status::Contacted)
        );
        let waiting = State {
            status: Status::New,
            contacted: false,
            waiting: true,
            may_contact: true,
        };
        assert!(next(waiting, Action::Wait).is_err());
        assert_eq!(next(waiting, Action::Resume), Ok(Status::New));
        assert_eq!(next(waiting, Action::Contact), Ok(Status::Contacted));
        assert!(next(s(Status::New, false), Action::Resume).is_err());
        assert!(next(s(Status::Resolved, true), Action::Wait).is_err());
        assert!(next(s(Status::New, false), Action::Escalate).is_err());
        // Without consent: learning only — no contact, no waiting; resolving and
        // closing as usual.
        let internal = State {
            may_contact: false,
            ..s(Status::New, false)
        };
        assert_eq!(
            next(internal, Action::Contact).unwrap_err().code,
            "no-consent"
        );
        assert_eq!(next(internal, Action::Wait).unwrap_err().code, "no-consent");
        assert_eq!(next(internal, Action::Resolve), Ok(Status::Resolved));
    }

    #[test]
    fn clocks_and_escalation_steps() {
        let t = |h: i64| {
            chrono::DateTime::parse_from_rfc3339("2026-03-02T08:00:00Z")
                .unwrap()
                .with_timezone(&chrono::Utc)
                + chrono::Duration::hours(h)
        };
        // Opened at t(0), 24 h target, 3 h spent waiting: due at 27 h.
        let due = due_at(t(0), 24, 3 * 3600);
        assert_eq!(due, t(27));
        assert!(steps_reached(due, 24, t(26)).is_empty());
        assert_eq!(steps_reached(due, 24, t(27)), vec![Step::Assignee]);
        assert_eq!(steps_reached(due, 24, t(50)), vec![Step::Assignee]);
        assert_eq!(
            steps_reached(due, 24, t(51)),
            vec![Step::Assignee, Step::Lead]
        );
        assert_eq!(steps_reached(due, 24, t(75)), Step::ALL.to_vec());
        assert_eq!(Step::from_number(2), Some(Step::Lead));
        assert_eq!(Step::from_number(4), None);
    }

    #[test]
    fn the_outer_loop_counts_sla_recovery_and_causes() {
        let row = |unit, cause: &str, contact, resolve, recovered| ClosedRow {
            unit_id: Some(unit),
            touchpoint_id: Some(10 + unit),
            root_cause: Some(cause.into()),
            month: "2026-03".into(),
            contact_met: contact,
            resolve_met: resolve,
            recovered,
            ..Default::default()
        };
        let rows = [
            row(1, "process", Some(true), true, Some(true)),
            row(1, "process", Some(false), false, Some(false)),
            row(1, "it-system", None, true, None),
            row(2, "policy", Some(true), true, Some(true)),
        ];
        let o = outcomes(&rows);
        assert_eq!(o.all.closed, 4);
        assert_eq!(
            o.all.contact_sla,
            Rate { hits: 2, of: 3 },
            "learning-only ones have no contact target"
        );
        assert_eq!(o.all.resolve_sla, Rate { hits: 3, of: 4 });
        assert_eq!(o.all.recovery, Rate { hits: 2, of: 3 });
        assert_eq!(
            (o.all.causes[0].cause.as_str(), o.all.causes[0].n),
            ("process", 2)
        );
        let unit1 = &o.by_unit[0];
        assert_eq!((unit1.key, unit1.outcome.closed), (Some(1), 3));
        assert_eq!(unit1.outcome.recovery.percent(), Some(50.0));
        assert_eq!(o.by_root_cause.len(), 3);
        assert_eq!(Rate::default().percent(), None);
        assert_eq!(recovered_by_score(Some(7), None, None), Some(true));
        assert_eq!(
            recovered_by_score(None, Some(3), Some(2)),
            Some(false),
            "CSAT before CES"
        );
        assert_eq!(recovered_by_score(None, None, Some(3)), Some(true));
        assert_eq!(recovered_by_score(None, None, None), None);
    }
}
