//! Template designs: the design (hash of pass.json, template.toml and files) last published
//! per template, and the publish batches that push a redesign to every pass of a template.

use anyhow::Result;
use async_trait::async_trait;

#[async_trait]
pub trait DesignsStore: Send + Sync {
    /// Gives the next `limit` passes of a template (after `after_serial`) a new version and
    /// queues a push to every device holding them; returns their serials, in order.
    async fn bump_template_passes(&self, template: &str, after_serial: Option<&str>, limit: i64)
    -> Result<Vec<String>>;
    /// What publishing a template would push: its passes, and the devices holding at least one.
    async fn template_reach(&self, template: &str) -> Result<(i64, i64)>;
    async fn template_design(&self, template: &str) -> Result<Option<String>>;
    async fn set_template_design(&self, template: &str, design_hash: &str) -> Result<()>;
}
