//! Extensions: requested by the coach (every sponsor is emailed), decided once by a sponsor. An
//! approval raises the named month's budget and, when asked, moves the planned end.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use keel_domain::audit::{AuditRecord, CommandContext};
use keel_domain::coaching::{Extension, ExtensionStatus, Month};
use keel_domain::engagement::Engagement;
use keel_domain::event::DomainEvent;
use keel_domain::outbox::Message;
use keel_domain::{DomainError, UserId};

use crate::connection::{DbConnection, write_transaction};
use crate::error::StoreError;
use crate::repo::program::Authorize;
use crate::repo::{audit, engagements, events, outbox};
use crate::rows::{corrupt, from_db_time, to_db_time};
use crate::schema::extensions;

type Row = (
    String,
    String,
    i64,
    String,
    Option<chrono::NaiveDate>,
    String,
    String,
    Option<String>,
    Option<String>,
    NaiveDateTime,
    Option<NaiveDateTime>,
);

fn into_domain(row: Row) -> Result<Extension, StoreError> {
    let (id, engagement_id, minutes, month, new_end, reason, status, decided_by, comment, requested_at, decided_at) =
        row;
    Ok(Extension {
        id: id.parse().map_err(|_| corrupt("extension id", &id))?,
        engagement_id: engagement_id.parse().map_err(|_| corrupt("engagement id", &engagement_id))?,
        minutes,
        month: Month::parse(&month).ok_or_else(|| corrupt("month", &month))?,
        new_planned_end_date: new_end,
        reason,
        status: status.parse::<ExtensionStatus>().map_err(|_| corrupt("extension status", &status))?,
        decided_by: decided_by
            .as_deref()
            .map(|u| u.parse::<UserId>().map_err(|_| corrupt("decided by", u)))
            .transpose()?,
        decision_comment: comment,
        requested_at: from_db_time(requested_at),
        decided_at: decided_at.map(from_db_time),
    })
}

pub fn list(conn: &mut DbConnection, engagement_id: uuid::Uuid) -> Result<Vec<Extension>, StoreError> {
    let rows: Vec<Row> = extensions::table
        .filter(extensions::engagement_id.eq(engagement_id.to_string()))
        .order(extensions::id.asc())
        .select((
            extensions::id,
            extensions::engagement_id,
            extensions::minutes,
            extensions::month,
            extensions::new_planned_end_date,
            extensions::reason,
            extensions::status,
            extensions::decided_by,
            extensions::decision_comment,
            extensions::requested_at,
            extensions::decided_at,
        ))
        .load(conn)?;
    rows.into_iter().map(into_domain).collect()
}

fn record(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    action: &'static str,
    engagement: &Engagement,
    id: uuid::Uuid,
) -> Result<(), StoreError> {
    audit::append(conn, &AuditRecord::new(ctx, action, "extension", id, Some(engagement.organization_id)))
}

/// Renders the mails of a new extension request (to the sponsors).
pub type Mails<'a> = &'a dyn Fn(&mut DbConnection, &Extension, &Engagement) -> Result<Vec<Message>, StoreError>;

/// Requests an extension; `mails` renders the messages to the sponsors.
pub fn request(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    engagement_id: uuid::Uuid,
    make: impl FnOnce(&Engagement) -> Result<Extension, DomainError>,
    authorize: Authorize<'_>,
    mails: Mails<'_>,
) -> Result<Extension, StoreError> {
    write_transaction(conn, |conn| {
        let engagement = engagements::get_for_update(conn, engagement_id)?;
        authorize(&engagement)?;
        let extension = make(&engagement)?;
        diesel::insert_into(extensions::table)
            .values((
                extensions::id.eq(extension.id.to_string()),
                extensions::engagement_id.eq(engagement_id.to_string()),
                extensions::organization_id.eq(engagement.organization_id.to_string()),
                extensions::minutes.eq(extension.minutes),
                extensions::month.eq(extension.month.to_string()),
                extensions::new_planned_end_date.eq(extension.new_planned_end_date),
                extensions::reason.eq(&extension.reason),
                extensions::status.eq(extension.status.as_str()),
                extensions::requested_at.eq(to_db_time(extension.requested_at)),
            ))
            .execute(conn)?;
        record(conn, ctx, "extension.requested", &engagement, extension.id)?;
        events::append(conn, &DomainEvent::extension_requested(&engagement, extension.id, extension.minutes))?;
        for mail in mails(conn, &extension, &engagement)? {
            outbox::enqueue(conn, &mail)?;
        }
        Ok(extension)
    })
}

#[allow(clippy::too_many_arguments)]
/// A sponsor's decision. An approval with a new planned end moves the engagement's end.
pub fn decide(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    engagement_id: uuid::Uuid,
    extension_id: uuid::Uuid,
    sponsor: UserId,
    approve: bool,
    comment: Option<&str>,
    authorize: Authorize<'_>,
) -> Result<Extension, StoreError> {
    write_transaction(conn, |conn| {
        let engagement = engagements::get_for_update(conn, engagement_id)?;
        authorize(&engagement)?;
        let current = list(conn, engagement_id)?
            .into_iter()
            .find(|x| x.id == extension_id)
            .ok_or_else(|| StoreError::not_found("extension"))?;
        let next = current.decide(sponsor, approve, comment)?;
        diesel::update(extensions::table.find(extension_id.to_string()))
            .set((
                extensions::status.eq(next.status.as_str()),
                extensions::decided_by.eq(sponsor.to_string()),
                extensions::decision_comment.eq(&next.decision_comment),
                extensions::decided_at.eq(next.decided_at.map(to_db_time)),
            ))
            .execute(conn)?;
        if let (ExtensionStatus::Approved, Some(end)) = (next.status, next.new_planned_end_date) {
            let mut moved = engagement.clone();
            moved.planned_end_date = end;
            moved.updated_at = keel_domain::time::now();
            moved.version += 1;
            if engagements::write(conn, &moved, engagement.version)? != 1 {
                return Err(DomainError::StaleVersion { current: None }.into());
            }
        }
        record(conn, ctx, "extension.decided", &engagement, extension_id)?;
        events::append(conn, &DomainEvent::extension_decided(&engagement, extension_id, next.status.as_str()))?;
        Ok(next)
    })
}
