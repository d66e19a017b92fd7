//! Steps 4 and 5: the versioned program design and the decisions of leader and sponsors.

use std::collections::BTreeSet;

use crate::engagement::Engagement;
use crate::error::{DomainError, ValidationErrors};
use crate::id::{DecisionId, EngagementId, OutcomeId, ThemeId, UserId};
use crate::time::{self, Timestamp};
use crate::validate;
use crate::wire::wire_enum;

const SUMMARY_MAX: usize = 20_000;
const ITEMS_MAX: usize = 100;

wire_enum!(
    /// Where a design version stands.
    DesignStatus as DesignStatusValue {
        Draft => "draft",
        Submitted => "submitted",
        Approved => "approved",
        ChangesRequested => "changes_requested",
    }
);

wire_enum!(
    ItemKind as ItemKindValue {
        Practice => "practice",
        Exercise => "exercise",
        Reading => "reading",
    }
);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DesignItem {
    pub kind: ItemKind,
    pub title: String,
    pub description: Option<String>,
    /// How often, e.g. "daily", "before each 1:1".
    pub cadence: Option<String>,
}

/// One version of the program design.
#[derive(Clone, Debug, PartialEq)]
pub struct Design {
    pub engagement_id: EngagementId,
    pub version: i32,
    pub status: DesignStatus,
    pub summary: String,
    pub theme_ids: Vec<ThemeId>,
    pub outcome_ids: Vec<OutcomeId>,
    pub items: Vec<DesignItem>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub submitted_at: Option<Timestamp>,
    /// Bumped by every change of this version (its ETag).
    pub revision: i64,
}

/// The content of a draft as given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DesignInput {
    pub summary: Option<String>,
    pub theme_ids: Option<Vec<ThemeId>>,
    pub outcome_ids: Option<Vec<OutcomeId>>,
    pub items: Option<Vec<DesignItem>>,
}

fn check_items(errors: &mut ValidationErrors, items: &[DesignItem]) -> Vec<DesignItem> {
    if items.len() > ITEMS_MAX {
        errors.add("items", "too_many", format!("at most {ITEMS_MAX} items"));
        return Vec::new();
    }
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let title = validate::text(errors, &format!("items[{i}].title"), &item.title, 1, 200)?;
            let description = item
                .description
                .as_deref()
                .and_then(|d| validate::text_multiline(errors, &format!("items[{i}].description"), d, 5000))
                .filter(|d| !d.is_empty());
            let cadence =
                item.cadence.as_deref().and_then(|c| validate::text(errors, &format!("items[{i}].cadence"), c, 1, 200));
            Some(DesignItem { kind: item.kind, title, description, cadence })
        })
        .collect()
}

/// References to themes and outcomes must name ones of this engagement.
fn check_refs<Id: Ord>(errors: &mut ValidationErrors, field: &str, ids: &[Id], known: &BTreeSet<Id>) {
    for (i, id) in ids.iter().enumerate() {
        if !known.contains(id) {
            errors.add(format!("{field}[{i}]"), "not_found", "not one of this engagement's");
        }
    }
}

/// The themes and outcomes of the engagement, that a design may refer to.
#[derive(Clone, Debug, Default)]
pub struct Known {
    pub themes: BTreeSet<ThemeId>,
    pub outcomes: BTreeSet<OutcomeId>,
}

impl Design {
    /// Version `number` as a new draft, starting from `base` (copy_from) if given.
    pub fn draft(
        engagement: &Engagement,
        number: i32,
        base: Option<&Design>,
        input: &DesignInput,
        known: &Known,
    ) -> Result<Design, DomainError> {
        let now = time::now();
        let start = Design {
            engagement_id: engagement.id,
            version: number,
            status: DesignStatus::Draft,
            summary: base.map(|b| b.summary.clone()).unwrap_or_default(),
            theme_ids: base.map(|b| b.theme_ids.clone()).unwrap_or_default(),
            outcome_ids: base.map(|b| b.outcome_ids.clone()).unwrap_or_default(),
            items: base.map(|b| b.items.clone()).unwrap_or_default(),
            created_at: now,
            updated_at: now,
            submitted_at: None,
            revision: 0,
        };
        start.edited(input, known)
    }

    /// The draft with `input` applied. A submitted version is immutable: changes make a new one.
    pub fn edit(&self, input: &DesignInput, known: &Known) -> Result<Design, DomainError> {
        if self.status != DesignStatus::Draft {
            return Err(DomainError::conflict(
                "design_not_draft",
                format!("version {} is {}; changes make a new version", self.version, self.status.as_str()),
            ));
        }
        self.edited(input, known)
    }

    fn edited(&self, input: &DesignInput, known: &Known) -> Result<Design, DomainError> {
        let mut errors = ValidationErrors::new();
        let mut next = self.clone();
        if let Some(summary) = &input.summary {
            next.summary = validate::text_multiline(&mut errors, "summary", summary, SUMMARY_MAX).unwrap_or_default();
        }
        if let Some(ids) = &input.theme_ids {
            check_refs(&mut errors, "theme_ids", ids, &known.themes);
            next.theme_ids = ids.clone();
        }
        if let Some(ids) = &input.outcome_ids {
            check_refs(&mut errors, "outcome_ids", ids, &known.outcomes);
            next.outcome_ids = ids.clone();
        }
        if let Some(items) = &input.items {
            next.items = check_items(&mut errors, items);
        }
        errors.finish(())?;
        next.updated_at = time::now();
        next.revision += 1;
        Ok(next)
    }

    /// Freezes the draft for review. It needs a summary and at least one item.
    pub fn submit(&self) -> Result<Design, DomainError> {
        if self.status != DesignStatus::Draft {
            return Err(DomainError::conflict(
                "design_not_draft",
                format!("version {} is {}", self.version, self.status.as_str()),
            ));
        }
        let mut errors = ValidationErrors::new();
        if self.summary.trim().is_empty() {
            errors.add("summary", "required", "write the design's summary before submitting");
        }
        if self.items.is_empty() {
            errors.add("items", "required", "add at least one practice, exercise or reading");
        }
        errors.finish(())?;
        let now = time::now();
        Ok(Design {
            status: DesignStatus::Submitted,
            submitted_at: Some(now),
            updated_at: now,
            revision: self.revision + 1,
            ..self.clone()
        })
    }
}

/// Whether a new version may be drafted now, given the latest one.
pub fn may_draft(latest: Option<&Design>) -> Result<(), DomainError> {
    match latest.map(|d| d.status) {
        Some(DesignStatus::Draft) => {
            Err(DomainError::conflict("design_draft_exists", "a draft version already exists; edit it"))
        }
        Some(DesignStatus::Submitted) => {
            Err(DomainError::conflict("design_under_review", "the submitted version awaits decisions"))
        }
        _ => Ok(()),
    }
}

wire_enum!(
    Verdict as DecisionValue {
        Approve => "approve",
        RequestChanges => "request_changes",
    }
);

wire_enum!(
    /// Who decides on a design: the leader or a sponsor.
    ApproverRole as ApproverRoleValue {
        Leader => "leader",
        Sponsor => "sponsor",
    }
);

#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub id: DecisionId,
    pub design_version: i32,
    pub approver_id: UserId,
    pub role: ApproverRole,
    pub verdict: Verdict,
    pub comment: Option<String>,
    pub decided_at: Timestamp,
}

/// What a decision does to the design and the program.
#[derive(Clone, Debug, PartialEq)]
pub struct DecisionResult {
    pub decision: Decision,
    /// The design's next state, if it changes (approved, or changes requested).
    pub design: Option<Design>,
}

/// Who still has to approve `design`: the leader and every *current* sponsor (a sponsor added
/// after submission must approve too).
pub fn missing_approvals(engagement: &Engagement, decisions: &[Decision]) -> (bool, usize) {
    let approved: BTreeSet<UserId> =
        decisions.iter().filter(|d| d.verdict == Verdict::Approve).map(|d| d.approver_id).collect();
    let leader_missing = !approved.contains(&engagement.leader_id);
    let sponsors_missing = engagement.sponsor_ids.iter().filter(|s| !approved.contains(s)).count();
    (leader_missing, sponsors_missing)
}

/// A decision by `approver` on `design` (its `decisions` so far).
pub fn decide(
    engagement: &Engagement,
    design: &Design,
    decisions: &[Decision],
    approver: UserId,
    verdict: Verdict,
    comment: Option<&str>,
) -> Result<DecisionResult, DomainError> {
    let role = if approver == engagement.leader_id {
        ApproverRole::Leader
    } else if engagement.is_sponsor(approver) {
        ApproverRole::Sponsor
    } else {
        return Err(DomainError::Forbidden {
            message: "only the leader and the sponsors decide on the design".to_owned(),
        });
    };
    if design.status != DesignStatus::Submitted {
        return Err(DomainError::conflict(
            "design_not_submitted",
            format!(
                "version {} is {}; decisions are made on the submitted version",
                design.version,
                design.status.as_str()
            ),
        ));
    }
    if decisions.iter().any(|d| d.approver_id == approver) {
        return Err(DomainError::conflict("decision_already_made", "you have already decided on this version"));
    }
    let mut errors = ValidationErrors::new();
    let comment =
        comment.and_then(|c| validate::text_multiline(&mut errors, "comment", c, 5000)).filter(|c| !c.is_empty());
    if verdict == Verdict::RequestChanges && comment.is_none() && errors.is_empty() {
        errors.add("comment", "required", "say what should change");
    }
    errors.finish(())?;
    let decision = Decision {
        id: DecisionId::generate(),
        design_version: design.version,
        approver_id: approver,
        role,
        verdict,
        comment,
        decided_at: time::now(),
    };
    let now = time::now();
    let next = match verdict {
        Verdict::RequestChanges => Some(DesignStatus::ChangesRequested),
        Verdict::Approve => {
            let mut all = decisions.to_vec();
            all.push(decision.clone());
            (missing_approvals(engagement, &all) == (false, 0)).then_some(DesignStatus::Approved)
        }
    };
    let design = next.map(|status| Design { status, updated_at: now, revision: design.revision + 1, ..design.clone() });
    Ok(DecisionResult { decision, design })
}

/// Whether `person` is asked to decide on `design` now: the engagement's leader or one of its
/// sponsors, the version submitted, and no decision of theirs on it yet (`decisions` are the
/// version's). The pages and the "waiting for you" lists ask this; [`decide`] enforces it.
pub fn awaits_decision(engagement: &Engagement, design: &Design, decisions: &[Decision], person: UserId) -> bool {
    (person == engagement.leader_id || engagement.is_sponsor(person))
        && design.status == DesignStatus::Submitted
        && !decisions.iter().any(|d| d.design_version == design.version && d.approver_id == person)
}

/// The coach's next thing while a version awaits decisions: who it waits for, and for how long
/// (`approvers`: the leader and the sponsors, with their names).
pub fn waiting_line(
    engagement: &Engagement,
    design: &Design,
    decisions: &[Decision],
    approvers: &[(UserId, String)],
    now: Timestamp,
) -> Option<String> {
    let waiting: Vec<&str> = approvers
        .iter()
        .filter(|(id, _)| awaits_decision(engagement, design, decisions, *id))
        .map(|(_, name)| name.as_str())
        .collect();
    if waiting.is_empty() {
        return None;
    }
    let days = design.submitted_at.map_or(0, |at| (now - at).num_days());
    let since = match days {
        0 => "since today".to_owned(),
        1 => "since yesterday".to_owned(),
        n => format!("since {n} days"),
    };
    Some(format!("Design v{} is waiting for {} {since}", design.version, waiting.join(" and ")))
}

/// What changed from one version of a design to the next, as the review page lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DesignChange {
    Summary,
    /// An item (by title) only the newer version has.
    ItemAdded(String),
    /// An item (by title) only the older version has.
    ItemRemoved(String),
    /// An item (by title) in both, with another kind, description or cadence.
    ItemChanged(String),
    Themes,
    Outcomes,
}

impl Design {
    /// What this version changes from `previous`; items are matched by title.
    pub fn changes_since(&self, previous: &Design) -> Vec<DesignChange> {
        let mut changes = Vec::new();
        if self.summary != previous.summary {
            changes.push(DesignChange::Summary);
        }
        for item in &self.items {
            match previous.items.iter().find(|p| p.title == item.title) {
                None => changes.push(DesignChange::ItemAdded(item.title.clone())),
                Some(before) if before != item => changes.push(DesignChange::ItemChanged(item.title.clone())),
                Some(_) => {}
            }
        }
        for item in &previous.items {
            if !self.items.iter().any(|i| i.title == item.title) {
                changes.push(DesignChange::ItemRemoved(item.title.clone()));
            }
        }
        let set = |ids: &[ThemeId]| ids.iter().copied().collect::<BTreeSet<_>>();
        if set(&self.theme_ids) != set(&previous.theme_ids) {
            changes.push(DesignChange::Themes);
        }
        let set = |ids: &[OutcomeId]| ids.iter().copied().collect::<BTreeSet<_>>();
        if set(&self.outcome_ids) != set(&previous.outcome_ids) {
            changes.push(DesignChange::Outcomes);
        }
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engagement::Phase;

    fn engagement(sponsors: &[UserId]) -> Engagement {
        Engagement {
            sponsor_ids: sponsors.iter().copied().collect(),
            phase: Phase::SponsorReview,
            ..crate::coaching::tests_support::engagement()
        }
    }

    fn submitted(e: &Engagement) -> Design {
        let input = DesignInput {
            summary: Some("Focus on delegation".into()),
            items: Some(vec![DesignItem {
                kind: ItemKind::Practice,
                title: "Delegate one decision a day".into(),
                description: None,
                cadence: Some("daily".into()),
            }]),
            ..Default::default()
        };
        Design::draft(e, 1, None, &input, &Known::default()).unwrap().submit().unwrap()
    }

    #[test]
    fn approval_needs_the_leader_and_every_sponsor() {
        let (s1, s2) = (UserId::generate(), UserId::generate());
        let e = engagement(&[s1, s2]);
        let design = submitted(&e);
        let mut decisions = Vec::new();
        for approver in [e.leader_id, s1] {
            let result = decide(&e, &design, &decisions, approver, Verdict::Approve, None).unwrap();
            assert!(result.design.is_none(), "not all have approved yet");
            decisions.push(result.decision);
        }
        let last = decide(&e, &design, &decisions, s2, Verdict::Approve, Some("go")).unwrap();
        assert_eq!(last.design.unwrap().status, DesignStatus::Approved);
    }

    #[test]
    fn decisions_are_once_per_approver_on_the_submitted_version_only() {
        let s1 = UserId::generate();
        let e = engagement(&[s1]);
        let design = submitted(&e);
        assert!(awaits_decision(&e, &design, &[], s1) && awaits_decision(&e, &design, &[], e.leader_id));
        let first = decide(&e, &design, &[], s1, Verdict::Approve, None).unwrap().decision;
        assert!(!awaits_decision(&e, &design, std::slice::from_ref(&first), s1));
        assert!(matches!(
            decide(&e, &design, &[first], s1, Verdict::Approve, None),
            Err(DomainError::Conflict { code: "decision_already_made", .. })
        ));
        let draft = Design { status: DesignStatus::Draft, ..design.clone() };
        assert!(!awaits_decision(&e, &draft, &[], s1));
        assert!(!awaits_decision(&e, &design, &[], e.coach_id));
        assert!(matches!(
            decide(&e, &draft, &[], s1, Verdict::Approve, None),
            Err(DomainError::Conflict { code: "design_not_submitted", .. })
        ));
        assert!(matches!(
            decide(&e, &design, &[], e.coach_id, Verdict::Approve, None),
            Err(DomainError::Forbidden { .. })
        ));
    }

    #[test]
    fn a_sponsor_added_after_submission_must_approve_too() {
        let s1 = UserId::generate();
        let mut e = engagement(&[s1]);
        let design = submitted(&e);
        let leader = decide(&e, &design, &[], e.leader_id, Verdict::Approve, None).unwrap().decision;
        let late = UserId::generate();
        e.sponsor_ids.insert(late);
        let result = decide(&e, &design, std::slice::from_ref(&leader), s1, Verdict::Approve, None).unwrap();
        assert!(result.design.is_none(), "the late sponsor has not approved");
        assert_eq!(missing_approvals(&e, &[leader, result.decision]), (false, 1));
    }

    #[test]
    fn a_request_for_changes_needs_a_comment_and_ends_the_version() {
        let s1 = UserId::generate();
        let e = engagement(&[s1]);
        let design = submitted(&e);
        assert!(decide(&e, &design, &[], s1, Verdict::RequestChanges, None).is_err());
        let result = decide(&e, &design, &[], s1, Verdict::RequestChanges, Some("more reading")).unwrap();
        assert_eq!(result.design.unwrap().status, DesignStatus::ChangesRequested);
    }

    #[test]
    fn submitted_versions_are_immutable_and_drafting_rules() {
        let e = engagement(&[UserId::generate()]);
        let design = submitted(&e);
        assert!(matches!(
            design.edit(&DesignInput::default(), &Known::default()),
            Err(DomainError::Conflict { code: "design_not_draft", .. })
        ));
        assert!(matches!(may_draft(Some(&design)), Err(DomainError::Conflict { code: "design_under_review", .. })));
        let empty = Design::draft(&e, 2, None, &DesignInput::default(), &Known::default()).unwrap();
        assert!(matches!(may_draft(Some(&empty)), Err(DomainError::Conflict { code: "design_draft_exists", .. })));
        let DomainError::Validation(errors) = empty.submit().unwrap_err() else { panic!() };
        assert_eq!(errors.0.len(), 2);
        let copied = Design::draft(&e, 2, Some(&design), &DesignInput::default(), &Known::default()).unwrap();
        assert_eq!(
            (copied.items.len(), copied.status, copied.summary.as_str()),
            (1, DesignStatus::Draft, "Focus on delegation")
        );
        let bad_ref = DesignInput { theme_ids: Some(vec![ThemeId::generate()]), ..Default::default() };
        assert!(Design::draft(&e, 3, None, &bad_ref, &Known::default()).is_err());
    }
    #[test]
    fn the_changes_between_versions_are_listed_by_item_title() {
        let item = |title: &str, cadence: &str| DesignItem {
            kind: ItemKind::Practice,
            title: title.to_owned(),
            description: None,
            cadence: Some(cadence.to_owned()),
        };
        let e = engagement(&[UserId::generate()]);
        let mut v1 = Design::draft(&e, 1, None, &DesignInput::default(), &Known::default()).unwrap();
        v1.items = vec![item("Pause before replying", "daily"), item("Weekly review", "weekly")];
        let mut v2 = v1.clone();
        v2.version = 2;
        v2.summary = "A sharper focus".to_owned();
        v2.items = vec![item("Pause before replying", "twice a day"), item("Listening walk", "weekly")];
        assert_eq!(
            v2.changes_since(&v1),
            vec![
                DesignChange::Summary,
                DesignChange::ItemChanged("Pause before replying".to_owned()),
                DesignChange::ItemAdded("Listening walk".to_owned()),
                DesignChange::ItemRemoved("Weekly review".to_owned()),
            ]
        );
        assert!(v1.changes_since(&v1).is_empty());
    }
}
