//! Step 3, the 360: raters (stakeholders), their interviews or written feedback, and the coach's
//! anonymised themes. Raters' names, emails and raw words are the coach's alone.

use std::time::Duration;

use chrono::NaiveDate;

use crate::error::{DomainError, ValidationErrors};
use crate::id::{EngagementId, RaterId, ThemeId};
use crate::time::{self, Timestamp};
use crate::user::Email;
use crate::validate;
use crate::wire::wire_enum;

const NAME_MAX: usize = 200;
const TEXT_MAX: usize = 20_000;
/// The longest answer a rater may give to each question.
pub const FEEDBACK_MAX: usize = TEXT_MAX;
const THEME_TITLE_MAX: usize = 200;
const THEME_TEXT_MAX: usize = 5_000;

/// How long an emailed feedback link stays valid.
pub const INVITATION_TTL: Duration = Duration::from_secs(14 * 24 * 3600);

wire_enum!(
    Relationship as RelationshipValue {
        Boss => "boss",
        Peer => "peer",
        DirectReport => "direct_report",
        Other => "other",
    }
);

wire_enum!(
    /// Where a rater stands.
    RaterStatus as RaterStatusValue {
        /// Added, not yet invited or interviewed.
        Pending => "pending",
        /// A feedback link was emailed.
        Invited => "invited",
        /// The coach recorded an interview.
        Interviewed => "interviewed",
        /// The rater submitted written feedback.
        FeedbackSubmitted => "feedback_submitted",
    }
);

impl RaterStatus {
    /// Whether this rater counts towards `min_raters`.
    pub fn contributed(self) -> bool {
        matches!(self, RaterStatus::Interviewed | RaterStatus::FeedbackSubmitted)
    }
}

/// Where a rater stands as the coach follows the 360: their status, with an invitation whose
/// link has run out told apart (docs/program.md, stakeholder interviews).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RaterStanding {
    Added,
    Invited,
    InvitationExpired,
    Interviewed,
    Answered,
}

impl RaterStanding {
    /// `invitation_expires`: when the rater's latest invitation runs out, if they have one.
    pub fn of(status: RaterStatus, invitation_expires: Option<Timestamp>, now: Timestamp) -> RaterStanding {
        match status {
            RaterStatus::Pending => RaterStanding::Added,
            RaterStatus::Invited if invitation_expires.is_some_and(|at| at <= now) => RaterStanding::InvitationExpired,
            RaterStatus::Invited => RaterStanding::Invited,
            RaterStatus::Interviewed => RaterStanding::Interviewed,
            RaterStatus::FeedbackSubmitted => RaterStanding::Answered,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RaterStanding::Added => "Not invited yet",
            RaterStanding::Invited => "Invited",
            RaterStanding::InvitationExpired => "Invitation expired",
            RaterStanding::Interviewed => "Interviewed",
            RaterStanding::Answered => "Answered",
        }
    }

    /// Whether the rater's contribution is in (it counts towards `min_raters`).
    pub fn contributed(self) -> bool {
        matches!(self, RaterStanding::Interviewed | RaterStanding::Answered)
    }
}

/// What the coach does next while the 360 lacks contributions: remind the first rater who has
/// not answered (`raters`: names and standings, in the order they were added), or add raters.
pub fn chase(contributions: u32, min_raters: u32, raters: &[(String, RaterStanding)]) -> String {
    let waiting = raters.iter().find(|(_, standing)| !standing.contributed());
    let have = format!("{contributions} of {min_raters} raters have answered");
    match waiting {
        Some((name, RaterStanding::Added)) => format!("{have}: invite {name}"),
        Some((name, RaterStanding::InvitationExpired)) => format!("{have}: send {name} a new invitation"),
        Some((name, _)) => format!("{have}: remind {name}"),
        None => format!("{have}: add more raters"),
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Rater {
    pub id: RaterId,
    pub engagement_id: EngagementId,
    pub name: String,
    pub email: Option<Email>,
    pub relationship: Relationship,
    pub status: RaterStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// A rater's fields; on update, absent fields are kept (`email: Some(None)` removes it).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RaterChanges {
    pub name: Option<String>,
    pub email: Option<Option<String>>,
    pub relationship: Option<Relationship>,
}

impl Rater {
    pub fn create(engagement_id: EngagementId, input: &RaterChanges) -> Result<Rater, DomainError> {
        let now = time::now();
        let mut errors = ValidationErrors::new();
        if input.name.is_none() {
            errors.add("name", "required", "is required");
        }
        if input.relationship.is_none() {
            errors.add("relationship", "required", "is required");
        }
        errors.finish(())?;
        let blank = Rater {
            id: RaterId::generate(),
            engagement_id,
            name: String::new(),
            email: None,
            relationship: Relationship::Other,
            status: RaterStatus::Pending,
            created_at: now,
            updated_at: now,
            version: 0,
        };
        blank.apply(input)
    }

    pub fn apply(&self, changes: &RaterChanges) -> Result<Rater, DomainError> {
        let mut errors = ValidationErrors::new();
        let mut next = self.clone();
        if let Some(name) = changes.name.as_deref().and_then(|n| validate::text(&mut errors, "name", n, 1, NAME_MAX)) {
            next.name = name;
        }
        match &changes.email {
            Some(Some(address)) => match Email::parse(address) {
                Ok(email) => next.email = Some(email),
                Err(code) => errors.add("email", code, "is not a valid email address"),
            },
            Some(None) => next.email = None,
            None => {}
        }
        if let Some(relationship) = changes.relationship {
            next.relationship = relationship;
        }
        errors.finish(())?;
        next.updated_at = time::now();
        next.version += 1;
        Ok(next)
    }

    /// An invitation can be sent to a rater with an email who has not contributed yet.
    pub fn invite(&self) -> Result<Rater, DomainError> {
        if self.email.is_none() {
            return Err(DomainError::conflict(
                "rater_email_missing",
                "the rater has no email address to send the link to",
            ));
        }
        if self.status.contributed() {
            return Err(DomainError::conflict("rater_already_contributed", "the rater has already contributed"));
        }
        Ok(self.with_status(RaterStatus::Invited))
    }

    pub fn with_status(&self, status: RaterStatus) -> Rater {
        Rater { status, updated_at: time::now(), version: self.version + 1, ..self.clone() }
    }
}

/// The coach's notes of an interview with a rater.
#[derive(Clone, Debug, PartialEq)]
pub struct RaterInterview {
    pub interviewed_on: NaiveDate,
    pub notes: String,
}

impl RaterInterview {
    pub fn record(interviewed_on: Option<NaiveDate>, notes: &str) -> Result<RaterInterview, DomainError> {
        let mut errors = ValidationErrors::new();
        if interviewed_on.is_none() {
            errors.add("interviewed_on", "required", "the date of the interview is required");
        }
        let notes = validate::text_multiline(&mut errors, "notes", notes, TEXT_MAX).filter(|n| !n.is_empty());
        if notes.is_none() && errors.is_empty() {
            errors.add("notes", "required", "record what the rater said");
        }
        errors.finish(())?;
        Ok(RaterInterview { interviewed_on: interviewed_on.expect("validated"), notes: notes.expect("validated") })
    }
}

/// A rater's invitation as stored: whose, and whether its link still works.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invitation {
    pub rater_id: RaterId,
    pub engagement_id: EngagementId,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

impl Invitation {
    /// Unused and unexpired at `now`.
    pub fn open(&self, now: Timestamp) -> bool {
        self.used_at.is_none() && self.expires_at > now
    }
}

/// Written feedback a rater submits through their link.
#[derive(Clone, Debug, PartialEq)]
pub struct Feedback {
    pub strengths: String,
    pub development_areas: String,
    pub comments: Option<String>,
    pub submitted_at: Timestamp,
}

impl Feedback {
    pub fn submit(strengths: &str, development_areas: &str, comments: Option<&str>) -> Result<Feedback, DomainError> {
        let mut errors = ValidationErrors::new();
        let mut required = |field: &str, value: &str| {
            let text = validate::text_multiline(&mut errors, field, value, TEXT_MAX).filter(|t| !t.is_empty());
            if text.is_none() && !errors.0.iter().any(|e| e.field == field) {
                errors.add(field, "required", "is required");
            }
            text
        };
        let strengths = required("strengths", strengths);
        let development_areas = required("development_areas", development_areas);
        let comments = comments
            .and_then(|c| validate::text_multiline(&mut errors, "comments", c, TEXT_MAX))
            .filter(|c| !c.is_empty());
        errors.finish(())?;
        Ok(Feedback {
            strengths: strengths.expect("validated"),
            development_areas: development_areas.expect("validated"),
            comments,
            submitted_at: time::now(),
        })
    }
}

wire_enum!(
    ThemeKind as ThemeKindValue {
        Strength => "strength",
        DevelopmentArea => "development_area",
    }
);

/// The coach's anonymised synthesis of the 360.
#[derive(Clone, Debug, PartialEq)]
pub struct Theme {
    pub id: ThemeId,
    pub engagement_id: EngagementId,
    pub kind: ThemeKind,
    pub title: String,
    pub description: Option<String>,
    pub released_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ThemeChanges {
    pub kind: Option<ThemeKind>,
    pub title: Option<String>,
    pub description: Option<Option<String>>,
}

impl Theme {
    pub fn create(engagement_id: EngagementId, input: &ThemeChanges) -> Result<Theme, DomainError> {
        let mut errors = ValidationErrors::new();
        if input.kind.is_none() {
            errors.add("kind", "required", "strength or development_area");
        }
        if input.title.is_none() {
            errors.add("title", "required", "is required");
        }
        errors.finish(())?;
        let now = time::now();
        Theme {
            id: ThemeId::generate(),
            engagement_id,
            kind: ThemeKind::Strength,
            title: String::new(),
            description: None,
            released_at: None,
            created_at: now,
            updated_at: now,
            version: 0,
        }
        .apply(input)
    }

    pub fn apply(&self, changes: &ThemeChanges) -> Result<Theme, DomainError> {
        let mut errors = ValidationErrors::new();
        let mut next = self.clone();
        if let Some(kind) = changes.kind {
            next.kind = kind;
        }
        if let Some(title) =
            changes.title.as_deref().and_then(|t| validate::text(&mut errors, "title", t, 1, THEME_TITLE_MAX))
        {
            next.title = title;
        }
        if let Some(description) = &changes.description {
            next.description = description
                .as_deref()
                .and_then(|d| validate::text_multiline(&mut errors, "description", d, THEME_TEXT_MAX))
                .filter(|d| !d.is_empty());
        }
        errors.finish(())?;
        next.updated_at = time::now();
        next.version += 1;
        Ok(next)
    }
}

/// Themes can be released to leader and sponsors once enough stakeholders contributed.
pub fn check_release(contributions: u32, min_raters: u32, theme_count: usize) -> Result<(), DomainError> {
    if contributions < min_raters {
        return Err(DomainError::conflict(
            "stakeholder_contributions_insufficient",
            format!("{contributions} of the {min_raters} stakeholder contributions needed are complete"),
        ));
    }
    if theme_count == 0 {
        return Err(DomainError::conflict("themes_missing", "write at least one theme before releasing"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raters_standing_and_whom_to_chase() {
        let now = time::now();
        let later = now + chrono::Duration::days(1);
        let earlier = now - chrono::Duration::days(1);
        assert_eq!(RaterStanding::of(RaterStatus::Invited, Some(later), now), RaterStanding::Invited);
        assert_eq!(RaterStanding::of(RaterStatus::Invited, Some(earlier), now), RaterStanding::InvitationExpired);
        assert_eq!(RaterStanding::of(RaterStatus::Pending, None, now), RaterStanding::Added);
        assert_eq!(RaterStanding::of(RaterStatus::FeedbackSubmitted, Some(earlier), now), RaterStanding::Answered);
        let raters = [
            ("Ann".to_owned(), RaterStanding::Answered),
            ("Pat".to_owned(), RaterStanding::Invited),
            ("Sam".to_owned(), RaterStanding::Added),
        ];
        assert_eq!(chase(1, 3, &raters), "1 of 3 raters have answered: remind Pat");
        assert_eq!(chase(1, 3, &raters[..1]), "1 of 3 raters have answered: add more raters");
        let expired = [("Pat".to_owned(), RaterStanding::InvitationExpired)];
        assert_eq!(chase(0, 3, &expired), "0 of 3 raters have answered: send Pat a new invitation");
    }

    #[test]
    fn raters_need_a_name_and_relationship_and_an_email_to_be_invited() {
        assert!(Rater::create(EngagementId::generate(), &RaterChanges::default()).is_err());
        let rater = Rater::create(
            EngagementId::generate(),
            &RaterChanges { name: Some("Pat".into()), email: None, relationship: Some(Relationship::Peer) },
        )
        .unwrap();
        assert!(matches!(rater.invite(), Err(DomainError::Conflict { code: "rater_email_missing", .. })));
        let with_email =
            rater.apply(&RaterChanges { email: Some(Some("pat@acme.test".into())), ..Default::default() }).unwrap();
        assert_eq!(with_email.invite().unwrap().status, RaterStatus::Invited);
        let done = with_email.with_status(RaterStatus::FeedbackSubmitted);
        assert!(done.invite().is_err());
    }

    #[test]
    fn release_needs_enough_contributions_and_a_theme() {
        assert!(matches!(
            check_release(2, 3, 1),
            Err(DomainError::Conflict { code: "stakeholder_contributions_insufficient", .. })
        ));
        assert!(matches!(check_release(3, 3, 0), Err(DomainError::Conflict { code: "themes_missing", .. })));
        assert!(check_release(3, 3, 2).is_ok());
    }

    #[test]
    fn feedback_needs_strengths_and_development_areas() {
        let DomainError::Validation(errors) = Feedback::submit(" ", "", None).unwrap_err() else { panic!() };
        assert_eq!(errors.0.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["strengths", "development_areas"]);
        assert!(Feedback::submit("Clear", "Listens too little", Some("")).unwrap().comments.is_none());
    }
}
