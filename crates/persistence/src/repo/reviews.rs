//! The mid- and end-of-program reviews. Recording one writes each outcome's actual state as a
//! measurement (source mid_review / end_review); the end review closes the engagement
//! (`completed`) or renews it: a new engagement with the same people and the new outcomes,
//! linked to this one — all in one transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use keel_domain::audit::{AuditRecord, CommandContext};
use keel_domain::engagement::{Engagement, NewEngagement, Phase};
use keel_domain::event::DomainEvent;
use keel_domain::program::{Measurement, MeasurementSource, Outcome, OutcomeChanges};
use keel_domain::review::{NextStep, OutcomeReview, Review, ReviewInput, ReviewKind};
use keel_domain::{DomainError, Precondition};
use serde_json::{Value, json};

use crate::connection::{DbConnection, write_transaction};
use crate::error::StoreError;
use crate::repo::program::{self, Authorize};
use crate::repo::{audit, engagements, events, organizations};
use crate::rows::{corrupt, from_db_time, to_db_time};
use crate::schema::{engagement_transitions, reviews};

type Row = (String, String, Option<String>, Option<String>, Option<String>, String, NaiveDateTime, i64);

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

fn parse(kind: ReviewKind, row: Row) -> Result<Review, StoreError> {
    let (narrative, outcomes, program_changes, achievements, next_step, renewal, recorded_at, version) = row;
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
        next_step: match next_step.as_deref() {
            Some("completed") => Some(NextStep::Completed),
            Some("renewed") => Some(NextStep::Renewed),
            _ => None,
        },
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

pub fn get(conn: &mut DbConnection, engagement_id: uuid::Uuid, kind: ReviewKind) -> Result<Option<Review>, StoreError> {
    let row: Option<Row> = super::optional(
        reviews::table
            .find((engagement_id.to_string(), kind.as_str()))
            .select((
                reviews::narrative,
                reviews::outcomes,
                reviews::program_changes,
                reviews::achievements,
                reviews::next_step,
                reviews::renewal,
                reviews::recorded_at,
                reviews::version,
            ))
            .first(conn),
    )?;
    row.map(|r| parse(kind, r)).transpose()
}

/// (a mid review was recorded since the engagement last entered mid_review, a mid review was
/// ever recorded, the end review is recorded) — for the guards.
pub fn facts(conn: &mut DbConnection, engagement: &Engagement) -> Result<(bool, bool, bool), StoreError> {
    let mid = get(conn, engagement.id, ReviewKind::Mid)?;
    let entered: Option<NaiveDateTime> = engagement_transitions::table
        .filter(engagement_transitions::engagement_id.eq(engagement.id.to_string()))
        .filter(engagement_transitions::to_phase.eq(Phase::MidReview.as_str()))
        .select(diesel::dsl::max(engagement_transitions::occurred_at))
        .first(conn)?;
    let since = mid.as_ref().is_some_and(|m| entered.is_none_or(|at| m.recorded_at >= from_db_time(at)));
    Ok((since, mid.is_some(), get(conn, engagement.id, ReviewKind::End)?.is_some()))
}

/// Records (or replaces) a review. Returns it, and for a renewal the new engagement.
#[allow(clippy::too_many_arguments)]
pub fn put(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    engagement_id: uuid::Uuid,
    kind: ReviewKind,
    precondition: Option<&Precondition>,
    input: ReviewInput,
    authorize: Authorize<'_>,
) -> Result<(Review, Option<Engagement>), StoreError> {
    write_transaction(conn, |conn| {
        let engagement = engagements::get_for_update(conn, engagement_id)?;
        authorize(&engagement)?;
        let outcomes = program::outcomes(conn, engagement_id)?;
        let previous = get(conn, engagement_id, kind)?;
        if let Some(previous) = &previous {
            Precondition::check(precondition, previous.version)?;
        }
        let review = Review::record(kind, &engagement, &outcomes, input, previous.as_ref())?;
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
        if previous.is_some() {
            diesel::update(reviews::table.find((engagement_id.to_string(), kind.as_str())))
                .set(values)
                .execute(conn)?;
        } else {
            diesel::insert_into(reviews::table)
                .values((
                    reviews::engagement_id.eq(engagement_id.to_string()),
                    reviews::kind.eq(kind.as_str()),
                    reviews::organization_id.eq(engagement.organization_id.to_string()),
                    values,
                ))
                .execute(conn)?;
        }
        let source = if kind == ReviewKind::Mid { MeasurementSource::MidReview } else { MeasurementSource::EndReview };
        for entry in &review.outcomes {
            let measurement =
                Measurement::record(entry.outcome_id, &entry.actual, entry.note.as_deref(), None, source)?;
            program::insert_measurement(conn, &engagement, &measurement)?;
        }
        let record =
            AuditRecord::new(ctx, "review.completed", "engagement", engagement_id, Some(engagement.organization_id));
        audit::append(
            conn,
            &record.with_fields(vec![if kind == ReviewKind::Mid { "mid_review" } else { "end_review" }]),
        )?;
        events::append(
            conn,
            &DomainEvent::review_completed(&engagement, kind.as_str(), review.next_step.map(|n| n.as_str())),
        )?;
        let renewal = match review.next_step {
            Some(NextStep::Completed) => {
                engagements::move_to(conn, ctx, &engagement, Phase::Completed, "end review recorded")?;
                None
            }
            Some(NextStep::Renewed) => {
                let renewal = renew(conn, ctx, &engagement, &review.renewal_outcomes)?;
                engagements::move_to(conn, ctx, &engagement, Phase::Renewed, &format!("renewed as {}", renewal.id))?;
                Some(renewal)
            }
            None => None,
        };
        Ok((review, renewal))
    })
}

/// The renewal: same leader, coach, sponsors and hr_partner, starting today at `context`, with
/// the new outcomes, linked to `previous`.
fn renew(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    previous: &Engagement,
    outcomes: &[OutcomeChanges],
) -> Result<Engagement, StoreError> {
    let organization = organizations::get(conn, previous.organization_id)?;
    let input = NewEngagement {
        organization_id: previous.organization_id,
        title: previous.title.clone(),
        leader_id: previous.leader_id,
        coach_id: previous.coach_id,
        sponsor_ids: previous.sponsor_ids.iter().copied().collect(),
        hr_partner_id: previous.hr_partner_id,
        start_date: keel_domain::time::now().date_naive(),
        planned_end_date: None,
        allow_any_duration: false,
        monthly_hours_budget: Some(previous.monthly_hours_budget),
    };
    let mut renewal = engagements::create_in_transaction(conn, ctx, input, &organization).map_err(|e| match e {
        StoreError::Domain(DomainError::Validation(errors)) => StoreError::Domain(DomainError::conflict(
            "renewal_invalid",
            format!(
                "the renewal cannot be created: {}",
                errors.0.iter().map(|e| format!("{} {}", e.field, e.message)).collect::<Vec<_>>().join("; ")
            ),
        )),
        other => other,
    })?;
    renewal = engagements::link_renewal(conn, &renewal, previous.id)?;
    for changes in outcomes {
        let outcome = Outcome::create(renewal.id, changes)?;
        program::insert_outcome(conn, &renewal, &outcome)?;
    }
    Ok(renewal)
}
