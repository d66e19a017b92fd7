//! Action items (homework): the coach sets them (optionally from a session); the leader marks
//! them done and adds a note. Only the coach and the leader see them.

use keel_domain::audit::AuditRecord;
use keel_domain::coaching::{ActionItem, ActionItemChanges};
use keel_domain::policy::{self, Part};
use keel_domain::{ActionItemId, DomainError, EngagementId, Precondition, SessionId, ValidationErrors};
use keel_persistence::repo::action_items::{self, ActionItemFilter};
use keel_persistence::repo::{engagements, sessions};
use keel_persistence::{DbConnection, StoreError};

use crate::frame::{self, Caller};
use crate::program::{open_for_write, readable};

const RESOURCE: &str = "action_item";

pub fn list(
    conn: &mut DbConnection,
    caller: &Caller,
    engagement_id: EngagementId,
    filter: &ActionItemFilter,
) -> Result<Vec<ActionItem>, StoreError> {
    readable(conn, caller, engagement_id, Part::ActionItems)?;
    action_items::list(conn, engagement_id, filter)
}

/// The coach sets an action item, optionally from one of the engagement's sessions.
pub fn create(
    conn: &mut DbConnection,
    caller: &Caller,
    engagement_id: EngagementId,
    session_id: Option<SessionId>,
    input: &ActionItemChanges,
) -> Result<ActionItem, StoreError> {
    frame::run(conn, |tx, effects| {
        let engagement = open_for_write(tx, caller, engagement_id, Part::ActionItems)?;
        if let Some(session) = session_id {
            sessions::get(tx, engagement_id, session).map_err(|_| {
                DomainError::Validation(ValidationErrors::single(
                    "session_id",
                    "not_found",
                    "not a session of this engagement",
                ))
            })?;
        }
        let item = ActionItem::create(&engagement, session_id, input)?;
        action_items::insert(tx, &engagement, &item)?;
        effects.audit(AuditRecord::new(
            &caller.ctx,
            "action_item.created",
            RESOURCE,
            item.id,
            Some(engagement.organization_id),
        ));
        Ok(item)
    })
}

/// Changes an item: the coach anything, the leader its status and note.
pub fn update(
    conn: &mut DbConnection,
    caller: &Caller,
    (engagement_id, item_id): (EngagementId, ActionItemId),
    precondition: Option<&Precondition>,
    changes: &ActionItemChanges,
) -> Result<ActionItem, StoreError> {
    frame::run(conn, |tx, effects| {
        let engagement = engagements::get_for_update(tx, engagement_id)?;
        let by_leader = policy::check_action_item_update(&caller.principal, &engagement)?;
        let current = action_items::get(tx, engagement_id, item_id)?;
        Precondition::check(precondition, current.version)?;
        let next = current.apply(changes, by_leader)?;
        action_items::save(tx, &engagement, &next)?;
        effects.audit(AuditRecord::new(
            &caller.ctx,
            "action_item.updated",
            RESOURCE,
            item_id,
            Some(engagement.organization_id),
        ));
        Ok(next)
    })
}
