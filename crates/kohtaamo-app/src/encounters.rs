//! The encounter log as use cases: record encounters (one, a batch, an import; from
//! other systems, from staff as frontline captures), list them, the customer timeline
//! (encounters and the customer's feedback, gathered across linked customers), linking
//! and unlinking customers, capture themes and the workspace's own kinds.
//!
//! **Identifiers** are `kind:value`. Personal kinds (`email`, `phone`) are stored only
//! as a keyed pseudonym: HMAC-SHA256 with the installation secret `customer-pseudonym`
//! over the normalised value, so records link without the value being kept.
//!
//! **Linking** never happens by itself: a person links two customers after a preview
//! of what joins, with a reason. Two customers who share only an e-mail pseudonym
//! (a family address, a shared inbox) are not thereby the same person; the preview
//! says so.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use kohtaamo_domain::encounters::{
    CaptureInput, EncounterDraft, EncounterInput, Identifier, Place, Source, BUILTIN_KINDS,
    MAX_BATCH,
};
use kohtaamo_domain::insight::Snapshot;
use kohtaamo_domain::model::{Owner, Role};
use kohtaamo_domain::text::{Slug, Texts};
use kohtaamo_domain::{FieldErrors, Id, Reason};
use kohtaamo_storage::encounters::{
    CaptureTheme, CustomerLink, Encounter, EncounterFilter, NewCapture, NewEncounter, Recorded,
};
use kohtaamo_storage::feedback::Response;
use kohtaamo_storage::Store;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{Error, Result};

/// The installation secret that keys identifier pseudonyms.
const PSEUDONYM_SECRET: &str = "customer-pseudonym";

/// Turns identifiers into what is stored (pseudonyms for personal kinds).
pub struct Pseudonymiser {
    key: String,
}

impl Pseudonymiser {
    pub async fn load(store: &Store) -> Result<Self> {
        Ok(Self {
            key: store.instance_secret(PSEUDONYM_SECRET).await?,
        })
    }
    pub fn stored(&self, id: &Identifier) -> String {
        id.stored(|v| {
            crate::keyed::hmac_hex(
                self.key.as_bytes(),
                &[id.kind().as_bytes(), b":", v.as_bytes()],
            )
        })
    }
}

/// Who recorded something, as kept with it.
#[derive(Debug, Clone)]
pub struct Recorder(pub String);

impl Recorder {
    pub fn user(name: &str) -> Self {
        Self(format!("user:{name}"))
    }
    pub fn token(name: &str) -> Self {
        Self(format!("token:{name}"))
    }
}

/// Where a touchpoint sits and who owns it, for resolving encounters.
struct Places<'a> {
    by_id: HashMap<Id, (&'a kohtaamo_domain::model::TouchpointData, Id, Id)>,
    by_slug: HashMap<&'a str, Id>,
    units: HashMap<Id, &'a Texts>,
    partners: HashMap<Id, &'a Texts>,
}

impl<'a> Places<'a> {
    fn new(s: &'a Snapshot) -> Self {
        let mut by_id = HashMap::new();
        let mut by_slug = HashMap::new();
        for (stage_id, stage, tps) in &s.stages {
            for (id, t) in tps {
                by_id.insert(*id, (t, *stage_id, stage.journey_id));
                by_slug.insert(t.slug.as_str(), *id);
            }
        }
        Self {
            by_id,
            by_slug,
            units: s.units.iter().map(|(id, u)| (*id, &u.name)).collect(),
            partners: s.partners.iter().map(|(id, p)| (*id, &p.name)).collect(),
        }
    }
    fn owner_name(&self, o: Owner) -> Option<&'a Texts> {
        match o {
            Owner::Unit(u) => self.units.get(&u).copied(),
            Owner::Partner(p) => self.partners.get(&p).copied(),
        }
    }
}

/// The kinds an encounter may have in this workspace: the built-in ones and its own.
pub async fn kinds(store: &Store, ws: Id) -> Result<Vec<(String, Option<Texts>)>> {
    let mut out: Vec<(String, Option<Texts>)> = BUILTIN_KINDS
        .iter()
        .map(|k| (k.to_string(), None))
        .collect();
    out.extend(
        store
            .encounter_kinds(ws)
            .await?
            .into_iter()
            .map(|(s, n)| (s, Some(n))),
    );
    Ok(out)
}

/// Resolves one validated encounter against the model; `Err` holds field reasons.
fn resolve(
    d: EncounterDraft,
    places: &Places,
    own_kinds: &HashSet<String>,
    pseudo: &Pseudonymiser,
) -> std::result::Result<NewEncounter, FieldErrors> {
    let mut e = FieldErrors::new();
    let tp = match &d.place {
        Place::TouchpointId(id) => match places.by_id.get(id) {
            Some(t) => Some((*id, t)),
            None => {
                e.add(
                    "touchpoint_id",
                    Reason::new("unknown-ref")
                        .with("noun", "touchpoint")
                        .with("id", id),
                );
                None
            }
        },
        Place::TouchpointSlug(s) => match places.by_slug.get(s.as_str()) {
            Some(id) => places.by_id.get(id).map(|t| (*id, t)),
            None => {
                e.add(
                    "touchpoint",
                    Reason::new("unknown-ref-slug")
                        .with("noun", "touchpoint")
                        .with("slug", s),
                );
                None
            }
        },
        Place::Channel => None,
    };
    if let Some(o) = d.owner {
        if places.owner_name(o).is_none() {
            let (noun, id) = match o {
                Owner::Unit(u) => ("unit", u),
                Owner::Partner(p) => ("partner", p),
            };
            e.add(
                "owner",
                Reason::new("unknown-ref").with("noun", noun).with("id", id),
            );
        }
    }
    let kind = d.kind.as_str();
    if !BUILTIN_KINDS.contains(&kind) && !own_kinds.contains(kind) {
        e.add("kind", Reason::new("unknown-kind").with("value", kind));
    }
    if !e.is_empty() {
        return Err(e);
    }
    let owner = d.owner.or(tp.and_then(|(_, (t, _, _))| t.owner));
    let channel = d
        .channel
        .as_ref()
        .map(|c| c.as_str().to_owned())
        .or(tp.map(|(_, (t, _, _))| t.channel.as_str().to_owned()))
        .unwrap_or_else(|| "unknown".into());
    Ok(NewEncounter {
        client_id: d.client_id.as_str().to_owned(),
        occurred_at: d.at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        touchpoint_id: tp.map(|(id, _)| id),
        touchpoint_name: tp.map(|(_, (t, _, _))| t.name.clone()),
        stage_id: tp.map(|(_, (_, s, _))| *s),
        journey_id: tp.map(|(_, (_, _, j))| *j),
        channel,
        owner,
        owner_name: owner.and_then(|o| places.owner_name(o).cloned()),
        customer: d.customer.as_ref().map(|c| pseudo.stored(c)),
        case_ref: d.case_ref,
        kind: d.kind.as_str().to_owned(),
        text: d.text,
        attributes: d.attributes,
        source: "api",
        recorded_by: String::new(),
        capture: None,
    })
}

/// Records encounters from one request: all of them, or — if any is bad — none, with
/// every bad field of every row (`[3].touchpoint` for the fourth of a batch; plain
/// field names for a single one). Idempotent by each encounter's `id`.
pub async fn record(
    store: &Store,
    ws: Id,
    inputs: &[EncounterInput],
    single: bool,
    (source, by): (Source, &Recorder),
    now: DateTime<Utc>,
) -> Result<Vec<Recorded>> {
    if inputs.is_empty() {
        return Err(Error::invalid("items", Reason::new("empty")));
    }
    if inputs.len() > MAX_BATCH {
        return Err(Error::invalid(
            "items",
            Reason::new("too-many").with("max", MAX_BATCH),
        ));
    }
    record_unbounded(store, ws, inputs, single, (source, by), now).await
}

/// [`record`] without the per-request limit: for imports, whose rows were checked in
/// a first pass and which store them in larger transactions.
pub(crate) async fn record_unbounded(
    store: &Store,
    ws: Id,
    inputs: &[EncounterInput],
    single: bool,
    (source, by): (Source, &Recorder),
    now: DateTime<Utc>,
) -> Result<Vec<Recorded>> {
    let (mut rows, bad) = prepare(store, ws, inputs, now).await?;
    if !bad.is_empty() {
        let mut errors = FieldErrors::new();
        for (k, e) in bad {
            for (f, reason) in e.0 {
                errors.add(if single { f } else { format!("[{k}].{f}") }, reason);
            }
        }
        return Err(Error::Invalid(errors));
    }
    for r in &mut rows {
        r.source = source.as_str();
        r.recorded_by = by.0.clone();
    }
    Ok(store.record_encounters(ws, &rows).await?)
}

/// The bad rows of a batch (position, reasons), storing nothing.
pub async fn check(
    store: &Store,
    ws: Id,
    inputs: &[EncounterInput],
    now: DateTime<Utc>,
) -> Result<Vec<(usize, FieldErrors)>> {
    Ok(prepare(store, ws, inputs, now).await?.1)
}

/// Validates and resolves a batch against the model: the rows ready to store, and
/// the bad ones with every reason (a row's references too, where they can be read).
async fn prepare(
    store: &Store,
    ws: Id,
    inputs: &[EncounterInput],
    now: DateTime<Utc>,
) -> Result<(Vec<NewEncounter>, Vec<(usize, FieldErrors)>)> {
    let snapshot = store.snapshot_cached(ws).await?;
    let places = Places::new(&snapshot);
    // The workspace's own kinds are read only when a row names a kind not built in.
    let own: HashSet<String> = if inputs
        .iter()
        .all(|i| BUILTIN_KINDS.contains(&i.kind.trim()))
    {
        HashSet::new()
    } else {
        store
            .encounter_kinds(ws)
            .await?
            .into_iter()
            .map(|(s, _)| s)
            .collect()
    };
    let pseudo = Pseudonymiser::load(store).await?;
    let mut bad = vec![];
    let mut rows = Vec::with_capacity(inputs.len());
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (k, input) in inputs.iter().enumerate() {
        if let Some(first) = seen.insert(input.id.as_str(), k) {
            let mut e = FieldErrors::new();
            e.add("id", Reason::new("same-id-as").with("item", first));
            bad.push((k, e));
            continue;
        }
        match input
            .parse(now)
            .and_then(|d| resolve(d, &places, &own, &pseudo))
        {
            Ok(r) => rows.push(r),
            Err(mut e) => {
                for (f, reason) in reference_errors(input, &places, &own).0 {
                    e.add(f, reason);
                }
                bad.push((k, e));
            }
        }
    }
    Ok((rows, bad))
}

/// The references of an encounter whose shape failed validation that name nothing in
/// the model (a touchpoint, a kind), so one answer lists every problem.
fn reference_errors(
    input: &EncounterInput,
    places: &Places,
    own_kinds: &HashSet<String>,
) -> FieldErrors {
    let mut e = FieldErrors::new();
    if let Some(s) = input.touchpoint.as_deref().map(str::trim) {
        if Slug::parse(s).is_ok() && !places.by_slug.contains_key(s) {
            e.add(
                "touchpoint",
                Reason::new("unknown-ref-slug")
                    .with("noun", "touchpoint")
                    .with("slug", s),
            );
        }
    }
    if let Some(id) = input.touchpoint_id.filter(|id| *id > 0) {
        if !places.by_id.contains_key(&id) {
            e.add(
                "touchpoint_id",
                Reason::new("unknown-ref")
                    .with("noun", "touchpoint")
                    .with("id", id),
            );
        }
    }
    let kind = input.kind.trim();
    if Slug::parse(kind).is_ok() && !BUILTIN_KINDS.contains(&kind) && !own_kinds.contains(kind) {
        e.add("kind", Reason::new("unknown-kind").with("value", kind));
    }
    e
}

/// Tells the workspace's webhooks that opted in to `encounters` what was just
/// recorded: one signed event per batch, `{"event": "encounters.recorded",
/// "workspace": slug, "source": …, "ids": [the new encounters' ids]}` (read them from
/// `GET …/encounters/{id}`; no customer data travels in the event). Sent in the
/// background, so a slow webhook never slows recording; nothing is sent for a batch
/// of retries. The handle lets a caller that must not exit first (an import) wait
/// for the delivery.
pub fn announce(
    ctx: &crate::jobs::JobCtx,
    ws: Id,
    slug: &str,
    source: Source,
    out: &[Recorded],
) -> Option<tokio::task::JoinHandle<()>> {
    let ids: Vec<Id> = out.iter().filter(|r| r.created).map(|r| r.id).collect();
    if ids.is_empty() {
        return None;
    }
    let body = serde_json::json!({
        "event": "encounters.recorded",
        "workspace": slug,
        "source": source.as_str(),
        "ids": ids,
    })
    .to_string();
    let ctx = ctx.clone();
    Some(tokio::spawn(async move {
        if let Err(e) = crate::jobs::webhooks::deliver_opt_in(&ctx, ws, "encounters", body).await {
            tracing::warn!(error = %e, "encounter event not delivered");
        }
    }))
}

/// Records a frontline capture. A theme not on the workspace's list is proposed (by
/// this recorder) for an editor to accept or merge; the capture keeps it either way.
pub async fn capture(
    store: &Store,
    ws: Id,
    input: &CaptureInput,
    by: &Recorder,
    now: DateTime<Utc>,
) -> Result<Recorded> {
    let draft = input.parse(now)?;
    let snapshot = store.snapshot_cached(ws).await?;
    let places = Places::new(&snapshot);
    let pseudo = Pseudonymiser::load(store).await?;
    let mut row = resolve(draft.encounter.clone(), &places, &HashSet::new(), &pseudo)?;
    let theme_id = match &draft.theme {
        None => None,
        Some(slug) => Some(theme_for(store, ws, slug, by).await?),
    };
    row.source = Source::Staff.as_str();
    row.recorded_by = by.0.clone();
    let follow_up = crate::followups::for_capture(
        store,
        ws,
        row.touchpoint_id,
        row.text.as_deref().unwrap_or_default(),
        draft.needs_follow_up,
        draft.encounter.customer.as_ref().map(|c| pseudo.stored(c)),
        row.case_ref.clone(),
    )
    .await?;
    row.capture = Some(NewCapture {
        follow_up,
        words: draft.words.as_str(),
        theme_id,
        feeling: draft.feeling,
        needs_follow_up: draft.needs_follow_up,
        promise: draft.promise,
        promise_due: draft.promise_due.map(|d| d.to_string()),
    });
    let mut out = store.record_encounters(ws, &[row]).await?;
    out.pop()
        .ok_or_else(|| Error::Internal("no outcome for a capture".into()))
}

/// The id of the theme with this slug, proposing it if the list does not have it.
async fn theme_for(store: &Store, ws: Id, slug: &Slug, by: &Recorder) -> Result<Id> {
    if let Some(t) = store
        .capture_themes(ws)
        .await?
        .into_iter()
        .find(|t| t.slug == slug.as_str())
    {
        return Ok(t.id);
    }
    let name = Texts::single("fi", &slug.as_str().replace('-', " "));
    match store
        .create_capture_theme(ws, slug.as_str(), &name, Some(&by.0))
        .await
    {
        Ok(id) => Ok(id),
        // Proposed by someone else a moment ago.
        Err(kohtaamo_storage::StoreError::Conflict(_)) => store
            .capture_themes(ws)
            .await?
            .into_iter()
            .find(|t| t.slug == slug.as_str())
            .map(|t| t.id)
            .ok_or(Error::NotFound),
        Err(e) => Err(e.into()),
    }
}

/// Capture themes; editors may add accepted ones, accept proposals and merge.
pub async fn themes(store: &Store, ws: Id) -> Result<Vec<CaptureTheme>> {
    Ok(store.capture_themes(ws).await?)
}

pub async fn add_theme(
    store: &Store,
    ws: Id,
    role: Role,
    slug: &str,
    name: &BTreeMap<String, String>,
    by: &Recorder,
) -> Result<Id> {
    let mut e = FieldErrors::new();
    let slug = e.take("slug", Slug::parse(slug));
    let name = e.take("name", Texts::name(name));
    let (Some(slug), Some(name)) = (slug, name) else {
        return Err(Error::Invalid(e));
    };
    let proposer = (!role.can_edit()).then_some(by.0.as_str());
    Ok(store
        .create_capture_theme(ws, slug.as_str(), &name, proposer)
        .await?)
}

/// Puts a proposed theme on the list; `name`, when it names any language, renames it
/// (a theme proposed on the capture form has a name in its proposer's language only).
/// Adds a theme named in one or more languages (an editor), or proposes it (anyone
/// else); its slug is made from the name in `lang`, else from any name it has.
pub async fn add_theme_named(
    store: &Store,
    ws: Id,
    role: Role,
    name: &BTreeMap<String, String>,
    lang: &str,
    by: &Recorder,
) -> Result<Id> {
    let Some(from) = name.get(lang).or(name.values().next()) else {
        return Err(Error::invalid("name", Reason::new("name-needs-language")));
    };
    add_theme(store, ws, role, &slugify(from), name, by).await
}

pub async fn accept_theme(
    store: &Store,
    ws: Id,
    role: Role,
    id: Id,
    name: Option<&BTreeMap<String, String>>,
) -> Result<()> {
    editor(role)?;
    let name = match name.filter(|n| !n.is_empty()) {
        Some(n) => Some(Texts::name(n).map_err(|r| Error::invalid("name", r))?),
        None => None,
    };
    Ok(store.accept_capture_theme(ws, id, name.as_ref()).await?)
}

/// Merges theme `from` into `into`; returns how many captures moved.
pub async fn merge_theme(store: &Store, ws: Id, role: Role, from: Id, into: Id) -> Result<i64> {
    editor(role)?;
    Ok(store.merge_capture_theme(ws, from, into).await?)
}

fn editor(role: Role) -> Result<()> {
    if role.can_edit() {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "only an editor may change the theme list".into(),
        ))
    }
}

/// Lists encounters; the customer filter is an identifier (its linked customers
/// included).
pub async fn list(
    store: &Store,
    ws: Id,
    customer: Option<&str>,
    mut f: EncounterFilter,
) -> Result<Vec<Encounter>> {
    if let Some(c) = customer {
        let id = Identifier::parse(c).map_err(|r| Error::invalid("customer", r))?;
        let pseudo = Pseudonymiser::load(store).await?;
        f.customers = Some(
            match store.customer_by_ident(ws, &pseudo.stored(&id)).await? {
                Some(c) => store.customer_group(ws, c).await?,
                None => vec![],
            },
        );
    }
    Ok(store.encounters(ws, &f).await?)
}

/// One identifier of a customer as shown: personal ones only by kind.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShownIdentifier {
    pub customer_id: Id,
    pub kind: String,
    /// The value; null for a pseudonymised (personal) kind.
    pub value: Option<String>,
}

/// One entry of a customer timeline.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TimelineItem {
    Encounter(Box<Encounter>),
    Response(Box<Response>),
    /// A follow-up opened about the customer, at the time it opened (with its
    /// current status).
    FollowUp(Box<kohtaamo_storage::followups::FollowUp>),
    /// A step taken on one of the customer's follow-ups.
    FollowUpStep(Box<FollowUpStep>),
}

/// A step taken on a follow-up, as a timeline shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FollowUpStep {
    pub follow_up_id: Id,
    pub unit_id: Option<Id>,
    pub touchpoint_id: Option<Id>,
    #[serde(flatten)]
    pub step: kohtaamo_storage::followups::FollowUpEvent,
}

impl TimelineItem {
    pub fn at(&self) -> &str {
        match self {
            TimelineItem::Encounter(e) => &e.at,
            TimelineItem::Response(r) => &r.created_at,
            TimelineItem::FollowUp(f) => &f.created_at,
            TimelineItem::FollowUpStep(s) => &s.step.at,
        }
    }
}

/// Everything known about one customer (and the customers linked to them), in time
/// order, oldest first; at most the latest `limit` of each source.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Timeline {
    /// The customer the identifier names.
    pub customer_id: Id,
    /// It and every customer linked to it.
    pub customers: Vec<Id>,
    pub identifiers: Vec<ShownIdentifier>,
    pub links: Vec<CustomerLink>,
    pub items: Vec<TimelineItem>,
}

fn shown(ident: &str, kind: &str, customer: Id) -> ShownIdentifier {
    let value = ident.split_once(':').map(|(_, v)| v).unwrap_or(ident);
    ShownIdentifier {
        customer_id: customer,
        kind: kind.to_owned(),
        value: (!value.starts_with('#')).then(|| value.to_owned()),
    }
}

/// The customer an identifier names.
pub async fn customer_of(store: &Store, ws: Id, identifier: &str) -> Result<Id> {
    Ok(customer_and_stored(store, ws, identifier).await?.0)
}

/// The customer an identifier names and the identifier as stored (its pseudonym where
/// it is personal data).
async fn customer_and_stored(store: &Store, ws: Id, identifier: &str) -> Result<(Id, String)> {
    let id = Identifier::parse(identifier).map_err(|r| Error::invalid("identifier", r))?;
    let stored = Pseudonymiser::load(store).await?.stored(&id);
    let customer = store
        .customer_by_ident(ws, &stored)
        .await?
        .ok_or(Error::NotFound)?;
    Ok((customer, stored))
}

/// The timeline of the customer an identifier names, read by `reader`: every read of
/// a person's record is in the audit trail (`record.read`, under a keyed hash).
pub async fn timeline(
    store: &Store,
    ws: Id,
    identifier: &str,
    limit: i64,
    reader: &kohtaamo_storage::privacy::Actor,
) -> Result<Timeline> {
    let (customer, stored) = customer_and_stored(store, ws, identifier).await?;
    let t = timeline_of(store, ws, customer, limit).await?;
    crate::privacy::audit_read(store, ws, reader, &format!("ref {stored}"), "timeline").await?;
    Ok(t)
}

pub async fn timeline_of(store: &Store, ws: Id, customer: Id, limit: i64) -> Result<Timeline> {
    let customers = store.customer_group(ws, customer).await?;
    let idents = store.customer_identifiers(ws, &customers).await?;
    let mut refs: Vec<String> = vec![];
    for (_, ident, _) in &idents {
        if let Ok(i) = Identifier::parse(ident) {
            refs.extend(i.feedback_refs());
        }
    }
    let encounters = store
        .encounters(
            ws,
            &EncounterFilter {
                customers: Some(customers.clone()),
                limit,
                ..Default::default()
            },
        )
        .await?;
    let responses = store.responses_of(ws, &refs, None, limit).await?;
    // Follow-ups carry the identifier as the response or capture gave it.
    let mut keys = refs.clone();
    keys.extend(idents.iter().map(|(_, ident, _)| ident.clone()));
    keys.sort_unstable();
    keys.dedup();
    let follow_ups = follow_ups_of(store, ws, keys, limit).await?;
    let mut items = in_order(encounters, responses);
    items.extend(follow_ups);
    items.sort_by(|a, b| a.at().cmp(b.at()));
    Ok(Timeline {
        customer_id: customer,
        identifiers: idents.iter().map(|(c, i, k)| shown(i, k, *c)).collect(),
        links: store.customer_links(ws, &customers).await?,
        customers,
        items,
    })
}

/// The follow-ups of customers known by `keys`, and every step taken on them, as
/// timeline items (at most the latest `limit` follow-ups).
async fn follow_ups_of(
    store: &Store,
    ws: Id,
    keys: Vec<String>,
    limit: i64,
) -> Result<Vec<TimelineItem>> {
    let found = store
        .follow_ups(
            ws,
            &kohtaamo_storage::followups::FollowUpFilter {
                customers: Some(keys),
                limit,
                ..Default::default()
            },
        )
        .await?;
    let ids: Vec<Id> = found.iter().map(|f| f.id).collect();
    let steps = store.follow_up_events_of(ws, &ids).await?;
    let place: HashMap<Id, (Option<Id>, Option<Id>)> = found
        .iter()
        .map(|f| (f.id, (f.unit_id, f.touchpoint_id)))
        .collect();
    let mut items: Vec<TimelineItem> = steps
        .into_iter()
        .map(|(id, step)| {
            let (unit_id, touchpoint_id) = place.get(&id).copied().unwrap_or_default();
            TimelineItem::FollowUpStep(Box::new(FollowUpStep {
                follow_up_id: id,
                unit_id,
                touchpoint_id,
                step,
            }))
        })
        .collect();
    items.extend(
        found
            .into_iter()
            .map(|f| TimelineItem::FollowUp(Box::new(f))),
    );
    Ok(items)
}

/// Encounters and responses as one list, oldest first.
fn in_order(encounters: Vec<Encounter>, responses: Vec<Response>) -> Vec<TimelineItem> {
    let mut items: Vec<TimelineItem> = encounters
        .into_iter()
        .map(|e| TimelineItem::Encounter(Box::new(e)))
        .chain(
            responses
                .into_iter()
                .map(|r| TimelineItem::Response(Box::new(r))),
        )
        .collect();
    items.sort_by(|a, b| a.at().cmp(b.at()));
    items
}

/// Everything recorded under a case reference (encounters and responses), oldest
/// first; at most the latest `limit` of each.
pub async fn case_timeline(
    store: &Store,
    ws: Id,
    case_ref: &str,
    limit: i64,
    reader: &kohtaamo_storage::privacy::Actor,
) -> Result<Vec<TimelineItem>> {
    let encounters = store
        .encounters(
            ws,
            &EncounterFilter {
                case_ref: Some(case_ref.to_owned()),
                limit,
                ..Default::default()
            },
        )
        .await?;
    let responses = store.responses_of(ws, &[], Some(case_ref), limit).await?;
    if !encounters.is_empty() || !responses.is_empty() {
        crate::privacy::audit_read(store, ws, reader, &format!("case {case_ref}"), "timeline")
            .await?;
    }
    Ok(in_order(encounters, responses))
}

/// What linking two customers would join: each side's identifiers and how many
/// encounters it has, and whether they share nothing but an e-mail address.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LinkPreview {
    pub a: Timeline,
    pub b: Timeline,
    /// Already one person (linked directly or through others).
    pub already_linked: bool,
    /// The only identifier kind the two sides have in common is `email`: a shared
    /// address is no proof of one person.
    pub only_shared_email: bool,
}

pub async fn link_preview(
    store: &Store,
    ws: Id,
    (a, b): (&str, &str),
    reader: &kohtaamo_storage::privacy::Actor,
) -> Result<LinkPreview> {
    let ta = timeline(store, ws, a, 20, reader).await?;
    let tb = timeline(store, ws, b, 20, reader).await?;
    let kinds = |t: &Timeline| -> HashSet<String> {
        t.identifiers.iter().map(|i| i.kind.clone()).collect()
    };
    let shared: HashSet<String> = kinds(&ta).intersection(&kinds(&tb)).cloned().collect();
    Ok(LinkPreview {
        already_linked: ta.customers.contains(&tb.customer_id),
        only_shared_email: shared.len() == 1 && shared.contains("email"),
        a: ta,
        b: tb,
    })
}

/// Links the customers two identifiers name; a reason is required. Returns the link
/// and whether it is new.
pub async fn link(
    store: &Store,
    ws: Id,
    (a, b): (&str, &str),
    reason: &str,
    by: &Recorder,
) -> Result<(CustomerLink, bool)> {
    let mut e = FieldErrors::new();
    let reason = reason.trim();
    if reason.is_empty() {
        e.add("reason", Reason::new("empty"));
    } else if reason.chars().count() > 500 {
        e.add("reason", Reason::new("too-long").with("max", 500));
    }
    let ca = side(store, ws, a, "a", &mut e).await?;
    let cb = side(store, ws, b, "b", &mut e).await?;
    if let (Some(x), Some(y)) = (ca, cb) {
        if x == y {
            e.add("b", Reason::from("names the same customer as a"));
        }
    }
    let (Some(ca), Some(cb)) = (ca, cb) else {
        return Err(Error::Invalid(e));
    };
    if !e.is_empty() {
        return Err(Error::Invalid(e));
    }
    let (id, created) = store.link_customers(ws, ca, cb, reason, &by.0).await?;
    let link = store
        .customer_links(ws, &[ca])
        .await?
        .into_iter()
        .find(|l| l.id == id)
        .ok_or(Error::NotFound)?;
    Ok((link, created))
}

/// The customer one side of a link names, or its reason under `field`.
async fn side(
    store: &Store,
    ws: Id,
    identifier: &str,
    field: &str,
    e: &mut FieldErrors,
) -> Result<Option<Id>> {
    match customer_of(store, ws, identifier).await {
        Ok(c) => Ok(Some(c)),
        Err(Error::NotFound) => {
            e.add(field, Reason::from("no customer with this identifier"));
            Ok(None)
        }
        Err(Error::Invalid(f)) => {
            for (_, r) in f.0 {
                e.add(field, r);
            }
            Ok(None)
        }
        Err(x) => Err(x),
    }
}

pub async fn unlink(store: &Store, ws: Id, link: Id, by: &Recorder) -> Result<CustomerLink> {
    Ok(store.unlink_customers(ws, link, &by.0).await?)
}

/// Adds a kind of encounter of the workspace's own (not one of the built-in ones).
pub async fn add_kind(
    store: &Store,
    ws: Id,
    slug: &str,
    name: &BTreeMap<String, String>,
) -> Result<()> {
    let mut e = FieldErrors::new();
    let slug = e.take("slug", Slug::parse(slug));
    let name = e.take("name", Texts::name(name));
    if let Some(s) = &slug {
        if BUILTIN_KINDS.contains(&s.as_str()) {
            e.add("slug", Reason::from("is already a built-in kind"));
        }
    }
    match (slug, name) {
        (Some(slug), Some(name)) if e.is_empty() => Ok(store
            .create_encounter_kind(ws, slug.as_str(), &name)
            .await?),
        _ => Err(Error::Invalid(e)),
    }
}

/// A theme typed by name on the capture form: the existing theme with the same slug,
/// or a new one (proposed, unless an editor typed it). Returns its slug.
pub async fn propose_theme_named(
    store: &Store,
    ws: Id,
    role: Role,
    name: &str,
    lang: &str,
    by: &Recorder,
) -> Result<String> {
    let slug = slugify(name);
    if slug.is_empty() {
        return Err(Error::invalid("new_theme", Reason::new("bad-slug")));
    }
    if store
        .capture_themes(ws)
        .await?
        .iter()
        .any(|t| t.slug == slug)
    {
        return Ok(slug);
    }
    let texts = BTreeMap::from([(lang.to_owned(), name.trim().to_owned())]);
    match add_theme(store, ws, role, &slug, &texts, by).await {
        Ok(_) | Err(Error::Conflict(_)) => Ok(slug),
        Err(e) => Err(e),
    }
}

/// A slug from a name in any language: lower case, Nordic letters without their marks,
/// anything else a hyphen.
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().to_lowercase().chars() {
        let c = match c {
            'ä' | 'å' | 'á' | 'à' => 'a',
            'ö' | 'ø' | 'ó' => 'o',
            'é' | 'è' => 'e',
            'ü' => 'u',
            c => c,
        };
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let mut s: String = out.trim_end_matches('-').chars().take(64).collect();
    while s.ends_with('-') {
        s.pop();
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn slugs_from_finnish_names() {
        assert_eq!(super::slugify(" Pitkä odotus!  "), "pitka-odotus");
        assert_eq!(super::slugify("Åland & Öö"), "aland-oo");
        assert_eq!(super::slugify("???"), "");
    }
}
