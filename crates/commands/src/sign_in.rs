//! Sign-in links for people: a one-time code mailed to an address, redeemed once within
//! `TOKEN_TTL`. Asking never says whether the address is known.

use keel_domain::audit::{AuditRecord, CommandContext};
use keel_domain::outbox::Message;
use keel_domain::sign_in::TOKEN_TTL;
use keel_domain::time;
use keel_domain::user::{Email, User, UserStatus};
use keel_persistence::repo::{sign_in as tokens, users};
use keel_persistence::{DbConnection, StoreError};

use crate::frame;
use crate::notifications;

/// Mails `token` (stored as `token_hash`) to `email` if it belongs to a user who may sign in by
/// address now: an active user whose address is not on hold after someone else changed it.
/// Anyone else gets nothing, and the caller learns nothing either way.
pub fn request_link(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    email: &Email,
    token: &str,
    token_hash: &str,
    link_base: Option<&str>,
) -> Result<(), StoreError> {
    frame::run(conn, |tx, effects| {
        let now = time::now();
        let Some(user) = users::find_by_email(tx, email.as_str())?.filter(|u| u.may_sign_in(now)) else {
            return Ok(());
        };
        let expires_at = now + chrono::Duration::from_std(TOKEN_TTL).unwrap_or(chrono::Duration::minutes(15));
        tokens::insert(tx, user.id, token_hash, expires_at)?;
        let email = notifications::sign_in::link(&user, token, link_base);
        effects.queue(Message::Email { organization_id: user.organization_id, engagement_id: None, email });
        effects.audit(AuditRecord::new(ctx, "sign_in_link.sent", "user", user.id, user.organization_id));
        Ok(())
    })
}

/// Uses a code: the active user it was issued to, if it exists, is unused and has not expired.
pub fn redeem(conn: &mut DbConnection, token_hash: &str) -> Result<Option<User>, StoreError> {
    let Some(id) = tokens::redeem(conn, token_hash)? else { return Ok(None) };
    Ok(users::find(conn, id)?.filter(|u| u.status == UserStatus::Active))
}
