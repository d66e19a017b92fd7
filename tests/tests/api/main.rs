//! Black-box tests of the HTTP API: the real server, over HTTP, on SQLite and PostgreSQL.

mod access;
mod audit;
mod conventions;
mod delivery;
mod designs;
mod engagements;
mod groups;
mod hardening;
mod idempotency;
mod layers;
mod limits;
mod ops;
mod organizations;
mod pages;
mod persistence;
mod queries;
mod reviews;
mod security;
mod seed;
mod sessions;
mod sign_in;
mod stakeholders;
mod templates;
mod tokens;
mod users;
mod webhooks;
