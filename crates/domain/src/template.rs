//! Program templates (docs/program.md, other kinds of program): which of the eight steps a kind of
//! program goes through and with which guards, the sessions it plans, the structure of each session
//! (seed 004), its length and budget, and whether the sponsors' decision on the design is required.
//!
//! Three templates are built in — *executive* (the eight steps, seed 003), *micro coaching*
//! (seed 000) and the *introductory sequence* (seed 001) — and an organization copies and edits
//! its own. A template's versions are immutable: an engagement keeps the version it was created
//! with, whatever later edits do.

use chrono::{Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::coaching::{SessionFormat, SessionKind, check_duration};
use crate::engagement::{MAX_DURATION_MONTHS, Phase, ProgramFacts, Unmet};
use crate::error::{DomainError, ValidationErrors};
use crate::id::{OrganizationId, TemplateId};
use crate::organization::HOURS_BUDGET_RANGE;
use crate::time::Timestamp;
use crate::validate;
use crate::wire::wire_enum;

pub const NAME_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 2000;
pub const STEPS_MAX: usize = 8;
pub const PLANNED_SESSIONS_MAX: usize = 20;
pub const PLAN_PARTS_MAX: usize = 20;
pub const PROMPTS_MAX: usize = 20;
pub const PROMPT_MAX: usize = 500;
pub const PART_TITLE_MAX: usize = 100;
pub const OPTIONS_MAX: usize = 10;
pub const OPTION_MAX: usize = 100;
/// The longest program a template may plan, in weeks (36 months).
pub const MAX_WEEKS: u32 = 156;

wire_enum!(
    /// A condition for leaving a step forward. Each belongs to one step; a template lists, per
    /// step, the ones that apply.
    Guard as GuardValue {
        /// `context`: at least one sponsor is assigned.
        SponsorAssigned => "sponsor_assigned",
        /// `context`: at least one outcome, each with a baseline, a target and a measure.
        OutcomesComplete => "outcomes_complete",
        /// `context`: the context meeting is recorded.
        ContextMeetingRecorded => "context_meeting_recorded",
        /// `leader_interview`: the leader interview is recorded.
        LeaderInterviewRecorded => "leader_interview_recorded",
        /// `stakeholder_interviews`: `min_raters` interviews or feedback submissions complete.
        StakeholderContributions => "stakeholder_contributions",
        /// `assessment_design`: a design version is submitted.
        DesignSubmitted => "design_submitted",
        /// `sponsor_review`: the submitted design approved by the leader, and by every sponsor
        /// when the template requires the sponsors' decision.
        DesignApproved => "design_approved",
        /// `coaching`: a mid review completed before the end review (needs a `mid_review` step).
        MidReviewCompleted => "mid_review_completed",
        /// `mid_review`: the mid review is recorded.
        MidReviewRecorded => "mid_review_recorded",
        /// `end_review`: the end review is recorded.
        EndReviewRecorded => "end_review_recorded",
    }
);

impl Guard {
    /// The step this guard is a condition of leaving.
    pub fn step(self) -> Phase {
        match self {
            Guard::SponsorAssigned | Guard::OutcomesComplete | Guard::ContextMeetingRecorded => Phase::Context,
            Guard::LeaderInterviewRecorded => Phase::LeaderInterview,
            Guard::StakeholderContributions => Phase::StakeholderInterviews,
            Guard::DesignSubmitted => Phase::AssessmentDesign,
            Guard::DesignApproved => Phase::SponsorReview,
            Guard::MidReviewCompleted => Phase::Coaching,
            Guard::MidReviewRecorded => Phase::MidReview,
            Guard::EndReviewRecorded => Phase::EndReview,
        }
    }

    /// Every guard of `step`, in the order they are checked.
    pub fn of_step(step: Phase) -> Vec<Guard> {
        Guard::ALL.iter().copied().filter(|g| g.step() == step).collect()
    }

    /// Whether the guard holds for leaving its step towards `to` (the mid review's own guard is
    /// not a condition of going to the mid review).
    fn applies_to(self, to: Phase) -> bool {
        !(self == Guard::MidReviewCompleted && to == Phase::MidReview)
    }

    fn check(self, facts: &ProgramFacts, sponsors_decide: bool, unmet: &mut Vec<Unmet>) {
        let mut add = |code, message: String| unmet.push(Unmet { code, message });
        match self {
            Guard::SponsorAssigned => {
                if facts.sponsor_count == 0 {
                    add("sponsor_missing", "assign at least one sponsor".into());
                }
            }
            Guard::OutcomesComplete => {
                if facts.outcomes.is_empty() {
                    add("outcome_missing", "define at least one outcome".into());
                }
                for outcome in &facts.outcomes {
                    if !outcome.has_baseline {
                        add("outcome_missing_baseline", format!("outcome {:?} has no baseline", outcome.title));
                    }
                    if !outcome.has_target {
                        add("outcome_missing_target", format!("outcome {:?} has no target", outcome.title));
                    }
                    if !outcome.has_measure {
                        add("outcome_missing_measure", format!("outcome {:?} has no measure", outcome.title));
                    }
                }
            }
            Guard::ContextMeetingRecorded => {
                if !facts.context_recorded {
                    add("context_meeting_missing", "record the context meeting".into());
                }
            }
            Guard::LeaderInterviewRecorded => {
                if !facts.leader_interview_recorded {
                    add("leader_interview_missing", "record the leader interview".into());
                }
            }
            Guard::StakeholderContributions => {
                if facts.stakeholder_contributions < facts.min_raters {
                    add(
                        "stakeholder_contributions_insufficient",
                        format!(
                            "{} of the {} stakeholder interviews or feedback submissions needed are complete",
                            facts.stakeholder_contributions, facts.min_raters
                        ),
                    );
                }
            }
            Guard::DesignSubmitted => {
                if !facts.design_submitted {
                    add("design_not_submitted", "submit a design version for review".into());
                }
            }
            Guard::DesignApproved => {
                if !facts.design_submitted {
                    add("design_not_submitted", "no design version is submitted".into());
                    return;
                }
                if !facts.design_approved_by_leader {
                    add("design_not_approved_by_leader", "the leader has not approved the submitted design".into());
                }
                if sponsors_decide && facts.sponsors_not_approved > 0 {
                    add(
                        "design_not_approved_by_sponsor",
                        format!("{} sponsor(s) have not approved the submitted design", facts.sponsors_not_approved),
                    );
                }
            }
            Guard::MidReviewCompleted => {
                if !facts.mid_review_completed {
                    add("mid_review_not_completed", "complete the mid-program review first".into());
                }
            }
            Guard::MidReviewRecorded => {
                if !facts.mid_review_recorded {
                    add("mid_review_missing", "record the mid-program review".into());
                }
            }
            Guard::EndReviewRecorded => {
                if !facts.end_review_recorded {
                    add("end_review_missing", "record the end-of-program review".into());
                }
            }
        }
    }
}

wire_enum!(
    /// The unit of a program's length.
    LengthUnit as LengthUnitValue {
        Weeks => "weeks",
        Months => "months",
    }
);

/// One step of a template's program: a phase of the eight and the guards that apply to leaving it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TemplateStep {
    /// One of the eight steps (`context` … `end_review`).
    pub phase: Phase,
    /// The conditions of leaving this step forward; each must belong to the step. Absent: all of
    /// the step's guards that the program can meet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_items = 3))]
    pub guards: Option<Vec<Guard>>,
}

impl TemplateStep {
    /// The guards that apply (all of the step's when the template names none).
    pub fn guards(&self) -> Vec<Guard> {
        self.guards.clone().unwrap_or_else(|| Guard::of_step(self.phase))
    }
}

/// How long a program of the template runs: `default` when an engagement names no planned end,
/// and between `min` and `max` unless the engagement sets `allow_any_duration`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProgramLength {
    pub unit: LengthUnit,
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 156))]
    pub min: u32,
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 156))]
    pub default: u32,
    /// At most 36 months (156 weeks).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 156))]
    pub max: u32,
}

impl ProgramLength {
    /// `start` plus `count` units.
    pub fn after(&self, start: NaiveDate, count: u32) -> Option<NaiveDate> {
        match self.unit {
            LengthUnit::Months => start.checked_add_months(Months::new(count)),
            LengthUnit::Weeks => start.checked_add_days(Days::new(u64::from(count) * 7)),
        }
    }

    pub fn describe(&self) -> String {
        format!("{} to {} {}", self.min, self.max, self.unit)
    }
}

/// A choice recorded when a planned session is completed (seed 001: the opening session's focus).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SessionChoice {
    /// What is chosen.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, example = "Focus of the coaching", max_length = 200))]
    pub question: String,
    /// The possible answers; completing the session records one of them as `choice`.
    #[cfg_attr(feature = "openapi", schema(min_items = 2, max_items = 10))]
    pub options: Vec<String>,
}

/// A session the template plans, in order: the n-th session scheduled in an engagement takes the
/// n-th planned session's defaults and agenda prompts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PlannedSession {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, example = "Opening session", max_length = 200))]
    pub title: String,
    /// What the session is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 2000, pattern = "multiline"))]
    pub purpose: Option<String>,
    pub kind: SessionKind,
    /// Within the kind's range (micro 5–30, regular 15–480).
    #[cfg_attr(feature = "openapi", schema(minimum = 5, maximum = 480))]
    pub duration_minutes: u32,
    /// Absent: the template's default format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<SessionFormat>,
    /// Questions for the agenda, before the session plan's parts.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 20))]
    pub agenda_prompts: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice: Option<SessionChoice>,
}

/// One part of the session plan (seed 004's structure): a heading and a prompt of the agenda.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PlanPart {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, example = "Check-in", max_length = 100))]
    pub title: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 500, pattern = "multiline"))]
    pub prompt: String,
}

/// What a session is when the scheduling request and the planned session say nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SessionDefaults {
    pub kind: SessionKind,
    #[cfg_attr(feature = "openapi", schema(minimum = 5, maximum = 480))]
    pub duration_minutes: u32,
    pub format: SessionFormat,
}

/// What a template says about its program (one immutable version of it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TemplateDefinition {
    pub steps: Vec<TemplateStep>,
    pub sponsor_decision_required: bool,
    pub length: ProgramLength,
    /// Hours a month; None: the organization's `default_monthly_hours_budget`.
    pub default_monthly_hours_budget: Option<f64>,
    pub session_defaults: SessionDefaults,
    pub planned_sessions: Vec<PlannedSession>,
    pub session_plan: Vec<PlanPart>,
}

/// A program template at one version. Built-in templates have no organization.
#[derive(Clone, Debug, PartialEq)]
pub struct ProgramTemplate {
    pub id: TemplateId,
    pub organization_id: Option<OrganizationId>,
    pub name: String,
    pub description: Option<String>,
    /// The template (and version) it was copied from.
    pub based_on: Option<(TemplateId, i64)>,
    pub definition: TemplateDefinition,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

impl ProgramTemplate {
    pub fn is_built_in(&self) -> bool {
        self.organization_id.is_none()
    }
}

/// Fields of a template; on creation they replace those of the template copied from (or of the
/// executive template), on update those of the current version. `description: Some(None)` clears.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TemplateChanges {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub steps: Option<Vec<TemplateStep>>,
    pub sponsor_decision_required: Option<bool>,
    pub length: Option<ProgramLength>,
    pub default_monthly_hours_budget: Option<Option<f64>>,
    pub session_defaults: Option<SessionDefaults>,
    pub planned_sessions: Option<Vec<PlannedSession>>,
    pub session_plan: Option<Vec<PlanPart>>,
}

impl TemplateChanges {
    pub fn changed_fields(&self) -> Vec<&'static str> {
        [
            (self.name.is_some(), "name"),
            (self.description.is_some(), "description"),
            (self.steps.is_some(), "steps"),
            (self.sponsor_decision_required.is_some(), "sponsor_decision_required"),
            (self.length.is_some(), "length"),
            (self.default_monthly_hours_budget.is_some(), "default_monthly_hours_budget"),
            (self.session_defaults.is_some(), "session_defaults"),
            (self.planned_sessions.is_some(), "planned_sessions"),
            (self.session_plan.is_some(), "session_plan"),
        ]
        .into_iter()
        .filter_map(|(set, name)| set.then_some(name))
        .collect()
    }
}

impl ProgramTemplate {
    /// A new template of `organization`, made of `base` (the template copied) with `changes`.
    pub fn create(
        organization_id: OrganizationId,
        base: &ProgramTemplate,
        changes: &TemplateChanges,
        now: Timestamp,
    ) -> Result<ProgramTemplate, DomainError> {
        let (name, description, definition) = merged(base, changes)?;
        Ok(ProgramTemplate {
            id: TemplateId::generate(),
            organization_id: Some(organization_id),
            name,
            description,
            based_on: Some((base.id, base.version)),
            definition,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }

    /// The next version of this template with `changes`. Built-in templates do not change: copy
    /// one to make it your own.
    pub fn revise(&self, changes: &TemplateChanges, now: Timestamp) -> Result<ProgramTemplate, DomainError> {
        if self.is_built_in() {
            return Err(DomainError::conflict(
                "template_built_in",
                "built-in templates do not change; create a template with copy_from to make your own",
            ));
        }
        let (name, description, definition) = merged(self, changes)?;
        Ok(ProgramTemplate {
            name,
            description,
            definition,
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        })
    }

    /// The phases of the program, in order.
    pub fn phases(&self) -> Vec<Phase> {
        self.definition.phases()
    }
}

fn merged(
    base: &ProgramTemplate,
    changes: &TemplateChanges,
) -> Result<(String, Option<String>, TemplateDefinition), DomainError> {
    let d = &base.definition;
    let definition = TemplateDefinition {
        steps: changes.steps.clone().unwrap_or_else(|| d.steps.clone()),
        sponsor_decision_required: changes.sponsor_decision_required.unwrap_or(d.sponsor_decision_required),
        length: changes.length.unwrap_or(d.length),
        default_monthly_hours_budget: changes.default_monthly_hours_budget.unwrap_or(d.default_monthly_hours_budget),
        session_defaults: changes.session_defaults.unwrap_or(d.session_defaults),
        planned_sessions: changes.planned_sessions.clone().unwrap_or_else(|| d.planned_sessions.clone()),
        session_plan: changes.session_plan.clone().unwrap_or_else(|| d.session_plan.clone()),
    };
    let mut errors = ValidationErrors::new();
    let name = validate::text(&mut errors, "name", changes.name.as_deref().unwrap_or(&base.name), 1, NAME_MAX);
    let description = match &changes.description {
        Some(value) => value.as_deref(),
        None => base.description.as_deref(),
    }
    .and_then(|d| validate::text_multiline(&mut errors, "description", d, DESCRIPTION_MAX))
    .filter(|d| !d.is_empty());
    let definition = definition.validated(&mut errors);
    errors.finish(())?;
    Ok((name.expect("validated"), description, definition))
}

fn texts(errors: &mut ValidationErrors, field: &str, values: &[String], count: usize, max: usize) -> Vec<String> {
    if values.len() > count {
        errors.add(field, "too_many", format!("at most {count} entries"));
        return Vec::new();
    }
    values.iter().enumerate().filter_map(|(i, v)| validate::text(errors, &format!("{field}[{i}]"), v, 1, max)).collect()
}

impl TemplateDefinition {
    pub fn phases(&self) -> Vec<Phase> {
        self.steps.iter().map(|s| s.phase).collect()
    }

    pub fn has(&self, phase: Phase) -> bool {
        self.steps.iter().any(|s| s.phase == phase)
    }

    /// The guards of leaving `phase` in this program (none for a step it does not have).
    pub fn guards_leaving(&self, phase: Phase) -> Vec<Guard> {
        self.step(phase).map(TemplateStep::guards).unwrap_or_default()
    }

    fn step(&self, phase: Phase) -> Option<&TemplateStep> {
        self.steps.iter().find(|s| s.phase == phase)
    }

    /// Where the program goes forward from `from`: the next step (the mid review is a detour of
    /// coaching, reached from it and returning to it), and `completed` after the end review.
    pub fn forward(&self, from: Phase) -> Vec<Phase> {
        match from {
            Phase::EndReview => return vec![Phase::Completed],
            Phase::MidReview => return vec![Phase::Coaching],
            _ => {}
        }
        let phases = self.phases();
        let Some(at) = phases.iter().position(|p| *p == from) else { return Vec::new() };
        let mut next = Vec::new();
        if from == Phase::Coaching && self.has(Phase::MidReview) {
            next.push(Phase::MidReview);
        }
        next.extend(phases[at + 1..].iter().copied().find(|p| *p != Phase::MidReview));
        next
    }

    /// The unmet guards of leaving `from` for `to` (a forward move of this program).
    pub fn unmet(&self, from: Phase, to: Phase, facts: &ProgramFacts) -> Vec<Unmet> {
        let mut unmet = Vec::new();
        if let Some(step) = self.step(from) {
            for guard in step.guards().into_iter().filter(|g| g.applies_to(to)) {
                guard.check(facts, self.sponsor_decision_required, &mut unmet);
            }
        }
        unmet
    }

    /// The definition, checked: records every problem on its field and returns the definition
    /// with each step's guards spelled out.
    fn validated(mut self, errors: &mut ValidationErrors) -> TemplateDefinition {
        let steps_sound = self.check_steps(errors);
        if steps_sound && self.sponsor_decision_required {
            match self.step(Phase::SponsorReview) {
                None => errors.add(
                    "sponsor_decision_required",
                    "unmeetable",
                    "the sponsors decide in the sponsor_review step, which the template does not have",
                ),
                Some(step) if !step.guards().contains(&Guard::DesignApproved) => errors.add(
                    "sponsor_decision_required",
                    "unmeetable",
                    "the sponsor_review step needs the design_approved guard for the sponsors' decision to be required",
                ),
                Some(_) => {}
            }
        }
        let length = self.length;
        if length.min == 0 || length.min > length.max {
            errors.add("length.min", "out_of_range", "must be at least 1 and at most max");
        }
        if length.default < length.min || length.default > length.max {
            errors.add("length.default", "out_of_range", "must lie between min and max");
        }
        let longest = match length.unit {
            LengthUnit::Months => MAX_DURATION_MONTHS,
            LengthUnit::Weeks => MAX_WEEKS,
        };
        if length.max > longest {
            errors.add("length.max", "out_of_range", format!("a program runs at most {MAX_DURATION_MONTHS} months"));
        }
        if let Some(budget) = self.default_monthly_hours_budget {
            let (lo, hi) = HOURS_BUDGET_RANGE;
            if !budget.is_finite() || budget < lo || budget > hi {
                errors.add(
                    "default_monthly_hours_budget",
                    "out_of_range",
                    format!("must be between {lo} and {hi} hours"),
                );
            }
        }
        let defaults = self.session_defaults;
        check_duration(errors, "session_defaults.duration_minutes", defaults.kind, defaults.duration_minutes);
        if self.planned_sessions.len() > PLANNED_SESSIONS_MAX {
            errors.add("planned_sessions", "too_many", format!("at most {PLANNED_SESSIONS_MAX} planned sessions"));
        } else {
            self.planned_sessions =
                self.planned_sessions.iter().enumerate().map(|(i, p)| p.validated(errors, i)).collect();
        }
        if self.session_plan.len() > PLAN_PARTS_MAX {
            errors.add("session_plan", "too_many", format!("at most {PLAN_PARTS_MAX} parts"));
        } else {
            self.session_plan = self.session_plan.iter().enumerate().map(|(i, p)| p.validated(errors, i)).collect();
        }
        self
    }

    /// Checks the steps and their guards; false when the list itself is unusable (empty, too long,
    /// out of order), so that nothing else is judged against it.
    fn check_steps(&mut self, errors: &mut ValidationErrors) -> bool {
        if self.steps.is_empty() {
            errors.add("steps", "required", "a program has steps: at least context, coaching and end_review");
            return false;
        }
        if self.steps.len() > STEPS_MAX {
            errors.add("steps", "too_many", "a program has at most the eight steps");
            return false;
        }
        let order = |p: Phase| Phase::ALL.iter().position(|x| *x == p).unwrap_or(usize::MAX);
        let mut previous: Option<Phase> = None;
        let mut sound = true;
        for (i, step) in self.steps.iter().enumerate() {
            let field = format!("steps[{i}].phase");
            if !step.phase.is_active_step() {
                errors.add(field, "not_a_step", format!("{} is not one of the eight steps", step.phase));
                sound = false;
            } else if previous == Some(step.phase) {
                errors.add(field, "duplicate", format!("{} is listed twice", step.phase));
                sound = false;
            } else if previous.is_some_and(|p| order(p) > order(step.phase)) {
                errors.add(
                    field,
                    "out_of_order",
                    format!("{} comes before {} in the program", step.phase, previous.map(Phase::as_str).unwrap_or("")),
                );
                sound = false;
            }
            previous = Some(step.phase);
        }
        if !sound {
            return false;
        }
        for required in [Phase::Context, Phase::Coaching, Phase::EndReview] {
            if !self.has(required) {
                errors.add(
                    "steps",
                    "step_missing",
                    format!(
                        "every program starts at context, has coaching and ends with end_review; {required} is missing"
                    ),
                );
            }
        }
        if self.has(Phase::SponsorReview) && !self.has(Phase::AssessmentDesign) {
            let at = self.steps.iter().position(|s| s.phase == Phase::SponsorReview).unwrap_or(0);
            errors.add(
                format!("steps[{at}].phase"),
                "unmeetable",
                "the sponsor review decides a design, which is written in the assessment_design step",
            );
        }
        let has_mid = self.has(Phase::MidReview);
        for (i, step) in self.steps.iter_mut().enumerate() {
            // Named guards are checked; absent ones are every guard of the step this program can meet.
            let guards = step.guards.clone().unwrap_or_else(|| {
                Guard::of_step(step.phase).into_iter().filter(|g| has_mid || *g != Guard::MidReviewCompleted).collect()
            });
            if guards.len() > 3 {
                errors.add(format!("steps[{i}].guards"), "too_many", "a step has at most 3 guards");
                continue;
            }
            for (j, guard) in guards.iter().enumerate() {
                let field = format!("steps[{i}].guards[{j}]");
                if guard.step() != step.phase {
                    errors.add(
                        field,
                        "not_of_step",
                        format!("{guard} is a guard of {}, not {}", guard.step(), step.phase),
                    );
                } else if guards[..j].contains(guard) {
                    errors.add(field, "duplicate", format!("{guard} is listed twice"));
                } else if *guard == Guard::MidReviewCompleted && !has_mid {
                    errors.add(field, "unmeetable", "mid_review_completed needs a mid_review step");
                }
            }
            step.guards = Some(guards);
        }
        true
    }
}

impl PlannedSession {
    fn validated(&self, errors: &mut ValidationErrors, i: usize) -> PlannedSession {
        let at = |name: &str| format!("planned_sessions[{i}].{name}");
        let title = validate::text(errors, &at("title"), &self.title, 1, NAME_MAX).unwrap_or_default();
        let purpose = self
            .purpose
            .as_deref()
            .and_then(|p| validate::text_multiline(errors, &at("purpose"), p, DESCRIPTION_MAX))
            .filter(|p| !p.is_empty());
        check_duration(errors, &at("duration_minutes"), self.kind, self.duration_minutes);
        let agenda_prompts = texts(errors, &at("agenda_prompts"), &self.agenda_prompts, PROMPTS_MAX, PROMPT_MAX);
        let choice = self.choice.as_ref().map(|c| {
            let question = validate::text(errors, &at("choice.question"), &c.question, 1, NAME_MAX).unwrap_or_default();
            let options = texts(errors, &at("choice.options"), &c.options, OPTIONS_MAX, OPTION_MAX);
            if c.options.len() < 2 {
                errors.add(at("choice.options"), "too_few", "a choice has at least 2 options");
            }
            for (j, option) in options.iter().enumerate() {
                if options[..j].contains(option) {
                    errors.add(format!("{}[{j}]", at("choice.options")), "duplicate", "this option is listed twice");
                }
            }
            SessionChoice { question, options }
        });
        PlannedSession { title, purpose, agenda_prompts, choice, ..self.clone() }
    }
}

impl PlanPart {
    fn validated(&self, errors: &mut ValidationErrors, i: usize) -> PlanPart {
        let title = validate::text(errors, &format!("session_plan[{i}].title"), &self.title, 1, PART_TITLE_MAX)
            .unwrap_or_default();
        let prompt = validate::text_multiline(errors, &format!("session_plan[{i}].prompt"), &self.prompt, PROMPT_MAX)
            .unwrap_or_default();
        PlanPart { title, prompt }
    }
}

/// A session's agenda as the template plans it: the planned session's title, purpose and prompts
/// (when the session is one of the planned ones), then the parts of the session plan, and what
/// was agreed as next steps (for a session proposed by the one before).
pub fn agenda(definition: &TemplateDefinition, planned: Option<&PlannedSession>, next_steps: Option<&str>) -> String {
    let mut out = String::new();
    if let Some(planned) = planned {
        out.push_str(&planned.title);
        out.push('\n');
        if let Some(purpose) = &planned.purpose {
            out.push_str(purpose);
            out.push('\n');
        }
        for prompt in &planned.agenda_prompts {
            out.push_str("- ");
            out.push_str(prompt);
            out.push('\n');
        }
        if let Some(choice) = &planned.choice {
            out.push_str(&format!("- {} ({})\n", choice.question, choice.options.join(" / ")));
        }
        out.push('\n');
    }
    if let Some(next) = next_steps.map(str::trim).filter(|n| !n.is_empty()) {
        out.push_str("Agreed at the last session:\n");
        out.push_str(next);
        out.push_str("\n\n");
    }
    for (i, part) in definition.session_plan.iter().enumerate() {
        out.push_str(&format!("{}. {}", i + 1, part.title));
        if !part.prompt.is_empty() {
            out.push_str(" — ");
            out.push_str(&part.prompt);
        }
        out.push('\n');
    }
    out.trim_end().to_owned()
}

/// A session as asked for: what is not said comes from the template (its next planned session,
/// then its session defaults), and the agenda from its session plan.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SessionRequest {
    pub scheduled_at: Option<Timestamp>,
    pub duration_minutes: Option<u32>,
    pub format: Option<SessionFormat>,
    pub kind: Option<SessionKind>,
    pub agenda: Option<String>,
}

impl TemplateDefinition {
    /// The first planned session whose place no session holds (`taken`: the places held).
    pub fn next_planned(&self, taken: &[u32]) -> Option<(u32, &PlannedSession)> {
        (0u32..).zip(self.planned_sessions.iter()).find(|(i, _)| !taken.contains(i))
    }

    /// The session `request` asks for in a program of this template: the next planned session
    /// (if any is left) and the session defaults fill what it leaves out; an agenda left out is
    /// written from the plan (and `next_steps`, for a session proposed by the one before).
    pub fn new_session(
        &self,
        request: SessionRequest,
        taken: &[u32],
        next_steps: Option<&str>,
    ) -> Result<crate::coaching::NewSession, DomainError> {
        let Some(scheduled_at) = request.scheduled_at else {
            return Err(DomainError::Validation(ValidationErrors::single(
                "scheduled_at",
                "required",
                "when the session is",
            )));
        };
        let planned = self.next_planned(taken);
        let defaults = self.session_defaults;
        let kind = request.kind.or(planned.map(|(_, p)| p.kind)).unwrap_or(defaults.kind);
        let duration_minutes = request
            .duration_minutes
            .or(planned.filter(|(_, p)| p.kind == kind).map(|(_, p)| p.duration_minutes))
            .or((defaults.kind == kind).then_some(defaults.duration_minutes))
            .unwrap_or(match kind {
                SessionKind::Micro => 15,
                SessionKind::Regular => 60,
            });
        let format = request.format.or(planned.and_then(|(_, p)| p.format)).unwrap_or(defaults.format);
        let agenda = request.agenda.or_else(|| {
            let text = agenda(self, planned.map(|(_, p)| p), next_steps);
            (!text.is_empty()).then_some(text)
        });
        Ok(crate::coaching::NewSession {
            scheduled_at,
            duration_minutes,
            format,
            kind,
            agenda,
            requested_by_leader: false,
            proposed: false,
            planned: planned.map(|(i, p)| (i, p.title.clone())),
        })
    }
}

/// The planned end of a program starting on `start` when none is named, and whether `end` is
/// within the template's length (`Err` names the rule).
pub fn check_length(length: &ProgramLength, start: NaiveDate, end: NaiveDate) -> Result<(), String> {
    let shortest = length.after(start, length.min);
    let longest = length.after(start, length.max);
    if shortest.is_some_and(|d| end < d) || longest.is_some_and(|d| end > d) {
        return Err(format!(
            "programs of this template run {}; set allow_any_duration to plan otherwise",
            length.describe()
        ));
    }
    Ok(())
}

/// The ids of the built-in templates (fixed, so they can be named in requests and docs).
pub const EXECUTIVE_ID: TemplateId = TemplateId(uuid::uuid!("00000000-0000-7000-8000-000000000001"));
pub const MICRO_ID: TemplateId = TemplateId(uuid::uuid!("00000000-0000-7000-8000-000000000002"));
pub const INTRODUCTORY_ID: TemplateId = TemplateId(uuid::uuid!("00000000-0000-7000-8000-000000000003"));

/// The ten parts of a coaching session (seed 004).
fn session_structure() -> Vec<PlanPart> {
    [
        ("Set the agenda", "Progress since the last session, current challenges, goals for today."),
        ("Check-in", "How is the client doing, emotionally and mentally?"),
        ("Review progress", "Successes, challenges and obstacles since the last session."),
        ("Explore current challenges", "Probe the root causes; explore possible solutions."),
        ("Goal setting", "Specific, measurable goals for this session, aligned with the program's outcomes."),
        ("Action planning", "Steps, deadlines and accountability."),
        ("Skill building", "Role-play, practise new behaviours, discuss strategies."),
        ("Reflection", "What was discussed and learned; how it applies at work."),
        ("Assign homework", "Assignments that reinforce learning before the next session."),
        ("Set next steps", "The next session and any support or resources needed."),
    ]
    .into_iter()
    .map(|(title, prompt)| PlanPart { title: title.into(), prompt: prompt.into() })
    .collect()
}

fn step(phase: Phase, guards: &[Guard]) -> TemplateStep {
    TemplateStep { phase, guards: Some(guards.to_vec()) }
}

fn planned(
    title: &str,
    purpose: &str,
    minutes: u32,
    prompts: &[&str],
    choice: Option<SessionChoice>,
) -> PlannedSession {
    PlannedSession {
        title: title.into(),
        purpose: Some(purpose.into()),
        kind: SessionKind::Regular,
        duration_minutes: minutes,
        format: None,
        agenda_prompts: prompts.iter().map(|p| (*p).to_owned()).collect(),
        choice,
    }
}

fn built_in(id: TemplateId, name: &str, description: &str, definition: TemplateDefinition) -> ProgramTemplate {
    let at = chrono::DateTime::parse_from_rfc3339("2026-12-02T00:00:00Z").expect("a date").to_utc();
    ProgramTemplate {
        id,
        organization_id: None,
        name: name.into(),
        description: Some(description.into()),
        based_on: None,
        definition,
        created_at: at,
        updated_at: at,
        version: 1,
    }
}

/// The eight-step executive program (seed 003): every step with every guard. The default.
pub fn executive() -> ProgramTemplate {
    let steps =
        Phase::ALL.iter().copied().filter(|p| p.is_active_step()).map(|p| step(p, &Guard::of_step(p))).collect();
    built_in(
        EXECUTIVE_ID,
        "Executive coaching",
        "The eight steps: context, leader interview, 360 interviews, assessment and design, sponsor review, \
         coaching, mid review, end review. Typically 3 hours a month for 6 to 12 months.",
        TemplateDefinition {
            steps,
            sponsor_decision_required: true,
            length: ProgramLength { unit: LengthUnit::Months, min: 6, default: 6, max: 12 },
            default_monthly_hours_budget: None,
            session_defaults: SessionDefaults {
                kind: SessionKind::Regular,
                duration_minutes: 60,
                format: SessionFormat::Video,
            },
            planned_sessions: Vec::new(),
            session_plan: session_structure(),
        },
    )
}

/// Micro coaching (seed 000): focused goals agreed in context, then short sessions in any format
/// (text included), each with its own goal and action steps, and an end review. No 360; the
/// sponsors' decision is optional; weeks, not months.
pub fn micro() -> ProgramTemplate {
    built_in(
        MICRO_ID,
        "Micro coaching",
        "Focused goals, then sessions of 5 to 30 minutes in any format, text included, each with its own goal \
         and action steps, and an end review. No 360. Weeks, not months.",
        TemplateDefinition {
            steps: vec![
                step(Phase::Context, &[Guard::SponsorAssigned, Guard::OutcomesComplete]),
                step(Phase::Coaching, &[]),
                step(Phase::EndReview, &[Guard::EndReviewRecorded]),
            ],
            sponsor_decision_required: false,
            length: ProgramLength { unit: LengthUnit::Weeks, min: 2, default: 6, max: 12 },
            default_monthly_hours_budget: Some(2.0),
            session_defaults: SessionDefaults {
                kind: SessionKind::Micro,
                duration_minutes: 15,
                format: SessionFormat::Text,
            },
            planned_sessions: Vec::new(),
            session_plan: vec![
                PlanPart { title: "Goal".into(), prompt: "The one thing this session is for.".into() },
                PlanPart { title: "Action steps".into(), prompt: "What the client does before the next one.".into() },
                PlanPart { title: "Follow-up".into(), prompt: "When and how progress is checked.".into() },
            ],
        },
    )
}

/// The introductory sequence (seed 001): an introductory session, the opening session (the whole
/// person or the workplace only), the second (thinking and habits), the third (priorities and
/// strategy), the fourth (how progress is checked in), then regular coaching.
pub fn introductory() -> ProgramTemplate {
    let focus = SessionChoice {
        question: "Focus of the coaching: the big picture of the whole person, or the workplace only".into(),
        options: vec!["whole_person".into(), "workplace_only".into()],
    };
    built_in(
        INTRODUCTORY_ID,
        "Introductory sequence",
        "An introductory session of 20 to 30 minutes, then four opening sessions (the big picture, thinking and \
         habits, priorities and strategy, checking in on progress), then regular coaching, with mid and end reviews.",
        TemplateDefinition {
            steps: vec![
                step(Phase::Context, &[Guard::SponsorAssigned, Guard::ContextMeetingRecorded]),
                step(Phase::Coaching, &[Guard::MidReviewCompleted]),
                step(Phase::MidReview, &[Guard::MidReviewRecorded]),
                step(Phase::EndReview, &[Guard::EndReviewRecorded]),
            ],
            sponsor_decision_required: false,
            length: ProgramLength { unit: LengthUnit::Months, min: 3, default: 6, max: 12 },
            default_monthly_hours_budget: None,
            session_defaults: SessionDefaults {
                kind: SessionKind::Regular,
                duration_minutes: 60,
                format: SessionFormat::Video,
            },
            planned_sessions: vec![
                planned(
                    "Introductory session",
                    "The client meets coaching and the coach; buy-in to the process; the coach learns about the client.",
                    30,
                    &["What brings you to coaching?", "How we will work together"],
                    None,
                ),
                planned(
                    "Opening session",
                    "The big picture: the client's goals for all areas of their life, or the workplace only.",
                    90,
                    &["Goals in each area of life (or of work)", "Influencing factors"],
                    Some(focus),
                ),
                planned(
                    "Second session: thinking and habits",
                    "The thinking that supports success, and habits that move the client towards their goals.",
                    60,
                    &["Thinking that helps and hinders", "One habit to establish"],
                    None,
                ),
                planned(
                    "Third session: priorities and strategy",
                    "Which goals to work on first, and the strategy for them.",
                    60,
                    &["The first goals", "The strategy"],
                    None,
                ),
                planned(
                    "Fourth session: checking in on progress",
                    "How progress is checked in on in the sessions that follow; continuing skills and strategy.",
                    60,
                    &["How we check progress", "Skills to keep developing"],
                    None,
                ),
            ],
            session_plan: session_structure(),
        },
    )
}

/// Every built-in template, in id order.
pub fn built_ins() -> Vec<ProgramTemplate> {
    vec![executive(), micro(), introductory()]
}

/// The built-in template with this id.
pub fn built_in_template(id: TemplateId) -> Option<ProgramTemplate> {
    built_ins().into_iter().find(|t| t.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Phase::*;

    fn codes_of(
        result: Result<(String, Option<String>, TemplateDefinition), DomainError>,
    ) -> Vec<(String, &'static str)> {
        match result {
            Err(DomainError::Validation(errors)) => errors.0.into_iter().map(|e| (e.field, e.code)).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    fn with_steps(steps: Vec<TemplateStep>) -> TemplateChanges {
        TemplateChanges { steps: Some(steps), ..Default::default() }
    }

    #[test]
    fn built_ins_are_valid_and_keep_their_shape() {
        for template in built_ins() {
            let (_, _, definition) = merged(&template, &TemplateChanges::default()).unwrap();
            assert_eq!(definition, template.definition, "{}", template.name);
        }
        assert_eq!(executive().phases().len(), 8);
        assert_eq!(micro().phases(), [Context, Coaching, EndReview]);
        assert_eq!(introductory().definition.planned_sessions.len(), 5);
        assert_eq!(executive().definition.session_plan.len(), 10, "seed 004's ten parts");
    }

    #[test]
    fn the_program_goes_forward_along_its_steps() {
        let e = executive().definition;
        assert_eq!(e.forward(Context), [LeaderInterview]);
        assert_eq!(e.forward(SponsorReview), [Coaching]);
        assert_eq!(e.forward(Coaching), [MidReview, EndReview]);
        assert_eq!(e.forward(MidReview), [Coaching]);
        assert_eq!(e.forward(EndReview), [Completed]);
        let m = micro().definition;
        assert_eq!(m.forward(Context), [Coaching]);
        assert_eq!(m.forward(Coaching), [EndReview]);
        assert!(m.forward(LeaderInterview).is_empty(), "not a step of micro coaching");
    }

    #[test]
    fn bad_templates_are_refused_naming_the_field() {
        let base = executive();
        let s = |p| TemplateStep { phase: p, guards: None };
        assert_eq!(codes_of(merged(&base, &with_steps(vec![]))), [("steps".into(), "required")]);
        assert_eq!(
            codes_of(merged(&base, &with_steps(vec![s(Context), s(EndReview), s(Coaching)]))),
            [("steps[2].phase".into(), "out_of_order")]
        );
        assert_eq!(
            codes_of(merged(&base, &with_steps(vec![s(Context), s(Coaching), s(Coaching), s(EndReview)]))),
            [("steps[2].phase".into(), "duplicate")]
        );
        assert_eq!(
            codes_of(merged(&base, &with_steps(vec![s(Context), s(Coaching), s(EndReview), s(Completed)]))),
            [("steps[3].phase".into(), "not_a_step")]
        );
        assert_eq!(
            codes_of(merged(&base, &with_steps(vec![s(Context), s(Coaching)]))),
            [("steps".into(), "step_missing"), ("sponsor_decision_required".into(), "unmeetable")],
            "every problem is named"
        );
        // A guard that cannot be met: the mid review's completion without a mid review step, and
        // the sponsors' decision without a sponsor review.
        let changes = TemplateChanges {
            steps: Some(vec![
                s(Context),
                TemplateStep { phase: Coaching, guards: Some(vec![Guard::MidReviewCompleted]) },
                s(EndReview),
            ]),
            ..Default::default()
        };
        assert_eq!(
            codes_of(merged(&base, &changes)),
            [("steps[1].guards[0]".into(), "unmeetable"), ("sponsor_decision_required".into(), "unmeetable")]
        );
        // Guards left out are those the program can meet.
        let (_, _, definition) = merged(
            &base,
            &TemplateChanges {
                steps: Some(vec![s(Context), s(Coaching), s(EndReview)]),
                sponsor_decision_required: Some(false),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(definition.steps[1].guards, Some(vec![]));
        let changes = TemplateChanges {
            steps: Some(vec![
                TemplateStep { phase: Context, guards: Some(vec![Guard::EndReviewRecorded]) },
                s(Coaching),
                s(SponsorReview),
                s(EndReview),
            ]),
            sponsor_decision_required: Some(false),
            ..Default::default()
        };
        assert_eq!(
            codes_of(merged(&base, &changes)),
            [("steps[2].phase".into(), "out_of_order")],
            "order is checked first"
        );
        let changes = TemplateChanges {
            steps: Some(vec![
                TemplateStep { phase: Context, guards: Some(vec![Guard::EndReviewRecorded]) },
                s(SponsorReview),
                s(Coaching),
                s(EndReview),
            ]),
            sponsor_decision_required: Some(false),
            ..Default::default()
        };
        assert_eq!(
            codes_of(merged(&base, &changes)),
            [("steps[1].phase".into(), "unmeetable"), ("steps[0].guards[0]".into(), "not_of_step")]
        );
    }

    #[test]
    fn guards_follow_the_template() {
        let facts = ProgramFacts::default();
        let codes = |d: &TemplateDefinition, from, to| -> Vec<&str> {
            d.unmet(from, to, &facts).iter().map(|u| u.code).collect()
        };
        let m = micro().definition;
        assert_eq!(codes(&m, Context, Coaching), ["sponsor_missing", "outcome_missing"]);
        assert!(codes(&m, Coaching, EndReview).is_empty(), "no mid review in micro coaching");
        let i = introductory().definition;
        assert_eq!(codes(&i, Context, Coaching), ["sponsor_missing", "context_meeting_missing"]);
        assert_eq!(codes(&i, Coaching, EndReview), ["mid_review_not_completed"]);
        assert!(codes(&i, Coaching, MidReview).is_empty());
        // The sponsors' approval counts only where the template requires it.
        let submitted = ProgramFacts {
            design_submitted: true,
            design_approved_by_leader: true,
            sponsors_not_approved: 1,
            ..facts.clone()
        };
        let e = executive().definition;
        assert_eq!(e.unmet(SponsorReview, Coaching, &submitted).len(), 1);
        let optional = TemplateDefinition { sponsor_decision_required: false, ..e };
        assert!(optional.unmet(SponsorReview, Coaching, &submitted).is_empty());
    }

    #[test]
    fn lengths_in_weeks_and_months() {
        let start = NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
        let m = micro().definition.length;
        assert_eq!(m.after(start, m.default), NaiveDate::from_ymd_opt(2026, 2, 26));
        assert!(check_length(&m, start, NaiveDate::from_ymd_opt(2026, 4, 9).unwrap()).is_ok(), "12 weeks");
        assert!(check_length(&m, start, NaiveDate::from_ymd_opt(2026, 4, 10).unwrap()).is_err());
        let e = executive().definition.length;
        assert_eq!(e.after(start, e.default), NaiveDate::from_ymd_opt(2026, 7, 15));
    }

    #[test]
    fn sessions_take_the_plan_in_order() {
        let i = introductory().definition;
        let at = Some(crate::time::now());
        let first = i.new_session(SessionRequest { scheduled_at: at, ..Default::default() }, &[], None).unwrap();
        assert_eq!((first.duration_minutes, first.planned.clone().map(|p| p.0)), (30, Some(0)));
        assert!(first.agenda.as_deref().unwrap().starts_with("Introductory session"));
        // The first session was cancelled: its place is free again; the second is held.
        let again = i.new_session(SessionRequest { scheduled_at: at, ..Default::default() }, &[1], None).unwrap();
        assert_eq!(again.planned.map(|p| p.0), Some(0));
        let all: Vec<u32> = (0..5).collect();
        let regular = i
            .new_session(
                SessionRequest { scheduled_at: at, agenda: Some("Own".into()), ..Default::default() },
                &all,
                None,
            )
            .unwrap();
        assert_eq!((regular.planned, regular.duration_minutes, regular.agenda.as_deref()), (None, 60, Some("Own")));
        let m = micro().definition;
        let short = m.new_session(SessionRequest { scheduled_at: at, ..Default::default() }, &[], None).unwrap();
        assert_eq!((short.kind, short.duration_minutes, short.format), (SessionKind::Micro, 15, SessionFormat::Text));
        assert!(m.new_session(SessionRequest::default(), &[], None).is_err(), "a time is needed");
    }

    #[test]
    fn the_agenda_follows_the_plan() {
        let i = introductory().definition;
        let text = agenda(&i, i.planned_sessions.get(1), Some("Bring the list of goals"));
        assert!(text.starts_with("Opening session\n"), "{text}");
        assert!(text.contains("(whole_person / workplace_only)"), "{text}");
        assert!(text.contains("Agreed at the last session:\nBring the list of goals"), "{text}");
        assert!(text.contains("1. Set the agenda") && text.contains("10. Set next steps"), "{text}");
    }
}
