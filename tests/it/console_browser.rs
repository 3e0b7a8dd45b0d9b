//! The console in headless Chromium: every page audited (see `page_audit.rs`) at phone and
//! desktop size in English and French, with screenshots in `target/test-artifacts/console/`;
//! and the flows that exist: signing in with the form, a signed-out visitor sent to sign in and
//! back, a form posted without its CSRF token, the points adjustment and its errors.

use std::time::Instant;

use reqwest::Method;
use serde_json::{Value, json};

use crate::browser::Browser;
use crate::console::create_user;
use crate::helpers::{TestApp, assert_valid_pass, spawn_app};
use crate::page_audit::{self, DESKTOP, PHONE, Size};

const PASSWORD: &str = "correct horse battery staple";

/// Who looks at a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    SignedOut,
    HqAdmin,
    StoreManager,
}

impl Who {
    fn email(self) -> Option<&'static str> {
        match self {
            Who::SignedOut => None,
            Who::HqAdmin => Some("admin@example.com"),
            Who::StoreManager => Some("paris@example.com"),
        }
    }
}

/// An audited page: its screenshots' name, its path (`{paris_member}` and `{lyon_member}` stand
/// for seeded members' ids), who looks at it and the status it answers with.
struct AuditedPage {
    name: &'static str,
    path: &'static str,
    who: Who,
    status: u64,
}

const fn page(name: &'static str, path: &'static str, who: Who) -> AuditedPage {
    AuditedPage { name, path, who, status: 200 }
}

/// Every console page: a page added to the console is one line here.
const PAGES: &[AuditedPage] = &[
    page("login", "/console/login", Who::SignedOut),
    page("overview-hq", "/console", Who::HqAdmin),
    page("members", "/console/members", Who::HqAdmin),
    page("campaigns", "/console/campaigns", Who::HqAdmin),
    page("campaign-new", "/console/campaigns/new", Who::HqAdmin),
    page("campaign-draft", "/console/campaigns/{draft}", Who::HqAdmin),
    page("campaign-confirm", "/console/campaigns/{draft}/confirm", Who::HqAdmin),
    page("campaign-waiting", "/console/campaigns/{store_campaign}", Who::HqAdmin),
    page("approvals", "/console/approvals", Who::HqAdmin),
    page("stores", "/console/stores", Who::HqAdmin),
    page("flyers", "/console/flyers", Who::HqAdmin),
    page("flyer", "/console/flyers/{flyer}", Who::HqAdmin),
    page("templates", "/console/templates", Who::HqAdmin),
    page("audit", "/console/audit", Who::HqAdmin),
    page("account", "/console/account", Who::HqAdmin),
    page("campaigns-store", "/console/campaigns", Who::StoreManager),
    page("campaign-new-store", "/console/campaigns/new", Who::StoreManager),
    page("members-search", "/console/members?q=martin", Who::HqAdmin),
    page("member", "/console/members/{paris_member}", Who::HqAdmin),
    page("operations", "/console/operations", Who::HqAdmin),
    page("overview-store", "/console", Who::StoreManager),
    page("members-store", "/console/members", Who::StoreManager),
    page("member-store", "/console/members/{paris_member}", Who::StoreManager),
    AuditedPage {
        name: "error-other-store",
        path: "/console/members/{lyon_member}",
        who: Who::StoreManager,
        status: 404,
    },
];

/// What the seeded console holds, for the pages' paths.
struct Seeded {
    paris_member: String,
    lyon_member: String,
    draft: String,
    store_campaign: String,
    flyer: String,
}

impl Seeded {
    fn path(&self, path: &str) -> String {
        path.replace("{paris_member}", &self.paris_member)
            .replace("{lyon_member}", &self.lyon_member)
            .replace("{draft}", &self.draft)
            .replace("{store_campaign}", &self.store_campaign)
            .replace("{flyer}", &self.flyer)
    }
}

async fn api(app: &TestApp, method: Method, path: &str, body: Value) -> Value {
    let resp = app.api(method, path).json(&body).send().await.unwrap();
    let status = resp.status();
    let out: Value = resp.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{path}: {status} {out}");
    out
}

/// A console with real content: two stores, members with points, a ledger and a receipt, an
/// iPhone holding a card, API keys, users of each role and a dead push job.
async fn seed(app: &TestApp, apns: &passerelle::testkit::mock_apns::MockApns) -> Seeded {
    for (id, name, lat, lon) in
        [("paris-01", "Paris Rivoli", 48.8606, 2.3522), ("lyon-02", "Lyon Part-Dieu", 45.7606, 4.8594)]
    {
        let store = json!({"id": id, "name": name, "latitude": lat, "longitude": lon, "timezone": "Europe/Paris"});
        api(app, Method::POST, "/api/v1/stores", store).await;
    }
    let mut ids = Vec::new();
    for (i, (first, last, email, store)) in [
        ("Zoé", "Martin", "zoe.martin@example.fr", "paris-01"),
        ("Léa", "Zola", "lea.zola@example.fr", "lyon-02"),
        ("Hugo", "Petit", "hugo.petit@example.fr", "paris-01"),
        ("Camille", "Martin-Durand", "camille.martin-durand@example.fr", "paris-01"),
        ("Inès", "Bernard", "ines.bernard@example.fr", "lyon-02"),
    ]
    .into_iter()
    .enumerate()
    {
        let body = json!({"first_name": first, "last_name": last, "email": email, "home_store_id": store,
            "language": "fr", "phone": format!("+336123456{i:02}"),
            "consent": {"terms": true, "marketing": i % 2 == 0, "version": "2026-01"}});
        let member = api(app, Method::POST, "/api/v1/members", body).await;
        ids.push(member);
    }
    let zoe = &ids[0];
    let zoe_id = zoe["id"].as_str().unwrap();
    let card = zoe["card_number"].as_str().unwrap();
    for (delta, reason) in [(120, "Welcome bonus"), (-20, "Gift wrapping")] {
        let path = format!("/api/v1/members/{zoe_id}/points");
        api(app, Method::POST, &path, json!({"delta": delta, "reason": reason, "store_id": "paris-01"})).await;
    }
    let receipt = json!({
        "store_id": "paris-01", "issued_at": "2026-11-22T17:10:00+01:00", "receipt_number": "R-2026-000184",
        "lines": [{"sku": "SKU-1", "label": "Linen lampshade", "quantity": 1, "unit_price": 2598, "total": 2598}],
        "totals": {"subtotal": 2598, "tax": 520, "total": 3118, "currency": "EUR"},
        "payment": {"method": "visa", "last4": "4242"}, "customer": {"card_number": card},
    });
    api(app, Method::POST, "/api/v1/receipts", receipt).await;
    for (name, role, store) in [("Till 1, Rivoli", "store", Some("paris-01")), ("CRM export", "hq_marketer", None)] {
        api(app, Method::POST, "/api/v1/keys", json!({"name": name, "role": role, "store_id": store})).await;
    }
    create_user(app, "admin@example.com", "hq_admin", None);
    create_user(app, "marketing@example.com", "hq_marketer", None);
    create_user(app, "paris@example.com", "store_manager", Some("paris-01"));

    // Zoé's card on an iPhone whose pushes fail: a dead job for the operations page.
    let pkpass = app.client.get(zoe["pass"]["apple_pass_url"].as_str().unwrap()).send().await.unwrap();
    let pass = assert_valid_pass(&pkpass.bytes().await.unwrap()).json("pass.json");
    let held = crate::web_service::Held {
        serial: pass["serialNumber"].as_str().unwrap().into(),
        token: pass["authenticationToken"].as_str().unwrap().into(),
        pass_type: pass["passTypeIdentifier"].as_str().unwrap().into(),
        web_service_url: pass["webServiceURL"].as_str().unwrap().into(),
    };
    let push_token = crate::push::token(7);
    crate::push::register_as(app, &held, "zoe-iphone", &push_token).await;
    apns.answer_token(&push_token, 500, "InternalServerError");
    let path = format!("/api/v1/members/{zoe_id}/points");
    api(app, Method::POST, &path, json!({"delta": 15, "reason": "Birthday"})).await;
    let dead = async || api(app, Method::GET, "/api/v1/push/dead", Value::Null).await;
    crate::push::eventually("a dead push job", async || !dead().await["items"].as_array().unwrap().is_empty()).await;

    // Campaigns: head office's draft, and a store's waiting for approval; a flyer.
    let draft = json!({"name": "Premium evening", "segment": "tier = \"premium\" and points >= 300", "draft": true,
        "message": {"en": "Private sale tonight, 6-9 pm", "fr": "Vente privée ce soir, 18 h-21 h"}});
    let draft = api(app, Method::POST, "/api/v1/campaigns", draft).await["id"].as_str().unwrap().to_owned();
    let manager =
        api(app, Method::POST, "/api/v1/keys", json!({"role": "store_manager", "store_id": "paris-01"})).await;
    let local = json!({"name": "Tasting on Saturday", "segment": "points >= 0", "message": {"fr": "Dégustation samedi à Rivoli"}});
    let resp = app
        .client
        .post(app.url("/api/v1/campaigns"))
        .bearer_auth(manager["key"].as_str().unwrap())
        .json(&local)
        .send()
        .await
        .unwrap();
    let store_campaign = resp.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let flyer =
        api(app, Method::POST, "/api/v1/flyers", json!({"store_id": "paris-01", "label": "Window, rue de Rivoli"}))
            .await;

    Seeded {
        paris_member: zoe_id.to_owned(),
        lyon_member: ids[1]["id"].as_str().unwrap().to_owned(),
        draft,
        store_campaign,
        flyer: flyer["code"].as_str().unwrap().to_owned(),
    }
}

/// A server with the seeded console (pushing to a mock APNs that fails one device).
async fn seeded_app() -> (TestApp, passerelle::testkit::mock_apns::MockApns, Seeded) {
    let apns = crate::push::mock().await;
    let mut config = crate::push::push_config(&apns);
    config.jobs.max_attempts = 2;
    let app = spawn_app(config).await;
    let seeded = seed(&app, &apns).await;
    (app, apns, seeded)
}

/// Signs in with the console's form (after signing out whoever was).
pub async fn sign_in_as(browser: &Browser, app: &TestApp, email: &str) {
    browser.client.delete_all_cookies().await.unwrap();
    browser.goto(&app.url("/console/login")).await;
    browser.type_into("#email", email).await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("button[type=submit]").await;
    browser.wait_for_text("/console/logout").await;
}

/// Chooses the language as a user does: a console page opened with `?lang=` (the switch) keeps
/// it in a cookie for the next pages.
async fn choose_language(browser: &Browser, app: &TestApp, lang: &str) {
    browser.goto(&app.url(&format!("/console/login?lang={lang}"))).await;
}

browser_test!(every_console_page_passes_the_audit);
/// Every page of `PAGES`, at phone and desktop size, in English and French, in one Chromium:
/// no horizontal scrolling, no console error, every control labelled, contrast of 4.5:1 (3:1
/// for large text). All problems are listed together; screenshots of each page are left in
/// `target/test-artifacts/console/` (`<name>-<size>.png`, `<name>-<size>-fr.png`).
async fn every_console_page_passes_the_audit() {
    let (app, _apns, seeded) = seeded_app().await;
    let browser = Browser::start().await;
    let started = Instant::now();
    let mut problems = Vec::new();
    let mut audited = 0;
    for who in [Who::SignedOut, Who::HqAdmin, Who::StoreManager] {
        match who.email() {
            Some(email) => sign_in_as(&browser, &app, email).await,
            None => browser.goto(&app.url("/console/login")).await,
        }
        browser.take_log().await;
        for size in [PHONE, DESKTOP] {
            page_audit::set_viewport(&browser, size.width, size.height).await;
            for lang in ["en", "fr"] {
                choose_language(&browser, &app, lang).await;
                for page in PAGES.iter().filter(|p| p.who == who) {
                    audit_one(&browser, &app, &seeded, page, size, lang, &mut problems).await;
                    audited += 1;
                }
            }
        }
    }
    eprintln!("console audit: {audited} page views in {:.1} s", started.elapsed().as_secs_f64());
    assert!(problems.is_empty(), "the console audit found {} problems:\n{}", problems.len(), problems.join("\n"));
}

/// Tabs through the page as a keyboard user does: every control reached shows where the focus
/// is (an outline or a shadow), and Tab reaches the page's own controls, not only the header's.
/// A date-time field is checked when it takes the focus; Tab then moves between its inner
/// parts (day, month, time), which Chromium highlights itself, outside any page style.
async fn keyboard_problems(browser: &Browser) -> Vec<String> {
    const TAB: &str = "\u{E004}";
    let mut problems = Vec::new();
    let mut in_main = false;
    browser.execute("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);", vec![]).await;
    for _ in 0..40 {
        let active = browser.client.active_element().await.unwrap();
        active.send_keys(TAB).await.unwrap();
        let focus = browser
            .execute(
                "const e = document.activeElement; if (!e || e === document.body) return null; \
                 if (e.type === 'datetime-local' && !e.matches(':focus')) return ['input', true, true]; \
                 const s = getComputedStyle(e); \
                 const visible = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none'; \
                 return [e.tagName.toLowerCase() + (e.id ? '#' + e.id : ''), visible, !!e.closest('main')];",
                vec![],
            )
            .await;
        let Some([name, visible, main]) = focus.as_array().map(|a| [a[0].clone(), a[1].clone(), a[2].clone()]) else {
            break;
        };
        in_main |= main == true;
        if visible != true {
            problems.push(format!("{} shows no focus indicator when reached with Tab", name.as_str().unwrap_or("?")));
        }
    }
    let controls = browser
        .execute(
            "return document.querySelectorAll('main a, main button, main input, main select, main textarea').length;",
            vec![],
        )
        .await;
    if controls.as_u64().unwrap_or(0) > 0 && !in_main {
        problems.push("Tab never reaches the page's own controls in 40 presses".into());
    }
    problems.dedup();
    problems
}

async fn audit_one(
    browser: &Browser,
    app: &TestApp,
    seeded: &Seeded,
    page: &AuditedPage,
    size: Size,
    lang: &str,
    problems: &mut Vec<String>,
) {
    let path = seeded.path(page.path);
    browser.goto(&app.url(&path)).await;
    let shown = browser.path().await;
    let html_lang = browser.execute("return document.documentElement.lang;", vec![]).await;
    let mut found = page_audit::audit(browser, page.status).await;
    if shown != path {
        found.push(format!("sent to {shown}"));
    }
    if html_lang != lang {
        found.push(format!("the page is in {html_lang}, not {lang}"));
    }
    if size.name == "desktop" && lang == "en" {
        found.extend(keyboard_problems(browser).await);
    }
    let at = format!("{} ({path}, {:?}, {}, {lang})", page.name, page.who, size.name);
    problems.extend(found.into_iter().map(|p| format!("{at}: {p}")));
    let suffix = if lang == "en" { String::new() } else { format!("-{lang}") };
    page_audit::full_screenshot(browser, &format!("console/{}-{}{suffix}", page.name, size.name), size).await;
}

browser_test!(console_flows_in_chromium);
/// What a console user does today, in Chromium: a signed-out visitor opening a console URL is
/// sent to the sign-in form and, once signed in, back to that URL; a wrong password is told
/// beside the form; a form whose CSRF token was removed is refused with 403; the points
/// adjustment tells its error beside the field, keeps what was typed, then lands in the ledger.
async fn console_flows_in_chromium() {
    let (app, _apns, seeded) = seeded_app().await;
    let browser = Browser::start().await;
    let member_path = format!("/console/members/{}", seeded.paris_member);

    // Signed out, a console URL leads to the sign-in form, which names its fields.
    browser.goto(&app.url("/console/members?q=martin")).await;
    assert_eq!(browser.path().await, "/console/login?next=%2Fconsole%2Fmembers%3Fq%3Dmartin");
    let labels = browser
        .execute("return [...document.querySelectorAll('label')].map(l => [l.htmlFor, l.textContent]);", vec![])
        .await;
    assert_eq!(labels, json!([["email", "E-mail address"], ["password", "Password"]]));
    browser.click("label[for=password]").await;
    let focused = browser.execute("return document.activeElement.id;", vec![]).await;
    assert_eq!(focused, "password", "clicking the label focuses its field");

    // A wrong password: the message beside the form, the address kept, still on the way back.
    browser.type_into("#email", "paris@example.com").await;
    browser.type_into("#password", "not the password").await;
    browser.click("button[type=submit]").await;
    browser.wait_for_text("id=\"login-error\"").await;
    assert_eq!(page_audit::status(&browser).await, 401);
    let error = browser.execute(
        "const e = document.getElementById('login-error'); const f = document.querySelector('main form'); \
         return [e.textContent, e.closest('main') === f.closest('main'), \
                 document.getElementById('email').getAttribute('aria-describedby'), \
                 document.getElementById('email').value];",
        vec![],
    );
    assert_eq!(
        error.await,
        json!(["Wrong e-mail address or password.", true, "login-error", "paris@example.com"]),
        "the error is in the sign-in box, tied to the address field, and the address is kept"
    );
    browser.screenshot("console/login-error-phone").await;

    // The right password: back to the page first asked for.
    browser.type_into("#password", PASSWORD).await;
    browser.click("button[type=submit]").await;
    browser.wait_for_text("/console/logout").await;
    assert_eq!(browser.path().await, "/console/members?q=martin");
    browser.wait_for_text("Zoé Martin").await;

    // The points form without its CSRF token (removed by a script): 403, nothing added.
    browser.goto(&app.url(&member_path)).await;
    browser.type_into("#delta", "10").await;
    browser.type_into("#reason", "Forged").await;
    browser.execute("document.querySelector('form.card input[name=csrf]').remove();", vec![]).await;
    browser.click("form.card button[type=submit]").await;
    let page = browser.wait_for_text("did not come from the console").await;
    assert_eq!(page_audit::status(&browser).await, 403);
    assert!(!page.contains("Forged"), "{page}");
    let member = api(&app, Method::GET, &format!("/api/v1/members/{}", seeded.paris_member), Value::Null).await;
    let points = member["points"].as_i64().unwrap();

    // A reason of spaces only passes the browser's `required` but not the server: the message is
    // beside the reason field, and both fields keep what was typed.
    browser.goto(&app.url(&member_path)).await;
    browser.type_into("#delta", "10").await;
    browser.type_into("#reason", "   ").await;
    browser.click("form.card button[type=submit]").await;
    browser.wait_for_text("id=\"reason-error\"").await;
    assert_eq!(page_audit::status(&browser).await, 422);
    let field = browser.execute(
        "const r = document.getElementById('reason'); const e = document.getElementById('reason-error'); \
         return [r.getAttribute('aria-invalid'), r.getAttribute('aria-describedby'), \
                 r.nextElementSibling === e, e.textContent.trim(), document.getElementById('delta').value, \
                 !!document.getElementById('delta-error')];",
        vec![],
    );
    assert_eq!(
        field.await,
        json!(["true", "reason-error", true, "Say why: the reason is kept in the points history.", "10", false]),
        "the error is under the reason field only, and the points typed are kept"
    );
    page_audit::full_screenshot(&browser, "console/member-points-error-phone", PHONE).await;

    // With a reason, the adjustment lands in the ledger.
    browser.type_into("#reason", "Parcel lost").await;
    browser.click("form.card button[type=submit]").await;
    browser.wait_for_text("Parcel lost").await;
    assert_eq!(browser.path().await, member_path);
    let member = api(&app, Method::GET, &format!("/api/v1/members/{}", seeded.paris_member), Value::Null).await;
    assert_eq!(member["points"].as_i64().unwrap(), points + 10);
    let errors = page_audit::console_errors(&browser, 0).await;
    let expected_refusals = ["status of 401", "status of 403", "status of 422"];
    let unexpected: Vec<_> = errors.iter().filter(|e| !expected_refusals.iter().any(|r| e.contains(r))).collect();
    assert!(unexpected.is_empty(), "{unexpected:?}");

    // Repeated wrong passwords lock the account: then even the right one is held back, saying until when.
    browser.client.delete_all_cookies().await.unwrap();
    for _ in 0..5 {
        browser.goto(&app.url("/console/login")).await;
        browser.type_into("#email", "marketing@example.com").await;
        browser.type_into("#password", "a wrong guess").await;
        browser.click("button[type=submit]").await;
        browser.wait_for_text("id=\"login-error\"").await;
    }
    browser.goto(&app.url("/console/login")).await;
    browser.type_into("#email", "marketing@example.com").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("button[type=submit]").await;
    let page = browser.wait_for_text("id=\"login-error\"").await;
    assert!(page.contains("locked until"), "{page}");
    assert_eq!(page_audit::status(&browser).await, 429);
}
