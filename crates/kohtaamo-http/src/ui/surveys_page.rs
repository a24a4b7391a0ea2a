//! Survey pages for staff: the list (and "new survey" from a template), one survey
//! (status, links, QR codes, widget snippet, funnel, question builder, settings,
//! personal invitations), its responses with filters and exports, and one response
//! (with delete). Every change builds a [`SurveyInput`] and goes through the same
//! `parse()` and store calls as the API.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use kohtaamo_domain::model::{JourneyData, PackageData, TouchpointData};
use kohtaamo_domain::survey::{
    ChoiceInput, QuestionInput, QuestionKind, ShowIf, SurveyData, SurveyInput, SurveyStatus,
};
use kohtaamo_domain::{model::Parse, FieldErrors, Id};
use kohtaamo_storage::feedback::ResponseFilter;
use kohtaamo_storage::Record;
use serde::Deserialize;

use super::pages::{all, chrome, Nav};
use super::{html, CsrfForm, PageCtx, PageError};
use crate::extract::Path;
use crate::i18n::I18n;
use crate::params::{parse_filter, parse_group_filter};
use crate::AppState;
use kohtaamo_app::directory::Names;
use kohtaamo_app::feedback::{asked_at, PublicSurvey};
use kohtaamo_app::links::{survey_url, widget_snippet};
use kohtaamo_app::responses::WordsOf;

fn target_name(names: &Names, d: &SurveyData) -> String {
    match (d.touchpoint_id, d.journey_id, d.package_id) {
        (Some(t), _, _) => Names::get(&names.touchpoints, t),
        (_, Some(j), _) => Names::get(&names.journeys, j),
        (_, _, Some(p)) => Names::get(&names.packages, p),
        _ => String::new(),
    }
}

pub struct SurveyRow {
    id: Id,
    name: String,
    target: String,
    status: &'static str,
    status_label: String,
    responses: i64,
}

#[derive(Template)]
#[template(path = "surveys.html")]
struct SurveysPage {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    slug: String,
    csrf: String,
    can_edit: bool,
    rows: Vec<SurveyRow>,
    templates: Vec<(&'static str, String)>,
    targets: Vec<(String, String)>,
    error: Option<String>,
}

async fn surveys_page(
    st: &AppState,
    ctx: &PageCtx,
    error: Option<String>,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    let i = &ctx.i;
    let names = Names::new(&st.store.snapshot(w.id).await?, i);
    let mut rows = Vec::new();
    for r in all::<SurveyData>(&st.store, w.id).await? {
        let funnel = st.store.funnel(w.id, r.id).await?;
        rows.push(SurveyRow {
            id: r.id,
            name: i.text(&r.data.name),
            target: target_name(&names, &r.data),
            status: r.data.status.as_str(),
            status_label: i.enum_label("survey-status", r.data.status.as_str()),
            responses: funnel.started,
        });
    }
    let mut targets = Vec::new();
    for t in all::<TouchpointData>(&st.store, w.id).await? {
        targets.push((
            format!("t{}", t.id),
            format!("{}: {}", i.t("noun-touchpoint"), i.text(&t.data.name)),
        ));
    }
    for j in all::<JourneyData>(&st.store, w.id).await? {
        targets.push((
            format!("j{}", j.id),
            format!("{}: {}", i.t("noun-journey"), i.text(&j.data.name)),
        ));
    }
    for p in all::<PackageData>(&st.store, w.id).await? {
        targets.push((
            format!("p{}", p.id),
            format!("{}: {}", i.t("noun-package"), i.text(&p.data.name)),
        ));
    }
    let c = chrome(ctx);
    let page = SurveysPage {
        slug: w.data.slug.to_string(),
        csrf: ctx.csrf.clone(),
        can_edit: role.can_edit(),
        rows,
        templates: ["nps", "csat", "ces"]
            .into_iter()
            .map(|k| (k, i.t(&format!("survey-template-{k}"))))
            .collect(),
        targets,
        error,
        i: c.i,
        nav: c.nav,
        langs: c.langs,
        here: c.here,
    };
    let status = if page.error.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    Ok((status, html(page.render())).into_response())
}

pub async fn list(State(st): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    surveys_page(&st, &ctx, None).await
}

#[derive(Deserialize)]
pub struct NewSurvey {
    slug: String,
    #[serde(default)]
    name_fi: String,
    #[serde(default)]
    name_en: String,
    template: String,
    target: String,
}

fn texts(fi: &str, en: &str) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for (l, v) in [("fi", fi), ("en", en)] {
        if !v.trim().is_empty() {
            m.insert(l.to_owned(), v.to_owned());
        }
    }
    m
}

pub(super) fn errors_text(i: &I18n, e: &FieldErrors) -> Vec<String> {
    e.0.iter()
        .map(|(f, r)| format!("{f}: {}", i.reason(r)))
        .collect()
}

pub async fn create(
    State(st): State<AppState>,
    CsrfForm { ctx, form }: CsrfForm<NewSurvey>,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    if !role.can_edit() {
        return Err(PageError::Forbidden(ctx.i.clone()));
    }
    let id = |s: &str| s.get(1..).and_then(|v| v.parse::<Id>().ok());
    let mut input = kohtaamo_domain::survey::template(
        &form.template,
        &form.slug,
        texts(&form.name_fi, &form.name_en),
    );
    match form.target.get(..1) {
        Some("t") => input.touchpoint_id = id(&form.target),
        Some("j") => input.journey_id = id(&form.target),
        Some("p") => input.package_id = id(&form.target),
        _ => {}
    }
    let data = match input.parse() {
        Ok(d) => d,
        Err(e) => return surveys_page(&st, &ctx, Some(errors_text(&ctx.i, &e).join("; "))).await,
    };
    match st.store.create(w.id, &data).await {
        Ok(rec) => {
            Ok(Redirect::to(&format!("/w/{}/surveys/{}", w.data.slug, rec.id)).into_response())
        }
        Err(kohtaamo_storage::StoreError::Invalid(e)) => {
            surveys_page(&st, &ctx, Some(errors_text(&ctx.i, &e).join("; "))).await
        }
        Err(kohtaamo_storage::StoreError::Conflict(_)) => {
            surveys_page(&st, &ctx, Some(ctx.i.t("err-conflict"))).await
        }
        Err(e) => Err(e.into()),
    }
}

pub struct QuestionRow {
    key: String,
    text: String,
    kind_label: String,
    required: bool,
    condition: String,
    options: String,
    scored: bool,
    /// The question's own texts as stored (empty: the standard wording), for editing.
    text_fi: String,
    text_en: String,
    /// Choice questions: their options as editable lines `key = fi / en`.
    choice: bool,
    option_lines: String,
    /// Rating questions: the top of the scale.
    scale: Option<i64>,
}

pub struct LinkRow {
    name: String,
    url: String,
    qr_svg: String,
    qr_png: String,
}

#[derive(Template)]
#[template(path = "survey.html")]
struct SurveyPage {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    slug: String,
    id: Id,
    csrf: String,
    can_edit: bool,
    name: String,
    target: String,
    status: &'static str,
    status_label: String,
    status_actions: Vec<(&'static str, String)>,
    error: Option<Vec<String>>,
    funnel_shown: i64,
    funnel_started: i64,
    funnel_completed: i64,
    response_rate: String,
    public_url: String,
    public_url_missing: bool,
    /// The public address is a loopback one: links work on this computer only.
    public_url_local: bool,
    /// Links and QR codes are shown for an active survey only (a draft's answer 404).
    active: bool,
    links: Vec<LinkRow>,
    snippet: String,
    questions: Vec<QuestionRow>,
    kinds: Vec<(&'static str, String)>,
    settings: Vec<(String, String, &'static str, String)>,
    invitations_used: i64,
    invitations_total: usize,
    new_links: Vec<String>,
}

async fn survey_page(
    st: &AppState,
    ctx: &PageCtx,
    headers: &HeaderMap,
    id: Id,
    error: Option<Vec<String>>,
    new_links: Vec<String>,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    let i = &ctx.i;
    let rec: Record<SurveyData> = st.store.get(w.id, id).await?;
    let d = &rec.data;
    let names = Names::new(&st.store.snapshot(w.id).await?, i);
    let key = st.store.survey_key(w.id, id).await?;
    let base = st.public_base(headers);
    let api = format!("/api/v1/workspaces/{}/surveys/{id}", w.data.slug);
    let tps = asked_at(&st.store, w.id, d).await?.unwrap_or_default();
    let links = tps
        .into_iter()
        .map(|t| LinkRow {
            name: Names::get(&names.touchpoints, t),
            url: survey_url(&base, &key, Some(t)),
            qr_svg: format!("{api}/qr.svg?touchpoint_id={t}"),
            qr_png: format!("{api}/qr.png?touchpoint_id={t}"),
        })
        .collect();
    let funnel = st.store.funnel(w.id, id).await?;
    let invitations = st.store.invitations(w.id, id).await?;
    let public = PublicSurvey::build(&key, d, i);
    let questions = d
        .questions
        .iter()
        .zip(public.questions)
        .map(|(q, p)| QuestionRow {
            key: q.key.to_string(),
            text: p.text,
            kind_label: i.enum_label("question-kind", q.kind.as_str()),
            required: q.required,
            condition: p.condition,
            options: p
                .options
                .iter()
                .map(|o| o.label.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            scored: q.range().is_some(),
            text_fi: q.text.raw().get("fi").cloned().unwrap_or_default(),
            text_en: q.text.raw().get("en").cloned().unwrap_or_default(),
            choice: matches!(q.kind, QuestionKind::Single | QuestionKind::Multi),
            option_lines: q
                .options
                .iter()
                .map(|o| {
                    let raw = o.label.raw();
                    let get = |l: &str| raw.get(l).cloned().unwrap_or_default();
                    format!("{} = {} / {}", o.key, get("fi"), get("en"))
                })
                .collect::<Vec<_>>()
                .join("\n"),
            scale: q.scale,
        })
        .collect();
    let status_actions = SurveyStatus::ALL
        .iter()
        .filter(|s| **s != d.status)
        .map(|s| (s.as_str(), i.enum_label("survey-set", s.as_str())))
        .collect();
    // One field per text and language (name_fi, name_en, intro_fi, …), then origins.
    let mut settings: Vec<(String, String, &'static str, String)> = vec![];
    for (field, texts) in [
        ("name", &d.name),
        ("intro", &d.intro),
        ("thanks", &d.thanks),
    ] {
        for lang in ["fi", "en"] {
            settings.push((
                format!("{field}_{lang}"),
                i.t(&format!("survey-{field}-{lang}")),
                lang,
                texts.raw().get(lang).cloned().unwrap_or_default(),
            ));
        }
    }
    settings.push((
        "origins".into(),
        i.t("survey-origins"),
        "",
        d.allowed_origins.join("\n"),
    ));
    let rate = if funnel.shown > 0 {
        format!(
            "{:.0} %",
            100.0 * funnel.started as f64 / funnel.shown as f64
        )
    } else {
        "–".into()
    };
    let c = chrome(ctx);
    let page = SurveyPage {
        slug: w.data.slug.to_string(),
        id,
        csrf: ctx.csrf.clone(),
        can_edit: role.can_edit(),
        name: i.text(&d.name),
        target: target_name(&names, d),
        status: d.status.as_str(),
        status_label: i.enum_label("survey-status", d.status.as_str()),
        status_actions,
        error,
        funnel_shown: funnel.shown,
        funnel_started: funnel.started,
        funnel_completed: funnel.completed,
        response_rate: rate,
        public_url: survey_url(&base, &key, None),
        public_url_missing: st.public_base_missing(headers),
        public_url_local: kohtaamo_app::links::is_local_base(&base),
        active: d.status == SurveyStatus::Active,
        links,
        snippet: widget_snippet(&base, &key, d.touchpoint_id),
        questions,
        kinds: QuestionKind::ALL
            .iter()
            .map(|k| (k.as_str(), i.enum_label("question-kind", k.as_str())))
            .collect(),
        settings,
        invitations_used: invitations.iter().filter(|v| v.used_at.is_some()).count() as i64,
        invitations_total: invitations.len(),
        new_links,
        i: c.i,
        nav: c.nav,
        langs: c.langs,
        here: c.here,
    };
    let status = if page.error.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    Ok((status, html(page.render())).into_response())
}

pub async fn show(
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    headers: HeaderMap,
    ctx: PageCtx,
) -> Result<Response, PageError> {
    survey_page(&st, &ctx, &headers, id, None, vec![]).await
}

/// Applies `change` to the survey, validates and saves; the page again with every
/// problem if it does not validate (nothing saved).
async fn edit(
    st: &AppState,
    ctx: &PageCtx,
    headers: &HeaderMap,
    id: Id,
    change: impl FnOnce(&mut SurveyInput),
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    if !role.can_edit() {
        return Err(PageError::Forbidden(ctx.i.clone()));
    }
    let rec: Record<SurveyData> = st.store.get(w.id, id).await?;
    let mut input = SurveyInput::from(&rec.data);
    change(&mut input);
    let result = match input.parse() {
        Ok(data) => st.store.update(w.id, id, &data).await.map(|_| ()),
        Err(e) => Err(kohtaamo_storage::StoreError::Invalid(e)),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/w/{}/surveys/{id}", w.data.slug)).into_response()),
        Err(kohtaamo_storage::StoreError::Invalid(e)) => {
            survey_page(st, ctx, headers, id, Some(errors_text(&ctx.i, &e)), vec![]).await
        }
        Err(kohtaamo_storage::StoreError::Conflict(_)) => {
            survey_page(
                st,
                ctx,
                headers,
                id,
                Some(vec![ctx.i.t("err-conflict")]),
                vec![],
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct StatusForm {
    status: String,
}

pub async fn set_status(
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    headers: HeaderMap,
    CsrfForm { ctx, form }: CsrfForm<StatusForm>,
) -> Result<Response, PageError> {
    edit(&st, &ctx, &headers, id, |s| s.status = Some(form.status)).await
}

#[derive(Deserialize)]
pub struct QuestionForm {
    kind: String,
    key: String,
    #[serde(default)]
    text_fi: String,
    #[serde(default)]
    text_en: String,
    #[serde(default)]
    required: Option<String>,
    #[serde(default)]
    options: String,
    #[serde(default)]
    scale: String,
    #[serde(default)]
    show_if: String,
    #[serde(default)]
    show_min: String,
    #[serde(default)]
    show_max: String,
}

/// Option lines `key = Finnish label / English label`.
fn parse_options(lines: &str) -> Vec<ChoiceInput> {
    lines
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (key, labels) = l.split_once('=').unwrap_or((l, l));
            let (fi, en) = labels.split_once('/').unwrap_or((labels, ""));
            ChoiceInput {
                key: key.trim().to_owned(),
                label: texts(fi.trim(), en.trim()),
            }
        })
        .collect()
}

pub async fn add_question(
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    headers: HeaderMap,
    CsrfForm { ctx, form }: CsrfForm<QuestionForm>,
) -> Result<Response, PageError> {
    let num = |s: &str| s.trim().parse::<i64>().ok();
    let q = QuestionInput {
        key: form.key.trim().to_owned(),
        kind: form.kind.clone(),
        text: texts(&form.text_fi, &form.text_en),
        required: form.required.is_some(),
        options: parse_options(&form.options),
        scale: num(&form.scale),
        show_if: (!form.show_if.is_empty()).then(|| ShowIf {
            question: form.show_if.clone(),
            min: num(&form.show_min).unwrap_or(i64::MIN),
            max: num(&form.show_max).unwrap_or(i64::MAX),
        }),
    };
    edit(&st, &ctx, &headers, id, |s| s.questions.push(q)).await
}

/// The editable parts of an existing question (its key, type and condition stay).
#[derive(Deserialize)]
pub struct QuestionEditForm {
    #[serde(default)]
    text_fi: String,
    #[serde(default)]
    text_en: String,
    #[serde(default)]
    required: Option<String>,
    #[serde(default)]
    options: Option<String>,
    #[serde(default)]
    scale: Option<String>,
}

pub async fn edit_question(
    State(st): State<AppState>,
    Path((_, id, key)): Path<(String, Id, String)>,
    headers: HeaderMap,
    CsrfForm { ctx, form }: CsrfForm<QuestionEditForm>,
) -> Result<Response, PageError> {
    edit(&st, &ctx, &headers, id, |s| {
        if let Some(q) = s.questions.iter_mut().find(|q| q.key == key) {
            q.text = texts(&form.text_fi, &form.text_en);
            q.required = form.required.is_some();
            if let Some(lines) = &form.options {
                q.options = parse_options(lines);
            }
            if let Some(scale) = &form.scale {
                q.scale = scale.trim().parse::<i64>().ok();
            }
        }
    })
    .await
}

#[derive(Deserialize)]
pub struct LangQuery {
    #[serde(default)]
    lang: Option<String>,
}

/// The survey as respondents will see it, in the chosen language (drafts too).
pub async fn preview(
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    Query(q): Query<LangQuery>,
    ctx: PageCtx,
) -> Result<Response, PageError> {
    let (w, _) = ctx.ws()?;
    let rec: Record<SurveyData> = st.store.get(w.id, id).await?;
    let key = st.store.survey_key(w.id, id).await?;
    let lang = q
        .lang
        .filter(|l| kohtaamo_app::i18n::languages().contains(l))
        .unwrap_or_else(|| ctx.i.lang.clone());
    let i = I18n::new(&lang, &ctx.i.lang);
    let base = format!("/w/{}/surveys/{id}/preview", w.data.slug);
    Ok(super::public::preview(&key, &rec.data, &i, &base))
}

pub async fn delete_question(
    State(st): State<AppState>,
    Path((_, id, key)): Path<(String, Id, String)>,
    headers: HeaderMap,
    CsrfForm { ctx, .. }: CsrfForm<super::pages::Empty>,
) -> Result<Response, PageError> {
    edit(&st, &ctx, &headers, id, |s| {
        s.questions.retain(|q| q.key != key)
    })
    .await
}

#[derive(Deserialize)]
pub struct MoveForm {
    dir: String,
}

pub async fn move_question(
    State(st): State<AppState>,
    Path((_, id, key)): Path<(String, Id, String)>,
    headers: HeaderMap,
    CsrfForm { ctx, form }: CsrfForm<MoveForm>,
) -> Result<Response, PageError> {
    edit(&st, &ctx, &headers, id, |s| {
        if let Some(p) = s.questions.iter().position(|q| q.key == key) {
            let to = if form.dir == "up" {
                p.checked_sub(1)
            } else {
                Some(p + 1)
            };
            if let Some(to) = to.filter(|t| *t < s.questions.len()) {
                s.questions.swap(p, to);
            }
        }
    })
    .await
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    name_fi: String,
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    intro_fi: String,
    #[serde(default)]
    intro_en: String,
    #[serde(default)]
    thanks_fi: String,
    #[serde(default)]
    thanks_en: String,
    #[serde(default)]
    origins: String,
}

pub async fn settings(
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    headers: HeaderMap,
    CsrfForm { ctx, form }: CsrfForm<SettingsForm>,
) -> Result<Response, PageError> {
    edit(&st, &ctx, &headers, id, |s| {
        // Languages other than fi and en (e.g. sv from an import) are kept.
        let merge = |old: &mut BTreeMap<String, String>, fi: &str, en: &str| {
            old.remove("fi");
            old.remove("en");
            old.extend(texts(fi, en));
        };
        merge(&mut s.name, &form.name_fi, &form.name_en);
        merge(&mut s.intro, &form.intro_fi, &form.intro_en);
        merge(&mut s.thanks, &form.thanks_fi, &form.thanks_en);
        s.allowed_origins = form.origins.split_whitespace().map(str::to_owned).collect();
    })
    .await
}

#[derive(Deserialize)]
pub struct InvitationsForm {
    #[serde(default)]
    recipients: String,
}

/// One invitation per line: `customer reference, case reference` (either may be empty).
pub async fn invitations(
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    headers: HeaderMap,
    CsrfForm { ctx, form }: CsrfForm<InvitationsForm>,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    if !role.can_edit() {
        return Err(PageError::Forbidden(ctx.i.clone()));
    }
    let rec: Record<SurveyData> = st.store.get(w.id, id).await?;
    let recipients: Vec<(String, kohtaamo_domain::survey::HiddenInput)> = form
        .recipients
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(1000)
        .enumerate()
        .map(|(n, line)| {
            let (cref, case) = line.split_once(',').unwrap_or((line, ""));
            (
                format!("line {}", n + 1),
                kohtaamo_domain::survey::HiddenInput {
                    customer_ref: Some(cref.trim().to_owned()),
                    case_ref: Some(case.trim().to_owned()),
                    ..Default::default()
                },
            )
        })
        .collect();
    if recipients.is_empty() {
        let msgs = vec![ctx.i.t("invitations-none")];
        return survey_page(&st, &ctx, &headers, id, Some(msgs), vec![]).await;
    }
    let links = match kohtaamo_app::links::issue_invitations(
        &st.store,
        w.id,
        id,
        &rec.data,
        &st.public_base(&headers),
        recipients,
    )
    .await
    {
        Ok(issued) => issued.into_iter().map(|x| x.url).collect(),
        Err(kohtaamo_app::Error::Invalid(e)) => {
            let msgs = errors_text(&ctx.i, &e);
            return survey_page(&st, &ctx, &headers, id, Some(msgs), vec![]).await;
        }
        Err(e) => return Err(PageError::Internal(e.to_string())),
    };
    survey_page(&st, &ctx, &headers, id, None, links).await
}

pub struct ResponseRow {
    href: String,
    survey: String,
    time: String,
    touchpoint: String,
    score: String,
    lang: String,
    text: String,
    complete: String,
    /// Why a bot check set it apart (not counted), in the reader's language.
    suspect: Option<String>,
}

#[derive(Template)]
#[template(path = "responses.html")]
struct ResponsesPage {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    slug: String,
    id: Id,
    name: String,
    error: Option<String>,
    f_from: String,
    f_to: String,
    f_band: String,
    f_lang: String,
    f_q: String,
    f_suspect: String,
    suspects: Vec<(String, String)>,
    f_source: String,
    sources: Vec<(String, String)>,
    /// Responses of the survey a bot check set apart (any filter aside).
    suspect_total: i64,
    bands: Vec<(String, String)>,
    langs_f: Vec<(String, String)>,
    total: i64,
    csv: String,
    xlsx: String,
    rows: Vec<ResponseRow>,
    prev: Option<String>,
    next: Option<String>,
    themes: Vec<kohtaamo_domain::themes::Theme>,
}

const PAGE: i64 = 50;

/// One response as a row of a staff list.
fn response_row(
    r: &kohtaamo_storage::feedback::Response,
    survey: &SurveyData,
    names: &Names,
    slug: &str,
    i: &I18n,
) -> ResponseRow {
    ResponseRow {
        href: format!("/w/{slug}/surveys/{}/responses/{}", r.survey_id, r.id),
        survey: i.text(&survey.name),
        // In the reader's date format, with the time of day (UTC).
        time: i.time(&r.created_at),
        touchpoint: r
            .touchpoint_id
            .map(|t| Names::get(&names.touchpoints, t))
            .unwrap_or_default(),
        score: [("NPS", r.nps), ("CSAT", r.csat), ("CES", r.ces)]
            .iter()
            .filter_map(|(n, v)| v.map(|v| format!("{n} {v}")))
            .collect::<Vec<_>>()
            .join(", "),
        lang: r.locale.clone().unwrap_or_default(),
        text: r.answers.text(survey).chars().take(160).collect(),
        complete: i.t(if r.complete { "yes" } else { "partial" }),
        suspect: r.suspect.map(|s| i.enum_label("suspicion", s.as_str())),
    }
}

#[derive(Template)]
#[template(path = "group_responses.html")]
struct GroupResponsesPage {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    slug: String,
    scope: String,
    name: String,
    period: String,
    error: Option<String>,
    total: i64,
    rows: Vec<ResponseRow>,
    prev: Option<String>,
    next: Option<String>,
}

/// `/w/{ws}/responses?by=…&key=…&from&to&…`: the responses behind one figure of the
/// score tables, across surveys (the same selection as the API's `…/responses`).
pub async fn group_responses(
    State(st): State<AppState>,
    Query(q): Query<BTreeMap<String, String>>,
    ctx: PageCtx,
) -> Result<Response, PageError> {
    let (w, _) = ctx.ws()?;
    let i = &ctx.i;
    let an = kohtaamo_app::analysis::Analysis::load(&st.store, w.id, i).await?;
    let parsed = parse_group_filter(&q, &an.scopes);
    let (filter, group, error) = match parsed {
        Ok((f, g)) => (f, Some(g), None),
        Err(crate::error::ApiError::Invalid(e)) => (
            ResponseFilter::default(),
            None,
            Some(errors_text(i, &e).join("; ")),
        ),
        Err(e) => return Err(PageError::Internal(e.to_string())),
    };
    let offset = q
        .get("offset")
        .and_then(|o| o.parse::<i64>().ok())
        .unwrap_or(0)
        .max(0);
    let surveys: std::collections::HashMap<Id, SurveyData> = all::<SurveyData>(&st.store, w.id)
        .await?
        .into_iter()
        .map(|r| (r.id, r.data))
        .collect();
    let (scope, name, page) = match group {
        Some((scope, key, sel)) => {
            let f = ResponseFilter {
                group: Some(sel),
                ..filter.clone()
            };
            let page = st.store.responses(w.id, None, &f, PAGE, offset).await?;
            (
                i.t(&format!("scope-{}", scope.as_str())),
                an.name(scope, &key, i),
                Some(page),
            )
        }
        None => (String::new(), String::new(), None),
    };
    let query_without_offset: Vec<(String, String)> = q
        .iter()
        .filter(|(k, _)| k.as_str() != "offset")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let qs = serde_urlencoded::to_string(&query_without_offset).unwrap_or_default();
    let at = |o: i64| format!("/w/{}/responses?{qs}&offset={o}", w.data.slug);
    let total = page.as_ref().map(|p| p.total).unwrap_or(0);
    let rows = page
        .iter()
        .flat_map(|p| p.items.iter())
        .filter_map(|r| {
            surveys
                .get(&r.survey_id)
                .map(|d| response_row(r, d, &an.names, w.data.slug.as_str(), i))
        })
        .collect();
    let c = chrome(&ctx);
    let p = GroupResponsesPage {
        slug: w.data.slug.to_string(),
        scope,
        name,
        period: match (filter.from, filter.to) {
            (Some(f), Some(t)) => format!("{f} – {t}"),
            (Some(f), None) => format!("{f} –"),
            (None, Some(t)) => format!("– {t}"),
            (None, None) => String::new(),
        },
        error,
        total,
        rows,
        prev: (offset > 0).then(|| at((offset - PAGE).max(0))),
        next: (offset + PAGE < total).then(|| at(offset + PAGE)),
        i: c.i,
        nav: c.nav,
        langs: c.langs,
        here: c.here,
    };
    Ok(html(p.render()))
}

pub async fn responses(
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    Query(q): Query<BTreeMap<String, String>>,
    ctx: PageCtx,
) -> Result<Response, PageError> {
    let (w, _) = ctx.ws()?;
    let i = &ctx.i;
    let rec: Record<SurveyData> = st.store.get(w.id, id).await?;
    let names = Names::new(&st.store.snapshot(w.id).await?, i);
    let (filter, error) = match parse_filter(&q) {
        Ok(f) => (f, None),
        Err(crate::error::ApiError::Invalid(e)) => (
            ResponseFilter::default(),
            Some(errors_text(i, &e).join("; ")),
        ),
        Err(_) => (ResponseFilter::default(), None),
    };
    let offset = q
        .get("offset")
        .and_then(|o| o.parse::<i64>().ok())
        .unwrap_or(0)
        .max(0);
    let page = st
        .store
        .responses(w.id, Some(id), &filter, PAGE, offset)
        .await?;
    let words = q
        .get("source")
        .and_then(|s| WordsOf::parse(s).ok())
        .unwrap_or_default();
    let themes =
        kohtaamo_app::responses::survey_themes(&st.store, w.id, &rec.data, id, &filter, words)
            .await?;
    let apart = ResponseFilter {
        suspect: Some(true),
        ..Default::default()
    };
    let suspect_total = st
        .store
        .responses(w.id, Some(id), &apart, 1, 0)
        .await?
        .total;
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let query_without_offset: Vec<(String, String)> = q
        .iter()
        .filter(|(k, v)| k.as_str() != "offset" && !v.is_empty())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let qs = serde_urlencoded::to_string(&query_without_offset).unwrap_or_default();
    let base = format!("/w/{}/surveys/{id}/responses", w.data.slug);
    let at = |o: i64| {
        format!(
            "{base}?{qs}{}offset={o}",
            if qs.is_empty() { "" } else { "&" }
        )
    };
    let api = format!("/api/v1/workspaces/{}/surveys/{id}", w.data.slug);
    let rows = page
        .items
        .iter()
        .map(|r| response_row(r, &rec.data, &names, w.data.slug.as_str(), i))
        .collect();
    let c = chrome(&ctx);
    let p = ResponsesPage {
        slug: w.data.slug.to_string(),
        id,
        name: i.text(&rec.data.name),
        error,
        f_from: get("from"),
        f_to: get("to"),
        f_band: get("band"),
        f_lang: get("lang"),
        f_q: get("q"),
        f_suspect: get("suspect"),
        f_source: words.as_str().to_owned(),
        sources: WordsOf::ALL
            .iter()
            .map(|w| {
                (
                    w.as_str().to_owned(),
                    i.t(&format!("themes-source-{}", w.as_str())),
                )
            })
            .collect(),
        suspects: [
            ("", "filter-any"),
            ("false", "filter-counted"),
            ("true", "filter-suspect"),
        ]
        .iter()
        .map(|(v, k)| (v.to_string(), i.t(k)))
        .collect(),
        suspect_total,
        bands: [
            ("", "filter-any"),
            ("promoter", "band-promoter"),
            ("passive", "band-passive"),
            ("detractor", "band-detractor"),
        ]
        .iter()
        .map(|(v, k)| (v.to_string(), i.t(k)))
        .collect(),
        langs_f: std::iter::once((String::new(), i.t("filter-any")))
            .chain(
                ["fi", "en", "sv"]
                    .iter()
                    .map(|l| (l.to_string(), l.to_string())),
            )
            .collect(),
        total: page.total,
        csv: format!("{api}/responses.csv?{qs}"),
        xlsx: format!("{api}/responses.xlsx?{qs}"),
        rows,
        themes,
        prev: (offset > 0).then(|| at((offset - PAGE).max(0))),
        next: (offset + PAGE < page.total).then(|| at(offset + PAGE)),
        i: c.i,
        nav: c.nav,
        langs: c.langs,
        here: c.here,
    };
    Ok(html(p.render()))
}

#[derive(Template)]
#[template(path = "response.html")]
struct ResponsePage {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    slug: String,
    id: Id,
    rid: Id,
    csrf: String,
    can_edit: bool,
    suspect: bool,
    name: String,
    facts: Vec<(String, String)>,
    answers: Vec<(String, String)>,
    /// The customer's (else the case's) timeline.
    timeline: String,
}

pub async fn response(
    State(st): State<AppState>,
    Path((_, id, rid)): Path<(String, Id, Id)>,
    ctx: PageCtx,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    let i = &ctx.i;
    let rec: Record<SurveyData> = st.store.get(w.id, id).await?;
    let reader = kohtaamo_storage::privacy::Actor::user(ctx.user.id);
    let r = kohtaamo_app::responses::read(&st.store, w.id, (id, rid), &reader)
        .await
        .map_err(|e| PageError::app(e, i))?;
    let names = Names::new(&st.store.snapshot(w.id).await?, i);
    let o = |v: &Option<String>| v.clone().unwrap_or_else(|| "–".into());
    let mut facts = vec![
        (i.t("col-time"), i.time(&r.created_at)),
        (
            i.t("col-touchpoint"),
            r.touchpoint_id
                .map(|t| Names::get(&names.touchpoints, t))
                .unwrap_or_else(|| "–".into()),
        ),
        (i.t("col-channel"), o(&r.channel)),
        (i.t("filter-lang"), o(&r.locale)),
        (i.t("response-customer"), o(&r.customer_ref)),
        (i.t("response-case"), o(&r.case_ref)),
        (
            i.t("col-complete"),
            i.t(if r.complete { "yes" } else { "partial" }),
        ),
        (i.t("response-id"), r.response_key.clone()),
    ];
    if let Some(why) = r.suspect {
        facts.push((
            i.t("response-suspect"),
            i.enum_label("suspicion", why.as_str()),
        ));
    }
    facts.extend(r.custom.iter().map(|(k, v)| (k.clone(), v.clone())));
    let public = PublicSurvey::build("", &rec.data, i);
    let answers = public
        .questions
        .iter()
        .filter_map(|q| {
            let a = r.answers.0.get(&q.key)?;
            let shown = match a {
                kohtaamo_domain::survey::Answer::Choice(c) => q
                    .options
                    .iter()
                    .find(|o| &o.key == c)
                    .map(|o| o.label.clone())
                    .unwrap_or_else(|| c.clone()),
                kohtaamo_domain::survey::Answer::Choices(cs) => cs
                    .iter()
                    .map(|c| {
                        q.options
                            .iter()
                            .find(|o| &o.key == c)
                            .map(|o| o.label.clone())
                            .unwrap_or_else(|| c.clone())
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.display(),
            };
            Some((q.text.clone(), shown))
        })
        .collect();
    let c = chrome(&ctx);
    let p = ResponsePage {
        slug: w.data.slug.to_string(),
        id,
        rid,
        csrf: ctx.csrf.clone(),
        can_edit: role.can_edit(),
        suspect: r.suspect.is_some(),
        name: i.text(&rec.data.name),
        facts,
        answers,
        timeline: r
            .customer_ref
            .as_ref()
            .or(r.case_ref.as_ref())
            .map(|x| format!("/w/{}/customers/{}", w.data.slug, super::pages::encode(x)))
            .unwrap_or_default(),
        i: c.i,
        nav: c.nav,
        langs: c.langs,
        here: c.here,
    };
    Ok(html(p.render()))
}

pub async fn accept_response(
    State(st): State<AppState>,
    Path((_, id, rid)): Path<(String, Id, Id)>,
    CsrfForm { ctx, .. }: CsrfForm<super::pages::Empty>,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    if !role.can_edit() {
        return Err(PageError::Forbidden(ctx.i.clone()));
    }
    st.store
        .accept_response(w.id, id, rid, Some(ctx.user.id))
        .await?;
    Ok(Redirect::to(&format!("/w/{}/surveys/{id}/responses/{rid}", w.data.slug)).into_response())
}

pub async fn delete_response(
    State(st): State<AppState>,
    Path((_, id, rid)): Path<(String, Id, Id)>,
    CsrfForm { ctx, .. }: CsrfForm<super::pages::Empty>,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    if !role.can_edit() {
        return Err(PageError::Forbidden(ctx.i.clone()));
    }
    st.store
        .delete_response(w.id, id, rid, Some(ctx.user.id))
        .await?;
    Ok(Redirect::to(&format!("/w/{}/surveys/{id}/responses", w.data.slug)).into_response())
}
