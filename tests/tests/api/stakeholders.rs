//! Step 3 end to end: raters invited by email submit feedback with their code, the coach records
//! interviews, themes are released once enough stakeholders contributed, and no rater's name,
//! email or words reach anyone but the coach.

use std::time::Duration;

use actix_web::http::Method;
use keel_tests::{Backend, SmtpSink, TestApp, both_backends};
use serde_json::{Value, json};

both_backends! {
    fn the_360(backend: Backend);
    fn removing_a_rater_or_a_theme_takes_if_match(app: TestApp);
}

/// DELETE of a rater or a theme answers 412 to a stale `If-Match` and removes nothing.
async fn removing_a_rater_or_a_theme_takes_if_match(app: TestApp) {
    let p = keel_tests::fixtures::to_coaching(&app).await;
    let coach = p.tokens["coach"].clone();
    let rater = json!({ "name": "Pat Peer", "email": "pat@acme.test", "relationship": "peer" });
    let rater = p.call(&app, "coach", Method::POST, "/raters", Some(rater)).await.expect_status(201).json();
    let theme = json!({ "kind": "strength", "title": "Listens" });
    let theme = p.call(&app, "coach", Method::POST, "/themes", Some(theme)).await.expect_status(201).json();
    for path in [
        format!("{}/raters/{}", p.base, rater["id"].as_str().unwrap()),
        format!("{}/themes/{}", p.base, theme["id"].as_str().unwrap()),
    ] {
        let stale = app.call_as(Some(&coach), Method::DELETE, &path, &[("if-match", "\"9\"")], None).await;
        assert_eq!(stale.expect_problem(412)["code"], "stale_version", "{path}");
        let current = app.call_as(Some(&coach), Method::DELETE, &path, &[("if-match", "\"1\"")], None).await;
        current.expect_status(204);
    }
}

/// The one-time code in a rater's invitation: the last part of the link to the feedback form.
fn code_in(mail: &str) -> String {
    let start = mail.find("/feedback/").expect("a feedback link") + "/feedback/".len();
    mail[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect()
}

async fn the_360(backend: Backend) {
    let smtp = SmtpSink::start();
    let smtp_url = smtp.url();
    let Some(app) = TestApp::spawn_with(backend, move |config| {
        config.smtp_url = smtp_url;
        config.outbox_poll_ms = 50;
    })
    .await
    else {
        return;
    };
    let org = app.create_org("Acme").await["id"].as_str().unwrap().to_owned();
    let mut ids = std::collections::HashMap::new();
    let mut tokens = std::collections::HashMap::new();
    for (who, email, organization, roles) in [
        ("leader", "leader@acme.test", Some(org.clone()), json!([])),
        ("sponsor", "sponsor@acme.test", Some(org.clone()), json!([])),
        ("hr", "hr@acme.test", Some(org.clone()), json!(["hr_partner"])),
        ("coach", "coach@provider.test", None, json!(["coach"])),
    ] {
        let user = app.create_user(json!({ "email": email, "name": format!("{who} person"), "organization_id": organization, "roles": roles })).await;
        ids.insert(who, user["id"].as_str().unwrap().to_owned());
        tokens.insert(who, app.token_for(email));
    }
    let body = json!({
        "organization_id": org, "title": "Leading", "leader_id": ids["leader"], "coach_id": ids["coach"],
        "sponsor_ids": [ids["sponsor"]], "hr_partner_id": ids["hr"], "start_date": "2026-01-15"
    });
    let engagement = app.post("/v1/engagements", &body).await.expect_status(201).json();
    let base = format!("/v1/engagements/{}", engagement["id"].as_str().unwrap());
    let call = |who: &'static str, method: Method, path: String, body: Option<Value>| {
        let token = tokens[who].clone();
        let app = &app;
        async move { app.call_as(Some(&token), method, &path, &[], body.as_ref()).await }
    };

    // Three raters: two invited by email, one interviewed by the coach.
    let mut raters = Vec::new();
    for (name, email, relationship) in [
        ("Quinn Quartz", "quinn.quartz@acme.test", "boss"),
        ("Rowan Ruby", "rowan.ruby@acme.test", "peer"),
        ("Sasha Slate", "sasha.slate@acme.test", "direct_report"),
    ] {
        let rater = call(
            "coach",
            Method::POST,
            format!("{base}/raters"),
            Some(json!({ "name": name, "email": email, "relationship": relationship })),
        )
        .await
        .expect_status(201)
        .json();
        raters.push(rater["id"].as_str().unwrap().to_owned());
    }
    for rater in &raters[..2] {
        call("coach", Method::POST, format!("{base}/raters/{rater}/invitation"), None).await.expect_status(202);
    }
    let quinn = smtp.wait_for("To: quinn.quartz@acme.test", Duration::from_secs(10)).await.expect("invitation mail");
    let rowan = smtp.wait_for("To: rowan.ruby@acme.test", Duration::from_secs(10)).await.expect("invitation mail");
    assert!(quinn.contains("leader person"), "the mail names the leader: {quinn}");

    let feedback = |code: String, words: &'static str| {
        let app = &app;
        async move {
            let authorization = format!("Bearer {code}");
            let body = json!({ "strengths": format!("{words}: decisive"), "development_areas": format!("{words}: impatient"), "comments": "RAW-COMMENT" });
            app.send_raw(
                Method::POST,
                "/v1/feedback",
                &[("authorization", authorization.as_str())],
                Some("application/json"),
                Some(body.to_string().into_bytes()),
            )
            .await
        }
    };
    feedback(code_in(&quinn), "QUINN-WORDS").await.expect_status(201);
    feedback(code_in(&quinn), "AGAIN").await.expect_problem(401);
    feedback("kr_made-up".to_owned(), "X").await.expect_problem(401);
    feedback(code_in(&rowan), "ROWAN-WORDS").await.expect_status(201);

    // Two contributions of three: the program cannot leave step 3 and themes cannot be released.
    call("coach", Method::POST, format!("{base}/themes"), Some(json!({ "kind": "strength", "title": "Decisive" })))
        .await
        .expect_status(201);
    call(
        "coach",
        Method::POST,
        format!("{base}/themes"),
        Some(json!({ "kind": "development_area", "title": "Patience" })),
    )
    .await
    .expect_status(201);
    let problem = call("coach", Method::POST, format!("{base}/themes/release"), None).await.expect_problem(409);
    assert_eq!(problem["code"], "stakeholder_contributions_insufficient");
    let interview = json!({ "interviewed_on": "2026-02-02", "notes": "SASHA-INTERVIEW-NOTES" });
    call("coach", Method::PUT, format!("{base}/raters/{}/interview", raters[2]), Some(interview))
        .await
        .expect_status(200);

    // Before release, the leader and sponsor see no themes; after, they do.
    let themes = call("leader", Method::GET, format!("{base}/themes"), None).await.expect_status(200).json();
    assert!(themes["items"].as_array().unwrap().is_empty());
    let released = call("coach", Method::POST, format!("{base}/themes/release"), None).await.expect_status(200).json();
    assert!(released["items"].as_array().unwrap().iter().all(|t| t["released_at"].is_string()));
    let themes = call("sponsor", Method::GET, format!("{base}/themes"), None).await.expect_status(200).json();
    assert_eq!(themes["items"].as_array().unwrap().len(), 2);

    // The coach sees everything a rater gave.
    let detail =
        call("coach", Method::GET, format!("{base}/raters/{}", raters[0]), None).await.expect_status(200).json();
    assert_eq!(detail["status"], "feedback_submitted");
    assert_eq!(detail["feedback"]["strengths"], "QUINN-WORDS: decisive");
    let list = call("coach", Method::GET, format!("{base}/raters"), None).await.expect_status(200).json();
    let statuses: Vec<&str> = list["items"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["feedback_submitted", "feedback_submitted", "interviewed"]);

    // Confidentiality sweep: everything leader, sponsor, hr_partner and admin can fetch.
    let secrets = [
        "Quinn",
        "quinn.quartz",
        "Rowan",
        "rowan.ruby",
        "Sasha",
        "sasha.slate",
        "QUINN-WORDS",
        "ROWAN-WORDS",
        "RAW-COMMENT",
        "SASHA-INTERVIEW-NOTES",
    ];
    let paths = [
        base.clone(),
        format!("{base}/timeline"),
        format!("{base}/themes"),
        format!("{base}/raters"),
        format!("{base}/raters/{}", raters[0]),
        format!("{base}/outcomes"),
        format!("{base}/context"),
        "/v1/engagements".to_owned(),
    ];
    for who in ["leader", "sponsor", "hr"] {
        for path in &paths {
            let text = call(who, Method::GET, path.clone(), None).await.text();
            for secret in secrets {
                assert!(!text.contains(secret), "{who} GET {path} reveals {secret}: {text}");
            }
        }
    }
    for path in &paths {
        let text = app.get(path).await.text();
        for secret in secrets {
            assert!(!text.contains(secret), "admin GET {path} reveals {secret}");
        }
    }
    // Nor do the events or the audit log carry rater data.
    let db = app.db.open();
    let mut conn = db.conn().unwrap();
    let events =
        keel_persistence::repo::events::for_engagement(&mut conn, engagement["id"].as_str().unwrap().parse().unwrap())
            .unwrap();
    let types: Vec<&str> = events.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(types.iter().filter(|t| **t == "rater.invited").count(), 2);
    assert_eq!(types.iter().filter(|t| **t == "feedback.submitted").count(), 2);
    for (_, payload) in &events {
        for secret in secrets {
            assert!(!payload.contains(secret), "event payload reveals {secret}");
        }
    }
}
