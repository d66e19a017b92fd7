//! An engagement's page: for its leader, the program (where it is and what comes next, outcomes
//! with their measurements drawn, upcoming sessions with a calendar file, shared summaries of
//! past sessions, homework to mark done); for a sponsor (and the coach, hr_partner or an admin),
//! the overview: phase, dates, hours against budget and the decisions waiting, never session
//! content (docs/access.md).

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use askama::Template;
use keel_commands::filters::ActionItemFilter;
use keel_commands::pages::Participants;
use keel_commands::sessions::SeenSession;
use keel_domain::coaching::{ActionItem, ActionItemChanges, ActionItemStatus, LedgerMonth, SessionStatus};
use keel_domain::engagement::{Engagement, Phase};
use keel_domain::program::{Measurement, MeasurementSource, Outcome};
use keel_domain::{ActionItemId, EngagementId, SessionId};
use serde::Deserialize;

use super::chart::{self, Point};
use super::coach::{CoachData, Drafts, coach_page, saved_message};
use super::extensions::hours;
use super::home::{Todo, todo};
use super::words;
use super::{Chrome, PageError, Visitor, after_form, render};
use crate::state::AppState;

/// What the phase means for the people in the program.
fn phase_text(phase: Phase) -> &'static str {
    match phase {
        Phase::Context => "Agreeing the outcomes the program aims at.",
        Phase::LeaderInterview => "The coach's interview with the leader.",
        Phase::StakeholderInterviews => "Colleagues give their feedback (the 360).",
        Phase::AssessmentDesign => "The coach is designing the program.",
        Phase::SponsorReview => "The leader and the sponsors review the design.",
        Phase::Coaching => "Coaching sessions.",
        Phase::MidReview => "The mid-program review.",
        Phase::EndReview => "The end-of-program review.",
        Phase::Completed => "The program is complete.",
        Phase::Renewed => "The program continued as a new engagement.",
        Phase::OnHold => "The program is on hold.",
        Phase::Cancelled => "The program was cancelled.",
    }
}

/// What comes after `phase` in this program (`next`: the step its template goes to).
pub(super) fn next_text(phase: Phase, next: Option<Phase>) -> &'static str {
    match (phase, next) {
        (Phase::Completed, _) => "Nothing: well done.",
        (Phase::Renewed, _) => "See the new engagement.",
        (Phase::OnHold, _) => "It resumes where it left off.",
        (Phase::Cancelled, _) => "Nothing.",
        (Phase::SponsorReview, _) => "Once everyone approved, coaching begins.",
        (Phase::MidReview, _) => "Coaching continues with any changes agreed.",
        (_, Some(Phase::LeaderInterview)) => "The coach interviews the leader.",
        (_, Some(Phase::StakeholderInterviews)) => "Colleagues are asked for feedback (the 360).",
        (_, Some(Phase::AssessmentDesign)) => "The coach writes the assessment and designs the program.",
        (_, Some(Phase::SponsorReview)) => "The leader and the sponsors review the design.",
        (_, Some(Phase::Coaching)) => "Coaching sessions begin.",
        (_, Some(Phase::MidReview)) => "A mid-program review compares progress with the outcomes.",
        (_, Some(Phase::EndReview)) => "The end-of-program review compares progress with the outcomes.",
        (_, _) => "The program completes, or continues with new outcomes.",
    }
}

fn dates(engagement: &Engagement) -> String {
    format!("{} to {}", engagement.start_date.format("%-d %B %Y"), engagement.planned_end_date.format("%-d %B %Y"))
}

fn source_text(source: MeasurementSource) -> &'static str {
    match source {
        MeasurementSource::Session => "a session",
        MeasurementSource::MidReview => "the mid review",
        MeasurementSource::EndReview => "the end review",
        MeasurementSource::Stakeholder => "colleagues",
    }
}

struct MeasurementView {
    at: String,
    value: String,
    source: &'static str,
}

struct OutcomeView {
    title: String,
    measure: String,
    baseline: String,
    target: String,
    /// The latest measurement and how far from baseline to target it is, in words.
    latest: String,
    progress: String,
    chart: String,
    measurements: Vec<MeasurementView>,
}

struct UpcomingView {
    when: String,
    minutes: u32,
    format: String,
    agenda: String,
    ics: String,
}

struct PastView {
    when: String,
    summary: String,
}

struct HomeworkView {
    id: ActionItemId,
    title: String,
    details: String,
    due: String,
    status: &'static str,
    open: bool,
    /// Open and past its due date.
    overdue: bool,
    action: String,
}

#[derive(Template)]
#[template(path = "pages/program.html")]
struct LeaderPage {
    chrome: Chrome,
    title: String,
    coach: String,
    program: String,
    phase: &'static str,
    phase_text: &'static str,
    next_text: &'static str,
    dates: String,
    waiting: Vec<Todo>,
    outcomes: Vec<OutcomeView>,
    upcoming: Vec<UpcomingView>,
    past: Vec<PastView>,
    homework: Vec<HomeworkView>,
    message: Option<String>,
    error: Option<String>,
}

struct SessionRow {
    when: String,
    minutes: u32,
    status: &'static str,
}

#[derive(Template)]
#[template(path = "pages/sponsor.html")]
struct OverviewPage {
    chrome: Chrome,
    /// How the reader stands to the program.
    standing: &'static str,
    title: String,
    leader: String,
    coach: String,
    program: String,
    phase: &'static str,
    phase_text: &'static str,
    dates: String,
    hours_used: String,
    hours_budget: String,
    /// The whole program's hours: the monthly budgets and the extensions approved.
    hours_total: String,
    hours_extended: String,
    /// The contract and the cost of the hours used, where priced.
    contract: Option<String>,
    /// Where the hr_partner (or an admin) changes the terms or holds the program.
    manage: Option<String>,
    extensions: Vec<ExtensionRow>,
    waiting: Vec<Todo>,
    outcomes: Vec<OutcomeView>,
    reviews: Vec<ReviewView>,
    /// The approved design version, if there is one: its number and page.
    design: Option<(i32, String)>,
    sessions: Vec<SessionRow>,
}

struct ExtensionRow {
    month: String,
    hours: String,
    status: &'static str,
    decided: String,
}

struct ReviewView {
    heading: &'static str,
    recorded: String,
    narrative: String,
    outcomes: Vec<ReviewedOutcome>,
    program_changes: String,
    achievements: String,
    next_step: &'static str,
}

struct ReviewedOutcome {
    title: String,
    intended: String,
    actual: String,
    note: String,
    achieved: &'static str,
}

fn when(t: keel_domain::time::Timestamp) -> String {
    t.format("%A %-d %B %Y, %H:%M UTC").to_string()
}

fn outcome_view(outcome: &Outcome, measurements: &[Measurement]) -> OutcomeView {
    let mine: Vec<&Measurement> = measurements.iter().filter(|m| m.outcome_id == outcome.id).collect();
    let points: Vec<Point<'_>> =
        mine.iter().map(|m| Point { label: m.measured_at.format("%b %Y").to_string(), value: &m.value }).collect();
    let base = super::designs::outcome_view(outcome);
    let latest = mine.iter().max_by_key(|m| (m.measured_at, m.id)).map(|m| m.value.clone()).unwrap_or_default();
    let progress = keel_domain::review::share_achieved(outcome, &mine)
        .map(|share| format!("{:.0}% of the way from baseline to target", share * 100.0))
        .unwrap_or_default();
    OutcomeView {
        latest,
        progress,
        chart: chart::outcome(&outcome.title, outcome.baseline.as_deref(), outcome.target.as_deref(), &points)
            .unwrap_or_default(),
        title: base.title,
        measure: base.measure,
        baseline: base.baseline,
        target: base.target,
        measurements: mine
            .iter()
            .map(|m| MeasurementView {
                at: m.measured_at.format("%-d %B %Y").to_string(),
                value: m.value.clone(),
                source: source_text(m.source),
            })
            .collect(),
    }
}

/// Everything the leader's page shows, read as the leader.
pub(super) struct LeaderData {
    engagement: Engagement,
    people: Participants,
    waiting: Vec<keel_commands::pages::Waiting>,
    outcomes: (Vec<Outcome>, Vec<Measurement>),
    sessions: Vec<SeenSession>,
    homework: Vec<ActionItem>,
}

/// What a sponsor's (or another reader's) overview shows.
pub(super) struct OverviewData {
    engagement: Engagement,
    people: Participants,
    waiting: Vec<keel_commands::pages::Waiting>,
    ledger: Vec<LedgerMonth>,
    sessions: Vec<SeenSession>,
    outcomes: (Vec<Outcome>, Vec<Measurement>),
    reviews: Vec<keel_domain::review::Review>,
    designs: Vec<keel_domain::design::Design>,
    extensions: Vec<keel_domain::coaching::Extension>,
    contract: Option<keel_domain::contract::Contract>,
    /// The reader manages the organization's programs (its hr_partner, an admin).
    manages: bool,
}

pub(super) enum Loaded {
    Coach(Box<CoachData>),
    Leader(Box<LeaderData>),
    Overview(Box<OverviewData>),
}

/// What the engagement's page shows the signed-in person: the workspace to its coach, the
/// program to its leader, the overview to everyone else who may read it.
pub(super) async fn load(state: &AppState, visitor: &Visitor, id: EngagementId) -> Result<Loaded, PageError> {
    let caller = visitor.require()?;
    let me = visitor.person.as_ref().map(|p| p.id);
    let manages = keel_commands::hr::workspace(&caller).is_some();
    Ok(state
        .run(move |conn| {
            use keel_commands::{action_items, coach, pages, program, sessions};
            let people = match coach::workspace(conn, &caller, id)? {
                Ok(workspace) => return Ok(Loaded::Coach(Box::new(CoachData { workspace }))),
                Err(people) => people,
            };
            let engagement = people.engagement.clone();
            let waiting = pages::waiting_for(conn, &caller, &engagement)?;
            let sessions = sessions::list(conn, &caller, id)?;
            if Some(engagement.leader_id) == me {
                let outcomes = program::list_outcomes(conn, &caller, id)?;
                let homework = action_items::list(conn, &caller, id, &ActionItemFilter::default())?;
                let data = LeaderData { engagement, people, waiting, outcomes, sessions, homework };
                Ok(Loaded::Leader(Box::new(data)))
            } else {
                let (_, ledger, contract) = sessions::hours(conn, &caller, id)?;
                let data = OverviewData {
                    outcomes: program::list_outcomes(conn, &caller, id)?,
                    reviews: keel_commands::reviews::recorded(conn, &caller, id)?,
                    designs: keel_commands::designs::list(conn, &caller, id)?.0,
                    extensions: keel_commands::extensions::list(conn, &caller, id)?,
                    engagement,
                    people,
                    waiting,
                    ledger,
                    sessions,
                    contract,
                    manages,
                };
                Ok(Loaded::Overview(Box::new(data)))
            }
        })
        .await?)
}

fn leader_page(visitor: &Visitor, data: LeaderData, message: Option<String>, error: Option<String>) -> LeaderPage {
    let LeaderData { engagement, people, waiting, outcomes, sessions, homework } = data;
    let now = keel_domain::time::now();
    let next_text = next_text(engagement.phase, people.next_phase);
    let phase_text = phase_text(engagement.phase);
    let upcoming = sessions
        .iter()
        .filter(|s| s.session.status == SessionStatus::Scheduled && s.session.scheduled_at >= now)
        .map(|s| UpcomingView {
            when: when(s.session.scheduled_at),
            minutes: s.session.duration_minutes,
            format: words::session_format(s.session.format).to_owned(),
            agenda: if s.view.agenda() { s.session.agenda.clone().unwrap_or_default() } else { String::new() },
            ics: format!("/engagements/{}/sessions/{}/calendar.ics", engagement.id, s.session.id),
        })
        .collect();
    let past = sessions
        .iter()
        .rev()
        .filter(|s| s.session.status == SessionStatus::Completed)
        .map(|s| PastView {
            when: when(s.session.scheduled_at),
            summary: if s.view.shared_summary {
                s.session.content.shared_summary.clone().unwrap_or_default()
            } else {
                String::new()
            },
        })
        .collect();
    LeaderPage {
        chrome: visitor.chrome(),
        title: engagement.title.clone(),
        coach: people.coach.1.clone(),
        program: people.program.clone(),
        phase: engagement.phase.label(),
        phase_text,
        next_text,
        dates: dates(&engagement),
        waiting: waiting.iter().map(todo).collect(),
        outcomes: outcomes.0.iter().map(|o| outcome_view(o, &outcomes.1)).collect(),
        upcoming,
        past,
        homework: homework
            .iter()
            .filter(|i| i.status != ActionItemStatus::Dropped)
            .map(|i| HomeworkView {
                id: i.id,
                title: i.title.clone(),
                details: i.details.clone().unwrap_or_default(),
                due: i.due_date.map(|d| d.format("%-d %B %Y").to_string()).unwrap_or_default(),
                status: words::item_status(i.status),
                open: i.status == ActionItemStatus::Open,
                overdue: i.status == ActionItemStatus::Open && i.due_date.is_some_and(|d| d < now.date_naive()),
                action: format!("/engagements/{}/action-items/{}/done", engagement.id, i.id),
            })
            .collect(),
        message,
        error,
    }
}

fn overview_page(visitor: &Visitor, data: OverviewData) -> OverviewPage {
    let OverviewData {
        engagement,
        people,
        waiting,
        ledger,
        sessions,
        outcomes,
        reviews,
        designs,
        extensions,
        contract,
        manages,
    } = data;
    let all_used: i64 = ledger.iter().map(|m| m.used_minutes).sum();
    // The contract the hours come from and, where it is priced, what the hours used cost
    // (docs/contracts.md): the sponsor's, the hr_partner's and admins' to read.
    let contract = contract.map(|c| match &c.price {
        Some(price) => format!(
            "Drawn from the contract \u{201c}{}\u{201d} at {} {} an hour; hours used so far: {}, costing {} {}",
            c.name,
            price.amount(),
            price.currency,
            hours(all_used),
            keel_domain::contract::format_hundredths(price.cost_of(all_used)),
            price.currency
        ),
        None => format!("Drawn from the contract \u{201c}{}\u{201d} (not priced)", c.name),
    });
    let phase_text = phase_text(engagement.phase);
    let today = keel_domain::time::now();
    let so_far: Vec<&LedgerMonth> = ledger.iter().filter(|m| m.month.first_day() <= today.date_naive()).collect();
    let used: i64 = so_far.iter().map(|m| m.used_minutes).sum();
    let budget: i64 = so_far.iter().map(|m| m.available_minutes()).sum();
    let extended: i64 = ledger.iter().map(|m| m.extension_minutes).sum();
    let total: i64 = ledger.iter().map(|m| m.budget_minutes).sum::<i64>() + extended;
    let me = visitor.person.as_ref().map(|p| p.id);
    let standing = match me {
        Some(me) if engagement.is_sponsor(me) => "You sponsor this program.",
        Some(me) if engagement.coach_id == me => "You coach this program.",
        _ => "You follow this program for the organization.",
    };
    let titles = |id| outcomes.0.iter().find(|o| o.id == id);
    OverviewPage {
        chrome: visitor.chrome(),
        standing,
        title: engagement.title.clone(),
        leader: people.leader.1.clone(),
        coach: people.coach.1.clone(),
        program: people.program.clone(),
        phase: engagement.phase.label(),
        phase_text,
        dates: dates(&engagement),
        hours_used: hours(used),
        hours_budget: hours(budget),
        hours_total: hours(total),
        hours_extended: hours(extended),
        contract,
        manage: manages.then(|| format!("/engagements/{}/manage", engagement.id)),
        extensions: extensions
            .iter()
            .map(|x| ExtensionRow {
                month: x.month.first_day().format("%B %Y").to_string(),
                hours: hours(x.minutes),
                status: words::extension_status(x.status),
                decided: match (x.decided_by, x.decided_at) {
                    (Some(who), Some(at)) => format!("{}, {}", people.name_of(who), at.format("%-d %B %Y")),
                    _ => String::new(),
                },
            })
            .collect(),
        waiting: waiting.iter().map(todo).collect(),
        outcomes: outcomes.0.iter().map(|o| outcome_view(o, &outcomes.1)).collect(),
        reviews: reviews
            .iter()
            .map(|r| ReviewView {
                heading: match r.kind {
                    keel_domain::review::ReviewKind::Mid => "Mid-program review",
                    keel_domain::review::ReviewKind::End => "End-of-program review",
                },
                recorded: r.recorded_at.format("%-d %B %Y").to_string(),
                narrative: r.narrative.clone(),
                outcomes: r
                    .outcomes
                    .iter()
                    .map(|o| {
                        let outcome = titles(o.outcome_id);
                        ReviewedOutcome {
                            title: outcome.map(|o| o.title.clone()).unwrap_or_else(|| "A removed outcome".to_owned()),
                            intended: outcome.map(|o| super::designs::outcome_view(o).target).unwrap_or_default(),
                            actual: o.actual.clone(),
                            note: o.note.clone().unwrap_or_default(),
                            achieved: match o.achieved {
                                Some(true) => "Achieved",
                                Some(false) => "Not achieved",
                                None => "",
                            },
                        }
                    })
                    .collect(),
                program_changes: r.program_changes.clone().unwrap_or_default(),
                achievements: r.achievements.clone().unwrap_or_default(),
                next_step: match r.next_step {
                    Some(keel_domain::review::NextStep::Completed) => "The program completes.",
                    Some(keel_domain::review::NextStep::Renewed) => "The program is renewed.",
                    None => "",
                },
            })
            .collect(),
        design: designs
            .iter()
            .rev()
            .find(|d| d.status == keel_domain::design::DesignStatus::Approved)
            .map(|d| (d.version, format!("/engagements/{}/designs/{}", engagement.id, d.version))),
        sessions: sessions
            .iter()
            .map(|s| SessionRow {
                when: when(s.session.scheduled_at),
                minutes: s.session.duration_minutes,
                status: words::session_status(s.session.status),
            })
            .collect(),
    }
}

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    saved: Option<String>,
}

pub async fn engagement(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<EngagementId>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, PageError> {
    let message = query.done.as_ref().map(|_| "Marked done. Your coach will see it with your note.".to_owned());
    match load(&state, &visitor, path.into_inner()).await? {
        Loaded::Coach(data) => {
            let saved = query.saved.as_deref().and_then(saved_message);
            Ok(visitor.finish(render(StatusCode::OK, &coach_page(&visitor, *data, saved, Drafts::default(), None))?))
        }
        Loaded::Leader(data) => {
            Ok(visitor.finish(render(StatusCode::OK, &leader_page(&visitor, *data, message, None))?))
        }
        Loaded::Overview(data) => Ok(visitor.finish(render(StatusCode::OK, &overview_page(&visitor, *data))?)),
    }
}

/// A session's calendar file, for the leader (and the coach).
pub async fn calendar(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(EngagementId, SessionId)>,
) -> Result<HttpResponse, PageError> {
    let caller = visitor.require()?;
    let key = path.into_inner();
    let ics = state.run(move |conn| keel_commands::sessions::calendar(conn, &caller, key)).await?;
    let mut response = HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"session.ics\""))
        .body(ics);
    super::secure(&mut response);
    Ok(response)
}

#[derive(Deserialize)]
pub struct DoneForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    note: String,
}

/// The leader marks homework done, with an optional note, through the API's command.
pub async fn homework_done(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(EngagementId, ActionItemId)>,
    form: web::Form<DoneForm>,
) -> Result<HttpResponse, PageError> {
    visitor.check_form(&form.csrf)?;
    let caller = visitor.require()?;
    let (id, item) = path.into_inner();
    let note = form.note.trim().to_owned();
    let changes = ActionItemChanges {
        status: Some(ActionItemStatus::Done),
        leader_note: if note.is_empty() { None } else { Some(Some(note)) },
        ..ActionItemChanges::default()
    };
    let done =
        state.run(move |conn| keel_commands::action_items::update(conn, &caller, (id, item), None, &changes)).await;
    let (status, error) = match after_form(done, &format!("/engagements/{id}?done=1"))? {
        Ok(redirect) => return Ok(redirect),
        Err(refused) => refused,
    };
    match load(&state, &visitor, id).await? {
        Loaded::Leader(data) => Ok(visitor.finish(render(status, &leader_page(&visitor, *data, None, Some(error)))?)),
        Loaded::Coach(_) | Loaded::Overview(_) => Err(PageError::not_found()),
    }
}
