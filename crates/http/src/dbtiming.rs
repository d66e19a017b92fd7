//! What a request cost the database: statements sent and time spent in database work, summed over
//! every `AppState::run` of the request (authentication, idempotency, the handler). Reported in
//! the request's log line and in a `Server-Timing` header (`db;dur=<ms>;desc="<n> queries"`).

use std::cell::Cell;
use std::future::Future;
use std::time::Duration;

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DbCost {
    pub statements: u64,
    pub time: Duration,
}

tokio::task_local! {
    static COST: Cell<DbCost>;
}

/// Runs a request's future, collecting its database cost; returns the output and the cost.
pub async fn measure<F: Future>(request: F) -> (F::Output, DbCost) {
    COST.scope(Cell::new(DbCost::default()), async move {
        let output = request.await;
        (output, COST.with(Cell::get))
    })
    .await
}

/// Adds database work to the current request's cost (outside a request, it is not counted).
pub fn add(statements: u64, time: Duration) {
    let _ = COST.try_with(|cost| {
        let mut c = cost.get();
        c.statements += statements;
        c.time += time;
        cost.set(c);
    });
}

/// The `Server-Timing` value for a cost.
pub fn server_timing(cost: DbCost) -> String {
    format!("db;dur={:.1};desc=\"{} queries\"", cost.time.as_secs_f64() * 1e3, cost.statements)
}
