//! The OpenAPI 3.1 document: paths collected from the registered handlers, plus the standard
//! error responses every operation can produce, added here once rather than in each handler.

use actix_web::App;
use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::{Content, Ref, RefOr, Response, ResponseBuilder};
use utoipa_actix_web::AppExt;

use crate::problem::{Problem, ProblemFieldError};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Keel",
        description = "Keel is an engagement-management REST API for one-on-one executive coaching programs: \
organizations, people, and the eight-step program from the context meeting with the sponsor to the \
end-of-program review.\n\n\
Conventions: JSON with snake_case fields; times are RFC 3339 in UTC (`Z`); ids are UUIDv7. Every error \
is an RFC 9457 `application/problem+json` document; validation problems list each field in `errors`. \
Lists use cursor pagination (`limit`, `cursor` → `items`, `next_cursor`); an empty query parameter \
means the same as an absent one. Single resources carry an \
`ETag`; send it back in `If-Match` on PATCH/DELETE to get 412 instead of overwriting a newer version.",
        contact(name = "Keel maintainers", url = "https://github.com/keel-coaching/keel", email = "maintainers@keel.dev"),
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    servers((url = "http://127.0.0.1:8080", description = "A local Keel (the default bind address)")),
    tags(
        (name = "auth", description = "Who is calling; access tokens for API clients and people"),
        (name = "organizations", description = "Client companies (tenants) and their program settings"),
        (name = "users", description = "People: HR partners, coaches, admins, leaders and sponsors"),
        (name = "templates", description = "Program templates: the steps, guards, planned sessions and session plan of a kind of program (executive, micro coaching, introductory sequence, or an organization's own)"),
        (name = "engagements", description = "Coaching engagements and the eight-step program as a state machine"),
        (name = "program", description = "What the program's steps hold: context meeting, outcomes, leader interview"),
        (name = "designs", description = "Versioned program designs and the decisions of leader and sponsors"),
        (name = "sessions", description = "Coaching sessions and the hours ledger"),
        (name = "groups", description = "Group and team coaching: cohorts and teams, members joining and leaving, group sessions with attendance, and each participant's own outcomes and action items"),
        (name = "reviews", description = "Mid- and end-of-program reviews, renewal, and progress"),
        (name = "stakeholders", description = "The 360: raters, their interviews and feedback (coach only), and released themes"),
        (name = "contracts", description = "Coaching hours an organization bought for a period, what its engagements and groups hold of them and used, and their cost"),
        (name = "reports", description = "Utilization of the hours bought, the pipeline of programs by phase with those stuck, outcomes, and participation: figures only, as JSON or streamed CSV"),
        (name = "webhooks", description = "Event subscriptions of an organization, signed per Standard Webhooks, and their delivery log"),
        (name = "audit", description = "The append-only audit log"),
        (name = "ops", description = "Health, readiness, metrics and this document"),
    ),
    components(schemas(Problem, ProblemFieldError, crate::problem::ContractNumbers))
)]
struct ApiDoc;

/// Standard error responses: (status, component name, description).
const STANDARD: &[(&str, &str, &str)] = &[
    ("400", "BadRequest", "Malformed request: unparseable JSON, wrong types, unknown fields, or invalid parameters"),
    ("401", "Unauthorized", "No valid access token; see the WWW-Authenticate header"),
    ("403", "Forbidden", "The caller may see the resource but not do this"),
    ("404", "NotFound", "No such resource, or none the caller may see"),
    ("409", "Conflict", "The request conflicts with the current state"),
    ("412", "PreconditionFailed", "If-Match does not name the current version"),
    ("413", "PayloadTooLarge", "The request body exceeds the size limit"),
    ("415", "UnsupportedMediaType", "The request body is not JSON"),
    ("422", "UnprocessableEntity", "Validation failed; `errors` lists each invalid field"),
    ("500", "InternalError", "An unexpected error; details are in the server log under the request id"),
    ("503", "ServiceUnavailable", "The database is unavailable; retry after the Retry-After delay"),
];

/// Marker types so handlers can name standard responses (`response = crate::openapi::Conflict`).
pub struct Conflict;

impl<'r> utoipa::ToResponse<'r> for Conflict {
    fn response() -> (&'r str, RefOr<Response>) {
        ("Conflict", problem_response("The request conflicts with the current state").into())
    }
}

/// 404 by name, for operations without path parameters that can still name a missing resource
/// (e.g. an organization in the body).
pub struct NotFound;

impl<'r> utoipa::ToResponse<'r> for NotFound {
    fn response() -> (&'r str, RefOr<Response>) {
        ("NotFound", problem_response("No such resource, or none the caller may see").into())
    }
}

/// 429 with `Retry-After`, from the abuse limits of the credential endpoints.
pub struct TooManyRequests;

/// 422 by name, for operations without a request body that still validate (e.g. submitting a
/// design that lacks a summary).
pub struct UnprocessableEntity;

impl<'r> utoipa::ToResponse<'r> for UnprocessableEntity {
    fn response() -> (&'r str, RefOr<Response>) {
        ("UnprocessableEntity", problem_response("Validation failed; `errors` lists each invalid field").into())
    }
}

impl<'r> utoipa::ToResponse<'r> for TooManyRequests {
    fn response() -> (&'r str, RefOr<Response>) {
        use utoipa::openapi::HeaderBuilder;
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        let mut response =
            problem_response("Too many requests from this caller; retry after the Retry-After delay (seconds)");
        response.headers.insert(
            "Retry-After".to_owned(),
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
                .description(Some("Seconds to wait"))
                .build()
                .into(),
        );
        ("TooManyRequests", response.into())
    }
}

fn problem_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content("application/problem+json", Content::new(Some(Ref::from_schema_name("Problem"))))
        .build()
}

fn standard_ref(status: &str) -> RefOr<Response> {
    let (_, name, _) = STANDARD.iter().find(|(s, _, _)| *s == status).expect("a standard status");
    RefOr::Ref(Ref::from_response_name(*name))
}

pub(crate) fn operations(item: &mut PathItem) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("GET", item.get.as_mut()),
        ("PUT", item.put.as_mut()),
        ("POST", item.post.as_mut()),
        ("DELETE", item.delete.as_mut()),
        ("PATCH", item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.map(|op| (method, op)))
}

/// Operations that need no access token.
pub const PUBLIC_OPERATIONS: &[&str] =
    &["healthz", "readyz", "metrics", "openapi_json", "issue_token", "create_sign_in_link", "redeem_sign_in_link"];

/// Operations whose errors follow their own protocol (OAuth's token endpoint) rather than the
/// JSON-body conventions: no 415 or 422 from them.
const OWN_ERROR_FORMAT: &[&str] = &["issue_token"];

/// The OAuth2 scope an API client needs for an operation; operations not listed need none beyond
/// belonging to the organization (the access policy decides the rest).
pub const OPERATION_SCOPES: &[(&str, &str)] = &[
    ("list_users", "users:read"),
    ("get_user", "users:read"),
    ("create_user", "users:write"),
    ("update_user", "users:write"),
    ("deactivate_user", "users:write"),
    ("create_engagement", "engagements:write"),
    ("list_engagements", "engagements:read"),
    ("get_engagement", "engagements:read"),
    ("update_engagement", "engagements:write"),
    ("transition_engagement", "engagements:write"),
    ("get_timeline", "engagements:read"),
    ("put_context", "engagements:write"),
    ("get_context", "engagements:read"),
    ("list_outcomes", "engagements:read"),
    ("create_outcome", "engagements:write"),
    ("update_outcome", "engagements:write"),
    ("delete_outcome", "engagements:write"),
    ("create_measurement", "engagements:write"),
    ("put_leader_interview", "engagements:write"),
    ("get_leader_interview", "engagements:read"),
    ("list_raters", "engagements:read"),
    ("create_rater", "engagements:write"),
    ("get_rater", "engagements:read"),
    ("update_rater", "engagements:write"),
    ("delete_rater", "engagements:write"),
    ("put_rater_interview", "engagements:write"),
    ("invite_rater", "engagements:write"),
    ("list_themes", "engagements:read"),
    ("create_theme", "engagements:write"),
    ("update_theme", "engagements:write"),
    ("delete_theme", "engagements:write"),
    ("release_themes", "engagements:write"),
    ("list_designs", "engagements:read"),
    ("create_design", "engagements:write"),
    ("get_design", "engagements:read"),
    ("update_design", "engagements:write"),
    ("submit_design", "engagements:write"),
    ("decide_design", "engagements:write"),
    ("list_sessions", "engagements:read"),
    ("schedule_session", "engagements:write"),
    ("get_session", "engagements:read"),
    ("update_session", "engagements:write"),
    ("complete_session", "engagements:write"),
    ("get_hours", "engagements:read"),
    ("list_extensions", "engagements:read"),
    ("request_extension", "engagements:write"),
    ("decide_extension", "engagements:write"),
    ("list_action_items", "engagements:read"),
    ("create_action_item", "engagements:write"),
    ("update_action_item", "engagements:write"),
    ("put_mid_review", "engagements:write"),
    ("get_mid_review", "engagements:read"),
    ("put_end_review", "engagements:write"),
    ("get_end_review", "engagements:read"),
    ("get_progress", "engagements:read"),
    ("list_templates", "engagements:read"),
    ("get_template", "engagements:read"),
    ("get_template_version", "engagements:read"),
    ("create_template", "engagements:write"),
    ("update_template", "engagements:write"),
    ("create_group", "engagements:write"),
    ("list_groups", "engagements:read"),
    ("get_group", "engagements:read"),
    ("update_group", "engagements:write"),
    ("list_members", "engagements:read"),
    ("add_member", "engagements:write"),
    ("remove_member", "engagements:write"),
    ("list_group_sessions", "engagements:read"),
    ("schedule_group_session", "engagements:write"),
    ("get_group_session", "engagements:read"),
    ("update_group_session", "engagements:write"),
    ("complete_group_session", "engagements:write"),
    ("get_group_hours", "engagements:read"),
    ("list_participant_outcomes", "engagements:read"),
    ("create_participant_outcome", "engagements:write"),
    ("list_participant_action_items", "engagements:read"),
    ("create_participant_action_item", "engagements:write"),
    ("update_participant_action_item", "engagements:write"),
    ("list_audit_events", "reports:read"),
    ("create_contract", "engagements:write"),
    ("list_contracts", "reports:read"),
    ("get_contract", "reports:read"),
    ("update_contract", "engagements:write"),
    ("delete_contract", "engagements:write"),
    ("utilization_report", "reports:read"),
    ("pipeline_report", "reports:read"),
    ("outcomes_report", "reports:read"),
    ("participation_report", "reports:read"),
    ("create_webhook", "webhooks:manage"),
    ("list_webhooks", "webhooks:manage"),
    ("get_webhook", "webhooks:manage"),
    ("update_webhook", "webhooks:manage"),
    ("delete_webhook", "webhooks:manage"),
    ("rotate_webhook_secret", "webhooks:manage"),
    ("list_webhook_deliveries", "webhooks:manage"),
    ("resend_webhook_delivery", "webhooks:manage"),
];

/// Security schemes, and each operation's requirement: a bearer token (a person's, an identity
/// provider's, or an API client's from the client-credentials flow, with the scope it needs).
fn add_security(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "An access token, sent as `Authorization: Bearer <token>`: a person's (sign-in link, \
                     `keel token`, or the configured identity provider), or an API client's from \
                     `POST /v1/oauth/token` (OAuth 2.0 client-credentials grant, RFC 6749 §4.4, with the \
                     client's id and secret). The scope an API client needs for an operation is named in its \
                     description and in `x-keel-scopes` (engagements:read, engagements:write, users:read, \
                     users:write, reports:read, webhooks:manage); people are not limited by scopes.",
                ))
                .build(),
        ),
    );
    components.add_security_scheme(
        "rater_code",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("A 360 rater's one-time feedback code, from their invitation email"))
                .build(),
        ),
    );
    for item in doc.paths.paths.values_mut() {
        for (_, op) in operations(item) {
            let id = op.operation_id.clone().unwrap_or_default();
            if PUBLIC_OPERATIONS.contains(&id.as_str()) {
                if op.security.is_none() {
                    op.security = Some(Vec::new());
                }
                continue;
            }
            // Unless the handler declares its own credential (a rater's one-time code): a Keel
            // token, with the API client scope the operation needs.
            if op.security.is_none() {
                let scope: Vec<&str> = OPERATION_SCOPES.iter().filter(|(op, _)| *op == id).map(|(_, s)| *s).collect();
                // One scheme, so that a client configured with just a token sends it as a bearer
                // token; the scope an API client needs is named in `x-keel-scopes` (and the
                // description), as linters take a bearer requirement's list for OAuth scopes.
                op.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
                if !scope.is_empty() {
                    let extension = utoipa::openapi::extensions::ExtensionsBuilder::new()
                        .add("x-keel-scopes", serde_json::json!(scope))
                        .build();
                    op.extensions.get_or_insert_with(Default::default).merge(extension);
                    let note = format!("API clients need the `{}` scope.", scope.join("`, `"));
                    op.description = Some(match op.description.take() {
                        Some(text) if !text.is_empty() => format!("{text}\n\n{note}"),
                        _ => note,
                    });
                }
            }
            for status in ["401", "403"] {
                op.responses.responses.entry(status.to_owned()).or_insert_with(|| standard_ref(status));
            }
            // Every authenticated call counts against its caller's rate limit.
            op.responses
                .responses
                .entry("429".to_owned())
                .or_insert_with(|| RefOr::Ref(Ref::from_response_name("TooManyRequests")));
        }
    }
}

/// The optional `Idempotency-Key` header every POST accepts.
fn idempotency_key_parameter() -> RefOr<utoipa::openapi::path::Parameter> {
    use utoipa::openapi::Required;
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    RefOr::T(
        ParameterBuilder::new()
            .name("Idempotency-Key")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "Makes a retry safe (1 to 255 visible ASCII characters, e.g. a UUID): the first response for this key (per caller) is kept for 24 hours and returned \
                 unchanged (with `Idempotent-Replayed: true`) for repeats; the same key with a different request is \
                 a 422 (`idempotency_key_reused`), a repeat while the first is still running a 409 \
                 (`idempotency_request_in_progress`, with `Retry-After`; a request that never recorded its answer, \
                 because the database went away or the server stopped, holds its key for 60 seconds, then a retry \
                 runs it again). A response that holds a secret (a client or webhook secret) \
                 is never kept: a repeat of it is a 409 (`idempotency_response_withheld`) with the resource's \
                 `Location`. The caller is checked before anything is replayed: a deactivated user's or revoked \
                 client's token gets 401.",
            ))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some(255))
                    .pattern(Some("^[!-~]+$")),
            ))
            .build(),
    )
}

/// What `If-Match` may hold: `*`, or a comma-separated list of entity tags.
/// An empty value is the same as no header.
pub const IF_MATCH_PATTERN: &str = r#"^\s*(\*|(W/)?"[^",]*"(\s*,\s*(W/)?"[^",]*")*)?\s*$"#;

/// The schema of an `If-Match` header: `*`, or a comma-separated list of entity tags (`"3"`,
/// weak ones `W/"3"` never match).
fn if_match_schema() -> RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(IF_MATCH_PATTERN))
        .description(Some("`*` or a list of entity tags; an empty value is the same as no If-Match."))
        .examples([serde_json::json!("\"3\"")])
        .into()
}

/// Adds the error responses that conventions (and actix itself) produce to every operation.
fn add_standard_errors(doc: &mut utoipa::openapi::OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    for (_, name, description) in STANDARD {
        components.responses.insert((*name).to_owned(), problem_response(description).into());
    }
    let (name, response) = <TooManyRequests as utoipa::ToResponse>::response();
    components.responses.insert(name.to_owned(), response);
    // The HTTP layer refuses a request whose headers are too many or too large before Keel sees
    // it, on every route, with no body.
    components.responses.insert(
        "RequestHeaderFieldsTooLarge".to_owned(),
        ResponseBuilder::new()
            .description("The request's headers are too many or too large (answered by the HTTP layer, without a body)")
            .build()
            .into(),
    );
    for (path, item) in doc.paths.paths.iter_mut() {
        let has_path_params = path.contains('{');
        for (method, op) in operations(item) {
            let has_body = op.request_body.is_some();
            let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
            let mut statuses = vec!["500"];
            if path.starts_with("/v1/") {
                statuses.push("503");
            }
            if has_body || has_params {
                statuses.push("400");
            }
            if has_path_params {
                statuses.push("404");
            }
            if has_body {
                statuses.push("413");
                if !OWN_ERROR_FORMAT.contains(&op.operation_id.as_deref().unwrap_or_default()) {
                    statuses.extend(["415", "422"]);
                }
            }
            // The entity tags Keel's ETags are, and `*` (what `IfMatchVersion` parses).
            for parameter in op.parameters.iter_mut().flatten() {
                if let RefOr::T(p) = parameter
                    && p.name == "If-Match"
                {
                    p.schema = Some(if_match_schema());
                }
            }
            // 412 where the operation takes If-Match (and only there: a client can read it).
            let takes_if_match = op
                .parameters
                .as_ref()
                .is_some_and(|ps| ps.iter().any(|p| matches!(p, RefOr::T(p) if p.name == "If-Match")));
            if takes_if_match {
                statuses.push("412");
            }
            if method == "POST" {
                statuses.extend(["409", "422"]);
                // Keys belong to a caller with a Keel token; operations that are anonymous or take
                // another credential (a rater's code, declared on the handler) run without them.
                if !PUBLIC_OPERATIONS.contains(&op.operation_id.as_deref().unwrap_or_default()) && op.security.is_none()
                {
                    op.parameters.get_or_insert_with(Vec::new).push(idempotency_key_parameter());
                }
            }
            for status in statuses {
                op.responses.responses.entry(status.to_owned()).or_insert_with(|| standard_ref(status));
            }
            op.responses
                .responses
                .entry("431".to_owned())
                .or_insert_with(|| RefOr::Ref(Ref::from_response_name("RequestHeaderFieldsTooLarge")));
        }
    }
}

/// The document, as generated from the handlers registered in [`crate::routes`].
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, mut doc) =
        App::new().into_utoipa_app().openapi(ApiDoc::openapi()).configure(crate::routes).split_for_parts();
    remove_docs_page(&mut doc);
    split_summaries(&mut doc);
    add_standard_errors(&mut doc);
    add_security(&mut doc);
    crate::contract::apply(&mut doc);
    doc
}

/// A handler's doc comment arrives as the operation's summary: its first sentence stays the
/// summary (one line, for generated clients and the docs' menu), the whole text becomes the
/// description.
fn split_summaries(doc: &mut utoipa::openapi::OpenApi) {
    for item in doc.paths.paths.values_mut() {
        for (_, op) in operations(item) {
            let Some(text) = op.summary.clone() else { continue };
            let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
            let first = match flat.find(". ") {
                Some(end) => flat[..=end].to_owned(),
                None => flat.clone(),
            };
            op.summary = Some(first);
            if op.description.as_deref().is_none_or(str::is_empty) {
                op.description = Some(text);
            }
        }
    }
}

/// The interactive documentation (`/docs`, redirecting to Swagger UI at `/docs/`) is a page for
/// people, like Keel's other pages: it is served, not part of the API's contract.
fn remove_docs_page(doc: &mut utoipa::openapi::OpenApi) {
    doc.paths.paths.remove("/docs");
}

/// The routes besides the document's that answer 405 (not 404) to another method.
const PAGE_ROUTES: &[(&str, &[&str])] = &[("/docs", &["GET"]), ("/docs/", &["GET"])];

/// The document as the JSON committed in `openapi/openapi.json` and served at `/openapi.json`.
pub fn document_json() -> String {
    render(&document())
}

pub fn render(doc: &utoipa::openapi::OpenApi) -> String {
    // Through serde_json's map, whose keys are sorted: utoipa keeps extensions (`if`/`then`/`else`
    // among them) in a hash map, and the document must come out the same on every run.
    let value = serde_json::to_value(doc).expect("the document serializes");
    let mut json = serde_json::to_string_pretty(&value).expect("the document serializes");
    json.push('\n');
    json
}

/// Path templates and the methods each accepts, for telling 405 from 404.
pub fn route_table(doc: &utoipa::openapi::OpenApi) -> Vec<(String, Vec<&'static str>)> {
    let mut doc = doc.clone();
    let mut routes: Vec<(String, Vec<&'static str>)> = doc
        .paths
        .paths
        .iter_mut()
        .map(|(path, item)| (path.clone(), operations(item).map(|(m, _)| m).collect()))
        .collect();
    routes.extend(PAGE_ROUTES.iter().map(|(path, methods)| ((*path).to_owned(), methods.to_vec())));
    routes
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Operations an API client may call with no scope beyond belonging to the organization: the
    /// caller's own identity, organizations and API clients, which only people manage, and a
    /// person's own calendar feed (a client has none: 404). Every
    /// other authenticated operation names the scope it needs, so a new operation cannot ship
    /// without that decision.
    const SCOPE_FREE: &[&str] = &[
        "get_me",
        "list_organizations",
        "create_organization",
        "get_organization",
        "update_organization",
        "list_api_clients",
        "create_api_client",
        "revoke_api_client",
        "rotate_api_client_secret",
        "get_calendar_feed",
        "create_calendar_feed",
        "revoke_calendar_feed",
    ];

    /// A client can read the `stale_version` problem exactly where it can send `If-Match`.
    #[test]
    fn precondition_failed_is_listed_where_if_match_is_taken() {
        let doc: serde_json::Value = serde_json::from_str(&document_json()).unwrap();
        let mut wrong = Vec::new();
        let mut guarded = Vec::new();
        for item in doc["paths"].as_object().unwrap().values() {
            for op in item.as_object().unwrap().values() {
                let takes = op["parameters"].as_array().is_some_and(|ps| ps.iter().any(|p| p["name"] == "If-Match"));
                let lists = op["responses"].get("412").is_some();
                let id = op["operationId"].as_str().unwrap_or_default().to_owned();
                if takes != lists {
                    wrong.push(id.clone());
                }
                if takes {
                    guarded.push(id);
                }
            }
        }
        assert!(wrong.is_empty(), "If-Match and 412 disagree on {wrong:?}");
        for op in ["transition_engagement", "submit_design", "delete_rater", "delete_theme", "update_engagement"] {
            assert!(guarded.iter().any(|g| g == op), "{op} takes If-Match");
        }
    }

    #[test]
    fn every_authenticated_operation_names_its_scope() {
        let mut doc = document();
        let mut unnamed = Vec::new();
        for item in doc.paths.paths.values_mut() {
            for (_, op) in operations(item) {
                let id = op.operation_id.clone().unwrap_or_default();
                let bearer = serde_json::to_string(&op.security).unwrap_or_default().contains("\"bearer\"");
                let named = serde_json::to_value(&*op).ok().is_some_and(|v| v.get("x-keel-scopes").is_some());
                if bearer && !PUBLIC_OPERATIONS.contains(&id.as_str()) && !named && !SCOPE_FREE.contains(&id.as_str()) {
                    unnamed.push(id);
                }
            }
        }
        assert!(unnamed.is_empty(), "operations without an API client scope: {unnamed:?}");
    }
}
