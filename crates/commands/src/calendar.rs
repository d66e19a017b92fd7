//! A person's calendar feed (docs/calendar.md): a secret address their calendar application
//! subscribes to, listing the sessions of every engagement and group they have a part in, each
//! as much as they may read of it (docs/access.md) — the leader and the coach the agenda, a
//! sponsor or hr_partner the schedule and status only.

use chrono::Duration;
use icalendar::{Calendar, Component, Event, EventLike, EventStatus};
use keel_domain::audit::{Actor, AuditRecord, CommandContext};
use keel_domain::coaching::SessionStatus;
use keel_domain::group::GroupSessionStatus;
use keel_domain::policy::{self, Action, Principal};
use keel_domain::time::Timestamp;
use keel_domain::user::UserStatus;
use keel_domain::{DomainError, UserId};
use keel_persistence::repo::{calendar_feeds, users};
use keel_persistence::{DbConnection, StoreError};

use crate::frame::{self, Caller};
use crate::tokens::{self, OneTimeToken};

const RESOURCE: &str = "calendar_feed";

/// How the feed secrets begin (for people and secret scanners; the request log leaves them out).
pub const TOKEN_PREFIX: &str = "kc_";

/// Sessions held longer ago than this are left out of a feed.
pub const PAST_DAYS: i64 = 90;

/// A feed address just made: its secret, shown once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedAddress {
    pub token: String,
    pub created_at: Timestamp,
}

/// When the person's feed address was made, if they have one (the person, or an admin).
pub fn status(conn: &mut DbConnection, caller: &Caller, user_id: UserId) -> Result<Option<Timestamp>, StoreError> {
    policy::check(&caller.principal, &Action::ManageCalendarFeed { user_id })?;
    calendar_feeds::find(conn, user_id)
}

/// A new feed address for the person (the person alone); one they had stops at once.
pub fn subscribe(conn: &mut DbConnection, caller: &Caller, user_id: UserId) -> Result<FeedAddress, StoreError> {
    policy::check(&caller.principal, &Action::SubscribeCalendar { user_id })?;
    let OneTimeToken { token, hash } = OneTimeToken::generate(TOKEN_PREFIX);
    frame::run(conn, |tx, effects| {
        let user = users::get(tx, user_id)?;
        let rotated = calendar_feeds::find(tx, user_id)?.is_some();
        let now = keel_domain::time::now();
        calendar_feeds::put(tx, user_id, &hash, now)?;
        let action = if rotated { "calendar_feed.rotated" } else { "calendar_feed.created" };
        effects.audit(AuditRecord::new(&caller.ctx, action, RESOURCE, user_id, user.organization_id));
        Ok(FeedAddress { token: token.clone(), created_at: now })
    })
}

/// The person's feed address stops (the person, or an admin).
pub fn revoke(conn: &mut DbConnection, caller: &Caller, user_id: UserId) -> Result<(), StoreError> {
    policy::check(&caller.principal, &Action::ManageCalendarFeed { user_id })?;
    frame::run(conn, |tx, effects| {
        let user = users::get(tx, user_id)?;
        if !calendar_feeds::delete(tx, user_id)? {
            return Err(DomainError::NotFound { resource: "calendar feed" }.into());
        }
        effects.audit(AuditRecord::new(&caller.ctx, "calendar_feed.revoked", RESOURCE, user_id, user.organization_id));
        Ok(())
    })
}

/// A feed as served: the iCalendar text, its entity tag and when it last changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Feed {
    pub ics: String,
    /// The SHA-256 of the text, hex.
    pub etag: String,
    pub last_modified: Timestamp,
}

/// One session of the feed, as its reader may see it.
struct Entry {
    uid: String,
    summary: String,
    description: Option<String>,
    url: String,
    starts: Timestamp,
    minutes: u32,
    status: EventStatus,
    sequence: u32,
    changed: Timestamp,
}

/// The feed behind `token` (404 for one that is unknown, rotated or revoked, or whose person is
/// deactivated: nothing says whose it was). `base_url` is where the pages are, for each event's
/// link.
pub fn feed(conn: &mut DbConnection, token: &str, base_url: &str) -> Result<Feed, StoreError> {
    let not_found = || StoreError::from(DomainError::NotFound { resource: "calendar feed" });
    let Some((user_id, made)) = calendar_feeds::find_by_hash(conn, &tokens::hash(token))? else {
        return Err(not_found());
    };
    let user = users::find(conn, user_id)?.filter(|u| u.status == UserStatus::Active).ok_or_else(not_found)?;
    let caller = Caller {
        principal: Principal::for_user(&user),
        ctx: CommandContext { actor: Actor::User { id: user.id.to_string() }, request_id: "calendar-feed".to_owned() },
    };
    let since = keel_domain::time::now() - Duration::days(PAST_DAYS);
    let mut entries = Vec::new();
    for id in calendar_feeds::engagements_of(conn, user_id)? {
        // A program the person may no longer read is left out, not an error.
        let Ok(engagement) = crate::engagements::get(conn, &caller, id) else { continue };
        let Ok(sessions) = crate::sessions::list(conn, &caller, id) else { continue };
        for seen in sessions.into_iter().filter(|s| s.session.scheduled_at >= since) {
            let s = seen.session;
            entries.push(Entry {
                uid: format!("{}@keel", s.id),
                summary: format!("Coaching session: {}", engagement.title),
                description: if seen.view.agenda() { s.agenda.clone() } else { None },
                url: format!("{base_url}/engagements/{id}"),
                starts: s.scheduled_at,
                minutes: s.duration_minutes,
                status: match s.status {
                    SessionStatus::Requested | SessionStatus::Proposed => EventStatus::Tentative,
                    SessionStatus::Scheduled | SessionStatus::Completed | SessionStatus::NoShow => {
                        EventStatus::Confirmed
                    }
                    SessionStatus::Cancelled => EventStatus::Cancelled,
                },
                sequence: u32::try_from(s.sequence).unwrap_or(0),
                changed: s.updated_at,
            });
        }
    }
    for id in calendar_feeds::groups_of(conn, user_id)? {
        let Ok(group) = crate::groups::get(conn, &caller, id) else { continue };
        let Ok(sessions) = crate::groups::sessions(conn, &caller, id) else { continue };
        for seen in sessions.into_iter().filter(|s| s.session.scheduled_at >= since) {
            let s = seen.session;
            entries.push(Entry {
                uid: format!("{}@keel", s.id),
                summary: format!("Group session: {}", group.group.name),
                description: if seen.view.content { s.agenda.clone() } else { None },
                url: format!("{base_url}/groups/{id}"),
                starts: s.scheduled_at,
                minutes: s.duration_minutes,
                status: match s.status {
                    GroupSessionStatus::Scheduled | GroupSessionStatus::Completed => EventStatus::Confirmed,
                    GroupSessionStatus::Cancelled => EventStatus::Cancelled,
                },
                // Every change of a group session raises its version: the revision count.
                sequence: u32::try_from(s.version.saturating_sub(1)).unwrap_or(0),
                changed: s.updated_at,
            });
        }
    }
    entries.sort_by(|a, b| (a.starts, &a.uid).cmp(&(b.starts, &b.uid)));
    let last_modified = entries.iter().map(|e| e.changed).max().unwrap_or(made).max(made);
    let mut calendar = Calendar::new();
    calendar.name(&format!("Keel: {}", user.name));
    calendar.append_property(icalendar::Property::new("METHOD", "PUBLISH"));
    for e in &entries {
        let mut event = Event::new();
        event
            .uid(&e.uid)
            .summary(&e.summary)
            .starts(e.starts)
            .ends(e.starts + Duration::minutes(i64::from(e.minutes)))
            .status(e.status)
            .sequence(e.sequence)
            .timestamp(e.changed)
            .last_modified(e.changed)
            .url(&e.url);
        if let Some(text) = &e.description {
            event.description(text);
        }
        calendar.push(event.done());
    }
    let ics = calendar.done().to_string();
    Ok(Feed { etag: tokens::hash(&ics), ics, last_modified })
}
