//! Mail about the program design: a submitted version asks the leader and every sponsor for their
//! decision.

use keel_domain::engagement::Engagement;
use keel_domain::outbox::{Email, Message};
use keel_domain::user::User;

use super::about;

/// To the leader or a sponsor: version `version` of the design awaits their decision.
pub fn decision_requested(approver: &User, engagement: &Engagement, version: i32) -> Message {
    let text = format!(
        "Hello {name},\n\nversion {version} of the program design of \"{title}\" is ready for your review.\n\
         Read it with GET /v1/engagements/{id}/designs/{version} and decide with\n\
         POST /v1/engagements/{id}/designs/{version}/decisions {{\"decision\": \"approve\"}} \
         or {{\"decision\": \"request_changes\", \"comment\": \"…\"}}.\n",
        name = approver.name,
        title = engagement.title,
        id = engagement.id,
    );
    about(
        engagement,
        Email {
            to: approver.email.as_str().to_owned(),
            subject: format!("Program design v{version} awaits your decision"),
            text,
            secrets: Vec::new(),
            attachments: Vec::new(),
        },
    )
}
