//! Compiles a parsed segment into a parameterised WHERE fragment for SQLite or PostgreSQL.
//!
//! Every user-supplied value (including attribute names) becomes a bound parameter; the SQL text is built
//! only from the field table and fixed keywords.

use super::ast::{Comparison, Expr, Field, FieldKind, Op, Purchases, Value};
use super::purchases::{self, Needed};
use super::{Dialect, SqlFilter, SqlParam};

const APPLE_EXISTS: &str = "EXISTS (SELECT 1 FROM registrations g WHERE g.serial_number = p.serial_number)";

pub(crate) fn compile(expr: &Expr, dialect: Dialect, now_ms: i64, currency: &str, first_param: usize) -> SqlFilter {
    let mut builder = Builder { dialect, now_ms, currency: currency.to_owned(), next: first_param, params: Vec::new() };
    let sql = builder.expr(expr);
    SqlFilter { sql, params: builder.params }
}

struct Builder {
    dialect: Dialect,
    now_ms: i64,
    /// The currency `spend_90d` adds up.
    currency: String,
    next: usize,
    params: Vec<SqlParam>,
}

impl Builder {
    fn placeholder(&mut self, param: SqlParam) -> String {
        let n = self.next;
        self.next += 1;
        self.params.push(param);
        match self.dialect {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => format!("${n}"),
        }
    }

    fn false_literal(&self) -> &'static str {
        match self.dialect {
            Dialect::Sqlite => "0",
            Dialect::Postgres => "FALSE",
        }
    }

    fn google_exists(&self) -> &'static str {
        match self.dialect {
            Dialect::Sqlite => {
                "EXISTS (SELECT 1 FROM google_objects o WHERE o.serial_number = p.serial_number AND o.saved = 1)"
            }
            Dialect::Postgres => {
                "EXISTS (SELECT 1 FROM google_objects o WHERE o.serial_number = p.serial_number AND o.saved)"
            }
        }
    }

    /// Every returned fragment is self-delimited (parenthesised or a function call), so callers can splice it
    /// next to any other condition without precedence surprises.
    fn expr(&mut self, expr: &Expr) -> String {
        match expr {
            Expr::Or(items) => self.join(items, " OR "),
            Expr::And(items) => self.join(items, " AND "),
            Expr::Not(inner) => format!("(NOT {})", self.expr(inner)),
            Expr::Bought { sku, days } => {
                let sku = self.placeholder(SqlParam::Text(sku.clone()));
                let since = self.placeholder(SqlParam::Int(self.now_ms.saturating_sub(purchases::days_ms(*days))));
                let now = self.placeholder(SqlParam::Int(self.now_ms));
                purchases::bought(&sku, &since, &now)
            }
            Expr::Cmp(cmp) => {
                let inner = self.comparison(cmp);
                // Two-valued logic: a comparison on a missing value is false, so `not (...)` selects it.
                format!("COALESCE(({inner}), {})", self.false_literal())
            }
        }
    }

    fn join(&mut self, items: &[Expr], sep: &str) -> String {
        let parts: Vec<String> = items.iter().map(|item| self.expr(item)).collect();
        format!("({})", parts.join(sep))
    }

    fn param_for(&self, value: &Value) -> SqlParam {
        match value {
            Value::Text(s) => SqlParam::Text(s.clone()),
            Value::Int(n) => SqlParam::Int(*n),
            Value::Float(f) => SqlParam::Float(*f),
            Value::Bool(b) => SqlParam::Bool(*b),
            Value::Now(offset) => SqlParam::Int(self.now_ms.saturating_add(*offset)),
            Value::Timestamp(ms) => SqlParam::Int(*ms),
        }
    }

    fn comparison(&mut self, cmp: &Comparison) -> String {
        match &cmp.field {
            Field::Known(def) => match def.kind {
                FieldKind::Text(column)
                | FieldKind::Integer(column)
                | FieldKind::Bool(column)
                | FieldKind::Date(column) => self.simple(column, cmp.op, &cmp.values),
                FieldKind::Purchases(field) => {
                    let figure = self.purchase_figure(field);
                    self.simple(&figure, cmp.op, &cmp.values)
                }
                FieldKind::Installed => {
                    let installed = format!("({APPLE_EXISTS} OR {})", self.google_exists());
                    self.boolean_condition(cmp, |value| match value {
                        Value::Bool(true) => installed.clone(),
                        _ => format!("(NOT {installed})"),
                    })
                }
                FieldKind::Platform => {
                    let google = self.google_exists();
                    self.boolean_condition(cmp, |value| match value {
                        Value::Text(s) if s == "google" => google.to_string(),
                        // The parser only lets "apple" and "google" through.
                        _ => APPLE_EXISTS.to_string(),
                    })
                }
            },
            Field::Attribute(name) => {
                let extracted = self.attribute(name, &cmp.values[0]);
                self.simple(&extracted, cmp.op, &cmp.values)
            }
        }
    }

    fn purchase_figure(&mut self, field: Purchases) -> String {
        let placeholders: Vec<String> = purchases::needs(field)
            .iter()
            .map(|needed| {
                let param = match needed {
                    Needed::Now => SqlParam::Int(self.now_ms),
                    Needed::Since => SqlParam::Int(self.now_ms.saturating_sub(purchases::WINDOW_MS)),
                    Needed::Currency => SqlParam::Text(self.currency.clone()),
                };
                self.placeholder(param)
            })
            .collect();
        purchases::figure(field, &placeholders)
    }

    /// `lhs op ?` or `lhs [NOT] IN (?, ...)`; `lhs` is trusted SQL.
    fn simple(&mut self, lhs: &str, op: Op, values: &[Value]) -> String {
        let symbol = match op {
            Op::Eq => "=",
            Op::Ne => "<>",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::In | Op::NotIn => {
                let list: Vec<String> = values
                    .iter()
                    .map(|v| {
                        let p = self.param_for(v);
                        self.placeholder(p)
                    })
                    .collect();
                let not = if op == Op::NotIn { "NOT " } else { "" };
                return format!("{lhs} {not}IN ({})", list.join(", "));
            }
        };
        let p = self.param_for(&values[0]);
        let placeholder = self.placeholder(p);
        format!("{lhs} {symbol} {placeholder}")
    }

    /// For fields computed from EXISTS subqueries: each value maps to a condition, combined per operator.
    fn boolean_condition(&mut self, cmp: &Comparison, condition: impl Fn(&Value) -> String) -> String {
        match cmp.op {
            Op::Eq => condition(&cmp.values[0]),
            Op::Ne => format!("NOT {}", condition(&cmp.values[0])),
            Op::In | Op::NotIn => {
                let parts: Vec<String> = cmp.values.iter().map(&condition).collect();
                let any = format!("({})", parts.join(" OR "));
                if cmp.op == Op::NotIn { format!("NOT {any}") } else { any }
            }
            // Rejected by the parser; an always-false condition is the safe reading.
            Op::Lt | Op::Le | Op::Gt | Op::Ge => self.false_literal().to_string(),
        }
    }

    /// SQL that yields the attribute's value when it exists and has the literal's JSON type, else NULL,
    /// so mismatched or malformed data never matches and never raises a cast error.
    fn attribute(&mut self, name: &str, sample: &Value) -> String {
        match self.dialect {
            Dialect::Sqlite => {
                let path = self.placeholder(SqlParam::Text(format!("$.\"{name}\"")));
                let types = match sample {
                    Value::Text(_) => "'text'",
                    Value::Bool(_) => "'true', 'false'",
                    _ => "'integer', 'real'",
                };
                // json_type raises on malformed JSON, hence the json_valid guard first.
                format!(
                    "CASE WHEN json_valid(m.attributes) THEN CASE WHEN json_type(m.attributes, {path}) IN ({types}) \
                     THEN json_extract(m.attributes, {path}) END END"
                )
            }
            Dialect::Postgres => {
                let key = self.placeholder(SqlParam::Text(name.to_string()));
                let (json_type, value) = match sample {
                    Value::Text(_) => ("string", format!("m.attributes ->> {key}::text")),
                    Value::Bool(_) => ("boolean", format!("(m.attributes ->> {key}::text) = 'true'")),
                    _ => ("number", format!("(m.attributes ->> {key}::text)::numeric")),
                };
                format!("CASE WHEN jsonb_typeof(m.attributes -> {key}::text) = '{json_type}' THEN {value} END")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Dialect, SqlParam, parse};

    const NOW: i64 = 1_800_000_000_000;

    #[test]
    fn numbers_placeholders_from_first_param() {
        let segment = parse(r#"tier = "premium" and points >= 300"#).unwrap();
        let lite = segment.to_sql(Dialect::Sqlite, NOW, "EUR", 3);
        assert_eq!(lite.sql, "(COALESCE((m.tier = ?3), 0) AND COALESCE((m.points >= ?4), 0))");
        assert_eq!(lite.params, vec![SqlParam::Text("premium".into()), SqlParam::Int(300)]);
        let pg = segment.to_sql(Dialect::Postgres, NOW, "EUR", 1);
        assert_eq!(pg.sql, "(COALESCE((m.tier = $1), FALSE) AND COALESCE((m.points >= $2), FALSE))");
    }

    #[test]
    fn resolves_dates_against_now() {
        let segment = parse(r#"last_purchase_at < now - 1d or joined_at in ("2026-01-31", now)"#).unwrap();
        let filter = segment.to_sql(Dialect::Postgres, NOW, "EUR", 1);
        assert_eq!(
            filter.params,
            vec![SqlParam::Int(NOW - 86_400_000), SqlParam::Int(1_769_817_600_000), SqlParam::Int(NOW)]
        );
        assert!(
            filter.sql.contains(
                "(SELECT MAX(r.issued_at) FROM receipts r WHERE r.member_id = m.id AND r.kind = 'sale') < $1"
            )
        );
        assert!(filter.sql.contains("m.created_at IN ($2, $3)"));
    }

    #[test]
    fn platform_and_installed_use_exists_without_params() {
        let segment = parse(r#"platform not in ("apple") and installed = false"#).unwrap();
        let filter = segment.to_sql(Dialect::Sqlite, NOW, "EUR", 1);
        assert!(filter.params.is_empty());
        assert!(filter.sql.contains("NOT (EXISTS (SELECT 1 FROM registrations g"));
        assert!(filter.sql.contains("o.saved = 1"));
        let pg = segment.to_sql(Dialect::Postgres, NOW, "EUR", 1);
        assert!(pg.sql.contains("AND o.saved)"));
    }

    #[test]
    fn attribute_keys_are_parameters() {
        let segment = parse("attributes.loyalty_zz >= 2").unwrap();
        let lite = segment.to_sql(Dialect::Sqlite, NOW, "EUR", 1);
        assert!(!lite.sql.contains("loyalty_zz"), "{}", lite.sql);
        assert_eq!(lite.params, vec![SqlParam::Text("$.\"loyalty_zz\"".into()), SqlParam::Int(2)]);
        let pg = segment.to_sql(Dialect::Postgres, NOW, "EUR", 5);
        assert!(!pg.sql.contains("loyalty_zz"), "{}", pg.sql);
        assert_eq!(pg.params, vec![SqlParam::Text("loyalty_zz".into()), SqlParam::Int(2)]);
        assert!(pg.sql.contains("$5") && pg.sql.contains("$6") && !pg.sql.contains("$7"));
    }

    #[test]
    fn user_values_never_reach_the_sql_text() {
        let hostile = [
            (r#"tier = "x' OR 1=1 --""#, "1=1"),
            (r#"attributes.a = "\"); DROP TABLE members; --""#, "DROP"),
            (r#"store in ("a'); DELETE FROM members; --", "b")"#, "DELETE"),
            (r#"attributes.zzkey = "';--""#, "zzkey"),
            (r#"attributes.zzkey = "';--""#, "';--"),
        ];
        for (input, needle) in hostile {
            let segment = parse(input).unwrap();
            for dialect in [Dialect::Sqlite, Dialect::Postgres] {
                let filter = segment.to_sql(dialect, NOW, "EUR", 1);
                assert!(!filter.sql.contains(needle), "{input} leaked into {}", filter.sql);
                // Only the fixed SQL vocabulary may contain quotes: the JSON type names.
                let stripped = filter
                    .sql
                    .replace("'text'", "")
                    .replace("'string'", "")
                    .replace("'true'", "")
                    .replace("'false'", "")
                    .replace("'integer'", "")
                    .replace("'real'", "")
                    .replace("'number'", "")
                    .replace("'boolean'", "");
                assert!(!stripped.contains('\'') && !stripped.contains('"') && !stripped.contains(';'), "{stripped}");
            }
        }
        assert_eq!(parse("attributes.a;drop = 1").unwrap_err().position, 13);
        assert_eq!(parse("attributes.a-b = 1").unwrap_err().position, 13);
    }

    #[test]
    fn lists_mentioned_stores() {
        let segment =
            parse(r#"store = "paris-01" or (tier = "lyon-02" and not store in ("lyon-02", "paris-01")) or source_store = "x""#)
                .unwrap();
        assert_eq!(segment.stores_mentioned(), vec!["paris-01".to_string(), "lyon-02".to_string()]);
        assert_eq!(
            segment.source(),
            r#"store = "paris-01" or (tier = "lyon-02" and not store in ("lyon-02", "paris-01")) or source_store = "x""#
        );
    }
}
