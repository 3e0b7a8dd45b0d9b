//! The store's own errors: what a caller must tell apart (a value another row holds, a
//! reference to nothing stored, a change its own closure refused); every other failure is
//! `Other`. A row that is not there is no error: lookups and updates answer `Ok(None)`.
//! The store says what failed, never in the domain's words: `crate::error` phrases it.

/// A failed store call.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique value another row holds, or a state that forbids the change.
    #[error("{field} {value:?} conflicts with a stored row")]
    Conflict {
        field: &'static str,
        /// The value in the way: the taken value, or the row's current state.
        value: String,
        /// The id of the row holding it, when known (e.g. the member with this e-mail).
        existing: Option<String>,
    },
    /// A foreign key naming no stored row (e.g. a flyer's `store_id`).
    #[error("{field} {value:?} names no stored row")]
    MissingReference { field: &'static str, value: String },
    /// The caller's decide/update closure refused the change: its error, as it gave it.
    #[error(transparent)]
    Refused(crate::error::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        Self::Other(e.into())
    }
}

impl StoreError {
    /// `Conflict` on `field` when `e` is a unique violation; else `Other`.
    pub(crate) fn unique(e: sqlx::Error, field: &'static str, value: &str) -> Self {
        match is_unique(&e) {
            true => Self::Conflict { field, value: value.to_owned(), existing: None },
            false => e.into(),
        }
    }
}

/// Whether the statement hit a unique index.
pub(crate) fn is_unique(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// A store call's result.
pub type StoreResult<T> = std::result::Result<T, StoreError>;
