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

#[derive(Queryable, Selectable, serde::Deserialize)]
#[diesel(table_name = extensions)]
pub(crate) struct ExtensionRow {
    id: String,
    engagement_id: String,
    minutes: i64,
    month: String,
    new_planned_end_date: Option<chrono::NaiveDate>,
    reason: String,
    status: String,
    decided_by: Option<String>,
    decision_comment: Option<String>,
    requested_at: NaiveDateTime,
    decided_at: Option<NaiveDateTime>,
}

impl ExtensionRow {
    pub(crate) fn into_domain(self) -> Result<Extension, StoreError> {
        Ok(Extension {
            id: self.id.parse().map_err(|_| corrupt("extension id", &self.id))?,
            engagement_id: self.engagement_id.parse().map_err(|_| corrupt("engagement id", &self.engagement_id))?,
            minutes: self.minutes,
            month: Month::parse(&self.month).ok_or_else(|| corrupt("month", &self.month))?,
            new_planned_end_date: self.new_planned_end_date,
            reason: self.reason,
            status: self.status.parse::<ExtensionStatus>().map_err(|_| corrupt("extension status", &self.status))?,
            decided_by: self
                .decided_by
                .as_deref()
                .map(|u| u.parse::<UserId>().map_err(|_| corrupt("decided by", u)))
                .transpose()?,
            decision_comment: self.decision_comment,
            requested_at: from_db_time(self.requested_at),
            decided_at: self.decided_at.map(from_db_time),
        })
    }
}

pub fn list(conn: &mut DbConnection, engagement_id: EngagementId) -> Result<Vec<Extension>, StoreError> {
    extensions::table
        .filter(extensions::engagement_id.eq(engagement_id.to_string()))
        .order(extensions::id.asc())
        .select(ExtensionRow::as_select())
        .load(conn)?
        .into_iter()
        .map(ExtensionRow::into_domain)
        .collect()
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
