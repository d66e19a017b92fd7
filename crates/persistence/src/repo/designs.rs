//! Steps 4 and 5: the rows of design versions and their decisions (the commands are in
//! keel-commands, which lock the engagement row first, so concurrent decisions queue).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use keel_domain::design::{ApproverRole, Decision, Design, DesignItem, DesignStatus, ItemKind, Verdict};
use keel_domain::engagement::Engagement;
use keel_domain::{EngagementId, UserId};
use serde_json::{Value, json};

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::rows::{corrupt, from_db_time, to_db_time};
use crate::schema::{design_decisions, designs};

pub(crate) fn items_json(items: &[DesignItem]) -> String {
    Value::Array(
        items
            .iter()
            .map(|i| json!({ "kind": i.kind.as_str(), "title": i.title, "description": i.description, "cadence": i.cadence }))
            .collect(),
    )
    .to_string()
}

fn parse_items(text: &str) -> Result<Vec<DesignItem>, StoreError> {
    let values: Vec<Value> = serde_json::from_str(text).map_err(|_| corrupt("design items", text))?;
    values
        .into_iter()
        .map(|v| {
            Ok(DesignItem {
                kind: v["kind"]
                    .as_str()
                    .and_then(|k| k.parse::<ItemKind>().ok())
                    .ok_or_else(|| corrupt("item kind", text))?,
                title: v["title"].as_str().unwrap_or_default().to_owned(),
                description: v["description"].as_str().map(str::to_owned),
                cadence: v["cadence"].as_str().map(str::to_owned),
            })
        })
        .collect()
}

pub(crate) fn ids_json<Id: serde::Serialize>(ids: &[Id]) -> String {
    serde_json::to_string(ids).expect("ids serialize")
}

fn parse_ids<Id: serde::de::DeserializeOwned>(text: &str) -> Result<Vec<Id>, StoreError> {
    serde_json::from_str(text).map_err(|_| corrupt("id list", text))
}

#[derive(Queryable, Selectable, serde::Deserialize)]
#[diesel(table_name = designs)]
pub(crate) struct DesignRow {
    engagement_id: String,
    version: i32,
    status: String,
    summary: String,
    theme_ids: String,
    outcome_ids: String,
    items: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    submitted_at: Option<NaiveDateTime>,
    revision: i64,
}

impl DesignRow {
    pub(crate) fn into_domain(self) -> Result<Design, StoreError> {
        Ok(Design {
            engagement_id: self.engagement_id.parse().map_err(|_| corrupt("engagement id", &self.engagement_id))?,
            version: self.version,
            status: self.status.parse::<DesignStatus>().map_err(|_| corrupt("design status", &self.status))?,
            summary: self.summary,
            theme_ids: parse_ids(&self.theme_ids)?,
            outcome_ids: parse_ids(&self.outcome_ids)?,
            items: parse_items(&self.items)?,
            created_at: from_db_time(self.created_at),
            updated_at: from_db_time(self.updated_at),
            submitted_at: self.submitted_at.map(from_db_time),
            revision: self.revision,
        })
    }
}

/// Every version, oldest first.
pub fn list(conn: &mut DbConnection, engagement_id: EngagementId) -> Result<Vec<Design>, StoreError> {
    designs::table
        .filter(designs::engagement_id.eq(engagement_id.to_string()))
        .order(designs::version.asc())
        .select(DesignRow::as_select())
        .load(conn)?
        .into_iter()
        .map(DesignRow::into_domain)
        .collect()
}

pub fn get(conn: &mut DbConnection, engagement_id: EngagementId, version: i32) -> Result<Design, StoreError> {
    super::optional(
        designs::table.find((engagement_id.to_string(), version)).select(DesignRow::as_select()).first(conn),
    )?
    .map(DesignRow::into_domain)
    .transpose()?
    .ok_or_else(|| StoreError::not_found("design version"))
}

#[derive(Queryable, Selectable, serde::Deserialize)]
#[diesel(table_name = design_decisions)]
pub(crate) struct DecisionRow {
    id: String,
    design_version: i32,
    approver_id: String,
    role: String,
    verdict: String,
    comment: Option<String>,
    decided_at: NaiveDateTime,
}

impl DecisionRow {
    pub(crate) fn into_domain(self) -> Result<Decision, StoreError> {
        Ok(Decision {
            id: self.id.parse().map_err(|_| corrupt("decision id", &self.id))?,
            design_version: self.design_version,
            approver_id: self.approver_id.parse::<UserId>().map_err(|_| corrupt("approver id", &self.approver_id))?,
            role: if self.role == "leader" { ApproverRole::Leader } else { ApproverRole::Sponsor },
            verdict: self.verdict.parse::<Verdict>().map_err(|_| corrupt("verdict", &self.verdict))?,
            comment: self.comment,
            decided_at: from_db_time(self.decided_at),
        })
    }
}

/// Decisions of the engagement (all versions, or one), in order.
pub fn decisions(
    conn: &mut DbConnection,
    engagement_id: EngagementId,
    version: Option<i32>,
) -> Result<Vec<Decision>, StoreError> {
    let mut query = design_decisions::table
        .filter(design_decisions::engagement_id.eq(engagement_id.to_string()))
        .order(design_decisions::id.asc())
        .select(DecisionRow::as_select())
        .into_boxed();
    if let Some(version) = version {
        query = query.filter(design_decisions::design_version.eq(version));
    }
    query.load(conn)?.into_iter().map(DecisionRow::into_domain).collect()
}

/// Inserts a new version.
pub fn insert(conn: &mut DbConnection, engagement: &Engagement, design: &Design) -> Result<(), StoreError> {
    diesel::insert_into(designs::table)
        .values((
            designs::engagement_id.eq(engagement.id.to_string()),
            designs::organization_id.eq(engagement.organization_id.to_string()),
            designs::version.eq(design.version),
            designs::status.eq(design.status.as_str()),
            designs::summary.eq(&design.summary),
            designs::theme_ids.eq(ids_json(&design.theme_ids)),
            designs::outcome_ids.eq(ids_json(&design.outcome_ids)),
            designs::items.eq(items_json(&design.items)),
            designs::created_at.eq(to_db_time(design.created_at)),
            designs::updated_at.eq(to_db_time(design.updated_at)),
            designs::submitted_at.eq(design.submitted_at.map(to_db_time)),
            designs::revision.eq(design.revision),
        ))
        .execute(conn)?;
    Ok(())
}

/// Writes `design` over its stored version.
pub fn save(conn: &mut DbConnection, design: &Design) -> Result<(), StoreError> {
    diesel::update(designs::table.find((design.engagement_id.to_string(), design.version)))
        .set((
            designs::status.eq(design.status.as_str()),
            designs::summary.eq(&design.summary),
            designs::theme_ids.eq(ids_json(&design.theme_ids)),
            designs::outcome_ids.eq(ids_json(&design.outcome_ids)),
            designs::items.eq(items_json(&design.items)),
            designs::updated_at.eq(to_db_time(design.updated_at)),
            designs::submitted_at.eq(design.submitted_at.map(to_db_time)),
            designs::revision.eq(design.revision),
        ))
        .execute(conn)?;
    Ok(())
}

/// Appends a decision on one of the engagement's design versions.
pub fn insert_decision(
    conn: &mut DbConnection,
    engagement: &Engagement,
    decision: &Decision,
) -> Result<(), StoreError> {
    diesel::insert_into(design_decisions::table)
        .values((
            design_decisions::id.eq(decision.id.to_string()),
            design_decisions::engagement_id.eq(engagement.id.to_string()),
            design_decisions::organization_id.eq(engagement.organization_id.to_string()),
            design_decisions::design_version.eq(decision.design_version),
            design_decisions::approver_id.eq(decision.approver_id.to_string()),
            design_decisions::role.eq(decision.role.as_str()),
            design_decisions::verdict.eq(decision.verdict.as_str()),
            design_decisions::comment.eq(&decision.comment),
            design_decisions::decided_at.eq(to_db_time(decision.decided_at)),
        ))
        .execute(conn)?;
    Ok(())
}
