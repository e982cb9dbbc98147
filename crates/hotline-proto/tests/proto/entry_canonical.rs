//! Entries: the leaf is the RFC 8785 (JCS) form of `{"header":…,"sig":…}`,
//! the signature covers `"hotline/entry/v1\0" ‖ JCS(header)`, and one signed
//! entry has exactly one leaf — every other spelling is refused.

use ed25519_dalek::Verifier as _;
use hotline_proto::entry::{
    BodyCommitment, EntryError, Header, KeyAction, Kind, MAX_LEAF_BYTES, Ref, SIGNATURE_DOMAIN,
    SignedEntry, text_digest,
};
use hotline_proto::keys::{OfficeKeys, os_rng};
use hotline_proto::{b64, tree};
use proptest::prelude::*;
use serde_json::Value;

use super::common::{Log, header, office};

fn fbi() -> OfficeKeys {
    OfficeKeys::generate(office("us/fbi"), &mut os_rng())
}

fn jcs_of_parsed(leaf: &[u8]) -> Vec<u8> {
    let v: Value = serde_json::from_slice(leaf).unwrap();
    serde_jcs::to_vec(&v).unwrap()
}

fn text(e: &SignedEntry) -> String {
    String::from_utf8(e.leaf().to_vec()).unwrap()
}

/// Checks everything a third party would recompute from the leaf alone.
fn assert_leaf_is_canonical(e: &SignedEntry, k: &OfficeKeys) {
    let leaf = e.leaf();
    assert_eq!(jcs_of_parsed(leaf), leaf, "leaf is not its own JCS form");
    let v: Value = serde_json::from_slice(leaf).unwrap();
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["header", "sig"]);
    // The signature is over domain ‖ JCS(header as it appears in the leaf).
    let mut msg = SIGNATURE_DOMAIN.to_vec();
    msg.extend(serde_jcs::to_vec(&v["header"]).unwrap());
    assert_eq!(msg, e.header().signing_message().unwrap());
    let sig = b64::decode_array::<64>(v["sig"].as_str().unwrap()).unwrap();
    k.public()
        .verifying_key()
        .unwrap()
        .verify(&msg, &ed25519_dalek::Signature::from_bytes(&sig))
        .unwrap();
    // Leaf hash: SHA-256(0x00 ‖ leaf).
    let mut pre = vec![0u8];
    pre.extend_from_slice(leaf);
    let expect: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(&pre).into();
    assert_eq!(e.leaf_hash().0, expect);
    assert_eq!(tree::leaf_hash(leaf).0, expect);
    // And it parses back to the same entry, which verifies.
    let parsed = SignedEntry::from_leaf(leaf).unwrap();
    assert_eq!(&parsed, e);
    parsed.verify(&k.public().verifying_key().unwrap()).unwrap();
}

fn full_header(i: u64) -> Header {
    let mut h = header(Kind::Answer, "us/fbi", Some("ru/fsb"), i);
    h.agreement = Some("us-ru/cyber-2021".into());
    h.refs = vec![Ref {
        log: "ru".parse().unwrap(),
        index: 17,
        leaf_hash: b64::encode([7u8; 32]),
    }];
    h.prev = Some(3);
    h.body = Some(BodyCommitment {
        sealed: b64::encode([1u8; 32]),
        size: 1234,
        commitment: b64::encode([2u8; 32]),
    });
    h.status = Some("accepted".into());
    h
}

#[test]
fn leaves_of_every_shape_are_their_own_jcs_form() {
    let k = fbi();
    for kind in Kind::ALL {
        let mut h = header(kind, "us/fbi", Some("ru/fsb"), 0);
        if matches!(kind, Kind::Statement | Kind::Endorsement) {
            h.digest = Some(text_digest("A joint text."));
        }
        let e = SignedEntry::sign(h, |m| k.sign_raw(m)).unwrap();
        assert_leaf_is_canonical(&e, &k);
        assert!(text(&e).contains(&format!("\"kind\":\"{}\"", kind.as_str())));
    }
    let e = SignedEntry::sign(full_header(9), |m| k.sign_raw(m)).unwrap();
    assert_leaf_is_canonical(&e, &k);
    let t = text(&e);
    assert!(
        t.starts_with(r#"{"header":{"agreement":"us-ru/cyber-2021","body":{"commitment":""#),
        "{t}"
    );
    assert!(
        t.contains(r#""prev":3,"refs":[{"index":17,"leaf_hash":""#),
        "{t}"
    );
    // A key entry, flattened announcement included.
    let log = Log::new();
    let key = log.key_entry(k.public(), KeyAction::Announce);
    let t = text(&key);
    assert!(
        t.contains(r#""key":{"action":"announce","office":"us/fbi","seal":""#),
        "{t}"
    );
    assert_eq!(jcs_of_parsed(key.leaf()), key.leaf());
    assert_eq!(SignedEntry::from_leaf(key.leaf()).unwrap(), key);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Arbitrary Unicode in free-text fields (controls, quotes, backslashes,
    /// astral planes) and numbers up to 2^53 keep the leaf canonical.
    #[test]
    fn arbitrary_text_and_numbers_stay_canonical(
        agreement in any::<String>(),
        status in "[\\x00-\\x7f\u{80}-\u{ffff}\u{10000}-\u{10ffff}]{0,24}",
        prev in proptest::option::of(0u64..(1 << 53)),
        index in 0u64..(1 << 53),
        secs in 0i64..4_000_000_000,
    ) {
        let k = fbi();
        let mut h = full_header(0);
        h.agreement = Some(agreement);
        h.status = Some(status);
        h.prev = prev;
        h.refs[0].index = index;
        h.time = jiff::Timestamp::from_second(secs).unwrap();
        let e = SignedEntry::sign(h, |m| k.sign_raw(m)).unwrap();
        assert_leaf_is_canonical(&e, &k);
    }
}

fn expect_not_canonical(bad: &str, what: &str) {
    match SignedEntry::from_leaf(bad.as_bytes()) {
        Err(EntryError::NotCanonical) => {}
        other => panic!("{what}: expected NotCanonical, got {other:?} for {bad}"),
    }
}

#[test]
fn reordered_keys_are_refused() {
    let k = fbi();
    let e = SignedEntry::sign(full_header(1), |m| k.sign_raw(m)).unwrap();
    let v: Value = serde_json::from_slice(e.leaf()).unwrap();
    let header = serde_jcs::to_string(&v["header"]).unwrap();
    let sig = serde_jcs::to_string(&v["sig"]).unwrap();
    expect_not_canonical(
        &format!("{{\"sig\":{sig},\"header\":{header}}}"),
        "sig first",
    );
    let t = text(&e);
    let swapped = t.replacen(
        r#""from":"us/fbi","kind":"answer""#,
        r#""kind":"answer","from":"us/fbi""#,
        1,
    );
    assert_ne!(swapped, t);
    expect_not_canonical(&swapped, "header keys swapped");
    let body = t.replacen(r#""size":1234"#, "", 1).replacen(
        r#"{"commitment""#,
        r#"{"size":1234,"commitment""#,
        1,
    );
    expect_not_canonical(&body.replacen(",}", "}", 1), "nested keys swapped");
}

#[test]
fn extra_whitespace_and_other_spellings_are_refused() {
    let k = fbi();
    let e = SignedEntry::sign(full_header(2), |m| k.sign_raw(m)).unwrap();
    let t = text(&e);
    let v: Value = serde_json::from_slice(e.leaf()).unwrap();
    for (bad, what) in [
        (format!(" {t}"), "leading space"),
        (format!("{t}\n"), "trailing newline"),
        (t.replacen(':', ": ", 1), "space after a colon"),
        (t.replacen(',', ", ", 1), "space after a comma"),
        (t.replacen('{', "{\n", 1), "newline"),
        (t.replacen('{', "{\t", 1), "tab"),
        (serde_json::to_string_pretty(&v).unwrap(), "pretty-printed"),
        (t.replacen("us/fbi", "us\\/fbi", 1), "escaped solidus"),
        (
            t.replacen("\"us/fbi\"", "\"\\u0075s/fbi\"", 1),
            "unicode escape",
        ),
        (t.replacen("\"v\":1", "\"v\":1.0", 1), "1.0 for 1"),
        (t.replacen("\"v\":1", "\"v\":1e0", 1), "1e0 for 1"),
        (t.replacen("\"size\":1234", "\"size\":1234.0", 1), "1234.0"),
        (
            t.replacen("\"v\":1}", "\"v\":1,\"v\":1}", 1),
            "duplicate header key",
        ),
    ] {
        assert_ne!(bad, t, "{what}: the edit did not apply");
        expect_not_canonical(&bad, what);
    }
    // A duplicated top-level field is refused too (as malformed).
    let dup = t.replacen(
        "{\"header\":",
        &format!("{{\"header\":{},\"header\":", v["header"]),
        1,
    );
    assert!(SignedEntry::from_leaf(dup.as_bytes()).is_err());
}

/// The same signed header written differently — a default spelled out or
/// left out, the time in another RFC 3339 form — would be another leaf (and
/// leaf hash) carrying the same valid signature. Each must be refused.
#[test]
fn equivalent_spellings_of_a_signed_header_are_refused() {
    let k = fbi();
    let e = SignedEntry::sign(header(Kind::Message, "us/fbi", Some("ru/fsb"), 0), |m| {
        k.sign_raw(m)
    })
    .unwrap();
    let t = text(&e);
    assert!(
        t.contains(r#""prev":null,"#) && t.contains(r#""time":"2021-07-01T12:00:00Z""#),
        "{t}"
    );
    let variants = [
        (t.replacen(r#""prev":null,"#, "", 1), "prev left out"),
        (
            t.replacen(r#""prev":null,"#, r#""prev":null,"refs":[],"#, 1),
            "empty refs spelled out",
        ),
        (
            t.replacen(r#""from":"us/fbi","#, r#""body":null,"from":"us/fbi","#, 1),
            "null body",
        ),
        (
            t.replacen(
                r#""2021-07-01T12:00:00Z""#,
                r#""2021-07-01T12:00:00+00:00""#,
                1,
            ),
            "+00:00",
        ),
        (
            t.replacen(
                r#""2021-07-01T12:00:00Z""#,
                r#""2021-07-01T12:00:00.000Z""#,
                1,
            ),
            "fraction",
        ),
        (
            t.replacen(
                r#""2021-07-01T12:00:00Z""#,
                r#""2021-07-01T14:00:00+02:00""#,
                1,
            ),
            "+02:00",
        ),
    ];
    for (bad, what) in variants {
        assert_ne!(bad, t, "{what}: the edit did not apply");
        // Still valid JCS on its own…
        let v: Value = serde_json::from_str(&bad).unwrap();
        assert_eq!(
            serde_jcs::to_string(&v).unwrap(),
            bad,
            "{what}: test edit is not JCS"
        );
        // …but not the canonical leaf of the signed header.
        match SignedEntry::from_leaf(bad.as_bytes()) {
            Err(EntryError::NotCanonical | EntryError::Malformed(_)) => {}
            Ok(parsed) => panic!(
                "{what}: a second leaf for one signed entry was accepted (signature {})",
                if parsed.verify(&k.public().verifying_key().unwrap()).is_ok() {
                    "verifies"
                } else {
                    "fails"
                }
            ),
            Err(other) => panic!("{what}: {other}"),
        }
    }
    // A key entry whose announcement carries an extra field.
    let log = Log::new();
    let key = log.key_entry(k.public(), KeyAction::Announce);
    let t = text(&key);
    let extra = t.replacen(
        r#""key":{"action":"announce","#,
        r#""key":{"action":"announce","extra":"x","#,
        1,
    );
    assert_ne!(extra, t);
    assert!(
        SignedEntry::from_leaf(extra.as_bytes()).is_err(),
        "extra field in key announcement accepted"
    );
}

#[test]
fn malformed_leaves_say_what_is_wrong() {
    let k = fbi();
    let e = SignedEntry::sign(full_header(3), |m| k.sign_raw(m)).unwrap();
    let t = text(&e);

    let unknown = t.replacen(r#""v":1}"#, r#""v":1,"zz":1}"#, 1);
    assert!(
        matches!(SignedEntry::from_leaf(unknown.as_bytes()), Err(EntryError::Malformed(m)) if m.contains("zz"))
    );
    let top = format!("{}{}", &t[..t.len() - 1], r#","zz":1}"#);
    assert!(matches!(
        SignedEntry::from_leaf(top.as_bytes()),
        Err(EntryError::Malformed(_))
    ));
    let v2 = t.replacen(r#""v":1}"#, r#""v":2}"#, 1);
    let err = SignedEntry::from_leaf(v2.as_bytes()).unwrap_err();
    assert!(matches!(err, EntryError::Version(2)), "{err}");
    assert!(
        err.to_string().contains("version 2 is not supported"),
        "{err}"
    );
    let kind = t.replacen(r#""kind":"answer""#, r#""kind":"gossip""#, 1);
    assert!(matches!(
        SignedEntry::from_leaf(kind.as_bytes()),
        Err(EntryError::Malformed(_))
    ));
    let from = t.replacen(r#""to":"ru/fsb""#, r#""to":"RU/fsb""#, 1);
    assert!(
        matches!(SignedEntry::from_leaf(from.as_bytes()), Err(EntryError::Malformed(m)) if m.contains("office"))
    );
    let v: Value = serde_json::from_str(&t).unwrap();
    let short_sig = t.replacen(v["sig"].as_str().unwrap(), &b64::encode([0u8; 63]), 1);
    assert!(
        matches!(SignedEntry::from_leaf(short_sig.as_bytes()), Err(EntryError::Malformed(m)) if m.contains("sig"))
    );
    assert!(matches!(
        SignedEntry::from_leaf(b"\xff"),
        Err(EntryError::Malformed(_))
    ));
    assert!(matches!(
        SignedEntry::from_leaf(b""),
        Err(EntryError::Malformed(_))
    ));
    let big = vec![b' '; MAX_LEAF_BYTES + 1];
    let err = SignedEntry::from_leaf(&big).unwrap_err();
    assert!(
        matches!(err, EntryError::TooLarge { size } if size == MAX_LEAF_BYTES + 1),
        "{err}"
    );
}

#[test]
fn any_changed_header_field_breaks_the_signature() {
    let k = fbi();
    let e = SignedEntry::sign(full_header(4), |m| k.sign_raw(m)).unwrap();
    let t = text(&e);
    let vk = k.public().verifying_key().unwrap();
    for (from, to) in [
        (r#""to":"ru/fsb""#, r#""to":"ru/svr""#),
        (r#""kind":"answer""#, r#""kind":"inquiry""#),
        (r#""prev":3"#, r#""prev":4"#),
        (r#""index":17"#, r#""index":18"#),
        (r#""size":1234"#, r#""size":1235"#),
        (r#""status":"accepted""#, r#""status":"refused""#),
        (
            r#""time":"2021-07-01T12:00:04Z""#,
            r#""time":"2021-07-01T12:00:05Z""#,
        ),
    ] {
        let bad = t.replacen(from, to, 1);
        assert_ne!(bad, t, "{from}");
        let parsed = SignedEntry::from_leaf(bad.as_bytes()).unwrap();
        let err = parsed.verify(&vk).unwrap_err();
        assert!(
            err.to_string()
                .contains("signature of us/fbi does not verify"),
            "{err}"
        );
    }
}

#[test]
fn a_digest_belongs_to_statements_and_endorsements_only() {
    let k = fbi();
    // The digest is the base64 SHA-256 of the text's exact UTF-8 bytes.
    assert_eq!(
        text_digest("abc"),
        "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
    );
    let mut h = header(Kind::Statement, "us/fbi", Some("ru/fsb"), 0);
    h.digest = Some(text_digest("A joint text."));
    let e = SignedEntry::sign(h.clone(), |m| k.sign_raw(m)).unwrap();
    assert_leaf_is_canonical(&e, &k);
    assert!(text(&e).contains(&format!("\"digest\":\"{}\"", text_digest("A joint text."))));

    // Signing refuses a digest on another kind, a statement without one,
    // and a digest that is not a hash.
    let mut m = header(Kind::Message, "us/fbi", Some("ru/fsb"), 0);
    m.digest = Some(text_digest("x"));
    let err = SignedEntry::sign(m, |m| k.sign_raw(m)).unwrap_err();
    assert!(
        err.to_string().contains("message entry carries no digest"),
        "{err}"
    );
    let mut bare = h.clone();
    bare.digest = None;
    let err = SignedEntry::sign(bare, |m| k.sign_raw(m)).unwrap_err();
    assert!(err.to_string().contains("must carry the digest"), "{err}");
    let mut short = h.clone();
    short.digest = Some(b64::encode([1u8; 31]));
    assert!(SignedEntry::sign(short, |m| k.sign_raw(m)).is_err());

    // Parsing refuses the same, even when the signature would verify: a
    // message leaf with a digest added, and a statement leaf without one.
    let msg = SignedEntry::sign(header(Kind::Message, "us/fbi", Some("ru/fsb"), 0), |m| {
        k.sign_raw(m)
    })
    .unwrap();
    let with = text(&msg).replacen(
        "{\"header\":{",
        &format!("{{\"header\":{{\"digest\":\"{}\",", text_digest("x")),
        1,
    );
    assert!(
        matches!(SignedEntry::from_leaf(with.as_bytes()), Err(EntryError::Malformed(m)) if m.contains("no digest")),
        "{with}"
    );
    let without = text(&e).replacen(
        &format!("\"digest\":\"{}\",", text_digest("A joint text.")),
        "",
        1,
    );
    assert_ne!(without, text(&e));
    assert!(matches!(
        SignedEntry::from_leaf(without.as_bytes()),
        Err(EntryError::Malformed(m)) if m.contains("must carry the digest")
    ));
}
