//! Tier rules from `PASSERELLE_TIERS` (`member:0,premium:300,gold:1000`): a member is in the
//! tier with the highest threshold their points reach (the lowest tier below every threshold);
//! a tier set by hand wins over the rules until it is cleared.

use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierRules {
    /// (name, threshold), by threshold ascending.
    tiers: Vec<(String, i64)>,
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

impl TierRules {
    /// The rules' tier for a balance.
    pub fn tier_for(&self, points: i64) -> &str {
        self.tiers.iter().rev().find(|(_, t)| *t <= points).unwrap_or(&self.tiers[0]).0.as_str()
    }

    /// The tier in force: the manual one when set, else the rules'.
    pub fn effective(&self, points: i64, manual: Option<&str>) -> String {
        manual.unwrap_or_else(|| self.tier_for(points)).to_owned()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.tiers.iter().any(|(n, _)| n == name)
    }

    pub fn names(&self) -> Vec<&str> {
        self.tiers.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// How a tier shows on the pass: its name with a capital (`premium` → `Premium`).
    pub fn label(name: &str) -> String {
        let mut chars = name.chars();
        chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highest_threshold_reached_wins() {
        let rules: TierRules = "member:0,premium:300,gold:1000".parse().unwrap();
        assert_eq!(rules.tier_for(0), "member");
        assert_eq!(rules.tier_for(299), "member");
        assert_eq!(rules.tier_for(300), "premium");
        assert_eq!(rules.tier_for(999), "premium");
        assert_eq!(rules.tier_for(1000), "gold");
        assert_eq!(rules.tier_for(-5), "member", "below every threshold: the lowest tier");
        assert_eq!(rules.effective(1000, Some("member")), "member", "a manual tier wins");
        assert_eq!(TierRules::label("premium"), "Premium");
    }

    #[test]
    fn order_in_the_setting_does_not_matter() {
        let rules: TierRules = " gold:1000 , member:0,premium:300 ".parse().unwrap();
        assert_eq!(rules.names(), ["member", "premium", "gold"]);
    }

    #[test]
    fn bad_settings_are_explained() {
        for (bad, says) in [
            ("", "at least one"),
            ("member", "name:points"),
            ("member:zero", "whole number"),
            ("Member:0", "a-z"),
            ("a:0,a:5", "twice"),
            ("a:0,b:0", "share"),
        ] {
            let e = bad.parse::<TierRules>().unwrap_err();
            assert!(e.contains(says), "{bad:?}: {e}");
        }
    }
}
