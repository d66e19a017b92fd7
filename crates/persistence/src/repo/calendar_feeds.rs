//! Calendar feeds (docs/calendar.md): a person's feed secret, kept as its hash, and the programs
//! whose sessions the feed lists.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use keel_domain::time::Timestamp;
use keel_domain::{EngagementId, GroupId, UserId};

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::rows::{corrupt, from_db_time, to_db_time};
use crate::schema::{calendar_feeds, coaching_groups, engagement_sponsors, engagements, group_members};

/// When the person's feed address was made (or last rotated), if they have one.
pub fn find(conn: &mut DbConnection, user: UserId) -> Result<Option<Timestamp>, StoreError> {
    let found: Option<NaiveDateTime> =
        super::optional(calendar_feeds::table.find(user.to_string()).select(calendar_feeds::created_at).first(conn))?;
    Ok(found.map(from_db_time))
}

/// The person whose feed secret hashes to `hash`, with when the address was made.
pub fn find_by_hash(conn: &mut DbConnection, hash: &str) -> Result<Option<(UserId, Timestamp)>, StoreError> {
    let found: Option<(String, NaiveDateTime)> = super::optional(
        calendar_feeds::table
            .filter(calendar_feeds::token_hash.eq(hash))
            .select((calendar_feeds::user_id, calendar_feeds::created_at))
            .first(conn),
    )?;
    found.map(|(user, at)| Ok((user.parse().map_err(|_| corrupt("user id", &user))?, from_db_time(at)))).transpose()
}

/// Sets the person's feed secret: a new address, or a rotated one (the old stops at once).
pub fn put(conn: &mut DbConnection, user: UserId, hash: &str, at: Timestamp) -> Result<(), StoreError> {
    diesel::delete(calendar_feeds::table.find(user.to_string())).execute(conn)?;
    diesel::insert_into(calendar_feeds::table)
        .values((
            calendar_feeds::user_id.eq(user.to_string()),
            calendar_feeds::token_hash.eq(hash),
            calendar_feeds::created_at.eq(to_db_time(at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Removes the person's feed; whether there was one.
pub fn delete(conn: &mut DbConnection, user: UserId) -> Result<bool, StoreError> {
    Ok(diesel::delete(calendar_feeds::table.find(user.to_string())).execute(conn)? == 1)
}

/// At most this many programs of one person are listed (the newest first).
pub const PROGRAMS_MAX: i64 = 500;

/// The engagements the person has a part in (leader, coach, sponsor, named hr_partner), newest
/// first.
pub fn engagements_of(conn: &mut DbConnection, user: UserId) -> Result<Vec<EngagementId>, StoreError> {
    let me = user.to_string();
    let sponsored = engagement_sponsors::table
        .filter(engagement_sponsors::user_id.eq(&me))
        .select(engagement_sponsors::engagement_id);
    let ids: Vec<String> = engagements::table
        .filter(
            engagements::leader_id
                .eq(&me)
                .or(engagements::coach_id.eq(&me))
                .or(engagements::hr_partner_id.eq(&me))
                .or(engagements::id.eq_any(sponsored)),
        )
        .select(engagements::id)
        .order(engagements::id.desc())
        .limit(PROGRAMS_MAX)
        .load(conn)?;
    ids.iter().map(|id| id.parse().map_err(|_| corrupt("engagement id", id))).collect()
}

/// The groups the person has a part in (coach, sponsor, named hr_partner, team leader, present
/// or former participant), newest first.
pub fn groups_of(conn: &mut DbConnection, user: UserId) -> Result<Vec<GroupId>, StoreError> {
    let me = user.to_string();
    let member = group_members::table.filter(group_members::user_id.eq(&me)).select(group_members::group_id);
    let ids: Vec<String> = coaching_groups::table
        .filter(
            coaching_groups::coach_id
                .eq(&me)
                .or(coaching_groups::sponsor_id.eq(&me))
                .or(coaching_groups::hr_partner_id.eq(&me))
                .or(coaching_groups::team_leader_id.eq(&me))
                .or(coaching_groups::id.eq_any(member)),
        )
        .select(coaching_groups::id)
        .order(coaching_groups::id.desc())
        .limit(PROGRAMS_MAX)
        .load(conn)?;
    ids.iter().map(|id| id.parse().map_err(|_| corrupt("group id", id))).collect()
}
