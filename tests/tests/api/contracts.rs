//! Coaching contracts (docs/contracts.md): who manages and reads them, what they hold, and the
//! refusal of an allocation beyond what was bought, with nothing written.

use actix_web::http::Method;
use keel_tests::{TestApp, both_backends};
use serde_json::{Value, json};

both_backends! {
    async fn contracts_are_managed_by_the_organizations_hr_partner(app) {
        managed_by_hr(&app).await;
    }
    async fn allocations_beyond_a_contract_are_refused_with_the_numbers(app) {
        allocations(&app).await;
    }
    async fn an_approved_extension_must_fit_in_the_contract(app) {
        extension_beyond_the_contract(&app).await;
    }
}

/// An organization with an hr_partner, a coach, a leader and a sponsor; their ids and tokens.
struct Org {
    id: String,
    hr: String,
    coach_id: String,
    coach: String,
    leader_id: String,
    leader: String,
    sponsor_id: String,
    sponsor: String,
}

async fn organization(app: &TestApp, name: &str) -> Org {
    let org = app.create_org(name).await["id"].as_str().unwrap().to_owned();
    let slug = name.to_lowercase();
    let mut ids = Vec::new();
    for (who, roles, in_org) in [
        ("hr", json!(["hr_partner"]), true),
        ("coach", json!(["coach"]), false),
        ("leader", json!([]), true),
        ("sponsor", json!([]), true),
    ] {
        let email = format!("{who}@{slug}.test");
        let mut body = json!({ "email": email, "name": who, "roles": roles });
        if in_org {
            body["organization_id"] = json!(org);
        }
        let user = app.create_user(body).await;
        ids.push((user["id"].as_str().unwrap().to_owned(), app.token_for(&email)));
    }
    let mut ids = ids.into_iter();
    let (_, hr) = ids.next().unwrap();
    let (coach_id, coach) = ids.next().unwrap();
    let (leader_id, leader) = ids.next().unwrap();
    let (sponsor_id, sponsor) = ids.next().unwrap();
    Org { id: org, hr, coach_id, coach, leader_id, leader, sponsor_id, sponsor }
}

async fn call(app: &TestApp, token: &str, method: Method, path: &str, body: Option<Value>) -> keel_tests::Response {
    app.call_as(Some(token), method, path, &[], body.as_ref()).await
}

fn has_error(problem: &Value, field: &str, code: &str) -> bool {
    problem["errors"].as_array().is_some_and(|errors| errors.iter().any(|e| e["field"] == field && e["code"] == code))
}

async fn client_token(app: &TestApp, org: &str, scopes: Value) -> String {
    let client = app
        .post(&format!("/v1/organizations/{org}/api-clients"), &json!({ "name": "HRIS", "scopes": scopes }))
        .await
        .expect_status(201)
        .json();
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        client["client_id"].as_str().unwrap(),
        client["client_secret"].as_str().unwrap()
    );
    app.oauth_token(&[], &form).await.expect_status(200).json()["access_token"].as_str().unwrap().to_owned()
}

fn year_2026(hours: f64) -> Value {
    json!({
        "name": "2026 leadership coaching",
        "provider": "North Coaching",
        "start_date": "2026-01-01",
        "end_date": "2026-12-31",
        "hours": hours,
        "price": { "amount": "180.5", "currency": "EUR" },
    })
}

async fn managed_by_hr(app: &TestApp) {
    let acme = organization(app, "Acme").await;
    let globex = organization(app, "Globex").await;

    // The hr_partner creates one for their organization without naming it.
    let created = call(app, &acme.hr, Method::POST, "/v1/contracts", Some(year_2026(400.0))).await.expect_status(201);
    let location = created.header("location").expect("Location");
    assert_eq!(created.header("etag").as_deref(), Some("\"1\""));
    let contract = created.json();
    assert_eq!(contract["organization_id"], acme.id.as_str());
    assert_eq!(contract["price"], json!({ "amount": "180.50", "currency": "EUR" }));
    assert_eq!((contract["hours"].as_f64(), contract["allocated_hours"].as_f64()), (Some(400.0), Some(0.0)));
    assert_eq!(contract["used_cost"], "0.00");
    let id = contract["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/v1/contracts/{id}"));

    // Every invalid field is named, and nothing is written.
    let bad = json!({ "name": " ", "start_date": "2026-02-01", "end_date": "2026-01-01", "hours": 0.1 });
    let problem = call(app, &acme.hr, Method::POST, "/v1/contracts", Some(bad)).await.expect_problem(422);
    for (field, code) in [("name", "required"), ("end_date", "before_start"), ("hours", "out_of_range")] {
        assert!(has_error(&problem, field, code), "{field} {code}: {problem}");
    }
    // A price is an amount and a currency together.
    let mut body = year_2026(1.0);
    body["price"] = json!({ "amount": "10" });
    call(app, &acme.hr, Method::POST, "/v1/contracts", Some(body)).await.expect_problem(400);
    let unknown =
        json!({ "name": "x", "start_date": "2026-01-01", "end_date": "2026-01-02", "hours": 1, "colour": "red" });
    call(app, &acme.hr, Method::POST, "/v1/contracts", Some(unknown)).await.expect_problem(400);
    let listed = call(app, &acme.hr, Method::GET, "/v1/contracts", None).await.expect_status(200).json();
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(1), "the refused ones left nothing: {listed}");

    // Changes need the current version.
    let path = format!("/v1/contracts/{id}");
    let stale = call_if_match(app, &acme.hr, &path, "\"7\"", json!({ "hours": 500 })).await;
    stale.expect_problem(412);
    let changed = call_if_match(app, &acme.hr, &path, "\"1\"", json!({ "hours": 500, "provider": null }))
        .await
        .expect_status(200);
    assert_eq!(changed.header("etag").as_deref(), Some("\"2\""));
    let changed = changed.json();
    assert_eq!((changed["hours"].as_f64(), &changed["provider"]), (Some(500.0), &Value::Null));

    // Who else may see it: admins; not the organization's other people, not another tenant.
    app.get(&path).await.expect_status(200);
    for token in [&acme.leader, &acme.sponsor, &acme.coach] {
        let refused = call(app, token, Method::GET, &path, None).await;
        assert!(matches!(refused.status.as_u16(), 403 | 404), "{}", refused.status);
        call(app, token, Method::POST, "/v1/contracts", Some(year_2026(1.0))).await.expect_problem(403);
    }
    let leader_list = call(app, &acme.leader, Method::GET, "/v1/contracts", None).await;
    assert_eq!(leader_list.expect_problem(403)["code"], "forbidden");
    call(app, &globex.hr, Method::GET, &path, None).await.expect_problem(404);
    call_if_match(app, &globex.hr, &path, "*", json!({ "hours": 1 })).await.expect_problem(404);
    let theirs = call(app, &globex.hr, Method::GET, "/v1/contracts", None).await.expect_status(200).json();
    assert_eq!(theirs["items"], json!([]));
    let asked = call(app, &globex.hr, Method::GET, &format!("/v1/contracts?organization_id={}", acme.id), None).await;
    assert_eq!(asked.expect_status(200).json()["items"], json!([]), "another tenant's list is empty");

    // API clients: reading needs reports:read, changing engagements:write.
    let reader = client_token(app, &acme.id, json!(["reports:read"])).await;
    call(app, &reader, Method::GET, &path, None).await.expect_status(200);
    call(app, &reader, Method::POST, "/v1/contracts", Some(year_2026(1.0))).await.expect_problem(403);
    let writer = client_token(app, &acme.id, json!(["engagements:write"])).await;
    let problem = call(app, &writer, Method::GET, &path, None).await.expect_problem(403);
    assert!(problem["detail"].as_str().unwrap().contains("reports:read"), "{problem}");

    // Audited and announced.
    let audit = app.get(&format!("/v1/audit-events?resource_id={id}")).await.expect_status(200).json();
    let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    assert!(actions.contains(&"contract.created") && actions.contains(&"contract.updated"), "{actions:?}");

    // An unused contract can be deleted.
    call_delete(app, &acme.hr, &path).await.expect_status(204);
    call(app, &acme.hr, Method::GET, &path, None).await.expect_problem(404);
}

async fn call_if_match(app: &TestApp, token: &str, path: &str, version: &str, body: Value) -> keel_tests::Response {
    app.call_as(Some(token), Method::PATCH, path, &[("if-match", version)], Some(&body)).await
}

async fn call_delete(app: &TestApp, token: &str, path: &str) -> keel_tests::Response {
    app.call_as(Some(token), Method::DELETE, path, &[], None).await
}

fn engagement(org: &Org, contract: &str, start: &str) -> Value {
    json!({
        "organization_id": org.id,
        "title": "Leading",
        "leader_id": org.leader_id,
        "coach_id": org.coach_id,
        "sponsor_ids": [org.sponsor_id],
        "start_date": start,
        "monthly_hours_budget": 3.0,
        "contract_id": contract,
    })
}

async fn engagement_count(app: &TestApp, org: &Org) -> usize {
    let page = app.get(&format!("/v1/engagements?organization_id={}&limit=200", org.id)).await.expect_status(200);
    page.json()["items"].as_array().map_or(0, Vec::len)
}

async fn allocations(app: &TestApp) {
    let acme = organization(app, "Acme").await;
    let globex = organization(app, "Globex").await;
    // 20 hours; a six-month program from 2026-01-15 at 3 h a month plans 18.1 of them.
    let contract = call(app, &acme.hr, Method::POST, "/v1/contracts", Some(year_2026(20.0))).await.expect_status(201);
    let contract = contract.json()["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/contracts/{contract}");

    let first = call(app, &acme.hr, Method::POST, "/v1/engagements", Some(engagement(&acme, &contract, "2026-01-15")))
        .await
        .expect_status(201)
        .json();
    assert_eq!(first["contract_id"], contract.as_str());
    let seen = call(app, &acme.hr, Method::GET, &path, None).await.expect_status(200).json();
    assert_eq!(seen["programs"], 1);
    assert!((seen["allocated_hours"].as_f64().unwrap() - 18.1).abs() < 1e-9, "{seen}");
    assert!((seen["unallocated_hours"].as_f64().unwrap() - 1.9).abs() < 1e-9, "{seen}");

    // The ledger names the contract (to everyone who reads the ledger).
    let first_id = first["id"].as_str().unwrap();
    let ledger = call(app, &acme.leader, Method::GET, &format!("/v1/engagements/{first_id}/hours"), None).await;
    let ledger = ledger.expect_status(200).json();
    assert_eq!(ledger["contract"], json!({ "id": contract, "name": "2026 leadership coaching" }));

    // A second program does not fit: 409 with the numbers, and no engagement is written.
    let before = engagement_count(app, &acme).await;
    let problem =
        call(app, &acme.hr, Method::POST, "/v1/engagements", Some(engagement(&acme, &contract, "2026-02-01")))
            .await
            .expect_problem(409);
    assert_eq!(problem["code"], "contract_overdrawn");
    assert!(has_error(&problem, "contract_id", "contract_overdrawn"), "{problem}");
    assert_eq!(problem["contract"]["hours"].as_f64(), Some(20.0));
    assert!((problem["contract"]["allocated_hours"].as_f64().unwrap() - 18.1).abs() < 1e-9, "{problem}");
    assert!((problem["contract"]["available_hours"].as_f64().unwrap() - 1.9).abs() < 1e-9, "{problem}");
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("holds 20 hours"), "{problem}");
    assert_eq!(engagement_count(app, &acme).await, before, "nothing written");

    // Raising the budget of the first is refused on that field; lowering it is fine.
    let first_path = format!("/v1/engagements/{first_id}");
    let raise = call(app, &acme.hr, Method::PATCH, &first_path, Some(json!({ "monthly_hours_budget": 4.0 })));
    let problem = raise.await.expect_problem(409);
    assert!(has_error(&problem, "monthly_hours_budget", "contract_overdrawn"), "{problem}");
    let unchanged = app.get(&first_path).await.expect_status(200).json();
    assert_eq!((unchanged["monthly_hours_budget"].as_f64(), &unchanged["version"]), (Some(3.0), &first["version"]));
    call(app, &acme.hr, Method::PATCH, &first_path, Some(json!({ "monthly_hours_budget": 2.0 })))
        .await
        .expect_status(200);

    // The contract cannot hold fewer hours than its programs hold, nor be deleted while used.
    let problem = call_if_match(app, &acme.hr, &path, "*", json!({ "hours": 5 })).await.expect_problem(422);
    assert!(has_error(&problem, "hours", "below_allocated"), "{problem}");
    assert_eq!(call_delete(app, &acme.hr, &path).await.expect_problem(409)["code"], "contract_in_use");

    // A program starting outside the period, or naming another tenant's contract, is refused.
    let outside = engagement(&acme, &contract, "2027-01-04");
    let problem = call(app, &acme.hr, Method::POST, "/v1/engagements", Some(outside)).await.expect_problem(422);
    assert!(has_error(&problem, "contract_id", "outside_contract_period"), "{problem}");
    let theirs = call(app, &globex.hr, Method::POST, "/v1/contracts", Some(year_2026(100.0))).await.expect_status(201);
    let theirs = theirs.json()["id"].as_str().unwrap().to_owned();
    let problem = call(app, &acme.hr, Method::POST, "/v1/engagements", Some(engagement(&acme, &theirs, "2026-02-01")))
        .await
        .expect_problem(422);
    assert!(has_error(&problem, "contract_id", "not_found"), "{problem}");

    // An organization that allows overdraft takes the second program.
    let settings = json!({ "settings": { "allow_contract_overdraft": true } });
    let org = app.patch(&format!("/v1/organizations/{}", acme.id), None, &settings).await.expect_status(200).json();
    assert_eq!(org["settings"]["allow_contract_overdraft"], true);
    call(app, &acme.hr, Method::POST, "/v1/engagements", Some(engagement(&acme, &contract, "2026-02-01")))
        .await
        .expect_status(201);
    let seen = call(app, &acme.hr, Method::GET, &path, None).await.expect_status(200).json();
    assert_eq!(seen["programs"], 2);
    assert!(seen["unallocated_hours"].as_f64().unwrap() < 0.0, "overdrawn: {seen}");
    let audit = app.get(&format!("/v1/audit-events?resource_id={first_id}")).await.expect_status(200).json();
    let updates = audit["items"].as_array().unwrap().iter().filter(|e| e["action"] == "engagement.updated").count();
    assert_eq!(updates, 1, "only the lowered budget landed: {audit}");
}

/// The fixture's program (2026-01-15 to 2026-07-15 at 3 h a month: 18.1 h) on a contract that
/// holds exactly that: a sponsor's approval of one more hour is refused and the extension stays
/// requested; once the hr_partner adds hours, the same approval lands.
async fn extension_beyond_the_contract(app: &TestApp) {
    let p = crate::designs::to_coaching(app).await;
    let engagement = app.get(&p.base).await.expect_status(200).json();
    let mut body = year_2026(18.1);
    body["organization_id"] = engagement["organization_id"].clone();
    let contract = app.post("/v1/contracts", &body).await.expect_status(201).json();
    let contract_path = format!("/v1/contracts/{}", contract["id"].as_str().unwrap());
    app.patch(&p.base, None, &json!({ "contract_id": contract["id"] })).await.expect_status(200);

    let request = json!({ "hours": 1.0, "month": "2026-05", "reason": "An offsite workshop" });
    let extension = p.call(app, "coach", Method::POST, "/extensions", Some(request)).await.expect_status(201).json();
    let decision = format!("/extensions/{}/decision", extension["id"].as_str().unwrap());
    let approve = json!({ "decision": "approve" });
    let problem = p.call(app, "sponsor", Method::POST, &decision, Some(approve.clone())).await.expect_problem(409);
    assert!(has_error(&problem, "decision", "contract_overdrawn"), "{problem}");
    assert_eq!(problem["contract"]["requested_hours"].as_f64(), Some(19.1), "{problem}");
    let listed = p.call(app, "coach", Method::GET, "/extensions", None).await.expect_status(200).json();
    assert_eq!(listed["items"][0]["status"], "requested", "nothing written: {listed}");

    app.patch(&contract_path, Some("*"), &json!({ "hours": 30 })).await.expect_status(200);
    p.call(app, "sponsor", Method::POST, &decision, Some(approve)).await.expect_status(200);
    let seen = app.get(&contract_path).await.expect_status(200).json();
    assert!((seen["allocated_hours"].as_f64().unwrap() - 19.1).abs() < 1e-9, "{seen}");
}
