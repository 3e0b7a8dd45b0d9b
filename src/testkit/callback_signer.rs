//! A stand-in for Google in tests and benchmarks: it publishes a root keys document and signs save/delete callback
//! bodies the way Google does (`ECv2SigningOnly`, sender id `GooglePayPasses`), with locally generated P-256 keys.

use openssl::base64::encode_block;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::sign::Signer;
use serde_json::json;

use crate::google::callback::{PROTOCOL_VERSION, SENDER_ID, signed_data};

/// A root key and an intermediate key it signs, as Google holds them.
pub struct TestSigner {
    root: PKey<Private>,
    intermediate: PKey<Private>,
}

impl Default for TestSigner {
    fn default() -> Self {
        Self::new()
    }
}

impl TestSigner {
    /// Fresh random root and intermediate keys.
    pub fn new() -> Self {
        Self { root: p256(), intermediate: p256() }
    }

    /// The root keys document, as `https://pay.google.com/gp/m/issuer/keys` serves it.
    pub fn root_keys_json(&self, expires_at_ms: Option<i64>) -> Vec<u8> {
        let mut key = json!({ "keyValue": spki_b64(&self.root), "protocolVersion": PROTOCOL_VERSION });
        if let Some(ms) = expires_at_ms {
            key["keyExpiration"] = json!(ms.to_string());
        }
        json!({ "keys": [key] }).to_string().into_bytes()
    }

    /// A callback body as Google sends it, for the given message fields; `intermediate_expires_at_ms` sets
    /// keyExpiration.
    #[allow(clippy::too_many_arguments)] // one argument per message field
    pub fn callback_body(
        &self,
        issuer_id: &str,
        class_id: &str,
        object_id: &str,
        event: &str,
        nonce: &str,
        exp_time_millis: i64,
        intermediate_expires_at_ms: i64,
    ) -> Vec<u8> {
        let signed_key = json!({
            "keyValue": spki_b64(&self.intermediate),
            "keyExpiration": intermediate_expires_at_ms.to_string(),
        })
        .to_string();
        let signed_message = json!({
            "classId": class_id,
            "objectId": object_id,
            "eventType": event,
            "expTimeMillis": exp_time_millis,
            "count": 1,
            "nonce": nonce,
        })
        .to_string();
        let key_signature = sign(&self.root, &[SENDER_ID, PROTOCOL_VERSION, &signed_key]);
        let signature = sign(&self.intermediate, &[SENDER_ID, issuer_id, PROTOCOL_VERSION, &signed_message]);
        json!({
            "signature": signature,
            "intermediateSigningKey": { "signedKey": signed_key, "signatures": [key_signature] },
            "protocolVersion": PROTOCOL_VERSION,
            "signedMessage": signed_message,
        })
        .to_string()
        .into_bytes()
    }
}

fn p256() -> PKey<Private> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("P-256 group");
    PKey::from_ec_key(EcKey::generate(&group).expect("P-256 key")).expect("EC PKey")
}

fn spki_b64(key: &PKey<Private>) -> String {
    encode_block(&key.public_key_to_der().expect("SPKI DER"))
}

/// Base64 DER ECDSA-SHA-256 signature over `LP(p1)‖LP(p2)‖…`.
fn sign(key: &PKey<Private>, parts: &[&str]) -> String {
    let data = signed_data(parts).expect("short fields");
    let mut signer = Signer::new(MessageDigest::sha256(), key).expect("signer");
    encode_block(&signer.sign_oneshot_to_vec(&data).expect("ECDSA signature"))
}
