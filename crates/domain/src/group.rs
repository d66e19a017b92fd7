//! Group and team coaching (seed 002): a *cohort* — one coach and up to a configurable number of
//! individuals of one organization who are not an intact team — or a *team* with its leader.
//! Group sessions record who attended; their hours count once against the group's budget. Each
//! participant may have their own outcomes and action items, which the other participants never
//! see. People join and leave with their history kept.

use chrono::{Months, NaiveDate};

use crate::coaching::{SessionFormat, check_duration};
use crate::engagement::{People, check_person, check_program_dates};
use crate::error::{DomainError, ValidationErrors};
use crate::id::{
    ContractId, GroupActionItemId, GroupId, GroupOutcomeId, GroupSessionId, MembershipId, OrganizationId, UserId,
};
use crate::organization::{HOURS_BUDGET_RANGE, Organization};
use crate::time::{self, Timestamp};
use crate::user::Role;
use crate::validate;
use crate::wire::wire_enum;

pub const NAME_MAX: usize = 200;
pub const TEXT_MAX: usize = 20_000;
/// How many participants a group may be set to hold.
pub const SIZE_RANGE: (u32, u32) = (2, 50);
/// A cohort is usually about ten individuals (seed 002).
pub const DEFAULT_SIZE: u32 = 12;
/// The most people one completion records as attending.
pub const ATTENDANCE_MAX: usize = 50;

wire_enum!(
    /// A cohort of individuals who are not an intact team, or an intact team with its leader.
    GroupKind as GroupKindValue {
        Cohort => "cohort",
        Team => "team",
    }
);

wire_enum!(GroupSessionStatus as GroupSessionStatusValue {
    Scheduled => "scheduled",
    Completed => "completed",
    Cancelled => "cancelled",
});

#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub id: GroupId,
    pub organization_id: OrganizationId,
    pub kind: GroupKind,
    pub name: String,
    pub coach_id: UserId,
    pub sponsor_id: UserId,
    pub hr_partner_id: Option<UserId>,
    /// A team's leader (a participant too); none for a cohort.
    pub team_leader_id: Option<UserId>,
    pub max_participants: u32,
    pub monthly_hours_budget: f64,
    pub start_date: NaiveDate,
    pub planned_end_date: NaiveDate,
    /// The coaching contract whose hours the group draws on, if any (docs/contracts.md).
    pub contract_id: Option<ContractId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

impl crate::coaching::Budgeted for Group {
    fn start_date(&self) -> NaiveDate {
        self.start_date
    }
    fn planned_end_date(&self) -> NaiveDate {
        self.planned_end_date
    }
    fn monthly_hours_budget(&self) -> f64 {
        self.monthly_hours_budget
    }
}

/// A group as requested, or as a change would leave it.
#[derive(Clone, Debug, PartialEq)]
pub struct NewGroup {
    pub organization_id: OrganizationId,
    pub kind: GroupKind,
    pub name: String,
    pub coach_id: UserId,
    pub sponsor_id: UserId,
    pub hr_partner_id: Option<UserId>,
    pub team_leader_id: Option<UserId>,
    pub max_participants: Option<u32>,
    pub monthly_hours_budget: Option<f64>,
    pub start_date: NaiveDate,
    pub planned_end_date: Option<NaiveDate>,
    /// The contract to draw on (checked against the organization's contracts by the caller).
    pub contract_id: Option<ContractId>,
}

/// Changes to a group: its name, size, budget or planned end (by its hr_partner or an admin).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GroupChanges {
    pub name: Option<String>,
    pub max_participants: Option<u32>,
    pub monthly_hours_budget: Option<f64>,
    pub planned_end_date: Option<NaiveDate>,
    /// `Some(None)` stops drawing on a contract.
    pub contract_id: Option<Option<ContractId>>,
}

impl GroupChanges {
    pub fn changed_fields(&self) -> Vec<&'static str> {
        [
            (self.name.is_some(), "name"),
            (self.max_participants.is_some(), "max_participants"),
            (self.monthly_hours_budget.is_some(), "monthly_hours_budget"),
            (self.planned_end_date.is_some(), "planned_end_date"),
            (self.contract_id.is_some(), "contract_id"),
        ]
        .into_iter()
        .filter_map(|(set, name)| set.then_some(name))
        .collect()
    }
}

impl Group {
    pub fn create(input: NewGroup, organization: &Organization, people: &dyn People) -> Result<Group, DomainError> {
        let mut errors = ValidationErrors::new();
        let name = validate::text(&mut errors, "name", &input.name, 1, NAME_MAX);
        let org = Some(input.organization_id);
        check_person(&mut errors, people, "coach_id", input.coach_id, None, Some(Role::Coach));
        check_person(&mut errors, people, "sponsor_id", input.sponsor_id, org, None);
        if let Some(hr) = input.hr_partner_id {
            check_person(&mut errors, people, "hr_partner_id", hr, org, Some(Role::HrPartner));
        }
        match (input.kind, input.team_leader_id) {
            (GroupKind::Team, None) => errors.add("team_leader_id", "required", "a team has its leader"),
            (GroupKind::Team, Some(leader)) => {
                check_person(&mut errors, people, "team_leader_id", leader, org, None);
                if leader == input.coach_id {
                    errors.add("team_leader_id", "same_as_coach", "the coach cannot lead the team coached");
                }
            }
            (GroupKind::Cohort, Some(_)) => {
                errors.add("team_leader_id", "not_applicable", "a cohort's participants are not an intact team")
            }
            (GroupKind::Cohort, None) => {}
        }
        let size = input.max_participants.unwrap_or(DEFAULT_SIZE);
        let (lo, hi) = SIZE_RANGE;
        if !(lo..=hi).contains(&size) {
            errors.add("max_participants", "out_of_range", format!("between {lo} and {hi}"));
        }
        let six = input.start_date.checked_add_months(Months::new(6));
        let end = input.planned_end_date.or(six).unwrap_or(input.start_date);
        if end <= input.start_date {
            errors.add("planned_end_date", "before_start", "the planned end must be after the start");
        } else {
            check_program_dates(&mut errors, input.start_date, end, "planned_end_date");
        }
        let budget = input.monthly_hours_budget.unwrap_or(organization.settings.default_monthly_hours_budget);
        let (lo, hi) = HOURS_BUDGET_RANGE;
        if !budget.is_finite() || budget < lo || budget > hi {
            errors.add("monthly_hours_budget", "out_of_range", format!("must be between {lo} and {hi} hours"));
        }
        errors.finish(())?;
        let now = time::now();
        Ok(Group {
            id: GroupId::generate(),
            organization_id: input.organization_id,
            kind: input.kind,
            name: name.expect("validated"),
            coach_id: input.coach_id,
            sponsor_id: input.sponsor_id,
            hr_partner_id: input.hr_partner_id,
            team_leader_id: input.team_leader_id,
            max_participants: size,
            monthly_hours_budget: budget,
            start_date: input.start_date,
            planned_end_date: end,
            contract_id: input.contract_id,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }

    /// The group after `changes`, checked like creation; the size never below who is in it.
    pub fn change(
        &self,
        changes: &GroupChanges,
        organization: &Organization,
        people: &dyn People,
        members: usize,
    ) -> Result<Group, DomainError> {
        let input = NewGroup {
            organization_id: self.organization_id,
            kind: self.kind,
            name: changes.name.clone().unwrap_or_else(|| self.name.clone()),
            coach_id: self.coach_id,
            sponsor_id: self.sponsor_id,
            hr_partner_id: self.hr_partner_id,
            team_leader_id: self.team_leader_id,
            max_participants: Some(changes.max_participants.unwrap_or(self.max_participants)),
            monthly_hours_budget: Some(changes.monthly_hours_budget.unwrap_or(self.monthly_hours_budget)),
            start_date: self.start_date,
            planned_end_date: Some(changes.planned_end_date.unwrap_or(self.planned_end_date)),
            contract_id: changes.contract_id.unwrap_or(self.contract_id),
        };
        let checked = Group::create(input, organization, people)?;
        if (checked.max_participants as usize) < members {
            return Err(DomainError::conflict(
                "group_too_small",
                format!("{members} people take part; the group cannot hold fewer"),
            ));
        }
        Ok(Group {
            name: checked.name,
            max_participants: checked.max_participants,
            monthly_hours_budget: checked.monthly_hours_budget,
            planned_end_date: checked.planned_end_date,
            contract_id: checked.contract_id,
            updated_at: time::now(),
            version: self.version + 1,
            ..self.clone()
        })
    }

    /// Whether `user` may join now: an active person of the group's organization, not its coach,
    /// not in it already, and room left (`members`: those in it now).
    pub fn check_join(&self, people: &dyn People, user: UserId, members: &[UserId]) -> Result<(), DomainError> {
        let mut errors = ValidationErrors::new();
        if user == self.coach_id {
            errors.add("user_id", "same_as_coach", "the coach does not take part in the group coached");
        } else {
            check_person(&mut errors, people, "user_id", user, Some(self.organization_id), None);
        }
        errors.finish(())?;
        if members.contains(&user) {
            return Err(DomainError::conflict("already_member", "the person takes part in the group already"));
        }
        if members.len() >= self.max_participants as usize {
            return Err(DomainError::conflict(
                "group_full",
                format!("the group holds at most {} participants", self.max_participants),
            ));
        }
        Ok(())
    }
}

/// A person's time in a group: from joining until leaving (None: still in it).
#[derive(Clone, Debug, PartialEq)]
pub struct Membership {
    pub id: MembershipId,
    pub group_id: GroupId,
    pub user_id: UserId,
    pub joined_at: Timestamp,
    pub left_at: Option<Timestamp>,
}

impl Membership {
    pub fn start(group: &Group, user: UserId) -> Membership {
        Membership {
            id: MembershipId::generate(),
            group_id: group.id,
            user_id: user,
            joined_at: time::now(),
            left_at: None,
        }
    }

    pub fn is_current(&self) -> bool {
        self.left_at.is_none()
    }

    /// Whether `at` falls within this membership: from joining until leaving, both included
    /// (docs/access.md, groups).
    pub fn covers(&self, at: Timestamp) -> bool {
        self.joined_at <= at && self.left_at.is_none_or(|left| at <= left)
    }
}

/// How a person stands to a group, from their memberships.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Participation {
    Current,
    Former,
    Never,
}

impl Participation {
    pub fn of(memberships: &[Membership], user: UserId) -> Participation {
        let mine: Vec<&Membership> = memberships.iter().filter(|m| m.user_id == user).collect();
        if mine.iter().any(|m| m.is_current()) {
            Participation::Current
        } else if mine.is_empty() {
            Participation::Never
        } else {
            Participation::Former
        }
    }
}

/// A session of the whole group.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupSession {
    pub id: GroupSessionId,
    pub group_id: GroupId,
    pub scheduled_at: Timestamp,
    /// Planned, then (once completed) actual minutes.
    pub duration_minutes: u32,
    pub format: SessionFormat,
    pub status: GroupSessionStatus,
    pub agenda: Option<String>,
    /// For the participants.
    pub shared_summary: Option<String>,
    /// For the coach who wrote them.
    pub private_notes: Option<String>,
    pub notes_author: Option<UserId>,
    pub status_reason: Option<String>,
    pub completed_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

fn optional(errors: &mut ValidationErrors, field: &str, value: Option<&str>) -> Option<String> {
    value.and_then(|v| validate::text_multiline(errors, field, v, TEXT_MAX)).filter(|v| !v.is_empty())
}

/// Who was there: each participant in the group when the session was completed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attendance {
    pub user_id: UserId,
    pub attended: bool,
}

impl GroupSession {
    pub fn schedule(
        group: &Group,
        scheduled_at: Timestamp,
        duration_minutes: u32,
        format: SessionFormat,
        agenda: Option<&str>,
    ) -> Result<GroupSession, DomainError> {
        let mut errors = ValidationErrors::new();
        check_duration(&mut errors, "duration_minutes", crate::coaching::SessionKind::Regular, duration_minutes);
        let agenda = optional(&mut errors, "agenda", agenda);
        errors.finish(())?;
        let now = time::now();
        Ok(GroupSession {
            id: GroupSessionId::generate(),
            group_id: group.id,
            scheduled_at: time::truncate(scheduled_at),
            duration_minutes,
            format,
            status: GroupSessionStatus::Scheduled,
            agenda,
            shared_summary: None,
            private_notes: None,
            notes_author: None,
            status_reason: None,
            completed_at: None,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }

    /// Moves a scheduled session, or cancels it (`status: cancelled`, with a reason); any other
    /// status is reached by completing it.
    pub fn change(
        &self,
        scheduled_at: Option<Timestamp>,
        status: Option<GroupSessionStatus>,
        reason: Option<&str>,
    ) -> Result<GroupSession, DomainError> {
        if self.status != GroupSessionStatus::Scheduled {
            return Err(DomainError::conflict("session_closed", format!("the session is {}", self.status)));
        }
        let mut next = self.clone();
        if let Some(at) = scheduled_at {
            next.scheduled_at = time::truncate(at);
        }
        match status {
            None | Some(GroupSessionStatus::Cancelled) => {}
            Some(_) => {
                let message = "only cancelled; complete the session with its complete operation";
                return Err(DomainError::Validation(ValidationErrors::single("status", "not_settable", message)));
            }
        }
        if status == Some(GroupSessionStatus::Cancelled) {
            let mut errors = ValidationErrors::new();
            let reason = reason.and_then(|r| validate::text(&mut errors, "reason", r, 1, 2000));
            if reason.is_none() && errors.is_empty() {
                errors.add("reason", "required", "say why");
            }
            errors.finish(())?;
            next.status = GroupSessionStatus::Cancelled;
            next.status_reason = reason;
        }
        next.updated_at = time::now();
        next.version += 1;
        Ok(next)
    }

    /// Completes the session: its length, summary and notes, and who of `members` (those in the
    /// group now) `attended`.
    pub fn complete(
        &self,
        actual_minutes: u32,
        shared_summary: Option<&str>,
        private_notes: Option<&str>,
        attended: &[UserId],
        members: &[UserId],
        coach: UserId,
    ) -> Result<(GroupSession, Vec<Attendance>), DomainError> {
        if self.status != GroupSessionStatus::Scheduled {
            return Err(DomainError::conflict(
                "session_not_scheduled",
                format!("only a scheduled session can be completed; it is {}", self.status),
            ));
        }
        let mut errors = ValidationErrors::new();
        check_duration(&mut errors, "actual_duration_minutes", crate::coaching::SessionKind::Regular, actual_minutes);
        let shared_summary = optional(&mut errors, "shared_summary", shared_summary);
        let private_notes = optional(&mut errors, "private_notes", private_notes);
        if attended.len() > ATTENDANCE_MAX {
            errors.add("attended", "too_many", format!("at most {ATTENDANCE_MAX} people"));
        }
        for (i, user) in attended.iter().enumerate() {
            if !members.contains(user) {
                errors.add(format!("attended[{i}]"), "not_a_member", "this person does not take part in the group");
            } else if attended[..i].contains(user) {
                errors.add(format!("attended[{i}]"), "duplicate", "this person is listed twice");
            }
        }
        errors.finish(())?;
        let now = time::now();
        let attendance =
            members.iter().map(|m| Attendance { user_id: *m, attended: attended.contains(m) }).collect::<Vec<_>>();
        Ok((
            GroupSession {
                status: GroupSessionStatus::Completed,
                duration_minutes: actual_minutes,
                shared_summary,
                private_notes,
                notes_author: Some(coach),
                completed_at: Some(now),
                updated_at: now,
                version: self.version + 1,
                ..self.clone()
            },
            attendance,
        ))
    }

    pub fn month(&self) -> crate::coaching::Month {
        crate::coaching::Month::of(self.scheduled_at.date_naive())
    }
}

/// A participant's own outcome in the group (seen by them and the coach only).
#[derive(Clone, Debug, PartialEq)]
pub struct GroupOutcome {
    pub id: GroupOutcomeId,
    pub group_id: GroupId,
    pub participant_id: UserId,
    pub title: String,
    pub measure: Option<String>,
    pub baseline: Option<String>,
    pub target: Option<String>,
    pub created_at: Timestamp,
}

impl GroupOutcome {
    pub fn create(
        group: &Group,
        participant: UserId,
        title: &str,
        measure: Option<&str>,
        baseline: Option<&str>,
        target: Option<&str>,
    ) -> Result<GroupOutcome, DomainError> {
        let mut errors = ValidationErrors::new();
        let title = validate::text(&mut errors, "title", title, 1, NAME_MAX);
        let short = |errors: &mut ValidationErrors, field: &str, v: Option<&str>| {
            v.map(str::trim).filter(|v| !v.is_empty()).and_then(|v| validate::text(errors, field, v, 1, 2000))
        };
        let measure = short(&mut errors, "measure", measure);
        let baseline = short(&mut errors, "baseline", baseline);
        let target = short(&mut errors, "target", target);
        errors.finish(())?;
        Ok(GroupOutcome {
            id: GroupOutcomeId::generate(),
            group_id: group.id,
            participant_id: participant,
            title: title.expect("validated"),
            measure,
            baseline,
            target,
            created_at: time::now(),
        })
    }
}

wire_enum!(GroupItemStatus as GroupItemStatusValue { Open => "open", Done => "done", Dropped => "dropped" });

/// A participant's own action item in the group (seen by them and the coach only).
#[derive(Clone, Debug, PartialEq)]
pub struct GroupActionItem {
    pub id: GroupActionItemId,
    pub group_id: GroupId,
    pub participant_id: UserId,
    pub session_id: Option<GroupSessionId>,
    pub title: String,
    pub details: Option<String>,
    pub due_date: Option<NaiveDate>,
    pub status: GroupItemStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

impl GroupActionItem {
    pub fn create(
        group: &Group,
        participant: UserId,
        session_id: Option<GroupSessionId>,
        title: &str,
        details: Option<&str>,
        due_date: Option<NaiveDate>,
    ) -> Result<GroupActionItem, DomainError> {
        let mut errors = ValidationErrors::new();
        let title = validate::text(&mut errors, "title", title, 1, NAME_MAX);
        let details = optional(&mut errors, "details", details);
        errors.finish(())?;
        let now = time::now();
        Ok(GroupActionItem {
            id: GroupActionItemId::generate(),
            group_id: group.id,
            participant_id: participant,
            session_id,
            title: title.expect("validated"),
            details,
            due_date,
            status: GroupItemStatus::Open,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }

    pub fn with_status(&self, status: GroupItemStatus) -> GroupActionItem {
        GroupActionItem { status, updated_at: time::now(), version: self.version + 1, ..self.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::{NewUser, User};

    struct Directory(Vec<User>);

    impl People for Directory {
        fn get(&self, id: UserId) -> Option<&User> {
            self.0.iter().find(|u| u.id == id)
        }
    }

    fn person(org: Option<OrganizationId>, roles: Vec<Role>, email: &str) -> User {
        User::create(NewUser { email: email.into(), name: "P".into(), organization_id: org, roles, external_id: None })
            .unwrap()
    }

    fn codes(result: Result<impl std::fmt::Debug, DomainError>) -> Vec<(String, &'static str)> {
        match result {
            Err(DomainError::Validation(v)) => v.0.into_iter().map(|e| (e.field, e.code)).collect(),
            Err(DomainError::Conflict { code, .. }) => vec![(String::new(), code)],
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_cohort_is_checked_and_fills_up() {
        let org =
            Organization::create(crate::organization::NewOrganization { name: "Acme".into(), ..Default::default() })
                .unwrap();
        let coach = person(None, vec![Role::Coach], "c@p.test");
        let sponsor = person(Some(org.id), vec![], "s@a.test");
        let outsider = person(Some(OrganizationId::generate()), vec![], "o@b.test");
        let a = person(Some(org.id), vec![], "a@a.test");
        let b = person(Some(org.id), vec![], "b@a.test");
        let people = Directory(vec![coach.clone(), sponsor.clone(), outsider.clone(), a.clone(), b.clone()]);
        let input = NewGroup {
            contract_id: None,
            organization_id: org.id,
            kind: GroupKind::Cohort,
            name: "Leaders 2026".into(),
            coach_id: coach.id,
            sponsor_id: sponsor.id,
            hr_partner_id: None,
            team_leader_id: None,
            max_participants: Some(2),
            monthly_hours_budget: None,
            start_date: NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
            planned_end_date: None,
        };
        let group = Group::create(input.clone(), &org, &people).unwrap();
        assert_eq!(group.planned_end_date, NaiveDate::from_ymd_opt(2026, 7, 5).unwrap());
        assert_eq!(codes(group.check_join(&people, outsider.id, &[])), [("user_id".into(), "wrong_organization")]);
        assert_eq!(codes(group.check_join(&people, coach.id, &[])), [("user_id".into(), "same_as_coach")]);
        assert_eq!(codes(group.check_join(&people, a.id, &[a.id])), [(String::new(), "already_member")]);
        assert_eq!(codes(group.check_join(&people, sponsor.id, &[a.id, b.id])), [(String::new(), "group_full")]);
        assert!(group.check_join(&people, b.id, &[a.id]).is_ok());
        let team = NewGroup { kind: GroupKind::Team, ..input.clone() };
        assert_eq!(codes(Group::create(team, &org, &people)), [("team_leader_id".into(), "required")]);
        let huge = NewGroup { max_participants: Some(500), ..input };
        assert_eq!(codes(Group::create(huge, &org, &people)), [("max_participants".into(), "out_of_range")]);
        assert_eq!(
            codes(group.change(&GroupChanges { max_participants: Some(2), ..Default::default() }, &org, &people, 3)),
            [(String::new(), "group_too_small")]
        );
    }

    #[test]
    fn attendance_names_every_participant_once() {
        let coach = UserId::generate();
        let (a, b, c) = (UserId::generate(), UserId::generate(), UserId::generate());
        let group = Group {
            contract_id: None,
            id: GroupId::generate(),
            organization_id: OrganizationId::generate(),
            kind: GroupKind::Cohort,
            name: "G".into(),
            coach_id: coach,
            sponsor_id: UserId::generate(),
            hr_partner_id: None,
            team_leader_id: None,
            max_participants: 10,
            monthly_hours_budget: 3.0,
            start_date: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            planned_end_date: NaiveDate::from_ymd_opt(2026, 7, 1).unwrap(),
            created_at: time::now(),
            updated_at: time::now(),
            version: 1,
        };
        let session = GroupSession::schedule(&group, time::now(), 90, SessionFormat::InPerson, None).unwrap();
        let completed = Some(GroupSessionStatus::Completed);
        assert_eq!(codes(session.change(None, completed, None)), [("status".into(), "not_settable")]);
        let cancel = Some(GroupSessionStatus::Cancelled);
        assert_eq!(codes(session.change(None, cancel, None)), [("reason".into(), "required")]);
        assert_eq!(session.change(None, cancel, Some("snow")).unwrap().status, GroupSessionStatus::Cancelled);
        assert_eq!(
            codes(session.complete(90, None, None, &[a, c, a], &[a, b], coach)),
            [("attended[1]".into(), "not_a_member"), ("attended[2]".into(), "duplicate")]
        );
        let (done, attendance) = session.complete(85, Some("We met"), None, &[b], &[a, b], coach).unwrap();
        assert_eq!(done.status, GroupSessionStatus::Completed);
        assert_eq!(attendance, [Attendance { user_id: a, attended: false }, Attendance { user_id: b, attended: true }]);
        assert_eq!(
            codes(done.complete(85, None, None, &[], &[a, b], coach)),
            [(String::new(), "session_not_scheduled")]
        );
    }
}
