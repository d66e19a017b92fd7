//! States of the program reached through the application layer: the `keel_commands` functions the
//! API's handlers call, run directly on the test's database, with the callers the API would
//! resolve from their tokens. A test about what comes after a phase starts there in one step
//! instead of walking to it over HTTP (the walk itself is tested over HTTP once, in
//! `tests/api/designs.rs`).

use std::collections::HashMap;

use actix_web::http::Method;
use chrono::NaiveDate;
use keel_commands::{Caller, DbConnection, designs, engagements, organizations, program, stakeholders, users};
use keel_domain::audit::{Actor, CommandContext};
use keel_domain::design::{DesignInput, DesignItem, ItemKind, Verdict};
use keel_domain::engagement::{NewEngagement, Phase};
use keel_domain::organization::NewOrganization;
use keel_domain::policy::Principal;
use keel_domain::program::{ContextMeetingInput, LeaderInterviewInput, OutcomeChanges};
use keel_domain::stakeholders::{RaterChanges, Relationship, ThemeChanges, ThemeKind};
use keel_domain::user::{NewUser, Role};
use keel_domain::{EngagementId, UserId};
use serde_json::Value;

use crate::{Response, TestApp};

/// The request id the fixtures' changes are recorded with.
pub const REQUEST_ID: &str = "fixture";

/// `user` acting through the application layer, as the API resolves them from a token.
pub fn caller(conn: &mut DbConnection, user: UserId) -> Caller {
    let user = keel_persistence::repo::users::get(conn, user).expect("the caller exists");
    Caller {
        principal: Principal::for_user(&user),
        ctx: CommandContext { actor: Actor::User { id: user.id.to_string() }, request_id: REQUEST_ID.to_owned() },
    }
}

/// The bootstrapped admin of `app`.
pub fn admin(app: &TestApp, conn: &mut DbConnection) -> Caller {
    caller(conn, app.admin_id.parse().expect("the admin's id"))
}

fn date(text: &str) -> Option<NaiveDate> {
    Some(text.parse().expect("a date"))
}

/// An engagement of the organization Acme, and the tokens of the people in it: `leader`,
/// `sponsor`, `sponsor2` (leader@acme.test, sponsor@acme.test, cfo@acme.test) and `coach`
/// (coach@provider.test).
pub struct Program {
    /// `/v1/engagements/{engagement}`
    pub base: String,
    pub engagement: String,
    pub tokens: HashMap<&'static str, String>,
    /// The one outcome, "Delegates" (baseline 2, target 8).
    pub outcome: String,
    /// The one theme, "Calm" (a strength), released.
    pub theme: String,
}

impl Program {
    /// Sends a request as `who` to `path` under the engagement.
    pub async fn call(&self, app: &TestApp, who: &str, method: Method, path: &str, body: Option<Value>) -> Response {
        app.call_as(Some(&self.tokens[who]), method, &format!("{}{path}", self.base), &[], body.as_ref()).await
    }
}

/// The people of a [`Program`] as the application layer sees them.
struct People {
    coach: Caller,
    leader: Caller,
    sponsor: Caller,
    sponsor2: Caller,
}

/// An engagement with two sponsors in `assessment_design`: the outcome defined, the context
/// meeting and leader interview recorded, three raters ("Rater-Secret-0…2", notes
/// "NOTES-SECRET-0…2") interviewed, the theme released. The same state as walking there over HTTP.
pub async fn to_assessment_design(app: &TestApp) -> Program {
    let database = app.db.open();
    let conn = &mut *database.conn().expect("a connection");
    to_assessment_design_in(app, conn).0
}

/// [`to_assessment_design`], then design version 1 drafted from [`design_input`], submitted,
/// approved by the leader and both sponsors, and the program moved on to `coaching`.
pub async fn to_coaching(app: &TestApp) -> Program {
    let database = app.db.open();
    let conn = &mut *database.conn().expect("a connection");
    let (p, people) = to_assessment_design_in(app, conn);
    let id = engagement_id(&p);
    designs::create(conn, &people.coach, id, None, &design_input(&p)).expect("design v1");
    designs::submit(conn, &people.coach, (id, 1), None, &keel_commands::pages::Links::default()).expect("submitted");
    for approver in [&people.leader, &people.sponsor, &people.sponsor2] {
        designs::decide(conn, approver, (id, 1), Verdict::Approve, None).expect("approved");
    }
    engagements::transition(conn, &people.coach, id, None, Phase::Coaching, None).expect("to coaching");
    p
}

/// Design version 1 as the fixtures draft it: a summary, the theme and the outcome, a daily
/// practice and a reading.
pub fn design_input(p: &Program) -> DesignInput {
    let item = |kind, title: &str, cadence: Option<&str>| DesignItem {
        kind,
        title: title.to_owned(),
        description: None,
        cadence: cadence.map(str::to_owned),
    };
    DesignInput {
        summary: Some("Delegation first, then coaching the team".to_owned()),
        theme_ids: Some(vec![p.theme.parse().expect("theme id")]),
        outcome_ids: Some(vec![p.outcome.parse().expect("outcome id")]),
        items: Some(vec![
            item(ItemKind::Practice, "Delegate one decision a day", Some("daily")),
            item(ItemKind::Reading, "Turn the Ship Around", None),
        ]),
    }
}

fn engagement_id(p: &Program) -> keel_domain::EngagementId {
    p.engagement.parse().expect("engagement id")
}

/// An engagement just created (in `context`, nothing recorded), with its people: ids by name,
/// their tokens, and their callers.
fn started_in(app: &TestApp, conn: &mut DbConnection) -> (EngagementId, HashMap<&'static str, String>, People) {
    let admin = admin(app, conn);
    let org = organizations::create(conn, &admin, NewOrganization { name: "Acme".to_owned(), ..Default::default() })
        .expect("organization")
        .id;
    let mut ids = HashMap::new();
    let mut tokens = HashMap::new();
    for (who, email, organization, roles) in [
        ("leader", "leader@acme.test", Some(org), vec![]),
        ("sponsor", "sponsor@acme.test", Some(org), vec![]),
        ("sponsor2", "cfo@acme.test", Some(org), vec![]),
        ("coach", "coach@provider.test", None, vec![Role::Coach]),
    ] {
        let input = NewUser {
            email: email.to_owned(),
            name: who.to_owned(),
            organization_id: organization,
            roles,
            external_id: None,
        };
        ids.insert(who, users::create(conn, &admin, input).expect("user").id);
        tokens.insert(who, app.token_for(email));
    }
    let people = People {
        coach: caller(conn, ids["coach"]),
        leader: caller(conn, ids["leader"]),
        sponsor: caller(conn, ids["sponsor"]),
        sponsor2: caller(conn, ids["sponsor2"]),
    };
    let input = NewEngagement {
        contract_id: None,
        organization_id: org,
        title: "Leading".to_owned(),
        leader_id: ids["leader"],
        coach_id: ids["coach"],
        sponsor_ids: vec![ids["sponsor"], ids["sponsor2"]],
        hr_partner_id: None,
        start_date: date("2026-01-15").expect("date"),
        planned_end_date: None,
        allow_any_duration: false,
        monthly_hours_budget: None,
        template_id: None,
    };
    let id = engagements::create(conn, &admin, input).expect("engagement").id;
    (id, tokens, people)
}

/// An engagement just created by an admin: in `context`, no outcome, nothing recorded (the
/// program's `outcome` and `theme` are empty).
pub async fn in_context(app: &TestApp) -> Program {
    let database = app.db.open();
    let conn = &mut *database.conn().expect("a connection");
    let (id, tokens, _) = started_in(app, conn);
    Program {
        base: format!("/v1/engagements/{id}"),
        engagement: id.to_string(),
        tokens,
        outcome: String::new(),
        theme: String::new(),
    }
}

fn to_assessment_design_in(app: &TestApp, conn: &mut DbConnection) -> (Program, People) {
    let (id, tokens, people) = started_in(app, conn);
    let coach = &people.coach;
    let move_to = |conn: &mut DbConnection, to: Phase| {
        engagements::transition(conn, coach, id, None, to, None).unwrap_or_else(|e| panic!("to {to}: {e:?}"));
    };

    let outcome = OutcomeChanges {
        title: Some("Delegates".to_owned()),
        description: Some(None),
        measure: Some(Some("log".to_owned())),
        baseline: Some(Some("2".to_owned())),
        target: Some(Some("8".to_owned())),
        unit: Some(None),
    };
    let outcome = program::create_outcome(conn, coach, id, &outcome).expect("outcome").id;
    let context = ContextMeetingInput {
        met_on: date("2026-01-12"),
        attendees: vec!["Coach".to_owned(), "Leader".to_owned()],
        notes: None,
        benchmarks: Vec::new(),
    };
    program::put_context(conn, coach, id, None, context).expect("context meeting");
    move_to(conn, Phase::LeaderInterview);
    let interview = LeaderInterviewInput { interviewed_on: date("2026-01-20"), ..Default::default() };
    program::put_leader_interview(conn, coach, id, None, interview).expect("leader interview");
    move_to(conn, Phase::StakeholderInterviews);
    for i in 0..3 {
        let rater = RaterChanges {
            name: Some(format!("Rater-Secret-{i}")),
            email: Some(Some(format!("rater.secret{i}@acme.test"))),
            relationship: Some(Relationship::Peer),
        };
        let rater = stakeholders::create_rater(conn, coach, id, &rater).expect("rater").id;
        let notes = format!("NOTES-SECRET-{i}");
        stakeholders::record_interview(conn, coach, (id, rater), date("2026-02-01"), &notes).expect("interview");
    }
    let theme =
        ThemeChanges { kind: Some(ThemeKind::Strength), title: Some("Calm".to_owned()), description: Some(None) };
    let theme = stakeholders::create_theme(conn, coach, id, &theme).expect("theme").id;
    stakeholders::release_themes(conn, coach, id).expect("themes released");
    move_to(conn, Phase::AssessmentDesign);

    let program = Program {
        base: format!("/v1/engagements/{id}"),
        engagement: id.to_string(),
        tokens,
        outcome: outcome.to_string(),
        theme: theme.to_string(),
    };
    (program, people)
}

/// Dates everyone now in `group` as having joined on `at` (`YYYY-MM-DD HH:MM:SS`, UTC). Tests
/// schedule group sessions on fixed dates while people join when the test runs, and a
/// participant reads only the sessions held while they were in the group.
pub fn backdate_memberships(app: &TestApp, group: &str, at: &str) {
    use diesel::RunQueryDsl;
    let database = app.db.open();
    let mut conn = database.conn().expect("a connection");
    diesel::sql_query(format!(
        "UPDATE group_members SET joined_at = '{at}' WHERE group_id = '{group}' AND left_at IS NULL"
    ))
    .execute(&mut *conn)
    .expect("memberships backdated");
}
