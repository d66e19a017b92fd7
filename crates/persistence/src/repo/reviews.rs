//! The rows of the mid- and end-of-program reviews (the commands, with the measurements they
//! record and the end review's move or renewal, are in keel-commands).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use keel_domain::EngagementId;
use keel_domain::engagement::Engagement;
use keel_domain::program::OutcomeChanges;
use keel_domain::review::{NextStep, OutcomeReview, Review, ReviewKind};
use serde_json::{Value, json};

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::rows::{corrupt, from_db_time, to_db_time};
use crate::schema::reviews;

#[derive(Queryable, Selectable, serde::Deserialize)]
#[diesel(table_name = reviews)]
pub(crate) struct ReviewRow {
    kind: String,
    narrative: String,
    outcomes: String,
    program_changes: Option<String>,
    achievements: Option<String>,
    next_step: Option<String>,
    renewal: String,
    recorded_at: NaiveDateTime,
    version: i64,
}

fn outcomes_json(entries: &[OutcomeReview]) -> String {
    Value::Array(
        entries
            .iter()
            .map(|e| json!({ "outcome_id": e.outcome_id, "actual": e.actual, "note": e.note, "achieved": e.achieved }))
            .collect(),
    )
    .to_string()
}

fn renewal_json(outcomes: &[OutcomeChanges]) -> String {
    Value::Array(
        outcomes
            .iter()
            .map(|o| {
                json!({ "title": o.title, "description": o.description.clone().flatten(), "measure": o.measure.clone().flatten(),
                        "baseline": o.baseline.clone().flatten(), "target": o.target.clone().flatten(), "unit": o.unit.clone().flatten() })
            })
            .collect(),
    )
    .to_string()
}

impl ReviewRow {
    pub(crate) fn into_domain(self) -> Result<Review, StoreError> {
        let kind = ReviewKind::parse(&self.kind).ok_or_else(|| corrupt("review kind", &self.kind))?;
        parse(kind, self)
    }
}

fn parse(kind: ReviewKind, row: ReviewRow) -> Result<Review, StoreError> {
    let ReviewRow {
        narrative, outcomes, program_changes, achievements, next_step, renewal, recorded_at, version, ..
    } = row;
    let entries: Vec<Value> = serde_json::from_str(&outcomes).map_err(|_| corrupt("review outcomes", &outcomes))?;
    let renewal: Vec<Value> = serde_json::from_str(&renewal).map_err(|_| corrupt("renewal", &renewal))?;
    let text = |v: &Value, k: &str| v[k].as_str().map(str::to_owned);
    Ok(Review {
        kind,
        narrative,
        outcomes: entries
            .iter()
            .map(|e| {
                Ok(OutcomeReview {
                    outcome_id: e["outcome_id"]
                        .as_str()
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| corrupt("outcome id", &outcomes))?,
                    actual: text(e, "actual").unwrap_or_default(),
                    note: text(e, "note"),
                    achieved: e["achieved"].as_bool(),
                })
            })
            .collect::<Result<_, StoreError>>()?,
        program_changes,
        achievements,
        next_step: next_step.as_deref().and_then(|s| s.parse::<NextStep>().ok()),
        renewal_outcomes: renewal
            .iter()
            .map(|o| OutcomeChanges {
                title: text(o, "title"),
                description: Some(text(o, "description")),
                measure: Some(text(o, "measure")),
                baseline: Some(text(o, "baseline")),
                target: Some(text(o, "target")),
                unit: Some(text(o, "unit")),
            })
            .collect(),
        recorded_at: from_db_time(recorded_at),
        version,
    })
}

pub fn get(
    conn: &mut DbConnection,
    engagement_id: EngagementId,
    kind: ReviewKind,
) -> Result<Option<Review>, StoreError> {
    let row: Option<ReviewRow> = super::optional(
        reviews::table.find((engagement_id.to_string(), kind.as_str())).select(ReviewRow::as_select()).first(conn),
    )?;
    row.map(|r| parse(kind, r)).transpose()
}

/// Writes the engagement's review of `review.kind`: inserted when `new`, else replaced.
pub fn save(conn: &mut DbConnection, engagement: &Engagement, review: &Review, new: bool) -> Result<(), StoreError> {
    let values = (
        reviews::narrative.eq(&review.narrative),
        reviews::outcomes.eq(outcomes_json(&review.outcomes)),
        reviews::program_changes.eq(&review.program_changes),
        reviews::achievements.eq(&review.achievements),
        reviews::next_step.eq(review.next_step.map(|n| n.as_str())),
        reviews::renewal.eq(renewal_json(&review.renewal_outcomes)),
        reviews::recorded_at.eq(to_db_time(review.recorded_at)),
        reviews::version.eq(review.version),
    );
    if new {
        diesel::insert_into(reviews::table)
            .values((
                reviews::engagement_id.eq(engagement.id.to_string()),
                reviews::kind.eq(review.kind.as_str()),
                reviews::organization_id.eq(engagement.organization_id.to_string()),
                values,
            ))
            .execute(conn)?;
    } else {
        diesel::update(reviews::table.find((engagement.id.to_string(), review.kind.as_str())))
            .set(values)
            .execute(conn)?;
    }
    Ok(())
}
