//! The mail of sign-in: the one-time code asked for through the API, and the notice to a
//! person's address after someone else re-addressed their account (docs/access.md, people). (The sign-in page's
//! link is a page link: see [`super::pages`].)

use keel_domain::outbox::Email;
use keel_domain::sign_in::TOKEN_TTL;
use keel_domain::user::User;

use super::body::Body;

/// The sign-in email for `user` carrying `token`; `link_base`, when set, is the page of the
/// organization's front end that redeems it (`?token=` is appended).
pub fn link(user: &User, token: &str, link_base: Option<&str>) -> Email {
    let minutes = TOKEN_TTL.as_secs() / 60;
    let mut body = Body::new(format!("Hello {},", user.name))
        .paragraph("someone (hopefully you) asked to sign in to Keel with this address.");
    if let Some(base) = link_base.filter(|base| !base.is_empty()) {
        let separator = if base.contains('?') { '&' } else { '?' };
        body = body.action("Sign in", format!("{base}{separator}token={token}"));
    }
    let body = body
        .paragraph(format!("Your one-time sign-in code is:\n\n    {token}"))
        .paragraph("Exchange it for an access token with POST /v1/auth/sign-in-links/redeem {\"token\": \"<code>\"}.")
        .footer(format!(
            "It works once and expires in {minutes} minutes. If you did not ask for it, ignore this email."
        ));
    body.email(user.email.as_str(), "Your Keel sign-in link", vec![token.to_owned()])
}

/// The notice to a person's address as it was, after someone else gave the account a new address
/// or identity-provider subject (docs/access.md, people): so that a re-addressed account cannot be entered
/// quietly.
pub fn reidentified_email(before: &User, after: &User) -> Email {
    let mut what = Vec::new();
    if after.email.normalized() != before.email.normalized() {
        what.push(format!(
            "the address you sign in to Keel with was changed from {} to {}",
            before.email.as_str(),
            after.email.as_str()
        ));
    }
    if after.external_id.is_some() && after.external_id != before.external_id {
        what.push("your Keel account was linked to another identity-provider account".to_owned());
    }
    let mut body = Body::new(format!("Hello {},", before.name))
        .paragraph(format!("{} by your organization's administrator or HR system.", what.join(", and ")));
    if let Some(until) = after.sign_in_hold_until {
        body = body.paragraph(format!(
            "Nobody can sign in to the account this way before {} (UTC).",
            until.format("%Y-%m-%d %H:%M")
        ));
    }
    let body = body.paragraph("If you did not expect this, tell your HR partner or the coaching provider now.");
    body.email(before.email.as_str(), "Your Keel sign-in address was changed", Vec::new())
}
