//! Issue 23: the coach's workspace. The engagement's coach does the program's first steps on its
//! page (context meeting, outcomes, leader interview, phase moves) through the same commands as
//! the API; refused forms keep what was typed; a form opened before someone else changed the
//! record says so; nobody else can use these forms.

use actix_web::http::Method;
use keel_tests::pages::Browser;
use keel_tests::{Backend, Response, both_backends};
use serde_json::json;

use crate::pages::{app_with_mail, assert_page, mail_to, signed_in};
use crate::queries::statements;

both_backends! {
    fn the_coach_does_the_first_steps_on_the_page(backend: Backend);
    fn only_the_coach_may_use_the_workspace_forms(backend: Backend);
    fn the_coach_runs_the_360_on_the_page(backend: Backend);
    fn deep_links_and_used_links_go_on_to_their_page(backend: Backend);
    fn the_coach_schedules_and_completes_sessions_on_the_page(backend: Backend);
    fn the_coach_composes_and_submits_the_design_on_the_page(backend: Backend);
    fn the_coach_records_the_reviews_on_the_page(backend: Backend);
    fn the_coachs_home_has_the_week_and_filters(backend: Backend);
    fn each_coach_page_costs_at_most_eight_statements(backend: Backend);
}

/// The value of the hidden field `name` in the form of `html` whose action is `action`.
fn hidden(html: &str, action: &str, name: &str) -> String {
    let form = html.split(&format!("action=\"{action}\"")).nth(1).expect("the form").split("</form>").next().unwrap();
    let marker = format!("name=\"{name}\" value=\"");
    let start = form.find(&marker).unwrap_or_else(|| panic!("no {name} in the form {action}")) + marker.len();
    form[start..].split('"').next().unwrap().to_owned()
}

/// Sends the form of `page` at `action` with its hidden `version` and `fields`.
async fn send(browser: &mut Browser<'_>, page: &Response, action: &str, fields: &[(&str, &str)]) -> Response {
    let version = hidden(&page.text(), action, "version");
    let mut all = vec![("version", version.as_str())];
    all.extend_from_slice(fields);
    browser.submit(page, action, &all).await
}

async fn the_coach_does_the_first_steps_on_the_page(backend: Backend) {
    let Some((app, smtp)) = app_with_mail(backend).await else { return };
    let p = keel_tests::fixtures::in_context(&app).await;
    let e = p.engagement.clone();
    let page_path = format!("/engagements/{e}");
    let mut coach = signed_in(&app, &smtp, "coach@provider.test").await;

    // Home: the program, its phase in words and the next thing to do, from the guards.
    let home = assert_page(&coach.get("/home").await, 200);
    assert!(home.contains("Context") && !home.contains(">context<"), "{home}");
    assert!(home.contains("Next: <a href=\"/engagements/") && home.contains("Add a measurable outcome"), "{home}");

    // The workspace: the move on is offered disabled, with the guards it lacks in words.
    let page = coach.get(&page_path).await;
    let html = assert_page(&page, 200);
    assert!(html.contains("You coach this program.") && html.contains("Private to you"), "{html}");
    let mover = html.split("name=\"to\" value=\"leader_interview\"").nth(1).unwrap().split("</form>").next().unwrap();
    assert!(mover.contains("disabled"), "{mover}");
    assert!(mover.contains("Define at least one outcome") && mover.contains("Record the context meeting"), "{mover}");

    // An outcome without a title is refused next to the field, and what was typed stays.
    let outcomes = format!("/engagements/{e}/outcomes");
    let refused = coach.submit(&page, &outcomes, &[("title", " "), ("measure", "decisions delegated a week")]).await;
    let html = assert_page(&refused, 422);
    assert!(html.contains("value=\"decisions delegated a week\""), "the typed measure is kept: {html}");
    assert!(html.contains("id=\"outcome-title-e\"") && html.contains("aria-invalid=\"true\""), "{html}");
    let fields =
        [("title", "Delegates"), ("measure", "decisions delegated a week"), ("baseline", "2"), ("target", "8")];
    let saved = coach.submit(&page, &outcomes, &fields).await;
    assert_eq!(saved.status.as_u16(), 303, "{}", saved.text());
    assert_eq!(saved.header("location").as_deref(), Some(format!("{page_path}?saved=outcome#outcome").as_str()));
    let listed = p.call(&app, "coach", Method::GET, "/outcomes", None).await.expect_status(200).json();
    assert_eq!(listed["items"][0]["title"], "Delegates", "{listed}");

    // The context meeting: a date that cannot be read keeps the typed text; then it is saved.
    let context = format!("/engagements/{e}/context");
    let typed = [("met_on", "12/07/2026"), ("attendees", "Pat\nSam"), ("notes", "Wants a bench")];
    let html = assert_page(&send(&mut coach, &page, &context, &typed).await, 422);
    assert!(html.contains("a date such as 2026-12-07") && html.contains("Pat\nSam</textarea>"), "{html}");
    let typed = [("met_on", "2026-01-12"), ("attendees", "Pat\nSam"), ("notes", "Wants a bench"), ("benchmarks", "")];
    assert_eq!(send(&mut coach, &page, &context, &typed).await.status.as_u16(), 303);
    let recorded = p.call(&app, "coach", Method::GET, "/context", None).await.expect_status(200).json();
    assert_eq!(
        (recorded["met_on"].as_str(), recorded["attendees"].clone()),
        (Some("2026-01-12"), json!(["Pat", "Sam"]))
    );

    // Opened before someone else changed it: refused with what is recorded now, the text kept.
    let opened = coach.get(&page_path).await;
    let changed = json!({ "met_on": "2026-01-13", "attendees": ["Pat"], "notes": "CHANGED-THROUGH-THE-API" });
    p.call(&app, "coach", Method::PUT, "/context", Some(changed)).await.expect_status(200);
    let typed = [("met_on", "2026-01-12"), ("attendees", "Pat"), ("notes", "MY-TYPED-NOTES"), ("benchmarks", "")];
    let html = assert_page(&send(&mut coach, &opened, &context, &typed).await, 412);
    assert!(html.contains("Changed since you opened it"), "{html}");
    assert!(html.contains("CHANGED-THROUGH-THE-API") && html.contains("MY-TYPED-NOTES</textarea>"), "{html}");
    let recorded = p.call(&app, "coach", Method::GET, "/context", None).await.expect_status(200).json();
    assert_eq!(recorded["notes"], "CHANGED-THROUGH-THE-API", "nothing was overwritten");

    // Every guard met: the move is offered, and taken.
    let page = coach.get(&page_path).await;
    let html = assert_page(&page, 200);
    assert!(html.contains("Move the program on to Leader interview"), "the next thing: {html}");
    let moved = send(&mut coach, &page, &format!("/engagements/{e}/phase"), &[("to", "leader_interview")]).await;
    assert_eq!(moved.status.as_u16(), 303, "{}", moved.text());
    let engagement = app.call_as(Some(&p.tokens["coach"]), Method::GET, &p.base, &[], None).await;
    assert_eq!(engagement.expect_status(200).json()["phase"], "leader_interview");

    // A move from a page opened before the program moved is refused, and nothing moves twice.
    let again = send(&mut coach, &page, &format!("/engagements/{e}/phase"), &[("to", "leader_interview")]).await;
    assert_page(&again, 412);

    // Step 2: the leader interview, the coach's alone.
    let page = coach.get(&page_path).await;
    let interview = format!("/engagements/{e}/leader-interview");
    let typed = [("interviewed_on", "2026-01-20"), ("commitments", "INTERVIEW-COMMITMENTS")];
    assert_eq!(send(&mut coach, &page, &interview, &typed).await.status.as_u16(), 303);
    let recorded = p.call(&app, "coach", Method::GET, "/leader-interview", None).await.expect_status(200).json();
    assert_eq!(recorded["commitments"], "INTERVIEW-COMMITMENTS");
    let html = assert_page(&coach.get(&page_path).await, 200);
    assert!(html.contains("INTERVIEW-COMMITMENTS</textarea>") && html.contains("Leader interview"), "{html}");
    let mut leader = signed_in(&app, &smtp, "leader@acme.test").await;
    let theirs = assert_page(&leader.get(&page_path).await, 200);
    assert!(!theirs.contains("INTERVIEW-COMMITMENTS") && !theirs.contains("leader-interview"), "{theirs}");
}

async fn only_the_coach_may_use_the_workspace_forms(backend: Backend) {
    let Some((app, smtp)) = app_with_mail(backend).await else { return };
    let p = keel_tests::fixtures::in_context(&app).await;
    let e = p.engagement.clone();
    for email in ["leader@acme.test", "sponsor@acme.test", keel_tests::ADMIN_EMAIL] {
        let mut browser = signed_in(&app, &smtp, email).await;
        let page = browser.get(&format!("/engagements/{e}")).await;
        let html = assert_page(&page, 200);
        assert!(!html.contains("/context\"") && !html.contains("name=\"to\""), "{email} gets no workspace: {html}");
        for (action, fields) in [
            ("context", vec![("met_on", "2026-01-12"), ("attendees", "Pat"), ("version", "0")]),
            ("outcomes", vec![("title", "FORGED-OUTCOME")]),
            ("leader-interview", vec![("interviewed_on", "2026-01-20"), ("version", "0")]),
            ("phase", vec![("to", "leader_interview")]),
        ] {
            let path = format!("/engagements/{e}/{action}");
            let mut all = vec![("csrf", keel_tests::pages::form_token(&html).unwrap())];
            all.extend(fields.into_iter().map(|(k, v)| (k, v.to_owned())));
            let all: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let refused = browser.post(&path, &all).await;
            let status = refused.status.as_u16();
            assert!(matches!(status, 403 | 404), "{email} {action}: {status} {}", refused.text());
        }
    }
    // Nothing was written.
    p.call(&app, "coach", Method::GET, "/context", None).await.expect_problem(404);
    p.call(&app, "coach", Method::GET, "/leader-interview", None).await.expect_problem(404);
    let outcomes = p.call(&app, "coach", Method::GET, "/outcomes", None).await.expect_status(200).json();
    assert_eq!(outcomes["items"], json!([]));
    let engagement = app.call_as(Some(&p.tokens["coach"]), Method::GET, &p.base, &[], None).await;
    assert_eq!(engagement.expect_status(200).json()["phase"], "context");
}

/// The program moved on to `stakeholder_interviews` through the API, as the coach.
async fn to_stakeholder_interviews(app: &keel_tests::TestApp, p: &keel_tests::fixtures::Program) {
    let outcome = json!({ "title": "Delegates", "measure": "a week", "baseline": "2", "target": "8" });
    p.call(app, "coach", Method::POST, "/outcomes", Some(outcome)).await.expect_status(201);
    let context = json!({ "met_on": "2026-01-12", "attendees": ["Pat"] });
    p.call(app, "coach", Method::PUT, "/context", Some(context)).await.expect_status(200);
    for (to, work) in [("leader_interview", "/leader-interview"), ("stakeholder_interviews", "")] {
        let moved = p.call(app, "coach", Method::POST, "/transitions", Some(json!({ "to": to }))).await;
        moved.expect_status(200);
        if !work.is_empty() {
            let interview = json!({ "interviewed_on": "2026-01-20" });
            p.call(app, "coach", Method::PUT, work, Some(interview)).await.expect_status(200);
        }
    }
}

async fn the_coach_runs_the_360_on_the_page(backend: Backend) {
    let Some((app, smtp)) = app_with_mail(backend).await else { return };
    let p = keel_tests::fixtures::in_context(&app).await;
    to_stakeholder_interviews(&app, &p).await;
    let e = p.engagement.clone();
    let page_path = format!("/engagements/{e}");
    let mut coach = signed_in(&app, &smtp, "coach@provider.test").await;
    let home = assert_page(&coach.get("/home").await, 200);
    assert!(home.contains("0 of 3 raters have answered: add more raters"), "{home}");

    // A rater without a relationship is refused, the name kept; then added.
    let page = coach.get(&page_path).await;
    assert!(assert_page(&page, 200).contains("<strong>0 of 3</strong> contributions"));
    let raters = format!("/engagements/{e}/raters");
    let typed = [("name", "Pat Peer"), ("email", "pat@acme.test"), ("relationship", "")];
    let html = assert_page(&coach.submit(&page, &raters, &typed).await, 422);
    assert!(html.contains("value=\"Pat Peer\"") && html.contains("id=\"rater-relationship-e\""), "{html}");
    let typed = [("name", "Pat Peer"), ("email", "pat@acme.test"), ("relationship", "peer")];
    assert_eq!(coach.submit(&page, &raters, &typed).await.status.as_u16(), 303);
    let listed = p.call(&app, "coach", Method::GET, "/raters", None).await.expect_status(200).json();
    let rater = listed["items"][0]["id"].as_str().unwrap().to_owned();

    // Invited from the page: the mail goes out, and the coach's next thing is to remind Pat.
    let page = coach.get(&page_path).await;
    assert!(assert_page(&page, 200).contains("Not invited yet"));
    let invitation = format!("/engagements/{e}/raters/{rater}/invitation");
    assert_eq!(coach.submit(&page, &invitation, &[]).await.status.as_u16(), 303);
    mail_to(&smtp, "pat@acme.test", "Give your feedback").await;
    let home = assert_page(&coach.get("/home").await, 200);
    assert!(home.contains("0 of 3 raters have answered: remind Pat Peer"), "{home}");
    {
        use diesel::RunQueryDsl;
        let database = app.db.open();
        let mut conn = database.conn().unwrap();
        diesel::sql_query("UPDATE rater_invitations SET expires_at = '2000-01-01 00:00:00'")
            .execute(&mut *conn)
            .unwrap();
    }
    let page = coach.get(&page_path).await;
    let html = assert_page(&page, 200);
    assert!(html.contains("Invitation expired") && html.contains("Send a new invitation"), "{html}");

    // An interview without notes keeps the date typed; with notes it counts.
    let interview = format!("/engagements/{e}/raters/{rater}/interview");
    let typed = [("interviewed_on", "2026-02-01"), ("notes", "")];
    let html = assert_page(&coach.submit(&page, &interview, &typed).await, 422);
    assert!(html.contains("value=\"2026-02-01\"") && html.contains("<details open>"), "{html}");
    let typed = [("interviewed_on", "2026-02-01"), ("notes", "PAT-SAID")];
    assert_eq!(coach.submit(&page, &interview, &typed).await.status.as_u16(), 303);
    let page = coach.get(&page_path).await;
    let html = assert_page(&page, 200);
    assert!(html.contains("<strong>1 of 3</strong> contributions") && html.contains("Interviewed"), "{html}");

    // A theme; its release is refused in words below the threshold, and nothing is released.
    let themes = format!("/engagements/{e}/themes");
    let typed = [("kind", "strength"), ("title", "Calm under pressure"), ("description", "")];
    assert_eq!(coach.submit(&page, &themes, &typed).await.status.as_u16(), 303);
    let page = coach.get(&page_path).await;
    let release = format!("/engagements/{e}/themes/release");
    let html = assert_page(&coach.submit(&page, &release, &[]).await, 409);
    assert!(html.contains("1 of the 3 stakeholder contributions needed are complete"), "{html}");
    let listed = p.call(&app, "leader", Method::GET, "/themes", None).await.expect_status(200).json();
    assert_eq!(listed["items"], json!([]), "the leader reads no theme yet");

    // Nobody else reads the raters or what they said.
    let mut leader = signed_in(&app, &smtp, "leader@acme.test").await;
    let theirs = assert_page(&leader.get(&page_path).await, 200);
    assert!(!theirs.contains("Pat Peer") && !theirs.contains("PAT-SAID") && !theirs.contains("Calm under"), "{theirs}");
}

/// Every page: a deep link that needs signing in comes back to its page after signing in; a
/// used link opened again by its person, signed in, goes on to its page; the icon is there.
async fn deep_links_and_used_links_go_on_to_their_page(backend: Backend) {
    let Some((app, smtp)) = app_with_mail(backend).await else { return };
    let p = keel_tests::fixtures::in_context(&app).await;
    let page_path = format!("/engagements/{}", p.engagement);
    let mut coach = Browser::new(&app);
    let asked = coach.get(&page_path).await;
    let html = assert_page(&asked, 401);
    let sign_in = format!("/sign-in?next={page_path}");
    assert!(html.contains(&format!("href=\"{sign_in}\"")), "{html}");
    let form = coach.get(&sign_in).await;
    assert!(assert_page(&form, 200).contains(&format!("name=\"next\" value=\"{page_path}\"")));
    let next = page_path.clone();
    let sent = coach.submit(&form, "/sign-in", &[("email", "coach@provider.test"), ("next", next.as_str())]).await;
    assert_page(&sent, 200);
    let mail = mail_to(&smtp, "coach@provider.test", "Subject: Your Keel sign-in link").await;
    let link = keel_tests::pages::link_in(&mail, &format!("{}/l/", app.base_url)).expect("a link");
    let action = link.strip_prefix(&app.base_url).unwrap().to_owned();
    let opened = coach.get(&link).await;
    let landed = coach.submit(&opened, &action, &[]).await;
    assert_eq!(landed.header("location").as_deref(), Some(page_path.as_str()), "back to the page asked for");
    // The used link, opened again in the signed-in browser, goes on to the page; elsewhere it is used.
    let again = coach.get(&link).await;
    assert_eq!((again.status.as_u16(), again.header("location")), (303, Some(page_path.clone())));
    assert_page(&Browser::new(&app).get(&link).await, 410);
    // Signed in, the sign-in page goes on to the page asked for; a next that is no page is home.
    let ahead = coach.get(&sign_in).await;
    assert_eq!(ahead.header("location").as_deref(), Some(page_path.as_str()));
    let elsewhere = coach.get("/sign-in?next=https://evil.example/").await;
    assert_eq!(elsewhere.header("location").as_deref(), Some("/home"));
    // A page the person may not be signed in to is not where the mailed link leads.
    let mut other = Browser::new(&app);
    let form = other.get(&sign_in).await;
    let fields = [("email", "sponsor@acme.test"), ("next", "/engagements/01930000-0000-7000-8000-000000000000")];
    assert_page(&other.submit(&form, "/sign-in", &fields).await, 200);
    let mail = mail_to(&smtp, "sponsor@acme.test", "Subject: Your Keel sign-in link").await;
    let link = keel_tests::pages::link_in(&mail, &format!("{}/l/", app.base_url)).expect("a link");
    let opened = other.get(&link).await;
    let landed = other.submit(&opened, link.strip_prefix(&app.base_url).unwrap(), &[]).await;
    assert_eq!(landed.header("location").as_deref(), Some("/home"));
    // The icon every page asks for.
    let icon = other.get("/favicon.ico").await;
    assert_eq!((icon.status.as_u16(), icon.header("content-type").as_deref()), (200, Some("image/svg+xml")));
    let home = assert_page(&other.get("/home").await, 200);
    assert!(home.contains("rel=\"icon\" href=\"/assets/favicon.svg\""), "{home}");
}

async fn the_coach_schedules_and_completes_sessions_on_the_page(backend: Backend) {
    let Some((app, smtp)) = app_with_mail(backend).await else { return };
    let p = keel_tests::fixtures::to_coaching(&app).await;
    let e = p.engagement.clone();
    let page_path = format!("/engagements/{e}");
    let mut coach = signed_in(&app, &smtp, "coach@provider.test").await;
    let sessions_of = || {
        let (app, p) = (&app, &p);
        async move { p.call(app, "coach", Method::GET, "/sessions", None).await.expect_status(200).json()["items"].clone() }
    };

    // Scheduling: a time that cannot be read keeps the agenda typed; then it is scheduled.
    let page = coach.get(&page_path).await;
    let html = assert_page(&page, 200);
    assert!(html.contains("Schedule a session") && html.contains("Hours, month by month"), "{html}");
    assert!(html.contains("March 2026"), "months in words: {html}");
    let schedule = format!("/engagements/{e}/sessions");
    let typed = [("at", "next tuesday"), ("minutes", "60"), ("format", "video"), ("agenda", "AGENDA-TYPED")];
    let html = assert_page(&coach.submit(&page, &schedule, &typed).await, 422);
    assert!(html.contains("AGENDA-TYPED</textarea>") && html.contains("id=\"session-at-e\""), "{html}");
    let typed = [("at", "2026-03-10T09:00"), ("minutes", "60"), ("format", "video"), ("agenda", "AGENDA-TYPED")];
    assert_eq!(coach.submit(&page, &schedule, &typed).await.status.as_u16(), 303);
    let listed = sessions_of().await;
    assert_eq!(listed[0]["scheduled_at"], "2026-03-10T09:00:00Z", "{listed}");
    let session = listed[0]["id"].as_str().unwrap().to_owned();

    // Moved, from the page opened before: a second move from the same page is refused (412).
    let page = coach.get(&page_path).await;
    let change = format!("/engagements/{e}/sessions/{session}/change");
    let moved =
        send(&mut coach, &page, &change, &[("action", "move"), ("at", "2026-03-11T10:00"), ("minutes", "60")]).await;
    assert_eq!(moved.status.as_u16(), 303, "{}", moved.text());
    assert_eq!(sessions_of().await[0]["scheduled_at"], "2026-03-11T10:00:00Z");
    let again =
        send(&mut coach, &page, &change, &[("action", "move"), ("at", "2026-03-12T10:00"), ("minutes", "60")]).await;
    assert_page(&again, 412);

    // Completing more than the month holds: refused, the extension offered filled in, the text kept.
    let complete = format!("/engagements/{e}/sessions/{session}/complete");
    let form = coach.get(&complete).await;
    assert!(assert_page(&form, 200).contains("Hours in March 2026"));
    let typed = [
        ("actual_minutes", "240"),
        ("shared_summary", "SUMMARY-TYPED"),
        ("private_notes", "PRIVATE-TYPED"),
        ("hw1_title", "HOMEWORK-TYPED"),
        ("hw1_due", "2026-03-20"),
        ("next_steps", "NEXT-STEPS-TYPED"),
        ("next_at", "2026-03-25T09:00"),
    ];
    let refused = coach.submit(&form, &complete, &typed).await;
    let html = assert_page(&refused, 409);
    assert!(html.contains("Ask the sponsors for more hours") && html.contains("name=\"hours\" value=\"1\""), "{html}");
    assert!(html.contains("SUMMARY-TYPED</textarea>") && html.contains("value=\"HOMEWORK-TYPED\""), "{html}");
    // The extension request keeps the completion too; the sponsors are mailed.
    let mut extension: Vec<(&str, &str)> =
        vec![("session", session.as_str()), ("month", "2026-03"), ("hours", "1"), ("reason", "An intense month")];
    extension.extend_from_slice(&typed);
    let asked = coach.submit(&refused, &format!("/engagements/{e}/extensions"), &extension).await;
    let html = assert_page(&asked, 200);
    assert!(html.contains("The extension is requested") && html.contains("SUMMARY-TYPED</textarea>"), "{html}");
    mail_to(&smtp, "sponsor@acme.test", "Extension request").await;

    // Completed within the month: the homework and the proposed next session follow.
    let typed = [
        ("actual_minutes", "60"),
        ("shared_summary", "SUMMARY-TYPED"),
        ("private_notes", "PRIVATE-TYPED"),
        ("hw1_title", "HOMEWORK-TYPED"),
        ("hw1_due", "2026-03-20"),
        ("next_steps", "NEXT-STEPS-TYPED"),
        ("next_at", "2026-03-25T09:00"),
    ];
    let done = coach.submit(&form, &complete, &typed).await;
    assert_eq!(done.status.as_u16(), 303, "{}", done.text());
    let listed = sessions_of().await;
    assert_eq!(listed[0]["status"], "completed");
    assert_eq!(listed[1]["status"], "proposed", "{listed}");
    let html = assert_page(&coach.get(&page_path).await, 200);
    assert!(
        html.contains("Confirm this time") && html.contains("HOMEWORK-TYPED") && html.contains("Overdue"),
        "{html}"
    );
    assert!(assert_page(&coach.get(&complete).await, 409).contains("completed no more"));
    let items = p.call(&app, "coach", Method::GET, "/action-items", None).await.expect_status(200).json();
    assert!(items["items"].as_array().unwrap().iter().any(|i| i["title"] == "HOMEWORK-TYPED"), "{items}");

    // The leader reads the summary and the homework, never the private notes.
    let mut leader = signed_in(&app, &smtp, "leader@acme.test").await;
    let theirs = assert_page(&leader.get(&page_path).await, 200);
    assert!(theirs.contains("SUMMARY-TYPED") && theirs.contains("HOMEWORK-TYPED"), "{theirs}");
    assert!(!theirs.contains("PRIVATE-TYPED"), "{theirs}");
    // Nobody but the coach opens the completion page.
    assert_page(&leader.get(&complete).await, 404);
}

async fn the_coach_composes_and_submits_the_design_on_the_page(backend: Backend) {
    let Some((app, smtp)) = app_with_mail(backend).await else { return };
    let p = keel_tests::fixtures::to_assessment_design(&app).await;
    let e = p.engagement.clone();
    let page_path = format!("/engagements/{e}");
    let mut coach = signed_in(&app, &smtp, "coach@provider.test").await;
    let page = coach.get(&page_path).await;
    assert!(assert_page(&page, 200).contains("Start the design"));
    let started = coach.submit(&page, &format!("/engagements/{e}/designs"), &[]).await;
    let composer = format!("/engagements/{e}/designs/1/edit");
    assert_eq!(started.header("location").as_deref(), Some(composer.as_str()));

    // The composer offers the released theme and the outcome; a titleless item is refused with
    // everything typed kept.
    let form = coach.get(&composer).await;
    let html = assert_page(&form, 200);
    assert!(html.contains("Calm") && html.contains("Delegates") && html.contains("item3_title"), "{html}");
    assert!(statements(&form) <= 8, "the composer: {} statements", statements(&form));
    let revision = hidden(&html, &composer, "revision");
    let (theme, outcome) = (p.theme.as_str(), p.outcome.as_str());
    let typed = [
        ("revision", revision.as_str()),
        ("summary", "SUMMARY-TYPED"),
        ("theme", theme),
        ("outcome", outcome),
        ("item1_kind", "practice"),
        ("item1_title", "Pause before replying"),
        ("item1_cadence", "daily"),
        ("item2_kind", "reading"),
        ("item2_title", ""),
        ("item2_description", "A book on delegation"),
    ];
    let html = assert_page(&coach.submit(&form, &composer, &typed).await, 422);
    assert!(html.contains("SUMMARY-TYPED</textarea>") && html.contains("value=\"A book on delegation\""), "{html}");
    assert!(html.contains("id=\"item2-e\"") && html.contains(&format!("value=\"{theme}\" checked")), "{html}");
    let mut typed = typed.to_vec();
    typed[8] = ("item2_title", "The delegation book");
    let saved = coach.submit(&form, &composer, &typed).await;
    assert_eq!(saved.header("location").as_deref(), Some(format!("{composer}?saved=1").as_str()));
    let design = p.call(&app, "coach", Method::GET, "/designs/1", None).await.expect_status(200).json();
    assert_eq!(design["summary"], "SUMMARY-TYPED");
    assert_eq!(design["items"][1]["title"], "The delegation book", "{design}");
    assert_eq!(design["theme_ids"], json!([theme]));

    // A form opened before the draft changed elsewhere saves nothing.
    p.call(&app, "coach", Method::PATCH, "/designs/1", Some(json!({ "summary": "FROM-THE-API" })))
        .await
        .expect_status(200);
    let html = assert_page(&coach.submit(&form, &composer, &typed).await, 412);
    assert!(html.contains("Changed since you opened it") && html.contains("SUMMARY-TYPED</textarea>"), "{html}");

    // Submitted from the composer: the program moves to the sponsors' review; the approvers are mailed.
    let form = coach.get(&composer).await;
    let revision = hidden(&form.text(), &format!("/engagements/{e}/designs/1/submit"), "revision");
    let submit = format!("/engagements/{e}/designs/1/submit");
    let submitted = coach.submit(&form, &submit, &[("revision", revision.as_str())]).await;
    assert_eq!(submitted.status.as_u16(), 303, "{}", submitted.text());
    mail_to(&smtp, "leader@acme.test", "awaits your decision").await;
    let engagement = app.call_as(Some(&p.tokens["coach"]), Method::GET, &p.base, &[], None).await;
    assert_eq!(engagement.expect_status(200).json()["phase"], "sponsor_review");
    let home = assert_page(&coach.get("/home").await, 200);
    assert!(home.contains("Design v1 is waiting for leader and sponsor and sponsor2 since today"), "{home}");

    // Changes asked for with a comment: the workspace says who and what; version 2 starts from 1.
    let decision = json!({ "decision": "request_changes", "comment": "More on delegation" });
    p.call(&app, "sponsor", Method::POST, "/designs/1/decisions", Some(decision)).await.expect_status(201);
    let page = coach.get(&page_path).await;
    let html = assert_page(&page, 200);
    assert!(html.contains("sponsor: asked for changes — “More on delegation”"), "{html}");
    let started = coach.submit(&page, &format!("/engagements/{e}/designs"), &[("copy_from", "1")]).await;
    let composer = format!("/engagements/{e}/designs/2/edit");
    assert_eq!(started.header("location").as_deref(), Some(composer.as_str()));
    let html = assert_page(&coach.get(&composer).await, 200);
    assert!(html.contains("What changed since version 1") && html.contains("More on delegation"), "{html}");
    assert!(html.contains("FROM-THE-API</textarea>"), "version 2 starts as a copy of 1: {html}");

    // Nobody else composes.
    let mut leader = signed_in(&app, &smtp, "leader@acme.test").await;
    assert_page(&leader.get(&composer).await, 404);
}

async fn the_coach_records_the_reviews_on_the_page(backend: Backend) {
    let Some((app, smtp)) = app_with_mail(backend).await else { return };
    let p = keel_tests::fixtures::to_coaching(&app).await;
    let e = p.engagement.clone();
    let page_path = format!("/engagements/{e}");
    let to = |phase: &'static str| {
        let (app, p) = (&app, &p);
        async move {
            let moved = p.call(app, "coach", Method::POST, "/transitions", Some(json!({ "to": phase }))).await;
            moved.expect_status(200);
        }
    };
    to("mid_review").await;
    let mut coach = signed_in(&app, &smtp, "coach@provider.test").await;
    let html = assert_page(&coach.get(&page_path).await, 200);
    let mid = format!("/engagements/{e}/reviews/mid");
    assert!(html.contains(&format!("href=\"{mid}\"")) && html.contains("Record the mid-program review"), "{html}");

    // The outcome's intended change beside where it stands; a review without a narrative keeps
    // what was typed.
    let form = coach.get(&mid).await;
    let html = assert_page(&form, 200);
    assert!(html.contains("log: 2 → 8") && html.contains("outcome1_actual"), "{html}");
    let outcome = p.outcome.as_str();
    let typed = [
        ("version", "0"),
        ("outcome1_id", outcome),
        ("outcome1_actual", "5 a week"),
        ("narrative", ""),
        ("program_changes", "CHANGES-TYPED"),
    ];
    let html = assert_page(&coach.submit(&form, &mid, &typed).await, 422);
    assert!(html.contains("value=\"5 a week\"") && html.contains("CHANGES-TYPED</textarea>"), "{html}");
    assert!(html.contains("id=\"narrative-e\""), "{html}");
    let mut typed = typed.to_vec();
    typed[3] = ("narrative", "Halfway, delegating more");
    let done = coach.submit(&form, &mid, &typed).await;
    assert_eq!(done.status.as_u16(), 303, "{}", done.text());
    let review = p.call(&app, "coach", Method::GET, "/reviews/mid", None).await.expect_status(200).json();
    assert_eq!(review["program_changes"], "CHANGES-TYPED");

    // The end review renews the program: the new engagement's page is next.
    to("coaching").await;
    to("end_review").await;
    let end = format!("/engagements/{e}/reviews/end");
    let form = coach.get(&end).await;
    let typed = [
        ("version", "0"),
        ("outcome1_id", outcome),
        ("outcome1_actual", "8 a week"),
        ("outcome1_achieved", "yes"),
        ("narrative", "A different leader"),
        ("achievements", "Delegates every week"),
        ("next_step", "renewed"),
        ("renewal1_title", "Builds a bench"),
        ("renewal1_measure", "ready-now successors"),
        ("renewal1_baseline", "0"),
        ("renewal1_target", "2"),
    ];
    let renewed = coach.submit(&form, &end, &typed).await;
    assert_eq!(renewed.status.as_u16(), 303, "{}", renewed.text());
    let next = renewed.header("location").unwrap();
    assert!(next.starts_with("/engagements/") && next.ends_with("?saved=renewal") && !next.contains(&e), "{next}");
    let html = assert_page(&coach.get(&next).await, 200);
    assert!(html.contains("continues as this new engagement") && html.contains("Builds a bench"), "{html}");
    let engagement = app.call_as(Some(&p.tokens["coach"]), Method::GET, &p.base, &[], None).await;
    assert_eq!(engagement.expect_status(200).json()["phase"], "renewed");
    // Nobody else records a review.
    let mut sponsor = signed_in(&app, &smtp, "sponsor@acme.test").await;
    assert_page(&sponsor.get(&end).await, 404);
}

async fn the_coachs_home_has_the_week_and_filters(backend: Backend) {
    let Some((app, smtp)) = app_with_mail(backend).await else { return };
    let p = keel_tests::fixtures::to_coaching(&app).await;
    let me = app.call_as(Some(&p.tokens["coach"]), Method::GET, "/v1/me", &[], None).await.expect_status(200).json();
    // A second program of the same coach, in another organization, just created.
    let globex = app.create_org("Globex").await["id"].as_str().unwrap().to_owned();
    let leader = app.create_user(json!({ "email": "lee@globex.test", "name": "Lee", "organization_id": globex })).await;
    let sponsor =
        app.create_user(json!({ "email": "sue@globex.test", "name": "Sue", "organization_id": globex })).await;
    let engagement = json!({
        "organization_id": globex, "title": "Globex programme", "leader_id": leader["id"],
        "coach_id": me["user"]["id"], "sponsor_ids": [sponsor["id"]], "start_date": "2026-11-02"
    });
    let second = app.post("/v1/engagements", &engagement).await.expect_status(201).json();
    // A session tomorrow in the first.
    let tomorrow = (chrono::Utc::now() + chrono::TimeDelta::days(1)).format("%Y-%m-%dT09:00:00Z").to_string();
    let session = json!({ "scheduled_at": tomorrow, "duration_minutes": 60, "format": "video" });
    p.call(&app, "coach", Method::POST, "/sessions", Some(session)).await.expect_status(201);

    let mut coach = signed_in(&app, &smtp, "coach@provider.test").await;
    let home = assert_page(&coach.get("/home").await, 200);
    assert!(home.contains("Sessions this week") && home.contains("Session tomorrow 09:00 UTC"), "{home}");
    assert!(home.contains("Globex programme") && home.contains("Add a measurable outcome"), "{home}");
    assert!(home.contains("<option value=\"context\">Context</option>"), "phases in words: {home}");
    let only_context = assert_page(&coach.get("/home?phase=context").await, 200);
    assert!(only_context.contains("Globex programme") && !only_context.contains(">Leading<"), "{only_context}");
    let acme = app.get(&p.base).await.expect_status(200).json()["organization_id"].as_str().unwrap().to_owned();
    let only_acme = assert_page(&coach.get(&format!("/home?organization={acme}")).await, 200);
    assert!(only_acme.contains(">Leading<") && !only_acme.contains("Globex programme"), "{only_acme}");
    assert!(second["id"].is_string());
}

async fn each_coach_page_costs_at_most_eight_statements(backend: Backend) {
    let Some((app, smtp)) = app_with_mail(backend).await else { return };
    let p = keel_tests::fixtures::to_coaching(&app).await;
    let e = p.engagement.clone();
    let tomorrow = (chrono::Utc::now() + chrono::TimeDelta::days(1)).format("%Y-%m-%dT09:00:00Z").to_string();
    let session = json!({ "scheduled_at": tomorrow, "duration_minutes": 60, "format": "video" });
    let session = p.call(&app, "coach", Method::POST, "/sessions", Some(session)).await.expect_status(201).json();
    let session = session["id"].as_str().unwrap().to_owned();
    let mut coach = signed_in(&app, &smtp, "coach@provider.test").await;
    let pages = [
        "/home".to_owned(),
        format!("/engagements/{e}"),
        format!("/engagements/{e}/sessions/{session}/complete"),
        format!("/engagements/{e}/reviews/mid"),
    ];
    for path in pages {
        let page = coach.get(&path).await;
        assert_page(&page, 200);
        let cost = statements(&page);
        assert!(cost <= 8, "{path}: {cost} statements");
    }
}
