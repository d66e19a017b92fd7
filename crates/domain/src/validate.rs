//! Small validation helpers shared by the entities.

use crate::error::ValidationErrors;

/// Checks single-line text and returns it trimmed: at most `max` characters as sent, at least
/// `min` once trimmed, and no control character anywhere (a tab or line break around the text is
/// refused, not trimmed). This is what the OpenAPI document states for such fields
/// (`maxLength`, and a pattern of no control characters and one that is not a space), so a
/// request the document allows is one the server takes.
pub fn text(errors: &mut ValidationErrors, field: &str, value: &str, min: usize, max: usize) -> Option<String> {
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
    if value.chars().count() > max {
        errors.add(field, "too_long", format!("must be at most {max} characters"));
        return None;
    }
    if value.chars().any(char::is_control) {
        errors.add(field, "invalid_characters", "must not contain control characters");
        return None;
    }
    Some(trimmed.to_owned())
}

/// Like [`text`] for free text, which may be empty: line breaks (`\n`, or `\r\n`, stored as
/// `\n`) and tabs are allowed; other control characters, a carriage return on its own among them,
/// are not (they would reach mail headers and calendar lines). The length is counted as sent.
pub fn text_multiline(errors: &mut ValidationErrors, field: &str, value: &str, max: usize) -> Option<String> {
    if value.chars().count() > max {
        errors.add(field, "too_long", format!("must be at most {max} characters"));
        return None;
    }
    let normalized = value.replace("\r\n", "\n");
    if normalized.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\t')) {
        errors.add(field, "invalid_characters", "must not contain control characters other than line breaks and tabs");
        return None;
    }
    Some(normalized.trim().to_owned())
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
        for bad in ["Plan\rATTENDEE:mailto:x@y\rX-A:b", "a\u{0}b", "a\u{1b}[31m", "a\u{85}b", "trailing\r"] {
            let mut errors = ValidationErrors::new();
            assert_eq!(text_multiline(&mut errors, "agenda", bad, 100), None, "{bad:?}");
            assert_eq!(errors.0[0].code, "invalid_characters");
        }
    }

    #[test]
    fn single_line_text_counts_what_was_sent_and_refuses_controls_anywhere() {
        let mut errors = ValidationErrors::new();
        assert_eq!(text(&mut errors, "name", "  Ann  ", 1, 7).as_deref(), Some("Ann"));
        assert!(errors.0.is_empty());
        for (bad, code) in [
            ("  Ann  ", "too_long"),
            ("\tAnn", "invalid_characters"),
            ("Ann\n", "invalid_characters"),
            (" \u{a0} ", "required"),
        ] {
            let mut errors = ValidationErrors::new();
            assert_eq!(text(&mut errors, "name", bad, 1, 6), None, "{bad:?}");
            assert_eq!(errors.0[0].code, code, "{bad:?}");
        }
    }
}
