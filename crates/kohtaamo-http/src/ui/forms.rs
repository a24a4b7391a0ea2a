//! Editing the model from the browser: one generic form engine. Each entity lists its
//! fields ([`Editable::fields`]); the engine renders the form (`form.html`), turns the
//! posted fields into the same JSON the API accepts, and runs it through the same
//! `…Input::parse` and `Store` calls, so browser edits get exactly the API's
//! validation. Errors are shown next to their fields, in the user's language.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use kohtaamo_domain::model::*;
use kohtaamo_domain::{FieldErrors, Id};
use kohtaamo_storage::{ListQuery, Record, Store, StoreError};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::pages::{all, chrome, Nav};
use super::{html, CsrfForm, PageCtx, PageError};
use crate::i18n::{self, I18n};
use crate::AppState;
use kohtaamo_app::model::Collection as Resource;

/// What a field edits and how it is shown.
#[derive(Clone, Copy)]
pub enum Kind {
    Slug,
    /// A text per language; `true` for a multi-line text.
    Texts(bool),
    /// Plain text; `true` if required.
    Plain(bool),
    Enum(&'static str, &'static [&'static str]),
    OptEnum(&'static str, &'static [&'static str]),
    Ref(Pick),
    OptRef(Pick),
    MultiRef(Pick),
    Owner,
    Provider,
    Customer,
    Channel,
    Check,
    /// An integer; `true` if required.
    Int(bool),
    Date,
    PackageElements,
}

/// Which records a reference field chooses from.
#[derive(Clone, Copy)]
pub enum Pick {
    Unit,
    Segment,
    Journey,
    Stage,
    Package,
    Element,
    Touchpoint,
}

pub struct Field {
    pub name: &'static str,
    /// Message key of the label.
    pub label: &'static str,
    pub kind: Kind,
}

const fn f(name: &'static str, label: &'static str, kind: Kind) -> Field {
    Field { name, label, kind }
}

const LANES: &[&str] = &[
    "customer_action",
    "frontstage",
    "backstage",
    "support_process",
];
const PRESENCES: &[&str] = &["alternative", "required", "optional"];
const INTERFACES: &[&str] = &[
    "company_customer",
    "employee_employee",
    "company_partner",
    "company_society",
    "customer_customer",
];
const KINDS: &[&str] = &["service", "product"];

/// An entity editable in the browser.
pub trait Editable: Resource + PartialEq + serde::Serialize {
    /// Message key of the plural title.
    const TITLE: &'static str;
    fn fields() -> Vec<Field>;
    /// How a record is named in lists.
    fn label(&self, i: &I18n, c: &Choices) -> String;
}

fn named() -> Vec<Field> {
    vec![
        f("slug", "field-slug", Kind::Slug),
        f("name", "field-name", Kind::Texts(false)),
        f("description", "field-description", Kind::Texts(true)),
    ]
}

macro_rules! editable {
    ($t:ty, $title:literal, |$s:ident, $i:ident, $c:ident| $label:expr, [$($field:expr),* $(,)?]) => {
        impl Editable for $t {
            const TITLE: &'static str = $title;
            fn fields() -> Vec<Field> {
                let mut v: Vec<Field> = Vec::new();
                $( v.extend($field); )*
                v
            }
            fn label(&self, $i: &I18n, $c: &Choices) -> String {
                let $s = self;
                let _ = ($c, $i);
                $label
            }
        }
    };
}

editable!(
    UnitData,
    "title-units",
    |s, i, c| i.text(&s.name),
    [
        named(),
        [f("parent_id", "field-parent", Kind::OptRef(Pick::Unit))]
    ]
);
editable!(
    PartnerData,
    "title-partners",
    |s, i, c| i.text(&s.name),
    [named()]
);
editable!(
    SegmentData,
    "title-segments",
    |s, i, c| i.text(&s.name),
    [named(), [f("needs", "field-needs", Kind::Texts(true))]]
);
editable!(
    ChannelData,
    "title-channels",
    |s, i, c| i.text(&s.name),
    [named()]
);
editable!(
    PersonData,
    "title-people",
    |s, i, c| s.name.as_str().to_owned(),
    [[
        f("slug", "field-slug", Kind::Slug),
        f("name", "field-person-name", Kind::Plain(true)),
        f("email", "field-email", Kind::Plain(false)),
        f("unit_id", "field-unit", Kind::OptRef(Pick::Unit)),
        f("role_title", "field-role-title", Kind::Texts(false)),
    ]]
);
editable!(
    RelationData,
    "title-relations",
    |s, i, c| format!("{} → {}", c.provider(&s.provider), c.customer(&s.customer)),
    [[
        f("provider", "col-provider", Kind::Provider),
        f("customer", "col-customer", Kind::Customer),
        f("value_statement", "col-value", Kind::Texts(true)),
        f(
            "review_interval_days",
            "field-review-interval",
            Kind::Int(true)
        ),
        f("last_reviewed_on", "col-last-reviewed", Kind::Date),
    ]]
);
editable!(
    ElementData,
    "title-elements",
    |s, i, c| i.text(&s.name),
    [
        named(),
        [
            f("kind", "col-kind", Kind::Enum("kind", KINDS)),
            f("customer_visible", "col-visible", Kind::Check),
            f("has_it_components", "col-it", Kind::Check),
            f("owner", "col-owner", Kind::Owner),
        ]
    ]
);
editable!(
    PackageData,
    "title-packages",
    |s, i, c| i.text(&s.name),
    [
        named(),
        [
            f("published", "status-published", Kind::Check),
            f("elements", "package-elements", Kind::PackageElements),
        ]
    ]
);
editable!(
    JourneyData,
    "title-journeys",
    |s, i, c| i.text(&s.name),
    [
        named(),
        [
            f("segment_id", "field-segment", Kind::Ref(Pick::Segment)),
            f(
                "package_ids",
                "count-packages",
                Kind::MultiRef(Pick::Package)
            ),
        ]
    ]
);
editable!(
    StageData,
    "title-stages",
    |s, i, c| format!(
        "{} · {}",
        c.name(Pick::Journey, s.journey_id),
        i.text(&s.name)
    ),
    [
        [f("journey_id", "col-journey", Kind::Ref(Pick::Journey))],
        named()
    ]
);
editable!(
    TouchpointData,
    "title-touchpoints",
    |s, i, c| format!("{} · {}", c.name(Pick::Stage, s.stage_id), i.text(&s.name)),
    [
        [f("stage_id", "field-stage", Kind::Ref(Pick::Stage))],
        named(),
        [
            f("channel", "col-channel", Kind::Channel),
            f("owner", "col-owner", Kind::Owner),
            f("element_id", "field-element", Kind::OptRef(Pick::Element)),
            f("lane", "col-lane", Kind::Enum("lane", LANES)),
            f(
                "interface",
                "field-interface",
                Kind::OptEnum("interface", INTERFACES)
            ),
            f("emotion", "row-emotion", Kind::Int(true)),
            f("moment_of_truth", "moment-of-truth", Kind::Check),
            f(
                "presence",
                "field-presence",
                Kind::Enum("presence", PRESENCES)
            ),
        ],
    ]
);
editable!(
    ProcessStepData,
    "title-process-steps",
    |s, i, c| i.text(&s.name),
    [
        named(),
        [
            f("owner_unit_id", "col-owner", Kind::OptRef(Pick::Unit)),
            f("duration_minutes", "field-duration", Kind::Int(false)),
            f(
                "touchpoint_ids",
                "col-serves",
                Kind::MultiRef(Pick::Touchpoint)
            ),
        ]
    ]
);

/// Everything a form may offer to choose from, named in the user's language.
pub struct Choices {
    pub units: Vec<(Id, String)>,
    pub partners: Vec<(Id, String)>,
    pub segments: Vec<(Id, String)>,
    pub people: Vec<(Id, String)>,
    pub journeys: Vec<(Id, String)>,
    pub stages: Vec<(Id, String)>,
    pub packages: Vec<(Id, String)>,
    pub elements: Vec<(Id, String)>,
    pub touchpoints: Vec<(Id, String)>,
    pub channels: Vec<(String, String)>,
}

impl Choices {
    pub async fn load(store: &Store, ws: Id, i: &I18n) -> Result<Self, PageError> {
        let journeys: Vec<(Id, String)> = all::<JourneyData>(store, ws)
            .await?
            .into_iter()
            .map(|r| (r.id, i.text(&r.data.name)))
            .collect();
        let jname = |id: Id| {
            journeys
                .iter()
                .find(|j| j.0 == id)
                .map(|j| j.1.clone())
                .unwrap_or_default()
        };
        let stages: Vec<(Id, String)> = all::<StageData>(store, ws)
            .await?
            .into_iter()
            .map(|r| {
                (
                    r.id,
                    format!("{} · {}", jname(r.data.journey_id), i.text(&r.data.name)),
                )
            })
            .collect();
        let mut channels: Vec<(String, String)> = BuiltinChannel::ALL
            .iter()
            .map(|c| (c.as_str().to_owned(), i.enum_label("channel", c.as_str())))
            .collect();
        channels.extend(
            all::<ChannelData>(store, ws)
                .await?
                .into_iter()
                .map(|r| (r.data.slug.to_string(), i.text(&r.data.name))),
        );
        Ok(Self {
            units: all::<UnitData>(store, ws)
                .await?
                .into_iter()
                .map(|r| (r.id, i.text(&r.data.name)))
                .collect(),
            partners: all::<PartnerData>(store, ws)
                .await?
                .into_iter()
                .map(|r| (r.id, i.text(&r.data.name)))
                .collect(),
            segments: all::<SegmentData>(store, ws)
                .await?
                .into_iter()
                .map(|r| (r.id, i.text(&r.data.name)))
                .collect(),
            people: all::<PersonData>(store, ws)
                .await?
                .into_iter()
                .map(|r| (r.id, r.data.name.as_str().to_owned()))
                .collect(),
            packages: all::<PackageData>(store, ws)
                .await?
                .into_iter()
                .map(|r| (r.id, i.text(&r.data.name)))
                .collect(),
            elements: all::<ElementData>(store, ws)
                .await?
                .into_iter()
                .map(|r| (r.id, i.text(&r.data.name)))
                .collect(),
            touchpoints: all::<TouchpointData>(store, ws)
                .await?
                .into_iter()
                .map(|r| (r.id, i.text(&r.data.name)))
                .collect(),
            journeys,
            stages,
            channels,
        })
    }
    fn list(&self, p: Pick) -> &[(Id, String)] {
        match p {
            Pick::Unit => &self.units,
            Pick::Segment => &self.segments,
            Pick::Journey => &self.journeys,
            Pick::Stage => &self.stages,
            Pick::Package => &self.packages,
            Pick::Element => &self.elements,
            Pick::Touchpoint => &self.touchpoints,
        }
    }
    pub fn name(&self, p: Pick, id: Id) -> String {
        self.list(p)
            .iter()
            .find(|x| x.0 == id)
            .map(|x| x.1.clone())
            .unwrap_or_default()
    }
    fn tagged(&self, kinds: &[(&'static str, &'static str)]) -> Vec<(String, String)> {
        let mut out = vec![];
        for (kind, key_label) in kinds {
            let list = match *kind {
                "unit" => &self.units,
                "partner" => &self.partners,
                "segment" => &self.segments,
                _ => &self.people,
            };
            out.extend(
                list.iter()
                    .map(|(id, n)| (format!("{kind}:{id}"), format!("{n} ({key_label})"))),
            );
        }
        out
    }
    fn provider(&self, p: &Provider) -> String {
        match p {
            Provider::Unit(id) => self.name(Pick::Unit, *id),
            Provider::Person(id) => self
                .people
                .iter()
                .find(|x| x.0 == *id)
                .map(|x| x.1.clone())
                .unwrap_or_default(),
        }
    }
    fn customer(&self, c: &Customer) -> String {
        match c {
            Customer::Segment(id) => self.name(Pick::Segment, *id),
            Customer::Unit(id) => self.name(Pick::Unit, *id),
            Customer::Partner(id) => self
                .partners
                .iter()
                .find(|x| x.0 == *id)
                .map(|x| x.1.clone())
                .unwrap_or_default(),
        }
    }
}

// --- rendering -----------------------------------------------------------------------

pub struct Opt {
    value: String,
    label: String,
    selected: bool,
}
pub struct LangInput {
    lang: String,
    label: String,
    value: String,
}
pub struct ElementRow {
    id: Id,
    label: String,
    options: Vec<Opt>,
}
pub struct FieldView {
    name: String,
    label: String,
    /// text, textarea-texts, texts, select, checkbox, number, date, checks, elements
    widget: &'static str,
    value: String,
    required: bool,
    options: Vec<Opt>,
    langs: Vec<LangInput>,
    rows: Vec<ElementRow>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "form.html")]
struct FormPage {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    title: String,
    action: String,
    back: String,
    csrf: String,
    fields: Vec<FieldView>,
    error: Option<String>,
    delete_action: Option<String>,
}

fn as_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn options(
    items: impl IntoIterator<Item = (String, String)>,
    current: &str,
    empty: Option<String>,
) -> Vec<Opt> {
    let mut v: Vec<Opt> = empty
        .map(|l| Opt {
            value: String::new(),
            label: l,
            selected: current.is_empty(),
        })
        .into_iter()
        .collect();
    v.extend(items.into_iter().map(|(value, label)| Opt {
        selected: value == current,
        value,
        label,
    }));
    v
}

/// "unit:3" from `{"unit": 3}`.
fn tag_of(v: Option<&Value>) -> String {
    v.and_then(Value::as_object)
        .and_then(|m| m.iter().next())
        .map(|(k, id)| format!("{k}:{id}"))
        .unwrap_or_default()
}

fn view(
    i: &I18n,
    c: &Choices,
    fields: &[Field],
    values: &Map<String, Value>,
    errors: &FieldErrors,
) -> Vec<FieldView> {
    fields
        .iter()
        .map(|fd| {
            let v = values.get(fd.name);
            let mut fv = FieldView {
                name: fd.name.into(),
                label: i.t(fd.label),
                widget: "text",
                value: as_text(v),
                required: false,
                options: vec![],
                langs: vec![],
                rows: vec![],
                error: errors
                    .0
                    .iter()
                    .filter(|(k, _)| {
                        *k == fd.name
                            || k.starts_with(&format!("{}.", fd.name))
                            || k.starts_with(&format!("{}[", fd.name))
                    })
                    .map(|(_, r)| i.reason(r))
                    .next(),
            };
            let none = || Some(i.t("choose-none"));
            match fd.kind {
                Kind::Slug => fv.required = true,
                Kind::Plain(req) => fv.required = req,
                Kind::Texts(area) => {
                    fv.widget = if area { "textarea-texts" } else { "texts" };
                    fv.required = fd.name == "name";
                    fv.langs = i18n::languages()
                        .into_iter()
                        .map(|l| LangInput {
                            label: i.t(&format!("lang-name-{l}")),
                            value: as_text(v.and_then(|m| m.get(&l))),
                            lang: l,
                        })
                        .collect();
                }
                Kind::Enum(prefix, vals) | Kind::OptEnum(prefix, vals) => {
                    fv.widget = "select";
                    let empty = if matches!(fd.kind, Kind::OptEnum(..)) {
                        none()
                    } else {
                        None
                    };
                    fv.options = options(
                        vals.iter()
                            .map(|x| (x.to_string(), i.enum_label(prefix, x))),
                        &fv.value,
                        empty,
                    );
                }
                Kind::Ref(p) | Kind::OptRef(p) => {
                    fv.widget = "select";
                    let empty = if matches!(fd.kind, Kind::OptRef(_)) {
                        none()
                    } else {
                        None
                    };
                    fv.options = options(
                        c.list(p).iter().map(|(id, n)| (id.to_string(), n.clone())),
                        &fv.value,
                        empty,
                    );
                }
                Kind::Channel => {
                    fv.widget = "select";
                    fv.options = options(c.channels.clone(), &fv.value, None);
                }
                Kind::Owner | Kind::Provider | Kind::Customer => {
                    fv.widget = "select";
                    let cur = tag_of(v);
                    let kinds: Vec<(&str, &str)> = match fd.kind {
                        Kind::Owner => vec![("unit", "unit"), ("partner", "partner")],
                        Kind::Provider => vec![("unit", "unit"), ("person", "person")],
                        _ => vec![
                            ("segment", "segment"),
                            ("unit", "unit"),
                            ("partner", "partner"),
                        ],
                    };
                    let labelled: Vec<(&'static str, &'static str)> = kinds
                        .iter()
                        .map(|(k, _)| match *k {
                            "unit" => ("unit", "kind-label-unit"),
                            "partner" => ("partner", "kind-label-partner"),
                            "segment" => ("segment", "kind-label-segment"),
                            _ => ("person", "kind-label-person"),
                        })
                        .collect();
                    let items = c.tagged(
                        &labelled
                            .iter()
                            .map(|(k, key)| (*k, *key))
                            .collect::<Vec<_>>(),
                    );
                    let items: Vec<(String, String)> = items
                        .into_iter()
                        .map(|(val, label)| {
                            let key = labelled
                                .iter()
                                .find(|(k, _)| val.starts_with(&format!("{k}:")))
                                .map(|(_, key)| i.t(key))
                                .unwrap_or_default();
                            let base = label
                                .rsplit_once(" (")
                                .map(|(b, _)| b.to_owned())
                                .unwrap_or(label);
                            (val, format!("{base} ({key})"))
                        })
                        .collect();
                    let empty = if matches!(fd.kind, Kind::Owner) {
                        none()
                    } else {
                        None
                    };
                    fv.options = options(items, &cur, empty);
                }
                Kind::Check => {
                    fv.widget = "checkbox";
                    fv.value = if v.and_then(Value::as_bool).unwrap_or(false) {
                        "on".into()
                    } else {
                        String::new()
                    };
                }
                Kind::Int(req) => {
                    fv.widget = "number";
                    fv.required = req;
                }
                Kind::Date => fv.widget = "date",
                Kind::MultiRef(p) => {
                    fv.widget = "checks";
                    let chosen: Vec<i64> = v
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(Value::as_i64).collect())
                        .unwrap_or_default();
                    fv.options = c
                        .list(p)
                        .iter()
                        .map(|(id, n)| Opt {
                            value: id.to_string(),
                            label: n.clone(),
                            selected: chosen.contains(id),
                        })
                        .collect();
                }
                Kind::PackageElements => {
                    fv.widget = "elements";
                    let chosen: Vec<(i64, String)> = v
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(|e| {
                                    Some((
                                        e.get("element_id")?.as_i64()?,
                                        e.get("role")?.as_str()?.to_owned(),
                                    ))
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    fv.rows = c
                        .elements
                        .iter()
                        .map(|(id, n)| {
                            let cur = chosen
                                .iter()
                                .find(|(e, _)| e == id)
                                .map(|(_, r)| r.clone())
                                .unwrap_or_default();
                            ElementRow {
                                id: *id,
                                label: n.clone(),
                                options: options(
                                    ElementRole::ALL.iter().map(|r| {
                                        (r.as_str().to_owned(), i.enum_label("role", r.as_str()))
                                    }),
                                    &cur,
                                    Some(i.t("role-not-in-package")),
                                ),
                            }
                        })
                        .collect();
                }
            }
            fv
        })
        .collect()
}

// --- posted fields → API JSON --------------------------------------------------------

fn parse_fields(
    fields: &[Field],
    pairs: &[(String, String)],
    errors: &mut FieldErrors,
) -> Map<String, Value> {
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let mut out = Map::new();
    for fd in fields {
        let raw = get(fd.name);
        let value = match fd.kind {
            Kind::Slug | Kind::Enum(..) | Kind::Channel => json!(raw),
            Kind::Plain(true) => json!(raw),
            Kind::Plain(false) | Kind::OptEnum(..) | Kind::Date => {
                if raw.is_empty() {
                    Value::Null
                } else {
                    json!(raw)
                }
            }
            Kind::Texts(_) => {
                let prefix = format!("{}.", fd.name);
                let m: Map<String, Value> = pairs
                    .iter()
                    .filter_map(|(k, v)| {
                        Some((k.strip_prefix(&prefix)?.to_owned(), v.trim().to_owned()))
                    })
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(k, v)| (k, json!(v)))
                    .collect();
                Value::Object(m)
            }
            Kind::Ref(_) | Kind::OptRef(_) | Kind::Int(_) => {
                match (raw.is_empty(), raw.parse::<i64>()) {
                    (true, _) if matches!(fd.kind, Kind::OptRef(_) | Kind::Int(false)) => {
                        Value::Null
                    }
                    (_, Ok(n)) => json!(n),
                    _ => {
                        errors.add(
                            fd.name,
                            kohtaamo_domain::Reason::new(if matches!(fd.kind, Kind::Int(_)) {
                                "whole-number"
                            } else {
                                "choose-one"
                            }),
                        );
                        continue;
                    }
                }
            }
            Kind::Owner | Kind::Provider | Kind::Customer => match raw
                .split_once(':')
                .and_then(|(k, id)| Some((k.to_owned(), id.parse::<i64>().ok()?)))
            {
                Some((k, id)) => json!({ k: id }),
                None if raw.is_empty() && matches!(fd.kind, Kind::Owner) => Value::Null,
                None => {
                    errors.add(fd.name, kohtaamo_domain::Reason::new("choose-one"));
                    continue;
                }
            },
            Kind::Check => json!(!raw.is_empty()),
            Kind::MultiRef(_) => json!(pairs
                .iter()
                .filter(|(k, _)| k == fd.name)
                .filter_map(|(_, v)| v.parse::<i64>().ok())
                .collect::<Vec<_>>()),
            Kind::PackageElements => json!(pairs
                .iter()
                .filter_map(|(k, v)| Some((
                    k.strip_prefix("elements.")?.parse::<i64>().ok()?,
                    v.clone()
                )))
                .filter(|(_, role)| !role.is_empty())
                .map(|(id, role)| json!({"element_id": id, "role": role}))
                .collect::<Vec<_>>()),
        };
        out.insert(fd.name.to_owned(), value);
    }
    out
}

// --- handlers ------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "list.html")]
struct ListPage {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    title: String,
    base: String,
    csrf: String,
    can_edit: bool,
    ordered: bool,
    rows: Vec<(Id, String)>,
    collections: Vec<(&'static str, String)>,
    edit_root: String,
    filter: String,
    /// Link from each row to its children (stages → their touchpoints).
    child: Option<(&'static str, &'static str, String)>,
}

/// Collections editable in the browser, in menu order, with their title keys.
pub const COLLECTIONS: &[(&str, &str)] = &[
    ("units", "title-units"),
    ("people", "title-people"),
    ("partners", "title-partners"),
    ("segments", "title-segments"),
    ("relations", "title-relations"),
    ("channels", "title-channels"),
    ("elements", "title-elements"),
    ("packages", "title-packages"),
    ("journeys", "title-journeys"),
    ("stages", "title-stages"),
    ("touchpoints", "title-touchpoints"),
    ("process-steps", "title-process-steps"),
];

#[derive(Deserialize, Default)]
pub struct ListFilter {
    #[serde(default)]
    journey_id: Option<Id>,
    #[serde(default)]
    stage_id: Option<Id>,
}

async fn list_page<E: Editable>(
    st: &AppState,
    ctx: &PageCtx,
    filter: ListFilter,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    let i = &ctx.i;
    let choices = Choices::load(&st.store, w.id, i).await?;
    let mut filters = vec![];
    if let Some(j) = filter.journey_id {
        filters.push(("journey_id".to_string(), j.to_string()));
    }
    if let Some(s) = filter.stage_id {
        filters.push(("stage_id".to_string(), s.to_string()));
    }
    let ordered = !filters.is_empty() && E::POSITION_PARENT.is_some();
    let filter_q = serde_urlencoded::to_string(&filters).unwrap_or_default();
    let records = st
        .store
        .list::<E>(
            w.id,
            &ListQuery {
                limit: i64::MAX,
                offset: 0,
                q: None,
                filters,
            },
        )
        .await
        .map_err(PageError::from)?;
    let c = chrome(ctx);
    Ok(html(
        ListPage {
            title: i.t(E::TITLE),
            base: format!("/w/{}/edit/{}", w.data.slug, E::PATH),
            csrf: ctx.csrf.clone(),
            can_edit: role.can_edit(),
            ordered,
            rows: records
                .items
                .iter()
                .map(|r| (r.id, r.data.label(i, &choices)))
                .collect(),
            collections: COLLECTIONS.iter().map(|(p, k)| (*p, i.t(k))).collect(),
            edit_root: format!("/w/{}/edit", w.data.slug),
            child: (E::PATH == "stages")
                .then(|| ("touchpoints", "stage_id", i.t("title-touchpoints"))),
            filter: filter_q,
            i: c.i,
            nav: c.nav,
            langs: c.langs,
            here: c.here,
        }
        .render(),
    ))
}

async fn form_page<E: Editable>(
    st: &AppState,
    ctx: &PageCtx,
    id: Option<Id>,
    values: Map<String, Value>,
    errors: FieldErrors,
    error: Option<String>,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    if !role.can_edit() {
        return Err(PageError::Forbidden(ctx.i.clone()));
    }
    let i = &ctx.i;
    let choices = Choices::load(&st.store, w.id, i).await?;
    let base = format!("/w/{}/edit/{}", w.data.slug, E::PATH);
    let c = chrome(ctx);
    let status = if errors.is_empty() && error.is_none() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = FormPage {
        title: i.t(E::TITLE),
        action: match id {
            Some(id) => format!("{base}/{id}"),
            None => format!("{base}/new"),
        },
        back: base.clone(),
        csrf: ctx.csrf.clone(),
        fields: view(i, &choices, &E::fields(), &values, &errors),
        error,
        delete_action: id.map(|id| format!("{base}/{id}/delete")),
        i: c.i,
        nav: c.nav,
        langs: c.langs,
        here: c.here,
    };
    Ok((status, html(page.render())).into_response())
}

/// Defaults for a new record: the first journey or stage when filtering, the
/// workspace's first language for names.
fn new_values<E: Editable>(q: &ListFilter) -> Map<String, Value> {
    let mut m = Map::new();
    if let Some(j) = q.journey_id {
        m.insert("journey_id".into(), json!(j));
    }
    if let Some(s) = q.stage_id {
        m.insert("stage_id".into(), json!(s));
    }
    for fd in E::fields() {
        if let Kind::Int(true) = fd.kind {
            m.insert(
                fd.name.into(),
                json!(if fd.name == "review_interval_days" {
                    365
                } else {
                    0
                }),
            );
        }
        if let Kind::Enum(_, vals) = fd.kind {
            m.insert(fd.name.into(), json!(vals[0]));
        }
    }
    m
}

async fn save<E: Editable>(
    st: &AppState,
    ctx: &PageCtx,
    id: Option<Id>,
    pairs: Vec<(String, String)>,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    if !role.can_edit() {
        return Err(PageError::Forbidden(ctx.i.clone()));
    }
    let mut errors = FieldErrors::new();
    let values = parse_fields(&E::fields(), &pairs, &mut errors);
    if !errors.is_empty() {
        return form_page::<E>(st, ctx, id, values, errors, None).await;
    }
    let input: E::Input = match serde_json::from_value(Value::Object(values.clone())) {
        Ok(v) => v,
        Err(e) => return form_page::<E>(st, ctx, id, values, errors, Some(e.to_string())).await,
    };
    let data = match input.parse() {
        Ok(d) => d,
        Err(fe) => return form_page::<E>(st, ctx, id, values, fe, None).await,
    };
    let result = match id {
        Some(id) => st.store.update(w.id, id, &data).await,
        None => st.store.create(w.id, &data).await,
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/w/{}/edit/{}", w.data.slug, E::PATH)).into_response()),
        Err(StoreError::Invalid(fe)) => form_page::<E>(st, ctx, id, values, fe, None).await,
        Err(StoreError::Conflict(_)) => {
            form_page::<E>(
                st,
                ctx,
                id,
                values,
                FieldErrors::new(),
                Some(ctx.i.t("err-conflict")),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// Calls `$body` with the editable type named by a collection path segment.
macro_rules! dispatch {
    ($collection:expr, $T:ident => $body:expr) => {
        match $collection {
            "units" => {
                type $T = UnitData;
                $body
            }
            "people" => {
                type $T = PersonData;
                $body
            }
            "partners" => {
                type $T = PartnerData;
                $body
            }
            "segments" => {
                type $T = SegmentData;
                $body
            }
            "relations" => {
                type $T = RelationData;
                $body
            }
            "channels" => {
                type $T = ChannelData;
                $body
            }
            "elements" => {
                type $T = ElementData;
                $body
            }
            "packages" => {
                type $T = PackageData;
                $body
            }
            "journeys" => {
                type $T = JourneyData;
                $body
            }
            "stages" => {
                type $T = StageData;
                $body
            }
            "touchpoints" => {
                type $T = TouchpointData;
                $body
            }
            "process-steps" => {
                type $T = ProcessStepData;
                $body
            }
            _ => Err(PageError::NotFound($crate::i18n::I18n::new("en", "en"))),
        }
    };
}

pub async fn index(ctx: PageCtx) -> Result<Response, PageError> {
    let (w, _) = ctx.ws()?;
    Ok(Redirect::to(&format!("/w/{}/edit/units", w.data.slug)).into_response())
}

pub async fn list(
    State(st): State<AppState>,
    ctx: PageCtx,
    Path((_, collection)): Path<(String, String)>,
    Query(q): Query<ListFilter>,
) -> Result<Response, PageError> {
    dispatch!(collection.as_str(), T => list_page::<T>(&st, &ctx, q).await)
}

pub async fn new_form(
    State(st): State<AppState>,
    ctx: PageCtx,
    Path((_, collection)): Path<(String, String)>,
    Query(q): Query<ListFilter>,
) -> Result<Response, PageError> {
    dispatch!(collection.as_str(), T => form_page::<T>(&st, &ctx, None, new_values::<T>(&q), FieldErrors::new(), None).await)
}

pub async fn edit_form(
    State(st): State<AppState>,
    ctx: PageCtx,
    Path((_, collection, id)): Path<(String, String, Id)>,
) -> Result<Response, PageError> {
    let (w, _) = ctx.ws()?;
    let ws = w.id;
    dispatch!(collection.as_str(), T => {
        let rec: Record<T> = st.store.get::<T>(ws, id).await.map_err(|_| PageError::NotFound(ctx.i.clone()))?;
        let values = match serde_json::to_value(&rec.data) { Ok(Value::Object(m)) => m, _ => Map::new() };
        form_page::<T>(&st, &ctx, Some(id), values, FieldErrors::new(), None).await
    })
}

pub async fn create(
    State(st): State<AppState>,
    Path((_, collection)): Path<(String, String)>,
    CsrfForm { ctx, form }: CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    dispatch!(collection.as_str(), T => save::<T>(&st, &ctx, None, form).await)
}

pub async fn update(
    State(st): State<AppState>,
    Path((_, collection, id)): Path<(String, String, Id)>,
    CsrfForm { ctx, form }: CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    dispatch!(collection.as_str(), T => save::<T>(&st, &ctx, Some(id), form).await)
}

pub async fn delete(
    State(st): State<AppState>,
    Path((_, collection, id)): Path<(String, String, Id)>,
    CsrfForm { ctx, .. }: CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    if !role.can_edit() {
        return Err(PageError::Forbidden(ctx.i.clone()));
    }
    let ws = w.id;
    let slug = w.data.slug.to_string();
    dispatch!(collection.as_str(), T => {
        match st.store.delete::<T>(ws, id).await {
            Ok(()) => Ok(Redirect::to(&format!("/w/{slug}/edit/{collection}")).into_response()),
            Err(StoreError::Conflict(_)) => {
                let rec: Record<T> = st.store.get::<T>(ws, id).await?;
                let values = match serde_json::to_value(&rec.data) { Ok(Value::Object(m)) => m, _ => Map::new() };
                form_page::<T>(&st, &ctx, Some(id), values, FieldErrors::new(), Some(ctx.i.t("err-in-use"))).await
            }
            Err(e) => Err(e.into()),
        }
    })
}

#[derive(Deserialize)]
pub struct MoveForm {
    dir: String,
    #[serde(default)]
    back: String,
}

/// Moves a stage or touchpoint one place up or down within its parent.
pub async fn move_item(
    State(st): State<AppState>,
    Path((_, collection, id)): Path<(String, String, Id)>,
    CsrfForm { ctx, form }: CsrfForm<MoveForm>,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    if !role.can_edit() {
        return Err(PageError::Forbidden(ctx.i.clone()));
    }
    let ws = w.id;
    async fn reorder<E: Editable>(
        store: &Store,
        ws: Id,
        id: Id,
        up: bool,
    ) -> Result<(), PageError> {
        let rec = store.get::<E>(ws, id).await?;
        let (Some(col), Some(parent)) = (E::POSITION_PARENT, rec.data.parent_value()) else {
            return Ok(());
        };
        let siblings = store
            .list::<E>(
                ws,
                &ListQuery {
                    limit: i64::MAX,
                    offset: 0,
                    q: None,
                    filters: vec![(col.to_string(), parent.to_string())],
                },
            )
            .await?;
        let mut ids: Vec<Id> = siblings.items.iter().map(|r| r.id).collect();
        if let Some(k) = ids.iter().position(|x| *x == id) {
            let other = if up {
                k.checked_sub(1)
            } else {
                (k + 1 < ids.len()).then_some(k + 1)
            };
            if let Some(o) = other {
                ids.swap(k, o);
                store.reorder::<E>(ws, parent, &ids).await?;
            }
        }
        Ok(())
    }
    let up = form.dir == "up";
    match collection.as_str() {
        "stages" => reorder::<StageData>(&st.store, ws, id, up).await?,
        "touchpoints" => reorder::<TouchpointData>(&st.store, ws, id, up).await?,
        _ => return Err(PageError::NotFound(ctx.i.clone())),
    }
    Ok(Redirect::to(&super::safe_next(&form.back)).into_response())
}
