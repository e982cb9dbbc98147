//! How the entry commands end: an entry written and said so, or a listing
//! printed as JSON or as a table; on the node directly when no node
//! process holds the directory, else through the running node's API.

use anyhow::Result;
use hotline_node::Node;
use hotline_node::dir::NodeDir;
use hotline_node::sequencer::Appended;
use serde_json::Value;

use crate::node_access::{listing, report, write_entry};

/// Writes one entry (see `write_entry`) and says so: `sentence` is given
/// the new entry's id.
pub(crate) async fn publish<B: serde::Serialize>(
    dir: &NodeDir,
    offline: impl AsyncFnOnce(&Node) -> hotline_node::Result<Appended>,
    path: &str,
    body: &B,
    json: bool,
    sentence: impl FnOnce(&str) -> String,
) -> Result<()> {
    let out = write_entry(dir, offline, path, body).await?;
    report(json, &out, &sentence(&out.id))
}

/// A listing (see `listing`), printed as JSON or as `print` lays it out;
/// offline it is what `offline` reads, as the API would serialise it.
pub(crate) async fn show<T: serde::Serialize>(
    dir: &NodeDir,
    json: bool,
    offline: impl FnOnce(&Node) -> Result<T>,
    path: &str,
    print: impl FnOnce(&Value),
) -> Result<()> {
    let offline = |n: &Node| Ok(serde_json::to_value(offline(n)?)?);
    let list = listing(dir, offline, path).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else {
        print(&list);
    }
    Ok(())
}
