//! Shops ("stores" in the API and the database; `shops` in code, apart from `store`, the database):
//! the retailer's shops (validated ids, names, coordinates, IANA time zones), their flyers, and the
//! lock-screen `locations` a loyalty pass shows near them (Apple's pass.json `locations`).

pub mod flyers;
mod locations;
pub mod qr;
pub mod report;

pub use locations::{MAX_PASS_LOCATIONS, distance_km, locations_near, pass_locations};

use crate::error::{Error, Result, phrase_conflict};
use crate::store::{NewShop, ShopChange, ShopRecord, Store};

/// Longest store id: ids travel in URL paths and on receipts.
pub const MAX_ID_LEN: usize = 40;
const MAX_NAME_LEN: usize = 200;
const MAX_ADDRESS_LEN: usize = 500;

/// Store ids are the caller's own (`paris-01`): 1-40 of `a-z`, `0-9`, `-`.
pub fn valid_id(id: &str) -> bool {
    (1..=MAX_ID_LEN).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn check_id(id: &str) -> Result<()> {
    if valid_id(id) {
        Ok(())
    } else {
        Err(Error::unprocessable(format!("id must be 1-{MAX_ID_LEN} characters of a-z, 0-9 and '-'"), "id"))
    }
}

fn check_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
        return Err(Error::unprocessable(format!("name must be 1-{MAX_NAME_LEN} characters"), "name"));
    }
    Ok(name.to_owned())
}

/// A blank address is no address.
fn check_address(address: Option<&str>) -> Result<Option<String>> {
    let address = address.map(str::trim).filter(|a| !a.is_empty());
    if address.is_some_and(|a| a.chars().count() > MAX_ADDRESS_LEN) {
        return Err(Error::unprocessable(format!("address must be at most {MAX_ADDRESS_LEN} characters"), "address"));
    }
    Ok(address.map(str::to_owned))
}

fn check_latitude(latitude: f64) -> Result<f64> {
    if (-90.0..=90.0).contains(&latitude) {
        Ok(latitude)
    } else {
        Err(Error::unprocessable(format!("latitude must be between -90 and 90, got {latitude}"), "latitude"))
    }
}

fn check_longitude(longitude: f64) -> Result<f64> {
    if (-180.0..=180.0).contains(&longitude) {
        Ok(longitude)
    } else {
        Err(Error::unprocessable(format!("longitude must be between -180 and 180, got {longitude}"), "longitude"))
    }
}

/// The canonical IANA name of a time zone (`europe/paris` becomes `Europe/Paris`).
pub fn canonical_timezone(name: &str) -> Result<String> {
    let invalid = || {
        Error::unprocessable(
            format!("timezone must be an IANA time zone name such as Europe/Paris, got {name:?}"),
            "timezone",
        )
    };
    let plausible = (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-' | b'+'))
        && !name.eq_ignore_ascii_case("Etc/Unknown");
    if !plausible {
        return Err(invalid());
    }
    let tz = jiff::tz::db().get(name).map_err(|_| invalid())?;
    Ok(tz.iana_name().unwrap_or(name).to_owned())
}

/// Checks and normalises a new store (trimmed text, canonical time zone).
pub fn check_new(s: NewShop) -> Result<NewShop> {
    check_id(&s.id)?;
    Ok(NewShop {
        name: check_name(&s.name)?,
        address: check_address(s.address.as_deref())?,
        latitude: check_latitude(s.latitude)?,
        longitude: check_longitude(s.longitude)?,
        timezone: canonical_timezone(&s.timezone)?,
        id: s.id,
    })
}

/// Checks and normalises a partial change.
pub fn check_change(c: ShopChange) -> Result<ShopChange> {
    Ok(ShopChange {
        name: c.name.as_deref().map(check_name).transpose()?,
        address: c.address.as_ref().map(|a| check_address(a.as_deref())).transpose()?,
        latitude: c.latitude.map(check_latitude).transpose()?,
        longitude: c.longitude.map(check_longitude).transpose()?,
        timezone: c.timezone.as_deref().map(canonical_timezone).transpose()?,
    })
}

pub fn not_found(id: &str) -> Error {
    Error::NotFound(format!("no store has the id {id:?}"))
}

/// Refuses (422 naming `field`) an id no store has: members, receipts, points and flyers name
/// real stores only (a typo would otherwise make a store nobody can find or target).
pub async fn require_known(store: &dyn Store, id: &str, field: &str) -> Result<()> {
    if valid_id(id) && store.shop(id).await?.is_some() {
        return Ok(());
    }
    Err(Error::unprocessable(format!("no store has the id {id:?}"), field))
}

/// Validates and stores a new store; 409 if the id exists.
pub async fn create(store: &dyn Store, s: NewShop) -> Result<ShopRecord> {
    store.insert_shop(check_new(s)?).await.map_err(|e| {
        phrase_conflict(e, |_, id, _| Error::conflict(format!("a store with id {id:?} already exists"), "id"))
    })
}

/// Validates and applies a partial change; 404 if there is no such store.
pub async fn change(store: &dyn Store, id: &str, c: ShopChange) -> Result<ShopRecord> {
    if !valid_id(id) {
        return Err(not_found(id));
    }
    let change = check_change(c)?;
    store.update_shop(id, change).await?.ok_or_else(|| not_found(id))
}

/// The `locations` of a loyalty pass whose holder's home store is `home_store_id`.
pub async fn locations_for(store: &dyn Store, home_store_id: Option<&str>) -> Result<Vec<serde_json::Value>> {
    Ok(pass_locations(&store.all_shops().await?, home_store_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(valid_id("paris-01"));
        assert!(!valid_id("Paris-01"));
        assert!(!valid_id(""));
        assert!(!valid_id("a b"));
        assert!(!valid_id(&"a".repeat(41)));
    }

    #[test]
    fn time_zones() {
        assert_eq!(canonical_timezone("Europe/Paris").unwrap(), "Europe/Paris");
        assert_eq!(canonical_timezone("europe/paris").unwrap(), "Europe/Paris");
        assert_eq!(canonical_timezone("UTC").unwrap(), "UTC");
        for bad in ["Europe/Nowhere", "", "../../etc/passwd", "Etc/Unknown", "Paris"] {
            let err = canonical_timezone(bad).unwrap_err();
            assert!(matches!(err, Error::Unprocessable { ref field, .. } if field.as_deref() == Some("timezone")));
        }
    }

    #[test]
    fn coordinates_and_text() {
        assert!(check_latitude(90.0).is_ok() && check_latitude(90.5).is_err());
        assert!(check_longitude(-180.0).is_ok() && check_longitude(-181.0).is_err());
        assert!(check_name("  ").is_err());
        assert_eq!(check_name(" Paris ").unwrap(), "Paris");
        assert_eq!(check_address(Some("  ")).unwrap(), None);
    }
}
