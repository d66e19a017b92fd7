//! The domain events log (docs/operations.md, events): appended in the transaction of the change.

use diesel::prelude::*;
use keel_domain::event::DomainEvent;
use keel_domain::{EngagementId, EventId};

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::rows::to_db_time;
use crate::schema::events;

/// Appends the event and queues its webhook deliveries, in the caller's transaction.
pub fn append(conn: &mut DbConnection, event: &DomainEvent) -> Result<(), StoreError> {
    let id = EventId::generate();
    diesel::insert_into(events::table)
        .values((
            events::id.eq(id.to_string()),
            events::organization_id.eq(event.organization_id.to_string()),
            events::engagement_id.eq(event.engagement_id.map(|id| id.to_string())),
            events::event_type.eq(event.event_type),
            events::payload.eq(event.payload.to_string()),
            events::occurred_at.eq(to_db_time(event.occurred_at)),
        ))
        .execute(conn)?;
    super::webhooks::fan_out(conn, id, event)
}

/// (type, payload) of an engagement's events, oldest first.
pub fn for_engagement(
    conn: &mut DbConnection,
    engagement_id: EngagementId,
) -> Result<Vec<(String, String)>, StoreError> {
    Ok(events::table
        .filter(events::engagement_id.eq(engagement_id.to_string()))
        .order(events::id.asc())
        .select((events::event_type, events::payload))
        .load(conn)?)
}

/// (type, payload) of an organization's events, oldest first.
pub fn for_organization(
    conn: &mut DbConnection,
    organization_id: keel_domain::OrganizationId,
) -> Result<Vec<(String, String)>, StoreError> {
    Ok(events::table
        .filter(events::organization_id.eq(organization_id.to_string()))
        .order(events::id.asc())
        .select((events::event_type, events::payload))
        .load(conn)?)
}
