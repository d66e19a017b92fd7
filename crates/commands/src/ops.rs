//! What operations read: the delivery queue's state for the metrics, and the idempotency store of
//! the HTTP front (its keys, claims and stored answers).

pub use keel_persistence::repo::idempotency::{self, Claim};
pub use keel_persistence::repo::outbox::QueueStats;
use keel_persistence::{DbConnection, StoreError};

/// Depth, deliveries, failures and the oldest waiting message, per kind of message.
pub fn queue_stats(conn: &mut DbConnection) -> Result<Vec<QueueStats>, StoreError> {
    keel_persistence::repo::outbox::stats(conn)
}
