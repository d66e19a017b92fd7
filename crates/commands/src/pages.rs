//! The people's side of Keel: links from mails that sign a person in to the page where they act,
//! the sign-in page's own links, and the browser sessions they start. What a person then does on
//! a page goes through the same commands as the API, with the person as the caller.

use std::time::Duration;

use keel_domain::audit::{Actor, AuditRecord, CommandContext};
use keel_domain::design;
use keel_domain::engagement::Engagement;
use keel_domain::pages::{self, PageTarget, SESSION_TTL, SIGN_IN_LINK_TTL};
use keel_domain::policy;
use keel_domain::policy::Principal;
use keel_domain::template::ProgramTemplate;
use keel_domain::time::{self, Timestamp};
use keel_domain::user::{Email, User, UserStatus};
use keel_domain::{EngagementId, ExtensionId, UserId};
use keel_persistence::repo::engagements::EngagementFilter;
use keel_persistence::repo::parts::{self, Loaded, Part, Wanted};
use keel_persistence::repo::{engagements, pages as store, users};
use keel_persistence::{DbConnection, StoreError};

use crate::frame::{self, Caller, Effects};
use crate::notifications;
use crate::tokens::{self, OneTimeToken};

/// Where links point and how long those in mails that ask someone to act last.
#[derive(Clone, Debug)]
pub struct Links {
    /// The address people reach this Keel at (`public_base_url`), without a trailing slash.
    pub base_url: String,
    pub ttl: Duration,
}

impl Links {
    pub fn new(base_url: &str, ttl: Duration) -> Links {
        Links { base_url: base_url.trim_end_matches('/').to_owned(), ttl }
    }

    /// The full address of a path of Keel's pages.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

impl Default for Links {
    fn default() -> Links {
        Links::new("http://localhost:8080", pages::DEFAULT_LINK_TTL)
    }
}

/// Makes a link for `user` to `target`, valid for `ttl`, inside the command that mails it; the
/// address to put in the mail (its token is a secret of that mail).
pub(crate) fn issue(
    tx: &mut DbConnection,
    links: &Links,
    user: &User,
    target: PageTarget,
    ttl: Duration,
) -> Result<IssuedLink, StoreError> {
    let OneTimeToken { token, hash } = OneTimeToken::generate("kl_");
    let now = time::now();
    store::insert_link(tx, &hash, user, target, now, expires(now, ttl))?;
    Ok(IssuedLink { url: links.url(&format!("/l/{token}")), token })
}

/// A link made for a mail: its address, and its token (to be kept out of the stored mail).
#[derive(Clone, Debug)]
pub struct IssuedLink {
    pub url: String,
    pub token: String,
}

fn expires(now: Timestamp, ttl: Duration) -> Timestamp {
    now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(7))
}

/// What a link leads to, looked at without using it up (mail scanners open every link).
#[derive(Clone, Debug, PartialEq)]
pub enum LinkView {
    /// It may be followed: by whom, to where.
    Open { name: String, target: PageTarget, user: UserId },
    /// Used, expired, unknown, or its person may no longer follow it: all look alike.
    Closed,
}

/// Looks at a link: open only if following it now would sign its person in.
pub fn peek_link(conn: &mut DbConnection, token: &str) -> Result<LinkView, StoreError> {
    let now = time::now();
    let Some(link) = store::find_link(conn, &tokens::hash(token))? else { return Ok(LinkView::Closed) };
    if !link.open(now) || !followable(conn, &link.user, link.target, now)? {
        return Ok(LinkView::Closed);
    }
    Ok(LinkView::Open { name: link.user.name.clone(), target: link.target, user: link.user.id })
}

/// The address a renewal of this link would mail a fresh one to (its person's), whether or not
/// the link is still open: the HTTP layer counts renewals per address before renewing.
pub fn link_address(conn: &mut DbConnection, token: &str) -> Result<Option<String>, StoreError> {
    Ok(store::find_link(conn, &tokens::hash(token))?.map(|link| link.user.email.as_str().to_owned()))
}

/// Whose a link is and where it leads, open or not: a browser already signed in as its person
/// goes on to the page when it opens the link again.
pub fn link_owner(conn: &mut DbConnection, token: &str) -> Result<Option<(UserId, PageTarget)>, StoreError> {
    Ok(store::find_link(conn, &tokens::hash(token))?.map(|link| (link.user.id, link.target)))
}

/// Whether `user` may be signed in by a link to `target` now (the domain's rule, given the
/// engagement the page belongs to).
fn followable(conn: &mut DbConnection, user: &User, target: PageTarget, now: Timestamp) -> Result<bool, StoreError> {
    let engagement = match target.engagement() {
        Some(id) => match engagements::find(conn, id)? {
            Some(engagement) => Some(engagement),
            None => return Ok(false),
        },
        None => None,
    };
    Ok(pages::may_follow(user, engagement.as_ref(), now))
}

/// A browser session just started: the cookie's secret, the session's form token, and the page
/// to go to.
#[derive(Clone, Debug)]
pub struct Started {
    pub session_token: String,
    pub csrf_token: String,
    pub target: PageTarget,
    pub user: User,
}

/// Follows a link (the person's own click, a POST): uses it up and signs its person in. `None`
/// when it is used, expired or unknown, or its person may no longer follow it; nothing changes
/// then.
pub fn follow_link(conn: &mut DbConnection, request_id: &str, token: &str) -> Result<Option<Started>, StoreError> {
    let hash = tokens::hash(token);
    let now = time::now();
    frame::run(conn, |tx, effects| {
        let Some(link) = store::find_link(tx, &hash)? else { return Ok(None) };
        if !link.open(now) || !followable(tx, &link.user, link.target, now)? || !store::use_link(tx, &hash, now)? {
            return Ok(None);
        }
        let started = start_session(tx, effects, request_id, link.user, link.target, now)?;
        Ok(Some(started))
    })
}

fn start_session(
    tx: &mut DbConnection,
    effects: &mut Effects,
    request_id: &str,
    user: User,
    target: PageTarget,
    now: Timestamp,
) -> Result<Started, StoreError> {
    let session = OneTimeToken::generate("ks_");
    let csrf_token = tokens::random(32);
    store::insert_session(
        tx,
        &session.hash,
        user.id,
        user.organization_id,
        &csrf_token,
        now,
        expires(now, SESSION_TTL),
    )?;
    let ctx = person(&user, request_id);
    effects.audit(AuditRecord::new(&ctx, "web_session.started", "user", user.id, user.organization_id));
    Ok(Started { session_token: session.token, csrf_token, target, user })
}

/// The context of a person acting on a page.
pub fn person(user: &User, request_id: &str) -> CommandContext {
    CommandContext { actor: Actor::User { id: user.id.to_string() }, request_id: request_id.to_owned() }
}

/// Mails a fresh link to the same page to the person of a used or expired link, if they may
/// still follow one; nothing otherwise (the page answers alike either way).
pub fn renew_link(conn: &mut DbConnection, request_id: &str, token: &str, links: &Links) -> Result<(), StoreError> {
    let now = time::now();
    frame::run(conn, |tx, effects| {
        let Some(link) = store::find_link(tx, &tokens::hash(token))? else { return Ok(()) };
        if !followable(tx, &link.user, link.target, now)? {
            return Ok(());
        }
        let ttl = if link.target == PageTarget::Home { SIGN_IN_LINK_TTL } else { links.ttl };
        let issued = issue(tx, links, &link.user, link.target, ttl)?;
        effects.queue(notifications::pages::fresh_link(&link.user, link.target, false, &issued, ttl));
        effects.audit(AuditRecord::new(
            &person(&link.user, request_id),
            "page_link.renewed",
            "user",
            link.user.id,
            link.user.organization_id,
        ));
        Ok(())
    })
}

/// A link made by an operator (`keel sign-in-link`) for a person who cannot use their mail: to
/// `target`, valid as links in mails are. Refused (`None`) for someone who may not follow it.
pub fn issue_for_operator(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    email: &Email,
    target: PageTarget,
    links: &Links,
) -> Result<Option<String>, StoreError> {
    let now = time::now();
    frame::run(conn, |tx, effects| {
        let Some(user) = users::find_by_email(tx, email.as_str())? else { return Ok(None) };
        if !followable(tx, &user, target, now)? {
            return Ok(None);
        }
        let issued = issue(tx, links, &user, target, links.ttl)?;
        effects.audit(AuditRecord::new(ctx, "page_link.issued", "user", user.id, user.organization_id));
        Ok(Some(issued.url))
    })
}

/// The sign-in page: mails a link to `target` (the page the person was on their way to, else
/// their programs) to `email` if it belongs to someone who may sign in by address now. A page
/// they may not be signed in to is replaced by their programs. Nobody learns whether it mailed.
pub fn request_sign_in(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    email: &Email,
    target: PageTarget,
    links: &Links,
) -> Result<(), StoreError> {
    let now = time::now();
    frame::run(conn, |tx, effects| {
        let Some(user) = users::find_by_email(tx, email.as_str())?.filter(|u| u.may_sign_in(now)) else {
            return Ok(());
        };
        let target = if followable(tx, &user, target, now)? { target } else { PageTarget::Home };
        let issued = issue(tx, links, &user, target, SIGN_IN_LINK_TTL)?;
        effects.queue(notifications::pages::fresh_link(&user, target, true, &issued, SIGN_IN_LINK_TTL));
        effects.audit(AuditRecord::new(ctx, "sign_in_link.sent", "user", user.id, user.organization_id));
        Ok(())
    })
}

/// The signed-in person of a session cookie and the session's form token: an active person of
/// an unexpired session.
pub fn session(conn: &mut DbConnection, token: &str) -> Result<Option<(User, String)>, StoreError> {
    let Some((user_id, csrf)) = store::find_session(conn, &tokens::hash(token), time::now())? else {
        return Ok(None);
    };
    Ok(users::find(conn, user_id)?.filter(|u| u.status == UserStatus::Active).map(|u| (u, csrf)))
}

/// Signs a browser out: its session ends here and now.
pub fn sign_out(conn: &mut DbConnection, request_id: &str, user: &User, token: &str) -> Result<(), StoreError> {
    frame::run(conn, |tx, effects| {
        if store::delete_session(tx, &tokens::hash(token))? {
            effects.audit(AuditRecord::new(
                &person(user, request_id),
                "web_session.ended",
                "user",
                user.id,
                user.organization_id,
            ));
        }
        Ok(())
    })
}

/// The names of an engagement's people, for the pages of someone who may read the engagement:
/// its participants see each other's names (raters are never among them).
#[derive(Clone, Debug)]
pub struct Participants {
    pub engagement: Engagement,
    /// The name of the program's template, and the step after the current one in it.
    pub program: String,
    pub next_phase: Option<keel_domain::engagement::Phase>,
    pub leader: (UserId, String),
    pub coach: (UserId, String),
    pub sponsors: Vec<(UserId, String)>,
}

impl Participants {
    /// Those who decide on a design: the leader and every sponsor.
    pub fn approvers(&self) -> Vec<(UserId, String)> {
        std::iter::once(self.leader.clone()).chain(self.sponsors.iter().cloned()).collect()
    }

    pub fn name_of(&self, id: UserId) -> String {
        std::iter::once(&self.leader)
            .chain(std::iter::once(&self.coach))
            .chain(self.sponsors.iter())
            .find(|(who, _)| *who == id)
            .map(|(_, name)| name.clone())
            .unwrap_or_else(|| FORMER.to_owned())
    }
}

/// What a page calls a person who is no longer there.
const FORMER: &str = "a former participant";

/// The name of `id` among the names read, or what a page says of a person no longer there.
pub(crate) fn name_in(loaded: &Loaded, id: UserId) -> String {
    loaded.names.get(&id).cloned().unwrap_or_else(|| FORMER.to_owned())
}

/// The engagement's leader, coach and sponsors.
pub(crate) fn people_of(engagement: &Engagement) -> Vec<UserId> {
    [engagement.leader_id, engagement.coach_id].into_iter().chain(engagement.sponsor_ids.iter().copied()).collect()
}

/// The people of an engagement the caller may read (404 otherwise, as for the engagement).
pub fn participants(conn: &mut DbConnection, caller: &Caller, id: EngagementId) -> Result<Participants, StoreError> {
    let engagement = crate::engagements::get(conn, caller, id)?;
    let template = crate::templates::of_engagement(conn, &engagement)?;
    let loaded = parts::load(conn, Wanted { names: &people_of(&engagement), ..Wanted::default() })?;
    Ok(participants_from(engagement, &template, &loaded))
}

/// [`participants`] from the engagement, its template and its people's names already read.
pub(crate) fn participants_from(engagement: Engagement, template: &ProgramTemplate, loaded: &Loaded) -> Participants {
    let name = |id: UserId| (id, name_in(loaded, id));
    Participants {
        leader: name(engagement.leader_id),
        coach: name(engagement.coach_id),
        sponsors: engagement.sponsor_ids.iter().map(|id| name(*id)).collect(),
        program: template.name.clone(),
        next_phase: template.definition.forward(engagement.phase).first().copied(),
        engagement,
    }
}

/// A decision that waits for the person.
#[derive(Clone, Debug, PartialEq)]
pub enum Waiting {
    Design { engagement: EngagementId, version: i32 },
    Extension { engagement: EngagementId, extension: ExtensionId, minutes: i64 },
}

/// One of the person's engagements on their home page.
#[derive(Clone, Debug)]
pub struct Mine {
    pub engagement: Engagement,
    /// Their part in it.
    pub role: &'static str,
    pub waiting: Vec<Waiting>,
    /// For the coach: the next thing the program needs of them.
    pub next: Option<String>,
    /// For the coach: the program's sessions of the coming seven days.
    pub this_week: Vec<keel_domain::coaching::Session>,
    /// The name of the engagement's organization.
    pub organization: String,
}

/// The most programs a person's home lists (those that need them first).
pub const HOME_MAX: u32 = 500;

/// The engagements the caller takes part in (as leader, sponsor or coach), those that need them
/// first, then newest first, with the decisions that wait for them and the coach's next thing.
/// Three statements whatever their number: the engagements, then every part of all of them with
/// their organizations at once (a custom template is read once per version).
pub fn my_engagements(conn: &mut DbConnection, caller: &Caller) -> Result<Vec<Mine>, StoreError> {
    let Principal::User { id: me, .. } = caller.principal else { return Ok(Vec::new()) };
    let filter = EngagementFilter { participant: Some(me), ..EngagementFilter::default() };
    let listed = engagements::newest(conn, &filter, HOME_MAX)?;
    let now = time::now();
    // What each program's part in the home needs: a decision waiting for its leader or a sponsor,
    // its coach's next thing. An ended program needs nothing more of anyone.
    let mut templates = crate::templates::Versions::default();
    let mut each: Vec<(EngagementId, Part)> = Vec::new();
    for engagement in listed.iter().filter(|e| !e.phase.is_terminal()) {
        let mut parts: Vec<Part> = Vec::new();
        if engagement.leader_id == me || engagement.is_sponsor(me) {
            parts.extend([Part::Designs, Part::Decisions]);
        }
        if engagement.is_sponsor(me) {
            parts.push(Part::Extensions);
        }
        if policy::works_on(&caller.principal, engagement) {
            parts.extend(crate::coach::parts_for_next(engagement, templates.of(conn, engagement)?, now));
        }
        let mut once: Vec<Part> = Vec::new();
        for part in parts {
            if !once.contains(&part) {
                once.push(part);
            }
        }
        each.extend(once.into_iter().map(|part| (engagement.id, part)));
    }
    let mut organizations: Vec<_> = listed.iter().map(|e| e.organization_id).collect();
    organizations.sort();
    organizations.dedup();
    // The names of those a design under the sponsors' review waits for, for its coach.
    let awaited: Vec<UserId> = listed
        .iter()
        .filter(|e| e.phase == keel_domain::engagement::Phase::SponsorReview && policy::works_on(&caller.principal, e))
        .flat_map(|e| std::iter::once(e.leader_id).chain(e.sponsor_ids.iter().copied()))
        .collect();
    let wanted = Wanted { each: &each, organizations: &organizations, names: &awaited, ..Wanted::default() };
    let mut loaded = parts::load(conn, wanted)?;
    let mut mine = Vec::new();
    for engagement in listed {
        let parts = loaded.take(engagement.id);
        let organization = loaded
            .organizations
            .get(&engagement.organization_id)
            .ok_or_else(|| StoreError::not_found("organization"))?;
        let role = if engagement.leader_id == me {
            "leader"
        } else if engagement.is_sponsor(me) {
            "sponsor"
        } else {
            "coach"
        };
        let waiting = waiting_in(caller, &engagement, &parts.designs, &parts.decisions, &parts.extensions);
        let (next, this_week) = if policy::works_on(&caller.principal, &engagement) && !engagement.phase.is_terminal() {
            let template = templates.of(conn, &engagement)?;
            let facts = crate::engagements::facts_of(&engagement, organization.settings.min_raters, &parts);
            let approvers: Vec<(UserId, String)> = std::iter::once(engagement.leader_id)
                .chain(engagement.sponsor_ids.iter().copied())
                .map(|who| (who, name_in(&loaded, who)))
                .collect();
            let next = crate::coach::next_from(&engagement, &facts, template, &parts, &approvers);
            (next, crate::coach::this_week(&engagement, &parts.sessions))
        } else {
            (None, Vec::new())
        };
        let organization = organization.name.clone();
        mine.push(Mine { engagement, role, waiting, next, this_week, organization });
    }
    // What needs the person first (a decision, the coach's next thing), ended programs last.
    mine.sort_by_key(|m| (m.engagement.phase.is_terminal(), m.waiting.is_empty() && m.next.is_none()));
    Ok(mine)
}

/// The decisions of `engagement` that wait for the caller: a submitted design version they have
/// not decided on (the leader and sponsors), an extension request (sponsors).
pub fn waiting_for(
    conn: &mut DbConnection,
    caller: &Caller,
    engagement: &Engagement,
) -> Result<Vec<Waiting>, StoreError> {
    let Principal::User { id: me, .. } = caller.principal else { return Ok(Vec::new()) };
    if engagement.leader_id != me && !engagement.is_sponsor(me) {
        return Ok(Vec::new());
    }
    let wanted = Wanted {
        engagements: &[engagement.id],
        parts: &[Part::Designs, Part::Decisions, Part::Extensions],
        ..Wanted::default()
    };
    let parts = parts::load(conn, wanted)?.take(engagement.id);
    Ok(waiting_in(caller, engagement, &parts.designs, &parts.decisions, &parts.extensions))
}

/// [`waiting_for`], from the engagement's designs, decisions and extension requests.
fn waiting_in(
    caller: &Caller,
    engagement: &Engagement,
    designs: &[keel_domain::design::Design],
    decided: &[keel_domain::design::Decision],
    extensions: &[keel_domain::coaching::Extension],
) -> Vec<Waiting> {
    let Principal::User { id: me, .. } = caller.principal else { return Vec::new() };
    let mut waiting = Vec::new();
    if engagement.leader_id == me || engagement.is_sponsor(me) {
        for design in designs {
            if design::awaits_decision(engagement, design, decided, me) {
                waiting.push(Waiting::Design { engagement: engagement.id, version: design.version });
            }
        }
    }
    if engagement.is_sponsor(me) {
        for extension in extensions {
            if extension.awaits_decision(engagement, me) {
                waiting.push(Waiting::Extension {
                    engagement: engagement.id,
                    extension: extension.id,
                    minutes: extension.minutes,
                });
            }
        }
    }
    waiting
}
