//! A node's directory: configuration, keys, database, and run-time files.
//!
//! ```text
//! DIR/hotline.toml           configuration
//! DIR/hotline.db             SQLite store (WAL)
//! DIR/keys/log.key           party log key (C2SP skey, mode 0600)
//! DIR/keys/witness.key       cosigner key (C2SP skey, mode 0600)
//! DIR/keys/offices/*.json    office keys (mode 0600)
//! DIR/keys/tls.key, tls.crt  the peer link's TLS key (mode 0600) and certificate
//! DIR/peers/*.json           pinned identities of other parties
//! DIR/api.token              bearer token for the local API (mode 0600)
//! DIR/run/api.addr           address the running node's API listens on
//! DIR/node.lock              held while a process writes the log
//! ```

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Paths inside a node directory.
#[derive(Clone, Debug)]
pub struct NodeDir {
    root: PathBuf,
}

/// The node's configuration file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// This party's name.
    pub party: String,
    /// The log origin (checkpoint first line, log key name).
    pub origin: String,
    /// The cosigner key's name.
    pub witness_name: String,
    /// Where the API listens by default.
    pub listen: String,
    /// Where the pinned-TLS peer listener listens by default.
    #[serde(default = "default_peer_listen")]
    pub peer_listen: String,
    /// Seconds between cosignature requests to each witness, even when nothing is sent.
    #[serde(default = "default_cosign_interval")]
    pub cosign_interval_secs: u64,
    /// How far in the future of this node's clock an entry may be dated, in seconds.
    #[serde(default = "default_skew")]
    pub max_clock_skew_secs: u64,
    /// Limits on what the node accepts.
    #[serde(default)]
    pub limits: Limits,
    /// The web console's sessions and lock-out.
    #[serde(default)]
    pub console: ConsoleConfig,
    /// Live calls between consoles.
    #[serde(default)]
    pub calls: CallsConfig,
}

/// Live calls: media flows directly between the two operators' browsers
/// (WebRTC, DTLS-SRTP); the nodes only relay the signalling. Across real
/// networks browsers need STUN to learn their public address and TURN to
/// relay media through firewalls; on one machine or a flat network, none.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallsConfig {
    /// The ICE servers handed to the browsers, as WebRTC's `RTCIceServer`:
    /// `[[calls.ice_servers]]` with `urls = ["stun:stun.example.org:3478"]`,
    /// or a TURN server with `username` and `credential`.
    #[serde(default)]
    pub ice_servers: Vec<IceServer>,
}

/// One STUN or TURN server (WebRTC `RTCIceServer`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IceServer {
    /// `stun:HOST:PORT`, `turn:HOST:PORT?transport=udp`, `turns:…`.
    pub urls: Vec<String>,
    /// TURN user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// TURN password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

fn default_peer_listen() -> String {
    "127.0.0.1:7701".into()
}

fn default_skew() -> u64 {
    300
}

fn default_cosign_interval() -> u64 {
    60
}

/// Limits on input, stated so that errors can quote them.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Largest message text, in bytes of UTF-8.
    pub max_text_bytes: usize,
    /// Largest API request body, in bytes.
    pub max_request_bytes: usize,
    /// Most receipts one peer may make this node owe per window (0: no
    /// limit). Every entry addressed to one of this party's offices costs the
    /// receiver a receipt in its own log, so without a bound a peer could grow
    /// this log as fast as it can sign; a push beyond the budget is answered
    /// 429 and the sender retries after the window.
    #[serde(default = "default_receipts_per_window")]
    pub max_receipts_per_window: u64,
    /// The window of `max_receipts_per_window`, in seconds.
    #[serde(default = "default_receipt_window")]
    pub receipt_window_secs: u64,
}

fn default_receipts_per_window() -> u64 {
    6000
}

fn default_receipt_window() -> u64 {
    60
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_text_bytes: 64 * 1024,
            max_request_bytes: 1024 * 1024,
            max_receipts_per_window: default_receipts_per_window(),
            receipt_window_secs: default_receipt_window(),
        }
    }
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

impl NodeDir {
    /// A node directory at `root` (which may not exist yet).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }
    /// `hotline.toml`.
    pub fn config(&self) -> PathBuf {
        self.root.join("hotline.toml")
    }
    /// The SQLite database.
    pub fn db(&self) -> PathBuf {
        self.root.join("hotline.db")
    }
    /// The party log key.
    pub fn log_key(&self) -> PathBuf {
        self.root.join("keys/log.key")
    }
    /// The cosigner key.
    pub fn witness_key(&self) -> PathBuf {
        self.root.join("keys/witness.key")
    }
    /// Office key directory.
    pub fn offices(&self) -> PathBuf {
        self.root.join("keys/offices")
    }
    /// Pinned peers directory.
    pub fn peers(&self) -> PathBuf {
        self.root.join("peers")
    }
    /// API bearer token.
    pub fn api_token(&self) -> PathBuf {
        self.root.join("api.token")
    }
    /// Address file written by a running node.
    pub fn api_addr(&self) -> PathBuf {
        self.root.join("run/api.addr")
    }
    /// TLS private key (PEM, mode 0600).
    pub fn tls_key(&self) -> PathBuf {
        self.root.join("keys/tls.key")
    }
    /// TLS certificate (PEM).
    pub fn tls_cert(&self) -> PathBuf {
        self.root.join("keys/tls.crt")
    }
    /// Address file of the running node's peer listener.
    pub fn peer_addr(&self) -> PathBuf {
        self.root.join("run/peer.addr")
    }
    /// Writer lock.
    pub fn lock(&self) -> PathBuf {
        self.root.join("node.lock")
    }

    /// Reads the configuration, saying what to do if there is none.
    pub fn read_config(&self) -> std::io::Result<Config> {
        let text = fs::read_to_string(self.config()).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                std::io::Error::new(
                    e.kind(),
                    format!(
                        "{} is not a hotline node directory (no hotline.toml); create one with `hotline init --party NAME --dir {}`",
                        self.root.display(),
                        self.root.display()
                    ),
                )
            } else {
                e
            }
        })?;
        toml::from_str(&text)
            .map_err(|e| std::io::Error::other(format!("{}: {e}", self.config().display())))
    }

    /// Takes the writer lock, or reports that another process holds it.
    pub fn try_lock(&self) -> std::io::Result<Option<File>> {
        let f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.lock())?;
        match f.try_lock() {
            Ok(()) => Ok(Some(f)),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    }
}

/// Writes a secret file with mode 0600, refusing to overwrite one.
pub fn write_secret(path: &Path, contents: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(contents.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()
}

/// Writes a file atomically (write to a temporary file, then rename).
pub fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    let tmp = path.with_extension("tmp");
    {
        let mut f = File::create(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
    }
    fs::rename(tmp, path)
}
