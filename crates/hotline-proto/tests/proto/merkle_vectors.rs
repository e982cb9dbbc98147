//! The CCTV Merkle vectors (RFC 6962 / RFC 9162), read at test time from
//! `shared/vectors/merkle`. Leaves are `a`, `b`, `c`, … in that order.

use hotline_proto::tree::{self, MemoryTree, TreeError};
use serde::Deserialize;

use super::common::{hash, read_vector};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TreeHead {
    leaf_data: String,
    leaf_hash: String,
    root_hash: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Inclusion {
    leaf_hash: String,
    leaf_index: u64,
    tree_size: u64,
    root_hash: String,
    inclusion_path: Vec<String>,
    #[serde(default)]
    comment: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Consistency {
    old_size: u64,
    new_size: u64,
    old_root: String,
    new_root: String,
    consistency_path: Vec<String>,
    #[serde(default)]
    comment: Option<String>,
}

fn load<T: for<'de> Deserialize<'de>>(name: &str) -> Vec<T> {
    let bytes = read_vector(&format!("merkle/{name}"));
    let cases: Vec<T> = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("merkle/{name} is not the expected JSON: {e}"));
    assert!(!cases.is_empty(), "merkle/{name} holds no cases");
    cases
}

/// The tree of the vectors: one leaf per `merkle_tree.json` object, in order.
fn vector_tree() -> MemoryTree {
    let mut t = MemoryTree::new();
    for h in load::<TreeHead>("merkle_tree.json") {
        t.push(h.leaf_data.as_bytes());
    }
    t
}

fn hashes(v: &[String]) -> Vec<hotline_proto::Hash> {
    v.iter().map(|s| hash(s)).collect()
}

#[test]
fn tree_heads_after_each_append() {
    let heads = load::<TreeHead>("merkle_tree.json");
    let mut t = MemoryTree::new();
    assert_eq!(t.root(), tlog_empty_root(), "root of the empty tree");
    for (i, h) in heads.iter().enumerate() {
        assert_eq!(
            tree::leaf_hash(h.leaf_data.as_bytes()),
            hash(&h.leaf_hash),
            "leaf hash of {:?}",
            h.leaf_data
        );
        assert_eq!(t.push(h.leaf_data.as_bytes()), i as u64);
        assert_eq!(t.size(), i as u64 + 1);
        assert_eq!(t.root(), hash(&h.root_hash), "root after {} leaves", i + 1);
    }
    // Historical roots stay readable once the tree has grown.
    for (i, h) in heads.iter().enumerate() {
        assert_eq!(t.root_at(i as u64 + 1).unwrap(), hash(&h.root_hash));
    }
    assert!(matches!(
        t.root_at(heads.len() as u64 + 1),
        Err(TreeError::OutOfRange(_))
    ));
}

/// SHA-256 of the empty string, the RFC 6962 hash of the empty tree.
fn tlog_empty_root() -> hotline_proto::Hash {
    hash("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
}

#[test]
fn inclusion_valid_vectors_verify_and_match_our_proofs() {
    let t = vector_tree();
    for c in load::<Inclusion>("inclusion-valid.json") {
        let what = format!("leaf {} of tree size {}", c.leaf_index, c.tree_size);
        let path = hashes(&c.inclusion_path);
        tree::verify_inclusion(
            hash(&c.leaf_hash),
            c.leaf_index,
            c.tree_size,
            &path,
            hash(&c.root_hash),
        )
        .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(
            t.root_at(c.tree_size).unwrap(),
            hash(&c.root_hash),
            "{what}"
        );
        assert_eq!(
            t.inclusion(c.leaf_index, c.tree_size).unwrap(),
            path,
            "our proof of {what}"
        );
        assert!(c.comment.is_none());
    }
}

#[test]
fn inclusion_invalid_vectors_fail() {
    for c in load::<Inclusion>("inclusion-invalid.json") {
        let r = tree::verify_inclusion(
            hash(&c.leaf_hash),
            c.leaf_index,
            c.tree_size,
            &hashes(&c.inclusion_path),
            hash(&c.root_hash),
        );
        assert_eq!(
            r,
            Err(TreeError::Inclusion {
                index: c.leaf_index,
                size: c.tree_size
            }),
            "invalid case ({}) of leaf {} in size {} was accepted",
            c.comment.as_deref().unwrap_or("no comment"),
            c.leaf_index,
            c.tree_size
        );
    }
}

#[test]
fn consistency_valid_vectors_verify_and_match_our_proofs() {
    let t = vector_tree();
    for c in load::<Consistency>("consistency-valid.json") {
        let what = format!("sizes {} -> {}", c.old_size, c.new_size);
        let path = hashes(&c.consistency_path);
        tree::verify_consistency(
            c.old_size,
            c.new_size,
            hash(&c.old_root),
            hash(&c.new_root),
            &path,
        )
        .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(t.root_at(c.old_size).unwrap(), hash(&c.old_root), "{what}");
        assert_eq!(t.root_at(c.new_size).unwrap(), hash(&c.new_root), "{what}");
        assert_eq!(
            t.consistency(c.old_size, c.new_size).unwrap(),
            path,
            "our proof of {what}"
        );
        assert!(c.comment.is_none());
    }
}

#[test]
fn consistency_invalid_vectors_fail() {
    for c in load::<Consistency>("consistency-invalid.json") {
        let r = tree::verify_consistency(
            c.old_size,
            c.new_size,
            hash(&c.old_root),
            hash(&c.new_root),
            &hashes(&c.consistency_path),
        );
        assert_eq!(
            r,
            Err(TreeError::Consistency {
                old: c.old_size,
                new: c.new_size
            }),
            "invalid case ({}) from {} to {} was accepted",
            c.comment.as_deref().unwrap_or("no comment"),
            c.old_size,
            c.new_size
        );
    }
}
