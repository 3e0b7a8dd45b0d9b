//! The SQL migrations of each backend, embedded in the binary (same file names in both folders).

use std::borrow::Cow;

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

/// (version, description, SQL) of every SQLite migration, in order.
const SQLITE: &[(i64, &str, &str)] = &[
    (1, "passes", include_str!("../../migrations/sqlite/0001_passes.sql")),
    (2, "push_jobs", include_str!("../../migrations/sqlite/0002_push_jobs.sql")),
    (3, "google", include_str!("../../migrations/sqlite/0003_google.sql")),
    (4, "stores_flyers", include_str!("../../migrations/sqlite/0004_stores_flyers.sql")),
    (5, "members", include_str!("../../migrations/sqlite/0005_members.sql")),
    (6, "member_tokens", include_str!("../../migrations/sqlite/0006_member_tokens.sql")),
    (7, "flyer_stats", include_str!("../../migrations/sqlite/0007_flyer_stats.sql")),
    (8, "orders", include_str!("../../migrations/sqlite/0008_orders.sql")),
    (9, "receipts", include_str!("../../migrations/sqlite/0009_receipts.sql")),
    (10, "me_tokens", include_str!("../../migrations/sqlite/0010_me_tokens.sql")),
    (11, "webhooks", include_str!("../../migrations/sqlite/0011_webhooks.sql")),
    (12, "campaigns", include_str!("../../migrations/sqlite/0012_campaigns.sql")),
    (13, "jobs", include_str!("../../migrations/sqlite/0013_jobs.sql")),
];

/// (version, description, SQL) of every PostgreSQL migration, in order.
const POSTGRES: &[(i64, &str, &str)] = &[
    (1, "passes", include_str!("../../migrations/postgres/0001_passes.sql")),
    (2, "push_jobs", include_str!("../../migrations/postgres/0002_push_jobs.sql")),
    (3, "google", include_str!("../../migrations/postgres/0003_google.sql")),
    (4, "stores_flyers", include_str!("../../migrations/postgres/0004_stores_flyers.sql")),
    (5, "members", include_str!("../../migrations/postgres/0005_members.sql")),
    (6, "member_tokens", include_str!("../../migrations/postgres/0006_member_tokens.sql")),
    (7, "flyer_stats", include_str!("../../migrations/postgres/0007_flyer_stats.sql")),
    (8, "orders", include_str!("../../migrations/postgres/0008_orders.sql")),
    (9, "receipts", include_str!("../../migrations/postgres/0009_receipts.sql")),
    (10, "me_tokens", include_str!("../../migrations/postgres/0010_me_tokens.sql")),
    (11, "webhooks", include_str!("../../migrations/postgres/0011_webhooks.sql")),
    (12, "campaigns", include_str!("../../migrations/postgres/0012_campaigns.sql")),
    (13, "jobs", include_str!("../../migrations/postgres/0013_jobs.sql")),
];

fn migrator(list: &'static [(i64, &'static str, &'static str)]) -> Migrator {
    Migrator::with_migrations(
        list.iter()
            .map(|(version, description, sql)| {
                Migration::new(*version, Cow::Borrowed(*description), MigrationType::Simple, sql.into_sql_str(), false)
            })
            .collect(),
    )
}

pub fn sqlite() -> Migrator {
    migrator(SQLITE)
}

pub fn postgres() -> Migrator {
    migrator(POSTGRES)
}
