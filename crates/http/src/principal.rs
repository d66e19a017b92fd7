//! From a verified token to the principal acting now, checked against the database: a
//! deactivated user or a revoked API client is refused at once by this instance (a change through
//! it empties the cache) and within `principal_cache_ms` by other instances sharing the database.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use keel_commands::principals::{self, Subject};
use keel_commands::{DbConnection, StoreError};
use keel_domain::policy::{Principal, Scope};

use crate::auth::{AuthError, Verified};

/// The principal acting with `verified` now, or why it may not (a 401).
pub fn resolve(conn: &mut DbConnection, verified: Verified) -> Result<Result<Principal, AuthError>, StoreError> {
    let subject = match verified {
        Verified::User { id } => Subject::User(id),
        Verified::ApiClient { client_id, scopes } => Subject::ApiClient { client_id, scopes },
        Verified::External { subject, verified_email } => Subject::External { subject, verified_email },
    };
    Ok(principals::resolve(conn, subject)?.map_err(AuthError::Invalid))
}

/// Principals resolved in the last `ttl`, so that a burst of requests with one token costs one
/// lookup rather than one each. Only users and API clients of Keel's own tokens are kept (an
/// identity provider's subjects are looked up every time). Every change to a user or an API client
/// made through this instance empties it before the response is sent.
pub struct PrincipalCache {
    ttl: Duration,
    entries: Mutex<HashMap<CacheKey, (Instant, Principal)>>,
    /// Bumped by every `clear`: a lookup that started before a change must not be kept after it.
    generation: AtomicU64,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum CacheKey {
    User(keel_domain::UserId),
    /// The token's scopes are part of the key: the principal holds their intersection with the
    /// client's.
    ApiClient(String, BTreeSet<Scope>),
}

/// More entries than this and the cache starts over (a bound, not an eviction policy).
const CACHE_MAX_ENTRIES: usize = 10_000;

impl PrincipalCache {
    /// A cache whose entries live `ttl`; zero turns it off.
    pub fn new(ttl: Duration) -> PrincipalCache {
        PrincipalCache { ttl, entries: Mutex::new(HashMap::new()), generation: AtomicU64::new(0) }
    }

    fn key(verified: &Verified) -> Option<CacheKey> {
        match verified {
            Verified::User { id } => Some(CacheKey::User(*id)),
            Verified::ApiClient { client_id, scopes } => Some(CacheKey::ApiClient(client_id.clone(), scopes.clone())),
            Verified::External { .. } => None,
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<CacheKey, (Instant, Principal)>> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The principal for this token if it was resolved less than `ttl` ago.
    pub fn get(&self, verified: &Verified) -> Option<Principal> {
        if self.ttl.is_zero() {
            return None;
        }
        let key = Self::key(verified)?;
        let entries = self.entries();
        entries.get(&key).filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, principal)| principal.clone())
    }

    /// Read before looking a principal up; pass it to `put`.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Keeps a principal looked up since `generation` was read, unless the cache was cleared
    /// meanwhile (the lookup may have seen the state before the change).
    pub fn put(&self, verified: &Verified, principal: &Principal, generation: u64) {
        let Some(key) = Self::key(verified).filter(|_| !self.ttl.is_zero()) else { return };
        let mut entries = self.entries();
        if self.generation.load(Ordering::SeqCst) != generation {
            return;
        }
        if entries.len() >= CACHE_MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, (Instant::now(), principal.clone()));
    }

    /// Forgets every principal: called after any change to a user or an API client.
    pub fn clear(&self) {
        let mut entries = self.entries();
        self.generation.fetch_add(1, Ordering::SeqCst);
        entries.clear();
    }
}
