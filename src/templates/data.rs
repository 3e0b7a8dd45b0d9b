//! Pass data checked against a template's declared fields: types, required fields, defaults.

use serde_json::{Map, Value};

use super::datetime::{format_w3c, parse_w3c};
use super::definition::{Definition, FieldSpec, FieldType};

/// Data that does not fit the template; `field` names the offending data field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct DataError {
    pub field: String,
    pub message: String,
}

impl DataError {
    fn new(field: &str, message: impl Into<String>) -> Self {
        Self { field: field.to_owned(), message: message.into() }
    }
}

/// Checks `data` against `def` and returns it complete: defaults filled in, dates in W3C form.
pub fn validate(def: &Definition, data: &Value) -> Result<Map<String, Value>, DataError> {
    let obj = data.as_object().ok_or_else(|| DataError::new("data", "must be a JSON object"))?;
    if let Some(unknown) = obj.keys().find(|k| !def.fields.contains_key(*k)) {
        let declared: Vec<&str> = def.fields.keys().map(String::as_str).collect();
        return Err(DataError::new(
            unknown,
            format!("is not a field of this template (declared: {})", declared.join(", ")),
        ));
    }
    let mut out = Map::with_capacity(def.fields.len());
    for (name, spec) in &def.fields {
        match obj.get(name) {
            Some(v) if !v.is_null() => {
                out.insert(name.clone(), check_value(spec, v).map_err(|m| DataError::new(name, m))?);
            }
            _ => match &spec.default {
                Some(default) => {
                    let v = toml_to_json(default);
                    out.insert(name.clone(), check_value(spec, &v).map_err(|m| DataError::new(name, m))?);
                }
                None if spec.required => return Err(DataError::new(name, "is required")),
                None => {}
            },
        }
    }
    Ok(out)
}

/// Checks one value against its field's type and returns its normalised form.
pub fn check_value(spec: &FieldSpec, v: &Value) -> Result<Value, String> {
    let ty = spec.ty;
    let wrong = || format!("must be {}, got {}", ty.described(), json_type(v));
    match ty {
        FieldType::String => {
            let s = v.as_str().ok_or_else(wrong)?;
            if let Some(max) = spec.max_length
                && s.chars().count() > max
            {
                return Err(format!("must be at most {max} characters"));
            }
            Ok(v.clone())
        }
        FieldType::Integer => v.as_i64().map(Value::from).ok_or_else(wrong),
        FieldType::Number => match v.as_f64() {
            Some(f) if f.is_finite() && v.is_number() => Ok(v.clone()),
            _ => Err(wrong()),
        },
        FieldType::Boolean => v.as_bool().map(Value::from).ok_or_else(wrong),
        FieldType::Datetime => {
            let s = v.as_str().ok_or_else(wrong)?;
            parse_w3c(s).map(|dt| Value::String(format_w3c(dt)))
        }
    }
}

/// TOML defaults become JSON values (a TOML date-time becomes its string form).
pub fn toml_to_json(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => Value::from(*f),
        toml::Value::Boolean(b) => Value::from(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => Value::Object(t.iter().map(|(k, v)| (k.clone(), toml_to_json(v))).collect()),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def() -> Definition {
        toml::from_str(
            r#"
            kind = "loyalty"
            name = "t"
            [fields.card_number]
            type = "string"
            required = true
            max_length = 8
            [fields.points]
            type = "integer"
            default = 0
            [fields.since]
            type = "datetime"
            "#,
        )
        .unwrap()
    }

    #[test]
    fn fills_defaults_and_normalises_dates() {
        let out = validate(&def(), &json!({"card_number": "A1", "since": "2026-01-02T03:04Z"})).unwrap();
        assert_eq!(Value::Object(out), json!({"card_number": "A1", "points": 0, "since": "2026-01-02T03:04:00+00:00"}));
    }

    #[test]
    fn names_the_field_at_fault() {
        let d = def();
        assert_eq!(validate(&d, &json!({})).unwrap_err().field, "card_number");
        assert_eq!(validate(&d, &json!({"card_number": "A", "x": 1})).unwrap_err().field, "x");
        let e = validate(&d, &json!({"card_number": "A", "points": "12"})).unwrap_err();
        assert_eq!((e.field.as_str(), e.message.as_str()), ("points", "must be an integer, got a string"));
        assert_eq!(validate(&d, &json!({"card_number": "123456789"})).unwrap_err().field, "card_number");
        assert_eq!(validate(&d, &json!({"card_number": "A", "since": "2026-01-02"})).unwrap_err().field, "since");
        assert_eq!(validate(&d, &json!([1])).unwrap_err().field, "data");
    }
}
