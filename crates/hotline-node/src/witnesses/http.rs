//! The client a C2SP witness is asked over: plain HTTP, or HTTPS verified
//! against the system's CA roots (TLS 1.3, rustls with ring, as the rest of
//! the node). A witness is a stranger on the open network, not a pinned
//! peer: its certificate is checked as a browser would, and what it says is
//! then checked against its pinned cosigner key.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// How long one request may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// The most a witness's answer may hold: a few signature lines, or a size.
pub const MAX_REPLY: usize = 16 * 1024;

/// A pooled HTTP(S) client for witnesses.
#[derive(Clone)]
pub struct WitnessClient {
    inner: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
}

/// A witness's answer: status, content type, body (at most [`MAX_REPLY`]).
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// `Content-Type`, if any.
    pub content_type: Option<String>,
    /// The body as text (lossy UTF-8).
    pub body: String,
}

impl WitnessClient {
    /// A client trusting the system's CA roots. Roots that fail to load are
    /// logged and skipped: plain-HTTP witnesses work without any.
    pub fn new() -> Self {
        let mut roots = rustls::RootCertStore::empty();
        let found = rustls_native_certs::load_native_certs();
        for e in &found.errors {
            tracing::warn!(error = %e, "loading the system's CA roots for HTTPS witnesses");
        }
        let (_, skipped) = roots.add_parsable_certificates(found.certs);
        if skipped > 0 {
            tracing::debug!(skipped, "system CA roots that do not parse");
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map(|b| b.with_root_certificates(roots).with_no_client_auth())
            .unwrap_or_else(|e| {
                // ring offers TLS 1.3; this is unreachable in practice.
                tracing::error!(error = %e, "TLS for witnesses");
                rustls::ClientConfig::builder_with_provider(Arc::new(
                    rustls::crypto::ring::default_provider(),
                ))
                .with_safe_default_protocol_versions()
                .expect("ring has default protocol versions")
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth()
            });
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        Self {
            inner: Client::builder(TokioExecutor::new()).build(connector),
        }
    }

    /// POSTs `body` to `url`, within [`TIMEOUT`], reading at most [`MAX_REPLY`].
    pub async fn post(&self, url: &str, body: Vec<u8>) -> Result<Reply, String> {
        let req = Request::builder()
            .method(Method::POST)
            .uri(url)
            .header("content-type", "text/plain; charset=utf-8")
            .header("user-agent", concat!("hotline/", env!("CARGO_PKG_VERSION")))
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| format!("{url} is not a URL to ask: {e}"))?;
        let call = async {
            let resp = self
                .inner
                .request(req)
                .await
                .map_err(|e| format!("no answer from {url}: {}", chain(&e)))?;
            let status = resp.status();
            let content_type = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let bytes = Limited::new(resp.into_body(), MAX_REPLY)
                .collect()
                .await
                .map_err(|e| {
                    format!("{url} answered {status} with a body over {MAX_REPLY} bytes or cut short: {e}")
                })?
                .to_bytes();
            Ok(Reply {
                status,
                content_type,
                body: String::from_utf8_lossy(&bytes).into_owned(),
            })
        };
        tokio::time::timeout(TIMEOUT, call)
            .await
            .map_err(|_| format!("{url} did not answer within {} s", TIMEOUT.as_secs()))?
    }
}

impl Default for WitnessClient {
    fn default() -> Self {
        Self::new()
    }
}

/// An error with its causes, as one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}
