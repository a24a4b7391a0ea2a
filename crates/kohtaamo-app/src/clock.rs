//! Time as an input. Every use case that depends on "today" (staleness of who-is-my-
//! customer answers, the review cycle, score periods, alert periods, later SLAs and
//! retention) asks a [`Clock`], so tests fix the date and an operator can ask for a
//! report as of another day (`kohtaamo report insight --as-of 2026-03-01`).

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
    /// The current day in UTC (the day every stored date is counted in).
    fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }
}

/// The period a page or report shows when none is asked for: the 90 days (UTC) to
/// `to`, inclusive.
pub fn default_period(to: NaiveDate) -> (NaiveDate, NaiveDate) {
    (to - chrono::Duration::days(89), to)
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that always says the same time: tests, and reports "as of" a day.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl FixedClock {
    /// Noon (UTC) of `day`.
    pub fn on(day: NaiveDate) -> Self {
        Self(day.and_hms_opt(12, 0, 0).unwrap_or_default().and_utc())
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// The clock shared by a server's handlers and jobs.
pub type SharedClock = Arc<dyn Clock>;

/// The system clock, shared.
pub fn system() -> SharedClock {
    Arc::new(SystemClock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_says_its_day() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let c = FixedClock::on(d);
        assert_eq!(c.today(), d);
        assert_eq!(c.now().date_naive(), d);
    }
}
