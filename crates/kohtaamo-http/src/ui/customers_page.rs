//! The customer timeline (`/w/{ws}/customers/{identifier}`, with a search by any
//! identifier or case reference), linking and unlinking customers, and the frontline
//! capture form (`/w/{ws}/capture`, phone-first, no JavaScript, a QR code per
//! touchpoint that opens it prefilled).

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use kohtaamo_app::directory::Names;
use kohtaamo_app::encounters::{self as enc, Recorder, TimelineItem};
use kohtaamo_domain::encounters::{CaptureInput, Source, Words};
use kohtaamo_domain::model::Owner;
use kohtaamo_domain::survey::SurveyData;
use kohtaamo_domain::Id;
use kohtaamo_storage::encounters::Encounter;
use serde::Deserialize;

use super::pages::{chrome, encode, Nav};
use super::{html, CsrfForm, PageCtx, PageError};
use crate::extract::{Path, Query};
use crate::i18n::I18n;
use crate::AppState;

/// One line of a timeline as shown.
#[derive(Clone)]
pub struct ItemView {
    time: String,
    kind: String,
    place: String,
    journey: String,
    channel: String,
    unit: String,
    by: String,
    text: String,
    score: String,
    href: String,
    words: String,
    theme: String,
    feeling: String,
    follow_up: bool,
    /// Waits for someone: a capture marked "needs follow-up" whose follow-up is not
    /// resolved or closed, or an open follow-up (the hand-off card lists these).
    open: bool,
    promise: String,
    unit_id: Option<Id>,
    journey_id: Option<Id>,
    kind_key: String,
}

/// (value, label) pairs as options, the one equal to `chosen` selected.
fn choices(
    items: impl IntoIterator<Item = (String, String)>,
    chosen: &Option<String>,
) -> Vec<Choice> {
    items
        .into_iter()
        .map(|(value, label)| Choice {
            selected: chosen.as_deref() == Some(value.as_str()),
            value,
            label,
        })
        .collect()
}

impl ItemView {
    /// Where it happened: touchpoint, journey, channel and unit, those known.
    fn where_line(&self) -> String {
        [&self.place, &self.journey, &self.channel, &self.unit]
            .into_iter()
            .filter(|s| !s.is_empty())
            .cloned()
            .collect::<Vec<_>>()
            .join(" · ")
    }
}

pub struct PromiseView {
    text: String,
    due: String,
    by: String,
    overdue: bool,
}

pub struct Choice {
    value: String,
    label: String,
    selected: bool,
}

pub struct LinkView {
    id: Id,
    text: String,
    active: bool,
}

pub struct PreviewView {
    other: String,
    reason: String,
    joins: String,
    only_email: bool,
    already: bool,
}

#[derive(Template)]
#[template(path = "timeline.html")]
struct TimelinePage {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    slug: String,
    csrf: String,
    q: String,
    heading: String,
    not_found: bool,
    found: bool,
    identifiers: Vec<String>,
    last: Option<ItemView>,
    open: Vec<ItemView>,
    promises: Vec<PromiseView>,
    items: Vec<ItemView>,
    units: Vec<Choice>,
    journeys: Vec<Choice>,
    kinds: Vec<Choice>,
    links: Vec<LinkView>,
    can_edit: bool,
    preview: Option<PreviewView>,
    flash: String,
    error: String,
}

#[derive(Deserialize, Default)]
pub struct TimelineQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    unit: Option<String>,
    #[serde(default)]
    journey: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    done: Option<String>,
}

fn kind_label(i: &I18n, kind: &str, own: &HashMap<String, String>) -> String {
    own.get(kind)
        .cloned()
        .unwrap_or_else(|| i.enum_label("kind", kind))
}

struct Ctx<'a> {
    i: &'a I18n,
    slug: &'a str,
    names: &'a Names,
    own_kinds: &'a HashMap<String, String>,
    surveys: &'a HashMap<Id, String>,
    channels: &'a HashMap<String, String>,
    themes: &'a HashMap<Id, String>,
}

fn channel_label(c: &Ctx, ch: &str) -> String {
    c.channels
        .get(ch)
        .cloned()
        .unwrap_or_else(|| c.i.enum_label("channel", ch))
}

fn encounter_view(c: &Ctx, e: &Encounter) -> ItemView {
    let i = c.i;
    // The names as recorded; the current ones only when none was kept.
    let place = e
        .touchpoint_name
        .as_ref()
        .map(|t| i.text(t))
        .or(e.touchpoint_id.map(|t| Names::get(&c.names.touchpoints, t)))
        .unwrap_or_default();
    let unit = e
        .owner_name
        .as_ref()
        .map(|t| i.text(t))
        .unwrap_or_else(|| c.names.owner(&e.owner));
    let cap = e.capture.as_ref();
    ItemView {
        time: i.time(&e.at),
        kind: kind_label(i, &e.kind, c.own_kinds),
        place,
        journey: e
            .journey_id
            .map(|j| Names::get(&c.names.journeys, j))
            .unwrap_or_default(),
        channel: channel_label(c, &e.channel),
        unit,
        by: i.s(
            "timeline-by",
            "by",
            e.recorded_by
                .split_once(':')
                .map_or(e.recorded_by.as_str(), |(_, n)| n),
        ),
        text: e.text.clone().unwrap_or_default(),
        score: String::new(),
        href: String::new(),
        words: cap
            .map(|c| i.t(&format!("words-{}", c.words)))
            .unwrap_or_default(),
        theme: cap
            .and_then(|c| c.theme_id)
            .and_then(|t| c.themes.get(&t).cloned())
            .unwrap_or_default(),
        feeling: cap
            .map(|c| i.t(&format!("emotion-level-{}", c.feeling + 2)))
            .unwrap_or_default(),
        follow_up: cap.is_some_and(|c| c.needs_follow_up),
        open: cap.is_some_and(|c| c.needs_follow_up),
        promise: cap.and_then(|c| c.promise.clone()).unwrap_or_default(),
        unit_id: match e.owner {
            Some(Owner::Unit(u)) => Some(u),
            _ => None,
        },
        journey_id: e.journey_id,
        kind_key: e.kind.clone(),
    }
}

fn response_view(
    c: &Ctx,
    r: &kohtaamo_storage::feedback::Response,
    snapshot: &kohtaamo_domain::insight::Snapshot,
) -> ItemView {
    let i = c.i;
    let survey = c.surveys.get(&r.survey_id).cloned().unwrap_or_default();
    let tp = r.touchpoint_id.and_then(|t| {
        snapshot.stages.iter().find_map(|(_, s, tps)| {
            tps.iter()
                .find(|(id, _)| *id == t)
                .map(|(_, d)| (s.journey_id, d))
        })
    });
    let score = [("NPS", r.nps), ("CSAT", r.csat), ("CES", r.ces)]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k} {v}")))
        .collect::<Vec<_>>()
        .join(", ");
    let text = r
        .answers
        .0
        .values()
        .filter_map(|a| match a {
            kohtaamo_domain::survey::Answer::Text(t) => Some(t.clone()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(" · ");
    let owner = tp.and_then(|(_, t)| t.owner);
    ItemView {
        time: i.time(&r.created_at),
        kind: i.s("timeline-response", "survey", &survey),
        place: r
            .touchpoint_id
            .map(|t| Names::get(&c.names.touchpoints, t))
            .unwrap_or_default(),
        journey: tp
            .map(|(j, _)| Names::get(&c.names.journeys, j))
            .unwrap_or_default(),
        channel: r
            .channel
            .as_deref()
            .map(|ch| channel_label(c, ch))
            .unwrap_or_default(),
        unit: c.names.owner(&owner),
        by: String::new(),
        text,
        score,
        href: format!("/w/{}/surveys/{}/responses/{}", c.slug, r.survey_id, r.id),
        words: String::new(),
        theme: String::new(),
        feeling: String::new(),
        follow_up: false,
        open: false,
        promise: String::new(),
        unit_id: match owner {
            Some(Owner::Unit(u)) => Some(u),
            _ => None,
        },
        journey_id: tp.map(|(j, _)| j),
        kind_key: "response".into(),
    }
}

/// A follow-up opened about the customer, or a step taken on one: in the timeline under
/// the kind "follow-up", linking to the follow-up.
fn follow_up_view(
    c: &Ctx,
    (id, at, unit, touchpoint): (Id, &str, Option<Id>, Option<Id>),
    kind: String,
    text: String,
    by: &str,
) -> ItemView {
    let i = c.i;
    ItemView {
        time: i.time(at),
        kind,
        place: touchpoint
            .map(|t| Names::get(&c.names.touchpoints, t))
            .unwrap_or_default(),
        journey: String::new(),
        channel: String::new(),
        unit: unit
            .map(|u| Names::get(&c.names.units, u))
            .unwrap_or_default(),
        by: super::followups_page::by_text(i, by),
        text,
        score: String::new(),
        href: format!("/w/{}/follow-ups/{id}", c.slug),
        words: String::new(),
        theme: String::new(),
        feeling: String::new(),
        follow_up: false,
        open: false,
        promise: String::new(),
        unit_id: unit,
        journey_id: None,
        kind_key: "follow-up".into(),
    }
}

/// `/w/{ws}/customers`: the search; with `?q=` it opens the timeline it names.
pub async fn search(
    State(st): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<TimelineQuery>,
) -> Result<Response, PageError> {
    let (w, _) = ctx.ws()?;
    if let Some(term) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        return Ok(
            Redirect::to(&format!("/w/{}/customers/{}", w.data.slug, encode(term))).into_response(),
        );
    }
    render(
        &st,
        &ctx,
        "",
        None,
        &TimelineQuery::default(),
        None,
        String::new(),
    )
    .await
}

/// `/w/{ws}/customers/{identifier}`: a customer's timeline, or a case's when the text
/// names no customer but a case reference.
pub async fn timeline(
    State(st): State<AppState>,
    ctx: PageCtx,
    Path((_, ident)): Path<(String, String)>,
    Query(q): Query<TimelineQuery>,
) -> Result<Response, PageError> {
    render(&st, &ctx, &ident, None, &q, None, String::new()).await
}

async fn render(
    st: &AppState,
    ctx: &PageCtx,
    ident: &str,
    preview: Option<PreviewView>,
    q: &TimelineQuery,
    flash: Option<&str>,
    error: String,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    let i = &ctx.i;
    let slug = w.data.slug.to_string();
    let snapshot = st.store.snapshot(w.id).await?;
    let names = Names::new(&snapshot, i);
    let own_kinds: HashMap<String, String> = st
        .store
        .encounter_kinds(w.id)
        .await?
        .into_iter()
        .map(|(s, n)| (s, i.text(&n)))
        .collect();
    let surveys: HashMap<Id, String> = super::pages::all::<SurveyData>(&st.store, w.id)
        .await?
        .into_iter()
        .map(|s| (s.id, i.text(&s.data.name)))
        .collect();
    let channels: HashMap<String, String> =
        super::pages::all::<kohtaamo_domain::model::ChannelData>(&st.store, w.id)
            .await?
            .into_iter()
            .map(|c| (c.data.slug.to_string(), i.text(&c.data.name)))
            .collect();
    let themes: HashMap<Id, String> = st
        .store
        .capture_themes(w.id)
        .await?
        .into_iter()
        .map(|t| (t.id, i.text(&t.name)))
        .collect();
    let c = Ctx {
        i,
        slug: &slug,
        names: &names,
        own_kinds: &own_kinds,
        surveys: &surveys,
        channels: &channels,
        themes: &themes,
    };
    let mut page = TimelinePage {
        i: i.clone(),
        nav: None,
        langs: vec![],
        here: String::new(),
        slug: slug.clone(),
        csrf: ctx.csrf.clone(),
        q: ident.to_owned(),
        heading: i.t("customers-title"),
        not_found: false,
        found: false,
        identifiers: vec![],
        last: None,
        open: vec![],
        promises: vec![],
        items: vec![],
        units: vec![],
        journeys: vec![],
        kinds: vec![],
        links: vec![],
        can_edit: role.can_edit(),
        preview,
        flash: flash.map(|f| i.t(f)).unwrap_or_default(),
        error,
    };
    let mut all: Vec<ItemView> = vec![];
    let mut promises_of: Vec<(&Encounter, String)> = vec![];
    let found_items;
    if !ident.is_empty() {
        let reader = kohtaamo_storage::privacy::Actor::user(ctx.user.id);
        let timeline = match enc::timeline(&st.store, w.id, ident, 500, &reader).await {
            Ok(t) => Some(t),
            Err(kohtaamo_app::Error::NotFound | kohtaamo_app::Error::Invalid(_)) => None,
            Err(e) => return Err(PageError::app(e, i)),
        };
        let items: Vec<TimelineItem> = match &timeline {
            Some(t) => t.items.clone(),
            None => {
                // Not a customer: perhaps a case reference.
                let items = enc::case_timeline(&st.store, w.id, ident, 500, &reader)
                    .await
                    .map_err(|e| PageError::app(e, i))?;
                if !items.is_empty() {
                    page.heading = i.s("timeline-case", "ref", ident);
                }
                items
            }
        };
        if let Some(t) = &timeline {
            page.identifiers = t
                .identifiers
                .iter()
                .map(|x| match &x.value {
                    Some(v) => format!("{}:{v}", x.kind),
                    None => format!("{} ({})", x.kind, i.t("timeline-pseudonymised")),
                })
                .collect();
            let idents = st.store.customer_identifiers(w.id, &t.customers).await?;
            let of = |c: Id| {
                idents
                    .iter()
                    .filter(|(id, _, _)| *id == c)
                    .map(|(_, ident, kind)| {
                        let v = ident.split_once(':').map(|(_, v)| v).unwrap_or_default();
                        if v.starts_with('#') {
                            kind.clone()
                        } else {
                            ident.clone()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            page.links = t
                .links
                .iter()
                .map(|l| {
                    let mut text = i.args(
                        "link-row",
                        &[
                            (
                                "ids",
                                &format!("{} + {}", of(l.customer_a), of(l.customer_b)),
                            ),
                            ("reason", &l.reason),
                            (
                                "by",
                                l.linked_by
                                    .split_once(':')
                                    .map_or(l.linked_by.as_str(), |(_, n)| n),
                            ),
                            ("date", &i.time(&l.linked_at)),
                        ],
                    );
                    if let Some(at) = &l.unlinked_at {
                        text = format!("{text} — {}", i.s("link-undone", "date", &i.time(at)));
                    }
                    LinkView {
                        id: l.id,
                        text,
                        active: l.unlinked_at.is_none(),
                    }
                })
                .collect();
        }
        found_items = !items.is_empty() || timeline.is_some();
        let today = st.clock.today();
        // Captures whose follow-up is resolved or closed wait for no one any more.
        let handled: std::collections::HashSet<Id> = items
            .iter()
            .filter_map(|it| match it {
                TimelineItem::FollowUp(f) => f.encounter_id.filter(|_| {
                    f.status != kohtaamo_domain::followups::Status::New
                        && f.status != kohtaamo_domain::followups::Status::Contacted
                }),
                _ => None,
            })
            .collect();
        for item in items.iter().rev() {
            let view = match item {
                TimelineItem::Encounter(e) => {
                    if let Some(cap) = &e.capture {
                        if let Some(p) = &cap.promise {
                            promises_of.push((e, p.clone()));
                        }
                    }
                    let mut v = encounter_view(&c, e);
                    v.open = v.open && !handled.contains(&e.id);
                    v
                }
                TimelineItem::Response(r) => response_view(&c, r, &snapshot),
                TimelineItem::FollowUp(f) => {
                    let mut v = follow_up_view(
                        &c,
                        (f.id, &f.created_at, f.unit_id, f.touchpoint_id),
                        i.s(
                            "timeline-follow-up",
                            "status",
                            &i.t(&format!("follow-up-status-{}", f.status.as_str())),
                        ),
                        super::followups_page::reason_text(i, f),
                        "",
                    );
                    // An open follow-up about a capture is listed once, as the capture.
                    v.open = f.encounter_id.is_none()
                        && matches!(
                            f.status,
                            kohtaamo_domain::followups::Status::New
                                | kohtaamo_domain::followups::Status::Contacted
                        );
                    v
                }
                TimelineItem::FollowUpStep(st) => {
                    let e = &st.step;
                    let detail = super::followups_page::event_detail(i, e.action, &e.detail, &[]);
                    follow_up_view(
                        &c,
                        (st.follow_up_id, &e.at, st.unit_id, st.touchpoint_id),
                        i.s(
                            "timeline-follow-up-step",
                            "step",
                            &i.t(&format!("follow-up-event-{}", e.action.as_str())),
                        ),
                        detail,
                        &e.by,
                    )
                }
            };
            all.push(view);
        }
        page.promises = promises_of
            .iter()
            .map(|(e, p)| {
                let due = e.capture.as_ref().and_then(|c| c.promise_due.clone());
                let overdue = due
                    .as_deref()
                    .and_then(|d| kohtaamo_domain::rules::parse_day(d).ok())
                    .is_some_and(|d| d < today);
                PromiseView {
                    text: p.clone(),
                    due: due
                        .as_deref()
                        .and_then(|d| kohtaamo_domain::rules::parse_day(d).ok())
                        .map(|d| i.s("handoff-due", "date", &i.date(&d)))
                        .unwrap_or_default(),
                    by: encounter_view(&c, e).unit,
                    overdue,
                }
            })
            .collect();
    } else {
        found_items = false;
    }
    page.found = found_items;
    page.not_found = !ident.is_empty() && !found_items;
    // Filter choices from what the timeline holds.
    let mut units: BTreeMap<Id, String> = BTreeMap::new();
    let mut journeys: BTreeMap<Id, String> = BTreeMap::new();
    let mut kinds: BTreeMap<String, String> = BTreeMap::new();
    for v in &all {
        if let Some(u) = v.unit_id {
            units.insert(u, v.unit.clone());
        }
        if let Some(j) = v.journey_id {
            journeys.insert(j, v.journey.clone());
        }
        kinds.insert(
            v.kind_key.clone(),
            if v.kind_key == "response" {
                i.t("kind-response")
            } else if v.kind_key == "follow-up" {
                i.t("follow-ups-title")
            } else {
                v.kind.clone()
            },
        );
    }
    page.units = choices(
        units.into_iter().map(|(id, l)| (id.to_string(), l)),
        &q.unit,
    );
    page.journeys = choices(
        journeys.into_iter().map(|(id, l)| (id.to_string(), l)),
        &q.journey,
    );
    page.kinds = choices(kinds, &q.kind);
    page.last = all.first().cloned();
    page.open = all.iter().filter(|v| v.open).cloned().collect();
    let want = |x: &Option<String>| x.as_deref().filter(|v| !v.is_empty()).map(str::to_owned);
    let (fu, fj, fk) = (want(&q.unit), want(&q.journey), want(&q.kind));
    page.items = all
        .into_iter()
        .filter(|v| {
            fu.as_ref()
                .is_none_or(|u| v.unit_id.map(|x| x.to_string()).as_ref() == Some(u))
        })
        .filter(|v| {
            fj.as_ref()
                .is_none_or(|j| v.journey_id.map(|x| x.to_string()).as_ref() == Some(j))
        })
        .filter(|v| fk.as_ref().is_none_or(|k| &v.kind_key == k))
        .collect();
    if page.flash.is_empty() {
        if let Some(d) = q.done.as_deref() {
            page.flash = match d {
                "linked" => i.t("link-done"),
                "unlinked" => i.t("unlink-done"),
                _ => String::new(),
            };
        }
    }
    let ch = chrome(ctx);
    page.nav = ch.nav;
    page.langs = ch.langs;
    page.here = ch.here;
    let status = if page.not_found {
        axum::http::StatusCode::NOT_FOUND
    } else {
        axum::http::StatusCode::OK
    };
    Ok((status, html(page.render())).into_response())
}

#[derive(Deserialize)]
pub struct LinkForm {
    #[serde(default)]
    other: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    confirm: Option<String>,
}

/// Links this customer to another: first a preview of what joins, then the link.
pub async fn link(
    State(st): State<AppState>,
    Path((_, ident)): Path<(String, String)>,
    CsrfForm { ctx, form }: CsrfForm<LinkForm>,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    if !role.can_edit() {
        return Err(PageError::Forbidden(ctx.i.clone()));
    }
    let i = &ctx.i;
    let by = Recorder::user(&ctx.user.username);
    if form.confirm.is_some() {
        match enc::link(&st.store, w.id, (&ident, &form.other), &form.reason, &by).await {
            Ok(_) => {
                return Ok(Redirect::to(&format!(
                    "/w/{}/customers/{}?done=linked",
                    w.data.slug,
                    encode(&ident)
                ))
                .into_response())
            }
            Err(kohtaamo_app::Error::Invalid(f)) => {
                let msg = i.reasons(&f);
                return render(
                    &st,
                    &ctx,
                    &ident,
                    None,
                    &TimelineQuery::default(),
                    None,
                    msg,
                )
                .await;
            }
            Err(e) => return Err(PageError::app(e, i)),
        }
    }
    let reader = kohtaamo_storage::privacy::Actor::user(ctx.user.id);
    match enc::link_preview(&st.store, w.id, (&ident, &form.other), &reader).await {
        Ok(p) => {
            let ids =
                p.b.identifiers
                    .iter()
                    .map(|x| {
                        x.value
                            .as_ref()
                            .map_or(x.kind.clone(), |v| format!("{}:{v}", x.kind))
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
            let preview = PreviewView {
                other: form.other.clone(),
                reason: form.reason.clone(),
                joins: i.args(
                    "link-joins",
                    &[("ids", &ids), ("count", &p.b.items.len().to_string())],
                ),
                only_email: p.only_shared_email,
                already: p.already_linked,
            };
            render(
                &st,
                &ctx,
                &ident,
                Some(preview),
                &TimelineQuery::default(),
                None,
                String::new(),
            )
            .await
        }
        Err(kohtaamo_app::Error::NotFound | kohtaamo_app::Error::Invalid(_)) => {
            let msg = i.s("customers-not-found", "q", &form.other);
            render(
                &st,
                &ctx,
                &ident,
                None,
                &TimelineQuery::default(),
                None,
                msg,
            )
            .await
        }
        Err(e) => Err(PageError::app(e, i)),
    }
}

#[derive(Deserialize)]
pub struct UnlinkForm {
    #[serde(default)]
    back: String,
}

pub async fn unlink(
    State(st): State<AppState>,
    Path((_, link)): Path<(String, Id)>,
    CsrfForm { ctx, form }: CsrfForm<UnlinkForm>,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    if !role.can_edit() {
        return Err(PageError::Forbidden(ctx.i.clone()));
    }
    enc::unlink(&st.store, w.id, link, &Recorder::user(&ctx.user.username))
        .await
        .map_err(|e| PageError::app(e, &ctx.i))?;
    Ok(Redirect::to(&format!(
        "/w/{}/customers/{}?done=unlinked",
        w.data.slug,
        encode(&form.back)
    ))
    .into_response())
}

// --- frontline capture -----------------------------------------------------------

pub struct TpOption {
    id: Id,
    name: String,
    selected: bool,
}

pub struct QrLink {
    name: String,
    href: String,
}

#[derive(Template)]
#[template(path = "capture.html")]
struct CapturePage {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    slug: String,
    csrf: String,
    client_id: String,
    mine: Vec<TpOption>,
    others: Vec<TpOption>,
    themes: Vec<Choice>,
    f: CaptureForm,
    errors: BTreeMap<String, String>,
    saved: bool,
    timeline: String,
    qr: Vec<QrLink>,
}

impl CapturePage {
    fn err(&self, field: &str) -> &str {
        self.errors
            .get(field)
            .map(String::as_str)
            .unwrap_or_default()
    }
    /// The optional part is open when it holds something (a value or an error).
    fn more_open(&self) -> bool {
        let f = &self.f;
        [
            &f.customer,
            &f.case_ref,
            &f.new_theme,
            &f.promise,
            &f.promise_due,
        ]
        .iter()
        .any(|v| !v.trim().is_empty())
            || [
                "customer",
                "case_ref",
                "new_theme",
                "promise",
                "promise_due",
            ]
            .iter()
            .any(|k| self.errors.contains_key(*k))
    }
    fn feeling_checked(&self, v: &i64) -> bool {
        self.f.feeling.parse::<i64>().unwrap_or(0) == *v
    }
}

#[derive(Deserialize, Default, Clone)]
pub struct CaptureForm {
    #[serde(default)]
    id: String,
    #[serde(default)]
    touchpoint: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    words: String,
    #[serde(default)]
    theme: String,
    #[serde(default)]
    new_theme: String,
    #[serde(default)]
    feeling: String,
    #[serde(default)]
    customer: String,
    #[serde(default)]
    case_ref: String,
    #[serde(default)]
    follow_up: Option<String>,
    #[serde(default)]
    promise: String,
    #[serde(default)]
    promise_due: String,
}

#[derive(Deserialize, Default)]
pub struct CaptureQuery {
    #[serde(default)]
    touchpoint: Option<Id>,
    #[serde(default)]
    saved: Option<String>,
    #[serde(default)]
    customer: Option<String>,
}

fn new_client_id() -> String {
    format!("capture-{}", kohtaamo_app::links::new_token())
}

async fn capture_page(
    st: &AppState,
    ctx: &PageCtx,
    f: CaptureForm,
    errors: BTreeMap<String, String>,
    (saved, timeline): (bool, String),
) -> Result<Response, PageError> {
    let (w, _) = ctx.ws()?;
    let i = &ctx.i;
    let snapshot = st.store.snapshot(w.id).await?;
    let my_units = st.store.units_of_user(w.id, ctx.user.id).await?;
    let chosen: Option<Id> = f.touchpoint.parse().ok();
    let mut mine = vec![];
    let mut others = vec![];
    for (_, _, tps) in &snapshot.stages {
        for (id, t) in tps {
            let o = TpOption {
                id: *id,
                name: i.text(&t.name),
                selected: chosen == Some(*id),
            };
            match t.owner {
                Some(Owner::Unit(u)) if my_units.contains(&u) => mine.push(o),
                _ => others.push(o),
            }
        }
    }
    let themes = st
        .store
        .capture_themes(w.id)
        .await?
        .into_iter()
        .map(|t| Choice {
            selected: f.theme == t.slug,
            label: if t.status == "proposed" {
                format!("{} ({})", i.text(&t.name), i.t("theme-status-proposed"))
            } else {
                i.text(&t.name)
            },
            value: t.slug,
        })
        .collect();
    let base = format!("/w/{}/capture", w.data.slug);
    let qr = mine
        .iter()
        .map(|t| QrLink {
            name: t.name.clone(),
            href: format!("{base}/qr/{}.svg", t.id),
        })
        .collect();
    let ch = chrome(ctx);
    let page = CapturePage {
        i: ch.i,
        nav: ch.nav,
        langs: ch.langs,
        here: ch.here,
        slug: w.data.slug.to_string(),
        csrf: ctx.csrf.clone(),
        client_id: if f.id.is_empty() {
            new_client_id()
        } else {
            f.id.clone()
        },
        mine,
        others,
        themes,
        f,
        errors,
        saved,
        timeline,
        qr,
    };
    Ok(html(page.render()))
}

/// `/w/{ws}/capture`: the form, prefilled with `?touchpoint=` (from a QR code).
pub async fn capture_form(
    State(st): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<CaptureQuery>,
) -> Result<Response, PageError> {
    let f = CaptureForm {
        touchpoint: q.touchpoint.map(|t| t.to_string()).unwrap_or_default(),
        words: "quote".into(),
        feeling: "0".into(),
        ..Default::default()
    };
    let slug = ctx.ws()?.0.data.slug.to_string();
    let timeline = q
        .customer
        .filter(|c| !c.is_empty())
        .map(|c| format!("/w/{slug}/customers/{}", encode(&c)))
        .unwrap_or_default();
    capture_page(&st, &ctx, f, BTreeMap::new(), (q.saved.is_some(), timeline)).await
}

pub async fn capture_post(
    State(st): State<AppState>,
    CsrfForm { ctx, form }: CsrfForm<CaptureForm>,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    let i = &ctx.i;
    let by = Recorder::user(&ctx.user.username);
    let mut errors: BTreeMap<String, String> = BTreeMap::new();
    let mut theme = (!form.theme.is_empty()).then(|| form.theme.clone());
    let new_theme = form.new_theme.trim();
    if !new_theme.is_empty() {
        match enc::propose_theme_named(&st.store, w.id, role, new_theme, &i.lang, &by).await {
            Ok(slug) => theme = Some(slug),
            Err(kohtaamo_app::Error::Invalid(f)) => {
                for (_, r) in f.0 {
                    errors.insert("new_theme".into(), i.reason(&r));
                }
            }
            Err(e) => return Err(PageError::app(e, i)),
        }
    }
    let touchpoint = form.touchpoint.parse::<Id>().ok();
    if touchpoint.is_none() {
        errors.insert("touchpoint".into(), i.t("err-choose-one"));
    }
    let input = CaptureInput {
        id: form.id.clone(),
        at: None,
        touchpoint_id: touchpoint,
        channel: None,
        owner: None,
        text: form.text.clone(),
        words: Words::parse(&form.words).unwrap_or_default(),
        theme,
        feeling: form.feeling.parse().unwrap_or(0),
        customer: Some(form.customer.clone()).filter(|c| !c.trim().is_empty()),
        case_ref: Some(form.case_ref.clone()).filter(|c| !c.trim().is_empty()),
        needs_follow_up: form.follow_up.is_some(),
        promise: Some(form.promise.clone()),
        promise_due: Some(form.promise_due.clone()),
    };
    if errors.is_empty() {
        match enc::capture(&st.store, w.id, &input, &by, st.clock.now()).await {
            Ok(r) => {
                let _ = enc::announce(&st.hooks, w.id, w.data.slug.as_str(), Source::Staff, &[r]);
                if r.created {
                    kohtaamo_app::followups::announce_opened(
                        &st.hooks,
                        w.id,
                        kohtaamo_app::followups::OpenedBy::Capture(r.id),
                    )
                    .await;
                }
                let mut to = format!(
                    "/w/{}/capture?saved=1&touchpoint={}",
                    w.data.slug, form.touchpoint
                );
                if !form.customer.trim().is_empty() {
                    to.push_str(&format!("&customer={}", encode(form.customer.trim())));
                }
                return Ok(Redirect::to(&to).into_response());
            }
            Err(kohtaamo_app::Error::Invalid(f)) => {
                for (k, r) in f.0 {
                    // Without a touchpoint the channel and owner are missing too; the
                    // touchpoint is what this form asks for.
                    let k = match k.as_str() {
                        "channel" | "owner" | "touchpoint_id" => "touchpoint".to_owned(),
                        _ => k,
                    };
                    errors.entry(k).or_insert_with(|| i.reason(&r));
                }
            }
            Err(e) => return Err(PageError::app(e, i)),
        }
    }
    let resp = capture_page(&st, &ctx, form, errors, (false, String::new())).await?;
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, resp).into_response())
}

/// A QR code that opens the capture form with this touchpoint chosen.
pub async fn capture_qr(
    State(st): State<AppState>,
    ctx: PageCtx,
    Path((_, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (w, _) = ctx.ws()?;
    let tp: Id = file
        .strip_suffix(".svg")
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| PageError::NotFound(ctx.i.clone()))?;
    if !st.store.touchpoint_exists(w.id, tp).await? {
        return Err(PageError::NotFound(ctx.i.clone()));
    }
    let url = format!(
        "{}/w/{}/capture?touchpoint={tp}",
        st.public_base(&headers),
        w.data.slug
    );
    let code =
        qrcode::QrCode::new(url.as_bytes()).map_err(|e| PageError::Internal(format!("qr: {e}")))?;
    Ok(crate::export::qr_svg(&code))
}
