//! A person's data, found, exported and erased; the tamper-evident audit trail; the
//! deletion ledger. Which rows are a person's is said once, in [`Finder`], and the
//! export, the dry run and the erasure all use it. The columns exported are the ones
//! [`kohtaamo_domain::privacy::REGISTER`] declares.

use std::collections::BTreeMap;

use kohtaamo_domain::privacy::{self as reg, AuditFields, ChainBreak, StoredEntry};
use kohtaamo_domain::Id;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Column, Row};
use utoipa::ToSchema;

use crate::entity::{bind, Val};
use crate::{Backend, Result, Store, StoreError, Tx};

/// A consent given with a response or a subscription (see migration 0020).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConsent {
    pub purpose: &'static str,
    pub subject: Option<String>,
    pub contact: Option<String>,
    pub text: String,
    pub language: Option<String>,
    pub channel: &'static str,
    pub source: String,
}

/// Records a consent once per source (a retry records nothing twice).
pub(crate) const CONSENT_SQL: &str = "INSERT INTO consents (workspace_id, purpose, subject, contact, text, version, language, channel, source, given_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (workspace_id, source) DO NOTHING";

pub(crate) fn consent_values(ws: Id, c: &NewConsent, at: &str) -> Vec<Val> {
    vec![
        ws.into(),
        c.purpose.into(),
        c.subject.clone().into(),
        c.contact.clone().into(),
        c.text.clone().into(),
        reg::consent_version(&c.text).into(),
        c.language.clone().into(),
        c.channel.into(),
        c.source.clone().into(),
        at.into(),
    ]
}

// Statements built from a person's lists (one placeholder per value) are run
// unprepared-and-uncached (`persistent(false)`): each list length is another text, and
// on PostgreSQL a connection's statement cache churning through such texts ended in
// "bind message supplies 2 parameters, but prepared statement requires 5".

/// What finds one person's rows in a workspace.
#[derive(Debug, Clone, Default)]
pub struct Subject {
    /// The customer an identifier names and every customer linked to it.
    pub customers: Vec<Id>,
    /// Every text the person's rows carry as their customer identifier: stored
    /// identifiers (`crm:12345`, `email:#<pseudonym>`) and the forms feedback may
    /// carry (`email:maija@example.fi`, a bare reference).
    pub refs: Vec<String>,
    /// Case references given (the person's own cases are found from `refs`).
    pub case_refs: Vec<String>,
    /// E-mail addresses given (those on the person's cases and follow-ups are found).
    pub addresses: Vec<String>,
}

/// The tables of a person's data in the order an erasure deletes them: a table's
/// condition may read tables after it, never one before it.
const ERASE_ORDER: &[&str] = &[
    "consents",
    "mail_queue",
    "follow_up_escalations",
    "follow_up_events",
    "follow_ups",
    "captures",
    "encounters",
    "responses",
    "invitations",
    "case_opens",
    "case_links",
    "case_subscriptions",
    "case_changes",
    "cases",
    "customer_links",
    "customer_identifiers",
    "customers",
];

/// The SQL conditions that pick one person's rows, with their bound values (`$1` is
/// the workspace; each non-empty list is one run of placeholders). Every condition is
/// `key IN (a UNION of simple look-ups)`, each look-up one indexed column against a
/// list or a subquery, and a look-up whose list is empty is left out: an `OR` of such
/// terms made SQLite read every row of the workspace (its planner cannot use several
/// indexes for an OR that mixes lists and subqueries).
struct Finder {
    vals: Vec<Val>,
    customers: Option<String>,
    refs: Option<String>,
    case_refs: Option<String>,
    addresses: Option<String>,
}

/// `SELECT key FROM table WHERE workspace_id = $1 AND col IN (list)`, when there is a
/// list.
fn look_up(table: &str, key: &str, col: &str, list: Option<&str>) -> Option<String> {
    list.map(|l| format!("SELECT {key} FROM {table} WHERE workspace_id = $1 AND {col} IN ({l})"))
}

/// The union of the look-ups there are (none: nothing).
fn union(parts: impl IntoIterator<Item = Option<String>>) -> String {
    let parts: Vec<String> = parts.into_iter().flatten().collect();
    if parts.is_empty() {
        // A select of no ids, so `key IN (…)` is false (every key is a BIGINT).
        "SELECT CAST(NULL AS BIGINT) WHERE 1 = 0".to_owned()
    } else {
        parts.join(" UNION ")
    }
}

impl Finder {
    fn new(ws: Id, s: &Subject) -> Self {
        let mut vals: Vec<Val> = vec![ws.into()];
        let mut list = |items: Vec<Val>| {
            if items.is_empty() {
                return None;
            }
            let from = vals.len() + 1;
            let n = items.len();
            vals.extend(items);
            Some(
                (from..from + n)
                    .map(|k| format!("${k}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        };
        let customers = list(s.customers.iter().map(|c| Val::from(*c)).collect());
        let refs = list(s.refs.iter().map(|r| Val::from(r.as_str())).collect());
        let case_refs = list(s.case_refs.iter().map(|r| Val::from(r.as_str())).collect());
        let addresses = list(s.addresses.iter().map(|r| Val::from(r.as_str())).collect());
        Self {
            vals,
            customers,
            refs,
            case_refs,
            addresses,
        }
    }

    /// The references of the person's own cases (found by their identifiers).
    fn own_case_refs(&self) -> Option<String> {
        self.refs.as_ref().map(|r| {
            format!("SELECT reference FROM cases WHERE workspace_id = $1 AND customer IN ({r})")
        })
    }
    /// `key` of `table`'s rows whose `col` is one of the person's case references.
    fn by_case_ref(&self, table: &str, key: &str, col: &str) -> [Option<String>; 2] {
        [
            look_up(table, key, col, self.case_refs.as_deref()),
            look_up(table, key, col, self.own_case_refs().as_deref()),
        ]
    }
    fn case_ids(&self) -> String {
        union([
            look_up("cases", "id", "customer", self.refs.as_deref()),
            look_up("cases", "id", "reference", self.case_refs.as_deref()),
        ])
    }
    fn encounter_ids(&self) -> String {
        let [a, b] = self.by_case_ref("encounters", "id", "case_ref");
        union([
            look_up("encounters", "id", "customer_id", self.customers.as_deref()),
            a,
            b,
        ])
    }
    fn follow_up_ids(&self) -> String {
        let [a, b] = self.by_case_ref("follow_ups", "id", "case_ref");
        union([
            look_up("follow_ups", "id", "customer", self.refs.as_deref()),
            look_up("follow_ups", "id", "contact", self.addresses.as_deref()),
            a,
            b,
            Some(format!(
                "SELECT id FROM follow_ups WHERE workspace_id = $1 AND encounter_id IN ({})",
                self.encounter_ids()
            )),
        ])
    }
    /// The addresses found through the person's cases, follow-ups and consents.
    fn found_addresses(&self, table: &str, col: &str) -> [Option<String>; 4] {
        [
            look_up(table, "id", col, self.addresses.as_deref()),
            Some(format!(
                "SELECT id FROM {table} WHERE workspace_id = $1 AND {col} IN (SELECT email FROM case_subscriptions WHERE case_id IN ({}))",
                self.case_ids()
            )),
            Some(format!(
                "SELECT id FROM {table} WHERE workspace_id = $1 AND {col} IN (SELECT contact FROM follow_ups WHERE contact IS NOT NULL AND id IN ({}))",
                self.follow_up_ids()
            )),
            self.refs.as_ref().map(|r| format!(
                "SELECT id FROM {table} WHERE workspace_id = $1 AND {col} IN (SELECT contact FROM consents WHERE workspace_id = $1 AND contact IS NOT NULL AND subject IN ({r}))"
            )),
        ]
    }

    /// The condition that picks the person's rows of `table`.
    fn condition(&self, table: &str) -> String {
        // The look-ups are each within the workspace, so the outer condition is on the
        // key alone: with `workspace_id = $1` beside it SQLite walked an index on
        // (workspace_id, …) — every row of the workspace — instead of fetching the ids.
        let within = |key: &str, ids: String| format!("{key} IN ({ids})");
        match table {
            "customers" => within(
                "id",
                union([look_up("customers", "id", "id", self.customers.as_deref())]),
            ),
            // Its index is (workspace_id, customer_id).
            "customer_identifiers" => format!(
                "workspace_id = $1 AND customer_id IN ({})",
                union([look_up("customers", "id", "id", self.customers.as_deref())])
            ),
            "customer_links" => within(
                "id",
                union([
                    look_up(
                        "customer_links",
                        "id",
                        "customer_a",
                        self.customers.as_deref(),
                    ),
                    look_up(
                        "customer_links",
                        "id",
                        "customer_b",
                        self.customers.as_deref(),
                    ),
                ]),
            ),
            "encounters" => within("id", self.encounter_ids()),
            "captures" => within("encounter_id", self.encounter_ids()),
            "responses" => {
                let [a, b] = self.by_case_ref("responses", "id", "case_ref");
                within(
                    "id",
                    union([
                        look_up("responses", "id", "customer_ref", self.refs.as_deref()),
                        a,
                        b,
                        self.addresses.as_ref().map(|l| format!(
                            "SELECT r.id FROM follow_ups f JOIN responses r ON r.survey_id = f.survey_id AND r.response_key = f.response_key WHERE f.workspace_id = $1 AND f.contact IN ({l})"
                        )),
                    ]),
                )
            }
            "invitations" => {
                let [a, b] = self.by_case_ref("invitations", "id", "case_ref");
                within(
                    "id",
                    union([
                        look_up("invitations", "id", "customer_ref", self.refs.as_deref()),
                        a,
                        b,
                    ]),
                )
            }
            "follow_ups" => within("id", self.follow_up_ids()),
            "follow_up_events" | "follow_up_escalations" => {
                within("follow_up_id", self.follow_up_ids())
            }
            "cases" => within("id", self.case_ids()),
            "case_subscriptions" => within(
                "id",
                union([
                    Some(format!(
                        "SELECT id FROM case_subscriptions WHERE case_id IN ({})",
                        self.case_ids()
                    )),
                    look_up(
                        "case_subscriptions",
                        "id",
                        "email",
                        self.addresses.as_deref(),
                    ),
                ]),
            ),
            "case_changes" | "case_links" | "case_opens" => within("case_id", self.case_ids()),
            "consents" => {
                let [a, b, c, d] = self.found_addresses("consents", "contact");
                within(
                    "id",
                    union([
                        look_up("consents", "id", "subject", self.refs.as_deref()),
                        a,
                        b,
                        c,
                        d,
                    ]),
                )
            }
            "mail_queue" => {
                let [a, b, c, d] = self.found_addresses("mail_queue", "to_addr");
                within("id", union([a, b, c, d]))
            }
            other => unreachable!("{other} is not a table of a person's data"),
        }
    }
}

/// One row as exported: column → value (numbers, texts; JSON texts as JSON).
pub type Row_ = serde_json::Map<String, serde_json::Value>;

/// Everything held about one person, table by table (only tables with rows).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[schema(as = PersonRecord)]
pub struct Record {
    #[schema(value_type = Object)]
    pub tables: BTreeMap<String, Vec<Row_>>,
    /// Tables where more rows matched than an export carries ([`MAX_ROWS`]).
    pub truncated: Vec<String>,
}

/// At most this many rows of one table in an export.
pub const MAX_ROWS: i64 = 100_000;

/// A free-text value elsewhere that contains one of the person's terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Mention {
    pub table: String,
    pub column: String,
    /// The row's id (or encounter id for captures).
    pub row: Id,
    /// Which term it contains.
    pub term: String,
}

/// What an erasure removed (or, in a dry run, would remove).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Erasure {
    pub dry_run: bool,
    /// Rows per table.
    pub counts: BTreeMap<String, i64>,
    /// Free text elsewhere that names the person, for a person to review: listed by
    /// the preview (a dry run); the erasure itself does not scan again.
    pub review: Vec<Mention>,
    /// The ledger entry written (none in a dry run).
    pub ledger_id: Option<Id>,
    /// SQLite: whether the WAL was checkpointed and truncated afterwards, so the
    /// erased bytes are gone from both files (false if readers kept it busy).
    pub checkpointed: bool,
    /// Milliseconds the erasure's transaction took (with the rollup corrections), and
    /// (in a preview) the scan of free text elsewhere after it.
    pub transaction_ms: u64,
    pub review_ms: u64,
}

impl Erasure {
    pub fn total(&self) -> i64 {
        self.counts.values().sum()
    }
}

/// A column's value as JSON, whatever its type.
fn value(row: &AnyRow, i: usize, col: reg::Col) -> serde_json::Value {
    use serde_json::Value;
    if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
        return v.map(Value::from).unwrap_or(Value::Null);
    }
    if let Ok(v) = row.try_get::<Option<String>, _>(i) {
        return match v {
            None => Value::Null,
            // JSON texts (answers, attributes, names by language) as JSON.
            Some(t) if col == reg::Col::FreeText && (t.starts_with('{') || t.starts_with('[')) => {
                serde_json::from_str(&t).unwrap_or(Value::String(t))
            }
            Some(t) => Value::String(t),
        };
    }
    if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
        return v.map(Value::from).unwrap_or(Value::Null);
    }
    Value::Null
}

impl Store {
    /// SQLite's query plan of each table's look-up of a person (lines of `EXPLAIN
    /// QUERY PLAN`), for the test that none reads a whole table.
    #[doc(hidden)]
    pub async fn subject_plans(&self, ws: Id, s: &Subject) -> Result<Vec<(String, Vec<String>)>> {
        let f = Finder::new(ws, s);
        let mut out = vec![];
        for name in ERASE_ORDER {
            let explain = match self.backend() {
                Backend::Sqlite => "EXPLAIN QUERY PLAN",
                Backend::Postgres => "EXPLAIN",
            };
            let sql = format!("{explain} SELECT 1 FROM {name} WHERE {}", f.condition(name));
            let rows = bind(sqlx::query(&sql).persistent(false), f.vals.clone())
                .fetch_all(self.pool())
                .await?;
            let lines = rows
                .iter()
                .map(|r| {
                    r.try_get::<String, _>(if self.backend() == Backend::Sqlite {
                        3
                    } else {
                        0
                    })
                })
                .collect::<std::result::Result<Vec<_>, _>>()?;
            out.push(((*name).to_owned(), lines));
        }
        Ok(out)
    }

    /// Everything held about the person, every declared column of every table of
    /// customers' data (at most [`MAX_ROWS`] rows of a table).
    pub async fn subject_record(&self, ws: Id, s: &Subject) -> Result<Record> {
        let f = Finder::new(ws, s);
        let mut out = Record::default();
        let mut c = self.pool().acquire().await?;
        for name in ERASE_ORDER.iter().rev() {
            let t = reg::table(name).ok_or(StoreError::NotFound)?;
            let cols: Vec<&str> = t.columns.iter().map(|(c, _)| *c).collect();
            // No ORDER BY: asked for an order with a LIMIT, SQLite walked the primary
            // key of 10 M responses testing each row (a second per person); the few
            // rows are sorted here.
            let sql = format!(
                "SELECT {} FROM {name} WHERE {} LIMIT {}",
                cols.join(", "),
                f.condition(name),
                MAX_ROWS + 1
            );
            let rows = bind(sqlx::query(&sql).persistent(false), f.vals.clone())
                .fetch_all(&mut *c)
                .await?;
            if rows.len() as i64 > MAX_ROWS {
                out.truncated.push((*name).to_owned());
            }
            let mut rows: Vec<Row_> = rows
                .iter()
                .take(MAX_ROWS as usize)
                .map(|r| {
                    r.columns()
                        .iter()
                        .enumerate()
                        .map(|(i, col)| (col.name().to_owned(), value(r, i, t.columns[i].1)))
                        .collect()
                })
                .collect();
            // In the order of their first column (the id, or the key they hang on).
            let first = cols.first().copied().unwrap_or_default();
            rows.sort_by(|a, b| {
                let k = |r: &Row_| r.get(first).and_then(serde_json::Value::as_i64);
                k(a).cmp(&k(b)).then_with(|| {
                    a.get(first)
                        .map(|v| v.to_string())
                        .cmp(&b.get(first).map(|v| v.to_string()))
                })
            });
            if !rows.is_empty() {
                out.tables.insert((*name).to_owned(), rows);
            }
        }
        Ok(out)
    }

    /// Erases the person's rows in one transaction: score and encounter rollups are
    /// corrected in it, the erasure is written to the deletion ledger (`ledger_keys`:
    /// keyed hashes of what found the person, never the values) and to the audit
    /// trail. A dry run does all of it and rolls back, so it shows exactly what would
    /// go, and lists free text elsewhere containing one of `terms` for review.
    /// Erasing again finds nothing and changes nothing (no ledger entry either).
    pub async fn erase_subject(
        &self,
        ws: Id,
        s: &Subject,
        terms: &[String],
        ledger_keys: Option<&[String]>,
        by: &Actor,
        dry_run: bool,
    ) -> Result<Erasure> {
        let f = Finder::new(ws, s);
        let started = std::time::Instant::now();
        let (_gate, mut tx) = self.write().await?;
        let r = async {
            let mut out = Erasure {
                dry_run,
                ..Default::default()
            };
            for name in ERASE_ORDER {
                let n = erase_table(&mut tx, ws, &f, name).await?;
                if n > 0 {
                    out.counts.insert((*name).to_owned(), n);
                }
            }
            if out.total() > 0 && !dry_run && ledger_keys.is_none() {
                // Re-applying the ledger to a restored backup: the entry is there.
                let counts = serde_json::to_string(&out.counts).unwrap_or_default();
                append(&mut tx, ws, by, "privacy.reapply", "deletion ledger", &counts).await?;
            }
            if let (Some(ledger_keys), true) = (ledger_keys, out.total() > 0 && !dry_run) {
                let counts = serde_json::to_string(&out.counts).unwrap_or_default();
                let keys = serde_json::to_string(ledger_keys).unwrap_or_default();
                let at = crate::now_text();
                let id: Id = sqlx::query_scalar("INSERT INTO deletion_ledger (workspace_id, subject_keys, counts, erased_by, erased_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                    .bind(ws)
                    .bind(keys)
                    .bind(&counts)
                    .bind(&by.0)
                    .bind(&at)
                    .fetch_one(&mut *tx)
                    .await?;
                out.ledger_id = Some(id);
                append(&mut tx, ws, by, "privacy.erase", &format!("ledger {id}"), &counts).await?;
            }
            Ok(out)
        }
        .await;
        let mut out = match r {
            // Nothing of a dry run stays.
            Ok(o) if dry_run => {
                tx.rollback().await?;
                o
            }
            r => self.finish(tx, r).await?,
        };
        out.transaction_ms = started.elapsed().as_millis() as u64;
        if dry_run {
            // The preview lists free text elsewhere that names the person: a scan of
            // the workspace's free text (seconds at 10 M rows), so after the rollback,
            // outside the write lock, leaving out the person's own rows. The erasure
            // itself does not scan again (the preview has listed them).
            let scan = std::time::Instant::now();
            let mut c = self.pool().acquire().await?;
            out.review = mentions(&mut c, self.backend() == Backend::Sqlite, &f, terms).await?;
            out.review_ms = scan.elapsed().as_millis() as u64;
        } else if out.total() > 0 {
            out.checkpointed = self.forget_freed_pages().await;
        }
        Ok(out)
    }

    /// Withdraws every consent the person gave, in one transaction, and stops
    /// contact at once: queued e-mail to them is cancelled, case e-mail unsubscribed,
    /// follow-ups no longer allowed to contact them (their contact detail removed).
    /// Audited as `privacy.withdraw` under `name` (a keyed hash of the person).
    pub async fn withdraw_consents(
        &self,
        ws: Id,
        s: &Subject,
        by: &Actor,
        name: &str,
    ) -> Result<Withdrawal> {
        let f = Finder::new(ws, s);
        let now = crate::now_text();
        let (_gate, mut tx) = self.write().await?;
        let r = async {
            let at = f.vals.len() + 1;
            let mut stamped = f.vals.clone();
            stamped.push(now.clone().into());
            // The mail first: which mail is theirs reads the addresses cleared below.
            let mail_cancelled = exec(&mut tx, &format!("DELETE FROM mail_queue WHERE status = 'queued' AND {}", f.condition("mail_queue")), f.vals.clone()).await?;
            let consents = exec(&mut tx, &format!("UPDATE consents SET withdrawn_at = ${at} WHERE withdrawn_at IS NULL AND {}", f.condition("consents")), stamped.clone()).await?;
            let subscriptions = exec(&mut tx, &format!("UPDATE case_subscriptions SET unsubscribed_at = ${at} WHERE unsubscribed_at IS NULL AND {}", f.condition("case_subscriptions")), stamped.clone()).await?;
            let follow_ups = exec(&mut tx, &format!("UPDATE follow_ups SET may_contact = 0, contact = NULL, updated_at = ${at} WHERE (may_contact = 1 OR contact IS NOT NULL) AND {}", f.condition("follow_ups")), stamped).await?;
            let out = Withdrawal { consents, subscriptions, follow_ups, mail_cancelled };
            let detail = format!("{consents} consents, {subscriptions} subscriptions, {follow_ups} follow-ups, {mail_cancelled} e-mails cancelled");
            append(&mut tx, ws, by, "privacy.withdraw", name, &detail).await?;
            Ok(out)
        }
        .await;
        self.finish(tx, r).await
    }

    /// SQLite: moves the WAL into the database file and truncates it, so rows deleted
    /// (their bytes zeroed by `secure_delete`) are gone from both files. Retried
    /// briefly while readers hold old snapshots. PostgreSQL: nothing to do here (see
    /// docs/PRIVACY.md on VACUUM).
    pub async fn forget_freed_pages(&self) -> bool {
        if self.backend() != Backend::Sqlite {
            return false;
        }
        for _ in 0..20 {
            let r = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(self.pool())
                .await;
            if let Ok(row) = r {
                if row.try_get::<i64, _>(0).unwrap_or(1) == 0 {
                    return true;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        false
    }

    /// A consistent copy of the SQLite database while it serves (`VACUUM INTO`: one
    /// read transaction, so a snapshot; no free pages, so nothing erased comes along).
    /// The file must not exist.
    pub async fn backup_sqlite(&self, path: &str) -> Result<()> {
        if self.backend() != Backend::Sqlite {
            return Err(StoreError::Conflict(
                "backup_sqlite needs SQLite; PostgreSQL is backed up with pg_dump".into(),
            ));
        }
        sqlx::query("VACUUM INTO $1")
            .bind(path)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Every value in the workspace that can find a person, for re-applying the
    /// deletion ledger: ("ref" | "case" | "address", value). Read once, distinct.
    pub async fn subject_candidates(&self, ws: Id) -> Result<Vec<(&'static str, String)>> {
        const SOURCES: &[(&str, &str, &str)] = &[
            ("ref", "customer_identifiers", "ident"),
            ("ref", "responses", "customer_ref"),
            ("ref", "invitations", "customer_ref"),
            ("ref", "follow_ups", "customer"),
            ("ref", "cases", "customer"),
            ("case", "cases", "reference"),
            ("case", "responses", "case_ref"),
            ("case", "invitations", "case_ref"),
            ("case", "encounters", "case_ref"),
            ("case", "follow_ups", "case_ref"),
            ("address", "case_subscriptions", "email"),
            ("address", "follow_ups", "contact"),
            ("address", "mail_queue", "to_addr"),
        ];
        let mut out = vec![];
        for (kind, table, col) in SOURCES {
            let sql = format!(
                "SELECT DISTINCT {col} FROM {table} WHERE workspace_id = $1 AND {col} IS NOT NULL"
            );
            for v in sqlx::query_scalar::<_, String>(&sql)
                .bind(ws)
                .fetch_all(self.pool())
                .await?
            {
                out.push((*kind, v));
            }
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    /// Adds a ledger entry kept elsewhere (another copy of this installation's
    /// database) unless the same entry is here; returns whether it was added.
    pub async fn keep_ledger_entry(&self, ws: Id, e: &LedgerEntry) -> Result<bool> {
        let keys = serde_json::to_string(&e.keys).unwrap_or_default();
        let counts = serde_json::to_string(&e.counts).unwrap_or_default();
        let (_gate, mut tx) = self.write().await?;
        let r = async {
            let n = sqlx::query("INSERT INTO deletion_ledger (workspace_id, subject_keys, counts, erased_by, erased_at) SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM workspaces WHERE id = $1) AND NOT EXISTS (SELECT 1 FROM deletion_ledger WHERE workspace_id = $1 AND subject_keys = $2 AND erased_at = $5)")
                .bind(ws)
                .bind(&keys)
                .bind(&counts)
                .bind(&e.erased_by)
                .bind(&e.erased_at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            Ok(n > 0)
        }
        .await;
        self.finish(tx, r).await
    }

    /// Every workspace's ledger entries: (workspace, entry).
    pub async fn all_ledger_entries(&self) -> Result<Vec<(Id, LedgerEntry)>> {
        let ws: Vec<Id> = sqlx::query_scalar(
            "SELECT DISTINCT workspace_id FROM deletion_ledger ORDER BY workspace_id",
        )
        .fetch_all(self.pool())
        .await?;
        let mut out = vec![];
        for w in ws {
            out.extend(self.deletion_ledger(w).await?.into_iter().map(|e| (w, e)));
        }
        Ok(out)
    }

    /// Every erasure recorded in the workspace's ledger: (id, keys, counts, by, at).
    pub async fn deletion_ledger(&self, ws: Id) -> Result<Vec<LedgerEntry>> {
        let rows = sqlx::query("SELECT id, subject_keys, counts, erased_by, erased_at FROM deletion_ledger WHERE workspace_id = $1 ORDER BY id")
            .bind(ws)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(LedgerEntry {
                    id: r.try_get(0)?,
                    keys: serde_json::from_str(&r.try_get::<String, _>(1)?).unwrap_or_default(),
                    counts: serde_json::from_str(&r.try_get::<String, _>(2)?).unwrap_or_default(),
                    erased_by: r.try_get(3)?,
                    erased_at: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// Writes an audit entry in its own transaction (reads of a person's record,
    /// exports, retention runs).
    pub async fn audit(
        &self,
        ws: Id,
        by: &Actor,
        action: &str,
        object: &str,
        detail: &str,
    ) -> Result<()> {
        let (_gate, mut tx) = self.write().await?;
        let r = append(&mut tx, ws, by, action, object, detail).await;
        self.finish(tx, r).await
    }

    /// Checks the workspace's audit chain from its first entry to the stored head.
    /// Entries written before the chain existed are chained by the first append, so
    /// a workspace with unchained entries and no head has nothing to check yet.
    pub async fn verify_audit(&self, ws: Id) -> Result<Result<i64, ChainBreak>> {
        let rows = sqlx::query("SELECT id, seq, actor, action, object, detail, at, prev_hash, hash FROM audit_log WHERE workspace_id = $1 AND seq IS NOT NULL ORDER BY seq")
            .bind(ws)
            .fetch_all(self.pool())
            .await?;
        let entries = rows
            .iter()
            .map(|r| {
                Ok(StoredEntry {
                    id: r.try_get(0)?,
                    seq: r.try_get(1)?,
                    actor: r.try_get::<Option<String>, _>(2)?.unwrap_or_default(),
                    action: r.try_get(3)?,
                    object: r.try_get(4)?,
                    detail: r.try_get(5)?,
                    at: r.try_get(6)?,
                    prev_hash: r.try_get::<Option<String>, _>(7)?.unwrap_or_default(),
                    hash: r.try_get::<Option<String>, _>(8)?.unwrap_or_default(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let head: Option<(i64, String, i64, String)> = sqlx::query(
            "SELECT seq, hash, pruned_seq, pruned_hash FROM audit_heads WHERE workspace_id = $1",
        )
        .bind(ws)
        .fetch_optional(self.pool())
        .await?
        .map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
        .transpose()?;
        // Entries without a place in the chain after it began were added around it.
        let unchained: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE workspace_id = $1 AND seq IS NULL",
        )
        .bind(ws)
        .fetch_one(self.pool())
        .await?;
        if head.is_some() && unchained > 0 {
            return Ok(Err(ChainBreak {
                seq: 0,
                id: 0,
                reason: "entry-outside-chain",
            }));
        }
        let start = head.as_ref().map_or((0, ""), |h| (h.2, h.3.as_str()));
        Ok(reg::verify_chain(
            ws,
            &entries,
            start,
            head.as_ref().map(|h| (h.0, h.1.as_str())),
        )
        .map(|()| entries.len() as i64))
    }
}

/// What withdrawing a person's consents changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Withdrawal {
    pub consents: i64,
    pub subscriptions: i64,
    pub follow_ups: i64,
    pub mail_cancelled: i64,
}

/// One erasure as the ledger keeps it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct LedgerEntry {
    pub id: Id,
    pub keys: Vec<String>,
    pub counts: BTreeMap<String, i64>,
    pub erased_by: String,
    pub erased_at: String,
}

/// Who acted, as the audit trail and the ledger keep it: `user:<id>`,
/// `token:<name>`, `system`, `retention`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(pub String);

impl Actor {
    pub fn user(id: Id) -> Self {
        Self(format!("user:{id}"))
    }
    pub fn system() -> Self {
        Self("system".into())
    }
    fn user_id(&self) -> Option<Id> {
        self.0.strip_prefix("user:").and_then(|u| u.parse().ok())
    }
}

/// Deletes the person's rows of one table, keeping rollups exact; returns how many.
async fn erase_table(tx: &mut Tx, ws: Id, f: &Finder, name: &str) -> Result<i64> {
    let cond = f.condition(name);
    match name {
        "responses" => {
            let sql = format!("DELETE FROM responses WHERE {cond} RETURNING survey_id, complete, nps, csat, ces, touchpoint_id, day, channel, locale, suspect");
            let rows = bind(sqlx::query(&sql).persistent(false), f.vals.clone())
                .fetch_all(&mut **tx)
                .await?;
            crate::feedback::subtract_from_rollups(tx, ws, &rows).await?;
            Ok(rows.len() as i64)
        }
        "encounters" => delete_encounters(tx, ws, &cond, f.vals.clone()).await,
        _ => {
            let sql = format!("DELETE FROM {name} WHERE {cond}");
            Ok(bind(sqlx::query(&sql).persistent(false), f.vals.clone())
                .execute(&mut **tx)
                .await?
                .rows_affected() as i64)
        }
    }
}

/// Runs a statement; how many rows it changed.
async fn exec(tx: &mut Tx, sql: &str, vals: Vec<Val>) -> Result<i64> {
    Ok(bind(sqlx::query(sql).persistent(false), vals)
        .execute(&mut **tx)
        .await?
        .rows_affected() as i64)
}

/// Deletes the encounters `cond` picks (their captures go with them) and takes them
/// out of the encounter rollups; returns how many.
pub(crate) async fn delete_encounters(
    tx: &mut Tx,
    ws: Id,
    cond: &str,
    vals: Vec<Val>,
) -> Result<i64> {
    crate::mining_rollup::mark_stale(tx, ws).await?;
    let sql = format!("DELETE FROM encounters WHERE {cond} RETURNING touchpoint_id, occurred_at");
    let rows = bind(sqlx::query(&sql).persistent(false), vals)
        .fetch_all(&mut **tx)
        .await?;
    let mut per: BTreeMap<(Id, String), i64> = BTreeMap::new();
    for r in &rows {
        if let Some(tp) = r.try_get::<Option<Id>, _>(0)? {
            let at: String = r.try_get(1)?;
            *per.entry((tp, at.get(..10).unwrap_or_default().to_owned()))
                .or_default() += 1;
        }
    }
    for ((tp, day), n) in per {
        sqlx::query("UPDATE encounter_rollups SET encounters = encounters - $4 WHERE workspace_id = $1 AND touchpoint_id = $2 AND day = $3")
            .bind(ws)
            .bind(tp)
            .bind(day)
            .bind(n)
            .execute(&mut **tx)
            .await?;
    }
    Ok(rows.len() as i64)
}

/// At most this many rows of one table are listed for review.
pub const MAX_REVIEW_ROWS: i64 = 100;

/// A SQLite `GLOB` pattern that finds `term` anywhere, in any letter case: each
/// letter that has two cases becomes a class of both (SQLite's `LIKE` and `LOWER`
/// fold ASCII letters only, so `Äijälä` would not find `äijälä`); `*`, `?` and `[`
/// are matched literally.
pub fn glob_any_case(term: &str) -> String {
    let mut out = String::from("*");
    for ch in term.chars() {
        let (mut lo, mut up) = (ch.to_lowercase(), ch.to_uppercase());
        match (lo.next(), lo.next(), up.next(), up.next()) {
            (Some(l), None, Some(u), None) if l != u => {
                out.push('[');
                out.push(l);
                out.push(u);
                out.push(']');
            }
            _ if matches!(ch, '*' | '?' | '[') => {
                out.push('[');
                out.push(ch);
                out.push(']');
            }
            _ => out.push(ch),
        }
    }
    out.push('*');
    out
}

/// A `LIKE` pattern (escaped with a backslash) that finds the lowercased `term` anywhere.
fn like_anywhere(term: &str) -> String {
    format!(
        "%{}%",
        term.to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    )
}

/// Free-text values of customers' data in the workspace that contain one of the
/// terms in any letter case (terms under 4 characters are skipped as too common),
/// leaving out the person's own rows (`f`): one pass over each table that has free
/// text, all its columns and terms at once, the first [`MAX_REVIEW_ROWS`] rows of
/// each. The workspace condition is written `+workspace_id` so that neither backend
/// walks an index of the workspace and fetches every row from it: a pass in key order
/// reads the table once, in order.
async fn mentions(
    c: &mut sqlx::AnyConnection,
    sqlite: bool,
    f: &Finder,
    terms: &[String],
) -> Result<Vec<Mention>> {
    let mut terms: Vec<String> = terms
        .iter()
        .filter(|t| t.chars().count() >= 4)
        .map(|t| t.to_lowercase())
        .collect();
    terms.sort();
    terms.dedup();
    if terms.is_empty() {
        return Ok(vec![]);
    }
    let mut tables: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (table, column) in reg::free_text() {
        tables.entry(table).or_default().push(column);
    }
    let mut out = vec![];
    for (table, columns) in tables {
        let key = if table == "captures" {
            "encounter_id"
        } else {
            "id"
        };
        let mut vals = f.vals.clone();
        let mut any = vec![];
        for column in &columns {
            for t in &terms {
                let (test, pattern) = if sqlite {
                    ("GLOB", glob_any_case(t))
                } else {
                    ("LIKE", like_anywhere(t))
                };
                vals.push(pattern.into());
                let n = vals.len();
                any.push(if sqlite {
                    format!("{column} {test} ${n}")
                } else {
                    format!("LOWER({column}) {test} ${n} ESCAPE '\\'")
                });
            }
        }
        let sql = format!(
            "SELECT {key}, {} FROM {table} WHERE +workspace_id = $1 AND ({}) AND NOT ({}) ORDER BY {key} LIMIT {MAX_REVIEW_ROWS}",
            columns.join(", "),
            any.join(" OR "),
            f.condition(table)
        );
        let rows = bind(sqlx::query(&sql).persistent(false), vals)
            .fetch_all(&mut *c)
            .await?;
        for r in rows {
            let id: Id = r.try_get(0)?;
            for (k, column) in columns.iter().enumerate() {
                let text: Option<String> = r.try_get(k + 1)?;
                let text = text.unwrap_or_default().to_lowercase();
                for t in terms.iter().filter(|t| text.contains(t.as_str())) {
                    out.push(Mention {
                        table: table.to_owned(),
                        column: (*column).to_owned(),
                        row: id,
                        term: t.clone(),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// Appends an entry to the workspace's audit chain (see migration 0017): takes the
/// chain head's row lock, chains any entries written before the chain began, and
/// writes the entry with its sequence number and hashes.
pub(crate) async fn append(
    tx: &mut Tx,
    ws: Id,
    by: &Actor,
    action: &str,
    object: &str,
    detail: &str,
) -> Result<()> {
    sqlx::query("INSERT INTO audit_heads (workspace_id, seq, hash) VALUES ($1, 0, '') ON CONFLICT (workspace_id) DO NOTHING")
        .bind(ws)
        .execute(&mut **tx)
        .await?;
    // A no-op update: it locks the head row until commit (PostgreSQL), so appends of
    // one workspace queue; SQLite's write gate already serialises writers.
    let head =
        sqlx::query("UPDATE audit_heads SET seq = seq WHERE workspace_id = $1 RETURNING seq, hash")
            .bind(ws)
            .fetch_one(&mut **tx)
            .await?;
    let (mut seq, mut prev): (i64, String) = (head.try_get(0)?, head.try_get(1)?);
    if seq == 0 {
        (seq, prev) = chain_earlier(tx, ws).await?;
    }
    let at = crate::now_text();
    seq += 1;
    let hash = reg::chain_hash(
        &prev,
        &AuditFields {
            workspace_id: ws,
            seq,
            actor: &by.0,
            action,
            object,
            detail,
            at: &at,
        },
    );
    sqlx::query("INSERT INTO audit_log (workspace_id, user_id, action, object, detail, at, actor, seq, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
        .bind(ws)
        .bind(by.user_id())
        .bind(action)
        .bind(object)
        .bind(detail)
        .bind(&at)
        .bind(&by.0)
        .bind(seq)
        .bind(&prev)
        .bind(&hash)
        .execute(&mut **tx)
        .await?;
    sqlx::query("UPDATE audit_heads SET seq = $2, hash = $3 WHERE workspace_id = $1")
        .bind(ws)
        .bind(seq)
        .bind(&hash)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Chains the entries written before the chain began (id order; their actor is
/// their user, or `system`). Returns the last (seq, hash).
async fn chain_earlier(tx: &mut Tx, ws: Id) -> Result<(i64, String)> {
    let rows = sqlx::query("SELECT id, user_id, action, object, detail, at FROM audit_log WHERE workspace_id = $1 AND seq IS NULL ORDER BY id")
        .bind(ws)
        .fetch_all(&mut **tx)
        .await?;
    let (mut seq, mut prev) = (0i64, String::new());
    for r in &rows {
        let id: Id = r.try_get(0)?;
        let actor = match r.try_get::<Option<Id>, _>(1)? {
            Some(u) => Actor::user(u).0,
            None => Actor::system().0,
        };
        let (action, object, detail, at): (String, String, String, String) =
            (r.try_get(2)?, r.try_get(3)?, r.try_get(4)?, r.try_get(5)?);
        seq += 1;
        let hash = reg::chain_hash(
            &prev,
            &AuditFields {
                workspace_id: ws,
                seq,
                actor: &actor,
                action: &action,
                object: &object,
                detail: &detail,
                at: &at,
            },
        );
        sqlx::query(
            "UPDATE audit_log SET actor = $2, seq = $3, prev_hash = $4, hash = $5 WHERE id = $1",
        )
        .bind(id)
        .bind(&actor)
        .bind(seq)
        .bind(&prev)
        .bind(&hash)
        .execute(&mut **tx)
        .await?;
        prev = hash;
    }
    Ok((seq, prev))
}

#[cfg(test)]
mod tests {
    use super::glob_any_case;

    #[test]
    fn glob_patterns_match_any_letter_case_and_special_characters_literally() {
        assert_eq!(glob_any_case("Äb1"), "*[äÄ][bB]1*");
        assert_eq!(glob_any_case("a*?[z"), "*[aA][*][?][[][zZ]*");
        // A letter whose case mapping is more than one character stays as it is.
        assert_eq!(glob_any_case("ß"), "*ß*");
        assert_eq!(glob_any_case("@-."), "*@-.*");
    }
}
