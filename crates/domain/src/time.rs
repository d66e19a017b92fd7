//! Time as the domain sees it: UTC, truncated to microseconds so that every backend stores and
//! returns exactly the same instant.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

pub type Timestamp = DateTime<Utc>;

/// The current time in UTC, at microsecond precision.
pub fn now() -> Timestamp {
    truncate(Utc::now())
}

/// Truncates a time to microseconds (the precision PostgreSQL keeps).
pub fn truncate(t: Timestamp) -> Timestamp {
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}
