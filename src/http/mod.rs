//! HTTP routing: every area's routes merged into one axum router.

mod audit_api;
mod campaign_results_api;
mod campaigns_api;
pub mod client_ip;
mod console;
pub mod cookies;
mod decision;
mod demo;
mod downloads;
mod error;
pub mod extract;
mod flyer_stats_api;
pub(crate) mod flyers_api;
mod google_api;
mod health;
mod jobs_api;
mod join;
mod join_form;
mod join_guard;
mod join_pages;
mod keys_api;
mod layers;
mod limits;
mod me_page;
mod member_links;
mod members_api;
mod offers_api;
mod orders_api;
mod pages;
mod passes_api;
mod publish_api;
mod rate_limit;
mod receipts_api;
pub mod server;
mod shops_api;
mod state;
mod store_report_api;
pub(crate) mod views;
mod web_service;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;

pub use self::health::metrics_router;
pub use self::state::AppState;

pub fn router(state: Arc<AppState>) -> Router {
    let body_limit = state.config.http.max_body_bytes;
    let mut router = Router::new().merge(health::router());
    // Passes signed with a retailer's own certificate are never handed out to anyone who asks.
    if state.passes.builder.identity().is_demo() {
        router = router.merge(demo::router());
    }
    router
        .merge(web_service::router(&state))
        .merge(passes_api::router())
        .merge(keys_api::router())
        .merge(members_api::router())
        .merge(orders_api::router())
        .merge(member_links::router())
        .merge(me_page::router())
        .merge(shops_api::router())
        .merge(flyers_api::router())
        .merge(flyer_stats_api::router())
        .merge(join::router(&state))
        .merge(jobs_api::router())
        .merge(publish_api::router())
        .merge(receipts_api::router())
        .merge(offers_api::router())
        .merge(google_api::router())
        .merge(downloads::router())
        .merge(campaigns_api::router())
        .merge(campaign_results_api::router())
        .merge(store_report_api::router())
        .merge(audit_api::router())
        .merge(console::router(&state))
        .fallback(|| async { crate::error::Error::NotFound("no such route".into()) })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(limits::BodyLimits::from(&state.config.http), limits::enforce))
        .layer(axum::middleware::map_response(layers::json_errors))
        .layer(axum::middleware::map_response(layers::security_headers))
        .with_state(state)
}
