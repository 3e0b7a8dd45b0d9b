//! Push delivery to APNs: the client, which the `push` job handler runs (the mock APNs of tests
//! and benchmarks is in `testkit::mock_apns`).

pub mod apns;
