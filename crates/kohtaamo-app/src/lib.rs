//! Kohtaamo's application layer: what Kohtaamo does, as use cases and jobs. They take
//! validated domain types, a [`Store`](kohtaamo_storage::Store) and, where "today"
//! matters, a [`clock::Clock`], and return domain results or an [`Error`] — no HTTP,
//! no HTML. The JSON API and the pages (`kohtaamo-http`), the background jobs and the
//! CLI (`kohtaamo`) are thin doors into these rooms.
//!
//! - [`analysis`]: score tables per scope, trends, the weakest encounter, drivers,
//!   response rates (what the dashboards, the score API and the alert job read);
//! - [`overview`]: the leaders' overview (the workspace home);
//! - [`insight`]: organisation insight as served; [`report`]: the Markdown memo;
//! - [`feedback`]: the public side — live-survey cache, rate limits, submission and the
//!   survey as a respondent sees it; [`links`]: survey links, widget snippet and personal invitations;
//! - [`responses`]: themes of open answers, the rows of a response export;
//! - [`demo`]: the demo workspace (model and a seeded year of responses);
//! - [`accounts`]: the installation admin creates workspaces and accounts;
//! - [`encounters`]: the encounter log, frontline captures, the customer timeline and
//!   linking customers; [`encounter_import`]: encounters from other systems' CSV files;
//! - [`followups`]: which rules a response or capture opens a follow-up by, and the
//!   actions on one (assign, contact, resolve, close with a root cause, reopen, note);
//! - [`privacy`]: a person's data found, exported and erased; the audit chain;
//! - [`retention`]: each workspace's retention periods, their preview and the run;
//! - [`units`]: who works in a unit, and what a unit member may do (review);
//! - [`mining`]: the journey customers actually take beside the designed one;
//!   [`mining_rollups`]: its per-day flow kept up to date; [`event_logs`]: XES, OCEL and
//!   CSV event logs in and out; [`shared`]: figures worked out from the log, shared by
//!   concurrent requests and kept for the next;
//! - [`model`]: the model's collections and their validated writes, model import/export;
//! - [`jobs`]: the scheduler and its jobs (review cycle, score alerts, webhooks);
//! - [`directory`]: id → name in one language; [`i18n`]: messages and formatting in
//!   Finnish, English and any language with a message file; [`clock`]: time as an input.

pub mod accounts;
pub mod analysis;
pub mod cases;
pub mod clock;
pub mod demo;
pub mod directory;
pub mod encounter_import;
pub mod encounters;
pub mod error;
pub mod event_logs;
pub mod feedback;
pub mod followups;
pub mod i18n;
pub mod insight;
pub mod jobs;
pub mod keyed;
pub mod links;
pub mod mail;
pub mod mining;
pub mod mining_rollups;
pub mod model;
pub mod overview;
pub mod privacy;
pub mod report;
pub mod responses;
pub mod retention;
pub mod shared;
pub mod units;

pub use error::{Error, Result};
