//! The mail of extensions: the request to each sponsor, with a link to the page where they decide.

use keel_domain::coaching::Extension;
use keel_domain::engagement::Engagement;
use keel_domain::outbox::Message;
use keel_domain::user::User;

use super::about;
use super::body::Body;
use super::pages::lasts;
use crate::pages::IssuedLink;

/// To a sponsor: the coach asks for more hours; the sponsor decides on the page `link` opens.
pub fn requested(
    sponsor: &User,
    extension: &Extension,
    engagement: &Engagement,
    link: &IssuedLink,
    ttl: std::time::Duration,
) -> Message {
    let hours = extension.minutes as f64 / 60.0;
    let later_end =
        extension.new_planned_end_date.map(|d| format!(", with the program ending on {d}")).unwrap_or_default();
    let body = Body::new(format!("Hello {},", sponsor.name))
        .paragraph(format!(
            "the coach of \"{title}\" asks for {hours} more hours in {month}{later_end}.",
            title = engagement.title,
            month = extension.month,
        ))
        .paragraph(format!("Reason: {}", extension.reason))
        .action("Review and decide", &link.url)
        .footer(format!("The link signs you in to Keel; it works once and expires in {}.", lasts(ttl)));
    let subject = format!("Extension request for \"{}\": {hours} hours in {}", engagement.title, extension.month);
    about(engagement, body.email(sponsor.email.as_str(), subject, vec![link.token.clone()]))
}
