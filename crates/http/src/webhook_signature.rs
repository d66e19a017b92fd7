//! Standard Webhooks signatures (<https://www.standardwebhooks.com/>): secrets in the `whsec_`
//! format, and the `webhook-id`, `webhook-timestamp` and `webhook-signature` headers. The
//! signature is HMAC-SHA256 over `{id}.{timestamp}.{body}`, base64, prefixed `v1,`; while a secret
//! is being rotated, one signature per secret is sent, separated by spaces, so a receiver holding
//! either secret can verify.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const HEADER_ID: &str = "webhook-id";
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
pub const HEADER_SIGNATURE: &str = "webhook-signature";

const PREFIX: &str = "whsec_";

/// A signing secret (24 to 64 bytes).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(whsec_…)")
    }
}

impl Secret {
    /// A new random secret of 32 bytes.
    pub fn generate() -> Secret {
        let mut bytes = vec![0u8; 32];
        crate::auth::rand_fill(&mut bytes);
        Secret(bytes)
    }

    /// Reads `whsec_<base64>`; `None` when it is not one.
    pub fn parse(text: &str) -> Option<Secret> {
        let bytes = STANDARD.decode(text.trim().strip_prefix(PREFIX)?).ok()?;
        (24..=64).contains(&bytes.len()).then_some(Secret(bytes))
    }

    /// The `whsec_<base64>` form, as shown to the subscriber.
    pub fn encoded(&self) -> String {
        format!("{PREFIX}{}", STANDARD.encode(&self.0))
    }

    fn signature(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

/// The `webhook-signature` value: one `v1,` signature per secret, space-separated.
pub fn sign(id: &str, timestamp: i64, body: &[u8], secrets: &[&Secret]) -> String {
    secrets.iter().map(|secret| secret.signature(id, timestamp, body)).collect::<Vec<_>>().join(" ")
}

/// The three headers of a delivery.
pub fn headers(id: &str, timestamp: i64, body: &[u8], secrets: &[&Secret]) -> [(&'static str, String); 3] {
    [
        (HEADER_ID, id.to_owned()),
        (HEADER_TIMESTAMP, timestamp.to_string()),
        (HEADER_SIGNATURE, sign(id, timestamp, body, secrets)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_like_the_reference_implementations() {
        // The example of the Standard Webhooks reference libraries.
        let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let signature = sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#, &[&secret]);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn secrets_round_trip_and_bad_ones_are_refused() {
        let secret = Secret::generate();
        let text = secret.encoded();
        assert!(text.starts_with("whsec_"));
        assert_eq!(Secret::parse(&text), Some(secret.clone()));
        assert_ne!(Secret::generate(), secret, "random");
        assert_eq!(Secret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), None, "prefix required");
        assert_eq!(Secret::parse("whsec_not base64!"), None);
        assert_eq!(Secret::parse("whsec_c2hvcnQ="), None, "too short");
        assert_eq!(format!("{secret:?}"), "Secret(whsec_…)", "never logged");
    }

    #[test]
    fn a_rotation_sends_one_signature_per_secret() {
        let (old, new) = (Secret::generate(), Secret::generate());
        let both = sign("msg_1", 1_700_000_000, b"{}", &[&new, &old]);
        let parts: Vec<&str> = both.split(' ').collect();
        assert_eq!(parts, [sign("msg_1", 1_700_000_000, b"{}", &[&new]), sign("msg_1", 1_700_000_000, b"{}", &[&old])]);
        let [id, timestamp, signature] = headers("msg_1", 1_700_000_000, b"{}", &[&new]);
        assert_eq!(id, ("webhook-id", "msg_1".to_owned()));
        assert_eq!(timestamp, ("webhook-timestamp", "1700000000".to_owned()));
        assert_eq!(signature.1, parts[0]);
    }
}
