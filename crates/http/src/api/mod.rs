//! The HTTP resources. Handlers translate HTTP to domain commands and back; they decide nothing.

pub mod action_items;
pub mod api_clients;
pub mod audit;
pub mod calendar;
pub mod contracts;
pub mod designs;
pub mod engagements;
pub mod extensions;
pub mod groups;
pub mod me;
pub mod oauth;
pub mod ops;
pub mod organizations;
pub mod program;
pub mod reports;
pub mod reviews;
pub mod sessions;
pub mod sign_in;
pub mod stakeholders;
pub mod templates;
pub mod users;
pub mod webhooks;

use actix_web::http::StatusCode;
use keel_domain::page::{Page, PageRequest};
use uuid::Uuid;

use crate::problem::{ApiError, ProblemFieldError};
use crate::state::AppState;
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

/// A nested object of a request body: serde would read a struct from an array by position, so
/// anything but an object (or null, for none) is refused, as the document says. The object's own
/// fields are read as any others (an error names `settings.min_raters`, not `settings`).
pub fn object<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    use std::marker::PhantomData;

    use serde::de::value::MapAccessDeserializer;
    use serde::de::{MapAccess, Visitor};

    struct Map<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for Map<T> {
        type Value = T;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::deserialize(MapAccessDeserializer::new(map))
        }
    }
    struct Nullable<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for Nullable<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object or null")
        }
        fn visit_none<E>(self) -> Result<Option<T>, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Option<T>, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, inner: D2) -> Result<Option<T>, D2::Error> {
            inner.deserialize_map(Map(PhantomData)).map(Some)
        }
    }
    deserializer.deserialize_option(Nullable(PhantomData))
}

/// [`object`] for a PATCH field, where `null` (`Some(None)`) differs from absent (`None`).
pub fn object_or_null<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    object(deserializer).map(Some)
}

/// The page a list request asks for: `limit` validated, `cursor` verified against `scope` (the
/// list's name and filters, so a cursor cannot be replayed against other filters).
pub fn page_request(
    state: &AppState,
    scope: &str,
    limit: Option<i64>,
    cursor: Option<&str>,
) -> Result<PageRequest, ApiError> {
    let after = cursor.map(|c| state.cursors.decode(scope, c)).transpose()?;
    PageRequest::new(limit, after).map_err(|errors| {
        let fields = errors
            .0
            .into_iter()
            .map(|e| ProblemFieldError { field: e.field, code: e.code.to_owned(), message: e.message })
            .collect();
        ApiError::bad_request("invalid-query", "A query parameter is not valid.", fields)
    })
}

/// The cursor of the page after `page`, if there is one.
pub fn next_cursor<T>(state: &AppState, scope: &str, page: &Page<T>, id: impl Fn(&T) -> Uuid) -> Option<String> {
    if !page.has_more {
        return None;
    }
    page.items.last().map(|last| state.cursors.encode(scope, id(last)))
}
