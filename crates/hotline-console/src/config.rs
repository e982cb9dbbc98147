//! The console's section of hotline.toml, `[console]`: how long an
//! operator's session lasts and how sign-ins are throttled.
//!
//! The node keeps the section as an opaque table, so that its own
//! configuration needs no word of the console; the fields are read here,
//! from the file itself, so that a bad value is reported as before, with
//! its line in hotline.toml, and `hotline serve` stops at start.

use std::path::PathBuf;

use hotline_node::dir::NodeDir;
use serde::{Deserialize, Serialize};

/// Why the `[console]` section could not be read; the words name the file
/// (and, for a bad value, its line).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// hotline.toml.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not TOML, or a value in the section is not one this
    /// version knows.
    #[error("{}: {source}", path.display())]
    Parse {
        /// hotline.toml.
        path: PathBuf,
        /// Where and why.
        #[source]
        source: toml::de::Error,
    },
}

/// The web console: how long an operator's session lasts and how sign-ins
/// are throttled.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleConfig {
    /// A session ends after this many seconds without a request.
    pub session_idle_secs: u64,
    /// A session ends this many seconds after login, however busy.
    pub session_max_secs: u64,
    /// Sign-in attempts one client address may make before it has to wait
    /// between attempts (0: no limit per address). Counted per address, not
    /// per operator, so that nobody can lock someone else out; the old name
    /// `lockout_failures` is still read.
    #[serde(alias = "lockout_failures")]
    pub login_attempts: u32,
    /// The longest a throttled address waits between attempts, in seconds;
    /// an address quiet for as long again is forgotten. The old name
    /// `lockout_secs` is still read.
    #[serde(alias = "lockout_secs")]
    pub login_wait_secs: u64,
    /// Passwords checked at once (each Argon2id check holds 19 MiB); more
    /// attempts wait a moment or are answered 429.
    pub login_checks: u32,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            session_idle_secs: 12 * 60 * 60,
            session_max_secs: 24 * 60 * 60,
            login_attempts: 5,
            login_wait_secs: 15 * 60,
            login_checks: 2,
        }
    }
}

/// hotline.toml as the console reads it: its own section, and nothing of
/// the rest (the node checks that).
#[derive(Deserialize)]
struct File {
    #[serde(default)]
    console: ConsoleConfig,
}

impl ConsoleConfig {
    /// The `[console]` section of the hotline.toml in `dir` (the defaults
    /// where it has none).
    ///
    /// # Errors
    ///
    /// The file cannot be read, or a value in the section is not one this
    /// version knows; the message names the file and the line.
    pub fn read(dir: &NodeDir) -> Result<Self, ConfigError> {
        let path = dir.config();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(source) => return Err(ConfigError::Read { path, source }),
        };
        toml::from_str::<File>(&text)
            .map(|f| f.console)
            .map_err(|source| ConfigError::Parse { path, source })
    }

    /// The defaults as a `[console]` table, for `hotline init` to write
    /// into a new hotline.toml.
    pub fn default_table() -> toml::Table {
        toml::Table::try_from(Self::default()).unwrap_or_default()
    }
}
