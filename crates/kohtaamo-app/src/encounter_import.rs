//! Importing encounters from other systems' event files (CSV, or Excel converted to
//! CSV first by [`xlsx_to_csv`]): a mapping from our fields to the file's columns, touchpoints and units matched by slug or by name, a
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
use kohtaamo_storage::encounters::Recorded;
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
/// Rows checked at a time in the first pass.
const BATCH: usize = 1000;
/// Rows stored per transaction in the second when no server runs on this store (the
/// CLI): 10,000 rows per commit write each index page touched once instead of up to
/// ten times. Beside a running server's writer, [`BATCH`], so responses queued behind
/// an import wait for a short transaction only.
const STORE_BATCH: usize = 10_000;
/// Bad rows listed in a report (the count covers them all).
pub const MAX_LISTED: usize = 100;

/// field → column name. Fields not mapped are read from a column of their own name;
/// a field mapped to the empty name is not read at all.
#[derive(Debug, Clone, Default)]
pub struct Mapping(pub BTreeMap<String, String>);

impl Mapping {
    /// The column `field` is read from: the mapped one, else the field's own name;
    /// `None` for a field mapped to the empty name.
    pub fn column<'a>(&'a self, field: &'a str) -> Option<&'a str> {
        let name = self.0.get(field).map(String::as_str).unwrap_or(field);
        (!name.is_empty()).then_some(name)
    }

    /// Where `field`'s column is among `headers` (trimmed, as [`headers`] reads them).
    fn position(&self, headers: &[String], field: &str) -> Option<usize> {
        let name = self.column(field)?;
        headers.iter().position(|h| h.trim() == name)
    }

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
    /// Each field's reason in English.
    pub fields: BTreeMap<String, String>,
    /// The same reasons, for showing in the reader's language.
    #[serde(skip)]
    pub reasons: FieldErrors,
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
    let get = |field: &str| -> Option<String> {
        map.position(headers, field)
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

/// Where an import announces what it stored: the workspace's webhooks that opted in
/// to `encounters` hear one `encounters.recorded` event (source `import`) per stored
/// transaction, as for a batch posted to the API. The import returns once those
/// deliveries are done (each has its own timeout), so a command-line import does not
/// exit before its events are sent.
pub struct Events<'a> {
    pub ctx: &'a crate::jobs::JobCtx,
    pub slug: &'a str,
}

/// Imports the CSV file `open` gives (called twice: check, then store). With
/// `skip_bad`, bad rows are left out and the rest stored; without it, any bad row
/// stops the import before anything is stored.
#[allow(clippy::too_many_arguments)]
pub async fn import_csv<R: Read>(
    store: &Store,
    ws: Id,
    open: impl Fn() -> std::io::Result<R>,
    map: &Mapping,
    skip_bad: bool,
    by: &Recorder,
    now: DateTime<Utc>,
    events: Option<Events<'_>>,
) -> Result<ImportReport> {
    let lookup = Lookup::load(store, ws).await?;
    let mut report = ImportReport::default();
    // Pass 1: every row checked, nothing stored.
    // Only bad rows are remembered (their lines), so memory follows the bad rows, not
    // the file. A repeated id in two batches is stored once (the second "existing").
    let mut bad_lines = std::collections::HashSet::new();
    {
        let mut reader = reader(open().map_err(bad_file)?);
        let headers = headers(&mut reader)?;
        check_mapping(&headers, map)?;
        let mut chunk: Vec<(u64, EncounterInput)> = Vec::with_capacity(BATCH);
        for (k, row) in reader.records().enumerate() {
            let line = k as u64 + 2;
            report.rows += 1;
            let row = row.map_err(|e| bad_file(format!("line {line}: {e}")))?;
            match row_input(&headers, &row, map, &lookup) {
                Ok(input) => chunk.push((line, input)),
                Err(e) => note_bad(&mut report, &mut bad_lines, line, e),
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
    let mut reader = reader(open().map_err(bad_file)?);
    let headers = headers(&mut reader)?;
    let store_batch = if store.writer_running() {
        BATCH
    } else {
        STORE_BATCH
    };
    let mut chunk: Vec<EncounterInput> = Vec::with_capacity(store_batch);
    let mut sent = vec![];
    let mut store_and_announce = async |chunk: &[EncounterInput], report: &mut ImportReport| {
        let out = store_chunk(store, ws, chunk, by, now, report).await?;
        if let Some(e) = &events {
            sent.extend(crate::encounters::announce(
                e.ctx,
                ws,
                e.slug,
                Source::Import,
                &out,
            ));
        }
        Ok::<_, Error>(())
    };
    for (k, row) in reader.records().enumerate() {
        let line = k as u64 + 2;
        if bad_lines.contains(&line) {
            continue;
        }
        let row = row.map_err(|e| bad_file(format!("line {line}: {e}")))?;
        if let Ok(input) = row_input(&headers, &row, map, &lookup) {
            chunk.push(input);
        }
        if chunk.len() >= store_batch {
            store_and_announce(&chunk, &mut report).await?;
            chunk.clear();
        }
    }
    store_and_announce(&chunk, &mut report).await?;
    for delivery in sent {
        let _ = delivery.await;
    }
    // A large load leaves PostgreSQL's statistics behind; bring them up to date now
    // rather than when autovacuum next wakes (if it runs at all).
    store.refresh_statistics().await?;
    report.applied = true;
    Ok(report)
}

fn bad_file(detail: impl ToString) -> Error {
    Error::invalid("file", Reason::new("bad-file").with("detail", detail))
}

fn reader<R: Read>(r: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::Headers)
        .from_reader(r)
}

fn headers<R: Read>(r: &mut csv::Reader<R>) -> Result<Vec<String>> {
    Ok(r.headers()
        .map_err(|e| bad_file(format!("no header row: {e}")))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_owned())
        .collect())
}

/// Every mapped column exists, and the file has what an encounter needs.
fn check_mapping(headers: &[String], map: &Mapping) -> Result<()> {
    let mut e = FieldErrors::new();
    for (field, col) in &map.0 {
        if !col.is_empty() && !headers.iter().any(|h| h == col) {
            e.add(
                format!("map.{field}"),
                Reason::new("no-column").with("column", col),
            );
        }
    }
    let has = |f: &str| map.position(headers, f).is_some();
    if !has("at") {
        e.add("map.at", Reason::new("map-when"));
    }
    if !has("touchpoint") && !(has("channel") && (has("unit") || has("partner"))) {
        e.add("map.touchpoint", Reason::new("map-place"));
    }
    if e.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(e))
    }
}

fn note_bad(
    report: &mut ImportReport,
    lines: &mut std::collections::HashSet<u64>,
    line: u64,
    reasons: FieldErrors,
) {
    report.bad += 1;
    lines.insert(line);
    if report.bad_rows.len() < MAX_LISTED {
        report.bad_rows.push(BadRow {
            line,
            fields: reasons
                .0
                .iter()
                .map(|(k, r)| (k.clone(), r.english()))
                .collect(),
            reasons,
        });
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
        note_bad(report, bad, chunk[k].0, fields);
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
) -> Result<Vec<Recorded>> {
    if chunk.is_empty() {
        return Ok(vec![]);
    }
    let out =
        crate::encounters::record_unbounded(store, ws, chunk, false, (Source::Import, by), now)
            .await?;
    for r in &out {
        if r.created {
            report.stored += 1;
        } else {
            report.existing += 1;
        }
    }
    Ok(out)
}

/// The columns of a file and its first `n` data rows (line, cells).
pub struct Sample {
    pub headers: Vec<String>,
    pub rows: Vec<(u64, Vec<String>)>,
}

/// Reads the header and the first `n` rows of a CSV file.
pub fn sample<R: Read>(r: R, n: usize) -> Result<Sample> {
    let mut reader = reader(r);
    let headers = headers(&mut reader)?;
    let mut rows = Vec::with_capacity(n);
    for (k, row) in reader.records().take(n).enumerate() {
        let line = k as u64 + 2;
        let row = row.map_err(|e| bad_file(format!("line {line}: {e}")))?;
        rows.push((line, row.iter().map(str::to_owned).collect()));
    }
    Ok(Sample { headers, rows })
}

/// Column names other systems commonly use for our fields (lower case, fi and en).
const SYNONYMS: [(&str, &[&str]); 10] = [
    (
        "id",
        &["id", "event id", "event_id", "tunniste", "tapahtuma"],
    ),
    (
        "at",
        &[
            "at",
            "time",
            "timestamp",
            "date",
            "when",
            "aika",
            "aikaleima",
            "päivämäärä",
            "pvm",
        ],
    ),
    (
        "touchpoint",
        &[
            "touchpoint",
            "kosketuspiste",
            "palvelupiste",
            "activity",
            "concept:name",
        ],
    ),
    ("channel", &["channel", "kanava"]),
    (
        "unit",
        &["unit", "yksikkö", "team", "tiimi", "org:resource"],
    ),
    ("partner", &["partner", "kumppani"]),
    (
        "customer",
        &[
            "customer",
            "asiakas",
            "customer id",
            "customer_id",
            "asiakasnumero",
        ],
    ),
    (
        "case_ref",
        &[
            "case", "case_ref", "case id", "asia", "tapaus", "order", "tilaus", "varaus",
        ],
    ),
    ("kind", &["kind", "type", "laji", "tyyppi"]),
    (
        "text",
        &[
            "text",
            "note",
            "description",
            "kuvaus",
            "teksti",
            "muistiinpano",
        ],
    ),
];

/// A first mapping for a file: each field to the column named like it (in Finnish or
/// English), when there is one.
pub fn guess_mapping(headers: &[String]) -> Mapping {
    let mut m = BTreeMap::new();
    for (field, names) in SYNONYMS {
        if let Some(h) = headers
            .iter()
            .find(|h| names.contains(&h.trim().to_lowercase().as_str()))
        {
            m.insert(field.to_owned(), h.clone());
        }
    }
    Mapping(m)
}

/// One row of a preview: its line, the value each mapped field takes, and why the row
/// would be refused (empty when it is good).
pub struct PreviewRow {
    pub line: u64,
    pub values: BTreeMap<String, String>,
    pub errors: FieldErrors,
}

/// The first rows of a file as the import would read them with `map`, each checked
/// as the import checks it; nothing is stored. A mapping the file cannot satisfy is an
/// error (per `map.FIELD`).
pub async fn preview(
    store: &Store,
    ws: Id,
    sample: &Sample,
    map: &Mapping,
    now: DateTime<Utc>,
) -> Result<Vec<PreviewRow>> {
    check_mapping(&sample.headers, map)?;
    let lookup = Lookup::load(store, ws).await?;
    let mut out = Vec::with_capacity(sample.rows.len());
    let mut good: Vec<(usize, EncounterInput)> = vec![];
    for (line, cells) in &sample.rows {
        let record = csv::StringRecord::from(cells.clone());
        let values = FIELDS
            .iter()
            .map(|f| f.to_string())
            .chain(map.0.keys().filter(|f| f.starts_with("attr.")).cloned())
            .filter_map(|f| {
                let i = map.position(&sample.headers, &f)?;
                Some((f, cells.get(i).cloned().unwrap_or_default()))
            })
            .collect();
        let errors = match row_input(&sample.headers, &record, map, &lookup) {
            Ok(input) => {
                good.push((out.len(), input));
                FieldErrors::new()
            }
            Err(e) => e,
        };
        out.push(PreviewRow {
            line: *line,
            values,
            errors,
        });
    }
    let inputs: Vec<EncounterInput> = good.iter().map(|(_, i)| i.clone()).collect();
    if !inputs.is_empty() {
        for (k, fields) in crate::encounters::check(store, ws, &inputs, now).await? {
            out[good[k].0].errors = fields;
        }
    }
    Ok(out)
}

/// Converts the first worksheet of an Excel workbook (.xlsx) into a CSV file, reading
/// it a cell at a time (calamine's cell reader), so an Excel file imports like a CSV
/// one. Dates and times become `YYYY-MM-DD HH:MM:SS` (read as UTC, as in CSV), whole
/// numbers lose their `.0`. Returns the rows written, the header included. Only the
/// workbook's shared-string table is held in memory.
pub fn xlsx_to_csv(xlsx: &std::path::Path, out: &std::path::Path) -> Result<u64> {
    use calamine::{open_workbook, DataRef, Reader, Xlsx};
    let mut wb: Xlsx<_> = open_workbook(xlsx).map_err(|e: calamine::XlsxError| bad_file(e))?;
    let sheet = wb
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| bad_file("the workbook has no worksheet"))?;
    let mut cells = wb.worksheet_cells_reader(&sheet).map_err(bad_file)?;
    let mut w = csv::Writer::from_path(out).map_err(bad_file)?;
    let (mut row, mut current, mut written): (Vec<String>, Option<u32>, u64) = (vec![], None, 0);
    while let Some(cell) = cells.next_cell().map_err(bad_file)? {
        let (r, c) = cell.get_position();
        if current != Some(r) {
            if current.is_some() {
                w.write_record(&row).map_err(bad_file)?;
                written += 1;
            }
            row.clear();
            current = Some(r);
        }
        let c = c as usize;
        if c >= 1000 {
            return Err(bad_file(format!("row {}: more than 1000 columns", r + 1)));
        }
        if row.len() <= c {
            row.resize(c + 1, String::new());
        }
        row[c] = match cell.get_value() {
            DataRef::Empty | DataRef::Error(_) => String::new(),
            DataRef::Int(i) => i.to_string(),
            DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
            DataRef::Float(f) => f.to_string(),
            DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
            DataRef::SharedString(s) => (*s).to_owned(),
            DataRef::Bool(b) => b.to_string(),
            DataRef::DateTime(d) => d
                .as_datetime()
                .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_default(),
        };
    }
    if current.is_some() {
        w.write_record(&row).map_err(bad_file)?;
        written += 1;
    }
    w.flush().map_err(bad_file)?;
    Ok(written)
}
