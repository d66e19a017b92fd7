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
    /// Print a sign-in link to one of the pages for a person (single use, valid page_link_ttl_days),
    /// for an operator to hand over when Keel's mail does not reach them.
    SignInLink {
        #[arg(long)]
        email: String,
        /// The page: /home, /engagements/<id>, /engagements/<id>/designs/<version> or
        /// /engagements/<id>/extensions/<id>.
        #[arg(long, default_value = "/home")]
        to: String,
    },
    /// Fill the database with realistic data: organizations, their HR partners, sponsors and
    /// leaders, coaches, and engagements in every phase with what their steps produced (context
    /// meetings, outcomes, leader interviews, designs and decisions, sessions, action items).
    /// Applies pending migrations first. Adds to what is there; safe to run again.
    Seed {
        #[arg(long, default_value_t = 10)]
        organizations: u32,
        /// Engagements in all, spread evenly over the organizations.
        #[arg(long, default_value_t = 10_000)]
        engagements: u32,
        /// Sessions per engagement on average (engagements before coaching have none).
        #[arg(long, default_value_t = 50)]
        sessions_per_engagement: u32,
        /// Seeds the random choices (names, dates, details).
        #[arg(long, default_value_t = 1)]
        random_seed: u64,
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
        Command::SignInLink { email, to } => {
            let result = keel::open_database(&config)
                .map_err(keel::StartError::from)
                .and_then(|db| keel::sign_in_link(&config, &db, &email, &to));
            match result {
                Ok(link) => {
                    println!("{link}");
                    ExitCode::SUCCESS
                }
                Err(error) => fail(error),
            }
        }
        Command::Seed { organizations, engagements, sessions_per_engagement, random_seed } => {
            telemetry::init(&config);
            let plan =
                keel_persistence::seed::SeedPlan { organizations, engagements, sessions_per_engagement, random_seed };
            seed(&config, &plan)
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

fn seed(config: &Config, plan: &keel_persistence::seed::SeedPlan) -> ExitCode {
    let bar = indicatif::ProgressBar::new(u64::from(plan.engagements)).with_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{wide_bar}] {pos}/{len} engagements ({per_sec}, {eta} left)",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let started = std::time::Instant::now();
    let result = keel::open_database(config)
        .map_err(keel::StartError::from)
        .and_then(|db| keel::migrate(&db).map(|_| db).map_err(Into::into))
        .and_then(|db| keel::seed(&db, plan, &mut |done| bar.set_position(done)));
    bar.finish_and_clear();
    match result {
        Ok(report) => {
            println!(
                "seeded in {:.1?}: {} organizations, {} users, {} engagements ({} transitions, {} outcomes, {} designs, \
                 {} decisions), {} sessions, {} action items",
                started.elapsed(),
                report.organizations,
                report.users,
                report.engagements,
                report.transitions,
                report.outcomes,
                report.designs,
                report.decisions,
                report.sessions,
                report.action_items
            );
            ExitCode::SUCCESS
        }
        Err(error) => fail(error),
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
