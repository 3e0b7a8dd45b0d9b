//! Pass templates: loading and validating the folders of `pass-templates/`, rendering pass data.

mod data;
pub mod datetime;
pub mod definition;
mod images;
mod load;
mod pass_keys;
pub mod pass_rules;
pub mod placeholder;
pub mod problem;
pub mod strings;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};

pub use data::DataError;
pub use definition::{Definition, Kind};
pub use pass_rules::Identity;
pub use problem::{Problem, Problems};

use placeholder::Node;

/// A file that ships inside every pass of a template, hashed once at load.
#[derive(Debug, Clone)]
pub struct StaticFile {
    /// Path inside the .pkpass, e.g. `icon@2x.png` or `fr.lproj/pass.strings`.
    pub path: String,
    pub bytes: Arc<[u8]>,
    /// Lowercase hex SHA-1, as manifest.json wants it.
    pub sha1: String,
}

impl StaticFile {
    pub fn new(path: String, bytes: Vec<u8>) -> Self {
        let sha1 = hex::encode(openssl::sha::sha1(&bytes));
        Self { path, bytes: bytes.into(), sha1 }
    }
}

/// A validated template, ready to render passes.
#[derive(Debug)]
pub struct Template {
    pub id: String,
    pub dir: PathBuf,
    pub definition: Definition,
    /// The pass style key (`storeCard`, `eventTicket`, `generic`, ...).
    pub style: &'static str,
    pass_json: Node,
    /// The example data of example.json, if the template has one.
    pub example: Option<Value>,
    pub files: Vec<StaticFile>,
    /// SHA-256 of template.toml, pass.json and every file: changes when the design does.
    pub design_hash: String,
}

impl Template {
    /// Checks `data` against the declared fields; returns it complete (defaults, W3C dates).
    pub fn validate_data(&self, data: &Value) -> Result<Map<String, Value>, DataError> {
        data::validate(&self.definition, data)
    }

    /// pass.json with the placeholders filled from validated data (server keys not yet added).
    pub fn render(&self, data: &Map<String, Value>) -> Map<String, Value> {
        match self.pass_json.render(data) {
            Value::Object(map) => map,
            _ => unreachable!("validation guarantees pass.json is an object"),
        }
    }
}

/// Every template of the templates folder, all valid.
#[derive(Debug, Default)]
pub struct TemplateSet {
    by_id: BTreeMap<String, Arc<Template>>,
}

impl TemplateSet {
    /// Loads every sub-folder of `dir`; any problem in any template refuses the whole set.
    pub fn load(dir: &Path, identity: &Identity) -> Result<Self, Problems> {
        let mut problems = Vec::new();
        let mut by_id = BTreeMap::new();
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => {
                problem::Report::new(dir, &mut problems)
                    .add("(folder)", format!("cannot read the templates folder: {e}"));
                return Err(Problems(problems));
            }
        };
        let mut dirs: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_dir()).collect();
        dirs.sort();
        for path in dirs {
            let id = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if id.starts_with('.') {
                continue;
            }
            if let Some(t) = load::load(&path, &id, identity, &mut problems) {
                by_id.insert(id, Arc::new(t));
            }
        }
        if by_id.is_empty() && problems.is_empty() {
            problem::Report::new(dir, &mut problems).add("(folder)", "holds no template folder");
        }
        if problems.is_empty() { Ok(Self { by_id }) } else { Err(Problems(problems)) }
    }

    pub fn get(&self, id: &str) -> Option<&Arc<Template>> {
        self.by_id.get(id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Template>> {
        self.by_id.values()
    }

    pub fn ids(&self) -> Vec<&str> {
        self.by_id.keys().map(String::as_str).collect()
    }
}
