//! Sealed bodies and plaintext commitments.
//!
//! A body is encrypted once under a fresh 32-byte data key with
//! ChaCha20-Poly1305 (RFC 8439), and the data key is sealed with HPKE (RFC
//! 9180, base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
//! ChaCha20-Poly1305) to each recipient: the counterpart office and the
//! sender's own office, so that either can read it later and a witness or a
//! backup holds ciphertext only. The data key is used for exactly one
//! message, so the all-zero nonce is safe.
//!
//! The sealed form is canonical JSON:
//!
//! ```text
//! {"ct":"…","recipients":[{"dek":"…","enc":"…","office":"ru/fsb"},…],"suite":"…","v":1}
//! ```
//!
//! The plaintext inside starts with a 32-byte random salt; the header carries
//! `SHA-256("hotline/commit/v1" ‖ 0x00 ‖ salt ‖ plaintext)`. Revealing the salt
//! and plaintext of one entry (an *opening*) proves its content to a third
//! party without revealing any other entry.

#[cfg(feature = "seal")]
use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
#[cfg(feature = "seal")]
use hpke::{Deserializable as _, OpModeR, OpModeS, Serializable as _};
#[cfg(feature = "seal")]
use rand_core::CryptoRng;
#[cfg(feature = "seal")]
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
#[cfg(feature = "seal")]
use zeroize::Zeroizing;

#[cfg(feature = "seal")]
use crate::b64;
#[cfg(feature = "seal")]
use crate::keys::{Kem, SealPublic, SealSecret};
#[cfg(feature = "seal")]
use crate::party::Office;

/// The HPKE suite, named in every sealed body so a reader knows what to expect.
#[cfg(feature = "seal")]
pub const SUITE: &str = "hpke-base/x25519-hkdf-sha256/hkdf-sha256/chacha20poly1305";
#[cfg(feature = "seal")]
const INFO: &[u8] = b"hotline/seal/v1 data key";
#[cfg(feature = "seal")]
const BODY_AAD: &[u8] = b"hotline/seal/v1 body";
const COMMIT_DOMAIN: &[u8] = b"hotline/commit/v1\0";
#[cfg(feature = "seal")]
type Aead = hpke::aead::ChaCha20Poly1305;
#[cfg(feature = "seal")]
type Kdf = hpke::kdf::HkdfSha256;

/// Why a body could not be sealed or opened.
#[cfg(feature = "seal")]
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The sealed bytes are not the expected JSON.
    #[error("malformed sealed body: {0}")]
    Malformed(String),
    /// The body is not sealed to this office.
    #[error("this body is not sealed to {0}")]
    NotARecipient(String),
    /// Decryption failed: wrong key, or the ciphertext was altered.
    #[error("cannot open the sealed body: wrong key or altered ciphertext")]
    Decrypt,
    /// Encryption failed (should not happen with valid keys).
    #[error("sealing failed")]
    Encrypt,
}

#[cfg(feature = "seal")]
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Recipient {
    office: Office,
    enc: String,
    dek: String,
}

#[cfg(feature = "seal")]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SealedJson {
    v: u32,
    suite: String,
    recipients: Vec<Recipient>,
    ct: String,
}

/// The result of sealing: the bytes to deliver and what the header commits to.
#[cfg(feature = "seal")]
pub struct Sealed {
    /// The sealed body as delivered.
    pub bytes: Vec<u8>,
    /// The salt mixed into the commitment (also inside the ciphertext).
    pub salt: [u8; 32],
    /// The salted plaintext commitment.
    pub commitment: [u8; 32],
}

/// An opened body.
#[cfg(feature = "seal")]
pub struct Opened {
    /// The salt from inside the ciphertext.
    pub salt: [u8; 32],
    /// The plaintext.
    pub plaintext: Zeroizing<Vec<u8>>,
}

/// `SHA-256("hotline/commit/v1" ‖ 0x00 ‖ salt ‖ plaintext)`.
pub fn commitment(salt: &[u8; 32], plaintext: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(COMMIT_DOMAIN);
    h.update(salt);
    h.update(plaintext);
    h.finalize().into()
}

/// SHA-256 of sealed bytes, as the header's `body.sealed` carries it.
pub fn sealed_hash(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Seals `plaintext` to each `(office, key)` in `recipients`.
#[cfg(feature = "seal")]
pub fn seal(
    plaintext: &[u8],
    recipients: &[(&Office, &SealPublic)],
    rng: &mut impl CryptoRng,
) -> Result<Sealed, SealError> {
    let mut salt = [0u8; 32];
    rng.fill_bytes(&mut salt);
    let mut dek = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(&mut *dek);
    let mut inner = Zeroizing::new(Vec::with_capacity(32 + plaintext.len()));
    inner.extend_from_slice(&salt);
    inner.extend_from_slice(plaintext);
    let cipher = chacha20poly1305::ChaCha20Poly1305::new((&*dek).into());
    let ct = cipher
        .encrypt(
            &[0u8; 12].into(),
            Payload {
                msg: &inner,
                aad: BODY_AAD,
            },
        )
        .map_err(|_| SealError::Encrypt)?;
    let mut out = Vec::with_capacity(recipients.len());
    for (office, pk) in recipients {
        let (enc, wrapped) = hpke::single_shot_seal::<Aead, Kdf, Kem, _>(
            &OpModeS::Base,
            pk,
            INFO,
            &*dek,
            office.as_str().as_bytes(),
            rng,
        )
        .map_err(|_| SealError::Encrypt)?;
        out.push(Recipient {
            office: (*office).clone(),
            enc: b64::encode(enc.to_bytes()),
            dek: b64::encode(wrapped),
        });
    }
    let head = serde_json::json!({"v": 1, "suite": SUITE, "recipients": out});
    Ok(Sealed {
        bytes: body_bytes(&ct, &head)?,
        salt,
        commitment: commitment(&salt, plaintext),
    })
}

/// The body's canonical JSON: `{"ct":"…",` then the rest of `head`, whose
/// keys (`recipients`, `suite`, `v`) all sort after `ct`. The ciphertext,
/// the bulk of the body, is base64-encoded straight into the output: as a
/// JSON string it would be allocated, then scanned for characters to
/// escape (base64 has none) and copied again: a quarter of the sealing.
#[cfg(feature = "seal")]
fn body_bytes(ct: &[u8], head: &serde_json::Value) -> Result<Vec<u8>, SealError> {
    let rest = crate::canonical::to_vec(head).map_err(|e| SealError::Malformed(e.to_string()))?;
    let mut bytes = Vec::with_capacity(ct.len() / 3 * 4 + rest.len() + 16);
    bytes.extend_from_slice(b"{\"ct\":\"");
    b64::encode_into(ct, &mut bytes);
    bytes.extend_from_slice(b"\",");
    bytes.extend_from_slice(&rest[1..]);
    Ok(bytes)
}

/// Opens a sealed body as `office` with its secret sealing key.
#[cfg(feature = "seal")]
pub fn open(sealed: &[u8], office: &Office, secret: &SealSecret) -> Result<Opened, SealError> {
    let json: SealedJson =
        serde_json::from_slice(sealed).map_err(|e| SealError::Malformed(e.to_string()))?;
    if json.v != 1 || json.suite != SUITE {
        return Err(SealError::Malformed(format!(
            "unsupported version {} or suite {}",
            json.v, json.suite
        )));
    }
    let r = json
        .recipients
        .iter()
        .find(|r| &r.office == office)
        .ok_or_else(|| SealError::NotARecipient(office.to_string()))?;
    let enc = b64::decode(&r.enc)
        .and_then(|b| <Kem as hpke::Kem>::EncappedKey::from_bytes(&b).ok())
        .ok_or_else(|| SealError::Malformed("bad encapsulated key".into()))?;
    let wrapped =
        b64::decode(&r.dek).ok_or_else(|| SealError::Malformed("bad wrapped key".into()))?;
    let dek = Zeroizing::new(
        hpke::single_shot_open::<Aead, Kdf, Kem>(
            &OpModeR::Base,
            secret,
            &enc,
            INFO,
            &wrapped,
            office.as_str().as_bytes(),
        )
        .map_err(|_| SealError::Decrypt)?,
    );
    if dek.len() != 32 {
        return Err(SealError::Decrypt);
    }
    let ct = b64::decode(&json.ct).ok_or_else(|| SealError::Malformed("bad ciphertext".into()))?;
    let cipher = chacha20poly1305::ChaCha20Poly1305::new(dek.as_slice().into());
    let inner = Zeroizing::new(
        cipher
            .decrypt(
                &[0u8; 12].into(),
                Payload {
                    msg: &ct,
                    aad: BODY_AAD,
                },
            )
            .map_err(|_| SealError::Decrypt)?,
    );
    if inner.len() < 32 {
        return Err(SealError::Decrypt);
    }
    let mut salt = [0u8; 32];
    salt.copy_from_slice(&inner[..32]);
    Ok(Opened {
        salt,
        plaintext: Zeroizing::new(inner[32..].to_vec()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{OfficeKeys, os_rng};

    #[test]
    fn seal_open_round_trip_for_both_recipients() {
        let mut rng = os_rng();
        let us = OfficeKeys::generate(Office::new("us/fbi").unwrap(), &mut rng);
        let ru = OfficeKeys::generate(Office::new("ru/fsb").unwrap(), &mut rng);
        let (usp, rup) = (
            us.public().seal_key().unwrap(),
            ru.public().seal_key().unwrap(),
        );
        let s = seal(
            b"ransomware inquiry",
            &[(ru.office(), &rup), (us.office(), &usp)],
            &mut rng,
        )
        .unwrap();
        for k in [&us, &ru] {
            let o = open(&s.bytes, k.office(), k.seal_secret()).unwrap();
            assert_eq!(&*o.plaintext, b"ransomware inquiry");
            assert_eq!(commitment(&o.salt, &o.plaintext), s.commitment);
        }
        let third = OfficeKeys::generate(Office::new("ua/sbu").unwrap(), &mut rng);
        assert!(matches!(
            open(&s.bytes, third.office(), third.seal_secret()),
            Err(SealError::NotARecipient(_))
        ));
        // A recipient entry copied under another name does not open with that name's key.
        assert!(matches!(
            open(&s.bytes, ru.office(), us.seal_secret()),
            Err(SealError::Decrypt)
        ));
    }

    #[test]
    fn a_body_is_its_own_canonical_form() {
        // Written by hand around the ciphertext, the body must still be
        // exactly what the canonical writer makes of it, whatever the
        // ciphertext's length modulo 3 (base64's padding).
        let mut rng = os_rng();
        let ru = OfficeKeys::generate(Office::new("ru/fsb").unwrap(), &mut rng);
        let rup = ru.public().seal_key().unwrap();
        for len in [0, 1, 2, 3, 100_000] {
            let s = seal(&vec![b'x'; len], &[(ru.office(), &rup)], &mut rng).unwrap();
            let v: serde_json::Value = serde_json::from_slice(&s.bytes).unwrap();
            assert_eq!(
                crate::canonical::to_vec(&v).unwrap(),
                s.bytes,
                "plaintext of {len}"
            );
            assert_eq!(v["v"], 1);
            assert_eq!(v["suite"], SUITE);
            let o = open(&s.bytes, ru.office(), ru.seal_secret()).unwrap();
            assert_eq!(o.plaintext.len(), len);
        }
    }

    #[test]
    fn altered_ciphertext_is_refused() {
        let mut rng = os_rng();
        let ru = OfficeKeys::generate(Office::new("ru/fsb").unwrap(), &mut rng);
        let rup = ru.public().seal_key().unwrap();
        let s = seal(b"x", &[(ru.office(), &rup)], &mut rng).unwrap();
        let mut json: serde_json::Value = serde_json::from_slice(&s.bytes).unwrap();
        let mut ct = b64::decode(json["ct"].as_str().unwrap()).unwrap();
        ct[0] ^= 1;
        json["ct"] = b64::encode(ct).into();
        let bad = serde_json::to_vec(&json).unwrap();
        assert!(matches!(
            open(&bad, ru.office(), ru.seal_secret()),
            Err(SealError::Decrypt)
        ));
    }
}
