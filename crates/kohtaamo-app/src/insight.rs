//! Organisation insight as served: the findings over a workspace's model snapshot on a
//! given day (who knows its customers, chains to the end customer, hand-offs, the five
//! interfaces, processes, package checks; definitions in docs/metrics.md), with the slug
//! of every id they mention. The JSON API, the insight page and the CLI report read it
//! from here.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use kohtaamo_domain::insight::{Insight, Snapshot};
use kohtaamo_domain::Id;
use kohtaamo_storage::Store;
use serde::Serialize;

use crate::Result;

/// The findings, with the slug of every id they mention.
#[derive(Serialize)]
pub struct InsightReport {
    #[serde(flatten)]
    pub insight: Insight,
    pub slugs: BTreeMap<&'static str, BTreeMap<Id, String>>,
}

pub fn slugs(s: &Snapshot) -> BTreeMap<&'static str, BTreeMap<Id, String>> {
    let mut m = BTreeMap::new();
    m.insert(
        "units",
        s.units
            .iter()
            .map(|(id, d)| (*id, d.slug.to_string()))
            .collect(),
    );
    m.insert(
        "people",
        s.people
            .iter()
            .map(|(id, d)| (*id, d.slug.to_string()))
            .collect(),
    );
    m.insert(
        "partners",
        s.partners
            .iter()
            .map(|(id, d)| (*id, d.slug.to_string()))
            .collect(),
    );
    m.insert(
        "segments",
        s.segments
            .iter()
            .map(|(id, d)| (*id, d.slug.to_string()))
            .collect(),
    );
    m.insert(
        "elements",
        s.elements
            .iter()
            .map(|(id, d)| (*id, d.slug.to_string()))
            .collect(),
    );
    m.insert(
        "packages",
        s.packages
            .iter()
            .map(|(id, d)| (*id, d.slug.to_string()))
            .collect(),
    );
    m.insert(
        "journeys",
        s.journeys
            .iter()
            .map(|(id, d)| (*id, d.slug.to_string()))
            .collect(),
    );
    m.insert(
        "touchpoints",
        s.stages
            .iter()
            .flat_map(|(_, _, t)| t.iter().map(|(id, d)| (*id, d.slug.to_string())))
            .collect(),
    );
    m.insert(
        "process_steps",
        s.steps
            .iter()
            .map(|(id, d)| (*id, d.slug.to_string()))
            .collect(),
    );
    m
}

impl InsightReport {
    /// The findings of `snapshot` as of `today`.
    pub fn new(snapshot: &Snapshot, today: NaiveDate) -> Self {
        Self {
            insight: snapshot.insight(today),
            slugs: slugs(snapshot),
        }
    }
}

/// The model of workspace `ws` and its findings as of `today`.
pub async fn load(store: &Store, ws: Id, today: NaiveDate) -> Result<(Snapshot, InsightReport)> {
    let snapshot = store.snapshot(ws).await?;
    let report = InsightReport::new(&snapshot, today);
    Ok((snapshot, report))
}
