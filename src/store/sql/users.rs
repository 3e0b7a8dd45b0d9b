//! Console users and sessions (see `store/users.rs`).

use anyhow::Result;
use async_trait::async_trait;
use sqlx::Row;

use super::rows::{from_row, row_by};
use super::{DbRow, SqlStore};
use crate::store::users::{NewUser, SessionRecord, UserRecord, UsersStore};
use crate::store::{StoreError, StoreResult, now_ms};

/// The columns `user_from_row` reads.
macro_rules! user_columns {
    () => {
        "id, email, password_hash, role, store_id, language, failed_sign_ins, locked_until, disabled_at, \
         last_sign_in_at, created_at, updated_at, totp_secret, totp_enabled_at, totp_last_step"
    };
}

fn user_from_row(row: &DbRow) -> Result<UserRecord> {
    Ok(from_row!(
        row,
        UserRecord {
            id,
            email,
            password_hash,
            role,
            store_id,
            language,
            failed_sign_ins,
            locked_until,
            disabled_at,
            last_sign_in_at,
            created_at,
            updated_at,
            totp_secret,
            totp_enabled_at,
            totp_last_step
        }
    ))
}

#[async_trait]
impl UsersStore for SqlStore {
    async fn insert_user(&self, u: NewUser) -> StoreResult<UserRecord> {
        let row = sqlx::query(concat!(
            "INSERT INTO users (id, email, password_hash, role, store_id, language, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING ",
            user_columns!()
        ))
        .bind(&u.id)
        .bind(&u.email)
        .bind(&u.password_hash)
        .bind(&u.role)
        .bind(&u.store_id)
        .bind(&u.language)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await
        .map_err(|e| StoreError::unique(e, "email", &u.email))?;
        Ok(user_from_row(&row)?)
    }

    async fn user(&self, id: &str) -> Result<Option<UserRecord>> {
        row_by(&self.pool, concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1"), id, user_from_row).await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>> {
        let sql = concat!("SELECT ", user_columns!(), " FROM users WHERE email = $1");
        row_by(&self.pool, sql, email, user_from_row).await
    }

    async fn list_users(&self) -> Result<Vec<UserRecord>> {
        let rows = sqlx::query(concat!("SELECT ", user_columns!(), " FROM users ORDER BY email"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn disable_user(&self, email: &str) -> Result<Option<UserRecord>> {
        let now = now_ms();
        let mut tx = self.write_tx().await?;
        let row = sqlx::query(concat!(
            "UPDATE users SET disabled_at = COALESCE(disabled_at, $1), updated_at = $1 WHERE email = $2 RETURNING ",
            user_columns!()
        ))
        .bind(now)
        .bind(email)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let user = user_from_row(&row)?;
        sqlx::query("UPDATE user_sessions SET ended_at = $1 WHERE user_id = $2 AND ended_at IS NULL")
            .bind(now)
            .bind(&user.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(user))
    }

    async fn sign_in_failed(&self, id: &str, max: i64, lock_until: i64) -> Result<()> {
        sqlx::query(
            "UPDATE users SET failed_sign_ins = failed_sign_ins + 1, \
             locked_until = CASE WHEN failed_sign_ins + 1 >= $1 THEN $2 ELSE locked_until END WHERE id = $3",
        )
        .bind(max)
        .bind(lock_until)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn sign_in_succeeded(&self, s: &SessionRecord) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE users SET failed_sign_ins = 0, locked_until = NULL, last_sign_in_at = $1 WHERE id = $2")
            .bind(s.created_at)
            .bind(&s.user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO user_sessions (token_hash, user_id, csrf_token, created_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(&s.token_hash)
        .bind(&s.user_id)
        .bind(&s.csrf_token)
        .bind(s.created_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn session(&self, token_hash: &str) -> Result<Option<(SessionRecord, UserRecord)>> {
        let row = sqlx::query(concat!(
            "SELECT s.token_hash, s.user_id, s.csrf_token, s.created_at AS session_created_at, s.last_seen_at, \
             s.ended_at, u.* FROM user_sessions s JOIN (SELECT ",
            user_columns!(),
            " FROM users) u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.ended_at IS NULL"
        ))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let session = from_row!(row, SessionRecord { token_hash, user_id, csrf_token, last_seen_at, ended_at;
            created_at: row.try_get("session_created_at")? });
        Ok(Some((session, user_from_row(&row)?)))
    }

    async fn touch_session(&self, token_hash: &str, at: i64) -> Result<()> {
        sqlx::query("UPDATE user_sessions SET last_seen_at = $1 WHERE token_hash = $2")
            .bind(at)
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn insert_password_reset(&self, token_hash: &str, user_id: &str, expires_at: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(now_ms())
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn password_reset_user(&self, token_hash: &str, now: i64) -> Result<Option<String>> {
        let sql = "SELECT user_id FROM password_resets WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2";
        Ok(sqlx::query_scalar(sql).bind(token_hash).bind(now).fetch_optional(&self.pool).await?)
    }

    async fn reset_password(&self, token_hash: &str, password_hash: &str, now: i64) -> Result<Option<String>> {
        let mut tx = self.write_tx().await?;
        let used: Option<String> = sqlx::query_scalar(
            "UPDATE password_resets SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 \
             RETURNING user_id",
        )
        .bind(now)
        .bind(token_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(user_id) = used else { return Ok(None) };
        sqlx::query(
            "UPDATE users SET password_hash = $1, failed_sign_ins = 0, locked_until = NULL, updated_at = $2 \
             WHERE id = $3",
        )
        .bind(password_hash)
        .bind(now)
        .bind(&user_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE user_sessions SET ended_at = $1 WHERE user_id = $2 AND ended_at IS NULL")
            .bind(now)
            .bind(&user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(user_id))
    }

    async fn set_totp(
        &self,
        user_id: &str,
        secret: Option<&str>,
        enabled_at: Option<i64>,
        codes: &[String],
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE users SET totp_secret = $1, totp_enabled_at = $2, totp_last_step = NULL, updated_at = $3 WHERE id = $4",
        )
        .bind(secret)
        .bind(enabled_at)
        .bind(now_ms())
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        if enabled_at.is_some() || secret.is_none() {
            sqlx::query("DELETE FROM user_recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        }
        for code in codes {
            sqlx::query("INSERT INTO user_recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                .bind(user_id)
                .bind(code)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn use_totp_step(&self, user_id: &str, step: i64) -> Result<bool> {
        let sql =
            "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)";
        Ok(sqlx::query(sql).bind(step).bind(user_id).execute(&self.pool).await?.rows_affected() == 1)
    }

    async fn use_recovery_code(&self, user_id: &str, code_hash: &str, now: i64) -> Result<bool> {
        let sql =
            "UPDATE user_recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL";
        Ok(sqlx::query(sql).bind(now).bind(user_id).bind(code_hash).execute(&self.pool).await?.rows_affected() == 1)
    }

    async fn recovery_codes_left(&self, user_id: &str) -> Result<i64> {
        let sql = "SELECT COUNT(*) FROM user_recovery_codes WHERE user_id = $1 AND used_at IS NULL";
        Ok(sqlx::query_scalar(sql).bind(user_id).fetch_one(&self.pool).await?)
    }

    async fn end_session(&self, token_hash: &str, at: i64) -> Result<()> {
        sqlx::query("UPDATE user_sessions SET ended_at = $1 WHERE token_hash = $2 AND ended_at IS NULL")
            .bind(at)
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
