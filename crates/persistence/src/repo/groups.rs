//! Coaching groups (cohorts and teams): their rows, memberships, sessions with attendance, and
//! participants' own outcomes and action items. The commands are in keel-commands.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use keel_domain::group::{
    Attendance, Group, GroupActionItem, GroupItemStatus, GroupKind, GroupOutcome, GroupSession, GroupSessionStatus,
    Membership,
};
use keel_domain::page::{Page, PageRequest};
use keel_domain::{GroupActionItemId, GroupId, GroupSessionId, OrganizationId, UserId};

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::rows::{corrupt, from_db_time, to_db_time};
use crate::schema::{
    coaching_groups, group_action_items, group_attendance, group_members, group_outcomes, group_sessions,
};

fn parse<T: std::str::FromStr>(what: &str, value: &str) -> Result<T, StoreError> {
    value.parse::<T>().map_err(|_| corrupt(what, value))
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = coaching_groups, treat_none_as_null = true)]
struct GroupRow {
    id: String,
    organization_id: String,
    kind: String,
    name: String,
    coach_id: String,
    sponsor_id: String,
    hr_partner_id: Option<String>,
    team_leader_id: Option<String>,
    max_participants: i32,
    monthly_hours_budget: f64,
    start_date: NaiveDate,
    planned_end_date: NaiveDate,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
    contract_id: Option<String>,
}

impl From<&Group> for GroupRow {
    fn from(g: &Group) -> Self {
        GroupRow {
            id: g.id.to_string(),
            organization_id: g.organization_id.to_string(),
            kind: g.kind.as_str().to_owned(),
            name: g.name.clone(),
            coach_id: g.coach_id.to_string(),
            sponsor_id: g.sponsor_id.to_string(),
            hr_partner_id: g.hr_partner_id.map(|u| u.to_string()),
            team_leader_id: g.team_leader_id.map(|u| u.to_string()),
            max_participants: g.max_participants as i32,
            monthly_hours_budget: g.monthly_hours_budget,
            start_date: g.start_date,
            planned_end_date: g.planned_end_date,
            created_at: to_db_time(g.created_at),
            updated_at: to_db_time(g.updated_at),
            version: g.version,
            contract_id: g.contract_id.map(|c| c.to_string()),
        }
    }
}

impl GroupRow {
    fn into_domain(self) -> Result<Group, StoreError> {
        Ok(Group {
            id: parse("group id", &self.id)?,
            organization_id: parse("organization id", &self.organization_id)?,
            kind: parse::<GroupKind>("group kind", &self.kind)?,
            name: self.name,
            coach_id: parse("user id", &self.coach_id)?,
            sponsor_id: parse("user id", &self.sponsor_id)?,
            hr_partner_id: self.hr_partner_id.as_deref().map(|u| parse("user id", u)).transpose()?,
            team_leader_id: self.team_leader_id.as_deref().map(|u| parse("user id", u)).transpose()?,
            max_participants: u32::try_from(self.max_participants)
                .map_err(|_| corrupt("group size", &self.max_participants.to_string()))?,
            monthly_hours_budget: self.monthly_hours_budget,
            start_date: self.start_date,
            planned_end_date: self.planned_end_date,
            contract_id: self.contract_id.as_deref().map(|c| parse("contract id", c)).transpose()?,
            created_at: from_db_time(self.created_at),
            updated_at: from_db_time(self.updated_at),
            version: self.version,
        })
    }
}

const GROUP: &str = "group";

pub fn insert(conn: &mut DbConnection, group: &Group) -> Result<(), StoreError> {
    diesel::insert_into(coaching_groups::table).values(GroupRow::from(group)).execute(conn)?;
    Ok(())
}

/// Writes `group` over the stored row, which must still be at `read_version`.
pub fn save(conn: &mut DbConnection, group: &Group, read_version: i64) -> Result<(), StoreError> {
    let written = diesel::update(
        coaching_groups::table
            .filter(coaching_groups::id.eq(group.id.to_string()))
            .filter(coaching_groups::version.eq(read_version)),
    )
    .set(GroupRow::from(group))
    .execute(conn)?;
    super::written_once(written)
}

pub fn get(conn: &mut DbConnection, id: GroupId) -> Result<Group, StoreError> {
    super::optional(coaching_groups::table.find(id.to_string()).select(GroupRow::as_select()).first(conn))?
        .ok_or_else(|| StoreError::not_found(GROUP))?
        .into_domain()
}

/// The group with its row locked until the transaction ends (its members, sessions and items
/// change under this lock).
pub fn get_for_update(conn: &mut DbConnection, id: GroupId) -> Result<Group, StoreError> {
    let row: Option<GroupRow> =
        super::first_for_update!(conn, coaching_groups::table.find(id.to_string()).select(GroupRow::as_select()))?;
    row.ok_or_else(|| StoreError::not_found(GROUP))?.into_domain()
}

/// Which groups a list shows.
#[derive(Clone, Copy, Debug)]
pub enum GroupScope {
    All,
    Organization(OrganizationId),
    /// Those the person coaches, sponsors or takes (or took) part in.
    Person(UserId),
}

pub fn list(conn: &mut DbConnection, scope: GroupScope, page: PageRequest) -> Result<Page<Group>, StoreError> {
    let mut query = coaching_groups::table
        .select(GroupRow::as_select())
        .order(coaching_groups::id.asc())
        .limit(i64::from(page.limit) + 1)
        .into_boxed();
    match scope {
        GroupScope::All => {}
        GroupScope::Organization(org) => query = query.filter(coaching_groups::organization_id.eq(org.to_string())),
        GroupScope::Person(user) => {
            let me = user.to_string();
            let mine =
                group_members::table.filter(group_members::user_id.eq(me.clone())).select(group_members::group_id);
            query = query.filter(
                coaching_groups::coach_id
                    .eq(me.clone())
                    .or(coaching_groups::sponsor_id.eq(me))
                    .or(coaching_groups::id.eq_any(mine)),
            );
        }
    }
    if let Some(after) = page.after {
        query = query.filter(coaching_groups::id.gt(after.to_string()));
    }
    let rows = query.load(conn)?;
    let items = rows.into_iter().map(GroupRow::into_domain).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_overfetch(items, page.limit))
}

// ---- memberships ----

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = group_members)]
struct MemberRow {
    id: String,
    group_id: String,
    organization_id: String,
    user_id: String,
    joined_at: NaiveDateTime,
    left_at: Option<NaiveDateTime>,
}

/// Every membership of the group, current and ended, in the order they began.
pub fn memberships(conn: &mut DbConnection, group: GroupId) -> Result<Vec<Membership>, StoreError> {
    let rows: Vec<MemberRow> = group_members::table
        .filter(group_members::group_id.eq(group.to_string()))
        .order(group_members::id.asc())
        .select(MemberRow::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(|r| {
            Ok(Membership {
                id: parse("membership id", &r.id)?,
                group_id: parse("group id", &r.group_id)?,
                user_id: parse("user id", &r.user_id)?,
                joined_at: from_db_time(r.joined_at),
                left_at: r.left_at.map(from_db_time),
            })
        })
        .collect()
}

pub fn insert_membership(conn: &mut DbConnection, group: &Group, m: &Membership) -> Result<(), StoreError> {
    diesel::insert_into(group_members::table)
        .values(MemberRow {
            id: m.id.to_string(),
            group_id: group.id.to_string(),
            organization_id: group.organization_id.to_string(),
            user_id: m.user_id.to_string(),
            joined_at: to_db_time(m.joined_at),
            left_at: None,
        })
        .execute(conn)?;
    Ok(())
}

/// Ends the person's current membership at `at`.
pub fn end_membership(
    conn: &mut DbConnection,
    group: GroupId,
    user: UserId,
    at: keel_domain::time::Timestamp,
) -> Result<(), StoreError> {
    let ended = diesel::update(
        group_members::table
            .filter(group_members::group_id.eq(group.to_string()))
            .filter(group_members::user_id.eq(user.to_string()))
            .filter(group_members::left_at.is_null()),
    )
    .set(group_members::left_at.eq(Some(to_db_time(at))))
    .execute(conn)?;
    super::written_once(ended)
}

// ---- sessions ----

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = group_sessions, treat_none_as_null = true)]
struct SessionRow {
    id: String,
    group_id: String,
    organization_id: String,
    scheduled_at: NaiveDateTime,
    duration_minutes: i32,
    format: String,
    status: String,
    agenda: Option<String>,
    shared_summary: Option<String>,
    private_notes: Option<String>,
    notes_author: Option<String>,
    status_reason: Option<String>,
    completed_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

fn session_row(group: &Group, s: &GroupSession) -> SessionRow {
    SessionRow {
        id: s.id.to_string(),
        group_id: group.id.to_string(),
        organization_id: group.organization_id.to_string(),
        scheduled_at: to_db_time(s.scheduled_at),
        duration_minutes: s.duration_minutes as i32,
        format: s.format.as_str().to_owned(),
        status: s.status.as_str().to_owned(),
        agenda: s.agenda.clone(),
        shared_summary: s.shared_summary.clone(),
        private_notes: s.private_notes.clone(),
        notes_author: s.notes_author.map(|u| u.to_string()),
        status_reason: s.status_reason.clone(),
        completed_at: s.completed_at.map(to_db_time),
        created_at: to_db_time(s.created_at),
        updated_at: to_db_time(s.updated_at),
        version: s.version,
    }
}

impl SessionRow {
    fn into_domain(self) -> Result<GroupSession, StoreError> {
        Ok(GroupSession {
            id: parse("session id", &self.id)?,
            group_id: parse("group id", &self.group_id)?,
            scheduled_at: from_db_time(self.scheduled_at),
            duration_minutes: u32::try_from(self.duration_minutes)
                .map_err(|_| corrupt("duration", &self.duration_minutes.to_string()))?,
            format: parse("format", &self.format)?,
            status: parse::<GroupSessionStatus>("status", &self.status)?,
            agenda: self.agenda,
            shared_summary: self.shared_summary,
            private_notes: self.private_notes,
            notes_author: self.notes_author.as_deref().map(|u| parse("user id", u)).transpose()?,
            status_reason: self.status_reason,
            completed_at: self.completed_at.map(from_db_time),
            created_at: from_db_time(self.created_at),
            updated_at: from_db_time(self.updated_at),
            version: self.version,
        })
    }
}

pub fn insert_session(conn: &mut DbConnection, group: &Group, s: &GroupSession) -> Result<(), StoreError> {
    diesel::insert_into(group_sessions::table).values(session_row(group, s)).execute(conn)?;
    Ok(())
}

pub fn save_session(
    conn: &mut DbConnection,
    group: &Group,
    s: &GroupSession,
    read_version: i64,
) -> Result<(), StoreError> {
    let written = diesel::update(
        group_sessions::table
            .filter(group_sessions::id.eq(s.id.to_string()))
            .filter(group_sessions::version.eq(read_version)),
    )
    .set(session_row(group, s))
    .execute(conn)?;
    super::written_once(written)
}

pub fn get_session(conn: &mut DbConnection, group: GroupId, id: GroupSessionId) -> Result<GroupSession, StoreError> {
    super::optional(
        group_sessions::table
            .filter(group_sessions::id.eq(id.to_string()))
            .filter(group_sessions::group_id.eq(group.to_string()))
            .select(SessionRow::as_select())
            .first(conn),
    )?
    .ok_or_else(|| StoreError::not_found("session"))?
    .into_domain()
}

/// The group's sessions in time order.
pub fn sessions(conn: &mut DbConnection, group: GroupId) -> Result<Vec<GroupSession>, StoreError> {
    let rows: Vec<SessionRow> = group_sessions::table
        .filter(group_sessions::group_id.eq(group.to_string()))
        .order((group_sessions::scheduled_at.asc(), group_sessions::id.asc()))
        .select(SessionRow::as_select())
        .load(conn)?;
    rows.into_iter().map(SessionRow::into_domain).collect()
}

pub fn insert_attendance(
    conn: &mut DbConnection,
    group: &Group,
    session: GroupSessionId,
    attendance: &[Attendance],
) -> Result<(), StoreError> {
    // One statement per person: MultiConnection has no batch insert (and a group is small).
    for a in attendance {
        diesel::insert_into(group_attendance::table)
            .values((
                group_attendance::session_id.eq(session.to_string()),
                group_attendance::user_id.eq(a.user_id.to_string()),
                group_attendance::organization_id.eq(group.organization_id.to_string()),
                group_attendance::attended.eq(a.attended),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The attendance of every completed session of the group: (session, attendance).
pub fn attendance(conn: &mut DbConnection, group: GroupId) -> Result<Vec<(GroupSessionId, Attendance)>, StoreError> {
    let rows: Vec<(String, String, bool)> = group_attendance::table
        .inner_join(group_sessions::table.on(group_sessions::id.eq(group_attendance::session_id)))
        .filter(group_sessions::group_id.eq(group.to_string()))
        .order((group_attendance::session_id.asc(), group_attendance::user_id.asc()))
        .select((group_attendance::session_id, group_attendance::user_id, group_attendance::attended))
        .load(conn)?;
    rows.into_iter()
        .map(|(s, u, attended)| Ok((parse("session id", &s)?, Attendance { user_id: parse("user id", &u)?, attended })))
        .collect()
}

// ---- participants' own outcomes and action items ----

#[derive(Queryable, Selectable, Insertable, serde::Deserialize)]
#[diesel(table_name = group_outcomes)]
pub(crate) struct OutcomeRow {
    id: String,
    group_id: String,
    organization_id: String,
    participant_id: String,
    title: String,
    measure: Option<String>,
    baseline: Option<String>,
    target: Option<String>,
    created_at: NaiveDateTime,
}

pub fn insert_outcome(conn: &mut DbConnection, group: &Group, o: &GroupOutcome) -> Result<(), StoreError> {
    diesel::insert_into(group_outcomes::table)
        .values(OutcomeRow {
            id: o.id.to_string(),
            group_id: group.id.to_string(),
            organization_id: group.organization_id.to_string(),
            participant_id: o.participant_id.to_string(),
            title: o.title.clone(),
            measure: o.measure.clone(),
            baseline: o.baseline.clone(),
            target: o.target.clone(),
            created_at: to_db_time(o.created_at),
        })
        .execute(conn)?;
    Ok(())
}

/// One participant's outcomes in the group (`None`: every participant's), oldest first.
pub fn outcomes(
    conn: &mut DbConnection,
    group: GroupId,
    participant: Option<UserId>,
) -> Result<Vec<GroupOutcome>, StoreError> {
    let mut query = group_outcomes::table.filter(group_outcomes::group_id.eq(group.to_string())).into_boxed();
    if let Some(participant) = participant {
        query = query.filter(group_outcomes::participant_id.eq(participant.to_string()));
    }
    let rows: Vec<OutcomeRow> = query.order(group_outcomes::id.asc()).select(OutcomeRow::as_select()).load(conn)?;
    rows.into_iter().map(OutcomeRow::into_domain).collect()
}

impl OutcomeRow {
    pub(crate) fn into_domain(self) -> Result<GroupOutcome, StoreError> {
        Ok(GroupOutcome {
            id: parse("outcome id", &self.id)?,
            group_id: parse("group id", &self.group_id)?,
            participant_id: parse("user id", &self.participant_id)?,
            title: self.title,
            measure: self.measure,
            baseline: self.baseline,
            target: self.target,
            created_at: from_db_time(self.created_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable, AsChangeset, serde::Deserialize)]
#[diesel(table_name = group_action_items, treat_none_as_null = true)]
pub(crate) struct ItemRow {
    id: String,
    group_id: String,
    organization_id: String,
    participant_id: String,
    session_id: Option<String>,
    title: String,
    details: Option<String>,
    due_date: Option<NaiveDate>,
    status: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

fn item_row(group: &Group, i: &GroupActionItem) -> ItemRow {
    ItemRow {
        id: i.id.to_string(),
        group_id: group.id.to_string(),
        organization_id: group.organization_id.to_string(),
        participant_id: i.participant_id.to_string(),
        session_id: i.session_id.map(|s| s.to_string()),
        title: i.title.clone(),
        details: i.details.clone(),
        due_date: i.due_date,
        status: i.status.as_str().to_owned(),
        created_at: to_db_time(i.created_at),
        updated_at: to_db_time(i.updated_at),
        version: i.version,
    }
}

impl ItemRow {
    pub(crate) fn into_domain(self) -> Result<GroupActionItem, StoreError> {
        Ok(GroupActionItem {
            id: parse("action item id", &self.id)?,
            group_id: parse("group id", &self.group_id)?,
            participant_id: parse("user id", &self.participant_id)?,
            session_id: self.session_id.as_deref().map(|s| parse("session id", s)).transpose()?,
            title: self.title,
            details: self.details,
            due_date: self.due_date,
            status: parse::<GroupItemStatus>("status", &self.status)?,
            created_at: from_db_time(self.created_at),
            updated_at: from_db_time(self.updated_at),
            version: self.version,
        })
    }
}

pub fn insert_item(conn: &mut DbConnection, group: &Group, item: &GroupActionItem) -> Result<(), StoreError> {
    diesel::insert_into(group_action_items::table).values(item_row(group, item)).execute(conn)?;
    Ok(())
}

pub fn save_item(
    conn: &mut DbConnection,
    group: &Group,
    item: &GroupActionItem,
    read_version: i64,
) -> Result<(), StoreError> {
    let written = diesel::update(
        group_action_items::table
            .filter(group_action_items::id.eq(item.id.to_string()))
            .filter(group_action_items::version.eq(read_version)),
    )
    .set(item_row(group, item))
    .execute(conn)?;
    super::written_once(written)
}

/// One participant's action item in the group.
pub fn get_item(
    conn: &mut DbConnection,
    group: GroupId,
    participant: UserId,
    id: GroupActionItemId,
) -> Result<GroupActionItem, StoreError> {
    super::optional(
        group_action_items::table
            .filter(group_action_items::id.eq(id.to_string()))
            .filter(group_action_items::group_id.eq(group.to_string()))
            .filter(group_action_items::participant_id.eq(participant.to_string()))
            .select(ItemRow::as_select())
            .first(conn),
    )?
    .ok_or_else(|| StoreError::not_found("participant item"))?
    .into_domain()
}

/// One participant's action items in the group (`None`: every participant's), oldest first.
pub fn items(
    conn: &mut DbConnection,
    group: GroupId,
    participant: Option<UserId>,
) -> Result<Vec<GroupActionItem>, StoreError> {
    let mut query = group_action_items::table.filter(group_action_items::group_id.eq(group.to_string())).into_boxed();
    if let Some(participant) = participant {
        query = query.filter(group_action_items::participant_id.eq(participant.to_string()));
    }
    let rows: Vec<ItemRow> = query.order(group_action_items::id.asc()).select(ItemRow::as_select()).load(conn)?;
    rows.into_iter().map(ItemRow::into_domain).collect()
}
