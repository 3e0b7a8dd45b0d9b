//! Recursive-descent parser and type checker for the segment language, producing the AST that `sql.rs` compiles.

use super::SegmentError;
use super::lexer::{CmpToken, Tok, Token, tokenize};

pub(crate) const MAX_INPUT_CHARS: usize = 4_000;
pub(crate) const MAX_DEPTH: usize = 32;
pub(crate) const MAX_LIST_VALUES: usize = 1_000;
const MAX_ATTRIBUTE_NAME: usize = 64;

/// How a known field is stored and therefore which literals and operators it accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FieldKind {
    /// A text column; the payload is the SQL expression.
    Text(&'static str),
    Integer(&'static str),
    /// SQLite 0/1 INTEGER, PostgreSQL BOOLEAN.
    Bool(&'static str),
    /// Unix milliseconds.
    Date(&'static str),
    Installed,
    Platform,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct FieldDef {
    pub name: &'static str,
    pub kind: FieldKind,
}

/// The SQL expressions only ever come from this table, never from the input.
pub(crate) const FIELDS: &[FieldDef] = &[
    FieldDef { name: "tier", kind: FieldKind::Text("m.tier") },
    FieldDef { name: "points", kind: FieldKind::Integer("m.points") },
    FieldDef { name: "store", kind: FieldKind::Text("m.home_store_id") },
    FieldDef { name: "language", kind: FieldKind::Text("m.language") },
    FieldDef { name: "source_flyer", kind: FieldKind::Text("m.source_flyer") },
    FieldDef { name: "source_store", kind: FieldKind::Text("m.source_store") },
    FieldDef { name: "source_channel", kind: FieldKind::Text("m.source_channel") },
    FieldDef { name: "email_verified", kind: FieldKind::Bool("m.email_verified") },
    FieldDef { name: "phone_verified", kind: FieldKind::Bool("m.phone_verified") },
    FieldDef { name: "joined_at", kind: FieldKind::Date("m.created_at") },
    FieldDef {
        name: "last_purchase_at",
        kind: FieldKind::Date("(SELECT MAX(r.issued_at) FROM receipts r WHERE r.member_id = m.id)"),
    },
    FieldDef { name: "installed", kind: FieldKind::Installed },
    FieldDef { name: "platform", kind: FieldKind::Platform },
];

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Field {
    Known(&'static FieldDef),
    /// A key of `m.attributes`, already checked against `[A-Za-z0-9_]{1,64}`.
    Attribute(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
}

impl Op {
    fn is_ordering(self) -> bool {
        matches!(self, Op::Lt | Op::Le | Op::Gt | Op::Ge)
    }

    fn describe(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::In => "in",
            Op::NotIn => "not in",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// `now` shifted by this many milliseconds; resolved when compiling so a saved segment stays relative.
    Now(i64),
    /// An absolute instant in unix milliseconds.
    Timestamp(i64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ValueType {
    Text,
    Number,
    Bool,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Comparison {
    pub field: Field,
    pub op: Op,
    /// One value, or the list of an `in`/`not in`.
    pub values: Vec<Value>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Not(Box<Expr>),
    Cmp(Comparison),
}

fn err(position: usize, message: impl Into<String>) -> SegmentError {
    SegmentError { position, message: message.into() }
}

pub(crate) fn parse_expr(input: &str) -> Result<Expr, SegmentError> {
    let len = input.chars().count();
    if len > MAX_INPUT_CHARS {
        return Err(err(
            MAX_INPUT_CHARS + 1,
            format!("the segment is too long ({len} characters; at most {MAX_INPUT_CHARS})"),
        ));
    }
    let tokens = tokenize(input)?;
    if tokens.len() == 1 {
        return Err(err(len + 1, "the segment is empty: write a condition such as tier = \"premium\""));
    }
    let mut parser = Parser { tokens, at: 0, depth: 0 };
    let expr = parser.or_expr()?;
    let next = parser.peek();
    match next.tok {
        Tok::Eof => Ok(expr),
        Tok::RParen => Err(err(next.pos, "this \")\" has no matching \"(\"")),
        _ => {
            Err(err(next.pos, format!("expected \"and\", \"or\" or the end of the segment, found {}", next.describe())))
        }
    }
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.at]
    }

    fn next(&mut self) -> Token {
        let token = self.tokens[self.at].clone();
        // Eof is last and sticky, so callers never index past the end.
        if self.at + 1 < self.tokens.len() {
            self.at += 1;
        }
        token
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if &self.peek().tok == tok {
            self.next();
            true
        } else {
            false
        }
    }

    /// Depth counts every construct that recurses (parentheses and `not`), so the stack stays bounded.
    fn enter(&mut self, pos: usize) -> Result<(), SegmentError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(err(pos, format!("too many nested parentheses or \"not\"s (at most {MAX_DEPTH})")));
        }
        Ok(())
    }

    fn or_expr(&mut self) -> Result<Expr, SegmentError> {
        let mut items = vec![self.and_expr()?];
        while self.eat(&Tok::Or) {
            items.push(self.and_expr()?);
        }
        Ok(if items.len() == 1 { items.pop().unwrap() } else { Expr::Or(items) })
    }

    fn and_expr(&mut self) -> Result<Expr, SegmentError> {
        let mut items = vec![self.unary()?];
        while self.eat(&Tok::And) {
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 { items.pop().unwrap() } else { Expr::And(items) })
    }

    fn unary(&mut self) -> Result<Expr, SegmentError> {
        let token = self.peek().clone();
        match token.tok {
            Tok::Not => {
                self.next();
                self.enter(token.pos)?;
                let inner = self.unary()?;
                self.depth -= 1;
                Ok(Expr::Not(Box::new(inner)))
            }
            Tok::LParen => {
                self.next();
                self.enter(token.pos)?;
                let inner = self.or_expr()?;
                let close = self.peek().clone();
                if close.tok != Tok::RParen {
                    return Err(err(
                        close.pos,
                        format!(
                            "expected \")\" to close the \"(\" at position {}, found {}",
                            token.pos,
                            close.describe()
                        ),
                    ));
                }
                self.next();
                self.depth -= 1;
                Ok(inner)
            }
            _ => self.comparison(),
        }
    }

    fn comparison(&mut self) -> Result<Expr, SegmentError> {
        let token = self.next();
        let field = match &token.tok {
            Tok::Ident(name) => resolve_field(name, token.pos)?,
            Tok::Eof => return Err(err(token.pos, "expected a condition, found end of input")),
            _ => {
                return Err(err(
                    token.pos,
                    format!("expected a field name such as tier or points, found {}", token.describe()),
                ));
            }
        };
        let op_token = self.next();
        let op = match op_token.tok {
            Tok::Cmp(c) => match c {
                CmpToken::Eq => Op::Eq,
                CmpToken::Ne => Op::Ne,
                CmpToken::Lt => Op::Lt,
                CmpToken::Le => Op::Le,
                CmpToken::Gt => Op::Gt,
                CmpToken::Ge => Op::Ge,
            },
            Tok::In => Op::In,
            Tok::Not if self.peek().tok == Tok::In => {
                self.next();
                Op::NotIn
            }
            _ => {
                return Err(err(
                    op_token.pos,
                    format!(
                        "expected a comparison (=, !=, <, <=, >, >=, in, not in) after {}, found {}",
                        token.text,
                        op_token.describe()
                    ),
                ));
            }
        };
        let op_text = match op {
            Op::NotIn => "in".to_string(),
            _ => op_token.text.clone(),
        };

        // Each value keeps its position so type errors point at the literal.
        let mut values: Vec<(Value, usize)> = Vec::new();
        if matches!(op, Op::In | Op::NotIn) {
            let open = self.next();
            if open.tok != Tok::LParen {
                return Err(err(
                    open.pos,
                    format!("expected \"(\" and a list of values after \"{op_text}\", found {}", open.describe()),
                ));
            }
            let mut after = "(".to_string();
            loop {
                let pos = self.peek().pos;
                if values.len() == MAX_LIST_VALUES {
                    return Err(err(pos, format!("a list can hold at most {MAX_LIST_VALUES} values")));
                }
                values.push(self.value(&field, &after)?);
                let sep = self.next();
                match sep.tok {
                    Tok::Comma => after = ",".to_string(),
                    Tok::RParen => break,
                    _ => {
                        return Err(err(
                            sep.pos,
                            format!("expected \",\" or \")\" in the list, found {}", sep.describe()),
                        ));
                    }
                }
            }
        } else {
            values.push(self.value(&field, &op_text)?);
        }

        check_types(&field, &values)?;
        check_operator(&field, op, &values[0].0, &token.text, op_token.pos)?;
        Ok(Expr::Cmp(Comparison { field, op, values: values.into_iter().map(|(v, _)| v).collect() }))
    }

    /// Reads one literal; date fields also accept `now ± <duration>` and date strings.
    fn value(&mut self, field: &Field, after: &str) -> Result<(Value, usize), SegmentError> {
        let token = self.next();
        let pos = token.pos;
        let is_date = matches!(field, Field::Known(FieldDef { kind: FieldKind::Date(_), .. }));
        let value = match token.tok {
            Tok::Str(s) if is_date => Value::Timestamp(parse_date(&s).ok_or_else(|| {
                err(
                    pos,
                    format!(
                        "{} is not a date: write a day like \"2026-01-31\" or a time like \"2026-01-31T09:00:00Z\"",
                        token.text
                    ),
                )
            })?),
            Tok::Str(s) => Value::Text(s),
            Tok::Int(n) => Value::Int(n),
            Tok::Dec(f) => Value::Float(f),
            Tok::Minus => {
                let number = self.next();
                match number.tok {
                    // i64 parsing already bounded the magnitude, so negation cannot overflow.
                    Tok::Int(n) => Value::Int(-n),
                    Tok::Dec(f) => Value::Float(-f),
                    _ => {
                        return Err(err(
                            number.pos,
                            format!("expected a number after \"-\", found {}", number.describe()),
                        ));
                    }
                }
            }
            Tok::True => Value::Bool(true),
            Tok::False => Value::Bool(false),
            Tok::Now => {
                let sign = match self.peek().tok {
                    Tok::Minus => -1,
                    Tok::Plus => 1,
                    _ => 0,
                };
                if sign == 0 {
                    Value::Now(0)
                } else {
                    let sign_token = self.next();
                    let amount = self.next();
                    match amount.tok {
                        Tok::Duration(n, unit) => Value::Now(sign * n * unit.millis()),
                        Tok::Int(_) => {
                            return Err(err(
                                amount.pos,
                                format!(
                                    "add a unit to {}: m (minutes), h (hours), d (days) or w (weeks), like {}d",
                                    amount.text, amount.text
                                ),
                            ));
                        }
                        _ => {
                            return Err(err(
                                amount.pos,
                                format!(
                                    "expected a duration such as 90d after \"now {}\", found {}",
                                    sign_token.text,
                                    amount.describe()
                                ),
                            ));
                        }
                    }
                }
            }
            Tok::Duration(..) => {
                return Err(err(
                    pos,
                    format!("a duration like {} only makes sense after \"now -\" or \"now +\"", token.text),
                ));
            }
            Tok::Ident(word) => {
                return Err(err(
                    pos,
                    format!(
                        "expected a value after \"{after}\", found {word}; put text between double quotes: \"{word}\""
                    ),
                ));
            }
            _ => {
                return Err(err(pos, format!("expected a value after \"{after}\", found {}", token.describe())));
            }
        };
        Ok((value, pos))
    }
}

fn resolve_field(name: &str, pos: usize) -> Result<Field, SegmentError> {
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
fn parse_date(text: &str) -> Option<i64> {
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

fn check_types(field: &Field, values: &[(Value, usize)]) -> Result<(), SegmentError> {
    match field {
        Field::Known(def) => {
            for (value, pos) in values {
                let (ok, wanted) = match def.kind {
                    FieldKind::Text(_) => (matches!(value, Value::Text(_)), "text in double quotes"),
                    FieldKind::Integer(_) => (matches!(value, Value::Int(_) | Value::Float(_)), "a number"),
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

fn check_operator(
    field: &Field,
    op: Op,
    first_value: &Value,
    field_text: &str,
    pos: usize,
) -> Result<(), SegmentError> {
    let allowed = match field {
        Field::Known(def) => match def.kind {
            FieldKind::Integer(_) | FieldKind::Date(_) => true,
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

#[cfg(test)]
mod tests;
