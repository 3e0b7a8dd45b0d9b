//! Campaign settings (`PASSERELLE_CAMPAIGN_*`, `PASSERELLE_QUIET_HOURS`). The quiet hours and the
//! default timezone are kept as text so that tests and embedders set them as an operator would;
//! they are read here, once for `Config::validate` and again by `campaigns::pressure`, with the
//! same errors naming the variable.

use clap::Args;
use jiff::civil::Time;
use jiff::tz::TimeZone;

#[derive(Debug, Clone, Args)]
pub struct Campaigns {
    /// Campaign notifications a holder may get in 7 days (a "high" priority campaign may go beyond).
    #[arg(
        id = "campaign_weekly_cap",
        long = "campaign-weekly-cap",
        value_name = "CAMPAIGN_WEEKLY_CAP",
        env = "PASSERELLE_CAMPAIGN_WEEKLY_CAP",
        default_value_t = 2,
        global = true
    )]
    pub weekly_cap: i64,

    /// Campaign notifications a holder may get in 24 hours, whatever the priority (Google refuses a 4th).
    #[arg(
        id = "campaign_daily_cap",
        long = "campaign-daily-cap",
        value_name = "CAMPAIGN_DAILY_CAP",
        env = "PASSERELLE_CAMPAIGN_DAILY_CAP",
        default_value_t = 3,
        global = true
    )]
    pub daily_cap: i64,

    /// Local hours (in the holder's home store's timezone) when campaigns wait, HH:MM-HH:MM; "off" for none.
    #[arg(long, env = "PASSERELLE_QUIET_HOURS", default_value = "21:00-09:00", global = true)]
    pub quiet_hours: String,

    /// Timezone of holders without a home store (IANA name, e.g. Europe/Paris).
    #[arg(
        id = "campaign_default_timezone",
        long = "campaign-default-timezone",
        value_name = "CAMPAIGN_DEFAULT_TIMEZONE",
        env = "PASSERELLE_CAMPAIGN_DEFAULT_TIMEZONE",
        default_value = "UTC",
        global = true
    )]
    pub default_timezone: String,

    /// Holders a campaign fan-out handles per transaction.
    #[arg(
        id = "campaign_batch_size",
        long = "campaign-batch-size",
        value_name = "CAMPAIGN_BATCH_SIZE",
        env = "PASSERELLE_CAMPAIGN_BATCH_SIZE",
        default_value_t = 500,
        global = true
    )]
    pub batch_size: i64,

    /// Longest campaign message, in characters (each language).
    #[arg(
        id = "campaign_message_max_chars",
        long = "campaign-message-max-chars",
        value_name = "CAMPAIGN_MESSAGE_MAX_CHARS",
        env = "PASSERELLE_CAMPAIGN_MESSAGE_MAX_CHARS",
        default_value_t = 300,
        global = true
    )]
    pub message_max_chars: usize,

    /// Share of a campaign's audience held out when the API request gives no `holdout_percent`
    /// (0 to 50). 0 reaches everyone; the console's composer proposes 10.
    #[arg(
        id = "campaign_holdout_percent",
        long = "campaign-holdout-percent",
        value_name = "CAMPAIGN_HOLDOUT_PERCENT",
        env = "PASSERELLE_CAMPAIGN_HOLDOUT_PERCENT",
        default_value_t = 0,
        global = true
    )]
    pub holdout_percent: i64,
}

impl Campaigns {
    /// `PASSERELLE_QUIET_HOURS` read; `None` when quiet hours are off.
    pub fn quiet_hours(&self) -> anyhow::Result<Option<QuietHours>> {
        QuietHours::parse(&self.quiet_hours).map_err(|e| anyhow::anyhow!("PASSERELLE_QUIET_HOURS: {e}"))
    }

    /// `PASSERELLE_CAMPAIGN_DEFAULT_TIMEZONE` read.
    pub fn default_timezone(&self) -> anyhow::Result<TimeZone> {
        TimeZone::get(&self.default_timezone).map_err(|_| {
            anyhow::anyhow!("PASSERELLE_CAMPAIGN_DEFAULT_TIMEZONE: {:?} is not an IANA timezone", self.default_timezone)
        })
    }

    pub(super) fn validate(&self) -> anyhow::Result<()> {
        self.quiet_hours()?;
        self.default_timezone()?;
        crate::campaigns::holdout::check_percent(self.holdout_percent)
            .map_err(|e| anyhow::anyhow!("PASSERELLE_CAMPAIGN_HOLDOUT_PERCENT: {e}"))?;
        Ok(())
    }
}

/// A daily window of local time (may cross midnight) when no campaign notification goes out.
/// What falls inside it is `campaigns::pressure`'s business.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: Time,
    pub end: Time,
}

impl QuietHours {
    /// Parses `21:00-09:00` (seconds allowed: `21:00:30-09:00`); `off` or an empty value
    /// turns quiet hours off (`None`).
    pub fn parse(text: &str) -> Result<Option<Self>, String> {
        let text = text.trim();
        if text.is_empty() || text.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let (start, end) = text.split_once('-').ok_or_else(|| format!("{text:?} is not HH:MM-HH:MM"))?;
        let time = |s: &str| -> Result<Time, String> {
            s.trim().parse::<Time>().map_err(|_| format!("{:?} is not a time of day (HH:MM)", s.trim()))
        };
        let (start, end) = (time(start)?, time(end)?);
        if start == end {
            return Ok(None);
        }
        Ok(Some(Self { start, end }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_windows() {
        assert_eq!(QuietHours::parse("off").unwrap(), None);
        assert_eq!(QuietHours::parse("").unwrap(), None);
        assert_eq!(QuietHours::parse("09:00-09:00").unwrap(), None);
        let q = QuietHours::parse("22:30:15-07:00").unwrap().unwrap();
        assert_eq!(q.start, Time::constant(22, 30, 15, 0));
        assert!(QuietHours::parse("21h-9h").is_err());
        assert!(QuietHours::parse("25:00-09:00").is_err());
    }
}
