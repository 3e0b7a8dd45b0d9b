//! The enrollment page of a flyer (`/join/{code}`), driven over real HTTP like a phone's
//! browser (cookies kept): the form, CSRF, validation, sign-up, duplicates, the per-IP rate
//! limit, X-Forwarded-For from trusted proxies only, and the flyer's stats.

use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_valid_pass, spawn_app_on, test_config};
use crate::web_service::{Held, register};

/// A phone's browser: it keeps cookies.
pub(crate) fn browser() -> Client {
    Client::builder().cookie_store(true).build().unwrap()
}

/// A store and a flyer for it; returns the flyer code.
pub(crate) async fn flyer(app: &TestApp) -> String {
    let store = json!({"id": "paris-01", "name": "Paris Rivoli", "latitude": 48.8606, "longitude": 2.3522,
                       "timezone": "Europe/Paris"});
    assert_eq!(app.api(Method::POST, "/api/v1/stores").json(&store).send().await.unwrap().status(), 201);
    let created = app.api(Method::POST, "/api/v1/flyers").json(&json!({"store_id": "paris-01"})).send().await.unwrap();
    assert_eq!(created.status(), 201);
    created.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_owned()
}

/// HTML with minijinja's escapes of `/` and `&` undone.
pub(crate) async fn html(resp: Response) -> String {
    resp.text().await.unwrap().replace("&#x2f;", "/").replace("&#x27;", "'").replace("&amp;", "&")
}

/// The value of the attribute following `marker` (e.g. `name="csrf" value="`).
pub(crate) fn after<'a>(html: &'a str, marker: &str) -> Option<&'a str> {
    let start = html.find(marker)? + marker.len();
    Some(&html[start..start + html[start..].find('"')?])
}

/// Opens the form in `client` and returns its CSRF token.
pub(crate) async fn open_form(app: &TestApp, client: &Client, code: &str) -> String {
    let resp = client.get(app.url(&format!("/join/{code}"))).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    after(&html(resp).await, "name=\"csrf\" value=\"").expect("a CSRF field").to_owned()
}

pub(crate) async fn post(app: &TestApp, client: &Client, code: &str, fields: &[(&str, &str)]) -> Response {
    client.post(app.url(&format!("/join/{code}"))).form(fields).send().await.unwrap()
}

/// Opens the form and sends it with `fields` (plus the token).
pub(crate) async fn sign_up(app: &TestApp, client: &Client, code: &str, fields: &[(&str, &str)]) -> Response {
    let token = open_form(app, client, code).await;
    let mut all = vec![("csrf", token.as_str())];
    all.extend_from_slice(fields);
    post(app, client, code, &all).await
}

pub(crate) async fn members_with_email(app: &TestApp, email: &str) -> Vec<Value> {
    let found: Value =
        app.api(Method::GET, &format!("/api/v1/members?email={email}")).send().await.unwrap().json().await.unwrap();
    found["items"].as_array().unwrap().clone()
}

pub(crate) fn mails(app: &TestApp) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(&app.mail_dir) else { return Vec::new() };
    dir.map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap()).collect()
}

async fn stats(app: &TestApp, code: &str) -> Value {
    let resp = app.api(Method::GET, &format!("/api/v1/flyers/{code}/stats")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

async fn form_in_both_languages(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    let code = flyer(&app).await;
    let client = browser();
    let resp = client.get(app.url(&format!("/join/{code}"))).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert!(resp.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("passerelle_join="), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let page = html(resp).await;
    assert!(page.contains("<html lang=\"en\">") && page.contains("Join our loyalty programme"));
    assert!(page.contains("Paris Rivoli"), "the flyer's store");
    for field in ["first_name", "email", "phone", "birthday", "terms", "marketing"] {
        assert!(page.contains(&format!("<label for=\"{field}\">")), "a label for {field}");
        assert!(page.contains(&format!("id=\"{field}\" name=\"{field}\"")), "an input {field}");
    }
    assert!(page.contains("2026-11-v1"), "the consent wording's version");
    assert!(!page.contains("<script") && !page.contains("src=\"http") && !page.contains("<link"), "no JS or assets");
    assert!(!page.contains("aria-invalid=\"true\"") && !page.contains("role=\"alert\""), "no errors yet");
    // The same visitor keeps their nonce.
    let again = client.get(app.url(&format!("/join/{code}"))).send().await.unwrap();
    assert!(again.headers().get("set-cookie").is_none());

    let fr = client.get(app.url(&format!("/join/{code}"))).header("Accept-Language", "fr-FR,fr;q=0.9,en;q=0.5");
    let page = html(fr.send().await.unwrap()).await;
    assert!(page.contains("<html lang=\"fr\">") && page.contains("Prénom"), "French");
    assert!(page.contains("Rejoignez notre programme de fidélité") && page.contains("J'adhère au programme"));

    for unknown in ["zzzzzzzz", "nope", "ABCDEFGH"] {
        let resp = client.get(app.url(&format!("/join/{unknown}"))).send().await.unwrap();
        assert_eq!(resp.status(), 404, "{unknown}");
        assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        assert!(html(resp).await.contains("Page not found"));
    }
    let resp = client.post(app.url("/join/zzzzzzzz")).form(&[("first_name", "A")]).send().await.unwrap();
    assert_eq!(resp.status(), 404);
}

async fn csrf_and_validation(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    let code = flyer(&app).await;
    let valid = [("first_name", "Zoé"), ("email", "zoe@example.fr"), ("terms", "yes")];

    // No cookie, no token: refused, and nobody signed up.
    let resp = post(&app, &browser(), &code, &valid).await;
    assert_eq!(resp.status(), 403);
    assert!(html(resp).await.contains("This form has expired"));
    // A cookie but no token, a wrong token, or another visitor's token.
    let client = browser();
    let token = open_form(&app, &client, &code).await;
    assert_eq!(post(&app, &client, &code, &valid).await.status(), 403);
    let mut wrong = vec![("csrf", "00ff")];
    wrong.extend_from_slice(&valid);
    assert_eq!(post(&app, &client, &code, &wrong).await.status(), 403);
    let mut stolen = vec![("csrf", token.as_str())];
    stolen.extend_from_slice(&valid);
    assert_eq!(post(&app, &browser(), &code, &stolen).await.status(), 403, "a token without its cookie");
    assert!(members_with_email(&app, "zoe@example.fr").await.is_empty());

    // Everything missing: 422, each message next to its field, nothing created.
    let resp = post(&app, &client, &code, &[("csrf", token.as_str()), ("first_name", " ")]).await;
    assert_eq!(resp.status(), 422);
    let page = html(resp).await;
    let token = after(&page, "name=\"csrf\" value=\"").unwrap().to_owned();
    assert!(page.contains("role=\"alert\""), "an error summary");
    assert!(page.contains("<span class=\"error\" id=\"first_name-error\">Enter your first name.</span>"), "{page}");
    assert!(page.contains("id=\"email-error\">Enter an e-mail address or a phone number."));
    assert!(page.contains("id=\"terms-error\">Tick this box to join the programme."));
    assert!(page.contains("aria-describedby=\"email-hint email-error\" aria-invalid=\"true\""));
    assert!(page.contains("aria-describedby=\"first_name-error\" aria-invalid=\"true\""));
    assert!(!page.contains("id=\"phone-error\""), "the phone field is fine");

    // Bad values: refilled (escaped), messages in French when the browser asks.
    let resp = client
        .post(app.url(&format!("/join/{code}")))
        .header("Accept-Language", "fr")
        .form(&[
            ("csrf", token.as_str()),
            ("first_name", "Zoé <b>"),
            ("email", "not-an-email"),
            ("phone", "12"),
            ("birthday", "2999-01-01"),
            ("marketing", "yes"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let page = html(resp).await;
    assert!(page.contains("value=\"Zoé &lt;b&gt;\""), "the first name refilled, escaped");
    assert!(page.contains("value=\"not-an-email\"") && page.contains("value=\"12\""));
    assert!(page.contains("value=\"2999-01-01\""));
    assert!(page.contains("Indiquez une adresse e-mail comme nom@exemple.fr."), "{page}");
    assert!(page.contains("Indiquez un numéro de mobile"));
    assert!(page.contains("Indiquez une date passée"));
    assert!(page.contains("Cochez cette case"));
    assert!(page.contains("id=\"marketing\" name=\"marketing\" value=\"yes\" checked"), "the box stays ticked");
    assert!(!page.contains("<b>"));
    // The refilled form carries a token that still works.
    let token = after(&page, "name=\"csrf\" value=\"").unwrap().to_owned();
    let mut ok = vec![("csrf", token.as_str())];
    ok.extend_from_slice(&valid);
    assert_eq!(post(&app, &client, &code, &ok).await.status(), 200);
    assert_eq!(members_with_email(&app, "zoe@example.fr").await.len(), 1);
}

async fn sign_up_then_duplicate(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    let code = flyer(&app).await;
    let client = browser();
    let resp = sign_up(
        &app,
        &client,
        &code,
        &[
            ("first_name", "Marie"),
            ("email", " Marie.Dupont@Example.fr "),
            ("phone", "06 12 34 56 78"),
            ("birthday", "1990-05-31"),
            ("terms", "yes"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 200);
    let page = html(resp).await;
    assert!(page.contains("Welcome, Marie!"), "{page}");
    assert!(page.contains("Add to Apple Wallet"));
    assert!(!page.contains("Save to Google Wallet"), "Google is off");

    let member = members_with_email(&app, "marie.dupont@example.fr").await.remove(0);
    assert_eq!(member["phone"], "+33612345678");
    assert_eq!(member["birthday"], "1990-05-31");
    assert_eq!(member["language"], "en");
    assert_eq!(member["home_store_id"], "paris-01");
    assert_eq!(member["source"], json!({"flyer": code, "store": "paris-01", "channel": "flyer"}));
    assert_eq!(member["consent"]["terms"], true);
    assert_eq!(member["consent"]["marketing"], false);
    assert_eq!(member["consent"]["version"], "2026-11-v1");
    let card_number = member["card_number"].as_str().unwrap();
    assert!(page.contains(card_number));

    // The Apple button downloads the member's own signed pass.
    let apple = after(&page, "class=\"wallet apple\" href=\"").expect("an Apple Wallet link").to_owned();
    assert_eq!(apple, member["pass"]["apple_pass_url"].as_str().unwrap());
    let pkpass = client.get(&apple).send().await.unwrap();
    assert_eq!(pkpass.headers()["content-type"], "application/vnd.apple.pkpass");
    let pass = assert_valid_pass(&pkpass.bytes().await.unwrap()).json("pass.json");
    assert_eq!(pass["serialNumber"], member["pass"]["serial_number"]);
    assert_eq!(pass["barcodes"][0]["message"], card_number, "the card number on the pass");

    // A new member with an e-mail gets the link that verifies it.
    let welcome = mails(&app);
    assert_eq!(welcome.len(), 1);
    assert!(welcome[0].contains("To: marie.dupont@example.fr") && welcome[0].contains("/verify/"), "{}", welcome[0]);

    // The same e-mail again, from another phone: the same welcome page, with a card of its own
    // (linked to no member); the member on file is mailed the merge link.
    let other = browser();
    let resp = sign_up(
        &app,
        &other,
        &code,
        &[("first_name", "Mallory"), ("email", "marie.dupont@example.fr"), ("terms", "yes")],
    )
    .await;
    assert_eq!(resp.status(), 200);
    let page = html(resp).await;
    assert!(page.contains("Welcome, Mallory!"), "{page}");
    assert!(!page.contains(card_number) && !page.contains("Marie"), "nothing about the member");
    let sent = mails(&app);
    assert_eq!(sent.len(), 2);
    let card_link = member["pass"]["pass_page_url"].as_str().unwrap();
    let merge_mail = sent.iter().find(|m| m.contains(card_link)).expect("a mail with the member's own card link");
    assert!(merge_mail.contains("To: marie.dupont@example.fr") && merge_mail.contains("/merge/"), "{merge_mail}");
    assert!(!merge_mail.contains("Mallory"), "nothing the visitor typed");
    assert_eq!(members_with_email(&app, "marie.dupont@example.fr").await.len(), 1);
    assert!(members_with_email(&app, "new@example.fr").await.is_empty());

    // A phone-only member: nothing can be sent (no SMS), the page says the same.
    let resp =
        sign_up(&app, &browser(), &code, &[("first_name", "Paul"), ("phone", "0698765432"), ("terms", "yes")]).await;
    assert!(html(resp).await.contains("Welcome, Paul!"));
    let resp =
        sign_up(&app, &browser(), &code, &[("first_name", "Paul"), ("phone", "06 98 76 54 32"), ("terms", "yes")])
            .await;
    assert_eq!(resp.status(), 200);
    assert!(html(resp).await.contains("Welcome, Paul!"));
    assert_eq!(mails(&app).len(), 2, "no mail for a phone-only member");
}

async fn rate_limit(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    let code = flyer(&app).await;
    let client = browser();
    let token = open_form(&app, &client, &code).await;
    // Ten posts a minute from one address (refused ones count too)...
    let mut token = token;
    for i in 0..10 {
        let resp = post(&app, &client, &code, &[("csrf", token.as_str())]).await;
        assert_eq!(resp.status(), 422, "post {i}");
        token = after(&html(resp).await, "name=\"csrf\" value=\"").unwrap().to_owned();
    }
    // ...the eleventh is one too many, whatever it carries.
    let resp =
        sign_up(&app, &client, &code, &[("first_name", "Ann"), ("email", "ann@example.fr"), ("terms", "yes")]).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    assert!(html(resp).await.contains("Too many attempts"));
    assert!(members_with_email(&app, "ann@example.fr").await.is_empty());
    // Reading the form is not limited.
    assert_eq!(client.get(app.url(&format!("/join/{code}"))).send().await.unwrap().status(), 200);
}

async fn forwarded_for_only_from_trusted_proxies(backend: Backend) {
    // Not a trusted proxy: X-Forwarded-For is the client's own word, ignored.
    let app = spawn_app_on(backend.clone(), test_config()).await;
    let code = flyer(&app).await;
    let client = browser();
    for i in 0..10 {
        let resp = client
            .post(app.url(&format!("/join/{code}")))
            .header("X-Forwarded-For", format!("203.0.113.{i}"))
            .form(&[("first_name", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403, "post {i}");
    }
    let resp = client
        .post(app.url(&format!("/join/{code}")))
        .header("X-Forwarded-For", "203.0.113.200")
        .form(&[("first_name", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429, "all from 127.0.0.1");

    // Behind a trusted proxy (the test client's address): one allowance per forwarded client.
    let mut config = test_config();
    config.http.trusted_proxies = "10.0.0.0/8, 127.0.0.1".parse().unwrap();
    let app = spawn_app_on(backend, config).await;
    let code = flyer(&app).await;
    let send = |xff: &'static str| {
        client
            .post(app.url(&format!("/join/{code}")))
            .header("X-Forwarded-For", xff)
            .form(&[("first_name", "x")])
            .send()
    };
    for i in 0..10 {
        // The left-most entries are the client's to write: only the right-most untrusted one counts.
        let xff = if i % 2 == 0 { "198.51.100.7, 203.0.113.5" } else { "1.2.3.4, 203.0.113.5, 10.1.2.3" };
        assert_eq!(send(xff).await.unwrap().status(), 403, "post {i}");
    }
    assert_eq!(send("203.0.113.5").await.unwrap().status(), 429, "the same client behind the proxy");
    assert_eq!(send("203.0.113.6").await.unwrap().status(), 403, "another client has its own allowance");
    assert_eq!(send("203.0.113.6, 203.0.113.5").await.unwrap().status(), 429, "spoofing the left changes nothing");
}

async fn flyer_stats(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    let code = flyer(&app).await;
    let zero = json!({"code": code, "scans": 0, "unique_scans": 0, "signups": 0, "apple_added": 0, "google_added": 0,
                      "buyers": 0, "revenue": {}});
    assert_eq!(stats(&app, &code).await, zero);

    let client = browser();
    assert_eq!(client.get(app.url(&format!("/join/{code}"))).send().await.unwrap().status(), 200);
    let resp =
        sign_up(&app, &client, &code, &[("first_name", "Léa"), ("email", "lea@example.fr"), ("terms", "yes")]).await;
    assert_eq!(resp.status(), 200);
    let page = html(resp).await;
    // A member from another channel does not count.
    let api_member = json!({"first_name": "Api", "email": "api@example.fr", "source": {"store": "paris-01"}});
    assert_eq!(app.api(Method::POST, "/api/v1/members").json(&api_member).send().await.unwrap().status(), 201);
    let s = stats(&app, &code).await;
    assert_eq!((s["scans"].as_i64(), s["signups"].as_i64(), s["apple_added"].as_i64()), (Some(2), Some(1), Some(0)));

    // Wallet adds the card: the iPhone registers the pass it downloaded.
    let apple = after(&page, "class=\"wallet apple\" href=\"").unwrap().to_owned();
    let pkpass = client.get(&apple).send().await.unwrap().bytes().await.unwrap();
    let pass = assert_valid_pass(&pkpass).json("pass.json");
    let held = Held {
        serial: pass["serialNumber"].as_str().unwrap().into(),
        token: pass["authenticationToken"].as_str().unwrap().into(),
        pass_type: pass["passTypeIdentifier"].as_str().unwrap().into(),
        web_service_url: pass["webServiceURL"].as_str().unwrap().into(),
    };
    assert_eq!(register(&app, &held, "0123456789abcdef0123456789abcdef").await, 201);
    assert_eq!(register(&app, &held, "fedcba9876543210fedcba9876543210").await, 201, "a second device");
    let s = stats(&app, &code).await;
    let expected = json!({"code": code, "scans": 2, "unique_scans": 1, "signups": 1, "apple_added": 1, "google_added": 0,
               "buyers": 0, "revenue": {}});
    assert_eq!(s, expected, "two views by one visitor");

    // Another flyer's numbers are its own; unknown flyers and callers without a key are refused.
    let other: Value = app
        .api(Method::POST, "/api/v1/flyers")
        .json(&json!({"store_id": "paris-01"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let other = other["code"].as_str().unwrap();
    assert_eq!(stats(&app, other).await["signups"], 0);
    assert_eq!(app.api(Method::GET, "/api/v1/flyers/zzzzzzzz/stats").send().await.unwrap().status(), 404);
    let anonymous = app.client.get(app.url(&format!("/api/v1/flyers/{code}/stats"))).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
}

on_both_backends!(
    form_in_both_languages,
    csrf_and_validation,
    sign_up_then_duplicate,
    rate_limit,
    forwarded_for_only_from_trusted_proxies,
    flyer_stats,
);
