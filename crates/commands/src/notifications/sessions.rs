//! Calendar mail of coaching sessions: an invitation (RFC 5545 `METHOD:REQUEST`) to the leader and
//! the coach when a session is scheduled, confirmed or moved, and a cancellation
//! (`METHOD:CANCEL`, `STATUS:CANCELLED`) when a scheduled one is cancelled — one UID per session,
//! SEQUENCE raised by every revision, so the attendees' calendars follow.

use icalendar::{Calendar, Component, Event, EventLike, EventStatus};
use keel_domain::coaching::Session;
use keel_domain::engagement::Engagement;
use keel_domain::group::{Group, GroupSession};
use keel_domain::outbox::{Attachment, Email, Message};
use keel_domain::time::Timestamp;
use keel_domain::user::{User, UserStatus};

use super::about;
use super::body::Body;

/// What the calendar mail tells the attendees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CalendarUpdate {
    /// Scheduled, confirmed or moved: the event as it is now.
    Invitation,
    /// Cancelled: the event leaves the calendars.
    Cancellation,
}

impl CalendarUpdate {
    fn method(self) -> &'static str {
        match self {
            CalendarUpdate::Invitation => "REQUEST",
            CalendarUpdate::Cancellation => "CANCEL",
        }
    }
}

/// The `.ics` of `session` for `update`.
pub(crate) fn calendar(
    session: &Session,
    engagement: &Engagement,
    leader: &User,
    coach: &User,
    update: CalendarUpdate,
) -> String {
    let event = Invite {
        uid: format!("{}@keel", session.id),
        summary: summary(engagement),
        starts: session.scheduled_at,
        minutes: session.duration_minutes,
        sequence: session.sequence.to_string(),
        agenda: session.agenda.as_deref(),
    };
    event.ics(coach, &[leader, coach], update)
}

/// The calendar mail to each active person of `people` (a deactivated one is mailed nothing,
/// though they still show as an attendee to the others): the lines of `text` and the `.ics`.
fn invitation_mails<'a>(
    people: &'a [&'a User],
    subject: &'a str,
    text: &'a str,
    ics: &'a str,
    update: CalendarUpdate,
) -> impl Iterator<Item = Email> + 'a {
    people.iter().filter(|person| person.status == UserStatus::Active).map(move |person| {
        let mut body = Body::new(format!("Hello {},", person.name));
        for part in text.split('\n') {
            body = body.paragraph(part);
        }
        let mut email = body.email(person.email.as_str(), subject.to_owned(), Vec::new());
        email.attachments.push(Attachment {
            filename: "session.ics".to_owned(),
            content_type: format!("text/calendar; method={}; charset=utf-8", update.method()),
            content: ics.to_owned(),
        });
        email
    })
}

/// One calendar invitation's event: what the engagement's and the groups' sessions share.
struct Invite<'a> {
    uid: String,
    summary: String,
    starts: Timestamp,
    minutes: u32,
    sequence: String,
    agenda: Option<&'a str>,
}

impl Invite<'_> {
    fn ics(&self, organizer: &User, attendees: &[&User], update: CalendarUpdate) -> String {
        let end = self.starts + chrono::Duration::minutes(i64::from(self.minutes));
        let mut event = Event::new();
        event
            .uid(&self.uid)
            .summary(&self.summary)
            .starts(self.starts)
            .ends(end)
            .add_property("SEQUENCE", self.sequence.clone())
            .add_property("ORGANIZER", format!("mailto:{}", organizer.email.as_str()));
        for person in attendees {
            event.append_multi_property(icalendar::Property::new(
                "ATTENDEE",
                format!("mailto:{}", person.email.as_str()),
            ));
        }
        if let Some(agenda) = self.agenda {
            event.description(agenda);
        }
        if update == CalendarUpdate::Cancellation {
            event.status(EventStatus::Cancelled);
        }
        let mut calendar = Calendar::new();
        calendar.append_property(icalendar::Property::new("METHOD", update.method()));
        calendar.push(event.done());
        calendar.done().to_string()
    }
}

/// The calendar mail of a group's session to its coach and its participants now: an invitation
/// when it is scheduled or moved, a cancellation when it is cancelled (docs/calendar.md). The
/// agenda is theirs to read (docs/access.md, groups).
pub fn group_calendar_update(
    session: &GroupSession,
    group: &Group,
    coach: &User,
    participants: &[User],
    update: CalendarUpdate,
) -> Vec<Message> {
    let invite = Invite {
        uid: format!("{}@keel", session.id),
        summary: format!("Group session: {}", group.name),
        starts: session.scheduled_at,
        minutes: session.duration_minutes,
        // Every change raises the version: the revision count.
        sequence: session.version.saturating_sub(1).to_string(),
        agenda: session.agenda.as_deref(),
    };
    let mut attendees: Vec<&User> = participants.iter().collect();
    attendees.push(coach);
    let ics = invite.ics(coach, &attendees, update);
    let when = session.scheduled_at.format("%A %e %B %Y, %H:%M UTC");
    let (subject, line) = match update {
        CalendarUpdate::Invitation => {
            let verb = if session.version <= 1 { "is scheduled" } else { "has moved" };
            (
                format!("Group session: {} — {when}", group.name),
                format!(
                    "the group session of {} {verb}: {when}, {} minutes.\nThe calendar invitation is attached.",
                    group.name, session.duration_minutes
                ),
            )
        }
        CalendarUpdate::Cancellation => (
            format!("Cancelled: group session: {} — {when}", group.name),
            format!(
                "the group session of {} on {when} is cancelled{}.\nThe attached update removes it from your calendar.",
                group.name,
                session.status_reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default()
            ),
        ),
    };
    invitation_mails(&attendees, &subject, &line, &ics, update)
        .map(|email| Message::Email { organization_id: Some(group.organization_id), engagement_id: None, email })
        .collect()
}

fn summary(engagement: &Engagement) -> String {
    format!("Coaching session: {}", engagement.title)
}

/// The calendar mail of `session` to the leader and the coach.
pub fn calendar_update(
    session: &Session,
    engagement: &Engagement,
    leader: &User,
    coach: &User,
    update: CalendarUpdate,
) -> Vec<Message> {
    let ics = calendar(session, engagement, leader, coach, update);
    let when = session.scheduled_at.format("%A %e %B %Y, %H:%M UTC");
    let (subject, line) = match update {
        CalendarUpdate::Invitation => {
            let verb = if session.sequence == 0 { "is scheduled" } else { "has moved" };
            (
                format!("{} — {when}", summary(engagement)),
                format!(
                    "your coaching session {verb}: {when}, {} minutes ({}).\nThe calendar invitation is attached.",
                    session.duration_minutes,
                    session.format.as_str().replace('_', " ")
                ),
            )
        }
        CalendarUpdate::Cancellation => (
            format!("Cancelled: {} — {when}", summary(engagement)),
            format!(
                "your coaching session of {when} is cancelled{}.\nThe attached update removes it from your calendar.",
                session.status_reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default()
            ),
        ),
    };
    invitation_mails(&[leader, coach], &subject, &line, &ics, update).map(|email| about(engagement, email)).collect()
}
