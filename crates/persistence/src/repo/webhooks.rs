//! Webhook subscriptions, their deliveries and each delivery attempt. Deliveries are made in the
//! transaction of the change that emits the event ([`fan_out`], called by `events::append`) and
//! sent by the outbox worker, which records every attempt with [`record_attempt`].

use chrono::NaiveDateTime;
use diesel::prelude::*;
use keel_domain::event::DomainEvent;
use keel_domain::outbox::Message;
use keel_domain::page::{Page, PageRequest};
use keel_domain::time::{self, Timestamp};
use keel_domain::webhook::{self, DeliveryStatus, EVENT_TYPES, Webhook};
use keel_domain::{DeliveryId, EventId, OrganizationId, WebhookId};
use uuid::Uuid;

use crate::connection::{DbConnection, write_transaction};
use crate::error::StoreError;
use crate::repo::outbox;
use crate::rows::{corrupt, from_db_time, to_db_time};
use crate::schema::{webhook_attempts, webhook_deliveries, webhooks};

const RESOURCE: &str = "webhook";

#[derive(Queryable, Selectable, Insertable, AsChangeset, Debug, Clone)]
#[diesel(table_name = webhooks, treat_none_as_null = true)]
struct WebhookRow {
    id: String,
    organization_id: String,
    url: String,
    description: Option<String>,
    /// Space-separated event types.
    event_types: String,
    enabled: i32,
    secret: String,
    previous_secret: Option<String>,
    previous_secret_expires_at: Option<NaiveDateTime>,
    failing_since: Option<NaiveDateTime>,
    disabled_reason: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

impl From<&Webhook> for WebhookRow {
    fn from(w: &Webhook) -> Self {
        WebhookRow {
            id: w.id.to_string(),
            organization_id: w.organization_id.to_string(),
            url: w.url.clone(),
            description: w.description.clone(),
            event_types: w.event_types.join(" "),
            enabled: i32::from(w.enabled),
            secret: w.secret.clone(),
            previous_secret: w.previous_secret.clone(),
            previous_secret_expires_at: w.previous_secret_expires_at.map(to_db_time),
            failing_since: w.failing_since.map(to_db_time),
            disabled_reason: w.disabled_reason.clone(),
            created_at: to_db_time(w.created_at),
            updated_at: to_db_time(w.updated_at),
            version: w.version,
        }
    }
}

impl TryFrom<WebhookRow> for Webhook {
    type Error = StoreError;
    fn try_from(row: WebhookRow) -> Result<Self, StoreError> {
        let event_types = row
            .event_types
            .split_whitespace()
            .map(|t| EVENT_TYPES.iter().copied().find(|known| *known == t).ok_or_else(|| corrupt("event type", t)))
            .collect::<Result<_, _>>()?;
        Ok(Webhook {
            id: row.id.parse().map_err(|_| corrupt("webhook id", &row.id))?,
            organization_id: row
                .organization_id
                .parse()
                .map_err(|_| corrupt("organization id", &row.organization_id))?,
            url: row.url,
            description: row.description,
            event_types,
            enabled: row.enabled != 0,
            secret: row.secret,
            previous_secret: row.previous_secret,
            previous_secret_expires_at: row.previous_secret_expires_at.map(from_db_time),
            failing_since: row.failing_since.map(from_db_time),
            disabled_reason: row.disabled_reason,
            created_at: from_db_time(row.created_at),
            updated_at: from_db_time(row.updated_at),
            version: row.version,
        })
    }
}

/// One delivery of one event to one subscription.
#[derive(Queryable, Selectable, Debug, Clone, PartialEq)]
#[diesel(table_name = webhook_deliveries)]
pub struct Delivery {
    pub id: String,
    pub webhook_id: String,
    pub organization_id: String,
    pub event_id: String,
    pub event_type: String,
    pub engagement_id: Option<String>,
    /// The JSON body sent (the same on every attempt).
    pub payload: String,
    pub status: String,
    pub attempts: i32,
    pub created_at: NaiveDateTime,
    pub last_attempt_at: Option<NaiveDateTime>,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub delivered_at: Option<NaiveDateTime>,
    pub failed_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
}

impl Delivery {
    pub fn status(&self) -> DeliveryStatus {
        self.status.parse().unwrap_or(DeliveryStatus::Pending)
    }
}

/// One attempt to deliver: the receiver's HTTP status, or why no answer came.
#[derive(Queryable, Selectable, Insertable, Debug, Clone, PartialEq)]
#[diesel(table_name = webhook_attempts)]
pub struct Attempt {
    pub id: String,
    pub delivery_id: String,
    pub attempted_at: NaiveDateTime,
    pub response_status: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

fn load(conn: &mut DbConnection, id: WebhookId) -> Result<Webhook, StoreError> {
    let row: Option<WebhookRow> = super::first_for_update!(
        conn,
        webhooks::table.filter(webhooks::id.eq(id.to_string())).select(WebhookRow::as_select())
    )?;
    row.map(Webhook::try_from).transpose()?.ok_or_else(|| StoreError::not_found(RESOURCE))
}

fn write(conn: &mut DbConnection, hook: &Webhook, expected_version: i64) -> QueryResult<usize> {
    diesel::update(
        webhooks::table.filter(webhooks::id.eq(hook.id.to_string())).filter(webhooks::version.eq(expected_version)),
    )
    .set(WebhookRow::from(hook))
    .execute(conn)
}

/// The subscription, with the row locked until the transaction ends.
pub fn lock(conn: &mut DbConnection, id: WebhookId) -> Result<Webhook, StoreError> {
    load(conn, id)
}

/// Writes `hook` over the stored row, which must still be at `read_version` (else the change
/// lost a race: a stale version).
pub fn save(conn: &mut DbConnection, hook: &Webhook, read_version: i64) -> Result<(), StoreError> {
    super::written_once(write(conn, hook, read_version)?)
}

/// Inserts a new subscription (its organization must exist: the foreign key says so).
pub fn insert(conn: &mut DbConnection, hook: &Webhook) -> Result<(), StoreError> {
    diesel::insert_into(webhooks::table).values(WebhookRow::from(hook)).execute(conn)?;
    Ok(())
}

/// The subscription `id`, whoever owns it (the caller checks the policy on the result).
pub fn get(conn: &mut DbConnection, id: WebhookId) -> Result<Webhook, StoreError> {
    let row = super::optional(
        webhooks::table.filter(webhooks::id.eq(id.to_string())).select(WebhookRow::as_select()).first(conn),
    )?;
    row.map(Webhook::try_from).transpose()?.ok_or_else(|| StoreError::not_found(RESOURCE))
}

#[derive(Clone, Debug, Default)]
pub struct WebhookFilter {
    pub organization_id: Option<OrganizationId>,
    pub enabled: Option<bool>,
}

pub fn list(conn: &mut DbConnection, filter: &WebhookFilter, page: PageRequest) -> Result<Page<Webhook>, StoreError> {
    let mut query = webhooks::table
        .select(WebhookRow::as_select())
        .order(webhooks::id.asc())
        .limit(i64::from(page.limit) + 1)
        .into_boxed();
    if let Some(org) = filter.organization_id {
        query = query.filter(webhooks::organization_id.eq(org.to_string()));
    }
    if let Some(enabled) = filter.enabled {
        query = query.filter(webhooks::enabled.eq(i32::from(enabled)));
    }
    if let Some(after) = page.after {
        query = query.filter(webhooks::id.gt(after.to_string()));
    }
    let items = query.load(conn)?.into_iter().map(Webhook::try_from).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_overfetch(items, page.limit))
}

/// Deletes the subscription; its deliveries and their attempts go with it (`ON DELETE CASCADE`).
/// Messages still queued for it are dropped by the worker when it finds their delivery gone.
pub fn delete(conn: &mut DbConnection, id: WebhookId) -> Result<(), StoreError> {
    diesel::delete(webhooks::table.filter(webhooks::id.eq(id.to_string()))).execute(conn)?;
    Ok(())
}

/// Queues a delivery of `event` to every enabled subscription of its organization that wants
/// it. Runs in the transaction of the change that emitted the event.
pub(crate) fn fan_out(conn: &mut DbConnection, event_id: EventId, event: &DomainEvent) -> Result<(), StoreError> {
    let rows: Vec<WebhookRow> = webhooks::table
        .filter(webhooks::organization_id.eq(event.organization_id.to_string()))
        .filter(webhooks::enabled.eq(1))
        .select(WebhookRow::as_select())
        .load(conn)?;
    let mut payload = None;
    for row in rows {
        let hook = Webhook::try_from(row)?;
        if !hook.wants(event.event_type) {
            continue;
        }
        let body = payload.get_or_insert_with(|| webhook::payload(event_id, event).to_string()).clone();
        let delivery_id = DeliveryId::generate();
        diesel::insert_into(webhook_deliveries::table)
            .values((
                webhook_deliveries::id.eq(delivery_id.to_string()),
                webhook_deliveries::webhook_id.eq(hook.id.to_string()),
                webhook_deliveries::organization_id.eq(hook.organization_id.to_string()),
                webhook_deliveries::event_id.eq(event_id.to_string()),
                webhook_deliveries::event_type.eq(event.event_type),
                webhook_deliveries::engagement_id.eq(event.engagement_id.map(|e| e.to_string())),
                webhook_deliveries::payload.eq(body),
                webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()),
                webhook_deliveries::attempts.eq(0),
                webhook_deliveries::created_at.eq(to_db_time(time::now())),
            ))
            .execute(conn)?;
        outbox::enqueue(
            conn,
            &Message::Webhook {
                organization_id: hook.organization_id,
                engagement_id: event.engagement_id,
                webhook_id: hook.id,
                delivery_id,
            },
        )?;
    }
    Ok(())
}

#[derive(Clone, Debug, Default)]
pub struct DeliveryFilter {
    pub status: Option<DeliveryStatus>,
    pub event_type: Option<String>,
}

/// A page of the subscription's deliveries, newest first, each with its attempts (oldest first;
/// two queries whatever the page's length).
pub fn deliveries(
    conn: &mut DbConnection,
    webhook_id: WebhookId,
    filter: &DeliveryFilter,
    page: PageRequest,
) -> Result<Page<(Delivery, Vec<Attempt>)>, StoreError> {
    let mut query = webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook_id.to_string()))
        .select(Delivery::as_select())
        .order(webhook_deliveries::id.desc())
        .limit(i64::from(page.limit) + 1)
        .into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(webhook_deliveries::status.eq(status.as_str()));
    }
    if let Some(event_type) = &filter.event_type {
        query = query.filter(webhook_deliveries::event_type.eq(event_type.clone()));
    }
    if let Some(before) = page.after {
        query = query.filter(webhook_deliveries::id.lt(before.to_string()));
    }
    let page = Page::from_overfetch(query.load(conn)?, page.limit);
    let ids: Vec<&String> = page.items.iter().map(|d| &d.id).collect();
    let attempts: Vec<Attempt> = webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq_any(&ids))
        .order(webhook_attempts::id.asc())
        .select(Attempt::as_select())
        .load(conn)?;
    let mut by_delivery: std::collections::HashMap<String, Vec<Attempt>> = std::collections::HashMap::new();
    for attempt in attempts {
        by_delivery.entry(attempt.delivery_id.clone()).or_default().push(attempt);
    }
    Ok(page.map(|delivery| {
        let attempts = by_delivery.remove(&delivery.id).unwrap_or_default();
        (delivery, attempts)
    }))
}

/// The delivery `delivery_id` of the subscription `webhook_id` (another subscription's is not
/// found).
pub fn delivery(
    conn: &mut DbConnection,
    webhook_id: WebhookId,
    delivery_id: DeliveryId,
) -> Result<Delivery, StoreError> {
    super::optional(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(delivery_id.to_string()))
            .filter(webhook_deliveries::webhook_id.eq(webhook_id.to_string()))
            .select(Delivery::as_select())
            .first(conn),
    )?
    .ok_or_else(|| StoreError::not_found("delivery"))
}

/// The attempts of a delivery, oldest first.
pub fn attempts(conn: &mut DbConnection, delivery_id: DeliveryId) -> Result<Vec<Attempt>, StoreError> {
    Ok(webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq(delivery_id.to_string()))
        .order(webhook_attempts::id.asc())
        .select(Attempt::as_select())
        .load(conn)?)
}

/// Puts a delivery back in the queue, due at `now` (pending again; its attempts so far stay).
pub fn requeue(conn: &mut DbConnection, delivery_id: DeliveryId, now: Timestamp) -> Result<(), StoreError> {
    diesel::update(webhook_deliveries::table.find(delivery_id.to_string()))
        .set((
            webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()),
            webhook_deliveries::failed_at.eq(None::<NaiveDateTime>),
            webhook_deliveries::next_attempt_at.eq(Some(to_db_time(now))),
        ))
        .execute(conn)?;
    Ok(())
}

/// What the worker needs to make an attempt: the delivery and its subscription (`None` when the
/// subscription was deleted since the delivery was queued).
pub fn for_delivery(
    conn: &mut DbConnection,
    delivery_id: DeliveryId,
) -> Result<Option<(Webhook, Delivery)>, StoreError> {
    let Some(found) = super::optional(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(delivery_id.to_string()))
            .select(Delivery::as_select())
            .first(conn),
    )?
    else {
        return Ok(None);
    };
    let hook_id: WebhookId = found.webhook_id.parse().map_err(|_| corrupt("webhook id", &found.webhook_id))?;
    Ok(Some((get(conn, hook_id)?, found)))
}

/// The result of one attempt.
#[derive(Clone, Debug)]
pub struct AttemptResult {
    pub attempted_at: Timestamp,
    /// The receiver's HTTP status, when it answered.
    pub response_status: Option<u16>,
    /// Why the attempt failed (a non-2xx answer, a timeout, a refused address…).
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// What follows an attempt.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Next {
    Delivered,
    /// Tried again at this time.
    RetryAt(Timestamp),
    /// No more tries: the delivery failed (it can be re-sent).
    GiveUp,
}

/// Logs one attempt of a delivery.
pub fn insert_attempt(
    conn: &mut DbConnection,
    delivery_id: DeliveryId,
    result: &AttemptResult,
) -> Result<(), StoreError> {
    diesel::insert_into(webhook_attempts::table)
        .values(Attempt {
            id: Uuid::now_v7().to_string(),
            delivery_id: delivery_id.to_string(),
            attempted_at: to_db_time(result.attempted_at),
            response_status: result.response_status.map(i32::from),
            error: result.error.as_ref().map(|e| e.chars().take(1000).collect()),
            duration_ms: result.duration_ms,
        })
        .execute(conn)?;
    Ok(())
}

/// Writes a delivery's state after an attempt that `next` follows.
pub fn set_attempted(
    conn: &mut DbConnection,
    delivery_id: DeliveryId,
    result: &AttemptResult,
    next: Next,
) -> Result<(), StoreError> {
    let at = to_db_time(result.attempted_at);
    let (status, next_attempt_at, delivered_at, failed_at) = match next {
        Next::Delivered => (DeliveryStatus::Delivered, None, Some(at), None),
        Next::RetryAt(when) => (DeliveryStatus::Pending, Some(to_db_time(when)), None, None),
        Next::GiveUp => (DeliveryStatus::Failed, None, None, Some(at)),
    };
    diesel::update(webhook_deliveries::table.find(delivery_id.to_string()))
        .set((
            webhook_deliveries::status.eq(status.as_str()),
            webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
            webhook_deliveries::last_attempt_at.eq(Some(at)),
            webhook_deliveries::next_attempt_at.eq(next_attempt_at),
            webhook_deliveries::delivered_at.eq(delivered_at),
            webhook_deliveries::failed_at.eq(failed_at),
            webhook_deliveries::last_error.eq(result.error.clone()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Ends a delivery without an attempt (its subscription was deleted or disabled meanwhile):
/// the delivery is failed (it can be re-sent once the subscription is enabled again).
pub fn abandon(
    conn: &mut DbConnection,
    claimed: &outbox::Claimed,
    delivery_id: DeliveryId,
    reason: &str,
) -> Result<(), StoreError> {
    write_transaction(conn, |conn| {
        let now = to_db_time(time::now());
        diesel::update(webhook_deliveries::table.find(delivery_id.to_string()))
            .set((
                webhook_deliveries::status.eq(DeliveryStatus::Failed.as_str()),
                webhook_deliveries::next_attempt_at.eq(None::<NaiveDateTime>),
                webhook_deliveries::failed_at.eq(Some(now)),
                webhook_deliveries::last_error.eq(Some(reason)),
            ))
            .execute(conn)?;
        outbox::mark_failed(conn, &claimed.id, reason, None)
    })
}
