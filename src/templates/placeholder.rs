//! `{{field}}` placeholders in pass.json strings: parsing once at load, rendering per pass.

use serde_json::{Map, Value};

/// A piece of a string value: literal text or a data field.
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    Text(String),
    Field(String),
}

/// Splits a string into literal text and `{{ name }}` fields; an unclosed `{{` is an error.
pub fn parse(s: &str) -> Result<Vec<Segment>, String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            out.push(Segment::Text(rest[..start].to_owned()));
        }
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| format!("unclosed placeholder in {s:?}"))?;
        let name = after[..end].trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("placeholder {{{{{name}}}}} must name a field (letters, digits, _)"));
        }
        out.push(Segment::Field(name.to_owned()));
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        out.push(Segment::Text(rest.to_owned()));
    }
    Ok(out)
}

/// pass.json compiled once: subtrees without placeholders stay plain JSON values.
#[derive(Debug, Clone)]
pub enum Node {
    Static(Value),
    Str(Vec<Segment>),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

impl Node {
    /// Compiles a JSON value; `on_error` receives the JSON path and message of a malformed placeholder.
    pub fn compile(value: &Value, path: &str, on_error: &mut dyn FnMut(&str, String)) -> Node {
        match value {
            Value::String(s) if s.contains("{{") => match parse(s) {
                Ok(segments) => Node::Str(segments),
                Err(e) => {
                    on_error(path, e);
                    Node::Static(value.clone())
                }
            },
            Value::Array(items) => {
                let nodes: Vec<Node> = items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| Node::compile(v, &format!("{path}[{i}]"), on_error))
                    .collect();
                if nodes.iter().all(|n| matches!(n, Node::Static(_))) {
                    Node::Static(value.clone())
                } else {
                    Node::Array(nodes)
                }
            }
            Value::Object(map) => {
                let nodes: Vec<(String, Node)> =
                    map.iter().map(|(k, v)| (k.clone(), Node::compile(v, &join(path, k), on_error))).collect();
                if nodes.iter().all(|(_, n)| matches!(n, Node::Static(_))) {
                    Node::Static(value.clone())
                } else {
                    Node::Object(nodes)
                }
            }
            other => Node::Static(other.clone()),
        }
    }

    /// Fills the placeholders from `data` (already validated and complete).
    pub fn render(&self, data: &Map<String, Value>) -> Value {
        match self {
            Node::Static(v) => v.clone(),
            Node::Str(segments) => render_str(segments, data),
            Node::Array(items) => Value::Array(items.iter().map(|n| n.render(data)).collect()),
            Node::Object(fields) => Value::Object(fields.iter().map(|(k, n)| (k.clone(), n.render(data))).collect()),
        }
    }
}

/// Appends a key to a JSON path: `storeCard` + `primaryFields` → `storeCard.primaryFields`.
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

fn render_str(segments: &[Segment], data: &Map<String, Value>) -> Value {
    // A string that is exactly one placeholder keeps the field's JSON type (numbers stay numbers).
    if let [Segment::Field(name)] = segments {
        return data.get(name).cloned().unwrap_or(Value::String(String::new()));
    }
    let mut out = String::new();
    for seg in segments {
        match seg {
            Segment::Text(t) => out.push_str(t),
            Segment::Field(name) => match data.get(name) {
                Some(Value::String(s)) => out.push_str(s),
                Some(Value::Null) | None => {}
                Some(other) => out.push_str(&other.to_string()),
            },
        }
    }
    Value::String(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_text_and_fields() {
        assert_eq!(
            parse("Hi {{ name }}!").unwrap(),
            vec![Segment::Text("Hi ".into()), Segment::Field("name".into()), Segment::Text("!".into())]
        );
        assert!(parse("{{oops").is_err());
        assert!(parse("{{a b}}").is_err());
    }

    #[test]
    fn single_placeholder_keeps_type_and_mixed_becomes_text() {
        let tpl = json!({"a": "{{points}}", "b": "You have {{points}} pts", "c": [1, "x"]});
        let node = Node::compile(&tpl, "", &mut |_, e| panic!("{e}"));
        let data = json!({"points": 120}).as_object().unwrap().clone();
        assert_eq!(node.render(&data), json!({"a": 120, "b": "You have 120 pts", "c": [1, "x"]}));
    }
}
