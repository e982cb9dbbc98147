//! How many pinned TLS 1.3 handshakes per second the peer port completes,
//! for `hotline bench handshakes`: the same listener ([`serve_peers`]) and
//! configurations ([`server_config`], [`client_config`]) a node runs, on
//! loopback, with fresh keys. Every connection runs the full handshake
//! (resumption is off on both sides), so this is the rate at which a node
//! can take new connections — from its peers and from strangers alike — and
//! what its handshake limits ([`PeerLimits`]) are weighed against.

use std::time::{Duration, Instant};

use axum::Router;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::server::PeerLimits;
use super::{PinSet, TlsIdentity, client_config, serve_peers, server_config};

/// What one run measured.
#[derive(Clone, Debug, serde::Serialize)]
pub struct HandshakeFigures {
    /// Handshakes completed.
    pub handshakes: u64,
    /// At once.
    pub concurrency: usize,
    /// Idle TCP connections (never starting a handshake) held open on the
    /// port meanwhile.
    pub idle_sockets: usize,
    /// Completed handshakes per second.
    pub per_sec: f64,
    /// Median time of one handshake (connect to finished), ms.
    pub median_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Handshakes that failed.
    pub failed: u64,
}

/// Runs `count` pinned handshakes, `concurrency` at once, against a peer
/// listener with `limits`, while `idle_sockets` idle connections are open.
///
/// # Errors
///
/// Binding the loopback listener or making the keys failed.
pub async fn measure(
    count: u64,
    concurrency: usize,
    idle_sockets: usize,
    limits: PeerLimits,
) -> std::io::Result<HandshakeFigures> {
    let server = TlsIdentity::generate("bench-server").map_err(std::io::Error::other)?;
    let client = TlsIdentity::generate("bench-client").map_err(std::io::Error::other)?;
    let pins = PinSet::new();
    pins.insert(client.pin().to_owned(), "bench-client".into());
    let config = server_config(&server, pins.clone()).map_err(std::io::Error::other)?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (_open_tx, open) = watch::channel(true);
    let (stop_tx, mut stop) = watch::channel(false);
    let failures = prometheus_client::metrics::counter::Counter::default();
    let task = tokio::spawn(serve_peers(
        listener,
        config,
        pins,
        Router::new(),
        open,
        failures,
        limits,
        async move {
            let _ = stop.wait_for(|v| *v).await;
        },
    ));
    let mut idle = Vec::with_capacity(idle_sockets);
    for _ in 0..idle_sockets {
        idle.push(TcpStream::connect(addr).await?);
    }
    let connector = tokio_rustls::TlsConnector::from(
        client_config(&client, server.pin()).map_err(std::io::Error::other)?,
    );
    let name = rustls_pki_types::ServerName::try_from("hotline-bench")
        .map_err(std::io::Error::other)?
        .to_owned();
    let started = Instant::now();
    let mut times = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    let mut failed = 0u64;
    let mut running = JoinSet::new();
    let mut launched = 0u64;
    let one = |connector: tokio_rustls::TlsConnector,
               name: rustls_pki_types::ServerName<'static>| async move {
        let t = Instant::now();
        let tcp = TcpStream::connect(addr).await?;
        let _tls = connector.connect(name, tcp).await?;
        Ok::<Duration, std::io::Error>(t.elapsed())
    };
    while launched < count || !running.is_empty() {
        while launched < count && running.len() < concurrency.max(1) {
            running.spawn(one(connector.clone(), name.clone()));
            launched += 1;
        }
        match running.join_next().await {
            Some(Ok(Ok(t))) => times.push(t),
            _ => failed += 1,
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    drop(idle);
    let _ = stop_tx.send(true);
    let _ = task.await;
    times.sort();
    let pct = |p: f64| {
        if times.is_empty() {
            return 0.0;
        }
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let i = ((times.len() - 1) as f64 * p).round() as usize;
        times[i].as_secs_f64() * 1000.0
    };
    #[allow(clippy::cast_precision_loss)]
    let per_sec = times.len() as f64 / elapsed.max(1e-9);
    Ok(HandshakeFigures {
        handshakes: times.len() as u64,
        concurrency,
        idle_sockets,
        per_sec,
        median_ms: pct(0.5),
        p99_ms: pct(0.99),
        failed,
    })
}
