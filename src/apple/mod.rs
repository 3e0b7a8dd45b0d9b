//! Apple Wallet: the signing identity, pass.json with the server's keys, manifest, signature, .pkpass.

pub mod certs;
pub mod package;
pub mod sign;

use std::collections::HashMap;

use anyhow::{Context, Result};
use serde_json::{Map, Value};

use crate::templates::{Identity, Template, TemplateSet};
pub use certs::{AppleCertPaths, SigningIdentity};
use package::StaticPart;

/// MIME type of a single pass.
pub const PKPASS_CONTENT_TYPE: &str = "application/vnd.apple.pkpass";

/// The per-pass keys the server owns.
#[derive(Debug, Clone, Copy)]
pub struct PassKeys<'a> {
    pub serial_number: &'a str,
    pub authentication_token: &'a str,
    /// `PASSERELLE_PUBLIC_URL`; iPhones append `/v1/...` to it.
    pub web_service_url: &'a str,
    pub voided: bool,
    /// Apple `locations` the server adds (a loyalty card's stores); empty keeps the template's.
    pub locations: &'a [Value],
}

/// Builds signed `.pkpass` files; holds the identity and every template's pre-zipped files.
pub struct PassBuilder {
    identity: SigningIdentity,
    statics: HashMap<String, StaticPart>,
}

impl PassBuilder {
    pub fn new(identity: SigningIdentity, templates: &TemplateSet) -> Result<Self> {
        let statics = templates
            .iter()
            .map(|t| {
                Ok((t.id.clone(), StaticPart::new(&t.files).with_context(|| format!("zipping template {}", t.id))?))
            })
            .collect::<Result<_>>()?;
        Ok(Self { identity, statics })
    }

    pub fn identity(&self) -> &SigningIdentity {
        &self.identity
    }

    /// pass.json bytes: the rendered template plus the server-owned keys.
    pub fn pass_json(&self, template: &Template, data: &Map<String, Value>, keys: &PassKeys) -> Vec<u8> {
        let mut pass = template.render(data);
        pass.insert("formatVersion".into(), 1.into());
        pass.insert("passTypeIdentifier".into(), self.identity.pass_type_identifier.clone().into());
        pass.insert("teamIdentifier".into(), self.identity.team_identifier.clone().into());
        pass.insert("serialNumber".into(), keys.serial_number.into());
        pass.insert("authenticationToken".into(), keys.authentication_token.into());
        pass.insert("webServiceURL".into(), keys.web_service_url.into());
        if keys.voided {
            pass.insert("voided".into(), true.into());
        }
        if !keys.locations.is_empty() {
            pass.insert("locations".into(), Value::Array(keys.locations.to_vec()));
        }
        serde_json::to_vec(&Value::Object(pass)).expect("JSON values serialize")
    }

    /// A complete signed `.pkpass` for validated `data`.
    pub fn build(&self, template: &Template, data: &Map<String, Value>, keys: &PassKeys) -> Result<Vec<u8>> {
        let statics = self.statics.get(&template.id).context("template not loaded by this builder")?;
        let pass_json = self.pass_json(template, data, keys);
        let manifest = statics.manifest(&pass_json);
        let signature = sign::sign_manifest(&self.identity, &manifest).context("signing manifest.json")?;
        Ok(statics.package(&pass_json, &manifest, &signature)?)
    }
}

impl SigningIdentity {
    /// The identifiers templates are checked against.
    pub fn template_identity(&self) -> Identity<'_> {
        Identity { pass_type_identifier: &self.pass_type_identifier, team_identifier: &self.team_identifier }
    }
}
