//! What every v2 bundle carries for each log it discloses entries of: one
//! checkpoint of that log with its index line, and the log's complete key
//! history at that checkpoint.
//!
//! ```text
//! {"checkpoint": "<signed note: origin, size, root, hotline-index line; cosignatures>",
//!  "key_history": <keyed run of kind/key/<party>/-, base absent>}
//! ```
//!
//! The key history is a keyed run with no base: every `key` entry the log
//! holds below the checkpoint's size, folded into the state its index
//! commits to, so none can be left out. Every other entry the bundle
//! discloses of that log must sit below the same size and is judged against
//! that history ([`crate::keylog`]): an entry signed with a key the log had
//! rotated away or revoked before it is refused, whoever wrote the bundle.
//! [`ProvedLog`] collects every disclosed entry, so that the time rules
//! ([`super::time`]) see them all.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tlog_tiles::Hash;

use super::{mismatch, within};
use crate::bundle::{BundleError, Keyring, ProvedEntry, TlogProof, check_tlog_proof, origin_party};
use crate::checkpoint::VerifiedCheckpoint;
use crate::entry::{Kind, SignedEntry};
use crate::index::{self, KeyedRun, KeyedRunJson, ProvedRun};
use crate::keylog::{KeyLog, KeyRefusal};
use crate::keys::NoteVerifier;
use crate::party::Office;

/// One log's checkpoint and key history, as a bundle carries them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogJson {
    /// The checkpoint, a signed note with its cosignatures.
    pub checkpoint: String,
    /// Every `key` entry of the log below the checkpoint's size.
    pub key_history: KeyedRunJson,
}

/// One log's checkpoint and key history, as the node supplies them to a writer.
#[derive(Clone, Debug, PartialEq)]
pub struct LogEvidence {
    /// The checkpoint, signed note with cosignatures, verbatim.
    pub checkpoint: Vec<u8>,
    /// The keyed run of `kind/key/<party>/-` at the checkpoint, base absent.
    pub key_history: KeyedRun,
}

impl From<&LogEvidence> for LogJson {
    fn from(l: &LogEvidence) -> Self {
        Self {
            checkpoint: String::from_utf8_lossy(&l.checkpoint).into_owned(),
            key_history: (&l.key_history).into(),
        }
    }
}

/// The key of a party's key history.
pub fn key_history_key(party: &str) -> String {
    index::channel_key(Kind::Key, party, None)
}

/// A log's checkpoint and key history, checked; and every entry of the log
/// the bundle disclosed, each judged against that history.
#[derive(Clone, Debug)]
pub struct ProvedLog {
    /// The checkpoint every disclosed entry sits under.
    pub checkpoint: VerifiedCheckpoint,
    /// Its index root.
    pub index_root: Hash,
    /// The office keys the log announced, rotated and revoked up to it.
    pub keys: KeyLog,
    /// How many `key` entries it holds.
    pub key_entries: u64,
    /// Every disclosed entry, by index.
    pub disclosed: BTreeMap<u64, SignedEntry>,
    /// Other checkpoints of the log the bundle showed (trees cosigned earlier).
    pub others: Vec<VerifiedCheckpoint>,
    log_key: NoteVerifier,
}

fn run_error(part: &str, e: index::RunError) -> BundleError {
    BundleError::Run {
        part: part.to_owned(),
        source: e,
    }
}

/// Checks one log's part of a bundle. Errors name `part`.
pub fn check_log(j: &LogJson, keys: &Keyring, part: &str) -> Result<ProvedLog, BundleError> {
    let inner = || {
        let cp = keys.checkpoint(j.checkpoint.as_bytes(), "checkpoint")?;
        let index_root = cp.index.ok_or_else(|| {
            run_error(
                "checkpoint",
                index::RunError::NoIndex {
                    origin: cp.origin.clone(),
                    size: cp.size,
                },
            )
        })?;
        let log_key = keys
            .log(&cp.origin)
            .cloned()
            .ok_or_else(|| BundleError::UnknownLog {
                origin: cp.origin.clone(),
            })?;
        let party = origin_party(&cp.origin).to_owned();
        let key = key_history_key(&party);
        if j.key_history.key != key {
            return Err(mismatch(format!(
                "the key history must be the run of {key}, not of {}",
                j.key_history.key
            )));
        }
        if j.key_history.base.is_some() {
            return Err(mismatch(format!(
                "the key history must disclose every key entry of {party}'s log (no base): one left out could be the revocation that decides"
            )));
        }
        let run = index::check_run(&j.key_history, &party, cp.size, index_root)
            .map_err(|e| run_error("key_history", e))?;
        let mut log = ProvedLog {
            checkpoint: cp,
            index_root,
            keys: KeyLog::new(),
            key_entries: run.entries.len() as u64,
            disclosed: BTreeMap::new(),
            others: vec![],
            log_key,
        };
        for (i, e) in run.entries {
            let h = e.header();
            if h.from != party || h.key.is_none() {
                return Err(mismatch(format!(
                    "key history: {party}:{i} is not a key entry written by party {party}"
                )));
            }
            e.verify(log.log_key.public_key())
                .map_err(|source| BundleError::Entry {
                    part: "key_history",
                    source,
                })?;
            log.keys.learn(i, &e);
            log.note(i, e)?;
        }
        Ok(log)
    };
    inner().map_err(|e| within(part, e))
}

impl ProvedLog {
    /// The log's origin.
    pub fn origin(&self) -> &str {
        &self.checkpoint.origin
    }

    /// The party whose log it is.
    pub fn party(&self) -> &str {
        origin_party(&self.checkpoint.origin)
    }

    /// `us:12`.
    pub fn id(&self, index: u64) -> String {
        format!("{}:{index}", self.party())
    }

    fn note(&mut self, index: u64, e: SignedEntry) -> Result<(), BundleError> {
        if let Some(old) = self.disclosed.get(&index) {
            if old.leaf() != e.leaf() {
                return Err(mismatch(format!(
                    "the bundle shows two different entries at {}",
                    self.id(index)
                )));
            }
            return Ok(());
        }
        self.disclosed.insert(index, e);
        Ok(())
    }

    /// Judges entry `index` against the key history (the party's own entries
    /// against its log key) and records it as disclosed. Returns the `key`
    /// entry that announced the signing key, if an office signed.
    pub fn admit(&mut self, index: u64, e: &SignedEntry) -> Result<Option<u64>, BundleError> {
        let id = self.id(index);
        if index >= self.checkpoint.size {
            return Err(mismatch(format!(
                "entry {id} is beyond the checkpoint's size {}",
                self.checkpoint.size
            )));
        }
        let h = e.header();
        if h.log.as_str() != self.party() {
            return Err(mismatch(format!(
                "entry {id} says it is of {}'s log",
                h.log
            )));
        }
        let signed = if h.from == self.party() {
            e.verify(self.log_key.public_key())
                .map_err(|source| BundleError::Entry {
                    part: "entry",
                    source,
                })?;
            None
        } else {
            // A log holds only its own party's and offices' entries: one
            // "from" another party's office would put words in its mouth.
            if !Office::new(&h.from).is_ok_and(|o| o.party().as_str() == self.party()) {
                return Err(BundleError::SignerKey(format!(
                    "entry {id} from {} cannot be in the log of {}: a log holds only its own party's and offices' entries",
                    h.from,
                    self.party()
                )));
            }
            match self.keys.judge(e, index) {
                Ok(k) => Some(k.index),
                Err(KeyRefusal::BadSignature { source, .. }) => {
                    return Err(BundleError::Entry {
                        part: "entry",
                        source,
                    });
                }
                Err(why) => {
                    return Err(BundleError::SignerKey(format!(
                        "entry {id}: {why} (by the log's complete key history up to size {})",
                        self.checkpoint.size
                    )));
                }
            }
        };
        self.note(index, e.clone())?;
        Ok(signed)
    }

    /// Checks a tlog-proof of one entry under this log's checkpoint (same
    /// size and root) and admits the entry.
    pub fn entry(
        &mut self,
        text: &str,
        keys: &Keyring,
        part: &str,
    ) -> Result<ProvedEntry, BundleError> {
        let inner = |log: &mut Self| {
            let p = TlogProof::parse(text, "entry")?;
            let (entry, cp) = check_tlog_proof(&p, keys, "entry")?;
            if cp.origin != log.checkpoint.origin
                || cp.size != log.checkpoint.size
                || cp.root != log.checkpoint.root
            {
                return Err(mismatch(format!(
                    "the entry's proof is under {} at size {}, not under the bundle's checkpoint of {} at size {}",
                    cp.origin, cp.size, log.checkpoint.origin, log.checkpoint.size
                )));
            }
            let key_index = log.admit(p.index, &entry)?;
            Ok(ProvedEntry {
                entry,
                index: p.index,
                checkpoint: log.checkpoint.clone(),
                key_index,
            })
        };
        inner(self).map_err(|e| within(part, e))
    }

    /// Checks a tlog-proof of an entry the bundle already disclosed, under
    /// another checkpoint of this log (an earlier tree someone cosigned);
    /// returns that checkpoint.
    pub fn seen(
        &mut self,
        text: &str,
        keys: &Keyring,
        part: &str,
    ) -> Result<(u64, VerifiedCheckpoint), BundleError> {
        let inner = |log: &mut Self| {
            let p = TlogProof::parse(text, "seen")?;
            let (entry, cp) = check_tlog_proof(&p, keys, "seen")?;
            if cp.origin != log.checkpoint.origin {
                return Err(mismatch(format!(
                    "the proof is under a checkpoint of {}, not of {}",
                    cp.origin,
                    log.origin()
                )));
            }
            match log.disclosed.get(&p.index) {
                Some(e) if e.leaf() == entry.leaf() => {}
                _ => {
                    return Err(mismatch(format!(
                        "entry {} is not one the bundle disclosed",
                        log.id(p.index)
                    )));
                }
            }
            log.others.push(cp.clone());
            Ok((p.index, cp))
        };
        inner(self).map_err(|e| within(part, e))
    }

    /// Checks a keyed run of `key` at this log's checkpoint and admits each
    /// of its entries; `complete` requires every entry of the key (no base).
    pub fn run(
        &mut self,
        j: &KeyedRunJson,
        key: &str,
        complete: bool,
        part: &str,
    ) -> Result<ProvedRun, BundleError> {
        let inner = |log: &mut Self| {
            if j.key != key {
                return Err(mismatch(format!(
                    "it is the run of {}, not of {key}",
                    j.key
                )));
            }
            if complete && j.base.is_some() {
                return Err(mismatch(format!(
                    "the run of {key} must disclose every entry of the key (no base)"
                )));
            }
            let party = log.party().to_owned();
            let run = index::check_run(j, &party, log.checkpoint.size, log.index_root)
                .map_err(|e| run_error("run", e))?;
            for (i, e) in &run.entries {
                log.admit(*i, e)?;
            }
            Ok(run)
        };
        inner(self).map_err(|e| within(part, e))
    }

    /// Applies the time rules to everything disclosed of this log.
    pub fn check_times(&self) -> Result<(), BundleError> {
        let mut cps = vec![&self.checkpoint];
        cps.extend(&self.others);
        super::time::check(&self.disclosed, &cps).map_err(|e| within(self.origin(), e))
    }

    /// The latest moment the log's own signatures show its checkpoint's tree
    /// to cover: its own witness's latest cosignature of it, or the date of
    /// the latest disclosed entry (dates never go backwards), with how.
    pub fn covers(&self) -> Option<(Timestamp, String)> {
        let own = super::roles::cosigners(&self.checkpoint, "")
            .into_iter()
            .filter(|s| s.role == super::roles::Role::Own)
            .max_by_key(|s| s.at)
            .map(|s| {
                (
                    s.at,
                    format!(
                        "{}'s own witness cosigned its tree of size {} at {}",
                        self.party(),
                        self.checkpoint.size,
                        super::fmt_time(s.at)
                    ),
                )
            });
        let dated = self.disclosed.iter().next_back().map(|(i, e)| {
            (
                e.header().time,
                format!(
                    "its tree of size {} holds {} dated {}",
                    self.checkpoint.size,
                    self.id(*i),
                    e.header().time
                ),
            )
        });
        match (own, dated) {
            (Some(a), Some(b)) => Some(if a.0 >= b.0 { a } else { b }),
            (a, b) => a.or(b),
        }
    }
}
