//! `/v1/webhooks`: an organization's subscriptions to events, and the log of their deliveries.
//! Managed by admins, the organization's hr_partner and its API clients with `webhooks:manage`.

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, delete, get, patch, post};
use chrono::{DateTime, Utc};
use keel_commands::filters::{DeliveryFilter, WebhookFilter};
use keel_commands::webhooks;
use keel_commands::webhooks::{Attempt, Delivery};
use keel_domain::webhook::{DeliveryStatus as DeliveryStatusDto, NewWebhook, Webhook, WebhookPatch};
use keel_domain::{DeliveryId, OrganizationId, WebhookId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{created, double_option, next_cursor, page_request, resource};
use crate::extract::{ApiQuery, Caller, IfMatchVersion, JsonBody};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::webhook_signature::Secret;

/// A webhook subscription (its secret is shown only when created or rotated).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookResponse {
    pub id: Uuid,
    pub organization_id: Uuid,
    #[schema(example = "https://hr.example.com/keel/events", max_length = 2048, pattern = "url")]
    pub url: String,
    pub description: Option<String>,
    #[schema(example = json!(["engagement.phase_changed", "session.completed"]))]
    pub event_types: Vec<String>,
    /// Disabled subscriptions get no deliveries. Keel disables one whose deliveries have failed
    /// for days (see `disabled_reason`); enable it again with PATCH.
    pub enabled: bool,
    /// Why Keel disabled the subscription.
    pub disabled_reason: Option<String>,
    /// When the current run of failed delivery attempts began.
    pub failing_since: Option<DateTime<Utc>>,
    /// After a rotation, deliveries are also signed with the previous secret until this time.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl From<&Webhook> for WebhookResponse {
    fn from(w: &Webhook) -> Self {
        let now = keel_domain::time::now();
        WebhookResponse {
            id: w.id.as_uuid(),
            organization_id: w.organization_id.as_uuid(),
            url: w.url.clone(),
            description: w.description.clone(),
            event_types: w.event_types.iter().map(|t| (*t).to_owned()).collect(),
            enabled: w.enabled,
            disabled_reason: w.disabled_reason.clone(),
            failing_since: w.failing_since,
            previous_secret_expires_at: w.previous_secret_expires_at.filter(|until| *until > now),
            created_at: w.created_at,
            updated_at: w.updated_at,
            version: w.version,
        }
    }
}

/// A subscription with its signing secret: shown once, store it now.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub webhook: WebhookResponse,
    /// The Standard Webhooks signing secret (`whsec_` + base64 of 32 random bytes). Verify
    /// the `webhook-signature` header of each delivery with it.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookPage {
    pub items: Vec<WebhookResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// The organization whose events are sent; defaults to the caller's (admins must give it).
    pub organization_id: Option<Uuid>,
    /// Where deliveries are POSTed: http or https; loopback, private and other internal
    /// addresses are refused unless the operator allows them (`webhook_allow_internal`).
    #[schema(example = "https://hr.example.com/keel/events", max_length = 2048, pattern = "url")]
    pub url: String,
    /// At least one of: engagement.created, engagement.phase_changed, design.submitted,
    /// design.decided, design.approved, session.scheduled, session.completed,
    /// extension.requested, extension.decided, review.completed, rater.invited,
    /// feedback.submitted.
    #[schema(example = json!(["engagement.phase_changed", "session.completed"]))]
    pub event_types: Vec<String>,
    /// Default true.
    pub enabled: Option<bool>,
    #[schema(example = "Workday sync", max_length = 500, pattern = "multiline")]
    pub description: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookRequest {
    #[schema(max_length = 2048, pattern = "url")]
    pub url: Option<String>,
    #[schema(min_items = 1)]
    pub event_types: Option<Vec<String>>,
    /// Enabling a subscription Keel disabled clears `disabled_reason` and `failing_since`.
    pub enabled: Option<bool>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 500, pattern = "multiline")]
    pub description: Option<Option<String>>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WebhookListParams {
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    /// Admins: one organization's subscriptions (others always see their own organization's).
    pub organization_id: Option<Uuid>,
    pub enabled: Option<bool>,
}

/// One attempt to deliver.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAttempt {
    #[serde(serialize_with = "crate::json::timestamp")]
    pub attempted_at: DateTime<Utc>,
    /// The receiver's HTTP status; null when it did not answer (refused, timed out…).
    #[schema(example = 503)]
    pub response_status: Option<i32>,
    /// Why the attempt failed; null for a success.
    pub error: Option<String>,
    /// How long the attempt took.
    pub duration_ms: i64,
}

impl From<&Attempt> for WebhookAttempt {
    fn from(a: &Attempt) -> Self {
        WebhookAttempt {
            attempted_at: a.attempted_at.and_utc(),
            response_status: a.response_status,
            error: a.error.clone(),
            duration_ms: a.duration_ms,
        }
    }
}

/// One event sent (or being sent) to one subscription, with every attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDelivery {
    /// Sent as the `webhook-id` header; the same on every attempt and re-send.
    pub id: Uuid,
    pub webhook_id: Uuid,
    /// The event's id (the `id` of the payload).
    pub event_id: Uuid,
    #[schema(example = "session.completed")]
    pub event_type: String,
    pub engagement_id: Option<Uuid>,
    pub status: DeliveryStatusDto,
    /// The JSON body sent.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub created_at: DateTime<Utc>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// When the next retry is due (pending deliveries).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Every attempt, oldest first.
    pub attempts: Vec<WebhookAttempt>,
}

impl WebhookDelivery {
    fn new(d: &Delivery, attempts: &[Attempt]) -> Self {
        WebhookDelivery {
            id: d.id.parse().unwrap_or_default(),
            webhook_id: d.webhook_id.parse().unwrap_or_default(),
            event_id: d.event_id.parse().unwrap_or_default(),
            event_type: d.event_type.clone(),
            engagement_id: d.engagement_id.as_deref().and_then(|e| e.parse().ok()),
            status: d.status(),
            payload: serde_json::from_str(&d.payload).unwrap_or(serde_json::Value::Null),
            created_at: d.created_at.and_utc(),
            last_attempt_at: d.last_attempt_at.map(|t| t.and_utc()),
            next_attempt_at: d.next_attempt_at.map(|t| t.and_utc()),
            delivered_at: d.delivered_at.map(|t| t.and_utc()),
            failed_at: d.failed_at.map(|t| t.and_utc()),
            last_error: d.last_error.clone(),
            attempts: attempts.iter().map(WebhookAttempt::from).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDeliveryPage {
    pub items: Vec<WebhookDelivery>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryListParams {
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    pub status: Option<DeliveryStatusDto>,
    /// e.g. `session.completed`.
    pub event_type: Option<String>,
}

fn new_secret() -> String {
    Secret::generate().encoded()
}

fn with_secret(hook: &Webhook) -> WebhookWithSecret {
    WebhookWithSecret { webhook: WebhookResponse::from(hook), secret: hook.secret.clone() }
}

/// A response holding a secret must not be cached.
fn no_store(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Subscribe a URL to events of the organization. The response holds the signing secret, shown
/// only this once.
#[utoipa::path(
    tag = "webhooks",
    request_body = CreateWebhookRequest,
    responses(
        (status = 201, description = "Created; store the secret now", body = WebhookWithSecret,
            headers(("ETag" = String, description = "The version"), ("Location" = String, description = "The new subscription"))),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[post("/webhooks")]
pub async fn create_webhook(
    caller: Caller,
    state: Data<AppState>,
    body: JsonBody<CreateWebhookRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let org = body.organization_id.map(OrganizationId::from);
    let input = NewWebhook {
        url: body.url,
        event_types: body.event_types,
        enabled: body.enabled,
        description: body.description,
    };
    let allow_internal = state.webhooks.allow_internal;
    let hook = state.run(move |conn| webhooks::create(conn, &caller, org, input, new_secret(), allow_internal)).await?;
    Ok(no_store(created(format!("/v1/webhooks/{}", hook.id), hook.version, &with_secret(&hook))))
}

/// List webhook subscriptions: admins all (or one organization's), others their organization's.
#[utoipa::path(tag = "webhooks", params(WebhookListParams),
    responses((status = 200, description = "A page of subscriptions", body = WebhookPage)))]
#[get("/webhooks")]
pub async fn list_webhooks(
    caller: Caller,
    state: Data<AppState>,
    query: ApiQuery<WebhookListParams>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let filter = WebhookFilter { organization_id: q.organization_id.map(OrganizationId::from), enabled: q.enabled };
    // The cursor is bound to what the caller may see, so that is asked first.
    let Some(filter) = webhooks::visible(&caller, filter)? else {
        return Ok(HttpResponse::Ok().json(WebhookPage { items: Vec::new(), next_cursor: None }));
    };
    let scope = format!("webhooks|{filter:?}");
    let page = page_request(&state, &scope, q.limit, q.cursor.as_deref())?;
    let result = state.run(move |conn| webhooks::list(conn, &caller, filter, page)).await?;
    Ok(HttpResponse::Ok().json(WebhookPage {
        next_cursor: next_cursor(&state, &scope, &result, |w| w.id.as_uuid()),
        items: result.items.iter().map(WebhookResponse::from).collect(),
    }))
}

/// Get a subscription (without its secret).
#[utoipa::path(
    tag = "webhooks",
    params(("webhook_id" = Uuid, Path, description = "The subscription")),
    responses(
        (status = 200, description = "The subscription", body = WebhookResponse, headers(("ETag" = String, description = "The version"))),
    )
)]
#[get("/webhooks/{webhook_id}")]
pub async fn get_webhook(caller: Caller, state: Data<AppState>, id: Path<WebhookId>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let hook = state.run(move |conn| webhooks::get(conn, &caller, id)).await?;
    Ok(resource(StatusCode::OK, hook.version, &WebhookResponse::from(&hook)))
}

/// Change a subscription's URL, event types, description, or whether it is enabled.
#[utoipa::path(
    tag = "webhooks",
    params(
        ("webhook_id" = Uuid, Path, description = "The subscription"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; refused with 412 if it is no longer current"),
    ),
    request_body = UpdateWebhookRequest,
    responses(
        (status = 200, description = "The updated subscription", body = WebhookResponse, headers(("ETag" = String, description = "The new version"))),
    )
)]
#[patch("/webhooks/{webhook_id}")]
pub async fn update_webhook(
    caller: Caller,
    state: Data<AppState>,
    id: Path<WebhookId>,
    if_match: IfMatchVersion,
    body: JsonBody<UpdateWebhookRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let body = body.0;
    let patch = WebhookPatch {
        url: body.url,
        event_types: body.event_types,
        enabled: body.enabled,
        description: body.description,
    };
    let allow_internal = state.webhooks.allow_internal;
    let hook =
        state.run(move |conn| webhooks::update(conn, &caller, id, if_match.0.as_ref(), &patch, allow_internal)).await?;
    Ok(resource(StatusCode::OK, hook.version, &WebhookResponse::from(&hook)))
}

/// Delete a subscription with its delivery log; deliveries still queued for it are dropped.
#[utoipa::path(
    tag = "webhooks",
    params(
        ("webhook_id" = Uuid, Path, description = "The subscription"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; refused with 412 if it is no longer current"),
    ),
    responses((status = 204, description = "Deleted"))
)]
#[delete("/webhooks/{webhook_id}")]
pub async fn delete_webhook(
    caller: Caller,
    state: Data<AppState>,
    id: Path<WebhookId>,
    if_match: IfMatchVersion,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    state.run(move |conn| webhooks::delete(conn, &caller, id, if_match.0.as_ref())).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Replace the signing secret. Deliveries carry a signature with the new secret and, for the
/// overlap (`webhook_secret_overlap_secs`, a day by default, see `previous_secret_expires_at`),
/// one with the previous secret too, so the receiver can switch without losing a delivery. The
/// response holds the new secret, shown only this once.
#[utoipa::path(
    tag = "webhooks",
    params(("webhook_id" = Uuid, Path, description = "The subscription")),
    responses(
        (status = 200, description = "The new secret", body = WebhookWithSecret, headers(("ETag" = String, description = "The new version"))),
    )
)]
#[post("/webhooks/{webhook_id}/rotate-secret")]
pub async fn rotate_webhook_secret(
    caller: Caller,
    state: Data<AppState>,
    id: Path<WebhookId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let overlap = state.webhooks.secret_overlap;
    let hook = state.run(move |conn| webhooks::rotate_secret(conn, &caller, id, new_secret(), overlap)).await?;
    Ok(no_store(resource(StatusCode::OK, hook.version, &with_secret(&hook))))
}

/// The subscription's deliveries, newest first, each with every attempt (time, HTTP status of
/// the answer, error, duration).
#[utoipa::path(
    tag = "webhooks",
    params(("webhook_id" = Uuid, Path, description = "The subscription"), DeliveryListParams),
    responses(
        (status = 200, description = "A page of deliveries", body = WebhookDeliveryPage),
    )
)]
#[get("/webhooks/{webhook_id}/deliveries")]
pub async fn list_webhook_deliveries(
    caller: Caller,
    state: Data<AppState>,
    id: Path<WebhookId>,
    query: ApiQuery<DeliveryListParams>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let q = query.0;
    let filter = DeliveryFilter { status: q.status, event_type: q.event_type };
    let scope = format!("webhook-deliveries|{id}|{filter:?}");
    let page = page_request(&state, &scope, q.limit, q.cursor.as_deref())?;
    let result = state.run(move |conn| webhooks::deliveries(conn, &caller, id, &filter, page)).await?;
    Ok(HttpResponse::Ok().json(WebhookDeliveryPage {
        next_cursor: next_cursor(&state, &scope, &result, |(d, _)| d.id.parse().unwrap_or_default()),
        items: result.items.iter().map(|(d, attempts)| WebhookDelivery::new(d, attempts)).collect(),
    }))
}

/// Send a failed delivery again, with the same `webhook-id` (receivers that already processed it
/// can tell). Only failed deliveries of enabled subscriptions are re-sent; others get 409.
#[utoipa::path(
    tag = "webhooks",
    params(
        ("webhook_id" = Uuid, Path, description = "The subscription"),
        ("delivery_id" = Uuid, Path, description = "The delivery"),
    ),
    responses(
        (status = 202, description = "Queued again", body = WebhookDelivery),
        (status = 409, response = crate::openapi::Conflict),
    )
)]
#[post("/webhooks/{webhook_id}/deliveries/{delivery_id}/resend")]
pub async fn resend_webhook_delivery(
    caller: Caller,
    state: Data<AppState>,
    path: Path<(WebhookId, DeliveryId)>,
) -> Result<HttpResponse, ApiError> {
    let (id, delivery_id) = path.into_inner();
    let (delivery, attempts) = state.run(move |conn| webhooks::resend(conn, &caller, id, delivery_id)).await?;
    Ok(HttpResponse::Accepted().json(WebhookDelivery::new(&delivery, &attempts)))
}
