//! Tier rules from `PASSERELLE_TIERS` (`member:0,premium:300,gold:1000`): a member is in the
//! tier with the highest threshold their points reach (the lowest tier below every threshold);
//! a tier set by hand wins over the rules until it is cleared.

pub use crate::config::TierRules;

// The list is read from PASSERELLE_TIERS in `config`; what it means for a member is decided here.
impl TierRules {
    /// The rules' tier for a balance.
    pub fn tier_for(&self, points: i64) -> &str {
        let tiers = self.thresholds();
        tiers.iter().rev().find(|(_, t)| *t <= points).unwrap_or(&tiers[0]).0.as_str()
    }

    /// The tier in force: the manual one when set, else the rules'.
    pub fn effective(&self, points: i64, manual: Option<&str>) -> String {
        manual.unwrap_or_else(|| self.tier_for(points)).to_owned()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.thresholds().iter().any(|(n, _)| n == name)
    }

    pub fn names(&self) -> Vec<&str> {
        self.thresholds().iter().map(|(n, _)| n.as_str()).collect()
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
