//! The frame every command runs in: one write transaction, its effects written with it.

use keel_domain::audit::{AuditRecord, CommandContext};
use keel_domain::event::DomainEvent;
use keel_domain::outbox::Message;
use keel_domain::policy::Principal;
use keel_domain::{DomainError, Precondition};
use keel_persistence::repo::{audit, events, outbox};
use keel_persistence::{DbConnection, StoreError, write_transaction};

/// Who is acting (as the access policy sees them), and what their changes are recorded with.
#[derive(Clone, Debug)]
pub struct Caller {
    pub principal: Principal,
    pub ctx: CommandContext,
}

/// What a command causes besides its own rows: its audit records, domain events (and through
/// them webhook deliveries) and outbox messages (mail, re-sent deliveries), written in the
/// command's transaction.
#[derive(Debug, Default)]
pub struct Effects {
    audit: Vec<AuditRecord>,
    events: Vec<DomainEvent>,
    outbox: Vec<Message>,
}

impl Effects {
    pub fn audit(&mut self, record: AuditRecord) {
        self.audit.push(record);
    }

    pub fn event(&mut self, event: DomainEvent) {
        self.events.push(event);
    }

    /// Queues a message (a mail, or a webhook delivery) for the delivery worker.
    pub fn queue(&mut self, message: Message) {
        self.outbox.push(message);
    }

    fn write(self, conn: &mut DbConnection) -> Result<(), StoreError> {
        for record in &self.audit {
            audit::append(conn, record)?;
        }
        for event in &self.events {
            events::append(conn, event)?;
        }
        for message in &self.outbox {
            outbox::enqueue(conn, message)?;
        }
        Ok(())
    }
}

/// Runs `body` as one command: in a write transaction it loads (locking what it changes), decides
/// and writes; then its effects are written and everything commits together. If anything fails,
/// nothing is written.
pub fn run<T>(
    conn: &mut DbConnection,
    body: impl FnOnce(&mut DbConnection, &mut Effects) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    write_transaction(conn, |tx| {
        let mut effects = Effects::default();
        let value = body(tx, &mut effects)?;
        effects.write(tx)?;
        Ok(value)
    })
}

/// How often a change without `If-Match` is tried when it loses a race on the row's version.
const ATTEMPTS: usize = 5;

/// Like [`run`] for a change of a versioned row: a write that finds the row at another version
/// than the one read (a lost race; loads lock, so this is a safety net) is tried again on the
/// newer version when the caller sent no `If-Match`, and refused with 412 when it did.
pub fn run_versioned<T>(
    conn: &mut DbConnection,
    precondition: Option<&Precondition>,
    body: impl Fn(&mut DbConnection, &mut Effects) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match run(conn, &body) {
            Err(StoreError::Domain(DomainError::StaleVersion { current: None }))
                if precondition.is_none() && attempt < ATTEMPTS => {}
            other => return other,
        }
    }
}
