//! Every demo template, served by the real server, is a valid signed pass from outside; the demo route exists only
//! while the signing certificate is the demo one.

use crate::helpers::{assert_pass_json_complete, assert_valid_pass, spawn_app, test_config};

pub async fn fetch_demo(base: &str, template: &str) -> Vec<u8> {
    let resp = reqwest::get(format!("{base}/demo/passes/{template}")).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/vnd.apple.pkpass");
    assert_eq!(resp.headers()["cache-control"], "no-store");
    resp.bytes().await.unwrap().to_vec()
}

async_test!(each_demo_template_builds_a_pass_that_verifies);
async fn each_demo_template_builds_a_pass_that_verifies() {
    let app = spawn_app(test_config()).await;
    for template in ["loyalty", "click-and-collect", "receipt", "offer"] {
        let pkpass = fetch_demo(&app.base_url, template).await;
        let u = assert_valid_pass(&pkpass);
        let pass = u.json("pass.json");
        assert_pass_json_complete(&pass);
        assert_eq!(pass["webServiceURL"], app.base_url.as_str(), "without PASSERELLE_PUBLIC_URL, the bound address");
        for lang in ["en", "fr"] {
            assert!(u.files.contains_key(&format!("{lang}.lproj/pass.strings")), "{template}: {lang}.lproj missing");
        }
        for icon in ["icon.png", "icon@2x.png", "icon@3x.png"] {
            assert!(u.files.contains_key(icon), "{template}: {icon} missing");
        }
    }
}

async_test!(placeholders_are_filled_with_typed_values);
async fn placeholders_are_filled_with_typed_values() {
    let app = spawn_app(test_config()).await;
    let loyalty = assert_valid_pass(&fetch_demo(&app.base_url, "loyalty").await).json("pass.json");
    let fields = loyalty["storeCard"]["primaryFields"].as_array().unwrap();
    let points = fields.iter().find(|f| f["key"] == "points").expect("points field");
    assert_eq!(points["value"], 320, "a whole-string placeholder of an integer field renders as a number");
    assert!(points["changeMessage"].as_str().unwrap().contains("%@"));
    assert_eq!(loyalty["barcodes"][0]["message"], "ML-0042-1337");
    let offer = loyalty["storeCard"]["backFields"].as_array().unwrap().iter().find(|f| f["key"] == "offer").unwrap();
    assert!(offer["changeMessage"].as_str().unwrap().contains("%@"));

    let order = assert_valid_pass(&fetch_demo(&app.base_url, "click-and-collect").await).json("pass.json");
    assert_eq!(order["relevantDate"], "2026-11-24T10:00:00+01:00", "W3C date with zone, no fraction");
    assert_eq!(order["locations"][0]["latitude"], 45.7609);
    assert!(order["eventTicket"].is_object());

    let receipt = assert_valid_pass(&fetch_demo(&app.base_url, "receipt").await).json("pass.json");
    let back = receipt["generic"]["backFields"].as_array().unwrap();
    assert!(
        back.iter().any(|f| f["value"].as_str().is_some_and(|v| v.contains("Linen lampshade"))),
        "lines on the back"
    );
}

async_test!(every_pass_gets_its_own_serial_and_token);
async fn every_pass_gets_its_own_serial_and_token() {
    let app = spawn_app(test_config()).await;
    let a = assert_valid_pass(&fetch_demo(&app.base_url, "loyalty").await).json("pass.json");
    let b = assert_valid_pass(&fetch_demo(&app.base_url, "loyalty").await).json("pass.json");
    assert_ne!(a["serialNumber"], b["serialNumber"]);
    assert_ne!(a["authenticationToken"], b["authenticationToken"]);
    assert!(a["serialNumber"].as_str().unwrap().len() >= 32, "128-bit serials");
}

async_test!(demo_passes_exist_only_with_the_demo_certificate);
async fn demo_passes_exist_only_with_the_demo_certificate() {
    // Another certificate (same subject, issued by the demo WWDR): no demo route, a JSON 404 like any unknown route.
    let (_certs, other) = crate::certificates::pass_cert(-1, 365);
    let mut config = test_config();
    (config.apple.cert, config.apple.key, config.apple.wwdr) = (Some(other.cert), other.key, other.wwdr);
    let app = spawn_app(config).await;
    for template in ["loyalty", "receipt", "nope"] {
        let resp = reqwest::get(format!("{}/demo/passes/{template}", app.base_url)).await.unwrap();
        assert_eq!(resp.status(), 404, "{template}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found", "{template}");
    }
    let created = app.create_pass("loyalty", crate::helpers::example("loyalty")).await;
    assert!(created["serial_number"].is_string(), "the server itself works with that certificate: {created}");

    // The demo certificate is recognised by its content, also from its .p12 (which carries the WWDR).
    let mut config = test_config();
    config.apple.cert = Some(crate::helpers::repo().join("certs-example/pass.p12"));
    (config.apple.key, config.apple.wwdr) = (None, None);
    config.apple.key_password = Some(passerelle::secret::Secret::new("passerelle"));
    let app = spawn_app(config).await;
    assert_valid_pass(&fetch_demo(&app.base_url, "loyalty").await);
}
