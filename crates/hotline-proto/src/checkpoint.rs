//! Checkpoints and cosignatures, exactly per C2SP `tlog-checkpoint`,
//! `signed-note` and `tlog-cosignature` (`cosignature/v1`).
//!
//! A checkpoint is the note text
//!
//! ```text
//! <origin>\n<size>\n<base64 root hash>\n
//! ```
//!
//! signed by the log key (type 0x01). A witness adds a cosignature line whose
//! signature is `key id ‖ u64 timestamp ‖ Ed25519 signature` over
//! `"cosignature/v1\ntime <timestamp>\n" ‖ checkpoint text`. The cosignature
//! timestamps are what time claims rest on: they are the witness's clock, not
//! the log's.

use signed_note::{Note, Signer, Verifier, VerifierList};
use tlog_tiles::{Checkpoint, Hash};

use crate::keys::{ALG_COSIGNATURE_V1, ALG_ED25519, NoteKey, NoteVerifier};

/// Why a checkpoint was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The bytes are not a signed note holding a checkpoint.
    #[error("malformed checkpoint: {0}")]
    Malformed(String),
    /// The checkpoint's origin is not the pinned log's.
    #[error("checkpoint is for log {found:?}, not the pinned log {expected:?}")]
    WrongOrigin {
        /// The pinned origin.
        expected: String,
        /// The origin found.
        found: String,
    },
    /// No valid signature from the pinned log key.
    #[error("checkpoint of {origin} carries no valid signature from its pinned log key")]
    Unsigned {
        /// The log.
        origin: String,
    },
    /// A signature from a known key does not verify.
    #[error("a signature by {name} on the checkpoint does not verify")]
    BadSignature {
        /// The signer whose signature failed.
        name: String,
    },
}

/// A cosignature found valid on a checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cosignature {
    /// The cosigner's name.
    pub name: String,
    /// The witness's clock when it cosigned (POSIX seconds).
    pub time: u64,
}

/// A checkpoint whose log signature (and any known cosignatures) verified.
#[derive(Clone, Debug)]
pub struct VerifiedCheckpoint {
    /// The log origin.
    pub origin: String,
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: Hash,
    /// The note text (what was signed).
    pub text: Vec<u8>,
    /// Valid cosignatures from the cosigners that were supplied.
    pub cosignatures: Vec<Cosignature>,
    /// The root of the log's index (the `hotline-index` extension line), if
    /// the checkpoint carries one.
    pub index: Option<Hash>,
}

/// The checkpoint note text for a tree.
pub fn body(origin: &str, size: u64, root: Hash) -> Result<Vec<u8>, CheckpointError> {
    note_text(origin, size, root, "")
}

/// The note text of a checkpoint with its extension lines `extensions`.
fn note_text(
    origin: &str,
    size: u64,
    root: Hash,
    extensions: &str,
) -> Result<Vec<u8>, CheckpointError> {
    Checkpoint::new(origin, size, root, extensions)
        .map(|c| c.to_bytes())
        .map_err(|e| CheckpointError::Malformed(e.to_string()))
}

/// The checkpoint note text for a tree and the root of its index: the
/// index is the note's one extension line, `hotline-index <base64 root>`,
/// so that every cosignature (which covers the whole text) covers it too.
pub fn body_indexed(
    origin: &str,
    size: u64,
    root: Hash,
    index: Hash,
) -> Result<Vec<u8>, CheckpointError> {
    let line = format!("{} {}\n", crate::index::LINE, crate::b64::encode(index.0));
    note_text(origin, size, root, &line)
}

/// Signs a checkpoint that commits to the log's index.
pub fn sign_indexed(
    key: &NoteKey,
    size: u64,
    root: Hash,
    index: Hash,
) -> Result<Vec<u8>, CheckpointError> {
    sign_text(key, &body_indexed(key.name(), size, root, index)?)
}

/// Signs a note text with the log key.
pub fn sign_text(key: &NoteKey, text: &[u8]) -> Result<Vec<u8>, CheckpointError> {
    let mut note = Note::new(text, &[]).map_err(|e| CheckpointError::Malformed(e.to_string()))?;
    note.add_sigs(&[&LogSigner(key)])
        .map_err(|e| CheckpointError::Malformed(e.to_string()))?;
    Ok(note.to_bytes())
}

/// The index root of a checkpoint's extension lines: `None` without any;
/// an error for any line but one `hotline-index <base64 SHA-256>`.
pub fn index_line(extension: &str) -> Result<Option<Hash>, CheckpointError> {
    if extension.is_empty() {
        return Ok(None);
    }
    let mut lines = extension.lines();
    let (Some(line), None) = (lines.next(), lines.next()) else {
        return Err(CheckpointError::Malformed(
            "a hotline checkpoint has at most one extension line, `hotline-index <root>`".into(),
        ));
    };
    line.strip_prefix(crate::index::LINE)
        .and_then(|l| l.strip_prefix(' '))
        .and_then(crate::b64::decode_array::<32>)
        .map(|h| Some(Hash(h)))
        .ok_or_else(|| {
            CheckpointError::Malformed(format!(
                "the extension line {line:?} is not `{} <base64 SHA-256 root>`",
                crate::index::LINE
            ))
        })
}

/// The index root a signed checkpoint carries, without checking signatures.
pub fn peek_index(note: &[u8]) -> Result<Option<Hash>, CheckpointError> {
    let (text, _) = split(note)?;
    let cp = Checkpoint::from_bytes(text).map_err(|e| CheckpointError::Malformed(e.to_string()))?;
    index_line(cp.extension())
}

/// Signs a checkpoint with the log key; returns the whole signed note.
pub fn sign(key: &NoteKey, size: u64, root: Hash) -> Result<Vec<u8>, CheckpointError> {
    sign_text(key, &body(key.name(), size, root)?)
}

/// Produces a `cosignature/v1` signature line (`— name base64(…)\n`) for the
/// checkpoint text, as a witness returns it (C2SP tlog-witness).
pub fn cosign_line(cosigner: &NoteKey, text: &[u8], time: u64) -> Result<String, CheckpointError> {
    let note = Note::new(text, &[]).map_err(|e| CheckpointError::Malformed(e.to_string()))?;
    let mut note2 = note;
    note2
        .add_sigs(&[&TimedCosigner {
            key: cosigner,
            time,
        }])
        .map_err(|e| CheckpointError::Malformed(e.to_string()))?;
    let bytes = note2.to_bytes();
    let line = &bytes[text.len() + 1..];
    String::from_utf8(line.to_vec()).map_err(|e| CheckpointError::Malformed(e.to_string()))
}

/// Appends signature lines to a signed note.
pub fn add_lines(note: &[u8], lines: &str) -> Vec<u8> {
    let mut out = note.to_vec();
    out.extend_from_slice(lines.as_bytes());
    out
}

/// Whether a note signature line is by the key named `name`.
pub fn signed_by(line: &str, name: &str) -> bool {
    line.strip_prefix("\u{2014} ")
        .and_then(|l| l.strip_prefix(name))
        .is_some_and(|l| l.starts_with(' '))
}

/// The lines of a witness's reply that are signatures by `key` itself (its
/// name and its key id), each ending in a newline. A witness answers with
/// signature lines of its own; anything else it sends (a line under another
/// name, another key of the same name, junk) is dropped here, so that it can
/// never land in the stored checkpoint note, where a reader who pins that
/// other name would find a signature that fails and refuse the bundle.
pub fn lines_of(reply: &str, key: &NoteVerifier) -> String {
    let id = key.key_id().to_be_bytes();
    let mut out = String::new();
    for l in reply.lines() {
        let Some(rest) = l
            .strip_prefix("\u{2014} ")
            .and_then(|r| r.strip_prefix(key.name()))
            .and_then(|r| r.strip_prefix(' '))
        else {
            continue;
        };
        let ours = crate::b64::decode(rest).is_some_and(|raw| raw.len() > 4 && raw[..4] == id);
        if ours {
            out.push_str(l);
            out.push('\n');
        }
    }
    out
}

/// The note with only the signature lines `keep` accepts, followed by
/// `extra` (signature lines, each ending in a newline).
pub fn filter_lines(
    note: &[u8],
    keep: impl Fn(&str) -> bool,
    extra: &str,
) -> Result<Vec<u8>, CheckpointError> {
    let (text, sigs) = split(note)?;
    let mut out = text.to_vec();
    out.push(b'\n');
    for l in String::from_utf8_lossy(sigs).lines().filter(|l| keep(l)) {
        out.extend_from_slice(l.as_bytes());
        out.push(b'\n');
    }
    out.extend_from_slice(extra.as_bytes());
    Ok(out)
}

/// Splits a signed note into its text (with final newline) and signature block.
pub fn split(note: &[u8]) -> Result<(&[u8], &[u8]), CheckpointError> {
    let at = note
        .windows(2)
        .position(|w| w == b"\n\n")
        .ok_or_else(|| CheckpointError::Malformed("no blank line before signatures".into()))?;
    Ok((&note[..=at], &note[at + 2..]))
}

/// Verifies a signed checkpoint against the pinned log key, collecting valid
/// cosignatures from `cosigners`. A signature from a supplied key that does not
/// verify is an error; signatures from unknown keys are ignored.
pub fn verify(
    note: &[u8],
    log: &NoteVerifier,
    cosigners: &[NoteVerifier],
) -> Result<VerifiedCheckpoint, CheckpointError> {
    let parsed = Note::from_bytes(note).map_err(|e| CheckpointError::Malformed(e.to_string()))?;
    let cp = Checkpoint::from_bytes(parsed.text())
        .map_err(|e| CheckpointError::Malformed(e.to_string()))?;
    let index = index_line(cp.extension())?;
    if cp.origin() != log.name() {
        return Err(CheckpointError::WrongOrigin {
            expected: log.name().into(),
            found: cp.origin().into(),
        });
    }
    let mut list: Vec<Box<dyn Verifier>> = vec![Box::new(PinnedKey(log.clone()))];
    list.extend(
        cosigners
            .iter()
            .filter(|c| c.alg() == ALG_COSIGNATURE_V1)
            .map(|c| Box::new(PinnedKey(c.clone())) as Box<dyn Verifier>),
    );
    let (verified, _) = parsed
        .verify(&VerifierList::new(list))
        .map_err(|e| match e {
            signed_note::NoteError::InvalidSignature { name, .. } => {
                CheckpointError::BadSignature { name }
            }
            signed_note::NoteError::UnverifiedNote => CheckpointError::Unsigned {
                origin: cp.origin().into(),
            },
            other => CheckpointError::Malformed(other.to_string()),
        })?;
    if !verified
        .iter()
        .any(|s| s.name() == log.name() && s.id() == log.key_id())
    {
        return Err(CheckpointError::Unsigned {
            origin: cp.origin().into(),
        });
    }
    let cosignatures = verified
        .iter()
        .filter(|s| !(s.name() == log.name() && s.id() == log.key_id()))
        .filter_map(|s| {
            let ts: [u8; 8] = s.signature().get(..8)?.try_into().ok()?;
            Some(Cosignature {
                name: s.name().to_owned(),
                time: u64::from_be_bytes(ts),
            })
        })
        .collect();
    Ok(VerifiedCheckpoint {
        origin: cp.origin().to_owned(),
        size: cp.size(),
        root: *cp.hash(),
        text: parsed.text().to_vec(),
        cosignatures,
        index,
    })
}

/// Parses a checkpoint's text without checking signatures (for routing only).
pub fn peek(note: &[u8]) -> Result<(String, u64, Hash), CheckpointError> {
    let (text, _) = split(note)?;
    let cp = Checkpoint::from_bytes(text).map_err(|e| CheckpointError::Malformed(e.to_string()))?;
    Ok((cp.origin().to_owned(), cp.size(), *cp.hash()))
}

/// The message a `cosignature/v1` signature covers.
fn cosigned_message(time: u64, text: &[u8]) -> Vec<u8> {
    let mut m = format!("cosignature/v1\ntime {time}\n").into_bytes();
    m.extend_from_slice(text);
    m
}

struct LogSigner<'a>(&'a NoteKey);

impl Signer for LogSigner<'_> {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn key_id(&self) -> u32 {
        self.0.verifier().key_id()
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        Ok(self.0.sign_raw(msg).to_vec())
    }
}

struct TimedCosigner<'a> {
    key: &'a NoteKey,
    time: u64,
}

impl Signer for TimedCosigner<'_> {
    fn name(&self) -> &str {
        self.key.name()
    }
    fn key_id(&self) -> u32 {
        self.key.verifier().key_id()
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let mut out = self.time.to_be_bytes().to_vec();
        out.extend_from_slice(&self.key.sign_raw(&cosigned_message(self.time, msg)));
        Ok(out)
    }
}

struct PinnedKey(NoteVerifier);

impl Verifier for PinnedKey {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn key_id(&self) -> u32 {
        self.0.key_id()
    }
    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        match self.0.alg() {
            ALG_ED25519 => self.0.verify_raw(msg, sig),
            ALG_COSIGNATURE_V1 => {
                let (Some(ts), Some(s)) = (sig.get(..8), sig.get(8..)) else {
                    return false;
                };
                let time = u64::from_be_bytes(ts.try_into().unwrap_or_default());
                time <= i64::MAX as u64 && self.0.verify_raw(&cosigned_message(time, msg), s)
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::os_rng;
    use crate::tree::MemoryTree;

    #[test]
    fn only_the_pinned_keys_own_lines_are_taken_from_a_reply() {
        let log = NoteKey::generate("hotline/us", ALG_ED25519, &mut os_rng()).unwrap();
        let wit = NoteKey::generate("w.example/1", ALG_COSIGNATURE_V1, &mut os_rng()).unwrap();
        let same_name =
            NoteKey::generate("w.example/1", ALG_COSIGNATURE_V1, &mut os_rng()).unwrap();
        let other =
            NoteKey::generate("hotline/ru/witness", ALG_COSIGNATURE_V1, &mut os_rng()).unwrap();
        let mut t = MemoryTree::new();
        t.push(b"a");
        let note = sign(&log, 1, t.root()).unwrap();
        let (text, _) = split(&note).unwrap();
        let good = cosign_line(&wit, text, 1_700_000_000).unwrap();
        let reply = format!(
            "{}{good}{}junk\n\u{2014} w.example/1 !!!\n",
            cosign_line(&other, text, 1_700_000_001).unwrap(),
            cosign_line(&same_name, text, 1_700_000_002).unwrap(),
        );
        assert_eq!(lines_of(&reply, &wit.verifier()), good);
        assert_eq!(lines_of("junk\n", &wit.verifier()), "");
    }

    #[test]
    fn sign_cosign_verify() {
        let log = NoteKey::generate("hotline/us", ALG_ED25519, &mut os_rng()).unwrap();
        let wit =
            NoteKey::generate("hotline/ru/witness", ALG_COSIGNATURE_V1, &mut os_rng()).unwrap();
        let mut t = MemoryTree::new();
        t.push(b"a");
        t.push(b"b");
        let note = sign(&log, 2, t.root()).unwrap();
        let text = String::from_utf8(note.clone()).unwrap();
        assert!(text.starts_with(&format!(
            "hotline/us\n2\n{}\n\n\u{2014} hotline/us ",
            crate::b64::encode(t.root().0)
        )));
        let v = verify(&note, &log.verifier(), &[]).unwrap();
        assert_eq!((v.size, v.root), (2, t.root()));
        assert!(v.cosignatures.is_empty());

        let (text, _) = split(&note).unwrap();
        let line = cosign_line(&wit, text, 1_700_000_000).unwrap();
        let both = add_lines(&note, &line);
        let v = verify(&both, &log.verifier(), &[wit.verifier()]).unwrap();
        assert_eq!(
            v.cosignatures,
            vec![Cosignature {
                name: "hotline/ru/witness".into(),
                time: 1_700_000_000
            }]
        );
        // Unknown cosigners are ignored, not trusted.
        assert!(
            verify(&both, &log.verifier(), &[])
                .unwrap()
                .cosignatures
                .is_empty()
        );

        // A cosignature whose timestamp was changed fails.
        let mut raw = crate::b64::decode(line.trim_end().rsplit(' ').next().unwrap()).unwrap();
        raw[11] ^= 1;
        let forged = format!("\u{2014} hotline/ru/witness {}\n", crate::b64::encode(raw));
        let err = verify(
            &add_lines(&note, &forged),
            &log.verifier(),
            &[wit.verifier()],
        )
        .unwrap_err();
        assert!(matches!(err, CheckpointError::BadSignature { .. }), "{err}");
    }

    #[test]
    fn the_index_line_is_signed_and_read_back() {
        let log = NoteKey::generate("hotline/us", ALG_ED25519, &mut os_rng()).unwrap();
        let ix = Hash([7; 32]);
        let note = sign_indexed(&log, 3, Hash([1; 32]), ix).unwrap();
        let text = String::from_utf8(note.clone()).unwrap();
        assert!(
            text.contains(&format!("\nhotline-index {}\n\n", crate::b64::encode(ix.0))),
            "{text}"
        );
        let v = verify(&note, &log.verifier(), &[]).unwrap();
        assert_eq!((v.size, v.index), (3, Some(ix)));
        assert_eq!(peek_index(&note).unwrap(), Some(ix));
        let plain = sign(&log, 3, Hash([1; 32])).unwrap();
        assert_eq!(verify(&plain, &log.verifier(), &[]).unwrap().index, None);
        // Any other extension line is refused, even when signed.
        for ext in [
            "other-ext 1\n",
            "hotline-index nothash\n",
            "hotline-index AAAA\nx\n",
        ] {
            let t = Checkpoint::new("hotline/us", 3, Hash([1; 32]), ext).unwrap();
            let n = sign_text(&log, &t.to_bytes()).unwrap();
            assert!(
                matches!(
                    verify(&n, &log.verifier(), &[]),
                    Err(CheckpointError::Malformed(_))
                ),
                "{ext}"
            );
        }
    }

    #[test]
    fn wrong_key_or_origin_is_refused() {
        let log = NoteKey::generate("hotline/us", ALG_ED25519, &mut os_rng()).unwrap();
        let other = NoteKey::generate("hotline/us", ALG_ED25519, &mut os_rng()).unwrap();
        let ru = NoteKey::generate("hotline/ru", ALG_ED25519, &mut os_rng()).unwrap();
        let note = sign(&log, 0, tlog_tiles::EMPTY_HASH).unwrap();
        assert!(matches!(
            verify(&note, &other.verifier(), &[]),
            Err(CheckpointError::Unsigned { .. })
        ));
        assert!(matches!(
            verify(&note, &ru.verifier(), &[]),
            Err(CheckpointError::WrongOrigin { .. })
        ));
    }
}
