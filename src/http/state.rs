//! What the HTTP handlers share: the settings, the store, the templates and the domain services.

use std::sync::Arc;

use crate::campaigns::Campaigns;
use crate::config::Config;
use crate::dependencies::Dependencies;
use crate::google::sync::GoogleService;
use crate::jobs::push::PushHealth;
use crate::loyalty::Loyalty;
use crate::offers::Offers;
use crate::passes::Passes;
use crate::receipts::Receipts;
use crate::secret_keys::SecretKeys;
use crate::store::Store;
use crate::templates::TemplateSet;

/// Shared, read-only state of the HTTP handlers (built by `app::Services::http_state`).
pub struct AppState {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub templates: Arc<TemplateSet>,
    pub passes: Arc<Passes>,
    pub loyalty: Arc<Loyalty>,
    pub receipts: Arc<Receipts>,
    pub campaigns: Arc<Campaigns>,
    pub offers: Arc<Offers>,
    /// Whether pushing is paused; `/readyz` reports it.
    pub push_health: Arc<PushHealth>,
    /// How APNs, Google and SMTP have been answering; `/readyz` and `/metrics` report it.
    pub dependencies: Dependencies,
    /// Google Wallet, when PASSERELLE_GOOGLE_SA_KEY and PASSERELLE_GOOGLE_ISSUER_ID are set.
    pub google: Option<Arc<GoogleService>>,
    /// The key of each purpose, derived from PASSERELLE_SECRET_KEY.
    pub secret_keys: Arc<SecretKeys>,
}
