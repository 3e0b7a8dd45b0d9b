//! A refused form shown again: the domain's error placed beside the field it names, in the
//! page's language (`<prefix>_<field>` in `i18n`, else the domain's own message).

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value};

use super::i18n;
use crate::error::Error;

/// Field → message, for the templates' `errors`.
pub type FieldErrors = Map<String, Value>;

/// The field a domain refusal names and what to say beside it; `None` for any other error
/// (the caller answers it as a page of its own).
pub fn beside_field(lang: &str, prefix: &str, e: &Error) -> Option<FieldErrors> {
    let (field, taken, message) = match e {
        Error::Unprocessable { field: Some(f), message } | Error::BadRequest { field: Some(f), message } => {
            (f, false, message)
        }
        Error::Conflict { field: Some(f), message } => (f, true, message),
        _ => return None,
    };
    let key = format!("{prefix}_{field}{}", if taken { "_taken" } else { "" });
    let translated = i18n::text(lang, &key);
    let text = if translated == key { message.clone() } else { translated };
    Some(one(field, text))
}

/// A single field's message.
pub fn one(field: &str, message: String) -> FieldErrors {
    let mut errors = Map::new();
    errors.insert(field.to_owned(), Value::String(message));
    errors
}

/// 422 for a page shown again with its errors.
pub fn unprocessable(mut resp: Response) -> Response {
    *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    resp
}
