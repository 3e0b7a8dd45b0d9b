//! The console overview's charts on SQLite and PostgreSQL: members, sign-ups and wallet cards per
//! day (days in the campaigns' default timezone) and sign-ups per flyer, in the page's tables and
//! in the served SVG charts, against a count of what the test seeded; a store manager's charts
//! count their store only. And the overview in headless Chromium at phone and desktop size.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use reqwest::{Client, StatusCode};
use serde_json::json;
use sqlx::{AssertSqlSafe, Connection};

use crate::browser::{Browser, artifacts};
use crate::campaigns::create_campaign;
use crate::console::{PASSWORD, browser, create_user, sign_in};
use crate::helpers::{Backend, TestApp, add_store, spawn_app_on, test_config};

const DAYS: u32 = 10;
/// No summer time there, and 5:30 from UTC: a day counted in UTC would come out wrong.
const ZONE: &str = "Asia/Kolkata";

/// Runs one statement on the test server's database, whichever it is.
async fn exec(app: &TestApp, sql: String) {
    if app.database_url.starts_with("sqlite") {
        let mut conn = sqlx::SqliteConnection::connect(&app.database_url).await.unwrap();
        sqlx::query(AssertSqlSafe(sql)).execute(&mut conn).await.unwrap();
    } else {
        let mut conn = sqlx::PgConnection::connect(&app.database_url).await.unwrap();
        sqlx::query(AssertSqlSafe(sql)).execute(&mut conn).await.unwrap();
    }
}

async fn text_of(app: &TestApp, sql: String) -> String {
    if app.database_url.starts_with("sqlite") {
        let mut conn = sqlx::SqliteConnection::connect(&app.database_url).await.unwrap();
        sqlx::query_scalar(AssertSqlSafe(sql)).fetch_one(&mut conn).await.unwrap()
    } else {
        let mut conn = sqlx::PgConnection::connect(&app.database_url).await.unwrap();
        sqlx::query_scalar(AssertSqlSafe(sql)).fetch_one(&mut conn).await.unwrap()
    }
}

/// `k` days before today, at `minute` past midnight there (unix milliseconds).
fn at(k: i64, minute: i64) -> i64 {
    let tz = TimeZone::get(ZONE).unwrap();
    let today = Timestamp::now().to_zoned(tz.clone()).date();
    let day = today.checked_sub(jiff::Span::new().days(k)).unwrap();
    day.to_zoned(tz).unwrap().timestamp().as_millisecond() + minute * 60_000
}

fn date_of(ms: i64) -> jiff::civil::Date {
    Timestamp::from_millisecond(ms).unwrap().to_zoned(TimeZone::get(ZONE).unwrap()).date()
}

struct Seeded {
    store: &'static str,
    joined: i64,
    flyer: Option<&'static str>,
    /// When iPhones registered the member's card.
    iphones: Vec<i64>,
    /// When the card was saved to Google Wallet, and whether it still is.
    google: Option<(i64, bool)>,
}

/// Members over a dozen days, some at a day's first or last minutes there.
fn seed() -> Vec<Seeded> {
    let now = Timestamp::now().as_millisecond() - 2_000;
    let m = |store, joined, flyer, iphones, google| Seeded { store, joined, flyer, iphones, google };
    vec![
        m("paris-01", at(12, 60), None, vec![at(11, 30)], None),
        m("paris-01", at(9, 30), Some("PAR-A"), vec![at(8, 10), at(2, 5)], None),
        m("lyon-02", at(9, 1430), Some("LYO-B"), vec![], Some((at(6, 0), true))),
        m("paris-01", at(5, 30), Some("PAR-A"), vec![at(5, 40)], None),
        m("paris-01", at(3, 720), None, vec![], Some((at(3, 20), true))),
        m("lyon-02", at(3, 10), Some("LYO-B"), vec![at(2, 1439)], Some((at(2, 0), false))),
        m("lyon-02", at(1, 1439), Some("LYO-B"), vec![now], None),
        m("paris-01", now, Some("PAR-A"), vec![], Some((now, true))),
    ]
}

/// Each day's [members, sign-ups, on iPhones, in Google Wallet], counted from the seed alone.
fn expected(seeded: &[Seeded], store: Option<&str>) -> Vec<(String, [i64; 4])> {
    let mine: Vec<&Seeded> = seeded.iter().filter(|s| store.is_none_or(|st| s.store == st)).collect();
    let today = date_of(Timestamp::now().as_millisecond());
    (0..DAYS as i64)
        .rev()
        .map(|k| {
            let day = today.checked_sub(jiff::Span::new().days(k)).unwrap();
            let by = |t: i64| date_of(t) <= day;
            let members = mine.iter().filter(|s| by(s.joined)).count() as i64;
            let signups = mine.iter().filter(|s| date_of(s.joined) == day).count() as i64;
            let apple = mine.iter().filter(|s| s.iphones.iter().any(|&t| by(t))).count() as i64;
            let google = mine.iter().filter(|s| s.google.is_some_and(|(t, saved)| saved && by(t))).count() as i64;
            (day.to_string(), [members, signups, apple, google])
        })
        .collect()
}

/// The rows of the page's table for `chart`: (first cell, the figures).
fn table(html: &str, chart: &str) -> Vec<(String, Vec<String>)> {
    let start = html.find(&format!("data-chart=\"{chart}\"")).unwrap_or_else(|| panic!("no {chart} table: {html}"));
    let body = &html[start..start + html[start..].find("</table>").unwrap()];
    body.split("<tr>")
        .skip(2)
        .map(|row| {
            let head = if let Some(at) = row.find("datetime=\"") {
                row[at + 10..at + 20].to_owned()
            } else {
                let at = row.find("class=\"mono\">").unwrap() + 13;
                row[at..at + row[at..].find('<').unwrap()].to_owned()
            };
            // Each figure is a `<td class="num" data-label="…">` (labelled for phones).
            let cells = row
                .split("<td class=\"num\"")
                .skip(1)
                .map(|c| {
                    let c = &c[c.find('>').unwrap() + 1..];
                    c[..c.find('<').unwrap()].to_owned()
                })
                .collect();
            (head, cells)
        })
        .collect()
}

/// A chart as served: its SVG parsed, checked free of style attributes and elements; its `<desc>`.
async fn chart(app: &TestApp, client: &Client, path: &str) -> (String, String) {
    let resp = client.get(app.url(path)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    assert_eq!(resp.headers()["content-type"], "image/svg+xml", "{path}");
    let svg = resp.text().await.unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{path} is not XML: {e}\n{svg}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(root.tag_name().namespace(), Some("http://www.w3.org/2000/svg"));
    for node in doc.descendants().filter(|n| n.is_element()) {
        assert!(node.attribute("style").is_none() && node.tag_name().name() != "style", "{path}: {svg}");
    }
    let desc = doc.descendants().find(|n| n.has_tag_name("desc")).and_then(|n| n.text()).unwrap_or_default();
    (root.attribute("width").unwrap_or_default().to_owned(), desc.to_owned())
}

async fn seed_app(backend: Backend) -> (TestApp, Vec<Seeded>) {
    let mut config = test_config();
    config.campaigns.default_timezone = ZONE.into();
    config.console.chart_days = DAYS;
    let app = spawn_app_on(backend, config).await;
    add_store(&app, "paris-01", "Europe/Paris").await;
    add_store(&app, "lyon-02", "Europe/Paris").await;
    for (code, store) in [("PAR-A", "paris-01"), ("LYO-B", "lyon-02")] {
        exec(&app, format!("INSERT INTO flyers (code, store_id, label, template, created_at) VALUES ('{code}', '{store}', 'Counter', 'loyalty', 0)")).await;
    }
    let seeded = seed();
    for (i, s) in seeded.iter().enumerate() {
        let body = json!({"first_name": "Zoé", "email": format!("z{i}@example.com"), "home_store_id": s.store});
        let resp = app.api(reqwest::Method::POST, "/api/v1/members").json(&body).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
        let id = resp.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
        let flyer = s.flyer.map_or("NULL".to_owned(), |f| format!("'{f}'"));
        exec(&app, format!("UPDATE members SET created_at = {}, source_flyer = {flyer} WHERE id = '{id}'", s.joined))
            .await;
        let serial = text_of(&app, format!("SELECT pass_serial FROM members WHERE id = '{id}'")).await;
        for (n, t) in s.iphones.iter().enumerate() {
            let device = format!("dev-{i}-{n}");
            exec(&app, format!("INSERT INTO devices (device_library_id, push_token, created_at, updated_at) VALUES ('{device}', 'tok', {t}, {t})")).await;
            exec(&app, format!("INSERT INTO registrations (device_library_id, serial_number, created_at) VALUES ('{device}', '{serial}', {t})")).await;
        }
        if let Some((t, saved)) = s.google {
            exec(&app, format!("INSERT INTO google_objects (serial_number, object_id, saved, saved_at, updated_at) VALUES ('{serial}', 'obj-{i}', {saved}, {t}, {t})")).await;
        }
    }
    (app, seeded)
}

/// The overview's tables and charts count each day as the seed says, for head office and for a
/// store manager (their store only); the charts are SVG without style attributes.
async fn the_overview_charts_count_each_day(backend: Backend) {
    let (app, seeded) = seed_app(backend).await;
    create_user(&app, "hq@example.com", "hq_admin", None);
    create_user(&app, "paris@example.com", "store_manager", Some("paris-01"));
    for (email, store) in [("hq@example.com", None), ("paris@example.com", Some("paris-01"))] {
        let client = browser();
        sign_in(&app, &client, email, PASSWORD).await;
        let html = client.get(app.url("/console")).send().await.unwrap().text().await.unwrap();
        let want = expected(&seeded, store);
        assert_eq!(want.iter().map(|d| d.1[0]).max(), Some(if store.is_some() { 5 } else { 8 }), "the seed's figures");
        for (name, columns) in [("members", [0, 1]), ("cards", [2, 3])] {
            let mut got = table(&html, name);
            got.reverse(); // the table shows the latest day first
            let want: Vec<(String, Vec<String>)> =
                want.iter().map(|(day, n)| (day.clone(), columns.map(|c| n[c].to_string()).to_vec())).collect();
            assert_eq!(got, want, "{email}: the {name} table");
        }
        let (width, desc) = chart(&app, &client, "/console/charts/members.svg").await;
        assert_eq!(width, "560");
        for (day, [members, signups, _, _]) in &want {
            assert!(desc.contains(&format!("{day}: {members} / +{signups}")), "{email} {day}: {desc}");
        }
        let (width, desc) = chart(&app, &client, "/console/charts/cards.svg?size=narrow&lang=fr").await;
        assert_eq!(width, "340");
        for (day, [_, _, apple, google]) in &want {
            assert!(desc.contains(&format!("{day}: {apple} / {google}")), "{email} {day}: {desc}");
        }
        assert!(desc.contains("sur iPhone"), "{desc}");
        // Sign-ups per flyer over the period (the member who joined 12 days ago is out of it).
        let flyers = table(&html, "flyers");
        let (_, desc) = chart(&app, &client, "/console/charts/flyers.svg").await;
        if store.is_some() {
            assert_eq!(flyers, [("PAR-A".to_owned(), vec!["paris-01".to_owned(), "3".to_owned()])]);
            assert!(desc.ends_with("PAR-A: 3") && !desc.contains("LYO-B"), "{desc}");
            assert!(!html.contains("href=\"/console/approvals\""), "{html}");
        } else {
            let both = [("LYO-B", "lyon-02"), ("PAR-A", "paris-01")]
                .map(|(code, store)| (code.to_owned(), vec![store.to_owned(), "3".to_owned()]));
            assert_eq!(flyers, both);
            assert!(desc.ends_with("LYO-B: 3; PAR-A: 3"), "{desc}");
            assert!(html.contains("No store campaign waits for a decision."), "{html}");
        }
        let resp = client.get(app.url("/console/charts/secrets.svg")).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    }
    // Signed out, a chart is the sign-in page's business, not the figures'.
    let resp = browser().get(app.url("/console/charts/members.svg")).send().await.unwrap();
    assert!(resp.status().is_redirection(), "{}", resp.status());
}

on_both_backends!(the_overview_charts_count_each_day);

browser_test!(the_overview_renders_in_chromium);
/// The overview with its charts at phone and desktop size (screenshots in
/// `target/test-artifacts/console/`), in English and French.
async fn the_overview_renders_in_chromium() {
    let browser = Browser::start().await;
    let (app, _) = seed_app(Backend::Sqlite).await;
    create_user(&app, "hq@example.com", "hq_admin", None);
    let mut ids = Vec::new();
    for (name, draft) in [("Winter sale: 20% off candles", false), ("Spring preview", true)] {
        let body = json!({"name": name, "segment": "points >= 0", "message": {"en": name, "fr": name}, "draft": draft});
        let resp = create_campaign(&app, crate::helpers::ADMIN, body).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        ids.push(resp.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_owned());
    }
    std::fs::create_dir_all(artifacts().join("console")).unwrap();
    browser.goto(&app.url("/console/login")).await;
    browser.type_into("#email", "hq@example.com").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("button[type=submit]").await;
    let page = browser.wait_for_text("Members and sign-ups per day").await;
    assert!(page.contains("/console/charts/members.svg"), "{page}");
    for id in &ids {
        assert!(page.contains(&format!("/console/campaigns/{id}\"")), "{page}");
    }
    // The page, then its charts and lists scrolled into view (a screenshot shows the window).
    let shoot = |size: &'static str| {
        let (browser, app) = (&browser, &app);
        async move {
            for (anchor, name) in [
                ("", "top"),
                ("#chart-members", "members"),
                ("#chart-cards", "cards"),
                ("#chart-flyers", "flyers"),
                ("#recent-title", "campaigns"),
            ] {
                browser.goto(&app.url(&format!("/console{anchor}"))).await;
                browser.wait_for_text("Sign-ups per flyer").await;
                browser.screenshot(&format!("console/overview-{size}-{name}")).await;
            }
        }
    };
    shoot("phone").await;
    browser.resize(1280, 800).await;
    shoot("desktop").await;
    browser.goto(&app.url("/console?lang=fr#chart-members")).await;
    browser.wait_for_text("Membres et inscriptions par jour").await;
    browser.screenshot("console/overview-desktop-fr").await;
    browser.goto(&app.url("/console?lang=en")).await;
}
