//! `passerelle bench campaign`: a campaign to N seeded holders (one Apple device each) through
//! the real fan-out, outbox, APNs client and the mock APNs on loopback; prints the time to
//! enqueue, pushes per second and peak memory.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::json;

use crate::app::{self, PushParts};
use crate::campaigns::worker::CampaignWorker;
use crate::config::Config;
use crate::store::{HolderSeed, MemberRecord, NewCampaign, NewPass, now_ms};
use crate::testkit::mock_apns::{MockApns, MockApnsConfig};
use crate::tokens;

/// Holders written per seeding transaction.
const SEED_CHUNK: usize = 5_000;

pub async fn campaign(config: &Config, holders: usize) -> Result<ExitCode> {
    if holders == 0 {
        bail!("--holders must be positive");
    }
    let dir = std::env::temp_dir().join(format!("passerelle-bench-campaign-{}", tokens::random_hex(4)));
    std::fs::create_dir_all(&dir)?;
    let mut config = config.clone();
    if config.database.url.expose() == "sqlite://data/passerelle.db" {
        config.database.url = crate::secret::Secret::new(format!("sqlite://{}/bench.db", dir.display()));
    }
    let config_apns = MockApnsConfig { keep_received: false, ..MockApnsConfig::default() };
    let apns = std::sync::Arc::new(MockApns::start(std::path::Path::new("certs-example"), config_apns).await?);
    config.apns.url = apns.url();
    config.apns.ca_file = Some("certs-example/root-ca.pem".into());
    config.jobs.coalesce_ms = 0;
    config.campaigns.quiet_hours = "off".into();

    let (templates, passes) = app::load_passes(&config)?;
    let store = app::open_store(&config).await?;
    let template = templates.get("loyalty").context("the bench needs the loyalty template")?;
    let data = template.example.clone().context("loyalty has no example.json")?;

    let started = Instant::now();
    let mut seeds = Vec::with_capacity(SEED_CHUNK);
    for n in 0..holders {
        let serial = tokens::serial_number();
        let now = now_ms();
        seeds.push(HolderSeed {
            member: MemberRecord {
                id: format!("mem_bench{n:09}"),
                card_number: format!("B{n:011}"),
                first_name: "Bench".into(),
                language: Some(if n % 2 == 0 { "fr" } else { "en" }.into()),
                consent_terms: true,
                consent_marketing: true,
                consent_at: Some(now),
                points: (n % 1000) as i64,
                tier: "member".into(),
                attributes: json!({}),
                created_at: now,
                updated_at: now,
                ..MemberRecord::default()
            },
            pass: NewPass {
                serial_number: serial,
                template: "loyalty".into(),
                data: data.clone(),
                authentication_token: tokens::authentication_token(),
                share_token: tokens::serial_number(),
            },
            device: Some((format!("bench-device-{n}"), format!("{n:064x}"))),
        });
        if seeds.len() == SEED_CHUNK || n + 1 == holders {
            store.seed_holders(&seeds).await?;
            seeds.clear();
        }
    }
    store.optimize().await?;
    println!("# passerelle bench campaign: {holders} holders seeded in {:.1} s", started.elapsed().as_secs_f64());
    let rss_before = memory("VmRSS");

    let messages: BTreeMap<String, String> =
        [("fr", "Soldes d'hiver : -20 % ce week-end"), ("en", "Winter sale: 20% off this weekend")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
    let new = NewCampaign {
        id: format!("cmp_{}", tokens::random_hex(8)),
        name: "bench".into(),
        segment: "points >= 0".into(),
        scope: "hq".into(),
        messages,
        priority: "normal".into(),
        status: "approved".into(),
        send_at: None,
        created_by: "bench".into(),
        test_card_number: None,
        holdout_percent: 0,
        conversion_days: 7,
    };
    let campaign = store.insert_campaign(new, "bench").await?;

    let push = PushParts::new(&config.apns, &passes)?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let workers = crate::jobs::background::push_loops(&config.jobs, &store, &push, &stopped);
    let fanout = CampaignWorker::new(&config, store.clone(), templates.clone(), None)?;
    let started = Instant::now();
    // Pushes start while the fan-out goes on: watch for the first and the last one meanwhile.
    let watcher = {
        let apns = apns.clone();
        tokio::spawn(async move {
            let mut first = None;
            while apns.received_count() < holders {
                if first.is_none() && apns.received_count() > 0 {
                    first = Some(started.elapsed());
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            (first.unwrap_or_default(), started.elapsed())
        })
    };
    let (_, targeted) = store.start_due_campaign(&fanout.plan.pressure).await?.context("the campaign starts")?;
    let materialized = started.elapsed().as_secs_f64();
    let handled = fanout.run_once().await?;
    let enqueued = started.elapsed().as_secs_f64();
    println!(
        "enqueue: {enqueued:.2} s for {handled} holders ({:.0} holders/s): {targeted} recipient rows from the \
         segment in {materialized:.2} s, then each pass changed with its push job, {} holders per transaction",
        handled as f64 / enqueued,
        config.campaigns.batch_size
    );
    let (first_push, last_push) = watcher.await?;
    let all = last_push.as_secs_f64();
    let _ = stop.send(true);
    for w in workers {
        let _ = w.await;
    }
    let stats = store.campaign_stats(&campaign.id).await?;
    let from_first = all - first_push.as_secs_f64();
    println!(
        "pushes/s: {:.0} from the first push to the last ({holders} in {from_first:.2} s, the first {:.2} s after \
         the start); {:.0}/s end to end ({all:.2} s from the start of the campaign to the last push)",
        holders as f64 / from_first,
        first_push.as_secs_f64(),
        holders as f64 / all
    );
    println!(
        "campaign stats: targeted {}, sent {}, held back {:?}, APNs accepted {}",
        stats.targeted,
        stats.sent,
        stats.held_back,
        stats.counters.get("apple.accepted").copied().unwrap_or(0)
    );
    println!(
        "memory: RSS {} after seeding, peak (VmHWM, whole process incl. the mock APNs) {}",
        rss_before,
        memory("VmHWM")
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(ExitCode::SUCCESS)
}

fn memory(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).map(|l| l[field.len() + 1..].trim().to_owned()))
        .unwrap_or_else(|| "unknown".into())
}
