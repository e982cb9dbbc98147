//! Proof bundles: self-contained files that `hotline verify` checks offline
//! with nothing but the pinned party keys.
//!
//! Every bundle is a JSON object whose `bundle` field names its type and
//! version; [`verify`] reads that field first and hands the bytes to the
//! bundle's own parser, which bounds every part as it reads it
//! ([`crate::limits`]) and refuses unknown fields. Proofs of inclusion
//! inside a bundle are C2SP `tlog-proof@v1` texts (<https://c2sp.org/tlog-proof>)
//! whose `extra` line carries the exact leaf bytes, so any tlog-proof reader
//! can check them against the log's checkpoint; hotline adds the meaning.
//!
//! The bundles themselves, what each claims and on whose signatures, are in
//! [`crate::claims`] and docs/claims.md. Superseded versions are refused
//! with the reason their sentence could be false ([`crate::claims::superseded`]).

use serde::Deserialize;
use tlog_tiles::Hash;

use crate::b64;
use crate::checkpoint::{self, CheckpointError, VerifiedCheckpoint};
use crate::claims::{
    self, ABSENCE_V2, ANSWERED_V2, DELIVERY_V2, EQUIVOCATION_V1, EQUIVOCATION_V2, INCLUSION_V3,
    INDEX_MISMATCH_V1, OPENING_V2, STATEMENT_V2, STATS_V2, absence::ProvedAbsence,
    answered::ProvedAnswered, delivery::ProvedDelivery, mismatch::ProvedIndexMismatch,
    opening::ProvedOpening, statement::ProvedStatement, stats::ProvedStats,
};
use crate::entry::{EntryError, SignedEntry};
use crate::index::RunError;
use crate::keys::{ALG_COSIGNATURE_V1, ALG_ED25519, NoteVerifier};
use crate::limits::{self, MAX_INCLUSION_HASHES, MAX_LEAF_BYTES, MAX_NOTE_BYTES};
use crate::tree::{self, TreeError};

pub use crate::claims::equivocation::{ProvedFork, RootClaim, equivocation_bundle};
const TLOG_PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";
pub use crate::limits::MAX_BUNDLE_BYTES;

/// Why a bundle did not verify. Each variant says which part failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// Not a bundle, or a field is missing or mistyped.
    #[error("malformed bundle: {0}")]
    Malformed(String),
    /// A bundle type this build does not know.
    #[error(
        "unknown bundle type {0:?} (this build verifies: {INCLUSION_V3}, {EQUIVOCATION_V2}, {EQUIVOCATION_V1}, {INDEX_MISMATCH_V1}, {DELIVERY_V2}, {ANSWERED_V2}, {ABSENCE_V2}, {STATS_V2}, {OPENING_V2}, {STATEMENT_V2})"
    )]
    UnknownType(String),
    /// A node's record of a checkpoint it refused, handed over as a bundle.
    #[error(
        "{0} is a node's record of a checkpoint whose index line it refused, not a bundle: the line is wrong because of every entry of the log up to that size, which the record does not carry. Anyone holding the log's entries (every witness of it) recomputes the index root and compares it with the record's `index`; a keyed run under that checkpoint that leaves an entry out is proved to anyone by a hotline/index-mismatch/v1 bundle"
    )]
    RefusalRecord(String),
    /// A tlog-proof inside the bundle is malformed.
    #[error("malformed tlog-proof in {part}: {why}")]
    TlogProof {
        /// Which part of the bundle.
        part: &'static str,
        /// What was wrong.
        why: String,
    },
    /// No pinned key for the log the bundle is about.
    #[error("no pinned log key for {origin}; pass its verifier key with --key")]
    UnknownLog {
        /// The log origin.
        origin: String,
    },
    /// The checkpoint failed.
    #[error("checkpoint in {part}: {source}")]
    Checkpoint {
        /// Which part of the bundle.
        part: &'static str,
        /// The failure.
        source: CheckpointError,
    },
    /// The Merkle proof failed.
    #[error("Merkle proof in {part}: {source}")]
    Proof {
        /// Which part of the bundle.
        part: &'static str,
        /// The failure.
        source: TreeError,
    },
    /// The leaf is not a valid entry.
    #[error("entry in {part}: {source}")]
    Entry {
        /// Which part of the bundle.
        part: &'static str,
        /// The failure.
        source: EntryError,
    },
    /// The entry and its key announcement do not fit together.
    #[error("signer key: {0}")]
    SignerKey(String),
    /// A bundle version this build no longer accepts, and why.
    #[error("{kind} is no longer accepted: {why}")]
    Superseded {
        /// The bundle type.
        kind: String,
        /// Why, and what to ask for instead.
        why: String,
    },
    /// A named part of a composite bundle failed; `source` says how.
    #[error("{part}: {source}")]
    In {
        /// Which part (`receipt`, `answers[1]`, `sender range`, …).
        part: String,
        /// The failure.
        source: Box<BundleError>,
    },
    /// Each part verifies, but together they do not prove the claim (a
    /// receipt for another entry, an answer by another office, …).
    #[error("the evidence does not fit together: {0}")]
    Mismatch(String),
    /// Nothing the claim may rest on shows the log's tree covers the window.
    #[error("the window is not covered: {0}")]
    NotBracketed(String),
    /// A keyed run does not prove what the index commits to.
    #[error("{part}: {source}")]
    Run {
        /// Which run.
        part: String,
        /// The failure.
        source: RunError,
    },
    /// A log's own statements about time disagree.
    #[error("the log's times disagree: {0}")]
    Time(String),
    /// A disclosed entry contradicts the claim.
    #[error("the claim is contradicted by entry {entry}: {why}")]
    Contradicted {
        /// The entry, `party:index`.
        entry: String,
        /// What it is.
        why: String,
    },
    /// An opening does not match the entry's commitment.
    #[error("opening: {0}")]
    Opening(String),
}

/// A parsed C2SP tlog-proof.
#[derive(Clone, Debug, PartialEq)]
pub struct TlogProof {
    /// Opaque extra data (hotline: the leaf bytes).
    pub extra: Option<Vec<u8>>,
    /// Leaf index.
    pub index: u64,
    /// Inclusion proof hashes, from the leaf's sibling up.
    pub proof: Vec<Hash>,
    /// The checkpoint, a signed note, verbatim.
    pub checkpoint: Vec<u8>,
}

impl TlogProof {
    /// Renders the tlog-proof text.
    pub fn to_text(&self) -> String {
        let mut s = format!("{TLOG_PROOF_HEADER}\n");
        if let Some(extra) = &self.extra {
            s += &format!("extra {}\n", b64::encode(extra));
        }
        s += &format!("index {}\n", self.index);
        for h in &self.proof {
            s += &b64::encode(h.0);
            s.push('\n');
        }
        s.push('\n');
        s += &String::from_utf8_lossy(&self.checkpoint);
        s
    }

    /// Parses tlog-proof text strictly, refusing a part past its limit
    /// (a leaf, [`MAX_INCLUSION_HASHES`] hashes, a signed note) before
    /// decoding or copying it.
    pub fn parse(text: &str, part: &'static str) -> Result<Self, BundleError> {
        let bad = |why: &str| BundleError::TlogProof {
            part,
            why: why.to_owned(),
        };
        let (head, checkpoint) = text
            .split_once("\n\n")
            .ok_or_else(|| bad("no blank line before the checkpoint"))?;
        let mut lines = head.split('\n');
        if lines.next() != Some(TLOG_PROOF_HEADER) {
            return Err(bad("first line is not c2sp.org/tlog-proof@v1"));
        }
        let mut line = lines.next().ok_or_else(|| bad("no index line"))?;
        let mut extra = None;
        if let Some(e) = line.strip_prefix("extra ") {
            if e.len() > limits::base64_len(MAX_LEAF_BYTES) {
                return Err(bad(&format!(
                    "extra is {} characters; it holds one leaf, at most {MAX_LEAF_BYTES} bytes ({} characters of base64)",
                    e.len(),
                    limits::base64_len(MAX_LEAF_BYTES)
                )));
            }
            extra = Some(b64::decode(e).ok_or_else(|| bad("extra is not base64"))?);
            line = lines.next().ok_or_else(|| bad("no index line"))?;
        }
        let idx = line
            .strip_prefix("index ")
            .ok_or_else(|| bad("no index line"))?;
        if idx.is_empty()
            || (idx.len() > 1 && idx.starts_with('0'))
            || !idx.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad("index is not a decimal without leading zeroes"));
        }
        let index = idx.parse().map_err(|_| bad("index out of range"))?;
        let proof = limits::collect_at_most(
            lines.map(|l| {
                b64::decode_array::<32>(l)
                    .map(Hash)
                    .ok_or_else(|| bad("proof line is not a base64 SHA-256 hash"))
            }),
            MAX_INCLUSION_HASHES,
            || {
                bad(&format!(
                    "more than {MAX_INCLUSION_HASHES} proof hashes; an inclusion proof in a tree of any 64-bit size has at most {MAX_INCLUSION_HASHES}"
                ))
            },
        )?;
        if checkpoint.len() > MAX_NOTE_BYTES {
            return Err(bad(&format!(
                "the checkpoint is {} bytes; a signed note is at most {}",
                checkpoint.len(),
                limits::describe_bytes(MAX_NOTE_BYTES)
            )));
        }
        Ok(Self {
            extra,
            index,
            proof,
            checkpoint: checkpoint.as_bytes().to_vec(),
        })
    }
}

/// The pinned keys a verifier trusts: log keys (type 0x01) and cosigner keys (0x04).
#[derive(Clone, Debug, Default)]
pub struct Keyring {
    logs: Vec<NoteVerifier>,
    cosigners: Vec<NoteVerifier>,
}

impl Keyring {
    /// Builds a keyring from verifier keys of either type.
    pub fn new(keys: impl IntoIterator<Item = NoteVerifier>) -> Self {
        let mut k = Self::default();
        for v in keys {
            match v.alg() {
                ALG_ED25519 => k.logs.push(v),
                ALG_COSIGNATURE_V1 => k.cosigners.push(v),
                _ => {}
            }
        }
        k
    }

    /// The pinned key of the log with this origin.
    pub fn log(&self, origin: &str) -> Option<&NoteVerifier> {
        self.logs.iter().find(|v| v.name() == origin)
    }

    /// The pinned cosigner keys.
    pub fn cosigners(&self) -> &[NoteVerifier] {
        &self.cosigners
    }

    /// Verifies a signed checkpoint against the pinned key of its log,
    /// collecting cosignatures from pinned cosigners.
    pub fn checkpoint(
        &self,
        note: &[u8],
        part: &'static str,
    ) -> Result<VerifiedCheckpoint, BundleError> {
        let (origin, _, _) =
            checkpoint::peek(note).map_err(|source| BundleError::Checkpoint { part, source })?;
        let log = self
            .log(&origin)
            .ok_or(BundleError::UnknownLog { origin })?;
        checkpoint::verify(note, log, &self.cosigners)
            .map_err(|source| BundleError::Checkpoint { part, source })
    }
}

/// The party a log origin belongs to: its last path segment (`hotline/us` → `us`).
pub fn origin_party(origin: &str) -> &str {
    origin.rsplit('/').next().unwrap_or(origin)
}

/// The party whose witness a cosigner key name denotes: hotline names a
/// party's cosigner key after its log (`hotline/ru/witness` → `ru`) and a
/// node pins no witness named otherwise, so the name is all that ties a
/// pinned cosigner key to a party. A name of another form is no party's.
pub fn witness_party(name: &str) -> Option<&str> {
    let origin = name.strip_suffix("/witness")?;
    Some(origin_party(origin)).filter(|p| !p.is_empty())
}

/// "ru's witness (hotline/ru/witness)", or, for a cosigner not named after
/// a log, "witness NAME (named after no party's log)".
pub fn describe_cosigner(name: &str) -> String {
    match witness_party(name) {
        Some(p) => format!("{p}'s witness ({name})"),
        None => format!("witness {name} (named after no party's log)"),
    }
}

/// Builds the tlog-proof of one leaf.
pub fn tlog_proof(leaf: &[u8], index: u64, proof: Vec<Hash>, checkpoint: Vec<u8>) -> TlogProof {
    TlogProof {
        extra: Some(leaf.to_vec()),
        index,
        proof,
        checkpoint,
    }
}

/// An entry proved to be in a log.
#[derive(Clone, Debug)]
pub struct ProvedEntry {
    /// The entry.
    pub entry: SignedEntry,
    /// Its index.
    pub index: u64,
    /// The checkpoint it is under.
    pub checkpoint: VerifiedCheckpoint,
    /// The index of the `key` entry that announced the signer's key, if an
    /// office signed (judged against the log's complete key history).
    pub key_index: Option<u64>,
}

/// What a bundle proved.
#[derive(Clone, Debug)]
pub enum Verified {
    /// An entry is in a log.
    Inclusion(Box<ProvedEntry>),
    /// A log signed two checkpoints that disagree.
    Equivocation(Box<ProvedFork>),
    /// A log signed an index its own tree contradicts.
    IndexMismatch(Box<ProvedIndexMismatch>),
    /// An entry is in the sender's log and the receiver receipted it.
    Delivery(Box<ProvedDelivery>),
    /// An inquiry was acknowledged and/or answered, within its deadlines or not.
    Answered(Box<ProvedAnswered>),
    /// No entry of a kind on a channel became visible in a log in a window.
    Absence(Box<ProvedAbsence>),
    /// A month of one channel, counted.
    Stats(Box<ProvedStats>),
    /// One entry's content.
    Opening(Box<ProvedOpening>),
    /// A statement's text, signed by one side or by both.
    Statement(Box<ProvedStatement>),
}

impl Verified {
    /// The proved claim in one plain sentence.
    pub fn sentence(&self) -> String {
        match self {
            Verified::Delivery(p) => p.sentence(),
            Verified::Answered(p) => p.sentence(),
            Verified::Absence(p) => p.sentence(),
            Verified::Stats(p) => p.sentence(),
            Verified::Opening(p) => p.sentence(),
            Verified::Statement(p) => p.sentence(),
            Verified::Equivocation(f) => f.sentence(),
            Verified::IndexMismatch(m) => m.sentence(),
            Verified::Inclusion(p) => claims::inclusion::sentence(p),
        }
    }
}

/// "checkpoint signed by X; cosigned by W at T" — what time and trust rest on.
pub fn describe_signatures(cp: &VerifiedCheckpoint) -> String {
    let mut s = format!("checkpoint signed by {}", cp.origin);
    if cp.cosignatures.is_empty() {
        s += "; no pinned witness cosigned it";
    } else {
        let list: Vec<String> = cp
            .cosignatures
            .iter()
            .map(|c| {
                let t = i64::try_from(c.time)
                    .ok()
                    .and_then(|t| jiff::Timestamp::from_second(t).ok())
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| c.time.to_string());
                format!("{} at {t}", describe_cosigner(&c.name))
            })
            .collect();
        s += &format!("; cosigned by {}", list.join(", "));
    }
    s
}

/// Checks one tlog-proof: checkpoint signature, leaf parse, Merkle inclusion.
pub fn check_tlog_proof(
    p: &TlogProof,
    keys: &Keyring,
    part: &'static str,
) -> Result<(SignedEntry, VerifiedCheckpoint), BundleError> {
    let cp = keys.checkpoint(&p.checkpoint, part)?;
    let leaf = p.extra.as_ref().ok_or_else(|| BundleError::TlogProof {
        part,
        why: "no extra line with the leaf".into(),
    })?;
    let entry =
        SignedEntry::from_leaf(leaf).map_err(|source| BundleError::Entry { part, source })?;
    tree::verify_inclusion(tree::leaf_hash(leaf), p.index, cp.size, &p.proof, cp.root)
        .map_err(|source| BundleError::Proof { part, source })?;
    if entry.header().log.as_str() != origin_party(&cp.origin) {
        return Err(BundleError::Entry {
            part,
            source: EntryError::Malformed(format!(
                "entry says log {} but sits in {}",
                entry.header().log,
                cp.origin
            )),
        });
    }
    Ok((entry, cp))
}

/// The `bundle` field of a bundle, which must be a JSON object, read
/// without keeping anything else: the other fields are skipped as they are
/// parsed, so no JSON tree is built before the bundle's own type, with its
/// limits, reads it.
struct TypeField {
    bundle: Option<String>,
}

impl<'de> Deserialize<'de> for TypeField {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = TypeField;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a bundle: a JSON object with a \"bundle\" type field")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<TypeField, A::Error> {
                let mut bundle = None;
                while let Some(k) = a.next_key::<std::borrow::Cow<'de, str>>()? {
                    if k == "bundle" {
                        bundle = a.next_value::<TypeTag>()?.0;
                    } else {
                        a.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(TypeField { bundle })
            }
        }
        d.deserialize_map(V)
    }
}

/// A `bundle` value: its text if it is a string, else nothing.
struct TypeTag(Option<String>);

impl<'de> Deserialize<'de> for TypeTag {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = TypeTag;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E>(self, s: &str) -> Result<TypeTag, E> {
                Ok(TypeTag(Some(s.to_owned())))
            }
            fn visit_bool<E>(self, _: bool) -> Result<TypeTag, E> {
                Ok(TypeTag(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<TypeTag, E> {
                Ok(TypeTag(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<TypeTag, E> {
                Ok(TypeTag(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<TypeTag, E> {
                Ok(TypeTag(None))
            }
            fn visit_unit<E>(self) -> Result<TypeTag, E> {
                Ok(TypeTag(None))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<TypeTag, A::Error> {
                while a.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(TypeTag(None))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<TypeTag, A::Error> {
                while a
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(TypeTag(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// Refuses a bundle of `len` bytes if it is over [`MAX_BUNDLE_BYTES`]; a
/// reader calls it with a file's length before reading the file.
pub fn check_size(len: u64) -> Result<(), BundleError> {
    if len > MAX_BUNDLE_BYTES as u64 {
        return Err(BundleError::Malformed(format!(
            "the bundle is {len} bytes; the limit is {}",
            limits::describe_bytes(MAX_BUNDLE_BYTES)
        )));
    }
    Ok(())
}

/// Parses a bundle's JSON straight into its type, whose fields bound
/// every list and string as they are read (see [`crate::limits`]).
pub(crate) fn from_slice<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, BundleError> {
    serde_json::from_slice(bytes).map_err(|e| BundleError::Malformed(e.to_string()))
}

/// Verifies any bundle this build knows. The bundle is refused past
/// [`MAX_BUNDLE_BYTES`], and each of its parts past the limit its format
/// allows ([`crate::limits`]), while it is parsed.
pub fn verify(bytes: &[u8], keys: &Keyring) -> Result<Verified, BundleError> {
    check_size(bytes.len() as u64)?;
    let kind = from_slice::<TypeField>(bytes)?
        .bundle
        .ok_or_else(|| BundleError::Malformed("no \"bundle\" type field".into()))?;
    if let Some(refused) = claims::superseded::refusal(&kind) {
        return Err(refused);
    }
    match kind.as_str() {
        "hotline/index-refused/v1" => Err(BundleError::RefusalRecord(kind)),
        EQUIVOCATION_V1 | EQUIVOCATION_V2 => {
            claims::equivocation::verify(bytes, keys).map(|p| Verified::Equivocation(Box::new(p)))
        }
        INDEX_MISMATCH_V1 => {
            claims::mismatch::verify(bytes, keys).map(|p| Verified::IndexMismatch(Box::new(p)))
        }
        INCLUSION_V3 => {
            claims::inclusion::verify(bytes, keys).map(|p| Verified::Inclusion(Box::new(p)))
        }
        DELIVERY_V2 => {
            claims::delivery::verify(bytes, keys).map(|p| Verified::Delivery(Box::new(p)))
        }
        ANSWERED_V2 => {
            claims::answered::verify(bytes, keys).map(|p| Verified::Answered(Box::new(p)))
        }
        ABSENCE_V2 => claims::absence::verify(bytes, keys).map(|p| Verified::Absence(Box::new(p))),
        STATS_V2 => claims::stats::verify(bytes, keys).map(|p| Verified::Stats(Box::new(p))),
        OPENING_V2 => claims::opening::verify(bytes, keys).map(|p| Verified::Opening(Box::new(p))),
        STATEMENT_V2 => {
            claims::statement::verify(bytes, keys).map(|p| Verified::Statement(Box::new(p)))
        }
        _ => Err(BundleError::UnknownType(kind)),
    }
}
