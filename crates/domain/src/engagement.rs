//! Engagements and the eight-step program as a state machine (docs/program.md, seed 003).

use std::collections::BTreeSet;

use chrono::{Months, NaiveDate};

use crate::error::{DomainError, ValidationErrors};
use crate::id::{ContractId, EngagementId, OrganizationId, TemplateId, TransitionId, UserId};
use crate::organization::Organization;
use crate::template::{ProgramTemplate, TemplateDefinition, check_length};
use crate::time::{self, Timestamp};
use crate::user::{Role, User, UserStatus};
use crate::validate;
use crate::wire::wire_enum;

/// The longest a program may be planned to run, even with `allow_any_duration` (a longer one
/// is renewed: the end review starts a new engagement).
pub const MAX_DURATION_MONTHS: u32 = 36;
/// The years a program's dates may fall in.
pub const YEARS: (i32, i32) = (2000, 2100);

/// Checks that a program's `end` lies within [`MAX_DURATION_MONTHS`] of `start` and that both
/// lie in [`YEARS`]; records errors on `end_field` (and `start_date`) and says whether they do.
pub fn check_program_dates(errors: &mut ValidationErrors, start: NaiveDate, end: NaiveDate, end_field: &str) -> bool {
    use chrono::Datelike;
    let (first, last) = YEARS;
    let start_ok = (first..=last).contains(&start.year());
    if !start_ok {
        errors.add("start_date", "out_of_range", format!("must lie in the years {first} to {last}"));
    }
    let latest = start.checked_add_months(Months::new(MAX_DURATION_MONTHS));
    let end_ok = (first..=last).contains(&end.year()) && latest.is_some_and(|latest| end <= latest);
    if !end_ok {
        errors.add(
            end_field,
            "out_of_range",
            format!("a program runs at most {MAX_DURATION_MONTHS} months, in the years {first} to {last}"),
        );
    }
    start_ok && end_ok
}

pub const TITLE_MAX: usize = 200;
pub const REASON_MAX: usize = 2000;

wire_enum!(
    /// The phase of the eight-step program (plus `on_hold`, and the ends `completed`, `renewed`,
    /// `cancelled`).
    Phase as PhaseValue {
        Context => "context",
        LeaderInterview => "leader_interview",
        StakeholderInterviews => "stakeholder_interviews",
        AssessmentDesign => "assessment_design",
        SponsorReview => "sponsor_review",
        Coaching => "coaching",
        MidReview => "mid_review",
        EndReview => "end_review",
        Completed => "completed",
        Renewed => "renewed",
        OnHold => "on_hold",
        Cancelled => "cancelled",
    }
);

impl Phase {
    /// One of the eight steps (not on hold, not ended).
    pub fn is_active_step(self) -> bool {
        !matches!(self, Phase::Completed | Phase::Renewed | Phase::OnHold | Phase::Cancelled)
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Phase::Completed | Phase::Renewed | Phase::Cancelled)
    }

    /// The phase in words, as people read it on pages and in mails (docs/program.md).
    pub fn label(self) -> &'static str {
        match self {
            Phase::Context => "Context",
            Phase::LeaderInterview => "Leader interview",
            Phase::StakeholderInterviews => "Stakeholder interviews",
            Phase::AssessmentDesign => "Assessment and design",
            Phase::SponsorReview => "Sponsor review",
            Phase::Coaching => "Coaching",
            Phase::MidReview => "Mid-program review",
            Phase::EndReview => "End-of-program review",
            Phase::Completed => "Completed",
            Phase::Renewed => "Renewed",
            Phase::OnHold => "On hold",
            Phase::Cancelled => "Cancelled",
        }
    }
}

/// An unmet condition of a transition, with a stable code clients can rely on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unmet {
    pub code: &'static str,
    pub message: String,
}

impl Unmet {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Unmet {
        Unmet { code, message: message.into() }
    }
}

/// Every guard code a transition can report (documented in the OpenAPI description).
pub const GUARD_CODES: &[(&str, &str)] = &[
    ("transition_not_allowed", "the program does not go from this phase to that one"),
    ("engagement_ended", "the engagement is completed, renewed or cancelled"),
    ("reason_required", "cancelling needs a reason"),
    ("sponsor_missing", "no sponsor is assigned"),
    ("outcome_missing", "no outcome is defined"),
    ("outcome_missing_baseline", "an outcome has no baseline"),
    ("outcome_missing_target", "an outcome has no target"),
    ("outcome_missing_measure", "an outcome has no measure"),
    ("context_meeting_missing", "the context meeting is not recorded"),
    ("leader_interview_missing", "the leader interview is not recorded"),
    ("stakeholder_contributions_insufficient", "fewer stakeholder interviews or feedback than min_raters"),
    ("design_not_submitted", "no design version is submitted for review"),
    ("design_not_approved_by_leader", "the leader has not approved the submitted design"),
    ("design_not_approved_by_sponsor", "a sponsor has not approved the submitted design"),
    ("mid_review_not_completed", "the mid-program review is not completed"),
    ("mid_review_missing", "the mid-program review is not recorded"),
    ("end_review_missing", "the end-of-program review is not recorded"),
    ("renewal_via_end_review", "renewal happens by recording the end review with next_step renewed"),
];

/// The work that meets a guard, as the coach's next thing to do (docs/program.md, guards).
pub fn to_meet(code: &str) -> &'static str {
    match code {
        "sponsor_missing" => "Ask the HR partner to name a sponsor",
        "outcome_missing" => "Add a measurable outcome",
        "outcome_missing_baseline" => "Give every outcome a baseline",
        "outcome_missing_target" => "Give every outcome a target",
        "outcome_missing_measure" => "Give every outcome a measure",
        "context_meeting_missing" => "Record the context meeting",
        "leader_interview_missing" => "Record the leader interview",
        "stakeholder_contributions_insufficient" => "Collect more feedback from raters",
        "design_not_submitted" => "Compose and submit the program design",
        "design_not_approved_by_leader" => "Wait for the leader to approve the design",
        "design_not_approved_by_sponsor" => "Wait for the sponsors to approve the design",
        "mid_review_not_completed" | "mid_review_missing" => "Record the mid-program review",
        "end_review_missing" => "Record the end-of-program review",
        "renewal_via_end_review" => "Record the end review with the next step renewed",
        "reason_required" => "Give a reason",
        "engagement_ended" => "Nothing: the engagement has ended",
        _ => "This move is not possible from here",
    }
}

/// A move a caller may ask for from where the program is, with the guards it still lacks.
#[derive(Clone, Debug, PartialEq)]
pub struct Move {
    pub to: Phase,
    /// The program's way on (the template's next step, or resuming), not a hold or a cancel.
    pub forward: bool,
    pub unmet: Vec<Unmet>,
}

impl Move {
    pub fn allowed(&self) -> bool {
        self.unmet.is_empty()
    }
}

/// Every move `mover` may ask for from `from`, each judged by [`check_transition`] (the same
/// rules a transition request meets): the template's next steps, on hold, resume and cancel.
/// A cancel's reason is asked with the move, so its absence is not listed as unmet.
pub fn moves(
    from: Phase,
    held_from: Option<Phase>,
    facts: &ProgramFacts,
    template: &TemplateDefinition,
    mover: Mover,
) -> Vec<Move> {
    if from.is_terminal() {
        return Vec::new();
    }
    let mut targets: Vec<(Phase, bool)> = Vec::new();
    if from == Phase::OnHold {
        targets.extend(held_from.map(|p| (p, true)));
    } else {
        targets.extend(template.forward(from).into_iter().map(|p| (p, true)));
        targets.push((Phase::OnHold, false));
    }
    targets.push((Phase::Cancelled, false));
    targets
        .into_iter()
        .filter(|(to, _)| mover_may(mover, from, *to))
        .map(|(to, forward)| {
            let mut unmet = check_transition(from, held_from, to, None, facts, template).err().unwrap_or_default();
            unmet.retain(|u| u.code != "reason_required");
            Move { to, forward, unmet }
        })
        .collect()
}

/// The coach's next thing to do in a program at `phase`, from its moves: what the first way on
/// still needs, or the move itself once nothing is missing.
pub fn next_for_coach(phase: Phase, moves: &[Move]) -> Option<String> {
    if phase.is_terminal() {
        return None;
    }
    let way_on = moves.iter().find(|m| m.forward)?;
    if phase == Phase::OnHold {
        return Some(format!("On hold: resume at {} when the program can go on", way_on.to.label()));
    }
    Some(match way_on.unmet.first() {
        Some(first) => to_meet(first.code).to_owned(),
        None => format!("Move the program on to {}", way_on.to.label()),
    })
}

/// What an outcome needs before the program can leave `context`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutcomeFacts {
    pub title: String,
    pub has_baseline: bool,
    pub has_target: bool,
    pub has_measure: bool,
}

/// The state of the program's steps that the guards look at, gathered by the store.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProgramFacts {
    pub sponsor_count: usize,
    pub outcomes: Vec<OutcomeFacts>,
    pub context_recorded: bool,
    pub leader_interview_recorded: bool,
    pub stakeholder_contributions: u32,
    pub min_raters: u32,
    pub design_submitted: bool,
    pub design_approved_by_leader: bool,
    /// Sponsors who have not approved the submitted design.
    pub sponsors_not_approved: usize,
    /// A mid review was recorded since the engagement last entered `mid_review`.
    pub mid_review_recorded: bool,
    /// A mid review has been completed at some point (needed before `end_review`).
    pub mid_review_completed: bool,
    pub end_review_recorded: bool,
}

/// Who is moving the program, as far as transitions care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mover {
    /// The engagement's coach, or an admin: does the program's work.
    Coach,
    /// The organization's hr_partner (or its API client): may hold, resume and cancel.
    HrPartner,
}

/// Whether the program of `template` may go from `from` to `to`, with every unmet guard listed.
/// The template says which steps there are and which guards apply to leaving each; on hold,
/// resume and cancel are the same for every program.
pub fn check_transition(
    from: Phase,
    held_from: Option<Phase>,
    to: Phase,
    reason: Option<&str>,
    facts: &ProgramFacts,
    template: &TemplateDefinition,
) -> Result<(), Vec<Unmet>> {
    use Phase::*;
    if from.is_terminal() {
        return Err(vec![Unmet::new("engagement_ended", format!("the engagement is {from}; it cannot change phase"))]);
    }
    let not_allowed =
        || vec![Unmet::new("transition_not_allowed", format!("the program does not go from {from} to {to}"))];
    let unmet = match (from, to) {
        (_, Cancelled) => {
            if reason.is_none_or(|r| r.trim().is_empty()) {
                vec![Unmet::new("reason_required", "cancelling needs a reason")]
            } else {
                Vec::new()
            }
        }
        (OnHold, next) => {
            if Some(next) != held_from {
                return Err(not_allowed());
            }
            Vec::new()
        }
        (current, OnHold) if current.is_active_step() => Vec::new(),
        (EndReview, Renewed) => {
            return Err(vec![Unmet::new(
                "renewal_via_end_review",
                "record the end review with next_step renewed to renew",
            )]);
        }
        (from, to) if template.forward(from).contains(&to) => template.unmet(from, to, facts),
        _ => return Err(not_allowed()),
    };
    if unmet.is_empty() { Ok(()) } else { Err(unmet) }
}

/// The moves the program makes by itself when a step's work is recorded (docs/program.md, transitions): these edges of
/// the table are taken by no caller's transition request, only as the consequence of the work.
pub const SYSTEM_EDGES: [(Phase, Phase, &str); 4] = [
    (Phase::AssessmentDesign, Phase::SponsorReview, "a design version is submitted for review"),
    (Phase::SponsorReview, Phase::AssessmentDesign, "a decision asks for changes to the design"),
    (Phase::EndReview, Phase::Completed, "the end review is recorded with next_step completed"),
    (Phase::EndReview, Phase::Renewed, "the end review is recorded with next_step renewed"),
];

/// Checks a move the program makes by itself (one of [`SYSTEM_EDGES`]); anything else is
/// `transition_not_allowed`, and an ended engagement does not move.
pub fn check_system_transition(from: Phase, to: Phase, template: &TemplateDefinition) -> Result<(), Vec<Unmet>> {
    if from.is_terminal() {
        return Err(vec![Unmet::new("engagement_ended", format!("the engagement is {from}; it cannot change phase"))]);
    }
    if SYSTEM_EDGES.iter().any(|(f, t, _)| (*f, *t) == (from, to))
        && template.has(from)
        && (template.has(to) || to.is_terminal())
    {
        Ok(())
    } else {
        Err(vec![Unmet::new(
            "transition_not_allowed",
            format!("the program does not go from {from} to {to} by itself"),
        )])
    }
}

/// Who may request `from` → `to`: the coach does the program's work; the hr_partner may put it on
/// hold, resume it and cancel it.
pub fn mover_may(mover: Mover, from: Phase, to: Phase) -> bool {
    match mover {
        Mover::Coach => true,
        Mover::HrPartner => to == Phase::OnHold || to == Phase::Cancelled || from == Phase::OnHold,
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Engagement {
    pub id: EngagementId,
    pub organization_id: OrganizationId,
    pub title: String,
    pub leader_id: UserId,
    pub coach_id: UserId,
    pub sponsor_ids: BTreeSet<UserId>,
    pub hr_partner_id: Option<UserId>,
    pub phase: Phase,
    /// The phase an engagement on hold resumes to.
    pub held_from: Option<Phase>,
    pub start_date: NaiveDate,
    pub planned_end_date: NaiveDate,
    pub monthly_hours_budget: f64,
    pub renewed_from_id: Option<EngagementId>,
    /// The program template, at the version the engagement was created with.
    pub template_id: TemplateId,
    pub template_version: i64,
    /// The coaching contract whose hours the engagement draws on, if any (docs/contracts.md).
    pub contract_id: Option<ContractId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// A new engagement as requested.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEngagement {
    pub organization_id: OrganizationId,
    pub title: String,
    pub leader_id: UserId,
    pub coach_id: UserId,
    pub sponsor_ids: Vec<UserId>,
    pub hr_partner_id: Option<UserId>,
    pub start_date: NaiveDate,
    pub planned_end_date: Option<NaiveDate>,
    /// Allows a planned end outside the template's length (6–12 months for the executive one).
    pub allow_any_duration: bool,
    pub monthly_hours_budget: Option<f64>,
    /// None: the executive template.
    pub template_id: Option<TemplateId>,
    /// The contract to draw on (checked against the organization's contracts by the caller).
    pub contract_id: Option<ContractId>,
}

/// The people an engagement (or a group) names, as found (None: no such user).
pub trait People {
    fn get(&self, id: UserId) -> Option<&User>;
}

/// Checks that `id` names an active person — of `organization` and holding `role`, when given —
/// and records on `field` why not.
pub(crate) fn check_person(
    errors: &mut ValidationErrors,
    people: &dyn People,
    field: &str,
    id: UserId,
    organization: Option<OrganizationId>,
    role: Option<Role>,
) {
    match people.get(id) {
        None => errors.add(field, "not_found", "no user has this id"),
        Some(user) if user.status != UserStatus::Active => errors.add(field, "deactivated", "the user is deactivated"),
        Some(user) if organization.is_some() && user.organization_id != organization => {
            errors.add(field, "wrong_organization", "the user belongs to another organization")
        }
        Some(user) if role.is_some_and(|r| !user.has_role(r)) => errors.add(
            field,
            "missing_role",
            format!("the user does not hold the {} role", role.map(Role::as_str).unwrap_or_default()),
        ),
        Some(_) => {}
    }
}

impl Engagement {
    /// A new engagement of `template` (the one `input.template_id` names, found by the caller).
    pub fn create(
        input: NewEngagement,
        organization: &Organization,
        template: &ProgramTemplate,
        people: &dyn People,
    ) -> Result<Engagement, DomainError> {
        let mut errors = ValidationErrors::new();
        let title = validate::text(&mut errors, "title", &input.title, 1, TITLE_MAX);
        let org = Some(input.organization_id);
        check_person(&mut errors, people, "leader_id", input.leader_id, org, None);
        check_person(&mut errors, people, "coach_id", input.coach_id, None, Some(Role::Coach));
        if input.coach_id == input.leader_id {
            errors.add("coach_id", "same_as_leader", "the coach cannot be the leader");
        }
        if input.sponsor_ids.is_empty() {
            errors.add("sponsor_ids", "required", "name at least one sponsor");
        }
        let mut sponsors = BTreeSet::new();
        for (i, id) in input.sponsor_ids.iter().enumerate() {
            let field = format!("sponsor_ids[{i}]");
            check_person(&mut errors, people, &field, *id, org, None);
            if *id == input.leader_id {
                errors.add(field.clone(), "same_as_leader", "the leader cannot sponsor their own engagement");
            }
            if !sponsors.insert(*id) {
                errors.add(field, "duplicate", "this sponsor is listed twice");
            }
        }
        if let Some(hr) = input.hr_partner_id {
            check_person(&mut errors, people, "hr_partner_id", hr, org, Some(Role::HrPartner));
        }
        let length = &template.definition.length;
        let planned_end_date = input
            .planned_end_date
            .or_else(|| length.after(input.start_date, length.default))
            .unwrap_or(input.start_date);
        if planned_end_date <= input.start_date {
            errors.add("planned_end_date", "before_start", "the planned end must be after the start");
        } else if !check_program_dates(&mut errors, input.start_date, planned_end_date, "planned_end_date") {
            // Out of bounds, whatever allow_any_duration says.
        } else if !input.allow_any_duration
            && let Err(rule) = check_length(length, input.start_date, planned_end_date)
        {
            errors.add("planned_end_date", "out_of_range", rule);
        }
        if template.organization_id.is_some_and(|org| org != input.organization_id) {
            errors.add("template_id", "wrong_organization", "the template belongs to another organization");
        }
        let budget = input
            .monthly_hours_budget
            .or(template.definition.default_monthly_hours_budget)
            .unwrap_or(organization.settings.default_monthly_hours_budget);
        let (lo, hi) = crate::organization::HOURS_BUDGET_RANGE;
        if !budget.is_finite() || budget < lo || budget > hi {
            errors.add("monthly_hours_budget", "out_of_range", format!("must be between {lo} and {hi} hours"));
        }
        errors.finish(())?;
        let now = time::now();
        Ok(Engagement {
            id: EngagementId::generate(),
            organization_id: input.organization_id,
            title: title.expect("validated"),
            leader_id: input.leader_id,
            coach_id: input.coach_id,
            sponsor_ids: sponsors,
            hr_partner_id: input.hr_partner_id,
            phase: Phase::Context,
            held_from: None,
            start_date: input.start_date,
            planned_end_date,
            monthly_hours_budget: budget,
            renewed_from_id: None,
            template_id: template.id,
            template_version: template.version,
            contract_id: input.contract_id,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }

    /// The engagement after moving to `to` (the guards were checked by [`check_transition`]).
    pub fn moved_to(&self, to: Phase) -> Engagement {
        let mut next = self.clone();
        next.held_from = if to == Phase::OnHold { Some(self.phase) } else { None };
        next.phase = to;
        next.updated_at = time::now();
        next.version += 1;
        next
    }

    pub fn is_sponsor(&self, user: UserId) -> bool {
        self.sponsor_ids.contains(&user)
    }
}

/// A partial update of an engagement; `hr_partner_id: Some(None)` removes the hr_partner.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EngagementPatch {
    pub title: Option<String>,
    pub planned_end_date: Option<NaiveDate>,
    pub allow_any_duration: bool,
    pub monthly_hours_budget: Option<f64>,
    pub sponsor_ids: Option<Vec<UserId>>,
    pub hr_partner_id: Option<Option<UserId>>,
    /// `Some(None)` stops drawing on a contract.
    pub contract_id: Option<Option<ContractId>>,
}

impl EngagementPatch {
    pub fn changed_fields(&self) -> Vec<&'static str> {
        [
            (self.title.is_some(), "title"),
            (self.planned_end_date.is_some(), "planned_end_date"),
            (self.monthly_hours_budget.is_some(), "monthly_hours_budget"),
            (self.sponsor_ids.is_some(), "sponsor_ids"),
            (self.hr_partner_id.is_some(), "hr_partner_id"),
            (self.contract_id.is_some(), "contract_id"),
        ]
        .into_iter()
        .filter_map(|(set, name)| set.then_some(name))
        .collect()
    }

    /// Whether the patch changes the engagement's terms: its budget, contract, dates or people
    /// (leader, coach, sponsors, hr_partner). Fields sent with their current value change nothing.
    pub fn changes_terms(&self, current: &Engagement) -> bool {
        self.planned_end_date.is_some_and(|d| d != current.planned_end_date)
            || self.monthly_hours_budget.is_some_and(|b| b != current.monthly_hours_budget)
            || self
                .sponsor_ids
                .as_ref()
                .is_some_and(|ids| ids.iter().copied().collect::<BTreeSet<_>>() != current.sponsor_ids)
            || self.hr_partner_id.is_some_and(|h| h != current.hr_partner_id)
            || self.contract_id.is_some_and(|c| c != current.contract_id)
    }

    /// Whether the patch may change what the engagement draws on its contract.
    pub fn changes_draw(&self, current: &Engagement) -> bool {
        self.planned_end_date.is_some_and(|d| d != current.planned_end_date)
            || self.monthly_hours_budget.is_some_and(|b| b != current.monthly_hours_budget)
            || self.contract_id.is_some_and(|c| c != current.contract_id)
    }

    /// The people a patch names (to be loaded for validation).
    pub fn named(&self) -> Vec<UserId> {
        self.sponsor_ids.iter().flatten().copied().chain(self.hr_partner_id.flatten()).collect()
    }
}

impl Engagement {
    /// The engagement after `patch`, validated with the same rules as creation; version bumped.
    /// An ended engagement cannot change.
    pub fn apply(
        &self,
        patch: &EngagementPatch,
        organization: &Organization,
        template: &ProgramTemplate,
        people: &dyn People,
    ) -> Result<Engagement, DomainError> {
        if self.phase.is_terminal() {
            return Err(DomainError::conflict("engagement_ended", format!("the engagement is {}", self.phase)));
        }
        let input = NewEngagement {
            organization_id: self.organization_id,
            title: patch.title.clone().unwrap_or_else(|| self.title.clone()),
            leader_id: self.leader_id,
            coach_id: self.coach_id,
            sponsor_ids: patch.sponsor_ids.clone().unwrap_or_else(|| self.sponsor_ids.iter().copied().collect()),
            hr_partner_id: patch.hr_partner_id.unwrap_or(self.hr_partner_id),
            start_date: self.start_date,
            planned_end_date: Some(patch.planned_end_date.unwrap_or(self.planned_end_date)),
            allow_any_duration: patch.allow_any_duration || patch.planned_end_date.is_none(),
            monthly_hours_budget: Some(patch.monthly_hours_budget.unwrap_or(self.monthly_hours_budget)),
            template_id: Some(self.template_id),
            contract_id: patch.contract_id.unwrap_or(self.contract_id),
        };
        let checked = Engagement::create(input, organization, template, people)?;
        Ok(Engagement {
            title: checked.title,
            sponsor_ids: checked.sponsor_ids,
            hr_partner_id: checked.hr_partner_id,
            planned_end_date: checked.planned_end_date,
            monthly_hours_budget: checked.monthly_hours_budget,
            contract_id: checked.contract_id,
            updated_at: time::now(),
            version: self.version + 1,
            ..self.clone()
        })
    }
}

/// One recorded phase change: the engagement's timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct TransitionRecord {
    pub id: TransitionId,
    pub engagement_id: EngagementId,
    pub from: Option<Phase>,
    pub to: Phase,
    pub reason: Option<String>,
    pub actor_kind: crate::audit::ActorKind,
    pub actor_id: Option<String>,
    pub occurred_at: Timestamp,
}

/// Validates a transition reason's length.
pub fn validate_reason(reason: Option<&str>) -> Result<Option<String>, DomainError> {
    let Some(reason) = reason.map(str::trim).filter(|r| !r.is_empty()) else { return Ok(None) };
    let mut errors = ValidationErrors::new();
    let reason = validate::text(&mut errors, "reason", reason, 1, REASON_MAX);
    errors.finish(reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Phase::*;

    /// The executive template's table is the eight-step table these tests have always held.
    fn check_transition(
        from: Phase,
        held_from: Option<Phase>,
        to: Phase,
        reason: Option<&str>,
        facts: &ProgramFacts,
    ) -> Result<(), Vec<Unmet>> {
        super::check_transition(from, held_from, to, reason, facts, &crate::template::executive().definition)
    }

    fn check_system_transition(from: Phase, to: Phase) -> Result<(), Vec<Unmet>> {
        super::check_system_transition(from, to, &crate::template::executive().definition)
    }

    fn ready() -> ProgramFacts {
        ProgramFacts {
            sponsor_count: 1,
            outcomes: vec![OutcomeFacts {
                title: "Delegation".into(),
                has_baseline: true,
                has_target: true,
                has_measure: true,
            }],
            context_recorded: true,
            leader_interview_recorded: true,
            stakeholder_contributions: 3,
            min_raters: 3,
            design_submitted: true,
            design_approved_by_leader: true,
            sponsors_not_approved: 0,
            mid_review_recorded: true,
            mid_review_completed: true,
            end_review_recorded: true,
        }
    }

    fn codes(result: Result<(), Vec<Unmet>>) -> Vec<&'static str> {
        result.err().unwrap_or_default().into_iter().map(|u| u.code).collect()
    }

    /// The whole table: every from → to with all guards met. Exactly these are allowed.
    #[test]
    fn the_transition_table() {
        let allowed: BTreeSet<(Phase, Phase)> = [
            (Context, LeaderInterview),
            (LeaderInterview, StakeholderInterviews),
            (StakeholderInterviews, AssessmentDesign),
            (AssessmentDesign, SponsorReview),
            (SponsorReview, Coaching),
            (Coaching, MidReview),
            (Coaching, EndReview),
            (MidReview, Coaching),
            (EndReview, Completed),
        ]
        .into_iter()
        .collect();
        for &from in Phase::ALL {
            for &to in Phase::ALL {
                let held_from = (from == OnHold).then_some(Coaching);
                let result = check_transition(from, held_from, to, Some("because"), &ready());
                let expected = if from.is_terminal() {
                    false
                } else if to == Cancelled {
                    true
                } else if from == OnHold {
                    to == Coaching
                } else if to == OnHold {
                    from.is_active_step()
                } else {
                    allowed.contains(&(from, to))
                };
                assert_eq!(result.is_ok(), expected, "{from} -> {to}: {result:?}");
                if from.is_terminal() {
                    assert_eq!(codes(result), ["engagement_ended"], "{from} -> {to}");
                } else if !expected && (from, to) != (EndReview, Renewed) {
                    assert_eq!(codes(result), ["transition_not_allowed"], "{from} -> {to}");
                }
            }
        }
    }

    #[test]
    fn the_program_moves_itself_only_along_its_system_edges() {
        let mut taken = 0;
        for &from in Phase::ALL {
            for &to in Phase::ALL {
                let result = check_system_transition(from, to);
                let edge = SYSTEM_EDGES.iter().any(|(f, t, _)| (*f, *t) == (from, to));
                assert_eq!(result.is_ok(), edge && !from.is_terminal(), "{from} -> {to}: {result:?}");
                if from.is_terminal() {
                    assert_eq!(codes(result), ["engagement_ended"], "{from} -> {to}");
                } else if !edge {
                    assert_eq!(codes(result), ["transition_not_allowed"], "{from} -> {to}");
                } else {
                    taken += 1;
                }
            }
        }
        assert_eq!(taken, SYSTEM_EDGES.len());
        // The edges a caller may not request are the program's own: asking for changes goes back
        // to assessment_design, and renewal happens through the end review.
        let facts = ready();
        assert_eq!(
            codes(check_transition(SponsorReview, None, AssessmentDesign, None, &facts)),
            ["transition_not_allowed"]
        );
        assert_eq!(codes(check_transition(EndReview, None, Renewed, None, &facts)), ["renewal_via_end_review"]);
    }

    #[test]
    fn leaving_context_lists_every_unmet_guard() {
        let facts = ProgramFacts {
            outcomes: vec![
                OutcomeFacts { title: "A".into(), has_baseline: false, has_target: true, has_measure: true },
                OutcomeFacts { title: "B".into(), has_baseline: true, has_target: false, has_measure: false },
            ],
            ..ProgramFacts::default()
        };
        let result = check_transition(Context, None, LeaderInterview, None, &facts);
        assert_eq!(
            codes(result),
            [
                "sponsor_missing",
                "outcome_missing_baseline",
                "outcome_missing_target",
                "outcome_missing_measure",
                "context_meeting_missing"
            ]
        );
        let result = check_transition(
            Context,
            None,
            LeaderInterview,
            None,
            &ProgramFacts { sponsor_count: 1, ..Default::default() },
        );
        assert_eq!(codes(result), ["outcome_missing", "context_meeting_missing"]);
    }

    #[test]
    fn each_step_has_its_guard() {
        let none = ProgramFacts { min_raters: 3, sponsors_not_approved: 2, ..ProgramFacts::default() };
        let cases = [
            (LeaderInterview, StakeholderInterviews, vec!["leader_interview_missing"]),
            (StakeholderInterviews, AssessmentDesign, vec!["stakeholder_contributions_insufficient"]),
            (AssessmentDesign, SponsorReview, vec!["design_not_submitted"]),
            (SponsorReview, Coaching, vec!["design_not_submitted"]),
            (Coaching, EndReview, vec!["mid_review_not_completed"]),
            (MidReview, Coaching, vec!["mid_review_missing"]),
            (EndReview, Completed, vec!["end_review_missing"]),
            (EndReview, Renewed, vec!["renewal_via_end_review"]),
            (Coaching, MidReview, vec![]),
        ];
        for (from, to, expected) in cases {
            assert_eq!(codes(check_transition(from, None, to, None, &none)), expected, "{from} -> {to}");
        }
        let submitted = ProgramFacts { design_submitted: true, sponsors_not_approved: 1, ..ProgramFacts::default() };
        assert_eq!(
            codes(check_transition(SponsorReview, None, Coaching, None, &submitted)),
            ["design_not_approved_by_leader", "design_not_approved_by_sponsor"]
        );
    }

    #[test]
    fn hold_resume_and_cancel() {
        let facts = ProgramFacts::default();
        assert!(check_transition(StakeholderInterviews, None, OnHold, None, &facts).is_ok());
        assert!(check_transition(OnHold, Some(StakeholderInterviews), StakeholderInterviews, None, &facts).is_ok());
        assert_eq!(
            codes(check_transition(OnHold, Some(StakeholderInterviews), Coaching, None, &facts)),
            ["transition_not_allowed"]
        );
        assert_eq!(codes(check_transition(OnHold, Some(Context), OnHold, None, &facts)), ["transition_not_allowed"]);
        assert_eq!(codes(check_transition(Coaching, None, Cancelled, None, &facts)), ["reason_required"]);
        assert_eq!(codes(check_transition(Coaching, None, Cancelled, Some("  "), &facts)), ["reason_required"]);
        assert!(check_transition(OnHold, Some(Coaching), Cancelled, Some("budget cut"), &facts).is_ok());
        assert!(mover_may(Mover::HrPartner, Coaching, OnHold));
        assert!(mover_may(Mover::HrPartner, OnHold, Coaching));
        assert!(mover_may(Mover::HrPartner, Context, Cancelled));
        assert!(!mover_may(Mover::HrPartner, Context, LeaderInterview));
        assert!(mover_may(Mover::Coach, Context, LeaderInterview));
    }

    struct Directory(Vec<User>);

    impl People for Directory {
        fn get(&self, id: UserId) -> Option<&User> {
            self.0.iter().find(|u| u.id == id)
        }
    }

    fn person(org: Option<OrganizationId>, roles: Vec<Role>, email: &str) -> User {
        User::create(crate::user::NewUser {
            email: email.into(),
            name: "P".into(),
            organization_id: org,
            roles,
            external_id: None,
        })
        .unwrap()
    }

    fn organization() -> Organization {
        Organization::create(crate::organization::NewOrganization { name: "Acme".into(), ..Default::default() })
            .unwrap()
    }

    #[test]
    fn creation_checks_every_participant() {
        let org = organization();
        let other = OrganizationId::generate();
        let leader = person(Some(org.id), vec![], "l@a.test");
        let coach = person(None, vec![Role::Coach], "c@p.test");
        let sponsor = person(Some(org.id), vec![], "s@a.test");
        let outsider = person(Some(other), vec![], "o@b.test");
        let not_coach = person(None, vec![], "n@p.test");
        let people =
            Directory(vec![leader.clone(), coach.clone(), sponsor.clone(), outsider.clone(), not_coach.clone()]);
        let start = NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
        let input = NewEngagement {
            contract_id: None,
            organization_id: org.id,
            title: " Leading through change ".into(),
            leader_id: leader.id,
            coach_id: coach.id,
            sponsor_ids: vec![sponsor.id],
            hr_partner_id: None,
            start_date: start,
            planned_end_date: None,
            allow_any_duration: false,
            monthly_hours_budget: None,
            template_id: None,
        };
        let executive = crate::template::executive();
        let engagement = Engagement::create(input.clone(), &org, &executive, &people).unwrap();
        assert_eq!(engagement.phase, Context);
        assert_eq!(engagement.title, "Leading through change");
        assert_eq!(engagement.planned_end_date, NaiveDate::from_ymd_opt(2026, 7, 15).unwrap(), "6 months by default");
        assert_eq!(engagement.monthly_hours_budget, 3.0, "the organization's default");

        let bad = NewEngagement {
            coach_id: not_coach.id,
            sponsor_ids: vec![outsider.id, leader.id, UserId::generate()],
            hr_partner_id: Some(sponsor.id),
            planned_end_date: NaiveDate::from_ymd_opt(2027, 6, 1),
            monthly_hours_budget: Some(0.0),
            ..input.clone()
        };
        let DomainError::Validation(errors) = Engagement::create(bad, &org, &executive, &people).unwrap_err() else {
            panic!()
        };
        let found: Vec<(&str, &str)> = errors.0.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            found,
            [
                ("coach_id", "missing_role"),
                ("sponsor_ids[0]", "wrong_organization"),
                ("sponsor_ids[1]", "same_as_leader"),
                ("sponsor_ids[2]", "not_found"),
                ("hr_partner_id", "missing_role"),
                ("planned_end_date", "out_of_range"),
                ("monthly_hours_budget", "out_of_range"),
            ]
        );
        let long =
            NewEngagement { planned_end_date: NaiveDate::from_ymd_opt(2027, 6, 1), allow_any_duration: true, ..input };
        assert!(Engagement::create(long, &org, &executive, &people).is_ok(), "the duration rule can be overridden");
    }

    #[test]
    fn moving_on_hold_remembers_where_from() {
        let engagement = Engagement {
            contract_id: None,
            id: EngagementId::generate(),
            organization_id: OrganizationId::generate(),
            title: "T".into(),
            leader_id: UserId::generate(),
            coach_id: UserId::generate(),
            sponsor_ids: BTreeSet::new(),
            hr_partner_id: None,
            phase: Coaching,
            held_from: None,
            start_date: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            planned_end_date: NaiveDate::from_ymd_opt(2026, 7, 1).unwrap(),
            monthly_hours_budget: 3.0,
            renewed_from_id: None,
            template_id: crate::template::EXECUTIVE_ID,
            template_version: 1,
            created_at: time::now(),
            updated_at: time::now(),
            version: 4,
        };
        let held = engagement.moved_to(OnHold);
        assert_eq!((held.phase, held.held_from, held.version), (OnHold, Some(Coaching), 5));
        let resumed = held.moved_to(Coaching);
        assert_eq!((resumed.phase, resumed.held_from), (Coaching, None));
    }

    /// The moves offered to a mover are exactly those `check_transition` would take, each with
    /// the same unmet guards; and the coach's next thing is what the way on still needs.
    #[test]
    fn moves_are_the_transition_table_as_offered() {
        let executive = crate::template::executive().definition;
        let mut facts = ready();
        facts.context_recorded = false;
        facts.outcomes.clear();
        let offered = moves(Context, None, &facts, &executive, Mover::Coach);
        let summary: Vec<(Phase, bool, Vec<&str>)> =
            offered.iter().map(|m| (m.to, m.forward, m.unmet.iter().map(|u| u.code).collect())).collect();
        assert_eq!(
            summary,
            [
                (LeaderInterview, true, vec!["outcome_missing", "context_meeting_missing"]),
                (OnHold, false, vec![]),
                (Cancelled, false, vec![]),
            ]
        );
        assert_eq!(next_for_coach(Context, &offered).as_deref(), Some("Add a measurable outcome"));
        for m in &offered {
            let reason = (m.to == Cancelled).then_some("budget cut");
            let direct = super::check_transition(Context, None, m.to, reason, &facts, &executive);
            assert_eq!(direct.err().unwrap_or_default(), m.unmet, "{:?}", m.to);
        }
        let ready_now = moves(Context, None, &ready(), &executive, Mover::Coach);
        assert!(ready_now[0].allowed());
        assert_eq!(next_for_coach(Context, &ready_now).as_deref(), Some("Move the program on to Leader interview"));
        // Coaching offers the mid review and the end review as ways on.
        let coaching: Vec<Phase> =
            moves(Coaching, None, &ready(), &executive, Mover::Coach).iter().map(|m| m.to).collect();
        assert_eq!(coaching, [MidReview, EndReview, OnHold, Cancelled]);
        // The hr_partner is offered hold and cancel; from on hold, resume and cancel.
        let hr: Vec<Phase> =
            moves(Coaching, None, &ready(), &executive, Mover::HrPartner).iter().map(|m| m.to).collect();
        assert_eq!(hr, [OnHold, Cancelled]);
        let held = moves(OnHold, Some(Coaching), &ready(), &executive, Mover::HrPartner);
        assert_eq!(held.iter().map(|m| m.to).collect::<Vec<_>>(), [Coaching, Cancelled]);
        assert!(next_for_coach(OnHold, &held).unwrap().contains("Coaching"));
        // An ended program offers nothing and asks nothing.
        assert!(moves(Completed, None, &ready(), &executive, Mover::Coach).is_empty());
        assert_eq!(next_for_coach(Completed, &[]), None);
    }
}
