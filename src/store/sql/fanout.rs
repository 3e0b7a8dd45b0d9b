//! The campaign fan-out (see `store/fanout.rs`): a due campaign and its holders are claimed with
//! `skip_locked!` (on SQLite the write lock does it), batches take turns (`lock_fanout`: one
//! advisory lock on PostgreSQL, the write lock on SQLite) so the caps hold across processes, and
//! none repeats a holder.

use std::collections::HashMap;

use anyhow::{Context, Result};
use async_trait::async_trait;
use serde_json::{Value, json};

use super::super::{Db, READ_FIRST, SEGMENT_DIALECT, bind_segment, bind_segment_scalar, lock_fanout};
use super::campaigns::{add_event, fetch_campaign};
use super::members::insert_member_row;
use super::rows::{campaign_columns, campaign_from_row, pass_from_row};
use super::rows::{class_coverage, due_recipients, sent_counts, updates_json, zone_counts};
use super::{Conn, SqlStore, insert_pass_row, pass_columns, register};
use crate::campaigns::holdout::held_out;
use crate::campaigns::plan::{
    DueRecipient, FanoutPlan, class_candidate, prepare_batch, sending_detail, start_filter, sum_zones,
};
use crate::campaigns::pressure::{DAY_MS, Pressure, WEEK_MS};
use crate::campaigns::segment::Segment;
use crate::store::fanout::{FanoutStore, HolderSeed, SegmentCounts};
use crate::store::{CampaignRecord, MemberRecord, PassRecord, now_ms};

/// Puts the campaign's holdout group aside, before any pressure rule: its rows leave `pending`
/// for `holdout`, so the fan-out never reaches them and the caps never count them. Returns
/// how many.
async fn draw_holdout(conn: &mut Conn, campaign: &CampaignRecord) -> Result<i64> {
    let Ok(percent @ 1..) = u8::try_from(campaign.holdout_percent) else { return Ok(0) };
    let members: Vec<String> = sqlx::query_scalar("SELECT member_id FROM campaign_recipients WHERE campaign_id = $1")
        .bind(&campaign.id)
        .fetch_all(&mut *conn)
        .await?;
    let held: Vec<Value> =
        members.into_iter().filter(|m| held_out(&campaign.id, m, percent)).map(|m| json!([m])).collect();
    let mut count = 0;
    for chunk in held.chunks(HOLDOUT_CHUNK) {
        count += sqlx::query(concat!(
            "UPDATE campaign_recipients SET state = 'holdout' WHERE campaign_id = $1 AND member_id IN (SELECT ",
            jv!(0),
            " FROM ",
            json_rows!("$2"),
            ")"
        ))
        .bind(&campaign.id)
        .bind(Value::Array(chunk.to_vec()).to_string())
        .execute(&mut *conn)
        .await?
        .rows_affected() as i64;
    }
    Ok(count)
}

/// A campaign `c` whose holders may be handled: it carries no offer, or every treated holder
/// already holds it (`campaigns::offer`), so the push brings the offer with the message.
macro_rules! offer_ready {
    () => {
        "(c.offer_id IS NULL OR c.offer_issued_at IS NOT NULL)"
    };
}

/// Holdout rows marked per statement (one bound JSON array each).
const HOLDOUT_CHUNK: usize = 5_000;

/// Whether the campaign reaches every Google holder of one class, none of them held back now:
/// then one class message replaces a message per object. Returns the template and the holders.
async fn google_class(
    conn: &mut Conn,
    campaign: &CampaignRecord,
    pressure: &Pressure,
    now: i64,
) -> Result<Option<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT p.template, r.timezone, COUNT(*) AS holders, \
         COUNT(*) FILTER (WHERE (SELECT COUNT(*) FROM campaign_recipients c WHERE c.member_id = r.member_id \
              AND c.state = 'sent' AND c.sent_at > $2) >= $4) AS weekly_capped, \
         COUNT(*) FILTER (WHERE (SELECT COUNT(*) FROM campaign_recipients c WHERE c.member_id = r.member_id \
              AND c.state = 'sent' AND c.sent_at > $3) >= $5) AS daily_capped \
         FROM campaign_recipients r JOIN passes p ON p.serial_number = r.serial_number \
         JOIN google_objects o ON o.serial_number = r.serial_number AND o.saved = TRUE \
         WHERE r.campaign_id = $1 GROUP BY p.template, r.timezone",
    )
    .bind(&campaign.id)
    .bind(now - WEEK_MS)
    .bind(now - DAY_MS)
    .bind(pressure.weekly_cap)
    .bind(pressure.daily_cap)
    .fetch_all(&mut *conn)
    .await?;
    let coverage = class_coverage(&rows)?;
    let Some((template, holders)) = class_candidate(&coverage, campaign.priority == "high", pressure, now) else {
        return Ok(None);
    };
    let class_holders: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM google_objects o JOIN passes p ON p.serial_number = o.serial_number \
         WHERE o.saved = TRUE AND p.voided = FALSE AND p.template = $1",
    )
    .bind(&template)
    .fetch_one(conn)
    .await?;
    Ok((class_holders == holders).then_some((template, holders)))
}

/// Whether a poll finds no work by reading first (`READ_FIRST`: on SQLite, where its write
/// transaction would take the database's write lock for nothing); `probe` is a `SELECT 1 … LIMIT 1`.
async fn idle<'q>(
    pool: &sqlx::Pool<Db>,
    probe: sqlx::query::QueryScalar<'q, Db, i64, <Db as sqlx::Database>::Arguments>,
) -> Result<bool> {
    Ok(READ_FIRST && probe.fetch_optional(pool).await?.is_none())
}

/// Distinct values in order, as `json_rows!` rows of one cell.
fn json_list<'a>(values: impl Iterator<Item = &'a str>) -> Result<String> {
    let mut rows: Vec<[&str; 1]> = values.map(|v| [v]).collect();
    rows.sort_unstable();
    rows.dedup();
    Ok(serde_json::to_string(&rows)?)
}

/// Locks the passes of a batch in serial order and reads them.
async fn lock_passes(conn: &mut Conn, due: &[DueRecipient]) -> Result<HashMap<String, PassRecord>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        pass_columns!(),
        " FROM passes WHERE serial_number IN (SELECT ",
        jv!(0),
        " FROM ",
        json_rows!("$1"),
        ") ORDER BY serial_number",
        lock_rows!()
    ))
    .bind(json_list(due.iter().map(|r| r.serial_number.as_str()))?)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| pass_from_row(r).map(|p| (p.serial_number.clone(), p))).collect()
}

/// Each member's campaign notifications in the last 7 days and 24 hours.
async fn recent_sends(conn: &mut Conn, due: &[DueRecipient], now: i64) -> Result<HashMap<String, (i64, i64)>> {
    let rows = sqlx::query(concat!(
        // The batch's members drive (on SQLite CROSS JOIN fixes the loop order, whatever the
        // statistics say) and each is found in the partial index: never a scan of every send so far.
        "SELECT r.member_id, COUNT(*) AS weekly, COUNT(*) FILTER (WHERE r.sent_at > $2) AS daily FROM ",
        json_rows!("$3"),
        " CROSS JOIN campaign_recipients AS r",
        indexed_by!("campaign_recipients_sent"),
        " WHERE r.member_id = ",
        jv!(0),
        " AND r.state = 'sent' AND r.sent_at > $1 GROUP BY r.member_id"
    ))
    .bind(now - WEEK_MS)
    .bind(now - DAY_MS)
    .bind(json_list(due.iter().map(|r| r.member_id.as_str()))?)
    .fetch_all(conn)
    .await?;
    sent_counts(&rows)
}

#[async_trait]
impl FanoutStore for SqlStore {
    async fn segment_counts(
        &self,
        segment: &Segment,
        store: Option<&str>,
        pressure: &Pressure,
    ) -> Result<SegmentCounts> {
        let now = now_ms();
        let filter = segment.to_sql(SEGMENT_DIALECT, now, &self.settings.currency, 6);
        let sql = format!(
            "SELECT s.timezone AS timezone, m.language AS language, COUNT(*) AS members, COUNT(p.serial_number) AS passes, \
             CAST(COALESCE(SUM((SELECT COUNT(*) FROM registrations g WHERE g.serial_number = p.serial_number)), 0) \
               AS BIGINT) AS apple_devices, \
             COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM google_objects o WHERE o.serial_number = p.serial_number \
               AND o.saved = TRUE)) AS google_objects, \
             COUNT(*) FILTER (WHERE p.serial_number IS NOT NULL AND (SELECT COUNT(*) FROM campaign_recipients c \
               WHERE c.member_id = m.id AND c.state = 'sent' AND c.sent_at > $2) >= $4) AS weekly_capped, \
             COUNT(*) FILTER (WHERE p.serial_number IS NOT NULL AND (SELECT COUNT(*) FROM campaign_recipients c \
               WHERE c.member_id = m.id AND c.state = 'sent' AND c.sent_at > $3) >= $5) AS daily_capped \
             FROM members m LEFT JOIN passes p ON p.serial_number = m.pass_serial AND p.voided = FALSE \
             LEFT JOIN stores s ON s.id = m.home_store_id \
             WHERE m.consent_marketing = TRUE AND (CAST($1 AS TEXT) IS NULL OR m.home_store_id = $1) AND ({}) \
             GROUP BY s.timezone, m.language",
            filter.sql
        );
        // The segment's SQL holds placeholders only: its values are bound below.
        let query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(store)
            .bind(now - WEEK_MS)
            .bind(now - DAY_MS)
            .bind(pressure.weekly_cap)
            .bind(pressure.daily_cap);
        let rows = bind_segment(query, &filter.params).fetch_all(&self.pool).await?;
        let groups = zone_counts(&rows)?;
        let mut counts = sum_zones(groups, pressure, now);
        let filter = segment.to_sql(SEGMENT_DIALECT, now, &self.settings.currency, 2);
        let sql = format!(
            "SELECT COUNT(*) FROM members m \
             LEFT JOIN passes p ON p.serial_number = m.pass_serial AND p.voided = FALSE \
             WHERE (CAST($1 AS TEXT) IS NULL OR m.home_store_id = $1) AND ({})",
            filter.sql
        );
        let query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(store);
        counts.matching = bind_segment_scalar(query, &filter.params).fetch_one(&self.pool).await?;
        Ok(counts)
    }

    async fn start_due_campaign(&self, pressure: &Pressure) -> Result<Option<(CampaignRecord, i64)>> {
        let now = now_ms();
        let probe = "SELECT 1 FROM campaigns WHERE status = 'approved' AND (send_at IS NULL OR send_at <= $1) LIMIT 1";
        if idle(&self.pool, sqlx::query_scalar(probe).bind(now)).await? {
            return Ok(None);
        }
        let mut tx = self.write_tx().await?;
        let row = sqlx::query(concat!(
            "SELECT ",
            campaign_columns!(),
            " FROM campaigns WHERE status = 'approved' \
             AND (send_at IS NULL OR send_at <= $1) ORDER BY COALESCE(send_at, created_at) LIMIT 1",
            skip_locked!()
        ))
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(campaign) = row.as_ref().map(campaign_from_row).transpose()? else { return Ok(None) };
        let (parsed, store) = match start_filter(&campaign) {
            Ok(filter) => filter,
            Err(error) => {
                tracing::error!(campaign = %campaign.id, "campaign cannot start: {error}");
                sqlx::query("UPDATE campaigns SET status = 'failed', updated_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(&campaign.id)
                    .execute(&mut *tx)
                    .await?;
                add_event(&mut tx, &campaign.id, "scheduler", "failed", &json!({"error": error})).await?;
                tx.commit().await?;
                return Ok(None);
            }
        };
        let filter = parsed.to_sql(SEGMENT_DIALECT, now, &self.settings.currency, 4);
        let sql = format!(
            "INSERT INTO campaign_recipients \
             (campaign_id, member_id, serial_number, language, timezone, store_id, state, run_at) \
             SELECT $1, m.id, p.serial_number, m.language, s.timezone, m.home_store_id, 'pending', $2 \
             FROM members m JOIN passes p ON p.serial_number = m.pass_serial AND p.voided = FALSE \
             LEFT JOIN stores s ON s.id = m.home_store_id \
             WHERE m.consent_marketing = TRUE AND (CAST($3 AS TEXT) IS NULL OR m.home_store_id = $3) AND ({}) \
             ON CONFLICT DO NOTHING",
            filter.sql
        );
        let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&campaign.id).bind(now).bind(store);
        let targeted = bind_segment(query, &filter.params).execute(&mut *tx).await?.rows_affected() as i64;
        let holdout = draw_holdout(&mut tx, &campaign).await?;
        // A class message reaches every holder of the class, the holdout group too.
        let class = match self.settings.google_enabled && campaign.holdout_percent == 0 {
            true => google_class(&mut tx, &campaign, pressure, now).await?,
            false => None,
        };
        sqlx::query(
            "UPDATE campaigns SET status = 'sending', started_at = $1, updated_at = $1, google_class = $3 WHERE id = $2",
        )
        .bind(now)
        .bind(&campaign.id)
        .bind(class.as_ref().map(|(t, _)| t))
        .execute(&mut *tx)
        .await?;
        let mut detail = sending_detail(targeted, &class);
        if campaign.holdout_percent > 0 {
            detail["holdout"] = json!(holdout);
        }
        add_event(&mut tx, &campaign.id, "scheduler", "sending", &detail).await?;
        let campaign = fetch_campaign(&mut tx, &campaign.id).await?.context("the campaign just started")?;
        tx.commit().await?;
        Ok(Some((campaign, targeted)))
    }

    async fn fan_out_batch(&self, plan: &FanoutPlan) -> Result<usize> {
        let now = now_ms();
        let probe = concat!(
            "SELECT 1 FROM campaign_recipients r JOIN campaigns c ON c.id = r.campaign_id \
             WHERE r.state = 'pending' AND r.run_at <= $1 AND c.status = 'sending' AND ",
            offer_ready!(),
            " LIMIT 1"
        );
        if idle(&self.pool, sqlx::query_scalar(probe).bind(now)).await? {
            return Ok(0);
        }
        let mut tx = self.write_tx().await?;
        // One batch at a time across processes, so each holder's recent notifications are counted
        // after the previous batch committed (the caps hold).
        lock_fanout(&mut tx).await?;
        let rows = sqlx::query(concat!(
            "SELECT r.campaign_id, r.member_id, r.serial_number, r.language, r.timezone, c.priority, c.messages, \
             (c.google_class IS NOT NULL) AS by_class, \
             EXISTS (SELECT 1 FROM google_objects o WHERE o.serial_number = r.serial_number AND o.saved = TRUE) \
               AS on_google \
             FROM campaign_recipients r JOIN campaigns c ON c.id = r.campaign_id \
             WHERE r.state = 'pending' AND r.run_at <= $1 AND c.status = 'sending' AND ",
            offer_ready!(),
            " ORDER BY r.run_at LIMIT $2",
            skip_locked!("r")
        ))
        .bind(now)
        .bind(plan.batch_size)
        .fetch_all(&mut *tx)
        .await?;
        let due = due_recipients(&rows)?;
        if due.is_empty() {
            return Ok(0);
        }
        // Lock order passes -> version counter, as in every other pass change (no deadlock).
        let passes = lock_passes(&mut tx, &due).await?;
        let sent = recent_sends(&mut tx, &due, now).await?;
        let batch = prepare_batch(&due, sent, &passes, plan, now);
        let written = self.write_pass_changes(&mut tx, batch.changes.clone()).await?;
        sqlx::query(concat!(
            "UPDATE campaign_recipients SET state = ",
            jv!(2),
            ", held_rule = ",
            jv!(3),
            ", run_at = CAST(",
            jv!(4),
            " AS BIGINT), sent_version = CAST(",
            jv!(5),
            " AS BIGINT), sent_at = CASE WHEN ",
            jv!(2),
            " = 'sent' THEN CAST($2 AS BIGINT) END FROM ",
            json_rows!("$1"),
            " WHERE campaign_id = ",
            jv!(0),
            " AND member_id = ",
            jv!(1)
        ))
        .bind(updates_json(&batch, &written))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(due.len())
    }

    async fn finish_campaigns(&self) -> Result<Vec<String>> {
        let probe = "SELECT 1 FROM campaigns WHERE status = 'sending' LIMIT 1";
        if idle(&self.pool, sqlx::query_scalar(probe)).await? {
            return Ok(Vec::new());
        }
        let mut tx = self.write_tx().await?;
        let ids: Vec<String> = sqlx::query_scalar(concat!(
            "SELECT id FROM campaigns c WHERE status = 'sending' AND NOT EXISTS \
             (SELECT 1 FROM campaign_recipients r WHERE r.campaign_id = c.id AND r.state = 'pending')",
            skip_locked!()
        ))
        .fetch_all(&mut *tx)
        .await?;
        for id in &ids {
            let now = now_ms();
            sqlx::query("UPDATE campaigns SET status = 'sent', finished_at = $1, updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let counts: Vec<(String, i64)> = sqlx::query_as(
                "SELECT COALESCE(held_rule, state), COUNT(*) FROM campaign_recipients WHERE campaign_id = $1 \
                 GROUP BY COALESCE(held_rule, state)",
            )
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
            let detail = Value::Object(counts.into_iter().map(|(k, v)| (k, json!(v))).collect());
            add_event(&mut tx, id, "scheduler", "sent", &detail).await?;
        }
        tx.commit().await?;
        Ok(ids)
    }

    async fn record_pass_fetch(&self, serial: &str) -> Result<()> {
        // Most fetches follow no campaign: the partial index finds nothing and no row is touched
        // (on SQLite a read first, since a write would take the write lock anyway).
        let probe = "SELECT 1 FROM campaign_recipients WHERE serial_number = $1 AND state = 'sent' \
                     AND fetched_at IS NULL LIMIT 1";
        if idle(&self.pool, sqlx::query_scalar(probe).bind(serial)).await? {
            return Ok(());
        }
        sqlx::query(
            "UPDATE campaign_recipients SET fetched_at = $1 \
             WHERE serial_number = $2 AND state = 'sent' AND fetched_at IS NULL",
        )
        .bind(now_ms())
        .bind(serial)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn seed_holders(&self, holders: &[HolderSeed]) -> Result<()> {
        let now = now_ms();
        let mut tx = self.write_tx().await?;
        for h in holders {
            let serial = &h.pass.serial_number;
            insert_pass_row(&mut tx, &h.pass, 0, now).await?;
            let member = MemberRecord { pass_serial: Some(serial.clone()), ..h.member.clone() };
            insert_member_row(&mut tx, &member).await?;
            if let Some((device, token)) = &h.device {
                register(&mut tx, device, serial, token, now).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}
