//! Member life cycle shared by the admin API and the enrollment page: sign-up (with the
//! loyalty pass), changes, lookups and points. Every change that shows on the pass (name,
//! points, tier) changes the pass in the member's own transaction: a new version tag, a push
//! to every device holding it and a Google Wallet sync, never out of order.

use serde_json::Value;

use super::Loyalty;
use super::card;
pub use super::input::{Consent, ConsentPatch, MemberPatch, NewMember, Source};
use super::input::{attributes, birthday, email, language, manual_tier, phone, text};
use super::pass::{LOYALTY_TEMPLATE, pass_fields, pass_update};
pub use super::points::add_points;
use super::verification::{self, CONSENT_URL_FIELD};
use crate::access::audit::{self, Audited};
use crate::access::{Actor, Area, MemberField};
use crate::error::{Error, Result, phrase_conflict};
use crate::store::{MemberLookup, MemberRecord, MemberUpdate, PassRecord, StoreError, TokenPurpose, now_ms};
use crate::tokens;

pub(super) fn not_found(id: &str) -> Error {
    Error::NotFound(format!("no member with id {id:?}"))
}

/// A member write refused for a value another member has: a taken e-mail or phone names that
/// member (`Error::Duplicate`), a taken card number is a conflict on `card_number`.
fn refused(e: StoreError) -> Error {
    phrase_conflict(e, |field, value, existing| match (field, existing) {
        ("email", Some(id)) => Error::Duplicate {
            message: format!("member {id} already has this e-mail address"),
            field: "email".into(),
            member_id: id,
        },
        ("phone", Some(id)) => Error::Duplicate {
            message: format!("member {id} already has this phone number"),
            field: "phone".into(),
            member_id: id,
        },
        ("card_number", _) => Error::conflict(format!("card number {value:?} is taken"), "card_number"),
        _ => Error::conflict(format!("member {value} conflicts with another member"), "id"),
    })
}

/// Signs a member up and creates their loyalty pass. An e-mail or phone another member has is
/// `Error::Duplicate` naming that member (nothing is created). A store signs members up for
/// itself (its own home store); verified contacts come from the verification flows or an hq_admin.
pub async fn create(loyalty: &Loyalty, actor: &Actor, mut input: NewMember) -> Result<(MemberRecord, PassRecord)> {
    actor.require(Area::Members)?;
    if input.email_verified {
        actor.may_change(MemberField::Verification, "email_verified")?;
    }
    if input.phone_verified {
        actor.may_change(MemberField::Verification, "phone_verified")?;
    }
    let home_store_id = text(input.home_store_id.take(), "home_store_id")?;
    input.home_store_id = actor.store_for_write(Area::Members, home_store_id.as_deref(), "home_store_id")?;
    if let Some(id) = &input.home_store_id {
        crate::shops::require_known(loyalty.passes.store.as_ref(), id, "home_store_id").await?;
    }
    let consent_given = input.consent.terms || input.consent.marketing || input.consent.version.is_some();
    let (stored, pass) = insert(loyalty, input, true).await?;
    if consent_given {
        super::consent::record(loyalty.passes.store.as_ref(), actor, &stored).await?;
    }
    if !actor.is_flow() && (stored.email_verified || stored.phone_verified) {
        let detail =
            serde_json::json!({"email_verified": stored.email_verified, "phone_verified": stored.phone_verified});
        let what = Audited {
            action: "member.verification_set",
            object_kind: "member",
            object_id: &stored.id,
            store_id: stored.home_store_id.as_deref(),
            detail,
        };
        audit::record(loyalty.passes.store.as_ref(), actor, what).await?;
    }
    Ok((stored, pass))
}

/// A card without a contact: the record behind a provisional card (`provisional::create`).
pub(super) async fn create_contactless(loyalty: &Loyalty, mut input: NewMember) -> Result<(MemberRecord, PassRecord)> {
    (input.email, input.phone) = (None, None);
    insert(loyalty, input, false).await
}

async fn insert(loyalty: &Loyalty, input: NewMember, needs_contact: bool) -> Result<(MemberRecord, PassRecord)> {
    let first_name = text(input.first_name, "first_name")?
        .ok_or_else(|| Error::unprocessable("first_name is required", "first_name"))?;
    let email = email(input.email)?;
    let phone = phone(loyalty.default_country, input.phone)?;
    if needs_contact && email.is_none() && phone.is_none() {
        return Err(Error::unprocessable("give an email or a phone (or both)", "email"));
    }
    let consent = input.consent;
    let now = now_ms();
    let mut member = MemberRecord {
        id: format!("mem_{}", tokens::random_hex(8)),
        card_number: String::new(),
        first_name,
        last_name: text(input.last_name, "last_name")?,
        email_verified: input.email_verified && email.is_some(),
        phone_verified: input.phone_verified && phone.is_some(),
        email,
        phone,
        birthday: birthday(input.birthday)?,
        language: language(input.language)?,
        home_store_id: text(input.home_store_id, "home_store_id")?,
        consent_at: (consent.terms || consent.marketing || consent.version.is_some()).then_some(now),
        consent_terms: consent.terms,
        consent_marketing: consent.marketing,
        consent_version: text(consent.version, "consent.version")?,
        points: 0,
        tier: loyalty.tiers.tier_for(0).to_owned(),
        tier_manual: None,
        attributes: attributes(input.attributes.unwrap_or_default())?,
        source_flyer: text(input.source.flyer, "source.flyer")?,
        source_store: text(input.source.store, "source.store")?,
        source_channel: Some(text(input.source.channel, "source.channel")?.unwrap_or_else(|| "api".into())),
        pass_serial: None,
        created_at: now,
        updated_at: now,
    };
    // Duplicates first: most refusals come before any write (the transaction refuses the rest).
    for (field, lookup, value) in [
        ("email", MemberLookup { email: member.email.clone(), ..Default::default() }, &member.email),
        ("phone", MemberLookup { phone: member.phone.clone(), ..Default::default() }, &member.phone),
    ] {
        if let Some(value) = value
            && let Some(existing) = loyalty.passes.store.find_members(&lookup).await?.into_iter().next()
        {
            return Err(refused(StoreError::Conflict { field, value: value.clone(), existing: Some(existing.id) }));
        }
    }
    member.card_number = match input.card_number {
        Some(given) => {
            let given = card::validate_given(&given)?;
            if card_taken(loyalty, &given).await? {
                return Err(Error::conflict(format!("card number {given:?} is taken"), "card_number"));
            }
            given
        }
        None => {
            // 90 billion numbers: a second draw is already rare, a tenth means something is wrong.
            let mut free = None;
            for _ in 0..10 {
                let candidate = card::generate();
                if !card_taken(loyalty, &candidate).await? {
                    free = Some(candidate);
                    break;
                }
            }
            free.ok_or_else(|| anyhow::anyhow!("no free card number in 10 draws"))?
        }
    };
    let template = loyalty
        .passes
        .templates
        .get(LOYALTY_TEMPLATE)
        .ok_or_else(|| anyhow::anyhow!("the {LOYALTY_TEMPLATE:?} template is missing from the templates folder"))?;
    let mut fields = pass_fields(&template.definition.roles, &member);
    // The back of the pass carries the link that withdraws marketing consent in one tap.
    let consent_token = template.definition.fields.contains_key(CONSENT_URL_FIELD).then(|| {
        let (token, record) = verification::new_token(TokenPurpose::WithdrawConsent, &member.id, None);
        fields.insert(CONSENT_URL_FIELD.into(), Value::from(verification::consent_url(loyalty, &token)));
        record
    });
    // ...and the private link to the member's "My receipts" page.
    let me_token = template.definition.fields.contains_key(super::me::ME_URL_FIELD).then(|| {
        let (token, record) = super::me::new_me_token(&member.id);
        fields.insert(super::me::ME_URL_FIELD.into(), Value::from(super::me::me_url(loyalty, &token)));
        record
    });
    let new_pass = loyalty.passes.new_pass(LOYALTY_TEMPLATE, Value::Object(fields), None)?;
    member.pass_serial = Some(new_pass.serial_number.clone());
    // One transaction: the pass, the member and the links the pass carries, or none of them.
    let tokens: Vec<_> = consent_token.into_iter().chain(me_token).collect();
    let (stored, pass) = loyalty.passes.store.insert_member(&member, new_pass, &tokens).await.map_err(refused)?;
    loyalty.passes.created(&pass).await?;
    crate::receipts::link_pending_logged(&loyalty.receipts, &stored).await;
    Ok((stored, pass))
}

async fn card_taken(loyalty: &Loyalty, number: &str) -> Result<bool> {
    let lookup = MemberLookup { card_number: Some(number.to_owned()), ..Default::default() };
    Ok(!loyalty.passes.store.find_members(&lookup).await?.is_empty())
}

pub async fn get(loyalty: &Loyalty, id: &str) -> Result<MemberRecord> {
    loyalty.passes.store.member(id).await?.ok_or_else(|| not_found(id))
}

/// The member, for an actor who may look members up (any till: a member shops anywhere).
pub async fn get_as(loyalty: &Loyalty, actor: &Actor, id: &str) -> Result<MemberRecord> {
    actor.require(Area::Members)?;
    get(loyalty, id).await
}

/// The members with this e-mail, phone and/or card number (normalised first).
pub async fn find(
    loyalty: &Loyalty,
    actor: &Actor,
    email_given: Option<String>,
    phone_given: Option<String>,
    card_number: Option<String>,
) -> Result<Vec<MemberRecord>> {
    actor.require(Area::Members)?;
    let lookup = MemberLookup {
        email: email(email_given)?,
        phone: phone(loyalty.default_country, phone_given)?,
        card_number: card_number.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()),
    };
    if lookup.email.is_none() && lookup.phone.is_none() && lookup.card_number.is_none() {
        return Err(Error::bad_request("look members up by email, phone or card_number", "email"));
    }
    Ok(loyalty.passes.store.find_members(&lookup).await?)
}

/// Applies a change; name and tier changes reach the loyalty pass in the same transaction.
/// Contact data, home store and tier are head office's; verification flags the verification
/// flows' or an hq_admin's (an override, audited with its optional `reason`).
pub async fn change(loyalty: &Loyalty, actor: &Actor, id: &str, patch: MemberPatch) -> Result<MemberRecord> {
    actor.require(Area::Members)?;
    let guarded = [
        (patch.email.is_some(), MemberField::Contact, "email"),
        (patch.phone.is_some(), MemberField::Contact, "phone"),
        (patch.email_verified.is_some(), MemberField::Verification, "email_verified"),
        (patch.phone_verified.is_some(), MemberField::Verification, "phone_verified"),
        (patch.home_store_id.is_some(), MemberField::HomeStore, "home_store_id"),
        (patch.tier.is_some(), MemberField::Tier, "tier"),
    ];
    for (given, what, field) in guarded {
        if given {
            actor.may_change(what, field)?;
        }
    }
    let overrides: Vec<&str> = guarded
        .iter()
        .filter(|(given, what, _)| *given && *what != MemberField::Contact)
        .map(|(_, _, field)| *field)
        .collect();
    let reason = text(patch.reason, "reason")?;
    if let Some(Some(store_id)) = &patch.home_store_id {
        crate::shops::require_known(loyalty.passes.store.as_ref(), store_id.trim(), "home_store_id").await?;
    }
    let rules = loyalty.tiers.clone();
    // Everything that can be checked alone is checked before the transaction.
    let first_name = match patch.first_name {
        Some(v) => Some(
            text(v, "first_name")?.ok_or_else(|| Error::unprocessable("first_name cannot be removed", "first_name"))?,
        ),
        None => None,
    };
    let last_name = patch.last_name.map(|v| text(v, "last_name")).transpose()?;
    let new_email = patch.email.map(email).transpose()?;
    let new_phone = patch.phone.map(|v| phone(loyalty.default_country, v)).transpose()?;
    let new_birthday = patch.birthday.map(birthday).transpose()?;
    let new_language = patch.language.map(language).transpose()?;
    let home_store_id = patch.home_store_id.map(|v| text(v, "home_store_id")).transpose()?;
    let tier_manual = patch.tier.map(|v| manual_tier(&rules, v)).transpose()?;
    let consent_version = patch.consent.as_ref().and_then(|c| c.version.clone());
    let consent_version = text(consent_version, "consent.version")?;
    let attributes_patch = patch.attributes;
    let (email_verified, phone_verified, consent) = (patch.email_verified, patch.phone_verified, patch.consent);
    let consent_given = consent.is_some();
    let update: MemberUpdate = Box::new(move |current: &MemberRecord| {
        let mut m = current.clone();
        let now = now_ms();
        if let Some(v) = first_name {
            m.first_name = v;
        }
        if let Some(v) = last_name {
            m.last_name = v;
        }
        // A new address is unverified until said otherwise.
        if let Some(v) = new_email
            && v != m.email
        {
            m.email = v;
            m.email_verified = false;
        }
        if let Some(v) = new_phone
            && v != m.phone
        {
            m.phone = v;
            m.phone_verified = false;
        }
        if m.email.is_none() && m.phone.is_none() {
            return Err(Error::unprocessable("a member keeps an email or a phone", "email"));
        }
        if let Some(v) = email_verified {
            m.email_verified = v && m.email.is_some();
        }
        if let Some(v) = phone_verified {
            m.phone_verified = v && m.phone.is_some();
        }
        if let Some(v) = new_birthday {
            m.birthday = v;
        }
        if let Some(v) = new_language {
            m.language = v;
        }
        if let Some(v) = home_store_id {
            m.home_store_id = v;
        }
        if let Some(c) = consent {
            m.consent_terms = c.terms.unwrap_or(m.consent_terms);
            m.consent_marketing = c.marketing.unwrap_or(m.consent_marketing);
            m.consent_version = consent_version.or(m.consent_version);
            m.consent_at = Some(now);
        }
        if let Some(patch) = attributes_patch {
            let mut attrs = m.attributes.as_object().cloned().unwrap_or_default();
            for (k, v) in patch {
                if v.is_null() {
                    attrs.remove(&k);
                } else {
                    attrs.insert(k, v);
                }
            }
            m.attributes = attributes(attrs)?;
        }
        if let Some(v) = tier_manual {
            m.tier_manual = v;
        }
        m.tier = rules.effective(m.points, m.tier_manual.as_deref());
        m.updated_at = now;
        Ok(m)
    });
    let changed = loyalty.passes.store.update_member(id, update, pass_update(loyalty)).await.map_err(refused)?;
    let (member, _) = changed.ok_or_else(|| not_found(id))?;
    crate::receipts::link_pending_logged(&loyalty.receipts, &member).await;
    if consent_given {
        super::consent::record(loyalty.passes.store.as_ref(), actor, &member).await?;
    }
    if !overrides.is_empty() && !actor.is_flow() {
        let detail = serde_json::json!({
            "fields": overrides, "reason": reason, "email_verified": member.email_verified,
            "phone_verified": member.phone_verified, "home_store_id": member.home_store_id,
            "tier": member.tier_manual,
        });
        let what = Audited {
            action: "member.override",
            object_kind: "member",
            object_id: &member.id,
            store_id: member.home_store_id.as_deref(),
            detail,
        };
        audit::record(loyalty.passes.store.as_ref(), actor, what).await?;
    }
    Ok(member)
}
