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

/// Like [`text`] for free text: line breaks (`\n`, or `\r\n`, stored as `\n`) and tabs are
/// allowed; other control characters, a carriage return on its own among them, are not (they
/// would reach mail headers and calendar lines).
pub(crate) fn text_multiline(errors: &mut ValidationErrors, field: &str, value: &str, max: usize) -> Option<String> {
    let normalized = value.trim().replace("\r\n", "\n");
    if normalized.chars().count() > max {
        errors.add(field, "too_long", format!("must be at most {max} characters"));
        return None;
    }
    if normalized.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\t')) {
        errors.add(field, "invalid_characters", "must not contain control characters other than line breaks and tabs");
        return None;
    }
    Some(normalized)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_keeps_line_breaks_and_refuses_other_controls() {
        let mut errors = ValidationErrors::new();
        assert_eq!(
            text_multiline(&mut errors, "agenda", " Plan\r\nmore\ttabbed ", 100).as_deref(),
            Some("Plan\nmore\ttabbed")
        );
        assert!(errors.0.is_empty());
        for bad in ["Plan\rATTENDEE:mailto:x@y\rX-A:b", "a\u{0}b", "a\u{1b}[31m", "a\u{85}b"] {
            let mut errors = ValidationErrors::new();
            assert_eq!(text_multiline(&mut errors, "agenda", bad, 100), None, "{bad:?}");
            assert_eq!(errors.0[0].code, "invalid_characters");
        }
    }
}
