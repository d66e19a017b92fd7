//! Engagements: create, read, list, change their terms, move the program, read the timeline.

use std::collections::BTreeSet;

use keel_domain::audit::AuditRecord;
use keel_domain::contract::Draw;
use keel_domain::engagement::{
    Engagement, EngagementPatch, NewEngagement, People, Phase, ProgramFacts, TransitionRecord, check_transition,
    mover_may,
};
use keel_domain::event::DomainEvent;
use keel_domain::facts::GuardedParts;
use keel_domain::organization::Organization;
use keel_domain::page::{Page, PageRequest};
use keel_domain::policy::{self, Action, EngagementVisibility};
use keel_domain::template::ProgramTemplate;
use keel_domain::user::User;
use keel_domain::{DomainError, EngagementId, Precondition, UserId, ValidationErrors};
use keel_persistence::repo::contracts::Drawer;
use keel_persistence::repo::engagements::{self, EngagementFilter};
use keel_persistence::repo::parts::{self, Part, ProgramParts};
use keel_persistence::repo::{organizations, users};
use keel_persistence::{DbConnection, StoreError};

use crate::contracts::{self, Allocation};
use crate::frame::{self, Caller};

const RESOURCE: &str = "engagement";

/// The people an engagement or a group names, as found.
pub(crate) struct Directory(Vec<User>);

impl People for Directory {
    fn get(&self, id: UserId) -> Option<&User> {
        self.0.iter().find(|u| u.id == id)
    }
}

/// Loads the people `ids` name (those that exist), for the domain to check.
pub(crate) fn people(conn: &mut DbConnection, ids: impl IntoIterator<Item = UserId>) -> Result<Directory, StoreError> {
    let mut found = Vec::new();
    for id in ids.into_iter().collect::<BTreeSet<_>>() {
        found.extend(users::find(conn, id)?);
    }
    Ok(Directory(found))
}

pub fn create(conn: &mut DbConnection, caller: &Caller, input: NewEngagement) -> Result<Engagement, StoreError> {
    policy::check(&caller.principal, &Action::CreateEngagement { organization_id: input.organization_id })?;
    frame::run(conn, |tx, effects| {
        let Some(organization) = organizations::find(tx, input.organization_id)? else {
            let error = ValidationErrors::single("organization_id", "not_found", "no organization has this id");
            return Err(DomainError::Validation(error).into());
        };
        let template = crate::templates::for_new_engagement(tx, caller, input.template_id)?;
        let engagement = new_engagement(tx, input, &organization, &template)?;
        contracts::check_allocation(
            tx,
            &organization,
            Allocation {
                drawer: Drawer::Engagement(engagement.id),
                contract_id: engagement.contract_id,
                start_date: engagement.start_date,
                after: Draw::planned(&engagement),
                field: "contract_id",
            },
        )?;
        engagements::insert(tx, &engagement)?;
        engagements::record_transition(tx, &caller.ctx, &engagement, None, Some("created"))?;
        effects.audit(AuditRecord::new(
            &caller.ctx,
            "engagement.created",
            RESOURCE,
            engagement.id,
            Some(engagement.organization_id),
        ));
        effects.event(DomainEvent::engagement_created(&engagement));
        Ok(engagement)
    })
}

/// A new engagement of `template`, validated against the organization and the people it names.
pub(crate) fn new_engagement(
    conn: &mut DbConnection,
    input: NewEngagement,
    organization: &Organization,
    template: &ProgramTemplate,
) -> Result<Engagement, StoreError> {
    let named = [input.leader_id, input.coach_id]
        .into_iter()
        .chain(input.sponsor_ids.iter().copied())
        .chain(input.hr_partner_id);
    let people = people(conn, named)?;
    Ok(Engagement::create(input, organization, template, &people)?)
}

pub fn get(conn: &mut DbConnection, caller: &Caller, id: EngagementId) -> Result<Engagement, StoreError> {
    let engagement = engagements::get(conn, id)?;
    policy::check(&caller.principal, &Action::ReadEngagement { engagement: &engagement })?;
    Ok(engagement)
}

/// The engagements matching `filter` that the caller may see: all for admins, the
/// organization's for its managers, those they take part in for everyone else.
pub fn list(
    conn: &mut DbConnection,
    caller: &Caller,
    mut filter: EngagementFilter,
    page: PageRequest,
) -> Result<Page<Engagement>, StoreError> {
    match policy::engagement_visibility(&caller.principal)? {
        EngagementVisibility::All => {}
        EngagementVisibility::Organization(own) => match policy::narrow_to_organization(own, filter.organization_id) {
            Some(org) => filter.organization_id = Some(org),
            None => return Ok(Page::empty()),
        },
        EngagementVisibility::Participant(me) => filter.participant = Some(me),
    }
    engagements::list(conn, &filter, page)
}

/// Changes an engagement's details, validated like creation (participants re-checked); its
/// terms (budget, dates, people) only by those the policy names.
pub fn update(
    conn: &mut DbConnection,
    caller: &Caller,
    id: EngagementId,
    precondition: Option<&Precondition>,
    patch: &EngagementPatch,
) -> Result<Engagement, StoreError> {
    frame::run_versioned(conn, precondition, |tx, effects| {
        let current = engagements::get_for_update(tx, id)?;
        let changes_terms = patch.changes_terms(&current);
        policy::check(&caller.principal, &Action::UpdateEngagement { engagement: &current, changes_terms })?;
        Precondition::check(precondition, current.version)?;
        let organization = organizations::get(tx, current.organization_id)?;
        let named = [current.leader_id, current.coach_id]
            .into_iter()
            .chain(current.sponsor_ids.iter().copied())
            .chain(current.hr_partner_id)
            .chain(patch.named());
        let people = people(tx, named)?;
        let template = crate::templates::of_engagement(tx, &current)?;
        let next = current.apply(patch, &organization, &template, &people)?;
        if patch.changes_draw(&current) {
            let ledger = crate::sessions::ledger_of(tx, &next)?;
            let field = if patch.monthly_hours_budget.is_some() { "monthly_hours_budget" } else { "planned_end_date" };
            let after = Draw::from_ledger(&ledger, false);
            let allocation = Allocation {
                drawer: Drawer::Engagement(next.id),
                contract_id: next.contract_id,
                start_date: next.start_date,
                after,
                field,
            };
            contracts::check_allocation(tx, &organization, allocation)?;
        }
        engagements::save(tx, &next, current.version)?;
        if next.sponsor_ids != current.sponsor_ids {
            engagements::replace_sponsors(tx, &next)?;
        }
        let record = AuditRecord::new(&caller.ctx, "engagement.updated", RESOURCE, id, Some(current.organization_id));
        effects.audit(record.with_fields(patch.changed_fields()));
        Ok(next)
    })
}

/// What the transition guards look at, read in one statement (with the organization's
/// `min_raters`).
pub(crate) fn facts(conn: &mut DbConnection, engagement: &Engagement) -> Result<ProgramFacts, StoreError> {
    let wanted = parts::Wanted {
        engagements: &[engagement.id],
        parts: Part::FACTS,
        organizations: &[engagement.organization_id],
        ..parts::Wanted::default()
    };
    let mut loaded = parts::load(conn, wanted)?;
    let organization =
        loaded.organizations.get(&engagement.organization_id).ok_or_else(|| StoreError::not_found("organization"))?;
    Ok(facts_of(engagement, organization.settings.min_raters, &loaded.take(engagement.id)))
}

/// The facts of `engagement` from its parts, read with (at least) [`Part::FACTS`].
pub(crate) fn facts_of(engagement: &Engagement, min_raters: u32, parts: &ProgramParts) -> ProgramFacts {
    let guarded = GuardedParts {
        designs: &parts.designs,
        decisions: &parts.decisions,
        raters: &parts.raters,
        outcomes: &parts.outcomes,
        context_recorded: parts.context.is_some(),
        leader_interview_recorded: parts.interview.is_some(),
        reviews: &parts.reviews,
        mid_review_entered: parts.mid_review_entered,
    };
    keel_domain::facts::program_facts(engagement, min_raters, guarded)
}

/// Moves the program to `to`, if the caller may and every guard holds; the row, the timeline
/// entry, the audit record and the event are one transaction.
pub fn transition(
    conn: &mut DbConnection,
    caller: &Caller,
    id: EngagementId,
    precondition: Option<&Precondition>,
    to: Phase,
    reason: Option<String>,
) -> Result<Engagement, StoreError> {
    frame::run_versioned(conn, precondition, |tx, effects| {
        let current = engagements::get_for_update(tx, id)?;
        let mover = policy::mover(&caller.principal, &current)?;
        if !mover_may(mover, current.phase, to) {
            let message =
                "the hr_partner may put the program on hold, resume it or cancel it; the coach moves it forward";
            return Err(DomainError::Forbidden { message: message.to_owned() }.into());
        }
        Precondition::check(precondition, current.version)?;
        let facts = facts(tx, &current)?;
        let template = crate::templates::of_engagement(tx, &current)?;
        check_transition(current.phase, current.held_from, to, reason.as_deref(), &facts, &template.definition)
            .map_err(|unmet| DomainError::GuardsUnmet { unmet })?;
        let next = current.moved_to(to);
        engagements::save(tx, &next, current.version)?;
        engagements::record_transition(tx, &caller.ctx, &next, Some(current.phase), reason.as_deref())?;
        let record =
            AuditRecord::new(&caller.ctx, "engagement.phase_changed", RESOURCE, id, Some(current.organization_id));
        effects.audit(record.with_fields(vec!["phase"]));
        effects.event(DomainEvent::phase_changed(&next, current.phase));
        Ok(next)
    })
}

/// Moves the program by itself (one of the domain's system edges: a design submitted, changes
/// requested, the end review recorded) inside the caller's frame: the row, the timeline entry,
/// and as effects the audit record and the event, like a requested transition.
pub(crate) fn move_by_itself(
    tx: &mut DbConnection,
    ctx: &keel_domain::audit::CommandContext,
    effects: &mut crate::frame::Effects,
    engagement: &Engagement,
    to: Phase,
    reason: &str,
) -> Result<Engagement, StoreError> {
    let template = crate::templates::of_engagement(tx, engagement)?;
    keel_domain::engagement::check_system_transition(engagement.phase, to, &template.definition)
        .map_err(|unmet| DomainError::GuardsUnmet { unmet })?;
    let next = engagement.moved_to(to);
    engagements::save(tx, &next, engagement.version)?;
    engagements::record_transition(tx, ctx, &next, Some(engagement.phase), Some(reason))?;
    let record =
        AuditRecord::new(ctx, "engagement.phase_changed", RESOURCE, engagement.id, Some(engagement.organization_id));
    effects.audit(record.with_fields(vec!["phase"]));
    effects.event(DomainEvent::phase_changed(&next, engagement.phase));
    Ok(next)
}

/// The engagement's timeline: every phase change, oldest first.
pub fn timeline(
    conn: &mut DbConnection,
    caller: &Caller,
    id: EngagementId,
    page: PageRequest,
) -> Result<Page<TransitionRecord>, StoreError> {
    get(conn, caller, id)?;
    engagements::timeline(conn, id, page)
}
