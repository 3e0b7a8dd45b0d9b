//! Used sign-up form tokens and provisional cards (see `store/signup.rs`).

use anyhow::Result;
use async_trait::async_trait;
use sqlx::Row;

use super::rows::{from_row, row_by};
use super::{DbRow, SqlStore};
use crate::store::signup::{ProvisionalCard, SignupStore};

fn card_from_row(row: &DbRow) -> Result<ProvisionalCard> {
    Ok(from_row!(
        row,
        ProvisionalCard { member_id, owner_member_id, merge_token_hash, created_at, mailed_at, merged_at, voided_at }
    ))
}

#[async_trait]
impl SignupStore for SqlStore {
    async fn use_form_token(&self, id: &str, expires_at: i64, now: i64) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM join_form_tokens WHERE expires_at <= $1").bind(now).execute(&mut *tx).await?;
        let sql = "INSERT INTO join_form_tokens (id, expires_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING";
        let inserted = sqlx::query(sql).bind(id).bind(expires_at).execute(&mut *tx).await?.rows_affected() == 1;
        tx.commit().await?;
        Ok(inserted)
    }

    async fn insert_provisional_card(&self, c: &ProvisionalCard) -> Result<()> {
        sqlx::query(
            "INSERT INTO provisional_cards (member_id, owner_member_id, merge_token_hash, created_at, mailed_at, \
             merged_at, voided_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&c.member_id)
        .bind(&c.owner_member_id)
        .bind(&c.merge_token_hash)
        .bind(c.created_at)
        .bind(c.mailed_at)
        .bind(c.merged_at)
        .bind(c.voided_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn provisional_card_by_token(&self, merge_token_hash: &str) -> Result<Option<ProvisionalCard>> {
        let sql = "SELECT member_id, owner_member_id, merge_token_hash, created_at, mailed_at, merged_at, voided_at \
                   FROM provisional_cards WHERE merge_token_hash = $1";
        row_by(&self.pool, sql, merge_token_hash, card_from_row).await
    }

    async fn claim_provisional_mail(&self, member_id: &str, since: i64, now: i64) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        // The owner's member row, locked: two sign-ups with one address mail once.
        let owner: Option<String> = sqlx::query_scalar(concat!(
            "SELECT m.id FROM provisional_cards p JOIN members m ON m.id = p.owner_member_id WHERE p.member_id = $1",
            lock_rows!()
        ))
        .bind(member_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(owner) = owner else { return Ok(false) };
        let mailed: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(mailed_at) FROM provisional_cards WHERE owner_member_id = $1 AND mailed_at >= $2",
        )
        .bind(&owner)
        .bind(since)
        .fetch_one(&mut *tx)
        .await?;
        if mailed.is_some() {
            return Ok(false);
        }
        let sql = "UPDATE provisional_cards SET mailed_at = $1 WHERE member_id = $2";
        sqlx::query(sql).bind(now).bind(member_id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn claim_provisional_merge(&self, member_id: &str, now: i64) -> Result<bool> {
        let sql = "UPDATE provisional_cards SET merged_at = $1 \
                   WHERE member_id = $2 AND merged_at IS NULL AND voided_at IS NULL";
        Ok(sqlx::query(sql).bind(now).bind(member_id).execute(&self.pool).await?.rows_affected() == 1)
    }

    async fn void_provisional_cards(&self, before: i64, now: i64) -> Result<Vec<String>> {
        let sql = "UPDATE provisional_cards SET voided_at = $1 \
                   WHERE merged_at IS NULL AND voided_at IS NULL AND created_at < $2 RETURNING member_id";
        let rows = sqlx::query(sql).bind(now).bind(before).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(|r| r.try_get("member_id")).collect::<Result<_, _>>()?)
    }
}
