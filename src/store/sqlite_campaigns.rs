//! Campaign records on SQLite (see `campaigns.rs`): the campaigns, their history, counters and
//! figures; each change in one `BEGIN IMMEDIATE` transaction.

use anyhow::{Context, Result};
use async_trait::async_trait;
use serde_json::{Value, json};
use sqlx::SqliteConnection;

use super::campaigns::{
    CampaignEvent, CampaignRecord, CampaignStats, CampaignsStore, CounterDelta, NewCampaign, Transition,
    creation_events, stats_from,
};
use super::now_ms;
use super::rows::{campaign_columns, campaign_event_from_row, campaign_from_row};
use super::sqlite::SqliteStore;
use crate::error::Error;

/// Adds delivery counters in the caller's transaction.
pub(super) async fn add_counters(conn: &mut SqliteConnection, deltas: &[CounterDelta]) -> Result<()> {
    for (campaign, name, n) in deltas {
        sqlx::query(
            "INSERT INTO campaign_counters (campaign_id, name, count) VALUES (?1, ?2, ?3) \
             ON CONFLICT (campaign_id, name) DO UPDATE SET count = count + excluded.count",
        )
        .bind(campaign)
        .bind(name)
        .bind(n)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub(super) async fn add_event(
    conn: &mut SqliteConnection,
    campaign: &str,
    actor: &str,
    action: &str,
    detail: &Value,
) -> Result<()> {
    sqlx::query("INSERT INTO campaign_events (campaign_id, at, actor, action, detail) VALUES (?, ?, ?, ?, ?)")
        .bind(campaign)
        .bind(now_ms())
        .bind(actor)
        .bind(action)
        .bind(detail.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

pub(super) async fn fetch_campaign(conn: &mut SqliteConnection, id: &str) -> Result<Option<CampaignRecord>> {
    let row = sqlx::query(concat!("SELECT ", campaign_columns!(), " FROM campaigns WHERE id = ?"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(campaign_from_row).transpose()
}

#[async_trait]
impl CampaignsStore for SqliteStore {
    async fn insert_campaign(&self, c: NewCampaign, actor: &str) -> Result<CampaignRecord> {
        let now = now_ms();
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO campaigns (id, name, segment, scope, messages, priority, status, send_at, created_by, \
             created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
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
        before_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<CampaignRecord>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            campaign_columns!(),
            " FROM campaigns WHERE (?1 IS NULL OR scope = ?1) \
             AND (?2 IS NULL OR (created_at, id) < (SELECT created_at, id FROM campaigns WHERE id = ?2)) \
             ORDER BY created_at DESC, id DESC LIMIT ?3"
        ))
        .bind(scope)
        .bind(before_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(campaign_from_row).collect()
    }

    async fn transition_campaign(&self, id: &str, t: Transition<'_>) -> Result<Option<CampaignRecord>, Error> {
        let mut tx = self.write_tx().await?;
        let Some(current) = fetch_campaign(&mut tx, id).await? else { return Ok(None) };
        if !t.from.contains(&current.status.as_str()) {
            return Err(Error::conflict(format!("campaign {id} is {}", current.status), "status"));
        }
        sqlx::query(
            "UPDATE campaigns SET status = ?1, reject_reason = COALESCE(?2, reject_reason), updated_at = ?3 \
             WHERE id = ?4",
        )
        .bind(t.to)
        .bind(t.reject_reason)
        .bind(now_ms())
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(anyhow::Error::from)?;
        add_event(&mut tx, id, t.actor, t.action, &t.detail).await?;
        let record = fetch_campaign(&mut tx, id).await?;
        tx.commit().await.map_err(anyhow::Error::from)?;
        Ok(record)
    }

    async fn campaign_history(&self, id: &str) -> Result<Vec<CampaignEvent>> {
        let rows =
            sqlx::query("SELECT at, actor, action, detail FROM campaign_events WHERE campaign_id = ? ORDER BY id")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(campaign_event_from_row).collect()
    }

    async fn campaign_stats(&self, id: &str) -> Result<CampaignStats> {
        let groups: Vec<(String, Option<String>, i64, i64)> = sqlx::query_as(
            "SELECT state, held_rule, COUNT(*), COUNT(fetched_at) FROM campaign_recipients \
             WHERE campaign_id = ? GROUP BY state, held_rule",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let counters: Vec<(String, i64)> =
            sqlx::query_as("SELECT name, count FROM campaign_counters WHERE campaign_id = ?")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        let google_pending: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE kind = 'google' AND campaign_id = ? AND state IN ('pending', 'leased')",
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
            "UPDATE campaigns SET google_class_sent_at = ?1, updated_at = ?1 \
             WHERE id = ?2 AND google_class_sent_at IS NULL",
        )
        .bind(now_ms())
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if marked == 1 {
            let holders: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM campaign_recipients r \
                 JOIN google_objects o ON o.serial_number = r.serial_number AND o.saved = 1 WHERE r.campaign_id = ?",
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
}
