//! Surveys and their answers (seed 003/004: "ask honestly, not guess"). A survey is
//! attached to a touchpoint, a journey or a service package; its questions have
//! standard scoring (NPS 0–10, CSAT 1–5, CES 1–7, rating 1–n) or are choices or open
//! text. This module validates a survey definition and every answer against its
//! question, and derives the scores analytics use. No I/O.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::{FieldErrors, Reason};
use crate::model::{positive_id, str_enum, Parse, RawTexts};
use crate::text::{Lang, Slug, Texts};
use crate::Id;

pub const MAX_QUESTIONS: usize = 50;
pub const MAX_CHOICES: usize = 30;
pub const MAX_ORIGINS: usize = 20;
pub const MAX_ANSWER_TEXT: usize = 4000;
pub const MAX_REF: usize = 128;
pub const MAX_CUSTOM: usize = 20;
pub const MAX_CUSTOM_VALUE: usize = 500;

str_enum!(
    /// Lifecycle of a survey: only an active survey accepts answers.
    SurveyStatus { Draft => "draft", Active => "active", Closed => "closed" }
);
str_enum!(
    /// Why a response looks like a bot's. A suspect response is stored and shown to
    /// staff but not counted in scores until someone accepts it: a bot check may set a
    /// response apart, never refuse a person's answer.
    Suspicion {
        TooFast => "too_fast", StaleForm => "stale_form", NoFormToken => "no_form_token",
        Honeypot => "honeypot",
    }
);
str_enum!(
    /// Question types. The first three have standard scales and wording.
    QuestionKind {
        Nps => "nps", Csat => "csat", Ces => "ces", Rating => "rating",
        Single => "single", Multi => "multi", Text => "text", Contact => "contact",
    }
);

impl QuestionKind {
    /// The standard scale of a scored question; `rating` uses its own `scale`.
    pub fn standard_range(self) -> Option<(i64, i64)> {
        match self {
            QuestionKind::Nps => Some((0, 10)),
            QuestionKind::Csat => Some((1, 5)),
            QuestionKind::Ces => Some((1, 7)),
            _ => None,
        }
    }
    /// NPS, CSAT and CES have standard wording (from the UI's language files) when the
    /// survey gives none.
    pub fn has_standard_wording(self) -> bool {
        self.standard_range().is_some()
    }
    /// The survey may leave the question's text out: the scored questions' standard
    /// wording, and the contact question's ("May we contact you about your answer?").
    pub fn text_optional(self) -> bool {
        self.has_standard_wording() || self == QuestionKind::Contact
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChoiceInput {
    pub key: String,
    pub label: RawTexts,
}

/// Show a question only when an earlier scored question's answer is within `min..=max`
/// (e.g. "what should we improve?" for NPS 0–6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowIf {
    pub question: String,
    pub min: i64,
    pub max: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionInput {
    pub key: String,
    pub kind: String,
    /// Optional for nps, csat and ces (standard wording is used).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub text: RawTexts,
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// For single and multiple choice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<ChoiceInput>,
    /// For rating: the top of the 1–n scale (3–10, default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_if: Option<ShowIf>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl From<&Question> for QuestionInput {
    fn from(q: &Question) -> Self {
        Self {
            key: q.key.to_string(),
            kind: q.kind.as_str().to_owned(),
            text: q.text.raw(),
            required: q.required,
            options: q
                .options
                .iter()
                .map(|c| ChoiceInput {
                    key: c.key.to_string(),
                    label: c.label.raw(),
                })
                .collect(),
            scale: q.scale,
            show_if: q.show_if.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Choice {
    #[schema(value_type = String)]
    pub key: Slug,
    pub label: Texts,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Question {
    #[schema(value_type = String)]
    pub key: Slug,
    pub kind: QuestionKind,
    pub text: Texts,
    pub required: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<Choice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub show_if: Option<ShowIf>,
}

impl Question {
    /// The inclusive score range of a scored question.
    pub fn range(&self) -> Option<(i64, i64)> {
        match self.kind {
            QuestionKind::Rating => Some((1, self.scale.unwrap_or(5))),
            k => k.standard_range(),
        }
    }
    /// Whether the question is shown given the answers so far.
    pub fn visible(&self, answers: &Answers) -> bool {
        match &self.show_if {
            None => true,
            Some(c) => {
                matches!(answers.0.get(&c.question), Some(Answer::Score(v)) if (c.min..=c.max).contains(v))
            }
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyInput {
    pub slug: String,
    pub name: RawTexts,
    /// draft (default), active or closed.
    #[serde(default)]
    pub status: Option<String>,
    /// Exactly one of touchpoint_id, journey_id and package_id.
    #[serde(default)]
    pub touchpoint_id: Option<Id>,
    #[serde(default)]
    pub journey_id: Option<Id>,
    #[serde(default)]
    pub package_id: Option<Id>,
    /// Shown above the questions.
    #[serde(default)]
    pub intro: RawTexts,
    /// Shown after answering.
    #[serde(default)]
    pub thanks: RawTexts,
    pub questions: Vec<QuestionInput>,
    /// Web origins allowed to embed the widget, e.g. `https://www.example.fi`.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
}

/// What a survey asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SurveyTarget {
    Touchpoint(Id),
    Journey(Id),
    Package(Id),
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SurveyData {
    #[schema(value_type = String)]
    pub slug: Slug,
    pub name: Texts,
    pub status: SurveyStatus,
    pub touchpoint_id: Option<Id>,
    pub journey_id: Option<Id>,
    pub package_id: Option<Id>,
    pub intro: Texts,
    pub thanks: Texts,
    pub questions: Vec<Question>,
    pub allowed_origins: Vec<String>,
}

impl SurveyData {
    pub fn target(&self) -> Option<SurveyTarget> {
        self.touchpoint_id
            .map(SurveyTarget::Touchpoint)
            .or(self.journey_id.map(SurveyTarget::Journey))
            .or(self.package_id.map(SurveyTarget::Package))
    }
    pub fn question(&self, key: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.key.as_str() == key)
    }
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.allowed_origins.iter().any(|o| o == origin)
    }

    /// Validates answers against the questions. `complete` = the respondent finished,
    /// so required visible questions must be answered; a partial save (the widget saves
    /// as answers are given) may leave them out. Answers to questions hidden by their
    /// condition are dropped; unknown keys and wrong values are errors, each under
    /// `answers.<key>`.
    pub fn validate_answers(
        &self,
        raw: &BTreeMap<String, Value>,
        complete: bool,
    ) -> Result<Answers, FieldErrors> {
        let mut e = FieldErrors::new();
        for k in raw.keys() {
            if self.question(k).is_none() {
                e.add(format!("answers.{k}"), Reason::new("unknown-question"));
            }
        }
        let mut out = Answers::default();
        for q in &self.questions {
            let field = format!("answers.{}", q.key);
            let given = raw.get(q.key.as_str()).filter(|v| !is_blank(v));
            let value = match given {
                None => None,
                Some(v) => e.take(&field, q.parse_answer(v)),
            };
            if !q.visible(&out) {
                continue;
            }
            match value {
                Some(a) => {
                    out.0.insert(q.key.as_str().to_owned(), a);
                }
                None if complete && q.required && given.is_none() => {
                    e.add(field, Reason::new("answer-required"))
                }
                None => {}
            }
        }
        if complete && out.0.is_empty() && e.is_empty() {
            e.add("answers", Reason::new("no-answers"));
        }
        e.into_result(|| out)
    }
}

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

impl Question {
    fn parse_answer(&self, v: &Value) -> Result<Answer, Reason> {
        if let Some((min, max)) = self.range() {
            // A number, not text: `"7"` is refused, so every client sends the same
            // thing (the survey page turns its form fields into numbers first).
            let n = match v {
                Value::Number(n) => n.as_i64(),
                _ => None,
            };
            return match n {
                Some(n) if (min..=max).contains(&n) => Ok(Answer::Score(n)),
                _ => Err(Reason::new("score-range").with("min", min).with("max", max)),
            };
        }
        let is_option = |s: &str| self.options.iter().any(|c| c.key.as_str() == s);
        match (self.kind, v) {
            (QuestionKind::Single, Value::String(s)) if is_option(s) => {
                Ok(Answer::Choice(s.clone()))
            }
            (QuestionKind::Single, v) => Err(self.not_an_option(v)),
            (QuestionKind::Multi, v) => {
                let items: Vec<&Value> = match v {
                    Value::Array(a) => a.iter().collect(),
                    one => vec![one],
                };
                let mut set = BTreeSet::new();
                for i in items {
                    match i {
                        Value::String(s) if is_option(s) => {
                            set.insert(s.clone());
                        }
                        other => return Err(self.not_an_option(other)),
                    }
                }
                // Stored in the question's option order, so exports are stable.
                Ok(Answer::Choices(
                    self.options
                        .iter()
                        .map(|c| c.key.as_str().to_owned())
                        .filter(|k| set.contains(k))
                        .collect(),
                ))
            }
            (QuestionKind::Contact, Value::String(s)) => contact_detail(s).map(Answer::Text),
            (QuestionKind::Text, Value::String(s)) => {
                let t = s.trim();
                if t.chars().count() > MAX_ANSWER_TEXT {
                    Err(Reason::new("too-long").with("max", MAX_ANSWER_TEXT))
                } else {
                    Ok(Answer::Text(t.to_owned()))
                }
            }
            _ => Err(Reason::new("answer-type")),
        }
    }
    fn not_an_option(&self, v: &Value) -> Reason {
        let shown = match v {
            Value::String(s) => s.chars().take(40).collect(),
            other => other.to_string().chars().take(40).collect::<String>(),
        };
        Reason::new("not-one-of").with("value", shown).with(
            "options",
            self.options
                .iter()
                .map(|c| c.key.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        )
    }
}

/// One validated answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    Score(i64),
    Choices(Vec<String>),
    Choice(String),
    Text(String),
}

/// On the wire an answer is a number, a list of option keys or a string (an option
/// key or free text: the question's kind says which), so the document lists three
/// exclusive shapes, not the four variants (two of which are both strings).
impl utoipa::PartialSchema for Answer {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .description(Some(
                "A score (integer), the keys of chosen options (multiple choice), or a string: the chosen option's key (single choice) or free text",
            ))
            .item(ObjectBuilder::new().schema_type(Type::Integer))
            .item(ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String)))
            .item(ObjectBuilder::new().schema_type(Type::String))
            .into()
    }
}
impl ToSchema for Answer {}

impl Answer {
    pub fn display(&self) -> String {
        match self {
            Answer::Score(n) => n.to_string(),
            Answer::Choice(s) | Answer::Text(s) => s.clone(),
            Answer::Choices(v) => v.join("; "),
        }
    }
}

/// Validated answers by question key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
pub struct Answers(pub BTreeMap<String, Answer>);

impl Answers {
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "{}".into())
    }
    pub fn from_json(s: &str) -> Result<Self, String> {
        // Stored text is ours; a `Choice`/`Text` ambiguity is harmless for display.
        serde_json::from_str(s).map_err(|e| e.to_string())
    }
    /// The standard scores of a response: the first NPS, CSAT and CES answer.
    pub fn scores(&self, survey: &SurveyData) -> Scores {
        let first = |kind| {
            survey
                .questions
                .iter()
                .filter(|q| q.kind == kind)
                .find_map(|q| match self.0.get(q.key.as_str()) {
                    Some(Answer::Score(n)) => Some(*n),
                    _ => None,
                })
        };
        Scores {
            nps: first(QuestionKind::Nps),
            csat: first(QuestionKind::Csat),
            ces: first(QuestionKind::Ces),
        }
    }
    /// The contact detail the respondent gave with their consent to be contacted about
    /// the answer (the first contact question answered), if any.
    pub fn contact(&self, survey: &SurveyData) -> Option<String> {
        survey
            .questions
            .iter()
            .filter(|q| q.kind == QuestionKind::Contact)
            .find_map(|q| match self.0.get(q.key.as_str()) {
                Some(Answer::Text(t) | Answer::Choice(t)) if !t.is_empty() => Some(t.clone()),
                _ => None,
            })
    }
    /// The open-text answers joined (JSON does not tell a text from a choice key, so
    /// the survey says which questions are open).
    pub fn text(&self, survey: &SurveyData) -> String {
        survey
            .questions
            .iter()
            .filter(|q| q.kind == QuestionKind::Text)
            .filter_map(|q| match self.0.get(q.key.as_str()) {
                Some(Answer::Text(t) | Answer::Choice(t)) => Some(t.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Standard scores kept in their own columns so analytics never parse answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Scores {
    pub nps: Option<i64>,
    pub csat: Option<i64>,
    pub ces: Option<i64>,
}

/// NPS band of a 0–10 answer.
pub fn nps_band(score: i64) -> &'static str {
    match score {
        9..=10 => "promoter",
        7..=8 => "passive",
        _ => "detractor",
    }
}

fn key(e: &mut FieldErrors, field: &str, s: &str) -> Option<Slug> {
    e.take(field, Slug::parse(s))
}

impl Parse for SurveyInput {
    type Data = SurveyData;
    fn parse(&self) -> Result<SurveyData, FieldErrors> {
        let mut e = FieldErrors::new();
        let slug = e.take("slug", Slug::parse(&self.slug));
        let name = e.take("name", Texts::name(&self.name));
        let status = match &self.status {
            None => Some(SurveyStatus::Draft),
            Some(s) => e.take("status", SurveyStatus::parse(s)),
        };
        let targets = [
            ("touchpoint_id", self.touchpoint_id),
            ("journey_id", self.journey_id),
            ("package_id", self.package_id),
        ];
        for (f, id) in targets {
            if let Some(id) = id {
                positive_id(&mut e, f, id);
            }
        }
        if targets.iter().filter(|(_, v)| v.is_some()).count() != 1 {
            e.add("touchpoint_id", Reason::new("one-target"));
        }
        let intro = e.take("intro", Texts::text(&self.intro));
        let thanks = e.take("thanks", Texts::text(&self.thanks));
        if self.questions.is_empty() {
            e.add("questions", Reason::new("needs-questions"));
        }
        if self.questions.len() > MAX_QUESTIONS {
            e.add(
                "questions",
                Reason::new("too-many").with("max", MAX_QUESTIONS),
            );
        }
        let mut questions: Vec<Question> = Vec::new();
        let mut seen = BTreeSet::new();
        for (i, q) in self.questions.iter().enumerate() {
            let p = format!("questions[{i}]");
            if !seen.insert(q.key.clone()) {
                e.add(format!("{p}.key"), Reason::new("listed-twice"));
            }
            if let Some(q) = parse_question(&mut e, &p, q, &questions) {
                questions.push(q);
            }
        }
        if self.allowed_origins.len() > MAX_ORIGINS {
            e.add(
                "allowed_origins",
                Reason::new("too-many").with("max", MAX_ORIGINS),
            );
        }
        let mut origins = Vec::new();
        for (i, o) in self.allowed_origins.iter().enumerate() {
            if let Some(o) = e.take(&format!("allowed_origins[{i}]"), parse_origin(o)) {
                origins.push(o);
            }
        }
        e.into_result(|| SurveyData {
            slug: slug.unwrap(),
            name: name.unwrap(),
            status: status.unwrap(),
            touchpoint_id: self.touchpoint_id,
            journey_id: self.journey_id,
            package_id: self.package_id,
            intro: intro.unwrap(),
            thanks: thanks.unwrap(),
            questions,
            allowed_origins: origins,
        })
    }
}

fn parse_question(
    e: &mut FieldErrors,
    p: &str,
    q: &QuestionInput,
    earlier: &[Question],
) -> Option<Question> {
    let before = e.len();
    let k = key(e, &format!("{p}.key"), &q.key);
    let kind = e.take(&format!("{p}.kind"), QuestionKind::parse(&q.kind));
    let text = match kind {
        Some(kd) if kd.text_optional() => e.take(&format!("{p}.text"), Texts::text(&q.text)),
        _ => e.take(&format!("{p}.text"), Texts::name(&q.text)),
    };
    if kind == Some(QuestionKind::Contact) && q.required {
        // Consent to be contacted is given freely or not at all.
        e.add(format!("{p}.required"), Reason::new("contact-not-required"));
    }
    let choice_kind = matches!(kind, Some(QuestionKind::Single | QuestionKind::Multi));
    let mut options = Vec::new();
    if choice_kind {
        if q.options.len() < 2 || q.options.len() > MAX_CHOICES {
            e.add(
                format!("{p}.options"),
                Reason::new("choice-count").with("max", MAX_CHOICES),
            );
        }
        let mut keys = BTreeSet::new();
        for (j, c) in q.options.iter().enumerate() {
            let cp = format!("{p}.options[{j}]");
            if !keys.insert(c.key.clone()) {
                e.add(format!("{cp}.key"), Reason::new("listed-twice"));
            }
            let ck = key(e, &format!("{cp}.key"), &c.key);
            let cl = e.take(&format!("{cp}.label"), Texts::name(&c.label));
            if let (Some(key), Some(label)) = (ck, cl) {
                options.push(Choice { key, label });
            }
        }
    } else if !q.options.is_empty() {
        e.add(format!("{p}.options"), Reason::new("options-not-used"));
    }
    let scale = match (kind, q.scale) {
        (Some(QuestionKind::Rating), s) => {
            let s = s.unwrap_or(5);
            if !(3..=10).contains(&s) {
                e.add(format!("{p}.scale"), Reason::new("scale-range"));
            }
            Some(s)
        }
        (_, Some(_)) => {
            e.add(format!("{p}.scale"), Reason::new("options-not-used"));
            None
        }
        _ => None,
    };
    if let Some(c) = &q.show_if {
        let ok = earlier
            .iter()
            .find(|x| x.key.as_str() == c.question)
            .and_then(|x| x.range())
            .is_some_and(|(lo, hi)| lo <= c.min && c.min <= c.max && c.max <= hi);
        if !ok {
            e.add(format!("{p}.show_if"), Reason::new("show-if"));
        }
    }
    if e.len() > before {
        return None;
    }
    Some(Question {
        key: k?,
        kind: kind?,
        text: text?,
        required: q.required,
        options,
        scale,
        show_if: q.show_if.clone(),
    })
}

/// A contact detail: an e-mail address (kept as given, trimmed) or a phone number (7–15
/// digits, with an optional leading `+` and spaces, hyphens or brackets between; kept
/// as `+358401234567`-like digits).
pub fn contact_detail(s: &str) -> Result<String, Reason> {
    let s = s.trim();
    if s.contains('@') {
        return crate::model::Email::parse(s)
            .map(|e| e.as_str().to_owned())
            .map_err(|_| Reason::new("bad-contact"));
    }
    let plus = s.starts_with('+');
    let body = s.strip_prefix('+').unwrap_or(s);
    let ok_chars = body
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')'));
    let digits: String = body.chars().filter(char::is_ascii_digit).collect();
    if ok_chars && (7..=15).contains(&digits.len()) {
        Ok(format!("{}{digits}", if plus { "+" } else { "" }))
    } else {
        Err(Reason::new("bad-contact"))
    }
}

/// Whether a contact detail is an e-mail address (else a phone number).
pub fn is_email(contact: &str) -> bool {
    contact.contains('@')
}

/// `https://host[:port]` or `http://host[:port]`, nothing after.
fn parse_origin(s: &str) -> Result<String, Reason> {
    let s = s.trim();
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    let ok = rest.is_some_and(|r| {
        !r.is_empty()
            && r.len() <= 253
            && r.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b':')
    });
    if ok {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(Reason::new("bad-origin"))
    }
}

/// A client-chosen response id (the page and widget generate one) that makes retries
/// safe: the same id twice stores one response.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ResponseKey(String);

impl ResponseKey {
    pub fn parse(s: &str) -> Result<Self, Reason> {
        let ok = (8..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(Reason::new("bad-response-id"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Context carried with each answer: where and how it was given.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HiddenInput {
    #[serde(default)]
    pub touchpoint_id: Option<Id>,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub locale: Option<String>,
    /// A pseudonymous customer reference (never a name or an e-mail address).
    #[serde(default)]
    pub customer_ref: Option<String>,
    #[serde(default)]
    pub case_ref: Option<String>,
    #[serde(default)]
    pub custom: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Hidden {
    pub touchpoint_id: Option<Id>,
    pub channel: Option<String>,
    #[schema(value_type = Option<String>)]
    pub locale: Option<Lang>,
    pub customer_ref: Option<String>,
    pub case_ref: Option<String>,
    pub custom: BTreeMap<String, String>,
}

fn reference(e: &mut FieldErrors, field: &str, v: &Option<String>) -> Option<String> {
    let t = v.as_deref().map(str::trim).filter(|t| !t.is_empty())?;
    if t.chars().count() > MAX_REF || t.chars().any(char::is_control) {
        e.add(field, Reason::new("bad-reference").with("max", MAX_REF));
        return None;
    }
    Some(t.to_owned())
}

impl HiddenInput {
    pub fn parse(&self) -> Result<Hidden, FieldErrors> {
        let mut e = FieldErrors::new();
        if let Some(id) = self.touchpoint_id {
            positive_id(&mut e, "hidden.touchpoint_id", id);
        }
        let channel = self
            .channel
            .as_deref()
            .filter(|c| !c.is_empty())
            .and_then(|c| {
                e.take("hidden.channel", crate::model::Channel::parse(c))
                    .map(|_| c.to_owned())
            });
        let locale = self
            .locale
            .as_deref()
            .filter(|l| !l.is_empty())
            .and_then(|l| e.take("hidden.locale", Lang::parse(l)));
        let customer_ref = reference(&mut e, "hidden.customer_ref", &self.customer_ref);
        let case_ref = reference(&mut e, "hidden.case_ref", &self.case_ref);
        if self.custom.len() > MAX_CUSTOM {
            e.add(
                "hidden.custom",
                Reason::new("too-many").with("max", MAX_CUSTOM),
            );
        }
        for (k, v) in &self.custom {
            if Slug::parse(k).is_err() {
                e.add(format!("hidden.custom.{k}"), Reason::new("bad-slug"));
            } else if v.chars().count() > MAX_CUSTOM_VALUE || v.chars().any(char::is_control) {
                e.add(
                    format!("hidden.custom.{k}"),
                    Reason::new("bad-reference").with("max", MAX_CUSTOM_VALUE),
                );
            }
        }
        e.into_result(|| Hidden {
            touchpoint_id: self.touchpoint_id,
            channel,
            locale,
            customer_ref,
            case_ref,
            custom: self.custom.clone(),
        })
    }
}

impl From<&SurveyData> for SurveyInput {
    /// The input that parses back to this survey (for edits that change one part).
    fn from(d: &SurveyData) -> Self {
        Self {
            slug: d.slug.to_string(),
            name: d.name.raw(),
            status: Some(d.status.as_str().to_owned()),
            touchpoint_id: d.touchpoint_id,
            journey_id: d.journey_id,
            package_id: d.package_id,
            intro: d.intro.raw(),
            thanks: d.thanks.raw(),
            questions: d.questions.iter().map(Into::into).collect(),
            allowed_origins: d.allowed_origins.clone(),
        }
    }
}

/// A starting point the UI offers: `nps` (NPS with a follow-up for detractors and
/// one for the others), `csat` or `ces` (the score and a comment). The target is set
/// by the caller.
pub fn template(kind: &str, slug: &str, name: RawTexts) -> SurveyInput {
    let texts = |fi: &str, en: &str| {
        RawTexts::from([
            ("fi".to_owned(), fi.to_owned()),
            ("en".to_owned(), en.to_owned()),
        ])
    };
    let q = |key: &str, kind: &str, text: RawTexts, required: bool, show_if: Option<ShowIf>| {
        QuestionInput {
            key: key.into(),
            kind: kind.into(),
            text,
            required,
            options: vec![],
            scale: None,
            show_if,
        }
    };
    let cond = |min, max| {
        Some(ShowIf {
            question: kind.into(),
            min,
            max,
        })
    };
    let questions = match kind {
        "csat" | "ces" => vec![
            q(kind, kind, RawTexts::new(), true, None),
            q(
                "comment",
                "text",
                texts("Haluatko kertoa lisää?", "Anything to add?"),
                false,
                None,
            ),
        ],
        _ => vec![
            q("nps", "nps", RawTexts::new(), true, None),
            q(
                "improve",
                "text",
                texts("Mitä meidän pitäisi parantaa?", "What should we improve?"),
                false,
                cond(0, 6),
            ),
            q(
                "best",
                "text",
                texts("Mikä onnistui parhaiten?", "What went best?"),
                false,
                cond(7, 10),
            ),
        ],
    };
    SurveyInput {
        slug: slug.to_owned(),
        name,
        status: Some("draft".into()),
        touchpoint_id: None,
        journey_id: None,
        package_id: None,
        intro: RawTexts::new(),
        thanks: RawTexts::new(),
        questions,
        allowed_origins: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn survey(v: Value) -> Result<SurveyData, FieldErrors> {
        serde_json::from_value::<SurveyInput>(v).unwrap().parse()
    }

    fn full() -> SurveyData {
        survey(json!({
            "slug": "s", "name": {"fi": "Kysely", "en": "Survey"}, "status": "active",
            "touchpoint_id": 3,
            "questions": [
                {"key": "nps", "kind": "nps", "required": true},
                {"key": "why", "kind": "text", "text": {"en": "Why?"}, "show_if": {"question": "nps", "min": 0, "max": 6}},
                {"key": "csat", "kind": "csat"},
                {"key": "ces", "kind": "ces"},
                {"key": "stars", "kind": "rating", "scale": 4, "text": {"en": "Stars"}},
                {"key": "ch", "kind": "single", "text": {"en": "Channel"}, "options": [
                    {"key": "web", "label": {"en": "Web"}}, {"key": "app", "label": {"en": "App"}}]},
                {"key": "m", "kind": "multi", "text": {"en": "What"}, "options": [
                    {"key": "a", "label": {"en": "A"}}, {"key": "b", "label": {"en": "B"}}, {"key": "c", "label": {"en": "C"}}]}
            ],
            "allowed_origins": ["https://Example.fi"]
        }))
        .unwrap()
    }

    fn answers(v: Value) -> BTreeMap<String, Value> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_valid_survey_parses() {
        let s = full();
        assert_eq!(s.questions.len(), 7);
        assert_eq!(s.target(), Some(SurveyTarget::Touchpoint(3)));
        assert!(s.allows_origin("https://example.fi"));
        assert_eq!(s.question("stars").unwrap().range(), Some((1, 4)));
    }

    #[test]
    fn survey_errors_name_every_field() {
        let e = survey(json!({
            "slug": "Bad Slug", "name": {}, "status": "open", "touchpoint_id": 1, "journey_id": 2,
            "questions": [
                {"key": "q", "kind": "nps"},
                {"key": "q", "kind": "single", "text": {"en": "x"}, "options": [{"key": "a", "label": {"en": "A"}}]},
                {"key": "r", "kind": "rating", "scale": 11, "text": {"en": "x"}},
                {"key": "t", "kind": "text", "text": {}},
                {"key": "u", "kind": "text", "text": {"en": "x"}, "show_if": {"question": "t", "min": 0, "max": 6}},
                {"key": "v", "kind": "smile"}
            ],
            "allowed_origins": ["https://a.fi/path", "ftp://x"]
        }))
        .unwrap_err();
        for f in [
            "slug",
            "name",
            "status",
            "touchpoint_id",
            "questions[1].key",
            "questions[1].options",
            "questions[2].scale",
            "questions[3].text",
            "questions[4].show_if",
            "questions[5].kind",
            "allowed_origins[0]",
            "allowed_origins[1]",
        ] {
            assert!(e.0.contains_key(f), "{f} missing in {e}");
        }
        let e = survey(json!({"slug": "s", "name": {"en": "S"}, "package_id": 1, "questions": []}))
            .unwrap_err();
        assert_eq!(e.0["questions"].code, "needs-questions");
    }

    #[test]
    fn answers_validate_against_their_question_types() {
        let s = full();
        let a = s
            .validate_answers(
                &answers(json!({"nps": 3, "why": " slow ", "csat": 5, "ces": 2, "stars": 4, "ch": "web", "m": ["c", "a"]})),
                true,
            )
            .unwrap();
        assert_eq!(a.0["nps"], Answer::Score(3));
        // A scale's answer is a number; the text "3" is refused (issue 12).
        let e = s
            .validate_answers(&answers(json!({"nps": "3", "csat": 5})), true)
            .unwrap_err();
        assert_eq!(e.0["answers.nps"].code, "score-range");
        assert_eq!(a.0["why"], Answer::Text("slow".into()));
        assert_eq!(a.0["m"], Answer::Choices(vec!["a".into(), "c".into()]));
        assert_eq!(
            a.scores(&s),
            Scores {
                nps: Some(3),
                csat: Some(5),
                ces: Some(2)
            }
        );
        let e = s
            .validate_answers(
                &answers(json!({"nps": 11, "csat": 0, "ces": 8, "stars": 5, "ch": "fax", "m": ["a", "z"], "extra": 1})),
                true,
            )
            .unwrap_err();
        for f in ["nps", "csat", "ces", "stars", "ch", "m", "extra"] {
            assert!(e.0.contains_key(&format!("answers.{f}")), "{f} in {e}");
        }
        assert_eq!(e.0["answers.nps"].code, "score-range");
    }

    #[test]
    fn required_only_when_complete_and_follow_up_only_when_shown() {
        let s = full();
        let e = s.validate_answers(&answers(json!({})), true).unwrap_err();
        assert_eq!(e.0["answers.nps"].code, "answer-required");
        assert!(s.validate_answers(&answers(json!({})), false).is_ok());
        // A promoter's follow-up for detractors is dropped, not stored.
        let a = s
            .validate_answers(&answers(json!({"nps": 10, "why": "x"})), true)
            .unwrap();
        assert!(!a.0.contains_key("why"));
        // Blank text is no answer.
        let a = s
            .validate_answers(&answers(json!({"nps": 0, "why": "  "})), true)
            .unwrap();
        assert!(!a.0.contains_key("why"));
    }

    #[test]
    fn answers_round_trip_json() {
        let s = full();
        let a = s
            .validate_answers(
                &answers(json!({"nps": 9, "ch": "app", "m": ["b"], "csat": 4})),
                true,
            )
            .unwrap();
        let back = Answers::from_json(&a.to_json()).unwrap();
        assert_eq!(back.scores(&s), a.scores(&s));
        assert_eq!(back.0["m"], Answer::Choices(vec!["b".into()]));
    }

    #[test]
    fn response_keys_and_hidden_fields() {
        assert!(ResponseKey::parse("0b9c7a1e-2f").is_ok());
        for bad in [
            "short",
            "has space in it",
            "<script>alert(1)</script>",
            &"x".repeat(65),
        ] {
            assert!(ResponseKey::parse(bad).is_err(), "{bad}");
        }
        let h = HiddenInput {
            touchpoint_id: Some(4),
            channel: Some("web".into()),
            locale: Some("fi".into()),
            customer_ref: Some(" c-123 ".into()),
            case_ref: None,
            custom: BTreeMap::from([("train".into(), "IC 27".into())]),
        }
        .parse()
        .unwrap();
        assert_eq!(h.customer_ref.as_deref(), Some("c-123"));
        let e = HiddenInput {
            touchpoint_id: Some(0),
            channel: Some("Fax Machine".into()),
            locale: Some("finnish".into()),
            customer_ref: Some("x".repeat(200)),
            case_ref: Some("a\u{0}b".into()),
            custom: BTreeMap::from([("Bad Key".into(), "v".into())]),
        }
        .parse()
        .unwrap_err();
        assert_eq!(e.len(), 6, "{e}");
    }

    #[test]
    fn nps_bands() {
        assert_eq!(nps_band(0), "detractor");
        assert_eq!(nps_band(6), "detractor");
        assert_eq!(nps_band(7), "passive");
        assert_eq!(nps_band(9), "promoter");
    }

    #[test]
    fn the_templates_are_valid() {
        for kind in ["nps", "csat", "ces"] {
            let mut t = template(
                kind,
                "tp-survey",
                RawTexts::from([("en".into(), "S".into())]),
            );
            t.touchpoint_id = Some(5);
            let s = t.parse().unwrap();
            assert_eq!(s.questions[0].kind.as_str(), kind);
        }
        let mut t = template("nps", "x", RawTexts::from([("en".into(), "S".into())]));
        t.journey_id = Some(1);
        assert_eq!(
            t.parse().unwrap().questions[1]
                .show_if
                .as_ref()
                .unwrap()
                .max,
            6
        );
    }
}
