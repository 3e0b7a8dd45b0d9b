//! Admin API keys: made here, shown once, stored as a SHA-256 hash (shared by the CLI and the API).
//! A key is HQ's (the whole API) or one store's (tills and store managers; see `KeyScope`).

use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::store::{ApiKeyRecord, NewApiKey, Store};
use crate::tokens;

const MAX_NAME_LEN: usize = 100;

/// SHA-256 hex of an API key: keys are stored only this way.
pub fn key_hash(key: &str) -> String {
    hex::encode(openssl::sha::sha256(key.as_bytes()))
}

/// What a key may reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyScope {
    /// Head office: the whole API, and approval of stores' campaigns.
    Hq,
    /// One store: points, receipts, orders and members for any shopper (they buy anywhere),
    /// campaigns only for the store's own members (and HQ approves them).
    Store(String),
}

impl KeyScope {
    /// Parses `hq` or `store:<id>`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "hq" => Some(Self::Hq),
            _ => text.strip_prefix("store:").filter(|id| !id.is_empty()).map(|id| Self::Store(id.to_owned())),
        }
    }

    pub fn store_id(&self) -> Option<&str> {
        match self {
            Self::Hq => None,
            Self::Store(id) => Some(id),
        }
    }
}

impl std::fmt::Display for KeyScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Hq => f.write_str("hq"),
            Self::Store(id) => write!(f, "store:{id}"),
        }
    }
}

/// Creates a key named `name` with `scope` (a store scope must name a known store); returns
/// its record and the secret (to show once).
pub async fn create(store: &dyn Store, name: &str, scope: &KeyScope) -> Result<(ApiKeyRecord, Secret)> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
        return Err(Error::unprocessable(format!("name must be 1-{MAX_NAME_LEN} characters"), "name"));
    }
    if let KeyScope::Store(id) = scope
        && store.shop(id).await?.is_none()
    {
        return Err(Error::unprocessable(format!("no store {id:?}"), "scope"));
    }
    // 160 random bits: a fast hash is enough for keys this long.
    let secret = format!("psr_{}", tokens::random_hex(20));
    let record = store
        .insert_api_key(NewApiKey {
            id: format!("key_{}", tokens::random_hex(8)),
            name: name.to_owned(),
            prefix: secret[..12].to_owned(),
            key_hash: key_hash(&secret),
            scope: scope.to_string(),
        })
        .await?;
    Ok((record, Secret::new(secret)))
}
