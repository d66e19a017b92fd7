//! `keel`: the command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use keel::{Config, config, telemetry};

#[derive(Parser)]
#[command(
    name = "keel",
    version,
    about = "Keel: engagement-management REST API for executive coaching programs",
    after_help = config::help_text()
)]
struct Cli {
    /// A TOML file of settings (overridden by environment variables).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API (applies pending migrations first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document (JSON) to stdout.
    Openapi,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("keel: invalid configuration: {error}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Command::Openapi => {
            print!("{}", keel_http::openapi::document_json());
            ExitCode::SUCCESS
        }
        Command::Migrate => {
            telemetry::init(&config);
            let result = keel::open_database(&config).and_then(|db| keel::migrate(&db));
            match result {
                Ok(applied) => {
                    tracing::info!(count = applied.len(), ?applied, "migrations applied");
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    tracing::error!(%error, "migration failed");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Serve => {
            telemetry::init(&config);
            for name in Config::unknown_env_vars() {
                tracing::warn!(variable = %name, "ignoring environment variable that names no setting (see keel --help)");
            }
            serve(&config)
        }
    }
}

#[actix_web::main]
async fn serve(config: &Config) -> ExitCode {
    let (server, _) = match keel::start(config) {
        Ok(started) => started,
        Err(error) => {
            tracing::error!(%error, "cannot start");
            return ExitCode::FAILURE;
        }
    };
    match server.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "server failed");
            ExitCode::FAILURE
        }
    }
}
