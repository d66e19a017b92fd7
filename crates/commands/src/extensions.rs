//! Extensions (change orders): the coach asks for more hours (and optionally a later end), every
//! sponsor is emailed, and a sponsor approves or declines once. An approval raises the named
//! month's budget and, when asked, moves the planned end.

use chrono::NaiveDate;
use keel_domain::audit::AuditRecord;
use keel_domain::coaching::Extension;
use keel_domain::contract::Draw;
use keel_domain::engagement::Engagement;
use keel_domain::event::DomainEvent;
use keel_domain::pages::PageTarget;
use keel_domain::policy::{self, Part};
use keel_domain::user::UserStatus;
use keel_domain::{EngagementId, ExtensionId};
use keel_persistence::repo::contracts::Drawer;
use keel_persistence::repo::{engagements, extensions, organizations, users};
use keel_persistence::{DbConnection, StoreError};

use crate::contracts::Allocation;
use crate::frame::{self, Caller, Effects};
use crate::notifications;
use crate::pages::{self, Links};
use crate::program::readable;

/// An extension as the coach asks for it.
#[derive(Clone, Debug)]
pub struct ExtensionInput {
    pub hours: f64,
    pub month: String,
    pub new_planned_end_date: Option<NaiveDate>,
    pub reason: String,
}

fn audit(effects: &mut Effects, caller: &Caller, action: &'static str, engagement: &Engagement, id: ExtensionId) {
    effects.audit(AuditRecord::new(&caller.ctx, action, "extension", id, Some(engagement.organization_id)));
}

pub fn list(
    conn: &mut DbConnection,
    caller: &Caller,
    engagement_id: EngagementId,
) -> Result<Vec<Extension>, StoreError> {
    readable(conn, caller, engagement_id, Part::Sessions)?;
    extensions::list(conn, engagement_id)
}

/// One extension request, for those who read the engagement's hours.
pub fn get(
    conn: &mut DbConnection,
    caller: &Caller,
    (engagement_id, extension_id): (EngagementId, ExtensionId),
) -> Result<Extension, StoreError> {
    readable(conn, caller, engagement_id, Part::Sessions)?;
    extensions::find(conn, engagement_id, extension_id)
}

/// The coach asks for more hours; every sponsor is mailed.
pub fn request(
    conn: &mut DbConnection,
    caller: &Caller,
    engagement_id: EngagementId,
    input: &ExtensionInput,
    links: &Links,
) -> Result<Extension, StoreError> {
    frame::run(conn, |tx, effects| {
        let engagement = engagements::get_for_update(tx, engagement_id)?;
        policy::check_part(&caller.principal, &engagement, Part::Sessions, true)?;
        let extension = Extension::request(
            &engagement,
            input.hours,
            Some(&input.month),
            input.new_planned_end_date,
            &input.reason,
        )?;
        extensions::insert(tx, &engagement, &extension)?;
        audit(effects, caller, "extension.requested", &engagement, extension.id);
        effects.event(DomainEvent::extension_requested(&engagement, extension.id, extension.minutes));
        for sponsor in &engagement.sponsor_ids {
            if let Some(user) = users::find(tx, *sponsor)?.filter(|u| u.status == UserStatus::Active) {
                let target = PageTarget::Extension(engagement_id, extension.id);
                let link = pages::issue(tx, links, &user, target, links.ttl)?;
                effects.queue(notifications::extensions::requested(&user, &extension, &engagement, &link, links.ttl));
            }
        }
        Ok(extension)
    })
}

/// A sponsor approves or declines, once. An approval with a new planned end moves the end.
pub fn decide(
    conn: &mut DbConnection,
    caller: &Caller,
    (engagement_id, extension_id): (EngagementId, ExtensionId),
    approve: bool,
    comment: Option<&str>,
) -> Result<Extension, StoreError> {
    frame::run(conn, |tx, effects| {
        let engagement = engagements::get_for_update(tx, engagement_id)?;
        let sponsor = policy::check_sponsor(&caller.principal, &engagement)?;
        let next = extensions::find(tx, engagement_id, extension_id)?.decide(sponsor, approve, comment)?;
        let after = next.moved_end(&engagement);
        if approve && engagement.contract_id.is_some() {
            // Checked before the decision is written: what the program holds now, from the
            // stored rows, against what it would hold with these minutes and this end.
            let organization = organizations::get(tx, engagement.organization_id)?;
            let planned =
                Draw::from_ledger(&crate::sessions::ledger_of(tx, after.as_ref().unwrap_or(&engagement))?, false);
            let allocation = Allocation {
                drawer: Drawer::Engagement(engagement.id),
                contract_id: engagement.contract_id,
                start_date: engagement.start_date,
                after: Draw { extension_minutes: planned.extension_minutes + next.minutes, ..planned },
                field: "decision",
            };
            crate::contracts::check_allocation(tx, &organization, allocation)?;
        }
        extensions::save_decision(tx, &next)?;
        if let Some(moved) = &after {
            engagements::save(tx, moved, engagement.version)?;
        }
        audit(effects, caller, "extension.decided", &engagement, extension_id);
        effects.event(DomainEvent::extension_decided(&engagement, extension_id, next.status.as_str()));
        Ok(next)
    })
}
