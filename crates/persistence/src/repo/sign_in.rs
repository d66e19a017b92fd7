//! One-time sign-in tokens (stored as hashes) and the mail that carries them.

use diesel::prelude::*;
use keel_domain::UserId;
use keel_domain::audit::{AuditRecord, CommandContext};
use keel_domain::outbox::Message;
use keel_domain::time::{self, Timestamp};

use crate::connection::{DbConnection, write_transaction};
use crate::error::StoreError;
use crate::repo::{audit, outbox};
use crate::rows::to_db_time;
use crate::schema::sign_in_tokens;

/// Stores a token hash for `user` and enqueues the mail, in one transaction.
pub fn issue(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    user: &keel_domain::user::User,
    token_hash: &str,
    expires_at: Timestamp,
    mail: &Message,
) -> Result<(), StoreError> {
    write_transaction(conn, |conn| {
        diesel::insert_into(sign_in_tokens::table)
            .values((
                sign_in_tokens::token_hash.eq(token_hash),
                sign_in_tokens::user_id.eq(user.id.to_string()),
                sign_in_tokens::created_at.eq(to_db_time(time::now())),
                sign_in_tokens::expires_at.eq(to_db_time(expires_at)),
            ))
            .execute(conn)?;
        outbox::enqueue(conn, mail)?;
        audit::append(conn, &AuditRecord::new(ctx, "sign_in_link.sent", "user", user.id, user.organization_id))?;
        Ok(())
    })
}

/// Uses the token: the user it was issued to, if it exists, is unused and has not expired. A
/// token can be redeemed once, even by concurrent requests (the update is conditional).
pub fn redeem(conn: &mut DbConnection, token_hash: &str) -> Result<Option<UserId>, StoreError> {
    let now = to_db_time(time::now());
    write_transaction(conn, |conn| {
        let used = diesel::update(
            sign_in_tokens::table
                .filter(sign_in_tokens::token_hash.eq(token_hash))
                .filter(sign_in_tokens::used_at.is_null())
                .filter(sign_in_tokens::expires_at.gt(now)),
        )
        .set(sign_in_tokens::used_at.eq(now))
        .execute(conn)?;
        if used != 1 {
            return Ok(None);
        }
        let user_id: String = sign_in_tokens::table.find(token_hash).select(sign_in_tokens::user_id).first(conn)?;
        Ok(user_id.parse().ok())
    })
}
