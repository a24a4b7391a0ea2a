//! The entities of a workspace's model, as validated data ("…Data") and as the raw input
//! a client or document sends ("…Input"). `…Input::parse` is the only way to get a
//! `…Data`, so storage never sees an unchecked value.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{FieldErrors, Reason};
use crate::text::{PlainName, Slug, Texts};
use crate::Id;

/// Declares a closed set of values with their wire names.
macro_rules! str_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        // The OpenAPI derive does not see a variant's `rename` through the macro, so
        // the enum also says `snake_case`, which every wire name here is (a test
        // compares the documented values with the wire names).
        #[serde(rename_all = "snake_case")]
        pub enum $name { $(#[serde(rename = $s)] $variant),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str { match self { $($name::$variant => $s),+ } }
            pub fn parse(s: &str) -> Result<Self, $crate::error::Reason> {
                match s {
                    $($s => Ok($name::$variant),)+
                    _ => Err($crate::error::Reason::new("not-one-of").with("value", s).with("options", [$($s),+].join(", "))),
                }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}
pub(crate) use str_enum;

str_enum!(
    /// A member's role in a workspace.
    Role { Admin => "admin", Editor => "editor", Viewer => "viewer", Privacy => "privacy" }
);
impl Role {
    /// May find, export and erase a person's data (the privacy officer; an admin
    /// too). A privacy officer otherwise sees what a viewer sees.
    pub fn can_handle_privacy(self) -> bool {
        matches!(self, Role::Admin | Role::Privacy)
    }
    pub fn can_edit(self) -> bool {
        matches!(self, Role::Admin | Role::Editor)
    }
    pub fn is_admin(self) -> bool {
        self == Role::Admin
    }
}
str_enum!(
    /// The role an element plays in one service package (seed 001).
    ElementRole { Core => "core", Enabling => "enabling", Complementary => "complementary" }
);
str_enum!(ElementKind { Service => "service", Product => "product" });
str_enum!(
    /// Service-blueprint lane of a touchpoint.
    Lane { CustomerAction => "customer_action", Frontstage => "frontstage", Backstage => "backstage", SupportProcess => "support_process" }
);
str_enum!(
    /// How the conformance check reads a touchpoint in its stage (`docs/metrics.md`,
    /// "Journey mining"): one of the stage's alternatives (the default), required, or
    /// optional.
    Presence { Alternative => "alternative", Required => "required", Optional => "optional" }
);
str_enum!(
    /// The five interfaces where experience is made (seed 002).
    InterfaceKind {
        CompanyCustomer => "company_customer",
        EmployeeEmployee => "employee_employee",
        CompanyPartner => "company_partner",
        CompanySociety => "company_society",
        CustomerCustomer => "customer_customer",
    }
);
str_enum!(
    /// Channels every workspace has; a workspace may define more (see [`ChannelData`]).
    BuiltinChannel {
        Web => "web", MobileApp => "mobile_app", Phone => "phone", Email => "email", Chat => "chat",
        InPerson => "in_person", TicketMachine => "ticket_machine", Letter => "letter", SocialMedia => "social_media",
    }
);

/// Who owns an element or a touchpoint: one of our units or a partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Owner {
    Unit(Id),
    Partner(Id),
}

/// Who serves a customer in a relation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Provider {
    Unit(Id),
    Person(Id),
}

/// Who is served: an external segment, an internal customer (unit) or a partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Customer {
    Segment(Id),
    Unit(Id),
    Partner(Id),
}

/// A touchpoint's channel: a built-in one or the slug of a workspace-defined channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Channel {
    Builtin(BuiltinChannel),
    Custom(Slug),
}
impl Channel {
    pub fn parse(s: &str) -> Result<Self, Reason> {
        match BuiltinChannel::parse(s) {
            Ok(b) => Ok(Channel::Builtin(b)),
            Err(_) => Slug::parse(s)
                .map(Channel::Custom)
                .map_err(|_| Reason::new("bad-channel").with("value", s)),
        }
    }
    pub fn as_str(&self) -> &str {
        match self {
            Channel::Builtin(b) => b.as_str(),
            Channel::Custom(s) => s.as_str(),
        }
    }
}
impl Serialize for Channel {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Expected emotion of the customer at a touchpoint, −2 (very negative) … +2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Emotion(i8);
impl Emotion {
    pub fn parse(v: i64) -> Result<Self, Reason> {
        if (-2..=2).contains(&v) {
            Ok(Self(v as i8))
        } else {
            Err(Reason::new("emotion-range"))
        }
    }
    pub fn value(self) -> i64 {
        self.0 as i64
    }
}

/// An e-mail address: one `@` with text on both sides and a dot in the domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Email(String);
impl Email {
    pub fn parse(s: &str) -> Result<Self, Reason> {
        let s = s.trim();
        let ok = s.len() <= 254
            && s.split_once('@').is_some_and(|(l, d)| {
                !l.is_empty()
                    && d.contains('.')
                    && !d.starts_with('.')
                    && !d.ends_with('.')
                    && !d.contains('@')
            })
            && !s.chars().any(char::is_whitespace);
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(Reason::new("bad-email"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// ---------------------------------------------------------------------------------------
// Raw inputs (what JSON bodies deserialize into: types right, values unchecked) and
// validated data. `parse` collects every field's problem.

pub(crate) type RawTexts = BTreeMap<String, String>;

fn slug(e: &mut FieldErrors, s: &str) -> Option<Slug> {
    e.take("slug", Slug::parse(s))
}
fn name(e: &mut FieldErrors, t: &RawTexts) -> Option<Texts> {
    e.take("name", Texts::name(t))
}
fn text(e: &mut FieldErrors, field: &str, t: &RawTexts) -> Option<Texts> {
    e.take(field, Texts::text(t))
}
pub(crate) fn positive_id(e: &mut FieldErrors, field: &str, id: Id) {
    if id <= 0 {
        e.add(field, Reason::new("positive-id"));
    }
}

/// Parses into validated data or every field's reason.
pub trait Parse {
    type Data;
    fn parse(&self) -> Result<Self::Data, FieldErrors>;
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceInput {
    pub slug: String,
    pub name: RawTexts,
    pub default_language: String,
}
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WorkspaceData {
    #[schema(value_type = String)]
    pub slug: Slug,
    pub name: Texts,
    #[schema(value_type = String)]
    pub default_language: crate::text::Lang,
}
impl Parse for WorkspaceInput {
    type Data = WorkspaceData;
    fn parse(&self) -> Result<WorkspaceData, FieldErrors> {
        let mut e = FieldErrors::new();
        let s = slug(&mut e, &self.slug);
        let n = name(&mut e, &self.name);
        let l = e.take(
            "default_language",
            crate::text::Lang::parse(&self.default_language),
        );
        e.into_result(|| WorkspaceData {
            slug: s.unwrap(),
            name: n.unwrap(),
            default_language: l.unwrap(),
        })
    }
}

/// Declares an input/data pair for the common shape `slug, name, description, …`.
macro_rules! named_entity {
    (
        $(#[$m:meta])*
        $input:ident => $data:ident {
            $( $(#[$fattr:meta])* $field:ident : $raw_ty:ty => $ty:ty = |$e:ident, $v:ident| $conv:expr ),* $(,)?
        }
    ) => {
        $(#[$m])*
        #[derive(Debug, Clone, Deserialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $input {
            pub slug: String,
            pub name: RawTexts,
            #[serde(default)]
            pub description: RawTexts,
            $( $(#[$fattr])* pub $field: $raw_ty, )*
        }
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
        pub struct $data {
            #[schema(value_type = String)]
            pub slug: Slug,
            pub name: Texts,
            pub description: Texts,
            $( pub $field: $ty, )*
        }
        impl Parse for $input {
            type Data = $data;
            #[allow(clippy::redundant_closure_call)]
            fn parse(&self) -> Result<$data, FieldErrors> {
                let mut e = FieldErrors::new();
                let slug = slug(&mut e, &self.slug);
                let name = name(&mut e, &self.name);
                let description = text(&mut e, "description", &self.description);
                $( let $field: Option<$ty> = (|$e: &mut FieldErrors, $v: &$raw_ty| $conv)(&mut e, &self.$field); )*
                e.into_result(|| $data {
                    slug: slug.unwrap(),
                    name: name.unwrap(),
                    description: description.unwrap(),
                    $( $field: $field.unwrap(), )*
                })
            }
        }
    };
}

fn opt_id(e: &mut FieldErrors, field: &str, v: &Option<Id>) -> Option<Option<Id>> {
    if let Some(id) = v {
        positive_id(e, field, *id);
    }
    Some(*v)
}

named_entity!(
    /// A department or team; units form a tree through `parent_id`.
    UnitInput => UnitData {
        #[serde(default)] parent_id: Option<Id> => Option<Id> = |e, v| opt_id(e, "parent_id", v),
    }
);
named_entity!(
    /// An external organisation that owns some encounters (e.g. a restaurant-car
    /// operator), and the unit of ours that manages it (it gets the follow-ups of the
    /// partner's encounters).
    PartnerInput => PartnerData {
        #[serde(default)] unit_id: Option<Id> => Option<Id> = |e, v| opt_id(e, "unit_id", v),
    }
);
named_entity!(
    /// An external customer segment or persona.
    SegmentInput => SegmentData {
        #[serde(default)] needs: Option<RawTexts> => Texts = |e, v| text(e, "needs", &v.clone().unwrap_or_default()),
    }
);
named_entity!(
    /// A workspace-defined channel beyond the built-in ones.
    ChannelInput => ChannelData {}
);
named_entity!(
    /// A part of a service package: a service or product, owned by a unit or a partner.
    /// Its role (core / enabling / complementary) is set per package.
    ElementInput => ElementData {
        kind: String => ElementKind = |e, v| e.take("kind", ElementKind::parse(v)),
        #[serde(default)] customer_visible: bool => bool = |_e, v| Some(*v),
        #[serde(default)] has_it_components: bool => bool = |_e, v| Some(*v),
        #[serde(default)] owner: Option<Owner> => Option<Owner> = |e, v| { if let Some(Owner::Unit(id) | Owner::Partner(id)) = v { positive_id(e, "owner", *id) } Some(*v) },
    }
);
named_entity!(
    /// A service package; its `elements` set each element's role in this package.
    PackageInput => PackageData {
        #[serde(default)] published: bool => bool = |_e, v| Some(*v),
        #[serde(default)] elements: Vec<PackageElementInput> => Vec<PackageElement> = |e, v| parse_package_elements(e, v),
    }
);
named_entity!(
    /// A customer journey of one segment, optionally tied to service packages.
    JourneyInput => JourneyData {
        segment_id: Id => Id = |e, v| { positive_id(e, "segment_id", *v); Some(*v) },
        #[serde(default)] package_ids: Option<Vec<Id>> => Vec<Id> = |e, v| unique_ids(e, "package_ids", v.as_deref().unwrap_or_default()),
    }
);
named_entity!(
    /// An ordered stage of a journey (its position is kept by the server).
    StageInput => StageData {
        journey_id: Id => Id = |e, v| { positive_id(e, "journey_id", *v); Some(*v) },
    }
);
named_entity!(
    /// Internal work behind touchpoints; a step may serve several touchpoints.
    ProcessStepInput => ProcessStepData {
        #[serde(default)] owner_unit_id: Option<Id> => Option<Id> = |e, v| opt_id(e, "owner_unit_id", v),
        #[serde(default)] duration_minutes: Option<i64> => Option<i64> = |e, v| {
            match v { Some(d) if !(0..=525_600).contains(d) => { e.add("duration_minutes", Reason::new("duration-range")); None } _ => Some(*v) }
        },
        #[serde(default)] touchpoint_ids: Option<Vec<Id>> => Vec<Id> = |e, v| unique_ids(e, "touchpoint_ids", v.as_deref().unwrap_or_default()),
    }
);

fn unique_ids(e: &mut FieldErrors, field: &str, ids: &[Id]) -> Option<Vec<Id>> {
    let mut seen = BTreeSet::new();
    for (i, id) in ids.iter().enumerate() {
        positive_id(e, &format!("{field}[{i}]"), *id);
        if !seen.insert(*id) {
            e.add(format!("{field}[{i}]"), Reason::new("listed-twice"));
        }
    }
    Some(ids.to_vec())
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PackageElementInput {
    pub element_id: Id,
    pub role: String,
}
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PackageElement {
    pub element_id: Id,
    pub role: ElementRole,
}
fn parse_package_elements(
    e: &mut FieldErrors,
    v: &[PackageElementInput],
) -> Option<Vec<PackageElement>> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, pe) in v.iter().enumerate() {
        positive_id(e, &format!("elements[{i}].element_id"), pe.element_id);
        if !seen.insert(pe.element_id) {
            e.add(
                format!("elements[{i}].element_id"),
                Reason::new("listed-twice"),
            );
        }
        if let Some(role) = e.take(&format!("elements[{i}].role"), ElementRole::parse(&pe.role)) {
            out.push(PackageElement {
                element_id: pe.element_id,
                role,
            });
        }
    }
    Some(out)
}
impl PackageData {
    /// A package may be published only with at least one core element (seed 001).
    pub fn check_publishable(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        if self.published && !crate::rules::has_core(self.elements.iter().map(|pe| pe.role)) {
            e.add("published", Reason::new("publish-needs-core"));
        }
        e.into_result(|| ())
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonInput {
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub unit_id: Option<Id>,
    #[serde(default)]
    pub role_title: RawTexts,
}
/// A person: name (not translated), optional e-mail, unit and role title.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PersonData {
    #[schema(value_type = String)]
    pub slug: Slug,
    #[schema(value_type = String)]
    pub name: PlainName,
    #[schema(value_type = Option<String>)]
    pub email: Option<Email>,
    pub unit_id: Option<Id>,
    pub role_title: Texts,
}
impl Parse for PersonInput {
    type Data = PersonData;
    fn parse(&self) -> Result<PersonData, FieldErrors> {
        let mut e = FieldErrors::new();
        let s = slug(&mut e, &self.slug);
        let n = e.take("name", PlainName::parse(&self.name));
        let em = match self.email.as_deref().map(str::trim) {
            None | Some("") => Some(None),
            Some(x) => e.take("email", Email::parse(x)).map(Some),
        };
        let u = opt_id(&mut e, "unit_id", &self.unit_id);
        let r = text(&mut e, "role_title", &self.role_title);
        e.into_result(|| PersonData {
            slug: s.unwrap(),
            name: n.unwrap(),
            email: em.unwrap(),
            unit_id: u.unwrap(),
            role_title: r.unwrap(),
        })
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RelationInput {
    pub provider: Provider,
    pub customer: Customer,
    #[serde(default)]
    pub value_statement: RawTexts,
    pub review_interval_days: i64,
    #[serde(default)]
    pub last_reviewed_on: Option<String>,
}
/// "Who is my customer": a provider serves a customer, with how the work helps them and
/// when that answer was last reviewed.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RelationData {
    pub provider: Provider,
    pub customer: Customer,
    pub value_statement: Texts,
    pub review_interval_days: i64,
    #[schema(value_type = Option<String>, format = Date)]
    pub last_reviewed_on: Option<NaiveDate>,
}
impl Parse for RelationInput {
    type Data = RelationData;
    fn parse(&self) -> Result<RelationData, FieldErrors> {
        let mut e = FieldErrors::new();
        let v = text(&mut e, "value_statement", &self.value_statement);
        if !(1..=3650).contains(&self.review_interval_days) {
            e.add("review_interval_days", Reason::new("interval-range"));
        }
        let d = match &self.last_reviewed_on {
            None => Some(None),
            Some(s) => e
                .take("last_reviewed_on", crate::rules::parse_day(s))
                .map(Some),
        };
        if let (Provider::Unit(a), Customer::Unit(b)) = (self.provider, self.customer) {
            if a == b {
                e.add("customer", Reason::new("own-customer"));
            }
        }
        for (f, id) in [
            ("provider", provider_id(self.provider)),
            ("customer", customer_id(self.customer)),
        ] {
            positive_id(&mut e, f, id);
        }
        e.into_result(|| RelationData {
            provider: self.provider,
            customer: self.customer,
            value_statement: v.unwrap(),
            review_interval_days: self.review_interval_days,
            last_reviewed_on: d.unwrap(),
        })
    }
}
fn provider_id(p: Provider) -> Id {
    match p {
        Provider::Unit(i) | Provider::Person(i) => i,
    }
}
fn customer_id(c: Customer) -> Id {
    match c {
        Customer::Segment(i) | Customer::Unit(i) | Customer::Partner(i) => i,
    }
}
impl RelationData {
    /// Overdue for review on `today` (never reviewed counts as overdue).
    pub fn is_stale(&self, today: NaiveDate) -> bool {
        crate::rules::is_stale(self.last_reviewed_on, self.review_interval_days, today)
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TouchpointInput {
    pub stage_id: Id,
    pub slug: String,
    pub name: RawTexts,
    #[serde(default)]
    pub description: RawTexts,
    pub channel: String,
    #[serde(default)]
    pub owner: Option<Owner>,
    #[serde(default)]
    pub element_id: Option<Id>,
    pub lane: String,
    #[serde(default)]
    pub interface: Option<String>,
    #[serde(default)]
    pub emotion: i64,
    #[serde(default)]
    pub moment_of_truth: bool,
    /// `alternative` (default), `required` or `optional`.
    #[serde(default)]
    pub presence: Option<String>,
}
/// A touchpoint (encounter) in a journey stage.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TouchpointData {
    pub stage_id: Id,
    #[schema(value_type = String)]
    pub slug: Slug,
    pub name: Texts,
    pub description: Texts,
    #[schema(value_type = String)]
    pub channel: Channel,
    pub owner: Option<Owner>,
    pub element_id: Option<Id>,
    pub lane: Lane,
    pub interface: Option<InterfaceKind>,
    #[schema(value_type = i64, minimum = -2, maximum = 2)]
    pub emotion: Emotion,
    pub moment_of_truth: bool,
    pub presence: Presence,
}
impl Parse for TouchpointInput {
    type Data = TouchpointData;
    fn parse(&self) -> Result<TouchpointData, FieldErrors> {
        let mut e = FieldErrors::new();
        positive_id(&mut e, "stage_id", self.stage_id);
        let s = slug(&mut e, &self.slug);
        let n = name(&mut e, &self.name);
        let d = text(&mut e, "description", &self.description);
        let c = e.take("channel", Channel::parse(&self.channel));
        let l = e.take("lane", Lane::parse(&self.lane));
        let i = match &self.interface {
            None => Some(None),
            Some(x) => e.take("interface", InterfaceKind::parse(x)).map(Some),
        };
        let em = e.take("emotion", Emotion::parse(self.emotion));
        let pr = match &self.presence {
            None => Some(Presence::Alternative),
            Some(x) => e.take("presence", Presence::parse(x)),
        };
        let el = opt_id(&mut e, "element_id", &self.element_id);
        if let Some(Owner::Unit(id) | Owner::Partner(id)) = self.owner {
            positive_id(&mut e, "owner", id);
        }
        e.into_result(|| TouchpointData {
            stage_id: self.stage_id,
            slug: s.unwrap(),
            name: n.unwrap(),
            description: d.unwrap(),
            channel: c.unwrap(),
            owner: self.owner,
            element_id: el.unwrap(),
            lane: l.unwrap(),
            interface: i.unwrap(),
            emotion: em.unwrap(),
            moment_of_truth: self.moment_of_truth,
            presence: pr.unwrap(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The values the OpenAPI document lists for each closed set are its wire names.
    #[test]
    fn documented_enum_values_are_the_wire_names() {
        fn check<T: ToSchema + Serialize + Copy>(all: &[T]) {
            let doc = serde_json::to_value(T::schema()).unwrap();
            let documented: Vec<String> = doc["enum"]
                .as_array()
                .unwrap_or_else(|| panic!("{} has no enum: {doc}", T::name()))
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect();
            let wire: Vec<String> = all
                .iter()
                .map(|v| {
                    serde_json::to_value(v)
                        .unwrap()
                        .as_str()
                        .unwrap()
                        .to_owned()
                })
                .collect();
            assert_eq!(documented, wire, "{}", T::name());
        }
        check(Role::ALL);
        check(ElementRole::ALL);
        check(ElementKind::ALL);
        check(Lane::ALL);
        check(InterfaceKind::ALL);
        check(Presence::ALL);
        check(BuiltinChannel::ALL);
        check(crate::survey::SurveyStatus::ALL);
        check(crate::survey::QuestionKind::ALL);
        check(crate::alerts::Metric::ALL);
        check(crate::alerts::Condition::ALL);
    }

    fn texts(s: &str) -> RawTexts {
        [("en".to_string(), s.to_string())].into()
    }

    #[test]
    fn touchpoint_collects_every_field_error() {
        let raw = TouchpointInput {
            stage_id: 0,
            slug: "Bad Slug".into(),
            name: BTreeMap::new(),
            description: BTreeMap::new(),
            channel: "Carrier Pigeon".into(),
            owner: None,
            element_id: None,
            lane: "onstage".into(),
            interface: Some("company-customer".into()),
            emotion: 3,
            moment_of_truth: false,
            presence: Some("sometimes".into()),
        };
        let e = raw.parse().unwrap_err();
        for f in [
            "stage_id",
            "slug",
            "name",
            "channel",
            "lane",
            "interface",
            "emotion",
            "presence",
        ] {
            assert!(e.0.contains_key(f), "missing {f}: {e}");
        }
    }

    #[test]
    fn custom_channel_is_a_slug() {
        assert_eq!(
            Channel::parse("web").unwrap(),
            Channel::Builtin(BuiltinChannel::Web)
        );
        assert_eq!(Channel::parse("kiosk").unwrap().as_str(), "kiosk");
    }

    #[test]
    fn package_publishing_needs_core() {
        let mut raw = PackageInput {
            slug: "p".into(),
            name: texts("P"),
            description: BTreeMap::new(),
            published: true,
            elements: vec![PackageElementInput {
                element_id: 1,
                role: "enabling".into(),
            }],
        };
        let d = raw.parse().unwrap();
        assert!(d
            .check_publishable()
            .unwrap_err()
            .0
            .contains_key("published"));
        raw.elements.push(PackageElementInput {
            element_id: 2,
            role: "core".into(),
        });
        assert!(raw.parse().unwrap().check_publishable().is_ok());
        raw.elements.push(PackageElementInput {
            element_id: 2,
            role: "bogus".into(),
        });
        let e = raw.parse().unwrap_err();
        assert!(
            e.0.contains_key("elements[2].element_id") && e.0.contains_key("elements[2].role"),
            "{e}"
        );
    }

    #[test]
    fn relation_rules() {
        let mut r = RelationInput {
            provider: Provider::Unit(1),
            customer: Customer::Unit(1),
            value_statement: BTreeMap::new(),
            review_interval_days: 0,
            last_reviewed_on: Some("2026-13-01".into()),
        };
        let e = r.parse().unwrap_err();
        assert_eq!(e.len(), 3, "{e}");
        r.customer = Customer::Segment(1);
        r.review_interval_days = 90;
        r.last_reviewed_on = Some("2026-01-01".into());
        let d = r.parse().unwrap();
        assert!(d.is_stale(NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()));
        assert!(!d.is_stale(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()));
    }

    #[test]
    fn emails() {
        assert!(Email::parse("a@b.fi").is_ok());
        for bad in ["a", "@b.fi", "a@b", "a b@c.fi", "a@.fi"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }
}
