//! Google Wallet: the mapping from templates, the REST client, save links, and callbacks.

pub mod callback;
pub mod client;
pub mod jwt;
pub mod mapping;
