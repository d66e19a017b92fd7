//! The delivery worker's commands (the system acts): recording a webhook attempt with its
//! consequences. Claiming messages and marking them sent or failed are plain writes of the queue.

use std::time::Duration;

use keel_domain::audit::{Actor, AuditRecord, CommandContext};
use keel_domain::webhook::Webhook;
use keel_domain::{DeliveryId, DomainError, WebhookId};
use keel_persistence::repo::outbox::{self, Claimed};
use keel_persistence::repo::users;
use keel_persistence::repo::webhooks::{self, AttemptResult, Next};
use keel_persistence::{DbConnection, StoreError};

use crate::frame::{self, Effects};
use crate::notifications;

/// One attempt of a webhook delivery, as the worker made it.
#[derive(Debug)]
pub struct WebhookAttempt<'a> {
    /// The outbox message the attempt belongs to.
    pub claimed: &'a Claimed,
    pub webhook_id: WebhookId,
    pub delivery_id: DeliveryId,
    pub result: &'a AttemptResult,
    /// What the worker decided follows (retry or give up, for a failure).
    pub next: Next,
    /// A subscription whose deliveries have failed this long is disabled.
    pub disable_after: Duration,
}

/// Records `attempt` and its consequences in one transaction: the attempt's log entry, the
/// delivery's status, the subscription's run of failures (disabling it, audited as the system
/// and mailed to the organization's active hr_partners, once deliveries have failed for
/// `disable_after`) and the outbox message's outcome. Returns the subscription when this attempt
/// disabled it.
pub fn record_webhook_attempt(
    conn: &mut DbConnection,
    attempt: &WebhookAttempt<'_>,
) -> Result<Option<Webhook>, StoreError> {
    let WebhookAttempt { claimed, webhook_id, delivery_id, result, disable_after, .. } = *attempt;
    frame::run(conn, |tx, effects| {
        // Deleting the subscription deleted the delivery with it.
        let hook = match webhooks::lock(tx, webhook_id) {
            Err(StoreError::Domain(DomainError::NotFound { .. })) => {
                outbox::mark_failed(tx, &claimed.id, "the subscription was deleted", None)?;
                return Ok(None);
            }
            other => other?,
        };
        webhooks::insert_attempt(tx, delivery_id, result)?;
        let mut disabled = None;
        let next = match attempt.next {
            Next::Delivered => {
                if let Some(healthy) = hook.after_success() {
                    // System bookkeeping, not an edit: the version (and ETag) stays.
                    webhooks::save(tx, &healthy, hook.version)?;
                }
                Next::Delivered
            }
            failed => {
                let (after, now_disabled) = hook.after_failure(result.attempted_at, disable_after);
                webhooks::save(tx, &after, hook.version)?;
                if now_disabled {
                    announce_disabled(tx, effects, &after)?;
                    disabled = Some(after);
                    Next::GiveUp
                } else {
                    failed
                }
            }
        };
        webhooks::set_attempted(tx, delivery_id, result, next)?;
        let error = result.error.as_deref().unwrap_or("failed");
        match next {
            Next::Delivered => outbox::mark_delivered(tx, claimed)?,
            Next::RetryAt(when) => outbox::mark_failed(tx, &claimed.id, error, Some(when))?,
            Next::GiveUp => outbox::mark_failed(tx, &claimed.id, error, None)?,
        }
        Ok(disabled)
    })
}

/// The audit record (actor `system`) and the mail to each active hr_partner of a subscription the
/// system just disabled.
fn announce_disabled(conn: &mut DbConnection, effects: &mut Effects, hook: &Webhook) -> Result<(), StoreError> {
    let ctx = CommandContext { actor: Actor::System, request_id: format!("webhook-delivery-{}", hook.id) };
    let record = AuditRecord::new(&ctx, "webhook.disabled", "webhook", hook.id, Some(hook.organization_id));
    effects.audit(record.with_fields(vec!["enabled", "disabled_reason"]));
    let partners = users::active_hr_partners(conn, hook.organization_id)?;
    if partners.is_empty() {
        tracing::warn!(webhook = %hook.id, "webhook disabled; the organization has no active hr_partner to tell");
    }
    for partner in &partners {
        effects.queue(notifications::webhooks::disabled(partner, hook));
    }
    Ok(())
}
