//! The pins this node accepts, and the rustls configurations that enforce
//! them in place of a certificate authority.
//!
//! rustls calls a verifier that does not chain to a root "dangerous" (its
//! `danger` modules); here that verifier *is* the authentication, and it is
//! stricter than a CA check: one exact key per peer, nothing else. The TLS
//! 1.3 handshake signature is still checked against the pinned key by
//! rustls's own `verify_tls13_signature`, so presenting someone else's
//! certificate without its private key fails.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use rustls::client::Resumption;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::server::NoServerSessionStorage;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::sign::SingleCertAndKey;
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, DistinguishedName, OtherError,
    ServerConfig, SignatureScheme,
};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use super::identity::{TlsIdentity, provider};
use super::{ALPN_HTTP11, TlsError, cert_pin, check_pin};

/// The pins of the peers this node accepts, each with its party's name.
///
/// Shared (cheap to clone, every clone sees the same set) and updatable at
/// run time: a peer pinned with `hotline peer add` while the node runs is
/// accepted on its next connection, without a restart, because the server
/// configuration consults this set on every handshake. A party may have
/// several pins (while it rotates its key); a pin belongs to one party.
#[derive(Clone, Debug, Default)]
pub struct PinSet {
    inner: Arc<RwLock<HashMap<String, String>>>,
}

impl PinSet {
    /// An empty set: no peer is accepted.
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepts the key with pin `pin` as party `party` from the next
    /// handshake on, replacing what the pin meant before. A string that is
    /// not a pin never matches anything; check input with
    /// [`check_pin`](super::check_pin).
    pub fn insert(&self, pin: String, party: String) {
        self.inner
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(pin, party);
    }

    /// Stops accepting the key with pin `pin` on new connections, and returns
    /// the party it belonged to. Connections already open stay open until
    /// they close (pause the listener to cut them).
    pub fn remove(&self, pin: &str) -> Option<String> {
        self.inner
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(pin)
    }

    /// The party whose key has pin `pin`, if it is accepted.
    pub fn party_of(&self, pin: &str) -> Option<String> {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(pin)
            .cloned()
    }
}

/// The server side of the peer link: TLS 1.3 only; asks for and requires a
/// client certificate whose key's pin is in `pins` at the time of the
/// handshake; anything else fails the handshake with a `certificate_unknown`
/// alert. Presents `id`'s certificate. Speaks only HTTP/1.1 (ALPN), keeps no
/// sessions for resumption (so every connection re-checks the pin).
///
/// # Errors
///
/// [`TlsError::Config`] if rustls refuses the configuration.
pub fn server_config(id: &TlsIdentity, pins: PinSet) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = provider();
    let algs = provider.signature_verification_algorithms;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(TlsError::Config)?
        .with_client_cert_verifier(Arc::new(PinnedClients { pins, algs }))
        .with_cert_resolver(Arc::new(SingleCertAndKey::from(id.certified_key())));
    config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
    config.session_storage = Arc::new(NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
    Ok(Arc::new(config))
}

/// The client side of the peer link: TLS 1.3 only; presents `id`'s
/// certificate; accepts the server only if its key's pin equals
/// `expected_pin`. No CA and no host-name check: the pin replaces both, so
/// the peer may be reached by IP address or any name. No session resumption.
///
/// # Errors
///
/// [`TlsError::BadPin`] if `expected_pin` is not a pin; [`TlsError::Config`]
/// if rustls refuses the configuration.
pub fn client_config(id: &TlsIdentity, expected_pin: &str) -> Result<Arc<ClientConfig>, TlsError> {
    check_pin(expected_pin)?;
    let provider = provider();
    let algs = provider.signature_verification_algorithms;
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(TlsError::Config)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedServer {
            expected: expected_pin.to_owned(),
            algs,
        }))
        .with_client_cert_resolver(Arc::new(SingleCertAndKey::from(id.certified_key())));
    config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
    config.resumption = Resumption::disabled();
    Ok(Arc::new(config))
}

/// A client presented a key whose pin is not in the set. Carried inside the
/// rustls error so that the server's log says which key knocked.
#[derive(Debug, thiserror::Error)]
#[error(
    "the client's key sha256//{pin} is not pinned; if it is a peer's (new) key, pin it with `hotline peer add`"
)]
pub struct UnknownPin {
    /// The pin the client presented.
    pub pin: String,
}

/// The server presented another key than the pinned one. Carried inside the
/// rustls error; [`PeerClient`](super::PeerClient) turns it into
/// [`TlsError::PeerKeyMismatch`].
#[derive(Debug, thiserror::Error)]
#[error("the server's key is sha256//{got}, not the pinned sha256//{expected}")]
pub struct PinMismatch {
    /// The pinned key.
    pub expected: String,
    /// The key the server presented.
    pub got: String,
}

/// Server side: a client is accepted iff its certificate's pin is in the set.
struct PinnedClients {
    pins: PinSet,
    algs: WebPkiSupportedAlgorithms,
}

/// Client side: the server is accepted iff its certificate's pin is `expected`.
struct PinnedServer {
    expected: String,
    algs: WebPkiSupportedAlgorithms,
}

impl std::fmt::Debug for PinnedClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PinnedClients")
            .field("pins", &self.pins)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for PinnedServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PinnedServer")
            .field("expected", &self.expected)
            .finish_non_exhaustive()
    }
}

/// The pin of a peer's certificate, or the error rustls expects for a
/// certificate it cannot parse.
fn peer_pin(cert: &CertificateDer<'_>) -> Result<String, rustls::Error> {
    cert_pin(cert).map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))
}

fn refuse(reason: impl std::error::Error + Send + Sync + 'static) -> rustls::Error {
    rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(reason))))
}

/// Only TLS 1.3 is offered, so rustls never asks for a TLS 1.2 signature;
/// refuse if it ever does.
fn no_tls12() -> rustls::Error {
    rustls::Error::General("TLS 1.2 is not offered on the peer link".into())
}

/// The handshake-signature half of both verifiers, the same on either side:
/// a TLS 1.3 signature checked with the provider's algorithms (`self.algs`),
/// a TLS 1.2 one refused.
macro_rules! tls13_signatures {
    () => {
        fn verify_tls12_signature(
            &self,
            _message: &[u8],
            _cert: &CertificateDer<'_>,
            _dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            Err(no_tls12())
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.algs.supported_schemes()
        }
    };
}

impl ClientCertVerifier for PinnedClients {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        // No CA names to hint: a client sends the one certificate it has.
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let pin = peer_pin(end_entity)?;
        if self.pins.party_of(&pin).is_some() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(refuse(UnknownPin { pin }))
        }
    }

    tls13_signatures!();
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let got = peer_pin(end_entity)?;
        // Pins are public values: no need for a constant-time comparison.
        if got == self.expected {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(refuse(PinMismatch {
                expected: self.expected.clone(),
                got,
            }))
        }
    }

    tls13_signatures!();
}
