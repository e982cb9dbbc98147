//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};

use hotline_proto::Hash;
use hotline_proto::b64;
use hotline_proto::bundle::{self, Keyring, TlogProof};
use hotline_proto::checkpoint;
use hotline_proto::claims::LogEvidence;
use hotline_proto::claims::history::key_history_key;
use hotline_proto::claims::inclusion::inclusion_bundle;
use hotline_proto::entry::{Header, KeyAction, KeyAnnouncement, Kind, SignedEntry};
use hotline_proto::index::{Index, KeyedRun};
use hotline_proto::keys::{
    ALG_COSIGNATURE_V1, ALG_ED25519, NoteKey, OfficeKeys, OfficePublic, os_rng,
};
use hotline_proto::party::{Office, Party};
use hotline_proto::tree::MemoryTree;

/// The independent test vectors, beside the repository (`main/../shared`).
/// Panics with a clear message if they are missing: these tests never skip.
pub fn vectors_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors");
    assert!(
        dir.is_dir(),
        "test vectors not found at {}: the repository must sit at main/ with shared/vectors beside it",
        dir.display()
    );
    dir
}

/// Reads a vector file, failing loudly if it is missing.
pub fn read_vector(rel: &str) -> Vec<u8> {
    let path = vectors_dir().join(rel);
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("cannot read test vector {}: {e}", path.display()))
}

/// A standard-base64 SHA-256 hash.
pub fn hash(s: &str) -> Hash {
    Hash(b64::decode_array(s).unwrap_or_else(|| panic!("{s:?} is not a base64 SHA-256 hash")))
}

/// `bytes` with byte `at` XORed with `mask`.
pub fn flipped(bytes: &[u8], at: usize, mask: u8) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at] ^= mask;
    out
}

/// The log origin of the test party.
pub const ORIGIN: &str = "hotline/us";
/// The test witness's cosigner name.
pub const WITNESS: &str = "hotline/ru/witness";
/// The witness clock used for every cosignature (2023-11-14T22:13:20Z).
pub const COSIGN_TIME: u64 = 1_700_000_000;
/// The writer's clock of entry 0 (2021-07-01T12:00:00Z); entry i is i seconds later.
pub const T0: i64 = 1_625_140_800;

pub fn office(name: &str) -> Office {
    Office::new(name).unwrap()
}

/// A header of `kind` in the log of `us`, written at `T0 + i` seconds.
pub fn header(kind: Kind, from: &str, to: Option<&str>, i: u64) -> Header {
    header_in(
        "us",
        kind,
        from,
        to,
        jiff::Timestamp::from_second(T0 + i as i64).unwrap(),
    )
}

/// A header of `kind` in the log of `party`, written at `time`, with every
/// optional field empty for the test to fill in.
pub fn header_in(
    party: &str,
    kind: Kind,
    from: &str,
    to: Option<&str>,
    time: jiff::Timestamp,
) -> Header {
    Header::new(Party::new(party).unwrap(), kind, from, to.map(office), time)
}

/// A tiny log of party `us` kept in memory, with a witness for its checkpoints.
pub struct Log {
    pub party: NoteKey,
    pub witness: NoteKey,
    pub tree: MemoryTree,
    pub leaves: Vec<Vec<u8>>,
    pub index: Index,
}

impl Log {
    pub fn new() -> Self {
        Self {
            party: NoteKey::generate(ORIGIN, ALG_ED25519, &mut os_rng()).unwrap(),
            witness: NoteKey::generate(WITNESS, ALG_COSIGNATURE_V1, &mut os_rng()).unwrap(),
            tree: MemoryTree::new(),
            leaves: vec![],
            index: Index::new(),
        }
    }

    /// The keys a verifier pins: the party's log key and the witness.
    pub fn keyring(&self) -> Keyring {
        Keyring::new([self.party.verifier(), self.witness.verifier()])
    }

    /// Appends a signed entry; returns its index.
    pub fn append(&mut self, e: &SignedEntry) -> u64 {
        let i = self.tree.push(e.leaf());
        assert_eq!(i as usize, self.leaves.len());
        self.leaves.push(e.leaf().to_vec());
        self.index.apply_entry(i, e);
        i
    }

    fn next(&self) -> u64 {
        self.leaves.len() as u64
    }

    /// A `key` entry signed by the party key, announcing (or rotating,
    /// revoking) `keys`.
    pub fn key_entry(&self, keys: OfficePublic, action: KeyAction) -> SignedEntry {
        let mut h = header(Kind::Key, "us", None, self.next());
        h.prev = self.last_key_entry(self.next());
        h.key = Some(KeyAnnouncement { action, keys });
        SignedEntry::sign(h, |m| self.party.sign_raw(m)).unwrap()
    }

    /// Appends a `key` entry; returns its index.
    pub fn announce(&mut self, keys: OfficePublic, action: KeyAction) -> u64 {
        let e = self.key_entry(keys, action);
        self.append(&e)
    }

    /// An entry of `kind` from `signer`'s office to `to`, signed by `signer`.
    pub fn office_entry(&self, signer: &OfficeKeys, kind: Kind, to: &str) -> SignedEntry {
        let h = header(kind, signer.office().as_str(), Some(to), self.next());
        SignedEntry::sign(h, |m| signer.sign_raw(m)).unwrap()
    }

    /// Appends a message from `signer` to `to`; returns its index.
    pub fn message(&mut self, signer: &OfficeKeys, to: &str) -> u64 {
        let e = self.office_entry(signer, Kind::Message, to);
        self.append(&e)
    }

    /// The signed checkpoint of the whole tree, cosigned by the witness.
    pub fn checkpoint(&mut self) -> Vec<u8> {
        let root = self.index.root();
        let note = checkpoint::sign_indexed(&self.party, self.tree.size(), self.tree.root(), root)
            .unwrap();
        let (text, _) = checkpoint::split(&note).unwrap();
        let line = checkpoint::cosign_line(&self.witness, text, COSIGN_TIME).unwrap();
        checkpoint::add_lines(&note, &line)
    }

    /// The tlog-proof of leaf `index` under `cp` (a checkpoint of the whole tree).
    pub fn tlog_proof(&self, index: u64, cp: &[u8]) -> TlogProof {
        let proof = self.tree.inclusion(index, self.tree.size()).unwrap();
        bundle::tlog_proof(&self.leaves[index as usize], index, proof, cp.to_vec())
    }

    /// Entry `index`, parsed.
    pub fn entry(&self, index: u64) -> SignedEntry {
        SignedEntry::from_leaf(&self.leaves[index as usize]).unwrap()
    }

    /// The last party-written `key` entry before `index` (what a new key
    /// entry's `prev` names).
    pub fn last_key_entry(&self, index: u64) -> Option<u64> {
        (0..index).rev().find(|&i| {
            let e = self.entry(i);
            e.header().kind == Kind::Key && e.header().from == "us"
        })
    }

    /// The complete run of `key` in the whole log (every entry disclosed).
    pub fn run(&mut self, key: &str) -> KeyedRun {
        let leaves = (0..self.tree.size())
            .filter(|&i| {
                hotline_proto::index::keys_of(&self.entry(i))
                    .iter()
                    .any(|k| k == key)
            })
            .map(|i| (i, self.leaves[i as usize].clone()))
            .collect();
        KeyedRun {
            key: key.into(),
            state: self.index.state(key),
            proof: self.index.prove(key),
            base: None,
            leaves,
        }
    }

    /// The log's checkpoint `cp` and its complete key history.
    pub fn evidence(&mut self, cp: &[u8]) -> LogEvidence {
        LogEvidence {
            checkpoint: cp.to_vec(),
            key_history: self.run(&key_history_key("us")),
        }
    }

    /// The inclusion bundle (v3) of `index`, under the checkpoint of the whole log.
    pub fn bundle(&mut self, index: u64) -> String {
        let cp = self.checkpoint();
        let entry = self.tlog_proof(index, &cp);
        let ev = self.evidence(&cp);
        inclusion_bundle(&ev, &entry)
    }
}
