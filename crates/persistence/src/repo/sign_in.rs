//! One-time sign-in tokens, stored as hashes.

use diesel::prelude::*;
use keel_domain::UserId;
use keel_domain::time::{self, Timestamp};

use crate::connection::{DbConnection, write_transaction};
use crate::error::StoreError;
use crate::rows::to_db_time;
use crate::schema::sign_in_tokens;

/// Stores a token hash for `user`.
pub fn insert(
    conn: &mut DbConnection,
    user: UserId,
    token_hash: &str,
    expires_at: Timestamp,
) -> Result<(), StoreError> {
    diesel::insert_into(sign_in_tokens::table)
        .values((
            sign_in_tokens::token_hash.eq(token_hash),
            sign_in_tokens::user_id.eq(user.to_string()),
            sign_in_tokens::created_at.eq(to_db_time(time::now())),
            sign_in_tokens::expires_at.eq(to_db_time(expires_at)),
        ))
        .execute(conn)?;
    Ok(())
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
