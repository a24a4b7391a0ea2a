//! The themes of frontline captures (`/w/{ws}/capture-themes`): the list with how many
//! captures each has; any member proposes a theme, editors add one to the list, accept
//! a proposal (naming it in both languages) or merge a theme into another (its
//! captures move).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kohtaamo_app::encounters::{self as enc, Recorder};
use kohtaamo_domain::Id;
use serde::Deserialize;

use super::pages::{chrome, Nav};
use super::{html, CsrfForm, PageCtx, PageError};
use crate::extract::{Path, Query};
use crate::i18n::I18n;
use crate::AppState;

struct ThemeRow {
    id: Id,
    slug: String,
    name: String,
    name_fi: String,
    name_en: String,
    proposed: bool,
    proposed_by: String,
    captures: i64,
    /// The other themes, to merge this one into: (id, name).
    others: Vec<(Id, String)>,
}

#[derive(Template)]
#[template(path = "themes.html")]
struct ThemesPage {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    slug: String,
    csrf: String,
    editor: bool,
    rows: Vec<ThemeRow>,
    done: String,
    error: String,
    f: NamesForm,
}

#[derive(Deserialize, Default)]
pub struct ThemesQuery {
    #[serde(default)]
    done: Option<String>,
}

/// A theme's names, as the add form and each accept form send them.
#[derive(Deserialize, Default)]
pub struct NamesForm {
    #[serde(default)]
    name_fi: String,
    #[serde(default)]
    name_en: String,
}

#[derive(Deserialize)]
pub struct MergeForm {
    #[serde(default)]
    into: String,
}

async fn render(
    st: &AppState,
    ctx: &PageCtx,
    done: &str,
    error: String,
    f: NamesForm,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    let i = &ctx.i;
    let themes = enc::themes(&st.store, w.id).await?;
    let names: Vec<(Id, String)> = themes.iter().map(|t| (t.id, i.text(&t.name))).collect();
    // Proposals first: they wait for an editor.
    let mut themes = themes;
    themes.sort_by_key(|t| (t.status != "proposed", i.text(&t.name).to_lowercase()));
    let rows = themes
        .iter()
        .map(|t| {
            let raw = t.name.raw();
            ThemeRow {
                id: t.id,
                slug: t.slug.clone(),
                name: i.text(&t.name),
                name_fi: raw.get("fi").cloned().unwrap_or_default(),
                name_en: raw.get("en").cloned().unwrap_or_default(),
                proposed: t.status == "proposed",
                proposed_by: t
                    .proposed_by
                    .as_deref()
                    .map(|b| b.strip_prefix("user:").unwrap_or(b).to_owned())
                    .unwrap_or_default(),
                captures: t.captures,
                others: names
                    .iter()
                    .filter(|(id, _)| *id != t.id)
                    .cloned()
                    .collect(),
            }
        })
        .collect();
    let done = match done {
        "added" | "proposed" | "accepted" | "merged" => i.t(&format!("themes-done-{done}")),
        _ => String::new(),
    };
    let ch = chrome(ctx);
    let page = ThemesPage {
        i: ch.i,
        nav: ch.nav,
        langs: ch.langs,
        here: ch.here,
        slug: w.data.slug.to_string(),
        csrf: ctx.csrf.clone(),
        editor: role.can_edit(),
        rows,
        done,
        error,
        f,
    };
    Ok(html(page.render()))
}

pub async fn list(
    State(st): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<ThemesQuery>,
) -> Result<Response, PageError> {
    render(
        &st,
        &ctx,
        q.done.as_deref().unwrap_or_default(),
        String::new(),
        NamesForm::default(),
    )
    .await
}

/// The names given in the form, each language that has one.
fn names(fi: &str, en: &str) -> BTreeMap<String, String> {
    [("fi", fi), ("en", en)]
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
        .collect()
}

/// The reasons of an invalid or conflicting request, in the reader's language.
fn explain(e: kohtaamo_app::Error, i: &I18n) -> Result<String, PageError> {
    match e {
        kohtaamo_app::Error::Invalid(f) => Ok(i.reasons(&f)),
        kohtaamo_app::Error::Conflict(_) => Ok(i.t("themes-exists")),
        kohtaamo_app::Error::NotFound => Ok(i.t("themes-gone")),
        e => Err(PageError::app(e, i)),
    }
}

/// Adds a theme (an editor) or proposes one (anyone else).
pub async fn add(
    State(st): State<AppState>,
    CsrfForm { ctx, form }: CsrfForm<NamesForm>,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    let i = &ctx.i;
    let name = names(&form.name_fi, &form.name_en);
    let by = Recorder::user(&ctx.user.username);
    let error = match enc::add_theme_named(&st.store, w.id, role, &name, &i.lang, &by).await {
        Ok(_) => {
            let done = if role.can_edit() { "added" } else { "proposed" };
            return Ok(
                Redirect::to(&format!("/w/{}/capture-themes?done={done}", w.data.slug))
                    .into_response(),
            );
        }
        Err(e) => explain(e, i)?,
    };
    let page = render(&st, &ctx, "", error, form).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// Puts a proposed theme on the list, with the names the editor gave it.
pub async fn accept(
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    CsrfForm { ctx, form }: CsrfForm<NamesForm>,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    if !role.can_edit() {
        return Err(PageError::Forbidden(ctx.i.clone()));
    }
    let name = names(&form.name_fi, &form.name_en);
    let error = match enc::accept_theme(&st.store, w.id, role, id, Some(&name)).await {
        Ok(()) => {
            return Ok(
                Redirect::to(&format!("/w/{}/capture-themes?done=accepted", w.data.slug))
                    .into_response(),
            )
        }
        Err(e) => explain(e, &ctx.i)?,
    };
    let page = render(&st, &ctx, "", error, NamesForm::default()).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// Merges a theme into another: its captures move to the other, it goes.
pub async fn merge(
    State(st): State<AppState>,
    Path((_, id)): Path<(String, Id)>,
    CsrfForm { ctx, form }: CsrfForm<MergeForm>,
) -> Result<Response, PageError> {
    let (w, role) = ctx.ws()?;
    if !role.can_edit() {
        return Err(PageError::Forbidden(ctx.i.clone()));
    }
    let error = match form.into.parse::<Id>() {
        Err(_) => ctx.i.t("err-choose-one"),
        Ok(into) => match enc::merge_theme(&st.store, w.id, role, id, into).await {
            Ok(_) => {
                return Ok(
                    Redirect::to(&format!("/w/{}/capture-themes?done=merged", w.data.slug))
                        .into_response(),
                )
            }
            Err(e) => explain(e, &ctx.i)?,
        },
    };
    let page = render(&st, &ctx, "", error, NamesForm::default()).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}
