//! `/v1/program-templates`: the kinds of program an engagement can run. Three are built in
//! (executive, micro coaching, introductory sequence; read-only); an organization's admin or
//! hr_partner copies one and edits the copy, each edit a new immutable version.

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, patch, post};
use chrono::{DateTime, Utc};
use keel_commands::templates;
use keel_domain::template::{
    PlanPart, PlannedSession, ProgramLength, ProgramTemplate, SessionDefaults, TemplateChanges, TemplateStep,
};
use keel_domain::{OrganizationId, TemplateId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{created, double_option, next_cursor, page_request, resource};
use crate::extract::{ApiQuery, Caller, IfMatchVersion, JsonBody};
use crate::problem::ApiError;
use crate::state::AppState;

/// A program template at one version.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgramTemplateResponse {
    #[schema(example = "00000000-0000-7000-8000-000000000002")]
    pub id: Uuid,
    /// Null for the built-in templates.
    pub organization_id: Option<Uuid>,
    /// Built-in templates are read-only: copy one (`copy_from`) to make your own.
    pub built_in: bool,
    #[schema(example = "Micro coaching")]
    pub name: String,
    pub description: Option<String>,
    /// The template this one was copied from, and its version then.
    pub based_on_id: Option<Uuid>,
    pub based_on_version: Option<i64>,
    /// The program's steps, in order, each with the guards of leaving it forward.
    pub steps: Vec<TemplateStep>,
    /// Whether every sponsor must approve the design (in the `sponsor_review` step).
    pub sponsor_decision_required: bool,
    pub length: ProgramLength,
    /// Hours a month; null: the organization's `default_monthly_hours_budget`.
    pub default_monthly_hours_budget: Option<f64>,
    pub session_defaults: SessionDefaults,
    /// The sessions the program plans, in order: the n-th session scheduled takes the n-th.
    pub planned_sessions: Vec<PlannedSession>,
    /// The parts of every session's agenda (seed 004's ten for the executive template).
    pub session_plan: Vec<PlanPart>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub created_at: DateTime<Utc>,
    /// When this version was made.
    #[serde(serialize_with = "crate::json::timestamp")]
    pub updated_at: DateTime<Utc>,
    /// The version; the ETag is this number, quoted.
    pub version: i64,
}

impl From<&ProgramTemplate> for ProgramTemplateResponse {
    fn from(t: &ProgramTemplate) -> Self {
        let d = &t.definition;
        ProgramTemplateResponse {
            id: t.id.as_uuid(),
            organization_id: t.organization_id.map(|o| o.as_uuid()),
            built_in: t.is_built_in(),
            name: t.name.clone(),
            description: t.description.clone(),
            based_on_id: t.based_on.map(|(id, _)| id.as_uuid()),
            based_on_version: t.based_on.map(|(_, v)| v),
            steps: d.steps.clone(),
            sponsor_decision_required: d.sponsor_decision_required,
            length: d.length,
            default_monthly_hours_budget: d.default_monthly_hours_budget,
            session_defaults: d.session_defaults,
            planned_sessions: d.planned_sessions.clone(),
            session_plan: d.session_plan.clone(),
            created_at: t.created_at,
            updated_at: t.updated_at,
            version: t.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgramTemplatePage {
    pub items: Vec<ProgramTemplateResponse>,
    pub next_cursor: Option<String>,
}

/// The fields of a template. On creation they replace those of the template copied; on update,
/// those of the current version (each field whole: `steps` replaces every step).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateFields {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 2000, pattern = "multiline")]
    pub description: Option<Option<String>>,
    /// A subset of the eight steps, in their order: starting at `context`, with `coaching` and
    /// ending with `end_review`.
    #[schema(min_items = 1, max_items = 8)]
    pub steps: Option<Vec<TemplateStep>>,
    /// Needs a `sponsor_review` step with the `design_approved` guard.
    pub sponsor_decision_required: Option<bool>,
    pub length: Option<ProgramLength>,
    /// Hours a month (0.25–200); null: the organization's default.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<f64>, minimum = 0.25, maximum = 200)]
    pub default_monthly_hours_budget: Option<Option<f64>>,
    pub session_defaults: Option<SessionDefaults>,
    #[schema(max_items = 20)]
    pub planned_sessions: Option<Vec<PlannedSession>>,
    #[schema(max_items = 20)]
    pub session_plan: Option<Vec<PlanPart>>,
}

impl From<TemplateFields> for TemplateChanges {
    fn from(f: TemplateFields) -> Self {
        TemplateChanges {
            name: f.name,
            description: f.description,
            steps: f.steps,
            sponsor_decision_required: f.sponsor_decision_required,
            length: f.length,
            default_monthly_hours_budget: f.default_monthly_hours_budget,
            session_defaults: f.session_defaults,
            planned_sessions: f.planned_sessions,
            session_plan: f.session_plan,
        }
    }
}

/// A new template of an organization: a copy of `copy_from` (a built-in template or one of the
/// organization's; default: the executive template) with the fields given.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTemplateRequest {
    pub organization_id: Uuid,
    #[schema(example = "00000000-0000-7000-8000-000000000002")]
    pub copy_from: Option<Uuid>,
    #[schema(min_length = 1, example = "Micro coaching for new managers", max_length = 200)]
    pub name: String,
    #[schema(max_length = 2000, pattern = "multiline")]
    pub description: Option<String>,
    #[schema(min_items = 1, max_items = 8)]
    pub steps: Option<Vec<TemplateStep>>,
    pub sponsor_decision_required: Option<bool>,
    pub length: Option<ProgramLength>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<f64>, minimum = 0.25, maximum = 200)]
    pub default_monthly_hours_budget: Option<Option<f64>>,
    pub session_defaults: Option<SessionDefaults>,
    #[schema(max_items = 20)]
    pub planned_sessions: Option<Vec<PlannedSession>>,
    #[schema(max_items = 20)]
    pub session_plan: Option<Vec<PlanPart>>,
}

impl From<CreateTemplateRequest> for TemplateChanges {
    fn from(b: CreateTemplateRequest) -> Self {
        TemplateChanges::from(TemplateFields {
            name: Some(b.name),
            description: Some(b.description),
            steps: b.steps,
            sponsor_decision_required: b.sponsor_decision_required,
            length: b.length,
            default_monthly_hours_budget: b.default_monthly_hours_budget,
            session_defaults: b.session_defaults,
            planned_sessions: b.planned_sessions,
            session_plan: b.session_plan,
        })
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TemplateListParams {
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    /// Only this organization's templates (besides the built-in ones).
    pub organization_id: Option<Uuid>,
}

fn location(t: &ProgramTemplate) -> String {
    format!("/v1/program-templates/{}", t.id)
}

/// The templates the caller may read: the built-in ones first, then organizations' (their own for
/// an organization's people and API clients; every organization's for admins and coaches).
#[utoipa::path(tag = "templates", params(TemplateListParams),
    responses((status = 200, description = "A page of templates", body = ProgramTemplatePage)))]
#[get("/program-templates")]
pub async fn list_templates(
    caller: Caller,
    state: Data<AppState>,
    query: ApiQuery<TemplateListParams>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let organization = q.organization_id.map(OrganizationId::from);
    let scope = format!("program-templates|{organization:?}");
    let page = page_request(&state, &scope, q.limit, q.cursor.as_deref())?;
    let result = state.run(move |conn| templates::list(conn, &caller, organization, page)).await?;
    Ok(HttpResponse::Ok().json(ProgramTemplatePage {
        next_cursor: next_cursor(&state, &scope, &result, |t| t.id.as_uuid()),
        items: result.items.iter().map(ProgramTemplateResponse::from).collect(),
    }))
}

/// Create an organization's template (admin, the organization's hr_partner, or its API client
/// with `engagements:write`). A template with no steps, steps out of order, or a guard that
/// cannot be met is a 422 naming the field.
#[utoipa::path(tag = "templates", request_body = CreateTemplateRequest,
    responses((status = 201, description = "Created", body = ProgramTemplateResponse,
        headers(("ETag" = String, description = "The version"), ("Location" = String, description = "The template's URL")))))]
#[post("/program-templates")]
pub async fn create_template(
    caller: Caller,
    state: Data<AppState>,
    body: JsonBody<CreateTemplateRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let organization_id = OrganizationId::from(b.organization_id);
    let copy_from = b.copy_from.map(TemplateId::from);
    let changes = TemplateChanges::from(b);
    let template =
        state.run(move |conn| templates::create(conn, &caller, organization_id, copy_from, &changes)).await?;
    Ok(created(location(&template), template.version, &ProgramTemplateResponse::from(&template)))
}

/// A template at its current version.
#[utoipa::path(tag = "templates", params(("template_id" = Uuid, Path, description = "The template")),
    responses((status = 200, description = "The template", body = ProgramTemplateResponse, headers(("ETag" = String, description = "The version")))))]
#[get("/program-templates/{template_id}")]
pub async fn get_template(
    caller: Caller,
    state: Data<AppState>,
    id: Path<TemplateId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let template = state.run(move |conn| templates::get(conn, &caller, id, None)).await?;
    Ok(resource(StatusCode::OK, template.version, &ProgramTemplateResponse::from(&template)))
}

/// A template as it was at `version` (the version an engagement runs is its `template_version`).
#[utoipa::path(tag = "templates",
    params(("template_id" = Uuid, Path, description = "The template"),
        ("version" = i64, Path, minimum = 1, description = "The version")),
    responses((status = 200, description = "The template at that version", body = ProgramTemplateResponse)))]
#[get("/program-templates/{template_id}/versions/{version}")]
pub async fn get_template_version(
    caller: Caller,
    state: Data<AppState>,
    path: Path<(TemplateId, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (id, version) = path.into_inner();
    let template = state.run(move |conn| templates::get(conn, &caller, id, Some(version))).await?;
    Ok(resource(StatusCode::OK, template.version, &ProgramTemplateResponse::from(&template)))
}

/// Change an organization's template: a new version. Running engagements keep the version they
/// were created with. Built-in templates do not change (409 `template_built_in`).
#[utoipa::path(tag = "templates",
    params(("template_id" = Uuid, Path, description = "The template"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; refused with 412 if it is no longer current")),
    request_body = TemplateFields,
    responses((status = 200, description = "The template's new version", body = ProgramTemplateResponse, headers(("ETag" = String, description = "The new version"))),
        (status = 409, response = crate::openapi::Conflict)))]
#[patch("/program-templates/{template_id}")]
pub async fn update_template(
    caller: Caller,
    state: Data<AppState>,
    id: Path<TemplateId>,
    if_match: IfMatchVersion,
    body: JsonBody<TemplateFields>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let changes = TemplateChanges::from(body.0);
    let template = state.run(move |conn| templates::update(conn, &caller, id, if_match.0.as_ref(), &changes)).await?;
    Ok(resource(StatusCode::OK, template.version, &ProgramTemplateResponse::from(&template)))
}
