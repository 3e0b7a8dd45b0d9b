//! The `passerelle` binary: parse the configuration, start logging, run the command.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = passerelle::config::Cli::parse();
    passerelle::telemetry::init(&cli.config.telemetry.log);
    match passerelle::cli::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
