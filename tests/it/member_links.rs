//! Links mailed to members and printed on their pass, on SQLite and PostgreSQL: the one-time
//! e-mail verification link (second use refused, a changed address not verified), the consent
//! withdrawal link on the back of the loyalty pass, and mail through a real SMTP exchange.

use std::time::Duration;

use passerelle::mail::{Mail, Mailer, SmtpMailer};
use passerelle::secret::Secret;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::helpers::{Backend, TestApp, assert_valid_pass, spawn_app_on, test_config};

async fn sign_up(app: &TestApp, body: Value) -> Value {
    let resp = app.api(Method::POST, "/api/v1/members").json(&body).send().await.unwrap();
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body
}

async fn get_member(app: &TestApp, id: &str) -> Value {
    app.api(Method::GET, &format!("/api/v1/members/{id}")).send().await.unwrap().json().await.unwrap()
}

async fn send_verification(app: &TestApp, id: &str) -> reqwest::Response {
    app.api(Method::POST, &format!("/api/v1/members/{id}/verify-email")).send().await.unwrap()
}

/// Every mail of the outbox folder, oldest first.
fn outbox(app: &TestApp) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(&app.mail_dir) else { return Vec::new() };
    let mut names: Vec<_> = dir.map(|e| e.unwrap().path()).collect();
    names.sort();
    names.into_iter().map(|p| std::fs::read_to_string(p).unwrap()).collect()
}

/// The path (`/verify/<token>`, `/consent/<token>`, `/p/<token>`) of the first link in `text`
/// that starts with `prefix`.
fn link(text: &str, public_url: &str, prefix: &str) -> String {
    let start = text.find(&format!("{public_url}{prefix}")).unwrap_or_else(|| panic!("no {prefix} link in {text}"));
    let url: String = text[start..].chars().take_while(|c| !c.is_whitespace() && *c != '\'' && *c != '<').collect();
    url[public_url.len()..].to_owned()
}

async fn verification_link_verifies_once(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    let member = sign_up(&app, json!({"first_name": "Marie", "email": "Marie@Example.com", "language": "fr"})).await;
    let id = member["id"].as_str().unwrap();
    assert_eq!(get_member(&app, id).await["email_verified"], false);

    // The admin endpoint needs a key.
    let resp = app.client.post(app.url(&format!("/api/v1/members/{id}/verify-email"))).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let resp = send_verification(&app, id).await;
    assert_eq!(resp.status(), 202);
    assert_eq!(resp.json::<Value>().await.unwrap()["sent_to"], "marie@example.com");

    crate::helpers::wait_until_drained(&app, passerelle::store::JobKind::Mail).await;
    let mails = outbox(&app);
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(mails[0].contains("To: marie@example.com"), "{}", mails[0]);
    assert!(mails[0].contains("Confirmez votre adresse"), "French for a French member: {}", mails[0]);
    let path = link(&mails[0], &app.public_url, "/verify/");

    let resp = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(resp.text().await.unwrap().contains("Adresse confirmée"));
    assert_eq!(get_member(&app, id).await["email_verified"], true);

    // Once only.
    let resp = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::GONE);
    assert!(resp.text().await.unwrap().contains("already used"));

    // Unknown and malformed tokens.
    for bad in ["/verify/0123456789abcdef0123456789abcdef", "/verify/nope"] {
        let resp = app.client.get(app.url(bad)).send().await.unwrap();
        assert_eq!(resp.status(), 404, "{bad}");
        assert!(resp.text().await.unwrap().contains("Unknown link"));
    }

    // A link verifies the address it was sent to, not one set since.
    let resp = send_verification(&app, id).await;
    assert_eq!(resp.status(), 202);
    let path = link(outbox(&app).last().unwrap(), &app.public_url, "/verify/");
    let resp =
        app.api(Method::PATCH, &format!("/api/v1/members/{id}")).json(&json!({"email": "new@example.com"})).send();
    assert_eq!(resp.await.unwrap().status(), 200);
    assert_eq!(get_member(&app, id).await["email_verified"], false);
    let resp = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::GONE);
    assert_eq!(get_member(&app, id).await["email_verified"], false);

    // No e-mail, no link.
    let member = sign_up(&app, json!({"first_name": "Paul", "phone": "+33 6 12 34 56 78"})).await;
    let resp = send_verification(&app, member["id"].as_str().unwrap()).await;
    assert_eq!(resp.status(), 422);
    let resp = send_verification(&app, "mem_missing").await;
    assert_eq!(resp.status(), 404);
}

async fn pass_carries_the_consent_withdrawal_link(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    let member = sign_up(
        &app,
        json!({"first_name": "Léa", "email": "lea@example.com", "consent": {"terms": true, "marketing": true}}),
    )
    .await;
    let id = member["id"].as_str().unwrap();
    assert_eq!(get_member(&app, id).await["consent"]["marketing"], true);

    let pkpass = app.client.get(member["pass"]["apple_pass_url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(pkpass.status(), 200);
    let pass = assert_valid_pass(&pkpass.bytes().await.unwrap()).json("pass.json");
    let back = pass["storeCard"]["backFields"].as_array().unwrap();
    let field = back.iter().find(|f| f["key"] == "marketing").expect("a marketing back field");
    assert_eq!(field["label"], "MARKETING");
    let url = field["value"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/consent/", app.public_url)), "{url}");
    assert_eq!(field["attributedValue"], format!("<a href='{url}'>{url}</a>"));
    let path = link(url, &app.public_url, "/consent/");

    // GET shows a one-tap form and changes nothing.
    let resp = app.client.get(app.url(&path)).header("accept-language", "en").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    // The action is the page's own path (minijinja escapes its slashes as `&#x2f;`).
    let action = path.replace('/', "&#x2f;");
    assert!(html.contains(&format!("<form method=\"post\" action=\"{action}\">")), "{html}");
    assert!(!html.contains("<script"), "no JavaScript");
    assert_eq!(get_member(&app, id).await["consent"]["marketing"], true);

    // POST withdraws, and again changes nothing more.
    for _ in 0..2 {
        let resp = app.client.post(app.url(&path)).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert!(resp.text().await.unwrap().contains("no longer receive"));
        let m = get_member(&app, id).await;
        assert_eq!(m["consent"]["marketing"], false);
        assert_eq!(m["consent"]["terms"], true);
    }
    let resp = app.client.get(app.url(&path)).send().await.unwrap();
    assert!(resp.text().await.unwrap().contains("no longer receive"), "the page says it is done");

    // Each consent statement is in the audit log, with who recorded it; a withdrawal that
    // changes nothing records nothing.
    let resp = app
        .api(Method::PATCH, &format!("/api/v1/members/{id}"))
        .json(&json!({"consent": {"marketing": true, "version": "2027-01"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let log: Value = app
        .api(Method::GET, &format!("/api/v1/audit?object_id={id}&action=member.consent"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let seen: Vec<(String, Value, Value)> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|e| {
            (e["actor"].as_str().unwrap().to_owned(), e["detail"]["marketing"].clone(), e["detail"]["version"].clone())
        })
        .collect();
    assert_eq!(seen.len(), 3, "{log}");
    assert!(seen[0].0.starts_with("admin-token") && seen[0].1 == true, "signed up through the API: {seen:?}");
    assert_eq!((seen[1].0.as_str(), &seen[1].1), ("flow:consent link (consent link)", &json!(false)));
    assert_eq!((&seen[2].1, &seen[2].2), (&json!(true), &json!("2027-01")));

    // Unknown links are 404; a verification token opens no consent page.
    let resp = app.client.post(app.url("/consent/0123456789abcdef0123456789abcdef")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    send_verification(&app, id).await;
    crate::helpers::wait_until_drained(&app, passerelle::store::JobKind::Mail).await;
    let verify = link(outbox(&app).last().unwrap(), &app.public_url, "/verify/");
    let resp = app.client.post(app.url(&verify.replace("/verify/", "/consent/"))).send().await.unwrap();
    assert_eq!(resp.status(), 404);
}

on_both_backends!(verification_link_verifies_once, pass_carries_the_consent_withdrawal_link);

/// What a minimal SMTP server received: the envelope and the message.
#[derive(Debug, Default)]
struct Received {
    mail_from: String,
    rcpt_to: Vec<String>,
    data: String,
}

/// A one-connection SMTP sink on 127.0.0.1: greets, accepts everything, captures the message.
async fn smtp_sink() -> (u16, tokio::task::JoinHandle<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read).lines();
        let mut got = Received::default();
        write.write_all(b"220 sink.test ESMTP ready\r\n").await.unwrap();
        while let Some(line) = lines.next_line().await.unwrap() {
            let upper = line.to_ascii_uppercase();
            let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                b"250-sink.test\r\n250 8BITMIME\r\n"
            } else if upper.starts_with("MAIL FROM:") {
                got.mail_from = line[10..].trim().to_owned();
                b"250 OK\r\n"
            } else if upper.starts_with("RCPT TO:") {
                got.rcpt_to.push(line[8..].trim().to_owned());
                b"250 OK\r\n"
            } else if upper == "DATA" {
                write.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await.unwrap();
                while let Some(data) = lines.next_line().await.unwrap() {
                    if data == "." {
                        break;
                    }
                    let data = data.strip_prefix('.').unwrap_or(&data);
                    got.data.push_str(data);
                    got.data.push('\n');
                }
                b"250 OK queued\r\n"
            } else if upper == "QUIT" {
                write.write_all(b"221 Bye\r\n").await.unwrap();
                break;
            } else {
                b"250 OK\r\n"
            };
            write.write_all(reply).await.unwrap();
        }
        got
    });
    (port, task)
}

/// Decodes a quoted-printable body (soft line breaks and `=XX`).
fn quoted_printable(body: &str) -> String {
    let joined = body.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 3 <= bytes.len()
            && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

/// The body of a captured message, decoded.
fn body_of(data: &str) -> String {
    let (headers, body) = data.split_once("\n\n").expect("headers and body");
    if headers.to_ascii_lowercase().contains("content-transfer-encoding: quoted-printable") {
        quoted_printable(body)
    } else {
        body.to_owned()
    }
}

async_test!(smtp_mailer_speaks_smtp);
async fn smtp_mailer_speaks_smtp() {
    let (port, sink) = smtp_sink().await;
    let mailer = SmtpMailer::new(&Secret::new(format!("smtp://127.0.0.1:{port}")), "Shop <shop@example.com>").unwrap();
    let mail = Mail {
        to: "marie@example.com".into(),
        subject: "Your card".into(),
        text: "Hello Marie,\nhere is your card: https://example.com/p/abc\n.leading dot\n".into(),
    };
    tokio::time::timeout(Duration::from_secs(20), mailer.send(mail)).await.expect("no hang").unwrap();
    let got = sink.await.unwrap();
    assert_eq!(got.mail_from, "<shop@example.com>");
    assert_eq!(got.rcpt_to, ["<marie@example.com>"]);
    assert!(got.data.contains("Subject: Your card\n"), "{}", got.data);
    assert!(got.data.contains("To: marie@example.com\n"), "{}", got.data);
    assert!(got.data.contains("From: Shop <shop@example.com>\n"), "{}", got.data);
    let body = body_of(&got.data);
    assert!(body.contains("here is your card: https://example.com/p/abc\n.leading dot"), "{body}");
}

async_test!(the_server_mails_through_smtp_when_configured);
async fn the_server_mails_through_smtp_when_configured() {
    let (port, sink) = smtp_sink().await;
    let mut config = test_config();
    config.mail.smtp_url = Some(Secret::new(format!("smtp://127.0.0.1:{port}")));
    let app = spawn_app_on(Backend::Sqlite, config).await;
    let member = sign_up(&app, json!({"first_name": "Marie", "email": "marie@example.com", "language": "en"})).await;
    let id = member["id"].as_str().unwrap();
    let resp = send_verification(&app, id).await;
    assert_eq!(resp.status(), 202);
    let got = tokio::time::timeout(Duration::from_secs(20), sink).await.expect("a mail came").unwrap();
    assert_eq!(got.rcpt_to, ["<marie@example.com>"]);
    assert!(got.data.contains("Subject: "), "{}", got.data);
    assert!(outbox(&app).is_empty(), "nothing in the outbox folder with SMTP");
    let body = body_of(&got.data);
    assert!(body.contains("To confirm your e-mail address"), "{body}");
    let path = link(&body, &app.public_url, "/verify/");
    let resp = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(get_member(&app, id).await["email_verified"], true);
}
