//! What a use case can answer besides its result. No HTTP here: the HTTP layer maps
//! each variant to a status (`kohtaamo_http::error`), the CLI prints it.

use kohtaamo_domain::{FieldErrors, Reason};
use kohtaamo_storage::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Unknown id, key or workspace.
    #[error("not found")]
    NotFound,
    /// The input failed validation; every field's reason.
    #[error("validation failed")]
    Invalid(FieldErrors),
    /// The caller's role does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// A duplicate identity, or a record still referenced.
    #[error("{0}")]
    Conflict(String),
    /// The thing existed but is over (a closed survey, a used invitation).
    #[error("{0}")]
    Gone(String),
    /// A rate limit was reached; retry after this many seconds.
    #[error("too many attempts, try again later")]
    Limited(u64),
    /// The database cannot serve for now (down, unreachable, disk full): retry after
    /// the outage's seconds. Logged once by the store when it starts and ends.
    #[error("{}: try again in {} s", .0.as_str(), .0.retry_after_secs())]
    Unavailable(kohtaamo_storage::Outage),
    /// Anything else: logged with its cause by whoever shows it, never shown.
    #[error("internal error")]
    Internal(String),
}

impl Error {
    /// One field's reason.
    pub fn invalid(field: &str, reason: impl Into<Reason>) -> Self {
        let mut e = FieldErrors::new();
        e.add(field, reason);
        Error::Invalid(e)
    }
}

/// A governor rate limit refusing: `Limited` with the seconds until it allows again.
impl From<governor::NotUntil<governor::clock::QuantaInstant>> for Error {
    fn from(e: governor::NotUntil<governor::clock::QuantaInstant>) -> Self {
        use governor::clock::{Clock, DefaultClock};
        Error::Limited(e.wait_time_from(DefaultClock::default().now()).as_secs() + 1)
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Error::NotFound,
            StoreError::Invalid(f) => Error::Invalid(f),
            StoreError::Conflict(m) => Error::Conflict(m),
            StoreError::Unavailable(o, _) => Error::Unavailable(o),
            StoreError::Db(e) => Error::Internal(format!("database: {e}")),
        }
    }
}

impl From<FieldErrors> for Error {
    fn from(e: FieldErrors) -> Self {
        Error::Invalid(e)
    }
}

pub type Result<T> = std::result::Result<T, Error>;
