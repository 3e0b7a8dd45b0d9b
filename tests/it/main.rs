//! Integration tests: one binary, a module per area. They start the real server on port 0
//! and check passes from outside (unzip, sha1sum, `openssl cms -verify`). The runner and the
//! macros that register tests are in `harness.rs`.

#[macro_use]
mod harness;

mod admin_api;
mod browser;
mod campaign_approval;
mod campaign_checks;
mod campaign_drafts;
mod campaign_offers;
mod campaign_recovery;
mod campaign_results;
mod campaign_wallets;
mod campaigns;
mod certificates;
mod cli;
mod connections;
mod console;
mod console_accounts;
mod console_browser;
mod console_campaigns;
mod console_charts;
mod console_pages;
mod docs;
mod enrollment;
mod google;
mod google_client;
mod google_schema;
mod helpers;
mod holdouts;
mod me_page;
mod member_links;
mod member_points;
mod members;
mod offer_google;
mod offer_passes;
mod offer_redemption;
mod offers;
mod operators;
mod orders;
mod page_audit;
mod permissions;
mod pkpass;
mod purchase_segments;
mod purchases;
mod push;
mod push_recovery;
mod receipts;
mod scale_out;
mod security_pages;
mod segment;
mod server;
mod signup;
mod signup_guard;
mod storage;
mod store_report;
mod stores_flyers;
mod template_rules;
mod web_service;
mod webhooks;

fn main() -> std::process::ExitCode {
    harness::main()
}
