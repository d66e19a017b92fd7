//! Steps 7 and 8: the mid- and end-of-program reviews. Recording one writes each outcome's actual
//! state as a measurement (source mid_review / end_review); the end review closes the engagement
//! (`completed`) or renews it: a new engagement with the same people and the new outcomes, linked
//! to this one — all in one transaction.

use keel_domain::audit::AuditRecord;
use keel_domain::engagement::{Engagement, NewEngagement, Phase};
use keel_domain::event::DomainEvent;
use keel_domain::policy::{self, Part};
use keel_domain::program::{Measurement, MeasurementSource, Outcome, OutcomeChanges};
use keel_domain::review::{NextStep, Review, ReviewInput, ReviewKind};
use keel_domain::{DomainError, EngagementId, Precondition};
use keel_persistence::repo::{engagements, organizations, program, reviews};
use keel_persistence::{DbConnection, StoreError};

use crate::engagements::{move_by_itself, new_engagement};
use crate::frame::{self, Caller, Effects};
use crate::program::readable;

/// Records (or replaces) a review (the coach). Returns it, and for a renewal the new engagement.
pub fn put(
    conn: &mut DbConnection,
    caller: &Caller,
    (engagement_id, kind): (EngagementId, ReviewKind),
    precondition: Option<&Precondition>,
    input: ReviewInput,
) -> Result<(Review, Option<Engagement>), StoreError> {
    frame::run(conn, |tx, effects| {
        let engagement = engagements::get_for_update(tx, engagement_id)?;
        policy::check_part(&caller.principal, &engagement, Part::Outcomes, true)?;
        let outcomes = program::outcomes(tx, engagement_id)?;
        let previous = reviews::get(tx, engagement_id, kind)?;
        if let Some(previous) = &previous {
            Precondition::check(precondition, previous.version)?;
        }
        let review = Review::record(kind, &engagement, &outcomes, input, previous.as_ref())?;
        reviews::save(tx, &engagement, &review, previous.is_none())?;
        let source = if kind == ReviewKind::Mid { MeasurementSource::MidReview } else { MeasurementSource::EndReview };
        for entry in &review.outcomes {
            let measurement =
                Measurement::record(entry.outcome_id, &entry.actual, entry.note.as_deref(), None, source)?;
            program::insert_measurement(tx, &engagement, &measurement)?;
        }
        let record = AuditRecord::new(
            &caller.ctx,
            "review.completed",
            "engagement",
            engagement_id,
            Some(engagement.organization_id),
        );
        effects.audit(record.with_fields(vec![if kind == ReviewKind::Mid { "mid_review" } else { "end_review" }]));
        effects.event(DomainEvent::review_completed(&engagement, kind.as_str(), review.next_step.map(|n| n.as_str())));
        let renewal = match review.next_step {
            Some(NextStep::Completed) => {
                move_by_itself(tx, &caller.ctx, effects, &engagement, Phase::Completed, "end review recorded")?;
                None
            }
            Some(NextStep::Renewed) => {
                let renewal = renew(tx, caller, effects, &engagement, &review.renewal_outcomes)?;
                let reason = format!("renewed as {}", renewal.id);
                move_by_itself(tx, &caller.ctx, effects, &engagement, Phase::Renewed, &reason)?;
                Some(renewal)
            }
            None => None,
        };
        Ok((review, renewal))
    })
}

/// The mid or end review (whoever may read the outcomes).
pub fn get(
    conn: &mut DbConnection,
    caller: &Caller,
    (engagement_id, kind): (EngagementId, ReviewKind),
) -> Result<Review, StoreError> {
    readable(conn, caller, engagement_id, Part::Outcomes)?;
    reviews::get(conn, engagement_id, kind)?.ok_or_else(|| StoreError::not_found("review"))
}

/// The reviews recorded so far, mid then end (whoever may read the outcomes).
pub fn recorded(
    conn: &mut DbConnection,
    caller: &Caller,
    engagement_id: EngagementId,
) -> Result<Vec<Review>, StoreError> {
    readable(conn, caller, engagement_id, Part::Outcomes)?;
    let mut recorded = Vec::new();
    for kind in [ReviewKind::Mid, ReviewKind::End] {
        recorded.extend(reviews::get(conn, engagement_id, kind)?);
    }
    Ok(recorded)
}

/// The renewal: same leader, coach, sponsors and hr_partner, starting today at `context`, with
/// the new outcomes, linked to `previous`; created like any engagement (timeline entry, audit
/// record, event) in the review's transaction.
fn renew(
    tx: &mut DbConnection,
    caller: &Caller,
    effects: &mut Effects,
    previous: &Engagement,
    outcomes: &[OutcomeChanges],
) -> Result<Engagement, StoreError> {
    let organization = organizations::get(tx, previous.organization_id)?;
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
        template_id: Some(previous.template_id),
        // The hr_partner decides what the renewal draws on (docs/contracts.md).
        contract_id: None,
    };
    // A renewal is a new engagement: it runs the current version of the same template.
    let template = crate::templates::current(tx, previous.template_id)?;
    let renewal = new_engagement(tx, input, &organization, &template).map_err(|e| match e {
        StoreError::Domain(DomainError::Validation(errors)) => StoreError::Domain(DomainError::conflict(
            "renewal_invalid",
            format!(
                "the renewal cannot be created: {}",
                errors.0.iter().map(|e| format!("{} {}", e.field, e.message)).collect::<Vec<_>>().join("; ")
            ),
        )),
        other => other,
    })?;
    engagements::insert(tx, &renewal)?;
    engagements::record_transition(tx, &caller.ctx, &renewal, None, Some("created"))?;
    effects.audit(AuditRecord::new(
        &caller.ctx,
        "engagement.created",
        "engagement",
        renewal.id,
        Some(renewal.organization_id),
    ));
    effects.event(DomainEvent::engagement_created(&renewal));
    let renewal = engagements::link_renewal(tx, &renewal, previous.id)?;
    for changes in outcomes {
        let outcome = Outcome::create(renewal.id, changes)?;
        program::insert_outcome(tx, &renewal, &outcome)?;
    }
    Ok(renewal)
}
