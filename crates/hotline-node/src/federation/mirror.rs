//! Receiving a peer's log: every pushed entry is checked before it is kept.
//!
//! For each new entry the mirror checks that it belongs to the pushing
//! party's log, that its signature verifies under the key that log made the
//! office's at that index (the party's log key for `key` entries; for an
//! office, the key its latest `key` entry before the entry announced or
//! rotated in — never one it rotated away or revoked, see
//! [`hotline_proto::keylog`]), that a sealed body matches its commitment, and that the tree
//! rebuilt from the mirror plus the new leaves has exactly the root the
//! sender signed, and that the log's index ([`crate::indexes`]) rebuilt the
//! same way has exactly the root the checkpoint's `hotline-index` line
//! commits to. Only then is the batch committed, in one transaction, with
//! its index rows. A checkpoint whose index line is missing or wrong is
//! refused with nothing stored, and the evidence is kept: a log that signs
//! a false index would make its keyed proofs leave entries out.
//!
//! Sealed bodies travel only to the party an entry is addressed to: that
//! party must get the body (it opens it and receipts it), and any other
//! peer — a third witness, or the counterparty for traffic with someone
//! else — verifies and cosigns the header alone, whose commitments already
//! fix the content. A body pushed to anyone else is refused rather than
//! kept: a witness that holds no ciphertext cannot be made to leak any.
//!
//! An entry the mirror already holds is skipped if it is the same leaf. A
//! different leaf at a held index is equivocation: the mirror builds the
//! evidence (two signed checkpoints that disagree about one prefix) and keeps
//! it.
//!
//! Time in a log only moves forward, and a sender must not be able to write
//! into the past it has already shown us: otherwise a party that withdrew
//! from an agreement could date an entry before its withdrawal, or a late
//! answer inside its deadline. So an entry must not be dated before the
//! previous entry of its log, nor before this node's latest cosignature of
//! that log less the allowed clock skew (what this node cosigned, it had
//! seen by then; entries written while the link was down come after it). A
//! push with a backdated entry is refused whole ([`Accepted::Backdated`]),
//! and the entry, if addressed to one of our offices, gets one receipt that
//! says so ([`super::receipts::refuse`]).

use hotline_proto::bundle::RootClaim;
use hotline_proto::checkpoint::{self, VerifiedCheckpoint};
use hotline_proto::entry::{KeyAction, Kind, SignedEntry};
use hotline_proto::keylog::KeyLog;
use hotline_proto::keys::NoteVerifier;
use hotline_proto::party::Party;
use hotline_proto::{Hash, b64, seal, tree};
use jiff::{SignedDuration, Timestamp};

use super::evidence;
use super::receipts::receipted;
use super::wire::{MAX_PUSH_ENTRIES, Push, PushAck};
use super::{FedError, held_entry};
use crate::indexes::{LogIndex, Staged};
use crate::store::{AppendBatch, LogId, NewLeaf, Overlay, Store, extend_tree};

/// Loads the office key history of a mirrored log (every entry in it was
/// verified before it was kept).
pub fn load_keys(store: &dyn Store, log: LogId) -> Result<KeyLog, FedError> {
    let mut keys = KeyLog::new();
    for l in store.key_leaves(log)? {
        let e = held_entry(&l, "mirror entry")?;
        keys.learn(l.index, &e);
    }
    Ok(keys)
}

/// A `key` entry must name an office of the log's own party and, unless it
/// revokes, keys that others can verify with and seal to: the table learnt
/// from it is what this node seals with. Its `prev` must be the log's
/// previous `key` entry (`keys`, the history before it): a proof of an
/// office's entry follows those links back to the signing key, so a broken
/// link would leave this node's own mirror unprovable.
fn check_key_entry(
    e: &SignedEntry,
    index: u64,
    party: &Party,
    keys: &KeyLog,
) -> Result<(), FedError> {
    let h = e.header();
    if h.kind != Kind::Key {
        return Ok(());
    }
    let bad = |why: String| FedError::Invalid(format!("entry {index}: {why}"));
    let want = keys.last_index();
    if h.prev != want {
        let name = |p: Option<u64>| p.map_or_else(|| "none".to_owned(), |i| format!("entry {i}"));
        return Err(bad(format!(
            "a key entry whose prev is {}, but the previous key entry of {party}'s log is {}; each key entry names the one before it, so that proofs can follow the chain; nothing of this push was stored",
            name(h.prev),
            name(want)
        )));
    }
    let k = h
        .key
        .as_ref()
        .ok_or_else(|| bad("a key entry that names no office and no keys".into()))?;
    if &k.keys.office.party() != party {
        return Err(bad(format!(
            "announces keys for {}, which is not an office of {party}",
            k.keys.office
        )));
    }
    if k.action != KeyAction::Revoke {
        k.keys
            .verifying_key()
            .and_then(|_| k.keys.seal_key())
            .map_err(|source| FedError::AnnouncedKeys {
                index,
                office: k.keys.office.clone(),
                source,
            })?;
    }
    Ok(())
}

/// Checks one entry of `party`'s log against the keys known so far.
fn check_entry(
    e: &SignedEntry,
    index: u64,
    party: &Party,
    log_key: &NoteVerifier,
    keys: &KeyLog,
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
    // A receipt copies the entry's agreement id, signed by this node: it
    // must be an id, not whatever text (up to a whole leaf of it) the sender
    // put there.
    if let Some(a) = &h.agreement
        && hotline_proto::agreement::parse_id(a).is_none()
    {
        return Err(bad(format!(
            "its agreement {} is not an agreement id (party:index, as in us:6)",
            shown(a)
        )));
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
            .map_err(|source| FedError::BadEntry { index, source })?;
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
        keys.judge(e, index)
            .map_err(|source| FedError::KeyRefused { index, source })?;
    }
    Ok(())
}

/// A peer's string as an error quotes it: whole if short, else its start
/// and its length.
fn shown(s: &str) -> String {
    const MAX: usize = 32;
    if s.len() <= MAX {
        return format!("{s:?}");
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{:?}… ({} bytes)", &s[..end], s.len())
}

/// Whether `e` is addressed to an office of `me`.
fn addressed_to(e: &SignedEntry, me: &Party) -> bool {
    e.header().to.as_ref().is_some_and(|t| &t.party() == me)
}

/// Checks the sealed body pushed with entry `index`, if any: `me` needs the
/// body of every entry addressed to it, and takes no other.
fn check_body(
    e: &SignedEntry,
    index: u64,
    me: &Party,
    sealed: Option<&[u8]>,
) -> Result<(), FedError> {
    let h = e.header();
    let bad = |why: String| FedError::Invalid(format!("entry {index}: {why}"));
    let ours = addressed_to(e, me);
    match (&h.body, sealed) {
        (Some(b), Some(s)) if ours => {
            if b64::encode(seal::sealed_hash(s)) != b.sealed || b.size != s.len() as u64 {
                return Err(bad("the sealed body does not match its commitment".into()));
            }
        }
        (Some(_), None) if ours => return Err(bad("the sealed body is missing".into())),
        (Some(_), Some(_)) => {
            let to =
                h.to.as_ref()
                    .map_or("no office".to_owned(), |t| t.to_string());
            return Err(bad(format!(
                "a sealed body came for an entry addressed to {to}, not to an office of {me}; \
                 a body goes only to the party it is addressed to (push the leaf alone)"
            )));
        }
        (None, Some(_)) => {
            return Err(bad(
                "a sealed body came with an entry that commits to none".into()
            ));
        }
        (Some(_), None) | (None, None) => {}
    }
    Ok(())
}

/// What this node allows a push to add, besides what its signatures prove.
pub struct Intake<'a> {
    /// This node's party: entries addressed to its offices need their
    /// sealed bodies, and cost a receipt.
    pub me: &'a Party,
    /// How far in the future of this node's clock an entry may be dated.
    pub max_skew_secs: u64,
    /// Receipts the push may make this node owe (its peer's budget now).
    pub receipts_allowed: u64,
    /// This node's own log, where receipts refusing backdated entries are.
    pub own: LogId,
}

/// An entry dated before what its log or this node's cosignature already
/// showed; the push that carried it was refused whole.
pub struct Backdated {
    /// Its index in the sender's log.
    pub index: u64,
    /// The entry (its signature verified, its place in the log proved by
    /// the push's signed checkpoint).
    pub entry: SignedEntry,
    /// `dated T, earlier than …`: what a refusing receipt's status says.
    pub why: String,
}

impl Backdated {
    /// The push's refusal (422).
    pub fn message(&self) -> String {
        format!(
            "entry {}: {}; a log's time never goes backwards, so nothing of this push was stored (check the sender's clock)",
            self.index, self.why
        )
    }
}

/// Why `time` is too early for the next entry of `party`'s log, if it is:
/// before the `previous` entry, or before this node's `cosigned` time less
/// `skew_secs`.
fn backdated(
    time: Timestamp,
    party: &Party,
    previous: Option<Timestamp>,
    cosigned: Option<Timestamp>,
    skew_secs: u64,
) -> Option<String> {
    if let Some(p) = previous
        && time < p
    {
        return Some(format!(
            "dated {time}, earlier than the previous entry of {party}'s log (dated {p})"
        ));
    }
    let skew = SignedDuration::from_secs(i64::try_from(skew_secs).unwrap_or(i64::MAX));
    if let Some(c) = cosigned
        && time < c.checked_sub(skew).unwrap_or(Timestamp::MIN)
    {
        return Some(format!(
            "dated {time}, earlier than this node's cosignature of {party}'s log at {c} less the allowed clock skew ({skew_secs} s)"
        ));
    }
    None
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
        let entry = SignedEntry::from_leaf(&leaf).map_err(|source| FedError::BadEntry {
            index: e.index,
            source,
        })?;
        leaves.push((e.index, entry, sealed));
    }
    Ok(leaves)
}

/// The outcome of a push.
pub enum Accepted {
    /// Stored (or already held); the mirror's size now, and how many
    /// receipts the stored entries made this node owe.
    Ok(PushAck, u64),
    /// Stored nothing: the new entries would cost `owed` receipts, more
    /// than the `allowed` of the intake.
    OverBudget {
        /// Receipts the push's new entries would cost.
        owed: u64,
        /// Receipts the intake allowed.
        allowed: u64,
        /// The mirror's size (unchanged).
        ack: PushAck,
    },
    /// The push starts beyond the mirror: the sender must resend from here.
    Gap(PushAck),
    /// The push contradicts the mirror: evidence kept under this id.
    Equivocation(i64),
    /// An entry is dated too early; nothing was stored.
    Backdated(Box<Backdated>),
}

/// Verifies and stores a push from `party` into `mirror` (`own` is this
/// node's log, which holds its receipts); `index` is the mirror's index
/// (moved forward only if the push is stored). Call with the peer's mirror
/// lock held.
#[allow(clippy::too_many_arguments)]
pub fn accept(
    store: &dyn Store,
    mirror: LogId,
    party: &Party,
    log_key: &NoteVerifier,
    keys: &mut KeyLog,
    index: &mut LogIndex,
    push: &Push,
    intake: &Intake<'_>,
) -> Result<Accepted, FedError> {
    let latest = crate::clock::now()
        .checked_add(jiff::SignedDuration::from_secs(
            i64::try_from(intake.max_skew_secs).unwrap_or(i64::MAX),
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
        .map_err(FedError::PushCheckpoint)?;
    let have = store.size(mirror)?;
    let Some(first) = push.entries.first().map(|e| e.index) else {
        return Ok(Accepted::Ok(PushAck { mirror_size: have }, 0));
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
        return Ok(Accepted::Ok(PushAck { mirror_size: have }, 0));
    }
    // Counted before any signature is checked: a push over the budget costs
    // this node no more than its parsing.
    let owed = new
        .iter()
        .filter(|(_, e, _)| receipted(e.header().kind) && addressed_to(e, intake.me))
        .count() as u64;
    if owed > intake.receipts_allowed {
        return Ok(Accepted::OverBudget {
            owed,
            allowed: intake.receipts_allowed,
            ack: PushAck { mirror_size: have },
        });
    }
    let mut previous = match store.last_time(mirror)? {
        Some(t) => Some(
            t.parse::<Timestamp>()
                .map_err(|source| FedError::MirrorTime { time: t, source })?,
        ),
        None => None,
    };
    let cosigned = store
        .cosignature_near(mirror, u64::try_from(i64::MAX).unwrap_or(0), true)?
        .and_then(|c| Timestamp::from_second(i64::try_from(c.time).ok()?).ok());
    // Receipts refusing backdated entries lie beyond the mirror.
    let refused = store
        .receipt_cursor(intake.own, party.as_str(), u64::MAX)?
        .filter(|&r| r >= have);
    let mut staged = keys.clone();
    let mut rows = Vec::with_capacity(new.len());
    let mut too_early = None;
    for (index, entry, sealed) in new {
        check_entry(entry, *index, party, log_key, &staged, latest)?;
        check_key_entry(entry, *index, party, &staged)?;
        check_body(entry, *index, intake.me, sealed.as_deref())?;
        let time = entry.header().time;
        if let Some(why) = backdated(time, party, previous, cosigned, intake.max_skew_secs) {
            too_early = Some(Backdated {
                index: *index,
                entry: entry.clone(),
                why,
            });
            break;
        }
        if refused.is_some_and(|r| *index <= r) {
            already_refused(store, intake.own, party, *index)?;
        }
        previous = Some(time);
        staged.learn(*index, entry);
        rows.push(NewLeaf::from_entry(entry, sealed.clone()));
    }
    let (tree_hashes, root) = extend_tree(store, mirror, have, &hashes[overlap..])?;
    if root != cp.root {
        return Err(FedError::Invalid(format!(
            "the pushed entries do not make the tree the checkpoint signs (size {end}); refusing all of them"
        )));
    }
    // The index at the checkpoint's size, from every pushed entry (the
    // tree root above proved they are the log's).
    if index.size() != have {
        *index = LogIndex::load(store, mirror)?;
    }
    let mut applied = Staged::default();
    for (i, e, _) in new {
        index.apply_entry(*i, e, &mut applied);
    }
    let ours = index.root();
    if cp.index != Some(ours) {
        index.undo(applied);
        let id = evidence::keep_index_mismatch(
            store,
            &cp.origin,
            push.checkpoint.as_bytes(),
            end,
            cp.index,
            ours,
        )?;
        return Err(FedError::Invalid(index_refusal(
            party,
            end,
            cp.index,
            "nothing of this push was stored",
            id,
        )));
    }
    if let Some(b) = too_early {
        index.undo(applied);
        // Only now: the signed checkpoint proves the entry is at its index.
        return Ok(Accepted::Backdated(Box::new(b)));
    }
    let stored = store.append(&AppendBatch {
        log: mirror,
        first: have,
        leaves: &rows,
        first_hash: tree::stored_hash_count(have),
        hashes: &tree_hashes,
        checkpoint: Some((end, push.checkpoint.as_bytes())),
        now: crate::clock::now().as_second(),
        index: Some(&applied.rows),
        epoch: None,
    });
    if let Err(e) = stored {
        index.undo(applied);
        return Err(e.into());
    }
    *keys = staged;
    Ok(Accepted::Ok(PushAck { mirror_size: end }, owed))
}

/// Why a checkpoint at `size` of `party`'s log whose index line is
/// `claimed` was refused, with what was `done` and the evidence `id`.
pub fn index_refusal(
    party: &Party,
    size: u64,
    claimed: Option<Hash>,
    done: &str,
    id: i64,
) -> String {
    let what = match claimed {
        None => format!(
            "{party}'s checkpoint for size {size} has no hotline-index line; every checkpoint commits to the log's index (the sending node must be upgraded)"
        ),
        Some(_) => format!(
            "{party}'s checkpoint for size {size} commits to an index that its entries do not make (its hotline-index line is wrong)"
        ),
    };
    format!("{what}: {done}; evidence kept as #{id} (`hotline prove equivocation {id}`)")
}

/// Refuses entry `index` of `party`'s log if the own log already holds a
/// receipt refusing it: that entry was never mirrored, and whatever the log
/// now puts at its index (the same entry or another) cannot undo the refusal.
fn already_refused(
    store: &dyn Store,
    own: LogId,
    party: &Party,
    index: u64,
) -> Result<(), FedError> {
    if let Some((at, r)) = super::receipts::held(store, own, party, index)? {
        let h = r.header();
        return Err(FedError::Invalid(format!(
            "entry {index}: this node already refused entry {index} of {party}'s log ({}:{at} says \"{}\"); it cannot be accepted now, nor another entry put in its place, so nothing of this push was stored",
            h.log,
            h.status.as_deref().unwrap_or_default()
        )));
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    #[allow(unused_imports)]
    use crate::store::{EntryQueries as _, EvidenceStore as _, IndexStore as _, LogStore as _};
    use hotline_proto::entry::SignedEntry;
    use hotline_proto::index::Index;
    use hotline_proto::keys::{ALG_ED25519, NoteKey, os_rng};
    use hotline_proto::tree::MemoryTree;

    use super::super::wire::PushEntry;
    use super::*;
    use crate::store::sqlite::SqliteStore;

    struct Fixture {
        _tmp: tempfile::TempDir,
        store: SqliteStore,
        mirror: LogId,
        own: LogId,
        key: NoteKey,
        leaves: Vec<SignedEntry>,
    }

    fn fixture() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&tmp.path().join("t.db")).unwrap();
        let own = store.log_id("hotline/ru", "ru").unwrap();
        let mirror = store.log_id("hotline/us", "us").unwrap();
        let key = NoteKey::generate("hotline/us", ALG_ED25519, &mut os_rng()).unwrap();
        let leaves = (0..3)
            .map(|i| {
                // Long past: other tests simulate the clock (the demo's 2021).
                let t = Timestamp::from_second(1_000_000_000 + i).unwrap();
                crate::indexes::tests::receipt(&key, u64::try_from(i).unwrap(), &t.to_string())
            })
            .collect();
        Fixture {
            _tmp: tmp,
            store,
            mirror,
            own,
            key,
            leaves,
        }
    }

    /// What the checkpoint of a push says about the index.
    #[derive(Clone, Copy)]
    enum Line {
        Right,
        Wrong,
        Missing,
    }

    /// The mirror's size, latest checkpoint, and index (size covered, keys).
    type Held = (u64, Option<(u64, Vec<u8>)>, (u64, usize));

    impl Fixture {
        /// A push of entries `from..to` under a checkpoint at `to`.
        fn push(&self, from: usize, to: usize, line: Line) -> Push {
            let mut t = MemoryTree::new();
            let mut ix = Index::new();
            for (i, e) in self.leaves[..to].iter().enumerate() {
                t.push(e.leaf());
                ix.apply_entry(i as u64, e);
            }
            let note = match line {
                Line::Right => checkpoint::sign_indexed(&self.key, t.size(), t.root(), ix.root()),
                Line::Wrong => {
                    // The index with the last entry left out.
                    let mut short = Index::new();
                    for (i, e) in self.leaves[..to - 1].iter().enumerate() {
                        short.apply_entry(i as u64, e);
                    }
                    checkpoint::sign_indexed(&self.key, t.size(), t.root(), short.root())
                }
                Line::Missing => checkpoint::sign(&self.key, t.size(), t.root()),
            }
            .unwrap();
            Push {
                origin: "hotline/us".into(),
                checkpoint: String::from_utf8(note).unwrap(),
                entries: (from..to)
                    .map(|i| PushEntry {
                        index: i as u64,
                        leaf: b64::encode(self.leaves[i].leaf()),
                        sealed: None,
                    })
                    .collect(),
            }
        }

        fn accept(&self, index: &mut LogIndex, push: &Push) -> Result<Accepted, FedError> {
            let me = Party::new("ru").unwrap();
            let intake = Intake {
                me: &me,
                max_skew_secs: 300,
                receipts_allowed: 100,
                own: self.own,
            };
            accept(
                &self.store,
                self.mirror,
                &Party::new("us").unwrap(),
                &self.key.verifier(),
                &mut KeyLog::new(),
                index,
                push,
                &intake,
            )
        }

        /// Everything the mirror holds of the log: size, checkpoint, index.
        fn held(&self) -> Held {
            let (indexed, states) = self.store.index_states(self.mirror).unwrap();
            (
                self.store.size(self.mirror).unwrap(),
                self.store.latest_checkpoint(self.mirror).unwrap(),
                (indexed, states.len()),
            )
        }
    }

    #[test]
    fn a_push_whose_index_line_is_wrong_or_missing_is_refused_and_nothing_stored() {
        let f = fixture();
        let mut index = LogIndex::load(&f.store, f.mirror).unwrap();
        assert!(matches!(
            f.accept(&mut index, &f.push(0, 1, Line::Right)),
            Ok(Accepted::Ok(..))
        ));
        let before = f.held();
        let root_before = index.root();
        for (line, says) in [
            (
                Line::Wrong,
                "commits to an index that its entries do not make",
            ),
            (Line::Missing, "has no hotline-index line"),
        ] {
            let Err(FedError::Invalid(why)) = f.accept(&mut index, &f.push(1, 3, line)) else {
                panic!("a push with a bad index line must be refused");
            };
            assert!(why.contains(says), "{why}");
            assert!(why.contains("nothing of this push was stored"), "{why}");
            assert_eq!(
                f.held(),
                before,
                "nothing stored: leaves, checkpoint, index rows"
            );
            assert_eq!(index.size(), 1);
            assert_eq!(index.root(), root_before, "the cached index is as before");
        }
        let kept = f.store.equivocations().unwrap();
        assert_eq!(kept.len(), 2, "evidence of each");
        for e in &kept {
            assert_eq!(e.origin, "hotline/us");
            assert!(evidence::is_index_mismatch(&e.bundle));
            let b: serde_json::Value = serde_json::from_slice(&e.bundle).unwrap();
            assert_eq!(b["size"], 3);
            assert!(
                b["checkpoint"]
                    .as_str()
                    .unwrap()
                    .starts_with("hotline/us\n3\n")
            );
            let mut ix = Index::new();
            for (i, l) in f.leaves.iter().enumerate() {
                ix.apply_entry(i as u64, l);
            }
            assert_eq!(b["recomputed"], b64::encode(ix.root().0));
        }
        // The right index line is accepted after all that.
        assert!(matches!(
            f.accept(&mut index, &f.push(1, 3, Line::Right)),
            Ok(Accepted::Ok(..))
        ));
        assert_eq!(f.held().0, 3);
        assert_eq!(f.store.index_states(f.mirror).unwrap().0, 3);
    }
}
