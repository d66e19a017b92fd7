//! RFC 9457 problem documents: every error this API returns is one.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use keel_commands::StoreError;
use keel_domain::{DomainError, FieldError};
use serde::Serialize;
use utoipa::ToSchema;

pub const CONTENT_TYPE: &str = "application/problem+json";

/// One invalid field of a request.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ProblemFieldError {
    /// Where: a JSON path into the body (`settings.min_raters`, `roles[1]`), or a parameter name.
    #[schema(example = "email")]
    pub field: String,
    /// A stable machine-readable code.
    #[schema(example = "invalid_email")]
    pub code: String,
    #[schema(example = "is not a valid email address")]
    pub message: String,
}

/// What a contract holds, on a refused allocation (`contract_overdrawn`), in hours.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ContractNumbers {
    pub contract_id: uuid::Uuid,
    #[schema(example = "2027 leadership coaching")]
    pub name: String,
    /// Hours the contract holds.
    #[schema(example = 100.0)]
    pub hours: f64,
    /// Hours its other programs hold.
    #[schema(example = 90.0)]
    pub allocated_hours: f64,
    /// Hours left for this program (never negative).
    #[schema(example = 10.0)]
    pub available_hours: f64,
    /// Hours this program would hold after the change.
    #[schema(example = 18.0)]
    pub requested_hours: f64,
}

/// An RFC 9457 problem document.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference identifying the problem type (`about:blank` for plain HTTP errors).
    #[schema(example = "urn:keel:problem:validation-error")]
    #[serde(rename = "type")]
    pub problem_type: String,
    #[schema(example = "Validation failed")]
    pub title: String,
    #[schema(example = 422)]
    pub status: u16,
    #[schema(example = "The request has 1 invalid field.")]
    pub detail: String,
    /// A stable machine-readable code for this kind of problem (e.g. `email_taken`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Each invalid field, for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemFieldError>,
    /// The contract's numbers, when an allocation would overdraw it (`contract_overdrawn`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract: Option<ContractNumbers>,
    /// Seconds to wait before retrying (sent as `Retry-After`).
    #[serde(skip)]
    #[schema(ignore)]
    pub retry_after: Option<u64>,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Problem {
        Problem {
            problem_type: "about:blank".to_owned(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            code: None,
            errors: Vec::new(),
            contract: None,
            retry_after: None,
        }
    }

    pub fn retry_after(mut self, seconds: u64) -> Problem {
        self.retry_after = Some(seconds);
        self
    }

    pub fn typed(mut self, slug: &str, title: &str) -> Problem {
        self.problem_type = format!("urn:keel:problem:{slug}");
        self.title = title.to_owned();
        self
    }

    pub fn with_code(mut self, code: impl Into<String>) -> Problem {
        self.code = Some(code.into());
        self
    }

    pub fn with_errors(mut self, errors: Vec<ProblemFieldError>) -> Problem {
        self.errors = errors;
        self
    }

    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE)));
        match self.retry_after {
            Some(seconds) => {
                response.insert_header((header::RETRY_AFTER, seconds.to_string()));
            }
            None if self.status == 503 => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("5")));
            }
            None => {}
        }
        response.body(serde_json::to_vec(self).unwrap_or_default())
    }
}

/// The errors a handler returns; each becomes a problem document.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0:?}")]
    Problem(Box<Problem>),
    /// No valid credentials: 401 with `WWW-Authenticate`.
    #[error("unauthorized: {0}")]
    Unauthorized(crate::auth::AuthError),
    /// A fault that is ours, not the caller's: logged with the request id, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn problem(problem: Problem) -> ApiError {
        ApiError::Problem(Box::new(problem))
    }

    pub fn bad_request(slug: &str, detail: impl Into<String>, errors: Vec<ProblemFieldError>) -> ApiError {
        ApiError::problem(
            Problem::new(StatusCode::BAD_REQUEST, detail)
                .typed(slug, "Bad request")
                .with_code(slug.replace('-', "_"))
                .with_errors(errors),
        )
    }

    pub fn field(field: &str, code: &str, message: impl Into<String>) -> ProblemFieldError {
        ProblemFieldError { field: field.to_owned(), code: code.to_owned(), message: message.into() }
    }
}

fn field_errors(errors: &[FieldError]) -> Vec<ProblemFieldError> {
    errors
        .iter()
        .map(|e| ProblemFieldError { field: e.field.clone(), code: e.code.to_owned(), message: e.message.clone() })
        .collect()
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        let problem = match &error {
            DomainError::Validation(errors) => {
                let n = errors.0.len();
                Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("The request has {n} invalid field{}.", if n == 1 { "" } else { "s" }),
                )
                .typed("validation-error", "Validation failed")
                .with_code("validation_failed")
                .with_errors(field_errors(&errors.0))
            }
            DomainError::NotFound { resource } => {
                Problem::new(StatusCode::NOT_FOUND, format!("No {resource} with this id exists."))
                    .with_code(format!("{}_not_found", resource.replace(' ', "_")))
            }
            DomainError::Conflict { code, message } => {
                Problem::new(StatusCode::CONFLICT, message.clone()).typed("conflict", "Conflict").with_code(*code)
            }
            DomainError::Overdrawn(overdraft) => {
                let hours = |minutes: i64| minutes as f64 / 60.0;
                let mut problem = Problem::new(StatusCode::CONFLICT, "The change would allocate more hours than the contract has left.")
                    .typed("contract-overdrawn", "Contract overdrawn")
                    .with_code("contract_overdrawn")
                    .with_errors(vec![ProblemFieldError {
                        field: overdraft.field.to_owned(),
                        code: "contract_overdrawn".to_owned(),
                        message: overdraft.message(),
                    }]);
                problem.contract = Some(ContractNumbers {
                    contract_id: overdraft.contract_id.as_uuid(),
                    name: overdraft.contract_name.clone(),
                    hours: hours(overdraft.bought_minutes),
                    allocated_hours: hours(overdraft.allocated_minutes),
                    available_hours: hours(overdraft.available_minutes()),
                    requested_hours: hours(overdraft.requested_minutes),
                });
                problem
            }
            DomainError::GuardsUnmet { unmet } => Problem::new(
                StatusCode::CONFLICT,
                format!("The transition is refused: {} condition(s) are not met.", unmet.len()),
            )
            .typed("transition-refused", "Transition refused")
            .with_code("transition_refused")
            .with_errors(
                unmet
                    .iter()
                    .map(|u| ProblemFieldError { field: "to".to_owned(), code: u.code.to_owned(), message: u.message.clone() })
                    .collect(),
            ),
            DomainError::Forbidden { message } => {
                Problem::new(StatusCode::FORBIDDEN, message.clone()).typed("forbidden", "Forbidden").with_code("forbidden")
            }
            DomainError::StaleVersion { current } => Problem::new(
                StatusCode::PRECONDITION_FAILED,
                match current {
                    Some(v) => format!(
                        "The resource has changed: If-Match does not name its current version (ETag \"{v}\"). Fetch it again and retry."
                    ),
                    None => "The resource was changed by a concurrent request. Fetch it again and retry.".to_owned(),
                },
            )
            .typed("stale-version", "Precondition failed")
            .with_code("stale_version"),
        };
        ApiError::problem(problem)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Domain(domain) => domain.into(),
            StoreError::Unavailable(cause) => {
                tracing::warn!(%cause, "database unavailable");
                ApiError::problem(
                    Problem::new(StatusCode::SERVICE_UNAVAILABLE, "The database is unavailable. Retry later.")
                        .with_code("database_unavailable"),
                )
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Problem(p) => p.status_code(),
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Problem(p) => p.response(),
            ApiError::Unauthorized(error) => {
                let (detail, challenge) = match error {
                    crate::auth::AuthError::Missing => (
                        "This operation needs an access token: send Authorization: Bearer <token>.".to_owned(),
                        "Bearer realm=\"keel\"".to_owned(),
                    ),
                    crate::auth::AuthError::Invalid(reason) => (
                        format!("The access token was refused: {reason}."),
                        format!("Bearer realm=\"keel\", error=\"invalid_token\", error_description=\"{reason}\""),
                    ),
                };
                let mut response = Problem::new(StatusCode::UNAUTHORIZED, detail)
                    .typed("unauthorized", "Unauthorized")
                    .with_code("unauthorized")
                    .response();
                if let Ok(value) = HeaderValue::from_str(&challenge) {
                    response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
                }
                response
            }
            ApiError::Internal(cause) => {
                // Runs inside the request's span, so the log line carries the request id.
                tracing::error!(%cause, "internal error");
                internal_problem().response()
            }
        }
    }
}

pub fn internal_problem() -> Problem {
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "An unexpected error occurred. It has been logged with this request's X-Request-Id.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_codes_are_snake_case_identifiers() {
        for resource in ["engagement", "action item", "design version", "leader interview"] {
            let ApiError::Problem(problem) = ApiError::from(DomainError::not_found(resource)) else { panic!() };
            let code = problem.code.expect("a code");
            assert!(code.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{code:?}");
            assert!(code.ends_with("_not_found"), "{code:?}");
        }
    }
}
