//! Holdout groups: which targeted holders are deliberately not notified, so that what they
//! bought afterwards shows what the campaign changed.
//!
//! The draw is a hash of (campaign or issue id, member id): deterministic, so anyone can
//! recompute a group afterwards, independent of the order holders are read in, and
//! uncorrelated between campaigns (a member held out of one is not held out of all).

/// The largest holdout a campaign may take: half the audience.
pub const MAX_PERCENT: u8 = 50;

/// Whether `member_id` is in the holdout group of `group_id` at `percent` (0 to 50).
pub fn held_out(group_id: &str, member_id: &str, percent: u8) -> bool {
    if percent == 0 {
        return false;
    }
    let mut hash = openssl::sha::Sha256::new();
    hash.update(group_id.as_bytes());
    // A separator, so ("ab", "c") and ("a", "bc") draw differently.
    hash.update(&[0]);
    hash.update(member_id.as_bytes());
    let digest = hash.finish();
    let draw = u64::from_be_bytes(digest[..8].try_into().expect("a SHA-256 digest has 8 bytes")) % 10_000;
    draw < u64::from(percent.min(MAX_PERCENT)) * 100
}

/// About how many of `holders` a holdout of `percent` draws (the draw itself is per holder).
pub fn expected(holders: i64, percent: i64) -> i64 {
    (holders * percent.clamp(0, i64::from(MAX_PERCENT)) + 50) / 100
}

/// The holdout percent given to an API, checked: 0 to 50.
pub fn check_percent(value: i64) -> Result<u8, String> {
    u8::try_from(value)
        .ok()
        .filter(|p| *p <= MAX_PERCENT)
        .ok_or_else(|| format!("holdout_percent is a whole number from 0 to {MAX_PERCENT}, not {value}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_draw_is_deterministic_and_near_the_percent() {
        let members: Vec<String> = (0..20_000).map(|i| format!("mem_{i:08x}")).collect();
        let held = members.iter().filter(|m| held_out("cmp_a", m, 10)).count();
        assert!((1_800..=2_200).contains(&held), "about 10% of 20,000: {held}");
        let again = members.iter().filter(|m| held_out("cmp_a", m, 10)).count();
        assert_eq!(held, again);
        assert_eq!(members.iter().filter(|m| held_out("cmp_a", m, 0)).count(), 0);
        // Another campaign draws another group.
        let both = members.iter().filter(|m| held_out("cmp_a", m, 10) && held_out("cmp_b", m, 10)).count();
        assert!(both < 400, "independent draws overlap by about 1%: {both}");
        // A larger holdout contains the smaller one.
        assert!(members.iter().filter(|m| held_out("cmp_a", m, 10)).all(|m| held_out("cmp_a", m, 20)));
    }

    #[test]
    fn percents_outside_0_to_50_are_refused() {
        assert_eq!(check_percent(10), Ok(10));
        assert!(check_percent(51).is_err());
        assert!(check_percent(-1).is_err());
    }
}
