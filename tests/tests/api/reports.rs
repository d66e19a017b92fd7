//! Reports (docs/reports.md): every figure is the one the per-engagement endpoints give, CSV
//! parses and is safe from formula injection, bad filters are named, and nothing the reader may
//! not see (content, notes, interviews, raters' names) is in them.

use actix_web::http::Method;
use keel_tests::{TestApp, both_backends};
use serde_json::{Value, json};

use crate::designs::to_coaching;

both_backends! {
    async fn report_figures_are_the_ledgers_the_contracts_and_the_reviews(app) {
        figures(&app).await;
    }
    async fn reports_are_read_by_hr_and_admins_only_and_bad_filters_are_named(app) {
        access_and_filters(&app).await;
    }
    async fn on_seeded_data_every_report_line_is_its_engagements_own_figures(app) {
        seeded(&app).await;
    }
}

/// `keel seed`'s programs in every phase: each engagement's line of each report is what its
/// own endpoints say (the ledger, the phase, the raters, the progress), read as an admin over
/// both organizations.
async fn seeded(app: &TestApp) {
    let plan = keel_persistence::seed::SeedPlan {
        organizations: 2,
        engagements: 40,
        sessions_per_engagement: 6,
        random_seed: 11,
    };
    let database = keel::open_database(&app.config).expect("database");
    keel::seed(&database, &plan, &mut |_| {}).expect("seed");
    let utilization = app.get("/v1/reports/utilization").await.expect_status(200).json();
    let participation = app.get("/v1/reports/participation").await.expect_status(200).json();
    let pipeline = app.get("/v1/reports/pipeline").await.expect_status(200).json();
    let outcomes = app.get("/v1/reports/outcomes").await.expect_status(200).json();
    let lines = |report: &Value| -> Vec<Value> {
        report["programs"].as_array().unwrap().iter().filter(|p| p["kind"] == "engagement").cloned().collect()
    };
    let programs = lines(&utilization);
    assert_eq!(programs.len(), 40, "every engagement of both organizations");
    let mut used_somewhere = false;
    for line in &programs {
        let id = line["id"].as_str().unwrap();
        let base = format!("/v1/engagements/{id}");
        let engagement = app.get(&base).await.expect_status(200).json();
        let ledger = app.get(&format!("{base}/hours")).await.expect_status(200).json();
        approx(&line["budgeted_hours"], &ledger["total_budget_hours"]);
        approx(&line["extended_hours"], &ledger["total_extension_hours"]);
        approx(&line["used_hours"], &ledger["total_used_hours"]);
        approx(&line["remaining_hours"], &ledger["total_remaining_hours"]);
        used_somewhere |= ledger["total_used_hours"].as_f64().unwrap() > 0.0;
        let of = |report: &[Value]| report.iter().find(|p| p["id"] == id).cloned().expect("the engagement's line");
        assert_eq!(of(&lines(&pipeline))["phase"], engagement["phase"], "{id}");
        // Raters are the coach's to read (docs/access.md).
        let coach =
            app.get(&format!("/v1/users/{}", engagement["coach_id"].as_str().unwrap())).await.expect_status(200);
        let coach = app.token_for(coach.json()["email"].as_str().unwrap());
        let raters = app.call_as(Some(&coach), Method::GET, &format!("{base}/raters"), &[], None).await;
        let raters = raters.expect_status(200).json();
        let raters = raters["items"].as_array().unwrap();
        let counts = of(&lines(&participation));
        assert_eq!(counts["raters"], json!(raters.len()), "{id}");
        let contributed = raters.iter().filter(|r| r["status"] == "interviewed" || r["status"] == "feedback_submitted");
        assert_eq!(counts["raters_contributed"], json!(contributed.count()), "{id}");
        let progress = app.get(&format!("{base}/progress")).await.expect_status(200).json();
        let rows: Vec<&Value> =
            outcomes["outcomes"].as_array().unwrap().iter().filter(|o| o["engagement_id"] == id).collect();
        assert_eq!(rows.len(), progress["items"].as_array().unwrap().len(), "{id}");
        for item in progress["items"].as_array().unwrap() {
            let row = rows.iter().find(|r| r["outcome_id"] == item["outcome_id"]).expect("the outcome's row");
            let latest = item["measurements"].as_array().unwrap().last().map(|m| m["value"].clone());
            assert_eq!(row["latest"], latest.unwrap_or(Value::Null), "{id}");
            assert_eq!(row["progress"], item["share_achieved"], "{id}");
        }
    }
    assert!(used_somewhere, "the seed's sessions are counted");
}

fn approx(value: &Value, expected: &Value) {
    let (a, b) = (value.as_f64(), expected.as_f64());
    assert!(a.is_some() && b.is_some() && (a.unwrap() - b.unwrap()).abs() < 1e-9, "{value} != {expected}");
}

/// Reads a CSV answer: its header and rows, as text.
fn csv_of(body: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::ReaderBuilder::new().from_reader(body);
    let header = reader.headers().expect("a header").iter().map(str::to_owned).collect();
    let rows = reader.records().map(|r| r.expect("an RFC 4180 record").iter().map(str::to_owned).collect()).collect();
    (header, rows)
}

async fn csv_get(app: &TestApp, token: Option<&str>, path: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let response = match token {
        Some(token) => app.call_as(Some(token), Method::GET, path, &[("accept", "text/csv")], None).await,
        None => app.call(Method::GET, path, &[("accept", "text/csv")], None).await,
    };
    let response = response.expect_status(200);
    assert_eq!(response.header("content-type").as_deref(), Some("text/csv; charset=utf-8"));
    assert!(response.header("content-disposition").unwrap().starts_with("attachment; filename="));
    assert!(response.body.windows(2).any(|w| w == b"\r\n"), "RFC 4180 line ends");
    csv_of(&response.body)
}

fn column(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

async fn figures(app: &TestApp) {
    // The fixture's program (in coaching, three raters interviewed, outcome 2 → 8) on a priced
    // contract, with sessions, a measurement and an approved extension.
    let p = to_coaching(app).await;
    let engagement = app.get(&p.base).await.expect_status(200).json();
    let org = engagement["organization_id"].as_str().unwrap().to_owned();
    let contract = app
        .post(
            "/v1/contracts",
            &json!({ "organization_id": org, "name": "=cmd|' /C calc'!A0", "start_date": "2026-01-01",
                     "end_date": "2026-12-31", "hours": 40, "price": { "amount": "150", "currency": "EUR" } }),
        )
        .await
        .expect_status(201)
        .json();
    let contract_id = contract["id"].as_str().unwrap().to_owned();
    app.patch(&p.base, None, &json!({ "contract_id": contract_id })).await.expect_status(200);
    for (at, minutes) in [("2026-02-10T09:00:00Z", 60), ("2026-03-10T09:00:00Z", 90)] {
        let body =
            json!({ "scheduled_at": at, "duration_minutes": minutes, "format": "video", "agenda": "AGENDA-SECRET" });
        let session = p.call(app, "coach", Method::POST, "/sessions", Some(body)).await.expect_status(201).json();
        let done = format!("/sessions/{}/complete", session["id"].as_str().unwrap());
        let body = json!({ "actual_duration_minutes": minutes, "private_notes": "PRIVATE-SECRET", "shared_summary": "SUMMARY-SECRET" });
        p.call(app, "coach", Method::POST, &done, Some(body)).await.expect_status(200);
    }
    // A no-show, which the organization counts: the ledger, the report and the contract's
    // months all add its minutes.
    let body = json!({ "scheduled_at": "2026-03-20T09:00:00Z", "duration_minutes": 45, "format": "video" });
    let missed = p.call(app, "coach", Method::POST, "/sessions", Some(body)).await.expect_status(201).json();
    let missed = format!("/sessions/{}", missed["id"].as_str().unwrap());
    let body = json!({ "status": "no_show", "reason": "Did not come" });
    p.call(app, "coach", Method::PATCH, &missed, Some(body)).await.expect_status(200);
    let counts = json!({ "settings": { "no_show_counts": true } });
    app.patch(&format!("/v1/organizations/{org}"), None, &counts).await.expect_status(200);
    let measurement = json!({ "value": "5", "source": "session", "measured_at": "2026-03-11T09:00:00Z" });
    let path = format!("/outcomes/{}/measurements", p.outcome);
    p.call(app, "coach", Method::POST, &path, Some(measurement)).await.expect_status(201);
    let request = json!({ "hours": 2.0, "month": "2026-04", "reason": "A workshop" });
    let extension = p.call(app, "coach", Method::POST, "/extensions", Some(request)).await.expect_status(201).json();
    let decision = format!("/extensions/{}/decision", extension["id"].as_str().unwrap());
    p.call(app, "sponsor", Method::POST, &decision, Some(json!({ "decision": "approve" }))).await.expect_status(200);

    // Utilization: the program's figures are its ledger's; the contract's are the contract's.
    let query = format!("?organization_id={org}");
    let report = app.get(&format!("/v1/reports/utilization{query}")).await.expect_status(200).json();
    let ledger = app.get(&format!("{}/hours", p.base)).await.expect_status(200).json();
    let programs = report["programs"].as_array().unwrap();
    assert_eq!(programs.len(), 1, "{report}");
    let line = &programs[0];
    assert_eq!(line["id"], p.engagement.as_str());
    approx(&line["budgeted_hours"], &ledger["total_budget_hours"]);
    approx(&line["extended_hours"], &ledger["total_extension_hours"]);
    approx(&line["used_hours"], &ledger["total_used_hours"]);
    approx(&line["remaining_hours"], &ledger["total_remaining_hours"]);
    approx(&line["used_hours"], &json!(3.25));
    assert_eq!(line["used_cost"], "487.50");
    assert_eq!(line["phase"], "coaching");
    let seen = app.get(&format!("/v1/contracts/{contract_id}")).await.expect_status(200).json();
    let contract_line = &report["contracts"][0];
    for (report_field, contract_field) in [
        ("bought_hours", "hours"),
        ("allocated_hours", "allocated_hours"),
        ("used_hours", "used_hours"),
        ("unallocated_hours", "unallocated_hours"),
        ("remaining_hours", "remaining_hours"),
    ] {
        approx(&contract_line[report_field], &seen[contract_field]);
    }
    assert_eq!(contract_line["used_cost"], seen["used_cost"]);
    assert_eq!(
        contract_line["months"],
        json!([{ "month": "2026-02", "used_hours": 1.0 }, { "month": "2026-03", "used_hours": 2.25 }])
    );
    // Narrowed to the coach, the contract's line is read another way and is the same.
    let coach_id = engagement["coach_id"].as_str().unwrap();
    let narrowed =
        app.get(&format!("/v1/reports/utilization{query}&coach_id={coach_id}")).await.expect_status(200).json();
    assert_eq!(narrowed["contracts"], report["contracts"]);
    approx(&line["allocated_hours"], &seen["allocated_hours"]);
    let coach = &report["coaches"][0];
    approx(&coach["used_hours"], &line["used_hours"]);

    // Outcomes: the latest measurement and progress are `/progress`'s.
    let outcomes = app.get(&format!("/v1/reports/outcomes{query}")).await.expect_status(200).json();
    let progress = app.get(&format!("{}/progress", p.base)).await.expect_status(200).json();
    let row = &outcomes["outcomes"][0];
    assert_eq!(row["outcome_id"], p.outcome.as_str());
    assert_eq!((&row["baseline"], &row["target"], &row["latest"]), (&json!("2"), &json!("8"), &json!("5")));
    assert_eq!(row["progress"], progress["items"][0]["share_achieved"]);
    approx(&row["progress"], &json!(0.5));
    assert_eq!(outcomes["by_template"][0]["mean_progress"], row["progress"]);
    assert_eq!(outcomes["by_coach"][0]["outcomes"], 1);

    // Participation: counts of the raters, never who.
    let participation = app.get(&format!("/v1/reports/participation{query}")).await.expect_status(200).json();
    let counts = &participation["programs"][0];
    assert_eq!((&counts["raters"], &counts["raters_contributed"]), (&json!(3), &json!(3)));

    // Pipeline: in coaching since just now; coaching has no limit, so not stuck.
    let pipeline = app.get(&format!("/v1/reports/pipeline{query}")).await.expect_status(200).json();
    assert_eq!(pipeline["programs"][0]["phase"], "coaching");
    assert_eq!(pipeline["programs"][0]["stuck"], false);
    let coaching = pipeline["phases"].as_array().unwrap().iter().find(|c| c["phase"] == "coaching").unwrap();
    assert_eq!(coaching["programs"], 1);

    // The CSVs parse, hold the same figures, and neutralise a cell a spreadsheet would run.
    let (header, rows) = csv_get(app, None, &format!("/v1/reports/utilization{query}")).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][column(&header, "used_hours")], "3.25");
    assert_eq!(rows[0][column(&header, "used_cost")], "487.50");
    assert_eq!(rows[0][column(&header, "contract_name")], "'=cmd|' /C calc'!A0");
    let (header, rows) = csv_get(app, None, &format!("/v1/reports/outcomes{query}")).await;
    assert_eq!((rows.len(), rows[0][column(&header, "progress")].as_str()), (1, "0.5"));
    for report in ["utilization", "pipeline", "outcomes", "participation"] {
        let path = format!("/v1/reports/{report}{query}");
        let json = app.get(&path).await.expect_status(200).text();
        let csv = app.call(Method::GET, &path, &[("accept", "text/csv")], None).await.expect_status(200).text();
        for secret in ["SECRET", "Rater-Secret", "rater.secret", "A workshop"] {
            assert!(!json.contains(secret) && !csv.contains(secret), "{report} shows {secret}");
        }
    }
}

async fn access_and_filters(app: &TestApp) {
    let p = to_coaching(app).await;
    let org = app.get(&p.base).await.expect_status(200).json()["organization_id"].as_str().unwrap().to_owned();
    let hr = app
        .create_user(json!({ "email": "hr@acme.test", "name": "HR", "organization_id": org, "roles": ["hr_partner"] }))
        .await;
    let hr = app.token_for(hr["email"].as_str().unwrap());
    let other = app.create_org("Globex").await["id"].as_str().unwrap().to_owned();
    let outsider = app
        .create_user(
            json!({ "email": "hr@globex.test", "name": "HR", "organization_id": other, "roles": ["hr_partner"] }),
        )
        .await;
    let outsider = app.token_for(outsider["email"].as_str().unwrap());

    // The hr_partner reads their organization's without naming it.
    let mine = app.call_as(Some(&hr), Method::GET, "/v1/reports/pipeline", &[], None).await.expect_status(200).json();
    assert_eq!(mine["programs"].as_array().map(Vec::len), Some(1));
    let (_, rows) = csv_get(app, Some(&hr), "/v1/reports/pipeline").await;
    assert_eq!(rows.len(), 1);
    // Another organization's hr_partner sees none of it; naming it is 404.
    let theirs = app.call_as(Some(&outsider), Method::GET, "/v1/reports/pipeline", &[], None).await;
    assert_eq!(theirs.expect_status(200).json()["programs"], json!([]));
    let named = format!("/v1/reports/utilization?organization_id={org}");
    app.call_as(Some(&outsider), Method::GET, &named, &[], None).await.expect_problem(404);
    // The program's own people may not read reports.
    for who in ["coach", "leader", "sponsor"] {
        let token = &p.tokens[who];
        app.call_as(Some(token), Method::GET, "/v1/reports/utilization", &[], None).await.expect_problem(403);
        let csv = app.call_as(Some(token), Method::GET, "/v1/reports/outcomes", &[("accept", "text/csv")], None).await;
        csv.expect_problem(403);
    }
    // Bad filters are named, in JSON and CSV alike.
    let inverted = "/v1/reports/utilization?from=2026-06-01&to=2026-01-01";
    let problem = app.call_as(Some(&hr), Method::GET, inverted, &[], None).await.expect_problem(422);
    assert_eq!((&problem["errors"][0]["field"], &problem["errors"][0]["code"]), (&json!("to"), &json!("before_from")));
    let csv = app.call_as(Some(&hr), Method::GET, inverted, &[("accept", "text/csv")], None).await;
    csv.expect_problem(422);
    let unknown = app.call_as(Some(&hr), Method::GET, "/v1/reports/pipeline?colour=red", &[], None).await;
    let problem = unknown.expect_problem(400);
    assert!(problem["detail"].as_str().unwrap().contains("colour"), "{problem}");
    let bad_date = app.call_as(Some(&hr), Method::GET, "/v1/reports/pipeline?from=June", &[], None).await;
    assert_eq!(bad_date.expect_problem(400)["errors"][0]["field"], "from");
    // A program longer in its phase than the organization allows is stuck; the limit is a
    // setting per phase, and an unknown phase is named.
    let settings = json!({ "settings": { "stuck_after_days": { "coaching": 10, "nonsense": 3 } } });
    let problem = app.patch(&format!("/v1/organizations/{org}"), None, &settings).await.expect_problem(400);
    assert!(problem["detail"].as_str().unwrap().contains("nonsense"), "{problem}");
    for by_position in [json!({ "stuck_after_days": [null, null] }), json!([3, 3.0])] {
        let settings = json!({ "settings": by_position });
        let problem = app.patch(&format!("/v1/organizations/{org}"), None, &settings).await.expect_problem(400);
        assert!(problem["errors"][0]["field"].as_str().unwrap().starts_with("settings"), "{problem}");
    }
    let settings = json!({ "settings": { "stuck_after_days": { "coaching": 400 } } });
    let problem = app.patch(&format!("/v1/organizations/{org}"), None, &settings).await.expect_problem(422);
    assert_eq!(problem["errors"][0]["field"], "settings.stuck_after_days.coaching");
    let settings = json!({ "settings": { "stuck_after_days": { "coaching": 10 } } });
    app.patch(&format!("/v1/organizations/{org}"), None, &settings).await.expect_status(200);
    {
        use diesel::RunQueryDsl;
        let database = app.db.open();
        let mut conn = database.conn().expect("a connection");
        let backdate = format!(
            "UPDATE engagement_transitions SET occurred_at = '2026-01-01 09:00:00' WHERE engagement_id = '{}'",
            p.engagement
        );
        diesel::sql_query(backdate).execute(&mut *conn).expect("transitions backdated");
    }
    let pipeline =
        app.call_as(Some(&hr), Method::GET, "/v1/reports/pipeline", &[], None).await.expect_status(200).json();
    let line = &pipeline["programs"][0];
    assert_eq!((&line["stuck"], &line["stuck_after_days"]), (&json!(true), &json!(10)), "{line}");
    assert!(line["days_in_phase"].as_i64().unwrap() > 10, "{line}");
    let coaching = pipeline["phases"].as_array().unwrap().iter().find(|c| c["phase"] == "coaching").unwrap();
    assert_eq!((&coaching["programs"], &coaching["stuck"]), (&json!(1), &json!(1)));

    // Filters narrow: a range before the program, another coach, another template.
    for filter in ["to=2025-12-31", "from=2027-01-01", "template_id=00000000-0000-7000-8000-000000000002"] {
        let path = format!("/v1/reports/pipeline?{filter}");
        let page = app.call_as(Some(&hr), Method::GET, &path, &[], None).await.expect_status(200).json();
        assert_eq!(page["programs"], json!([]), "{filter}");
    }
}
