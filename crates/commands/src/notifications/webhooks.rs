//! The mail of webhook subscriptions: the notice to an organization's hr_partners when Keel
//! disables a subscription whose deliveries have failed for too long.

use keel_domain::outbox::Message;
use keel_domain::user::User;
use keel_domain::webhook::Webhook;

use super::body::Body;

/// The mail to an organization's hr_partner when Keel disables a failing subscription.
pub fn disabled(hr_partner: &User, webhook: &Webhook) -> Message {
    let id = webhook.id;
    let body = Body::new(format!("Hello {},", hr_partner.name))
        .paragraph(format!(
            "Keel disabled the webhook subscription {id} ({url}): {reason}.",
            url = webhook.url,
            reason = webhook.disabled_reason.as_deref().unwrap_or("deliveries kept failing"),
        ))
        .paragraph(format!(
            "Events are no longer sent to it. The deliveries and each attempt's response are listed by \
             GET /v1/webhooks/{id}/deliveries. Once the receiver works again, enable the subscription with \
             PATCH /v1/webhooks/{id} {{\"enabled\": true}} and re-send the failed deliveries with \
             POST /v1/webhooks/{id}/deliveries/{{delivery_id}}/resend."
        ));
    let email = body.email(hr_partner.email.as_str(), "A Keel webhook subscription was disabled", Vec::new());
    Message::Email { organization_id: Some(webhook.organization_id), engagement_id: None, email }
}
