//! Importing encounters from a file in the browser (`/w/{ws}/encounters/import`, for
//! editors): upload a CSV or Excel file, say which column holds what with a preview of
//! the first rows and why each would be refused, then import — all of it, or nothing
//! while any row is bad unless the editor chooses to skip the bad rows. The use cases
//! are `kohtaamo_app::encounter_import`'s, as for the CLI.
//!
//! Between the steps the file waits in the upload directory as CSV (an Excel file is
//! converted on arrival), named by the workspace and a random token; it is removed
//! after a successful import, and any upload is removed after a day. The upload is
//! streamed to disk, so memory stays flat whatever the file's size.

use std::collections::BTreeMap;
use std::path::{Path as FsPath, PathBuf};

use askama::Template;
use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Redirect, Response};
use kohtaamo_app::encounter_import::{self as imp, Mapping, FIELDS};
use kohtaamo_app::encounters::Recorder;
use kohtaamo_domain::{FieldErrors, Id};
use tokio::io::AsyncWriteExt;

use super::pages::{chrome, Nav};
use super::{html, CsrfForm, PageCtx, PageError};
use crate::extract::Path;
use crate::i18n::I18n;
use crate::AppState;

/// Rows shown in the preview.
const PREVIEW_ROWS: usize = 10;
/// How long an upload waits for its import.
const UPLOAD_TTL: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

struct FieldView {
    field: String,
    label: String,
    columns: Vec<(String, bool)>,
    error: String,
}

struct RowView {
    line: u64,
    values: Vec<String>,
    problems: Vec<String>,
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    i: I18n,
    nav: Option<Nav>,
    langs: Vec<(String, String)>,
    here: String,
    slug: String,
    csrf: String,
    /// `upload`, `map` or `done`.
    step: &'static str,
    error: String,
    token: String,
    fields: Vec<FieldView>,
    attributes: Vec<(String, bool)>,
    headings: Vec<String>,
    preview: Vec<RowView>,
    skip_bad: bool,
    /// After an import refused for bad rows: how many, how many are listed, and the
    /// first ones.
    bad_count: i64,
    bad_shown: i64,
    bad_rows: Vec<RowView>,
    /// After an import: encounters stored, rows read, already stored, bad rows skipped.
    done_stored: i64,
    done_rows: i64,
    done_existing: i64,
    done_skipped: i64,
}

fn page(ctx: &PageCtx, step: &'static str) -> Result<ImportPage, PageError> {
    let (w, _) = ctx.ws()?;
    let ch = chrome(ctx);
    Ok(ImportPage {
        i: ch.i,
        nav: ch.nav,
        langs: ch.langs,
        here: ch.here,
        slug: w.data.slug.to_string(),
        csrf: ctx.csrf.clone(),
        step,
        error: String::new(),
        token: String::new(),
        fields: vec![],
        attributes: vec![],
        headings: vec![],
        preview: vec![],
        skip_bad: false,
        bad_count: 0,
        bad_shown: 0,
        bad_rows: vec![],
        done_stored: 0,
        done_rows: 0,
        done_existing: 0,
        done_skipped: 0,
    })
}

fn editor(ctx: &PageCtx) -> Result<Id, PageError> {
    let (w, role) = ctx.ws()?;
    if !role.can_edit() {
        return Err(PageError::Forbidden(ctx.i.clone()));
    }
    Ok(w.id)
}

/// The waiting file of an upload token (the token is checked: letters and digits).
fn upload_path(dir: &FsPath, ws: Id, token: &str) -> Option<PathBuf> {
    (token.len() == 36 && token.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| dir.join(format!("{ws}-{token}.csv")))
}

/// Removes uploads older than a day (best effort).
async fn sweep(dir: &FsPath) {
    let Ok(mut entries) = tokio::fs::read_dir(dir).await else {
        return;
    };
    while let Ok(Some(e)) = entries.next_entry().await {
        let old = e
            .metadata()
            .await
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > UPLOAD_TTL);
        if old {
            let _ = tokio::fs::remove_file(e.path()).await;
        }
    }
}

/// `GET /w/{ws}/encounters/import`: choose a file.
pub async fn start(ctx: PageCtx) -> Result<Response, PageError> {
    editor(&ctx)?;
    Ok(html(page(&ctx, "upload")?.render()))
}

/// `POST /w/{ws}/encounters/import` (multipart: `_csrf`, then `file`): stores the file
/// and opens the mapping step.
pub async fn upload(
    State(st): State<AppState>,
    ctx: PageCtx,
    mut form: Multipart,
) -> Result<Response, PageError> {
    let ws = editor(&ctx)?;
    let i = ctx.i.clone();
    let again = |key: &str, detail: Option<String>| -> Result<Response, PageError> {
        let mut p = page(&ctx, "upload")?;
        p.error = match detail {
            Some(d) => format!("{} {d}", i.t(key)),
            None => i.t(key),
        };
        Ok(html(p.render()))
    };
    let dir = st.config.upload_dir.clone();
    if let Err(e) = tokio::fs::create_dir_all(&dir).await {
        return Err(PageError::Internal(format!("upload directory: {e}")));
    }
    sweep(&dir).await;
    let token = kohtaamo_app::links::new_token();
    let raw = dir.join(format!("{ws}-{token}.part"));
    let mut csrf_ok = false;
    let mut name = String::new();
    let mut received = false;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                let _ = tokio::fs::remove_file(&raw).await;
                return again("import-upload-failed", Some(e.body_text()));
            }
        };
        match field.name().unwrap_or_default() {
            "_csrf" => {
                let sent = field.text().await.unwrap_or_default();
                csrf_ok = crate::auth::csrf_matches(sent.as_bytes(), &ctx.csrf_secret);
            }
            "file" if csrf_ok => {
                name = field.file_name().unwrap_or_default().to_lowercase();
                let mut out = tokio::fs::File::create(&raw)
                    .await
                    .map_err(|e| PageError::Internal(format!("upload file: {e}")))?;
                let mut field = field;
                loop {
                    match field.chunk().await {
                        Ok(Some(bytes)) => {
                            received |= !bytes.is_empty();
                            out.write_all(&bytes)
                                .await
                                .map_err(|e| PageError::Internal(format!("upload file: {e}")))?;
                        }
                        Ok(None) => break,
                        Err(e) => {
                            drop(out);
                            let _ = tokio::fs::remove_file(&raw).await;
                            return again("import-upload-failed", Some(e.body_text()));
                        }
                    }
                }
                out.sync_all()
                    .await
                    .map_err(|e| PageError::Internal(format!("upload file: {e}")))?;
            }
            _ => {}
        }
    }
    if !csrf_ok {
        let _ = tokio::fs::remove_file(&raw).await;
        return Err(PageError::Forbidden(i));
    }
    if !received {
        let _ = tokio::fs::remove_file(&raw).await;
        return again("import-file-needed", None);
    }
    let csv = dir.join(format!("{ws}-{token}.csv"));
    let is_excel = name.ends_with(".xlsx") || zip_magic(&raw).await;
    let converted = if is_excel {
        let (from, to) = (raw.clone(), csv.clone());
        let r = tokio::task::spawn_blocking(move || imp::xlsx_to_csv(&from, &to))
            .await
            .map_err(|e| PageError::Internal(e.to_string()))?;
        let _ = tokio::fs::remove_file(&raw).await;
        r.map(|_| ())
    } else {
        tokio::fs::rename(&raw, &csv)
            .await
            .map_err(|e| PageError::Internal(format!("upload file: {e}")))
            .map(|_| ())?;
        Ok(())
    };
    let checked = converted.and_then(|_| {
        std::fs::File::open(&csv)
            .map_err(|e| kohtaamo_app::Error::Internal(e.to_string()))
            .and_then(|f| imp::sample(f, 1))
    });
    if let Err(e) = checked {
        let _ = tokio::fs::remove_file(&csv).await;
        return match e {
            kohtaamo_app::Error::Invalid(f) => again("import-unreadable", Some(i.reasons(&f))),
            other => Err(PageError::app(other, &i)),
        };
    }
    let (w, _) = ctx.ws()?;
    Ok(Redirect::to(&format!("/w/{}/encounters/import/{token}", w.data.slug)).into_response())
}

/// A ZIP file (which an .xlsx workbook is) whatever its name says.
async fn zip_magic(path: &FsPath) -> bool {
    use tokio::io::AsyncReadExt;
    let mut head = [0u8; 4];
    match tokio::fs::File::open(path).await {
        Ok(mut f) => f.read_exact(&mut head).await.is_ok() && head == *b"PK\x03\x04",
        Err(_) => false,
    }
}

/// `GET /w/{ws}/encounters/import/{token}`: the mapping step with a first guess.
pub async fn mapping(
    State(st): State<AppState>,
    Path((_, token)): Path<(String, String)>,
    ctx: PageCtx,
) -> Result<Response, PageError> {
    let ws = editor(&ctx)?;
    let path = waiting(&st, &ctx, ws, &token)?;
    let sample = read_sample(&path, &ctx.i)?;
    let map = imp::guess_mapping(&sample.headers);
    let p = map_page(&st, &ctx, &token, &sample, &map, None).await?;
    Ok(html(p.render()))
}

fn waiting(st: &AppState, ctx: &PageCtx, ws: Id, token: &str) -> Result<PathBuf, PageError> {
    upload_path(&st.config.upload_dir, ws, token)
        .filter(|p| p.is_file())
        .ok_or_else(|| PageError::NotFound(ctx.i.clone()))
}

fn read_sample(path: &FsPath, i: &I18n) -> Result<imp::Sample, PageError> {
    let f = std::fs::File::open(path).map_err(|_| PageError::NotFound(i.clone()))?;
    imp::sample(f, PREVIEW_ROWS).map_err(|e| PageError::app(e, i))
}

fn problems(i: &I18n, e: &FieldErrors) -> Vec<String> {
    e.0.iter()
        .map(|(f, r)| format!("{}: {}", field_label(i, f), i.reason(r)))
        .collect()
}

fn field_label(i: &I18n, f: &str) -> String {
    if FIELDS.contains(&f) {
        i.t(&format!("import-field-{}", f.replace('_', "-")))
    } else {
        f.strip_prefix("attr.").unwrap_or(f).to_owned()
    }
}

async fn map_page(
    st: &AppState,
    ctx: &PageCtx,
    token: &str,
    sample: &imp::Sample,
    map: &Mapping,
    report: Option<&imp::ImportReport>,
) -> Result<ImportPage, PageError> {
    let (w, _) = ctx.ws()?;
    let i = &ctx.i;
    let mut p = page(ctx, "map")?;
    p.token = token.to_owned();
    let mapped = |f: &str| map.0.get(f).cloned().unwrap_or_default();
    let mut errors: BTreeMap<String, String> = BTreeMap::new();
    let preview = match imp::preview(&st.store, w.id, sample, map, st.clock.now()).await {
        Ok(rows) => rows,
        Err(kohtaamo_app::Error::Invalid(f)) => {
            for (k, r) in &f.0 {
                errors.insert(k.trim_start_matches("map.").to_owned(), i.reason(r));
            }
            vec![]
        }
        Err(e) => return Err(PageError::app(e, i)),
    };
    p.fields = FIELDS
        .iter()
        .map(|f| FieldView {
            field: (*f).to_owned(),
            label: field_label(i, f),
            columns: sample
                .headers
                .iter()
                .map(|h| (h.clone(), mapped(f) == *h))
                .collect(),
            error: errors.remove(*f).unwrap_or_default(),
        })
        .collect();
    p.error = errors.into_values().collect::<Vec<_>>().join(" ");
    p.attributes = sample
        .headers
        .iter()
        .map(|h| {
            let kept = map.0.iter().any(|(k, c)| k.starts_with("attr.") && c == h);
            (h.clone(), kept)
        })
        .collect();
    let shown: Vec<String> = FIELDS
        .iter()
        .map(|f| f.to_string())
        .chain(map.0.keys().filter(|k| k.starts_with("attr.")).cloned())
        .filter(|f| !mapped(f).is_empty())
        .collect();
    p.headings = shown.iter().map(|f| field_label(i, f)).collect();
    p.preview = preview
        .iter()
        .map(|r| RowView {
            line: r.line,
            values: shown
                .iter()
                .map(|f| r.values.get(f).cloned().unwrap_or_default())
                .collect(),
            problems: problems(i, &r.errors),
        })
        .collect();
    if let Some(rep) = report {
        p.bad_count = rep.bad as i64;
        p.bad_shown = rep.bad_rows.len() as i64;
        p.bad_rows = rep
            .bad_rows
            .iter()
            .map(|b| RowView {
                line: b.line,
                values: vec![],
                problems: problems(i, &b.reasons),
            })
            .collect();
    }
    Ok(p)
}

/// The mapping as the form sends it: `map.FIELD` = column (empty = not in the file),
/// `attr` = a column kept as an attribute (repeated).
fn mapping_from(form: &[(String, String)]) -> Mapping {
    let mut m = BTreeMap::new();
    for (k, v) in form {
        if let Some(f) = k.strip_prefix("map.") {
            if FIELDS.contains(&f) {
                // An empty column means "none", even where a column has the field's name.
                m.insert(f.to_owned(), v.trim().to_owned());
            }
        } else if k == "attr" && !v.trim().is_empty() {
            // Attribute names are slugs: the column "Juna nro" becomes `juna-nro`.
            let name = kohtaamo_app::encounters::slugify(v);
            if !name.is_empty() {
                m.insert(format!("attr.{name}"), v.trim().to_owned());
            }
        }
    }
    Mapping(m)
}

/// `POST /w/{ws}/encounters/import/{token}`: `action=preview` shows the rows with this
/// mapping; `action=import` imports the whole file.
pub async fn run(
    State(st): State<AppState>,
    Path((_, token)): Path<(String, String)>,
    CsrfForm { ctx, form }: CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let ws = editor(&ctx)?;
    let path = waiting(&st, &ctx, ws, &token)?;
    let sample = read_sample(&path, &ctx.i)?;
    let map = mapping_from(&form);
    let skip_bad = form.iter().any(|(k, _)| k == "skip_bad");
    let import = form.iter().any(|(k, v)| k == "action" && v == "import");
    if !import {
        let mut p = map_page(&st, &ctx, &token, &sample, &map, None).await?;
        p.skip_bad = skip_bad;
        return Ok(html(p.render()));
    }
    let by = Recorder::user(&ctx.user.username);
    let opened = path.clone();
    let result = imp::import_csv(
        &st.store,
        ws,
        move || std::fs::File::open(&opened),
        &map,
        skip_bad,
        &by,
        st.clock.now(),
        Some(imp::Events {
            ctx: &st.hooks,
            slug: ctx.ws()?.0.data.slug.as_str(),
        }),
    )
    .await;
    match result {
        Ok(report) if report.applied => {
            let _ = tokio::fs::remove_file(&path).await;
            let mut p = page(&ctx, "done")?;
            p.done_stored = report.stored as i64;
            p.done_rows = report.rows as i64;
            p.done_existing = report.existing as i64;
            p.done_skipped = report.bad as i64;
            Ok(html(p.render()))
        }
        Ok(report) => {
            let mut p = map_page(&st, &ctx, &token, &sample, &map, Some(&report)).await?;
            p.skip_bad = skip_bad;
            Ok(html(p.render()))
        }
        Err(kohtaamo_app::Error::Invalid(_)) => {
            // The mapping does not fit the file: the page says which field.
            let p = map_page(&st, &ctx, &token, &sample, &map, None).await?;
            Ok(html(p.render()))
        }
        Err(e) => Err(PageError::app(e, &ctx.i)),
    }
}
