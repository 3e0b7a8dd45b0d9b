//! Benchmarks that print figures: signing speed, and the seed data of the web-service load test.

mod push;
mod sign;
mod web_seed;

pub use push::push;
pub use sign::sign;
pub use web_seed::seed_web;
