//! Browsing members in the console: head office's every member, a store manager's own store's
//! (a till looks members up by exact card number, e-mail or phone only: `members::find`).

use super::Loyalty;
use super::input::{email, phone};
use super::members::{get, not_found};
use crate::access::{Actor, Area, Role};
use crate::error::{Error, Result};
use crate::store::{MemberRecord, MemberSearch};

/// Whose members `actor` may browse: everyone's (HQ), its own store's (a store manager).
fn browse_scope(actor: &Actor) -> Result<Option<String>> {
    actor.require(Area::Members)?;
    match actor.role {
        Role::HqAdmin | Role::HqMarketer => Ok(None),
        Role::StoreManager => Ok(actor.own_store().map(str::to_owned)),
        Role::Store => Err(Error::Forbidden("a till looks members up by card number, e-mail or phone".into())),
    }
}

/// The members `actor` may browse matching `query`: a card number, an e-mail, a phone or part
/// of a name (empty: the newest), newest first.
pub async fn search(loyalty: &Loyalty, actor: &Actor, query: &str, limit: i64) -> Result<Vec<MemberRecord>> {
    let query = query.trim();
    let search = MemberSearch {
        card_number: (!query.is_empty()).then(|| query.to_owned()),
        email: email(Some(query.to_owned())).ok().flatten(),
        phone: phone(loyalty.default_country, Some(query.to_owned())).ok().flatten(),
        name: (!query.is_empty()).then(|| query.to_lowercase()),
        home_store_id: browse_scope(actor)?,
        limit,
    };
    Ok(loyalty.passes.store.search_members(&search).await?)
}

/// A member `actor` may browse (another store's, for a store manager, is not there: 404).
pub async fn browse(loyalty: &Loyalty, actor: &Actor, id: &str) -> Result<MemberRecord> {
    let scope = browse_scope(actor)?;
    let member = get(loyalty, id).await?;
    match scope {
        Some(store) if member.home_store_id.as_deref() != Some(store.as_str()) => Err(not_found(id)),
        _ => Ok(member),
    }
}
