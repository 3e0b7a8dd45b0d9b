//! A small W3C WebDriver client driving Debian's headless Chromium through chromedriver, for
//! tests of the shoppers' pages (screenshots are saved under `target/test-artifacts/`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    http: reqwest::Client,
    base: String,
    session: String,
    /// Dropped after the session is closed (fields drop after `Browser::drop`).
    _driver: Driver,
    /// Where the browser saves downloads.
    pub downloads: tempfile::TempDir,
}

/// chromedriver and Chromium, if this machine has both: (chromedriver, chromium).
pub fn binaries() -> Option<(&'static str, &'static str)> {
    let driver =
        ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"].into_iter().find(|p| Path::new(p).exists());
    let chrome = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].into_iter().find(|p| Path::new(p).exists());
    driver.zip(chrome)
}

/// Where tests leave screenshots.
pub fn artifacts() -> PathBuf {
    let dir = crate::helpers::repo().join("target/test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The chromedriver process: killed and reaped when dropped, even when the test panics.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Browser {
    /// Starts chromedriver and a phone-sized headless Chromium. The runner ignores browser tests
    /// on a machine without them (unless `PASSERELLE_TEST_REQUIRE_BROWSER=1`): here they must be.
    pub async fn start() -> Browser {
        let Some((driver_bin, chrome_bin)) = binaries() else {
            panic!(
                "chromium or chromedriver is missing (looked for /usr/bin/chromedriver, \
                 /usr/lib/chromium/chromedriver, /usr/bin/chromium, /usr/bin/chromium-browser): \
                 install Debian's chromium and chromium-driver to run the browser tests"
            )
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Driver(
            Command::new(driver_bin)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("chromedriver starts"),
        );
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        for _ in 0..100 {
            if http.get(format!("{base}/status")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let downloads = tempfile::tempdir().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chrome_bin,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-quic", "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--window-size=390,844",
                         "--user-agent=Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"],
                "prefs": {"download.default_directory": downloads.path(), "download.prompt_for_download": false},
            }
        }}});
        let resp: Value = http.post(format!("{base}/session")).json(&caps).send().await.unwrap().json().await.unwrap();
        let session =
            resp["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no WebDriver session: {resp}")).to_owned();
        Browser { http, base, session, _driver: driver, downloads }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        assert!(v["value"].get("error").is_none(), "WebDriver {path}: {v}");
        v["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url}))).await;
    }

    async fn element(&self, css: &str) -> String {
        let v =
            self.call(reqwest::Method::POST, "/element", Some(json!({"using": "css selector", "value": css}))).await;
        v[ELEMENT].as_str().unwrap().to_owned()
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{id}/value"), Some(json!({"text": text}))).await;
    }

    pub async fn click(&self, css: &str) {
        let id = self.element(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{id}/click"), Some(json!({}))).await;
    }

    pub async fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", None).await.as_str().unwrap().to_owned()
    }

    /// Waits (up to 10 s) until the page source contains `text`, e.g. after a click that navigates.
    pub async fn wait_for_text(&self, text: &str) -> String {
        for _ in 0..100 {
            let page = self.source().await;
            if page.contains(text) {
                return page;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the page never showed {text:?}:\n{}", self.source().await);
    }

    pub async fn attribute(&self, css: &str, name: &str) -> Option<String> {
        let id = self.element(css).await;
        self.call(reqwest::Method::GET, &format!("/element/{id}/attribute/{name}"), None)
            .await
            .as_str()
            .map(str::to_owned)
    }

    /// Resizes the window (the browser starts at phone size, 390 × 844), e.g. to desktop size.
    pub async fn resize(&self, width: u32, height: u32) {
        self.call(reqwest::Method::POST, "/window/rect", Some(json!({"width": width, "height": height}))).await;
    }

    /// Saves a PNG screenshot as `target/test-artifacts/<name>.png` and returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let b64 = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = openssl::base64::decode_block(b64.as_str().unwrap()).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        let path = artifacts().join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Waits for a finished download ending in `suffix` and returns its bytes.
    pub async fn downloaded(&self, suffix: &str) -> Vec<u8> {
        for _ in 0..100 {
            let done = std::fs::read_dir(self.downloads.path())
                .unwrap()
                .filter_map(Result::ok)
                .find(|e| e.file_name().to_string_lossy().ends_with(suffix));
            if let Some(file) = done {
                return std::fs::read(file.path()).unwrap();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no {suffix} download in {}", self.downloads.path().display());
    }
}

/// Closes the WebDriver session, which makes chromedriver quit Chromium and wait for it; then
/// `Driver` stops chromedriver. Runs when a test ends, panicking or not, so no Chromium outlives
/// `cargo test`. Blocking is fine here: the test is over.
impl Drop for Browser {
    fn drop(&mut self) {
        let address = self.base.trim_start_matches("http://");
        let request = format!(
            "DELETE /session/{} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.session
        );
        let closed = std::net::TcpStream::connect(address).and_then(|mut stream| {
            use std::io::{Read, Write};
            stream.set_read_timeout(Some(Duration::from_secs(20)))?;
            stream.write_all(request.as_bytes())?;
            // chromedriver keeps the connection open: read the head, then Content-Length bytes.
            let mut answer = Vec::new();
            let mut chunk = [0; 4096];
            loop {
                let n = stream.read(&mut chunk)?;
                answer.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&answer);
                if let Some(head_end) = text.find("\r\n\r\n") {
                    let length = text[..head_end]
                        .lines()
                        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(str::to_owned))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if n == 0 || answer.len() >= head_end + 4 + length {
                        return Ok(text.into_owned());
                    }
                } else if n == 0 {
                    return Ok(text.into_owned());
                }
            }
        });
        match closed {
            Ok(answer) if answer.starts_with("HTTP/1.1 200") => {}
            other => eprintln!("closing the WebDriver session {} failed: {other:?}", self.session),
        }
    }
}

browser_test!(the_pass_page_downloads_a_pass_in_chromium);
/// The pass page in a real browser: it renders, and "Add to Apple Wallet" downloads a valid pass.
async fn the_pass_page_downloads_a_pass_in_chromium() {
    let browser = Browser::start().await;
    let app = crate::helpers::spawn_app(crate::helpers::test_config()).await;
    let created = app.create_pass("loyalty", crate::helpers::example("loyalty")).await;
    browser.goto(created["pass_page_url"].as_str().unwrap()).await;
    browser.wait_for_text("Add to Apple Wallet").await;
    browser.screenshot("pass-page").await;
    browser.click("a.wallet.apple").await;
    let pkpass = browser.downloaded(".pkpass").await;
    let pass = crate::helpers::assert_valid_pass(&pkpass).json("pass.json");
    assert_eq!(pass["serialNumber"], created["serial_number"]);
}

browser_test!(a_shopper_joins_from_a_flyer_in_chromium);
/// A shopper scans a flyer: the form in Chromium, an invalid submit (errors beside the fields),
/// a valid one, then "Add to Apple Wallet" downloads a valid pass for that member.
async fn a_shopper_joins_from_a_flyer_in_chromium() {
    use reqwest::Method;
    use serde_json::json;
    let browser = Browser::start().await;
    let app = crate::helpers::spawn_app(crate::helpers::test_config()).await;
    let store = json!({"id": "paris-01", "name": "Paris Rivoli", "latitude": 48.8606, "longitude": 2.3522, "timezone": "Europe/Paris"});
    assert_eq!(app.api(Method::POST, "/api/v1/stores").json(&store).send().await.unwrap().status(), 201);
    let flyer: Value = app
        .api(Method::POST, "/api/v1/flyers")
        .json(&json!({"store_id": "paris-01", "label": "Window"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    browser.goto(flyer["join_url"].as_str().unwrap()).await;
    browser.screenshot("join-form").await;
    // Terms left unchecked and no contact: the form comes back with errors next to the fields.
    browser.type_into("#first_name", "Camille").await;
    browser.click("button[type=submit]").await;
    let page = browser.wait_for_text("id=\"email-error\"").await;
    assert!(page.contains("id=\"terms-error\""), "errors shown next to both fields");
    assert_eq!(browser.attribute("#first_name", "value").await.as_deref(), Some("Camille"), "the form is refilled");
    browser.screenshot("join-form-errors").await;

    browser.type_into("#email", "camille@example.fr").await;
    browser.click("#terms").await;
    browser.click("button[type=submit]").await;
    browser.wait_for_text("Add to Apple Wallet").await;
    browser.screenshot("join-result").await;

    browser.click("a.wallet.apple").await;
    let pkpass = browser.downloaded(".pkpass").await;
    let pass = crate::helpers::assert_valid_pass(&pkpass).json("pass.json");
    let found: Value =
        app.api(Method::GET, "/api/v1/members?email=camille@example.fr").send().await.unwrap().json().await.unwrap();
    let member = &found["items"][0];
    assert_eq!(pass["serialNumber"], member["pass"]["serial_number"], "the pass of the member who signed up");
    assert_eq!(pass["barcodes"][0]["message"], member["card_number"]);
}
