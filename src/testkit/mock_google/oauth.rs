//! The mock's OAuth token endpoint: the service-account JWT-bearer grant (RFC 7523), as Google's
//! `https://oauth2.googleapis.com/token` answers it.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use openssl::hash::MessageDigest;
use openssl::sign::Verifier;
use serde_json::{Value, json};

use super::{Shared, lock};

/// `POST /token`: the JWT-bearer grant of a service account.
pub(super) fn token(shared: &Shared, body: &[u8]) -> Response {
    lock(&shared.state).token_requests += 1;
    let form = parse_form(body);
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or_default();
    if field("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
        return oauth_error("unsupported_grant_type", "Invalid grant_type");
    }
    if let Err(why) = check_assertion(shared, field("assertion")) {
        return oauth_error("invalid_grant", &why);
    }
    let n = {
        let mut state = lock(&shared.state);
        state.tokens_issued += 1;
        state.tokens_issued
    };
    axum::Json(json!({ "access_token": format!("mock-token-{n}"), "expires_in": 3600, "token_type": "Bearer" }))
        .into_response()
}

/// Checks an RS256 JWT signed with the demo key, for the Wallet scope, addressed to this mock, not expired.
fn check_assertion(shared: &Shared, jwt: &str) -> Result<(), String> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [head, claims, signature] = parts[..] else {
        return Err("assertion is not a JWT".into());
    };
    let decode_json = |part: &str| -> Result<Value, String> {
        let bytes = base64url(part).ok_or("bad base64url")?;
        serde_json::from_slice(&bytes).map_err(|e| e.to_string())
    };
    if decode_json(head)?["alg"] != "RS256" {
        return Err("alg must be RS256".into());
    }
    let signature = base64url(signature).ok_or("bad signature encoding")?;
    let mut verifier = Verifier::new(MessageDigest::sha256(), &shared.key).map_err(|e| e.to_string())?;
    let signed = format!("{head}.{claims}");
    if !verifier.verify_oneshot(&signature, signed.as_bytes()).unwrap_or(false) {
        return Err("Invalid JWT Signature.".into());
    }
    let claims = decode_json(claims)?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    if claims["iss"] != shared.client_email.as_str() {
        return Err(format!("unknown iss {}", claims["iss"]));
    }
    if claims["aud"] != shared.token_uri.as_str() {
        return Err(format!("aud {} is not {}", claims["aud"], shared.token_uri));
    }
    if !claims["scope"].as_str().unwrap_or_default().split(' ').any(|s| s.ends_with("/auth/wallet_object.issuer")) {
        return Err(format!("scope {} lacks wallet_object.issuer", claims["scope"]));
    }
    if claims["exp"].as_i64().is_none_or(|exp| exp <= now) {
        return Err("Invalid JWT: Token must be a short-lived token and in a reasonable timeframe".into());
    }
    Ok(())
}

fn base64url(text: &str) -> Option<Vec<u8>> {
    let mut standard: String = text
        .chars()
        .map(|c| {
            if c == '-' {
                '+'
            } else if c == '_' {
                '/'
            } else {
                c
            }
        })
        .collect();
    while !standard.len().is_multiple_of(4) {
        standard.push('=');
    }
    openssl::base64::decode_block(&standard).ok()
}

/// `application/x-www-form-urlencoded` pairs.
fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    let decode = |s: &str| -> String {
        let hex = |b: u8| (b as char).to_digit(16);
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let escaped = (bytes[i] == b'%' && i + 2 < bytes.len())
                .then(|| Some(hex(bytes[i + 1])? * 16 + hex(bytes[i + 2])?))
                .flatten();
            match (bytes[i], escaped) {
                (_, Some(byte)) => {
                    out.push(byte as u8);
                    i += 2;
                }
                (b'+', None) => out.push(b' '),
                (b, None) => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn oauth_error(error: &str, description: &str) -> Response {
    (StatusCode::BAD_REQUEST, axum::Json(json!({ "error": error, "error_description": description }))).into_response()
}
