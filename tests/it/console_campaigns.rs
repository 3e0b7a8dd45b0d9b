//! Campaigns in the console, over real HTTP on SQLite and PostgreSQL: a marketer builds
//! `tier = "premium" and points >= 300` with the builder, sees the reach the API previews,
//! confirms and sends, and the mock APNs gets exactly the targeted pushes; a store manager
//! submits a local campaign, head office is mailed, an HQ marketer approves it in the console
//! (a rejection needs a reason, beside the form), and it goes out; a store manager cannot
//! reach approvals nor another store's campaign.

use passerelle::campaigns::holdout::held_out;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::campaigns::{add_store, member, no_quiet_hours, on_iphone, store_of, wait_sent};
use crate::console::{PASSWORD, browser, create_user, hidden, sign_in};
use crate::helpers::{Backend, TestApp, spawn_app_on, wait_until_drained};
use crate::push::{eventually, mock, push_config, token};

async fn page(app: &TestApp, client: &Client, path: &str) -> (StatusCode, String) {
    let resp = client.get(app.url(path)).send().await.unwrap();
    (resp.status(), resp.text().await.unwrap())
}

/// Posts the composer's form; returns the response (a redirect when saved).
async fn post(app: &TestApp, client: &Client, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    client.post(app.url(path)).form(form).send().await.unwrap()
}

fn location(resp: &reqwest::Response) -> String {
    resp.headers()[reqwest::header::LOCATION].to_str().unwrap().to_owned()
}

/// The number shown in the reach panel under `id`.
fn figure(html: &str, id: &str) -> i64 {
    let at = html.find(&format!("id=\"{id}\">")).unwrap_or_else(|| panic!("no {id} in {html}"));
    let rest = &html[at + id.len() + 6..];
    rest[..rest.find('<').unwrap()].parse().unwrap()
}

async fn a_marketer_builds_previews_and_sends(backend: Backend) {
    let apns = mock().await;
    let app = spawn_app_on(backend, no_quiet_hours(push_config(&apns))).await;
    let store = store_of(&app).await;
    add_store(&app, "paris-01", "Europe/Paris").await;
    // Premium with 300+ points and consent: six; premium below 300, or without consent, or gold: not.
    let mut targets = Vec::new();
    let people = [(350, true), (800, true), (320, false), (150, true), (1200, true), (400, true), (500, true)];
    for (i, (points, marketing)) in people.iter().chain(&[(600, true), (700, true)]).enumerate() {
        let (member_id, serial) = member(&app, Some("paris-01"), *points, *marketing, "en", json!({})).await;
        on_iphone(&app, store.as_ref(), &serial, &format!("device-{i}"), &token(i + 1)).await;
        if *marketing && (300..1000).contains(points) {
            targets.push((member_id, token(i + 1)));
        }
    }
    create_user(&app, "mkt@example.com", "hq_marketer", None);
    let client = browser();
    sign_in(&app, &client, "mkt@example.com", PASSWORD).await;
    let (status, html) = page(&app, &client, "/console/campaigns/new").await;
    assert_eq!(status, StatusCode::OK);
    let csrf = hidden(&html, "csrf");
    let form = [
        ("csrf", csrf.as_str()),
        ("rows", "3"),
        ("name", "Premium evening"),
        ("scope", "hq"),
        ("field0", "tier"),
        ("op0", "="),
        ("value0", "premium"),
        ("field1", "points"),
        ("op1", ">="),
        ("value1", "300"),
        ("message_en", "Private sale tonight"),
        ("priority", "normal"),
        ("holdout_percent", "50"),
        ("conversion_days", "7"),
        ("action", "save"),
    ];
    let resp = post(&app, &client, "/console/campaigns/new", &form).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let path = location(&resp);
    let (status, html) = page(&app, &client, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("tier = &quot;premium&quot; and points &gt;= 300"), "the builder wrote the segment: {html}");
    // The reach shown is the API's preview of the same segment.
    let preview: Value = app
        .api(Method::POST, "/api/v1/segments/preview")
        .json(&json!({"segment": r#"tier = "premium" and points >= 300"#}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(figure(&html, "reach-matching"), preview["matching"].as_i64().unwrap());
    assert_eq!(figure(&html, "reach-members"), preview["members"].as_i64().unwrap());
    assert_eq!(figure(&html, "reach-matching"), 7, "the member without consent matches, but is not reached");
    assert_eq!(figure(&html, "reach-passes"), 6);
    assert_eq!(figure(&html, "reach-holdout"), 3, "half of six held out to measure");
    assert_eq!(figure(&html, "reach-apple"), preview["apple_devices"].as_i64().unwrap());
    assert!(html.contains("Private sale tonight"), "the lock-screen preview");
    // Nothing goes out before the confirmation, which repeats the reach.
    let (_, confirm) = page(&app, &client, &format!("{path}/confirm")).await;
    assert!(confirm.contains("id=\"confirm-passes\">6<"), "{confirm}");
    assert!(confirm.contains("id=\"confirm-holdout\"") && confirm.contains("<strong>3</strong>"), "{confirm}");
    assert_eq!(apns.received_count(), 0);
    let resp = post(&app, &client, &format!("{path}/submit"), &[("csrf", csrf.as_str())]).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let id = path.rsplit('/').next().unwrap();
    let s = wait_sent(&app, id).await;
    // The holders drawn into the holdout are counted out of the sends and the pushes.
    let (held, treated): (Vec<_>, Vec<_>) = targets.iter().partition(|(m, _)| held_out(id, m, 50));
    assert_eq!(
        (s["sent"].as_u64(), s["holdout"].as_u64()),
        (Some(treated.len() as u64), Some(held.len() as u64)),
        "{s}"
    );
    eventually("the treated holders' pushes", async || apns.received_count() >= treated.len()).await;
    wait_until_drained(&app, passerelle::store::JobKind::Push).await;
    let mut pushed: Vec<String> = apns.received().into_iter().map(|r| r.token).collect();
    pushed.sort();
    let mut expected: Vec<String> = treated.iter().map(|(_, t)| t.clone()).collect();
    expected.sort();
    assert_eq!(pushed, expected, "exactly the treated holders' devices");
    let (_, html) = page(&app, &client, &path).await;
    assert!(html.contains(&format!("data-key=\"sent\">{}<", treated.len())) && html.contains(">submitted<"), "{html}");
    assert!(html.contains(&format!("data-key=\"holdout\">{}<", held.len())), "{html}");
    assert!(html.contains("id=\"results\"") && html.contains("Purchases still counted until"), "{html}");
    // Errors come back beside the field, and the form without its token is refused.
    let form =
        [("csrf", csrf.as_str()), ("name", ""), ("segment", "points >="), ("message_en", "x"), ("action", "save")];
    let resp = post(&app, &client, "/console/campaigns/new", &form).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let form = [("name", "x"), ("segment", "points > 1"), ("message_en", "x"), ("action", "save")];
    assert_eq!(post(&app, &client, "/console/campaigns/new", &form).await.status(), StatusCode::FORBIDDEN);
}

async fn a_store_campaign_is_approved_in_the_console(backend: Backend) {
    let apns = mock().await;
    let app = spawn_app_on(backend, no_quiet_hours(push_config(&apns))).await;
    let store = store_of(&app).await;
    add_store(&app, "paris-01", "Europe/Paris").await;
    add_store(&app, "lyon-02", "Europe/Paris").await;
    let (_, paris) = member(&app, Some("paris-01"), 10, true, "fr", json!({})).await;
    let (_, lyon) = member(&app, Some("lyon-02"), 10, true, "fr", json!({})).await;
    on_iphone(&app, store.as_ref(), &paris, "device-paris", &token(1)).await;
    on_iphone(&app, store.as_ref(), &lyon, "device-lyon", &token(2)).await;
    create_user(&app, "paris@example.com", "store_manager", Some("paris-01"));
    create_user(&app, "lyon@example.com", "store_manager", Some("lyon-02"));
    create_user(&app, "hq@example.com", "hq_marketer", None);

    let manager = browser();
    sign_in(&app, &manager, "paris@example.com", PASSWORD).await;
    assert_eq!(page(&app, &manager, "/console/approvals").await.0, StatusCode::FORBIDDEN);
    let (_, html) = page(&app, &manager, "/console/campaigns/new").await;
    assert!(!html.contains("id=\"scope\""), "a store manager's audience is its store");
    let csrf = hidden(&html, "csrf");
    let form = [
        ("csrf", csrf.as_str()),
        ("name", "Tasting"),
        ("segment", "points >= 0"),
        ("message_fr", "Dégustation samedi"),
        ("action", "send"),
    ];
    let resp = post(&app, &manager, "/console/campaigns/new", &form).await;
    let confirm = location(&resp);
    assert!(confirm.ends_with("/confirm"), "{confirm}");
    let (_, html) = page(&app, &manager, &confirm).await;
    assert!(html.contains("Submit for approval") && html.contains("id=\"confirm-passes\">1<"), "{html}");
    let campaign = confirm.trim_end_matches("/confirm").to_owned();
    post(&app, &manager, &format!("{campaign}/submit"), &[("csrf", csrf.as_str())]).await;
    let id = campaign.rsplit('/').next().unwrap().to_owned();
    // Another store's manager does not see it.
    let lyon_manager = browser();
    sign_in(&app, &lyon_manager, "lyon@example.com", PASSWORD).await;
    assert_eq!(page(&app, &lyon_manager, &campaign).await.0, StatusCode::NOT_FOUND);

    // Head office is mailed, sees the count on every page, and decides.
    let mail = wait_for_mail(&app, "hq@example.com").await;
    assert!(mail.contains("Tasting") && mail.contains("/console/approvals"), "{mail}");
    let hq = browser();
    sign_in(&app, &hq, "hq@example.com", PASSWORD).await;
    let (_, html) = page(&app, &hq, "/console/members").await;
    assert!(html.contains("class=\"count\""), "the waiting count on every page: {html}");
    let (_, html) = page(&app, &hq, "/console/approvals").await;
    assert!(html.contains("Tasting") && html.contains("Dégustation samedi"), "{html}");
    let hq_csrf = hidden(&html, "csrf");
    let decide = format!("/console/approvals/{id}");
    let resp = post(&app, &hq, &decide, &[("csrf", hq_csrf.as_str()), ("decision", "reject"), ("reason", "")]).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(resp.text().await.unwrap().contains(&format!("id=\"error-{id}\"")), "the reason is asked beside the form");
    let resp = post(&app, &hq, &decide, &[("csrf", hq_csrf.as_str()), ("decision", "approve"), ("reason", "")]).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let s = wait_sent(&app, &id).await;
    assert_eq!(s["sent"], 1, "the Paris holder only: {s}");
    eventually("a push", async || apns.received_count() >= 1).await;
    let pushed: Vec<String> = apns.received().into_iter().map(|r| r.token).collect();
    assert_eq!(pushed, [token(1)]);
}

/// The e-mail written for `to` (tests write mail to a folder), waiting for the mail queue.
pub async fn wait_for_mail(app: &TestApp, to: &str) -> String {
    for _ in 0..100 {
        for entry in std::fs::read_dir(&app.mail_dir).into_iter().flatten().flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            if text.contains(&format!("To: {to}")) {
                return text;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no mail to {to}");
}

on_both_backends!(a_marketer_builds_previews_and_sends);
on_both_backends!(a_store_campaign_is_approved_in_the_console);

browser_test!(campaigns_in_chromium);
/// The same two flows in headless Chromium, clicking as a marketer and a store manager do: the
/// builder's rows, the confirmation repeating the API's reach, sending, submitting, approving.
async fn campaigns_in_chromium() {
    use crate::browser::Browser;
    use crate::console_browser::sign_in_as;
    let apns = mock().await;
    let app = crate::helpers::spawn_app(no_quiet_hours(push_config(&apns))).await;
    let store = store_of(&app).await;
    add_store(&app, "paris-01", "Europe/Paris").await;
    add_store(&app, "lyon-02", "Europe/Paris").await;
    let mut targets = Vec::new();
    for (i, (points, marketing, home)) in
        [(350, true, "paris-01"), (800, true, "lyon-02"), (320, false, "paris-01"), (150, true, "paris-01")]
            .iter()
            .enumerate()
    {
        let (member_id, serial) = member(&app, Some(home), *points, *marketing, "en", json!({})).await;
        on_iphone(&app, store.as_ref(), &serial, &format!("device-{i}"), &token(i + 1)).await;
        if *marketing && *points >= 300 {
            targets.push((member_id, token(i + 1)));
        }
    }
    let (lyon_member, _) = member(&app, Some("lyon-02"), 0, false, "fr", json!({})).await;
    create_user(&app, "mkt@example.com", "hq_marketer", None);
    create_user(&app, "paris@example.com", "store_manager", Some("paris-01"));
    let browser = Browser::start().await;

    // The marketer builds `tier = "premium" and points >= 300` with the rows.
    sign_in_as(&browser, &app, "mkt@example.com").await;
    browser.goto(&app.url("/console/campaigns/new")).await;
    browser.type_into("#name", "Premium evening").await;
    let choose = "document.querySelector(arguments[0]).value = arguments[1];";
    for (css, value) in [("#field0", "tier"), ("#op0", "="), ("#field1", "points"), ("#op1", ">=")] {
        browser.execute(choose, vec![json!(css), json!(value)]).await;
    }
    browser.type_into("#value0", "premium").await;
    browser.type_into("#value1", "300").await;
    browser.type_into("#message_en", "Private sale tonight").await;
    browser.click("button[value=send]").await;
    let page = browser.wait_for_text("id=\"confirm-passes\"").await;
    let preview: Value = app
        .api(Method::POST, "/api/v1/segments/preview")
        .json(&json!({"segment": r#"tier = "premium" and points >= 300"#}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shown = figure(&page.replace("confirm-passes", "reach-passes"), "reach-passes");
    assert_eq!(shown, preview["passes"].as_i64().unwrap(), "the confirmation repeats the API's reach");
    assert_eq!(apns.received_count(), 0, "nothing before the confirmation");
    browser.click("form.actions button.primary").await;
    browser.wait_for_text("data-key=\"sent\"").await;
    let id = browser.path().await.rsplit('/').next().unwrap().to_owned();
    wait_sent(&app, &id).await;
    // The composer proposes a holdout: the holders it draws get nothing.
    let sent: Value =
        app.api(Method::GET, &format!("/api/v1/campaigns/{id}")).send().await.unwrap().json().await.unwrap();
    let percent = u8::try_from(sent["holdout_percent"].as_u64().unwrap()).unwrap();
    let mut treated: Vec<String> =
        targets.iter().filter(|(m, _)| !held_out(&id, m, percent)).map(|(_, t)| t.clone()).collect();
    eventually("the targeted pushes", async || apns.received_count() >= treated.len()).await;
    let mut pushed: Vec<String> = apns.received().into_iter().map(|r| r.token).collect();
    pushed.sort();
    treated.sort();
    assert_eq!(pushed, treated, "exactly the treated holders' devices");

    // A store manager submits a local campaign; approvals and another store's member are not theirs.
    sign_in_as(&browser, &app, "paris@example.com").await;
    browser.goto(&app.url("/console/campaigns/new")).await;
    browser.type_into("#name", "Tasting").await;
    browser.type_into("#segment", "points >= 0").await;
    browser.type_into("#message_fr", "Dégustation samedi").await;
    browser.click("button[value=send]").await;
    browser.wait_for_text("Submit for approval").await;
    browser.click("form.actions button.primary").await;
    browser.wait_for_text("Waiting for approval").await;
    let local = browser.path().await.rsplit('/').next().unwrap().to_owned();
    browser.goto(&app.url("/console/approvals")).await;
    assert!(browser.source().await.contains("Your role does not allow this."));
    browser.goto(&app.url(&format!("/console/members/{lyon_member}"))).await;
    assert!(browser.source().await.contains("There is no such page"));

    // Head office approves it in the console; it goes to the Paris holders with consent.
    sign_in_as(&browser, &app, "mkt@example.com").await;
    browser.goto(&app.url("/console/approvals")).await;
    browser.wait_for_text("Tasting").await;
    browser.screenshot("console/flow-approvals").await;
    let before = apns.received_count();
    browser.click(&format!("form[action=\"/console/approvals/{local}\"] button[value=approve]")).await;
    browser.wait_for_text("Nothing waits for approval.").await;
    let s = wait_sent(&app, &local).await;
    assert_eq!(s["sent"], 2, "Paris's consenting holders: {s}");
    eventually("the local pushes", async || apns.received_count() >= before + 2).await;
}
