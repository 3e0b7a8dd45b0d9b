//! Segment filters compiled to SQL and run against real rows, on SQLite and PostgreSQL: each
//! segment selects exactly the expected members, and hostile values match nothing. (Moved here
//! from a unit test in `src/campaigns/segment/` so the PostgreSQL half is a runner test that
//! shows as ignored without PostgreSQL, like the others.)

use passerelle::campaigns::segment::{Dialect, parse};
use passerelle::store::postgres::bind_segment_scalar as bind_postgres_scalar;
use passerelle::store::sqlite::{bind_segment as bind_sqlite, bind_segment_scalar as bind_sqlite_scalar};
use sqlx::{AssertSqlSafe, Connection, Executor};

const NOW: i64 = 1_800_000_000_000;
const DAY: i64 = 86_400_000;

/// (segment, expected member ids in order)
const CASES: &[(&str, &[&str])] = &[
    (r#"tier = "premium""#, &["m1", "m2", "m6"]),
    (r#"tier = "premium" and points >= 300"#, &["m1", "m6"]),
    (r#"store in ("paris-01", "lyon-02")"#, &["m1", "m2", "m3", "m5"]),
    (r#"store not in ("paris-01")"#, &["m2", "m3", "m6"]),
    (r#"not (store in ("paris-01"))"#, &["m2", "m3", "m4", "m6"]),
    (r#"store != "paris-01""#, &["m2", "m3", "m6"]),
    ("installed = true", &["m1", "m2", "m5"]),
    ("installed = false", &["m3", "m4", "m6"]),
    ("installed != true", &["m3", "m4", "m6"]),
    (r#"platform = "apple""#, &["m1", "m5"]),
    (r#"platform = "google""#, &["m2", "m5"]),
    (r#"platform != "apple""#, &["m2", "m3", "m4", "m6"]),
    (r#"platform in ("apple", "google")"#, &["m1", "m2", "m5"]),
    (r#"platform not in ("apple")"#, &["m2", "m3", "m4", "m6"]),
    ("last_purchase_at < now - 90d", &["m2", "m6"]),
    ("not (last_purchase_at < now - 90d)", &["m1", "m3", "m4", "m5"]),
    ("last_purchase_at < now - 90d or not (attributes.vip = true)", &["m2", "m3", "m4", "m6"]),
    ("last_purchase_at >= now - 2w", &["m1"]),
    ("attributes.age >= 34", &["m1", "m5"]),
    (r#"attributes.age = "34""#, &["m2"]),
    ("attributes.age > 50.5", &["m5"]),
    ("attributes.age in (34, 35)", &["m1"]),
    ("attributes.age not in (34)", &["m5"]),
    ("attributes.vip != true", &["m2"]),
    ("attributes.vip = true", &["m1", "m5"]),
    (r#"attributes.city = "Paris""#, &["m1"]),
    (r#"attributes.tags = 1"#, &[]),
    ("email_verified = true and phone_verified = false", &["m1", "m5"]),
    ("phone_verified != false", &["m2", "m3"]),
    ("joined_at > now - 31d", &["m3", "m5", "m6"]),
    (r#"joined_at < "2025-01-01""#, &["m4"]),
    (r#"joined_at < "2026-01-01T00:00:00Z""#, &["m1", "m4"]),
    (r#"language = "fr" AND source_channel = "qr""#, &["m1", "m3"]),
    (r#"source_flyer = "flyer-a""#, &["m1", "m5"]),
    (r#"source_store = "lyon-02""#, &["m3"]),
    ("points in (0, 1000)", &["m4", "m5"]),
    ("points != 300", &["m1", "m2", "m4", "m5"]),
    ("points < 250.5", &["m2", "m4"]),
    (r#"tier = "premium" AND NOT installed = TRUE"#, &["m6"]),
    (r#"(tier = "basic" or tier = "gold") and not (points > 500 or store = "lyon-02")"#, &["m4"]),
    // Hostile values must match nothing and leave the table alone.
    (r#"tier = "x' OR 1=1 --""#, &[]),
    (r#"attributes.a = "\"); DROP TABLE members; --""#, &[]),
    (r#"store in ("a'); DELETE FROM members; --")"#, &[]),
    (r#"not (tier = "x' OR 1=1 --")"#, &["m1", "m2", "m3", "m4", "m5", "m6"]),
];

/// Rows shared by both databases; `{T}`/`{F}` are the dialect's booleans and `{BAD}` an attributes value
/// that is not a JSON object.
fn seed_sql(bad_json: &str) -> Vec<String> {
    let at = |days: i64| NOW - days * DAY;
    vec![
        "INSERT INTO passes (serial_number) VALUES ('s1'), ('s2'), ('s3'), ('s5'), ('s6')".to_string(),
        "INSERT INTO registrations (device_library_id, serial_number) VALUES ('d1', 's1'), ('d5', 's5')".to_string(),
        "INSERT INTO google_objects (serial_number, saved) VALUES ('s2', TRUE), ('s3', FALSE), ('s5', TRUE)"
            .to_string(),
        format!(
            "INSERT INTO receipts (member_id, issued_at) VALUES ('m1', {}), ('m2', {}), ('m4', {}), ('m4', {}), \
             ('m6', {})",
            at(10),
            at(200),
            at(95),
            at(50),
            at(91)
        ),
        format!(
            "INSERT INTO members (id, tier, points, home_store_id, language, source_flyer, source_store, \
             source_channel, email_verified, phone_verified, created_at, attributes, pass_serial) VALUES \
             ('m1', 'premium', 500, 'paris-01', 'fr', 'flyer-a', 'paris-01', 'qr', TRUE, FALSE, {}, \
              '{{\"vip\": true, \"age\": 34, \"city\": \"Paris\"}}', 's1'), \
             ('m2', 'premium', 200, 'lyon-02', 'en', NULL, NULL, 'web', FALSE, TRUE, {}, \
              '{{\"vip\": false, \"age\": \"34\"}}', 's2'), \
             ('m3', 'basic', 300, 'lyon-02', 'fr', 'flyer-b', 'lyon-02', 'qr', TRUE, TRUE, {}, '{{}}', 's3'), \
             ('m4', 'basic', 0, NULL, NULL, NULL, NULL, NULL, FALSE, FALSE, {}, '{bad_json}', NULL), \
             ('m5', 'gold', 1000, 'paris-01', 'de', 'flyer-a', 'paris-01', 'till', TRUE, FALSE, {}, \
              '{{\"vip\": true, \"age\": 70.5, \"tags\": [1]}}', 's5'), \
             ('m6', 'premium', 300, 'marseille-03', 'fr', NULL, NULL, NULL, FALSE, FALSE, {}, NULL, 's6')",
            at(400),
            at(100),
            at(5),
            at(1000),
            at(30),
            at(2)
        ),
    ]
}

fn query_for(dialect: Dialect, fragment: &str) -> String {
    // A leading parameter checks that `first_param` numbering composes with the caller's own.
    format!(
        "SELECT m.id FROM members m LEFT JOIN passes p ON p.serial_number = m.pass_serial \
         WHERE m.id <> {} AND {fragment} ORDER BY m.id",
        if dialect == Dialect::Postgres { "$1" } else { "?1" }
    )
}

async_test!(segments_select_the_right_members_on_sqlite);
async fn segments_select_the_right_members_on_sqlite() {
    let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:").await.unwrap();
    conn.execute(
        "CREATE TABLE members (id TEXT, tier TEXT, points INTEGER, home_store_id TEXT, language TEXT, \
         source_flyer TEXT, source_store TEXT, source_channel TEXT, email_verified INTEGER, \
         phone_verified INTEGER, created_at INTEGER, attributes TEXT, pass_serial TEXT); \
         CREATE TABLE passes (serial_number TEXT); \
         CREATE TABLE registrations (device_library_id TEXT, serial_number TEXT); \
         CREATE TABLE google_objects (serial_number TEXT, saved INTEGER); \
         CREATE TABLE receipts (member_id TEXT, issued_at INTEGER, kind TEXT NOT NULL DEFAULT 'sale');",
    )
    .await
    .unwrap();
    for statement in seed_sql("not json at all") {
        conn.execute(AssertSqlSafe(statement)).await.unwrap();
    }

    for (input, expected) in CASES {
        let filter = parse(input).unwrap().to_sql(Dialect::Sqlite, NOW, "EUR", 2);
        let query =
            sqlx::query_scalar::<_, String>(AssertSqlSafe(query_for(Dialect::Sqlite, &filter.sql))).bind("nobody");
        let ids = bind_sqlite_scalar(query, &filter.params)
            .fetch_all(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{input}: {e}\n{}", filter.sql));
        assert_eq!(&ids, expected, "{input}\n{}", filter.sql);
    }

    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM members").fetch_one(&mut conn).await.unwrap();
    assert_eq!(count, 6);

    // The plain `Query` binder behaves the same.
    let filter = parse(r#"email_verified = true"#).unwrap().to_sql(Dialect::Sqlite, NOW, "EUR", 1);
    let sql = format!(
        "SELECT COUNT(*) AS n FROM members m LEFT JOIN passes p ON p.serial_number = m.pass_serial WHERE {}",
        filter.sql
    );
    let row = bind_sqlite(sqlx::query(AssertSqlSafe(sql)), &filter.params).fetch_one(&mut conn).await.unwrap();
    let n: i64 = sqlx::Row::get(&row, "n");
    assert_eq!(n, 3);
}

postgres_test!(segments_select_the_right_members_on_postgres);
async fn segments_select_the_right_members_on_postgres(url: String) {
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let schema = format!("seg_test_{}_{}", std::process::id(), nanos % 1_000_000_000);
    conn.execute(AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).await.unwrap();
    let outcome = run_postgres_cases(&mut conn, &schema).await;
    conn.execute(AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).await.unwrap();
    if let Err(message) = outcome {
        panic!("{message}");
    }
}

async fn run_postgres_cases(conn: &mut sqlx::PgConnection, schema: &str) -> Result<(), String> {
    conn.execute(AssertSqlSafe(format!("SET search_path TO {schema}"))).await.map_err(|e| e.to_string())?;
    conn.execute(
        "CREATE TABLE members (id TEXT, tier TEXT, points BIGINT, home_store_id TEXT, language TEXT, \
         source_flyer TEXT, source_store TEXT, source_channel TEXT, email_verified BOOLEAN, \
         phone_verified BOOLEAN, created_at BIGINT, attributes JSONB, pass_serial TEXT); \
         CREATE TABLE passes (serial_number TEXT); \
         CREATE TABLE registrations (device_library_id TEXT, serial_number TEXT); \
         CREATE TABLE google_objects (serial_number TEXT, saved BOOLEAN); \
         CREATE TABLE receipts (member_id TEXT, issued_at BIGINT, kind TEXT NOT NULL DEFAULT 'sale');",
    )
    .await
    .map_err(|e| e.to_string())?;
    // JSONB rejects malformed text, so the odd row holds a JSON array instead of an object.
    for statement in seed_sql("[1, 2]") {
        conn.execute(AssertSqlSafe(statement)).await.map_err(|e| e.to_string())?;
    }
    let mut failures = Vec::new();
    for (input, expected) in CASES {
        let filter = parse(input).unwrap().to_sql(Dialect::Postgres, NOW, "EUR", 2);
        let query =
            sqlx::query_scalar::<_, String>(AssertSqlSafe(query_for(Dialect::Postgres, &filter.sql))).bind("nobody");
        match bind_postgres_scalar(query, &filter.params).fetch_all(&mut *conn).await {
            Ok(ids) if ids == *expected => {}
            Ok(ids) => failures.push(format!("{input}: got {ids:?}, expected {expected:?}\n{}", filter.sql)),
            Err(e) => failures.push(format!("{input}: {e}\n{}", filter.sql)),
        }
    }
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM members").fetch_one(&mut *conn).await.map_err(|e| e.to_string())?;
    if count != 6 {
        failures.push(format!("members table has {count} rows after the hostile segments"));
    }
    if failures.is_empty() { Ok(()) } else { Err(failures.join("\n\n")) }
}
