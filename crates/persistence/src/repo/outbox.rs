//! The transactional outbox: enqueue inside the transaction of the change; a worker claims due
//! messages (several instances never claim the same one: `FOR UPDATE SKIP LOCKED` on
//! PostgreSQL, the write lock on SQLite), delivers them and records the outcome.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use keel_domain::outbox::{Email, MAIL_LANE, Message};
use keel_domain::time::{self, Timestamp};
use keel_domain::{DeliveryId, WebhookId};

use crate::connection::{DbConnection, write_transaction};
use crate::error::StoreError;
use crate::rows::to_db_time;
use crate::schema::outbox;

/// Adds a message; call it inside the transaction of the change that causes it.
pub fn enqueue(conn: &mut DbConnection, message: &Message) -> Result<(), StoreError> {
    let now = to_db_time(time::now());
    let (organization_id, payload) = match message {
        Message::Email { organization_id, email, .. } => {
            (organization_id.map(|o| o.to_string()), serde_json::to_string(email).expect("email serializes"))
        }
        Message::Webhook { organization_id, webhook_id, delivery_id, .. } => (
            Some(organization_id.to_string()),
            serde_json::json!({ "webhook_id": webhook_id, "delivery_id": delivery_id }).to_string(),
        ),
    };
    diesel::insert_into(outbox::table)
        .values((
            outbox::id.eq(uuid::Uuid::now_v7().to_string()),
            outbox::kind.eq(message.kind()),
            outbox::organization_id.eq(organization_id),
            outbox::payload.eq(payload),
            outbox::created_at.eq(now),
            outbox::available_at.eq(now),
            outbox::attempts.eq(0),
            outbox::ordering_key.eq(message.ordering_key()),
            outbox::lane.eq(message.lane()),
        ))
        .execute(conn)?;
    Ok(())
}

/// A message claimed for delivery.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub id: String,
    /// Attempts including this one.
    pub attempts: u32,
    pub message: Message,
    /// The delivery lane it was queued in (see [`Message::lane`]).
    pub lane: String,
}

/// Which messages a claim takes: the mail lane, or webhook lanes other than the ones named
/// (those whose share of the worker is in use) and not of the organizations named.
#[derive(Clone, Debug)]
pub enum Lanes<'a> {
    Mail,
    Webhooks { skip_lanes: &'a [String], skip_organizations: &'a [String] },
}

type PendingRow = (String, String, Option<String>, String, i32, Option<String>, String);

/// Claims up to `limit` due messages of `lanes`, oldest first, for `lease` (a worker that dies
/// mid-delivery lets the lease expire and another picks the message up). A message waits while an
/// earlier one with the same ordering key is still to be delivered, so each key's messages go out
/// in order.
pub fn claim(
    conn: &mut DbConnection,
    lease: Duration,
    limit: i64,
    lanes: Lanes<'_>,
) -> Result<Vec<Claimed>, StoreError> {
    if limit <= 0 {
        return Ok(Vec::new());
    }
    let now = to_db_time(time::now());
    let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60));
    let earlier = diesel::alias!(outbox as earlier);
    write_transaction(conn, |conn| {
        let rows: Vec<PendingRow> = {
            macro_rules! due {
                () => {
                    outbox::table
                        .filter(outbox::delivered_at.is_null())
                        .filter(outbox::failed_at.is_null())
                        .filter(outbox::available_at.le(now))
                        .filter(outbox::locked_until.is_null().or(outbox::locked_until.lt(now)))
                        .filter(diesel::dsl::not(diesel::dsl::exists(
                            earlier
                                .filter(earlier.field(outbox::ordering_key).eq(outbox::ordering_key))
                                .filter(earlier.field(outbox::id).lt(outbox::id))
                                .filter(earlier.field(outbox::delivered_at).is_null())
                                .filter(earlier.field(outbox::failed_at).is_null()),
                        )))
                        .order(outbox::id.asc())
                        .limit(limit)
                        .select((
                            outbox::id,
                            outbox::kind,
                            outbox::organization_id,
                            outbox::payload,
                            outbox::attempts,
                            outbox::ordering_key,
                            outbox::lane,
                        ))
                };
            }
            macro_rules! load {
                ($query:expr) => {
                    match conn {
                        DbConnection::Postgresql(c) => $query.for_update().skip_locked().load(c)?,
                        DbConnection::Sqlite(c) => $query.load(c)?,
                    }
                };
            }
            match lanes {
                Lanes::Mail => load!(due!().filter(outbox::lane.eq(MAIL_LANE))),
                Lanes::Webhooks { skip_lanes, skip_organizations } => {
                    load!(due!().filter(outbox::lane.ne(MAIL_LANE)).filter(outbox::lane.ne_all(skip_lanes)).filter(
                        outbox::organization_id.is_null().or(outbox::organization_id.ne_all(skip_organizations))
                    ))
                }
            }
        };
        let ids: Vec<&String> = rows.iter().map(|r| &r.0).collect();
        diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
            .set((outbox::locked_until.eq(until), outbox::attempts.eq(outbox::attempts + 1)))
            .execute(conn)?;
        rows.into_iter()
            .map(|(id, kind, organization_id, payload, attempts, ordering_key, lane)| {
                let message = match kind.as_str() {
                    "email" => Message::Email {
                        organization_id: organization_id.as_deref().and_then(|o| o.parse().ok()),
                        engagement_id: ordering_key
                            .as_deref()
                            .and_then(|k| k.strip_prefix("engagement:"))
                            .and_then(|e| e.parse().ok()),
                        email: serde_json::from_str::<Email>(&payload)
                            .map_err(|_| crate::rows::corrupt("outbox email", &id))?,
                    },
                    "webhook" => {
                        let ids: WebhookIds =
                            serde_json::from_str(&payload).map_err(|_| crate::rows::corrupt("outbox webhook", &id))?;
                        Message::Webhook {
                            organization_id: organization_id
                                .as_deref()
                                .and_then(|o| o.parse().ok())
                                .ok_or_else(|| crate::rows::corrupt("outbox organization", &id))?,
                            engagement_id: ordering_key
                                .as_deref()
                                .and_then(|k| k.rsplit_once("engagement:"))
                                .and_then(|(_, e)| e.parse().ok()),
                            webhook_id: ids.webhook_id,
                            delivery_id: ids.delivery_id,
                        }
                    }
                    other => return Err(crate::rows::corrupt("outbox kind", other)),
                };
                Ok(Claimed { id, attempts: attempts as u32 + 1, message, lane })
            })
            .collect()
    })
}

#[derive(serde::Deserialize)]
struct WebhookIds {
    webhook_id: WebhookId,
    delivery_id: DeliveryId,
}

/// Records a delivery; the stored copy keeps no secrets.
pub fn mark_delivered(conn: &mut DbConnection, claimed: &Claimed) -> Result<(), StoreError> {
    let now = to_db_time(time::now());
    let query = diesel::update(outbox::table.find(&claimed.id));
    match &claimed.message {
        Message::Email { email, .. } => query
            .set((
                outbox::delivered_at.eq(now),
                outbox::locked_until.eq(None::<NaiveDateTime>),
                outbox::payload.eq(serde_json::to_string(&email.redacted()).expect("email serializes")),
                outbox::last_error.eq(None::<String>),
            ))
            .execute(conn)?,
        Message::Webhook { .. } => query
            .set((
                outbox::delivered_at.eq(now),
                outbox::locked_until.eq(None::<NaiveDateTime>),
                outbox::last_error.eq(None::<String>),
            ))
            .execute(conn)?,
    };
    Ok(())
}

/// Records a failed attempt: retried at `retry_at`, or given up when it is `None`.
pub fn mark_failed(
    conn: &mut DbConnection,
    id: &str,
    error: &str,
    retry_at: Option<Timestamp>,
) -> Result<(), StoreError> {
    let now = to_db_time(time::now());
    let error: String = error.chars().take(1000).collect();
    let query = diesel::update(outbox::table.find(id));
    match retry_at {
        Some(at) => query
            .set((
                outbox::available_at.eq(to_db_time(at)),
                outbox::locked_until.eq(None::<NaiveDateTime>),
                outbox::last_error.eq(error),
            ))
            .execute(conn)?,
        None => query
            .set((
                outbox::failed_at.eq(now),
                outbox::locked_until.eq(None::<NaiveDateTime>),
                outbox::last_error.eq(error),
            ))
            .execute(conn)?,
    };
    Ok(())
}

/// Messages not yet delivered nor given up (the queue depth).
pub fn pending(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(outbox::table
        .filter(outbox::delivered_at.is_null())
        .filter(outbox::failed_at.is_null())
        .count()
        .get_result(conn)?)
}

/// The queue, per message kind, across every instance sharing the database.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueueStats {
    pub kind: String,
    /// Not yet delivered nor given up.
    pub pending: i64,
    pub delivered: i64,
    /// Given up after the last retry (or a permanent error).
    pub failed: i64,
    /// Delivery attempts made, successful or not.
    pub attempts: i64,
    /// When the oldest pending message was queued.
    pub oldest_pending: Option<Timestamp>,
}

/// The queue's state per kind (grouped counts; no rows are loaded).
pub fn stats(conn: &mut DbConnection) -> Result<Vec<QueueStats>, StoreError> {
    use diesel::dsl::{count_star, min, sum};
    let mut by_kind: std::collections::BTreeMap<String, QueueStats> = Message::KINDS
        .iter()
        .map(|kind| (kind.to_string(), QueueStats { kind: kind.to_string(), ..QueueStats::default() }))
        .collect();
    let totals: Vec<(String, i64, Option<i64>)> =
        outbox::table.group_by(outbox::kind).select((outbox::kind, count_star(), sum(outbox::attempts))).load(conn)?;
    for (kind, _, attempts) in totals {
        by_kind.insert(kind.clone(), QueueStats { kind, attempts: attempts.unwrap_or(0), ..QueueStats::default() });
    }
    let pending: Vec<(String, i64, Option<NaiveDateTime>)> = outbox::table
        .filter(outbox::delivered_at.is_null())
        .filter(outbox::failed_at.is_null())
        .group_by(outbox::kind)
        .select((outbox::kind, count_star(), min(outbox::created_at)))
        .load(conn)?;
    for (kind, count, oldest) in pending {
        let entry = by_kind.entry(kind.clone()).or_insert_with(|| QueueStats { kind, ..QueueStats::default() });
        entry.pending = count;
        entry.oldest_pending = oldest.map(crate::rows::from_db_time);
    }
    let delivered: Vec<(String, i64)> = outbox::table
        .filter(outbox::delivered_at.is_not_null())
        .group_by(outbox::kind)
        .select((outbox::kind, count_star()))
        .load(conn)?;
    for (kind, count) in delivered {
        by_kind.entry(kind.clone()).or_insert_with(|| QueueStats { kind, ..QueueStats::default() }).delivered = count;
    }
    let failed: Vec<(String, i64)> = outbox::table
        .filter(outbox::failed_at.is_not_null())
        .group_by(outbox::kind)
        .select((outbox::kind, count_star()))
        .load(conn)?;
    for (kind, count) in failed {
        by_kind.entry(kind.clone()).or_insert_with(|| QueueStats { kind, ..QueueStats::default() }).failed = count;
    }
    Ok(by_kind.into_values().collect())
}
