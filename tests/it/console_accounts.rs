//! Console accounts beyond the password, over real HTTP on SQLite and PostgreSQL: a forgotten
//! password reset by an e-mailed one-time link, and two-factor sign-in with an authenticator
//! app and recovery codes.

use reqwest::{Client, StatusCode};

use crate::console::{PASSWORD, browser, create_user, csrf, hidden, sign_in};
use crate::helpers::{Backend, spawn_app_on, test_config};

/// A forgotten password: the same answer for any address, a one-time link by e-mail that sets
/// the new password, ends the user's sessions and works once.
async fn a_forgotten_password_is_reset_by_mail(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    create_user(&app, "claire@example.com", "hq_marketer", None);
    let open = browser();
    assert_eq!(sign_in(&app, &open, "claire@example.com", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let ask = |email: &'static str| {
        let (app_url, client) = (app.url("/console/password/forgot"), browser());
        async move {
            let page = client.get(&app_url).send().await.unwrap().text().await.unwrap();
            let form = [("email", email), ("csrf", &hidden(&page, "csrf"))];
            let resp = client.post(&app_url).form(&form).send().await.unwrap();
            (resp.status(), resp.text().await.unwrap())
        }
    };
    let (known, known_page) = ask("claire@example.com").await;
    let (unknown, unknown_page) = ask("nobody@example.com").await;
    assert_eq!((known, unknown), (StatusCode::OK, StatusCode::OK));
    let strip = |html: &str| html.split("name=\"csrf\" value=").next().unwrap().to_owned();
    assert_eq!(strip(&known_page), strip(&unknown_page), "the same page for any address");
    let mail = crate::console_campaigns::wait_for_mail(&app, "claire@example.com").await;
    let start = mail.find("/console/password/reset/").expect("a reset link");
    let path: String = mail[start..].chars().take_while(|c| !c.is_whitespace()).collect();
    let client = browser();
    let page = client.get(app.url(&path)).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&page, "csrf");
    let resp = client.post(app.url(&path)).form(&[("password", "short"), ("csrf", &csrf)]).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The page shown again carries a fresh form token, as a browser would send.
    let csrf = hidden(&resp.text().await.unwrap(), "csrf");
    let new_password = "a brand new passphrase";
    let resp = client.post(app.url(&path)).form(&[("password", new_password), ("csrf", &csrf)]).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(open.get(app.url("/console")).send().await.unwrap().status(), StatusCode::SEE_OTHER, "sessions end");
    assert_eq!(sign_in(&app, &browser(), "claire@example.com", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(sign_in(&app, &browser(), "claire@example.com", new_password).await.status(), StatusCode::SEE_OTHER);
    let resp = client
        .post(app.url(&path))
        .form(&[("password", "yet another passphrase"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND, "a link works once");
}

/// Two-factor sign-in for an hq_admin: turned on with a code from the app, then asked after the
/// password; each code works once; a recovery code works once; a marketer cannot turn it on.
async fn two_factor_sign_in(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    create_user(&app, "admin@example.com", "hq_admin", None);
    create_user(&app, "mkt@example.com", "hq_marketer", None);
    let client = browser();
    sign_in(&app, &client, "admin@example.com", PASSWORD).await;
    let token = csrf(&app, &client).await;
    let post = |path: &str, form: Vec<(&'static str, String)>| {
        let (client, url) = (client.clone(), app.url(path));
        async move { client.post(url).form(&form).send().await.unwrap() }
    };
    assert_eq!(
        post("/console/account/totp/start", vec![("csrf", token.clone())]).await.status(),
        StatusCode::SEE_OTHER
    );
    let html = client.get(app.url("/console/account")).send().await.unwrap().text().await.unwrap();
    let secret = html.split("class=\"mono secret\">").nth(1).map(|s| s[..s.find('<').unwrap()].to_owned()).unwrap();
    assert!(html.contains("<svg"), "a QR code to scan");
    let wrong = post("/console/account/totp/confirm", vec![("csrf", token.clone()), ("code", "000000".into())]).await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let code = passerelle::users::two_factor::current_code(&secret, "admin@example.com").unwrap();
    let html = post("/console/account/totp/confirm", vec![("csrf", token.clone()), ("code", code.clone())])
        .await
        .text()
        .await
        .unwrap();
    let codes: Vec<String> = html
        .split("<ul class=\"codes mono\">")
        .nth(1)
        .unwrap()
        .split("<li>")
        .skip(1)
        .map(|s| s[..s.find('<').unwrap()].to_owned())
        .collect();
    assert_eq!(codes.len(), 10, "{html}");

    // The password alone no longer opens a session: a code is asked.
    let code_step = |client: Client, code: String, page: String| {
        let url = app.url("/console/login/code");
        async move {
            let form = [
                ("csrf", hidden(&page, "csrf")),
                ("ticket", hidden(&page, "ticket")),
                ("code", code),
                ("next", "/console".into()),
            ];
            client.post(url).form(&form).send().await.unwrap()
        }
    };
    let second = browser();
    let resp = sign_in(&app, &second, "admin@example.com", PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let page = resp.text().await.unwrap();
    assert!(page.contains("name=\"ticket\""), "{page}");
    assert_eq!(second.get(app.url("/console")).send().await.unwrap().status(), StatusCode::SEE_OTHER, "no session yet");
    let resp = code_step(second.clone(), "123456".into(), page.clone()).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let page = resp.text().await.unwrap();
    let resp = code_step(second.clone(), code.clone(), page).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(second.get(app.url("/console")).send().await.unwrap().status(), StatusCode::OK);
    // The same code again is refused; a recovery code works, once.
    let third = browser();
    let page = sign_in(&app, &third, "admin@example.com", PASSWORD).await.text().await.unwrap();
    let resp = code_step(third.clone(), code, page).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "a code is accepted once");
    let page = resp.text().await.unwrap();
    assert_eq!(code_step(third.clone(), codes[0].clone(), page).await.status(), StatusCode::SEE_OTHER);
    let fourth = browser();
    let page = sign_in(&app, &fourth, "admin@example.com", PASSWORD).await.text().await.unwrap();
    assert_eq!(code_step(fourth, codes[0].clone(), page).await.status(), StatusCode::UNAUTHORIZED);

    let marketer = browser();
    sign_in(&app, &marketer, "mkt@example.com", PASSWORD).await;
    let token = csrf(&app, &marketer).await;
    let resp = marketer.post(app.url("/console/account/totp/start")).form(&[("csrf", token)]).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
}

on_both_backends!(a_forgotten_password_is_reset_by_mail);
on_both_backends!(two_factor_sign_in);
