//! The sign-up form's guards: consent only from the checkbox's own value, one submission per
//! form token, tokens that expire, tokens that another process with the same secret accepts,
//! e-mails that never repeat what a visitor typed, and no https start without a secret.

use reqwest::Method;

use crate::enrollment::{after, browser, flyer, html, mails, members_with_email, open_form, post, sign_up};
use crate::helpers::{Backend, spawn_app, spawn_app_on, test_config};

async fn consent_is_the_checkbox_value(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    let code = flyer(&app).await;
    for terms in ["", "no", "on"] {
        let resp = sign_up(
            &app,
            &browser(),
            &code,
            &[("first_name", "Ann"), ("email", "ann@example.fr"), ("terms", terms), ("marketing", "")],
        )
        .await;
        assert_eq!(resp.status(), 422, "terms={terms:?}");
        assert!(html(resp).await.contains("id=\"terms-error\""), "terms={terms:?}");
    }
    assert!(members_with_email(&app, "ann@example.fr").await.is_empty());
    let fields = [("first_name", "Ann"), ("email", "ann@example.fr"), ("terms", "yes"), ("marketing", "")];
    assert_eq!(sign_up(&app, &browser(), &code, &fields).await.status(), 200);
    let member = members_with_email(&app, "ann@example.fr").await.remove(0);
    assert_eq!(
        (member["consent"]["terms"].as_bool(), member["consent"]["marketing"].as_bool()),
        (Some(true), Some(false))
    );
}

async fn one_token_one_submission(backend: Backend) {
    let app = spawn_app_on(backend, test_config()).await;
    let code = flyer(&app).await;
    let client = browser();
    let token = open_form(&app, &client, &code).await;
    for (i, email) in ["a@example.fr", "b@example.fr", "c@example.fr"].into_iter().enumerate() {
        let resp =
            post(&app, &client, &code, &[("csrf", &token), ("first_name", "A"), ("email", email), ("terms", "yes")])
                .await;
        assert_eq!(resp.status(), if i == 0 { 200 } else { 403 }, "submission {i}");
    }
    assert_eq!(members_with_email(&app, "b@example.fr").await.len(), 0);

    // A refused submission re-renders the form with a fresh token, which works once.
    let token = open_form(&app, &client, &code).await;
    let resp = post(&app, &client, &code, &[("csrf", &token), ("first_name", "D"), ("terms", "yes")]).await;
    assert_eq!(resp.status(), 422);
    let fresh = after(&html(resp).await, "name=\"csrf\" value=\"").unwrap().to_owned();
    assert_ne!(fresh, token);
    let fixed = [("csrf", fresh.as_str()), ("first_name", "D"), ("email", "d@example.fr"), ("terms", "yes")];
    assert_eq!(post(&app, &client, &code, &fixed).await.status(), 200);
    assert_eq!(post(&app, &client, &code, &fixed).await.status(), 403);
}

async fn tokens_expire(backend: Backend) {
    let mut config = test_config();
    config.http.join_form_token_minutes = 0;
    let app = spawn_app_on(backend, config).await;
    let code = flyer(&app).await;
    let resp =
        sign_up(&app, &browser(), &code, &[("first_name", "A"), ("email", "a@example.fr"), ("terms", "yes")]).await;
    assert_eq!(resp.status(), 403);
    assert!(html(resp).await.contains("This form has expired"));
}

on_both_backends!(consent_is_the_checkbox_value, one_token_one_submission, tokens_expire);

async_test!(another_process_with_the_same_secret_takes_the_form);
async fn another_process_with_the_same_secret_takes_the_form() {
    let with_secret = |secret: &str| {
        let mut c = test_config();
        c.http.secret_key = Some(passerelle::secret::Secret::new(secret));
        c
    };
    let shared = "s".repeat(40);
    let (a, b, other) = (
        spawn_app(with_secret(&shared)).await,
        spawn_app(with_secret(&shared)).await,
        spawn_app(with_secret(&"t".repeat(40))).await,
    );
    // One browser: cookies are per host, not per port, as behind one load balancer.
    let client = browser();
    let code_b = flyer(&b).await;
    let code_other = flyer(&other).await;
    let token = open_form(&a, &client, &flyer(&a).await).await;
    let fields =
        |email| [("csrf", token.clone()), ("first_name", "A".into()), ("email", email), ("terms", "yes".into())];
    let resp = client
        .post(other.url(&format!("/join/{code_other}")))
        .form(&fields("o@example.fr".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403, "another secret");
    let resp =
        client.post(b.url(&format!("/join/{code_b}"))).form(&fields("b@example.fr".into())).send().await.unwrap();
    assert_eq!(resp.status(), 200, "the same secret on another process");
}

async_test!(sign_up_mails_never_repeat_visitor_text);
async fn sign_up_mails_never_repeat_visitor_text() {
    let app = spawn_app(test_config()).await;
    let code = flyer(&app).await;
    let name = "Your card is blocked! Re-activate at https://evil.example/x";
    for _ in 0..2 {
        let resp =
            sign_up(&app, &browser(), &code, &[("first_name", name), ("email", "v@example.fr"), ("terms", "yes")])
                .await;
        assert_eq!(resp.status(), 200);
    }
    let sent = mails(&app);
    assert_eq!(sent.len(), 2, "the verification link, then the merge link");
    for mail in sent {
        assert!(!mail.contains("evil.example") && !mail.contains("blocked"), "{mail}");
    }
    let api = app.api(Method::GET, "/api/v1/members?email=v@example.fr").send().await.unwrap();
    assert_eq!(api.status(), 200);
}

async_test!(https_needs_a_secret_key);
async fn https_needs_a_secret_key() {
    let mut config = test_config();
    config.http.public_url = Some("https://passes.example.com".into());
    let refused = passerelle::app::App::build(config.clone()).await.err().expect("refused without a secret");
    assert!(format!("{refused:#}").contains("PASSERELLE_SECRET_KEY"), "{refused:#}");
    config.http.secret_key = Some(passerelle::secret::Secret::new("k".repeat(40)));
    let app = crate::helpers::spawn_app(config).await;
    assert_eq!(app.public_url, "https://passes.example.com");
}
