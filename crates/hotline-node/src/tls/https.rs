//! HTTPS for the API and the console: the node's own certificate for the
//! people and programs of its organisation (browsers, curl, TAXII clients),
//! unrelated to the pinned peer link.
//!
//! ```text
//! DIR/keys/api.key   ECDSA P-256 private key, PKCS#8 PEM, mode 0600
//! DIR/keys/api.crt   self-signed certificate (PEM), with the names it answers to
//! ```
//!
//! `hotline init` makes them; `[api] tls_cert`/`tls_key` in `hotline.toml`
//! name others (an organisation's CA-issued pair, a chain first-to-last).
//! The key is ECDSA P-256, not Ed25519 as on the peer link, because browsers
//! do not accept Ed25519 certificates. A self-signed certificate is trusted
//! by its SHA-256 fingerprint, which `hotline status` prints: compare it with
//! what the browser shows, or hand its SubjectPublicKeyInfo pin to
//! `chromium --ignore-certificate-errors-spki-list=<pin>`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper::service::service_fn;
use rustls::ServerConfig;
use rustls::server::NoServerSessionStorage;
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt as _;
use tracing::{debug, warn};

use super::http1::{serve_until_stopped, until_true};
use super::identity::provider;
use super::{ALPN_HTTP11, TlsError, cert_pin};
use crate::dir::{write_atomic, write_secret};

/// A browser that has not finished its handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Keep-alive connections with no request for this long are closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// At most this many connections at once; more are closed at once.
const MAX_CONNECTIONS: usize = 1024;

/// The API's certificate and key, loaded and checked to be a pair.
pub struct ApiCert {
    certified: Arc<CertifiedKey>,
    fingerprint: String,
    pin: String,
}

impl std::fmt::Debug for ApiCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiCert")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl ApiCert {
    /// Makes a new ECDSA P-256 key and a self-signed certificate naming
    /// `names` (host names and IP addresses; `localhost`, `127.0.0.1` and
    /// `::1` are always added) and writes them to `key_path` (0600) and
    /// `cert_path`. With `replace`, existing files are replaced (nothing pins
    /// this key but the people who checked its fingerprint, who must check
    /// it again); without, an existing key is refused.
    ///
    /// # Errors
    ///
    /// [`TlsError::Generate`] for a name that is neither a host name nor an
    /// IP address; [`TlsError::Exists`] or [`TlsError::Write`].
    pub fn generate(
        party: &str,
        names: &[String],
        key_path: &Path,
        cert_path: &Path,
        replace: bool,
    ) -> Result<Self, TlsError> {
        let mut sans: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
        for n in names {
            let n = n.trim().trim_start_matches('[').trim_end_matches(']');
            if !n.is_empty() && !sans.iter().any(|s| s.eq_ignore_ascii_case(n)) {
                sans.push(n.to_owned());
            }
        }
        let mut params = rcgen::CertificateParams::new(sans.clone())
            .map_err(|e| TlsError::Generate(format!("the names {sans:?}: {e}").into()))?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(
            rcgen::DnType::CommonName,
            format!("hotline {party} console"),
        );
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .map_err(|e| TlsError::Generate(Box::new(e)))?;
        let cert = params
            .self_signed(&key)
            .map_err(|e| TlsError::Generate(Box::new(e)))?;
        let key_pem = zeroize::Zeroizing::new(key.serialize_pem());
        if replace {
            let _ = std::fs::remove_file(key_path);
        }
        write_secret(key_path, key_pem.trim_end()).map_err(|source| {
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
        write_atomic(cert_path, cert.pem().as_bytes()).map_err(|source| TlsError::Write {
            path: cert_path.to_owned(),
            source,
        })?;
        Self::load(key_path, cert_path)
    }

    /// Reads a key (PKCS#8, SEC1 or PKCS#1 PEM) and a certificate chain
    /// (PEM, the server's certificate first) and checks they are a pair.
    ///
    /// # Errors
    ///
    /// [`TlsError::Read`], [`TlsError::BadFile`] or [`TlsError::KeyMismatch`].
    pub fn load(key_path: &Path, cert_path: &Path) -> Result<Self, TlsError> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|source| TlsError::Read {
                path: path.to_owned(),
                source,
            })
        };
        let bad = |path: &Path, what, reason: Box<dyn std::error::Error + Send + Sync>| {
            TlsError::BadFile {
                path: path.to_owned(),
                what,
                reason,
            }
        };
        let key_pem = zeroize::Zeroizing::new(read(key_path)?);
        let cert_pem = read(cert_path)?;
        let key = PrivateKeyDer::from_pem_slice(&key_pem)
            .map_err(|e| bad(key_path, "PEM private key", e.into()))?;
        let chain = CertificateDer::pem_slice_iter(&cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(cert_path, "PEM certificate", e.into()))?;
        let Some(first) = chain.first().cloned() else {
            return Err(bad(
                cert_path,
                "PEM certificate",
                "no CERTIFICATE block".into(),
            ));
        };
        let pin = cert_pin(&first).map_err(|e| bad(cert_path, "PEM certificate", e.into()))?;
        let signing = provider()
            .key_provider
            .load_private_key(key)
            .map_err(|e| bad(key_path, "PEM private key", e.into()))?;
        let certified = CertifiedKey::new(chain, signing);
        if certified.keys_match().is_err() {
            return Err(TlsError::KeyMismatch {
                key: key_path.to_owned(),
                cert: cert_path.to_owned(),
            });
        }
        Ok(Self {
            certified: Arc::new(certified),
            fingerprint: fingerprint(&first),
            pin,
        })
    }

    /// SHA-256 of the certificate, as browsers show it: upper-case hex
    /// pairs joined by colons.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// base64 SHA-256 of the SubjectPublicKeyInfo: what
    /// `--ignore-certificate-errors-spki-list` and `curl --pinnedpubkey
    /// sha256//…` take.
    pub fn spki_pin(&self) -> &str {
        &self.pin
    }

    /// Whether the certificate names `host` (a host name or an IP address).
    pub fn names(&self, host: &str) -> bool {
        let Some(der) = self.certified.cert.first() else {
            return false;
        };
        let Ok(ee) = webpki::EndEntityCert::try_from(der) else {
            return false;
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        ServerName::try_from(host)
            .is_ok_and(|name| ee.verify_is_valid_for_subject_name(&name).is_ok())
    }

    /// The rustls configuration that serves this certificate: TLS 1.3 only
    /// (every browser of the last years speaks it), HTTP/1.1, no client
    /// certificate (people sign in to the console; programs send the token).
    ///
    /// # Errors
    ///
    /// [`TlsError::Config`] if rustls refuses it.
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, TlsError> {
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(TlsError::Config)?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(SingleCertAndKey::from(self.certified.clone())));
        config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
        config.session_storage = Arc::new(NoServerSessionStorage {});
        config.send_tls13_tickets = 0;
        Ok(Arc::new(config))
    }
}

/// SHA-256 of a certificate's DER, `AB:CD:…`.
fn fingerprint(der: &CertificateDer<'_>) -> String {
    Sha256::digest(der.as_ref())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Serves `router` over TLS (`config`) on `listener` until `stop` turns
/// true; each request carries its client's address as
/// [`ConnectInfo<SocketAddr>`], as on the plain listener. A failed or slow
/// handshake is logged at debug and never stops the loop; on stop, open
/// connections finish their requests.
pub async fn serve_https(
    listener: TcpListener,
    config: Arc<ServerConfig>,
    router: Router,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            biased;
            () = until_true(&mut stop) => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            accepted = listener.accept() => {
                let (tcp, remote) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        warn!(error = %e, "accepting an HTTPS connection failed; retrying");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                if conns.len() >= MAX_CONNECTIONS {
                    debug!(%remote, "too many HTTPS connections; closed");
                    continue;
                }
                let (acceptor, router, stop) = (acceptor.clone(), router.clone(), stop.clone());
                conns.spawn(connection(tcp, remote, acceptor, router, stop));
            }
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    conns.shutdown().await;
    Ok(())
}

async fn connection(
    tcp: tokio::net::TcpStream,
    remote: SocketAddr,
    acceptor: tokio_rustls::TlsAcceptor,
    router: Router,
    mut stop: watch::Receiver<bool>,
) {
    let _ = tcp.set_nodelay(true);
    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(error)) => {
            debug!(%remote, %error, "HTTPS handshake failed");
            return;
        }
        Err(_) => {
            debug!(%remote, "HTTPS handshake timed out");
            return;
        }
    };
    let service = service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(remote));
        let router = router.clone();
        async move {
            Ok::<_, Infallible>(match router.oneshot(req).await {
                Ok(r) => r,
                Err(never) => match never {},
            })
        }
    });
    let result = serve_until_stopped(tls, service, IDLE_TIMEOUT, &mut stop).await;
    if let Err(error) = result {
        debug!(%remote, %error, "HTTPS connection ended with an error");
    }
}
