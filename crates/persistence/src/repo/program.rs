//! The content of the program's steps: context meeting, outcomes with measurements, leader
//! interview (rows only; the commands are in keel-commands).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use keel_domain::engagement::Engagement;
use keel_domain::program::{ContextMeeting, LeaderInterview, Measurement, MeasurementSource, Outcome};
use keel_domain::time;
use keel_domain::{EngagementId, OutcomeId};

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::rows::{corrupt, from_db_time, to_db_time};
use crate::schema::{context_meetings, leader_interviews, outcome_measurements, outcomes};

pub(crate) fn json_list(values: &[String]) -> String {
    serde_json::to_string(values).expect("strings serialize")
}

fn parse_list(value: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(value).map_err(|_| corrupt("list", value))
}

// ---- context meeting ----

#[derive(Queryable, Selectable, serde::Deserialize)]
#[diesel(table_name = context_meetings)]
pub(crate) struct ContextRow {
    met_on: chrono::NaiveDate,
    attendees: String,
    notes: String,
    benchmarks: String,
    updated_at: NaiveDateTime,
    version: i64,
}

impl ContextRow {
    pub(crate) fn into_domain(self) -> Result<ContextMeeting, StoreError> {
        Ok(ContextMeeting {
            met_on: self.met_on,
            attendees: parse_list(&self.attendees)?,
            notes: self.notes,
            benchmarks: parse_list(&self.benchmarks)?,
            updated_at: from_db_time(self.updated_at),
            version: self.version,
        })
    }
}

pub fn get_context(conn: &mut DbConnection, engagement_id: EngagementId) -> Result<Option<ContextMeeting>, StoreError> {
    super::optional(
        context_meetings::table.find(engagement_id.to_string()).select(ContextRow::as_select()).first(conn),
    )?
    .map(ContextRow::into_domain)
    .transpose()
}

/// Writes the engagement's context meeting: inserted when `new`, else replaced.
pub fn save_context(
    conn: &mut DbConnection,
    engagement: &Engagement,
    meeting: &ContextMeeting,
    new: bool,
) -> Result<(), StoreError> {
    let values = (
        context_meetings::met_on.eq(meeting.met_on),
        context_meetings::attendees.eq(json_list(&meeting.attendees)),
        context_meetings::notes.eq(&meeting.notes),
        context_meetings::benchmarks.eq(json_list(&meeting.benchmarks)),
        context_meetings::updated_at.eq(to_db_time(meeting.updated_at)),
        context_meetings::version.eq(meeting.version),
    );
    if new {
        diesel::insert_into(context_meetings::table)
            .values((
                context_meetings::engagement_id.eq(engagement.id.to_string()),
                context_meetings::organization_id.eq(engagement.organization_id.to_string()),
                values,
            ))
            .execute(conn)?;
    } else {
        diesel::update(context_meetings::table.find(engagement.id.to_string())).set(values).execute(conn)?;
    }
    Ok(())
}

// ---- outcomes and measurements ----

#[derive(Queryable, Selectable, serde::Deserialize)]
#[diesel(table_name = outcomes)]
pub(crate) struct OutcomeRow {
    id: String,
    engagement_id: String,
    title: String,
    description: Option<String>,
    measure: Option<String>,
    baseline: Option<String>,
    target: Option<String>,
    unit: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

impl OutcomeRow {
    pub(crate) fn into_domain(self) -> Result<Outcome, StoreError> {
        Ok(Outcome {
            id: self.id.parse().map_err(|_| corrupt("outcome id", &self.id))?,
            engagement_id: self.engagement_id.parse().map_err(|_| corrupt("engagement id", &self.engagement_id))?,
            title: self.title,
            description: self.description,
            measure: self.measure,
            baseline: self.baseline,
            target: self.target,
            unit: self.unit,
            created_at: from_db_time(self.created_at),
            updated_at: from_db_time(self.updated_at),
            version: self.version,
        })
    }
}

/// The engagement's outcomes (not deleted), oldest first.
pub fn outcomes(conn: &mut DbConnection, engagement_id: EngagementId) -> Result<Vec<Outcome>, StoreError> {
    outcomes::table
        .filter(outcomes::engagement_id.eq(engagement_id.to_string()))
        .filter(outcomes::deleted_at.is_null())
        .order(outcomes::id.asc())
        .select(OutcomeRow::as_select())
        .load(conn)?
        .into_iter()
        .map(OutcomeRow::into_domain)
        .collect()
}

#[derive(Queryable, Selectable, serde::Deserialize)]
#[diesel(table_name = outcome_measurements)]
pub(crate) struct MeasurementRow {
    id: String,
    outcome_id: String,
    value: String,
    note: Option<String>,
    measured_at: NaiveDateTime,
    source: String,
    created_at: NaiveDateTime,
}

impl MeasurementRow {
    pub(crate) fn into_domain(self) -> Result<Measurement, StoreError> {
        Ok(Measurement {
            id: self.id.parse().map_err(|_| corrupt("measurement id", &self.id))?,
            outcome_id: self.outcome_id.parse().map_err(|_| corrupt("outcome id", &self.outcome_id))?,
            value: self.value,
            note: self.note,
            measured_at: from_db_time(self.measured_at),
            source: self
                .source
                .parse::<MeasurementSource>()
                .map_err(|_| corrupt("measurement source", &self.source))?,
            created_at: from_db_time(self.created_at),
        })
    }
}

/// Measurements of the engagement's outcomes, in time order (one query for all outcomes).
pub fn measurements(conn: &mut DbConnection, engagement_id: EngagementId) -> Result<Vec<Measurement>, StoreError> {
    outcome_measurements::table
        .filter(outcome_measurements::engagement_id.eq(engagement_id.to_string()))
        .order((outcome_measurements::measured_at.asc(), outcome_measurements::id.asc()))
        .select(MeasurementRow::as_select())
        .load(conn)?
        .into_iter()
        .map(MeasurementRow::into_domain)
        .collect()
}

/// An outcome as inserted (also by `seed`, many at a time).
#[derive(Insertable)]
#[diesel(table_name = outcomes, treat_none_as_null = true)]
pub(crate) struct NewOutcomeRow {
    id: String,
    engagement_id: String,
    organization_id: String,
    title: String,
    description: Option<String>,
    measure: Option<String>,
    baseline: Option<String>,
    target: Option<String>,
    unit: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

impl NewOutcomeRow {
    pub(crate) fn from_domain(outcome: &Outcome, organization_id: String) -> NewOutcomeRow {
        NewOutcomeRow {
            id: outcome.id.to_string(),
            engagement_id: outcome.engagement_id.to_string(),
            organization_id,
            title: outcome.title.clone(),
            description: outcome.description.clone(),
            measure: outcome.measure.clone(),
            baseline: outcome.baseline.clone(),
            target: outcome.target.clone(),
            unit: outcome.unit.clone(),
            created_at: to_db_time(outcome.created_at),
            updated_at: to_db_time(outcome.updated_at),
            version: outcome.version,
        }
    }
}

/// Inserts an outcome (inside the caller's transaction).
pub fn insert_outcome(conn: &mut DbConnection, engagement: &Engagement, outcome: &Outcome) -> Result<(), StoreError> {
    diesel::insert_into(outcomes::table)
        .values(NewOutcomeRow::from_domain(outcome, engagement.organization_id.to_string()))
        .execute(conn)?;
    Ok(())
}

/// Inserts a measurement (inside the caller's transaction).
pub fn insert_measurement(
    conn: &mut DbConnection,
    engagement: &Engagement,
    measurement: &Measurement,
) -> Result<(), StoreError> {
    diesel::insert_into(outcome_measurements::table)
        .values((
            outcome_measurements::id.eq(measurement.id.to_string()),
            outcome_measurements::outcome_id.eq(measurement.outcome_id.to_string()),
            outcome_measurements::engagement_id.eq(engagement.id.to_string()),
            outcome_measurements::organization_id.eq(engagement.organization_id.to_string()),
            outcome_measurements::value.eq(&measurement.value),
            outcome_measurements::note.eq(&measurement.note),
            outcome_measurements::measured_at.eq(to_db_time(measurement.measured_at)),
            outcome_measurements::source.eq(measurement.source.as_str()),
            outcome_measurements::created_at.eq(to_db_time(measurement.created_at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// An outcome of the engagement that has not been removed.
pub fn find_outcome(
    conn: &mut DbConnection,
    engagement_id: EngagementId,
    outcome_id: OutcomeId,
) -> Result<Outcome, StoreError> {
    super::optional(
        outcomes::table
            .filter(outcomes::id.eq(outcome_id.to_string()))
            .filter(outcomes::engagement_id.eq(engagement_id.to_string()))
            .filter(outcomes::deleted_at.is_null())
            .select(OutcomeRow::as_select())
            .first(conn),
    )?
    .map(OutcomeRow::into_domain)
    .transpose()?
    .ok_or_else(|| StoreError::not_found("outcome"))
}

/// Writes an outcome's fields and version.
pub fn save_outcome(conn: &mut DbConnection, outcome: &Outcome) -> Result<(), StoreError> {
    diesel::update(outcomes::table.find(outcome.id.to_string()))
        .set((
            outcomes::title.eq(&outcome.title),
            outcomes::description.eq(&outcome.description),
            outcomes::measure.eq(&outcome.measure),
            outcomes::baseline.eq(&outcome.baseline),
            outcomes::target.eq(&outcome.target),
            outcomes::unit.eq(&outcome.unit),
            outcomes::updated_at.eq(to_db_time(outcome.updated_at)),
            outcomes::version.eq(outcome.version),
        ))
        .execute(conn)?;
    Ok(())
}

/// Marks an outcome removed (kept, with its measurements, for history).
pub fn remove_outcome(conn: &mut DbConnection, outcome: &Outcome) -> Result<(), StoreError> {
    diesel::update(outcomes::table.find(outcome.id.to_string()))
        .set((outcomes::deleted_at.eq(to_db_time(time::now())), outcomes::version.eq(outcome.version + 1)))
        .execute(conn)?;
    Ok(())
}

// ---- leader interview ----

#[derive(Queryable, Selectable, serde::Deserialize)]
#[diesel(table_name = leader_interviews)]
pub(crate) struct InterviewRow {
    interviewed_on: chrono::NaiveDate,
    commitments: Option<String>,
    immediate_concerns: Option<String>,
    common_breakdowns: Option<String>,
    behaviours: Option<String>,
    communication_style: Option<String>,
    promise_pattern: Option<String>,
    notes: Option<String>,
    updated_at: NaiveDateTime,
    version: i64,
}

impl InterviewRow {
    pub(crate) fn into_domain(self) -> LeaderInterview {
        LeaderInterview {
            interviewed_on: self.interviewed_on,
            commitments: self.commitments,
            immediate_concerns: self.immediate_concerns,
            common_breakdowns: self.common_breakdowns,
            behaviours: self.behaviours,
            communication_style: self.communication_style,
            promise_pattern: self.promise_pattern,
            notes: self.notes,
            updated_at: from_db_time(self.updated_at),
            version: self.version,
        }
    }
}

pub fn get_leader_interview(
    conn: &mut DbConnection,
    engagement_id: EngagementId,
) -> Result<Option<LeaderInterview>, StoreError> {
    let row: Option<InterviewRow> = super::optional(
        leader_interviews::table.find(engagement_id.to_string()).select(InterviewRow::as_select()).first(conn),
    )?;
    Ok(row.map(InterviewRow::into_domain))
}

/// Writes the engagement's leader interview: inserted when `new`, else replaced.
pub fn save_leader_interview(
    conn: &mut DbConnection,
    engagement: &Engagement,
    interview: &LeaderInterview,
    new: bool,
) -> Result<(), StoreError> {
    let values = (
        leader_interviews::interviewed_on.eq(interview.interviewed_on),
        leader_interviews::commitments.eq(interview.commitments.clone()),
        leader_interviews::immediate_concerns.eq(interview.immediate_concerns.clone()),
        leader_interviews::common_breakdowns.eq(interview.common_breakdowns.clone()),
        leader_interviews::behaviours.eq(interview.behaviours.clone()),
        leader_interviews::communication_style.eq(interview.communication_style.clone()),
        leader_interviews::promise_pattern.eq(interview.promise_pattern.clone()),
        leader_interviews::notes.eq(interview.notes.clone()),
        leader_interviews::updated_at.eq(to_db_time(interview.updated_at)),
        leader_interviews::version.eq(interview.version),
    );
    if new {
        diesel::insert_into(leader_interviews::table)
            .values((
                leader_interviews::engagement_id.eq(engagement.id.to_string()),
                leader_interviews::organization_id.eq(engagement.organization_id.to_string()),
                values,
            ))
            .execute(conn)?;
    } else {
        diesel::update(leader_interviews::table.find(engagement.id.to_string())).set(values).execute(conn)?;
    }
    Ok(())
}
