//! Group and team coaching: cohorts and teams, who joins and leaves, group sessions with
//! attendance counted once against the group's hours, and each participant's own outcomes and
//! action items. Who sees what is the policy's `check_group` and `group_session_view`.

use keel_domain::audit::AuditRecord;
use keel_domain::coaching::{LedgerMonth, Month, SessionFormat, check_budget, ledger};
use keel_domain::contract::{Contract, Draw};
use keel_domain::event::DomainEvent;
use keel_domain::group::{
    Attendance, Group, GroupActionItem, GroupChanges, GroupItemStatus, GroupOutcome, GroupSession, GroupSessionStatus,
    Membership, NewGroup, Participation,
};
use keel_domain::page::{Page, PageRequest};
use keel_domain::policy::{self, Action, EngagementVisibility, GroupAction, GroupSessionView, Principal};
use keel_domain::time::Timestamp;
use keel_domain::user::UserStatus;
use keel_domain::{DomainError, GroupActionItemId, GroupId, GroupSessionId, Precondition, UserId, ValidationErrors};
use keel_persistence::repo::contracts::Drawer;
use keel_persistence::repo::groups::{self, GroupScope};
use keel_persistence::repo::{organizations, users};
use keel_persistence::{DbConnection, StoreError};

use crate::contracts::Allocation;
use crate::engagements::people;
use crate::frame::{self, Caller, Effects};
use crate::notifications::sessions::{CalendarUpdate, group_calendar_update};

fn me(caller: &Caller) -> Option<UserId> {
    match caller.principal {
        Principal::User { id, .. } => Some(id),
        Principal::ApiClient { .. } => None,
    }
}

fn participation(caller: &Caller, memberships: &[Membership]) -> Participation {
    me(caller).map_or(Participation::Never, |me| Participation::of(memberships, me))
}

fn current(memberships: &[Membership]) -> Vec<UserId> {
    memberships.iter().filter(|m| m.is_current()).map(|m| m.user_id).collect()
}

/// A group, its memberships, and what the caller is in it.
pub struct SeenGroup {
    pub group: Group,
    pub memberships: Vec<Membership>,
    pub participation: Participation,
}

/// Loads the group (locked when `lock`) and its memberships, if the caller may do `action`.
fn open(
    conn: &mut DbConnection,
    caller: &Caller,
    id: GroupId,
    lock: bool,
    action: GroupAction,
) -> Result<SeenGroup, StoreError> {
    let group = if lock { groups::get_for_update(conn, id)? } else { groups::get(conn, id)? };
    let memberships = groups::memberships(conn, id)?;
    let participation = participation(caller, &memberships);
    policy::check_group(&caller.principal, &group, participation, action)?;
    Ok(SeenGroup { group, memberships, participation })
}

fn audit(
    effects: &mut Effects,
    caller: &Caller,
    action: &'static str,
    resource: &'static str,
    id: impl ToString,
    group: &Group,
) {
    effects.audit(AuditRecord::new(&caller.ctx, action, resource, id, Some(group.organization_id)));
}

/// A new group, with `participants` joining it in the same transaction (the workspace's form
/// names them; the API adds them one by one): all of it is made, or nothing.
pub fn create(
    conn: &mut DbConnection,
    caller: &Caller,
    input: NewGroup,
    participants: &[UserId],
) -> Result<SeenGroup, StoreError> {
    policy::check(&caller.principal, &Action::CreateGroup { organization_id: input.organization_id })?;
    frame::run(conn, |tx, effects| {
        let Some(organization) = organizations::find(tx, input.organization_id)? else {
            let error = ValidationErrors::single("organization_id", "not_found", "no organization has this id");
            return Err(DomainError::Validation(error).into());
        };
        let named =
            [input.coach_id, input.sponsor_id].into_iter().chain(input.hr_partner_id).chain(input.team_leader_id);
        let people = people(tx, named)?;
        let group = Group::create(input, &organization, &people)?;
        let allocation = Allocation {
            drawer: Drawer::Group(group.id),
            contract_id: group.contract_id,
            start_date: group.start_date,
            after: Draw::planned(&group),
            field: "contract_id",
        };
        crate::contracts::check_allocation(tx, &organization, allocation)?;
        groups::insert(tx, &group)?;
        audit(effects, caller, "group.created", "group", group.id, &group);
        effects.event(DomainEvent::group_created(&group));
        let mut memberships = Vec::new();
        if let Some(leader) = group.team_leader_id {
            // A team is coached with its leader in it.
            let membership = Membership::start(&group, leader);
            groups::insert_membership(tx, &group, &membership)?;
            effects.event(DomainEvent::member_joined(&group, leader));
            memberships.push(membership);
        }
        let mut seen = SeenGroup { group, memberships, participation: Participation::Never };
        for user in participants {
            add_member(tx, effects, caller, &mut seen, *user)?;
        }
        Ok(seen)
    })
}

/// `user` joins `seen`: an active person of the organization, while there is room.
fn add_member(
    tx: &mut DbConnection,
    effects: &mut frame::Effects,
    caller: &Caller,
    seen: &mut SeenGroup,
    user: UserId,
) -> Result<Membership, StoreError> {
    let people = people(tx, [user])?;
    seen.group.check_join(&people, user, &current(&seen.memberships))?;
    let membership = Membership::start(&seen.group, user);
    groups::insert_membership(tx, &seen.group, &membership)?;
    audit(effects, caller, "group.member_joined", "group", seen.group.id, &seen.group);
    effects.event(DomainEvent::member_joined(&seen.group, user));
    seen.memberships.push(membership.clone());
    Ok(membership)
}

/// The groups the caller may see: all for admins, the organization's for its managers, those
/// they coach, sponsor or take part in for everyone else.
pub fn list(conn: &mut DbConnection, caller: &Caller, page: PageRequest) -> Result<Page<Group>, StoreError> {
    let scope = match policy::engagement_visibility(&caller.principal)? {
        EngagementVisibility::All => GroupScope::All,
        EngagementVisibility::Organization(org) => GroupScope::Organization(org),
        EngagementVisibility::Participant(me) => GroupScope::Person(me),
    };
    groups::list(conn, scope, page)
}

pub fn get(conn: &mut DbConnection, caller: &Caller, id: GroupId) -> Result<SeenGroup, StoreError> {
    open(conn, caller, id, false, GroupAction::Read)
}

/// Changes the group's name, size, budget or planned end (its hr_partner or an admin).
pub fn update(
    conn: &mut DbConnection,
    caller: &Caller,
    id: GroupId,
    precondition: Option<&Precondition>,
    changes: &GroupChanges,
) -> Result<SeenGroup, StoreError> {
    frame::run_versioned(conn, precondition, |tx, effects| {
        let seen = open(tx, caller, id, true, GroupAction::Manage)?;
        Precondition::check(precondition, seen.group.version)?;
        let organization = organizations::get(tx, seen.group.organization_id)?;
        let group = &seen.group;
        let named =
            [group.coach_id, group.sponsor_id].into_iter().chain(group.hr_partner_id).chain(group.team_leader_id);
        let people = people(tx, named)?;
        let next = group.change(changes, &organization, &people, current(&seen.memberships).len())?;
        let draw_changes = next.contract_id != group.contract_id
            || next.monthly_hours_budget != group.monthly_hours_budget
            || next.planned_end_date != group.planned_end_date;
        if draw_changes {
            let allocation = Allocation {
                drawer: Drawer::Group(next.id),
                contract_id: next.contract_id,
                start_date: next.start_date,
                after: Draw::from_ledger(&ledger_of(tx, &next)?, false),
                field: if changes.monthly_hours_budget.is_some() { "monthly_hours_budget" } else { "planned_end_date" },
            };
            crate::contracts::check_allocation(tx, &organization, allocation)?;
        }
        groups::save(tx, &next, group.version)?;
        let record = AuditRecord::new(&caller.ctx, "group.updated", "group", id, Some(group.organization_id));
        effects.audit(record.with_fields(changes.changed_fields()));
        Ok(SeenGroup { group: next, ..seen })
    })
}

/// Queues the calendar mail of `session` to the group's coach and its active participants now.
fn mail_calendar(
    tx: &mut DbConnection,
    effects: &mut frame::Effects,
    seen: &SeenGroup,
    session: &GroupSession,
    update: CalendarUpdate,
) -> Result<(), StoreError> {
    let coach = users::get(tx, seen.group.coach_id)?;
    let mut participants = Vec::new();
    for id in current(&seen.memberships) {
        let person = users::get(tx, id)?;
        if person.status == UserStatus::Active {
            participants.push(person);
        }
    }
    for message in group_calendar_update(session, &seen.group, &coach, &participants, update) {
        effects.queue(message);
    }
    Ok(())
}

/// A person joins the group (its hr_partner or an admin adds them): an active person of the
/// organization, while there is room.
pub fn join(conn: &mut DbConnection, caller: &Caller, id: GroupId, user: UserId) -> Result<Membership, StoreError> {
    frame::run(conn, |tx, effects| {
        let mut seen = open(tx, caller, id, true, GroupAction::Manage)?;
        add_member(tx, effects, caller, &mut seen, user)
    })
}

/// A person leaves the group; their membership, attendance and items stay on record.
pub fn leave(conn: &mut DbConnection, caller: &Caller, id: GroupId, user: UserId) -> Result<(), StoreError> {
    frame::run(conn, |tx, effects| {
        let seen = open(tx, caller, id, true, GroupAction::Manage)?;
        if !current(&seen.memberships).contains(&user) {
            return Err(DomainError::conflict("not_a_member", "the person does not take part in the group now").into());
        }
        groups::end_membership(tx, id, user, keel_domain::time::now())?;
        audit(effects, caller, "group.member_left", "group", id, &seen.group);
        effects.event(DomainEvent::member_left(&seen.group, user));
        Ok(())
    })
}

/// A group session with what the caller may see of it, and who attended (once completed).
pub struct SeenGroupSession {
    pub session: GroupSession,
    pub view: GroupSessionView,
    pub attendance: Vec<Attendance>,
}

/// `session` as the caller sees it, if it is there for them at all (the policy's
/// `group_session_view`: a participant sees only what was held while they were in the group).
fn seen_session(
    caller: &Caller,
    seen: &SeenGroup,
    session: GroupSession,
    attendance: &[(GroupSessionId, Attendance)],
) -> Option<SeenGroupSession> {
    let view = policy::group_session_view(&caller.principal, &seen.group, &seen.memberships, &session)?;
    let attendance = attendance.iter().filter(|(s, _)| *s == session.id).map(|(_, a)| a.clone()).collect();
    Some(SeenGroupSession { session, view, attendance })
}

/// The same, or 404 for a session that is not there for the caller.
fn visible_session(
    caller: &Caller,
    seen: &SeenGroup,
    session: GroupSession,
    attendance: &[(GroupSessionId, Attendance)],
) -> Result<SeenGroupSession, StoreError> {
    seen_session(caller, seen, session, attendance).ok_or_else(|| StoreError::not_found("session"))
}

pub fn sessions(conn: &mut DbConnection, caller: &Caller, id: GroupId) -> Result<Vec<SeenGroupSession>, StoreError> {
    let seen = open(conn, caller, id, false, GroupAction::Read)?;
    let attendance = groups::attendance(conn, id)?;
    Ok(groups::sessions(conn, id)?.into_iter().filter_map(|s| seen_session(caller, &seen, s, &attendance)).collect())
}

pub fn session(
    conn: &mut DbConnection,
    caller: &Caller,
    (id, session_id): (GroupId, GroupSessionId),
) -> Result<SeenGroupSession, StoreError> {
    let seen = open(conn, caller, id, false, GroupAction::Read)?;
    let attendance = groups::attendance(conn, id)?;
    visible_session(caller, &seen, groups::get_session(conn, id, session_id)?, &attendance)
}

/// The coach schedules a group session.
pub fn schedule(
    conn: &mut DbConnection,
    caller: &Caller,
    id: GroupId,
    (scheduled_at, minutes, format, agenda): (Timestamp, u32, SessionFormat, Option<String>),
) -> Result<SeenGroupSession, StoreError> {
    frame::run(conn, |tx, effects| {
        let seen = open(tx, caller, id, true, GroupAction::RunSessions)?;
        let session = GroupSession::schedule(&seen.group, scheduled_at, minutes, format, agenda.as_deref())?;
        groups::insert_session(tx, &seen.group, &session)?;
        audit(effects, caller, "group.session_scheduled", "group_session", session.id, &seen.group);
        effects.event(DomainEvent::group_session_scheduled(&seen.group, session.id, session.scheduled_at));
        mail_calendar(tx, effects, &seen, &session, CalendarUpdate::Invitation)?;
        visible_session(caller, &seen, session, &[])
    })
}

/// The coach moves or cancels (with a reason) a group session.
pub fn change_session(
    conn: &mut DbConnection,
    caller: &Caller,
    (id, session_id): (GroupId, GroupSessionId),
    precondition: Option<&Precondition>,
    (scheduled_at, status, reason): (Option<Timestamp>, Option<GroupSessionStatus>, Option<String>),
) -> Result<SeenGroupSession, StoreError> {
    frame::run(conn, |tx, effects| {
        let seen = open(tx, caller, id, true, GroupAction::RunSessions)?;
        let current = groups::get_session(tx, id, session_id)?;
        Precondition::check(precondition, current.version)?;
        let next = current.change(scheduled_at, status, reason.as_deref())?;
        groups::save_session(tx, &seen.group, &next, current.version)?;
        audit(effects, caller, "group.session_updated", "group_session", next.id, &seen.group);
        if next.status == GroupSessionStatus::Cancelled && current.status != GroupSessionStatus::Cancelled {
            mail_calendar(tx, effects, &seen, &next, CalendarUpdate::Cancellation)?;
        } else if next.status == GroupSessionStatus::Scheduled && next.scheduled_at != current.scheduled_at {
            mail_calendar(tx, effects, &seen, &next, CalendarUpdate::Invitation)?;
        }
        visible_session(caller, &seen, next, &[])
    })
}

/// What the coach records when completing a group session.
#[derive(Clone, Debug, Default)]
pub struct GroupCompletion {
    pub actual_minutes: u32,
    pub shared_summary: Option<String>,
    pub private_notes: Option<String>,
    /// The participants who were there (the others in the group are recorded as absent).
    pub attended: Vec<UserId>,
}

/// The coach completes a group session: its hours count once against the group's month (409
/// `over_budget` when the month cannot cover them), and attendance is recorded for everyone in
/// the group.
pub fn complete_session(
    conn: &mut DbConnection,
    caller: &Caller,
    (id, session_id): (GroupId, GroupSessionId),
    completion: &GroupCompletion,
) -> Result<SeenGroupSession, StoreError> {
    let Some(coach) = me(caller) else {
        return Err(DomainError::Forbidden { message: "only the group's coach runs its sessions".to_owned() }.into());
    };
    frame::run(conn, |tx, effects| {
        let seen = open(tx, caller, id, true, GroupAction::RunSessions)?;
        let current_session = groups::get_session(tx, id, session_id)?;
        let (next, attendance) = current_session.complete(
            completion.actual_minutes,
            completion.shared_summary.as_deref(),
            completion.private_notes.as_deref(),
            &completion.attended,
            &current(&seen.memberships),
            coach,
        )?;
        let month = ledger_of(tx, &seen.group)?.into_iter().find(|m| m.month == next.month()).unwrap_or(LedgerMonth {
            month: next.month(),
            budget_minutes: 0,
            extension_minutes: 0,
            used_minutes: 0,
        });
        check_budget(&month, i64::from(completion.actual_minutes))?;
        groups::save_session(tx, &seen.group, &next, current_session.version)?;
        groups::insert_attendance(tx, &seen.group, next.id, &attendance)?;
        audit(effects, caller, "group.session_completed", "group_session", next.id, &seen.group);
        let present = attendance.iter().filter(|a| a.attended).count();
        let absent = attendance.len() - present;
        effects.event(DomainEvent::group_session_completed(
            &seen.group,
            next.id,
            next.duration_minutes,
            present,
            absent,
        ));
        let with_attendance: Vec<(GroupSessionId, Attendance)> = attendance.into_iter().map(|a| (next.id, a)).collect();
        visible_session(caller, &seen, next, &with_attendance)
    })
}

/// The group's hours ledger (its completed sessions, counted once each) as the caller reads it
/// (see [`ledger_seen`]), with the contract it draws on.
pub fn hours(
    conn: &mut DbConnection,
    caller: &Caller,
    id: GroupId,
) -> Result<(Group, Vec<LedgerMonth>, Option<Contract>), StoreError> {
    let seen = open(conn, caller, id, false, GroupAction::Read)?;
    let months = ledger_seen(caller, &seen, &groups::sessions(conn, id)?);
    let contract = seen.group.contract_id.map(|c| keel_persistence::repo::contracts::get(conn, c)).transpose()?;
    Ok((seen.group, months, contract))
}

/// The ledger counting only the sessions the caller may see: a participant's hours are those of
/// the sessions held while they were a member, so the ledger tells nothing of the sessions held
/// outside their span (docs/access.md, groups); everyone else who reads the group sees them all.
fn ledger_seen(caller: &Caller, seen: &SeenGroup, sessions: &[GroupSession]) -> Vec<LedgerMonth> {
    let visible: Vec<GroupSession> = sessions
        .iter()
        .filter(|s| policy::group_session_view(&caller.principal, &seen.group, &seen.memberships, s).is_some())
        .cloned()
        .collect();
    ledger_from(&seen.group, &visible)
}

fn ledger_of(conn: &mut DbConnection, group: &Group) -> Result<Vec<LedgerMonth>, StoreError> {
    Ok(ledger_from(group, &groups::sessions(conn, group.id)?))
}

/// The ledger of `group` from its sessions (the completed ones count, once each).
fn ledger_from(group: &Group, sessions: &[GroupSession]) -> Vec<LedgerMonth> {
    let used: Vec<(Month, i64)> = sessions
        .iter()
        .filter(|s| s.status == GroupSessionStatus::Completed)
        .map(|s| (s.month(), i64::from(s.duration_minutes)))
        .collect();
    ledger(group, &used, &[])
}

/// The participant named in a path must be (or have been) in the group.
fn participant_of(seen: &SeenGroup, participant: UserId) -> Result<(), StoreError> {
    if seen.memberships.iter().any(|m| m.user_id == participant) {
        Ok(())
    } else {
        Err(StoreError::not_found("participant"))
    }
}

pub fn outcomes(
    conn: &mut DbConnection,
    caller: &Caller,
    (id, participant): (GroupId, UserId),
) -> Result<Vec<GroupOutcome>, StoreError> {
    let seen = open(conn, caller, id, false, GroupAction::ReadItems { participant })?;
    participant_of(&seen, participant)?;
    groups::outcomes(conn, id, Some(participant))
}

/// The coach sets an outcome of one participant.
pub fn add_outcome(
    conn: &mut DbConnection,
    caller: &Caller,
    (id, participant): (GroupId, UserId),
    (title, measure, baseline, target): (String, Option<String>, Option<String>, Option<String>),
) -> Result<GroupOutcome, StoreError> {
    frame::run(conn, |tx, effects| {
        let seen = open(tx, caller, id, true, GroupAction::WriteItems { participant })?;
        participant_of(&seen, participant)?;
        let outcome = GroupOutcome::create(
            &seen.group,
            participant,
            &title,
            measure.as_deref(),
            baseline.as_deref(),
            target.as_deref(),
        )?;
        groups::insert_outcome(tx, &seen.group, &outcome)?;
        audit(effects, caller, "group.outcome_created", "group_outcome", outcome.id, &seen.group);
        Ok(outcome)
    })
}

pub fn items(
    conn: &mut DbConnection,
    caller: &Caller,
    (id, participant): (GroupId, UserId),
) -> Result<Vec<GroupActionItem>, StoreError> {
    let seen = open(conn, caller, id, false, GroupAction::ReadItems { participant })?;
    participant_of(&seen, participant)?;
    groups::items(conn, id, Some(participant))
}

/// A new action item of one participant.
#[derive(Clone, Debug, Default)]
pub struct NewGroupItem {
    pub session_id: Option<GroupSessionId>,
    pub title: String,
    pub details: Option<String>,
    pub due_date: Option<chrono::NaiveDate>,
}

/// The coach sets an action item of one participant (optionally from a group session).
pub fn add_item(
    conn: &mut DbConnection,
    caller: &Caller,
    (id, participant): (GroupId, UserId),
    input: &NewGroupItem,
) -> Result<GroupActionItem, StoreError> {
    frame::run(conn, |tx, effects| {
        let seen = open(tx, caller, id, true, GroupAction::WriteItems { participant })?;
        participant_of(&seen, participant)?;
        if let Some(session) = input.session_id {
            groups::get_session(tx, id, session).map_err(|_| {
                DomainError::Validation(ValidationErrors::single(
                    "session_id",
                    "not_found",
                    "not a session of this group",
                ))
            })?;
        }
        let item = GroupActionItem::create(
            &seen.group,
            participant,
            input.session_id,
            &input.title,
            input.details.as_deref(),
            input.due_date,
        )?;
        groups::insert_item(tx, &seen.group, &item)?;
        audit(effects, caller, "group.action_item_created", "group_action_item", item.id, &seen.group);
        Ok(item)
    })
}

/// The participant (or the coach) marks an action item done, dropped or open again.
pub fn update_item(
    conn: &mut DbConnection,
    caller: &Caller,
    (id, participant, item_id): (GroupId, UserId, GroupActionItemId),
    precondition: Option<&Precondition>,
    status: GroupItemStatus,
) -> Result<GroupActionItem, StoreError> {
    frame::run(conn, |tx, effects| {
        let seen = open(tx, caller, id, true, GroupAction::UpdateItemStatus { participant })?;
        let current_item = groups::get_item(tx, id, participant, item_id)?;
        Precondition::check(precondition, current_item.version)?;
        let next = current_item.with_status(status);
        groups::save_item(tx, &seen.group, &next, current_item.version)?;
        audit(effects, caller, "group.action_item_updated", "group_action_item", next.id, &seen.group);
        Ok(next)
    })
}

/// What a person's page of a group shows: the group, its sessions as they may see them, the
/// coach's name, and — for a participant, present or former — their own outcomes and items.
pub struct GroupPage {
    pub seen: SeenGroup,
    pub sessions: Vec<SeenGroupSession>,
    pub coach: String,
    pub hours: Vec<LedgerMonth>,
    pub mine: Option<(Vec<GroupOutcome>, Vec<GroupActionItem>)>,
}

pub fn page(conn: &mut DbConnection, caller: &Caller, id: GroupId) -> Result<GroupPage, StoreError> {
    // The group, its memberships and its sessions are read once, for the page and its ledger.
    let seen = open(conn, caller, id, false, GroupAction::Read)?;
    let attendance = groups::attendance(conn, id)?;
    let all = groups::sessions(conn, id)?;
    let hours = ledger_seen(caller, &seen, &all);
    let sessions = all.into_iter().filter_map(|s| seen_session(caller, &seen, s, &attendance)).collect();
    let coach = users::find(conn, seen.group.coach_id)?.map(|u| u.name).unwrap_or_else(|| "the coach".to_owned());
    let mine = match (me(caller), seen.participation) {
        (Some(me), Participation::Current | Participation::Former) => {
            let mine = GroupAction::ReadItems { participant: me };
            policy::check_group(&caller.principal, &seen.group, seen.participation, mine)?;
            Some((groups::outcomes(conn, id, Some(me))?, groups::items(conn, id, Some(me))?))
        }
        _ => None,
    };
    Ok(GroupPage { seen, sessions, coach, hours, mine })
}

/// The groups a person coaches, sponsors or takes part in, with their part in each.
pub fn mine(conn: &mut DbConnection, caller: &Caller) -> Result<Vec<(Group, &'static str)>, StoreError> {
    let Some(me) = me(caller) else { return Ok(Vec::new()) };
    let page = PageRequest::new(Some(100), None).map_err(DomainError::Validation)?;
    let mut mine = Vec::new();
    for group in groups::list(conn, GroupScope::Person(me), page)?.items {
        let role = if group.coach_id == me {
            "coach"
        } else if group.sponsor_id == me {
            "sponsor"
        } else {
            "participant"
        };
        mine.push((group, role));
    }
    Ok(mine)
}
