//! Read-only access to a node's log: listing, checkpoints, proofs. Needs no
//! secrets and no lock, so the CLI can use it while `hotline serve` runs.

use std::sync::Arc;

use std::collections::BTreeMap;

use hotline_proto::bundle::{self, TlogProof};
use hotline_proto::entry::SignedEntry;
use hotline_proto::keylog::KeyLog;
use hotline_proto::{b64, tree};
use serde::Serialize;

use crate::dir::{Config, NodeDir};
use crate::error::{NodeError, Result};
use crate::store::sqlite::SqliteStore;
use crate::store::{HashesOf, LogId, Store, StoredLeaf};

/// One line of `hotline log`.
#[derive(Clone, Debug, Serialize)]
pub struct LogLine {
    /// Index in the log.
    pub index: u64,
    /// The exact leaf bytes, base64.
    pub leaf: String,
    /// The leaf hash, base64.
    pub leaf_hash: String,
    /// The decoded header.
    pub header: serde_json::Value,
}

/// Read access to one log in a store.
#[derive(Clone)]
pub struct LogReader {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The log.
    pub log: LogId,
    /// Its origin.
    pub origin: String,
}

impl LogReader {
    /// Opens the node's own log read-only.
    pub fn open(dir: &NodeDir) -> Result<(Config, Self)> {
        let config = dir
            .read_config()
            .map_err(|e| NodeError::NotFound(e.to_string()))?;
        let store = SqliteStore::open_read_only(&dir.db())
            .map_err(|e| NodeError::Internal(format!("opening {}: {e}", dir.db().display())))?;
        let store: Arc<dyn Store> = Arc::new(store);
        let log = store.log_id_existing(&config.origin)?;
        let origin = config.origin.clone();
        Ok((config, Self { store, log, origin }))
    }

    /// Opens the mirror of a pinned peer's log read-only.
    pub fn open_peer(dir: &NodeDir, party: &str) -> Result<(Config, Self)> {
        let (config, own) = Self::open(dir)?;
        let path = dir.peers().join(format!("{party}.json"));
        let text = std::fs::read_to_string(&path).map_err(|_| {
            NodeError::NotFound(format!(
                "{party} is not a pinned peer of this node (no {})",
                path.display()
            ))
        })?;
        let id: hotline_proto::keys::PartyIdentity = serde_json::from_str(&text)
            .map_err(|e| NodeError::Internal(format!("{}: {e}", path.display())))?;
        let origin = hotline_proto::keys::NoteVerifier::from_vkey(&id.log_key)
            .map_err(|e| NodeError::Internal(e.to_string()))?
            .name()
            .to_owned();
        let log = own
            .store
            .log_id_existing(&origin)
            .map_err(|_| NodeError::NotFound(format!("nothing mirrored from {party} yet")))?;
        Ok((
            config,
            Self {
                store: own.store,
                log,
                origin,
            },
        ))
    }

    /// The log's size.
    pub fn size(&self) -> Result<u64> {
        Ok(self.store.size(self.log)?)
    }

    /// The latest signed checkpoint.
    pub fn checkpoint(&self) -> Result<(u64, Vec<u8>)> {
        self.store.latest_checkpoint(self.log)?.ok_or_else(|| {
            NodeError::NotFound(format!("log {} has no checkpoint yet", self.origin))
        })
    }

    /// Entries `[start, start+limit)` as log lines.
    pub fn lines(&self, start: u64, limit: u64) -> Result<Vec<LogLine>> {
        self.store
            .leaves(self.log, start, limit)?
            .into_iter()
            .map(|l| {
                let e = SignedEntry::from_leaf(&l.leaf).map_err(|e| {
                    NodeError::Internal(format!(
                        "entry {} in the store is unreadable: {e}",
                        l.index
                    ))
                })?;
                Ok(LogLine {
                    index: l.index,
                    leaf: b64::encode(&l.leaf),
                    leaf_hash: b64::encode(l.leaf_hash.0),
                    header: serde_json::to_value(e.header())
                        .map_err(|e| NodeError::Internal(e.to_string()))?,
                })
            })
            .collect()
    }

    fn leaf(&self, index: u64) -> Result<Vec<u8>> {
        self.store
            .leaves(self.log, index, 1)?
            .into_iter()
            .find(|l| l.index == index)
            .map(|l| l.leaf)
            .ok_or_else(|| NodeError::NotFound(format!("log {} has no entry {index}", self.origin)))
    }

    /// A tlog-proof of the entry at `index` under the latest checkpoint.
    pub fn tlog_proof(&self, index: u64) -> Result<TlogProof> {
        let (size, note) = self.checkpoint()?;
        self.tlog_proof_under(index, size, note)
    }

    fn tlog_proof_under(&self, index: u64, size: u64, note: Vec<u8>) -> Result<TlogProof> {
        if index >= size {
            return Err(NodeError::NotFound(format!(
                "log {} has {size} entries in its latest checkpoint; there is no entry {index}",
                self.origin
            )));
        }
        let leaf = self.leaf(index)?;
        let proof = tree::prove_inclusion(
            &HashesOf {
                store: &*self.store,
                log: self.log,
            },
            size,
            index,
        )
        .map_err(|e| NodeError::Internal(e.to_string()))?;
        Ok(bundle::tlog_proof(&leaf, index, proof, note))
    }

    /// A `hotline/inclusion/v3` bundle for the entry at `index`, under the
    /// latest checkpoint, with the log's complete key history there. An
    /// entry signed with a key the log had rotated away or revoked is
    /// refused: no bundle could prove it.
    pub fn prove_entry(&self, index: u64) -> Result<String> {
        let (size, note) = self.checkpoint()?;
        let p = self.tlog_proof_under(index, size, note.clone())?;
        let entry = SignedEntry::from_leaf(p.extra.as_deref().unwrap_or_default())
            .map_err(|e| NodeError::Internal(e.to_string()))?;
        key_history(
            &self.store.key_leaves(self.log)?,
            &entry,
            index,
            &self.origin,
        )?;
        let party = bundle::origin_party(&self.origin);
        let key = hotline_proto::claims::history::key_history_key(party);
        let cache = crate::proofs::index::IndexCache::new();
        let (state, proof) = cache.index_proof_at(&*self.store, self.log, &key, size)?;
        let leaves = cache.key_entries(&*self.store, self.log, &key, size, 0)?;
        let log = hotline_proto::claims::LogEvidence {
            checkpoint: note,
            key_history: hotline_proto::index::KeyedRun {
                key,
                state,
                proof,
                base: None,
                leaves,
            },
        };
        Ok(hotline_proto::claims::inclusion::inclusion_bundle(&log, &p))
    }
}

/// The key history an inclusion bundle carries for entry `index` of log
/// `origin`, whose `key` entries are `keys` (in index order): the indices of
/// the `key` entries from the last one before it back along `prev` to the
/// one that announced the key that signed it. Empty for an entry the party
/// signed itself. Refuses an entry the history does not let stand (signed
/// with a key its log had rotated away or revoked), since any bundle of it
/// would be refused.
pub fn key_history(
    keys: &[StoredLeaf],
    e: &SignedEntry,
    index: u64,
    origin: &str,
) -> Result<Vec<u64>> {
    let h = e.header();
    if h.from == h.log.as_str() {
        return Ok(vec![]);
    }
    let mut entries = BTreeMap::new();
    let mut log = KeyLog::new();
    for l in keys.iter().filter(|l| l.index < index) {
        let k = SignedEntry::from_leaf(&l.leaf)
            .map_err(|e| NodeError::Internal(format!("key entry {}: {e}", l.index)))?;
        log.learn(l.index, &k);
        entries.insert(l.index, k);
    }
    let signed = log.judge(e, index).map_err(|why| {
        NodeError::Conflict(format!(
            "entry {index} of {origin} cannot be proved as {}'s: {why}; `hotline verify` would refuse any bundle of it",
            h.from
        ))
    })?;
    let mut chain = vec![];
    let mut at = entries.keys().next_back().copied();
    while let Some(i) = at {
        chain.push(i);
        if i == signed.index {
            return Ok(chain);
        }
        at = entries
            .get(&i)
            .and_then(|k| k.header().prev)
            .filter(|&p| p < i);
    }
    Err(NodeError::Internal(format!(
        "the key entries of {origin} before entry {index} are not linked by prev back to entry {}, which announced the signing key",
        signed.index
    )))
}

#[cfg(test)]
mod tests {
    use hotline_proto::entry::{HEADER_VERSION, Header, KeyAction, KeyAnnouncement, Kind};
    use hotline_proto::keys::{OfficeKeys, os_rng};
    use hotline_proto::name::{Office, Party};

    use super::*;

    fn header(kind: Kind, from: &str, i: u64) -> Header {
        Header {
            v: HEADER_VERSION,
            log: Party::new("us").unwrap(),
            kind,
            from: from.into(),
            to: None,
            agreement: None,
            time: jiff::Timestamp::from_second(1_600_000_000 + i as i64).unwrap(),
            refs: vec![],
            prev: None,
            body: None,
            key: None,
            status: None,
            terms: None,
            digest: None,
        }
    }

    /// A log of `key` entries as `hotline prove entry` reads them: each
    /// names the previous one in `prev`, as the sequencer writes them.
    fn keys(events: &[(u64, KeyAction, &OfficeKeys)]) -> Vec<StoredLeaf> {
        let mut prev = None;
        events
            .iter()
            .map(|(i, action, k)| {
                let mut h = header(Kind::Key, "us", *i);
                h.prev = prev;
                h.key = Some(KeyAnnouncement {
                    action: *action,
                    keys: k.public(),
                });
                prev = Some(*i);
                let e = SignedEntry::sign(h, |_| [0; 64]).unwrap();
                StoredLeaf {
                    index: *i,
                    leaf: e.leaf().to_vec(),
                    leaf_hash: e.leaf_hash(),
                }
            })
            .collect()
    }

    fn by(k: &OfficeKeys, i: u64) -> SignedEntry {
        SignedEntry::sign(header(Kind::Message, k.office().as_str(), i), |m| {
            k.sign_raw(m)
        })
        .unwrap()
    }

    #[test]
    fn the_key_history_runs_from_the_last_key_entry_back_to_the_signing_key() {
        let o = |n: &str| Office::new(n).unwrap();
        let fbi = OfficeKeys::generate(o("us/fbi"), &mut os_rng());
        let fbi2 = OfficeKeys::generate(o("us/fbi"), &mut os_rng());
        let cia = OfficeKeys::generate(o("us/cia"), &mut os_rng());
        let log = keys(&[
            (0, KeyAction::Announce, &fbi),
            (2, KeyAction::Announce, &cia),
            (4, KeyAction::Rotate, &fbi2),
            (6, KeyAction::Revoke, &fbi2),
        ]);
        let chain = |e: &SignedEntry, i| key_history(&log, e, i, "hotline/us");
        assert_eq!(chain(&by(&fbi, 1), 1).unwrap(), vec![0]);
        assert_eq!(chain(&by(&fbi, 3), 3).unwrap(), vec![2, 0]);
        assert_eq!(chain(&by(&fbi2, 5), 5).unwrap(), vec![4]);
        assert_eq!(chain(&by(&cia, 7), 7).unwrap(), vec![6, 4, 2]);
        // Party-signed entries need none.
        let party = SignedEntry::sign(header(Kind::Agreement, "us", 3), |_| [0; 64]).unwrap();
        assert!(chain(&party, 3).unwrap().is_empty());
        // Signed with a key rotated away, or after the revocation: refused.
        for (e, i, why) in [
            (
                by(&fbi, 5),
                5,
                "signed with the key of us/fbi announced in entry 0, which entry 4 rotated away",
            ),
            (by(&fbi2, 7), 7, "entry 6 revoked the keys of us/fbi"),
        ] {
            let err = chain(&e, i).unwrap_err();
            assert!(matches!(err, NodeError::Conflict(_)), "{err:?}");
            let msg = err.to_string();
            assert!(
                msg.contains(&format!(
                    "entry {i} of hotline/us cannot be proved as us/fbi's"
                )) && msg.contains(why)
                    && msg.contains("`hotline verify` would refuse"),
                "{msg}"
            );
        }
    }
}
