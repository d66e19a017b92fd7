//! Opaque, tamper-proof pagination cursors.
//!
//! A cursor carries the id to continue after and a fingerprint of the list and filters it was
//! issued for, authenticated with HMAC-SHA256 under a key shared by every instance (kept in the
//! database). A cursor that was edited, truncated, or replayed against other filters is a 400.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::problem::ApiError;

const MAC_LEN: usize = 16;
const SCOPE_LEN: usize = 8;

#[derive(Clone)]
pub struct CursorCodec {
    key: Vec<u8>,
}

impl CursorCodec {
    pub fn new(key: &[u8]) -> CursorCodec {
        CursorCodec { key: key.to_vec() }
    }

    fn mac(&self, payload: &[u8]) -> [u8; MAC_LEN] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(payload);
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; MAC_LEN];
        out.copy_from_slice(&full[..MAC_LEN]);
        out
    }

    fn payload(scope: &str, after: Uuid) -> Vec<u8> {
        let mut payload = Vec::with_capacity(16 + SCOPE_LEN);
        payload.extend_from_slice(after.as_bytes());
        payload.extend_from_slice(&Sha256::digest(scope.as_bytes())[..SCOPE_LEN]);
        payload
    }

    /// A cursor continuing after `after` in the list identified by `scope` (list name + filters).
    pub fn encode(&self, scope: &str, after: Uuid) -> String {
        let mut bytes = Self::payload(scope, after);
        let mac = self.mac(&bytes);
        bytes.extend_from_slice(&mac);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    pub fn decode(&self, scope: &str, cursor: &str) -> Result<Uuid, ApiError> {
        let invalid = || {
            ApiError::bad_request(
                "invalid-cursor",
                "The cursor is not valid for this list: pass next_cursor unchanged, with the same filters.",
                vec![ApiError::field("cursor", "invalid", "not a cursor issued for this list and these filters")],
            )
        };
        let bytes = URL_SAFE_NO_PAD.decode(cursor.as_bytes()).map_err(|_| invalid())?;
        if bytes.len() != 16 + SCOPE_LEN + MAC_LEN {
            return Err(invalid());
        }
        let (payload, mac) = bytes.split_at(16 + SCOPE_LEN);
        let mut check = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        check.update(payload);
        check.verify_truncated_left(mac).map_err(|_| invalid())?;
        let after = Uuid::from_slice(&payload[..16]).map_err(|_| invalid())?;
        if Self::payload(scope, after) != payload {
            return Err(invalid());
        }
        Ok(after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tampering() {
        let codec = CursorCodec::new(b"key");
        let id = Uuid::now_v7();
        let cursor = codec.encode("users?role=coach", id);
        assert_eq!(codec.decode("users?role=coach", &cursor).unwrap(), id);
        assert!(codec.decode("users?role=admin", &cursor).is_err(), "other filters");
        assert!(CursorCodec::new(b"other").decode("users?role=coach", &cursor).is_err(), "other key");
        let mut chars: Vec<char> = cursor.chars().collect();
        chars[3] = if chars[3] == 'A' { 'B' } else { 'A' };
        let tampered: String = chars.into_iter().collect();
        assert!(codec.decode("users?role=coach", &tampered).is_err());
        assert!(codec.decode("users?role=coach", "not-a-cursor!").is_err());
        assert!(codec.decode("users?role=coach", &cursor[..cursor.len() - 2]).is_err());
    }
}
