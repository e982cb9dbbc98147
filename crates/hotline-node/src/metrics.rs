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
    /// Per C2SP witness: cosignatures taken.
    pub witness_cosignatures: Family<WitnessLabel, Counter>,
    /// Per C2SP witness: rounds that failed.
    pub witness_failures: Family<WitnessLabel, Counter>,
    /// Per C2SP witness: rounds failed in a row (0 while it cosigns).
    pub witness_failing: Family<WitnessLabel, Gauge>,
    /// Per C2SP witness: the tree size it last cosigned.
    pub witness_cosigned_size: Family<WitnessLabel, Gauge>,
    /// Per C2SP witness: its time on that cosignature (POSIX seconds).
    pub witness_cosigned_time: Family<WitnessLabel, Gauge>,
}

/// The `witness` label: a C2SP witness's key name.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WitnessLabel {
    /// The witness's key name.
    pub witness: String,
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
        let witness_cosignatures = Family::<WitnessLabel, Counter>::default();
        let witness_failures = Family::<WitnessLabel, Counter>::default();
        let witness_failing = Family::<WitnessLabel, Gauge>::default();
        let witness_cosigned_size = Family::<WitnessLabel, Gauge>::default();
        let witness_cosigned_time = Family::<WitnessLabel, Gauge>::default();
        registry.register(
            "witness_cosignatures",
            "Cosignatures of this party's log taken from the C2SP witness",
            witness_cosignatures.clone(),
        );
        registry.register(
            "witness_failures",
            "Rounds of add-checkpoint with the C2SP witness that failed",
            witness_failures.clone(),
        );
        registry.register(
            "witness_failing_rounds",
            "Rounds with the C2SP witness failed in a row (0 while it cosigns)",
            witness_failing.clone(),
        );
        registry.register(
            "witness_cosigned_size",
            "The tree size of this party's log the C2SP witness last cosigned",
            witness_cosigned_size.clone(),
        );
        registry.register(
            "witness_cosigned_timestamp_seconds",
            "The C2SP witness's time on its last cosignature of this party's log",
            witness_cosigned_time.clone(),
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
            witness_cosignatures,
            witness_failures,
            witness_failing,
            witness_cosigned_size,
            witness_cosigned_time,
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
