//! Minutes and counts summed per program for a batch of programs: one grouped statement per
//! table for the whole batch, instead of one subquery per program and figure (docs/reports.md).
//! The reports, the hr_partner's home and the contracts' standing read their figures here, so
//! each figure is summed one way.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::dsl::{count_star, max, sql, sum};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Timestamp};

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::schema::{
    engagement_transitions, extensions, group_attendance, group_members, group_sessions, rater_invitations, raters,
    sessions,
};

/// Programs summed per statement: an `IN` list of this many ids stays well inside both
/// backends' limits on bound parameters.
pub const BATCH: usize = 500;

/// Minutes of an engagement's sessions in one status: all of them, and those held since the
/// `since` given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatusMinutes {
    pub minutes: i64,
    pub recent_minutes: i64,
}

/// Minutes per (engagement id, session status) of the engagements' sessions in `statuses`;
/// `recent_minutes` counts those scheduled at or after `since` (none when no `since`).
pub fn session_minutes(
    conn: &mut DbConnection,
    engagement_ids: &[String],
    statuses: &[&str],
    since: Option<NaiveDateTime>,
) -> Result<HashMap<(String, String), StatusMinutes>, StoreError> {
    let statuses: Vec<String> = statuses.iter().map(|s| (*s).to_owned()).collect();
    // Without a window nothing is recent: the year 9999 is one both backends store.
    let since = since.unwrap_or_else(|| {
        chrono::NaiveDate::from_ymd_opt(9999, 12, 31).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default()
    });
    let recent = || {
        sql::<BigInt>("CAST(SUM(CASE WHEN sessions.scheduled_at >= ")
            .bind::<Timestamp, _>(since)
            .sql(" THEN sessions.duration_minutes ELSE 0 END) AS BIGINT)")
    };
    let mut found: HashMap<(String, String), StatusMinutes> = HashMap::new();
    for chunk in engagement_ids.chunks(BATCH) {
        let rows: Vec<(String, String, Option<i64>, i64)> = sessions::table
            .filter(sessions::engagement_id.eq_any(chunk))
            .filter(sessions::status.eq_any(&statuses))
            .group_by((sessions::engagement_id, sessions::status))
            .select((sessions::engagement_id, sessions::status, sum(sessions::duration_minutes), recent()))
            .load(conn)?;
        for (engagement, status, minutes, recent_minutes) in rows {
            found.insert((engagement, status), StatusMinutes { minutes: minutes.unwrap_or(0), recent_minutes });
        }
    }
    Ok(found)
}

/// Minutes of approved extensions per engagement (engagements with none are absent).
pub fn extension_minutes(
    conn: &mut DbConnection,
    engagement_ids: &[String],
) -> Result<HashMap<String, i64>, StoreError> {
    let mut found = HashMap::new();
    for chunk in engagement_ids.chunks(BATCH) {
        let rows: Vec<(String, Option<i64>)> = extensions::table
            .filter(extensions::engagement_id.eq_any(chunk))
            .filter(extensions::status.eq("approved"))
            .group_by(extensions::engagement_id)
            // SUM of a BIGINT is NUMERIC on PostgreSQL: cast back to count minutes on both.
            .select((extensions::engagement_id, sql::<Nullable<BigInt>>("CAST(SUM(extensions.minutes) AS BIGINT)")))
            .load(conn)?;
        found.extend(rows.into_iter().map(|(id, minutes)| (id, minutes.unwrap_or(0))));
    }
    Ok(found)
}

/// When each engagement last changed phase (engagements still in their first are absent).
pub fn entered_phase(
    conn: &mut DbConnection,
    engagement_ids: &[String],
) -> Result<HashMap<String, NaiveDateTime>, StoreError> {
    let mut found = HashMap::new();
    for chunk in engagement_ids.chunks(BATCH) {
        let rows: Vec<(String, Option<NaiveDateTime>)> = engagement_transitions::table
            .filter(engagement_transitions::engagement_id.eq_any(chunk))
            .group_by(engagement_transitions::engagement_id)
            .select((engagement_transitions::engagement_id, max(engagement_transitions::occurred_at)))
            .load(conn)?;
        found.extend(rows.into_iter().filter_map(|(id, at)| Some((id, at?))));
    }
    Ok(found)
}

/// An engagement's raters counted, never named.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RaterCounts {
    /// Named and not removed.
    pub named: i64,
    /// Of those, sent an invitation.
    pub invited: i64,
    /// Of those, interviewed or with feedback submitted.
    pub contributed: i64,
}

/// The raters of each engagement, counted (engagements with none are absent).
pub fn rater_counts(
    conn: &mut DbConnection,
    engagement_ids: &[String],
) -> Result<HashMap<String, RaterCounts>, StoreError> {
    let mut found: HashMap<String, RaterCounts> = HashMap::new();
    for chunk in engagement_ids.chunks(BATCH) {
        let by_status: Vec<(String, String, i64)> = raters::table
            .filter(raters::engagement_id.eq_any(chunk))
            .filter(raters::deleted_at.is_null())
            .group_by((raters::engagement_id, raters::status))
            .select((raters::engagement_id, raters::status, count_star()))
            .load(conn)?;
        for (engagement, status, count) in by_status {
            let counts = found.entry(engagement).or_default();
            counts.named += count;
            if matches!(status.as_str(), "interviewed" | "feedback_submitted") {
                counts.contributed += count;
            }
        }
        let invited: Vec<(String, i64)> = raters::table
            .inner_join(rater_invitations::table.on(rater_invitations::rater_id.eq(raters::id)))
            .filter(raters::engagement_id.eq_any(chunk))
            .filter(raters::deleted_at.is_null())
            .group_by(raters::engagement_id)
            .select((raters::engagement_id, sql::<BigInt>("COUNT(DISTINCT raters.id)")))
            .load(conn)?;
        for (engagement, count) in invited {
            found.entry(engagement).or_default().invited = count;
        }
    }
    Ok(found)
}

/// What a group's completed sessions and members add up to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GroupSums {
    pub used_minutes: i64,
    pub recent_minutes: i64,
    pub sessions_completed: i64,
    /// People in the group now.
    pub participants: i64,
    /// Attendance records of completed sessions: present, and absent.
    pub attended: i64,
    pub absent: i64,
}

/// The sums of each group (groups with nothing to sum are absent); `recent_minutes` counts
/// the sessions scheduled at or after `since` (none when no `since`).
pub fn group_sums(
    conn: &mut DbConnection,
    group_ids: &[String],
    since: Option<NaiveDateTime>,
) -> Result<HashMap<String, GroupSums>, StoreError> {
    let mut found: HashMap<String, GroupSums> = HashMap::new();
    for chunk in group_ids.chunks(BATCH) {
        let held: Vec<(String, Option<i64>, i64)> = group_sessions::table
            .filter(group_sessions::group_id.eq_any(chunk))
            .filter(group_sessions::status.eq("completed"))
            .group_by(group_sessions::group_id)
            .select((group_sessions::group_id, sum(group_sessions::duration_minutes), count_star()))
            .load(conn)?;
        for (group, minutes, count) in held {
            let sums = found.entry(group).or_default();
            sums.used_minutes = minutes.unwrap_or(0);
            sums.sessions_completed = count;
        }
        if let Some(since) = since {
            let recent: Vec<(String, Option<i64>)> = group_sessions::table
                .filter(group_sessions::group_id.eq_any(chunk))
                .filter(group_sessions::status.eq("completed"))
                .filter(group_sessions::scheduled_at.ge(since))
                .group_by(group_sessions::group_id)
                .select((group_sessions::group_id, sum(group_sessions::duration_minutes)))
                .load(conn)?;
            for (group, minutes) in recent {
                found.entry(group).or_default().recent_minutes = minutes.unwrap_or(0);
            }
        }
        let members: Vec<(String, i64)> = group_members::table
            .filter(group_members::group_id.eq_any(chunk))
            .filter(group_members::left_at.is_null())
            .group_by(group_members::group_id)
            .select((group_members::group_id, count_star()))
            .load(conn)?;
        for (group, count) in members {
            found.entry(group).or_default().participants = count;
        }
        let attendance: Vec<(String, i64, i64)> = group_attendance::table
            .inner_join(group_sessions::table.on(group_sessions::id.eq(group_attendance::session_id)))
            .filter(group_sessions::group_id.eq_any(chunk))
            .filter(group_sessions::status.eq("completed"))
            .group_by(group_sessions::group_id)
            .select((
                group_sessions::group_id,
                sql::<BigInt>("CAST(SUM(CASE WHEN group_attendance.attended THEN 1 ELSE 0 END) AS BIGINT)"),
                count_star(),
            ))
            .load(conn)?;
        for (group, present, records) in attendance {
            let sums = found.entry(group).or_default();
            sums.attended = present;
            sums.absent = records - present;
        }
    }
    Ok(found)
}
