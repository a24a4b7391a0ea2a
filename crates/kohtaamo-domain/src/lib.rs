//! Kohtaamo's customer-experience model, pure: types that can only be built valid, the
//! rules over them (staleness, publishability, tree cycles) and the model-as-code
//! document. Nothing in this crate does I/O; storage and HTTP depend on it, never the
//! other way round.

pub mod alerts;
pub mod analytics;
pub mod cases;
pub mod document;
pub mod encounters;
pub mod error;
pub mod followups;
pub mod insight;
pub mod mining;
pub mod mining_rollup;
pub mod model;
pub mod privacy;
pub mod rules;
pub mod survey;
pub mod text;
pub mod themes;

pub use error::{FieldErrors, Reason};

/// Database identity of a stored record. Slugs, not ids, are the stable names used in
/// exported documents.
pub type Id = i64;
