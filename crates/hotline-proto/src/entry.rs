//! Entries: one signed record each, the leaves of a party's log.
//!
//! An entry is a [`Header`] signed by the office that wrote it (or, for `key`
//! entries, by the party's log key). The header is serialised as RFC 8785
//! canonical JSON (JCS) so that any language can recompute it byte for byte;
//! the signature is Ed25519 over `"hotline/entry/v1" ‖ 0x00 ‖ JCS(header)`.
//! The leaf stored in the log is `JCS({"header": …, "sig": base64(sig)})`.
//!
//! The header commits to the content without revealing it: `body.sealed` is
//! the SHA-256 of the sealed bytes that were delivered, `body.commitment` a
//! salted hash of the plaintext (see [`crate::seal`]).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::b64;
use crate::keys::OfficePublic;
use crate::party::{Office, Party};

/// Domain separation for entry signatures. The NUL keeps it apart from any
/// signed note, whose text may not hold control characters.
pub const SIGNATURE_DOMAIN: &[u8] = b"hotline/entry/v1\0";

/// The header version this code writes and reads.
pub const HEADER_VERSION: u32 = 1;

/// Largest leaf accepted when parsing; headers are small, bodies live outside.
pub const MAX_LEAF_BYTES: usize = 64 * 1024;

/// The kinds of entry (DESIGN.md, "Words").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Kind {
    /// A free-text message between two offices.
    #[serde(rename = "message")]
    Message,
    /// A request for information or action, with deadlines from an agreement.
    #[serde(rename = "inquiry")]
    Inquiry,
    /// An operator of the receiving office acknowledges an inquiry.
    #[serde(rename = "ack")]
    Ack,
    /// An answer to an inquiry.
    #[serde(rename = "answer")]
    Answer,
    /// The receiving node's signed statement that it received an entry.
    #[serde(rename = "receipt")]
    Receipt,
    /// A request for a call.
    #[serde(rename = "call.request")]
    CallRequest,
    /// Acceptance of a requested call, with the chosen time.
    #[serde(rename = "call.accept")]
    CallAccept,
    /// Refusal of a requested call, with a reason.
    #[serde(rename = "call.decline")]
    CallDecline,
    /// The record of a call that took place.
    #[serde(rename = "call.record")]
    CallRecord,
    /// One side's own account of a call.
    #[serde(rename = "readout")]
    Readout,
    /// A joint text proposed by one side.
    #[serde(rename = "statement")]
    Statement,
    /// The other side's signature on a statement.
    #[serde(rename = "endorsement")]
    Endorsement,
    /// A bilateral agreement, or a party's signature on one.
    #[serde(rename = "agreement")]
    Agreement,
    /// An office key announced, rotated or revoked.
    #[serde(rename = "key")]
    Key,
}

impl Kind {
    /// Every kind, in a stable order.
    pub const ALL: [Kind; 14] = [
        Kind::Message,
        Kind::Inquiry,
        Kind::Ack,
        Kind::Answer,
        Kind::Receipt,
        Kind::CallRequest,
        Kind::CallAccept,
        Kind::CallDecline,
        Kind::CallRecord,
        Kind::Readout,
        Kind::Statement,
        Kind::Endorsement,
        Kind::Agreement,
        Kind::Key,
    ];

    /// The kind's name as written in headers.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Message => "message",
            Kind::Inquiry => "inquiry",
            Kind::Ack => "ack",
            Kind::Answer => "answer",
            Kind::Receipt => "receipt",
            Kind::CallRequest => "call.request",
            Kind::CallAccept => "call.accept",
            Kind::CallDecline => "call.decline",
            Kind::CallRecord => "call.record",
            Kind::Readout => "readout",
            Kind::Statement => "statement",
            Kind::Endorsement => "endorsement",
            Kind::Agreement => "agreement",
            Kind::Key => "key",
        }
    }

    /// The kind as an operator says it ("acknowledgement", "call request"),
    /// one wording for the CLI's and the console's sentences.
    pub fn in_words(self) -> &'static str {
        match self {
            Kind::Message => "message",
            Kind::Inquiry => "inquiry",
            Kind::Ack => "acknowledgement",
            Kind::Answer => "answer",
            Kind::Receipt => "receipt",
            Kind::CallRequest => "call request",
            Kind::CallAccept => "call acceptance",
            Kind::CallDecline => "call refusal",
            Kind::CallRecord => "call record",
            Kind::Readout => "readout",
            Kind::Statement => "statement",
            Kind::Endorsement => "endorsement",
            Kind::Agreement => "agreement",
            Kind::Key => "key",
        }
    }

    /// Parses a kind name.
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reference to an entry in some party's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ref {
    /// The party whose log holds the entry.
    pub log: Party,
    /// Its index in that log.
    pub index: u64,
    /// Its leaf hash, base64, so the reference cannot be redirected.
    pub leaf_hash: String,
}

/// Commitments to an entry's content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyCommitment {
    /// SHA-256 of the sealed body as delivered, base64.
    pub sealed: String,
    /// Length of the sealed body in bytes.
    pub size: u64,
    /// Salted SHA-256 of the plaintext, base64 (see [`crate::seal::commitment`]).
    pub commitment: String,
}

/// What a `key` entry does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyAction {
    /// A new office and its keys.
    Announce,
    /// New keys for an existing office; the old ones stop signing.
    Rotate,
    /// The office's keys are no longer valid.
    Revoke,
}

/// The body of a `key` entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyAnnouncement {
    /// What happens to the office's keys.
    pub action: KeyAction,
    /// The office and its public keys.
    #[serde(flatten)]
    pub keys: OfficePublic,
}

/// The signed part of an entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Header version ([`HEADER_VERSION`]).
    pub v: u32,
    /// The party whose log this entry belongs to.
    pub log: Party,
    /// What the entry is.
    pub kind: Kind,
    /// The signer: an office (`us/fbi`) or, for `key` entries, the party (`us`).
    pub from: String,
    /// The counterpart office, if the entry is addressed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Office>,
    /// The agreement under which the entry is sent, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement: Option<String>,
    /// The writer's clock when the entry was written (RFC 3339, UTC).
    pub time: Timestamp,
    /// Earlier entries this one refers to (the inquiry an answer answers, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refs: Vec<Ref>,
    /// Index of the previous entry of the same kind on the same channel
    /// (same `from` and `to`) in this log, so that "nothing of kind K was sent"
    /// can be shown by walking a short chain.
    #[serde(default)]
    pub prev: Option<u64>,
    /// Commitments to the sealed content, if the entry has any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<BodyCommitment>,
    /// For `key` entries: the office keys announced, rotated or revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<KeyAnnouncement>,
    /// For receipts: whether the referenced entry was accepted, and if not
    /// why; for agreements: proposed, signed or withdrawn; for acks: closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// For agreement proposals: the terms, in the clear so anyone can check deadlines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terms: Option<crate::agreement::Terms>,
    /// For `statement` and `endorsement` entries (and only those): the
    /// SHA-256 of the statement's text, exact UTF-8 bytes, base64
    /// ([`text_digest`]). Both sides sign the same digest, so a third party
    /// given the text can check that both signed exactly it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// The digest a `statement` or `endorsement` header carries: base64 of the
/// SHA-256 of the text's exact UTF-8 bytes.
pub fn text_digest(text: &str) -> String {
    use sha2::Digest as _;
    b64::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// Why an entry could not be built, parsed or verified.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// The leaf is larger than [`MAX_LEAF_BYTES`].
    #[error("entry is {size} bytes; the limit is {MAX_LEAF_BYTES}")]
    TooLarge {
        /// Its size.
        size: usize,
    },
    /// The leaf is not the JSON an entry is made of.
    #[error("malformed entry: {0}")]
    Malformed(String),
    /// The leaf is valid JSON but not the one canonical leaf of its entry:
    /// RFC 8785 JSON of the header exactly as [`SignedEntry::sign`] writes it.
    #[error("entry is not in RFC 8785 canonical form")]
    NotCanonical,
    /// The header names a version this code does not know.
    #[error(
        "entry header version {0} is not supported (this build reads version {HEADER_VERSION})"
    )]
    Version(u32),
    /// The signature does not verify under the signer's key.
    #[error("signature of {signer} does not verify")]
    BadSignature {
        /// Who was supposed to have signed.
        signer: String,
    },
}

/// A signed entry with its exact leaf bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedEntry {
    header: Header,
    sig: [u8; 64],
    leaf: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LeafJson {
    header: Value,
    sig: String,
}

fn canonical(v: &impl Serialize) -> Result<Vec<u8>, EntryError> {
    crate::canonical::to_vec(v).map_err(|e| EntryError::Malformed(e.to_string()))
}

impl Header {
    /// A header of today's version with only who wrote it, what, to whom
    /// and when; everything a kind adds (references, `prev`, body, key,
    /// status, terms, digest) starts empty, for the writer to fill in.
    pub fn new(
        log: Party,
        kind: Kind,
        from: impl Into<String>,
        to: Option<Office>,
        time: Timestamp,
    ) -> Self {
        Self {
            v: HEADER_VERSION,
            log,
            kind,
            from: from.into(),
            to,
            agreement: None,
            time,
            refs: vec![],
            prev: None,
            body: None,
            key: None,
            status: None,
            terms: None,
            digest: None,
        }
    }

    /// The exact bytes the signer signs: domain ‖ JCS(header).
    pub fn signing_message(&self) -> Result<Vec<u8>, EntryError> {
        let mut m = SIGNATURE_DOMAIN.to_vec();
        m.extend(canonical(self)?);
        Ok(m)
    }

    /// The channel this entry belongs to, as (from, to).
    pub fn channel(&self) -> (&str, Option<&str>) {
        (self.from.as_str(), self.to.as_ref().map(Office::as_str))
    }

    /// Checks what depends on the kind: a `statement` or `endorsement`
    /// carries a digest (a base64 SHA-256), and no other kind does.
    pub fn check_shape(&self) -> Result<(), EntryError> {
        let wants = matches!(self.kind, Kind::Statement | Kind::Endorsement);
        match (&self.digest, wants) {
            (Some(d), true) if b64::decode_array::<32>(d).is_none() => Err(EntryError::Malformed(
                format!("the digest of a {} is not a base64 SHA-256 hash", self.kind),
            )),
            (Some(_), false) => Err(EntryError::Malformed(format!(
                "a {} entry carries no digest (only statements and endorsements do)",
                self.kind
            ))),
            (None, true) => Err(EntryError::Malformed(format!(
                "a {} entry must carry the digest of its text",
                self.kind
            ))),
            _ => Ok(()),
        }
    }
}

impl SignedEntry {
    /// Signs a header with `sign` (an office's or party's Ed25519 key).
    pub fn sign(header: Header, sign: impl FnOnce(&[u8]) -> [u8; 64]) -> Result<Self, EntryError> {
        header.check_shape()?;
        let sig = sign(&header.signing_message()?);
        let leaf = canonical(&LeafJson {
            header: serde_json::to_value(&header)
                .map_err(|e| EntryError::Malformed(e.to_string()))?,
            sig: b64::encode(sig),
        })?;
        Ok(Self { header, sig, leaf })
    }

    /// Parses leaf bytes, insisting on canonical form so that one entry has
    /// exactly one leaf (and so one leaf hash).
    pub fn from_leaf(leaf: &[u8]) -> Result<Self, EntryError> {
        if leaf.len() > MAX_LEAF_BYTES {
            return Err(EntryError::TooLarge { size: leaf.len() });
        }
        let parsed: LeafJson =
            serde_json::from_slice(leaf).map_err(|e| EntryError::Malformed(e.to_string()))?;
        if let Some(v) = parsed.header.get("v").and_then(Value::as_u64)
            && v != u64::from(HEADER_VERSION)
        {
            return Err(EntryError::Version(u32::try_from(v).unwrap_or(u32::MAX)));
        }
        // A leaf that does not parse into a header may be a non-canonical
        // spelling of a valid one (`1.0` for `1`): say which. Only failures
        // pay for this second look; verifying a large disclosed range must
        // not serialise every leaf three times.
        let refuse = |e: String| {
            let canonical_form = serde_json::from_slice::<LeafJson>(leaf)
                .ok()
                .and_then(|p| canonical(&p).ok())
                .is_some_and(|c| c == leaf);
            if canonical_form {
                EntryError::Malformed(e)
            } else {
                EntryError::NotCanonical
            }
        };
        let header: Header =
            serde_json::from_value(parsed.header).map_err(|e| refuse(e.to_string()))?;
        let sig = b64::decode_array::<64>(&parsed.sig)
            .ok_or_else(|| refuse("sig is not a base64 Ed25519 signature".into()))?;
        // The signature covers the header as this code writes it, so the leaf
        // must be exactly that too: a default left out or spelled out
        // (`"prev":null`, `"refs":[]`), another form of the same time, a field
        // the header does not keep, other key order or white space would
        // otherwise make a second leaf, with another leaf hash, carrying the
        // same valid signature. Rebuilding the leaf covers all of those.
        let rebuilt = canonical(&LeafJson {
            header: serde_json::to_value(&header)
                .map_err(|e| EntryError::Malformed(e.to_string()))?,
            sig: b64::encode(sig),
        })?;
        if rebuilt != leaf {
            return Err(EntryError::NotCanonical);
        }
        header.check_shape()?;
        Ok(Self {
            header,
            sig,
            leaf: rebuilt,
        })
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The exact leaf bytes.
    pub fn leaf(&self) -> &[u8] {
        &self.leaf
    }

    /// The RFC 9162 leaf hash.
    pub fn leaf_hash(&self) -> crate::Hash {
        crate::tree::leaf_hash(&self.leaf)
    }

    /// Checks the signature with the signer's Ed25519 public key.
    pub fn verify(&self, key: &ed25519_dalek::VerifyingKey) -> Result<(), EntryError> {
        let msg = self.header.signing_message()?;
        key.verify_strict(&msg, &ed25519_dalek::Signature::from_bytes(&self.sig))
            .map_err(|_| EntryError::BadSignature {
                signer: self.header.from.clone(),
            })
    }
}

/// The plaintext of a message-like entry, before sealing. Serialised as
/// canonical JSON so that an opening can be recomputed anywhere.
pub type Content = ContentOf<Value>;

/// A content parsed only to know that it is one: exactly the bodies that
/// parse as a [`Content`] parse as this, but a STIX bundle of thousands of
/// objects is checked without being built. A receipt needs no more.
pub type ContentShape = ContentOf<AnyJson>;

/// [`Content`], generic over how its STIX bundle is held.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContentOf<S> {
    /// The text, UTF-8.
    pub text: String,
    /// Its language (BCP 47), if stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// An inquiry's subject line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Attached files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// A STIX 2.1 bundle (checked for structure before sending).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stix: Option<S>,
    /// The same text in other languages, written by the sender. Agreements
    /// name several working languages; each side reads its own, and a
    /// reader can compare them because all are under one signature.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub translations: Vec<Translation>,
    /// For the `call.*` kinds: what is requested, accepted, declined or
    /// recorded. `text` stays the human note (for a decline, the reason too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<CallContent>,
}

/// Any JSON value, checked as `serde_json::Value` checks it (numbers out of
/// a double's range, lone surrogates, invalid UTF-8 and nesting past
/// serde_json's limit are refused alike), then dropped: the same parser
/// calls the same visitor methods, and nothing is allocated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AnyJson;

impl<'de> Deserialize<'de> for AnyJson {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(AnyJsonVisitor)
    }
}

struct AnyJsonVisitor;

impl<'de> serde::de::Visitor<'de> for AnyJsonVisitor {
    type Value = AnyJson;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<AnyJson, E> {
        Ok(AnyJson)
    }
    fn visit_i64<E>(self, _: i64) -> Result<AnyJson, E> {
        Ok(AnyJson)
    }
    fn visit_u64<E>(self, _: u64) -> Result<AnyJson, E> {
        Ok(AnyJson)
    }
    fn visit_f64<E>(self, _: f64) -> Result<AnyJson, E> {
        Ok(AnyJson)
    }
    fn visit_str<E>(self, _: &str) -> Result<AnyJson, E> {
        Ok(AnyJson)
    }
    fn visit_unit<E>(self) -> Result<AnyJson, E> {
        Ok(AnyJson)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<AnyJson, A::Error> {
        while a.next_element::<AnyJson>()?.is_some() {}
        Ok(AnyJson)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<AnyJson, A::Error> {
        while a.next_key::<AnyJson>()?.is_some() {
            a.next_value::<AnyJson>()?;
        }
        Ok(AnyJson)
    }
}

/// The structured part of a call entry's content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum CallContent {
    /// `call.request`: how, when (proposed times) and about what.
    Request {
        /// Voice or video.
        media: Media,
        /// Proposed times, the requester's preference first.
        times: Vec<Timestamp>,
        /// Topics to raise.
        topics: Vec<String>,
    },
    /// `call.accept`: the time chosen.
    Accept {
        /// When the call is to take place.
        at: Timestamp,
    },
    /// `call.decline`: why.
    Decline {
        /// The reason given.
        reason: String,
    },
    /// `call.record`: one side's record of a call that took place.
    Record {
        /// When it started.
        start: Timestamp,
        /// When it ended.
        end: Timestamp,
        /// `end - start` in seconds.
        duration_secs: u64,
        /// Who took part, as this side names them.
        participants: Vec<String>,
    },
}

/// How a call is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Media {
    /// A voice call.
    Voice,
    /// A video call.
    Video,
}

impl std::fmt::Display for Media {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Media::Voice => "voice",
            Media::Video => "video",
        })
    }
}

/// The text of an entry in another language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Translation {
    /// Its language (BCP 47).
    pub lang: String,
    /// The text, UTF-8.
    pub text: String,
}

/// A file attached to an entry's content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    /// The file's name (no directories).
    pub name: String,
    /// Its media type, e.g. `application/pdf`.
    pub media_type: String,
    /// Its bytes, base64.
    pub data: String,
}

impl<S> ContentOf<S> {
    /// Plain text content.
    pub fn text(text: impl Into<String>, lang: Option<String>) -> Self {
        Self {
            text: text.into(),
            lang,
            subject: None,
            attachments: vec![],
            stix: None,
            translations: vec![],
            call: None,
        }
    }
}

impl<S: crate::json::Json> ContentOf<S> {
    /// Canonical JSON bytes of the content, whichever tree holds its
    /// bundle: the same for the same JSON.
    pub fn to_bytes(&self) -> Vec<u8> {
        // A bundle of thousands of objects is written where it lies, not
        // first copied into the content's JSON value.
        let ContentOf {
            text,
            lang,
            subject,
            attachments,
            stix,
            translations,
            call,
        } = self;
        let Some(stix) = stix else {
            return crate::canonical::to_vec(self).unwrap_or_default();
        };
        let rest = Content {
            text: text.clone(),
            lang: lang.clone(),
            subject: subject.clone(),
            attachments: attachments.clone(),
            stix: None,
            translations: translations.clone(),
            call: call.clone(),
        };
        serde_json::to_value(&rest)
            .and_then(|head| crate::canonical::to_vec_with(&head, "stix", stix))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{OfficeKeys, os_rng};

    fn header() -> Header {
        Header::new(
            Party::new("us").unwrap(),
            Kind::Message,
            "us/fbi",
            Some(Office::new("ru/fsb").unwrap()),
            "2021-07-01T12:00:00Z".parse().unwrap(),
        )
    }

    #[test]
    fn sign_parse_verify() {
        let k = OfficeKeys::generate(Office::new("us/fbi").unwrap(), &mut os_rng());
        let e = SignedEntry::sign(header(), |m| k.sign_raw(m)).unwrap();
        let text = std::str::from_utf8(e.leaf()).unwrap();
        assert!(text.starts_with(r#"{"header":{"from":"us/fbi","kind":"message","log":"us","prev":null,"time":"2021-07-01T12:00:00Z","to":"ru/fsb","v":1},"sig":""#), "{text}");
        let p = SignedEntry::from_leaf(e.leaf()).unwrap();
        assert_eq!(p, e);
        p.verify(&k.public().verifying_key().unwrap()).unwrap();
        let other = OfficeKeys::generate(Office::new("us/fbi").unwrap(), &mut os_rng());
        assert!(p.verify(&other.public().verifying_key().unwrap()).is_err());
    }

    #[test]
    fn non_canonical_and_tampered_leaves_are_refused() {
        let k = OfficeKeys::generate(Office::new("us/fbi").unwrap(), &mut os_rng());
        let e = SignedEntry::sign(header(), |m| k.sign_raw(m)).unwrap();
        let spaced = String::from_utf8(e.leaf().to_vec())
            .unwrap()
            .replacen(':', ": ", 1);
        assert!(matches!(
            SignedEntry::from_leaf(spaced.as_bytes()),
            Err(EntryError::NotCanonical)
        ));
        let tampered = String::from_utf8(e.leaf().to_vec())
            .unwrap()
            .replace("ru/fsb", "ru/svr");
        let t = SignedEntry::from_leaf(tampered.as_bytes()).unwrap();
        assert!(t.verify(&k.public().verifying_key().unwrap()).is_err());
        let v2 = String::from_utf8(e.leaf().to_vec())
            .unwrap()
            .replace("\"v\":1", "\"v\":2");
        assert!(matches!(
            SignedEntry::from_leaf(v2.as_bytes()),
            Err(EntryError::Version(2))
        ));
    }

    #[test]
    fn kinds_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
            assert_eq!(
                serde_json::to_value(k).unwrap(),
                Value::String(k.as_str().into())
            );
        }
    }
}
