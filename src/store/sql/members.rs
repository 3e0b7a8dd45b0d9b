//! Members and their points ledger (see `members.rs`): every change first locks the member's
//! row (`lock_rows!`: on PostgreSQL a writer's lock that leaves foreign-key checks alone; on
//! SQLite the `BEGIN IMMEDIATE` write lock), so concurrent points changes queue on it and none
//! is lost.

use anyhow::Result;
use async_trait::async_trait;
use sqlx::Row;

use super::rows::{from_row, json, row_by};
use super::{Conn, Db, DbRow, SqlStore, WriteTx};
use crate::store::error::is_unique;
use crate::store::members::{
    LedgerRecord, MemberLookup, MemberPassUpdate, MemberRecord, MemberSearch, MemberUpdate, MembersStore, PointsEntry,
    PointsOutcome,
};
use crate::store::receipts::{ReceiptPoints, ReceiptRecord};
use crate::store::{MemberTokenRecord, NewPass, PassRecord, StoreError, StoreResult};

/// The columns `member_from_row` reads (`attributes` as JSON text, parsed with serde_json).
macro_rules! member_columns {
    () => {
        concat!(
            "id, card_number, first_name, last_name, email, phone, email_verified, phone_verified, birthday, \
             language, home_store_id, consent_terms, consent_marketing, consent_version, consent_at, points, tier, \
             tier_manual, ",
            json_text!("attributes"),
            ", source_flyer, source_store, source_channel, pass_serial, created_at, updated_at"
        )
    };
}

macro_rules! ledger_columns {
    () => {
        "id, member_id, delta, reason, store_id, idempotency_key, balance_after, tier_after, created_at"
    };
}

fn member_from_row(row: &DbRow) -> Result<MemberRecord> {
    Ok(from_row!(row, MemberRecord { id, card_number, first_name, last_name, email, phone, email_verified,
        phone_verified, birthday, language, home_store_id, consent_terms, consent_marketing, consent_version,
        consent_at, points, tier, tier_manual, source_flyer, source_store, source_channel, pass_serial, created_at,
        updated_at; attributes: json(row, "attributes")? }))
}

fn ledger_from_row(row: &DbRow) -> Result<LedgerRecord> {
    Ok(from_row!(
        row,
        LedgerRecord { id, member_id, delta, reason, store_id, idempotency_key, balance_after, tier_after, created_at }
    ))
}

/// The columns every member write binds (`bind_member`: these as `$1` to `$21`, `id` as `$22`).
macro_rules! written_columns {
    () => {
        "first_name, last_name, email, phone, email_verified, phone_verified, birthday, language, home_store_id, \
         consent_terms, consent_marketing, consent_version, consent_at, points, tier, tier_manual, attributes, \
         source_flyer, source_store, source_channel, updated_at"
    };
}

macro_rules! written_values {
    () => {
        concat!(
            "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, ",
            jsonb!("$17"),
            ", $18, $19, $20, $21"
        )
    };
}

type Query<'q> = sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments>;

fn bind_member<'q>(q: Query<'q>, m: &'q MemberRecord) -> Query<'q> {
    q.bind(&m.first_name)
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
}

/// Reads the member and locks their row until the transaction ends (on SQLite the write lock does).
async fn lock_member(conn: &mut Conn, id: &str) -> Result<Option<MemberRecord>> {
    let sql = concat!("SELECT ", member_columns!(), " FROM members WHERE id = $1", lock_rows!());
    row_by(conn, sql, id, member_from_row).await
}

/// Inserts a member row (the error as it came, for `duplicate_of`).
pub(crate) async fn insert_member_row(conn: &mut Conn, m: &MemberRecord) -> Result<DbRow, sqlx::Error> {
    let sql = concat!(
        "INSERT INTO members (",
        written_columns!(),
        ", id, card_number, pass_serial, created_at) VALUES (",
        written_values!(),
        ", $22, $23, $24, $25) RETURNING ",
        member_columns!()
    );
    bind_member(sqlx::query(sql), m).bind(&m.card_number).bind(&m.pass_serial).bind(m.created_at).fetch_one(conn).await
}

/// Writes every changeable column of `m`; returns the stored row.
async fn write_member(conn: &mut Conn, m: &MemberRecord) -> Result<DbRow, sqlx::Error> {
    let sql = concat!(
        "UPDATE members SET (",
        written_columns!(),
        ") = (",
        written_values!(),
        ") WHERE id = $22 RETURNING ",
        member_columns!()
    );
    bind_member(sqlx::query(sql), m).fetch_one(conn).await
}

/// Writes the ledger row of `entry`, the member being `next` after it.
async fn insert_ledger(
    conn: &mut Conn,
    member_id: &str,
    entry: &PointsEntry,
    next: &MemberRecord,
) -> Result<LedgerRecord> {
    let row = sqlx::query(concat!(
        "INSERT INTO points_ledger (member_id, delta, reason, store_id, idempotency_key, balance_after, \
         tier_after, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ",
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
    .fetch_one(conn)
    .await?;
    ledger_from_row(&row)
}

/// Whether the member's ledger holds an entry under this idempotency key.
async fn ledger_has_key(conn: &mut Conn, member_id: &str, key: &str) -> Result<bool> {
    let sql = "SELECT 1 FROM points_ledger WHERE member_id = $1 AND idempotency_key = $2";
    Ok(sqlx::query(sql).bind(member_id).bind(key).fetch_optional(conn).await?.is_some())
}

impl SqlStore {
    /// Credits the points each receipt earns to the member, inside the caller's transaction
    /// (the one that links the receipts): one ledger entry per receipt that earns any, written
    /// at most once per receipt, then the member row and their loyalty pass once.
    pub(crate) async fn credit_receipts(
        &self,
        tx: &mut WriteTx,
        member_id: &str,
        receipts: &[ReceiptRecord],
        points: ReceiptPoints,
    ) -> StoreResult<()> {
        let earning: Vec<(&ReceiptRecord, i64)> =
            receipts.iter().map(|r| (r, (points.points)(r))).filter(|(_, p)| *p != 0).collect();
        if earning.is_empty() {
            return Ok(());
        }
        let Some(mut current) = lock_member(tx, member_id).await? else { return Ok(()) };
        let mut changed = false;
        for (receipt, earned) in earning {
            let key = format!("receipt:{}", receipt.id);
            if ledger_has_key(tx, member_id, &key).await? {
                continue;
            }
            let next = (points.apply)(&current, earned).map_err(StoreError::Refused)?;
            let entry = PointsEntry {
                // A take-back may stop at zero: the entry records what really moved.
                delta: next.points - current.points,
                reason: Some(format!("receipt {}", receipt.id)),
                store_id: Some(receipt.store_id.clone()),
                idempotency_key: Some(key),
            };
            insert_ledger(tx, member_id, &entry, &next).await?;
            current = next;
            changed = true;
        }
        if changed {
            write_member(tx, &current).await?;
            let pass = points.pass;
            self.change_linked_pass(tx, current.pass_serial.as_deref(), |p| pass(&current, p)).await?;
        }
        Ok(())
    }

    /// The error for a unique violation of `member`: the member who has its e-mail, phone or card
    /// number (`Other` for any other failure).
    async fn duplicate_of(&self, member: &MemberRecord, e: sqlx::Error) -> StoreError {
        if !is_unique(&e) {
            return e.into();
        }
        let row = sqlx::query(concat!(
            "SELECT ",
            member_columns!(),
            " FROM members WHERE id <> $1 AND (email = $2 OR phone = $3 OR card_number = $4) \
             ORDER BY (email = $2) IS TRUE DESC, (phone = $3) IS TRUE DESC LIMIT 1"
        ))
        .bind(&member.id)
        .bind(&member.email)
        .bind(&member.phone)
        .bind(&member.card_number)
        .fetch_optional(&self.pool)
        .await;
        let existing = match row.map_err(anyhow::Error::from).and_then(|r| r.as_ref().map(member_from_row).transpose())
        {
            Ok(Some(existing)) => existing,
            Ok(None) => return StoreError::Conflict { field: "id", value: member.id.clone(), existing: None },
            Err(e) => return e.into(),
        };
        let same = |a: &Option<String>, b: &Option<String>| a.is_some() && a == b;
        let (field, value) = if same(&existing.email, &member.email) {
            ("email", member.email.clone())
        } else if same(&existing.phone, &member.phone) {
            ("phone", member.phone.clone())
        } else {
            ("card_number", Some(member.card_number.clone()))
        };
        StoreError::Conflict { field, value: value.unwrap_or_default(), existing: Some(existing.id) }
    }
}

#[async_trait]
impl MembersStore for SqlStore {
    async fn insert_member(
        &self,
        m: &MemberRecord,
        pass: NewPass,
        tokens: &[MemberTokenRecord],
    ) -> StoreResult<(MemberRecord, PassRecord)> {
        let mut tx = self.write_tx().await?;
        let pass = self.write_new_pass(&mut tx, &pass).await?;
        let member = match insert_member_row(&mut tx, m).await {
            Ok(row) => member_from_row(&row)?,
            Err(e) => {
                drop(tx);
                return Err(self.duplicate_of(m, e).await);
            }
        };
        for token in tokens {
            super::tokens::insert_token(&mut tx, token).await?;
        }
        tx.commit().await?;
        Ok((member, pass))
    }

    async fn member(&self, id: &str) -> Result<Option<MemberRecord>> {
        row_by(&self.pool, concat!("SELECT ", member_columns!(), " FROM members WHERE id = $1"), id, member_from_row)
            .await
    }

    async fn find_members(&self, q: &MemberLookup) -> Result<Vec<MemberRecord>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            member_columns!(),
            " FROM members WHERE (CAST($1 AS TEXT) IS NULL OR email = $1) AND (CAST($2 AS TEXT) IS NULL OR phone = $2) \
             AND (CAST($3 AS TEXT) IS NULL OR card_number = $3) ORDER BY created_at, id LIMIT 10"
        ))
        .bind(&q.email)
        .bind(&q.phone)
        .bind(&q.card_number)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(member_from_row).collect()
    }

    async fn search_members(&self, q: &MemberSearch) -> Result<Vec<MemberRecord>> {
        let any = q.card_number.is_some() || q.email.is_some() || q.phone.is_some() || q.name.is_some();
        let pattern = q.name.as_ref().map(|n| {
            let escaped = n.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            format!("%{escaped}%")
        });
        let rows = sqlx::query(concat!(
            "SELECT ",
            member_columns!(),
            " FROM members WHERE (CAST($6 AS TEXT) IS NULL OR home_store_id = $6) AND (NOT $7 \
             OR card_number = $1 OR email = $2 OR phone = $3 \
             OR LOWER(first_name || ' ' || COALESCE(last_name, '')) LIKE $4 ESCAPE '\\') \
             ORDER BY created_at DESC, id DESC LIMIT $5"
        ))
        .bind(&q.card_number)
        .bind(&q.email)
        .bind(&q.phone)
        .bind(&pattern)
        .bind(q.limit)
        .bind(&q.home_store_id)
        .bind(any)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(member_from_row).collect()
    }

    async fn update_member(
        &self,
        id: &str,
        update: MemberUpdate,
        pass: MemberPassUpdate,
    ) -> StoreResult<Option<(MemberRecord, Option<PassRecord>)>> {
        let mut tx = self.write_tx().await?;
        let Some(current) = lock_member(&mut tx, id).await? else { return Ok(None) };
        let next = update(&current).map_err(StoreError::Refused)?;
        let stored = match write_member(&mut tx, &next).await {
            Ok(row) => member_from_row(&row)?,
            Err(e) => {
                drop(tx);
                return Err(self.duplicate_of(&next, e).await);
            }
        };
        let pass = self.change_linked_pass(&mut tx, next.pass_serial.as_deref(), |p| pass(&next, p)).await?;
        tx.commit().await?;
        Ok(Some((stored, pass)))
    }

    async fn add_points(
        &self,
        member_id: &str,
        entry: &PointsEntry,
        apply: MemberUpdate,
        pass: MemberPassUpdate,
    ) -> StoreResult<Option<PointsOutcome>> {
        // The member's row lock (on SQLite the write lock) is taken first: a concurrent change with the
        // same key waits, then finds this one's ledger row; the balance read below is the latest.
        let mut tx = self.write_tx().await?;
        let Some(current) = lock_member(&mut tx, member_id).await? else { return Ok(None) };
        if let Some(key) = &entry.idempotency_key {
            let earlier = sqlx::query(concat!(
                "SELECT ",
                ledger_columns!(),
                " FROM points_ledger WHERE member_id = $1 AND idempotency_key = $2"
            ))
            .bind(member_id)
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = earlier {
                return Ok(Some(PointsOutcome { entry: ledger_from_row(&row)?, replayed: true, pass: None }));
            }
        }
        let next = apply(&current).map_err(StoreError::Refused)?;
        write_member(&mut tx, &next).await?;
        let recorded = insert_ledger(&mut tx, member_id, entry, &next).await?;
        let pass = self.change_linked_pass(&mut tx, next.pass_serial.as_deref(), |p| pass(&next, p)).await?;
        tx.commit().await?;
        Ok(Some(PointsOutcome { entry: recorded, replayed: false, pass }))
    }

    async fn points_history(&self, member_id: &str, before_id: Option<i64>, limit: i64) -> Result<Vec<LedgerRecord>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            ledger_columns!(),
            " FROM points_ledger WHERE member_id = $1 AND (CAST($2 AS BIGINT) IS NULL OR id < $2) \
             ORDER BY id DESC LIMIT $3"
        ))
        .bind(member_id)
        .bind(before_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ledger_from_row).collect()
    }
}
