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
    /// Create the first admin (or make an existing user an admin). Safe to run again.
    BootstrapAdmin {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
    /// Print an access token for an existing, active user.
    Token {
        #[arg(long)]
        email: String,
        /// Lifetime, e.g. 15m, 1h, 7d (default: user_token_ttl_secs).
        #[arg(long, value_parser = humantime::parse_duration)]
        ttl: Option<std::time::Duration>,
    },
    /// Manage the token signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Add a new signing key; tokens signed with the older keys stay valid.
    Rotate,
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
        Command::BootstrapAdmin { email, name } => {
            telemetry::init(&config);
            let result = keel::open_database(&config)
                .map_err(keel::StartError::from)
                .and_then(|db| keel::migrate(&db).map(|_| db).map_err(Into::into))
                .and_then(|db| keel::bootstrap_admin(&db, &email, &name));
            match result {
                Ok((user, changed)) => {
                    let what = if changed { "is now an admin" } else { "was already an admin" };
                    println!("{} ({}) {what}", user.email.as_str(), user.id);
                    ExitCode::SUCCESS
                }
                Err(error) => fail(error),
            }
        }
        Command::Token { email, ttl } => {
            let result = keel::open_database(&config)
                .map_err(keel::StartError::from)
                .and_then(|db| keel::issue_token(&config, &db, &email, ttl));
            match result {
                Ok(token) => {
                    println!("{token}");
                    ExitCode::SUCCESS
                }
                Err(error) => fail(error),
            }
        }
        Command::Keys { command: KeysCommand::Rotate } => match keel::rotate_keys(&config) {
            Ok(kid) => {
                println!("new signing key {kid} in {}", config.jwt_keys_path().display());
                ExitCode::SUCCESS
            }
            Err(error) => fail(error),
        },
        Command::Serve => {
            telemetry::init(&config);
            for name in Config::unknown_env_vars() {
                tracing::warn!(variable = %name, "ignoring environment variable that names no setting (see keel --help)");
            }
            serve(&config)
        }
    }
}

fn fail(error: keel::StartError) -> ExitCode {
    eprintln!("keel: {error}");
    ExitCode::FAILURE
}

#[actix_web::main]
async fn serve(config: &Config) -> ExitCode {
    let started = match keel::start(config) {
        Ok(started) => started,
        Err(error) => {
            tracing::error!(%error, "cannot start");
            return ExitCode::FAILURE;
        }
    };
    let result = started.server.await;
    started.worker.abort();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "server failed");
            ExitCode::FAILURE
        }
    }
}
