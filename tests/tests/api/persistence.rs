//! The schema on both backends: every table round-trips through its model, migrations go
//! up, down and up again, and the audit log is append-only.

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;
use keel_domain::audit::{Actor, AuditRecord, CommandContext};
use keel_domain::organization::{NewOrganization, Organization};
use keel_domain::user::{NewUser, Role, User};
use keel_persistence::repo::{audit, organizations, secrets, users};
use keel_persistence::{Database, DbConnection, migrations};
use keel_tests::{Backend, TestDatabase, both_backends};
use serde_json::json;

fn ctx() -> CommandContext {
    CommandContext { actor: Actor::System, request_id: "req-roundtrip".to_owned() }
}

/// A migrated database (a copy of the template: nothing is left to apply).
fn migrated(backend: Backend) -> Option<(TestDatabase, Database)> {
    let test_db = TestDatabase::create(backend)?;
    let db = test_db.open();
    assert_eq!(migrations::run_pending(&mut db.conn().unwrap()).unwrap(), Vec::<String>::new(), "{backend:?}");
    Some((test_db, db))
}

fn round_trip_every_table(conn: &mut DbConnection) {
    let org = Organization::create(NewOrganization { name: "Acme".into(), ..Default::default() }).unwrap();
    organizations::insert(conn, &org).unwrap();
    assert_eq!(organizations::get(conn, org.id).unwrap(), org);

    let user = User::create(NewUser {
        email: "Ann@Example.com".into(),
        name: "Ann".into(),
        organization_id: Some(org.id),
        roles: vec![Role::HrPartner, Role::Coach, Role::Admin],
        external_id: Some("HR-7".into()),
    })
    .unwrap();
    users::insert(conn, &user).unwrap();
    assert_eq!(users::get(conn, user.id).unwrap(), user);
    assert_eq!(users::find_by_email(conn, "ann@example.COM").unwrap(), Some(user.clone()));

    let record = AuditRecord::new(&ctx(), "test.done", "thing", "t-1", Some(org.id)).with_fields(vec!["a", "b"]);
    audit::append(conn, &record).unwrap();
    let rows = audit::for_resource(conn, "thing", "t-1").unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].action, "test.done");
    assert_eq!(rows[0].changed_fields, r#"["a","b"]"#);
    assert_eq!(rows[0].organization_id, Some(org.id.to_string()));
    assert_eq!(rows[0].actor_kind, "system");

    let input = keel_domain::webhook::NewWebhook {
        url: "https://hr.example.com/hooks".into(),
        event_types: vec!["session.completed".into(), "engagement.created".into()],
        description: Some("HRIS".into()),
        ..Default::default()
    };
    let hook = keel_domain::webhook::Webhook::create(org.id, input, "whsec_a".into(), false).unwrap();
    keel_persistence::repo::webhooks::insert(conn, &hook).unwrap();
    assert_eq!(keel_persistence::repo::webhooks::get(conn, hook.id).unwrap(), hook);
    let rotated = hook.rotate_secret("whsec_b".into(), std::time::Duration::from_secs(60));
    keel_persistence::repo::webhooks::save(conn, &rotated, hook.version).unwrap();
    assert!(rotated.previous_secret_expires_at.is_some());
    assert_eq!(keel_persistence::repo::webhooks::get(conn, hook.id).unwrap(), rotated);

    let key = secrets::get_or_create(conn, "k", || "first".into()).unwrap();
    assert_eq!(key, "first");
    assert_eq!(secrets::get_or_create(conn, "k", || "second".into()).unwrap(), "first");
}

async fn every_table_round_trips(backend: Backend) {
    let Some((_guard, db)) = migrated(backend) else { return };
    round_trip_every_table(&mut db.conn().unwrap());
}

/// From an empty database: every migration goes up, down, and up again.
async fn migrations_go_up_down_and_up_again(backend: Backend) {
    let Some(test_db) = TestDatabase::create_empty(backend) else { return };
    let db = test_db.open();
    let mut conn = db.conn().unwrap();
    let applied = migrations::run_pending(&mut conn).unwrap();
    assert!(!applied.is_empty(), "{backend:?}");
    let reverted = migrations::revert_all(&mut conn).unwrap();
    assert!(!reverted.is_empty(), "{backend:?}");
    assert_eq!(reverted.len(), applied.len(), "{backend:?}");
    assert!(
        organizations::list(&mut conn, None, keel_domain::page::PageRequest::new(None, None).unwrap()).is_err(),
        "tables are gone"
    );
    migrations::run_pending(&mut conn).unwrap();
    round_trip_every_table(&mut conn);
}

async fn the_audit_log_is_append_only(backend: Backend) {
    let Some((_guard, db)) = migrated(backend) else { return };
    let mut conn = db.conn().unwrap();
    audit::append(&mut conn, &AuditRecord::new(&ctx(), "x", "thing", "t", None)).unwrap();
    assert!(diesel::sql_query("UPDATE audit_events SET action = 'y'").execute(&mut conn).is_err(), "{backend:?}");
    assert!(diesel::sql_query("DELETE FROM audit_events").execute(&mut conn).is_err(), "{backend:?}");
    assert_eq!(audit::for_resource(&mut conn, "thing", "t").unwrap()[0].action, "x");
}

/// An idempotency claim whose request never recorded its answer (the database went away, or the
/// process was killed) holds its key for the lease only; then a retry takes the key over. A
/// recorded answer is kept for a day.
async fn an_unfinished_idempotency_claim_runs_out(backend: Backend) {
    use keel_persistence::repo::idempotency::{self, Claim, LEASE};
    let Some((_guard, db)) = migrated(backend) else { return };
    let mut conn = db.conn().unwrap();
    let t0 = keel_domain::time::now();
    let claim = |conn: &mut DbConnection, at| idempotency::claim_at(conn, "user:1", "k-1", "hash", at).unwrap();
    assert_eq!(claim(&mut conn, t0), Claim::Claimed);
    let Claim::InProgress { retry_after_secs } = claim(&mut conn, t0 + chrono::Duration::seconds(10)) else {
        panic!("{backend:?}: a running claim is in progress");
    };
    assert!((45..=50).contains(&retry_after_secs), "{backend:?}: {retry_after_secs} s of the lease are left");
    let after_lease = t0 + LEASE + chrono::Duration::seconds(1);
    assert_eq!(claim(&mut conn, after_lease), Claim::Claimed, "{backend:?}: taken over");
    idempotency::complete(&mut conn, "user:1", "k-1", 201, "[]", "{}").unwrap();
    let replay = claim(&mut conn, after_lease + LEASE + chrono::Duration::hours(1));
    assert!(matches!(replay, Claim::Replay { status: 201, .. }), "{backend:?}: kept after the lease: {replay:?}");
}

/// Every table and column `schema.rs` names, read from its text: `table (pk) { column -> Type, … }`.
fn declared_schema() -> BTreeMap<String, BTreeSet<String>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../crates/persistence/src/schema.rs");
    let text = std::fs::read_to_string(path).unwrap();
    let mut tables = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if let Some(table) = line.strip_suffix('{').and_then(|l| l.split_once(" (")).map(|(name, _)| name) {
            current = Some(table.trim().to_owned());
            tables.insert(table.trim().to_owned(), BTreeSet::new());
        } else if let (Some(table), Some((column, _))) = (&current, line.split_once(" -> ")) {
            tables.get_mut(table).unwrap().insert(column.trim().to_owned());
        } else if line == "}" {
            current = None;
        }
    }
    tables
}

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    column_name: String,
}

/// Every table and column a backend's migrations create (diesel's own bookkeeping aside).
fn migrated_schema(conn: &mut DbConnection) -> BTreeMap<String, BTreeSet<String>> {
    let rows: Vec<ColumnRow> = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(
            "SELECT m.name AS table_name, p.name AS column_name FROM sqlite_master m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
        )
        .load(c)
        .unwrap(),
        DbConnection::Postgresql(c) => diesel::sql_query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name FROM information_schema.columns \
             WHERE table_schema = current_schema()",
        )
        .load(c)
        .unwrap(),
    };
    let mut tables: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in rows.into_iter().filter(|r| r.table_name != "__diesel_schema_migrations") {
        tables.entry(row.table_name).or_default().insert(row.column_name);
    }
    tables
}

async fn migrations_match_schema_rs(backend: Backend) {
    let declared = declared_schema();
    assert!(declared.len() > 20 && declared["users"].contains("sign_in_hold_until"), "the parser reads schema.rs");
    let Some((_guard, db)) = migrated(backend) else { return };
    let migrated = migrated_schema(&mut db.conn().unwrap());
    assert_eq!(migrated, declared, "{backend:?}: the migrations and schema.rs disagree");
}

both_backends! {
    fn every_table_round_trips(backend: Backend);
    fn migrations_go_up_down_and_up_again(backend: Backend);
    fn the_audit_log_is_append_only(backend: Backend);
    fn migrations_match_schema_rs(backend: Backend);
    fn an_unfinished_idempotency_claim_runs_out(backend: Backend);

    async fn every_change_is_audited_with_its_request_id(app) {
        use actix_web::http::Method;
        let response = app
            .call(Method::POST, "/v1/organizations", &[("x-request-id", "audit-1")], Some(&json!({ "name": "Acme" })))
            .await
            .expect_status(201);
        let org_id = response.json()["id"].as_str().unwrap().to_owned();
        let user = app.create_user(json!({ "email": "a@example.com", "name": "A", "organization_id": org_id })).await;
        let user_id = user["id"].as_str().unwrap().to_owned();
        app.call(Method::PATCH, &format!("/v1/users/{user_id}"), &[("x-request-id", "audit-2")], Some(&json!({ "name": "B" })))
            .await
            .expect_status(200);
        app.delete(&format!("/v1/users/{user_id}"), None).await.expect_status(204);
        // A refused change leaves no record.
        app.patch(&format!("/v1/users/{user_id}"), Some("\"1\""), &json!({ "name": "C" })).await.expect_problem(412);

        let db = app.db.open();
        let mut conn = db.conn().unwrap();
        let org_rows = audit::for_resource(&mut conn, "organization", &org_id).unwrap();
        assert_eq!(org_rows.len(), 1);
        assert_eq!((org_rows[0].action.as_str(), org_rows[0].request_id.as_str()), ("organization.created", "audit-1"));
        let user_rows = audit::for_resource(&mut conn, "user", &user_id).unwrap();
        let actions: Vec<&str> = user_rows.iter().map(|r| r.action.as_str()).collect();
        assert_eq!(actions, ["user.created", "user.updated", "user.deactivated"]);
        assert_eq!(user_rows[1].request_id, "audit-2");
        assert_eq!(user_rows[1].changed_fields, r#"["name"]"#);
        assert!(user_rows.iter().all(|r| r.organization_id.as_deref() == Some(org_id.as_str())));
    }
}
