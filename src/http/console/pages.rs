//! Rendering console pages: one template set embedded in the binary, the layout's context (the
//! user, the navigation their role may use, the CSRF token, the language) and the headers every
//! console page carries (a strict CSP: no inline script or style, no framing, no caching).

use std::sync::OnceLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::Environment;
use serde_json::{Value, json};

use super::i18n;
use super::session::Signed;
use crate::access::{Area, Reach};

const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in [
            ("base.html", include_str!("../pages/console/base.html")),
            ("public_base.html", include_str!("../pages/console/public_base.html")),
            ("login.html", include_str!("../pages/console/login.html")),
            ("password.html", include_str!("../pages/console/password.html")),
            ("code.html", include_str!("../pages/console/code.html")),
            ("account.html", include_str!("../pages/console/account.html")),
            ("overview.html", include_str!("../pages/console/overview.html")),
            ("error.html", include_str!("../pages/console/error.html")),
            ("members.html", include_str!("../pages/console/members.html")),
            ("member.html", include_str!("../pages/console/member.html")),
            ("operations.html", include_str!("../pages/console/operations.html")),
            ("campaigns.html", include_str!("../pages/console/campaigns.html")),
            ("composer.html", include_str!("../pages/console/composer.html")),
            ("campaign.html", include_str!("../pages/console/campaign.html")),
            ("confirm.html", include_str!("../pages/console/confirm.html")),
            ("approvals.html", include_str!("../pages/console/approvals.html")),
            ("audit.html", include_str!("../pages/console/audit.html")),
            ("fields.html", include_str!("../pages/console/fields.html")),
            ("stores.html", include_str!("../pages/console/stores.html")),
            ("store.html", include_str!("../pages/console/store.html")),
            ("flyers.html", include_str!("../pages/console/flyers.html")),
            ("flyer.html", include_str!("../pages/console/flyer.html")),
            ("templates.html", include_str!("../pages/console/templates.html")),
        ] {
            env.add_template(name, source).unwrap_or_else(|e| panic!("console template {name}: {e}"));
        }
        env
    })
}

/// The navigation: the pages this actor's role reaches, in order.
fn navigation(signed: &Signed) -> Vec<Value> {
    let actor = &signed.actor;
    let links = [
        ("overview", "/console", None),
        ("campaigns", "/console/campaigns", Some(Area::Campaigns)),
        ("approvals", "/console/approvals", Some(Area::Approvals)),
        ("members", "/console/members", Some(Area::Members)),
        ("stores", "/console/stores", Some(Area::Shops)),
        ("flyers", "/console/flyers", Some(Area::Flyers)),
        ("templates", "/console/templates", Some(Area::Templates)),
        ("operations", "/console/operations", Some(Area::Operations)),
        ("audit", "/console/audit", Some(Area::Operations)),
    ];
    links
        .into_iter()
        .filter(|(_, _, area)| area.is_none_or(|a| actor.reach(a) != Reach::None))
        .map(|(key, href, _)| {
            let count = if key == "approvals" { signed.waiting.filter(|n| *n > 0) } else { None };
            json!({"key": key, "href": href, "count": count})
        })
        .collect()
}

/// Adds the console's own headers to a page (`layers::security_headers` adds `nosniff` and the
/// referrer policy to every page, and keeps this stricter CSP).
fn with_headers(status: StatusCode, html: String) -> Response {
    let mut resp = (status, Html(html)).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn render_raw(name: &str, ctx: Value) -> Response {
    match env().get_template(name).and_then(|t| t.render(minijinja::value::Serde(&ctx))) {
        Ok(html) => with_headers(StatusCode::OK, html),
        Err(e) => crate::error::Error::Internal(anyhow::anyhow!("console template {name}: {e}")).into_response(),
    }
}

/// A page of a signed-in user: `ctx` plus the layout's context.
pub fn render(signed: &Signed, name: &str, page: &str, mut ctx: Value) -> Response {
    let role_key = format!("role_{}", signed.actor.role);
    ctx["lang"] = json!(signed.lang);
    ctx["t"] = i18n::texts(signed.lang);
    ctx["page"] = json!(page);
    ctx["csrf"] = json!(signed.csrf);
    ctx["nav"] = json!(navigation(signed));
    ctx["user"] = json!({"email": signed.user.email, "role": i18n::text(signed.lang, &role_key),
        "store": signed.user.store_id});
    render_raw(name, ctx)
}

/// A page for someone not signed in (the sign-in page).
pub fn render_public(lang: &str, name: &str, mut ctx: Value) -> Response {
    ctx["lang"] = json!(lang);
    ctx["t"] = i18n::texts(lang);
    render_raw(name, ctx)
}

/// An error page: `kind` names its text (`error_<kind>`).
pub fn error(lang: &str, status: StatusCode, kind: &str) -> Response {
    let mut resp = render_public(lang, "error.html", json!({"message_key": format!("error_{kind}")}));
    *resp.status_mut() = status;
    resp
}

/// A time as the console shows it: `2026-12-07 09:30 UTC`.
pub fn when(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default()
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    resp
}

/// The stylesheet, served from the binary (no CDN) and cached by browsers for a day.
pub async fn stylesheet() -> Response {
    asset(include_str!("../pages/console/console.css"), "text/css; charset=utf-8")
}

/// The composer's live reach (the page works without it).
pub async fn composer_script() -> Response {
    asset(include_str!("../pages/console/composer.js"), "text/javascript; charset=utf-8")
}

/// A sending campaign's figures refreshed (the page works without it).
pub async fn progress_script() -> Response {
    asset(include_str!("../pages/console/progress.js"), "text/javascript; charset=utf-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_renders_in_both_languages() {
        for lang in ["en", "fr"] {
            let ctx = json!({
                "lang": lang, "t": i18n::texts(lang), "page": "overview", "csrf": "c", "nav": [],
                "user": {"email": "a@example.com", "role": "r", "store": null},
                "figures": [{"key": "members_total", "value": 3}], "scope": "All stores",
                "next": "/console", "email": "", "error": null, "message_key": "error_csrf",
                "q": "zo", "members": [{"id": "mem_1", "name": "Zoé", "card": "1", "email": null, "phone": "+33",
                    "store": "paris-01", "points": 3, "tier": "member"}],
                "m": {"id": "mem_1", "name": "Zoé", "card": "1", "email": "z@example.com", "email_verified": true,
                    "phone": null, "phone_verified": false, "store": null, "points": 3, "tier": "member",
                    "tier_manual": false, "language": "fr", "joined": "2026-12-07 09:30 UTC", "source_flyer": null,
                    "source_channel": "api", "consent": {"terms": true, "marketing": false, "version": null, "at": null}},
                "ledger": [{"at": "x", "delta": 5, "reason": "r", "store": null, "balance": 5, "tier": "member"}],
                "receipts": [{"number": "R-1", "store": "paris-01", "at": "x", "total": "5.00 EUR"}],
                "pass": {"serial": "s", "voided": false, "updated": "x"}, "devices": ["x"], "google_saved": false,
                "points": {"delta": "ten", "reason": "", "field": "delta", "error": "Give a whole number"},
                "queues": [{"kind": "push", "pending": 1, "leased": 0, "dead": 2, "oldest": "x"}],
                "dead": [{"id": 1, "kind": "push", "key": "abc…", "attempts": 3, "error": "e", "failed": "x"}],
                "services": [{"name": "apns", "state": "ok", "last_success": "x", "last_error": null}],
                "keys": [{"id": "k", "name": "n", "prefix": "psr_", "role": "store", "store": "p", "last_used": null,
                    "revoked": false}],
                "users": [{"email": "b@example.com", "role": "hq_admin", "store": null, "disabled": false,
                    "last_sign_in": null}],
                "new_key": {"name": "n", "key": "psr_x"}, "key_error": "e", "user_error": "e", "user_created": "x",
            });
            for name in ["overview.html", "login.html", "error.html", "members.html", "member.html", "operations.html"]
            {
                let html = env().get_template(name).and_then(|t| t.render(minijinja::value::Serde(&ctx)));
                assert!(html.is_ok(), "{name} in {lang}: {html:?}");
            }
        }
    }
}
