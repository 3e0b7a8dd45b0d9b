//! Reading one template folder: template.toml, pass.json, images, lproj strings, example.json.

use std::fs;
use std::path::Path;

use serde_json::Value;

use super::data;
use super::definition::{Definition, FieldType};
use super::pass_rules::{self, Identity};
use super::placeholder::Node;
use super::problem::{Problem, Report};
use super::{StaticFile, Template, images, strings};

/// Files a template folder may hold besides images and lproj folders.
const ROOT_FILES: [&str; 4] = ["template.toml", "pass.json", "example.json", "README.md"];

/// Loads and validates the template in `dir`; `None` (with problems added) if anything is wrong.
pub fn load(dir: &Path, id: &str, identity: &Identity, problems: &mut Vec<Problem>) -> Option<Template> {
    let before = problems.len();
    if !id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_') {
        Report::new(dir, problems).add("(folder name)", "template ids use a-z, 0-9, - and _ only");
    }
    let definition = read_definition(dir, problems)?;
    let pass_path = dir.join("pass.json");
    let pass = read_json(&pass_path, problems)?;
    let style = pass_rules::check(&pass, &definition, identity, &mut Report::new(&pass_path, problems));
    let files = read_files(dir, style.unwrap_or("generic"), problems);
    let example = read_example(dir, &definition, problems);

    let mut pass_report = Report::new(&pass_path, problems);
    let pass_json = Node::compile(&pass, "", &mut |path, e| pass_report.add(path, e));
    if problems.len() > before {
        return None;
    }
    let design_hash = design_hash(dir, &files);
    Some(Template {
        id: id.to_owned(),
        dir: dir.to_path_buf(),
        definition,
        style: style?,
        pass_json,
        example,
        files,
        design_hash,
    })
}

fn read_definition(dir: &Path, problems: &mut Vec<Problem>) -> Option<Definition> {
    let path = dir.join("template.toml");
    let mut r = Report::new(&path, problems);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            r.add("(file)", format!("cannot read: {e}"));
            return None;
        }
    };
    let def: Definition = match toml::from_str(&text) {
        Ok(d) => d,
        Err(e) => {
            let key = e.span().map(|s| format!("line {}", text[..s.start].lines().count().max(1))).unwrap_or_default();
            r.add(key, e.message().to_owned());
            return None;
        }
    };
    for (name, spec) in &def.fields {
        let key = format!("fields.{name}");
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            r.add(&key, "field names use letters, digits and _ only");
        }
        if let Some(default) = &spec.default
            && let Err(e) = data::check_value(spec, &data::toml_to_json(default))
        {
            r.add(format!("{key}.default"), e);
        }
        if spec.max_length.is_some() && spec.ty != FieldType::String {
            r.add(format!("{key}.max_length"), "applies to string fields only");
        }
        if spec.max_length == Some(0) {
            r.add(format!("{key}.max_length"), "must be positive");
        }
    }
    for (role, field) in def.roles.named() {
        if !def.fields.contains_key(field) {
            r.add(format!("roles.{role}"), format!("names {field:?}, which is not a declared field"));
        }
    }
    let named: Vec<&str> = def.roles.named().into_iter().map(|(role, _)| role).collect();
    for role in def.kind.required_roles() {
        if !named.contains(role) {
            r.add(format!("roles.{role}"), format!("a {:?} template must name its {role} field", def.kind));
        }
    }
    Some(def)
}

fn read_json(path: &Path, problems: &mut Vec<Problem>) -> Option<Value> {
    let mut r = Report::new(path, problems);
    let bytes = fs::read(path).map_err(|e| r.add("(file)", format!("cannot read: {e}"))).ok()?;
    serde_json::from_slice(&bytes).map_err(|e| r.add(format!("line {}", e.line()), format!("invalid JSON: {e}"))).ok()
}

fn read_example(dir: &Path, def: &Definition, problems: &mut Vec<Problem>) -> Option<Value> {
    let path = dir.join("example.json");
    if !path.exists() {
        return None;
    }
    let example = read_json(&path, problems)?;
    match data::validate(def, &example) {
        Ok(_) => Some(example),
        Err(e) => {
            Report::new(&path, problems).add(e.field, e.message);
            None
        }
    }
}

/// Every file that ships inside the pass (images, lproj strings), read and hashed once.
fn read_files(dir: &Path, style: &str, problems: &mut Vec<Problem>) -> Vec<StaticFile> {
    let mut files = Vec::new();
    walk(dir, "", style, &mut files, problems);
    if !files.iter().any(|f| f.path == "icon.png") {
        Report::new(&dir.join("icon.png"), problems).add("icon.png", "is required: Wallet rejects a pass without it");
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

fn walk(dir: &Path, prefix: &str, style: &str, files: &mut Vec<StaticFile>, problems: &mut Vec<Problem>) {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => return Report::new(dir, problems).add("(folder)", format!("cannot read: {e}")),
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let rel = format!("{prefix}{name}");
        if name.starts_with('.') {
            continue; // .DS_Store and friends: Apple's signer strips them too
        }
        if path.is_dir() {
            if prefix.is_empty() && name.ends_with(".lproj") {
                walk(&path, &format!("{rel}/"), style, files, problems);
            } else {
                Report::new(&path, problems).add(&rel, "unexpected folder (only xx.lproj folders are allowed)");
            }
            continue;
        }
        if prefix.is_empty() && ROOT_FILES.contains(&name.as_str()) {
            continue;
        }
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                Report::new(&path, problems).add(&rel, format!("cannot read: {e}"));
                continue;
            }
        };
        let mut r = Report::new(&path, problems);
        if name.ends_with(".png") {
            images::check(&rel, &bytes, style, &mut r);
        } else if !prefix.is_empty() && name == "pass.strings" {
            if let Err(e) = strings::read(&bytes) {
                r.add(&rel, e);
            }
        } else {
            r.add(&rel, "unexpected file: a template holds template.toml, pass.json, example.json, PNG images and xx.lproj/pass.strings");
            continue;
        }
        files.push(StaticFile::new(rel, bytes));
    }
}

/// Hash of what a pass of this template looks like (data aside).
fn design_hash(dir: &Path, files: &[StaticFile]) -> String {
    let mut h = openssl::sha::Sha256::new();
    for name in ["template.toml", "pass.json"] {
        h.update(name.as_bytes());
        h.update(&fs::read(dir.join(name)).unwrap_or_default());
    }
    for f in files {
        h.update(f.path.as_bytes());
        h.update(f.sha1.as_bytes());
    }
    hex::encode(h.finish())
}
