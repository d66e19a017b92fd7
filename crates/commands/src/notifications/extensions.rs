//! The mail of extensions: the request to each sponsor.

use keel_domain::coaching::Extension;
use keel_domain::engagement::Engagement;
use keel_domain::outbox::{Email, Message};
use keel_domain::user::User;

use super::about;

/// To a sponsor: the coach asks for more hours; the sponsor decides.
pub fn requested(sponsor: &User, extension: &Extension, engagement: &Engagement) -> Message {
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
