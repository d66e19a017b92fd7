//! Abuse limits for the unauthenticated credential endpoints (token, sign-in links): per client IP
//! and per identity (email address or client id), answering 429 with `Retry-After`.
//!
//! The counters live in each instance's memory: behind a load balancer with N instances a caller
//! gets at most N times the limit, which is enough to stop guessing and mail-bombing.

use std::net::IpAddr;
use std::num::NonZeroU32;

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::problem::{ApiError, Problem};

#[derive(Clone, Copy, Debug)]
pub struct LimitSettings {
    pub per_ip_per_minute: u32,
    pub per_identity_per_minute: u32,
    /// Take the client address from `X-Forwarded-For`/`Forwarded` (only behind a trusted proxy).
    pub trust_forwarded: bool,
}

impl Default for LimitSettings {
    fn default() -> Self {
        LimitSettings { per_ip_per_minute: 30, per_identity_per_minute: 5, trust_forwarded: false }
    }
}

pub struct Limits {
    settings: LimitSettings,
    by_ip: DefaultKeyedRateLimiter<String>,
    by_identity: DefaultKeyedRateLimiter<String>,
}

fn quota(per_minute: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(per_minute.max(1)).expect("at least one"))
}

impl Limits {
    pub fn new(settings: LimitSettings) -> Limits {
        Limits {
            settings,
            by_ip: RateLimiter::keyed(quota(settings.per_ip_per_minute)),
            by_identity: RateLimiter::keyed(quota(settings.per_identity_per_minute)),
        }
    }

    fn check(limiter: &DefaultKeyedRateLimiter<String>, key: String, what: &str) -> Result<(), ApiError> {
        if limiter.len() > 100_000 {
            limiter.retain_recent();
        }
        limiter.check_key(&key).map_err(|not_until| {
            let seconds = seconds_until(&not_until);
            ApiError::problem(rate_limited(
                format!("Too many attempts {what}. Retry after {seconds} seconds."),
                seconds,
            ))
        })
    }

    /// The client's address: the TCP peer, or the first forwarded address behind a trusted proxy.
    pub fn client_ip(&self, req: &HttpRequest) -> String {
        let info = req.connection_info();
        let address = if self.settings.trust_forwarded { info.realip_remote_addr() } else { info.peer_addr() };
        let address = address.unwrap_or("unknown");
        address.parse::<std::net::SocketAddr>().map(|a| a.ip().to_string()).unwrap_or_else(|_| {
            address.parse::<IpAddr>().map(|ip| ip.to_string()).unwrap_or_else(|_| address.to_owned())
        })
    }

    /// Counts one attempt from the request's client address.
    pub fn check_ip(&self, req: &HttpRequest, endpoint: &str) -> Result<(), ApiError> {
        Self::check(&self.by_ip, format!("{endpoint}|{}", self.client_ip(req)), "from this address")
    }

    /// Counts one mail of a link to `address`, whichever door asked for it (the sign-in page, the
    /// sign-in API, renewing a page link or a rater's invitation): one budget per address.
    pub fn check_mail_to(&self, address: &str) -> Result<(), ApiError> {
        Self::check(&self.by_identity, format!("mail|{}", address.trim().to_lowercase()), "for this address")
    }

    /// Counts one attempt for an identity (an email address or a client id).
    pub fn check_identity(&self, endpoint: &str, identity: &str) -> Result<(), ApiError> {
        Self::check(&self.by_identity, format!("{endpoint}|{}", identity.trim().to_lowercase()), "for this account")
    }
}

type InformedLimiter = governor::RateLimiter<
    String,
    governor::state::keyed::DefaultKeyedStateStore<String>,
    DefaultClock,
    governor::middleware::StateInformationMiddleware,
>;

/// Per-caller request limits on the API: every answer carries `RateLimit-Limit`,
/// `RateLimit-Remaining` and `RateLimit-Reset`; beyond the limit it is 429 with `Retry-After`.
pub struct ApiLimits {
    per_minute: u32,
    limiter: InformedLimiter,
}

/// The outcome of counting one request.
pub struct Counted {
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the full quota is available again.
    pub reset: u64,
    /// `Some(seconds)` when the request is refused.
    pub retry_after: Option<u64>,
}

impl ApiLimits {
    pub fn new(per_minute: u32) -> ApiLimits {
        let per_minute = per_minute.max(1);
        ApiLimits {
            per_minute,
            limiter: RateLimiter::keyed(quota(per_minute))
                .with_middleware::<governor::middleware::StateInformationMiddleware>(),
        }
    }

    /// Counts one request of `caller`.
    pub fn count(&self, caller: &str) -> Counted {
        if self.limiter.len() > 100_000 {
            self.limiter.retain_recent();
        }
        let per_request = 60.0 / f64::from(self.per_minute);
        match self.limiter.check_key(&caller.to_owned()) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                let reset = (f64::from(self.per_minute - remaining.min(self.per_minute)) * per_request).ceil() as u64;
                Counted { limit: self.per_minute, remaining, reset, retry_after: None }
            }
            Err(not_until) => {
                let seconds = seconds_until(&not_until);
                Counted { limit: self.per_minute, remaining: 0, reset: 60, retry_after: Some(seconds) }
            }
        }
    }
}

/// Whole seconds until the limiter lets the key through again (at least 1).
fn seconds_until(not_until: &governor::NotUntil<<DefaultClock as governor::clock::Clock>::Instant>) -> u64 {
    let wait = not_until.wait_time_from(DefaultClock::default().now());
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// The answer of every rate limit: 429 with `Retry-After`.
pub fn rate_limited(detail: String, retry_after: u64) -> Problem {
    Problem::new(StatusCode::TOO_MANY_REQUESTS, detail).with_code("rate_limited").retry_after(retry_after)
}
