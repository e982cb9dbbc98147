//! Witnessing, per C2SP tlog-witness: `add-checkpoint` on the witness side,
//! and asking a peer to cosign on the log side.
//!
//! hotline's witnesses say more than the base protocol: a hotline
//! cosignature states that at its time the witness held and had verified
//! the log up to exactly that size, and no more. So a witness cosigns a
//! checkpoint only if its mirror holds and has verified every entry up to
//! that size, the mirror's root at that size is the checkpoint's root, and
//! the mirror holds nothing beyond it. A checkpoint the mirror does not yet
//! cover is answered with `425 Too Early` (push the entries first); one the
//! mirror has outgrown with tlog-witness's conflict answer carrying the
//! mirror's size (ask again with a checkpoint at least that large); one that
//! contradicts the mirror is equivocation, and the evidence is kept. A
//! checkpoint whose `hotline-index` line is missing or is not the index of
//! the mirrored entries is refused (422), and that evidence is kept too.

use hotline_proto::checkpoint::{self, Cosignature};
use hotline_proto::keys::NoteVerifier;
use hotline_proto::{Hash, tree};

use super::mirror::index_refusal;
use super::{FedError, Link, Peer, evidence};
use crate::indexes::LogIndex;
use crate::store::{Advance, HashesOf, WitnessRequest};

/// A witness's answer: status, content type, body.
pub struct WitnessReply {
    /// HTTP status.
    pub status: u16,
    /// Content type.
    pub content_type: &'static str,
    /// Body.
    pub body: String,
}

fn reply(status: u16, body: impl Into<String>) -> WitnessReply {
    WitnessReply {
        status,
        content_type: "text/plain; charset=utf-8",
        body: body.into(),
    }
}

fn conflict(size: u64) -> WitnessReply {
    WitnessReply {
        status: 409,
        content_type: super::wire::TLOG_SIZE,
        body: format!("{size}\n"),
    }
}

/// Handles `POST …/add-checkpoint` from the pinned party `caller`, with the
/// exact status codes of C2SP tlog-witness.
///
/// Only the log's own party may ask. Every pinned peer holds the others'
/// signed checkpoints (its mirror keeps them), so without this any of them
/// could have this witness cosign a third party's log with a fresh time,
/// and that time is the bound below which this node refuses the third
/// party's entries as backdated: its backlog after a link outage would be
/// refused for good.
pub async fn add_checkpoint(link: &Link, caller: &str, body: &[u8]) -> WitnessReply {
    let req = match hotline_proto::witness::parse(body) {
        Ok(r) => r,
        Err(why) => return reply(400, format!("malformed add-checkpoint request: {why}\n")),
    };
    let Ok((origin, size, root)) = checkpoint::peek(&req.note) else {
        return reply(400, "malformed checkpoint\n");
    };
    let Some(peer) = link.reads.peers.peer_by_origin(&origin) else {
        return reply(
            404,
            format!("unknown log {origin}: this witness does not pin it\n"),
        );
    };
    if peer.party.as_str() != caller {
        let owner = &peer.party;
        return reply(
            403,
            format!(
                "{caller} asks for a cosignature of {origin}, which is {owner}'s log: only {owner} asks this witness to cosign it\n"
            ),
        );
    }
    let Ok(verified) = checkpoint::verify(&req.note, &peer.log_key, &[]) else {
        return reply(
            403,
            format!("no valid signature from the pinned key of {origin}\n"),
        );
    };
    let claimed = verified.index;
    if req.old > size {
        return reply(400, "old size is larger than the checkpoint's size\n");
    }
    if req.old == 0 && !req.proof.is_empty() {
        return reply(400, "the proof must be empty when the old size is 0\n");
    }
    // Hold the mirror still while comparing against it.
    let _mirror = peer.mirror_lock.lock().await;
    let store = link.reads.store.clone();
    let mirror = peer.mirror;
    let now = crate::clock::now().as_second();
    let witness_key = link.signs.witness.clone();
    let p2 = peer.clone();
    let result = tokio::task::spawn_blocking(move || -> Result<WitnessReply, FedError> {
        let have = store.size(mirror)?;
        if have < size {
            return Ok(reply(425, format!("this witness mirrors {have} entries of {origin}; push up to {size} before asking for a cosignature\n")));
        }
        let held = tree::root(&HashesOf { store: &*store, log: mirror }, size)?;
        if held != root {
            // A signed checkpoint that contradicts verified, signed history.
            let a = evidence::mirror_claim(&*store, mirror, size)?;
            if let Some(a) = a {
                evidence::keep(&*store, &origin, a, evidence::direct_claim(&req.note, size, root))?;
            }
            let cur = store.witness_state(&origin)?.map_or(0, |s| s.size);
            return Ok(conflict(cur));
        }
        if have > size {
            // Cosigning it now, with a fresh time, would say that this is all
            // the witness holds: the largest size it holds is the only one it
            // cosigns. (An old-size mismatch below also answers 409 with a
            // size; the log tells them apart by the size it asked for.)
            return Ok(conflict(have));
        }
        // The index this witness rebuilt from the entries it verified: a
        // cosignature covers the index line too.
        let ours = p2.with_index(&*store, |ix| {
            if ix.size() != size {
                *ix = LogIndex::load(&*store, mirror)?;
            }
            Ok(ix.root())
        })?;
        if claimed != Some(ours) {
            let id = evidence::keep_index_mismatch(&*store, &origin, &req.note, size, claimed, ours)?;
            let why = index_refusal(&p2.party, size, claimed, "this witness does not cosign it", id);
            return Ok(reply(422, format!("{why}\n")));
        }
        let wr = WitnessRequest { old: req.old, size, root, note: &req.note, now };
        let accept = |cur: &crate::store::WitnessState| {
            if cur.size == 0 {
                true
            } else {
                tree::verify_consistency(cur.size, size, cur.root, root, &req.proof).is_ok()
            }
        };
        match store.witness_advance(&origin, &wr, &accept)? {
            Advance::OldSizeMismatch(cur) => Ok(conflict(cur)),
            Advance::Refused(Some(cur)) if cur.size == size => {
                // Same size, another root: both signed. (The mirror check above
                // makes this rare; keep the evidence all the same.)
                evidence::keep(&*store, &origin, evidence::direct_claim(&cur.note, size, cur.root), evidence::direct_claim(&req.note, size, root))?;
                Ok(conflict(cur.size))
            }
            Advance::Refused(_) => Ok(reply(422, "the consistency proof does not verify\n")),
            Advance::Advanced => {
                let (text, _) = checkpoint::split(&req.note)?;
                let t = u64::try_from(now).unwrap_or(0);
                let line = checkpoint::cosign_line(&witness_key, text, t)?;
                // Kept, with what it covers, for claims about time later.
                store.record_cosignature(mirror, size, witness_key.name(), t, line.trim_end(), &req.note)?;
                Ok(WitnessReply { status: 200, content_type: "text/plain; charset=utf-8", body: line })
            }
        }
    })
    .await;
    match result {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => reply(500, format!("{e}\n")),
        Err(e) => reply(500, format!("{e}\n")),
    }
}

/// The body of an add-checkpoint request.
pub fn request_body(old: u64, proof: &[Hash], note: &[u8]) -> Vec<u8> {
    hotline_proto::witness::body(old, proof, note)
}

/// What asking one witness produced.
pub enum Cosigned {
    /// The witness cosigned at this time.
    Yes(Cosignature),
    /// The witness last cosigned another size; retry with it as the old size.
    OldSize(u64),
    /// The witness holds this many entries, more than the checkpoint asked
    /// about; ask again with a checkpoint at least that large.
    Ahead(u64),
    /// The witness has not mirrored up to the size yet.
    TooEarly,
}

/// Verifies a peer's reply lines and folds its cosignature into the stored checkpoint.
pub fn record(
    link: &Link,
    peer: &Peer,
    size: u64,
    note: &[u8],
    lines: &str,
) -> Result<Cosignature, FedError> {
    fold(
        link,
        &peer.witness_key,
        peer.party.as_str(),
        size,
        note,
        lines,
        false,
    )
}

/// Verifies the lines a witness answered (`reply`) as `key`'s cosignature
/// of the own checkpoint `note` at `size`, and folds that cosignature, and
/// nothing else of the reply, into the stored checkpoint: a peer's and a
/// C2SP witness's alike. `who` names the witness in errors.
///
/// `refuse_ahead`: refuse, rather than keep with an alert, a cosignature
/// dated beyond this node's clock and the skew. A peer's is kept (it is
/// that party's signed word, and the alert tells the operators to fix a
/// clock); a C2SP witness's is not: merged, it would have this node's own
/// bundles say the tree held nothing more until a time not yet come.
pub(crate) fn fold(
    link: &Link,
    key: &NoteVerifier,
    who: &str,
    size: u64,
    note: &[u8],
    reply: &str,
    refuse_ahead: bool,
) -> Result<Cosignature, FedError> {
    // Only the witness's own lines (its name, its key id): another name's
    // line in the stored note would fail for a reader who pins that name.
    let lines = checkpoint::lines_of(reply, key);
    if lines.is_empty() {
        return Err(FedError::Invalid(format!(
            "{who} answered without a signature line of its pinned key {} (key id {:08x})",
            key.name(),
            key.key_id()
        )));
    }
    // Verify the new line alone: an older line of the same witness (kept in
    // the stored note for this size) must not stand in for it.
    let name = key.name();
    let others = |l: &str| !checkpoint::signed_by(l, name);
    let with = checkpoint::filter_lines(note, others, &lines)?;
    let v = checkpoint::verify(&with, &link.reads.log_key, std::slice::from_ref(key)).map_err(
        |source| FedError::Cosignature {
            who: who.to_owned(),
            source,
        },
    )?;
    let c = v
        .cosignatures
        .into_iter()
        .find(|c| c.name == name)
        .ok_or_else(|| FedError::Invalid(format!("{who} answered without its cosignature")))?;
    // Kept all the same (it is a valid cosignature), but the sequencer does
    // not date entries by it and `hotline status` raises an alert.
    if let Some(why) = i64::try_from(c.time)
        .ok()
        .and_then(|t| jiff::Timestamp::from_second(t).ok())
        .and_then(|t| {
            super::status::clock_ahead(
                who,
                t,
                crate::clock::now(),
                link.settings.max_clock_skew_secs,
            )
        })
    {
        if refuse_ahead {
            return Err(FedError::Invalid(format!(
                "{why}; the cosignature was not merged"
            )));
        }
        tracing::warn!(witness = %who, "{why}");
    }
    // Keep one line per witness in the stored note: the newest.
    let merge = |current: &[u8]| {
        checkpoint::filter_lines(current, others, &lines).unwrap_or_else(|_| current.to_vec())
    };
    link.reads.store.add_cosignature(
        link.reads.own,
        size,
        name,
        c.time,
        lines.trim_end(),
        &merge,
    )?;
    Ok(c)
}
