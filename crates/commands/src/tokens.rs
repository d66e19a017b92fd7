//! One-time secrets handed to people (links, session cookies, form tokens): random, URL-safe, and
//! stored only as their SHA-256 hash, so a copy of the database signs nobody in.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// A new secret and the hash it is stored under.
#[derive(Clone, Debug)]
pub struct OneTimeToken {
    pub token: String,
    pub hash: String,
}

impl OneTimeToken {
    /// `prefix` (which says what the secret is, for people and secret scanners) and 32 random
    /// bytes, base64url.
    pub fn generate(prefix: &str) -> OneTimeToken {
        let token = format!("{prefix}{}", random(32));
        let hash = hash(&token);
        OneTimeToken { token, hash }
    }
}

/// `bytes` random bytes, base64url (no padding).
pub fn random(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut buffer);
    URL_SAFE_NO_PAD.encode(buffer)
}

/// The hex SHA-256 of a token, as tokens are stored and looked up.
pub fn hash(token: &str) -> String {
    Sha256::digest(token.trim().as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether two secrets are equal, compared in time independent of where they differ.
pub fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_stored_by_hash() {
        let (a, b) = (OneTimeToken::generate("kx_"), OneTimeToken::generate("kx_"));
        assert_ne!(a.token, b.token);
        assert_eq!(a.hash, hash(&a.token));
        assert!(a.token.starts_with("kx_") && a.token.len() == 46, "{}", a.token);
        assert!(same(&a.token, &a.token.clone()));
        assert!(!same(&a.token, &b.token));
        assert!(!same("abc", "abcd"));
    }
}
