//! What the reports read (docs/reports.md): one row per engagement or group with its figures
//! summed in the database, read a page at a time in id order so that a report of every
//! engagement streams in flat memory.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use keel_domain::coaching::SessionStatus;
use keel_domain::review::Review;
use keel_domain::{OrganizationId, TemplateId, UserId};

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::repo::sums::{self, GroupSums, RaterCounts, StatusMinutes};
use crate::rows::{from_db_time, to_db_time};
use crate::schema::{coaching_groups, engagements, outcome_measurements, outcomes, reviews, users};

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
    /// Only these programs (engagement and group ids).
    pub ids: Option<Vec<String>>,
}

/// How much of each program a report reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detail {
    /// Who, the phase and since when, the dates and the budget: what a list of programs is
    /// filtered and counted by.
    Standing,
    /// And the minutes used (all, and recent), approved extensions, raters and attendance.
    Figures,
}

/// One engagement with what the reports sum about it.
#[derive(Clone, Debug, PartialEq)]
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
    /// Minutes of the sessions completed and of the no-shows, by status (which of them draw on
    /// the hours is the organization's setting); the recent ones are those held since the burn
    /// window's start.
    pub session_minutes: HashMap<String, StatusMinutes>,
    /// Approved extensions.
    pub extension_minutes: i64,
    /// When the engagement last changed phase (None: never, it is in its first).
    pub entered_phase_at: Option<NaiveDateTime>,
    pub raters: RaterCounts,
}

#[derive(Queryable)]
struct EngagementRow {
    id: String,
    organization_id: String,
    title: String,
    leader_id: String,
    leader_name: String,
    coach_id: String,
    coach_name: String,
    template_id: String,
    contract_id: Option<String>,
    phase: String,
    held_from: Option<String>,
    start_date: NaiveDate,
    planned_end_date: NaiveDate,
    monthly_hours_budget: f64,
    created_at: NaiveDateTime,
}

/// One group with what the reports sum about it.
#[derive(Clone, Debug, PartialEq)]
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
    pub sums: GroupSums,
}

#[derive(Queryable)]
struct GroupRow {
    id: String,
    organization_id: String,
    name: String,
    kind: String,
    coach_id: String,
    coach_name: String,
    contract_id: Option<String>,
    start_date: NaiveDate,
    planned_end_date: NaiveDate,
    monthly_hours_budget: f64,
    created_at: NaiveDateTime,
}

/// The session statuses whose minutes a report may count: those that count where no-shows do
/// (each organization says whether they do).
fn minute_statuses() -> Vec<&'static str> {
    SessionStatus::counted(true).iter().map(|s| s.as_str()).collect()
}

/// A page of the engagements matching `filter`, after `after` in id order, with their figures
/// (one statement for the page, then one grouped statement per table).
pub fn engagements(
    conn: &mut DbConnection,
    filter: &ReportFilter,
    recent_since: NaiveDateTime,
    after: Option<&str>,
    limit: i64,
    detail: Detail,
) -> Result<Vec<EngagementFigures>, StoreError> {
    let (leaders, coaches) = diesel::alias!(users as leaders, users as coaches);
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
    if let Some(ids) = &filter.ids {
        query = query.filter(engagements::id.eq_any(ids));
    }
    if let Some(after) = after {
        query = query.filter(engagements::id.gt(after.to_owned()));
    }
    let rows: Vec<EngagementRow> = query.load(conn)?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let entered = sums::entered_phase(conn, &ids)?;
    let statuses = minute_statuses();
    let (mut minutes, extended, raters) = match detail {
        Detail::Standing => Default::default(),
        Detail::Figures => (
            sums::session_minutes(conn, &ids, &statuses, Some(recent_since))?,
            sums::extension_minutes(conn, &ids)?,
            sums::rater_counts(conn, &ids)?,
        ),
    };
    Ok(rows
        .into_iter()
        .map(|r| {
            let session_minutes = statuses
                .iter()
                .filter_map(|status| {
                    let key = (r.id.clone(), (*status).to_owned());
                    minutes.remove(&key).map(|m| (key.1, m))
                })
                .collect();
            EngagementFigures {
                session_minutes,
                extension_minutes: extended.get(&r.id).copied().unwrap_or(0),
                entered_phase_at: entered.get(&r.id).copied(),
                raters: raters.get(&r.id).copied().unwrap_or_default(),
                id: r.id,
                organization_id: r.organization_id,
                title: r.title,
                leader_id: r.leader_id,
                leader_name: r.leader_name,
                coach_id: r.coach_id,
                coach_name: r.coach_name,
                template_id: r.template_id,
                contract_id: r.contract_id,
                phase: r.phase,
                held_from: r.held_from,
                start_date: r.start_date,
                planned_end_date: r.planned_end_date,
                monthly_hours_budget: r.monthly_hours_budget,
                created_at: r.created_at,
            }
        })
        .collect())
}

/// A page of the groups matching `filter` (a template filter matches no group), after `after`,
/// with their figures.
pub fn groups(
    conn: &mut DbConnection,
    filter: &ReportFilter,
    recent_since: NaiveDateTime,
    after: Option<&str>,
    limit: i64,
    detail: Detail,
) -> Result<Vec<GroupFigures>, StoreError> {
    if filter.template_id.is_some() {
        return Ok(Vec::new());
    }
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
    if let Some(ids) = &filter.ids {
        query = query.filter(coaching_groups::id.eq_any(ids));
    }
    if let Some(after) = after {
        query = query.filter(coaching_groups::id.gt(after.to_owned()));
    }
    let rows: Vec<GroupRow> = query.load(conn)?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let found = match detail {
        Detail::Standing => HashMap::new(),
        Detail::Figures => sums::group_sums(conn, &ids, Some(recent_since))?,
    };
    Ok(rows
        .into_iter()
        .map(|r| GroupFigures {
            sums: found.get(&r.id).copied().unwrap_or_default(),
            id: r.id,
            organization_id: r.organization_id,
            name: r.name,
            kind: r.kind,
            coach_id: r.coach_id,
            coach_name: r.coach_name,
            contract_id: r.contract_id,
            start_date: r.start_date,
            planned_end_date: r.planned_end_date,
            monthly_hours_budget: r.monthly_hours_budget,
            created_at: r.created_at,
        })
        .collect())
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

type OutcomeRow = (String, String, String, Option<String>, Option<String>, Option<String>);

/// The outcomes (not removed) of the engagements with these ids, each with its latest
/// measurement (the latest `measured_at`, then the greatest id), in engagement then outcome
/// order. The measurements of a batch are read in one statement and the latest picked here.
pub fn outcomes_of(conn: &mut DbConnection, engagement_ids: &[String]) -> Result<Vec<OutcomeFigures>, StoreError> {
    let mut found = Vec::new();
    for chunk in engagement_ids.chunks(sums::BATCH) {
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
            ))
            .order((outcomes::engagement_id.asc(), outcomes::id.asc()))
            .load(conn)?;
        let measured: Vec<(String, String, NaiveDateTime, String)> = outcome_measurements::table
            .filter(outcome_measurements::engagement_id.eq_any(chunk))
            .select((
                outcome_measurements::outcome_id,
                outcome_measurements::id,
                outcome_measurements::measured_at,
                outcome_measurements::value,
            ))
            .load(conn)?;
        let mut latest: HashMap<String, (NaiveDateTime, String, String)> = HashMap::new();
        for (outcome, id, at, value) in measured {
            match latest.get(&outcome) {
                Some((seen_at, seen_id, _)) if (seen_at, seen_id) >= (&at, &id) => {}
                _ => {
                    latest.insert(outcome, (at, id, value));
                }
            }
        }
        found.extend(rows.into_iter().map(|(engagement_id, id, title, baseline, target, unit)| {
            let last = latest.remove(&id);
            OutcomeFigures {
                engagement_id,
                title,
                baseline,
                target,
                unit,
                latest_measured_at: last.as_ref().map(|(at, _, _)| from_db_time(*at)),
                latest_value: last.map(|(_, _, value)| value),
                id,
            }
        }));
    }
    Ok(found)
}

/// The mid and end reviews of the engagements with these ids: (engagement id, review).
pub fn reviews_of(conn: &mut DbConnection, engagement_ids: &[String]) -> Result<Vec<(String, Review)>, StoreError> {
    let mut found = Vec::new();
    for chunk in engagement_ids.chunks(sums::BATCH) {
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
