//! Small validation helpers shared by the entities.

use crate::error::ValidationErrors;

/// Trims `value` and checks its length in characters; records an error and returns `None` when
/// it is out of bounds.
pub(crate) fn text(errors: &mut ValidationErrors, field: &str, value: &str, min: usize, max: usize) -> Option<String> {
    let trimmed = value.trim();
    let len = trimmed.chars().count();
    if len < min {
        if len == 0 {
            errors.add(field, "required", "is required");
        } else {
            errors.add(field, "too_short", format!("must be at least {min} characters"));
        }
        return None;
    }
    if len > max {
        errors.add(field, "too_long", format!("must be at most {max} characters"));
        return None;
    }
    if trimmed.chars().any(char::is_control) {
        errors.add(field, "invalid_characters", "must not contain control characters");
        return None;
    }
    Some(trimmed.to_owned())
}

/// Like [`text`] for free text: line breaks and tabs are allowed, other control characters not.
pub(crate) fn text_multiline(errors: &mut ValidationErrors, field: &str, value: &str, max: usize) -> Option<String> {
    let trimmed = value.trim();
    if trimmed.chars().count() > max {
        errors.add(field, "too_long", format!("must be at most {max} characters"));
        return None;
    }
    if trimmed.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        errors.add(field, "invalid_characters", "must not contain control characters");
        return None;
    }
    Some(trimmed.to_owned())
}
