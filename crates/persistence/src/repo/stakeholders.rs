//! Step 3: raters, their interviews and feedback, invitation links, and themes (rows only; the
//! commands are in keel-commands).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use keel_domain::engagement::Engagement;
use keel_domain::stakeholders::{
    Feedback, Invitation, Rater, RaterInterview, RaterStatus, Relationship, Theme, ThemeKind,
};
use keel_domain::time::{self, Timestamp};
use keel_domain::user::Email;
use keel_domain::{EngagementId, RaterId, ThemeId};

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::rows::{corrupt, from_db_time, to_db_time};
use crate::schema::{rater_feedback, rater_interviews, rater_invitations, raters, themes};

// ---- raters ----

#[derive(Queryable, Selectable, serde::Deserialize)]
#[diesel(table_name = raters)]
pub(crate) struct RaterRow {
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
    pub(crate) fn into_domain(self) -> Result<Rater, StoreError> {
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

pub fn raters(conn: &mut DbConnection, engagement_id: EngagementId) -> Result<Vec<Rater>, StoreError> {
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

pub fn rater(conn: &mut DbConnection, engagement_id: EngagementId, rater_id: RaterId) -> Result<Rater, StoreError> {
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
pub fn contributions(conn: &mut DbConnection, engagement_id: EngagementId) -> Result<u32, StoreError> {
    let count: i64 = raters::table
        .filter(raters::engagement_id.eq(engagement_id.to_string()))
        .filter(raters::deleted_at.is_null())
        .filter(raters::status.eq_any([RaterStatus::Interviewed.as_str(), RaterStatus::FeedbackSubmitted.as_str()]))
        .count()
        .get_result(conn)?;
    Ok(u32::try_from(count).unwrap_or(u32::MAX))
}

/// Writes a rater's fields, status and version.
pub fn save_rater(conn: &mut DbConnection, rater: &Rater) -> Result<(), StoreError> {
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

/// Inserts a rater of the engagement (inside the caller's transaction).
pub fn insert_rater(conn: &mut DbConnection, engagement: &Engagement, rater: &Rater) -> Result<(), StoreError> {
    diesel::insert_into(raters::table)
        .values((
            raters::id.eq(rater.id.to_string()),
            raters::engagement_id.eq(engagement.id.to_string()),
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
    Ok(())
}

/// Marks a rater removed (kept for history).
pub fn remove_rater(conn: &mut DbConnection, rater_id: RaterId) -> Result<(), StoreError> {
    diesel::update(raters::table.find(rater_id.to_string()))
        .set(raters::deleted_at.eq(to_db_time(time::now())))
        .execute(conn)?;
    Ok(())
}

/// The interview and the feedback of a rater, if any.
pub fn rater_contribution(
    conn: &mut DbConnection,
    rater_id: RaterId,
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

/// Writes the coach's interview with a rater: inserted when `new`, else replaced.
pub fn save_interview(
    conn: &mut DbConnection,
    engagement: &Engagement,
    rater_id: RaterId,
    interview: &RaterInterview,
    new: bool,
) -> Result<(), StoreError> {
    let recorded_at = to_db_time(time::now());
    if new {
        diesel::insert_into(rater_interviews::table)
            .values((
                rater_interviews::rater_id.eq(rater_id.to_string()),
                rater_interviews::engagement_id.eq(engagement.id.to_string()),
                rater_interviews::organization_id.eq(engagement.organization_id.to_string()),
                rater_interviews::interviewed_on.eq(interview.interviewed_on),
                rater_interviews::notes.eq(&interview.notes),
                rater_interviews::recorded_at.eq(recorded_at),
            ))
            .execute(conn)?;
    } else {
        diesel::update(rater_interviews::table.find(rater_id.to_string()))
            .set((
                rater_interviews::interviewed_on.eq(interview.interviewed_on),
                rater_interviews::notes.eq(&interview.notes),
                rater_interviews::recorded_at.eq(recorded_at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

// ---- invitations and feedback ----

/// Stores a feedback link's hash (the code itself is never stored), valid until `expires_at`.
pub fn insert_invitation(
    conn: &mut DbConnection,
    engagement: &Engagement,
    rater_id: RaterId,
    token_hash: &str,
    created_at: Timestamp,
    expires_at: Timestamp,
) -> Result<(), StoreError> {
    diesel::insert_into(rater_invitations::table)
        .values((
            rater_invitations::token_hash.eq(token_hash),
            rater_invitations::rater_id.eq(rater_id.to_string()),
            rater_invitations::engagement_id.eq(engagement.id.to_string()),
            rater_invitations::organization_id.eq(engagement.organization_id.to_string()),
            rater_invitations::created_at.eq(to_db_time(created_at)),
            rater_invitations::expires_at.eq(to_db_time(expires_at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// The invitation whose link has this hash, used or expired or not.
pub fn find_invitation(conn: &mut DbConnection, token_hash: &str) -> Result<Option<Invitation>, StoreError> {
    let row: Option<(String, String, NaiveDateTime, Option<NaiveDateTime>)> = super::optional(
        rater_invitations::table
            .find(token_hash)
            .select((
                rater_invitations::rater_id,
                rater_invitations::engagement_id,
                rater_invitations::expires_at,
                rater_invitations::used_at,
            ))
            .first(conn),
    )?;
    row.map(|(rater_id, engagement_id, expires_at, used_at)| {
        Ok(Invitation {
            rater_id: rater_id.parse().map_err(|_| corrupt("rater id", &rater_id))?,
            engagement_id: engagement_id.parse().map_err(|_| corrupt("engagement id", &engagement_id))?,
            expires_at: from_db_time(expires_at),
            used_at: used_at.map(from_db_time),
        })
    })
    .transpose()
}

/// When each rater's latest invitation of the engagement runs out (raters never invited are
/// absent), in one statement.
pub fn invitation_expiries(
    conn: &mut DbConnection,
    engagement_id: EngagementId,
) -> Result<Vec<(RaterId, Timestamp)>, StoreError> {
    let rows: Vec<(String, Option<NaiveDateTime>)> = rater_invitations::table
        .filter(rater_invitations::engagement_id.eq(engagement_id.to_string()))
        .group_by(rater_invitations::rater_id)
        .select((rater_invitations::rater_id, diesel::dsl::max(rater_invitations::expires_at)))
        .load(conn)?;
    rows.into_iter()
        .filter_map(|(rater, expires)| expires.map(|at| (rater, at)))
        .map(|(rater, at)| Ok((rater.parse().map_err(|_| corrupt("rater id", &rater))?, from_db_time(at))))
        .collect()
}

/// Marks the feedback link with this hash used (at `now`): it works once.
pub fn use_invitation(conn: &mut DbConnection, token_hash: &str, now: Timestamp) -> Result<(), StoreError> {
    diesel::update(rater_invitations::table.find(token_hash))
        .set(rater_invitations::used_at.eq(to_db_time(now)))
        .execute(conn)?;
    Ok(())
}

/// Inserts a rater's written feedback.
pub fn insert_feedback(
    conn: &mut DbConnection,
    engagement: &Engagement,
    rater_id: RaterId,
    feedback: &Feedback,
) -> Result<(), StoreError> {
    diesel::insert_into(rater_feedback::table)
        .values((
            rater_feedback::rater_id.eq(rater_id.to_string()),
            rater_feedback::engagement_id.eq(engagement.id.to_string()),
            rater_feedback::organization_id.eq(engagement.organization_id.to_string()),
            rater_feedback::strengths.eq(&feedback.strengths),
            rater_feedback::development_areas.eq(&feedback.development_areas),
            rater_feedback::comments.eq(&feedback.comments),
            rater_feedback::submitted_at.eq(to_db_time(feedback.submitted_at)),
        ))
        .execute(conn)?;
    Ok(())
}

// ---- themes ----

#[derive(Queryable, Selectable, serde::Deserialize)]
#[diesel(table_name = themes)]
pub(crate) struct ThemeRow {
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
    pub(crate) fn into_domain(self) -> Result<Theme, StoreError> {
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
    engagement_id: EngagementId,
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

/// A theme of the engagement that has not been deleted.
pub fn theme(conn: &mut DbConnection, engagement_id: EngagementId, theme_id: ThemeId) -> Result<Theme, StoreError> {
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

/// Inserts a theme of the engagement (inside the caller's transaction).
pub fn insert_theme(conn: &mut DbConnection, engagement: &Engagement, theme: &Theme) -> Result<(), StoreError> {
    diesel::insert_into(themes::table)
        .values((
            themes::id.eq(theme.id.to_string()),
            themes::engagement_id.eq(engagement.id.to_string()),
            themes::organization_id.eq(engagement.organization_id.to_string()),
            themes::kind.eq(theme.kind.as_str()),
            themes::title.eq(&theme.title),
            themes::description.eq(&theme.description),
            themes::created_at.eq(to_db_time(theme.created_at)),
            themes::updated_at.eq(to_db_time(theme.updated_at)),
            themes::version.eq(theme.version),
        ))
        .execute(conn)?;
    Ok(())
}

/// Writes a theme's fields and version.
pub fn save_theme(conn: &mut DbConnection, theme: &Theme) -> Result<(), StoreError> {
    diesel::update(themes::table.find(theme.id.to_string()))
        .set((
            themes::kind.eq(theme.kind.as_str()),
            themes::title.eq(&theme.title),
            themes::description.eq(&theme.description),
            themes::updated_at.eq(to_db_time(theme.updated_at)),
            themes::version.eq(theme.version),
        ))
        .execute(conn)?;
    Ok(())
}

/// Marks a theme deleted.
pub fn remove_theme(conn: &mut DbConnection, theme_id: ThemeId) -> Result<(), StoreError> {
    diesel::update(themes::table.find(theme_id.to_string()))
        .set(themes::deleted_at.eq(to_db_time(time::now())))
        .execute(conn)?;
    Ok(())
}

/// Marks every theme of the engagement not yet released released now.
pub fn release_themes(conn: &mut DbConnection, engagement_id: EngagementId) -> Result<(), StoreError> {
    diesel::update(
        themes::table
            .filter(themes::engagement_id.eq(engagement_id.to_string()))
            .filter(themes::deleted_at.is_null())
            .filter(themes::released_at.is_null()),
    )
    .set(themes::released_at.eq(to_db_time(time::now())))
    .execute(conn)?;
    Ok(())
}
