//! Coaching contracts, and what the programs drawing on them hold (docs/contracts.md).

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::sum;
use diesel::prelude::*;
use keel_domain::contract::{Contract, Price};
use keel_domain::engagement::Phase;
use keel_domain::page::{Page, PageRequest};
use keel_domain::{ContractId, EngagementId, GroupId, OrganizationId};

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::repo::sums;
use crate::rows::{corrupt, from_db_time, to_db_time};
use crate::schema::{coaching_groups, contracts, engagements, group_sessions, sessions};

const RESOURCE: &str = "contract";

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = contracts, treat_none_as_null = true)]
struct ContractRow {
    id: String,
    organization_id: String,
    name: String,
    provider: Option<String>,
    start_date: NaiveDate,
    end_date: NaiveDate,
    bought_minutes: i64,
    price_hundredths: Option<i64>,
    currency: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

impl From<&Contract> for ContractRow {
    fn from(c: &Contract) -> Self {
        ContractRow {
            id: c.id.to_string(),
            organization_id: c.organization_id.to_string(),
            name: c.name.clone(),
            provider: c.provider.clone(),
            start_date: c.start_date,
            end_date: c.end_date,
            bought_minutes: c.bought_minutes,
            price_hundredths: c.price.as_ref().map(|p| p.hundredths_per_hour),
            currency: c.price.as_ref().map(|p| p.currency.clone()),
            created_at: to_db_time(c.created_at),
            updated_at: to_db_time(c.updated_at),
            version: c.version,
        }
    }
}

impl ContractRow {
    fn into_domain(self) -> Result<Contract, StoreError> {
        let price = match (self.price_hundredths, self.currency) {
            (Some(hundredths_per_hour), Some(currency)) => Some(Price { hundredths_per_hour, currency }),
            (None, None) => None,
            _ => return Err(corrupt("contract price", &self.id)),
        };
        Ok(Contract {
            id: self.id.parse().map_err(|_| corrupt("contract id", &self.id))?,
            organization_id: self
                .organization_id
                .parse()
                .map_err(|_| corrupt("organization id", &self.organization_id))?,
            name: self.name,
            provider: self.provider,
            start_date: self.start_date,
            end_date: self.end_date,
            bought_minutes: self.bought_minutes,
            price,
            created_at: from_db_time(self.created_at),
            updated_at: from_db_time(self.updated_at),
            version: self.version,
        })
    }
}

pub fn insert(conn: &mut DbConnection, contract: &Contract) -> Result<(), StoreError> {
    diesel::insert_into(contracts::table).values(ContractRow::from(contract)).execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: ContractId) -> Result<Option<Contract>, StoreError> {
    super::optional(contracts::table.find(id.to_string()).select(ContractRow::as_select()).first(conn))?
        .map(ContractRow::into_domain)
        .transpose()
}

pub fn get(conn: &mut DbConnection, id: ContractId) -> Result<Contract, StoreError> {
    find(conn, id)?.ok_or_else(|| StoreError::not_found(RESOURCE))
}

/// The contract, with its row locked until the transaction ends: two allocations on one
/// contract are decided one after the other.
pub fn lock(conn: &mut DbConnection, id: ContractId) -> Result<Option<Contract>, StoreError> {
    let row: Option<ContractRow> =
        super::first_for_update!(conn, contracts::table.find(id.to_string()).select(ContractRow::as_select()))?;
    row.map(ContractRow::into_domain).transpose()
}

/// Writes `contract` over the stored row, which must still be at `read_version`.
pub fn save(conn: &mut DbConnection, contract: &Contract, read_version: i64) -> Result<(), StoreError> {
    let written = diesel::update(
        contracts::table.filter(contracts::id.eq(contract.id.to_string())).filter(contracts::version.eq(read_version)),
    )
    .set(ContractRow::from(contract))
    .execute(conn)?;
    super::written_once(written)
}

pub fn delete(conn: &mut DbConnection, id: ContractId) -> Result<(), StoreError> {
    let deleted = diesel::delete(contracts::table.find(id.to_string())).execute(conn)?;
    super::written_once(deleted)
}

/// A page of contracts, oldest first; `only` restricts it to one organization.
pub fn list(
    conn: &mut DbConnection,
    only: Option<OrganizationId>,
    page: PageRequest,
) -> Result<Page<Contract>, StoreError> {
    let mut query = contracts::table
        .select(ContractRow::as_select())
        .order(contracts::id.asc())
        .limit(i64::from(page.limit) + 1)
        .into_boxed();
    if let Some(org) = only {
        query = query.filter(contracts::organization_id.eq(org.to_string()));
    }
    if let Some(after) = page.after {
        query = query.filter(contracts::id.gt(after.to_string()));
    }
    let items = query.load(conn)?.into_iter().map(ContractRow::into_domain).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_overfetch(items, page.limit))
}

/// Which program draws on a contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Drawer {
    Engagement(EngagementId),
    Group(GroupId),
}

/// One program drawing on a contract: its plan and the minutes it used and was granted.
#[derive(Clone, Debug, PartialEq)]
pub struct Drawing {
    pub drawer: Drawer,
    pub start_date: NaiveDate,
    pub planned_end_date: NaiveDate,
    pub monthly_hours_budget: f64,
    /// Completed or cancelled (a group never ends).
    pub ended: bool,
    pub used_minutes: i64,
    pub extension_minutes: i64,
}

impl keel_domain::coaching::Budgeted for Drawing {
    fn start_date(&self) -> NaiveDate {
        self.start_date
    }
    fn planned_end_date(&self) -> NaiveDate {
        self.planned_end_date
    }
    fn monthly_hours_budget(&self) -> f64 {
        self.monthly_hours_budget
    }
}

/// Every program drawing on `contract`, with the minutes used (sessions in `counted` statuses;
/// a group's completed sessions) and approved extensions, summed a batch of programs at a time.
pub fn drawings(conn: &mut DbConnection, contract: ContractId, counted: &[&str]) -> Result<Vec<Drawing>, StoreError> {
    let id = contract.to_string();
    let rows: Vec<(String, String, NaiveDate, NaiveDate, f64)> = engagements::table
        .filter(engagements::contract_id.eq(&id))
        .select((
            engagements::id,
            engagements::phase,
            engagements::start_date,
            engagements::planned_end_date,
            engagements::monthly_hours_budget,
        ))
        .order(engagements::id)
        .load(conn)?;
    let ids: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    let minutes = sums::session_minutes(conn, &ids, counted, None)?;
    let extended = sums::extension_minutes(conn, &ids)?;
    let mut used: HashMap<&str, i64> = HashMap::new();
    for ((engagement, _), m) in &minutes {
        *used.entry(engagement.as_str()).or_default() += m.minutes;
    }
    let mut found = Vec::with_capacity(rows.len());
    for (engagement, phase, start_date, planned_end_date, budget) in &rows {
        let phase: Phase = phase.parse().map_err(|_| corrupt("phase", phase))?;
        found.push(Drawing {
            drawer: Drawer::Engagement(engagement.parse().map_err(|_| corrupt("engagement id", engagement))?),
            start_date: *start_date,
            planned_end_date: *planned_end_date,
            monthly_hours_budget: *budget,
            ended: phase.is_terminal(),
            used_minutes: used.get(engagement.as_str()).copied().unwrap_or(0),
            extension_minutes: extended.get(engagement).copied().unwrap_or(0),
        });
    }
    let groups: Vec<(String, NaiveDate, NaiveDate, f64)> = coaching_groups::table
        .filter(coaching_groups::contract_id.eq(&id))
        .select((
            coaching_groups::id,
            coaching_groups::start_date,
            coaching_groups::planned_end_date,
            coaching_groups::monthly_hours_budget,
        ))
        .order(coaching_groups::id)
        .load(conn)?;
    let ids: Vec<String> = groups.iter().map(|g| g.0.clone()).collect();
    let group_sums = sums::group_sums(conn, &ids, None)?;
    for (group, start_date, planned_end_date, budget) in groups {
        found.push(Drawing {
            used_minutes: group_sums.get(&group).map_or(0, |s| s.used_minutes),
            drawer: Drawer::Group(group.parse().map_err(|_| corrupt("group id", &group))?),
            start_date,
            planned_end_date,
            monthly_hours_budget: budget,
            ended: false,
            extension_minutes: 0,
        });
    }
    Ok(found)
}

/// Whether any program draws on the contract.
pub fn in_use(conn: &mut DbConnection, contract: ContractId) -> Result<bool, StoreError> {
    let id = contract.to_string();
    let engagement = diesel::select(diesel::dsl::exists(engagements::table.filter(engagements::contract_id.eq(&id))))
        .get_result::<bool>(conn)?;
    Ok(engagement
        || diesel::select(diesel::dsl::exists(coaching_groups::table.filter(coaching_groups::contract_id.eq(&id))))
            .get_result::<bool>(conn)?)
}

/// Minutes used since `since` by the programs drawing on `contract` (sessions in `counted`
/// statuses; a group's completed sessions): the contract's recent pace.
pub fn recent_minutes(
    conn: &mut DbConnection,
    contract: ContractId,
    counted: &[&str],
    since: NaiveDateTime,
) -> Result<i64, StoreError> {
    let id = contract.to_string();
    let drawing = engagements::table.filter(engagements::contract_id.eq(&id)).select(engagements::id);
    let engagement: Option<i64> = sessions::table
        .filter(sessions::engagement_id.eq_any(drawing))
        .filter(sessions::status.eq_any(counted.iter().map(|s| s.to_string()).collect::<Vec<_>>()))
        .filter(sessions::scheduled_at.ge(since))
        .select(sum(sessions::duration_minutes))
        .first(conn)?;
    let groups = coaching_groups::table.filter(coaching_groups::contract_id.eq(&id)).select(coaching_groups::id);
    let group: Option<i64> = group_sessions::table
        .filter(group_sessions::group_id.eq_any(groups))
        .filter(group_sessions::status.eq("completed"))
        .filter(group_sessions::scheduled_at.ge(since))
        .select(sum(group_sessions::duration_minutes))
        .first(conn)?;
    Ok(engagement.unwrap_or(0) + group.unwrap_or(0))
}

#[derive(diesel::QueryableByName)]
struct MonthRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    contract_id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    status: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    month: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    minutes: i64,
}

/// Minutes used in one calendar month by the programs drawing on a contract, by session status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonthMinutes {
    pub contract_id: String,
    /// A group's sessions count as `completed`.
    pub status: String,
    /// `YYYY-MM`.
    pub month: String,
    pub minutes: i64,
}

/// Minutes per contract, session status (completed or no-show) and calendar month, in month
/// order, of the programs drawing on these contracts: one statement for all of them.
pub fn used_by_month(conn: &mut DbConnection, contracts: &[ContractId]) -> Result<Vec<MonthMinutes>, StoreError> {
    if contracts.is_empty() {
        return Ok(Vec::new());
    }
    // Ids Keel made, written into the statement: a list of any length needs no bound parameters.
    let ids = contracts.iter().map(|id| format!("'{id}'")).collect::<Vec<_>>().join(", ");
    let month = |column: &str| match conn.backend() {
        crate::Backend::Postgres => format!("to_char({column}, 'YYYY-MM')"),
        crate::Backend::Sqlite => format!("strftime('%Y-%m', {column})"),
    };
    let query = format!(
        "SELECT contract_id, status, month, CAST(SUM(minutes) AS BIGINT) AS minutes FROM ( \
           SELECT e.contract_id AS contract_id, s.status AS status, {s_month} AS month, s.duration_minutes AS minutes \
             FROM engagements e JOIN sessions s ON s.engagement_id = e.id \
            WHERE e.contract_id IN ({ids}) AND s.status IN ('completed', 'no_show') \
           UNION ALL \
           SELECT c.contract_id, g.status, {g_month}, g.duration_minutes \
             FROM coaching_groups c JOIN group_sessions g ON g.group_id = c.id \
            WHERE c.contract_id IN ({ids}) AND g.status = 'completed' \
         ) used GROUP BY contract_id, status, month ORDER BY month, contract_id, status",
        s_month = month("s.scheduled_at"),
        g_month = month("g.scheduled_at"),
    );
    let rows: Vec<MonthRow> = diesel::sql_query(query).load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| MonthMinutes { contract_id: r.contract_id, status: r.status, month: r.month, minutes: r.minutes })
        .collect())
}
