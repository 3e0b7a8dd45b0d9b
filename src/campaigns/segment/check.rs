//! What the parser checks beyond the grammar: field names (known fields and attribute keys),
//! dates, and that each value and operator suits its field.

use super::SegmentError;
use super::ast::{FIELDS, Field, FieldKind, Op, Value};
use super::parser::{MAX_ATTRIBUTE_NAME, err};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ValueType {
    Text,
    Number,
    Bool,
}

pub(crate) fn resolve_field(name: &str, pos: usize) -> Result<Field, SegmentError> {
    if let Some(def) = FIELDS.iter().find(|f| f.name == name) {
        return Ok(Field::Known(def));
    }
    if let Some(key) = name.strip_prefix("attributes.") {
        let valid = !key.is_empty()
            && key.len() <= MAX_ATTRIBUTE_NAME
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(err(
                pos,
                format!(
                    "\"{name}\" is not a valid attribute: after \"attributes.\" use 1 to {MAX_ATTRIBUTE_NAME} letters, digits or _"
                ),
            ));
        }
        return Ok(Field::Attribute(key.to_string()));
    }
    let known: Vec<&str> = FIELDS.iter().map(|f| f.name).collect();
    Err(err(pos, format!("unknown field \"{name}\"; known fields are {}, attributes.<name>", known.join(", "))))
}

/// Parses `2026-01-31` (UTC midnight) or an RFC 3339 timestamp into unix milliseconds.
pub(crate) fn parse_date(text: &str) -> Option<i64> {
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Some(ts.as_millisecond());
    }
    // A bare date is exactly 10 characters; anything else (like a zone-less datetime) is ambiguous.
    if text.len() == 10 {
        let date = text.parse::<jiff::civil::Date>().ok()?;
        let zoned = date.to_zoned(jiff::tz::TimeZone::UTC).ok()?;
        return Some(zoned.timestamp().as_millisecond());
    }
    None
}

fn type_of(value: &Value) -> ValueType {
    match value {
        Value::Text(_) => ValueType::Text,
        Value::Int(_) | Value::Float(_) => ValueType::Number,
        Value::Bool(_) => ValueType::Bool,
        Value::Now(_) | Value::Timestamp(_) => ValueType::Number,
    }
}

fn describe_value(value: &Value) -> &'static str {
    match value {
        Value::Text(_) => "text",
        Value::Int(_) | Value::Float(_) => "a number",
        Value::Bool(_) => "true/false",
        Value::Now(_) => "a date",
        Value::Timestamp(_) => "a date",
    }
}

pub(crate) fn check_types(field: &Field, values: &[(Value, usize)]) -> Result<(), SegmentError> {
    match field {
        Field::Known(def) => {
            for (value, pos) in values {
                let (ok, wanted) = match def.kind {
                    FieldKind::Text(_) => (matches!(value, Value::Text(_)), "text in double quotes"),
                    FieldKind::Integer(_) | FieldKind::Purchases(_) => {
                        (matches!(value, Value::Int(_) | Value::Float(_)), "a number")
                    }
                    FieldKind::Bool(_) | FieldKind::Installed => (matches!(value, Value::Bool(_)), "true or false"),
                    FieldKind::Date(_) => (
                        matches!(value, Value::Now(_) | Value::Timestamp(_)),
                        "a date such as now - 30d or \"2026-01-31\"",
                    ),
                    FieldKind::Platform => match value {
                        Value::Text(s) if s == "apple" || s == "google" => (true, ""),
                        Value::Text(_) => (false, "\"apple\" or \"google\""),
                        _ => (false, "\"apple\" or \"google\""),
                    },
                };
                if !ok {
                    return Err(err(
                        *pos,
                        format!("{} expects {wanted}, but this is {}", def.name, describe_value(value)),
                    ));
                }
            }
        }
        Field::Attribute(name) => {
            // A list must be homogeneous so one typed extraction serves every value.
            let first = type_of(&values[0].0);
            for (value, pos) in values {
                if matches!(value, Value::Now(_) | Value::Timestamp(_)) {
                    return Err(err(
                        *pos,
                        format!("attributes.{name} can be compared with text, numbers or true/false, not dates"),
                    ));
                }
                if type_of(value) != first {
                    return Err(err(
                        *pos,
                        format!(
                            "all values in the list must have the same type as the first one ({})",
                            describe_value(&values[0].0)
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

pub(crate) fn check_operator(
    field: &Field,
    op: Op,
    first_value: &Value,
    field_text: &str,
    pos: usize,
) -> Result<(), SegmentError> {
    let allowed = match field {
        Field::Known(def) => match def.kind {
            FieldKind::Integer(_) | FieldKind::Date(_) | FieldKind::Purchases(_) => true,
            // Text ordering differs between SQLite and PostgreSQL collations, so it is not offered.
            FieldKind::Text(_) | FieldKind::Bool(_) | FieldKind::Installed | FieldKind::Platform => !op.is_ordering(),
        },
        // Operators on attributes depend on the literal's type; check_types already made that type uniform.
        Field::Attribute(_) => !(op.is_ordering() && matches!(first_value, Value::Text(_) | Value::Bool(_))),
    };
    if !allowed {
        return Err(err(
            pos,
            format!("{field_text} cannot be compared with \"{}\"; use =, !=, in or not in", op.describe()),
        ));
    }
    Ok(())
}
