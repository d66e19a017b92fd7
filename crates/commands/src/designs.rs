//! Steps 4 and 5: the versioned program design and the decisions of leader and sponsors. The
//! coach drafts, edits and submits a version; submitting moves the engagement to
//! `sponsor_review` and mails the leader and every sponsor, who decide once each. Every change
//! locks the engagement row first, so concurrent decisions queue: the last approval approves the
//! design exactly once.

use keel_domain::audit::AuditRecord;
use keel_domain::design::{self, Decision, Design, DesignInput, DesignStatus, Known, Verdict, may_draft};
use keel_domain::engagement::{Engagement, Phase};
use keel_domain::event::DomainEvent;
use keel_domain::pages::PageTarget;
use keel_domain::policy::{self, Part};
use keel_domain::user::UserStatus;
use keel_domain::{DomainError, EngagementId, Precondition, ValidationErrors};
use keel_persistence::repo::{designs, engagements, program, stakeholders, users};
use keel_persistence::{DbConnection, StoreError};

use crate::engagements::move_by_itself;
use crate::frame::{self, Caller, Effects};
use crate::notifications;
use crate::pages::{self, Links};
use crate::program::readable;

fn audit(effects: &mut Effects, caller: &Caller, action: &'static str, engagement: &Engagement, version: i32) {
    effects.audit(AuditRecord::new(
        &caller.ctx,
        action,
        "design",
        format!("{}/v{version}", engagement.id),
        Some(engagement.organization_id),
    ));
}

/// The engagement, locked, once the policy allows the caller to write its design and while the
/// design is worked on (from `assessment_design` to `mid_review`).
fn open_for_change(
    conn: &mut DbConnection,
    caller: &Caller,
    engagement_id: EngagementId,
) -> Result<Engagement, StoreError> {
    let engagement = engagements::get_for_update(conn, engagement_id)?;
    policy::check_part(&caller.principal, &engagement, Part::Designs, true)?;
    if !matches!(engagement.phase, Phase::AssessmentDesign | Phase::SponsorReview | Phase::Coaching | Phase::MidReview)
    {
        return Err(DomainError::conflict(
            "design_not_in_this_phase",
            format!(
                "the program design is worked on from assessment_design on; the engagement is {}",
                engagement.phase
            ),
        )
        .into());
    }
    Ok(engagement)
}

/// The themes and outcomes of the engagement that a design may refer to.
fn known(conn: &mut DbConnection, engagement_id: EngagementId) -> Result<Known, StoreError> {
    Ok(Known {
        themes: stakeholders::themes(conn, engagement_id, false)?.into_iter().map(|t| t.id).collect(),
        outcomes: program::outcomes(conn, engagement_id)?.into_iter().map(|o| o.id).collect(),
    })
}

/// Every version, oldest first, with all decisions.
pub fn list(
    conn: &mut DbConnection,
    caller: &Caller,
    engagement_id: EngagementId,
) -> Result<(Vec<Design>, Vec<Decision>), StoreError> {
    readable(conn, caller, engagement_id, Part::Designs)?;
    Ok((designs::list(conn, engagement_id)?, designs::decisions(conn, engagement_id, None)?))
}

/// One version with its decisions.
pub fn get(
    conn: &mut DbConnection,
    caller: &Caller,
    (engagement_id, version): (EngagementId, i32),
) -> Result<(Design, Vec<Decision>), StoreError> {
    readable(conn, caller, engagement_id, Part::Designs)?;
    Ok((designs::get(conn, engagement_id, version)?, designs::decisions(conn, engagement_id, Some(version))?))
}

/// Drafts the next version (the coach), from version `copy_from` if given.
pub fn create(
    conn: &mut DbConnection,
    caller: &Caller,
    engagement_id: EngagementId,
    copy_from: Option<i32>,
    input: &DesignInput,
) -> Result<Design, StoreError> {
    frame::run(conn, |tx, effects| {
        let engagement = open_for_change(tx, caller, engagement_id)?;
        let all = designs::list(tx, engagement_id)?;
        may_draft(all.last())?;
        let base = match copy_from {
            Some(v) => Some(all.iter().find(|d| d.version == v).ok_or_else(|| {
                DomainError::Validation(ValidationErrors::single("copy_from", "not_found", "no such version"))
            })?),
            None => None,
        };
        let number = all.last().map_or(1, |d| d.version + 1);
        let design = Design::draft(&engagement, number, base, input, &known(tx, engagement_id)?)?;
        designs::insert(tx, &engagement, &design)?;
        audit(effects, caller, "design.drafted", &engagement, number);
        Ok(design)
    })
}

/// Changes a draft (the coach); a submitted version is immutable.
pub fn update(
    conn: &mut DbConnection,
    caller: &Caller,
    (engagement_id, version): (EngagementId, i32),
    precondition: Option<&Precondition>,
    input: &DesignInput,
) -> Result<Design, StoreError> {
    frame::run(conn, |tx, effects| {
        let engagement = open_for_change(tx, caller, engagement_id)?;
        let current = designs::get(tx, engagement_id, version)?;
        Precondition::check(precondition, current.revision)?;
        let next = current.edit(input, &known(tx, engagement_id)?)?;
        designs::save(tx, &next)?;
        audit(effects, caller, "design.updated", &engagement, version);
        Ok(next)
    })
}

/// Freezes a draft for review (the coach): the engagement moves to `sponsor_review` (from
/// `assessment_design`), and the leader and every sponsor are mailed.
pub fn submit(
    conn: &mut DbConnection,
    caller: &Caller,
    (engagement_id, version): (EngagementId, i32),
    precondition: Option<&Precondition>,
    links: &Links,
) -> Result<Design, StoreError> {
    frame::run(conn, |tx, effects| {
        let engagement = open_for_change(tx, caller, engagement_id)?;
        let current = designs::get(tx, engagement_id, version)?;
        Precondition::check(precondition, current.revision)?;
        let submitted = current.submit()?;
        designs::save(tx, &submitted)?;
        audit(effects, caller, "design.submitted", &engagement, version);
        effects.event(DomainEvent::design_submitted(&engagement, version));
        // The program reviews the design in its sponsor_review step, where the template has one.
        if engagement.phase == Phase::AssessmentDesign
            && crate::templates::of_engagement(tx, &engagement)?.definition.has(Phase::SponsorReview)
        {
            let reason = format!("design v{version} submitted");
            move_by_itself(tx, &caller.ctx, effects, &engagement, Phase::SponsorReview, &reason)?;
        }
        for approver in std::iter::once(engagement.leader_id).chain(engagement.sponsor_ids.iter().copied()) {
            if let Some(user) = users::find(tx, approver)?.filter(|u| u.status == UserStatus::Active) {
                let link = pages::issue(tx, links, &user, PageTarget::Design(engagement_id, version), links.ttl)?;
                effects.queue(notifications::designs::decision_requested(
                    &user,
                    &engagement,
                    version,
                    &link,
                    links.ttl,
                ));
            }
        }
        Ok(submitted)
    })
}

/// The leader's or a sponsor's decision on `version`, once each; returns the version after it
/// with its decisions. The last approval approves the design; a request for changes sends the
/// engagement back to `assessment_design`.
pub fn decide(
    conn: &mut DbConnection,
    caller: &Caller,
    (engagement_id, version): (EngagementId, i32),
    verdict: Verdict,
    comment: Option<&str>,
) -> Result<(Design, Vec<Decision>), StoreError> {
    let engagement = readable(conn, caller, engagement_id, Part::Designs)?;
    let approver = policy::check_decide(&caller.principal, &engagement)?;
    let design = frame::run(conn, |tx, effects| {
        let engagement = engagements::get_for_update(tx, engagement_id)?;
        // Checked again on the locked row.
        policy::check_decide(&caller.principal, &engagement)?;
        let current = designs::get(tx, engagement_id, version)?;
        let so_far = designs::decisions(tx, engagement_id, Some(version))?;
        let result = design::decide(&engagement, &current, &so_far, approver, verdict, comment)?;
        let decision = &result.decision;
        designs::insert_decision(tx, &engagement, decision)?;
        audit(effects, caller, "design.decided", &engagement, version);
        effects.event(DomainEvent::design_decided(
            &engagement,
            version,
            decision.role.as_str(),
            decision.verdict.as_str(),
        ));
        let Some(next) = result.design else { return Ok(current) };
        designs::save(tx, &next)?;
        match next.status {
            DesignStatus::Approved => effects.event(DomainEvent::design_approved(&engagement, version)),
            DesignStatus::ChangesRequested if engagement.phase == Phase::SponsorReview => {
                let reason = format!("changes requested on design v{version}");
                move_by_itself(tx, &caller.ctx, effects, &engagement, Phase::AssessmentDesign, &reason)?;
            }
            _ => {}
        }
        Ok(next)
    })?;
    Ok((design, designs::decisions(conn, engagement_id, Some(version))?))
}
