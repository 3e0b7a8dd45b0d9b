//! Segment filters: a small language marketers use to pick loyalty members, compiled to a parameterised SQL WHERE fragment.
//!
//! ```text
//! tier = "premium" and points >= 300 and store in ("paris-01", "lyon-02") and installed = true
//! last_purchase_at < now - 90d or not (attributes.vip = true)
//! days_since_last_purchase >= 60 or (purchases_90d >= 3 and spend_90d < 10000) or bought("LAMP-1", 30)
//! ```
//!
//! The fragment expects the members row aliased `m` and its pass `p` (LEFT JOIN passes p ON p.serial_number =
//! m.pass_serial). A comparison on a missing value is false, never unknown, so `not (...)` is a true complement.

mod ast;
mod check;
pub mod compose;
mod lexer;
mod parser;
mod purchases;
mod sql;

use ast::{Expr, Field, FieldKind, Value};

/// A parse error, positioned for the marketer's editor.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("at position {position}: {message}")]
pub struct SegmentError {
    /// 1-based character column in the input; the length plus one for "end of input".
    pub position: usize,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SqlParam {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

#[derive(Clone, Debug, PartialEq)]
pub struct SqlFilter {
    pub sql: String,
    pub params: Vec<SqlParam>,
}

/// A validated segment; keeps its source so it can be stored and shown back as written.
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    source: String,
    expr: Expr,
}

/// Parses and type-checks a segment.
pub fn parse(input: &str) -> Result<Segment, SegmentError> {
    let expr = parser::parse_expr(input)?;
    Ok(Segment { source: input.to_string(), expr })
}

impl Segment {
    /// The WHERE fragment; placeholders numbered from `first_param` (SQLite `?N`, PostgreSQL `$N`), dates relative to
    /// `now_ms`, spending added up in `currency` (PASSERELLE_CURRENCY).
    pub fn to_sql(&self, dialect: Dialect, now_ms: i64, currency: &str, first_param: usize) -> SqlFilter {
        sql::compile(&self.expr, dialect, now_ms, currency, first_param)
    }

    /// Every string value compared with the `store` field (for access checks).
    pub fn stores_mentioned(&self) -> Vec<String> {
        let mut stores = Vec::new();
        let mut stack = vec![&self.expr];
        while let Some(expr) = stack.pop() {
            match expr {
                Expr::Or(items) | Expr::And(items) => stack.extend(items.iter().rev()),
                Expr::Not(inner) => stack.push(inner),
                Expr::Bought { .. } => {}
                Expr::Cmp(cmp) => {
                    if let Field::Known(def) = &cmp.field
                        && def.name == "store"
                        && matches!(def.kind, FieldKind::Text(_))
                    {
                        for value in &cmp.values {
                            if let Value::Text(s) = value
                                && !stores.contains(s)
                            {
                                stores.push(s.clone());
                            }
                        }
                    }
                }
            }
        }
        stores
    }

    pub fn source(&self) -> &str {
        &self.source
    }
}
