//! Points from the till (`PASSERELLE_POINTS_PER_UNIT`): a receipt linked to a member earns
//! the rate of its currency per whole unit of its total, rounded down; a return takes as many
//! back, stopping at zero. Off (no rate) by default, for tills that post points themselves.

use std::sync::Arc;

use super::currency_exponent;
use crate::config::PointsRates;
use crate::loyalty::pass::pass_update_with;
use crate::loyalty::points::{Floor, with_points};
use crate::loyalty::tiers::TierRules;
use crate::store::{ReceiptPoints, ReceiptRecord};
use crate::templates::TemplateSet;

/// The rates and the tier rules a balance change follows.
pub struct PointsRule {
    rates: PointsRates,
    tiers: TierRules,
}

impl PointsRule {
    pub fn new(rates: PointsRates, tiers: TierRules) -> Self {
        Self { rates, tiers }
    }

    /// The points `receipt` earns (negative for a return; 0 in a currency without a rate).
    pub fn earned(&self, receipt: &ReceiptRecord) -> i64 {
        earned(&self.rates, receipt)
    }

    /// What the store credits when it links receipts; `None` when no currency earns points.
    pub fn for_linking(&self, templates: &Arc<TemplateSet>) -> Option<ReceiptPoints> {
        if self.rates.0.is_empty() {
            return None;
        }
        let (rates, tiers) = (self.rates.clone(), self.tiers.clone());
        Some(ReceiptPoints {
            points: Box::new(move |r| earned(&rates, r)),
            apply: Box::new(move |member, delta| with_points(&tiers, member, delta, Floor::StopAtZero)),
            pass: pass_update_with(templates.clone()),
        })
    }
}

fn earned(rates: &PointsRates, receipt: &ReceiptRecord) -> i64 {
    let Some(rate) = rates.0.get(&receipt.currency) else { return 0 };
    let units = receipt.total.unsigned_abs() / 10u64.pow(currency_exponent(&receipt.currency));
    let points = i64::try_from(units).unwrap_or(i64::MAX).saturating_mul(*rate);
    if receipt.total < 0 { -points } else { points }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt(total: i64, currency: &str) -> ReceiptRecord {
        ReceiptRecord {
            id: "rcp_1".into(),
            receipt_number: "1".into(),
            store_id: "s".into(),
            issued_at: 0,
            kind: if total < 0 { "return" } else { "sale" }.into(),
            total,
            currency: currency.into(),
            body: serde_json::Value::Null,
            member_id: None,
            idempotency_key: None,
            email_hmac: None,
            phone_hmac: None,
            pass_serial: "p".into(),
            created_at: 0,
        }
    }

    #[test]
    fn whole_units_rounded_down_per_currency() {
        let rule = PointsRule::new("EUR:2,JPY:1,KWD:1".parse().unwrap(), "member:0".parse().unwrap());
        assert_eq!(rule.earned(&receipt(3718, "EUR")), 74, "37 whole euros × 2");
        assert_eq!(rule.earned(&receipt(-3799, "EUR")), -74);
        assert_eq!(rule.earned(&receipt(99, "EUR")), 0);
        assert_eq!(rule.earned(&receipt(1500, "JPY")), 1500, "the yen has no minor unit");
        assert_eq!(rule.earned(&receipt(12_999, "KWD")), 12, "three decimals");
        assert_eq!(rule.earned(&receipt(5000, "CHF")), 0, "no rate, no points");
    }
}
