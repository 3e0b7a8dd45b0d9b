//! Command dispatch: `serve`, `migrate`, `worker`, `keys`, `users`, `templates`, `pass build`, and `bench` (feature `testkit`).

use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::app::{self, App};
use crate::apple::{AppleCertPaths, PassKeys, SigningIdentity};
#[cfg(feature = "testkit")]
use crate::config::BenchCommand;
use crate::config::{Cli, Command, Config, KeysCommand, PassCommand, TemplatesCommand, UsersCommand};
use crate::keys::KeyGrant;
use crate::templates::TemplateSet;
use crate::tokens;

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Serve => serve(cli.config),
        Command::Migrate => block_on(async {
            app::open_store(&cli.config).await?;
            println!("database migrated");
            Ok(ExitCode::SUCCESS)
        }),
        Command::Keys { command } => block_on(keys(cli.config, command)),
        Command::Users { command } => block_on(users(cli.config, command)),
        Command::Templates { command: TemplatesCommand::Check } => templates_check(&cli.config),
        Command::Templates { command: TemplatesCommand::Publish { id, force } } => {
            block_on(templates_publish(cli.config, id, force))
        }
        Command::Worker => block_on(worker(cli.config)),
        Command::Pass { command: PassCommand::Build { template, data, output, serial } } => {
            pass_build(&cli.config, &template, &data, &output, serial)
        }
        #[cfg(feature = "testkit")]
        Command::Bench { command } => bench(&cli.config, command),
    }
}

#[cfg(feature = "testkit")]
fn bench(config: &Config, command: BenchCommand) -> Result<ExitCode> {
    match command {
        BenchCommand::Sign { template, seconds, threads } => crate::bench::sign(config, &template, seconds, threads),
        // These two start push loops (and the fan-out), like `worker`.
        BenchCommand::Campaign { holders } => {
            config.validate()?;
            block_on(crate::bench::campaign(config, holders))
        }
        BenchCommand::Results { holders, receipts } => {
            config.validate()?;
            block_on(crate::bench::results(config, holders, receipts))
        }
        BenchCommand::Push { devices } => {
            config.validate()?;
            block_on(crate::bench::push(config, devices))
        }
        BenchCommand::SeedWeb { passes, registrations, per_device, targets } => {
            block_on(crate::bench::seed_web(config, passes, registrations, per_device, &targets))
        }
    }
}

fn block_on<T>(f: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(f)
}

fn serve(config: Config) -> Result<ExitCode> {
    block_on(async {
        let app = App::build(config).await?;
        app.run(app::shutdown_signal()).await
    })?;
    Ok(ExitCode::SUCCESS)
}

async fn keys(config: Config, command: KeysCommand) -> Result<ExitCode> {
    let store = app::open_store(&config).await?;
    match command {
        KeysCommand::Create { name, role, store: store_id } => {
            let grant = KeyGrant::parse(role.as_deref(), store_id.as_deref())?;
            let name = name.unwrap_or_else(|| grant.default_name());
            let (record, secret) = crate::keys::create(store.as_ref(), None, &name, &grant).await?;
            let store_line = record.store_id.as_deref().map(|s| format!("store: {s}\n")).unwrap_or_default();
            println!(
                "id:   {}\nname: {}\nrole: {}\n{store_line}key:  {}",
                record.id,
                record.name,
                record.role,
                secret.expose()
            );
            eprintln!("The key is shown once; it is stored hashed.");
        }
        KeysCommand::List => {
            for k in store.list_api_keys().await? {
                let state = if k.revoked_at.is_some() { "revoked" } else { "active" };
                let store = k.store_id.as_deref().unwrap_or("-");
                println!("{}\t{}\t{}…\t{}\t{}\t{}", k.id, state, k.prefix, k.role, store, k.name);
            }
        }
        KeysCommand::Revoke { id } => {
            if let Err(e) = crate::keys::revoke(store.as_ref(), None, &id).await {
                eprintln!("{e}");
                return Ok(ExitCode::FAILURE);
            }
            println!("revoked {id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn users(config: Config, command: UsersCommand) -> Result<ExitCode> {
    let store = app::open_store(&config).await?;
    match command {
        UsersCommand::Create { email, role, store: store_id, password } => {
            let password = match password {
                Some(p) => p,
                None => rpassword::prompt_password("Password (12 characters or more): ")
                    .context("reading the password (or set PASSERELLE_USER_PASSWORD)")?,
            };
            let input = crate::users::NewUserInput {
                email: &email,
                role: &role,
                store_id: store_id.as_deref(),
                password: &password,
                language: None,
            };
            let user = crate::users::create(store.as_ref(), None, input).await?;
            let store_line = user.store_id.as_deref().map(|s| format!("store: {s}\n")).unwrap_or_default();
            println!("id:    {}\nemail: {}\nrole:  {}\n{store_line}", user.id, user.email, user.role);
        }
        UsersCommand::List => {
            for u in store.list_users().await? {
                let state = if u.disabled_at.is_some() { "disabled" } else { "active" };
                let store = u.store_id.as_deref().unwrap_or("-");
                println!("{}\t{}\t{}\t{}\t{}", u.id, state, u.role, store, u.email);
            }
        }
        UsersCommand::Disable { email } => {
            let user = crate::users::disable(store.as_ref(), None, &email).await?;
            println!("disabled {} (their sessions are ended)", user.email);
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn templates_publish(config: Config, id: String, force: bool) -> Result<ExitCode> {
    let (templates, _) = app::load_passes(&config)?;
    let template =
        templates.get(&id).with_context(|| format!("no template {id:?} (have: {})", templates.ids().join(", ")))?;
    let store = app::open_store(&config).await?;
    let report = crate::publish::publish(store.as_ref(), template, config.templates.publish_batch_size, force).await?;
    if report.changed {
        println!("{}: {} pass(es) updated; their devices are queued for a push", report.template, report.passes);
    } else {
        println!(
            "{}: design unchanged since the last publish; nothing to push (--force to push anyway)",
            report.template
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Every background loop without the HTTP server: a separate process sharing the database
/// (pushes, Google syncs and class messages, webhooks, campaign fan-out, order expiry).
async fn worker(config: Config) -> Result<ExitCode> {
    // Passes built here (order expiry) carry the servers' public URL.
    let public_url = config.http.public_url_or(config.http.listen);
    let services = app::Services::build(config, public_url).await?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let workers = app::start_background(&services, &stopped)?;
    app::shutdown_signal().await;
    let _ = stop.send(true);
    for w in workers {
        let _ = w.await;
    }
    Ok(ExitCode::SUCCESS)
}

fn templates_check(config: &Config) -> Result<ExitCode> {
    let identity =
        SigningIdentity::load(&AppleCertPaths::from(&config.apple)).context("loading the Apple pass certificate")?;
    match TemplateSet::load(&config.templates.dir, &identity.template_identity()) {
        Ok(set) => {
            println!("{} template(s) valid: {}", set.ids().len(), set.ids().join(", "));
            Ok(ExitCode::SUCCESS)
        }
        Err(problems) => {
            eprintln!("{problems}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn pass_build(
    config: &Config,
    template: &str,
    data: &std::path::Path,
    output: &std::path::Path,
    serial: Option<String>,
) -> Result<ExitCode> {
    let (templates, builder) = app::load_passes(config)?;
    let template = templates
        .get(template)
        .with_context(|| format!("no template {template:?} (have: {})", templates.ids().join(", ")))?;
    let raw = std::fs::read(data).with_context(|| format!("cannot read {}", data.display()))?;
    let value: serde_json::Value =
        serde_json::from_slice(&raw).with_context(|| format!("{}: invalid JSON", data.display()))?;
    let data = template
        .validate_data(&value)
        .with_context(|| format!("{}: data does not fit template {}", data.display(), template.id))?;
    let serial = serial.unwrap_or_else(tokens::serial_number);
    let token = tokens::authentication_token();
    let web_service_url = config.http.public_url_or(config.http.listen);
    let keys = PassKeys {
        serial_number: &serial,
        authentication_token: &token,
        web_service_url: &web_service_url,
        voided: false,
        locations: &[],
    };
    let pkpass = builder.build(template, &data, &keys)?;
    std::fs::write(output, &pkpass).with_context(|| format!("cannot write {}", output.display()))?;
    println!("{} ({} bytes, serial {serial})", output.display(), pkpass.len());
    Ok(ExitCode::SUCCESS)
}
