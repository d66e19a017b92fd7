//! The content of the program's steps: context meeting, outcomes with measurements, leader
//! interview. Every change locks the engagement row first (so changes of one engagement queue),
//! asks `authorize` with the engagement, and writes its audit record in the same transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use keel_domain::audit::{AuditRecord, CommandContext};
use keel_domain::engagement::Engagement;
use keel_domain::program::{
    ContextMeeting, ContextMeetingInput, LeaderInterview, LeaderInterviewInput, Measurement, MeasurementSource,
    Outcome, OutcomeChanges,
};
use keel_domain::time;
use keel_domain::{DomainError, Precondition};

use crate::connection::{DbConnection, write_transaction};
use crate::error::StoreError;
use crate::repo::{audit, engagements};
use crate::rows::{corrupt, from_db_time, to_db_time};
use crate::schema::{context_meetings, leader_interviews, outcome_measurements, outcomes};

pub type Authorize<'a> = &'a dyn Fn(&Engagement) -> Result<(), DomainError>;

pub(crate) fn json_list(values: &[String]) -> String {
    serde_json::to_string(values).expect("strings serialize")
}

fn parse_list(value: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(value).map_err(|_| corrupt("list", value))
}

/// The engagement, locked, if `authorize` allows; refused when it has ended.
pub(crate) fn open_for_change(
    conn: &mut DbConnection,
    engagement_id: uuid::Uuid,
    authorize: Authorize<'_>,
) -> Result<Engagement, StoreError> {
    let engagement = engagements::get_for_update(conn, engagement_id)?;
    authorize(&engagement)?;
    if engagement.phase.is_terminal() {
        return Err(DomainError::conflict("engagement_ended", format!("the engagement is {}", engagement.phase)).into());
    }
    Ok(engagement)
}

// ---- context meeting ----

type ContextRow = (chrono::NaiveDate, String, String, String, NaiveDateTime, i64);

pub fn get_context(conn: &mut DbConnection, engagement_id: uuid::Uuid) -> Result<Option<ContextMeeting>, StoreError> {
    let row: Option<ContextRow> = super::optional(
        context_meetings::table
            .find(engagement_id.to_string())
            .select((
                context_meetings::met_on,
                context_meetings::attendees,
                context_meetings::notes,
                context_meetings::benchmarks,
                context_meetings::updated_at,
                context_meetings::version,
            ))
            .first(conn),
    )?;
    row.map(|(met_on, attendees, notes, benchmarks, updated_at, version)| {
        Ok(ContextMeeting {
            met_on,
            attendees: parse_list(&attendees)?,
            notes,
            benchmarks: parse_list(&benchmarks)?,
            updated_at: from_db_time(updated_at),
            version,
        })
    })
    .transpose()
}

pub fn put_context(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    engagement_id: uuid::Uuid,
    precondition: Option<&Precondition>,
    input: ContextMeetingInput,
    authorize: Authorize<'_>,
) -> Result<ContextMeeting, StoreError> {
    write_transaction(conn, |conn| {
        let engagement = open_for_change(conn, engagement_id, authorize)?;
        let previous = get_context(conn, engagement_id)?;
        if let Some(previous) = &previous {
            Precondition::check(precondition, previous.version)?;
        }
        let meeting = ContextMeeting::record(input, previous.as_ref())?;
        let values = (
            context_meetings::met_on.eq(meeting.met_on),
            context_meetings::attendees.eq(json_list(&meeting.attendees)),
            context_meetings::notes.eq(&meeting.notes),
            context_meetings::benchmarks.eq(json_list(&meeting.benchmarks)),
            context_meetings::updated_at.eq(to_db_time(meeting.updated_at)),
            context_meetings::version.eq(meeting.version),
        );
        if previous.is_some() {
            diesel::update(context_meetings::table.find(engagement_id.to_string())).set(values).execute(conn)?;
        } else {
            diesel::insert_into(context_meetings::table)
                .values((
                    context_meetings::engagement_id.eq(engagement_id.to_string()),
                    context_meetings::organization_id.eq(engagement.organization_id.to_string()),
                    values,
                ))
                .execute(conn)?;
        }
        let record = AuditRecord::new(
            ctx,
            "context_meeting.recorded",
            "engagement",
            engagement_id,
            Some(engagement.organization_id),
        );
        audit::append(conn, &record.with_fields(vec!["context"]))?;
        Ok(meeting)
    })
}

// ---- outcomes and measurements ----

#[derive(Queryable, Selectable)]
#[diesel(table_name = outcomes)]
struct OutcomeRow {
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
    fn into_domain(self) -> Result<Outcome, StoreError> {
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
pub fn outcomes(conn: &mut DbConnection, engagement_id: uuid::Uuid) -> Result<Vec<Outcome>, StoreError> {
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

/// Measurements of the engagement's outcomes, in time order (one query for all outcomes).
pub fn measurements(conn: &mut DbConnection, engagement_id: uuid::Uuid) -> Result<Vec<Measurement>, StoreError> {
    type Row = (String, String, String, Option<String>, NaiveDateTime, String, NaiveDateTime);
    let rows: Vec<Row> = outcome_measurements::table
        .filter(outcome_measurements::engagement_id.eq(engagement_id.to_string()))
        .order((outcome_measurements::measured_at.asc(), outcome_measurements::id.asc()))
        .select((
            outcome_measurements::id,
            outcome_measurements::outcome_id,
            outcome_measurements::value,
            outcome_measurements::note,
            outcome_measurements::measured_at,
            outcome_measurements::source,
            outcome_measurements::created_at,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(id, outcome_id, value, note, measured_at, source, created_at)| {
            Ok(Measurement {
                id: id.parse().map_err(|_| corrupt("measurement id", &id))?,
                outcome_id: outcome_id.parse().map_err(|_| corrupt("outcome id", &outcome_id))?,
                value,
                note,
                measured_at: from_db_time(measured_at),
                source: source.parse::<MeasurementSource>().map_err(|_| corrupt("measurement source", &source))?,
                created_at: from_db_time(created_at),
            })
        })
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
pub(crate) fn insert_outcome(
    conn: &mut DbConnection,
    engagement: &Engagement,
    outcome: &Outcome,
) -> Result<(), StoreError> {
    diesel::insert_into(outcomes::table)
        .values(NewOutcomeRow::from_domain(outcome, engagement.organization_id.to_string()))
        .execute(conn)?;
    Ok(())
}

/// Inserts a measurement (inside the caller's transaction).
pub(crate) fn insert_measurement(
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

pub fn create_outcome(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    engagement_id: uuid::Uuid,
    changes: &OutcomeChanges,
    authorize: Authorize<'_>,
) -> Result<Outcome, StoreError> {
    write_transaction(conn, |conn| {
        let engagement = open_for_change(conn, engagement_id, authorize)?;
        let outcome = Outcome::create(engagement_id, changes)?;
        insert_outcome(conn, &engagement, &outcome)?;
        let record = AuditRecord::new(ctx, "outcome.created", "outcome", outcome.id, Some(engagement.organization_id));
        audit::append(conn, &record.with_fields(changes.changed_fields()))?;
        Ok(outcome)
    })
}

fn find_outcome(
    conn: &mut DbConnection,
    engagement_id: uuid::Uuid,
    outcome_id: uuid::Uuid,
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

pub fn update_outcome(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    engagement_id: uuid::Uuid,
    outcome_id: uuid::Uuid,
    precondition: Option<&Precondition>,
    changes: &OutcomeChanges,
    authorize: Authorize<'_>,
) -> Result<Outcome, StoreError> {
    write_transaction(conn, |conn| {
        let engagement = open_for_change(conn, engagement_id, authorize)?;
        let current = find_outcome(conn, engagement_id, outcome_id)?;
        Precondition::check(precondition, current.version)?;
        let next = current.apply(changes)?;
        diesel::update(outcomes::table.find(outcome_id.to_string()))
            .set((
                outcomes::title.eq(&next.title),
                outcomes::description.eq(&next.description),
                outcomes::measure.eq(&next.measure),
                outcomes::baseline.eq(&next.baseline),
                outcomes::target.eq(&next.target),
                outcomes::unit.eq(&next.unit),
                outcomes::updated_at.eq(to_db_time(next.updated_at)),
                outcomes::version.eq(next.version),
            ))
            .execute(conn)?;
        let record = AuditRecord::new(ctx, "outcome.updated", "outcome", outcome_id, Some(engagement.organization_id));
        audit::append(conn, &record.with_fields(changes.changed_fields()))?;
        Ok(next)
    })
}

/// Removes an outcome from the program (kept, with its measurements, for history).
pub fn delete_outcome(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    engagement_id: uuid::Uuid,
    outcome_id: uuid::Uuid,
    precondition: Option<&Precondition>,
    authorize: Authorize<'_>,
) -> Result<(), StoreError> {
    write_transaction(conn, |conn| {
        let engagement = open_for_change(conn, engagement_id, authorize)?;
        let current = find_outcome(conn, engagement_id, outcome_id)?;
        Precondition::check(precondition, current.version)?;
        diesel::update(outcomes::table.find(outcome_id.to_string()))
            .set((outcomes::deleted_at.eq(to_db_time(time::now())), outcomes::version.eq(current.version + 1)))
            .execute(conn)?;
        let record = AuditRecord::new(ctx, "outcome.deleted", "outcome", outcome_id, Some(engagement.organization_id));
        audit::append(conn, &record)?;
        Ok(())
    })
}

#[allow(clippy::too_many_arguments)]
pub fn add_measurement(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    engagement_id: uuid::Uuid,
    outcome_id: uuid::Uuid,
    value: &str,
    note: Option<&str>,
    measured_at: Option<keel_domain::time::Timestamp>,
    source: MeasurementSource,
    authorize: Authorize<'_>,
) -> Result<Measurement, StoreError> {
    write_transaction(conn, |conn| {
        let engagement = open_for_change(conn, engagement_id, authorize)?;
        find_outcome(conn, engagement_id, outcome_id)?;
        let measurement = Measurement::record(outcome_id, value, note, measured_at, source)?;
        insert_measurement(conn, &engagement, &measurement)?;
        let record =
            AuditRecord::new(ctx, "measurement.recorded", "outcome", outcome_id, Some(engagement.organization_id));
        audit::append(conn, &record)?;
        Ok(measurement)
    })
}

// ---- leader interview ----

#[derive(Queryable, Selectable)]
#[diesel(table_name = leader_interviews)]
struct InterviewRow {
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

pub fn get_leader_interview(
    conn: &mut DbConnection,
    engagement_id: uuid::Uuid,
) -> Result<Option<LeaderInterview>, StoreError> {
    let row: Option<InterviewRow> = super::optional(
        leader_interviews::table.find(engagement_id.to_string()).select(InterviewRow::as_select()).first(conn),
    )?;
    Ok(row.map(|r| LeaderInterview {
        interviewed_on: r.interviewed_on,
        commitments: r.commitments,
        immediate_concerns: r.immediate_concerns,
        common_breakdowns: r.common_breakdowns,
        behaviours: r.behaviours,
        communication_style: r.communication_style,
        promise_pattern: r.promise_pattern,
        notes: r.notes,
        updated_at: from_db_time(r.updated_at),
        version: r.version,
    }))
}

pub fn put_leader_interview(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    engagement_id: uuid::Uuid,
    precondition: Option<&Precondition>,
    input: LeaderInterviewInput,
    authorize: Authorize<'_>,
) -> Result<LeaderInterview, StoreError> {
    write_transaction(conn, |conn| {
        let engagement = open_for_change(conn, engagement_id, authorize)?;
        let previous = get_leader_interview(conn, engagement_id)?;
        if let Some(previous) = &previous {
            Precondition::check(precondition, previous.version)?;
        }
        let interview = LeaderInterview::record(input, previous.as_ref())?;
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
        if previous.is_some() {
            diesel::update(leader_interviews::table.find(engagement_id.to_string())).set(values).execute(conn)?;
        } else {
            diesel::insert_into(leader_interviews::table)
                .values((
                    leader_interviews::engagement_id.eq(engagement_id.to_string()),
                    leader_interviews::organization_id.eq(engagement.organization_id.to_string()),
                    values,
                ))
                .execute(conn)?;
        }
        // The audit record names the step, never its content.
        let record = AuditRecord::new(
            ctx,
            "leader_interview.recorded",
            "engagement",
            engagement_id,
            Some(engagement.organization_id),
        );
        audit::append(conn, &record)?;
        Ok(interview)
    })
}
