//! The follow-up clock: each pass finds the open follow-ups whose running clock (time
//! to first contact while *new*, time to resolution while *new* or *contacted*) is past
//! its due time, and takes each escalation step it has reached, once
//! ([`kohtaamo_domain::followups::steps_reached`]): the assignee at the due time (or,
//! with nobody assigned, the unit's members), the unit's lead one target period later,
//! the parent unit's lead (or members) two periods later — each told in-app (the step
//! is an event in the follow-up's history and the customer's timeline), by e-mail
//! where e-mail is on and they gave an address, and by the `follow_up.escalated`
//! webhook. A follow-up waiting for the customer is not escalated: its clocks stand
//! still. Several instances may run the pass at once: a step's row is unique, and only
//! the instance that inserted it sends anything.

use kohtaamo_domain::followups::{steps_reached, Clock, Status, Step};
use kohtaamo_domain::model::{Role, UnitData};
use kohtaamo_domain::Id;
use kohtaamo_storage::followups::{Escalation, FollowUp, Overdue};
use kohtaamo_storage::mail::NewMail;
use kohtaamo_storage::{parse_time, time_text};

use super::JobCtx;
use crate::Result;

/// Follow-ups read per query.
const PAGE: i64 = 500;

/// One pass; returns how many escalation steps this instance took.
pub async fn follow_up_clock_once(ctx: &JobCtx) -> Result<usize> {
    let now = ctx.clock.now();
    let now_text = time_text(now);
    let mut taken = 0;
    let mut after = 0;
    loop {
        let page = ctx.store.overdue_follow_ups(&now_text, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.follow_up.id;
        for o in &page {
            for (clock, step) in due_steps(o, now) {
                if escalate(ctx, o, clock, step, &now_text).await? {
                    taken += 1;
                }
            }
        }
        if (page.len() as i64) < PAGE {
            break;
        }
    }
    if taken > 0 {
        tracing::info!(count = taken, "follow-up escalation steps taken");
    }
    Ok(taken)
}

/// The steps of each running clock reached at `now` and not taken yet.
fn due_steps(o: &Overdue, now: chrono::DateTime<chrono::Utc>) -> Vec<(Clock, Step)> {
    let f = &o.follow_up;
    let mut clocks = vec![];
    // Without the customer's consent there is no contact step, so no contact clock.
    if f.status == Status::New && f.may_contact {
        clocks.push((Clock::Contact, &f.contact_due, f.contact_hours));
    }
    if matches!(f.status, Status::New | Status::Contacted) {
        clocks.push((Clock::Resolve, &f.resolve_due, f.resolve_hours));
    }
    let mut out = vec![];
    for (clock, due, hours) in clocks {
        let Some(due) = parse_time(due) else { continue };
        for step in steps_reached(due, hours, now) {
            if !o.done.contains(&(clock, step)) {
                out.push((clock, step));
            }
        }
    }
    out
}

/// Who a step tells: user ids.
async fn recipients(ctx: &JobCtx, ws: Id, f: &FollowUp, step: Step) -> Result<Vec<Id>> {
    let store = &ctx.store;
    let members_of = |unit: Id, leads_only: bool| async move {
        let m = store.unit_members(ws, unit).await?;
        let leads: Vec<Id> = m.iter().filter(|m| m.lead).map(|m| m.user_id).collect();
        Ok::<_, crate::Error>(if leads_only || !leads.is_empty() {
            leads
        } else {
            m.iter().map(|m| m.user_id).collect()
        })
    };
    Ok(match (step, f.unit_id) {
        (Step::Assignee, _) if f.assignee_id.is_some() => f.assignee_id.into_iter().collect(),
        (Step::Assignee, Some(unit)) => store
            .unit_members(ws, unit)
            .await?
            .into_iter()
            .map(|m| m.user_id)
            .collect(),
        (Step::Lead, Some(unit)) => members_of(unit, true).await?,
        (Step::Parent, Some(unit)) => {
            let parent = match store.get::<UnitData>(ws, unit).await {
                Ok(u) => u.data.parent_id,
                Err(kohtaamo_storage::StoreError::NotFound) => None,
                Err(e) => return Err(e.into()),
            };
            match parent {
                Some(p) => members_of(p, false).await?,
                // The top of the tree: the workspace's admins.
                None => admins(ctx, ws).await?,
            }
        }
        // No owning unit: the workspace's admins, once (at the first step).
        (Step::Assignee, None) => admins(ctx, ws).await?,
        (_, None) => vec![],
    })
}

async fn admins(ctx: &JobCtx, ws: Id) -> Result<Vec<Id>> {
    Ok(ctx
        .store
        .members(ws)
        .await?
        .into_iter()
        .filter(|m| m.role == Role::Admin)
        .map(|m| m.user_id)
        .collect())
}

/// Takes one step (once across instances): records it with its e-mails, then tells the
/// webhooks. Returns whether this call took it.
async fn escalate(ctx: &JobCtx, o: &Overdue, clock: Clock, step: Step, now: &str) -> Result<bool> {
    let ws = o.workspace_id;
    let f = &o.follow_up;
    let people = ctx
        .store
        .contacts(&recipients(ctx, ws, f, step).await?)
        .await?;
    let Some((w, i)) = crate::followups::mail_language(ctx, ws).await? else {
        return Ok(false);
    };
    let mut mails = vec![];
    if ctx.mailer.is_some() {
        let due = if clock == Clock::Contact {
            &f.contact_due
        } else {
            &f.resolve_due
        };
        let clock_label = i.t(&format!("follow-up-clock-{}", clock.as_str()));
        let subject = i.args(
            "mail-escalation-subject",
            &[("id", &f.id.to_string()), ("clock", &clock_label)],
        );
        let body = [
            i.args(
                "mail-escalation-due",
                &[
                    ("id", &f.id.to_string()),
                    ("clock", &clock_label),
                    ("due", &i.time(due)),
                ],
            ),
            i.t(&format!("mail-escalation-why-{}", step.as_str())),
            i.s(
                "mail-escalation-open",
                "link",
                &ctx.link(&format!("/w/{}/follow-ups/{}", w.data.slug.as_str(), f.id)),
            ),
        ]
        .join("\n\n");
        for p in &people {
            let Some(to) = &p.email else { continue };
            mails.push(NewMail {
                unsubscribe: None,
                dedupe: format!(
                    "esc:{}:{}:{}:{}",
                    f.id,
                    clock.as_str(),
                    step.number(),
                    p.user_id
                ),
                kind: "follow-up-escalation".into(),
                to: to.clone(),
                subject: subject.clone(),
                body: body.clone(),
            });
        }
    }
    let told = people
        .iter()
        .map(|p| p.username.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let took = ctx
        .store
        .escalate_follow_up(
            ws,
            f.id,
            &Escalation {
                clock,
                step,
                told,
                mails,
                at: now.to_owned(),
            },
        )
        .await?;
    if took {
        let body = serde_json::json!({
            "event": "follow_up.escalated",
            "workspace": w.data.slug.as_str(),
            "id": f.id,
            "status": f.status.as_str(),
            "clock": clock.as_str(),
            "step": step.as_str(),
            "unit_id": f.unit_id,
            "assignee_id": f.assignee_id,
            "told": people.iter().map(|p| p.user_id).collect::<Vec<_>>(),
        })
        .to_string();
        if let Err(e) = super::webhooks::deliver_opt_in(ctx, ws, "follow-ups", body).await {
            tracing::warn!(error = %e, "follow-up escalation not delivered to webhooks");
        }
    }
    Ok(took)
}
