//! Reports for the people who pay for coaching (docs/reports.md): utilization of the hours,
//! the pipeline of programs by phase, outcomes, and participation. Figures only — hours, counts,
//! dates, phases, outcome values — never session content, notes, interviews, raters' names or
//! feedback. Each figure is the one the per-engagement endpoints give (the ledger, the contract,
//! the progress and the reviews).

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use keel_domain::coaching::{Budgeted, SessionStatus};
use keel_domain::contract::{Contract, Draw, Standing};
use keel_domain::engagement::Phase;
use keel_domain::organization::Organization;
use keel_domain::page::PageRequest;
use keel_domain::policy::{self, Action, Visibility};
use keel_domain::report::{self, TimeInPhase};
use keel_domain::review::{ReviewKind, progress_share};
use keel_domain::time::Timestamp;
use keel_domain::{ContractId, DomainError, OrganizationId, TemplateId, UserId, ValidationErrors};
pub use keel_persistence::repo::reports::Detail;
use keel_persistence::repo::reports::{self as rows, EngagementFigures, GroupFigures, ReportFilter};
use keel_persistence::repo::{contracts, organizations};
use keel_persistence::{DbConnection, StoreError};

use crate::frame::Caller;

/// The filters a report is asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportQuery {
    pub organization_id: Option<OrganizationId>,
    pub coach_id: Option<UserId>,
    pub template_id: Option<TemplateId>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// What a report covers, checked: the caller may read it, and the organizations and contracts
/// it spans are read once.
#[derive(Clone, Debug)]
pub struct Scope {
    pub filter: ReportFilter,
    pub now: Timestamp,
    organizations: HashMap<OrganizationId, Organization>,
    contracts: HashMap<String, Contract>,
}

/// Programs read per statement.
const BATCH: i64 = 500;

/// Checks the caller may read reports of the organization asked for (their own when they name
/// none; every organization for admins) and that the filters make sense.
pub fn scope(conn: &mut DbConnection, caller: &Caller, query: ReportQuery) -> Result<Scope, StoreError> {
    if let (Some(from), Some(to)) = (query.from, query.to)
        && to < from
    {
        let message = format!("must not be before from ({from})");
        return Err(DomainError::Validation(ValidationErrors::single("to", "before_from", message)).into());
    }
    let organization_id = match policy::organization_visibility(&caller.principal) {
        Some(Visibility::All) => query.organization_id,
        Some(Visibility::Organization(own)) => {
            let asked = query.organization_id.unwrap_or(own);
            policy::check(&caller.principal, &Action::ReadReports { organization_id: asked })?;
            Some(asked)
        }
        Some(Visibility::OnlySelf(_)) | None => {
            let message = "only an admin or an organization's hr_partner can read reports";
            return Err(DomainError::Forbidden { message: message.to_owned() }.into());
        }
    };
    let organizations: HashMap<OrganizationId, Organization> = match organization_id {
        Some(id) => {
            let org = organizations::find(conn, id)?.ok_or_else(|| StoreError::not_found("organization"))?;
            HashMap::from([(id, org)])
        }
        None => all_organizations(conn)?.into_iter().map(|o| (o.id, o)).collect(),
    };
    let mut contracts = HashMap::new();
    let mut after = None;
    loop {
        let page = contracts::list(conn, organization_id, PageRequest { limit: 200, after })?;
        after = page.items.last().map(|c| c.id.as_uuid());
        contracts.extend(page.items.into_iter().map(|c| (c.id.to_string(), c)));
        if !page.has_more {
            break;
        }
    }
    let filter = ReportFilter {
        organization_id,
        coach_id: query.coach_id,
        template_id: query.template_id,
        from: query.from,
        to: query.to,
        ids: None,
    };
    Ok(Scope { filter, now: keel_domain::time::now(), organizations, contracts })
}

fn all_organizations(conn: &mut DbConnection) -> Result<Vec<Organization>, StoreError> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = organizations::list(conn, None, PageRequest { limit: 200, after })?;
        after = page.items.last().map(|o| o.id.as_uuid());
        all.extend(page.items);
        if !page.has_more {
            return Ok(all);
        }
    }
}

/// An engagement or a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProgramKind {
    Engagement,
    Group,
}

impl ProgramKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProgramKind::Engagement => "engagement",
            ProgramKind::Group => "group",
        }
    }
}

/// One program as every report sees it: who, where it stands, and its figures in minutes.
#[derive(Clone, Debug, PartialEq)]
pub struct ProgramLine {
    pub kind: ProgramKind,
    pub id: String,
    pub organization_id: String,
    /// The engagement's title or the group's name.
    pub title: String,
    /// The leader (engagements): id and name.
    pub leader: Option<(String, String)>,
    pub coach: (String, String),
    pub template_id: Option<String>,
    pub contract: Option<Contract>,
    /// An engagement's phase; a group's standing by its dates (`not_started`, `running`,
    /// `past_planned_end`).
    pub phase: Option<Phase>,
    pub group_status: Option<&'static str>,
    pub start_date: NaiveDate,
    pub planned_end_date: NaiveDate,
    pub monthly_hours_budget: f64,
    pub draw: Draw,
    pub recent_minutes: i64,
    /// When the engagement entered its phase, and how long ago that is against the limit.
    pub entered_phase_at: Option<Timestamp>,
    pub time_in_phase: Option<TimeInPhase>,
    pub raters: i64,
    pub raters_invited: i64,
    pub raters_contributed: i64,
    pub participants: i64,
    pub sessions_completed: i64,
    pub attended: i64,
    pub absent: i64,
}

impl Budgeted for ProgramLine {
    fn start_date(&self) -> NaiveDate {
        self.start_date
    }
    fn planned_end_date(&self) -> NaiveDate {
        self.planned_end_date
    }
    fn monthly_hours_budget(&self) -> f64 {
        self.monthly_hours_budget
    }
}

impl ProgramLine {
    /// Budgeted and extended, less used (the ledger's total remaining).
    pub fn remaining_minutes(&self) -> i64 {
        self.draw.planned_minutes + self.draw.extension_minutes - self.draw.used_minutes
    }

    /// The cost of the minutes used, in hundredths of the contract's currency, where priced.
    pub fn used_cost(&self) -> Option<(i64, &str)> {
        let price = self.contract.as_ref()?.price.as_ref()?;
        Some((price.cost_of(self.draw.used_minutes), price.currency.as_str()))
    }

    pub fn burn_minutes_per_month(&self) -> f64 {
        report::burn_minutes_per_month(self.recent_minutes)
    }

    /// When the program's hours run out at its recent pace (never for an ended one).
    pub fn exhaustion_date(&self, today: NaiveDate) -> Option<NaiveDate> {
        if self.draw.ended {
            return None;
        }
        report::exhaustion_date(today, self.remaining_minutes(), self.recent_minutes)
    }

    pub fn stuck(&self) -> bool {
        self.time_in_phase.is_some_and(|t| t.stuck)
    }
}

/// Where the next page of lines starts: engagements first, then groups, each in id order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resume {
    Engagements(Option<String>),
    Groups(Option<String>),
    Done,
}

/// The next lines of the scope (up to [`BATCH`]) and where to resume. With
/// [`Detail::Standing`] the lines hold no minutes used, extensions, raters or attendance (their
/// draw is the planned budget alone): [`with_figures`] adds them.
pub fn lines(
    conn: &mut DbConnection,
    scope: &Scope,
    from: &Resume,
    detail: Detail,
) -> Result<(Vec<ProgramLine>, Resume), StoreError> {
    let since = rows::window_start(scope.now, report::BURN_WINDOW_DAYS);
    match from {
        Resume::Engagements(after) => {
            let found = rows::engagements(conn, &scope.filter, since, after.as_deref(), BATCH, detail)?;
            let next = match found.last() {
                Some(last) if found.len() as i64 == BATCH => Resume::Engagements(Some(last.id.clone())),
                _ => Resume::Groups(None),
            };
            Ok((found.into_iter().map(|f| engagement_line(scope, f)).collect::<Result<_, _>>()?, next))
        }
        Resume::Groups(after) => {
            let found = rows::groups(conn, &scope.filter, since, after.as_deref(), BATCH, detail)?;
            let next = match found.last() {
                Some(last) if found.len() as i64 == BATCH => Resume::Groups(Some(last.id.clone())),
                _ => Resume::Done,
            };
            Ok((found.into_iter().map(|f| group_line(scope, f)).collect(), next))
        }
        Resume::Done => Ok((Vec::new(), Resume::Done)),
    }
}

/// Every line of the scope (for the JSON reports, which are answered whole, and the lists).
pub fn all_lines(conn: &mut DbConnection, scope: &Scope, detail: Detail) -> Result<Vec<ProgramLine>, StoreError> {
    let mut all = Vec::new();
    let mut at = Resume::Engagements(None);
    while at != Resume::Done {
        let (found, next) = lines(conn, scope, &at, detail)?;
        all.extend(found);
        at = next;
    }
    Ok(all)
}

/// These lines of the scope with all their figures, in the same order (a page of a list read
/// with [`Detail::Standing`]).
pub fn with_figures(
    conn: &mut DbConnection,
    scope: &Scope,
    lines: &[&ProgramLine],
) -> Result<Vec<ProgramLine>, StoreError> {
    if lines.is_empty() {
        return Ok(Vec::new());
    }
    let mut narrowed = scope.clone();
    narrowed.filter.ids = Some(lines.iter().map(|l| l.id.clone()).collect());
    let mut read: HashMap<(ProgramKind, String), ProgramLine> =
        all_lines(conn, &narrowed, Detail::Figures)?.into_iter().map(|l| ((l.kind, l.id.clone()), l)).collect();
    Ok(lines.iter().filter_map(|l| read.remove(&(l.kind, l.id.clone()))).collect())
}

fn engagement_line(scope: &Scope, f: EngagementFigures) -> Result<ProgramLine, StoreError> {
    let phase: Phase = f.phase.parse().map_err(|_| keel_persistence::rows::corrupt("phase", &f.phase))?;
    let organization = f.organization_id.parse::<OrganizationId>().ok().and_then(|id| scope.organizations.get(&id));
    let entered = keel_persistence::rows::from_db_time(f.entered_phase_at.unwrap_or(f.created_at));
    // The minutes of the statuses the engagement's organization counts (docs/program.md).
    let counted = SessionStatus::counted(organization.is_some_and(|o| o.settings.no_show_counts));
    let (used, recent) = counted
        .iter()
        .filter_map(|status| f.session_minutes.get(status.as_str()))
        .fold((0, 0), |(used, recent), m| (used + m.minutes, recent + m.recent_minutes));
    let mut line = ProgramLine {
        kind: ProgramKind::Engagement,
        id: f.id,
        organization_id: f.organization_id,
        title: f.title,
        leader: Some((f.leader_id, f.leader_name)),
        coach: (f.coach_id, f.coach_name),
        template_id: Some(f.template_id),
        contract: f.contract_id.and_then(|id| scope.contracts.get(&id).cloned()),
        phase: Some(phase),
        group_status: None,
        start_date: f.start_date,
        planned_end_date: f.planned_end_date,
        monthly_hours_budget: f.monthly_hours_budget,
        draw: Draw::default(),
        recent_minutes: recent,
        entered_phase_at: Some(entered),
        time_in_phase: organization.map(|o| report::time_in_phase(phase, entered, scope.now, &o.settings)),
        raters: f.raters.named,
        raters_invited: f.raters.invited,
        raters_contributed: f.raters.contributed,
        participants: 0,
        sessions_completed: 0,
        attended: 0,
        absent: 0,
    };
    line.draw = Draw {
        extension_minutes: f.extension_minutes,
        used_minutes: used,
        ended: phase.is_terminal(),
        ..Draw::planned(&line)
    };
    Ok(line)
}

fn group_line(scope: &Scope, f: GroupFigures) -> ProgramLine {
    let mut line = ProgramLine {
        kind: ProgramKind::Group,
        id: f.id,
        organization_id: f.organization_id,
        title: f.name,
        leader: None,
        coach: (f.coach_id, f.coach_name),
        template_id: None,
        contract: f.contract_id.and_then(|id| scope.contracts.get(&id).cloned()),
        phase: None,
        group_status: Some(report::group_status(scope.now.date_naive(), f.start_date, f.planned_end_date)),
        start_date: f.start_date,
        planned_end_date: f.planned_end_date,
        monthly_hours_budget: f.monthly_hours_budget,
        draw: Draw::default(),
        recent_minutes: f.sums.recent_minutes,
        entered_phase_at: None,
        time_in_phase: None,
        raters: 0,
        raters_invited: 0,
        raters_contributed: 0,
        participants: f.sums.participants,
        sessions_completed: f.sums.sessions_completed,
        attended: f.sums.attended,
        absent: f.sums.absent,
    };
    line.draw = Draw { used_minutes: f.sums.used_minutes, ..Draw::planned(&line) };
    line
}

/// A contract's line of the utilization report: its standing over every program on it (not
/// only those the other filters select).
#[derive(Clone, Debug, PartialEq)]
pub struct ContractLine {
    pub contract: Contract,
    pub standing: Standing,
    pub programs: usize,
    pub recent_minutes: i64,
    /// Minutes used per calendar month (`YYYY-MM`), in order.
    pub months: Vec<(String, i64)>,
}

impl ContractLine {
    pub fn used_cost(&self) -> Option<i64> {
        Some(self.contract.price.as_ref()?.cost_of(self.standing.used_minutes))
    }

    pub fn allocated_cost(&self) -> Option<i64> {
        Some(self.contract.price.as_ref()?.cost_of(self.standing.allocated_minutes))
    }

    pub fn exhaustion_date(&self, today: NaiveDate) -> Option<NaiveDate> {
        report::exhaustion_date(today, self.standing.remaining_minutes(), self.recent_minutes)
    }
}

/// One coach's sums over the programs of the report.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CoachLine {
    pub coach_id: String,
    pub name: String,
    pub programs: usize,
    pub planned_minutes: i64,
    pub extension_minutes: i64,
    pub allocated_minutes: i64,
    pub used_minutes: i64,
    pub remaining_minutes: i64,
    pub recent_minutes: i64,
}

pub struct Utilization {
    pub scope: Scope,
    pub contracts: Vec<ContractLine>,
    pub programs: Vec<ProgramLine>,
    pub coaches: Vec<CoachLine>,
}

pub fn utilization(conn: &mut DbConnection, caller: &Caller, query: ReportQuery) -> Result<Utilization, StoreError> {
    let scope = scope(conn, caller, query)?;
    let programs = all_lines(conn, &scope, Detail::Figures)?;
    let since = rows::window_start(scope.now, report::BURN_WINDOW_DAYS);
    // Without a coach, template or date filter the lines hold every program of the organizations
    // in scope, and so every program drawing on their contracts: the standing is summed from
    // them. Otherwise each contract's programs are read.
    let f = &scope.filter;
    let lines_cover_contracts = f.coach_id.is_none() && f.template_id.is_none() && f.from.is_none() && f.to.is_none();
    let mut ordered: Vec<&Contract> = scope.contracts.values().collect();
    ordered.sort_by_key(|c| c.id.as_uuid());
    let ids: Vec<ContractId> = ordered.iter().map(|c| c.id).collect();
    let mut months: HashMap<String, Vec<(String, i64)>> = HashMap::new();
    for m in contracts::used_by_month(conn, &ids)? {
        let counts = scope
            .contracts
            .get(&m.contract_id)
            .and_then(|c| scope.organizations.get(&c.organization_id))
            .is_some_and(|o| crate::contracts::counted(o).contains(&m.status.as_str()));
        if !counts {
            continue;
        }
        let of_contract = months.entry(m.contract_id).or_default();
        match of_contract.last_mut() {
            Some((month, minutes)) if *month == m.month => *minutes += m.minutes,
            _ => of_contract.push((m.month, m.minutes)),
        }
    }
    let mut contract_lines = Vec::new();
    for contract in ordered {
        let (draws, recent): (Vec<Draw>, i64) = if lines_cover_contracts {
            let on = programs.iter().filter(|l| l.contract.as_ref().is_some_and(|c| c.id == contract.id));
            on.fold((Vec::new(), 0), |(mut draws, recent), l| {
                draws.push(l.draw);
                (draws, recent + l.recent_minutes)
            })
        } else {
            let counted = crate::contracts::counted(&scope.organizations[&contract.organization_id]);
            let drawings = contracts::drawings(conn, contract.id, &counted)?;
            let draws = drawings.iter().map(crate::contracts::draw_of).collect();
            (draws, contracts::recent_minutes(conn, contract.id, &counted, since)?)
        };
        contract_lines.push(ContractLine {
            months: months.remove(&contract.id.to_string()).unwrap_or_default(),
            standing: Standing::of(contract, draws.iter().copied()),
            programs: draws.len(),
            contract: contract.clone(),
            recent_minutes: recent,
        });
    }
    let mut coaches: BTreeMap<String, CoachLine> = BTreeMap::new();
    for line in &programs {
        let coach = coaches.entry(line.coach.0.clone()).or_insert_with(|| CoachLine {
            coach_id: line.coach.0.clone(),
            name: line.coach.1.clone(),
            ..CoachLine::default()
        });
        coach.programs += 1;
        coach.planned_minutes += line.draw.planned_minutes;
        coach.extension_minutes += line.draw.extension_minutes;
        coach.allocated_minutes += line.draw.allocated_minutes();
        coach.used_minutes += line.draw.used_minutes;
        coach.remaining_minutes += line.remaining_minutes();
        coach.recent_minutes += line.recent_minutes;
    }
    Ok(Utilization { scope, contracts: contract_lines, programs, coaches: coaches.into_values().collect() })
}

/// The pipeline: programs by phase, with those in a phase longer than their organization allows.
pub struct Pipeline {
    pub scope: Scope,
    pub programs: Vec<ProgramLine>,
}

impl Pipeline {
    /// (phase or group status, programs, stuck) in program order, then the groups' standings.
    pub fn by_phase(&self) -> Vec<(&'static str, usize, usize)> {
        let mut counts: Vec<(&'static str, usize, usize)> = Phase::ALL.iter().map(|p| (p.as_str(), 0, 0)).collect();
        for status in ["not_started", "running", "past_planned_end"] {
            counts.push((status, 0, 0));
        }
        for line in &self.programs {
            let key = line.phase.map(Phase::as_str).or(line.group_status).unwrap_or_default();
            if let Some(entry) = counts.iter_mut().find(|(k, _, _)| *k == key) {
                entry.1 += 1;
                entry.2 += usize::from(line.stuck());
            }
        }
        counts
    }
}

pub fn pipeline(conn: &mut DbConnection, caller: &Caller, query: ReportQuery) -> Result<Pipeline, StoreError> {
    let scope = scope(conn, caller, query)?;
    let programs = all_lines(conn, &scope, Detail::Figures)?;
    Ok(Pipeline { scope, programs })
}

/// Participation: raters named, invited and contributed per engagement (counts, never who),
/// and the attendance of each group's sessions.
pub fn participation(conn: &mut DbConnection, caller: &Caller, query: ReportQuery) -> Result<Pipeline, StoreError> {
    pipeline(conn, caller, query)
}

/// One outcome of one engagement: where it started, where it aims, where it is, and what the
/// reviews recorded of it.
#[derive(Clone, Debug, PartialEq)]
pub struct OutcomeLine {
    pub engagement_id: String,
    pub engagement_title: String,
    pub coach: (String, String),
    pub template_id: String,
    pub phase: Option<Phase>,
    pub outcome_id: String,
    pub title: String,
    pub baseline: Option<String>,
    pub target: Option<String>,
    pub unit: Option<String>,
    pub latest: Option<String>,
    pub latest_measured_at: Option<Timestamp>,
    /// (latest − baseline) / (target − baseline), to the hundredth, where all three are numbers.
    pub progress: Option<f64>,
    pub mid_actual: Option<String>,
    pub end_actual: Option<String>,
    /// Whether the end review recorded it as achieved.
    pub achieved: Option<bool>,
}

/// Outcomes of the lines' engagements (groups have none here).
pub fn outcome_lines(conn: &mut DbConnection, lines: &[ProgramLine]) -> Result<Vec<OutcomeLine>, StoreError> {
    let engagements: Vec<&ProgramLine> = lines.iter().filter(|l| l.kind == ProgramKind::Engagement).collect();
    let ids: Vec<String> = engagements.iter().map(|l| l.id.clone()).collect();
    let by_id: HashMap<&str, &ProgramLine> = engagements.iter().map(|l| (l.id.as_str(), *l)).collect();
    let mut reviews: HashMap<(String, &str), keel_domain::review::Review> = HashMap::new();
    for (engagement, review) in rows::reviews_of(conn, &ids)? {
        reviews.insert((engagement, review.kind.as_str()), review);
    }
    let mut found = Vec::new();
    for o in rows::outcomes_of(conn, &ids)? {
        let Some(line) = by_id.get(o.engagement_id.as_str()) else { continue };
        let recorded = |kind: ReviewKind| {
            reviews
                .get(&(o.engagement_id.clone(), kind.as_str()))
                .and_then(|r| r.outcomes.iter().find(|x| x.outcome_id.to_string() == o.id))
        };
        let progress = progress_share(o.baseline.as_deref(), o.target.as_deref(), o.latest_value.as_deref());
        found.push(OutcomeLine {
            engagement_id: o.engagement_id.clone(),
            engagement_title: line.title.clone(),
            coach: line.coach.clone(),
            template_id: line.template_id.clone().unwrap_or_default(),
            phase: line.phase,
            mid_actual: recorded(ReviewKind::Mid).map(|r| r.actual.clone()),
            end_actual: recorded(ReviewKind::End).map(|r| r.actual.clone()),
            achieved: recorded(ReviewKind::End).and_then(|r| r.achieved),
            outcome_id: o.id,
            title: o.title,
            baseline: o.baseline,
            target: o.target,
            unit: o.unit,
            latest: o.latest_value,
            latest_measured_at: o.latest_measured_at,
            progress,
        });
    }
    Ok(found)
}

/// Outcomes summed by a key (a template or a coach).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OutcomeAggregate {
    pub key: String,
    pub name: Option<String>,
    pub outcomes: usize,
    /// Outcomes with a progress share, and their mean.
    pub measured: usize,
    pub mean_progress: Option<f64>,
    /// Outcomes the end review recorded, and of those achieved.
    pub reviewed: usize,
    pub achieved: usize,
}

pub fn aggregate(
    lines: &[OutcomeLine],
    key: impl Fn(&OutcomeLine) -> (String, Option<String>),
) -> Vec<OutcomeAggregate> {
    let mut by: BTreeMap<String, (OutcomeAggregate, f64)> = BTreeMap::new();
    for line in lines {
        let (k, name) = key(line);
        let (entry, sum) =
            by.entry(k.clone()).or_insert_with(|| (OutcomeAggregate { key: k, name, ..Default::default() }, 0.0));
        entry.outcomes += 1;
        if let Some(p) = line.progress {
            entry.measured += 1;
            *sum += p;
        }
        if line.end_actual.is_some() {
            entry.reviewed += 1;
            entry.achieved += usize::from(line.achieved == Some(true));
        }
    }
    by.into_values()
        .map(|(mut a, sum)| {
            a.mean_progress = (a.measured > 0).then(|| (sum / a.measured as f64 * 100.0).round() / 100.0);
            a
        })
        .collect()
}

pub struct Outcomes {
    pub scope: Scope,
    pub outcomes: Vec<OutcomeLine>,
}

pub fn outcomes(conn: &mut DbConnection, caller: &Caller, query: ReportQuery) -> Result<Outcomes, StoreError> {
    let scope = scope(conn, caller, query)?;
    // Groups have no outcomes of the engagement kind: only engagements are read.
    let mut all = Vec::new();
    let mut at = Resume::Engagements(None);
    while let Resume::Engagements(_) = at {
        let (found, next) = lines(conn, &scope, &at, Detail::Figures)?;
        all.extend(outcome_lines(conn, &found)?);
        at = next;
    }
    Ok(Outcomes { scope, outcomes: all })
}
