//! `hotline/inclusion/v3`: one entry, under the log's chosen checkpoint,
//! with the log's complete key history.

use std::collections::BTreeMap;

use hotline_proto::claims::inclusion::inclusion_bundle;
use hotline_proto::entry::SignedEntry;
use hotline_proto::keylog::KeyLog;
use hotline_proto::party::Party;

use super::checkpoints::Want;
use super::{ProofError, ProofSource};
use crate::error::Result;
use crate::store::StoredLeaf;

impl ProofSource {
    /// A `hotline/inclusion/v3` bundle of entry `party:index` (own log or a
    /// mirror). An entry signed with a key its log had rotated away or
    /// revoked is refused here: no bundle could prove it.
    pub fn inclusion(&self, party: &Party, index: u64) -> Result<String> {
        let (_, e) = self.leaf(party, index)?;
        let log = self.log(party)?;
        key_history(&self.store.key_leaves(log.id)?, &e, index, &log.origin)?;
        let cp = self.checkpoint_for(party, index + 1, Want::Cosigned)?;
        self.checked(inclusion_bundle(
            &self.log_evidence(&cp)?,
            &self.tlog_proof(&cp, index)?,
        ))
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
        let k = SignedEntry::from_leaf(&l.leaf).map_err(|source| ProofError::KeyEntry {
            index: l.index,
            source,
        })?;
        log.learn(l.index, &k);
        entries.insert(l.index, k);
    }
    let signed = log.judge(e, index).map_err(|why| ProofError::Unprovable {
        index,
        origin: origin.to_owned(),
        from: h.from.clone(),
        why,
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
    Err(ProofError::Unlinked {
        origin: origin.to_owned(),
        index,
        announced: signed.index,
    }
    .into())
}

#[cfg(test)]
mod tests {
    use hotline_proto::entry::{Header, KeyAction, KeyAnnouncement, Kind};
    use hotline_proto::keys::{OfficeKeys, os_rng};
    use hotline_proto::party::{Office, Party};

    use super::*;
    use crate::error::NodeError;

    fn header(kind: Kind, from: &str, i: u64) -> Header {
        Header::new(
            Party::new("us").unwrap(),
            kind,
            from,
            None,
            jiff::Timestamp::from_second(1_600_000_000 + i as i64).unwrap(),
        )
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
