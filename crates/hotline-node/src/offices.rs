//! This party's office keys on this node.
//!
//! A node keeps every secret key it ever had for an office: the current one
//! in `keys/offices/<office>.json`, and the keys it rotated away or whose
//! office it revoked in `keys/offices/retired/<office>.<key id>.json` (mode
//! 0600), so that bodies sealed to them still open. Which key signs is not a
//! matter of file names: it is what the own log's `key` entries say
//! ([`KeyLog`]) at the index being written. The sequencer asks here for
//! every entry it signs, so an entry drafted before a rotation but appended
//! after it is signed with the new key, and one from a revoked office is
//! refused — the log never holds an entry its peers would refuse, which would
//! stall the link.
//!
//! A rotation writes the new key to `<office>.json.new` before its `key`
//! entry is appended and renames it once the entry is durable; a revocation
//! moves the key file to `retired/` after its entry. [`OwnOffices::load`]
//! finishes either after a crash, by what the log says.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use ed25519_dalek::VerifyingKey;
use hotline_proto::entry::{KeyAction, SignedEntry};
use hotline_proto::keylog::KeyLog;
use hotline_proto::keys::OfficeKeys;
use hotline_proto::party::Office;

use crate::dir::{NodeDir, write_secret};
use crate::error::{Corrupt, Result};
use crate::store::{LogId, Store};

/// Why an own office's key files could not be kept in order; nothing the
/// log says was undone.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OfficeError {
    /// A key file could not be read.
    #[error("reading {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A new key file could not be written.
    #[error("{what}: {source}")]
    Write {
        /// Which ("writing the office key").
        what: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The key of a rotation the log names could not be installed at start.
    #[error("finishing a rotation of {office}: {source}")]
    FinishRotation {
        /// The office.
        office: Office,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The key of a rotation just appended could not be installed.
    #[error(
        "the rotation is in entry {index}, but installing the new key file failed ({source}); restart the node to finish it"
    )]
    Install {
        /// The rotation's entry.
        index: u64,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A new key no entry announced could not be removed.
    #[error("removing an unannounced key {}: {source}", path.display())]
    RemoveUnannounced {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A revoked office's key file could not be removed.
    #[error("retiring {}: {source}", path.display())]
    Retire {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A key could not be kept under `retired/`.
    #[error("keeping the retired key of {office} in {}: {source}", path.display())]
    KeepRetired {
        /// The office.
        office: Office,
        /// The file it should be kept in.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Where `office`'s current secret keys live.
pub fn current_path(dir: &NodeDir, office: &Office) -> PathBuf {
    dir.offices().join(format!("{}.json", office.file_stem()))
}

/// Where new keys wait while their rotation is being appended.
pub fn pending_path(dir: &NodeDir, office: &Office) -> PathBuf {
    dir.offices()
        .join(format!("{}.json.new", office.file_stem()))
}

/// The directory of retired keys (rotated away, or of revoked offices).
pub fn retired_dir(dir: &NodeDir) -> PathBuf {
    dir.offices().join("retired")
}

/// Where a retired key of `office` lives, named by its signing key.
pub fn retired_path(dir: &NodeDir, office: &Office, vk: &VerifyingKey) -> PathBuf {
    let id: String = vk.as_bytes()[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    retired_dir(dir).join(format!("{}.{id}.json", office.file_stem()))
}

fn read_keys(p: &Path) -> Result<OfficeKeys> {
    let t = std::fs::read_to_string(p).map_err(|source| OfficeError::Read {
        path: p.to_owned(),
        source,
    })?;
    Ok(
        OfficeKeys::from_secret_json(&t).map_err(|source| Corrupt::KeyFile {
            path: p.to_owned(),
            source,
        })?,
    )
}

fn json_files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return vec![];
    };
    let mut out: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with(suffix))
        })
        .collect();
    out.sort();
    out
}

/// Every secret key held for `office`, read from disk: the current one
/// first, then the retired ones. For readers without a running node
/// (opening a body, proving a statement).
pub fn held_on_disk(dir: &NodeDir, office: &Office) -> Vec<OfficeKeys> {
    let stem = format!("{}.", office.file_stem());
    let mut paths = vec![current_path(dir, office)];
    paths.extend(
        json_files(&retired_dir(dir), ".json")
            .into_iter()
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&stem))
            }),
    );
    paths
        .iter()
        .filter_map(|p| read_keys(p).ok())
        .filter(|k| k.office() == office)
        .collect()
}

/// What signs for an office now.
pub enum Signing {
    /// These keys.
    Key(Arc<OfficeKeys>),
    /// Nothing: the log revoked the office in this entry.
    Revoked(u64),
    /// The log has no `key` entry for the office and this node holds no key for it.
    Unknown,
    /// The log names a key (in this entry) whose secret this node does not hold.
    NotHeld(u64),
}

struct Inner {
    /// Every secret key held, per office; the current file's first.
    held: BTreeMap<Office, Vec<Arc<OfficeKeys>>>,
    /// The own log's key history, as far as it is durable.
    log: KeyLog,
}

/// This party's office keys and its log's key history. Cheap to clone; the
/// node and its sequencer share one.
#[derive(Clone)]
pub struct OwnOffices {
    inner: Arc<RwLock<Inner>>,
}

impl OwnOffices {
    /// Reads the key files and the own log's `key` entries, finishing a
    /// rotation or revocation a crash interrupted.
    pub fn load(dir: &NodeDir, store: &dyn Store, log: LogId) -> Result<Self> {
        let mut history = KeyLog::new();
        for l in store.key_leaves(log)? {
            let e = SignedEntry::from_leaf(&l.leaf).map_err(|source| Corrupt::EntryAt {
                what: "own key entry",
                index: l.index,
                source,
            })?;
            history.learn(l.index, &e);
        }
        let mut held: BTreeMap<Office, Vec<Arc<OfficeKeys>>> = BTreeMap::new();
        let mut add = |k: OfficeKeys| {
            let list = held.entry(k.office().clone()).or_default();
            if !list.iter().any(|h| h.verifying_key() == k.verifying_key()) {
                list.push(Arc::new(k));
            }
        };
        let latest = |o: &Office| history.latest(o);
        // A rotation whose new key is on disk: finished if the log names it.
        for p in json_files(&dir.offices(), ".json.new") {
            let k = read_keys(&p)?;
            let o = k.office().clone();
            let named = latest(&o).and_then(|e| e.verifying_key()) == Some(&k.verifying_key());
            if named {
                if let Ok(old) = read_keys(&current_path(dir, &o)) {
                    keep_retired(dir, &old)?;
                }
                std::fs::rename(&p, current_path(dir, &o))
                    .map_err(|source| OfficeError::FinishRotation { office: o, source })?;
            } else {
                std::fs::remove_file(&p).map_err(|source| OfficeError::RemoveUnannounced {
                    path: p.clone(),
                    source,
                })?;
            }
        }
        for p in json_files(&dir.offices(), ".json") {
            let k = read_keys(&p)?;
            // A revocation whose key file was not yet retired.
            if latest(k.office()).is_some_and(|e| e.action == KeyAction::Revoke) {
                keep_retired(dir, &k)?;
                std::fs::remove_file(&p).map_err(|source| OfficeError::Retire {
                    path: p.clone(),
                    source,
                })?;
            }
            add(k);
        }
        for p in json_files(&retired_dir(dir), ".json") {
            add(read_keys(&p)?);
        }
        Ok(Self {
            inner: Arc::new(RwLock::new(Inner { held, log: history })),
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The own log's key history (a copy).
    pub fn key_log(&self) -> KeyLog {
        self.read().log.clone()
    }

    /// Replaces the key history once new `key` entries are durable.
    pub fn set_key_log(&self, log: KeyLog) {
        self.write().log = log;
    }

    /// Holds another secret key (before its `key` entry is appended).
    pub fn hold(&self, k: Arc<OfficeKeys>) {
        self.write()
            .held
            .entry(k.office().clone())
            .or_default()
            .push(k);
    }

    /// Forgets a key whose `key` entry never made it into the log.
    pub fn unhold(&self, k: &OfficeKeys) {
        let mut w = self.write();
        if let Some(list) = w.held.get_mut(k.office()) {
            list.retain(|h| h.verifying_key() != k.verifying_key());
            if list.is_empty() {
                w.held.remove(k.office());
            }
        }
    }

    /// Whether this node holds any key for `office`, or its log ever named it.
    pub fn known(&self, office: &Office) -> bool {
        let r = self.read();
        r.held.contains_key(office) || r.log.latest(office).is_some()
    }

    /// What signs for `office` as of `log` (the durable history if `None`).
    pub fn signing(&self, office: &Office, log: Option<&KeyLog>) -> Signing {
        let r = self.read();
        let held = r.held.get(office).map_or(&[][..], Vec::as_slice);
        match log.unwrap_or(&r.log).latest(office) {
            // Never announced here: the key on disk, as before key entries.
            None => held
                .first()
                .map_or(Signing::Unknown, |k| Signing::Key(k.clone())),
            Some(e) if e.action == KeyAction::Revoke => Signing::Revoked(e.index),
            Some(e) => held
                .iter()
                .find(|k| Some(&k.verifying_key()) == e.verifying_key())
                .map_or(Signing::NotHeld(e.index), |k| Signing::Key(k.clone())),
        }
    }

    /// The keys that sign for `given`'s office as of `log`: `given` if they
    /// are current, the current ones if a rotation came in between.
    pub fn signer_for(
        &self,
        given: &Arc<OfficeKeys>,
        log: Option<&KeyLog>,
    ) -> std::result::Result<Arc<OfficeKeys>, String> {
        let office = given.office();
        match self.signing(office, log) {
            Signing::Key(k) => Ok(k),
            Signing::Unknown => Ok(given.clone()),
            Signing::Revoked(at) => Err(format!(
                "{office} was revoked in entry {at} of this log; it can no longer sign"
            )),
            Signing::NotHeld(at) => Err(format!(
                "this node holds no secret key for the key of {office} that entry {at} announced; restore keys/offices/{}.json from a backup",
                office.file_stem()
            )),
        }
    }

    /// Every key that may open a body sealed to `office`: current first.
    pub fn openers(&self, office: &Office) -> Vec<Arc<OfficeKeys>> {
        let mut keys: Vec<Arc<OfficeKeys>> =
            self.read().held.get(office).cloned().unwrap_or_default();
        if let Signing::Key(k) = self.signing(office, None) {
            keys.retain(|h| h.verifying_key() != k.verifying_key());
            keys.insert(0, k);
        }
        keys
    }

    /// The current keys of every office that can sign now, by office.
    pub fn current(&self) -> Vec<Arc<OfficeKeys>> {
        let offices: Vec<Office> = self.read().held.keys().cloned().collect();
        offices
            .iter()
            .filter_map(|o| match self.signing(o, None) {
                Signing::Key(k) => Some(k),
                _ => None,
            })
            .collect()
    }

    /// The entry that revoked `office`, if the own log revoked it.
    pub fn revoked(&self, office: &Office) -> Option<u64> {
        self.read()
            .log
            .latest(office)
            .filter(|e| e.action == KeyAction::Revoke)
            .map(|e| e.index)
    }
}

/// Writes `k` to `retired/` (mode 0600) unless it is there already.
pub fn keep_retired(dir: &NodeDir, k: &OfficeKeys) -> Result<PathBuf> {
    let path = retired_path(dir, k.office(), &k.verifying_key());
    match write_secret(&path, &k.to_secret_json()) {
        Ok(()) => Ok(path),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(path),
        Err(source) => Err(OfficeError::KeepRetired {
            office: k.office().clone(),
            path,
            source,
        }
        .into()),
    }
}
