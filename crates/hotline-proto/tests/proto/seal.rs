//! Sealed bodies: HPKE-wrapped data keys to each recipient, one ChaCha20-
//! Poly1305 ciphertext, and the salted plaintext commitment.

use hotline_proto::b64;
use hotline_proto::keys::{OfficeKeys, os_rng};
use hotline_proto::seal::{self, SealError, Sealed};
use proptest::prelude::*;

use super::common::{flipped, office};

struct Pair {
    us: OfficeKeys,
    ru: OfficeKeys,
}

fn pair() -> Pair {
    Pair {
        us: OfficeKeys::generate(office("us/fbi"), &mut os_rng()),
        ru: OfficeKeys::generate(office("ru/fsb"), &mut os_rng()),
    }
}

/// Sealed to ru/fsb first, then to the sender us/fbi.
fn seal_both(p: &Pair, plaintext: &[u8]) -> Sealed {
    let (rup, usp) = (
        p.ru.public().seal_key().unwrap(),
        p.us.public().seal_key().unwrap(),
    );
    seal::seal(
        plaintext,
        &[(p.ru.office(), &rup), (p.us.office(), &usp)],
        &mut os_rng(),
    )
    .unwrap()
}

fn assert_round_trip(p: &Pair, plaintext: &[u8]) {
    let s = seal_both(p, plaintext);
    assert_eq!(
        s.commitment,
        seal::commitment(&s.salt, plaintext),
        "commitment of a {}-byte body",
        plaintext.len()
    );
    for k in [&p.ru, &p.us] {
        let o = seal::open(&s.bytes, k.office(), k.seal_secret()).unwrap();
        assert!(
            *o.plaintext == plaintext,
            "{} read back another plaintext",
            k.office()
        );
        assert_eq!(o.salt, s.salt);
        assert_eq!(seal::commitment(&o.salt, &o.plaintext), s.commitment);
    }
    // The commitment binds the plaintext and the salt.
    let mut other = plaintext.to_vec();
    other.push(0);
    assert_ne!(seal::commitment(&s.salt, &other), s.commitment);
    let mut salt = s.salt;
    salt[31] ^= 1;
    assert_ne!(seal::commitment(&salt, plaintext), s.commitment);
    assert_eq!(seal::sealed_hash(&s.bytes), sha256(&s.bytes));
}

fn sha256(b: &[u8]) -> [u8; 32] {
    <sha2::Sha256 as sha2::Digest>::digest(b).into()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn round_trip_random_sizes(plaintext in prop::collection::vec(any::<u8>(), 0..4096)) {
        assert_round_trip(&pair(), &plaintext);
    }
}

#[test]
fn round_trip_empty_and_one_mebibyte() {
    let p = pair();
    assert_round_trip(&p, b"");
    let big: Vec<u8> = (0..1u32 << 20).map(|i| (i * 7 + (i >> 9)) as u8).collect();
    assert_round_trip(&p, &big);
}

#[test]
fn sealing_is_randomised() {
    let p = pair();
    let (a, b) = (seal_both(&p, b"same"), seal_both(&p, b"same"));
    assert_ne!(a.bytes, b.bytes);
    assert_ne!(a.salt, b.salt);
    assert_ne!(
        a.commitment, b.commitment,
        "equal plaintexts must not be linkable"
    );
}

#[test]
fn sealed_form_is_canonical_json_naming_the_suite() {
    let p = pair();
    let s = seal_both(&p, b"x");
    let v: serde_json::Value = serde_json::from_slice(&s.bytes).unwrap();
    assert_eq!(serde_jcs::to_vec(&v).unwrap(), s.bytes);
    assert_eq!(v["v"], 1);
    assert_eq!(v["suite"], seal::SUITE);
    let offices: Vec<&str> = v["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["office"].as_str().unwrap())
        .collect();
    assert_eq!(offices, ["ru/fsb", "us/fbi"]);
    // Nothing of the plaintext shows, not even its base64.
    let s = seal_both(&p, b"a secret that must not appear in clear");
    let text = String::from_utf8(s.bytes).unwrap();
    assert!(!text.contains("secret"));
    assert!(!text.contains(&b64::encode(b"a secret that must not appear")[..20]));
}

#[test]
fn wrong_recipients_are_refused() {
    let p = pair();
    let s = seal_both(&p, b"for ru/fsb and us/fbi only");
    let third = OfficeKeys::generate(office("ua/sbu"), &mut os_rng());
    let e = seal::open(&s.bytes, third.office(), third.seal_secret())
        .err()
        .unwrap();
    assert!(
        matches!(e, SealError::NotARecipient(ref o) if o == "ua/sbu"),
        "{e}"
    );
    assert!(e.to_string().contains("not sealed to ua/sbu"), "{e}");
    // A listed office with another office's secret.
    for (name, secret) in [
        (p.ru.office(), p.us.seal_secret()),
        (p.us.office(), p.ru.seal_secret()),
        (p.ru.office(), third.seal_secret()),
    ] {
        assert!(
            matches!(seal::open(&s.bytes, name, secret), Err(SealError::Decrypt)),
            "{name} opened with a wrong key"
        );
    }
    // A recipient entry relabelled to another office does not open for that
    // office's holder even with the right secret: the office name is bound.
    let relabelled = String::from_utf8(s.bytes.clone())
        .unwrap()
        .replace("\"office\":\"ru/fsb\"", "\"office\":\"ua/sbu\"");
    assert!(matches!(
        seal::open(relabelled.as_bytes(), &office("ua/sbu"), p.ru.seal_secret()),
        Err(SealError::Decrypt)
    ));
}

#[test]
fn every_changed_ciphertext_byte_is_refused() {
    let p = pair();
    let s = seal_both(&p, b"an inquiry about the incident of 1 July");
    let v: serde_json::Value = serde_json::from_slice(&s.bytes).unwrap();
    let ct = b64::decode(v["ct"].as_str().unwrap()).unwrap();
    assert_eq!(ct.len(), 32 + 39 + 16, "salt, plaintext, tag");
    for at in 0..ct.len() {
        for mask in [0x01, 0x80, 0xff] {
            let mut w = v.clone();
            w["ct"] = b64::encode(flipped(&ct, at, mask)).into();
            let bad = serde_jcs::to_vec(&w).unwrap();
            assert!(
                matches!(
                    seal::open(&bad, p.ru.office(), p.ru.seal_secret()),
                    Err(SealError::Decrypt)
                ),
                "ciphertext byte {at} ^ {mask:#x} was accepted"
            );
        }
    }
    // Truncated and extended ciphertexts too.
    for bad_ct in [
        &ct[..ct.len() - 1],
        &ct[..16],
        &[][..],
        &[ct.clone(), vec![0]].concat()[..],
    ] {
        let mut w = v.clone();
        w["ct"] = b64::encode(bad_ct).into();
        assert!(
            seal::open(
                &serde_jcs::to_vec(&w).unwrap(),
                p.ru.office(),
                p.ru.seal_secret()
            )
            .is_err()
        );
    }
}

#[test]
fn sampled_changes_to_a_one_mebibyte_ciphertext_are_refused() {
    let p = pair();
    let big = vec![0x5au8; 1 << 20];
    let s = seal_both(&p, &big);
    let v: serde_json::Value = serde_json::from_slice(&s.bytes).unwrap();
    let ct = b64::decode(v["ct"].as_str().unwrap()).unwrap();
    for at in [
        0,
        31,
        32,
        4096,
        ct.len() / 2,
        ct.len() - 17,
        ct.len() - 16,
        ct.len() - 1,
    ] {
        let mut w = v.clone();
        w["ct"] = b64::encode(flipped(&ct, at, 0x01)).into();
        assert!(
            matches!(
                seal::open(
                    &serde_jcs::to_vec(&w).unwrap(),
                    p.us.office(),
                    p.us.seal_secret()
                ),
                Err(SealError::Decrypt)
            ),
            "byte {at} of a 1 MiB ciphertext"
        );
    }
}

/// Every byte of the sealed JSON flipped: ru/fsb can never open an altered
/// body, except when the flip lands in the other recipient's record (which
/// ru/fsb does not read); even then the body's hash, which the entry header
/// commits to, changes.
#[test]
fn every_changed_byte_of_the_sealed_json_is_refused_or_outside_our_record() {
    let p = pair();
    let plaintext = b"x".repeat(40);
    let s = seal_both(&p, &plaintext);
    let text = std::str::from_utf8(&s.bytes).unwrap();
    // JCS order: "ct", then "recipients" [ru/fsb, us/fbi], "suite", "v".
    let records: Vec<usize> = text.match_indices("{\"dek\":").map(|(i, _)| i).collect();
    assert_eq!(records.len(), 2, "{text}");
    let other = records[1]..records[1] + text[records[1]..].find('}').unwrap() + 1;
    assert!(text[other.clone()].contains("us/fbi"));
    let mut opened_anyway = 0;
    for at in 0..s.bytes.len() {
        let bad = flipped(&s.bytes, at, 0x01);
        assert_ne!(seal::sealed_hash(&bad), seal::sealed_hash(&s.bytes));
        if let Ok(o) = seal::open(&bad, p.ru.office(), p.ru.seal_secret()) {
            assert!(
                other.contains(&at),
                "flip at byte {at} ({:?}) outside us/fbi's record still opened",
                &text[at.saturating_sub(10)..(at + 10).min(text.len())]
            );
            assert!(*o.plaintext == plaintext[..]);
            opened_anyway += 1;
        }
    }
    // The other record's flips that leave a valid office name or key text.
    assert!(opened_anyway < other.len());
}

#[test]
fn malformed_bodies_say_so() {
    let p = pair();
    let s = seal_both(&p, b"x");
    let cases = [
        (
            String::from_utf8(s.bytes.clone())
                .unwrap()
                .replace("\"v\":1", "\"v\":2"),
            "unsupported version 2",
        ),
        (
            String::from_utf8(s.bytes.clone())
                .unwrap()
                .replace("chacha20poly1305\"", "aes\""),
            "suite",
        ),
        ("{}".to_owned(), "malformed sealed body"),
        ("not json".to_owned(), "malformed sealed body"),
        (
            String::from_utf8(s.bytes.clone()).unwrap().replacen(
                "{\"ct\"",
                "{\"extra\":1,\"ct\"",
                1,
            ),
            "unknown field",
        ),
    ];
    for (bad, says) in cases {
        let e = seal::open(bad.as_bytes(), p.ru.office(), p.ru.seal_secret())
            .err()
            .unwrap_or_else(|| panic!("{bad} opened"));
        assert!(matches!(e, SealError::Malformed(_)), "{e}");
        assert!(e.to_string().contains(says), "{e:?} should say {says:?}");
    }
}
