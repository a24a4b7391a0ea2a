//! Importing encounters from other systems' event files (CSV): a mapping from our
//! fields to the file's columns, touchpoints and units matched by slug or by name, a
//! check of every row before anything is stored (a file with bad rows changes nothing
//! unless the caller chooses to skip them), then storing in batches. The file is read
//! twice, a row at a time, so memory stays flat whatever its size. Re-importing a file
//! stores nothing twice: a row without an `id` column gets one from its content.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;

use chrono::{DateTime, NaiveDateTime, Utc};
use kohtaamo_domain::encounters::{EncounterInput, Source};
use kohtaamo_domain::model::Owner;
use kohtaamo_domain::{FieldErrors, Id, Reason};
use kohtaamo_storage::Store;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::encounters::Recorder;
use crate::{Error, Result};

/// Our fields a column can be mapped to; `attr.NAME` maps a column to an attribute.
pub const FIELDS: [&str; 10] = [
    "id",
    "at",
    "touchpoint",
    "channel",
    "unit",
    "partner",
    "customer",
    "case_ref",
    "kind",
    "text",
];
/// Rows stored per transaction.
const BATCH: usize = 1000;
/// Bad rows listed in a report (the count covers them all).
pub const MAX_LISTED: usize = 100;

/// field → column name. Fields not mapped are read from a column of their own name.
#[derive(Debug, Clone, Default)]
pub struct Mapping(pub BTreeMap<String, String>);

impl Mapping {
    /// `touchpoint=Palvelupiste,at=Aika,attr.train=Juna` (the CLI's `--map`).
    pub fn parse(spec: &[String]) -> Result<Self> {
        let mut m = BTreeMap::new();
        let mut e = FieldErrors::new();
        for part in spec.iter().flat_map(|s| s.split(',')) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            match part.split_once('=') {
                Some((f, col)) if FIELDS.contains(&f.trim()) || f.trim().starts_with("attr.") => {
                    m.insert(f.trim().to_owned(), col.trim().to_owned());
                }
                _ => e.add(
                    format!("map.{part}"),
                    Reason::from(format!(
                        "must be FIELD=COLUMN with FIELD one of {} or attr.NAME",
                        FIELDS.join(", ")
                    )),
                ),
            }
        }
        if e.is_empty() {
            Ok(Self(m))
        } else {
            Err(Error::Invalid(e))
        }
    }
}

/// One bad row: its line in the file (the header is line 1) and each field's reason.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BadRow {
    pub line: u64,
    pub fields: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ImportReport {
    /// Data rows read.
    pub rows: u64,
    /// Encounters stored now.
    pub stored: u64,
    /// Rows already stored by an earlier import (same id).
    pub existing: u64,
    /// Rows refused.
    pub bad: u64,
    /// The first bad rows.
    pub bad_rows: Vec<BadRow>,
    /// False when bad rows stopped the import (nothing was stored).
    pub applied: bool,
}

/// Names → slugs for touchpoints, units and partners, in every language.
struct Lookup {
    touchpoints: HashMap<String, String>,
    units: HashMap<String, Id>,
    partners: HashMap<String, Id>,
}

fn key(s: &str) -> String {
    s.trim().to_lowercase()
}

impl Lookup {
    async fn load(store: &Store, ws: Id) -> Result<Self> {
        let s = store.snapshot(ws).await?;
        let mut touchpoints = HashMap::new();
        for (_, _, tps) in &s.stages {
            for (_, t) in tps {
                let slug = t.slug.to_string();
                for (_, name) in t.name.raw() {
                    touchpoints
                        .entry(key(&name))
                        .or_insert_with(|| slug.clone());
                }
                touchpoints.insert(key(&slug), slug);
            }
        }
        let mut units = HashMap::new();
        for (id, u) in &s.units {
            for (_, name) in u.name.raw() {
                units.entry(key(&name)).or_insert(*id);
            }
            units.insert(key(u.slug.as_str()), *id);
        }
        let mut partners = HashMap::new();
        for (id, p) in &s.partners {
            for (_, name) in p.name.raw() {
                partners.entry(key(&name)).or_insert(*id);
            }
            partners.insert(key(p.slug.as_str()), *id);
        }
        Ok(Self {
            touchpoints,
            units,
            partners,
        })
    }
}

/// A time as other systems write it: RFC 3339, or `YYYY-MM-DD HH:MM[:SS]` in UTC.
fn time_text(s: &str) -> String {
    let s = s.trim();
    if DateTime::parse_from_rfc3339(s).is_ok() {
        return s.to_owned();
    }
    for f in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%-d.%-m.%Y %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return t.and_utc().to_rfc3339();
        }
    }
    s.to_owned()
}

/// Turns one CSV row into an encounter input, or the reasons it cannot be one.
fn row_input(
    headers: &[String],
    row: &csv::StringRecord,
    map: &Mapping,
    lookup: &Lookup,
) -> std::result::Result<EncounterInput, FieldErrors> {
    let mut e = FieldErrors::new();
    let col = |field: &str| -> Option<usize> {
        let name = map.0.get(field).map(String::as_str).unwrap_or(field);
        headers.iter().position(|h| h.trim() == name)
    };
    let get = |field: &str| -> Option<String> {
        col(field)
            .and_then(|i| row.get(i))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let touchpoint = get("touchpoint").map(|t| {
        lookup
            .touchpoints
            .get(&key(&t))
            .cloned()
            .unwrap_or_else(|| {
                e.add(
                    "touchpoint",
                    Reason::new("unknown-ref-slug")
                        .with("noun", "touchpoint")
                        .with("slug", &t),
                );
                t
            })
    });
    let owner = match (get("unit"), get("partner")) {
        (Some(u), _) => match lookup.units.get(&key(&u)) {
            Some(id) => Some(Owner::Unit(*id)),
            None => {
                e.add(
                    "unit",
                    Reason::new("unknown-ref-slug")
                        .with("noun", "unit")
                        .with("slug", u),
                );
                None
            }
        },
        (None, Some(p)) => match lookup.partners.get(&key(&p)) {
            Some(id) => Some(Owner::Partner(*id)),
            None => {
                e.add(
                    "partner",
                    Reason::new("unknown-ref-slug")
                        .with("noun", "partner")
                        .with("slug", p),
                );
                None
            }
        },
        (None, None) => None,
    };
    let attributes: BTreeMap<String, String> = map
        .0
        .keys()
        .filter_map(|f| {
            f.strip_prefix("attr.")
                .map(|a| (a.to_owned(), get(f).unwrap_or_default()))
        })
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let id = get("id").unwrap_or_else(|| {
        // No id column: the row's content names it, so the same row imported again is
        // the same encounter.
        let mut h = Sha256::new();
        for f in row.iter() {
            h.update(f.as_bytes());
            h.update([0x1f]);
        }
        format!("import-{}", &hex::encode(h.finalize())[..32])
    });
    if !e.is_empty() {
        return Err(e);
    }
    Ok(EncounterInput {
        id,
        at: get("at").map(|t| time_text(&t)).unwrap_or_default(),
        touchpoint_id: None,
        touchpoint,
        channel: get("channel"),
        owner,
        customer: get("customer"),
        case_ref: get("case_ref"),
        kind: get("kind").unwrap_or_else(|| "contact".into()),
        text: get("text"),
        attributes,
    })
}

/// Imports the CSV file `open` gives (called twice: check, then store). With
/// `skip_bad`, bad rows are left out and the rest stored; without it, any bad row
/// stops the import before anything is stored.
pub async fn import_csv<R: Read>(
    store: &Store,
    ws: Id,
    open: impl Fn() -> std::io::Result<R>,
    map: &Mapping,
    skip_bad: bool,
    by: &Recorder,
    now: DateTime<Utc>,
) -> Result<ImportReport> {
    let lookup = Lookup::load(store, ws).await?;
    let mut report = ImportReport::default();
    // Pass 1: every row checked, nothing stored.
    // Only bad rows are remembered (their lines), so memory follows the bad rows, not
    // the file. A repeated id in two batches is stored once (the second "existing").
    let mut bad_lines = std::collections::HashSet::new();
    {
        let mut reader =
            reader(open().map_err(|e| Error::invalid("file", Reason::from(e.to_string())))?);
        let headers = headers(&mut reader)?;
        check_mapping(&headers, map)?;
        let mut chunk: Vec<(u64, EncounterInput)> = Vec::with_capacity(BATCH);
        for (k, row) in reader.records().enumerate() {
            let line = k as u64 + 2;
            report.rows += 1;
            let row =
                row.map_err(|e| Error::invalid("file", Reason::from(format!("line {line}: {e}"))))?;
            match row_input(&headers, &row, map, &lookup) {
                Ok(input) => chunk.push((line, input)),
                Err(e) => note_bad(&mut report, &mut bad_lines, line, english(e)),
            }
            if chunk.len() >= BATCH {
                check_chunk(store, ws, &chunk, now, &mut report, &mut bad_lines).await?;
                chunk.clear();
            }
        }
        check_chunk(store, ws, &chunk, now, &mut report, &mut bad_lines).await?;
    }
    if report.bad > 0 && !skip_bad {
        return Ok(report);
    }
    // Pass 2: store the good rows in batches.
    let mut reader =
        reader(open().map_err(|e| Error::invalid("file", Reason::from(e.to_string())))?);
    let headers = headers(&mut reader)?;
    let mut chunk: Vec<EncounterInput> = Vec::with_capacity(BATCH);
    for (k, row) in reader.records().enumerate() {
        let line = k as u64 + 2;
        if bad_lines.contains(&line) {
            continue;
        }
        let row =
            row.map_err(|e| Error::invalid("file", Reason::from(format!("line {line}: {e}"))))?;
        if let Ok(input) = row_input(&headers, &row, map, &lookup) {
            chunk.push(input);
        }
        if chunk.len() >= BATCH {
            store_chunk(store, ws, &chunk, by, now, &mut report).await?;
            chunk.clear();
        }
    }
    store_chunk(store, ws, &chunk, by, now, &mut report).await?;
    report.applied = true;
    Ok(report)
}

fn reader<R: Read>(r: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::Headers)
        .from_reader(r)
}

fn headers<R: Read>(r: &mut csv::Reader<R>) -> Result<Vec<String>> {
    Ok(r.headers()
        .map_err(|e| Error::invalid("file", Reason::from(format!("no header row: {e}"))))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_owned())
        .collect())
}

/// Every mapped column exists, and the file has what an encounter needs.
fn check_mapping(headers: &[String], map: &Mapping) -> Result<()> {
    let mut e = FieldErrors::new();
    for (field, col) in &map.0 {
        if !headers.iter().any(|h| h == col) {
            e.add(
                format!("map.{field}"),
                Reason::from(format!("the file has no column '{col}'")),
            );
        }
    }
    let has = |f: &str| {
        headers
            .iter()
            .any(|h| h == map.0.get(f).map(String::as_str).unwrap_or(f))
    };
    if !has("at") {
        e.add(
            "map.at",
            Reason::from("map the column that says when (at=COLUMN)"),
        );
    }
    if !has("touchpoint") && !(has("channel") && (has("unit") || has("partner"))) {
        e.add(
            "map.touchpoint",
            Reason::from("map a touchpoint column, or channel and unit (or partner)"),
        );
    }
    if e.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(e))
    }
}

fn english(e: FieldErrors) -> BTreeMap<String, String> {
    e.0.into_iter().map(|(k, r)| (k, r.english())).collect()
}

fn note_bad(
    report: &mut ImportReport,
    lines: &mut std::collections::HashSet<u64>,
    line: u64,
    fields: BTreeMap<String, String>,
) {
    report.bad += 1;
    lines.insert(line);
    if report.bad_rows.len() < MAX_LISTED {
        report.bad_rows.push(BadRow { line, fields });
    }
}

/// Validates a chunk as the API would, storing nothing; notes each bad row.
async fn check_chunk(
    store: &Store,
    ws: Id,
    chunk: &[(u64, EncounterInput)],
    now: DateTime<Utc>,
    report: &mut ImportReport,
    bad: &mut std::collections::HashSet<u64>,
) -> Result<()> {
    if chunk.is_empty() {
        return Ok(());
    }
    let inputs: Vec<EncounterInput> = chunk.iter().map(|(_, i)| i.clone()).collect();
    for (k, fields) in crate::encounters::check(store, ws, &inputs, now).await? {
        note_bad(report, bad, chunk[k].0, english(fields));
    }
    Ok(())
}

async fn store_chunk(
    store: &Store,
    ws: Id,
    chunk: &[EncounterInput],
    by: &Recorder,
    now: DateTime<Utc>,
    report: &mut ImportReport,
) -> Result<()> {
    if chunk.is_empty() {
        return Ok(());
    }
    let out = crate::encounters::record(store, ws, chunk, false, (Source::Import, by), now).await?;
    for r in out {
        if r.created {
            report.stored += 1;
        } else {
            report.existing += 1;
        }
    }
    Ok(())
}
