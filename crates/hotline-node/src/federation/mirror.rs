//! Receiving a peer's log: every pushed entry is checked before it is kept.
//!
//! For each new entry the mirror checks that it belongs to the pushing
//! party's log, that its signature verifies under the key that log announced
//! (the party's log key for `key` entries, the office's announced key
//! otherwise), that a sealed body matches its commitment, and that the tree
//! rebuilt from the mirror plus the new leaves has exactly the root the
//! sender signed. Only then is the batch committed, in one transaction.
//!
//! An entry the mirror already holds is skipped if it is the same leaf. A
//! different leaf at a held index is equivocation: the mirror builds the
//! evidence (two signed checkpoints that disagree about one prefix) and keeps
//! it.

use std::collections::HashMap;

use ed25519_dalek::VerifyingKey;
use hotline_proto::bundle::RootClaim;
use hotline_proto::checkpoint::{self, VerifiedCheckpoint};
use hotline_proto::entry::{KeyAction, Kind, SignedEntry};
use hotline_proto::keys::NoteVerifier;
use hotline_proto::name::Party;
use hotline_proto::{Hash, b64, seal, tree};

use super::FedError;
use super::evidence;
use super::wire::{MAX_PUSH_ENTRIES, Push, PushAck};
use crate::store::{AppendBatch, LogId, NewLeaf, Overlay, Store, extend_tree};

/// The office keys a peer's log has announced so far.
pub type OfficeKeys = HashMap<String, Option<VerifyingKey>>;

/// Loads the office keys announced in a mirrored log.
pub fn load_keys(store: &dyn Store, log: LogId) -> Result<OfficeKeys, FedError> {
    let mut keys = OfficeKeys::new();
    for l in store.key_leaves(log)? {
        let e = SignedEntry::from_leaf(&l.leaf)
            .map_err(|e| FedError::Internal(format!("mirror entry {}: {e}", l.index)))?;
        learn(&mut keys, &e);
    }
    Ok(keys)
}

fn learn(keys: &mut OfficeKeys, e: &SignedEntry) {
    if let Some(k) = &e.header().key {
        let vk = match k.action {
            KeyAction::Revoke => None,
            _ => k.keys.verifying_key().ok(),
        };
        keys.insert(k.keys.office.to_string(), vk);
    }
}

/// Checks one entry of `party`'s log against the keys known so far.
fn check_entry(
    e: &SignedEntry,
    index: u64,
    party: &Party,
    log_key: &NoteVerifier,
    keys: &OfficeKeys,
    sealed: Option<&[u8]>,
    latest: jiff::Timestamp,
) -> Result<(), FedError> {
    let h = e.header();
    let bad = |why: String| FedError::Invalid(format!("entry {index}: {why}"));
    if h.time > latest {
        return Err(bad(format!(
            "dated {}, later than this node's clock allows ({latest}, max_clock_skew_secs in hotline.toml); check the sender's clock",
            h.time
        )));
    }
    if &h.log != party {
        return Err(bad(format!("belongs to log {}, not {party}", h.log)));
    }
    if h.prev.is_some_and(|p| p >= index) {
        return Err(bad("its prev points forward".into()));
    }
    if h.from == party.as_str() {
        // The party's own log key signs key announcements, agreements, and
        // receipts for entries addressed to offices it does not have.
        if !matches!(h.kind, Kind::Key | Kind::Agreement | Kind::Receipt) {
            return Err(bad(format!(
                "a {} entry must be signed by an office, not by the party",
                h.kind
            )));
        }
        e.verify(log_key.public_key())
            .map_err(|err| bad(err.to_string()))?;
    } else if h.kind == Kind::Key || h.kind == Kind::Agreement {
        return Err(bad(format!(
            "a {} entry must be signed by the party",
            h.kind
        )));
    } else {
        let office_party = h.from.split_once('/').map(|(p, _)| p);
        if office_party != Some(party.as_str()) {
            return Err(bad(format!(
                "signed by {}, which is not an office of {party}",
                h.from
            )));
        }
        let vk = keys
            .get(&h.from)
            .ok_or_else(|| bad(format!("no key was announced for {} before it", h.from)))?
            .ok_or_else(|| bad(format!("the key of {} was revoked", h.from)))?;
        e.verify(&vk).map_err(|err| bad(err.to_string()))?;
    }
    match (&h.body, sealed) {
        (Some(b), Some(s)) => {
            if b64::encode(seal::sealed_hash(s)) != b.sealed || b.size != s.len() as u64 {
                return Err(bad("the sealed body does not match its commitment".into()));
            }
        }
        (Some(_), None) => return Err(bad("the sealed body is missing".into())),
        (None, Some(_)) => {
            return Err(bad(
                "a sealed body came with an entry that commits to none".into()
            ));
        }
        (None, None) => {}
    }
    Ok(())
}

/// One pushed entry as decoded: its index, the entry, its sealed body.
pub type Decoded = (u64, SignedEntry, Option<Vec<u8>>);

/// Decodes every entry of a push (base64, then the one canonical leaf of an
/// entry) without checking it against the mirror, the keys or the
/// checkpoint: the part of [`accept`] that reads the peer's bytes, kept
/// apart so that it can be fuzzed alone.
pub fn decode(push: &Push) -> Result<Vec<Decoded>, FedError> {
    let mut leaves = Vec::with_capacity(push.entries.len());
    for e in &push.entries {
        let leaf = b64::decode(&e.leaf)
            .ok_or_else(|| FedError::Invalid(format!("entry {}: leaf is not base64", e.index)))?;
        let sealed = e
            .sealed
            .as_deref()
            .map(|s| {
                b64::decode(s).ok_or_else(|| {
                    FedError::Invalid(format!("entry {}: sealed body is not base64", e.index))
                })
            })
            .transpose()?;
        let entry = SignedEntry::from_leaf(&leaf)
            .map_err(|err| FedError::Invalid(format!("entry {}: {err}", e.index)))?;
        leaves.push((e.index, entry, sealed));
    }
    Ok(leaves)
}

/// The outcome of a push.
pub enum Accepted {
    /// Stored (or already held); the mirror's size now.
    Ok(PushAck),
    /// The push starts beyond the mirror: the sender must resend from here.
    Gap(PushAck),
    /// The push contradicts the mirror: evidence kept under this id.
    Equivocation(i64),
}

/// Verifies and stores a push from `party`. Call with the peer's mirror lock held.
pub fn accept(
    store: &dyn Store,
    mirror: LogId,
    party: &Party,
    log_key: &NoteVerifier,
    keys: &mut OfficeKeys,
    push: &Push,
    max_skew_secs: u64,
) -> Result<Accepted, FedError> {
    let latest = crate::clock::now()
        .checked_add(jiff::SignedDuration::from_secs(
            i64::try_from(max_skew_secs).unwrap_or(i64::MAX),
        ))
        .unwrap_or(jiff::Timestamp::MAX);
    if push.origin != log_key.name() {
        return Err(FedError::Forbidden(format!(
            "{party} pushes log {}, but its pinned log is {}",
            push.origin,
            log_key.name()
        )));
    }
    if push.entries.len() > MAX_PUSH_ENTRIES {
        return Err(FedError::TooLarge(format!(
            "{} entries in one push; the limit is {MAX_PUSH_ENTRIES}",
            push.entries.len()
        )));
    }
    let cp = checkpoint::verify(push.checkpoint.as_bytes(), log_key, &[])
        .map_err(|e| FedError::Forbidden(format!("push checkpoint: {e}")))?;
    let have = store.size(mirror)?;
    let Some(first) = push.entries.first().map(|e| e.index) else {
        return Ok(Accepted::Ok(PushAck { mirror_size: have }));
    };
    if first > have {
        return Ok(Accepted::Gap(PushAck { mirror_size: have }));
    }
    let end = first + push.entries.len() as u64;
    if push
        .entries
        .iter()
        .enumerate()
        .any(|(i, e)| e.index != first + i as u64)
    {
        return Err(FedError::Invalid("entries are not contiguous".into()));
    }
    if cp.size != end {
        return Err(FedError::Invalid(format!(
            "the checkpoint is for size {}, not the end of the pushed run ({end})",
            cp.size
        )));
    }
    let leaves = decode(push)?;
    let hashes: Vec<Hash> = leaves.iter().map(|(_, e, _)| e.leaf_hash()).collect();

    // What the mirror holds already must be the same leaves.
    let overlap = usize::try_from(have.min(end) - first).unwrap_or(0);
    if overlap > 0 {
        let held = store.leaves(mirror, first, overlap as u64)?;
        if let Some(i) = held
            .iter()
            .zip(&hashes)
            .position(|(h, p)| h.leaf_hash != *p)
        {
            return fork(store, mirror, &cp, push, first, &hashes, first + i as u64)
                .map(Accepted::Equivocation);
        }
    }
    let new = &leaves[overlap..];
    if new.is_empty() {
        return Ok(Accepted::Ok(PushAck { mirror_size: have }));
    }
    let mut staged = keys.clone();
    let mut rows = Vec::with_capacity(new.len());
    for (index, entry, sealed) in new {
        check_entry(
            entry,
            *index,
            party,
            log_key,
            &staged,
            sealed.as_deref(),
            latest,
        )?;
        learn(&mut staged, entry);
        rows.push(NewLeaf::from_entry(entry, sealed.clone()));
    }
    let (tree_hashes, root) = extend_tree(store, mirror, have, &hashes[overlap..])?;
    if root != cp.root {
        return Err(FedError::Invalid(format!(
            "the pushed entries do not make the tree the checkpoint signs (size {end}); refusing all of them"
        )));
    }
    store.append(&AppendBatch {
        log: mirror,
        first: have,
        leaves: &rows,
        first_hash: tree::stored_hash_count(have),
        hashes: &tree_hashes,
        checkpoint: Some((end, push.checkpoint.as_bytes())),
        now: crate::clock::now().as_second(),
    })?;
    *keys = staged;
    Ok(Accepted::Ok(PushAck { mirror_size: end }))
}

/// The pushed run has a different leaf at `at` than the mirror. If the
/// sender's checkpoint really signs that run, both views are signed: keep the
/// evidence. Otherwise the push is merely invalid.
fn fork(
    store: &dyn Store,
    mirror: LogId,
    cp: &VerifiedCheckpoint,
    push: &Push,
    first: u64,
    hashes: &[Hash],
    at: u64,
) -> Result<i64, FedError> {
    let base = tree::stored_hash_count(first);
    let (pending, root) = extend_tree(store, mirror, first, hashes)?;
    if root != cp.root {
        return Err(FedError::Invalid(format!(
            "entry {at} differs from the one held, and the push does not match its own checkpoint"
        )));
    }
    let theirs = Overlay {
        store,
        log: mirror,
        base,
        pending: &pending,
    };
    let b: RootClaim = evidence::claim(&theirs, push.checkpoint.as_bytes(), cp.size, at + 1)?;
    let a = evidence::mirror_claim(store, mirror, at + 1)?
        .ok_or_else(|| FedError::Internal("no signed checkpoint covers the held entry".into()))?;
    Ok(evidence::keep(store, &cp.origin, a, b)?)
}
