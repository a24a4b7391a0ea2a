//! Model as code: export a workspace as a [`Document`] and import one back.
//!
//! Import upserts by slug inside one transaction: an invalid document changes nothing,
//! and importing the same document twice changes nothing the second time (records equal
//! to the document are left untouched and counted as unchanged). With `prune`, model
//! records the document does not mention are deleted, so the workspace equals the file.

use std::collections::{BTreeSet, HashMap};

use kohtaamo_domain::document::*;
use kohtaamo_domain::model::*;
use kohtaamo_domain::{FieldErrors, Id};
use serde::Serialize;
use sqlx::{AnyConnection, Row};

use crate::entity::{self, Entity, ListQuery, Record};
use crate::{Result, Store, StoreError};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub workspace: String,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub deleted: usize,
}

/// Parses YAML text into a document; syntax and shape errors carry line and column.
/// References such as an owner are written as one-key maps (`{unit: it}`), not YAML
/// tags, so the file reads naturally.
pub fn parse_yaml(text: &str) -> std::result::Result<Document, FieldErrors> {
    serde_norway::with::singleton_map_recursive::deserialize(serde_norway::Deserializer::from_str(
        text,
    ))
    .map_err(|e: serde_norway::Error| Document::from_yaml_value_error(e.to_string()))
}

pub fn to_yaml(doc: &Document) -> String {
    let mut out = Vec::new();
    let mut ser = serde_norway::Serializer::new(&mut out);
    // Serializing plain data structures to memory cannot fail.
    if serde_norway::with::singleton_map_recursive::serialize(doc, &mut ser).is_err() {
        return String::new();
    }
    String::from_utf8(out).unwrap_or_default()
}

async fn all<E: Entity>(
    c: &mut AnyConnection,
    ws: Id,
    filters: Vec<(String, String)>,
) -> Result<Vec<Record<E>>> {
    Ok(entity::list::<E>(
        c,
        ws,
        &ListQuery {
            limit: i64::MAX,
            offset: 0,
            q: None,
            filters,
        },
    )
    .await?
    .items)
}

fn slugs<E: Entity>(recs: &[Record<E>], slug: impl Fn(&E) -> String) -> HashMap<Id, String> {
    recs.iter().map(|r| (r.id, slug(&r.data))).collect()
}

fn lookup(m: &HashMap<Id, String>, id: Id) -> String {
    m.get(&id).cloned().unwrap_or_default()
}

fn owner_ref(
    o: Option<Owner>,
    units: &HashMap<Id, String>,
    partners: &HashMap<Id, String>,
) -> Option<DocRef> {
    o.map(|o| match o {
        Owner::Unit(i) => DocRef::Unit(lookup(units, i)),
        Owner::Partner(i) => DocRef::Partner(lookup(partners, i)),
    })
}

impl Store {
    pub async fn export(&self, ws_slug: &str) -> Result<Document> {
        let ws = self
            .workspace_by_slug(ws_slug)
            .await?
            .ok_or(StoreError::NotFound)?;
        let w = ws.id;
        let mut c = self.pool().acquire().await?;
        let c = &mut *c;
        let units = all::<UnitData>(c, w, vec![]).await?;
        let partners = all::<PartnerData>(c, w, vec![]).await?;
        let segments = all::<SegmentData>(c, w, vec![]).await?;
        let people = all::<PersonData>(c, w, vec![]).await?;
        let channels = all::<ChannelData>(c, w, vec![]).await?;
        let relations = all::<RelationData>(c, w, vec![]).await?;
        let elements = all::<ElementData>(c, w, vec![]).await?;
        let packages = all::<PackageData>(c, w, vec![]).await?;
        let journeys = all::<JourneyData>(c, w, vec![]).await?;
        let touchpoints = all::<TouchpointData>(c, w, vec![]).await?;
        let steps = all::<ProcessStepData>(c, w, vec![]).await?;
        let surveys = all::<kohtaamo_domain::survey::SurveyData>(c, w, vec![]).await?;

        let unit_s = slugs(&units, |d| d.slug.to_string());
        let partner_s = slugs(&partners, |d| d.slug.to_string());
        let segment_s = slugs(&segments, |d| d.slug.to_string());
        let person_s = slugs(&people, |d| d.slug.to_string());
        let element_s = slugs(&elements, |d| d.slug.to_string());
        let package_s = slugs(&packages, |d| d.slug.to_string());
        let touchpoint_s = slugs(&touchpoints, |d| d.slug.to_string());
        let journey_slugs = slugs(&journeys, |d| d.slug.to_string());

        let mut doc_relations: Vec<DocRelation> = relations
            .iter()
            .map(|r| {
                let d = &r.data;
                DocRelation {
                    provider: match d.provider {
                        Provider::Unit(i) => DocRef::Unit(lookup(&unit_s, i)),
                        Provider::Person(i) => DocRef::Person(lookup(&person_s, i)),
                    },
                    customer: match d.customer {
                        Customer::Segment(i) => DocRef::Segment(lookup(&segment_s, i)),
                        Customer::Unit(i) => DocRef::Unit(lookup(&unit_s, i)),
                        Customer::Partner(i) => DocRef::Partner(lookup(&partner_s, i)),
                    },
                    value_statement: d.value_statement.raw(),
                    review_interval_days: d.review_interval_days,
                    last_reviewed_on: d.last_reviewed_on.map(|x| x.to_string()),
                }
            })
            .collect();
        doc_relations.sort_by(|a, b| (&a.provider, &a.customer).cmp(&(&b.provider, &b.customer)));

        let mut doc_journeys = Vec::new();
        for j in &journeys {
            let stages =
                all::<StageData>(c, w, vec![("journey_id".into(), j.id.to_string())]).await?;
            let mut doc_stages = Vec::new();
            for s in &stages {
                let tps = touchpoints.iter().filter(|t| t.data.stage_id == s.id);
                doc_stages.push(DocStage {
                    slug: s.data.slug.to_string(),
                    name: s.data.name.raw(),
                    description: s.data.description.raw(),
                    touchpoints: tps
                        .map(|t| {
                            let d = &t.data;
                            DocTouchpoint {
                                slug: d.slug.to_string(),
                                name: d.name.raw(),
                                description: d.description.raw(),
                                channel: d.channel.as_str().to_owned(),
                                owner: owner_ref(d.owner, &unit_s, &partner_s),
                                element: d.element_id.map(|e| lookup(&element_s, e)),
                                lane: d.lane.as_str().to_owned(),
                                interface: d.interface.map(|i| i.as_str().to_owned()),
                                emotion: d.emotion.value(),
                                moment_of_truth: d.moment_of_truth,
                                presence: (d.presence != Presence::Alternative)
                                    .then(|| d.presence.as_str().to_owned()),
                            }
                        })
                        .collect(),
                });
            }
            doc_journeys.push(DocJourney {
                slug: j.data.slug.to_string(),
                name: j.data.name.raw(),
                description: j.data.description.raw(),
                segment: lookup(&segment_s, j.data.segment_id),
                packages: j
                    .data
                    .package_ids
                    .iter()
                    .map(|p| lookup(&package_s, *p))
                    .collect(),
                stages: doc_stages,
            });
        }

        Ok(Document {
            kohtaamo: FORMAT_VERSION,
            workspace: DocWorkspace {
                slug: ws.data.slug.to_string(),
                name: ws.data.name.raw(),
                default_language: ws.data.default_language.as_str().to_owned(),
            },
            units: units
                .iter()
                .map(|u| DocUnit {
                    slug: u.data.slug.to_string(),
                    name: u.data.name.raw(),
                    description: u.data.description.raw(),
                    parent: u.data.parent_id.map(|p| lookup(&unit_s, p)),
                })
                .collect(),
            partners: partners
                .iter()
                .map(|p| DocPartner {
                    slug: p.data.slug.to_string(),
                    name: p.data.name.raw(),
                    description: p.data.description.raw(),
                    unit: p.data.unit_id.map(|u| lookup(&unit_s, u)),
                })
                .collect(),
            segments: segments
                .iter()
                .map(|s| DocSegment {
                    slug: s.data.slug.to_string(),
                    name: s.data.name.raw(),
                    description: s.data.description.raw(),
                    needs: s.data.needs.raw(),
                })
                .collect(),
            people: people
                .iter()
                .map(|p| DocPerson {
                    slug: p.data.slug.to_string(),
                    name: p.data.name.as_str().to_owned(),
                    email: p.data.email.as_ref().map(|e| e.as_str().to_owned()),
                    unit: p.data.unit_id.map(|u| lookup(&unit_s, u)),
                    role_title: p.data.role_title.raw(),
                })
                .collect(),
            channels: channels
                .iter()
                .map(|p| DocNamed {
                    slug: p.data.slug.to_string(),
                    name: p.data.name.raw(),
                    description: p.data.description.raw(),
                })
                .collect(),
            relations: doc_relations,
            elements: elements
                .iter()
                .map(|e| DocElement {
                    slug: e.data.slug.to_string(),
                    name: e.data.name.raw(),
                    description: e.data.description.raw(),
                    kind: e.data.kind.as_str().to_owned(),
                    customer_visible: e.data.customer_visible,
                    has_it_components: e.data.has_it_components,
                    owner: owner_ref(e.data.owner, &unit_s, &partner_s),
                })
                .collect(),
            packages: packages
                .iter()
                .map(|p| DocPackage {
                    slug: p.data.slug.to_string(),
                    name: p.data.name.raw(),
                    description: p.data.description.raw(),
                    published: p.data.published,
                    elements: p
                        .data
                        .elements
                        .iter()
                        .map(|pe| DocPackageElement {
                            element: lookup(&element_s, pe.element_id),
                            role: pe.role.as_str().to_owned(),
                        })
                        .collect(),
                })
                .collect(),
            journeys: doc_journeys,
            process_steps: steps
                .iter()
                .map(|s| DocProcessStep {
                    slug: s.data.slug.to_string(),
                    name: s.data.name.raw(),
                    description: s.data.description.raw(),
                    owner: s.data.owner_unit_id.map(|u| lookup(&unit_s, u)),
                    duration_minutes: s.data.duration_minutes,
                    serves: s
                        .data
                        .touchpoint_ids
                        .iter()
                        .map(|t| lookup(&touchpoint_s, *t))
                        .collect(),
                })
                .collect(),
            surveys: surveys
                .iter()
                .map(|s| {
                    let d = &s.data;
                    DocSurvey {
                        slug: d.slug.to_string(),
                        name: d.name.raw(),
                        status: d.status.as_str().to_owned(),
                        touchpoint: d.touchpoint_id.map(|t| lookup(&touchpoint_s, t)),
                        journey: d.journey_id.map(|t| lookup(&journey_slugs, t)),
                        package: d.package_id.map(|t| lookup(&package_s, t)),
                        intro: d.intro.raw(),
                        thanks: d.thanks.raw(),
                        questions: d.questions.iter().map(Into::into).collect(),
                        allowed_origins: d.allowed_origins.clone(),
                    }
                })
                .collect(),
        })
    }

    /// Imports a document in one transaction. Invalid → `StoreError::Invalid` with every
    /// problem under its path in the document, and nothing written.
    pub async fn import(&self, doc: &Document, prune: bool) -> Result<ImportReport> {
        doc.validate().map_err(StoreError::Invalid)?;
        let (_gate, mut tx) = self.write().await?;
        let r = async {
            let mut im = Importer {
                c: &mut tx,
                ws: 0,
                report: ImportReport {
                    workspace: doc.workspace.slug.clone(),
                    ..Default::default()
                },
            };
            im.run(doc, prune).await?;
            Ok(im.report)
        }
        .await;
        // After the commit, so a reload never caches the old data as new.
        let out = self.finish(tx, r).await;
        self.bump();
        out
    }
}

struct Importer<'a> {
    c: &'a mut AnyConnection,
    ws: Id,
    report: ImportReport,
}

/// Puts a store error under the document path it came from.
fn at(path: &str) -> impl Fn(StoreError) -> StoreError + '_ {
    move |e| match e {
        StoreError::Invalid(fe) => {
            let mut out = FieldErrors::new();
            out.nest(path, fe);
            StoreError::Invalid(out)
        }
        StoreError::Conflict(msg) => {
            let mut out = FieldErrors::new();
            out.add(path, msg);
            StoreError::Invalid(out)
        }
        other => other,
    }
}

fn parsed<I: Parse>(path: &str, input: I) -> Result<I::Data> {
    input
        .parse()
        .map_err(|fe| at(path)(StoreError::Invalid(fe)))
}

impl Importer<'_> {
    async fn upsert<E: Entity + PartialEq>(
        &mut self,
        path: &str,
        existing: Option<Id>,
        data: &E,
    ) -> Result<Id> {
        match existing {
            Some(id) => {
                let old = entity::get::<E>(self.c, self.ws, id).await?;
                if old.data == *data {
                    self.report.unchanged += 1;
                } else {
                    entity::update(self.c, self.ws, id, data)
                        .await
                        .map_err(at(path))?;
                    self.report.updated += 1;
                }
                Ok(id)
            }
            None => {
                self.report.created += 1;
                entity::create(self.c, self.ws, data)
                    .await
                    .map_err(at(path))
            }
        }
    }

    async fn id(&mut self, table: &str, slug: &str) -> Result<Option<Id>> {
        entity::id_by_slug(self.c, table, self.ws, slug).await
    }

    /// Id of a slug the document defines; it was upserted earlier in this import.
    fn known(map: &HashMap<String, Id>, slug: &str) -> Id {
        map.get(slug).copied().unwrap_or(0)
    }

    async fn run(&mut self, doc: &Document, prune: bool) -> Result<()> {
        let wdata = parsed(
            "workspace",
            WorkspaceInput {
                slug: doc.workspace.slug.clone(),
                name: doc.workspace.name.clone(),
                default_language: doc.workspace.default_language.clone(),
            },
        )?;
        let row =
            sqlx::query("SELECT id, slug, name, default_language FROM workspaces WHERE slug = $1")
                .bind(&doc.workspace.slug)
                .fetch_optional(&mut *self.c)
                .await?;
        self.ws = match row {
            Some(r) => {
                let existing = crate::auth::workspace_from(&r)?;
                if existing.data != wdata {
                    sqlx::query(
                        "UPDATE workspaces SET name = $1, default_language = $2 WHERE id = $3",
                    )
                    .bind(wdata.name.to_json())
                    .bind(wdata.default_language.as_str())
                    .bind(existing.id)
                    .execute(&mut *self.c)
                    .await?;
                    self.report.updated += 1;
                } else {
                    self.report.unchanged += 1;
                }
                existing.id
            }
            None => {
                self.report.created += 1;
                crate::auth::insert_workspace(self.c, &wdata).await?
            }
        };

        // Units: create the missing ones without a parent so every slug has an id, then
        // bring each to its final state. Parents of units about to change are cleared
        // first: the remaining parent links are all final ones, and the document's tree
        // is acyclic, so no intermediate state can contain a cycle.
        let mut units = HashMap::new();
        let mut new_units = BTreeSet::new();
        for (i, u) in doc.units.iter().enumerate() {
            let id = match self.id("units", &u.slug).await? {
                Some(id) => id,
                None => {
                    let path = format!("units[{i}]");
                    let bare = parsed(
                        &path,
                        UnitInput {
                            slug: u.slug.clone(),
                            name: u.name.clone(),
                            description: u.description.clone(),
                            parent_id: None,
                        },
                    )?;
                    self.report.created += 1;
                    let id = entity::create(self.c, self.ws, &bare)
                        .await
                        .map_err(at(&path))?;
                    new_units.insert(id);
                    id
                }
            };
            units.insert(u.slug.clone(), id);
        }
        let mut pending = Vec::new();
        for (i, u) in doc.units.iter().enumerate() {
            let path = format!("units[{i}]");
            let id = Self::known(&units, &u.slug);
            let parent_id = u.parent.as_ref().map(|p| Self::known(&units, p));
            let want = parsed(
                &path,
                UnitInput {
                    slug: u.slug.clone(),
                    name: u.name.clone(),
                    description: u.description.clone(),
                    parent_id,
                },
            )?;
            let old = entity::get::<UnitData>(self.c, self.ws, id).await?;
            if old.data != want {
                pending.push((path, id, want));
            }
        }
        for (_, id, _) in &pending {
            sqlx::query("UPDATE units SET parent_id = NULL WHERE workspace_id = $1 AND id = $2")
                .bind(self.ws)
                .bind(*id)
                .execute(&mut *self.c)
                .await?;
        }
        for (path, id, want) in &pending {
            entity::update(self.c, self.ws, *id, want)
                .await
                .map_err(at(path))?;
        }
        let updated = pending
            .iter()
            .filter(|(_, id, _)| !new_units.contains(id))
            .count();
        self.report.updated += updated;
        self.report.unchanged += doc.units.len() - new_units.len() - updated;
        let mut partners = HashMap::new();
        for (i, p) in doc.partners.iter().enumerate() {
            let path = format!("partners[{i}]");
            let data = parsed(
                &path,
                PartnerInput {
                    slug: p.slug.clone(),
                    name: p.name.clone(),
                    description: p.description.clone(),
                    unit_id: p.unit.as_ref().map(|u| Self::known(&units, u)),
                },
            )?;
            let existing = self.id("partners", &p.slug).await?;
            partners.insert(p.slug.clone(), self.upsert(&path, existing, &data).await?);
        }
        let mut segments = HashMap::new();
        for (i, s) in doc.segments.iter().enumerate() {
            let path = format!("segments[{i}]");
            let data = parsed(
                &path,
                SegmentInput {
                    slug: s.slug.clone(),
                    name: s.name.clone(),
                    description: s.description.clone(),
                    needs: Some(s.needs.clone()),
                },
            )?;
            let existing = self.id("segments", &s.slug).await?;
            segments.insert(s.slug.clone(), self.upsert(&path, existing, &data).await?);
        }
        let mut channels = HashMap::new();
        for (i, s) in doc.channels.iter().enumerate() {
            let path = format!("channels[{i}]");
            let data = parsed(
                &path,
                ChannelInput {
                    slug: s.slug.clone(),
                    name: s.name.clone(),
                    description: s.description.clone(),
                },
            )?;
            let existing = self.id("channels", &s.slug).await?;
            channels.insert(s.slug.clone(), self.upsert(&path, existing, &data).await?);
        }
        let mut people = HashMap::new();
        for (i, p) in doc.people.iter().enumerate() {
            let path = format!("people[{i}]");
            let data = parsed(
                &path,
                PersonInput {
                    slug: p.slug.clone(),
                    name: p.name.clone(),
                    email: p.email.clone(),
                    unit_id: p.unit.as_ref().map(|u| Self::known(&units, u)),
                    role_title: p.role_title.clone(),
                },
            )?;
            let existing = self.id("people", &p.slug).await?;
            people.insert(p.slug.clone(), self.upsert(&path, existing, &data).await?);
        }
        let mut relation_ids = BTreeSet::new();
        for (i, r) in doc.relations.iter().enumerate() {
            let path = format!("relations[{i}]");
            let provider = match &r.provider {
                DocRef::Person(s) => Provider::Person(Self::known(&people, s)),
                other => Provider::Unit(Self::known(&units, other.slug())),
            };
            let customer = match &r.customer {
                DocRef::Segment(s) => Customer::Segment(Self::known(&segments, s)),
                DocRef::Partner(s) => Customer::Partner(Self::known(&partners, s)),
                other => Customer::Unit(Self::known(&units, other.slug())),
            };
            let data = parsed(
                &path,
                RelationInput {
                    provider,
                    customer,
                    value_statement: r.value_statement.clone(),
                    review_interval_days: r.review_interval_days,
                    last_reviewed_on: r.last_reviewed_on.clone(),
                },
            )?;
            let existing = self.relation_id(&data).await?;
            relation_ids.insert(self.upsert(&path, existing, &data).await?);
        }
        let mut elements = HashMap::new();
        let owner = |o: &Option<DocRef>| {
            o.as_ref().map(|o| match o {
                DocRef::Partner(s) => Owner::Partner(Self::known(&partners, s)),
                other => Owner::Unit(Self::known(&units, other.slug())),
            })
        };
        for (i, e) in doc.elements.iter().enumerate() {
            let path = format!("elements[{i}]");
            let data = parsed(
                &path,
                ElementInput {
                    slug: e.slug.clone(),
                    name: e.name.clone(),
                    description: e.description.clone(),
                    kind: e.kind.clone(),
                    customer_visible: e.customer_visible,
                    has_it_components: e.has_it_components,
                    owner: owner(&e.owner),
                },
            )?;
            let existing = self.id("elements", &e.slug).await?;
            elements.insert(e.slug.clone(), self.upsert(&path, existing, &data).await?);
        }
        let mut packages = HashMap::new();
        for (i, p) in doc.packages.iter().enumerate() {
            let path = format!("packages[{i}]");
            let data = parsed(
                &path,
                PackageInput {
                    slug: p.slug.clone(),
                    name: p.name.clone(),
                    description: p.description.clone(),
                    published: p.published,
                    elements: p
                        .elements
                        .iter()
                        .map(|pe| PackageElementInput {
                            element_id: Self::known(&elements, &pe.element),
                            role: pe.role.clone(),
                        })
                        .collect(),
                },
            )?;
            let existing = self.id("packages", &p.slug).await?;
            packages.insert(p.slug.clone(), self.upsert(&path, existing, &data).await?);
        }
        let mut journeys = HashMap::new();
        let mut stage_ids = BTreeSet::new();
        let mut touchpoints = HashMap::new();
        for (i, j) in doc.journeys.iter().enumerate() {
            let path = format!("journeys[{i}]");
            let data = parsed(
                &path,
                JourneyInput {
                    slug: j.slug.clone(),
                    name: j.name.clone(),
                    description: j.description.clone(),
                    segment_id: Self::known(&segments, &j.segment),
                    package_ids: Some(
                        j.packages
                            .iter()
                            .map(|p| Self::known(&packages, p))
                            .collect(),
                    ),
                },
            )?;
            let existing = self.id("journeys", &j.slug).await?;
            let jid = self.upsert(&path, existing, &data).await?;
            journeys.insert(j.slug.clone(), jid);
            for (k, s) in j.stages.iter().enumerate() {
                let spath = format!("{path}.stages[{k}]");
                let data = parsed(
                    &spath,
                    StageInput {
                        slug: s.slug.clone(),
                        name: s.name.clone(),
                        description: s.description.clone(),
                        journey_id: jid,
                    },
                )?;
                let existing: Option<Id> = sqlx::query_scalar("SELECT id FROM stages WHERE workspace_id = $1 AND journey_id = $2 AND slug = $3")
                    .bind(self.ws)
                    .bind(jid)
                    .bind(&s.slug)
                    .fetch_optional(&mut *self.c)
                    .await?;
                let sid = self.upsert(&spath, existing, &data).await?;
                self.set_position("stages", sid, k as i64 + 1).await?;
                stage_ids.insert(sid);
                for (t, tp) in s.touchpoints.iter().enumerate() {
                    let tpath = format!("{spath}.touchpoints[{t}]");
                    let data = parsed(
                        &tpath,
                        TouchpointInput {
                            stage_id: sid,
                            slug: tp.slug.clone(),
                            name: tp.name.clone(),
                            description: tp.description.clone(),
                            channel: tp.channel.clone(),
                            owner: owner(&tp.owner),
                            element_id: tp.element.as_ref().map(|e| Self::known(&elements, e)),
                            lane: tp.lane.clone(),
                            interface: tp.interface.clone(),
                            emotion: tp.emotion,
                            moment_of_truth: tp.moment_of_truth,
                            presence: tp.presence.clone(),
                        },
                    )?;
                    let existing = self.id("touchpoints", &tp.slug).await?;
                    let tid = self.upsert(&tpath, existing, &data).await?;
                    self.set_position("touchpoints", tid, t as i64 + 1).await?;
                    touchpoints.insert(tp.slug.clone(), tid);
                }
            }
        }
        let mut steps = HashMap::new();
        for (i, s) in doc.process_steps.iter().enumerate() {
            let path = format!("process_steps[{i}]");
            let data = parsed(
                &path,
                ProcessStepInput {
                    slug: s.slug.clone(),
                    name: s.name.clone(),
                    description: s.description.clone(),
                    owner_unit_id: s.owner.as_ref().map(|u| Self::known(&units, u)),
                    duration_minutes: s.duration_minutes,
                    touchpoint_ids: Some(
                        s.serves
                            .iter()
                            .map(|t| Self::known(&touchpoints, t))
                            .collect(),
                    ),
                },
            )?;
            let existing = self.id("process_steps", &s.slug).await?;
            steps.insert(s.slug.clone(), self.upsert(&path, existing, &data).await?);
        }

        let mut surveys = HashMap::new();
        for (i, s) in doc.surveys.iter().enumerate() {
            let path = format!("surveys[{i}]");
            let data = parsed(
                &path,
                s.input(
                    s.touchpoint.as_ref().map(|t| Self::known(&touchpoints, t)),
                    s.journey.as_ref().map(|t| Self::known(&journeys, t)),
                    s.package.as_ref().map(|t| Self::known(&packages, t)),
                ),
            )?;
            let existing = self.id("surveys", &s.slug).await?;
            surveys.insert(s.slug.clone(), self.upsert(&path, existing, &data).await?);
        }

        if prune {
            // Dependents first, so nothing still referenced is deleted before its users.
            let keep = |m: &HashMap<String, Id>| m.values().copied().collect::<BTreeSet<Id>>();
            // A survey with responses is refused (409): answers are never pruned away.
            self.prune("surveys", &keep(&surveys)).await?;
            self.prune("process_steps", &keep(&steps)).await?;
            self.prune("touchpoints", &keep(&touchpoints)).await?;
            self.prune("stages", &stage_ids).await?;
            self.prune("journeys", &keep(&journeys)).await?;
            self.prune("packages", &keep(&packages)).await?;
            self.prune("relations", &relation_ids).await?;
            self.prune("elements", &keep(&elements)).await?;
            self.prune("people", &keep(&people)).await?;
            self.prune("channels", &keep(&channels)).await?;
            self.prune("segments", &keep(&segments)).await?;
            self.prune("partners", &keep(&partners)).await?;
            let unit_keep = keep(&units);
            // Detach doomed units from their parents first: the tree references itself.
            for id in self.ids("units").await? {
                if !unit_keep.contains(&id) {
                    sqlx::query(
                        "UPDATE units SET parent_id = NULL WHERE workspace_id = $1 AND id = $2",
                    )
                    .bind(self.ws)
                    .bind(id)
                    .execute(&mut *self.c)
                    .await?;
                }
            }
            self.prune("units", &unit_keep).await?;
        }
        Ok(())
    }

    async fn relation_id(&mut self, d: &RelationData) -> Result<Option<Id>> {
        let (pu, pp) = match d.provider {
            Provider::Unit(i) => (i, 0),
            Provider::Person(i) => (0, i),
        };
        let (cs, cu, cp) = match d.customer {
            Customer::Segment(i) => (i, 0, 0),
            Customer::Unit(i) => (0, i, 0),
            Customer::Partner(i) => (0, 0, i),
        };
        Ok(sqlx::query_scalar(
            "SELECT id FROM relations WHERE workspace_id = $1 AND COALESCE(provider_unit_id, 0) = $2 AND COALESCE(provider_person_id, 0) = $3 \
             AND COALESCE(customer_segment_id, 0) = $4 AND COALESCE(customer_unit_id, 0) = $5 AND COALESCE(customer_partner_id, 0) = $6",
        )
        .bind(self.ws)
        .bind(pu)
        .bind(pp)
        .bind(cs)
        .bind(cu)
        .bind(cp)
        .fetch_optional(&mut *self.c)
        .await?)
    }

    async fn set_position(&mut self, table: &str, id: Id, pos: i64) -> Result<()> {
        let sql = format!("UPDATE {table} SET position = $1 WHERE workspace_id = $2 AND id = $3 AND position <> $1");
        sqlx::query(&sql)
            .bind(pos)
            .bind(self.ws)
            .bind(id)
            .execute(&mut *self.c)
            .await?;
        Ok(())
    }

    async fn ids(&mut self, table: &str) -> Result<Vec<Id>> {
        let sql = format!("SELECT id FROM {table} WHERE workspace_id = $1");
        let rows = sqlx::query(&sql)
            .bind(self.ws)
            .fetch_all(&mut *self.c)
            .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    async fn prune(&mut self, table: &str, keep: &BTreeSet<Id>) -> Result<()> {
        let del = format!("DELETE FROM {table} WHERE workspace_id = $1 AND id = $2");
        for id in self.ids(table).await? {
            if !keep.contains(&id) {
                sqlx::query(&del)
                    .bind(self.ws)
                    .bind(id)
                    .execute(&mut *self.c)
                    .await
                    .map_err(|e| StoreError::from_db(e, table))?;
                self.report.deleted += 1;
            }
        }
        Ok(())
    }
}

fn pairs<E>(v: Vec<Record<E>>) -> Vec<(Id, E)> {
    v.into_iter().map(|r| (r.id, r.data)).collect()
}

impl Store {
    /// One workspace's whole model, as the insight rules read it.
    pub async fn snapshot(&self, ws: Id) -> Result<kohtaamo_domain::insight::Snapshot> {
        let mut c = self.pool().acquire().await?;
        let c = &mut *c;
        let touchpoints = all::<TouchpointData>(c, ws, vec![]).await?;
        let stages = all::<StageData>(c, ws, vec![]).await?;
        Ok(kohtaamo_domain::insight::Snapshot {
            units: pairs(all::<UnitData>(c, ws, vec![]).await?),
            people: pairs(all::<PersonData>(c, ws, vec![]).await?),
            partners: pairs(all::<PartnerData>(c, ws, vec![]).await?),
            segments: pairs(all::<SegmentData>(c, ws, vec![]).await?),
            relations: pairs(all::<RelationData>(c, ws, vec![]).await?),
            elements: pairs(all::<ElementData>(c, ws, vec![]).await?),
            packages: pairs(all::<PackageData>(c, ws, vec![]).await?),
            journeys: pairs(all::<JourneyData>(c, ws, vec![]).await?),
            // Stages come ordered by journey and position; touchpoints by stage position.
            stages: stages
                .into_iter()
                .map(|s| {
                    let tps = touchpoints
                        .iter()
                        .filter(|t| t.data.stage_id == s.id)
                        .map(|t| (t.id, t.data.clone()))
                        .collect();
                    (s.id, s.data, tps)
                })
                .collect(),
            steps: pairs(all::<ProcessStepData>(c, ws, vec![]).await?),
        })
    }
}
