//! Test support: each test gets its own database (a copy of a template migrated once per run; see
//! [`database`]) and its own Keel server on a free loopback port, so tests run in parallel with no
//! clean-up code and no shared state.
//!
//! - [`app`]: the server under test ([`TestApp`]), its configuration and its [`Response`]s;
//! - [`database`]: [`TestDatabase`] on either [`Backend`]; [`both_backends!`] runs a test on both;
//! - [`fixtures`]: states of the program reached through the application layer;
//! - [`smtp`], [`receivers`], [`net`]: the mail server, webhook receivers and network a test
//!   talks to;
//! - [`pages`]: a browser without JavaScript (cookies, forms, links out of mails).

pub mod app;
mod backends;
pub mod browser;
pub mod database;
pub mod fixtures;
pub mod logs;
pub mod net;
pub mod pages;
pub mod receivers;
pub mod smtp;

pub use app::{ADMIN_EMAIL, Response, TestApp, test_config};
pub use database::{Backend, TestDatabase, postgres_address};
pub use net::{TcpProxy, free_port};
pub use receivers::{ReceivedHook, WebhookReceiver, verify_webhook};
pub use smtp::SmtpSink;
