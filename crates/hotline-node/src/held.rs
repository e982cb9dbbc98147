//! Read-only views of what the node holds, for the crates built on it (the
//! console): a log's size and leaves, the entries between two offices, the
//! entries referring to one, and the equivocation evidence. Each is one
//! store read, so a caller outside this crate needs no handle on the store.

use crate::node::Node;
use crate::store::{Evidence, LogId, Result, StoredLeaf};

impl Node {
    /// How many entries `log` holds.
    pub fn log_size(&self, log: LogId) -> Result<u64> {
        self.store().size(log)
    }

    /// Up to `limit` entries of `log` from index `start` on, in order.
    pub fn leaves(&self, log: LogId, start: u64, limit: u64) -> Result<Vec<StoredLeaf>> {
        self.store().leaves(log, start, limit)
    }

    /// The newest `limit` entries of `log` between offices `a` and `b`, in
    /// either direction, returned in log order.
    pub fn between(&self, log: LogId, a: &str, b: &str, limit: u64) -> Result<Vec<StoredLeaf>> {
        self.store().between(log, a, b, limit)
    }

    /// The entries of `log` whose first reference is `ref_log:ref_index`,
    /// in order.
    pub fn referencing(
        &self,
        log: LogId,
        ref_log: &str,
        ref_index: u64,
    ) -> Result<Vec<StoredLeaf>> {
        self.store().referencing(log, ref_log, ref_index)
    }

    /// How many entries of `log` from office `from` to office `to`
    /// (receipts aside) lie after index `after`.
    pub fn count_from_to(
        &self,
        log: LogId,
        from: &str,
        to: &str,
        after: Option<u64>,
    ) -> Result<u64> {
        self.store().count_from_to(log, from, to, after)
    }

    /// The equivocation evidence this node holds.
    pub fn equivocations(&self) -> Result<Vec<Evidence>> {
        self.store().equivocations()
    }
}
