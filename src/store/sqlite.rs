//! The SQLite backend: what SQLite does its own way (one file, WAL, writes in `BEGIN IMMEDIATE`
//! transactions that hold the database's write lock, so rows need no locks of their own), then
//! the one SQL implementation of `sql/` compiled for it.

use std::str::FromStr;

use anyhow::{Context, Result, bail};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::DbSettings;

/// The sqlx driver of this backend.
pub type Db = sqlx::Sqlite;

/// Keeps this backend's text of a dialect piece (see `sql/dialect.rs`).
macro_rules! pick {
    (sqlite: [$($s:tt)*] postgres: [$($p:tt)*]) => {
        $($s)*
    };
}

#[allow(clippy::duplicate_mod)] // one implementation, compiled once per backend
#[path = "sql/mod.rs"]
mod sql;

pub use sql::SqlStore as SqliteStore;

/// Opens the file (and its folders) with WAL, a busy timeout and foreign keys on.
pub(super) async fn connect(settings: &DbSettings) -> Result<sqlx::Pool<Db>> {
    let url = settings.url.expose();
    // SQLite has no accounts: a user or password would otherwise become part of the file name
    // (`sqlite://user:password@/tmp/x.db` opens a file of that name in the working directory).
    let location = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
    if location.split('/').next().is_some_and(|authority| authority.contains('@')) {
        bail!(
            "PASSERELLE_DATABASE_URL: a sqlite:// URL takes no user or password (SQLite has none); \
             write sqlite://path/to/file.db (sqlite://./name@x.db for a file whose name has an @)"
        );
    }
    let options = SqliteConnectOptions::from_str(url)
        .with_context(|| "PASSERELLE_DATABASE_URL is not a valid sqlite:// URL")?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(settings.busy_timeout)
        .foreign_keys(true);
    if let Some(parent) = options.get_filename().parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    SqlitePoolOptions::new()
        .max_connections(settings.max_connections)
        .connect_with(options)
        .await
        .context("opening the SQLite database (PASSERELLE_DATABASE_URL)")
}

/// A write transaction: IMMEDIATE takes the write lock up front, so a reader that later writes
/// never deadlocks, and the version counter is taken under that lock.
pub(super) async fn begin_write(pool: &sqlx::Pool<Db>) -> Result<sqlx::Transaction<'static, Db>> {
    Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
}

pub(super) use super::migrations::sqlite as migrator;

/// Refreshes the planner's statistics, and moves a bulk load out of the write-ahead log (a
/// reader looks every page up in a large log first).
pub(super) const OPTIMIZE: &str = "PRAGMA optimize; PRAGMA wal_checkpoint(TRUNCATE)";

/// Makes concurrent campaign batches take turns: SQLite's write lock already does.
pub(super) async fn lock_fanout(_conn: &mut <Db as sqlx::Database>::Connection) -> Result<()> {
    Ok(())
}

/// Polls read before they write: a write transaction takes the database's write lock, which
/// idle polls should not hold.
pub(super) const READ_FIRST: bool = true;

/// Campaign segments compile to SQLite's SQL (booleans as 0/1).
pub(super) const SEGMENT_DIALECT: crate::campaigns::segment::Dialect = crate::campaigns::segment::Dialect::Sqlite;
pub use sql::segment::{bind_segment, bind_segment_scalar};

/// Campaign delivery counters, added by the push and Google job files.
pub(super) use sql::campaigns::add_counters;

/// Keeps jobs from becoming pending meanwhile: SQLite's write lock already does.
pub(super) async fn lock_jobs(_conn: &mut <Db as sqlx::Database>::Connection) -> Result<()> {
    Ok(())
}
