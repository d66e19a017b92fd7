//! Webhook subscriptions: create, list, read, change, delete, rotate the signing secret; and
//! their deliveries: list, re-send. Managed by admins, the organization's hr_partner and its API
//! clients with `webhooks:manage`.
//!
//! Signing secrets are made by the front and handed in, as are the operator's settings
//! (`allow_internal`, the rotation's overlap).

use std::time::Duration;

use keel_domain::audit::AuditRecord;
use keel_domain::outbox::Message;
use keel_domain::page::{Page, PageRequest};
use keel_domain::policy::{self, Action, Visibility};
use keel_domain::webhook::{self, NewWebhook, Webhook, WebhookPatch};
use keel_domain::{DeliveryId, DomainError, OrganizationId, Precondition, ValidationErrors, WebhookId, time};
use keel_persistence::repo::organizations;
use keel_persistence::repo::webhooks::{self, DeliveryFilter, WebhookFilter};
pub use keel_persistence::repo::webhooks::{Attempt, Delivery};
use keel_persistence::{DbConnection, StoreError};

use crate::frame::{self, Caller};

const RESOURCE: &str = "webhook";

fn authorize(caller: &Caller, organization_id: OrganizationId) -> Result<(), StoreError> {
    policy::check(&caller.principal, &Action::ManageWebhooks { organization_id })?;
    Ok(())
}

/// Subscribes `input.url` to events of `organization_id` (by default the caller's own; admins
/// must name it), signed with `secret`.
pub fn create(
    conn: &mut DbConnection,
    caller: &Caller,
    organization_id: Option<OrganizationId>,
    input: NewWebhook,
    secret: String,
    allow_internal: bool,
) -> Result<Webhook, StoreError> {
    let Some(org) = organization_id.or(caller.principal.organization_id()) else {
        let error =
            ValidationErrors::single("organization_id", "required", "name the organization whose events are sent");
        return Err(DomainError::Validation(error).into());
    };
    authorize(caller, org)?;
    let hook = Webhook::create(org, input, secret, allow_internal)?;
    frame::run(conn, |tx, effects| {
        // A missing organization is a 404, not a failed foreign key.
        organizations::get(tx, org)?;
        webhooks::insert(tx, &hook)?;
        let record = AuditRecord::new(&caller.ctx, "webhook.created", RESOURCE, hook.id, Some(org));
        effects.audit(record.with_fields(vec!["url", "event_types", "enabled", "description"]));
        Ok(hook)
    })
}

/// What of `filter` the caller may list: admins everything, the organization's managers their
/// organization's subscriptions (`None` when they ask for another organization's: an empty
/// list); others are refused. A front binds its page cursor to the narrowed filter, so it asks
/// this before it reads the cursor.
pub fn visible(caller: &Caller, mut filter: WebhookFilter) -> Result<Option<WebhookFilter>, StoreError> {
    match policy::webhook_visibility(&caller.principal)? {
        Visibility::All => {}
        Visibility::Organization(own) => match policy::narrow_to_organization(own, filter.organization_id) {
            Some(org) => filter.organization_id = Some(org),
            None => return Ok(None),
        },
        Visibility::OnlySelf(_) => return Ok(None),
    }
    Ok(Some(filter))
}

/// The subscriptions matching `filter` that the caller may see (see [`visible`]), oldest first.
pub fn list(
    conn: &mut DbConnection,
    caller: &Caller,
    filter: WebhookFilter,
    page: PageRequest,
) -> Result<Page<Webhook>, StoreError> {
    match visible(caller, filter)? {
        Some(filter) => webhooks::list(conn, &filter, page),
        None => Ok(Page::empty()),
    }
}

/// The subscription (another organization's is not found).
pub fn get(conn: &mut DbConnection, caller: &Caller, id: WebhookId) -> Result<Webhook, StoreError> {
    let hook = webhooks::get(conn, id)?;
    authorize(caller, hook.organization_id)?;
    Ok(hook)
}

/// The fields a patch sets, for the audit record.
fn changed_fields(patch: &WebhookPatch) -> Vec<&'static str> {
    [
        (patch.url.is_some(), "url"),
        (patch.event_types.is_some(), "event_types"),
        (patch.enabled.is_some(), "enabled"),
        (patch.description.is_some(), "description"),
    ]
    .into_iter()
    .filter_map(|(set, name)| set.then_some(name))
    .collect()
}

/// Changes the subscription's URL, event types, description, or whether it is enabled.
pub fn update(
    conn: &mut DbConnection,
    caller: &Caller,
    id: WebhookId,
    precondition: Option<&Precondition>,
    patch: &WebhookPatch,
    allow_internal: bool,
) -> Result<Webhook, StoreError> {
    frame::run_versioned(conn, precondition, |tx, effects| {
        // The policy decides on the locked row, before If-Match: a caller who may not see the
        // subscription learns nothing from a 412.
        let current = webhooks::lock(tx, id)?;
        authorize(caller, current.organization_id)?;
        Precondition::check(precondition, current.version)?;
        let next = current.update(patch, allow_internal)?;
        webhooks::save(tx, &next, current.version)?;
        let record = AuditRecord::new(&caller.ctx, "webhook.updated", RESOURCE, id, Some(current.organization_id));
        effects.audit(record.with_fields(changed_fields(patch)));
        Ok(next)
    })
}

/// Replaces the signing secret by `secret`; deliveries are also signed with the previous one for
/// `overlap`.
pub fn rotate_secret(
    conn: &mut DbConnection,
    caller: &Caller,
    id: WebhookId,
    secret: String,
    overlap: Duration,
) -> Result<Webhook, StoreError> {
    frame::run_versioned(conn, None, |tx, effects| {
        let current = webhooks::lock(tx, id)?;
        authorize(caller, current.organization_id)?;
        let next = current.rotate_secret(secret.clone(), overlap);
        webhooks::save(tx, &next, current.version)?;
        let org = current.organization_id;
        let record = AuditRecord::new(&caller.ctx, "webhook.secret_rotated", RESOURCE, id, Some(org));
        effects.audit(record.with_fields(vec!["secret"]));
        Ok(next)
    })
}

/// Deletes the subscription with its delivery log; deliveries still queued for it are dropped.
pub fn delete(
    conn: &mut DbConnection,
    caller: &Caller,
    id: WebhookId,
    precondition: Option<&Precondition>,
) -> Result<(), StoreError> {
    frame::run(conn, |tx, effects| {
        let current = webhooks::lock(tx, id)?;
        authorize(caller, current.organization_id)?;
        Precondition::check(precondition, current.version)?;
        webhooks::delete(tx, id)?;
        effects.audit(AuditRecord::new(&caller.ctx, "webhook.deleted", RESOURCE, id, Some(current.organization_id)));
        Ok(())
    })
}

/// A page of the subscription's deliveries, newest first, each with every attempt.
pub fn deliveries(
    conn: &mut DbConnection,
    caller: &Caller,
    id: WebhookId,
    filter: &DeliveryFilter,
    page: PageRequest,
) -> Result<Page<(Delivery, Vec<Attempt>)>, StoreError> {
    get(conn, caller, id)?;
    webhooks::deliveries(conn, id, filter, page)
}

/// Queues a failed delivery again, with the same `webhook-id` (receivers that already processed
/// it can tell); its attempts so far stay in the log. Only failed deliveries of enabled
/// subscriptions are re-sent (409 otherwise).
pub fn resend(
    conn: &mut DbConnection,
    caller: &Caller,
    webhook_id: WebhookId,
    delivery_id: DeliveryId,
) -> Result<(Delivery, Vec<Attempt>), StoreError> {
    frame::run(conn, |tx, effects| {
        let hook = webhooks::lock(tx, webhook_id)?;
        authorize(caller, hook.organization_id)?;
        let current = webhooks::delivery(tx, webhook_id, delivery_id)?;
        webhook::check_resend(current.status(), &hook)?;
        webhooks::requeue(tx, delivery_id, time::now())?;
        effects.queue(Message::Webhook {
            organization_id: hook.organization_id,
            engagement_id: current.engagement_id.as_deref().and_then(|e| e.parse().ok()),
            webhook_id,
            delivery_id,
        });
        let record = AuditRecord::new(
            &caller.ctx,
            "webhook.delivery_resent",
            "webhook_delivery",
            delivery_id,
            Some(hook.organization_id),
        );
        effects.audit(record);
        Ok((webhooks::delivery(tx, webhook_id, delivery_id)?, webhooks::attempts(tx, delivery_id)?))
    })
}
