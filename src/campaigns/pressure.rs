//! Pressure management: how many campaign notifications a holder may get (per 7 days, per
//! 24 hours) and the quiet hours, in the holder's store's timezone, when none go out.

use std::collections::HashMap;

use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

pub const DAY_MS: i64 = 24 * 3600 * 1000;
pub const WEEK_MS: i64 = 7 * DAY_MS;

/// Rule names, as reported in `held_back`.
pub const WEEKLY_CAP: &str = "weekly_cap";
pub const DAILY_CAP: &str = "daily_cap";
pub const QUIET_HOURS: &str = "quiet_hours";

pub use crate::config::QuietHours;

// The window is read from PASSERELLE_QUIET_HOURS in `config`; what falls inside it is decided here.
impl QuietHours {
    fn contains(&self, t: Time) -> bool {
        if self.start < self.end { self.start <= t && t < self.end } else { t >= self.start || t < self.end }
    }

    /// When `now_ms` falls inside the quiet hours in `tz`: the instant they end (unix ms).
    pub fn ends_after(&self, now_ms: i64, tz: &TimeZone) -> Option<i64> {
        let now = Timestamp::from_millisecond(now_ms).ok()?.to_zoned(tz.clone());
        if !self.contains(now.time()) {
            return None;
        }
        let mut end = now.date().to_datetime(self.end).to_zoned(tz.clone()).ok()?;
        if end.timestamp() <= now.timestamp() {
            end = end.checked_add(1.day()).ok()?;
        }
        Some(end.timestamp().as_millisecond())
    }
}

/// What happens to one holder now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Send,
    /// Held back for this campaign by the named rule (counted, not sent).
    Hold(&'static str),
    /// Quiet hours: tried again at this instant (unix ms).
    Delay(i64),
}

/// The pressure rules in force (PASSERELLE_CAMPAIGN_WEEKLY_CAP, _DAILY_CAP, PASSERELLE_QUIET_HOURS).
#[derive(Debug, Clone)]
pub struct Pressure {
    pub weekly_cap: i64,
    pub daily_cap: i64,
    pub quiet: Option<QuietHours>,
    /// For holders without a home store, or whose store's timezone is unknown.
    pub default_timezone: TimeZone,
}

impl Pressure {
    /// The rules of the campaign settings (caps below zero count as zero).
    pub fn new(campaigns: &crate::config::Campaigns) -> anyhow::Result<Self> {
        Ok(Pressure {
            weekly_cap: campaigns.weekly_cap.max(0),
            daily_cap: campaigns.daily_cap.max(0),
            quiet: campaigns.quiet_hours()?,
            default_timezone: campaigns.default_timezone()?,
        })
    }

    /// The timezone named `name` (the default when absent or unknown).
    pub fn timezone(&self, name: Option<&str>, cache: &mut HashMap<String, TimeZone>) -> TimeZone {
        let Some(name) = name else { return self.default_timezone.clone() };
        cache
            .entry(name.to_owned())
            .or_insert_with(|| TimeZone::get(name).unwrap_or_else(|_| self.default_timezone.clone()))
            .clone()
    }

    /// When quiet hours hold at `now_ms` in `tz`, the instant they end.
    pub fn quiet_until(&self, now_ms: i64, tz: &TimeZone) -> Option<i64> {
        self.quiet.as_ref().and_then(|q| q.ends_after(now_ms, tz))
    }

    /// Decides for one holder who got `weekly` campaign notifications in the last 7 days and
    /// `daily` in the last 24 hours. Quiet hours come first (a delay, so the caps are judged
    /// when it may go out); Google refuses more than its daily limit whatever the priority;
    /// a `high` priority campaign may pass the weekly cap.
    pub fn decide(&self, now_ms: i64, tz: &TimeZone, weekly: i64, daily: i64, high_priority: bool) -> Decision {
        if let Some(until) = self.quiet_until(now_ms, tz) {
            return Decision::Delay(until);
        }
        if daily >= self.daily_cap {
            return Decision::Hold(DAILY_CAP);
        }
        if weekly >= self.weekly_cap && !high_priority {
            return Decision::Hold(WEEKLY_CAP);
        }
        Decision::Send
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(rfc3339: &str) -> i64 {
        rfc3339.parse::<Timestamp>().unwrap().as_millisecond()
    }

    fn pressure() -> Pressure {
        Pressure {
            weekly_cap: 2,
            daily_cap: 3,
            quiet: QuietHours::parse("21:00-09:00").unwrap(),
            default_timezone: TimeZone::UTC,
        }
    }

    #[test]
    fn quiet_hours_follow_the_stores_timezone_across_midnight() {
        let p = pressure();
        let paris = TimeZone::get("Europe/Paris").unwrap();
        // 21:30 in Paris (winter, UTC+1): quiet until 09:00 the next morning.
        let now = ms("2026-11-23T20:30:00Z");
        assert_eq!(p.quiet_until(now, &paris), Some(ms("2026-11-24T08:00:00Z")));
        // 02:00 in Paris: quiet until 09:00 the same day.
        assert_eq!(p.quiet_until(ms("2026-11-24T01:00:00Z"), &paris), Some(ms("2026-11-24T08:00:00Z")));
        // 14:00 in Paris is fine; the same instant is 22:00 in Tokyo: quiet there.
        let noon = ms("2026-11-24T13:00:00Z");
        assert_eq!(p.quiet_until(noon, &paris), None);
        let tokyo = TimeZone::get("Asia/Tokyo").unwrap();
        assert_eq!(p.quiet_until(noon, &tokyo), Some(ms("2026-11-25T00:00:00Z")));
    }

    #[test]
    fn a_window_within_one_day() {
        let q = QuietHours::parse("12:00-14:00").unwrap().unwrap();
        assert_eq!(q.ends_after(ms("2026-11-24T13:00:00Z"), &TimeZone::UTC), Some(ms("2026-11-24T14:00:00Z")));
        assert_eq!(q.ends_after(ms("2026-11-24T14:00:00Z"), &TimeZone::UTC), None);
        assert_eq!(q.ends_after(ms("2026-11-24T11:59:59Z"), &TimeZone::UTC), None);
    }

    #[test]
    fn caps_and_priority() {
        let p = pressure();
        let noon = ms("2026-11-24T12:00:00Z");
        let utc = TimeZone::UTC;
        assert_eq!(p.decide(noon, &utc, 1, 1, false), Decision::Send);
        assert_eq!(p.decide(noon, &utc, 2, 0, false), Decision::Hold(WEEKLY_CAP));
        assert_eq!(p.decide(noon, &utc, 2, 0, true), Decision::Send);
        assert_eq!(p.decide(noon, &utc, 5, 3, true), Decision::Hold(DAILY_CAP));
        // Priority never passes quiet hours.
        let night = ms("2026-11-24T23:00:00Z");
        assert_eq!(p.decide(night, &utc, 0, 0, true), Decision::Delay(ms("2026-11-25T09:00:00Z")));
    }
}
