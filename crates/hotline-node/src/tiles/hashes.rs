//! Hash tiles: the stored tree hashes of one tile, read from the store's
//! `hashes` table by stored-hash index, 32 bytes each, in order.

use super::paths::WIDTH;
use crate::store::{LogId, LogStore, StoreError};

/// The stored-hash index of the hash at `level`, position `n` (the
/// numbering of Go's `sumdb/tlog`, which the store keeps hashes by): the
/// hashes of a tree are stored in the order they become complete.
pub fn stored_hash_index(level: u8, n: u64) -> u64 {
    let mut n = n;
    for _ in 0..level {
        n = 2 * n + 1;
    }
    let mut i = 0u64;
    while n > 0 {
        i += n;
        n >>= 1;
    }
    i + u64::from(level)
}

/// The stored-hash indexes of hash tile `(level, n, width)` in a tree of
/// `size` leaves, or `None` if the tree has no such tile (yet).
pub fn tile_indexes(size: u64, level: u8, n: u64, width: u16) -> Option<Vec<u64>> {
    let tree_level = u32::from(level) * 8;
    // Complete hashes at this tree level.
    let count = size.checked_shr(tree_level).unwrap_or(0);
    let start = n.checked_mul(u64::from(WIDTH))?;
    let end = start.checked_add(u64::from(width))?;
    if end > count {
        return None;
    }
    let tree_level = u8::try_from(tree_level).ok()?;
    Some(
        (start..end)
            .map(|i| stored_hash_index(tree_level, i))
            .collect(),
    )
}

/// Reads hash tile `(level, n, width)` of `log` at tree size `size`:
/// `Ok(None)` if the tree does not have it.
pub fn read(
    store: &(impl LogStore + ?Sized),
    log: LogId,
    size: u64,
    level: u8,
    n: u64,
    width: u16,
) -> Result<Option<Vec<u8>>, StoreError> {
    let Some(ids) = tile_indexes(size, level, n, width) else {
        return Ok(None);
    };
    let hashes = store.read_hashes(log, &ids)?;
    if hashes.len() != ids.len() {
        return Err(StoreError::Corrupt(format!(
            "{} of the {} hashes of a tile were read",
            hashes.len(),
            ids.len()
        )));
    }
    let mut out = Vec::with_capacity(hashes.len() * 32);
    for h in hashes {
        out.extend_from_slice(&h.0);
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_hash_indexes_are_those_of_sumdb_tlog() {
        for level in 0..20u8 {
            for n in [0u64, 1, 2, 3, 255, 256, 1000, 123_456] {
                assert_eq!(
                    stored_hash_index(level, n),
                    tlog_tiles::stored_hash_index(level, n),
                    "level {level} n {n}"
                );
            }
        }
    }

    #[test]
    fn tiles_beyond_the_tree_are_not_there() {
        // 300 leaves: one full level-0 tile, a partial of 44, one level-1
        // partial of width 1.
        assert_eq!(tile_indexes(300, 0, 0, 256).map(|v| v.len()), Some(256));
        assert_eq!(tile_indexes(300, 0, 1, 44).map(|v| v.len()), Some(44));
        assert_eq!(tile_indexes(300, 0, 1, 45), None);
        assert_eq!(tile_indexes(300, 0, 1, 256), None);
        assert_eq!(tile_indexes(300, 1, 0, 1).map(|v| v.len()), Some(1));
        assert_eq!(tile_indexes(300, 1, 0, 2), None);
        assert_eq!(tile_indexes(300, 2, 0, 1), None);
        assert_eq!(tile_indexes(u64::MAX, 0, u64::MAX, 256), None);
        assert_eq!(tile_indexes(u64::MAX, 7, u64::MAX >> 56, 256), None);
        assert_eq!(tile_indexes(0, 0, 0, 1), None);
    }

    #[test]
    fn the_level_one_hash_is_the_level_zero_tile_root() {
        // What a reader checks: the hash at level 8 over 256 leaves is the
        // root of level-0 tile 0. The indexes agree with tlog_tiles' tiles.
        let ids = tile_indexes(256 * 256, 1, 0, 3).unwrap();
        assert_eq!(ids[2], tlog_tiles::stored_hash_index(8, 2));
        let ids = tile_indexes(256, 0, 0, 256).unwrap();
        assert_eq!(ids[255], tlog_tiles::stored_hash_index(0, 255));
    }
}
