//! A node's directory: configuration, keys, database, and run-time files.
//!
//! ```text
//! DIR/hotline.toml           configuration
//! DIR/hotline.db             SQLite store (WAL), unless `[store] url` names a PostgreSQL database
//! DIR/console.sqlite3        the console's operators, sessions, read marks (hotline-console; mode 0600)
//! DIR/keys/log.key           party log key (C2SP skey, mode 0600)
//! DIR/keys/witness.key       cosigner key (C2SP skey, mode 0600)
//! DIR/keys/offices/*.json    office keys (mode 0600)
//! DIR/keys/tls.key, tls.crt  the peer link's TLS key (mode 0600) and certificate
//! DIR/keys/api.key, api.crt  the API's and console's HTTPS key (mode 0600) and certificate
//! DIR/peers/*.json           pinned identities of other parties
//! DIR/api.token              bearer token for the local API (mode 0600)
//! DIR/run/                   run-time files of the running node (mode 0700)
//! DIR/run/api.addr           address the running node's API listens on
//! DIR/run/api.sock           the API for the CLI on this machine (Unix socket, mode 0600)
//! DIR/node.lock              held while a process writes the log
//! ```
//!
//! Every process opens one through [`NodeDir::open`], reading or writing
//! (`open`), on the store engine that `[store]` names (`engine`).

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub(crate) mod engine;
mod open;

pub use engine::StoreAt;
pub use open::{Mirror, Mode, OpenDir, OpenError, WriterLock, mirrors_in};

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
    /// The web console's section, kept as written: the console crate
    /// reads its fields, so the node neither knows nor checks them.
    #[serde(default, skip_serializing_if = "toml::Table::is_empty")]
    pub console: toml::Table,
    /// Live calls between consoles.
    #[serde(default)]
    pub calls: CallsConfig,
    /// How the API and console are served: HTTPS, the Host allow-list.
    #[serde(default, skip_serializing_if = "ApiConfig::is_default")]
    pub api: ApiConfig,
    /// Where the log is stored: SQLite in the directory unless a PostgreSQL URL is set.
    #[serde(default, skip_serializing_if = "StoreConfig::is_default")]
    pub store: StoreConfig,
    /// Who may read the C2SP tlog-tiles under `/tiles/` (see `docs/tiles.md`).
    #[serde(default, skip_serializing_if = "TilesConfig::is_default")]
    pub tiles: TilesConfig,
    /// How pushes and cosignature requests to each peer are grouped under
    /// load (see `docs/federation.md`).
    #[serde(default, skip_serializing_if = "FederationConfig::is_default")]
    pub federation: FederationConfig,
    /// C2SP witnesses this node submits its checkpoints to (`[[witnesses]]`,
    /// `hotline witness add`; see `docs/witnesses.md`). Last: an array of
    /// tables follows every plain key in TOML.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub witnesses: Vec<WitnessConfig>,
}

/// `[[witnesses]]`: one C2SP tlog-witness, not a hotline node, that
/// cosigns this party's checkpoints (a neutral third witness).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessConfig {
    /// The witness's submission prefix: the node POSTs `URL/add-checkpoint`.
    pub url: String,
    /// Its `cosignature/v1` verifier key (C2SP vkey); the key's name is the
    /// witness's name in status, metrics and bundles.
    pub key: String,
}

/// `[tiles]`: access to the C2SP tlog-tiles the API serves under `/tiles/`.
/// Without this section they need a read token (`hotline tiles token`) or
/// the API token.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TilesConfig {
    /// Serve checkpoints, tiles and bundles to anyone, without a token.
    pub public: bool,
    /// A file (relative to the node directory, or absolute) whose contents,
    /// trimmed, are one more read token: for a token the operator manages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_file: Option<PathBuf>,
}

impl TilesConfig {
    fn is_default(&self) -> bool {
        !self.public && self.token_file.is_none()
    }
}

/// `[federation]`: how the work each peer costs is grouped when entries
/// come faster than one push, one receipt and one cosignature each.
///
/// A push carries every entry appended since the last, and a peer cosigns
/// the latest checkpoint, which covers all before it; so under a stream of
/// appends, a short wait lets one round do the work of several. A round
/// after a quiet spell goes at once: the gap only ever delays work that
/// follows other work within it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FederationConfig {
    /// The least time between two pushes to one peer, in milliseconds.
    pub push_gap_ms: u64,
    /// The least time between two cosignature requests to one peer, in
    /// milliseconds (the fixed `cosign_interval_secs` goes on regardless).
    pub cosign_gap_ms: u64,
}

impl Default for FederationConfig {
    fn default() -> Self {
        Self {
            push_gap_ms: 25,
            cosign_gap_ms: 250,
        }
    }
}

impl FederationConfig {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// The store's engine. Without a `url`, SQLite in `hotline.db`, the
/// embedded default for one machine; with one (`hotline init --store URL`),
/// PostgreSQL, for a party that outgrows one machine. Either way the writer
/// lock is `node.lock` in this directory: until the sequencer lease exists,
/// one directory (not one database) is what makes one writer.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// A `postgresql://USER@HOST:PORT/DB` URL or libpq `key=value` string.
    /// It may hold a password (this file is mode 0600); nothing shows it
    /// but this file: logs, status and errors use [`postgres::redact`](crate::store::postgres::redact).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Replicas on a shared database: the sequencer lease's time to live,
    /// in seconds (default 3). A replica whose holder died takes over
    /// within about this long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_secs: Option<f64>,
    /// This replica's name as `hotline status` shows the lease holder
    /// (default: the host name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica: Option<String>,
    /// Where the other replicas reach this one's peer link, when the peer
    /// listen address is not it (`0.0.0.0`, a proxy): `https://HOST:PORT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_url: Option<String>,
}

impl StoreConfig {
    /// SQLite: `init` then writes no `[store]` table, so the file reads as before PostgreSQL.
    fn is_default(&self) -> bool {
        self.url.is_none()
            && self.lease_secs.is_none()
            && self.replica.is_none()
            && self.replica_url.is_none()
    }
}

/// Never the URL itself, which may hold a password.
impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreConfig")
            .field(
                "url",
                &self.url.as_deref().map(crate::store::postgres::redact),
            )
            .finish()
    }
}

/// The API address: HTTPS from the node's own certificate, or from the
/// files named here. Off loopback the API and console always speak HTTPS
/// (the token, passwords and session cookies would otherwise cross the
/// network readable), unless `insecure_plain_http` says otherwise; on
/// loopback plain HTTP stays the default, since nothing crosses a network
/// there, browsers treat `http://127.0.0.1` as a secure context, and the CLI
/// uses the Unix socket in `run/` anyway.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// `true`: HTTPS even on loopback; `false`: plain HTTP (refused off
    /// loopback without `insecure_plain_http`); unset: HTTPS except on loopback.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<bool>,
    /// The certificate chain (PEM, the server's first), relative to the node
    /// directory or absolute; default `keys/api.crt`, made by `hotline init`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    /// Its private key (PEM); default `keys/api.key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
    /// Serve plain HTTP on a non-loopback address (`--insecure-plain-http`):
    /// only on a network where every machine may read the token.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub insecure_plain_http: bool,
    /// Host names (or addresses) the API answers to besides `localhost`,
    /// the loopback addresses, the listen address and the certificate's
    /// names; any other `Host` is answered 421 (DNS rebinding).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_hosts: Vec<String>,
}

impl ApiConfig {
    /// Nothing set: `init` then writes no `[api]` table, for the operator to add.
    fn is_default(&self) -> bool {
        self.tls.is_none()
            && self.tls_cert.is_none()
            && self.tls_key.is_none()
            && !self.insecure_plain_http
            && self.allowed_hosts.is_empty()
    }
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
    /// Most connections to the peer port that may be in their TLS handshake
    /// at once; when one more arrives, the one waiting longest is dropped.
    /// Kept apart from pinned sessions, so strangers' idle sockets cannot
    /// keep a pinned peer out.
    #[serde(default = "default_peer_handshakes")]
    pub peer_max_handshakes: usize,
    /// Seconds a connection to the peer port may take to finish its TLS
    /// handshake before it is closed.
    #[serde(default = "default_peer_handshake_timeout")]
    pub peer_handshake_timeout_secs: u64,
}

fn default_peer_handshakes() -> usize {
    crate::tls::server::MAX_HANDSHAKES
}

fn default_peer_handshake_timeout() -> u64 {
    crate::tls::server::HANDSHAKE_TIMEOUT.as_secs()
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
            peer_max_handshakes: default_peer_handshakes(),
            peer_handshake_timeout_secs: default_peer_handshake_timeout(),
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
    /// The running node's API as a Unix socket, for the CLI: only this
    /// directory's owner can reach it, so the token sent over it reaches
    /// the node and nobody who took over a TCP port after a crash.
    pub fn api_sock(&self) -> PathBuf {
        self.root.join("run/api.sock")
    }
    /// Run-time files.
    pub fn run(&self) -> PathBuf {
        self.root.join("run")
    }
    /// The API's TLS certificate: `[api] tls_cert`, or `keys/api.crt`.
    pub fn api_cert(&self, config: &ApiConfig) -> PathBuf {
        self.inside(config.tls_cert.as_deref(), "keys/api.crt")
    }
    /// The API's TLS key: `[api] tls_key`, or `keys/api.key`.
    pub fn api_key(&self, config: &ApiConfig) -> PathBuf {
        self.inside(config.tls_key.as_deref(), "keys/api.key")
    }
    fn inside(&self, given: Option<&Path>, default: &str) -> PathBuf {
        match given {
            Some(p) if p.is_absolute() => p.to_owned(),
            Some(p) => self.root.join(p),
            None => self.root.join(default),
        }
    }
    /// Address file of the running node's peer listener.
    pub fn peer_addr(&self) -> PathBuf {
        self.root.join("run/peer.addr")
    }
    /// Writer lock.
    pub fn lock(&self) -> PathBuf {
        self.root.join("node.lock")
    }
}

/// Creates the directory `path` (and missing parents) and makes it mode
/// 0700 whatever the umask: what is in a node directory is for the node
/// alone.
pub fn create_private_dir(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o700))
}

/// Creates (or opens) a file mode 0600 whatever the umask.
fn create_private_file(path: &Path, new: bool) -> std::io::Result<File> {
    use std::os::unix::fs::PermissionsExt as _;
    let f = OpenOptions::new()
        .write(true)
        .create(true)
        .create_new(new)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.set_permissions(fs::Permissions::from_mode(0o600))?;
    Ok(f)
}

/// Writes a secret file with mode 0600, refusing to overwrite one.
pub fn write_secret(path: &Path, contents: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent()
        && !parent.exists()
    {
        create_private_dir(parent)?;
    }
    let mut f = create_private_file(path, true)?;
    f.write_all(contents.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()
}

/// Writes a file atomically (write to a temporary file, then rename), mode
/// 0600.
pub fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent()
        && !parent.exists()
    {
        create_private_dir(parent)?;
    }
    let tmp = path.with_extension("tmp");
    {
        let mut f = create_private_file(&tmp, false)?;
        f.write_all(contents)?;
        f.sync_all()?;
    }
    fs::rename(tmp, path)
}
