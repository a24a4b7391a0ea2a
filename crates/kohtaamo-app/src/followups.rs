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
use kohtaamo_domain::survey::{Answers, Hidden, Scores};
use kohtaamo_domain::{Id, Reason};
use kohtaamo_storage::followups::{Act, FollowUp, FollowUpEvent, FollowUpFilter, NewFollowUp};
use kohtaamo_storage::Store;

use crate::{Error, Result};

/// Where a touchpoint sits and who owns it: (stage, journey, owner).
fn place(s: &Snapshot, touchpoint: Id) -> Option<(Id, Id, Option<Owner>)> {
    s.stages.iter().find_map(|(stage, data, tps)| {
        tps.iter()
            .find(|(id, _)| *id == touchpoint)
            .map(|(_, t)| (*stage, data.journey_id, t.owner))
    })
}

/// What a follow-up opened at `touchpoint` carries about its place and owner.
struct Where {
    touchpoint_id: Option<Id>,
    stage_id: Option<Id>,
    journey_id: Option<Id>,
    owner: Option<Owner>,
}

impl Where {
    fn of(s: &Snapshot, touchpoint: Option<Id>) -> Self {
        let p = touchpoint.and_then(|t| place(s, t));
        Self {
            touchpoint_id: touchpoint,
            stage_id: p.map(|p| p.0),
            journey_id: p.map(|p| p.1),
            owner: p.and_then(|p| p.2),
        }
    }
    fn unit(&self) -> Option<Id> {
        match self.owner {
            Some(Owner::Unit(u)) => Some(u),
            _ => None,
        }
    }
    fn partner(&self) -> Option<Id> {
        match self.owner {
            Some(Owner::Partner(p)) => Some(p),
            _ => None,
        }
    }
    fn open(
        &self,
        rule: Option<(Id, &FollowUpRuleData)>,
        reason: String,
        customer: Option<String>,
        case_ref: Option<String>,
    ) -> NewFollowUp {
        NewFollowUp {
            rule_id: rule.map(|r| r.0),
            customer,
            case_ref,
            touchpoint_id: self.touchpoint_id,
            journey_id: self.journey_id,
            unit_id: self.unit().or(rule.and_then(|r| r.1.unit_id)),
            partner_id: self.partner(),
            reason,
            may_contact: false,
            contact_hours: rule.map_or(24, |r| r.1.contact_hours),
            resolve_hours: rule.map_or(120, |r| r.1.resolve_hours),
        }
    }
}

/// The follow-ups a response opens under the workspace's rules (none, and no query,
/// when the workspace has no active rule).
pub async fn for_response(
    store: &Store,
    ws: Id,
    survey: Id,
    hidden: &Hidden,
    answers: &Answers,
    scores: Scores,
) -> Result<Vec<NewFollowUp>> {
    let rules = store.follow_up_rules_cached(ws).await?;
    if rules.is_empty() {
        return Ok(vec![]);
    }
    let snapshot = store.snapshot_cached(ws).await?;
    let at = Where::of(&snapshot, hidden.touchpoint_id);
    let facts = Facts {
        survey_id: Some(survey),
        touchpoint_id: at.touchpoint_id,
        stage_id: at.stage_id,
        journey_id: at.journey_id,
        unit_id: at.unit(),
        scores,
        answers: Some(answers),
        words: None,
        lang: hidden.locale.as_ref().map_or("fi", |l| l.as_str()),
        needs_follow_up: false,
    };
    Ok(rules
        .iter()
        .filter_map(|(id, rule)| {
            let reason = rule.matches(&facts)?;
            Some(at.open(
                Some((*id, rule)),
                reason,
                hidden.customer_ref.clone(),
                hidden.case_ref.clone(),
            ))
        })
        .collect())
}

/// The follow-up a capture opens: one when it is marked "needs follow-up" or a
/// `words` rule finds its words, with the first matching rule's targets.
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
    let at = Where::of(&snapshot, touchpoint);
    let facts = Facts {
        touchpoint_id: at.touchpoint_id,
        stage_id: at.stage_id,
        journey_id: at.journey_id,
        unit_id: at.unit(),
        words: Some(words),
        lang: "",
        needs_follow_up,
        ..Default::default()
    };
    let matched = rules
        .iter()
        .find_map(|(id, r)| r.matches(&facts).map(|why| ((*id, r), why)));
    Ok(match matched {
        Some((rule, why)) => Some(at.open(Some(rule), why, customer, case_ref)),
        None if needs_follow_up => {
            Some(at.open(None, "needs follow-up".into(), customer, case_ref))
        }
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

/// One follow-up and what was done to it.
pub async fn get(store: &Store, ws: Id, id: Id) -> Result<(FollowUp, Vec<FollowUpEvent>)> {
    Ok((
        store.follow_up(ws, id).await?,
        store.follow_up_events(ws, id).await?,
    ))
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
/// owns it. Assigning names a member of the workspace.
pub async fn act(
    store: &Store,
    ws: Id,
    id: Id,
    (user, role): (Id, Role),
    act: &Act,
) -> Result<FollowUp> {
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
    Ok(store.act_on_follow_up(ws, id, act, ROOT_CAUSES).await?)
}

/// Tells the workspace's webhooks that opted in to `follow-ups` about a step taken:
/// `{"event": "follow_up.<action>", "workspace": slug, "id": …, "status": …,
/// "unit_id": …, "assignee_id": …, "root_cause": …}` (assign, contact, resolve, close,
/// reopen, note), signed like every event. No customer identifier travels in it (read
/// the follow-up with `GET …/follow-ups/{id}`). Sent in the background.
pub fn announce(ctx: &crate::jobs::JobCtx, ws: Id, slug: &str, action: Action, f: &FollowUp) {
    let body = serde_json::json!({
        "event": format!("follow_up.{}", action.as_str()),
        "workspace": slug,
        "id": f.id,
        "status": f.status.as_str(),
        "unit_id": f.unit_id,
        "assignee_id": f.assignee_id,
        "root_cause": f.root_cause,
    })
    .to_string();
    let ctx = ctx.clone();
    tokio::spawn(async move {
        if let Err(e) = crate::jobs::webhooks::deliver_opt_in(&ctx, ws, "follow-ups", body).await {
            tracing::warn!(error = %e, "follow-up event not delivered");
        }
    });
}
