//! Process start-up: binds the API (HTTPS or plain HTTP), the CLI's Unix
//! socket and the pinned-TLS peer link, starts the federation loops, writes
//! the bound addresses to `DIR/run/`, and takes it all down on shutdown.

use std::future::IntoFuture as _;
use std::sync::{Arc, Mutex};

use axum::middleware;

use crate::api::{app, transport};
use crate::node::Node;

/// Serves the API on `listener`, with the routes of `extra` (the binary's
/// operator console) beside it, and, given one, the pinned-TLS peer link on
/// `peers`, running the federation loops, until `shutdown` resolves. Writes
/// the bound addresses to `DIR/run/` so the CLI can find the node. HTTPS or
/// plain HTTP as `[api]` in hotline.toml says (see [`transport::choose`]).
///
/// # Errors
///
/// Besides I/O: plain HTTP on a non-loopback address without
/// `[api] insecure_plain_http`, or an unusable certificate.
pub async fn serve(
    node: Node,
    extra: axum::Router,
    listener: tokio::net::TcpListener,
    peers: Option<tokio::net::TcpListener>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let bound = listener.local_addr()?;
    let t = transport::choose(
        node.dir(),
        node.party().as_str(),
        &node.config().api,
        bound,
        false,
    )
    .map_err(std::io::Error::other)?;
    serve_with(node, extra, listener, peers, t, shutdown).await
}

/// [`serve`] with the transport already chosen.
pub async fn serve_with(
    node: Node,
    extra: axum::Router,
    listener: tokio::net::TcpListener,
    peers: Option<tokio::net::TcpListener>,
    transport: transport::Transport,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let token = std::fs::read_to_string(node.dir().api_token())?;
    let addr = listener.local_addr()?;
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let until = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        while !*rx.borrow() {
            if rx.changed().await.is_err() {
                break;
            }
        }
    };
    let mut peer_task = None;
    let mut peer_url = String::new();
    if let Some(pl) = peers {
        let paddr = pl.local_addr()?;
        peer_url = format!("https://{paddr}");
        let config = crate::tls::server_config(node.tls(), node.pins().clone())
            .map_err(std::io::Error::other)?;
        let router = crate::federation::routes::router(node.link().clone());
        let open = node.peer_listener().subscribe();
        let failures = node.metrics().tls_handshake_failures.clone();
        let pins = node.pins().clone();
        peer_task = Some(tokio::spawn(crate::tls::serve_peers(
            pl,
            config,
            pins,
            router,
            open,
            failures,
            crate::tls::server::PeerLimits {
                max_handshakes: node.config().limits.peer_max_handshakes,
                handshake_timeout: std::time::Duration::from_secs(
                    node.config().limits.peer_handshake_timeout_secs.max(1),
                ),
            },
            until(stop.clone()),
        )));
        crate::dir::write_atomic(&node.dir().peer_addr(), paddr.to_string().as_bytes())?;
    }
    if node.store().shared() {
        let url = node.config().store.replica_url.clone().unwrap_or(peer_url);
        tokio::spawn(crate::replica::lease_loop(
            node.replica().clone(),
            url,
            Arc::new(Roles::new(node.clone(), stop.clone())),
            stop.clone(),
        ));
    } else {
        node.start_federation(stop.clone());
    }
    let sock = node.dir().api_sock();
    let local = bind_local(&sock)?;
    let local_task = tokio::spawn(
        axum::serve(local, app(node.clone(), &token))
            .with_graceful_shutdown(until(stop.clone()))
            .into_future(),
    );
    crate::dir::write_atomic(&node.dir().api_addr(), addr.to_string().as_bytes())?;
    let files = (node.dir().api_addr(), node.dir().peer_addr());
    let cert = transport.cert().cloned();
    node.set_served_api(serde_json::json!({
        "scheme": transport.scheme(),
        "address": addr.to_string(),
        "url": format!("{}://{addr}/", transport.scheme()),
        "fingerprint_sha256": cert.as_ref().map(|c| c.fingerprint()),
        "spki_sha256": cert.as_ref().map(|c| c.spki_pin()),
    }));
    let allowed = transport::AllowedHosts::new(addr, cert, &node.config().api.allowed_hosts);
    // The extra routes (the operator console: HTML, not part of the JSON
    // API's OpenAPI document) share the API's address and its Host check.
    let router = app(node.clone(), &token)
        .merge(extra)
        .layer(middleware::from_fn_with_state(
            allowed,
            transport::check_host,
        ));
    let r = match transport {
        transport::Transport::Plain => {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(until(stop))
            .await
        }
        transport::Transport::Tls(cert) => {
            let config = cert.server_config().map_err(std::io::Error::other)?;
            crate::tls::https::serve_https(listener, config, router, stop).await
        }
    };
    if let Some(t) = peer_task {
        let _ = t.await;
    }
    let _ = local_task.await;
    let _ = std::fs::remove_file(files.0);
    let _ = std::fs::remove_file(files.1);
    let _ = std::fs::remove_file(sock);
    r
}

/// Binds the CLI's socket at `path` (in `run/`, mode 0700), mode 0600. A
/// socket left by a node that crashed is replaced: the writer lock, held by
/// now, says no other node of this directory runs.
fn bind_local(path: &std::path::Path) -> std::io::Result<tokio::net::UnixListener> {
    use std::os::unix::fs::PermissionsExt as _;
    if let Some(run) = path.parent() {
        crate::dir::create_private_dir(run)?;
    }
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let listener = tokio::net::UnixListener::bind(path).map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!(
                "binding the CLI's socket {}: {e} (a Unix socket path is at most 107 bytes; use a shorter --dir)",
                path.display()
            ),
        )
    })?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}

/// What a replica's role change does to this process: the holder runs
/// federation until it steps down; a follower forwards to the holder.
struct Roles {
    node: Node,
    stop: tokio::sync::watch::Receiver<bool>,
    /// Ends the holder's federation loops when it steps down.
    leading: Mutex<Option<tokio::sync::watch::Sender<bool>>>,
}

impl Roles {
    fn new(node: Node, stop: tokio::sync::watch::Receiver<bool>) -> Self {
        Self {
            node,
            stop,
            leading: Mutex::new(None),
        }
    }
}

impl crate::replica::OnRole for Roles {
    fn led(&self) {
        let (tx, rx) = tokio::sync::watch::channel(false);
        let mut serving = self.stop.clone();
        let ends = tx.clone();
        tokio::spawn(async move {
            while !*serving.borrow() {
                tokio::select! {
                    r = serving.changed() => if r.is_err() { break },
                    () = ends.closed() => return,
                }
            }
            let _ = ends.send(true);
        });
        if let Ok(mut l) = self.leading.lock()
            && let Some(old) = l.replace(tx)
        {
            let _ = old.send(true);
        }
        if let Err(e) = self.node.reread_logs() {
            tracing::error!(error = %e, "reading the logs afresh after taking the lease");
        }
        self.node.start_federation(rx);
    }

    fn followed(&self) {
        self.node.stop_federation();
        if let Ok(mut l) = self.leading.lock()
            && let Some(old) = l.take()
        {
            let _ = old.send(true);
        }
    }

    fn following(&self) {
        if let Err(e) = self.node.reread_logs() {
            tracing::warn!(error = %e, "reading the logs the lease holder writes");
        }
    }

    fn forward_to(&self, url: &str) {
        match crate::replica::forward::to_holder(self.node.tls(), url) {
            Ok(f) => self.node.sequencer().follow(Some(f)),
            Err(e) => tracing::warn!(error = %e, url, "cannot forward to the lease holder"),
        }
    }
}
