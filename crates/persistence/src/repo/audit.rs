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

/// Filters of the audit log; every one given must match.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub organization_id: Option<String>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub actor_id: Option<String>,
    pub from: Option<chrono::NaiveDateTime>,
    pub until: Option<chrono::NaiveDateTime>,
}

/// A page of the audit log, oldest first (keyset on the time-ordered id).
pub fn list(
    conn: &mut DbConnection,
    filter: &AuditFilter,
    page: keel_domain::page::PageRequest,
) -> Result<keel_domain::page::Page<AuditEventRow>, StoreError> {
    let mut query = audit_events::table
        .order(audit_events::id.asc())
        .limit(i64::from(page.limit) + 1)
        .select(AuditEventRow::as_select())
        .into_boxed();
    if let Some(org) = &filter.organization_id {
        query = query.filter(audit_events::organization_id.eq(org.clone()));
    }
    if let Some(kind) = &filter.resource_type {
        query = query.filter(audit_events::resource_type.eq(kind.clone()));
    }
    if let Some(id) = &filter.resource_id {
        query = query.filter(audit_events::resource_id.eq(id.clone()));
    }
    if let Some(actor) = &filter.actor_id {
        query = query.filter(audit_events::actor_id.eq(actor.clone()));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_events::occurred_at.ge(from));
    }
    if let Some(until) = filter.until {
        query = query.filter(audit_events::occurred_at.lt(until));
    }
    if let Some(after) = page.after {
        query = query.filter(audit_events::id.gt(after.to_string()));
    }
    Ok(keel_domain::page::Page::from_overfetch(query.load(conn)?, page.limit))
}
