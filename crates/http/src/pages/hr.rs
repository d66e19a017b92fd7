//! The hr_partner's workspace (and an admin's, over every organization): the organization's
//! programs with those stuck flagged, new engagements, contracts, and a dashboard of the
//! reports. Figures only, as the reports (docs/reports.md); every change is the API's command
//! with the signed-in person as the caller, its refusal shown in words on the form.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::NaiveDate;
use keel_commands::Caller;
use keel_commands::contracts::ContractView;
use keel_commands::reports::{self, Pipeline, ProgramKind, ProgramLine, ReportQuery};
use keel_domain::contract::{ContractInput, ContractPatch, format_hours, format_hundredths};
use keel_domain::engagement::{NewEngagement, Phase};
use keel_domain::page::PageRequest;
use keel_domain::user::NewUser;
use keel_domain::{ContractId, OrganizationId};

use super::chart::{self, Bar};
use super::forms::{Fields, Refused, date_field, field, hours_field, opened_at, optional, refused_by};
use super::{Chrome, PageError, Visitor, render, see_other};
use crate::problem::ApiError;
use crate::state::AppState;

/// Programs a page of the workspace's list shows.
const PER_PAGE: usize = 50;

/// The workspace's sections, for its navigation.
pub(super) fn nav(current: &'static str) -> Vec<(&'static str, &'static str, bool)> {
    [
        ("/home", "Programs"),
        ("/engagements/new", "New engagement"),
        ("/groups/new", "New group"),
        ("/people", "People"),
        ("/contracts", "Contracts"),
        ("/dashboard", "Dashboard"),
    ]
    .into_iter()
    .map(|(href, label)| (href, label, href == current))
    .collect()
}

/// The caller's workspace, or 404 for those who have none.
pub(super) fn workspace(visitor: &Visitor) -> Result<(Caller, Option<OrganizationId>), PageError> {
    let caller = visitor.require()?;
    match keel_commands::hr::workspace(&caller) {
        Some(org) => Ok((caller, org)),
        None => Err(PageError::not_found()),
    }
}

/// A choice of a select: its value, its words, whether it is chosen.
pub(super) struct Choice {
    pub(super) value: String,
    pub(super) label: String,
    pub(super) chosen: bool,
}

struct Row {
    href: String,
    title: String,
    /// The program template's name (a group: "Group").
    kind: String,
    leader: String,
    coach: String,
    phase: String,
    stuck: Option<String>,
    /// What comes next, in words (the program page's words).
    next_step: String,
    hours: String,
    contract: String,
}

#[derive(Template)]
#[template(path = "pages/hr_home.html")]
struct HomePage {
    chrome: Chrome,
    nav: Vec<(&'static str, &'static str, bool)>,
    rows: Vec<Row>,
    total: usize,
    stuck_total: usize,
    phases: Vec<Choice>,
    coaches: Vec<Choice>,
    stuck_only: bool,
    filtered: bool,
    previous: Option<String>,
    next: Option<String>,
    showing: String,
}

/// The filters and page of the workspace's list.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub phase: String,
    #[serde(default)]
    pub coach: String,
    #[serde(default)]
    pub stuck: String,
    #[serde(default)]
    pub page: String,
}

fn phase_words(line: &ProgramLine) -> String {
    match (line.phase, line.group_status) {
        (Some(phase), _) => phase.label().to_owned(),
        (None, Some("not_started")) => "Not started".to_owned(),
        (None, Some("running")) => "Running".to_owned(),
        (None, _) => "Past its planned end".to_owned(),
    }
}

fn phase_key(line: &ProgramLine) -> String {
    line.phase.map(|p| p.as_str()).or(line.group_status).unwrap_or_default().to_owned()
}

/// What comes next for a group, by its dates.
fn group_next(line: &ProgramLine) -> String {
    match line.group_status {
        Some("not_started") => format!("Starts on {}.", line.start_date.format("%-d %B %Y")),
        Some("running") => format!("Sessions until {}.", line.planned_end_date.format("%-d %B %Y")),
        _ => "Its planned end has passed.".to_owned(),
    }
}

fn stuck_words(line: &ProgramLine) -> Option<String> {
    let t = line.time_in_phase.filter(|t| t.stuck)?;
    Some(format!("Stuck: {} days in this phase (limit {})", t.days, t.limit_days.unwrap_or_default()))
}

/// The workspace's `/home`: every program of the organization (or, for an admin, of every
/// organization), filtered and a page at a time.
pub async fn home(
    state: web::Data<AppState>,
    visitor: Visitor,
    caller: Caller,
    organization: Option<OrganizationId>,
    query: ListQuery,
) -> Result<HttpResponse, PageError> {
    let stuck_only = !query.stuck.is_empty();
    let (phase, coach) = (query.phase.clone(), query.coach.clone());
    let wanted = move |l: &ProgramLine| {
        (phase.is_empty() || phase_key(l) == phase)
            && (coach.is_empty() || l.coach.0 == coach)
            && (!stuck_only || l.stuck())
    };
    let asked_page = query.page.parse::<usize>().unwrap_or(1);
    // Every program's standing (to filter, count and flag), then the figures of the page shown.
    let (lines, templates, shown, page, on_page) = state
        .run(move |conn| {
            let scope =
                reports::scope(conn, &caller, ReportQuery { organization_id: organization, ..Default::default() })?;
            let lines = reports::all_lines(conn, &scope, reports::Detail::Standing)?;
            let page = PageRequest { limit: 200, after: None };
            let templates = keel_commands::templates::list(conn, &caller, organization, page)?.items;
            let shown: Vec<&ProgramLine> = lines.iter().filter(|l| wanted(l)).collect();
            let page = asked_page.clamp(1, shown.len().div_ceil(PER_PAGE).max(1));
            let slice: Vec<&ProgramLine> = shown.iter().skip((page - 1) * PER_PAGE).take(PER_PAGE).copied().collect();
            let on_page = reports::with_figures(conn, &scope, &slice)?;
            let shown = shown.len();
            Ok((lines, templates, shown, page, on_page))
        })
        .await?;
    let template_name = |id: Option<&String>| {
        id.and_then(|id| templates.iter().find(|t| t.id.to_string() == *id)).map(|t| t.name.clone())
    };
    let mut phases: Vec<Choice> = Vec::new();
    let mut coaches: Vec<Choice> = Vec::new();
    for line in &lines {
        let key = phase_key(line);
        if !phases.iter().any(|c| c.value == key) {
            phases.push(Choice { chosen: query.phase == key, label: phase_words(line), value: key });
        }
        if !coaches.iter().any(|c| c.value == line.coach.0) {
            let chosen = query.coach == line.coach.0;
            coaches.push(Choice { value: line.coach.0.clone(), label: line.coach.1.clone(), chosen });
        }
    }
    let order = |key: &str| Phase::ALL.iter().position(|p| p.as_str() == key).unwrap_or(Phase::ALL.len());
    phases.sort_by_key(|c| order(&c.value));
    coaches.sort_by(|a, b| a.label.cmp(&b.label));
    let pages = shown.div_ceil(PER_PAGE).max(1);
    let link = |to: usize| {
        let mut parts =
            vec![("phase", query.phase.as_str()), ("coach", query.coach.as_str()), ("stuck", query.stuck.as_str())];
        let to = to.to_string();
        parts.push(("page", &to));
        let encoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(parts.into_iter().filter(|(_, v)| !v.is_empty()))
            .finish();
        format!("/home?{encoded}")
    };
    let first = (page - 1) * PER_PAGE;
    let rows: Vec<Row> = on_page
        .iter()
        .map(|l| Row {
            href: match l.kind {
                ProgramKind::Engagement => format!("/engagements/{}", l.id),
                ProgramKind::Group => format!("/groups/{}", l.id),
            },
            title: l.title.clone(),
            kind: match l.kind {
                ProgramKind::Engagement => {
                    template_name(l.template_id.as_ref()).unwrap_or_else(|| "Engagement".to_owned())
                }
                ProgramKind::Group => "Group".to_owned(),
            },
            leader: l.leader.as_ref().map(|(_, name)| name.clone()).unwrap_or_else(|| "—".to_owned()),
            coach: l.coach.1.clone(),
            phase: phase_words(l),
            stuck: stuck_words(l),
            next_step: match l.phase {
                Some(phase) => {
                    let template =
                        l.template_id.as_ref().and_then(|id| templates.iter().find(|t| t.id.to_string() == *id));
                    let next = template.and_then(|t| t.definition.forward(phase).first().copied());
                    super::program::next_text(phase, next).to_owned()
                }
                None => group_next(l),
            },
            hours: format!(
                "{} of {} h",
                format_hours(l.draw.used_minutes),
                format_hours(l.draw.planned_minutes + l.draw.extension_minutes)
            ),
            contract: l.contract.as_ref().map(|c| c.name.clone()).unwrap_or_else(|| "—".to_owned()),
        })
        .collect();
    let showing =
        if shown == 0 { String::new() } else { format!("{}–{} of {}", first + 1, first + rows.len(), shown) };
    let view = HomePage {
        chrome: visitor.chrome(),
        nav: nav("/home"),
        total: lines.len(),
        stuck_total: lines.iter().filter(|l| l.stuck()).count(),
        rows,
        phases,
        coaches,
        stuck_only,
        filtered: !query.phase.is_empty() || !query.coach.is_empty() || stuck_only,
        previous: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
        showing,
    };
    Ok(visitor.finish(render(StatusCode::OK, &view)?))
}

// ---------- contracts ----------

struct ContractRow {
    href: String,
    name: String,
    provider: String,
    period: String,
    bought: String,
    allocated: String,
    used: String,
    remaining: String,
    cost: String,
    programs: usize,
    overdrawn: bool,
}

fn contract_row(v: &ContractView) -> ContractRow {
    let c = &v.contract;
    ContractRow {
        href: format!("/contracts/{}", c.id),
        name: c.name.clone(),
        provider: c.provider.clone().unwrap_or_else(|| "—".to_owned()),
        period: format!("{} to {}", c.start_date.format("%-d %b %Y"), c.end_date.format("%-d %b %Y")),
        bought: format_hours(c.bought_minutes),
        allocated: format_hours(v.standing.allocated_minutes),
        used: format_hours(v.standing.used_minutes),
        remaining: format_hours(v.standing.remaining_minutes()),
        cost: c
            .price
            .as_ref()
            .map(|p| {
                format!(
                    "{} {} ({} per hour)",
                    format_hundredths(p.cost_of(v.standing.used_minutes)),
                    p.currency,
                    p.amount()
                )
            })
            .unwrap_or_else(|| "Not priced".to_owned()),
        programs: v.programs,
        overdrawn: v.standing.unallocated_minutes() < 0,
    }
}

/// A refused form: the status to answer, the refusal, and what was typed.
type RefusedForm = (StatusCode, Refused, Vec<(String, String)>);

/// A contract form's dates and hours, as read.
type ContractNumbers = (Option<NaiveDate>, Option<NaiveDate>, Option<f64>);

#[derive(Template)]
#[template(path = "pages/hr_contracts.html")]
struct ContractsPage {
    chrome: Chrome,
    nav: Vec<(&'static str, &'static str, bool)>,
    contracts: Vec<ContractRow>,
    /// Admins name the organization of a new contract.
    organizations: Vec<Choice>,
    refused: Option<Refused>,
    typed: Vec<(String, String)>,
    /// Editing one contract: its id and version.
    editing: Option<(String, i64)>,
    message: Option<&'static str>,
}

impl ContractsPage {
    fn typed(&self, name: &str) -> &str {
        field(&self.typed, name)
    }

    fn error(&self, name: &str) -> &str {
        self.refused.as_ref().map_or("", |r| r.error_for(name))
    }
}

async fn contracts_page(
    state: &web::Data<AppState>,
    visitor: &Visitor,
    editing: Option<ContractId>,
    refused: Option<RefusedForm>,
    message: Option<&'static str>,
) -> Result<HttpResponse, PageError> {
    let (caller, organization) = workspace(visitor)?;
    let (contracts, organizations, edited) = state
        .run(move |conn| {
            let mut all = Vec::new();
            let mut after = None;
            loop {
                let page =
                    keel_commands::contracts::list(conn, &caller, organization, PageRequest { limit: 200, after })?;
                after = page.items.last().map(|v| v.contract.id.as_uuid());
                all.extend(page.items);
                if !page.has_more {
                    break;
                }
            }
            let organizations = match organization {
                Some(_) => Vec::new(),
                None => {
                    keel_commands::organizations::list(conn, &caller, PageRequest { limit: 200, after: None })?.items
                }
            };
            let edited = editing.map(|id| keel_commands::contracts::get(conn, &caller, id)).transpose()?;
            Ok((all, organizations, edited))
        })
        .await?;
    let (status, refused, mut typed) = match refused {
        Some((status, refused, typed)) => (status, Some(refused), typed),
        None => (StatusCode::OK, None, Vec::new()),
    };
    if let (Some(seen), None) = (&edited, &refused) {
        let c = &seen.contract;
        typed = vec![
            ("name".to_owned(), c.name.clone()),
            ("provider".to_owned(), c.provider.clone().unwrap_or_default()),
            ("start_date".to_owned(), c.start_date.to_string()),
            ("end_date".to_owned(), c.end_date.to_string()),
            ("hours".to_owned(), format_hours(c.bought_minutes)),
            ("price_per_hour".to_owned(), c.price.as_ref().map(|p| p.amount()).unwrap_or_default()),
            ("currency".to_owned(), c.price.as_ref().map(|p| p.currency.clone()).unwrap_or_default()),
        ];
    }
    let chosen = field(&typed, "organization_id").to_owned();
    let view = ContractsPage {
        chrome: visitor.chrome(),
        nav: nav("/contracts"),
        contracts: contracts.iter().map(contract_row).collect(),
        organizations: organizations
            .into_iter()
            .map(|o| Choice { chosen: chosen == o.id.to_string(), value: o.id.to_string(), label: o.name })
            .collect(),
        refused,
        typed,
        editing: edited.map(|v| (v.contract.id.to_string(), v.contract.version)),
        message,
    };
    Ok(visitor.finish(render(status, &view)?))
}

#[derive(serde::Deserialize)]
pub struct Saved {
    #[serde(default)]
    saved: String,
}

pub async fn contracts(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<Saved>,
) -> Result<HttpResponse, PageError> {
    let message = (!query.saved.is_empty()).then_some("The contract is saved.");
    contracts_page(&state, &visitor, None, None, message).await
}

pub async fn contract(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<ContractId>,
) -> Result<HttpResponse, PageError> {
    contracts_page(&state, &visitor, Some(path.into_inner()), None, None).await
}

/// The contract's fields as typed: numbers that do not read are refused before any command.
fn contract_fields(fields: &[(String, String)]) -> Result<ContractNumbers, Refused> {
    let start = date_field("contract", "start_date", field(fields, "start_date"))?;
    let end = date_field("contract", "end_date", field(fields, "end_date"))?;
    let hours = match field(fields, "hours").trim() {
        "" => None,
        text => Some(text.replace(',', ".").parse::<f64>().map_err(|_| {
            Refused::unreadable("contract", "the hours", "hours", "a number of hours such as 400 or 12.5")
        })?),
    };
    Ok((start, end, hours))
}

async fn contract_refused(
    state: &web::Data<AppState>,
    visitor: &Visitor,
    editing: Option<ContractId>,
    refused: (StatusCode, Refused),
    fields: Vec<(String, String)>,
) -> Result<HttpResponse, PageError> {
    contracts_page(state, visitor, editing, Some((refused.0, refused.1, fields)), None).await
}

/// A new contract, through the API's command.
pub async fn create_contract(
    state: web::Data<AppState>,
    visitor: Visitor,
    form: Fields,
) -> Result<HttpResponse, PageError> {
    let fields = form.into_inner();
    visitor.check_form(field(&fields, "csrf"))?;
    let (caller, organization) = workspace(&visitor)?;
    let (start, end, hours) = match contract_fields(&fields) {
        Ok(read) => read,
        Err(refused) => {
            return contract_refused(&state, &visitor, None, (StatusCode::UNPROCESSABLE_ENTITY, refused), fields).await;
        }
    };
    let organization = organization.or_else(|| field(&fields, "organization_id").parse().ok());
    let input = ContractInput {
        name: field(&fields, "name").to_owned(),
        provider: optional(field(&fields, "provider")),
        start_date: start,
        end_date: end,
        hours: hours.unwrap_or(0.0),
        price_per_hour: optional(field(&fields, "price_per_hour")),
        currency: optional(field(&fields, "currency")).map(|c| c.to_uppercase()),
    };
    let result = state.run(move |conn| keel_commands::contracts::create(conn, &caller, organization, input)).await;
    match refused_by(result, "contract")? {
        Ok(_) => Ok(visitor.finish(see_other("/contracts?saved=1"))),
        Err(refused) => contract_refused(&state, &visitor, None, refused, fields).await,
    }
}

/// A contract's new terms, through the API's command, at the version the form was opened at.
pub async fn update_contract(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<ContractId>,
    form: Fields,
) -> Result<HttpResponse, PageError> {
    let fields = form.into_inner();
    visitor.check_form(field(&fields, "csrf"))?;
    let (caller, _) = workspace(&visitor)?;
    let id = path.into_inner();
    let (start, end, hours) = match contract_fields(&fields) {
        Ok(read) => read,
        Err(refused) => {
            return contract_refused(&state, &visitor, Some(id), (StatusCode::UNPROCESSABLE_ENTITY, refused), fields)
                .await;
        }
    };
    let price = optional(field(&fields, "price_per_hour"));
    let currency = optional(field(&fields, "currency")).map(|c| c.to_uppercase());
    let patch = ContractPatch {
        name: Some(field(&fields, "name").to_owned()),
        provider: Some(optional(field(&fields, "provider"))),
        start_date: start,
        end_date: end,
        hours,
        price_per_hour: Some(price),
        currency: Some(currency),
    };
    let version = opened_at(field(&fields, "version"));
    let result =
        state.run(move |conn| keel_commands::contracts::update(conn, &caller, id, version.as_ref(), &patch)).await;
    match refused_by(result, "contract")? {
        Ok(_) => Ok(visitor.finish(see_other("/contracts?saved=1"))),
        Err(refused) => contract_refused(&state, &visitor, Some(id), refused, fields).await,
    }
}

// ---------- dashboard ----------

struct Figure {
    label: String,
    cells: Vec<String>,
    flagged: bool,
}

struct Chart {
    id: String,
    title: &'static str,
    svg: String,
    headers: Vec<&'static str>,
    rows: Vec<Figure>,
    csv: String,
    /// The same report on the API.
    api: String,
    empty: &'static str,
}

#[derive(Template)]
#[template(path = "pages/hr_dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    nav: Vec<(&'static str, &'static str, bool)>,
    charts: Vec<Chart>,
}

const ALLOCATED: &str = "#9fc3e6";
const USED: &str = "#0b4f9c";
const STUCK: &str = "#a4262c";
const MOVING: &str = "#1d6b35";

pub async fn dashboard(state: web::Data<AppState>, visitor: Visitor) -> Result<HttpResponse, PageError> {
    let (caller, organization) = workspace(&visitor)?;
    let (utilization, outcomes) = state
        .run(move |conn| {
            let query = ReportQuery { organization_id: organization, ..Default::default() };
            let utilization = reports::utilization(conn, &caller, query)?;
            // The outcomes of the programs just read, not a second pass over them.
            let outcomes = reports::outcome_lines(conn, &utilization.programs)?;
            Ok((utilization, outcomes))
        })
        .await?;
    let suffix = String::new();
    let today = utilization.scope.now.date_naive();

    let contracts = &utilization.contracts;
    let usage = Chart {
        id: "utilization".to_owned(),
        title: "Hours of each contract: bought, allocated and used",
        svg: chart::bars(
            "Hours of each contract: the outline is what was bought, dark blue what was used, light blue what is allocated beyond it",
            &contracts
                .iter()
                .map(|c| Bar {
                    label: c.contract.name.clone(),
                    parts: vec![
                        (c.standing.used_minutes as f64, USED, "used"),
                        (
                            (c.standing.allocated_minutes - c.standing.used_minutes).max(0) as f64,
                            ALLOCATED,
                            "allocated",
                        ),
                    ],
                    outline: Some(c.standing.bought_minutes as f64),
                    figure: format!(
                        "{} of {} h",
                        format_hours(c.standing.used_minutes),
                        format_hours(c.standing.bought_minutes)
                    ),
                })
                .collect::<Vec<_>>(),
        ),
        headers: vec!["Contract", "Bought", "Allocated", "Used", "Remaining", "Runs out"],
        rows: contracts
            .iter()
            .map(|c| Figure {
                label: c.contract.name.clone(),
                cells: vec![
                    format!("{} h", format_hours(c.standing.bought_minutes)),
                    format!("{} h", format_hours(c.standing.allocated_minutes)),
                    format!("{} h", format_hours(c.standing.used_minutes)),
                    format!("{} h", format_hours(c.standing.remaining_minutes())),
                    c.exhaustion_date(today).map_or("—".to_owned(), |d| d.format("%-d %b %Y").to_string()),
                ],
                flagged: c.standing.unallocated_minutes() < 0,
            })
            .collect(),
        csv: format!("/reports/utilization.csv{suffix}"),
        api: "/v1/reports/utilization".to_owned(),
        empty: "No contract yet.",
    };

    // Each contract over the months: the hours used so far against what was bought.
    let mut by_month: Vec<Chart> = Vec::new();
    for c in contracts.iter().filter(|c| !c.months.is_empty()) {
        let mut so_far = 0;
        let mut cumulative = Vec::new();
        for (month, minutes) in &c.months {
            so_far += minutes;
            cumulative.push((month.clone(), *minutes, so_far));
        }
        let bought = c.standing.bought_minutes;
        by_month.push(Chart {
            id: format!("by-month-{}", by_month.len() + 1),
            title: "A contract's hours used, month by month",
            svg: chart::bars(
                &format!(
                    "{}: hours used by the end of each month (bars) against the {} hours bought (outline)",
                    c.contract.name,
                    format_hours(bought)
                ),
                &cumulative
                    .iter()
                    .map(|(month, _, total)| Bar {
                        label: month.clone(),
                        parts: vec![(*total as f64, USED, "used")],
                        outline: Some(bought as f64),
                        figure: format!("{} of {} h", format_hours(*total), format_hours(bought)),
                    })
                    .collect::<Vec<_>>(),
            ),
            headers: vec!["Month", "Used that month", "Used by then", "Of the hours bought"],
            rows: cumulative
                .iter()
                .map(|(month, minutes, total)| Figure {
                    label: format!("{month} ({})", c.contract.name),
                    cells: vec![
                        format!("{} h", format_hours(*minutes)),
                        format!("{} h", format_hours(*total)),
                        format!("{:.0} %", *total as f64 * 100.0 / bought.max(1) as f64),
                    ],
                    flagged: *total > bought,
                })
                .collect(),
            csv: format!("/reports/utilization.csv{suffix}"),
            api: "/v1/reports/utilization".to_owned(),
            empty: "No hour used yet.",
        });
    }

    let pipeline = Pipeline { scope: utilization.scope.clone(), programs: utilization.programs.clone() };
    let phases: Vec<(&'static str, usize, usize)> =
        pipeline.by_phase().into_iter().filter(|(_, programs, _)| *programs > 0).collect();
    let label = |key: &str| -> String {
        key.parse::<Phase>().map(|p| p.label().to_owned()).unwrap_or_else(|_| match key {
            "not_started" => "Groups not started".to_owned(),
            "running" => "Groups running".to_owned(),
            _ => "Groups past their end".to_owned(),
        })
    };
    let flow = Chart {
        id: "pipeline".to_owned(),
        title: "Programs by phase, stuck ones in red",
        svg: chart::bars(
            "Programs by phase: green are moving, red have been in their phase longer than the organization allows",
            &phases
                .iter()
                .map(|(key, programs, stuck)| Bar {
                    label: label(key),
                    parts: vec![((programs - stuck) as f64, MOVING, "moving"), (*stuck as f64, STUCK, "stuck")],
                    outline: None,
                    figure: if *stuck > 0 { format!("{programs} ({stuck} stuck)") } else { programs.to_string() },
                })
                .collect::<Vec<_>>(),
        ),
        headers: vec!["Phase", "Programs", "Stuck"],
        rows: phases
            .iter()
            .map(|(key, programs, stuck)| Figure {
                label: label(key),
                cells: vec![programs.to_string(), stuck.to_string()],
                flagged: *stuck > 0,
            })
            .collect(),
        csv: format!("/reports/pipeline.csv{suffix}"),
        api: "/v1/reports/pipeline".to_owned(),
        empty: "No program yet.",
    };

    let templates = reports::aggregate(&outcomes, |o| (o.template_id.clone(), None));
    let template_name = |id: &str| {
        id.parse()
            .ok()
            .and_then(keel_domain::template::built_in_template)
            .map(|t| t.name)
            .unwrap_or_else(|| "Your organization's template".to_owned())
    };
    let progress = Chart {
        id: "outcomes".to_owned(),
        title: "Outcome progress by program template",
        svg: chart::bars(
            "Mean progress of the measured outcomes from baseline to target, by program template",
            &templates
                .iter()
                .map(|t| Bar {
                    label: template_name(&t.key),
                    parts: vec![(t.mean_progress.unwrap_or(0.0).clamp(0.0, 1.0) * 100.0, USED, "progress")],
                    outline: Some(100.0),
                    figure: t.mean_progress.map_or("not measured".to_owned(), |p| format!("{:.0} %", p * 100.0)),
                })
                .collect::<Vec<_>>(),
        ),
        headers: vec!["Template", "Outcomes", "Measured", "Mean progress", "Achieved at the end"],
        rows: templates
            .iter()
            .map(|t| Figure {
                label: template_name(&t.key),
                cells: vec![
                    t.outcomes.to_string(),
                    t.measured.to_string(),
                    t.mean_progress.map_or("—".to_owned(), |p| format!("{:.0} %", p * 100.0)),
                    format!("{} of {}", t.achieved, t.reviewed),
                ],
                flagged: false,
            })
            .collect(),
        csv: format!("/reports/outcomes.csv{suffix}"),
        api: "/v1/reports/outcomes".to_owned(),
        empty: "No outcome yet.",
    };
    let mut charts = vec![usage];
    charts.extend(by_month);
    charts.extend([flow, progress]);
    let view = DashboardPage { chrome: visitor.chrome(), nav: nav("/dashboard"), charts };
    Ok(visitor.finish(render(StatusCode::OK, &view)?))
}

/// A report as CSV, downloaded from the dashboard with the signed-in person as the caller (the
/// API's `/v1/reports/…` answers API tokens).
pub async fn report_csv(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let (caller, organization) = workspace(&visitor)?;
    let name = path.into_inner();
    let report =
        name.strip_suffix(".csv").and_then(crate::api::reports::Report::named).ok_or_else(PageError::not_found)?;
    let query = ReportQuery { organization_id: organization, ..Default::default() };
    let scope = state.run(move |conn| reports::scope(conn, &caller, query)).await?;
    let mut response = crate::api::reports::csv(report, state, scope);
    super::secure(&mut response);
    Ok(visitor.finish(response))
}

// ---------- a new engagement ----------

#[derive(Template)]
#[template(path = "pages/hr_new_engagement.html")]
struct NewEngagementPage {
    chrome: Chrome,
    nav: Vec<(&'static str, &'static str, bool)>,
    organization: String,
    people: Vec<Choice>,
    sponsors: Vec<Choice>,
    coaches: Vec<Choice>,
    templates: Vec<Choice>,
    contracts: Vec<Choice>,
    refused: Option<Refused>,
    typed: Vec<(String, String)>,
}

impl NewEngagementPage {
    fn typed(&self, name: &str) -> &str {
        field(&self.typed, name)
    }

    fn error(&self, name: &str) -> &str {
        self.refused.as_ref().map_or("", |r| r.error_for(name))
    }
}

/// The organization a new engagement is made in: the hr_partner's own; an admin names it.
pub(super) fn organization_of(
    organization: Option<OrganizationId>,
    typed: &[(String, String)],
) -> Option<OrganizationId> {
    organization.or_else(|| field(typed, "organization_id").parse().ok())
}

async fn new_engagement_page(
    state: &web::Data<AppState>,
    visitor: &Visitor,
    refused: Option<(StatusCode, Refused)>,
    typed: Vec<(String, String)>,
    organization: Option<OrganizationId>,
) -> Result<HttpResponse, PageError> {
    let (caller, own) = workspace(visitor)?;
    let Some(organization) = organization.or(own) else {
        let purpose = "Choose the organization the engagement is for.";
        return choose_organization(state, visitor, caller, "/engagements/new", "New engagement", purpose).await;
    };
    let directory = state.run(move |conn| keel_commands::hr::directory(conn, &caller, organization)).await?;
    let choose = |value: String, label: String, name: &str| {
        let chosen = field(&typed, name) == value;
        Choice { value, label, chosen }
    };
    let people: Vec<(String, String)> =
        directory.people.iter().map(|u| (u.id.to_string(), format!("{} ({})", u.name, u.email.as_str()))).collect();
    let view = NewEngagementPage {
        chrome: visitor.chrome(),
        nav: nav("/engagements/new"),
        organization: organization.to_string(),
        people: people.iter().map(|(v, l)| choose(v.clone(), l.clone(), "leader_id")).collect(),
        sponsors: people.iter().map(|(v, l)| choose(v.clone(), l.clone(), "sponsor_id")).collect(),
        coaches: directory.coaches.iter().map(|u| choose(u.id.to_string(), u.name.clone(), "coach_id")).collect(),
        templates: directory
            .templates
            .iter()
            .map(|t| choose(t.id.to_string(), t.name.clone(), "template_id"))
            .collect(),
        contracts: directory
            .contracts
            .iter()
            .map(|c| {
                let label = format!("{} ({} to {})", c.name, c.start_date, c.end_date);
                choose(c.id.to_string(), label, "contract_id")
            })
            .collect(),
        refused: refused.as_ref().map(|(_, r)| r.clone()),
        typed,
    };
    let status = refused.map_or(StatusCode::OK, |(s, _)| s);
    Ok(visitor.finish(render(status, &view)?))
}

#[derive(Template)]
#[template(path = "pages/hr_choose_organization.html")]
struct ChooseOrganization {
    chrome: Chrome,
    nav: Vec<(&'static str, &'static str, bool)>,
    heading: &'static str,
    purpose: &'static str,
    organizations: Vec<(String, String)>,
}

/// An admin works in one organization at a time on the workspace's forms: first they choose
/// it, each organization linking to `page?organization_id=…`.
pub(super) async fn choose_organization(
    state: &web::Data<AppState>,
    visitor: &Visitor,
    caller: Caller,
    page: &'static str,
    heading: &'static str,
    purpose: &'static str,
) -> Result<HttpResponse, PageError> {
    let organizations = state
        .run(move |conn| keel_commands::organizations::list(conn, &caller, PageRequest { limit: 200, after: None }))
        .await?
        .items;
    let view = ChooseOrganization {
        chrome: visitor.chrome(),
        nav: nav(page),
        heading,
        purpose,
        organizations: organizations
            .into_iter()
            .map(|o| (format!("{page}?organization_id={}", o.id), o.name))
            .collect(),
    };
    Ok(visitor.finish(render(StatusCode::OK, &view)?))
}

#[derive(serde::Deserialize)]
pub struct OrganizationQuery {
    #[serde(default)]
    pub(super) organization_id: String,
}

pub async fn new_engagement(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<OrganizationQuery>,
) -> Result<HttpResponse, PageError> {
    let asked = query.organization_id.parse().ok();
    new_engagement_page(&state, &visitor, None, Vec::new(), asked).await
}

/// A new engagement, through the API's commands: a leader or sponsor not yet in Keel is added to
/// the organization first (as `POST /v1/users` does), then the engagement is created. A refused
/// engagement leaves the new people in place, chosen on the form shown again.
pub async fn create_engagement(
    state: web::Data<AppState>,
    visitor: Visitor,
    form: Fields,
) -> Result<HttpResponse, PageError> {
    let mut fields = form.into_inner();
    visitor.check_form(field(&fields, "csrf"))?;
    let (caller, own) = workspace(&visitor)?;
    let Some(organization) = organization_of(own, &fields) else { return Err(PageError::not_found()) };
    let again = |state, visitor, refused, fields| async move {
        new_engagement_page(state, visitor, Some(refused), fields, Some(organization)).await
    };
    let start = match date_field("engagement", "start_date", field(&fields, "start_date")) {
        Ok(Some(start)) => start,
        Ok(None) => {
            let refused = Refused::unreadable("engagement", "the start date", "start_date", "is required");
            return again(&state, &visitor, (StatusCode::UNPROCESSABLE_ENTITY, refused), fields).await;
        }
        Err(refused) => return again(&state, &visitor, (StatusCode::UNPROCESSABLE_ENTITY, refused), fields).await,
    };
    let budget = match hours_field("engagement", "monthly_hours_budget", field(&fields, "monthly_hours_budget")) {
        Ok(hours) => hours,
        Err(refused) => return again(&state, &visitor, (StatusCode::UNPROCESSABLE_ENTITY, refused), fields).await,
    };
    // A leader or a sponsor not in Keel yet is added to the organization first (a sponsor only
    // when one is named: none chosen and none named is the engagement's refusal).
    for who in ["leader", "sponsor"] {
        let (id, email, name) = (format!("{who}_id"), format!("{who}_email"), format!("{who}_name"));
        if field(&fields, &id).parse::<keel_domain::UserId>().is_ok() {
            continue;
        }
        let input = NewUser {
            email: field(&fields, &email).trim().to_owned(),
            name: field(&fields, &name).trim().to_owned(),
            organization_id: Some(organization),
            roles: Vec::new(),
            external_id: None,
        };
        if who == "sponsor" && input.email.is_empty() && input.name.is_empty() {
            continue;
        }
        let invite = caller.clone();
        let added = state.run(move |conn| keel_commands::users::create(conn, &invite, input)).await;
        match refused_by(added, "engagement")? {
            Ok(user) => {
                fields.retain(|(k, _)| *k != id && *k != email && *k != name);
                fields.push((id, user.id.to_string()));
            }
            Err((status, mut refused)) => {
                for (field, _) in refused.fields.iter_mut() {
                    *field = format!("{who}_{field}");
                }
                return again(&state, &visitor, (status, refused), fields).await;
            }
        }
    }
    let leader = field(&fields, "leader_id").parse().ok();
    let input = NewEngagement {
        organization_id: organization,
        title: field(&fields, "title").to_owned(),
        leader_id: leader.unwrap_or_else(keel_domain::UserId::generate),
        coach_id: field(&fields, "coach_id").parse().unwrap_or_else(|_| keel_domain::UserId::generate()),
        sponsor_ids: field(&fields, "sponsor_id").parse().ok().into_iter().collect(),
        hr_partner_id: None,
        start_date: start,
        planned_end_date: None,
        allow_any_duration: false,
        monthly_hours_budget: budget,
        template_id: field(&fields, "template_id").parse().ok(),
        contract_id: field(&fields, "contract_id").parse().ok(),
    };
    let result: Result<_, ApiError> =
        state.run(move |conn| keel_commands::engagements::create(conn, &caller, input)).await;
    match refused_by(result, "engagement")? {
        Ok(engagement) => Ok(visitor.finish(see_other(&format!("/engagements/{}", engagement.id)))),
        Err(refused) => again(&state, &visitor, refused, fields).await,
    }
}
