//! Step 3, the 360: raters with their interviews and written feedback, invitation links, and
//! themes. Raters and what they said are the coach's alone (SPEC §4; everyone else gets 404);
//! themes reach the leader and sponsors once released. Audit records and events name the
//! engagement or the rater's id only, never a rater's name, address or words.

use chrono::NaiveDate;
use keel_domain::audit::{AuditRecord, CommandContext};
use keel_domain::engagement::Engagement;
use keel_domain::event::DomainEvent;
use keel_domain::policy::{self, Part};
use keel_domain::stakeholders::{
    Feedback, INVITATION_TTL, Rater, RaterChanges, RaterInterview, RaterStatus, Theme, ThemeChanges, check_release,
};
use keel_domain::{DomainError, EngagementId, Precondition, RaterId, ThemeId, time};
use keel_persistence::repo::{engagements, organizations, stakeholders, users};
use keel_persistence::{DbConnection, StoreError};

use crate::frame::{self, Caller, Effects};
use crate::notifications;
use crate::program::{open_for_change, readable};

/// A rater's contribution as the coach sees it: their interview and their written feedback.
pub type Contribution = (Option<RaterInterview>, Option<Feedback>);

/// Written feedback as a rater submits it.
#[derive(Clone, Debug)]
pub struct FeedbackInput {
    pub strengths: String,
    pub development_areas: String,
    pub comments: Option<String>,
}

/// A one-time feedback code: the code (mailed to the rater, never stored) and its hash (stored).
#[derive(Clone, Debug)]
pub struct FeedbackCode {
    pub code: String,
    pub hash: String,
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
) -> Result<(), StoreError> {
    frame::run(conn, |tx, effects| {
        let engagement = open_for_change(tx, caller, engagement_id, Part::Raters)?;
        stakeholders::rater(tx, engagement_id, rater_id)?;
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

/// Emails the rater a one-time code to submit written feedback with. `new_code` makes the code
/// and its hash, once the invitation is allowed; the hash is stored, the code only travels in
/// the mail.
pub fn invite(
    conn: &mut DbConnection,
    caller: &Caller,
    (engagement_id, rater_id): (EngagementId, RaterId),
    new_code: impl FnOnce() -> FeedbackCode,
) -> Result<Rater, StoreError> {
    frame::run(conn, |tx, effects| {
        let engagement = open_for_change(tx, caller, engagement_id, Part::Raters)?;
        let leader = users::get(tx, engagement.leader_id)?;
        let next = stakeholders::rater(tx, engagement_id, rater_id)?.invite()?;
        let FeedbackCode { code, hash } = new_code();
        let now = time::now();
        let expires = now + chrono::Duration::from_std(INVITATION_TTL).unwrap_or(chrono::Duration::days(14));
        stakeholders::insert_invitation(tx, &engagement, rater_id, &hash, now, expires)?;
        stakeholders::save_rater(tx, &next)?;
        let mail = notifications::stakeholders::rater_invitation(&next, &leader, &engagement, &code)
            .expect("an invited rater has an email");
        effects.queue(mail);
        audit_rater(effects, &caller.ctx, "rater.invited", &engagement, rater_id);
        effects.event(DomainEvent::rater_invited(&engagement));
        Ok(next)
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
        let Some((rater_id, engagement_id)) = stakeholders::find_open_invitation(tx, code_hash, now)? else {
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
) -> Result<(), StoreError> {
    frame::run(conn, |tx, effects| {
        let engagement = open_for_change(tx, caller, engagement_id, Part::Themes)?;
        stakeholders::theme(tx, engagement_id, theme_id)?;
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
