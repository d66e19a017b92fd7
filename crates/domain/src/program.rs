//! What the program's first steps hold (docs/program.md, what each step holds): the context meeting and
//! the outcomes with their measurements (step 1), and the leader interview (step 2).

use chrono::NaiveDate;

use crate::error::{DomainError, ValidationErrors};
use crate::id::{EngagementId, MeasurementId, OutcomeId};
use crate::time::{self, Timestamp};
use crate::validate;
use crate::wire::wire_enum;

const SHORT: usize = 200;
const MEDIUM: usize = 2000;
const LONG: usize = 20_000;
const LIST_MAX: usize = 50;

fn optional_text(errors: &mut ValidationErrors, field: &str, value: Option<&str>, max: usize) -> Option<String> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    validate::text_multiline(errors, field, value, max)
}

fn text_list(errors: &mut ValidationErrors, field: &str, values: &[String], max: usize) -> Vec<String> {
    if values.len() > LIST_MAX {
        errors.add(field, "too_many", format!("at most {LIST_MAX} entries"));
        return Vec::new();
    }
    values.iter().enumerate().filter_map(|(i, v)| validate::text(errors, &format!("{field}[{i}]"), v, 1, max)).collect()
}

/// The context meeting: coach, leader and sponsor define outcomes and benchmarks.
#[derive(Clone, Debug, PartialEq)]
pub struct ContextMeeting {
    pub met_on: NaiveDate,
    pub attendees: Vec<String>,
    pub notes: String,
    pub benchmarks: Vec<String>,
    pub updated_at: Timestamp,
    pub version: i64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContextMeetingInput {
    pub met_on: Option<NaiveDate>,
    pub attendees: Vec<String>,
    pub notes: Option<String>,
    pub benchmarks: Vec<String>,
}

impl ContextMeeting {
    /// The meeting as recorded by `input`, replacing `previous` (whose version is bumped).
    pub fn record(
        input: ContextMeetingInput,
        previous: Option<&ContextMeeting>,
    ) -> Result<ContextMeeting, DomainError> {
        let mut errors = ValidationErrors::new();
        if input.met_on.is_none() {
            errors.add("met_on", "required", "the date of the meeting is required");
        }
        let attendees = text_list(&mut errors, "attendees", &input.attendees, SHORT);
        if input.attendees.is_empty() {
            errors.add("attendees", "required", "name who attended");
        }
        let notes = optional_text(&mut errors, "notes", input.notes.as_deref(), LONG).unwrap_or_default();
        let benchmarks = text_list(&mut errors, "benchmarks", &input.benchmarks, MEDIUM);
        errors.finish(())?;
        Ok(ContextMeeting {
            met_on: input.met_on.expect("validated"),
            attendees,
            notes,
            benchmarks,
            updated_at: time::now(),
            version: previous.map_or(1, |p| p.version + 1),
        })
    }
}

/// An intended outcome of the program, judged by `measure` from `baseline` to `target`.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub id: OutcomeId,
    pub engagement_id: EngagementId,
    pub title: String,
    pub description: Option<String>,
    pub measure: Option<String>,
    pub baseline: Option<String>,
    pub target: Option<String>,
    pub unit: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// Fields of an outcome; on update, `Some(None)` clears an optional field.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OutcomeChanges {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub measure: Option<Option<String>>,
    pub baseline: Option<Option<String>>,
    pub target: Option<Option<String>>,
    pub unit: Option<Option<String>>,
}

impl OutcomeChanges {
    pub fn changed_fields(&self) -> Vec<&'static str> {
        [
            (self.title.is_some(), "title"),
            (self.description.is_some(), "description"),
            (self.measure.is_some(), "measure"),
            (self.baseline.is_some(), "baseline"),
            (self.target.is_some(), "target"),
            (self.unit.is_some(), "unit"),
        ]
        .into_iter()
        .filter_map(|(set, name)| set.then_some(name))
        .collect()
    }
}

fn apply_optional(
    errors: &mut ValidationErrors,
    field: &str,
    change: &Option<Option<String>>,
    current: &mut Option<String>,
    max: usize,
) {
    if let Some(value) = change {
        *current = optional_text(errors, field, value.as_deref(), max);
    }
}

impl Outcome {
    pub fn create(engagement_id: EngagementId, input: &OutcomeChanges) -> Result<Outcome, DomainError> {
        let now = time::now();
        let blank = Outcome {
            id: OutcomeId::generate(),
            engagement_id,
            title: String::new(),
            description: None,
            measure: None,
            baseline: None,
            target: None,
            unit: None,
            created_at: now,
            updated_at: now,
            version: 0,
        };
        if input.title.is_none() {
            return Err(DomainError::Validation(ValidationErrors::single("title", "required", "is required")));
        }
        blank.apply(input)
    }

    /// The outcome with `changes` applied; the version is bumped.
    pub fn apply(&self, changes: &OutcomeChanges) -> Result<Outcome, DomainError> {
        let mut errors = ValidationErrors::new();
        let mut next = self.clone();
        if let Some(title) = changes.title.as_deref().and_then(|t| validate::text(&mut errors, "title", t, 1, SHORT)) {
            next.title = title;
        }
        apply_optional(&mut errors, "description", &changes.description, &mut next.description, MEDIUM);
        apply_optional(&mut errors, "measure", &changes.measure, &mut next.measure, MEDIUM);
        apply_optional(&mut errors, "baseline", &changes.baseline, &mut next.baseline, SHORT);
        apply_optional(&mut errors, "target", &changes.target, &mut next.target, SHORT);
        apply_optional(&mut errors, "unit", &changes.unit, &mut next.unit, 50);
        errors.finish(())?;
        next.updated_at = time::now();
        next.version += 1;
        Ok(next)
    }

    pub fn is_complete(&self) -> (bool, bool, bool) {
        (self.baseline.is_some(), self.target.is_some(), self.measure.is_some())
    }
}

wire_enum!(
    MeasurementSource as MeasurementSourceValue {
        Session => "session",
        MidReview => "mid_review",
        EndReview => "end_review",
        Stakeholder => "stakeholder",
    }
);

/// A measurement of an outcome at a point in time.
#[derive(Clone, Debug, PartialEq)]
pub struct Measurement {
    pub id: MeasurementId,
    pub outcome_id: OutcomeId,
    pub value: String,
    pub note: Option<String>,
    pub measured_at: Timestamp,
    pub source: MeasurementSource,
    pub created_at: Timestamp,
}

/// A measurement as a client sends it.
#[derive(Clone, Debug, PartialEq)]
pub struct MeasurementInput {
    pub value: String,
    pub note: Option<String>,
    /// Default: now.
    pub measured_at: Option<Timestamp>,
    pub source: MeasurementSource,
}

impl Measurement {
    pub fn record(
        outcome_id: OutcomeId,
        value: &str,
        note: Option<&str>,
        measured_at: Option<Timestamp>,
        source: MeasurementSource,
    ) -> Result<Measurement, DomainError> {
        let mut errors = ValidationErrors::new();
        let value = validate::text(&mut errors, "value", value, 1, SHORT);
        let note = optional_text(&mut errors, "note", note, MEDIUM);
        let now = time::now();
        let measured_at = measured_at.map(time::truncate).unwrap_or(now);
        if measured_at > now + chrono::Duration::minutes(5) {
            errors.add("measured_at", "in_future", "a measurement cannot be in the future");
        }
        errors.finish(())?;
        Ok(Measurement {
            id: MeasurementId::generate(),
            outcome_id,
            value: value.expect("validated"),
            note,
            measured_at,
            source,
            created_at: now,
        })
    }
}

/// The extensive interview with the leader (step 2): the coach's notes, seen by no one else.
#[derive(Clone, Debug, PartialEq)]
pub struct LeaderInterview {
    pub interviewed_on: NaiveDate,
    pub commitments: Option<String>,
    pub immediate_concerns: Option<String>,
    pub common_breakdowns: Option<String>,
    pub behaviours: Option<String>,
    pub communication_style: Option<String>,
    pub promise_pattern: Option<String>,
    pub notes: Option<String>,
    pub updated_at: Timestamp,
    pub version: i64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct LeaderInterviewInput {
    pub interviewed_on: Option<NaiveDate>,
    pub commitments: Option<String>,
    pub immediate_concerns: Option<String>,
    pub common_breakdowns: Option<String>,
    pub behaviours: Option<String>,
    pub communication_style: Option<String>,
    pub promise_pattern: Option<String>,
    pub notes: Option<String>,
}

impl LeaderInterview {
    pub fn record(
        input: LeaderInterviewInput,
        previous: Option<&LeaderInterview>,
    ) -> Result<LeaderInterview, DomainError> {
        let mut errors = ValidationErrors::new();
        if input.interviewed_on.is_none() {
            errors.add("interviewed_on", "required", "the date of the interview is required");
        }
        let mut field = |name: &str, value: &Option<String>| optional_text(&mut errors, name, value.as_deref(), LONG);
        let interview = LeaderInterview {
            interviewed_on: input.interviewed_on.unwrap_or_default(),
            commitments: field("commitments", &input.commitments),
            immediate_concerns: field("immediate_concerns", &input.immediate_concerns),
            common_breakdowns: field("common_breakdowns", &input.common_breakdowns),
            behaviours: field("behaviours", &input.behaviours),
            communication_style: field("communication_style", &input.communication_style),
            promise_pattern: field("promise_pattern", &input.promise_pattern),
            notes: field("notes", &input.notes),
            updated_at: time::now(),
            version: previous.map_or(1, |p| p.version + 1),
        };
        errors.finish(interview)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_meetings_need_a_date_and_attendees() {
        let DomainError::Validation(errors) = ContextMeeting::record(ContextMeetingInput::default(), None).unwrap_err()
        else {
            panic!()
        };
        let fields: Vec<_> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["met_on", "attendees"]);
        let meeting = ContextMeeting::record(
            ContextMeetingInput {
                met_on: NaiveDate::from_ymd_opt(2026, 1, 20),
                attendees: vec!["Coach".into(), "Leader".into()],
                notes: Some("  agreed on delegation  ".into()),
                benchmarks: vec!["360 score".into()],
            },
            None,
        )
        .unwrap();
        assert_eq!((meeting.notes.as_str(), meeting.version), ("agreed on delegation", 1));
    }

    #[test]
    fn outcomes_are_created_patched_and_cleared() {
        let changes = OutcomeChanges {
            title: Some("Delegates more".into()),
            baseline: Some(Some("2 of 10".into())),
            ..Default::default()
        };
        let outcome = Outcome::create(EngagementId::generate(), &changes).unwrap();
        assert_eq!((outcome.version, outcome.is_complete()), (1, (true, false, false)));
        let patched = outcome
            .apply(&OutcomeChanges { target: Some(Some("8 of 10".into())), baseline: Some(None), ..Default::default() })
            .unwrap();
        assert_eq!((patched.version, patched.is_complete()), (2, (false, true, false)));
        assert!(Outcome::create(EngagementId::generate(), &OutcomeChanges::default()).is_err(), "title required");
    }

    #[test]
    fn measurements_cannot_be_in_the_future() {
        let later = time::now() + chrono::Duration::days(2);
        assert!(
            Measurement::record(OutcomeId::generate(), "5", None, Some(later), MeasurementSource::Session).is_err()
        );
        assert!(Measurement::record(OutcomeId::generate(), "5", None, None, MeasurementSource::Stakeholder).is_ok());
    }
}
