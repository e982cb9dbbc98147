//! Entry queries: the ways callers find entries by their header (a
//! channel's last entry, key entries, receipts, references, an office's
//! inbox), answered from the columns `NewLeaf` copies out of each header.

use super::{LogId, Result, StoredLeaf};

/// Finds entries by header fields: the sequencer's `prev` chain and key
/// checks, the receipt cursor of federation, and the console's timelines.
pub trait EntryQueries: Send + Sync {
    /// The last entry of `kind` from `from` to `to`, for the `prev` chain.
    fn last_on_channel(
        &self,
        log: LogId,
        kind: &str,
        from: &str,
        to: Option<&str>,
    ) -> Result<Option<u64>>;
    /// The newest key entry about `office` before index `before`.
    fn key_entry_before(&self, log: LogId, office: &str, before: u64) -> Result<Option<u64>>;
    /// Every `key` entry of `log`, in order.
    fn key_leaves(&self, log: LogId) -> Result<Vec<StoredLeaf>> {
        self.leaves_of_kind(log, "key")
    }
    /// Every entry of `kind` in `log`, in order.
    fn leaves_of_kind(&self, log: LogId, kind: &str) -> Result<Vec<StoredLeaf>>;
    /// The index of the last entry of `kind` in `log`: since a log only
    /// grows, what was folded from [`EntryQueries::leaves_of_kind`] stands
    /// for as long as this does not move.
    fn last_of_kind(&self, log: LogId, kind: &str) -> Result<Option<u64>>;
    /// Entries of `log` whose first reference is `ref_log:ref_index`, in order.
    fn referencing(&self, log: LogId, ref_log: &str, ref_index: u64) -> Result<Vec<StoredLeaf>>;
    /// The highest index below `below` of `ref_log` that the own log holds
    /// a receipt for. (A receipt refusing a backdated entry that was never
    /// mirrored can lie beyond the mirror; bounded by the mirror's size,
    /// it does not make the entries before it look receipted.)
    fn receipt_cursor(&self, own: LogId, ref_log: &str, below: u64) -> Result<Option<u64>>;
    /// Entries of `log` after `after` addressed to offices of `party`.
    fn addressed_to(
        &self,
        log: LogId,
        party: &str,
        after: Option<u64>,
        limit: u64,
    ) -> Result<Vec<StoredLeaf>>;
    /// The newest `limit` entries of `log` between offices `a` and `b`, in
    /// either direction, returned in log order: one channel's side of a
    /// timeline.
    fn between(&self, log: LogId, a: &str, b: &str, limit: u64) -> Result<Vec<StoredLeaf>>;
    /// How many entries of `log` from `from` to `to` (receipts aside) lie
    /// after index `after`: what an operator has not yet seen.
    fn count_from_to(&self, log: LogId, from: &str, to: &str, after: Option<u64>) -> Result<u64>;
}
