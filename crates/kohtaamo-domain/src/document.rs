//! The model-as-code document: a whole workspace model as one YAML file that names
//! everything by slug, never by database id, so it diffs well in git. Format described
//! in `docs/model-format.md`.
//!
//! Enumerations are plain strings here so that [`Document::validate`] can report every
//! problem with its path instead of stopping at the first one a deserializer meets.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::error::FieldErrors;
use crate::model::{self, Parse};
use crate::Id;

pub const FORMAT_VERSION: u32 = 1;

type RawTexts = BTreeMap<String, String>;

fn is_empty_map(m: &RawTexts) -> bool {
    m.is_empty()
}
fn is_false(b: &bool) -> bool {
    !*b
}
fn is_zero(i: &i64) -> bool {
    *i == 0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    pub kohtaamo: u32,
    pub workspace: DocWorkspace,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub units: Vec<DocUnit>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partners: Vec<DocPartner>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<DocSegment>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub people: Vec<DocPerson>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<DocNamed>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relations: Vec<DocRelation>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub elements: Vec<DocElement>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<DocPackage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub journeys: Vec<DocJourney>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub process_steps: Vec<DocProcessStep>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub surveys: Vec<DocSurvey>,
}

/// A survey; its target is named by slug (exactly one of touchpoint, journey, package).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocSurvey {
    pub slug: String,
    pub name: RawTexts,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub touchpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journey: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub intro: RawTexts,
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub thanks: RawTexts,
    pub questions: Vec<crate::survey::QuestionInput>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_origins: Vec<String>,
}

impl DocSurvey {
    /// The API input with the given ids in place of the slugs.
    pub fn input(
        &self,
        touchpoint: Option<Id>,
        journey: Option<Id>,
        package: Option<Id>,
    ) -> crate::survey::SurveyInput {
        crate::survey::SurveyInput {
            slug: self.slug.clone(),
            name: self.name.clone(),
            status: Some(self.status.clone()),
            touchpoint_id: touchpoint,
            journey_id: journey,
            package_id: package,
            intro: self.intro.clone(),
            thanks: self.thanks.clone(),
            questions: self.questions.clone(),
            allowed_origins: self.allowed_origins.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocWorkspace {
    pub slug: String,
    pub name: RawTexts,
    pub default_language: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocNamed {
    pub slug: String,
    pub name: RawTexts,
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub description: RawTexts,
}

/// A partner, with the unit that manages it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocPartner {
    pub slug: String,
    pub name: RawTexts,
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub description: RawTexts,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocUnit {
    pub slug: String,
    pub name: RawTexts,
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub description: RawTexts,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocSegment {
    pub slug: String,
    pub name: RawTexts,
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub description: RawTexts,
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub needs: RawTexts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocPerson {
    pub slug: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub role_title: RawTexts,
}

/// A reference by kind and slug, written `{unit: it}` or `{partner: restaurant-oy}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum DocRef {
    Unit(String),
    Partner(String),
    Person(String),
    Segment(String),
}
impl DocRef {
    pub fn kind(&self) -> &'static str {
        match self {
            DocRef::Unit(_) => "unit",
            DocRef::Partner(_) => "partner",
            DocRef::Person(_) => "person",
            DocRef::Segment(_) => "segment",
        }
    }
    pub fn slug(&self) -> &str {
        match self {
            DocRef::Unit(s) | DocRef::Partner(s) | DocRef::Person(s) | DocRef::Segment(s) => s,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocRelation {
    pub provider: DocRef,
    pub customer: DocRef,
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub value_statement: RawTexts,
    pub review_interval_days: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reviewed_on: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocElement {
    pub slug: String,
    pub name: RawTexts,
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub description: RawTexts,
    pub kind: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub customer_visible: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub has_it_components: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<DocRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocPackage {
    pub slug: String,
    pub name: RawTexts,
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub description: RawTexts,
    #[serde(default, skip_serializing_if = "is_false")]
    pub published: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub elements: Vec<DocPackageElement>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocPackageElement {
    pub element: String,
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocJourney {
    pub slug: String,
    pub name: RawTexts,
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub description: RawTexts,
    pub segment: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<DocStage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocStage {
    pub slug: String,
    pub name: RawTexts,
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub description: RawTexts,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub touchpoints: Vec<DocTouchpoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocTouchpoint {
    pub slug: String,
    pub name: RawTexts,
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub description: RawTexts,
    pub channel: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<DocRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element: Option<String>,
    pub lane: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub emotion: i64,
    #[serde(default, skip_serializing_if = "is_false")]
    pub moment_of_truth: bool,
    /// `required` or `optional`; absent for an alternative (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocProcessStep {
    pub slug: String,
    pub name: RawTexts,
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub description: RawTexts,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_minutes: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub serves: Vec<String>,
}

/// Collects slugs of one kind, reporting duplicates, and checks references against them.
struct Names {
    slugs: BTreeSet<String>,
}
impl Names {
    fn collect<'a>(e: &mut FieldErrors, path: &str, slugs: impl Iterator<Item = &'a str>) -> Self {
        let mut set = BTreeSet::new();
        for (i, s) in slugs.enumerate() {
            if !set.insert(s.to_owned()) {
                e.add(format!("{path}[{i}].slug"), format!("'{s}' is used twice"));
            }
        }
        Self { slugs: set }
    }
    fn check(&self, e: &mut FieldErrors, path: String, what: &str, slug: &str) {
        if !self.slugs.contains(slug) {
            e.add(
                path,
                format!("no {what} with slug '{slug}' in this document"),
            );
        }
    }
}

/// Validates one entity with the same rules the API uses (ids in the API are replaced
/// by a placeholder here; references are checked by slug separately).
fn check<I: Parse>(e: &mut FieldErrors, path: String, input: I) {
    if let Err(fe) = input.parse() {
        e.nest(&path, fe);
    }
}

impl Document {
    pub fn from_yaml_value_error(msg: String) -> FieldErrors {
        let mut e = FieldErrors::new();
        e.add("(document)", msg);
        e
    }

    /// Every problem in the document, each under its path (e.g.
    /// `journeys[0].stages[1].touchpoints[2].owner`). Pure: references are checked
    /// against the document itself, which always describes the whole workspace.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        if self.kohtaamo != FORMAT_VERSION {
            e.add(
                "kohtaamo",
                format!(
                    "unsupported format version {} (this build reads {FORMAT_VERSION})",
                    self.kohtaamo
                ),
            );
        }
        let w = &self.workspace;
        check(
            &mut e,
            "workspace".into(),
            model::WorkspaceInput {
                slug: w.slug.clone(),
                name: w.name.clone(),
                default_language: w.default_language.clone(),
            },
        );

        let units = Names::collect(&mut e, "units", self.units.iter().map(|u| u.slug.as_str()));
        let partners = Names::collect(
            &mut e,
            "partners",
            self.partners.iter().map(|u| u.slug.as_str()),
        );
        let segments = Names::collect(
            &mut e,
            "segments",
            self.segments.iter().map(|u| u.slug.as_str()),
        );
        let people = Names::collect(
            &mut e,
            "people",
            self.people.iter().map(|u| u.slug.as_str()),
        );
        let channels = Names::collect(
            &mut e,
            "channels",
            self.channels.iter().map(|u| u.slug.as_str()),
        );
        let elements = Names::collect(
            &mut e,
            "elements",
            self.elements.iter().map(|u| u.slug.as_str()),
        );
        let packages = Names::collect(
            &mut e,
            "packages",
            self.packages.iter().map(|u| u.slug.as_str()),
        );
        let journeys = Names::collect(
            &mut e,
            "journeys",
            self.journeys.iter().map(|u| u.slug.as_str()),
        );
        let touchpoints = Names::collect(
            &mut e,
            "touchpoints",
            self.journeys
                .iter()
                .flat_map(|j| j.stages.iter())
                .flat_map(|s| s.touchpoints.iter())
                .map(|t| t.slug.as_str()),
        );
        Names::collect(
            &mut e,
            "process_steps",
            self.process_steps.iter().map(|u| u.slug.as_str()),
        );
        let _ = journeys;

        let owner_check = |e: &mut FieldErrors, path: String, r: &DocRef| match r {
            DocRef::Unit(s) => units.check(e, path, "unit", s),
            DocRef::Partner(s) => partners.check(e, path, "partner", s),
            other => e.add(
                path,
                format!("an owner is a unit or a partner, not a {}", other.kind()),
            ),
        };

        let mut parents: HashMap<String, Option<String>> = HashMap::new();
        for (i, u) in self.units.iter().enumerate() {
            let p = format!("units[{i}]");
            check(
                &mut e,
                p.clone(),
                model::UnitInput {
                    slug: u.slug.clone(),
                    name: u.name.clone(),
                    description: u.description.clone(),
                    parent_id: None,
                },
            );
            if let Some(parent) = &u.parent {
                units.check(&mut e, format!("{p}.parent"), "unit", parent);
            }
            parents.insert(u.slug.clone(), u.parent.clone());
        }
        // A cycle in the unit tree: walk up from every unit, at most as many steps as units.
        for (i, u) in self.units.iter().enumerate() {
            let mut cur = u.parent.clone();
            for _ in 0..=self.units.len() {
                match cur {
                    Some(ref c) if c == &u.slug => {
                        e.add(
                            format!("units[{i}].parent"),
                            "the unit tree has a cycle here",
                        );
                        break;
                    }
                    Some(ref c) => cur = parents.get(c).cloned().flatten(),
                    None => break,
                }
            }
        }
        for (i, x) in self.partners.iter().enumerate() {
            check(
                &mut e,
                format!("partners[{i}]"),
                model::PartnerInput {
                    slug: x.slug.clone(),
                    name: x.name.clone(),
                    description: x.description.clone(),
                    unit_id: None,
                },
            );
            if let Some(u) = &x.unit {
                units.check(&mut e, format!("partners[{i}].unit"), "unit", u);
            }
        }
        for (i, x) in self.channels.iter().enumerate() {
            check(
                &mut e,
                format!("channels[{i}]"),
                model::ChannelInput {
                    slug: x.slug.clone(),
                    name: x.name.clone(),
                    description: x.description.clone(),
                },
            );
            if model::BuiltinChannel::parse(&x.slug).is_ok() {
                e.add(
                    format!("channels[{i}].slug"),
                    "is already a built-in channel",
                );
            }
        }
        for (i, x) in self.segments.iter().enumerate() {
            check(
                &mut e,
                format!("segments[{i}]"),
                model::SegmentInput {
                    slug: x.slug.clone(),
                    name: x.name.clone(),
                    description: x.description.clone(),
                    needs: Some(x.needs.clone()),
                },
            );
        }
        for (i, x) in self.people.iter().enumerate() {
            let p = format!("people[{i}]");
            check(
                &mut e,
                p.clone(),
                model::PersonInput {
                    slug: x.slug.clone(),
                    name: x.name.clone(),
                    email: x.email.clone(),
                    unit_id: None,
                    role_title: x.role_title.clone(),
                },
            );
            if let Some(u) = &x.unit {
                units.check(&mut e, format!("{p}.unit"), "unit", u);
            }
        }
        let mut relation_keys = BTreeSet::new();
        for (i, r) in self.relations.iter().enumerate() {
            let p = format!("relations[{i}]");
            check(
                &mut e,
                p.clone(),
                model::RelationInput {
                    provider: model::Provider::Unit(1),
                    customer: model::Customer::Segment(1),
                    value_statement: r.value_statement.clone(),
                    review_interval_days: r.review_interval_days,
                    last_reviewed_on: r.last_reviewed_on.clone(),
                },
            );
            match &r.provider {
                DocRef::Unit(s) => units.check(&mut e, format!("{p}.provider"), "unit", s),
                DocRef::Person(s) => people.check(&mut e, format!("{p}.provider"), "person", s),
                o => e.add(
                    format!("{p}.provider"),
                    format!("a provider is a unit or a person, not a {}", o.kind()),
                ),
            }
            match &r.customer {
                DocRef::Unit(s) => units.check(&mut e, format!("{p}.customer"), "unit", s),
                DocRef::Segment(s) => segments.check(&mut e, format!("{p}.customer"), "segment", s),
                DocRef::Partner(s) => partners.check(&mut e, format!("{p}.customer"), "partner", s),
                o => e.add(
                    format!("{p}.customer"),
                    format!(
                        "a customer is a segment, a unit or a partner, not a {}",
                        o.kind()
                    ),
                ),
            }
            if r.provider == r.customer {
                e.add(format!("{p}.customer"), "a unit cannot be its own customer");
            }
            if !relation_keys.insert((r.provider.clone(), r.customer.clone())) {
                e.add(p.clone(), "the same provider and customer appear twice");
            }
        }
        for (i, x) in self.elements.iter().enumerate() {
            let p = format!("elements[{i}]");
            check(
                &mut e,
                p.clone(),
                model::ElementInput {
                    slug: x.slug.clone(),
                    name: x.name.clone(),
                    description: x.description.clone(),
                    kind: x.kind.clone(),
                    customer_visible: x.customer_visible,
                    has_it_components: x.has_it_components,
                    owner: None,
                },
            );
            if let Some(o) = &x.owner {
                owner_check(&mut e, format!("{p}.owner"), o);
            }
        }
        for (i, x) in self.packages.iter().enumerate() {
            let p = format!("packages[{i}]");
            let input = model::PackageInput {
                slug: x.slug.clone(),
                name: x.name.clone(),
                description: x.description.clone(),
                published: x.published,
                elements: x
                    .elements
                    .iter()
                    .enumerate()
                    .map(|(k, pe)| model::PackageElementInput {
                        element_id: k as i64 + 1,
                        role: pe.role.clone(),
                    })
                    .collect(),
            };
            match input.parse() {
                Ok(d) => {
                    if let Err(fe) = d.check_publishable() {
                        e.nest(&p, fe);
                    }
                }
                Err(fe) => e.nest(&p, fe),
            }
            let mut seen = BTreeSet::new();
            for (k, pe) in x.elements.iter().enumerate() {
                elements.check(
                    &mut e,
                    format!("{p}.elements[{k}].element"),
                    "element",
                    &pe.element,
                );
                if !seen.insert(&pe.element) {
                    e.add(format!("{p}.elements[{k}].element"), "is listed twice");
                }
            }
        }
        for (i, j) in self.journeys.iter().enumerate() {
            let p = format!("journeys[{i}]");
            check(
                &mut e,
                p.clone(),
                model::JourneyInput {
                    slug: j.slug.clone(),
                    name: j.name.clone(),
                    description: j.description.clone(),
                    segment_id: 1,
                    package_ids: None,
                },
            );
            segments.check(&mut e, format!("{p}.segment"), "segment", &j.segment);
            let mut seen = BTreeSet::new();
            for (k, pk) in j.packages.iter().enumerate() {
                packages.check(&mut e, format!("{p}.packages[{k}]"), "package", pk);
                if !seen.insert(pk) {
                    e.add(format!("{p}.packages[{k}]"), "is listed twice");
                }
            }
            let stage_names = Names::collect(
                &mut e,
                &format!("{p}.stages"),
                j.stages.iter().map(|s| s.slug.as_str()),
            );
            let _ = stage_names;
            for (k, s) in j.stages.iter().enumerate() {
                let sp = format!("{p}.stages[{k}]");
                check(
                    &mut e,
                    sp.clone(),
                    model::StageInput {
                        slug: s.slug.clone(),
                        name: s.name.clone(),
                        description: s.description.clone(),
                        journey_id: 1,
                    },
                );
                for (t, tp) in s.touchpoints.iter().enumerate() {
                    let tpp = format!("{sp}.touchpoints[{t}]");
                    check(
                        &mut e,
                        tpp.clone(),
                        model::TouchpointInput {
                            stage_id: 1,
                            slug: tp.slug.clone(),
                            name: tp.name.clone(),
                            description: tp.description.clone(),
                            channel: tp.channel.clone(),
                            owner: None,
                            element_id: None,
                            lane: tp.lane.clone(),
                            interface: tp.interface.clone(),
                            emotion: tp.emotion,
                            moment_of_truth: tp.moment_of_truth,
                            presence: tp.presence.clone(),
                        },
                    );
                    if let Ok(model::Channel::Custom(c)) = model::Channel::parse(&tp.channel) {
                        channels.check(&mut e, format!("{tpp}.channel"), "channel", c.as_str());
                    }
                    if let Some(o) = &tp.owner {
                        owner_check(&mut e, format!("{tpp}.owner"), o);
                    }
                    if let Some(el) = &tp.element {
                        elements.check(&mut e, format!("{tpp}.element"), "element", el);
                    }
                }
            }
        }
        for (i, x) in self.process_steps.iter().enumerate() {
            let p = format!("process_steps[{i}]");
            check(
                &mut e,
                p.clone(),
                model::ProcessStepInput {
                    slug: x.slug.clone(),
                    name: x.name.clone(),
                    description: x.description.clone(),
                    owner_unit_id: None,
                    duration_minutes: x.duration_minutes,
                    touchpoint_ids: None,
                },
            );
            if let Some(o) = &x.owner {
                units.check(&mut e, format!("{p}.owner"), "unit", o);
            }
            let mut seen = BTreeSet::new();
            for (k, t) in x.serves.iter().enumerate() {
                touchpoints.check(&mut e, format!("{p}.serves[{k}]"), "touchpoint", t);
                if !seen.insert(t) {
                    e.add(format!("{p}.serves[{k}]"), "is listed twice");
                }
            }
        }
        let _ = Names::collect(
            &mut e,
            "surveys",
            self.surveys.iter().map(|s| s.slug.as_str()),
        );
        let journey_names = Names::collect(
            &mut FieldErrors::new(),
            "journeys",
            self.journeys.iter().map(|j| j.slug.as_str()),
        );
        let package_names = Names::collect(
            &mut FieldErrors::new(),
            "packages",
            self.packages.iter().map(|j| j.slug.as_str()),
        );
        for (i, s) in self.surveys.iter().enumerate() {
            let p = format!("surveys[{i}]");
            let id = |v: &Option<String>| v.as_ref().map(|_| 1);
            check(
                &mut e,
                p.clone(),
                s.input(id(&s.touchpoint), id(&s.journey), id(&s.package)),
            );
            if let Some(t) = &s.touchpoint {
                touchpoints.check(&mut e, format!("{p}.touchpoint"), "touchpoint", t);
            }
            if let Some(t) = &s.journey {
                journey_names.check(&mut e, format!("{p}.journey"), "journey", t);
            }
            if let Some(t) = &s.package {
                package_names.check(&mut e, format!("{p}.package"), "package", t);
            }
        }
        e.into_result(|| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> RawTexts {
        [("en".to_string(), s.to_string())].into()
    }

    fn minimal() -> Document {
        Document {
            kohtaamo: 1,
            workspace: DocWorkspace {
                slug: "w".into(),
                name: t("W"),
                default_language: "fi".into(),
            },
            units: vec![
                DocUnit {
                    slug: "a".into(),
                    name: t("A"),
                    description: RawTexts::new(),
                    parent: Some("b".into()),
                },
                DocUnit {
                    slug: "b".into(),
                    name: t("B"),
                    description: RawTexts::new(),
                    parent: None,
                },
            ],
            partners: vec![],
            segments: vec![],
            people: vec![],
            channels: vec![],
            relations: vec![],
            elements: vec![],
            packages: vec![],
            journeys: vec![],
            process_steps: vec![],
            surveys: vec![],
        }
    }

    #[test]
    fn valid_minimal_document() {
        minimal().validate().unwrap();
    }

    #[test]
    fn reports_every_error_with_its_path() {
        let mut d = minimal();
        d.units[1].parent = Some("a".into()); // cycle a -> b -> a
        d.units.push(DocUnit {
            slug: "a".into(),
            name: RawTexts::new(),
            description: RawTexts::new(),
            parent: Some("nope".into()),
        });
        d.relations.push(DocRelation {
            provider: DocRef::Segment("x".into()),
            customer: DocRef::Unit("zzz".into()),
            value_statement: RawTexts::new(),
            review_interval_days: 0,
            last_reviewed_on: None,
        });
        let e = d.validate().unwrap_err();
        for key in [
            "units[2].slug",
            "units[2].name",
            "units[2].parent",
            "units[0].parent",
            "relations[0].provider",
            "relations[0].customer",
            "relations[0].review_interval_days",
        ] {
            assert!(e.0.contains_key(key), "missing {key}: {e}");
        }
    }
}
