//! The domain's errors: what a caller got wrong (not found, conflict, data that does not fit,
//! a refused right) or an internal failure. `http::error` maps them to HTTP at the edge.

use crate::store::StoreError;
use crate::templates::DataError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    NotFound(String),
    /// 401: missing or wrong credentials (API key or ApplePass token).
    #[error("{0}")]
    Unauthorized(String),
    /// 403: a role outside its rights (another store's write, an HQ-only area); the message names the rule.
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
    /// 408: the body did not arrive within PASSERELLE_BODY_READ_TIMEOUT_SECS.
    #[error("the request body did not arrive in time (PASSERELLE_BODY_READ_TIMEOUT_SECS)")]
    BodyTimeout,
    /// 429: too many requests from this client; retry after this many seconds.
    #[error("too many requests from this address: retry in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    /// 503: a service this needs (e.g. the SMTP server) cannot be reached; try again later.
    #[error("{0}")]
    Unavailable(String),
    /// Logged in full, answered with a generic message: internals never reach the client.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

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

/// A store error in the domain's words: a conflict or a missing reference named by its field
/// (call sites with their own wording use `phrase_conflict`), a refusal as it was given.
impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict { field, value, .. } => Self::conflict(format!("{field} {value:?} is taken"), field),
            StoreError::MissingReference { field, value } => {
                Self::unprocessable(format!("{field} {value:?} names nothing stored"), field)
            }
            StoreError::Refused(e) => e,
            StoreError::Other(e) => Self::Internal(e),
        }
    }
}

/// The domain's error for a store error, a conflict phrased by `phrase(field, value, existing id)`.
pub fn phrase_conflict(e: StoreError, phrase: impl FnOnce(&'static str, String, Option<String>) -> Error) -> Error {
    match e {
        StoreError::Conflict { field, value, existing } => phrase(field, value, existing),
        e => e.into(),
    }
}
