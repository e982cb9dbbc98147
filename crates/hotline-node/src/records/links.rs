//! The links to the pinned peers as `hotline status` shows them: up or
//! down, what waits to be delivered, and when each side last cosigned the
//! other's log.

use hotline_proto::party::Party;

use super::Records;
use crate::error::{NodeError, Result};
use crate::federation::status::{PeerStatus, peer_status};

impl Records {
    /// The link to every pinned peer.
    pub fn links(&self) -> Result<Vec<PeerStatus>> {
        self.node
            .federation()
            .all()
            .iter()
            .map(|peer| peer_status(&self.node, peer).map_err(NodeError::Federation))
            .collect()
    }

    /// The link to `party`.
    pub fn link(&self, party: &Party) -> Result<PeerStatus> {
        let peer = self
            .node
            .federation()
            .peer(party)
            .ok_or_else(|| NodeError::NotFound(format!("{party} is not a pinned peer")))?;
        peer_status(&self.node, &peer).map_err(NodeError::Federation)
    }
}
