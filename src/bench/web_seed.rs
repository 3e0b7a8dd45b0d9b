//! `passerelle bench seed-web`: passes and registrations for the web-service load test
//! (`bench/web-service.sh` runs wrk against a server on the seeded database).

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Result, bail};
use serde_json::json;

use crate::app;
use crate::config::Config;
use crate::store::NewPass;
use crate::tokens;

pub async fn seed_web(
    config: &Config,
    passes: usize,
    registrations: usize,
    per_device: usize,
    targets: &Path,
) -> Result<ExitCode> {
    if passes == 0 || per_device == 0 || per_device > passes {
        bail!("need passes > 0 and 0 < per-device <= passes");
    }
    let store = app::open_store(config).await?;
    let started = Instant::now();
    let mut held = Vec::with_capacity(passes);
    for i in 0..passes {
        let pass = store
            .insert_pass(NewPass {
                serial_number: tokens::serial_number(),
                template: "loyalty".into(),
                data: json!({"card_number": format!("ML-{i:08}"), "member_name": "Bench Member", "points": i % 1000}),
                authentication_token: tokens::authentication_token(),
                share_token: tokens::serial_number(),
            })
            .await?;
        held.push((pass.serial_number, pass.authentication_token));
    }
    println!("{passes} passes in {:.1} s", started.elapsed().as_secs_f64());

    let started = Instant::now();
    let mut out = String::new();
    for r in 0..registrations {
        let device = format!("bench{:027}", r / per_device);
        // Consecutive registrations of a device hold different passes.
        let (serial, token) = &held[(r / per_device * 7919 + r % per_device) % passes];
        store.register_device(&device, serial, &tokens::random_hex(32), u32::MAX).await?;
        writeln!(out, "{device} {serial} {token}")?;
    }
    println!("{registrations} registrations in {:.1} s", started.elapsed().as_secs_f64());
    store.optimize().await?;
    std::fs::write(targets, out)?;
    Ok(ExitCode::SUCCESS)
}
