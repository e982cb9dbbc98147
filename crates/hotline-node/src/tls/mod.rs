//! Node-to-node transport: TLS 1.3 (RFC 8446) with both sides' keys pinned,
//! and HTTP/1.1 over it.
//!
//! Parties exchange their keys out of band, as the hotline agreement does, so
//! there is no certificate authority to ask: each node holds a self-signed
//! certificate ([`TlsIdentity`]) and accepts a peer only if the SHA-256 of the
//! peer certificate's SubjectPublicKeyInfo is pinned. That pin is the one
//! HTTP public key pinning (RFC 7469 `pin-sha256`) defined and the one
//! `curl --pinnedpubkey sha256//<pin>` takes, so an operator can talk to a
//! node with curl and nothing of ours:
//!
//! ```text
//! curl --pinnedpubkey sha256//<server pin> --cert DIR/keys/tls.crt --key DIR/keys/tls.key \
//!      -k https://peer.example:8443/...
//! ```
//!
//! (`-k` only switches off curl's CA check, which has no CA to use; the pin is
//! still enforced.)
//!
//! - [`identity`]: this node's key and certificate, on disk as PEM.
//! - [`pinned`]: the pins this node accepts ([`PinSet`]) and the rustls
//!   configurations that enforce them ([`server_config`], [`client_config`]).
//! - [`server`]: [`serve_peers`], the peer listener, which tells each request
//!   which party sent it ([`PeerParty`]).
//! - [`client`]: [`PeerClient`], a keep-alive client to one peer.
//! - `http1`: one HTTP/1.1 connection served until its client leaves or
//!   the node stops, on the API's listener and on the peer link alike.
//!
//! Only TLS 1.3 is offered, and session resumption is off on both sides, so
//! every connection runs the full handshake and so the pin check: a pin
//! removed from the [`PinSet`] cannot come back through a session ticket.
//! Certificate validity dates are not checked: the pin is the trust, and a key
//! is retired by removing its pin, not by waiting for a date.

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use rustls_pki_types::CertificateDer;
use sha2::{Digest, Sha256};

pub mod client;
pub mod handshakes;
mod http1;
pub mod https;
pub mod identity;
pub mod pinned;
pub mod server;

pub use client::{PeerClient, peer_address};
pub use https::ApiCert;
pub use identity::TlsIdentity;
pub use pinned::{PinSet, client_config, server_config};
pub use server::{PeerParty, serve_peers};

/// The only HTTP version spoken between nodes, announced with ALPN (RFC 7301)
/// so that a client offering only HTTP/2 is refused during the handshake
/// rather than half-way through a request.
pub(crate) const ALPN_HTTP11: &[u8] = b"http/1.1";

/// Why a TLS transport operation failed; each variant says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// Making a new key or certificate failed (the system's random source or
    /// the certificate encoder failed; nothing was written).
    #[error("generating the TLS key and certificate failed, nothing was written: {0}")]
    Generate(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A key or certificate file could not be read.
    #[error("reading {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Saving would overwrite an existing TLS key.
    #[error(
        "{} already exists; refusing to overwrite this node's TLS key (its peers have pinned it). Move it away first to make a new one",
        path.display()
    )]
    Exists {
        /// The existing file.
        path: PathBuf,
    },
    /// A key or certificate file could not be written.
    #[error("writing {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file does not hold what it should.
    #[error(
        "{} does not hold a usable {what}: {reason}; restore it from a backup of the node directory",
        path.display()
    )]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What it should hold ("PEM private key", "PEM certificate").
        what: &'static str,
        /// What is wrong with it: the parser's or the crypto provider's error,
        /// or a sentence where nothing failed but something is missing.
        #[source]
        reason: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The key file and the certificate file are not a pair.
    #[error(
        "{} and {} do not belong together (the certificate is for another key); restore the matching pair from a backup",
        key.display(),
        cert.display()
    )]
    KeyMismatch {
        /// The key file.
        key: PathBuf,
        /// The certificate file.
        cert: PathBuf,
    },
    /// A string given as a pin is not one.
    #[error(
        "{pin:?} is not a key pin: a pin is the base64 of a SHA-256 digest (44 characters ending in '='), as `hotline keys export` prints it"
    )]
    BadPin {
        /// The string.
        pin: String,
    },
    /// rustls refused the configuration (a bug in this module, or a key type
    /// the ring provider cannot sign with).
    #[error("building the TLS configuration failed: {0}")]
    Config(#[source] rustls::Error),
    /// The peer address is not an `https://HOST:PORT` URL.
    #[error("{url:?} is not a peer address: {reason} (expected https://HOST:PORT)")]
    BadUrl {
        /// The address given.
        url: String,
        /// What is wrong with it: the URL parser's error, or a sentence.
        #[source]
        reason: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The server at the peer's address has another key than the pinned one.
    #[error(
        "the server at {url} presented key sha256//{got}, but the peer's pinned key is sha256//{expected}; if the peer has a new key, pin it again with `hotline peer add`; otherwise something else answers at that address"
    )]
    PeerKeyMismatch {
        /// The peer address.
        url: String,
        /// The pin we expected.
        expected: String,
        /// The pin the server presented.
        got: String,
    },
    /// The peer refused our certificate during the handshake.
    #[error(
        "the peer at {url} refused this node's TLS certificate ({alert}): it has not pinned this node's key; its operator must add our pin (`hotline keys export`)"
    )]
    RefusedByPeer {
        /// The peer address.
        url: String,
        /// The TLS alert it sent.
        alert: String,
    },
    /// No TLS connection to the peer could be made (refused, unreachable,
    /// reset, handshake failed for another reason).
    #[error("cannot connect to the peer at {url}: {reason}")]
    Connect {
        /// The peer address.
        url: String,
        /// What failed, with its causes.
        reason: String,
    },
    /// The connection broke during the request, or the peer sent something
    /// that is not HTTP/1.1.
    #[error("the request to the peer at {url} failed: {reason}")]
    Request {
        /// The peer address.
        url: String,
        /// What failed, with its causes.
        reason: String,
    },
    /// The peer did not answer in time.
    #[error("the peer at {url} did not answer within {timeout:?}; it may be down or the link cut")]
    Timeout {
        /// The peer address.
        url: String,
        /// The per-request timeout.
        timeout: Duration,
    },
    /// The peer's response body is larger than this client accepts.
    #[error("the peer at {url} sent a response body over {limit} bytes; it was refused")]
    ResponseTooLarge {
        /// The peer address.
        url: String,
        /// The limit.
        limit: usize,
    },
}

/// The pin of a certificate: base64 (standard, padded) of the SHA-256 of its
/// DER SubjectPublicKeyInfo — exactly what `curl --pinnedpubkey sha256//…`
/// takes. Pinning the key rather than the certificate lets a party re-issue
/// its certificate (new dates, new name) without telling its peers.
///
/// # Errors
///
/// The certificate cannot be parsed as X.509.
pub fn cert_pin(cert: &CertificateDer<'_>) -> Result<String, webpki::Error> {
    let ee = webpki::EndEntityCert::try_from(cert)?;
    Ok(spki_pin(ee.subject_public_key_info().as_ref()))
}

/// `e` and its causes, "outer: inner: innermost", looking inside
/// `io::Error`s too (their `source()` skips the error they wrap). Client
/// errors say little at the top ("client error (Connect)"); the cause is the
/// useful part ("Connection refused").
pub(crate) fn causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = inner(e);
    while let Some(err) = next {
        let text = err.to_string();
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = inner(err);
    }
    out
}

/// The error `e` wraps: an `io::Error`'s payload, or else `source()`.
pub(crate) fn inner<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a (dyn std::error::Error + 'static)> {
    match e
        .downcast_ref::<std::io::Error>()
        .and_then(std::io::Error::get_ref)
    {
        Some(payload) => Some(payload),
        None => e.source(),
    }
}

/// The rustls error somewhere in `e`'s chain.
pub(crate) fn find_rustls_error<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::Error> {
    let mut next = Some(e);
    while let Some(err) = next {
        if let Some(r) = err.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        next = inner(err);
    }
    None
}

/// The pin of a DER SubjectPublicKeyInfo.
pub(crate) fn spki_pin(spki_der: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(spki_der))
}

/// Checks that `pin` has the form of a pin (base64 of 32 bytes), so that a
/// typo is reported rather than silently never matching.
///
/// # Errors
///
/// [`TlsError::BadPin`] if it does not.
pub fn check_pin(pin: &str) -> Result<(), TlsError> {
    match base64::engine::general_purpose::STANDARD.decode(pin) {
        Ok(bytes) if bytes.len() == 32 => Ok(()),
        _ => Err(TlsError::BadPin {
            pin: pin.to_owned(),
        }),
    }
}
