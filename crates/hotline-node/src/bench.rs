//! What the CLI's benchmarks and demo reach below the API, and nothing else
//! does: the store and the sequencer stay private to the node otherwise, so
//! that every write goes through the node's own checks.

use std::sync::Arc;

use crate::node::Node;
use crate::sequencer::Sequencer;
use crate::store::Store;

/// The node's store.
pub fn store(node: &Node) -> &Arc<dyn Store> {
    node.store()
}

/// The node's sequencer.
pub fn sequencer(node: &Node) -> &Sequencer {
    node.sequencer()
}
