//! Test doubles for the tests and the `bench` commands, compiled only with the `testkit` cargo feature (the
//! serving build leaves it off): a mock APNs, a mock Google Wallet API with its OAuth token endpoint, and a signer
//! of Google's save/delete callbacks.

pub mod callback_signer;
pub mod mock_apns;
pub mod mock_google;
