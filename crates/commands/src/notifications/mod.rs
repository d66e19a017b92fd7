//! Every mail Keel sends, rendered in one place: this module and one file per part of the program
//! beside it (issue 13 moves them here one by one; the rest still live where their command used
//! to be). Commands queue what these functions render; nothing else writes a mail's text.

pub mod designs;
pub mod sessions;
pub mod sign_in;
pub mod stakeholders;

use keel_domain::coaching::Extension;
use keel_domain::engagement::Engagement;
use keel_domain::outbox::{Email, Message};
use keel_domain::user::User;

/// A mail about `engagement`, ordered with the engagement's other messages.
pub(crate) fn about(engagement: &Engagement, email: Email) -> Message {
    Message::Email { organization_id: Some(engagement.organization_id), engagement_id: Some(engagement.id), email }
}

/// To a sponsor: the coach asks for more hours; the sponsor decides.
pub fn extension_requested(sponsor: &User, extension: &Extension, engagement: &Engagement) -> Message {
    let hours = extension.minutes as f64 / 60.0;
    let later_end =
        extension.new_planned_end_date.map(|d| format!(", with the program ending on {d}")).unwrap_or_default();
    let text = format!(
        "Hello {name},\n\nthe coach asks for {hours} more hours in {month}{later_end}.\nReason: {reason}\n\n\
         Decide with POST /v1/engagements/{engagement}/extensions/{extension}/decision {{\"decision\": \"approve\"}} \
         or {{\"decision\": \"decline\"}}.\n",
        name = sponsor.name,
        month = extension.month,
        reason = extension.reason,
        engagement = engagement.id,
        extension = extension.id,
    );
    about(
        engagement,
        Email {
            to: sponsor.email.as_str().to_owned(),
            subject: format!("Extension request for \"{}\": {hours} hours in {}", engagement.title, extension.month),
            text,
            secrets: Vec::new(),
            attachments: Vec::new(),
        },
    )
}
