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
use keel_persistence::repo::{action_items, designs, program, reviews, sessions, stakeholders};
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

/// The workspace of the engagement of `people` (read by [`crate::pages::participants`], which
/// answers 404 to those who may not read it), when the caller is its coach; anyone else gets
/// `people` back, for their own page. Each part is read once: the next thing is worked out from
/// the same parts the page shows.
pub fn workspace(
    conn: &mut DbConnection,
    caller: &Caller,
    people: Participants,
) -> Result<Result<Workspace, Participants>, StoreError> {
    if !policy::works_on(&caller.principal, &people.engagement) {
        return Ok(Err(people));
    }
    let engagement = &people.engagement;
    let id = engagement.id;
    let facts = crate::engagements::facts(conn, engagement)?;
    let template = crate::templates::of_engagement(conn, engagement)?;
    let parts = Parts {
        sessions: sessions::list(conn, id)?,
        items: action_items::list(conn, id, &Default::default())?,
        designs: designs::list(conn, id)?,
        decisions: designs::decisions(conn, id, None)?,
        raters: standings(conn, engagement)?,
        approvers: people.approvers(),
    };
    let (offered, next) = offered_moves(engagement, &facts, &template, &parts);
    let next_session = if engagement.phase == Phase::Coaching {
        let places = crate::sessions::places_in(&parts.sessions);
        let request = SessionRequest { scheduled_at: Some(keel_domain::time::now()), ..SessionRequest::default() };
        template.definition.new_session(request, &places, None).ok()
    } else {
        None
    };
    let may_start_design =
        engagement.phase == Phase::AssessmentDesign && keel_domain::design::may_draft(parts.designs.last()).is_ok();
    let Parts { sessions, items, designs, decisions, raters, .. } = parts;
    Ok(Ok(Workspace {
        ledger: crate::sessions::ledger_with(conn, engagement, &sessions)?,
        sessions: sessions.into_iter().map(|s| crate::sessions::seen(caller, engagement, s)).collect(),
        next_session,
        action_items: items,
        designs,
        decisions,
        may_start_design,
        themes: stakeholders::themes(conn, id, false)?,
        raters,
        context: program::get_context(conn, id)?,
        interview: program::get_leader_interview(conn, id)?,
        outcomes: program::outcomes(conn, id)?,
        measurements: program::measurements(conn, id)?,
        moves: offered,
        next,
        facts,
        people,
    }))
}

/// The engagement's raters with where each stands.
fn standings(conn: &mut DbConnection, engagement: &Engagement) -> Result<Vec<(Rater, RaterStanding)>, StoreError> {
    let expiries = stakeholders::invitation_expiries(conn, engagement.id)?;
    let now = keel_domain::time::now();
    Ok(stakeholders::raters(conn, engagement.id)?
        .into_iter()
        .map(|rater| {
            let expires = expiries.iter().find(|(id, _)| *id == rater.id).map(|(_, at)| *at);
            let standing = RaterStanding::of(rater.status, expires, now);
            (rater, standing)
        })
        .collect())
}

/// What the coach's next thing is read from besides the facts. The workspace reads them all (it
/// shows them); the home reads only what the program's phase asks (see [`Parts::for_next`]).
#[derive(Default)]
struct Parts {
    sessions: Vec<Session>,
    items: Vec<ActionItem>,
    designs: Vec<Design>,
    decisions: Vec<Decision>,
    raters: Vec<(Rater, RaterStanding)>,
    /// The leader and the sponsors, by name.
    approvers: Vec<(keel_domain::UserId, String)>,
}

impl Parts {
    /// The parts the next thing of a program at its phase needs, and no others.
    fn for_next(conn: &mut DbConnection, engagement: &Engagement) -> Result<Parts, StoreError> {
        let id = engagement.id;
        let mut parts = Parts::default();
        match engagement.phase {
            Phase::Coaching => {
                parts.sessions = sessions::list(conn, id)?;
                parts.items = action_items::list(conn, id, &Default::default())?;
            }
            Phase::SponsorReview => {
                parts.designs = designs::list(conn, id)?;
                parts.decisions = designs::decisions(conn, id, None)?;
                for who in std::iter::once(engagement.leader_id).chain(engagement.sponsor_ids.iter().copied()) {
                    let name = keel_persistence::repo::users::find(conn, who)?.map(|u| u.name);
                    parts.approvers.push((who, name.unwrap_or_else(|| "a former participant".to_owned())));
                }
            }
            Phase::StakeholderInterviews => parts.raters = standings(conn, engagement)?,
            _ => {}
        }
        Ok(parts)
    }
}

/// The moves offered to the coach, and their next thing: in coaching from the sessions and
/// homework; in the sponsors' review who the design waits for; while the 360 lacks
/// contributions whom to chase; otherwise what the way on still needs.
fn offered_moves(
    engagement: &Engagement,
    facts: &ProgramFacts,
    template: &keel_domain::template::ProgramTemplate,
    parts: &Parts,
) -> (Vec<Move>, Option<String>) {
    let offered = moves(engagement.phase, engagement.held_from, facts, &template.definition, Mover::Coach);
    let now = keel_domain::time::now();
    let chasing = offered
        .iter()
        .find(|m| m.forward)
        .and_then(|m| m.unmet.first())
        .is_some_and(|u| u.code == "stakeholder_contributions_insufficient");
    let next = match engagement.phase {
        Phase::Coaching => keel_domain::coaching::coaching_next(
            engagement,
            &parts.sessions,
            &parts.items,
            template.definition.has(Phase::MidReview) && !facts.mid_review_completed,
            now,
        ),
        Phase::SponsorReview => parts.designs.last().and_then(|design| {
            keel_domain::design::waiting_line(engagement, design, &parts.decisions, &parts.approvers, now)
        }),
        _ if chasing => {
            let named: Vec<(String, RaterStanding)> = parts.raters.iter().map(|(r, s)| (r.name.clone(), *s)).collect();
            Some(chase(facts.stakeholder_contributions, facts.min_raters, &named))
        }
        _ => None,
    };
    let next = next.or_else(|| next_for_coach(engagement.phase, &offered));
    (offered, next)
}

/// The coach's next thing to do in `engagement`, when the caller is its coach.
pub fn next_thing(
    conn: &mut DbConnection,
    caller: &Caller,
    engagement: &Engagement,
) -> Result<Option<String>, StoreError> {
    if !policy::works_on(&caller.principal, engagement) {
        return Ok(None);
    }
    let facts = crate::engagements::facts(conn, engagement)?;
    let template = crate::templates::of_engagement(conn, engagement)?;
    let parts = Parts::for_next(conn, engagement)?;
    Ok(offered_moves(engagement, &facts, &template, &parts).1)
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
    let session = sessions::get(conn, engagement_id, session_id)?;
    if matches!(session.status, SessionStatus::Completed | SessionStatus::Cancelled | SessionStatus::NoShow) {
        return Err(keel_domain::DomainError::conflict(
            "session_closed",
            format!("the session is {}: it is completed no more", session.status),
        )
        .into());
    }
    let template = crate::templates::of_engagement(conn, &engagement)?;
    let planned = session.plan_index.and_then(|i| template.definition.planned_sessions.get(i as usize)).cloned();
    let month = crate::sessions::ledger_of(conn, &engagement)?.into_iter().find(|m| m.month == session.month());
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
    let people = crate::pages::participants(conn, caller, engagement_id)?;
    if !policy::works_on(&caller.principal, &people.engagement) {
        return Err(StoreError::not_found("design version"));
    }
    let all = designs::list(conn, engagement_id)?;
    let design = all.iter().find(|d| d.version == version).cloned().ok_or(StoreError::not_found("design version"))?;
    let previous = all.iter().rev().find(|d| d.version < version).cloned();
    Ok(Composer {
        design,
        previous,
        decisions: designs::decisions(conn, engagement_id, None)?,
        themes: stakeholders::themes(conn, engagement_id, true)?,
        outcomes: program::outcomes(conn, engagement_id)?,
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
    let mut participants = Vec::new();
    for membership in page.seen.memberships.iter().filter(|m| m.is_current()) {
        let name = keel_persistence::repo::users::find(conn, membership.user_id)?.map(|u| u.name);
        participants.push((membership.user_id, name.unwrap_or_else(|| "a former participant".to_owned())));
    }
    Ok(Ok(GroupDesk {
        outcomes: keel_persistence::repo::groups::outcomes(conn, id, None)?,
        items: keel_persistence::repo::groups::items(conn, id, None)?,
        participants,
        page,
    }))
}

/// The engagement's sessions of the coming seven days, when the caller is its coach.
pub fn this_week(
    conn: &mut DbConnection,
    caller: &Caller,
    engagement: &Engagement,
) -> Result<Vec<Session>, StoreError> {
    if !policy::works_on(&caller.principal, engagement) || engagement.phase != Phase::Coaching {
        return Ok(Vec::new());
    }
    let now = keel_domain::time::now();
    let week = now + chrono::Duration::days(7);
    Ok(sessions::list(conn, engagement.id)?
        .into_iter()
        .filter(|s| s.status == SessionStatus::Scheduled && s.scheduled_at >= now && s.scheduled_at <= week)
        .collect())
}
