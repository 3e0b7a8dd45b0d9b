//! The store report's figures in SQL (see `StoreFigures`): a few grouped statements on one
//! connection, each reading one index per store (`members (home_store_id, created_at)`,
//! `receipts (store_id, issued_at, …)`, `offer_redemptions (store_id, redeemed_at)`) or the
//! recipients of the period's campaigns, never a whole table per store.

use std::collections::BTreeMap;

use anyhow::Result;
use sqlx::Row;

use super::SqlStore;
use super::campaign_results::{GROUP, group_of};
use super::rows::from_row;
use crate::store::campaign_results::Group;
use crate::store::reports::StoreFigures;

const DAY_MS: i64 = 86_400_000;

/// The stores asked (`$1`: one id, or NULL for all).
const STORES: &str = "(CAST($1 AS TEXT) IS NULL OR s.id = $1)";

pub(super) async fn store_figures(
    db: &SqlStore,
    store_id: Option<&str>,
    from: i64,
    to: i64,
) -> Result<Vec<StoreFigures>> {
    let mut conn = db.pool.acquire().await?;
    let counts = format!(
        "SELECT s.id AS store_id, s.name, \
           (SELECT COUNT(*) FROM members m WHERE m.home_store_id = s.id \
              AND m.created_at >= $2 AND m.created_at < $3) AS signups, \
           (SELECT COUNT(*) FROM members m JOIN passes p ON p.serial_number = m.pass_serial AND p.voided = FALSE \
              WHERE m.home_store_id = s.id) AS holders, \
           (SELECT COUNT(*) FROM campaigns c WHERE c.scope = 'store:' || s.id \
              AND c.started_at >= $2 AND c.started_at < $3) AS local_campaigns, \
           (SELECT COUNT(*) FROM offer_redemptions o WHERE o.store_id = s.id AND o.reversed_at IS NULL \
              AND o.redeemed_at >= $2 AND o.redeemed_at < $3) AS offers_redeemed \
         FROM stores s WHERE {STORES} ORDER BY s.id"
    );
    let mut rows: BTreeMap<String, StoreFigures> = BTreeMap::new();
    for row in sqlx::query(sqlx::AssertSqlSafe(counts)).bind(store_id).bind(from).bind(to).fetch_all(&mut *conn).await?
    {
        let f = from_row!(row, StoreFigures { store_id, name, signups, holders, local_campaigns, offers_redeemed;
            hq_campaigns: 0, treated: Default::default(), holdout: Default::default(), revenue: BTreeMap::new() });
        rows.insert(f.store_id.clone(), f);
    }
    if rows.is_empty() {
        return Ok(Vec::new());
    }

    // Head office's campaigns of the period, through their recipients' home stores (holdout
    // holders were targeted too).
    let hq = "SELECT m.home_store_id AS store_id, COUNT(DISTINCT c.id) AS hq_campaigns \
              FROM campaigns c JOIN campaign_recipients r ON r.campaign_id = c.id \
              JOIN members m ON m.id = r.member_id \
              WHERE c.scope = 'hq' AND c.started_at >= $2 AND c.started_at < $3 \
                AND (CAST($1 AS TEXT) IS NULL OR m.home_store_id = $1) \
              GROUP BY m.home_store_id";
    for row in sqlx::query(hq).bind(store_id).bind(from).bind(to).fetch_all(&mut *conn).await? {
        let store: Option<String> = row.try_get("store_id")?;
        if let Some(f) = store.and_then(|s| rows.get_mut(&s)) {
            f.hq_campaigns = row.try_get("hq_campaigns")?;
        }
    }

    // The local campaigns' groups, each campaign in its own window (as its results count them),
    // summed per store: the pooled lift. The period's local campaigns first (a few rows of a
    // small table), then their recipients by key: SQLite, left free, read every campaign's
    // recipients.
    let pooled = format!(
        "SELECT c.scope, {GROUP} AS grp, COUNT(*) AS holders, \
           COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM receipts x WHERE x.member_id = r.member_id \
             AND x.kind = 'sale' AND x.issued_at >= c.started_at \
             AND x.issued_at < c.started_at + c.conversion_days * {DAY_MS})) AS buyers \
         FROM campaigns c CROSS JOIN campaign_recipients r \
         WHERE r.campaign_id = c.id AND c.scope LIKE 'store:%' \
           AND c.started_at >= $2 AND c.started_at < $3 \
           AND (CAST($1 AS TEXT) IS NULL OR c.scope = 'store:' || $1) \
         GROUP BY c.scope, 2"
    );
    for row in sqlx::query(sqlx::AssertSqlSafe(pooled)).bind(store_id).bind(from).bind(to).fetch_all(&mut *conn).await?
    {
        let scope: String = row.try_get("scope")?;
        let Some(f) = scope.strip_prefix("store:").and_then(|s| rows.get_mut(s)) else { continue };
        let into = match group_of(&row.try_get::<String, _>("grp")?)? {
            Group::Treated => &mut f.treated,
            Group::Holdout => &mut f.holdout,
        };
        into.holders += row.try_get::<i64, _>("holders")?;
        into.buyers += row.try_get::<i64, _>("buyers")?;
    }

    // A return's total is negative: the sum is sales minus returns. CROSS JOIN keeps SQLite's
    // join order (each store, then its receipts of the period by `receipts_store_issued`): left
    // free, it read every linked receipt through `receipts_member`. PostgreSQL plans it as a join.
    let revenue = format!(
        "SELECT s.id AS store_id, x.currency, CAST(SUM(x.total) AS BIGINT) AS revenue \
         FROM stores s CROSS JOIN receipts x \
         WHERE x.store_id = s.id AND x.issued_at >= $2 AND x.issued_at < $3 AND x.member_id IS NOT NULL \
           AND {STORES} GROUP BY s.id, x.currency"
    );
    for row in
        sqlx::query(sqlx::AssertSqlSafe(revenue)).bind(store_id).bind(from).bind(to).fetch_all(&mut *conn).await?
    {
        let store: String = row.try_get("store_id")?;
        if let Some(f) = rows.get_mut(&store) {
            f.revenue.insert(row.try_get("currency")?, row.try_get("revenue")?);
        }
    }
    Ok(rows.into_values().collect())
}
