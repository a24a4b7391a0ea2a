//! The public survey page `/f/{key}` (no login, works without JavaScript) and the
//! embeddable `/widget.js`. Link parameters carried with the answer: `tp` touchpoint,
//! `ch` channel, `lang`, `inv` personal invitation, `cref` pseudonymous customer
//! reference, `case` case reference, and `h_<name>` custom values.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use kohtaamo_domain::survey::{HiddenInput, QuestionKind, Suspicion};
use serde_json::Value;

use crate::auth::ClientIp;
use crate::error::ApiError;
use crate::extract::Path;
use crate::i18n::respondent_language;
use crate::i18n::I18n;
use crate::AppState;
use kohtaamo_app::feedback::{Feedback, Live, PublicSurvey, ResponseInput};
use kohtaamo_app::Error as AppError;

pub enum PageState {
    Form,
    Thanks,
    Message(String),
}

#[derive(Template)]
#[template(path = "survey_public.html")]
struct SurveyPage {
    /// Staff's preview: the page as respondents see it, with nothing to send.
    preview: bool,
    /// (name in its own language, code, link, current) for the language choice.
    languages: Vec<(String, String, String, bool)>,
    s: PublicSurvey,
    state: PageState,
    message: Option<String>,
    rid: String,
    token: String,
    carried: Vec<(String, String)>,
    hp_label: String,
    errors: HashMap<String, String>,
    values: HashMap<String, Vec<String>>,
}

impl SurveyPage {
    fn value(&self, key: &str) -> String {
        self.values
            .get(key)
            .and_then(|v| v.first())
            .cloned()
            .unwrap_or_default()
    }
    fn chosen(&self, key: &str, option: &str) -> bool {
        self.values
            .get(key)
            .is_some_and(|v| v.iter().any(|x| x == option))
    }
}

/// Link parameters that travel with the answer as hidden fields.
fn carried(params: &[(String, String)]) -> Vec<(String, String)> {
    params
        .iter()
        .filter(|(k, v)| {
            !v.is_empty()
                && v.len() <= 500
                && (matches!(k.as_str(), "tp" | "ch" | "lang" | "inv" | "cref" | "case")
                    || (k.starts_with("h_") && k.len() <= 42))
        })
        .take(30)
        .cloned()
        .collect()
}

fn new_rid() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A posted form shown again: its response id, answers and what was wrong.
struct Refill {
    rid: String,
    errors: HashMap<String, String>,
    values: HashMap<String, Vec<String>>,
    message: Option<String>,
}

async fn render(
    st: &AppState,
    live: &Live,
    i: &I18n,
    state: PageState,
    status: StatusCode,
    params: &[(String, String)],
    form: Option<Refill>,
) -> Response {
    let token = match st.feedback.form_token(live.survey.id).await {
        Ok(t) => t,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let Refill {
        rid,
        errors,
        values,
        message,
    } = form.unwrap_or_else(|| Refill {
        rid: new_rid(),
        errors: HashMap::new(),
        values: HashMap::new(),
        message: None,
    });
    // The same page in each language the product speaks, with the link's other
    // parameters kept (touchpoint, channel, invitation …).
    let others: Vec<(String, String)> = carried(params)
        .into_iter()
        .filter(|(k, _)| k != "lang")
        .collect();
    let languages = language_links(i, |l| {
        let mut q = others.clone();
        q.push(("lang".into(), l.to_owned()));
        format!(
            "/f/{}?{}",
            live.survey.public_key,
            serde_urlencoded::to_string(&q).unwrap_or_default()
        )
    });
    let page = SurveyPage {
        preview: false,
        languages,
        s: PublicSurvey::build(&live.survey.public_key, &live.survey.data, i),
        state,
        message,
        rid,
        token,
        carried: carried(params),
        hp_label: i.t("survey-honeypot"),
        errors,
        values,
    };
    match page.render() {
        Ok(html) => (
            status,
            [(
                header::CONTENT_LANGUAGE,
                header::HeaderValue::from_str(&i.lang)
                    .unwrap_or(header::HeaderValue::from_static("en")),
            )],
            Html(html),
        )
            .into_response(),
        Err(e) => ApiError::Internal(e.to_string()).into_response(),
    }
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

#[derive(Template)]
#[template(path = "survey_unavailable.html")]
struct Unavailable {
    lang: String,
    message: String,
}

/// A public page that says, in the visitor's language, why there is nothing to show
/// (`key`'s message), with `status`.
pub(super) fn unavailable_page(i: &I18n, status: StatusCode, key: &str) -> Response {
    let page = Unavailable {
        lang: i.lang.clone(),
        message: i.t(key),
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => ApiError::Internal(e.to_string()).into_response(),
    }
}

/// A public page's language switch: (the language's name, its code, the page's
/// address in it from `href`, whether it is the one shown).
pub(super) fn language_links(
    i: &I18n,
    href: impl Fn(&str) -> String,
) -> Vec<(String, String, String, bool)> {
    kohtaamo_app::i18n::languages()
        .into_iter()
        .map(|l| {
            let (href, current) = (href(&l), l == i.lang);
            (i.t(&format!("lang-name-{l}")), l, href, current)
        })
        .collect()
}

/// A survey that cannot be answered now: closed (410) or unknown/draft (404), as a
/// page in the respondent's language.
fn unavailable(e: AppError, i: &I18n) -> Response {
    match e {
        AppError::Gone(_) => unavailable_page(i, StatusCode::GONE, "survey-closed"),
        AppError::NotFound => unavailable_page(i, StatusCode::NOT_FOUND, "survey-not-found"),
        other => ApiError::from(other).into_response(),
    }
}

/// The open survey behind `key` in the respondent's language, or the page saying why
/// it cannot be answered. The first step of both the page and its form post.
async fn open_survey(
    st: &AppState,
    key: &str,
    lang: Option<&str>,
    headers: &HeaderMap,
) -> Result<(std::sync::Arc<Live>, I18n), Response> {
    let live = match st.feedback.live(key).await {
        Ok(l) => l,
        Err(e) => return Err(unavailable(e, &respondent_language(lang, headers, None))),
    };
    let i = respondent_language(lang, headers, Some(&live.survey.default_language));
    Feedback::require_open(&live).map_err(|e| unavailable(e, &i))?;
    Ok((live, i))
}

pub async fn page(
    State(st): State<AppState>,
    Path(key): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
    ClientIp(ip): ClientIp,
    method: axum::http::Method,
    headers: HeaderMap,
) -> Response {
    let (live, i) = match open_survey(&st, &key, param(&params, "lang"), &headers).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    // A showing counts under the same limits as an answer, and a HEAD shows nothing:
    // otherwise anyone could push a survey's response rate towards zero. Over the
    // limit the page is still shown, uncounted.
    let counted =
        method == axum::http::Method::GET && st.feedback.check_limits(ip, live.survey.id).is_ok();
    let tp = param(&params, "tp").and_then(|t| t.parse().ok());
    if counted {
        if let Err(e) = st.feedback.impression(&live, tp).await {
            return ApiError::from(e).into_response();
        }
    }
    render(
        &st,
        &live,
        &i,
        PageState::Form,
        StatusCode::OK,
        &params,
        None,
    )
    .await
}

pub async fn submit(
    State(st): State<AppState>,
    Path(key): Path<String>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let pairs: Vec<(String, String)> = match serde_urlencoded::from_bytes(&body) {
        Ok(p) => p,
        Err(_) => return StatusCode::BAD_REQUEST.into_response(),
    };
    let (live, i) = match open_survey(&st, &key, param(&pairs, "lang"), &headers).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    if let Err(e) = st.feedback.check_limits(ip, live.survey.id) {
        return ApiError::from(e).into_response();
    }
    let rid = param(&pairs, "_rid")
        .map(str::to_owned)
        .unwrap_or_else(new_rid);
    let mut values: HashMap<String, Vec<String>> = HashMap::new();
    for (k, v) in &pairs {
        if live.survey.data.question(k).is_some() {
            values.entry(k.clone()).or_default().push(v.clone());
        }
    }
    // Bot checks set a response apart (stored, not counted until accepted); they
    // never refuse it, since a quick person looks the same as a bot.
    let suspect = if param(&pairs, "website").is_some() {
        Some(Suspicion::Honeypot)
    } else {
        match st
            .feedback
            .form_check(live.survey.id, param(&pairs, "_t").unwrap_or_default())
            .await
        {
            Ok(s) => s,
            Err(e) => return ApiError::from(e).into_response(),
        }
    };
    let answers: BTreeMap<String, Value> = live
        .survey
        .data
        .questions
        .iter()
        .filter_map(|q| {
            let v = values.get(q.key.as_str())?;
            Some((
                q.key.to_string(),
                if q.kind == QuestionKind::Multi {
                    Value::Array(v.iter().cloned().map(Value::String).collect())
                } else {
                    let text = v.first().cloned().unwrap_or_default();
                    // A form sends every value as text; a scale's answer is a number
                    // (what is not a whole number stays text and is refused).
                    match text.trim().parse::<i64>() {
                        Ok(n) if q.range().is_some() => Value::from(n),
                        _ => Value::String(text),
                    }
                },
            ))
        })
        .collect();
    let custom = pairs
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("h_").map(|k| (k.to_owned(), v.clone())))
        .collect();
    let input = ResponseInput {
        id: Some(rid.clone()),
        answers,
        complete: true,
        hidden: HiddenInput {
            touchpoint_id: param(&pairs, "tp").and_then(|t| t.parse().ok()),
            channel: param(&pairs, "ch").map(str::to_owned),
            locale: Some(i.lang.clone()),
            customer_ref: param(&pairs, "cref").map(str::to_owned),
            case_ref: param(&pairs, "case").map(str::to_owned),
            custom,
        },
        invitation: param(&pairs, "inv").map(str::to_owned),
    };
    match st.feedback.submit(&live, input, suspect).await {
        Ok(_) => {
            render(
                &st,
                &live,
                &i,
                PageState::Thanks,
                StatusCode::OK,
                &pairs,
                None,
            )
            .await
        }
        Err(AppError::Invalid(fe)) => {
            let mut errors = HashMap::new();
            let mut other = Vec::new();
            for (field, reason) in &fe.0 {
                match field.strip_prefix("answers.") {
                    Some(q) => {
                        errors.insert(q.to_owned(), i.reason(reason));
                    }
                    None => other.push(i.reason(reason)),
                }
            }
            let msg = Some(if other.is_empty() {
                i.t("survey-error")
            } else {
                format!("{} {}", i.t("survey-error"), other.join(" "))
            });
            render(
                &st,
                &live,
                &i,
                PageState::Form,
                StatusCode::UNPROCESSABLE_ENTITY,
                &pairs,
                Some(Refill {
                    rid: rid.clone(),
                    errors,
                    values,
                    message: msg,
                }),
            )
            .await
        }
        Err(AppError::Gone(_)) => {
            render(
                &st,
                &live,
                &i,
                PageState::Message(i.t("survey-invitation-used")),
                StatusCode::GONE,
                &pairs,
                None,
            )
            .await
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

pub async fn widget() -> Response {
    super::asset(
        "text/javascript; charset=utf-8",
        include_str!("../../static/widget.js"),
    )
}

pub async fn survey_css() -> Response {
    super::asset(
        "text/css; charset=utf-8",
        include_str!("../../static/survey.css"),
    )
}

pub async fn survey_js() -> Response {
    super::asset(
        "text/javascript; charset=utf-8",
        include_str!("../../static/survey.js"),
    )
}

/// The survey page exactly as a respondent in `i`'s language sees it, for staff: a
/// banner says it is a preview and the form sends nothing (a draft can be previewed
/// before anyone can answer it). `base` is the staff page it belongs to.
pub fn preview(
    key: &str,
    survey: &kohtaamo_domain::survey::SurveyData,
    i: &I18n,
    base: &str,
) -> Response {
    let languages = kohtaamo_app::i18n::languages()
        .into_iter()
        .map(|l| {
            let current = l == i.lang;
            (
                i.t(&format!("lang-name-{l}")),
                l.clone(),
                format!("{base}?lang={l}"),
                current,
            )
        })
        .collect();
    let page = SurveyPage {
        preview: true,
        languages,
        s: PublicSurvey::build(key, survey, i),
        state: PageState::Form,
        message: None,
        rid: String::new(),
        token: String::new(),
        carried: vec![],
        hp_label: i.t("survey-honeypot"),
        errors: HashMap::new(),
        values: HashMap::new(),
    };
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => ApiError::Internal(e.to_string()).into_response(),
    }
}
