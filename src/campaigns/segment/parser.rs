//! Recursive-descent parser of the segment language, producing the tree (`ast.rs`) that `sql.rs` compiles;
//! `check.rs` checks fields, values and operators as it goes.

use super::SegmentError;
use super::ast::{Comparison, Expr, Field, FieldDef, FieldKind, Op, Value};
use super::check::{check_operator, check_types, parse_date, resolve_field};
use super::lexer::{CmpToken, Tok, Token, tokenize};

pub(crate) const MAX_INPUT_CHARS: usize = 4_000;
pub(crate) const MAX_DEPTH: usize = 32;
pub(crate) const MAX_LIST_VALUES: usize = 1_000;
pub(crate) const MAX_ATTRIBUTE_NAME: usize = 64;

pub(crate) fn err(position: usize, message: impl Into<String>) -> SegmentError {
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
        if token.tok == Tok::Ident("bought".into()) && self.peek().tok == Tok::LParen {
            return self.bought(token.pos);
        }
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

mod bought;
#[cfg(test)]
mod tests;
