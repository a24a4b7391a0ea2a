//! Retention: each workspace's periods (its own, or the defaults of
//! `kohtaamo_domain::privacy::Retained::default_rule`), a preview of what the next
//! run removes, and the run itself — the scheduler's job, safe on several instances at
//! once (each batch re-checks its rows; deleting twice deletes nothing).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};
use kohtaamo_domain::model::Role;
use kohtaamo_domain::privacy::{Action, Retained, RetentionRule};
use kohtaamo_domain::survey::{QuestionKind, SurveyData};
use kohtaamo_domain::{FieldErrors, Id};
use kohtaamo_storage::privacy::Actor;
use kohtaamo_storage::{ListQuery, Store};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::jobs::JobCtx;
use crate::{Error, Result};

/// How long one batch may hold the write gate (and so SQLite's write lock): feedback
/// queued behind a batch waits at most about this long (docs/BENCHMARKS.md).
pub const BATCH_BUDGET: Duration = Duration::from_millis(15);
/// The most rows changed in one write transaction.
pub const MAX_BATCH: i64 = 1_000;
/// The fewest (a batch of one row that takes longer than the budget is still done).
pub const MIN_BATCH: i64 = 1;
/// Candidates read at once (outside the write lock), then changed batch by batch.
pub const CANDIDATES: i64 = 5_000;
/// The first batch's size, before any has been timed.
pub const FIRST_BATCH: i64 = 50;

/// Sizes retention's batches by time: each batch's time holding the write gate sets
/// the next one's size so that it holds the gate about [`BATCH_BUDGET`] (shrinking at
/// once, growing at most by half), and the run rests as long as a batch held the gate
/// before asking again, so retention takes at most about half of the writer's time.
/// In the rest, SQLite's WAL is checkpointed without blocking anyone
/// ([`Store::checkpoint_passive`]), so no commit pays for the automatic checkpoint.
#[derive(Debug, Clone)]
pub struct Pace {
    size: i64,
    /// Batches done.
    pub batches: u64,
    /// Each batch's time holding the gate, in microseconds (for the benchmark; kept
    /// only when asked for with [`Pace::recording`]).
    pub holds: Option<Vec<u32>>,
    /// The longest hold.
    pub longest: Duration,
}

impl Default for Pace {
    fn default() -> Self {
        Pace {
            size: FIRST_BATCH,
            batches: 0,
            holds: None,
            longest: Duration::ZERO,
        }
    }
}

impl Pace {
    /// A pace that keeps every batch's hold.
    pub fn recording() -> Self {
        Pace {
            holds: Some(vec![]),
            ..Pace::default()
        }
    }

    /// Rows for the next batch.
    pub fn size(&self) -> i64 {
        self.size
    }

    /// Notes a batch of `rows` that held the gate `held`; returns how long to rest.
    pub fn note(&mut self, rows: i64, held: Duration) -> Duration {
        self.batches += 1;
        self.longest = self.longest.max(held);
        if let Some(h) = self.holds.as_mut() {
            h.push(u32::try_from(held.as_micros()).unwrap_or(u32::MAX));
        }
        let per_row = held.as_secs_f64() / rows.max(1) as f64;
        let fits = if per_row > 0.0 {
            (BATCH_BUDGET.as_secs_f64() / per_row) as i64
        } else {
            MAX_BATCH
        };
        // Growing by half at most: one batch's rows may cost several times another's
        // (pages read from disk, not from the cache), so a big step could overshoot.
        let grown = self.size.saturating_add(self.size / 2).max(self.size + 1);
        self.size = fits.min(grown).clamp(MIN_BATCH, MAX_BATCH);
        held
    }
}

/// One kind's rule as a workspace has it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RetentionView {
    pub kind: Retained,
    /// Days after which the rule acts; null: kept.
    pub days: Option<i64>,
    pub action: Action,
    /// Whether this is the default (the workspace has not set its own).
    pub default: bool,
    /// What this kind allows.
    pub actions: Vec<Action>,
}

/// A rule to set.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionInput {
    /// responses, free_text, encounters, captures, follow_ups, cases, mail or audit.
    pub kind: String,
    /// 1–36,500 days; null or absent: kept.
    #[serde(default)]
    pub days: Option<i64>,
    /// delete or anonymise (anonymise: responses and encounters; free_text only).
    pub action: String,
}

/// What the next run would change under one rule.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RetentionPreview {
    pub kind: Retained,
    pub days: Option<i64>,
    pub action: Action,
    /// Rows older than this are acted on (null: the kind is kept).
    pub cutoff: Option<String>,
    pub rows: i64,
}

/// The workspace's rule for every kind.
pub async fn rules(store: &Store, ws: Id) -> Result<Vec<RetentionView>> {
    let own: HashMap<Retained, RetentionRule> = store
        .retention_settings(ws)
        .await?
        .into_iter()
        .map(|r| (r.kind, r))
        .collect();
    Ok(Retained::ALL
        .iter()
        .map(|k| {
            let (rule, default) = match own.get(k) {
                Some(r) => (*r, false),
                None => (k.default_rule(), true),
            };
            RetentionView {
                kind: *k,
                days: rule.days,
                action: rule.action,
                default,
                actions: k.actions().to_vec(),
            }
        })
        .collect())
}

/// Sets some of the workspace's rules (privacy officer or admin): every one is
/// checked first (`[i].field`), nothing is stored if one is wrong; audited.
pub async fn set_rules(
    store: &Store,
    ws: Id,
    (actor, role): (&Actor, Role),
    inputs: &[RetentionInput],
) -> Result<Vec<RetentionView>> {
    if !role.can_handle_privacy() {
        return Err(Error::Forbidden(
            "only a privacy officer or an admin may set retention".into(),
        ));
    }
    let mut e = FieldErrors::new();
    let mut parsed = vec![];
    for (i, r) in inputs.iter().enumerate() {
        match RetentionRule::parse(&r.kind, r.days, &r.action) {
            Ok(rule) => parsed.push(rule),
            Err(fe) => e.nest(&format!("[{i}]"), fe),
        }
    }
    if !e.is_empty() {
        return Err(Error::Invalid(e));
    }
    for rule in &parsed {
        store.set_retention(ws, rule).await?;
        let days = rule.days.map_or("kept".to_owned(), |d| format!("{d} days"));
        store
            .audit(
                ws,
                actor,
                "retention.set",
                rule.kind.as_str(),
                &format!("{} after {days}", rule.action.as_str()),
            )
            .await?;
    }
    rules(store, ws).await
}

fn cutoff(days: i64, now: DateTime<Utc>) -> String {
    kohtaamo_storage::time_text(now - chrono::Duration::days(days))
}

fn active(views: Vec<RetentionView>) -> impl Iterator<Item = RetentionRule> {
    views.into_iter().map(|v| RetentionRule {
        kind: v.kind,
        days: v.days,
        action: v.action,
    })
}

/// What the next run removes, kind by kind (privacy officer or admin).
pub async fn preview(
    store: &Store,
    ws: Id,
    role: Role,
    now: DateTime<Utc>,
) -> Result<Vec<RetentionPreview>> {
    if !role.can_handle_privacy() {
        return Err(Error::Forbidden(
            "only a privacy officer or an admin may see retention".into(),
        ));
    }
    let mut out = vec![];
    for rule in active(rules(store, ws).await?) {
        let (cut, rows) = match rule.days {
            Some(d) => {
                let c = cutoff(d, now);
                let n = store.retention_count(ws, &rule, &c).await?;
                (Some(c), n)
            }
            None => (None, 0),
        };
        out.push(RetentionPreview {
            kind: rule.kind,
            days: rule.days,
            action: rule.action,
            cutoff: cut,
            rows,
        });
    }
    Ok(out)
}

/// The free-text answers of each of the workspace's surveys (open and contact
/// questions), which anonymising removes.
async fn text_keys(store: &Store, ws: Id) -> Result<HashMap<Id, Vec<String>>> {
    Ok(store
        .list::<SurveyData>(ws, &ListQuery::all())
        .await?
        .items
        .into_iter()
        .map(|s| {
            let keys = s
                .data
                .questions
                .iter()
                .filter(|q| matches!(q.kind, QuestionKind::Text | QuestionKind::Contact))
                .map(|q| q.key.as_str().to_owned())
                .collect();
            (s.id, keys)
        })
        .collect())
}

/// Applies every rule of the workspace now, a batch per write transaction; returns
/// rows changed per kind. Audited as `retention.run` when anything changed; on SQLite
/// the WAL is then checkpointed so removed bytes leave the files.
pub async fn run(store: &Store, ws: Id, now: DateTime<Utc>) -> Result<BTreeMap<Retained, i64>> {
    let keys = text_keys(store, ws).await?;
    let mut out = BTreeMap::new();
    let mut pace = Pace::default();
    for rule in active(rules(store, ws).await?) {
        let Some(days) = rule.days else { continue };
        let n = run_rule(store, ws, &rule, &cutoff(days, now), &keys, &mut pace).await?;
        if n > 0 {
            out.insert(rule.kind, n);
        }
    }
    if !out.is_empty() {
        let detail = out
            .iter()
            .map(|(k, n)| format!("{}: {n}", k.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        store
            .audit(
                ws,
                &Actor("retention".into()),
                "retention.run",
                "workspace",
                &detail,
            )
            .await?;
        store.forget_freed_pages().await;
    }
    Ok(out)
}

/// Applies one rule to the rows past `cut`, batch by batch at `pace`; returns rows
/// changed. Candidates are read outside the write lock, in id order.
pub async fn run_rule(
    store: &Store,
    ws: Id,
    rule: &RetentionRule,
    cut: &str,
    keys: &HashMap<Id, Vec<String>>,
    pace: &mut Pace,
) -> Result<i64> {
    let mut after = 0;
    let mut n = 0;
    loop {
        let ids = store
            .retention_candidates(ws, rule, cut, after, CANDIDATES)
            .await?;
        let Some(last) = ids.last().copied() else {
            break;
        };
        let mut rest = &ids[..];
        while !rest.is_empty() {
            let (batch, more) = rest.split_at((pace.size() as usize).min(rest.len()));
            let (changed, held) = store.retention_apply(ws, rule, cut, batch, keys).await?;
            n += changed;
            let pause = pace.note(batch.len() as i64, held);
            let resting = std::time::Instant::now();
            store.checkpoint_passive().await;
            tokio::time::sleep(pause.saturating_sub(resting.elapsed())).await;
            rest = more;
        }
        after = last;
    }
    Ok(n)
}

/// The scheduler's pass: every workspace's rules; rows changed in all.
pub async fn retention_once(ctx: &JobCtx) -> Result<usize> {
    let now = ctx.clock.now();
    let mut total = 0;
    for ws in ctx.store.workspace_ids().await? {
        total += run(&ctx.store, ws, now).await?.values().sum::<i64>();
    }
    Ok(total as usize)
}
