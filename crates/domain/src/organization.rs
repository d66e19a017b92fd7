//! Organizations: the client companies (tenants) and their program settings.

use std::collections::BTreeMap;

use crate::engagement::Phase;
use crate::error::{DomainError, ValidationErrors};
use crate::id::OrganizationId;
use crate::time::{self, Timestamp};
use crate::validate;

pub const NAME_MAX: usize = 200;
pub const MIN_RATERS_RANGE: (u32, u32) = (1, 50);
pub const HOURS_BUDGET_RANGE: (f64, f64) = (0.25, 200.0);
/// Hours an email address changed by someone else waits before it can be used to sign in.
pub const EMAIL_CHANGE_HOLD_HOURS_RANGE: (u32, u32) = (0, 720);
const DEFAULT_EMAIL_CHANGE_HOLD_HOURS: u32 = 72;

/// Program settings of an organization (docs/program.md, organization settings).
#[derive(Clone, Debug, PartialEq)]
pub struct OrganizationSettings {
    /// Stakeholder contributions needed before 360 themes can be released (default 3).
    pub min_raters: u32,
    /// Monthly coaching hours of a new engagement unless it says otherwise (default 3.0).
    pub default_monthly_hours_budget: f64,
    /// Whether a no-show session draws on the month's hours (default false).
    pub no_show_counts: bool,
    /// How long an address that someone else gave a person waits before a sign-in link can go
    /// to it (default 72 h, which also applies to people outside any organization; 0 = no
    /// hold). See docs/access.md, people.
    pub email_change_hold_hours: u32,
    /// Whether programs may allocate more hours than their contract holds (default false;
    /// docs/contracts.md).
    pub allow_contract_overdraft: bool,
    /// Days a program may stay in a phase before the reports and the hr_partner's pages flag it
    /// as stuck; a phase not named is never flagged (docs/reports.md, pipeline).
    pub stuck_after_days: BTreeMap<Phase, u32>,
}

/// Days in a phase after which a program is flagged as stuck, unless the organization says
/// otherwise. Coaching runs for months and ended programs do not move, so they have none.
pub const DEFAULT_STUCK_AFTER_DAYS: [(Phase, u32); 8] = [
    (Phase::Context, 30),
    (Phase::LeaderInterview, 30),
    (Phase::StakeholderInterviews, 45),
    (Phase::AssessmentDesign, 30),
    (Phase::SponsorReview, 30),
    (Phase::MidReview, 30),
    (Phase::EndReview, 30),
    (Phase::OnHold, 60),
];
pub const STUCK_AFTER_DAYS_RANGE: (u32, u32) = (1, 365);

impl Default for OrganizationSettings {
    fn default() -> Self {
        Self {
            min_raters: 3,
            default_monthly_hours_budget: 3.0,
            no_show_counts: false,
            email_change_hold_hours: DEFAULT_EMAIL_CHANGE_HOLD_HOURS,
            allow_contract_overdraft: false,
            stuck_after_days: DEFAULT_STUCK_AFTER_DAYS.into_iter().collect(),
        }
    }
}

impl OrganizationSettings {
    /// How long a new address or identity-provider subject that someone else gave a person
    /// waits before it signs anyone in.
    pub fn sign_in_hold(&self) -> chrono::Duration {
        chrono::Duration::hours(i64::from(self.email_change_hold_hours))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Organization {
    pub id: OrganizationId,
    pub name: String,
    pub settings: OrganizationSettings,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Incremented by every change; the basis of the resource's ETag.
    pub version: i64,
}

/// Settings as a client sends them: every field optional.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SettingsInput {
    pub min_raters: Option<i64>,
    pub default_monthly_hours_budget: Option<f64>,
    pub no_show_counts: Option<bool>,
    pub email_change_hold_hours: Option<i64>,
    pub allow_contract_overdraft: Option<bool>,
    /// Phase name → days (`None`: never flag that phase); phases not named keep their value.
    pub stuck_after_days: Option<BTreeMap<String, Option<i64>>>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewOrganization {
    pub name: String,
    pub settings: SettingsInput,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct OrganizationPatch {
    pub name: Option<String>,
    pub settings: Option<SettingsInput>,
}

impl OrganizationPatch {
    pub fn changed_fields(&self) -> Vec<&'static str> {
        let mut fields = Vec::new();
        if self.name.is_some() {
            fields.push("name");
        }
        if self.settings.is_some() {
            fields.push("settings");
        }
        fields
    }
}

fn apply_settings(
    errors: &mut ValidationErrors,
    base: &OrganizationSettings,
    input: &SettingsInput,
) -> OrganizationSettings {
    let mut settings = base.clone();
    if let Some(n) = input.min_raters {
        let (lo, hi) = MIN_RATERS_RANGE;
        if n < i64::from(lo) || n > i64::from(hi) {
            errors.add("settings.min_raters", "out_of_range", format!("must be between {lo} and {hi}"));
        } else {
            settings.min_raters = n as u32;
        }
    }
    if let Some(h) = input.default_monthly_hours_budget {
        let (lo, hi) = HOURS_BUDGET_RANGE;
        if !h.is_finite() || h < lo || h > hi {
            errors.add(
                "settings.default_monthly_hours_budget",
                "out_of_range",
                format!("must be between {lo} and {hi} hours"),
            );
        } else {
            settings.default_monthly_hours_budget = h;
        }
    }
    if let Some(b) = input.no_show_counts {
        settings.no_show_counts = b;
    }
    for (name, days) in input.stuck_after_days.iter().flatten() {
        let field = format!("settings.stuck_after_days.{name}");
        let Ok(phase) = name.parse::<Phase>() else {
            errors.add(field, "unknown_phase", "not a phase of the program");
            continue;
        };
        let (lo, hi) = STUCK_AFTER_DAYS_RANGE;
        match days.map(u32::try_from) {
            None => {
                settings.stuck_after_days.remove(&phase);
            }
            Some(Ok(d)) if (lo..=hi).contains(&d) => {
                settings.stuck_after_days.insert(phase, d);
            }
            Some(_) => errors.add(field, "out_of_range", format!("must be between {lo} and {hi} days, or null")),
        }
    }
    if let Some(allowed) = input.allow_contract_overdraft {
        settings.allow_contract_overdraft = allowed;
    }
    if let Some(h) = input.email_change_hold_hours {
        let (lo, hi) = EMAIL_CHANGE_HOLD_HOURS_RANGE;
        match u32::try_from(h) {
            Ok(h) if (lo..=hi).contains(&h) => settings.email_change_hold_hours = h,
            _ => errors.add(
                "settings.email_change_hold_hours",
                "out_of_range",
                format!("must be between {lo} and {hi} hours"),
            ),
        }
    }
    settings
}

impl Organization {
    /// Validates a new organization and gives it an id and timestamps.
    pub fn create(input: NewOrganization) -> Result<Organization, DomainError> {
        let mut errors = ValidationErrors::new();
        let name = validate::text(&mut errors, "name", &input.name, 1, NAME_MAX);
        let settings = apply_settings(&mut errors, &OrganizationSettings::default(), &input.settings);
        errors.finish(())?;
        let now = time::now();
        Ok(Organization {
            id: OrganizationId::generate(),
            name: name.unwrap_or_default(),
            settings,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }

    /// The organization after `patch`, validated; the version is bumped.
    pub fn apply(&self, patch: &OrganizationPatch) -> Result<Organization, DomainError> {
        let mut errors = ValidationErrors::new();
        let mut next = self.clone();
        if let Some(name) = patch.name.as_deref().and_then(|n| validate::text(&mut errors, "name", n, 1, NAME_MAX)) {
            next.name = name;
        }
        if let Some(settings) = &patch.settings {
            next.settings = apply_settings(&mut errors, &self.settings, settings);
        }
        errors.finish(())?;
        next.updated_at = time::now();
        next.version += 1;
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_applies_defaults_and_trims() {
        let org = Organization::create(NewOrganization { name: "  Acme  ".into(), ..Default::default() }).unwrap();
        assert_eq!(org.name, "Acme");
        assert_eq!(org.settings, OrganizationSettings::default());
        assert_eq!(org.version, 1);
    }

    #[test]
    fn create_reports_every_invalid_field() {
        let err = Organization::create(NewOrganization {
            name: " ".into(),
            settings: SettingsInput {
                min_raters: Some(0),
                default_monthly_hours_budget: Some(f64::NAN),
                no_show_counts: None,
                email_change_hold_hours: Some(721),
                allow_contract_overdraft: None,
                stuck_after_days: None,
            },
        })
        .unwrap_err();
        let DomainError::Validation(errors) = err else { panic!("expected validation error") };
        let fields: Vec<_> = errors.0.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            fields,
            vec![
                ("name", "required"),
                ("settings.min_raters", "out_of_range"),
                ("settings.default_monthly_hours_budget", "out_of_range"),
                ("settings.email_change_hold_hours", "out_of_range")
            ]
        );
    }

    #[test]
    fn patch_keeps_unnamed_settings_and_bumps_version() {
        let org = Organization::create(NewOrganization { name: "Acme".into(), ..Default::default() }).unwrap();
        let patched = org
            .apply(&OrganizationPatch {
                name: None,
                settings: Some(SettingsInput { min_raters: Some(5), ..Default::default() }),
            })
            .unwrap();
        assert_eq!(patched.settings.min_raters, 5);
        assert_eq!(patched.settings.default_monthly_hours_budget, 3.0);
        assert_eq!(patched.version, 2);
        assert_eq!(patched.name, "Acme");
    }
}
