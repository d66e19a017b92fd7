//! Webhook rules that need no I/O: which event types a subscription may name, and which target
//! URLs are acceptable. A subscription's URL must not let the API be used to reach internal
//! services, so loopback, private, link-local (cloud metadata), shared and multicast addresses are
//! refused unless the operator allows them; the delivery checks the resolved address again.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The event types of SPEC §5, in the order they occur in a program.
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
        Some(url::Host::Ipv6(ip)) => is_internal(IpAddr::V6(ip)),
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
/// IPv6 forms that embed such an IPv4 address.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal_v4(v4);
            }
            is_internal_v6(v6)
        }
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
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first == 0x2001 && ip.segments()[1] == 0x0db8) // documentation
        || (first == 0x0064 && ip.segments()[1] == 0xff9b) // NAT64 (embeds IPv4)
        || ip.segments()[..6] == [0, 0, 0, 0, 0, 0] // IPv4-compatible (deprecated)
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
            "http://0x7f000001/",
            "http://2130706433/",
        ];
        for url in internal {
            assert_eq!(validate_target(url, false).unwrap_err(), TargetError::Internal, "{url}");
            assert!(validate_target(url, true).is_ok(), "{url} when allowed");
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
        assert_eq!(EVENT_TYPES.len(), 12);
    }
}
