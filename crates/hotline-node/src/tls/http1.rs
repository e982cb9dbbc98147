//! One HTTP/1.1 connection over TLS, served the same way on the API's
//! listener and on the peer link: keep-alive with a limit on how long a
//! request's header may take, and a graceful end when the node stops (the
//! request in flight is answered, no new one is read).

use std::time::Duration;

use hyper::body::{Body, Incoming};
use hyper::server::conn::http1;
use hyper::service::HttpService;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;

/// Serves `service` on `io` until the client closes the connection or
/// `stop` turns true; `idle` bounds the wait for each request's header.
pub(crate) async fn serve_until_stopped<I, S>(
    io: I,
    service: S,
    idle: Duration,
    stop: &mut watch::Receiver<bool>,
) -> Result<(), hyper::Error>
where
    I: AsyncRead + AsyncWrite + Unpin,
    S: HttpService<Incoming>,
    S::ResBody: 'static,
    <S::ResBody as Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(idle)
        .keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => r,
        () = until_true(stop) => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    }
}

/// Resolves when `flag` turns (or is) `true`; never if its sender is gone.
pub(crate) async fn until_true(flag: &mut watch::Receiver<bool>) {
    if flag.wait_for(|v| *v).await.is_err() {
        std::future::pending::<()>().await;
    }
}
