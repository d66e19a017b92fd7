//! Typed identifiers. Every id is a UUIDv7: time-ordered, so ordering by id is creation order.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! define_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new, time-ordered id.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }
    };
}

define_id!(
    /// The id of an organization (a tenant).
    OrganizationId
);
define_id!(
    /// The id of a user.
    UserId
);
define_id!(
    /// The id of an engagement.
    EngagementId
);
define_id!(
    /// The id of a step of an engagement's timeline (a phase transition).
    TransitionId
);
define_id!(
    /// The id of a coaching session.
    SessionId
);
define_id!(
    /// The id of an hours extension.
    ExtensionId
);
define_id!(
    /// The id of an action item.
    ActionItemId
);
define_id!(
    /// The id of a 360 rater (stakeholder).
    RaterId
);
define_id!(
    /// The id of a theme of the 360.
    ThemeId
);
define_id!(
    /// The id of an intended outcome of the program.
    OutcomeId
);
define_id!(
    /// The id of a measurement of an outcome.
    MeasurementId
);
define_id!(
    /// The id of a decision on a design version (a design version itself is its engagement's id
    /// and its version number).
    DecisionId
);
define_id!(
    /// The id of an API client (not its `client_id`, which is the name it signs in with).
    ApiClientId
);
define_id!(
    /// The id of a webhook subscription.
    WebhookId
);
define_id!(
    /// The id of one delivery of an event to a webhook subscription (its `webhook-id` header).
    DeliveryId
);
define_id!(
    /// The id of a domain event (the `id` of a webhook payload).
    EventId
);
define_id!(
    /// The id of a program template (built-in templates have fixed ids).
    TemplateId
);
define_id!(
    /// The id of a coaching group (a cohort or a team).
    GroupId
);
define_id!(
    /// The id of one person's time in a group.
    MembershipId
);
define_id!(
    /// The id of a session of a group.
    GroupSessionId
);
define_id!(
    /// The id of a group participant's own outcome.
    GroupOutcomeId
);
define_id!(
    /// The id of a group participant's own action item.
    GroupActionItemId
);

define_id!(
    /// The id of a coaching contract (hours an organization bought).
    ContractId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_uuid_v7_and_ordered() {
        let a = UserId::generate();
        let b = UserId::generate();
        assert_eq!(a.0.get_version_num(), 7);
        assert!(a < b, "v7 ids generated in sequence must sort in creation order");
        assert_eq!(a.to_string().parse::<UserId>().unwrap(), a);
    }
}
