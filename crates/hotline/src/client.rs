//! The CLI's client for its own node's API: over the Unix socket in the
//! node directory's `run/` (mode 0600 in a 0700 directory), with the bearer
//! token from the node directory. Never over TCP: after a crash the port in
//! `run/api.addr` may belong to anyone, and the token must not reach them.

use anyhow::{Context as _, Result, anyhow, bail};
use hotline_node::dir::NodeDir;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A connection to a running node.
pub struct NodeClient {
    sock: std::path::PathBuf,
    token: String,
}

/// The node is not running (no socket, or nothing listens on it).
#[derive(Debug, thiserror::Error)]
#[error(
    "the node for {dir} is not running; start it with `hotline serve --dir {dir}` (in another terminal), then try again"
)]
pub struct NotRunning {
    dir: String,
}

impl NodeClient {
    /// Finds the running node of `dir`, or says it is not running.
    pub async fn connect(dir: &NodeDir) -> Result<Self> {
        let not_running = || NotRunning {
            dir: dir.root().display().to_string(),
        };
        let token = std::fs::read_to_string(dir.api_token())
            .with_context(|| format!("reading {}", dir.api_token().display()))?;
        let c = Self {
            sock: dir.api_sock(),
            token: token.trim().to_owned(),
        };
        // No socket, or one left by a node that was killed: nothing listens.
        if c.raw(Method::GET, "/healthz", None).await.is_err() {
            return Err(not_running().into());
        }
        Ok(c)
    }

    /// One request on a fresh connection: the CLI makes a few, and the
    /// socket costs no handshake.
    async fn raw(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<(StatusCode, Bytes)> {
        let stream = tokio::net::UnixStream::connect(&self.sock)
            .await
            .with_context(|| format!("connecting to {}", self.sock.display()))?;
        let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        let driver = tokio::spawn(conn);
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "localhost")
            .header("authorization", format!("Bearer {}", self.token))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.unwrap_or_default())))?;
        let res = send.send_request(req).await?;
        let status = res.status();
        let bytes = res.into_body().collect().await?.to_bytes();
        drop(send);
        let _ = driver.await;
        Ok((status, bytes))
    }

    async fn call(&self, method: Method, path: &str, body: Option<Vec<u8>>) -> Result<Bytes> {
        let (status, bytes) = self
            .raw(method, path, body)
            .await
            .context("talking to the node")?;
        if !status.is_success() {
            let msg = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
            bail!("{msg}");
        }
        Ok(bytes)
    }

    /// POSTs JSON and decodes the JSON answer.
    pub async fn post<T: Serialize, R: DeserializeOwned>(&self, path: &str, body: &T) -> Result<R> {
        let bytes = self
            .call(Method::POST, path, Some(serde_json::to_vec(body)?))
            .await?;
        if bytes.is_empty() {
            return serde_json::from_str("null").map_err(|e| anyhow!("{e}"));
        }
        serde_json::from_slice(&bytes).context("decoding the node's answer")
    }

    /// DELETEs; no answer body is expected.
    pub async fn delete(&self, path: &str) -> Result<()> {
        self.call(Method::DELETE, path, None).await.map(|_| ())
    }

    /// GETs raw bytes.
    pub async fn get_bytes(&self, path: &str) -> Result<Bytes> {
        self.call(Method::GET, path, None).await
    }
}
