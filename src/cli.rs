//! Command dispatch: `serve`, `templates check`, `pass build`, `bench sign`.

use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::app::{self, App};
use crate::apple::{PassKeys, SigningIdentity};
use crate::config::{BenchCommand, Cli, Command, Config, PassCommand, TemplatesCommand};
use crate::templates::TemplateSet;
use crate::tokens;

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Serve => serve(cli.config),
        Command::Templates {
            command: TemplatesCommand::Check,
        } => templates_check(&cli.config),
        Command::Pass {
            command:
                PassCommand::Build {
                    template,
                    data,
                    output,
                    serial,
                },
        } => pass_build(&cli.config, &template, &data, &output, serial),
        Command::Bench {
            command:
                BenchCommand::Sign {
                    template,
                    seconds,
                    threads,
                },
        } => crate::bench::sign(&cli.config, &template, seconds, threads),
    }
}

fn serve(config: Config) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let app = App::build(config).await?;
        app.run(app::shutdown_signal()).await
    })?;
    Ok(ExitCode::SUCCESS)
}

fn templates_check(config: &Config) -> Result<ExitCode> {
    let identity = SigningIdentity::load(&config.apple_cert_paths())
        .context("loading the Apple pass certificate")?;
    match TemplateSet::load(&config.templates_dir, &identity.template_identity()) {
        Ok(set) => {
            println!(
                "{} template(s) valid: {}",
                set.ids().len(),
                set.ids().join(", ")
            );
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
    let template = templates.get(template).with_context(|| {
        format!(
            "no template {template:?} (have: {})",
            templates.ids().join(", ")
        )
    })?;
    let raw = std::fs::read(data).with_context(|| format!("cannot read {}", data.display()))?;
    let value: serde_json::Value = serde_json::from_slice(&raw)
        .with_context(|| format!("{}: invalid JSON", data.display()))?;
    let data = template.validate_data(&value).with_context(|| {
        format!(
            "{}: data does not fit template {}",
            data.display(),
            template.id
        )
    })?;
    let serial = serial.unwrap_or_else(tokens::serial_number);
    let token = tokens::authentication_token();
    let web_service_url = config.public_url_or(config.listen);
    let keys = PassKeys {
        serial_number: &serial,
        authentication_token: &token,
        web_service_url: &web_service_url,
        voided: false,
    };
    let pkpass = builder.build(template, &data, &keys)?;
    std::fs::write(output, &pkpass)
        .with_context(|| format!("cannot write {}", output.display()))?;
    println!(
        "{} ({} bytes, serial {serial})",
        output.display(),
        pkpass.len()
    );
    Ok(ExitCode::SUCCESS)
}
