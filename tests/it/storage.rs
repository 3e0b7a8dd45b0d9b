//! Storage set-up seen from outside: the SQLite file and its settings, URL schemes,
//! `passerelle migrate`, `passerelle keys`, and rows that the device log keeps.

use std::process::Command;

use serde_json::json;
use sqlx::{Connection, Row, SqliteConnection};

use crate::helpers::{repo, run, spawn_app, spawn_app_on_existing, test_config};

fn passerelle(db_url: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_passerelle"));
    c.current_dir(repo()).env("PASSERELLE_DATABASE_URL", db_url).env_remove("PASSERELLE_ADMIN_TOKEN");
    c
}

async_test!(sqlite_file_is_created_in_wal_mode);
async fn sqlite_file_is_created_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/deeper/passerelle.db");
    let url = format!("sqlite://{}", path.display());
    let (ok, out) = run(passerelle(&url).arg("migrate"));
    assert!(ok, "{out}");
    assert!(path.exists(), "created on first start, folders included");
    let mut conn = SqliteConnection::connect(&url).await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut conn).await.unwrap();
    assert_eq!(mode, "wal");
    let tables: Vec<String> = sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    for t in ["api_keys", "device_logs", "devices", "passes", "registrations"] {
        assert!(tables.iter().any(|n| n == t), "table {t} missing: {tables:?}");
    }
    let (ok, out) = run(passerelle(&url).arg("migrate"));
    assert!(ok, "migrating twice is a no-op: {out}");
}

sync_test!(unknown_database_scheme_is_refused);
fn unknown_database_scheme_is_refused() {
    let (ok, out) = run(passerelle("mysql://localhost/db").arg("migrate"));
    assert!(!ok);
    assert!(out.contains("unknown scheme \"mysql\"") && out.contains("sqlite://"), "{out}");
}

sync_test!(a_sqlite_url_with_a_user_or_password_is_refused);
/// SQLite has no accounts: the URL's user and password would become part of a file name.
fn a_sqlite_url_with_a_user_or_password_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for url in ["sqlite://user:password@/tmp/x.db", "sqlite://user@data/x.db"] {
        let (ok, out) = run(passerelle(url).arg("migrate").current_dir(dir.path()));
        assert!(!ok, "{url}: {out}");
        assert!(out.contains("takes no user or password"), "{out}");
        assert!(!out.contains("password@"), "the URL's secret is not echoed: {out}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no file or folder was created");
}

async_test!(keys_cli_creates_lists_and_revokes);
async fn keys_cli_creates_lists_and_revokes() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("k.db").display());
    let (ok, out) = run(passerelle(&url).args(["keys", "create", "--name", "order system"]));
    assert!(ok, "{out}");
    let key = out.lines().find_map(|l| l.strip_prefix("key:  ")).expect("the key is printed once").to_owned();
    let id = out.lines().find_map(|l| l.strip_prefix("id:   ")).unwrap().to_owned();

    // The key works against a server on the same database.
    let mut config = test_config();
    config.database.url = passerelle::secret::Secret::new(url.clone());
    let app = spawn_app_on_existing(config).await;
    let base = app.base_url.clone();
    let r = reqwest::Client::new().get(format!("{base}/api/v1/passes")).bearer_auth(&key).send().await.unwrap();
    assert_eq!(r.status(), 200);

    let (ok, out) = run(passerelle(&url).args(["keys", "list"]));
    assert!(ok && out.contains(&id) && out.contains("order system") && !out.contains(&key), "{out}");
    let (ok, out) = run(passerelle(&url).args(["keys", "revoke", &id]));
    assert!(ok, "{out}");
    let r = reqwest::Client::new().get(format!("{base}/api/v1/passes")).bearer_auth(&key).send().await.unwrap();
    assert_eq!(r.status(), 401, "revoked from the CLI, refused by the server");
    let (ok, _) = run(passerelle(&url).args(["keys", "revoke", &id]));
    assert!(!ok, "revoking twice fails");
}

async_test!(device_logs_are_stored_and_bounded);
async fn device_logs_are_stored_and_bounded() {
    let mut config = test_config();
    config.http.device_log_keep = 10;
    config.http.device_log_max_lines = 8;
    let app = spawn_app(config).await;
    for batch in 0..3 {
        let logs: Vec<String> = (0..12).map(|i| format!("batch {batch} line {i} {}", "x".repeat(2000))).collect();
        let r = app.client.post(app.url("/v1/log")).json(&json!({"logs": logs})).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    let url = app.database_url.clone();
    let mut conn = SqliteConnection::connect(&url).await.unwrap();
    let rows = sqlx::query("SELECT message FROM device_logs ORDER BY id").fetch_all(&mut conn).await.unwrap();
    assert_eq!(rows.len(), 10, "only the newest PASSERELLE_DEVICE_LOG_KEEP lines stay");
    let last: String = rows.last().unwrap().get("message");
    assert!(
        last.starts_with("batch 2 line 7 "),
        "at most PASSERELLE_DEVICE_LOG_MAX_LINES per request: {}",
        &last[..20]
    );
    assert_eq!(last.chars().count(), 1024, "long lines are cut");
}

/// An upgrade keeps what existing keys could do: HQ keys become `hq_admin`, store keys a
/// till (`store`) of their store; campaign history moves to the audit log.
async fn keys_made_before_roles_keep_what_they_could_do(backend: crate::helpers::Backend) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("db")).unwrap();
    let url = backend.database_url(dir.path()).await;
    let before_roles = 13;
    let old_rows = [
        "INSERT INTO api_keys (id, name, prefix, key_hash, scope, created_at) VALUES \
         ('key_hq', 'hq', 'psr_a', 'h1', 'hq', 1), ('key_till', 'till', 'psr_b', 'h2', 'store:paris-01', 2)",
        "INSERT INTO campaigns (id, name, segment, scope, messages, status, created_by, created_at, updated_at) \
         VALUES ('cmp_old', 'Old', 'points >= 0', 'hq', '{}', 'sent', 'key_hq', 1, 1)",
        "INSERT INTO campaign_events (campaign_id, at, actor, action) VALUES ('cmp_old', 5, 'key_hq (hq)', 'created')",
    ];
    match &backend {
        crate::helpers::Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&format!("{url}?mode=rwc")).await.unwrap();
            passerelle::store::migrations::sqlite().run_to(before_roles, &pool).await.unwrap();
            for sql in old_rows {
                sqlx::query(sql).execute(&pool).await.unwrap();
            }
            pool.close().await;
        }
        crate::helpers::Backend::Postgres(_) => {
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            passerelle::store::migrations::postgres().run_to(before_roles, &pool).await.unwrap();
            for sql in old_rows {
                sqlx::query(sql).execute(&pool).await.unwrap();
            }
            pool.close().await;
        }
    }
    let (ok, out) = run(passerelle(&url).arg("migrate"));
    assert!(ok, "{out}");
    let (ok, out) = run(passerelle(&url).args(["keys", "list"]));
    assert!(ok, "{out}");
    assert!(out.contains("key_hq\tactive\tpsr_a…\thq_admin\t-\thq"), "{out}");
    assert!(out.contains("key_till\tactive\tpsr_b…\tstore\tparis-01\ttill"), "{out}");
    let store = passerelle::app::open_store(&test_config_for(&url)).await.unwrap();
    let query = passerelle::store::AuditQuery { object_id: Some("cmp_old".into()), limit: 10, ..Default::default() };
    let history = store.audit_log(&query).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!((history[0].at, history[0].entry.action.as_str()), (5, "created"));
    assert_eq!(history[0].entry.object_kind, "campaign");
}

fn test_config_for(url: &str) -> passerelle::config::Config {
    let mut config = test_config();
    config.database.url = passerelle::secret::Secret::new(url.to_owned());
    config
}

on_both_backends!(keys_made_before_roles_keep_what_they_could_do);
