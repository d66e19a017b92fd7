//! Every mail Keel sends, rendered in one place: one file per part of the program (sign-in and
//! re-addressing, rater invitations, design decisions, extension requests, session calendar
//! updates, webhook subscriptions disabled, links to the pages). Commands queue what these
//! functions render; nothing else writes a mail's text. Every mail is described once as a
//! [`body::Body`] and rendered from it as a text part and an HTML part (one template), and every
//! mail that asks someone to act carries a link to the page where they act.

pub mod body;
pub mod designs;
pub mod extensions;
pub mod pages;
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
