//! Who did what: the actor of a request and the audit record every mutation writes.

use crate::id::OrganizationId;
use crate::time::{self, Timestamp};

/// Who is acting. Until authentication is in place every caller is `Anonymous`; handlers take the
/// actor from an extractor so that authentication replaces it without touching them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    Anonymous,
    System,
    User { id: String },
    ApiClient { id: String },
}

crate::wire::wire_enum!(
    /// What kind of actor made a change.
    ActorKind as ActorKindValue {
        Anonymous => "anonymous",
        System => "system",
        User => "user",
        ApiClient => "api_client",
    }
);

impl Actor {
    pub fn actor_kind(&self) -> ActorKind {
        match self {
            Actor::Anonymous => ActorKind::Anonymous,
            Actor::System => ActorKind::System,
            Actor::User { .. } => ActorKind::User,
            Actor::ApiClient { .. } => ActorKind::ApiClient,
        }
    }

    pub fn kind(&self) -> &'static str {
        self.actor_kind().as_str()
    }

    /// Whether this actor is the person `user`.
    pub fn is_user(&self, user: crate::id::UserId) -> bool {
        matches!(self, Actor::User { id } if *id == user.to_string())
    }

    pub fn id(&self) -> Option<&str> {
        match self {
            Actor::User { id } | Actor::ApiClient { id } => Some(id),
            Actor::Anonymous | Actor::System => None,
        }
    }
}

/// The context a command runs in: the actor and the request it came from.
#[derive(Clone, Debug)]
pub struct CommandContext {
    pub actor: Actor,
    pub request_id: String,
}

/// One append-only audit record. It names what changed, never the confidential values.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditRecord {
    pub occurred_at: Timestamp,
    pub organization_id: Option<OrganizationId>,
    pub actor: Actor,
    pub action: &'static str,
    pub resource_type: &'static str,
    pub resource_id: String,
    pub request_id: String,
    pub changed_fields: Vec<&'static str>,
}

impl AuditRecord {
    pub fn new(
        ctx: &CommandContext,
        action: &'static str,
        resource_type: &'static str,
        resource_id: impl ToString,
        organization_id: Option<OrganizationId>,
    ) -> AuditRecord {
        AuditRecord {
            occurred_at: time::now(),
            organization_id,
            actor: ctx.actor.clone(),
            action,
            resource_type,
            resource_id: resource_id.to_string(),
            request_id: ctx.request_id.clone(),
            changed_fields: Vec::new(),
        }
    }

    pub fn with_fields(mut self, fields: Vec<&'static str>) -> AuditRecord {
        self.changed_fields = fields;
        self
    }
}
