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
//! - [`webhooks`]: the signed delivery both use.

pub mod alerts;
pub mod review;
pub mod webhooks;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use kohtaamo_storage::Store;

use crate::clock::SharedClock;
use crate::Result;

pub use alerts::{alert_cycle_once, alert_period};
pub use review::review_cycle_once;
pub use webhooks::{sign, Targets, SIGNATURE_HEADER};

/// What a job run gets: the store, the clock, which webhook addresses may be reached,
/// and the HTTP client for deliveries (built from them).
#[derive(Clone)]
pub struct JobCtx {
    pub store: Store,
    pub clock: SharedClock,
    pub targets: Targets,
    pub http: reqwest::Client,
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
        }
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

impl Job {
    pub const REVIEW_CYCLE: Job = Job {
        name: "review cycle",
        pass: review_pass,
    };
    pub const ALERT_CYCLE: Job = Job {
        name: "alert cycle",
        pass: alert_pass,
    };
    /// Every job there is.
    pub const ALL: [Job; 2] = [Job::REVIEW_CYCLE, Job::ALERT_CYCLE];

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
        self.ctx = JobCtx::with_targets(self.ctx.store.clone(), self.ctx.clock.clone(), targets);
        self
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
