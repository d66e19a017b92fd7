//! Coaching contracts: create, read, list, change, delete; and the check every allocation of
//! hours passes (docs/contracts.md).

use chrono::NaiveDate;
use keel_domain::audit::AuditRecord;
use keel_domain::coaching::SessionStatus;
use keel_domain::contract::{self as domain, Contract, ContractInput, ContractPatch, Draw, Standing};
use keel_domain::event::DomainEvent;
use keel_domain::organization::Organization;
use keel_domain::page::{Page, PageRequest};
use keel_domain::policy::{self, Action, Visibility};
use keel_domain::{ContractId, DomainError, OrganizationId, Precondition, ValidationErrors};
use keel_persistence::repo::contracts::{self, Drawer, Drawing};
use keel_persistence::repo::organizations;
use keel_persistence::{DbConnection, StoreError};

use crate::frame::{self, Caller};

const RESOURCE: &str = "contract";

/// A contract with what its programs hold and used.
#[derive(Clone, Debug, PartialEq)]
pub struct ContractView {
    pub contract: Contract,
    pub standing: Standing,
    /// Programs drawing on it.
    pub programs: usize,
}

/// The session statuses that draw on hours in `organization`.
pub(crate) fn counted(organization: &Organization) -> Vec<&'static str> {
    SessionStatus::counted(organization.settings.no_show_counts).iter().map(|s| s.as_str()).collect()
}

pub(crate) fn draw_of(drawing: &Drawing) -> Draw {
    Draw {
        extension_minutes: drawing.extension_minutes,
        used_minutes: drawing.used_minutes,
        ended: drawing.ended,
        ..Draw::planned(drawing)
    }
}

fn view(conn: &mut DbConnection, organization: &Organization, contract: Contract) -> Result<ContractView, StoreError> {
    let drawings = contracts::drawings(conn, contract.id, &counted(organization))?;
    let standing = Standing::of(&contract, drawings.iter().map(draw_of));
    Ok(ContractView { contract, standing, programs: drawings.len() })
}

pub fn create(
    conn: &mut DbConnection,
    caller: &Caller,
    organization_id: Option<OrganizationId>,
    input: ContractInput,
) -> Result<ContractView, StoreError> {
    let Some(organization_id) = organization_id.or(caller.principal.organization_id()) else {
        if policy::organization_visibility(&caller.principal) != Some(Visibility::All) {
            let message = "only an admin or an organization's hr_partner can create contracts";
            return Err(DomainError::Forbidden { message: message.to_owned() }.into());
        }
        let error =
            ValidationErrors::single("organization_id", "required", "name the organization that bought the hours");
        return Err(DomainError::Validation(error).into());
    };
    policy::check(&caller.principal, &Action::ManageContracts { organization_id })?;
    let contract = Contract::create(organization_id, input)?;
    frame::run(conn, |tx, effects| {
        let Some(organization) = organizations::find(tx, organization_id)? else {
            let error = ValidationErrors::single("organization_id", "not_found", "no organization has this id");
            return Err(DomainError::Validation(error).into());
        };
        contracts::insert(tx, &contract)?;
        effects.audit(AuditRecord::new(&caller.ctx, "contract.created", RESOURCE, contract.id, Some(organization_id)));
        effects.event(DomainEvent::contract(&contract, "contract.created"));
        view(tx, &organization, contract.clone())
    })
}

/// The contract, if the caller may read its organization's contracts (otherwise not found).
fn readable(conn: &mut DbConnection, caller: &Caller, id: ContractId) -> Result<Contract, StoreError> {
    let contract = contracts::get(conn, id)?;
    policy::check(&caller.principal, &Action::ReadContracts { organization_id: contract.organization_id })?;
    Ok(contract)
}

pub fn get(conn: &mut DbConnection, caller: &Caller, id: ContractId) -> Result<ContractView, StoreError> {
    let contract = readable(conn, caller, id)?;
    let organization = organizations::get(conn, contract.organization_id)?;
    view(conn, &organization, contract)
}

/// The contracts the caller may read: all for admins, their organization's for its hr_partner
/// and API clients; `organization` narrows an admin's list.
pub fn list(
    conn: &mut DbConnection,
    caller: &Caller,
    organization: Option<OrganizationId>,
    page: PageRequest,
) -> Result<Page<ContractView>, StoreError> {
    let only = match policy::organization_visibility(&caller.principal) {
        Some(Visibility::All) => organization,
        Some(Visibility::Organization(own)) => {
            policy::check(&caller.principal, &Action::ReadContracts { organization_id: own })?;
            match policy::narrow_to_organization(own, organization) {
                Some(org) => Some(org),
                None => return Ok(Page::empty()),
            }
        }
        Some(Visibility::OnlySelf(_)) | None => {
            let message = "only an admin or an organization's hr_partner can read contracts";
            return Err(DomainError::Forbidden { message: message.to_owned() }.into());
        }
    };
    let found = contracts::list(conn, only, page)?;
    let mut organizations_read: Vec<Organization> = Vec::new();
    let mut items = Vec::with_capacity(found.items.len());
    for contract in found.items {
        let organization = match organizations_read.iter().find(|o| o.id == contract.organization_id) {
            Some(o) => o.clone(),
            None => {
                let o = organizations::get(conn, contract.organization_id)?;
                organizations_read.push(o.clone());
                o
            }
        };
        items.push(view(conn, &organization, contract)?);
    }
    Ok(Page { items, has_more: found.has_more })
}

pub fn update(
    conn: &mut DbConnection,
    caller: &Caller,
    id: ContractId,
    precondition: Option<&Precondition>,
    patch: &ContractPatch,
) -> Result<ContractView, StoreError> {
    frame::run_versioned(conn, precondition, |tx, effects| {
        let current = contracts::lock(tx, id)?.ok_or_else(|| StoreError::not_found(RESOURCE))?;
        policy::check(&caller.principal, &Action::ReadContracts { organization_id: current.organization_id })?;
        policy::check(&caller.principal, &Action::ManageContracts { organization_id: current.organization_id })?;
        Precondition::check(precondition, current.version)?;
        let next = current.apply(patch)?;
        let organization = organizations::get(tx, current.organization_id)?;
        let seen = view(tx, &organization, next)?;
        if seen.contract.bought_minutes < current.bought_minutes {
            domain::check_bought(
                &seen.contract,
                organization.settings.allow_contract_overdraft,
                seen.standing.allocated_minutes,
            )?;
        }
        contracts::save(tx, &seen.contract, current.version)?;
        let record = AuditRecord::new(&caller.ctx, "contract.updated", RESOURCE, id, Some(current.organization_id));
        effects.audit(record.with_fields(patch.changed_fields()));
        effects.event(DomainEvent::contract(&seen.contract, "contract.updated"));
        Ok(seen)
    })
}

/// Deletes a contract no program draws on.
pub fn delete(
    conn: &mut DbConnection,
    caller: &Caller,
    id: ContractId,
    precondition: Option<&Precondition>,
) -> Result<(), StoreError> {
    frame::run_versioned(conn, precondition, |tx, effects| {
        let current = contracts::lock(tx, id)?.ok_or_else(|| StoreError::not_found(RESOURCE))?;
        policy::check(&caller.principal, &Action::ReadContracts { organization_id: current.organization_id })?;
        policy::check(&caller.principal, &Action::ManageContracts { organization_id: current.organization_id })?;
        Precondition::check(precondition, current.version)?;
        if contracts::in_use(tx, id)? {
            return Err(DomainError::conflict(
                "contract_in_use",
                "programs draw on this contract; move them to another contract (or none) first",
            )
            .into());
        }
        contracts::delete(tx, id)?;
        effects.audit(AuditRecord::new(&caller.ctx, "contract.deleted", RESOURCE, id, Some(current.organization_id)));
        effects.event(DomainEvent::contract(&current, "contract.deleted"));
        Ok(())
    })
}

/// A program's allocation about to change, for [`check_allocation`].
pub(crate) struct Allocation {
    pub drawer: Drawer,
    /// The contract it draws on after the change (None: none, nothing to check).
    pub contract_id: Option<ContractId>,
    /// Its start, which must fall in the contract's period when `new_to_contract`.
    pub start_date: NaiveDate,
    /// What it draws after the change.
    pub after: Draw,
    /// The request field the refusal names.
    pub field: &'static str,
}

/// Whether a program may draw `allocation.after` on its contract (locked, so allocations on
/// one contract are decided one at a time). A program new to the contract must start in its
/// period; one already on it may keep or lower what it holds even on an overdrawn contract.
pub(crate) fn check_allocation(
    tx: &mut DbConnection,
    organization: &Organization,
    allocation: Allocation,
) -> Result<(), StoreError> {
    let Some(id) = allocation.contract_id else { return Ok(()) };
    let contract = match contracts::lock(tx, id)? {
        Some(c) if c.organization_id == organization.id => c,
        _ => {
            let error =
                ValidationErrors::single("contract_id", "not_found", "the organization has no contract with this id");
            return Err(DomainError::Validation(error).into());
        }
    };
    let drawings = contracts::drawings(tx, id, &counted(organization))?;
    let before = drawings.iter().find(|d| d.drawer == allocation.drawer).map(draw_of);
    if before.is_none() {
        contract.check_covers("contract_id", allocation.start_date)?;
    }
    let others: i64 =
        drawings.iter().filter(|d| d.drawer != allocation.drawer).map(|d| draw_of(d).allocated_minutes()).sum();
    let field = if before.is_none() { "contract_id" } else { allocation.field };
    domain::check_draw(
        &contract,
        organization.settings.allow_contract_overdraft,
        others,
        before,
        allocation.after,
        field,
    )?;
    Ok(())
}
