//! Bulk loading of realistic data (`keel seed`), for benchmarks, demos and capacity tests.
//!
//! Every engagement is consistent with its phase, as if it had walked the eight steps through the
//! API: an engagement in coaching has its context meeting, outcomes, leader interview, an approved
//! design with the leader's and every sponsor's approval, its transitions, and sessions — completed
//! (with content and private notes) before today, scheduled after it, within a monthly hours
//! budget that covers them — with action items from its sessions. Earlier phases hold only what
//! those steps have produced so far. Rows are written with multi-row `INSERT`s of up to
//! [`ROWS_PER_STATEMENT`] rows, inside one transaction: a failed seed leaves nothing behind.
//!
//! Seeded data is not audited and raises no events or webhooks: it stands for history that
//! happened before this instance, not for actions taken on it.

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc};
use diesel::prelude::*;
use keel_domain::coaching::{
    ActionItem, ActionItemStatus, Session, SessionContent, SessionFormat, SessionKind, SessionStatus,
};
use keel_domain::design::{ApproverRole, DesignItem, DesignStatus, ItemKind, Verdict};
use keel_domain::engagement::Phase;
use keel_domain::program::Outcome;
use keel_domain::time::Timestamp;
use keel_domain::{ActionItemId, EngagementId, OutcomeId, SessionId, ThemeId};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::connection::{DbConnection, write_transaction};
use crate::error::StoreError;
use crate::repo::action_items::Row as ActionItemRow;
use crate::repo::designs::{ids_json, items_json};
use crate::repo::program::{NewOutcomeRow, json_list};
use crate::repo::sessions::SessionRow;
use crate::rows::{EngagementRow, OrganizationRow, UserRow, sponsor_list};
use crate::schema::{
    context_meetings, design_decisions, designs, engagement_sponsors, engagement_transitions, leader_interviews,
    outcomes,
};
use keel_domain::organization::OrganizationSettings;

/// Rows per `INSERT`: 1,000 rows of the widest table (sessions, 29 columns) stay under SQLite's
/// 32,766 and PostgreSQL's 65,535 bind parameters.
pub const ROWS_PER_STATEMENT: usize = 1000;

/// Engagements generated and written together (with all their rows).
const BLOCK: usize = 250;

/// What to generate.
#[derive(Clone, Debug)]
pub struct SeedPlan {
    pub organizations: u32,
    /// Engagements in all, spread evenly over the organizations.
    pub engagements: u32,
    /// Sessions per engagement on average over all engagements. Engagements that have not reached
    /// coaching have none, so those that have carry proportionally more.
    pub sessions_per_engagement: u32,
    /// Seeds the random choices (names, dates, phases' details); ids are always new.
    pub random_seed: u64,
}

/// What was written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub organizations: u64,
    pub users: u64,
    pub engagements: u64,
    pub sessions: u64,
    pub action_items: u64,
    pub outcomes: u64,
    pub designs: u64,
    pub decisions: u64,
    pub transitions: u64,
}

/// Out of every 20 engagements, how many are in each phase (a realistic portfolio: most programs
/// are coaching; the steps before it take weeks of a program of months).
const PORTFOLIO: [Phase; 20] = [
    Phase::Context,
    Phase::Coaching,
    Phase::LeaderInterview,
    Phase::Coaching,
    Phase::Completed,
    Phase::StakeholderInterviews,
    Phase::Coaching,
    Phase::AssessmentDesign,
    Phase::MidReview,
    Phase::Coaching,
    Phase::SponsorReview,
    Phase::Completed,
    Phase::Coaching,
    Phase::EndReview,
    Phase::Renewed,
    Phase::Coaching,
    Phase::OnHold,
    Phase::Completed,
    Phase::Coaching,
    Phase::Cancelled,
];

/// The path through the program up to `phase` (on hold and cancelled: from coaching / context).
fn path_to(phase: Phase) -> Vec<Phase> {
    const STEPS: [Phase; 9] = [
        Phase::Context,
        Phase::LeaderInterview,
        Phase::StakeholderInterviews,
        Phase::AssessmentDesign,
        Phase::SponsorReview,
        Phase::Coaching,
        Phase::MidReview,
        Phase::Coaching,
        Phase::EndReview,
    ];
    let upto = |n: usize| STEPS[..n].to_vec();
    match phase {
        Phase::Context => upto(1),
        Phase::LeaderInterview => upto(2),
        Phase::StakeholderInterviews => upto(3),
        Phase::AssessmentDesign => upto(4),
        Phase::SponsorReview => upto(5),
        Phase::Coaching => upto(6),
        Phase::MidReview => upto(7),
        Phase::EndReview => upto(9),
        Phase::Completed | Phase::Renewed => [upto(9), vec![phase]].concat(),
        Phase::OnHold => [upto(6), vec![Phase::OnHold]].concat(),
        Phase::Cancelled => vec![Phase::Context, Phase::LeaderInterview, Phase::Cancelled],
    }
}

/// Has an engagement in `phase` come to `step` of the program (on hold and cancelled ones: before
/// they stopped)?
fn reached(phase: Phase, step: Phase) -> bool {
    path_to(phase).iter().any(|p| *p >= step && *p <= Phase::Renewed)
}

/// How far through its planned span an engagement in `phase` is (a range of fractions).
fn progress(phase: Phase) -> (f64, f64) {
    match phase {
        Phase::Context => (0.0, 0.03),
        Phase::LeaderInterview => (0.03, 0.06),
        Phase::StakeholderInterviews => (0.06, 0.1),
        Phase::AssessmentDesign => (0.1, 0.13),
        Phase::SponsorReview => (0.13, 0.16),
        Phase::Coaching => (0.2, 0.9),
        Phase::MidReview => (0.48, 0.55),
        Phase::EndReview => (0.97, 1.02),
        Phase::Completed | Phase::Renewed => (1.05, 2.0),
        Phase::OnHold => (0.3, 0.7),
        Phase::Cancelled => (0.04, 0.08),
    }
}

const FIRST_NAMES: [&str; 24] = [
    "Ada", "Amara", "Ben", "Camille", "Chen", "Diego", "Elena", "Farah", "Grace", "Hiro", "Ines", "Jonas", "Kwame",
    "Lena", "Mateo", "Nadia", "Omar", "Priya", "Rafael", "Sofia", "Tomas", "Uma", "Yusuf", "Zoe",
];
const LAST_NAMES: [&str; 24] = [
    "Adeyemi", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito", "Jensen", "Kowalski",
    "Laurent", "Moreau", "Nakamura", "Okafor", "Petrov", "Quinn", "Rossi", "Silva", "Tanaka", "Ueda", "Varga", "Weber",
    "Yilmaz",
];
const COMPANIES: [&str; 12] = [
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Tailspin",
    "Wingtip",
    "Litware",
    "Proseware",
    "Adventure Works",
    "Alpine Ski House",
    "Coho Vineyard",
    "Lucerne Publishing",
    "Margie's Travel",
];
const FOCUS: [&str; 10] = [
    "Leading through change",
    "Executive presence",
    "Delegation and trust",
    "Stakeholder influence",
    "Strategic thinking",
    "Difficult conversations",
    "Building a leadership team",
    "From expert to leader",
    "Cross-functional alignment",
    "Sustainable performance",
];
const OUTCOMES: [(&str, &str, &str, &str); 6] = [
    ("Delegates decisions to direct reports", "share of decisions taken by the team", "30", "70"),
    ("Runs focused leadership meetings", "meetings rated useful by attendees", "45", "80"),
    ("Gives timely feedback", "feedback conversations per month", "2", "8"),
    ("Keeps commitments to peers", "commitments kept on time", "60", "90"),
    ("Raises engagement in the team", "engagement survey score", "62", "75"),
    ("Speaks up in executive forums", "contributions per steering meeting", "1", "4"),
];

fn person(rng: &mut StdRng) -> String {
    format!(
        "{} {}",
        FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())],
        LAST_NAMES[rng.random_range(0..LAST_NAMES.len())]
    )
}

/// A UUIDv7 stamped with `at`, so that ids sort in creation order as the API's own do.
fn id_at(at: NaiveDateTime, rng: &mut StdRng) -> uuid::Uuid {
    let ms = u64::try_from(at.and_utc().timestamp_millis()).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(ms, &rng.random::<[u8; 10]>()).into_uuid()
}

fn stamp(t: NaiveDateTime) -> Timestamp {
    Utc.from_utc_datetime(&t)
}

fn at(date: NaiveDate, hour: u32, rng: &mut StdRng) -> NaiveDateTime {
    date.and_time(NaiveTime::from_hms_opt(hour, [0, 15, 30, 45][rng.random_range(0..4)], 0).expect("valid time"))
}

/// A batch of rows of one table, written with as few statements as the bind limits allow.
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr) => {{
        let rows = $rows;
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            match &mut *$conn {
                DbConnection::Postgresql(c) => diesel::insert_into($table).values(chunk).execute(c)?,
                DbConnection::Sqlite(c) => diesel::insert_into($table).values(chunk).execute(c)?,
            };
        }
        rows.len() as u64
    }};
}

#[derive(Insertable)]
#[diesel(table_name = engagement_sponsors)]
struct SponsorRow {
    engagement_id: String,
    user_id: String,
    organization_id: String,
}

#[derive(Insertable)]
#[diesel(table_name = engagement_transitions, treat_none_as_null = true)]
struct TransitionRow {
    id: String,
    engagement_id: String,
    organization_id: String,
    from_phase: Option<String>,
    to_phase: String,
    reason: Option<String>,
    actor_kind: String,
    actor_id: Option<String>,
    occurred_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = context_meetings)]
struct ContextRow {
    engagement_id: String,
    organization_id: String,
    met_on: NaiveDate,
    attendees: String,
    notes: String,
    benchmarks: String,
    updated_at: NaiveDateTime,
    version: i64,
}

#[derive(Insertable)]
#[diesel(table_name = leader_interviews, treat_none_as_null = true)]
struct InterviewRow {
    engagement_id: String,
    organization_id: String,
    interviewed_on: NaiveDate,
    commitments: Option<String>,
    immediate_concerns: Option<String>,
    common_breakdowns: Option<String>,
    behaviours: Option<String>,
    communication_style: Option<String>,
    promise_pattern: Option<String>,
    notes: Option<String>,
    updated_at: NaiveDateTime,
    version: i64,
}

#[derive(Insertable)]
#[diesel(table_name = designs, treat_none_as_null = true)]
struct DesignRow {
    engagement_id: String,
    organization_id: String,
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

#[derive(Insertable)]
#[diesel(table_name = design_decisions, treat_none_as_null = true)]
struct DecisionRow {
    id: String,
    engagement_id: String,
    organization_id: String,
    design_version: i32,
    approver_id: String,
    role: String,
    verdict: String,
    comment: Option<String>,
    decided_at: NaiveDateTime,
}

/// The rows of a block of engagements, written together.
#[derive(Default)]
struct Block {
    engagements: Vec<EngagementRow>,
    sponsors: Vec<SponsorRow>,
    transitions: Vec<TransitionRow>,
    contexts: Vec<ContextRow>,
    outcomes: Vec<NewOutcomeRow>,
    interviews: Vec<InterviewRow>,
    designs: Vec<DesignRow>,
    decisions: Vec<DecisionRow>,
    sessions: Vec<SessionRow>,
    action_items: Vec<ActionItemRow>,
}

impl Block {
    fn write(&mut self, conn: &mut DbConnection, report: &mut SeedReport) -> Result<(), StoreError> {
        let block = std::mem::take(self);
        report.engagements += insert_rows!(conn, crate::schema::engagements::table, &block.engagements);
        insert_rows!(conn, engagement_sponsors::table, &block.sponsors);
        report.transitions += insert_rows!(conn, engagement_transitions::table, &block.transitions);
        insert_rows!(conn, context_meetings::table, &block.contexts);
        report.outcomes += insert_rows!(conn, outcomes::table, &block.outcomes);
        insert_rows!(conn, leader_interviews::table, &block.interviews);
        report.designs += insert_rows!(conn, designs::table, &block.designs);
        report.decisions += insert_rows!(conn, design_decisions::table, &block.decisions);
        report.sessions += insert_rows!(conn, crate::schema::sessions::table, &block.sessions);
        report.action_items += insert_rows!(conn, crate::schema::action_items::table, &block.action_items);
        Ok(())
    }
}

/// The people of one organization.
struct Staff {
    organization_id: String,
    hr_partner: String,
    sponsors: Vec<String>,
    leaders: Vec<String>,
}

struct Generator {
    rng: StdRng,
    today: NaiveDate,
    now: NaiveDateTime,
    /// Sessions for an engagement that has reached coaching.
    sessions_each: u32,
}

/// Fills the database; `progress` is told how many engagements have been written so far.
pub fn seed(conn: &mut DbConnection, plan: &SeedPlan, progress: &mut dyn FnMut(u64)) -> Result<SeedReport, StoreError> {
    if plan.organizations == 0 || plan.engagements < plan.organizations {
        return Err(StoreError::Config(
            "seed needs at least one organization and one engagement per organization".to_owned(),
        ));
    }
    let with_sessions = PORTFOLIO.iter().filter(|p| reached(**p, Phase::Coaching) && **p != Phase::Cancelled).count();
    let now = keel_domain::time::now().naive_utc();
    let mut generator = Generator {
        rng: StdRng::seed_from_u64(plan.random_seed),
        today: now.date(),
        now,
        sessions_each: (u64::from(plan.sessions_per_engagement) * PORTFOLIO.len() as u64)
            .div_ceil(with_sessions as u64)
            .try_into()
            .unwrap_or(u32::MAX),
    };
    write_transaction(conn, |conn| {
        let mut report = SeedReport::default();
        // A tag keeps e-mail addresses unique when the database is seeded more than once.
        let tag: String = format!("{:06x}", generator.rng.random_range(0..0x100_0000u32));
        let coaches = generator.coaches(conn, plan, &tag, &mut report)?;
        let mut done = 0u64;
        for org in 0..plan.organizations {
            let count = plan.engagements / plan.organizations + u32::from(org < plan.engagements % plan.organizations);
            let staff = generator.organization(conn, org, count, &tag, &mut report)?;
            let mut block = Block::default();
            for n in 0..count {
                let coach = &coaches[generator.rng.random_range(0..coaches.len())];
                let phase = PORTFOLIO[(n as usize + org as usize) % PORTFOLIO.len()];
                generator.engagement(&mut block, &staff, n as usize, coach, phase);
                if block.engagements.len() == BLOCK {
                    block.write(conn, &mut report)?;
                    done += BLOCK as u64;
                    progress(done);
                }
            }
            done += block.engagements.len() as u64;
            block.write(conn, &mut report)?;
            progress(done);
        }
        Ok(report)
    })
}

impl Generator {
    fn user(
        &mut self,
        organization_id: Option<&str>,
        email: String,
        role: Option<&str>,
        created_at: NaiveDateTime,
    ) -> UserRow {
        let name = person(&mut self.rng);
        UserRow {
            id: id_at(created_at, &mut self.rng).to_string(),
            organization_id: organization_id.map(str::to_owned),
            email_normalized: email.to_lowercase(),
            email,
            name,
            role_admin: 0,
            role_hr_partner: i32::from(role == Some("hr_partner")),
            role_coach: i32::from(role == Some("coach")),
            status: "active".to_owned(),
            external_id: None,
            created_at,
            updated_at: created_at,
            version: 1,
            sign_in_hold_until: None,
        }
    }

    /// The coaching provider's coaches (no organization), one for about every 20 engagements.
    fn coaches(
        &mut self,
        conn: &mut DbConnection,
        plan: &SeedPlan,
        tag: &str,
        report: &mut SeedReport,
    ) -> Result<Vec<String>, StoreError> {
        let created = self.now - Duration::days(800);
        let rows: Vec<UserRow> = (0..plan.engagements.div_ceil(20))
            .map(|n| self.user(None, format!("coach{n}@coaches-{tag}.example.com"), Some("coach"), created))
            .collect();
        report.users += insert_rows!(conn, crate::schema::users::table, &rows);
        Ok(rows.into_iter().map(|u| u.id).collect())
    }

    /// An organization with its HR partner, a sponsor for about every 8 engagements and a leader
    /// for each.
    fn organization(
        &mut self,
        conn: &mut DbConnection,
        n: u32,
        engagements: u32,
        tag: &str,
        report: &mut SeedReport,
    ) -> Result<Staff, StoreError> {
        let created = self.now - Duration::days(760);
        let company = COMPANIES[n as usize % COMPANIES.len()];
        let name = if n as usize >= COMPANIES.len() {
            format!("{company} {}", n as usize / COMPANIES.len() + 1)
        } else {
            company.to_owned()
        };
        let row = OrganizationRow {
            allow_contract_overdraft: 0,
            id: id_at(created, &mut self.rng).to_string(),
            name,
            min_raters: 3,
            default_monthly_hours_budget: 4.0,
            no_show_counts: 1,
            created_at: created,
            updated_at: created,
            version: 1,
            email_change_hold_hours: 72,
            stuck_after_days: crate::rows::stuck_json(&OrganizationSettings::default().stuck_after_days),
        };
        report.organizations += insert_rows!(conn, crate::schema::organizations::table, std::slice::from_ref(&row));
        let domain = format!("org{n}-{tag}.example.com");
        let org = Some(row.id.as_str());
        let mut users = vec![self.user(org, format!("hr@{domain}"), Some("hr_partner"), created)];
        users.extend(
            (0..engagements.div_ceil(8)).map(|i| self.user(org, format!("sponsor{i}@{domain}"), None, created)),
        );
        users.extend((0..engagements).map(|i| self.user(org, format!("leader{i}@{domain}"), None, created)));
        report.users += insert_rows!(conn, crate::schema::users::table, &users);
        let mut ids = users.into_iter().map(|u| u.id);
        let hr_partner = ids.next().expect("the HR partner");
        let sponsors: Vec<String> = ids.by_ref().take(engagements.div_ceil(8) as usize).collect();
        Ok(Staff { organization_id: row.id, hr_partner, sponsors, leaders: ids.collect() })
    }

    fn engagement(&mut self, block: &mut Block, staff: &Staff, n: usize, coach: &str, phase: Phase) {
        let rng = &mut self.rng;
        let months = rng.random_range(6..=12u32);
        let span_days = i64::from(months) * 30;
        let (lo, hi) = progress(phase);
        let elapsed = (span_days as f64 * rng.random_range(lo..=hi)) as i64;
        let start = self.today - Duration::days(elapsed);
        let end = start.checked_add_months(chrono::Months::new(months)).expect("date in range");
        let created = at(start - Duration::days(rng.random_range(3..20)), 9, rng);
        let org = staff.organization_id.clone();
        let leader = staff.leaders[n].clone();
        let mut sponsors = BTreeSet::from([staff.sponsors[n / 8].clone()]);
        if n.is_multiple_of(5) && staff.sponsors.len() > 1 {
            sponsors.insert(staff.sponsors[(n / 8 + 1) % staff.sponsors.len()].clone());
        }
        let engagement_id = EngagementId(id_at(created, rng));
        let eid = engagement_id.to_string();
        let path = path_to(phase);
        let coaching_start = start + Duration::days(42);
        let coaching_end = end - Duration::days(7);

        // Sessions come first: they decide the budget.
        let has_sessions = reached(phase, Phase::Coaching);
        let session_count = if has_sessions { self.sessions_each } else { 0 };
        let window = (coaching_end - coaching_start).num_minutes().max(1);
        let mut minutes_by_month: std::collections::BTreeMap<(i32, u32), i64> = Default::default();
        let coach_uuid: keel_domain::UserId = coach.parse().expect("generated id");
        let ended = matches!(phase, Phase::Completed | Phase::Renewed);
        for k in 0..session_count {
            let offset = window * i64::from(k) / i64::from(session_count.max(1));
            let day = (coaching_start.and_time(NaiveTime::MIN) + Duration::minutes(offset)).date();
            let scheduled = at(day, rng.random_range(8..17), rng);
            let kind = if k % 5 == 4 { SessionKind::Micro } else { SessionKind::Regular };
            let planned: u32 = if kind == SessionKind::Micro { 15 } else { 60 };
            let past = scheduled < self.now || ended;
            let on_hold_after = phase == Phase::OnHold && !past;
            let roll = rng.random_range(0..100);
            let status = if on_hold_after {
                SessionStatus::Cancelled
            } else if !past {
                SessionStatus::Scheduled
            } else if roll < 4 {
                SessionStatus::Cancelled
            } else if roll < 7 {
                SessionStatus::NoShow
            } else {
                SessionStatus::Completed
            };
            let booked = scheduled - Duration::days(rng.random_range(7..21));
            let booked = booked.max(created).min(self.now);
            let done_at = scheduled + Duration::minutes(i64::from(planned));
            let completed = status == SessionStatus::Completed;
            let counted = completed || (status == SessionStatus::NoShow);
            if counted || status == SessionStatus::Scheduled {
                *minutes_by_month.entry((scheduled.year(), scheduled.month())).or_default() += i64::from(planned);
            }
            let focus = FOCUS[rng.random_range(0..FOCUS.len())];
            let content = if completed {
                SessionContent {
                    check_in: Some("Energy good; a demanding week with the quarterly review.".to_owned()),
                    progress_review: Some(format!("Practised the agreed routine on {focus} three times.")),
                    challenges: Some("Slipped back into solving problems for the team under time pressure.".to_owned()),
                    session_goals: Some(format!("Prepare the next step on {}.", focus.to_lowercase())),
                    action_plan: Some("Ask two questions before offering an answer in each 1:1.".to_owned()),
                    skill_building: Some("Role-played a delegation conversation.".to_owned()),
                    reflection: Some("Noticed the urge to rescue; named it.".to_owned()),
                    next_steps: Some("Try it with the two newest team members.".to_owned()),
                    shared_summary: Some(format!("We worked on {}; next: delegation in 1:1s.", focus.to_lowercase())),
                    private_notes: Some("Watch for fatigue; revisit the team restructuring worry.".to_owned()),
                }
            } else {
                SessionContent::default()
            };
            let session = Session {
                id: SessionId(id_at(booked, rng)),
                engagement_id,
                scheduled_at: stamp(scheduled),
                duration_minutes: planned,
                format: [SessionFormat::Video, SessionFormat::InPerson, SessionFormat::Phone][k as usize % 3],
                kind,
                status,
                agenda: Some(format!("{focus}: progress and next practice")),
                content,
                notes_author: completed.then_some(coach_uuid),
                status_reason: match status {
                    SessionStatus::Cancelled if on_hold_after => Some("program on hold".to_owned()),
                    SessionStatus::Cancelled => Some("travel".to_owned()),
                    SessionStatus::NoShow => Some("leader did not join".to_owned()),
                    _ => None,
                },
                plan_index: None,
                plan_title: None,
                choice: None,
                completed_at: completed.then(|| stamp(done_at)),
                sequence: 0,
                created_at: stamp(booked),
                updated_at: stamp(if past { done_at } else { booked }),
                version: if past { 2 } else { 1 },
            };
            if completed && k % 4 == 1 {
                let due = scheduled.date() + Duration::days(14);
                let item = ActionItem {
                    id: ActionItemId(id_at(done_at, rng)),
                    engagement_id,
                    session_id: Some(session.id),
                    title: "Delegate one decision a week and debrief it".to_owned(),
                    details: Some(format!("Part of the work on {}.", focus.to_lowercase())),
                    due_date: Some(due),
                    status: if due < self.today { ActionItemStatus::Done } else { ActionItemStatus::Open },
                    leader_note: (due < self.today).then(|| "Done; the team took it well.".to_owned()),
                    created_at: stamp(done_at),
                    updated_at: stamp(done_at),
                    version: 1,
                };
                block.action_items.push(ActionItemRow::from_domain(&item, org.clone()));
            }
            block.sessions.push(SessionRow::from_domain(&session, &org));
        }
        // The budget covers the busiest month with a quarter to spare (whole hours, at least 4).
        let busiest = minutes_by_month.values().copied().max().unwrap_or(0) as f64 / 60.0;
        let budget = (busiest * 1.25).ceil().clamp(4.0, 200.0);

        // The transitions, spread between the engagement's creation and today.
        let mut from: Option<Phase> = None;
        let steps = path.len() as i32;
        for (i, step) in path.iter().enumerate() {
            let occurred = (created + (self.now - created) * i as i32 / steps).with_nanosecond(0).expect("valid time");
            block.transitions.push(TransitionRow {
                id: id_at(occurred, rng).to_string(),
                engagement_id: eid.clone(),
                organization_id: org.clone(),
                from_phase: from.map(|p| p.as_str().to_owned()),
                to_phase: step.as_str().to_owned(),
                reason: Some(if i == 0 {
                    "created".to_owned()
                } else {
                    format!("{} done", from.map_or("", |p| p.as_str()))
                }),
                actor_kind: "user".to_owned(),
                actor_id: Some(staff.hr_partner.clone()),
                occurred_at: occurred,
            });
            from = Some(*step);
        }
        let updated = block.transitions.last().map_or(created, |t| t.occurred_at);

        let outcome_ids: Vec<OutcomeId> = if reached(phase, Phase::LeaderInterview) {
            let met = created + Duration::days(2);
            block.contexts.push(ContextRow {
                engagement_id: eid.clone(),
                organization_id: org.clone(),
                met_on: met.date(),
                attendees: json_list(&["coach".to_owned(), "leader".to_owned(), "sponsor".to_owned()]),
                notes: "Sponsor wants the leader to step back from operations and lead through the team.".to_owned(),
                benchmarks: json_list(&[
                    "360 feedback at mid and end review".to_owned(),
                    "team engagement survey".to_owned(),
                ]),
                updated_at: met,
                version: 1,
            });
            let first = rng.random_range(0..OUTCOMES.len());
            (0..3)
                .map(|i| {
                    let (title, measure, baseline, target) = OUTCOMES[(first + i) % OUTCOMES.len()];
                    let outcome = Outcome {
                        id: OutcomeId(id_at(met, rng)),
                        engagement_id,
                        title: title.to_owned(),
                        description: Some("Agreed with the sponsor at the context meeting.".to_owned()),
                        measure: Some(measure.to_owned()),
                        baseline: Some(baseline.to_owned()),
                        target: Some(target.to_owned()),
                        unit: None,
                        created_at: stamp(met),
                        updated_at: stamp(met),
                        version: 1,
                    };
                    block.outcomes.push(NewOutcomeRow::from_domain(&outcome, org.clone()));
                    outcome.id
                })
                .collect()
        } else {
            Vec::new()
        };
        if reached(phase, Phase::StakeholderInterviews) {
            let on = created + Duration::days(9);
            block.interviews.push(InterviewRow {
                engagement_id: eid.clone(),
                organization_id: org.clone(),
                interviewed_on: on.date(),
                commitments: Some("Weekly 1:1s with every direct report.".to_owned()),
                immediate_concerns: Some("A reorganisation announced for next quarter.".to_owned()),
                common_breakdowns: Some("Decisions escalated that the team could take.".to_owned()),
                behaviours: Some("Jumps in to fix; long hours.".to_owned()),
                communication_style: Some("Direct, fast, data first.".to_owned()),
                promise_pattern: Some("Over-commits to peers.".to_owned()),
                notes: None,
                updated_at: on,
                version: 1,
            });
        }
        if reached(phase, Phase::AssessmentDesign) {
            let drafted = created + Duration::days(22);
            let status = match phase {
                Phase::AssessmentDesign => DesignStatus::Draft,
                Phase::SponsorReview => DesignStatus::Submitted,
                _ => DesignStatus::Approved,
            };
            let submitted = drafted + Duration::days(2);
            let items = [
                (ItemKind::Practice, "Two questions before an answer", Some("in every 1:1")),
                (ItemKind::Exercise, "Delegation map of the team's decisions", None),
                (ItemKind::Reading, "Multipliers, chapters 1-3", None),
            ]
            .map(|(kind, title, cadence)| DesignItem {
                kind,
                title: title.to_owned(),
                description: None,
                cadence: cadence.map(str::to_owned),
            });
            block.designs.push(DesignRow {
                engagement_id: eid.clone(),
                organization_id: org.clone(),
                version: 1,
                status: status.as_str().to_owned(),
                summary: format!(
                    "{} over {months} months: practice, feedback and two reviews.",
                    FOCUS[n % FOCUS.len()]
                ),
                theme_ids: ids_json::<ThemeId>(&[]),
                outcome_ids: ids_json(&outcome_ids),
                items: items_json(&items),
                created_at: drafted,
                updated_at: if status == DesignStatus::Draft { drafted } else { submitted },
                submitted_at: (status != DesignStatus::Draft).then_some(submitted),
                revision: if status == DesignStatus::Draft { 1 } else { 2 },
            });
            if status != DesignStatus::Draft {
                let approvers = std::iter::once((leader.clone(), ApproverRole::Leader))
                    .chain(sponsors.iter().map(|s| (s.clone(), ApproverRole::Sponsor)));
                for (i, (approver, role)) in approvers.enumerate() {
                    // Under review, only the leader has decided so far.
                    if status == DesignStatus::Submitted && i > 0 {
                        break;
                    }
                    let decided = submitted + Duration::hours(4 + i as i64 * 20);
                    block.decisions.push(DecisionRow {
                        id: id_at(decided, rng).to_string(),
                        engagement_id: eid.clone(),
                        organization_id: org.clone(),
                        design_version: 1,
                        approver_id: approver,
                        role: role.as_str().to_owned(),
                        verdict: Verdict::Approve.as_str().to_owned(),
                        comment: None,
                        decided_at: decided,
                    });
                }
            }
        }
        for sponsor in &sponsors {
            block.sponsors.push(SponsorRow {
                engagement_id: eid.clone(),
                user_id: sponsor.clone(),
                organization_id: org.clone(),
            });
        }
        block.engagements.push(EngagementRow {
            contract_id: None,
            id: eid,
            organization_id: org,
            title: format!("{} — {}", FOCUS[n % FOCUS.len()], person(rng)),
            leader_id: leader,
            coach_id: coach.to_owned(),
            hr_partner_id: Some(staff.hr_partner.clone()),
            phase: phase.as_str().to_owned(),
            held_from: (phase == Phase::OnHold).then(|| Phase::Coaching.as_str().to_owned()),
            start_date: start,
            planned_end_date: end,
            monthly_hours_budget: budget,
            renewed_from_id: None,
            created_at: created,
            updated_at: updated,
            version: i64::from(steps),
            sponsor_ids: sponsor_list(&sponsors),
            template_id: keel_domain::template::EXECUTIVE_ID.to_string(),
            template_version: 1,
        });
    }
}
