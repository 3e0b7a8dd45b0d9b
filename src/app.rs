//! The composition root: builds what a process runs on from the settings, binds the socket,
//! serves HTTP and starts the background loops.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::net::TcpListener;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::apple::{AppleCertPaths, PassBuilder, SigningIdentity};
use crate::campaigns::Campaigns;
use crate::campaigns::worker::CampaignWorker;
use crate::config::Config;
use crate::dependencies::{Dependencies, DependencyHealth};
use crate::google::sync::GoogleService;
use crate::http::AppState;
use crate::http::server::{ServerSettings, serve};
use crate::jobs::QueueSettings;
use crate::jobs::background::{push_loops, runner_loop};
use crate::jobs::google::GoogleHandler;
use crate::jobs::mail::MailHandler;
pub use crate::jobs::push::PushParts;
use crate::jobs::runner::Handler;
use crate::jobs::webhook::WebhookHandler;
use crate::loyalty::Loyalty;
use crate::offers::Offers;
use crate::passes::Passes;
use crate::receipts::Receipts;
use crate::receipts::points::PointsRule;
use crate::secret_keys::SecretKeys;
use crate::store::{self, Store};
use crate::templates::TemplateSet;

/// What a process runs on, built once from the settings: the HTTP layer and the background
/// loops take from it what they use.
pub struct Services {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub templates: Arc<TemplateSet>,
    pub passes: Arc<Passes>,
    pub loyalty: Arc<Loyalty>,
    pub receipts: Arc<Receipts>,
    pub campaigns: Arc<Campaigns>,
    pub offers: Arc<Offers>,
    pub push: PushParts,
    /// Google Wallet, when PASSERELLE_GOOGLE_SA_KEY and PASSERELLE_GOOGLE_ISSUER_ID are set.
    pub google: Option<Arc<GoogleService>>,
    /// How APNs, Google and SMTP have been answering.
    pub dependencies: Dependencies,
    /// The key of each purpose, derived from PASSERELLE_SECRET_KEY.
    pub secret_keys: Arc<SecretKeys>,
}

impl Services {
    /// Checks the settings, loads the certificate and templates, opens and migrates the database,
    /// and connects the wallets and mail: everything `serve` and `worker` share. `public_url` is
    /// what passes carry.
    pub async fn build(config: Config, public_url: String) -> Result<Self> {
        config.validate()?;
        crate::metrics::handle(); // install the recorder before anything counts
        let (templates, builder) = load_passes(&config)?;
        let store = open_store(&config).await?;
        crate::publish::record_baselines(store.as_ref(), templates.iter()).await?;
        let push = PushParts::new(&config.apns, &builder)?;
        let health =
            |on: bool, name| Arc::new(if on { DependencyHealth::new(name) } else { DependencyHealth::off(name) });
        let dependencies = Dependencies {
            apns: push.health.apns.clone(),
            google: health(config.google.sa_key.is_some() && config.google.issuer_id.is_some(), "google"),
            smtp: health(config.mail.smtp_url.is_some(), "smtp"),
        };
        let google = crate::google::service(&config.google, &store, &public_url, &dependencies.google).await?;
        let mailer = crate::mail::from_config(&config.mail, dependencies.smtp.clone())?;
        let passes = Arc::new(Passes {
            store: store.clone(),
            templates: templates.clone(),
            builder,
            public_url,
            google: google.clone(),
            google_wait: Duration::from_millis(config.google.timeout_ms),
        });
        let secret_keys = Arc::new(SecretKeys::from_config(config.http.secret_key.as_ref())?);
        let points = PointsRule::new(config.loyalty.points_per_unit.clone(), config.loyalty.tiers.clone());
        let receipts = Arc::new(Receipts::new(passes.clone(), config.loyalty.default_country, &secret_keys, points));
        let loyalty = Arc::new(Loyalty {
            passes: passes.clone(),
            receipts: receipts.clone(),
            mailer,
            default_country: config.loyalty.default_country,
            tiers: config.loyalty.tiers.clone(),
            points_allow_negative: config.loyalty.points_allow_negative,
        });
        let campaigns = Arc::new(Campaigns::new(&config.campaigns, store.clone(), templates.clone())?);
        let offers = Arc::new(Offers::new(passes.clone(), config.offers.reverse_minutes));
        Ok(Self {
            config,
            store,
            templates,
            passes,
            loyalty,
            receipts,
            campaigns,
            offers,
            push,
            google,
            dependencies,
            secret_keys,
        })
    }

    /// What the HTTP handlers share.
    pub fn http_state(&self) -> AppState {
        AppState {
            config: self.config.clone(),
            store: self.store.clone(),
            templates: self.templates.clone(),
            passes: self.passes.clone(),
            loyalty: self.loyalty.clone(),
            receipts: self.receipts.clone(),
            campaigns: self.campaigns.clone(),
            offers: self.offers.clone(),
            push_health: self.push.health.clone(),
            google: self.google.clone(),
            dependencies: self.dependencies.clone(),
            secret_keys: self.secret_keys.clone(),
        }
    }
}

/// A bound, ready-to-run server.
pub struct App {
    listener: TcpListener,
    /// PASSERELLE_METRICS_LISTEN, when set: `/metrics` alone, apart from the public address.
    metrics_listener: Option<TcpListener>,
    services: Arc<Services>,
}

/// Loads and checks the certificate and every template; logs the warnings.
pub fn load_passes(config: &Config) -> Result<(Arc<TemplateSet>, Arc<PassBuilder>)> {
    let identity =
        SigningIdentity::load(&AppleCertPaths::from(&config.apple)).context("loading the Apple pass certificate")?;
    for w in &identity.warnings {
        tracing::warn!("{w}");
    }
    let templates = TemplateSet::load(&config.templates.dir, &identity.template_identity())?;
    let builder = PassBuilder::new(identity, &templates)?;
    Ok((Arc::new(templates), Arc::new(builder)))
}

/// Opens the database and applies pending migrations.
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>> {
    let store = store::connect(&store::DbSettings::from(config)).await?;
    store.migrate().await?;
    Ok(store)
}

impl App {
    /// Loads everything, migrates the database and binds `PASSERELLE_LISTEN` (port 0 picks a free port).
    pub async fn build(config: Config) -> Result<Self> {
        if config.http.admin_token.is_none() {
            tracing::info!(
                "PASSERELLE_ADMIN_TOKEN is unset: the admin API takes only keys made with `passerelle keys create`"
            );
        }
        let listener =
            TcpListener::bind(config.http.listen).await.with_context(|| format!("binding {}", config.http.listen))?;
        let metrics_listener = match config.http.metrics_listen {
            Some(addr) => {
                let bound = TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("binding PASSERELLE_METRICS_LISTEN {addr}"))?;
                tracing::info!(addr = %bound.local_addr()?, "GET /metrics is served on PASSERELLE_METRICS_LISTEN only");
                Some(bound)
            }
            None => None,
        };
        let public_url = config.http.public_url_or(listener.local_addr()?);
        if !public_url.starts_with("https://") {
            tracing::warn!(
                "PASSERELLE_PUBLIC_URL {public_url} is not https: iPhones only call https web services outside development"
            );
        }
        let services = Arc::new(Services::build(config, public_url).await?);
        Ok(Self { listener, metrics_listener, services })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// Where `/metrics` is served apart (PASSERELLE_METRICS_LISTEN), if it is.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().map(|l| l.local_addr().expect("a bound listener has an address"))
    }

    pub fn public_url(&self) -> &str {
        &self.services.passes.public_url
    }

    /// Serves until `shutdown` completes, then drains open requests.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        let services = &self.services;
        tracing::info!(addr = %self.local_addr(), public_url = %services.passes.public_url, templates = ?services.templates.ids(), "serving");
        let (stop, stopped) = watch::channel(false);
        let workers = if services.config.jobs.background {
            start_background(services, &stopped)?
        } else {
            tracing::info!("PASSERELLE_BACKGROUND=off: this process serves HTTP only");
            Vec::new()
        };
        let state = Arc::new(services.http_state());
        let settings = ServerSettings::from(&services.config.http);
        // Both listeners stop on the one signal.
        let (stop_http, http_stopped) = watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop_http.send(true);
        });
        let stopped = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        let metrics = self.metrics_listener.map(|listener| {
            let router = crate::http::metrics_router(state.clone());
            // A scraper or two: a few slots, not a second share of the open-file limit.
            let settings = ServerSettings { max_connections: settings.max_connections.min(16), ..settings };
            tokio::spawn(serve(listener, router, settings, stopped(http_stopped.clone())))
        });
        let router = crate::http::router(state);
        serve(self.listener, router, settings, stopped(http_stopped)).await;
        if let Some(metrics) = metrics {
            let _ = metrics.await;
        }
        // Workers finish the batch in hand; unfinished jobs are found again when their lease ends.
        let _ = stop.send(true);
        for w in workers {
            let _ = w.await;
        }
        Ok(())
    }
}

/// Starts every background loop of this process from the settings, for `serve` (unless
/// `PASSERELLE_BACKGROUND=off`) and `passerelle worker` alike: the job loops (pushes, Google syncs
/// when Google is on, webhooks when a URL is set, e-mails), the campaign fan-out (with Google class
/// messages), the click-and-collect order expiry and the provisional cards' expiry. They stop when `shutdown` turns true.
pub fn start_background(services: &Services, shutdown: &watch::Receiver<bool>) -> Result<Vec<JoinHandle<()>>> {
    let config = &services.config;
    let store = &services.store;
    let mut loops = push_loops(&config.jobs, store, &services.push, shutdown);
    let mut spawn_runner =
        |handler: Arc<dyn Handler>, settings| loops.push(runner_loop(store, handler, settings, shutdown));
    if let Some(google) = &services.google {
        let handler =
            GoogleHandler { service: google.clone(), store: store.clone(), templates: services.templates.clone() };
        spawn_runner(Arc::new(handler), QueueSettings::google(&config.jobs, &config.google));
    }
    let mail = MailHandler { loyalty: services.loyalty.clone() };
    spawn_runner(Arc::new(mail), QueueSettings::mail(&config.jobs));
    if let Some(handler) = WebhookHandler::new(&config.webhooks)? {
        spawn_runner(Arc::new(handler), QueueSettings::webhook(&config.jobs, &config.webhooks));
    }
    let campaigns = CampaignWorker::new(
        config,
        store.clone(),
        services.templates.clone(),
        services.google.clone(),
        services.offers.clone(),
    )?;
    loops.push(tokio::spawn(campaigns.run(shutdown.clone())));
    let expiry = std::time::Duration::from_secs(config.orders.expiry_interval_secs);
    loops.push(tokio::spawn(crate::orders::run_expiry(services.passes.clone(), expiry, shutdown.clone())));
    let days = config.loyalty.provisional_card_days;
    loops.push(tokio::spawn(crate::loyalty::provisional::run_sweep(services.loyalty.clone(), days, shutdown.clone())));
    tracing::info!(
        push_loops = config.jobs.push_workers,
        google = services.google.is_some(),
        webhooks = config.webhooks.enabled(),
        "background work running"
    );
    Ok(loops)
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
