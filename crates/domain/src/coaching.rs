//! Step 6: coaching sessions (structure of seed 004, micro sessions of seed 000) and the hours
//! ledger: each month's budget (prorated for partial first and last months), what completed
//! sessions used, and the refusal to complete a session the month cannot cover.

use chrono::{Datelike, Months, NaiveDate};

use crate::engagement::{Engagement, Phase};
use crate::error::{DomainError, ValidationErrors};
use crate::id::{ActionItemId, EngagementId, ExtensionId, SessionId};
use crate::time::{self, Timestamp};
use crate::validate;
use crate::wire::wire_enum;

const TEXT_MAX: usize = 20_000;

wire_enum!(SessionFormat as FormatValue { InPerson => "in_person", Video => "video", Phone => "phone", Text => "text" });
wire_enum!(SessionKind as KindValue { Regular => "regular", Micro => "micro" });
wire_enum!(SessionStatus as SessionStatusValue {
    Requested => "requested",
    Proposed => "proposed",
    Scheduled => "scheduled",
    Completed => "completed",
    Cancelled => "cancelled",
    NoShow => "no_show",
});

impl SessionStatus {
    /// Sessions still to be held: asked for, proposed or scheduled (the coach's next thing
    /// looks at these and no others).
    pub const OPEN: [SessionStatus; 3] = [SessionStatus::Requested, SessionStatus::Proposed, SessionStatus::Scheduled];

    /// The statuses whose minutes draw on the hours: completed, and no-shows where the
    /// organization counts them (docs/program.md, organization settings).
    pub fn counted(no_show_counts: bool) -> &'static [SessionStatus] {
        if no_show_counts { &[SessionStatus::Completed, SessionStatus::NoShow] } else { &[SessionStatus::Completed] }
    }
}

/// What a completed session recorded (seed 004). `shared_summary` is for the leader;
/// `private_notes` for their author only.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionContent {
    pub check_in: Option<String>,
    pub progress_review: Option<String>,
    pub challenges: Option<String>,
    pub session_goals: Option<String>,
    pub action_plan: Option<String>,
    pub skill_building: Option<String>,
    pub reflection: Option<String>,
    pub next_steps: Option<String>,
    pub shared_summary: Option<String>,
    pub private_notes: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub id: SessionId,
    pub engagement_id: EngagementId,
    pub scheduled_at: Timestamp,
    /// Planned, then (once completed) actual minutes.
    pub duration_minutes: u32,
    pub format: SessionFormat,
    pub kind: SessionKind,
    pub status: SessionStatus,
    pub agenda: Option<String>,
    pub content: SessionContent,
    /// Who wrote `private_notes` (the coach who completed the session).
    pub notes_author: Option<crate::UserId>,
    pub status_reason: Option<String>,
    /// Which of the template's planned sessions this is (0-based), and its title.
    pub plan_index: Option<u32>,
    pub plan_title: Option<String>,
    /// The answer to the planned session's choice, recorded on completion.
    pub choice: Option<String>,
    pub completed_at: Option<Timestamp>,
    /// Bumped when the time changes (the calendar invitation's SEQUENCE).
    pub sequence: i32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

pub(crate) fn check_duration(errors: &mut ValidationErrors, field: &str, kind: SessionKind, minutes: u32) {
    let (lo, hi) = match kind {
        SessionKind::Micro => (5, 30),
        SessionKind::Regular => (15, 480),
    };
    if minutes < lo || minutes > hi {
        errors.add(field, "out_of_range", format!("a {} session lasts {lo} to {hi} minutes", kind.as_str()));
    }
}

fn optional(errors: &mut ValidationErrors, field: &str, value: &Option<String>) -> Option<String> {
    value.as_deref().and_then(|v| validate::text_multiline(errors, field, v, TEXT_MAX)).filter(|v| !v.is_empty())
}

/// A new session as requested.
#[derive(Clone, Debug, PartialEq)]
pub struct NewSession {
    pub scheduled_at: Timestamp,
    pub duration_minutes: u32,
    pub format: SessionFormat,
    pub kind: SessionKind,
    pub agenda: Option<String>,
    /// The leader asks for a time (status `requested`, confirmed by the coach).
    pub requested_by_leader: bool,
    /// Proposed by the session before it (status `proposed`, confirmed by the coach).
    pub proposed: bool,
    /// The template's planned session it realizes: its index and title.
    pub planned: Option<(u32, String)>,
}

/// Changes to a session that has not happened: a new time, length, format or agenda, a
/// confirmation of a requested time, or a cancellation / no-show with a reason.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SessionChanges {
    pub scheduled_at: Option<Timestamp>,
    pub duration_minutes: Option<u32>,
    pub format: Option<SessionFormat>,
    pub agenda: Option<Option<String>>,
    pub status: Option<SessionStatus>,
    pub reason: Option<String>,
}

impl Session {
    /// Sessions are scheduled while the engagement is in `coaching`.
    pub fn schedule(engagement: &Engagement, input: NewSession) -> Result<Session, DomainError> {
        if engagement.phase != Phase::Coaching {
            return Err(DomainError::conflict(
                "not_in_coaching",
                format!("sessions are scheduled while the engagement is in coaching; it is {}", engagement.phase),
            ));
        }
        let mut errors = ValidationErrors::new();
        check_duration(&mut errors, "duration_minutes", input.kind, input.duration_minutes);
        let agenda = optional(&mut errors, "agenda", &input.agenda);
        errors.finish(())?;
        let now = time::now();
        Ok(Session {
            id: SessionId::generate(),
            engagement_id: engagement.id,
            scheduled_at: time::truncate(input.scheduled_at),
            duration_minutes: input.duration_minutes,
            format: input.format,
            kind: input.kind,
            status: if input.proposed {
                SessionStatus::Proposed
            } else if input.requested_by_leader {
                SessionStatus::Requested
            } else {
                SessionStatus::Scheduled
            },
            agenda,
            content: SessionContent::default(),
            notes_author: None,
            status_reason: None,
            plan_index: input.planned.as_ref().map(|(i, _)| *i),
            plan_title: input.planned.map(|(_, t)| t),
            choice: None,
            completed_at: None,
            sequence: 0,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }

    /// The session after `changes`. Only a requested or scheduled session changes; cancelling or
    /// marking a no-show needs a reason.
    pub fn change(&self, changes: &SessionChanges) -> Result<Session, DomainError> {
        if !matches!(self.status, SessionStatus::Requested | SessionStatus::Proposed | SessionStatus::Scheduled) {
            return Err(DomainError::conflict("session_closed", format!("the session is {}", self.status.as_str())));
        }
        let mut errors = ValidationErrors::new();
        let mut next = self.clone();
        if let Some(at) = changes.scheduled_at {
            next.scheduled_at = time::truncate(at);
        }
        if let Some(minutes) = changes.duration_minutes {
            check_duration(&mut errors, "duration_minutes", next.kind, minutes);
            next.duration_minutes = minutes;
        }
        if let Some(format) = changes.format {
            next.format = format;
        }
        if let Some(agenda) = &changes.agenda {
            next.agenda = optional(&mut errors, "agenda", agenda);
        }
        match changes.status {
            None => {}
            Some(SessionStatus::Scheduled) => next.status = SessionStatus::Scheduled,
            Some(status @ (SessionStatus::Cancelled | SessionStatus::NoShow)) => {
                let reason = changes.reason.as_deref().and_then(|r| validate::text(&mut errors, "reason", r, 1, 2000));
                if reason.is_none() && !errors.0.iter().any(|e| e.field == "reason") {
                    errors.add("reason", "required", "say why");
                }
                next.status = status;
                next.status_reason = reason;
            }
            Some(other) => errors.add(
                "status",
                "not_settable",
                format!("use the complete operation, not status {}", other.as_str()),
            ),
        }
        errors.finish(())?;
        // Every revision of the calendar event (a move, or a cancellation of a scheduled session)
        // gets a higher SEQUENCE, so calendars apply it over the earlier invitation.
        let cancelled = self.status == SessionStatus::Scheduled && next.status == SessionStatus::Cancelled;
        if next.scheduled_at != self.scheduled_at || next.duration_minutes != self.duration_minutes || cancelled {
            next.sequence += 1;
        }
        next.updated_at = time::now();
        next.version += 1;
        Ok(next)
    }

    /// Whether this session still holds its place in the template's plan (not cancelled, not
    /// missed), so the next session scheduled takes the next planned one.
    pub fn holds_plan_place(&self) -> bool {
        self.plan_index.is_some() && !matches!(self.status, SessionStatus::Cancelled | SessionStatus::NoShow)
    }

    /// The session completed with its actual length and content, noted by `coach`. A planned
    /// session with a choice records one of its options (`choice`).
    pub fn complete(
        &self,
        actual_minutes: u32,
        content: &SessionContent,
        coach: crate::UserId,
        choice: Option<&str>,
        options: Option<&crate::template::SessionChoice>,
    ) -> Result<Session, DomainError> {
        if self.status != SessionStatus::Scheduled {
            return Err(DomainError::conflict(
                "session_not_scheduled",
                format!("only a scheduled session can be completed; it is {}", self.status.as_str()),
            ));
        }
        let mut errors = ValidationErrors::new();
        check_duration(&mut errors, "actual_duration_minutes", self.kind, actual_minutes);
        let content = SessionContent {
            check_in: optional(&mut errors, "check_in", &content.check_in),
            progress_review: optional(&mut errors, "progress_review", &content.progress_review),
            challenges: optional(&mut errors, "challenges", &content.challenges),
            session_goals: optional(&mut errors, "session_goals", &content.session_goals),
            action_plan: optional(&mut errors, "action_plan", &content.action_plan),
            skill_building: optional(&mut errors, "skill_building", &content.skill_building),
            reflection: optional(&mut errors, "reflection", &content.reflection),
            next_steps: optional(&mut errors, "next_steps", &content.next_steps),
            shared_summary: optional(&mut errors, "shared_summary", &content.shared_summary),
            private_notes: optional(&mut errors, "private_notes", &content.private_notes),
        };
        let choice = choice.map(str::trim).filter(|c| !c.is_empty());
        match (options, choice) {
            (Some(options), None) => errors.add(
                "choice",
                "required",
                format!("this session records a choice: {} ({})", options.question, options.options.join(", ")),
            ),
            (Some(options), Some(choice)) if !options.options.iter().any(|o| o == choice) => {
                errors.add("choice", "not_an_option", format!("one of: {}", options.options.join(", ")))
            }
            (None, Some(_)) => errors.add("choice", "not_applicable", "this session has no choice to record"),
            _ => {}
        }
        errors.finish(())?;
        let now = time::now();
        Ok(Session {
            status: SessionStatus::Completed,
            duration_minutes: actual_minutes,
            content,
            notes_author: Some(coach),
            choice: choice.map(str::to_owned),
            completed_at: Some(now),
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        })
    }

    /// The calendar month the session draws on (UTC).
    pub fn month(&self) -> Month {
        Month::of(self.scheduled_at.date_naive())
    }
}

/// A calendar month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    pub fn of(date: NaiveDate) -> Month {
        Month { year: date.year(), month: date.month() }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("valid month")
    }

    pub fn next(self) -> Month {
        Month::of(self.first_day().checked_add_months(Months::new(1)).expect("in range"))
    }

    pub fn days(self) -> i64 {
        (self.next().first_day() - self.first_day()).num_days()
    }

    pub fn parse(text: &str) -> Option<Month> {
        let (y, m) = text.split_once('-')?;
        let month = Month { year: y.parse().ok()?, month: m.parse().ok()? };
        NaiveDate::from_ymd_opt(month.year, month.month, 1).map(|_| month)
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// What has an hours budget: an engagement, or a group whose sessions count once for all.
pub trait Budgeted {
    fn start_date(&self) -> NaiveDate;
    fn planned_end_date(&self) -> NaiveDate;
    fn monthly_hours_budget(&self) -> f64;
}

impl Budgeted for Engagement {
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

/// The budget of `month` in minutes: the monthly budget, prorated by the days of the month that
/// fall between the start and the planned end (inclusive).
pub fn month_budget_minutes(plan: &impl Budgeted, month: Month) -> i64 {
    let first = month.first_day().max(plan.start_date());
    let last = (month.next().first_day() - chrono::Duration::days(1)).min(plan.planned_end_date());
    if last < first {
        return 0;
    }
    let covered = (last - first).num_days() + 1;
    let full = plan.monthly_hours_budget() * 60.0;
    (full * covered as f64 / month.days() as f64).round() as i64
}

/// One month of the ledger, in minutes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerMonth {
    pub month: Month,
    pub budget_minutes: i64,
    /// Approved extensions for this month.
    pub extension_minutes: i64,
    pub used_minutes: i64,
}

impl LedgerMonth {
    pub fn available_minutes(&self) -> i64 {
        self.budget_minutes + self.extension_minutes
    }

    pub fn remaining_minutes(&self) -> i64 {
        self.available_minutes() - self.used_minutes
    }

    /// What the month lacks to cover `minutes` more, rounded up to the half hour (0 when it
    /// covers them): the extension to ask the sponsors for.
    pub fn shortfall_minutes(&self, minutes: i64) -> i64 {
        let short = (self.used_minutes + minutes - self.available_minutes()).max(0);
        (short + 29) / 30 * 30
    }
}

/// The ledger from the start month to the planned end month. `used` are (month, minutes) of
/// completed (and, where the organization says so, no-show) sessions; `extensions` are approved
/// (month, minutes). Usage in months outside the plan appears as its own month.
pub fn ledger(plan: &impl Budgeted, used: &[(Month, i64)], extensions: &[(Month, i64)]) -> Vec<LedgerMonth> {
    let mut months = Vec::new();
    let mut month = Month::of(plan.start_date());
    let end = Month::of(plan.planned_end_date());
    while month <= end {
        months.push(month);
        month = month.next();
    }
    for (m, _) in used.iter().chain(extensions) {
        if !months.contains(m) {
            months.push(*m);
        }
    }
    months.sort();
    months
        .into_iter()
        .map(|m| LedgerMonth {
            month: m,
            budget_minutes: month_budget_minutes(plan, m),
            extension_minutes: extensions.iter().filter(|(em, _)| *em == m).map(|(_, x)| x).sum(),
            used_minutes: used.iter().filter(|(um, _)| *um == m).map(|(_, x)| x).sum(),
        })
        .collect()
}

/// Whether `minutes` more fit in `month`; refused with the numbers otherwise.
pub fn check_budget(month: &LedgerMonth, minutes: i64) -> Result<(), DomainError> {
    if month.used_minutes + minutes <= month.available_minutes() {
        return Ok(());
    }
    Err(DomainError::conflict(
        "over_budget",
        format!(
            "completing {minutes} minutes would use {} of the {} minutes available in {} ({} budgeted + {} from approved extensions); request an extension",
            month.used_minutes + minutes,
            month.available_minutes(),
            month.month,
            month.budget_minutes,
            month.extension_minutes
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engagement(start: (i32, u32, u32), end: (i32, u32, u32), hours: f64) -> Engagement {
        Engagement {
            start_date: NaiveDate::from_ymd_opt(start.0, start.1, start.2).unwrap(),
            planned_end_date: NaiveDate::from_ymd_opt(end.0, end.1, end.2).unwrap(),
            monthly_hours_budget: hours,
            ..super::tests_support::engagement()
        }
    }

    #[test]
    fn partial_first_and_last_months_are_prorated() {
        // 16 Jan to 15 Jul: January has 16 of 31 days, July 15 of 31.
        let e = engagement((2026, 1, 16), (2026, 7, 15), 3.0);
        let months = ledger(&e, &[], &[]);
        assert_eq!(months.len(), 7);
        assert_eq!(months[0].budget_minutes, (180.0 * 16.0 / 31.0_f64).round() as i64);
        assert_eq!(months[1].budget_minutes, 180, "a full month");
        assert_eq!(months[6].budget_minutes, (180.0 * 15.0 / 31.0_f64).round() as i64);
        // February in a leap year and not.
        let leap = engagement((2028, 2, 15), (2028, 8, 1), 2.0);
        assert_eq!(
            month_budget_minutes(&leap, Month { year: 2028, month: 2 }),
            (120.0 * 15.0 / 29.0_f64).round() as i64
        );
    }

    #[test]
    fn usage_and_extensions_across_month_boundaries() {
        let e = engagement((2026, 3, 1), (2026, 8, 31), 3.0);
        let march = Month { year: 2026, month: 3 };
        let april = Month { year: 2026, month: 4 };
        let months = ledger(&e, &[(march, 120), (april, 90), (march, 60)], &[(april, 60)]);
        let m = months.iter().find(|m| m.month == march).unwrap();
        assert_eq!((m.used_minutes, m.remaining_minutes()), (180, 0));
        let a = months.iter().find(|m| m.month == april).unwrap();
        assert_eq!((a.available_minutes(), a.remaining_minutes()), (240, 150));
        assert!(check_budget(m, 1).is_err(), "march is used up");
        assert!(check_budget(a, 150).is_ok());
        let DomainError::Conflict { code, message } = check_budget(a, 151).unwrap_err() else { panic!() };
        assert_eq!(code, "over_budget");
        assert!(message.contains("241 of the 240 minutes available in 2026-04"), "{message}");
        // Usage after the planned end shows up as its own month with no budget.
        let late = ledger(&e, &[(Month { year: 2026, month: 9 }, 30)], &[]);
        assert_eq!(late.last().map(|m| (m.budget_minutes, m.used_minutes)), Some((0, 30)));
    }

    #[test]
    fn sessions_follow_their_rules() {
        let e = engagement((2026, 1, 1), (2026, 7, 1), 3.0);
        let new = |kind, minutes| NewSession {
            scheduled_at: time::now(),
            duration_minutes: minutes,
            format: SessionFormat::Video,
            kind,
            agenda: None,
            requested_by_leader: false,
            proposed: false,
            planned: None,
        };
        assert!(Session::schedule(&e, new(SessionKind::Micro, 45)).is_err(), "micro sessions are 5-30 minutes");
        let session = Session::schedule(&e, new(SessionKind::Regular, 90)).unwrap();
        let moved = session.change(&SessionChanges { duration_minutes: Some(60), ..Default::default() }).unwrap();
        assert_eq!(moved.sequence, 1);
        assert!(
            session.change(&SessionChanges { status: Some(SessionStatus::Cancelled), ..Default::default() }).is_err(),
            "a reason is needed"
        );
        let done = session
            .complete(
                75,
                &SessionContent { private_notes: Some("n".into()), ..Default::default() },
                e.coach_id,
                None,
                None,
            )
            .unwrap();
        assert_eq!(
            (done.status, done.duration_minutes, done.notes_author),
            (SessionStatus::Completed, 75, Some(e.coach_id))
        );
        assert!(done.complete(75, &SessionContent::default(), e.coach_id, None, None).is_err(), "once");
        assert!(done.change(&SessionChanges::default()).is_err(), "closed");
        let mut held = e.clone();
        held.phase = Phase::MidReview;
        assert!(Session::schedule(&held, new(SessionKind::Regular, 60)).is_err(), "scheduling happens in coaching");
    }

    #[test]
    fn a_planned_choice_is_recorded_on_completion() {
        let e = engagement((2026, 1, 1), (2026, 7, 1), 3.0);
        let intro = crate::template::introductory();
        let opening = &intro.definition.planned_sessions[1];
        let input = NewSession {
            scheduled_at: time::now(),
            duration_minutes: opening.duration_minutes,
            format: SessionFormat::Video,
            kind: opening.kind,
            agenda: None,
            requested_by_leader: false,
            proposed: false,
            planned: Some((1, opening.title.clone())),
        };
        let session = Session::schedule(&e, input).unwrap();
        assert!(session.holds_plan_place());
        let choice = opening.choice.as_ref();
        let content = SessionContent::default();
        let code = |r: Result<Session, DomainError>| match r {
            Err(DomainError::Validation(v)) => v.0[0].code,
            other => panic!("{other:?}"),
        };
        assert_eq!(code(session.complete(90, &content, e.coach_id, None, choice)), "required");
        assert_eq!(code(session.complete(90, &content, e.coach_id, Some("both"), choice)), "not_an_option");
        assert_eq!(code(session.complete(90, &content, e.coach_id, Some("x"), None)), "not_applicable");
        let done = session.complete(90, &content, e.coach_id, Some("workplace_only"), choice).unwrap();
        assert_eq!(done.choice.as_deref(), Some("workplace_only"));
    }
}

wire_enum!(ExtensionStatus as ExtensionStatusValue { Requested => "requested", Approved => "approved", Declined => "declined" });

/// A change order: more hours for a month, optionally a later planned end.
#[derive(Clone, Debug, PartialEq)]
pub struct Extension {
    pub id: ExtensionId,
    pub engagement_id: EngagementId,
    pub minutes: i64,
    pub month: Month,
    pub new_planned_end_date: Option<NaiveDate>,
    pub reason: String,
    pub status: ExtensionStatus,
    pub decided_by: Option<crate::UserId>,
    pub decision_comment: Option<String>,
    pub requested_at: Timestamp,
    pub decided_at: Option<Timestamp>,
}

impl Extension {
    /// Whether `person` is asked to decide on this request now: a sponsor, while it is requested.
    pub fn awaits_decision(&self, engagement: &Engagement, person: crate::UserId) -> bool {
        self.status == ExtensionStatus::Requested && engagement.is_sponsor(person)
    }

    pub fn request(
        engagement: &Engagement,
        hours: f64,
        month: Option<&str>,
        new_planned_end_date: Option<NaiveDate>,
        reason: &str,
    ) -> Result<Extension, DomainError> {
        if engagement.phase.is_terminal() {
            return Err(DomainError::conflict("engagement_ended", format!("the engagement is {}", engagement.phase)));
        }
        let mut errors = ValidationErrors::new();
        if !hours.is_finite() || hours <= 0.0 || hours > 200.0 {
            errors.add("hours", "out_of_range", "between 0 and 200 hours");
        }
        let month = match month.map(Month::parse) {
            Some(Some(m)) => Some(m),
            Some(None) => {
                errors.add("month", "invalid", "a month as YYYY-MM");
                None
            }
            None => {
                errors.add("month", "required", "the month the hours are for (YYYY-MM)");
                None
            }
        };
        let end = new_planned_end_date.unwrap_or(engagement.planned_end_date);
        if let Some(date) = new_planned_end_date
            && date <= engagement.planned_end_date
        {
            errors.add("new_planned_end_date", "not_later", "must be after the current planned end");
        } else if let Some(date) = new_planned_end_date {
            crate::engagement::check_program_dates(&mut errors, engagement.start_date, date, "new_planned_end_date");
        }
        if let Some(m) = month
            && (m < Month::of(engagement.start_date) || m > Month::of(end))
        {
            errors.add("month", "outside_program", "the month must fall between the start and the (new) planned end");
        }
        let reason = validate::text_multiline(&mut errors, "reason", reason, 2000).filter(|r| !r.is_empty());
        if reason.is_none() && !errors.0.iter().any(|e| e.field == "reason") {
            errors.add("reason", "required", "say why more hours are needed");
        }
        errors.finish(())?;
        Ok(Extension {
            id: ExtensionId::generate(),
            engagement_id: engagement.id,
            minutes: (hours * 60.0).round() as i64,
            month: month.expect("validated"),
            new_planned_end_date,
            reason: reason.expect("validated"),
            status: ExtensionStatus::Requested,
            decided_by: None,
            decision_comment: None,
            requested_at: time::now(),
            decided_at: None,
        })
    }

    /// A sponsor's decision; an extension is decided once.
    /// The engagement after this decided extension: an approval that names a new planned end
    /// moves the engagement's end (`None`: the engagement does not change).
    pub fn moved_end(&self, engagement: &Engagement) -> Option<Engagement> {
        let end = self.new_planned_end_date.filter(|_| self.status == ExtensionStatus::Approved)?;
        let mut moved = engagement.clone();
        moved.planned_end_date = end;
        moved.updated_at = time::now();
        moved.version += 1;
        Some(moved)
    }

    pub fn decide(
        &self,
        sponsor: crate::UserId,
        approve: bool,
        comment: Option<&str>,
    ) -> Result<Extension, DomainError> {
        if self.status != ExtensionStatus::Requested {
            return Err(DomainError::conflict(
                "extension_decided",
                format!("the extension is already {}", self.status.as_str()),
            ));
        }
        let mut errors = ValidationErrors::new();
        let comment =
            comment.and_then(|c| validate::text_multiline(&mut errors, "comment", c, 2000)).filter(|c| !c.is_empty());
        errors.finish(())?;
        Ok(Extension {
            status: if approve { ExtensionStatus::Approved } else { ExtensionStatus::Declined },
            decided_by: Some(sponsor),
            decision_comment: comment,
            decided_at: Some(time::now()),
            ..self.clone()
        })
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    /// An engagement in `coaching`, 15 Jan to 15 Jul 2026, 3 hours a month.
    pub(crate) fn engagement() -> Engagement {
        Engagement {
            contract_id: None,
            id: EngagementId::generate(),
            organization_id: crate::OrganizationId::generate(),
            title: "T".into(),
            leader_id: crate::UserId::generate(),
            coach_id: crate::UserId::generate(),
            sponsor_ids: Default::default(),
            hr_partner_id: None,
            phase: Phase::Coaching,
            held_from: None,
            start_date: NaiveDate::from_ymd_opt(2026, 1, 15).unwrap(),
            planned_end_date: NaiveDate::from_ymd_opt(2026, 7, 15).unwrap(),
            monthly_hours_budget: 3.0,
            renewed_from_id: None,
            template_id: crate::template::EXECUTIVE_ID,
            template_version: 1,
            created_at: time::now(),
            updated_at: time::now(),
            version: 1,
        }
    }
}

#[cfg(test)]
mod extension_tests {
    use super::tests_support::engagement;
    use super::*;
    use crate::id::UserId;

    #[test]
    fn extensions_are_validated_and_decided_once() {
        let e = engagement();
        assert!(Extension::request(&e, 2.0, None, None, "more").is_err(), "month required");
        assert!(Extension::request(&e, 2.0, Some("2026-09"), None, "more").is_err(), "outside the program");
        let later = NaiveDate::from_ymd_opt(2026, 10, 15);
        let ext = Extension::request(&e, 1.5, Some("2026-09"), later, "extend").unwrap();
        assert_eq!((ext.minutes, ext.month.to_string()), (90, "2026-09".to_owned()));
        let sponsor = UserId::generate();
        let approved = ext.decide(sponsor, true, Some("ok")).unwrap();
        assert_eq!(approved.status, ExtensionStatus::Approved);
        assert!(approved.decide(sponsor, false, None).is_err());
        // Approved extensions raise the month's budget in the ledger.
        let months = ledger(&e, &[], &[(approved.month, approved.minutes)]);
        let september = months.iter().find(|m| m.month == approved.month).unwrap();
        assert_eq!((september.budget_minutes, september.available_minutes()), (0, 90));
    }
}

wire_enum!(ActionItemStatus as ActionItemStatusValue { Open => "open", Done => "done", Dropped => "dropped" });

/// Homework: set by the coach (usually from a session), owned by the leader.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionItem {
    pub id: ActionItemId,
    pub engagement_id: EngagementId,
    pub session_id: Option<SessionId>,
    pub title: String,
    pub details: Option<String>,
    pub due_date: Option<NaiveDate>,
    pub status: ActionItemStatus,
    /// The leader's note.
    pub leader_note: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// Changes to an action item. The leader may change only `status` (done / open) and `leader_note`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActionItemChanges {
    pub title: Option<String>,
    pub details: Option<Option<String>>,
    pub due_date: Option<Option<NaiveDate>>,
    pub status: Option<ActionItemStatus>,
    pub leader_note: Option<Option<String>>,
}

impl ActionItem {
    pub fn create(
        engagement: &Engagement,
        session_id: Option<SessionId>,
        input: &ActionItemChanges,
    ) -> Result<ActionItem, DomainError> {
        if engagement.phase.is_terminal() {
            return Err(DomainError::conflict("engagement_ended", format!("the engagement is {}", engagement.phase)));
        }
        if input.title.is_none() {
            return Err(DomainError::Validation(ValidationErrors::single("title", "required", "is required")));
        }
        let now = time::now();
        ActionItem {
            id: ActionItemId::generate(),
            engagement_id: engagement.id,
            session_id,
            title: String::new(),
            details: None,
            due_date: None,
            status: ActionItemStatus::Open,
            leader_note: None,
            created_at: now,
            updated_at: now,
            version: 0,
        }
        .apply(input, false)
    }

    /// The item after `changes`; `by_leader` limits them to status (done or open) and the note.
    pub fn apply(&self, changes: &ActionItemChanges, by_leader: bool) -> Result<ActionItem, DomainError> {
        if by_leader
            && (changes.title.is_some()
                || changes.details.is_some()
                || changes.due_date.is_some()
                || changes.status == Some(ActionItemStatus::Dropped))
        {
            return Err(DomainError::Forbidden {
                message:
                    "the leader marks action items done (or open again) and adds notes; the coach changes the rest"
                        .to_owned(),
            });
        }
        let mut errors = ValidationErrors::new();
        let mut next = self.clone();
        if let Some(title) = changes.title.as_deref().and_then(|t| validate::text(&mut errors, "title", t, 1, 200)) {
            next.title = title;
        }
        if let Some(details) = &changes.details {
            next.details = optional(&mut errors, "details", details);
        }
        if let Some(due) = changes.due_date {
            next.due_date = due;
        }
        if let Some(status) = changes.status {
            next.status = status;
        }
        if let Some(note) = &changes.leader_note {
            next.leader_note = note
                .as_deref()
                .and_then(|n| validate::text_multiline(&mut errors, "leader_note", n, 5000))
                .filter(|n| !n.is_empty());
        }
        errors.finish(())?;
        next.updated_at = time::now();
        next.version += 1;
        Ok(next)
    }

    /// Open and past its due date.
    pub fn overdue(&self, today: NaiveDate) -> bool {
        self.status == ActionItemStatus::Open && self.due_date.is_some_and(|d| d < today)
    }
}

#[cfg(test)]
mod action_item_tests {
    use super::*;

    #[test]
    fn leaders_mark_done_coaches_change_the_rest() {
        let e = super::tests_support::engagement();
        let input = ActionItemChanges {
            title: Some("Delegate the budget review".into()),
            due_date: Some(NaiveDate::from_ymd_opt(2026, 3, 1)),
            ..Default::default()
        };
        let item = ActionItem::create(&e, None, &input).unwrap();
        assert!(item.overdue(NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()));
        assert!(!item.overdue(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()));
        let done = item
            .apply(
                &ActionItemChanges {
                    status: Some(ActionItemStatus::Done),
                    leader_note: Some(Some("Done Friday".into())),
                    ..Default::default()
                },
                true,
            )
            .unwrap();
        assert!(!done.overdue(NaiveDate::from_ymd_opt(2026, 4, 1).unwrap()));
        assert!(item.apply(&ActionItemChanges { title: Some("x".into()), ..Default::default() }, true).is_err());
        assert!(
            item.apply(&ActionItemChanges { status: Some(ActionItemStatus::Dropped), ..Default::default() }, true)
                .is_err()
        );
        assert!(
            item.apply(&ActionItemChanges { status: Some(ActionItemStatus::Dropped), ..Default::default() }, false)
                .is_ok()
        );
    }
}

/// What the coach does next in a program in coaching, from its sessions and homework (the state
/// machine's own next thing is only the move on, which coaching leaves open): a session soon, one
/// to confirm or to complete, overdue homework, a review that is due, or the next session to
/// schedule (docs/program.md, the coach's next thing). `mid_review_open`: the template has a mid
/// review and none is completed; it is due once the program is past the middle of its dates,
/// and the end review two weeks before the planned end.
/// The end of the week ahead of `now`: the sessions the coach's next thing and their home's week
/// look at are those up to then (and the first one after it).
pub fn week_ahead(now: crate::time::Timestamp) -> crate::time::Timestamp {
    now + chrono::Duration::days(7)
}

pub fn coaching_next(
    engagement: &Engagement,
    sessions: &[Session],
    items: &[ActionItem],
    mid_review_open: bool,
    now: crate::time::Timestamp,
) -> Option<String> {
    let today = now.date_naive();
    let middle = engagement.start_date + (engagement.planned_end_date - engagement.start_date) / 2;
    let mid_review_due = mid_review_open && today >= middle;
    let end_near = today + chrono::Duration::days(14) >= engagement.planned_end_date;
    let soon = week_ahead(now);
    let upcoming = sessions
        .iter()
        .filter(|s| s.status == SessionStatus::Scheduled && s.scheduled_at >= now && s.scheduled_at <= soon)
        .min_by_key(|s| s.scheduled_at);
    if let Some(s) = upcoming {
        let day = if s.scheduled_at.date_naive() == now.date_naive() {
            "today".to_owned()
        } else if s.scheduled_at.date_naive() == now.date_naive() + chrono::Duration::days(1) {
            "tomorrow".to_owned()
        } else {
            s.scheduled_at.format("%A %-d %B").to_string()
        };
        return Some(format!("Session {day} {} UTC", s.scheduled_at.format("%H:%M")));
    }
    if let Some(s) = sessions.iter().find(|s| matches!(s.status, SessionStatus::Requested | SessionStatus::Proposed)) {
        return Some(format!("Confirm the session asked for {}", s.scheduled_at.format("%-d %B, %H:%M UTC")));
    }
    if let Some(s) = sessions.iter().find(|s| s.status == SessionStatus::Scheduled && s.scheduled_at < now) {
        return Some(format!("Complete the session of {}", s.scheduled_at.format("%-d %B")));
    }
    if let Some(item) =
        items.iter().find(|i| i.status == ActionItemStatus::Open && i.due_date.is_some_and(|d| d < today))
    {
        return Some(format!("Homework overdue: {}", item.title));
    }
    if mid_review_due {
        return Some("Mid-program review due".to_owned());
    }
    if end_near {
        return Some("End-of-program review due".to_owned());
    }
    if !sessions.iter().any(|s| s.status == SessionStatus::Scheduled && s.scheduled_at >= now) {
        return Some("Schedule the next session".to_owned());
    }
    None
}

#[cfg(test)]
mod coaching_next_tests {
    use super::tests_support::engagement;
    use super::*;

    fn at(text: &str) -> crate::time::Timestamp {
        chrono::DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&chrono::Utc)
    }

    fn session(when: &str, status: SessionStatus) -> Session {
        let input = NewSession {
            scheduled_at: at(when),
            duration_minutes: 60,
            format: SessionFormat::Video,
            kind: SessionKind::Regular,
            agenda: None,
            requested_by_leader: false,
            proposed: false,
            planned: None,
        };
        Session { status, ..Session::schedule(&engagement(), input).unwrap() }
    }

    /// The coach's next thing in coaching, in the order it is asked: what is soon first.
    #[test]
    fn the_next_thing_in_coaching() {
        let now = at("2026-03-09T12:00:00Z");
        let tomorrow = session("2026-03-10T09:00:00Z", SessionStatus::Scheduled);
        let overdue = ActionItem::create(
            &engagement(),
            None,
            &ActionItemChanges {
                title: Some("Delegate the budget".into()),
                due_date: Some(NaiveDate::from_ymd_opt(2026, 3, 1)),
                ..Default::default()
            },
        )
        .unwrap();
        // A program of 1 January to 1 April: on 9 March it is past its middle, and its end is
        // more than two weeks away.
        let program = Engagement {
            start_date: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            planned_end_date: NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
            ..engagement()
        };
        let next =
            |sessions: &[Session], items: &[ActionItem], mid: bool| coaching_next(&program, sessions, items, mid, now);
        assert_eq!(
            next(std::slice::from_ref(&tomorrow), std::slice::from_ref(&overdue), true).as_deref(),
            Some("Session tomorrow 09:00 UTC")
        );
        let proposed = session("2026-03-20T09:00:00Z", SessionStatus::Proposed);
        assert_eq!(next(&[proposed], &[], false).as_deref(), Some("Confirm the session asked for 20 March, 09:00 UTC"));
        let past = session("2026-03-02T09:00:00Z", SessionStatus::Scheduled);
        assert_eq!(next(&[past], &[], false).as_deref(), Some("Complete the session of 2 March"));
        let later = session("2026-03-30T09:00:00Z", SessionStatus::Scheduled);
        let done = session("2026-03-02T09:00:00Z", SessionStatus::Completed);
        assert_eq!(
            next(&[done.clone(), later.clone()], &[overdue], true).as_deref(),
            Some("Homework overdue: Delegate the budget")
        );
        assert_eq!(next(&[done.clone(), later.clone()], &[], true).as_deref(), Some("Mid-program review due"));
        assert_eq!(next(&[done.clone(), later], &[], false), None);
        assert_eq!(next(&[done], &[], false).as_deref(), Some("Schedule the next session"));
    }
}
