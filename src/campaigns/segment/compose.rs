//! The console's segment builder: rows of field / operator / value written as the segment
//! language (joined with `and`), so the builder and the language are one thing, and what the
//! builder writes is parsed and checked like anything typed. `bought("SKU", days)` has two
//! arguments and no operator, so it does not fit a row: it is written in the language itself.

use super::ast::{FIELDS, FieldKind};

/// The operators the builder offers.
pub const OPERATORS: [&str; 6] = ["=", "!=", ">=", "<=", ">", "<"];

/// One row of the builder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Condition {
    pub field: String,
    pub op: String,
    pub value: String,
}

/// The fields the builder offers, in the vocabulary's order.
pub fn fields() -> Vec<&'static str> {
    FIELDS.iter().map(|f| f.name).collect()
}

/// A value as the language writes it for `field`: numbers and `true`/`false` bare (when the
/// field takes them), relative dates (`now - 90d`) bare for dates, anything else quoted.
fn literal(field: &str, value: &str) -> String {
    let kind = FIELDS.iter().find(|f| f.name == field).map(|f| f.kind);
    let bare = match kind {
        Some(FieldKind::Integer(_) | FieldKind::Purchases(_)) => value.parse::<i64>().is_ok(),
        Some(FieldKind::Bool(_) | FieldKind::Installed) => value == "true" || value == "false",
        Some(FieldKind::Date(_)) => value.starts_with("now"),
        _ => false,
    };
    if bare { value.to_owned() } else { format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\"")) }
}

/// The segment the filled rows say (`None` when no row is filled). Rows with an unknown
/// operator are written as they are, for the parser to point at.
pub fn compose(rows: &[Condition]) -> Option<String> {
    let parts: Vec<String> = rows
        .iter()
        .filter(|r| !r.field.trim().is_empty() && !r.value.trim().is_empty())
        .map(|r| format!("{} {} {}", r.field.trim(), r.op.trim(), literal(r.field.trim(), r.value.trim())))
        .collect();
    (!parts.is_empty()).then(|| parts.join(" and "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(field: &str, op: &str, value: &str) -> Condition {
        Condition { field: field.into(), op: op.into(), value: value.into() }
    }

    #[test]
    fn rows_become_the_language_and_parse() {
        let text = compose(&[row("tier", "=", "premium"), row("points", ">=", "300"), row("", "=", "")]).unwrap();
        assert_eq!(text, r#"tier = "premium" and points >= 300"#);
        assert!(super::super::parse(&text).is_ok());
        assert_eq!(compose(&[row("installed", "=", "true")]).unwrap(), "installed = true");
        assert_eq!(compose(&[row("last_purchase_at", "<", "now - 90d")]).unwrap(), "last_purchase_at < now - 90d");
        assert_eq!(compose(&[row("store", "=", r#"pa"ris"#)]).unwrap(), r#"store = "pa\"ris""#);
        assert!(super::super::parse(&compose(&[row("store", "=", r#"pa"ris"#)]).unwrap()).is_ok());
        assert_eq!(compose(&[row("tier", "=", "")]), None);
        let text = compose(&[row("days_since_last_purchase", ">=", "60"), row("spend_90d", "<", "10000")]).unwrap();
        assert_eq!(text, "days_since_last_purchase >= 60 and spend_90d < 10000");
        assert!(super::super::parse(&text).is_ok());
        assert!(fields().contains(&"purchases_90d"));
    }
}
