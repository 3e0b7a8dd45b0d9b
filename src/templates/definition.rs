//! `template.toml`: the template's kind, its data fields and the roles later features rely on.

use std::collections::BTreeMap;

use serde::Deserialize;

/// What a template is for; decides the Google Wallet mapping and which roles are required.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Loyalty,
    Reservation,
    Receipt,
    /// An offer instance's coupon (its code in the barcode).
    Offer,
}

/// The type of one data field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    String,
    Integer,
    Number,
    Datetime,
    Boolean,
}

impl FieldType {
    /// The type with its article, for error messages.
    pub fn described(self) -> &'static str {
        match self {
            Self::String => "a string",
            Self::Integer => "an integer",
            Self::Number => "a number",
            Self::Datetime => "a date-time like 2026-11-23T10:30:00+01:00",
            Self::Boolean => "a boolean",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Integer => "integer",
            Self::Number => "number",
            Self::Datetime => "datetime",
            Self::Boolean => "boolean",
        }
    }
}

/// One declared data field.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    #[serde(rename = "type")]
    pub ty: FieldType,
    #[serde(default)]
    pub required: bool,
    pub default: Option<toml::Value>,
    pub description: Option<String>,
    pub max_length: Option<usize>,
}

/// Which data field plays each role (a field name, or none).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Roles {
    pub card_number: Option<String>,
    pub member_name: Option<String>,
    pub points: Option<String>,
    pub tier: Option<String>,
    /// The field whose `changeMessage` carries campaign and API messages.
    pub offer: Option<String>,
    /// The order status of a reservation.
    pub status: Option<String>,
    pub store: Option<String>,
}

impl Roles {
    /// Every role with the field it names, for validation.
    pub fn named(&self) -> Vec<(&'static str, &str)> {
        [
            ("card_number", &self.card_number),
            ("member_name", &self.member_name),
            ("points", &self.points),
            ("tier", &self.tier),
            ("offer", &self.offer),
            ("status", &self.status),
            ("store", &self.store),
        ]
        .into_iter()
        .filter_map(|(role, field)| field.as_deref().map(|f| (role, f)))
        .collect()
    }
}

/// The parsed `template.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    pub kind: Kind,
    pub name: String,
    pub description: Option<String>,
    #[serde(default)]
    pub fields: BTreeMap<String, FieldSpec>,
    #[serde(default)]
    pub roles: Roles,
    /// Overrides for the Google Wallet mapping, read by the Google module.
    #[serde(default)]
    pub google: toml::Table,
}

impl Kind {
    /// Roles a template of this kind must name, because later features write to them.
    pub fn required_roles(self) -> &'static [&'static str] {
        match self {
            Self::Loyalty => &["card_number", "offer"],
            Self::Reservation => &["status"],
            Self::Receipt | Self::Offer => &[],
        }
    }
}
