//! Table rows and their conversion to and from domain entities.

use std::collections::BTreeMap;

use chrono::{NaiveDateTime, TimeZone, Utc};
use diesel::prelude::*;
use keel_domain::api_client::ApiClient;
use keel_domain::organization::{Organization, OrganizationSettings};
use keel_domain::policy::Scope;
use keel_domain::time::Timestamp;
use keel_domain::user::{Email, Role, User, UserStatus};
use keel_domain::{EngagementId, OrganizationId, UserId};

use crate::error::StoreError;
use crate::schema::{api_clients, audit_events, organizations, users};

pub(crate) fn to_db_time(t: Timestamp) -> NaiveDateTime {
    t.naive_utc()
}

pub fn from_db_time(t: NaiveDateTime) -> Timestamp {
    Utc.from_utc_datetime(&t)
}

/// A stored value that does not parse: the database holds something no code path writes.
pub fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Database(diesel::result::Error::DeserializationError(
        format!("stored {what} {value:?} is invalid").into(),
    ))
}

/// The `stuck_after_days` column: phase name → days, as a JSON object.
pub(crate) fn stuck_json(days: &BTreeMap<keel_domain::engagement::Phase, u32>) -> String {
    serde_json::to_string(&days.iter().map(|(p, d)| (p.as_str(), *d)).collect::<BTreeMap<_, _>>()).unwrap_or_default()
}

fn flag(b: bool) -> i32 {
    i32::from(b)
}

#[derive(Queryable, Selectable, Insertable, AsChangeset, Identifiable, Debug, Clone, PartialEq, serde::Deserialize)]
#[diesel(table_name = organizations)]
pub struct OrganizationRow {
    pub id: String,
    pub name: String,
    pub min_raters: i32,
    pub default_monthly_hours_budget: f64,
    pub no_show_counts: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
    pub email_change_hold_hours: i32,
    pub allow_contract_overdraft: i32,
    /// Phase name → days, as a JSON object.
    pub stuck_after_days: String,
}

impl From<&Organization> for OrganizationRow {
    fn from(org: &Organization) -> Self {
        OrganizationRow {
            id: org.id.to_string(),
            name: org.name.clone(),
            min_raters: org.settings.min_raters as i32,
            default_monthly_hours_budget: org.settings.default_monthly_hours_budget,
            no_show_counts: flag(org.settings.no_show_counts),
            created_at: to_db_time(org.created_at),
            updated_at: to_db_time(org.updated_at),
            version: org.version,
            email_change_hold_hours: org.settings.email_change_hold_hours as i32,
            allow_contract_overdraft: flag(org.settings.allow_contract_overdraft),
            stuck_after_days: stuck_json(&org.settings.stuck_after_days),
        }
    }
}

impl TryFrom<OrganizationRow> for Organization {
    type Error = StoreError;
    fn try_from(row: OrganizationRow) -> Result<Self, StoreError> {
        Ok(Organization {
            id: row.id.parse::<OrganizationId>().map_err(|_| corrupt("organization id", &row.id))?,
            name: row.name,
            settings: OrganizationSettings {
                min_raters: u32::try_from(row.min_raters)
                    .map_err(|_| corrupt("min_raters", &row.min_raters.to_string()))?,
                default_monthly_hours_budget: row.default_monthly_hours_budget,
                no_show_counts: row.no_show_counts != 0,
                email_change_hold_hours: u32::try_from(row.email_change_hold_hours)
                    .map_err(|_| corrupt("email_change_hold_hours", &row.email_change_hold_hours.to_string()))?,
                allow_contract_overdraft: row.allow_contract_overdraft != 0,
                stuck_after_days: serde_json::from_str::<BTreeMap<String, u32>>(&row.stuck_after_days)
                    .map_err(|_| corrupt("stuck_after_days", &row.stuck_after_days))?
                    .into_iter()
                    .map(|(phase, days)| phase.parse().map(|p| (p, days)).map_err(|_| corrupt("phase", &phase)))
                    .collect::<Result<_, _>>()?,
            },
            created_at: from_db_time(row.created_at),
            updated_at: from_db_time(row.updated_at),
            version: row.version,
        })
    }
}

#[derive(Queryable, Selectable, Insertable, AsChangeset, Identifiable, Debug, Clone, PartialEq)]
#[diesel(table_name = users, treat_none_as_null = true)]
pub struct UserRow {
    pub id: String,
    pub organization_id: Option<String>,
    pub email: String,
    pub email_normalized: String,
    pub name: String,
    pub role_admin: i32,
    pub role_hr_partner: i32,
    pub role_coach: i32,
    pub status: String,
    pub external_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
    pub sign_in_hold_until: Option<NaiveDateTime>,
}

impl From<&User> for UserRow {
    fn from(user: &User) -> Self {
        UserRow {
            id: user.id.to_string(),
            organization_id: user.organization_id.map(|id| id.to_string()),
            email: user.email.as_str().to_owned(),
            email_normalized: user.email.normalized(),
            name: user.name.clone(),
            role_admin: flag(user.has_role(Role::Admin)),
            role_hr_partner: flag(user.has_role(Role::HrPartner)),
            role_coach: flag(user.has_role(Role::Coach)),
            status: user.status.as_str().to_owned(),
            external_id: user.external_id.clone(),
            created_at: to_db_time(user.created_at),
            updated_at: to_db_time(user.updated_at),
            version: user.version,
            sign_in_hold_until: user.sign_in_hold_until.map(to_db_time),
        }
    }
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        let roles =
            [(row.role_admin, Role::Admin), (row.role_hr_partner, Role::HrPartner), (row.role_coach, Role::Coach)]
                .into_iter()
                .filter(|(set, _)| *set != 0)
                .map(|(_, role)| role)
                .collect();
        Ok(User {
            id: row.id.parse::<UserId>().map_err(|_| corrupt("user id", &row.id))?,
            email: Email::parse(&row.email).map_err(|_| corrupt("email", &row.email))?,
            name: row.name,
            organization_id: row
                .organization_id
                .as_deref()
                .map(|id| id.parse::<OrganizationId>().map_err(|_| corrupt("organization id", id)))
                .transpose()?,
            roles,
            status: row.status.parse::<UserStatus>().map_err(|_| corrupt("user status", &row.status))?,
            external_id: row.external_id,
            created_at: from_db_time(row.created_at),
            updated_at: from_db_time(row.updated_at),
            version: row.version,
            sign_in_hold_until: row.sign_in_hold_until.map(from_db_time),
        })
    }
}

#[derive(Queryable, Selectable, Insertable, Debug, Clone, PartialEq)]
#[diesel(table_name = audit_events)]
pub struct AuditEventRow {
    pub id: String,
    pub occurred_at: NaiveDateTime,
    pub organization_id: Option<String>,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub resource_type: String,
    pub resource_id: String,
    pub request_id: String,
    /// JSON array of the field names a change touched (never their values).
    pub changed_fields: String,
}

#[derive(Queryable, Selectable, Insertable, AsChangeset, Identifiable, Debug, Clone, PartialEq)]
#[diesel(table_name = api_clients, treat_none_as_null = true)]
pub struct ApiClientRow {
    pub id: String,
    pub client_id: String,
    pub organization_id: String,
    pub name: String,
    /// Space-separated scope names.
    pub scopes: String,
    pub secret_hash: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub secret_rotated_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub version: i64,
}

impl From<&ApiClient> for ApiClientRow {
    fn from(c: &ApiClient) -> Self {
        ApiClientRow {
            id: c.id.to_string(),
            client_id: c.client_id.clone(),
            organization_id: c.organization_id.to_string(),
            name: c.name.clone(),
            scopes: c.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "),
            secret_hash: c.secret_hash.clone(),
            created_at: to_db_time(c.created_at),
            updated_at: to_db_time(c.updated_at),
            secret_rotated_at: to_db_time(c.secret_rotated_at),
            revoked_at: c.revoked_at.map(to_db_time),
            version: c.version,
        }
    }
}

impl TryFrom<ApiClientRow> for ApiClient {
    type Error = StoreError;
    fn try_from(row: ApiClientRow) -> Result<Self, StoreError> {
        Ok(ApiClient {
            id: row.id.parse().map_err(|_| corrupt("api client id", &row.id))?,
            organization_id: row
                .organization_id
                .parse()
                .map_err(|_| corrupt("organization id", &row.organization_id))?,
            scopes: row
                .scopes
                .split_whitespace()
                .map(|s| s.parse::<Scope>().map_err(|_| corrupt("scope", s)))
                .collect::<Result<_, _>>()?,
            client_id: row.client_id,
            name: row.name,
            secret_hash: row.secret_hash,
            created_at: from_db_time(row.created_at),
            updated_at: from_db_time(row.updated_at),
            secret_rotated_at: from_db_time(row.secret_rotated_at),
            revoked_at: row.revoked_at.map(from_db_time),
            version: row.version,
        })
    }
}

#[derive(Queryable, Selectable, Insertable, AsChangeset, Identifiable, Debug, Clone, PartialEq)]
#[diesel(table_name = crate::schema::engagements, treat_none_as_null = true)]
pub struct EngagementRow {
    pub id: String,
    pub organization_id: String,
    pub title: String,
    pub leader_id: String,
    pub coach_id: String,
    pub hr_partner_id: Option<String>,
    pub phase: String,
    pub held_from: Option<String>,
    pub start_date: chrono::NaiveDate,
    pub planned_end_date: chrono::NaiveDate,
    pub monthly_hours_budget: f64,
    pub renewed_from_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
    /// The sponsors, comma-separated in id order (also in `engagement_sponsors`, for lookups by
    /// sponsor): an engagement reads in one row.
    pub sponsor_ids: String,
    pub template_id: String,
    pub template_version: i64,
    pub contract_id: Option<String>,
}

/// The comma-separated form of `sponsor_ids` (ids in order, as a `BTreeSet` yields them).
pub fn sponsor_list<T: std::fmt::Display>(ids: impl IntoIterator<Item = T>) -> String {
    ids.into_iter().map(|id| id.to_string()).collect::<Vec<_>>().join(",")
}

impl From<&keel_domain::engagement::Engagement> for EngagementRow {
    fn from(e: &keel_domain::engagement::Engagement) -> Self {
        EngagementRow {
            id: e.id.to_string(),
            organization_id: e.organization_id.to_string(),
            title: e.title.clone(),
            leader_id: e.leader_id.to_string(),
            coach_id: e.coach_id.to_string(),
            hr_partner_id: e.hr_partner_id.map(|id| id.to_string()),
            phase: e.phase.as_str().to_owned(),
            held_from: e.held_from.map(|p| p.as_str().to_owned()),
            start_date: e.start_date,
            planned_end_date: e.planned_end_date,
            monthly_hours_budget: e.monthly_hours_budget,
            renewed_from_id: e.renewed_from_id.map(|id| id.to_string()),
            created_at: to_db_time(e.created_at),
            updated_at: to_db_time(e.updated_at),
            version: e.version,
            sponsor_ids: sponsor_list(&e.sponsor_ids),
            template_id: e.template_id.to_string(),
            template_version: e.template_version,
            contract_id: e.contract_id.map(|id| id.to_string()),
        }
    }
}

impl EngagementRow {
    pub fn into_domain(self) -> Result<keel_domain::engagement::Engagement, StoreError> {
        use keel_domain::engagement::Phase;
        let phase = |value: &str| value.parse::<Phase>().map_err(|_| corrupt("phase", value));
        let user = |value: &str| value.parse::<UserId>().map_err(|_| corrupt("user id", value));
        let engagement = |value: &str| value.parse::<EngagementId>().map_err(|_| corrupt("id", value));
        let sponsors = self.sponsor_ids.split(',').filter(|id| !id.is_empty()).map(user).collect::<Result<_, _>>()?;
        Ok(keel_domain::engagement::Engagement {
            id: engagement(&self.id)?,
            organization_id: self
                .organization_id
                .parse()
                .map_err(|_| corrupt("organization id", &self.organization_id))?,
            title: self.title,
            leader_id: user(&self.leader_id)?,
            coach_id: user(&self.coach_id)?,
            sponsor_ids: sponsors,
            hr_partner_id: self.hr_partner_id.as_deref().map(user).transpose()?,
            phase: phase(&self.phase)?,
            held_from: self.held_from.as_deref().map(phase).transpose()?,
            start_date: self.start_date,
            planned_end_date: self.planned_end_date,
            monthly_hours_budget: self.monthly_hours_budget,
            renewed_from_id: self.renewed_from_id.as_deref().map(engagement).transpose()?,
            template_id: self.template_id.parse().map_err(|_| corrupt("template id", &self.template_id))?,
            template_version: self.template_version,
            contract_id: self
                .contract_id
                .as_deref()
                .map(|id| id.parse().map_err(|_| corrupt("contract id", id)))
                .transpose()?,
            created_at: from_db_time(self.created_at),
            updated_at: from_db_time(self.updated_at),
            version: self.version,
        })
    }
}
