//! The authorization matrix: for every operation in the OpenAPI document and every kind of actor,
//! the expected status. An operation without an entry here fails the test, so no endpoint ships
//! without a decision on who may call it.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::http::Method;
use base64::Engine;
use keel_tests::{TestApp, both_backends};
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Who {
    Admin,
    /// hr_partner of the organization the resources belong to.
    HrSame,
    /// hr_partner of another organization.
    HrOther,
    /// A provider-side coach.
    Coach,
    Leader,
    Sponsor,
    /// A user of the same organization with no role and no relationship.
    Unrelated,
    /// An API client of the organization with every scope.
    ClientScoped,
    /// An API client of the organization with only reports:read.
    ClientUnscoped,
    Anonymous,
}

const EVERYONE: [Who; 10] = [
    Who::Admin,
    Who::HrSame,
    Who::HrOther,
    Who::Coach,
    Who::Leader,
    Who::Sponsor,
    Who::Unrelated,
    Who::ClientScoped,
    Who::ClientUnscoped,
    Who::Anonymous,
];

/// The expected status of `op` for `who`; `None` when the operation has no entry.
fn expected(op: &str, who: Who) -> Option<u16> {
    use Who::*;
    let authenticated = |ok: u16| if who == Anonymous { 401 } else { ok };
    // Admin and the organization's hr_partner manage it; its other members see but may not act;
    // outsiders get 404.
    let org_managed = |ok: u16| match who {
        Admin | HrSame => ok,
        Leader | Sponsor | Unrelated | ClientScoped | ClientUnscoped => 403,
        HrOther | Coach => 404,
        Anonymous => 401,
    };
    // Users of the organization: admin, its hr_partner and its API client with the scope.
    let user_managed = |ok: u16| match who {
        Admin | HrSame | ClientScoped => ok,
        ClientUnscoped => 403,
        HrOther | Coach | Leader | Sponsor | Unrelated => 404,
        Anonymous => 401,
    };
    Some(match op {
        "healthz" | "readyz" | "metrics" | "openapi_json" | "issue_token" => 200,
        // Public by design: always 202 (no enumeration); redeeming a made-up code is a 400.
        "create_sign_in_link" => 202,
        "redeem_sign_in_link" => 400,
        "get_me" | "list_organizations" => authenticated(200),
        "create_organization" => match who {
            Admin => 201,
            Anonymous => 401,
            _ => 403,
        },
        "get_organization" => match who {
            HrOther | Coach => 404,
            _ => authenticated(200),
        },
        "update_organization" => match who {
            ClientScoped => 403,
            _ => org_managed(200),
        },
        "create_api_client" => org_managed(201),
        "list_api_clients" | "rotate_api_client_secret" => org_managed(200),
        "revoke_api_client" => org_managed(204),
        "create_user" => match who {
            Admin | HrSame | ClientScoped => 201,
            Anonymous => 401,
            _ => 403,
        },
        "list_users" => match who {
            ClientUnscoped => 403,
            _ => authenticated(200),
        },
        "get_user" | "update_user" => user_managed(200),
        "deactivate_user" => user_managed(204),
        // The leader's own calendar feed: they make it; an admin reads and stops it but may not
        // make one for them; everyone else finds nothing.
        "create_calendar_feed" => match who {
            Leader => 201,
            Admin => 403,
            Anonymous => 401,
            _ => 404,
        },
        "get_calendar_feed" | "revoke_calendar_feed" => match who {
            Leader | Admin => {
                if op == "get_calendar_feed" {
                    200
                } else {
                    204
                }
            }
            Anonymous => 401,
            _ => 404,
        },
        "create_engagement" => match who {
            Admin | HrSame | ClientScoped => 201,
            Anonymous => 401,
            _ => 403,
        },
        "list_engagements" => match who {
            ClientUnscoped => 403,
            _ => authenticated(200),
        },
        // Participants and the organization's managers see it; other tenants and unrelated
        // people get 404.
        "get_engagement" | "get_timeline" => match who {
            Admin | HrSame | ClientScoped | Coach | Leader | Sponsor => 200,
            ClientUnscoped => 403,
            HrOther | Unrelated => 404,
            Anonymous => 401,
        },
        // docs/access.md, per part. Only the coach writes; a reader who may not read a part gets 404.
        "list_outcomes" => match who {
            Admin | HrSame | ClientScoped | Coach | Leader | Sponsor => 200,
            ClientUnscoped => 403,
            HrOther | Unrelated => 404,
            Anonymous => 401,
        },
        "create_outcome" | "create_measurement" | "update_outcome" | "delete_outcome" => match who {
            Coach => match op {
                "create_outcome" | "create_measurement" => 201,
                "delete_outcome" => 204,
                _ => 200,
            },
            Admin | HrSame | ClientScoped | Leader | Sponsor | ClientUnscoped => 403,
            HrOther | Unrelated => 404,
            Anonymous => 401,
        },
        "get_context" | "put_context" => match who {
            Coach => 200,
            Leader | Sponsor if op == "get_context" => 200,
            Leader | Sponsor | ClientUnscoped => 403,
            Admin | HrSame | ClientScoped | HrOther | Unrelated => 404,
            Anonymous => 401,
        },
        "get_leader_interview" | "put_leader_interview" => match who {
            Coach => 200,
            ClientUnscoped => 403,
            Anonymous => 401,
            _ => 404,
        },
        // The matrix request changes the title; who may change budget, dates and people is in
        // `engagement_change` below.
        "update_engagement" => engagement_change(EngagementField::Title, who),
        // 360 raters and what they said: the coach's alone; everyone else gets 404.
        "list_raters"
        | "get_rater"
        | "create_rater"
        | "update_rater"
        | "delete_rater"
        | "put_rater_interview"
        | "invite_rater" => match who {
            Coach => match op {
                "create_rater" => 201,
                "delete_rater" => 204,
                "invite_rater" => 202,
                _ => 200,
            },
            ClientUnscoped => 403,
            Anonymous => 401,
            _ => 404,
        },
        // A rater's code is the only credential; nobody's access token is one.
        "submit_feedback" => 401,
        // Themes: the coach writes; leader and sponsors read (released ones).
        "list_themes" | "create_theme" | "update_theme" | "delete_theme" | "release_themes" => match who {
            Coach => match op {
                "create_theme" => 201,
                "delete_theme" => 204,
                _ => 200,
            },
            Leader | Sponsor if op == "list_themes" => 200,
            Leader | Sponsor | ClientUnscoped => 403,
            Anonymous => 401,
            _ => 404,
        },
        // Designs: everyone related reads; the coach writes; leader and sponsors decide. The world's
        // version 1 is an empty draft: submitting it is a 422, deciding on it a 409, and a second
        // draft is a 409, so these calls leave the world as it was.
        "list_designs" | "get_design" => match who {
            Admin | HrSame | ClientScoped | Coach | Leader | Sponsor => 200,
            ClientUnscoped => 403,
            HrOther | Unrelated => 404,
            Anonymous => 401,
        },
        "create_design" | "update_design" | "submit_design" => match who {
            Coach => match op {
                "create_design" => 409,
                "submit_design" => 422,
                _ => 200,
            },
            Admin | HrSame | ClientScoped | Leader | Sponsor | ClientUnscoped => 403,
            HrOther | Unrelated => 404,
            Anonymous => 401,
        },
        "decide_design" => match who {
            Leader | Sponsor => 409,
            Admin | HrSame | ClientScoped | Coach | ClientUnscoped => 403,
            HrOther | Unrelated => 404,
            Anonymous => 401,
        },
        // Sessions: everyone related reads (content by view); the coach schedules and changes, the
        // leader may request a time; API clients and admins do not run sessions.
        "list_sessions" | "get_session" | "get_hours" | "list_extensions" => match who {
            Admin | HrSame | ClientScoped | Coach | Leader | Sponsor => 200,
            ClientUnscoped => 403,
            HrOther | Unrelated => 404,
            Anonymous => 401,
        },
        "schedule_session" => match who {
            Coach | Leader => 201,
            Admin | HrSame | ClientScoped | Sponsor | ClientUnscoped => 403,
            HrOther | Unrelated => 404,
            Anonymous => 401,
        },
        "update_session" | "complete_session" => match who {
            Coach => 200,
            Admin | HrSame | ClientScoped | Leader | Sponsor | ClientUnscoped => 403,
            HrOther | Unrelated => 404,
            Anonymous => 401,
        },
        "request_extension" => match who {
            Coach => 201,
            Admin | HrSame | ClientScoped | Leader | Sponsor | ClientUnscoped => 403,
            HrOther | Unrelated => 404,
            Anonymous => 401,
        },
        // Action items: the coach and the leader only (the leader marks them done).
        "list_action_items" | "create_action_item" | "update_action_item" => match who {
            Coach if op == "create_action_item" => 201,
            Coach => 200,
            Leader if op == "create_action_item" => 403,
            Leader => 200,
            ClientUnscoped => 403,
            Anonymous => 401,
            _ => 404,
        },
        // Reviews and progress: everyone who sees outcomes reads them; the coach records them (in
        // this world outside their phase: a 409 that changes nothing).
        "get_mid_review" | "get_end_review" | "get_progress" => match who {
            Admin | HrSame | ClientScoped | Coach | Leader | Sponsor => 200,
            ClientUnscoped => 403,
            HrOther | Unrelated => 404,
            Anonymous => 401,
        },
        "put_mid_review" | "put_end_review" => match who {
            Coach => 409,
            Admin | HrSame | ClientScoped | Leader | Sponsor | ClientUnscoped => 403,
            HrOther | Unrelated => 404,
            Anonymous => 401,
        },
        // The audit log: admins, hr_partners (their organization's) and API clients with
        // reports:read (both of this world's clients have it).
        // The organization's webhooks: admins, its hr_partner and its API client with
        // webhooks:manage; its other members 403, outsiders 404. A pending delivery is not
        // re-sent (409), which proves the caller got past the policy.
        "create_webhook"
        | "get_webhook"
        | "update_webhook"
        | "rotate_webhook_secret"
        | "list_webhook_deliveries"
        | "delete_webhook"
        | "resend_webhook_delivery" => match who {
            Admin | HrSame | ClientScoped => match op {
                "create_webhook" => 201,
                "delete_webhook" => 204,
                "resend_webhook_delivery" => 409,
                _ => 200,
            },
            Leader | Sponsor | Unrelated | ClientUnscoped => 403,
            HrOther | Coach => 404,
            Anonymous => 401,
        },
        // Contracts: admins and the organization's hr_partner manage them; API clients read
        // with reports:read (both of this world's) and change with engagements:write.
        "create_contract" | "update_contract" | "delete_contract" | "get_contract" => match who {
            Admin | HrSame | ClientScoped => match op {
                "create_contract" => 201,
                "delete_contract" => 204,
                _ => 200,
            },
            ClientUnscoped if op == "get_contract" => 200,
            Leader | Sponsor | Unrelated | ClientUnscoped => 403,
            HrOther | Coach => 404,
            Anonymous => 401,
        },
        // Reports: the organization's hr_partner (another organization's reads its own, empty),
        // API clients with reports:read, admins.
        "utilization_report" | "pipeline_report" | "outcomes_report" | "participation_report" => match who {
            Admin | HrSame | HrOther | ClientScoped | ClientUnscoped => 200,
            Coach | Leader | Sponsor | Unrelated => 403,
            Anonymous => 401,
        },
        "list_contracts" => match who {
            Admin | HrSame | HrOther | ClientScoped | ClientUnscoped => 200,
            Coach | Leader | Sponsor | Unrelated => 403,
            Anonymous => 401,
        },
        "list_webhooks" => match who {
            Admin | HrSame | HrOther | ClientScoped => 200,
            Coach | Leader | Sponsor | Unrelated | ClientUnscoped => 403,
            Anonymous => 401,
        },
        // Groups: their hr_partner and admins manage them; the coach runs the sessions; the
        // sponsor and the participants (the leader here) read; a participant's own items are the
        // coach's and theirs alone (404 for everyone else, admins included).
        "create_group" => match who {
            Admin | HrSame | ClientScoped => 201,
            Anonymous => 401,
            _ => 403,
        },
        "list_groups" => match who {
            ClientUnscoped => 403,
            _ => authenticated(200),
        },
        "get_group" | "list_members" | "list_group_sessions" | "get_group_session" | "get_group_hours" => match who {
            Admin | HrSame | ClientScoped | Coach | Leader | Sponsor => 200,
            ClientUnscoped => 403,
            HrOther | Unrelated => 404,
            Anonymous => 401,
        },
        "update_group" | "add_member" | "remove_member" => match who {
            Admin | HrSame | ClientScoped => match op {
                "add_member" => 201,
                "remove_member" => 204,
                _ => 200,
            },
            Coach | Leader | Sponsor | ClientUnscoped => 403,
            HrOther | Unrelated => 404,
            Anonymous => 401,
        },
        "schedule_group_session" | "update_group_session" | "complete_group_session" => match who {
            Coach => {
                if op == "schedule_group_session" {
                    201
                } else {
                    200
                }
            }
            Admin | HrSame | ClientScoped | Leader | Sponsor | ClientUnscoped => 403,
            HrOther | Unrelated => 404,
            Anonymous => 401,
        },
        "list_participant_outcomes" | "list_participant_action_items" | "update_participant_action_item" => match who {
            Coach => 200,
            Leader => 200,
            ClientUnscoped => 403,
            Admin | HrSame | ClientScoped | Sponsor | HrOther | Unrelated => 404,
            Anonymous => 401,
        },
        "create_participant_outcome" | "create_participant_action_item" => match who {
            Coach => 201,
            Leader | ClientUnscoped => 403,
            Admin | HrSame | ClientScoped | Sponsor | HrOther | Unrelated => 404,
            Anonymous => 401,
        },
        // Program templates: everyone reads the built-in ones and their organization's (coaches and
        // admins every organization's); admins, the organization's hr_partner and its API client
        // with engagements:write create and change them.
        "list_templates" => match who {
            ClientUnscoped => 403,
            _ => authenticated(200),
        },
        "get_template" | "get_template_version" => match who {
            ClientUnscoped => 403,
            HrOther => 404,
            _ => authenticated(200),
        },
        "create_template" | "update_template" => match who {
            Admin | HrSame | ClientScoped => {
                if op == "create_template" {
                    201
                } else {
                    200
                }
            }
            Coach | Leader | Sponsor | Unrelated | ClientUnscoped => 403,
            HrOther => 404,
            Anonymous => 401,
        },
        "list_audit_events" => match who {
            Admin | HrSame | HrOther | ClientScoped | ClientUnscoped => 200,
            Coach | Leader | Sponsor | Unrelated => 403,
            Anonymous => 401,
        },
        // A sponsor decides; the leader does not.
        "decide_extension" => match who {
            Sponsor => 200,
            Admin | HrSame | ClientScoped | Coach | Leader | ClientUnscoped => 403,
            HrOther | Unrelated => 404,
            Anonymous => 401,
        },
        // Putting the program on hold: the coach, the hr_partner (and its API client), admins.
        "transition_engagement" => match who {
            Admin | HrSame | ClientScoped | Coach => 200,
            Leader | Sponsor | ClientUnscoped => 403,
            HrOther | Unrelated => 404,
            Anonymous => 401,
        },
        _ => return None,
    })
}

/// A person whose record is changed, as seen from the organization "Acme".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Person {
    /// A member of the organization with no global role.
    Member,
    /// An hr_partner of the organization.
    HrPartner,
    /// A coach whose record names the organization.
    CoachInOrg,
    /// An admin whose record names the organization.
    AdminInOrg,
}

/// A change to a person (PATCH of one field, or DELETE).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PersonChange {
    Name,
    Email,
    ExternalId,
    Deactivate,
    GrantHrPartner,
    RemoveRoles,
    Delete,
}

const PERSON_CHANGES: [PersonChange; 7] = [
    PersonChange::Name,
    PersonChange::Email,
    PersonChange::ExternalId,
    PersonChange::Deactivate,
    PersonChange::GrantHrPartner,
    PersonChange::RemoveRoles,
    PersonChange::Delete,
];

/// docs/access.md, people: who may change what on someone else. Admins change anyone; the organization's
/// hr_partner (and its API client with users:write) changes its people who hold no global role
/// or only hr_partner, never an admin or a coach, whatever organization their record names.
fn person_change(person: Person, who: Who) -> u16 {
    use Who::*;
    match who {
        Admin => 200,
        HrSame | ClientScoped => match person {
            Person::Member | Person::HrPartner => 200,
            Person::CoachInOrg | Person::AdminInOrg => 403,
        },
        ClientUnscoped => 403,
        HrOther | Coach | Leader | Sponsor | Unrelated => 404,
        Anonymous => 401,
    }
}

/// docs/access.md, people: what a person may change on themselves: their name only (an hr_partner, who manages
/// the organization's people, also the rest of their own record).
fn own_change(hr_partner: bool, change: PersonChange) -> u16 {
    match change {
        PersonChange::Name => 200,
        // A member holds no role to remove: the same value is no change.
        PersonChange::RemoveRoles if !hr_partner => 200,
        // Nobody locks themselves out: deactivating one's own account is someone else's to do.
        PersonChange::Deactivate | PersonChange::Delete => 403,
        _ if hr_partner => 200,
        _ => 403,
    }
}

/// A field of an engagement a PATCH changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EngagementField {
    Title,
    Budget,
    PlannedEnd,
    Sponsors,
    HrPartner,
}

/// docs/access.md, engagements: budget, dates and people are the hr_partner's and admins'; the coach changes
/// the title only (more hours come through an extension).
fn engagement_change(field: EngagementField, who: Who) -> u16 {
    use Who::*;
    match who {
        Admin | HrSame | ClientScoped => 200,
        Coach if field == EngagementField::Title => 200,
        Coach | Leader | Sponsor | ClientUnscoped => 403,
        HrOther | Unrelated => 404,
        Anonymous => 401,
    }
}

struct World {
    app: TestApp,
    tokens: HashMap<Who, Option<String>>,
    ids: HashMap<Who, String>,
    engagement: String,
    outcome: String,
    rater: String,
    theme: String,
    /// A second engagement, walked to `coaching`, with a scheduled session.
    coaching: String,
    session: String,
    action_item: String,
    /// A third engagement, taken through both reviews to `completed`.
    reviewed: String,
    org: String,
    target_user: String,
    /// A subscription to engagement.created (made before the engagements) and one of its
    /// deliveries, still pending: its receiver refuses connections.
    webhook: String,
    delivery: String,
    /// A contract of the organization no program draws on.
    contract: String,
    /// A program template of the organization.
    template: String,
    /// A cohort of the organization (coach, sponsor, hr_partner; the leader takes part), and an
    /// action item of the leader in it.
    group: String,
    group_item: String,
    client_credentials: (String, String),
    counter: AtomicUsize,
    /// The application layer on the world's database, and its admin there: the fresh people and
    /// engagements the tables need are made through it, their changes over HTTP.
    db: keel_commands::Database,
    admin: keel_commands::Caller,
}

impl World {
    async fn build(app: TestApp) -> World {
        let org = app.create_org("Acme").await["id"].as_str().unwrap().to_owned();
        let other = app.create_org("Globex").await["id"].as_str().unwrap().to_owned();
        let people = [
            (Who::HrSame, "hr@acme.test", Some(&org), json!(["hr_partner"])),
            (Who::HrOther, "hr@globex.test", Some(&other), json!(["hr_partner"])),
            (Who::Coach, "coach@provider.test", None, json!(["coach"])),
            (Who::Leader, "leader@acme.test", Some(&org), json!([])),
            (Who::Sponsor, "sponsor@acme.test", Some(&org), json!([])),
            (Who::Unrelated, "someone@acme.test", Some(&org), json!([])),
        ];
        let mut tokens = HashMap::new();
        let mut ids = HashMap::new();
        tokens.insert(Who::Admin, Some(app.admin_token.clone()));
        tokens.insert(Who::Anonymous, None);
        for (who, email, organization, roles) in people {
            let user = app
                .create_user(
                    json!({ "email": email, "name": format!("{who:?}"), "organization_id": organization, "roles": roles }),
                )
                .await;
            ids.insert(who, user["id"].as_str().unwrap().to_owned());
            tokens.insert(who, Some(app.token_for(email)));
        }
        let target_user = app
            .create_user(json!({ "email": "target@acme.test", "name": "Target", "organization_id": org }))
            .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let all_scopes = json!([
            "engagements:read",
            "engagements:write",
            "users:read",
            "users:write",
            "reports:read",
            "webhooks:manage"
        ]);
        let mut client_credentials = (String::new(), String::new());
        for (who, scopes) in [(Who::ClientScoped, all_scopes), (Who::ClientUnscoped, json!(["reports:read"]))] {
            let client = app
                .post(
                    &format!("/v1/organizations/{org}/api-clients"),
                    &json!({ "name": format!("{who:?}"), "scopes": scopes }),
                )
                .await
                .expect_status(201)
                .json();
            let credentials = (
                client["client_id"].as_str().unwrap().to_owned(),
                client["client_secret"].as_str().unwrap().to_owned(),
            );
            let token = client_token(&app, &credentials).await;
            tokens.insert(who, Some(token));
            if who == Who::ClientScoped {
                client_credentials = credentials;
            }
        }
        let mut world = World {
            tokens,
            ids,
            engagement: String::new(),
            outcome: String::new(),
            rater: String::new(),
            theme: String::new(),
            coaching: String::new(),
            session: String::new(),
            action_item: String::new(),
            reviewed: String::new(),
            org,
            target_user,
            webhook: String::new(),
            delivery: String::new(),
            contract: String::new(),
            template: String::new(),
            group: String::new(),
            group_item: String::new(),
            client_credentials,
            counter: AtomicUsize::new(0),
            admin: keel_tests::fixtures::admin(&app, &mut app.db.open().conn().unwrap()),
            db: app.db.open(),
            app,
        };
        world.webhook = world.fresh_webhook().await;
        let contract = world.app.post("/v1/contracts", &world.contract_body()).await.expect_status(201).json();
        world.contract = contract["id"].as_str().unwrap().to_owned();
        let template = world.app.post("/v1/program-templates", &world.template_body()).await.expect_status(201).json();
        world.template = template["id"].as_str().unwrap().to_owned();
        let group = world.app.post("/v1/groups", &world.group_body()).await.expect_status(201).json();
        world.group = group["id"].as_str().unwrap().to_owned();
        let join = json!({ "user_id": world.ids[&Who::Leader] });
        world.app.post(&format!("/v1/groups/{}/members", world.group), &join).await.expect_status(201);
        // The group's sessions are scheduled in February 2026: the leader has been in it since January.
        keel_tests::fixtures::backdate_memberships(&world.app, &world.group, "2026-01-05 00:00:00");
        let item = format!("/v1/groups/{}/participants/{}/action-items", world.group, world.ids[&Who::Leader]);
        world.group_item =
            world.as_coach(Method::POST, item, json!({ "title": "Practise" })).await["id"].as_str().unwrap().to_owned();
        world.engagement = world.fresh_engagement().await;
        let deliveries = world.app.get(&format!("/v1/webhooks/{}/deliveries", world.webhook)).await.json();
        world.delivery = deliveries["items"][0]["id"].as_str().expect("a delivery").to_owned();
        world.outcome = world.fresh_outcome().await;
        world.rater = world.fresh_rater().await;
        world.theme = world.fresh_theme().await;
        let coach = world.tokens[&Who::Coach].clone();
        let base = format!("/v1/engagements/{}", world.engagement);
        let context = json!({ "met_on": "2026-01-10", "attendees": ["Coach", "Leader", "Sponsor"], "notes": "n" });
        world
            .app
            .call_as(coach.as_deref(), Method::PUT, &format!("{base}/context"), &[], Some(&context))
            .await
            .expect_status(200);
        let interview = json!({ "interviewed_on": "2026-01-20", "commitments": "c" });
        world
            .app
            .call_as(coach.as_deref(), Method::PUT, &format!("{base}/leader-interview"), &[], Some(&interview))
            .await
            .expect_status(200);
        world.walk_to_assessment_design().await;
        world.coaching = world.fresh_engagement().await;
        world.walk_to_coaching(&world.coaching).await;
        world.reviewed = world.fresh_engagement().await;
        world.walk_to_coaching(&world.reviewed).await;
        world.walk_through_reviews().await;
        world.session = world.fresh_session().await;
        let item = json!({ "title": "Delegate the budget review", "due_date": "2026-03-01" });
        let item = world.as_coach(Method::POST, format!("/v1/engagements/{}/action-items", world.coaching), item).await;
        world.action_item = item["id"].as_str().unwrap().to_owned();
        world
    }

    /// Walks an engagement through steps 1-5 with the matrix's people, through the application
    /// layer (the walk over HTTP is tested in `designs.rs`).
    async fn walk_to_coaching(&self, engagement: &str) {
        use keel_domain::design::{DesignInput, DesignItem, ItemKind, Verdict};
        use keel_domain::engagement::Phase;
        use keel_domain::program::{ContextMeetingInput, LeaderInterviewInput, OutcomeChanges};
        use keel_domain::stakeholders::{RaterChanges, Relationship};
        let database = self.app.db.open();
        let conn = &mut *database.conn().unwrap();
        let mut caller = |who: Who| keel_tests::fixtures::caller(conn, self.ids[&who].parse().unwrap());
        let (coach, leader, sponsor) = (caller(Who::Coach), caller(Who::Leader), caller(Who::Sponsor));
        let id: keel_domain::EngagementId = engagement.parse().unwrap();
        let date = |text: &str| Some(text.parse().unwrap());
        let text = |text: &str| Some(Some(text.to_owned()));
        let go = |conn: &mut keel_commands::DbConnection, to: Phase| {
            keel_commands::engagements::transition(conn, &coach, id, None, to, None).unwrap();
        };
        let outcome = OutcomeChanges {
            title: Some("T".into()),
            description: Some(None),
            measure: text("m"),
            baseline: text("1"),
            target: text("2"),
            unit: Some(None),
        };
        keel_commands::program::create_outcome(conn, &coach, id, &outcome).unwrap();
        let context =
            ContextMeetingInput { met_on: date("2026-01-06"), attendees: vec!["Coach".into()], ..Default::default() };
        keel_commands::program::put_context(conn, &coach, id, None, context).unwrap();
        go(conn, Phase::LeaderInterview);
        let interview = LeaderInterviewInput { interviewed_on: date("2026-01-07"), ..Default::default() };
        keel_commands::program::put_leader_interview(conn, &coach, id, None, interview).unwrap();
        go(conn, Phase::StakeholderInterviews);
        for i in 0..3 {
            let rater =
                RaterChanges { name: Some(format!("R{i}")), email: Some(None), relationship: Some(Relationship::Peer) };
            let rater = keel_commands::stakeholders::create_rater(conn, &coach, id, &rater).unwrap().id;
            keel_commands::stakeholders::record_interview(conn, &coach, (id, rater), date("2026-01-08"), "n").unwrap();
        }
        go(conn, Phase::AssessmentDesign);
        let item = DesignItem { kind: ItemKind::Practice, title: "p".into(), description: None, cadence: None };
        let design = DesignInput { summary: Some("s".into()), items: Some(vec![item]), ..Default::default() };
        keel_commands::designs::create(conn, &coach, id, None, &design).unwrap();
        keel_commands::designs::submit(conn, &coach, (id, 1), None, &keel_commands::pages::Links::default()).unwrap();
        for approver in [&leader, &sponsor] {
            keel_commands::designs::decide(conn, approver, (id, 1), Verdict::Approve, None).unwrap();
        }
        go(conn, Phase::Coaching);
    }

    /// Takes the `reviewed` engagement through the mid review and the end review (completed).
    async fn walk_through_reviews(&self) {
        let coach = self.tokens[&Who::Coach].clone();
        let base = format!("/v1/engagements/{}", self.reviewed);
        let call = |method: Method, path: String, body: Value| {
            let coach = coach.clone();
            async move {
                self.app.call_as(coach.as_deref(), method, &path, &[], Some(&body)).await.expect_status(200).json()
            }
        };
        let outcomes = call(Method::GET, format!("{base}/outcomes"), json!(null)).await;
        let outcome = outcomes["items"][0]["id"].clone();
        call(Method::POST, format!("{base}/transitions"), json!({ "to": "mid_review" })).await;
        let mid = json!({ "narrative": "halfway", "outcomes": [{ "outcome_id": outcome, "actual": "1.5" }] });
        call(Method::PUT, format!("{base}/reviews/mid"), mid).await;
        call(Method::POST, format!("{base}/transitions"), json!({ "to": "coaching" })).await;
        call(Method::POST, format!("{base}/transitions"), json!({ "to": "end_review" })).await;
        let end = json!({ "narrative": "done", "outcomes": [{ "outcome_id": outcome, "actual": "2", "achieved": true }], "next_step": "completed" });
        call(Method::PUT, format!("{base}/reviews/end"), end).await;
    }

    async fn fresh_session(&self) -> String {
        let body = json!({ "scheduled_at": "2026-02-10T10:00:00Z", "duration_minutes": 60, "format": "video" });
        let session = self.as_coach(Method::POST, format!("/v1/engagements/{}/sessions", self.coaching), body).await;
        session["id"].as_str().unwrap().to_owned()
    }

    async fn as_coach(&self, method: Method, path: String, body: Value) -> Value {
        let coach = self.tokens[&Who::Coach].clone();
        let response = self.app.call_as(coach.as_deref(), method, &path, &[], Some(&body)).await;
        response.expect_status(201).json()
    }

    /// Moves the world's engagement to `assessment_design` (three interviewed raters) and drafts
    /// design version 1, empty.
    async fn walk_to_assessment_design(&self) {
        let coach = self.tokens[&Who::Coach].clone();
        let base = format!("/v1/engagements/{}", self.engagement);
        let go = |to: &'static str| {
            let coach = coach.clone();
            let path = format!("{base}/transitions");
            async move {
                self.app
                    .call_as(coach.as_deref(), Method::POST, &path, &[], Some(&json!({ "to": to })))
                    .await
                    .expect_status(200);
            }
        };
        go("leader_interview").await;
        go("stakeholder_interviews").await;
        for _ in 0..3 {
            let rater = self.fresh_rater().await;
            let body = json!({ "interviewed_on": "2026-02-01", "notes": "notes" });
            let path = format!("{base}/raters/{rater}/interview");
            self.app.call_as(coach.as_deref(), Method::PUT, &path, &[], Some(&body)).await.expect_status(200);
        }
        go("assessment_design").await;
        self.as_coach(Method::POST, format!("{base}/designs"), json!({})).await;
    }

    async fn fresh_rater(&self) -> String {
        let n = self.unique();
        let body = json!({ "name": "Pat Peer", "email": format!("pat{n}@acme.test"), "relationship": "peer" });
        let rater = self.as_coach(Method::POST, format!("/v1/engagements/{}/raters", self.engagement), body).await;
        rater["id"].as_str().unwrap().to_owned()
    }

    async fn fresh_theme(&self) -> String {
        let body = json!({ "kind": "strength", "title": "Calm under pressure" });
        let theme = self.as_coach(Method::POST, format!("/v1/engagements/{}/themes", self.engagement), body).await;
        theme["id"].as_str().unwrap().to_owned()
    }

    /// A new outcome of the world's engagement, defined by its coach.
    async fn fresh_outcome(&self) -> String {
        let coach = self.tokens[&Who::Coach].clone();
        let body = json!({ "title": "Delegates more", "baseline": "2", "target": "8", "measure": "decisions delegated per week" });
        let path = format!("/v1/engagements/{}/outcomes", self.engagement);
        let outcome =
            self.app.call_as(coach.as_deref(), Method::POST, &path, &[], Some(&body)).await.expect_status(201).json();
        outcome["id"].as_str().unwrap().to_owned()
    }

    /// The body of a new engagement of the organization, with the matrix's coach, leader, sponsor.
    fn engagement_body(&self) -> Value {
        json!({
            "organization_id": self.org, "title": "Leading through change",
            "leader_id": self.ids[&Who::Leader], "coach_id": self.ids[&Who::Coach],
            "sponsor_ids": [self.ids[&Who::Sponsor]], "hr_partner_id": self.ids[&Who::HrSame],
            "start_date": "2026-01-05"
        })
    }

    /// A new engagement of the organization, as [`World::engagement_body`] describes it.
    async fn fresh_engagement(&self) -> String {
        let id = |who: Who| self.ids[&who].parse().unwrap();
        let input = keel_domain::engagement::NewEngagement {
            contract_id: None,
            organization_id: self.org.parse().unwrap(),
            title: "Leading through change".into(),
            leader_id: id(Who::Leader),
            coach_id: id(Who::Coach),
            sponsor_ids: vec![id(Who::Sponsor)],
            hr_partner_id: Some(id(Who::HrSame)),
            start_date: "2026-01-05".parse().unwrap(),
            planned_end_date: None,
            allow_any_duration: false,
            monthly_hours_budget: None,
            template_id: None,
        };
        let conn = &mut self.db.conn().unwrap();
        keel_commands::engagements::create(conn, &self.admin, input).unwrap().id.to_string()
    }

    fn group_body(&self) -> Value {
        json!({
            "organization_id": self.org, "kind": "cohort", "name": "Leaders", "coach_id": self.ids[&Who::Coach],
            "sponsor_id": self.ids[&Who::Sponsor], "hr_partner_id": self.ids[&Who::HrSame],
            "start_date": "2026-01-05", "max_participants": 50, "monthly_hours_budget": 200
        })
    }

    async fn fresh_group_session(&self) -> String {
        let body = json!({ "scheduled_at": "2026-02-10T10:00:00Z", "duration_minutes": 60, "format": "video" });
        let session = self.as_coach(Method::POST, format!("/v1/groups/{}/sessions", self.group), body).await;
        session["id"].as_str().unwrap().to_owned()
    }

    fn template_body(&self) -> Value {
        json!({ "organization_id": self.org, "copy_from": "00000000-0000-7000-8000-000000000002", "name": "Micro" })
    }

    fn contract_body(&self) -> Value {
        json!({ "organization_id": self.org, "name": "Hours", "start_date": "2026-01-01", "end_date": "2026-12-31", "hours": 100 })
    }

    fn webhook_body(&self) -> Value {
        json!({ "organization_id": self.org, "url": "http://127.0.0.1:1/refused", "event_types": ["engagement.created"] })
    }

    async fn fresh_webhook(&self) -> String {
        let hook = self.app.post("/v1/webhooks", &self.webhook_body()).await.expect_status(201).json();
        hook["id"].as_str().unwrap().to_owned()
    }

    fn unique(&self) -> usize {
        self.counter.fetch_add(1, Ordering::SeqCst)
    }

    /// A fresh person of the organization of the given kind, as (id, email).
    async fn fresh_person(&self, person: Person) -> (String, String) {
        let n = self.unique();
        let email = format!("person{n}@acme.test");
        use keel_domain::user::Role;
        let roles = match person {
            Person::Member => vec![],
            Person::HrPartner => vec![Role::HrPartner],
            Person::CoachInOrg => vec![Role::Coach],
            Person::AdminInOrg => vec![Role::Admin],
        };
        let input = keel_domain::user::NewUser {
            email: email.clone(),
            name: "Person".into(),
            organization_id: Some(self.org.parse().unwrap()),
            roles,
            external_id: None,
        };
        let user = keel_commands::users::create(&mut self.db.conn().unwrap(), &self.admin, input).unwrap();
        (user.id.to_string(), email)
    }

    /// Makes `change` to the user `id` with `token`; returns the status, a DELETE's 204 given as
    /// 200 so that one table of expectations serves every change.
    async fn change_person(&self, token: Option<&str>, id: &str, change: PersonChange) -> u16 {
        let n = self.unique();
        let path = format!("/v1/users/{id}");
        let body = match change {
            PersonChange::Name => json!({ "name": "Renamed" }),
            PersonChange::Email => json!({ "email": format!("moved{n}@elsewhere.test") }),
            PersonChange::ExternalId => json!({ "external_id": format!("EXT-{n}") }),
            PersonChange::Deactivate => json!({ "status": "deactivated" }),
            PersonChange::GrantHrPartner => json!({ "roles": ["hr_partner"] }),
            PersonChange::RemoveRoles => json!({ "roles": [] }),
            PersonChange::Delete => {
                let status = self.app.call_as(token, Method::DELETE, &path, &[], None).await.status.as_u16();
                return if status == 204 { 200 } else { status };
            }
        };
        self.app.call_as(token, Method::PATCH, &path, &[], Some(&body)).await.status.as_u16()
    }

    /// A fresh user of the organization, for operations that change their target.
    async fn fresh_user(&self) -> String {
        let n = self.unique();
        let user = self
            .app
            .create_user(
                json!({ "email": format!("fresh{n}@acme.test"), "name": "Fresh", "organization_id": self.org }),
            )
            .await;
        user["id"].as_str().unwrap().to_owned()
    }

    async fn fresh_client(&self) -> String {
        let client = self
            .app
            .post(
                &format!("/v1/organizations/{}/api-clients", self.org),
                &json!({ "name": "Fresh", "scopes": ["users:read"] }),
            )
            .await
            .expect_status(201)
            .json();
        client["client_id"].as_str().unwrap().to_owned()
    }

    /// Performs `op` as `who`; returns the status.
    async fn perform(&self, op: &str, who: Who) -> u16 {
        let token = self.tokens[&who].as_deref();
        let app = &self.app;
        let org = &self.org;
        let call = |method: Method, path: String, body: Option<Value>| async move {
            app.call_as(token, method, &path, &[], body.as_ref()).await.status.as_u16()
        };
        match op {
            "healthz" => call(Method::GET, "/healthz".into(), None).await,
            "readyz" => call(Method::GET, "/readyz".into(), None).await,
            "metrics" => call(Method::GET, "/metrics".into(), None).await,
            "openapi_json" => call(Method::GET, "/openapi.json".into(), None).await,
            "issue_token" => {
                let basic = base64::engine::general_purpose::STANDARD
                    .encode(format!("{}:{}", self.client_credentials.0, self.client_credentials.1));
                let authorization = format!("Basic {basic}");
                app.oauth_token(&[("authorization", authorization.as_str())], "grant_type=client_credentials")
                    .await
                    .status
                    .as_u16()
            }
            "create_sign_in_link" => {
                call(Method::POST, "/v1/auth/sign-in-links".into(), Some(json!({ "email": "leader@acme.test" }))).await
            }
            "redeem_sign_in_link" => {
                call(Method::POST, "/v1/auth/sign-in-links/redeem".into(), Some(json!({ "token": "made-up" }))).await
            }
            "get_me" => call(Method::GET, "/v1/me".into(), None).await,
            "create_organization" => {
                call(Method::POST, "/v1/organizations".into(), Some(json!({ "name": "New" }))).await
            }
            "list_organizations" => call(Method::GET, "/v1/organizations".into(), None).await,
            "get_organization" => call(Method::GET, format!("/v1/organizations/{org}"), None).await,
            "update_organization" => {
                call(Method::PATCH, format!("/v1/organizations/{org}"), Some(json!({ "name": "Acme Corp" }))).await
            }
            "create_api_client" => {
                let body = json!({ "name": "HRIS", "scopes": ["users:read"] });
                call(Method::POST, format!("/v1/organizations/{org}/api-clients"), Some(body)).await
            }
            "list_api_clients" => call(Method::GET, format!("/v1/organizations/{org}/api-clients"), None).await,
            "rotate_api_client_secret" => {
                let client = self.fresh_client().await;
                call(Method::POST, format!("/v1/organizations/{org}/api-clients/{client}/rotate-secret"), None).await
            }
            "revoke_api_client" => {
                let client = self.fresh_client().await;
                call(Method::DELETE, format!("/v1/organizations/{org}/api-clients/{client}"), None).await
            }
            "create_user" => {
                let n = self.unique();
                let body = json!({ "email": format!("new{n}@acme.test"), "name": "New", "organization_id": org });
                call(Method::POST, "/v1/users".into(), Some(body)).await
            }
            "list_users" => call(Method::GET, "/v1/users".into(), None).await,
            "get_user" => call(Method::GET, format!("/v1/users/{}", self.target_user), None).await,
            "update_user" => {
                let user = self.fresh_user().await;
                call(Method::PATCH, format!("/v1/users/{user}"), Some(json!({ "name": "Renamed" }))).await
            }
            "deactivate_user" => {
                let user = self.fresh_user().await;
                call(Method::DELETE, format!("/v1/users/{user}"), None).await
            }
            "create_calendar_feed" | "get_calendar_feed" | "revoke_calendar_feed" => {
                let path = format!("/v1/users/{}/calendar-feed", self.ids[&Who::Leader]);
                // The leader has a feed before anyone reads or stops it.
                let leader = self.tokens[&Who::Leader].as_deref();
                app.call_as(leader, Method::POST, &path, &[], None).await.expect_status(201);
                let method = match op {
                    "create_calendar_feed" => Method::POST,
                    "get_calendar_feed" => Method::GET,
                    _ => Method::DELETE,
                };
                call(method, path, None).await
            }
            "create_engagement" => call(Method::POST, "/v1/engagements".into(), Some(self.engagement_body())).await,
            "list_engagements" => call(Method::GET, "/v1/engagements".into(), None).await,
            "get_engagement" => call(Method::GET, format!("/v1/engagements/{}", self.engagement), None).await,
            "update_engagement" => {
                let path = format!("/v1/engagements/{}", self.engagement);
                call(Method::PATCH, path, Some(json!({ "title": "Leading through change, year two" }))).await
            }
            "get_timeline" => call(Method::GET, format!("/v1/engagements/{}/timeline", self.engagement), None).await,
            "transition_engagement" => {
                let engagement = self.fresh_engagement().await;
                let body = json!({ "to": "on_hold", "reason": "leave" });
                call(Method::POST, format!("/v1/engagements/{engagement}/transitions"), Some(body)).await
            }
            "get_context" => call(Method::GET, format!("/v1/engagements/{}/context", self.engagement), None).await,
            "put_context" => {
                let body = json!({ "met_on": "2026-01-10", "attendees": ["Coach"], "notes": "updated" });
                call(Method::PUT, format!("/v1/engagements/{}/context", self.engagement), Some(body)).await
            }
            "list_outcomes" => call(Method::GET, format!("/v1/engagements/{}/outcomes", self.engagement), None).await,
            "create_outcome" => {
                let body = json!({ "title": "Listens first" });
                call(Method::POST, format!("/v1/engagements/{}/outcomes", self.engagement), Some(body)).await
            }
            "update_outcome" => {
                let path = format!("/v1/engagements/{}/outcomes/{}", self.engagement, self.outcome);
                call(Method::PATCH, path, Some(json!({ "description": "more" }))).await
            }
            "delete_outcome" => {
                let outcome = self.fresh_outcome().await;
                call(Method::DELETE, format!("/v1/engagements/{}/outcomes/{outcome}", self.engagement), None).await
            }
            "create_measurement" => {
                let path = format!("/v1/engagements/{}/outcomes/{}/measurements", self.engagement, self.outcome);
                call(Method::POST, path, Some(json!({ "value": "4", "source": "session" }))).await
            }
            "get_leader_interview" => {
                call(Method::GET, format!("/v1/engagements/{}/leader-interview", self.engagement), None).await
            }
            "put_leader_interview" => {
                let body = json!({ "interviewed_on": "2026-01-20", "notes": "x" });
                call(Method::PUT, format!("/v1/engagements/{}/leader-interview", self.engagement), Some(body)).await
            }
            "list_raters" => call(Method::GET, format!("/v1/engagements/{}/raters", self.engagement), None).await,
            "get_rater" => {
                call(Method::GET, format!("/v1/engagements/{}/raters/{}", self.engagement, self.rater), None).await
            }
            "create_rater" => {
                let body = json!({ "name": "Bo Boss", "relationship": "boss" });
                call(Method::POST, format!("/v1/engagements/{}/raters", self.engagement), Some(body)).await
            }
            "update_rater" => {
                let path = format!("/v1/engagements/{}/raters/{}", self.engagement, self.rater);
                call(Method::PATCH, path, Some(json!({ "name": "Pat P." }))).await
            }
            "delete_rater" => {
                let rater = self.fresh_rater().await;
                call(Method::DELETE, format!("/v1/engagements/{}/raters/{rater}", self.engagement), None).await
            }
            "put_rater_interview" => {
                let rater = self.fresh_rater().await;
                let body = json!({ "interviewed_on": "2026-02-01", "notes": "Pat says…" });
                call(Method::PUT, format!("/v1/engagements/{}/raters/{rater}/interview", self.engagement), Some(body))
                    .await
            }
            "invite_rater" => {
                let rater = self.fresh_rater().await;
                call(Method::POST, format!("/v1/engagements/{}/raters/{rater}/invitation", self.engagement), None).await
            }
            "submit_feedback" => {
                let body = json!({ "strengths": "s", "development_areas": "d" });
                call(Method::POST, "/v1/feedback".into(), Some(body)).await
            }
            "list_themes" => call(Method::GET, format!("/v1/engagements/{}/themes", self.engagement), None).await,
            "create_theme" => {
                let body = json!({ "kind": "development_area", "title": "Delegation" });
                call(Method::POST, format!("/v1/engagements/{}/themes", self.engagement), Some(body)).await
            }
            "update_theme" => {
                let path = format!("/v1/engagements/{}/themes/{}", self.engagement, self.theme);
                call(Method::PATCH, path, Some(json!({ "description": "seen by peers" }))).await
            }
            "delete_theme" => {
                let theme = self.fresh_theme().await;
                call(Method::DELETE, format!("/v1/engagements/{}/themes/{theme}", self.engagement), None).await
            }
            "release_themes" => {
                call(Method::POST, format!("/v1/engagements/{}/themes/release", self.engagement), None).await
            }
            "list_designs" => call(Method::GET, format!("/v1/engagements/{}/designs", self.engagement), None).await,
            "get_design" => call(Method::GET, format!("/v1/engagements/{}/designs/1", self.engagement), None).await,
            "create_design" => {
                call(Method::POST, format!("/v1/engagements/{}/designs", self.engagement), Some(json!({}))).await
            }
            "update_design" => {
                let body = json!({ "outcome_ids": [self.outcome] });
                call(Method::PATCH, format!("/v1/engagements/{}/designs/1", self.engagement), Some(body)).await
            }
            "submit_design" => {
                call(Method::POST, format!("/v1/engagements/{}/designs/1/submit", self.engagement), None).await
            }
            "decide_design" => {
                let body = json!({ "decision": "approve" });
                call(Method::POST, format!("/v1/engagements/{}/designs/1/decisions", self.engagement), Some(body)).await
            }
            "list_sessions" => call(Method::GET, format!("/v1/engagements/{}/sessions", self.coaching), None).await,
            "get_session" => {
                call(Method::GET, format!("/v1/engagements/{}/sessions/{}", self.coaching, self.session), None).await
            }
            "get_hours" => call(Method::GET, format!("/v1/engagements/{}/hours", self.coaching), None).await,
            "schedule_session" => {
                let body = json!({ "scheduled_at": "2026-03-03T09:00:00Z", "duration_minutes": 45, "format": "phone" });
                call(Method::POST, format!("/v1/engagements/{}/sessions", self.coaching), Some(body)).await
            }
            "update_session" => {
                let session = self.fresh_session().await;
                let body = json!({ "scheduled_at": "2026-02-11T10:00:00Z" });
                call(Method::PATCH, format!("/v1/engagements/{}/sessions/{session}", self.coaching), Some(body)).await
            }
            "complete_session" => {
                let session = self.fresh_session().await;
                let body = json!({ "actual_duration_minutes": 20, "shared_summary": "s" });
                call(Method::POST, format!("/v1/engagements/{}/sessions/{session}/complete", self.coaching), Some(body))
                    .await
            }
            "list_extensions" => call(Method::GET, format!("/v1/engagements/{}/extensions", self.coaching), None).await,
            "request_extension" => {
                let body = json!({ "hours": 1.5, "month": "2026-03", "reason": "a second session this month" });
                call(Method::POST, format!("/v1/engagements/{}/extensions", self.coaching), Some(body)).await
            }
            "decide_extension" => {
                let body = json!({ "hours": 1, "month": "2026-04", "reason": "more" });
                let extension =
                    self.as_coach(Method::POST, format!("/v1/engagements/{}/extensions", self.coaching), body).await;
                let path = format!(
                    "/v1/engagements/{}/extensions/{}/decision",
                    self.coaching,
                    extension["id"].as_str().unwrap()
                );
                call(Method::POST, path, Some(json!({ "decision": "approve" }))).await
            }
            "list_action_items" => {
                call(Method::GET, format!("/v1/engagements/{}/action-items", self.coaching), None).await
            }
            "create_action_item" => {
                let body = json!({ "title": "Read chapter 3", "session_id": self.session });
                call(Method::POST, format!("/v1/engagements/{}/action-items", self.coaching), Some(body)).await
            }
            "update_action_item" => {
                let path = format!("/v1/engagements/{}/action-items/{}", self.coaching, self.action_item);
                call(Method::PATCH, path, Some(json!({ "status": "done" }))).await
            }
            "get_mid_review" => call(Method::GET, format!("/v1/engagements/{}/reviews/mid", self.reviewed), None).await,
            "get_end_review" => call(Method::GET, format!("/v1/engagements/{}/reviews/end", self.reviewed), None).await,
            "get_progress" => call(Method::GET, format!("/v1/engagements/{}/progress", self.reviewed), None).await,
            "put_mid_review" | "put_end_review" => {
                let kind = if op == "put_mid_review" { "mid" } else { "end" };
                let body = json!({ "narrative": "n", "outcomes": [] });
                call(Method::PUT, format!("/v1/engagements/{}/reviews/{kind}", self.coaching), Some(body)).await
            }
            "create_group" => call(Method::POST, "/v1/groups".into(), Some(self.group_body())).await,
            "list_groups" => call(Method::GET, "/v1/groups".into(), None).await,
            "get_group" => call(Method::GET, format!("/v1/groups/{}", self.group), None).await,
            "update_group" => {
                let body = json!({ "name": format!("changed by {who:?}") });
                call(Method::PATCH, format!("/v1/groups/{}", self.group), Some(body)).await
            }
            "list_members" => call(Method::GET, format!("/v1/groups/{}/members", self.group), None).await,
            "add_member" => {
                let body = json!({ "user_id": self.fresh_user().await });
                call(Method::POST, format!("/v1/groups/{}/members", self.group), Some(body)).await
            }
            "remove_member" => {
                let user = self.fresh_user().await;
                let members = format!("/v1/groups/{}/members", self.group);
                self.app.post(&members, &json!({ "user_id": user })).await.expect_status(201);
                call(Method::DELETE, format!("{members}/{user}"), None).await
            }
            "list_group_sessions" => call(Method::GET, format!("/v1/groups/{}/sessions", self.group), None).await,
            "schedule_group_session" => {
                let body = json!({ "scheduled_at": "2026-02-12T10:00:00Z", "duration_minutes": 60, "format": "video" });
                call(Method::POST, format!("/v1/groups/{}/sessions", self.group), Some(body)).await
            }
            "get_group_session" | "update_group_session" | "complete_group_session" => {
                let path = format!("/v1/groups/{}/sessions/{}", self.group, self.fresh_group_session().await);
                match op {
                    "get_group_session" => call(Method::GET, path, None).await,
                    "update_group_session" => {
                        call(Method::PATCH, path, Some(json!({ "scheduled_at": "2026-02-11T10:00:00Z" }))).await
                    }
                    _ => {
                        let body = json!({ "actual_duration_minutes": 15, "attended": [self.ids[&Who::Leader]] });
                        call(Method::POST, format!("{path}/complete"), Some(body)).await
                    }
                }
            }
            "get_group_hours" => call(Method::GET, format!("/v1/groups/{}/hours", self.group), None).await,
            "list_participant_outcomes" | "create_participant_outcome" => {
                let path = format!("/v1/groups/{}/participants/{}/outcomes", self.group, self.ids[&Who::Leader]);
                if op == "list_participant_outcomes" {
                    call(Method::GET, path, None).await
                } else {
                    call(Method::POST, path, Some(json!({ "title": "Speaks up" }))).await
                }
            }
            "list_participant_action_items" | "create_participant_action_item" => {
                let path = format!("/v1/groups/{}/participants/{}/action-items", self.group, self.ids[&Who::Leader]);
                if op == "list_participant_action_items" {
                    call(Method::GET, path, None).await
                } else {
                    call(Method::POST, path, Some(json!({ "title": "Practise" }))).await
                }
            }
            "update_participant_action_item" => {
                let path = format!(
                    "/v1/groups/{}/participants/{}/action-items/{}",
                    self.group,
                    self.ids[&Who::Leader],
                    self.group_item
                );
                call(Method::PATCH, path, Some(json!({ "status": "done" }))).await
            }
            "list_templates" => call(Method::GET, "/v1/program-templates".into(), None).await,
            "create_template" => call(Method::POST, "/v1/program-templates".into(), Some(self.template_body())).await,
            "get_template" => call(Method::GET, format!("/v1/program-templates/{}", self.template), None).await,
            "get_template_version" => {
                call(Method::GET, format!("/v1/program-templates/{}/versions/1", self.template), None).await
            }
            "update_template" => {
                let body = json!({ "name": format!("changed by {who:?}") });
                call(Method::PATCH, format!("/v1/program-templates/{}", self.template), Some(body)).await
            }
            "list_audit_events" => call(Method::GET, "/v1/audit-events".into(), None).await,
            "create_contract" => call(Method::POST, "/v1/contracts".into(), Some(self.contract_body())).await,
            "list_contracts" => call(Method::GET, "/v1/contracts".into(), None).await,
            "utilization_report" => call(Method::GET, "/v1/reports/utilization".into(), None).await,
            "pipeline_report" => call(Method::GET, "/v1/reports/pipeline".into(), None).await,
            "outcomes_report" => call(Method::GET, "/v1/reports/outcomes".into(), None).await,
            "participation_report" => call(Method::GET, "/v1/reports/participation".into(), None).await,
            "get_contract" => call(Method::GET, format!("/v1/contracts/{}", self.contract), None).await,
            "update_contract" => {
                let body = json!({ "name": format!("changed by {who:?}") });
                call(Method::PATCH, format!("/v1/contracts/{}", self.contract), Some(body)).await
            }
            "delete_contract" => {
                let contract = self.app.post("/v1/contracts", &self.contract_body()).await.expect_status(201).json();
                call(Method::DELETE, format!("/v1/contracts/{}", contract["id"].as_str().unwrap()), None).await
            }
            "create_webhook" => call(Method::POST, "/v1/webhooks".into(), Some(self.webhook_body())).await,
            "list_webhooks" => call(Method::GET, "/v1/webhooks".into(), None).await,
            "get_webhook" => call(Method::GET, format!("/v1/webhooks/{}", self.webhook), None).await,
            "update_webhook" => {
                let body = json!({ "description": format!("changed by {who:?}") });
                call(Method::PATCH, format!("/v1/webhooks/{}", self.webhook), Some(body)).await
            }
            "delete_webhook" => {
                let hook = self.fresh_webhook().await;
                call(Method::DELETE, format!("/v1/webhooks/{hook}"), None).await
            }
            "rotate_webhook_secret" => {
                call(Method::POST, format!("/v1/webhooks/{}/rotate-secret", self.webhook), None).await
            }
            "list_webhook_deliveries" => {
                call(Method::GET, format!("/v1/webhooks/{}/deliveries", self.webhook), None).await
            }
            "resend_webhook_delivery" => {
                let path = format!("/v1/webhooks/{}/deliveries/{}/resend", self.webhook, self.delivery);
                call(Method::POST, path, None).await
            }
            other => panic!("the matrix has an expectation for {other} but no request for it"),
        }
    }
}

async fn client_token(app: &TestApp, (id, secret): &(String, String)) -> String {
    let body = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
    let response = app.oauth_token(&[], &body).await.expect_status(200);
    response.json()["access_token"].as_str().unwrap().to_owned()
}

fn operation_ids() -> BTreeSet<String> {
    let doc: Value = serde_json::from_str(&keel_http::openapi::document_json()).unwrap();
    let mut ids = BTreeSet::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            ids.insert(op["operationId"].as_str().unwrap().to_owned());
        }
    }
    ids
}

#[test]
fn every_documented_operation_has_a_matrix_entry() {
    let missing: Vec<String> = operation_ids().into_iter().filter(|op| expected(op, Who::Admin).is_none()).collect();
    assert!(missing.is_empty(), "operations without an authorization matrix entry: {missing:?}");
}

both_backends! {
    async fn authorization_matrix(app) {
        let world = World::build(app).await;
        let mut mismatches = Vec::new();
        for op in operation_ids() {
            for who in EVERYONE {
                let want = expected(&op, who).unwrap_or_else(|| panic!("no matrix entry for {op}"));
                let got = world.perform(&op, who).await;
                if got != want {
                    mismatches.push(format!("{op} as {who:?}: expected {want}, got {got}"));
                }
            }
        }
        assert!(mismatches.is_empty(), "authorization matrix mismatches:\n{}", mismatches.join("\n"));
    }

    async fn lists_show_only_what_the_caller_may_see(app) {
        let world = World::build(app).await;
        let app = &world.app;
        let list = |who: Who, path: &'static str| {
            let token = world.tokens[&who].clone();
            async move { app.call_as(token.as_deref(), Method::GET, path, &[], None).await.expect_status(200).json() }
        };
        let emails = |page: Value| -> BTreeSet<String> {
            page["items"].as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap().to_owned()).collect()
        };
        let hr_view = emails(list(Who::HrSame, "/v1/users?limit=200").await);
        assert!(hr_view.contains("target@acme.test") && hr_view.contains("leader@acme.test"));
        assert!(hr_view.iter().all(|e| e.ends_with("@acme.test")), "another tenant's people leak: {hr_view:?}");
        assert_eq!(emails(list(Who::ClientScoped, "/v1/users?limit=200").await), hr_view);
        assert_eq!(emails(list(Who::Leader, "/v1/users").await), BTreeSet::from(["leader@acme.test".to_owned()]));
        assert_eq!(emails(list(Who::Coach, "/v1/users").await), BTreeSet::from(["coach@provider.test".to_owned()]));
        let other_org = format!("/v1/users?organization_id={}", uuid::Uuid::now_v7());
        let token = world.tokens[&Who::HrSame].clone();
        let page = app.call_as(token.as_deref(), Method::GET, &other_org, &[], None).await.json();
        assert!(page["items"].as_array().unwrap().is_empty());

        let orgs = |page: Value| -> Vec<String> {
            page["items"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap().to_owned()).collect()
        };
        assert_eq!(orgs(list(Who::HrOther, "/v1/organizations").await), vec!["Globex"]);
        assert_eq!(orgs(list(Who::Leader, "/v1/organizations").await), vec!["Acme"]);
        assert!(orgs(list(Who::Coach, "/v1/organizations").await).is_empty());
        assert_eq!(orgs(list(Who::Admin, "/v1/organizations").await), vec!["Acme", "Globex"]);
    }

    async fn who_may_change_what_on_people_and_engagements(app) {
        let world = World::build(app).await;
        let mut mismatches = Vec::new();
        for person in [Person::Member, Person::HrPartner, Person::CoachInOrg, Person::AdminInOrg] {
            for change in PERSON_CHANGES {
                for who in EVERYONE {
                    let (id, _) = world.fresh_person(person).await;
                    let want = person_change(person, who);
                    let got = world.change_person(world.tokens[&who].as_deref(), &id, change).await;
                    if got != want {
                        mismatches.push(format!("{change:?} of a {person:?} as {who:?}: expected {want}, got {got}"));
                    }
                }
            }
        }
        for (person, hr_partner) in [(Person::Member, false), (Person::HrPartner, true)] {
            for change in PERSON_CHANGES {
                let (id, email) = world.fresh_person(person).await;
                let token = world.app.token_for(&email);
                let want = own_change(hr_partner, change);
                let got = world.change_person(Some(&token), &id, change).await;
                if got != want {
                    mismatches.push(format!("{change:?} of oneself as a {person:?}: expected {want}, got {got}"));
                }
            }
        }
        let fields = [
            (EngagementField::Title, json!({ "title": "Leading through change, year two" })),
            (EngagementField::Budget, json!({ "monthly_hours_budget": 40.0 })),
            (EngagementField::PlannedEnd, json!({ "planned_end_date": "2026-10-05" })),
            (EngagementField::Sponsors, json!({ "sponsor_ids": [world.ids[&Who::Unrelated]] })),
            (EngagementField::HrPartner, json!({ "hr_partner_id": null })),
        ];
        for (field, body) in &fields {
            for who in EVERYONE {
                let engagement = world.fresh_engagement().await;
                let path = format!("/v1/engagements/{engagement}");
                let token = world.tokens[&who].as_deref();
                let want = engagement_change(*field, who);
                let got = world.app.call_as(token, Method::PATCH, &path, &[], Some(body)).await.status.as_u16();
                if got != want {
                    mismatches.push(format!("{field:?} of an engagement as {who:?}: expected {want}, got {got}"));
                }
                if got != 200 {
                    let after = world.app.get(&path).await.json();
                    assert_eq!(after["version"], 1, "a refused change changed nothing ({field:?} as {who:?})");
                }
            }
        }
        assert!(mismatches.is_empty(), "who may change what:\n{}", mismatches.join("\n"));
    }

    async fn hr_partners_cannot_grant_provider_roles_and_people_edit_only_their_name(app) {
        let world = World::build(app).await;
        let app = &world.app;
        let hr = world.tokens[&Who::HrSame].clone();
        let hr = hr.as_deref();
        let body = json!({ "email": "x@acme.test", "name": "X", "organization_id": world.org, "roles": ["admin"] });
        app.call_as(hr, Method::POST, "/v1/users", &[], Some(&body)).await.expect_problem(403);
        let path = format!("/v1/users/{}", world.target_user);
        app.call_as(hr, Method::PATCH, &path, &[], Some(&json!({ "roles": ["coach"] }))).await.expect_problem(403);
        app.call_as(hr, Method::PATCH, &path, &[], Some(&json!({ "roles": ["hr_partner"] }))).await.expect_status(200);

        let leader = world.tokens[&Who::Leader].clone();
        let me = app.call_as(leader.as_deref(), Method::GET, "/v1/me", &[], None).await.json();
        let own = format!("/v1/users/{}", me["user"]["id"].as_str().unwrap());
        app.call_as(leader.as_deref(), Method::PATCH, &own, &[], Some(&json!({ "name": "Lea" }))).await.expect_status(200);
        app.call_as(leader.as_deref(), Method::PATCH, &own, &[], Some(&json!({ "roles": ["hr_partner"] }))).await.expect_problem(403);
        app.call_as(leader.as_deref(), Method::PATCH, &own, &[], Some(&json!({ "email": "new@acme.test" }))).await.expect_problem(403);
        // A 412 for an invisible user would leak its existence: it is a 404 whatever the If-Match.
        let sponsor = world.tokens[&Who::Sponsor].clone();
        let response = app
            .call_as(sponsor.as_deref(), Method::PATCH, &path, &[("if-match", "\"999\"")], Some(&json!({ "name": "Z" })))
            .await;
        response.expect_problem(404);
    }
}
