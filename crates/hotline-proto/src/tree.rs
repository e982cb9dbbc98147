//! RFC 9162 Merkle trees: leaf and node hashing, inclusion and consistency
//! proofs.
//!
//! The hashing and proof algorithms are those of `tlog_tiles` (a port of Go's
//! `golang.org/x/mod/sumdb/tlog`), which numbers every complete subtree hash
//! with a *stored hash index* so that a store can keep each hash once and a
//! proof reads O(log n) of them. This module adds what hotline needs on top:
//! typed errors, [`Frontier`] (a compact range, to append disclosed leaves to a
//! signed tree), and [`MemoryTree`] for verifiers, tests and benchmarks.

use tlog_tiles::Hash;
pub use tlog_tiles::{Error as TlogError, HashReader};

/// Why a proof did not verify, or could not be made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum TreeError {
    /// The inclusion proof does not lead from the leaf to the root.
    #[error("inclusion proof for index {index} in a tree of size {size} does not verify")]
    Inclusion {
        /// The leaf index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The consistency proof does not show the old tree is a prefix of the new.
    #[error("consistency proof from size {old} to size {new} does not verify")]
    Consistency {
        /// Old tree size.
        old: u64,
        /// New tree size.
        new: u64,
    },
    /// A proof was asked for positions the tree does not have.
    #[error("no proof possible: {0}")]
    OutOfRange(String),
    /// The hash store could not supply a hash.
    #[error("reading tree hashes: {0}")]
    Read(String),
}

/// The root of the empty tree: `SHA-256("")` (RFC 9162 §2.1.1).
pub fn empty_root() -> Hash {
    tlog_tiles::EMPTY_HASH
}

/// `SHA-256(0x00 ‖ leaf)`.
pub fn leaf_hash(leaf: &[u8]) -> Hash {
    tlog_tiles::record_hash(leaf)
}

/// `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: Hash, right: Hash) -> Hash {
    tlog_tiles::node_hash(left, right)
}

/// Checks that `leaf` is at `index` in the tree of `size` with `root`.
pub fn verify_inclusion(
    leaf: Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: Hash,
) -> Result<(), TreeError> {
    if index >= size {
        return Err(TreeError::Inclusion { index, size });
    }
    tlog_tiles::check_record(&proof.to_vec(), size, root, index, leaf)
        .map_err(|_| TreeError::Inclusion { index, size })
}

/// Checks that the tree of `old` size and `old_root` is a prefix of the tree
/// of `new` size and `new_root`.
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: Hash,
    new_root: Hash,
    proof: &[Hash],
) -> Result<(), TreeError> {
    let err = TreeError::Consistency { old, new };
    if old > new {
        return Err(err);
    }
    if old == 0 {
        // RFC 9162 §2.1.4 defines proofs for 0 < old < new only. The empty
        // tree is a prefix of every tree, so the proof from it is empty, as
        // the CCTV vectors and C2SP tlog-witness (old size 0) have it; the old
        // root must still be the empty tree's hash (and so must the new one if
        // the new tree is empty too).
        return if proof.is_empty()
            && old_root == tlog_tiles::EMPTY_HASH
            && (new > 0 || new_root == tlog_tiles::EMPTY_HASH)
        {
            Ok(())
        } else {
            Err(err)
        };
    }
    if old == new {
        return if proof.is_empty() && old_root == new_root {
            Ok(())
        } else {
            Err(err)
        };
    }
    tlog_tiles::check_tree(&proof.to_vec(), new, new_root, old, old_root).map_err(|_| err)
}

/// Inclusion proof for `index` in the tree of `size`, reading stored hashes.
pub fn prove_inclusion(r: &impl HashReader, size: u64, index: u64) -> Result<Vec<Hash>, TreeError> {
    if index >= size {
        return Err(TreeError::OutOfRange(format!(
            "index {index} is not below tree size {size}"
        )));
    }
    tlog_tiles::prove_record(size, index, r).map_err(|e| TreeError::Read(e.to_string()))
}

/// Consistency proof from `old` to `new`, reading stored hashes. It is empty
/// when `old` is 0 or equal to `new` (see [`verify_consistency`]).
pub fn prove_consistency(r: &impl HashReader, old: u64, new: u64) -> Result<Vec<Hash>, TreeError> {
    if old > new {
        return Err(TreeError::OutOfRange(format!(
            "no consistency proof from size {old} to {new}"
        )));
    }
    if old == 0 || old == new {
        return Ok(vec![]);
    }
    tlog_tiles::prove_tree(new, old, r).map_err(|e| TreeError::Read(e.to_string()))
}

/// Root hash of the tree of `size`, reading stored hashes.
pub fn root(r: &impl HashReader, size: u64) -> Result<Hash, TreeError> {
    tlog_tiles::tree_hash(size, r).map_err(|e| TreeError::Read(e.to_string()))
}

/// The stored hashes that appending the leaf with `leaf_hash` at index `n`
/// adds (the leaf hash, then each completed parent).
pub fn hashes_to_store(
    r: &impl HashReader,
    n: u64,
    leaf_hash: Hash,
) -> Result<Vec<Hash>, TreeError> {
    tlog_tiles::stored_hashes_for_record_hash(n, leaf_hash, r)
        .map_err(|e| TreeError::Read(e.to_string()))
}

/// Number of stored hashes in a tree of `n` leaves.
pub fn stored_hash_count(n: u64) -> u64 {
    tlog_tiles::stored_hash_count(n)
}

/// The compact range `[0, size)` of a tree: the hashes of its perfect
/// subtrees, largest (leftmost) first — one per set bit of `size`. It is all
/// a verifier needs to append leaves and recompute later roots, so a bundle
/// can show that a run of disclosed leaves is exactly what turned one signed
/// tree into another.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Frontier {
    size: u64,
    hashes: Vec<Hash>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// The frontier of a tree of `size` from its perfect-subtree hashes, left
    /// to right. There must be exactly one hash per set bit of `size`.
    pub fn from_hashes(size: u64, hashes: Vec<Hash>) -> Result<Self, TreeError> {
        if hashes.len() != size.count_ones() as usize {
            return Err(TreeError::OutOfRange(format!(
                "a tree of size {size} has a frontier of {} hashes, not {}",
                size.count_ones(),
                hashes.len()
            )));
        }
        Ok(Self { size, hashes })
    }

    /// Appends a leaf by its leaf hash.
    pub fn push(&mut self, leaf_hash: Hash) {
        self.hashes.push(leaf_hash);
        // Each trailing one bit of the old size is a subtree of the new
        // leaf's height that now has a complete sibling: merge them.
        let mut n = self.size;
        while n & 1 == 1 {
            let right = self.hashes.pop().expect("one hash per set bit");
            let left = self.hashes.pop().expect("one hash per set bit");
            self.hashes.push(node_hash(left, right));
            n >>= 1;
        }
        self.size += 1;
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The perfect-subtree hashes, left to right.
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// The RFC 9162 root hash of the tree.
    pub fn root(&self) -> Hash {
        let mut it = self.hashes.iter().rev();
        let Some(last) = it.next() else {
            return empty_root();
        };
        it.fold(*last, |acc, h| node_hash(*h, acc))
    }
}

/// The frontier hashes of the tree of `size` (see [`Frontier`]), reading
/// stored hashes: the subtree decomposition of `[0, size)`.
pub fn frontier_hashes(r: &impl HashReader, size: u64) -> Result<Vec<Hash>, TreeError> {
    let indexes = tlog_tiles::sub_tree_index(0, size, vec![]);
    r.read_hashes(&indexes)
        .map_err(|e| TreeError::Read(e.to_string()))
}

/// A tree kept in memory: every stored hash in order.
#[derive(Default, Clone)]
pub struct MemoryTree {
    hashes: Vec<Hash>,
    size: u64,
}

impl HashReader for MemoryTree {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|&i| {
                usize::try_from(i)
                    .ok()
                    .and_then(|i| self.hashes.get(i).copied())
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a leaf by its hash; returns its index.
    pub fn push_hash(&mut self, leaf_hash: Hash) -> u64 {
        let n = self.size;
        let new =
            hashes_to_store(self, n, leaf_hash).expect("memory tree holds every hash it needs");
        self.hashes.extend(new);
        self.size += 1;
        n
    }

    /// Appends a leaf; returns its index.
    pub fn push(&mut self, leaf: &[u8]) -> u64 {
        self.push_hash(leaf_hash(leaf))
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Root hash of the whole tree.
    pub fn root(&self) -> Hash {
        root(self, self.size).expect("memory tree holds every hash it needs")
    }

    /// Refuses a tree `size` larger than this one: every proof and root
    /// asked of it is of a tree it holds.
    fn holds(&self, size: u64) -> Result<(), TreeError> {
        if size > self.size {
            return Err(TreeError::OutOfRange(format!(
                "size {size} is beyond the tree ({})",
                self.size
            )));
        }
        Ok(())
    }

    /// Root hash of the first `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash, TreeError> {
        self.holds(size)?;
        root(self, size)
    }

    /// Inclusion proof for `index` in the tree of `size`.
    pub fn inclusion(&self, index: u64, size: u64) -> Result<Vec<Hash>, TreeError> {
        self.holds(size)?;
        prove_inclusion(self, size, index)
    }

    /// Consistency proof from `old` to `new`.
    pub fn consistency(&self, old: u64, new: u64) -> Result<Vec<Hash>, TreeError> {
        self.holds(new)?;
        prove_consistency(self, old, new)
    }
}
