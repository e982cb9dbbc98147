//! Proof bundles: self-contained files that `hotline verify` checks offline
//! with nothing but the pinned party keys.
//!
//! Every bundle is a JSON object whose `bundle` field names its type and
//! version. Proofs of inclusion inside a bundle are C2SP `tlog-proof@v1`
//! texts (<https://c2sp.org/tlog-proof>) whose `extra` line carries the exact
//! leaf bytes, so any tlog-proof reader can check them against the log's
//! checkpoint; hotline adds the meaning.
//!
//! `hotline/inclusion/v2`:
//!
//! ```text
//! {
//!   "bundle": "hotline/inclusion/v2",
//!   "entry": "<tlog-proof of the entry>",
//!   "key_history": ["<tlog-proof of the last key entry before the entry>",
//!                   "<tlog-proof of the key entry its prev names>", …,
//!                   "<tlog-proof of the key entry that announced the signing key>"]
//! }
//! ```
//!
//! A party's `key` entries (from the party, to no office) are linked by
//! `prev`: each names the index of the party's previous `key` entry. The
//! key history follows those links from the last `key` entry before the
//! entry back to the one that announced (or rotated in) the key that signed
//! it, so a verifier sees every rotation and revocation in between and
//! refuses an entry whose key the log had rotated away or revoked before it
//! ([`crate::keylog`]). `key_history` is absent when the party's log key
//! signed the entry itself (the `key` and `agreement` entries). Every proof
//! must be under a checkpoint of the same log, signed by its pinned key;
//! cosignatures from pinned cosigners are reported with their times.
//!
//! What the history cannot show: that no `key` entry lies between its first
//! element and the entry. A prover may start the chain at an older `key`
//! entry and leave a later revocation out; the sentence therefore names the
//! latest key entry it shows, and says on what the rest rests: on a pinned
//! witness of another party, if one cosigned the tree (a hotline witness's
//! mirror refuses entries signed with a rotated or revoked key, and it
//! cosigns only what its mirror holds), or else on the log's own bundle
//! alone. Proving completeness needs the log's index of entries by kind,
//! which comes with the claims of the next version (claims v2). `hotline/inclusion/v1`, which carried only the announcing key entry,
//! is refused: its "signed by the office" could be false of an entry written
//! after a revocation.

use serde::{Deserialize, Serialize};
use tlog_tiles::Hash;

use crate::b64;
use crate::checkpoint::{self, CheckpointError, VerifiedCheckpoint};
use crate::claims::{
    self, ABSENCE_V1, ANSWERED_V1, DELIVERY_V1, OPENING_V1, STATEMENT_V1, STATS_V1,
    absence::ProvedAbsence, answered::ProvedAnswered, delivery::ProvedDelivery,
    opening::ProvedOpening, statement::ProvedStatement, stats::ProvedStats,
};
use crate::entry::{EntryError, KeyAction, Kind, SignedEntry};
use crate::keys::{ALG_COSIGNATURE_V1, ALG_ED25519, NoteVerifier};
use crate::limits::{self, MAX_INCLUSION_HASHES, MAX_LEAF_BYTES, MAX_NOTE_BYTES};
use crate::name::Office;
use crate::tree::{self, TreeError};

/// The type tag of the first inclusion bundle, now refused (see the module docs).
pub const INCLUSION_V1: &str = "hotline/inclusion/v1";
/// The type tag of an inclusion bundle.
pub const INCLUSION_V2: &str = "hotline/inclusion/v2";
/// The type tag of an equivocation bundle.
pub const EQUIVOCATION_V1: &str = "hotline/equivocation/v1";
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
        "unknown bundle type {0:?} (this build verifies: {INCLUSION_V2}, {EQUIVOCATION_V1}, {DELIVERY_V1}, {ANSWERED_V1}, {ABSENCE_V1}, {STATS_V1}, {OPENING_V1}, {STATEMENT_V1})"
    )]
    UnknownType(String),
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
    /// No pinned cosignature shows the disclosed range covers the window.
    #[error("the checkpoints do not bracket the window: {0}")]
    NotBracketed(String),
    /// A disclosed range of a log is not exactly the log between its checkpoints.
    #[error("{part}: {why}")]
    Range {
        /// Which range.
        part: String,
        /// What was wrong.
        why: String,
    },
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

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct InclusionJson {
    bundle: String,
    #[serde(deserialize_with = "limits::tlog_proof_text")]
    entry: String,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "limits::tlog_proof_texts"
    )]
    key_history: Vec<String>,
}

/// Writes a `hotline/inclusion/v2` bundle: the entry and, newest first, the
/// chain of its log's `key` entries (see the module docs).
pub fn inclusion_bundle(entry: &TlogProof, key_history: &[TlogProof]) -> String {
    let j = InclusionJson {
        bundle: INCLUSION_V2.into(),
        entry: entry.to_text(),
        key_history: key_history.iter().map(TlogProof::to_text).collect(),
    };
    serde_json::to_string_pretty(&j).unwrap_or_default() + "\n"
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
    /// The index of the `key` entry that announced the signer's key, if an office signed.
    pub key_index: Option<u64>,
    /// The latest `key` entry of the key history shown (inclusion bundles
    /// only): up to there the signing key was neither rotated nor revoked.
    pub key_through: Option<u64>,
}

/// What a bundle proved.
#[derive(Clone, Debug)]
pub enum Verified {
    /// An entry is in a log.
    Inclusion(Box<ProvedEntry>),
    /// A log signed two checkpoints that disagree.
    Equivocation(Box<ProvedFork>),
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

/// A log proved to have forked.
#[derive(Clone, Debug)]
pub struct ProvedFork {
    /// The log.
    pub origin: String,
    /// The size at which the two views disagree.
    pub size: u64,
    /// The two checkpoints.
    pub a: VerifiedCheckpoint,
    /// The second.
    pub b: VerifiedCheckpoint,
}

/// "Checkpoint `checkpoint` commits to `root` as the tree of its first `size`
/// entries", shown by an RFC 9162 consistency proof from `size` to the
/// checkpoint's size (empty when they are equal).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootClaim {
    /// A signed checkpoint, verbatim.
    pub checkpoint: String,
    /// The prefix size the claim is about.
    pub size: u64,
    /// The prefix's root hash, base64.
    pub root: String,
    /// Consistency proof from `size` to the checkpoint's size, base64 hashes.
    #[serde(deserialize_with = "limits::consistency")]
    pub consistency: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EquivocationJson {
    bundle: String,
    origin: String,
    a: RootClaim,
    b: RootClaim,
}

/// Writes an equivocation bundle: two claims about the same prefix of one
/// log, from two checkpoints that log signed, with different roots.
///
/// `hotline/equivocation/v1`:
///
/// ```text
/// {"bundle": "hotline/equivocation/v1", "origin": "hotline/us",
///  "a": {"checkpoint": "…", "size": 5, "root": "…", "consistency": ["…"]},
///  "b": {"checkpoint": "…", "size": 5, "root": "…", "consistency": []}}
/// ```
pub fn equivocation_bundle(origin: &str, a: RootClaim, b: RootClaim) -> String {
    let j = EquivocationJson {
        bundle: EQUIVOCATION_V1.into(),
        origin: origin.into(),
        a,
        b,
    };
    serde_json::to_string_pretty(&j).unwrap_or_default() + "\n"
}

fn check_claim(
    c: &RootClaim,
    keys: &Keyring,
    part: &'static str,
) -> Result<(VerifiedCheckpoint, Hash), BundleError> {
    let cp = keys.checkpoint(c.checkpoint.as_bytes(), part)?;
    let bad = |why: &str| BundleError::Malformed(format!("{part}: {why}"));
    let root = b64::decode_array::<32>(&c.root)
        .map(Hash)
        .ok_or_else(|| bad("root is not a base64 SHA-256 hash"))?;
    let proof = c
        .consistency
        .iter()
        .map(|h| {
            b64::decode_array::<32>(h)
                .map(Hash)
                .ok_or_else(|| bad("consistency line is not a base64 hash"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if c.size == 0 || c.size > cp.size {
        return Err(bad("size must be between 1 and the checkpoint's size"));
    }
    tree::verify_consistency(c.size, cp.size, root, cp.root, &proof)
        .map_err(|source| BundleError::Proof { part, source })?;
    Ok((cp, root))
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
            Verified::Equivocation(f) => format!(
                "Log {} equivocated: it signed two checkpoints (sizes {} and {}) that disagree about its first {} entries, so it showed two different histories. A: {}. B: {}.",
                f.origin,
                f.a.size,
                f.b.size,
                f.size,
                describe_signatures(&f.a),
                describe_signatures(&f.b),
            ),
            Verified::Inclusion(p) => {
                let h = p.entry.header();
                let to =
                    h.to.as_ref()
                        .map(|t| format!(" to {t}"))
                        .unwrap_or_default();
                let signed = match (p.key_index, p.key_through) {
                    (Some(k), Some(t)) if t != k => format!(
                        "signed by {} with the key the log announced in entry {k} and had not rotated or revoked by key entry {t}, the latest this bundle shows",
                        h.from
                    ),
                    (Some(k), Some(_)) => format!(
                        "signed by {} with the key the log announced in entry {k}, the latest key entry this bundle shows",
                        h.from
                    ),
                    (Some(k), None) => format!(
                        "signed by {} with the key the log announced in entry {k}",
                        h.from
                    ),
                    (None, _) => format!("signed by party {} with its log key", h.from),
                };
                let signed = if p.key_index.is_some() {
                    format!("{signed}; {}", key_currency(&p.checkpoint))
                } else {
                    signed
                };
                format!(
                    "Entry {} of log {} — {} {} from {}{to}, dated {} by its writer — is in that log's tree of size {} ({}), {signed}.",
                    p.index,
                    p.checkpoint.origin,
                    if matches!(
                        h.kind.as_str().as_bytes()[0],
                        b'a' | b'e' | b'i' | b'o' | b'u'
                    ) {
                        "an"
                    } else {
                        "a"
                    },
                    h.kind,
                    h.from,
                    h.time,
                    p.checkpoint.size,
                    describe_signatures(&p.checkpoint),
                )
            }
        }
    }
}

/// On what the claim that no `key` entry between the signing key's
/// announcement and the entry rotated or revoked it rests. The key history
/// cannot show that itself (a prover may start it before a revocation; see
/// the module docs), and the log's own party saying so proves nothing in its
/// favour. A pinned hotline witness of another party that cosigned the tree
/// does show it: such a witness cosigns only the size its mirror holds, and
/// its mirror refuses any entry signed with a key its log had rotated away
/// or revoked. A cosigner named after no party's log is not counted: a
/// plain C2SP witness checks consistency only.
fn key_currency(cp: &VerifiedCheckpoint) -> String {
    let own = origin_party(&cp.origin);
    let others: Vec<String> = cp
        .cosignatures
        .iter()
        .filter(|c| witness_party(&c.name).is_some_and(|p| p != own))
        .map(|c| describe_cosigner(&c.name))
        .collect();
    if others.is_empty() {
        "that no later key entry before this entry rotated or revoked that key rests on the log's own bundle alone (no other party's witness cosigned this tree)".into()
    } else {
        format!(
            "that no later key entry before this entry rotated or revoked that key rests on {}, which cosigned this tree: a hotline witness cosigns only a log its mirror verified entry by entry, key entries included",
            others.join(" and ")
        )
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

/// Verifies the signature of a proved entry: against the party's log key
/// (for `key` entries) or against the office key announced in `signer_key`.
///
/// This is the check of the version-1 claim bundles, which carry one key
/// entry and no key history: it cannot see a later rotation or revocation
/// (claims v2 will carry the history; [`check_key_history`] is the check).
pub fn check_signer(
    entry: &SignedEntry,
    index: u64,
    cp: &VerifiedCheckpoint,
    signer_key: Option<&TlogProof>,
    keys: &Keyring,
) -> Result<Option<u64>, BundleError> {
    let h = entry.header();
    let Signer::Office(log_key) = signer_of(entry, cp, keys)? else {
        return Ok(None);
    };
    let kp = signer_key.ok_or_else(|| {
        BundleError::SignerKey(format!(
            "entry is signed by {} but the bundle has no signer_key proof",
            h.from
        ))
    })?;
    let (key_entry, key_cp) = check_tlog_proof(kp, keys, "signer_key")?;
    if key_cp.origin != cp.origin {
        return Err(BundleError::SignerKey(
            "key entry is from another log".into(),
        ));
    }
    let kh = key_entry.header();
    let ann = kh
        .key
        .as_ref()
        .filter(|_| kh.kind == Kind::Key)
        .ok_or_else(|| BundleError::SignerKey("signer_key is not a key entry".into()))?;
    if kh.from != kh.log.as_str() {
        return Err(BundleError::SignerKey(
            "key entry is not signed by the party".into(),
        ));
    }
    key_entry
        .verify(log_key.public_key())
        .map_err(|source| BundleError::Entry {
            part: "signer_key",
            source,
        })?;
    if ann.keys.office.as_str() != h.from {
        return Err(BundleError::SignerKey(format!(
            "key entry announces {}, not {}",
            ann.keys.office, h.from
        )));
    }
    if ann.action == KeyAction::Revoke {
        return Err(BundleError::SignerKey("key entry revokes the key".into()));
    }
    if kp.index >= index {
        return Err(BundleError::SignerKey(format!(
            "key entry {} does not precede entry {index}",
            kp.index
        )));
    }
    let vk = ann
        .keys
        .verifying_key()
        .map_err(|e| BundleError::SignerKey(e.to_string()))?;
    entry.verify(&vk).map_err(|source| BundleError::Entry {
        part: "entry",
        source,
    })?;
    Ok(Some(kp.index))
}

/// Who signed a proved entry: its party (with the log key, checked here) or
/// an office of that party (whose key the caller checks against the log's
/// key entries, themselves signed by the returned log key).
enum Signer<'k> {
    Party,
    Office(&'k NoteVerifier),
}

fn signer_of<'k>(
    entry: &SignedEntry,
    cp: &VerifiedCheckpoint,
    keys: &'k Keyring,
) -> Result<Signer<'k>, BundleError> {
    let h = entry.header();
    let log_key = keys
        .log(&cp.origin)
        .ok_or_else(|| BundleError::UnknownLog {
            origin: cp.origin.clone(),
        })?;
    if h.from == h.log.as_str() {
        entry
            .verify(log_key.public_key())
            .map_err(|source| BundleError::Entry {
                part: "entry",
                source,
            })?;
        return Ok(Signer::Party);
    }
    // A party's log holds only its own entries: an entry "from" another
    // party's office, under a key the log itself announced, would let one
    // party put words in the other's mouth.
    if !Office::new(&h.from).is_ok_and(|o| o.party() == h.log) {
        return Err(BundleError::SignerKey(format!(
            "entry from {} cannot be in the log of {}: a log holds only its own party's and offices' entries",
            h.from, h.log
        )));
    }
    Ok(Signer::Office(log_key))
}

/// Verifies the signature of a proved entry against its log's key history:
/// the party's log key (for the party's own entries, which need no history),
/// or the office key that `history` — the log's `key` entries, newest first,
/// linked by `prev`, from the last one before the entry back to the one that
/// announced the signing key — shows was the office's at the entry's index.
/// Returns the announcing and the latest `key` entry shown.
pub fn check_key_history(
    entry: &SignedEntry,
    index: u64,
    cp: &VerifiedCheckpoint,
    history: &[TlogProof],
    keys: &Keyring,
) -> Result<Option<(u64, u64)>, BundleError> {
    let h = entry.header();
    let Signer::Office(log_key) = signer_of(entry, cp, keys)? else {
        if !history.is_empty() {
            return Err(BundleError::SignerKey(format!(
                "entry is signed by party {} with its log key and needs no key history",
                h.from
            )));
        }
        return Ok(None);
    };
    if history.is_empty() {
        return Err(BundleError::SignerKey(format!(
            "entry is signed by {} but the bundle has no key history (the log's key entries from the last one before it back to the one that announced the signing key)",
            h.from
        )));
    }
    let mut chain: Vec<(u64, SignedEntry)> = Vec::with_capacity(history.len());
    for p in history {
        let (k, kcp) = check_tlog_proof(p, keys, "key_history")?;
        if kcp.origin != cp.origin {
            return Err(BundleError::SignerKey(
                "key entry is from another log".into(),
            ));
        }
        let kh = k.header();
        if kh.kind != Kind::Key || kh.key.is_none() {
            return Err(BundleError::SignerKey(format!(
                "key history: entry {} is not a key entry",
                p.index
            )));
        }
        if kh.from != kh.log.as_str() {
            return Err(BundleError::SignerKey(
                "key entry is not signed by the party".into(),
            ));
        }
        k.verify(log_key.public_key())
            .map_err(|source| BundleError::Entry {
                part: "key_history",
                source,
            })?;
        match chain.last() {
            None if p.index >= index => {
                return Err(BundleError::SignerKey(format!(
                    "key entry {} does not precede entry {index}",
                    p.index
                )));
            }
            None => {}
            Some((newer, e)) if p.index >= *newer || e.header().prev != Some(p.index) => {
                return Err(BundleError::SignerKey(format!(
                    "key history: key entry {newer} names {} as the previous key entry, not {}; the history must follow prev without a gap",
                    e.header()
                        .prev
                        .map_or_else(|| "none".to_owned(), |i| i.to_string()),
                    p.index
                )));
            }
            Some(_) => {}
        }
        chain.push((p.index, k));
    }
    let (oldest, first) = chain
        .last()
        .map(|(i, e)| (*i, e))
        .ok_or_else(|| BundleError::SignerKey("the key history is empty".into()))?;
    let about = first
        .header()
        .key
        .as_ref()
        .map(|a| a.keys.office.as_str())
        .unwrap_or_default();
    if about != h.from {
        return Err(BundleError::SignerKey(format!(
            "key entry {oldest} announces {about}, not {}; the key history ends at the key entry that announced the signing key",
            h.from
        )));
    }
    let mut log = crate::keylog::KeyLog::new();
    for (i, e) in chain.iter().rev() {
        log.learn(*i, e);
    }
    let latest = chain.first().map_or(oldest, |(i, _)| *i);
    match log.judge(entry, index) {
        Ok(k) => Ok(Some((k.index, latest))),
        Err(crate::keylog::KeyRefusal::BadSignature { source, .. }) => Err(BundleError::Entry {
            part: "entry",
            source,
        }),
        Err(why) => Err(BundleError::SignerKey(format!("entry {index}: {why}"))),
    }
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
    match kind.as_str() {
        EQUIVOCATION_V1 => {
            let j: EquivocationJson = from_slice(bytes)?;
            let (a, ra) = check_claim(&j.a, keys, "a")?;
            let (b, rb) = check_claim(&j.b, keys, "b")?;
            if a.origin != j.origin || b.origin != j.origin {
                return Err(BundleError::Malformed(
                    "both checkpoints must be of the bundle's origin".into(),
                ));
            }
            if j.a.size != j.b.size {
                return Err(BundleError::Malformed(
                    "the two claims must be about the same size".into(),
                ));
            }
            if ra == rb {
                return Err(BundleError::Malformed(format!(
                    "the two checkpoints agree about the first {} entries: no equivocation shown",
                    j.a.size
                )));
            }
            Ok(Verified::Equivocation(Box::new(ProvedFork {
                origin: j.origin,
                size: j.a.size,
                a,
                b,
            })))
        }
        INCLUSION_V1 => Err(BundleError::Superseded {
            kind: INCLUSION_V1.into(),
            why: format!(
                "it proves only the key entry that announced the signing key, not the key entries after it, so it cannot show that the office had not rotated or revoked that key before the entry; ask for a {INCLUSION_V2} bundle (`hotline prove entry` writes one)"
            ),
        }),
        INCLUSION_V2 => {
            let j: InclusionJson = from_slice(bytes)?;
            let p = TlogProof::parse(&j.entry, "entry")?;
            let history = j
                .key_history
                .iter()
                .map(|t| TlogProof::parse(t, "key_history"))
                .collect::<Result<Vec<_>, _>>()?;
            let (entry, cp) = check_tlog_proof(&p, keys, "entry")?;
            let shown = check_key_history(&entry, p.index, &cp, &history, keys)?;
            Ok(Verified::Inclusion(Box::new(ProvedEntry {
                entry,
                index: p.index,
                checkpoint: cp,
                key_index: shown.map(|(k, _)| k),
                key_through: shown.map(|(_, t)| t),
            })))
        }
        DELIVERY_V1 => {
            claims::delivery::verify(bytes, keys).map(|p| Verified::Delivery(Box::new(p)))
        }
        ANSWERED_V1 => {
            claims::answered::verify(bytes, keys).map(|p| Verified::Answered(Box::new(p)))
        }
        ABSENCE_V1 => claims::absence::verify(bytes, keys).map(|p| Verified::Absence(Box::new(p))),
        STATS_V1 => claims::stats::verify(bytes, keys).map(|p| Verified::Stats(Box::new(p))),
        OPENING_V1 => claims::opening::verify(bytes, keys).map(|p| Verified::Opening(Box::new(p))),
        STATEMENT_V1 => {
            claims::statement::verify(bytes, keys).map(|p| Verified::Statement(Box::new(p)))
        }
        _ => Err(BundleError::UnknownType(kind)),
    }
}
