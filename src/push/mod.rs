//! Push delivery to APNs: the client (the `push` job handler runs it), and a mock APNs for tests and benchmarks.

pub mod apns;
pub mod mock_apns;
