//! Coaching sessions (rows only; the commands, which lock the engagement row so that two sessions
//! completed at once are checked against the month's budget one after the other, are in
//! keel-commands).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use keel_domain::coaching::{Session, SessionContent, SessionFormat, SessionKind, SessionStatus};
use keel_domain::engagement::Engagement;
use keel_domain::{EngagementId, SessionId, UserId};

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::rows::{corrupt, from_db_time, to_db_time};
use crate::schema::sessions;

#[derive(Queryable, Selectable, Insertable, AsChangeset, serde::Deserialize)]
#[diesel(table_name = sessions, treat_none_as_null = true)]
pub(crate) struct SessionRow {
    id: String,
    engagement_id: String,
    organization_id: String,
    scheduled_at: NaiveDateTime,
    duration_minutes: i32,
    format: String,
    kind: String,
    status: String,
    agenda: Option<String>,
    check_in: Option<String>,
    progress_review: Option<String>,
    challenges: Option<String>,
    session_goals: Option<String>,
    action_plan: Option<String>,
    skill_building: Option<String>,
    reflection: Option<String>,
    next_steps: Option<String>,
    shared_summary: Option<String>,
    private_notes: Option<String>,
    notes_author: Option<String>,
    status_reason: Option<String>,
    completed_at: Option<NaiveDateTime>,
    sequence: i32,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
    plan_index: Option<i32>,
    plan_title: Option<String>,
    choice: Option<String>,
}

impl SessionRow {
    pub(crate) fn from_domain(s: &Session, organization_id: &str) -> SessionRow {
        let c = &s.content;
        SessionRow {
            id: s.id.to_string(),
            engagement_id: s.engagement_id.to_string(),
            organization_id: organization_id.to_owned(),
            scheduled_at: to_db_time(s.scheduled_at),
            duration_minutes: s.duration_minutes as i32,
            format: s.format.as_str().to_owned(),
            kind: s.kind.as_str().to_owned(),
            status: s.status.as_str().to_owned(),
            agenda: s.agenda.clone(),
            check_in: c.check_in.clone(),
            progress_review: c.progress_review.clone(),
            challenges: c.challenges.clone(),
            session_goals: c.session_goals.clone(),
            action_plan: c.action_plan.clone(),
            skill_building: c.skill_building.clone(),
            reflection: c.reflection.clone(),
            next_steps: c.next_steps.clone(),
            shared_summary: c.shared_summary.clone(),
            private_notes: c.private_notes.clone(),
            notes_author: s.notes_author.map(|u| u.to_string()),
            status_reason: s.status_reason.clone(),
            completed_at: s.completed_at.map(to_db_time),
            sequence: s.sequence,
            created_at: to_db_time(s.created_at),
            updated_at: to_db_time(s.updated_at),
            version: s.version,
            plan_index: s.plan_index.map(|i| i as i32),
            plan_title: s.plan_title.clone(),
            choice: s.choice.clone(),
        }
    }

    pub(crate) fn into_domain(self) -> Result<Session, StoreError> {
        Ok(Session {
            id: self.id.parse().map_err(|_| corrupt("session id", &self.id))?,
            engagement_id: self.engagement_id.parse().map_err(|_| corrupt("engagement id", &self.engagement_id))?,
            scheduled_at: from_db_time(self.scheduled_at),
            duration_minutes: u32::try_from(self.duration_minutes)
                .map_err(|_| corrupt("duration", &self.duration_minutes.to_string()))?,
            format: self.format.parse::<SessionFormat>().map_err(|_| corrupt("format", &self.format))?,
            kind: self.kind.parse::<SessionKind>().map_err(|_| corrupt("kind", &self.kind))?,
            status: self.status.parse::<SessionStatus>().map_err(|_| corrupt("status", &self.status))?,
            agenda: self.agenda,
            content: SessionContent {
                check_in: self.check_in,
                progress_review: self.progress_review,
                challenges: self.challenges,
                session_goals: self.session_goals,
                action_plan: self.action_plan,
                skill_building: self.skill_building,
                reflection: self.reflection,
                next_steps: self.next_steps,
                shared_summary: self.shared_summary,
                private_notes: self.private_notes,
            },
            notes_author: self
                .notes_author
                .as_deref()
                .map(|u| u.parse::<UserId>().map_err(|_| corrupt("notes author", u)))
                .transpose()?,
            status_reason: self.status_reason,
            plan_index: self
                .plan_index
                .map(|i| u32::try_from(i).map_err(|_| corrupt("plan index", &i.to_string())))
                .transpose()?,
            plan_title: self.plan_title,
            choice: self.choice,
            completed_at: self.completed_at.map(from_db_time),
            sequence: self.sequence,
            created_at: from_db_time(self.created_at),
            updated_at: from_db_time(self.updated_at),
            version: self.version,
        })
    }
}

/// The engagement's sessions in time order.
pub fn list(conn: &mut DbConnection, engagement_id: EngagementId) -> Result<Vec<Session>, StoreError> {
    sessions::table
        .filter(sessions::engagement_id.eq(engagement_id.to_string()))
        .order((sessions::scheduled_at.asc(), sessions::id.asc()))
        .select(SessionRow::as_select())
        .load(conn)?
        .into_iter()
        .map(SessionRow::into_domain)
        .collect()
}

pub fn get(conn: &mut DbConnection, engagement_id: EngagementId, session_id: SessionId) -> Result<Session, StoreError> {
    super::optional(
        sessions::table
            .filter(sessions::id.eq(session_id.to_string()))
            .filter(sessions::engagement_id.eq(engagement_id.to_string()))
            .select(SessionRow::as_select())
            .first(conn),
    )?
    .map(SessionRow::into_domain)
    .transpose()?
    .ok_or_else(|| StoreError::not_found("session"))
}

pub fn insert(conn: &mut DbConnection, engagement: &Engagement, session: &Session) -> Result<(), StoreError> {
    diesel::insert_into(sessions::table)
        .values(SessionRow::from_domain(session, &engagement.organization_id.to_string()))
        .execute(conn)?;
    Ok(())
}

pub fn save(conn: &mut DbConnection, engagement: &Engagement, session: &Session) -> Result<(), StoreError> {
    diesel::update(sessions::table.find(session.id.to_string()))
        .set(SessionRow::from_domain(session, &engagement.organization_id.to_string()))
        .execute(conn)?;
    Ok(())
}
