//! Idempotency keys: claim a key before running a POST, store its response after, replay it for
//! repeats. The claim is a row insert, so two instances (or two concurrent requests) cannot both
//! run the same keyed request.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use keel_domain::time;

use crate::connection::{DbConnection, write_transaction};
use crate::error::StoreError;
use crate::rows::to_db_time;
use crate::schema::idempotency_keys;

/// How long a key's response is kept.
pub const RETENTION: chrono::Duration = chrono::Duration::hours(24);

/// How long a claim holds a key while its request runs. A request whose response was never
/// recorded (the database went away mid-request, or the process was killed) leaves its claim
/// behind; once the lease is over a retry takes the key and runs the request again, instead of
/// being told "in progress" for a day. Keel's requests take seconds (a connection is waited for
/// at most `db_acquire_timeout`, shutdown drains within its grace period), far less than this.
pub const LEASE: chrono::Duration = chrono::Duration::seconds(60);

/// What a claim found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The key is ours: run the request, then `complete` or `release` it.
    Claimed,
    /// The same request finished before: its status, headers (JSON) and body.
    Replay { status: u16, headers: String, body: String },
    /// The same key is being used for a request that is still running (or whose claim has not
    /// yet run out: at most this many seconds more).
    InProgress { retry_after_secs: u64 },
    /// The key was used for a different request.
    Mismatch,
}

pub fn claim(conn: &mut DbConnection, actor: &str, key: &str, request_hash: &str) -> Result<Claim, StoreError> {
    claim_at(conn, actor, key, request_hash, time::now())
}

/// [`claim`] as of `now`.
pub fn claim_at(
    conn: &mut DbConnection,
    actor: &str,
    key: &str,
    request_hash: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Claim, StoreError> {
    write_transaction(conn, |conn| {
        type Row = (String, Option<i32>, Option<String>, Option<String>, NaiveDateTime);
        let existing: Option<Row> = super::optional(
            idempotency_keys::table
                .find((actor, key))
                .select((
                    idempotency_keys::request_hash,
                    idempotency_keys::status,
                    idempotency_keys::headers,
                    idempotency_keys::body,
                    idempotency_keys::expires_at,
                ))
                .first(conn),
        )?;
        if let Some((hash, status, headers, body, expires_at)) = existing {
            if expires_at > to_db_time(now) {
                return Ok(match (hash == request_hash, status) {
                    (false, _) => Claim::Mismatch,
                    (true, None) => Claim::InProgress { retry_after_secs: seconds_until(now, expires_at) },
                    (true, Some(status)) => Claim::Replay {
                        status: u16::try_from(status).unwrap_or(500),
                        headers: headers.unwrap_or_default(),
                        body: body.unwrap_or_default(),
                    },
                });
            }
            diesel::delete(idempotency_keys::table.find((actor, key))).execute(conn)?;
        }
        let row = (
            idempotency_keys::actor.eq(actor),
            idempotency_keys::key.eq(key),
            idempotency_keys::request_hash.eq(request_hash),
            idempotency_keys::created_at.eq(to_db_time(now)),
            idempotency_keys::expires_at.eq(to_db_time(now + LEASE)),
        );
        // A concurrent claim of the same key (another instance, between our read and this insert)
        // makes the insert do nothing: that request runs, this one is "in progress".
        let inserted = match conn {
            DbConnection::Postgresql(c) => {
                diesel::insert_into(idempotency_keys::table).values(row).on_conflict_do_nothing().execute(c)?
            }
            DbConnection::Sqlite(c) => {
                diesel::insert_into(idempotency_keys::table).values(row).on_conflict_do_nothing().execute(c)?
            }
        };
        Ok(if inserted == 1 { Claim::Claimed } else { Claim::InProgress { retry_after_secs: 1 } })
    })
}

fn seconds_until(now: chrono::DateTime<chrono::Utc>, until: NaiveDateTime) -> u64 {
    let left = (until - to_db_time(now)).num_seconds();
    u64::try_from(left).unwrap_or(0).clamp(1, 60)
}

/// Stores the response of a claimed key, kept for [`RETENTION`] from now.
pub fn complete(
    conn: &mut DbConnection,
    actor: &str,
    key: &str,
    status: u16,
    headers: &str,
    body: &str,
) -> Result<(), StoreError> {
    diesel::update(idempotency_keys::table.find((actor, key)))
        .set((
            idempotency_keys::status.eq(i32::from(status)),
            idempotency_keys::headers.eq(headers),
            idempotency_keys::body.eq(body),
            idempotency_keys::expires_at.eq(to_db_time(time::now() + RETENTION)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Forgets a claimed key whose request failed on our side, so that a retry runs it again.
pub fn release(conn: &mut DbConnection, actor: &str, key: &str) -> Result<(), StoreError> {
    diesel::delete(idempotency_keys::table.find((actor, key))).execute(conn)?;
    Ok(())
}
