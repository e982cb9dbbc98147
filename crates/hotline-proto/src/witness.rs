//! C2SP tlog-witness `add-checkpoint` request bodies
//! (<https://c2sp.org/tlog-witness>), byte for byte:
//!
//! ```text
//! old <size>\n
//! <base64 consistency proof hash>\n      (zero or more)
//! \n
//! <signed checkpoint note>
//! ```
//!
//! The parser is pure and strict, so that the node answers every malformed
//! body with 400 before it touches its store, and so that it can be fuzzed
//! on its own. The proof is refused at its 64th line, while parsing.

use tlog_tiles::Hash;

use crate::b64;
use crate::limits::{self, MAX_NOTE_BYTES};

/// Most consistency proof lines in an add-checkpoint body (C2SP tlog-witness).
pub const MAX_PROOF_LINES: usize = 63;

/// A parsed add-checkpoint request.
#[derive(Clone, Debug, PartialEq)]
pub struct AddCheckpoint {
    /// The size the log says the witness last cosigned.
    pub old: u64,
    /// Consistency proof from `old` to the checkpoint's size.
    pub proof: Vec<Hash>,
    /// The signed checkpoint, verbatim.
    pub note: Vec<u8>,
}

/// Parses an add-checkpoint body. The error says what is wrong, in words
/// the node puts after `malformed add-checkpoint request: `.
pub fn parse(body: &[u8]) -> Result<AddCheckpoint, String> {
    let text = std::str::from_utf8(body).map_err(|_| "body is not UTF-8")?;
    let (head, note) = text
        .split_once("\n\n")
        .ok_or("no empty line before the checkpoint")?;
    let mut lines = head.split('\n');
    let old = lines
        .next()
        .and_then(|l| l.strip_prefix("old "))
        .ok_or("first line must be `old <size>`")?;
    if old.is_empty()
        || (old.len() > 1 && old.starts_with('0'))
        || !old.bytes().all(|b| b.is_ascii_digit())
    {
        return Err("old size is not a decimal without leading zeroes".into());
    }
    let old = old.parse().map_err(|_| "old size out of range")?;
    let proof = limits::collect_at_most(
        lines.map(|l| {
            b64::decode_array::<32>(l)
                .map(Hash)
                .ok_or_else(|| "a consistency proof line is not a base64 SHA-256 hash".to_owned())
        }),
        MAX_PROOF_LINES,
        || format!("more than {MAX_PROOF_LINES} proof lines"),
    )?;
    if note.len() > MAX_NOTE_BYTES {
        return Err(format!(
            "the checkpoint is {} bytes; a signed note is at most {}",
            note.len(),
            limits::describe_bytes(MAX_NOTE_BYTES)
        ));
    }
    Ok(AddCheckpoint {
        old,
        proof,
        note: note.as_bytes().to_vec(),
    })
}

/// The body of an add-checkpoint request.
pub fn body(old: u64, proof: &[Hash], note: &[u8]) -> Vec<u8> {
    let mut b = format!("old {old}\n").into_bytes();
    for h in proof {
        b.extend_from_slice(b64::encode(h.0).as_bytes());
        b.push(b'\n');
    }
    b.push(b'\n');
    b.extend_from_slice(note);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let proof = vec![Hash([7; 32]), Hash([9; 32])];
        let b = body(3, &proof, "origin\n5\nroot\n\n\u{2014} sig\n".as_bytes());
        let r = parse(&b).unwrap();
        assert_eq!((r.old, r.proof), (3, proof));
        assert_eq!(r.note, "origin\n5\nroot\n\n\u{2014} sig\n".as_bytes());
    }

    #[test]
    fn malformed_bodies_say_why() {
        let cases: &[(&[u8], &str)] = &[
            (b"\xff\n\nx", "not UTF-8"),
            (b"old 1\nx", "no empty line"),
            (b"new 1\n\nx", "first line"),
            (b"old 01\n\nx", "leading zeroes"),
            (b"old -1\n\nx", "leading zeroes"),
            (b"old 99999999999999999999\n\nx", "out of range"),
            (b"old 1\nnot a hash\n\nx", "not a base64 SHA-256 hash"),
        ];
        for (b, why) in cases {
            let e = parse(b).unwrap_err();
            assert!(e.contains(why), "{e}");
        }
    }

    /// A proof of a hundred thousand lines is refused at its 64th, before
    /// the rest is read.
    #[test]
    fn long_proofs_are_refused_while_parsing() {
        let line = b64::encode([1u8; 32]);
        let ok = body(1, &vec![Hash([1; 32]); MAX_PROOF_LINES], b"n\n\n");
        assert_eq!(parse(&ok).unwrap().proof.len(), MAX_PROOF_LINES);
        let mut b = b"old 1\n".to_vec();
        for _ in 0..100_000 {
            b.extend_from_slice(line.as_bytes());
            b.push(b'\n');
        }
        b.extend_from_slice(b"\nn\n\n");
        assert_eq!(parse(&b).unwrap_err(), "more than 63 proof lines");
    }
}
