//! A keep-alive HTTP/1.1 client to one peer over pinned TLS 1.3.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls::{AlertDescription, CertificateError, ClientConfig};
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;

use super::pinned::PinMismatch;
use super::{TlsError, causes, find_rustls_error};

/// Idle pooled connections are closed after this long: shorter than the
/// server's [`IDLE_TIMEOUT`](super::server::IDLE_TIMEOUT), so a request never
/// goes down a connection the server is closing.
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Idle connections kept per peer. Requests from concurrent tasks each take a
/// connection (opening one if none is idle); this many are kept for reuse.
pub const POOL_MAX_IDLE: usize = 4;
/// Default largest response body accepted, in bytes.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// A keep-alive HTTP/1.1-over-TLS client to one peer (`https://HOST:PORT`).
///
/// Cheap to clone; clones share the connection pool. [`request`](Self::request)
/// may be called from many tasks at once: each request takes an idle
/// connection from a small pool or opens a new one, so one slow request does
/// not hold up the others. A broken connection is dropped from the pool and
/// the next request reconnects; nothing needs restarting after a partition.
/// Every connection goes to the one configured address and is verified
/// against the one pinned key of [`client_config`](super::client_config).
#[derive(Clone)]
pub struct PeerClient {
    base: String,
    client: Client<PinnedConnector, Full<Bytes>>,
    timeout: Duration,
    max_response_bytes: usize,
}

impl std::fmt::Debug for PeerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerClient")
            .field("url", &self.base)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl PeerClient {
    /// A client to the peer at `url` (`https://HOST:PORT`, port 443 if
    /// omitted; HOST a name or an IP address, `[…]` for IPv6), using the
    /// pinned `config` from [`client_config`](super::client_config). Each
    /// request, connecting included, must finish within `timeout`.
    ///
    /// Nothing is connected yet: the first request connects.
    ///
    /// # Errors
    ///
    /// [`TlsError::BadUrl`] if `url` is not `https://HOST[:PORT][/]`.
    pub fn new(url: &str, config: Arc<ClientConfig>, timeout: Duration) -> Result<Self, TlsError> {
        let PeerUrl {
            authority,
            host,
            port,
            server_name,
        } = PeerUrl::parse(url)?;
        let connector = PinnedConnector {
            tls: tokio_rustls::TlsConnector::from(config),
            host: host.as_str().into(),
            port,
            server_name,
        };
        let client = Client::builder(TokioExecutor::new())
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .pool_max_idle_per_host(POOL_MAX_IDLE)
            .build(connector);
        Ok(Self {
            base: format!("https://{authority}"),
            client,
            timeout,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        })
    }

    /// Accepts response bodies up to `limit` bytes (default
    /// [`DEFAULT_MAX_RESPONSE_BYTES`]); larger ones fail with
    /// [`TlsError::ResponseTooLarge`] rather than fill memory.
    #[must_use]
    pub fn with_max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// The peer's address, `https://HOST:PORT`.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// Sends one request and reads the whole response. `path` starts with
    /// `/` (and may carry a query); `content_type` is sent unless empty.
    ///
    /// The request is sent at most once by this layer, except that a request
    /// that never left (the pooled connection had just closed) is retried on
    /// a new connection. A request that timed out or broke may or may not
    /// have reached the peer: the protocol above must be idempotent.
    ///
    /// # Errors
    ///
    /// [`TlsError::PeerKeyMismatch`] if the server is not the pinned peer;
    /// [`TlsError::RefusedByPeer`] if the peer has not pinned us;
    /// [`TlsError::Connect`], [`TlsError::Request`], [`TlsError::Timeout`] or
    /// [`TlsError::ResponseTooLarge`] otherwise. A non-2xx status is not an
    /// error: it is returned.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<(StatusCode, HeaderMap, Bytes), TlsError> {
        if !path.starts_with('/') {
            return Err(TlsError::BadUrl {
                url: path.to_owned(),
                reason: "a request path must start with '/'".into(),
            });
        }
        let mut builder = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if !content_type.is_empty() {
            builder = builder.header(CONTENT_TYPE, content_type);
        }
        let request = builder
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| TlsError::BadUrl {
                url: format!("{}{path}", self.base),
                reason: format!("the request cannot be built: {e}").into(),
            })?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| self.classify(&e))?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, self.max_response_bytes)
                .collect()
                .await
                .map_err(|e| {
                    if e.is::<http_body_util::LengthLimitError>() {
                        TlsError::ResponseTooLarge {
                            url: self.base.clone(),
                            limit: self.max_response_bytes,
                        }
                    } else {
                        TlsError::Request {
                            url: self.base.clone(),
                            reason: causes(&*e),
                        }
                    }
                })?
                .to_bytes();
            Ok((parts.status, parts.headers, body))
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| TlsError::Timeout {
                url: self.base.clone(),
                timeout: self.timeout,
            })?
    }

    /// Turns a client error into the [`TlsError`] that says what to do.
    fn classify(&self, e: &hyper_util::client::legacy::Error) -> TlsError {
        let url = self.base.clone();
        match find_rustls_error(e) {
            Some(rustls::Error::InvalidCertificate(CertificateError::Other(other))) => {
                if let Some(m) = other.0.downcast_ref::<PinMismatch>() {
                    return TlsError::PeerKeyMismatch {
                        url,
                        expected: m.expected.clone(),
                        got: m.got.clone(),
                    };
                }
            }
            Some(rustls::Error::AlertReceived(
                alert @ (AlertDescription::CertificateUnknown
                | AlertDescription::BadCertificate
                | AlertDescription::CertificateRequired
                | AlertDescription::UnsupportedCertificate
                | AlertDescription::AccessDenied
                | AlertDescription::UnknownCA),
            )) => {
                return TlsError::RefusedByPeer {
                    url,
                    alert: format!("{alert:?}"),
                };
            }
            _ => {}
        }
        let reason = causes(e);
        if e.is_connect() {
            TlsError::Connect { url, reason }
        } else {
            TlsError::Request { url, reason }
        }
    }
}

/// A peer address as [`PeerClient::new`] takes it, taken apart.
struct PeerUrl {
    authority: String,
    host: String,
    port: u16,
    server_name: ServerName<'static>,
}

impl PeerUrl {
    fn parse(url: &str) -> Result<Self, TlsError> {
        let bad = |reason: Box<dyn std::error::Error + Send + Sync>| TlsError::BadUrl {
            url: url.to_owned(),
            reason,
        };
        let uri: Uri = url
            .parse()
            .map_err(|e: axum::http::uri::InvalidUri| bad(e.into()))?;
        if uri.scheme_str() != Some("https") {
            return Err(bad("the scheme must be https".into()));
        }
        let authority = uri
            .authority()
            .ok_or_else(|| bad("it names no host".into()))?;
        if authority.as_str().contains('@') {
            return Err(bad("it must not carry a user name or password".into()));
        }
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err(bad("it must not have a path or query".into()));
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = authority.port_u16().unwrap_or(443);
        let server_name = ServerName::try_from(host.clone())
            .map_err(|_| bad("the host is neither a DNS name nor an IP address".into()))?;
        Ok(Self {
            authority: authority.as_str().to_owned(),
            host,
            port,
            server_name,
        })
    }
}

/// Checks that `url` is a peer address [`PeerClient::new`] takes
/// (`https://HOST[:PORT][/]`), and returns it in one form per address
/// (`https://host:port`, host in lower case, port written out), so that two
/// spellings of one address compare equal.
///
/// # Errors
///
/// [`TlsError::BadUrl`] as [`PeerClient::new`].
pub fn peer_address(url: &str) -> Result<String, TlsError> {
    let u = PeerUrl::parse(url)?;
    let host = u.host.to_ascii_lowercase();
    Ok(if host.contains(':') {
        format!("https://[{host}]:{}", u.port)
    } else {
        format!("https://{host}:{}", u.port)
    })
}

/// Opens TCP, then pinned TLS, to the one configured peer, whatever URI the
/// pool asks for (the client only builds URIs from that peer's address).
#[derive(Clone)]
struct PinnedConnector {
    tls: tokio_rustls::TlsConnector,
    host: Arc<str>,
    port: u16,
    server_name: ServerName<'static>,
}

impl tower::Service<Uri> for PinnedConnector {
    type Response = PeerStream;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<PeerStream>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let tcp = TcpStream::connect((&*this.host, this.port)).await?;
            tcp.set_nodelay(true)?;
            let tls = this.tls.connect(this.server_name, tcp).await?;
            Ok(PeerStream(TokioIo::new(tls)))
        })
    }
}

/// A TLS stream as the hyper client pool wants it.
struct PeerStream(TokioIo<tokio_rustls::client::TlsStream<TcpStream>>);

impl Connection for PeerStream {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl hyper::rt::Read for PeerStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for PeerStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write_vectored(cx, bufs)
    }
}
