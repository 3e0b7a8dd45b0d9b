//! `passerelle bench sign`: passes built and signed per second, beside `openssl speed rsa2048`.
//!
//! The RSA-2048 private-key operation is the floor of a pass's cost, so the figure
//! that matters is our rate as a share of OpenSSL's raw signing rate, measured in the same run.

use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::app;
use crate::apple::PassKeys;
use crate::config::Config;
use crate::tokens;

pub fn sign(config: &Config, template_id: &str, seconds: f64, threads: Option<usize>) -> Result<ExitCode> {
    if seconds.is_nan() || seconds <= 0.0 {
        bail!("--seconds must be positive");
    }
    let (templates, builder) = app::load_passes(config)?;
    let template = templates.get(template_id).with_context(|| format!("no template {template_id:?}"))?.clone();
    let example = template.example.clone().with_context(|| format!("template {template_id} has no example.json"))?;
    let data = template.validate_data(&example)?;
    let image_bytes: usize = template.files.iter().map(|f| f.bytes.len()).sum();
    let threads = threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let duration = Duration::from_secs_f64(seconds);

    println!(
        "# passerelle bench sign: template {template_id}, {} files, {image_bytes} bytes of static files",
        template.files.len()
    );
    let sample = builder.build(
        &template,
        &data,
        &PassKeys {
            serial_number: "sample",
            authentication_token: "0123456789abcdef0123",
            web_service_url: "https://example.com",
            voided: false,
            locations: &[],
        },
    )?;
    println!("pass size: {} bytes", sample.len());

    let run = |n_threads: usize| -> f64 {
        let start = Instant::now();
        let total: u64 = std::thread::scope(|s| {
            let handles: Vec<_> = (0..n_threads)
                .map(|_| {
                    let (builder, template, data) = (&builder, &template, &data);
                    s.spawn(move || {
                        let mut count = 0u64;
                        let mut data = data.clone();
                        let token = tokens::authentication_token();
                        while start.elapsed() < duration {
                            // Vary the serial and the points like a real stream of passes.
                            let serial = tokens::serial_number();
                            if let Some(points) = template.definition.roles.points.as_ref() {
                                data.insert(points.clone(), Value::from(count));
                            }
                            let keys = PassKeys {
                                serial_number: &serial,
                                authentication_token: &token,
                                web_service_url: "https://example.com",
                                voided: false,
                                locations: &[],
                            };
                            std::hint::black_box(builder.build(template, &data, &keys).expect("bench pass builds"));
                            count += 1;
                        }
                        count
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("bench thread")).sum()
        });
        total as f64 / start.elapsed().as_secs_f64()
    };

    let one = run(1);
    println!("passes/s, 1 thread:  {one:.0}");
    let all = run(threads);
    println!("passes/s, {threads} threads: {all:.0}");
    match openssl_speed(seconds) {
        Some(rsa) => {
            println!("openssl speed rsa2048, 1 core: {rsa:.0} signs/s");
            println!("ratio to raw RSA-2048 signing (1 core): {:.1}%", one / rsa * 100.0);
        }
        None => println!("openssl speed rsa2048: unavailable (no openssl command)"),
    }
    Ok(ExitCode::SUCCESS)
}

/// RSA-2048 signs per second on one core from `openssl speed -mr` (`+F2:n:bits:sign/s:verify/s`).
fn openssl_speed(seconds: f64) -> Option<f64> {
    let secs = (seconds.ceil() as u64).max(1).to_string();
    let out = Command::new("openssl").args(["speed", "-mr", "-seconds", &secs, "rsa2048"]).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().find_map(|l| l.strip_prefix("+F2:")).and_then(|l| l.split(':').nth(2)).and_then(|s| s.parse().ok())
}
