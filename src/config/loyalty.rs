//! Loyalty settings: the tiers (`PASSERELLE_TIERS`), the phone numbers' default country, the
//! points rules (negative balances, points from the till's receipts) and the shop's currency. The setting types are read here, at start; what a tier means is `loyalty::tiers`'s.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use clap::Args;
use phonenumber::country::Id;

#[derive(Debug, Clone, Args)]
pub struct Loyalty {
    /// Loyalty tiers as name:points pairs; a member is in the highest tier whose points they reach.
    #[arg(long, env = "PASSERELLE_TIERS", default_value = "member:0,premium:300,gold:1000", global = true)]
    pub tiers: TierRules,

    /// Country whose national format applies to phone numbers written without +country code (ISO 3166, e.g. FR).
    #[arg(long, env = "PASSERELLE_DEFAULT_COUNTRY", default_value = "FR", global = true)]
    pub default_country: Country,

    /// Lets a points change take a member's balance below zero.
    #[arg(long, env = "PASSERELLE_POINTS_ALLOW_NEGATIVE", global = true)]
    pub points_allow_negative: bool,

    /// Days a provisional card (given at sign-up to a contact already on file) waits to be merged
    /// into the member's account before it is voided.
    #[arg(long, env = "PASSERELLE_PROVISIONAL_CARD_DAYS", default_value_t = 7, global = true)]
    pub provisional_card_days: u32,

    /// Points a linked receipt earns per whole unit of its total, per currency (`EUR:1,CHF:1`;
    /// rounded down; a return takes them back). Empty (the default): receipts earn no points,
    /// for tills that post points themselves.
    #[arg(long, env = "PASSERELLE_POINTS_PER_UNIT", default_value = "", global = true)]
    pub points_per_unit: PointsRates,

    /// The shop's currency (ISO 4217): the one `spend_90d` in segments adds up.
    #[arg(long, env = "PASSERELLE_CURRENCY", default_value = "EUR", global = true)]
    pub currency: Currency,
}

/// `PASSERELLE_POINTS_PER_UNIT` read: `EUR:1,CHF:1`, currency → points per whole unit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PointsRates(pub BTreeMap<String, i64>);

impl FromStr for PointsRates {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut rates = BTreeMap::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (currency, rate) =
                part.split_once(':').ok_or_else(|| format!("{part:?} is not CURRENCY:points (e.g. EUR:1)"))?;
            let Currency(currency) = currency.parse()?;
            let rate: i64 = rate
                .trim()
                .parse()
                .ok()
                .filter(|r| (1..=1_000_000).contains(r))
                .ok_or_else(|| format!("{part:?}: the points per unit must be a whole number from 1 to 1000000"))?;
            if rates.insert(currency.clone(), rate).is_some() {
                return Err(format!("currency {currency} is listed twice"));
            }
        }
        Ok(Self(rates))
    }
}

/// An ISO 4217 currency code, uppercase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Currency(pub String);

impl FromStr for Currency {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let code = s.trim().to_ascii_uppercase();
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(format!("{s:?} is not an ISO 4217 currency code (e.g. EUR)"));
        }
        Ok(Self(code))
    }
}

/// `PASSERELLE_TIERS` read: `member:0,premium:300,gold:1000`. The rules that use it live in `loyalty::tiers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierRules {
    /// (name, threshold), by threshold ascending.
    tiers: Vec<(String, i64)>,
}

impl TierRules {
    /// (name, threshold), by threshold ascending; never empty.
    pub fn thresholds(&self) -> &[(String, i64)] {
        &self.tiers
    }
}

impl FromStr for TierRules {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut tiers = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, threshold) =
                part.split_once(':').ok_or_else(|| format!("{part:?} is not name:points (e.g. premium:300)"))?;
            let name = name.trim();
            if name.is_empty()
                || name.len() > 32
                || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
            {
                return Err(format!("tier name {name:?} must be 1-32 characters of a-z, 0-9, '_' and '-'"));
            }
            let threshold: i64 =
                threshold.trim().parse().map_err(|_| format!("{part:?}: the threshold must be a whole number"))?;
            if tiers.iter().any(|(n, _)| n == name) {
                return Err(format!("tier {name:?} is listed twice"));
            }
            if tiers.iter().any(|(_, t)| *t == threshold) {
                return Err(format!("two tiers share the threshold {threshold}"));
            }
            tiers.push((name.to_owned(), threshold));
        }
        if tiers.is_empty() {
            return Err("list at least one tier, e.g. member:0,premium:300".into());
        }
        tiers.sort_by_key(|(_, t)| *t);
        Ok(Self { tiers })
    }
}

/// The country whose national format applies to phone numbers without a `+` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Country(pub Id);

impl FromStr for Country {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Id::from_str(&s.trim().to_ascii_uppercase())
            .map(Country)
            .map_err(|_| format!("{s:?} is not an ISO 3166 two-letter country code (e.g. FR, BE, GB)"))
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_ref())
    }
}
