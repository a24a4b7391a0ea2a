//! The encounter log (*kohtaamiset*): what happened between the organisation and one
//! customer — when, at which touchpoint (or channel and owner), of which kind, recorded
//! by whom and from where — and the customer identifiers that tie encounters, feedback
//! and (later) follow-ups and cases into one customer timeline. Frontline captures are
//! encounters recorded by staff with the customer's words, a theme and a feeling.
//!
//! Everything here is shape and validation; references to the model (touchpoint slugs,
//! units, the workspace's own kinds) are resolved by the application layer.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::model::{Channel, Owner};
use crate::text::Slug;
use crate::{FieldErrors, Id, Reason};

/// Longest free text of an encounter or a capture (characters).
pub const MAX_ENCOUNTER_TEXT: usize = 4000;
/// Most key–value attributes on one encounter.
pub const MAX_ATTRIBUTES: usize = 30;
pub const MAX_ATTRIBUTE_VALUE: usize = 500;
/// Most encounters in one request (a larger load is several requests or an import).
pub const MAX_BATCH: usize = 5000;
/// How far ahead of the server's clock an encounter may be dated (clock skew).
pub const FUTURE_SLACK_MINUTES: i64 = 10;

/// Kinds every workspace has; a workspace may add its own (`encounter_kinds`).
/// `case-step` is a case's status change (recorded by the case, never sent as an
/// encounter's kind by hand, though nothing forbids it).
pub const BUILTIN_KINDS: [&str; 9] = [
    "contact",
    "visit",
    "purchase",
    "delivery",
    "complaint",
    "note",
    "promise",
    "capture",
    "case-step",
];

/// Identifier kinds that are personal data: their values are never stored, only a
/// keyed pseudonym (HMAC with the installation secret), so records still link.
pub const PERSONAL_KINDS: [&str; 2] = ["email", "phone"];

/// Where an encounter came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    Api,
    Import,
    Feedback,
    Staff,
    Case,
    FollowUp,
}

impl Source {
    pub const ALL: [Source; 6] = [
        Source::Api,
        Source::Import,
        Source::Feedback,
        Source::Staff,
        Source::Case,
        Source::FollowUp,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Api => "api",
            Source::Import => "import",
            Source::Feedback => "feedback",
            Source::Staff => "staff",
            Source::Case => "case",
            Source::FollowUp => "follow-up",
        }
    }
    pub fn parse(s: &str) -> Result<Self, Reason> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                Reason::new("not-one-of")
                    .with("value", s)
                    .with("options", "api, import, feedback, staff, case, follow-up")
            })
    }
}

/// A customer identifier, `kind:value` (`crm:12345`, `loyalty:99-1`, `email:a@b.fi`). A
/// bare value is of kind `ref` (the `customer_ref` feedback carries). Personal kinds
/// are normalised (e-mail lower-cased, phone digits only) so the pseudonym is stable.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Identifier {
    kind: String,
    value: String,
}

impl Identifier {
    pub fn parse(s: &str) -> Result<Self, Reason> {
        let s = s.trim();
        let (kind, value) = match s.split_once(':') {
            Some((k, v)) if is_kind(k) => (k, v.trim()),
            _ => ("ref", s),
        };
        if value.is_empty()
            || value.chars().count() > crate::survey::MAX_REF
            || value.chars().any(char::is_control)
        {
            return Err(Reason::new("bad-identifier"));
        }
        let value = match kind {
            "email" => {
                let v = value.to_lowercase();
                if !v.contains('@') || v.starts_with('@') || v.ends_with('@') {
                    return Err(Reason::new("bad-identifier"));
                }
                v
            }
            "phone" => {
                let digits: String = value
                    .chars()
                    .filter(|c| c.is_ascii_digit() || *c == '+')
                    .collect();
                if digits.chars().filter(char::is_ascii_digit).count() < 5 {
                    return Err(Reason::new("bad-identifier"));
                }
                digits
            }
            _ => value.to_owned(),
        };
        Ok(Self {
            kind: kind.to_owned(),
            value,
        })
    }
    pub fn kind(&self) -> &str {
        &self.kind
    }
    pub fn value(&self) -> &str {
        &self.value
    }
    /// Whether only a keyed pseudonym of the value may be stored.
    pub fn is_personal(&self) -> bool {
        PERSONAL_KINDS.contains(&self.kind.as_str())
    }
    /// The text stored and matched: `kind:value`, or for a personal kind
    /// `kind:#<pseudonym>` with the pseudonym computed by the caller from the value.
    pub fn stored(&self, pseudonym: impl FnOnce(&str) -> String) -> String {
        if self.is_personal() {
            format!("{}:#{}", self.kind, pseudonym(&self.value))
        } else {
            format!("{}:{}", self.kind, self.value)
        }
    }
    /// The forms a response's `customer_ref` may take for this identifier: feedback
    /// written before identifiers had kinds carries the bare value (kind `ref`).
    pub fn feedback_refs(&self) -> Vec<String> {
        let full = format!("{}:{}", self.kind, self.value);
        if self.kind == "ref" {
            vec![full, self.value.clone()]
        } else if self.is_personal() {
            vec![]
        } else {
            vec![full]
        }
    }
}

fn is_kind(k: &str) -> bool {
    (1..=32).contains(&k.len())
        && k.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// A client's id for an encounter, unique in the workspace: a retried post with the
/// same id stores nothing twice.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ClientId(String);

impl ClientId {
    pub fn parse(s: &str) -> Result<Self, Reason> {
        let ok = (1..=100).contains(&s.len())
            && s.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/')
            });
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(Reason::new("bad-client-id"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A moment as RFC 3339 (`2026-11-26T14:05:00+02:00`); stored in UTC.
pub fn parse_time(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, Reason> {
    let t: DateTime<FixedOffset> =
        DateTime::parse_from_rfc3339(s.trim()).map_err(|_| Reason::new("bad-time"))?;
    let t = t.with_timezone(&Utc);
    use chrono::Datelike;
    if !(1970..=9999).contains(&t.year()) {
        return Err(Reason::new("bad-time"));
    }
    if t > now + chrono::Duration::minutes(FUTURE_SLACK_MINUTES) {
        return Err(Reason::new("in-future"));
    }
    Ok(t)
}

/// One encounter as a client sends it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EncounterInput {
    /// The client's id (1–100 of A–Z a–z 0–9 - _ . : /); a retry with the same id
    /// stores nothing twice.
    pub id: String,
    /// When it happened, RFC 3339 with an offset.
    pub at: String,
    /// The touchpoint, by id …
    #[serde(default)]
    pub touchpoint_id: Option<Id>,
    /// … or by slug.
    #[serde(default)]
    pub touchpoint: Option<String>,
    /// The channel; defaults to the touchpoint's. Required without a touchpoint.
    #[serde(default)]
    pub channel: Option<String>,
    /// The owning unit or partner; defaults to the touchpoint's owner. Required
    /// without a touchpoint.
    #[serde(default)]
    pub owner: Option<Owner>,
    /// The customer, `kind:value` (e.g. `crm:12345`; a bare value is `ref:`).
    #[serde(default)]
    pub customer: Option<String>,
    /// The customer's matter: a trip, an order, a claim.
    #[serde(default)]
    pub case_ref: Option<String>,
    /// contact, visit, purchase, delivery, complaint, note, promise, capture, or one of
    /// the workspace's own kinds.
    pub kind: String,
    /// A short text (at most 4000 characters).
    #[serde(default)]
    pub text: Option<String>,
    /// Key–value details (keys as slugs, at most 30).
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// Where an encounter happened, as given (resolved against the model later).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    TouchpointId(Id),
    TouchpointSlug(Slug),
    /// No touchpoint: the channel and owner say where.
    Channel,
}

/// An encounter that passed validation, its references not yet resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct EncounterDraft {
    pub client_id: ClientId,
    pub at: DateTime<Utc>,
    pub place: Place,
    pub channel: Option<Channel>,
    pub owner: Option<Owner>,
    pub customer: Option<Identifier>,
    pub case_ref: Option<String>,
    pub kind: Slug,
    pub text: Option<String>,
    pub attributes: BTreeMap<String, String>,
}

fn reference(e: &mut FieldErrors, field: &str, v: &Option<String>) -> Option<String> {
    let t = v.as_deref().map(str::trim).filter(|t| !t.is_empty())?;
    if t.chars().count() > crate::survey::MAX_REF || t.chars().any(char::is_control) {
        e.add(
            field,
            Reason::new("bad-reference").with("max", crate::survey::MAX_REF),
        );
        return None;
    }
    Some(t.to_owned())
}

/// Free text: trimmed, empty is none, at most [`MAX_ENCOUNTER_TEXT`] characters.
pub fn free_text(e: &mut FieldErrors, field: &str, v: Option<&str>) -> Option<String> {
    let t = v.map(str::trim).filter(|t| !t.is_empty())?;
    if t.chars().count() > MAX_ENCOUNTER_TEXT {
        e.add(
            field,
            Reason::new("too-long").with("max", MAX_ENCOUNTER_TEXT),
        );
        return None;
    }
    Some(t.to_owned())
}

impl EncounterInput {
    pub fn parse(&self, now: DateTime<Utc>) -> Result<EncounterDraft, FieldErrors> {
        let mut e = FieldErrors::new();
        let client_id = e.take("id", ClientId::parse(&self.id));
        let at = e.take("at", parse_time(&self.at, now));
        let place = match (self.touchpoint_id, self.touchpoint.as_deref()) {
            (Some(_), Some(_)) => {
                e.add("touchpoint", Reason::new("touchpoint-twice"));
                None
            }
            (Some(id), None) => {
                crate::model::positive_id(&mut e, "touchpoint_id", id);
                Some(Place::TouchpointId(id))
            }
            (None, Some(s)) => e
                .take("touchpoint", Slug::parse(s.trim()))
                .map(Place::TouchpointSlug),
            (None, None) => Some(Place::Channel),
        };
        let channel = self
            .channel
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .and_then(|c| e.take("channel", Channel::parse(c)));
        if let Some(o) = self.owner {
            let (Owner::Unit(id) | Owner::Partner(id)) = o;
            crate::model::positive_id(&mut e, "owner", id);
        }
        if place == Some(Place::Channel) {
            if channel.is_none() && !e.0.contains_key("channel") {
                e.add("channel", Reason::new("place-needed"));
            }
            if self.owner.is_none() {
                e.add("owner", Reason::new("place-needed"));
            }
        }
        let customer = self
            .customer
            .as_deref()
            .filter(|c| !c.trim().is_empty())
            .and_then(|c| e.take("customer", Identifier::parse(c)));
        let case_ref = reference(&mut e, "case_ref", &self.case_ref);
        let kind = e.take("kind", Slug::parse(self.kind.trim()));
        let text = free_text(&mut e, "text", self.text.as_deref());
        if self.attributes.len() > MAX_ATTRIBUTES {
            e.add(
                "attributes",
                Reason::new("too-many").with("max", MAX_ATTRIBUTES),
            );
        }
        for (k, v) in &self.attributes {
            if Slug::parse(k).is_err() {
                e.add(format!("attributes.{k}"), Reason::new("bad-slug"));
            } else if v.chars().count() > MAX_ATTRIBUTE_VALUE || v.chars().any(char::is_control) {
                e.add(
                    format!("attributes.{k}"),
                    Reason::new("bad-reference").with("max", MAX_ATTRIBUTE_VALUE),
                );
            }
        }
        if !e.is_empty() {
            return Err(e);
        }
        match (client_id, at, place, kind) {
            (Some(client_id), Some(at), Some(place), Some(kind)) => Ok(EncounterDraft {
                client_id,
                at,
                place,
                channel,
                owner: self.owner,
                customer,
                case_ref,
                kind,
                text,
                attributes: self.attributes.clone(),
            }),
            _ => Err(e),
        }
    }
}

/// How a capture gives the customer's words.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Words {
    /// What the customer said, in their words.
    #[default]
    Quote,
    /// The staff member's reading of it.
    Interpretation,
}

impl Words {
    pub fn as_str(self) -> &'static str {
        match self {
            Words::Quote => "quote",
            Words::Interpretation => "interpretation",
        }
    }
    pub fn parse(s: &str) -> Result<Self, Reason> {
        match s {
            "quote" => Ok(Words::Quote),
            "interpretation" => Ok(Words::Interpretation),
            _ => Err(Reason::new("not-one-of")
                .with("value", s)
                .with("options", "quote, interpretation")),
        }
    }
}

/// What a staff member records about a customer at a touchpoint.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaptureInput {
    /// The client's id; a retried form or post stores nothing twice.
    pub id: String,
    /// When; defaults to now.
    #[serde(default)]
    pub at: Option<String>,
    #[serde(default)]
    pub touchpoint_id: Option<Id>,
    /// Without a touchpoint: the channel, and the owner (defaults to nothing).
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub owner: Option<Owner>,
    /// What the customer said or did.
    pub text: String,
    /// `quote` (the customer's words) or `interpretation` (staff's reading).
    pub words: Words,
    /// A theme from the workspace's list, by slug.
    #[serde(default)]
    pub theme: Option<String>,
    /// How the customer seemed to feel, −2 … 2.
    #[serde(default)]
    pub feeling: i64,
    #[serde(default)]
    pub customer: Option<String>,
    #[serde(default)]
    pub case_ref: Option<String>,
    /// The owning unit should follow this up.
    #[serde(default)]
    pub needs_follow_up: bool,
    /// Something promised to the customer …
    #[serde(default)]
    pub promise: Option<String>,
    /// … by this day (YYYY-MM-DD).
    #[serde(default)]
    pub promise_due: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CaptureDraft {
    pub encounter: EncounterDraft,
    pub words: Words,
    pub theme: Option<Slug>,
    pub feeling: i64,
    pub needs_follow_up: bool,
    pub promise: Option<String>,
    pub promise_due: Option<chrono::NaiveDate>,
}

impl CaptureInput {
    pub fn parse(&self, now: DateTime<Utc>) -> Result<CaptureDraft, FieldErrors> {
        let mut e = FieldErrors::new();
        let encounter = EncounterInput {
            id: self.id.clone(),
            at: self.at.clone().unwrap_or_else(|| now.to_rfc3339()),
            touchpoint_id: self.touchpoint_id,
            touchpoint: None,
            channel: self.channel.clone(),
            owner: self.owner,
            customer: self.customer.clone(),
            case_ref: self.case_ref.clone(),
            kind: "capture".into(),
            text: Some(self.text.clone()),
            attributes: BTreeMap::new(),
        }
        .parse(now);
        let encounter = match encounter {
            Ok(d) => Some(d),
            Err(errs) => {
                for (k, v) in errs.0 {
                    e.add(k, v);
                }
                None
            }
        };
        if self.text.trim().is_empty() {
            e.add("text", Reason::new("empty"));
        }
        let theme = self
            .theme
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .and_then(|t| e.take("theme", Slug::parse(t)));
        if !(-2..=2).contains(&self.feeling) {
            e.add("feeling", Reason::new("emotion-range"));
        }
        let promise = free_text(&mut e, "promise", self.promise.as_deref());
        let promise_due = self
            .promise_due
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .and_then(|d| e.take("promise_due", crate::rules::parse_day(d)));
        if promise_due.is_some() && promise.is_none() && !e.0.contains_key("promise") {
            e.add("promise", Reason::new("empty"));
        }
        match encounter {
            Some(encounter) if e.is_empty() => Ok(CaptureDraft {
                encounter,
                words: self.words,
                theme,
                feeling: self.feeling,
                needs_follow_up: self.needs_follow_up,
                promise,
                promise_due,
            }),
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-11-26T12:00:00Z".parse().unwrap()
    }

    fn input() -> EncounterInput {
        EncounterInput {
            id: "pos-1".into(),
            at: "2026-11-26T10:00:00+02:00".into(),
            touchpoint: Some("buy-ticket".into()),
            kind: "purchase".into(),
            customer: Some("crm:123".into()),
            ..Default::default()
        }
    }

    #[test]
    fn identifiers_have_a_kind_and_personal_ones_are_normalised() {
        let i = Identifier::parse("crm:12345").unwrap();
        assert_eq!((i.kind(), i.value()), ("crm", "12345"));
        assert_eq!(i.stored(|_| unreachable!()), "crm:12345");
        assert_eq!(i.feedback_refs(), ["crm:12345"]);
        let bare = Identifier::parse("c-42").unwrap();
        assert_eq!(bare.kind(), "ref");
        assert_eq!(bare.feedback_refs(), ["ref:c-42", "c-42"]);
        // A colon inside a value that does not start with a kind stays in the value.
        assert_eq!(Identifier::parse("Order 7: late").unwrap().kind(), "ref");
        let e = Identifier::parse("email: Maija@Example.FI ").unwrap();
        assert_eq!(e.value(), "maija@example.fi");
        assert!(e.is_personal());
        assert_eq!(
            e.stored(|v| format!("h({v})")),
            "email:#h(maija@example.fi)"
        );
        assert!(e.feedback_refs().is_empty(), "never matched as plain text");
        assert_eq!(
            Identifier::parse("phone:+358 40 123 4567").unwrap().value(),
            "+358401234567"
        );
        for bad in ["", "crm:", "email:nobody", "phone:12", "crm:a\u{7}b"] {
            assert!(Identifier::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_encounter_needs_a_place_a_time_and_a_kind() {
        let d = input().parse(now()).unwrap();
        assert_eq!(
            d.place,
            Place::TouchpointSlug(Slug::parse("buy-ticket").unwrap())
        );
        assert_eq!(d.at.to_rfc3339(), "2026-11-26T08:00:00+00:00");
        let mut i = input();
        i.touchpoint = None;
        let e = i.parse(now()).unwrap_err();
        assert_eq!(e.0["channel"].code, "place-needed");
        assert_eq!(e.0["owner"].code, "place-needed");
        i.channel = Some("phone".into());
        i.owner = Some(Owner::Unit(3));
        assert_eq!(i.parse(now()).unwrap().place, Place::Channel);
        let mut i = input();
        i.touchpoint_id = Some(4);
        assert_eq!(
            i.parse(now()).unwrap_err().0["touchpoint"].code,
            "touchpoint-twice"
        );
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let i = EncounterInput {
            id: "has space".into(),
            at: "yesterday".into(),
            touchpoint: Some("Bad Slug".into()),
            kind: "".into(),
            customer: Some("email:x".into()),
            text: Some("x".repeat(MAX_ENCOUNTER_TEXT + 1)),
            attributes: [("Bad Key".to_string(), "v".to_string())].into(),
            ..Default::default()
        };
        let e = i.parse(now()).unwrap_err();
        let fields: Vec<&str> = e.0.keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            [
                "at",
                "attributes.Bad Key",
                "customer",
                "id",
                "kind",
                "text",
                "touchpoint"
            ]
        );
    }

    #[test]
    fn times_in_the_future_are_refused_beyond_clock_skew() {
        assert!(parse_time("2026-11-26T12:09:00Z", now()).is_ok());
        assert_eq!(
            parse_time("2026-11-26T12:11:00Z", now()).unwrap_err().code,
            "in-future"
        );
        assert_eq!(
            parse_time("2026-11-26", now()).unwrap_err().code,
            "bad-time"
        );
    }

    #[test]
    fn captures_validate_words_feeling_and_promise() {
        let c = CaptureInput {
            id: "cap-1".into(),
            touchpoint_id: Some(2),
            text: "The ticket machine ate my card".into(),
            words: Words::Quote,
            feeling: -2,
            promise: Some("We call back".into()),
            promise_due: Some("1.12.2026".into()),
            ..Default::default()
        };
        let d = c.parse(now()).unwrap();
        assert_eq!(d.encounter.kind.as_str(), "capture");
        assert_eq!(d.promise_due.unwrap().to_string(), "2026-12-01");
        let bad = CaptureInput {
            text: " ".into(),
            feeling: 3,
            promise: None,
            promise_due: Some("2026-12-01".into()),
            ..c
        };
        let e = bad.parse(now()).unwrap_err();
        assert_eq!(
            e.0.keys().map(String::as_str).collect::<Vec<_>>(),
            ["feeling", "promise", "text"]
        );
    }
}
