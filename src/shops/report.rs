//! The store report: each store's sign-ups, holders, campaigns (local and head office's), the
//! pooled lift of its local campaigns, offers redeemed and revenue over a period; head office
//! sees every store, a store role its own row only.

use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime};

use crate::access::{Actor, Area, Reach};
use crate::error::{Error, Result};
use crate::store::{Store, StoreFigures};
use crate::templates::datetime::parse_w3c;

const DAY_MS: i64 = 86_400_000;
/// The period when none is asked: the last 30 days.
pub const DEFAULT_DAYS: i64 = 30;
/// The longest period (a leap year): longer reports are a job for an export, not a request.
pub const MAX_DAYS: i64 = 366;

/// `[from, to)` in unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: i64,
    pub to: i64,
}

/// The period asked: W3C dates (UTC days, `to`'s day included) or date-times (`to` excluded).
/// Either may be left out: `to` defaults to now, `from` to 30 days before `to`.
pub fn period(from: Option<&str>, to: Option<&str>, now: i64) -> Result<Period> {
    let to = match to {
        Some(text) => instant(text, "to", true)?,
        None => now,
    };
    let from = match from {
        Some(text) => instant(text, "from", false)?,
        None => to - DEFAULT_DAYS * DAY_MS,
    };
    if from >= to {
        return Err(Error::unprocessable("from must be before to", "from"));
    }
    if to - from > MAX_DAYS * DAY_MS {
        return Err(Error::unprocessable(
            format!("the period from from to to may span at most {MAX_DAYS} days"),
            "from",
        ));
    }
    Ok(Period { from, to })
}

/// A W3C date (`2026-11-01`, a UTC day: its start, or for `end` the next day's start) or
/// date-time (`2026-11-01T00:00:00+01:00`).
fn instant(text: &str, field: &str, end: bool) -> Result<i64> {
    // An unencoded `+` of an offset arrives as a space in a query string.
    let text = text.trim().replace(' ', "+");
    let bad = |e: String| Error::unprocessable(format!("{field}: {e} (or a date like 2026-11-01)"), field);
    let at = if text.contains('T') {
        parse_w3c(&text).map_err(bad)?
    } else {
        let day = Date::parse(&text, format_description!("[year]-[month]-[day]"))
            .map_err(|_| bad("expected a date like 2026-11-01 or a date-time like 2026-11-01T00:00:00Z".into()))?;
        let start = OffsetDateTime::new_utc(day, time::Time::MIDNIGHT);
        if end { start + Duration::DAY } else { start }
    };
    Ok((at.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// The rows `actor` may see over `period`: every store's for head office, its own for a store
/// role (another store's row never appears).
pub async fn store_report(store: &dyn Store, actor: &Actor, period: Period) -> Result<Vec<StoreFigures>> {
    actor.require(Area::Reports)?;
    let only = match actor.reach(Area::Reports) {
        Reach::All => None,
        _ => match actor.own_store() {
            Some(own) => Some(own),
            None => return Ok(Vec::new()),
        },
    };
    Ok(store.store_figures(only, period.from, period.to).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_000_000_000;

    #[test]
    fn dates_cover_whole_days_and_date_times_are_exact() {
        let p = period(Some("2026-11-01"), Some("2026-11-30"), NOW).unwrap();
        assert_eq!((p.from, p.to), (1_793_491_200_000, 1_793_491_200_000 + 30 * DAY_MS));
        let p = period(Some("2026-11-01T00:00:00+01:00"), Some("2026-11-02T00:00:00Z"), NOW).unwrap();
        assert_eq!((p.from, p.to), (1_793_491_200_000 - 3_600_000, 1_793_491_200_000 + DAY_MS));
        // The `+` of an offset that a query string turned into a space.
        assert_eq!(period(Some("2026-11-01T00:00:00 01:00"), Some("2026-11-02"), NOW).unwrap().from, p.from);
    }

    #[test]
    fn defaults_to_the_last_30_days() {
        assert_eq!(period(None, None, NOW).unwrap(), Period { from: NOW - 30 * DAY_MS, to: NOW });
        let to = period(None, Some("2026-11-30"), NOW).unwrap().to;
        assert_eq!(period(None, Some("2026-11-30"), NOW).unwrap().from, to - 30 * DAY_MS);
    }

    #[test]
    fn bad_periods_name_the_field() {
        let field = |r: Result<Period>| match r {
            Err(Error::Unprocessable { field, .. }) => field.unwrap(),
            other => panic!("{other:?}"),
        };
        assert_eq!(field(period(Some("2026-12-01"), Some("2026-11-01"), NOW)), "from");
        assert_eq!(field(period(Some("2025-01-01"), Some("2026-01-02"), NOW)), "from");
        assert!(period(Some("2025-01-01"), Some("2026-01-01"), NOW).is_ok(), "366 days, the last included");
        assert_eq!(field(period(Some("yesterday"), None, NOW)), "from");
        assert_eq!(field(period(None, Some("2026-11-01T10:00"), NOW)), "to");
    }
}
