//! The hr_partner's workspace in a browser (issue 24): signs in, creates a contract and an
//! engagement from a template for a leader new to Keel, finds it on the home and the
//! dashboard, downloads a CSV that parses, changes the engagement's terms and holds it, adds a
//! person and makes a cohort with them in it.

use actix_web::http::Method;
use keel_tests::browser::Chromium;
use serde_json::json;

use super::{app_with_mail, follow_mail};

#[actix_web::test]
async fn the_hr_partner_creates_a_contract_and_an_engagement_and_reads_the_dashboard() {
    let Some(mut chrome) = Chromium::start("hr").await else { return };
    let (app, smtp) = app_with_mail().await;
    let org = app.create_org("Acme").await["id"].as_str().unwrap().to_owned();
    for (email, name, roles, in_org) in [
        ("hr@acme.test", "Hana Hr", json!(["hr_partner"]), true),
        ("sponsor@acme.test", "Sam Sponsor", json!([]), true),
        ("coach@provider.test", "Cora Coach", json!(["coach"]), false),
    ] {
        let mut body = json!({ "email": email, "name": name, "roles": roles });
        if in_org {
            body["organization_id"] = json!(org);
        }
        app.create_user(body).await;
    }

    chrome.open(&format!("{}/sign-in", app.base_url)).await;
    chrome.fill("email", "hr@acme.test").await;
    chrome.press("Email me a sign-in link").await;
    follow_mail(&mut chrome, &app, &smtp, "hr@acme.test", "Sign in to Keel", 1).await;
    assert_eq!(chrome.path().await, "/home");
    assert_eq!(chrome.heading().await, "The organization's programs");
    assert!(chrome.text().await.contains("No program yet"), "{}", chrome.text().await);
    chrome.check("home-empty").await;

    chrome.follow("nav a[href='/contracts']").await;
    chrome.fill("name", "2027 leadership coaching").await;
    chrome.fill("provider", "North Coaching").await;
    chrome.fill_date("start_date", "2027-01-01").await;
    chrome.fill_date("end_date", "2027-12-31").await;
    chrome.fill("hours", "40").await;
    chrome.fill("price_per_hour", "180").await;
    chrome.fill("currency", "EUR").await;
    chrome.press("Create the contract").await;
    let text = chrome.text().await;
    assert!(text.contains("The contract is saved.") && text.contains("2027 leadership coaching"), "{text}");
    assert!(text.contains("0.00 EUR (180.00 per hour)"), "{text}");
    chrome.check("contracts").await;

    // A budget the contract cannot hold is refused in words, and nothing is created.
    chrome.follow("nav a[href='/engagements/new']").await;
    chrome.check("new-engagement").await;
    chrome.fill("title", "Leading through the merger").await;
    chrome.fill("leader_name", "Lea Leader").await;
    chrome.fill("leader_email", "lea@acme.test").await;
    chrome.fill("sponsor_id", "Sam").await;
    chrome.fill("coach_id", "Cora").await;
    chrome.fill_date("start_date", "2027-01-11").await;
    chrome.fill("monthly_hours_budget", "10").await;
    chrome.fill("contract_id", "2027").await;
    chrome.press("Create the engagement").await;
    let text = chrome.text().await;
    assert!(text.contains("holds 40 hours"), "the refusal in words: {text}");
    chrome.check("engagement-refused").await;
    let listed = app.get(&format!("/v1/engagements?organization_id={org}")).await.expect_status(200).json();
    assert_eq!(listed["items"], json!([]), "nothing created");

    // The leader was added on the first try and stays chosen; a budget that fits goes through.
    chrome.client_clear("monthly_hours_budget").await;
    chrome.fill("monthly_hours_budget", "3").await;
    chrome.press("Create the engagement").await;
    let path = chrome.path().await;
    assert!(path.starts_with("/engagements/"), "on the engagement's page: {path}");
    let id = path.trim_start_matches("/engagements/").to_owned();
    let engagement = app.get(&format!("/v1/engagements/{id}")).await.expect_status(200).json();
    assert_eq!(engagement["title"], "Leading through the merger");
    assert!(engagement["contract_id"].is_string(), "{engagement}");
    let leader = app.get(&format!("/v1/users/{}", engagement["leader_id"].as_str().unwrap())).await;
    assert_eq!(leader.expect_status(200).json()["email"], "lea@acme.test");

    chrome.check("engagement").await;
    chrome.open(&format!("{}/home", app.base_url)).await;
    let text = chrome.text().await;
    assert!(text.contains("Leading through the merger") && text.contains("Lea Leader"), "{text}");
    assert!(text.contains("Cora Coach") && text.contains("0 of 18"), "{text}");
    assert!(text.contains("Executive coaching"), "the program's template: {text}");
    chrome.check("home").await;

    chrome.follow("nav a[href='/dashboard']").await;
    let text = chrome.text().await;
    assert!(text.contains("Hours of each contract") && text.contains("Programs by phase"), "{text}");
    chrome.check("dashboard").await;

    // The CSV beside the chart, downloaded with the browser's session, parses.
    let cookie = chrome.cookie_header().await;
    let csv = app
        .send_raw(Method::GET, "/reports/utilization.csv", &[("cookie", cookie.as_str())], None, None)
        .await
        .expect_status(200);
    assert_eq!(csv.header("content-type").as_deref(), Some("text/csv; charset=utf-8"));
    let mut reader = csv::ReaderBuilder::new().from_reader(csv.body.as_slice());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a record")).collect();
    assert_eq!(rows.len(), 1);
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(&rows[0][at("leader_name")], "Lea Leader");
    assert_eq!(&rows[0][at("contract_name")], "2027 leadership coaching");

    // The terms changed and the program put on hold, from the engagement's manage page.
    chrome.open(&format!("{}/engagements/{id}", app.base_url)).await;
    chrome.follow(&format!("a[href='/engagements/{id}/manage']")).await;
    chrome.check("manage").await;
    chrome.client_clear("monthly_hours_budget").await;
    chrome.fill("monthly_hours_budget", "2").await;
    chrome.press("Save the terms").await;
    assert!(chrome.text().await.contains("Saved."), "{}", chrome.text().await);
    let engagement = app.get(&format!("/v1/engagements/{id}")).await.expect_status(200).json();
    assert_eq!(engagement["monthly_hours_budget"], json!(2.0));
    chrome.fill("reason", "Parental leave until March").await;
    chrome.press("Put on hold").await;
    let text = chrome.text().await;
    assert!(text.contains("Phase: On hold") && text.contains("Resume (Context)"), "{text}");
    chrome.check("manage-held").await;
    let engagement = app.get(&format!("/v1/engagements/{id}")).await.expect_status(200).json();
    assert_eq!(engagement["phase"], "on_hold");

    // A person added, then a cohort with them in it.
    chrome.follow("nav a[href='/people']").await;
    chrome.fill("name", "Pete Participant").await;
    chrome.fill("email", "pete@acme.test").await;
    chrome.press("Add the person").await;
    let text = chrome.text().await;
    assert!(text.contains("Pete Participant was added.") && text.contains("pete@acme.test"), "{text}");
    chrome.check("people").await;
    chrome.follow("nav a[href='/groups/new']").await;
    chrome.fill("name", "New managers, spring").await;
    chrome.fill("coach_id", "Cora").await;
    chrome.fill("sponsor_id", "Sam").await;
    chrome.fill_date("start_date", "2027-02-01").await;
    // The organization's people by name: Hana Hr, Lea Leader, Pete Participant, Sam Sponsor.
    chrome.click_label("participant-3").await;
    chrome.check("new-group").await;
    chrome.press("Create the group").await;
    let path = chrome.path().await;
    assert!(path.starts_with("/groups/"), "on the group's page: {path}");
    let group = app.get(&format!("/v1{path}")).await.expect_status(200).json();
    assert_eq!(group["name"], "New managers, spring");
    assert_eq!(group["participant_ids"].as_array().map(Vec::len), Some(1), "{group}");
    chrome.check("group").await;

    // Their own calendar address, made from the home and shown once.
    chrome.open(&format!("{}/home", app.base_url)).await;
    chrome.follow("a[href='/home/calendar']").await;
    chrome.press("Make my calendar address").await;
    let url = chrome.value("feed-url").await;
    assert!(url.starts_with(&format!("{}/calendar/kc_", app.base_url)), "{url}");
    chrome.check("calendar").await;
    let feed = app.send_raw(Method::GET, url.strip_prefix(&app.base_url).unwrap(), &[], None, None).await;
    assert_eq!(feed.expect_status(200).header("content-type").as_deref(), Some("text/calendar; charset=utf-8"));
    chrome.close().await;
}
