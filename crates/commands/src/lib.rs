//! Keel's commands and queries: one function per use of the program, called by every front (the
//! JSON API today; pages, SCIM and reports next).
//!
//! A command is one frame ([`frame::run`]): it opens a write transaction, loads and locks what it
//! needs through persistence, asks the domain (policy, state machine, validation) for the
//! decision, writes through persistence, and records its effects (audit record, events, mail),
//! which the frame writes in the same transaction. A query loads, asks the policy what the
//! caller may see, and returns it. Nothing here speaks HTTP, and persistence knows nothing of it.

pub mod action_items;
pub mod api_clients;
pub mod audit;
pub mod calendar;
pub mod coach;
pub mod contracts;
pub mod delivery;
pub mod designs;
pub mod engagements;
pub mod extensions;
pub mod frame;
pub mod groups;
pub mod hr;
pub mod notifications;
pub mod ops;
pub mod organizations;
pub mod pages;
pub mod principals;
pub mod program;
pub mod reports;
pub mod reviews;
pub mod sessions;
pub mod sign_in;
pub mod stakeholders;
pub mod templates;
pub mod tokens;
pub mod users;
pub mod webhooks;

pub use frame::{Caller, Effects};
/// The store every command runs against, as the fronts open and hand it over.
pub use keel_persistence::instrument::statements_on_this_thread;
pub use keel_persistence::{Database, DbConnection, StoreError};

/// The filters of the list queries.
pub mod filters {
    pub use keel_persistence::repo::action_items::ActionItemFilter;
    pub use keel_persistence::repo::audit::AuditFilter;
    pub use keel_persistence::repo::engagements::EngagementFilter;
    pub use keel_persistence::repo::users::UserFilter;
    pub use keel_persistence::repo::webhooks::{DeliveryFilter, WebhookFilter};
}
