//! Offers (see `offers.rs`): the offer rows, changed with their row locked, the members a
//! segment picks for an issue, and the issue batches written with the offer locked so that two
//! issues at once never give a holder more than `max_per_holder` instances.

use std::collections::HashMap;

use anyhow::Result;
use async_trait::async_trait;
use sqlx::Row;

use super::super::{SEGMENT_DIALECT, bind_segment};
use super::rows::{from_row, json, row_by};
use super::{Conn, DbRow, SqlStore};
use crate::campaigns::segment::Segment;
use crate::store::offers::{
    IssueCheck, IssueCounts, IssueRecord, NewInstance, OfferInstanceRecord, OfferQuery, OfferRecord, OfferUpdate,
    OffersStore, Redeem, RedemptionRecord, ReverseCheck,
};
use crate::store::{CouponChange, PassRecord, StoreError, StoreResult, now_ms};

/// The columns `offer_from_row` reads (the JSON columns are text on both backends).
macro_rules! offer_columns {
    () => {
        "id, status, store_id, title, description, terms, reward, valid_from, valid_until, stores, max_per_holder, \
         max_redemptions, redeemed, issued, first_issued_at, reject_reason, created_by, created_at, updated_at"
    };
}

/// The columns `instance_from_row` reads.
macro_rules! instance_columns {
    () => {
        "id, offer_id, member_id, issue_id, code, state, pass_serial, created_at, updated_at"
    };
}
pub(super) use instance_columns;

fn offer_from_row(row: &DbRow) -> Result<OfferRecord> {
    let stores: Option<String> = row.try_get("stores")?;
    let stores = stores.map(|s| serde_json::from_str(&s)).transpose()?;
    Ok(from_row!(row, OfferRecord { id, status, store_id, valid_from, valid_until, max_per_holder, max_redemptions,
        redeemed, issued, first_issued_at, reject_reason, created_by, created_at, updated_at;
        title: json(row, "title")?, description: json(row, "description")?, terms: json(row, "terms")?,
        reward: json(row, "reward")?, stores: stores }))
}

pub(super) fn instance_from_row(row: &DbRow) -> Result<OfferInstanceRecord> {
    Ok(from_row!(
        row,
        OfferInstanceRecord { id, offer_id, member_id, issue_id, code, state, pass_serial, created_at, updated_at }
    ))
}

/// Reads an offer and locks its row until the transaction ends (on SQLite the write lock does).
pub(super) async fn lock_offer(conn: &mut Conn, id: &str) -> Result<Option<OfferRecord>> {
    let sql = concat!("SELECT ", offer_columns!(), " FROM offers WHERE id = $1", lock_rows!());
    row_by(conn, sql, id, offer_from_row).await
}

fn stores_text(o: &OfferRecord) -> Result<Option<String>> {
    Ok(o.stores.as_ref().map(serde_json::to_string).transpose()?)
}

/// Writes every column of an offer but its counters (which only their own statements change).
async fn write_offer(conn: &mut Conn, o: &OfferRecord) -> Result<()> {
    sqlx::query(
        "UPDATE offers SET status = $2, title = $3, description = $4, terms = $5, reward = $6, valid_from = $7, \
         valid_until = $8, stores = $9, max_per_holder = $10, max_redemptions = $11, reject_reason = $12, \
         updated_at = $13 WHERE id = $1",
    )
    .bind(&o.id)
    .bind(&o.status)
    .bind(o.title.to_string())
    .bind(o.description.to_string())
    .bind(o.terms.to_string())
    .bind(o.reward.to_string())
    .bind(o.valid_from)
    .bind(o.valid_until)
    .bind(stores_text(o)?)
    .bind(o.max_per_holder)
    .bind(o.max_redemptions)
    .bind(&o.reject_reason)
    .bind(o.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts an instance unless its holder has one of this issue already (a retried batch);
/// true if it was inserted.
async fn insert_instance(conn: &mut Conn, i: &OfferInstanceRecord) -> StoreResult<bool> {
    let inserted = sqlx::query(concat!(
        "INSERT INTO offer_instances (",
        instance_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (issue_id, member_id) DO NOTHING"
    ))
    .bind(&i.id)
    .bind(&i.offer_id)
    .bind(&i.member_id)
    .bind(&i.issue_id)
    .bind(&i.code)
    .bind(&i.state)
    .bind(&i.pass_serial)
    .bind(i.created_at)
    .bind(i.updated_at)
    .execute(conn)
    .await
    .map_err(|e| StoreError::unique(e, "code", i.code.as_deref().unwrap_or_default()))?;
    Ok(inserted.rows_affected() == 1)
}

/// How many live or redeemed instances of the offer each of these members holds.
async fn held(conn: &mut Conn, offer_id: &str, members: &[&str]) -> Result<HashMap<String, i64>> {
    let list: Vec<[&str; 1]> = members.iter().map(|m| [*m]).collect();
    let rows = sqlx::query(concat!(
        "SELECT member_id, COUNT(*) AS n FROM offer_instances WHERE offer_id = $1 AND state <> 'holdout' \
         AND member_id IN (SELECT ",
        jv!(0),
        " FROM ",
        json_rows!("$2"),
        ") GROUP BY member_id"
    ))
    .bind(offer_id)
    .bind(serde_json::to_string(&list)?)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("member_id")?, r.try_get("n")?))).collect()
}

#[async_trait]
impl OffersStore for SqlStore {
    async fn insert_offer(&self, o: &OfferRecord) -> Result<()> {
        sqlx::query(concat!(
            "INSERT INTO offers (",
            offer_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
        ))
        .bind(&o.id)
        .bind(&o.status)
        .bind(&o.store_id)
        .bind(o.title.to_string())
        .bind(o.description.to_string())
        .bind(o.terms.to_string())
        .bind(o.reward.to_string())
        .bind(o.valid_from)
        .bind(o.valid_until)
        .bind(stores_text(o)?)
        .bind(o.max_per_holder)
        .bind(o.max_redemptions)
        .bind(o.redeemed)
        .bind(o.issued)
        .bind(o.first_issued_at)
        .bind(&o.reject_reason)
        .bind(&o.created_by)
        .bind(o.created_at)
        .bind(o.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn offer(&self, id: &str) -> Result<Option<OfferRecord>> {
        let sql = concat!("SELECT ", offer_columns!(), " FROM offers WHERE id = $1");
        row_by(&self.pool, sql, id, offer_from_row).await
    }

    async fn list_offers(&self, q: &OfferQuery) -> Result<Vec<OfferRecord>> {
        // `stores` is a JSON array of store ids: a LIKE on the quoted id, its wildcards escaped.
        let pattern = q.visible_to_store.as_ref().map(|s| {
            let escaped = s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            format!("%\"{escaped}\"%")
        });
        let rows = sqlx::query(concat!(
            "SELECT ",
            offer_columns!(),
            " FROM offers WHERE (CAST($1 AS TEXT) IS NULL OR status = $1) \
             AND (CAST($2 AS TEXT) IS NULL OR store_id = $2 OR stores IS NULL OR stores LIKE $3 ESCAPE '\\') \
             AND (CAST($4 AS TEXT) IS NULL OR id < $4) ORDER BY id DESC LIMIT $5"
        ))
        .bind(&q.status)
        .bind(&q.visible_to_store)
        .bind(pattern)
        .bind(&q.before)
        .bind(q.limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(offer_from_row).collect()
    }

    async fn update_offer(&self, id: &str, update: OfferUpdate) -> StoreResult<Option<OfferRecord>> {
        let mut tx = self.write_tx().await?;
        let Some(current) = lock_offer(&mut tx, id).await? else { return Ok(None) };
        let next = update(&current).map_err(StoreError::Refused)?;
        write_offer(&mut tx, &next).await?;
        let stored = lock_offer(&mut tx, id).await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn segment_members(&self, segment: &Segment, store: Option<&str>) -> Result<Vec<String>> {
        let filter = segment.to_sql(SEGMENT_DIALECT, now_ms(), &self.settings.currency, 2);
        let sql = format!(
            "SELECT m.id AS id FROM members m JOIN passes p ON p.serial_number = m.pass_serial AND p.voided = FALSE \
             WHERE m.consent_marketing = TRUE AND (CAST($1 AS TEXT) IS NULL OR m.home_store_id = $1) AND ({}) \
             ORDER BY m.id",
            filter.sql
        );
        // The segment's SQL holds placeholders only: its values are bound below.
        let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store);
        let rows = bind_segment(query, &filter.params).fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
    }

    async fn issue_offer(
        &self,
        issue: &IssueRecord,
        instances: Vec<NewInstance>,
        check: IssueCheck,
    ) -> StoreResult<Option<IssueCounts>> {
        let mut tx = self.write_tx().await?;
        let Some(offer) = lock_offer(&mut tx, &issue.offer_id).await? else { return Ok(None) };
        check(&offer).map_err(StoreError::Refused)?;
        let members: Vec<&str> = instances.iter().map(|n| n.instance.member_id.as_str()).collect();
        let mut held = held(&mut tx, &offer.id, &members).await?;
        let mut counts = IssueCounts::default();
        for new in &instances {
            let i = &new.instance;
            let count = held.entry(i.member_id.clone()).or_default();
            if i.state != "holdout" && *count >= offer.max_per_holder {
                counts.skipped += 1;
                continue;
            }
            if !insert_instance(&mut tx, i).await? {
                counts.skipped += 1;
                continue;
            }
            if i.state == "holdout" {
                counts.holdout += 1;
                continue;
            }
            if let Some(pass) = &new.pass {
                self.write_new_pass(&mut tx, pass).await?;
            }
            *count += 1;
            counts.issued += 1;
        }
        let now = now_ms();
        sqlx::query(
            "UPDATE offers SET issued = issued + $2, first_issued_at = COALESCE(first_issued_at, $3), updated_at = $3 \
             WHERE id = $1",
        )
        .bind(&offer.id)
        .bind(counts.issued)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO offer_issues (id, offer_id, segment, holdout_percent, issued, holdout, skipped, created_by, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO UPDATE SET \
             issued = offer_issues.issued + excluded.issued, holdout = offer_issues.holdout + excluded.holdout, \
             skipped = offer_issues.skipped + excluded.skipped",
        )
        .bind(&issue.id)
        .bind(&issue.offer_id)
        .bind(&issue.segment)
        .bind(issue.holdout_percent)
        .bind(counts.issued)
        .bind(counts.holdout)
        .bind(counts.skipped)
        .bind(&issue.created_by)
        .bind(issue.created_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(counts))
    }

    async fn offer_instance_by_pass(&self, serial: &str) -> Result<Option<OfferInstanceRecord>> {
        let sql = concat!("SELECT ", instance_columns!(), " FROM offer_instances WHERE pass_serial = $1");
        row_by(&self.pool, sql, serial, instance_from_row).await
    }

    async fn member_offers(
        &self,
        member_id: &str,
        state: Option<&str>,
    ) -> Result<Vec<(OfferInstanceRecord, OfferRecord)>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            instance_columns!(),
            " FROM offer_instances WHERE member_id = $1 AND (CAST($2 AS TEXT) IS NULL OR state = $2) \
             ORDER BY created_at DESC, id DESC"
        ))
        .bind(member_id)
        .bind(state)
        .fetch_all(&self.pool)
        .await?;
        let mut offers: HashMap<String, OfferRecord> = HashMap::new();
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let instance = instance_from_row(row)?;
            if !offers.contains_key(&instance.offer_id) {
                let Some(offer) = self.offer(&instance.offer_id).await? else { continue };
                offers.insert(offer.id.clone(), offer);
            }
            out.push((instance.clone(), offers[&instance.offer_id].clone()));
        }
        Ok(out)
    }

    async fn redeem_offer(&self, redeem: Redeem) -> StoreResult<(RedemptionRecord, Option<PassRecord>)> {
        let mut tx = self.write_tx().await?;
        let done = self.write_redemption(&mut tx, redeem).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn redemption(&self, id: &str) -> Result<Option<RedemptionRecord>> {
        super::redemptions::redemption(&self.pool, id).await
    }

    async fn reverse_redemption(
        &self,
        id: &str,
        now: i64,
        check: ReverseCheck,
        pass: Option<CouponChange>,
    ) -> StoreResult<Option<(RedemptionRecord, Option<PassRecord>)>> {
        let mut tx = self.write_tx().await?;
        let done = self.write_reversal(&mut tx, id, now, check, pass).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn receipt_redemptions(&self, receipt_id: &str) -> Result<Vec<RedemptionRecord>> {
        super::redemptions::of_receipt(&self.pool, receipt_id).await
    }
}
