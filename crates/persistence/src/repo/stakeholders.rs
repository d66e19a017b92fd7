//! Step 3: raters, their interviews and feedback, invitation links, and themes. Every change
//! locks the engagement first and asks `authorize`; rater data never leaves through audit
//! records or events (they name the engagement only).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use keel_domain::DomainError;
use keel_domain::audit::{Actor, AuditRecord, CommandContext};
use keel_domain::engagement::Engagement;
use keel_domain::event::DomainEvent;
use keel_domain::outbox::Message;
use keel_domain::stakeholders::{
    Feedback, INVITATION_TTL, Rater, RaterChanges, RaterInterview, RaterStatus, Relationship, Theme, ThemeChanges,
    ThemeKind, check_release,
};
use keel_domain::time;
use keel_domain::user::Email;

use crate::connection::{DbConnection, write_transaction};
use crate::error::StoreError;
use crate::repo::program::{Authorize, open_for_change};
use crate::repo::{audit, engagements, events, organizations, outbox};
use crate::rows::{corrupt, from_db_time, to_db_time};
use crate::schema::{rater_feedback, rater_interviews, rater_invitations, raters, themes};

// ---- raters ----

#[derive(Queryable, Selectable)]
#[diesel(table_name = raters)]
struct RaterRow {
    id: String,
    engagement_id: String,
    name: String,
    email: Option<String>,
    relationship: String,
    status: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

impl RaterRow {
    fn into_domain(self) -> Result<Rater, StoreError> {
        Ok(Rater {
            id: self.id.parse().map_err(|_| corrupt("rater id", &self.id))?,
            engagement_id: self.engagement_id.parse().map_err(|_| corrupt("engagement id", &self.engagement_id))?,
            name: self.name,
            email: self.email.as_deref().map(|e| Email::parse(e).map_err(|_| corrupt("rater email", e))).transpose()?,
            relationship: self
                .relationship
                .parse::<Relationship>()
                .map_err(|_| corrupt("relationship", &self.relationship))?,
            status: self.status.parse::<RaterStatus>().map_err(|_| corrupt("rater status", &self.status))?,
            created_at: from_db_time(self.created_at),
            updated_at: from_db_time(self.updated_at),
            version: self.version,
        })
    }
}

pub fn raters(conn: &mut DbConnection, engagement_id: uuid::Uuid) -> Result<Vec<Rater>, StoreError> {
    raters::table
        .filter(raters::engagement_id.eq(engagement_id.to_string()))
        .filter(raters::deleted_at.is_null())
        .order(raters::id.asc())
        .select(RaterRow::as_select())
        .load(conn)?
        .into_iter()
        .map(RaterRow::into_domain)
        .collect()
}

pub fn rater(conn: &mut DbConnection, engagement_id: uuid::Uuid, rater_id: uuid::Uuid) -> Result<Rater, StoreError> {
    super::optional(
        raters::table
            .filter(raters::id.eq(rater_id.to_string()))
            .filter(raters::engagement_id.eq(engagement_id.to_string()))
            .filter(raters::deleted_at.is_null())
            .select(RaterRow::as_select())
            .first(conn),
    )?
    .map(RaterRow::into_domain)
    .transpose()?
    .ok_or_else(|| StoreError::not_found("rater"))
}

/// Stakeholders who contributed (interviewed or feedback submitted).
pub fn contributions(conn: &mut DbConnection, engagement_id: uuid::Uuid) -> Result<u32, StoreError> {
    let count: i64 = raters::table
        .filter(raters::engagement_id.eq(engagement_id.to_string()))
        .filter(raters::deleted_at.is_null())
        .filter(raters::status.eq_any([RaterStatus::Interviewed.as_str(), RaterStatus::FeedbackSubmitted.as_str()]))
        .count()
        .get_result(conn)?;
    Ok(u32::try_from(count).unwrap_or(u32::MAX))
}

fn save_rater(conn: &mut DbConnection, rater: &Rater) -> Result<(), StoreError> {
    diesel::update(raters::table.find(rater.id.to_string()))
        .set((
            raters::name.eq(&rater.name),
            raters::email.eq(rater.email.as_ref().map(|e| e.as_str().to_owned())),
            raters::relationship.eq(rater.relationship.as_str()),
            raters::status.eq(rater.status.as_str()),
            raters::updated_at.eq(to_db_time(rater.updated_at)),
            raters::version.eq(rater.version),
        ))
        .execute(conn)?;
    Ok(())
}

fn audit_rater(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    action: &'static str,
    engagement: &Engagement,
    rater: uuid::Uuid,
) -> Result<(), StoreError> {
    audit::append(conn, &AuditRecord::new(ctx, action, "rater", rater, Some(engagement.organization_id)))
}

pub fn create_rater(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    engagement_id: uuid::Uuid,
    input: &RaterChanges,
    authorize: Authorize<'_>,
) -> Result<Rater, StoreError> {
    write_transaction(conn, |conn| {
        let engagement = open_for_change(conn, engagement_id, authorize)?;
        let rater = Rater::create(engagement_id, input)?;
        diesel::insert_into(raters::table)
            .values((
                raters::id.eq(rater.id.to_string()),
                raters::engagement_id.eq(engagement_id.to_string()),
                raters::organization_id.eq(engagement.organization_id.to_string()),
                raters::name.eq(&rater.name),
                raters::email.eq(rater.email.as_ref().map(|e| e.as_str().to_owned())),
                raters::relationship.eq(rater.relationship.as_str()),
                raters::status.eq(rater.status.as_str()),
                raters::created_at.eq(to_db_time(rater.created_at)),
                raters::updated_at.eq(to_db_time(rater.updated_at)),
                raters::version.eq(rater.version),
            ))
            .execute(conn)?;
        audit_rater(conn, ctx, "rater.created", &engagement, rater.id)?;
        Ok(rater)
    })
}

pub fn update_rater(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    engagement_id: uuid::Uuid,
    rater_id: uuid::Uuid,
    precondition: Option<&keel_domain::Precondition>,
    changes: &RaterChanges,
    authorize: Authorize<'_>,
) -> Result<Rater, StoreError> {
    write_transaction(conn, |conn| {
        let engagement = open_for_change(conn, engagement_id, authorize)?;
        let current = rater(conn, engagement_id, rater_id)?;
        keel_domain::Precondition::check(precondition, current.version)?;
        let next = current.apply(changes)?;
        save_rater(conn, &next)?;
        audit_rater(conn, ctx, "rater.updated", &engagement, rater_id)?;
        Ok(next)
    })
}

/// Removes a rater (kept for history; no longer counted, their link stops working).
pub fn delete_rater(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    engagement_id: uuid::Uuid,
    rater_id: uuid::Uuid,
    authorize: Authorize<'_>,
) -> Result<(), StoreError> {
    write_transaction(conn, |conn| {
        let engagement = open_for_change(conn, engagement_id, authorize)?;
        rater(conn, engagement_id, rater_id)?;
        diesel::update(raters::table.find(rater_id.to_string()))
            .set(raters::deleted_at.eq(to_db_time(time::now())))
            .execute(conn)?;
        audit_rater(conn, ctx, "rater.deleted", &engagement, rater_id)
    })
}

/// The interview and the feedback of a rater, if any (coach only).
pub fn rater_contribution(
    conn: &mut DbConnection,
    rater_id: uuid::Uuid,
) -> Result<(Option<RaterInterview>, Option<Feedback>), StoreError> {
    let interview: Option<(chrono::NaiveDate, String)> = super::optional(
        rater_interviews::table
            .find(rater_id.to_string())
            .select((rater_interviews::interviewed_on, rater_interviews::notes))
            .first(conn),
    )?;
    let feedback: Option<(String, String, Option<String>, NaiveDateTime)> = super::optional(
        rater_feedback::table
            .find(rater_id.to_string())
            .select((
                rater_feedback::strengths,
                rater_feedback::development_areas,
                rater_feedback::comments,
                rater_feedback::submitted_at,
            ))
            .first(conn),
    )?;
    Ok((
        interview.map(|(interviewed_on, notes)| RaterInterview { interviewed_on, notes }),
        feedback.map(|(strengths, development_areas, comments, at)| Feedback {
            strengths,
            development_areas,
            comments,
            submitted_at: from_db_time(at),
        }),
    ))
}

/// Records (or replaces) the coach's interview with a rater; the rater then counts.
pub fn record_interview(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    engagement_id: uuid::Uuid,
    rater_id: uuid::Uuid,
    interview: &RaterInterview,
    authorize: Authorize<'_>,
) -> Result<Rater, StoreError> {
    write_transaction(conn, |conn| {
        let engagement = open_for_change(conn, engagement_id, authorize)?;
        let current = rater(conn, engagement_id, rater_id)?;
        let exists = rater_contribution(conn, rater_id)?.0.is_some();
        if exists {
            diesel::update(rater_interviews::table.find(rater_id.to_string()))
                .set((
                    rater_interviews::interviewed_on.eq(interview.interviewed_on),
                    rater_interviews::notes.eq(&interview.notes),
                    rater_interviews::recorded_at.eq(to_db_time(time::now())),
                ))
                .execute(conn)?;
        } else {
            diesel::insert_into(rater_interviews::table)
                .values((
                    rater_interviews::rater_id.eq(rater_id.to_string()),
                    rater_interviews::engagement_id.eq(engagement_id.to_string()),
                    rater_interviews::organization_id.eq(engagement.organization_id.to_string()),
                    rater_interviews::interviewed_on.eq(interview.interviewed_on),
                    rater_interviews::notes.eq(&interview.notes),
                    rater_interviews::recorded_at.eq(to_db_time(time::now())),
                ))
                .execute(conn)?;
        }
        let next = if current.status == RaterStatus::FeedbackSubmitted {
            current
        } else {
            current.with_status(RaterStatus::Interviewed)
        };
        save_rater(conn, &next)?;
        audit_rater(conn, ctx, "rater.interviewed", &engagement, rater_id)?;
        Ok(next)
    })
}

/// Emails the rater a one-time link to submit written feedback; `token_hash` is stored, the
/// token itself only travels in `mail`.
pub fn invite(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    engagement_id: uuid::Uuid,
    rater_id: uuid::Uuid,
    token_hash: &str,
    mail: impl FnOnce(&Rater, &Engagement) -> Message,
    authorize: Authorize<'_>,
) -> Result<Rater, StoreError> {
    write_transaction(conn, |conn| {
        let engagement = open_for_change(conn, engagement_id, authorize)?;
        let current = rater(conn, engagement_id, rater_id)?;
        let next = current.invite()?;
        let now = time::now();
        let expires = now + chrono::Duration::from_std(INVITATION_TTL).unwrap_or(chrono::Duration::days(14));
        diesel::insert_into(rater_invitations::table)
            .values((
                rater_invitations::token_hash.eq(token_hash),
                rater_invitations::rater_id.eq(rater_id.to_string()),
                rater_invitations::engagement_id.eq(engagement_id.to_string()),
                rater_invitations::organization_id.eq(engagement.organization_id.to_string()),
                rater_invitations::created_at.eq(to_db_time(now)),
                rater_invitations::expires_at.eq(to_db_time(expires)),
            ))
            .execute(conn)?;
        save_rater(conn, &next)?;
        outbox::enqueue(conn, &mail(&next, &engagement))?;
        audit_rater(conn, ctx, "rater.invited", &engagement, rater_id)?;
        events::append(conn, &DomainEvent::rater_invited(&engagement))?;
        Ok(next)
    })
}

/// Why a feedback link was refused (all answered alike, so a guesser learns nothing).
pub fn invalid_link() -> StoreError {
    DomainError::NotFound { resource: "feedback link" }.into()
}

/// Stores a rater's feedback through their link: once, before it expires, while the rater and
/// the engagement are still there.
pub fn submit_feedback(
    conn: &mut DbConnection,
    request_id: &str,
    token_hash: &str,
    feedback: &Feedback,
) -> Result<(), StoreError> {
    let now = to_db_time(time::now());
    write_transaction(conn, |conn| {
        let invitation: Option<(String, String)> = super::optional(
            rater_invitations::table
                .filter(rater_invitations::token_hash.eq(token_hash))
                .filter(rater_invitations::used_at.is_null())
                .filter(rater_invitations::expires_at.gt(now))
                .select((rater_invitations::rater_id, rater_invitations::engagement_id))
                .first(conn),
        )?;
        let Some((rater_id, engagement_id)) = invitation else { return Err(invalid_link()) };
        let engagement_id: uuid::Uuid = engagement_id.parse().map_err(|_| corrupt("engagement id", &engagement_id))?;
        let rater_id: uuid::Uuid = rater_id.parse().map_err(|_| corrupt("rater id", &rater_id))?;
        let engagement = engagements::get_for_update(conn, engagement_id)?;
        if engagement.phase.is_terminal() {
            return Err(invalid_link());
        }
        let current = rater(conn, engagement_id, rater_id).map_err(|_| invalid_link())?;
        if current.status == RaterStatus::FeedbackSubmitted {
            return Err(invalid_link());
        }
        diesel::update(rater_invitations::table.find(token_hash))
            .set(rater_invitations::used_at.eq(now))
            .execute(conn)?;
        diesel::insert_into(rater_feedback::table)
            .values((
                rater_feedback::rater_id.eq(rater_id.to_string()),
                rater_feedback::engagement_id.eq(engagement_id.to_string()),
                rater_feedback::organization_id.eq(engagement.organization_id.to_string()),
                rater_feedback::strengths.eq(&feedback.strengths),
                rater_feedback::development_areas.eq(&feedback.development_areas),
                rater_feedback::comments.eq(&feedback.comments),
                rater_feedback::submitted_at.eq(to_db_time(feedback.submitted_at)),
            ))
            .execute(conn)?;
        save_rater(conn, &current.with_status(RaterStatus::FeedbackSubmitted))?;
        let ctx = CommandContext { actor: Actor::Anonymous, request_id: request_id.to_owned() };
        audit_rater(conn, &ctx, "feedback.submitted", &engagement, rater_id)?;
        events::append(conn, &DomainEvent::feedback_submitted(&engagement))?;
        Ok(())
    })
}

// ---- themes ----

#[derive(Queryable, Selectable)]
#[diesel(table_name = themes)]
struct ThemeRow {
    id: String,
    engagement_id: String,
    kind: String,
    title: String,
    description: Option<String>,
    released_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

impl ThemeRow {
    fn into_domain(self) -> Result<Theme, StoreError> {
        Ok(Theme {
            id: self.id.parse().map_err(|_| corrupt("theme id", &self.id))?,
            engagement_id: self.engagement_id.parse().map_err(|_| corrupt("engagement id", &self.engagement_id))?,
            kind: self.kind.parse::<ThemeKind>().map_err(|_| corrupt("theme kind", &self.kind))?,
            title: self.title,
            description: self.description,
            released_at: self.released_at.map(from_db_time),
            created_at: from_db_time(self.created_at),
            updated_at: from_db_time(self.updated_at),
            version: self.version,
        })
    }
}

/// The engagement's themes; `released_only` for leader and sponsors.
pub fn themes(
    conn: &mut DbConnection,
    engagement_id: uuid::Uuid,
    released_only: bool,
) -> Result<Vec<Theme>, StoreError> {
    let mut query = themes::table
        .filter(themes::engagement_id.eq(engagement_id.to_string()))
        .filter(themes::deleted_at.is_null())
        .order(themes::id.asc())
        .select(ThemeRow::as_select())
        .into_boxed();
    if released_only {
        query = query.filter(themes::released_at.is_not_null());
    }
    query.load(conn)?.into_iter().map(ThemeRow::into_domain).collect()
}

fn theme(conn: &mut DbConnection, engagement_id: uuid::Uuid, theme_id: uuid::Uuid) -> Result<Theme, StoreError> {
    super::optional(
        themes::table
            .filter(themes::id.eq(theme_id.to_string()))
            .filter(themes::engagement_id.eq(engagement_id.to_string()))
            .filter(themes::deleted_at.is_null())
            .select(ThemeRow::as_select())
            .first(conn),
    )?
    .map(ThemeRow::into_domain)
    .transpose()?
    .ok_or_else(|| StoreError::not_found("theme"))
}

pub fn create_theme(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    engagement_id: uuid::Uuid,
    input: &ThemeChanges,
    authorize: Authorize<'_>,
) -> Result<Theme, StoreError> {
    write_transaction(conn, |conn| {
        let engagement = open_for_change(conn, engagement_id, authorize)?;
        let theme = Theme::create(engagement_id, input)?;
        diesel::insert_into(themes::table)
            .values((
                themes::id.eq(theme.id.to_string()),
                themes::engagement_id.eq(engagement_id.to_string()),
                themes::organization_id.eq(engagement.organization_id.to_string()),
                themes::kind.eq(theme.kind.as_str()),
                themes::title.eq(&theme.title),
                themes::description.eq(&theme.description),
                themes::created_at.eq(to_db_time(theme.created_at)),
                themes::updated_at.eq(to_db_time(theme.updated_at)),
                themes::version.eq(theme.version),
            ))
            .execute(conn)?;
        audit::append(
            conn,
            &AuditRecord::new(ctx, "theme.created", "theme", theme.id, Some(engagement.organization_id)),
        )?;
        Ok(theme)
    })
}

pub fn update_theme(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    engagement_id: uuid::Uuid,
    theme_id: uuid::Uuid,
    precondition: Option<&keel_domain::Precondition>,
    changes: &ThemeChanges,
    authorize: Authorize<'_>,
) -> Result<Theme, StoreError> {
    write_transaction(conn, |conn| {
        let engagement = open_for_change(conn, engagement_id, authorize)?;
        let current = theme(conn, engagement_id, theme_id)?;
        keel_domain::Precondition::check(precondition, current.version)?;
        let next = current.apply(changes)?;
        diesel::update(themes::table.find(theme_id.to_string()))
            .set((
                themes::kind.eq(next.kind.as_str()),
                themes::title.eq(&next.title),
                themes::description.eq(&next.description),
                themes::updated_at.eq(to_db_time(next.updated_at)),
                themes::version.eq(next.version),
            ))
            .execute(conn)?;
        audit::append(
            conn,
            &AuditRecord::new(ctx, "theme.updated", "theme", theme_id, Some(engagement.organization_id)),
        )?;
        Ok(next)
    })
}

pub fn delete_theme(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    engagement_id: uuid::Uuid,
    theme_id: uuid::Uuid,
    authorize: Authorize<'_>,
) -> Result<(), StoreError> {
    write_transaction(conn, |conn| {
        let engagement = open_for_change(conn, engagement_id, authorize)?;
        theme(conn, engagement_id, theme_id)?;
        diesel::update(themes::table.find(theme_id.to_string()))
            .set(themes::deleted_at.eq(to_db_time(time::now())))
            .execute(conn)?;
        audit::append(
            conn,
            &AuditRecord::new(ctx, "theme.deleted", "theme", theme_id, Some(engagement.organization_id)),
        )
    })
}

/// Releases every theme to the leader and sponsors, once enough stakeholders contributed.
pub fn release_themes(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    engagement_id: uuid::Uuid,
    authorize: Authorize<'_>,
) -> Result<Vec<Theme>, StoreError> {
    write_transaction(conn, |conn| {
        let engagement = open_for_change(conn, engagement_id, authorize)?;
        let organization = organizations::get(conn, engagement.organization_id)?;
        let all = themes(conn, engagement_id, false)?;
        check_release(contributions(conn, engagement_id)?, organization.settings.min_raters, all.len())?;
        diesel::update(
            themes::table
                .filter(themes::engagement_id.eq(engagement_id.to_string()))
                .filter(themes::deleted_at.is_null())
                .filter(themes::released_at.is_null()),
        )
        .set(themes::released_at.eq(to_db_time(time::now())))
        .execute(conn)?;
        audit::append(
            conn,
            &AuditRecord::new(ctx, "themes.released", "engagement", engagement_id, Some(engagement.organization_id)),
        )?;
        themes(conn, engagement_id, false)
    })
}
