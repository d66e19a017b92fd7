//! Messages to deliver after a change commits (the transactional outbox), and how delivery is
//! retried.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::id::{DeliveryId, EngagementId, OrganizationId, WebhookId};

/// An email, fully rendered when it is enqueued so that the outbox holds exactly what is sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    /// The HTML alternative of the text (the same content, with the action as a button).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// Parts of the text that are secrets (e.g. a sign-in token): removed from the stored copy
    /// once the mail is delivered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<String>,
    /// Files sent with the mail (e.g. a calendar invitation).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub content: String,
}

impl Email {
    /// The copy kept after delivery: secrets replaced.
    pub fn redacted(&self) -> Email {
        let mut text = self.text.clone();
        let mut html = self.html.clone();
        for secret in &self.secrets {
            text = text.replace(secret, "[redacted]");
            html = html.map(|h| h.replace(secret, "[redacted]"));
        }
        Email { text, html, secrets: Vec::new(), ..self.clone() }
    }
}

/// The delivery lane of every mail.
pub const MAIL_LANE: &str = "mail";

/// A message for the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// `engagement_id` orders delivery: the messages of one engagement go out in the order they
    /// were queued (a later one waits while an earlier one is being retried).
    Email { organization_id: Option<OrganizationId>, engagement_id: Option<EngagementId>, email: Email },
    /// A webhook delivery (its body and target are in the delivery's row). Ordered per
    /// subscription and engagement: a receiver gets an engagement's events in order, and one
    /// failing receiver holds up neither the mail nor other receivers.
    Webhook {
        organization_id: OrganizationId,
        engagement_id: Option<EngagementId>,
        webhook_id: WebhookId,
        delivery_id: DeliveryId,
    },
}

impl Message {
    /// Every kind of message, so the queue's metrics show each (at zero when empty).
    pub const KINDS: &'static [&'static str] = &["email", "webhook"];

    pub fn kind(&self) -> &'static str {
        match self {
            Message::Email { .. } => "email",
            Message::Webhook { .. } => "webhook",
        }
    }

    /// The share of the delivery worker the message waits in: all mail in one lane, each webhook
    /// subscription in its own, so a slow receiver holds up neither the mail nor other receivers.
    pub fn lane(&self) -> String {
        match self {
            Message::Email { .. } => MAIL_LANE.to_owned(),
            Message::Webhook { webhook_id, .. } => format!("webhook:{webhook_id}"),
        }
    }

    /// Messages with the same key are delivered one at a time, in the order they were queued.
    pub fn ordering_key(&self) -> Option<String> {
        match self {
            Message::Email { engagement_id, .. } => engagement_id.map(|id| format!("engagement:{id}")),
            Message::Webhook { engagement_id, webhook_id, .. } => {
                engagement_id.map(|id| format!("webhook:{webhook_id}:engagement:{id}"))
            }
        }
    }
}

/// Retry policy: exponential back-off from `base`, capped at `max_delay`, given up after
/// `max_attempts` (the defaults retry for about a day).
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    pub base: Duration,
    pub max_delay: Duration,
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { base: Duration::from_secs(2), max_delay: Duration::from_secs(3600), max_attempts: 36 }
    }
}

impl RetryPolicy {
    /// The delay before the next try after `attempts` failed ones (`jitter` in 0..1 spreads
    /// retries of many messages apart); `None` once it is time to give up.
    pub fn next_delay(&self, attempts: u32, jitter: f64) -> Option<Duration> {
        if attempts >= self.max_attempts {
            return None;
        }
        let exponent = attempts.saturating_sub(1).min(30);
        let delay = self.base.saturating_mul(1u32 << exponent).min(self.max_delay);
        Some(delay.mul_f64(1.0 + jitter.clamp(0.0, 1.0) * 0.25))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_then_caps_then_gives_up() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.next_delay(1, 0.0), Some(Duration::from_secs(2)));
        assert_eq!(policy.next_delay(2, 0.0), Some(Duration::from_secs(4)));
        assert_eq!(policy.next_delay(20, 0.0), Some(Duration::from_secs(3600)));
        assert_eq!(policy.next_delay(36, 0.0), None);
        let total: Duration = (1..36).filter_map(|n| policy.next_delay(n, 0.0)).sum();
        assert!(total > Duration::from_secs(20 * 3600) && total < Duration::from_secs(36 * 3600), "{total:?}");
    }

    #[test]
    fn secrets_are_redacted_after_delivery() {
        let email = Email {
            to: "a@b.c".into(),
            subject: "s".into(),
            text: "code: abc123".into(),
            html: Some("<a href=\"/l/abc123\">go</a>".into()),
            secrets: vec!["abc123".into()],
            attachments: Vec::new(),
        };
        assert_eq!(email.redacted().text, "code: [redacted]");
        assert_eq!(email.redacted().html.as_deref(), Some("<a href=\"/l/[redacted]\">go</a>"));
    }
}
