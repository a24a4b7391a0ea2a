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
        match (client_id, status, at) {
            (Some(client_id), Some(status), Some(at)) if e.is_empty() => Ok(CaseDraft {
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
