//! The reports' own rules (docs/reports.md): the pace hours are used at, when they run out, and
//! when a program counts as stuck. The figures themselves are the ledger's and the contracts'.

use chrono::NaiveDate;

use crate::engagement::Phase;
use crate::organization::OrganizationSettings;
use crate::time::Timestamp;

/// The days the burn rate looks back over.
pub const BURN_WINDOW_DAYS: i64 = 90;

/// Minutes used per 30 days at the pace of the last [`BURN_WINDOW_DAYS`] (`recent_minutes`: the
/// minutes of counted sessions held in that window).
pub fn burn_minutes_per_month(recent_minutes: i64) -> f64 {
    recent_minutes as f64 * 30.0 / BURN_WINDOW_DAYS as f64
}

/// When `remaining_minutes` run out at the pace of the window: today when none remain, never
/// (None) when nothing was used in the window.
pub fn exhaustion_date(today: NaiveDate, remaining_minutes: i64, recent_minutes: i64) -> Option<NaiveDate> {
    if remaining_minutes <= 0 {
        return Some(today);
    }
    if recent_minutes <= 0 {
        return None;
    }
    let days = (remaining_minutes * BURN_WINDOW_DAYS + recent_minutes - 1) / recent_minutes;
    today.checked_add_signed(chrono::Duration::days(days))
}

/// How long a program has been in its phase, and whether that is longer than its organization
/// allows for the phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeInPhase {
    pub days: i64,
    /// The organization's limit for the phase (None: never flagged).
    pub limit_days: Option<u32>,
    pub stuck: bool,
}

pub fn time_in_phase(
    phase: Phase,
    entered_at: Timestamp,
    now: Timestamp,
    settings: &OrganizationSettings,
) -> TimeInPhase {
    let days = (now - entered_at).num_days().max(0);
    let limit_days = settings.stuck_after_days.get(&phase).copied();
    TimeInPhase { days, limit_days, stuck: limit_days.is_some_and(|limit| days > i64::from(limit)) }
}

/// Where a group stands by its dates (groups have no phases).
pub fn group_status(today: NaiveDate, start: NaiveDate, planned_end: NaiveDate) -> &'static str {
    if today < start {
        "not_started"
    } else if today <= planned_end {
        "running"
    } else {
        "past_planned_end"
    }
}

/// A cell of a CSV report as a spreadsheet will not run it: text starting with `=`, `+`, `-`,
/// `@`, a tab or a carriage return gets a leading `'` (OWASP's advice on CSV injection).
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => std::borrow::Cow::Owned(format!("'{cell}")),
        _ => std::borrow::Cow::Borrowed(cell),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_pace_of_the_window_projects_the_end_of_the_hours() {
        assert_eq!(burn_minutes_per_month(900), 300.0);
        // 900 minutes in 90 days is 10 a day: 95 minutes last 10 days (rounded up).
        assert_eq!(exhaustion_date(date("2026-03-01"), 95, 900), Some(date("2026-03-11")));
        assert_eq!(exhaustion_date(date("2026-03-01"), 0, 900), Some(date("2026-03-01")), "already out");
        assert_eq!(exhaustion_date(date("2026-03-01"), 95, 0), None, "nothing used lately");
    }

    #[test]
    fn a_program_is_stuck_past_its_organizations_limit_for_the_phase() {
        let settings = OrganizationSettings::default();
        let now = "2026-03-31T12:00:00Z".parse::<Timestamp>().unwrap();
        let entered = "2026-03-01T12:00:00Z".parse::<Timestamp>().unwrap();
        let review = time_in_phase(Phase::SponsorReview, entered, now, &settings);
        assert_eq!(review, TimeInPhase { days: 30, limit_days: Some(30), stuck: false });
        let later = "2026-04-01T12:00:00Z".parse::<Timestamp>().unwrap();
        assert!(time_in_phase(Phase::SponsorReview, entered, later, &settings).stuck);
        assert!(!time_in_phase(Phase::Coaching, entered, later, &settings).stuck, "coaching has no limit");
    }

    #[test]
    fn cells_a_spreadsheet_would_run_are_neutralised() {
        for bad in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(spreadsheet_safe(bad), format!("'{bad}"));
        }
        assert_eq!(spreadsheet_safe("Acme"), "Acme");
        assert_eq!(spreadsheet_safe(""), "");
    }

    #[test]
    fn groups_stand_by_their_dates() {
        let (start, end) = (date("2026-02-01"), date("2026-07-31"));
        assert_eq!(group_status(date("2026-01-31"), start, end), "not_started");
        assert_eq!(group_status(date("2026-07-31"), start, end), "running");
        assert_eq!(group_status(date("2026-08-01"), start, end), "past_planned_end");
    }
}
