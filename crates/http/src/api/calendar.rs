//! `/v1/users/{user_id}/calendar-feed`: a person's calendar feed address (docs/calendar.md), and
//! the feed itself at `/calendar/{token}.ics` (no access token: the address is the secret).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HttpDate};
use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse, delete, get, post};
use chrono::{DateTime, Utc};
use keel_commands::calendar;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::extract::Caller;
use crate::problem::ApiError;
use crate::state::AppState;

/// A person's calendar feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarFeedResponse {
    /// When the address was made or last rotated.
    #[serde(serialize_with = "crate::json::timestamp")]
    pub created_at: DateTime<Utc>,
}

/// A feed address just made: shown once, then only its person's calendar holds it.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewCalendarFeedResponse {
    /// The address to subscribe to (`…/calendar/kc_….ics`). Anyone holding it reads the
    /// person's schedule: rotate it (POST again) or revoke it (DELETE) if it leaks.
    #[schema(example = "https://keel.example/calendar/kc_2bX9….ics")]
    pub url: String,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub created_at: DateTime<Utc>,
}

fn missing() -> ApiError {
    keel_domain::DomainError::NotFound { resource: "calendar feed" }.into()
}

/// Whether a person has a calendar feed (the person, or an admin). 404 when they have none.
#[utoipa::path(
    tag = "users",
    params(("user_id" = Uuid, Path, description = "The user's id")),
    responses((status = 200, description = "The person has a feed address", body = CalendarFeedResponse))
)]
#[get("/users/{user_id}/calendar-feed")]
pub async fn get_calendar_feed(
    caller: Caller,
    state: Data<AppState>,
    id: Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().into();
    let found = state.run(move |conn| calendar::status(conn, &caller, id)).await?;
    let created_at = found.ok_or_else(missing)?;
    Ok(HttpResponse::Ok().json(CalendarFeedResponse { created_at }))
}

/// Make the person's calendar feed address, or rotate it: the previous address stops at once.
/// Only the person themself (the address reads their schedule).
#[utoipa::path(
    tag = "users",
    params(("user_id" = Uuid, Path, description = "The user's id")),
    responses((status = 201, description = "The new address", body = NewCalendarFeedResponse,
               headers(("Location" = String, description = "The feed address"))))
)]
#[post("/users/{user_id}/calendar-feed")]
pub async fn create_calendar_feed(
    caller: Caller,
    state: Data<AppState>,
    id: Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().into();
    let made = state.run(move |conn| calendar::subscribe(conn, &caller, id)).await?;
    let url = format!("{}/calendar/{}.ics", state.pages.links.base_url, made.token);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, url.clone()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(NewCalendarFeedResponse { url, created_at: made.created_at }))
}

/// Revoke the person's calendar feed (the person, or an admin): its address answers 404 from now.
#[utoipa::path(
    tag = "users",
    params(("user_id" = Uuid, Path, description = "The user's id")),
    responses((status = 204, description = "Revoked"))
)]
#[delete("/users/{user_id}/calendar-feed")]
pub async fn revoke_calendar_feed(
    caller: Caller,
    state: Data<AppState>,
    id: Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().into();
    state.run(move |conn| calendar::revoke(conn, &caller, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The feed: `text/calendar`, with `ETag` and `Last-Modified`; 304 when the calendar already has
/// it. 404 for an address that is unknown, rotated or revoked, saying nothing of whose it was.
pub async fn feed(request: HttpRequest, state: Data<AppState>, file: Path<String>) -> Result<HttpResponse, ApiError> {
    let Some(token) = file.into_inner().strip_suffix(".ics").map(str::to_owned) else {
        return Err(missing());
    };
    let base = state.pages.links.base_url.clone();
    let feed = state.run(move |conn| calendar::feed(conn, &token, &base)).await?;
    let etag = format!("\"{}\"", feed.etag);
    // HTTP dates are in whole seconds: compared (and sent) as such.
    let seconds = u64::try_from(feed.last_modified.timestamp()).unwrap_or(0);
    let modified = HttpDate::from(std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds));
    let headers = request.headers();
    let unchanged = match headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        Some(tags) => tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"),
        None => headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<HttpDate>().ok())
            .is_some_and(|since| std::time::SystemTime::from(since) >= std::time::SystemTime::from(modified)),
    };
    let mut response = if unchanged { HttpResponse::NotModified() } else { HttpResponse::build(StatusCode::OK) };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::LAST_MODIFIED, modified))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"));
    if unchanged {
        return Ok(response.finish());
    }
    Ok(response.content_type("text/calendar; charset=utf-8").body(feed.ics))
}
