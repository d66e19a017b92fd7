//! `/v1/organizations`

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, patch, post};
use chrono::{DateTime, Utc};
use keel_commands::organizations;
use keel_domain::organization::{NewOrganization, Organization, OrganizationPatch, SettingsInput};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{PageParams, created, next_cursor, page_request, resource};
use crate::extract::{ApiQuery, Caller, IfMatchVersion, JsonBody};
use crate::problem::ApiError;
use crate::state::AppState;

/// Program settings of an organization.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationSettings {
    /// Stakeholder contributions needed before 360 themes can be released.
    #[schema(example = 3)]
    pub min_raters: u32,
    /// Monthly coaching hours of a new engagement.
    #[schema(example = 3.0)]
    pub default_monthly_hours_budget: f64,
    /// Whether no-show sessions draw on the month's hours.
    pub no_show_counts: bool,
    /// Hours an email address that someone else gave a person waits before a sign-in link can
    /// go to it (0 = no hold).
    #[schema(example = 72)]
    pub email_change_hold_hours: u32,
    /// Whether engagements and groups may allocate more hours than their contract holds.
    pub allow_contract_overdraft: bool,
    /// Days a program may stay in a phase before the pipeline report flags it as stuck; a
    /// phase not listed is never flagged.
    #[schema(example = json!({ "sponsor_review": 30, "on_hold": 60 }))]
    pub stuck_after_days: BTreeMap<String, u32>,
}

/// A client company (tenant).
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationResponse {
    pub id: Uuid,
    #[schema(example = "Acme Corp")]
    pub name: String,
    pub settings: OrganizationSettings,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub updated_at: DateTime<Utc>,
    /// Incremented by every change; the ETag is this number, quoted.
    pub version: i64,
}

impl From<&Organization> for OrganizationResponse {
    fn from(org: &Organization) -> Self {
        OrganizationResponse {
            id: org.id.as_uuid(),
            name: org.name.clone(),
            settings: OrganizationSettings {
                min_raters: org.settings.min_raters,
                default_monthly_hours_budget: org.settings.default_monthly_hours_budget,
                no_show_counts: org.settings.no_show_counts,
                email_change_hold_hours: org.settings.email_change_hold_hours,
                allow_contract_overdraft: org.settings.allow_contract_overdraft,
                stuck_after_days: org
                    .settings
                    .stuck_after_days
                    .iter()
                    .map(|(p, d)| (p.as_str().to_owned(), *d))
                    .collect(),
            },
            created_at: org.created_at,
            updated_at: org.updated_at,
            version: org.version,
        }
    }
}

/// Settings to set; omitted ones keep their current (or default) value.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationSettingsInput {
    /// 1 to 50 (default 3).
    #[schema(minimum = 1, maximum = 50)]
    pub min_raters: Option<i64>,
    /// 0.25 to 200 hours (default 3.0).
    #[schema(minimum = 0.25, maximum = 200)]
    pub default_monthly_hours_budget: Option<f64>,
    /// Default false.
    pub no_show_counts: Option<bool>,
    /// 0 to 720 hours (default 72): how long an email address changed by someone else (an
    /// hr_partner, an API client or an admin) waits before a sign-in link can go to it. The old
    /// address is told of the change at once.
    #[schema(minimum = 0, maximum = 720)]
    pub email_change_hold_hours: Option<i64>,
    /// Default false: an allocation beyond a contract's hours is refused (409 `contract_overdrawn`).
    pub allow_contract_overdraft: Option<bool>,
    /// Days a program may stay in each phase before the pipeline report flags it as stuck;
    /// phases not named keep their setting.
    #[serde(default, deserialize_with = "super::object")]
    pub stuck_after_days: Option<StuckAfterDaysInput>,
}

impl From<OrganizationSettingsInput> for SettingsInput {
    fn from(s: OrganizationSettingsInput) -> Self {
        SettingsInput {
            min_raters: s.min_raters,
            default_monthly_hours_budget: s.default_monthly_hours_budget,
            no_show_counts: s.no_show_counts,
            email_change_hold_hours: s.email_change_hold_hours,
            allow_contract_overdraft: s.allow_contract_overdraft,
            stuck_after_days: s.stuck_after_days.map(StuckAfterDaysInput::into_map),
        }
    }
}

/// Days in a phase after which a program is flagged as stuck: 1 to 365, or `null` to never
/// flag that phase. Defaults: 30 for each step before coaching and for the reviews, 45 for
/// stakeholder interviews, 60 on hold, none for coaching and the ends.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "sponsor_review": 14, "coaching": null }))]
pub struct StuckAfterDaysInput {
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 365)]
    pub context: Option<Option<i64>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 365)]
    pub leader_interview: Option<Option<i64>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 365)]
    pub stakeholder_interviews: Option<Option<i64>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 365)]
    pub assessment_design: Option<Option<i64>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 365)]
    pub sponsor_review: Option<Option<i64>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 365)]
    pub coaching: Option<Option<i64>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 365)]
    pub mid_review: Option<Option<i64>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 365)]
    pub end_review: Option<Option<i64>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 365)]
    pub completed: Option<Option<i64>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 365)]
    pub renewed: Option<Option<i64>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 365)]
    pub on_hold: Option<Option<i64>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 365)]
    pub cancelled: Option<Option<i64>>,
}

impl StuckAfterDaysInput {
    /// The phases named, by their wire names.
    fn into_map(self) -> BTreeMap<String, Option<i64>> {
        [
            ("context", self.context),
            ("leader_interview", self.leader_interview),
            ("stakeholder_interviews", self.stakeholder_interviews),
            ("assessment_design", self.assessment_design),
            ("sponsor_review", self.sponsor_review),
            ("coaching", self.coaching),
            ("mid_review", self.mid_review),
            ("end_review", self.end_review),
            ("completed", self.completed),
            ("renewed", self.renewed),
            ("on_hold", self.on_hold),
            ("cancelled", self.cancelled),
        ]
        .into_iter()
        .filter_map(|(phase, days)| days.map(|d| (phase.to_owned(), d)))
        .collect()
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrganizationRequest {
    /// 1 to 200 characters, trimmed.
    #[schema(example = "Acme Corp", max_length = 200)]
    pub name: String,
    #[serde(default, deserialize_with = "super::object")]
    pub settings: Option<OrganizationSettingsInput>,
}

/// A partial update: only the fields present change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganizationRequest {
    #[schema(max_length = 200)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "super::object")]
    pub settings: Option<OrganizationSettingsInput>,
}

/// A page of organizations.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationPage {
    pub items: Vec<OrganizationResponse>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

const LIST_SCOPE: &str = "organizations";

/// Create an organization.
#[utoipa::path(
    tag = "organizations",
    request_body = CreateOrganizationRequest,
    responses(
        (status = 201, description = "Created", body = OrganizationResponse,
         headers(("ETag" = String, description = "The version"), ("Location" = String, description = "The new organization's URL"))),
    )
)]
#[post("/organizations")]
pub async fn create_organization(
    caller: Caller,
    state: Data<AppState>,
    body: JsonBody<CreateOrganizationRequest>,
) -> Result<HttpResponse, ApiError> {
    let input = NewOrganization { name: body.0.name, settings: body.0.settings.map(Into::into).unwrap_or_default() };
    let org = state.run(move |conn| organizations::create(conn, &caller, input)).await?;
    Ok(created(format!("/v1/organizations/{}", org.id), org.version, &OrganizationResponse::from(&org)))
}

/// List organizations, oldest first.
#[utoipa::path(
    tag = "organizations",
    params(PageParams),
    responses((status = 200, description = "A page of organizations", body = OrganizationPage))
)]
#[get("/organizations")]
pub async fn list_organizations(
    caller: Caller,
    state: Data<AppState>,
    query: ApiQuery<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let page = page_request(&state, LIST_SCOPE, query.0.limit, query.0.cursor.as_deref())?;
    let result = state.run(move |conn| organizations::list(conn, &caller, page)).await?;
    Ok(HttpResponse::Ok().json(OrganizationPage {
        next_cursor: next_cursor(&state, LIST_SCOPE, &result, |o| o.id.as_uuid()),
        items: result.items.iter().map(OrganizationResponse::from).collect(),
    }))
}

/// Get an organization.
#[utoipa::path(
    tag = "organizations",
    params(("org_id" = Uuid, Path, description = "The organization's id")),
    responses((status = 200, description = "The organization", body = OrganizationResponse,
               headers(("ETag" = String, description = "The version"))))
)]
#[get("/organizations/{org_id}")]
pub async fn get_organization(caller: Caller, state: Data<AppState>, id: Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().into();
    let org = state.run(move |conn| organizations::get(conn, &caller, id)).await?;
    Ok(resource(StatusCode::OK, org.version, &OrganizationResponse::from(&org)))
}

/// Update an organization's name or settings.
#[utoipa::path(
    tag = "organizations",
    params(
        ("org_id" = Uuid, Path, description = "The organization's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; the update is refused with 412 if it is no longer current"),
    ),
    request_body = UpdateOrganizationRequest,
    responses((status = 200, description = "The updated organization", body = OrganizationResponse,
               headers(("ETag" = String, description = "The new version"))))
)]
#[patch("/organizations/{org_id}")]
pub async fn update_organization(
    caller: Caller,
    state: Data<AppState>,
    id: Path<Uuid>,
    if_match: IfMatchVersion,
    body: JsonBody<UpdateOrganizationRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().into();
    let patch = OrganizationPatch { name: body.0.name, settings: body.0.settings.map(Into::into) };
    let org = state.run(move |conn| organizations::update(conn, &caller, id, if_match.0.as_ref(), &patch)).await?;
    Ok(resource(StatusCode::OK, org.version, &OrganizationResponse::from(&org)))
}
