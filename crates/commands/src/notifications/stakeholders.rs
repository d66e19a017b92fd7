//! The 360's mail: the invitation that brings a rater the link to their feedback form.

use keel_domain::engagement::Engagement;
use keel_domain::outbox::Message;
use keel_domain::stakeholders::{INVITATION_TTL, Rater};
use keel_domain::user::User;

use super::about;
use super::body::Body;
use crate::pages::Links;

/// To a rater: who asks, about whom, who reads the answers, and the link to the form (it carries
/// the one-time code, which only this mail holds and which is kept out of logs as a secret).
/// None for a rater without an email address.
pub fn rater_invitation(
    rater: &Rater,
    leader: &User,
    engagement: &Engagement,
    code: &str,
    links: &Links,
) -> Option<Message> {
    let to = rater.email.as_ref()?.as_str().to_owned();
    let days = INVITATION_TTL.as_secs() / 86_400;
    let body = Body::new(format!("Hello {},", rater.name))
        .paragraph(format!(
            "{leader} is taking part in an executive coaching program, and your perspective as a colleague \
             would help. Please share what you see as {leader}'s strengths and development areas.",
            leader = leader.name
        ))
        .paragraph(
            "Your answers go to the coach only: they are never shown with your name to anyone else; the leader \
             sees an anonymised synthesis of everyone's feedback.",
        )
        .action("Give your feedback", links.url(&format!("/feedback/{code}")))
        .footer(format!("The link is yours alone; you can send your feedback once, within {days} days."));
    let subject = format!("Feedback for {}'s coaching program", leader.name);
    Some(about(engagement, body.email(&to, subject, vec![code.to_owned()])))
}
