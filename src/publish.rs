//! Template redesigns reaching the phones: every pass of a template whose design changed gets
//! a new version, and every device holding one gets a push, in batches through the outbox.

use anyhow::Result;

use crate::store::Store;
use crate::templates::Template;

#[derive(Debug, Clone, serde::Serialize)]
pub struct PublishReport {
    pub template: String,
    /// False when the design was already published (nothing was pushed).
    pub changed: bool,
    /// Passes given a new version.
    pub passes: u64,
}

/// Records the current design of templates never seen before, so a first start pushes nothing.
pub async fn record_baselines<'a>(
    store: &dyn Store,
    templates: impl Iterator<Item = &'a std::sync::Arc<Template>>,
) -> Result<()> {
    for t in templates {
        if store.template_design(&t.id).await?.is_none() {
            store.set_template_design(&t.id, &t.design_hash).await?;
        }
    }
    Ok(())
}

/// Publishes `template`'s design if it changed since the last publish (or when `force`).
/// Each batch is its own transaction; the design is recorded only at the end, so a run
/// cut short is simply run again.
pub async fn publish(store: &dyn Store, template: &Template, batch_size: i64, force: bool) -> Result<PublishReport> {
    let current = store.template_design(&template.id).await?;
    if !force && current.as_deref() == Some(template.design_hash.as_str()) {
        return Ok(PublishReport { template: template.id.clone(), changed: false, passes: 0 });
    }
    let mut after: Option<String> = None;
    let mut passes = 0u64;
    loop {
        let serials = store.bump_template_passes(&template.id, after.as_deref(), batch_size.max(1)).await?;
        passes += serials.len() as u64;
        match serials.into_iter().last() {
            Some(last) => after = Some(last),
            None => break,
        }
    }
    store.set_template_design(&template.id, &template.design_hash).await?;
    tracing::info!(template = %template.id, passes, "template published");
    Ok(PublishReport { template: template.id.clone(), changed: true, passes })
}
