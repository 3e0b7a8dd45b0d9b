//! The console's accounts and sessions, over real HTTP on SQLite and PostgreSQL: users made by
//! the command line, sign-in with its CSRF token, the session cookie's flags, signed-out
//! visitors sent to the sign-in page, wrong passwords locking the account, sign-out and a
//! disabled user losing their session, and the overview's figures against a count.

use reqwest::header::{LOCATION, SET_COOKIE};
use reqwest::{Client, StatusCode, redirect};
use serde_json::json;

use crate::helpers::{Backend, TestApp, add_store, run, spawn_app_on, test_config};

pub const PASSWORD: &str = "correct horse battery staple";

/// A browser-like client that keeps cookies but shows redirects.
pub fn browser() -> Client {
    Client::builder().cookie_store(true).redirect(redirect::Policy::none()).build().unwrap()
}

fn passerelle(app: &TestApp) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_passerelle"));
    c.env("PASSERELLE_DATABASE_URL", &app.database_url).env("PASSERELLE_USER_PASSWORD", PASSWORD);
    c
}

/// Creates a user with the command line.
pub fn create_user(app: &TestApp, email: &str, role: &str, store: Option<&str>) {
    let mut cmd = passerelle(app);
    cmd.args(["users", "create", "--email", email, "--role", role]);
    if let Some(store) = store {
        cmd.args(["--store", store]);
    }
    let (ok, out) = run(&mut cmd);
    assert!(ok, "{out}");
}

/// The value of `name="..." value="..."` in a page.
pub fn hidden(html: &str, name: &str) -> String {
    let at = html.find(&format!("name=\"{name}\" value=\"")).unwrap_or_else(|| panic!("no {name} in {html}"));
    let rest = &html[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// Signs in and returns the response to the form's POST.
pub async fn sign_in(app: &TestApp, client: &Client, email: &str, password: &str) -> reqwest::Response {
    let page = client.get(app.url("/console/login")).send().await.unwrap().text().await.unwrap();
    let form = [("email", email), ("password", password), ("csrf", &hidden(&page, "csrf")), ("next", "/console")];
    client.post(app.url("/console/login")).form(&form).send().await.unwrap()
}

/// The session's CSRF token, read from a console page.
pub async fn csrf(app: &TestApp, client: &Client) -> String {
    hidden(&client.get(app.url("/console")).send().await.unwrap().text().await.unwrap(), "csrf")
}

async fn sign_in_out_and_sessions(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    create_user(&app, "Claire@Example.com", "hq_marketer", None);
    let (ok, out) = run(passerelle(&app).args(["users", "create", "--email", "x@example.com", "--role", "store"]));
    assert!(!ok && out.contains("role"), "a till is a key, not a console user: {out}");
    let (ok, out) = run(passerelle(&app).args(["users", "list"]));
    assert!(ok && out.contains("active\thq_marketer\t-\tclaire@example.com") && !out.contains(PASSWORD), "{out}");

    // Signed out, every console URL leads to the sign-in page, coming back afterwards.
    let client = browser();
    for path in [
        "/console",
        "/console/campaigns",
        "/console/campaigns/new",
        "/console/campaigns/cmp_1",
        "/console/campaigns/cmp_1/confirm",
        "/console/approvals",
        "/console/members",
        "/console/members/mem_1?tab=ledger",
        "/console/stores",
        "/console/flyers",
        "/console/templates",
        "/console/operations",
        "/console/audit",
        "/console/account",
        "/console/charts/members.svg",
        "/console/no-such-page",
    ] {
        let resp = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{path}");
        let location = resp.headers()[LOCATION].to_str().unwrap();
        assert!(location.starts_with("/console/login?next=%2Fconsole"), "{path} → {location}");
    }

    // A sign-in form posted without its token is refused.
    let form = [("email", "claire@example.com"), ("password", PASSWORD)];
    let resp = client.post(app.url("/console/login")).form(&form).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    // Signing in sets an HttpOnly, SameSite=Lax session cookie for /console (not Secure on http).
    let resp = sign_in(&app, &client, "claire@example.com", PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], "/console");
    let cookie = resp
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("passerelle_session="));
    let cookie = cookie.expect("a session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/console"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "{cookie}");
    let page = client.get(app.url("/console")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"), "{csp}");
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    let html = page.text().await.unwrap();
    assert!(html.contains("claire@example.com") && html.contains("Head office marketer"), "{html}");
    assert!(html.contains(">Approvals</a>"), "{html}");
    assert!(!html.contains(">Operations</a>"), "a marketer is not shown operations");

    // Sign-out needs the session's token; then the session is over.
    let resp = client.post(app.url("/console/logout")).form(&[("csrf", "forged")]).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let token = csrf(&app, &client).await;
    let resp = client.post(app.url("/console/logout")).form(&[("csrf", token.as_str())]).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(client.get(app.url("/console")).send().await.unwrap().status(), StatusCode::SEE_OTHER);

    // Disabling a user ends their open sessions at once.
    let other = browser();
    assert_eq!(sign_in(&app, &other, "claire@example.com", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(other.get(app.url("/console")).send().await.unwrap().status(), StatusCode::OK);
    let (ok, out) = run(passerelle(&app).args(["users", "disable", "claire@example.com"]));
    assert!(ok, "{out}");
    assert_eq!(other.get(app.url("/console")).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    let resp = sign_in(&app, &browser(), "claire@example.com", PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "a disabled user cannot sign in");
}

async fn wrong_passwords_lock_the_account(backend: Backend) {
    let mut config = test_config();
    config.console.sign_in_max_failures = 3;
    let app = spawn_app_on(backend, config).await;
    create_user(&app, "ops@example.com", "hq_admin", None);
    for attempt in 1..=3 {
        let resp = sign_in(&app, &browser(), "ops@example.com", "not the password").await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "attempt {attempt}");
        let html = resp.text().await.unwrap();
        assert!(html.contains("Wrong e-mail address or password."), "{html}");
    }
    // An unknown address reads exactly like a wrong password.
    let resp = sign_in(&app, &browser(), "nobody@example.com", "not the password").await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // Locked now, even with the right password.
    let resp = sign_in(&app, &browser(), "ops@example.com", PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.text().await.unwrap().contains("locked until"));
}

/// Guesses spread over accounts from one address are limited per IP too.
async fn sign_ins_are_limited_per_address(backend: Backend) {
    let mut config = test_config();
    config.console.sign_in_rate_per_min = 3;
    let app = spawn_app_on(backend, config).await;
    create_user(&app, "ops@example.com", "hq_admin", None);
    for n in 0..3 {
        let resp = sign_in(&app, &browser(), &format!("guess{n}@example.com"), "not the password").await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    let resp = sign_in(&app, &browser(), "ops@example.com", PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS, "even the right password, from this address");
    assert!(resp.headers().contains_key("retry-after"));
    assert!(resp.text().await.unwrap().contains("Too many sign-in attempts"));
}

/// The overview's figures are counts of what is stored: everyone's for head office, the
/// store's own for its manager.
async fn the_overview_counts_members_and_cards(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    add_store(&app, "paris-01", "Europe/Paris").await;
    add_store(&app, "lyon-02", "Europe/Paris").await;
    for (i, store) in ["paris-01", "paris-01", "lyon-02"].iter().enumerate() {
        let body = json!({"first_name": "Zoé", "email": format!("z{i}@example.com"), "home_store_id": store});
        let resp = app.api(reqwest::Method::POST, "/api/v1/members").json(&body).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
    }
    create_user(&app, "hq@example.com", "hq_admin", None);
    create_user(&app, "paris@example.com", "store_manager", Some("paris-01"));
    let figures = |html: String| -> Vec<String> {
        html.split("<span class=\"value\">").skip(1).map(|s| s[..s.find('<').unwrap()].to_owned()).collect()
    };
    let hq = browser();
    sign_in(&app, &hq, "hq@example.com", PASSWORD).await;
    let html = hq.get(app.url("/console")).send().await.unwrap().text().await.unwrap();
    assert_eq!(figures(html.clone()), ["3", "3", "0", "0", "0"], "{html}");
    assert!(html.contains(">Operations</a>"), "{html}");
    let paris = browser();
    sign_in(&app, &paris, "paris@example.com", PASSWORD).await;
    let html = paris.get(app.url("/console?lang=fr")).send().await.unwrap().text().await.unwrap();
    assert_eq!(figures(html.clone()), ["2", "2", "0", "0", "0"], "{html}");
    assert!(html.contains("Magasin paris-01") && html.contains("lang=\"fr\""), "{html}");
    assert!(html.contains(">Membres</a>"), "{html}");
    assert!(!html.contains(">Validations</a>") && !html.contains(">Exploitation</a>"), "{html}");
}

/// Members in the console: head office finds anyone by name, card, e-mail or phone; a store
/// manager only its own store's members, and another store's member page is not there (404);
/// a points adjustment needs a whole number and a reason, and lands in the ledger.
async fn members_are_searched_and_adjusted_within_the_role(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    add_store(&app, "paris-01", "Europe/Paris").await;
    add_store(&app, "lyon-02", "Europe/Paris").await;
    let mut ids = Vec::new();
    for (first, last, store, phone) in [
        ("Zoé", "Martin", "paris-01", "+33612345601"),
        ("Léa", "Zola", "lyon-02", "+33612345602"),
        ("Hugo", "Petit", "paris-01", "+33612345603"),
    ] {
        let body = json!({"first_name": first, "last_name": last, "phone": phone, "home_store_id": store});
        let resp = app.api(reqwest::Method::POST, "/api/v1/members").json(&body).send().await.unwrap();
        let member: serde_json::Value = resp.json().await.unwrap();
        ids.push((member["id"].as_str().unwrap().to_owned(), member["card_number"].as_str().unwrap().to_owned()));
    }
    create_user(&app, "hq@example.com", "hq_marketer", None);
    create_user(&app, "paris@example.com", "store_manager", Some("paris-01"));
    let hq = browser();
    sign_in(&app, &hq, "hq@example.com", PASSWORD).await;
    let page = |client: &Client, path: &str| {
        let (client, url) = (client.clone(), app.url(path));
        async move {
            let resp = client.get(url).send().await.unwrap();
            (resp.status(), resp.text().await.unwrap())
        }
    };
    let listed = |html: &str| -> Vec<String> {
        html.split("href=\"/console/members/").skip(1).map(|s| s[..s.find('"').unwrap()].to_owned()).collect()
    };
    // "zo" is in Zoé Martin's first name and Léa Zola's last name.
    let (status, html) = page(&hq, "/console/members?q=zo").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed(&html), [ids[1].0.clone(), ids[0].0.clone()], "newest first: {html}");
    let (_, html) = page(&hq, &format!("/console/members?q={}", ids[2].1)).await;
    assert_eq!(listed(&html), [ids[2].0.clone()], "by card number");
    let (_, html) = page(&hq, "/console/members?q=06%2012%2034%2056%2002").await;
    assert_eq!(listed(&html), [ids[1].0.clone()], "by phone, as typed");
    let (_, html) = page(&hq, "/console/members?q=100%25").await;
    assert!(listed(&html).is_empty(), "% is a character, not a wildcard");

    // The Paris manager sees Paris's members only.
    let paris = browser();
    sign_in(&app, &paris, "paris@example.com", PASSWORD).await;
    let (_, html) = page(&paris, "/console/members").await;
    assert_eq!(listed(&html), [ids[2].0.clone(), ids[0].0.clone()]);
    let (_, html) = page(&paris, "/console/members?q=zo").await;
    assert_eq!(listed(&html), [ids[0].0.clone()]);
    let (status, _) = page(&paris, &format!("/console/members/{}", ids[1].0)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another store's member");
    let (status, html) = page(&paris, &format!("/console/members/{}", ids[0].0)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Zoé Martin") && html.contains(&ids[0].1), "{html}");
    assert!(html.contains("No consent recorded."), "signed up by a till without consent: {html}");
    let consent = json!({"consent": {"terms": true, "marketing": true, "version": "2027-01"}});
    let path = format!("/api/v1/members/{}", ids[0].0);
    let resp = app.api(reqwest::Method::PATCH, &path).json(&consent).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let (_, html) = page(&paris, &format!("/console/members/{}", ids[0].0)).await;
    let history = &html[html.find("Consent history").expect("the consent history")..];
    let row = &history[history.find("<tbody>").unwrap()..history.find("</tbody>").unwrap()];
    assert_eq!(row.matches("<tr>").count(), 1, "{row}");
    assert!(row.contains("2027-01") && row.contains("admin-token"), "version and who recorded it: {row}");

    // A points adjustment: a whole number and a reason, or the message beside the field.
    let csrf = hidden(&html, "csrf");
    let path = app.url(&format!("/console/members/{}/points", ids[0].0));
    let resp =
        paris.post(&path).form(&[("csrf", csrf.as_str()), ("delta", "ten"), ("reason", "x")]).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert!(html.contains("id=\"delta-error\"") && html.contains("whole number"), "{html}");
    let resp = paris.post(&path).form(&[("delta", "25"), ("reason", "goodwill")]).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN, "no CSRF token");
    let form = [("csrf", csrf.as_str()), ("delta", "25"), ("reason", "parcel lost")];
    let resp = paris.post(&path).form(&form).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let member: serde_json::Value = app
        .api(reqwest::Method::GET, &format!("/api/v1/members/{}", ids[0].0))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(member["points"], 25);
    let (_, html) = page(&paris, &format!("/console/members/{}", ids[0].0)).await;
    assert!(html.contains("parcel lost") && html.contains("+25"), "{html}");
    let other = app.url(&format!("/console/members/{}/points", ids[1].0));
    let resp = paris.post(&other).form(&form).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND, "nor adjusted");
}

/// Operations is the hq_admin's: keys made there work on the API (shown once), users made
/// there sign in, a disabled one cannot; a marketer gets 403.
async fn operations_manage_keys_and_users(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    add_store(&app, "paris-01", "Europe/Paris").await;
    create_user(&app, "admin@example.com", "hq_admin", None);
    create_user(&app, "mkt@example.com", "hq_marketer", None);
    let marketer = browser();
    sign_in(&app, &marketer, "mkt@example.com", PASSWORD).await;
    assert_eq!(marketer.get(app.url("/console/operations")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let admin = browser();
    sign_in(&app, &admin, "admin@example.com", PASSWORD).await;
    let html = admin.get(app.url("/console/operations")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Apple Wallet pushes (APNs)") && html.contains("mkt@example.com"), "{html}");
    let csrf = hidden(&html, "csrf");
    let post = |path: &str, form: Vec<(&str, &str)>| {
        let (client, url) = (admin.clone(), app.url(path));
        let form: Vec<(String, String)> = form.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        async move { client.post(url).form(&form).send().await.unwrap() }
    };
    // A key: its error beside the form, then made and shown once, and it works.
    let resp = post("/console/operations/keys", vec![("csrf", &csrf), ("role", "store")]).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(resp.text().await.unwrap().contains("id=\"key-error\""));
    let form = vec![("csrf", csrf.as_str()), ("name", "till 3"), ("role", "store"), ("store_id", "paris-01")];
    let html = post("/console/operations/keys", form).await.text().await.unwrap();
    let key =
        html.split("class=\"mono secret\">").nth(1).map(|s| s[..s.find('<').unwrap()].to_owned()).expect("the key");
    let resp = app.client.get(app.url("/api/v1/members?card_number=1")).bearer_auth(&key).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "the new till key works");
    let again = admin.get(app.url("/console/operations")).send().await.unwrap().text().await.unwrap();
    assert!(!again.contains(&key) && again.contains("till 3"), "shown once");
    // A user made here signs in; disabled, they cannot.
    let form = vec![
        ("csrf", csrf.as_str()),
        ("email", "new@example.com"),
        ("role", "store_manager"),
        ("store_id", "paris-01"),
        ("password", PASSWORD),
    ];
    assert_eq!(post("/console/operations/users", form).await.status(), StatusCode::OK);
    assert_eq!(sign_in(&app, &browser(), "new@example.com", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let form = vec![("csrf", csrf.as_str()), ("email", "new@example.com")];
    assert_eq!(post("/console/operations/users/disable", form).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(sign_in(&app, &browser(), "new@example.com", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    let form = vec![("email", "mkt@example.com")];
    assert_eq!(post("/console/operations/users/disable", form).await.status(), StatusCode::FORBIDDEN, "no token");
    // Each action is in the audit log with who did it; the page is the admin's.
    let audit = admin.get(app.url("/console/audit")).send().await.unwrap().text().await.unwrap();
    for action in ["key.created", "user.created", "user.disabled"] {
        assert!(audit.contains(&format!(">{action}<")), "{action} in {audit}");
    }
    assert!(audit.contains("admin@example.com"), "{audit}");
    assert_eq!(marketer.get(app.url("/console/audit")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
}

on_both_backends!(sign_in_out_and_sessions);
on_both_backends!(operations_manage_keys_and_users);
on_both_backends!(members_are_searched_and_adjusted_within_the_role);
on_both_backends!(wrong_passwords_lock_the_account);
on_both_backends!(sign_ins_are_limited_per_address);
on_both_backends!(the_overview_counts_members_and_cards);
