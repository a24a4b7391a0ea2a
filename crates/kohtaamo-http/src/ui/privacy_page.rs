//! The privacy officer's page (`/w/{ws}/privacy`, privacy officers and admins): find
//! a person by any identifier or case reference and see what is held about them and
//! their consents; download the export (JSON) or a readable summary for them in their
//! language; withdraw their consents; preview and then erase their data. Below: the
//! workspace's retention with what the next run removes, the audit chain's check,
//! the deletion ledger and the records of processing. Identifiers travel in POST
//! bodies only (never in URLs, so not in access logs).

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use kohtaamo_app::privacy::{self as pv, SubjectExport, SubjectInput};
use kohtaamo_app::retention::{self as rt, RetentionInput};
use kohtaamo_domain::privacy::{table, Kind, Retained};
use kohtaamo_storage::privacy::{Actor, Erasure};
use serde::Deserialize;

use super::pages::{chrome, Nav};
use super::surveys_page::errors_text;
use super::{html, CsrfForm, PageCtx, PageError};
use crate::extract::Query;
use crate::i18n::I18n;
use crate::AppState;

/// Who the officer asks about, as the form sends it.
#[derive(Deserialize, Default, Clone)]
pub struct SubjectForm {
    #[serde(default)]
    identifiers: String,
    #[serde(default)]
    case_refs: String,
    #[serde(default)]
    names: String,
    /// find, export, summary, withdraw, preview or erase.
    #[serde(default, rename = "do")]
    action: String,
    /// "yes" when the officer ticked that the erasure cannot be undone.
    #[serde(default)]
    confirm: String,
    /// The language of the summary for the person.
    #[serde(default)]
    lang: String,
}

fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

impl SubjectForm {
    fn input(&self) -> SubjectInput {
        SubjectInput {
            identifiers: lines(&self.identifiers),
            case_refs: lines(&self.case_refs),
            names: lines(&self.names),
        }
    }
}

struct ConsentRow {
    purpose: String,
    given_at: String,
    channel: String,
    contact: String,
    text: String,
    version: String,
    withdrawn_at: String,
}

struct Found {
    any: bool,
    /// (kind, rows)
    kinds: Vec<(String, usize)>,
    consents: Vec<ConsentRow>,
}

struct ErasureView {
    dry: bool,
    kinds: Vec<(String, i64)>,
    total: i64,
    review: Vec<String>,
    ledger_id: String,
}

struct RetentionRow {
    kind: &'static str,
    label: String,
    days: String,
    action: &'static str,
    actions: Vec<(&'static str, String)>,
    default: bool,
    next_rows: i64,
}

struct RecordRow {
    label: String,
    purpose: String,
    retention: String,
    tables: String,
}

#[derive(Template)]
#[template(path = "privacy.html")]
struct PrivacyPage {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    slug: String,
    csrf: String,
    f: SubjectForm,
    errors: Vec<String>,
    done: String,
    found: Option<Found>,
    erasure: Option<ErasureView>,
    retention: Vec<RetentionRow>,
    chain_ok: bool,
    chain_entries: i64,
    chain_broken: String,
    ledger: usize,
    records: Vec<RecordRow>,
    recipients: Vec<String>,
    summary_langs: Vec<(String, String)>,
}

fn kind_label(i: &I18n, k: Kind) -> String {
    i.t(&format!("privacy-kind-{}", k.as_str()))
}

/// Rows per kind of data, in the register's order of kinds.
fn per_kind<N: Copy + std::ops::Add<Output = N> + Default>(
    i: &I18n,
    tables: impl Iterator<Item = (String, N)>,
) -> Vec<(String, N)> {
    let mut m: std::collections::BTreeMap<Kind, N> = Default::default();
    for (t, n) in tables {
        if let Some(k) = table(&t).and_then(|t| t.kind) {
            let e = m.entry(k).or_default();
            *e = *e + n;
        }
    }
    m.into_iter().map(|(k, n)| (kind_label(i, k), n)).collect()
}

fn found(i: &I18n, e: &SubjectExport) -> Found {
    Found {
        any: e.found,
        kinds: per_kind(i, e.record.tables.iter().map(|(t, r)| (t.clone(), r.len()))),
        consents: e
            .consents
            .iter()
            .map(|c| ConsentRow {
                purpose: i.t(&format!("privacy-consent-{}", c.kind)),
                given_at: c.given_at.as_deref().map(|t| i.time(t)).unwrap_or_default(),
                channel: c.channel.clone(),
                contact: c.contact.clone().unwrap_or_default(),
                text: c.text.clone().unwrap_or_default(),
                version: c.version.clone().unwrap_or_default(),
                withdrawn_at: c
                    .withdrawn_at
                    .as_deref()
                    .map(|t| i.time(t))
                    .unwrap_or_default(),
            })
            .collect(),
    }
}

fn erasure(i: &I18n, e: &Erasure) -> ErasureView {
    ErasureView {
        dry: e.dry_run,
        kinds: per_kind(i, e.counts.iter().map(|(t, n)| (t.clone(), *n))),
        total: e.total(),
        review: e
            .review
            .iter()
            .map(|m| {
                i.args(
                    "privacy-review-row",
                    &[
                        ("where", &format!("{}.{} #{}", m.table, m.column, m.row)),
                        ("term", &m.term),
                    ],
                )
            })
            .collect(),
        ledger_id: e.ledger_id.map(|l| l.to_string()).unwrap_or_default(),
    }
}

struct Extra {
    done: String,
    errors: Vec<String>,
    found: Option<Found>,
    erasure: Option<ErasureView>,
}

async fn render(
    st: &AppState,
    ctx: &PageCtx,
    f: SubjectForm,
    x: Extra,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    let i = &ctx.i;
    let app = |e| PageError::app(e, i);
    let now = st.clock.now();
    let previews = rt::preview(&st.store, w.id, role, now).await.map_err(app)?;
    let retention = rt::rules(&st.store, w.id)
        .await
        .map_err(app)?
        .into_iter()
        .map(|r| RetentionRow {
            kind: r.kind.as_str(),
            label: i.t(&format!("retention-kind-{}", r.kind.as_str())),
            days: r.days.map(|d| d.to_string()).unwrap_or_default(),
            action: r.action.as_str(),
            actions: r
                .actions
                .iter()
                .map(|a| (a.as_str(), i.t(&format!("retention-action-{}", a.as_str()))))
                .collect(),
            default: r.default,
            next_rows: previews
                .iter()
                .find(|p| p.kind == r.kind)
                .map_or(0, |p| p.rows),
        })
        .collect();
    let check = pv::verify_audit(&st.store, w.id, role).await.map_err(app)?;
    let ledger = pv::ledger(&st.store, w.id, role).await.map_err(app)?.len();
    let records = pv::records(
        &st.store,
        w.id,
        role,
        i,
        st.mail().and_then(|m| m.mailer.as_deref()),
    )
    .await
    .map_err(app)?;
    let ch = chrome(ctx);
    let page = PrivacyPage {
        i: ch.i,
        nav: ch.nav,
        langs: ch.langs.clone(),
        here: ch.here,
        slug: w.data.slug.to_string(),
        csrf: ctx.csrf.clone(),
        f,
        errors: x.errors,
        done: x.done,
        found: x.found,
        erasure: x.erasure,
        retention,
        chain_ok: check.ok,
        chain_entries: check.entries,
        chain_broken: check
            .broken
            .map(|b| {
                i.args(
                    "privacy-chain-broken",
                    &[("seq", &b.seq.to_string()), ("reason", b.reason)],
                )
            })
            .unwrap_or_default(),
        ledger,
        records: records
            .processing
            .iter()
            .map(|p| RecordRow {
                label: kind_label(i, p.kind),
                purpose: p.purpose.clone(),
                retention: match (p.retention_days, p.retention_action) {
                    (Some(d), Some(a)) => i.args(
                        "privacy-retention-after",
                        &[
                            ("days", &d.to_string()),
                            ("action", &i.t(&format!("retention-action-{}", a.as_str()))),
                        ],
                    ),
                    _ => i.t("privacy-retention-kept"),
                },
                tables: p.tables.join(", "),
            })
            .collect(),
        recipients: records
            .recipients
            .iter()
            .map(|r| {
                format!(
                    "{} {} — {}",
                    i.t(&format!("privacy-recipient-{}", r.kind)),
                    r.address,
                    r.receives.join("; ")
                )
            })
            .collect(),
        summary_langs: ch.langs,
    };
    Ok(html(page.render()))
}

fn officer(ctx: &PageCtx) -> Result<(), PageError> {
    let (_, role) = ctx.ws()?;
    if role.can_handle_privacy() {
        Ok(())
    } else {
        Err(PageError::Forbidden(ctx.i.clone()))
    }
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    #[serde(default)]
    done: Option<String>,
}

pub async fn page(
    State(st): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<PageQuery>,
) -> Result<Response, PageError> {
    officer(&ctx)?;
    let done = match q.done.as_deref() {
        Some("retention") => ctx.i.t("privacy-done-retention"),
        _ => String::new(),
    };
    render(
        &st,
        &ctx,
        SubjectForm::default(),
        Extra {
            done,
            errors: vec![],
            found: None,
            erasure: None,
        },
    )
    .await
}

/// The look-up form's actions.
pub async fn act(
    State(st): State<AppState>,
    CsrfForm { ctx, form }: CsrfForm<SubjectForm>,
) -> Result<Response, PageError> {
    officer(&ctx)?;
    let (w, role) = ctx.ws()?;
    let i = &ctx.i;
    let actor = Actor::user(ctx.user.id);
    let input = form.input();
    let mut x = Extra {
        done: String::new(),
        errors: vec![],
        found: None,
        erasure: None,
    };
    let mut confirm_only = false;
    let invalid = |e: kohtaamo_app::Error, x: &mut Extra| match e {
        kohtaamo_app::Error::Invalid(fe) => {
            x.errors = errors_text(i, &fe);
            Ok(())
        }
        e => Err(PageError::app(e, i)),
    };
    match form.action.as_str() {
        "export" | "summary" | "summary-pdf" => {
            match pv::export(&st.store, w.id, (&actor, role), &input).await {
                Ok(e) if form.action == "export" => return Ok(json_download(&e)),
                Ok(e) => {
                    return summary(
                        &ctx,
                        &w.data.name,
                        &form.lang,
                        &e,
                        form.action == "summary-pdf",
                    )
                    .await
                }
                Err(e) => invalid(e, &mut x)?,
            }
        }
        "withdraw" => match pv::withdraw(&st.store, w.id, (&actor, role), &input).await {
            Ok(d) => {
                x.done = i.args(
                    "privacy-done-withdraw",
                    &[
                        ("consents", &(d.consents + d.subscriptions).to_string()),
                        ("mail", &d.mail_cancelled.to_string()),
                    ],
                );
            }
            Err(e) => invalid(e, &mut x)?,
        },
        "preview" | "erase" => {
            // Erasing without the box ticked shows the preview again, with why.
            let unconfirmed = form.action == "erase" && form.confirm != "yes";
            let dry = form.action == "preview" || unconfirmed;
            {
                match pv::erase(&st.store, w.id, (&actor, role), &input, dry).await {
                    Ok(e) => {
                        if !dry {
                            x.done = if e.total() == 0 {
                                i.t("privacy-done-nothing")
                            } else {
                                i.s("privacy-done-erased", "rows", &e.total().to_string())
                            };
                        }
                        x.erasure = Some(erasure(i, &e));
                        if unconfirmed {
                            x.errors = vec![i.t("privacy-confirm-needed")];
                            confirm_only = true;
                        }
                    }
                    Err(e) => invalid(e, &mut x)?,
                }
            }
        }
        _ => {}
    }
    // Every action shows the person as they stand now (what is still held).
    if x.errors.is_empty() || confirm_only {
        match pv::export(&st.store, w.id, (&actor, role), &input).await {
            Ok(e) => x.found = Some(found(i, &e)),
            Err(e) => invalid(e, &mut x)?,
        }
    }
    render(&st, &ctx, form, x).await
}

fn json_download(e: &SubjectExport) -> Response {
    let body = serde_json::to_string_pretty(e).unwrap_or_default();
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"personal-data.json\""),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}

struct SummarySection {
    title: String,
    rows: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "privacy_summary.html")]
struct SummaryPage {
    i: I18n,
    workspace: String,
    generated: String,
    sections: Vec<SummarySection>,
    empty: bool,
}

/// A response's answers for a person to read: `question: answer` pairs (the stored
/// JSON when it is not an object).
fn answers_text(json: &str) -> String {
    match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(json) {
        Ok(m) => m
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}: {s}"),
                v => format!("{k}: {v}"),
            })
            .collect::<Vec<_>>()
            .join("; "),
        Err(_) => json.to_owned(),
    }
}

fn field(r: &kohtaamo_storage::privacy::Row_, c: &str) -> String {
    match r.get(c) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(v) => v.to_string(),
    }
}

/// What is held, for the person, in their language: each kind of data with its rows
/// as a date and what it says.
/// The readable summary for the person, in their language: a page to print, or
/// (`pdf`) an A4 PDF of the same.
async fn summary(
    ctx: &PageCtx,
    workspace: &kohtaamo_domain::text::Texts,
    lang: &str,
    e: &SubjectExport,
    pdf: bool,
) -> Result<Response, PageError> {
    let lang = if crate::i18n::languages().iter().any(|l| l == lang) {
        lang
    } else {
        &ctx.i.lang
    };
    let i = I18n::new(lang, &ctx.i.lang);
    let when = |r: &kohtaamo_storage::privacy::Row_, c: &str| field(r, c);
    let mut sections = vec![];
    // Rows come as (stored time, what); shown oldest first with the time in words.
    let mut add = |key: &str, mut rows: Vec<(String, String)>| {
        if !rows.is_empty() {
            rows.sort();
            let rows = rows
                .into_iter()
                .map(|(t, what)| (if t.is_empty() { t } else { i.time(&t) }, what))
                .collect();
            sections.push(SummarySection {
                title: i.t(key),
                rows,
            });
        }
    };
    let t = |name: &str| e.record.tables.get(name).cloned().unwrap_or_default();
    add(
        "summary-identifiers",
        t("customer_identifiers")
            .iter()
            .map(|r| (when(r, "created_at"), field(r, "ident")))
            .collect(),
    );
    add(
        "summary-responses",
        t("responses")
            .iter()
            .map(|r| (when(r, "created_at"), answers_text(&field(r, "answers"))))
            .collect(),
    );
    add(
        "summary-encounters",
        t("encounters")
            .iter()
            .map(|r| {
                let place = [
                    field(r, "touchpoint_name"),
                    field(r, "owner_name"),
                    i.enum_label("channel", &field(r, "channel")),
                ]
                .into_iter()
                .filter(|s| !s.is_empty())
                .map(|s| {
                    match serde_json::from_str::<std::collections::BTreeMap<String, String>>(&s) {
                        Ok(m) => m
                            .get(i.lang.as_str())
                            .or_else(|| m.values().next())
                            .cloned()
                            .unwrap_or_default(),
                        Err(_) => s,
                    }
                })
                .collect::<Vec<_>>()
                .join(", ");
                let text = field(r, "text");
                (
                    when(r, "occurred_at"),
                    if text.is_empty() {
                        place
                    } else {
                        format!("{place}: {text}")
                    },
                )
            })
            .collect(),
    );
    add(
        "summary-cases",
        t("cases")
            .iter()
            .map(|r| {
                let reference = kohtaamo_domain::cases::shown_reference(&field(r, "reference"));
                (
                    when(r, "created_at"),
                    format!("{reference} {}", field(r, "title"))
                        .trim()
                        .to_owned(),
                )
            })
            .collect(),
    );
    add(
        "summary-follow-ups",
        t("follow_ups")
            .iter()
            .map(|r| (when(r, "created_at"), field(r, "reason")))
            .collect(),
    );
    add(
        "summary-consents",
        e.consents
            .iter()
            .map(|c| {
                let state = match &c.withdrawn_at {
                    Some(w) => i.s("summary-consent-withdrawn", "at", &i.time(w)),
                    None => i.t("summary-consent-in-force"),
                };
                (
                    c.given_at.clone().unwrap_or_default(),
                    format!(
                        "{} — {} ({state})",
                        i.t(&format!("privacy-consent-{}", c.kind)),
                        c.text.clone().unwrap_or_default()
                    ),
                )
            })
            .collect(),
    );
    add(
        "summary-mail",
        t("mail_queue")
            .iter()
            .map(|r| (when(r, "created_at"), field(r, "subject")))
            .collect(),
    );
    let page = SummaryPage {
        workspace: i.text(workspace),
        generated: i.time(&e.generated_at),
        empty: sections.is_empty(),
        sections,
        i,
    };
    if pdf {
        use super::pdf::{document, text_pages, Paper, TextDoc};
        let i = &page.i;
        let mut paragraphs = vec![
            i.s("summary-intro", "workspace", &page.workspace),
            i.s("summary-generated", "at", &page.generated),
        ];
        if page.empty {
            paragraphs.push(i.t("summary-nothing"));
        }
        let doc = TextDoc {
            title: i.t("summary-title"),
            paragraphs,
            sections: page
                .sections
                .into_iter()
                .map(|s| (s.title, s.rows))
                .collect(),
            closing: i.t("summary-rights"),
        };
        let bytes =
            tokio::task::spawn_blocking(move || document(Paper::A4Portrait, &text_pages(&doc)))
                .await
                .map_err(|e| PageError::Internal(e.to_string()))?
                .map_err(PageError::Internal)?;
        let mut r = super::pdf_download(bytes, "personal-data-summary.pdf");
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return Ok(r);
    }
    let mut r = html(page.render());
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// The retention form: every kind's days (empty: kept) and action.
pub async fn retention(
    State(st): State<AppState>,
    CsrfForm { ctx, form }: CsrfForm<std::collections::HashMap<String, String>>,
) -> Result<Response, PageError> {
    officer(&ctx)?;
    let (w, role) = ctx.ws()?;
    let i = &ctx.i;
    let mut inputs = vec![];
    let mut bad = vec![];
    for k in Retained::ALL {
        let days = form
            .get(&format!("days_{}", k.as_str()))
            .map(|s| s.trim())
            .unwrap_or_default();
        let days = if days.is_empty() {
            None
        } else {
            match days.parse::<i64>() {
                Ok(d) => Some(d),
                Err(_) => {
                    bad.push(format!(
                        "{}: {}",
                        i.t(&format!("retention-kind-{}", k.as_str())),
                        i.t("err-whole-number")
                    ));
                    continue;
                }
            }
        };
        let action = form
            .get(&format!("action_{}", k.as_str()))
            .cloned()
            .unwrap_or_else(|| k.default_rule().action.as_str().to_owned());
        inputs.push(RetentionInput {
            kind: k.as_str().into(),
            days,
            action,
        });
    }
    if bad.is_empty() {
        match rt::set_rules(&st.store, w.id, (&Actor::user(ctx.user.id), role), &inputs).await {
            Ok(_) => {
                return Ok(
                    Redirect::to(&format!("/w/{}/privacy?done=retention", w.data.slug))
                        .into_response(),
                )
            }
            Err(kohtaamo_app::Error::Invalid(fe)) => bad = errors_text(i, &fe),
            Err(e) => return Err(PageError::app(e, i)),
        }
    }
    render(
        &st,
        &ctx,
        SubjectForm::default(),
        Extra {
            done: String::new(),
            errors: bad,
            found: None,
            erasure: None,
        },
    )
    .await
}
