//! The console's stores, flyers and templates pages and the site's landing page, over real
//! HTTP on SQLite and PostgreSQL: stores added and changed with errors beside their field;
//! flyers made, listed and printed within each role (another store's flyer is 404), their
//! unique scans against a count of visitors; the templates' previews and the publish count
//! against a count of passes and devices; the landing page's links.

use std::collections::HashSet;

use reqwest::header::{CONTENT_TYPE, LOCATION, SET_COOKIE};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::campaign_approval::new_key;
use crate::campaigns::{on_iphone, store_of};
use crate::console::{PASSWORD, browser, create_user, hidden, sign_in};
use crate::helpers::{Backend, TestApp, add_store, example, spawn_app_on, test_config};

/// A page's HTML with minijinja's escapes of `/`, `'` and `&` undone.
async fn text(resp: reqwest::Response) -> String {
    resp.text().await.unwrap().replace("&#x2f;", "/").replace("&#x27;", "'").replace("&amp;", "&")
}

async fn get(client: &Client, app: &TestApp, path: &str) -> (StatusCode, String) {
    let resp = client.get(app.url(path)).send().await.unwrap();
    (resp.status(), text(resp).await)
}

async fn post(client: &Client, app: &TestApp, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    client.post(app.url(path)).form(form).send().await.unwrap()
}

async fn signed_in(app: &TestApp, email: &str, role: &str, store: Option<&str>) -> Client {
    create_user(app, email, role, store);
    let client = browser();
    assert_eq!(sign_in(app, &client, email, PASSWORD).await.status(), StatusCode::SEE_OTHER);
    client
}

async fn api_json(app: &TestApp, path: &str) -> Value {
    let resp = app.api(Method::GET, path).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    resp.json().await.unwrap()
}

/// The big numbers of a page's figures, in order.
fn figures(html: &str) -> Vec<String> {
    html.split("<span class=\"value\">").skip(1).map(|s| s[..s.find('<').unwrap()].to_owned()).collect()
}

/// Stores: head office lists them with their members, adds one and changes one with the API's
/// checks, each error beside its field (in the page's language); a store manager may not.
async fn stores_are_added_and_changed_with_errors_beside_fields(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    add_store(&app, "paris-01", "Europe/Paris").await;
    for i in 0..2 {
        let body = json!({"first_name": "Zoé", "email": format!("z{i}@example.com"), "home_store_id": "paris-01"});
        assert_eq!(app.api(Method::POST, "/api/v1/members").json(&body).send().await.unwrap().status(), 201);
    }
    let hq = signed_in(&app, "hq@example.com", "hq_marketer", None).await;
    let (status, html) = get(&hq, &app, "/console/stores").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<td class=\"mono\">paris-01</td>") && html.contains("Europe/Paris"), "{html}");
    assert!(html.contains("<td class=\"num\">2</td>"), "two members: {html}");
    assert!(html.contains(">Stores</a>") && html.contains("aria-current=\"page\""), "{html}");
    let csrf = hidden(&html, "csrf");

    let store = |id: &'static str, lat: &'static str, tz: &'static str| {
        vec![
            ("id", id),
            ("name", " Lyon Part-Dieu "),
            ("address", ""),
            ("latitude", lat),
            ("longitude", "4.85"),
            ("timezone", tz),
        ]
    };
    let with_csrf = |mut fields: Vec<(&'static str, &'static str)>, csrf: &str| {
        let mut all: Vec<(String, String)> = vec![("csrf".into(), csrf.to_owned())];
        all.extend(fields.drain(..).map(|(k, v)| (k.to_owned(), v.to_owned())));
        all
    };
    let refused = |field: &'static str, html: String| {
        assert!(html.contains(&format!("id=\"{field}-error\"")), "{field}: {html}");
        assert!(
            html.contains(&format!("aria-describedby=\"{field}-error\""))
                || html.contains(&format!(" {field}-error\"")),
            "{field} described by its error: {html}"
        );
        assert_eq!(html.matches("class=\"field-error\"").count(), 1, "{html}");
    };
    for (fields, field, words) in [
        (store("lyon-02", "45.76", "Europe/Lyon"), "timezone", "not a time zone name"),
        (store("lyon-02", "north", "Europe/Paris"), "latitude", "between -90 and 90"),
        (store("lyon-02", "95", "Europe/Paris"), "latitude", "between -90 and 90"),
        (store("Lyon 02", "45.76", "Europe/Paris"), "id", "lowercase letters"),
        (store("paris-01", "45.76", "Europe/Paris"), "id", "already has this id"),
    ] {
        let resp = hq.post(app.url("/console/stores")).form(&with_csrf(fields, &csrf)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let html = text(resp).await;
        refused(field, html.clone());
        assert!(html.contains(words), "{field}: {html}");
        assert!(html.contains("value=\" Lyon Part-Dieu \""), "the form keeps what was typed: {html}");
    }
    // In French, the same error in French.
    let fields = with_csrf(store("lyon-02", "45.76", "Mars/Olympus"), &csrf);
    let resp = hq.post(app.url("/console/stores")).header("Accept-Language", "fr").form(&fields).send().await.unwrap();
    let html = text(resp).await;
    assert!(html.contains("Ce n'est pas un nom de fuseau"), "{html}");
    // Without the form's token: 403, nothing added.
    let resp =
        hq.post(app.url("/console/stores")).form(&store("lyon-02", "45.76", "Europe/Paris")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.api(Method::GET, "/api/v1/stores/lyon-02").send().await.unwrap().status(), 404);

    let resp = hq
        .post(app.url("/console/stores"))
        .form(&with_csrf(store("lyon-02", "45,76", "europe/paris"), &csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], "/console/stores?added=lyon-02");
    let lyon = api_json(&app, "/api/v1/stores/lyon-02").await;
    assert_eq!((lyon["name"].as_str(), lyon["timezone"].as_str()), (Some("Lyon Part-Dieu"), Some("Europe/Paris")));
    assert_eq!((lyon["latitude"].as_f64(), lyon["address"].as_str()), (Some(45.76), None));
    let (_, html) = get(&hq, &app, "/console/stores?added=lyon-02").await;
    assert!(html.contains("role=\"status\"") && html.contains("<td class=\"mono\">lyon-02</td>"), "{html}");

    // Changing: the form holds the store; an error beside its field; then saved.
    let (status, html) = get(&hq, &app, "/console/stores/lyon-02").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("value=\"Lyon Part-Dieu\"") && html.contains("value=\"45.76\""), "{html}");
    let change = |longitude: &'static str| {
        with_csrf(
            vec![
                ("name", "Lyon Bellecour"),
                ("address", "1 place Bellecour"),
                ("latitude", "45.757"),
                ("longitude", longitude),
                ("timezone", "Europe/Paris"),
            ],
            &csrf,
        )
    };
    let resp = hq.post(app.url("/console/stores/lyon-02")).form(&change("190")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    refused("longitude", text(resp).await);
    assert_eq!(api_json(&app, "/api/v1/stores/lyon-02").await["name"], "Lyon Part-Dieu", "nothing saved");
    let resp = hq.post(app.url("/console/stores/lyon-02")).form(&change("4.832")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let lyon = api_json(&app, "/api/v1/stores/lyon-02").await;
    assert_eq!((lyon["name"].as_str(), lyon["address"].as_str()), (Some("Lyon Bellecour"), Some("1 place Bellecour")));
    assert_eq!(lyon["longitude"].as_f64(), Some(4.832));
    assert_eq!(get(&hq, &app, "/console/stores/nowhere-09").await.0, StatusCode::NOT_FOUND);

    // The language switch: French from a ?lang=fr link on, until ?lang=en.
    let (_, html) = get(&hq, &app, "/console/stores?lang=fr").await;
    assert!(html.contains("<html lang=\"fr\">") && html.contains("Ajouter un magasin"), "{html}");
    let (_, html) = get(&hq, &app, "/console/stores/lyon-02").await;
    assert!(html.contains("Modifier ce magasin"), "still French: {html}");
    let (_, html) = get(&hq, &app, "/console/stores?lang=en").await;
    assert!(html.contains("Add a store"), "{html}");

    // A store manager has no stores page, and no link to it.
    let paris = signed_in(&app, "paris@example.com", "store_manager", Some("paris-01")).await;
    assert_eq!(get(&paris, &app, "/console/stores").await.0, StatusCode::FORBIDDEN);
    assert_eq!(get(&paris, &app, "/console/stores/paris-01").await.0, StatusCode::FORBIDDEN);
    let (_, html) = get(&paris, &app, "/console").await;
    assert!(!html.contains("href=\"/console/stores\"") && html.contains("href=\"/console/flyers\""), "{html}");
}

/// Flyers: head office makes and sees every store's, a store manager and a store key their
/// own store's only (another's page, QR code and print page are 404); each flyer's figures,
/// its QR code and its print page from the session; unique scans against the visitors.
async fn flyers_within_each_role_with_unique_scans(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    add_store(&app, "paris-01", "Europe/Paris").await;
    add_store(&app, "lyon-02", "Europe/Paris").await;
    let hq = signed_in(&app, "hq@example.com", "hq_marketer", None).await;
    let paris = signed_in(&app, "paris@example.com", "store_manager", Some("paris-01")).await;

    let (status, html) = get(&hq, &app, "/console/flyers").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<option value=\"lyon-02\">") && html.contains("<label for=\"template\">"), "{html}");
    let csrf = hidden(&html, "csrf");
    let make = |client: &Client, store: &str, label: &str, template: &str, csrf: &str| {
        let form: Vec<(String, String)> =
            [("csrf", csrf), ("store_id", store), ("label", label), ("template", template)]
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
        let (client, url) = (client.clone(), app.url("/console/flyers"));
        async move { client.post(url).form(&form).send().await.unwrap() }
    };
    // Errors beside their field: a template that is not a loyalty card, no store.
    let resp = make(&hq, "lyon-02", "Counter", "receipt", &csrf).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = text(resp).await;
    assert!(html.contains("id=\"template-error\"") && html.contains("value=\"Counter\""), "{html}");
    let resp = make(&hq, "", "Counter", "loyalty", &csrf).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(resp).await.contains("id=\"store_id-error\""));

    let code_of = |resp: reqwest::Response| {
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let location = resp.headers()[LOCATION].to_str().unwrap().to_owned();
        location.strip_prefix("/console/flyers/").unwrap().strip_suffix("?created=1").unwrap().to_owned()
    };
    let lyon = code_of(make(&hq, "lyon-02", "Lyon counter", "loyalty", &csrf).await);
    // A store manager's flyer is its own store's, whatever the form says.
    let paris_csrf = hidden(&get(&paris, &app, "/console/flyers").await.1, "csrf");
    let counter = code_of(make(&paris, "lyon-02", "Paris counter", "loyalty", &paris_csrf).await);
    assert_eq!(api_json(&app, &format!("/api/v1/flyers/{counter}")).await["store_id"], "paris-01");
    assert_eq!(api_json(&app, &format!("/api/v1/flyers/{lyon}")).await["store_id"], "lyon-02");
    // A store key makes and prints its own store's flyers through the API, not another's.
    let (till, _) = new_key(&app, json!({"name": "till", "role": "store", "store_id": "paris-01"})).await;
    let resp = app.client.post(app.url("/api/v1/flyers")).bearer_auth(&till).json(&json!({"store_id": "lyon-02"}));
    assert_eq!(resp.send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let resp = app.client.post(app.url("/api/v1/flyers")).bearer_auth(&till).json(&json!({"store_id": "paris-01"}));
    let resp = resp.send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let window: Value = resp.json().await.unwrap();
    let window = window["code"].as_str().unwrap().to_owned();
    let print = app.client.get(app.url(&format!("/api/v1/flyers/{window}/print"))).bearer_auth(&till);
    assert_eq!(print.send().await.unwrap().status(), StatusCode::OK);
    let print = app.client.get(app.url(&format!("/api/v1/flyers/{lyon}/print"))).bearer_auth(&till);
    assert_eq!(print.send().await.unwrap().status(), StatusCode::NOT_FOUND);

    // Who sees which flyers.
    let listed = |html: &str| -> HashSet<String> {
        html.split("<th scope=\"row\"><a href=\"/console/flyers/").skip(1).map(|s| s[..8].to_owned()).collect()
    };
    let all: HashSet<String> = [&lyon, &counter, &window].iter().map(|c| c.to_string()).collect();
    assert_eq!(listed(&get(&hq, &app, "/console/flyers").await.1), all);
    assert_eq!(listed(&get(&hq, &app, "/console/flyers?store=lyon-02").await.1), HashSet::from([lyon.clone()]));
    let (_, html) = get(&paris, &app, "/console/flyers?store=lyon-02").await;
    assert_eq!(listed(&html), HashSet::from([counter.clone(), window.clone()]), "its own store's only");
    assert!(!html.contains("name=\"store_id\"") && !html.contains("lyon-02"), "no other store offered: {html}");
    for path in ["", "/qr.png", "/qr.svg", "/print", "/print?paper=a4"] {
        let (status, body) = get(&paris, &app, &format!("/console/flyers/{lyon}{path}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "another store's flyer{path}");
        assert!(!body.contains("Lyon counter"), "{path}");
    }

    // Its QR codes and print page, opened with the session.
    let resp = paris.get(app.url(&format!("/console/flyers/{counter}/qr.png"))).send().await.unwrap();
    assert_eq!((resp.status(), resp.headers()[CONTENT_TYPE].to_str().unwrap()), (StatusCode::OK, "image/png"));
    let png = resp.bytes().await.unwrap();
    let api_png = app.api(Method::GET, &format!("/api/v1/flyers/{counter}/qr.png")).send().await.unwrap();
    assert_eq!(png, api_png.bytes().await.unwrap(), "the API's QR code");
    let resp = paris.get(app.url(&format!("/console/flyers/{counter}/qr.svg"))).send().await.unwrap();
    assert_eq!(resp.headers()[CONTENT_TYPE], "image/svg+xml");
    assert!(text(resp).await.starts_with("<svg"));
    let join_url = format!("{}/join/{counter}", app.public_url);
    for (paper, size) in [("", "A5"), ("?paper=a5", "A5"), ("?paper=a4", "A4")] {
        let (status, html) = get(&paris, &app, &format!("/console/flyers/{counter}/print{paper}")).await;
        assert_eq!(status, StatusCode::OK, "{paper}");
        assert!(html.contains(&format!("size: {size} portrait")) && html.contains(&join_url), "{html}");
        assert!(html.contains("<svg") && html.contains("paris-01"), "{html}");
    }
    assert_eq!(
        get(&paris, &app, &format!("/console/flyers/{counter}/print?paper=a3")).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        browser().get(app.url(&format!("/console/flyers/{counter}/print"))).send().await.unwrap().status(),
        StatusCode::SEE_OTHER,
        "signed out: the sign-in page"
    );

    // Visitors: two browsers view the page several times, a cookieless client twice.
    let mut views = 0;
    let mut visitors = HashSet::new();
    let first = Client::builder().cookie_store(true).build().unwrap();
    let second = Client::builder().cookie_store(true).build().unwrap();
    let cookieless = Client::new();
    for client in [&first, &first, &second, &first, &cookieless, &second, &cookieless] {
        let resp = client.get(app.url(&format!("/join/{counter}"))).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        views += 1;
        for cookie in resp.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()) {
            if let Some(rest) = cookie.strip_prefix("passerelle_visitor=") {
                assert!(
                    cookie.contains("Path=/join") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
                    "{cookie}"
                );
                assert!(cookie.contains("Max-Age=31536000"), "{cookie}");
                visitors.insert(rest[..rest.find(';').unwrap()].to_owned());
            }
        }
    }
    // A sign-up counts too.
    let body = json!({"first_name": "Léa", "email": "lea@example.com", "source": {"flyer": counter}});
    assert_eq!(app.api(Method::POST, "/api/v1/members").json(&body).send().await.unwrap().status(), 201);
    assert_eq!((views, visitors.len()), (7, 4), "two browsers, and a new visitor per cookieless view");
    let stats = api_json(&app, &format!("/api/v1/flyers/{counter}/stats")).await;
    assert_eq!(stats["scans"], views);
    assert_eq!(stats["unique_scans"], visitors.len());
    assert_eq!(stats["signups"], 1);
    let (_, html) = get(&paris, &app, &format!("/console/flyers/{counter}")).await;
    assert_eq!(figures(&html), ["7", "4", "1", "0", "0", "0", "0"], "{html}"); // buyers and their purchases: none yet
    assert!(html.contains(&format!("href=\"/console/flyers/{counter}/print?paper=a4\"")), "{html}");
    let (_, html) = get(&hq, &app, "/console/flyers").await;
    let row = &html[html.find(&format!("/console/flyers/{counter}\"")).unwrap()..];
    let cells: Vec<&str> =
        row.split("<td class=\"num\">").skip(1).take(5).map(|s| &s[..s.find('<').unwrap()]).collect();
    assert_eq!(cells, ["7", "4", "1", "0", "0"], "{row}");
    assert_eq!(api_json(&app, &format!("/api/v1/flyers/{lyon}/stats")).await["unique_scans"], 0);
}

/// Templates: every template drawn from its example data, and the publish button's count is
/// what a count of the template's passes and of the devices holding them gives.
async fn templates_preview_and_publish_count(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    add_store(&app, "paris-01", "Europe/Paris").await;
    let store = store_of(&app).await;
    let mut loyalty = Vec::new();
    for i in 0..3 {
        let mut data = example("loyalty");
        data["card_number"] = json!(format!("ML-{i}"));
        loyalty.push(app.create_pass("loyalty", data).await["serial_number"].as_str().unwrap().to_owned());
    }
    let receipt = app.create_pass("receipt", example("receipt")).await["serial_number"].as_str().unwrap().to_owned();
    let registrations = [
        (&loyalty[0], "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        (&loyalty[1], "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        (&loyalty[1], "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"),
        (&receipt, "cccccccccccccccccccccccccccccccc"),
    ];
    for (serial, device) in registrations {
        on_iphone(&app, store.as_ref(), serial, device, &device[..8]).await;
    }
    let devices: HashSet<&str> = registrations.iter().filter(|(s, _)| loyalty.contains(s)).map(|(_, d)| *d).collect();
    let (passes, devices) = (loyalty.len(), devices.len());
    assert_eq!((passes, devices), (3, 2));

    let hq = signed_in(&app, "hq@example.com", "hq_marketer", None).await;
    let (status, html) = get(&hq, &app, "/console/templates").await;
    assert_eq!(status, StatusCode::OK);
    for entry in std::fs::read_dir(crate::helpers::repo().join("pass-templates")).unwrap() {
        let entry = entry.unwrap();
        if entry.path().is_dir() {
            let id = entry.file_name().into_string().unwrap();
            assert!(html.contains(&format!("id=\"tpl-{id}\"")), "{id} listed");
            assert!(html.contains(&format!("action=\"/console/templates/{id}/publish\"")), "{id} publishable");
        }
    }
    let section = &html[html.find("id=\"tpl-loyalty\"").unwrap()..];
    let section = &section[..section.find("</section>").unwrap()];
    assert!(section.contains(&format!("{passes} passes of this design, on {devices} devices.")), "{section}");
    assert!(section.contains(&format!("pushes an update to {devices} devices")), "{section}");
    assert!(section.contains(&format!("Publish to {passes} passes")), "{section}");
    assert!(section.contains("Camille Durand") && section.contains("ML-0042-1337"), "example data: {section}");
    assert!(section.contains("<svg") && section.contains("/console/assets/templates/loyalty/logo@2x.png"), "{section}");
    assert!(!section.contains("style="), "no inline style under the console's CSP");
    let fr = hq.get(app.url("/console/templates")).header("Accept-Language", "fr").send().await.unwrap();
    let fr = fr.text().await.unwrap();
    assert!(fr.contains(">Membre<") && fr.contains("Publier sur 3 cartes"), "{fr}");
    let css = hq.get(app.url("/console/assets/templates.css")).send().await.unwrap().text().await.unwrap();
    assert!(css.contains("--pass-bg: rgb(27, 38, 59)"), "{css}");
    let logo = hq.get(app.url("/console/assets/templates/loyalty/logo@2x.png")).send().await.unwrap();
    assert_eq!(logo.headers()[CONTENT_TYPE], "image/png");
    let manifest = hq.get(app.url("/console/assets/templates/loyalty/pass.json")).send().await.unwrap();
    assert_eq!(manifest.status(), StatusCode::NOT_FOUND, "only the images");

    // Publishing: without the token 403; with it every pass gets the new design.
    let before = store.pass(&loyalty[0]).await.unwrap().unwrap().version;
    let receipt_before = store.pass(&receipt).await.unwrap().unwrap().version;
    let path = "/console/templates/loyalty/publish";
    assert_eq!(post(&hq, &app, path, &[]).await.status(), StatusCode::FORBIDDEN);
    let csrf = hidden(&html, "csrf");
    let resp = post(&hq, &app, path, &[("csrf", &csrf)]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let done = text(resp).await;
    assert!(done.contains(&format!("Published loyalty: {passes} passes got the new design.")), "{done}");
    for serial in &loyalty {
        assert!(store.pass(serial).await.unwrap().unwrap().version > before, "{serial} has a new version");
    }
    assert_eq!(store.pass(&receipt).await.unwrap().unwrap().version, receipt_before, "another template's");

    let paris = signed_in(&app, "paris@example.com", "store_manager", Some("paris-01")).await;
    assert_eq!(get(&paris, &app, "/console/templates").await.0, StatusCode::FORBIDDEN);
    let token = hidden(&get(&paris, &app, "/console").await.1, "csrf");
    assert_eq!(post(&paris, &app, path, &[("csrf", &token)]).await.status(), StatusCode::FORBIDDEN);
}

/// `/`: a public page linking to the console and, with the demo certificate, to a demo pass of
/// each template, in English or French.
async fn the_landing_page_links_the_console_and_demo_passes() {
    let app = crate::helpers::spawn_app(test_config()).await;
    let resp = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    let html = text(resp).await;
    assert!(html.contains("href=\"/console\"") && html.contains("<html lang=\"en\">"), "{html}");
    let links: Vec<String> =
        html.split("href=\"/demo/passes/").skip(1).map(|s| s[..s.find('"').unwrap()].to_owned()).collect();
    assert_eq!(links, ["click-and-collect", "loyalty", "offer", "receipt"], "{html}");
    for id in &links {
        let pass = app.client.get(app.url(&format!("/demo/passes/{id}"))).send().await.unwrap();
        assert_eq!(pass.status(), StatusCode::OK, "{id}");
    }
    let fr = app.client.get(app.url("/")).header("Accept-Language", "fr-FR,fr;q=0.9").send().await.unwrap();
    let fr = fr.text().await.unwrap();
    assert!(fr.contains("Ouvrir la console") && fr.contains("<html lang=\"fr\">"), "{fr}");
}

on_both_backends!(
    stores_are_added_and_changed_with_errors_beside_fields,
    flyers_within_each_role_with_unique_scans,
    templates_preview_and_publish_count,
);
async_test!(the_landing_page_links_the_console_and_demo_passes);

/// The pages in headless Chromium at phone and desktop size, signed in through the form
/// (screenshots under `target/test-artifacts/console/`).
async fn the_pages_render_in_chromium() {
    let browser = crate::browser::Browser::start().await;
    let app = crate::helpers::spawn_app(test_config()).await;
    add_store(&app, "paris-01", "Europe/Paris").await;
    add_store(&app, "lyon-bellecour-02", "Europe/Paris").await;
    let flyer = app.api(Method::POST, "/api/v1/flyers").json(&json!({"store_id": "paris-01", "label": "Counter"}));
    let flyer: Value = flyer.send().await.unwrap().json().await.unwrap();
    let code = flyer["code"].as_str().unwrap();
    create_user(&app, "hq@example.com", "hq_admin", None);
    browser.goto(&app.url("/console/login")).await;
    browser.type_into("#email", "hq@example.com").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("button[type=submit]").await;
    browser.wait_for_text("Signed in as").await;
    std::fs::create_dir_all(crate::browser::artifacts().join("console")).unwrap();
    let pages = [
        ("stores", "/console/stores".to_owned(), "Add a store"),
        ("store", "/console/stores/paris-01".to_owned(), "Change this store"),
        ("flyers", "/console/flyers".to_owned(), "Make a flyer"),
        ("flyer", format!("/console/flyers/{code}"), "Unique visitors"),
        ("templates", "/console/templates".to_owned(), "Publish this design"),
        ("landing", "/".to_owned(), "Open the console"),
    ];
    for (width, height, size) in [(390, 844, "phone"), (1280, 800, "desktop")] {
        browser.resize(width, height).await;
        for (name, path, text) in &pages {
            browser.goto(&app.url(path)).await;
            browser.wait_for_text(text).await;
            browser.screenshot(&format!("console/{name}-{size}")).await;
        }
    }
}

browser_test!(the_pages_render_in_chromium);
