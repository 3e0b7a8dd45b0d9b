//! Redemptions at the till (see `offers.rs`), written inside the caller's transaction (a
//! receipt's, or their own): the instance row locked first, then the offer's, so 50 tills
//! redeeming one code at once find it live once, and the budget counter never overruns.

use anyhow::{Context, Result};
use sqlx::Row;

use super::offers::{instance_columns, instance_from_row, lock_offer};
use super::rows::{from_row, row_by};
use super::{Conn, DbRow, SqlStore, WriteTx};
use crate::store::offers::{OfferInstanceRecord, Redeem, RedeemState, RedeemTarget, RedemptionRecord, ReverseCheck};
use crate::store::{CouponChange, PassRecord, StoreError, StoreResult};

macro_rules! redemption_columns {
    () => {
        "id, instance_id, offer_id, member_id, store_id, receipt_id, receipt_number, redeemed_at, reversed_at"
    };
}

fn redemption_from_row(row: &DbRow) -> Result<RedemptionRecord> {
    Ok(from_row!(
        row,
        RedemptionRecord {
            id,
            instance_id,
            offer_id,
            member_id,
            store_id,
            receipt_id,
            receipt_number,
            redeemed_at,
            reversed_at
        }
    ))
}

pub(super) async fn redemption<'c>(
    ex: impl sqlx::Executor<'c, Database = super::Db>,
    id: &str,
) -> Result<Option<RedemptionRecord>> {
    let sql = concat!("SELECT ", redemption_columns!(), " FROM offer_redemptions WHERE id = $1");
    row_by(ex, sql, id, redemption_from_row).await
}

pub(super) async fn of_receipt(pool: &sqlx::Pool<super::Db>, receipt_id: &str) -> Result<Vec<RedemptionRecord>> {
    let sql = concat!(
        "SELECT ",
        redemption_columns!(),
        " FROM offer_redemptions WHERE receipt_id = $1 ORDER BY redeemed_at, id"
    );
    let rows = sqlx::query(sql).bind(receipt_id).fetch_all(pool).await?;
    rows.iter().map(redemption_from_row).collect()
}

/// The instance a target names, its row locked: the code's; or, by card, the holder's oldest
/// live instance of the offer, else their latest used one (to say when it was used).
async fn lock_instance(conn: &mut Conn, target: &RedeemTarget) -> Result<Option<OfferInstanceRecord>> {
    match target {
        RedeemTarget::Code(code) => {
            let sql = concat!("SELECT ", instance_columns!(), " FROM offer_instances WHERE code = $1", lock_rows!());
            row_by(conn, sql, code, instance_from_row).await
        }
        RedeemTarget::Card { card_number, offer_id } => {
            let rows = sqlx::query(concat!(
                "SELECT ",
                instance_columns!(),
                " FROM offer_instances WHERE member_id = (SELECT id FROM members WHERE card_number = $1) \
                 AND offer_id = $2 AND state <> 'holdout' ORDER BY created_at, id",
                lock_rows!()
            ))
            .bind(card_number)
            .bind(offer_id)
            .fetch_all(conn)
            .await?;
            let all = rows.iter().map(instance_from_row).collect::<Result<Vec<_>>>()?;
            let live = all.iter().find(|i| i.state == "live").cloned();
            Ok(live.or_else(|| all.last().cloned()))
        }
    }
}

/// The redemption that used the instance last (not reversed).
async fn last_redemption(conn: &mut Conn, instance_id: &str) -> Result<Option<RedemptionRecord>> {
    let sql = concat!(
        "SELECT ",
        redemption_columns!(),
        " FROM offer_redemptions WHERE instance_id = $1 AND reversed_at IS NULL ORDER BY redeemed_at DESC, id DESC \
         LIMIT 1"
    );
    row_by(conn, sql, instance_id, redemption_from_row).await
}

async fn set_state(conn: &mut Conn, instance_id: &str, state: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE offer_instances SET state = $2, updated_at = $3 WHERE id = $1")
        .bind(instance_id)
        .bind(state)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

async fn add_redeemed(conn: &mut Conn, offer_id: &str, delta: i64, now: i64) -> Result<()> {
    sqlx::query("UPDATE offers SET redeemed = redeemed + $2, updated_at = $3 WHERE id = $1")
        .bind(offer_id)
        .bind(delta)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

impl SqlStore {
    /// Redeems one instance inside the caller's write transaction: `redeem.check` decides from
    /// the locked rows, then the instance is `redeemed`, the offer's counter grows, the
    /// redemption is stored and the coupon pass changed (with its pushes).
    pub(crate) async fn write_redemption(
        &self,
        tx: &mut WriteTx,
        r: Redeem,
    ) -> StoreResult<(RedemptionRecord, Option<PassRecord>)> {
        let Some(instance) = lock_instance(tx, &r.target).await? else {
            (r.check)(None).map_err(StoreError::Refused)?;
            return Err(StoreError::Other(anyhow::anyhow!("a redemption of no instance was accepted")));
        };
        let offer = lock_offer(tx, &instance.offer_id).await?.context("an instance's offer")?;
        let last = last_redemption(tx, &instance.id).await?;
        (r.check)(Some(RedeemState { offer: &offer, instance: &instance, last: last.as_ref() }))
            .map_err(StoreError::Refused)?;
        set_state(tx, &instance.id, "redeemed", r.now).await?;
        add_redeemed(tx, &offer.id, 1, r.now).await?;
        let record = RedemptionRecord {
            id: r.id,
            instance_id: instance.id.clone(),
            offer_id: offer.id.clone(),
            member_id: instance.member_id.clone(),
            store_id: r.store_id,
            receipt_id: r.receipt_id,
            receipt_number: r.receipt_number,
            redeemed_at: r.now,
            reversed_at: None,
        };
        sqlx::query(concat!(
            "INSERT INTO offer_redemptions (",
            redemption_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)"
        ))
        .bind(&record.id)
        .bind(&record.instance_id)
        .bind(&record.offer_id)
        .bind(&record.member_id)
        .bind(&record.store_id)
        .bind(&record.receipt_id)
        .bind(&record.receipt_number)
        .bind(record.redeemed_at)
        .execute(&mut **tx)
        .await?;
        let used = OfferInstanceRecord { state: "redeemed".into(), updated_at: r.now, ..instance };
        let pass = self.coupon_change(tx, &used, &record, r.pass).await?;
        Ok((record, pass))
    }

    /// Reverses a redemption inside the caller's write transaction, if `check` agrees.
    pub(crate) async fn write_reversal(
        &self,
        tx: &mut WriteTx,
        id: &str,
        now: i64,
        check: ReverseCheck,
        pass: Option<CouponChange>,
    ) -> StoreResult<Option<(RedemptionRecord, Option<PassRecord>)>> {
        let sql = concat!("SELECT ", redemption_columns!(), " FROM offer_redemptions WHERE id = $1", lock_rows!());
        let Some(current) = row_by(&mut **tx, sql, id, redemption_from_row).await? else { return Ok(None) };
        check(&current).map_err(StoreError::Refused)?;
        let sql = concat!("SELECT ", instance_columns!(), " FROM offer_instances WHERE id = $1", lock_rows!());
        let instance = row_by(&mut **tx, sql, &current.instance_id, instance_from_row)
            .await?
            .context("a redemption's instance")?;
        lock_offer(tx, &current.offer_id).await?;
        set_state(tx, &instance.id, "live", now).await?;
        add_redeemed(tx, &current.offer_id, -1, now).await?;
        sqlx::query("UPDATE offer_redemptions SET reversed_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        let reversed = RedemptionRecord { reversed_at: Some(now), ..current };
        let live = OfferInstanceRecord { state: "live".into(), updated_at: now, ..instance };
        let pass = self.coupon_change(tx, &live, &reversed, pass).await?;
        Ok(Some((reversed, pass)))
    }

    async fn coupon_change(
        &self,
        tx: &mut WriteTx,
        instance: &OfferInstanceRecord,
        redemption: &RedemptionRecord,
        change: Option<CouponChange>,
    ) -> StoreResult<Option<PassRecord>> {
        let Some(change) = change else { return Ok(None) };
        self.change_linked_pass(tx, instance.pass_serial.as_deref(), |p| change(instance, redemption, p)).await
    }
}
