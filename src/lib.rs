//! Passerelle: a self-hosted Apple Wallet and Google Wallet pass server for retailers.

pub mod app;
pub mod apple;
pub mod bench;
pub mod campaigns;
pub mod cli;
pub mod config;
pub mod error;
pub mod google;
pub mod http;
pub mod jobs;
pub mod keys;
pub mod loyalty;
pub mod mail;
pub mod metrics;
pub mod orders;
pub mod passes;
pub mod publish;
pub mod push;
pub mod receipts;
pub mod secret;
pub mod store;
pub mod stores;
pub mod telemetry;
pub mod templates;
pub mod tokens;
pub mod webhooks;
