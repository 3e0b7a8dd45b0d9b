//! Request extractors: JSON bodies with JSON errors, the actor behind an API key.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::access::{Actor, Role};
use crate::error::Error;
use crate::http::AppState;

/// `axum::Json` whose rejections are our JSON errors (400 naming the problem, 413 too large).
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(JsonRejection::JsonDataError(e)) => Err(Error::BadRequest { message: e.body_text(), field: None }),
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => Err(Error::TooLarge),
            Err(e) => Err(Error::BadRequest { message: e.body_text(), field: None }),
        }
    }
}

/// `axum::extract::Query` whose rejections are our JSON 400s.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e| Error::BadRequest { message: e.body_text(), field: None })
    }
}

/// `axum::extract::Path` whose rejections (a segment that is not a number, bad percent
/// escapes) are our JSON 400s.
pub struct PathParams<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for PathParams<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(|e| Error::BadRequest { message: e.body_text(), field: None })
    }
}

/// The raw request body, with our JSON 413 beyond PASSERELLE_MAX_BODY_BYTES.
pub struct BodyBytes(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for BodyBytes {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::body::Bytes::from_request(req, state).await {
            Ok(bytes) => Ok(Self(bytes)),
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => Err(Error::TooLarge),
            Err(e) => Err(Error::BadRequest { message: e.body_text(), field: None }),
        }
    }
}

/// The value of `Authorization: <scheme> <credentials>`, if the scheme matches (case-insensitively).
pub fn credentials<'a>(parts: &'a Parts, scheme: &str) -> Option<&'a str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (given, rest) = value.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then(|| rest.trim()).filter(|c| !c.is_empty())
}

/// Constant-time equality of two secrets (lengths are not secret).
pub fn secrets_equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && openssl::memcmp::eq(a.as_bytes(), b.as_bytes())
}

/// The actor behind an admin API request, authenticated by `Authorization: Bearer <key>`:
/// the key's role and store (`PASSERELLE_ADMIN_TOKEN` is an `hq_admin`). What it may do is
/// checked by the domain functions it calls (`access`).
impl FromRequestParts<Arc<AppState>> for Actor {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        let key = credentials(parts, "Bearer")
            .ok_or_else(|| Error::Unauthorized("send an API key as Authorization: Bearer <key>".into()))?;
        if let Some(admin) = &state.config.http.admin_token
            && secrets_equal(admin.expose(), key)
        {
            return Ok(Actor::new("admin-token", "PASSERELLE_ADMIN_TOKEN", Role::HqAdmin, None));
        }
        let record = state
            .store
            .use_api_key(&crate::keys::key_hash(key))
            .await?
            .ok_or_else(|| Error::Unauthorized("unknown or revoked API key".into()))?;
        crate::keys::actor_of(&record)
    }
}
