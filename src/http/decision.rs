//! The body of a head-office decision on a campaign or an offer: `{"reason": "..."}`, required
//! to reject, optional (a comment) to approve.

use axum::extract::{FromRequest, Request};
use serde::Deserialize;

use super::extract::BodyBytes;
use crate::error::Error;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    pub reason: Option<String>,
}

/// An approval's optional comment: an empty body, or a `DecisionBody`.
pub struct OptionalReason(pub Option<String>);

impl<S: Send + Sync> FromRequest<S> for OptionalReason {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let BodyBytes(body) = BodyBytes::from_request(req, state).await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(None));
        }
        let parsed = serde_json::from_slice::<DecisionBody>(&body)
            .map_err(|e| Error::BadRequest { message: e.to_string(), field: None })?;
        Ok(Self(parsed.reason))
    }
}
