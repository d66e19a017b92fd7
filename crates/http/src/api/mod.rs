//! The HTTP resources. Handlers translate HTTP to domain commands and back; they decide nothing.

pub mod ops;
pub mod organizations;
pub mod users;

use actix_web::http::StatusCode;
use actix_web::http::header::{ETag, EntityTag, LOCATION};
use actix_web::{HttpResponse, HttpResponseBuilder};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::IntoParams;

/// Cursor pagination parameters shared by every list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page, unchanged; the other filters must be the same.
    pub cursor: Option<String>,
}

/// The ETag of a versioned resource.
pub fn etag(version: i64) -> ETag {
    ETag(EntityTag::new_strong(version.to_string()))
}

/// A single resource with its ETag.
pub fn resource<T: Serialize>(status: StatusCode, version: i64, body: &T) -> HttpResponse {
    HttpResponseBuilder::new(status).insert_header(etag(version)).json(body)
}

/// A newly created resource: 201 with ETag and Location.
pub fn created<T: Serialize>(location: String, version: i64, body: &T) -> HttpResponse {
    HttpResponse::Created().insert_header(etag(version)).insert_header((LOCATION, location)).json(body)
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`) in a PATCH.
pub fn double_option<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}
