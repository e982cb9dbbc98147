//! The office keys a log has announced, rotated and revoked, and what that
//! history says about one entry.
//!
//! A party's office keys reach everyone else only as `key` entries in its
//! own witnessed log (signed by its log key, `from` = the party, `to` none),
//! so the log — not a keys-export file, not a file name on disk — is the
//! authority on which key an office signs with at any index, and which key
//! anyone sealing to it must use. The same fold serves the receiving node's
//! mirror (it refuses an entry the history does not allow), the sending
//! node (it seals to the key the mirror learnt) and `hotline verify` (the
//! inclusion bundle carries the chain of key entries the fold needs).
//!
//! Rules: the latest `key` entry about an office before an entry decides.
//! `announce` and `rotate` make their keys the office's current keys (the
//! old ones stop signing); `revoke` leaves the office no key to sign with.

use std::collections::BTreeMap;

use ed25519_dalek::VerifyingKey;

use crate::entry::{EntryError, KeyAction, Kind, SignedEntry};
use crate::keys::OfficePublic;
#[cfg(feature = "seal")]
use crate::keys::{KeyError, SealPublic};
use crate::party::Office;

/// One `key` entry about an office.
#[derive(Clone, Debug)]
pub struct KeyEvent {
    /// Its index in the log.
    pub index: u64,
    /// What it did.
    pub action: KeyAction,
    /// The keys it names (for `revoke`, the keys revoked).
    pub keys: OfficePublic,
    verifying: Option<VerifyingKey>,
}

impl KeyEvent {
    /// The Ed25519 key it makes current (`None` for a revocation, or a key
    /// that is not a valid point).
    pub fn verifying_key(&self) -> Option<&VerifyingKey> {
        self.verifying
            .as_ref()
            .filter(|_| self.action != KeyAction::Revoke)
    }

    #[cfg(feature = "seal")]
    /// The sealing key it makes current.
    pub fn seal_key(&self) -> Result<SealPublic, KeyError> {
        self.keys.seal_key()
    }
}

/// Why the key history does not let an office's entry stand.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyRefusal {
    /// No key of the office was announced before the entry.
    #[error("no key was announced for {office} before it")]
    NotAnnounced {
        /// The office.
        office: String,
    },
    /// The office's keys were revoked before the entry.
    #[error("entry {at} revoked the keys of {office}; a revoked office can no longer sign")]
    Revoked {
        /// The office.
        office: String,
        /// The revoking `key` entry.
        at: u64,
    },
    /// Signed with a key the office had, but had rotated away before it.
    #[error(
        "signed with the key of {office} announced in entry {announced}, which entry {replaced} rotated away; entries after a rotation are signed with the new key"
    )]
    RotatedAway {
        /// The office.
        office: String,
        /// The `key` entry that announced the key that signed.
        announced: u64,
        /// The `key` entry that replaced it.
        replaced: u64,
    },
    /// Not signed by the office's current key, nor by any earlier one.
    #[error("{source} (under the key of {office} announced in entry {announced})")]
    BadSignature {
        /// The office.
        office: String,
        /// The `key` entry of the key it should have been signed with.
        announced: u64,
        /// The failure.
        source: EntryError,
    },
}

/// Every office's key history in one log, in index order.
#[derive(Clone, Debug, Default)]
pub struct KeyLog {
    offices: BTreeMap<Office, Vec<KeyEvent>>,
    last: Option<u64>,
}

impl KeyLog {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes in entry `index` if it is a `key` entry (anything else is
    /// ignored); returns whether it was. The caller has checked that the
    /// party's log key signed it, and feeds entries in index order.
    pub fn learn(&mut self, index: u64, e: &SignedEntry) -> bool {
        let h = e.header();
        let Some(k) = h.key.as_ref().filter(|_| h.kind == Kind::Key) else {
            return false;
        };
        self.last = Some(index);
        self.offices
            .entry(k.keys.office.clone())
            .or_default()
            .push(KeyEvent {
                index,
                action: k.action,
                keys: k.keys.clone(),
                verifying: k.keys.verifying_key().ok(),
            });
        true
    }

    /// The index of the latest `key` entry learnt, about any office: what
    /// the next `key` entry of the log must name in `prev`, since a proof of
    /// an office's entry follows those links back to its signing key.
    pub fn last_index(&self) -> Option<u64> {
        self.last
    }

    /// The latest `key` entry about `office`.
    pub fn latest(&self, office: &Office) -> Option<&KeyEvent> {
        self.history(office).last()
    }

    /// The latest `key` entry about `office` before index `before`: the one
    /// that decides which key signs entry `before`.
    pub fn before(&self, office: &Office, before: u64) -> Option<&KeyEvent> {
        self.history(office).iter().rev().find(|k| k.index < before)
    }

    /// Every `key` entry about `office`, oldest first.
    pub fn history(&self, office: &Office) -> &[KeyEvent] {
        self.offices.get(office).map_or(&[], Vec::as_slice)
    }

    /// Every office the log has a `key` entry about, with its latest.
    pub fn offices(&self) -> impl Iterator<Item = (&Office, &KeyEvent)> {
        self.offices
            .iter()
            .filter_map(|(o, h)| h.last().map(|k| (o, k)))
    }

    /// Whether entry `index`, written by an office of this log, is signed
    /// by the key the history makes that office's at `index`. On success,
    /// the `key` entry that announced that key.
    pub fn judge(&self, e: &SignedEntry, index: u64) -> Result<&KeyEvent, KeyRefusal> {
        let from = &e.header().from;
        let not_announced = || KeyRefusal::NotAnnounced {
            office: from.clone(),
        };
        let office = Office::new(from).map_err(|_| not_announced())?;
        let current = self.before(&office, index).ok_or_else(not_announced)?;
        if current.action == KeyAction::Revoke {
            return Err(KeyRefusal::Revoked {
                office: from.clone(),
                at: current.index,
            });
        }
        let checked = match current.verifying_key() {
            Some(vk) => e.verify(vk),
            None => Err(EntryError::BadSignature {
                signer: from.clone(),
            }),
        };
        let Err(source) = checked else {
            return Ok(current);
        };
        // Signed by a key the office had earlier? Then say which key entry
        // took it away: that is what the signer must answer for.
        let history = self.history(&office);
        for (at, k) in history.iter().enumerate().rev() {
            if k.index >= current.index {
                continue;
            }
            if k.verifying_key().is_some_and(|vk| e.verify(vk).is_ok()) {
                return Err(KeyRefusal::RotatedAway {
                    office: from.clone(),
                    announced: k.index,
                    replaced: history.get(at + 1).map_or(current.index, |x| x.index),
                });
            }
        }
        Err(KeyRefusal::BadSignature {
            office: from.clone(),
            announced: current.index,
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{Header, KeyAnnouncement};
    use crate::keys::{OfficeKeys, os_rng};
    use crate::party::Party;

    fn header(kind: Kind, from: &str, index: u64) -> Header {
        Header::new(
            Party::new("us").unwrap(),
            kind,
            from,
            None,
            jiff::Timestamp::from_second(1_600_000_000 + index as i64).unwrap(),
        )
    }

    fn key(action: KeyAction, k: &OfficeKeys, index: u64) -> SignedEntry {
        let mut h = header(Kind::Key, "us", index);
        h.key = Some(KeyAnnouncement {
            action,
            keys: k.public(),
        });
        // The fold does not check the party's signature; the caller does.
        SignedEntry::sign(h, |_| [0; 64]).unwrap()
    }

    fn by(k: &OfficeKeys, index: u64) -> SignedEntry {
        SignedEntry::sign(header(Kind::Message, "us/fbi", index), |m| k.sign_raw(m)).unwrap()
    }

    #[test]
    fn the_latest_key_entry_before_an_entry_decides() {
        let fbi = Office::new("us/fbi").unwrap();
        let (a, b) = (
            OfficeKeys::generate(fbi.clone(), &mut os_rng()),
            OfficeKeys::generate(fbi.clone(), &mut os_rng()),
        );
        let mut log = KeyLog::new();
        assert!(log.learn(0, &key(KeyAction::Announce, &a, 0)));
        assert!(!log.learn(1, &by(&a, 1)));
        assert_eq!(log.judge(&by(&a, 1), 1).unwrap().index, 0);
        assert!(matches!(
            log.judge(&by(&b, 1), 1),
            Err(KeyRefusal::BadSignature { announced: 0, .. })
        ));
        log.learn(2, &key(KeyAction::Rotate, &b, 2));
        // Before the rotation, a's key; after it, b's only.
        assert_eq!(log.judge(&by(&a, 1), 1).unwrap().index, 0);
        assert_eq!(log.judge(&by(&b, 3), 3).unwrap().index, 2);
        let e = log.judge(&by(&a, 3), 3).unwrap_err();
        assert!(
            matches!(
                e,
                KeyRefusal::RotatedAway {
                    announced: 0,
                    replaced: 2,
                    ..
                }
            ),
            "{e}"
        );
        assert!(
            e.to_string()
                .contains("the key of us/fbi announced in entry 0, which entry 2 rotated away"),
            "{e}"
        );
        log.learn(4, &key(KeyAction::Revoke, &b, 4));
        assert_eq!(log.judge(&by(&b, 3), 3).unwrap().index, 2);
        for k in [&a, &b] {
            let e = log.judge(&by(k, 5), 5).unwrap_err();
            assert!(matches!(e, KeyRefusal::Revoked { at: 4, .. }), "{e}");
            assert!(e.to_string().contains("entry 4 revoked the keys of us/fbi"));
        }
        assert_eq!(log.latest(&fbi).unwrap().index, 4);
        assert_eq!(log.last_index(), Some(4));
        assert_eq!(KeyLog::new().last_index(), None);
        assert!(log.latest(&fbi).unwrap().verifying_key().is_none());
        assert!(matches!(
            log.judge(&by(&a, 0), 0),
            Err(KeyRefusal::NotAnnounced { .. })
        ));
    }
}
