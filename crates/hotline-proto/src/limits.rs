//! Size and shape limits for what is read from another party or from a
//! bundle, and the bounded decoding that enforces them *while* parsing.
//!
//! Everything a verifier or a node decodes may come from an adversary who
//! knows the formats and wants the decoder to allocate without bound: a
//! proof with a hundred thousand hashes, a list of a million empty strings,
//! a checkpoint of gigabytes. Each limit here is what the format itself
//! allows, so no honest input is refused:
//!
//! - An RFC 9162 inclusion proof in a tree of `n` leaves has
//!   `⌈log2 n⌉` hashes: at most [`MAX_INCLUSION_HASHES`] (64) for any 64-bit
//!   size. A consistency proof adds at most one more: [`MAX_CONSISTENCY_HASHES`]
//!   (65). A frontier (compact range) has one hash per set bit of the size:
//!   [`MAX_FRONTIER_HASHES`] (64).
//! - A leaf is at most [`MAX_LEAF_BYTES`] and at least [`MIN_LEAF_BYTES`]:
//!   it holds its 64-byte signature in base64 inside
//!   `{"header":{…},"sig":"…"}`.
//! - A signed note (checkpoint) is at most [`MAX_NOTE_BYTES`], the limit of
//!   the signed-note implementation that parses it, with at most 100
//!   signature lines.
//! - A bundle is at most [`MAX_BUNDLE_BYTES`].
//!
//! Lists are refused at the first element past their limit, and strings
//! shorter than anything the format can hold are refused as they are read,
//! so parsing a bundle allocates a small multiple of its size at most,
//! whatever its shape.

use std::fmt;

use serde::Deserializer;
use serde::de::{Error as _, SeqAccess, Visitor};

pub use crate::entry::MAX_LEAF_BYTES;

/// Largest bundle `hotline verify` reads: 64 MiB. A month's absence bundle
/// of a busy channel is a few MB (`hotline bench absence`).
pub const MAX_BUNDLE_BYTES: usize = 64 * 1024 * 1024;

/// Largest signed note (checkpoint with its signature lines) accepted, the
/// limit of the `signed_note` implementation, checked before copying one.
pub const MAX_NOTE_BYTES: usize = 1_000_000;

/// Most hashes in an inclusion proof: `⌈log2 n⌉` for a tree of `n < 2^64` leaves.
pub const MAX_INCLUSION_HASHES: usize = 64;

/// Most hashes in a consistency proof: `⌈log2 n⌉ + 1` for `n < 2^64`
/// (RFC 9162 §2.1.4.1: one per level of the recursion, and the old tree's
/// own subtree hash when it is not a prefix of a perfect subtree).
pub const MAX_CONSISTENCY_HASHES: usize = 65;

/// Most hashes in a frontier: one per set bit of a 64-bit size.
pub const MAX_FRONTIER_HASHES: usize = 64;

/// The smallest leaf there can be: `{"header":{`, a header, `},"sig":"`,
/// 88 characters of base64 signature, `"}` is more than 100 bytes.
pub const MIN_LEAF_BYTES: usize = 100;

/// The shortest tlog-proof text there can be: its header line
/// (`c2sp.org/tlog-proof@v1`), an index line, a blank line and a signed
/// checkpoint (three lines and a signature line) are more than 64 characters.
pub const MIN_TLOG_PROOF_CHARS: usize = 64;

/// Length of the standard, padded base64 of `n` bytes.
pub const fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// `64 MiB (67108864 bytes)`: a limit as a person reads it and exactly.
pub fn describe_bytes(n: usize) -> String {
    const MIB: usize = 1024 * 1024;
    const KIB: usize = 1024;
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB ({n} bytes)", n / MIB)
    } else if n >= KIB && n.is_multiple_of(KIB) {
        format!("{} KiB ({n} bytes)", n / KIB)
    } else {
        format!("{n} bytes")
    }
}

/// Collects the items of `iter`, failing with `too_many()` at the first item
/// past `max` (so a list is never collected beyond its limit) or with the
/// first item's own error.
pub fn collect_at_most<T, E>(
    iter: impl IntoIterator<Item = Result<T, E>>,
    max: usize,
    too_many: impl FnOnce() -> E,
) -> Result<Vec<T>, E> {
    let mut out = Vec::new();
    for item in iter {
        if out.len() == max {
            return Err(too_many());
        }
        out.push(item?);
    }
    Ok(out)
}

/// A JSON list of strings, each of bounded length, refused at the first
/// element past `max_count`.
struct Strings {
    /// The field, as the error names it (`frontier`, `leaves`).
    what: &'static str,
    max_count: usize,
    /// Allowed string lengths, in characters (bytes of UTF-8).
    min_len: usize,
    max_len: usize,
    /// Why those lengths (`a leaf is …`), for the error.
    why: &'static str,
}

impl<'de> Visitor<'de> for Strings {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a list of at most {} strings", self.max_count)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(s) = seq.next_element::<String>()? {
            if out.len() == self.max_count {
                return Err(A::Error::custom(format!(
                    "{} has more than {} entries ({})",
                    self.what, self.max_count, self.why
                )));
            }
            if s.len() < self.min_len || s.len() > self.max_len {
                return Err(A::Error::custom(format!(
                    "{}[{}] is {} characters long; {}",
                    self.what,
                    out.len(),
                    s.len(),
                    self.why
                )));
            }
            out.push(s);
        }
        Ok(out)
    }
}

const HASH_B64: usize = base64_len(32);

fn hashes<'de, D: Deserializer<'de>>(
    d: D,
    what: &'static str,
    max_count: usize,
    why: &'static str,
) -> Result<Vec<String>, D::Error> {
    d.deserialize_seq(Strings {
        what,
        max_count,
        min_len: HASH_B64,
        max_len: HASH_B64,
        why,
    })
}

/// serde `deserialize_with` for a frontier: at most [`MAX_FRONTIER_HASHES`]
/// base64 SHA-256 hashes.
pub fn frontier<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    hashes(
        d,
        "frontier",
        MAX_FRONTIER_HASHES,
        "a frontier has one base64 SHA-256 hash (44 characters) per set bit of a 64-bit tree size, at most 64",
    )
}

/// serde `deserialize_with` for a consistency proof: at most
/// [`MAX_CONSISTENCY_HASHES`] base64 SHA-256 hashes.
pub fn consistency<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    hashes(
        d,
        "consistency",
        MAX_CONSISTENCY_HASHES,
        "a consistency proof between trees of any 64-bit sizes has at most 65 base64 SHA-256 hashes (44 characters each)",
    )
}

/// serde `deserialize_with` for disclosed leaves: base64 strings, each the
/// encoding of [`MIN_LEAF_BYTES`] to [`MAX_LEAF_BYTES`] bytes. Their number
/// is bounded by the bundle's size.
pub fn leaves<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    d.deserialize_seq(Strings {
        what: "leaves",
        max_count: usize::MAX,
        min_len: base64_len(MIN_LEAF_BYTES),
        max_len: base64_len(MAX_LEAF_BYTES),
        why: "a leaf is the base64 of 100 to 65536 bytes (136 to 87384 characters)",
    })
}

/// serde `deserialize_with` for a list of tlog-proof texts (the `seen`
/// proofs of an answered or stats bundle): each at least
/// [`MIN_TLOG_PROOF_CHARS`] long, so their number is bounded by the
/// bundle's size.
pub fn tlog_proof_texts<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    d.deserialize_seq(Strings {
        what: "seen",
        max_count: usize::MAX,
        min_len: MIN_TLOG_PROOF_CHARS,
        max_len: MAX_BUNDLE_BYTES,
        why: "each is a C2SP tlog-proof text (header, index, checkpoint)",
    })
}

/// A tlog-proof text of plausible length: refused as it is read when it is
/// shorter than any tlog-proof can be, so a list of entry proofs costs no
/// more memory than its bytes.
struct ProofText;

impl Visitor<'_> for ProofText {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a C2SP tlog-proof text")
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<String, E> {
        self.visit_string(s.to_owned())
    }

    fn visit_string<E: serde::de::Error>(self, s: String) -> Result<String, E> {
        if s.len() < MIN_TLOG_PROOF_CHARS {
            return Err(E::custom(format!(
                "a tlog-proof of {} characters; every tlog-proof (header, index, checkpoint) is longer than {MIN_TLOG_PROOF_CHARS}",
                s.len()
            )));
        }
        Ok(s)
    }
}

/// serde `deserialize_with` for a tlog-proof text.
pub fn tlog_proof_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_string(ProofText)
}

/// serde `deserialize_with` for an optional tlog-proof text (with `default`).
pub fn opt_tlog_proof_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct Opt;
    impl<'de> Visitor<'de> for Opt {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a C2SP tlog-proof text or null")
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            tlog_proof_text(d).map(Some)
        }
    }
    d.deserialize_option(Opt)
}

/// Most hashes in an index path: one per level of the 256-level tree.
pub const MAX_INDEX_PATH: usize = 256;

/// serde `deserialize_with` for an index path: at most [`MAX_INDEX_PATH`]
/// base64 SHA-256 hashes.
pub fn index_path<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    hashes(
        d,
        "siblings",
        MAX_INDEX_PATH,
        "an index path has at most one base64 SHA-256 hash (44 characters) per level of the 256-level index tree",
    )
}

/// A leaf as one base64 string of [`MIN_LEAF_BYTES`] to [`MAX_LEAF_BYTES`] bytes.
struct LeafText;

impl Visitor<'_> for LeafText {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a base64 leaf")
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<String, E> {
        self.visit_string(s.to_owned())
    }

    fn visit_string<E: serde::de::Error>(self, s: String) -> Result<String, E> {
        if s.len() < base64_len(MIN_LEAF_BYTES) || s.len() > base64_len(MAX_LEAF_BYTES) {
            return Err(E::custom(format!(
                "a leaf of {} characters; a leaf is the base64 of 100 to 65536 bytes (136 to 87384 characters)",
                s.len()
            )));
        }
        Ok(s)
    }
}

/// serde `deserialize_with` for one base64 leaf.
pub fn leaf_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_string(LeafText)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::MemoryTree;

    /// The number of hashes RFC 9162 puts in an inclusion proof of leaf
    /// `m` in a tree of `n`, by its recursion (sizes only, no hashing).
    fn inclusion_len(m: u64, n: u64) -> usize {
        if n <= 1 {
            return 0;
        }
        let k = 1u64 << (63 - (n - 1).leading_zeros());
        1 + if m < k {
            inclusion_len(m, k)
        } else {
            inclusion_len(m - k, n - k)
        }
    }

    /// The same for a consistency proof from `m` to `n` (RFC 9162 SUBPROOF).
    fn consistency_len(m: u64, n: u64, whole: bool) -> usize {
        if m == n {
            return usize::from(!whole);
        }
        let k = 1u64 << (63 - (n - 1).leading_zeros());
        1 + if m <= k {
            consistency_len(m, k, whole)
        } else {
            consistency_len(m - k, n - k, false)
        }
    }

    #[test]
    fn the_model_matches_real_proofs() {
        let mut t = MemoryTree::new();
        for i in 0..70u64 {
            t.push(&i.to_be_bytes());
        }
        for n in 1..=70 {
            for m in 0..n {
                assert_eq!(t.inclusion(m, n).unwrap().len(), inclusion_len(m, n));
                assert_eq!(
                    t.consistency(m + 1, n).unwrap().len(),
                    if m + 1 == n {
                        0
                    } else {
                        consistency_len(m + 1, n, true)
                    },
                    "{m} {n}"
                );
            }
        }
    }

    #[test]
    fn the_proof_limits_are_the_largest_64_bit_proofs() {
        let max = u64::MAX;
        assert_eq!(inclusion_len(0, max), MAX_INCLUSION_HASHES);
        assert_eq!(
            consistency_len((1 << 63) + 1, max, true),
            MAX_CONSISTENCY_HASHES
        );
        // Around every power of two, nothing is longer.
        for b in 1..64 {
            let p = 1u64 << b;
            for n in [p - 1, p, p + 1, max] {
                for m in [1, 2, p / 2, p / 2 + 1, p - 1, p, n - 1] {
                    if m >= 1 && m < n {
                        assert!(inclusion_len(m, n) <= MAX_INCLUSION_HASHES);
                        assert!(consistency_len(m, n, true) <= MAX_CONSISTENCY_HASHES);
                    }
                }
            }
        }
    }

    #[test]
    fn lists_stop_at_their_limit() {
        let r = collect_at_most((0..).map(Ok::<_, ()>), 3, || ());
        assert_eq!(r, Err(()));
        let r = collect_at_most((0..3).map(Ok::<_, ()>), 3, || ());
        assert_eq!(r, Ok(vec![0, 1, 2]));
    }

    #[test]
    fn limits_read_plainly() {
        assert_eq!(describe_bytes(MAX_BUNDLE_BYTES), "64 MiB (67108864 bytes)");
        assert_eq!(base64_len(MIN_LEAF_BYTES), 136);
        assert_eq!(base64_len(MAX_LEAF_BYTES), 87384);
    }
}
