//! The PostgreSQL backend: what PostgreSQL does its own way (a connection pool, row locks held
//! until commit, `SKIP LOCKED` claims so several processes share the work, JSONB columns, an
//! advisory lock), then the one SQL implementation of `sql/` compiled for it.

use std::str::FromStr;

use anyhow::{Context, Result};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::DbSettings;

/// The sqlx driver of this backend.
pub type Db = sqlx::Postgres;

/// Keeps this backend's text of a dialect piece (see `sql/dialect.rs`).
macro_rules! pick {
    (sqlite: [$($s:tt)*] postgres: [$($p:tt)*]) => {
        $($p)*
    };
}

#[allow(clippy::duplicate_mod)] // one implementation, compiled once per backend
#[path = "sql/mod.rs"]
mod sql;

pub use sql::SqlStore as PostgresStore;

/// The advisory lock key that makes fan-out batches take turns across processes.
const FANOUT_LOCK: i64 = 0x5053_5243_4d50_4e31; // "PSRCMPN1"

/// Connects the pool; the URL never reaches a message (it may hold a password).
pub(super) async fn connect(settings: &DbSettings) -> Result<sqlx::Pool<Db>> {
    let options = PgConnectOptions::from_str(settings.url.expose())
        .context("PASSERELLE_DATABASE_URL is not a valid postgres:// URL")?;
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.busy_timeout)
        .connect_with(options)
        .await
        .context("connecting to PostgreSQL (PASSERELLE_DATABASE_URL)")
}

/// A write transaction; rows are locked one by one (`lock_rows!`), the version counter's row
/// until commit, so version tags commit in the order they were taken.
pub(super) async fn begin_write(pool: &sqlx::Pool<Db>) -> Result<sqlx::Transaction<'static, Db>> {
    Ok(pool.begin().await?)
}

pub(super) use super::migrations::postgres as migrator;

/// Refreshes the planner's statistics of the tables bulk loads fill.
pub(super) const OPTIMIZE: &str = "ANALYZE";

/// Makes concurrent campaign batches take turns until commit, so each batch counts a holder's
/// recent sends after the previous batch committed (the caps hold). Batches queue on the version
/// counter anyway; one lock here is far cheaper than locking every member row.
pub(super) async fn lock_fanout(conn: &mut <Db as sqlx::Database>::Connection) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(FANOUT_LOCK).execute(conn).await?;
    Ok(())
}

/// Polls go straight to their transaction: it locks nothing until a row is claimed.
pub(super) const READ_FIRST: bool = false;

/// Campaign segments compile to PostgreSQL's SQL (booleans, JSONB attributes).
pub(super) const SEGMENT_DIALECT: crate::campaigns::segment::Dialect = crate::campaigns::segment::Dialect::Postgres;
pub use sql::segment::{bind_segment, bind_segment_scalar};

/// Campaign delivery counters, added by the push and Google job files.
pub(super) use sql::campaigns::add_counters;

/// Keeps jobs from becoming pending meanwhile (the unique index of waiting jobs would refuse an
/// update): writers wait for this short admin transaction; readers do not.
pub(super) async fn lock_jobs(conn: &mut <Db as sqlx::Database>::Connection) -> Result<()> {
    sqlx::query("LOCK TABLE jobs IN SHARE ROW EXCLUSIVE MODE").execute(conn).await?;
    Ok(())
}
