//! HTML pages for shoppers, rendered with minijinja (autoescaped) from `http/pages/*.html`.

use std::sync::OnceLock;

use axum::http::HeaderMap;
use axum::http::header::ACCEPT_LANGUAGE;
use minijinja::Environment;
use serde::Serialize;

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.add_template("pass.html", include_str!("pages/pass.html")).expect("pass.html is a valid template");
        env.add_template("join_base.html", include_str!("pages/join_base.html"))
            .expect("join_base.html is a valid template");
        env.add_template("join.html", include_str!("pages/join.html")).expect("join.html is a valid template");
        env.add_template("join_card.html", include_str!("pages/join_card.html"))
            .expect("join_card.html is a valid template");
        env.add_template("join_message.html", include_str!("pages/join_message.html"))
            .expect("join_message.html is a valid template");
        env.add_template("member_link.html", include_str!("pages/member_link.html"))
            .expect("member_link.html is valid");
        env.add_template("landing.html", include_str!("pages/landing.html")).expect("landing.html is valid");
        env.add_template("me_base.html", include_str!("pages/me_base.html")).expect("me_base.html is valid");
        env.add_template("me.html", include_str!("pages/me.html")).expect("me.html is valid");
        env.add_template("me_receipt.html", include_str!("pages/me_receipt.html")).expect("me_receipt.html is valid");
        env
    })
}

/// Renders a page; template errors are programming errors caught by the tests.
pub fn render(name: &str, ctx: impl Serialize) -> anyhow::Result<String> {
    Ok(env().get_template(name)?.render(minijinja::value::Serde(ctx))?)
}

/// `fr` when the browser prefers French, `en` otherwise (the two languages the pages ship).
pub fn language(headers: &HeaderMap) -> &'static str {
    let accept = headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let first = accept.split(',').next().unwrap_or("").trim().to_ascii_lowercase();
    if first.starts_with("fr") { "fr" } else { "en" }
}

/// Whether the browser runs on Android (its wallet is Google's).
pub fn is_android(headers: &HeaderMap) -> bool {
    headers.get(axum::http::header::USER_AGENT).and_then(|v| v.to_str().ok()).is_some_and(|ua| ua.contains("Android"))
}
