//! `passerelle bench results`: a campaign to N seeded holders with a 10% holdout, R linked
//! receipts spread over the 30 days before and after its start, and the time `results` takes
//! (whole, and per home store), as the API computes them.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::json;

use super::holders::{Holders, bench_database, campaign_to_all, member_id, seed};
use crate::app;
use crate::campaigns::pressure::Pressure;
use crate::campaigns::results::{compare, total, window};
use crate::config::Config;
use crate::store::{ReceiptRecord, now_ms};

const RECEIPT_CHUNK: usize = 10_000;
const DAY_MS: i64 = 86_400_000;
const RUNS: usize = 5;
const HOLDOUT_PERCENT: i64 = 10;

/// A cheap deterministic spread (splitmix64), so every run seeds the same receipts.
fn spread(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub async fn results(config: &Config, holders: usize, receipts: usize) -> Result<ExitCode> {
    if holders == 0 {
        bail!("--holders must be positive");
    }
    let mut config = config.clone();
    let dir = bench_database(&mut config, "results")?;
    config.campaigns.quiet_hours = "off".into();
    let (templates, _) = app::load_passes(&config)?;
    let store = app::open_store(&config).await?;
    let data = templates.get("loyalty").and_then(|t| t.example.clone()).context("the loyalty template's example")?;
    seed(store.as_ref(), &Holders { count: holders, data: &data, devices: false, home_stores: 20 }).await?;

    store.insert_campaign(campaign_to_all(HOLDOUT_PERCENT), "bench").await?;
    let started = Instant::now();
    let (campaign, targeted) =
        store.start_due_campaign(&Pressure::new(&config.campaigns)?).await?.context("the campaign starts")?;
    println!(
        "start: {targeted} recipient rows and a {HOLDOUT_PERCENT}% holdout drawn in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let start = campaign.started_at.context("started")?;

    let seeding = Instant::now();
    let mut chunk = Vec::with_capacity(RECEIPT_CHUNK);
    for n in 0..receipts {
        let r = spread(n as u64);
        let kind = if r.is_multiple_of(10) { "return" } else { "sale" };
        let amount = 500 + (r >> 8) as i64 % 20_000;
        let issued_at = start - 30 * DAY_MS + ((r >> 24) % (60 * DAY_MS as u64)) as i64;
        chunk.push(ReceiptRecord {
            id: format!("rcp_bench{n:010}"),
            receipt_number: format!("B-{n}"),
            store_id: format!("bench-{}", (r >> 40) % 20),
            issued_at,
            kind: kind.into(),
            total: if kind == "return" { -amount } else { amount },
            currency: if (r >> 48).is_multiple_of(20) { "CHF" } else { "EUR" }.into(),
            body: json!({}),
            member_id: Some(member_id((r >> 16) as usize % holders)),
            idempotency_key: None,
            email_hmac: None,
            phone_hmac: None,
            pass_serial: format!("bench-receipt-{n}"),
            created_at: now_ms(),
        });
        if chunk.len() == RECEIPT_CHUNK || n + 1 == receipts {
            store.seed_receipts(&chunk).await?;
            chunk.clear();
        }
    }
    store.optimize().await?;
    println!("# {receipts} receipts seeded in {:.1} s", seeding.elapsed().as_secs_f64());

    let (from, to) = window(start, campaign.conversion_days);
    for by_store in [false, true] {
        let mut times = Vec::with_capacity(RUNS);
        let mut figures = Default::default();
        for _ in 0..RUNS {
            let t = Instant::now();
            figures = store.conversion_figures(&campaign.id, from, to, by_store).await?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        let (treated, holdout) = total(&figures);
        let c = compare(&treated, &holdout);
        println!(
            "results{}: median {:.0} ms (min {:.0}, max {:.0}) over {RUNS} runs; treated {} holders, {} buyers; \
             holdout {} holders, {} buyers; lift {:+.4}",
            if by_store { " ?by=store" } else { "" },
            times[RUNS / 2],
            times[0],
            times[RUNS - 1],
            treated.holders,
            treated.buyers,
            holdout.holders,
            holdout.buyers,
            c.lift.unwrap_or(0.0)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(ExitCode::SUCCESS)
}
