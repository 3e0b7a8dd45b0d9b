//! The overview's figures per day and per flyer, for its tables and its charts alike: the last
//! `PASSERELLE_CONSOLE_CHART_DAYS` days, each midnight to midnight in the campaigns' default
//! timezone (`PASSERELLE_CAMPAIGN_DEFAULT_TIMEZONE`), one store's home members for a store manager.

use anyhow::Result;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use crate::http::AppState;
use crate::store::{DailyFigures, FlyerSignups};

/// Flyers the overview shows.
pub const TOP_FLYERS: i64 = 10;

/// One day's figures and its date.
pub struct Day {
    pub date: Date,
    pub figures: DailyFigures,
}

/// The period the charts cover: each day's date and its `[start, end)` in unix milliseconds.
pub struct Period {
    pub days: Vec<(Date, i64, i64)>,
}

impl Period {
    /// The last `n` days up to today (included), in `tz`. Days are not always 24 hours long:
    /// each runs from its midnight to the next day's, as the zone's clocks read them.
    pub fn last_days(tz: &TimeZone, n: u32, now: Timestamp) -> Result<Period> {
        let today = now.to_zoned(tz.clone()).date();
        let mut days = Vec::with_capacity(n as usize);
        for back in (0..i64::from(n)).rev() {
            let date = today.checked_sub(back.days())?;
            let start = date.to_zoned(tz.clone())?.timestamp().as_millisecond();
            let end = date.tomorrow()?.to_zoned(tz.clone())?.timestamp().as_millisecond();
            days.push((date, start, end));
        }
        Ok(Period { days })
    }

    /// The period of this server's settings, ending today.
    pub fn of(state: &AppState) -> Result<Period> {
        let tz = state.config.campaigns.default_timezone()?;
        Period::last_days(&tz, state.config.console.chart_days, Timestamp::now())
    }

    pub fn start(&self) -> i64 {
        self.days.first().map_or(0, |d| d.1)
    }
}

/// Each day's members, sign-ups and cards, after the totals of the day before the period (from
/// which the period's changes count).
pub async fn days(state: &AppState, store: Option<&str>, period: &Period) -> Result<(DailyFigures, Vec<Day>)> {
    let start = period.start();
    let bounds: Vec<(i64, i64)> =
        std::iter::once((start - 1, start)).chain(period.days.iter().map(|&(_, start, end)| (start, end))).collect();
    let mut figures = state.store.daily_figures(store, &bounds).await?.into_iter();
    let before = figures.next().ok_or_else(|| anyhow::anyhow!("no figures for the day before the period"))?;
    Ok((before, period.days.iter().zip(figures).map(|(&(date, _, _), figures)| Day { date, figures }).collect()))
}

/// The flyers with the most sign-ups over the period.
pub async fn flyers(state: &AppState, store: Option<&str>, period: &Period) -> Result<Vec<FlyerSignups>> {
    state.store.flyer_signups(store, period.start(), TOP_FLYERS).await
}

/// `n` as the console writes it: `1,234` in English, `1 234` in French (a narrow no-break space).
pub fn number(n: i64, lang: &str) -> String {
    let digits = n.unsigned_abs().to_string();
    let sep = if lang == "fr" { "\u{202f}" } else { "," };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(sep);
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A day as the charts and tables label it: `Dec 7` in English, `7 déc.` in French.
pub fn short_date(date: Date, lang: &str) -> String {
    const EN: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    const FR: [&str; 12] =
        ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."];
    let month = (date.month() - 1) as usize;
    if lang == "fr" { format!("{} {}", date.day(), FR[month]) } else { format!("{} {}", EN[month], date.day()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_run_midnight_to_midnight_across_a_clock_change() {
        let tz = TimeZone::get("Europe/Paris").unwrap();
        let now: Timestamp = "2026-10-26T12:00:00Z".parse().unwrap();
        let period = Period::last_days(&tz, 3, now).unwrap();
        let dates: Vec<String> = period.days.iter().map(|d| d.0.to_string()).collect();
        assert_eq!(dates, ["2026-10-24", "2026-10-25", "2026-10-26"]);
        // 25 October 2026 has 25 hours in Paris (summer time ends).
        assert_eq!(period.days[1].2 - period.days[1].1, 25 * 3_600_000);
        assert_eq!(period.days[0].2, period.days[1].1);
        assert_eq!(period.days[0].1, "2026-10-23T22:00:00Z".parse::<Timestamp>().unwrap().as_millisecond());
    }

    #[test]
    fn numbers_are_grouped_by_language() {
        assert_eq!(number(1_234_567, "en"), "1,234,567");
        assert_eq!(number(1_234, "fr"), "1\u{202f}234");
        assert_eq!(number(999, "en"), "999");
        assert_eq!(number(-1_000, "en"), "-1,000");
    }
}
