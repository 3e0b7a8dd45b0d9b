//! Partial updates (`PATCH` bodies): telling a field left out from one given as `null`.

use serde::{Deserialize, Deserializer};

/// For `#[serde(default, deserialize_with = "crate::patch::present")]`: a field given as `null`
/// is `Some(None)`; an absent one stays `None` (through `default`).
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}
