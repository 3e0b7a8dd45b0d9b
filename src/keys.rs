//! Admin API keys: made here, shown once, stored as a SHA-256 hash (shared by the CLI and the API).

use crate::error::{Error, Result};
use crate::http::extract::key_hash;
use crate::secret::Secret;
use crate::store::{ApiKeyRecord, NewApiKey, Store};
use crate::tokens;

const MAX_NAME_LEN: usize = 100;

/// Creates a key named `name`; returns its record and the secret (to show once).
pub async fn create(store: &dyn Store, name: &str) -> Result<(ApiKeyRecord, Secret)> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
        return Err(Error::unprocessable(format!("name must be 1-{MAX_NAME_LEN} characters"), "name"));
    }
    // 160 random bits: a fast hash is enough for keys this long.
    let secret = format!("psr_{}", tokens::random_hex(20));
    let record = store
        .insert_api_key(NewApiKey {
            id: format!("key_{}", tokens::random_hex(8)),
            name: name.to_owned(),
            prefix: secret[..12].to_owned(),
            key_hash: key_hash(&secret),
        })
        .await?;
    Ok((record, Secret::new(secret)))
}
