//! Background work: one [`Scheduler`] runs every job of a server instance, each on its
//! own period; each job is also callable once ("run once"), which is how tests drive
//! jobs — never by sleeping.
//!
//! Every job must be safe while other instances run it on the same database at the same
//! moment. The pattern: a unique key decides which instance created a piece of work
//! (`INSERT … ON CONFLICT DO NOTHING RETURNING`: a notification per relation and due
//! date, an alert per rule and period), and only the instance that created it acts on it
//! (delivers the webhook). A job that must drain a queue claims rows with
//! `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite has one writer at a time, so its write
//! gate already serialises claims).
//!
//! Adding a job:
//! 1. write `async fn my_job_once(ctx: &JobCtx) -> Result<usize>` in its own module here
//!    (one pass; returns how many things it did; reads "today" from `ctx.clock`);
//! 2. add a [`Job`] for it to [`Job::ALL`] (name and the configuration key of its period);
//! 3. give it a period in the binary's configuration (`jobs()` in `kohtaamo/src/config.rs`)
//!    and test it by calling `Scheduler::run_once` (or the function) with a fixed clock.
//!
//! The jobs:
//! - [`review`]: notify owning units of who-is-my-customer relations due for review;
//! - [`alerts`]: evaluate every score alert rule on its last complete period;
//! - [`followup_clock`]: escalate follow-ups whose targets were missed;
//! - [`mail`]: send the queued e-mail;
//! - retention (`crate::retention::retention_once`): apply every workspace's
//!   retention periods;
//! - journey-mining rollups (`crate::mining_rollups::mining_rollups_once`): bring
//!   each journey's per-day flow rollups up to date with the encounter log;
//! - journey-mining reports (`crate::mining::mining_reports_once`): keep the default
//!   report of every journey asked for on this instance computed;
//! - [`webhooks`]: the signed delivery they use.

pub mod alerts;
pub mod followup_clock;
pub mod mail;
pub mod review;
pub mod webhooks;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use kohtaamo_storage::Store;

use crate::clock::SharedClock;
use crate::Result;

pub use alerts::{alert_cycle_once, alert_period};
pub use followup_clock::follow_up_clock_once;
pub use mail::mail_once;
pub use review::review_cycle_once;
pub use webhooks::{sign, Targets, SIGNATURE_HEADER};

/// What a job run gets: the store, the clock, which webhook addresses may be reached,
/// the HTTP client for deliveries (built from them), the SMTP client (None: e-mail is
/// off) and the public address links in e-mail point to.
#[derive(Clone)]
pub struct JobCtx {
    pub store: Store,
    pub clock: SharedClock,
    pub targets: Targets,
    pub http: reqwest::Client,
    pub mailer: Option<std::sync::Arc<crate::mail::Mailer>>,
    pub base_url: Option<String>,
}

impl JobCtx {
    /// Webhooks only to public addresses.
    pub fn new(store: Store, clock: SharedClock) -> Self {
        Self::with_targets(store, clock, Targets::default())
    }

    pub fn with_targets(store: Store, clock: SharedClock, targets: Targets) -> Self {
        Self {
            store,
            clock,
            http: targets.client(),
            targets,
            mailer: None,
            base_url: None,
        }
    }

    /// Sends e-mail with `mailer` (None: e-mail off).
    pub fn with_mailer(mut self, mailer: Option<crate::mail::Mailer>) -> Self {
        self.mailer = mailer.map(std::sync::Arc::new);
        self
    }

    /// Links in e-mail start with `base` (e.g. `https://kohtaamo.example.fi`).
    pub fn with_base_url(mut self, base: Option<String>) -> Self {
        self.base_url = base;
        self
    }

    /// A link to `path` on this installation, for e-mail ("" base when none is set).
    pub fn link(&self, path: &str) -> String {
        format!(
            "{}{path}",
            self.base_url
                .as_deref()
                .unwrap_or("http://localhost:8080")
                .trim_end_matches('/')
        )
    }
}

type Pass = for<'a> fn(&'a JobCtx) -> Pin<Box<dyn Future<Output = Result<usize>> + Send + 'a>>;

/// A kind of background work: its name (in logs) and one pass.
#[derive(Clone, Copy)]
pub struct Job {
    pub name: &'static str,
    pass: Pass,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

fn review_pass(ctx: &JobCtx) -> Pin<Box<dyn Future<Output = Result<usize>> + Send + '_>> {
    Box::pin(review_cycle_once(ctx))
}

fn alert_pass(ctx: &JobCtx) -> Pin<Box<dyn Future<Output = Result<usize>> + Send + '_>> {
    Box::pin(async move { alert_cycle_once(ctx).await.map(|a| a.len()) })
}

fn follow_up_pass(ctx: &JobCtx) -> Pin<Box<dyn Future<Output = Result<usize>> + Send + '_>> {
    Box::pin(follow_up_clock_once(ctx))
}

fn retention_pass(ctx: &JobCtx) -> Pin<Box<dyn Future<Output = Result<usize>> + Send + '_>> {
    Box::pin(crate::retention::retention_once(ctx))
}

fn mining_pass(ctx: &JobCtx) -> Pin<Box<dyn Future<Output = Result<usize>> + Send + '_>> {
    Box::pin(crate::mining_rollups::mining_rollups_once(ctx))
}

fn mining_reports_pass(ctx: &JobCtx) -> Pin<Box<dyn Future<Output = Result<usize>> + Send + '_>> {
    Box::pin(crate::mining::mining_reports_once(ctx))
}

fn mail_pass(ctx: &JobCtx) -> Pin<Box<dyn Future<Output = Result<usize>> + Send + '_>> {
    Box::pin(mail_once(ctx))
}

impl Job {
    pub const REVIEW_CYCLE: Job = Job {
        name: "review cycle",
        pass: review_pass,
    };
    pub const ALERT_CYCLE: Job = Job {
        name: "alert cycle",
        pass: alert_pass,
    };
    pub const FOLLOW_UP_CLOCK: Job = Job {
        name: "follow-up clock",
        pass: follow_up_pass,
    };
    pub const MAIL: Job = Job {
        name: "mail",
        pass: mail_pass,
    };
    pub const RETENTION: Job = Job {
        name: "retention",
        pass: retention_pass,
    };
    pub const MINING_ROLLUPS: Job = Job {
        name: "journey-mining rollups",
        pass: mining_pass,
    };
    pub const MINING_REPORTS: Job = Job {
        name: "journey-mining reports",
        pass: mining_reports_pass,
    };
    /// Every job there is.
    pub const ALL: [Job; 7] = [
        Job::REVIEW_CYCLE,
        Job::ALERT_CYCLE,
        Job::FOLLOW_UP_CLOCK,
        Job::MAIL,
        Job::RETENTION,
        Job::MINING_ROLLUPS,
        Job::MINING_REPORTS,
    ];

    /// One pass of this job; how many things it did.
    pub async fn run_once(&self, ctx: &JobCtx) -> Result<usize> {
        (self.pass)(ctx).await
    }
}

/// The jobs of one server instance, each with its period.
pub struct Scheduler {
    ctx: JobCtx,
    jobs: Vec<(Job, Duration)>,
}

impl Scheduler {
    pub fn new(store: Store, clock: SharedClock) -> Self {
        Self {
            ctx: JobCtx::new(store, clock),
            jobs: vec![],
        }
    }

    /// Which webhook addresses the jobs may reach (default: public ones only).
    pub fn targets(mut self, targets: Targets) -> Self {
        let (mailer, base) = (self.ctx.mailer.take(), self.ctx.base_url.take());
        self.ctx = JobCtx::with_targets(self.ctx.store.clone(), self.ctx.clock.clone(), targets);
        self.ctx.mailer = mailer;
        self.ctx.base_url = base;
        self
    }

    /// The SMTP client (None: e-mail off) and the address links in e-mail start with.
    pub fn mail(mut self, mailer: Option<crate::mail::Mailer>, base: Option<String>) -> Self {
        self.ctx = self.ctx.with_mailer(mailer).with_base_url(base);
        self
    }

    /// What every pass gets.
    pub fn ctx(&self) -> &JobCtx {
        &self.ctx
    }

    /// Runs `job` every `every` (the first pass at once); a zero period leaves it off.
    pub fn every(mut self, every: Duration, job: Job) -> Self {
        if !every.is_zero() {
            self.jobs.push((job, every));
        }
        self
    }

    /// The jobs that will run, with their periods.
    pub fn jobs(&self) -> &[(Job, Duration)] {
        &self.jobs
    }

    /// One pass of every scheduled job, in order (tests, and `kohtaamo jobs run`).
    pub async fn run_once(&self) -> Vec<(Job, Result<usize>)> {
        let mut out = vec![];
        for (job, _) in &self.jobs {
            out.push((*job, job.run_once(&self.ctx).await));
        }
        out
    }

    /// Starts every job on the current runtime; each runs until the process ends. A
    /// failed pass is logged and the next one runs as planned.
    pub fn spawn(self) -> Vec<tokio::task::JoinHandle<()>> {
        self.jobs
            .into_iter()
            .map(|(job, every)| {
                let ctx = self.ctx.clone();
                tokio::spawn(async move {
                    let mut tick = tokio::time::interval(every);
                    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    loop {
                        tick.tick().await;
                        match job.run_once(&ctx).await {
                            Ok(0) => {}
                            Ok(n) => tracing::info!(job = job.name, count = n, "job pass done"),
                            Err(e) => {
                                tracing::error!(job = job.name, error = ?e, "background job failed")
                            }
                        }
                    }
                })
            })
            .collect()
    }
}
