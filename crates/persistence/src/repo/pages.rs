//! The pages' links and browser sessions, stored by the hash of their token.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use keel_domain::pages::{PageLink, PageTarget};
use keel_domain::time::Timestamp;
use keel_domain::user::User;
use keel_domain::{OrganizationId, UserId};

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::rows::{corrupt, from_db_time, to_db_time};
use crate::schema::{page_links, web_sessions};

/// Stores a link for `user` to `target`.
pub fn insert_link(
    conn: &mut DbConnection,
    token_hash: &str,
    user: &User,
    target: PageTarget,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<(), StoreError> {
    diesel::insert_into(page_links::table)
        .values((
            page_links::token_hash.eq(token_hash),
            page_links::user_id.eq(user.id.to_string()),
            page_links::organization_id.eq(user.organization_id.map(|id| id.to_string())),
            page_links::engagement_id.eq(target.engagement().map(|id| id.to_string())),
            page_links::target.eq(target.path()),
            page_links::created_at.eq(to_db_time(now)),
            page_links::expires_at.eq(to_db_time(expires_at)),
        ))
        .execute(conn)?;
    Ok(())
}

type LinkRow = (String, String, NaiveDateTime, Option<NaiveDateTime>);

/// The link with this token hash, used or not, with its person.
pub fn find_link(conn: &mut DbConnection, token_hash: &str) -> Result<Option<PageLink>, StoreError> {
    let row: Option<LinkRow> = super::optional(
        page_links::table
            .find(token_hash)
            .select((page_links::user_id, page_links::target, page_links::expires_at, page_links::used_at))
            .first(conn),
    )?;
    let Some((user_id, target, expires_at, used_at)) = row else { return Ok(None) };
    let user_id: UserId = user_id.parse().map_err(|_| corrupt("user id", &user_id))?;
    let target = PageTarget::parse(&target).ok_or_else(|| corrupt("page target", &target))?;
    let Some(user) = super::users::find(conn, user_id)? else { return Ok(None) };
    Ok(Some(PageLink { user, target, expires_at: from_db_time(expires_at), used_at: used_at.map(from_db_time) }))
}

/// Uses the link up if it is still open at `now`; whether this call did (a link is used once,
/// even by concurrent requests: the update is conditional).
pub fn use_link(conn: &mut DbConnection, token_hash: &str, now: Timestamp) -> Result<bool, StoreError> {
    let now = to_db_time(now);
    let used = diesel::update(
        page_links::table
            .filter(page_links::token_hash.eq(token_hash))
            .filter(page_links::used_at.is_null())
            .filter(page_links::expires_at.gt(now)),
    )
    .set(page_links::used_at.eq(now))
    .execute(conn)?;
    Ok(used == 1)
}

/// Starts a browser session for `user`.
pub fn insert_session(
    conn: &mut DbConnection,
    token_hash: &str,
    user_id: UserId,
    organization_id: Option<OrganizationId>,
    csrf_token: &str,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<(), StoreError> {
    diesel::insert_into(web_sessions::table)
        .values((
            web_sessions::token_hash.eq(token_hash),
            web_sessions::user_id.eq(user_id.to_string()),
            web_sessions::organization_id.eq(organization_id.map(|id| id.to_string())),
            web_sessions::csrf_token.eq(csrf_token),
            web_sessions::created_at.eq(to_db_time(now)),
            web_sessions::expires_at.eq(to_db_time(expires_at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// The person of an unexpired session and its form token.
pub fn find_session(
    conn: &mut DbConnection,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<(UserId, String)>, StoreError> {
    let row: Option<(String, String)> = super::optional(
        web_sessions::table
            .find(token_hash)
            .filter(web_sessions::expires_at.gt(to_db_time(now)))
            .select((web_sessions::user_id, web_sessions::csrf_token))
            .first(conn),
    )?;
    row.map(|(user_id, csrf)| Ok((user_id.parse().map_err(|_| corrupt("user id", &user_id))?, csrf))).transpose()
}

/// Ends a session (signing out); whether there was one.
pub fn delete_session(conn: &mut DbConnection, token_hash: &str) -> Result<bool, StoreError> {
    Ok(diesel::delete(web_sessions::table.find(token_hash)).execute(conn)? == 1)
}
