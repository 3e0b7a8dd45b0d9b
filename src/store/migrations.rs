//! The SQL migrations of each backend, embedded in the binary: one list of names, a file of
//! that name in `migrations/sqlite/` and in `migrations/postgres/`.

use std::borrow::Cow;

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

/// `(version, description, SQLite SQL, PostgreSQL SQL)` for each `NNNN_description.sql`.
macro_rules! migrations {
    ($($version:literal $file:literal $description:literal),* $(,)?) => {
        &[$((
            $version,
            $description,
            include_str!(concat!("../../migrations/sqlite/", $file, ".sql")),
            include_str!(concat!("../../migrations/postgres/", $file, ".sql")),
        )),*]
    };
}

type Embedded = (i64, &'static str, &'static str, &'static str);

const MIGRATIONS: &[Embedded] = migrations![
    1 "0001_passes" "passes",
    2 "0002_push_jobs" "push_jobs",
    3 "0003_google" "google",
    4 "0004_stores_flyers" "stores_flyers",
    5 "0005_members" "members",
    6 "0006_member_tokens" "member_tokens",
    7 "0007_flyer_stats" "flyer_stats",
    8 "0008_orders" "orders",
    9 "0009_receipts" "receipts",
    10 "0010_me_tokens" "me_tokens",
    11 "0011_webhooks" "webhooks",
    12 "0012_campaigns" "campaigns",
    13 "0013_jobs" "jobs",
    14 "0014_roles_audit" "roles_audit",
    15 "0015_signup" "signup",
    16 "0016_console_users" "console_users",
    17 "0017_campaign_drafts" "campaign_drafts",
    18 "0018_flyer_visitors" "flyer_visitors",
    19 "0019_receipt_purchases" "receipt_purchases",
    20 "0020_offers" "offers",
    21 "0021_holdouts" "holdouts",
    22 "0022_campaign_offers" "campaign_offers",
    23 "0023_store_report" "store_report",
    24 "0024_recipient_stores" "recipient_stores",
];

fn migrator(sql: fn(&Embedded) -> &'static str) -> Migrator {
    Migrator::with_migrations(
        MIGRATIONS
            .iter()
            .map(|m| Migration::new(m.0, Cow::Borrowed(m.1), MigrationType::Simple, sql(m).into_sql_str(), false))
            .collect(),
    )
}

pub fn sqlite() -> Migrator {
    migrator(|m| m.2)
}

pub fn postgres() -> Migrator {
    migrator(|m| m.3)
}
