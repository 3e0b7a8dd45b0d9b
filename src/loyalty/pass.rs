//! The member's loyalty pass: which template fields the member fills (by the template's
//! roles) and the pass change that follows a member change, decided inside its transaction.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::Loyalty;
use super::tiers::TierRules;
use crate::store::{MemberPassUpdate, MemberRecord, PassChange, PassRecord};
use crate::templates::TemplateSet;
use crate::templates::definition::Roles;

/// The template of loyalty passes.
pub const LOYALTY_TEMPLATE: &str = "loyalty";

/// The name on the card: the first name and the last name's initial (`Marie D.`).
pub fn display_name(m: &MemberRecord) -> String {
    match m.last_name.as_deref().and_then(|l| l.chars().next()) {
        Some(initial) => format!("{} {}.", m.first_name, initial.to_uppercase()),
        None => m.first_name.clone(),
    }
}

/// The pass fields a member fills, by the template's roles: card number, name, points, tier.
pub fn pass_fields(roles: &Roles, m: &MemberRecord) -> Map<String, Value> {
    let mut fields = Map::new();
    let values = [
        (&roles.card_number, Value::from(m.card_number.clone())),
        (&roles.member_name, Value::from(display_name(m))),
        (&roles.points, Value::from(m.points)),
        (&roles.tier, Value::from(TierRules::label(&m.tier))),
    ];
    for (role, value) in values {
        if let Some(field) = role {
            fields.insert(field.clone(), value);
        }
    }
    fields
}

/// Brings the member's pass up to date with the member, inside the store's transaction; no
/// change (and no push) when the pass already shows the same values or is voided.
pub fn pass_update(loyalty: &Loyalty) -> MemberPassUpdate {
    pass_update_with(loyalty.passes.templates.clone())
}

/// [`pass_update`] for parts that hold the templates but not the whole `Loyalty` (receipts).
pub fn pass_update_with(templates: Arc<TemplateSet>) -> MemberPassUpdate {
    Box::new(move |member: &MemberRecord, pass: &PassRecord| {
        let Some(template) = templates.get(&pass.template) else {
            tracing::warn!(serial = %pass.serial_number, "template {:?} is gone: the pass is not updated", pass.template);
            return Ok(None);
        };
        if pass.voided {
            return Ok(None);
        }
        let mut data = pass.data.as_object().cloned().unwrap_or_default();
        let fields = pass_fields(&template.definition.roles, member);
        if fields.iter().all(|(k, v)| data.get(k) == Some(v)) {
            return Ok(None);
        }
        data.extend(fields);
        let data = Value::Object(data);
        template.validate_data(&data)?;
        Ok(Some(PassChange { data, voided: false, message: None, campaign: None }))
    })
}
