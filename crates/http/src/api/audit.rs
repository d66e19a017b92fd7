//! `GET /v1/audit-events`: the append-only audit log. Records name the actor, the action, the
//! resource, the request and the fields a change touched — never their values.

use actix_web::web::Data;
use actix_web::{HttpResponse, get};
use chrono::{DateTime, Utc};
use keel_commands::audit::{self, AuditEventRow};
use keel_commands::filters::AuditFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{next_cursor, page_request};
use crate::extract::{ApiQuery, Caller};
use crate::problem::ApiError;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    pub id: Uuid,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub occurred_at: DateTime<Utc>,
    pub organization_id: Option<Uuid>,
    pub actor_kind: keel_domain::audit::ActorKind,
    pub actor_id: Option<String>,
    #[schema(example = "engagement.phase_changed")]
    pub action: String,
    #[schema(example = "engagement")]
    pub resource_type: String,
    pub resource_id: String,
    /// The `X-Request-Id` of the request that made the change.
    pub request_id: String,
    /// The fields the change touched (names only).
    pub changed_fields: Vec<String>,
}

impl From<&AuditEventRow> for AuditEvent {
    fn from(r: &AuditEventRow) -> Self {
        AuditEvent {
            id: r.id.parse().unwrap_or_default(),
            occurred_at: r.occurred_at.and_utc(),
            organization_id: r.organization_id.as_deref().and_then(|o| o.parse().ok()),
            // Written from `Actor::kind`; a row Keel did not write shows as the system's.
            actor_kind: r.actor_kind.parse().unwrap_or(keel_domain::audit::ActorKind::System),
            actor_id: r.actor_id.clone(),
            action: r.action.clone(),
            resource_type: r.resource_type.clone(),
            resource_id: r.resource_id.clone(),
            request_id: r.request_id.clone(),
            changed_fields: serde_json::from_str(&r.changed_fields).unwrap_or_default(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventPage {
    pub items: Vec<AuditEvent>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditListParams {
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    /// Admins only: one organization's records.
    pub organization_id: Option<Uuid>,
    /// e.g. `engagement`, `user`, `session`.
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub actor_id: Option<String>,
    /// From this time (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Until this time (exclusive).
    pub until: Option<DateTime<Utc>>,
}

/// The audit log, oldest first: admins see every record; an organization's hr_partner (or its
/// API client with `reports:read`) that organization's.
#[utoipa::path(tag = "audit", params(AuditListParams),
    responses((status = 200, description = "A page of audit records", body = AuditEventPage)))]
#[get("/audit-events")]
pub async fn list_audit_events(
    caller: Caller,
    state: Data<AppState>,
    query: ApiQuery<AuditListParams>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let filter = AuditFilter {
        organization_id: q.organization_id.map(|o| o.to_string()),
        resource_type: q.resource_type,
        resource_id: q.resource_id,
        actor_id: q.actor_id,
        from: q.from.map(|t| t.naive_utc()),
        until: q.until.map(|t| t.naive_utc()),
    };
    // The caller is judged before their cursor, which is bound to the narrowed filter.
    let Some(filter) = audit::visible(&caller, filter)? else {
        return Ok(HttpResponse::Ok().json(AuditEventPage { items: Vec::new(), next_cursor: None }));
    };
    let scope = format!("audit|{filter:?}");
    let page = page_request(&state, &scope, q.limit, q.cursor.as_deref())?;
    let result = state.run(move |conn| audit::list(conn, &caller, filter, page)).await?;
    Ok(HttpResponse::Ok().json(AuditEventPage {
        next_cursor: next_cursor(&state, &scope, &result, |r| r.id.parse().unwrap_or_default()),
        items: result.items.iter().map(AuditEvent::from).collect(),
    }))
}
