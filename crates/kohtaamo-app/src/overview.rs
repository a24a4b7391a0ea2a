//! The leaders' overview of a workspace (its home page and `GET …/overview`): how
//! customers find the organisation (the experience index of the last 90 days beside
//! the 90 before, and by month over a year), the weakest encounter of each journey with
//! its owner, the touchpoints whose index moved significantly, recent score alerts, and
//! how well the organisation knows its customers. Every figure comes from the use cases
//! the detailed pages use ([`crate::analysis`], [`kohtaamo_domain::insight`]), so the
//! overview and the page behind each figure agree.

use chrono::NaiveDate;
use kohtaamo_domain::analytics::{self, GroupKey, Scope, Shown};
use kohtaamo_domain::Id;
use kohtaamo_storage::Store;
use serde::Serialize;
use utoipa::ToSchema;

use crate::analysis::{self, Analysis, Grain, WeakestEncounter, Week, MIN_SAMPLE};
use crate::i18n::I18n;
use crate::Result;

/// Days in the overview's period (and in the one before it).
pub const PERIOD_DAYS: i64 = 90;

/// A touchpoint whose index moved significantly since the previous period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Moved {
    pub touchpoint_id: Id,
    pub name: String,
    pub index: f64,
    pub previous_index: f64,
    /// true: better than before.
    pub up: bool,
}

/// How well the organisation knows its customers (docs/metrics.md, "Who knows its
/// customers").
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Knowing {
    pub units: usize,
    /// Units with a chain of who-is-my-customer relations to an end customer.
    pub units_reaching_external: usize,
    /// Of all units, 0–1.
    pub share_reaching_external: f64,
    /// Who-is-my-customer answers whose review is overdue.
    pub reviews_overdue: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Overview {
    pub from: String,
    pub to: String,
    pub previous_from: String,
    pub previous_to: String,
    /// Complete, counted responses in the period.
    pub responses: i64,
    /// The experience index of every counted response in the period.
    pub index: Shown,
    pub index_metric: Option<kohtaamo_domain::alerts::Metric>,
    pub previous_index: Shown,
    /// The index moved significantly (the previous period's index is on the same
    /// metric as this one's).
    pub index_changed: bool,
    /// By calendar month over the last twelve months, oldest first.
    pub trend: Vec<Week>,
    pub weakest: Vec<WeakestEncounter>,
    /// Touchpoints whose index moved significantly, the largest moves first.
    pub moved: Vec<Moved>,
    /// Score alerts raised for periods ending in the last 30 days.
    pub recent_alerts: usize,
    pub knowing: Knowing,
}

impl Overview {
    pub async fn load(store: &Store, ws: Id, today: NaiveDate, i: &I18n) -> Result<Self> {
        let to = today;
        let from = to - chrono::Duration::days(PERIOD_DAYS - 1);
        let an = Analysis::load(store, ws, i).await?;
        let year_from = {
            use chrono::Datelike;
            let back = to - chrono::Duration::days(334);
            back.with_day(1).unwrap_or(back)
        };
        let (table, trend, alerts) = tokio::try_join!(
            an.table(store, ws, Scope::Touchpoint, from, to, i),
            analysis::trend(store, ws, year_from, to, Grain::Month, None),
            async { Ok(store.alerts(ws, None, None, 500).await?) },
        )?;
        let prev_to = from - chrono::Duration::days(1);
        let prev_from = prev_to - chrono::Duration::days(PERIOD_DAYS - 1);
        let ((all, now_t), (before_t, _)) = tokio::try_join!(
            analysis::period_tallies(store, ws, from, to),
            analysis::period_tallies(store, ws, prev_from, prev_to),
        )?;
        let x = analytics::index(&all, MIN_SAMPLE);
        let xb = x.and_then(|x| analytics::index_by(&before_t, x.metric, MIN_SAMPLE));
        let weakest = analysis::weakest_encounters_of(&an.snapshot, &an.names, &now_t);
        let mut moved: Vec<Moved> = table
            .rows
            .iter()
            .filter(|r| r.index_changed)
            .filter_map(|r| match (&r.key, r.index, r.previous_index) {
                (GroupKey::Id(id), Shown::Score(a), Shown::Score(b)) => Some(Moved {
                    touchpoint_id: *id,
                    name: r.name.clone(),
                    index: a.value,
                    previous_index: b.value,
                    up: a.value > b.value,
                }),
                _ => None,
            })
            .collect();
        moved.sort_by(|a, b| {
            (b.index - b.previous_index)
                .abs()
                .total_cmp(&(a.index - a.previous_index).abs())
        });
        let month_ago = (to - chrono::Duration::days(30)).to_string();
        let recent_alerts = alerts.iter().filter(|a| a.period_to >= month_ago).count();
        let c = an.snapshot.coverage(today);
        Ok(Overview {
            from: from.to_string(),
            to: to.to_string(),
            previous_from: prev_from.to_string(),
            previous_to: prev_to.to_string(),
            responses: all.responses,
            index: analytics::index_shown(&all, MIN_SAMPLE),
            index_metric: x.map(|x| x.metric),
            previous_index: match x {
                Some(x) => analytics::index_by_shown(&before_t, x.metric, MIN_SAMPLE),
                None => analytics::index_shown(&before_t, MIN_SAMPLE),
            },
            index_changed: matches!((x, xb), (Some(a), Some(b)) if a.score.differs_from(&b.score)),
            trend,
            weakest,
            moved,
            recent_alerts,
            knowing: Knowing {
                units: an.snapshot.units.len(),
                units_reaching_external: c.units_reaching_external.len(),
                share_reaching_external: c.share_reaching_external,
                reviews_overdue: c.stale_relations.len(),
            },
        })
    }
}
