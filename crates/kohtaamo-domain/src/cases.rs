//! Cases: a customer's matter (a claim, a booking change, a complaint, a delayed bag)
//! that back-office systems and staff move through internal statuses, and that the
//! customer follows on a status page in **steps** — per journey, the plain-language
//! stages a customer sees, each covering one or more internal statuses.
//!
//! Pure: the case reference a customer can read aloud, parsing step definitions, cases
//! and status changes, and the customer's view of where a case stands
//! ([`progress`]). Storage keeps cases, their changes and links; the application
//! layer checks a status against the journey's steps and records each change as an
//! encounter in the customer's timeline.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::encounters::{ClientId, Identifier};
use crate::text::{Lang, Slug, Texts};
use crate::{FieldErrors, Id, Reason};

/// The characters of a case reference: no two that are easily confused when read
/// aloud or written by hand (no 0/O/D/Q, 1/I/L, 2/Z, 5/S, 6/G, 8/B).
pub const REFERENCE_ALPHABET: &[u8] = b"ACEFHJKMNPRTUVWXY3479";
/// Characters of a reference (shown as two groups of four: `K7MP-4XRT`).
pub const REFERENCE_LEN: usize = 8;
/// Most steps per journey, internal statuses per step, characters of a status.
pub const MAX_STEPS: usize = 20;
pub const MAX_STATUSES: usize = 50;
pub const MAX_STATUS: usize = 64;
/// Characters of a case's title, what is asked of the customer, a note to them.
pub const MAX_TITLE: usize = 200;
pub const MAX_ASK: usize = 500;
pub const MAX_NOTE: usize = 2_000;
/// Longest expected duration of a step, in days.
pub const MAX_DAYS: i64 = 365;

/// A new reference: `pick(n)` returns a random number below `n` (the caller's
/// random source), once per character. Shown with a dash after the fourth.
pub fn new_reference(mut pick: impl FnMut(usize) -> usize) -> String {
    let n = REFERENCE_ALPHABET.len();
    (0..REFERENCE_LEN)
        .map(|_| REFERENCE_ALPHABET[pick(n) % n] as char)
        .collect()
}

/// A reference as a customer may type it (any case, spaces or dashes anywhere) in
/// its stored form, or why it cannot be one.
pub fn normalise_reference(s: &str) -> Result<String, Reason> {
    let r: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if r.len() == REFERENCE_LEN && r.bytes().all(|b| REFERENCE_ALPHABET.contains(&b)) {
        Ok(r)
    } else {
        Err(Reason::new("bad-case-reference"))
    }
}

/// A stored reference as people read it: `K7MP-4XRT`.
pub fn shown_reference(r: &str) -> String {
    if r.len() == REFERENCE_LEN && r.is_ascii() {
        format!("{}-{}", &r[..4], &r[4..])
    } else {
        r.to_owned()
    }
}

/// One customer-facing step as an editor writes it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepInput {
    /// A short key (lowercase letters, digits, dashes), unique within the journey.
    pub key: String,
    /// What the customer calls the step ("We are looking for your bag"), per language.
    pub name: BTreeMap<String, String>,
    /// What it means for the customer, per language.
    #[serde(default)]
    pub meaning: BTreeMap<String, String>,
    /// What happens next, per language.
    #[serde(default)]
    pub next: BTreeMap<String, String>,
    /// How long the step is expected to take, in days (1–365; none: not promised).
    #[serde(default)]
    pub expected_days: Option<i64>,
    /// The internal statuses this step covers (at least one; each status belongs to one
    /// step of the journey).
    pub statuses: Vec<String>,
}

/// A journey's steps as an editor sends them, in order; the last one means the case
/// is done.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepsInput {
    pub steps: Vec<StepInput>,
}

/// A validated step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Step {
    #[schema(value_type = String)]
    pub key: Slug,
    pub name: Texts,
    pub meaning: Texts,
    pub next: Texts,
    pub expected_days: Option<i64>,
    pub statuses: Vec<String>,
}

/// An internal status as given: trimmed, 1–64 characters, no control characters.
pub fn parse_status(s: &str) -> Result<String, Reason> {
    let t = s.trim();
    if t.is_empty() {
        Err(Reason::new("empty"))
    } else if t.chars().count() > MAX_STATUS {
        Err(Reason::new("too-long").with("max", MAX_STATUS))
    } else if t.chars().any(char::is_control) {
        Err(Reason::new("control-characters"))
    } else {
        Ok(t.to_owned())
    }
}

impl StepsInput {
    /// Every bad field named `steps[i].field`.
    pub fn parse(&self) -> Result<Vec<Step>, FieldErrors> {
        let mut e = FieldErrors::new();
        if self.steps.is_empty() {
            e.add("steps", Reason::new("empty"));
        } else if self.steps.len() > MAX_STEPS {
            e.add("steps", Reason::new("too-many").with("max", MAX_STEPS));
        }
        let mut keys = BTreeSet::new();
        let mut statuses = BTreeSet::new();
        let mut out = vec![];
        for (i, s) in self.steps.iter().enumerate().take(MAX_STEPS) {
            let f = |name: &str| format!("steps[{i}].{name}");
            let key = e.take(&f("key"), Slug::parse(s.key.trim()));
            if let Some(k) = &key {
                if !keys.insert(k.clone()) {
                    e.add(f("key"), Reason::new("listed-twice"));
                }
            }
            let name = e.take(&f("name"), Texts::name(&s.name));
            let meaning = e.take(&f("meaning"), Texts::text(&s.meaning));
            let next = e.take(&f("next"), Texts::text(&s.next));
            if let Some(d) = s.expected_days {
                if !(1..=MAX_DAYS).contains(&d) {
                    e.add(
                        f("expected_days"),
                        Reason::new("score-range")
                            .with("min", 1)
                            .with("max", MAX_DAYS),
                    );
                }
            }
            let mut own = vec![];
            if s.statuses.is_empty() {
                e.add(f("statuses"), Reason::new("empty"));
            } else if s.statuses.len() > MAX_STATUSES {
                e.add(
                    f("statuses"),
                    Reason::new("too-many").with("max", MAX_STATUSES),
                );
            }
            for st in s.statuses.iter().take(MAX_STATUSES) {
                match parse_status(st) {
                    Ok(st) if !statuses.insert(st.clone()) => e.add(
                        f("statuses"),
                        Reason::new("status-in-two-steps").with("value", st),
                    ),
                    Ok(st) => own.push(st),
                    Err(r) => e.add(f("statuses"), r),
                }
            }
            if let (Some(key), Some(name), Some(meaning), Some(next)) = (key, name, meaning, next) {
                out.push(Step {
                    key,
                    name,
                    meaning,
                    next,
                    expected_days: s.expected_days,
                    statuses: own,
                });
            }
        }
        if e.is_empty() {
            Ok(out)
        } else {
            Err(e)
        }
    }
}

/// The step (index) a status belongs to, or why it belongs to none.
pub fn step_of(steps: &[Step], status: &str) -> Result<usize, Reason> {
    steps
        .iter()
        .position(|s| s.statuses.iter().any(|x| x == status))
        .ok_or_else(|| {
            let known: Vec<&str> = steps
                .iter()
                .flat_map(|s| s.statuses.iter().map(String::as_str))
                .collect();
            Reason::new("unknown-status")
                .with("value", status)
                .with("options", known.join(", "))
        })
}

/// A time given with a case or a change: RFC 3339 with an offset, not in the future
/// (a clock up to ten minutes fast is tolerated); none: now.
pub fn parse_at(s: Option<&str>, now: DateTime<Utc>) -> Result<DateTime<Utc>, Reason> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(now),
        Some(s) => crate::encounters::parse_time(s, now),
    }
}

/// Optional free text of at most `max` characters (trimmed; empty is none).
fn text(e: &mut FieldErrors, field: &str, v: Option<&str>, max: usize) -> Option<String> {
    let t = v.map(str::trim).filter(|t| !t.is_empty())?;
    if t.chars().count() > max {
        e.add(field, Reason::new("too-long").with("max", max));
        None
    } else {
        Some(t.to_owned())
    }
}

/// A new case, as a back-office system or a staff member sends it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseInput {
    /// The sender's id for the case (1–128 characters): a retry with the same id
    /// creates nothing twice.
    pub id: String,
    /// The journey the case follows (its steps are what the customer sees).
    pub journey_id: Id,
    /// The internal status it starts in (one of the journey's steps' statuses).
    pub status: String,
    /// When it was opened, RFC 3339 (default: now).
    #[serde(default)]
    pub at: Option<String>,
    /// The customer: `kind:value` (`crm:12345`, `email:…` is stored as a pseudonym).
    #[serde(default)]
    pub customer: Option<String>,
    /// The unit that handles it (replies from the customer go to it).
    #[serde(default)]
    pub unit_id: Option<Id>,
    /// The customer's language: fi, en or sv (default: the workspace's).
    #[serde(default)]
    pub language: Option<String>,
    /// What the case is about, in the customer's words ("Bag delayed on HEL–OUL").
    #[serde(default)]
    pub title: Option<String>,
    /// Something needed from the customer ("the receipt"), and by when (YYYY-MM-DD).
    #[serde(default)]
    pub ask: Option<String>,
    #[serde(default)]
    pub ask_due: Option<String>,
    /// A second factor the customer can look the case up with beside its reference
    /// (the organisation chooses: a postcode, a surname; at most 100 characters). Only a
    /// keyed hash of it is stored; case, spaces and dashes do not matter.
    #[serde(default)]
    pub verifier: Option<String>,
    /// An e-mail address the customer gave, with their consent, for a message each
    /// time the case moves to another step (the sender vouches for the consent). Every
    /// message carries a link to the status page and one to unsubscribe.
    #[serde(default)]
    pub notify_email: Option<String>,
}

/// A validated new case (the status is checked against the journey's steps by the
/// application layer).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseDraft {
    pub client_id: ClientId,
    pub journey_id: Id,
    pub status: String,
    pub at: DateTime<Utc>,
    pub customer: Option<Identifier>,
    pub unit_id: Option<Id>,
    pub language: Option<Lang>,
    pub title: Option<String>,
    pub ask: Option<String>,
    pub ask_due: Option<NaiveDate>,
    /// Normalised ([`normalise_verifier`]).
    pub verifier: Option<String>,
    pub notify_email: Option<crate::model::Email>,
}

/// Characters of a second factor.
pub const MAX_VERIFIER: usize = 100;

/// A second factor as compared: lower case, without spaces and dashes.
pub fn normalise_verifier(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}
/// The languages a customer's page is shown in.
pub const CASE_LANGUAGES: [&str; 3] = ["fi", "en", "sv"];

fn ask_due(e: &mut FieldErrors, v: Option<&str>, ask: &Option<String>) -> Option<NaiveDate> {
    let d = v.map(str::trim).filter(|s| !s.is_empty())?;
    let d = e.take("ask_due", crate::rules::parse_day(d))?;
    if ask.is_none() {
        e.add("ask_due", Reason::new("due-without-ask"));
    }
    Some(d)
}

impl CaseInput {
    pub fn parse(&self, now: DateTime<Utc>) -> Result<CaseDraft, FieldErrors> {
        let mut e = FieldErrors::new();
        let client_id = e.take("id", ClientId::parse(&self.id));
        crate::model::positive_id(&mut e, "journey_id", self.journey_id);
        let status = e.take("status", parse_status(&self.status));
        let at = e.take("at", parse_at(self.at.as_deref(), now));
        let customer = self
            .customer
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .and_then(|c| e.take("customer", Identifier::parse(c)));
        if let Some(u) = self.unit_id {
            crate::model::positive_id(&mut e, "unit_id", u);
        }
        let language = match self.language.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(l) if CASE_LANGUAGES.contains(&l) => Lang::parse(l).ok(),
            Some(l) => {
                e.add(
                    "language",
                    Reason::new("not-one-of")
                        .with("value", l)
                        .with("options", CASE_LANGUAGES.join(", ")),
                );
                None
            }
        };
        let title = text(&mut e, "title", self.title.as_deref(), MAX_TITLE);
        let ask = text(&mut e, "ask", self.ask.as_deref(), MAX_ASK);
        let ask_due = ask_due(&mut e, self.ask_due.as_deref(), &ask);
        let verifier = text(&mut e, "verifier", self.verifier.as_deref(), MAX_VERIFIER)
            .map(|v| normalise_verifier(&v))
            .filter(|v| !v.is_empty());
        let notify_email = self
            .notify_email
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .and_then(|m| e.take("notify_email", crate::model::Email::parse(m)));
        match (client_id, status, at) {
            (Some(client_id), Some(status), Some(at)) if e.is_empty() => Ok(CaseDraft {
                notify_email,
                client_id,
                journey_id: self.journey_id,
                status,
                at,
                customer,
                unit_id: self.unit_id,
                language,
                title,
                ask,
                ask_due,
                verifier,
            }),
            _ => Err(e),
        }
    }
}

/// A status change, as a back-office system or a staff member sends it. The same
/// status at the same time again is a retry: nothing changes twice.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusInput {
    /// The new internal status (one of the journey's steps' statuses).
    pub status: String,
    /// When the change happened, RFC 3339 (default: now). A change older than the
    /// case's current status is kept in the history without moving the case back.
    #[serde(default)]
    pub at: Option<String>,
    /// A few words to the customer, shown with the step in their history.
    #[serde(default)]
    pub note: Option<String>,
    /// Something needed from the customer now, and by when (YYYY-MM-DD); a change
    /// without `ask` clears what was asked before.
    #[serde(default)]
    pub ask: Option<String>,
    #[serde(default)]
    pub ask_due: Option<String>,
}

/// A validated status change.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusDraft {
    pub status: String,
    pub at: DateTime<Utc>,
    pub note: Option<String>,
    pub ask: Option<String>,
    pub ask_due: Option<NaiveDate>,
}

impl StatusInput {
    pub fn parse(&self, now: DateTime<Utc>) -> Result<StatusDraft, FieldErrors> {
        let mut e = FieldErrors::new();
        let status = e.take("status", parse_status(&self.status));
        let at = e.take("at", parse_at(self.at.as_deref(), now));
        let note = text(&mut e, "note", self.note.as_deref(), MAX_NOTE);
        let ask = text(&mut e, "ask", self.ask.as_deref(), MAX_ASK);
        let ask_due = ask_due(&mut e, self.ask_due.as_deref(), &ask);
        match (status, at) {
            (Some(status), Some(at)) if e.is_empty() => Ok(StatusDraft {
                status,
                at,
                note,
                ask,
                ask_due,
            }),
            _ => Err(e),
        }
    }
}

/// One step the customer passed through, as their history shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Passed {
    /// The step's index in the journey's steps.
    pub step: usize,
    /// When the case entered it (RFC 3339).
    pub at: String,
    /// What the organisation wrote to the customer with the change.
    pub note: Option<String>,
}

/// Where a case stands, as its customer sees it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Progress {
    /// The current step's index.
    pub current: usize,
    /// At the last step: the case is done.
    pub done: bool,
    /// When the case entered the current step.
    pub since: String,
    /// By when the current step is expected to be over (its expected duration after
    /// `since`), if the step promises one and the case is not done.
    pub expected_by: Option<String>,
    /// The steps entered, oldest first: consecutive changes within one step are one
    /// entry (many internal statuses map to one step); notes are kept in order.
    pub history: Vec<Passed>,
}

/// Step `k` as the customer sees it: `done`, `current` or `later` (every step is
/// `later` before any change; the last step is `done` once the case is).
pub fn step_state(p: Option<&Progress>, k: usize) -> &'static str {
    match p {
        Some(p) if k < p.current || (k == p.current && p.done) => "done",
        Some(p) if k == p.current => "current",
        _ => "later",
    }
}

/// A status change as stored: (status, when it happened, note).
pub type Change<'a> = (&'a str, &'a str, Option<&'a str>);

/// The customer's view of a case from its changes (any order; a change whose status
/// no longer belongs to a step is left out). None without any change on a step.
pub fn progress(steps: &[Step], changes: &[Change]) -> Option<Progress> {
    let mut changes: Vec<&Change> = changes.iter().collect();
    changes.sort_by(|a, b| a.1.cmp(b.1));
    let mut history: Vec<Passed> = vec![];
    for (status, at, note) in changes {
        let Ok(step) = step_of(steps, status) else {
            continue;
        };
        match history.last_mut() {
            Some(last) if last.step == step => {
                if let Some(n) = note {
                    last.note = Some(match last.note.take() {
                        Some(before) => format!("{before}\n{n}"),
                        None => (*n).to_owned(),
                    });
                }
            }
            _ => history.push(Passed {
                step,
                at: (*at).to_owned(),
                note: note.map(str::to_owned),
            }),
        }
    }
    let last = history.last()?;
    let done = last.step + 1 == steps.len();
    let expected_by = match (done, steps[last.step].expected_days) {
        (false, Some(d)) => DateTime::parse_from_rfc3339(&last.at).ok().map(|t| {
            (t.with_timezone(&Utc) + chrono::Duration::days(d))
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        }),
        _ => None,
    };
    Some(Progress {
        current: last.step,
        done,
        since: last.at.clone(),
        expected_by,
        history,
    })
}

/// Days before and after a step change within which page opens are compared.
pub const OPEN_WINDOW_DAYS: i64 = 3;

/// One case as the journey's case analytics read it.
#[derive(Debug, Clone, Default)]
pub struct Trace<'a> {
    /// The unit handling it.
    pub unit: Option<Id>,
    /// Its status changes: (status, when, RFC 3339), any order.
    pub changes: Vec<(&'a str, &'a str)>,
    /// Its status page opens: (hour `YYYY-MM-DDTHH` in UTC, how many).
    pub opens: Vec<(&'a str, i64)>,
    /// Its closing answers, summed (only done cases' count).
    pub answers: crate::analytics::Tally,
}

/// What the journey's cases say about one step.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StepFigures {
    /// The step's index.
    pub step: usize,
    /// Times a case entered the step (a case that came back counts again).
    pub entered: i64,
    /// Stays that ended (the case moved on or back), and their length in days: median
    /// and 90th percentile (nearest rank); none without an ended stay.
    pub ended: i64,
    pub median_days: Option<f64>,
    pub p90_days: Option<f64>,
    /// Ended stays longer than the step's expected days (none: the step promises none).
    pub over_expected: Option<i64>,
    /// Cases in the step now (not counted for the last step: those are done), and of
    /// them those in it longer than its expected days.
    pub open_now: i64,
    pub overdue_now: i64,
    /// Overdue now per unit handling the case (none: no unit), most first.
    pub overdue_by_unit: Vec<(Option<Id>, i64)>,
    /// Entries into the step from another step whose [`OPEN_WINDOW_DAYS`] after the
    /// change are over, and the status page opens per such entry in the days before
    /// and after it (none without such an entry).
    pub changes_seen: i64,
    pub opens_before: Option<f64>,
    pub opens_after: Option<f64>,
    /// Done cases with closing answers that stayed in this step longer than expected
    /// (any of their stays) and those that did not: their answers summed.
    #[schema(value_type = Object)]
    pub waited_over: crate::analytics::Tally,
    #[schema(value_type = Object)]
    pub waited_within: crate::analytics::Tally,
}

/// A journey's cases, step by step.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CaseFigures {
    /// Cases read, and of them done.
    pub cases: i64,
    pub done: i64,
    pub steps: Vec<StepFigures>,
    /// Every done case's closing answers.
    #[schema(value_type = Object)]
    pub done_answers: crate::analytics::Tally,
}

fn parse_utc(t: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The start of an hour bucket `YYYY-MM-DDTHH`.
fn hour_start(h: &str) -> Option<DateTime<Utc>> {
    chrono::NaiveDateTime::parse_from_str(&format!("{h}:00:00"), "%Y-%m-%dT%H:%M:%S")
        .ok()
        .map(|t| t.and_utc())
}

/// The hour bucket of a time: `YYYY-MM-DDTHH`.
pub fn hour_of(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H").to_string()
}

/// Median (the mean of the two middle values for an even count) and 90th percentile
/// (nearest rank: the ⌈0.9·n⌉-th smallest) of sorted values.
fn median_p90(sorted: &[f64]) -> (Option<f64>, Option<f64>) {
    let n = sorted.len();
    if n == 0 {
        return (None, None);
    }
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    let rank = ((0.9 * n as f64).ceil() as usize).clamp(1, n);
    (Some(median), Some(sorted[rank - 1]))
}

/// The journey's case figures at `now` (see docs/metrics.md, "Case analytics").
pub fn figures(steps: &[Step], traces: &[Trace], now: DateTime<Utc>) -> CaseFigures {
    use crate::analytics::Tally;
    let mut days: Vec<Vec<f64>> = vec![vec![]; steps.len()];
    let mut out: Vec<StepFigures> = (0..steps.len())
        .map(|k| StepFigures {
            step: k,
            entered: 0,
            ended: 0,
            median_days: None,
            p90_days: None,
            over_expected: steps[k].expected_days.map(|_| 0),
            open_now: 0,
            overdue_now: 0,
            overdue_by_unit: vec![],
            changes_seen: 0,
            opens_before: None,
            opens_after: None,
            waited_over: Tally::default(),
            waited_within: Tally::default(),
        })
        .collect();
    let mut opens_sum: Vec<(i64, i64)> = vec![(0, 0); steps.len()];
    let mut by_unit: Vec<BTreeMap<Option<Id>, i64>> = vec![BTreeMap::new(); steps.len()];
    let (mut done_n, mut done_answers) = (0, Tally::default());
    let window = chrono::Duration::days(OPEN_WINDOW_DAYS);
    for t in traces {
        let changes: Vec<Change> = t.changes.iter().map(|(s, at)| (*s, *at, None)).collect();
        let Some(p) = progress(steps, &changes) else {
            continue;
        };
        let opens: Vec<(DateTime<Utc>, i64)> = t
            .opens
            .iter()
            .filter_map(|(h, n)| hour_start(h).map(|h| (h, *n)))
            .collect();
        // Per step: whether any stay of this case overran the expected days.
        let mut overran = vec![None; steps.len()];
        for (i, h) in p.history.iter().enumerate() {
            let f = &mut out[h.step];
            f.entered += 1;
            let Some(start) = parse_utc(&h.at) else {
                continue;
            };
            let expected = steps[h.step].expected_days;
            let end = p.history.get(i + 1).and_then(|n| parse_utc(&n.at));
            let last_step = h.step + 1 == steps.len();
            let length = match end {
                Some(e) => {
                    let d = (e - start).num_seconds() as f64 / 86_400.0;
                    f.ended += 1;
                    days[h.step].push(d);
                    Some(d)
                }
                None if !last_step => {
                    f.open_now += 1;
                    let d = (now - start).num_seconds() as f64 / 86_400.0;
                    if expected.is_some_and(|x| d > x as f64) {
                        f.overdue_now += 1;
                        *by_unit[h.step].entry(t.unit).or_default() += 1;
                    }
                    None
                }
                None => None,
            };
            if let (Some(x), Some(d)) = (expected, length) {
                let over = d > x as f64;
                if over {
                    *f.over_expected.get_or_insert(0) += 1;
                }
                let o = overran[h.step].get_or_insert(false);
                *o = *o || over;
            }
            // Opens around a change into this step (not the case's opening).
            if i > 0 && start + window <= now {
                let bucket = hour_start(&hour_of(start)).unwrap_or(start);
                let before: i64 = opens
                    .iter()
                    .filter(|(h, _)| *h < bucket && *h >= bucket - window)
                    .map(|(_, n)| n)
                    .sum();
                let after: i64 = opens
                    .iter()
                    .filter(|(h, _)| *h >= bucket && *h < bucket + window)
                    .map(|(_, n)| n)
                    .sum();
                f.changes_seen += 1;
                opens_sum[h.step].0 += before;
                opens_sum[h.step].1 += after;
            }
        }
        if p.done {
            done_n += 1;
            done_answers += t.answers;
            if t.answers.responses > 0 {
                for (k, o) in overran.iter().enumerate() {
                    match o {
                        Some(true) => out[k].waited_over += t.answers,
                        Some(false) => out[k].waited_within += t.answers,
                        None => {}
                    }
                }
            }
        }
    }
    for (k, f) in out.iter_mut().enumerate() {
        days[k].sort_by(f64::total_cmp);
        (f.median_days, f.p90_days) = median_p90(&days[k]);
        if f.changes_seen > 0 {
            f.opens_before = Some(opens_sum[k].0 as f64 / f.changes_seen as f64);
            f.opens_after = Some(opens_sum[k].1 as f64 / f.changes_seen as f64);
        }
        let mut units: Vec<(Option<Id>, i64)> =
            std::mem::take(&mut by_unit[k]).into_iter().collect();
        units.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        f.overdue_by_unit = units;
    }
    CaseFigures {
        cases: traces.len() as i64,
        done: done_n,
        steps: out,
        done_answers,
    }
}

/// The step whose waiting hurts most: among steps where both the done cases that
/// waited longer than expected and those that did not have an experience index (at
/// least `min_n` answers of its metric), the one whose overrun index is lowest *and*
/// significantly below the in-time index of the same step. None: no such step.
pub fn weakest_wait(f: &CaseFigures, min_n: i64) -> Option<usize> {
    use crate::analytics::index_by;
    f.steps
        .iter()
        .filter_map(|s| {
            let metric = crate::analytics::index(&s.waited_within, min_n)?.metric;
            let within = index_by(&s.waited_within, metric, min_n)?.score;
            let over = index_by(&s.waited_over, metric, min_n)?.score;
            (over.value < within.value && over.differs_from(&within))
                .then_some((s.step, over.value))
        })
        .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)))
        .map(|(k, _)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(en: &str) -> BTreeMap<String, String> {
        [("en".to_string(), en.to_string())].into()
    }

    fn step(key: &str, statuses: &[&str], days: Option<i64>) -> StepInput {
        StepInput {
            key: key.into(),
            name: texts(key),
            meaning: BTreeMap::new(),
            next: texts("Then"),
            expected_days: days,
            statuses: statuses.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn references_are_unambiguous_and_typed_loosely() {
        let mut n = 0;
        let r = new_reference(|k| {
            n += 7;
            n % k
        });
        assert_eq!(r.len(), REFERENCE_LEN);
        assert!(r.bytes().all(|b| REFERENCE_ALPHABET.contains(&b)));
        for confusable in b"0O1IL2Z5S8BDQ6G" {
            assert!(
                !REFERENCE_ALPHABET.contains(confusable),
                "{}",
                *confusable as char
            );
        }
        assert_eq!(normalise_reference(" k7mp-4xrt ").unwrap(), "K7MP4XRT");
        assert_eq!(shown_reference("K7MP4XRT"), "K7MP-4XRT");
        assert!(normalise_reference("K7MP4XR0").is_err(), "0 is not used");
        assert!(normalise_reference("K7MP4XR").is_err(), "too short");
    }

    #[test]
    fn steps_name_every_bad_field() {
        let bad = StepsInput {
            steps: vec![
                step("received", &["new", "triage"], Some(2)),
                StepInput {
                    name: BTreeMap::new(),
                    ..step("Bad Key", &["triage", ""], Some(0))
                },
                step("received", &[], None),
            ],
        };
        let e = bad.parse().unwrap_err();
        for f in [
            "steps[1].key",
            "steps[1].name",
            "steps[1].expected_days",
            "steps[1].statuses",
            "steps[2].key",
            "steps[2].statuses",
        ] {
            assert!(e.0.contains_key(f), "{f}: {e:?}");
        }
        assert!(StepsInput { steps: vec![] }.parse().is_err());
        let ok = StepsInput {
            steps: vec![
                step("received", &["new"], Some(2)),
                step("done", &["closed"], None),
            ],
        }
        .parse()
        .unwrap();
        assert_eq!(step_of(&ok, "closed"), Ok(1));
        let r = step_of(&ok, "lost").unwrap_err();
        assert_eq!(r.code, "unknown-status");
    }

    #[test]
    fn the_customer_sees_steps_not_statuses() {
        let steps = StepsInput {
            steps: vec![
                step("received", &["new", "triage"], Some(2)),
                step("searching", &["tracing", "found-elsewhere"], Some(5)),
                step("delivered", &["delivered"], None),
            ],
        }
        .parse()
        .unwrap();
        let changes: Vec<Change> = vec![
            (
                "tracing",
                "2026-03-03T09:00:00Z",
                Some("We asked the other airports."),
            ),
            ("new", "2026-03-02T08:00:00Z", None),
            ("triage", "2026-03-02T10:00:00Z", None),
            (
                "found-elsewhere",
                "2026-03-04T12:00:00Z",
                Some("Found in Oulu."),
            ),
            ("retired-status", "2026-03-04T13:00:00Z", None),
        ];
        let p = progress(&steps, &changes).unwrap();
        assert_eq!(p.current, 1);
        assert!(!p.done);
        assert_eq!(p.since, "2026-03-03T09:00:00Z");
        assert_eq!(p.expected_by.as_deref(), Some("2026-03-08T09:00:00Z"));
        assert_eq!(p.history.len(), 2, "{:?}", p.history);
        assert_eq!(
            p.history[1].note.as_deref(),
            Some("We asked the other airports.\nFound in Oulu.")
        );
        let mut done = changes.clone();
        done.push(("delivered", "2026-03-05T08:00:00Z", None));
        let p = progress(&steps, &done).unwrap();
        assert!(p.done);
        assert_eq!(p.expected_by, None);
        assert_eq!(progress(&steps, &[]), None);
    }

    #[test]
    fn case_figures_by_hand() {
        use crate::analytics::Tally;
        let steps = StepsInput {
            steps: vec![
                step("received", &["new"], Some(2)),
                step("checking", &["checking"], Some(7)),
                step("paid", &["paid"], None),
            ],
        }
        .parse()
        .unwrap();
        let answer = Tally::of(Some(2), None, None);
        let a = Trace {
            unit: Some(1),
            changes: vec![
                ("new", "2026-03-01T00:00:00Z"),
                ("checking", "2026-03-04T00:00:00Z"),
                ("paid", "2026-03-06T00:00:00Z"),
            ],
            opens: vec![],
            answers: answer,
        };
        let b = Trace {
            unit: Some(2),
            changes: vec![
                ("checking", "2026-03-02T00:00:00Z"),
                ("new", "2026-03-01T00:00:00Z"),
            ],
            opens: vec![
                ("2026-03-01T12", 2),
                ("2026-03-02T00", 1),
                ("2026-03-04T10", 4),
                ("2026-03-06T00", 5),
            ],
            ..Default::default()
        };
        let c = Trace {
            unit: Some(1),
            changes: vec![("new", "2026-03-10T00:00:00Z")],
            ..Default::default()
        };
        let now = parse_utc("2026-03-20T00:00:00Z").unwrap();
        let f = figures(&steps, &[a, b, c], now);
        assert_eq!((f.cases, f.done), (3, 1));
        assert_eq!(f.done_answers, answer);
        let r = &f.steps[0];
        assert_eq!((r.entered, r.ended), (3, 2));
        assert_eq!((r.median_days, r.p90_days), (Some(2.0), Some(3.0)));
        assert_eq!(r.over_expected, Some(1));
        assert_eq!((r.open_now, r.overdue_now), (1, 1));
        assert_eq!(r.overdue_by_unit, vec![(Some(1), 1)]);
        assert_eq!(r.changes_seen, 0, "opening a case is not a change");
        assert_eq!(r.waited_over, answer);
        let k = &f.steps[1];
        assert_eq!((k.entered, k.ended), (2, 1));
        assert_eq!((k.median_days, k.p90_days), (Some(2.0), Some(2.0)));
        assert_eq!(k.over_expected, Some(0));
        assert_eq!((k.open_now, k.overdue_now), (1, 1));
        assert_eq!(k.overdue_by_unit, vec![(Some(2), 1)]);
        assert_eq!(k.changes_seen, 2);
        assert_eq!((k.opens_before, k.opens_after), (Some(1.0), Some(2.5)));
        assert_eq!(k.waited_within, answer);
        let p = &f.steps[2];
        assert_eq!((p.entered, p.open_now, p.over_expected), (1, 0, None));
        assert_eq!(weakest_wait(&f, 1), None, "one answer is not a comparison");
        assert_eq!(median_p90(&[1.0, 2.0, 3.0, 10.0]), (Some(2.5), Some(10.0)));
    }

    #[test]
    fn cases_and_changes_name_bad_fields() {
        let now = DateTime::parse_from_rfc3339("2026-03-02T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let e = CaseInput {
            id: "".into(),
            journey_id: 0,
            status: " ".into(),
            at: Some("yesterday".into()),
            customer: Some("email:not-an-address".into()),
            unit_id: Some(-1),
            language: Some("de".into()),
            title: Some("x".repeat(MAX_TITLE + 1)),
            ask: None,
            ask_due: Some("2026-03-10".into()),
            verifier: None,
            notify_email: Some("nobody".into()),
        }
        .parse(now)
        .unwrap_err();
        for f in [
            "id",
            "journey_id",
            "status",
            "at",
            "customer",
            "unit_id",
            "language",
            "title",
            "ask_due",
            "notify_email",
        ] {
            assert!(e.0.contains_key(f), "{f}: {e:?}");
        }
        let ok = CaseInput {
            id: "bag-1".into(),
            journey_id: 3,
            status: "new".into(),
            at: None,
            customer: Some("crm:42".into()),
            unit_id: None,
            language: Some("en".into()),
            title: None,
            ask: Some("The receipt".into()),
            ask_due: Some("2026-03-12".into()),
            verifier: Some(" 00100 ".into()),
            notify_email: None,
        }
        .parse(now)
        .unwrap();
        assert_eq!(ok.at, now);
        assert_eq!(ok.ask_due, NaiveDate::from_ymd_opt(2026, 3, 12));
        let e = StatusInput {
            status: "x".repeat(MAX_STATUS + 1),
            at: None,
            note: Some("n".repeat(MAX_NOTE + 1)),
            ask: None,
            ask_due: None,
        }
        .parse(now)
        .unwrap_err();
        assert!(
            e.0.contains_key("status") && e.0.contains_key("note"),
            "{e:?}"
        );
    }
}
