//! Push delivery: the outbox workers, the APNs client, and a mock APNs for tests and benchmarks.

pub mod apns;
pub mod mock_apns;
pub mod worker;
