//! Scaling out: a web-only `serve` (`PASSERELLE_BACKGROUND=off`) next to a `passerelle worker`
//! process on one database. The web process takes changes; the worker does every background
//! job: pushes to APNs, Google syncs, webhook deliveries and a campaign's Google class message.

use std::process::{Child, Stdio};

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::campaigns::{
    create_campaign, google_setup, member, no_quiet_hours, ok_json, on_iphone, saved_on_google, stats, store_of,
};
use crate::helpers::{Backend, repo, spawn_app_on_existing};
use crate::push::{eventually, mock, push_config, token};
use crate::webhooks::{SECRET, delivered, receiver};

on_both_backends!(a_web_only_server_and_a_worker_share_the_work);

/// The worker process, killed (and reaped) when the test ends, also when it fails.
struct Worker(Child);

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn a_web_only_server_and_a_worker_share_the_work(backend: Backend) {
    let apns = mock().await;
    let (hook_url, received) = receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let db_url = backend.database_url(dir.path()).await;
    let mut config = no_quiet_hours(push_config(&apns));
    let google = google_setup(&mut config, dir.path()).await;
    config.database.url = passerelle::secret::Secret::new(db_url.clone());
    config.webhooks.url = Some(hook_url.clone());
    config.webhooks.secret = Some(SECRET.parse().unwrap());
    config.jobs.background = false;
    let app = spawn_app_on_existing(config.clone()).await;
    let store = store_of(&app).await;

    let worker = Worker(
        std::process::Command::new(env!("CARGO_BIN_EXE_passerelle"))
            .arg("worker")
            .current_dir(repo())
            .env("PASSERELLE_DATABASE_URL", &db_url)
            .env("PASSERELLE_PUBLIC_URL", &app.public_url)
            .env("PASSERELLE_APNS_URL", apns.url())
            .env("PASSERELLE_APNS_CA_FILE", repo().join("certs-example/root-ca.pem"))
            .env("PASSERELLE_GOOGLE_SA_KEY", config.google.sa_key.as_ref().unwrap())
            .env("PASSERELLE_GOOGLE_ISSUER_ID", config.google.issuer_id.as_ref().unwrap())
            .env("PASSERELLE_GOOGLE_API_URL", google.api_url())
            .env("PASSERELLE_GOOGLE_RATE_PER_SEC", "500")
            .env("PASSERELLE_WEBHOOK_URL", &hook_url)
            .env("PASSERELLE_WEBHOOK_SECRET", SECRET)
            .env("PASSERELLE_QUIET_HOURS", "off")
            .env("PASSERELLE_PUSH_POLL_MS", "50")
            .env("PASSERELLE_PUSH_BACKOFF_BASE_MS", "50")
            .env("PASSERELLE_PUSH_BACKOFF_MAX_MS", "100")
            .env("PASSERELLE_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );

    // Two Google holders and one iPhone holder; the iPhone's registration is a webhook event.
    let (_, a) = member(&app, None, 10, true, "en", json!({})).await;
    let (_, b) = member(&app, None, 10, true, "en", json!({})).await;
    let (c_id, c) = member(&app, None, 10, true, "en", json!({})).await;
    saved_on_google(store.as_ref(), &a).await;
    saved_on_google(store.as_ref(), &b).await;
    on_iphone(&app, store.as_ref(), &c, "device-c", &token(3)).await;
    eventually("the worker delivers pass.added (after one refusal)", async || {
        delivered(&received, "pass.added").len() == 1
    })
    .await;

    // A points change taken by the web process reaches APNs and Google through the worker.
    let r = app
        .api(Method::POST, &format!("/api/v1/members/{c_id}/points"))
        .json(&json!({"delta": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    eventually("the worker pushes the iPhone", async || apns.received_count() >= 1).await;
    assert_eq!(apns.received()[0].token, token(3));
    let version = store.pass(&c).await.unwrap().unwrap().version;
    eventually("the worker writes the Google object", async || {
        store.google_object(&c).await.unwrap().and_then(|o| o.synced_version) == Some(version)
    })
    .await;

    // A campaign to every holder: started, fanned out and its class message sent by the worker.
    let body = json!({"name": "Everyone", "segment": "points >= 0", "message": {"en": "Open late tonight"}});
    let id = ok_json(create_campaign(&app, crate::helpers::ADMIN, body).await, StatusCode::CREATED).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    eventually("the worker sends the Google class message", async || {
        stats(&app, &id).await["google"]["class_message"]["sent_at"].is_string()
    })
    .await;
    let adds = google.requests().iter().filter(|(m, p)| m == "POST" && p.ends_with("/addMessage")).count();
    assert_eq!(adds, 1, "one addMessage for the whole class");
    drop(worker);
}
