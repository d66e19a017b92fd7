//! Steps 7 and 8: the mid- and end-of-program reviews, comparing each outcome's actual state with
//! its target; renewal; and the progress a sponsor looks at.

use crate::engagement::{Engagement, Phase};
use crate::error::{DomainError, ValidationErrors};
use crate::id::OutcomeId;
use crate::program::{Measurement, Outcome, OutcomeChanges};
use crate::time::{self, Timestamp};
use crate::validate;
use crate::wire::wire_enum;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReviewKind {
    Mid,
    End,
}

impl ReviewKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewKind::Mid => "mid",
            ReviewKind::End => "end",
        }
    }

    /// The kind its wire name names.
    pub fn parse(text: &str) -> Option<ReviewKind> {
        [ReviewKind::Mid, ReviewKind::End].into_iter().find(|k| k.as_str() == text)
    }

    fn phase(self) -> Phase {
        match self {
            ReviewKind::Mid => Phase::MidReview,
            ReviewKind::End => Phase::EndReview,
        }
    }
}

wire_enum!(
    NextStep as NextStepValue {
        Completed => "completed",
        Renewed => "renewed",
    }
);

/// One outcome in a review: the actual state now (recorded as a measurement), a note, and (end
/// review) whether it was achieved.
#[derive(Clone, Debug, PartialEq)]
pub struct OutcomeReview {
    pub outcome_id: OutcomeId,
    pub actual: String,
    pub note: Option<String>,
    pub achieved: Option<bool>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Review {
    pub kind: ReviewKind,
    pub narrative: String,
    pub outcomes: Vec<OutcomeReview>,
    /// Mid review: what the coach changes in the program.
    pub program_changes: Option<String>,
    /// End review: what was achieved, to celebrate.
    pub achievements: Option<String>,
    /// End review: close, or continue with new outcomes.
    pub next_step: Option<NextStep>,
    /// End review, renewed: the new engagement's outcomes.
    pub renewal_outcomes: Vec<OutcomeChanges>,
    pub recorded_at: Timestamp,
    pub version: i64,
}

/// A review as submitted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReviewInput {
    pub narrative: Option<String>,
    pub outcomes: Vec<OutcomeReview>,
    pub program_changes: Option<String>,
    pub achievements: Option<String>,
    pub next_step: Option<NextStep>,
    pub renewal_outcomes: Vec<OutcomeChanges>,
}

impl Review {
    /// Records the review of `kind` for `engagement` (which must be in that review's phase), over
    /// its current `outcomes`: every one needs an entry.
    pub fn record(
        kind: ReviewKind,
        engagement: &Engagement,
        outcomes: &[Outcome],
        input: ReviewInput,
        previous: Option<&Review>,
    ) -> Result<Review, DomainError> {
        if engagement.phase != kind.phase() {
            return Err(DomainError::conflict(
                "review_not_in_this_phase",
                format!(
                    "the {} review is recorded in {}; the engagement is {}",
                    kind.as_str(),
                    kind.phase(),
                    engagement.phase
                ),
            ));
        }
        let mut errors = ValidationErrors::new();
        let narrative = input
            .narrative
            .as_deref()
            .and_then(|n| validate::text_multiline(&mut errors, "narrative", n, 20_000))
            .filter(|n| !n.is_empty());
        if narrative.is_none() && !errors.0.iter().any(|e| e.field == "narrative") {
            errors.add("narrative", "required", "describe how the program is going");
        }
        let mut entries = Vec::new();
        for (i, entry) in input.outcomes.iter().enumerate() {
            if !outcomes.iter().any(|o| o.id == entry.outcome_id) {
                errors.add(format!("outcomes[{i}].outcome_id"), "not_found", "not one of this engagement's outcomes");
                continue;
            }
            let actual = validate::text(&mut errors, &format!("outcomes[{i}].actual"), &entry.actual, 1, 200);
            let note = entry
                .note
                .as_deref()
                .and_then(|n| validate::text_multiline(&mut errors, &format!("outcomes[{i}].note"), n, 5000))
                .filter(|n| !n.is_empty());
            if kind == ReviewKind::End && entry.achieved.is_none() {
                errors.add(format!("outcomes[{i}].achieved"), "required", "say whether it was achieved");
            }
            if let Some(actual) = actual {
                entries.push(OutcomeReview { outcome_id: entry.outcome_id, actual, note, achieved: entry.achieved });
            }
        }
        for outcome in outcomes {
            if !input.outcomes.iter().any(|e| e.outcome_id == outcome.id) {
                errors.add("outcomes", "outcome_missing", format!("review outcome {:?} too", outcome.title));
            }
        }
        let text = |errors: &mut ValidationErrors, field: &str, value: &Option<String>| {
            value.as_deref().and_then(|v| validate::text_multiline(errors, field, v, 20_000)).filter(|v| !v.is_empty())
        };
        let program_changes = text(&mut errors, "program_changes", &input.program_changes);
        let achievements = text(&mut errors, "achievements", &input.achievements);
        if kind == ReviewKind::End {
            match input.next_step {
                None => errors.add("next_step", "required", "completed or renewed"),
                Some(NextStep::Renewed) if input.renewal_outcomes.is_empty() => {
                    errors.add("renewal.outcomes", "required", "a renewal continues with a new set of outcomes")
                }
                Some(_) => {}
            }
            for (i, outcome) in input.renewal_outcomes.iter().enumerate() {
                if outcome.title.as_deref().is_none_or(|t| t.trim().is_empty()) {
                    errors.add(format!("renewal.outcomes[{i}].title"), "required", "is required");
                }
            }
        }
        errors.finish(())?;
        Ok(Review {
            kind,
            narrative: narrative.expect("validated"),
            outcomes: entries,
            program_changes,
            achievements,
            next_step: if kind == ReviewKind::End { input.next_step } else { None },
            renewal_outcomes: if input.next_step == Some(NextStep::Renewed) {
                input.renewal_outcomes
            } else {
                Vec::new()
            },
            recorded_at: time::now(),
            version: previous.map_or(1, |p| p.version + 1),
        })
    }
}

/// The leading number of a value ("8 a week" → 8), for progress on numeric outcomes.
pub fn leading_number(value: &str) -> Option<f64> {
    let text = value.trim();
    let end = text
        .char_indices()
        .find(|(i, c)| !(c.is_ascii_digit() || *c == '.' || (*i == 0 && (*c == '-' || *c == '+'))))
        .map_or(text.len(), |(i, _)| i);
    text[..end].parse::<f64>().ok()
}

/// How far from baseline to target the latest measurement is (0 = baseline, 1 = target), when
/// baseline, target and the measurement are numbers.
pub fn share_achieved(outcome: &Outcome, measurements: &[&Measurement]) -> Option<f64> {
    let latest = measurements.iter().max_by_key(|m| (m.measured_at, m.id))?;
    progress_share(outcome.baseline.as_deref(), outcome.target.as_deref(), Some(&latest.value))
}

/// (latest − baseline) / (target − baseline), to the hundredth, where all three start with a
/// number and the target differs from the baseline.
pub fn progress_share(baseline: Option<&str>, target: Option<&str>, latest: Option<&str>) -> Option<f64> {
    let (baseline, target, latest) = (leading_number(baseline?)?, leading_number(target?)?, leading_number(latest?)?);
    if (target - baseline).abs() < f64::EPSILON {
        return None;
    }
    Some(((latest - baseline) / (target - baseline) * 100.0).round() / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::MeasurementSource;

    fn outcome(baseline: &str, target: &str) -> Outcome {
        Outcome::create(
            crate::id::EngagementId::generate(),
            &OutcomeChanges {
                title: Some("Delegates".into()),
                baseline: Some(Some(baseline.into())),
                target: Some(Some(target.into())),
                ..Default::default()
            },
        )
        .unwrap()
    }

    #[test]
    fn progress_is_the_share_from_baseline_to_target() {
        let o = outcome("2 a week", "8 a week");
        let m1 = Measurement::record(o.id, "4", None, None, MeasurementSource::Session).unwrap();
        assert_eq!(share_achieved(&o, &[&m1]), Some(0.33));
        let m2 = Measurement::record(o.id, "8 decisions", None, None, MeasurementSource::MidReview).unwrap();
        assert_eq!(share_achieved(&o, &[&m1, &m2]), Some(1.0), "the latest counts");
        let down = outcome("10", "4");
        let m3 = Measurement::record(down.id, "7", None, None, MeasurementSource::Session).unwrap();
        assert_eq!(share_achieved(&down, &[&m3]), Some(0.5), "decreasing targets work too");
        let words = outcome("rarely", "often");
        assert_eq!(share_achieved(&words, &[&m1]), None);
        assert_eq!(leading_number("-3.5 points"), Some(-3.5));
    }

    #[test]
    fn reviews_need_every_outcome_and_the_right_phase() {
        let o = outcome("2", "8");
        let mut e = crate::coaching::tests_support::engagement();
        let input = ReviewInput {
            narrative: Some("Going well".into()),
            outcomes: vec![OutcomeReview { outcome_id: o.id, actual: "5".into(), note: None, achieved: None }],
            ..Default::default()
        };
        assert!(matches!(
            Review::record(ReviewKind::Mid, &e, std::slice::from_ref(&o), input.clone(), None),
            Err(DomainError::Conflict { code: "review_not_in_this_phase", .. })
        ));
        e.phase = Phase::MidReview;
        let review = Review::record(ReviewKind::Mid, &e, std::slice::from_ref(&o), input.clone(), None).unwrap();
        assert_eq!(review.outcomes.len(), 1);
        let missing = ReviewInput { outcomes: Vec::new(), ..input.clone() };
        assert!(Review::record(ReviewKind::Mid, &e, std::slice::from_ref(&o), missing, None).is_err());
        e.phase = Phase::EndReview;
        let DomainError::Validation(errors) =
            Review::record(ReviewKind::End, &e, std::slice::from_ref(&o), input.clone(), None).unwrap_err()
        else {
            panic!()
        };
        let codes: Vec<_> = errors.0.iter().map(|x| (x.field.as_str(), x.code)).collect();
        assert_eq!(codes, [("outcomes[0].achieved", "required"), ("next_step", "required")]);
        let renewed = ReviewInput {
            outcomes: vec![OutcomeReview { outcome_id: o.id, actual: "7".into(), note: None, achieved: Some(false) }],
            next_step: Some(NextStep::Renewed),
            ..input
        };
        assert!(
            Review::record(ReviewKind::End, &e, std::slice::from_ref(&o), renewed.clone(), None).is_err(),
            "renewal needs outcomes"
        );
        let with_outcomes = ReviewInput {
            renewal_outcomes: vec![OutcomeChanges { title: Some("Builds the bench".into()), ..Default::default() }],
            ..renewed
        };
        assert_eq!(Review::record(ReviewKind::End, &e, &[o], with_outcomes, None).unwrap().renewal_outcomes.len(), 1);
    }
}
