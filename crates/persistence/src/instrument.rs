//! Counting the statements each thread sends to the database, so that a request can report how
//! many round trips it cost (and a test can prove a list page costs the same whatever its length).

use std::cell::Cell;

use diesel::connection::{Instrumentation, InstrumentationEvent};

thread_local! {
    static STATEMENTS: Cell<u64> = const { Cell::new(0) };
}

/// Counts every statement started on a connection, on the thread that runs it.
#[derive(Debug, Default)]
pub struct StatementCounter;

impl Instrumentation for StatementCounter {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { .. } = event {
            STATEMENTS.with(|n| n.set(n.get() + 1));
        }
    }
}

/// Statements started on this thread so far (compare two readings around a piece of work).
pub fn statements_on_this_thread() -> u64 {
    STATEMENTS.with(Cell::get)
}
