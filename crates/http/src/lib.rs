//! Keel's HTTP API: actix-web handlers, the conventions every one of them follows (problem
//! documents, request ids, pagination, ETags), metrics, and the OpenAPI document.

pub mod api;
pub mod auth;
pub mod contract;
pub mod cursor;
pub mod dbtiming;
pub mod extract;
pub mod idempotency;
pub mod json;
pub mod limits;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod pages;
pub mod principal;
pub mod problem;
#[cfg(test)]
mod proptests;
pub mod ratelimit;
pub mod state;
pub mod webhook_signature;

use std::sync::Arc;

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, web};
use keel_commands::Database;
use utoipa_actix_web::AppExt;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_swagger_ui::{Config, SwaggerUi};

pub use state::AppState;

/// HTTP settings the application needs.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    /// The largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// The front-end page that redeems sign-in links (`?token=` is appended), if any.
    pub sign_in_url: Option<String>,
    pub limits: limits::LimitSettings,
    /// Requests per minute per user or API client.
    pub api_rate_per_minute: u32,
    pub webhooks: WebhookSettings,
    /// How long a resolved caller is reused by this instance (zero: looked up on every request).
    pub principal_cache: std::time::Duration,
    pub pages: state::PageSettings,
    /// `/metrics` is served on a listener of its own (`metrics_bind`), not with the API.
    pub metrics_elsewhere: bool,
}

/// What the webhook endpoints need from the configuration.
#[derive(Clone, Copy, Debug)]
pub struct WebhookSettings {
    /// Accept target URLs on loopback, private and other internal addresses.
    pub allow_internal: bool,
    /// How long the previous secret is still signed with after a rotation.
    pub secret_overlap: std::time::Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings { allow_internal: false, secret_overlap: std::time::Duration::from_secs(86_400) }
    }
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            sign_in_url: None,
            limits: limits::LimitSettings::default(),
            api_rate_per_minute: 600,
            webhooks: WebhookSettings::default(),
            principal_cache: std::time::Duration::from_secs(1),
            pages: state::PageSettings::default(),
            metrics_elsewhere: false,
        }
    }
}

/// Every documented route. The OpenAPI document is generated from exactly these registrations.
pub fn routes(cfg: &mut ServiceConfig) {
    use api::{
        action_items, api_clients, audit, calendar, contracts, designs, engagements, extensions, groups, me, oauth,
        ops, organizations, program, reports, reviews, sessions, sign_in, stakeholders, templates, users, webhooks,
    };
    cfg.service(ops::healthz)
        .service(ops::readyz)
        .service(ops::metrics)
        .service(ops::openapi_json)
        .service(ops::docs)
        .service(
            utoipa_actix_web::scope("/v1")
                .service(oauth::issue_token)
                .service(sign_in::create_sign_in_link)
                .service(sign_in::redeem_sign_in_link)
                .service(me::get_me)
                .service(organizations::create_organization)
                .service(organizations::list_organizations)
                .service(organizations::get_organization)
                .service(organizations::update_organization)
                .service(api_clients::create_api_client)
                .service(api_clients::list_api_clients)
                .service(api_clients::rotate_api_client_secret)
                .service(api_clients::revoke_api_client)
                .service(users::create_user)
                .service(users::list_users)
                .service(users::get_user)
                .service(users::update_user)
                .service(users::deactivate_user)
                .service(calendar::get_calendar_feed)
                .service(calendar::create_calendar_feed)
                .service(calendar::revoke_calendar_feed)
                .service(templates::list_templates)
                .service(templates::create_template)
                .service(templates::get_template)
                .service(templates::get_template_version)
                .service(templates::update_template)
                .service(engagements::create_engagement)
                .service(engagements::list_engagements)
                .service(engagements::get_engagement)
                .service(engagements::update_engagement)
                .service(engagements::transition_engagement)
                .service(engagements::get_timeline)
                .service(program::put_context)
                .service(program::get_context)
                .service(program::list_outcomes)
                .service(program::create_outcome)
                .service(program::update_outcome)
                .service(program::delete_outcome)
                .service(program::create_measurement)
                .service(program::put_leader_interview)
                .service(program::get_leader_interview)
                .service(stakeholders::list_raters)
                .service(stakeholders::create_rater)
                .service(stakeholders::get_rater)
                .service(stakeholders::update_rater)
                .service(stakeholders::delete_rater)
                .service(stakeholders::put_rater_interview)
                .service(stakeholders::invite_rater)
                .service(stakeholders::submit_feedback)
                .service(stakeholders::release_themes)
                .service(stakeholders::list_themes)
                .service(stakeholders::create_theme)
                .service(stakeholders::update_theme)
                .service(stakeholders::delete_theme)
                .service(designs::list_designs)
                .service(designs::create_design)
                .service(designs::get_design)
                .service(designs::update_design)
                .service(designs::submit_design)
                .service(designs::decide_design)
                .service(sessions::list_sessions)
                .service(sessions::schedule_session)
                .service(sessions::get_session)
                .service(sessions::update_session)
                .service(sessions::complete_session)
                .service(sessions::get_hours)
                .service(extensions::list_extensions)
                .service(extensions::request_extension)
                .service(extensions::decide_extension)
                .service(action_items::list_action_items)
                .service(action_items::create_action_item)
                .service(action_items::update_action_item)
                .service(reviews::put_mid_review)
                .service(reviews::get_mid_review)
                .service(reviews::put_end_review)
                .service(reviews::get_end_review)
                .service(reviews::get_progress)
                .service(groups::create_group)
                .service(groups::list_groups)
                .service(groups::get_group)
                .service(groups::update_group)
                .service(groups::list_members)
                .service(groups::add_member)
                .service(groups::remove_member)
                .service(groups::list_group_sessions)
                .service(groups::schedule_group_session)
                .service(groups::get_group_session)
                .service(groups::update_group_session)
                .service(groups::complete_group_session)
                .service(groups::get_group_hours)
                .service(groups::list_participant_outcomes)
                .service(groups::create_participant_outcome)
                .service(groups::list_participant_action_items)
                .service(groups::create_participant_action_item)
                .service(groups::update_participant_action_item)
                .service(contracts::create_contract)
                .service(contracts::list_contracts)
                .service(contracts::get_contract)
                .service(contracts::update_contract)
                .service(contracts::delete_contract)
                .service(webhooks::create_webhook)
                .service(webhooks::list_webhooks)
                .service(webhooks::get_webhook)
                .service(webhooks::update_webhook)
                .service(webhooks::delete_webhook)
                .service(webhooks::rotate_webhook_secret)
                .service(webhooks::list_webhook_deliveries)
                .service(webhooks::resend_webhook_delivery)
                .service(reports::utilization_report)
                .service(reports::pipeline_report)
                .service(reports::outcomes_report)
                .service(reports::participation_report)
                .service(audit::list_audit_events),
        );
}

#[derive(Clone)]
/// Shared state built once per process: the OpenAPI document is rendered here, not per worker.
pub struct Shared {
    pub state: web::Data<AppState>,
    pub routes: web::Data<api::ops::RouteTable>,
    pub settings: HttpSettings,
}

impl Shared {
    pub fn new(db: Database, cursor_key: &[u8], tokens: auth::TokenService, settings: HttpSettings) -> Shared {
        let doc = openapi::document();
        let routes = api::ops::RouteTable::new(openapi::route_table(&doc));
        let json = openapi::render(&doc);
        let state = AppState {
            db,
            metrics: metrics::Metrics::new(),
            cursors: cursor::CursorCodec::new(cursor_key),
            tokens,
            limits: limits::Limits::new(settings.limits),
            api_limits: limits::ApiLimits::new(settings.api_rate_per_minute),
            sign_in_url: settings.sign_in_url.clone(),
            webhooks: settings.webhooks,
            openapi_json: Arc::from(json),
            principals: principal::PrincipalCache::new(settings.principal_cache),
            pages: settings.pages.clone(),
            metrics_elsewhere: settings.metrics_elsewhere,
            draining: Default::default(),
        };
        Shared { state: web::Data::new(state), routes: web::Data::new(routes), settings }
    }
}

/// The application, for one worker.
pub fn build_app(
    shared: &Shared,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<BoxBody>,
        Error = actix_web::Error,
        InitError = (),
    > + use<>,
> {
    let limit = shared.settings.max_body_bytes;
    App::new()
        .into_utoipa_app()
        .app_data(shared.state.clone())
        .app_data(shared.routes.clone())
        .app_data(extract::BodyLimit(limit))
        .app_data(web::PayloadConfig::new(limit))
        .app_data(web::PathConfig::default().error_handler(extract::path_error))
        .app_data(pages::form_config())
        .configure(routes)
        .into_app()
        .configure(pages::routes)
        // A person's calendar feed: the address is the secret (docs/calendar.md).
        .route("/calendar/{file}", web::get().to(api::calendar::feed))
        .service(SwaggerUi::new("/docs/{_:.*}").config(Config::new(["/openapi.json"])))
        .default_service(web::to(api::ops::fallback))
        .wrap(actix_web::middleware::from_fn(idempotency::idempotency))
        .wrap(actix_web::middleware::from_fn(ratelimit::rate_limit))
        .wrap(actix_web::middleware::from_fn(middleware::observe))
}
