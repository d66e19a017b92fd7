//! The mail that brings a person a link to a page: from the sign-in page, or a fresh one for a
//! link that was used or expired.

use std::time::Duration;

use keel_domain::outbox::Message;
use keel_domain::pages::PageTarget;
use keel_domain::user::User;

use super::body::Body;
use crate::pages::IssuedLink;

/// How long, in words.
pub fn lasts(ttl: Duration) -> String {
    let minutes = ttl.as_secs() / 60;
    match minutes {
        m if m >= 2 * 1440 => format!("{} days", m / 1440),
        m if m >= 120 => format!("{} hours", m / 60),
        m => format!("{m} minutes"),
    }
}

/// A link to `target` for `user`: asked for on the sign-in page (`sign_in`), or a fresh one for
/// a used or expired link (a sign-in link's is a sign-in link again).
pub fn fresh_link(user: &User, target: PageTarget, sign_in: bool, link: &IssuedLink, ttl: Duration) -> Message {
    let (subject, intro) = match target {
        _ if sign_in => (
            "Your Keel sign-in link".to_owned(),
            "someone (hopefully you) asked to sign in to Keel with this address.".to_owned(),
        ),
        PageTarget::Home => (
            "Your Keel sign-in link".to_owned(),
            "someone (hopefully you) asked to sign in to Keel with this address.".to_owned(),
        ),
        _ => ("Your new Keel link".to_owned(), format!("here is a new link to {}.", target.purpose())),
    };
    let body = Body::new(format!("Hello {},", user.name)).paragraph(intro).action("Sign in to Keel", &link.url).footer(
        format!("The link works once and expires in {}. If you did not ask for it, ignore this email.", lasts(ttl)),
    );
    Message::Email {
        organization_id: user.organization_id,
        engagement_id: target.engagement(),
        email: body.email(user.email.as_str(), subject, vec![link.token.clone()]),
    }
}
