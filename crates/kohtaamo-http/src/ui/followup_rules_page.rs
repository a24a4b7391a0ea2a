//! Follow-up rules for staff (`/w/{ws}/follow-up-rules`): the rules with what each
//! opens, where, for which unit and how soon; editors add one, switch one off or on,
//! and delete. Rules go through the same `parse()` and store calls as the API's
//! `/follow-up-rules`.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kohtaamo_app::directory::Names;
use kohtaamo_domain::followups::{FollowUpRuleData, FollowUpRuleInput, RuleScope, Trigger};
use kohtaamo_domain::model::Parse;
use kohtaamo_domain::Id;
use serde::Deserialize;

use super::pages::{all, chrome, Nav};
use super::{html, CsrfForm, PageCtx, PageError};
use crate::extract::Path;
use crate::i18n::I18n;
use crate::AppState;

struct RuleRow {
    id: Id,
    name: String,
    when: String,
    scope: String,
    unit: String,
    targets: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "follow_up_rules.html")]
struct RulesPage {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    slug: String,
    csrf: String,
    editor: bool,
    rows: Vec<RuleRow>,
    triggers: Vec<(&'static str, String)>,
    /// ("scope:id", "Scope: name"), the whole workspace first.
    scopes: Vec<(String, String)>,
    units: Vec<(Id, String)>,
    error: String,
    f: RuleForm,
    /// Applying a rule to past answers: the rules that can be, the form as sent, and
    /// what the preview found or the application opened.
    past_rules: Vec<(Id, String)>,
    p: PastForm,
    past_result: String,
    past_error: String,
}

#[derive(Deserialize, Default, Clone)]
pub struct PastForm {
    #[serde(default)]
    rule: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    /// "preview" or "apply".
    #[serde(default)]
    go: String,
}

#[derive(Deserialize, Default)]
pub struct RuleForm {
    /// The rule being changed; empty for a new one.
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    trigger: String,
    #[serde(default)]
    threshold: String,
    #[serde(default)]
    question: String,
    #[serde(default)]
    terms: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    unit_id: String,
    #[serde(default)]
    contact_hours: String,
    #[serde(default)]
    resolve_hours: String,
}

/// "NPS 0–6" / "CES 5–7" / "why: late, rude" / "words: refund" / "a capture marked…".
fn describe(i: &I18n, d: &FollowUpRuleData) -> String {
    let t = d.threshold.unwrap_or_default();
    match d.trigger {
        Trigger::Nps => i.s("fu-rule-nps", "n", &t.to_string()),
        Trigger::Csat => i.s("fu-rule-csat", "n", &t.to_string()),
        Trigger::Ces => i.s("fu-rule-ces", "n", &t.to_string()),
        Trigger::Option => i.args(
            "fu-rule-option",
            &[
                ("question", d.question.as_deref().unwrap_or_default()),
                ("options", &d.terms.join(", ")),
            ],
        ),
        Trigger::Words => i.s("fu-rule-words", "words", &d.terms.join(", ")),
        Trigger::Capture => i.t("fu-rule-capture"),
        Trigger::Alert => i.t("fu-rule-alert"),
    }
}

async fn render(
    st: &AppState,
    ctx: &PageCtx,
    error: String,
    f: RuleForm,
    past: Past,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    let i = &ctx.i;
    let snapshot = st.store.snapshot_cached(w.id).await?;
    let names = Names::new(&snapshot, i);
    let surveys: BTreeMap<Id, String> = all::<kohtaamo_domain::survey::SurveyData>(&st.store, w.id)
        .await?
        .into_iter()
        .map(|s| (s.id, i.text(&s.data.name)))
        .collect();
    let label = |scope: RuleScope, id: Option<Id>| -> String {
        let name = match (scope, id) {
            (RuleScope::Workspace, _) | (_, None) => return i.t("fu-scope-workspace"),
            (RuleScope::Survey, Some(id)) => surveys.get(&id).cloned().unwrap_or_default(),
            (RuleScope::Touchpoint, Some(id)) => Names::get(&names.touchpoints, id),
            (RuleScope::Stage, Some(id)) => snapshot
                .stages
                .iter()
                .find(|s| s.0 == id)
                .map(|s| i.text(&s.1.name))
                .unwrap_or_default(),
            (RuleScope::Journey, Some(id)) => Names::get(&names.journeys, id),
            (RuleScope::Unit, Some(id)) => Names::get(&names.units, id),
            (RuleScope::Package, Some(id)) => snapshot
                .packages
                .iter()
                .find(|p| p.0 == id)
                .map(|p| i.text(&p.1.name))
                .unwrap_or_default(),
        };
        format!("{}: {name}", i.t(&format!("scope-{}", scope.as_str())))
    };
    let rules = all::<FollowUpRuleData>(&st.store, w.id).await?;
    let rows = rules
        .iter()
        .map(|r| RuleRow {
            id: r.id,
            name: r.data.name.clone(),
            when: describe(i, &r.data),
            scope: label(r.data.scope, r.data.scope_id),
            unit: r
                .data
                .unit_id
                .map(|u| Names::get(&names.units, u))
                .unwrap_or_else(|| i.t("fu-rule-owner-unit")),
            targets: i.args(
                "fu-rule-targets",
                &[
                    ("contact", &r.data.contact_hours.to_string()),
                    ("resolve", &r.data.resolve_hours.to_string()),
                ],
            ),
            active: r.data.active,
        })
        .collect();
    let mut scopes = vec![("workspace:".to_owned(), i.t("fu-scope-workspace"))];
    let mut add = |scope: RuleScope, id: Id| {
        scopes.push((format!("{}:{id}", scope.as_str()), label(scope, Some(id))));
    };
    for (id, _) in &snapshot.journeys {
        add(RuleScope::Journey, *id);
    }
    for (id, _, tps) in &snapshot.stages {
        add(RuleScope::Stage, *id);
        for (tp, _) in tps {
            add(RuleScope::Touchpoint, *tp);
        }
    }
    for (id, _) in &snapshot.packages {
        add(RuleScope::Package, *id);
    }
    for (id, _) in &snapshot.units {
        add(RuleScope::Unit, *id);
    }
    for id in surveys.keys() {
        add(RuleScope::Survey, *id);
    }
    let mut units: Vec<(Id, String)> = names.units.iter().map(|(k, v)| (*k, v.clone())).collect();
    units.sort_by(|a, b| a.1.cmp(&b.1));
    let ch = chrome(ctx);
    let page = RulesPage {
        slug: w.data.slug.to_string(),
        csrf: ctx.csrf.clone(),
        editor: role.can_edit(),
        rows,
        triggers: Trigger::ALL
            .iter()
            .map(|t| (t.as_str(), i.t(&format!("fu-trigger-{}", t.as_str()))))
            .collect(),
        scopes,
        units,
        error,
        f,
        past_rules: rules
            .iter()
            .filter(|r| r.data.trigger != Trigger::Capture)
            .map(|r| (r.id, r.data.name.clone()))
            .collect(),
        p: past.form,
        past_result: past.result,
        past_error: past.error,
        i: ch.i,
        nav: ch.nav,
        langs: ch.langs,
        here: ch.here,
    };
    Ok(html(page.render()))
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    /// A rule to change: the form below is filled with it.
    #[serde(default)]
    edit: Option<Id>,
}

/// A stored rule as the form shows it.
fn form_of(id: Id, d: &FollowUpRuleData) -> RuleForm {
    RuleForm {
        id: id.to_string(),
        name: d.name.clone(),
        trigger: d.trigger.as_str().to_owned(),
        threshold: d.threshold.map(|t| t.to_string()).unwrap_or_default(),
        question: d.question.clone().unwrap_or_default(),
        terms: d.terms.join(", "),
        scope: format!(
            "{}:{}",
            d.scope.as_str(),
            d.scope_id.map(|i| i.to_string()).unwrap_or_default()
        ),
        unit_id: d.unit_id.map(|u| u.to_string()).unwrap_or_default(),
        contact_hours: d.contact_hours.to_string(),
        resolve_hours: d.resolve_hours.to_string(),
    }
}

/// `GET /w/{ws}/follow-up-rules` (`?edit={id}`: the form holds that rule).
pub async fn list(
    State(st): State<AppState>,
    ctx: PageCtx,
    crate::extract::Query(q): crate::extract::Query<ListQuery>,
) -> Result<Response, PageError> {
    let (w, _) = ctx.ws()?;
    let form = match q.edit {
        Some(id) => form_of(id, &st.store.get::<FollowUpRuleData>(w.id, id).await?.data),
        None => RuleForm::default(),
    };
    render(&st, &ctx, String::new(), form, Past::default()).await
}

/// The past-period form as sent, with its outcome.
#[derive(Default)]
struct Past {
    form: PastForm,
    result: String,
    error: String,
}

/// `POST /w/{ws}/follow-up-rules/apply` (editors): a rule applied to the answers of
/// past days — `go=preview` counts, `go=apply` opens (the same use case as the API).
pub async fn apply(
    State(st): State<AppState>,
    CsrfForm { ctx, form }: CsrfForm<PastForm>,
) -> Result<Response, PageError> {
    let w = ctx.edit_ws()?;
    let i = &ctx.i;
    let mut e = kohtaamo_domain::FieldErrors::new();
    let rule = e.take(
        "rule",
        form.rule
            .trim()
            .parse::<Id>()
            .map_err(|_| kohtaamo_domain::Reason::new("choose-one")),
    );
    let from = e.take("from", kohtaamo_domain::rules::parse_day(form.from.trim()));
    let to = e.take("to", kohtaamo_domain::rules::parse_day(form.to.trim()));
    let dry_run = form.go != "apply";
    let outcome = match (rule, from, to) {
        (Some(rule), Some(from), Some(to)) if e.is_empty() => {
            kohtaamo_app::followups::apply_rule(
                &st.store,
                w.id,
                rule,
                (from, to),
                dry_run,
                st.clock.now(),
            )
            .await
        }
        _ => Err(kohtaamo_app::Error::Invalid(e)),
    };
    let (past, status) = match outcome {
        Ok(a) if dry_run => (
            Past {
                result: i.args(
                    "fu-past-preview",
                    &[
                        ("matching", &a.matching.to_string()),
                        ("already", &a.already.to_string()),
                        ("would", &(a.matching - a.already).to_string()),
                    ],
                ),
                form,
                error: String::new(),
            },
            StatusCode::OK,
        ),
        Ok(a) => (
            Past {
                result: i.n("fu-past-opened", "n", a.opened),
                form,
                error: String::new(),
            },
            StatusCode::OK,
        ),
        Err(kohtaamo_app::Error::Invalid(e)) => (
            Past {
                error: i.reasons(&e),
                form,
                result: String::new(),
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => return Err(PageError::app(e, i)),
    };
    let page = render(&st, &ctx, String::new(), RuleForm::default(), past).await?;
    Ok((status, page).into_response())
}

/// `POST /w/{ws}/follow-up-rules`: adds a rule (editors); bad input shows the page
/// again with every field's reason and what was typed.
pub async fn add(
    State(st): State<AppState>,
    CsrfForm { ctx, form }: CsrfForm<RuleForm>,
) -> Result<Response, PageError> {
    let w = ctx.edit_ws()?;
    let i = &ctx.i;
    let mut e = kohtaamo_domain::FieldErrors::new();
    let mut num = |field: &str, v: &str| -> Option<i64> {
        let v = v.trim();
        if v.is_empty() {
            return None;
        }
        e.take(
            field,
            v.parse::<i64>()
                .map_err(|_| kohtaamo_domain::Reason::new("whole-number")),
        )
    };
    let threshold = num("threshold", &form.threshold);
    let contact_hours = num("contact_hours", &form.contact_hours);
    let resolve_hours = num("resolve_hours", &form.resolve_hours);
    let unit_id = num("unit_id", &form.unit_id);
    let (scope, scope_id) = match form.scope.split_once(':') {
        Some((s, id)) => (Some(s.to_owned()), id.trim().parse::<Id>().ok()),
        None => (None, None),
    };
    let terms: Vec<String> = form
        .terms
        .split(',')
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    let editing = form.id.trim().parse::<Id>().ok();
    let active = match editing {
        Some(id) => Some(
            st.store
                .get::<FollowUpRuleData>(w.id, id)
                .await?
                .data
                .active,
        ),
        None => None,
    };
    let input = FollowUpRuleInput {
        name: form.name.clone(),
        trigger: form.trigger.clone(),
        threshold,
        question: Some(form.question.clone()).filter(|q| !q.trim().is_empty()),
        terms: (!terms.is_empty()).then_some(terms),
        scope,
        scope_id,
        unit_id,
        contact_hours,
        resolve_hours,
        active,
    };
    // A changed rule's new targets apply to the follow-ups it has open.
    let result = match input.parse() {
        Ok(d) if e.is_empty() => match editing {
            Some(id) => kohtaamo_app::model::update(&st.store, w.id, id, &d)
                .await
                .map(|_| ()),
            None => st
                .store
                .create(w.id, &d)
                .await
                .map(|_| ())
                .map_err(kohtaamo_app::Error::from),
        },
        Ok(_) => Err(kohtaamo_app::Error::Invalid(e)),
        Err(mut pe) => {
            pe.0.extend(e.0);
            Err(kohtaamo_app::Error::Invalid(pe))
        }
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/w/{}/follow-up-rules", w.data.slug)).into_response()),
        Err(kohtaamo_app::Error::Invalid(e)) => {
            let msg = i.reasons(&e);
            let page = render(&st, &ctx, msg, form, Past::default()).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(PageError::app(e, i)),
    }
}

/// `POST /w/{ws}/follow-up-rules/{id}/delete` (editors). The follow-ups it opened stay.
pub async fn delete(
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    CsrfForm { ctx, form: _ }: CsrfForm<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let w = ctx.edit_ws()?;
    st.store.delete::<FollowUpRuleData>(w.id, id).await?;
    Ok(Redirect::to(&format!("/w/{}/follow-up-rules", w.data.slug)).into_response())
}

/// `POST /w/{ws}/follow-up-rules/{id}/active` (editors): switches a rule off, or on
/// again. A rule switched off opens nothing; its follow-ups stay.
pub async fn toggle(
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    CsrfForm { ctx, form: _ }: CsrfForm<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let w = ctx.edit_ws()?;
    kohtaamo_app::followups::switch_rule(&st.store, w.id, id)
        .await
        .map_err(|e| PageError::app(e, &ctx.i))?;
    Ok(Redirect::to(&format!("/w/{}/follow-up-rules", w.data.slug)).into_response())
}
