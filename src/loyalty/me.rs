//! The member's private "My receipts" link on the back of the loyalty pass: `/me/{token}`,
//! a 128-bit random token stored as its SHA-256 (purpose `me`), with no expiry. Revoking marks
//! the member's `me` tokens used and puts a fresh link on the pass (a member change: new
//! version, push, Google sync).

use serde_json::Value;

use super::Loyalty;
use super::verification::{new_token, token_hash};
use crate::error::{Error, Result};
use crate::store::{MemberPassUpdate, MemberRecord, MemberTokenRecord, MemberUpdate, PassChange, TokenPurpose, now_ms};

/// The template field of the loyalty pass that carries the link.
pub const ME_URL_FIELD: &str = "me_url";

/// The public URL of a member's page.
pub fn me_url(loyalty: &Loyalty, token: &str) -> String {
    format!("{}/me/{token}", loyalty.passes.public_url)
}

/// A fresh link: the token (for the URL) and its record (to store).
pub fn new_me_token(member_id: &str) -> (String, MemberTokenRecord) {
    new_token(TokenPurpose::Me, member_id, None)
}

/// The member a `me` token opens; `None` when unknown, of another purpose or revoked.
pub async fn member_for(loyalty: &Loyalty, token: &str) -> Result<Option<MemberRecord>> {
    let Some(record) = loyalty.passes.store.member_token(&token_hash(token)).await? else { return Ok(None) };
    if record.purpose != TokenPurpose::Me || record.used_at.is_some() {
        return Ok(None);
    }
    Ok(loyalty.passes.store.member(&record.member_id).await?)
}

/// Revokes the member's links and puts a new one on their pass; returns the new URL.
pub async fn revoke(loyalty: &Loyalty, member_id: &str) -> Result<String> {
    let not_found = || Error::NotFound(format!("no member with id {member_id:?}"));
    loyalty.passes.store.member(member_id).await?.ok_or_else(not_found)?;
    loyalty.passes.store.revoke_member_tokens(member_id, TokenPurpose::Me, now_ms()).await?;
    let (token, record) = new_me_token(member_id);
    loyalty.passes.store.insert_member_token(&record).await?;
    let url = me_url(loyalty, &token);
    let unchanged: MemberUpdate = Box::new(|current: &MemberRecord| Ok(current.clone()));
    let templates = loyalty.passes.templates.clone();
    let new_url = url.clone();
    let pass_change: MemberPassUpdate = Box::new(move |_member, pass| {
        let Some(template) = templates.get(&pass.template) else { return Ok(None) };
        if pass.voided || !template.definition.fields.contains_key(ME_URL_FIELD) {
            return Ok(None);
        }
        let mut data = pass.data.as_object().cloned().unwrap_or_default();
        data.insert(ME_URL_FIELD.into(), Value::from(new_url));
        let data = Value::Object(data);
        template.validate_data(&data)?;
        Ok(Some(PassChange { data, voided: false, message: None, campaign: None }))
    });
    loyalty.passes.store.update_member(member_id, unchanged, pass_change).await?.ok_or_else(not_found)?;
    Ok(url)
}
