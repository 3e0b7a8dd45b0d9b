//! Binds a compiled segment's parameters (`campaigns::segment`) to a query of this backend, in
//! order; SQLite's booleans are INTEGER columns, so they go in as 0/1 there.

use sqlx::query::{Query, QueryScalar};

use super::Db;
use crate::campaigns::segment::SqlParam;

type Args = <Db as sqlx::Database>::Arguments;

/// Binds each parameter with `bind` (the same code for both kinds of query).
macro_rules! bind_all {
    ($q:ident, $params:ident) => {{
        for param in $params {
            $q = match param {
                SqlParam::Text(s) => $q.bind(s.clone()),
                SqlParam::Int(n) => $q.bind(*n),
                SqlParam::Float(f) => $q.bind(*f),
                SqlParam::Bool(b) => $q.bind(pick! { sqlite: [i64::from(*b)] postgres: [*b] }),
            };
        }
        $q
    }};
}

pub fn bind_segment<'q>(mut q: Query<'q, Db, Args>, params: &[SqlParam]) -> Query<'q, Db, Args> {
    bind_all!(q, params)
}

/// [`bind_segment`] for `sqlx::query_scalar`.
pub fn bind_segment_scalar<'q, O>(
    mut q: QueryScalar<'q, Db, O, Args>,
    params: &[SqlParam],
) -> QueryScalar<'q, Db, O, Args> {
    bind_all!(q, params)
}
