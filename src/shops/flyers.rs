//! Flyers: short unguessable codes printed as QR codes that lead to the enrollment page
//! `/join/{code}`, each tied to a store and a loyalty template for attribution.

use crate::access::{Actor, Area, Reach};
use crate::error::{Error, Result, phrase_conflict};
use crate::store::{FlyerRecord, FlyerStats, NewFlyer};
use crate::store::{Store, StoreError};
use crate::templates::Kind;
use crate::templates::TemplateSet;

/// No 0/o, 1/l/i: a code read aloud or typed from paper survives.
const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
/// 8 characters of 31: about 39.6 bits.
pub const CODE_LEN: usize = 8;
const MAX_LABEL_LEN: usize = 200;

/// A new random flyer code from the OS CSPRNG (rejection sampling: no modulo bias).
pub fn new_code() -> String {
    let limit = 256 - 256 % ALPHABET.len(); // the largest multiple of 31 in a byte
    let mut code = String::with_capacity(CODE_LEN);
    while code.len() < CODE_LEN {
        let mut buf = [0u8; 16];
        openssl::rand::rand_bytes(&mut buf).expect("the OpenSSL CSPRNG failed");
        for b in buf.into_iter().filter(|&b| (b as usize) < limit) {
            if code.len() < CODE_LEN {
                code.push(ALPHABET[b as usize % ALPHABET.len()] as char);
            }
        }
    }
    code
}

/// Whether `code` could be a flyer code (anything else is not looked up).
pub fn valid_code(code: &str) -> bool {
    code.len() == CODE_LEN && code.bytes().all(|b| ALPHABET.contains(&b))
}

/// The absolute URL the flyer's QR code carries.
pub fn join_url(public_url: &str, code: &str) -> String {
    format!("{public_url}/join/{code}")
}

pub fn not_found(code: &str) -> Error {
    Error::NotFound(format!("no flyer has the code {code:?}"))
}

/// The flyer with this code, or 404.
pub async fn find(store: &dyn Store, code: &str) -> Result<FlyerRecord> {
    let flyer = if valid_code(code) { store.flyer(code).await? } else { None };
    flyer.ok_or_else(|| not_found(code))
}

/// The flyer with this code if `actor` may see it (a store manager: its own store's), or 404.
pub async fn find_for(store: &dyn Store, actor: &Actor, code: &str) -> Result<FlyerRecord> {
    actor.require(Area::Flyers)?;
    let flyer = find(store, code).await?;
    if !actor.may_read(Area::Flyers, &flyer.store_id) {
        return Err(not_found(code));
    }
    Ok(flyer)
}

/// The newest `limit` flyers this actor may see: a store role's own store's (whatever `store_id`
/// asks), head office's of `store_id` or of every store.
pub async fn list_for(
    store: &dyn Store,
    actor: &Actor,
    store_id: Option<&str>,
    limit: i64,
) -> Result<Vec<FlyerRecord>> {
    actor.require(Area::Flyers)?;
    let store_id = match actor.reach(Area::Flyers) {
        Reach::All => store_id,
        _ => Some(actor.own_store().unwrap_or_default()),
    };
    Ok(store.list_flyers(store_id, limit).await?)
}

/// The flyer's figures (scans, unique scans, sign-ups, cards added) if `actor` may see it, or 404.
pub async fn stats_for(store: &dyn Store, actor: &Actor, code: &str) -> Result<(FlyerRecord, FlyerStats)> {
    let flyer = find_for(store, actor, code).await?;
    let stats = store.flyer_stats(&flyer.code).await?;
    Ok((flyer, stats))
}

/// Checks the store (a store manager's own) and the template (a loyalty template) and stores a
/// new flyer.
pub async fn create(
    store: &dyn Store,
    templates: &TemplateSet,
    actor: &Actor,
    store_id: &str,
    label: Option<&str>,
    template: &str,
) -> Result<FlyerRecord> {
    let store_id = actor.store_for_write(Area::Flyers, Some(store_id), "store_id")?.unwrap_or_default();
    let store_id = store_id.as_str();
    super::require_known(store, store_id, "store_id").await?;
    match templates.get(template) {
        Some(t) if t.definition.kind == Kind::Loyalty => {}
        Some(_) => {
            return Err(Error::unprocessable(format!("template {template:?} is not a loyalty template"), "template"));
        }
        None => {
            let loyalty: Vec<&str> =
                templates.iter().filter(|t| t.definition.kind == Kind::Loyalty).map(|t| t.id.as_str()).collect();
            return Err(Error::unprocessable(
                format!("unknown template {template:?} (loyalty templates: {})", loyalty.join(", ")),
                "template",
            ));
        }
    }
    let label = label.map(str::trim).filter(|l| !l.is_empty());
    if label.is_some_and(|l| l.chars().count() > MAX_LABEL_LEN) {
        return Err(Error::unprocessable(format!("label must be at most {MAX_LABEL_LEN} characters"), "label"));
    }
    // A collision is about one in a trillion; try again rather than fail.
    let mut attempts = 0;
    loop {
        let flyer = NewFlyer {
            code: new_code(),
            store_id: store_id.to_owned(),
            label: label.map(str::to_owned),
            template: template.to_owned(),
        };
        match store.insert_flyer(flyer).await {
            Err(StoreError::Conflict { .. }) if attempts < 3 => attempts += 1,
            Err(StoreError::MissingReference { value, .. }) => {
                return Err(Error::unprocessable(format!("no store has the id {value:?}"), "store_id"));
            }
            other => {
                return other.map_err(|e| {
                    phrase_conflict(e, |_, code, _| {
                        Error::conflict(format!("a flyer with code {code:?} already exists"), "code")
                    })
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_short_and_unambiguous() {
        let codes: std::collections::HashSet<String> = (0..1000).map(|_| new_code()).collect();
        assert_eq!(codes.len(), 1000);
        for c in &codes {
            assert!(valid_code(c), "{c}");
            assert!(!c.contains(['0', '1', 'i', 'l', 'o']));
        }
        assert_eq!(ALPHABET.len(), 31);
        assert!(!valid_code("abcdefg") && !valid_code("abcdefgi") && !valid_code("ABCDEFGH"));
    }
}
