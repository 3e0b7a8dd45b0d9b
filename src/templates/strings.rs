//! `xx.lproj/pass.strings`: Apple's `"key" = "value";` localization tables (UTF-8 or UTF-16 with BOM).

/// Decodes the file's text: UTF-8 (optional BOM) or UTF-16 with a byte-order mark.
pub fn decode(bytes: &[u8]) -> Result<String, String> {
    let utf16 = |le: bool| {
        let units: Vec<u16> = bytes[2..]
            .chunks_exact(2)
            .map(|c| if le { u16::from_le_bytes([c[0], c[1]]) } else { u16::from_be_bytes([c[0], c[1]]) })
            .collect();
        String::from_utf16(&units).map_err(|_| "invalid UTF-16".to_string())
    };
    match bytes {
        [0xFF, 0xFE, ..] => utf16(true),
        [0xFE, 0xFF, ..] => utf16(false),
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8(rest.to_vec()).map_err(|_| "invalid UTF-8".into()),
        _ => String::from_utf8(bytes.to_vec()).map_err(|_| "not UTF-8 (or UTF-16 with a BOM)".into()),
    }
}

/// Decodes and parses a pass.strings file; the error names the line.
pub fn read(bytes: &[u8]) -> Result<Vec<(String, String)>, String> {
    parse(&decode(bytes)?).map_err(|(line, e)| format!("line {line}: {e}"))
}

/// Parses the entries; an error carries the 1-based line number.
pub fn parse(text: &str) -> Result<Vec<(String, String)>, (usize, String)> {
    let mut p = Parser { chars: text.chars().collect(), pos: 0, line: 1 };
    let mut out = Vec::new();
    loop {
        p.skip_blank()?;
        if p.peek().is_none() {
            return Ok(out);
        }
        let key = p.quoted()?;
        p.skip_blank()?;
        p.expect('=')?;
        p.skip_blank()?;
        let value = p.quoted()?;
        p.skip_blank()?;
        p.expect(';')?;
        out.push((key, value));
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    line: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn err<T>(&self, msg: impl Into<String>) -> Result<T, (usize, String)> {
        Err((self.line, msg.into()))
    }

    fn skip_blank(&mut self) -> Result<(), (usize, String)> {
        loop {
            match (self.peek(), self.chars.get(self.pos + 1)) {
                (Some(c), _) if c.is_whitespace() => {
                    self.bump();
                }
                (Some('/'), Some('/')) => while self.bump().is_some_and(|c| c != '\n') {},
                (Some('/'), Some('*')) => {
                    self.pos += 2;
                    while !(self.peek() == Some('*') && self.chars.get(self.pos + 1) == Some(&'/')) {
                        if self.bump().is_none() {
                            return self.err("unterminated /* comment");
                        }
                    }
                    self.pos += 2;
                }
                _ => return Ok(()),
            }
        }
    }

    fn expect(&mut self, c: char) -> Result<(), (usize, String)> {
        if self.bump() == Some(c) {
            Ok(())
        } else {
            self.err(format!("expected '{c}' (lines are \"key\" = \"value\";)"))
        }
    }

    fn quoted(&mut self) -> Result<String, (usize, String)> {
        self.expect('"')?;
        let mut s = String::new();
        loop {
            match self.bump() {
                None => return self.err("unterminated string"),
                Some('"') => return Ok(s),
                Some('\\') => match self.bump() {
                    Some('n') => s.push('\n'),
                    Some('t') => s.push('\t'),
                    Some(c @ ('"' | '\\')) => s.push(c),
                    _ => return self.err("unknown escape (use \\\" \\\\ \\n \\t)"),
                },
                Some(c) => s.push(c),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entries_and_comments() {
        let t = "/* labels */\n\"POINTS\" = \"Points\";\n// x\n\"A\" = \"say \\\"hi\\\"\";\n";
        assert_eq!(parse(t).unwrap(), vec![("POINTS".into(), "Points".into()), ("A".into(), "say \"hi\"".into())]);
    }

    #[test]
    fn reports_the_line() {
        assert_eq!(parse("\"A\" = \"B\";\n\"C\" = \"D\"\n").unwrap_err().0, 3);
    }

    #[test]
    fn decodes_utf16() {
        let mut b = vec![0xFF, 0xFE];
        b.extend("\"A\" = \"é\";".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(decode(&b).unwrap(), "\"A\" = \"é\";");
    }
}
