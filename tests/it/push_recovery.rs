//! Push delivery when things go wrong: a refused certificate, a worker that dies holding jobs,
//! a server killed with jobs queued; and template redesigns pushed to every pass.

use std::collections::HashSet;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use openssl::x509::extension::BasicConstraints;
use openssl::x509::{X509, X509NameBuilder};
use passerelle::jobs::QueueSettings;
use passerelle::jobs::push::{PushHandler, PushHealth};
use passerelle::jobs::runner::Runner;
use passerelle::push::apns::ApnsClient;
use passerelle::store::{JobKind, QueueStats};
use passerelle::store::{NewPass, Store};
use passerelle::testkit::mock_apns::MockApnsConfig;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, repo, spawn_app_on, wait_until_drained};
use crate::push::{eventually, mock, mock_with, push_config, register_as, token};
use crate::web_service::add_to_wallet;

/// A self-made "WWDR" and pass certificate the mock APNs does not trust.
fn untrusted_identity(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let name = |cn: &str, uid: Option<&str>| {
        let mut b = X509NameBuilder::new().unwrap();
        if let Some(uid) = uid {
            b.append_entry_by_text("UID", uid).unwrap();
        }
        b.append_entry_by_text("CN", cn).unwrap();
        b.append_entry_by_text("OU", "PASSDEMO42").unwrap();
        b.build()
    };
    let cert = |subject: &openssl::x509::X509NameRef,
                issuer: &openssl::x509::X509NameRef,
                key: &PKey<openssl::pkey::Private>,
                signer: &PKey<openssl::pkey::Private>,
                ca: bool| {
        let mut b = X509::builder().unwrap();
        b.set_version(2).unwrap();
        b.set_serial_number(&BigNum::from_u32(9).unwrap().to_asn1_integer().unwrap()).unwrap();
        b.set_subject_name(subject).unwrap();
        b.set_issuer_name(issuer).unwrap();
        b.set_pubkey(key).unwrap();
        b.set_not_before(&Asn1Time::days_from_now(0).unwrap()).unwrap();
        b.set_not_after(&Asn1Time::days_from_now(365).unwrap()).unwrap();
        if ca {
            b.append_extension(BasicConstraints::new().critical().ca().build().unwrap()).unwrap();
        }
        b.sign(signer, MessageDigest::sha256()).unwrap();
        b.build()
    };
    let ca_key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let ca_name = name("Untrusted WWDR", None);
    let ca = cert(&ca_name, &ca_name, &ca_key, &ca_key, true);
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let leaf = cert(
        &name("Pass Type ID: pass.com.passerelle.demo", Some("pass.com.passerelle.demo")),
        &ca_name,
        &key,
        &ca_key,
        false,
    );
    let paths = (dir.join("cert.pem"), dir.join("key.pem"), dir.join("wwdr.pem"));
    std::fs::write(&paths.0, leaf.to_pem().unwrap()).unwrap();
    std::fs::write(&paths.1, key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    std::fs::write(&paths.2, ca.to_pem().unwrap()).unwrap();
    paths
}

async fn refused_certificate_pauses_the_worker(backend: Backend) {
    let apns = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, wwdr) = untrusted_identity(dir.path());
    let mut config = push_config(&apns);
    (config.apple.cert, config.apple.key, config.apple.wwdr) = (Some(cert), Some(key), Some(wwdr));
    let app = spawn_app_on(backend, config).await;
    // Signed by a chain the tests' root does not know: read the pass without verifying it.
    let created = app.create_pass("loyalty", crate::helpers::example("loyalty")).await;
    let pkpass =
        app.client.get(created["apple_pass_url"].as_str().unwrap()).send().await.unwrap().bytes().await.unwrap();
    let pass = crate::helpers::unpack(&pkpass).json("pass.json");
    let held = crate::web_service::Held {
        serial: pass["serialNumber"].as_str().unwrap().into(),
        token: pass["authenticationToken"].as_str().unwrap().into(),
        pass_type: pass["passTypeIdentifier"].as_str().unwrap().into(),
        web_service_url: pass["webServiceURL"].as_str().unwrap().into(),
    };
    register_as(&app, &held, "device-one", &token(1)).await;
    app.api(Method::PATCH, &format!("/api/v1/passes/{}", held.serial))
        .json(&json!({"data": {"points": 1}}))
        .send()
        .await
        .unwrap();

    let readyz = async || app.client.get(app.url("/readyz")).send().await.unwrap();
    let paused = async || readyz().await.json::<Value>().await.unwrap()["checks"]["push"].as_str().unwrap() != "ok";
    eventually("/readyz reports the paused worker", paused).await;
    let resp = readyz().await;
    assert_eq!(resp.status(), 200, "an APNs refusal leaves the web process in the load balancer");
    let body: Value = resp.json().await.unwrap();
    assert!(body["checks"]["push"].as_str().unwrap().starts_with("paused: "), "{body}");
    assert_eq!(body["checks"]["database"], "ok");
    assert_eq!(body["dependencies"]["apns"]["state"], "failing", "{body}");
    assert!(body["dependencies"]["apns"]["last_error"].as_str().is_some_and(|e| !e.is_empty()), "{body}");
    assert_eq!(app.client.get(app.url("/healthz")).send().await.unwrap().status(), 200, "liveness unaffected");
    assert!(apns.rejected_handshakes() >= 1, "the mock refused the certificate");
    assert_eq!(apns.received_count(), 0);
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("passerelle_push_queue_depth 1"), "the job waits:\n{metrics}");
    assert!(
        app.api(Method::GET, "/api/v1/push/dead").send().await.unwrap().text().await.unwrap().contains("[]"),
        "not burnt"
    );
}

/// A 403 pauses pushing (reported by /readyz, which stays 200; jobs kept); once APNs accepts
/// again, pushing resumes.
async fn forbidden_pauses_then_resumes(backend: Backend) {
    let apns = mock().await;
    let app = spawn_app_on(backend, push_config(&apns)).await;
    let held = add_to_wallet(&app).await;
    register_as(&app, &held, "device-one", &token(1)).await;
    apns.answer_next(1, 403, "BadCertificate");
    app.api(Method::PATCH, &format!("/api/v1/passes/{}", held.serial))
        .json(&json!({"data": {"points": 1}}))
        .send()
        .await
        .unwrap();
    let readyz = async || {
        let resp = app.client.get(app.url("/readyz")).send().await.unwrap();
        assert_eq!(resp.status(), 200, "APNs's answers never make this process unready");
        resp.json::<Value>().await.unwrap()
    };
    eventually("the 403 pauses the worker", async || readyz().await["checks"]["push"] != "ok").await;
    assert_eq!(readyz().await["dependencies"]["apns"]["state"], "failing");
    // PASSERELLE_PUSH_PAUSE_SECS later the worker tries again; the mock now answers 200.
    eventually("the job is delivered after the pause", async || apns.received_count() == 1).await;
    eventually("/readyz recovers", async || readyz().await["checks"]["push"] == "ok").await;
    let apns_state = readyz().await["dependencies"]["apns"].clone();
    assert_eq!(apns_state["state"], "ok", "{apns_state}");
    assert!(apns_state["last_success"].is_string() && apns_state["last_error_at"].is_string(), "{apns_state}");
    let dead: Value = app.api(Method::GET, "/api/v1/push/dead").send().await.unwrap().json().await.unwrap();
    assert_eq!(dead["items"], json!([]), "the paused job kept its attempts");
}

async fn an_expired_lease_is_taken_by_another_worker(backend: Backend) {
    let apns = mock().await;
    let mut config = push_config(&apns);
    config.jobs.push_workers = 0; // this test plays both workers
    let app = spawn_app_on(backend, config.clone()).await;
    let held = add_to_wallet(&app).await;
    register_as(&app, &held, "device-one", &token(1)).await;
    app.api(Method::PATCH, &format!("/api/v1/passes/{}", held.serial))
        .json(&json!({"data": {"points": 1}}))
        .send()
        .await
        .unwrap();

    config.database.url = passerelle::secret::Secret::new(app.database_url.clone());
    let store: Arc<dyn Store> = passerelle::app::open_store(&config).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await; // past the coalescing delay
    // A worker claims the job for 2 s, then dies without finishing it (2 s: room for a loaded machine).
    let claimed = store.claim_jobs(JobKind::Push, 10, 2000).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(
        store.claim_jobs(JobKind::Push, 10, 2000).await.unwrap().is_empty(),
        "leased jobs are not handed out twice"
    );

    let (_, passes) = passerelle::app::load_passes(&config).unwrap();
    let handler = PushHandler {
        sender: Arc::new(ApnsClient::new(passes.identity(), (&config.apns).into()).unwrap()),
        health: Arc::new(PushHealth::default()),
        pause: QueueSettings::push(&config.jobs).pause,
    };
    let worker =
        Runner { store: store.clone(), handler: Arc::new(handler), settings: QueueSettings::push(&config.jobs) };
    assert_eq!(worker.run_once().await.unwrap(), 0, "the lease still holds");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(worker.run_once().await.unwrap(), 1, "the expired lease is taken again");
    assert_eq!(apns.received_count(), 1);
    assert_eq!(push_stats(&store).await.pending + push_stats(&store).await.leased, 0);
}

async fn template_redesigns_reach_every_pass(backend: Backend) {
    let apns = mock().await;
    let templates = tempfile::tempdir().unwrap();
    crate::template_rules::copy_dir(&repo().join("pass-templates"), templates.path());
    let mut config = push_config(&apns);
    config.templates.dir = templates.path().to_path_buf();
    config.templates.publish_batch_size = 2;
    let app = spawn_app_on(backend.clone(), config.clone()).await;
    let mut held = Vec::new();
    for n in 0..5 {
        let h = add_to_wallet(&app).await;
        register_as(&app, &h, &format!("device-{n}"), &token(n)).await;
        held.push(h);
    }
    let publish = async |app: &crate::helpers::TestApp| -> Value {
        app.api(Method::POST, "/api/v1/templates/loyalty/publish").send().await.unwrap().json().await.unwrap()
    };
    assert_eq!(publish(&app).await["changed"], false, "the design has not changed");

    // A redesign: new label text in pass.json, same database, a restarted server.
    let pass_json = templates.path().join("loyalty/pass.json");
    let text = std::fs::read_to_string(&pass_json).unwrap().replace("\"POINTS\"", "\"BALANCE\"");
    std::fs::write(&pass_json, text).unwrap();
    config.database.url = passerelle::secret::Secret::new(app.database_url.clone());
    let _first = app; // keeps the first server's temporary folder (and SQLite file) alive
    let app = crate::helpers::spawn_app_on_existing(config).await;
    let report = publish(&app).await;
    assert_eq!(report, json!({"template": "loyalty", "changed": true, "passes": 5}));
    eventually("every device holding a loyalty pass is pushed", async || apns.received_count() == 5).await;
    let pass = crate::helpers::unpack(
        &app.client
            .get(app.url(&format!("/v1/passes/{}/{}", held[0].pass_type, held[0].serial)))
            .header("Authorization", format!("ApplePass {}", held[0].token))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
    )
    .json("pass.json");
    assert_eq!(pass["storeCard"]["primaryFields"][0]["label"], "BALANCE", "the new design is served");
    assert_eq!(publish(&app).await["changed"], false, "published once");
}

/// `passerelle worker` alone (no HTTP server) drains the queue another process filled.
async fn a_separate_worker_process_pushes(backend: Backend) {
    let apns = mock().await;
    // Where the web process would push, were it pushing: its pushes cannot pass for the worker's.
    let web_apns = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let db_url = backend.database_url(dir.path()).await;
    let mut config = push_config(&web_apns);
    config.database.url = passerelle::secret::Secret::new(db_url.clone());
    config.jobs.push_workers = 0; // this server only takes changes
    let app = crate::helpers::spawn_app_on_existing(config.clone()).await;
    let held = add_to_wallet(&app).await;
    register_as(&app, &held, "device-one", &token(1)).await;
    app.api(Method::PATCH, &format!("/api/v1/passes/{}", held.serial))
        .json(&json!({"data": {"points": 7}}))
        .send()
        .await
        .unwrap();
    let store = passerelle::app::open_store(&config).await.unwrap();
    assert_eq!(push_stats(&store).await.pending, 1, "the change is queued");

    let mut worker = std::process::Command::new(env!("CARGO_BIN_EXE_passerelle"))
        .arg("worker")
        .current_dir(repo())
        .env("PASSERELLE_DATABASE_URL", &db_url)
        .env("PASSERELLE_APNS_URL", apns.url())
        .env("PASSERELLE_APNS_CA_FILE", repo().join("certs-example/root-ca.pem"))
        .env("PASSERELLE_PUSH_POLL_MS", "100")
        .env("PASSERELLE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    eventually("the worker process pushes the device", async || apns.received_count() == 1).await;
    wait_until_drained(&app, JobKind::Push).await;
    worker.kill().unwrap();
    worker.wait().unwrap();
    assert_eq!(apns.received()[0].token, token(1));
    // No marker can show that a process has no worker; what shows is that the job stayed queued
    // until the worker process took it, and that the web process never reached its own APNs.
    assert_eq!((web_apns.received_count(), web_apns.connections()), (0, 0), "the web process pushes nothing");
}

/// SIGKILL with 10,000 jobs queued: after a restart every device is pushed, none lost.
async fn a_killed_server_loses_no_push(backend: Backend) {
    const DEVICES: usize = 10_000;
    let apns = mock_with(MockApnsConfig {
        max_concurrent_streams: 1000,
        response_delay: Duration::from_millis(20),
        keep_received: true,
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let db_url = backend.database_url(dir.path()).await;
    let mut config = push_config(&apns);
    config.database.url = passerelle::secret::Secret::new(db_url.clone());
    let store = passerelle::app::open_store(&config).await.unwrap();
    let data = crate::helpers::example("loyalty");
    store
        .insert_pass(NewPass {
            serial_number: "CRASH-1".into(),
            template: "loyalty".into(),
            data: data.clone(),
            authentication_token: "0123456789abcdef0123".into(),
            share_token: passerelle::tokens::serial_number(),
        })
        .await
        .unwrap();
    for n in 0..DEVICES {
        store.register_device(&format!("device-{n}"), "CRASH-1", &token(n), u32::MAX).await.unwrap();
    }
    let change = Box::new(move |_: &passerelle::store::PassRecord| {
        Ok(passerelle::store::PassChange { data, voided: false, message: None, campaign: None })
    });
    store.update_pass("CRASH-1", change).await.unwrap();
    assert_eq!(push_stats(&store).await.pending, DEVICES as i64, "10,000 jobs queued");

    let start = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_passerelle"))
            .arg("serve")
            .current_dir(repo())
            .env("PASSERELLE_DATABASE_URL", &db_url)
            .env("PASSERELLE_LISTEN", "127.0.0.1:0")
            .env("PASSERELLE_APNS_URL", apns.url())
            .env("PASSERELLE_APNS_CA_FILE", repo().join("certs-example/root-ca.pem"))
            .env("PASSERELLE_PUSH_CONCURRENCY", "50")
            .env("PASSERELLE_PUSH_BATCH_SIZE", "200")
            .env("PASSERELLE_PUSH_LEASE_SECS", "2")
            .env("PASSERELLE_PUSH_POLL_MS", "100")
            .env("PASSERELLE_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut first = start();
    eventually("the first server pushes part of the queue", async || apns.received_count() >= 1_000).await;
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let at_kill = apns.received_count();
    assert!(at_kill < DEVICES, "killed halfway ({at_kill} pushed)");

    let mut second = start();
    let distinct = || apns.received().into_iter().map(|r| r.token).collect::<HashSet<_>>().len();
    for _ in 0..600 {
        let stats = push_stats(&store).await;
        if distinct() == DEVICES && stats.pending + stats.leased == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    second.kill().unwrap();
    second.wait().unwrap();
    assert_eq!(distinct(), DEVICES, "every device pushed at least once after the restart");
    let stats = push_stats(&store).await;
    assert_eq!((stats.pending, stats.leased, stats.dead), (0, 0, 0), "nothing left behind: {stats:?}");
}

on_both_backends!(
    refused_certificate_pauses_the_worker,
    forbidden_pauses_then_resumes,
    an_expired_lease_is_taken_by_another_worker,
    template_redesigns_reach_every_pass,
    a_separate_worker_process_pushes,
    a_killed_server_loses_no_push,
);

/// The push queue's figures.
async fn push_stats(store: &Arc<dyn Store>) -> QueueStats {
    store.queue_stats().await.unwrap().into_iter().find(|(k, _)| *k == JobKind::Push).unwrap().1
}
