//! The page audit run in Chromium on the console's pages: no horizontal scrolling, no console
//! error (CSP violations included), a label on every form control and readable text contrast
//! (`page_audit.js`), plus full-page screenshots; and a test that it sees each kind of problem.

use crate::browser::Browser;

/// A window size the pages are audited at.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub name: &'static str,
    pub width: u32,
    pub height: u32,
}

pub const PHONE: Size = Size { name: "phone", width: 390, height: 844 };
pub const DESKTOP: Size = Size { name: "desktop", width: 1280, height: 800 };

/// Sizes the window so that the page itself (the viewport) is `width` × `height`.
pub async fn set_viewport(browser: &Browser, width: u32, height: u32) {
    browser.resize(width, height).await;
    let inner = browser.execute("return [window.innerWidth, window.innerHeight];", vec![]).await;
    let (w, h) = (inner[0].as_u64().unwrap() as u32, inner[1].as_u64().unwrap() as u32);
    if (w, h) != (width, height) {
        browser.resize(width + width.saturating_sub(w), height + height.saturating_sub(h)).await;
    }
}

/// The HTTP status of the page shown (Chromium's navigation timing knows it).
pub async fn status(browser: &Browser) -> u64 {
    let script = "const nav = performance.getEntriesByType('navigation')[0]; return nav ? nav.responseStatus : 0;";
    browser.execute(script, vec![]).await.as_u64().unwrap_or(0)
}

/// Console errors since the last look: every `SEVERE` entry of the browser log, except the
/// one Chromium logs for the page's own answer when that is the `expected` error status.
pub async fn console_errors(browser: &Browser, expected: u64) -> Vec<String> {
    let expected_line = format!("the server responded with a status of {expected} ");
    browser
        .take_log()
        .await
        .into_iter()
        .filter(|e| e["level"] == "SEVERE")
        .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
        .filter(|m| expected < 400 || !m.contains(&expected_line))
        .map(|m| format!("console error: {}", shorten_urls(&m)))
        .collect()
}

/// Chromium starts its messages with the page's URL: long ones are cut, the message kept.
fn shorten_urls(message: &str) -> String {
    let short = |word: &str| match word.char_indices().nth(80) {
        Some((at, _)) => format!("{}…", &word[..at]),
        None => word.to_owned(),
    };
    message.split(' ').map(short).collect::<Vec<_>>().join(" ")
}

/// Audits the page shown: its status, console errors since the last look, and `page_audit.js`.
pub async fn audit(browser: &Browser, expected: u64) -> Vec<String> {
    let mut problems = Vec::new();
    let got = status(browser).await;
    if got != expected {
        problems.push(format!("status {got}, expected {expected}"));
    }
    problems.extend(console_errors(browser, expected).await);
    let found = browser.execute(include_str!("page_audit.js"), vec![]).await;
    let found = found.as_array().unwrap_or_else(|| panic!("the audit script answered {found}"));
    problems.extend(found.iter().map(|p| p.as_str().unwrap_or_default().to_owned()));
    problems
}

/// A screenshot of the whole page (the window made as tall as the page for it), at `size`'s width.
pub async fn full_screenshot(browser: &Browser, name: &str, size: Size) {
    let height = browser.execute("return document.documentElement.scrollHeight;", vec![]).await;
    let height = (height.as_u64().unwrap_or(0) as u32).clamp(size.height, 6000);
    if height > size.height {
        set_viewport(browser, size.width, height).await;
    }
    browser.screenshot(name).await;
    if height > size.height {
        set_viewport(browser, size.width, size.height).await;
    }
}

crate::browser_test!(the_page_audit_finds_each_kind_of_problem);
/// A page with one problem of each kind: the audit names them all (so a clean console page is
/// clean because it is, not because the checks look at nothing).
async fn the_page_audit_finds_each_kind_of_problem() {
    let browser = Browser::start().await;
    let page = r#"<!doctype html><html><head>
<meta http-equiv="Content-Security-Policy" content="style-src-elem 'none'">
<style>body { color: red; }</style></head>
<body style="margin:0">
<div style="width:600px">wide</div>
<p style="color:#999999; background:#ffffff">pale grey</p>
<h1 style="color:#777777; font-size:30px">large grey heading</h1>
<label for="named">Named</label><input id="named"><input id="nameless"><select id="choice"></select><button id="icon"></button>
<script>throw new Error("boom from the page");</script>
</body></html>"#;
    set_viewport(&browser, PHONE.width, PHONE.height).await;
    browser.goto(&format!("data:text/html;charset=utf-8,{}", percent_encode(page))).await;
    let problems = audit(&browser, 200).await;
    let report = problems.join("\n");
    let expect = |needle: &str| assert!(problems.iter().any(|p| p.contains(needle)), "no {needle:?} in:\n{report}");
    expect("horizontal scrolling: the page is 600px wide in a 390px window (sticking out: div \"wide\")");
    expect("Content Security Policy");
    expect("boom from the page");
    expect("a form control without a label: input#nameless");
    expect("a form control without a label: select#choice");
    expect("a form control without a label: button#icon");
    expect("text contrast too low, #999999 on #ffffff: 2.85:1, needs 4.5:1 (p \"pale grey\")");
    assert!(!report.contains("input#named") && !report.contains("large grey heading"), "{report}");
    assert_eq!(problems.len(), 7, "{report}");
}

/// `data:` URLs need their `#`, `%` and spaces escaped.
fn percent_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>().replace('+', "%20")
}
