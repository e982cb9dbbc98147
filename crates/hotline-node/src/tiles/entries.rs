//! Entry bundles: the leaves of one tile, each the exact bytes hashed into
//! the tree (RFC 9162 leaf hash `SHA-256(0x00 ‖ leaf)`), prefixed with its
//! length as a big-endian `uint16`.

use super::paths::WIDTH;
use crate::store::{LogId, LogStore, StoreError};

/// Why a bundle could not be made.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A leaf is longer than a bundle can frame.
    #[error(
        "entry {0} is longer than the 65535 bytes a tlog-tiles entry bundle can hold; read it with /v1/log instead"
    )]
    TooLong(u64),
}

/// The leaf range `[start, end)` of bundle `(n, width)` in a tree of `size`
/// leaves, if the tree has it.
pub fn range(size: u64, n: u64, width: u16) -> Option<(u64, u64)> {
    let start = n.checked_mul(u64::from(WIDTH))?;
    let end = start.checked_add(u64::from(width))?;
    (end <= size).then_some((start, end))
}

/// Frames leaves as an entry bundle.
pub fn encode<'a>(
    first: u64,
    leaves: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Vec<u8>, BundleError> {
    let mut out = Vec::new();
    for (i, leaf) in leaves.into_iter().enumerate() {
        let len = u16::try_from(leaf.len()).map_err(|_| BundleError::TooLong(first + i as u64))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(leaf);
    }
    Ok(out)
}

/// Reads bundle `(n, width)` of `log` at tree size `size`: `Ok(None)` if the
/// tree does not have it.
pub fn read(
    store: &(impl LogStore + ?Sized),
    log: LogId,
    size: u64,
    n: u64,
    width: u16,
) -> Result<Option<Vec<u8>>, BundleError> {
    let Some((start, end)) = range(size, n, width) else {
        return Ok(None);
    };
    let leaves = store.leaves(log, start, end - start)?;
    if leaves.len() as u64 != end - start || leaves.first().is_some_and(|l| l.index != start) {
        return Err(
            StoreError::Corrupt(format!("leaves {start}..{end} are not all in the store")).into(),
        );
    }
    encode(start, leaves.iter().map(|l| l.leaf.as_slice())).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_length_prefixed_big_endian() {
        let b = encode(0, [b"ab".as_slice(), b"".as_slice(), &[7u8; 300]]).unwrap();
        assert_eq!(&b[..4], &[0, 2, b'a', b'b']);
        assert_eq!(&b[4..6], &[0, 0]);
        assert_eq!(&b[6..8], &[1, 44]);
        assert_eq!(b.len(), 8 + 300);
    }

    #[test]
    fn a_leaf_over_65535_bytes_is_refused_by_index() {
        let big = vec![0u8; 65_536];
        let e = encode(512, [b"x".as_slice(), big.as_slice()]).unwrap_err();
        assert!(e.to_string().contains("entry 513"), "{e}");
    }

    #[test]
    fn bundles_beyond_the_tree_are_not_there() {
        assert_eq!(range(300, 0, 256), Some((0, 256)));
        assert_eq!(range(300, 1, 44), Some((256, 300)));
        assert_eq!(range(300, 1, 45), None);
        assert_eq!(range(u64::MAX, u64::MAX, 256), None);
    }
}
