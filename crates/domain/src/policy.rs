//! The access policy: the one place that decides who may see or do what (docs/access.md).
//!
//! Handlers describe the action and the resource; [`check`] answers allow, deny-as-not-found
//! (the resource is in another tenant or the caller has no relationship to it: it acts as if it
//! were not there), or deny-as-forbidden (the caller can see it but may not do this). List
//! endpoints ask for the caller's [`Visibility`] and filter by it in the query.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use crate::engagement::{Engagement, Mover};
use crate::error::DomainError;
use crate::group::{Group, GroupSession, Membership, Participation};
use crate::id::{OrganizationId, UserId};
use crate::user::{Role, User, UserChanges};

/// OAuth2 scopes of API clients (docs/access.md, API clients).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    EngagementsRead,
    EngagementsWrite,
    UsersRead,
    UsersWrite,
    ReportsRead,
    WebhooksManage,
}

impl Scope {
    pub const ALL: [Scope; 6] = [
        Scope::EngagementsRead,
        Scope::EngagementsWrite,
        Scope::UsersRead,
        Scope::UsersWrite,
        Scope::ReportsRead,
        Scope::WebhooksManage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::EngagementsRead => "engagements:read",
            Scope::EngagementsWrite => "engagements:write",
            Scope::UsersRead => "users:read",
            Scope::UsersWrite => "users:write",
            Scope::ReportsRead => "reports:read",
            Scope::WebhooksManage => "webhooks:manage",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == s).ok_or(())
    }
}

/// Who is acting, as far as access is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// A person, with the global roles they hold now.
    User { id: UserId, organization_id: Option<OrganizationId>, roles: BTreeSet<Role> },
    /// An HR system's service account: at most an hr_partner's rights in its organization,
    /// further limited to its granted scopes.
    ApiClient { id: String, organization_id: OrganizationId, scopes: BTreeSet<Scope> },
}

impl Principal {
    pub fn for_user(user: &User) -> Principal {
        Principal::User { id: user.id, organization_id: user.organization_id, roles: user.roles.clone() }
    }

    pub fn organization_id(&self) -> Option<OrganizationId> {
        match self {
            Principal::User { organization_id, .. } => *organization_id,
            Principal::ApiClient { organization_id, .. } => Some(*organization_id),
        }
    }

    fn is_admin(&self) -> bool {
        matches!(self, Principal::User { roles, .. } if roles.contains(&Role::Admin))
    }

    /// Whether this principal manages `org` as an hr_partner (a person holding the role in that
    /// organization, or an API client of it holding `scope`).
    fn manages(&self, org: Option<OrganizationId>, scope: Scope) -> bool {
        match self {
            Principal::User { organization_id, roles, .. } => {
                org.is_some() && *organization_id == org && roles.contains(&Role::HrPartner)
            }
            Principal::ApiClient { organization_id, scopes, .. } => {
                org == Some(*organization_id) && scopes.contains(&scope)
            }
        }
    }

    /// An API client of `org` that lacks `scope`: it may see that the resource exists, but not
    /// act on it.
    fn lacks_scope(&self, org: Option<OrganizationId>, scope: Scope) -> bool {
        matches!(self, Principal::ApiClient { organization_id, scopes, .. } if org == Some(*organization_id) && !scopes.contains(&scope))
    }

    fn member_of(&self, org: Option<OrganizationId>) -> bool {
        org.is_some() && self.organization_id() == org
    }

    fn is_user(&self, user: UserId) -> bool {
        matches!(self, Principal::User { id, .. } if *id == user)
    }
}

/// What a principal may do, described with the facts the decision needs.
#[derive(Clone, Debug)]
pub enum Action<'a> {
    /// Creating a group (a cohort or a team) in an organization.
    CreateGroup {
        organization_id: OrganizationId,
    },
    /// Reading a program template: built-in ones (`organization_id` None) or an organization's.
    ReadTemplate {
        organization_id: Option<OrganizationId>,
    },
    /// Creating or changing an organization's program templates.
    ManageTemplates {
        organization_id: OrganizationId,
    },
    /// Reading an organization's coaching contracts and what they hold.
    ReadContracts {
        organization_id: OrganizationId,
    },
    /// Creating, changing or deleting an organization's coaching contracts.
    ManageContracts {
        organization_id: OrganizationId,
    },
    /// Reading an organization's reports (docs/reports.md): figures, never content.
    ReadReports {
        organization_id: OrganizationId,
    },
    CreateOrganization,
    ReadOrganization {
        id: OrganizationId,
    },
    UpdateOrganization {
        id: OrganizationId,
    },
    CreateUser {
        organization_id: Option<OrganizationId>,
        roles: &'a [Role],
    },
    ReadUser {
        user: &'a User,
    },
    /// Changing a person: `changes` says which fields the request would change (docs/access.md, people).
    UpdateUser {
        user: &'a User,
        changes: &'a UserChanges,
    },
    DeactivateUser {
        user: &'a User,
    },
    ManageApiClients {
        organization_id: OrganizationId,
    },
    /// Creating, reading, changing or deleting the organization's webhook subscriptions and
    /// reading or re-sending their deliveries.
    ManageWebhooks {
        organization_id: OrganizationId,
    },
    CreateEngagement {
        organization_id: OrganizationId,
    },
    ReadEngagement {
        engagement: &'a Engagement,
    },
    /// Changing an engagement's details; `changes_terms` is whether the change touches its
    /// budget, dates or people (docs/access.md, engagements: the hr_partner's and admins', not the coach's).
    UpdateEngagement {
        engagement: &'a Engagement,
        changes_terms: bool,
    },
    /// Moving the program (who may move it where is decided by [`mover`] and the state machine).
    TransitionEngagement {
        engagement: &'a Engagement,
    },
    /// Making or rotating a person's calendar feed address (docs/calendar.md): the person alone,
    /// since the address is a secret that reads their schedule.
    SubscribeCalendar {
        user_id: UserId,
    },
    /// Reading whether a person has a calendar feed, and revoking it: the person, and admins.
    ManageCalendarFeed {
        user_id: UserId,
    },
}

/// Which rows of a list the principal may see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    All,
    Organization(OrganizationId),
    /// Only the principal's own record.
    OnlySelf(UserId),
}

/// The organization a list is limited to for a caller who sees only `own`, given the one the
/// request asked for: `own` (asked for it, or for none), or `None` when it asked for another
/// organization, whose rows it may not see (the answer is an empty page, not an error).
pub fn narrow_to_organization(own: OrganizationId, asked: Option<OrganizationId>) -> Option<OrganizationId> {
    match asked {
        Some(other) if other != own => None,
        _ => Some(own),
    }
}

fn not_found(resource: &'static str) -> DomainError {
    DomainError::NotFound { resource }
}

fn forbidden(message: &str) -> DomainError {
    DomainError::Forbidden { message: message.to_owned() }
}

/// Roles an hr_partner may grant: only hr_partner, and only in their own organization. Admin and
/// coach are provider-side roles granted by admins.
fn grantable_by_hr<'r>(roles: impl IntoIterator<Item = &'r Role>) -> bool {
    roles.into_iter().all(|r| *r == Role::HrPartner)
}

/// Whether a person is changed by admins alone: anyone holding a provider-side role (admin or
/// coach), whatever organization their record names.
fn changed_by_admins_only(user: &User) -> bool {
    !grantable_by_hr(&user.roles)
}

/// How a principal relates to an engagement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relation {
    Admin,
    /// The organization's hr_partner, or its API client (with the scope the action needs).
    HrPartner,
    Coach,
    Leader,
    Sponsor,
    /// An API client of the organization without the needed scope.
    ScopeMissing,
    None,
}

/// The principal's relation to `engagement`, for an action that needs `scope` from API clients.
pub fn relation(principal: &Principal, engagement: &Engagement, scope: Scope) -> Relation {
    if principal.is_admin() {
        return Relation::Admin;
    }
    let org = Some(engagement.organization_id);
    if principal.manages(org, scope) {
        return Relation::HrPartner;
    }
    if principal.lacks_scope(org, scope) {
        return Relation::ScopeMissing;
    }
    match principal {
        Principal::User { id, .. } if *id == engagement.coach_id => Relation::Coach,
        Principal::User { id, .. } if *id == engagement.leader_id => Relation::Leader,
        Principal::User { id, .. } if engagement.is_sponsor(*id) => Relation::Sponsor,
        _ => Relation::None,
    }
}

/// The parts of an engagement, each with its own visibility (docs/access.md, engagements).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// Outcomes and their measurements (and, later, reviews).
    Outcomes,
    /// The context meeting's notes and benchmarks.
    ContextMeeting,
    /// The leader interview: the coach's alone.
    LeaderInterview,
    /// 360 raters, their interviews and raw feedback: the coach's alone.
    Raters,
    /// Themes: the coach's; leader and sponsors read them once released.
    Themes,
    /// Program designs and decisions: the coach writes; everyone related reads; leader and
    /// sponsors decide.
    Designs,
    /// Coaching sessions: schedule, status and duration for everyone related; content by view.
    Sessions,
    /// Action items: the coach and the leader only.
    ActionItems,
}

/// May `relation` read `part`? (`Admin` and `HrPartner` include API clients with the scope.)
fn part_readable(part: Part, relation: Relation) -> bool {
    use Relation::*;
    match part {
        Part::Outcomes | Part::Designs | Part::Sessions => {
            matches!(relation, Coach | Leader | Sponsor | HrPartner | Admin)
        }
        Part::ContextMeeting => matches!(relation, Coach | Leader | Sponsor),
        Part::LeaderInterview | Part::Raters => matches!(relation, Coach),
        Part::Themes => matches!(relation, Coach | Leader | Sponsor),
        Part::ActionItems => matches!(relation, Coach | Leader),
    }
}

/// Decides reading (`write == false`) or writing an engagement's `part`: only the coach writes;
/// a reader who may not read it gets 404, as if it were not there.
pub fn check_part(principal: &Principal, engagement: &Engagement, part: Part, write: bool) -> Result<(), DomainError> {
    let scope = if write { Scope::EngagementsWrite } else { Scope::EngagementsRead };
    let relation = relation(principal, engagement, scope);
    if relation == Relation::None {
        return Err(not_found("engagement"));
    }
    if relation == Relation::ScopeMissing {
        return Err(forbidden("this needs the engagements:read or engagements:write scope"));
    }
    let resource = match part {
        Part::Outcomes => "outcome",
        Part::ContextMeeting => "context meeting",
        Part::LeaderInterview => "leader interview",
        Part::Raters => "rater",
        Part::Themes => "theme",
        Part::Designs => "design version",
        Part::Sessions => "session",
        Part::ActionItems => "action item",
    };
    if !part_readable(part, relation) {
        return Err(not_found(resource));
    }
    if write && relation != Relation::Coach {
        return Err(forbidden("only the engagement's coach records this"));
    }
    Ok(())
}

/// Deciding on a design: the leader and the sponsors (as people; the domain checks which).
pub fn check_decide(principal: &Principal, engagement: &Engagement) -> Result<UserId, DomainError> {
    match relation(principal, engagement, Scope::EngagementsWrite) {
        Relation::Leader | Relation::Sponsor => match principal {
            Principal::User { id, .. } => Ok(*id),
            Principal::ApiClient { .. } => Err(forbidden("only the leader and the sponsors decide on the design")),
        },
        Relation::None => Err(not_found("engagement")),
        _ => Err(forbidden("only the leader and the sponsors decide on the design")),
    }
}

/// Which fields of a session a reader sees (docs/access.md, engagements): the coach all content, private notes only
/// as their author; the leader the shared summary; everyone else schedule, status and duration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionView {
    pub content: bool,
    pub shared_summary: bool,
    pub private_notes: bool,
}

impl SessionView {
    /// The agenda and the calendar file (which carries it) are for those who see a session's
    /// content or its shared summary: the coach and the leader.
    pub fn agenda(&self) -> bool {
        self.content || self.shared_summary
    }
}

pub fn session_view(principal: &Principal, engagement: &Engagement, notes_author: Option<UserId>) -> SessionView {
    match relation(principal, engagement, Scope::EngagementsRead) {
        Relation::Coach => SessionView {
            content: true,
            shared_summary: true,
            private_notes: matches!(principal, Principal::User { id, .. } if Some(*id) == notes_author),
        },
        Relation::Leader => SessionView { content: false, shared_summary: true, private_notes: false },
        _ => SessionView { content: false, shared_summary: false, private_notes: false },
    }
}

/// Scheduling a session: the coach schedules; the leader may request a time (`Ok(true)`).
pub fn check_schedule(principal: &Principal, engagement: &Engagement) -> Result<bool, DomainError> {
    match relation(principal, engagement, Scope::EngagementsWrite) {
        Relation::Coach => Ok(false),
        Relation::Leader => Ok(true),
        Relation::None => Err(not_found("engagement")),
        _ => Err(forbidden("the coach schedules sessions; the leader may request a time")),
    }
}

/// Changing an action item: the coach (anything) or the leader (`Ok(true)`: status and note).
pub fn check_action_item_update(principal: &Principal, engagement: &Engagement) -> Result<bool, DomainError> {
    check_part(principal, engagement, Part::ActionItems, false)?;
    match relation(principal, engagement, Scope::EngagementsWrite) {
        Relation::Coach => Ok(false),
        Relation::Leader => Ok(true),
        _ => Err(forbidden("the coach and the leader change action items")),
    }
}

/// Deciding on an extension: a sponsor (the leader does not decide on hours).
pub fn check_sponsor(principal: &Principal, engagement: &Engagement) -> Result<UserId, DomainError> {
    match (relation(principal, engagement, Scope::EngagementsWrite), principal) {
        (Relation::Sponsor, Principal::User { id, .. }) => Ok(*id),
        (Relation::None, _) => Err(not_found("engagement")),
        _ => Err(forbidden("a sponsor decides on extensions")),
    }
}

/// Whether the principal sees themes before they are released (the coach does; leader and
/// sponsors see only released ones).
pub fn sees_unreleased_themes(principal: &Principal, engagement: &Engagement) -> bool {
    relation(principal, engagement, Scope::EngagementsRead) == Relation::Coach
}

/// Whether `principal` is the engagement's coach: their pages are the workspace where every step
/// of the program is done (docs/access.md).
pub fn works_on(principal: &Principal, engagement: &Engagement) -> bool {
    relation(principal, engagement, Scope::EngagementsWrite) == Relation::Coach
}

/// Who is moving an engagement's program, or why they may not.
pub fn mover(principal: &Principal, engagement: &Engagement) -> Result<Mover, DomainError> {
    match relation(principal, engagement, Scope::EngagementsWrite) {
        Relation::Admin | Relation::Coach => Ok(Mover::Coach),
        Relation::HrPartner => Ok(Mover::HrPartner),
        Relation::Leader | Relation::Sponsor | Relation::ScopeMissing => {
            Err(forbidden("only the coach moves the program; the hr_partner may hold, resume or cancel it"))
        }
        Relation::None => Err(not_found("engagement")),
    }
}

/// Nobody locks themselves out: an admin keeps their own admin role and nobody deactivates their
/// own account (another admin, or the organization's hr_partner, can).
const LOCK_OUT: &str = "you cannot deactivate yourself or remove your own admin role; another admin can";

/// Decides whether `principal` may perform `action`.
pub fn check(principal: &Principal, action: &Action<'_>) -> Result<(), DomainError> {
    match action {
        Action::ReadEngagement { engagement } => {
            return match relation(principal, engagement, Scope::EngagementsRead) {
                Relation::None => Err(not_found("engagement")),
                Relation::ScopeMissing => Err(forbidden("reading engagements needs the engagements:read scope")),
                _ => Ok(()),
            };
        }
        Action::UpdateEngagement { engagement, changes_terms } => {
            return match relation(principal, engagement, Scope::EngagementsWrite) {
                Relation::Admin | Relation::HrPartner => Ok(()),
                Relation::Coach if !changes_terms => Ok(()),
                Relation::Coach => Err(forbidden(
                    "an engagement's budget, dates and people are changed by its hr_partner or an admin; \
                     the coach asks for more hours through an extension",
                )),
                Relation::None => Err(not_found("engagement")),
                _ => Err(forbidden("only the coach, the hr_partner or an admin can change the engagement")),
            };
        }
        Action::TransitionEngagement { engagement } => return mover(principal, engagement).map(|_| ()),
        Action::SubscribeCalendar { user_id } => {
            return match principal {
                _ if principal.is_user(*user_id) => Ok(()),
                _ if principal.is_admin() => Err(forbidden("only the person themself can make their calendar address")),
                _ => Err(not_found("user")),
            };
        }
        Action::ManageCalendarFeed { user_id } if principal.is_user(*user_id) => return Ok(()),
        Action::DeactivateUser { user } if principal.is_user(user.id) => return Err(forbidden(LOCK_OUT)),
        Action::UpdateUser { user, changes } if principal.is_user(user.id) && changes.locks_out(user) => {
            return Err(forbidden(LOCK_OUT));
        }
        _ => {}
    }
    if principal.is_admin() {
        return Ok(());
    }
    match action {
        Action::CreateOrganization => Err(forbidden("only an admin can create organizations")),
        Action::ReadOrganization { id } => {
            if principal.member_of(Some(*id)) {
                Ok(())
            } else {
                Err(not_found("organization"))
            }
        }
        Action::UpdateOrganization { id } => {
            if !principal.member_of(Some(*id)) {
                Err(not_found("organization"))
            } else if principal.manages(Some(*id), Scope::UsersWrite) && matches!(principal, Principal::User { .. }) {
                Ok(())
            } else {
                Err(forbidden("only an admin or the organization's hr_partner can change it"))
            }
        }
        Action::CreateUser { organization_id, roles } => {
            if principal.manages(*organization_id, Scope::UsersWrite) {
                if grantable_by_hr(*roles) {
                    Ok(())
                } else {
                    Err(forbidden("an hr_partner can grant only the hr_partner role"))
                }
            } else if principal.lacks_scope(*organization_id, Scope::UsersWrite) {
                Err(forbidden("creating users needs the users:write scope"))
            } else if organization_id.is_some() && !principal.member_of(*organization_id) {
                // Naming another tenant reveals nothing about it.
                Err(forbidden("users can be created only in your own organization"))
            } else {
                Err(forbidden("only an admin or the organization's hr_partner can create users"))
            }
        }
        Action::ReadUser { user } => {
            if principal.is_user(user.id) || principal.manages(user.organization_id, Scope::UsersRead) {
                Ok(())
            } else if principal.lacks_scope(user.organization_id, Scope::UsersRead) {
                Err(forbidden("reading users needs the users:read scope"))
            } else {
                Err(not_found("user"))
            }
        }
        Action::UpdateUser { user, changes } => {
            if principal.manages(user.organization_id, Scope::UsersWrite) {
                if changed_by_admins_only(user) {
                    Err(forbidden("admins and coaches are changed by admins alone"))
                } else if !grantable_by_hr(&changes.new_roles) {
                    Err(forbidden("an hr_partner can grant only the hr_partner role"))
                } else {
                    Ok(())
                }
            } else if principal.is_user(user.id) {
                if changes.beyond_name() { Err(forbidden("you can change your own name only")) } else { Ok(()) }
            } else if principal.lacks_scope(user.organization_id, Scope::UsersWrite) {
                Err(forbidden("changing users needs the users:write scope"))
            } else {
                Err(not_found("user"))
            }
        }
        Action::DeactivateUser { user } => {
            if principal.manages(user.organization_id, Scope::UsersWrite) {
                if changed_by_admins_only(user) {
                    Err(forbidden("admins and coaches are changed by admins alone"))
                } else {
                    Ok(())
                }
            } else if principal.lacks_scope(user.organization_id, Scope::UsersWrite) {
                Err(forbidden("only an admin or the organization's hr_partner can deactivate users"))
            } else {
                Err(not_found("user"))
            }
        }
        Action::CreateEngagement { organization_id } | Action::CreateGroup { organization_id } => {
            let what = if matches!(action, Action::CreateGroup { .. }) { "groups" } else { "engagements" };
            if principal.manages(Some(*organization_id), Scope::EngagementsWrite) {
                Ok(())
            } else if principal.lacks_scope(Some(*organization_id), Scope::EngagementsWrite) {
                Err(DomainError::Forbidden { message: format!("creating {what} needs the engagements:write scope") })
            } else {
                Err(DomainError::Forbidden {
                    message: format!("only an admin or the organization's hr_partner can create {what}"),
                })
            }
        }
        Action::ReadEngagement { .. }
        | Action::UpdateEngagement { .. }
        | Action::TransitionEngagement { .. }
        | Action::SubscribeCalendar { .. } => {
            unreachable!("decided above")
        }
        Action::ManageCalendarFeed { .. } => Err(not_found("user")),
        Action::ManageApiClients { organization_id } => match principal {
            Principal::User { .. } if principal.manages(Some(*organization_id), Scope::UsersWrite) => Ok(()),
            _ if principal.member_of(Some(*organization_id)) => {
                Err(forbidden("only an admin or the organization's hr_partner can manage API clients"))
            }
            _ => Err(not_found("organization")),
        },
        Action::ReadTemplate { organization_id: None } => Ok(()),
        Action::ReadTemplate { organization_id: Some(org) } => match template_visibility(principal)? {
            TemplateVisibility::Every => Ok(()),
            TemplateVisibility::Organization(own) if own == *org => Ok(()),
            _ => Err(not_found("program template")),
        },
        Action::ManageTemplates { organization_id } => {
            if principal.manages(Some(*organization_id), Scope::EngagementsWrite) {
                Ok(())
            } else if principal.lacks_scope(Some(*organization_id), Scope::EngagementsWrite) {
                Err(forbidden("changing templates needs the engagements:write scope"))
            } else if principal.member_of(Some(*organization_id))
                || matches!(principal, Principal::User { roles, .. } if roles.contains(&Role::Coach))
            {
                Err(forbidden("only an admin or the organization's hr_partner can change its templates"))
            } else {
                Err(not_found("program template"))
            }
        }
        Action::ReadContracts { organization_id } | Action::ReadReports { organization_id } => {
            let what = if matches!(action, Action::ReadReports { .. }) { "reports" } else { "contracts" };
            if principal.manages(Some(*organization_id), Scope::ReportsRead) {
                Ok(())
            } else if principal.lacks_scope(Some(*organization_id), Scope::ReportsRead) {
                Err(DomainError::Forbidden { message: format!("reading {what} needs the reports:read scope") })
            } else if principal.member_of(Some(*organization_id)) {
                Err(DomainError::Forbidden {
                    message: format!("only an admin or the organization's hr_partner can read its {what}"),
                })
            } else {
                Err(not_found(if what == "reports" { "organization" } else { "contract" }))
            }
        }
        Action::ManageContracts { organization_id } => {
            if principal.manages(Some(*organization_id), Scope::EngagementsWrite) {
                Ok(())
            } else if principal.lacks_scope(Some(*organization_id), Scope::EngagementsWrite) {
                Err(forbidden("changing contracts needs the engagements:write scope"))
            } else if principal.member_of(Some(*organization_id)) {
                Err(forbidden("only an admin or the organization's hr_partner can change its contracts"))
            } else {
                Err(not_found("contract"))
            }
        }
        Action::ManageWebhooks { organization_id } => {
            if principal.manages(Some(*organization_id), Scope::WebhooksManage) {
                Ok(())
            } else if principal.lacks_scope(Some(*organization_id), Scope::WebhooksManage) {
                Err(forbidden("managing webhooks needs the webhooks:manage scope"))
            } else if principal.member_of(Some(*organization_id)) {
                Err(forbidden("only an admin or the organization's hr_partner can manage webhooks"))
            } else {
                Err(not_found("webhook"))
            }
        }
    }
}

/// Which organizations a principal sees in the organization list.
pub fn organization_visibility(principal: &Principal) -> Option<Visibility> {
    if principal.is_admin() {
        return Some(Visibility::All);
    }
    principal.organization_id().map(Visibility::Organization)
}

/// Whose program templates a principal reads, besides the built-in ones (which everyone reads).
/// Templates hold no personal data: an organization's people read its templates, and admins and
/// coaches (who serve several organizations) read every organization's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TemplateVisibility {
    Every,
    Organization(OrganizationId),
    BuiltInOnly,
}

pub fn template_visibility(principal: &Principal) -> Result<TemplateVisibility, DomainError> {
    Ok(match principal {
        Principal::User { roles, .. } if roles.contains(&Role::Admin) || roles.contains(&Role::Coach) => {
            TemplateVisibility::Every
        }
        Principal::User { organization_id: Some(org), .. } => TemplateVisibility::Organization(*org),
        Principal::User { organization_id: None, .. } => TemplateVisibility::BuiltInOnly,
        Principal::ApiClient { organization_id, scopes, .. } => {
            if !scopes.contains(&Scope::EngagementsRead) {
                return Err(forbidden("reading templates needs the engagements:read scope"));
            }
            TemplateVisibility::Organization(*organization_id)
        }
    })
}

/// How a principal stands to a group (seed 002).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupRelation {
    Admin,
    /// The organization's hr_partner, or its API client (with the scope the action needs).
    HrPartner,
    Coach,
    Sponsor,
    /// In the group now.
    Participant,
    /// Was in the group and left: keeps reading what they saw.
    FormerParticipant,
    ScopeMissing,
    None,
}

pub fn group_relation(
    principal: &Principal,
    group: &Group,
    participation: Participation,
    scope: Scope,
) -> GroupRelation {
    if principal.is_admin() {
        return GroupRelation::Admin;
    }
    let org = Some(group.organization_id);
    if principal.manages(org, scope) {
        return GroupRelation::HrPartner;
    }
    if principal.lacks_scope(org, scope) {
        return GroupRelation::ScopeMissing;
    }
    match (principal, participation) {
        (Principal::User { id, .. }, _) if *id == group.coach_id => GroupRelation::Coach,
        (Principal::User { .. }, Participation::Current) => GroupRelation::Participant,
        (Principal::User { .. }, Participation::Former) => GroupRelation::FormerParticipant,
        (Principal::User { id, .. }, _) if *id == group.sponsor_id => GroupRelation::Sponsor,
        _ => GroupRelation::None,
    }
}

/// Whether `principal` is the group's coach: their page of it is where its sessions are run and
/// each participant's outcomes and action items set (docs/access.md, groups).
pub fn coaches_group(principal: &Principal, group: &Group) -> bool {
    group_relation(principal, group, Participation::Never, Scope::EngagementsWrite) == GroupRelation::Coach
}

/// What may be done with a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupAction {
    /// The group, its members, its sessions' schedule and attendance, its hours.
    Read,
    /// Its name, size, budget and dates, and who joins and leaves: its hr_partner or an admin.
    Manage,
    /// Scheduling, moving, cancelling and completing its sessions: its coach.
    RunSessions,
    /// A participant's own outcomes and action items: the coach and that participant.
    ReadItems { participant: UserId },
    /// Setting a participant's outcomes and action items: the coach.
    WriteItems { participant: UserId },
    /// Marking one's own action item done or dropped: the participant (or the coach).
    UpdateItemStatus { participant: UserId },
}

/// Decides `action` on `group` for `principal` (`participation`: how the principal, if a person,
/// stands in it). Those who cannot see the group, or a participant's items, get 404.
pub fn check_group(
    principal: &Principal,
    group: &Group,
    participation: Participation,
    action: GroupAction,
) -> Result<(), DomainError> {
    use GroupRelation as R;
    let scope = match action {
        GroupAction::Read | GroupAction::ReadItems { .. } => Scope::EngagementsRead,
        _ => Scope::EngagementsWrite,
    };
    let relation = group_relation(principal, group, participation, scope);
    let me = match principal {
        Principal::User { id, .. } => Some(*id),
        Principal::ApiClient { .. } => None,
    };
    match (relation, action) {
        (R::None, _) => Err(not_found("group")),
        (R::ScopeMissing, _) => Err(forbidden("groups need the engagements:read or engagements:write scope")),
        (_, GroupAction::Read) => Ok(()),
        (R::Admin | R::HrPartner, GroupAction::Manage) => Ok(()),
        (_, GroupAction::Manage) => Err(forbidden("only the group's hr_partner or an admin changes the group")),
        (R::Coach, GroupAction::RunSessions) => Ok(()),
        (_, GroupAction::RunSessions) => Err(forbidden("only the group's coach runs its sessions")),
        (R::Coach, _) => Ok(()),
        (R::Participant | R::FormerParticipant, GroupAction::ReadItems { participant }) if me == Some(participant) => {
            Ok(())
        }
        (R::Participant, GroupAction::UpdateItemStatus { participant }) if me == Some(participant) => Ok(()),
        // Another participant's items are not there for anyone but the coach and their owner.
        (_, GroupAction::ReadItems { .. } | GroupAction::UpdateItemStatus { .. }) => Err(not_found("participant item")),
        (R::Participant | R::FormerParticipant, GroupAction::WriteItems { participant }) if me == Some(participant) => {
            Err(forbidden("the coach sets a participant's outcomes and action items"))
        }
        (_, GroupAction::WriteItems { .. }) => Err(not_found("participant item")),
    }
}

/// What a reader sees of a group session: the agenda and the shared summary (the coach, and a
/// participant for the sessions held while they were in the group), the private notes (their
/// author).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupSessionView {
    pub content: bool,
    pub private_notes: bool,
}

/// What `principal` sees of `session`, or `None` when it is not there for them at all. The coach
/// reads everything; the sponsor, the hr_partner and admins the schedule and attendance; a
/// participant, present or former, only the sessions held while they were a member
/// (`joined_at` ≤ session time ≤ `left_at`), content included, and nothing of the others: a
/// participant who left reads nothing held later, one who joined late nothing held before.
pub fn group_session_view(
    principal: &Principal,
    group: &Group,
    memberships: &[Membership],
    session: &GroupSession,
) -> Option<GroupSessionView> {
    use GroupRelation as R;
    let me = match principal {
        Principal::User { id, .. } => Some(*id),
        Principal::ApiClient { .. } => None,
    };
    let participation = me.map_or(Participation::Never, |me| Participation::of(memberships, me));
    let relation = group_relation(principal, group, participation, Scope::EngagementsRead);
    let schedule = GroupSessionView { content: false, private_notes: false };
    match relation {
        R::Coach => Some(GroupSessionView { content: true, private_notes: me.is_some() && me == session.notes_author }),
        R::Participant | R::FormerParticipant => {
            let member_then = memberships.iter().any(|m| Some(m.user_id) == me && m.covers(session.scheduled_at));
            if member_then {
                Some(GroupSessionView { content: true, private_notes: false })
            } else if me == Some(group.sponsor_id) {
                Some(schedule)
            } else {
                None
            }
        }
        R::Admin | R::HrPartner | R::Sponsor => Some(schedule),
        R::ScopeMissing | R::None => None,
    }
}

/// Which engagements a principal sees in the engagement list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngagementVisibility {
    All,
    Organization(OrganizationId),
    /// Those where the user is the coach, the leader or a sponsor.
    Participant(UserId),
}

pub fn engagement_visibility(principal: &Principal) -> Result<EngagementVisibility, DomainError> {
    if principal.is_admin() {
        return Ok(EngagementVisibility::All);
    }
    if let Some(org) = principal.organization_id()
        && principal.manages(Some(org), Scope::EngagementsRead)
    {
        return Ok(EngagementVisibility::Organization(org));
    }
    match principal {
        Principal::User { id, .. } => Ok(EngagementVisibility::Participant(*id)),
        Principal::ApiClient { .. } => Err(forbidden("listing engagements needs the engagements:read scope")),
    }
}

/// Which audit records a principal sees: admins all; an organization's hr_partner, or its API
/// client with `reports:read`, that organization's.
pub fn audit_visibility(principal: &Principal) -> Result<Visibility, DomainError> {
    if principal.is_admin() {
        return Ok(Visibility::All);
    }
    match principal.organization_id() {
        Some(org) if principal.manages(Some(org), Scope::ReportsRead) => Ok(Visibility::Organization(org)),
        _ => Err(forbidden("the audit log is for admins and the organization's hr_partner")),
    }
}

/// Which webhook subscriptions a principal sees in the list: admins all; an organization's
/// hr_partner, or its API client with `webhooks:manage`, that organization's.
pub fn webhook_visibility(principal: &Principal) -> Result<Visibility, DomainError> {
    if principal.is_admin() {
        return Ok(Visibility::All);
    }
    match principal.organization_id() {
        Some(org) if principal.manages(Some(org), Scope::WebhooksManage) => Ok(Visibility::Organization(org)),
        Some(_) if matches!(principal, Principal::ApiClient { .. }) => {
            Err(forbidden("managing webhooks needs the webhooks:manage scope"))
        }
        _ => Err(forbidden("webhooks are managed by admins and the organization's hr_partner")),
    }
}

/// Which users a principal sees in the user list; `Err` when the list is not theirs to read.
pub fn user_visibility(principal: &Principal) -> Result<Visibility, DomainError> {
    if principal.is_admin() {
        return Ok(Visibility::All);
    }
    if let Some(org) = principal.organization_id()
        && principal.manages(Some(org), Scope::UsersRead)
    {
        return Ok(Visibility::Organization(org));
    }
    match principal {
        Principal::User { id, .. } => Ok(Visibility::OnlySelf(*id)),
        Principal::ApiClient { .. } => Err(forbidden("listing users needs the users:read scope")),
    }
}

#[cfg(test)]
mod tests {
    //! The policy as tables: for each kind of caller, what every check answers (docs/access.md).
    //! An answer is `o` (allowed), `f` (forbidden: 403), `n` (not found: 404, as if the resource
    //! were not there) or, for the parts of an engagement, `e` (the engagement itself not found).

    use super::*;
    use crate::engagement::{NewEngagement, People};
    use crate::organization::{NewOrganization, Organization};
    use crate::user::{NewUser, UserPatch, UserStatus};

    struct Directory(Vec<User>);

    impl People for Directory {
        fn get(&self, id: UserId) -> Option<&User> {
            self.0.iter().find(|u| u.id == id)
        }
    }

    fn organization(name: &str) -> Organization {
        Organization::create(NewOrganization { name: name.into(), ..Default::default() }).unwrap()
    }

    fn person(email: &str, org: Option<&Organization>, roles: &[Role]) -> User {
        User::create(NewUser {
            email: email.into(),
            name: "P".into(),
            organization_id: org.map(|o| o.id),
            roles: roles.to_vec(),
            external_id: None,
        })
        .unwrap()
    }

    fn client(org: &Organization, scopes: &[Scope]) -> Principal {
        Principal::ApiClient { id: "client".into(), organization_id: org.id, scopes: scopes.iter().copied().collect() }
    }

    /// An organization (Acme) with one engagement, everyone who relates to it in some way, and
    /// another tenant (Globex).
    struct World {
        engagement: Engagement,
        acme: Organization,
        globex: Organization,
        admin: User,
        hr: User,
        coach: User,
        leader: User,
        sponsor: User,
        member: User,
        hr_of_globex: User,
    }

    fn world() -> World {
        let acme = organization("Acme");
        let globex = organization("Globex");
        let coach = person("coach@provider.test", None, &[Role::Coach]);
        let leader = person("leader@acme.test", Some(&acme), &[]);
        let sponsor = person("sponsor@acme.test", Some(&acme), &[]);
        let input = NewEngagement {
            contract_id: None,
            organization_id: acme.id,
            title: "Leading".into(),
            leader_id: leader.id,
            coach_id: coach.id,
            sponsor_ids: vec![sponsor.id],
            hr_partner_id: None,
            start_date: chrono::NaiveDate::from_ymd_opt(2026, 1, 15).unwrap(),
            planned_end_date: None,
            allow_any_duration: false,
            monthly_hours_budget: None,
            template_id: None,
        };
        let people = Directory(vec![coach.clone(), leader.clone(), sponsor.clone()]);
        let engagement = Engagement::create(input, &acme, &crate::template::executive(), &people).unwrap();
        World {
            engagement,
            admin: person("admin@provider.test", None, &[Role::Admin]),
            hr: person("hr@acme.test", Some(&acme), &[Role::HrPartner]),
            member: person("someone@acme.test", Some(&acme), &[]),
            hr_of_globex: person("hr@globex.test", Some(&globex), &[Role::HrPartner]),
            coach,
            leader,
            sponsor,
            acme,
            globex,
        }
    }

    impl World {
        /// Every principal that relates to the engagement in its own way, by name.
        fn principals(&self) -> Vec<(&'static str, Principal)> {
            let user = Principal::for_user;
            let all = Scope::ALL;
            vec![
                ("admin", user(&self.admin)),
                ("hr_partner", user(&self.hr)),
                ("client with every scope", client(&self.acme, &all)),
                ("client reading engagements", client(&self.acme, &[Scope::EngagementsRead])),
                ("client without engagement scopes", client(&self.acme, &[Scope::ReportsRead, Scope::UsersWrite])),
                ("coach", user(&self.coach)),
                ("leader", user(&self.leader)),
                ("sponsor", user(&self.sponsor)),
                ("unrelated member", user(&self.member)),
                ("hr_partner of another tenant", user(&self.hr_of_globex)),
                ("client of another tenant", client(&self.globex, &all)),
            ]
        }
    }

    fn answer<T>(result: &Result<T, DomainError>, resource: &str) -> char {
        match result {
            Ok(_) => 'o',
            Err(DomainError::Forbidden { .. }) => 'f',
            Err(DomainError::NotFound { resource: found }) if *found == resource => 'n',
            Err(DomainError::NotFound { resource: "engagement" }) => 'e',
            Err(other) => panic!("unexpected answer {other:?}"),
        }
    }

    /// Compares a table's row with the answers, naming the principal and what was asked.
    #[track_caller]
    fn assert_row(who: &str, what: &str, expected: &str, answers: String) {
        assert_eq!(answers, expected.replace(' ', ""), "{who}: {what}");
    }

    const PARTS: [Part; 8] = [
        Part::Outcomes,
        Part::ContextMeeting,
        Part::LeaderInterview,
        Part::Raters,
        Part::Themes,
        Part::Designs,
        Part::Sessions,
        Part::ActionItems,
    ];

    fn part_resource(part: Part) -> &'static str {
        match part {
            Part::Outcomes => "outcome",
            Part::ContextMeeting => "context meeting",
            Part::LeaderInterview => "leader interview",
            Part::Raters => "rater",
            Part::Themes => "theme",
            Part::Designs => "design version",
            Part::Sessions => "session",
            Part::ActionItems => "action item",
        }
    }

    /// Groups (seed 002): the hr_partner manages, the coach runs the sessions, everyone related
    /// reads the group; a participant's items are the coach's and theirs. The leader of the world
    /// takes part in the group now; the unrelated member took part and left.
    #[test]
    fn every_group_action_for_every_relation() {
        use crate::group::{Group, GroupKind, Membership, Participation};
        let w = world();
        let now = crate::time::now();
        let group = Group {
            contract_id: None,
            id: crate::id::GroupId::generate(),
            organization_id: w.acme.id,
            kind: GroupKind::Cohort,
            name: "Leaders".into(),
            coach_id: w.coach.id,
            sponsor_id: w.sponsor.id,
            hr_partner_id: Some(w.hr.id),
            team_leader_id: None,
            max_participants: 10,
            monthly_hours_budget: 3.0,
            start_date: w.engagement.start_date,
            planned_end_date: w.engagement.planned_end_date,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        // The unrelated member took part from an hour ago until ten minutes ago; the leader joined
        // half an hour ago and is still in the group.
        let ago = |minutes: i64| now - chrono::TimeDelta::minutes(minutes);
        let mut left = Membership::start(&group, w.member.id);
        (left.joined_at, left.left_at) = (ago(60), Some(ago(10)));
        let mut joined_late = Membership::start(&group, w.leader.id);
        joined_late.joined_at = ago(30);
        let memberships = [joined_late, left];
        let (leader, former) = (w.leader.id, w.member.id);
        let actions = [
            GroupAction::Read,
            GroupAction::Manage,
            GroupAction::RunSessions,
            GroupAction::ReadItems { participant: leader },
            GroupAction::WriteItems { participant: leader },
            GroupAction::UpdateItemStatus { participant: leader },
            GroupAction::ReadItems { participant: former },
        ];
        // Read, Manage, RunSessions, the leader's items (read, write, mark), the former's items.
        let expected = [
            ("admin", "oof nnn n"),
            ("hr_partner", "oof nnn n"),
            ("client with every scope", "oof nnn n"),
            ("client reading engagements", "off nff n"),
            ("client without engagement scopes", "fff fff f"),
            ("coach", "ofo ooo o"),
            ("leader", "off ofo n"),
            ("sponsor", "off nnn n"),
            ("unrelated member", "off nnn o"),
            ("hr_partner of another tenant", "nnn nnn n"),
            ("client of another tenant", "nnn nnn n"),
        ];
        for ((who, principal), (name, row)) in w.principals().into_iter().zip(expected) {
            assert_eq!(who, name);
            let participation = match &principal {
                Principal::User { id, .. } => Participation::of(&memberships, *id),
                Principal::ApiClient { .. } => Participation::Never,
            };
            let answers: String = actions
                .iter()
                .map(|action| match check_group(&principal, &group, participation, *action) {
                    Ok(()) => 'o',
                    Err(DomainError::Forbidden { .. }) => 'f',
                    Err(DomainError::NotFound { .. }) => 'n',
                    Err(other) => panic!("unexpected answer {other:?}"),
                })
                .collect();
            assert_row(who, "group actions", row, answers);
            // Group sessions: one held while the member was in the group and before the leader
            // joined, one after the member left. 'c' content, 'p' private notes too, 's' the
            // schedule only, '-' not there at all.
            let expected_views = match who {
                "coach" => "pp",
                "leader" => "-c",
                "unrelated member" => "c-",
                "client without engagement scopes" | "hr_partner of another tenant" | "client of another tenant" => {
                    "--"
                }
                _ => "ss",
            };
            let views: String = [ago(45), ago(5)]
                .into_iter()
                .map(|at| {
                    let mut session = crate::group::GroupSession::schedule(
                        &group,
                        at,
                        60,
                        crate::coaching::SessionFormat::Video,
                        None,
                    )
                    .unwrap();
                    session.notes_author = Some(w.coach.id);
                    match group_session_view(&principal, &group, &memberships, &session) {
                        None => '-',
                        Some(GroupSessionView { private_notes: true, .. }) => 'p',
                        Some(GroupSessionView { content: true, .. }) => 'c',
                        Some(_) => 's',
                    }
                })
                .collect();
            assert_eq!(views, expected_views, "group sessions seen by {who}");
        }
    }

    /// docs/access.md, engagements: who reads which part of an engagement; only its coach writes any of them.
    #[test]
    fn every_part_for_every_relation() {
        let w = world();
        // Columns: outcomes, context meeting, leader interview, raters, themes, designs, sessions,
        // action items.
        let table = [
            ("admin", "onnn noon", "fnnn nffn"),
            ("hr_partner", "onnn noon", "fnnn nffn"),
            ("client with every scope", "onnn noon", "fnnn nffn"),
            ("client reading engagements", "onnn noon", "ffff ffff"),
            ("client without engagement scopes", "ffff ffff", "ffff ffff"),
            ("coach", "oooo oooo", "oooo oooo"),
            ("leader", "oonn oooo", "ffnn ffff"),
            ("sponsor", "oonn ooon", "ffnn fffn"),
            ("unrelated member", "eeee eeee", "eeee eeee"),
            ("hr_partner of another tenant", "eeee eeee", "eeee eeee"),
            ("client of another tenant", "eeee eeee", "eeee eeee"),
        ];
        let principals = w.principals();
        assert_eq!(table.map(|row| row.0), principals.iter().map(|p| p.0).collect::<Vec<_>>().as_slice());
        for ((who, read, write), (_, principal)) in table.into_iter().zip(&principals) {
            for (mode, expected, writing) in [("read", read, false), ("write", write, true)] {
                let answers = PARTS
                    .iter()
                    .map(|&part| answer(&check_part(principal, &w.engagement, part, writing), part_resource(part)))
                    .collect();
                assert_row(who, mode, expected, answers);
            }
        }
    }

    /// The relation behind every answer above.
    #[test]
    fn every_principal_has_its_relation() {
        let w = world();
        let expected = [
            (Relation::Admin, Relation::Admin),
            (Relation::HrPartner, Relation::HrPartner),
            (Relation::HrPartner, Relation::HrPartner),
            (Relation::HrPartner, Relation::ScopeMissing),
            (Relation::ScopeMissing, Relation::ScopeMissing),
            (Relation::Coach, Relation::Coach),
            (Relation::Leader, Relation::Leader),
            (Relation::Sponsor, Relation::Sponsor),
            (Relation::None, Relation::None),
            (Relation::None, Relation::None),
            (Relation::None, Relation::None),
        ];
        for ((who, principal), (read, write)) in w.principals().iter().zip(expected) {
            assert_eq!(relation(principal, &w.engagement, Scope::EngagementsRead), read, "{who} reading");
            assert_eq!(relation(principal, &w.engagement, Scope::EngagementsWrite), write, "{who} writing");
        }
    }

    /// docs/access.md, engagements: changing an engagement's details (the coach: all but its terms) and its terms
    /// (budget, dates, people: the hr_partner and admins).
    #[test]
    fn who_changes_an_engagement_and_its_terms() {
        let w = world();
        // Columns: details only, terms.
        let table = [
            ("admin", "oo"),
            ("hr_partner", "oo"),
            ("client with every scope", "oo"),
            ("client reading engagements", "ff"),
            ("client without engagement scopes", "ff"),
            ("coach", "of"),
            ("leader", "ff"),
            ("sponsor", "ff"),
            ("unrelated member", "nn"),
            ("hr_partner of another tenant", "nn"),
            ("client of another tenant", "nn"),
        ];
        for ((who, expected), (_, principal)) in table.into_iter().zip(w.principals()) {
            let answers = [false, true]
                .map(|changes_terms| {
                    let action = Action::UpdateEngagement { engagement: &w.engagement, changes_terms };
                    answer(&check(&principal, &action), "engagement")
                })
                .iter()
                .collect();
            assert_row(who, "changing the engagement", expected, answers);
        }
    }

    /// Who moves the program, and as whom: the coach (or an admin) moves it forward; the
    /// hr_partner holds, resumes and cancels.
    #[test]
    fn who_moves_the_program() {
        let w = world();
        let table = [
            ("admin", Ok(Mover::Coach)),
            ("hr_partner", Ok(Mover::HrPartner)),
            ("client with every scope", Ok(Mover::HrPartner)),
            ("client reading engagements", Err('f')),
            ("client without engagement scopes", Err('f')),
            ("coach", Ok(Mover::Coach)),
            ("leader", Err('f')),
            ("sponsor", Err('f')),
            ("unrelated member", Err('n')),
            ("hr_partner of another tenant", Err('n')),
            ("client of another tenant", Err('n')),
        ];
        for ((who, expected), (_, principal)) in table.into_iter().zip(w.principals()) {
            let result = mover(&principal, &w.engagement);
            let got = result.as_ref().map(|m| *m).map_err(|_| answer(&result, "engagement"));
            assert_eq!(got, expected, "{who}");
            let transition = check(&principal, &Action::TransitionEngagement { engagement: &w.engagement });
            assert_eq!(transition.is_ok(), expected.is_ok(), "{who}: the transition check agrees");
        }
    }

    /// docs/access.md, engagements: the coach sees a session's content (its private notes only as their author), the
    /// leader the shared summary, everyone else schedule, status and duration.
    #[test]
    fn what_each_reader_sees_of_a_session() {
        let w = world();
        let coach = w.coach.id;
        // Columns: content, shared summary, private notes; with notes by the coach, by someone else.
        let table = [
            ("admin", "---", "---"),
            ("hr_partner", "---", "---"),
            ("client with every scope", "---", "---"),
            ("client reading engagements", "---", "---"),
            ("client without engagement scopes", "---", "---"),
            ("coach", "csp", "cs-"),
            ("leader", "-s-", "-s-"),
            ("sponsor", "---", "---"),
            ("unrelated member", "---", "---"),
            ("hr_partner of another tenant", "---", "---"),
            ("client of another tenant", "---", "---"),
        ];
        for ((who, by_coach, by_other), (_, principal)) in table.into_iter().zip(w.principals()) {
            for (author, expected) in [(Some(coach), by_coach), (Some(w.leader.id), by_other), (None, by_other)] {
                let view = session_view(&principal, &w.engagement, author);
                let seen: String = [(view.content, 'c'), (view.shared_summary, 's'), (view.private_notes, 'p')]
                    .iter()
                    .map(|&(shown, letter)| if shown { letter } else { '-' })
                    .collect();
                assert_eq!(seen, expected, "{who}, notes by {author:?}");
            }
        }
    }

    /// The changes a person may be asked for.
    fn patches() -> [(&'static str, UserPatch); 6] {
        [
            ("name", UserPatch { name: Some("New Name".into()), ..Default::default() }),
            ("email", UserPatch { email: Some("new.address@example.com".into()), ..Default::default() }),
            ("grant hr_partner", UserPatch { roles: Some(vec![Role::HrPartner]), ..Default::default() }),
            ("grant coach", UserPatch { roles: Some(vec![Role::Coach]), ..Default::default() }),
            ("deactivate", UserPatch { status: Some(UserStatus::Deactivated), ..Default::default() }),
            ("external id", UserPatch { external_id: Some(Some("idp-new".into())), ..Default::default() }),
        ]
    }

    /// docs/access.md, people, "who may change what" on a person: the callers (rows) on each kind of person
    /// (tables), for each change (columns: name, email, grant hr_partner, grant coach, deactivate,
    /// external id).
    #[test]
    fn who_changes_what_on_people() {
        let w = world();
        let acme = Some(&w.acme);
        let plain = person("plain@acme.test", acme, &[]);
        let other_hr = person("hr2@acme.test", acme, &[Role::HrPartner]);
        let provider_admin = person("admin2@provider.test", None, &[Role::Admin]);
        let coach_in_acme = person("coach2@acme.test", acme, &[Role::Coach]);
        let admin_in_acme = person("admin3@acme.test", acme, &[Role::Admin]);
        let of_globex = person("someone@globex.test", Some(&w.globex), &[]);
        let users_write = client(&w.acme, &[Scope::UsersWrite]);
        let users_read = client(&w.acme, &[Scope::UsersRead]);
        let callers = [
            ("admin", Principal::for_user(&w.admin)),
            ("hr_partner", Principal::for_user(&w.hr)),
            ("client with users:write", users_write),
            ("client without users:write", users_read),
            ("member", Principal::for_user(&w.member)),
            ("coach", Principal::for_user(&w.coach)),
            ("hr_partner of another tenant", Principal::for_user(&w.hr_of_globex)),
        ];
        // Per target: one row per caller, in the order above.
        let tables: [(&str, &User, [&str; 7]); 7] = [
            (
                "a person of the organization with no role",
                &plain,
                ["oooooo", "ooofoo", "ooofoo", "ffffff", "nnnnnn", "nnnnnn", "nnnnnn"],
            ),
            (
                "a person of the organization who is an hr_partner",
                &other_hr,
                ["oooooo", "ooofoo", "ooofoo", "ffffff", "nnnnnn", "nnnnnn", "nnnnnn"],
            ),
            (
                "a coach whose record names the organization",
                &coach_in_acme,
                ["oooooo", "ffffff", "ffffff", "ffffff", "nnnnnn", "nnnnnn", "nnnnnn"],
            ),
            (
                "an admin whose record names the organization",
                &admin_in_acme,
                ["oooooo", "ffffff", "ffffff", "ffffff", "nnnnnn", "nnnnnn", "nnnnnn"],
            ),
            (
                "a provider-side admin (no organization)",
                &provider_admin,
                ["oooooo", "nnnnnn", "nnnnnn", "nnnnnn", "nnnnnn", "nnnnnn", "nnnnnn"],
            ),
            (
                "the provider-side coach (no organization)",
                &w.coach,
                ["oooooo", "nnnnnn", "nnnnnn", "nnnnnn", "nnnnnn", "offoff", "nnnnnn"],
            ),
            (
                "a person of the other tenant (their hr_partner's)",
                &of_globex,
                ["oooooo", "nnnnnn", "nnnnnn", "nnnnnn", "nnnnnn", "nnnnnn", "ooofoo"],
            ),
        ];
        for (target, user, rows) in tables {
            for ((who, principal), expected) in callers.iter().zip(rows) {
                let answers = patches()
                    .iter()
                    .map(|(_, patch)| {
                        let changes = patch.changes(user);
                        answer(&check(principal, &Action::UpdateUser { user, changes: &changes }), "user")
                    })
                    .collect();
                assert_row(who, target, expected, answers);
            }
        }
        // On themselves: everyone may change their name; the hr_partner (a person of the
        // organization with only that role) as much as on their people but for deactivating
        // themselves; an admin all but dropping their admin role (both grants replace the roles)
        // and deactivating themselves; anyone else nothing more (the coach "granted" coach, a
        // role they hold, changes nothing).
        let on_themselves = [
            ("admin", &w.admin, "oofffo"),
            ("hr_partner", &w.hr, "oooffo"),
            ("leader", &w.leader, "offfff"),
            ("sponsor", &w.sponsor, "offfff"),
            ("member", &w.member, "offfff"),
            ("coach", &w.coach, "offoff"),
        ];
        for (who, user, expected) in on_themselves {
            let principal = Principal::for_user(user);
            let answers = patches()
                .iter()
                .map(|(_, patch)| {
                    let changes = patch.changes(user);
                    answer(&check(&principal, &Action::UpdateUser { user, changes: &changes }), "user")
                })
                .collect();
            assert_row(who, "themselves", expected, answers);
        }
    }

    /// A field sent with its current value is no change: an hr_partner sending a coach's roles
    /// back as they are still changes a provider-side person, refused; a member sending their own
    /// email unchanged changes only their name.
    #[test]
    fn a_field_sent_unchanged_is_no_change() {
        let w = world();
        let same_email = UserPatch {
            name: Some("Renamed".into()),
            email: Some(w.member.email.as_str().to_uppercase()),
            ..Default::default()
        };
        let changes = same_email.changes(&w.member);
        let member = Principal::for_user(&w.member);
        assert!(check(&member, &Action::UpdateUser { user: &w.member, changes: &changes }).is_ok());
        let coach_in_acme = person("coach2@acme.test", Some(&w.acme), &[Role::Coach]);
        let same_roles = UserPatch { roles: Some(vec![Role::Coach]), ..Default::default() };
        let changes = same_roles.changes(&coach_in_acme);
        let hr = Principal::for_user(&w.hr);
        assert_eq!(answer(&check(&hr, &Action::UpdateUser { user: &coach_in_acme, changes: &changes }), "user"), 'f');
    }

    /// Nobody locks themselves out; another admin (or the hr_partner, for their people) can.
    #[test]
    fn nobody_deactivates_themselves_or_drops_their_own_admin_role() {
        let w = world();
        let admin = Principal::for_user(&w.admin);
        let hr = Principal::for_user(&w.hr);
        assert_eq!(answer(&check(&admin, &Action::DeactivateUser { user: &w.admin }), "user"), 'f');
        assert_eq!(answer(&check(&hr, &Action::DeactivateUser { user: &w.hr }), "user"), 'f');
        assert!(check(&hr, &Action::DeactivateUser { user: &w.member }).is_ok());
        let demote = UserPatch { roles: Some(vec![Role::Coach]), ..Default::default() };
        let changes = demote.changes(&w.admin);
        assert_eq!(answer(&check(&admin, &Action::UpdateUser { user: &w.admin, changes: &changes }), "user"), 'f');
        let keep = UserPatch { roles: Some(vec![Role::Admin, Role::Coach]), ..Default::default() };
        let changes = keep.changes(&w.admin);
        assert!(check(&admin, &Action::UpdateUser { user: &w.admin, changes: &changes }).is_ok());
        let other_admin = person("admin2@provider.test", None, &[Role::Admin]);
        let changes = demote.changes(&other_admin);
        assert!(check(&admin, &Action::UpdateUser { user: &other_admin, changes: &changes }).is_ok());
        assert!(check(&admin, &Action::DeactivateUser { user: &other_admin }).is_ok());
    }
}
