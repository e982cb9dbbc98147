//! The peer transport end to end over loopback: pinned TLS 1.3 both ways,
//! PeerParty on requests, run-time pins, pause/resume, and curl as an
//! independent client.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use axum::routing::{get, post};
use hotline_node::tls::{
    PeerClient, PeerParty, PinSet, TlsError, TlsIdentity, check_pin, client_config, serve_peers,
    server_config,
};
use prometheus_client::metrics::counter::Counter;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tower::ServiceExt as _;

const TIMEOUT: Duration = Duration::from_secs(5);

/// How many times a handler ran.
#[derive(Clone, Default)]
struct Hits(Arc<AtomicUsize>);

impl Hits {
    fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// `/whoami` answers the peer party; `/echo` answers the body and its type;
/// `/slow` counts itself after 300 ms.
fn app(hits: Hits) -> Router {
    Router::new()
        .route(
            "/whoami",
            get(
                |State(hits): State<Hits>, PeerParty(party): PeerParty| async move {
                    hits.0.fetch_add(1, Ordering::SeqCst);
                    party
                },
            ),
        )
        .route(
            "/echo",
            post(
                |State(hits): State<Hits>,
                 PeerParty(_): PeerParty,
                 headers: HeaderMap,
                 body: Bytes| async move {
                    hits.0.fetch_add(1, Ordering::SeqCst);
                    let ct = headers
                        .get(header::CONTENT_TYPE)
                        .cloned()
                        .unwrap_or(header::HeaderValue::from_static("none"));
                    ([(header::CONTENT_TYPE, ct)], body)
                },
            ),
        )
        .route(
            "/slow",
            post(
                |State(hits): State<Hits>, PeerParty(_): PeerParty| async move {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    hits.0.fetch_add(1, Ordering::SeqCst);
                },
            ),
        )
        .with_state(hits)
}

/// A running peer listener.
struct Server {
    addr: SocketAddr,
    pins: PinSet,
    hits: Hits,
    failed: Counter,
    open: watch::Sender<bool>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(id: &TlsIdentity, pins: PinSet) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Hits::default();
        let failed = Counter::default();
        let (open, open_rx) = watch::channel(true);
        let (stop, stop_rx) = oneshot::channel::<()>();
        let config = server_config(id, pins.clone()).unwrap();
        let task = tokio::spawn(serve_peers(
            listener,
            config,
            pins.clone(),
            app(hits.clone()),
            open_rx,
            failed.clone(),
            hotline_node::tls::server::PeerLimits::default(),
            async move {
                let _ = stop_rx.await;
            },
        ));
        Self {
            addr,
            pins,
            hits,
            failed,
            open,
            stop,
            task,
        }
    }

    fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// Shuts the listener down and checks that `serve_peers` returns.
    async fn stop(self) {
        self.stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("serve_peers returns after shutdown")
            .unwrap()
            .unwrap();
    }

    /// Waits (briefly) until the failed-handshake counter reaches `n`: the
    /// server counts just after the client sees the alert.
    async fn wait_failed(&self, n: u64) {
        for _ in 0..100 {
            if self.failed.get() >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("failed handshakes: {} < {n}", self.failed.get());
    }
}

fn client(id: &TlsIdentity, server_pin: &str, url: &str) -> PeerClient {
    PeerClient::new(url, client_config(id, server_pin).unwrap(), TIMEOUT).unwrap()
}

fn pins_of(entries: &[(&TlsIdentity, &str)]) -> PinSet {
    let pins = PinSet::new();
    for (id, party) in entries {
        pins.insert(id.pin().to_owned(), (*party).to_owned());
    }
    pins
}

async fn whoami(c: &PeerClient) -> Result<String, TlsError> {
    let (status, _, body) = c.request(Method::GET, "/whoami", "", Vec::new()).await?;
    assert_eq!(status, StatusCode::OK);
    Ok(String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn pinned_client_is_served_as_its_party() {
    let us = TlsIdentity::generate("us").unwrap();
    let ru = TlsIdentity::generate("ru").unwrap();
    let server = Server::start(&ru, pins_of(&[(&us, "us")])).await;
    let c = client(&us, ru.pin(), &server.url());

    assert_eq!(whoami(&c).await.unwrap(), "us");
    let (status, headers, body) = c
        .request(
            Method::POST,
            "/echo",
            "application/json",
            b"{\"a\":1}".to_vec(),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(&body[..], b"{\"a\":1}");
    // Unknown routes are the router's answer, not a transport error.
    let (status, _, _) = c
        .request(Method::GET, "/nope", "", Vec::new())
        .await
        .unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Concurrent requests from several tasks on one client.
    let mut tasks = Vec::new();
    for i in 0..8u8 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let (status, _, body) = c
                .request(Method::POST, "/echo", "text/plain", vec![i; 1000])
                .await
                .unwrap();
            assert_eq!(status, StatusCode::OK);
            assert_eq!(body.to_vec(), vec![i; 1000]);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(server.hits.get(), 2 + 8);
    assert_eq!(server.failed.get(), 0);
    server.stop().await;
}

#[tokio::test]
async fn unpinned_client_is_refused_during_the_handshake() {
    let us = TlsIdentity::generate("us").unwrap();
    let ru = TlsIdentity::generate("ru").unwrap();
    let other = TlsIdentity::generate("other").unwrap();
    // The server knows some other party, not `us`.
    let server = Server::start(&ru, pins_of(&[(&other, "other")])).await;
    let c = client(&us, ru.pin(), &server.url());

    let err = whoami(&c).await.unwrap_err();
    assert!(
        matches!(err, TlsError::RefusedByPeer { .. }),
        "expected RefusedByPeer, got {err:?}: {err}"
    );
    server.wait_failed(1).await;
    assert_eq!(server.hits.get(), 0, "the handler must never run");
    server.stop().await;
}

#[tokio::test]
async fn client_refuses_a_server_with_another_key() {
    let us = TlsIdentity::generate("us").unwrap();
    let ru = TlsIdentity::generate("ru").unwrap();
    let impostor = TlsIdentity::generate("ru").unwrap();
    let server = Server::start(&impostor, pins_of(&[(&us, "us")])).await;
    let c = client(&us, ru.pin(), &server.url());

    match whoami(&c).await.unwrap_err() {
        TlsError::PeerKeyMismatch { expected, got, .. } => {
            assert_eq!(expected, ru.pin());
            assert_eq!(got, impostor.pin());
        }
        other => panic!("expected PeerKeyMismatch, got {other:?}: {other}"),
    }
    assert_eq!(server.hits.get(), 0, "the handler must never run");
    server.wait_failed(1).await;
    server.stop().await;
}

#[tokio::test]
async fn pins_changed_at_run_time_take_effect_without_restart() {
    let us = TlsIdentity::generate("us").unwrap();
    let ru = TlsIdentity::generate("ru").unwrap();
    let server = Server::start(&ru, PinSet::new()).await;
    let c = client(&us, ru.pin(), &server.url());
    assert!(whoami(&c).await.is_err(), "nobody is pinned yet");

    server.pins.insert(us.pin().to_owned(), "us".to_owned());
    assert_eq!(whoami(&c).await.unwrap(), "us");

    // Removed: new connections are refused (the open one may finish).
    assert_eq!(server.pins.remove(us.pin()).as_deref(), Some("us"));
    let fresh = client(&us, ru.pin(), &server.url());
    assert!(whoami(&fresh).await.is_err(), "removed pin still accepted");
    assert_eq!(server.hits.get(), 1);
    server.stop().await;
}

#[tokio::test]
async fn pause_cuts_the_link_and_the_client_reconnects_on_resume() {
    let us = TlsIdentity::generate("us").unwrap();
    let ru = TlsIdentity::generate("ru").unwrap();
    let server = Server::start(&ru, pins_of(&[(&us, "us")])).await;
    let c = client(&us, ru.pin(), &server.url());
    assert_eq!(whoami(&c).await.unwrap(), "us");

    server.open.send(false).unwrap();
    // Let the server cut the open connection.
    tokio::time::sleep(Duration::from_millis(100)).await;
    for _ in 0..3 {
        let started = tokio::time::Instant::now();
        let err = whoami(&c).await.unwrap_err();
        assert!(
            !matches!(err, TlsError::Timeout { .. }),
            "a paused link must fail fast, not hang: {err}"
        );
        assert!(started.elapsed() < Duration::from_secs(2));
    }
    assert_eq!(server.hits.get(), 1);

    server.open.send(true).unwrap();
    assert_eq!(whoami(&c).await.unwrap(), "us");
    assert_eq!(whoami(&c).await.unwrap(), "us");
    assert_eq!(server.hits.get(), 3);
    server.stop().await;
}

#[tokio::test]
async fn cutting_the_link_loses_the_answer_but_not_the_handler() {
    let us = TlsIdentity::generate("us").unwrap();
    let ru = TlsIdentity::generate("ru").unwrap();
    let server = Server::start(&ru, pins_of(&[(&us, "us")])).await;
    let c = client(&us, ru.pin(), &server.url());
    let slow = tokio::spawn({
        let c = c.clone();
        async move { c.request(Method::POST, "/slow", "", Vec::new()).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.open.send(false).unwrap();
    assert!(slow.await.unwrap().is_err(), "the answer should be lost");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(server.hits.get(), 1, "the handler must run to completion");
    server.stop().await;
}

#[tokio::test]
async fn curl_is_an_independent_client() {
    let curl_version = tokio::process::Command::new("curl")
        .arg("--version")
        .output()
        .await
        .expect("curl is not installed: this test needs it as an independent client (apt-get install -y curl)");
    assert!(curl_version.status.success());

    let us = TlsIdentity::generate("us").unwrap();
    let ru = TlsIdentity::generate("ru").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (key, crt) = (
        dir.path().join("keys/tls.key"),
        dir.path().join("keys/tls.crt"),
    );
    us.save(&key, &crt).unwrap();
    let server = Server::start(&ru, pins_of(&[(&us, "us")])).await;
    let url = format!("{}/whoami", server.url());

    let curl = |pin: &str, extra: &[&str]| {
        let mut cmd = tokio::process::Command::new("curl");
        cmd.args(["-sS", "--max-time", "10", "-k"])
            .arg("--pinnedpubkey")
            .arg(format!("sha256//{pin}"))
            .args(extra)
            .arg(&url);
        cmd
    };
    let with_cert = [
        "--cert",
        crt.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
    ];

    let ok = curl(ru.pin(), &with_cert).output().await.unwrap();
    assert!(
        ok.status.success(),
        "curl with the right pin and a pinned client cert failed: {}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&ok.stdout), "us");
    assert_eq!(server.hits.get(), 1);

    // Wrong server pin: curl refuses (exit 90, CURLE_SSL_PINNEDPUBKEYNOTMATCH).
    let wrong = curl(us.pin(), &with_cert).output().await.unwrap();
    assert_eq!(
        wrong.status.code(),
        Some(90),
        "curl with a wrong pin: {}",
        String::from_utf8_lossy(&wrong.stderr)
    );

    // No client certificate: the server refuses.
    let anonymous = curl(ru.pin(), &[]).output().await.unwrap();
    assert!(
        !anonymous.status.success(),
        "a client without a certificate got in"
    );

    // TLS 1.2 is not offered.
    let old = curl(ru.pin(), &[&with_cert[..], &["--tls-max", "1.2"]].concat())
        .output()
        .await
        .unwrap();
    assert!(!old.status.success(), "a TLS 1.2 client got in");

    assert_eq!(
        server.hits.get(),
        1,
        "only the first curl may reach the handler"
    );
    // The client without a certificate and the TLS 1.2 one. (curl checks the
    // pin after its handshake completes, then hangs up: not a failure here.)
    server.wait_failed(2).await;
    server.stop().await;
}

#[test]
fn identity_saves_and_loads_with_the_same_pin() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let (key, crt) = (
        dir.path().join("keys/tls.key"),
        dir.path().join("keys/tls.crt"),
    );
    let id = TlsIdentity::generate("us").unwrap();
    id.save(&key, &crt).unwrap();
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode, 0o600,
        "the key file must be readable by its owner only"
    );
    let text = std::fs::read_to_string(&key).unwrap();
    assert!(text.starts_with("-----BEGIN PRIVATE KEY-----"), "{text}");

    let loaded = TlsIdentity::load(&key, &crt).unwrap();
    assert_eq!(loaded.pin(), id.pin());
    check_pin(id.pin()).unwrap();
    assert_ne!(id.pin(), TlsIdentity::generate("us").unwrap().pin());

    // Never overwrites a key that peers have pinned.
    let again = TlsIdentity::generate("us").unwrap();
    assert!(matches!(
        again.save(&key, &crt),
        Err(TlsError::Exists { .. })
    ));
    assert_eq!(TlsIdentity::load(&key, &crt).unwrap().pin(), id.pin());

    // A key with someone else's certificate is refused.
    let (key2, crt2) = (dir.path().join("k2"), dir.path().join("c2"));
    again.save(&key2, &crt2).unwrap();
    assert!(matches!(
        TlsIdentity::load(&key, &crt2),
        Err(TlsError::KeyMismatch { .. })
    ));
    // Garbage is reported as such.
    std::fs::write(&crt2, "not a certificate").unwrap();
    assert!(matches!(
        TlsIdentity::load(&key2, &crt2),
        Err(TlsError::BadFile { .. })
    ));
    assert!(matches!(
        TlsIdentity::load(&dir.path().join("missing"), &crt),
        Err(TlsError::Read { .. })
    ));
}

#[test]
fn bad_pins_and_urls_are_refused_up_front() {
    let id = TlsIdentity::generate("us").unwrap();
    for pin in ["", "sha256//abc", "not base64!", "AAAA"] {
        assert!(
            matches!(client_config(&id, pin), Err(TlsError::BadPin { .. })),
            "{pin:?}"
        );
    }
    let config = client_config(&id, id.pin()).unwrap();
    for url in [
        "http://127.0.0.1:1",
        "127.0.0.1:1",
        "https://127.0.0.1:1/v1",
        "https://u:p@127.0.0.1:1",
        "https://",
    ] {
        assert!(
            matches!(
                PeerClient::new(url, config.clone(), TIMEOUT),
                Err(TlsError::BadUrl { .. })
            ),
            "{url:?}"
        );
    }
    for url in [
        "https://127.0.0.1:1",
        "https://[::1]:8443/",
        "https://peer.example",
    ] {
        PeerClient::new(url, config.clone(), TIMEOUT).unwrap();
    }
}

#[tokio::test]
async fn peer_party_is_required_outside_the_peer_listener() {
    // The same router mounted without serve_peers refuses peer routes.
    let response = app(Hits::default())
        .oneshot(
            Request::get("/whoami")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
}

#[tokio::test]
async fn unreachable_peer_is_a_connect_error() {
    let us = TlsIdentity::generate("us").unwrap();
    // Bind and drop to get a port with nobody listening.
    let addr = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let c = client(&us, us.pin(), &format!("https://{addr}"));
    let err = whoami(&c).await.unwrap_err();
    assert!(matches!(err, TlsError::Connect { .. }), "{err:?}");
}

#[tokio::test]
async fn unpinned_client_sending_a_large_body_still_learns_why() {
    let us = TlsIdentity::generate("us").unwrap();
    let ru = TlsIdentity::generate("ru").unwrap();
    let server = Server::start(&ru, PinSet::new()).await;
    let c = client(&us, ru.pin(), &server.url());
    let err = c
        .request(
            Method::POST,
            "/echo",
            "application/octet-stream",
            vec![7; 256 * 1024],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, TlsError::RefusedByPeer { .. }),
        "expected RefusedByPeer, got {err:?}: {err}"
    );
    assert_eq!(server.hits.get(), 0);
    server.stop().await;
}
