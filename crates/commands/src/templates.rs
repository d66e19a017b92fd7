//! Program templates: the built-in ones (executive, micro coaching, introductory sequence) and an
//! organization's own, copied from one and edited; every edit is a new immutable version, and an
//! engagement reads the version it was created with.

use keel_domain::audit::AuditRecord;
use keel_domain::engagement::Engagement;
use keel_domain::event::DomainEvent;
use keel_domain::page::{Page, PageRequest};
use keel_domain::policy::{self, Action, TemplateVisibility};
use keel_domain::template::{self as domain, ProgramTemplate, TemplateChanges};
use keel_domain::{DomainError, OrganizationId, Precondition, TemplateId, ValidationErrors};
use keel_persistence::repo::{organizations, templates};
use keel_persistence::{DbConnection, StoreError};

use crate::frame::{self, Caller};

const RESOURCE: &str = "program template";

/// The template `id` at `version` (None: its current one), built-in or stored, whoever asks.
fn find(conn: &mut DbConnection, id: TemplateId, version: Option<i64>) -> Result<Option<ProgramTemplate>, StoreError> {
    match domain::built_in_template(id) {
        Some(t) => Ok((version.is_none_or(|v| v == t.version)).then_some(t)),
        None => templates::find(conn, id, version),
    }
}

/// The template (at the version) an engagement runs.
pub(crate) fn of_engagement(conn: &mut DbConnection, engagement: &Engagement) -> Result<ProgramTemplate, StoreError> {
    find(conn, engagement.template_id, Some(engagement.template_version))?
        .ok_or_else(|| StoreError::not_found(RESOURCE))
}

/// The templates of several engagements, each version read once (versions never change).
#[derive(Default)]
pub(crate) struct Versions(std::collections::HashMap<(TemplateId, i64), ProgramTemplate>);

impl Versions {
    /// The template (at the version) `engagement` runs.
    pub(crate) fn of(
        &mut self,
        conn: &mut DbConnection,
        engagement: &Engagement,
    ) -> Result<&ProgramTemplate, StoreError> {
        let key = (engagement.template_id, engagement.template_version);
        Ok(match self.0.entry(key) {
            std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
            std::collections::hash_map::Entry::Vacant(new) => new.insert(of_engagement(conn, engagement)?),
        })
    }
}

/// The current version of a template, whoever asks.
pub(crate) fn current(conn: &mut DbConnection, id: TemplateId) -> Result<ProgramTemplate, StoreError> {
    find(conn, id, None)?.ok_or_else(|| StoreError::not_found(RESOURCE))
}

/// The current version of the template a new engagement names (the executive one when it names
/// none), if the caller may read it; otherwise a validation error on `template_id`.
pub(crate) fn for_new_engagement(
    conn: &mut DbConnection,
    caller: &Caller,
    id: Option<TemplateId>,
) -> Result<ProgramTemplate, StoreError> {
    let found = find(conn, id.unwrap_or(domain::EXECUTIVE_ID), None)?.filter(|t| {
        policy::check(&caller.principal, &Action::ReadTemplate { organization_id: t.organization_id }).is_ok()
    });
    found.ok_or_else(|| {
        DomainError::Validation(ValidationErrors::single("template_id", "not_found", "no program template has this id"))
            .into()
    })
}

/// A template (its current version, or `version`) the caller may read.
pub fn get(
    conn: &mut DbConnection,
    caller: &Caller,
    id: TemplateId,
    version: Option<i64>,
) -> Result<ProgramTemplate, StoreError> {
    let template = find(conn, id, version)?.ok_or_else(|| StoreError::not_found(RESOURCE))?;
    policy::check(&caller.principal, &Action::ReadTemplate { organization_id: template.organization_id })?;
    Ok(template)
}

/// The templates the caller may read, in id order: the built-in ones first (their ids are the
/// smallest), then the organization's (`organization_id`, or the caller's own; an admin or a coach
/// naming none sees every organization's).
pub fn list(
    conn: &mut DbConnection,
    caller: &Caller,
    organization_id: Option<OrganizationId>,
    page: PageRequest,
) -> Result<Page<ProgramTemplate>, StoreError> {
    let mut items = built_ins_after(page);
    let stored = match policy::template_visibility(&caller.principal)? {
        TemplateVisibility::Every => Some(organization_id),
        TemplateVisibility::Organization(own) => policy::narrow_to_organization(own, organization_id).map(Some),
        TemplateVisibility::BuiltInOnly => None,
    };
    let mut has_more = false;
    if let Some(organization) = stored {
        let stored = templates::list(conn, organization, page)?;
        has_more = stored.has_more;
        items.extend(stored.items);
    }
    has_more |= items.len() > page.limit as usize;
    items.truncate(page.limit as usize);
    Ok(Page { items, has_more })
}

fn built_ins_after(page: PageRequest) -> Vec<ProgramTemplate> {
    domain::built_ins().into_iter().filter(|t| page.after.is_none_or(|after| t.id.as_uuid() > after)).collect()
}

/// An organization's new template: a copy of `copy_from` (default: the executive template) with
/// `changes`.
pub fn create(
    conn: &mut DbConnection,
    caller: &Caller,
    organization_id: OrganizationId,
    copy_from: Option<TemplateId>,
    changes: &TemplateChanges,
) -> Result<ProgramTemplate, StoreError> {
    policy::check(&caller.principal, &Action::ManageTemplates { organization_id })?;
    frame::run(conn, |tx, effects| {
        if !organizations::exists(tx, organization_id)? {
            let error = ValidationErrors::single("organization_id", "not_found", "no organization has this id");
            return Err(DomainError::Validation(error).into());
        }
        let base = match copy_from {
            None => domain::executive(),
            Some(id) => find(tx, id, None)?
                .filter(|t| t.organization_id.is_none_or(|org| org == organization_id))
                .ok_or_else(|| {
                    DomainError::Validation(ValidationErrors::single(
                        "copy_from",
                        "not_found",
                        "no built-in template or template of this organization has this id",
                    ))
                })?,
        };
        let template = ProgramTemplate::create(organization_id, &base, changes, keel_domain::time::now())?;
        templates::insert(tx, &template)?;
        effects.audit(AuditRecord::new(
            &caller.ctx,
            "template.created",
            "template",
            template.id,
            Some(organization_id),
        ));
        effects.event(DomainEvent::template_changed(&template, organization_id));
        Ok(template)
    })
}

/// A new version of an organization's template. Running engagements keep the version they
/// started with.
pub fn update(
    conn: &mut DbConnection,
    caller: &Caller,
    id: TemplateId,
    precondition: Option<&Precondition>,
    changes: &TemplateChanges,
) -> Result<ProgramTemplate, StoreError> {
    if let Some(built_in) = domain::built_in_template(id) {
        policy::check(&caller.principal, &Action::ReadTemplate { organization_id: None })?;
        return Err(built_in
            .revise(changes, keel_domain::time::now())
            .err()
            .unwrap_or(DomainError::conflict("template_built_in", "built-in templates do not change"))
            .into());
    }
    frame::run_versioned(conn, precondition, |tx, effects| {
        let current = templates::get_for_update(tx, id)?;
        let organization_id = current.organization_id.ok_or_else(|| StoreError::not_found(RESOURCE))?;
        policy::check(&caller.principal, &Action::ReadTemplate { organization_id: Some(organization_id) })?;
        policy::check(&caller.principal, &Action::ManageTemplates { organization_id })?;
        Precondition::check(precondition, current.version)?;
        let next = current.revise(changes, keel_domain::time::now())?;
        templates::save(tx, &next, current.version)?;
        let record = AuditRecord::new(&caller.ctx, "template.updated", "template", id, Some(organization_id));
        effects.audit(record.with_fields(changes.changed_fields()));
        effects.event(DomainEvent::template_changed(&next, organization_id));
        Ok(next)
    })
}
