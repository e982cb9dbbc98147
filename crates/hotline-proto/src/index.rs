//! The index a log commits to with every checkpoint: its entries by channel
//! and kind, and by the entry they refer to (docs/claims.md, "The index").
//!
//! A claim such as "no inquiry from us/fbi to ru/fsb in July" or "these are
//! all the acknowledgements of us:12" must show that nothing was left out.
//! Disclosing the whole log would prove it but tells the reader who wrote to
//! whom on every other channel, and grows with the log. Instead each log keeps,
//! per *key*, a count and a hash chain over the entries that have that key,
//! and commits to all keys at once with a sparse Merkle tree whose root is an
//! extension line of every checkpoint it signs (`hotline-index <root>`). A
//! bundle then proves one key's count and chain against that root with a path
//! of about log2(keys) hashes, and discloses only that key's entries, which
//! the reader folds into the chain: dropping, adding or changing one breaks it.
//!
//! Keys of an entry ([`keys_of`]):
//!
//! - `kind/<kind>/<from>/<to>` (`-` for no addressee): `kind/inquiry/us/fbi/ru/fsb`,
//!   `kind/key/us/-` for the party's key entries;
//! - `ref/<party>/<index>` for each entry it refers to: the receipts, acks
//!   and answers of `us:12` all have `ref/us/12`.
//!
//! Chain: `chain' = SHA-256(0x03 ‖ chain ‖ index_be64 ‖ leaf_hash)`, from 32
//! zero bytes. Tree: over `kh = SHA-256(key)`, 256 levels; `leaf =
//! SHA-256(0x00 ‖ kh ‖ count_be64 ‖ chain)`, `node = SHA-256(0x01 ‖ l ‖ r)`,
//! an empty subtree is 32 zero bytes and a subtree holding one key hashes as
//! that key's leaf, so paths are as long as keys need to be told apart.
//!
//! The log's own signature on the root is only its word. Every witness of the
//! log mirrors the log whole, recomputes the index and refuses to cosign a
//! checkpoint whose line is wrong, so a root that other parties' witnesses
//! cosigned is one they checked. The transparency-dev verifiable index was
//! the model: a map derived from a log, checked by those who replay the log.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tlog_tiles::Hash;

use crate::b64;
use crate::entry::{Kind, SignedEntry};

/// The checkpoint extension line's keyword: `hotline-index <base64 root>`.
pub const LINE: &str = "hotline-index";

/// Levels of the tree whose subtree hashes [`Index`] keeps: 2^16 subtrees at
/// the bottom of the cache, so that below it a million keys leave about 15
/// per subtree to hash again on a change.
const CACHED_DEPTH: usize = 16;

/// The key of entries of `kind` from `from` to `to`.
pub fn channel_key(kind: Kind, from: &str, to: Option<&str>) -> String {
    format!("kind/{kind}/{from}/{}", to.unwrap_or("-"))
}

/// The key of entries that refer to `party:index`.
pub fn ref_key(party: &str, index: u64) -> String {
    format!("ref/{party}/{index}")
}

/// The keys an entry is indexed under, without repeats.
pub fn keys_of(e: &SignedEntry) -> Vec<String> {
    let h = e.header();
    let mut keys = vec![channel_key(
        h.kind,
        &h.from,
        h.to.as_ref().map(|t| t.as_str()),
    )];
    for r in &h.refs {
        let k = ref_key(r.log.as_str(), r.index);
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    keys
}

/// `SHA-256(key)`: where a key sits in the tree.
pub fn key_hash(key: &str) -> Hash {
    Hash(Sha256::digest(key.as_bytes()).into())
}

/// How many entries a key has and the hash chain over them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct KeyState {
    /// Entries with the key.
    pub count: u64,
    /// The chain over their indexes and leaf hashes (zero when none).
    pub chain: Hash,
}

impl KeyState {
    /// The state after one more entry with the key.
    #[must_use]
    pub fn push(self, index: u64, leaf_hash: Hash) -> KeyState {
        let mut h = Sha256::new();
        h.update([0x03]);
        h.update(self.chain.0);
        h.update(index.to_be_bytes());
        h.update(leaf_hash.0);
        KeyState {
            count: self.count + 1,
            chain: Hash(h.finalize().into()),
        }
    }

    fn leaf(&self, kh: &Hash) -> Hash {
        let mut h = Sha256::new();
        h.update([0x00]);
        h.update(kh.0);
        h.update(self.count.to_be_bytes());
        h.update(self.chain.0);
        Hash(h.finalize().into())
    }
}

fn node(l: &Hash, r: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(l.0);
    h.update(r.0);
    Hash(h.finalize().into())
}

const EMPTY: Hash = Hash([0; 32]);

fn bit(kh: &Hash, depth: usize) -> bool {
    kh.0[depth / 8] >> (7 - depth % 8) & 1 == 1
}

/// The key hashes sharing the first `depth` bits of `kh`: the range
/// `[lo, hi]` of the subtree at that depth.
fn span(kh: &Hash, depth: usize) -> (Hash, Hash) {
    let (mut lo, mut hi) = (kh.0, kh.0);
    for d in depth..256 {
        let m = 1u8 << (7 - d % 8);
        lo[d / 8] &= !m;
        hi[d / 8] |= m;
    }
    (Hash(lo), Hash(hi))
}

/// The subtree at `depth` along `kh`, with `kh`'s bit at `depth` flipped.
fn sibling_of(kh: &Hash, depth: usize) -> Hash {
    let mut s = kh.0;
    s[depth / 8] ^= 1 << (7 - depth % 8);
    Hash(s)
}

/// The first 16 bits of `kh` at `depth` ≤ 16, as a cache key.
fn prefix(kh: &Hash, depth: usize) -> (u8, u32) {
    let p = u32::from_be_bytes([0, 0, kh.0[0], kh.0[1]]);
    let p = if depth == 0 { 0 } else { p >> (16 - depth) };
    (depth as u8, p)
}

/// What a cached subtree holds. Keys are added or changed by `set`, so a
/// change below tells how this changes without looking; `remove` (undoing
/// a batch that was not committed) drops the cached subtrees on its path.
#[derive(Clone, Copy, Debug)]
enum Holds {
    Empty,
    One([u8; 32]),
    Many,
}

#[derive(Clone, Copy, Debug)]
struct Sub {
    holds: Holds,
    hash: Option<Hash>,
}

/// One log's index, in memory: the state of every key and cached subtree
/// hashes near the root. Changing a key drops the cached hashes on its path
/// only, so a new root costs about (16 + log2(keys / 65536)) hashes per key
/// changed, whatever the log's size.
#[derive(Clone, Debug, Default)]
pub struct Index {
    /// Each key's state and its leaf hash.
    keys: BTreeMap<[u8; 32], (KeyState, Hash)>,
    /// Subtrees near the root: what they hold and, unless a key below
    /// changed since, their hash.
    cache: HashMap<(u8, u32), Sub>,
}

impl Index {
    /// An empty index (the index of an empty log).
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies entry `index` (entries must come in index order).
    pub fn apply(&mut self, index: u64, leaf_hash: Hash, keys: &[String]) {
        for k in keys {
            let kh = key_hash(k);
            let st = self.keys.get(&kh.0).map(|(s, _)| *s).unwrap_or_default();
            self.set(kh, st.push(index, leaf_hash));
        }
    }

    /// Applies a signed entry at `index`.
    pub fn apply_entry(&mut self, index: u64, e: &SignedEntry) {
        self.apply(index, e.leaf_hash(), &keys_of(e));
    }

    /// Sets a key's state (loading a saved index).
    pub fn set(&mut self, kh: Hash, st: KeyState) {
        self.keys.insert(kh.0, (st, st.leaf(&kh)));
        for d in 0..=CACHED_DEPTH {
            if let Some(sub) = self.cache.get_mut(&prefix(&kh, d)) {
                sub.hash = None;
                sub.holds = match sub.holds {
                    Holds::Empty => Holds::One(kh.0),
                    Holds::One(k) if k == kh.0 => Holds::One(k),
                    _ => Holds::Many,
                };
            }
        }
    }

    /// Removes a key: undoes the first entry that had it (a batch that
    /// was not committed).
    pub fn remove(&mut self, kh: Hash) {
        self.keys.remove(&kh.0);
        for d in 0..=CACHED_DEPTH {
            self.cache.remove(&prefix(&kh, d));
        }
    }

    /// A key's state (zero count when no entry has it).
    pub fn state(&self, key: &str) -> KeyState {
        self.keys
            .get(&key_hash(key).0)
            .map(|(s, _)| *s)
            .unwrap_or_default()
    }

    /// Every key hash and its state, in key-hash order.
    pub fn states(&self) -> impl Iterator<Item = (Hash, KeyState)> + '_ {
        self.keys.iter().map(|(k, (s, _))| (Hash(*k), *s))
    }

    /// How many keys the index holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no entry has been indexed.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The root the checkpoint's `hotline-index` line carries.
    pub fn root(&mut self) -> Hash {
        self.subtree(&EMPTY, 0)
    }

    /// How many keys the subtree at `depth` along `kh` holds: 0, 1 (with it) or more.
    fn occupancy(&self, kh: &Hash, depth: usize) -> (usize, Option<(Hash, KeyState)>) {
        let (lo, hi) = span(kh, depth);
        let mut it = self.keys.range(lo.0..=hi.0);
        match (it.next(), it.next()) {
            (None, _) => (0, None),
            (Some((k, (s, _))), None) => (1, Some((Hash(*k), *s))),
            _ => (2, None),
        }
    }

    /// The keys of the subtree at `depth` along `kh`, with their leaf hashes.
    fn members(&self, kh: &Hash, depth: usize) -> Vec<([u8; 32], Hash)> {
        let (lo, hi) = span(kh, depth);
        self.keys
            .range(lo.0..=hi.0)
            .map(|(k, (_, l))| (*k, *l))
            .collect()
    }

    fn subtree(&mut self, kh: &Hash, depth: usize) -> Hash {
        let at = prefix(kh, depth);
        let cached = self.cache.get(&at).copied();
        if let Some(Sub { hash: Some(h), .. }) = cached {
            return h;
        }
        let (holds, h) = if depth >= CACHED_DEPTH {
            // At the cache's bottom: the few keys there, hashed from their leaves.
            let m = self.members(kh, depth);
            let holds = match m.as_slice() {
                [] => Holds::Empty,
                [(k, _)] => Holds::One(*k),
                _ => Holds::Many,
            };
            (holds, slice_hash(&m, depth))
        } else {
            let holds = match cached {
                Some(s) => s.holds,
                None => match self.occupancy(kh, depth) {
                    (0, _) => Holds::Empty,
                    (1, Some((k, _))) => Holds::One(k.0),
                    _ => Holds::Many,
                },
            };
            let h = match holds {
                Holds::Empty => EMPTY,
                Holds::One(k) => self.keys[&k].1,
                Holds::Many => {
                    let (lo, _) = span(kh, depth);
                    let l = self.subtree(&lo, depth + 1);
                    let r = self.subtree(&sibling_of(&lo, depth), depth + 1);
                    node(&l, &r)
                }
            };
            (holds, h)
        };
        if depth <= CACHED_DEPTH {
            self.cache.insert(
                at,
                Sub {
                    holds,
                    hash: Some(h),
                },
            );
        }
        h
    }

    /// The proof of `key`'s state (or of its absence) against [`Index::root`].
    pub fn prove(&mut self, key: &str) -> IndexProof {
        let kh = key_hash(key);
        let mut siblings = Vec::new();
        let mut depth = 0;
        while depth < CACHED_DEPTH {
            match self.occupancy(&kh, depth) {
                (0, _) => {
                    return IndexProof {
                        siblings,
                        other: None,
                    };
                }
                (1, Some((k, s))) => {
                    let other = (k.0 != kh.0).then_some((k, s));
                    return IndexProof { siblings, other };
                }
                _ => {
                    siblings.push(self.subtree(&sibling_of(&kh, depth), depth + 1));
                    depth += 1;
                }
            }
        }
        // Below the cache, within the few keys of the key's subtree.
        let mut m = self.members(&kh, depth);
        loop {
            match m.len() {
                0 => {
                    return IndexProof {
                        siblings,
                        other: None,
                    };
                }
                1 => {
                    let k = m[0].0;
                    let other = (k != kh.0).then(|| (Hash(k), self.keys[&k].0));
                    return IndexProof { siblings, other };
                }
                _ => {
                    let at = m.partition_point(|(k, _)| !bit(&Hash(*k), depth));
                    let (l, r) = m.split_at(at);
                    let (same, other) = if bit(&kh, depth) { (r, l) } else { (l, r) };
                    siblings.push(slice_hash(other, depth + 1));
                    m = same.to_vec();
                    depth += 1;
                }
            }
        }
    }
}

/// The hash of the subtree at `depth` holding exactly `m` (sorted by key hash).
fn slice_hash(m: &[([u8; 32], Hash)], depth: usize) -> Hash {
    match m {
        [] => EMPTY,
        [(_, leaf)] => *leaf,
        _ => {
            let at = m.partition_point(|(k, _)| !bit(&Hash(*k), depth));
            let (l, r) = m.split_at(at);
            node(&slice_hash(l, depth + 1), &slice_hash(r, depth + 1))
        }
    }
}

/// Why an index proof failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum IndexError {
    /// The path does not lead to the committed root.
    #[error("the index proof for {key} does not lead to the checkpoint's index root")]
    Root {
        /// The key.
        key: String,
    },
    /// The proof's shape is impossible.
    #[error("malformed index proof for {key}: {why}")]
    Malformed {
        /// The key.
        key: String,
        /// What is wrong.
        why: String,
    },
}

/// A key's path in the tree: the sibling hashes from the root down, and, when
/// the key is absent, the one other key whose leaf stands where it would be.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexProof {
    /// Sibling hashes, root first.
    pub siblings: Vec<Hash>,
    /// Another key and its state occupying the subtree where the path ends.
    pub other: Option<(Hash, KeyState)>,
}

/// Checks that `key` has state `st` under `root`. A zero state is checked as
/// the key's absence.
pub fn verify(root: Hash, key: &str, st: KeyState, p: &IndexProof) -> Result<(), IndexError> {
    let kh = key_hash(key);
    let bad = |why: &str| IndexError::Malformed {
        key: key.into(),
        why: why.into(),
    };
    let depth = p.siblings.len();
    if depth > 256 {
        return Err(bad("a path is at most 256 hashes"));
    }
    let absent = st.count == 0 && st.chain.0 == [0; 32];
    if st.count == 0 && !absent {
        return Err(bad("a key with no entries has a zero chain"));
    }
    let mut h = match (&p.other, absent) {
        (None, false) => st.leaf(&kh),
        (None, true) => EMPTY,
        (Some(_), false) => {
            return Err(bad("a proof of a key's entries cannot name another key"));
        }
        (Some((other, ost)), true) => {
            if other.0 == kh.0 {
                return Err(bad("the other key is the key itself"));
            }
            if (0..depth).any(|d| bit(other, d) != bit(&kh, d)) {
                return Err(bad(
                    "the other key is not in the subtree where the path ends",
                ));
            }
            if ost.count == 0 {
                return Err(bad("the other key has no entries"));
            }
            ost.leaf(other)
        }
    };
    for d in (0..depth).rev() {
        let s = &p.siblings[d];
        h = if bit(&kh, d) {
            node(s, &h)
        } else {
            node(&h, s)
        };
    }
    if h.0 == root.0 {
        Ok(())
    } else {
        Err(IndexError::Root { key: key.into() })
    }
}

/// A [`KeyState`] as bundles carry it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyStateJson {
    /// Entries with the key.
    pub count: u64,
    /// The chain, base64.
    pub chain: String,
}

impl From<KeyState> for KeyStateJson {
    fn from(s: KeyState) -> Self {
        Self {
            count: s.count,
            chain: b64::encode(s.chain.0),
        }
    }
}

impl KeyStateJson {
    /// The state, if the chain is a base64 hash.
    pub fn parse(&self) -> Option<KeyState> {
        Some(KeyState {
            count: self.count,
            chain: Hash(b64::decode_array::<32>(&self.chain)?),
        })
    }
}

/// The other key of an absence proof, as bundles carry it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtherKeyJson {
    /// The other key's hash, base64.
    pub key: String,
    /// Its entries.
    pub count: u64,
    /// Its chain, base64.
    pub chain: String,
}

/// An [`IndexProof`] as bundles carry it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexProofJson {
    /// Sibling hashes, root first, base64.
    #[serde(deserialize_with = "crate::limits::index_path")]
    pub siblings: Vec<String>,
    /// The other key, for an absent key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<OtherKeyJson>,
}

impl From<&IndexProof> for IndexProofJson {
    fn from(p: &IndexProof) -> Self {
        Self {
            siblings: p.siblings.iter().map(|h| b64::encode(h.0)).collect(),
            other: p.other.map(|(k, s)| OtherKeyJson {
                key: b64::encode(k.0),
                count: s.count,
                chain: b64::encode(s.chain.0),
            }),
        }
    }
}

impl IndexProofJson {
    /// The proof, if every hash is a base64 SHA-256 hash.
    pub fn parse(&self) -> Option<IndexProof> {
        let siblings = self
            .siblings
            .iter()
            .map(|s| b64::decode_array::<32>(s).map(Hash))
            .collect::<Option<Vec<_>>>()?;
        let other = match &self.other {
            None => None,
            Some(o) => Some((
                Hash(b64::decode_array::<32>(&o.key)?),
                KeyState {
                    count: o.count,
                    chain: Hash(b64::decode_array::<32>(&o.chain)?),
                },
            )),
        };
        Some(IndexProof { siblings, other })
    }
}

/// One disclosed entry of a keyed run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexedLeafJson {
    /// Its index in the log.
    pub index: u64,
    /// The leaf, base64.
    #[serde(deserialize_with = "crate::limits::leaf_text")]
    pub leaf: String,
}

/// "The entries of `key` in this log, up to the checkpoint, are exactly
/// these, after `base`": the key's proved state and the entries that fold
/// from `base` to it. Without `base`, every entry of the key is disclosed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyedRunJson {
    /// The key.
    pub key: String,
    /// Its state at the checkpoint.
    pub state: KeyStateJson,
    /// Its path to the checkpoint's index root.
    pub proof: IndexProofJson,
    /// Its state before the first disclosed entry; absent when all are disclosed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<KeyStateJson>,
    /// The disclosed entries, in index order (each leaf bounded as it is read).
    pub leaves: Vec<IndexedLeafJson>,
}

/// A keyed run as a writer supplies it.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyedRun {
    /// The key.
    pub key: String,
    /// Its state at the checkpoint.
    pub state: KeyState,
    /// Its path.
    pub proof: IndexProof,
    /// The state before the first disclosed entry, if not all are disclosed.
    pub base: Option<KeyState>,
    /// The disclosed entries (index, leaf), in index order.
    pub leaves: Vec<(u64, Vec<u8>)>,
}

impl From<&KeyedRun> for KeyedRunJson {
    fn from(r: &KeyedRun) -> Self {
        Self {
            key: r.key.clone(),
            state: r.state.into(),
            proof: (&r.proof).into(),
            base: r.base.map(Into::into),
            leaves: r
                .leaves
                .iter()
                .map(|(index, leaf)| IndexedLeafJson {
                    index: *index,
                    leaf: b64::encode(leaf),
                })
                .collect(),
        }
    }
}

/// Why a keyed run failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum RunError {
    /// The checkpoint carries no index line.
    #[error("checkpoint {origin} at size {size} commits to no index (no `hotline-index` line)")]
    NoIndex {
        /// The log.
        origin: String,
        /// Its size.
        size: u64,
    },
    /// The key's proof failed.
    #[error(transparent)]
    Proof(#[from] IndexError),
    /// A part is not what it should be.
    #[error("the run of {key}: {why}")]
    Bad {
        /// The key.
        key: String,
        /// What is wrong.
        why: String,
    },
    /// The disclosed entries do not fold to the proved state.
    #[error(
        "the entries disclosed for {key} do not make up its committed chain ({count} entries up to size {size}): an entry is missing, extra or altered"
    )]
    Incomplete {
        /// The key.
        key: String,
        /// The committed count.
        count: u64,
        /// The checkpoint's size.
        size: u64,
    },
}

/// A keyed run checked against a checkpoint's index root.
#[derive(Clone, Debug)]
pub struct ProvedRun {
    /// The key.
    pub key: String,
    /// Its proved state.
    pub state: KeyState,
    /// How many of its entries precede the disclosed ones (0 when all are disclosed).
    pub base_count: u64,
    /// The disclosed entries with their indexes, in index order.
    pub entries: Vec<(u64, SignedEntry)>,
}

impl ProvedRun {
    /// Whether every entry of the key is disclosed.
    pub fn complete(&self) -> bool {
        self.base_count == 0
    }
}

/// Checks a keyed run against the checkpoint `(origin, size, index root)`:
/// the key's state against the root, then every disclosed entry — a leaf of
/// `party`'s log, below `size`, in increasing index order, having the key —
/// folded from `base` into that state.
pub fn check_run(
    run: &KeyedRunJson,
    party: &str,
    size: u64,
    index_root: Hash,
) -> Result<ProvedRun, RunError> {
    let bad = |why: String| RunError::Bad {
        key: run.key.clone(),
        why,
    };
    let state = run
        .state
        .parse()
        .ok_or_else(|| bad("its chain is not a base64 SHA-256 hash".into()))?;
    let proof = run
        .proof
        .parse()
        .ok_or_else(|| bad("a proof hash is not a base64 SHA-256 hash".into()))?;
    verify(index_root, &run.key, state, &proof)?;
    let base = match &run.base {
        None => KeyState::default(),
        Some(b) => b
            .parse()
            .ok_or_else(|| bad("its base chain is not a base64 SHA-256 hash".into()))?,
    };
    let mut st = base;
    let mut entries = Vec::with_capacity(run.leaves.len());
    let mut last: Option<u64> = None;
    for l in &run.leaves {
        if l.index >= size {
            return Err(bad(format!(
                "entry {party}:{} is beyond the checkpoint's size {size}",
                l.index
            )));
        }
        if last.is_some_and(|p| l.index <= p) {
            return Err(bad(format!(
                "entry {party}:{} is out of index order",
                l.index
            )));
        }
        last = Some(l.index);
        let leaf = b64::decode(&l.leaf)
            .ok_or_else(|| bad(format!("the leaf of {party}:{} is not base64", l.index)))?;
        let e = SignedEntry::from_leaf(&leaf).map_err(|e| {
            bad(format!(
                "the leaf of {party}:{} is not an entry: {e}",
                l.index
            ))
        })?;
        if e.header().log.as_str() != party {
            return Err(bad(format!(
                "entry {party}:{} says it is of {}'s log",
                l.index,
                e.header().log
            )));
        }
        if !keys_of(&e).contains(&run.key) {
            return Err(bad(format!(
                "entry {party}:{} does not have the key {}",
                l.index, run.key
            )));
        }
        st = st.push(l.index, e.leaf_hash());
        entries.push((l.index, e));
    }
    if st.count != state.count || st.chain.0 != state.chain.0 {
        return Err(RunError::Incomplete {
            key: run.key.clone(),
            count: state.count,
            size,
        });
    }
    Ok(ProvedRun {
        key: run.key.clone(),
        state,
        base_count: base.count,
        entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(i: u64) -> Hash {
        Hash(Sha256::digest(i.to_be_bytes()).into())
    }

    /// The root by definition, from scratch, for a set of keys.
    fn naive(keys: &[(Hash, KeyState)], depth: usize) -> Hash {
        match keys.len() {
            0 => EMPTY,
            1 => keys[0].1.leaf(&keys[0].0),
            _ => {
                let (l, r): (Vec<_>, Vec<_>) = keys.iter().partition(|(k, _)| !bit(k, depth));
                node(&naive(&l, depth + 1), &naive(&r, depth + 1))
            }
        }
    }

    #[test]
    fn root_matches_the_definition_as_keys_change() {
        let mut ix = Index::new();
        assert_eq!(ix.root(), EMPTY);
        for i in 0..3000u64 {
            let keys = vec![
                format!("kind/message/us/a/ru/{}", i % 7),
                ref_key("ru", i / 3),
            ];
            ix.apply(i, h(i), &keys);
            if i % 397 == 0 || i < 5 {
                let all: Vec<_> = ix.states().collect();
                assert_eq!(ix.root(), naive(&all, 0), "after entry {i}");
            }
        }
    }

    #[test]
    fn proofs_verify_for_present_and_absent_keys_and_fail_when_altered() {
        let mut ix = Index::new();
        for i in 0..500u64 {
            ix.apply(i, h(i), &[ref_key("us", i % 97)]);
        }
        let root = ix.root();
        for k in [ref_key("us", 3), ref_key("us", 96)] {
            let st = ix.state(&k);
            assert_eq!(st.count, if k.ends_with("/3") { 6 } else { 5 });
            let p = ix.prove(&k);
            verify(root, &k, st, &p).unwrap();
            let less = KeyState {
                count: st.count - 1,
                ..st
            };
            assert!(verify(root, &k, less, &p).is_err());
            assert!(verify(root, &k, KeyState::default(), &p).is_err());
        }
        for k in ["ref/us/97", "kind/inquiry/us/fbi/ru/fsb"] {
            let p = ix.prove(k);
            verify(root, k, KeyState::default(), &p).unwrap();
            let claimed = KeyState::default().push(1, h(1));
            assert!(verify(root, k, claimed, &p).is_err(), "{k}");
        }
        let p = ix.prove("ref/us/5");
        let mut q = p.clone();
        q.siblings[0].0[0] ^= 1;
        assert_eq!(
            verify(root, "ref/us/5", ix.state("ref/us/5"), &q),
            Err(IndexError::Root {
                key: "ref/us/5".into()
            })
        );
        let mut short = p.clone();
        short.siblings.pop();
        assert!(verify(root, "ref/us/5", ix.state("ref/us/5"), &short).is_err());
    }

    #[test]
    fn an_absent_key_cannot_borrow_a_leaf_outside_its_subtree() {
        let mut ix = Index::new();
        for i in 0..64u64 {
            ix.apply(i, h(i), &[ref_key("us", i)]);
        }
        let root = ix.root();
        // A present key's proof, replayed as "absent" for another key, fails.
        let p = ix.prove("ref/us/1");
        let (k1, s1) = (key_hash("ref/us/1"), ix.state("ref/us/1"));
        let forged = IndexProof {
            siblings: p.siblings.clone(),
            other: Some((k1, s1)),
        };
        assert!(verify(root, "ref/us/9999", KeyState::default(), &forged).is_err());
    }

    #[test]
    fn a_single_key_and_an_empty_index() {
        let mut ix = Index::new();
        let p = ix.prove("ref/us/0");
        verify(ix.root(), "ref/us/0", KeyState::default(), &p).unwrap();
        ix.apply(0, h(0), &[ref_key("us", 0)]);
        let st = ix.state("ref/us/0");
        let p = ix.prove("ref/us/0");
        assert!(p.siblings.is_empty());
        verify(ix.root(), "ref/us/0", st, &p).unwrap();
        let p = ix.prove("ref/us/1");
        verify(ix.root(), "ref/us/1", KeyState::default(), &p).unwrap();
    }
}
