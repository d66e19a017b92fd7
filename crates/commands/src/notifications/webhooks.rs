//! The mail of webhook subscriptions: the notice to an organization's hr_partners when Keel
//! disables a subscription whose deliveries have failed for too long.

use keel_domain::outbox::{Email, Message};
use keel_domain::user::User;
use keel_domain::webhook::Webhook;

/// The mail to an organization's hr_partner when Keel disables a failing subscription.
pub fn disabled(hr_partner: &User, webhook: &Webhook) -> Message {
    let email = Email {
        to: hr_partner.email.as_str().to_owned(),
        subject: "A Keel webhook subscription was disabled".to_owned(),
        text: format!(
            "Hello {name},\n\nKeel disabled the webhook subscription {id} ({url}): {reason}.\n\n\
             Events are no longer sent to it. The deliveries and each attempt's response are listed by\n\
             GET /v1/webhooks/{id}/deliveries. Once the receiver works again, enable the subscription with\n\
             PATCH /v1/webhooks/{id} {{\"enabled\": true}} and re-send the failed deliveries with\n\
             POST /v1/webhooks/{id}/deliveries/{{delivery_id}}/resend.\n",
            name = hr_partner.name,
            id = webhook.id,
            url = webhook.url,
            reason = webhook.disabled_reason.as_deref().unwrap_or("deliveries kept failing"),
        ),
        secrets: Vec::new(),
        attachments: Vec::new(),
    };
    Message::Email { organization_id: Some(webhook.organization_id), engagement_id: None, email }
}
