//! How a command reaches the node — in this process when no node process
//! holds the directory, else through the running node's API — and how it
//! reports the entry it wrote.

use anyhow::Result;
use hotline_node::api::CreatedJson;
use hotline_node::dir::NodeDir;
use hotline_node::{Node, NodeError};

use crate::client::NodeClient;

/// The node directory at `path`, once its config reads: every command
/// starts here so that a wrong `--dir` is said before anything else.
pub(crate) fn configured_dir(path: impl Into<std::path::PathBuf>) -> Result<NodeDir> {
    let dir = NodeDir::new(path.into());
    dir.read_config()?;
    Ok(dir)
}

pub(crate) fn created(node: &Node, a: &hotline_node::sequencer::Appended) -> CreatedJson {
    CreatedJson {
        id: format!("{}:{}", node.party(), a.index),
        index: a.index,
        leaf_hash: hotline_proto::b64::encode(a.leaf_hash.0),
        time: a.header.time.to_string(),
        effective: None,
    }
}

pub(crate) fn report(json: bool, out: &CreatedJson, sentence: &str) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(out)?);
    } else {
        println!("{sentence}, durable in this party's log.");
    }
    Ok(())
}

/// Writes one entry: through the node itself when no node process holds the
/// directory, else by posting `body` to the running node's API at `path`.
/// Either way the answer is the same `CreatedJson`.
pub(crate) async fn write_entry<B: serde::Serialize>(
    dir: &NodeDir,
    offline: impl AsyncFnOnce(&Node) -> hotline_node::Result<hotline_node::sequencer::Appended>,
    path: &str,
    body: &B,
) -> Result<CreatedJson> {
    match offline_node(dir)? {
        Some(node) => Ok(created(&node, &offline(&node).await?)),
        None => NodeClient::connect(dir).await?.post(path, body).await,
    }
}

/// A listing, read from the node itself when no node process holds the
/// directory, else from the running node's API at `path`.
pub(crate) async fn listing(
    dir: &NodeDir,
    offline: impl FnOnce(&Node) -> Result<serde_json::Value>,
    path: &str,
) -> Result<serde_json::Value> {
    match offline_node(dir)? {
        Some(node) => offline(&node),
        None => Ok(serde_json::from_slice(
            &NodeClient::connect(dir).await?.get_bytes(path).await?,
        )?),
    }
}

/// Opens the node directly if no node process holds it; `None` if one does.
pub(crate) fn offline_node(dir: &NodeDir) -> Result<Option<Node>> {
    match Node::open(dir) {
        Ok(n) => Ok(Some(n)),
        Err(NodeError::Busy(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
