//! Steps 1 and 2 of the program: the context meeting, outcomes with their measurements, and the
//! leader interview. Who may see or write each is the policy's per-part rule (docs/access.md); only the
//! coach writes, and an ended engagement changes no more.

use keel_domain::audit::AuditRecord;
use keel_domain::engagement::Engagement;
use keel_domain::policy::{self, Part};
use keel_domain::program::{
    ContextMeeting, ContextMeetingInput, LeaderInterview, LeaderInterviewInput, Measurement, MeasurementInput, Outcome,
    OutcomeChanges,
};
use keel_domain::{DomainError, EngagementId, OutcomeId, Precondition};
use keel_persistence::repo::{engagements, program};
use keel_persistence::{DbConnection, StoreError};

use crate::frame::{self, Caller};

/// The engagement, locked for a change of `part`, once the policy allows the caller to write it.
pub(crate) fn open_for_write(
    conn: &mut DbConnection,
    caller: &Caller,
    engagement_id: EngagementId,
    part: Part,
) -> Result<Engagement, StoreError> {
    let engagement = engagements::get_for_update(conn, engagement_id)?;
    policy::check_part(&caller.principal, &engagement, part, true)?;
    Ok(engagement)
}

/// Like [`open_for_write`], and refused when the engagement has ended.
pub(crate) fn open_for_change(
    conn: &mut DbConnection,
    caller: &Caller,
    engagement_id: EngagementId,
    part: Part,
) -> Result<Engagement, StoreError> {
    let engagement = open_for_write(conn, caller, engagement_id, part)?;
    if engagement.phase.is_terminal() {
        return Err(DomainError::conflict("engagement_ended", format!("the engagement is {}", engagement.phase)).into());
    }
    Ok(engagement)
}

/// The engagement, once the policy allows the caller to read `part` of it.
pub(crate) fn readable(
    conn: &mut DbConnection,
    caller: &Caller,
    engagement_id: EngagementId,
    part: Part,
) -> Result<Engagement, StoreError> {
    let engagement = engagements::get(conn, engagement_id)?;
    policy::check_part(&caller.principal, &engagement, part, false)?;
    Ok(engagement)
}

// ---- context meeting ----

/// Records (or replaces) the context meeting.
pub fn put_context(
    conn: &mut DbConnection,
    caller: &Caller,
    engagement_id: EngagementId,
    precondition: Option<&Precondition>,
    input: ContextMeetingInput,
) -> Result<ContextMeeting, StoreError> {
    frame::run(conn, |tx, effects| {
        let engagement = open_for_change(tx, caller, engagement_id, Part::ContextMeeting)?;
        let previous = program::get_context(tx, engagement_id)?;
        if let Some(previous) = &previous {
            Precondition::check(precondition, previous.version)?;
        }
        let meeting = ContextMeeting::record(input, previous.as_ref())?;
        program::save_context(tx, &engagement, &meeting, previous.is_none())?;
        let record = AuditRecord::new(
            &caller.ctx,
            "context_meeting.recorded",
            "engagement",
            engagement_id,
            Some(engagement.organization_id),
        );
        effects.audit(record.with_fields(vec!["context"]));
        Ok(meeting)
    })
}

pub fn get_context(
    conn: &mut DbConnection,
    caller: &Caller,
    engagement_id: EngagementId,
) -> Result<ContextMeeting, StoreError> {
    readable(conn, caller, engagement_id, Part::ContextMeeting)?;
    program::get_context(conn, engagement_id)?.ok_or_else(|| StoreError::not_found("context meeting"))
}

// ---- outcomes and measurements ----

/// The engagement's outcomes and all their measurements.
pub fn list_outcomes(
    conn: &mut DbConnection,
    caller: &Caller,
    engagement_id: EngagementId,
) -> Result<(Vec<Outcome>, Vec<Measurement>), StoreError> {
    readable(conn, caller, engagement_id, Part::Outcomes)?;
    Ok((program::outcomes(conn, engagement_id)?, program::measurements(conn, engagement_id)?))
}

pub fn create_outcome(
    conn: &mut DbConnection,
    caller: &Caller,
    engagement_id: EngagementId,
    changes: &OutcomeChanges,
) -> Result<Outcome, StoreError> {
    frame::run(conn, |tx, effects| {
        let engagement = open_for_change(tx, caller, engagement_id, Part::Outcomes)?;
        let outcome = Outcome::create(engagement_id, changes)?;
        program::insert_outcome(tx, &engagement, &outcome)?;
        let record =
            AuditRecord::new(&caller.ctx, "outcome.created", "outcome", outcome.id, Some(engagement.organization_id));
        effects.audit(record.with_fields(changes.changed_fields()));
        Ok(outcome)
    })
}

/// Changes an outcome; returns it with the engagement's measurements.
pub fn update_outcome(
    conn: &mut DbConnection,
    caller: &Caller,
    (engagement_id, outcome_id): (EngagementId, OutcomeId),
    precondition: Option<&Precondition>,
    changes: &OutcomeChanges,
) -> Result<(Outcome, Vec<Measurement>), StoreError> {
    let outcome = frame::run(conn, |tx, effects| {
        let engagement = open_for_change(tx, caller, engagement_id, Part::Outcomes)?;
        let current = program::find_outcome(tx, engagement_id, outcome_id)?;
        Precondition::check(precondition, current.version)?;
        let next = current.apply(changes)?;
        program::save_outcome(tx, &next)?;
        let record =
            AuditRecord::new(&caller.ctx, "outcome.updated", "outcome", outcome_id, Some(engagement.organization_id));
        effects.audit(record.with_fields(changes.changed_fields()));
        Ok(next)
    })?;
    Ok((outcome, program::measurements(conn, engagement_id)?))
}

/// Removes an outcome from the program (kept, with its measurements, for history).
pub fn delete_outcome(
    conn: &mut DbConnection,
    caller: &Caller,
    (engagement_id, outcome_id): (EngagementId, OutcomeId),
    precondition: Option<&Precondition>,
) -> Result<(), StoreError> {
    frame::run(conn, |tx, effects| {
        let engagement = open_for_change(tx, caller, engagement_id, Part::Outcomes)?;
        let current = program::find_outcome(tx, engagement_id, outcome_id)?;
        Precondition::check(precondition, current.version)?;
        program::remove_outcome(tx, &current)?;
        effects.audit(AuditRecord::new(
            &caller.ctx,
            "outcome.deleted",
            "outcome",
            outcome_id,
            Some(engagement.organization_id),
        ));
        Ok(())
    })
}

pub fn add_measurement(
    conn: &mut DbConnection,
    caller: &Caller,
    (engagement_id, outcome_id): (EngagementId, OutcomeId),
    input: &MeasurementInput,
) -> Result<Measurement, StoreError> {
    frame::run(conn, |tx, effects| {
        let engagement = open_for_change(tx, caller, engagement_id, Part::Outcomes)?;
        program::find_outcome(tx, engagement_id, outcome_id)?;
        let measurement =
            Measurement::record(outcome_id, &input.value, input.note.as_deref(), input.measured_at, input.source)?;
        program::insert_measurement(tx, &engagement, &measurement)?;
        effects.audit(AuditRecord::new(
            &caller.ctx,
            "measurement.recorded",
            "outcome",
            outcome_id,
            Some(engagement.organization_id),
        ));
        Ok(measurement)
    })
}

// ---- leader interview ----

/// Records (or replaces) the leader interview. Its audit record names the step, never its content.
pub fn put_leader_interview(
    conn: &mut DbConnection,
    caller: &Caller,
    engagement_id: EngagementId,
    precondition: Option<&Precondition>,
    input: LeaderInterviewInput,
) -> Result<LeaderInterview, StoreError> {
    frame::run(conn, |tx, effects| {
        let engagement = open_for_change(tx, caller, engagement_id, Part::LeaderInterview)?;
        let previous = program::get_leader_interview(tx, engagement_id)?;
        if let Some(previous) = &previous {
            Precondition::check(precondition, previous.version)?;
        }
        let interview = LeaderInterview::record(input, previous.as_ref())?;
        program::save_leader_interview(tx, &engagement, &interview, previous.is_none())?;
        effects.audit(AuditRecord::new(
            &caller.ctx,
            "leader_interview.recorded",
            "engagement",
            engagement_id,
            Some(engagement.organization_id),
        ));
        Ok(interview)
    })
}

pub fn get_leader_interview(
    conn: &mut DbConnection,
    caller: &Caller,
    engagement_id: EngagementId,
) -> Result<LeaderInterview, StoreError> {
    readable(conn, caller, engagement_id, Part::LeaderInterview)?;
    program::get_leader_interview(conn, engagement_id)?.ok_or_else(|| StoreError::not_found("leader interview"))
}
