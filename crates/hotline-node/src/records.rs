//! What a reader of the node's records may ask of it: entries, opened for
//! an operator's offices, channels between two offices, receipts, unseen
//! counts, alarms, the links to peers, proof bundles and one stream of
//! arrivals.
//!
//! The console reads the node only through this façade, so that it never
//! holds the store, its log ids or the proof machinery, and a page cannot
//! take a path to the data that the node does not offer everyone else.
//! Everything here is read-only and blocking (store reads): call it from a
//! blocking thread, except [`Events::changed`], which only waits.

use hotline_proto::entry::{EntryError, Header, Kind, SignedEntry};
use hotline_proto::party::{Office, Party};
use jiff::Timestamp;

use crate::content::Shown;
use crate::error::{Corrupt, NodeError, Result};
use crate::node::Node;
use crate::store::StoredLeaf;

mod alarms;
mod channel;
mod events;
mod links;
mod proofs;

pub use alarms::{Alarm, AlarmKind};
pub use events::{Change, Events, Progress};
pub use proofs::Proofs;

/// The node's records, as readers see them: a cheap clone.
#[derive(Clone)]
pub struct Records {
    node: Node,
}

/// One entry held here, in the own log or a mirror, with where it stands.
#[derive(Clone, Debug)]
pub struct Entry {
    party: Party,
    index: u64,
    signed: SignedEntry,
    leaf_hash: [u8; 32],
}

impl Entry {
    fn from_stored(party: &Party, l: &StoredLeaf) -> std::result::Result<Self, EntryError> {
        let signed = SignedEntry::from_leaf(&l.leaf)?;
        Ok(Self {
            party: party.clone(),
            index: l.index,
            signed,
            leaf_hash: l.leaf_hash.0,
        })
    }

    /// The party whose log holds it.
    pub fn party(&self) -> &Party {
        &self.party
    }
    /// Its index in that log.
    pub fn index(&self) -> u64 {
        self.index
    }
    /// `party:index`, as every page and bundle names it.
    pub fn id(&self) -> String {
        format!("{}:{}", self.party, self.index)
    }
    /// The signed entry.
    pub fn signed(&self) -> &SignedEntry {
        &self.signed
    }
    /// Its header.
    pub fn header(&self) -> &Header {
        self.signed.header()
    }
    /// The leaf hash the log's tree holds for it.
    pub fn leaf_hash(&self) -> [u8; 32] {
        self.leaf_hash
    }
}

/// The receipt the other side wrote for an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// `delivered`, or `refused: …`.
    pub status: String,
    /// When it was written.
    pub time: Timestamp,
}

impl Records {
    /// The records of `node`.
    pub fn new(node: Node) -> Self {
        Self { node }
    }

    /// Entry `index` of `party`'s log (own or mirrored).
    pub fn entry(&self, party: &Party, index: u64) -> Result<Entry> {
        let log = self.node.log_of(party)?;
        let leaf = self
            .node
            .store()
            .leaves(log, index, 1)?
            .into_iter()
            .next()
            .ok_or_else(|| NodeError::NotFound(format!("no entry {party}:{index} is held here")))?;
        Entry::from_stored(party, &leaf).map_err(|e| NodeError::Corrupt(Corrupt::Entry(e)))
    }

    /// The content of `e` as a reader acting for the offices `acts_for`
    /// allows may see it: the node's one opening path, which checks the
    /// body against its commitment and refuses one that does not match.
    pub fn open_for(&self, e: &Entry, acts_for: &dyn Fn(&Office) -> bool) -> Shown {
        self.node
            .open_checked(&e.party, e.index, &e.signed, acts_for)
    }

    /// The newest `limit` entries of `party`'s log between offices `a` and
    /// `b` (either way), in log order.
    pub fn between(&self, party: &Party, a: &Office, b: &Office, limit: u64) -> Result<Vec<Entry>> {
        let log = self.node.log_of(party)?;
        self.node
            .store()
            .between(log, a.as_str(), b.as_str(), limit)?
            .iter()
            .map(|l| {
                Entry::from_stored(party, l).map_err(|source| {
                    NodeError::Corrupt(Corrupt::EntryOf {
                        party: party.clone(),
                        index: l.index,
                        source,
                    })
                })
            })
            .collect()
    }

    /// The receipt for entry `index` of `party`'s log, found in the log of
    /// the side that received it (the mirrors, for an own entry; the own
    /// log, for a mirrored one). `None` if there is none yet, or if reading
    /// failed: a missing receipt only shows as "not yet delivered".
    pub fn receipt(&self, party: &Party, index: u64) -> Option<Receipt> {
        let other = if party == self.node.party() {
            self.node
                .federation()
                .all()
                .into_iter()
                .map(|p| p.mirror)
                .collect::<Vec<_>>()
        } else {
            vec![self.node.log_id()]
        };
        for log in other {
            for l in self
                .node
                .store()
                .referencing(log, party.as_str(), index)
                .ok()?
            {
                if let Ok(e) = SignedEntry::from_leaf(&l.leaf)
                    && e.header().kind == Kind::Receipt
                {
                    let h = e.header();
                    return Some(Receipt {
                        status: h.status.clone().unwrap_or_default(),
                        time: h.time,
                    });
                }
            }
        }
        None
    }

    /// How many entries from `theirs` to `ours` (receipts aside) lie after
    /// index `seen` of `theirs`'s log: what a reader who has seen up to
    /// `seen` has not. The mark is the reader's own (the console keeps it).
    pub fn unseen(&self, ours: &Office, theirs: &Office, seen: Option<u64>) -> Result<u64> {
        let log = self.node.log_of(&theirs.party())?;
        Ok(self
            .node
            .store()
            .count_from_to(log, theirs.as_str(), ours.as_str(), seen)?)
    }

    /// The own log's size.
    pub fn log_size(&self) -> Result<u64> {
        self.node.reader().size()
    }
}

#[cfg(test)]
mod tests {
    use hotline_proto::party::{Office, Party};

    use super::*;
    use crate::node::fresh_us as node;

    fn office(name: &str) -> Office {
        Office::new(name).unwrap()
    }

    #[tokio::test]
    async fn an_entry_is_read_by_party_and_index_and_one_not_held_is_not_found() {
        let (_tmp, node) = node();
        let a = node.add_office(office("us/fbi")).await.unwrap();
        let records = Records::new(node.clone());
        let us = Party::new("us").unwrap();
        let e = records.entry(&us, a.index).unwrap();
        assert_eq!(e.id(), format!("us:{}", a.index));
        assert_eq!(e.header(), &a.header);
        assert_eq!(e.leaf_hash(), a.leaf_hash.0);
        let missing = records.entry(&us, a.index + 1).unwrap_err();
        assert_eq!(
            missing.to_string(),
            NodeError::NotFound(format!("no entry us:{} is held here", a.index + 1)).to_string()
        );
        let ru = records.entry(&Party::new("ru").unwrap(), 0).unwrap_err();
        assert!(matches!(ru, NodeError::NotFound(_)), "{ru}");
    }

    #[tokio::test]
    async fn events_report_each_entry_written_after_subscribing_once() {
        let (_tmp, node) = node();
        node.add_office(office("us/fbi")).await.unwrap();
        let records = Records::new(node.clone());
        let before = records.progress();
        let mut events = records.events();
        assert!(events.arrived().is_empty(), "held before subscribing");
        let a = node.add_office(office("us/cia")).await.unwrap();
        assert!(matches!(events.changed().await, Some(Change::Logs)));
        assert_ne!(records.progress(), before);
        let arrived: Vec<String> = events.arrived().iter().map(Entry::id).collect();
        assert_eq!(arrived, vec![format!("us:{}", a.index)]);
        assert!(events.arrived().is_empty(), "reported twice");
    }

    #[tokio::test]
    async fn proofs_from_the_live_store_are_those_of_the_directory_opened_offline() {
        let (_tmp, node) = node();
        let a = node.add_office(office("us/fbi")).await.unwrap();
        let us = Party::new("us").unwrap();
        let live = Records::new(node.clone()).proofs().unwrap();
        let offline = crate::proofs::ProofSource::open(node.dir()).unwrap();
        let bundle = live.inclusion(&us, a.index).unwrap();
        assert_eq!(bundle, offline.inclusion(&us, a.index).unwrap());
        assert!(
            hotline_proto::bundle::verify(bundle.as_bytes(), &offline.keyring().unwrap()).is_ok()
        );
    }

    #[tokio::test]
    async fn nothing_written_leaves_no_alarm_and_the_log_size_counts_the_entries() {
        let (_tmp, node) = node();
        let records = Records::new(node.clone());
        let size = records.log_size().unwrap();
        node.add_office(office("us/fbi")).await.unwrap();
        assert_eq!(records.log_size().unwrap(), size + 1);
        assert!(records.alarms().unwrap().is_empty());
    }
}
