//! Domain events (docs/operations.md, events). Payloads carry ids and states only, never content a receiving
//! organization's systems may not see (no notes, no rater data).

use serde_json::{Value, json};

use crate::contract::Contract;
use crate::engagement::{Engagement, Phase};
use crate::group::Group;
use crate::id::{EngagementId, ExtensionId, GroupSessionId, OrganizationId, SessionId, UserId};
use crate::template::ProgramTemplate;
use crate::time::{self, Timestamp};

#[derive(Clone, Debug, PartialEq)]
pub struct DomainEvent {
    pub event_type: &'static str,
    pub organization_id: OrganizationId,
    pub engagement_id: Option<EngagementId>,
    pub payload: Value,
    pub occurred_at: Timestamp,
}

impl DomainEvent {
    pub fn engagement_created(engagement: &Engagement) -> DomainEvent {
        DomainEvent {
            event_type: "engagement.created",
            organization_id: engagement.organization_id,
            engagement_id: Some(engagement.id),
            payload: json!({
                "engagement_id": engagement.id,
                "organization_id": engagement.organization_id,
                "phase": engagement.phase.as_str(),
                "leader_id": engagement.leader_id,
                "coach_id": engagement.coach_id,
            }),
            occurred_at: time::now(),
        }
    }

    /// A stakeholder was invited. No rater data: only which engagement.
    pub fn rater_invited(engagement: &Engagement) -> DomainEvent {
        Self::about(engagement, "rater.invited", json!({ "engagement_id": engagement.id }))
    }

    /// A stakeholder's feedback arrived. No rater data: only which engagement.
    pub fn feedback_submitted(engagement: &Engagement) -> DomainEvent {
        Self::about(engagement, "feedback.submitted", json!({ "engagement_id": engagement.id }))
    }

    pub fn design_submitted(engagement: &Engagement, version: i32) -> DomainEvent {
        Self::about(engagement, "design.submitted", json!({ "engagement_id": engagement.id, "version": version }))
    }

    /// A decision; the comment (free text) stays out of the event.
    pub fn design_decided(engagement: &Engagement, version: i32, role: &str, decision: &str) -> DomainEvent {
        Self::about(
            engagement,
            "design.decided",
            json!({ "engagement_id": engagement.id, "version": version, "role": role, "decision": decision }),
        )
    }

    pub fn design_approved(engagement: &Engagement, version: i32) -> DomainEvent {
        Self::about(engagement, "design.approved", json!({ "engagement_id": engagement.id, "version": version }))
    }

    /// A session was scheduled (or requested): when, not what about.
    pub fn session_scheduled(engagement: &Engagement, session: SessionId, at: Timestamp) -> DomainEvent {
        Self::about(
            engagement,
            "session.scheduled",
            json!({ "engagement_id": engagement.id, "session_id": session, "scheduled_at": at }),
        )
    }

    /// A session took place: how long, never its content.
    pub fn session_completed(engagement: &Engagement, session: SessionId, minutes: u32) -> DomainEvent {
        Self::about(
            engagement,
            "session.completed",
            json!({ "engagement_id": engagement.id, "session_id": session, "duration_minutes": minutes }),
        )
    }

    pub fn extension_requested(engagement: &Engagement, extension: ExtensionId, minutes: i64) -> DomainEvent {
        Self::about(
            engagement,
            "extension.requested",
            json!({ "engagement_id": engagement.id, "extension_id": extension, "hours": minutes as f64 / 60.0 }),
        )
    }

    pub fn extension_decided(engagement: &Engagement, extension: ExtensionId, status: &str) -> DomainEvent {
        Self::about(
            engagement,
            "extension.decided",
            json!({ "engagement_id": engagement.id, "extension_id": extension, "status": status }),
        )
    }

    /// A mid or end review was recorded (`next_step` for the end review).
    pub fn review_completed(engagement: &Engagement, kind: &str, next_step: Option<&str>) -> DomainEvent {
        Self::about(
            engagement,
            "review.completed",
            json!({ "engagement_id": engagement.id, "review": kind, "next_step": next_step }),
        )
    }

    fn about(engagement: &Engagement, event_type: &'static str, payload: Value) -> DomainEvent {
        DomainEvent {
            event_type,
            organization_id: engagement.organization_id,
            engagement_id: Some(engagement.id),
            payload,
            occurred_at: time::now(),
        }
    }

    /// An organization's program template was created (`template.created`) or got a new version
    /// (`template.updated`).
    pub fn template_changed(template: &ProgramTemplate, organization_id: OrganizationId) -> DomainEvent {
        DomainEvent {
            event_type: if template.version == 1 { "template.created" } else { "template.updated" },
            organization_id,
            engagement_id: None,
            payload: json!({
                "template_id": template.id,
                "organization_id": organization_id,
                "version": template.version,
                "steps": template.phases().iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            }),
            occurred_at: time::now(),
        }
    }

    /// A coaching contract was created, changed or deleted (`contract.*`): its terms, not what
    /// its programs hold.
    pub fn contract(contract: &Contract, event_type: &'static str) -> DomainEvent {
        DomainEvent {
            event_type,
            organization_id: contract.organization_id,
            engagement_id: None,
            payload: json!({
                "contract_id": contract.id,
                "organization_id": contract.organization_id,
                "version": contract.version,
                "start_date": contract.start_date,
                "end_date": contract.end_date,
                "hours": contract.bought_minutes as f64 / 60.0,
            }),
            occurred_at: time::now(),
        }
    }

    pub fn group_created(group: &Group) -> DomainEvent {
        Self::group(group, "group.created", json!({ "kind": group.kind.as_str(), "coach_id": group.coach_id }))
    }

    pub fn member_joined(group: &Group, user: UserId) -> DomainEvent {
        Self::group(group, "group.member_joined", json!({ "user_id": user }))
    }

    pub fn member_left(group: &Group, user: UserId) -> DomainEvent {
        Self::group(group, "group.member_left", json!({ "user_id": user }))
    }

    /// A group session was scheduled: when, not what about.
    pub fn group_session_scheduled(group: &Group, session: GroupSessionId, at: Timestamp) -> DomainEvent {
        Self::group(group, "group.session_scheduled", json!({ "session_id": session, "scheduled_at": at }))
    }

    /// A group session took place: how long and how many came, never who said what.
    pub fn group_session_completed(
        group: &Group,
        session: GroupSessionId,
        minutes: u32,
        attended: usize,
        absent: usize,
    ) -> DomainEvent {
        Self::group(
            group,
            "group.session_completed",
            json!({ "session_id": session, "duration_minutes": minutes, "attended": attended, "absent": absent }),
        )
    }

    /// Something happened to a group (`group.*`): ids, kinds, times and counts, never content.
    fn group(group: &Group, event_type: &'static str, details: Value) -> DomainEvent {
        let mut payload = json!({ "group_id": group.id, "organization_id": group.organization_id });
        if let (Some(all), Value::Object(more)) = (payload.as_object_mut(), details) {
            all.extend(more);
        }
        DomainEvent {
            event_type,
            organization_id: group.organization_id,
            engagement_id: None,
            payload,
            occurred_at: time::now(),
        }
    }

    pub fn phase_changed(engagement: &Engagement, from: Phase) -> DomainEvent {
        DomainEvent {
            event_type: "engagement.phase_changed",
            organization_id: engagement.organization_id,
            engagement_id: Some(engagement.id),
            payload: json!({
                "engagement_id": engagement.id,
                "from": from.as_str(),
                "to": engagement.phase.as_str(),
            }),
            occurred_at: time::now(),
        }
    }
}
