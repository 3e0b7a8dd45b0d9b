//! Storage of shops (table `stores`: the retailer's shops, with their coordinates for pass `locations`)
//! and of flyers (short codes printed as QR codes, leading to `/join/{code}`).

use anyhow::Result;
use async_trait::async_trait;

use super::StoreResult;

/// One store, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ShopRecord {
    /// The retailer's own id, e.g. `paris-01`.
    pub id: String,
    pub name: String,
    pub address: Option<String>,
    pub latitude: f64,
    pub longitude: f64,
    /// An IANA time zone name, e.g. `Europe/Paris`.
    pub timezone: String,
    /// Unix milliseconds.
    pub created_at: i64,
    pub updated_at: i64,
}

/// What `insert_shop` stores (already validated).
#[derive(Debug, Clone)]
pub struct NewShop {
    pub id: String,
    pub name: String,
    pub address: Option<String>,
    pub latitude: f64,
    pub longitude: f64,
    pub timezone: String,
}

/// A partial change of a store (already validated): `None` keeps the value.
#[derive(Debug, Clone, Default)]
pub struct ShopChange {
    pub name: Option<String>,
    /// `Some(None)` clears the address.
    pub address: Option<Option<String>>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub timezone: Option<String>,
}

/// One flyer: its code is what the QR code carries (`/join/{code}`).
#[derive(Debug, Clone, PartialEq)]
pub struct FlyerRecord {
    pub code: String,
    pub store_id: String,
    pub label: Option<String>,
    /// The loyalty template of the cards made from this flyer.
    pub template: String,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// What `insert_flyer` stores.
#[derive(Debug, Clone)]
pub struct NewFlyer {
    pub code: String,
    pub store_id: String,
    pub label: Option<String>,
    pub template: String,
}

#[async_trait]
pub trait ShopsStore: Send + Sync {
    /// Stores a new store; `Conflict` on `id` if the id exists.
    async fn insert_shop(&self, store: NewShop) -> StoreResult<ShopRecord>;
    async fn shop(&self, id: &str) -> Result<Option<ShopRecord>>;
    /// A page of stores ordered by id, after `after_id` (the cursor).
    async fn list_shops(&self, after_id: Option<&str>, limit: i64) -> Result<Vec<ShopRecord>>;
    /// Every store, ordered by id (to choose the ones a pass shows).
    async fn all_shops(&self) -> Result<Vec<ShopRecord>>;
    /// Applies a partial change; `None` if there is no such store.
    async fn update_shop(&self, id: &str, change: ShopChange) -> Result<Option<ShopRecord>>;

    /// Stores a new flyer; `Conflict` on `code` if the code exists, `MissingReference` on
    /// `store_id` if the store does not.
    async fn insert_flyer(&self, flyer: NewFlyer) -> StoreResult<FlyerRecord>;
    async fn flyer(&self, code: &str) -> Result<Option<FlyerRecord>>;
    /// The newest `limit` flyers, of one store or of all, newest first.
    async fn list_flyers(&self, store_id: Option<&str>, limit: i64) -> Result<Vec<FlyerRecord>>;
    /// How many members each store has as home store (stores without members are absent).
    async fn members_per_shop(&self) -> Result<Vec<(String, i64)>>;
}
