//! Fixtures shared by the fuzz targets and the seed generator
//! (`examples/seeds.rs`): two parties, `us` and `ru`, whose keys are derived
//! from fixed labels, so that a seed written by the generator verifies in a
//! target that pins the same keys, and the fuzzer starts from real bundles,
//! leaves, notes and pushes that reach the deepest checks, not from bytes
//! that fail at the first one.
//!
//! None of these keys protects anything: they are public test keys.

use std::sync::LazyLock;

use hotline_proto::bundle::Keyring;
use hotline_proto::keys::{ALG_COSIGNATURE_V1, ALG_ED25519, NoteKey, OfficeKeys};
use hotline_proto::party::{Office, Party};
use sha2::{Digest as _, Sha256};

/// A deterministic random number generator: SHA-256 of a label and a
/// counter. For fixtures only.
pub struct Seeded {
    label: Vec<u8>,
    counter: u64,
}

impl Seeded {
    /// The generator for `label`.
    pub fn new(label: &str) -> Self {
        Self {
            label: label.as_bytes().to_vec(),
            counter: 0,
        }
    }
}

impl rand_core::RngCore for Seeded {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }

    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for chunk in dst.chunks_mut(32) {
            let mut h = Sha256::new();
            h.update(&self.label);
            h.update(self.counter.to_le_bytes());
            self.counter += 1;
            let block = h.finalize();
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
    }
}

impl rand_core::CryptoRng for Seeded {}

/// A party's fixed keys.
pub struct PartyKeys {
    /// `us` or `ru`.
    pub party: Party,
    /// Its log key (`hotline/<party>`, type 0x01).
    pub log: NoteKey,
    /// Its cosigner key (`hotline/<party>/witness`, type 0x04).
    pub witness: NoteKey,
    /// Its offices: `<party>/fbi` or `<party>/fsb`, and `<party>/president`.
    pub offices: Vec<OfficeKeys>,
}

fn party_keys(name: &str, offices: &[&str]) -> PartyKeys {
    let origin = format!("hotline/{name}");
    let note = |n: &str, alg| {
        NoteKey::generate(n, alg, &mut Seeded::new(n)).expect("a valid fixed key name")
    };
    PartyKeys {
        party: Party::new(name).expect("a valid party name"),
        log: note(&origin, ALG_ED25519),
        witness: note(&format!("{origin}/witness"), ALG_COSIGNATURE_V1),
        offices: offices
            .iter()
            .map(|o| {
                OfficeKeys::generate(
                    Office::new(o).expect("a valid office name"),
                    &mut Seeded::new(o),
                )
            })
            .collect(),
    }
}

/// `us`, with offices `us/fbi` and `us/president`.
pub static US: LazyLock<PartyKeys> =
    LazyLock::new(|| party_keys("us", &["us/fbi", "us/president"]));
/// `ru`, with offices `ru/fsb` and `ru/president`.
pub static RU: LazyLock<PartyKeys> =
    LazyLock::new(|| party_keys("ru", &["ru/fsb", "ru/president"]));

/// A witness of neither party (`hotline/ch/witness`): a claim may rest on
/// its cosignature where one party's own would prove nothing.
pub static NEUTRAL: LazyLock<NoteKey> = LazyLock::new(|| {
    let name = "hotline/ch/witness";
    NoteKey::generate(name, ALG_COSIGNATURE_V1, &mut Seeded::new(name))
        .expect("a valid fixed key name")
});

/// What a verifier pins: both log keys, both parties' witnesses and the
/// neutral one.
pub static KEYRING: LazyLock<Keyring> = LazyLock::new(|| {
    Keyring::new([
        US.log.verifier(),
        RU.log.verifier(),
        US.witness.verifier(),
        RU.witness.verifier(),
        NEUTRAL.verifier(),
    ])
});

impl PartyKeys {
    /// The keys of one of its offices.
    pub fn office(&self, name: &str) -> &OfficeKeys {
        self.offices
            .iter()
            .find(|k| k.office().as_str() == name)
            .unwrap_or_else(|| panic!("{name} is not a fixture office"))
    }
}
