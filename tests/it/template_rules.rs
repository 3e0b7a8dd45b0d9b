//! Each template validation rule, fed a broken copy of a demo template: the problem names
//! the file, the key and the rule, and the whole set is refused.

use std::path::{Path, PathBuf};

use passerelle::templates::{Identity, Problem, TemplateSet};
use serde_json::{Value, json};

use crate::helpers::repo;

const ID: Identity<'static> =
    Identity { pass_type_identifier: "pass.com.passerelle.demo", team_identifier: "PASSDEMO42" };

struct Fixture {
    root: tempfile::TempDir,
    template: PathBuf,
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.path().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// A templates folder holding a copy of one demo template.
fn fixture(template: &str) -> Fixture {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join(template);
    copy_dir(&repo().join("pass-templates").join(template), &dir);
    Fixture { root, template: dir }
}

impl Fixture {
    fn file(&self, name: &str) -> PathBuf {
        self.template.join(name)
    }

    fn edit_json(&self, name: &str, f: impl FnOnce(&mut Value)) -> &Self {
        let path = self.file(name);
        let mut v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        f(&mut v);
        std::fs::write(path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
        self
    }

    fn edit_text(&self, name: &str, f: impl FnOnce(String) -> String) -> &Self {
        let path = self.file(name);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(path, f(text)).unwrap();
        self
    }

    fn problems(&self) -> Vec<Problem> {
        match TemplateSet::load(self.root.path(), &ID) {
            Ok(_) => panic!("the broken template was accepted"),
            Err(p) => p.0,
        }
    }

    /// Asserts one problem names `file` (relative to the template) and `key`, with `rule` in its text.
    fn expect(&self, file: &str, key: &str, rule: &str) {
        let problems = self.problems();
        let want = self.file(file);
        assert!(
            problems.iter().any(|p| p.file == want && p.key == key && p.rule.contains(rule)),
            "expected {file}: {key}: ...{rule}...; got:\n{}",
            problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n")
        );
        // The message a user reads carries all three.
        let shown = problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n");
        assert!(shown.contains(&want.display().to_string()) && shown.contains(key));
    }
}

sync_test!(the_demo_templates_are_valid);
fn the_demo_templates_are_valid() {
    let set = TemplateSet::load(&repo().join("pass-templates"), &ID).unwrap();
    assert_eq!(set.ids(), ["click-and-collect", "loyalty", "offer", "receipt"]);
}

sync_test!(unknown_style_key);
fn unknown_style_key() {
    let f = fixture("loyalty");
    f.edit_json("pass.json", |p| p["storeCard"]["frontFields"] = json!([]));
    f.expect("pass.json", "storeCard.frontFields", "unknown style key");
}

sync_test!(two_styles_or_none);
fn two_styles_or_none() {
    let f = fixture("loyalty");
    f.edit_json("pass.json", |p| p["generic"] = json!({}));
    f.expect("pass.json", "storeCard", "only one style key");
    let f = fixture("loyalty");
    f.edit_json("pass.json", |p| {
        p.as_object_mut().unwrap().remove("storeCard");
    });
    f.expect("pass.json", "(root)", "exactly one style key");
}

sync_test!(unknown_top_level_and_field_keys);
fn unknown_top_level_and_field_keys() {
    let f = fixture("loyalty");
    f.edit_json("pass.json", |p| p["colour"] = json!("red"));
    f.expect("pass.json", "colour", "unknown top-level key");
    let f = fixture("loyalty");
    f.edit_json("pass.json", |p| p["storeCard"]["primaryFields"][0]["colour"] = json!("red"));
    f.expect("pass.json", "storeCard.primaryFields[0].colour", "unknown field key");
}

sync_test!(duplicate_field_keys);
fn duplicate_field_keys() {
    let f = fixture("loyalty");
    f.edit_json("pass.json", |p| {
        let first = p["storeCard"]["primaryFields"][0].clone();
        p["storeCard"]["backFields"].as_array_mut().unwrap().push(first);
    });
    let last = {
        let p: Value = serde_json::from_slice(&std::fs::read(f.file("pass.json")).unwrap()).unwrap();
        p["storeCard"]["backFields"].as_array().unwrap().len() - 1
    };
    f.expect("pass.json", &format!("storeCard.backFields[{last}].key"), "duplicate field key");
}

sync_test!(change_message_without_placeholder);
fn change_message_without_placeholder() {
    let f = fixture("loyalty");
    f.edit_json("pass.json", |p| p["storeCard"]["primaryFields"][0]["changeMessage"] = json!("Points changed"));
    f.expect("pass.json", "storeCard.primaryFields[0].changeMessage", "must contain %@");
}

sync_test!(missing_icon);
fn missing_icon() {
    let f = fixture("loyalty");
    std::fs::remove_file(f.file("icon.png")).unwrap();
    f.expect("icon.png", "icon.png", "is required");
}

sync_test!(bad_colours);
fn bad_colours() {
    let f = fixture("loyalty");
    f.edit_json("pass.json", |p| p["backgroundColor"] = json!("#1b263b"));
    f.expect("pass.json", "backgroundColor", "rgb(r, g, b)");
    let f = fixture("loyalty");
    f.edit_json("pass.json", |p| p["labelColor"] = json!("rgb(300, 0, 0)"));
    f.expect("pass.json", "labelColor", "0-255");
}

sync_test!(bad_dates);
fn bad_dates() {
    let f = fixture("loyalty");
    f.edit_json("pass.json", |p| p["expirationDate"] = json!("2027-01-01T00:00:00.000Z"));
    f.expect("pass.json", "expirationDate", "fractional seconds");
    let f = fixture("loyalty");
    f.edit_json("pass.json", |p| p["relevantDate"] = json!("2027-01-01T10:00:00"));
    f.expect("pass.json", "relevantDate", "time zone");
    let f = fixture("click-and-collect");
    f.edit_json("pass.json", |p| p["relevantDate"] = json!("{{store}}"));
    f.expect("pass.json", "relevantDate", "must name a datetime field");
}

sync_test!(placeholder_naming_an_undeclared_field);
fn placeholder_naming_an_undeclared_field() {
    let f = fixture("loyalty");
    f.edit_json("pass.json", |p| p["storeCard"]["secondaryFields"][0]["value"] = json!("{{nickname}}"));
    f.expect("pass.json", "storeCard.secondaryFields[0].value", "names no field declared");
}

sync_test!(wrong_image_sizes);
fn wrong_image_sizes() {
    let f = fixture("loyalty");
    std::fs::copy(f.file("icon@2x.png"), f.file("icon.png")).unwrap();
    f.expect("icon.png", "icon.png", "must be exactly 29x29");
    let f = fixture("loyalty");
    std::fs::copy(f.file("strip@2x.png"), f.file("logo.png")).unwrap();
    f.expect("logo.png", "logo.png", "at most 160x50");
    let f = fixture("loyalty");
    std::fs::write(f.file("strip.png"), b"not a png").unwrap();
    f.expect("strip.png", "strip.png", "not a PNG");
}

sync_test!(identifiers_must_match_the_certificate);
fn identifiers_must_match_the_certificate() {
    let f = fixture("loyalty");
    f.edit_json("pass.json", |p| p["passTypeIdentifier"] = json!("pass.com.other"));
    f.expect("pass.json", "passTypeIdentifier", "does not match the certificate's UID");
    let f = fixture("loyalty");
    f.edit_json("pass.json", |p| p["teamIdentifier"] = json!("OTHERTEAM1"));
    f.expect("pass.json", "teamIdentifier", "does not match the certificate's OU");
}

sync_test!(server_owned_keys_are_refused);
fn server_owned_keys_are_refused() {
    let f = fixture("loyalty");
    f.edit_json("pass.json", |p| p["webServiceURL"] = json!("https://elsewhere.example"));
    f.expect("pass.json", "webServiceURL", "set by the server");
}

sync_test!(enumerated_values);
fn enumerated_values() {
    let f = fixture("loyalty");
    f.edit_json("pass.json", |p| p["barcodes"][0]["format"] = json!("PKBarcodeFormatEAN13"));
    f.expect("pass.json", "barcodes[0].format", "must be one of");
    let f = fixture("receipt");
    f.edit_json("pass.json", |p| p["generic"]["primaryFields"][0]["currencyCode"] = json!("euro"));
    f.expect("pass.json", "generic.primaryFields[0].currencyCode", "three capital letters");
}

sync_test!(template_toml_rules);
fn template_toml_rules() {
    let f = fixture("loyalty");
    f.edit_text("template.toml", |t| t.replace("kind = \"loyalty\"", "kind = \"coupon\""));
    f.expect("template.toml", "line 1", "unknown variant");
    let f = fixture("loyalty");
    f.edit_text("template.toml", |t| t.replace("tier = \"tier\"", "tier = \"level\""));
    f.expect("template.toml", "roles.tier", "not a declared field");
    let f = fixture("loyalty");
    f.edit_text("template.toml", |t| t.replace("offer = \"offer\"", ""));
    f.expect("template.toml", "roles.offer", "must name its offer field");
}

sync_test!(bad_field_default);
fn bad_field_default() {
    let f = fixture("loyalty");
    f.edit_text("template.toml", |t| t.replacen("default = 0", "default = \"zero\"", 1));
    f.expect("template.toml", "fields.points.default", "must be an integer");
}

sync_test!(offer_field_must_notify);
fn offer_field_must_notify() {
    let f = fixture("loyalty");
    f.edit_json("pass.json", |p| {
        for field in p["storeCard"]["backFields"].as_array_mut().unwrap() {
            field.as_object_mut().unwrap().remove("changeMessage");
        }
    });
    f.expect("pass.json", "{{offer}}", "changeMessage");
}

sync_test!(broken_strings_file);
fn broken_strings_file() {
    let f = fixture("loyalty");
    f.edit_text("fr.lproj/pass.strings", |t| format!("{t}\n\"OOPS\" = \"no semicolon\"\n"));
    f.expect("fr.lproj/pass.strings", "fr.lproj/pass.strings", "expected ';'");
}

sync_test!(unexpected_files_are_refused);
fn unexpected_files_are_refused() {
    let f = fixture("loyalty");
    std::fs::write(f.file("notes.txt"), "hi").unwrap();
    f.expect("notes.txt", "notes.txt", "unexpected file");
}

sync_test!(example_data_must_fit);
fn example_data_must_fit() {
    let f = fixture("loyalty");
    f.edit_json("example.json", |d| d["points"] = json!("lots"));
    f.expect("example.json", "points", "must be an integer");
}

sync_test!(one_broken_template_refuses_the_set);
fn one_broken_template_refuses_the_set() {
    let f = fixture("loyalty");
    copy_dir(&repo().join("pass-templates/receipt"), &f.root.path().join("receipt"));
    f.edit_json("pass.json", |p| p["storeCard"]["primaryFields"][0]["changeMessage"] = json!("x"));
    assert!(TemplateSet::load(f.root.path(), &ID).is_err());
}
