//! The 360's mail: the invitation that brings a rater their one-time feedback code.

use keel_domain::engagement::Engagement;
use keel_domain::outbox::{Email, Message};
use keel_domain::stakeholders::{INVITATION_TTL, Rater};
use keel_domain::user::User;

use super::about;

/// To a rater: who asks, about whom, and the one-time code, which only this mail carries (kept
/// out of logs as a secret). None for a rater without an email address.
pub fn rater_invitation(rater: &Rater, leader: &User, engagement: &Engagement, code: &str) -> Option<Message> {
    let to = rater.email.as_ref()?.as_str().to_owned();
    let days = INVITATION_TTL.as_secs() / 86_400;
    let text = format!(
        "Hello {name},\n\n\
         {leader} is taking part in an executive coaching program, and your perspective as a colleague \
         would help. Please share what you see as {leader}'s strengths and development areas.\n\n\
         Your one-time feedback code is:\n\n    {code}\n\n\
         Submit your feedback with POST /v1/feedback, sending the code as Authorization: Bearer <code> \
         and a JSON body {{\"strengths\": \"…\", \"development_areas\": \"…\", \"comments\": \"…\"}}.\n\
         Your answers go to the coach only; the leader sees an anonymised synthesis. \
         The code works once and expires in {days} days.\n",
        name = rater.name,
        leader = leader.name,
    );
    Some(about(
        engagement,
        Email {
            to,
            subject: format!("Feedback for {}'s coaching program", leader.name),
            text,
            secrets: vec![code.to_owned()],
            attachments: Vec::new(),
        },
    ))
}
