//! Privacy, pure: the **register of personal data** — every table of the schema
//! declared once, with what each column of a table of people's data holds — and the
//! hash that chains the audit trail. Storage, the subject export, erasure, retention
//! and the records-of-processing export read the register; a test compares it with
//! the migrated schema, so a new table or column cannot go undeclared.

use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// Whose data a table holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Holds {
    /// Customers' data: found, exported and erased per person.
    Customers,
    /// Staff's data: accounts, who did what.
    Staff,
    /// The organisation's model (units, journeys, surveys, rules): no person's data.
    Model,
    /// Sums over many people (score and encounter rollups, impressions): no row is
    /// about one person; kept exact when a person's rows go.
    Aggregates,
    /// The installation's own bookkeeping (migrations, secrets, chain heads).
    System,
}

/// What a column of a table of people's data holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Col {
    /// A key, reference or secret hash: no content of its own.
    Key,
    /// Finds the person: an identifier, a case reference, a user name.
    Identifier,
    /// An address to reach the person (e-mail, phone).
    Contact,
    /// Words a person wrote or said, or staff wrote about them: may name anyone.
    FreeText,
    /// A fact about the person through the row: a score, a time, a status.
    About,
}

/// The kinds of data retention and the records of processing speak of; each table of
/// people's data belongs to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = DataKind)]
pub enum Kind {
    Responses,
    Identifiers,
    Encounters,
    Captures,
    FollowUps,
    Cases,
    Mail,
    Consents,
    Ledger,
    Accounts,
    Audit,
}

impl Kind {
    pub const ALL: &'static [Kind] = &[
        Kind::Responses,
        Kind::Identifiers,
        Kind::Encounters,
        Kind::Captures,
        Kind::FollowUps,
        Kind::Cases,
        Kind::Mail,
        Kind::Consents,
        Kind::Ledger,
        Kind::Accounts,
        Kind::Audit,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Responses => "responses",
            Kind::Identifiers => "identifiers",
            Kind::Encounters => "encounters",
            Kind::Captures => "captures",
            Kind::FollowUps => "follow_ups",
            Kind::Cases => "cases",
            Kind::Mail => "mail",
            Kind::Consents => "consents",
            Kind::Ledger => "ledger",
            Kind::Accounts => "accounts",
            Kind::Audit => "audit",
        }
    }
}

/// One table of the schema as the register declares it.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    pub name: &'static str,
    pub holds: Holds,
    /// For tables of people's data: the kind it belongs to.
    pub kind: Option<Kind>,
    /// What finds a person's rows here (for tables of people's data).
    pub found_by: &'static str,
    /// Every column, for tables of people's data (others: none declared).
    pub columns: &'static [(&'static str, Col)],
}

use Col::{About, Contact, FreeText, Identifier, Key};

const fn people(
    name: &'static str,
    holds: Holds,
    kind: Kind,
    found_by: &'static str,
    columns: &'static [(&'static str, Col)],
) -> Table {
    Table {
        name,
        holds,
        kind: Some(kind),
        found_by,
        columns,
    }
}

const fn other(name: &'static str, holds: Holds) -> Table {
    Table {
        name,
        holds,
        kind: None,
        found_by: "",
        columns: &[],
    }
}

/// The register: every table of the schema.
pub const REGISTER: &[Table] = &[
    // --- customers' data -------------------------------------------------------------
    people(
        "responses",
        Holds::Customers,
        Kind::Responses,
        "customer_ref, case_ref",
        &[
            ("id", Key),
            ("workspace_id", Key),
            ("survey_id", Key),
            ("response_key", Key),
            ("touchpoint_id", Key),
            ("channel", About),
            ("locale", About),
            ("customer_ref", Identifier),
            ("case_ref", Identifier),
            ("custom", FreeText),
            ("answers", FreeText),
            ("nps", About),
            ("csat", About),
            ("ces", About),
            ("complete", About),
            ("day", About),
            ("created_at", About),
            ("updated_at", About),
            ("suspect", About),
            ("redacted", About),
        ],
    ),
    people(
        "invitations",
        Holds::Customers,
        Kind::Responses,
        "customer_ref, case_ref",
        &[
            ("id", Key),
            ("workspace_id", Key),
            ("survey_id", Key),
            ("token_hash", Key),
            ("touchpoint_id", Key),
            ("customer_ref", Identifier),
            ("case_ref", Identifier),
            ("created_at", About),
            ("used_at", About),
            ("response_key", Key),
        ],
    ),
    people(
        "customers",
        Holds::Customers,
        Kind::Identifiers,
        "customer_identifiers.ident",
        &[
            ("id", Key),
            ("workspace_id", Key),
            ("origin", Identifier),
            ("created_at", About),
        ],
    ),
    people(
        "customer_identifiers",
        Holds::Customers,
        Kind::Identifiers,
        "ident",
        &[
            ("workspace_id", Key),
            ("ident", Identifier),
            ("kind", About),
            ("customer_id", Key),
            ("created_at", About),
        ],
    ),
    people(
        "customer_links",
        Holds::Customers,
        Kind::Identifiers,
        "customer_a, customer_b",
        &[
            ("id", Key),
            ("workspace_id", Key),
            ("customer_a", Key),
            ("customer_b", Key),
            ("reason", FreeText),
            ("linked_by", About),
            ("linked_at", About),
            ("unlinked_by", About),
            ("unlinked_at", About),
        ],
    ),
    people(
        "encounters",
        Holds::Customers,
        Kind::Encounters,
        "customer_id, case_ref",
        &[
            ("id", Key),
            ("workspace_id", Key),
            ("client_id", Key),
            ("occurred_at", About),
            ("touchpoint_id", Key),
            ("touchpoint_name", About),
            ("stage_id", Key),
            ("journey_id", Key),
            ("channel", About),
            ("unit_id", Key),
            ("partner_id", Key),
            ("owner_name", About),
            ("customer_id", Key),
            ("case_ref", Identifier),
            ("kind", About),
            ("text", FreeText),
            ("attributes", FreeText),
            ("source", About),
            ("recorded_by", About),
            ("created_at", About),
            // Bookkeeping of the journey-mining rollups (which streams are applied).
            ("mined", Key),
        ],
    ),
    people(
        "captures",
        Holds::Customers,
        Kind::Captures,
        "encounter_id",
        &[
            ("encounter_id", Key),
            ("workspace_id", Key),
            ("words", About),
            ("theme_id", Key),
            ("feeling", About),
            ("needs_follow_up", About),
            ("promise", FreeText),
            ("promise_due", About),
        ],
    ),
    people(
        "follow_ups",
        Holds::Customers,
        Kind::FollowUps,
        "customer, case_ref",
        &[
            ("id", Key),
            ("workspace_id", Key),
            ("dedupe", Key),
            ("rule_id", Key),
            ("source", About),
            ("survey_id", Key),
            ("response_key", Key),
            ("encounter_id", Key),
            ("customer", Identifier),
            ("case_ref", Identifier),
            ("touchpoint_id", Key),
            ("journey_id", Key),
            ("unit_id", Key),
            ("partner_id", Key),
            ("assignee_id", Key),
            ("status", About),
            ("reason", FreeText),
            ("may_contact", About),
            ("contact_due", About),
            ("resolve_due", About),
            ("contacted_at", About),
            ("resolved_at", About),
            ("closed_at", About),
            ("root_cause", FreeText),
            ("action_taken", FreeText),
            ("created_at", About),
            ("updated_at", About),
            ("contact_hours", About),
            ("resolve_hours", About),
            ("paused_seconds", About),
            ("waiting_since", About),
            ("contact", Contact),
            ("recovery_score", About),
            ("recovery_at", About),
            ("alert_id", Key),
        ],
    ),
    people(
        "follow_up_events",
        Holds::Customers,
        Kind::FollowUps,
        "follow_up_id",
        &[
            ("id", Key),
            ("workspace_id", Key),
            ("follow_up_id", Key),
            ("action", About),
            ("status", About),
            ("detail", FreeText),
            ("by_user", About),
            ("at", About),
        ],
    ),
    people(
        "follow_up_escalations",
        Holds::Customers,
        Kind::FollowUps,
        "follow_up_id",
        &[
            ("workspace_id", Key),
            ("follow_up_id", Key),
            ("clock", About),
            ("step", About),
            ("at", About),
        ],
    ),
    people(
        "cases",
        Holds::Customers,
        Kind::Cases,
        "customer, reference",
        &[
            ("id", Key),
            ("workspace_id", Key),
            ("client_id", Key),
            ("reference", Identifier),
            ("journey_id", Key),
            ("customer", Identifier),
            ("unit_id", Key),
            ("language", About),
            ("title", FreeText),
            ("status", About),
            ("status_at", About),
            ("ask", FreeText),
            ("ask_due", About),
            ("verifier_hash", Identifier),
            ("created_by", About),
            ("created_at", About),
            ("updated_at", About),
        ],
    ),
    people(
        "case_changes",
        Holds::Customers,
        Kind::Cases,
        "case_id",
        &[
            ("id", Key),
            ("workspace_id", Key),
            ("case_id", Key),
            ("status", About),
            ("at", About),
            ("note", FreeText),
            ("ask", FreeText),
            ("ask_due", About),
            ("recorded_by", About),
            ("recorded_at", About),
        ],
    ),
    people(
        "case_links",
        Holds::Customers,
        Kind::Cases,
        "case_id",
        &[
            ("id", Key),
            ("workspace_id", Key),
            ("case_id", Key),
            ("token_hash", Key),
            ("expires_at", About),
            ("revoked_at", About),
            ("created_by", About),
            ("created_at", About),
        ],
    ),
    people(
        "case_subscriptions",
        Holds::Customers,
        Kind::Cases,
        "case_id, email",
        &[
            ("id", Key),
            ("workspace_id", Key),
            ("case_id", Key),
            ("email", Contact),
            ("language", About),
            ("consent", About),
            ("channel", About),
            ("created_at", About),
            ("unsubscribed_at", About),
        ],
    ),
    people(
        "case_opens",
        Holds::Customers,
        Kind::Cases,
        "case_id",
        &[
            ("workspace_id", Key),
            ("case_id", Key),
            ("hour", About),
            ("n", About),
        ],
    ),
    people(
        "mail_queue",
        Holds::Customers,
        Kind::Mail,
        "to_addr",
        &[
            ("id", Key),
            ("workspace_id", Key),
            ("dedupe", Key),
            ("kind", About),
            ("to_addr", Contact),
            ("subject", FreeText),
            ("body", FreeText),
            ("status", About),
            ("attempts", About),
            ("next_at", About),
            ("sent_at", About),
            ("last_error", About),
            ("created_at", About),
            ("unsubscribe", Key),
        ],
    ),
    people(
        "consents",
        Holds::Customers,
        Kind::Consents,
        "subject, contact",
        &[
            ("id", Key),
            ("workspace_id", Key),
            ("purpose", About),
            ("subject", Identifier),
            ("contact", Contact),
            ("text", About),
            ("version", About),
            ("language", About),
            ("channel", About),
            ("source", Key),
            ("given_at", About),
            ("withdrawn_at", About),
        ],
    ),
    people(
        "deletion_ledger",
        Holds::Customers,
        Kind::Ledger,
        "subject_keys",
        &[
            ("id", Key),
            ("workspace_id", Key),
            ("subject_keys", Identifier),
            ("counts", About),
            ("erased_by", About),
            ("erased_at", About),
        ],
    ),
    // --- staff's data ----------------------------------------------------------------
    people(
        "users",
        Holds::Staff,
        Kind::Accounts,
        "id, username",
        &[
            ("id", Key),
            ("username", Identifier),
            ("password_hash", Key),
            ("is_superadmin", About),
            ("created_at", About),
            ("email", Contact),
        ],
    ),
    people(
        "sessions",
        Holds::Staff,
        Kind::Accounts,
        "user_id",
        &[
            ("token_hash", Key),
            ("user_id", Key),
            ("csrf_token", Key),
            ("created_at", About),
            ("expires_at", About),
        ],
    ),
    people(
        "api_tokens",
        Holds::Staff,
        Kind::Accounts,
        "user_id",
        &[
            ("id", Key),
            ("user_id", Key),
            ("name", About),
            ("token_hash", Key),
            ("created_at", About),
            ("revoked_at", About),
        ],
    ),
    people(
        "memberships",
        Holds::Staff,
        Kind::Accounts,
        "user_id",
        &[("workspace_id", Key), ("user_id", Key), ("role", About)],
    ),
    people(
        "unit_members",
        Holds::Staff,
        Kind::Accounts,
        "user_id",
        &[
            ("workspace_id", Key),
            ("unit_id", Key),
            ("user_id", Key),
            ("created_at", About),
            ("lead", About),
        ],
    ),
    people(
        "people",
        Holds::Staff,
        Kind::Accounts,
        "name, email",
        &[
            ("id", Key),
            ("workspace_id", Key),
            ("slug", Key),
            ("name", Identifier),
            ("email", Contact),
            ("unit_id", Key),
            ("role_title", About),
        ],
    ),
    people(
        "relation_reviews",
        Holds::Staff,
        Kind::Accounts,
        "user_id",
        &[
            ("id", Key),
            ("workspace_id", Key),
            ("relation_id", Key),
            ("user_id", Key),
            ("reviewed_on", About),
            ("recorded_at", About),
        ],
    ),
    people(
        "capture_themes",
        Holds::Staff,
        Kind::Accounts,
        "proposed_by",
        &[
            ("id", Key),
            ("workspace_id", Key),
            ("slug", Key),
            ("name", About),
            ("status", About),
            ("proposed_by", Identifier),
            ("created_at", About),
        ],
    ),
    people(
        "audit_log",
        Holds::Staff,
        Kind::Audit,
        "actor, user_id",
        &[
            ("id", Key),
            ("workspace_id", Key),
            ("user_id", Key),
            ("action", About),
            ("object", About),
            ("detail", FreeText),
            ("at", About),
            ("actor", Identifier),
            ("seq", Key),
            ("prev_hash", Key),
            ("hash", Key),
        ],
    ),
    // --- no person's data --------------------------------------------------------------
    other("workspaces", Holds::Model),
    other("units", Holds::Model),
    other("partners", Holds::Model),
    other("segments", Holds::Model),
    other("channels", Holds::Model),
    other("relations", Holds::Model),
    other("elements", Holds::Model),
    other("packages", Holds::Model),
    other("package_elements", Holds::Model),
    other("journeys", Holds::Model),
    other("journey_packages", Holds::Model),
    other("stages", Holds::Model),
    other("touchpoints", Holds::Model),
    other("process_steps", Holds::Model),
    other("step_touchpoints", Holds::Model),
    other("notifications", Holds::Model),
    other("webhooks", Holds::Model),
    other("surveys", Holds::Model),
    other("alert_rules", Holds::Model),
    other("alerts", Holds::Model),
    other("encounter_kinds", Holds::Model),
    other("follow_up_rules", Holds::Model),
    other("case_steps", Holds::Model),
    other("case_settings", Holds::Model),
    other("retention_settings", Holds::Model),
    other("score_rollups", Holds::Aggregates),
    other("encounter_rollups", Holds::Aggregates),
    other("mining_flow_acts", Holds::Aggregates),
    other("mining_flow_edges", Holds::Aggregates),
    other("mining_flow_stages", Holds::Aggregates),
    other("impressions", Holds::Aggregates),
    other("instance_settings", Holds::System),
    other("kohtaamo_meta", Holds::System),
    other("kohtaamo_migrations", Holds::System),
    other("audit_heads", Holds::System),
    other("mining_state", Holds::System),
];

/// What retention can remove after a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Retained {
    /// Survey responses, by when they were given.
    Responses,
    /// Only the free text of responses (open and contact answers, hidden fields).
    FreeText,
    /// Encounters, by when they happened.
    Encounters,
    /// Frontline captures (encounters recorded by staff), by when they happened.
    Captures,
    /// Closed follow-ups, by when they closed.
    FollowUps,
    /// Cases, by their last change.
    Cases,
    /// E-mail sent or given up on, by when it was queued.
    Mail,
    /// Audit entries, by when they were written.
    Audit,
}

/// What retention does to a row past its period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = RetentionAction)]
pub enum Action {
    Delete,
    /// Keeps what analytics needs (scores, times, places), removes what identifies a
    /// person and their words.
    Anonymise,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Delete => "delete",
            Action::Anonymise => "anonymise",
        }
    }
    pub fn parse(s: &str) -> Result<Self, crate::Reason> {
        match s {
            "delete" => Ok(Action::Delete),
            "anonymise" => Ok(Action::Anonymise),
            _ => Err(crate::Reason::new("not-one-of")
                .with("value", s)
                .with("options", "delete, anonymise")),
        }
    }
}

/// A retention rule: after `days`, `action`; no days: kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct RetentionRule {
    pub kind: Retained,
    pub days: Option<i64>,
    pub action: Action,
}

/// The longest period a rule may have (100 years).
pub const MAX_RETENTION_DAYS: i64 = 36_500;

impl Retained {
    pub const ALL: [Retained; 8] = [
        Retained::Responses,
        Retained::FreeText,
        Retained::Encounters,
        Retained::Captures,
        Retained::FollowUps,
        Retained::Cases,
        Retained::Mail,
        Retained::Audit,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Retained::Responses => "responses",
            Retained::FreeText => "free_text",
            Retained::Encounters => "encounters",
            Retained::Captures => "captures",
            Retained::FollowUps => "follow_ups",
            Retained::Cases => "cases",
            Retained::Mail => "mail",
            Retained::Audit => "audit",
        }
    }
    pub fn parse(s: &str) -> Result<Self, crate::Reason> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                crate::Reason::new("not-one-of")
                    .with("value", s)
                    .with("options", Self::ALL.map(Retained::as_str).join(", "))
            })
    }
    /// What each kind allows: responses and encounters may be anonymised instead of
    /// deleted; free text is only ever removed (anonymised); the rest is deleted.
    pub fn actions(self) -> &'static [Action] {
        match self {
            Retained::Responses | Retained::Encounters => &[Action::Anonymise, Action::Delete],
            Retained::FreeText => &[Action::Anonymise],
            _ => &[Action::Delete],
        }
    }
    /// The default rule (docs/PRIVACY.md): responses anonymised after 36 months (their
    /// scores stay in every figure), encounters and captures deleted after 36 months,
    /// closed follow-ups and cases after 24, e-mail after 3, the audit trail after 7
    /// years; free text kept as long as its response unless a workspace says less.
    pub fn default_rule(self) -> RetentionRule {
        let (days, action) = match self {
            Retained::Responses => (Some(1095), Action::Anonymise),
            Retained::FreeText => (None, Action::Anonymise),
            Retained::Encounters | Retained::Captures => (Some(1095), Action::Delete),
            Retained::FollowUps | Retained::Cases => (Some(730), Action::Delete),
            Retained::Mail => (Some(90), Action::Delete),
            Retained::Audit => (Some(2555), Action::Delete),
        };
        RetentionRule {
            kind: self,
            days,
            action,
        }
    }
}

impl RetentionRule {
    /// A rule as given: the period 1–36,500 days or none, an action the kind allows.
    pub fn parse(kind: &str, days: Option<i64>, action: &str) -> Result<Self, crate::FieldErrors> {
        let mut e = crate::FieldErrors::new();
        let kind = e.take("kind", Retained::parse(kind));
        let action = e.take("action", Action::parse(action));
        if let Some(d) = days {
            if !(1..=MAX_RETENTION_DAYS).contains(&d) {
                e.add(
                    "days",
                    crate::Reason::new("score-range")
                        .with("min", 1)
                        .with("max", MAX_RETENTION_DAYS),
                );
            }
        }
        if let (Some(k), Some(a)) = (kind, action) {
            if !k.actions().contains(&a) {
                e.add(
                    "action",
                    crate::Reason::new("not-one-of")
                        .with("value", a.as_str())
                        .with(
                            "options",
                            k.actions()
                                .iter()
                                .map(|a| a.as_str())
                                .collect::<Vec<_>>()
                                .join(", "),
                        ),
                );
            }
        }
        match (kind, action) {
            (Some(kind), Some(action)) if e.is_empty() => Ok(Self { kind, days, action }),
            _ => Err(e),
        }
    }
}

/// The register's entry for a table.
pub fn table(name: &str) -> Option<&'static Table> {
    REGISTER.iter().find(|t| t.name == name)
}

/// The free-text columns of customers' data and staff's notes about them: where words
/// may name a person whose record is elsewhere (listed for review at erasure).
pub fn free_text() -> impl Iterator<Item = (&'static str, &'static str)> {
    REGISTER
        .iter()
        .filter(|t| t.holds == Holds::Customers)
        .flat_map(|t| {
            t.columns
                .iter()
                .filter(|(_, c)| *c == Col::FreeText)
                .map(move |(c, _)| (t.name, *c))
        })
}

/// A consent text's version: the first 16 hex digits of its SHA-256, so two
/// consents given to the same words have the same version and any change of wording
/// a new one.
pub fn consent_version(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))[..16].to_owned()
}

/// One audit entry's fields as the chain hashes them.
#[derive(Debug, Clone, Copy)]
pub struct AuditFields<'a> {
    pub workspace_id: crate::Id,
    pub seq: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub object: &'a str,
    pub detail: &'a str,
    pub at: &'a str,
}

/// The hash of an audit entry: SHA-256 (hex) over the previous entry's hash and the
/// entry's fields, serialised as one JSON array so no two different entries can give
/// the same input. The first entry's previous hash is the empty string.
pub fn chain_hash(prev: &str, e: &AuditFields<'_>) -> String {
    let input = serde_json::json!([
        prev,
        e.workspace_id,
        e.seq,
        e.actor,
        e.action,
        e.object,
        e.detail,
        e.at
    ]);
    hex::encode(Sha256::digest(input.to_string().as_bytes()))
}

/// Where a chain of audit entries breaks: the first entry whose stored hash or
/// previous hash is not what the entries before it give.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ChainBreak {
    pub seq: i64,
    pub id: crate::Id,
    pub reason: &'static str,
}

/// One stored entry, for [`verify_chain`].
#[derive(Debug, Clone)]
pub struct StoredEntry {
    pub id: crate::Id,
    pub seq: i64,
    pub actor: String,
    pub action: String,
    pub object: String,
    pub detail: String,
    pub at: String,
    pub prev_hash: String,
    pub hash: String,
}

/// Checks a workspace's chain, entries in `seq` order. `start` is where the kept
/// chain begins: (0, "") from the first entry, or the last entry retention removed
/// and its hash. `head` is the stored head (last seq and hash), which catches entries
/// cut off the end.
pub fn verify_chain(
    ws: crate::Id,
    entries: &[StoredEntry],
    start: (i64, &str),
    head: Option<(i64, &str)>,
) -> Result<(), ChainBreak> {
    let mut prev = start.1.to_owned();
    let mut last = start;
    for (i, e) in entries.iter().enumerate() {
        let expected_seq = start.0 + i as i64 + 1;
        let broken = |reason| ChainBreak {
            seq: e.seq,
            id: e.id,
            reason,
        };
        if e.seq != expected_seq {
            return Err(broken("missing-entry"));
        }
        if e.prev_hash != prev {
            return Err(broken("previous-hash-differs"));
        }
        let h = chain_hash(
            &prev,
            &AuditFields {
                workspace_id: ws,
                seq: e.seq,
                actor: &e.actor,
                action: &e.action,
                object: &e.object,
                detail: &e.detail,
                at: &e.at,
            },
        );
        if h != e.hash {
            return Err(broken("entry-changed"));
        }
        prev = h;
        last = (e.seq, e.hash.as_str());
    }
    match head {
        Some((seq, hash)) if (seq, hash) != last => Err(ChainBreak {
            seq,
            id: 0,
            reason: "entries-cut-off",
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_names_each_table_once_and_its_columns_once() {
        let mut names: Vec<&str> = REGISTER.iter().map(|t| t.name).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(n, names.len(), "a table is declared twice");
        for t in REGISTER {
            let mut cols: Vec<&str> = t.columns.iter().map(|(c, _)| *c).collect();
            cols.sort_unstable();
            let m = cols.len();
            cols.dedup();
            assert_eq!(m, cols.len(), "a column of {} is declared twice", t.name);
            assert_eq!(
                t.kind.is_some(),
                matches!(t.holds, Holds::Customers | Holds::Staff),
                "{}",
                t.name
            );
        }
        assert!(free_text().any(|(t, c)| (t, c) == ("responses", "answers")));
        assert!(!free_text().any(|(t, _)| t == "audit_log"));
    }

    fn entries(ws: crate::Id, n: i64) -> Vec<StoredEntry> {
        let mut prev = String::new();
        (1..=n)
            .map(|seq| {
                let at = format!("2026-11-27T10:00:{seq:02}Z");
                let detail = format!("entry {seq}");
                let hash = chain_hash(
                    &prev,
                    &AuditFields {
                        workspace_id: ws,
                        seq,
                        actor: "user:1",
                        action: "privacy.export",
                        object: "subject",
                        detail: &detail,
                        at: &at,
                    },
                );
                let e = StoredEntry {
                    id: seq + 100,
                    seq,
                    actor: "user:1".into(),
                    action: "privacy.export".into(),
                    object: "subject".into(),
                    detail,
                    at,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                e
            })
            .collect()
    }

    #[test]
    fn a_chain_verifies_and_every_kind_of_tampering_is_found() {
        let good = entries(3, 5);
        let head = (5, good[4].hash.clone());
        assert_eq!(
            verify_chain(3, &good, (0, ""), Some((head.0, &head.1))),
            Ok(())
        );
        assert_eq!(verify_chain(3, &[], (0, ""), None), Ok(()));
        // The first two removed by retention: the rest verifies from their anchor.
        assert_eq!(
            verify_chain(3, &good[2..], (2, &good[1].hash), Some((head.0, &head.1))),
            Ok(())
        );
        assert!(verify_chain(3, &good[2..], (0, ""), None).is_err());

        // A changed field.
        let mut bad = good.clone();
        bad[2].detail = "entry 3, edited".into();
        assert_eq!(
            verify_chain(3, &bad, (0, ""), None).map_err(|b| (b.seq, b.reason)),
            Err((3, "entry-changed"))
        );
        // A changed field with its hash recomputed: the next entry's link breaks.
        let mut bad = good.clone();
        bad[2].detail = "x".into();
        bad[2].hash = chain_hash(
            &bad[2].prev_hash,
            &AuditFields {
                workspace_id: 3,
                seq: 3,
                actor: "user:1",
                action: "privacy.export",
                object: "subject",
                detail: "x",
                at: &bad[2].at,
            },
        );
        assert_eq!(
            verify_chain(3, &bad, (0, ""), None).map_err(|b| (b.seq, b.reason)),
            Err((4, "previous-hash-differs"))
        );
        // A deleted entry.
        let mut bad = good.clone();
        bad.remove(1);
        assert_eq!(
            verify_chain(3, &bad, (0, ""), None).map_err(|b| (b.seq, b.reason)),
            Err((3, "missing-entry"))
        );
        // The last entries cut off: only the head shows it.
        let cut = &good[..3];
        assert_eq!(verify_chain(3, cut, (0, ""), None), Ok(()));
        assert_eq!(
            verify_chain(3, cut, (0, ""), Some((head.0, &head.1))).map_err(|b| b.reason),
            Err("entries-cut-off")
        );
        // Another workspace's chain does not verify here.
        assert_eq!(
            verify_chain(4, &good, (0, ""), None).map_err(|b| b.seq),
            Err(1)
        );
    }
}
