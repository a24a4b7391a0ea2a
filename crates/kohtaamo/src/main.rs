//! `kohtaamo`: the server (`serve`) and the command-line verbs that touch the same data
//! (`migrate`, `import`, `export`, `user`, `token`). Every verb that touches data takes
//! the same `--data-dir` / `--database-url`.

mod config;

use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use kohtaamo_app::clock::{FixedClock, SharedClock};
use kohtaamo_app::i18n::{negotiate, I18n};
use kohtaamo_app::jobs::{Job, JobCtx};
use kohtaamo_app::model::Importer;
use kohtaamo_storage::{Store, StoreError};

use crate::config::{Config, Overrides};

/// mimalloc instead of glibc's allocator: a response's request, JSON and rows are many
/// small short-lived allocations made on several threads, where glibc's malloc and free
/// took about a tenth of the server's CPU (see docs/BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "kohtaamo",
    version,
    about = "Kohtaamo — a self-hosted customer-experience workbench"
)]
struct Cli {
    #[command(flatten)]
    data: DataArgs,
    /// Configuration file (TOML); default: ./kohtaamo.toml if it exists.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct DataArgs {
    /// Directory for the SQLite database [default: ./data]
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// postgres://… (several instances) or sqlite://…; absent → SQLite in the data dir
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080]
        #[arg(long)]
        bind: Option<String>,
        /// Create the demo workspace (once) on start
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations
    Migrate,
    /// Import a model document (YAML) into the workspace it names; or, with
    /// `import encounters`, encounters from another system's CSV file
    #[command(args_conflicts_with_subcommands = true)]
    Import {
        #[command(subcommand)]
        what: Option<ImportCmd>,
        /// The model document
        file: Option<PathBuf>,
        /// Also delete model records the document does not mention
        #[arg(long)]
        prune: bool,
    },
    /// Export a workspace's model as YAML; or, with `export events`, a journey's
    /// instances as an event log (CSV, XES or OCEL 2.0 JSON)
    #[command(args_conflicts_with_subcommands = true)]
    Export {
        #[command(subcommand)]
        what: Option<ExportCmd>,
        #[arg(long)]
        workspace: Option<String>,
        /// Output file (default: standard output)
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Reports for people (Markdown) or programs (JSON)
    #[command(subcommand)]
    Report(ReportCmd),
    /// Manage accounts
    #[command(subcommand)]
    User(UserCmd),
    /// Manage API tokens
    #[command(subcommand)]
    Token(TokenCmd),
    /// Demo and benchmark data
    #[command(subcommand)]
    Demo(DemoCmd),
    /// Background jobs (review cycle, score alerts)
    #[command(subcommand)]
    Jobs(JobsCmd),
    /// A person's data: export everything held about them, or erase it
    #[command(subcommand)]
    Privacy(PrivacyCmd),
    /// The audit trail
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Back up the database while it serves: SQLite to a consistent copy (VACUUM
    /// INTO), PostgreSQL with pg_dump (custom format)
    Backup {
        /// The backup file to write (must not exist)
        file: PathBuf,
    },
    /// Replace the database with a backup (stop every server first), then re-apply
    /// the deletion ledger so nobody erased since the backup comes back
    Restore {
        /// A file written by `kohtaamo backup`
        file: PathBuf,
        /// A ledger file written by `kohtaamo privacy ledger` (when the database being
        /// replaced is lost; its own ledger is always re-applied)
        #[arg(long, value_name = "FILE")]
        ledger: Option<PathBuf>,
    },
}

/// Who a privacy command is about.
#[derive(Args)]
struct SubjectArgs {
    #[arg(long)]
    workspace: String,
    /// An identifier of the person (crm:12345, email:…, phone:…); repeatable
    #[arg(long = "identifier", value_name = "KIND:VALUE")]
    identifiers: Vec<String>,
    /// A case reference of the person's; repeatable
    #[arg(long = "case-ref", value_name = "REFERENCE")]
    case_refs: Vec<String>,
}

#[derive(Subcommand)]
enum PrivacyCmd {
    /// Everything held about one person, as JSON (audited as privacy.export)
    Export {
        #[command(flatten)]
        subject: SubjectArgs,
        /// Output file (default: standard output)
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Erase everything held about one person in one transaction (recorded in the
    /// deletion ledger and the audit trail); free text elsewhere naming them is listed
    Erase {
        #[command(flatten)]
        subject: SubjectArgs,
        /// Words that name the person (a name) to look for in free text elsewhere;
        /// repeatable
        #[arg(long = "name", value_name = "WORDS")]
        names: Vec<String>,
        /// Show what would go and change nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Write the deletion ledger (every workspace's erasures, keyed hashes, and the
    /// key) to a file kept apart from the database's backups, for `restore --ledger`
    Ledger {
        #[arg(short, long)]
        output: PathBuf,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Check the audit trail's hash chain (every workspace, or one); exits non-zero
    /// when an entry was changed, removed or added outside the chain
    Verify {
        #[arg(long)]
        workspace: Option<String>,
    },
}

#[derive(Subcommand)]
enum ExportCmd {
    /// A journey's instances in a period as an event log (docs/metrics.md, "Journey
    /// mining"): csv, xes (IEEE 1849) or ocel (OCEL 2.0 JSON)
    Events {
        #[arg(long)]
        workspace: String,
        /// The journey's slug
        #[arg(long)]
        journey: String,
        #[arg(long, default_value = "csv", value_parser = ["csv", "xes", "ocel"])]
        format: String,
        /// First day, YYYY-MM-DD (default: 90 days before --to)
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        /// Last day, YYYY-MM-DD (default: today)
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
        /// An instance is one case (default) or one customer
        #[arg(long, default_value = "case", value_parser = ["case", "customer"])]
        by: String,
        /// Instances by customer: a pause this long (hours) starts a new one
        #[arg(long, default_value_t = kohtaamo_app::mining::DEFAULT_GAP_HOURS)]
        gap_hours: i64,
        /// Output file (default: standard output)
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ImportCmd {
    /// Encounters from a CSV event file (or an Excel .xlsx workbook, its first sheet):
    /// every row is checked first; a file with bad rows changes nothing (the first 100
    /// are listed) unless --skip-bad
    Encounters {
        file: PathBuf,
        #[arg(long)]
        workspace: String,
        /// FIELD=COLUMN pairs, comma-separated (fields: id, at, touchpoint, channel,
        /// unit, partner, customer, case_ref, kind, text, attr.NAME); a field not
        /// mapped is read from the column of its own name
        #[arg(long, value_name = "FIELD=COLUMN,…")]
        map: Vec<String>,
        /// Store the good rows and leave the bad ones out
        #[arg(long)]
        skip_bad: bool,
        /// csv, xlsx or xes (IEEE 1849 event log, also .xes.gz); default: from the
        /// file's extension
        #[arg(long, value_parser = ["csv", "xlsx", "xes"])]
        format: Option<String>,
    },
}

#[derive(Subcommand)]
enum DemoCmd {
    /// Generate a seeded, realistic history of responses to a workspace's active surveys
    Responses {
        #[arg(long, default_value = "demo")]
        workspace: String,
        #[arg(long, default_value_t = kohtaamo_app::demo::DEMO_SEED)]
        seed: u64,
        /// Trips to simulate (each answers some surveys; about 1.6 responses per trip)
        #[arg(long, default_value_t = kohtaamo_app::demo::DEMO_TRIPS)]
        trips: u64,
        /// Spread over this many days back from today
        #[arg(long, default_value_t = kohtaamo_app::demo::DEMO_DAYS)]
        days: i64,
    },
}

#[derive(Subcommand)]
enum ReportCmd {
    /// Organisation insight: who knows its customers, hand-offs, interfaces, processes
    Insight {
        #[arg(long)]
        workspace: String,
        /// md (a memo to paste) or json
        #[arg(long, default_value = "md")]
        format: String,
        /// Language of the Markdown memo [default: the workspace's]
        #[arg(long)]
        lang: Option<String>,
        /// The day the findings are computed for, YYYY-MM-DD (staleness of answers)
        /// [default: today]
        #[arg(long, value_name = "DATE")]
        as_of: Option<chrono::NaiveDate>,
    },
}

#[derive(Subcommand)]
enum JobsCmd {
    /// Run one pass of background jobs now (what `serve` runs on its periods) and exit
    Run {
        /// Only this job: review, alerts, follow-ups, mail, retention, mining-rollups or mining-reports [default: every job]
        #[arg(long)]
        job: Option<String>,
        /// The day the jobs take as today, YYYY-MM-DD [default: today]
        #[arg(long, value_name = "DATE")]
        as_of: Option<chrono::NaiveDate>,
    },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Create an account; the password is read from standard input, or generated and printed
    Create {
        username: String,
        /// Installation admin (creates workspaces, manages accounts, admin everywhere)
        #[arg(long)]
        superadmin: bool,
        /// Read the password from the first line of standard input
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password (ends the user's sessions)
    ResetPassword {
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set the e-mail address a user is notified at (empty: none)
    Email { username: String, address: String },
    /// List accounts
    List,
}

#[derive(Subcommand)]
enum TokenCmd {
    /// Create an API token for a user and print it (shown once)
    Create {
        #[arg(long)]
        user: String,
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// Revoke a token by id
    Revoke {
        #[arg(long)]
        user: String,
        id: i64,
    },
    /// List a user's tokens
    List {
        #[arg(long)]
        user: String,
    },
}

fn init_logs(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KOHTAAMO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    // Colours only on a terminal: a log file or a journal gets plain text.
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn password_from_stdin() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Explains a store error to a person at a terminal.
fn explain(e: StoreError) -> anyhow::Error {
    match e {
        StoreError::Invalid(fields) => anyhow::anyhow!("invalid:\n{fields}"),
        StoreError::Conflict(m) => anyhow::anyhow!("conflict: {m}"),
        StoreError::NotFound => anyhow::anyhow!("not found"),
        StoreError::Unavailable(o, cause) => {
            anyhow::anyhow!("{}: {cause} (try again later)", o.as_str())
        }
        StoreError::Db(e) => anyhow::anyhow!("database error: {e}"),
    }
}

#[tokio::main]
async fn main() {
    if let Err(e) = run(Cli::parse()).await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> Result<()> {
    let (bind, demo) = match &cli.command {
        Command::Serve { bind, demo } => (bind.clone(), demo.then_some(true)),
        _ => (None, None),
    };
    let cfg = Config::load(
        cli.config.as_deref(),
        Overrides {
            bind,
            data_dir: cli.data.data_dir.clone(),
            database_url: cli.data.database_url.clone(),
            demo,
        },
    )
    .context("loading configuration")?;
    init_logs(&cfg.log_format);
    tracing::debug!(config = ?cfg, "configuration");

    if cfg.database_url.is_none() {
        std::fs::create_dir_all(&cfg.data_dir)
            .with_context(|| format!("creating data directory {}", cfg.data_dir.display()))?;
    }
    let url = cfg.database_url();
    let store = Store::connect(&url)
        .await
        .map_err(explain)
        .with_context(|| format!("opening database {}", config::redact_url(&url)))?;

    match cli.command {
        Command::Serve { .. } => serve(cfg, store).await,
        Command::Demo(DemoCmd::Responses {
            workspace,
            seed,
            trips,
            days,
        }) => {
            let start = std::time::Instant::now();
            let n = kohtaamo_app::demo::generate(
                &store,
                &workspace,
                &kohtaamo_app::demo::Plan { seed, trips, days },
            )
            .await?;
            println!(
                "{workspace}: {n} responses generated (seed {seed}) in {:.1} s",
                start.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Migrate => {
            let applied = kohtaamo_storage::migrate::applied(&store)
                .await
                .map_err(explain)?;
            println!(
                "database is at schema version {}",
                applied.last().copied().unwrap_or(0)
            );
            Ok(())
        }
        Command::Import {
            what:
                Some(ImportCmd::Encounters {
                    file,
                    workspace,
                    map,
                    skip_bad,
                    format,
                }),
            ..
        } => {
            let ws = store
                .workspace_by_slug(&workspace)
                .await
                .map_err(explain)?
                .with_context(|| format!("no workspace '{workspace}'"))?;
            let map = kohtaamo_app::encounter_import::Mapping::parse(&map).map_err(explain_app)?;
            // An Excel workbook or an XES log is read as CSV: converted into a temporary
            // file first.
            let converted = tempfile::NamedTempFile::new().context("temporary file")?;
            let name = file.to_string_lossy().to_lowercase();
            let format = format.unwrap_or_else(|| {
                if name.ends_with(".xlsx") {
                    "xlsx".into()
                } else if name.ends_with(".xes") || name.ends_with(".xes.gz") {
                    "xes".into()
                } else {
                    "csv".into()
                }
            });
            let path = match format.as_str() {
                "xlsx" => {
                    kohtaamo_app::encounter_import::xlsx_to_csv(&file, converted.path())
                        .map_err(|e| anyhow::anyhow!("{}: {}", file.display(), explain_app(e)))?;
                    converted.path().to_owned()
                }
                "xes" => {
                    let started = std::time::Instant::now();
                    let events = kohtaamo_app::event_logs::xes_to_csv(&file, converted.path())
                        .map_err(|e| anyhow::anyhow!("{}: {}", file.display(), explain_app(e)))?;
                    // Reading apart from checking and storing (benchmarks compare it
                    // with other tools' readers).
                    println!(
                        "{}: {events} events read in {:.2} s",
                        file.display(),
                        started.elapsed().as_secs_f64()
                    );
                    converted.path().to_owned()
                }
                _ => file.clone(),
            };
            let r = kohtaamo_app::encounter_import::import_csv(
                &store,
                ws.id,
                move || std::fs::File::open(&path).map(std::io::BufReader::new),
                &map,
                skip_bad,
                &kohtaamo_app::encounters::Recorder("cli".into()),
                chrono::Utc::now(),
                Some(kohtaamo_app::encounter_import::Events {
                    ctx: &JobCtx::with_targets(store.clone(), clock(None), cfg.webhook_targets()),
                    slug: &workspace,
                }),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{}: {}", file.display(), explain_app(e)))?;
            for b in &r.bad_rows {
                let why: Vec<String> = b.fields.iter().map(|(f, r)| format!("{f}: {r}")).collect();
                eprintln!("{}:{}: {}", file.display(), b.line, why.join("; "));
            }
            println!(
                "{}: {} rows, {} stored, {} already stored, {} bad{}",
                file.display(),
                r.rows,
                r.stored,
                r.existing,
                r.bad,
                if r.applied {
                    ""
                } else {
                    " — nothing stored (fix the rows, or --skip-bad)"
                }
            );
            if r.applied {
                Ok(())
            } else {
                anyhow::bail!("{} bad rows", r.bad)
            }
        }
        Command::Import {
            file: Some(file),
            prune,
            ..
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let r = kohtaamo_app::model::import_yaml(&store, &text, None, prune, Importer::Admin)
                .await
                .map_err(|e| anyhow::anyhow!("{}: {}", file.display(), explain_app(e)))?;
            println!(
                "{}: {} created, {} updated, {} unchanged, {} deleted",
                r.workspace, r.created, r.updated, r.unchanged, r.deleted
            );
            Ok(())
        }
        Command::Import { .. } => anyhow::bail!("give a model file, or `import encounters FILE`"),
        Command::Export {
            what:
                Some(ExportCmd::Events {
                    workspace,
                    journey,
                    format,
                    from,
                    to,
                    by,
                    gap_hours,
                    output,
                }),
            ..
        } => {
            let ws = store
                .workspace_by_slug(&workspace)
                .await
                .map_err(explain)?
                .with_context(|| format!("no workspace '{workspace}'"))?;
            let snapshot = store.snapshot(ws.id).await.map_err(explain)?;
            let jid = snapshot
                .journeys
                .iter()
                .find(|(_, j)| j.slug.as_str() == journey)
                .map(|(id, _)| *id)
                .with_context(|| format!("no journey '{journey}' in '{workspace}'"))?;
            let to = to.unwrap_or_else(|| chrono::Utc::now().date_naive());
            let from = from.unwrap_or(kohtaamo_app::clock::default_period(to).0);
            let params: std::collections::BTreeMap<String, String> = [
                ("by".to_string(), by),
                ("gap_hours".to_string(), gap_hours.to_string()),
            ]
            .into();
            let q = kohtaamo_app::mining::Query::parse(jid, (from, to), &params)
                .map_err(explain_app)?;
            let format = kohtaamo_app::event_logs::Format::parse(&format)
                .context("format: csv, xes or ocel")?;
            let bytes = kohtaamo_app::event_logs::export(
                &store,
                ws.id,
                &q,
                format,
                &kohtaamo_storage::privacy::Actor("cli".into()),
            )
            .await
            .map_err(explain_app)?;
            match output {
                Some(p) => {
                    std::fs::write(&p, bytes).with_context(|| format!("writing {}", p.display()))?
                }
                None => std::io::stdout().write_all(&bytes)?,
            }
            Ok(())
        }
        Command::Export {
            workspace: Some(workspace),
            output,
            ..
        } => {
            let yaml = kohtaamo_app::model::export_yaml(&store, &workspace)
                .await
                .map_err(explain_app)
                .with_context(|| format!("workspace '{workspace}'"))?;
            match output {
                Some(p) => {
                    std::fs::write(&p, yaml).with_context(|| format!("writing {}", p.display()))?
                }
                None => std::io::stdout().write_all(yaml.as_bytes())?,
            }
            Ok(())
        }
        Command::Export { .. } => {
            anyhow::bail!(
                "give --workspace (the model), or `export events --workspace W --journey J`"
            )
        }
        Command::Report(ReportCmd::Insight {
            workspace,
            format,
            lang,
            as_of,
        }) => {
            let ws = store
                .workspace_by_slug(&workspace)
                .await
                .map_err(explain)?
                .ok_or_else(|| anyhow::anyhow!("no workspace '{workspace}'"))?;
            let today = clock(as_of).today();
            let (snapshot, report) = kohtaamo_app::insight::load(&store, ws.id, today)
                .await
                .map_err(explain_app)?;
            match format.as_str() {
                "json" => println!("{}", serde_json::to_string_pretty(&report)?),
                "md" => {
                    let default = ws.data.default_language.as_str().to_owned();
                    let lang = negotiate(lang.as_deref(), None, Some(&default));
                    let i = I18n::new(&lang, &default);
                    print!(
                        "{}",
                        kohtaamo_app::report::markdown(
                            &i.text(&ws.data.name),
                            &snapshot,
                            &report.insight,
                            &i,
                            today
                        )
                    );
                }
                other => bail!("unknown format '{other}' (use md or json)"),
            }
            Ok(())
        }
        Command::Jobs(JobsCmd::Run { job, as_of }) => {
            let jobs: Vec<Job> = match job.as_deref() {
                None => Job::ALL.to_vec(),
                Some("review") => vec![Job::REVIEW_CYCLE],
                Some("alerts") => vec![Job::ALERT_CYCLE],
                Some("follow-ups") => vec![Job::FOLLOW_UP_CLOCK],
                Some("mail") => vec![Job::MAIL],
                Some("retention") => vec![Job::RETENTION],
                Some("mining-rollups") => vec![Job::MINING_ROLLUPS],
                Some("mining-reports") => vec![Job::MINING_REPORTS],
                Some(other) => {
                    bail!(
                        "unknown job '{other}' (use review, alerts, follow-ups, mail, retention, mining-rollups or mining-reports)"
                    )
                }
            };
            let ctx = JobCtx::with_targets(store.clone(), clock(as_of), cfg.webhook_targets())
                .with_mailer(cfg.mailer().map_err(|e| anyhow::anyhow!(e))?)
                .with_base_url(cfg.public_url.clone().filter(|u| !u.is_empty()));
            for j in jobs {
                let n = j.run_once(&ctx).await.map_err(explain_app)?;
                println!("{}: {n}", j.name);
            }
            Ok(())
        }
        Command::User(cmd) => user(&store, cmd).await,
        Command::Token(cmd) => token(&store, cmd).await,
        Command::Privacy(cmd) => privacy(&store, cmd).await,
        Command::Backup { file } => backup(&store, &url, &file).await,
        Command::Restore { file, ledger } => restore(store, &url, &file, ledger.as_deref()).await,
        Command::Audit(AuditCmd::Verify { workspace }) => audit_verify(&store, workspace).await,
    }
}

async fn workspace_id(store: &Store, slug: &str) -> Result<kohtaamo_domain::Id> {
    Ok(store
        .workspace_by_slug(slug)
        .await
        .map_err(explain)?
        .with_context(|| format!("no workspace '{slug}'"))?
        .id)
}

/// The CLI acts as the installation's operator: an admin everywhere, audited as `cli`.
async fn privacy(store: &Store, cmd: PrivacyCmd) -> Result<()> {
    use kohtaamo_app::privacy::{self as pv, SubjectInput};
    use kohtaamo_domain::model::Role;
    let operator = kohtaamo_storage::privacy::Actor("cli".into());
    let input = |s: &SubjectArgs, names: Vec<String>| SubjectInput {
        identifiers: s.identifiers.clone(),
        case_refs: s.case_refs.clone(),
        names,
    };
    match cmd {
        PrivacyCmd::Export { subject, output } => {
            let ws = workspace_id(store, &subject.workspace).await?;
            let export = pv::export(
                store,
                ws,
                (&operator, Role::Admin),
                &input(&subject, vec![]),
            )
            .await
            .map_err(explain_app)?;
            let json = serde_json::to_string_pretty(&export)?;
            match output {
                Some(p) => {
                    std::fs::write(&p, json).with_context(|| format!("writing {}", p.display()))?
                }
                None => println!("{json}"),
            }
            if !export.found {
                eprintln!(
                    "nothing is held about this person in '{}'",
                    subject.workspace
                );
            }
            Ok(())
        }
        PrivacyCmd::Erase {
            subject,
            names,
            dry_run,
        } => {
            let ws = workspace_id(store, &subject.workspace).await?;
            let r = pv::erase(
                store,
                ws,
                (&operator, Role::Admin),
                &input(&subject, names),
                dry_run,
            )
            .await
            .map_err(explain_app)?;
            let verb = if dry_run { "would erase" } else { "erased" };
            if r.counts.is_empty() {
                println!("nothing held about this person; nothing changed");
            }
            for (table, n) in &r.counts {
                println!("{verb} {n} {table}");
            }
            for m in &r.review {
                println!(
                    "review: {}.{} row {} mentions '{}'",
                    m.table, m.column, m.row, m.term
                );
            }
            if let Some(id) = r.ledger_id {
                println!("deletion ledger entry {id}");
            }
            Ok(())
        }
        PrivacyCmd::Ledger { output } => {
            let l = pv::ledger_file(store).await.map_err(explain_app)?;
            std::fs::write(&output, serde_json::to_string_pretty(&l)?)
                .with_context(|| format!("writing {}", output.display()))?;
            println!(
                "{} ledger entries written to {}",
                l.entries.len(),
                output.display()
            );
            Ok(())
        }
    }
}

/// Runs an external program (pg_dump, pg_restore) and fails with its own words.
fn run_tool(program: &str, args: &[&str]) -> Result<()> {
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .with_context(|| format!("running {program} (install PostgreSQL's client programs)"))?;
    if !out.status.success() {
        bail!(
            "{program} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

async fn backup(store: &Store, url: &str, file: &std::path::Path) -> Result<()> {
    if file.exists() {
        bail!("{} exists; give a new file", file.display());
    }
    let path = file.to_str().context("the backup path must be UTF-8")?;
    match store.backend() {
        kohtaamo_storage::Backend::Sqlite => store.backup_sqlite(path).await.map_err(explain)?,
        kohtaamo_storage::Backend::Postgres => run_tool(
            "pg_dump",
            &["--format=custom", "--no-owner", "--file", path, url],
        )?,
    }
    println!("backed up to {}", file.display());
    Ok(())
}

async fn restore(
    store: Store,
    url: &str,
    file: &std::path::Path,
    ledger: Option<&std::path::Path>,
) -> Result<()> {
    use kohtaamo_app::privacy as pv;
    if !file.exists() {
        bail!("no backup {}", file.display());
    }
    // The erasures the database being replaced knows of, and any kept apart.
    let mut ledgers: Vec<pv::LedgerFile> = vec![];
    let here = pv::ledger_file(&store).await.map_err(explain_app)?;
    if !here.entries.is_empty() {
        ledgers.push(here);
    }
    if let Some(p) = ledger {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        ledgers.push(
            serde_json::from_str(&text)
                .with_context(|| format!("{} is not a ledger file", p.display()))?,
        );
    }
    let sqlite = store.sqlite_file().map(str::to_owned);
    // Held until the restore is done: no server may start on the database meanwhile.
    let _alone = match &sqlite {
        Some(db) => Some(serve_lock(db, true)?),
        None => None,
    };
    store.close().await;
    let (restored, target) = match &sqlite {
        Some(db) => {
            // Restored beside the database, then swapped in whole.
            let tmp = format!("{db}.restoring");
            for f in [tmp.clone(), format!("{tmp}-wal"), format!("{tmp}-shm")] {
                let _ = std::fs::remove_file(f);
            }
            std::fs::copy(file, &tmp).with_context(|| format!("copying {}", file.display()))?;
            (
                Store::connect(&format!("sqlite://{tmp}"))
                    .await
                    .map_err(explain)?,
                Some((tmp, db.clone())),
            )
        }
        None => {
            let path = file.to_str().context("the backup path must be UTF-8")?;
            run_tool(
                "pg_restore",
                &[
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--single-transaction",
                    "--dbname",
                    url,
                    path,
                ],
            )?;
            (Store::connect(url).await.map_err(explain)?, None)
        }
    };
    let mut erased = 0;
    let mut added = 0;
    for l in &ledgers {
        let r = pv::reapply_ledger(&restored, Some(l))
            .await
            .map_err(explain_app)?;
        erased += r.counts.values().sum::<i64>();
        added += r.added;
    }
    let r = pv::reapply_ledger(&restored, None)
        .await
        .map_err(explain_app)?;
    erased += r.counts.values().sum::<i64>();
    restored.forget_freed_pages().await;
    restored.close().await;
    if let Some((tmp, db)) = target {
        let aside = format!("{db}.replaced");
        for f in [format!("{db}-wal"), format!("{db}-shm")] {
            let _ = std::fs::remove_file(f);
        }
        if std::path::Path::new(&db).exists() {
            std::fs::rename(&db, &aside).with_context(|| format!("moving {db} aside"))?;
            println!("the replaced database is at {aside} (delete it when the restore is checked)");
        }
        std::fs::rename(&tmp, &db)
            .with_context(|| format!("moving the restored database to {db}"))?;
    }
    println!(
        "restored {}; deletion ledger re-applied: {added} entries added, {erased} rows of erased people removed again",
        file.display()
    );
    Ok(())
}

async fn audit_verify(store: &Store, workspace: Option<String>) -> Result<()> {
    let all = store
        .workspaces_for(&kohtaamo_storage::auth::User {
            id: 0,
            username: "cli".into(),
            is_superadmin: true,
        })
        .await
        .map_err(explain)?;
    let chosen: Vec<_> = all
        .into_iter()
        .filter(|(w, _)| {
            workspace
                .as_deref()
                .is_none_or(|s| w.data.slug.as_str() == s)
        })
        .collect();
    if chosen.is_empty() {
        bail!("no workspace '{}'", workspace.unwrap_or_default());
    }
    let mut broken = 0;
    for (w, _) in chosen {
        match store.verify_audit(w.id).await.map_err(explain)? {
            Ok(n) => println!("{}: audit chain intact ({n} entries)", w.data.slug.as_str()),
            Err(b) => {
                broken += 1;
                println!(
                    "{}: audit chain BROKEN at entry {} (id {}): {}",
                    w.data.slug.as_str(),
                    b.seq,
                    b.id,
                    b.reason
                );
            }
        }
    }
    if broken > 0 {
        bail!("{broken} workspace(s) with a broken audit chain");
    }
    Ok(())
}

/// The system clock, or a fixed one at noon of `as_of`.
fn clock(as_of: Option<chrono::NaiveDate>) -> SharedClock {
    match as_of {
        Some(d) => std::sync::Arc::new(FixedClock::on(d)),
        None => kohtaamo_app::clock::system(),
    }
}

fn explain_app(e: kohtaamo_app::Error) -> anyhow::Error {
    use kohtaamo_app::Error as E;
    match e {
        E::Invalid(fields) => anyhow::anyhow!("invalid:\n{fields}"),
        E::Conflict(m) => anyhow::anyhow!("conflict: {m}"),
        E::Internal(cause) => anyhow::anyhow!("{cause}"),
        other => anyhow::anyhow!("{other}"),
    }
}

async fn user(store: &Store, cmd: UserCmd) -> Result<()> {
    match cmd {
        UserCmd::Create {
            username,
            superadmin,
            password_stdin,
        } => {
            let (pw, generated) = if password_stdin {
                (password_from_stdin()?, false)
            } else {
                (
                    kohtaamo_storage::auth::random_secret()[..20].to_string(),
                    true,
                )
            };
            store
                .create_user(&username, &pw, superadmin)
                .await
                .map_err(explain)?;
            println!("created user {username}");
            if generated {
                println!("password (shown once): {pw}");
            }
        }
        UserCmd::ResetPassword {
            username,
            password_stdin,
        } => {
            let pw = if password_stdin {
                password_from_stdin()?
            } else {
                kohtaamo_storage::auth::random_secret()[..20].to_string()
            };
            store.set_password(&username, &pw).await.map_err(explain)?;
            println!("password of {username} changed; their sessions and API tokens have ended");
            if !password_stdin {
                println!("new password (shown once): {pw}");
            }
        }
        UserCmd::Email { username, address } => {
            let addr = Some(address.as_str()).filter(|a| !a.trim().is_empty());
            store
                .set_user_email(&username, addr)
                .await
                .map_err(explain)?;
            println!(
                "{username}: {}",
                if addr.is_some() {
                    "e-mail address set"
                } else {
                    "e-mail address removed"
                }
            );
        }
        UserCmd::List => {
            for u in store.list_users().await.map_err(explain)? {
                println!(
                    "{}\t{}{}",
                    u.id,
                    u.username,
                    if u.is_superadmin {
                        "\t(installation admin)"
                    } else {
                        ""
                    }
                );
            }
        }
    }
    Ok(())
}

async fn token(store: &Store, cmd: TokenCmd) -> Result<()> {
    let find = |name: String| async move {
        match store.user_by_name(&name).await.map_err(explain)? {
            Some(u) => Ok(u),
            None => bail!("no user '{name}'"),
        }
    };
    match cmd {
        TokenCmd::Create { user, name } => {
            let u = find(user).await?;
            let (_, token) = store.create_token(u.id, &name).await.map_err(explain)?;
            println!("{token}");
        }
        TokenCmd::Revoke { user, id } => {
            let u = find(user).await?;
            store.revoke_token(u.id, id).await.map_err(explain)?;
            println!("token {id} revoked");
        }
        TokenCmd::List { user } => {
            let u = find(user).await?;
            for t in store.list_tokens(u.id).await.map_err(explain)? {
                println!(
                    "{}\t{}\tcreated {}{}",
                    t.id,
                    t.name,
                    t.created_at,
                    t.revoked_at
                        .map(|r| format!("\trevoked {r}"))
                        .unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}

/// Every `serve` on a SQLite database holds a shared lock on the file `<db>.serving`
/// beside it while it runs; `restore` takes it exclusively, so it refuses to swap the
/// database out from under a running server (whose writes would go to the replaced
/// file), and no server starts while a restore runs. The operating system drops the
/// lock when the process ends, however it ends.
fn serve_lock(db: &str, exclusive: bool) -> Result<std::fs::File> {
    let path = format!("{db}.serving");
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {path}"))?;
    let r = if exclusive {
        f.try_lock()
    } else {
        f.try_lock_shared()
    };
    match r {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) if exclusive => bail!(
            "a server is serving {db}: stop it before restoring (restore replaces the database file)"
        ),
        Err(std::fs::TryLockError::WouldBlock) => {
            bail!("{db} is being restored: start the server when the restore has finished")
        }
        Err(std::fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("locking {path}")),
    }
}

async fn serve(cfg: Config, store: Store) -> Result<()> {
    let _serving = match store.sqlite_file() {
        Some(db) => Some(serve_lock(db, false)?),
        None => None,
    };
    // Take the address first: if it is in use, stop before anything is created or
    // printed (a first admin's password shown for a server that never ran is lost).
    let listener = tokio::net::TcpListener::bind(&cfg.bind)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (in use? choose another with --bind or KOHTAAMO_BIND)",
                cfg.bind
            )
        })?;
    let admin_pw = std::env::var("KOHTAAMO_ADMIN_PASSWORD")
        .ok()
        .filter(|s| !s.is_empty());
    if let Some(pw) = store
        .ensure_admin(admin_pw.as_deref())
        .await
        .map_err(explain)
        .context("creating the first admin")?
    {
        // Printed once to the terminal, never logged.
        println!("Created the first admin account.\n  login:    admin\n  password: {pw}\n(Shown only now. Set KOHTAAMO_ADMIN_PASSWORD to choose it, or use `kohtaamo user reset-password admin`.)");
    }
    if cfg.demo {
        match kohtaamo_app::demo::create(&store)
            .await
            .map_err(|e| anyhow::anyhow!("creating the demo workspace: {e}"))?
        {
            Some((created, responses)) => {
                tracing::info!(created, responses, "demo workspace created")
            }
            None => tracing::info!("demo workspace exists; left as it is"),
        }
    }
    let clock = kohtaamo_app::clock::system();
    cfg.scheduler(store.clone(), clock.clone()).spawn();
    let addr = listener.local_addr()?;
    let app = kohtaamo_http::app_with_clock(store.clone(), cfg.http(), clock);
    println!("Kohtaamo is running at http://{addr}/  (API: http://{addr}/api/v1, OpenAPI: http://{addr}/api/v1/openapi.json)");
    if admin_pw.is_some() {
        println!("Log in as admin with the password from KOHTAAMO_ADMIN_PASSWORD.");
    }
    tracing::info!(%addr, backend = ?store.backend(), "listening");
    if cfg.public_url.is_none() && !listener_is_loopback(addr) {
        tracing::warn!("KOHTAAMO_PUBLIC_URL is not set: survey links and QR codes use http://localhost until it is (the Host header of a request cannot be trusted)");
    }
    kohtaamo_http::serve(listener, app, shutdown_signal(), cfg.serve_limits()).await?;
    // Requests dropped at the shutdown deadline may still hold a database connection;
    // closing the pool waits for them only briefly (committed writes are durable).
    if tokio::time::timeout(std::time::Duration::from_secs(5), store.close())
        .await
        .is_err()
    {
        tracing::warn!("database connections still busy at exit; closed without waiting");
    }
    tracing::info!("stopped");
    Ok(())
}

fn listener_is_loopback(addr: std::net::SocketAddr) -> bool {
    addr.ip().is_loopback()
}

/// Resolves on SIGTERM or Ctrl-C; the server then stops accepting and lets in-flight
/// requests finish.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down; finishing in-flight requests (up to the shutdown grace)");
}
