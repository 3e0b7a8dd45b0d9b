//! The documentation names only settings that exist: every `PASSERELLE_*` variable in a Markdown
//! file of the repository (or in `.env.example`) is one the binary reads, as its clap command
//! line declares them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::CommandFactory;

/// Every environment variable the command line reads, subcommands included.
fn settings() -> BTreeSet<String> {
    fn walk(command: &clap::Command, into: &mut BTreeSet<String>) {
        for arg in command.get_arguments() {
            if let Some(env) = arg.get_env() {
                into.insert(env.to_string_lossy().into_owned());
            }
        }
        for sub in command.get_subcommands() {
            walk(sub, into);
        }
    }
    let mut names = BTreeSet::new();
    walk(&passerelle::config::Cli::command(), &mut names);
    names
}

/// The Markdown files of the repository, outside `target/` and `.git/`, and `.env.example`.
fn documents() -> Vec<PathBuf> {
    fn walk(dir: &Path, into: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let name = entry.file_name();
            if entry.file_type().unwrap().is_dir() {
                if name != "target" && name != ".git" {
                    walk(&path, into);
                }
            } else if path.extension().is_some_and(|e| e == "md") || name == ".env.example" {
                into.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&crate::helpers::repo(), &mut files);
    files.sort();
    files
}

/// The `PASSERELLE_*` names in `text` with their line numbers; a trailing `*` is kept (a pattern).
fn names_in(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("PASSERELLE_") {
            let tail = &rest[at..];
            let end =
                tail.find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')).unwrap_or(tail.len());
            let end = if tail[end..].starts_with('*') { end + 1 } else { end };
            found.push((n + 1, tail[..end].to_owned()));
            rest = &tail[end..];
        }
    }
    found
}

fn markdown_names_only_real_settings() {
    let settings = settings();
    assert!(settings.contains("PASSERELLE_DATABASE_URL"), "the command line's variables: {settings:?}");
    let documents = documents();
    for expected in ["README.md", "certs-example/README.md", ".env.example"] {
        assert!(documents.contains(&crate::helpers::repo().join(expected)), "{expected} not read: {documents:?}");
    }
    let mut unknown = Vec::new();
    for path in &documents {
        let text = std::fs::read_to_string(path).unwrap();
        for (line, name) in names_in(&text) {
            let known = if name.starts_with("PASSERELLE_TEST_") {
                true
            } else if let Some(prefix) = name.strip_suffix('*') {
                settings.iter().any(|s| s.starts_with(prefix))
            } else {
                settings.contains(&name)
            };
            if !known {
                let shown = path.strip_prefix(crate::helpers::repo()).unwrap_or(path);
                unknown.push(format!("{}:{line}: {name}", shown.display()));
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "the documentation names settings the binary does not read (`passerelle --help` lists them):\n{}",
        unknown.join("\n")
    );
}
sync_test!(markdown_names_only_real_settings);

fn names_are_read_with_their_patterns() {
    let text = "set `PASSERELLE_PUSH_BACKOFF_*`, PASSERELLE_LISTEN=1 and PASSERELLE_TEST_X;\nPASSERELLE_*";
    let names: Vec<(usize, String)> = names_in(text);
    let expected =
        [(1, "PASSERELLE_PUSH_BACKOFF_*"), (1, "PASSERELLE_LISTEN"), (1, "PASSERELLE_TEST_X"), (2, "PASSERELLE_*")];
    assert_eq!(names, expected.map(|(n, s)| (n, s.to_owned())));
}
sync_test!(names_are_read_with_their_patterns);
