//! What the pages' forms share: reading typed fields (dates, times, minutes, optional text),
//! the version a form was opened at, and a command's refusal as the form shows it — its reason,
//! each field's message, and whether the record changed since the form was opened. One place,
//! for every page whose forms keep what was typed.

use actix_web::http::StatusCode;
use actix_web::web;
use chrono::{NaiveDate, NaiveDateTime};
use keel_domain::Precondition;
use keel_domain::time::Timestamp;

use super::PageError;
use crate::problem::ApiError;

/// A form sent as its fields, in order (for checkboxes, which repeat, and numbered rows).
pub type Fields = web::Form<Vec<(String, String)>>;

/// The first value of `name` in `fields`, or "".
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
}

/// Typed text, trimmed; empty is none.
pub fn optional(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// The version a form was opened at: the record must still be at it (0: none was recorded yet).
pub fn opened_at(version: &str) -> Option<Precondition> {
    version.trim().parse::<i64>().ok().map(|v| Precondition::OneOf(vec![v]))
}

/// A form the command refused (or that could not be read), shown on the form it came from.
#[derive(Clone)]
pub struct Refused {
    /// The form's name (its section's anchor): `context`, `outcome`, `rater-<id>`, ….
    pub form: String,
    pub text: String,
    /// Field name (as the command names it) and what is wrong with it.
    pub fields: Vec<(String, String)>,
    /// The record changed since the form was opened: nothing was saved.
    pub stale: bool,
    /// The refusal's code, when a command refused it (`over_budget`, …).
    pub code: Option<String>,
}

impl Refused {
    /// A field of `form` that could not be read: nothing was saved.
    pub fn unreadable(form: &str, what: &str, field: &str, message: &str) -> Refused {
        Refused {
            form: form.to_owned(),
            text: format!("Nothing was saved: {what} could not be read."),
            fields: vec![(field.to_owned(), message.to_owned())],
            stale: false,
            code: None,
        }
    }

    /// What is wrong with `field` (or a part of it: `items[0].title` for `items[0]`), or "".
    pub fn error_for(&self, field: &str) -> &str {
        let within = |f: &str| f.strip_prefix(field).is_some_and(|rest| rest.starts_with(['[', '.']));
        self.fields.iter().find(|(f, _)| f == field || within(f)).map_or("", |(_, message)| message.as_str())
    }
}

/// What a command's answer to `form` comes to: done, refused in a way the form shows (409, 412,
/// 422, with the status to answer), or an error page.
pub fn refused_by<T>(result: Result<T, ApiError>, form: &str) -> Result<Result<T, (StatusCode, Refused)>, PageError> {
    match result {
        Ok(done) => Ok(Ok(done)),
        Err(ApiError::Problem(problem)) if matches!(problem.status, 409 | 412 | 422) => {
            let stale = problem.status == 412;
            let text = if stale {
                "Nothing was saved: someone changed this since you opened the page (another tab, or the API). \
                 Your text is still in the form: compare it with what is recorded now, then send it again."
                    .to_owned()
            } else {
                super::refusal(&problem).1
            };
            let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::CONFLICT);
            let fields = problem.errors.iter().map(|e| (e.field.clone(), e.message.clone())).collect();
            let code = problem.code.clone();
            Ok(Err((status, Refused { form: form.to_owned(), text, fields, stale, code })))
        }
        Err(other) => Err(other.into()),
    }
}

/// A date typed in `field` of `form` (`2026-12-07`, as a date field sends it); empty is none.
pub fn date_field(form: &str, field: &str, text: &str) -> Result<Option<NaiveDate>, Refused> {
    match text.trim() {
        "" => Ok(None),
        text => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| Refused::unreadable(form, "a date", field, "a date such as 2026-12-07")),
    }
}

/// The form of a `datetime-local` field, read as UTC (the pages show and take times in UTC).
pub const FIELD_TIME: &str = "%Y-%m-%dT%H:%M";

/// A time typed in a `datetime-local` field, as UTC; empty is none.
pub fn time_field(form: &str, field: &str, text: &str) -> Result<Option<Timestamp>, Refused> {
    match text.trim() {
        "" => Ok(None),
        text => NaiveDateTime::parse_from_str(text, FIELD_TIME)
            .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
            .map(|t| Some(t.and_utc()))
            .map_err(|_| Refused::unreadable(form, "a time", field, "a date and time such as 2026-12-08 09:00 (UTC)")),
    }
}

/// Minutes typed in a form; empty is none.
pub fn minutes_field(form: &str, field: &str, text: &str) -> Result<Option<u32>, Refused> {
    match text.trim() {
        "" => Ok(None),
        text => text.parse::<u32>().map(Some).map_err(|_| {
            Refused::unreadable(form, "a number of minutes", field, "a whole number of minutes, such as 60")
        }),
    }
}

/// Hours typed in a form (a comma or a point before the fraction); empty is none.
pub fn hours_field(form: &str, field: &str, text: &str) -> Result<Option<f64>, Refused> {
    match text.trim() {
        "" => Ok(None),
        text => text
            .replace(',', ".")
            .parse::<f64>()
            .map(Some)
            .map_err(|_| Refused::unreadable(form, "the hours", field, "a number of hours such as 3 or 2.5")),
    }
}

/// A count typed in a form (people, say); empty is none.
pub fn count_field(form: &str, field: &str, text: &str) -> Result<Option<u32>, Refused> {
    match text.trim() {
        "" => Ok(None),
        text => text
            .parse::<u32>()
            .map(Some)
            .map_err(|_| Refused::unreadable(form, "a number", field, "a whole number, such as 12")),
    }
}

/// A choice from a form's list that is not one of its options: the form was not Keel's.
pub fn unreadable() -> PageError {
    PageError::new(
        StatusCode::BAD_REQUEST,
        "The form could not be read",
        "Nothing was saved. Go back and send the form again.",
    )
}

/// The command's refusal shown on the form: those `refused_by` shows, and a change the caller
/// may not make (the hr_partner moving the program forward, say), 403 in words rather than an
/// error page.
pub fn refused_on_form<T>(
    result: Result<T, ApiError>,
    form: &str,
) -> Result<Result<T, (StatusCode, Refused)>, PageError> {
    match result {
        Err(ApiError::Problem(problem)) if problem.status == 403 => {
            let (status, text) = super::refusal(&problem);
            let refused = Refused { form: form.to_owned(), text, fields: Vec::new(), stale: false, code: problem.code };
            Ok(Err((status, refused)))
        }
        other => refused_by(other, form),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fields_error_is_found_by_its_name_or_a_part_of_it() {
        let refused = Refused {
            form: "design".into(),
            text: String::new(),
            fields: vec![("items[1].title".into(), "is required".into()), ("summary".into(), "too long".into())],
            stale: false,
            code: None,
        };
        assert_eq!(refused.error_for("items[1]"), "is required");
        assert_eq!(refused.error_for("summary"), "too long");
        assert_eq!(refused.error_for("items[10]"), "");
        assert_eq!(refused.error_for("sum"), "");
    }
}
