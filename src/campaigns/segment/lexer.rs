//! Tokenizer for the segment language: turns the marketer's text into tokens carrying 1-based character columns.

use super::SegmentError;

/// A time unit after a number, as in `now - 90d`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unit {
    Minutes,
    Hours,
    Days,
    Weeks,
}

impl Unit {
    pub(crate) fn millis(self) -> i64 {
        match self {
            Unit::Minutes => 60_000,
            Unit::Hours => 3_600_000,
            Unit::Days => 86_400_000,
            Unit::Weeks => 7 * 86_400_000,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CmpToken {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    /// A field name; may contain dots (`attributes.vip`), validated by the parser.
    Ident(String),
    Str(String),
    Int(i64),
    Dec(f64),
    Duration(i64, Unit),
    Cmp(CmpToken),
    LParen,
    RParen,
    Comma,
    Minus,
    Plus,
    And,
    Or,
    Not,
    In,
    True,
    False,
    Now,
    Eof,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    /// 1-based character column of the token's first character.
    pub pos: usize,
    /// The token as written, for error messages.
    pub text: String,
}

impl Token {
    /// How the token is shown after "found" in an error message.
    pub(crate) fn describe(&self) -> String {
        match self.tok {
            Tok::Eof => "end of input".to_string(),
            Tok::Str(_) => format!("text {}", shorten(&self.text)),
            _ => format!("\"{}\"", shorten(&self.text)),
        }
    }
}

/// Keeps error messages readable when someone pastes a long value.
fn shorten(text: &str) -> String {
    const MAX: usize = 30;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        let mut short: String = text.chars().take(MAX).collect();
        short.push('…');
        short
    }
}

fn err(position: usize, message: impl Into<String>) -> SegmentError {
    SegmentError { position, message: message.into() }
}

pub(crate) fn tokenize(input: &str) -> Result<Vec<Token>, SegmentError> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let pos = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let tok = match c {
            '(' => {
                i += 1;
                Tok::LParen
            }
            ')' => {
                i += 1;
                Tok::RParen
            }
            ',' => {
                i += 1;
                Tok::Comma
            }
            '-' => {
                i += 1;
                Tok::Minus
            }
            '+' => {
                i += 1;
                Tok::Plus
            }
            '=' => {
                if chars.get(i + 1) == Some(&'=') {
                    return Err(err(pos, "use a single \"=\" to compare, not \"==\""));
                }
                i += 1;
                Tok::Cmp(CmpToken::Eq)
            }
            '!' => {
                if chars.get(i + 1) != Some(&'=') {
                    return Err(err(pos, "unexpected \"!\"; did you mean \"!=\" (or \"not\")?"));
                }
                i += 2;
                Tok::Cmp(CmpToken::Ne)
            }
            '<' => match chars.get(i + 1) {
                Some('=') => {
                    i += 2;
                    Tok::Cmp(CmpToken::Le)
                }
                // SQL habit; harmless to accept.
                Some('>') => {
                    i += 2;
                    Tok::Cmp(CmpToken::Ne)
                }
                _ => {
                    i += 1;
                    Tok::Cmp(CmpToken::Lt)
                }
            },
            '>' => {
                if chars.get(i + 1) == Some(&'=') {
                    i += 2;
                    Tok::Cmp(CmpToken::Ge)
                } else {
                    i += 1;
                    Tok::Cmp(CmpToken::Gt)
                }
            }
            '\'' => {
                return Err(err(
                    pos,
                    "text values go between double quotes, like \"premium\"; single quotes are not allowed",
                ));
            }
            '"' => {
                let (value, next) = lex_string(&chars, i)?;
                i = next;
                Tok::Str(value)
            }
            '0'..='9' => {
                let (tok, next) = lex_number(&chars, i)?;
                i = next;
                tok
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '.') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                match word.to_ascii_lowercase().as_str() {
                    "and" => Tok::And,
                    "or" => Tok::Or,
                    "not" => Tok::Not,
                    "in" => Tok::In,
                    "true" => Tok::True,
                    "false" => Tok::False,
                    "now" => Tok::Now,
                    _ => Tok::Ident(word),
                }
            }
            other => return Err(err(pos, format!("unexpected character \"{other}\""))),
        };
        tokens.push(Token { tok, pos, text: chars[start..i].iter().collect() });
    }
    tokens.push(Token { tok: Tok::Eof, pos: chars.len() + 1, text: String::new() });
    Ok(tokens)
}

/// Lexes a double-quoted string starting at `open`; returns the value and the index after the closing quote.
fn lex_string(chars: &[char], open: usize) -> Result<(String, usize), SegmentError> {
    let mut value = String::new();
    let mut i = open + 1;
    while i < chars.len() {
        match chars[i] {
            '"' => return Ok((value, i + 1)),
            '\\' => match chars.get(i + 1) {
                Some(&c @ ('"' | '\\')) => {
                    value.push(c);
                    i += 2;
                }
                Some(other) => {
                    return Err(err(
                        i + 1,
                        format!("unknown escape \"\\{other}\" in text; only \\\" and \\\\ are allowed"),
                    ));
                }
                None => break,
            },
            c => {
                value.push(c);
                i += 1;
            }
        }
    }
    Err(err(open + 1, "this text is never closed: add a \" at its end"))
}

/// Lexes an integer, a decimal, or a duration such as `90d`.
fn lex_number(chars: &[char], start: usize) -> Result<(Tok, usize), SegmentError> {
    let mut i = start;
    while i < chars.len() && chars[i].is_ascii_digit() {
        i += 1;
    }
    let mut decimal = false;
    if chars.get(i) == Some(&'.') && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
        decimal = true;
        i += 1;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
    }
    let digits: String = chars[start..i].iter().collect();
    let unit_start = i;
    while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
        i += 1;
    }
    if unit_start < i {
        let suffix: String = chars[unit_start..i].iter().collect();
        let unit = match suffix.as_str() {
            "m" => Unit::Minutes,
            "h" => Unit::Hours,
            "d" => Unit::Days,
            "w" => Unit::Weeks,
            _ => {
                return Err(err(
                    unit_start + 1,
                    format!("unknown time unit \"{suffix}\": use m (minutes), h (hours), d (days) or w (weeks)"),
                ));
            }
        };
        if decimal {
            return Err(err(start + 1, "durations must be whole numbers, like 90d"));
        }
        let amount: i64 = digits.parse().map_err(|_| err(start + 1, "this duration is too large"))?;
        if amount.checked_mul(unit.millis()).is_none() {
            return Err(err(start + 1, "this duration is too large"));
        }
        return Ok((Tok::Duration(amount, unit), i));
    }
    if decimal {
        let value: f64 = digits.parse().map_err(|_| err(start + 1, "this number is not valid"))?;
        if !value.is_finite() {
            return Err(err(start + 1, "this number is too large"));
        }
        Ok((Tok::Dec(value), i))
    } else {
        let value: i64 = digits.parse().map_err(|_| err(start + 1, "this number is too large"))?;
        Ok((Tok::Int(value), i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(input: &str) -> Vec<Tok> {
        tokenize(input).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn lexes_operators_numbers_and_keywords() {
        assert_eq!(
            toks("points >= -3 AND x<>1.5 Or now - 90d"),
            vec![
                Tok::Ident("points".into()),
                Tok::Cmp(CmpToken::Ge),
                Tok::Minus,
                Tok::Int(3),
                Tok::And,
                Tok::Ident("x".into()),
                Tok::Cmp(CmpToken::Ne),
                Tok::Dec(1.5),
                Tok::Or,
                Tok::Now,
                Tok::Minus,
                Tok::Duration(90, Unit::Days),
                Tok::Eof,
            ]
        );
    }

    #[test]
    fn lexes_escapes_and_reports_positions() {
        let tokens = tokenize(r#"  tier = "a\"b\\c""#).unwrap();
        assert_eq!(tokens[0].pos, 3);
        assert_eq!(tokens[2].tok, Tok::Str("a\"b\\c".into()));
        assert_eq!(tokens[2].pos, 10);
        assert_eq!(tokens[3].pos, 19);
    }

    #[test]
    fn positions_count_characters_not_bytes() {
        let tokens = tokenize("\"é\" x").unwrap();
        assert_eq!(tokens[1].pos, 5);
    }

    #[test]
    fn rejects_bad_input_with_positions() {
        assert_eq!(tokenize("tier = 'x'").unwrap_err().position, 8);
        assert_eq!(tokenize("tier = \"abc").unwrap_err().position, 8);
        assert_eq!(tokenize("tier = \"a\\nb\"").unwrap_err().position, 10);
        assert_eq!(tokenize("joined_at > now - 3y").unwrap_err().position, 20);
        assert_eq!(tokenize("a == 1").unwrap_err().position, 3);
        assert_eq!(tokenize("a ! 1").unwrap_err().position, 3);
        assert_eq!(tokenize("a = 1; drop").unwrap_err().position, 6);
        assert_eq!(tokenize("a = 99999999999999999999").unwrap_err().position, 5);
    }
}
