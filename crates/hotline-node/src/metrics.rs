//! Prometheus metrics, served at `/metrics` in the OpenMetrics text format.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The node's metrics.
pub struct Metrics {
    registry: Registry,
    /// Entries appended to the own log since start.
    pub appended: Counter,
    /// Size of the own log.
    pub log_size: Gauge,
    /// Entries per group commit.
    pub batch_size: Histogram,
    /// Time to build, sign and commit one batch.
    pub commit_seconds: Histogram,
    /// Requests refused as bad input.
    pub rejected: Counter,
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("hotline");
        let appended = Counter::default();
        let log_size = Gauge::default();
        let batch_size = Histogram::new(exponential_buckets(1.0, 2.0, 11));
        let commit_seconds = Histogram::new(exponential_buckets(0.0001, 2.0, 16));
        let rejected = Counter::default();
        registry.register(
            "entries_appended",
            "Entries appended to this party's log since start",
            appended.clone(),
        );
        registry.register(
            "log_size",
            "Number of entries in this party's log",
            log_size.clone(),
        );
        registry.register(
            "append_batch_entries",
            "Entries per group commit",
            batch_size.clone(),
        );
        registry.register(
            "append_commit_seconds",
            "Time to sign, hash and durably commit one batch",
            commit_seconds.clone(),
        );
        registry.register(
            "requests_rejected",
            "API requests answered with a 4xx status (bad input, unknown, unauthorised)",
            rejected.clone(),
        );
        Self {
            registry,
            appended,
            log_size,
            batch_size,
            commit_seconds,
            rejected,
        }
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
