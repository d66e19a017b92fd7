//! Step 3, the 360: raters with their interviews and written feedback, invitation links, and
//! themes. Raters and what they said are the coach's alone (docs/access.md; everyone else gets 404);
//! themes reach the leader and sponsors once released. Audit records and events name the
//! engagement or the rater's id only, never a rater's name, address or words.

use chrono::NaiveDate;
use keel_domain::audit::{AuditRecord, CommandContext};
use keel_domain::engagement::Engagement;
use keel_domain::event::DomainEvent;
use keel_domain::policy::{self, Part};
use keel_domain::stakeholders::{
    Feedback, INVITATION_TTL, Invitation, Rater, RaterChanges, RaterInterview, RaterStatus, Relationship, Theme,
    ThemeChanges, check_release,
};
use keel_domain::{DomainError, EngagementId, Precondition, RaterId, ThemeId, time};
use keel_persistence::repo::{engagements, organizations, stakeholders, users};
use keel_persistence::{DbConnection, StoreError};

use crate::frame::{self, Caller, Effects};
use crate::notifications;
use crate::pages::Links;
use crate::program::{open_for_change, readable};
use crate::tokens::{self, OneTimeToken};

/// A rater's contribution as the coach sees it: their interview and their written feedback.
pub type Contribution = (Option<RaterInterview>, Option<Feedback>);

/// Written feedback as a rater submits it.
#[derive(Clone, Debug)]
pub struct FeedbackInput {
    pub strengths: String,
    pub development_areas: String,
    pub comments: Option<String>,
}

fn audit_rater(
    effects: &mut Effects,
    ctx: &CommandContext,
    action: &'static str,
    engagement: &Engagement,
    id: RaterId,
) {
    effects.audit(AuditRecord::new(ctx, action, "rater", id, Some(engagement.organization_id)));
}

fn audit_theme(effects: &mut Effects, caller: &Caller, action: &'static str, engagement: &Engagement, id: ThemeId) {
    effects.audit(AuditRecord::new(&caller.ctx, action, "theme", id, Some(engagement.organization_id)));
}

// ---- raters ----

/// The engagement's raters (coach only).
pub fn list_raters(
    conn: &mut DbConnection,
    caller: &Caller,
    engagement_id: EngagementId,
) -> Result<Vec<Rater>, StoreError> {
    readable(conn, caller, engagement_id, Part::Raters)?;
    stakeholders::raters(conn, engagement_id)
}

pub fn create_rater(
    conn: &mut DbConnection,
    caller: &Caller,
    engagement_id: EngagementId,
    input: &RaterChanges,
) -> Result<Rater, StoreError> {
    frame::run(conn, |tx, effects| {
        let engagement = open_for_change(tx, caller, engagement_id, Part::Raters)?;
        let rater = Rater::create(engagement_id, input)?;
        stakeholders::insert_rater(tx, &engagement, &rater)?;
        audit_rater(effects, &caller.ctx, "rater.created", &engagement, rater.id);
        Ok(rater)
    })
}

/// A rater with their interview and feedback (coach only).
pub fn get_rater(
    conn: &mut DbConnection,
    caller: &Caller,
    (engagement_id, rater_id): (EngagementId, RaterId),
) -> Result<(Rater, Contribution), StoreError> {
    readable(conn, caller, engagement_id, Part::Raters)?;
    let rater = stakeholders::rater(conn, engagement_id, rater_id)?;
    Ok((rater, stakeholders::rater_contribution(conn, rater_id)?))
}

pub fn update_rater(
    conn: &mut DbConnection,
    caller: &Caller,
    (engagement_id, rater_id): (EngagementId, RaterId),
    precondition: Option<&Precondition>,
    changes: &RaterChanges,
) -> Result<Rater, StoreError> {
    frame::run(conn, |tx, effects| {
        let engagement = open_for_change(tx, caller, engagement_id, Part::Raters)?;
        let current = stakeholders::rater(tx, engagement_id, rater_id)?;
        Precondition::check(precondition, current.version)?;
        let next = current.apply(changes)?;
        stakeholders::save_rater(tx, &next)?;
        audit_rater(effects, &caller.ctx, "rater.updated", &engagement, rater_id);
        Ok(next)
    })
}

/// Removes a rater (kept for history; no longer counted, their link stops working).
pub fn delete_rater(
    conn: &mut DbConnection,
    caller: &Caller,
    (engagement_id, rater_id): (EngagementId, RaterId),
    precondition: Option<&Precondition>,
) -> Result<(), StoreError> {
    frame::run(conn, |tx, effects| {
        let engagement = open_for_change(tx, caller, engagement_id, Part::Raters)?;
        let current = stakeholders::rater(tx, engagement_id, rater_id)?;
        Precondition::check(precondition, current.version)?;
        stakeholders::remove_rater(tx, rater_id)?;
        audit_rater(effects, &caller.ctx, "rater.deleted", &engagement, rater_id);
        Ok(())
    })
}

/// Records (or replaces) the coach's interview with a rater; the rater then counts towards
/// `min_raters`. The interview is validated first (422 before the engagement is looked at).
pub fn record_interview(
    conn: &mut DbConnection,
    caller: &Caller,
    (engagement_id, rater_id): (EngagementId, RaterId),
    interviewed_on: Option<NaiveDate>,
    notes: &str,
) -> Result<Rater, StoreError> {
    let interview = RaterInterview::record(interviewed_on, notes)?;
    frame::run(conn, |tx, effects| {
        let engagement = open_for_change(tx, caller, engagement_id, Part::Raters)?;
        let current = stakeholders::rater(tx, engagement_id, rater_id)?;
        let new = stakeholders::rater_contribution(tx, rater_id)?.0.is_none();
        stakeholders::save_interview(tx, &engagement, rater_id, &interview, new)?;
        let next = if current.status == RaterStatus::FeedbackSubmitted {
            current
        } else {
            current.with_status(RaterStatus::Interviewed)
        };
        stakeholders::save_rater(tx, &next)?;
        audit_rater(effects, &caller.ctx, "rater.interviewed", &engagement, rater_id);
        Ok(next)
    })
}

/// Emails the rater a link to their feedback form; the link carries a one-time code whose hash
/// is stored (the code itself only travels in the mail).
pub fn invite(
    conn: &mut DbConnection,
    caller: &Caller,
    (engagement_id, rater_id): (EngagementId, RaterId),
    links: &Links,
) -> Result<Rater, StoreError> {
    frame::run(conn, |tx, effects| {
        let engagement = open_for_change(tx, caller, engagement_id, Part::Raters)?;
        let next = stakeholders::rater(tx, engagement_id, rater_id)?.invite()?;
        send_invitation(tx, effects, &engagement, &next, links)?;
        audit_rater(effects, &caller.ctx, "rater.invited", &engagement, rater_id);
        effects.event(DomainEvent::rater_invited(&engagement));
        Ok(next)
    })
}

/// Makes an invitation (its code's hash stored) and queues its mail to the rater.
fn send_invitation(
    tx: &mut DbConnection,
    effects: &mut Effects,
    engagement: &Engagement,
    rater: &Rater,
    links: &Links,
) -> Result<(), StoreError> {
    let leader = users::get(tx, engagement.leader_id)?;
    let OneTimeToken { token: code, hash } = OneTimeToken::generate("kr_");
    let now = time::now();
    let expires = now + chrono::Duration::from_std(INVITATION_TTL).unwrap_or(chrono::Duration::days(14));
    stakeholders::insert_invitation(tx, engagement, rater.id, &hash, now, expires)?;
    stakeholders::save_rater(tx, rater)?;
    let mail = notifications::stakeholders::rater_invitation(rater, &leader, engagement, &code, links)
        .ok_or(DomainError::conflict("rater_without_email", "the rater has no email address to invite"))?;
    effects.queue(mail);
    Ok(())
}

/// What a rater's feedback link shows.
#[derive(Clone, Debug, PartialEq)]
pub enum FeedbackPage {
    /// The form: the rater's name and relationship, whom the feedback is for, who reads it.
    Open { rater: String, relationship: Relationship, leader: String, coach: String },
    /// This rater's feedback is in.
    Received,
    /// Expired, unknown, or the rater or engagement is gone.
    Closed,
}

/// Looks at a feedback link without using it.
pub fn feedback_page(conn: &mut DbConnection, code: &str) -> Result<FeedbackPage, StoreError> {
    let now = time::now();
    let Some(invitation) = stakeholders::find_invitation(conn, &tokens::hash(code))? else {
        return Ok(FeedbackPage::Closed);
    };
    let Some(engagement) = engagements::find(conn, invitation.engagement_id)? else { return Ok(FeedbackPage::Closed) };
    let Ok(rater) = stakeholders::rater(conn, invitation.engagement_id, invitation.rater_id) else {
        return Ok(FeedbackPage::Closed);
    };
    if rater.status == RaterStatus::FeedbackSubmitted {
        return Ok(FeedbackPage::Received);
    }
    if !invitation.open(now) || engagement.phase.is_terminal() {
        return Ok(FeedbackPage::Closed);
    }
    let name = |conn: &mut DbConnection, id| -> Result<String, StoreError> { Ok(users::get(conn, id)?.name) };
    Ok(FeedbackPage::Open {
        rater: rater.name.clone(),
        relationship: rater.relationship,
        leader: name(conn, engagement.leader_id)?,
        coach: name(conn, engagement.coach_id)?,
    })
}

/// A rater whose link expired asks for a fresh one: it is mailed to the rater's address on file
/// if they may still give feedback (not yet given, the engagement still open); nothing happens
/// otherwise, and the rater is told the same either way.
/// The address a renewal of this invitation would mail a fresh one to (the rater's), if any:
/// the HTTP layer counts renewals per address before renewing.
pub fn invitation_address(conn: &mut DbConnection, code: &str) -> Result<Option<String>, StoreError> {
    let Some(invitation) = stakeholders::find_invitation(conn, &tokens::hash(code))? else { return Ok(None) };
    let rater = stakeholders::rater(conn, invitation.engagement_id, invitation.rater_id).ok();
    Ok(rater.and_then(|r| r.email).map(|email| email.as_str().to_owned()))
}

pub fn renew_invitation(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    code: &str,
    links: &Links,
) -> Result<(), StoreError> {
    frame::run(conn, |tx, effects| {
        let Some(invitation) = stakeholders::find_invitation(tx, &tokens::hash(code))? else { return Ok(()) };
        let engagement = engagements::get_for_update(tx, invitation.engagement_id)?;
        let Ok(rater) = stakeholders::rater(tx, invitation.engagement_id, invitation.rater_id) else { return Ok(()) };
        if invitation.open(time::now())
            || engagement.phase.is_terminal()
            || rater.status == RaterStatus::FeedbackSubmitted
            || rater.email.is_none()
        {
            return Ok(());
        }
        send_invitation(tx, effects, &engagement, &rater, links)?;
        audit_rater(effects, ctx, "rater.invitation_renewed", &engagement, rater.id);
        Ok(())
    })
}

/// Why a feedback link was refused (all answered alike, so a guesser learns nothing): a 404 the
/// front answers as it answers a missing or unknown code.
fn invalid_link() -> StoreError {
    DomainError::NotFound { resource: "feedback link" }.into()
}

/// A rater submits written feedback with the code of their invitation (`code_hash` is its hash);
/// there is no Keel caller, only the request's context (an anonymous actor). The feedback is
/// validated first; then it is stored once, before the code expires, while the rater and the
/// engagement are still there.
pub fn submit_feedback(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    code_hash: &str,
    input: &FeedbackInput,
) -> Result<(), StoreError> {
    let feedback = Feedback::submit(&input.strengths, &input.development_areas, input.comments.as_deref())?;
    let now = time::now();
    frame::run(conn, |tx, effects| {
        let Some(Invitation { rater_id, engagement_id, .. }) =
            stakeholders::find_invitation(tx, code_hash)?.filter(|i| i.open(now))
        else {
            return Err(invalid_link());
        };
        let engagement = engagements::get_for_update(tx, engagement_id)?;
        if engagement.phase.is_terminal() {
            return Err(invalid_link());
        }
        let current = stakeholders::rater(tx, engagement_id, rater_id).map_err(|_| invalid_link())?;
        if current.status == RaterStatus::FeedbackSubmitted {
            return Err(invalid_link());
        }
        stakeholders::use_invitation(tx, code_hash, now)?;
        stakeholders::insert_feedback(tx, &engagement, rater_id, &feedback)?;
        stakeholders::save_rater(tx, &current.with_status(RaterStatus::FeedbackSubmitted))?;
        audit_rater(effects, ctx, "feedback.submitted", &engagement, rater_id);
        effects.event(DomainEvent::feedback_submitted(&engagement));
        Ok(())
    })
}

// ---- themes ----

/// The engagement's themes: all of them for the coach, the released ones for the leader and
/// sponsors.
pub fn list_themes(
    conn: &mut DbConnection,
    caller: &Caller,
    engagement_id: EngagementId,
) -> Result<Vec<Theme>, StoreError> {
    let engagement = readable(conn, caller, engagement_id, Part::Themes)?;
    let released_only = !policy::sees_unreleased_themes(&caller.principal, &engagement);
    stakeholders::themes(conn, engagement_id, released_only)
}

/// The themes a design review shows its reader: those [`list_themes`] gives, or none for a reader
/// of the engagement who may not read themes (the hr_partner, admins: docs/access.md).
pub fn themes_for_review(
    conn: &mut DbConnection,
    caller: &Caller,
    engagement_id: EngagementId,
) -> Result<Vec<Theme>, StoreError> {
    let engagement = readable(conn, caller, engagement_id, Part::Designs)?;
    if policy::check_part(&caller.principal, &engagement, Part::Themes, false).is_err() {
        return Ok(Vec::new());
    }
    let released_only = !policy::sees_unreleased_themes(&caller.principal, &engagement);
    stakeholders::themes(conn, engagement_id, released_only)
}

pub fn create_theme(
    conn: &mut DbConnection,
    caller: &Caller,
    engagement_id: EngagementId,
    input: &ThemeChanges,
) -> Result<Theme, StoreError> {
    frame::run(conn, |tx, effects| {
        let engagement = open_for_change(tx, caller, engagement_id, Part::Themes)?;
        let theme = Theme::create(engagement_id, input)?;
        stakeholders::insert_theme(tx, &engagement, &theme)?;
        audit_theme(effects, caller, "theme.created", &engagement, theme.id);
        Ok(theme)
    })
}

pub fn update_theme(
    conn: &mut DbConnection,
    caller: &Caller,
    (engagement_id, theme_id): (EngagementId, ThemeId),
    precondition: Option<&Precondition>,
    changes: &ThemeChanges,
) -> Result<Theme, StoreError> {
    frame::run(conn, |tx, effects| {
        let engagement = open_for_change(tx, caller, engagement_id, Part::Themes)?;
        let current = stakeholders::theme(tx, engagement_id, theme_id)?;
        Precondition::check(precondition, current.version)?;
        let next = current.apply(changes)?;
        stakeholders::save_theme(tx, &next)?;
        audit_theme(effects, caller, "theme.updated", &engagement, theme_id);
        Ok(next)
    })
}

pub fn delete_theme(
    conn: &mut DbConnection,
    caller: &Caller,
    (engagement_id, theme_id): (EngagementId, ThemeId),
    precondition: Option<&Precondition>,
) -> Result<(), StoreError> {
    frame::run(conn, |tx, effects| {
        let engagement = open_for_change(tx, caller, engagement_id, Part::Themes)?;
        let current = stakeholders::theme(tx, engagement_id, theme_id)?;
        Precondition::check(precondition, current.version)?;
        stakeholders::remove_theme(tx, theme_id)?;
        audit_theme(effects, caller, "theme.deleted", &engagement, theme_id);
        Ok(())
    })
}

/// Releases every theme to the leader and sponsors, once at least `min_raters` stakeholders
/// contributed and there is a theme (409 otherwise); returns all themes.
pub fn release_themes(
    conn: &mut DbConnection,
    caller: &Caller,
    engagement_id: EngagementId,
) -> Result<Vec<Theme>, StoreError> {
    frame::run(conn, |tx, effects| {
        let engagement = open_for_change(tx, caller, engagement_id, Part::Themes)?;
        let organization = organizations::get(tx, engagement.organization_id)?;
        let all = stakeholders::themes(tx, engagement_id, false)?;
        check_release(stakeholders::contributions(tx, engagement_id)?, organization.settings.min_raters, all.len())?;
        stakeholders::release_themes(tx, engagement_id)?;
        effects.audit(AuditRecord::new(
            &caller.ctx,
            "themes.released",
            "engagement",
            engagement_id,
            Some(engagement.organization_id),
        ));
        stakeholders::themes(tx, engagement_id, false)
    })
}
