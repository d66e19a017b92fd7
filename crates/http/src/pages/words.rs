//! The domain's values as the pages say them: never a wire code on a page.

use keel_domain::coaching::{ActionItemStatus, ExtensionStatus, SessionFormat, SessionStatus};
use keel_domain::design::DesignStatus;
use keel_domain::group::{GroupItemStatus, GroupSessionStatus};

pub fn session_format(format: SessionFormat) -> &'static str {
    match format {
        SessionFormat::InPerson => "In person",
        SessionFormat::Video => "Video",
        SessionFormat::Phone => "Phone",
        SessionFormat::Text => "Text",
    }
}

pub fn design_status(status: DesignStatus) -> &'static str {
    match status {
        DesignStatus::Draft => "Draft",
        DesignStatus::Submitted => "Waiting for decisions",
        DesignStatus::Approved => "Approved",
        DesignStatus::ChangesRequested => "Changes requested",
    }
}

pub fn extension_status(status: ExtensionStatus) -> &'static str {
    match status {
        ExtensionStatus::Requested => "Waiting for a sponsor's decision",
        ExtensionStatus::Approved => "Approved",
        ExtensionStatus::Declined => "Declined",
    }
}

pub fn session_status(status: SessionStatus) -> &'static str {
    match status {
        SessionStatus::Requested => "Requested",
        SessionStatus::Proposed => "Proposed",
        SessionStatus::Scheduled => "Scheduled",
        SessionStatus::Completed => "Completed",
        SessionStatus::Cancelled => "Cancelled",
        SessionStatus::NoShow => "Missed",
    }
}

pub fn group_session_status(status: GroupSessionStatus) -> &'static str {
    match status {
        GroupSessionStatus::Scheduled => "Scheduled",
        GroupSessionStatus::Completed => "Completed",
        GroupSessionStatus::Cancelled => "Cancelled",
    }
}

/// Homework's status.
pub fn item_status(status: ActionItemStatus) -> &'static str {
    match status {
        ActionItemStatus::Open => "To do",
        ActionItemStatus::Done => "Done",
        ActionItemStatus::Dropped => "Dropped",
    }
}

pub fn group_item_status(status: GroupItemStatus) -> &'static str {
    match status {
        GroupItemStatus::Open => "To do",
        GroupItemStatus::Done => "Done",
        GroupItemStatus::Dropped => "Dropped",
    }
}
