//! Console settings: how long a signed-in session lasts, how sign-in guesses are held back, and
//! how many days the overview's charts show.

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct Console {
    /// A console session left unused this long ends (minutes).
    #[arg(long, env = "PASSERELLE_SESSION_IDLE_MINUTES", default_value_t = 60, global = true)]
    pub session_idle_minutes: u64,

    /// A console session ends this long after sign-in, used or not (hours).
    #[arg(long, env = "PASSERELLE_SESSION_MAX_HOURS", default_value_t = 12, global = true)]
    pub session_max_hours: u64,

    /// Wrong passwords in a row that lock a console account for PASSERELLE_SIGN_IN_LOCK_MINUTES.
    #[arg(long, env = "PASSERELLE_SIGN_IN_MAX_FAILURES", default_value_t = 5, global = true)]
    pub sign_in_max_failures: u32,

    /// How long a console account stays locked after too many wrong passwords (minutes).
    #[arg(long, env = "PASSERELLE_SIGN_IN_LOCK_MINUTES", default_value_t = 15, global = true)]
    pub sign_in_lock_minutes: u64,

    /// Console sign-in attempts allowed per client IP and minute, whatever the account (0: no limit).
    #[arg(long, env = "PASSERELLE_SIGN_IN_RATE_PER_MIN", default_value_t = 10, global = true)]
    pub sign_in_rate_per_min: u32,

    /// Days the console overview's charts show, today included (1 to 366; days in
    /// PASSERELLE_CAMPAIGN_DEFAULT_TIMEZONE).
    #[arg(long, env = "PASSERELLE_CONSOLE_CHART_DAYS", default_value_t = 30, global = true)]
    pub chart_days: u32,
}

impl Console {
    pub fn validate(&self) -> anyhow::Result<()> {
        if !(1..=366).contains(&self.chart_days) {
            anyhow::bail!("PASSERELLE_CONSOLE_CHART_DAYS: {} is not between 1 and 366", self.chart_days);
        }
        Ok(())
    }
}
