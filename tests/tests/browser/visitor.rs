//! What anyone sees first: the landing page, the sign-in page and the mail it sends, a person's
//! programs, and the pages for a link that no longer works and a page that is not there.

use keel_tests::browser::Chromium;
use keel_tests::fixtures;

use super::{app_with_mail, follow_mail};

#[actix_web::test]
async fn a_visitor_signs_in_from_the_landing_page() {
    let Some(mut chrome) = Chromium::start("visitor").await else { return };
    let (app, smtp) = app_with_mail().await;
    let p = fixtures::to_assessment_design(&app).await;

    chrome.open(&app.url("/")).await;
    assert_eq!(chrome.heading().await, "Keel");
    chrome.check("landing").await;

    // The landing page's own link (not the header's) leads to the sign-in form.
    chrome.follow("main a[href='/sign-in']").await;
    assert_eq!(chrome.path().await, "/sign-in");
    chrome.check("sign-in").await;
    chrome.fill("email", "Sponsor@Acme.test").await;
    chrome.press("Email me a sign-in link").await;
    assert!(chrome.text().await.contains("a sign-in link is on its way"), "{}", chrome.text().await);
    chrome.check("sign-in-sent").await;

    follow_mail(&mut chrome, &app, &smtp, "sponsor@acme.test", "Sign in to Keel", 1).await;
    assert_eq!(chrome.path().await, "/home");
    assert_eq!(chrome.heading().await, "Your programs");
    assert!(chrome.text().await.contains("Leading"));
    chrome.check("home").await;

    // The sponsor's overview of the program, from the home page.
    chrome.follow(&format!("a[href='/engagements/{}']", p.engagement)).await;
    assert_eq!(chrome.heading().await, "Leading");
    chrome.check("program").await;

    // A used link, and a page that does not exist, are pages too.
    let mail = super::mail_to(&smtp, "sponsor@acme.test", "Sign in to Keel", 1).await;
    let used = keel_tests::pages::link_in(&mail, &format!("{}/l/", app.base_url)).expect("the link");
    chrome.clear_cookies().await;
    chrome.open(&used).await;
    assert_eq!(chrome.heading().await, "This link no longer works");
    chrome.check("link-used").await;
    chrome.open(&app.url("/engagements/not-an-id/designs/1")).await;
    assert_eq!(chrome.heading().await, "Page not found");
    chrome.check("not-found").await;
    chrome.close().await;
}
