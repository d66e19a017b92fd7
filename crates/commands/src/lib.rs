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
pub mod engagements;
pub mod extensions;
pub mod frame;
pub mod notifications;
pub mod organizations;
pub mod program;
pub mod sessions;
pub mod sign_in;
pub mod users;
pub mod webhooks;

pub use frame::{Caller, Effects};
pub use keel_persistence::StoreError as Error;
