//! A campaign's results on its console page: treated against holdout, in words a marketer
//! reads (conversion in percent, lift in points with its interval, money in its currency).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::pages::when;
use crate::campaigns::results::{Comparison, GroupResult, compare, total, window};
use crate::receipts::{currency_exponent, format_amount};
use crate::store::CampaignRecord;
use crate::store::campaign_results::Figures;
use crate::store::now_ms;

fn percent(fraction: Option<f64>) -> String {
    fraction.map_or_else(|| "—".into(), |f| format!("{:.1} %", f * 100.0))
}

/// Points of percentage, signed: `+3.2`.
fn points(fraction: f64) -> String {
    format!("{:+.1}", fraction * 100.0)
}

fn money(amounts: &BTreeMap<String, i64>) -> String {
    if amounts.is_empty() {
        return "—".into();
    }
    let each: Vec<String> = amounts
        .iter()
        .map(|(currency, minor)| format!("{} {currency}", format_amount(*minor, currency_exponent(currency))))
        .collect();
    each.join(" · ")
}

fn money_per_holder(amounts: &BTreeMap<String, f64>) -> String {
    money(&amounts.iter().map(|(c, a)| (c.clone(), a.round() as i64)).collect())
}

fn group_view(g: &GroupResult) -> Value {
    json!({
        "holders": g.holders, "buyers": g.buyers, "conversion": percent(g.conversion),
        "revenue": money(&g.revenue), "per_holder": money_per_holder(&g.revenue_per_holder),
        "offers": g.offers_redeemed,
    })
}

/// The results panel of a started campaign.
pub fn view(campaign: &CampaignRecord, figures: &Figures) -> Value {
    let Some(started_at) = campaign.started_at else { return Value::Null };
    let (_, closes_at) = window(started_at, campaign.conversion_days);
    let (treated, holdout) = total(figures);
    let c: Comparison = compare(&treated, &holdout);
    json!({
        "treated": group_view(&c.treated),
        "holdout": group_view(&c.holdout),
        "measured": campaign.holdout_percent > 0,
        "lift": c.lift.map(points),
        "lift_low": c.lift_ci95.map(|[lo, _]| points(lo)),
        "lift_high": c.lift_ci95.map(|[_, hi]| points(hi)),
        "clear": c.lift_ci95.is_some_and(|[lo, hi]| lo > 0.0 || hi < 0.0),
        "incremental": money(&c.incremental_revenue),
        "window_open": now_ms() < closes_at,
        "closes": when(closes_at),
        "days": campaign.conversion_days,
    })
}
