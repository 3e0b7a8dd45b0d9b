//! Members' storage on SQLite (see `members.rs`): every change runs in a `BEGIN IMMEDIATE`
//! transaction, so the write lock serialises concurrent points changes (no lost update).

use anyhow::{Context, Result};
use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use super::PassRecord;
use super::members::{
    LedgerRecord, MemberLookup, MemberPassUpdate, MemberRecord, MemberUpdate, MembersStore, PointsEntry, PointsOutcome,
    duplicate_member,
};
use super::sqlite::SqliteStore;
use crate::error::Error;

macro_rules! member_columns {
    () => {
        "id, card_number, first_name, last_name, email, phone, email_verified, phone_verified, birthday, language, \
         home_store_id, consent_terms, consent_marketing, consent_version, consent_at, points, tier, tier_manual, \
         attributes, source_flyer, source_store, source_channel, pass_serial, created_at, updated_at"
    };
}

macro_rules! ledger_columns {
    () => {
        "id, member_id, delta, reason, store_id, idempotency_key, balance_after, tier_after, created_at"
    };
}

fn member_from_row(row: &SqliteRow) -> Result<MemberRecord> {
    let attributes: String = row.try_get("attributes")?;
    Ok(MemberRecord {
        id: row.try_get("id")?,
        card_number: row.try_get("card_number")?,
        first_name: row.try_get("first_name")?,
        last_name: row.try_get("last_name")?,
        email: row.try_get("email")?,
        phone: row.try_get("phone")?,
        email_verified: row.try_get("email_verified")?,
        phone_verified: row.try_get("phone_verified")?,
        birthday: row.try_get("birthday")?,
        language: row.try_get("language")?,
        home_store_id: row.try_get("home_store_id")?,
        consent_terms: row.try_get("consent_terms")?,
        consent_marketing: row.try_get("consent_marketing")?,
        consent_version: row.try_get("consent_version")?,
        consent_at: row.try_get("consent_at")?,
        points: row.try_get("points")?,
        tier: row.try_get("tier")?,
        tier_manual: row.try_get("tier_manual")?,
        attributes: serde_json::from_str(&attributes).context("stored member attributes are not JSON")?,
        source_flyer: row.try_get("source_flyer")?,
        source_store: row.try_get("source_store")?,
        source_channel: row.try_get("source_channel")?,
        pass_serial: row.try_get("pass_serial")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn ledger_from_row(row: &SqliteRow) -> Result<LedgerRecord> {
    Ok(LedgerRecord {
        id: row.try_get("id")?,
        member_id: row.try_get("member_id")?,
        delta: row.try_get("delta")?,
        reason: row.try_get("reason")?,
        store_id: row.try_get("store_id")?,
        idempotency_key: row.try_get("idempotency_key")?,
        balance_after: row.try_get("balance_after")?,
        tier_after: row.try_get("tier_after")?,
        created_at: row.try_get("created_at")?,
    })
}

async fn fetch_member(conn: &mut SqliteConnection, id: &str) -> Result<Option<MemberRecord>> {
    let row = sqlx::query(concat!("SELECT ", member_columns!(), " FROM members WHERE id = ?"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(member_from_row).transpose()
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// Writes every changeable column of `m`.
async fn write_member(conn: &mut SqliteConnection, m: &MemberRecord) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE members SET first_name = ?, last_name = ?, email = ?, phone = ?, email_verified = ?, \
         phone_verified = ?, birthday = ?, language = ?, home_store_id = ?, consent_terms = ?, consent_marketing = ?, \
         consent_version = ?, consent_at = ?, points = ?, tier = ?, tier_manual = ?, attributes = ?, \
         source_flyer = ?, source_store = ?, source_channel = ?, updated_at = ? WHERE id = ?",
    )
    .bind(&m.first_name)
    .bind(&m.last_name)
    .bind(&m.email)
    .bind(&m.phone)
    .bind(m.email_verified)
    .bind(m.phone_verified)
    .bind(&m.birthday)
    .bind(&m.language)
    .bind(&m.home_store_id)
    .bind(m.consent_terms)
    .bind(m.consent_marketing)
    .bind(&m.consent_version)
    .bind(m.consent_at)
    .bind(m.points)
    .bind(&m.tier)
    .bind(&m.tier_manual)
    .bind(m.attributes.to_string())
    .bind(&m.source_flyer)
    .bind(&m.source_store)
    .bind(&m.source_channel)
    .bind(m.updated_at)
    .bind(&m.id)
    .execute(conn)
    .await?;
    Ok(())
}

impl SqliteStore {
    /// Applies `update` to the member's pass inside the caller's write transaction, with the
    /// effects of `update_pass`: next version tag, push jobs for its devices, a Google sync.
    async fn change_member_pass(
        &self,
        conn: &mut crate::store::sqlite::WriteTx,
        member: &MemberRecord,
        update: MemberPassUpdate,
    ) -> Result<Option<PassRecord>, Error> {
        let Some(serial) = &member.pass_serial else { return Ok(None) };
        let Some(current) = super::sqlite::lock_pass(conn, serial).await? else { return Ok(None) };
        let Some(change) = update(member, &current)? else { return Ok(None) };
        Ok(Some(self.write_pass_change(conn, current, change).await?))
    }

    /// The error for a unique violation of `member`: which member has its e-mail, phone or card number.
    async fn duplicate_of(&self, member: &MemberRecord) -> Error {
        let row = sqlx::query(concat!(
            "SELECT ",
            member_columns!(),
            " FROM members WHERE id <> ?1 AND (email = ?2 OR phone = ?3 OR card_number = ?4) \
             ORDER BY (email = ?2) DESC, (phone = ?3) DESC LIMIT 1"
        ))
        .bind(&member.id)
        .bind(&member.email)
        .bind(&member.phone)
        .bind(&member.card_number)
        .fetch_optional(&self.pool)
        .await;
        match row.map_err(anyhow::Error::from).and_then(|r| r.as_ref().map(member_from_row).transpose()) {
            Ok(Some(existing)) => duplicate_member(&existing, member),
            Ok(None) => Error::conflict(format!("member {} conflicts with another member", member.id), "id"),
            Err(e) => Error::Internal(e),
        }
    }
}

#[async_trait]
impl MembersStore for SqliteStore {
    async fn insert_member(&self, m: &MemberRecord) -> Result<MemberRecord, Error> {
        let row = sqlx::query(concat!(
            "INSERT INTO members (",
            member_columns!(),
            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ",
            member_columns!()
        ))
        .bind(&m.id)
        .bind(&m.card_number)
        .bind(&m.first_name)
        .bind(&m.last_name)
        .bind(&m.email)
        .bind(&m.phone)
        .bind(m.email_verified)
        .bind(m.phone_verified)
        .bind(&m.birthday)
        .bind(&m.language)
        .bind(&m.home_store_id)
        .bind(m.consent_terms)
        .bind(m.consent_marketing)
        .bind(&m.consent_version)
        .bind(m.consent_at)
        .bind(m.points)
        .bind(&m.tier)
        .bind(&m.tier_manual)
        .bind(m.attributes.to_string())
        .bind(&m.source_flyer)
        .bind(&m.source_store)
        .bind(&m.source_channel)
        .bind(&m.pass_serial)
        .bind(m.created_at)
        .bind(m.updated_at)
        .fetch_one(&self.pool)
        .await;
        match row {
            Ok(row) => Ok(member_from_row(&row)?),
            Err(e) if is_unique_violation(&e) => Err(self.duplicate_of(m).await),
            Err(e) => Err(Error::Internal(e.into())),
        }
    }

    async fn member(&self, id: &str) -> Result<Option<MemberRecord>> {
        fetch_member(&mut *self.pool.acquire().await?, id).await
    }

    async fn find_members(&self, q: &MemberLookup) -> Result<Vec<MemberRecord>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            member_columns!(),
            " FROM members WHERE (?1 IS NULL OR email = ?1) AND (?2 IS NULL OR phone = ?2) \
             AND (?3 IS NULL OR card_number = ?3) ORDER BY created_at, id LIMIT 10"
        ))
        .bind(&q.email)
        .bind(&q.phone)
        .bind(&q.card_number)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(member_from_row).collect()
    }

    async fn update_member(
        &self,
        id: &str,
        update: MemberUpdate,
        pass: MemberPassUpdate,
    ) -> Result<Option<(MemberRecord, Option<PassRecord>)>, Error> {
        let mut tx = self.write_tx().await?;
        let Some(current) = fetch_member(&mut tx, id).await? else { return Ok(None) };
        let next = update(&current)?;
        if let Err(e) = write_member(&mut tx, &next).await {
            drop(tx);
            return Err(if is_unique_violation(&e) {
                self.duplicate_of(&next).await
            } else {
                anyhow::Error::from(e).into()
            });
        }
        let pass = self.change_member_pass(&mut tx, &next, pass).await?;
        let stored = fetch_member(&mut tx, id).await?.context("updated member vanished")?;
        tx.commit().await.map_err(anyhow::Error::from)?;
        Ok(Some((stored, pass)))
    }

    async fn add_points(
        &self,
        member_id: &str,
        entry: &PointsEntry,
        apply: MemberUpdate,
        pass: MemberPassUpdate,
    ) -> Result<Option<PointsOutcome>, Error> {
        // The write lock is taken first: the key check, the balance and the writes see no other change.
        let mut tx = self.write_tx().await?;
        if let Some(key) = &entry.idempotency_key {
            let earlier = sqlx::query(concat!(
                "SELECT ",
                ledger_columns!(),
                " FROM points_ledger WHERE member_id = ? AND idempotency_key = ?"
            ))
            .bind(member_id)
            .bind(key)
            .fetch_optional(&mut *tx)
            .await
            .map_err(anyhow::Error::from)?;
            if let Some(row) = earlier {
                return super::members::replayed(ledger_from_row(&row)?, entry).map(Some);
            }
        }
        let Some(current) = fetch_member(&mut tx, member_id).await? else { return Ok(None) };
        let next = apply(&current)?;
        write_member(&mut tx, &next).await.map_err(anyhow::Error::from)?;
        let row = sqlx::query(concat!(
            "INSERT INTO points_ledger (member_id, delta, reason, store_id, idempotency_key, balance_after, \
             tier_after, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING ",
            ledger_columns!()
        ))
        .bind(member_id)
        .bind(entry.delta)
        .bind(&entry.reason)
        .bind(&entry.store_id)
        .bind(&entry.idempotency_key)
        .bind(next.points)
        .bind(&next.tier)
        .bind(next.updated_at)
        .fetch_one(&mut *tx)
        .await
        .map_err(anyhow::Error::from)?;
        let recorded = ledger_from_row(&row)?;
        let pass = self.change_member_pass(&mut tx, &next, pass).await?;
        tx.commit().await.map_err(anyhow::Error::from)?;
        Ok(Some(PointsOutcome { entry: recorded, replayed: false, pass }))
    }

    async fn points_history(&self, member_id: &str, before_id: Option<i64>, limit: i64) -> Result<Vec<LedgerRecord>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            ledger_columns!(),
            " FROM points_ledger WHERE member_id = ?1 AND (?2 IS NULL OR id < ?2) ORDER BY id DESC LIMIT ?3"
        ))
        .bind(member_id)
        .bind(before_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ledger_from_row).collect()
    }
}
