//! A person's rights over their data: find and export everything held about them
//! (subject access), erase it (with a dry run), and the audit trail that records each
//! of these. Only a privacy officer or an admin may; every look-up, export and
//! erasure is audited under a keyed hash of the person, never their identifier.

use kohtaamo_domain::encounters::Identifier;
use kohtaamo_domain::model::Role;
use kohtaamo_domain::{FieldErrors, Id, Reason};
use kohtaamo_storage::privacy::{Actor, Erasure, Record, Subject};
use kohtaamo_storage::Store;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::encounters::Pseudonymiser;
use crate::{Error, Result};

/// The installation secret that keys the deletion ledger and the audit trail's
/// mention of a person.
const LEDGER_SECRET: &str = "deletion-ledger";

/// Who a privacy request is about, as an officer gives it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectInput {
    /// Identifiers of the person (`crm:12345`, `email:maija@example.fi`, a bare
    /// customer reference).
    #[serde(default)]
    pub identifiers: Vec<String>,
    /// Case references of the person's cases (their other cases are found).
    #[serde(default)]
    pub case_refs: Vec<String>,
    /// Words that name the person (a name) to look for in free text elsewhere: such
    /// text is listed for review, never changed automatically.
    #[serde(default)]
    pub names: Vec<String>,
}

/// The validated request: identifiers parsed, references trimmed.
#[derive(Debug, Clone)]
pub struct SubjectQuery {
    identifiers: Vec<Identifier>,
    case_refs: Vec<String>,
    names: Vec<String>,
}

impl SubjectInput {
    pub fn parse(&self) -> std::result::Result<SubjectQuery, FieldErrors> {
        let mut e = FieldErrors::new();
        let mut identifiers = vec![];
        for (i, s) in self.identifiers.iter().enumerate() {
            if let Some(id) = e.take(&format!("identifiers[{i}]"), Identifier::parse(s)) {
                identifiers.push(id);
            }
        }
        let mut case_refs = vec![];
        for (i, s) in self.case_refs.iter().enumerate() {
            let t = s.trim();
            if t.is_empty()
                || t.chars().count() > kohtaamo_domain::survey::MAX_REF
                || t.chars().any(char::is_control)
            {
                e.add(format!("case_refs[{i}]"), Reason::new("bad-identifier"));
            } else {
                case_refs.push(t.to_owned());
            }
        }
        let mut names = vec![];
        for (i, s) in self.names.iter().enumerate() {
            let t = s.trim();
            if t.chars().count() < 4 || t.chars().count() > 200 || t.chars().any(char::is_control) {
                e.add(format!("names[{i}]"), Reason::new("term-length"));
            } else {
                names.push(t.to_owned());
            }
        }
        for (field, n) in [
            ("identifiers", self.identifiers.len()),
            ("case_refs", self.case_refs.len()),
            ("names", self.names.len()),
        ] {
            if n > 20 {
                e.add(field, Reason::new("too-many").with("max", "20"));
            }
        }
        if self.identifiers.is_empty() && self.case_refs.is_empty() {
            e.add("identifiers", Reason::new("subject-needed"));
        }
        e.into_result(|| SubjectQuery {
            identifiers,
            case_refs,
            names,
        })
    }
}

async fn workspace_slug(store: &Store, ws: Id) -> Result<String> {
    Ok(store
        .workspace_by_id(ws)
        .await?
        .ok_or(Error::NotFound)?
        .data
        .slug
        .to_string())
}

fn officer(role: Role) -> Result<()> {
    if role.can_handle_privacy() {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "only a privacy officer or an admin may find, export or erase a person's data".into(),
        ))
    }
}

/// Keys values with the ledger secret (HMAC-SHA-256, hex).
struct Keyer(String);

impl Keyer {
    async fn load(store: &Store) -> Result<Self> {
        Ok(Self(store.instance_secret(LEDGER_SECRET).await?))
    }
    fn key(&self, v: &str) -> String {
        crate::keyed::hmac_hex(self.0.as_bytes(), &[v.as_bytes()])
    }
}

/// What finds the person, the words to look for elsewhere, and the person's keys.
struct Resolved {
    subject: Subject,
    terms: Vec<String>,
    keys: Vec<String>,
    /// How the audit trail names the person: a keyed hash, never the identifier.
    audit_name: String,
}

async fn resolve(store: &Store, ws: Id, q: &SubjectQuery) -> Result<Resolved> {
    let pseudo = Pseudonymiser::load(store).await?;
    let mut s = Subject::default();
    let mut terms: Vec<String> = q.names.clone();
    for id in &q.identifiers {
        let stored = pseudo.stored(id);
        if let Some(c) = store.customer_by_ident(ws, &stored).await? {
            s.customers.extend(store.customer_group(ws, c).await?);
        }
        s.refs.push(stored);
        s.refs.extend(id.feedback_refs());
        // Feedback keeps a customer reference as the sender gave it, so a personal
        // identifier may be there in the clear, with its kind or bare.
        s.refs.push(format!("{}:{}", id.kind(), id.value()));
        if id.is_personal() || id.kind() == "ref" {
            s.refs.push(id.value().to_owned());
        }
        if id.kind() == "email" {
            s.addresses.push(id.value().to_owned());
        }
        terms.push(id.value().to_owned());
    }
    s.customers.sort_unstable();
    s.customers.dedup();
    // The identifiers of every linked customer find their rows too.
    for (_, ident, _) in store.customer_identifiers(ws, &s.customers).await? {
        if let Ok(i) = Identifier::parse(&ident) {
            s.refs.extend(i.feedback_refs());
        }
        s.refs.push(ident);
    }
    s.case_refs = q.case_refs.clone();
    terms.extend(q.case_refs.iter().cloned());
    for v in [&mut s.refs, &mut s.case_refs, &mut s.addresses, &mut terms] {
        v.sort_unstable();
        v.dedup();
    }
    let keyer = Keyer::load(store).await?;
    let mut keys: Vec<String> = s
        .refs
        .iter()
        .map(|r| format!("ref {r}"))
        .chain(s.case_refs.iter().map(|r| format!("case {r}")))
        .chain(s.addresses.iter().map(|a| format!("address {a}")))
        .map(|v| keyer.key(&v))
        .collect();
    keys.sort_unstable();
    let first = q
        .identifiers
        .first()
        .map(|i| format!("ref {}", pseudo.stored(i)))
        .or_else(|| q.case_refs.first().map(|r| format!("case {r}")))
        .unwrap_or_default();
    let audit_name = format!("subject #{}", &keyer.key(&first)[..16]);
    Ok(Resolved {
        subject: s,
        terms,
        keys,
        audit_name,
    })
}

/// Records that `reader` read a person's record (`what`: `ref <stored identifier>`,
/// `case <reference>` or `follow-up <id>`) on `via` (`timeline`, `case`,
/// `follow-up`), as `record.read` under a keyed hash of it.
pub async fn audit_read(
    store: &Store,
    ws: Id,
    reader: &Actor,
    what: &str,
    via: &str,
) -> Result<()> {
    let keyer = Keyer::load(store).await?;
    let name = format!("subject #{}", &keyer.key(what)[..16]);
    Ok(store.audit(ws, reader, "record.read", &name, via).await?)
}

/// A consent the person gave, as the export shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Consent {
    /// `case-updates` (e-mail on a case's steps) or `contact-about-feedback` (a
    /// survey's contact question).
    pub kind: String,
    pub given_at: Option<String>,
    /// Where it was given: `status-page`, `api`, `survey`.
    pub channel: String,
    /// The consent text as the person saw it, where kept.
    pub text: Option<String>,
    /// The text's version (the first 16 hex digits of its SHA-256).
    pub version: Option<String>,
    /// The address or number it lets Kohtaamo use.
    pub contact: Option<String>,
    pub withdrawn_at: Option<String>,
}

/// Everything held about one person, for them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubjectExport {
    pub workspace: String,
    pub generated_at: String,
    /// Whether anything was found.
    pub found: bool,
    pub consents: Vec<Consent>,
    /// Rows per table, every declared column (see docs/PRIVACY.md for what each is).
    pub record: Record,
}

fn text(row: &kohtaamo_storage::privacy::Row_, col: &str) -> Option<String> {
    row.get(col).and_then(|v| v.as_str()).map(str::to_owned)
}

fn consents(r: &Record) -> Vec<Consent> {
    let mut out = vec![];
    for c in r.tables.get("consents").into_iter().flatten() {
        out.push(Consent {
            kind: text(c, "purpose").unwrap_or_default(),
            given_at: text(c, "given_at"),
            channel: text(c, "channel").unwrap_or_default(),
            text: text(c, "text"),
            version: text(c, "version"),
            contact: text(c, "contact"),
            withdrawn_at: text(c, "withdrawn_at"),
        });
    }
    // Case e-mail given before consents were recorded apart (and still the place
    // that says whether it goes on).
    for s in r.tables.get("case_subscriptions").into_iter().flatten() {
        let given = text(s, "consent").unwrap_or_default();
        if out
            .iter()
            .any(|c| c.contact == text(s, "email") && c.text.as_deref() == Some(given.as_str()))
        {
            continue;
        }
        out.push(Consent {
            kind: "case-updates".into(),
            given_at: text(s, "created_at"),
            channel: text(s, "channel").unwrap_or_default(),
            version: Some(kohtaamo_domain::privacy::consent_version(&given)),
            text: Some(given),
            contact: text(s, "email"),
            withdrawn_at: text(s, "unsubscribed_at"),
        });
    }
    out.sort_by(|a, b| a.given_at.cmp(&b.given_at));
    out
}

/// Finds and exports everything held about the person (privacy officer or admin);
/// audited as `privacy.export`.
pub async fn export(
    store: &Store,
    ws: Id,
    (actor, role): (&Actor, Role),
    input: &SubjectInput,
) -> Result<SubjectExport> {
    officer(role)?;
    let q = input.parse()?;
    let found = resolve(store, ws, &q).await?;
    let record = store.subject_record(ws, &found.subject).await?;
    let rows: usize = record.tables.values().map(Vec::len).sum();
    store
        .audit(
            ws,
            actor,
            "privacy.export",
            &found.audit_name,
            &format!("{rows} rows"),
        )
        .await?;
    let workspace = workspace_slug(store, ws).await?;
    Ok(SubjectExport {
        workspace,
        generated_at: kohtaamo_storage::now_text(),
        found: rows > 0,
        consents: consents(&record),
        record,
    })
}

/// Erases everything held about the person in one transaction (privacy officer or
/// admin), or with `dry_run` shows exactly what would go and changes nothing. Score
/// and encounter rollups stay exact; the erasure goes to the deletion ledger and the
/// audit trail; free text elsewhere naming the person is listed for review.
pub async fn erase(
    store: &Store,
    ws: Id,
    (actor, role): (&Actor, Role),
    input: &SubjectInput,
    dry_run: bool,
) -> Result<Erasure> {
    officer(role)?;
    let q = input.parse()?;
    let found = resolve(store, ws, &q).await?;
    let out = store
        .erase_subject(
            ws,
            &found.subject,
            &found.terms,
            Some(&found.keys),
            actor,
            dry_run,
        )
        .await?;
    if dry_run {
        store
            .audit(
                ws,
                actor,
                "privacy.preview",
                &found.audit_name,
                &format!("{} rows would go", out.total()),
            )
            .await?;
    }
    Ok(out)
}

/// Withdraws every consent the person gave and stops contacting them at once
/// (privacy officer or admin; or the person through a channel that verified them).
pub async fn withdraw(
    store: &Store,
    ws: Id,
    (actor, role): (&Actor, Role),
    input: &SubjectInput,
) -> Result<kohtaamo_storage::privacy::Withdrawal> {
    officer(role)?;
    let q = input.parse()?;
    let found = resolve(store, ws, &q).await?;
    Ok(store
        .withdraw_consents(ws, &found.subject, actor, &found.audit_name)
        .await?)
}

/// The result of checking a workspace's audit chain.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChainCheck {
    pub ok: bool,
    /// Entries checked.
    pub entries: i64,
    /// Where it breaks, when it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broken: Option<kohtaamo_domain::privacy::ChainBreak>,
}

/// Checks the workspace's audit chain (admins and privacy officers).
pub async fn verify_audit(store: &Store, ws: Id, role: Role) -> Result<ChainCheck> {
    officer(role)?;
    Ok(match store.verify_audit(ws).await? {
        Ok(entries) => ChainCheck {
            ok: true,
            entries,
            broken: None,
        },
        Err(b) => ChainCheck {
            ok: false,
            entries: 0,
            broken: Some(b),
        },
    })
}

/// One table as the register declares it (the API's and the pages' view).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegisterTable {
    pub table: &'static str,
    pub holds: kohtaamo_domain::privacy::Holds,
    /// The kind of data (retention and the records of processing speak of these).
    pub kind: Option<kohtaamo_domain::privacy::Kind>,
    /// What finds one person's rows.
    pub found_by: &'static str,
    pub columns: Vec<RegisterColumn>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegisterColumn {
    pub column: &'static str,
    pub holds: kohtaamo_domain::privacy::Col,
}

/// The register of personal data: every table, with the columns of people's data.
pub fn register() -> Vec<RegisterTable> {
    kohtaamo_domain::privacy::REGISTER
        .iter()
        .map(|t| RegisterTable {
            table: t.name,
            holds: t.holds,
            kind: t.kind,
            found_by: t.found_by,
            columns: t
                .columns
                .iter()
                .map(|(c, h)| RegisterColumn {
                    column: c,
                    holds: *h,
                })
                .collect(),
        })
        .collect()
}

/// The workspace's deletion ledger (privacy officer or admin).
pub async fn ledger(
    store: &Store,
    ws: Id,
    role: Role,
) -> Result<Vec<kohtaamo_storage::privacy::LedgerEntry>> {
    officer(role)?;
    Ok(store.deletion_ledger(ws).await?)
}

/// A copy of the deletion ledger that outlives the database it came from: every
/// workspace's entries and the secret that keys them (so keep it as safe as the
/// database: with the secret, a guessed identifier can be checked against it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LedgerFile {
    pub kohtaamo_ledger: u32,
    pub secret: String,
    pub entries: Vec<(Id, kohtaamo_storage::privacy::LedgerEntry)>,
}

/// The installation's whole ledger (the operator's CLI).
pub async fn ledger_file(store: &Store) -> Result<LedgerFile> {
    Ok(LedgerFile {
        kohtaamo_ledger: 1,
        secret: store.instance_secret(LEDGER_SECRET).await?,
        entries: store.all_ledger_entries().await?,
    })
}

/// What re-applying the ledger did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Reapplied {
    /// Entries added from the file (not in the database yet).
    pub added: usize,
    /// Rows erased again, per table (people who came back with an old backup).
    pub counts: std::collections::BTreeMap<String, i64>,
}

/// Makes every erasure in `file` (and in the database's own ledger) hold in this
/// database: adds the entries it lacks, then erases every person a ledger entry
/// names, found by keying every identifier, case reference and address here. Run
/// after restoring a backup, so an erased person does not come back. Idempotent.
pub async fn reapply_ledger(store: &Store, file: Option<&LedgerFile>) -> Result<Reapplied> {
    let mut out = Reapplied::default();
    if let Some(f) = file {
        let here = store
            .set_instance_secret_if_absent(LEDGER_SECRET, &f.secret)
            .await?;
        if here != f.secret {
            return Err(Error::Conflict(
                "this ledger was keyed by another installation's secret".into(),
            ));
        }
        for (ws, e) in &f.entries {
            if store.keep_ledger_entry(*ws, e).await? {
                out.added += 1;
            }
        }
    }
    let keyer = Keyer::load(store).await?;
    let mut per_ws: std::collections::BTreeMap<Id, std::collections::HashSet<String>> =
        Default::default();
    for (ws, e) in store.all_ledger_entries().await? {
        per_ws.entry(ws).or_default().extend(e.keys);
    }
    for (ws, keys) in per_ws {
        let mut s = Subject::default();
        for (kind, value) in store.subject_candidates(ws).await? {
            if !keys.contains(&keyer.key(&format!("{kind} {value}"))) {
                continue;
            }
            match kind {
                "ref" => {
                    if let Some(c) = store.customer_by_ident(ws, &value).await? {
                        s.customers.extend(store.customer_group(ws, c).await?);
                    }
                    s.refs.push(value);
                }
                "case" => s.case_refs.push(value),
                _ => s.addresses.push(value),
            }
        }
        if s.refs.is_empty() && s.case_refs.is_empty() && s.addresses.is_empty() {
            continue;
        }
        s.customers.sort_unstable();
        s.customers.dedup();
        let r = store
            .erase_subject(ws, &s, &[], None, &Actor("restore".into()), false)
            .await?;
        for (t, n) in r.counts {
            *out.counts.entry(t).or_default() += n;
        }
    }
    Ok(out)
}

/// One kind of personal data as the records of processing (GDPR art. 30) describe it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Processing {
    pub kind: kohtaamo_domain::privacy::Kind,
    /// Whose data: customers or staff.
    pub subjects: kohtaamo_domain::privacy::Holds,
    /// Why it is processed (in the language asked for).
    pub purpose: String,
    /// The tables that hold it.
    pub tables: Vec<&'static str>,
    /// Its columns by what they hold (identifier, contact, free_text, about).
    #[schema(value_type = Object)]
    pub categories: std::collections::BTreeMap<String, Vec<String>>,
    /// How long it is kept, as the workspace's retention says (null: no period).
    pub retention_days: Option<i64>,
    pub retention_action: Option<kohtaamo_domain::privacy::Action>,
}

/// Where personal data goes outside Kohtaamo.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Recipient {
    /// `webhook` or `smtp`.
    pub kind: String,
    /// The host (never a full address with a secret).
    pub address: String,
    /// What it receives.
    pub receives: Vec<String>,
}

/// The records of processing of one workspace, generated from the register of
/// personal data, the workspace's retention and its recipients.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Records {
    pub workspace: String,
    pub generated_at: String,
    pub processing: Vec<Processing>,
    pub recipients: Vec<Recipient>,
    /// Where the data is stored.
    pub storage: String,
}

/// Which retention kind governs a kind of data, if any.
fn retained(kind: kohtaamo_domain::privacy::Kind) -> Option<kohtaamo_domain::privacy::Retained> {
    use kohtaamo_domain::privacy::{Kind as K, Retained as R};
    match kind {
        K::Responses => Some(R::Responses),
        K::Encounters => Some(R::Encounters),
        K::Captures => Some(R::Captures),
        K::FollowUps => Some(R::FollowUps),
        K::Cases => Some(R::Cases),
        K::Mail => Some(R::Mail),
        K::Audit => Some(R::Audit),
        _ => None,
    }
}

/// The workspace's records of processing (privacy officer or admin), in `i`'s
/// language.
pub async fn records(
    store: &Store,
    ws: Id,
    role: Role,
    i: &crate::i18n::I18n,
    mailer: Option<&crate::mail::Mailer>,
) -> Result<Records> {
    use kohtaamo_domain::privacy::{Col, Holds, Kind, REGISTER};
    officer(role)?;
    let rules = crate::retention::rules(store, ws).await?;
    let mut processing = vec![];
    for kind in Kind::ALL {
        let tables: Vec<_> = REGISTER.iter().filter(|t| t.kind == Some(*kind)).collect();
        let Some(first) = tables.first() else {
            continue;
        };
        let mut categories: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for t in &tables {
            for (c, h) in t.columns {
                let class = match h {
                    Col::Key => continue,
                    Col::Identifier => "identifier",
                    Col::Contact => "contact",
                    Col::FreeText => "free_text",
                    Col::About => "about",
                };
                categories
                    .entry(class.into())
                    .or_default()
                    .push(format!("{}.{c}", t.name));
            }
        }
        let rule = retained(*kind).and_then(|r| rules.iter().find(|v| v.kind == r));
        processing.push(Processing {
            kind: *kind,
            subjects: if first.holds == Holds::Staff {
                Holds::Staff
            } else {
                Holds::Customers
            },
            purpose: i.t(&format!("privacy-purpose-{}", kind.as_str())),
            tables: tables.iter().map(|t| t.name).collect(),
            categories,
            retention_days: rule.and_then(|r| r.days),
            retention_action: rule.map(|r| r.action),
        });
    }
    let mut recipients = vec![];
    for h in store.webhooks(ws).await? {
        let host = reqwest::Url::parse(&h.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        let mut receives = vec!["review reminders".to_owned(), "score alerts".to_owned()];
        receives.extend(
            h.events
                .iter()
                .map(|e| format!("{e} (with customer identifiers)")),
        );
        recipients.push(Recipient {
            kind: "webhook".into(),
            address: host,
            receives,
        });
    }
    if let Some(m) = mailer {
        recipients.push(Recipient {
            kind: "smtp".into(),
            address: m.relay().to_owned(),
            receives: vec![
                "e-mail to staff (notifications)".into(),
                "e-mail to customers who consented (case updates, recovery surveys)".into(),
            ],
        });
    }
    let workspace = workspace_slug(store, ws).await?;
    Ok(Records {
        workspace,
        generated_at: kohtaamo_storage::now_text(),
        processing,
        recipients,
        storage: match store.backend() {
            kohtaamo_storage::Backend::Sqlite => "SQLite file on this server".into(),
            kohtaamo_storage::Backend::Postgres => "PostgreSQL database".into(),
        },
    })
}
