//! Names of a workspace's records in one language: the one lookup every page, diagram
//! and report uses to turn ids (owners, providers, customers, findings) into text.

use std::collections::HashMap;

use kohtaamo_domain::insight::{Party, Snapshot};
use kohtaamo_domain::model::{
    Customer, Owner, PartnerData, PersonData, Provider, SegmentData, UnitData,
};
use kohtaamo_domain::Id;
use kohtaamo_storage::{ListQuery, Store};

use crate::i18n::I18n;

pub struct Names {
    pub units: HashMap<Id, String>,
    pub partners: HashMap<Id, String>,
    pub segments: HashMap<Id, String>,
    pub people: HashMap<Id, String>,
    pub touchpoints: HashMap<Id, String>,
    pub steps: HashMap<Id, String>,
    pub elements: HashMap<Id, String>,
    pub packages: HashMap<Id, String>,
    pub journeys: HashMap<Id, String>,
}

fn texts<'a, T: 'a>(
    items: impl IntoIterator<Item = &'a (Id, T)>,
    name: impl Fn(&T) -> String,
) -> HashMap<Id, String> {
    items.into_iter().map(|(id, d)| (*id, name(d))).collect()
}

impl Names {
    pub fn new(s: &Snapshot, i: &I18n) -> Self {
        Self {
            units: texts(&s.units, |d| i.text(&d.name)),
            partners: texts(&s.partners, |d| i.text(&d.name)),
            segments: texts(&s.segments, |d| i.text(&d.name)),
            people: texts(&s.people, |d| d.name.as_str().to_owned()),
            touchpoints: texts(s.stages.iter().flat_map(|(_, _, t)| t.iter()), |d| {
                i.text(&d.name)
            }),
            steps: texts(&s.steps, |d| i.text(&d.name)),
            elements: texts(&s.elements, |d| i.text(&d.name)),
            packages: texts(&s.packages, |d| i.text(&d.name)),
            journeys: texts(&s.journeys, |d| i.text(&d.name)),
        }
    }

    /// Only what owner, provider and customer lookups need (units, partners, segments,
    /// people): four small queries, for pages that load their own records. The other
    /// maps stay empty; use [`Names::new`] with a snapshot for everything.
    pub async fn load(store: &Store, ws: Id, i: &I18n) -> kohtaamo_storage::Result<Self> {
        async fn all<E: kohtaamo_storage::Entity>(
            store: &Store,
            ws: Id,
        ) -> kohtaamo_storage::Result<Vec<(Id, E)>> {
            Ok(store
                .list::<E>(ws, &ListQuery::all())
                .await?
                .items
                .into_iter()
                .map(|r| (r.id, r.data))
                .collect())
        }
        let snapshot = Snapshot {
            units: all::<UnitData>(store, ws).await?,
            partners: all::<PartnerData>(store, ws).await?,
            segments: all::<SegmentData>(store, ws).await?,
            people: all::<PersonData>(store, ws).await?,
            ..Default::default()
        };
        Ok(Self::new(&snapshot, i))
    }

    /// The name of `id` in `m`, or `#id` if it is not there.
    pub fn get(m: &HashMap<Id, String>, id: Id) -> String {
        m.get(&id).cloned().unwrap_or_else(|| format!("#{id}"))
    }

    pub fn list(m: &HashMap<Id, String>, ids: &[Id]) -> String {
        ids.iter()
            .map(|id| Self::get(m, *id))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn party(&self, p: Party) -> String {
        match p {
            Party::Unit(u) => Self::get(&self.units, u),
            Party::Partner(p) => Self::get(&self.partners, p),
        }
    }

    /// An owner's name; empty when there is no owner.
    pub fn owner(&self, o: &Option<Owner>) -> String {
        o.map(|o| self.party(o.into())).unwrap_or_default()
    }

    pub fn provider(&self, p: &Provider) -> String {
        match p {
            Provider::Unit(id) => Self::get(&self.units, *id),
            Provider::Person(id) => Self::get(&self.people, *id),
        }
    }

    pub fn customer(&self, c: &Customer) -> String {
        match c {
            Customer::Segment(id) => Self::get(&self.segments, *id),
            Customer::Unit(id) => Self::get(&self.units, *id),
            Customer::Partner(id) => Self::get(&self.partners, *id),
        }
    }
}
