//! "Save to Google Wallet" links: a skinny JWT (object id only) signed RS256 with the
//! service-account key, as `https://pay.google.com/gp/v/save/<jwt>` (Google Wallet API, Jwt).

use std::path::Path;

use anyhow::{Context, Result};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::sign::Signer;
use serde_json::json;

use super::mapping::Vertical;

/// Google's advice: links longer than this may break in some browsers.
pub const MAX_JWT_LEN: usize = 1800;

/// Signs save links with the service account's key.
pub struct SaveLinkSigner {
    client_email: String,
    key: PKey<Private>,
    origins: Vec<String>,
}

impl std::fmt::Debug for SaveLinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SaveLinkSigner").field("client_email", &self.client_email).field("key", &"[redacted]").finish()
    }
}

impl SaveLinkSigner {
    /// Reads `client_email` and `private_key` from the service-account JSON; `origins` are the
    /// sites allowed to show the save button (our public host).
    pub fn from_file(path: &Path, origins: Vec<String>) -> Result<Self> {
        let raw = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let v: serde_json::Value =
            serde_json::from_slice(&raw).with_context(|| format!("{}: not JSON", path.display()))?;
        let field = |k: &str| {
            v.get(k)
                .and_then(|x| x.as_str())
                .map(str::to_owned)
                .with_context(|| format!("{}: no {k} (is it a service-account key?)", path.display()))
        };
        let key = PKey::private_key_from_pem(field("private_key")?.as_bytes())
            .with_context(|| format!("{}: private_key is not a PEM key", path.display()))?;
        Ok(Self { client_email: field("client_email")?, key, origins })
    }

    pub fn client_email(&self) -> &str {
        &self.client_email
    }

    /// The save URL for an object that already exists at Google.
    pub fn save_url(&self, vertical: Vertical, object_id: &str, now_secs: i64) -> Result<String> {
        let payload = match vertical {
            Vertical::Loyalty => json!({"loyaltyObjects": [{"id": object_id}]}),
            Vertical::Generic => json!({"genericObjects": [{"id": object_id}]}),
            Vertical::Offer => json!({"offerObjects": [{"id": object_id}]}),
        };
        let claims = json!({
            "iss": self.client_email,
            "aud": "google",
            "typ": "savetowallet",
            "iat": now_secs,
            "origins": self.origins,
            "payload": payload,
        });
        let header = json!({"alg": "RS256", "typ": "JWT"});
        let signing_input =
            format!("{}.{}", b64url(header.to_string().as_bytes()), b64url(claims.to_string().as_bytes()));
        let mut signer = Signer::new(MessageDigest::sha256(), &self.key)?;
        signer.update(signing_input.as_bytes())?;
        let jwt = format!("{signing_input}.{}", b64url(&signer.sign_to_vec()?));
        if jwt.len() > MAX_JWT_LEN {
            tracing::warn!(len = jwt.len(), "save-link JWT longer than Google's {MAX_JWT_LEN} characters");
        }
        Ok(format!("https://pay.google.com/gp/v/save/{jwt}"))
    }
}

/// Base64url without padding (RFC 7515).
pub fn b64url(bytes: &[u8]) -> String {
    openssl::base64::encode_block(bytes).trim_end_matches('=').replace('+', "-").replace('/', "_")
}
