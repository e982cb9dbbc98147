//! The compact range of a tree: read from stored hashes, folded to the
//! root, and extended leaf by leaf, always agreeing with `MemoryTree`.

use hotline_proto::tree::{self, Frontier, MemoryTree, TreeError};

fn leaf(i: u64) -> Vec<u8> {
    format!("leaf {i}").into_bytes()
}

#[test]
fn frontier_of_every_size_folds_to_the_root_and_extends_like_the_tree() {
    let mut t = MemoryTree::new();
    for i in 0..70 {
        t.push(&leaf(i));
    }
    let mut grown = Frontier::new();
    assert_eq!(grown.root(), tree::empty_root());
    for n in 0..=70u64 {
        let hashes = tree::frontier_hashes(&t, n).unwrap();
        assert_eq!(hashes.len() as u32, n.count_ones(), "size {n}");
        let f = Frontier::from_hashes(n, hashes.clone()).unwrap();
        assert_eq!(f.root(), t.root_at(n).unwrap(), "size {n}");
        // Growing one leaf at a time from empty gives the same frontier.
        assert_eq!(grown.hashes(), &hashes[..], "size {n}");
        assert_eq!(grown.size(), n);
        // And from any size, appending the rest reaches every later root.
        if n % 7 == 0 {
            let mut g = f.clone();
            for m in n..70 {
                g.push(tree::leaf_hash(&leaf(m)));
                assert_eq!(g.root(), t.root_at(m + 1).unwrap(), "{n} + up to {m}");
            }
        }
        if n < 70 {
            grown.push(tree::leaf_hash(&leaf(n)));
        }
    }
}

#[test]
fn a_frontier_with_the_wrong_number_of_hashes_is_refused() {
    let mut t = MemoryTree::new();
    for i in 0..6 {
        t.push(&leaf(i));
    }
    let mut h = tree::frontier_hashes(&t, 6).unwrap();
    assert_eq!(h.len(), 2);
    h.push(h[0]);
    let e = Frontier::from_hashes(6, h).unwrap_err();
    assert!(matches!(e, TreeError::OutOfRange(_)), "{e:?}");
    assert!(e.to_string().contains("frontier of 2 hashes, not 3"), "{e}");
    // A frontier that is not the tree's folds to another root.
    let mut h = tree::frontier_hashes(&t, 6).unwrap();
    h.swap(0, 1);
    assert_ne!(Frontier::from_hashes(6, h).unwrap().root(), t.root());
}
