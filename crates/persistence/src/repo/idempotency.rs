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

/// What a claim found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The key is ours: run the request, then `complete` or `release` it.
    Claimed,
    /// The same request finished before: its status, headers (JSON) and body.
    Replay { status: u16, headers: String, body: String },
    /// The same key is being used for a request that is still running.
    InProgress,
    /// The key was used for a different request.
    Mismatch,
}

pub fn claim(conn: &mut DbConnection, actor: &str, key: &str, request_hash: &str) -> Result<Claim, StoreError> {
    let now = time::now();
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
                    (true, None) => Claim::InProgress,
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
            idempotency_keys::expires_at.eq(to_db_time(now + RETENTION)),
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
        Ok(if inserted == 1 { Claim::Claimed } else { Claim::InProgress })
    })
}

/// Stores the response of a claimed key.
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
        ))
        .execute(conn)?;
    Ok(())
}

/// Forgets a claimed key whose request failed on our side, so that a retry runs it again.
pub fn release(conn: &mut DbConnection, actor: &str, key: &str) -> Result<(), StoreError> {
    diesel::delete(idempotency_keys::table.find((actor, key))).execute(conn)?;
    Ok(())
}
