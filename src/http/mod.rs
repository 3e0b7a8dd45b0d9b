//! HTTP routing: every area's routes merged into one axum router.

mod demo;
mod health;

use std::sync::Arc;

use axum::Router;

use crate::app::AppState;

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .merge(health::router())
        .merge(demo::router())
        .with_state(state)
}
