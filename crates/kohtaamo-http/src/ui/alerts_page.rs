//! Score alerts for staff: `/w/{ws}/alerts` lists the alerts raised (newest first) and
//! the rules, with a form to add a rule on any group; group dashboards show and add
//! the rules of their group. Rules go through the same `parse()` and store calls as the
//! API's `/alert-rules`.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use kohtaamo_domain::alerts::{AlertRuleData, AlertRuleInput, Condition, Metric};
use kohtaamo_domain::analytics::{GroupKey, Scope};
use kohtaamo_domain::model::{Parse, UnitData};
use kohtaamo_domain::Id;
use kohtaamo_storage::Record;
use serde::Deserialize;

use super::pages::{all, chrome, Nav};
use super::{html, CsrfForm, PageCtx, PageError};
use crate::extract::Path;
use crate::i18n::I18n;
use crate::AppState;
use kohtaamo_app::analysis::Analysis;
use kohtaamo_app::directory::Names;

/// A rule as listed.
pub struct RuleRow {
    pub id: Id,
    pub group: String,
    pub group_link: String,
    pub what: String,
    pub unit: String,
    pub alerts: i64,
}

/// An alert as listed.
pub struct AlertRow {
    pub period: String,
    pub group: String,
    pub group_link: String,
    pub what: String,
    pub finding: String,
    pub unit: String,
}

fn metric_label(i: &I18n, m: Metric) -> String {
    i.t(&format!("metric-{}", m.as_str()))
}

/// "NPS below 0 · 7 days" / "CSAT drops significantly · 30 days".
fn describe(i: &I18n, d: &AlertRuleData) -> String {
    let m = metric_label(i, d.metric);
    let what = match (d.condition, d.threshold) {
        (Condition::Below, Some(t)) => i.args(
            "alert-below",
            &[("metric", &m), ("threshold", &i.decimals(format!("{t}")))],
        ),
        _ => i.s("alert-drop", "metric", &m),
    };
    format!("{what} · {}", i.n("alert-days", "n", d.period_days))
}

fn group_link(slug: &str, scope: Scope, key: &GroupKey) -> String {
    format!("/w/{slug}/dashboard/{}/{key}", scope.as_str())
}

/// The rules of a workspace (or of one group), with names in `i`'s language.
pub async fn rules_of(
    st: &AppState,
    ws: Id,
    slug: &str,
    i: &I18n,
    an: &Analysis,
    only: Option<(Scope, &GroupKey)>,
) -> Result<Vec<RuleRow>, PageError> {
    let rules = all::<AlertRuleData>(&st.store, ws).await?;
    let counts = st.store.alert_counts(ws).await?;
    Ok(rules
        .into_iter()
        .filter(|r| only.is_none_or(|(s, k)| r.data.scope == s && &r.data.key == k))
        .map(|r| RuleRow {
            id: r.id,
            group: format!(
                "{}: {}",
                i.t(&format!("scope-{}", r.data.scope.as_str())),
                an.name(r.data.scope, &r.data.key, i)
            ),
            group_link: group_link(slug, r.data.scope, &r.data.key),
            what: describe(i, &r.data),
            unit: r
                .data
                .unit_id
                .map(|u| Names::get(&an.names.units, u))
                .unwrap_or_else(|| i.t("alert-owner-unit")),
            alerts: counts.get(&r.id).copied().unwrap_or(0),
        })
        .collect())
}

/// Alerts of a workspace or one unit, newest first, as people read them.
pub async fn alert_rows(
    st: &AppState,
    ws: Id,
    slug: &str,
    i: &I18n,
    an: &Analysis,
    unit: Option<Id>,
) -> Result<Vec<AlertRow>, PageError> {
    let rules: BTreeMap<Id, AlertRuleData> = all::<AlertRuleData>(&st.store, ws)
        .await?
        .into_iter()
        .map(|r| (r.id, r.data))
        .collect();
    Ok(st
        .store
        .alerts(ws, unit, None, 200)
        .await?
        .into_iter()
        .filter_map(|a| {
            let d = rules.get(&a.rule_id)?;
            let value = |v: f64| match d.metric {
                Metric::Ces => format!("{v:.2}"),
                Metric::Nps => format!("{v:+.0}"),
                Metric::Csat => format!("{v:.0} %"),
            };
            let mut finding = format!(
                "{} {} ± {:.1} (n = {})",
                metric_label(i, d.metric),
                value(a.value),
                a.margin,
                a.n
            );
            if let Some(p) = a.previous {
                finding = format!("{finding}; {}", i.s("alert-previous", "value", &value(p)));
            }
            Some(AlertRow {
                period: format!("{} – {}", a.period_from, a.period_to),
                group: format!(
                    "{}: {}",
                    i.t(&format!("scope-{}", d.scope.as_str())),
                    an.name(d.scope, &d.key, i)
                ),
                group_link: group_link(slug, d.scope, &d.key),
                what: describe(i, d),
                finding: i.decimals(finding),
                unit: a
                    .unit_id
                    .map(|u| Names::get(&an.names.units, u))
                    .unwrap_or_default(),
            })
        })
        .collect())
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    slug: String,
    csrf: String,
    can_edit: bool,
    error: Option<String>,
    alerts: Vec<AlertRow>,
    rules: Vec<RuleRow>,
    form: RuleFormView,
    /// The form's group when it is fixed (group dashboards), and where to return.
    fixed: Option<(String, String)>,
    back_here: String,
}

/// The choices of the "new rule" form.
pub struct RuleFormView {
    /// Every group a rule can watch: ("scope:key", "Scope: name").
    pub groups: Vec<(String, String)>,
    pub metrics: Vec<(&'static str, String)>,
    pub conditions: Vec<(&'static str, String)>,
    pub units: Vec<(Id, String)>,
}

impl RuleFormView {
    pub async fn load(st: &AppState, ws: Id, i: &I18n, an: &Analysis) -> Result<Self, PageError> {
        use kohtaamo_domain::model::BuiltinChannel;
        let snap = &an.snapshot;
        let mut keys: Vec<(Scope, GroupKey)> = vec![];
        let ids =
            |scope: Scope, it: &mut dyn Iterator<Item = Id>, keys: &mut Vec<(Scope, GroupKey)>| {
                keys.extend(it.map(|id| (scope, GroupKey::Id(id))));
            };
        ids(
            Scope::Journey,
            &mut snap.journeys.iter().map(|x| x.0),
            &mut keys,
        );
        ids(
            Scope::Stage,
            &mut snap.stages.iter().map(|x| x.0),
            &mut keys,
        );
        ids(
            Scope::Touchpoint,
            &mut snap.stages.iter().flat_map(|x| x.2.iter().map(|t| t.0)),
            &mut keys,
        );
        ids(Scope::Unit, &mut snap.units.iter().map(|x| x.0), &mut keys);
        ids(
            Scope::Partner,
            &mut snap.partners.iter().map(|x| x.0),
            &mut keys,
        );
        ids(
            Scope::Package,
            &mut snap.packages.iter().map(|x| x.0),
            &mut keys,
        );
        ids(
            Scope::Element,
            &mut snap.elements.iter().map(|x| x.0),
            &mut keys,
        );
        ids(
            Scope::Segment,
            &mut snap.segments.iter().map(|x| x.0),
            &mut keys,
        );
        ids(
            Scope::Survey,
            &mut an.survey_names.keys().copied(),
            &mut keys,
        );
        for c in BuiltinChannel::ALL {
            keys.push((Scope::Channel, GroupKey::Text(c.as_str().to_owned())));
        }
        for l in ["fi", "en", "sv"] {
            keys.push((Scope::Language, GroupKey::Text(l.to_owned())));
        }
        let groups = keys
            .into_iter()
            .map(|(scope, key)| {
                (
                    format!("{}:{key}", scope.as_str()),
                    format!(
                        "{}: {}",
                        i.t(&format!("scope-{}", scope.as_str())),
                        an.name(scope, &key, i)
                    ),
                )
            })
            .collect();
        let mut units: Vec<(Id, String)> = all::<UnitData>(&st.store, ws)
            .await?
            .into_iter()
            .map(|u: Record<UnitData>| (u.id, i.text(&u.data.name)))
            .collect();
        units.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(Self {
            groups,
            metrics: Metric::ALL
                .iter()
                .map(|m| (m.as_str(), metric_label(i, *m)))
                .collect(),
            conditions: Condition::ALL
                .iter()
                .map(|c| (c.as_str(), i.t(&format!("alert-condition-{}", c.as_str()))))
                .collect(),
            units,
        })
    }
}

async fn alerts_page(
    st: &AppState,
    ctx: &PageCtx,
    error: Option<String>,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    let i = &ctx.i;
    let slug = w.data.slug.as_str();
    let an = Analysis::load(&st.store, w.id, i).await?;
    let c = chrome(ctx);
    let page = AlertsPage {
        slug: slug.to_owned(),
        csrf: ctx.csrf.clone(),
        can_edit: role.can_edit(),
        error,
        alerts: alert_rows(st, w.id, slug, i, &an, None).await?,
        rules: rules_of(st, w.id, slug, i, &an, None).await?,
        form: RuleFormView::load(st, w.id, i, &an).await?,
        fixed: None,
        back_here: String::new(),
        i: c.i,
        nav: c.nav,
        langs: c.langs,
        here: c.here,
    };
    Ok(html(page.render()))
}

pub async fn alerts(State(st): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    alerts_page(&st, &ctx, None).await
}

#[derive(Deserialize)]
pub struct RuleForm {
    /// Either `group` ("scope:key", from the alerts page) or `scope` and `key`
    /// (a group dashboard's fixed group).
    #[serde(default)]
    group: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    key: String,
    metric: String,
    condition: String,
    #[serde(default)]
    threshold: String,
    #[serde(default)]
    period_days: String,
    #[serde(default)]
    unit_id: String,
    /// Where to go afterwards (a group dashboard); default the alerts page.
    #[serde(default)]
    back: String,
}

/// Creates a rule; bad input shows the alerts page again with every problem named.
pub async fn create_rule(
    State(st): State<AppState>,
    CsrfForm { ctx, form }: CsrfForm<RuleForm>,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    if !role.can_edit() {
        return Err(PageError::Forbidden(ctx.i.clone()));
    }
    let i = &ctx.i;
    let mut e = kohtaamo_domain::FieldErrors::new();
    let threshold = match form.threshold.trim().replace(',', ".") {
        t if t.is_empty() => None,
        t => e.take(
            "threshold",
            t.parse::<f64>()
                .map_err(|_| kohtaamo_domain::Reason::new("whole-number")),
        ),
    };
    let num = |s: &str| s.trim().parse::<i64>().ok();
    let (scope, key) = match form.group.split_once(':') {
        Some((s, k)) => (s.to_owned(), k.to_owned()),
        None => (form.scope.clone(), form.key.clone()),
    };
    let input = AlertRuleInput {
        scope,
        key,
        metric: form.metric.clone(),
        condition: form.condition.clone(),
        threshold,
        period_days: num(&form.period_days),
        unit_id: num(&form.unit_id),
    };
    let result = match input.parse() {
        Ok(d) if e.is_empty() => st.store.create(w.id, &d).await.map(|_| ()),
        Ok(_) => Err(kohtaamo_storage::StoreError::Invalid(e)),
        Err(mut pe) => {
            pe.0.extend(e.0);
            Err(kohtaamo_storage::StoreError::Invalid(pe))
        }
    };
    match result {
        Ok(()) => {
            let back = if form.back.starts_with(&format!("/w/{}/", w.data.slug)) {
                super::safe_next(&form.back)
            } else {
                format!("/w/{}/alerts", w.data.slug)
            };
            Ok(Redirect::to(&back).into_response())
        }
        Err(kohtaamo_storage::StoreError::Invalid(e)) => {
            let msg = super::surveys_page::errors_text(i, &e).join("; ");
            alerts_page(&st, &ctx, Some(msg)).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn delete_rule(
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    CsrfForm { ctx, form: _ }: CsrfForm<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    if !role.can_edit() {
        return Err(PageError::Forbidden(ctx.i.clone()));
    }
    st.store.delete::<AlertRuleData>(w.id, id).await?;
    Ok(Redirect::to(&format!("/w/{}/alerts", w.data.slug)).into_response())
}
