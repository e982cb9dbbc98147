//! Prometheus metrics, served at `/metrics` in the OpenMetrics text format.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
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
    /// Per peer: size of this node's mirror of its log.
    pub mirror_size: Family<PeerLabel, Gauge>,
    /// Per peer: 1 while the link works.
    pub link_up: Family<PeerLabel, Gauge>,
    /// Per peer: own entries its mirror does not hold yet.
    pub outbox_depth: Family<PeerLabel, Gauge>,
    /// Per peer: age of the oldest own entry it has not received, seconds.
    pub outbox_oldest_seconds: Family<PeerLabel, Gauge>,
    /// Per peer: seconds since it last cosigned the own log.
    pub cosignature_age_seconds: Family<PeerLabel, Gauge>,
    /// Equivocations on record (evidence kept).
    pub equivocations: Gauge,
    /// Inquiries past a deadline without the step it asks for.
    pub inquiries_overdue: Gauge,
    /// Peer connections refused during the TLS handshake (unpinned or bad).
    pub tls_handshake_failures: Counter,
    /// Per peer: pushes refused with 429 (over the receipts budget).
    pub pushes_throttled: Family<PeerLabel, Counter>,
}

/// The `peer` label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PeerLabel {
    /// The peer party.
    pub peer: String,
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
        let mirror_size = Family::<PeerLabel, Gauge>::default();
        let link_up = Family::<PeerLabel, Gauge>::default();
        let outbox_depth = Family::<PeerLabel, Gauge>::default();
        let outbox_oldest_seconds = Family::<PeerLabel, Gauge>::default();
        let cosignature_age_seconds = Family::<PeerLabel, Gauge>::default();
        let equivocations = Gauge::default();
        let tls_handshake_failures = Counter::default();
        let inquiries_overdue = Gauge::default();
        let pushes_throttled = Family::<PeerLabel, Counter>::default();
        registry.register(
            "pushes_throttled",
            "Pushes from the peer refused with 429: they would have made this node owe more receipts than limits.max_receipts_per_window allows",
            pushes_throttled.clone(),
        );
        registry.register(
            "inquiries_overdue",
            "Inquiries past a deadline (acknowledge or answer) without that step",
            inquiries_overdue.clone(),
        );
        registry.register(
            "peer_tls_handshake_failures",
            "Peer connections refused during the TLS handshake",
            tls_handshake_failures.clone(),
        );
        registry.register(
            "mirror_size",
            "Entries of the peer's log held in this node's verified mirror",
            mirror_size.clone(),
        );
        registry.register(
            "peer_link_up",
            "1 while the link to the peer works",
            link_up.clone(),
        );
        registry.register(
            "outbox_depth",
            "Own entries the peer's mirror does not hold yet",
            outbox_depth.clone(),
        );
        registry.register(
            "outbox_oldest_seconds",
            "Age of the oldest own entry the peer has not received",
            outbox_oldest_seconds.clone(),
        );
        registry.register(
            "cosignature_age_seconds",
            "Seconds since the peer last cosigned this party's log",
            cosignature_age_seconds.clone(),
        );
        registry.register(
            "equivocations",
            "Equivocations on record: logs caught showing two histories (evidence kept)",
            equivocations.clone(),
        );
        Self {
            registry,
            appended,
            log_size,
            batch_size,
            commit_seconds,
            rejected,
            mirror_size,
            link_up,
            outbox_depth,
            outbox_oldest_seconds,
            cosignature_age_seconds,
            equivocations,
            tls_handshake_failures,
            inquiries_overdue,
            pushes_throttled,
        }
    }

    /// Records the size of a peer's mirror.
    pub fn mirrored(&self, peer: &impl std::fmt::Display, size: u64) {
        self.mirror_size
            .get_or_create(&PeerLabel {
                peer: peer.to_string(),
            })
            .set(i64::try_from(size).unwrap_or(i64::MAX));
    }

    /// Counts a push from `peer` refused over the receipts budget.
    pub fn throttled(&self, peer: &impl std::fmt::Display) {
        self.pushes_throttled
            .get_or_create(&PeerLabel {
                peer: peer.to_string(),
            })
            .inc();
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
