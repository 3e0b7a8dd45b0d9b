//! A template problem: which file, which key, which rule. Every validation reports these.

use std::fmt;
use std::path::{Path, PathBuf};

/// One broken rule in one file, e.g. `pass-templates/x/pass.json: storeCard.primaryFields[0].changeMessage: ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    pub key: String,
    pub rule: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.file.display(), self.key, self.rule)
    }
}

/// Every problem found in a template set; a set with any problem is refused as a whole.
#[derive(Debug, Clone, Default, thiserror::Error)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} template problem(s):", self.0.len())?;
        for p in &self.0 {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}

/// Collects problems for one file.
pub struct Report<'a> {
    pub file: PathBuf,
    pub sink: &'a mut Vec<Problem>,
}

impl<'a> Report<'a> {
    pub fn new(file: &Path, sink: &'a mut Vec<Problem>) -> Self {
        Self { file: file.to_path_buf(), sink }
    }

    pub fn add(&mut self, key: impl Into<String>, rule: impl Into<String>) {
        self.sink.push(Problem { file: self.file.clone(), key: key.into(), rule: rule.into() });
    }
}
