//! Campaign records (see `store/campaigns.rs`): the campaigns, their history, counters and
//! figures. A status change locks the campaign's row (`lock_rows!`; on SQLite the write lock),
//! so concurrent changes take turns.

use anyhow::{Context, Result};
use async_trait::async_trait;
use serde_json::{Value, json};

use super::rows::{campaign_columns, campaign_from_row, row_by};
use super::{Conn, SqlStore};
use crate::store::campaigns::{
    CampaignRecord, CampaignStats, CampaignsStore, CounterDelta, NewCampaign, Transition, creation_events, stats_from,
};
use crate::store::{StoreError, StoreResult, now_ms};

/// Adds delivery counters in the caller's transaction, in one statement.
pub(crate) async fn add_counters(conn: &mut Conn, deltas: &[CounterDelta]) -> Result<()> {
    if deltas.is_empty() {
        return Ok(());
    }
    let rows: Vec<Value> = deltas.iter().map(|(campaign, name, n)| json!([campaign, name, n])).collect();
    // Deltas come sorted by (campaign, name): concurrent finishers lock the rows in one order.
    // (`WHERE TRUE`: SQLite's parser needs it between a SELECT and `ON CONFLICT`.)
    sqlx::query(concat!(
        "INSERT INTO campaign_counters (campaign_id, name, count) SELECT ",
        jv!(0),
        ", ",
        jv!(1),
        ", CAST(",
        jv!(2),
        " AS BIGINT) FROM ",
        json_rows!("$1"),
        " WHERE TRUE \
         ON CONFLICT (campaign_id, name) DO UPDATE SET count = campaign_counters.count + excluded.count"
    ))
    .bind(Value::Array(rows).to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a campaign's transition in the audit log, in the caller's transaction.
pub(crate) async fn add_event(
    conn: &mut Conn,
    campaign: &str,
    actor: &str,
    action: &str,
    detail: &Value,
) -> Result<()> {
    let entry = crate::store::AuditEntry {
        actor: actor.to_owned(),
        role: None,
        action: action.to_owned(),
        object_kind: "campaign".into(),
        object_id: campaign.to_owned(),
        store_id: None,
        detail: detail.clone(),
    };
    super::audit::add(conn, &entry).await
}

pub(crate) async fn fetch_campaign(conn: &mut Conn, id: &str) -> Result<Option<CampaignRecord>> {
    row_by(conn, concat!("SELECT ", campaign_columns!(), " FROM campaigns WHERE id = $1"), id, campaign_from_row).await
}

#[async_trait]
impl CampaignsStore for SqlStore {
    async fn insert_campaign(&self, c: NewCampaign, actor: &str) -> Result<CampaignRecord> {
        let now = now_ms();
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO campaigns (id, name, segment, scope, messages, priority, status, send_at, created_by, \
             created_at, updated_at, test_card_number, holdout_percent, conversion_days, offer_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12, $13, $14)",
        )
        .bind(&c.id)
        .bind(&c.name)
        .bind(&c.segment)
        .bind(&c.scope)
        .bind(serde_json::to_string(&c.messages)?)
        .bind(&c.priority)
        .bind(&c.status)
        .bind(c.send_at)
        .bind(&c.created_by)
        .bind(now)
        .bind(&c.test_card_number)
        .bind(c.holdout_percent)
        .bind(c.conversion_days)
        .bind(&c.offer_id)
        .execute(&mut *tx)
        .await?;
        for (action, detail) in creation_events(&c) {
            add_event(&mut tx, &c.id, actor, action, &detail).await?;
        }
        let record = fetch_campaign(&mut tx, &c.id).await?.context("the campaign just inserted")?;
        tx.commit().await?;
        Ok(record)
    }

    async fn campaign(&self, id: &str) -> Result<Option<CampaignRecord>> {
        fetch_campaign(&mut *self.pool.acquire().await?, id).await
    }

    async fn list_campaigns(
        &self,
        scope: Option<&str>,
        status: Option<&str>,
        before_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<CampaignRecord>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            campaign_columns!(),
            " FROM campaigns WHERE (CAST($1 AS TEXT) IS NULL OR scope = $1) \
             AND (CAST($4 AS TEXT) IS NULL OR status = $4) \
             AND (CAST($2 AS TEXT) IS NULL OR (created_at, id) < (SELECT created_at, id FROM campaigns WHERE id = $2)) \
             ORDER BY created_at DESC, id DESC LIMIT $3"
        ))
        .bind(scope)
        .bind(before_id)
        .bind(limit)
        .bind(status)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(campaign_from_row).collect()
    }

    async fn save_draft(
        &self,
        c: &NewCampaign,
        actor: &str,
        action: &str,
        detail: Value,
    ) -> StoreResult<Option<CampaignRecord>> {
        let mut tx = self.write_tx().await?;
        let sql = concat!("SELECT ", campaign_columns!(), " FROM campaigns WHERE id = $1", lock_rows!());
        let Some(current) = row_by(&mut *tx, sql, &c.id, campaign_from_row).await? else { return Ok(None) };
        if current.status != "draft" {
            return Err(StoreError::Conflict { field: "status", value: current.status, existing: Some(current.id) });
        }
        sqlx::query(
            "UPDATE campaigns SET name = $1, segment = $2, scope = $3, messages = $4, priority = $5, status = $6, \
             send_at = $7, test_card_number = $8, updated_at = $9, holdout_percent = $11, conversion_days = $12, \
             offer_id = $13 WHERE id = $10",
        )
        .bind(&c.name)
        .bind(&c.segment)
        .bind(&c.scope)
        .bind(serde_json::to_string(&c.messages).map_err(anyhow::Error::from)?)
        .bind(&c.priority)
        .bind(&c.status)
        .bind(c.send_at)
        .bind(&c.test_card_number)
        .bind(now_ms())
        .bind(&c.id)
        .bind(c.holdout_percent)
        .bind(c.conversion_days)
        .bind(&c.offer_id)
        .execute(&mut *tx)
        .await?;
        add_event(&mut tx, &c.id, actor, action, &detail).await?;
        let record = fetch_campaign(&mut tx, &c.id).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn transition_campaign(&self, id: &str, t: Transition<'_>) -> StoreResult<Option<CampaignRecord>> {
        let mut tx = self.write_tx().await?;
        let sql = concat!("SELECT ", campaign_columns!(), " FROM campaigns WHERE id = $1", lock_rows!());
        let Some(current) = row_by(&mut *tx, sql, id, campaign_from_row).await? else { return Ok(None) };
        if !t.from.contains(&current.status.as_str()) {
            return Err(StoreError::Conflict { field: "status", value: current.status, existing: Some(current.id) });
        }
        sqlx::query(
            "UPDATE campaigns SET status = $1, reject_reason = COALESCE($2, reject_reason), updated_at = $3 \
             WHERE id = $4",
        )
        .bind(t.to)
        .bind(t.reject_reason)
        .bind(now_ms())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        add_event(&mut tx, id, t.actor, t.action, &t.detail).await?;
        let record = fetch_campaign(&mut tx, id).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn campaign_stats(&self, id: &str) -> Result<CampaignStats> {
        let groups: Vec<(String, Option<String>, i64, i64)> = sqlx::query_as(
            "SELECT state, held_rule, COUNT(*), COUNT(fetched_at) FROM campaign_recipients \
             WHERE campaign_id = $1 GROUP BY state, held_rule",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let counters: Vec<(String, i64)> =
            sqlx::query_as("SELECT name, count FROM campaign_counters WHERE campaign_id = $1")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        // Two indexed counts: the jobs tagged with the campaign (`jobs_campaign`), and the waiting
        // syncs of the coupon passes it issued (its instances by `issue_id`, each probing
        // `jobs_one_pending`); an offer object's sync being worked this very moment is not counted.
        let google_pending: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM jobs WHERE kind = 'google' AND campaign_id = $1 \
               AND state IN ('pending', 'leased')) \
             + (SELECT COUNT(*) FROM offer_instances i JOIN jobs j ON j.kind = 'google' AND j.key = i.pass_serial \
               AND j.state = 'pending' WHERE i.issue_id = $1 AND i.pass_serial IS NOT NULL)",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        Ok(stats_from(groups, counters, google_pending))
    }

    async fn class_messages_due(&self) -> Result<Vec<CampaignRecord>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            campaign_columns!(),
            " FROM campaigns WHERE google_class IS NOT NULL AND google_class_sent_at IS NULL \
             AND status IN ('sending', 'sent')"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(campaign_from_row).collect()
    }

    async fn mark_class_message_sent(&self, id: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let marked = sqlx::query(
            "UPDATE campaigns SET google_class_sent_at = $1, updated_at = $1 \
             WHERE id = $2 AND google_class_sent_at IS NULL",
        )
        .bind(now_ms())
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if marked == 1 {
            let holders: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM campaign_recipients r \
                 JOIN google_objects o ON o.serial_number = r.serial_number AND o.saved = TRUE \
                 WHERE r.campaign_id = $1",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            add_counters(&mut tx, &[(id.to_owned(), "google.accepted".to_owned(), holders)]).await?;
            let detail = json!({"holders": holders});
            add_event(&mut tx, id, "google", "google_class_message", &detail).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn campaigns_awaiting_offer(&self) -> Result<Vec<CampaignRecord>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            campaign_columns!(),
            " FROM campaigns WHERE status = 'sending' AND offer_id IS NOT NULL AND offer_issued_at IS NULL"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(campaign_from_row).collect()
    }

    async fn mark_offer_issued(&self, id: &str, detail: Value) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let marked = sqlx::query(
            "UPDATE campaigns SET offer_issued_at = $1, updated_at = $1 WHERE id = $2 AND offer_issued_at IS NULL",
        )
        .bind(now_ms())
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if marked == 1 {
            add_event(&mut tx, id, "scheduler", "offer_issued", &detail).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
