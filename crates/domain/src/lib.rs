//! Keel's domain: the program's entities, value types and rules.
//!
//! This crate performs no I/O and knows nothing of HTTP or SQL. Persistence and HTTP depend on it,
//! never the other way round.

pub mod api_client;
pub mod audit;
pub mod coaching;
pub mod contract;
pub mod design;
pub mod engagement;
pub mod error;
pub mod event;
pub mod facts;
pub mod group;
pub mod id;
pub mod organization;
pub mod outbox;
pub mod page;
pub mod pages;
pub mod policy;
pub mod program;
pub mod report;
pub mod review;
pub mod sign_in;
pub mod stakeholders;
pub mod template;
pub mod time;
pub mod user;
pub mod validate;
pub mod webhook;
mod wire;

pub use error::{DomainError, FieldError, Precondition, ValidationErrors};
pub use id::{
    ActionItemId, ApiClientId, ContractId, DecisionId, DeliveryId, EngagementId, EventId, ExtensionId,
    GroupActionItemId, GroupId, GroupOutcomeId, GroupSessionId, MeasurementId, MembershipId, OrganizationId, OutcomeId,
    RaterId, SessionId, TemplateId, ThemeId, TransitionId, UserId, WebhookId,
};
