//! Admin API keys: made here, shown once, stored as a SHA-256 hash (shared by the CLI and the API).
//! A key carries a role (`access::Role`) and, for a store role, its store.

use crate::access::audit::{self, Audited};
use crate::access::{Actor, Area, Role};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::store::{ApiKeyRecord, NewApiKey, Store};
use crate::tokens;

const MAX_NAME_LEN: usize = 100;

/// SHA-256 hex of an API key: keys are stored only this way.
pub fn key_hash(key: &str) -> String {
    hex::encode(openssl::sha::sha256(key.as_bytes()))
}

/// What a new key may do: a role, and the store of a store role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyGrant {
    pub role: Role,
    pub store_id: Option<String>,
}

impl KeyGrant {
    /// The grant asked for: `role` (default `hq_admin`, or `store` when a store is given) and
    /// `store_id` (required by, and only for, the store roles).
    pub fn parse(role: Option<&str>, store_id: Option<&str>) -> Result<Self> {
        let store_id = store_id.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        let role = match role {
            None if store_id.is_some() => Role::Store,
            None => Role::HqAdmin,
            Some(text) => Role::parse(text).ok_or_else(|| {
                Error::unprocessable("role must be hq_admin, hq_marketer, store or store_manager", "role")
            })?,
        };
        match (role.is_store(), &store_id) {
            (true, None) => Err(Error::unprocessable(format!("a {role} key needs a store_id"), "store_id")),
            (false, Some(_)) => Err(Error::unprocessable(format!("a {role} key has no store_id"), "store_id")),
            _ => Ok(Self { role, store_id }),
        }
    }

    /// A name for a key made without one: `store_manager paris-01`, `hq_admin`.
    pub fn default_name(&self) -> String {
        match &self.store_id {
            Some(store) => format!("{} {store}", self.role),
            None => self.role.to_string(),
        }
    }
}

/// The actor a stored key acts as; an unreadable role grants nothing rather than everything.
pub fn actor_of(record: &ApiKeyRecord) -> Result<Actor> {
    let role = Role::parse(&record.role)
        .ok_or_else(|| Error::Forbidden(format!("API key {} has an unknown role", record.id)))?;
    if role.is_store() && record.store_id.is_none() {
        return Err(Error::Forbidden(format!("API key {} has a store role without a store", record.id)));
    }
    Ok(Actor::new(record.id.clone(), record.name.clone(), role, record.store_id.clone()))
}

/// Creates a key named `name` with `grant` (a store role must name a known store); returns its
/// record and the secret (to show once). `by` is who asks (`None`: the command line).
pub async fn create(
    store: &dyn Store,
    by: Option<&Actor>,
    name: &str,
    grant: &KeyGrant,
) -> Result<(ApiKeyRecord, Secret)> {
    if let Some(actor) = by {
        actor.require(Area::Keys)?;
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
        return Err(Error::unprocessable(format!("name must be 1-{MAX_NAME_LEN} characters"), "name"));
    }
    if let Some(id) = &grant.store_id
        && store.shop(id).await?.is_none()
    {
        return Err(Error::unprocessable(format!("no store {id:?}"), "store_id"));
    }
    // 160 random bits: a fast hash is enough for keys this long.
    let secret = format!("psr_{}", tokens::random_hex(20));
    let record = store
        .insert_api_key(NewApiKey {
            id: format!("key_{}", tokens::random_hex(8)),
            name: name.to_owned(),
            prefix: secret[..12].to_owned(),
            key_hash: key_hash(&secret),
            role: grant.role.to_string(),
            store_id: grant.store_id.clone(),
        })
        .await?;
    if let Some(actor) = by {
        let detail = serde_json::json!({"name": record.name, "role": record.role});
        let what = Audited {
            action: "key.created",
            object_kind: "key",
            object_id: &record.id,
            store_id: record.store_id.as_deref(),
            detail,
        };
        audit::record(store, actor, what).await?;
    }
    Ok((record, Secret::new(secret)))
}

/// Revokes a key; 404 if there is no such active key. `by` is who asks (`None`: the command line).
pub async fn revoke(store: &dyn Store, by: Option<&Actor>, id: &str) -> Result<()> {
    if let Some(actor) = by {
        actor.require(Area::Keys)?;
    }
    if !store.revoke_api_key(id).await? {
        return Err(Error::NotFound(format!("no active key {id:?}")));
    }
    if let Some(actor) = by {
        let what = Audited {
            action: "key.revoked",
            object_kind: "key",
            object_id: id,
            store_id: None,
            detail: serde_json::json!({}),
        };
        audit::record(store, actor, what).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grant_names_a_store_exactly_when_its_role_is_a_store_role() {
        assert_eq!(KeyGrant::parse(None, None).unwrap().role, Role::HqAdmin);
        assert_eq!(KeyGrant::parse(None, Some("paris-01")).unwrap().role, Role::Store);
        let manager = KeyGrant::parse(Some("store_manager"), Some("paris-01")).unwrap();
        assert_eq!(manager.default_name(), "store_manager paris-01");
        assert!(KeyGrant::parse(Some("store"), None).is_err());
        assert!(KeyGrant::parse(Some("hq_marketer"), Some("paris-01")).is_err());
        assert!(KeyGrant::parse(Some("root"), None).is_err());
    }
}
