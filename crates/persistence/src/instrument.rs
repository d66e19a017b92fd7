//! Counting the statements each thread sends to the database, so that a request can report how
//! many round trips it cost (and a test can prove a list page costs the same whatever its length),
//! and noticing when a connection has been lost, so that the pool drops it instead of handing it
//! out again (connections are not pinged on checkout: that would double a read's round trips).

use std::cell::Cell;

use diesel::connection::{Instrumentation, InstrumentationEvent};

thread_local! {
    static STATEMENTS: Cell<u64> = const { Cell::new(0) };
    static CONNECTION_LOST: Cell<bool> = const { Cell::new(false) };
}

/// Counts every statement started on a connection, on the thread that runs it.
#[derive(Debug, Default)]
pub struct StatementCounter;

impl Instrumentation for StatementCounter {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { .. } => STATEMENTS.with(|n| n.set(n.get() + 1)),
            InstrumentationEvent::FinishQuery { error: Some(error), .. } if is_connection_lost(error) => {
                CONNECTION_LOST.with(|lost| lost.set(true));
            }
            _ => {}
        }
    }
}

/// Errors after which the connection is of no further use.
pub fn is_connection_lost(error: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    matches!(
        error,
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand, _)
    )
}

/// Whether a connection used on this thread since the last call lost its server (and clears it).
/// The pool asks when a connection comes back, on the thread that used it.
pub(crate) fn take_connection_lost() -> bool {
    CONNECTION_LOST.with(|lost| lost.replace(false))
}

/// Statements started on this thread so far (compare two readings around a piece of work).
pub fn statements_on_this_thread() -> u64 {
    STATEMENTS.with(Cell::get)
}
