//! Cases and their status pages: what back-office systems and staff do to a case
//! (create it, move it through internal statuses), the journey's customer-facing
//! steps, and the capability links through which the customer follows it.
//!
//! Every status change is an encounter in the customer's timeline (kind `case-step`,
//! source `case`, the case's sender id as its case reference), stored in the change's
//! transaction. A status must belong to one of the journey's steps, so the customer
//! always sees a step.

use chrono::{DateTime, Utc};
use kohtaamo_domain::cases::{self as dc, CaseInput, Progress, StatusInput, Step, StepsInput};
use kohtaamo_domain::model::Role;
use kohtaamo_domain::{FieldErrors, Id, Reason};
use kohtaamo_storage::cases::{
    Case, CaseChange, CaseFilter, CaseLink, NewCase, NewChange, NewSubscription, Notice,
    Subscription,
};
use kohtaamo_storage::encounters::NewEncounter;
use kohtaamo_storage::{Store, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::encounters::{Pseudonymiser, Recorder};
use crate::{Error, Result};

/// How long a status-page link lives unless the caller says otherwise, in days.
pub const LINK_DAYS: i64 = 180;
/// The longest a link may live, in days.
pub const MAX_LINK_DAYS: i64 = 730;

fn editor(role: Role) -> Result<()> {
    if role.can_edit() {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "only editors may change a journey's steps".into(),
        ))
    }
}

/// Replaces a journey's customer-facing steps (editors). Every bad field is named
/// `steps[i].field`; nothing is stored then.
pub async fn set_steps(
    store: &Store,
    ws: Id,
    role: Role,
    journey: Id,
    input: &StepsInput,
) -> Result<Vec<Step>> {
    editor(role)?;
    let steps = input.parse().map_err(Error::Invalid)?;
    // Every case must still stand on a step: a status some case is in cannot go.
    let mut e = FieldErrors::new();
    for (status, n) in store.case_statuses_in_use(ws, journey).await? {
        if dc::step_of(&steps, &status).is_err() {
            e.add(
                format!("steps.{status}"),
                Reason::new("status-in-use")
                    .with("value", status)
                    .with("n", n),
            );
        }
    }
    if !e.is_empty() {
        return Err(Error::Invalid(e));
    }
    store.set_case_steps(ws, journey, &steps).await?;
    Ok(steps)
}

/// A journey's steps (NotFound for another workspace's journey).
pub async fn steps(store: &Store, ws: Id, journey: Id) -> Result<Vec<Step>> {
    let snapshot = store.snapshot_cached(ws).await?;
    if !snapshot.journeys.iter().any(|(id, _)| *id == journey) {
        return Err(StoreError::NotFound.into());
    }
    Ok(store.case_steps(ws, journey).await?)
}

fn time_text(t: DateTime<Utc>) -> String {
    kohtaamo_storage::time_text(t)
}

/// The encounter a status change is in the customer's timeline.
fn encounter(
    c: (&str, &str, Option<&str>),
    journey: Id,
    (unit, unit_name): (Option<Id>, Option<kohtaamo_domain::text::Texts>),
    (status, at, step): (&str, &str, &Step),
    by: &str,
) -> NewEncounter {
    let (client_id, reference, customer) = c;
    NewEncounter {
        client_id: format!("case:{client_id}:{status}:{at}"),
        occurred_at: at.to_owned(),
        touchpoint_id: None,
        touchpoint_name: None,
        stage_id: None,
        journey_id: Some(journey),
        channel: "unknown".into(),
        owner: unit.map(kohtaamo_domain::model::Owner::Unit),
        owner_name: unit_name,
        customer: customer.map(str::to_owned),
        case_ref: Some(client_id.to_owned()),
        kind: "case-step".into(),
        text: Some(status.to_owned()),
        attributes: [
            ("reference".to_string(), dc::shown_reference(reference)),
            ("step".to_string(), step.key.as_str().to_owned()),
        ]
        .into(),
        source: "case",
        recorded_by: by.to_owned(),
        capture: None,
    }
}

/// Creates a case (idempotent by the sender's id: a retry returns the stored case and
/// `false`). The journey must have steps and the status belong to one; the unit must
/// be the workspace's. The customer's identifier is stored as the encounter log
/// stores it (personal kinds as a pseudonym).
///
/// With `notify_email` and e-mail on (`mail`), the address is subscribed to the
/// case's step changes and gets a first message at once.
pub async fn create(
    store: &Store,
    ws: Id,
    by: &Recorder,
    input: &CaseInput,
    (now, mail): (DateTime<Utc>, Option<&crate::jobs::JobCtx>),
) -> Result<(Case, bool)> {
    let d = input.parse(now).map_err(Error::Invalid)?;
    let snapshot = store.snapshot_cached(ws).await?;
    let mut e = FieldErrors::new();
    if d.notify_email.is_some() && mail.is_none() {
        e.add("notify_email", Reason::new("mail-off"));
    }
    let mut steps = vec![];
    if !snapshot.journeys.iter().any(|(id, _)| *id == d.journey_id) {
        e.add(
            "journey_id",
            Reason::new("unknown-ref")
                .with("noun", "journey")
                .with("id", d.journey_id),
        );
    } else {
        steps = store.case_steps(ws, d.journey_id).await?;
        if steps.is_empty() {
            e.add("journey_id", Reason::new("no-case-steps"));
        }
    }
    let step = if steps.is_empty() {
        None
    } else {
        e.take("status", dc::step_of(&steps, &d.status))
    };
    let unit_name = match d.unit_id {
        Some(u) => match snapshot.unit_name(u) {
            Some(name) => Some(name.clone()),
            None => {
                e.add(
                    "unit_id",
                    Reason::new("unknown-ref")
                        .with("noun", "unit")
                        .with("id", u),
                );
                None
            }
        },
        None => None,
    };
    if !e.is_empty() {
        return Err(Error::Invalid(e));
    }
    let Some(step) = step.map(|i| &steps[i]) else {
        return Err(Error::Internal("validated step missing".into()));
    };
    let customer = match &d.customer {
        Some(c) => Some(Pseudonymiser::load(store).await?.stored(c)),
        None => None,
    };
    let verifier_hash = match &d.verifier {
        Some(v) => Some(verifier_hash(store, v).await?),
        None => None,
    };
    let at = time_text(d.at);
    let first = NewChange {
        status: d.status.clone(),
        at: at.clone(),
        note: None,
        ask: d.ask.clone(),
        ask_due: d.ask_due.map(|x| x.to_string()),
        recorded_by: by.0.clone(),
    };
    // A reference already taken in the workspace (1 in 37 billion per case) is drawn
    // again.
    let mut last = None;
    for _ in 0..5 {
        let reference = {
            use rand::Rng;
            let mut rng = rand::thread_rng();
            dc::new_reference(|n| rng.gen_range(0..n))
        };
        let new = NewCase {
            client_id: d.client_id.as_str().to_owned(),
            reference: reference.clone(),
            journey_id: d.journey_id,
            customer: customer.clone(),
            unit_id: d.unit_id,
            language: d.language.as_ref().map(|l| l.as_str().to_owned()),
            title: d.title.clone(),
            status: d.status.clone(),
            at: at.clone(),
            ask: first.ask.clone(),
            ask_due: first.ask_due.clone(),
            verifier_hash: verifier_hash.clone(),
            created_by: by.0.clone(),
        };
        let enc = encounter(
            (d.client_id.as_str(), &reference, customer.as_deref()),
            d.journey_id,
            (d.unit_id, unit_name.clone()),
            (&d.status, &at, step),
            &by.0,
        );
        match store.create_case(ws, &new, &first, &enc).await {
            Err(StoreError::Conflict(m)) => last = Some(m),
            r => {
                let (case, created) = r?;
                // A retry subscribes too (a crash may have come between the two);
                // subscribing again changes nothing.
                if let (Some(to), Some(hooks)) = (&d.notify_email, mail) {
                    let live = store.case_subscriptions(ws, case.id).await?;
                    if !live
                        .iter()
                        .any(|s| s.email == to.as_str() && s.unsubscribed_at.is_none())
                    {
                        let sub = NewSubscription {
                            email: to.as_str().to_owned(),
                            language: case.language.clone().unwrap_or_default(),
                            consent: format!("api:{}", by.0),
                            channel: "api".into(),
                        };
                        subscribe_with(hooks, ws, &case, sub, now).await?;
                    }
                }
                return Ok((case, created));
            }
        }
    }
    Err(Error::Internal(format!(
        "no free case reference: {}",
        last.unwrap_or_default()
    )))
}

/// Moves a case to a new status (idempotent: the same status at the same time again
/// changes nothing and returns `false`). The status must belong to one of the
/// journey's steps.
///
/// A change that moves the case to another step e-mails the customer's live
/// subscriptions (when e-mail is on: `mail`), queued in the change's transaction.
pub async fn change(
    store: &Store,
    ws: Id,
    id: Id,
    by: &Recorder,
    input: &StatusInput,
    (now, mail): (DateTime<Utc>, Option<&crate::jobs::JobCtx>),
) -> Result<(Case, bool)> {
    let d = input.parse(now).map_err(Error::Invalid)?;
    let current = store.case(ws, id).await?;
    let steps = store.case_steps(ws, current.journey_id).await?;
    let step = dc::step_of(&steps, &d.status).map_err(|r| Error::invalid("status", r))?;
    let snapshot = store.snapshot_cached(ws).await?;
    let unit_name = current.unit_id.and_then(|u| snapshot.unit_name(u).cloned());
    let at = time_text(d.at);
    let c = NewChange {
        status: d.status.clone(),
        at: at.clone(),
        note: d.note.clone(),
        ask: d.ask.clone(),
        ask_due: d.ask_due.map(|x| x.to_string()),
        recorded_by: by.0.clone(),
    };
    let enc = encounter(
        (
            &current.client_id,
            &current.reference,
            current.customer.as_deref(),
        ),
        current.journey_id,
        (current.unit_id, unit_name),
        (&d.status, &at, &steps[step]),
        &by.0,
    );
    let moves = at >= current.status_at && dc::step_of(&steps, &current.status).ok() != Some(step);
    let mut notices = vec![];
    if let (true, Some(hooks)) = (moves, mail) {
        let subs = store.case_subscriptions(ws, id).await?;
        let live: Vec<&Subscription> = subs
            .iter()
            .filter(|s| s.unsubscribed_at.is_none())
            .collect();
        if !live.is_empty() {
            let cx = MailCtx::load(hooks, ws).await?;
            for sub in live {
                let dedupe = format!("case:{id}:{}:{at}:{}", d.status, sub.id);
                let mut n = cx.notice(
                    (&current, &steps, step),
                    (sub.id, &sub.language),
                    (dedupe, false),
                    now,
                );
                n.mail.to = sub.email.clone();
                notices.push(n);
            }
        }
    }
    Ok(store.change_case(ws, id, &c, &enc, &notices).await?)
}

/// At most this many live e-mail subscriptions per case.
pub const MAX_SUBSCRIPTIONS: i64 = 3;
/// The installation secret that keys unsubscribe links.
const UNSUBSCRIBE_SECRET: &str = "case-unsubscribe";

/// What every message of a workspace's case e-mail needs, loaded once.
struct MailCtx {
    org: kohtaamo_domain::text::Texts,
    default_lang: String,
    key: String,
    hooks: crate::jobs::JobCtx,
}

impl MailCtx {
    async fn load(hooks: &crate::jobs::JobCtx, ws: Id) -> Result<Self> {
        let w = hooks
            .store
            .workspace_by_id(ws)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(Self {
            org: w.data.name.clone(),
            default_lang: w.data.default_language.as_str().to_owned(),
            key: hooks.store.instance_secret(UNSUBSCRIBE_SECRET).await?,
            hooks: hooks.clone(),
        })
    }

    /// The e-mail telling a subscribed customer where their case now stands, with a
    /// fresh status-page link ([`LINK_DAYS`]) and the unsubscribe link; in the
    /// subscription's language. `first`: the message that confirms a new subscription.
    fn notice(
        &self,
        (case, steps, step): (&Case, &[Step], usize),
        (sub_id, language): (Id, &str),
        (dedupe, first): (String, bool),
        now: DateTime<Utc>,
    ) -> Notice {
        let lang = if language.is_empty() {
            self.default_lang.as_str()
        } else {
            language
        };
        let i = crate::i18n::I18n::new(lang, &self.default_lang);
        let s = &steps[step];
        let token = crate::links::new_token();
        let link = self.hooks.link(&format!("/s/{token}?lang={lang}"));
        let unsubscribe = self
            .hooks
            .link(&format!("/s/u/{sub_id}/{}", token_with(&self.key, sub_id)));
        let reference = dc::shown_reference(&case.reference);
        let org = i.text(&self.org);
        let name = i.text(&s.name);
        let mut body = vec![];
        if first {
            body.push(i.t("mail-case-subscribed"));
        }
        body.push(i.s("mail-case-now", "step", &name));
        for t in [&s.meaning, &s.next] {
            let t = i.text(t);
            if !t.is_empty() {
                body.push(t);
            }
        }
        body.push(i.s("mail-case-open", "link", &link));
        body.push(i.s("mail-case-unsubscribe", "link", &unsubscribe));
        Notice {
            mail: kohtaamo_storage::mail::NewMail {
                dedupe,
                kind: "case-step".into(),
                to: String::new(),
                subject: i.args(
                    "mail-case-subject",
                    &[("org", &org), ("reference", &reference), ("step", &name)],
                ),
                body: body.join("\n\n"),
                unsubscribe: Some(unsubscribe),
            },
            link_hash: crate::feedback::token_hash(&token),
            link_expires: time_text(now + chrono::Duration::days(LINK_DAYS)),
            by: "system:case-mail".into(),
        }
    }
}

/// Subscribes an address to a case's step changes and queues the first message (where
/// the case stands now), in one transaction. Invalid `email`
/// (`case-subscriptions-full`) past [`MAX_SUBSCRIPTIONS`] other live addresses.
async fn subscribe_with(
    hooks: &crate::jobs::JobCtx,
    ws: Id,
    case: &Case,
    sub: NewSubscription,
    now: DateTime<Utc>,
) -> Result<Subscription> {
    let store = &hooks.store;
    let steps = store.case_steps(ws, case.journey_id).await?;
    let step = dc::step_of(&steps, &case.status).map_err(|r| Error::invalid("status", r))?;
    let cx = MailCtx::load(hooks, ws).await?;
    let (to, language) = (sub.email.clone(), sub.language.clone());
    let stamp = time_text(now);
    let r = store
        .subscribe_case(ws, case.id, &sub, MAX_SUBSCRIPTIONS, |id| {
            let mut n = cx.notice(
                (case, &steps, step),
                (id, &language),
                (format!("case-sub:{id}:{stamp}"), true),
                now,
            );
            n.mail.to = to;
            n
        })
        .await;
    match r {
        Err(StoreError::Conflict(m)) if m == "case-subscriptions-full" => Err(Error::invalid(
            "email",
            Reason::new("case-subscriptions-full").with("max", MAX_SUBSCRIPTIONS),
        )),
        r => Ok(r?),
    }
}

/// The unguessable part of a subscription's unsubscribe link: 128 bits of
/// HMAC-SHA256 over its id with the installation secret (the same link in every
/// message; nothing stored).
fn token_with(key: &str, id: Id) -> String {
    crate::keyed::token_hex(key.as_bytes(), &[format!("unsubscribe:{id}").as_bytes()])
}

/// The live subscription an unsubscribe link names, with its workspace and case; None
/// for a link that is not one (a wrong token and an unknown id answer alike).
pub async fn subscription_of(
    store: &Store,
    id: Id,
    token: &str,
) -> Result<Option<(Id, Subscription, Case)>> {
    use subtle::ConstantTimeEq;
    let key = store.instance_secret(UNSUBSCRIBE_SECRET).await?;
    let expected = token_with(&key, id);
    if expected.is_empty() || !bool::from(expected.as_bytes().ct_eq(token.as_bytes())) {
        return Ok(None);
    }
    let Some((ws, sub)) = store.subscription(id).await? else {
        return Ok(None);
    };
    let case = store.case(ws, sub.case_id).await?;
    Ok(Some((ws, sub, case)))
}

/// Ends the subscription an unsubscribe link names (again: nothing changes). None: the
/// link is not one.
pub async fn unsubscribe(
    store: &Store,
    id: Id,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<(Id, Subscription, Case)>> {
    let Some(found) = subscription_of(store, id, token).await? else {
        return Ok(None);
    };
    store.unsubscribe_case(id, &time_text(now)).await?;
    Ok(Some(found))
}

/// A case with everything staff see about it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseDetail {
    #[serde(flatten)]
    pub case: Case,
    /// The reference as people read it (`K7MP-4XRT`).
    pub shown_reference: String,
    pub changes: Vec<CaseChange>,
    /// The journey's steps and where the case stands in them, as the customer sees it.
    pub steps: Vec<Step>,
    pub progress: Option<Progress>,
    pub links: Vec<CaseLink>,
    /// Addresses that get e-mail on step changes (and those that stopped), newest
    /// first.
    pub subscriptions: Vec<Subscription>,
}

fn progress_of(steps: &[Step], changes: &[CaseChange]) -> Option<Progress> {
    let cs: Vec<dc::Change> = changes
        .iter()
        .map(|c| (c.status.as_str(), c.at.as_str(), c.note.as_deref()))
        .collect();
    dc::progress(steps, &cs)
}

/// One case with its changes, steps, links and subscriptions; the read is in the audit
/// trail (`record.read`, under a keyed hash of the reference).
pub async fn get(
    store: &Store,
    ws: Id,
    id: Id,
    reader: &kohtaamo_storage::privacy::Actor,
) -> Result<CaseDetail> {
    let case = store.case(ws, id).await?;
    crate::privacy::audit_read(
        store,
        ws,
        reader,
        &format!("case {}", case.reference),
        "case",
    )
    .await?;
    let changes = store.case_changes(ws, id).await?;
    let steps = store.case_steps(ws, case.journey_id).await?;
    let links = store.case_links(ws, id).await?;
    let subscriptions = store.case_subscriptions(ws, id).await?;
    Ok(CaseDetail {
        subscriptions,
        shown_reference: dc::shown_reference(&case.reference),
        progress: progress_of(&steps, &changes),
        case,
        changes,
        steps,
        links,
    })
}

/// A workspace's cases (see [`Store::cases`]); `customer` as given, matched through
/// its stored form.
pub async fn list(
    store: &Store,
    ws: Id,
    mut f: CaseFilter,
    customer: Option<&str>,
) -> Result<Vec<Case>> {
    if let Some(c) = customer {
        let id = kohtaamo_domain::encounters::Identifier::parse(c)
            .map_err(|r| Error::invalid("customer", r))?;
        f.customers = Some(vec![Pseudonymiser::load(store).await?.stored(&id)]);
    }
    Ok(store.cases(ws, &f).await?)
}

/// Which cases a staff list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Not yet at their journey's last step: the longest in their status first.
    Open,
    /// At the last step, newest first.
    Done,
    /// All, newest first.
    All,
}

/// The latest `limit` cases of a workspace in `view`, each with the step it stands at
/// (None: its status is on no step of the journey any more).
pub async fn in_view(
    store: &Store,
    ws: Id,
    view: View,
    limit: i64,
) -> Result<Vec<(Case, Option<Step>)>> {
    let cases = store
        .cases(
            ws,
            &CaseFilter {
                limit,
                ..Default::default()
            },
        )
        .await?;
    let mut steps: std::collections::HashMap<Id, Vec<Step>> = std::collections::HashMap::new();
    let mut out = vec![];
    for c in cases {
        if let std::collections::hash_map::Entry::Vacant(e) = steps.entry(c.journey_id) {
            e.insert(store.case_steps(ws, c.journey_id).await?);
        }
        let s = steps
            .get(&c.journey_id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let at = dc::step_of(s, &c.status).ok();
        let done = at.is_some_and(|k| k + 1 == s.len());
        if (view == View::Open && done) || (view == View::Done && !done) {
            continue;
        }
        out.push((c, at.map(|k| s[k].clone())));
    }
    if view == View::Open {
        out.sort_by(|a, b| a.0.status_at.cmp(&b.0.status_at));
    }
    Ok(out)
}

/// A new status-page link, shown once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IssuedLink {
    #[serde(flatten)]
    pub link: CaseLink,
    /// The page's path (`/s/{token}`); put the public address in front of it.
    pub path: String,
    /// The page's address under the installation's public address.
    pub url: String,
}

/// Issues a link to a case's status page valid for `days` (default [`LINK_DAYS`]):
/// 144 random bits, of which only the SHA-256 is stored. Earlier links stay valid
/// until revoked.
pub async fn issue_link(
    store: &Store,
    ws: Id,
    id: Id,
    by: &Recorder,
    days: Option<i64>,
    (now, base): (DateTime<Utc>, &str),
) -> Result<IssuedLink> {
    let days = days.unwrap_or(LINK_DAYS);
    if !(1..=MAX_LINK_DAYS).contains(&days) {
        return Err(Error::invalid(
            "days",
            Reason::new("score-range")
                .with("min", 1)
                .with("max", MAX_LINK_DAYS),
        ));
    }
    store.case(ws, id).await?;
    let token = crate::links::new_token();
    let expires = time_text(now + chrono::Duration::days(days));
    let link = store
        .add_case_link(
            ws,
            id,
            &crate::feedback::token_hash(&token),
            &expires,
            &by.0,
        )
        .await?;
    let path = format!("/s/{token}");
    Ok(IssuedLink {
        link,
        url: format!("{base}{path}"),
        path,
    })
}

/// Revokes every live link of a case; returns how many.
pub async fn revoke_links(store: &Store, ws: Id, id: Id, now: DateTime<Utc>) -> Result<u64> {
    store.case(ws, id).await?;
    Ok(store.revoke_case_links(ws, id, &time_text(now)).await?)
}

/// What a customer's status page shows.
#[derive(Debug, Clone)]
pub struct PublicCase {
    pub workspace_id: Id,
    pub case: Case,
    pub steps: Vec<Step>,
    pub progress: Option<Progress>,
}

/// The case a status-page token opens, if its link is live. Reading changes nothing.
pub async fn public(store: &Store, token: &str, now: DateTime<Utc>) -> Result<Option<PublicCase>> {
    // A token is 36 hex characters; anything else opens nothing, without a query.
    if token.len() != 36 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let hash = crate::feedback::token_hash(token);
    let Some((ws, case)) = store.case_by_link(&hash, &time_text(now)).await? else {
        return Ok(None);
    };
    Ok(Some(public_view(store, ws, case).await?))
}

/// What the customer's page shows of a case, for staff to preview (no link needed).
pub async fn preview(store: &Store, ws: Id, id: Id) -> Result<PublicCase> {
    public_view(store, ws, store.case(ws, id).await?).await
}

async fn public_view(store: &Store, ws: Id, case: Case) -> Result<PublicCase> {
    let changes = store.case_changes(ws, case.id).await?;
    let steps = store.case_steps(ws, case.journey_id).await?;
    Ok(PublicCase {
        workspace_id: ws,
        progress: progress_of(&steps, &changes),
        case,
        steps,
    })
}

/// The survey a done case's customer is asked to answer: an active survey of the
/// journey's last touchpoint (the last stage's last touchpoint), else one about the
/// whole journey. Returns the survey, its public key and the touchpoint (for the survey
/// link; the answer is linked to the case by the case's sender id as its case
/// reference).
pub async fn closing_survey(
    store: &Store,
    ws: Id,
    journey: Id,
) -> Result<Option<(Id, String, Option<Id>)>> {
    use kohtaamo_domain::survey::{SurveyData, SurveyStatus};
    let snapshot = store.snapshot_cached(ws).await?;
    let last = snapshot
        .stages
        .iter()
        .rfind(|(_, d, tps)| d.journey_id == journey && !tps.is_empty())
        .and_then(|(_, _, tps)| tps.last())
        .map(|(id, _)| *id);
    let surveys = store
        .list::<SurveyData>(ws, &kohtaamo_storage::ListQuery::all())
        .await?
        .items;
    let active = |f: &dyn Fn(&SurveyData) -> bool| {
        surveys
            .iter()
            .find(|s| s.data.status == SurveyStatus::Active && f(&s.data))
            .map(|s| s.id)
    };
    let found = last
        .and_then(|tp| active(&|d| d.touchpoint_id == Some(tp)).map(|s| (s, Some(tp))))
        .or_else(|| active(&|d| d.journey_id == Some(journey)).map(|s| (s, None)));
    match found {
        Some((survey, tp)) => Ok(Some((survey, store.survey_key(ws, survey).await?, tp))),
        None => Ok(None),
    }
}

/// The installation secret that keys second factors.
const VERIFIER_SECRET: &str = "case-verifier";

/// The keyed hash of a (normalised) second factor.
async fn verifier_hash(store: &Store, normalised: &str) -> Result<String> {
    let key = store.instance_secret(VERIFIER_SECRET).await?;
    Ok(crate::keyed::hmac_hex(
        key.as_bytes(),
        &[normalised.as_bytes()],
    ))
}

/// How long a link made by a look-up works, in days.
pub const LOOKUP_LINK_DAYS: i64 = 1;

/// The look-up of a case by its reference and the second factor the organisation
/// chose, for a customer without their link. Limited per address (10 a minute) and
/// per reference (5 in 10 minutes, whoever asks); "no such case", "no second factor
/// set" and "wrong second factor" are one and the same answer (`None`).
pub struct Lookup {
    per_ip: governor::DefaultKeyedRateLimiter<std::net::IpAddr>,
    per_reference: governor::DefaultKeyedRateLimiter<(String, String)>,
}

impl Default for Lookup {
    fn default() -> Self {
        use governor::{Quota, RateLimiter};
        use std::num::NonZeroU32;
        let n = |k: u32| NonZeroU32::new(k).unwrap_or(NonZeroU32::MIN);
        Self {
            per_ip: RateLimiter::keyed(Quota::per_minute(n(10))),
            per_reference: RateLimiter::keyed(
                Quota::with_period(std::time::Duration::from_secs(120))
                    .unwrap_or_else(|| Quota::per_minute(n(1)))
                    .allow_burst(n(5)),
            ),
        }
    }
}

impl Lookup {
    /// The case of workspace `org` (its slug) with this reference and second factor:
    /// a fresh link to its status page ([`LOOKUP_LINK_DAYS`]), or None. Over a limit:
    /// `Error::Limited` with the seconds to wait.
    pub async fn find(
        &self,
        store: &Store,
        (org, reference, verifier): (&str, &str, &str),
        ip: std::net::IpAddr,
        now: DateTime<Utc>,
    ) -> Result<Option<IssuedLink>> {
        self.per_ip.check_key(&ip)?;
        let Ok(reference) = dc::normalise_reference(reference) else {
            return Ok(None);
        };
        self.per_reference
            .check_key(&(org.to_owned(), reference.clone()))?;
        let v = dc::normalise_verifier(verifier);
        let hash = verifier_hash(store, &v).await?;
        let Some(w) = store.workspace_by_slug(org).await? else {
            return Ok(None);
        };
        let Some(case) = store.case_by_reference(w.id, &reference).await? else {
            return Ok(None);
        };
        if v.is_empty() || case.verifier_hash.as_deref() != Some(hash.as_str()) {
            return Ok(None);
        }
        let by = Recorder("customer:lookup".into());
        Ok(Some(
            issue_link(store, w.id, case.id, &by, Some(LOOKUP_LINK_DAYS), (now, "")).await?,
        ))
    }
}

/// Tells the webhooks that opted in to `cases` that a case was created or moved
/// (`case.created`, `case.status_changed`: the case's ids, reference, status, the step
/// the customer now sees, and when), in the background — nothing at all, not even a
/// query, when no webhook of the workspace listens (the cached list). No customer
/// identifier is sent.
pub async fn announce(ctx: &crate::jobs::JobCtx, ws: Id, slug: &str, what: &str, c: &Case) {
    let listening = ctx
        .store
        .webhooks_cached(ws)
        .await
        .is_ok_and(|hooks| hooks.iter().any(|h| h.events.iter().any(|e| e == "cases")));
    if !listening {
        return;
    }
    let (ctx, slug, c, what) = (ctx.clone(), slug.to_owned(), c.clone(), what.to_owned());
    tokio::spawn(async move {
        let steps = ctx
            .store
            .case_steps(ws, c.journey_id)
            .await
            .unwrap_or_default();
        let step = dc::step_of(&steps, &c.status)
            .ok()
            .map(|k| steps[k].key.as_str().to_owned());
        let body = serde_json::json!({
            "event": format!("case.{what}"),
            "workspace": slug,
            "id": c.id,
            "case": c.client_id,
            "reference": dc::shown_reference(&c.reference),
            "status": c.status,
            "status_at": c.status_at,
            "step": step,
        })
        .to_string();
        if let Err(e) = crate::jobs::webhooks::deliver_opt_in(&ctx, ws, "cases", body).await {
            tracing::warn!(error = %e, "case event not delivered");
        }
    });
}

/// Characters of a customer's reply.
pub const MAX_REPLY: usize = 1_000;
/// Who a reply is recorded by.
pub const REPLY_BY: &str = "customer:status-page";

/// A customer's replies on their status page, limited per address (5 a minute) and
/// per case (10 an hour).
pub struct Replies {
    per_ip: governor::DefaultKeyedRateLimiter<std::net::IpAddr>,
    per_case: governor::DefaultKeyedRateLimiter<Id>,
}

impl Default for Replies {
    fn default() -> Self {
        use governor::{Quota, RateLimiter};
        use std::num::NonZeroU32;
        let n = |k: u32| NonZeroU32::new(k).unwrap_or(NonZeroU32::MIN);
        Self {
            per_ip: RateLimiter::keyed(Quota::per_minute(n(5))),
            per_case: RateLimiter::keyed(Quota::per_hour(n(10))),
        }
    }
}

impl Replies {
    /// Records what the customer wrote on the status page that `token` opens as an
    /// encounter of the case (kind `note`, source `case`, for the unit handling it),
    /// stored as written (shown escaped). `form_id` is the page's own id for the form:
    /// sending the same form twice stores it once. None: the link does not open a case.
    pub async fn reply(
        &self,
        store: &Store,
        (token, form_id, text): (&str, &str, &str),
        ip: std::net::IpAddr,
        now: DateTime<Utc>,
    ) -> Result<Option<(PublicCase, Case)>> {
        self.per_ip.check_key(&ip)?;
        let Some(p) = public(store, token, now).await? else {
            return Ok(None);
        };
        let t = text.trim();
        if t.is_empty() {
            return Err(Error::invalid("text", Reason::new("empty")));
        }
        if t.chars().count() > MAX_REPLY {
            return Err(Error::invalid(
                "text",
                Reason::new("too-long").with("max", MAX_REPLY),
            ));
        }
        if form_id.is_empty()
            || form_id.len() > 64
            || !form_id.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(Error::invalid("form", Reason::new("bad-client-id")));
        }
        self.per_case.check_key(&p.case.id)?;
        let snapshot = store.snapshot_cached(p.workspace_id).await?;
        let e = reply_encounter(&snapshot, &p.case, (form_id, t), now);
        store.record_encounters(p.workspace_id, &[e]).await?;
        let case = p.case.clone();
        Ok(Some((p, case)))
    }
}

/// What a customer wrote on the status page of case `c`, as the encounter it is: a
/// `note` of the case for the unit handling it, recorded by [`REPLY_BY`]; `form_id`
/// makes it once per form.
pub fn reply_encounter(
    snapshot: &kohtaamo_domain::insight::Snapshot,
    c: &Case,
    (form_id, text): (&str, &str),
    at: DateTime<Utc>,
) -> NewEncounter {
    NewEncounter {
        client_id: format!("case:{}:reply:{form_id}", c.client_id),
        occurred_at: time_text(at),
        touchpoint_id: None,
        touchpoint_name: None,
        stage_id: None,
        journey_id: Some(c.journey_id),
        channel: "web".into(),
        owner: c.unit_id.map(kohtaamo_domain::model::Owner::Unit),
        owner_name: c.unit_id.and_then(|u| snapshot.unit_name(u).cloned()),
        customer: c.customer.clone(),
        case_ref: Some(c.client_id.clone()),
        kind: "note".into(),
        text: Some(text.to_owned()),
        attributes: [("reference".to_string(), dc::shown_reference(&c.reference))].into(),
        source: "case",
        recorded_by: REPLY_BY.into(),
        capture: None,
    }
}

/// The customer's replies to a case, newest first.
pub async fn replies(
    store: &Store,
    ws: Id,
    case: &Case,
) -> Result<Vec<kohtaamo_storage::encounters::Encounter>> {
    Ok(store
        .encounters(
            ws,
            &kohtaamo_storage::encounters::EncounterFilter {
                case_ref: Some(case.client_id.clone()),
                kind: Some("note".into()),
                source: Some("case".into()),
                limit: 100,
                ..Default::default()
            },
        )
        .await?
        .into_iter()
        .filter(|e| e.recorded_by == REPLY_BY)
        .collect())
}

/// Status page opens, counted in memory and added to storage in batches by
/// [`Opens::flush`] (the server flushes every few seconds and on shutdown), so viewing
/// a page writes nothing in the request. At most [`Opens::MAX_KEYS`] distinct
/// (case, hour) counts wait; past that, opens are dropped until the next flush (they
/// are analytics, not records).
#[derive(Default)]
pub struct Opens {
    pending: std::sync::Mutex<std::collections::HashMap<(Id, Id, String), i64>>,
}

impl Opens {
    pub const MAX_KEYS: usize = 100_000;

    /// One open of case `case` of workspace `ws` at `now`.
    pub fn count(&self, ws: Id, case: Id, now: DateTime<Utc>) {
        if let Ok(mut p) = self.pending.lock() {
            let key = (ws, case, dc::hour_of(now));
            if p.len() < Self::MAX_KEYS || p.contains_key(&key) {
                *p.entry(key).or_default() += 1;
            }
        }
    }

    /// Adds what was counted to storage; returns how many counts were written. On a
    /// storage error the counts are put back for the next flush.
    pub async fn flush(&self, store: &Store) -> Result<usize> {
        let taken: Vec<(Id, Id, String, i64)> = match self.pending.lock() {
            Ok(mut p) => p.drain().map(|((w, c, h), n)| (w, c, h, n)).collect(),
            Err(_) => return Ok(0),
        };
        if let Err(e) = store.add_case_opens(&taken).await {
            if let Ok(mut p) = self.pending.lock() {
                for (w, c, h, n) in taken {
                    if p.len() < Self::MAX_KEYS {
                        *p.entry((w, c, h)).or_default() += n;
                    }
                }
            }
            return Err(e.into());
        }
        Ok(taken.len())
    }
}

/// How far back the case analytics read by default, in days, and at most how many
/// cases (the newest).
pub const ANALYTICS_DAYS: i64 = 180;
pub const ANALYTICS_MAX_CASES: i64 = 50_000;

/// A journey's case analytics: its steps and their figures over the cases opened in
/// the last `days` days (at most [`ANALYTICS_MAX_CASES`], the newest; `capped` says
/// when more were left out), with the names of the units.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Analytics {
    pub journey_id: Id,
    pub days: i64,
    pub capped: bool,
    pub steps: Vec<Step>,
    pub figures: dc::CaseFigures,
    /// The step whose overrun hurts the closing score most (see docs/metrics.md).
    pub weakest_wait: Option<usize>,
}

/// `opens`: this instance's counted page opens, written first so the figures are
/// current (a failure to write them is logged; they stay for the next flush).
pub async fn analytics(
    store: &Store,
    opens: &Opens,
    (ws, journey): (Id, Id),
    days: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Analytics> {
    if let Err(e) = opens.flush(store).await {
        tracing::warn!(error = %e, "status page opens not written before analytics");
    }
    let days = days.unwrap_or(ANALYTICS_DAYS);
    if !(1..=3660).contains(&days) {
        return Err(Error::invalid(
            "days",
            Reason::new("score-range").with("min", 1).with("max", 3660),
        ));
    }
    let steps = self::steps(store, ws, journey).await?;
    let since = time_text(now - chrono::Duration::days(days));
    let traces = store
        .case_traces(ws, journey, &since, ANALYTICS_MAX_CASES + 1)
        .await?;
    let capped = traces.len() as i64 > ANALYTICS_MAX_CASES;
    let traces = &traces[..traces.len().min(ANALYTICS_MAX_CASES as usize)];
    let mut opens: std::collections::HashMap<Id, Vec<(String, i64)>> =
        std::collections::HashMap::new();
    for (case, hour, n) in store.case_opens(ws, journey).await? {
        opens.entry(case).or_default().push((hour, n));
    }
    let ids: Vec<String> = traces.iter().map(|t| t.client_id.clone()).collect();
    let mut answers: std::collections::HashMap<String, kohtaamo_domain::analytics::Tally> =
        std::collections::HashMap::new();
    for (case_ref, nps, csat, ces) in store.case_answers(ws, &ids).await? {
        *answers.entry(case_ref).or_default() +=
            kohtaamo_domain::analytics::Tally::of(nps, csat, ces);
    }
    let empty = vec![];
    let input: Vec<dc::Trace> = traces
        .iter()
        .map(|t| dc::Trace {
            unit: t.unit_id,
            changes: t
                .changes
                .iter()
                .map(|(s, at)| (s.as_str(), at.as_str()))
                .collect(),
            opens: opens
                .get(&t.id)
                .unwrap_or(&empty)
                .iter()
                .map(|(h, n)| (h.as_str(), *n))
                .collect(),
            answers: answers.get(&t.client_id).copied().unwrap_or_default(),
        })
        .collect();
    let figures = dc::figures(&steps, &input, now);
    Ok(Analytics {
        journey_id: journey,
        days,
        capped,
        weakest_wait: dc::weakest_wait(&figures, crate::analysis::MIN_SAMPLE),
        steps,
        figures,
    })
}

/// The default label of the look-up form's second factor is the installation's; a
/// workspace may name its own (fi, en, sv; each at most 60 characters).
pub async fn verifier_label(store: &Store, ws: Id) -> Result<Option<kohtaamo_domain::text::Texts>> {
    Ok(match store.case_verifier_label(ws).await? {
        Some(json) => kohtaamo_domain::text::Texts::from_json(&json).ok(),
        None => None,
    })
}

/// Sets a workspace's label for the second factor (editors); an empty map goes back to
/// the default.
pub async fn set_verifier_label(
    store: &Store,
    ws: Id,
    role: Role,
    label: &std::collections::BTreeMap<String, String>,
) -> Result<Option<kohtaamo_domain::text::Texts>> {
    editor(role)?;
    let cleaned: std::collections::BTreeMap<String, String> = label
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if cleaned.is_empty() {
        store.set_case_verifier_label(ws, None).await?;
        return Ok(None);
    }
    for (k, v) in &cleaned {
        if !dc::CASE_LANGUAGES.contains(&k.as_str()) {
            return Err(Error::invalid(
                &format!("verifier_label.{k}"),
                Reason::new("not-one-of")
                    .with("value", k)
                    .with("options", dc::CASE_LANGUAGES.join(", ")),
            ));
        }
        if v.trim().chars().count() > 60 {
            return Err(Error::invalid(
                &format!("verifier_label.{k}"),
                Reason::new("too-long").with("max", 60),
            ));
        }
    }
    let t = kohtaamo_domain::text::Texts::name(&cleaned)
        .map_err(|r| Error::invalid("verifier_label", r))?;
    store
        .set_case_verifier_label(ws, Some(&t.to_json()))
        .await?;
    Ok(Some(t))
}

/// A customer asks on their status page for e-mail on step changes (limited like
/// replies: per address and per case). The address must be an e-mail address and the
/// consent box ticked; the subscription keeps the consent text they saw. None: the link
/// does not open a case.
pub async fn subscribe_on_page(
    hooks: &crate::jobs::JobCtx,
    limits: &Replies,
    (token, email, consented, lang): (&str, &str, bool, &str),
    ip: std::net::IpAddr,
    now: DateTime<Utc>,
) -> Result<Option<PublicCase>> {
    limits.per_ip.check_key(&ip)?;
    let Some(p) = public(&hooks.store, token, now).await? else {
        return Ok(None);
    };
    let mut e = FieldErrors::new();
    let email = e.take("email", kohtaamo_domain::model::Email::parse(email));
    if !consented {
        e.add("consent", Reason::new("consent-needed"));
    }
    let Some(email) = email.filter(|_| e.is_empty()) else {
        return Err(Error::Invalid(e));
    };
    limits.per_case.check_key(&p.case.id)?;
    let i = crate::i18n::I18n::new(lang, "en");
    let sub = NewSubscription {
        email: email.as_str().to_owned(),
        language: lang.to_owned(),
        // The consent as the page showed it.
        consent: i.t("status-subscribe-consent"),
        channel: "status-page".into(),
    };
    subscribe_with(hooks, p.workspace_id, &p.case, sub, now).await?;
    Ok(Some(p))
}

/// A back-office system or staff member subscribes an address the customer gave, with
/// their consent, to the case's step changes (the sender vouches for the consent);
/// the first message goes at once. Invalid `email` for a bad address or with e-mail
/// off.
pub async fn subscribe(
    store: &Store,
    ws: Id,
    id: Id,
    by: &Recorder,
    email: &str,
    (now, mail): (DateTime<Utc>, Option<&crate::jobs::JobCtx>),
) -> Result<Subscription> {
    let case = store.case(ws, id).await?;
    let email =
        kohtaamo_domain::model::Email::parse(email).map_err(|r| Error::invalid("email", r))?;
    let Some(hooks) = mail else {
        return Err(Error::invalid("email", Reason::new("mail-off")));
    };
    let sub = NewSubscription {
        email: email.as_str().to_owned(),
        language: case.language.clone().unwrap_or_default(),
        consent: format!("api:{}", by.0),
        channel: "api".into(),
    };
    subscribe_with(hooks, ws, &case, sub, now).await
}
