//! The mail of sign-in: the one-time link, and the notice to a person's address after someone
//! else re-addressed their account (SPEC §1).

use keel_domain::outbox::Email;
use keel_domain::sign_in::TOKEN_TTL;
use keel_domain::user::User;

/// The sign-in email for `user` carrying `token`; `link_base`, when set, is the page of the
/// organization's front end that redeems it (`?token=` is appended).
pub fn link(user: &User, token: &str, link_base: Option<&str>) -> Email {
    let minutes = TOKEN_TTL.as_secs() / 60;
    let link = link_base
        .filter(|base| !base.is_empty())
        .map(|base| {
            let separator = if base.contains('?') { '&' } else { '?' };
            format!("Sign in:\n\n    {base}{separator}token={token}\n\n")
        })
        .unwrap_or_default();
    let text = format!(
        "Hello {name},\n\n\
         someone (hopefully you) asked to sign in to Keel with this address.\n\n\
         {link}\
         Your one-time sign-in code is:\n\n    {token}\n\n\
         Exchange it for an access token with POST /v1/auth/sign-in-links/redeem {{\"token\": \"<code>\"}}.\n\
         It works once and expires in {minutes} minutes. If you did not ask for it, ignore this email.\n",
        name = user.name,
    );
    Email {
        to: user.email.as_str().to_owned(),
        subject: "Your Keel sign-in link".to_owned(),
        text,
        secrets: vec![token.to_owned()],
        attachments: Vec::new(),
    }
}

/// The notice to a person's address as it was, after someone else gave the account a new address
/// or identity-provider subject (SPEC §1): so that a re-addressed account cannot be entered
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
    let hold = match after.sign_in_hold_until {
        Some(until) => {
            format!("Nobody can sign in to the account this way before {} (UTC).\n", until.format("%Y-%m-%d %H:%M"))
        }
        None => String::new(),
    };
    let text = format!(
        "Hello {name},\n\n\
         {what} by your organization's administrator or HR system.\n\
         {hold}\n\
         If you did not expect this, tell your HR partner or the coaching provider now.\n",
        name = before.name,
        what = what.join(", and "),
    );
    Email {
        to: before.email.as_str().to_owned(),
        subject: "Your Keel sign-in address was changed".to_owned(),
        text,
        secrets: Vec::new(),
        attachments: Vec::new(),
    }
}
