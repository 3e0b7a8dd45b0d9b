//! A campaign's results: what its treated holders bought against its holdout group, in the
//! conversion window, and the lift with its 95% interval.
//!
//! Definitions (the README's "How lift is computed"): intent to treat (every targeted holder
//! not held out counts as treated, reached or not); the window runs from `started_at` for
//! `conversion_days` × 24 h, the same for both groups; a buyer has a linked purchase receipt
//! (not a return) issued in the window, linked then or later. The interval is Newcombe's hybrid
//! score interval (his method 10), from Wilson score intervals without continuity correction.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::Campaigns;
use crate::access::Actor;
use crate::error::{Error, Result};
use crate::store::CampaignRecord;
use crate::store::campaign_results::{Figures, Group, GroupFigures, Recipient};

/// z for a two-sided 95% interval.
const Z95: f64 = 1.959964;
const DAY_MS: i64 = 86_400_000;

impl Campaigns {
    /// The purchase figures of a started campaign's groups (per home store when `by_store`),
    /// counted up to now while its window is open.
    pub async fn results(&self, actor: &Actor, id: &str, by_store: bool) -> Result<(CampaignRecord, Figures)> {
        let campaign = self.get(actor, id).await?;
        let Some(started_at) = campaign.started_at else {
            return Err(Error::conflict(
                format!("campaign {id} is {} and has not started: it has no results yet", campaign.status),
                "status",
            ));
        };
        let (from, to) = window(started_at, campaign.conversion_days);
        let figures = self.store.conversion_figures(id, from, to, by_store).await?;
        Ok((campaign, figures))
    }

    /// A page of the campaign's holders (of one group, or both), after `after`.
    pub async fn recipients(
        &self,
        actor: &Actor,
        id: &str,
        group: Option<Group>,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Recipient>> {
        self.get(actor, id).await?;
        Ok(self.store.campaign_recipients(id, group, after, limit).await?)
    }
}

/// One group's figures, with the ratios derived from them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupResult {
    pub holders: i64,
    pub buyers: i64,
    /// buyers / holders; `None` for an empty group.
    pub conversion: Option<f64>,
    /// Per currency, minor units.
    pub revenue: BTreeMap<String, i64>,
    /// Per currency, minor units (a fraction).
    pub revenue_per_holder: BTreeMap<String, f64>,
    pub offers_redeemed: i64,
}

/// The comparison of the two groups.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub treated: GroupResult,
    pub holdout: GroupResult,
    /// Treated conversion − holdout conversion; `None` when a group is empty.
    pub lift: Option<f64>,
    pub lift_ci95: Option<[f64; 2]>,
    /// (revenue per treated holder − revenue per holdout holder) × treated holders, per
    /// currency, in minor units (rounded).
    pub incremental_revenue: BTreeMap<String, i64>,
}

/// The window of a campaign started at `started_at` (ms) counting `conversion_days`.
pub fn window(started_at: i64, conversion_days: i64) -> (i64, i64) {
    (started_at, started_at + conversion_days * DAY_MS)
}

/// Compares the groups of `figures` under one key (a store, or `None` for all).
pub fn compare(treated: &GroupFigures, holdout: &GroupFigures) -> Comparison {
    let (t, h) = (group_result(treated), group_result(holdout));
    let lift = match (t.conversion, h.conversion) {
        (Some(a), Some(b)) => Some(a - b),
        _ => None,
    };
    let lift_ci95 =
        lift.map(|_| newcombe_interval(treated.buyers, treated.holders, holdout.buyers, holdout.holders, Z95));
    let currencies: BTreeSet<&String> = t.revenue.keys().chain(h.revenue.keys()).collect();
    let incremental_revenue = if treated.holders > 0 && holdout.holders > 0 {
        currencies
            .into_iter()
            .map(|c| {
                let per = |g: &GroupResult| g.revenue_per_holder.get(c).copied().unwrap_or(0.0);
                (c.clone(), ((per(&t) - per(&h)) * treated.holders as f64).round() as i64)
            })
            .collect()
    } else {
        BTreeMap::new()
    };
    Comparison { treated: t, holdout: h, lift, lift_ci95, incremental_revenue }
}

/// The comparisons of every key of `figures` (both groups present or not).
pub fn compare_all(figures: &Figures) -> BTreeMap<Option<String>, Comparison> {
    let keys: BTreeSet<&Option<String>> = figures.keys().map(|(store, _)| store).collect();
    let empty = GroupFigures::default();
    keys.into_iter()
        .map(|store| {
            let of = |g| figures.get(&(store.clone(), g)).unwrap_or(&empty);
            (store.clone(), compare(of(Group::Treated), of(Group::Holdout)))
        })
        .collect()
}

/// Adds the figures of every store together.
pub fn total(figures: &Figures) -> (GroupFigures, GroupFigures) {
    let (mut treated, mut holdout) = (GroupFigures::default(), GroupFigures::default());
    for ((_, group), f) in figures {
        let into = if *group == Group::Treated { &mut treated } else { &mut holdout };
        into.holders += f.holders;
        into.buyers += f.buyers;
        into.offers_redeemed += f.offers_redeemed;
        for (currency, amount) in &f.revenue {
            *into.revenue.entry(currency.clone()).or_default() += amount;
        }
    }
    (treated, holdout)
}

fn group_result(f: &GroupFigures) -> GroupResult {
    let per_holder = |amount: i64| if f.holders > 0 { amount as f64 / f.holders as f64 } else { 0.0 };
    GroupResult {
        holders: f.holders,
        buyers: f.buyers,
        conversion: (f.holders > 0).then(|| f.buyers as f64 / f.holders as f64),
        revenue: f.revenue.clone(),
        revenue_per_holder: f.revenue.iter().map(|(c, a)| (c.clone(), per_holder(*a))).collect(),
        offers_redeemed: f.offers_redeemed,
    }
}

/// Wilson's score interval for `x` successes in `n` trials, without continuity correction.
fn wilson(x: i64, n: i64, z: f64) -> (f64, f64) {
    let (x, n) = (x as f64, n as f64);
    let p = x / n;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    (centre - half, centre + half)
}

/// Newcombe's hybrid score interval (method 10) for p1 − p2; both groups non-empty.
fn newcombe_interval(x1: i64, n1: i64, x2: i64, n2: i64, z: f64) -> [f64; 2] {
    let (p1, p2) = (x1 as f64 / n1 as f64, x2 as f64 / n2 as f64);
    let ((l1, u1), (l2, u2)) = (wilson(x1, n1, z), wilson(x2, n2, z));
    let d = p1 - p2;
    [d - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt(), d + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(holders: i64, buyers: i64, eur: i64) -> GroupFigures {
        GroupFigures { holders, buyers, revenue: [("EUR".to_owned(), eur)].into(), offers_redeemed: 0 }
    }

    #[test]
    fn newcombe_matches_his_published_example() {
        // Newcombe (1998), table II, example (a): 56/70 − 48/80 → [0.0524, 0.3339].
        let [lo, hi] = newcombe_interval(56, 70, 48, 80, Z95);
        assert!((lo - 0.0524).abs() < 5e-5 && (hi - 0.3339).abs() < 5e-5, "[{lo}, {hi}]");
        // Example (h) of the same table: 10/10 − 0/10 → [0.6075, 1.0000]: the edges hold.
        let [lo, hi] = newcombe_interval(10, 10, 0, 10, Z95);
        assert!((lo - 0.6075).abs() < 5e-5 && (hi - 1.0).abs() < 5e-5, "[{lo}, {hi}]");
    }

    #[test]
    fn lift_and_incremental_revenue() {
        let c = compare(&figures(900, 90, 450_000), &figures(100, 5, 20_000));
        assert!((c.lift.unwrap() - (0.1 - 0.05)).abs() < 1e-12);
        // (500 − 200) per holder × 900 treated holders.
        assert_eq!(c.incremental_revenue["EUR"], 270_000);
        assert_eq!(c.treated.revenue_per_holder["EUR"], 500.0);
        let [lo, hi] = c.lift_ci95.unwrap();
        assert!(lo < 0.05 && 0.05 < hi);
    }

    #[test]
    fn an_empty_group_gives_no_lift() {
        let c = compare(&figures(10, 2, 100), &GroupFigures::default());
        assert_eq!((c.lift, c.lift_ci95, c.holdout.conversion), (None, None, None));
        assert!(c.incremental_revenue.is_empty());
    }
}
