//! # hotline-proto
//!
//! The pure core of hotline: everything a third party needs to check a claim
//! about a hotline channel, and nothing else. No I/O, no async, no storage.
//!
//! ## Features
//!
//! `default` is `verify`, `seal`, `keygen` and `stix`: the whole API, as the
//! node and the CLI use it. A third party that only checks bundles takes
//! `verify` alone (`default-features = false, features = ["verify"]`) and
//! gets hashing, signatures, encoding and JSON, nothing that encrypts or draws
//! randomness. `examples/verify_bundle.rs` is such a verifier: it reads a
//! bundle and the pinned keys, prints the sentence and the checkpoints it
//! rests on, and exits 1 with the reason on refusal.
//!
//! - `seal`: HPKE and ChaCha20-Poly1305 sealing and opening, office secret
//!   keys (`keys::OfficeKeys`) and HPKE public keys.
//! - `keygen`: fresh keys from a caller's RNG or the operating system's
//!   (`keys::os_rng`).
//! - `stix`: the STIX 2.1 validator.
//!
//! ## Modules
//!
//! Every module is built with `verify` unless a feature is named.
//!
//! - [`party`]: parties and their offices, by validated name (`us`, `us/fbi`).
//! - [`b64`]: standard base64 (RFC 4648 §4), the encoding every C2SP format uses.
//! - [`agreement`]: agreement terms and the policy folded from both logs.
//! - [`keys`]: party log keys (C2SP signed-note, type 0x01), cosigner keys
//!   (C2SP tlog-cosignature, type 0x04), office public keys and keys
//!   exports; office secret keys need `seal`, generating keys `keygen`.
//! - [`keylog`]: the office keys a log announced, rotated and revoked, and
//!   whether an entry was signed by its office's key at its index.
//! - [`canonical`]: RFC 8785 canonical JSON, the one spelling of every header,
//!   leaf, content and sealed body.
//! - [`json`]: the JSON trees the canonical writer and the STIX validator
//!   read: serde_json's, and one that borrows its strings from its text.
//! - [`entry`]: entry headers in RFC 8785 canonical JSON, signed with Ed25519
//!   over a domain-separated message; the leaf is the canonical signed entry.
//! - [`seal`]: salted plaintext commitments (`verify`); sealed bodies, RFC
//!   9180 HPKE to the recipient and to the sender (`seal`).
//! - [`tree`]: RFC 9162 Merkle hashing and proofs.
//! - [`checkpoint`]: C2SP checkpoints and cosignatures.
//! - [`index`]: the index of a log's entries by channel and by reference
//!   that every checkpoint commits to, and keyed runs proved against it.
//! - [`bundle`]: proof bundles and their offline verification.
//! - [`pinned`]: the keys a reader pins from keys files, and what a keys
//!   file may not lend (another party's log name, a misnamed witness, two
//!   keys under one name) (`verify`).
//! - [`claims`]: bundles for claims about the channel — delivery, answered
//!   within deadlines, absence, a month's statistics, opening one entry, a
//!   joint (or one-sided) statement, inclusion, equivocation, a wrong index —
//!   each resting on the signatures of the party it speaks against.
//! - `stix` (feature `stix`): structural validation of STIX 2.1 bundles
//!   carried in inquiries and answers.
//! - [`witness`]: C2SP tlog-witness `add-checkpoint` request bodies.
//! - [`limits`]: the size and shape limits every decoder enforces while parsing.
//!
//! The leaf of a log is the canonical JSON of a signed entry:
//!
//! ```text
//! {"header":{"from":"us/fbi","kind":"message","log":"us","prev":null,...},"sig":"<base64 Ed25519>"}
//! ```
//!
//! and its leaf hash is `SHA-256(0x00 ‖ leaf)`, so any language with a JSON
//! canonicaliser and SHA-256 can recompute it.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod agreement;
pub mod b64;
pub mod bundle;
pub mod canonical;
pub mod checkpoint;
pub mod claims;
pub mod entry;
pub mod index;
pub mod json;
pub mod keylog;
pub mod keys;
pub mod limits;
pub mod party;
pub mod pinned;
pub mod seal;
#[cfg(feature = "stix")]
pub mod stix;
pub mod tree;
pub mod witness;

pub use tlog_tiles::Hash;
