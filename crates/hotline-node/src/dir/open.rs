//! Opening a node directory: the one way the node, the CLI's offline reads,
//! proof building and the benchmarks all do it, so that each refuses the
//! same directories in the same words.
//!
//! Opening reads `hotline.toml`, takes the writer lock when the process is
//! to write the log, and opens the database, in that order: a directory
//! that is not a node's is told so before anything is touched, and a
//! second writer is turned away before it migrates or writes anything.
//! The node then claims the store for its party and keys ([`OpenDir::claim`])
//! before it writes: a PostgreSQL database holds one party's log.
//!
//! The store is SQLite in the directory or PostgreSQL at `[store] url`
//! (see `engine`); callers hold it as a `dyn Store` and never ask which.
//! On either, the writer lock is a file lock in the directory: the
//! sequencer lease, which lets replicas of one party share a PostgreSQL
//! database, comes later.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::PathBuf;
use std::sync::Arc;

use hotline_proto::keys::{NoteVerifier, PartyIdentity};

use super::{Config, NodeDir};
use crate::error::NodeError;
use crate::store::{Holder, LogId, LogStore, Store, StoreError};

/// What the opening process will do with the directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Read only: no lock and no secrets, so it runs beside a running node;
    /// the database must exist already.
    ReadOnly,
    /// Write the log: the writer lock is held for as long as the opened
    /// directory lives, and the database is created and migrated if needed.
    ReadWrite,
}

/// A node directory, opened: what every caller then builds on.
pub struct OpenDir {
    /// Its paths.
    pub dir: NodeDir,
    /// Its `hotline.toml`.
    pub config: Config,
    /// Its database, on whichever engine `[store]` names.
    pub store: Arc<dyn Store>,
    /// The writer lock (`Mode::ReadWrite` only).
    pub lock: Option<WriterLock>,
    mode: Mode,
}

/// The writer lock on a node directory, held while this value lives: only
/// one process at a time may write a party's log. It is a file lock even
/// when the store is PostgreSQL, so two copies of one directory must not
/// both serve one database until the sequencer lease replaces it.
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
}

/// Why a node directory could not be opened. Each variant says what was
/// being done; its source, where it has one, says why.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// There is no `hotline.toml`.
    #[error(
        "{} is not a hotline node directory (no hotline.toml); create one with `hotline init --party NAME --dir {}`",
        root.display(),
        root.display()
    )]
    NotANodeDir {
        /// The directory.
        root: PathBuf,
    },
    /// `hotline.toml` exists but could not be read.
    #[error(transparent)]
    ReadConfig(std::io::Error),
    /// `hotline.toml` is not a valid configuration.
    #[error("{}", path.display())]
    BadConfig {
        /// The file.
        path: PathBuf,
        /// What is wrong in it.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// The lock file could not be opened or locked.
    #[error("locking the node directory")]
    Lock(#[source] std::io::Error),
    /// Another process holds the writer lock.
    #[error(
        "another hotline process is writing {} (is `hotline serve` running?)",
        root.display()
    )]
    Busy {
        /// The directory.
        root: PathBuf,
    },
    /// The database could not be opened.
    #[error("opening {}", path.display())]
    Store {
        /// The database file.
        path: PathBuf,
        /// Why.
        #[source]
        source: StoreError,
    },
    /// The PostgreSQL database could not be opened.
    #[error("opening the PostgreSQL store {target}")]
    Postgres {
        /// The URL without its password.
        target: String,
        /// Why.
        #[source]
        source: StoreError,
    },
}

impl OpenError {
    /// What was being done and why, as one line: what `NodeError` carries
    /// and what the CLI prints.
    pub(crate) fn message(&self) -> String {
        match std::error::Error::source(self) {
            Some(why) => format!("{self}: {why}"),
            None => self.to_string(),
        }
    }
}

impl From<OpenError> for NodeError {
    fn from(e: OpenError) -> Self {
        match e {
            OpenError::NotANodeDir { .. }
            | OpenError::ReadConfig(_)
            | OpenError::BadConfig { .. } => NodeError::NotFound(e.message()),
            OpenError::Busy { .. } => NodeError::Busy(e.message()),
            OpenError::Lock(_) | OpenError::Store { .. } | OpenError::Postgres { .. } => {
                NodeError::Open(e)
            }
        }
    }
}

impl NodeDir {
    /// Opens the directory for `mode`: reads `hotline.toml`, takes the
    /// writer lock when writing, and opens the database.
    pub fn open(&self, mode: Mode) -> Result<OpenDir, OpenError> {
        let config = self.read_config()?;
        let lock = match mode {
            Mode::ReadOnly => None,
            Mode::ReadWrite => Some(self.lock_writer()?),
        };
        let store = super::engine::open_store(self, &config, mode)?;
        Ok(OpenDir {
            dir: self.clone(),
            config,
            store,
            lock,
            mode,
        })
    }

    /// Reads the configuration, saying what to do if there is none.
    pub fn read_config(&self) -> Result<Config, OpenError> {
        let path = self.config();
        let text = std::fs::read_to_string(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                OpenError::NotANodeDir {
                    root: self.root().to_owned(),
                }
            } else {
                OpenError::ReadConfig(e)
            }
        })?;
        toml::from_str(&text).map_err(|e| OpenError::BadConfig {
            path,
            source: Box::new(e),
        })
    }

    /// The identities pinned in `peers/` that can be read, skipping any
    /// file that cannot: for reading and proving, which use what is pinned
    /// and leave refusing a bad pin to the node's start-up.
    pub fn pinned(&self) -> Vec<PartyIdentity> {
        let Ok(rd) = std::fs::read_dir(self.peers()) else {
            return vec![];
        };
        rd.flatten()
            .filter_map(|e| {
                let text = std::fs::read_to_string(e.path()).ok()?;
                serde_json::from_str(&text).ok()
            })
            .collect()
    }

    fn lock_writer(&self) -> Result<WriterLock, OpenError> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(self.lock())
            .map_err(OpenError::Lock)?;
        match file.try_lock() {
            Ok(()) => Ok(WriterLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(OpenError::Busy {
                root: self.root().to_owned(),
            }),
            Err(std::fs::TryLockError::Error(e)) => Err(OpenError::Lock(e)),
        }
    }
}

/// A pinned party's log held here as a mirror.
#[derive(Clone, Debug)]
pub struct Mirror {
    /// The party.
    pub party: hotline_proto::party::Party,
    /// Its log in the store.
    pub log: LogId,
    /// The log's origin.
    pub origin: String,
}

impl OpenDir {
    /// The own log: looked up when reading (a read-only open creates
    /// nothing), created if missing when writing.
    pub fn own_log(&self) -> Result<LogId, StoreError> {
        match self.mode {
            Mode::ReadOnly => self.store.log_id_existing(&self.config.origin),
            Mode::ReadWrite => self.store.log_id(&self.config.origin, &self.config.party),
        }
    }

    /// Claims the store for this directory's party and keys before the
    /// node writes anything: a PostgreSQL database records the first party
    /// that opens it and refuses any other (one party per database); a
    /// replica, a copy of the same directory, is the same party and passes.
    pub fn claim(
        &self,
        log_key: &NoteVerifier,
        witness_key: &NoteVerifier,
    ) -> Result<(), NodeError> {
        let who = Holder {
            party: self.config.party.clone(),
            log_key: log_key.to_vkey(),
            witness_key: witness_key.to_vkey(),
        };
        self.store.claim(&who).map_err(|e| match e {
            StoreError::OtherParty { .. } => NodeError::Conflict(format!(
                "refusing to start on {}: {e}",
                super::StoreAt::of(&self.dir, &self.config)
            )),
            e => NodeError::Store(e),
        })
    }

    /// The mirror of each pinned party whose log the store holds, in the
    /// order `peers/` lists them.
    pub fn mirrors(&self) -> Vec<Mirror> {
        mirrors_in(&self.dir, &*self.store)
    }
}

/// The mirror of each party pinned in `dir` whose log `store` holds, in the
/// order `peers/` lists them: for a directory opened here or a store a
/// running node already holds.
pub fn mirrors_in(dir: &NodeDir, store: &dyn LogStore) -> Vec<Mirror> {
    dir.pinned()
        .into_iter()
        .filter_map(|id| {
            let origin = NoteVerifier::from_vkey(&id.log_key).ok()?.name().to_owned();
            let log = store.log_id_existing(&origin).ok()?;
            Some(Mirror {
                party: id.party,
                log,
                origin,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node_dir(tmp: &tempfile::TempDir) -> NodeDir {
        let dir = NodeDir::new(tmp.path());
        std::fs::write(
            dir.config(),
            "party = \"us\"\norigin = \"hotline/us\"\nwitness_name = \"hotline/us/witness\"\nlisten = \"127.0.0.1:0\"\n",
        )
        .unwrap();
        dir
    }

    #[test]
    fn a_directory_without_hotline_toml_is_told_how_to_make_one() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().display();
        for mode in [Mode::ReadOnly, Mode::ReadWrite] {
            let Err(e) = NodeDir::new(tmp.path()).open(mode) else {
                panic!("opened a directory without hotline.toml");
            };
            let e = NodeError::from(e);
            assert!(matches!(e, NodeError::NotFound(_)), "{e:?}");
            assert_eq!(
                e.to_string(),
                format!(
                    "{root} is not a hotline node directory (no hotline.toml); create one with `hotline init --party NAME --dir {root}`"
                )
            );
        }
        assert!(!tmp.path().join("hotline.db").exists());
    }

    #[test]
    fn a_bad_hotline_toml_is_named_with_what_is_wrong() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = node_dir(&tmp);
        std::fs::write(dir.config(), "party = \"us\"\nflavour = 1\n").unwrap();
        let e = NodeError::from(dir.open(Mode::ReadOnly).err().unwrap());
        let msg = e.to_string();
        assert!(matches!(e, NodeError::NotFound(_)), "{e:?}");
        assert!(
            msg.starts_with(&format!("{}: ", dir.config().display())) && msg.contains("flavour"),
            "{msg}"
        );
    }

    #[test]
    fn one_writer_at_a_time_and_readers_beside_it() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = node_dir(&tmp);
        let writer = dir.open(Mode::ReadWrite).unwrap();
        assert!(writer.lock.is_some());
        let own = writer.own_log().unwrap();

        let e = NodeError::from(dir.open(Mode::ReadWrite).err().unwrap());
        assert!(matches!(e, NodeError::Busy(_)), "{e:?}");
        assert_eq!(
            e.to_string(),
            format!(
                "another hotline process is writing {} (is `hotline serve` running?)",
                tmp.path().display()
            )
        );

        let reader = dir.open(Mode::ReadOnly).unwrap();
        assert!(reader.lock.is_none());
        assert_eq!(reader.own_log().unwrap(), own);
        assert!(reader.mirrors().is_empty());

        drop(writer);
        dir.open(Mode::ReadWrite).unwrap();
    }

    #[test]
    fn reading_creates_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = node_dir(&tmp);
        let e = NodeError::from(dir.open(Mode::ReadOnly).err().unwrap());
        assert!(matches!(e, NodeError::Open(_)), "{e:?}");
        assert!(
            e.to_string()
                .starts_with(&format!("opening {}: ", dir.db().display())),
            "{e}"
        );
        assert!(!dir.db().exists() && !dir.lock().exists());
    }
}
