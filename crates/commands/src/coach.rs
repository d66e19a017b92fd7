//! The coach's workspace: what the engagement's coach sees on its page to do every step of the
//! program, and the next thing each of their programs needs. The moves and the next thing come
//! from the domain's state machine (the same guards a transition request meets), not from a
//! second copy of its rules (docs/program.md).

use keel_domain::coaching::{ActionItem, LedgerMonth, NewSession, Session, SessionStatus};
use keel_domain::design::{Decision, Design};
use keel_domain::engagement::{Engagement, Move, Mover, Phase, ProgramFacts, moves, next_for_coach};
use keel_domain::policy;
use keel_domain::program::{ContextMeeting, LeaderInterview, Measurement, Outcome};
use keel_domain::review::{Review, ReviewKind};
use keel_domain::stakeholders::{Rater, RaterStanding, Theme, chase};
use keel_domain::template::{PlannedSession, SessionRequest};
use keel_domain::{EngagementId, SessionId};
use keel_persistence::repo::parts::{self, Part, ProgramParts, Wanted};
use keel_persistence::repo::{program, reviews};
use keel_persistence::{DbConnection, StoreError};

use crate::frame::Caller;
use crate::pages::Participants;

/// Everything the coach's page of one engagement shows.
#[derive(Clone, Debug)]
pub struct Workspace {
    pub people: Participants,
    pub facts: ProgramFacts,
    /// The moves the coach may ask for from here, each with its unmet guards.
    pub moves: Vec<Move>,
    pub next: Option<String>,
    pub context: Option<ContextMeeting>,
    /// The coach's alone (docs/access.md).
    pub interview: Option<LeaderInterview>,
    pub outcomes: Vec<Outcome>,
    pub measurements: Vec<Measurement>,
    /// The 360's raters, the coach's alone, with where each stands.
    pub raters: Vec<(Rater, RaterStanding)>,
    /// Every theme, released or not.
    pub themes: Vec<Theme>,
    /// Every session, in time order, as the coach sees it (private notes only their author's).
    pub sessions: Vec<crate::sessions::SeenSession>,
    /// The hours ledger, month by month.
    pub ledger: Vec<LedgerMonth>,
    /// What scheduling a session would fill in from the template (its time aside), while the
    /// program is in coaching.
    pub next_session: Option<NewSession>,
    /// Homework, with the leader's notes.
    pub action_items: Vec<ActionItem>,
    /// Every version of the program design, oldest first, and every decision on them.
    pub designs: Vec<Design>,
    pub decisions: Vec<Decision>,
    /// A new version may be started now: the program is at its design and no version is open.
    pub may_start_design: bool,
}

/// The workspace of engagement `id` when the caller is its coach; anyone else who may read the
/// engagement gets its people back, for their own page (404 for those who may not). Each part is
/// read once, all of them in one statement after the engagement: the next thing is worked out
/// from the same parts the page shows.
pub fn workspace(
    conn: &mut DbConnection,
    caller: &Caller,
    id: EngagementId,
) -> Result<Result<Workspace, Participants>, StoreError> {
    let engagement = crate::engagements::get(conn, caller, id)?;
    let template = crate::templates::of_engagement(conn, &engagement)?;
    let people = crate::pages::people_of(&engagement);
    if !policy::works_on(&caller.principal, &engagement) {
        let loaded = parts::load(conn, Wanted { names: &people, ..Wanted::default() })?;
        return Ok(Err(crate::pages::participants_from(engagement, &template, &loaded)));
    }
    let organization_id = engagement.organization_id;
    let wanted = Wanted {
        engagements: &[id],
        parts: Part::WHOLE_PROGRAM,
        organizations: &[organization_id],
        names: &people,
        ..Wanted::default()
    };
    let mut loaded = parts::load(conn, wanted)?;
    let organization = loaded.organizations.remove(&organization_id).ok_or(StoreError::not_found("organization"))?;
    let parts = loaded.take(id);
    let people = crate::pages::participants_from(engagement, &template, &loaded);
    let engagement = &people.engagement;
    let now = keel_domain::time::now();
    let facts = crate::engagements::facts_of(engagement, organization.settings.min_raters, &parts);
    let (offered, next) = offered_moves(engagement, &facts, &template, &parts, &people.approvers(), now);
    let next_session = if engagement.phase == Phase::Coaching {
        let places = crate::sessions::places_in(&parts.sessions);
        let request = SessionRequest { scheduled_at: Some(now), ..SessionRequest::default() };
        template.definition.new_session(request, &places, None).ok()
    } else {
        None
    };
    let may_start_design =
        engagement.phase == Phase::AssessmentDesign && keel_domain::design::may_draft(parts.designs.last()).is_ok();
    let raters = standings(&parts, now);
    let ledger = crate::sessions::ledger_from(engagement, &organization, &parts.sessions, &parts.extensions);
    let ProgramParts {
        sessions,
        action_items,
        designs,
        decisions,
        themes,
        context,
        interview,
        outcomes,
        measurements,
        ..
    } = parts;
    Ok(Ok(Workspace {
        ledger,
        sessions: sessions.into_iter().map(|s| crate::sessions::seen(caller, engagement, s)).collect(),
        next_session,
        action_items,
        designs,
        decisions,
        may_start_design,
        themes,
        raters,
        context,
        interview,
        outcomes,
        measurements,
        moves: offered,
        next,
        facts,
        people,
    }))
}

/// The engagement's raters with where each stands.
fn standings(parts: &ProgramParts, now: keel_domain::time::Timestamp) -> Vec<(Rater, RaterStanding)> {
    parts
        .raters
        .iter()
        .map(|rater| {
            let expires = parts.invitation_expiries.iter().find(|(id, _)| *id == rater.id).map(|(_, at)| *at);
            (rater.clone(), RaterStanding::of(rater.status, expires, now))
        })
        .collect()
}

/// The moves offered to the coach, and their next thing: in coaching from the sessions still to
/// be held and open homework; in the sponsors' review who the design waits for (`approvers`: the
/// leader and sponsors by name); while the 360 lacks contributions whom to chase; otherwise what
/// the way on still needs.
fn offered_moves(
    engagement: &Engagement,
    facts: &ProgramFacts,
    template: &keel_domain::template::ProgramTemplate,
    parts: &ProgramParts,
    approvers: &[(keel_domain::UserId, String)],
    now: keel_domain::time::Timestamp,
) -> (Vec<Move>, Option<String>) {
    let offered = moves(engagement.phase, engagement.held_from, facts, &template.definition, Mover::Coach);
    let chasing = offered
        .iter()
        .find(|m| m.forward)
        .and_then(|m| m.unmet.first())
        .is_some_and(|u| u.code == "stakeholder_contributions_insufficient");
    let next = match engagement.phase {
        Phase::Coaching => keel_domain::coaching::coaching_next(
            engagement,
            &parts.sessions,
            &parts.action_items,
            template.definition.has(Phase::MidReview) && !facts.mid_review_completed,
            now,
        ),
        Phase::SponsorReview => parts
            .designs
            .last()
            .and_then(|design| keel_domain::design::waiting_line(engagement, design, &parts.decisions, approvers, now)),
        _ if chasing => {
            let named: Vec<(String, RaterStanding)> =
                standings(parts, now).into_iter().map(|(r, s)| (r.name, s)).collect();
            Some(chase(facts.stakeholder_contributions, facts.min_raters, &named))
        }
        _ => None,
    };
    let next = next.or_else(|| next_for_coach(engagement.phase, &offered));
    (offered, next)
}

/// What the coach's next thing in `engagement` reads besides the engagement: the parts the
/// guards of leaving its step look at (docs/program.md, "Guards"); in coaching also the sessions
/// due, open homework and the reviews; while the sponsors review, the design and its decisions.
/// An ended program needs nothing.
pub(crate) fn parts_for_next(
    engagement: &Engagement,
    template: &keel_domain::template::ProgramTemplate,
    now: keel_domain::time::Timestamp,
) -> Vec<Part> {
    use keel_domain::template::Guard;
    if engagement.phase.is_terminal() {
        return Vec::new();
    }
    let mut parts: Vec<Part> = Vec::new();
    for guard in template.definition.guards_leaving(engagement.phase) {
        parts.extend_from_slice(match guard {
            Guard::SponsorAssigned => &[],
            Guard::OutcomesComplete => &[Part::Outcomes],
            Guard::ContextMeetingRecorded => &[Part::Context],
            Guard::LeaderInterviewRecorded => &[Part::Interview],
            Guard::StakeholderContributions => &[Part::Raters],
            Guard::DesignSubmitted => &[Part::Designs],
            Guard::DesignApproved => &[Part::Designs, Part::Decisions],
            Guard::MidReviewRecorded => &[Part::Reviews, Part::MidReviewEntered],
            Guard::MidReviewCompleted | Guard::EndReviewRecorded => &[Part::Reviews],
        });
    }
    match engagement.phase {
        Phase::Coaching => parts.extend([
            Part::DueSessions { until: keel_domain::coaching::week_ahead(now) },
            Part::OpenActionItems,
            Part::Reviews,
        ]),
        Phase::SponsorReview => parts.extend([Part::Designs, Part::Decisions]),
        _ => {}
    }
    parts
}

/// The coach's next thing to do in `engagement`, from its facts and parts (read with at least
/// [`Part::FACTS`], the sessions still to be held and open homework; `approvers` by name while the
/// sponsors review a design).
pub(crate) fn next_from(
    engagement: &Engagement,
    facts: &ProgramFacts,
    template: &keel_domain::template::ProgramTemplate,
    parts: &ProgramParts,
    approvers: &[(keel_domain::UserId, String)],
) -> Option<String> {
    offered_moves(engagement, facts, template, parts, approvers, keel_domain::time::now()).1
}

/// What the page to complete a session shows the coach.
#[derive(Clone, Debug)]
pub struct ToComplete {
    pub engagement: Engagement,
    pub session: Session,
    /// The ledger of the session's month.
    pub month: LedgerMonth,
    /// The template's planned session it realizes (its choice among them).
    pub planned: Option<PlannedSession>,
}

/// The session `session_id` as its coach completes it: 404 for anyone else, 409 when it is not
/// open to completion.
pub fn to_complete(
    conn: &mut DbConnection,
    caller: &Caller,
    (engagement_id, session_id): (EngagementId, SessionId),
) -> Result<ToComplete, StoreError> {
    let engagement = crate::engagements::get(conn, caller, engagement_id)?;
    if !policy::works_on(&caller.principal, &engagement) {
        return Err(StoreError::not_found("session"));
    }
    let organization_id = engagement.organization_id;
    let wanted = Wanted {
        engagements: &[engagement_id],
        parts: &[Part::Sessions, Part::Extensions],
        organizations: &[organization_id],
        ..Wanted::default()
    };
    let mut loaded = parts::load(conn, wanted)?;
    let organization = loaded.organizations.remove(&organization_id).ok_or(StoreError::not_found("organization"))?;
    let parts = loaded.take(engagement_id);
    let session =
        parts.sessions.iter().find(|s| s.id == session_id).cloned().ok_or(StoreError::not_found("session"))?;
    if matches!(session.status, SessionStatus::Completed | SessionStatus::Cancelled | SessionStatus::NoShow) {
        return Err(keel_domain::DomainError::conflict(
            "session_closed",
            format!("the session is {}: it is completed no more", session.status),
        )
        .into());
    }
    let template = crate::templates::of_engagement(conn, &engagement)?;
    let planned = session.plan_index.and_then(|i| template.definition.planned_sessions.get(i as usize)).cloned();
    let ledger = crate::sessions::ledger_from(&engagement, &organization, &parts.sessions, &parts.extensions);
    let month = ledger.into_iter().find(|m| m.month == session.month());
    let month = month.unwrap_or(LedgerMonth {
        month: session.month(),
        budget_minutes: 0,
        extension_minutes: 0,
        used_minutes: 0,
    });
    Ok(ToComplete { engagement, session, month, planned })
}

/// What the design composer shows the coach: the version, the one before it (what changed, and
/// the decisions on it), the released themes and the outcomes to choose from.
#[derive(Clone, Debug)]
pub struct Composer {
    pub people: Participants,
    pub design: Design,
    pub previous: Option<Design>,
    pub decisions: Vec<Decision>,
    pub themes: Vec<Theme>,
    pub outcomes: Vec<Outcome>,
}

/// Design version `version` as its coach composes it; 404 for anyone else.
pub fn composer(
    conn: &mut DbConnection,
    caller: &Caller,
    (engagement_id, version): (EngagementId, i32),
) -> Result<Composer, StoreError> {
    let engagement = crate::engagements::get(conn, caller, engagement_id)?;
    if !policy::works_on(&caller.principal, &engagement) {
        return Err(StoreError::not_found("design version"));
    }
    let template = crate::templates::of_engagement(conn, &engagement)?;
    let people = crate::pages::people_of(&engagement);
    let wanted = Wanted {
        engagements: &[engagement_id],
        parts: &[Part::Designs, Part::Decisions, Part::Themes, Part::Outcomes],
        names: &people,
        ..Wanted::default()
    };
    let mut loaded = parts::load(conn, wanted)?;
    let parts = loaded.take(engagement_id);
    let people = crate::pages::participants_from(engagement, &template, &loaded);
    let design =
        parts.designs.iter().find(|d| d.version == version).cloned().ok_or(StoreError::not_found("design version"))?;
    let previous = parts.designs.iter().rev().find(|d| d.version < version).cloned();
    Ok(Composer {
        design,
        previous,
        decisions: parts.decisions,
        themes: parts.themes.into_iter().filter(|t| t.released_at.is_some()).collect(),
        outcomes: parts.outcomes,
        people,
    })
}

/// What the page of a review shows the coach: the outcomes with what each intended and its
/// latest measurement, and the review as recorded so far (it may be recorded again).
#[derive(Clone, Debug)]
pub struct ToReview {
    pub engagement: Engagement,
    pub outcomes: Vec<Outcome>,
    pub measurements: Vec<Measurement>,
    pub review: Option<Review>,
}

/// The mid or end review of engagement `engagement_id`, as its coach records it; 404 for anyone
/// else.
pub fn to_review(
    conn: &mut DbConnection,
    caller: &Caller,
    (engagement_id, kind): (EngagementId, ReviewKind),
) -> Result<ToReview, StoreError> {
    let engagement = crate::engagements::get(conn, caller, engagement_id)?;
    if !policy::works_on(&caller.principal, &engagement) {
        return Err(StoreError::not_found("review"));
    }
    Ok(ToReview {
        outcomes: program::outcomes(conn, engagement_id)?,
        measurements: program::measurements(conn, engagement_id)?,
        review: reviews::get(conn, engagement_id, kind)?,
        engagement,
    })
}

/// The group's page as its coach works in it: every participant (now in the group) by name, with
/// their own outcomes and action items.
pub struct GroupDesk {
    pub page: crate::groups::GroupPage,
    pub participants: Vec<(keel_domain::UserId, String)>,
    pub outcomes: Vec<keel_domain::group::GroupOutcome>,
    pub items: Vec<keel_domain::group::GroupActionItem>,
}

/// The coach's desk of the group of `page` (read by [`crate::groups::page`]), when the caller is
/// its coach; anyone else gets `page` back.
pub fn group_desk(
    conn: &mut DbConnection,
    caller: &Caller,
    page: crate::groups::GroupPage,
) -> Result<Result<GroupDesk, crate::groups::GroupPage>, StoreError> {
    let group = &page.seen.group;
    if !policy::coaches_group(&caller.principal, group) {
        return Ok(Err(page));
    }
    let id = group.id;
    let current: Vec<keel_domain::UserId> =
        page.seen.memberships.iter().filter(|m| m.is_current()).map(|m| m.user_id).collect();
    let mut loaded = parts::load(conn, Wanted { names: &current, groups: &[id], ..Wanted::default() })?;
    let participants = current.iter().map(|who| (*who, crate::pages::name_in(&loaded, *who))).collect();
    let own = loaded.groups.remove(&id).unwrap_or_default();
    Ok(Ok(GroupDesk { outcomes: own.outcomes, items: own.action_items, participants, page }))
}

/// The engagement's sessions of the coming seven days, while it is in coaching (`sessions`: its
/// sessions, or those still to be held).
pub(crate) fn this_week(engagement: &Engagement, sessions: &[Session]) -> Vec<Session> {
    if engagement.phase != Phase::Coaching {
        return Vec::new();
    }
    let now = keel_domain::time::now();
    let week = keel_domain::coaching::week_ahead(now);
    sessions
        .iter()
        .filter(|s| s.status == SessionStatus::Scheduled && s.scheduled_at >= now && s.scheduled_at <= week)
        .cloned()
        .collect()
}
