//! Sign-in links for people (their mail is rendered in keel-commands' notifications).

use std::time::Duration;

/// How long a sign-in token can be redeemed.
pub const TOKEN_TTL: Duration = Duration::from_secs(15 * 60);
