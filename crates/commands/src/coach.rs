//! The coach's workspace: what the engagement's coach sees on its page to do every step of the
//! program, and the next thing each of their programs needs. The moves and the next thing come
//! from the domain's state machine (the same guards a transition request meets), not from a
//! second copy of its rules (docs/program.md).

use keel_domain::engagement::{Engagement, Move, Mover, ProgramFacts, moves, next_for_coach};
use keel_domain::policy;
use keel_domain::program::{ContextMeeting, LeaderInterview, Measurement, Outcome};
use keel_persistence::repo::program;
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
}

/// The workspace of the engagement of `people` (read by [`crate::pages::participants`], which
/// answers 404 to those who may not read it), when the caller is its coach; anyone else gets
/// `people` back, for their own page.
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
    let (offered, next) = offered_moves(conn, engagement, &facts)?;
    Ok(Ok(Workspace {
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

fn offered_moves(
    conn: &mut DbConnection,
    engagement: &Engagement,
    facts: &ProgramFacts,
) -> Result<(Vec<Move>, Option<String>), StoreError> {
    let template = crate::templates::of_engagement(conn, engagement)?;
    let offered = moves(engagement.phase, engagement.held_from, facts, &template.definition, Mover::Coach);
    let next = next_for_coach(engagement.phase, &offered);
    Ok((offered, next))
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
    Ok(offered_moves(conn, engagement, &facts)?.1)
}
