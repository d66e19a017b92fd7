//! The pages for people in a real browser (issue 14): Debian's headless Chromium at a phone's
//! width, driven over WebDriver, following the real links out of the real mail (an SMTP sink),
//! typing into the real fields and clicking the real buttons. Every page visited is checked with
//! axe-core (no serious or critical WCAG 2.1 A/AA violation), must fit the screen, and is saved to
//! `target/screenshots/`. What each page answers to every request (statuses, headers, refusals) is
//! tested over HTTP in `tests/api/pages.rs`, on both backends; these run on SQLite only, since
//! what a browser adds does not depend on the database.
//!
//! Without Chromium, chromedriver or axe-core each test prints a notice once and passes, having
//! skipped; `KEEL_REQUIRE_BROWSER=1` (CI) makes that a failure. See [`keel_tests::browser`].

mod coach;
mod coach_walk;
mod designs;
mod extensions;
mod feedback;
mod groups;
mod hr;
mod program;
mod visitor;

use std::time::{Duration, Instant};

use keel_tests::browser::Chromium;
use keel_tests::pages::link_in;
use keel_tests::{Backend, SmtpSink, TestApp};

/// A Keel on SQLite that sends its mail to an SMTP sink, promptly.
async fn app_with_mail() -> (TestApp, SmtpSink) {
    let smtp = SmtpSink::start();
    let smtp_url = smtp.url();
    let app = TestApp::spawn_with(Backend::Sqlite, move |config| {
        config.smtp_url = smtp_url;
        config.outbox_poll_ms = 50;
    })
    .await
    .expect("SQLite is always there");
    (app, smtp)
}

/// The `nth` (from 1) mail to `address` whose text contains `needle`, once it arrived.
async fn mail_to(smtp: &SmtpSink, address: &str, needle: &str, nth: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    let to = format!("To: {address}");
    loop {
        let mut found: Vec<String> =
            smtp.messages().into_iter().filter(|m| m.contains(&to) && m.contains(needle)).collect();
        if found.len() >= nth {
            return found.swap_remove(nth - 1);
        }
        assert!(Instant::now() < deadline, "no mail #{nth} to {address} with {needle:?}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Follows the sign-in link (`/l/…`) of the `nth` mail to `address` about `needle`: the page it
/// opens says whose it is, and "Continue as …" signs the browser in and lands on the page.
async fn follow_mail(chrome: &mut Chromium, app: &TestApp, smtp: &SmtpSink, address: &str, needle: &str, nth: usize) {
    let mail = mail_to(smtp, address, needle, nth).await;
    let link = link_in(&mail, &format!("{}/l/", app.base_url)).expect("a link to a page in the mail");
    chrome.open(&link).await;
    assert!(chrome.heading().await.starts_with("Hello"), "{}", chrome.text().await);
    chrome.check("continue").await;
    chrome.press("Continue as").await;
    assert!(chrome.text().await.contains("Signed in as"), "signed in: {}", chrome.text().await);
}
