//! Prometheus metrics, held per application (no global registry).

use keel_commands::ops::QueueStats;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool_connections: IntGauge,
    pool_idle: IntGauge,
    pool_max: IntGauge,
    outbox: OutboxGauges,
}

/// The delivery queue as the database holds it (so the same for every instance), by kind.
struct OutboxGauges {
    pending: IntGaugeVec,
    delivered: IntGaugeVec,
    failed: IntGaugeVec,
    attempts: IntGaugeVec,
    oldest_pending_age: IntGaugeVec,
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new_custom(Some("keel".to_owned()), None).expect("valid prefix");
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by method, route and status"),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency by method, route and status")
                .buckets(vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        let pool_connections = IntGauge::new("db_pool_connections", "Open database connections").expect("valid metric");
        let pool_idle = IntGauge::new("db_pool_idle_connections", "Idle database connections").expect("valid metric");
        let pool_max = IntGauge::new("db_pool_max_connections", "Maximum database connections").expect("valid metric");
        let gauge = |name: &str, help: &str| IntGaugeVec::new(Opts::new(name, help), &["kind"]).expect("valid metric");
        let outbox = OutboxGauges {
            pending: gauge("outbox_pending", "Outbox messages waiting for delivery (the queue depth)"),
            delivered: gauge("outbox_delivered", "Outbox messages delivered"),
            failed: gauge("outbox_failed", "Outbox messages given up after their last retry"),
            attempts: gauge("outbox_attempts", "Delivery attempts made, successful or not"),
            oldest_pending_age: gauge("outbox_oldest_pending_age_seconds", "Age of the oldest waiting message"),
        };
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(pool_connections.clone()),
            Box::new(pool_idle.clone()),
            Box::new(pool_max.clone()),
            Box::new(outbox.pending.clone()),
            Box::new(outbox.delivered.clone()),
            Box::new(outbox.failed.clone()),
            Box::new(outbox.attempts.clone()),
            Box::new(outbox.oldest_pending_age.clone()),
        ] {
            registry.register(collector).expect("metric registered once");
        }
        Metrics { registry, requests, latency, pool_connections, pool_idle, pool_max, outbox }
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let status = status.to_string();
        let labels = [method, route, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency.with_label_values(&labels).observe(seconds);
    }

    /// Sets the outbox gauges from the database's counts (left as they were when it cannot be read).
    pub fn set_outbox(&self, stats: &[QueueStats], now: keel_domain::time::Timestamp) {
        for queue in stats {
            let kind = [queue.kind.as_str()];
            self.outbox.pending.with_label_values(&kind).set(queue.pending);
            self.outbox.delivered.with_label_values(&kind).set(queue.delivered);
            self.outbox.failed.with_label_values(&kind).set(queue.failed);
            self.outbox.attempts.with_label_values(&kind).set(queue.attempts);
            let age = queue.oldest_pending.map_or(0, |oldest| (now - oldest).num_seconds().max(0));
            self.outbox.oldest_pending_age.with_label_values(&kind).set(age);
        }
    }

    /// The exposition text, with the pool gauges read now.
    pub fn render(&self, pool: (u32, u32, u32)) -> String {
        self.pool_connections.set(i64::from(pool.0));
        self.pool_idle.set(i64::from(pool.1));
        self.pool_max.set(i64::from(pool.2));
        let mut buffer = Vec::new();
        if let Err(error) = TextEncoder::new().encode(&self.registry.gather(), &mut buffer) {
            tracing::error!(%error, "metrics encoding failed");
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
