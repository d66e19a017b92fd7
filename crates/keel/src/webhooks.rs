//! Sending webhook deliveries: one signed HTTP POST per attempt (Standard Webhooks headers),
//! to a target that is checked again at delivery time. Host names are resolved by Keel and
//! internal addresses dropped before connecting (unless allowed), so a name that later points to
//! an internal service is refused at the moment it matters; redirects are not followed.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use actix_tls::connect::{ConnectorService, Resolve, Resolver};
use futures_util::future::LocalBoxFuture;
use keel_domain::time;
use keel_domain::webhook::{Webhook, is_internal, validate_target};
use keel_http::webhook_signature::{self, Secret};
use keel_persistence::repo::webhooks::{AttemptResult, Delivery};

use crate::config::Config;

/// Resolves host names and keeps only the addresses a webhook may be sent to.
struct VettingResolver {
    allow_internal: bool,
}

impl Resolve for VettingResolver {
    fn lookup<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> LocalBoxFuture<'a, Result<Vec<SocketAddr>, Box<dyn std::error::Error>>> {
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host, port)).await?.collect();
            if self.allow_internal {
                return Ok(found);
            }
            let public: Vec<SocketAddr> = found.into_iter().filter(|addr| !is_internal(addr.ip())).collect();
            if public.is_empty() {
                return Err(format!("{host} resolves only to loopback, private or otherwise internal addresses").into());
            }
            Ok(public)
        })
    }
}

/// The outcome of one attempt, and whether trying again could help.
pub struct Sent {
    pub result: AttemptResult,
    /// The attempt can never succeed as things stand (e.g. the URL is no longer acceptable).
    pub permanent: bool,
}

pub struct WebhookSender {
    client: awc::Client,
    allow_internal: bool,
    timeout: Duration,
    /// A subscription whose deliveries have failed this long is disabled.
    pub disable_after: Duration,
}

impl WebhookSender {
    /// Builds the HTTP client (call it on the actix runtime that will run the worker).
    pub fn from_config(config: &Config) -> WebhookSender {
        let allow_internal = config.webhook_allow_internal;
        let timeout = Duration::from_secs(config.webhook_timeout_secs.max(1));
        let tcp: ConnectorService =
            actix_tls::connect::Connector::new(Resolver::custom(VettingResolver { allow_internal })).service();
        let connector = awc::Connector::new().connector(tcp).timeout(timeout);
        let client = awc::Client::builder()
            .connector(connector)
            .timeout(timeout)
            .disable_redirects()
            .add_default_header(("user-agent", concat!("Keel-Webhooks/", env!("CARGO_PKG_VERSION"))))
            .finish();
        WebhookSender {
            client,
            allow_internal,
            timeout,
            disable_after: Duration::from_secs(config.webhook_disable_after_secs.max(1)),
        }
    }

    /// One attempt to deliver `delivery` to `hook`: a POST of the stored body, signed with every
    /// current secret. A 2xx answer is a success; anything else (another status, no answer in
    /// time, a refused connection or address) is a failure.
    pub async fn send(&self, hook: &Webhook, delivery: &Delivery) -> Sent {
        let attempted_at = time::now();
        let started = Instant::now();
        let failed = |error: String, status: Option<u16>, permanent: bool| Sent {
            result: AttemptResult {
                attempted_at,
                response_status: status,
                error: Some(error),
                duration_ms: started.elapsed().as_millis() as i64,
            },
            permanent,
        };
        let url = match validate_target(&hook.url, self.allow_internal) {
            Ok(url) => url,
            Err(e) => return failed(format!("the URL {e}"), None, true),
        };
        let secrets: Vec<Secret> = hook.signing_secrets(attempted_at).into_iter().filter_map(Secret::parse).collect();
        if secrets.is_empty() {
            return failed("the subscription's secret is unreadable; rotate it".to_owned(), None, true);
        }
        let secret_refs: Vec<&Secret> = secrets.iter().collect();
        let body = delivery.payload.clone().into_bytes();
        let mut request =
            self.client.post(url.as_str()).timeout(self.timeout).insert_header(("content-type", "application/json"));
        for (name, value) in webhook_signature::headers(&delivery.id, attempted_at.timestamp(), &body, &secret_refs) {
            request = request.insert_header((name, value));
        }
        match request.send_body(body).await {
            Ok(response) if response.status().is_success() => Sent {
                result: AttemptResult {
                    attempted_at,
                    response_status: Some(response.status().as_u16()),
                    error: None,
                    duration_ms: started.elapsed().as_millis() as i64,
                },
                permanent: false,
            },
            Ok(response) => {
                let status = response.status();
                failed(format!("the receiver answered {status}"), Some(status.as_u16()), false)
            }
            Err(e) => failed(format!("no answer: {e}"), None, false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn names_resolving_to_internal_addresses_are_refused_unless_allowed() {
        let refusing = VettingResolver { allow_internal: false };
        let error = refusing.lookup("localhost", 80).await.expect_err("localhost is loopback");
        assert!(error.to_string().contains("internal"), "{error}");
        let allowing = VettingResolver { allow_internal: true };
        let found = allowing.lookup("localhost", 80).await.expect("resolves");
        assert!(!found.is_empty() && found.iter().all(|a| a.ip().is_loopback() && a.port() == 80), "{found:?}");
    }
}
