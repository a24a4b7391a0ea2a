//! How each model entity maps to its table: columns, references, filters. The SQL
//! itself lives once, in [`crate::entity`].

use chrono::NaiveDate;
use kohtaamo_domain::model::*;
use kohtaamo_domain::text::{PlainName, Slug};
use kohtaamo_domain::{FieldErrors, Id};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::entity::{decode_err, flag, texts, Entity, Filter, FilterKind, Link, Ref, Val};

type R<T> = std::result::Result<T, sqlx::Error>;

fn slug(row: &AnyRow) -> R<Slug> {
    Slug::parse(&row.try_get::<String, _>("slug")?).map_err(|e| decode_err("slug", e))
}
fn parse_col<T, E: std::fmt::Display>(
    row: &AnyRow,
    col: &str,
    f: impl Fn(&str) -> Result<T, E>,
) -> R<T> {
    f(&row.try_get::<String, _>(col)?).map_err(|e| decode_err(col, e))
}
fn id_ref(field: &str, table: &'static str, noun: &'static str, id: Id) -> Ref {
    Ref::Id {
        field: field.to_owned(),
        table,
        noun,
        id,
    }
}
fn owner_vals(o: Option<Owner>) -> [Val; 2] {
    match o {
        Some(Owner::Unit(u)) => [Some(u).into(), None::<i64>.into()],
        Some(Owner::Partner(p)) => [None::<i64>.into(), Some(p).into()],
        None => [None::<i64>.into(), None::<i64>.into()],
    }
}
fn owner_from(row: &AnyRow) -> R<Option<Owner>> {
    let u: Option<i64> = row.try_get("owner_unit_id")?;
    let p: Option<i64> = row.try_get("owner_partner_id")?;
    Ok(u.map(Owner::Unit).or(p.map(Owner::Partner)))
}
fn owner_ref(o: Option<Owner>) -> Vec<Ref> {
    match o {
        Some(Owner::Unit(id)) => vec![id_ref("owner", "units", "unit", id)],
        Some(Owner::Partner(id)) => vec![id_ref("owner", "partners", "partner", id)],
        None => vec![],
    }
}

const OWNER_FILTERS: [Filter; 2] = [
    Filter {
        param: "owner_unit_id",
        sql: "owner_unit_id = ?",
        kind: FilterKind::Int,
    },
    Filter {
        param: "owner_partner_id",
        sql: "owner_partner_id = ?",
        kind: FilterKind::Int,
    },
];

impl Entity for UnitData {
    const TABLE: &'static str = "units";
    const NOUN: &'static str = "unit";
    const COLUMNS: &'static [&'static str] = &["slug", "name", "description", "parent_id"];
    const ORDER: &'static str = "slug";
    const TREE: bool = true;
    const FILTERS: &'static [Filter] = &[Filter {
        param: "parent_id",
        sql: "parent_id = ?",
        kind: FilterKind::Int,
    }];
    fn binds(&self) -> Vec<Val> {
        vec![
            self.slug.as_str().into(),
            (&self.name).into(),
            (&self.description).into(),
            self.parent_id.into(),
        ]
    }
    fn from_row(row: &AnyRow) -> R<Self> {
        Ok(Self {
            slug: slug(row)?,
            name: texts(row, "name")?,
            description: texts(row, "description")?,
            parent_id: row.try_get("parent_id")?,
        })
    }
    fn references(&self) -> Vec<Ref> {
        self.parent_id
            .map(|p| id_ref("parent_id", "units", "unit", p))
            .into_iter()
            .collect()
    }
    fn parent_value(&self) -> Option<Id> {
        self.parent_id
    }
}

impl Entity for PartnerData {
    const TABLE: &'static str = "partners";
    const NOUN: &'static str = "partner";
    const COLUMNS: &'static [&'static str] = &["slug", "name", "description", "unit_id"];
    const ORDER: &'static str = "slug";
    fn binds(&self) -> Vec<Val> {
        vec![
            self.slug.as_str().into(),
            (&self.name).into(),
            (&self.description).into(),
            self.unit_id.into(),
        ]
    }
    fn from_row(row: &AnyRow) -> R<Self> {
        Ok(Self {
            slug: slug(row)?,
            name: texts(row, "name")?,
            description: texts(row, "description")?,
            unit_id: row.try_get("unit_id")?,
        })
    }
    fn references(&self) -> Vec<Ref> {
        self.unit_id
            .map(|p| id_ref("unit_id", "units", "unit", p))
            .into_iter()
            .collect()
    }
}

impl Entity for ChannelData {
    const TABLE: &'static str = "channels";
    const NOUN: &'static str = "channel";
    const COLUMNS: &'static [&'static str] = &["slug", "name", "description"];
    const ORDER: &'static str = "slug";
    fn binds(&self) -> Vec<Val> {
        vec![
            self.slug.as_str().into(),
            (&self.name).into(),
            (&self.description).into(),
        ]
    }
    fn from_row(row: &AnyRow) -> R<Self> {
        Ok(Self {
            slug: slug(row)?,
            name: texts(row, "name")?,
            description: texts(row, "description")?,
        })
    }
    fn check(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        if BuiltinChannel::parse(self.slug.as_str()).is_ok() {
            e.add("slug", kohtaamo_domain::Reason::new("builtin-channel"));
        }
        e.into_result(|| ())
    }
}

impl Entity for SegmentData {
    const TABLE: &'static str = "segments";
    const NOUN: &'static str = "segment";
    const COLUMNS: &'static [&'static str] = &["slug", "name", "description", "needs"];
    const ORDER: &'static str = "slug";
    fn binds(&self) -> Vec<Val> {
        vec![
            self.slug.as_str().into(),
            (&self.name).into(),
            (&self.description).into(),
            (&self.needs).into(),
        ]
    }
    fn from_row(row: &AnyRow) -> R<Self> {
        Ok(Self {
            slug: slug(row)?,
            name: texts(row, "name")?,
            description: texts(row, "description")?,
            needs: texts(row, "needs")?,
        })
    }
}

impl Entity for PersonData {
    const TABLE: &'static str = "people";
    const NOUN: &'static str = "person";
    const COLUMNS: &'static [&'static str] = &["slug", "name", "email", "unit_id", "role_title"];
    const ORDER: &'static str = "slug";
    const FILTERS: &'static [Filter] = &[Filter {
        param: "unit_id",
        sql: "unit_id = ?",
        kind: FilterKind::Int,
    }];
    const SEARCH: &'static [&'static str] = &["slug", "name", "email"];
    fn binds(&self) -> Vec<Val> {
        vec![
            self.slug.as_str().into(),
            self.name.as_str().into(),
            self.email.as_ref().map(|e| e.as_str().to_owned()).into(),
            self.unit_id.into(),
            (&self.role_title).into(),
        ]
    }
    fn from_row(row: &AnyRow) -> R<Self> {
        let email: Option<String> = row.try_get("email")?;
        Ok(Self {
            slug: slug(row)?,
            name: parse_col(row, "name", PlainName::parse)?,
            email: email
                .map(|e| Email::parse(&e))
                .transpose()
                .map_err(|e| decode_err("email", e))?,
            unit_id: row.try_get("unit_id")?,
            role_title: texts(row, "role_title")?,
        })
    }
    fn references(&self) -> Vec<Ref> {
        self.unit_id
            .map(|p| id_ref("unit_id", "units", "unit", p))
            .into_iter()
            .collect()
    }
}

impl Entity for RelationData {
    const TABLE: &'static str = "relations";
    const NOUN: &'static str = "relation";
    const COLUMNS: &'static [&'static str] = &[
        "provider_unit_id",
        "provider_person_id",
        "customer_segment_id",
        "customer_unit_id",
        "customer_partner_id",
        "value_statement",
        "review_interval_days",
        "last_reviewed_on",
        "review_due_on",
    ];
    const SEARCH: &'static [&'static str] = &["value_statement"];
    const FILTERS: &'static [Filter] = &[
        Filter {
            param: "provider_unit_id",
            sql: "provider_unit_id = ?",
            kind: FilterKind::Int,
        },
        Filter {
            param: "provider_person_id",
            sql: "provider_person_id = ?",
            kind: FilterKind::Int,
        },
        Filter {
            param: "customer_unit_id",
            sql: "customer_unit_id = ?",
            kind: FilterKind::Int,
        },
        Filter {
            param: "customer_segment_id",
            sql: "customer_segment_id = ?",
            kind: FilterKind::Int,
        },
        Filter {
            param: "customer_partner_id",
            sql: "customer_partner_id = ?",
            kind: FilterKind::Int,
        },
        Filter {
            param: "stale",
            sql: "review_due_on < ?",
            kind: FilterKind::StaleFlag,
        },
    ];
    fn binds(&self) -> Vec<Val> {
        let (pu, pp) = match self.provider {
            Provider::Unit(i) => (Some(i), None),
            Provider::Person(i) => (None, Some(i)),
        };
        let (cs, cu, cp) = match self.customer {
            Customer::Segment(i) => (Some(i), None, None),
            Customer::Unit(i) => (None, Some(i), None),
            Customer::Partner(i) => (None, None, Some(i)),
        };
        let due = self
            .last_reviewed_on
            .map(|d| (d + chrono::Duration::days(self.review_interval_days)).to_string())
            .unwrap_or_default();
        vec![
            pu.into(),
            pp.into(),
            cs.into(),
            cu.into(),
            cp.into(),
            (&self.value_statement).into(),
            self.review_interval_days.into(),
            self.last_reviewed_on.map(|d| d.to_string()).into(),
            due.into(),
        ]
    }
    fn from_row(row: &AnyRow) -> R<Self> {
        let get = |c: &str| row.try_get::<Option<i64>, _>(c);
        let provider = match (get("provider_unit_id")?, get("provider_person_id")?) {
            (Some(u), _) => Provider::Unit(u),
            (_, Some(p)) => Provider::Person(p),
            _ => return Err(decode_err("provider", "missing")),
        };
        let customer = match (
            get("customer_segment_id")?,
            get("customer_unit_id")?,
            get("customer_partner_id")?,
        ) {
            (Some(s), _, _) => Customer::Segment(s),
            (_, Some(u), _) => Customer::Unit(u),
            (_, _, Some(p)) => Customer::Partner(p),
            _ => return Err(decode_err("customer", "missing")),
        };
        let last: Option<String> = row.try_get("last_reviewed_on")?;
        Ok(Self {
            provider,
            customer,
            value_statement: texts(row, "value_statement")?,
            review_interval_days: row.try_get("review_interval_days")?,
            last_reviewed_on: last
                .map(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d"))
                .transpose()
                .map_err(|e| decode_err("last_reviewed_on", e.to_string()))?,
        })
    }
    fn references(&self) -> Vec<Ref> {
        vec![
            match self.provider {
                Provider::Unit(i) => id_ref("provider", "units", "unit", i),
                Provider::Person(i) => id_ref("provider", "people", "person", i),
            },
            match self.customer {
                Customer::Segment(i) => id_ref("customer", "segments", "segment", i),
                Customer::Unit(i) => id_ref("customer", "units", "unit", i),
                Customer::Partner(i) => id_ref("customer", "partners", "partner", i),
            },
        ]
    }
    fn derived(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        m.insert("stale".into(), self.is_stale(crate::today()).into());
        m
    }
}

impl Entity for ElementData {
    const TABLE: &'static str = "elements";
    const NOUN: &'static str = "element";
    const COLUMNS: &'static [&'static str] = &[
        "slug",
        "name",
        "description",
        "kind",
        "customer_visible",
        "has_it_components",
        "owner_unit_id",
        "owner_partner_id",
    ];
    const ORDER: &'static str = "slug";
    const FILTERS: &'static [Filter] = &OWNER_FILTERS;
    fn binds(&self) -> Vec<Val> {
        let [ou, op] = owner_vals(self.owner);
        vec![
            self.slug.as_str().into(),
            (&self.name).into(),
            (&self.description).into(),
            self.kind.as_str().into(),
            self.customer_visible.into(),
            self.has_it_components.into(),
            ou,
            op,
        ]
    }
    fn from_row(row: &AnyRow) -> R<Self> {
        Ok(Self {
            slug: slug(row)?,
            name: texts(row, "name")?,
            description: texts(row, "description")?,
            kind: parse_col(row, "kind", ElementKind::parse)?,
            customer_visible: flag(row, "customer_visible")?,
            has_it_components: flag(row, "has_it_components")?,
            owner: owner_from(row)?,
        })
    }
    fn references(&self) -> Vec<Ref> {
        owner_ref(self.owner)
    }
}

impl Entity for PackageData {
    const TABLE: &'static str = "packages";
    const NOUN: &'static str = "package";
    const COLUMNS: &'static [&'static str] = &["slug", "name", "description", "published"];
    const ORDER: &'static str = "slug";
    const LINK: Option<Link> = Some(Link {
        table: "package_elements",
        parent: "package_id",
        child: "element_id",
        child_table: "elements",
        child_noun: "element",
        field: "elements",
    });
    const FILTERS: &'static [Filter] = &[
        Filter {
            param: "element_id",
            sql: "id IN (SELECT package_id FROM package_elements WHERE element_id = ?)",
            kind: FilterKind::Int,
        },
        Filter {
            param: "published",
            sql: "published = ?",
            kind: FilterKind::Int,
        },
    ];
    fn binds(&self) -> Vec<Val> {
        vec![
            self.slug.as_str().into(),
            (&self.name).into(),
            (&self.description).into(),
            self.published.into(),
        ]
    }
    fn from_row(row: &AnyRow) -> R<Self> {
        Ok(Self {
            slug: slug(row)?,
            name: texts(row, "name")?,
            description: texts(row, "description")?,
            published: flag(row, "published")?,
            elements: Vec::new(),
        })
    }
    fn check(&self) -> Result<(), FieldErrors> {
        self.check_publishable()
    }
    fn links(&self) -> Vec<(Id, Option<String>)> {
        self.elements
            .iter()
            .map(|pe| (pe.element_id, Some(pe.role.as_str().to_owned())))
            .collect()
    }
    fn set_links(&mut self, rows: Vec<(Id, Option<String>)>) {
        self.elements = rows
            .into_iter()
            .filter_map(|(element_id, role)| {
                Some(PackageElement {
                    element_id,
                    role: ElementRole::parse(role.as_deref()?).ok()?,
                })
            })
            .collect();
    }
}

impl Entity for JourneyData {
    const TABLE: &'static str = "journeys";
    const NOUN: &'static str = "journey";
    const COLUMNS: &'static [&'static str] = &["slug", "name", "description", "segment_id"];
    const ORDER: &'static str = "slug";
    const LINK: Option<Link> = Some(Link {
        table: "journey_packages",
        parent: "journey_id",
        child: "package_id",
        child_table: "packages",
        child_noun: "package",
        field: "package_ids",
    });
    const FILTERS: &'static [Filter] = &[
        Filter {
            param: "segment_id",
            sql: "segment_id = ?",
            kind: FilterKind::Int,
        },
        Filter {
            param: "package_id",
            sql: "id IN (SELECT journey_id FROM journey_packages WHERE package_id = ?)",
            kind: FilterKind::Int,
        },
    ];
    fn binds(&self) -> Vec<Val> {
        vec![
            self.slug.as_str().into(),
            (&self.name).into(),
            (&self.description).into(),
            self.segment_id.into(),
        ]
    }
    fn from_row(row: &AnyRow) -> R<Self> {
        Ok(Self {
            slug: slug(row)?,
            name: texts(row, "name")?,
            description: texts(row, "description")?,
            segment_id: row.try_get("segment_id")?,
            package_ids: Vec::new(),
        })
    }
    fn references(&self) -> Vec<Ref> {
        vec![id_ref("segment_id", "segments", "segment", self.segment_id)]
    }
    fn links(&self) -> Vec<(Id, Option<String>)> {
        self.package_ids.iter().map(|p| (*p, None)).collect()
    }
    fn set_links(&mut self, rows: Vec<(Id, Option<String>)>) {
        self.package_ids = rows.into_iter().map(|(p, _)| p).collect();
    }
}

impl Entity for StageData {
    const TABLE: &'static str = "stages";
    const NOUN: &'static str = "stage";
    const COLUMNS: &'static [&'static str] = &["journey_id", "slug", "name", "description"];
    const ORDER: &'static str = "journey_id, position, id";
    const POSITION_PARENT: Option<&'static str> = Some("journey_id");
    const POSITION_PARENT_TABLE: &'static str = "journeys";
    const FILTERS: &'static [Filter] = &[Filter {
        param: "journey_id",
        sql: "journey_id = ?",
        kind: FilterKind::Int,
    }];
    fn binds(&self) -> Vec<Val> {
        vec![
            self.journey_id.into(),
            self.slug.as_str().into(),
            (&self.name).into(),
            (&self.description).into(),
        ]
    }
    fn from_row(row: &AnyRow) -> R<Self> {
        Ok(Self {
            journey_id: row.try_get("journey_id")?,
            slug: slug(row)?,
            name: texts(row, "name")?,
            description: texts(row, "description")?,
        })
    }
    fn references(&self) -> Vec<Ref> {
        vec![id_ref("journey_id", "journeys", "journey", self.journey_id)]
    }
    fn parent_value(&self) -> Option<Id> {
        Some(self.journey_id)
    }
}

impl Entity for TouchpointData {
    const TABLE: &'static str = "touchpoints";
    const NOUN: &'static str = "touchpoint";
    const COLUMNS: &'static [&'static str] = &[
        "stage_id",
        "slug",
        "name",
        "description",
        "channel",
        "owner_unit_id",
        "owner_partner_id",
        "element_id",
        "lane",
        "interface",
        "emotion",
        "moment_of_truth",
        "presence",
    ];
    // Journey, then stage order, then order within the stage.
    const ORDER: &'static str =
        "(SELECT s.journey_id FROM stages s WHERE s.id = touchpoints.stage_id), \
        (SELECT s.position FROM stages s WHERE s.id = touchpoints.stage_id), position, id";
    const POSITION_PARENT: Option<&'static str> = Some("stage_id");
    const POSITION_PARENT_TABLE: &'static str = "stages";
    const FILTERS: &'static [Filter] = &[
        Filter {
            param: "stage_id",
            sql: "stage_id = ?",
            kind: FilterKind::Int,
        },
        Filter {
            param: "journey_id",
            sql: "stage_id IN (SELECT id FROM stages WHERE journey_id = ?)",
            kind: FilterKind::Int,
        },
        Filter {
            param: "owner_unit_id",
            sql: "owner_unit_id = ?",
            kind: FilterKind::Int,
        },
        Filter {
            param: "owner_partner_id",
            sql: "owner_partner_id = ?",
            kind: FilterKind::Int,
        },
        Filter {
            param: "element_id",
            sql: "element_id = ?",
            kind: FilterKind::Int,
        },
        Filter {
            param: "channel",
            sql: "channel = ?",
            kind: FilterKind::Text,
        },
        Filter {
            param: "lane",
            sql: "lane = ?",
            kind: FilterKind::Text,
        },
        Filter {
            param: "interface",
            sql: "interface = ?",
            kind: FilterKind::Text,
        },
        Filter {
            param: "presence",
            sql: "presence = ?",
            kind: FilterKind::Text,
        },
    ];
    fn binds(&self) -> Vec<Val> {
        let [ou, op] = owner_vals(self.owner);
        vec![
            self.stage_id.into(),
            self.slug.as_str().into(),
            (&self.name).into(),
            (&self.description).into(),
            self.channel.as_str().into(),
            ou,
            op,
            self.element_id.into(),
            self.lane.as_str().into(),
            self.interface.map(|i| i.as_str().to_owned()).into(),
            self.emotion.value().into(),
            self.moment_of_truth.into(),
            self.presence.as_str().into(),
        ]
    }
    fn from_row(row: &AnyRow) -> R<Self> {
        let interface: Option<String> = row.try_get("interface")?;
        Ok(Self {
            stage_id: row.try_get("stage_id")?,
            slug: slug(row)?,
            name: texts(row, "name")?,
            description: texts(row, "description")?,
            channel: parse_col(row, "channel", Channel::parse)?,
            owner: owner_from(row)?,
            element_id: row.try_get("element_id")?,
            lane: parse_col(row, "lane", Lane::parse)?,
            interface: interface
                .map(|i| InterfaceKind::parse(&i))
                .transpose()
                .map_err(|e| decode_err("interface", e))?,
            emotion: Emotion::parse(row.try_get("emotion")?)
                .map_err(|e| decode_err("emotion", e))?,
            moment_of_truth: flag(row, "moment_of_truth")?,
            presence: parse_col(row, "presence", Presence::parse)?,
        })
    }
    fn references(&self) -> Vec<Ref> {
        let mut r = vec![id_ref("stage_id", "stages", "stage", self.stage_id)];
        r.extend(owner_ref(self.owner));
        if let Some(e) = self.element_id {
            r.push(id_ref("element_id", "elements", "element", e));
        }
        if let Channel::Custom(s) = &self.channel {
            r.push(Ref::Slug {
                field: "channel".into(),
                table: "channels",
                noun: "channel",
                slug: s.as_str().to_owned(),
            });
        }
        r
    }
    fn parent_value(&self) -> Option<Id> {
        Some(self.stage_id)
    }
}

impl Entity for ProcessStepData {
    const TABLE: &'static str = "process_steps";
    const NOUN: &'static str = "process step";
    const COLUMNS: &'static [&'static str] = &[
        "slug",
        "name",
        "description",
        "owner_unit_id",
        "duration_minutes",
    ];
    const ORDER: &'static str = "slug";
    const LINK: Option<Link> = Some(Link {
        table: "step_touchpoints",
        parent: "step_id",
        child: "touchpoint_id",
        child_table: "touchpoints",
        child_noun: "touchpoint",
        field: "touchpoint_ids",
    });
    const FILTERS: &'static [Filter] = &[
        Filter {
            param: "owner_unit_id",
            sql: "owner_unit_id = ?",
            kind: FilterKind::Int,
        },
        Filter {
            param: "touchpoint_id",
            sql: "id IN (SELECT step_id FROM step_touchpoints WHERE touchpoint_id = ?)",
            kind: FilterKind::Int,
        },
    ];
    fn binds(&self) -> Vec<Val> {
        vec![
            self.slug.as_str().into(),
            (&self.name).into(),
            (&self.description).into(),
            self.owner_unit_id.into(),
            self.duration_minutes.into(),
        ]
    }
    fn from_row(row: &AnyRow) -> R<Self> {
        Ok(Self {
            slug: slug(row)?,
            name: texts(row, "name")?,
            description: texts(row, "description")?,
            owner_unit_id: row.try_get("owner_unit_id")?,
            duration_minutes: row.try_get("duration_minutes")?,
            touchpoint_ids: Vec::new(),
        })
    }
    fn references(&self) -> Vec<Ref> {
        self.owner_unit_id
            .map(|p| id_ref("owner_unit_id", "units", "unit", p))
            .into_iter()
            .collect()
    }
    fn links(&self) -> Vec<(Id, Option<String>)> {
        self.touchpoint_ids.iter().map(|p| (*p, None)).collect()
    }
    fn set_links(&mut self, rows: Vec<(Id, Option<String>)>) {
        self.touchpoint_ids = rows.into_iter().map(|(p, _)| p).collect();
    }
}

impl Entity for kohtaamo_domain::survey::SurveyData {
    const TABLE: &'static str = "surveys";
    const NOUN: &'static str = "survey";
    /// Made by the installation; its link and QR codes are built from it.
    const READ_ONLY: &'static [&'static str] = &["public_key"];
    const COLUMNS: &'static [&'static str] = &[
        "slug",
        "name",
        "status",
        "touchpoint_id",
        "journey_id",
        "package_id",
        "intro",
        "thanks",
        "questions",
        "allowed_origins",
    ];
    const ORDER: &'static str = "slug";
    const FILTERS: &'static [Filter] = &[
        Filter {
            param: "touchpoint_id",
            sql: "touchpoint_id = ?",
            kind: FilterKind::Int,
        },
        Filter {
            param: "journey_id",
            sql: "journey_id = ?",
            kind: FilterKind::Int,
        },
        Filter {
            param: "package_id",
            sql: "package_id = ?",
            kind: FilterKind::Int,
        },
        Filter {
            param: "status",
            sql: "status = ?",
            kind: FilterKind::Text,
        },
    ];
    fn binds(&self) -> Vec<Val> {
        vec![
            self.slug.as_str().into(),
            (&self.name).into(),
            self.status.as_str().into(),
            self.touchpoint_id.into(),
            self.journey_id.into(),
            self.package_id.into(),
            (&self.intro).into(),
            (&self.thanks).into(),
            serde_json::to_string(&self.questions)
                .unwrap_or_else(|_| "[]".into())
                .into(),
            serde_json::to_string(&self.allowed_origins)
                .unwrap_or_else(|_| "[]".into())
                .into(),
        ]
    }
    fn from_row(row: &AnyRow) -> R<Self> {
        use kohtaamo_domain::survey::SurveyInput;
        // Stored surveys were validated on the way in; parsing again rebuilds the
        // typed definition from its JSON columns.
        let json = |col: &str| -> R<serde_json::Value> {
            parse_col(row, col, |s| serde_json::from_str::<serde_json::Value>(s))
        };
        let input = SurveyInput {
            slug: row.try_get("slug")?,
            name: texts(row, "name")?.raw(),
            status: Some(row.try_get("status")?),
            touchpoint_id: row.try_get("touchpoint_id")?,
            journey_id: row.try_get("journey_id")?,
            package_id: row.try_get("package_id")?,
            intro: texts(row, "intro")?.raw(),
            thanks: texts(row, "thanks")?.raw(),
            questions: serde_json::from_value(json("questions")?)
                .map_err(|e| decode_err("questions", e))?,
            allowed_origins: serde_json::from_value(json("allowed_origins")?)
                .map_err(|e| decode_err("allowed_origins", e))?,
        };
        kohtaamo_domain::model::Parse::parse(&input).map_err(|e| decode_err("survey", e))
    }
    fn references(&self) -> Vec<Ref> {
        let mut r = Vec::new();
        if let Some(id) = self.touchpoint_id {
            r.push(id_ref("touchpoint_id", "touchpoints", "touchpoint", id));
        }
        if let Some(id) = self.journey_id {
            r.push(id_ref("journey_id", "journeys", "journey", id));
        }
        if let Some(id) = self.package_id {
            r.push(id_ref("package_id", "packages", "package", id));
        }
        r
    }
}

impl Entity for kohtaamo_domain::alerts::AlertRuleData {
    const TABLE: &'static str = "alert_rules";
    const NOUN: &'static str = "alert rule";
    const COLUMNS: &'static [&'static str] = &[
        "scope",
        "group_key",
        "metric",
        "cond",
        "threshold",
        "period_days",
        "unit_id",
    ];
    const SEARCH: &'static [&'static str] = &["scope", "group_key"];
    const FILTERS: &'static [Filter] = &[
        Filter {
            param: "scope",
            sql: "scope = ?",
            kind: FilterKind::Text,
        },
        Filter {
            param: "key",
            sql: "group_key = ?",
            kind: FilterKind::Text,
        },
        Filter {
            param: "unit_id",
            sql: "unit_id = ?",
            kind: FilterKind::Int,
        },
    ];
    fn binds(&self) -> Vec<Val> {
        vec![
            self.scope.as_str().into(),
            self.key.to_string().into(),
            self.metric.as_str().into(),
            self.condition.as_str().into(),
            self.threshold.into(),
            self.period_days.into(),
            self.unit_id.into(),
        ]
    }
    fn from_row(row: &AnyRow) -> R<Self> {
        use kohtaamo_domain::alerts::AlertRuleInput;
        let input = AlertRuleInput {
            scope: row.try_get("scope")?,
            key: row.try_get("group_key")?,
            metric: row.try_get("metric")?,
            condition: row.try_get("cond")?,
            threshold: row.try_get("threshold")?,
            period_days: Some(row.try_get("period_days")?),
            unit_id: row.try_get("unit_id")?,
        };
        Parse::parse(&input).map_err(|e| decode_err("alert rule", e))
    }
    fn references(&self) -> Vec<Ref> {
        use kohtaamo_domain::analytics::{GroupKey, Scope};
        let mut r: Vec<Ref> = self
            .unit_id
            .map(|u| id_ref("unit_id", "units", "unit", u))
            .into_iter()
            .collect();
        let target = match self.scope {
            Scope::Touchpoint => Some(("touchpoints", "touchpoint")),
            Scope::Stage => Some(("stages", "stage")),
            Scope::Journey => Some(("journeys", "journey")),
            Scope::Package => Some(("packages", "package")),
            Scope::Element => Some(("elements", "element")),
            Scope::Unit => Some(("units", "unit")),
            Scope::Partner => Some(("partners", "partner")),
            Scope::Segment => Some(("segments", "segment")),
            Scope::Survey => Some(("surveys", "survey")),
            Scope::Channel | Scope::Language => None,
        };
        if let (Some((table, noun)), GroupKey::Id(id)) = (target, &self.key) {
            r.push(id_ref("key", table, noun, *id));
        }
        r
    }
}

impl Entity for kohtaamo_domain::followups::FollowUpRuleData {
    const TABLE: &'static str = "follow_up_rules";
    const NOUN: &'static str = "follow-up rule";
    const COLUMNS: &'static [&'static str] = &[
        "name",
        "trigger_kind",
        "threshold",
        "question",
        "terms",
        "scope",
        "scope_id",
        "unit_id",
        "contact_hours",
        "resolve_hours",
        "active",
    ];
    const SEARCH: &'static [&'static str] = &["name"];
    const FILTERS: &'static [Filter] = &[
        Filter {
            param: "trigger",
            sql: "trigger_kind = ?",
            kind: FilterKind::Text,
        },
        Filter {
            param: "unit_id",
            sql: "unit_id = ?",
            kind: FilterKind::Int,
        },
    ];
    fn binds(&self) -> Vec<Val> {
        vec![
            self.name.clone().into(),
            self.trigger.as_str().into(),
            self.threshold.into(),
            self.question.clone().into(),
            serde_json::to_string(&self.terms)
                .unwrap_or_else(|_| "[]".into())
                .into(),
            self.scope.as_str().into(),
            self.scope_id.into(),
            self.unit_id.into(),
            self.contact_hours.into(),
            self.resolve_hours.into(),
            self.active.into(),
        ]
    }
    fn from_row(row: &AnyRow) -> R<Self> {
        use kohtaamo_domain::followups::FollowUpRuleInput;
        let terms: String = row.try_get("terms")?;
        let input = FollowUpRuleInput {
            name: row.try_get("name")?,
            trigger: row.try_get("trigger_kind")?,
            threshold: row.try_get("threshold")?,
            question: row.try_get("question")?,
            terms: Some(serde_json::from_str(&terms).map_err(|e| decode_err("terms", e))?),
            scope: Some(row.try_get("scope")?),
            scope_id: row.try_get("scope_id")?,
            unit_id: row.try_get("unit_id")?,
            contact_hours: Some(row.try_get("contact_hours")?),
            resolve_hours: Some(row.try_get("resolve_hours")?),
            active: Some(flag(row, "active")?),
        };
        Parse::parse(&input).map_err(|e| decode_err("follow-up rule", e))
    }
    fn references(&self) -> Vec<Ref> {
        use kohtaamo_domain::followups::RuleScope;
        let mut r: Vec<Ref> = self
            .unit_id
            .map(|u| id_ref("unit_id", "units", "unit", u))
            .into_iter()
            .collect();
        let target = match self.scope {
            RuleScope::Workspace => None,
            RuleScope::Survey => Some(("surveys", "survey")),
            RuleScope::Touchpoint => Some(("touchpoints", "touchpoint")),
            RuleScope::Stage => Some(("stages", "stage")),
            RuleScope::Journey => Some(("journeys", "journey")),
            RuleScope::Package => Some(("packages", "package")),
            RuleScope::Unit => Some(("units", "unit")),
        };
        if let (Some((table, noun)), Some(id)) = (target, self.scope_id) {
            r.push(id_ref("scope_id", table, noun, id));
        }
        r
    }
}
