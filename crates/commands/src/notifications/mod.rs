//! Every mail Keel sends, rendered in one place: one file per part of the program (sign-in and
//! re-addressing, rater invitations, design decisions, extension requests, session calendar
//! updates, webhook subscriptions disabled). Commands queue what these functions render; nothing
//! else writes a mail's text. Each is plain text today, built so that an HTML part and links to
//! the pages can be added in one place.

pub mod designs;
pub mod extensions;
pub mod sessions;
pub mod sign_in;
pub mod stakeholders;
pub mod webhooks;

use keel_domain::engagement::Engagement;
use keel_domain::outbox::{Email, Message};

/// A mail about `engagement`, ordered with the engagement's other messages.
pub(crate) fn about(engagement: &Engagement, email: Email) -> Message {
    Message::Email { organization_id: Some(engagement.organization_id), engagement_id: Some(engagement.id), email }
}
