//! Step 6: coaching sessions and the hours ledger. The coach schedules (the leader may request a
//! time), moves, cancels and completes sessions; a completion draws on its month's hours and is
//! refused over budget. What a reader sees of a session is the policy's session view.

use keel_domain::audit::AuditRecord;
use keel_domain::coaching::{
    ActionItem, ActionItemChanges, ExtensionStatus, LedgerMonth, Month, NewSession, Session, SessionChanges,
    SessionContent, SessionStatus, check_budget, ledger,
};
use keel_domain::contract::Contract;
use keel_domain::engagement::Engagement;
use keel_domain::event::DomainEvent;
use keel_domain::policy::{self, Part, Principal, SessionView};
use keel_domain::template::SessionRequest;
use keel_domain::{DomainError, EngagementId, FieldError, Precondition, SessionId, ValidationErrors};
use keel_persistence::repo::{action_items, contracts, engagements, extensions, organizations, sessions, users};
use keel_persistence::{DbConnection, StoreError};

use crate::frame::{self, Caller, Effects};
use crate::notifications::sessions::{CalendarUpdate, calendar_update};
use crate::program::readable;

/// The most homework items one completion sets.
pub const HOMEWORK_MAX: usize = 20;

/// A session with what the caller may see of it.
#[derive(Clone, Debug)]
pub struct SeenSession {
    pub session: Session,
    pub view: SessionView,
}

pub(crate) fn seen(caller: &Caller, engagement: &Engagement, session: Session) -> SeenSession {
    let view = policy::session_view(&caller.principal, engagement, session.notes_author);
    SeenSession { session, view }
}

/// The coach alone changes sessions (the policy's generic write rule, said in session terms).
fn coach_writes(caller: &Caller, engagement: &Engagement) -> Result<(), DomainError> {
    policy::check_part(&caller.principal, engagement, Part::Sessions, true).map_err(|error| match error {
        DomainError::Forbidden { .. } => {
            DomainError::Forbidden { message: "only the engagement's coach changes sessions".to_owned() }
        }
        other => other,
    })
}

fn audit(effects: &mut Effects, caller: &Caller, action: &'static str, engagement: &Engagement, session: &Session) {
    effects.audit(AuditRecord::new(&caller.ctx, action, "session", session.id, Some(engagement.organization_id)));
}

/// Queues the calendar mail of `session` to the leader and the coach.
fn mail_calendar(
    conn: &mut DbConnection,
    effects: &mut Effects,
    session: &Session,
    engagement: &Engagement,
    update: CalendarUpdate,
) -> Result<(), StoreError> {
    let leader = users::get(conn, engagement.leader_id)?;
    let coach = users::get(conn, engagement.coach_id)?;
    for message in calendar_update(session, engagement, &leader, &coach, update) {
        effects.queue(message);
    }
    Ok(())
}

/// The engagement's sessions in time order.
pub fn list(
    conn: &mut DbConnection,
    caller: &Caller,
    engagement_id: EngagementId,
) -> Result<Vec<SeenSession>, StoreError> {
    let engagement = readable(conn, caller, engagement_id, Part::Sessions)?;
    Ok(sessions::list(conn, engagement_id)?.into_iter().map(|s| seen(caller, &engagement, s)).collect())
}

pub fn get(
    conn: &mut DbConnection,
    caller: &Caller,
    (engagement_id, session_id): (EngagementId, SessionId),
) -> Result<SeenSession, StoreError> {
    let engagement = readable(conn, caller, engagement_id, Part::Sessions)?;
    Ok(seen(caller, &engagement, sessions::get(conn, engagement_id, session_id)?))
}

/// A session's calendar file (`.ics`, the same event the invitation mails carried), for the coach
/// and the leader; a cancelled session's file removes the event.
pub fn calendar(
    conn: &mut DbConnection,
    caller: &Caller,
    (engagement_id, session_id): (EngagementId, SessionId),
) -> Result<String, StoreError> {
    let engagement = readable(conn, caller, engagement_id, Part::Sessions)?;
    let seen = seen(caller, &engagement, sessions::get(conn, engagement_id, session_id)?);
    if !seen.view.agenda() {
        return Err(DomainError::NotFound { resource: "session" }.into());
    }
    let leader = users::get(conn, engagement.leader_id)?;
    let coach = users::get(conn, engagement.coach_id)?;
    let update = if seen.session.status == SessionStatus::Cancelled {
        CalendarUpdate::Cancellation
    } else {
        CalendarUpdate::Invitation
    };
    Ok(crate::notifications::sessions::calendar(&seen.session, &engagement, &leader, &coach, update))
}

/// The places in the template's plan that the engagement's sessions hold.
fn plan_places(conn: &mut DbConnection, engagement: &Engagement) -> Result<Vec<u32>, StoreError> {
    Ok(places_in(&sessions::list(conn, engagement.id)?))
}

/// The places in the template's plan that `sessions` hold.
pub(crate) fn places_in(sessions: &[Session]) -> Vec<u32> {
    sessions.iter().filter(|s| s.holds_plan_place()).filter_map(|s| s.plan_index).collect()
}

/// The coach schedules a session, or the leader requests a time (`requested_by_leader` is set
/// from who asks). What the request leaves out comes from the engagement's template: the next
/// planned session, the session defaults, and an agenda written from the session plan. A
/// scheduled session mails its calendar invitation.
pub fn schedule(
    conn: &mut DbConnection,
    caller: &Caller,
    engagement_id: EngagementId,
    request: SessionRequest,
) -> Result<SeenSession, StoreError> {
    frame::run(conn, |tx, effects| {
        let engagement = engagements::get_for_update(tx, engagement_id)?;
        let requested_by_leader = policy::check_schedule(&caller.principal, &engagement)?;
        let template = crate::templates::of_engagement(tx, &engagement)?;
        let places = plan_places(tx, &engagement)?;
        let input = template.definition.new_session(request, &places, None)?;
        let session = Session::schedule(&engagement, NewSession { requested_by_leader, ..input })?;
        sessions::insert(tx, &engagement, &session)?;
        audit(effects, caller, "session.scheduled", &engagement, &session);
        effects.event(DomainEvent::session_scheduled(&engagement, session.id, session.scheduled_at));
        if session.status == SessionStatus::Scheduled {
            mail_calendar(tx, effects, &session, &engagement, CalendarUpdate::Invitation)?;
        }
        Ok(seen(caller, &engagement, session))
    })
}

/// Moves, confirms, cancels or marks a no-show. A move or a confirmation mails an updated
/// invitation; cancelling a scheduled session mails the cancellation.
pub fn change(
    conn: &mut DbConnection,
    caller: &Caller,
    (engagement_id, session_id): (EngagementId, SessionId),
    precondition: Option<&Precondition>,
    changes: &SessionChanges,
) -> Result<SeenSession, StoreError> {
    frame::run(conn, |tx, effects| {
        let engagement = engagements::get_for_update(tx, engagement_id)?;
        coach_writes(caller, &engagement)?;
        let current = sessions::get(tx, engagement_id, session_id)?;
        Precondition::check(precondition, current.version)?;
        let next = current.change(changes)?;
        sessions::save(tx, &engagement, &next)?;
        audit(effects, caller, "session.updated", &engagement, &next);
        let confirmed = matches!(current.status, SessionStatus::Requested | SessionStatus::Proposed)
            && next.status == SessionStatus::Scheduled;
        let moved = next.status == SessionStatus::Scheduled && next.sequence != current.sequence;
        let cancelled = current.status == SessionStatus::Scheduled && next.status == SessionStatus::Cancelled;
        if confirmed || moved {
            mail_calendar(tx, effects, &next, &engagement, CalendarUpdate::Invitation)?;
        } else if cancelled {
            mail_calendar(tx, effects, &next, &engagement, CalendarUpdate::Cancellation)?;
        }
        Ok(seen(caller, &engagement, next))
    })
}

/// What the coach records when completing a session.
#[derive(Clone, Debug, Default)]
pub struct Completion {
    pub actual_minutes: u32,
    pub content: SessionContent,
    /// The answer to the planned session's choice.
    pub choice: Option<String>,
    /// Homework: each becomes an open action item of the leader, set by this session.
    pub homework: Vec<ActionItemChanges>,
    /// The next session, proposed with the next steps as its agenda (confirmed by the coach).
    pub next_session: Option<SessionRequest>,
}

/// Validation errors of a part of the request, named under `prefix` (`homework[0].title`).
fn under(prefix: &str, error: DomainError) -> DomainError {
    match error {
        DomainError::Validation(errors) => DomainError::Validation(ValidationErrors(
            errors.0.into_iter().map(|e| FieldError { field: format!("{prefix}.{}", e.field), ..e }).collect(),
        )),
        other => other,
    }
}

/// Completes a session (the coach), if its month's budget (with approved extensions) covers it;
/// in the same transaction its homework becomes action items and its next steps a proposed next
/// session.
pub fn complete(
    conn: &mut DbConnection,
    caller: &Caller,
    (engagement_id, session_id): (EngagementId, SessionId),
    completion: &Completion,
) -> Result<SeenSession, StoreError> {
    let Principal::User { id: coach, .. } = caller.principal else {
        return Err(
            DomainError::Forbidden { message: "only the engagement's coach completes sessions".to_owned() }.into()
        );
    };
    frame::run(conn, |tx, effects| {
        let engagement = engagements::get_for_update(tx, engagement_id)?;
        coach_writes(caller, &engagement)?;
        let current = sessions::get(tx, engagement_id, session_id)?;
        let template = crate::templates::of_engagement(tx, &engagement)?;
        let planned = current.plan_index.and_then(|i| template.definition.planned_sessions.get(i as usize));
        let options = planned.and_then(|p| p.choice.as_ref());
        let next = current.complete(
            completion.actual_minutes,
            &completion.content,
            coach,
            completion.choice.as_deref(),
            options,
        )?;
        let month = ledger_of(tx, &engagement)?.into_iter().find(|m| m.month == next.month()).unwrap_or(LedgerMonth {
            month: next.month(),
            budget_minutes: 0,
            extension_minutes: 0,
            used_minutes: 0,
        });
        check_budget(&month, i64::from(completion.actual_minutes))?;
        sessions::save(tx, &engagement, &next)?;
        audit(effects, caller, "session.completed", &engagement, &next);
        effects.event(DomainEvent::session_completed(&engagement, next.id, next.duration_minutes));
        if completion.homework.len() > HOMEWORK_MAX {
            let error = ValidationErrors::single("homework", "too_many", format!("at most {HOMEWORK_MAX} items"));
            return Err(DomainError::Validation(error).into());
        }
        for (i, homework) in completion.homework.iter().enumerate() {
            let item = ActionItem::create(&engagement, Some(next.id), homework)
                .map_err(|e| under(&format!("homework[{i}]"), e))?;
            action_items::insert(tx, &engagement, &item)?;
            effects.audit(AuditRecord::new(
                &caller.ctx,
                "action_item.created",
                "action_item",
                item.id,
                Some(engagement.organization_id),
            ));
        }
        if let Some(request) = &completion.next_session {
            let places = plan_places(tx, &engagement)?;
            let input = template
                .definition
                .new_session(request.clone(), &places, next.content.next_steps.as_deref())
                .and_then(|input| Session::schedule(&engagement, NewSession { proposed: true, ..input }))
                .map_err(|e| under("next_session", e))?;
            sessions::insert(tx, &engagement, &input)?;
            audit(effects, caller, "session.proposed", &engagement, &input);
            effects.event(DomainEvent::session_scheduled(&engagement, input.id, input.scheduled_at));
        }
        Ok(seen(caller, &engagement, next))
    })
}

/// The hours ledger of an engagement the caller may read, with the contract it draws on.
pub fn hours(
    conn: &mut DbConnection,
    caller: &Caller,
    engagement_id: EngagementId,
) -> Result<(Engagement, Vec<LedgerMonth>, Option<Contract>), StoreError> {
    let engagement = readable(conn, caller, engagement_id, Part::Sessions)?;
    let months = ledger_of(conn, &engagement)?;
    let contract = engagement.contract_id.map(|id| contracts::get(conn, id)).transpose()?;
    Ok((engagement, months, contract))
}

/// The ledger: budget per month from the engagement, approved extensions, and usage from
/// completed sessions (and no-shows, when the organization counts them).
pub(crate) fn ledger_of(conn: &mut DbConnection, engagement: &Engagement) -> Result<Vec<LedgerMonth>, StoreError> {
    let all = sessions::list(conn, engagement.id)?;
    ledger_with(conn, engagement, &all)
}

/// [`ledger_of`], from the engagement's sessions already read.
pub(crate) fn ledger_with(
    conn: &mut DbConnection,
    engagement: &Engagement,
    all: &[Session],
) -> Result<Vec<LedgerMonth>, StoreError> {
    let organization = organizations::get(conn, engagement.organization_id)?;
    Ok(ledger_from(engagement, &organization, all, &extensions::list(conn, engagement.id)?))
}

/// The ledger of `engagement` from its sessions and extension requests.
pub(crate) fn ledger_from(
    engagement: &Engagement,
    organization: &keel_domain::organization::Organization,
    all: &[Session],
    requested: &[keel_domain::coaching::Extension],
) -> Vec<LedgerMonth> {
    let used: Vec<(Month, i64)> = all
        .iter()
        .filter(|s| SessionStatus::counted(organization.settings.no_show_counts).contains(&s.status))
        .map(|s| (s.month(), i64::from(s.duration_minutes)))
        .collect();
    let extended: Vec<(Month, i64)> =
        requested.iter().filter(|x| x.status == ExtensionStatus::Approved).map(|x| (x.month, x.minutes)).collect();
    ledger(engagement, &used, &extended)
}
