//! `/v1/contracts`: the coaching hours an organization bought (docs/contracts.md).

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, delete, get, patch, post};
use chrono::{DateTime, NaiveDate, Utc};
use keel_commands::contracts::{self, ContractView};
use keel_domain::OrganizationId;
use keel_domain::contract::{ContractInput, ContractPatch, format_hundredths};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{created, double_option, next_cursor, page_request, resource};
use crate::extract::{ApiQuery, Caller, IfMatchVersion, JsonBody};
use crate::problem::ApiError;
use crate::state::AppState;

fn hours(minutes: i64) -> f64 {
    minutes as f64 / 60.0
}

/// Hours an organization bought for a period, and what the programs drawing on it hold.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContractResponse {
    pub id: Uuid,
    pub organization_id: Uuid,
    #[schema(example = "2027 leadership coaching")]
    pub name: String,
    /// The coaching provider the hours are bought from.
    #[schema(example = "North Coaching Ltd")]
    pub provider: Option<String>,
    /// The period (inclusive): programs drawing on the contract start in it.
    #[serde(serialize_with = "crate::json::date")]
    #[schema(value_type = String, format = Date)]
    pub start_date: NaiveDate,
    #[serde(serialize_with = "crate::json::date")]
    #[schema(value_type = String, format = Date)]
    pub end_date: NaiveDate,
    /// Hours bought.
    #[schema(example = 400.0)]
    pub hours: f64,
    /// Hours its programs hold: a running program its monthly budget over its planned months
    /// plus approved extensions (or what it used, if more); an ended one what it used.
    pub allocated_hours: f64,
    /// Hours of completed sessions (and no-shows, where the organization counts them).
    pub used_hours: f64,
    /// Bought and not allocated; negative when the contract is overdrawn.
    pub unallocated_hours: f64,
    /// Bought and not used.
    pub remaining_hours: f64,
    /// Engagements and groups drawing on the contract.
    pub programs: usize,
    /// The price per hour; null for an unpriced contract.
    pub price: Option<Price>,
    /// The price of the hours used, in the price's currency, with two decimals (rounded half
    /// up); null when unpriced.
    #[schema(example = "5400.00")]
    pub used_cost: Option<String>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub updated_at: DateTime<Utc>,
    /// Incremented by every change; the ETag is this number, quoted.
    pub version: i64,
}

impl From<&ContractView> for ContractResponse {
    fn from(v: &ContractView) -> Self {
        let c = &v.contract;
        ContractResponse {
            id: c.id.as_uuid(),
            organization_id: c.organization_id.as_uuid(),
            name: c.name.clone(),
            provider: c.provider.clone(),
            start_date: c.start_date,
            end_date: c.end_date,
            hours: hours(c.bought_minutes),
            allocated_hours: hours(v.standing.allocated_minutes),
            used_hours: hours(v.standing.used_minutes),
            unallocated_hours: hours(v.standing.unallocated_minutes()),
            remaining_hours: hours(v.standing.remaining_minutes()),
            programs: v.programs,
            price: c.price.as_ref().map(|p| Price { amount: p.amount(), currency: p.currency.clone() }),
            used_cost: c.price.as_ref().map(|p| format_hundredths(p.cost_of(v.standing.used_minutes))),
            created_at: c.created_at,
            updated_at: c.updated_at,
            version: c.version,
        }
    }
}

/// A price per hour: an amount with up to seven digits and two decimals, in an ISO 4217
/// currency.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Price {
    #[schema(example = "180.00", max_length = 10, pattern = r"^[0-9]{1,7}(\.[0-9]{1,2})?$")]
    pub amount: String,
    #[schema(example = "EUR", max_length = 3, pattern = "^[A-Z]{3}$")]
    pub currency: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateContractRequest {
    /// The organization that bought the hours; defaults to the caller's (admins must give it).
    pub organization_id: Option<Uuid>,
    /// 1 to 200 characters, trimmed.
    #[schema(example = "2027 leadership coaching", max_length = 200)]
    pub name: String,
    #[schema(example = "North Coaching Ltd", max_length = 200)]
    pub provider: Option<String>,
    #[schema(value_type = String, format = Date)]
    pub start_date: NaiveDate,
    /// Not before `start_date`.
    #[schema(value_type = String, format = Date)]
    pub end_date: NaiveDate,
    /// Hours bought, 0.25 to 1,000,000 (stored to the minute).
    #[schema(minimum = 0.25, maximum = 1000000, example = 400.0)]
    pub hours: f64,
    /// The price per hour (none: an unpriced contract, whose reports show no cost).
    #[serde(default, deserialize_with = "super::object")]
    pub price: Option<Price>,
}

/// A partial update: only the fields present change; `null` clears `provider`, and `price: null`
/// makes the contract unpriced. Lowering `hours` below what
/// the programs hold is refused unless the organization allows overdraft.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateContractRequest {
    #[schema(max_length = 200)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub provider: Option<Option<String>>,
    #[schema(value_type = Option<String>, format = Date)]
    pub start_date: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub end_date: Option<NaiveDate>,
    #[schema(minimum = 0.25, maximum = 1000000)]
    pub hours: Option<f64>,
    #[serde(default, deserialize_with = "super::object_or_null")]
    #[schema(value_type = Option<Price>)]
    pub price: Option<Option<Price>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContractPage {
    pub items: Vec<ContractResponse>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContractListParams {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page, unchanged; the other filters must be the same.
    pub cursor: Option<String>,
    /// Admins: one organization's contracts (others always see their own organization's).
    pub organization_id: Option<Uuid>,
}

/// Record hours an organization bought. The organization's hr_partner, its API clients with
/// `engagements:write`, and admins.
#[utoipa::path(
    tag = "contracts",
    request_body = CreateContractRequest,
    responses(
        (status = 201, description = "Created", body = ContractResponse,
         headers(("ETag" = String, description = "The version"), ("Location" = String, description = "The new contract's URL"))),
    )
)]
#[post("/contracts")]
pub async fn create_contract(
    caller: Caller,
    state: Data<AppState>,
    body: JsonBody<CreateContractRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let org = b.organization_id.map(OrganizationId::from);
    let input = ContractInput {
        name: b.name,
        provider: b.provider,
        start_date: Some(b.start_date),
        end_date: Some(b.end_date),
        hours: b.hours,
        price_per_hour: b.price.as_ref().map(|p| p.amount.clone()),
        currency: b.price.map(|p| p.currency),
    };
    let seen = state.run(move |conn| contracts::create(conn, &caller, org, input)).await?;
    let c = &seen.contract;
    Ok(created(format!("/v1/contracts/{}", c.id), c.version, &ContractResponse::from(&seen)))
}

/// List contracts, oldest first, each with what its programs hold and used. The organization's
/// hr_partner, its API clients with `reports:read`, and admins.
#[utoipa::path(tag = "contracts", params(ContractListParams),
    responses((status = 200, description = "A page of contracts", body = ContractPage)))]
#[get("/contracts")]
pub async fn list_contracts(
    caller: Caller,
    state: Data<AppState>,
    query: ApiQuery<ContractListParams>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let org = q.organization_id.map(OrganizationId::from);
    let scope = format!("contracts|{org:?}");
    let page = page_request(&state, &scope, q.limit, q.cursor.as_deref())?;
    let result = state.run(move |conn| contracts::list(conn, &caller, org, page)).await?;
    Ok(HttpResponse::Ok().json(ContractPage {
        next_cursor: next_cursor(&state, &scope, &result, |v| v.contract.id.as_uuid()),
        items: result.items.iter().map(ContractResponse::from).collect(),
    }))
}

/// Get a contract with what its programs hold and used.
#[utoipa::path(
    tag = "contracts",
    params(("contract_id" = Uuid, Path, description = "The contract")),
    responses((status = 200, description = "The contract", body = ContractResponse,
               headers(("ETag" = String, description = "The version"))))
)]
#[get("/contracts/{contract_id}")]
pub async fn get_contract(caller: Caller, state: Data<AppState>, id: Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().into();
    let seen = state.run(move |conn| contracts::get(conn, &caller, id)).await?;
    Ok(resource(StatusCode::OK, seen.contract.version, &ContractResponse::from(&seen)))
}

/// Change a contract's terms.
#[utoipa::path(
    tag = "contracts",
    params(
        ("contract_id" = Uuid, Path, description = "The contract"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; the update is refused with 412 if it is no longer current"),
    ),
    request_body = UpdateContractRequest,
    responses((status = 200, description = "The updated contract", body = ContractResponse,
               headers(("ETag" = String, description = "The new version"))))
)]
#[patch("/contracts/{contract_id}")]
pub async fn update_contract(
    caller: Caller,
    state: Data<AppState>,
    id: Path<Uuid>,
    if_match: IfMatchVersion,
    body: JsonBody<UpdateContractRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().into();
    let b = body.0;
    let patch = ContractPatch {
        name: b.name,
        provider: b.provider,
        start_date: b.start_date,
        end_date: b.end_date,
        hours: b.hours,
        price_per_hour: b.price.as_ref().map(|p| p.as_ref().map(|p| p.amount.clone())),
        currency: b.price.map(|p| p.map(|p| p.currency)),
    };
    let seen = state.run(move |conn| contracts::update(conn, &caller, id, if_match.0.as_ref(), &patch)).await?;
    Ok(resource(StatusCode::OK, seen.contract.version, &ContractResponse::from(&seen)))
}

/// Delete a contract no engagement or group draws on (409 `contract_in_use` otherwise).
#[utoipa::path(
    tag = "contracts",
    params(
        ("contract_id" = Uuid, Path, description = "The contract"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; refused with 412 if it is no longer current"),
    ),
    responses((status = 204, description = "Deleted"))
)]
#[delete("/contracts/{contract_id}")]
pub async fn delete_contract(
    caller: Caller,
    state: Data<AppState>,
    id: Path<Uuid>,
    if_match: IfMatchVersion,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().into();
    state.run(move |conn| contracts::delete(conn, &caller, id, if_match.0.as_ref())).await?;
    Ok(HttpResponse::NoContent().finish())
}
