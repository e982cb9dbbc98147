//! The peer listener: pinned TLS 1.3 handshakes, then HTTP/1.1 to an axum
//! router that knows which party each request came from.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Request, StatusCode};
use axum::response::IntoResponse as _;
use axum::{Json, Router};
use hyper::body::Incoming;
use hyper::service::service_fn;
use prometheus_client::metrics::counter::Counter;
use rustls::ServerConfig;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;
use tower::ServiceExt as _;
use tracing::{debug, warn};

use super::http1::serve_until_stopped;
use super::{PinSet, causes, cert_pin, find_rustls_error};

/// A client that has not finished its handshake by then is dropped, so that
/// idle sockets cannot pile up on the peer port (the default of
/// [`PeerLimits::handshake_timeout`]).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// At most this many connections may be in their handshake at once (the
/// default of [`PeerLimits::max_handshakes`]).
pub const MAX_HANDSHAKES: usize = 64;
/// An HTTP/1.1 connection that sends no request for this long is closed.
/// Longer than [`PeerClient`](super::PeerClient)'s pool idle time, so the
/// client is the one that retires idle connections and never sends a request
/// down one the server is closing.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// At most this many connections (handshaking or open) at once; more are
/// closed at once. Peers need a handful; the bound is for strangers, whose
/// connections never get past the handshake, so at most
/// [`PeerLimits::max_handshakes`] of them count here.
pub const MAX_CONNECTIONS: usize = 256;
/// On shutdown, open requests get this long to finish before they are cut.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// After a failed handshake, how long the listener keeps reading and
/// discarding what the client sent before closing. Without it the kernel
/// answers unread data with a reset, which can overtake the TLS alert, and
/// the client would see "connection reset" instead of "certificate refused".
const LINGER: Duration = Duration::from_secs(1);

/// How many strangers the peer port tolerates. A connection that has not
/// finished its TLS handshake has proved nothing, so such connections are
/// kept apart from pinned sessions: at most `max_handshakes` at once, each
/// for at most `handshake_timeout`. When one more arrives, the one that has
/// waited longest is dropped, not the newcomer: idle sockets then cannot
/// hold the port shut, since a pinned peer's handshake (milliseconds) is
/// done long before `max_handshakes` newer strangers push it out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerLimits {
    /// Connections in their handshake at once.
    pub max_handshakes: usize,
    /// How long a handshake may take.
    pub handshake_timeout: Duration,
}

impl Default for PeerLimits {
    fn default() -> Self {
        Self {
            max_handshakes: MAX_HANDSHAKES,
            handshake_timeout: HANDSHAKE_TIMEOUT,
        }
    }
}

/// The connections in their handshake, oldest first, each with the sender
/// whose drop tells it to give up.
#[derive(Default)]
struct Handshaking {
    next: u64,
    queue: VecDeque<(u64, oneshot::Sender<()>)>,
}

impl Handshaking {
    /// Registers a new handshake; drops the oldest if `max` are already
    /// running. Returns its id, the receiver that resolves when it is
    /// dropped, and whether one was dropped.
    fn enter(&mut self, max: usize) -> (u64, oneshot::Receiver<()>, bool) {
        let evicted = self.queue.len() >= max.max(1) && self.queue.pop_front().is_some();
        let (tx, rx) = oneshot::channel();
        let id = self.next;
        self.next = self.next.wrapping_add(1);
        self.queue.push_back((id, tx));
        (id, rx, evicted)
    }

    fn leave(&mut self, id: u64) {
        self.queue.retain(|(i, _)| *i != id);
    }
}

/// The authenticated peer party of a request on the peer listener: the party
/// whose pinned key the client proved it holds during the TLS handshake.
/// [`serve_peers`] puts it into every request's extensions; handlers take it
/// as an extractor. Outside the peer listener it is missing, and extracting
/// it refuses the request (403), so a peer route mounted on the wrong
/// listener fails closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerParty(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PeerParty {
    /// 403 with the node API's JSON error body.
    type Rejection = (StatusCode, Json<serde_json::Value>);

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<PeerParty>().cloned().ok_or_else(|| {
            (
                StatusCode::FORBIDDEN,
                Json(serde_json::json!({
                    "error": "this route is served only to pinned peers, on the peer listener",
                    "status": StatusCode::FORBIDDEN.as_u16(),
                })),
            )
        })
    }
}

/// Serves `router` to pinned peers on `listener` until `shutdown` resolves.
///
/// Each connection runs the pinned TLS 1.3 handshake of `config` (see
/// [`server_config`](super::server_config)); the client's key pin is looked
/// up in `pins` and the party found is inserted into every request's
/// extensions as [`PeerParty`] (with the remote address as
/// [`ConnectInfo<SocketAddr>`]). Requests are HTTP/1.1 with keep-alive.
/// Each request's handler runs in its own task, to completion, even if the
/// connection is cut meanwhile: only the answer is lost, as on a real
/// network, so a handler is never stopped between two of its steps.
///
/// Handshakes are bounded by `limits` ([`PeerLimits`]). A handshake that
/// fails (unknown key, no certificate, not TLS 1.3, too slow, pushed out by
/// newer ones, too many connections) is logged at debug, counted in
/// `failed_handshakes` (register it in the node's metrics to export it), and
/// never stops the loop.
///
/// `open` pauses and resumes the link. While it is `false`, every open
/// connection is cut at once (in-flight requests included) and new ones are
/// closed as soon as they are accepted: clients fail fast instead of hanging
/// in the kernel's backlog, and the port stays bound so resuming cannot lose
/// it. If the sender is dropped the last value holds.
///
/// On shutdown, the listener closes, idle connections close, and requests in
/// progress get [`SHUTDOWN_GRACE`] to finish.
///
/// # Errors
///
/// None at present: accept errors (e.g. out of file descriptors) are logged
/// and retried. The `io::Result` leaves room for errors that must stop the
/// node.
// Each argument is a separate concern the caller owns; a struct of them would
// only rename the list.
#[allow(clippy::too_many_arguments)]
pub async fn serve_peers(
    listener: TcpListener,
    config: Arc<ServerConfig>,
    pins: PinSet,
    router: Router,
    open: watch::Receiver<bool>,
    failed_handshakes: Counter,
    limits: PeerLimits,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let handshaking = Arc::new(Mutex::new(Handshaking::default()));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut conns = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            Some(done) = conns.join_next(), if !conns.is_empty() => {
                if let Err(e) = done
                    && e.is_panic()
                {
                    warn!(error = %e, "a peer connection task panicked");
                }
            }
            accepted = listener.accept() => {
                let (tcp, remote) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        warn!(error = %e, "accepting a peer connection failed; retrying");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                if !*open.borrow() {
                    debug!(%remote, "peer link paused; connection closed");
                    continue;
                }
                if conns.len() >= MAX_CONNECTIONS {
                    failed_handshakes.inc();
                    debug!(%remote, limit = MAX_CONNECTIONS, "too many peer connections; connection closed");
                    continue;
                }
                let (id, evict, evicted) = handshaking
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .enter(limits.max_handshakes);
                if evicted {
                    failed_handshakes.inc();
                    debug!(limit = limits.max_handshakes, "too many peer handshakes at once; the oldest was dropped");
                }
                let conn = Conn {
                    remote,
                    acceptor: acceptor.clone(),
                    pins: pins.clone(),
                    router: router.clone(),
                    stop: stop_rx.clone(),
                    failed_handshakes: failed_handshakes.clone(),
                    handshake: Handshake {
                        id,
                        evict,
                        all: handshaking.clone(),
                        timeout: limits.handshake_timeout,
                    },
                };
                let open = open.clone();
                conns.spawn(async move {
                    tokio::select! {
                        () = conn.run(tcp) => {}
                        () = until_closed(open) => debug!(%remote, "peer link paused; connection cut"),
                    }
                });
            }
        }
    }
    drop(listener);
    // Receivers may all be gone already; nothing to tell then.
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        debug!(
            left = conns.len(),
            "peer connections still busy after the grace period; cut"
        );
    }
    conns.shutdown().await;
    Ok(())
}

/// One accepted connection and what it needs.
struct Conn {
    remote: SocketAddr,
    acceptor: tokio_rustls::TlsAcceptor,
    pins: PinSet,
    router: Router,
    stop: watch::Receiver<bool>,
    failed_handshakes: Counter,
    handshake: Handshake,
}

/// This connection's place among the handshaking ones.
struct Handshake {
    id: u64,
    /// Resolves when newer handshakes push this one out.
    evict: oneshot::Receiver<()>,
    all: Arc<Mutex<Handshaking>>,
    timeout: Duration,
}

impl Drop for Handshake {
    fn drop(&mut self) {
        self.all
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .leave(self.id);
    }
}

impl Conn {
    async fn run(mut self, tcp: TcpStream) {
        let remote = self.remote;
        // Requests and answers are small; don't let Nagle hold them back.
        let _ = tcp.set_nodelay(true);
        let handshake = self.acceptor.accept(tcp).into_fallible();
        let mut place = self.handshake;
        let timeout = place.timeout;
        let outcome = tokio::select! {
            r = tokio::time::timeout(timeout, handshake) => r,
            _ = &mut place.evict => {
                // Counted where it was pushed out.
                debug!(%remote, "peer TLS handshake dropped for newer ones");
                return;
            }
        };
        // Done handshaking either way: make room at once, not when the
        // connection ends.
        drop(place);
        let tls = match outcome {
            Ok(Ok(tls)) => tls,
            Ok(Err((error, tcp))) => {
                self.failed_handshakes.inc();
                debug!(%remote, error = %handshake_error(&error), "peer TLS handshake failed");
                linger(tcp).await;
                return;
            }
            Err(_) => {
                self.failed_handshakes.inc();
                debug!(%remote, ?timeout, "peer TLS handshake timed out");
                return;
            }
        };
        // The verifier accepted the pin a moment ago; look it up again for
        // the party's name (and in case it was removed in between).
        let pin = tls
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|certs| certs.first())
            .and_then(|cert| cert_pin(cert).ok());
        let Some(party) = pin.as_deref().and_then(|pin| self.pins.party_of(pin)) else {
            self.failed_handshakes.inc();
            debug!(%remote, ?pin, "peer key no longer pinned; connection closed");
            return;
        };
        debug!(%remote, %party, "peer connected");
        let party = PeerParty(party);
        let router = self.router;
        let service = service_fn(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(party.clone());
            req.extensions_mut().insert(ConnectInfo(remote));
            // Its own task, so that a cut connection loses only the answer
            // and never stops a handler half-way (a real network cut does
            // not reach into the server either).
            let handler = tokio::spawn(router.clone().oneshot(req));
            async move {
                Ok::<_, Infallible>(match handler.await {
                    Ok(Ok(response)) => response,
                    Ok(Err(never)) => match never {},
                    Err(error) => {
                        warn!(%remote, %error, "a peer request handler panicked");
                        StatusCode::INTERNAL_SERVER_ERROR.into_response()
                    }
                })
            }
        });
        let result = serve_until_stopped(tls, service, IDLE_TIMEOUT, &mut self.stop).await;
        if let Err(error) = result {
            debug!(%remote, %error, "peer connection ended with an error");
        }
    }
}

/// What went wrong in a handshake, in words: rustls shows its "other"
/// certificate errors (ours: [`UnknownPin`](super::pinned::UnknownPin)) with
/// `Debug`; show them with their own `Display`.
fn handshake_error(error: &std::io::Error) -> String {
    match find_rustls_error(error) {
        Some(rustls::Error::InvalidCertificate(rustls::CertificateError::Other(other))) => {
            other.0.to_string()
        }
        _ => causes(error),
    }
}

/// Closes our side, then reads and discards what the client still sends, for
/// at most [`LINGER`] and 1 MiB, so that the TLS alert reaches it.
async fn linger(mut tcp: TcpStream) {
    let _ = tcp.shutdown().await;
    let _ = tokio::time::timeout(LINGER, async {
        let mut buf = [0u8; 4096];
        let mut left = 1024 * 1024usize;
        while left > 0 {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    })
    .await;
}

/// Resolves when `open` turns (or is) `false`; never if its sender is gone.
async fn until_closed(mut open: watch::Receiver<bool>) {
    if open.wait_for(|open| !*open).await.is_err() {
        std::future::pending::<()>().await;
    }
}
