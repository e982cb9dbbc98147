//! Call signalling between the two consoles of a call, relayed by the
//! nodes over the pinned peer link.
//!
//! A call's media flows directly between the operators' browsers (WebRTC,
//! encrypted by DTLS-SRTP); what the browsers must exchange first — a
//! greeting, the SDP offer and answer, ICE candidates, and a goodbye — goes
//! browser → own node → peer node (pinned TLS 1.3) → the other browser.
//! Signals are not entries: they are ephemeral, as WebRTC's are, and a lost
//! one is recovered by the greeting that each side repeats when it (re)joins.
//! What the logs keep is the call itself: request, acceptance, and each
//! side's record when it ends. Both nodes check every signal against those
//! entries: only the two offices of an accepted call can signal on it.

use hotline_proto::agreement::parse_id;
use hotline_proto::entry::{Kind, SignedEntry};
use hotline_proto::party::{Office, Party};
use serde::{Deserialize, Serialize};

use super::Link;
use crate::error::{Corrupt, NodeError, Result};

/// The largest signal accepted (an SDP offer with several media sections is
/// a few kilobytes).
pub const MAX_SIGNAL_BYTES: usize = 64 * 1024;

/// What a signal carries.
pub const KINDS: [&str; 5] = ["hello", "offer", "answer", "candidate", "bye"];

/// One signalling message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signal {
    /// The call: its request's id (`party:index`).
    pub call: String,
    /// The sending office.
    pub from: String,
    /// The office it is for.
    pub to: String,
    /// `hello`, `offer`, `answer`, `candidate` or `bye`.
    pub kind: String,
    /// The browser's payload (an SDP description, an ICE candidate, a name).
    #[serde(default)]
    pub data: serde_json::Value,
}

/// The two offices of an accepted call: (requester, addressee). Takes
/// anything holding the [`Link`] (the console holds the node).
pub fn call_offices(link: &impl AsRef<Link>, id: &str) -> Result<(Office, Office)> {
    let reads = &link.as_ref().reads;
    let (party, index) = parse_id(id).ok_or_else(|| {
        NodeError::BadInput(format!("{id:?} is not a call id (party:index, e.g. us:12)"))
    })?;
    let log = reads.log_of(&party)?;
    let leaf = reads
        .store
        .leaves(log, index, 1)?
        .into_iter()
        .next()
        .ok_or_else(|| NodeError::NotFound(format!("no call request {id} is held here")))?;
    let e =
        SignedEntry::from_leaf(&leaf.leaf).map_err(|e| NodeError::Corrupt(Corrupt::Entry(e)))?;
    let h = e.header();
    if h.kind != Kind::CallRequest {
        return Err(NodeError::BadInput(format!(
            "{id} is a {}, not a call request",
            h.kind
        )));
    }
    let requester = Office::new(&h.from).map_err(|e| NodeError::Corrupt(Corrupt::Name(e)))?;
    let addressee =
        h.to.clone()
            .ok_or_else(|| NodeError::Internal("a call request without an addressee".into()))?;
    let answers =
        reads
            .store
            .referencing(reads.log_of(&addressee.party())?, party.as_str(), index)?;
    // Only the addressed office's acceptance counts (as in the calls
    // projection): another office of that party cannot open the call.
    let accepted = answers.iter().any(|l| {
        SignedEntry::from_leaf(&l.leaf).is_ok_and(|r| {
            r.header().kind == Kind::CallAccept && r.header().from == addressee.as_str()
        })
    });
    if !accepted {
        return Err(NodeError::Conflict(format!(
            "call {id} has not been accepted (as far as this node holds); it can be joined once {addressee} accepts it"
        )));
    }
    Ok((requester, addressee))
}

/// Checks a signal from `sender` (a party): its kind, its size, and that
/// it goes between the two offices of an accepted call, from `sender`'s.
pub fn check(link: &Link, s: &Signal, sender: &Party) -> Result<(Office, Office)> {
    if !KINDS.contains(&s.kind.as_str()) {
        return Err(NodeError::BadInput(format!(
            "{:?} is not a signal; one of {}",
            s.kind,
            KINDS.join(", ")
        )));
    }
    let size = serde_json::to_vec(s).map(|v| v.len()).unwrap_or(usize::MAX);
    if size > MAX_SIGNAL_BYTES {
        return Err(NodeError::TooLarge(format!(
            "a signal of {size} bytes; the limit is {MAX_SIGNAL_BYTES}"
        )));
    }
    let bad = |what: &str| NodeError::BadInput(format!("{what}: {:?}", s.from));
    let from = Office::new(&s.from).map_err(|_| bad("not an office"))?;
    let to = Office::new(&s.to).map_err(|_| bad("not an office"))?;
    let (a, b) = call_offices(link, &s.call)?;
    let pair_ok = (from == a && to == b) || (from == b && to == a);
    if !pair_ok {
        return Err(NodeError::Forbidden(format!(
            "call {} is between {a} and {b}; {from} → {to} is not on it",
            s.call
        )));
    }
    if from.party() != *sender {
        return Err(NodeError::Forbidden(format!(
            "{sender} cannot signal for {from}"
        )));
    }
    Ok((from, to))
}

/// Relays a signal from one of this party's offices to the peer node.
/// Takes anything holding the [`Link`] (the console holds the node).
pub async fn send(link: &impl AsRef<Link>, s: &Signal) -> Result<()> {
    let link = link.as_ref();
    // The check reads the call's entries from the store: off the async threads.
    let (l, s2) = (link.clone(), s.clone());
    let (_, to) = tokio::task::spawn_blocking(move || check(&l, &s2, &l.reads.party))
        .await
        .map_err(NodeError::Task)??;
    let peer = link
        .reads
        .peers
        .peer(&to.party())
        .ok_or_else(|| NodeError::NotFound(format!("{} is not a pinned peer", to.party())))?;
    let client = peer.client.as_ref().ok_or_else(|| {
        NodeError::Conflict(format!(
            "this node has no address for {} (its identity has no url), so it cannot reach the other side of the call",
            peer.party
        ))
    })?;
    let body = serde_json::to_vec(s).map_err(NodeError::Json)?;
    let (status, _, bytes) = client
        .request(
            hyper::Method::POST,
            "/fed/v1/signal",
            "application/json",
            body,
        )
        .await
        .map_err(|e| NodeError::Busy(format!("{} is unreachable: {e}", peer.party)))?;
    if status.is_success() {
        Ok(())
    } else {
        Err(NodeError::Conflict(format!(
            "{} refused the signal ({status}): {}",
            peer.party,
            String::from_utf8_lossy(&bytes)
        )))
    }
}

/// Takes a signal from a peer: checked, then handed to this node's consoles.
pub fn receive(link: &Link, s: Signal, sender: &Party) -> Result<()> {
    check(link, &s, sender)?;
    // Nobody listening is fine: the greeting is repeated on joining.
    let _ = link.tells.signals.send(s);
    Ok(())
}
