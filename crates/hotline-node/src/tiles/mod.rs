//! C2SP tlog-tiles (<https://c2sp.org/tlog-tiles>) for every log the node
//! holds: its own and the mirror of each pinned peer, served on the API
//! address under `/tiles/<log>/`, where `<log>` is the party's name
//! (lowercase letters, digits and `-`, so always URL-safe):
//!
//! - `/tiles/` lists the logs as JSON;
//! - `/tiles/<log>/checkpoint`: the latest signed checkpoint, as stored;
//! - `/tiles/<log>/tile/<L>/<N>[.p/<W>]`: hash tiles, from the store's hashes;
//! - `/tiles/<log>/tile/entries/<N>[.p/<W>]`: entry bundles, from its leaves.
//!
//! Everything is cut at the size of the latest checkpoint. Full tiles never
//! change and say so (`Cache-Control: immutable`). Who may read: [`access`].

pub mod access;
pub mod entries;
pub mod hashes;
pub mod paths;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hotline_proto::party::Party;
use serde::Serialize;

use crate::node::Node;
use crate::store::LogId;
use paths::{Kind, TilePath};

#[derive(Clone)]
struct TilesState {
    node: Node,
    api_token_hash: Arc<[u8; 32]>,
}

/// A tiles error: a status and a JSON body saying what to do.
struct TileError(StatusCode, String);

impl IntoResponse for TileError {
    fn into_response(self) -> Response {
        let mut r = (
            self.0,
            axum::Json(serde_json::json!({ "error": self.1, "status": self.0.as_u16() })),
        )
            .into_response();
        if self.0 == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"hotline tiles\""),
            );
        }
        r
    }
}

fn internal(e: impl std::fmt::Display) -> TileError {
    tracing::error!(error = %e, "serving tiles failed");
    TileError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

/// The tiles routes, mounted on the API router.
pub fn router(node: Node, api_token_hash: Arc<[u8; 32]>) -> Router {
    Router::new()
        .route("/tiles/", get(list))
        .route("/tiles/{log}/checkpoint", get(checkpoint))
        .route("/tiles/{log}/tile/{*tile}", get(tile))
        .with_state(TilesState {
            node,
            api_token_hash,
        })
}

fn check(s: &TilesState, headers: &HeaderMap) -> Result<(), TileError> {
    if access::allowed(s.node.dir(), s.node.config(), &s.api_token_hash, headers) {
        Ok(())
    } else {
        Err(TileError(
            StatusCode::UNAUTHORIZED,
            "the tiles need a read token: send `Authorization: Bearer <token>` with a token from `hotline tiles token` (or the API token), or set `[tiles] public = true` in hotline.toml".into(),
        ))
    }
}

/// The log a name in the path stands for: the own party's or a pinned peer's.
fn resolve(node: &Node, name: &str) -> Result<LogId, TileError> {
    let unknown = || {
        TileError(
            StatusCode::NOT_FOUND,
            format!("no log named {name:?} here; /tiles/ lists the logs this node serves"),
        )
    };
    let party = Party::new(name).map_err(|_| unknown())?;
    if &party == node.party() {
        return Ok(node.log_id());
    }
    node.federation()
        .peer(&party)
        .map(|p| p.mirror)
        .ok_or_else(unknown)
}

/// One log in the listing.
#[derive(Serialize)]
struct LogJson {
    /// The name in the tiles paths.
    name: String,
    /// The checkpoint origin line.
    origin: String,
    /// Whether this is the node's own log (otherwise a mirror).
    own: bool,
    /// The size of the latest checkpoint, if any.
    size: Option<u64>,
    /// The tiles prefix of this log.
    prefix: String,
}

async fn list(State(s): State<TilesState>, headers: HeaderMap) -> Result<Response, TileError> {
    check(&s, &headers)?;
    let node = s.node.clone();
    let logs = tokio::task::spawn_blocking(move || -> Result<Vec<LogJson>, TileError> {
        let store = node.store();
        let mut out = vec![LogJson {
            name: node.party().to_string(),
            origin: node.config().origin.clone(),
            own: true,
            size: store
                .latest_checkpoint(node.log_id())
                .map_err(internal)?
                .map(|c| c.0),
            prefix: format!("/tiles/{}/", node.party()),
        }];
        let mut peers = node.federation().all();
        peers.sort_by(|a, b| a.party.cmp(&b.party));
        for p in peers {
            out.push(LogJson {
                name: p.party.to_string(),
                origin: p.log_key.name().to_owned(),
                own: false,
                size: store
                    .latest_checkpoint(p.mirror)
                    .map_err(internal)?
                    .map(|c| c.0),
                prefix: format!("/tiles/{}/", p.party),
            });
        }
        Ok(out)
    })
    .await
    .map_err(internal)??;
    Ok(axum::Json(serde_json::json!({ "logs": logs })).into_response())
}

async fn checkpoint(
    State(s): State<TilesState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, TileError> {
    check(&s, &headers)?;
    let log = resolve(&s.node, &name)?;
    let node = s.node.clone();
    let cp = tokio::task::spawn_blocking(move || node.store().latest_checkpoint(log))
        .await
        .map_err(internal)?
        .map_err(internal)?
        .ok_or_else(|| {
            TileError(
                StatusCode::NOT_FOUND,
                format!("log {name:?} has no checkpoint yet"),
            )
        })?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        cp.1,
    )
        .into_response())
}

async fn tile(
    State(s): State<TilesState>,
    Path((name, rest)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, TileError> {
    check(&s, &headers)?;
    let log = resolve(&s.node, &name)?;
    let t =
        TilePath::parse(&rest).map_err(|e| TileError(StatusCode::BAD_REQUEST, e.to_string()))?;
    let node = s.node.clone();
    let body = tokio::task::spawn_blocking(move || -> Result<Option<Vec<u8>>, TileError> {
        let store = node.store();
        let Some((size, _)) = store.latest_checkpoint(log).map_err(internal)? else {
            return Ok(None);
        };
        match t.kind {
            Kind::Hashes(l) => hashes::read(&**store, log, size, l, t.n, t.width).map_err(internal),
            Kind::Entries => entries::read(&**store, log, size, t.n, t.width).map_err(internal),
        }
    })
    .await
    .map_err(internal)??
    .ok_or_else(|| {
        TileError(
            StatusCode::NOT_FOUND,
            format!(
                "{} is beyond the latest checkpoint of log {name:?}",
                t.path()
            ),
        )
    })?;
    let cache = match (t.is_full(), s.node.config().tiles.public) {
        (true, true) => "public, max-age=31536000, immutable",
        (true, false) => "private, max-age=31536000, immutable",
        (false, _) => "no-cache",
    };
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, cache),
        ],
        body,
    )
        .into_response())
}
