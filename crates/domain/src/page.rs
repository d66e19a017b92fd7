//! Keyset pagination as the domain sees it: a page size and the id to continue after.

use uuid::Uuid;

use crate::error::ValidationErrors;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    /// Continue strictly after this id (ids are time-ordered UUIDv7, the stable sort key).
    pub after: Option<Uuid>,
}

impl PageRequest {
    pub fn new(limit: Option<i64>, after: Option<Uuid>) -> Result<PageRequest, ValidationErrors> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(n) if n >= 1 && n <= i64::from(MAX_LIMIT) => n as u32,
            Some(_) => {
                return Err(ValidationErrors::single(
                    "limit",
                    "out_of_range",
                    format!("must be between 1 and {MAX_LIMIT}"),
                ));
            }
        };
        Ok(PageRequest { limit, after })
    }
}

/// One page of results; `has_more` says whether a next page exists.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_more: bool,
}

impl<T> Page<T> {
    /// A page with nothing on it (a caller who may see none of the rows).
    pub fn empty() -> Page<T> {
        Page { items: Vec::new(), has_more: false }
    }

    /// Builds a page from `limit + 1` fetched rows: the extra row only proves there is more.
    pub fn from_overfetch(mut rows: Vec<T>, limit: u32) -> Page<T> {
        let has_more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        Page { items: rows, has_more }
    }

    /// The same page with each item transformed.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), has_more: self.has_more }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_bounded() {
        assert_eq!(PageRequest::new(None, None).unwrap().limit, 50);
        assert_eq!(PageRequest::new(Some(200), None).unwrap().limit, 200);
        assert!(PageRequest::new(Some(0), None).is_err());
        assert!(PageRequest::new(Some(201), None).is_err());
    }

    #[test]
    fn overfetch_detects_more() {
        let page = Page::from_overfetch(vec![1, 2, 3], 2);
        assert_eq!(page.items, vec![1, 2]);
        assert!(page.has_more);
        assert!(!Page::from_overfetch(vec![1, 2], 2).has_more);
    }
}
