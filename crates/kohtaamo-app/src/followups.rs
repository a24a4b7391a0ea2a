//! Follow-ups: which rules a response or capture opens (the facts gathered from the
//! model, matched by the domain), and what people do to a follow-up.
//!
//! A follow-up goes to the unit that owns the encounter: the touchpoint's owner; for a
//! partner's touchpoint, or an encounter without one, the rule's fallback unit (with
//! the partner named). Each matching rule opens one follow-up per response; a capture
//! marked "needs follow-up" opens one, with the first matching `capture` rule's
//! targets and fallback, or the defaults (24 h to contact, 120 h to resolve).

use kohtaamo_domain::followups::{Action, Facts, FollowUpRuleData, ROOT_CAUSES};
use kohtaamo_domain::insight::Snapshot;
use kohtaamo_domain::model::Owner;
use kohtaamo_domain::model::Role;
use kohtaamo_domain::survey::{Answers, Hidden, SurveyData};
use kohtaamo_domain::{Id, Reason};
use kohtaamo_storage::followups::{Act, FollowUp, FollowUpEvent, FollowUpFilter, NewFollowUp};
use kohtaamo_storage::Store;

use crate::{Error, Result};

/// Where a touchpoint sits, who owns it and which service element it delivers:
/// (stage, journey, owner, element).
fn place(s: &Snapshot, touchpoint: Id) -> Option<(Id, Id, Option<Owner>, Option<Id>)> {
    s.stages.iter().find_map(|(stage, data, tps)| {
        tps.iter()
            .find(|(id, _)| *id == touchpoint)
            .map(|(_, t)| (*stage, data.journey_id, t.owner, t.element_id))
    })
}

/// The unit that manages a partner owner (None for a unit owner, or a partner without
/// one).
fn manager(s: &Snapshot, owner: Option<Owner>) -> Option<Id> {
    match owner {
        Some(Owner::Partner(partner)) => s
            .partners
            .iter()
            .find(|(id, _)| *id == partner)
            .and_then(|(_, d)| d.unit_id)
            .filter(|u| s.units.iter().any(|(id, _)| id == u)),
        _ => None,
    }
}

/// What a follow-up opened at `touchpoint` carries about its place and owner.
struct Where {
    /// The service packages the encounter belongs to through its touchpoint (the one
    /// holding its element; its journey's).
    package_ids: Vec<Id>,
    touchpoint_id: Option<Id>,
    stage_id: Option<Id>,
    journey_id: Option<Id>,
    owner: Option<Owner>,
    /// For a partner's touchpoint: the unit that manages the partner.
    manager: Option<Id>,
}

impl Where {
    /// Where `touchpoint` is; `packages`: also which service packages it belongs to
    /// (only when a rule is scoped to one: it costs a pass over the packages).
    fn of(s: &Snapshot, touchpoint: Option<Id>, packages: bool) -> Self {
        let p = touchpoint.and_then(|t| place(s, t));
        let owner = p.and_then(|p| p.2);
        let manager = manager(s, owner);
        let mut package_ids: Vec<Id> = vec![];
        if let (true, Some((_, journey, _, element))) = (packages, p) {
            package_ids.extend(
                s.packages
                    .iter()
                    .filter(|(_, d)| {
                        element.is_some_and(|e| d.elements.iter().any(|x| x.element_id == e))
                    })
                    .map(|(id, _)| *id),
            );
            if let Some(j) = s.journeys.iter().find(|(id, _)| *id == journey) {
                package_ids.extend(j.1.package_ids.iter().copied());
            }
        }
        Self {
            package_ids,
            touchpoint_id: touchpoint,
            stage_id: p.map(|p| p.0),
            journey_id: p.map(|p| p.1),
            owner,
            manager,
        }
    }
    /// The unit owning the encounter: the touchpoint's owner, or the unit managing
    /// the partner that owns it.
    fn unit(&self) -> Option<Id> {
        match self.owner {
            Some(Owner::Unit(u)) => Some(u),
            _ => self.manager,
        }
    }
    fn partner(&self) -> Option<Id> {
        match self.owner {
            Some(Owner::Partner(p)) => Some(p),
            _ => None,
        }
    }
    /// A follow-up here; `consent`: whether the customer may be contacted, with the
    /// detail they gave.
    fn open(
        &self,
        rule: Option<(Id, &FollowUpRuleData)>,
        reason: String,
        (customer, case_ref): (Option<String>, Option<String>),
        consent: (bool, Option<String>),
    ) -> NewFollowUp {
        NewFollowUp {
            may_contact: consent.0,
            contact: consent.1,
            rule_id: rule.map(|r| r.0),
            customer,
            case_ref,
            touchpoint_id: self.touchpoint_id,
            journey_id: self.journey_id,
            unit_id: self.unit().or(rule.and_then(|r| r.1.unit_id)),
            partner_id: self.partner(),
            reason,
            contact_hours: rule.map_or(24, |r| r.1.contact_hours),
            resolve_hours: rule.map_or(120, |r| r.1.resolve_hours),
        }
    }
}

/// The follow-ups a response opens under the workspace's rules (none, and no query,
/// when the workspace has no active rule). The customer may be contacted when they
/// answered the survey's contact question (consent, with an e-mail address or phone
/// number); otherwise the follow-up is for learning only.
pub async fn for_response(
    store: &Store,
    ws: Id,
    survey: (Id, &SurveyData),
    hidden: &Hidden,
    answers: &Answers,
) -> Result<Vec<NewFollowUp>> {
    let rules = store.follow_up_rules_cached(ws).await?;
    if rules.is_empty() {
        return Ok(vec![]);
    }
    let snapshot = store.snapshot_cached(ws).await?;
    Ok(opened_by(&snapshot, &rules, survey, hidden, answers))
}

/// The follow-ups `rules` open for a response (the model read from `snapshot`).
fn opened_by(
    snapshot: &Snapshot,
    rules: &[(Id, FollowUpRuleData)],
    (survey, data): (Id, &SurveyData),
    hidden: &Hidden,
    answers: &Answers,
) -> Vec<NewFollowUp> {
    let scores = answers.scores(data);
    let packages = rules
        .iter()
        .any(|(_, r)| r.scope == kohtaamo_domain::followups::RuleScope::Package);
    let mut at = Where::of(snapshot, hidden.touchpoint_id, packages);
    // A survey about a whole journey (no touchpoint): the follow-up is about that journey.
    if at.journey_id.is_none() {
        at.journey_id = data.journey_id;
    }
    let facts = Facts {
        survey_id: Some(survey),
        touchpoint_id: at.touchpoint_id,
        stage_id: at.stage_id,
        journey_id: at.journey_id,
        unit_id: at.unit(),
        package_ids: if packages {
            at.package_ids
                .iter()
                .copied()
                .chain(data.package_id)
                .collect()
        } else {
            vec![]
        },
        scores,
        answers: Some(answers),
        words: None,
        lang: hidden.locale.as_ref().map_or("fi", |l| l.as_str()),
        needs_follow_up: false,
        alert: None,
    };
    let contact = answers.contact(data);
    rules
        .iter()
        .filter_map(|(id, rule)| {
            let reason = rule.matches(&facts)?;
            Some(at.open(
                Some((*id, rule)),
                reason,
                (hidden.customer_ref.clone(), hidden.case_ref.clone()),
                (contact.is_some(), contact.clone()),
            ))
        })
        .collect()
}

/// The follow-ups a score alert opens under `rules` (their `alert` ones that match,
/// one each): for learning, with no customer to contact. The place is the alert's
/// group: a touchpoint (with its stage, journey, owner and packages), a stage and its
/// journey, a journey and its packages, a package, an element (the packages holding
/// it, its owner), a unit, a partner (and the unit managing it) or a survey; other
/// groups (segment, channel, language) match workspace-wide rules only. The follow-up
/// goes to the unit the alert went to (`alert_unit`), else the place's owning unit,
/// else the rule's fallback unit.
pub fn for_alert(
    s: &Snapshot,
    rules: &[(Id, FollowUpRuleData)],
    alert: &kohtaamo_domain::alerts::AlertRuleData,
    alert_unit: Option<Id>,
    reason: &str,
) -> Vec<NewFollowUp> {
    use kohtaamo_domain::analytics::{GroupKey, Scope};
    if !rules
        .iter()
        .any(|(_, r)| r.trigger == kohtaamo_domain::followups::Trigger::Alert && r.active)
    {
        return vec![];
    }
    let id = match alert.key {
        GroupKey::Id(id) => Some(id),
        GroupKey::Text(_) => None,
    };
    let touchpoint = id.filter(|_| alert.scope == Scope::Touchpoint);
    let mut at = Where::of(s, touchpoint, true);
    let mut survey = None;
    let packages_holding = |e: Id| -> Vec<Id> {
        s.packages
            .iter()
            .filter(|(_, d)| d.elements.iter().any(|x| x.element_id == e))
            .map(|(id, _)| *id)
            .collect()
    };
    match (alert.scope, id) {
        (Scope::Stage, Some(stage)) => {
            at.stage_id = Some(stage);
            at.journey_id = s
                .stages
                .iter()
                .find(|(id, ..)| *id == stage)
                .map(|(_, d, _)| d.journey_id);
        }
        (Scope::Journey, Some(j)) => {
            at.journey_id = Some(j);
            at.package_ids = s
                .journeys
                .iter()
                .find(|(id, _)| *id == j)
                .map(|(_, d)| d.package_ids.clone())
                .unwrap_or_default();
        }
        (Scope::Package, Some(p)) => at.package_ids = vec![p],
        (Scope::Element, Some(e)) => {
            at.package_ids = packages_holding(e);
            at.owner = s
                .elements
                .iter()
                .find(|(id, _)| *id == e)
                .and_then(|(_, d)| d.owner);
            at.manager = manager(s, at.owner);
        }
        (Scope::Unit, Some(u)) => at.owner = Some(Owner::Unit(u)),
        (Scope::Partner, Some(p)) => {
            at.owner = Some(Owner::Partner(p));
            at.manager = manager(s, at.owner);
        }
        (Scope::Survey, Some(id)) => survey = Some(id),
        _ => {}
    }
    let facts = Facts {
        survey_id: survey,
        touchpoint_id: at.touchpoint_id,
        stage_id: at.stage_id,
        journey_id: at.journey_id,
        unit_id: at.unit(),
        package_ids: at.package_ids.clone(),
        alert: Some(reason),
        ..Default::default()
    };
    rules
        .iter()
        .filter(|(_, r)| r.trigger == kohtaamo_domain::followups::Trigger::Alert)
        .filter_map(|(id, rule)| {
            let why = rule.matches(&facts)?;
            let mut f = at.open(Some((*id, rule)), why, (None, None), (false, None));
            f.unit_id = alert_unit.or(f.unit_id);
            Some(f)
        })
        .collect()
}

/// The days `from`..=`to` as stored-time bounds `[start, end)`.
fn day_bounds(from: chrono::NaiveDate, to: chrono::NaiveDate) -> (String, String) {
    (
        format!("{from}T00:00:00Z"),
        format!("{}T00:00:00Z", to + chrono::Duration::days(1)),
    )
}

/// What applying a rule to a past period finds and does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Applied {
    /// Responses of the period the rule matches (for an `alert` rule: score alerts
    /// raised in the period).
    pub matching: i64,
    /// Of those, the ones that already have a follow-up from this rule.
    pub already: i64,
    /// Follow-ups opened now (0 in a preview).
    pub opened: i64,
}

/// Applies a rule to the responses (an `alert` rule: the score alerts raised) of a
/// past period (`from`..=`to`, days): a preview
/// (`dry_run`) counts what it would open; otherwise it opens them — opened `now`, so
/// their clocks start now (an old answer does not arrive overdue and escalated) — and
/// never twice (the same key as on arrival). Counted, complete responses only; a
/// `capture` rule has no responses to apply to. Editors.
pub async fn apply_rule(
    store: &Store,
    ws: Id,
    rule: Id,
    (from, to): (chrono::NaiveDate, chrono::NaiveDate),
    dry_run: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Applied> {
    let opened_at = kohtaamo_storage::time_text(now);
    use kohtaamo_domain::followups::Trigger;
    let data = store.get::<FollowUpRuleData>(ws, rule).await?.data;
    if data.trigger == Trigger::Capture {
        return Err(Error::invalid("rule", Reason::new("capture-rule-past")));
    }
    if from > to {
        return Err(Error::invalid(
            "from",
            Reason::new("text").with("text", "must not be after 'to'"),
        ));
    }
    let (start, end) = day_bounds(from, to);
    if data.trigger == Trigger::Alert {
        return apply_alert_rule(store, ws, (rule, data), (&start, &end), dry_run, &opened_at)
            .await;
    }
    let rules = vec![(rule, data)];
    let snapshot = store.snapshot_cached(ws).await?;
    let done: std::collections::HashSet<(Id, String)> = store
        .responses_with_follow_up(ws, rule)
        .await?
        .into_iter()
        .collect();
    let mut surveys: std::collections::HashMap<Id, SurveyData> = std::collections::HashMap::new();
    let mut out = Applied::default();
    let mut after = 0;
    loop {
        let page = store
            .past_responses(ws, (&start, &end), after, 1000)
            .await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        let mut batch = vec![];
        for r in &page {
            if let std::collections::hash_map::Entry::Vacant(e) = surveys.entry(r.survey_id) {
                match store.get::<SurveyData>(ws, r.survey_id).await {
                    Ok(s) => {
                        e.insert(s.data);
                    }
                    Err(kohtaamo_storage::StoreError::NotFound) => continue,
                    Err(err) => return Err(err.into()),
                }
            }
            let Some(survey) = surveys.get(&r.survey_id) else {
                continue;
            };
            let Ok(answers) = Answers::from_json(&r.answers) else {
                continue;
            };
            let hidden = Hidden {
                touchpoint_id: r.touchpoint_id,
                locale: r
                    .locale
                    .as_deref()
                    .and_then(|l| kohtaamo_domain::text::Lang::parse(l).ok()),
                customer_ref: r.customer_ref.clone(),
                case_ref: r.case_ref.clone(),
                ..Default::default()
            };
            for f in opened_by(&snapshot, &rules, (r.survey_id, survey), &hidden, &answers) {
                out.matching += 1;
                if done.contains(&(r.survey_id, r.key.clone())) {
                    out.already += 1;
                } else if !dry_run {
                    batch.push((r.survey_id, r.key.clone(), opened_at.clone(), f));
                }
            }
        }
        if !batch.is_empty() {
            out.opened += store.open_follow_ups_for_responses(ws, &batch).await? as i64;
        }
        if page.len() < 1000 {
            break;
        }
    }
    Ok(out)
}

/// [`apply_rule`] for an `alert` rule: the score alerts raised in `[start, end)`
/// (stored times) that it matches.
async fn apply_alert_rule(
    store: &Store,
    ws: Id,
    rule: (Id, FollowUpRuleData),
    (start, end): (&str, &str),
    dry_run: bool,
    opened_at: &str,
) -> Result<Applied> {
    use kohtaamo_domain::alerts::{AlertRuleData, Finding};
    let id = rule.0;
    let rules = vec![rule];
    let snapshot = store.snapshot_cached(ws).await?;
    let done: std::collections::HashSet<Id> = store
        .alerts_with_follow_up(ws, id)
        .await?
        .into_iter()
        .collect();
    let mut alert_rules: std::collections::HashMap<Id, Option<AlertRuleData>> =
        std::collections::HashMap::new();
    let mut out = Applied::default();
    let mut batch = vec![];
    for a in store.alerts_raised(ws, (start, end)).await? {
        let d = match alert_rules.entry(a.rule_id) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(match store.get::<AlertRuleData>(ws, a.rule_id).await {
                    Ok(r) => Some(r.data),
                    Err(kohtaamo_storage::StoreError::NotFound) => None,
                    Err(err) => return Err(err.into()),
                })
            }
        };
        let Some(d) = d.as_ref() else { continue };
        let period = (
            a.period_from.parse().unwrap_or_default(),
            a.period_to.parse().unwrap_or_default(),
        );
        let finding = Finding {
            value: a.value,
            margin: a.margin,
            n: a.n,
            previous: a.previous,
        };
        let reason = kohtaamo_domain::followups::alert_reason(d.metric.as_str(), &finding, period);
        for f in for_alert(&snapshot, &rules, d, a.unit_id, &reason) {
            out.matching += 1;
            if done.contains(&a.id) {
                out.already += 1;
            } else if !dry_run {
                batch.push((a.id, f));
            }
        }
    }
    if !batch.is_empty() {
        out.opened = store
            .open_follow_ups_for_alerts(ws, opened_at, &batch)
            .await? as i64;
    }
    Ok(out)
}

/// The follow-up a capture opens: one when it is marked "needs follow-up" or a
/// `words` rule finds its words, with the first matching rule's targets. The customer
/// may be contacted when the capture names them: staff recorded the need with the
/// customer in front of them.
#[allow(clippy::too_many_arguments)]
pub async fn for_capture(
    store: &Store,
    ws: Id,
    touchpoint: Option<Id>,
    words: &str,
    needs_follow_up: bool,
    customer: Option<String>,
    case_ref: Option<String>,
) -> Result<Option<NewFollowUp>> {
    let rules = store.follow_up_rules_cached(ws).await?;
    if rules.is_empty() && !needs_follow_up {
        return Ok(None);
    }
    let snapshot = store.snapshot_cached(ws).await?;
    let packages = rules
        .iter()
        .any(|(_, r)| r.scope == kohtaamo_domain::followups::RuleScope::Package);
    let at = Where::of(&snapshot, touchpoint, packages);
    let facts = Facts {
        touchpoint_id: at.touchpoint_id,
        stage_id: at.stage_id,
        journey_id: at.journey_id,
        unit_id: at.unit(),
        package_ids: at.package_ids.clone(),
        words: Some(words),
        lang: "",
        needs_follow_up,
        ..Default::default()
    };
    let matched = rules
        .iter()
        .find_map(|(id, r)| r.matches(&facts).map(|why| ((*id, r), why)));
    let consent = (customer.is_some(), None);
    Ok(match matched {
        Some((rule, why)) => Some(at.open(Some(rule), why, (customer, case_ref), consent)),
        None if needs_follow_up => Some(at.open(
            None,
            kohtaamo_domain::followups::CAPTURE_REASON.into(),
            (customer, case_ref),
            consent,
        )),
        None => None,
    })
}

/// Switches a rule off, or on again: a rule switched off opens nothing, its follow-ups
/// stay. Returns whether it is now active.
pub async fn switch_rule(store: &Store, ws: Id, id: Id) -> Result<bool> {
    let mut rule = store.get::<FollowUpRuleData>(ws, id).await?.data;
    rule.active = !rule.active;
    store.update(ws, id, &rule).await?;
    Ok(rule.active)
}

/// A workspace's follow-ups (see [`Store::follow_ups`] for the order).
pub async fn list(store: &Store, ws: Id, f: &FollowUpFilter) -> Result<Vec<FollowUp>> {
    Ok(store.follow_ups(ws, f).await?)
}

/// One follow-up and what was done to it; the read is in the audit trail
/// (`record.read`, under a keyed hash of the customer's identifier, or of the
/// follow-up when it names no customer).
pub async fn get(
    store: &Store,
    ws: Id,
    id: Id,
    reader: &kohtaamo_storage::privacy::Actor,
) -> Result<(FollowUp, Vec<FollowUpEvent>)> {
    let f = store.follow_up(ws, id).await?;
    let what = match &f.customer {
        Some(c) => format!("ref {c}"),
        None => format!("follow-up {id}"),
    };
    crate::privacy::audit_read(store, ws, reader, &what, "follow-up").await?;
    Ok((f, store.follow_up_events(ws, id).await?))
}

/// *My follow-ups*: assigned to `user`, or unassigned in a unit they work in (within
/// the other conditions of `f`).
pub async fn mine(store: &Store, ws: Id, user: Id, f: &FollowUpFilter) -> Result<Vec<FollowUp>> {
    let units = store.units_of_user(ws, user).await?;
    let f = FollowUpFilter {
        mine: Some((user, units)),
        ..f.clone()
    };
    Ok(store.follow_ups(ws, &f).await?)
}

/// Does something to a follow-up: editors and admins may, and members of the unit that
/// owns it. Assigning names a member of the workspace. Closing one whose customer
/// gave an e-mail address with their consent queues the recovery survey to them (when
/// e-mail is on), in the same transaction.
pub async fn act(
    hooks: &crate::jobs::JobCtx,
    ws: Id,
    id: Id,
    (user, role): (Id, Role),
    act: &Act,
) -> Result<FollowUp> {
    let store = &hooks.store;
    let current = store.follow_up(ws, id).await?;
    if !role.can_edit() {
        let units = store.units_of_user(ws, user).await?;
        if !current.unit_id.is_some_and(|u| units.contains(&u)) {
            return Err(Error::Forbidden(
                "only an editor or a member of the owning unit may act on this follow-up".into(),
            ));
        }
    }
    if let (Action::Assign, Some(who)) = (act.action, act.assignee_id) {
        let members = store.members(ws).await?;
        if !members.iter().any(|m| m.user_id == who) {
            return Err(Error::invalid("assignee_id", Reason::new("not-a-member")));
        }
    }
    let mut act = act.clone();
    if act.action == Action::Close {
        act.mails.extend(recovery_mail(hooks, ws, &current).await?);
    }
    if let (Action::Assign, Some(who)) = (act.action, act.assignee_id) {
        if who != user {
            act.mails
                .extend(assigned_mail(hooks, ws, &current, who).await?);
        }
    }
    Ok(store.act_on_follow_up(ws, id, &act, ROOT_CAUSES).await?)
}

/// The workspace an e-mail is about and its language (e-mail is written in the
/// workspace's default language); None for a workspace that is gone.
pub(crate) async fn mail_language(
    hooks: &crate::jobs::JobCtx,
    ws: Id,
) -> Result<Option<(kohtaamo_storage::auth::Workspace, crate::i18n::I18n)>> {
    Ok(hooks.store.workspace_by_id(ws).await?.map(|w| {
        let i = crate::i18n::I18n::new(w.data.default_language.as_str(), "en");
        (w, i)
    }))
}

/// The e-mail telling a member that someone gave them a follow-up (none when e-mail is
/// off or they have no address); in the workspace's language.
async fn assigned_mail(
    hooks: &crate::jobs::JobCtx,
    ws: Id,
    f: &FollowUp,
    to: Id,
) -> Result<Option<kohtaamo_storage::mail::NewMail>> {
    if hooks.mailer.is_none() {
        return Ok(None);
    }
    let Some(address) = crate::accounts::email_of(&hooks.store, to).await? else {
        return Ok(None);
    };
    let Some((w, i)) = mail_language(hooks, ws).await? else {
        return Ok(None);
    };
    let steps = hooks.store.follow_up_events(ws, f.id).await?.len();
    let link = hooks.link(&format!("/w/{}/follow-ups/{}", w.data.slug.as_str(), f.id));
    Ok(Some(kohtaamo_storage::mail::NewMail {
        unsubscribe: None,
        dedupe: format!("asg:{}:{steps}:{to}", f.id),
        kind: "follow-up-assigned".into(),
        to: address,
        subject: i.s("mail-assigned-subject", "id", &f.id.to_string()),
        body: [
            i.s("mail-assigned-body", "reason", &f.reason),
            i.s("mail-escalation-open", "link", &link),
        ]
        .join("\n\n"),
    }))
}

/// The installation secret that keys recovery links.
const RECOVERY_SECRET: &str = "recovery-link";

/// The unguessable part of a follow-up's recovery link: 128 bits of HMAC-SHA256 over
/// its id with the installation secret (the same link every time; nothing stored).
async fn recovery_token(store: &Store, id: Id) -> Result<String> {
    let key = store.instance_secret(RECOVERY_SECRET).await?;
    Ok(crate::keyed::token_hex(
        key.as_bytes(),
        &[format!("recovery:{id}").as_bytes()],
    ))
}

/// The path of a follow-up's recovery survey (`/r/{id}/{token}`), which staff can
/// give the customer and which the recovery e-mail carries.
pub async fn recovery_path(store: &Store, id: Id) -> Result<String> {
    Ok(format!("/r/{id}/{}", recovery_token(store, id).await?))
}

/// The recovery survey e-mailed on closing: to a customer who gave an e-mail address
/// with their consent, when e-mail is on; in the workspace's language.
async fn recovery_mail(
    hooks: &crate::jobs::JobCtx,
    ws: Id,
    f: &FollowUp,
) -> Result<Option<kohtaamo_storage::mail::NewMail>> {
    let Some(to) = f
        .contact
        .as_deref()
        .filter(|c| kohtaamo_domain::survey::is_email(c))
    else {
        return Ok(None);
    };
    if !f.may_contact || hooks.mailer.is_none() {
        return Ok(None);
    }
    let Some((w, i)) = mail_language(hooks, ws).await? else {
        return Ok(None);
    };
    let link = hooks.link(&recovery_path(&hooks.store, f.id).await?);
    // One message per closing: the history grows with every step.
    let steps = hooks.store.follow_up_events(ws, f.id).await?.len();
    Ok(Some(kohtaamo_storage::mail::NewMail {
        unsubscribe: None,
        dedupe: format!("rec:{}:{steps}", f.id),
        kind: "follow-up-recovery".into(),
        to: to.to_owned(),
        subject: i.s("mail-recovery-subject", "org", &i.text(&w.data.name)),
        body: [i.t("mail-recovery-body"), link].join("\n\n"),
    }))
}

/// A follow-up's recovery survey as its link names it: the workspace and the
/// follow-up, or NotFound for a link that is not one (the same answer for a wrong
/// token and an unknown follow-up).
pub async fn recovery_of(
    store: &Store,
    id: Id,
    token: &str,
) -> Result<(kohtaamo_storage::auth::Workspace, FollowUp)> {
    use subtle::ConstantTimeEq;
    let expected = recovery_token(store, id).await?;
    if !bool::from(expected.as_bytes().ct_eq(token.as_bytes())) {
        return Err(Error::NotFound);
    }
    let (ws, f) = match store.follow_up_by_id(id).await {
        Ok(x) => x,
        Err(kohtaamo_storage::StoreError::NotFound) => return Err(Error::NotFound),
        Err(e) => return Err(e.into()),
    };
    let w = store.workspace_by_id(ws).await?.ok_or(Error::NotFound)?;
    Ok((w, f))
}

/// The customer's answer on the recovery survey (1–5): stored once per closing; a
/// poor one reopens the follow-up (webhooks hear `follow_up.reopened`).
pub async fn answer_recovery(
    hooks: &crate::jobs::JobCtx,
    id: Id,
    token: &str,
    score: i64,
) -> Result<kohtaamo_storage::followups::RecoveryOutcome> {
    let (lo, hi) = kohtaamo_domain::followups::RECOVERY_SCALE;
    if !(lo..=hi).contains(&score) {
        return Err(Error::invalid(
            "score",
            Reason::new("score-range").with("min", lo).with("max", hi),
        ));
    }
    let (w, _) = recovery_of(&hooks.store, id, token).await?;
    let at = kohtaamo_storage::time_text(hooks.clock.now());
    let out = hooks.store.record_recovery(w.id, id, score, &at).await?;
    if out == kohtaamo_storage::followups::RecoveryOutcome::Reopened {
        let f = hooks.store.follow_up(w.id, id).await?;
        announce(hooks, w.id, w.data.slug.as_str(), Action::Reopen, &f);
    }
    Ok(out)
}

/// Tells the workspace's webhooks that opted in to `follow-ups` about a step taken:
/// `{"event": "follow_up.<action>", "workspace": slug, "id": …, "status": …,
/// "unit_id": …, "assignee_id": …, "root_cause": …}` (assign, contact, wait, resume,
/// resolve, close, reopen, note), signed like every event. No customer identifier
/// travels in it (read the follow-up with `GET …/follow-ups/{id}`). Sent in the
/// background.
pub fn announce(ctx: &crate::jobs::JobCtx, ws: Id, slug: &str, action: Action, f: &FollowUp) {
    send(ctx, ws, slug, action.as_str(), f);
}

fn send(ctx: &crate::jobs::JobCtx, ws: Id, slug: &str, what: &str, f: &FollowUp) {
    let body = event_body(slug, what, f);
    let ctx = ctx.clone();
    tokio::spawn(async move {
        if let Err(e) = crate::jobs::webhooks::deliver_opt_in(&ctx, ws, "follow-ups", body).await {
            tracing::warn!(error = %e, "follow-up event not delivered");
        }
    });
}

fn event_body(slug: &str, what: &str, f: &FollowUp) -> String {
    serde_json::json!({
        "event": format!("follow_up.{what}"),
        "workspace": slug,
        "id": f.id,
        "status": f.status.as_str(),
        "unit_id": f.unit_id,
        "assignee_id": f.assignee_id,
        "root_cause": f.root_cause,
    })
    .to_string()
}

/// What opened follow-ups: a response (survey, key, the rules that matched it) or a
/// capture (its encounter).
#[derive(Debug, Clone)]
pub enum OpenedBy {
    Response(Id, String, Vec<Option<Id>>),
    Capture(Id),
    /// A score alert and the follow-up rules that opened one for it.
    Alert(Id, Vec<Option<Id>>),
}

impl OpenedBy {
    /// The keys the follow-ups were stored under.
    fn keys(&self) -> Vec<String> {
        match self {
            OpenedBy::Response(survey, key, rules) => rules
                .iter()
                .map(|r| format!("r{}:{survey}:{key}", r.unwrap_or(0)))
                .collect(),
            OpenedBy::Capture(encounter) => vec![format!("c{encounter}")],
            OpenedBy::Alert(alert, rules) => rules
                .iter()
                .map(|r| format!("a{alert}:{}", r.unwrap_or(0)))
                .collect(),
        }
    }
}

/// Tells the opted-in webhooks about the follow-ups a stored response or capture
/// opened (`follow_up.opened`), in the background — nothing at all (not even a query)
/// when no webhook of the workspace listens for follow-ups (the cached list).
pub async fn announce_opened(ctx: &crate::jobs::JobCtx, ws: Id, by: OpenedBy) {
    let listening = ctx.store.webhooks_cached(ws).await.is_ok_and(|hooks| {
        hooks
            .iter()
            .any(|h| h.events.iter().any(|e| e == "follow-ups"))
    });
    if !listening {
        return;
    }
    let ctx = ctx.clone();
    tokio::spawn(async move {
        let opened = ctx.store.follow_ups_by_key(ws, &by.keys()).await;
        let (Ok(opened), Ok(Some(w))) = (opened, ctx.store.workspace_by_id(ws).await) else {
            return;
        };
        for f in &opened {
            let body = event_body(w.data.slug.as_str(), "opened", f);
            if let Err(e) =
                crate::jobs::webhooks::deliver_opt_in(&ctx, ws, "follow-ups", body).await
            {
                tracing::warn!(error = %e, "follow-up event not delivered");
            }
        }
    });
}

/// The outer loop over the follow-ups closed from `from` to `to` (days, both
/// included): SLA compliance, recovery (the recovery answer, else the customer's next
/// score at any touchpoint after closing) and root causes, overall and per unit,
/// touchpoint, journey, root cause and month. See docs/metrics.md.
pub async fn outcomes(
    store: &Store,
    ws: Id,
    (from, to): (chrono::NaiveDate, chrono::NaiveDate),
) -> Result<kohtaamo_domain::followups::Outcomes> {
    use kohtaamo_domain::followups::{recovered_by_score, ClosedRow, RECOVERED_FROM};
    let (start, end) = day_bounds(from, to);
    let closed = store.closed_follow_ups(ws, &start, &end).await?;
    // The next score of each customer whose recovery answer is missing.
    let unknown: Vec<String> = closed
        .iter()
        .filter(|f| f.recovery_score.is_none())
        .filter_map(|f| f.customer.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let earliest = closed
        .iter()
        .filter_map(|f| f.closed_at.as_deref())
        .min()
        .unwrap_or(&start)
        .to_owned();
    let later = if unknown.is_empty() {
        vec![]
    } else {
        store.scores_of_customers(ws, &unknown, &earliest).await?
    };
    let rows: Vec<ClosedRow> = closed
        .iter()
        .map(|f| {
            let closed_at = f.closed_at.clone().unwrap_or_default();
            let recovered = match (f.recovery_score, &f.customer) {
                (Some(s), _) => Some(s >= RECOVERED_FROM),
                (None, Some(c)) => later
                    .iter()
                    .find(|(who, at, ..)| who == c && *at > closed_at)
                    .and_then(|(_, _, nps, csat, ces)| recovered_by_score(*nps, *csat, *ces)),
                (None, None) => None,
            };
            let resolved = f.resolved_at.as_deref().unwrap_or(&closed_at);
            ClosedRow {
                unit_id: f.unit_id,
                touchpoint_id: f.touchpoint_id,
                journey_id: f.journey_id,
                root_cause: f.root_cause.clone(),
                month: closed_at.chars().take(7).collect(),
                contact_met: f.may_contact.then(|| {
                    f.contacted_at
                        .as_deref()
                        .is_some_and(|c| c <= f.contact_due.as_str())
                }),
                resolve_met: resolved <= f.resolve_due.as_str(),
                recovered,
            }
        })
        .collect();
    Ok(kohtaamo_domain::followups::outcomes(&rows))
}
