//! Member tokens (see `tokens.rs`): one-time links, stored by hash.

use anyhow::{Result, anyhow};
use async_trait::async_trait;

use sqlx::Row;

use super::rows::{from_row, row_by};
use super::{Conn, DbRow, SqlStore};
use crate::store::tokens::{MemberTokenRecord, TokenPurpose, TokensStore};

fn token_from_row(row: &DbRow) -> Result<MemberTokenRecord> {
    let purpose: String = row.try_get("purpose")?;
    let purpose = TokenPurpose::parse(&purpose).ok_or_else(|| anyhow!("unknown member token purpose {purpose:?}"))?;
    Ok(from_row!(row, MemberTokenRecord { token_hash, member_id, email, created_at, used_at; purpose: purpose }))
}

pub(crate) async fn insert_token(conn: &mut Conn, t: &MemberTokenRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO member_tokens (token_hash, member_id, purpose, email, created_at, used_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&t.token_hash)
    .bind(&t.member_id)
    .bind(t.purpose.as_str())
    .bind(&t.email)
    .bind(t.created_at)
    .bind(t.used_at)
    .execute(conn)
    .await?;
    Ok(())
}

#[async_trait]
impl TokensStore for SqlStore {
    async fn insert_member_token(&self, t: &MemberTokenRecord) -> Result<()> {
        insert_token(&mut *self.pool.acquire().await?, t).await
    }

    async fn member_token(&self, token_hash: &str) -> Result<Option<MemberTokenRecord>> {
        let sql = "SELECT token_hash, member_id, purpose, email, created_at, used_at FROM member_tokens \
                   WHERE token_hash = $1";
        row_by(&self.pool, sql, token_hash, token_from_row).await
    }

    async fn use_member_token(&self, token_hash: &str, now: i64) -> Result<bool> {
        let sql = "UPDATE member_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL";
        Ok(sqlx::query(sql).bind(now).bind(token_hash).execute(&self.pool).await?.rows_affected() == 1)
    }

    async fn revoke_member_tokens(&self, member_id: &str, purpose: TokenPurpose, now: i64) -> Result<u64> {
        let sql = "UPDATE member_tokens SET used_at = $1 WHERE member_id = $2 AND purpose = $3 AND used_at IS NULL";
        let done = sqlx::query(sql).bind(now).bind(member_id).bind(purpose.as_str()).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }
}
