//! This node's TLS key and self-signed certificate.
//!
//! ```text
//! DIR/keys/tls.key   Ed25519 private key, PKCS#8 v1, PEM (RFC 7468 "PRIVATE KEY"), mode 0600
//! DIR/keys/tls.crt   self-signed X.509 certificate, PEM ("CERTIFICATE")
//! ```
//!
//! Both are plain PEM so that `curl --cert tls.crt --key tls.key` and
//! `openssl` read them as they are.

use std::path::Path;
use std::sync::Arc;

use rand_core::OsRng;
use rand_core::TryRngCore as _;
use rustls::crypto::CryptoProvider;
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use zeroize::Zeroizing;

use super::{TlsError, cert_pin};
use crate::dir::{write_atomic, write_secret};

/// This node's TLS key and self-signed certificate.
///
/// The key is Ed25519 (RFC 8410): small, fast, deterministic signatures, the
/// same algorithm as the party's log key, and accepted by rustls/ring and by
/// OpenSSL 3 (so by curl) as a TLS 1.3 client and server key. Peers pin its
/// public key ([`TlsIdentity::pin`]), not the certificate, so the certificate
/// carries no meaning beyond holding the key: its name is informative and its
/// validity runs from 1975 to 4096.
pub struct TlsIdentity {
    cert_pem: String,
    /// Kept only to [`save`](Self::save) it; wiped on drop.
    key_pem: Zeroizing<String>,
    certified: Arc<CertifiedKey>,
    pin: String,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity")
            .field("pin", &self.pin)
            .finish_non_exhaustive()
    }
}

impl TlsIdentity {
    /// Makes a new Ed25519 key (from the operating system's random source)
    /// and a self-signed certificate for it, with subject `CN=hotline <party>`.
    /// The key is written as PKCS#8 v1, the form OpenSSL reads.
    ///
    /// # Errors
    ///
    /// [`TlsError::Generate`] if the random source or the encoder fails.
    pub fn generate(party: &str) -> Result<Self, TlsError> {
        let mut seed = Zeroizing::new([0u8; 32]);
        OsRng
            .try_fill_bytes(&mut seed[..])
            .map_err(|e| TlsError::Generate(format!("the system's random source: {e}").into()))?;
        let mut pkcs8 = Zeroizing::new(Vec::with_capacity(ED25519_PKCS8_V1_PREFIX.len() + 32));
        pkcs8.extend_from_slice(&ED25519_PKCS8_V1_PREFIX);
        pkcs8.extend_from_slice(&seed[..]);
        let key = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
            &PrivatePkcs8KeyDer::from(&pkcs8[..]),
            &rcgen::PKCS_ED25519,
        )
        .map_err(|e| TlsError::Generate(Box::new(e)))?;
        let mut params = rcgen::CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, format!("hotline {party}"));
        let cert = params
            .self_signed(&key)
            .map_err(|e| TlsError::Generate(Box::new(e)))?;
        let key_pem = Zeroizing::new(key.serialize_pem());
        let der = key_der(&key_pem).map_err(|e| generated_unusable(&KeyProblem::Key(e.into())))?;
        let certified =
            certified_key(cert.der().clone(), der).map_err(|reason| generated_unusable(&reason))?;
        Self::from_parts(cert.pem(), key_pem, certified)
            .map_err(|reason| generated_unusable(&reason))
    }

    /// Writes the key to `key_path` (mode 0600, never overwriting an existing
    /// key: peers have pinned it) and then the certificate to `cert_path`.
    ///
    /// # Errors
    ///
    /// [`TlsError::Exists`] if `key_path` exists; [`TlsError::Write`] if a
    /// file cannot be written.
    pub fn save(&self, key_path: &Path, cert_path: &Path) -> Result<(), TlsError> {
        write_secret(key_path, self.key_pem.trim_end()).map_err(|source| {
            if source.kind() == std::io::ErrorKind::AlreadyExists {
                TlsError::Exists {
                    path: key_path.to_owned(),
                }
            } else {
                TlsError::Write {
                    path: key_path.to_owned(),
                    source,
                }
            }
        })?;
        write_atomic(cert_path, self.cert_pem.as_bytes()).map_err(|source| TlsError::Write {
            path: cert_path.to_owned(),
            source,
        })
    }

    /// Reads a key and certificate written by [`save`](Self::save) (or any
    /// PKCS#8 Ed25519 or ECDSA key with its certificate, e.g. from openssl),
    /// and checks that they are a pair.
    ///
    /// # Errors
    ///
    /// [`TlsError::Read`], [`TlsError::BadFile`] or [`TlsError::KeyMismatch`].
    pub fn load(key_path: &Path, cert_path: &Path) -> Result<Self, TlsError> {
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|source| TlsError::Read {
                path: path.to_owned(),
                source,
            })
        };
        let key_pem = Zeroizing::new(read(key_path)?);
        let cert_pem = read(cert_path)?;
        let bad = |path: &Path, what, reason: Box<dyn std::error::Error + Send + Sync>| {
            TlsError::BadFile {
                path: path.to_owned(),
                what,
                reason,
            }
        };
        let key = key_der(&key_pem).map_err(|e| bad(key_path, "PEM private key", e.into()))?;
        let cert = CertificateDer::from_pem_slice(cert_pem.as_bytes())
            .map_err(|e| bad(cert_path, "PEM certificate", e.into()))?;
        let certified = match certified_key(cert, key) {
            Ok(c) => c,
            Err(KeyProblem::Mismatch) => {
                return Err(TlsError::KeyMismatch {
                    key: key_path.to_owned(),
                    cert: cert_path.to_owned(),
                });
            }
            Err(KeyProblem::Key(e)) => return Err(bad(key_path, "PEM private key", e)),
            Err(KeyProblem::Cert(e)) => return Err(bad(cert_path, "PEM certificate", e)),
        };
        Self::from_parts(cert_pem, key_pem, certified)
            .map_err(|e| bad(cert_path, "PEM certificate", e.into()))
    }

    /// base64(SHA-256(SubjectPublicKeyInfo DER)) of this node's key: what the
    /// peers pin, and exactly what `curl --pinnedpubkey sha256//<pin>` takes.
    pub fn pin(&self) -> &str {
        &self.pin
    }

    /// The certificate, PEM.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The certificate and signing key, as the rustls configurations take them.
    pub(crate) fn certified_key(&self) -> Arc<CertifiedKey> {
        self.certified.clone()
    }

    fn from_parts(
        cert_pem: String,
        key_pem: Zeroizing<String>,
        certified: CertifiedKey,
    ) -> Result<Self, KeyProblem> {
        let cert = certified
            .cert
            .first()
            .ok_or_else(|| KeyProblem::Cert("no certificate".into()))?;
        let pin = cert_pin(cert).map_err(|e| KeyProblem::Cert(e.into()))?;
        Ok(Self {
            cert_pem,
            key_pem,
            certified: Arc::new(certified),
            pin,
        })
    }
}

/// The DER of an Ed25519 private key in PKCS#8 v1, up to the 32-byte seed
/// that follows it (RFC 8410 section 7; the same bytes `openssl genpkey
/// -algorithm ed25519` writes):
///
/// ```text
/// SEQUENCE (46) { INTEGER 0, SEQUENCE { OID 1.3.101.112 }, OCTET STRING (34) { OCTET STRING (32) seed } }
/// ```
///
/// Written by hand because ring (and so rcgen) only writes PKCS#8 v2, with
/// the public key appended, which OpenSSL 3.0 — and so curl — cannot read.
const ED25519_PKCS8_V1_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// The ring provider this module uses everywhere (never the process default,
/// so that another crate's choice cannot change ours).
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Why a key and a certificate do not make a TLS identity; the loader says
/// which file, the generator that its own output was unusable.
#[derive(Debug, thiserror::Error)]
enum KeyProblem {
    #[error("key: {0}")]
    Key(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("certificate: {0}")]
    Cert(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the certificate is for another key")]
    Mismatch,
}

fn generated_unusable(reason: &KeyProblem) -> TlsError {
    TlsError::Config(rustls::Error::General(format!(
        "the freshly generated key and certificate are unusable: {reason}"
    )))
}

fn key_der(pem: &str) -> Result<PrivateKeyDer<'static>, rustls::pki_types::pem::Error> {
    PrivateKeyDer::from_pem_slice(pem.as_bytes())
}

/// Loads the key into the ring provider and checks that the certificate is
/// for that key.
fn certified_key(
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
) -> Result<CertifiedKey, KeyProblem> {
    let signing = provider()
        .key_provider
        .load_private_key(key)
        .map_err(|e| KeyProblem::Key(e.into()))?;
    let certified = CertifiedKey::new(vec![cert], signing);
    match certified.keys_match() {
        Ok(()) => Ok(certified),
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
            Err(KeyProblem::Mismatch)
        }
        // ring's keys all report their public key, so "unknown" cannot
        // happen; refuse rather than run with an unchecked pair.
        Err(e) => Err(KeyProblem::Cert(e.into())),
    }
}
