//! Steps 4 and 5: design versions and decisions. Every change locks the engagement row, so
//! concurrent decisions queue: the last approval approves the design exactly once.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use keel_domain::audit::{AuditRecord, CommandContext};
use keel_domain::design::{
    ApproverRole, Decision, Design, DesignInput, DesignItem, DesignStatus, ItemKind, Known, Verdict, decide,
    decision_request_email, may_draft, missing_approvals,
};
use keel_domain::engagement::{Engagement, Phase};
use keel_domain::event::DomainEvent;
use keel_domain::outbox::Message;
use keel_domain::{DomainError, Precondition, UserId};
use serde_json::{Value, json};

use crate::connection::{DbConnection, write_transaction};
use crate::error::StoreError;
use crate::repo::program::Authorize;
use crate::repo::{audit, engagements, events, outbox, program, stakeholders, users};
use crate::rows::{corrupt, from_db_time, to_db_time};
use crate::schema::{design_decisions, designs};

pub(crate) fn items_json(items: &[DesignItem]) -> String {
    Value::Array(
        items
            .iter()
            .map(|i| json!({ "kind": i.kind.as_str(), "title": i.title, "description": i.description, "cadence": i.cadence }))
            .collect(),
    )
    .to_string()
}

fn parse_items(text: &str) -> Result<Vec<DesignItem>, StoreError> {
    let values: Vec<Value> = serde_json::from_str(text).map_err(|_| corrupt("design items", text))?;
    values
        .into_iter()
        .map(|v| {
            Ok(DesignItem {
                kind: v["kind"]
                    .as_str()
                    .and_then(|k| k.parse::<ItemKind>().ok())
                    .ok_or_else(|| corrupt("item kind", text))?,
                title: v["title"].as_str().unwrap_or_default().to_owned(),
                description: v["description"].as_str().map(str::to_owned),
                cadence: v["cadence"].as_str().map(str::to_owned),
            })
        })
        .collect()
}

pub(crate) fn ids_json(ids: &[uuid::Uuid]) -> String {
    serde_json::to_string(ids).expect("ids serialize")
}

fn parse_ids(text: &str) -> Result<Vec<uuid::Uuid>, StoreError> {
    serde_json::from_str(text).map_err(|_| corrupt("id list", text))
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = designs)]
struct DesignRow {
    engagement_id: String,
    version: i32,
    status: String,
    summary: String,
    theme_ids: String,
    outcome_ids: String,
    items: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    submitted_at: Option<NaiveDateTime>,
    revision: i64,
}

impl DesignRow {
    fn into_domain(self) -> Result<Design, StoreError> {
        Ok(Design {
            engagement_id: self.engagement_id.parse().map_err(|_| corrupt("engagement id", &self.engagement_id))?,
            version: self.version,
            status: self.status.parse::<DesignStatus>().map_err(|_| corrupt("design status", &self.status))?,
            summary: self.summary,
            theme_ids: parse_ids(&self.theme_ids)?,
            outcome_ids: parse_ids(&self.outcome_ids)?,
            items: parse_items(&self.items)?,
            created_at: from_db_time(self.created_at),
            updated_at: from_db_time(self.updated_at),
            submitted_at: self.submitted_at.map(from_db_time),
            revision: self.revision,
        })
    }
}

/// Every version, oldest first.
pub fn list(conn: &mut DbConnection, engagement_id: uuid::Uuid) -> Result<Vec<Design>, StoreError> {
    designs::table
        .filter(designs::engagement_id.eq(engagement_id.to_string()))
        .order(designs::version.asc())
        .select(DesignRow::as_select())
        .load(conn)?
        .into_iter()
        .map(DesignRow::into_domain)
        .collect()
}

pub fn get(conn: &mut DbConnection, engagement_id: uuid::Uuid, version: i32) -> Result<Design, StoreError> {
    super::optional(
        designs::table.find((engagement_id.to_string(), version)).select(DesignRow::as_select()).first(conn),
    )?
    .map(DesignRow::into_domain)
    .transpose()?
    .ok_or_else(|| StoreError::not_found("design version"))
}

/// Decisions of the engagement (all versions, or one), in order.
pub fn decisions(
    conn: &mut DbConnection,
    engagement_id: uuid::Uuid,
    version: Option<i32>,
) -> Result<Vec<Decision>, StoreError> {
    type Row = (String, i32, String, String, String, Option<String>, NaiveDateTime);
    let mut query = design_decisions::table
        .filter(design_decisions::engagement_id.eq(engagement_id.to_string()))
        .order(design_decisions::id.asc())
        .select((
            design_decisions::id,
            design_decisions::design_version,
            design_decisions::approver_id,
            design_decisions::role,
            design_decisions::verdict,
            design_decisions::comment,
            design_decisions::decided_at,
        ))
        .into_boxed();
    if let Some(version) = version {
        query = query.filter(design_decisions::design_version.eq(version));
    }
    let rows: Vec<Row> = query.load(conn)?;
    rows.into_iter()
        .map(|(id, design_version, approver, role, verdict, comment, decided_at)| {
            Ok(Decision {
                id: id.parse().map_err(|_| corrupt("decision id", &id))?,
                design_version,
                approver_id: approver.parse::<UserId>().map_err(|_| corrupt("approver id", &approver))?,
                role: if role == "leader" { ApproverRole::Leader } else { ApproverRole::Sponsor },
                verdict: verdict.parse::<Verdict>().map_err(|_| corrupt("verdict", &verdict))?,
                comment,
                decided_at: from_db_time(decided_at),
            })
        })
        .collect()
}

fn known(conn: &mut DbConnection, engagement_id: uuid::Uuid) -> Result<Known, StoreError> {
    Ok(Known {
        themes: stakeholders::themes(conn, engagement_id, false)?.into_iter().map(|t| t.id).collect(),
        outcomes: program::outcomes(conn, engagement_id)?.into_iter().map(|o| o.id).collect(),
    })
}

fn open_for_change(
    conn: &mut DbConnection,
    engagement_id: uuid::Uuid,
    authorize: Authorize<'_>,
) -> Result<Engagement, StoreError> {
    let engagement = engagements::get_for_update(conn, engagement_id)?;
    authorize(&engagement)?;
    if !matches!(engagement.phase, Phase::AssessmentDesign | Phase::SponsorReview | Phase::Coaching | Phase::MidReview)
    {
        return Err(DomainError::conflict(
            "design_not_in_this_phase",
            format!(
                "the program design is worked on from assessment_design on; the engagement is {}",
                engagement.phase
            ),
        )
        .into());
    }
    Ok(engagement)
}

fn insert(conn: &mut DbConnection, engagement: &Engagement, design: &Design) -> Result<(), StoreError> {
    diesel::insert_into(designs::table)
        .values((
            designs::engagement_id.eq(engagement.id.to_string()),
            designs::organization_id.eq(engagement.organization_id.to_string()),
            designs::version.eq(design.version),
            designs::status.eq(design.status.as_str()),
            designs::summary.eq(&design.summary),
            designs::theme_ids.eq(ids_json(&design.theme_ids)),
            designs::outcome_ids.eq(ids_json(&design.outcome_ids)),
            designs::items.eq(items_json(&design.items)),
            designs::created_at.eq(to_db_time(design.created_at)),
            designs::updated_at.eq(to_db_time(design.updated_at)),
            designs::submitted_at.eq(design.submitted_at.map(to_db_time)),
            designs::revision.eq(design.revision),
        ))
        .execute(conn)?;
    Ok(())
}

fn save(conn: &mut DbConnection, design: &Design) -> Result<(), StoreError> {
    diesel::update(designs::table.find((design.engagement_id.to_string(), design.version)))
        .set((
            designs::status.eq(design.status.as_str()),
            designs::summary.eq(&design.summary),
            designs::theme_ids.eq(ids_json(&design.theme_ids)),
            designs::outcome_ids.eq(ids_json(&design.outcome_ids)),
            designs::items.eq(items_json(&design.items)),
            designs::updated_at.eq(to_db_time(design.updated_at)),
            designs::submitted_at.eq(design.submitted_at.map(to_db_time)),
            designs::revision.eq(design.revision),
        ))
        .execute(conn)?;
    Ok(())
}

fn audit_design(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    action: &'static str,
    engagement: &Engagement,
    version: i32,
) -> Result<(), StoreError> {
    let record = AuditRecord::new(
        ctx,
        action,
        "design",
        format!("{}/v{version}", engagement.id),
        Some(engagement.organization_id),
    );
    audit::append(conn, &record)
}

/// Drafts the next version, from `copy_from` (a version number) if given.
pub fn create_draft(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    engagement_id: uuid::Uuid,
    copy_from: Option<i32>,
    input: &DesignInput,
    authorize: Authorize<'_>,
) -> Result<Design, StoreError> {
    write_transaction(conn, |conn| {
        let engagement = open_for_change(conn, engagement_id, authorize)?;
        let all = list(conn, engagement_id)?;
        may_draft(all.last())?;
        let base = match copy_from {
            Some(v) => Some(all.iter().find(|d| d.version == v).ok_or_else(|| {
                DomainError::Validation(keel_domain::ValidationErrors::single(
                    "copy_from",
                    "not_found",
                    "no such version",
                ))
            })?),
            None => None,
        };
        let number = all.last().map_or(1, |d| d.version + 1);
        let design = Design::draft(&engagement, number, base, input, &known(conn, engagement_id)?)?;
        insert(conn, &engagement, &design)?;
        audit_design(conn, ctx, "design.drafted", &engagement, number)?;
        Ok(design)
    })
}

pub fn update_draft(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    engagement_id: uuid::Uuid,
    version: i32,
    precondition: Option<&Precondition>,
    input: &DesignInput,
    authorize: Authorize<'_>,
) -> Result<Design, StoreError> {
    write_transaction(conn, |conn| {
        let engagement = open_for_change(conn, engagement_id, authorize)?;
        let current = get(conn, engagement_id, version)?;
        Precondition::check(precondition, current.revision)?;
        let next = current.edit(input, &known(conn, engagement_id)?)?;
        save(conn, &next)?;
        audit_design(conn, ctx, "design.updated", &engagement, version)?;
        Ok(next)
    })
}

/// Freezes a draft for review: the engagement moves to `sponsor_review` (from
/// `assessment_design`), and the leader and every sponsor are emailed.
pub fn submit(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    engagement_id: uuid::Uuid,
    version: i32,
    precondition: Option<&Precondition>,
    authorize: Authorize<'_>,
) -> Result<Design, StoreError> {
    write_transaction(conn, |conn| {
        let engagement = open_for_change(conn, engagement_id, authorize)?;
        let current = get(conn, engagement_id, version)?;
        Precondition::check(precondition, current.revision)?;
        let submitted = current.submit()?;
        save(conn, &submitted)?;
        audit_design(conn, ctx, "design.submitted", &engagement, version)?;
        events::append(conn, &DomainEvent::design_submitted(&engagement, version))?;
        if engagement.phase == Phase::AssessmentDesign {
            engagements::move_to(
                conn,
                ctx,
                &engagement,
                Phase::SponsorReview,
                &format!("design v{version} submitted"),
            )?;
        }
        for approver in std::iter::once(engagement.leader_id).chain(engagement.sponsor_ids.iter().copied()) {
            if let Some(user) = users::find(conn, approver)? {
                let email = decision_request_email(&user.name, user.email.as_str(), &engagement, version);
                outbox::enqueue(
                    conn,
                    &Message::Email {
                        organization_id: Some(engagement.organization_id),
                        engagement_id: Some(engagement.id),
                        email,
                    },
                )?;
            }
        }
        Ok(submitted)
    })
}

/// Records `approver`'s decision on `version`. The last approval approves the design; a request
/// for changes sends the engagement back to `assessment_design`.
#[allow(clippy::too_many_arguments)]
pub fn decide_on(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    engagement_id: uuid::Uuid,
    version: i32,
    approver: UserId,
    verdict: Verdict,
    comment: Option<&str>,
    authorize: Authorize<'_>,
) -> Result<(Design, Decision), StoreError> {
    write_transaction(conn, |conn| {
        let engagement = engagements::get_for_update(conn, engagement_id)?;
        authorize(&engagement)?;
        let design = get(conn, engagement_id, version)?;
        let so_far = decisions(conn, engagement_id, Some(version))?;
        let result = decide(&engagement, &design, &so_far, approver, verdict, comment)?;
        let d = &result.decision;
        diesel::insert_into(design_decisions::table)
            .values((
                design_decisions::id.eq(d.id.to_string()),
                design_decisions::engagement_id.eq(engagement_id.to_string()),
                design_decisions::organization_id.eq(engagement.organization_id.to_string()),
                design_decisions::design_version.eq(version),
                design_decisions::approver_id.eq(approver.to_string()),
                design_decisions::role.eq(d.role.as_str()),
                design_decisions::verdict.eq(d.verdict.as_str()),
                design_decisions::comment.eq(&d.comment),
                design_decisions::decided_at.eq(to_db_time(d.decided_at)),
            ))
            .execute(conn)?;
        audit_design(conn, ctx, "design.decided", &engagement, version)?;
        events::append(conn, &DomainEvent::design_decided(&engagement, version, d.role.as_str(), d.verdict.as_str()))?;
        let design = match result.design {
            Some(next) => {
                save(conn, &next)?;
                match next.status {
                    DesignStatus::Approved => {
                        events::append(conn, &DomainEvent::design_approved(&engagement, version))?
                    }
                    DesignStatus::ChangesRequested if engagement.phase == Phase::SponsorReview => {
                        engagements::move_to(
                            conn,
                            ctx,
                            &engagement,
                            Phase::AssessmentDesign,
                            &format!("changes requested on design v{version}"),
                        )?;
                    }
                    _ => {}
                }
                next
            }
            None => design,
        };
        Ok((design, result.decision))
    })
}

/// The design facts of the guards: the latest version under review or approved, and who still
/// has to approve it.
pub fn facts(conn: &mut DbConnection, engagement: &Engagement) -> Result<(bool, bool, usize), StoreError> {
    let latest = list(conn, engagement.id)?
        .into_iter()
        .rev()
        .find(|d| matches!(d.status, DesignStatus::Submitted | DesignStatus::Approved));
    let Some(design) = latest else { return Ok((false, false, engagement.sponsor_ids.len())) };
    let so_far = decisions(conn, engagement.id, Some(design.version))?;
    let (leader_missing, sponsors_missing) = missing_approvals(engagement, &so_far);
    Ok((true, !leader_missing, sponsors_missing))
}
