//! What the campaign benchmarks share: a temporary database, N seeded holders and an approved
//! campaign to all of them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use serde_json::{Value, json};

use crate::config::Config;
use crate::store::{HolderSeed, MemberRecord, NewCampaign, NewPass, Store, now_ms};
use crate::tokens;

/// Holders written per seeding transaction.
const SEED_CHUNK: usize = 5_000;

/// A temporary SQLite database for `config`, unless PASSERELLE_DATABASE_URL names another;
/// returns the folder to remove afterwards.
pub fn bench_database(config: &mut Config, name: &str) -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("passerelle-bench-{name}-{}", tokens::random_hex(4)));
    std::fs::create_dir_all(&dir)?;
    if config.database.url.expose() == "sqlite://data/passerelle.db" {
        config.database.url = crate::secret::Secret::new(format!("sqlite://{}/bench.db", dir.display()));
    }
    Ok(dir)
}

/// How the holders are seeded.
pub struct Holders<'a> {
    pub count: usize,
    /// The loyalty pass's data.
    pub data: &'a Value,
    /// One Apple device each.
    pub devices: bool,
    /// Home stores `bench-0` … spread over the holders (0: none).
    pub home_stores: usize,
}

/// The member id of holder `n`.
pub fn member_id(n: usize) -> String {
    format!("mem_bench{n:09}")
}

/// Seeds the holders (members with marketing consent and a loyalty pass), a chunk per
/// transaction; prints how long it took.
pub async fn seed(store: &dyn Store, h: &Holders<'_>) -> Result<()> {
    let started = Instant::now();
    let mut seeds = Vec::with_capacity(SEED_CHUNK);
    for n in 0..h.count {
        let now = now_ms();
        seeds.push(HolderSeed {
            member: MemberRecord {
                id: member_id(n),
                card_number: format!("B{n:011}"),
                first_name: "Bench".into(),
                language: Some(if n % 2 == 0 { "fr" } else { "en" }.into()),
                home_store_id: (h.home_stores > 0).then(|| format!("bench-{}", n % h.home_stores)),
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
                serial_number: tokens::serial_number(),
                template: "loyalty".into(),
                data: h.data.clone(),
                authentication_token: tokens::authentication_token(),
                share_token: tokens::serial_number(),
            },
            device: h.devices.then(|| (format!("bench-device-{n}"), format!("{n:064x}"))),
        });
        if seeds.len() == SEED_CHUNK || n + 1 == h.count {
            store.seed_holders(&seeds).await?;
            seeds.clear();
        }
    }
    println!("# {} holders seeded in {:.1} s", h.count, started.elapsed().as_secs_f64());
    Ok(())
}

/// An approved HQ campaign to every holder.
pub fn campaign_to_all(holdout_percent: i64) -> NewCampaign {
    let messages: BTreeMap<String, String> =
        [("fr", "Soldes d'hiver : -20 % ce week-end"), ("en", "Winter sale: 20% off this weekend")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
    NewCampaign {
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
        holdout_percent,
        conversion_days: 7,
        offer_id: None,
    }
}
