//! Keys: who may sign what.
//!
//! - A party's **log key** signs its checkpoints as a C2SP signed note
//!   (Ed25519, type 0x01) and the `key` entries that announce its offices. Its
//!   verifier key, in C2SP vkey form `name+hexkeyid+base64(0x01‖pubkey)`, is
//!   what the other party pins and what `hotline verify` needs.
//! - A party's **cosigner key** signs C2SP `cosignature/v1` cosignatures (type
//!   0x04) of the other party's checkpoints. It is a distinct key: the spec
//!   forbids reusing one Ed25519 key across cosigner roles, and keeping the log
//!   and witness roles apart means a leaked one does not forge the other.
//! - An **office key** pair: Ed25519 to sign entries and X25519 (HPKE, RFC
//!   9180) to receive sealed bodies.
//!
//! Entry signatures and note signatures never collide: entry messages start
//! with a NUL-terminated domain string, and signed-note text may not contain
//! control characters.

use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
#[cfg(feature = "seal")]
use hpke::{Deserializable as _, Kem as _, Serializable as _};
#[cfg(feature = "keygen")]
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::b64;
use crate::party::{Office, Party};

#[cfg(feature = "seal")]
/// The HPKE KEM used for sealing (RFC 9180 §7.1: DHKEM(X25519, HKDF-SHA256)).
pub type Kem = hpke::kem::X25519HkdfSha256;
#[cfg(feature = "seal")]
/// An office's public sealing key.
pub type SealPublic = <Kem as hpke::Kem>::PublicKey;
#[cfg(feature = "seal")]
/// An office's secret sealing key.
pub type SealSecret = <Kem as hpke::Kem>::PrivateKey;

/// Signature type byte of a plain Ed25519 signed-note key (C2SP signed-note).
pub const ALG_ED25519: u8 = 0x01;
/// Signature type byte of an Ed25519 `cosignature/v1` key (C2SP tlog-cosignature).
pub const ALG_COSIGNATURE_V1: u8 = 0x04;

/// Why a key could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The text is not `name+hexid+base64` with a valid name, id and key.
    #[error("malformed {what} key: {why}")]
    Malformed {
        /// Which kind of key was being read.
        what: &'static str,
        /// What was wrong.
        why: &'static str,
    },
    /// The key id does not match the name and key (C2SP signed-note key id).
    #[error("key id of {name} does not match its name and public key")]
    WrongId {
        /// The key's name.
        name: String,
    },
    /// The signature type byte is not one hotline uses.
    #[error(
        "key {name} has signature type 0x{alg:02x}; expected 0x01 (Ed25519) or 0x04 (cosignature/v1)"
    )]
    UnknownAlg {
        /// The key's name.
        name: String,
        /// The type byte found.
        alg: u8,
    },
}

fn malformed(what: &'static str, why: &'static str) -> KeyError {
    KeyError::Malformed { what, why }
}

/// A named Ed25519 key used in signed notes: a log key (type 0x01) or a
/// cosigner key (type 0x04). Signs with the seed it was made from; the seed is
/// wiped on drop.
pub struct NoteKey {
    name: String,
    alg: u8,
    key: SigningKey,
}

impl NoteKey {
    #[cfg(feature = "keygen")]
    /// Makes a new key for `name` with signature type `alg`.
    pub fn generate(name: &str, alg: u8, rng: &mut impl CryptoRng) -> Result<Self, KeyError> {
        check_name(name)?;
        check_alg(name, alg)?;
        Ok(Self {
            name: name.to_owned(),
            alg,
            key: random_signing_key(rng),
        })
    }

    /// The key's name (the log origin, or the cosigner's name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The signature type byte.
    pub fn alg(&self) -> u8 {
        self.alg
    }

    /// The public half, as a verifier.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            alg: self.alg,
            key: self.key.verifying_key(),
        }
    }

    /// Signs raw bytes (callers add their own domain separation).
    pub fn sign_raw(&self, msg: &[u8]) -> [u8; 64] {
        self.key.sign(msg).to_bytes()
    }

    /// The secret in C2SP's skey form: `PRIVATE+KEY+name+hexid+base64(type‖seed)`.
    pub fn to_skey(&self) -> Zeroizing<String> {
        let mut material = Zeroizing::new(vec![self.alg]);
        material.extend_from_slice(self.key.as_bytes());
        Zeroizing::new(format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.verifier().key_id(),
            b64::encode(&*material)
        ))
    }

    /// Reads a key written by [`NoteKey::to_skey`].
    pub fn from_skey(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        let rest = text
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| malformed("secret", "does not start with PRIVATE+KEY+"))?;
        let (name, id, material) = split_key(rest, "secret")?;
        let material = Zeroizing::new(material);
        if material.len() != 33 {
            return Err(malformed("secret", "key material is not 33 bytes"));
        }
        let seed: [u8; 32] = material[1..]
            .try_into()
            .map_err(|_| malformed("secret", "bad seed"))?;
        let key = Self {
            name: name.to_owned(),
            alg: material[0],
            key: SigningKey::from_bytes(&seed),
        };
        check_alg(&key.name, key.alg)?;
        if key.verifier().key_id() != id {
            return Err(KeyError::WrongId {
                name: name.to_owned(),
            });
        }
        Ok(key)
    }
}

/// The public half of a [`NoteKey`]: what a party pins for the other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    alg: u8,
    key: VerifyingKey,
}

impl NoteVerifier {
    /// Parses a C2SP verifier key `name+hexkeyid+base64(type‖pubkey)`.
    pub fn from_vkey(text: &str) -> Result<Self, KeyError> {
        let (name, id, material) = split_key(text.trim(), "verifier")?;
        if material.len() != 33 {
            return Err(malformed("verifier", "key material is not 33 bytes"));
        }
        check_alg(name, material[0])?;
        let pk: [u8; 32] = material[1..]
            .try_into()
            .map_err(|_| malformed("verifier", "bad key"))?;
        let key = VerifyingKey::from_bytes(&pk)
            .map_err(|_| malformed("verifier", "not an Ed25519 point"))?;
        let v = Self {
            name: name.to_owned(),
            alg: material[0],
            key,
        };
        if v.key_id() != id {
            return Err(KeyError::WrongId {
                name: name.to_owned(),
            });
        }
        Ok(v)
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The signature type byte (0x01 log, 0x04 cosigner).
    pub fn alg(&self) -> u8 {
        self.alg
    }

    /// The raw Ed25519 public key.
    pub fn public_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// The key id: `SHA-256(name ‖ "\n" ‖ type ‖ pubkey)[:4]`.
    pub fn key_id(&self) -> u32 {
        signed_note::key_id(&self.name, &self.material())
    }

    fn material(&self) -> Vec<u8> {
        let mut m = vec![self.alg];
        m.extend_from_slice(self.key.as_bytes());
        m
    }

    /// The verifier key in C2SP vkey form.
    pub fn to_vkey(&self) -> String {
        format!(
            "{}+{:08x}+{}",
            self.name,
            self.key_id(),
            b64::encode(self.material())
        )
    }

    /// Checks an Ed25519 signature over raw bytes.
    pub fn verify_raw(&self, msg: &[u8], sig: &[u8]) -> bool {
        let Ok(sig) = <[u8; 64]>::try_from(sig) else {
            return false;
        };
        self.key
            .verify(msg, &ed25519_dalek::Signature::from_bytes(&sig))
            .is_ok()
    }
}

#[cfg(feature = "keygen")]
fn random_signing_key(rng: &mut impl CryptoRng) -> SigningKey {
    let mut seed = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(&mut *seed);
    SigningKey::from_bytes(&seed)
}

#[cfg(feature = "keygen")]
/// The operating system's random number generator, in the form the key and
/// sealing functions take.
pub fn os_rng() -> rand_core::UnwrapErr<rand_core::OsRng> {
    rand_core::UnwrapErr(rand_core::OsRng)
}

fn check_name(name: &str) -> Result<(), KeyError> {
    if signed_note::is_key_name_valid(name) {
        Ok(())
    } else {
        Err(malformed("note", "name is empty or has a space or '+'"))
    }
}

fn check_alg(name: &str, alg: u8) -> Result<(), KeyError> {
    if alg == ALG_ED25519 || alg == ALG_COSIGNATURE_V1 {
        Ok(())
    } else {
        Err(KeyError::UnknownAlg {
            name: name.to_owned(),
            alg,
        })
    }
}

fn split_key<'a>(text: &'a str, what: &'static str) -> Result<(&'a str, u32, Vec<u8>), KeyError> {
    let (name, rest) = text
        .split_once('+')
        .ok_or_else(|| malformed(what, "expected name+hexid+base64"))?;
    let (id16, key64) = rest
        .split_once('+')
        .ok_or_else(|| malformed(what, "expected name+hexid+base64"))?;
    check_name(name)?;
    if id16.len() != 8 {
        return Err(malformed(what, "key id is not 8 hex digits"));
    }
    let id = u32::from_str_radix(id16, 16).map_err(|_| malformed(what, "key id is not hex"))?;
    let material = b64::decode(key64).ok_or_else(|| malformed(what, "key is not base64"))?;
    Ok((name, id, material))
}

#[cfg(feature = "seal")]
/// An office's secret keys: Ed25519 to sign entries, X25519 to open sealed bodies.
pub struct OfficeKeys {
    office: Office,
    sign: SigningKey,
    seal: SealSecret,
}

/// An office's public keys, as announced in a `key` entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficePublic {
    /// The office.
    pub office: Office,
    /// Ed25519 public key, base64.
    pub sign: String,
    /// X25519 public key for HPKE, base64.
    pub seal: String,
}

#[cfg(feature = "seal")]
#[derive(Serialize, Deserialize)]
struct OfficeSecretFile {
    office: Office,
    sign: String,
    seal: String,
}

#[cfg(feature = "seal")]
impl OfficeKeys {
    /// Makes fresh keys for `office`.
    #[cfg(feature = "keygen")]
    pub fn generate(office: Office, rng: &mut impl CryptoRng) -> Self {
        let sign = random_signing_key(rng);
        let mut ikm = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(&mut *ikm);
        let (seal, _) = Kem::derive_keypair(&*ikm);
        Self { office, sign, seal }
    }

    /// The office these keys belong to.
    pub fn office(&self) -> &Office {
        &self.office
    }

    /// Signs raw bytes with the office's Ed25519 key.
    pub fn sign_raw(&self, msg: &[u8]) -> [u8; 64] {
        self.sign.sign(msg).to_bytes()
    }

    /// The Ed25519 public key, without deriving the rest of [`OfficeKeys::public`].
    pub fn verifying_key(&self) -> VerifyingKey {
        self.sign.verifying_key()
    }

    /// The secret sealing key, for opening bodies.
    pub fn seal_secret(&self) -> &SealSecret {
        &self.seal
    }

    /// The public halves.
    pub fn public(&self) -> OfficePublic {
        OfficePublic {
            office: self.office.clone(),
            sign: b64::encode(self.sign.verifying_key().as_bytes()),
            seal: b64::encode(Kem::sk_to_pk(&self.seal).to_bytes()),
        }
    }

    /// Serialises the secrets (JSON); the caller stores it with mode 0600.
    pub fn to_secret_json(&self) -> Zeroizing<String> {
        let f = OfficeSecretFile {
            office: self.office.clone(),
            sign: b64::encode(self.sign.as_bytes()),
            seal: b64::encode(self.seal.to_bytes()),
        };
        Zeroizing::new(serde_json::to_string_pretty(&f).unwrap_or_default())
    }

    /// Reads secrets written by [`OfficeKeys::to_secret_json`].
    pub fn from_secret_json(text: &str) -> Result<Self, KeyError> {
        let f: OfficeSecretFile = serde_json::from_str(text)
            .map_err(|_| malformed("office secret", "not the expected JSON"))?;
        let sign = Zeroizing::new(
            b64::decode_array::<32>(&f.sign)
                .ok_or_else(|| malformed("office secret", "bad signing key"))?,
        );
        let seal = Zeroizing::new(
            b64::decode(&f.seal).ok_or_else(|| malformed("office secret", "bad sealing key"))?,
        );
        Ok(Self {
            office: f.office,
            sign: SigningKey::from_bytes(&sign),
            seal: SealSecret::from_bytes(&seal)
                .map_err(|_| malformed("office secret", "bad sealing key"))?,
        })
    }
}

impl OfficePublic {
    /// The Ed25519 verifying key.
    pub fn verifying_key(&self) -> Result<VerifyingKey, KeyError> {
        let b = b64::decode_array::<32>(&self.sign)
            .ok_or_else(|| malformed("office", "signing key is not 32 bytes"))?;
        VerifyingKey::from_bytes(&b)
            .map_err(|_| malformed("office", "signing key is not an Ed25519 point"))
    }

    #[cfg(feature = "seal")]
    /// The HPKE public key.
    pub fn seal_key(&self) -> Result<SealPublic, KeyError> {
        let b = b64::decode(&self.seal)
            .ok_or_else(|| malformed("office", "sealing key is not base64"))?;
        SealPublic::from_bytes(&b)
            .map_err(|_| malformed("office", "sealing key is not an X25519 key"))
    }
}

/// A party's public identity as exchanged out of band (`hotline keys export`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PartyIdentity {
    /// The party name.
    pub party: Party,
    /// Its log's verifier key (type 0x01); the key name is the log origin.
    pub log_key: String,
    /// Its cosigner key (type 0x04).
    pub witness_key: String,
    /// Its offices' public keys as of the export: a hint for sealing to an
    /// office before the mirror of its log holds the `key` entry that
    /// announced it. The log's `key` entries are authoritative.
    #[serde(default)]
    pub offices: Vec<OfficePublic>,
    /// Where its node listens for peers, if known (its one address, or
    /// the first of [`urls`](Self::urls)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Further addresses of the same node (its replicas), tried in turn
    /// after `url`; a peer file with several addresses lists them all here
    /// and leaves `url` out. See [`addresses`](Self::addresses).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    /// SHA-256 of its TLS public key (SubjectPublicKeyInfo), base64, for pinning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_pin: Option<String>,
}

impl PartyIdentity {
    /// Every address of its node, in the order they are tried: `url`, then
    /// `urls`. Not checked here (the node refuses duplicates, more than its
    /// limit, and anything that is not `https://HOST:PORT`).
    pub fn addresses(&self) -> Vec<&str> {
        self.url
            .iter()
            .chain(self.urls.iter())
            .map(String::as_str)
            .collect()
    }

    /// Sets its addresses: one is kept in `url` (the form every reader of a
    /// single address knows), several in `urls` in order, none clears both.
    pub fn set_addresses(&mut self, mut urls: Vec<String>) {
        if urls.len() == 1 {
            self.url = urls.pop();
            self.urls = vec![];
        } else {
            self.url = None;
            self.urls = urls;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_url_then_urls_and_one_address_stays_in_url() {
        let mut id: PartyIdentity = serde_json::from_str(
            r#"{"party":"ru","log_key":"k","witness_key":"w","url":"https://a:1"}"#,
        )
        .unwrap();
        assert_eq!(id.addresses(), ["https://a:1"]);
        id.set_addresses(vec!["https://a:1".into(), "https://b:2".into()]);
        assert_eq!(id.url, None);
        assert_eq!(id.addresses(), ["https://a:1", "https://b:2"]);
        let text = serde_json::to_string(&id).unwrap();
        assert!(
            text.contains(r#""urls":["https://a:1","https://b:2"]"#),
            "{text}"
        );
        id.set_addresses(vec!["https://c:3".into()]);
        assert_eq!(id.url.as_deref(), Some("https://c:3"));
        assert!(!serde_json::to_string(&id).unwrap().contains("urls"));
        id.set_addresses(vec![]);
        assert!(id.addresses().is_empty());
    }

    #[test]
    fn note_key_round_trips_and_matches_vkey() {
        let k = NoteKey::generate("hotline/us", ALG_ED25519, &mut os_rng()).unwrap();
        let k2 = NoteKey::from_skey(&k.to_skey()).unwrap();
        assert_eq!(k.verifier(), k2.verifier());
        let v = NoteVerifier::from_vkey(&k.verifier().to_vkey()).unwrap();
        assert_eq!(v, k.verifier());
        let sig = k.sign_raw(b"x");
        assert!(v.verify_raw(b"x", &sig));
        assert!(!v.verify_raw(b"y", &sig));
    }

    #[test]
    fn vkey_errors_say_what_is_wrong() {
        let k = NoteKey::generate("hotline/us", ALG_COSIGNATURE_V1, &mut os_rng()).unwrap();
        let vkey = k.verifier().to_vkey();
        let renamed = vkey.replacen("hotline/us", "hotline/ru", 1);
        assert!(matches!(
            NoteVerifier::from_vkey(&renamed),
            Err(KeyError::WrongId { .. })
        ));
        assert!(matches!(
            NoteVerifier::from_vkey("nope"),
            Err(KeyError::Malformed { .. })
        ));
    }

    #[test]
    fn office_keys_round_trip() {
        let k = OfficeKeys::generate(Office::new("us/fbi").unwrap(), &mut os_rng());
        let k2 = OfficeKeys::from_secret_json(&k.to_secret_json()).unwrap();
        assert_eq!(k.public(), k2.public());
        k.public().verifying_key().unwrap();
        k.public().seal_key().unwrap();
    }
}
