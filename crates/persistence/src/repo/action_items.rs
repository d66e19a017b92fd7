//! Action items (homework): rows only; the commands are in keel-commands.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use keel_domain::coaching::{ActionItem, ActionItemStatus};
use keel_domain::engagement::Engagement;
use keel_domain::{ActionItemId, EngagementId};

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::rows::{corrupt, from_db_time, to_db_time};
use crate::schema::action_items;

#[derive(Queryable, Selectable, Insertable, AsChangeset, serde::Deserialize)]
#[diesel(table_name = action_items, treat_none_as_null = true)]
pub(crate) struct Row {
    id: String,
    engagement_id: String,
    organization_id: String,
    session_id: Option<String>,
    title: String,
    details: Option<String>,
    due_date: Option<NaiveDate>,
    status: String,
    leader_note: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

impl Row {
    pub(crate) fn from_domain(item: &ActionItem, organization_id: String) -> Row {
        Row {
            id: item.id.to_string(),
            engagement_id: item.engagement_id.to_string(),
            organization_id,
            session_id: item.session_id.map(|s| s.to_string()),
            title: item.title.clone(),
            details: item.details.clone(),
            due_date: item.due_date,
            status: item.status.as_str().to_owned(),
            leader_note: item.leader_note.clone(),
            created_at: to_db_time(item.created_at),
            updated_at: to_db_time(item.updated_at),
            version: item.version,
        }
    }

    pub(crate) fn into_domain(self) -> Result<ActionItem, StoreError> {
        Ok(ActionItem {
            id: self.id.parse().map_err(|_| corrupt("action item id", &self.id))?,
            engagement_id: self.engagement_id.parse().map_err(|_| corrupt("engagement id", &self.engagement_id))?,
            session_id: self
                .session_id
                .as_deref()
                .map(|s| s.parse().map_err(|_| corrupt("session id", s)))
                .transpose()?,
            title: self.title,
            details: self.details,
            due_date: self.due_date,
            status: self.status.parse::<ActionItemStatus>().map_err(|_| corrupt("action item status", &self.status))?,
            leader_note: self.leader_note,
            created_at: from_db_time(self.created_at),
            updated_at: from_db_time(self.updated_at),
            version: self.version,
        })
    }
}

/// Filters of the action item list.
#[derive(Clone, Debug, Default)]
pub struct ActionItemFilter {
    pub status: Option<ActionItemStatus>,
    /// Due on or before this date.
    pub due_before: Option<NaiveDate>,
}

pub fn list(
    conn: &mut DbConnection,
    engagement_id: EngagementId,
    filter: &ActionItemFilter,
) -> Result<Vec<ActionItem>, StoreError> {
    let mut query = action_items::table
        .filter(action_items::engagement_id.eq(engagement_id.to_string()))
        .order(action_items::id.asc())
        .select(Row::as_select())
        .into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(action_items::status.eq(status.as_str()));
    }
    if let Some(date) = filter.due_before {
        query = query.filter(action_items::due_date.le(date));
    }
    query.load(conn)?.into_iter().map(Row::into_domain).collect()
}

pub fn insert(conn: &mut DbConnection, engagement: &Engagement, item: &ActionItem) -> Result<(), StoreError> {
    diesel::insert_into(action_items::table)
        .values(Row::from_domain(item, engagement.organization_id.to_string()))
        .execute(conn)?;
    Ok(())
}

/// One action item of the engagement.
pub fn get(
    conn: &mut DbConnection,
    engagement_id: EngagementId,
    item_id: ActionItemId,
) -> Result<ActionItem, StoreError> {
    super::optional(
        action_items::table
            .filter(action_items::id.eq(item_id.to_string()))
            .filter(action_items::engagement_id.eq(engagement_id.to_string()))
            .select(Row::as_select())
            .first(conn),
    )?
    .map(Row::into_domain)
    .transpose()?
    .ok_or_else(|| StoreError::not_found("action item"))
}

pub fn save(conn: &mut DbConnection, engagement: &Engagement, item: &ActionItem) -> Result<(), StoreError> {
    diesel::update(action_items::table.find(item.id.to_string()))
        .set(Row::from_domain(item, engagement.organization_id.to_string()))
        .execute(conn)?;
    Ok(())
}
