//! Mail about the program design: a submitted version asks the leader and every sponsor for their
//! decision, with a link to the page where they review and decide.

use keel_domain::engagement::Engagement;
use keel_domain::outbox::Message;
use keel_domain::user::User;

use super::about;
use super::body::Body;
use super::pages::lasts;
use crate::pages::IssuedLink;

/// To the leader or a sponsor: version `version` of the design awaits their decision.
pub fn decision_requested(
    approver: &User,
    engagement: &Engagement,
    version: i32,
    link: &IssuedLink,
    ttl: std::time::Duration,
) -> Message {
    let body = Body::new(format!("Hello {},", approver.name))
        .paragraph(format!(
            "version {version} of the program design of \"{}\" is ready for your review. \
             Read what the assessment found, the outcomes and the program, then approve it or ask for changes.",
            engagement.title
        ))
        .action("Review the design", &link.url)
        .footer(format!("The link signs you in to Keel; it works once and expires in {}.", lasts(ttl)));
    let subject = format!("Program design v{version} awaits your decision");
    about(engagement, body.email(approver.email.as_str(), subject, vec![link.token.clone()]))
}
