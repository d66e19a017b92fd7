//! Webhook rules that need no I/O: which event types a subscription may name, and which target
//! URLs are acceptable. A subscription's URL must not let the API be used to reach internal
//! services, so loopback, private, link-local (cloud metadata), shared and multicast addresses are
//! refused unless the operator allows them; the delivery checks the resolved address again.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use serde_json::{Value, json};

use crate::error::{DomainError, ValidationErrors};
use crate::event::DomainEvent;
use crate::id::{EventId, OrganizationId, WebhookId};
use crate::time::{self, Timestamp};
use crate::validate;
use crate::wire::wire_enum;

/// The event types of docs/operations.md (events), in the order they occur in a program, then those of templates,
/// groups and contracts.
pub const EVENT_TYPES: &[&str] = &[
    "engagement.created",
    "engagement.phase_changed",
    "design.submitted",
    "design.decided",
    "design.approved",
    "session.scheduled",
    "session.completed",
    "extension.requested",
    "extension.decided",
    "review.completed",
    "rater.invited",
    "feedback.submitted",
    "template.created",
    "template.updated",
    "group.created",
    "group.member_joined",
    "group.member_left",
    "group.session_scheduled",
    "group.session_completed",
    "contract.created",
    "contract.updated",
    "contract.deleted",
];

/// The longest target URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// Why a target URL is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("is not a valid absolute URL")]
    Invalid,
    #[error("is longer than {MAX_URL_LEN} characters")]
    TooLong,
    #[error("must use http or https")]
    Scheme,
    #[error("must not contain a user name or password")]
    Credentials,
    #[error("must not have a fragment")]
    Fragment,
    #[error("points to a loopback, private or otherwise internal address")]
    Internal,
}

impl TargetError {
    /// A stable machine-readable code for problem documents.
    pub fn code(&self) -> &'static str {
        match self {
            TargetError::Invalid => "invalid_url",
            TargetError::TooLong => "too_long",
            TargetError::Scheme => "unsupported_scheme",
            TargetError::Credentials => "credentials_in_url",
            TargetError::Fragment => "fragment_in_url",
            TargetError::Internal => "internal_address",
        }
    }
}

/// Checks a subscription's target URL and returns it normalized. With `allow_internal`, internal
/// addresses are accepted (for receivers on the same network, set by the operator).
pub fn validate_target(raw: &str, allow_internal: bool) -> Result<url::Url, TargetError> {
    let raw = raw.trim();
    if raw.len() > MAX_URL_LEN {
        return Err(TargetError::TooLong);
    }
    let url = url::Url::parse(raw).map_err(|_| TargetError::Invalid)?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(TargetError::Scheme);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(TargetError::Credentials);
    }
    if url.fragment().is_some() {
        return Err(TargetError::Fragment);
    }
    let internal = match url.host() {
        None => return Err(TargetError::Invalid),
        Some(url::Host::Ipv4(ip)) => is_internal(IpAddr::V4(ip)),
        // A literal that embeds or translates an IPv4 address is refused whatever it embeds: name
        // the IPv4 address itself.
        Some(url::Host::Ipv6(ip)) => is_internal(IpAddr::V6(ip)) || embedded_v4(ip).is_some(),
        Some(url::Host::Domain(name)) => is_internal_name(name),
    };
    if internal && !allow_internal {
        return Err(TargetError::Internal);
    }
    Ok(url)
}

/// Host names that always mean this machine or the local network.
fn is_internal_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name.ends_with(".local")
        || name.ends_with(".internal")
        || !name.contains('.')
}

/// Whether an address is not on the public internet: loopback, private, link-local, shared
/// (carrier-grade NAT), unspecified, broadcast, multicast, documentation or reserved ranges, and
/// IPv6 forms that embed or translate such an IPv4 address (docs/operations.md, webhooks).
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => embedded_v4(v6).is_some_and(is_internal_v4) || is_internal_v6(v6),
    }
}

/// The IPv4 address that an IPv6 address embeds or translates, for each range of the IANA
/// special-purpose registry (RFC 6890) and RFC 6052/6145 that does: IPv4-mapped
/// `::ffff:0:0/96`, SIIT's IPv4-translated `::ffff:0:0:0/96`, the deprecated IPv4-compatible
/// `::/96`, NAT64's well-known prefix `64:ff9b::/96`, 6to4 `2002::/16` (bits 16-47) and Teredo
/// `2001::/32` (the client's address, inverted, in the last 32 bits).
pub fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let join = |high: u16, low: u16| Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
    match s {
        [0, 0, 0, 0, 0, 0xffff, high, low]
        | [0, 0, 0, 0, 0xffff, 0, high, low]
        | [0, 0, 0, 0, 0, 0, high, low]
        | [0x64, 0xff9b, 0, 0, 0, 0, high, low] => Some(join(high, low)),
        [0x2002, high, low, ..] => Some(join(high, low)),
        [0x2001, 0, .., high, low] => Some(Ipv4Addr::from(!u32::from(join(high, low)))),
        _ => None,
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space, RFC 6598
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

fn is_internal_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || s[..6] == [0, 0, 0, 0, 0, 0] // IPv4-compatible (deprecated), RFC 4291
        || s[..3] == [0x64, 0xff9b, 1] // NAT64 for local use, RFC 8215
        || s[..4] == [0x0100, 0, 0, 0] // discard-only, RFC 6666
        || (s[0] == 0x2001 && s[1] < 0x0200) // IETF protocol assignments (Teredo, benchmarking, ORCHID), RFC 2928
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation, RFC 3849
        || (s[0] == 0x3fff && s[1] & 0xf000 == 0) // documentation, RFC 9637 (3fff::/20)
        || s[0] == 0x5f00 // segment routing SIDs, RFC 9602
        || (s[0] & 0xfe00) == 0xfc00 // unique local
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated, still routed inside some networks)
}

/// Checks the event types of a subscription: at least one, each known; returned without repeats,
/// in the order of [`EVENT_TYPES`]. The error names the first unknown type.
pub fn validate_event_types(types: &[String]) -> Result<Vec<&'static str>, Option<String>> {
    if let Some(unknown) = types.iter().find(|t| !EVENT_TYPES.contains(&t.as_str())) {
        return Err(Some(unknown.clone()));
    }
    let chosen: Vec<&'static str> = EVENT_TYPES.iter().copied().filter(|t| types.iter().any(|c| c == t)).collect();
    if chosen.is_empty() {
        return Err(None);
    }
    Ok(chosen)
}

/// The longest description accepted.
pub const DESCRIPTION_MAX: usize = 500;

/// A subscription of an organization to some event types, delivered to `url` and signed with
/// `secret` (and, for a while after a rotation, with `previous_secret` too).
#[derive(Clone, Debug, PartialEq)]
pub struct Webhook {
    pub id: WebhookId,
    pub organization_id: OrganizationId,
    pub url: String,
    pub description: Option<String>,
    /// Known event types, without repeats, in the order of [`EVENT_TYPES`].
    pub event_types: Vec<&'static str>,
    pub enabled: bool,
    /// The signing secret in its `whsec_…` form (opaque to the domain).
    pub secret: String,
    /// The secret before the last rotation, still signed with until `previous_secret_expires_at`.
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<Timestamp>,
    /// When the current run of failed attempts began (`None` while deliveries succeed).
    pub failing_since: Option<Timestamp>,
    /// Why Keel disabled the subscription, when it did.
    pub disabled_reason: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewWebhook {
    pub url: String,
    pub event_types: Vec<String>,
    pub enabled: Option<bool>,
    pub description: Option<String>,
}

/// A partial update; `None` leaves a field as it is (`description: Some(None)` clears it).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub enabled: Option<bool>,
    pub description: Option<Option<String>>,
}

fn check_url(errors: &mut ValidationErrors, raw: &str, allow_internal: bool) -> Option<String> {
    match validate_target(raw, allow_internal) {
        Ok(url) => Some(url.to_string()),
        Err(e) => {
            errors.add("url", e.code(), format!("the URL {e}"));
            None
        }
    }
}

fn check_event_types(errors: &mut ValidationErrors, types: &[String]) -> Option<Vec<&'static str>> {
    match validate_event_types(types) {
        Ok(types) => Some(types),
        Err(Some(unknown)) => {
            errors.add(
                "event_types",
                "unknown_event_type",
                format!("unknown event type {unknown:?}; known: {}", EVENT_TYPES.join(", ")),
            );
            None
        }
        Err(None) => {
            errors.add("event_types", "required", "name at least one event type");
            None
        }
    }
}

fn check_description(errors: &mut ValidationErrors, description: Option<&str>) -> Option<String> {
    description
        .and_then(|d| validate::text_multiline(errors, "description", d, DESCRIPTION_MAX))
        .filter(|d| !d.is_empty())
}

impl Webhook {
    /// Validates a new subscription. `secret` is made by the caller (a random generator).
    pub fn create(
        organization_id: OrganizationId,
        input: NewWebhook,
        secret: String,
        allow_internal: bool,
    ) -> Result<Webhook, DomainError> {
        let mut errors = ValidationErrors::new();
        let url = check_url(&mut errors, &input.url, allow_internal);
        let event_types = check_event_types(&mut errors, &input.event_types);
        let description = check_description(&mut errors, input.description.as_deref());
        errors.finish(())?;
        let now = time::now();
        Ok(Webhook {
            id: WebhookId::generate(),
            organization_id,
            url: url.expect("validated"),
            description,
            event_types: event_types.expect("validated"),
            enabled: input.enabled.unwrap_or(true),
            secret,
            previous_secret: None,
            previous_secret_expires_at: None,
            failing_since: None,
            disabled_reason: None,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }

    /// Applies a partial update. Enabling a subscription again starts it afresh: the record of
    /// failures and the reason it was disabled are cleared.
    pub fn update(&self, patch: &WebhookPatch, allow_internal: bool) -> Result<Webhook, DomainError> {
        let mut errors = ValidationErrors::new();
        let mut next = self.clone();
        if let Some(url) = &patch.url {
            next.url = check_url(&mut errors, url, allow_internal).unwrap_or_default();
        }
        if let Some(types) = &patch.event_types {
            next.event_types = check_event_types(&mut errors, types).unwrap_or_default();
        }
        if let Some(description) = &patch.description {
            next.description = check_description(&mut errors, description.as_deref());
        }
        errors.finish(())?;
        if let Some(enabled) = patch.enabled {
            if enabled && !self.enabled {
                next.failing_since = None;
                next.disabled_reason = None;
            }
            next.enabled = enabled;
        }
        next.updated_at = time::now();
        next.version += 1;
        Ok(next)
    }

    /// Replaces the secret; the previous one is still signed with for `overlap`, so receivers can
    /// switch without losing a delivery.
    pub fn rotate_secret(&self, new_secret: String, overlap: Duration) -> Webhook {
        let now = time::now();
        let overlap = chrono::Duration::from_std(overlap).unwrap_or(chrono::Duration::days(1));
        Webhook {
            previous_secret: Some(self.secret.clone()),
            previous_secret_expires_at: Some(now + overlap),
            secret: new_secret,
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        }
    }

    /// The secrets a delivery made at `now` is signed with: the current one, and the previous one
    /// during the overlap after a rotation.
    pub fn signing_secrets(&self, now: Timestamp) -> Vec<&str> {
        let mut secrets = vec![self.secret.as_str()];
        if let (Some(previous), Some(until)) = (&self.previous_secret, self.previous_secret_expires_at)
            && now < until
        {
            secrets.push(previous);
        }
        secrets
    }

    /// Whether an event of this type is delivered to the subscription.
    pub fn wants(&self, event_type: &str) -> bool {
        self.enabled && self.event_types.contains(&event_type)
    }

    /// After a failed attempt at `now`: the subscription with its failure run recorded, disabled
    /// (with the reason) once deliveries have failed for `disable_after`. The second value is
    /// whether this failure disabled it.
    pub fn after_failure(&self, now: Timestamp, disable_after: Duration) -> (Webhook, bool) {
        let since = self.failing_since.unwrap_or(now);
        let mut next = Webhook { failing_since: Some(since), ..self.clone() };
        let limit = chrono::Duration::from_std(disable_after).unwrap_or(chrono::Duration::days(3));
        if self.enabled && now - since >= limit {
            next.enabled = false;
            next.disabled_reason = Some(format!(
                "deliveries failed continuously since {}; fix the receiver, then enable the subscription again",
                since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ));
            next.updated_at = now;
            next.version += 1;
            return (next, true);
        }
        (next, false)
    }

    /// After a successful delivery: the failure run ends.
    pub fn after_success(&self) -> Option<Webhook> {
        self.failing_since.map(|_| Webhook { failing_since: None, ..self.clone() })
    }
}

wire_enum!(
    /// Where a delivery stands.
    DeliveryStatus as DeliveryStatusDto {
        /// Queued, or waiting for its next retry.
        Pending => "pending",
        /// The receiver answered 2xx.
        Delivered => "delivered",
        /// Retries ran out (about a day), or the subscription was disabled, deleted or its URL is
        /// no longer acceptable meanwhile; it can be re-sent.
        Failed => "failed",
    }
);

/// The body of a webhook delivery (the Standard Webhooks payload shape): the event's id, type and
/// time, and its data (ids and states only, as in every event).
pub fn payload(event_id: EventId, event: &DomainEvent) -> Value {
    json!({
        "id": event_id,
        "type": event.event_type,
        "timestamp": event.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "organization_id": event.organization_id,
        "data": event.payload,
    })
}

/// Whether a re-send of a delivery in `status` is allowed (only failed ones are re-sent; pending
/// ones are still being tried and delivered ones arrived).
pub fn check_resend(status: DeliveryStatus, webhook: &Webhook) -> Result<(), DomainError> {
    if !webhook.enabled {
        return Err(DomainError::conflict(
            "webhook_disabled",
            "the subscription is disabled; enable it (PATCH enabled=true) before re-sending",
        ));
    }
    match status {
        DeliveryStatus::Failed => Ok(()),
        other => Err(DomainError::conflict(
            "delivery_not_failed",
            format!("only failed deliveries can be re-sent; this one is {}", other.as_str()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_http_and_https_targets_are_accepted() {
        for url in ["https://hr.example.com/keel/hooks", "http://203.0.114.7:8080/x?y=1", "https://[2a00:1450::1]/h"] {
            assert!(validate_target(url, false).is_ok(), "{url}");
        }
        assert_eq!(validate_target("  https://hr.example.com  ", false).unwrap().as_str(), "https://hr.example.com/");
    }

    #[test]
    fn malformed_and_unsafe_targets_are_refused() {
        let cases = [
            ("not a url", TargetError::Invalid),
            ("/relative/path", TargetError::Invalid),
            ("ftp://files.example.com/", TargetError::Scheme),
            ("file:///etc/passwd", TargetError::Scheme),
            ("javascript:alert(1)", TargetError::Scheme),
            ("https://user:pw@hr.example.com/", TargetError::Credentials),
            ("https://hr.example.com/#frag", TargetError::Fragment),
        ];
        for (url, expected) in cases {
            assert_eq!(validate_target(url, false).unwrap_err(), expected, "{url}");
        }
        let long = format!("https://hr.example.com/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(validate_target(&long, false).unwrap_err(), TargetError::TooLong);
    }

    #[test]
    fn internal_addresses_are_refused_unless_allowed() {
        let internal = [
            "http://127.0.0.1/",
            "http://127.1.2.3:9000/",
            "http://localhost:8080/",
            "http://api.localhost/",
            "http://printer.local/",
            "http://metadata.google.internal/",
            "http://intranet/",
            "http://10.0.0.5/",
            "http://172.16.3.4/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:10.0.0.1]/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://[64:ff9b::a00:1]/",
            "http://[2002:7f00:1::]/",
            "http://[2002:c0a8:101::1]/",
            "http://[fec0::1]/",
            "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
            "http://[100::1]/",
            "http://0x7f000001/",
            "http://2130706433/",
            // Issue 22, finding 6: SIIT's IPv4-translated form of loopback.
            "http://[::ffff:0:127.0.0.1]:8080/",
        ];
        for url in internal {
            assert_eq!(validate_target(url, false).unwrap_err(), TargetError::Internal, "{url}");
            assert!(validate_target(url, true).is_ok(), "{url} when allowed");
        }
    }

    /// Every IPv6 range that embeds or translates IPv4 (RFC 6052, 6145, 6890), and the other
    /// special-purpose ranges: refused as webhook targets, whatever IPv4 address is inside, and
    /// internal when resolved exactly when what they embed is.
    #[test]
    fn ipv6_ranges_that_embed_or_translate_ipv4_are_refused() {
        // (range, literal form, whether the embedded address is read back, whether a resolved
        // address is internal only when what it embeds is — else always).
        let table = [
            ("IPv4-mapped", "::ffff:{v4}", true, true),
            ("IPv4-translated (SIIT)", "::ffff:0:{v4}", true, true),
            ("IPv4-compatible", "::{v4}", true, false),
            ("NAT64 well-known prefix", "64:ff9b::{v4}", true, true),
            ("NAT64 local use", "64:ff9b:1::{v4}", false, false),
            ("6to4", "2002:{hex}::1", true, true),
            ("Teredo", "2001:0:4136:e378:8000:63bf:{inverted}", true, false),
            ("IETF protocol assignments", "2001:2::{v4}", false, false),
        ];
        for v4 in ["127.0.0.1", "10.0.0.1", "169.254.169.254", "192.168.1.1", "8.8.8.8", "1.1.1.1"] {
            let ip: Ipv4Addr = v4.parse().unwrap();
            let bits = u32::from(ip);
            let hex = format!("{:x}:{:x}", bits >> 16, bits & 0xffff);
            let inverted = format!("{:x}:{:x}", (!bits) >> 16, (!bits) & 0xffff);
            for (name, form, embeds, as_embedded) in table {
                let literal = form.replace("{v4}", v4).replace("{hex}", &hex).replace("{inverted}", &inverted);
                let v6: Ipv6Addr = literal.parse().unwrap_or_else(|_| panic!("{name}: {literal}"));
                let url = format!("http://[{v6}]:8080/hook");
                assert_eq!(validate_target(&url, false).unwrap_err(), TargetError::Internal, "{name}: {url}");
                assert!(validate_target(&url, true).is_ok(), "{name}: {url} when allowed");
                if embeds {
                    assert_eq!(embedded_v4(v6), Some(ip), "{name}: {v6}");
                }
                let internal = !as_embedded || is_internal_v4(ip);
                assert_eq!(is_internal(IpAddr::V6(v6)), internal, "{name}: {v6} resolved");
            }
        }
        for special in
            ["::", "::1", "100::1", "2001:db8::1", "3fff::1", "5f00::1", "fc00::1", "fe80::1", "fec0::1", "ff02::1"]
        {
            let v6: Ipv6Addr = special.parse().unwrap();
            assert!(is_internal(IpAddr::V6(v6)), "{special}");
        }
        for public in ["2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "2001:4860:4860::8888"] {
            let url = format!("http://[{public}]/hook");
            assert!(validate_target(&url, false).is_ok(), "{url}");
        }
    }

    #[test]
    fn event_types_are_known_and_deduplicated() {
        let types = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            validate_event_types(&types(&["session.completed", "engagement.created", "session.completed"])),
            Ok(vec!["engagement.created", "session.completed"])
        );
        assert_eq!(validate_event_types(&types(&[])), Err(None));
        assert_eq!(validate_event_types(&types(&["engagement.deleted"])), Err(Some("engagement.deleted".into())));
        assert_eq!(EVENT_TYPES.len(), 22, "SPEC §5's twelve, two of templates, five of groups and three of contracts");
    }

    fn webhook() -> Webhook {
        let input = NewWebhook {
            url: "https://hr.example.com/hooks".into(),
            event_types: vec!["session.completed".into(), "engagement.created".into(), "session.completed".into()],
            ..NewWebhook::default()
        };
        Webhook::create(OrganizationId::generate(), input, "whsec_a".into(), false).unwrap()
    }

    #[test]
    fn a_new_subscription_is_validated_and_enabled() {
        let hook = webhook();
        assert_eq!(hook.event_types, ["engagement.created", "session.completed"]);
        assert!(hook.enabled && hook.wants("session.completed") && !hook.wants("design.approved"));
        let bad = NewWebhook {
            url: "ftp://x.example.com".into(),
            event_types: vec!["nope".into()],
            description: Some("x".repeat(DESCRIPTION_MAX + 1)),
            ..NewWebhook::default()
        };
        let Err(DomainError::Validation(errors)) = Webhook::create(OrganizationId::generate(), bad, "s".into(), true)
        else {
            panic!("refused")
        };
        let codes: Vec<_> = errors.0.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            codes,
            [("url", "unsupported_scheme"), ("event_types", "unknown_event_type"), ("description", "too_long")]
        );
        let internal = NewWebhook {
            url: "http://10.0.0.8/h".into(),
            event_types: vec!["review.completed".into()],
            ..NewWebhook::default()
        };
        assert!(Webhook::create(OrganizationId::generate(), internal.clone(), "s".into(), false).is_err());
        assert!(Webhook::create(OrganizationId::generate(), internal, "s".into(), true).is_ok());
    }

    #[test]
    fn rotation_signs_with_both_secrets_until_the_overlap_ends() {
        let hook = webhook().rotate_secret("whsec_b".into(), Duration::from_secs(3600));
        let now = time::now();
        assert_eq!(hook.signing_secrets(now), ["whsec_b", "whsec_a"]);
        assert_eq!(hook.signing_secrets(now + chrono::Duration::hours(2)), ["whsec_b"]);
        assert_eq!(hook.version, 2);
    }

    #[test]
    fn failing_for_long_disables_and_enabling_again_starts_afresh() {
        let hook = webhook();
        let start = time::now();
        let (hook, disabled) = hook.after_failure(start, Duration::from_secs(3600));
        assert!(!disabled && hook.enabled && hook.failing_since == Some(start));
        let (hook, disabled) = hook.after_failure(start + chrono::Duration::minutes(30), Duration::from_secs(3600));
        assert!(!disabled && hook.failing_since == Some(start), "the run began at the first failure");
        let (hook, disabled) = hook.after_failure(start + chrono::Duration::minutes(61), Duration::from_secs(3600));
        assert!(disabled && !hook.enabled && hook.disabled_reason.is_some() && !hook.wants("session.completed"));
        let (again, disabled) = hook.after_failure(start + chrono::Duration::minutes(90), Duration::from_secs(3600));
        assert!(!disabled && !again.enabled, "disabled once");
        let enabled = hook.update(&WebhookPatch { enabled: Some(true), ..WebhookPatch::default() }, false).unwrap();
        assert!(enabled.enabled && enabled.failing_since.is_none() && enabled.disabled_reason.is_none());
        assert!(webhook().after_success().is_none(), "nothing to clear");
        assert!(
            webhook().after_failure(start, Duration::from_secs(60)).0.after_success().unwrap().failing_since.is_none()
        );
    }

    #[test]
    fn only_failed_deliveries_of_enabled_subscriptions_are_resent() {
        let hook = webhook();
        assert!(check_resend(DeliveryStatus::Failed, &hook).is_ok());
        for status in [DeliveryStatus::Pending, DeliveryStatus::Delivered] {
            assert!(matches!(
                check_resend(status, &hook),
                Err(DomainError::Conflict { code: "delivery_not_failed", .. })
            ));
        }
        let off = hook.update(&WebhookPatch { enabled: Some(false), ..WebhookPatch::default() }, false).unwrap();
        assert!(matches!(
            check_resend(DeliveryStatus::Failed, &off),
            Err(DomainError::Conflict { code: "webhook_disabled", .. })
        ));
        assert_eq!("failed".parse(), Ok(DeliveryStatus::Failed));
        assert_eq!("x".parse::<DeliveryStatus>(), Err(()));
    }
}
