//! Query parameters shared by the JSON API and the pages, parsed into validated values:
//! a period with its scope, the response filters, paging, and one group of a scope.
//! Every bad parameter is named with its reason.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use kohtaamo_domain::analytics::{GroupKey, Scope, Scopes, Selector};
use kohtaamo_domain::rules::parse_day;
use kohtaamo_domain::{FieldErrors, Id, Reason};
use kohtaamo_storage::feedback::ResponseFilter;

use crate::error::{ApiError, ApiResult};

/// Parses `by`, `from`, `to`; every bad one is named. Without `to` the period ends
/// `today`; without `from` it is the 90 days up to `to`.
pub fn period(
    q: &BTreeMap<String, String>,
    today: NaiveDate,
) -> ApiResult<(Scope, NaiveDate, NaiveDate)> {
    let mut e = FieldErrors::new();
    let by = match q.get("by").filter(|s| !s.is_empty()) {
        None => Some(Scope::Touchpoint),
        Some(s) => e.take("by", Scope::parse(s)),
    };
    let (from, to) = days_into(&mut e, q, today);
    if !e.is_empty() {
        return Err(ApiError::Invalid(e));
    }
    Ok((by.unwrap_or(Scope::Touchpoint), from, to))
}

/// The period of `from` and `to` (days, inclusive; default: the 90 days to today).
pub fn days(q: &BTreeMap<String, String>, today: NaiveDate) -> ApiResult<(NaiveDate, NaiveDate)> {
    let mut e = FieldErrors::new();
    let p = days_into(&mut e, q, today);
    if !e.is_empty() {
        return Err(ApiError::Invalid(e));
    }
    Ok(p)
}

fn days_into(
    e: &mut FieldErrors,
    q: &BTreeMap<String, String>,
    today: NaiveDate,
) -> (NaiveDate, NaiveDate) {
    let mut day = |k: &str| {
        q.get(k)
            .filter(|s| !s.is_empty())
            .and_then(|s| e.take(k, parse_day(s)))
    };
    let to = day("to").unwrap_or(today);
    let from = day("from").unwrap_or(kohtaamo_app::clock::default_period(to).0);
    if from > to {
        e.add(
            "from",
            Reason::new("text").with("text", "must not be after 'to'"),
        );
    }
    (from, to)
}

/// Parses the shared filters; every bad one is reported.
pub fn parse_filter(q: &BTreeMap<String, String>) -> ApiResult<ResponseFilter> {
    let mut e = FieldErrors::new();
    let get = |k: &str| q.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
    let mut date = |k: &str| get(k).and_then(|s| e.take(k, parse_day(s)));
    let from = date("from");
    let to = date("to");
    let band = match get("band") {
        None => None,
        Some("promoter") => Some("promoter"),
        Some("passive") => Some("passive"),
        Some("detractor") => Some("detractor"),
        Some(other) => {
            e.add(
                "band",
                Reason::new("not-one-of")
                    .with("value", other)
                    .with("options", "promoter, passive, detractor"),
            );
            None
        }
    };
    let touchpoint_id = get("touchpoint_id").and_then(|s| {
        e.take(
            "touchpoint_id",
            s.parse::<Id>().map_err(|_| Reason::new("whole-number")),
        )
    });
    let mut yes_no = |k: &str| match get(k) {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(other) => {
            e.add(
                k,
                Reason::new("not-one-of")
                    .with("value", other)
                    .with("options", "true, false"),
            );
            None
        }
    };
    let complete = yes_no("complete");
    let suspect = yes_no("suspect");
    if !e.is_empty() {
        return Err(ApiError::Invalid(e));
    }
    Ok(ResponseFilter {
        from,
        to,
        band,
        lang: get("lang").map(str::to_owned),
        touchpoint_id,
        q: get("q").map(str::to_owned),
        complete,
        suspect,
        group: None,
    })
}

/// `limit` (1–500, default 50) and `offset`.
pub fn paging(q: &BTreeMap<String, String>) -> ApiResult<(i64, i64)> {
    let mut e = FieldErrors::new();
    let mut num = |k: &str, d: i64, lo: i64, hi: i64| match q.get(k) {
        None => d,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (lo..=hi).contains(&n) => n,
            _ => {
                e.add(k, format!("must be an integer from {lo} to {hi}"));
                d
            }
        },
    };
    let limit = num("limit", 50, 1, 500);
    let offset = num("offset", 0, 0, i64::MAX / 2);
    e.into_result(|| (limit, offset)).map_err(ApiError::Invalid)
}

/// Parses `by` and `key` (both required) into the selector of that group's responses.
pub fn parse_group(
    q: &BTreeMap<String, String>,
    scopes: &Scopes,
) -> ApiResult<(Scope, GroupKey, Selector)> {
    let mut e = FieldErrors::new();
    let get = |k: &str| q.get(k).map(|s| s.trim());
    let by = match get("by") {
        None | Some("") => {
            e.add("by", Reason::new("empty"));
            None
        }
        Some(s) => e.take("by", Scope::parse(s)),
    };
    // A channel or language key may be '' (unknown); every other key is an id.
    let key = match (by, get("key")) {
        (_, None) => {
            e.add("key", Reason::new("empty"));
            None
        }
        (Some(scope), Some(k)) => e.take("key", GroupKey::parse(scope, k)),
        (None, Some(_)) => None,
    };
    match (by, key) {
        (Some(scope), Some(key)) if e.is_empty() => {
            let sel = scopes.selector(scope, &key);
            Ok((scope, key, sel))
        }
        _ => Err(ApiError::Invalid(e)),
    }
}

/// The responses behind one figure: the response filters and the group `by`/`key`.
/// Only complete responses count in a figure, so unless `complete` is given the list
/// holds complete responses only and its total equals the figure's n.
pub fn parse_group_filter(
    q: &BTreeMap<String, String>,
    scopes: &Scopes,
) -> ApiResult<(ResponseFilter, (Scope, GroupKey, Selector))> {
    let filter = parse_filter(q);
    let group = parse_group(q, scopes);
    match (filter, group) {
        (Ok(mut f), Ok(g)) => {
            f.complete = f.complete.or(Some(true));
            f.group = Some(g.2.clone());
            Ok((f, g))
        }
        (Err(ApiError::Invalid(mut a)), Err(ApiError::Invalid(b))) => {
            a.0.extend(b.0);
            Err(ApiError::Invalid(a))
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}
