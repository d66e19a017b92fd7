//! Engagements: their rows, sponsors and timeline, and the lists filtered by who may see them
//! (the commands are in keel-commands).

use diesel::prelude::*;
use keel_domain::audit::CommandContext;
use keel_domain::engagement::{Engagement, Phase, TransitionRecord};
use keel_domain::page::{Page, PageRequest};
use keel_domain::{EngagementId, OrganizationId, TransitionId, UserId};

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::rows::{EngagementRow, from_db_time, to_db_time};
use crate::schema::{engagement_sponsors, engagement_transitions, engagements};

const RESOURCE: &str = "engagement";

fn insert_sponsors(conn: &mut DbConnection, engagement: &Engagement) -> Result<(), StoreError> {
    // One statement per sponsor: MultiConnection has no batch insert (and there are few).
    for id in &engagement.sponsor_ids {
        diesel::insert_into(engagement_sponsors::table)
            .values((
                engagement_sponsors::engagement_id.eq(engagement.id.to_string()),
                engagement_sponsors::user_id.eq(id.to_string()),
                engagement_sponsors::organization_id.eq(engagement.organization_id.to_string()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Appends a timeline entry: `engagement` has just moved from `from` (None: it was created).
pub fn record_transition(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    engagement: &Engagement,
    from: Option<Phase>,
    reason: Option<&str>,
) -> Result<(), StoreError> {
    diesel::insert_into(engagement_transitions::table)
        .values((
            engagement_transitions::id.eq(TransitionId::generate().to_string()),
            engagement_transitions::engagement_id.eq(engagement.id.to_string()),
            engagement_transitions::organization_id.eq(engagement.organization_id.to_string()),
            engagement_transitions::from_phase.eq(from.map(|p| p.as_str())),
            engagement_transitions::to_phase.eq(engagement.phase.as_str()),
            engagement_transitions::reason.eq(reason),
            engagement_transitions::actor_kind.eq(ctx.actor.kind()),
            engagement_transitions::actor_id.eq(ctx.actor.id()),
            engagement_transitions::occurred_at.eq(to_db_time(engagement.updated_at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Inserts an engagement and its sponsors.
pub fn insert(conn: &mut DbConnection, engagement: &Engagement) -> Result<(), StoreError> {
    diesel::insert_into(engagements::table).values(EngagementRow::from(engagement)).execute(conn)?;
    insert_sponsors(conn, engagement)
}

/// Writes `engagement` over the stored row, which must still be at `read_version`.
pub fn save(conn: &mut DbConnection, engagement: &Engagement, read_version: i64) -> Result<(), StoreError> {
    super::written_once(write(conn, engagement, read_version)?)
}

/// Replaces the sponsor index rows of `engagement` with its current sponsors.
pub fn replace_sponsors(conn: &mut DbConnection, engagement: &Engagement) -> Result<(), StoreError> {
    diesel::delete(engagement_sponsors::table.filter(engagement_sponsors::engagement_id.eq(engagement.id.to_string())))
        .execute(conn)?;
    insert_sponsors(conn, engagement)
}

/// Marks `engagement` as the renewal of `previous`.
pub fn link_renewal(
    conn: &mut DbConnection,
    engagement: &Engagement,
    previous: EngagementId,
) -> Result<Engagement, StoreError> {
    let mut linked = engagement.clone();
    linked.renewed_from_id = Some(previous);
    diesel::update(engagements::table.find(engagement.id.to_string()))
        .set(engagements::renewed_from_id.eq(previous.to_string()))
        .execute(conn)?;
    Ok(linked)
}

/// The engagement (with its sponsors: one row).
pub fn find(conn: &mut DbConnection, id: EngagementId) -> Result<Option<Engagement>, StoreError> {
    let row = super::optional(engagements::table.find(id.to_string()).select(EngagementRow::as_select()).first(conn))?;
    row.map(EngagementRow::into_domain).transpose()
}

pub fn get(conn: &mut DbConnection, id: EngagementId) -> Result<Engagement, StoreError> {
    find(conn, id)?.ok_or_else(|| StoreError::not_found(RESOURCE))
}

/// The engagement with its row locked until the transaction ends.
pub fn get_for_update(conn: &mut DbConnection, id: EngagementId) -> Result<Engagement, StoreError> {
    let row: Option<EngagementRow> =
        super::first_for_update!(conn, engagements::table.find(id.to_string()).select(EngagementRow::as_select()))?;
    row.ok_or_else(|| StoreError::not_found(RESOURCE))?.into_domain()
}

/// Filters of the engagement list; every one given must match.
#[derive(Clone, Debug, Default)]
pub struct EngagementFilter {
    pub organization_id: Option<OrganizationId>,
    pub phase: Option<Phase>,
    pub coach_id: Option<UserId>,
    pub leader_id: Option<UserId>,
    pub sponsor_id: Option<UserId>,
    /// Only engagements where this user is the coach, the leader or a sponsor.
    pub participant: Option<UserId>,
    /// `Some(true)`: not completed, renewed or cancelled; `Some(false)`: only those.
    pub active: Option<bool>,
}

type Db = <DbConnection as diesel::Connection>::Backend;
type Boxed<'a> = engagements::BoxedQuery<'a, Db, diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<EngagementRow, Db>>>;

/// The engagements `filter` lets through, with their sponsors, in no order yet.
fn filtered(filter: &EngagementFilter) -> Boxed<'static> {
    let mut query = engagements::table.select(EngagementRow::as_select()).into_boxed();
    if let Some(org) = filter.organization_id {
        query = query.filter(engagements::organization_id.eq(org.to_string()));
    }
    if let Some(phase) = filter.phase {
        query = query.filter(engagements::phase.eq(phase.as_str()));
    }
    if let Some(coach) = filter.coach_id {
        query = query.filter(engagements::coach_id.eq(coach.to_string()));
    }
    if let Some(leader) = filter.leader_id {
        query = query.filter(engagements::leader_id.eq(leader.to_string()));
    }
    if let Some(sponsor) = filter.sponsor_id {
        let sponsored = engagement_sponsors::table
            .filter(engagement_sponsors::user_id.eq(sponsor.to_string()))
            .select(engagement_sponsors::engagement_id);
        query = query.filter(engagements::id.eq_any(sponsored));
    }
    if let Some(user) = filter.participant {
        // One subquery per part, each through its own index (an OR of the three would filter
        // every engagement).
        let me = user.to_string();
        let (by_coach, by_leader) = diesel::alias!(engagements as by_coach, engagements as by_leader);
        let coached = by_coach
            .filter(by_coach.field(engagements::coach_id).eq(me.clone()))
            .select(by_coach.field(engagements::id));
        let led = by_leader
            .filter(by_leader.field(engagements::leader_id).eq(me.clone()))
            .select(by_leader.field(engagements::id));
        let sponsored = engagement_sponsors::table
            .filter(engagement_sponsors::user_id.eq(me))
            .select(engagement_sponsors::engagement_id);
        query = query.filter(engagements::id.eq_any(coached.union_all(led).union_all(sponsored)));
    }
    let ended = [Phase::Completed.as_str(), Phase::Renewed.as_str(), Phase::Cancelled.as_str()];
    match filter.active {
        Some(true) => query = query.filter(engagements::phase.ne_all(ended)),
        Some(false) => query = query.filter(engagements::phase.eq_any(ended)),
        None => {}
    }
    query
}

/// A page of engagements with their sponsors: one statement whatever the page size.
pub fn list(
    conn: &mut DbConnection,
    filter: &EngagementFilter,
    page: PageRequest,
) -> Result<Page<Engagement>, StoreError> {
    let mut query = filtered(filter).order(engagements::id.asc()).limit(i64::from(page.limit) + 1);
    if let Some(after) = page.after {
        query = query.filter(engagements::id.gt(after.to_string()));
    }
    let rows: Vec<EngagementRow> = query.load(conn)?;
    let engagements = rows.into_iter().map(EngagementRow::into_domain).collect::<Result<_, _>>()?;
    Ok(Page::from_overfetch(engagements, page.limit))
}

/// The newest `max` engagements `filter` lets through, newest first, in one statement. Ordered by
/// creation time, which no index walks: PostgreSQL's cached plan of this statement then finds the
/// engagements through the filter's indexes first (in id order it would walk every engagement
/// backwards, testing each against the filter).
pub fn newest(conn: &mut DbConnection, filter: &EngagementFilter, max: u32) -> Result<Vec<Engagement>, StoreError> {
    let rows: Vec<EngagementRow> = filtered(filter)
        .order((engagements::created_at.desc(), engagements::id.desc()))
        .limit(i64::from(max))
        .load(conn)?;
    rows.into_iter().map(EngagementRow::into_domain).collect()
}

/// Writes the engagement row if its version is still `expected_version`; returns rows written.
pub(crate) fn write(conn: &mut DbConnection, engagement: &Engagement, expected_version: i64) -> QueryResult<usize> {
    diesel::update(
        engagements::table
            .filter(engagements::id.eq(engagement.id.to_string()))
            .filter(engagements::version.eq(expected_version)),
    )
    .set(EngagementRow::from(engagement))
    .execute(conn)
}

/// The engagement's timeline: every phase change, oldest first.
pub fn timeline(
    conn: &mut DbConnection,
    id: EngagementId,
    page: PageRequest,
) -> Result<Page<TransitionRecord>, StoreError> {
    type Row = (String, String, Option<String>, String, Option<String>, String, Option<String>, chrono::NaiveDateTime);
    let mut query = engagement_transitions::table
        .filter(engagement_transitions::engagement_id.eq(id.to_string()))
        .order(engagement_transitions::id.asc())
        .limit(i64::from(page.limit) + 1)
        .select((
            engagement_transitions::id,
            engagement_transitions::engagement_id,
            engagement_transitions::from_phase,
            engagement_transitions::to_phase,
            engagement_transitions::reason,
            engagement_transitions::actor_kind,
            engagement_transitions::actor_id,
            engagement_transitions::occurred_at,
        ))
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(engagement_transitions::id.gt(after.to_string()));
    }
    let rows: Vec<Row> = query.load(conn)?;
    let phase = |value: &str| value.parse::<Phase>().map_err(|_| crate::rows::corrupt("phase", value));
    let items = rows
        .into_iter()
        .map(|(tid, eid, from, to, reason, actor_kind, actor_id, at)| {
            Ok(TransitionRecord {
                id: tid.parse().map_err(|_| crate::rows::corrupt("transition id", &tid))?,
                engagement_id: eid.parse().map_err(|_| crate::rows::corrupt("engagement id", &eid))?,
                from: from.as_deref().map(phase).transpose()?,
                to: phase(&to)?,
                reason,
                actor_kind: actor_kind.parse().map_err(|_| crate::rows::corrupt("actor kind", &actor_kind))?,
                actor_id,
                occurred_at: from_db_time(at),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Page::from_overfetch(items, page.limit))
}
