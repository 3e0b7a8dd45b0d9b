//! Push delivery: the outbox workers and the APNs client (the mock APNs of tests and benchmarks is in
//! `testkit::mock_apns`).

pub mod apns;
pub mod worker;
