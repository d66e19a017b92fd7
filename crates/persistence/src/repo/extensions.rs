//! Extensions (rows only; the commands are in keel-commands).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use keel_domain::coaching::{Extension, ExtensionStatus, Month};
use keel_domain::engagement::Engagement;
use keel_domain::{EngagementId, ExtensionId, UserId};

use crate::connection::DbConnection;
use crate::error::StoreError;
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

pub fn list(conn: &mut DbConnection, engagement_id: EngagementId) -> Result<Vec<Extension>, StoreError> {
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

/// One extension of the engagement.
pub fn find(conn: &mut DbConnection, engagement_id: EngagementId, id: ExtensionId) -> Result<Extension, StoreError> {
    list(conn, engagement_id)?.into_iter().find(|x| x.id == id).ok_or_else(|| StoreError::not_found("extension"))
}

pub fn insert(conn: &mut DbConnection, engagement: &Engagement, extension: &Extension) -> Result<(), StoreError> {
    diesel::insert_into(extensions::table)
        .values((
            extensions::id.eq(extension.id.to_string()),
            extensions::engagement_id.eq(engagement.id.to_string()),
            extensions::organization_id.eq(engagement.organization_id.to_string()),
            extensions::minutes.eq(extension.minutes),
            extensions::month.eq(extension.month.to_string()),
            extensions::new_planned_end_date.eq(extension.new_planned_end_date),
            extensions::reason.eq(&extension.reason),
            extensions::status.eq(extension.status.as_str()),
            extensions::requested_at.eq(to_db_time(extension.requested_at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Writes an extension's decision.
pub fn save_decision(conn: &mut DbConnection, extension: &Extension) -> Result<(), StoreError> {
    diesel::update(extensions::table.find(extension.id.to_string()))
        .set((
            extensions::status.eq(extension.status.as_str()),
            extensions::decided_by.eq(extension.decided_by.map(|u| u.to_string())),
            extensions::decision_comment.eq(&extension.decision_comment),
            extensions::decided_at.eq(extension.decided_at.map(to_db_time)),
        ))
        .execute(conn)?;
    Ok(())
}
