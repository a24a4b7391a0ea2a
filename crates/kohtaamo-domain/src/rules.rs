//! Rules over the model that need more than one field: staleness of "who is my
//! customer" answers, publishability of packages, cycles in the unit tree.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::model::ElementRole;
use crate::Id;

/// A day as programs write it, `YYYY-MM-DD`, or as Finns do, `D.M.YYYY` (a browser
/// without a date picker leaves the field to be typed), with a four-digit year
/// (1000–9999). Anything else is "bad-date": a far-off day such as `-200000-01-01`
/// parses as a date but overflows the arithmetic of periods and due dates.
pub fn parse_day(s: &str) -> Result<NaiveDate, crate::Reason> {
    use chrono::Datelike;
    let s = s.trim();
    let four_digit_year = |d: &NaiveDate| (1000..=9999).contains(&d.year());
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .filter(|d| four_digit_year(d) && s.len() == 10)
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%d.%m.%Y").ok().filter(|d| {
                four_digit_year(d) && s.rsplit('.').next().is_some_and(|y| y.len() == 4)
            })
        })
        .ok_or_else(|| crate::Reason::new("bad-date"))
}

/// A relation is stale when it was never reviewed or its review interval has passed.
pub fn is_stale(last_reviewed: Option<NaiveDate>, interval_days: i64, today: NaiveDate) -> bool {
    match last_reviewed {
        None => true,
        Some(d) => (today - d).num_days() > interval_days,
    }
}

pub fn has_core(roles: impl IntoIterator<Item = ElementRole>) -> bool {
    roles.into_iter().any(|r| r == ElementRole::Core)
}

/// Would giving `unit` the parent `new_parent` close a cycle, given every unit's
/// current parent? Walks up from the new parent; bounded by the map's size so a cycle
/// already in the data cannot loop forever.
pub fn creates_cycle(
    unit: Option<Id>,
    new_parent: Option<Id>,
    parents: &HashMap<Id, Option<Id>>,
) -> bool {
    let Some(mut cur) = new_parent else {
        return false;
    };
    for _ in 0..=parents.len() {
        if Some(cur) == unit {
            return true;
        }
        match parents.get(&cur).copied().flatten() {
            Some(p) => cur = p,
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod day_tests {
    use super::parse_day;

    #[test]
    fn days_have_four_digit_years() {
        assert_eq!(parse_day("2026-03-01").unwrap().to_string(), "2026-03-01");
        assert_eq!(parse_day("1.3.2026").unwrap().to_string(), "2026-03-01");
        assert_eq!(parse_day(" 01.03.2026 ").unwrap().to_string(), "2026-03-01");
        for bad in [
            "1.3.26",
            "1.3.20260",
            "30.2.2026",
            "-200000-01-01",
            "+200000-01-01",
            "0999-12-31",
            "10000-01-01",
            "2026-02-30",
            "2026-3-1",
            "x",
        ] {
            assert!(parse_day(bad).is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cycles() {
        // 1 <- 2 <- 3
        let p: HashMap<Id, Option<Id>> = [(1, None), (2, Some(1)), (3, Some(2))].into();
        assert!(creates_cycle(Some(1), Some(3), &p));
        assert!(creates_cycle(Some(2), Some(2), &p));
        assert!(!creates_cycle(Some(3), Some(1), &p));
        assert!(!creates_cycle(None, Some(3), &p));
        assert!(!creates_cycle(Some(1), None, &p));
    }

    #[test]
    fn stale() {
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert!(is_stale(None, 365, d("2026-01-01")));
        assert!(!is_stale(Some(d("2026-01-01")), 31, d("2026-02-01")));
        assert!(is_stale(Some(d("2026-01-01")), 30, d("2026-02-01")));
    }

    proptest! {
        #[test]
        fn stale_iff_more_days_than_interval(days in 0i64..2000, interval in 1i64..3650) {
            let today = NaiveDate::from_ymd_opt(2030, 1, 1).unwrap();
            let last = today - chrono::Duration::days(days);
            prop_assert_eq!(is_stale(Some(last), interval, today), days > interval);
        }

        #[test]
        fn a_chain_never_cycles_when_attached_below(n in 1i64..50) {
            let parents: HashMap<Id, Option<Id>> = (1..=n).map(|i| (i, if i == 1 { None } else { Some(i - 1) })).collect();
            // Attaching a new unit under any existing one is always fine; attaching the
            // root under any of its descendants is always a cycle.
            for i in 1..=n {
                prop_assert!(!creates_cycle(Some(n + 1), Some(i), &parents));
                prop_assert!(creates_cycle(Some(1), Some(i), &parents));
            }
        }
    }
}
