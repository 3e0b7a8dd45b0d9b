//! Stores and flyers: the stores API, flyer codes, their QR codes (decoded with an independent
//! decoder, rqrr) and the printable flyer.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_app_on, test_config};

async fn error_of(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = resp.status();
    (status, resp.json::<Value>().await.unwrap()["error"].clone())
}

fn paris() -> Value {
    json!({
        "id": "paris-01",
        "name": "Paris Rivoli",
        "address": "12 rue de Rivoli, 75004 Paris",
        "latitude": 48.8606,
        "longitude": 2.3522,
        "timezone": "Europe/Paris",
    })
}

async fn post_store(app: &TestApp, body: &Value) -> reqwest::Response {
    app.api(Method::POST, "/api/v1/stores").json(body).send().await.unwrap()
}

async fn stores_crud(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    let created = post_store(&app, &paris()).await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["id"], "paris-01");
    assert_eq!(created["latitude"], 48.8606);
    assert_eq!(created["timezone"], "Europe/Paris");
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));

    let mut lyon = json!({"id": "lyon-01", "name": "Lyon", "latitude": 45.764, "longitude": 4.8357,
                          "timezone": "europe/paris"});
    let lyon_created: Value = post_store(&app, &lyon).await.json().await.unwrap();
    assert_eq!(lyon_created["timezone"], "Europe/Paris", "the canonical name is stored");
    assert_eq!(lyon_created["address"], Value::Null);

    let (status, err) = error_of(post_store(&app, &paris()).await).await;
    assert_eq!((status.as_u16(), err["field"].as_str()), (409, Some("id")));

    let shown: Value = app.api(Method::GET, "/api/v1/stores/paris-01").send().await.unwrap().json().await.unwrap();
    assert_eq!(shown, created);
    assert_eq!(app.api(Method::GET, "/api/v1/stores/nope").send().await.unwrap().status(), 404);
    assert_eq!(app.api(Method::GET, "/api/v1/stores/NOT%20AN%20ID").send().await.unwrap().status(), 404);

    // Pages in id order.
    let page: Value = app.api(Method::GET, "/api/v1/stores?limit=1").send().await.unwrap().json().await.unwrap();
    assert_eq!(page["items"][0]["id"], "lyon-01");
    let cursor = page["next_cursor"].as_str().unwrap();
    let page: Value = app
        .api(Method::GET, &format!("/api/v1/stores?limit=1&cursor={cursor}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"][0]["id"], "paris-01");
    let all: Value = app.api(Method::GET, "/api/v1/stores").send().await.unwrap().json().await.unwrap();
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    assert_eq!(all["next_cursor"], Value::Null);

    // A partial change keeps the other fields; an explicit null clears the address.
    let patched = app
        .api(Method::PATCH, "/api/v1/stores/paris-01")
        .json(&json!({"name": "Paris Rivoli (Hôtel de Ville)", "latitude": 48.857}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(patched["name"], "Paris Rivoli (Hôtel de Ville)");
    assert_eq!(patched["latitude"], 48.857);
    assert_eq!(patched["longitude"], 2.3522);
    assert_eq!(patched["address"], "12 rue de Rivoli, 75004 Paris");
    let cleared: Value = app
        .api(Method::PATCH, "/api/v1/stores/paris-01")
        .json(&json!({"address": null}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["address"], Value::Null);
    assert_eq!(cleared["name"], "Paris Rivoli (Hôtel de Ville)");
    let r = app.api(Method::PATCH, "/api/v1/stores/nope").json(&json!({"name": "x"})).send().await.unwrap();
    assert_eq!(r.status(), 404);

    // Nothing to change, or an unknown field, is a 400.
    lyon["colour"] = json!("red");
    assert_eq!(post_store(&app, &lyon).await.status(), 400);
    let r = app.api(Method::PATCH, "/api/v1/stores/paris-01").json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), 400);
}

async fn bad_stores_are_named(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    for (key, value, field) in [
        ("latitude", json!(91.0), "latitude"),
        ("longitude", json!(-180.5), "longitude"),
        ("timezone", json!("Europe/Atlantis"), "timezone"),
        ("timezone", json!("+01:00"), "timezone"),
        ("id", json!("Paris 01"), "id"),
        ("id", json!("x".repeat(41)), "id"),
        ("name", json!("   "), "name"),
    ] {
        let mut body = paris();
        body[key] = value.clone();
        let (status, err) = error_of(post_store(&app, &body).await).await;
        assert_eq!((status.as_u16(), err["field"].as_str()), (422, Some(field)), "{key} = {value}");
        assert!(err["message"].as_str().unwrap().contains(field), "{err}");
    }
    post_store(&app, &paris()).await;
    for (body, field) in [(json!({"latitude": -90.01}), "latitude"), (json!({"timezone": "Mars/Olympus"}), "timezone")]
    {
        let (status, err) =
            error_of(app.api(Method::PATCH, "/api/v1/stores/paris-01").json(&body).send().await.unwrap()).await;
        assert_eq!((status.as_u16(), err["field"].as_str()), (422, Some(field)), "{body}");
    }
    let (status, err) = error_of(app.api(Method::GET, "/api/v1/stores?limit=0").send().await.unwrap()).await;
    assert_eq!((status.as_u16(), err["field"].as_str()), (400, Some("limit")));

    // No key, no stores or flyers.
    for path in ["/api/v1/stores", "/api/v1/stores/paris-01", "/api/v1/flyers/abcdefgh/qr.png"] {
        assert_eq!(app.client.get(app.url(path)).send().await.unwrap().status(), 401, "{path}");
    }
    let r = app.client.post(app.url("/api/v1/stores")).json(&paris()).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = app.client.post(app.url("/api/v1/flyers")).json(&json!({"store_id": "paris-01"})).send().await.unwrap();
    assert_eq!(r.status(), 401);
}

/// Decodes a PNG QR code with rqrr (independent of the encoder the server uses).
fn decode_qr(png_bytes: &[u8]) -> String {
    let mut reader = png::Decoder::new(std::io::Cursor::new(png_bytes)).read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut buf).unwrap();
    let (w, h) = (frame.width as usize, frame.height as usize);
    assert!(w >= 1000, "sized for print: {w} px wide");
    // Any PNG layout: expand to one grey byte per pixel.
    let (bits, channels) = (frame.bit_depth as usize, frame.color_type.samples());
    let line = frame.line_size;
    let grey = |x: usize, y: usize| -> u8 {
        let row = &buf[y * line..(y + 1) * line];
        match bits {
            1 => {
                if row[x / 8] & (0x80 >> (x % 8)) != 0 {
                    255
                } else {
                    0
                }
            }
            8 => row[x * channels],
            other => panic!("unexpected bit depth {other}"),
        }
    };
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, grey);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    grids[0].decode().expect("the QR code decodes").1
}

async fn flyers(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    post_store(&app, &paris()).await;
    let created = app
        .api(Method::POST, "/api/v1/flyers")
        .json(&json!({"store_id": "paris-01", "label": "Spring leaflet", "template": "loyalty"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let flyer: Value = created.json().await.unwrap();
    let code = flyer["code"].as_str().unwrap();
    assert_eq!(code.len(), 8);
    assert!(code.bytes().all(|b| b"23456789abcdefghjkmnpqrstuvwxyz".contains(&b)), "{code}");
    assert_eq!(flyer["store_id"], "paris-01");
    assert_eq!(flyer["label"], "Spring leaflet");
    assert_eq!(flyer["template"], "loyalty");
    let join_url = flyer["join_url"].as_str().unwrap();
    assert!(join_url.starts_with("http://") || join_url.starts_with("https://"), "absolute: {join_url}");
    assert_eq!(join_url, format!("{}/join/{code}", app.public_url));
    for key in ["qr_png_url", "qr_svg_url", "print_url"] {
        assert!(flyer[key].as_str().unwrap().starts_with(&app.public_url), "{key}");
    }
    let shown: Value =
        app.api(Method::GET, &format!("/api/v1/flyers/{code}")).send().await.unwrap().json().await.unwrap();
    assert_eq!(shown, flyer);

    // Two flyers never share a code; the template defaults to loyalty.
    let other: Value = app
        .api(Method::POST, "/api/v1/flyers")
        .json(&json!({"store_id": "paris-01"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(other["code"], flyer["code"]);
    assert_eq!(other["template"], "loyalty");

    // The QR code, decoded by an independent decoder, is the join URL.
    let png = app.api(Method::GET, &format!("/api/v1/flyers/{code}/qr.png")).send().await.unwrap();
    assert_eq!(png.status(), 200);
    assert_eq!(png.headers()["content-type"], "image/png");
    assert_eq!(decode_qr(&png.bytes().await.unwrap()), join_url);
    let png = app.client.get(flyer["qr_png_url"].as_str().unwrap().replace(&app.public_url, &app.base_url));
    assert_eq!(png.send().await.unwrap().status(), 401, "the QR code needs the key too");

    let svg = app.api(Method::GET, &format!("/api/v1/flyers/{code}/qr.svg")).send().await.unwrap();
    assert_eq!(svg.status(), 200);
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    let svg = svg.text().await.unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\"") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("viewBox=\"0 0 ") && svg.contains("<path"), "{svg}");
    assert_eq!(svg.matches('<').count(), svg.matches('>').count());

    let print = app.api(Method::GET, &format!("/api/v1/flyers/{code}/print")).send().await.unwrap();
    assert_eq!(print.status(), 200);
    assert!(print.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = print.text().await.unwrap();
    assert!(html.contains("Paris Rivoli") && html.contains("12 rue de Rivoli"), "store name and address");
    assert!(html.contains("<svg") && html.contains("size: A5"), "the QR code inline, A5 by default");
    assert!(html.contains("Scan to join our loyalty programme"));
    assert!(html.contains("Scannez pour rejoindre notre programme de fidélité"));
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"), "no external assets");
    let a4 = app.api(Method::GET, &format!("/api/v1/flyers/{code}/print?paper=a4")).send().await.unwrap();
    assert!(a4.text().await.unwrap().contains("size: A4"));
    let r = app.api(Method::GET, &format!("/api/v1/flyers/{code}/print?paper=letter")).send().await.unwrap();
    assert_eq!(r.status(), 400);
}

async fn bad_flyers(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    post_store(&app, &paris()).await;
    let post = |body: Value| app.api(Method::POST, "/api/v1/flyers").json(&body).send();
    for (body, field) in [
        (json!({"store_id": "nowhere-01"}), "store_id"),
        (json!({"store_id": "Not An Id"}), "store_id"),
        (json!({"store_id": "paris-01", "template": "receipt"}), "template"),
        (json!({"store_id": "paris-01", "template": "no-such-template"}), "template"),
        (json!({"store_id": "paris-01", "label": "x".repeat(201)}), "label"),
    ] {
        let (status, err) = error_of(post(body.clone()).await.unwrap()).await;
        assert_eq!((status.as_u16(), err["field"].as_str()), (422, Some(field)), "{body}");
    }
    let (status, _) = error_of(post(json!({"label": "no store"})).await.unwrap()).await;
    assert_eq!(status, 400);

    for path in ["abcdefgh", "abcdefgh/qr.png", "abcdefgh/qr.svg", "abcdefgh/print", "0000", "0000/qr.png"] {
        let r = app.api(Method::GET, &format!("/api/v1/flyers/{path}")).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
}

/// A member's loyalty card lists the stores: the home store first, then the nearest.
async fn loyalty_passes_carry_store_locations(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    let stores = [
        ("paris-01", "Paris Rivoli", 48.8606, 2.3522),
        ("lille-01", "Lille Centre", 50.6292, 3.0573),
        ("lyon-01", "Lyon Part-Dieu", 45.7609, 4.8590),
        ("marseille-01", "Marseille Vieux-Port", 43.2951, 5.3740),
    ];
    for (id, name, lat, lon) in stores {
        let body = json!({"id": id, "name": name, "latitude": lat, "longitude": lon, "timezone": "Europe/Paris"});
        assert_eq!(post_store(&app, &body).await.status(), 201);
    }
    let member = app
        .api(Method::POST, "/api/v1/members")
        .json(&json!({"first_name": "Camille", "email": "camille@example.fr", "home_store_id": "lyon-01", "consent": {"terms": true}}))
        .send()
        .await
        .unwrap();
    assert_eq!(member.status(), 201);
    let member: Value = member.json().await.unwrap();
    let url = member["pass"]["apple_pass_url"].as_str().unwrap();
    let pkpass = app.client.get(url).send().await.unwrap().bytes().await.unwrap();
    let pass = crate::helpers::assert_valid_pass(&pkpass).json("pass.json");
    let names: Vec<&str> =
        pass["locations"].as_array().unwrap().iter().map(|l| l["relevantText"].as_str().unwrap()).collect();
    assert_eq!(names, ["Lyon Part-Dieu", "Marseille Vieux-Port", "Paris Rivoli", "Lille Centre"], "home, then nearest");
    assert_eq!(pass["locations"][0]["latitude"], 45.7609);
}

on_both_backends!(stores_crud, bad_stores_are_named, flyers, bad_flyers, loyalty_passes_carry_store_locations);

/// Members, receipts and points name real stores: an unknown id is 422 naming the field, so a
/// typo never makes a store nobody can find, target or report on.
async fn unknown_store_ids_are_refused(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    crate::helpers::add_store(&app, "paris-01", "Europe/Paris").await;
    let field = |resp: reqwest::Response| async move {
        assert_eq!(resp.status(), 422);
        let body: Value = resp.json().await.unwrap();
        body["error"]["field"].as_str().unwrap().to_owned()
    };
    let member = json!({"first_name": "Zoé", "email": "zoe@example.com", "home_store_id": "pari-01"});
    let resp = app.api(Method::POST, "/api/v1/members").json(&member).send().await.unwrap();
    assert_eq!(field(resp).await, "home_store_id");
    let member = json!({"first_name": "Zoé", "email": "zoe@example.com", "home_store_id": "paris-01"});
    let made: Value =
        app.api(Method::POST, "/api/v1/members").json(&member).send().await.unwrap().json().await.unwrap();
    let id = made["id"].as_str().unwrap();
    let path = format!("/api/v1/members/{id}");
    let resp = app.api(Method::PATCH, &path).json(&json!({"home_store_id": "nowhere"})).send().await.unwrap();
    assert_eq!(field(resp).await, "home_store_id");
    let points = json!({"delta": 5, "store_id": "nowhere"});
    let resp = app.api(Method::POST, &format!("{path}/points")).json(&points).send().await.unwrap();
    assert_eq!(field(resp).await, "store_id");
    let receipt = json!({
        "store_id": "nowhere", "issued_at": "2026-11-22T15:42:00+01:00", "receipt_number": "R-1",
        "lines": [{"label": "Candle", "quantity": 1, "unit_price": 500, "total": 500}],
        "totals": {"subtotal": 500, "tax": 0, "total": 500, "currency": "EUR"},
    });
    let resp = app.api(Method::POST, "/api/v1/receipts").json(&receipt).send().await.unwrap();
    assert_eq!(field(resp).await, "store_id");
    let unchanged: Value = app.api(Method::GET, &path).send().await.unwrap().json().await.unwrap();
    assert_eq!((unchanged["home_store_id"].as_str(), unchanged["points"].as_i64()), (Some("paris-01"), Some(0)));
}

on_both_backends!(unknown_store_ids_are_refused);
