//! `passerelle bench campaign`: a campaign to N seeded holders (one Apple device each) through
//! the real fan-out, outbox, APNs client and the mock APNs on loopback; prints the time to
//! enqueue, pushes per second and peak memory.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::holders::{Holders, bench_database, campaign_to_all, seed};
use crate::app::{self, PushParts};
use crate::campaigns::worker::CampaignWorker;
use crate::config::Config;
use crate::testkit::mock_apns::{MockApns, MockApnsConfig};

pub async fn campaign(config: &Config, holders: usize) -> Result<ExitCode> {
    if holders == 0 {
        bail!("--holders must be positive");
    }
    let mut config = config.clone();
    let dir = bench_database(&mut config, "campaign")?;
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
    seed(store.as_ref(), &Holders { count: holders, data: &data, devices: true, home_stores: 0 }).await?;
    store.optimize().await?;
    let rss_before = memory("VmRSS");
    let campaign = store.insert_campaign(campaign_to_all(0), "bench").await?;

    let push = PushParts::new(&config.apns, &passes)?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let workers = crate::jobs::background::push_loops(&config.jobs, &store, &push, &stopped);
    // No offer in this bench: the worker's issuing finds nothing to do.
    let offer_passes = Arc::new(crate::passes::Passes {
        store: store.clone(),
        templates: templates.clone(),
        builder: passes.clone(),
        public_url: config.http.public_url.clone().unwrap_or_default(),
        google: None,
        google_wait: Duration::ZERO,
    });
    let offers = Arc::new(crate::offers::Offers::new(offer_passes, config.offers.reverse_minutes));
    let fanout = CampaignWorker::new(&config, store.clone(), templates.clone(), None, offers)?;
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

pub(super) fn memory(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).map(|l| l[field.len() + 1..].trim().to_owned()))
        .unwrap_or_else(|| "unknown".into())
}
