//! The HTTP error type: every failure becomes `{"error": {"code", "message", "field"}}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::templates::DataError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    NotFound(String),
    /// 401: missing or wrong credentials (API key or ApplePass token).
    #[error("{0}")]
    Unauthorized(String),
    /// 403: a store's key outside its store, or an HQ-only action.
    #[error("{0}")]
    Forbidden(String),
    #[error("{message}")]
    Conflict { message: String, field: Option<String> },
    /// 409: another member already has this e-mail or phone; the body names them (`member_id`).
    #[error("{message}")]
    Duplicate { message: String, field: String, member_id: String },
    #[error("{message}")]
    BadRequest { message: String, field: Option<String> },
    #[error("{message}")]
    Unprocessable { message: String, field: Option<String> },
    /// 413: the body exceeds PASSERELLE_MAX_BODY_BYTES.
    #[error("the request body is too large (PASSERELLE_MAX_BODY_BYTES)")]
    TooLarge,
    /// Logged in full, answered with a generic message: internals never reach the client.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Self::Conflict { .. } => (StatusCode::CONFLICT, "conflict"),
            Self::Duplicate { .. } => (StatusCode::CONFLICT, "conflict"),
            Self::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            Self::BadRequest { .. } => (StatusCode::BAD_REQUEST, "bad_request"),
            Self::Unprocessable { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_data"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl Error {
    pub fn bad_request(message: impl Into<String>, field: impl Into<String>) -> Self {
        Self::BadRequest { message: message.into(), field: Some(field.into()) }
    }

    pub fn unprocessable(message: impl Into<String>, field: impl Into<String>) -> Self {
        Self::Unprocessable { message: message.into(), field: Some(field.into()) }
    }

    pub fn conflict(message: impl Into<String>, field: impl Into<String>) -> Self {
        Self::Conflict { message: message.into(), field: Some(field.into()) }
    }
}

impl From<DataError> for Error {
    fn from(e: DataError) -> Self {
        Self::Unprocessable { message: e.to_string(), field: Some(e.field) }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let Self::Duplicate { message, field, member_id } = &self {
            let body = json!({"error": {"code": code, "message": message, "field": field, "member_id": member_id}});
            return (status, Json(body)).into_response();
        }
        let (message, field) = match &self {
            Self::Internal(e) => {
                tracing::error!("internal error: {e:#}");
                ("internal error".to_owned(), None)
            }
            Self::BadRequest { message, field }
            | Self::Unprocessable { message, field }
            | Self::Conflict { message, field } => (message.clone(), field.clone()),
            other => (other.to_string(), None),
        };
        (status, Json(json!({"error": {"code": code, "message": message, "field": field}}))).into_response()
    }
}
