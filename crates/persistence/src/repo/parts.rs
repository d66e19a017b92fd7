//! Many parts of one or more programs read in one statement: every row of the tables asked for,
//! as a JSON object of its columns (named and typed by the schema), tagged with its part, the
//! tables joined by `UNION ALL`. A page that shows a program's sessions, homework, designs,
//! raters and outcomes, or the next thing of 200 programs, then costs one round trip for all of
//! them instead of one per table and program (docs/operations.md, "What a request costs").
//!
//! Each row is read back through the same row struct and conversion as the table's own
//! repository, so a part read here is the same value as one read there (a test compares them on
//! both backends).

use std::collections::HashMap;
use std::fmt::Write as _;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Date, Double, Integer, Nullable, Text, Timestamp};
use keel_domain::coaching::{ActionItem, ActionItemStatus, Extension, Session, SessionStatus};
use keel_domain::design::{Decision, Design};
use keel_domain::engagement::Phase;
use keel_domain::group::{GroupActionItem, GroupOutcome};
use keel_domain::organization::Organization;
use keel_domain::program::{ContextMeeting, LeaderInterview, Measurement, Outcome};
use keel_domain::review::Review;
use keel_domain::stakeholders::{Rater, Theme};
use keel_domain::time::Timestamp as At;
use keel_domain::{EngagementId, GroupId, OrganizationId, RaterId, UserId};
use serde::de::DeserializeOwned;

use crate::connection::{Backend, DbConnection};
use crate::error::StoreError;
use crate::rows::{OrganizationRow, corrupt, from_db_time};
use crate::schema;

/// A part of a program that [`load`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    Sessions,
    /// Only the sessions still to be held that the coach's next thing looks at: those asked for or
    /// proposed, those scheduled up to `until` (overdue ones included) and the first scheduled
    /// after it.
    DueSessions {
        until: At,
    },
    ActionItems,
    /// Only the open action items.
    OpenActionItems,
    Designs,
    /// The decisions on every design version.
    Decisions,
    /// The raters (not removed), with when each one's latest invitation runs out.
    Raters,
    Themes,
    Outcomes,
    Measurements,
    Context,
    Interview,
    /// The mid and end reviews.
    Reviews,
    /// When the program last entered its mid review.
    MidReviewEntered,
    Extensions,
}

impl Part {
    /// Every part of a program, each whole (the coach's workspace shows them all).
    pub const WHOLE_PROGRAM: &'static [Part] = &[
        Part::Sessions,
        Part::ActionItems,
        Part::Designs,
        Part::Decisions,
        Part::Raters,
        Part::Themes,
        Part::Outcomes,
        Part::Measurements,
        Part::Context,
        Part::Interview,
        Part::Reviews,
        Part::MidReviewEntered,
        Part::Extensions,
    ];

    /// What the transition guards look at (docs/program.md, "Guards").
    pub const FACTS: &'static [Part] = &[
        Part::Designs,
        Part::Decisions,
        Part::Raters,
        Part::Outcomes,
        Part::Context,
        Part::Interview,
        Part::Reviews,
        Part::MidReviewEntered,
    ];
}

/// The parts of one program that were asked for (the others are left empty), each in the order
/// its table's own repository lists it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProgramParts {
    /// In time order.
    pub sessions: Vec<Session>,
    pub action_items: Vec<ActionItem>,
    /// Oldest version first.
    pub designs: Vec<Design>,
    pub decisions: Vec<Decision>,
    pub raters: Vec<Rater>,
    /// When each invited rater's latest invitation runs out.
    pub invitation_expiries: Vec<(RaterId, At)>,
    pub themes: Vec<Theme>,
    pub outcomes: Vec<Outcome>,
    /// In time order.
    pub measurements: Vec<Measurement>,
    pub context: Option<ContextMeeting>,
    pub interview: Option<LeaderInterview>,
    pub reviews: Vec<Review>,
    /// When the program last entered `mid_review`.
    pub mid_review_entered: Option<At>,
    pub extensions: Vec<Extension>,
}

/// What to read: the parts of these engagements, these organizations, the names of these
/// people, and the participants' own outcomes and action items of these groups.
#[derive(Clone, Copy, Debug, Default)]
pub struct Wanted<'a> {
    pub engagements: &'a [EngagementId],
    pub parts: &'a [Part],
    /// Parts of single engagements, besides `parts` of all `engagements`.
    pub each: &'a [(EngagementId, Part)],
    pub organizations: &'a [OrganizationId],
    pub names: &'a [UserId],
    pub groups: &'a [GroupId],
}

/// The participants' own outcomes and action items of a group, oldest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GroupParts {
    pub outcomes: Vec<GroupOutcome>,
    pub action_items: Vec<GroupActionItem>,
}

/// What [`load`] read. An engagement asked for is in `programs` even when it has none of the parts.
#[derive(Clone, Debug, Default)]
pub struct Loaded {
    pub programs: HashMap<EngagementId, ProgramParts>,
    pub organizations: HashMap<OrganizationId, Organization>,
    pub names: HashMap<UserId, String>,
    pub groups: HashMap<GroupId, GroupParts>,
}

impl Loaded {
    /// The parts of `id` (empty when it was not asked for).
    pub fn take(&mut self, id: EngagementId) -> ProgramParts {
        self.programs.remove(&id).unwrap_or_default()
    }
}

/// Reads everything `wanted` names in one statement (none when it names nothing).
pub fn load(conn: &mut DbConnection, wanted: Wanted<'_>) -> Result<Loaded, StoreError> {
    let mut loaded = Loaded {
        programs: wanted
            .engagements
            .iter()
            .chain(wanted.each.iter().map(|(id, _)| id))
            .map(|id| (*id, ProgramParts::default()))
            .collect(),
        ..Loaded::default()
    };
    let mut binds: Vec<Vec<String>> = Vec::new();
    let sql = statement(conn.backend(), wanted, &mut binds);
    if sql.is_empty() {
        return Ok(loaded);
    }
    let rows: Vec<PartRow> = match conn {
        DbConnection::Postgresql(c) => {
            let mut query = diesel::sql_query(sql).into_boxed::<diesel::pg::Pg>();
            for list in binds {
                query = query.bind::<diesel::sql_types::Array<Text>, _>(list);
            }
            query.load(c)?
        }
        DbConnection::Sqlite(c) => {
            let mut query = diesel::sql_query(sql).into_boxed::<diesel::sqlite::Sqlite>();
            for value in binds.into_iter().flatten() {
                query = query.bind::<Text, _>(value);
            }
            query.load(c)?
        }
    };
    for row in rows {
        loaded.add(row)?;
    }
    for parts in loaded.programs.values_mut() {
        parts.sort();
    }
    for parts in loaded.groups.values_mut() {
        parts.outcomes.sort_by_key(|o| o.id);
        parts.action_items.sort_by_key(|i| i.id);
    }
    Ok(loaded)
}

#[derive(QueryableByName)]
struct PartRow {
    #[diesel(sql_type = Text)]
    part: String,
    #[diesel(sql_type = Text)]
    owner: String,
    #[diesel(sql_type = Text)]
    doc: String,
}

fn row<T: DeserializeOwned>(row: &PartRow) -> Result<T, StoreError> {
    serde_json::from_str(&row.doc).map_err(|_| corrupt(&row.part, &row.doc))
}

#[derive(serde::Deserialize)]
struct Named {
    name: String,
}

#[derive(serde::Deserialize)]
struct Latest {
    at: chrono::NaiveDateTime,
}

impl Loaded {
    fn add(&mut self, r: PartRow) -> Result<(), StoreError> {
        use crate::repo::{action_items, designs, extensions, program, reviews, sessions, stakeholders};
        match r.part.as_str() {
            "organization" => {
                let organization = Organization::try_from(row::<OrganizationRow>(&r)?)?;
                self.organizations.insert(organization.id, organization);
                return Ok(());
            }
            "group_outcomes" | "group_action_items" => {
                use crate::repo::groups;
                let id = r.owner.parse::<GroupId>().map_err(|_| corrupt("group id", &r.owner))?;
                let parts = self.groups.entry(id).or_default();
                match r.part.as_str() {
                    "group_outcomes" => parts.outcomes.push(row::<groups::OutcomeRow>(&r)?.into_domain()?),
                    _ => parts.action_items.push(row::<groups::ItemRow>(&r)?.into_domain()?),
                }
                return Ok(());
            }
            "name" => {
                let id = r.owner.parse::<UserId>().map_err(|_| corrupt("user id", &r.owner))?;
                self.names.insert(id, row::<Named>(&r)?.name);
                return Ok(());
            }
            _ => {}
        }
        let id = r.owner.parse::<EngagementId>().map_err(|_| corrupt("engagement id", &r.owner))?;
        let parts = self.programs.entry(id).or_default();
        match r.part.as_str() {
            "sessions" => parts.sessions.push(row::<sessions::SessionRow>(&r)?.into_domain()?),
            "action_items" => parts.action_items.push(row::<action_items::Row>(&r)?.into_domain()?),
            "designs" => parts.designs.push(row::<designs::DesignRow>(&r)?.into_domain()?),
            "design_decisions" => parts.decisions.push(row::<designs::DecisionRow>(&r)?.into_domain()?),
            "raters" => parts.raters.push(row::<stakeholders::RaterRow>(&r)?.into_domain()?),
            "expiry" => {
                #[derive(serde::Deserialize)]
                struct Expiry {
                    rater_id: String,
                    at: chrono::NaiveDateTime,
                }
                let e = row::<Expiry>(&r)?;
                let rater = e.rater_id.parse().map_err(|_| corrupt("rater id", &e.rater_id))?;
                parts.invitation_expiries.push((rater, from_db_time(e.at)));
            }
            "themes" => parts.themes.push(row::<stakeholders::ThemeRow>(&r)?.into_domain()?),
            "outcomes" => parts.outcomes.push(row::<program::OutcomeRow>(&r)?.into_domain()?),
            "outcome_measurements" => parts.measurements.push(row::<program::MeasurementRow>(&r)?.into_domain()?),
            "context_meetings" => parts.context = Some(row::<program::ContextRow>(&r)?.into_domain()?),
            "leader_interviews" => parts.interview = Some(row::<program::InterviewRow>(&r)?.into_domain()),
            "reviews" => parts.reviews.push(row::<reviews::ReviewRow>(&r)?.into_domain()?),
            "mid_entered" => parts.mid_review_entered = Some(from_db_time(row::<Latest>(&r)?.at)),
            "extensions" => parts.extensions.push(row::<extensions::ExtensionRow>(&r)?.into_domain()?),
            other => return Err(corrupt("part", other)),
        }
        Ok(())
    }
}

impl ProgramParts {
    /// The order of each table's own list (UNION ALL keeps none).
    fn sort(&mut self) {
        // Ids are UUIDs, whose order is that of their text, which the tables sort by.
        self.sessions.sort_by_key(|s| (s.scheduled_at, s.id));
        self.action_items.sort_by_key(|i| i.id);
        self.designs.sort_by_key(|d| d.version);
        self.decisions.sort_by_key(|d| d.id);
        self.raters.sort_by_key(|r| r.id);
        self.invitation_expiries.sort_by_key(|(r, _)| *r);
        self.themes.sort_by_key(|t| t.id);
        self.outcomes.sort_by_key(|o| o.id);
        self.measurements.sort_by_key(|m| (m.measured_at, m.id));
        self.reviews.sort_by_key(|r| r.kind.as_str());
        self.extensions.sort_by_key(|x| x.id);
    }
}

/// A set of ids as the statement tests it.
struct Ids {
    /// PostgreSQL: the number of the array parameter that holds them.
    param: usize,
    /// The membership test: `= ANY($n)` on PostgreSQL (one array parameter, planned as a
    /// constant, so its test is a hash lookup); `IN (?a, …, ?b)` on SQLite (probed in the index
    /// one by one).
    test: String,
}

/// The statement for `wanted` on `backend`, its bind values pushed onto `binds` (one list per
/// set of ids); empty when there is nothing to read.
fn statement(backend: Backend, wanted: Wanted<'_>, binds: &mut Vec<Vec<String>>) -> String {
    let mut count = 0;
    let mut among = |ids: Vec<String>| -> Option<Ids> {
        if ids.is_empty() {
            return None;
        }
        let param = binds.len() + 1;
        let test = match backend {
            Backend::Postgres => format!("= ANY(${param})"),
            Backend::Sqlite => {
                let numbered: Vec<String> = (count + 1..=count + ids.len()).map(|n| format!("?{n}")).collect();
                format!("IN ({})", numbered.join(", "))
            }
        };
        count += ids.len();
        binds.push(ids);
        Some(Ids { param, test })
    };
    // Which engagements want each part.
    let mut asked: Vec<(Part, Vec<String>)> = Vec::new();
    let every = wanted.parts.iter().flat_map(|part| wanted.engagements.iter().map(move |id| (*id, *part)));
    for (id, part) in every.chain(wanted.each.iter().copied()) {
        match asked.iter_mut().find(|(p, _)| *p == part) {
            Some((_, ids)) => ids.push(id.to_string()),
            None => asked.push((part, vec![id.to_string()])),
        }
    }
    let mut branches: Vec<String> = Vec::new();
    for (part, ids) in asked {
        if let Some(ids) = among(ids) {
            part_branches(backend, part, &ids, &mut branches);
        }
    }
    let object = |pairs: &[(&str, String)]| json_object(backend, pairs);
    if let Some(organizations) = among(wanted.organizations.iter().map(ToString::to_string).collect()) {
        branches.push(format!(
            "SELECT 'organization' AS part, id AS owner, {} AS doc FROM organizations WHERE id {}",
            whole_row(backend, "organizations", &columns::<schema::organizations::table>(backend)),
            organizations.test
        ));
    }
    if let Some(names) = among(wanted.names.iter().map(ToString::to_string).collect()) {
        branches.push(format!(
            "SELECT 'name' AS part, id AS owner, {} AS doc FROM users WHERE id {}",
            object(&[("name", "name".to_owned())]),
            names.test
        ));
    }
    if let Some(groups) = among(wanted.groups.iter().map(ToString::to_string).collect()) {
        for (table, columns) in [
            ("group_outcomes", columns::<schema::group_outcomes::table>(backend)),
            ("group_action_items", columns::<schema::group_action_items::table>(backend)),
        ] {
            branches.push(format!(
                "SELECT '{table}' AS part, group_id AS owner, {} AS doc FROM {table} WHERE group_id {}",
                whole_row(backend, table, &columns),
                groups.test
            ));
        }
    }
    branches.join(" UNION ALL ")
}

/// The branches that read `part` of the engagements `ids`.
fn part_branches(backend: Backend, part: Part, ids: &Ids, branches: &mut Vec<String>) {
    // The rows of `table` of the engagements, as a FROM clause. On PostgreSQL each engagement's
    // rows are fetched through the table's index by engagement (a lateral subquery per id, fenced
    // with OFFSET 0); left to itself the planner scans whole tables for a few hundred ids.
    let of_engagements = |table: &str, condition: &str| match backend {
        Backend::Postgres => format!(
            "FROM unnest(${}) AS wanted(wanted_id) CROSS JOIN LATERAL \
             (SELECT * FROM {table} WHERE engagement_id = wanted.wanted_id{condition} OFFSET 0) AS {table}",
            ids.param
        ),
        Backend::Sqlite => format!("FROM {table} WHERE engagement_id {}{condition}", ids.test),
    };
    let rows_where = |table: &str, columns: Vec<(&'static str, String)>, condition: &str| {
        format!(
            "SELECT '{table}' AS part, engagement_id AS owner, {} AS doc {}",
            whole_row(backend, table, &columns),
            of_engagements(table, condition)
        )
    };
    let rows = |table: &str, columns: Vec<(&'static str, String)>, live_only: bool| {
        rows_where(table, columns, if live_only { " AND deleted_at IS NULL" } else { "" })
    };
    let object = |pairs: &[(&str, String)]| json_object(backend, pairs);
    // Statuses are the domain's wire names and times are chrono's digits: plain words, written
    // into the SQL as they are.
    let (requested, proposed, scheduled) =
        (SessionStatus::Requested.as_str(), SessionStatus::Proposed.as_str(), SessionStatus::Scheduled.as_str());
    match part {
        Part::Sessions => branches.push(rows("sessions", columns::<schema::sessions::table>(backend), false)),
        Part::DueSessions { until } => {
            let until = match backend {
                Backend::Postgres => format!("TIMESTAMP '{}'", until.naive_utc().format("%F %T%.f")),
                Backend::Sqlite => format!("'{}'", until.naive_utc().format("%F %T%.f")),
            };
            // The first test is the predicate of the index of open sessions.
            let due = format!(
                " AND status IN ('{requested}', '{proposed}', '{scheduled}') \
                 AND (status IN ('{requested}', '{proposed}') OR scheduled_at <= {until})"
            );
            branches.push(rows_where("sessions", columns::<schema::sessions::table>(backend), &due));
            let first_after = format!(
                "SELECT (SELECT s.id FROM sessions s WHERE s.engagement_id = e.id AND s.status = '{scheduled}' \
                 AND s.scheduled_at > {until} ORDER BY s.scheduled_at, s.id LIMIT 1) FROM engagements e WHERE e.id {}",
                ids.test
            );
            branches.push(format!(
                "SELECT 'sessions' AS part, engagement_id AS owner, {} AS doc FROM sessions WHERE id IN ({first_after})",
                whole_row(backend, "sessions", &columns::<schema::sessions::table>(backend))
            ));
        }
        Part::ActionItems => {
            branches.push(rows("action_items", columns::<schema::action_items::table>(backend), false))
        }
        Part::OpenActionItems => {
            let open = format!(" AND status = '{}'", ActionItemStatus::Open.as_str());
            branches.push(rows_where("action_items", columns::<schema::action_items::table>(backend), &open))
        }
        Part::Designs => branches.push(rows("designs", columns::<schema::designs::table>(backend), false)),
        Part::Decisions => {
            branches.push(rows("design_decisions", columns::<schema::design_decisions::table>(backend), false))
        }
        Part::Raters => {
            branches.push(rows("raters", columns::<schema::raters::table>(backend), true));
            let at = timestamp(backend, "max(expires_at)");
            branches.push(format!(
                "SELECT 'expiry' AS part, engagement_id AS owner, {} AS doc {} GROUP BY engagement_id, rater_id",
                object(&[("rater_id", "rater_id".to_owned()), ("at", at)]),
                of_engagements("rater_invitations", "")
            ));
        }
        Part::Themes => branches.push(rows("themes", columns::<schema::themes::table>(backend), true)),
        Part::Outcomes => branches.push(rows("outcomes", columns::<schema::outcomes::table>(backend), true)),
        Part::Measurements => {
            branches.push(rows("outcome_measurements", columns::<schema::outcome_measurements::table>(backend), false))
        }
        Part::Context => {
            branches.push(rows("context_meetings", columns::<schema::context_meetings::table>(backend), false))
        }
        Part::Interview => {
            branches.push(rows("leader_interviews", columns::<schema::leader_interviews::table>(backend), false))
        }
        Part::Reviews => branches.push(rows("reviews", columns::<schema::reviews::table>(backend), false)),
        Part::MidReviewEntered => {
            let at = timestamp(backend, "max(occurred_at)");
            branches.push(format!(
                "SELECT 'mid_entered' AS part, engagement_id AS owner, {} AS doc {} GROUP BY engagement_id",
                object(&[("at", at)]),
                of_engagements("engagement_transitions", &format!(" AND to_phase = '{}'", Phase::MidReview.as_str())),
            ));
        }
        Part::Extensions => branches.push(rows("extensions", columns::<schema::extensions::table>(backend), false)),
    }
}

/// A row of `table` (named so in the FROM clause) as a JSON object of its `columns`: on
/// PostgreSQL the row itself (`row_to_json` names every column and writes times as chrono reads
/// them), on SQLite an object of each column.
fn whole_row(backend: Backend, table: &str, columns: &[(&str, String)]) -> String {
    match backend {
        Backend::Postgres => format!("row_to_json({table})::text"),
        Backend::Sqlite => json_object(backend, columns),
    }
}

/// A JSON object (as text) of `pairs` of key and SQL expression.
fn json_object(backend: Backend, pairs: &[(&str, String)]) -> String {
    let mut args = String::new();
    for (key, expression) in pairs {
        if !args.is_empty() {
            args.push_str(", ");
        }
        let _ = write!(args, "'{key}', {expression}");
    }
    match backend {
        Backend::Postgres => format!("json_build_object({args})::text"),
        Backend::Sqlite => format!("json_object({args})"),
    }
}

/// A timestamp expression written as chrono reads it (`2026-12-07T09:00:00.123456`): SQLite
/// holds the text diesel wrote, with a space between date and time.
fn timestamp(backend: Backend, expression: &str) -> String {
    match backend {
        Backend::Postgres => expression.to_owned(),
        Backend::Sqlite => format!("replace({expression}, ' ', 'T')"),
    }
}

/// Every column of table `T`, each with the expression that writes it into JSON.
fn columns<T: diesel::Table>(backend: Backend) -> Vec<(&'static str, String)>
where
    T::AllColumns: JsonColumns,
{
    let mut out = Vec::new();
    T::AllColumns::push(backend, &mut out);
    out
}

/// The columns of a table, named and typed by the schema.
trait JsonColumns {
    fn push(backend: Backend, out: &mut Vec<(&'static str, String)>);
}

/// How a column of this SQL type is written into JSON.
trait JsonType {
    const TIMESTAMP: bool = false;
}

impl JsonType for Text {}
impl JsonType for Integer {}
impl JsonType for BigInt {}
impl JsonType for Double {}
impl JsonType for Bool {}
impl JsonType for Date {}
impl JsonType for Timestamp {
    const TIMESTAMP: bool = true;
}
impl<T: JsonType + diesel::sql_types::SqlType> JsonType for Nullable<T> {
    const TIMESTAMP: bool = T::TIMESTAMP;
}

macro_rules! json_columns {
    ($($column:ident),+) => {
        impl<$($column),+> JsonColumns for ($($column,)+)
        where
            $($column: diesel::Column, <$column as diesel::Expression>::SqlType: JsonType,)+
        {
            fn push(backend: Backend, out: &mut Vec<(&'static str, String)>) {
                $(
                    let expression = if <<$column as diesel::Expression>::SqlType as JsonType>::TIMESTAMP {
                        timestamp(backend, $column::NAME)
                    } else {
                        $column::NAME.to_owned()
                    };
                    out.push(($column::NAME, expression));
                )+
            }
        }
    };
}

macro_rules! json_columns_up_to {
    ($first:ident $(, $rest:ident)*) => {
        json_columns!($first $(, $rest)*);
        json_columns_up_to!($($rest),*);
    };
    () => {};
}

json_columns_up_to!(
    C32, C31, C30, C29, C28, C27, C26, C25, C24, C23, C22, C21, C20, C19, C18, C17, C16, C15, C14, C13, C12, C11, C10,
    C9, C8, C7, C6, C5, C4, C3, C2, C1
);
