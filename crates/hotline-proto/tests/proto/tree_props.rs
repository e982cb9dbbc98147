//! Property tests of the RFC 9162 tree: every honest proof verifies, every
//! mutation of a proof or of what it is checked against fails, and roots and
//! proofs agree with an independent implementation (`ct-merkle`).

use ct_merkle::digest::consts::U32;
use ct_merkle::digest::{FixedOutput, HashMarker, Output, OutputSizeUser, Update};
use ct_merkle::mem_backed_tree::MemoryBackedTree;
use ct_merkle::{ConsistencyProof, InclusionProof, RootHash};
use hotline_proto::Hash;
use hotline_proto::tree::{self, MemoryTree};
use proptest::prelude::*;

/// A small deterministic generator for the choices inside one proptest case.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // SplitMix64.
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// Uniform in `lo..=hi` except `not`; None if that range holds nothing else.
    fn other_than(&mut self, not: u64, lo: u64, hi: u64) -> Option<u64> {
        if hi < lo || (hi == lo && lo == not) {
            return None;
        }
        loop {
            let x = lo + self.below(hi - lo + 1);
            if x != not {
                return Some(x);
            }
        }
    }
    fn hash(&mut self) -> Hash {
        let mut h = [0u8; 32];
        for c in h.chunks_mut(8) {
            c.copy_from_slice(&self.next().to_le_bytes());
        }
        Hash(h)
    }
    fn flip_bit(&mut self, h: Hash) -> Hash {
        let bit = self.below(256) as usize;
        let mut out = h;
        out.0[bit / 8] ^= 1 << (bit % 8);
        out
    }
}

/// Distinct leaves: `seed/i`.
fn leaf(seed: u64, i: u64) -> Vec<u8> {
    format!("{seed:016x}/{i}").into_bytes()
}

fn build(seed: u64, n: u64) -> MemoryTree {
    let mut t = MemoryTree::new();
    for i in 0..n {
        t.push(&leaf(seed, i));
    }
    t
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Every leaf's inclusion proof verifies; each mutation fails.
    #[test]
    fn inclusion_proofs_verify_and_every_mutation_fails(
        size in 1u64..300,
        extra in 0u64..8,
        seed in any::<u64>(),
    ) {
        let total = size + extra;
        let t = build(seed, total);
        let root = t.root_at(size).unwrap();
        let mut rng = Rng(seed);
        for i in 0..size {
            let lh = tree::leaf_hash(&leaf(seed, i));
            let proof = t.inclusion(i, size).unwrap();
            prop_assert!(tree::verify_inclusion(lh, i, size, &proof, root).is_ok(),
                "honest proof of {} in {} failed", i, size);
            let fails = |lh: Hash, i: u64, n: u64, p: &[Hash], r: Hash| {
                tree::verify_inclusion(lh, i, n, p, r).is_err()
            };

            // A bit flipped in any one proof hash.
            for j in 0..proof.len() {
                let mut p = proof.clone();
                p[j] = rng.flip_bit(p[j]);
                prop_assert!(fails(lh, i, size, &p, root), "bit flip in hash {} of proof {}/{}", j, i, size);
            }
            // A hash dropped.
            if !proof.is_empty() {
                let mut p = proof.clone();
                p.remove(rng.below(proof.len() as u64) as usize);
                prop_assert!(fails(lh, i, size, &p, root), "dropped hash in proof {}/{}", i, size);
            }
            // A hash added, anywhere.
            let mut p = proof.clone();
            p.insert(rng.below(proof.len() as u64 + 1) as usize, rng.hash());
            prop_assert!(fails(lh, i, size, &p, root), "added hash in proof {}/{}", i, size);
            // A duplicate of the last hash appended.
            if let Some(&last) = proof.last() {
                let mut p = proof.clone();
                p.push(last);
                prop_assert!(fails(lh, i, size, &p, root), "repeated hash in proof {}/{}", i, size);
            }
            // The proof claimed for another index, including one past the end.
            if let Some(j) = rng.other_than(i, 0, size - 1) {
                prop_assert!(fails(lh, j, size, &proof, root), "proof of {} accepted for {} in {}", i, j, size);
            }
            prop_assert!(fails(lh, size, size, &proof, root));
            // The proof claimed for another tree size, against that size's true root.
            if let Some(n) = rng.other_than(size, i + 1, total) {
                let r = t.root_at(n).unwrap();
                prop_assert!(fails(lh, i, n, &proof, r), "proof of {} in {} accepted in {}", i, size, n);
            }
            // A wrong root, and a wrong leaf.
            prop_assert!(fails(lh, i, size, &proof, rng.flip_bit(root)));
            prop_assert!(fails(rng.flip_bit(lh), i, size, &proof, root));
            prop_assert!(fails(tree::leaf_hash(&leaf(seed ^ 1, i)), i, size, &proof, root));
        }
    }

    /// Consistency proofs between any two sizes verify; each mutation fails,
    /// and a fork of either tree is caught.
    #[test]
    fn consistency_proofs_verify_and_every_mutation_fails(
        new in 1u64..300,
        old_pick in any::<u64>(),
        extra in 0u64..8,
        seed in any::<u64>(),
    ) {
        let old = 1 + old_pick % new;
        let total = new + extra;
        let t = build(seed, total);
        let (old_root, new_root) = (t.root_at(old).unwrap(), t.root_at(new).unwrap());
        let proof = t.consistency(old, new).unwrap();
        let ok = |o: u64, n: u64, or: Hash, nr: Hash, p: &[Hash]| {
            tree::verify_consistency(o, n, or, nr, p).is_ok()
        };
        prop_assert!(ok(old, new, old_root, new_root, &proof), "honest proof {} -> {} failed", old, new);
        prop_assert_eq!(proof.is_empty(), old == new);
        let mut rng = Rng(seed ^ old);

        for j in 0..proof.len() {
            let mut p = proof.clone();
            p[j] = rng.flip_bit(p[j]);
            prop_assert!(!ok(old, new, old_root, new_root, &p), "bit flip in hash {} of {} -> {}", j, old, new);
        }
        if !proof.is_empty() {
            let mut p = proof.clone();
            p.remove(rng.below(proof.len() as u64) as usize);
            prop_assert!(!ok(old, new, old_root, new_root, &p), "dropped hash {} -> {}", old, new);
        }
        let mut p = proof.clone();
        p.insert(rng.below(proof.len() as u64 + 1) as usize, rng.hash());
        prop_assert!(!ok(old, new, old_root, new_root, &p), "added hash {} -> {}", old, new);

        // Other sizes, against their true roots.
        if let Some(o) = rng.other_than(old, 1, new) {
            let r = t.root_at(o).unwrap();
            prop_assert!(!ok(o, new, r, new_root, &proof), "proof {} -> {} accepted for {} -> {}", old, new, o, new);
        }
        if let Some(n) = rng.other_than(new, old, total) {
            let r = t.root_at(n).unwrap();
            prop_assert!(!ok(old, n, old_root, r, &proof), "proof {} -> {} accepted for {} -> {}", old, new, old, n);
        }
        prop_assert!(!ok(old, new, rng.flip_bit(old_root), new_root, &proof));
        prop_assert!(!ok(old, new, old_root, rng.flip_bit(new_root), &proof));
        if old < new {
            // Sizes swapped: never a proof that a tree shrank.
            prop_assert!(!ok(new, old, new_root, old_root, &proof));
        }
        // From the empty tree: only the empty proof and the empty root.
        prop_assert!(!ok(0, new, old_root, new_root, &proof));

        // A fork: the same first old-1 leaves, then a different leaf old-1.
        // Its root at `old` must not pass as a prefix of the original tree.
        let mut fork = build(seed, old - 1);
        fork.push(b"forked");
        prop_assert!(!ok(old, new, fork.root(), new_root, &proof), "fork at {} not caught", old - 1);
        // A tree that shares the first `old` leaves but then differs is
        // consistent with `old` under its own proof, not under ours.
        if new > old {
            let mut other = build(seed, old);
            for i in old..new {
                other.push(&leaf(!seed, i));
            }
            let other_root = other.root();
            prop_assert!(!ok(old, new, old_root, other_root, &proof));
            let other_proof = other.consistency(old, new).unwrap();
            prop_assert!(ok(old, new, old_root, other_root, &other_proof));
        }
    }
}

/// The empty tree is a prefix of every tree: its proof is empty and its root
/// must be the hash of the empty string.
#[test]
fn consistency_from_the_empty_tree() {
    let t = build(7, 5);
    let empty = tlog_tiles_empty();
    assert_eq!(t.root_at(0).unwrap(), empty);
    assert_eq!(t.consistency(0, 5).unwrap(), vec![]);
    assert_eq!(t.consistency(0, 0).unwrap(), vec![]);
    assert!(tree::verify_consistency(0, 5, empty, t.root(), &[]).is_ok());
    assert!(tree::verify_consistency(0, 0, empty, empty, &[]).is_ok());
    // Not with a proof, not from another root, not to a non-empty root at size 0.
    assert!(tree::verify_consistency(0, 5, empty, t.root(), &[t.root()]).is_err());
    assert!(tree::verify_consistency(0, 5, t.root_at(1).unwrap(), t.root(), &[]).is_err());
    assert!(tree::verify_consistency(0, 0, empty, t.root(), &[]).is_err());
    assert!(tree::verify_consistency(0, 0, t.root(), t.root(), &[]).is_err());
    assert!(t.consistency(1, 0).is_err());
    assert!(t.consistency(0, 6).is_err(), "beyond the tree");
}

fn tlog_tiles_empty() -> Hash {
    let sha: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(b"").into();
    Hash(sha)
}

/// SHA-256 (the `sha2` 0.10 hasher) behind the `digest` 0.11 traits that
/// `ct-merkle` takes. `ct-merkle` brings its own tree algorithms and its own
/// RFC 6962 prefixes; SHA-256 itself is pinned by the CCTV vectors.
#[derive(Clone, Default)]
struct Sha256(sha2::Sha256);

impl HashMarker for Sha256 {}

impl OutputSizeUser for Sha256 {
    type OutputSize = U32;
}

impl Update for Sha256 {
    fn update(&mut self, data: &[u8]) {
        sha2::Digest::update(&mut self.0, data);
    }
}

impl FixedOutput for Sha256 {
    fn finalize_into(self, out: &mut Output<Self>) {
        out.copy_from_slice(&sha2::Digest::finalize(self.0));
    }
}

fn ct_hash(h: Hash) -> Output<Sha256> {
    Output::<Sha256>::from(h.0)
}

fn concat(hashes: &[Hash]) -> Vec<u8> {
    hashes.iter().flat_map(|h| h.0).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Roots, inclusion proofs and consistency proofs are byte-identical to
    /// `ct-merkle`'s for random leaves, and each side verifies the other's.
    #[test]
    fn agrees_with_ct_merkle(leaves in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..80)) {
        let mut ours = MemoryTree::new();
        let mut theirs = MemoryBackedTree::<Sha256, Vec<u8>>::new();
        for l in &leaves {
            ours.push(l);
            theirs.push(l.clone());
            prop_assert_eq!(ours.root().0.to_vec(), theirs.root().as_bytes().to_vec(),
                "root at size {}", ours.size());
        }
        let n = ours.size();
        let root = ours.root();
        let their_root = RootHash::<Sha256>::new(ct_hash(root), n);
        prop_assert!(their_root == theirs.root());

        for (i, l) in leaves.iter().enumerate() {
            let i64_ = i as u64;
            let p = ours.inclusion(i64_, n).unwrap();
            let tp = theirs.prove_inclusion(i);
            prop_assert_eq!(concat(&p), tp.as_bytes().to_vec(), "inclusion proof of {} in {}", i, n);
            // Ours verifies theirs; theirs verifies ours.
            let from_theirs: Vec<Hash> = tp.as_bytes().chunks(32)
                .map(|c| Hash(c.try_into().unwrap())).collect();
            prop_assert!(tree::verify_inclusion(tree::leaf_hash(l), i64_, n, &from_theirs, root).is_ok());
            let ours_for_them = InclusionProof::<Sha256>::from_bytes(concat(&p));
            prop_assert!(their_root.verify_inclusion(l, i64_, &ours_for_them).is_ok());
        }

        for old in 1..n {
            let p = ours.consistency(old, n).unwrap();
            let tp = theirs.prove_consistency((n - old) as usize);
            prop_assert_eq!(concat(&p), tp.as_bytes().to_vec(), "consistency proof {} -> {}", old, n);
            let old_root = ours.root_at(old).unwrap();
            let their_old = RootHash::<Sha256>::new(ct_hash(old_root), old);
            let ours_for_them = ConsistencyProof::<Sha256>::try_from_bytes(concat(&p)).unwrap();
            prop_assert!(their_root.verify_consistency(&their_old, &ours_for_them).is_ok());
            prop_assert!(tree::verify_consistency(old, n, old_root, root, &p).is_ok());
        }
    }
}
