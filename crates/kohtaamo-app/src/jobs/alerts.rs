//! Score alerts: every alert rule is evaluated on its last complete period
//! ([`alert_period`]) from the rollups; a finding notifies the unit the rule names or
//! the unit owning the group, once per rule and period (`ON CONFLICT DO NOTHING
//! RETURNING` decides which instance created it, and only that one delivers it). The
//! follow-ups that `alert` follow-up rules open for it are stored in the alert's
//! transaction ([`crate::followups::for_alert`]).

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use kohtaamo_domain::alerts::AlertRuleData;
use kohtaamo_domain::analytics::{GroupKey, Scope, Tally};
use kohtaamo_domain::insight::Snapshot;
use kohtaamo_domain::model::Owner;
use kohtaamo_domain::Id;
use kohtaamo_storage::alerts::Alert;
use kohtaamo_storage::{Record, Store};

use super::webhooks::deliver;
use super::JobCtx;
use crate::analysis::{Analysis, MIN_SAMPLE};
use crate::i18n::I18n;
use crate::Result;

/// Rule periods are consecutive blocks of `days` days counted from Monday 2000-01-03
/// (so 7-day rules look at Monday–Sunday weeks). Returns the last block that ended
/// before `today` and the block before it: every instance evaluating a rule on the
/// same day looks at the same period, which is the alert's unique key.
pub fn alert_period(
    today: NaiveDate,
    days: i64,
) -> ((NaiveDate, NaiveDate), (NaiveDate, NaiveDate)) {
    let anchor = NaiveDate::from_ymd_opt(2000, 1, 3).unwrap_or_default();
    let days = days.max(1);
    let k = (today - anchor).num_days().div_euclid(days);
    let start = anchor + chrono::Duration::days((k - 1) * days);
    let end = start + chrono::Duration::days(days - 1);
    let prev_start = start - chrono::Duration::days(days);
    (
        (start, end),
        (prev_start, start - chrono::Duration::days(1)),
    )
}

/// The unit an alert on this group goes to when the rule names none: the unit itself,
/// or the unit owning the touchpoint or package element.
fn owning_unit(snapshot: &Snapshot, scope: Scope, key: &GroupKey) -> Option<Id> {
    let GroupKey::Id(id) = key else {
        return None;
    };
    let unit = |o: Option<Owner>| match o {
        Some(Owner::Unit(u)) => Some(u),
        _ => None,
    };
    match scope {
        Scope::Unit => Some(*id),
        Scope::Touchpoint => snapshot
            .stages
            .iter()
            .flat_map(|(_, _, t)| t.iter())
            .find(|(t, _)| t == id)
            .and_then(|(_, t)| unit(t.owner)),
        Scope::Element => snapshot
            .elements
            .iter()
            .find(|(e, _)| e == id)
            .and_then(|(_, e)| unit(e.owner)),
        _ => None,
    }
}

type Sums = HashMap<(Scope, NaiveDate, NaiveDate), BTreeMap<GroupKey, Tally>>;

/// The tally of a rule's group in a period; rules of one scope and period share one
/// pass over the rollups (`sums`).
async fn group_tally(
    an: &Analysis,
    store: &Store,
    ws: Id,
    sums: &mut Sums,
    d: &AlertRuleData,
    (from, to): (NaiveDate, NaiveDate),
) -> Result<Tally> {
    let k = (d.scope, from, to);
    if let std::collections::hash_map::Entry::Vacant(e) = sums.entry(k) {
        e.insert(an.grouped(store, ws, d.scope, from, to).await?);
    }
    Ok(sums
        .get(&k)
        .and_then(|g| g.get(&d.key))
        .copied()
        .unwrap_or_default())
}

/// One pass over every alert rule of every workspace on day `today`; returns the
/// alerts this call created (each delivered to the workspace's webhooks).
pub async fn alert_cycle_once(ctx: &JobCtx) -> Result<Vec<Alert>> {
    let (store, today) = (&ctx.store, ctx.clock.today());
    let rules = store.all_alert_rules().await?;
    let mut created = vec![];
    let mut ws_rules: BTreeMap<Id, Vec<Record<AlertRuleData>>> = BTreeMap::new();
    for (ws, r) in rules {
        ws_rules.entry(ws).or_default().push(r);
    }
    let i = I18n::new("en", "en");
    for (ws, rules) in ws_rules {
        let an = match Analysis::load(store, ws, &i).await {
            Ok(an) => an,
            Err(e) => {
                tracing::error!(workspace = ws, error = %e, "alert rules: loading the model failed");
                continue;
            }
        };
        let fu_rules = store.follow_up_rules_cached(ws).await?;
        let mut sums = Sums::new();
        for rule in rules {
            let d = &rule.data;
            let (now, before) = alert_period(today, d.period_days);
            let t_now = group_tally(&an, store, ws, &mut sums, d, now).await?;
            let t_before = group_tally(&an, store, ws, &mut sums, d, before).await?;
            let Some(finding) = d.evaluate(&t_now, &t_before, MIN_SAMPLE) else {
                continue;
            };
            let unit = d
                .unit_id
                .or_else(|| owning_unit(&an.snapshot, d.scope, &d.key));
            let reason = kohtaamo_domain::followups::alert_reason(d.metric.as_str(), &finding, now);
            let opens = crate::followups::for_alert(&an.snapshot, &fu_rules, d, unit, &reason);
            if let Some(a) = store
                .record_alert(ws, rule.id, unit, now, &finding, &opens)
                .await?
            {
                if !opens.is_empty() {
                    let rules = opens.iter().map(|f| f.rule_id).collect();
                    crate::followups::announce_opened(
                        ctx,
                        ws,
                        crate::followups::OpenedBy::Alert(a.id, rules),
                    )
                    .await;
                }
                let body = serde_json::json!({
                    "event": "score_alert",
                    "alert": a,
                    "rule": rule,
                    "group": an.name(d.scope, &d.key, &i),
                })
                .to_string();
                deliver(ctx, ws, body).await?;
                created.push(a);
            }
        }
    }
    if !created.is_empty() {
        tracing::info!(count = created.len(), "score alerts raised");
    }
    Ok(created)
}
