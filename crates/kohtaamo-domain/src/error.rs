//! Field-level validation errors, collected rather than failing on the first one, so a
//! client (or an import) learns every problem at once.

use std::collections::BTreeMap;

/// Why a value was refused: a stable code and its arguments. The API shows
/// [`Reason::english`]; the web UI looks up the message `err-<code>` in the user's
/// language. Free text (code `text`) is kept for rare, import-only messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub code: &'static str,
    pub args: Vec<(&'static str, String)>,
}

impl Reason {
    pub fn new(code: &'static str) -> Self {
        Self {
            code,
            args: Vec::new(),
        }
    }
    pub fn with(mut self, name: &'static str, value: impl ToString) -> Self {
        self.args.push((name, value.to_string()));
        self
    }
    pub fn arg(&self, name: &str) -> &str {
        self.args
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }
    /// The reason in English, as the API reports it.
    pub fn english(&self) -> String {
        let a = |n| self.arg(n);
        match self.code {
            "empty" => "must not be empty".into(),
            "too-long" => format!("must be at most {} characters", a("max")),
            "bad-slug" => "must be 1–64 characters of a–z, 0–9 and single hyphens inside".into(),
            "bad-language" => format!(
                "'{}' is not a language code such as fi, en or sv",
                a("value")
            ),
            "name-needs-language" => "needs a text in at least one language".into(),
            "empty-text" => format!(
                "text for '{}' must not be empty (leave the language out instead)",
                a("lang")
            ),
            "text-too-long" => format!(
                "text for '{}' must be at most {} characters",
                a("lang"),
                a("max")
            ),
            "not-one-of" => format!("'{}' is not one of: {}", a("value"), a("options")),
            "bad-channel" => format!(
                "'{}' is neither a built-in channel nor a channel slug",
                a("value")
            ),
            "emotion-range" => "must be between -2 and 2".into(),
            "bad-email" => "is not an e-mail address".into(),
            "bad-contact" => "is not an e-mail address or a phone number".into(),
            "contact-not-required" => "a contact question cannot be required: consent to be contacted is given freely".into(),
            "capture-rule-past" => "a capture rule opens follow-ups as captures are recorded; it has no past responses to apply to".into(),
            "no-consent" => "the customer did not allow being contacted about their answer: this follow-up is for learning only".into(),
            "positive-id" => "must be a positive id".into(),
            "bad-case-reference" => "is not a case reference (8 characters, e.g. K7MP-4XRT)".into(),
            "status-in-two-steps" => format!("status '{}' already belongs to another step", a("value")),
            "unknown-status" => format!("'{}' belongs to none of the journey's steps; one of: {}", a("value"), a("options")),
            "control-characters" => "must not contain control characters".into(),
            "due-without-ask" => "a due date needs something to ask (ask)".into(),
            "no-case-steps" => "the journey has no customer-facing steps yet: define them first".into(),
            "status-in-use" => format!("{} case(s) stand in status '{}': keep it in a step (move those cases first to drop it)", a("n"), a("value")),
            "case-subscriptions-full" => format!("this case already sends e-mail to {} addresses", a("max")),
            "mail-off" => "e-mail is not set up on this installation (KOHTAAMO_SMTP_HOST)".into(),
            "consent-needed" => "tick the box to agree to get e-mail about your case".into(),
            "listed-twice" => "is listed twice".into(),
            "subject-needed" => "give at least one identifier or case reference of the person".into(),
            "term-length" => "must be 4–200 characters (shorter words match too much)".into(),
            "publish-needs-core" => {
                "a package needs at least one core element before it can be published".into()
            }
            "interval-range" => "must be between 1 and 3650".into(),
            "bad-date" => "must be a date YYYY-MM-DD (or D.M.YYYY)".into(),
            "own-customer" => "a unit cannot be its own customer".into(),
            "duration-range" => "must be between 0 and 525600 (a year)".into(),
            "unknown-ref" => format!("no {} with id {} in this workspace", a("noun"), a("id")),
            "unknown-ref-slug" => format!("no {} '{}' in this workspace", a("noun"), a("slug")),
            "cycle" => format!("would make the {} its own ancestor", a("noun")),
            "builtin-channel" => "is already a built-in channel".into(),
            "whole-number" => "must be a whole number".into(),
            "not-a-member" => {
                "is not a member of this workspace: add them as a member first".into()
            }
            "choose-one" => "choose one".into(),
            "unknown-question" => "is not a question of this survey".into(),
            "score-range" => format!("must be a whole number from {} to {}", a("min"), a("max")),
            "number-range" => format!("must be a whole number from {} to {}", a("min"), a("max")),
            "answer-type" => "has the wrong type for this question".into(),
            "answer-required" => "needs an answer".into(),
            "one-target" => "give exactly one of touchpoint_id, journey_id and package_id".into(),
            "needs-questions" => "a survey needs at least one question".into(),
            "too-many" => format!("at most {} allowed", a("max")),
            "choice-count" => format!("a choice question needs 2 to {} options", a("max")),
            "options-not-used" => "only used by other question types".into(),
            "scale-range" => "must be between 3 and 10".into(),
            "show-if" => "must name an earlier scored question and a range within its scale".into(),
            "bad-origin" => "must be an origin such as https://www.example.fi (no path)".into(),
            "bad-response-id" => "must be 8–64 characters of A–Z, a–z, 0–9, - and _".into(),
            "unknown-invitation" => "is not an invitation to this survey".into(),
            "no-answers" => "a complete response needs at least one answer".into(),
            "not-asked-here" => format!("this survey does not ask about touchpoint {}", a("id")),
            "bad-reference" => format!(
                "must be at most {} characters without control characters",
                a("max")
            ),
            "bad-identifier" => "must be an identifier kind:value (e.g. crm:12345; email and phone must look like one) of at most 128 characters".into(),
            "bad-client-id" => "must be 1–100 characters of A–Z, a–z, 0–9, -, _, ., : and /".into(),
            "bad-time" => "must be a time in RFC 3339 with an offset, e.g. 2026-11-26T14:05:00+02:00".into(),
            "in-future" => "is in the future".into(),
            "place-needed" => "give a touchpoint, or a channel and an owner".into(),
            "touchpoint-twice" => "give touchpoint_id or touchpoint, not both".into(),
            "unknown-kind" => format!("'{}' is not a kind of encounter in this workspace", a("value")),
            "same-id-as" => format!("the same id as item {}", a("item")),
            "no-column" => format!("the file has no column '{}'", a("column")),
            "map-when" => "map the column that says when (at)".into(),
            "map-place" => "map a touchpoint column, or channel and unit (or partner)".into(),
            "bad-file" => format!("cannot be read: {}", a("detail")),
            "hours-range" => format!("must be between 1 and {} hours", a("max")),
            "resolve-after-contact" => "must be at least the contact target".into(),
            "bad-transition" => format!(
                "cannot {} a follow-up that is {}",
                a("action"),
                a("status")
            ),
            _ => a("text").to_owned(),
        }
    }
}

/// Every code [`Reason::english`] knows (each needs an `err-<code>` message in the UI).
pub const CODES: &[&str] = &[
    "not-a-member",
    "empty",
    "too-long",
    "bad-slug",
    "bad-language",
    "name-needs-language",
    "empty-text",
    "text-too-long",
    "not-one-of",
    "bad-channel",
    "emotion-range",
    "bad-email",
    "bad-contact",
    "contact-not-required",
    "no-consent",
    "capture-rule-past",
    "positive-id",
    "bad-case-reference",
    "status-in-two-steps",
    "unknown-status",
    "control-characters",
    "due-without-ask",
    "no-case-steps",
    "status-in-use",
    "case-subscriptions-full",
    "consent-needed",
    "mail-off",
    "listed-twice",
    "subject-needed",
    "term-length",
    "publish-needs-core",
    "interval-range",
    "bad-date",
    "own-customer",
    "duration-range",
    "unknown-ref",
    "unknown-ref-slug",
    "cycle",
    "builtin-channel",
    "whole-number",
    "choose-one",
    "unknown-question",
    "score-range",
    "number-range",
    "answer-type",
    "answer-required",
    "one-target",
    "needs-questions",
    "too-many",
    "choice-count",
    "options-not-used",
    "scale-range",
    "show-if",
    "bad-origin",
    "bad-response-id",
    "bad-reference",
    "unknown-invitation",
    "no-answers",
    "not-asked-here",
    "bad-identifier",
    "bad-client-id",
    "bad-time",
    "in-future",
    "place-needed",
    "touchpoint-twice",
    "unknown-kind",
    "same-id-as",
    "no-column",
    "map-when",
    "map-place",
    "bad-file",
    "hours-range",
    "resolve-after-contact",
    "bad-transition",
];

impl From<&str> for Reason {
    fn from(s: &str) -> Self {
        Reason::new("text").with("text", s)
    }
}
impl From<String> for Reason {
    fn from(s: String) -> Self {
        Reason::new("text").with("text", s)
    }
}
impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.english())
    }
}
impl serde::Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.english())
    }
}

/// Every field that failed validation, with its reason. Keys are field paths such as
/// `name.fi` or `journeys[0].stages[1].slug`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct FieldErrors(pub BTreeMap<String, Reason>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn add(&mut self, field: impl Into<String>, reason: impl Into<Reason>) {
        self.0.entry(field.into()).or_insert_with(|| reason.into());
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Keeps the value if it parsed, records the reason under `field` if not.
    pub fn take<T, E: Into<Reason>>(&mut self, field: &str, r: Result<T, E>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, e);
                None
            }
        }
    }
    /// Merges errors from a nested structure, prefixing their paths.
    pub fn nest(&mut self, prefix: &str, other: FieldErrors) {
        for (k, v) in other.0 {
            self.add(format!("{prefix}.{k}"), v);
        }
    }
    pub fn into_result<T>(self, value: impl FnOnce() -> T) -> Result<T, FieldErrors> {
        if self.is_empty() {
            Ok(value())
        } else {
            Err(self)
        }
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{k}: {v}")?;
        }
        Ok(())
    }
}

impl std::error::Error for FieldErrors {}
