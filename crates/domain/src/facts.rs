//! The facts the transition guards look at, worked out from the program's parts as read (the
//! design and its decisions, the raters, outcomes, context meeting, leader interview and
//! reviews). One function for every reader: a transition, the coach's workspace and home
//! (docs/program.md, "Guards").

use crate::design::{Decision, Design, DesignStatus, missing_approvals};
use crate::engagement::{Engagement, OutcomeFacts, ProgramFacts};
use crate::program::Outcome;
use crate::review::{Review, ReviewKind};
use crate::stakeholders::Rater;
use crate::time::Timestamp;

/// The parts of a program the guards look at.
#[derive(Clone, Copy, Debug)]
pub struct GuardedParts<'a> {
    /// Every version, oldest first.
    pub designs: &'a [Design],
    /// The decisions on every version.
    pub decisions: &'a [Decision],
    pub raters: &'a [Rater],
    pub outcomes: &'a [Outcome],
    pub context_recorded: bool,
    pub leader_interview_recorded: bool,
    pub reviews: &'a [Review],
    /// When the program last entered `mid_review`.
    pub mid_review_entered: Option<Timestamp>,
}

/// The facts of `engagement` from its `parts`, with the organization's `min_raters`.
pub fn program_facts(engagement: &Engagement, min_raters: u32, parts: GuardedParts<'_>) -> ProgramFacts {
    // The latest version under review or approved, and who has still to approve it.
    let latest =
        parts.designs.iter().rev().find(|d| matches!(d.status, DesignStatus::Submitted | DesignStatus::Approved));
    let (design_submitted, design_approved_by_leader, sponsors_not_approved) = match latest {
        Some(design) => {
            let on_it: Vec<Decision> =
                parts.decisions.iter().filter(|d| d.design_version == design.version).cloned().collect();
            let (leader_missing, sponsors_missing) = missing_approvals(engagement, &on_it);
            (true, !leader_missing, sponsors_missing)
        }
        None => (false, false, engagement.sponsor_ids.len()),
    };
    let review = |kind: ReviewKind| parts.reviews.iter().find(|r| r.kind == kind);
    let mid = review(ReviewKind::Mid);
    ProgramFacts {
        sponsor_count: engagement.sponsor_ids.len(),
        outcomes: parts
            .outcomes
            .iter()
            .map(|o| {
                let (has_baseline, has_target, has_measure) = o.is_complete();
                OutcomeFacts { title: o.title.clone(), has_baseline, has_target, has_measure }
            })
            .collect(),
        context_recorded: parts.context_recorded,
        leader_interview_recorded: parts.leader_interview_recorded,
        stakeholder_contributions: u32::try_from(parts.raters.iter().filter(|r| r.status.contributed()).count())
            .unwrap_or(u32::MAX),
        min_raters,
        design_submitted,
        design_approved_by_leader,
        sponsors_not_approved,
        // Recorded since the program last entered its mid review (a review from an earlier
        // pass does not count again).
        mid_review_recorded: mid.is_some_and(|m| parts.mid_review_entered.is_none_or(|at| m.recorded_at >= at)),
        mid_review_completed: mid.is_some(),
        end_review_recorded: review(ReviewKind::End).is_some(),
    }
}
