//! Headless Chromium driven through chromedriver with the `fantoccini` WebDriver client, for
//! tests of the shoppers' pages and the console (screenshots are saved under
//! `target/test-artifacts/`). chromedriver is started by the test and stopped with it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

pub struct Browser {
    /// The WebDriver session, for what the helpers below do not cover.
    pub client: Client,
    /// The chromedriver address, `127.0.0.1:<port>`, and the session's id: `Drop` closes it.
    address: String,
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

/// chromedriver's `POST /session/{id}/se/log` (not in the W3C protocol, so not in fantoccini):
/// the browser console's entries since the last call, CSP violations included.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        (axum::http::Method::POST, Some(json!({"type": "browser"}).to_string()))
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
        let downloads = tempfile::tempdir().unwrap();
        let caps = json!({
            "browserName": "chrome",
            // Console messages (errors, CSP violations) are kept for `take_log`.
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": chrome_bin,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-quic", "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--window-size=390,844",
                         "--hide-scrollbars",
                         "--user-agent=Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"],
                "prefs": {"download.default_directory": downloads.path(), "download.prompt_for_download": false},
            }
        });
        let Value::Object(caps) = caps else { unreachable!() };
        let caps: Capabilities = caps;
        let mut builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
        builder.capabilities(caps);
        let address = format!("127.0.0.1:{port}");
        // chromedriver takes a moment to listen.
        let mut attempt = 0;
        let client = loop {
            match builder.connect(&format!("http://{address}")).await {
                Ok(client) => break client,
                Err(e) if attempt >= 100 => panic!("no WebDriver session from chromedriver: {e}"),
                Err(_) => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        let session = client.session_id().await.unwrap().expect("a WebDriver session id");
        Browser { client, address, session, _driver: driver, downloads }
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("opening {url}: {e}"));
    }

    async fn element(&self, css: &str) -> fantoccini::elements::Element {
        self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no element {css:?}: {e}"))
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        self.element(css).await.send_keys(text).await.unwrap_or_else(|e| panic!("typing into {css:?}: {e}"));
    }

    pub async fn click(&self, css: &str) {
        self.element(css).await.click().await.unwrap_or_else(|e| panic!("clicking {css:?}: {e}"));
    }

    pub async fn source(&self) -> String {
        self.client.source().await.unwrap()
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
        self.element(css).await.attr(name).await.unwrap()
    }

    /// The path and query of the page shown, e.g. `/console/members?q=zo`.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Runs `script` in the page (a function body; `arguments[i]` are `args`) and returns its
    /// result. WebDriver's scripts are not subject to the page's Content-Security-Policy.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        self.client.execute(script, args).await.unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// The browser console's entries since the last call (`{"level", "message", ...}`).
    pub async fn take_log(&self) -> Vec<Value> {
        match self.client.issue_cmd(BrowserLog).await.unwrap() {
            Value::Array(entries) => entries,
            other => panic!("chromedriver's log is not a list: {other}"),
        }
    }

    /// Resizes the window (the browser starts at phone size, 390 × 844), e.g. to desktop size.
    pub async fn resize(&self, width: u32, height: u32) {
        self.client.set_window_size(width, height).await.unwrap();
    }

    /// Saves a PNG screenshot as `target/test-artifacts/<name>.png` (`name` may hold a folder,
    /// as `console/members-phone`) and returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        let path = artifacts().join(format!("{name}.png"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
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
        let address = self.address.as_str();
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
