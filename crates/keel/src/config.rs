//! Typed configuration: defaults, then an optional TOML file, then environment variables.
//! Passed explicitly to whatever needs it; there is no global.

use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub database_url: String,
    pub bind: String,
    pub metrics_bind: String,
    pub workers: usize,
    pub db_pool_size: u32,
    pub db_acquire_timeout_secs: u64,
    pub max_body_bytes: usize,
    pub log_format: LogFormat,
    pub log_level: String,
    pub shutdown_timeout_secs: u64,
    pub shutdown_drain_secs: u64,
    pub data_dir: String,
    pub jwt_keys_file: String,
    pub token_issuer: String,
    pub token_audience: String,
    pub user_token_ttl_secs: u64,
    pub client_token_ttl_secs: u64,
    pub idp_issuer: String,
    pub idp_audience: String,
    pub idp_keys_file: String,
    pub smtp_url: String,
    pub mail_from: String,
    pub sign_in_url: String,
    pub public_base_url: String,
    pub page_link_ttl_days: u32,
    pub outbox_poll_ms: u64,
    pub outbox_retry_base_ms: u64,
    pub auth_rate_per_ip_per_minute: u32,
    pub auth_rate_per_identity_per_minute: u32,
    pub trust_forwarded_for: bool,
    pub api_rate_per_minute: u32,
    pub principal_cache_ms: u64,
    pub webhook_allow_internal: bool,
    pub webhook_timeout_secs: u64,
    pub webhook_disable_after_secs: u64,
    pub webhook_secret_overlap_secs: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "sqlite://keel.db".to_owned(),
            bind: "127.0.0.1:8080".to_owned(),
            metrics_bind: String::new(),
            workers: 0,
            db_pool_size: 0,
            db_acquire_timeout_secs: 5,
            max_body_bytes: 1024 * 1024,
            log_format: LogFormat::Text,
            log_level: "info".to_owned(),
            shutdown_timeout_secs: 30,
            shutdown_drain_secs: 5,
            data_dir: "keel-data".to_owned(),
            jwt_keys_file: String::new(),
            token_issuer: "keel".to_owned(),
            token_audience: "keel-api".to_owned(),
            user_token_ttl_secs: 900,
            client_token_ttl_secs: 3600,
            idp_issuer: String::new(),
            idp_audience: String::new(),
            idp_keys_file: String::new(),
            smtp_url: String::new(),
            mail_from: "Keel <keel@localhost>".to_owned(),
            sign_in_url: String::new(),
            public_base_url: String::new(),
            page_link_ttl_days: 7,
            outbox_poll_ms: 500,
            outbox_retry_base_ms: 2000,
            auth_rate_per_ip_per_minute: 30,
            auth_rate_per_identity_per_minute: 5,
            trust_forwarded_for: false,
            api_rate_per_minute: 600,
            principal_cache_ms: 1000,
            webhook_allow_internal: false,
            webhook_timeout_secs: 10,
            webhook_disable_after_secs: 3 * 86_400,
            webhook_secret_overlap_secs: 86_400,
        }
    }
}

/// Every setting: (key in the TOML file, environment variable, default, meaning).
pub const SETTINGS: &[(&str, &str, &str, &str)] = &[
    (
        "database_url",
        "DATABASE_URL or KEEL_DATABASE_URL",
        "sqlite://keel.db",
        "postgres://user:pass@host:5432/db for PostgreSQL; sqlite://path (or a file path) for SQLite",
    ),
    ("bind", "KEEL_BIND", "127.0.0.1:8080", "address and port to listen on"),
    (
        "metrics_bind",
        "KEEL_METRICS_BIND",
        "",
        "a separate address and port for /metrics (e.g. 127.0.0.1:9090), which then answers 404 on bind; empty = /metrics on bind",
    ),
    ("workers", "KEEL_WORKERS", "0", "HTTP worker threads; 0 = one per CPU core"),
    ("db_pool_size", "KEEL_DB_POOL_SIZE", "0", "maximum database connections; 0 = two per CPU core (at least 4)"),
    ("db_acquire_timeout_secs", "KEEL_DB_ACQUIRE_TIMEOUT_SECS", "5", "wait for a free connection before answering 503"),
    ("max_body_bytes", "KEEL_MAX_BODY_BYTES", "1048576", "largest request body accepted; larger ones get 413"),
    ("log_format", "KEEL_LOG_FORMAT", "text", "text or json (one JSON object per line)"),
    ("log_level", "KEEL_LOG_LEVEL", "info", "tracing filter, e.g. info or keel_http=debug,info (RUST_LOG overrides)"),
    ("shutdown_timeout_secs", "KEEL_SHUTDOWN_TIMEOUT_SECS", "30", "grace period for in-flight requests on SIGTERM"),
    (
        "shutdown_drain_secs",
        "KEEL_SHUTDOWN_DRAIN_SECS",
        "5",
        "on SIGTERM, readiness says 503 and requests are still served this long before the server stops (0 = stop at once; Ctrl-C always does)",
    ),
    ("data_dir", "KEEL_DATA_DIR", "keel-data", "directory for generated keys (and mail files when no SMTP is set)"),
    (
        "jwt_keys_file",
        "KEEL_JWT_KEYS_FILE",
        "",
        "token signing key set; empty = <data_dir>/jwt-keys.json, created on first start (share it between instances)",
    ),
    ("token_issuer", "KEEL_TOKEN_ISSUER", "keel", "`iss` of the access tokens Keel issues"),
    ("token_audience", "KEEL_TOKEN_AUDIENCE", "keel-api", "`aud` of the access tokens Keel issues"),
    ("user_token_ttl_secs", "KEEL_USER_TOKEN_TTL_SECS", "900", "lifetime of people's access tokens"),
    ("client_token_ttl_secs", "KEEL_CLIENT_TOKEN_TTL_SECS", "3600", "lifetime of API clients' access tokens"),
    (
        "idp_issuer",
        "KEEL_IDP_ISSUER",
        "",
        "external identity provider's `iss`; with the next two, its tokens are accepted",
    ),
    ("idp_audience", "KEEL_IDP_AUDIENCE", "", "the `aud` the identity provider's tokens must carry"),
    ("idp_keys_file", "KEEL_IDP_KEYS_FILE", "", "its public keys: a PEM file (RSA or EC P-256) or a JWKS file"),
    (
        "smtp_url",
        "KEEL_SMTP_URL",
        "",
        "smtp://host:25, smtp://host:587?tls=required or smtps://user:pass@host:465; empty = mail to <data_dir>/mail/*.eml",
    ),
    ("mail_from", "KEEL_MAIL_FROM", "Keel <keel@localhost>", "sender of Keel's mail"),
    (
        "sign_in_url",
        "KEEL_SIGN_IN_URL",
        "",
        "front-end page that redeems sign-in links (?token= is appended); empty = code only",
    ),
    (
        "public_base_url",
        "KEEL_PUBLIC_BASE_URL",
        "",
        "address people reach Keel at, for links in mails (e.g. https://keel.example.com); empty = http://<bound address>",
    ),
    (
        "page_link_ttl_days",
        "KEEL_PAGE_LINK_TTL_DAYS",
        "7",
        "how long a link in a mail that asks someone to act lasts (1-90 days)",
    ),
    ("outbox_poll_ms", "KEEL_OUTBOX_POLL_MS", "500", "how often the delivery worker looks for due messages"),
    (
        "outbox_retry_base_ms",
        "KEEL_OUTBOX_RETRY_BASE_MS",
        "2000",
        "first retry delay; doubles per attempt up to 1 h, for about a day",
    ),
    (
        "auth_rate_per_ip_per_minute",
        "KEEL_AUTH_RATE_PER_IP_PER_MINUTE",
        "30",
        "token and sign-in requests per client address per minute (then 429)",
    ),
    (
        "auth_rate_per_identity_per_minute",
        "KEEL_AUTH_RATE_PER_IDENTITY_PER_MINUTE",
        "5",
        "token requests per client id, sign-in links per email address, per minute",
    ),
    (
        "trust_forwarded_for",
        "KEEL_TRUST_FORWARDED_FOR",
        "false",
        "take the client address from X-Forwarded-For (only behind a proxy you trust)",
    ),
    (
        "api_rate_per_minute",
        "KEEL_API_RATE_PER_MINUTE",
        "600",
        "API requests per minute per user or API client (then 429 with Retry-After)",
    ),
    (
        "principal_cache_ms",
        "KEEL_PRINCIPAL_CACHE_MS",
        "1000",
        "how long a token's user or API client, once looked up, is reused; changes through this instance apply at once, \
         changes through another instance sharing the database within this time; 0 = look up on every request",
    ),
    (
        "webhook_allow_internal",
        "KEEL_WEBHOOK_ALLOW_INTERNAL",
        "false",
        "accept webhook URLs on loopback, private and other internal addresses (receivers on your own network)",
    ),
    ("webhook_timeout_secs", "KEEL_WEBHOOK_TIMEOUT_SECS", "10", "how long a webhook receiver has to answer an attempt"),
    (
        "webhook_disable_after_secs",
        "KEEL_WEBHOOK_DISABLE_AFTER_SECS",
        "259200",
        "a subscription whose deliveries have failed this long (3 days) is disabled and its hr_partners emailed",
    ),
    (
        "webhook_secret_overlap_secs",
        "KEEL_WEBHOOK_SECRET_OVERLAP_SECS",
        "86400",
        "after a webhook secret rotation, deliveries are also signed with the old secret this long",
    ),
];

/// The settings as `--help` prints them.
pub fn help_text() -> String {
    let mut text = String::from("Settings (defaults < --config TOML file < environment variables):\n");
    for (key, env, default, meaning) in SETTINGS {
        text.push_str(&format!("  {key:<24} {env}\n  {:<24} default {default}: {meaning}\n", ""));
    }
    text
}

fn cpu_cores() -> usize {
    std::thread::available_parallelism().map(usize::from).unwrap_or(1)
}

impl Config {
    /// HTTP workers: as configured, or one per CPU core.
    pub fn worker_count(&self) -> usize {
        if self.workers > 0 { self.workers } else { cpu_cores() }
    }

    /// Database connections: as configured, or two per CPU core and at least four. More
    /// connections than the machine can keep busy only add context switches on both sides (the
    /// benchmark in bench/ measured a pool of 4 beating 8 and 16 on 2 cores).
    pub fn pool_size(&self) -> u32 {
        if self.db_pool_size > 0 {
            self.db_pool_size
        } else {
            u32::try_from(cpu_cores() * 2).unwrap_or(u32::MAX).max(4)
        }
    }

    /// Where the token signing keys are kept.
    pub fn jwt_keys_path(&self) -> std::path::PathBuf {
        if self.jwt_keys_file.is_empty() {
            Path::new(&self.data_dir).join("jwt-keys.json")
        } else {
            self.jwt_keys_file.clone().into()
        }
    }

    pub fn load(file: Option<&Path>) -> Result<Config, Box<figment::Error>> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(Box::new(figment::Error::from(format!("config file {} does not exist", path.display()))));
            }
            figment = figment.merge(Toml::file(path));
        }
        let keys: Vec<&str> = SETTINGS.iter().map(|(key, ..)| *key).collect();
        figment = figment.merge(Env::prefixed("KEEL_").only(&keys)).merge(Env::raw().only(&["DATABASE_URL"]));
        figment.extract().map_err(Box::new)
    }

    /// `KEEL_*` environment variables that name no setting (probably typos), to warn about.
    pub fn unknown_env_vars() -> Vec<String> {
        let known: Vec<String> = SETTINGS.iter().map(|(key, ..)| format!("KEEL_{}", key.to_uppercase())).collect();
        // Variables of the test harness, not of the server.
        let others = ["KEEL_TEST_POSTGRES_URL", "KEEL_REQUIRE_POSTGRES"];
        std::env::vars()
            .map(|(name, _)| name)
            .filter(|name| name.starts_with("KEEL_") && !known.contains(name) && !others.contains(&name.as_str()))
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return figment::Error
mod tests {
    use super::*;

    #[test]
    fn every_setting_is_documented_with_its_real_default() {
        let defaults = serde_json::to_value(Config::default()).unwrap();
        let keys: Vec<&String> = defaults.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), SETTINGS.len(), "SETTINGS must list every field of Config");
        for (key, _, default, _) in SETTINGS {
            let value = &defaults[*key];
            let shown = value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string());
            assert_eq!(&shown, default, "documented default of {key}");
        }
    }

    #[test]
    fn the_readme_documents_every_setting() {
        let readme = include_str!("../../../README.md");
        for (key, env, default, _) in SETTINGS {
            let row = readme
                .lines()
                .find(|l| l.starts_with(&format!("| `{key}` |")))
                .unwrap_or_else(|| panic!("README lacks {key}"));
            assert!(row.contains(env.split(' ').next().unwrap_or(env)), "README row of {key} names {env}");
            if !default.is_empty() {
                assert!(row.contains(&format!("`{default}`")), "README row of {key} shows the default {default}");
            }
        }
    }

    #[test]
    fn file_then_environment_override_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("keel.toml", "bind = \"0.0.0.0:9000\"\ndb_pool_size = 4\nlog_format = \"json\"")?;
            jail.set_env("KEEL_DB_POOL_SIZE", "7");
            jail.set_env("DATABASE_URL", "postgres://u@h/db");
            let config = Config::load(Some(Path::new("keel.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(config.bind, "0.0.0.0:9000");
            assert_eq!(config.db_pool_size, 7);
            assert_eq!(config.log_format, LogFormat::Json);
            assert_eq!(config.database_url, "postgres://u@h/db");
            assert_eq!(config.max_body_bytes, 1024 * 1024);
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_and_missing_files_are_errors() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("bad.toml", "bnid = \"x\"")?;
            assert!(Config::load(Some(Path::new("bad.toml"))).is_err());
            assert!(Config::load(Some(Path::new("missing.toml"))).is_err());
            Ok(())
        });
    }
}
