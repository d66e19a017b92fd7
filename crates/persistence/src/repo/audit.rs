//! The append-only audit log.

use diesel::prelude::*;
use keel_domain::audit::AuditRecord;
use uuid::Uuid;

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::rows::{AuditEventRow, to_db_time};
use crate::schema::audit_events;

/// Appends one record; call it inside the transaction of the change it records.
pub fn append(conn: &mut DbConnection, record: &AuditRecord) -> Result<(), StoreError> {
    let row = AuditEventRow {
        id: Uuid::now_v7().to_string(),
        occurred_at: to_db_time(record.occurred_at),
        organization_id: record.organization_id.map(|id| id.to_string()),
        actor_kind: record.actor.kind().to_owned(),
        actor_id: record.actor.id().map(str::to_owned),
        action: record.action.to_owned(),
        resource_type: record.resource_type.to_owned(),
        resource_id: record.resource_id.clone(),
        request_id: record.request_id.clone(),
        changed_fields: serde_json::to_string(&record.changed_fields).unwrap_or_else(|_| "[]".to_owned()),
    };
    diesel::insert_into(audit_events::table).values(&row).execute(conn)?;
    Ok(())
}

/// The records of one resource, oldest first.
pub fn for_resource(
    conn: &mut DbConnection,
    resource_type: &str,
    resource_id: &str,
) -> Result<Vec<AuditEventRow>, StoreError> {
    Ok(audit_events::table
        .filter(audit_events::resource_type.eq(resource_type))
        .filter(audit_events::resource_id.eq(resource_id))
        .order(audit_events::id.asc())
        .select(AuditEventRow::as_select())
        .load(conn)?)
}
