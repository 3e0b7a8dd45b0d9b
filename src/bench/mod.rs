//! Benchmarks that print figures: signing speed, pushes, campaign fan-out, and the seed data of
//! the web-service load test.

mod campaign;
mod holders;
mod push;
mod results;
mod sign;
mod web_seed;

pub use campaign::campaign;
pub use push::push;
pub use results::results;
pub use sign::sign;
pub use web_seed::seed_web;
