//! `/api/v1/workspaces/{ws}/insight`: organisation insight — coverage of "who is my
//! customer", chains to the end customer, hand-offs, the five interfaces, processes
//! and the journey, service-package checks (definitions in docs/metrics.md).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::routing::get;
use std::collections::HashMap;

use kohtaamo_domain::insight::{Insight, Party, Snapshot};
use kohtaamo_domain::Id;
use serde::Serialize;
use serde_json::json;

use crate::api::{Api, Op};
use crate::auth::Ws;
use crate::error::ApiResult;
use crate::i18n::I18n;
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

/// Names of everything the findings mention, in one language.
pub struct Names {
    pub units: HashMap<Id, String>,
    pub partners: HashMap<Id, String>,
    pub segments: HashMap<Id, String>,
    pub touchpoints: HashMap<Id, String>,
    pub steps: HashMap<Id, String>,
    pub elements: HashMap<Id, String>,
    pub packages: HashMap<Id, String>,
    pub journeys: HashMap<Id, String>,
}

impl Names {
    pub fn new(s: &Snapshot, i: &I18n) -> Self {
        Self {
            units: s
                .units
                .iter()
                .map(|(id, d)| (*id, i.text(&d.name)))
                .collect(),
            partners: s
                .partners
                .iter()
                .map(|(id, d)| (*id, i.text(&d.name)))
                .collect(),
            segments: s
                .segments
                .iter()
                .map(|(id, d)| (*id, i.text(&d.name)))
                .collect(),
            touchpoints: s
                .stages
                .iter()
                .flat_map(|(_, _, t)| t.iter().map(|(id, d)| (*id, i.text(&d.name))))
                .collect(),
            steps: s
                .steps
                .iter()
                .map(|(id, d)| (*id, i.text(&d.name)))
                .collect(),
            elements: s
                .elements
                .iter()
                .map(|(id, d)| (*id, i.text(&d.name)))
                .collect(),
            packages: s
                .packages
                .iter()
                .map(|(id, d)| (*id, i.text(&d.name)))
                .collect(),
            journeys: s
                .journeys
                .iter()
                .map(|(id, d)| (*id, i.text(&d.name)))
                .collect(),
        }
    }
    pub fn get(m: &HashMap<Id, String>, id: Id) -> String {
        m.get(&id).cloned().unwrap_or_else(|| format!("#{id}"))
    }
    pub fn party(&self, p: Party) -> String {
        match p {
            Party::Unit(u) => Self::get(&self.units, u),
            Party::Partner(p) => Self::get(&self.partners, p),
        }
    }
    pub fn list(m: &HashMap<Id, String>, ids: &[Id]) -> String {
        ids.iter()
            .map(|id| Self::get(m, *id))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
