//! The one way a versioned row is changed: read it (locked, so concurrent changes of the row
//! queue), check the caller's `If-Match`, let the domain derive the next state, write it only if
//! the stored version is still the one read, and append the audit record, all in one write
//! transaction. The version check is a safety net for a `load` that does not lock: a caller that
//! sent no `If-Match` asked for no concurrency check, so a lost race is retried on the newer
//! version instead of being refused.

use diesel::QueryResult;
use keel_domain::audit::AuditRecord;
use keel_domain::event::DomainEvent;
use keel_domain::{DomainError, Precondition};

use crate::connection::{DbConnection, write_transaction};
use crate::error::StoreError;
use crate::repo::{audit, events};

/// An entity with a version that every change increments.
pub trait Versioned {
    fn version(&self) -> i64;
}

impl Versioned for keel_domain::engagement::Engagement {
    fn version(&self) -> i64 {
        self.version
    }
}

/// Further writes that belong to the same change (e.g. a timeline entry).
pub type Also = Box<dyn FnOnce(&mut DbConnection) -> Result<(), StoreError>>;

/// A change: the next state, its audit record, the domain events it emits, and any further
/// writes, all committed together.
pub struct Change<E> {
    pub next: E,
    pub audit: AuditRecord,
    pub events: Vec<DomainEvent>,
    pub also: Option<Also>,
}

impl<E> Change<E> {
    pub fn new(next: E, audit: AuditRecord) -> Change<E> {
        Change { next, audit, events: Vec::new(), also: None }
    }

    pub fn event(mut self, event: DomainEvent) -> Change<E> {
        self.events.push(event);
        self
    }

    pub fn also(mut self, write: impl FnOnce(&mut DbConnection) -> Result<(), StoreError> + 'static) -> Change<E> {
        self.also = Some(Box::new(write));
        self
    }
}

const ATTEMPTS: usize = 5;

pub fn modify<E: Versioned>(
    conn: &mut DbConnection,
    precondition: Option<&Precondition>,
    load: impl Fn(&mut DbConnection) -> Result<E, StoreError>,
    change: impl Fn(&mut DbConnection, &E) -> Result<Option<Change<E>>, StoreError>,
    write: impl Fn(&mut DbConnection, &E, i64) -> QueryResult<usize>,
) -> Result<E, StoreError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = write_transaction(conn, |conn| {
            let current = load(conn)?;
            Precondition::check(precondition, current.version())?;
            let Some(change) = change(conn, &current)? else { return Ok(current) };
            if write(conn, &change.next, current.version())? != 1 {
                // A concurrent writer changed the row after we read it.
                return Err(DomainError::StaleVersion { current: None }.into());
            }
            audit::append(conn, &change.audit)?;
            for event in &change.events {
                events::append(conn, event)?;
            }
            if let Some(also) = change.also {
                also(conn)?;
            }
            Ok(change.next)
        });
        match result {
            Err(StoreError::Domain(DomainError::StaleVersion { current: None }))
                if precondition.is_none() && attempt < ATTEMPTS => {}
            other => return other,
        }
    }
}
