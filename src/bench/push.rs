//! `passerelle bench push`: pushes to N registered devices through the mock APNs on loopback
//! (HTTP/2 + TLS, client certificates), the real outbox and the real APNs client.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::app::{self, PushParts};
use crate::config::Config;
use crate::store::JobKind;
use crate::store::{NewPass, PassChange};
use crate::testkit::mock_apns::{MockApns, MockApnsConfig};
use crate::tokens;

pub async fn push(config: &Config, devices: usize) -> Result<ExitCode> {
    if devices == 0 {
        bail!("--devices must be positive");
    }
    let dir = tempfile_dir()?;
    let mut config = config.clone();
    if config.database.url.expose() == "sqlite://data/passerelle.db" {
        config.database.url = crate::secret::Secret::new(format!("sqlite://{}/bench.db", dir.display()));
    }
    let apns = MockApns::start(
        std::path::Path::new("certs-example"),
        MockApnsConfig { keep_received: false, ..MockApnsConfig::default() },
    )
    .await?;
    config.apns.url = apns.url();
    config.apns.ca_file = Some("certs-example/root-ca.pem".into());
    config.jobs.coalesce_ms = 0;

    let (templates, passes) = app::load_passes(&config)?;
    let store = app::open_store(&config).await?;
    let template = templates.get("loyalty").context("the bench needs the loyalty template")?;
    let data = template.example.clone().context("loyalty has no example.json")?;
    let serial = tokens::serial_number();
    let new = NewPass {
        serial_number: serial.clone(),
        template: "loyalty".into(),
        data: data.clone(),
        authentication_token: tokens::authentication_token(),
        share_token: tokens::serial_number(),
    };
    store.insert_pass(new).await?;
    let started = Instant::now();
    for n in 0..devices {
        store.register_device(&format!("bench-device-{n}"), &serial, &format!("{n:064x}"), u32::MAX).await?;
    }
    println!("# passerelle bench push: {devices} devices registered in {:.1} s", started.elapsed().as_secs_f64());

    let started = Instant::now();
    store
        .update_pass(&serial, Box::new(move |_| Ok(PassChange { data, voided: false, message: None, campaign: None })))
        .await?;
    println!(
        "enqueue (one pass change, one job per device, one transaction): {:.2} s",
        started.elapsed().as_secs_f64()
    );

    let push = PushParts::new(&config.apns, &passes)?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let started = Instant::now();
    let workers = crate::jobs::background::push_loops(&config.jobs, &store, &push, &stopped);
    while apns.received_count() < devices {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let _ = stop.send(true);
    for w in workers {
        let _ = w.await;
    }
    let stats =
        store.queue_stats().await?.into_iter().find(|(k, _)| *k == JobKind::Push).map(|(_, s)| s).unwrap_or_default();
    println!("pushes/s: {:.0}  ({devices} pushes in {elapsed:.2} s)", devices as f64 / elapsed);
    println!(
        "APNs connections: {}, most streams in flight: {}, queue left: {} pending, {} leased, {} dead",
        apns.connections(),
        apns.max_in_flight(),
        stats.pending,
        stats.leased,
        stats.dead
    );
    println!("peak memory (VmHWM, whole process incl. mock APNs): {}", peak_memory());
    let _ = std::fs::remove_dir_all(&dir);
    Ok(ExitCode::SUCCESS)
}

fn tempfile_dir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("passerelle-bench-push-{}", tokens::random_hex(4)));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l[6..].trim().to_owned()))
        .unwrap_or_else(|| "unknown".into())
}
