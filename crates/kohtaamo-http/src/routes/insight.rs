//! `/api/v1/workspaces/{ws}/insight`: organisation insight — coverage of "who is my
//! customer", chains to the end customer, hand-offs, the five interfaces, processes
//! and the journey, service-package checks (definitions in docs/metrics.md).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::routing::get;
use kohtaamo_domain::insight::{Insight, Snapshot};
use kohtaamo_domain::Id;
use serde::Serialize;
use serde_json::json;

use crate::api::{Api, Op};
use crate::auth::Ws;
use crate::error::ApiResult;
use crate::AppState;

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

pub fn routes(api: Api) -> Api {
    api.route(
        "/api/v1/workspaces/{ws}/insight",
        get(insight),
        vec![Op::new("get", "insight", "Organisation insight: coverage, chains, hand-offs, interfaces, process and package checks")
            .ok(200, Some(json!({"type": "object"})))],
    )
}

async fn insight(ws: Ws, State(st): State<AppState>) -> ApiResult<axum::Json<InsightReport>> {
    let snapshot = st.store.snapshot(ws.id).await?;
    let insight = snapshot.insight(kohtaamo_storage::today());
    Ok(axum::Json(InsightReport {
        insight,
        slugs: slugs(&snapshot),
    }))
}
