//! What the reports read (docs/reports.md): one row per engagement or group with its figures
//! summed in the database, read a page at a time in id order so that a report of every
//! engagement streams in flat memory.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::{count_star, sql, sum};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Timestamp};
use keel_domain::review::Review;
use keel_domain::{OrganizationId, TemplateId, UserId};

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::rows::{from_db_time, to_db_time};
use crate::schema::{
    coaching_groups, engagement_transitions, engagements, group_attendance, group_members, group_sessions, outcomes,
    rater_invitations, raters, reviews, users,
};

/// Which programs a report covers. Every field narrows it; none is "all the caller may see"
/// (the caller's organization is set by the application layer).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportFilter {
    pub organization_id: Option<OrganizationId>,
    pub coach_id: Option<UserId>,
    pub template_id: Option<TemplateId>,
    /// Programs running at some time in `from..=to` (start on or before `to`, planned end on or
    /// after `from`).
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// One engagement with what the reports sum about it.
#[derive(Clone, Debug, PartialEq, Queryable)]
pub struct EngagementFigures {
    pub id: String,
    pub organization_id: String,
    pub title: String,
    pub leader_id: String,
    pub leader_name: String,
    pub coach_id: String,
    pub coach_name: String,
    pub template_id: String,
    pub contract_id: Option<String>,
    pub phase: String,
    pub held_from: Option<String>,
    pub start_date: NaiveDate,
    pub planned_end_date: NaiveDate,
    pub monthly_hours_budget: f64,
    pub created_at: NaiveDateTime,
    /// Minutes of completed sessions (and no-shows, where the organization counts them).
    pub used_minutes: Option<i64>,
    /// Of those, the minutes of sessions held since the burn window's start.
    pub recent_minutes: Option<i64>,
    /// Approved extensions.
    pub extension_minutes: Option<i64>,
    /// When the engagement last changed phase (None: never, it is in its first).
    pub entered_phase_at: Option<NaiveDateTime>,
    /// Raters named (not removed), those sent an invitation, those who contributed.
    pub raters: i64,
    pub raters_invited: i64,
    pub raters_contributed: i64,
}

/// One group with what the reports sum about it.
#[derive(Clone, Debug, PartialEq, Queryable)]
pub struct GroupFigures {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub kind: String,
    pub coach_id: String,
    pub coach_name: String,
    pub contract_id: Option<String>,
    pub start_date: NaiveDate,
    pub planned_end_date: NaiveDate,
    pub monthly_hours_budget: f64,
    pub created_at: NaiveDateTime,
    pub used_minutes: Option<i64>,
    pub recent_minutes: Option<i64>,
    /// People in the group now.
    pub participants: i64,
    pub sessions_completed: i64,
    /// Attendance records of completed sessions: present, and absent.
    pub attended: i64,
    pub absent: i64,
}

/// A page of the engagements matching `filter`, after `after` in id order.
pub fn engagements(
    conn: &mut DbConnection,
    filter: &ReportFilter,
    recent_since: NaiveDateTime,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<EngagementFigures>, StoreError> {
    let (leaders, coaches) = diesel::alias!(users as leaders, users as coaches);
    // Completed sessions, and no-shows where the program's organization counts them (each
    // organization decides, and an admin's report spans several).
    let counted = "(s.status = 'completed' OR (s.status = 'no_show' AND EXISTS (SELECT 1 FROM organizations o \
                   WHERE o.id = engagements.organization_id AND o.no_show_counts <> 0)))";
    let used = sql::<Nullable<BigInt>>(&format!(
        "(SELECT CAST(SUM(s.duration_minutes) AS BIGINT) FROM sessions s WHERE s.engagement_id = engagements.id AND {counted})"
    ));
    let recent = sql::<Nullable<BigInt>>(&format!(
        "(SELECT CAST(SUM(s.duration_minutes) AS BIGINT) FROM sessions s WHERE s.engagement_id = engagements.id AND {counted} \
         AND s.scheduled_at >= "
    ))
    .bind::<Timestamp, _>(recent_since)
    .sql(")");
    // SUM of a BIGINT is NUMERIC on PostgreSQL; cast back to count minutes on both backends.
    let extended = sql::<Nullable<BigInt>>(
        "(SELECT CAST(SUM(x.minutes) AS BIGINT) FROM extensions x \
         WHERE x.engagement_id = engagements.id AND x.status = 'approved')",
    );
    let entered = engagement_transitions::table
        .filter(engagement_transitions::engagement_id.eq(engagements::id))
        .select(diesel::dsl::max(engagement_transitions::occurred_at))
        .single_value();
    let named = raters::table
        .filter(raters::engagement_id.eq(engagements::id))
        .filter(raters::deleted_at.is_null())
        .select(count_star())
        .single_value()
        .assume_not_null();
    let invited = raters::table
        .filter(raters::engagement_id.eq(engagements::id))
        .filter(raters::deleted_at.is_null())
        .filter(diesel::dsl::exists(rater_invitations::table.filter(rater_invitations::rater_id.eq(raters::id))))
        .select(count_star())
        .single_value()
        .assume_not_null();
    let contributed = raters::table
        .filter(raters::engagement_id.eq(engagements::id))
        .filter(raters::deleted_at.is_null())
        .filter(raters::status.eq_any(["interviewed", "feedback_submitted"]))
        .select(count_star())
        .single_value()
        .assume_not_null();
    let mut query = engagements::table
        .inner_join(leaders.on(engagements::leader_id.eq(leaders.field(users::id))))
        .inner_join(coaches.on(engagements::coach_id.eq(coaches.field(users::id))))
        .select((
            engagements::id,
            engagements::organization_id,
            engagements::title,
            engagements::leader_id,
            leaders.field(users::name),
            engagements::coach_id,
            coaches.field(users::name),
            engagements::template_id,
            engagements::contract_id,
            engagements::phase,
            engagements::held_from,
            engagements::start_date,
            engagements::planned_end_date,
            engagements::monthly_hours_budget,
            engagements::created_at,
            used,
            recent,
            extended,
            entered,
            named,
            invited,
            contributed,
        ))
        .order(engagements::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(org) = filter.organization_id {
        query = query.filter(engagements::organization_id.eq(org.to_string()));
    }
    if let Some(coach) = filter.coach_id {
        query = query.filter(engagements::coach_id.eq(coach.to_string()));
    }
    if let Some(template) = filter.template_id {
        query = query.filter(engagements::template_id.eq(template.to_string()));
    }
    if let Some(from) = filter.from {
        query = query.filter(engagements::planned_end_date.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(engagements::start_date.le(to));
    }
    if let Some(after) = after {
        query = query.filter(engagements::id.gt(after.to_owned()));
    }
    Ok(query.load(conn)?)
}

/// A page of the groups matching `filter` (a template filter matches no group), after `after`.
pub fn groups(
    conn: &mut DbConnection,
    filter: &ReportFilter,
    recent_since: NaiveDateTime,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<GroupFigures>, StoreError> {
    if filter.template_id.is_some() {
        return Ok(Vec::new());
    }
    let used = group_sessions::table
        .filter(group_sessions::group_id.eq(coaching_groups::id))
        .filter(group_sessions::status.eq("completed"))
        .select(sum(group_sessions::duration_minutes))
        .single_value();
    let recent = group_sessions::table
        .filter(group_sessions::group_id.eq(coaching_groups::id))
        .filter(group_sessions::status.eq("completed"))
        .filter(group_sessions::scheduled_at.ge(recent_since))
        .select(sum(group_sessions::duration_minutes))
        .single_value();
    let participants = group_members::table
        .filter(group_members::group_id.eq(coaching_groups::id))
        .filter(group_members::left_at.is_null())
        .select(count_star())
        .single_value()
        .assume_not_null();
    let held = group_sessions::table
        .filter(group_sessions::group_id.eq(coaching_groups::id))
        .filter(group_sessions::status.eq("completed"))
        .select(count_star())
        .single_value()
        .assume_not_null();
    let attendance = |present: bool| {
        group_attendance::table
            .inner_join(group_sessions::table.on(group_sessions::id.eq(group_attendance::session_id)))
            .filter(group_sessions::group_id.eq(coaching_groups::id))
            .filter(group_sessions::status.eq("completed"))
            .filter(group_attendance::attended.eq(present))
            .select(count_star())
            .single_value()
            .assume_not_null()
    };
    let mut query = coaching_groups::table
        .inner_join(users::table.on(coaching_groups::coach_id.eq(users::id)))
        .select((
            coaching_groups::id,
            coaching_groups::organization_id,
            coaching_groups::name,
            coaching_groups::kind,
            coaching_groups::coach_id,
            users::name,
            coaching_groups::contract_id,
            coaching_groups::start_date,
            coaching_groups::planned_end_date,
            coaching_groups::monthly_hours_budget,
            coaching_groups::created_at,
            used,
            recent,
            participants,
            held,
            attendance(true),
            attendance(false),
        ))
        .order(coaching_groups::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(org) = filter.organization_id {
        query = query.filter(coaching_groups::organization_id.eq(org.to_string()));
    }
    if let Some(coach) = filter.coach_id {
        query = query.filter(coaching_groups::coach_id.eq(coach.to_string()));
    }
    if let Some(from) = filter.from {
        query = query.filter(coaching_groups::planned_end_date.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(coaching_groups::start_date.le(to));
    }
    if let Some(after) = after {
        query = query.filter(coaching_groups::id.gt(after.to_owned()));
    }
    Ok(query.load(conn)?)
}

/// One outcome of an engagement, with its latest measurement.
#[derive(Clone, Debug, PartialEq)]
pub struct OutcomeFigures {
    pub engagement_id: String,
    pub id: String,
    pub title: String,
    pub baseline: Option<String>,
    pub target: Option<String>,
    pub unit: Option<String>,
    pub latest_value: Option<String>,
    pub latest_measured_at: Option<keel_domain::time::Timestamp>,
}

type OutcomeRow =
    (String, String, String, Option<String>, Option<String>, Option<String>, Option<String>, Option<NaiveDateTime>);

/// The outcomes (not removed) of the engagements with these ids, each with its latest
/// measurement, in engagement then outcome order.
pub fn outcomes_of(conn: &mut DbConnection, engagement_ids: &[String]) -> Result<Vec<OutcomeFigures>, StoreError> {
    let latest = |column: &str| {
        format!(
            "(SELECT m.{column} FROM outcome_measurements m WHERE m.outcome_id = outcomes.id \
             ORDER BY m.measured_at DESC, m.id DESC LIMIT 1)"
        )
    };
    let mut found = Vec::new();
    for chunk in engagement_ids.chunks(500) {
        let rows: Vec<OutcomeRow> = outcomes::table
            .filter(outcomes::engagement_id.eq_any(chunk))
            .filter(outcomes::deleted_at.is_null())
            .select((
                outcomes::engagement_id,
                outcomes::id,
                outcomes::title,
                outcomes::baseline,
                outcomes::target,
                outcomes::unit,
                sql::<Nullable<diesel::sql_types::Text>>(&latest("value")),
                sql::<Nullable<Timestamp>>(&latest("measured_at")),
            ))
            .order((outcomes::engagement_id.asc(), outcomes::id.asc()))
            .load(conn)?;
        found.extend(rows.into_iter().map(|(engagement_id, id, title, baseline, target, unit, latest_value, at)| {
            OutcomeFigures {
                engagement_id,
                id,
                title,
                baseline,
                target,
                unit,
                latest_value,
                latest_measured_at: at.map(from_db_time),
            }
        }));
    }
    Ok(found)
}

/// The mid and end reviews of the engagements with these ids: (engagement id, review).
pub fn reviews_of(conn: &mut DbConnection, engagement_ids: &[String]) -> Result<Vec<(String, Review)>, StoreError> {
    let mut found = Vec::new();
    for chunk in engagement_ids.chunks(500) {
        let rows: Vec<(String, super::reviews::ReviewRow)> = reviews::table
            .filter(reviews::engagement_id.eq_any(chunk))
            .select((reviews::engagement_id, super::reviews::ReviewRow::as_select()))
            .load(conn)?;
        for (engagement, row) in rows {
            found.push((engagement, row.into_domain()?));
        }
    }
    Ok(found)
}

/// The start of the burn window: `days` before `now`.
pub fn window_start(now: keel_domain::time::Timestamp, days: i64) -> NaiveDateTime {
    to_db_time(now - chrono::Duration::days(days))
}
