//! Reading receipts, by who may: a store reads its own store's receipts by number; another
//! store's only with the receipt pass's full barcode (the shopper holds the receipt), audited.
//! Head office reads every receipt.

use super::{Receipts, barcode};
use crate::access::audit::{self, Audited};
use crate::access::{Actor, Area};
use crate::error::{Error, Result};
use crate::store::ReceiptRecord;

fn not_found(asked: &str) -> Error {
    Error::NotFound(format!("no receipt numbered {asked:?}"))
}

/// The receipt a till scanned or typed: a receipt number (its own store's, for a store role;
/// `store_id` narrows when two stores used the same number) or a receipt pass's barcode.
pub async fn by_barcode_or_number(
    receipts: &Receipts,
    actor: &Actor,
    asked: &str,
    store_id: Option<&str>,
) -> Result<ReceiptRecord> {
    actor.require(Area::Receipts)?;
    let store = receipts.passes.store.as_ref();
    let mut found = store.receipts_by_number(asked).await?;
    found.retain(|r| actor.may_read(Area::Receipts, &r.store_id) && store_id.is_none_or(|s| s == r.store_id));
    if found.is_empty()
        && let Some(number) = barcode::number_of(asked)
    {
        for r in store.receipts_by_number(number).await? {
            if barcode::matches(&receipts.barcode_key, &r.store_id, &r.receipt_number, asked)?
                && store_id.is_none_or(|s| s == r.store_id)
            {
                if !actor.may_read(Area::Receipts, &r.store_id) {
                    let what = Audited {
                        action: "receipt.read_by_barcode",
                        object_kind: "receipt",
                        object_id: &r.id,
                        store_id: Some(&r.store_id),
                        detail: serde_json::json!({"reader_store_id": actor.own_store()}),
                    };
                    audit::record(store, actor, what).await?;
                }
                found.push(r);
                break;
            }
        }
    }
    match found.len() {
        0 => Err(not_found(asked)),
        1 => Ok(found.remove(0)),
        _ => Err(Error::conflict(
            format!("several stores issued a receipt numbered {asked:?}: add ?store_id="),
            "store_id",
        )),
    }
}

/// A member's receipts, newest first: every store's for head office, the store's own for a store.
pub async fn of_member(receipts: &Receipts, actor: &Actor, member_id: &str, limit: i64) -> Result<Vec<ReceiptRecord>> {
    actor.require(Area::Receipts)?;
    let store_id = match actor.reach(Area::Receipts) {
        crate::access::Reach::All => None,
        _ => Some(actor.own_store().unwrap_or_default()),
    };
    Ok(receipts.passes.store.member_receipts(member_id, store_id, limit).await?)
}
