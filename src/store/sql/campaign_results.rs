//! A campaign's recipients and each group's purchases in SQL (see `store/campaign_results.rs`).
//! Every figure (holders and buyers, revenue, offers redeemed) is one grouped statement over the campaign's recipients, probing each holder's
//! receipts through `receipts (member_id, issued_at)`: the cost grows with the audience, not
//! with the receipts table.

use anyhow::Result;
use async_trait::async_trait;
use serde_json::{Value, json};
use sqlx::Row;

use super::SqlStore;
use crate::store::ReceiptRecord;
use crate::store::campaign_results::{CampaignResultsStore, Figures, Group, Recipient};

/// The group of a recipients row `r`, as text.
pub(super) const GROUP: &str = "CASE WHEN r.state = 'holdout' THEN 'holdout' ELSE 'treated' END";

pub(super) fn group_of(text: &str) -> Result<Group> {
    Group::parse(text).ok_or_else(|| anyhow::anyhow!("unknown group {text:?}"))
}

#[async_trait]
impl CampaignResultsStore for SqlStore {
    async fn campaign_recipients(
        &self,
        campaign_id: &str,
        group: Option<Group>,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Recipient>> {
        let sql = format!(
            "SELECT r.member_id, m.card_number, {GROUP} AS grp, r.state, r.held_rule, r.sent_at, r.fetched_at \
             FROM campaign_recipients r LEFT JOIN members m ON m.id = r.member_id \
             WHERE r.campaign_id = $1 AND r.member_id > $2 \
             AND (CAST($3 AS TEXT) IS NULL OR {GROUP} = $3) ORDER BY r.member_id LIMIT $4"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(campaign_id)
            .bind(after.unwrap_or(""))
            .bind(group.map(Group::as_str))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Recipient {
                    member_id: r.try_get("member_id")?,
                    card_number: r.try_get("card_number")?,
                    group: group_of(&r.try_get::<String, _>("grp")?)?,
                    state: r.try_get("state")?,
                    held_rule: r.try_get("held_rule")?,
                    sent_at: r.try_get("sent_at")?,
                    fetched_at: r.try_get("fetched_at")?,
                })
            })
            .collect()
    }

    async fn conversion_figures(&self, campaign_id: &str, from: i64, to: i64, by_store: bool) -> Result<Figures> {
        // Per store: the holder's home store when the campaign started, kept on its recipients row.
        let store = if by_store { "r.store_id" } else { "CAST(NULL AS TEXT)" };
        // A purchase: a linked sale (returns never count) issued in the window, linked late or not.
        let bought = "x.member_id = r.member_id AND x.kind = 'sale' AND x.issued_at >= $2 AND x.issued_at < $3";
        let holders = format!(
            "SELECT {GROUP} AS grp, {store} AS store_id, COUNT(*) AS holders, \
             COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM receipts x WHERE {bought})) AS buyers \
             FROM campaign_recipients r WHERE r.campaign_id = $1 GROUP BY 1, 2"
        );
        let revenue = format!(
            "SELECT {GROUP} AS grp, {store} AS store_id, x.currency AS currency, CAST(SUM(x.total) AS BIGINT) AS revenue \
             FROM campaign_recipients r JOIN receipts x ON {bought} \
             WHERE r.campaign_id = $1 GROUP BY 1, 2, 3"
        );
        // Offers redeemed: redemptions of any offer (the campaign's own or another) by the
        // group's holders, made in the window and not reversed since, through
        // `offer_redemptions (member_id, redeemed_at)`.
        let redeemed = format!(
            "SELECT {GROUP} AS grp, {store} AS store_id, COUNT(*) AS redeemed \
             FROM campaign_recipients r JOIN offer_redemptions o ON o.member_id = r.member_id AND o.reversed_at IS NULL \
               AND o.redeemed_at >= $2 AND o.redeemed_at < $3 \
             WHERE r.campaign_id = $1 GROUP BY 1, 2"
        );
        let mut figures = Figures::new();
        // The statements on one connection, whose page cache the first warms for the others.
        let mut conn = self.pool.acquire().await?;
        for row in sqlx::query(sqlx::AssertSqlSafe(holders))
            .bind(campaign_id)
            .bind(from)
            .bind(to)
            .fetch_all(&mut *conn)
            .await?
        {
            let key = (row.try_get("store_id")?, group_of(&row.try_get::<String, _>("grp")?)?);
            let f = figures.entry(key).or_default();
            f.holders += row.try_get::<i64, _>("holders")?;
            f.buyers += row.try_get::<i64, _>("buyers")?;
        }
        for row in sqlx::query(sqlx::AssertSqlSafe(revenue))
            .bind(campaign_id)
            .bind(from)
            .bind(to)
            .fetch_all(&mut *conn)
            .await?
        {
            let key = (row.try_get("store_id")?, group_of(&row.try_get::<String, _>("grp")?)?);
            let currency: String = row.try_get("currency")?;
            *figures.entry(key).or_default().revenue.entry(currency).or_default() +=
                row.try_get::<i64, _>("revenue")?;
        }
        for row in sqlx::query(sqlx::AssertSqlSafe(redeemed))
            .bind(campaign_id)
            .bind(from)
            .bind(to)
            .fetch_all(&mut *conn)
            .await?
        {
            let key = (row.try_get("store_id")?, group_of(&row.try_get::<String, _>("grp")?)?);
            figures.entry(key).or_default().offers_redeemed += row.try_get::<i64, _>("redeemed")?;
        }
        Ok(figures)
    }

    async fn seed_receipts(&self, receipts: &[ReceiptRecord]) -> Result<()> {
        let rows: Vec<Value> = receipts
            .iter()
            .map(|r| {
                json!([
                    r.id,
                    r.receipt_number,
                    r.store_id,
                    r.issued_at,
                    r.body.to_string(),
                    r.member_id,
                    r.pass_serial,
                    r.created_at,
                    r.kind,
                    r.total,
                    r.currency
                ])
            })
            .collect();
        let mut tx = self.write_tx().await?;
        sqlx::query(concat!(
            "INSERT INTO receipts (id, receipt_number, store_id, issued_at, body, member_id, pass_serial, created_at, \
             kind, total, currency) SELECT ",
            jv!(0),
            ", ",
            jv!(1),
            ", ",
            jv!(2),
            ", CAST(",
            jv!(3),
            " AS BIGINT), ",
            jv!(4),
            ", ",
            jv!(5),
            ", ",
            jv!(6),
            ", CAST(",
            jv!(7),
            " AS BIGINT), ",
            jv!(8),
            ", CAST(",
            jv!(9),
            " AS BIGINT), ",
            jv!(10),
            " FROM ",
            json_rows!("$1")
        ))
        .bind(Value::Array(rows).to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
