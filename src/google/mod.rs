//! Google Wallet: the mapping from templates, the REST client, save links, and callbacks.

pub mod callback;
pub mod client;
pub mod jwt;
pub mod mapping;
mod offers;
pub mod sync;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::store::Store;

/// Builds the Google Wallet service when configured; without it the server runs Apple-only
/// and says so once.
pub async fn service(
    config: &crate::config::Google,
    store: &Arc<dyn Store>,
    public_url: &str,
    health: &Arc<crate::dependencies::DependencyHealth>,
) -> Result<Option<Arc<sync::GoogleService>>> {
    let (Some(key), Some(issuer)) = (&config.sa_key, &config.issuer_id) else {
        tracing::info!(
            "Google Wallet is off (set PASSERELLE_GOOGLE_SA_KEY and PASSERELLE_GOOGLE_ISSUER_ID): passes are Apple-only"
        );
        return Ok(None);
    };
    let limiter = Arc::new(sync::DbRateLimiter {
        store: store.clone(),
        interval: Duration::from_secs(1) / config.rate_per_sec.max(1),
    });
    let api = client::GoogleClient::new(key, config.into(), limiter).await.context("Google Wallet client")?;
    let api = api.with_health(health.clone());
    // The save button may only be shown on our own site.
    let uri: hyper::Uri = public_url.parse().context("PASSERELLE_PUBLIC_URL is not a URL")?;
    let origin = format!("{}://{}", uri.scheme_str().unwrap_or("https"), uri.authority().map_or("", |a| a.as_str()));
    let signer = jwt::SaveLinkSigner::from_file(key, vec![origin])?;
    let keys = callback::RootKeyCache::new(
        config.callback_keys_url.clone(),
        Duration::from_secs(3600),
        Arc::new(callback::HttpKeyFetcher::new()?),
    );
    tracing::info!(issuer = %issuer, "Google Wallet is on");
    Ok(Some(Arc::new(sync::GoogleService::new(Arc::new(api), signer, issuer.clone(), public_url.to_owned(), keys))))
}
