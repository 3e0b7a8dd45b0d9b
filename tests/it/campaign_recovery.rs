//! Campaigns that survive trouble, on SQLite and PostgreSQL: the server killed with SIGKILL in
//! the middle of a fan-out, and a scheduled campaign with two servers on one database.

use std::collections::{BTreeSet, HashSet};
use std::process::Stdio;
use std::time::Duration;

use passerelle::store::{HolderSeed, MemberRecord, NewCampaign, NewPass, PassQuery, now_ms};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::campaigns::{create_campaign, member, no_quiet_hours, ok_json, on_iphone, stats, store_of, wait_sent};
use crate::helpers::{Backend, example, repo, spawn_app_on, spawn_app_on_existing, test_config, wait_until_drained};
use crate::push::{eventually, mock, push_config, token};
use passerelle::store::JobKind;

fn seed(n: usize, data: &Value) -> HolderSeed {
    let now = now_ms();
    HolderSeed {
        member: MemberRecord {
            id: format!("mem_crash{n:06}"),
            card_number: format!("C{n:011}"),
            first_name: "Crash".into(),
            language: Some("en".into()),
            consent_terms: true,
            consent_marketing: true,
            consent_at: Some(now),
            points: 100,
            tier: "member".into(),
            attributes: json!({}),
            created_at: now,
            updated_at: now,
            ..MemberRecord::default()
        },
        pass: NewPass {
            serial_number: format!("CRASH-{n:06}"),
            template: "loyalty".into(),
            data: data.clone(),
            authentication_token: passerelle::tokens::authentication_token(),
            share_token: passerelle::tokens::serial_number(),
        },
        device: Some((format!("crash-device-{n}"), token(n))),
    }
}

fn approved_campaign(id: &str, segment: &str, send_at: Option<i64>) -> NewCampaign {
    NewCampaign {
        id: id.into(),
        name: id.into(),
        segment: segment.into(),
        scope: "hq".into(),
        messages: [("en".to_owned(), format!("message of {id}"))].into(),
        priority: "normal".into(),
        status: "approved".into(),
        send_at,
        created_by: "test".into(),
        test_card_number: None,
        holdout_percent: 0,
        conversion_days: 7,
        offer_id: None,
    }
}

/// SIGKILL in the middle of a fan-out: after a restart every holder has the message, each pass
/// changed exactly once (the version tags are exactly 1..=N), every device pushed.
async fn a_campaign_killed_mid_send_finishes_without_gap_or_duplicate(backend: Backend) {
    const HOLDERS: usize = 2_000;
    let apns = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let db_url = backend.database_url(dir.path()).await;
    let mut config = test_config();
    config.database.url = passerelle::secret::Secret::new(db_url.clone());
    let store = passerelle::app::open_store(&config).await.unwrap();
    let data = example("loyalty");
    let seeds: Vec<HolderSeed> = (0..HOLDERS).map(|n| seed(n, &data)).collect();
    store.seed_holders(&seeds).await.unwrap();
    store.insert_campaign(approved_campaign("cmp_crash", "points >= 0", None), "test").await.unwrap();

    let start = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_passerelle"))
            .arg("serve")
            .current_dir(repo())
            .env("PASSERELLE_DATABASE_URL", &db_url)
            .env("PASSERELLE_LISTEN", "127.0.0.1:0")
            .env("PASSERELLE_APNS_URL", apns.url())
            .env("PASSERELLE_APNS_CA_FILE", repo().join("certs-example/root-ca.pem"))
            .env("PASSERELLE_CAMPAIGN_BATCH_SIZE", "20")
            .env("PASSERELLE_QUIET_HOURS", "off")
            .env("PASSERELLE_PUSH_POLL_MS", "50")
            .env("PASSERELLE_PUSH_LEASE_SECS", "2")
            .env("PASSERELLE_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut first = start();
    eventually("the fan-out is under way", async || store.campaign_stats("cmp_crash").await.unwrap().sent >= 100).await;
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let at_kill = store.campaign_stats("cmp_crash").await.unwrap();
    assert!(at_kill.sent < HOLDERS as i64, "killed mid-send ({} sent)", at_kill.sent);
    assert_eq!(at_kill.targeted, HOLDERS as i64, "every holder targeted before the kill");

    let mut second = start();
    for _ in 0..600 {
        if store.campaign("cmp_crash").await.unwrap().unwrap().status == "sent"
            && apns.received().iter().map(|r| r.token.clone()).collect::<HashSet<_>>().len() == HOLDERS
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    second.kill().unwrap();
    second.wait().unwrap();
    let stats = store.campaign_stats("cmp_crash").await.unwrap();
    assert_eq!((stats.targeted, stats.sent, stats.pending), (HOLDERS as i64, HOLDERS as i64, 0), "{stats:?}");
    let passes = store.list_passes(&PassQuery { limit: 10_000, ..PassQuery::default() }).await.unwrap();
    assert_eq!(passes.len(), HOLDERS);
    let versions: BTreeSet<i64> = passes.iter().map(|p| p.version).collect();
    assert_eq!(versions, (1..=HOLDERS as i64).collect(), "each pass changed exactly once, none skipped");
    assert!(passes.iter().all(|p| p.data["offer"] == "message of cmp_crash"));
    let pushed: HashSet<String> = apns.received().into_iter().map(|r| r.token).collect();
    assert_eq!(pushed.len(), HOLDERS, "every device pushed");
    let history = history_of(store.as_ref(), "cmp_crash").await;
    let actions: Vec<&str> = history.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["created", "approved", "sending", "sent"], "started once, finished once");
}

/// Two server processes on one database: a scheduled campaign goes out at its time, once.
async fn a_scheduled_campaign_goes_out_once_with_two_servers(backend: Backend) {
    let apns = mock().await;
    let config = no_quiet_hours(push_config(&apns));
    let one = spawn_app_on(backend, config.clone()).await;
    let mut config_two = config;
    config_two.database.url = passerelle::secret::Secret::new(one.database_url.clone());
    let two = spawn_app_on_existing(config_two).await;
    let store = store_of(&one).await;
    for n in 0..3 {
        let (_, serial) = member(&one, None, 10, true, "en", json!({})).await;
        on_iphone(&one, store.as_ref(), &serial, &format!("device-{n}"), &token(n)).await;
    }
    // A stored campaign that cannot start (its segment no longer parses) fails loudly, alone.
    store.insert_campaign(approved_campaign("cmp_broken", "points >=", None), "test").await.unwrap();
    eventually("the broken campaign fails", async || {
        store.campaign("cmp_broken").await.unwrap().unwrap().status == "failed"
    })
    .await;
    let failed = history_of(store.as_ref(), "cmp_broken").await.pop().unwrap();
    assert_eq!(failed.action, "failed");
    assert!(failed.detail["error"].as_str().unwrap().contains("position"), "{:?}", failed.detail);
    let send_at = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(3);
    let body = json!({"name": "Tomorrow", "segment": "points >= 0", "message": {"en": "Doors open at 8"},
                      "send_at": send_at.to_string()});
    let created = ok_json(create_campaign(&two, crate::helpers::ADMIN, body).await, StatusCode::CREATED).await;
    let id = created["id"].as_str().unwrap().to_owned();
    // A campaign made afterwards (to nobody, due now) goes out: a worker has looked at the scheduled one since.
    let marker = json!({"name": "Marker", "segment": "points >= 1000000", "message": {"en": "Nothing"}});
    let marker = ok_json(create_campaign(&two, crate::helpers::ADMIN, marker).await, StatusCode::CREATED).await;
    wait_sent(&one, marker["id"].as_str().unwrap()).await;
    let early = stats(&one, &id).await;
    let checked_at = jiff::Timestamp::now();
    // (On a machine so loaded that the send time has already come, only `started_at` below can tell.)
    if checked_at < send_at {
        assert_eq!(early["targeted"], 0, "not before its time");
    }
    let s = wait_sent(&one, &id).await;
    assert_eq!(s["sent"], 3, "{s}");
    let started = store.campaign(&id).await.unwrap().unwrap().started_at.unwrap();
    assert!(started >= send_at.as_millisecond(), "went out at send_at, not before");
    let history = history_of(store.as_ref(), &id).await;
    assert_eq!(history.iter().filter(|e| e.action == "sending").count(), 1, "started by one process only");
    eventually("three pushes", async || apns.received_count() >= 3).await;
    wait_until_drained(&one, JobKind::Push).await;
    assert_eq!(apns.received_count(), 3, "one push per device, not one per process");
    drop(two);
}

on_both_backends!(
    a_campaign_killed_mid_send_finishes_without_gap_or_duplicate,
    a_scheduled_campaign_goes_out_once_with_two_servers,
);

/// A campaign's history (its audit log entries), oldest first.
async fn history_of(store: &dyn passerelle::store::Store, id: &str) -> Vec<passerelle::store::AuditEntry> {
    let query = passerelle::store::AuditQuery {
        object_kind: Some("campaign".into()),
        object_id: Some(id.into()),
        limit: 1000,
        ..Default::default()
    };
    store.audit_log(&query).await.unwrap().into_iter().rev().map(|r| r.entry).collect()
}
