//! Absurd bundles are refused while they are parsed, before anything is
//! collected for them: proofs longer than any 64-bit tree has, lists of
//! strings shorter than anything the format holds, parts over their size,
//! fields nobody asked for. Each refusal names the part and the limit, and
//! comes fast.

use std::time::{Duration, Instant};

use hotline_proto::b64;
use hotline_proto::bundle::{self, BundleError, Keyring};
use hotline_proto::claims::opening::opening_bundle;
use hotline_proto::entry::{BodyCommitment, KeyAction, Kind, SignedEntry};
use hotline_proto::keys::{OfficeKeys, os_rng};
use hotline_proto::limits::{MAX_CONSISTENCY_HASHES, MAX_INCLUSION_HASHES, MAX_NOTE_BYTES};
use hotline_proto::seal;

use super::common::{Log, header, office};

/// Log of `us`: 0 announces us/fbi, 1-3 are messages from us/fbi.
fn world() -> (Log, OfficeKeys) {
    let mut log = Log::new();
    let fbi = OfficeKeys::generate(office("us/fbi"), &mut os_rng());
    log.announce(fbi.public(), KeyAction::Announce);
    for _ in 0..3 {
        log.message(&fbi, "ru/fsb");
    }
    (log, fbi)
}

/// Verifies `bundle`, which must be refused within a second with every one of `words`.
fn refused_fast(bundle: &[u8], keys: &Keyring, words: &[&str]) -> BundleError {
    let t = Instant::now();
    let e = match bundle::verify(bundle, keys) {
        Ok(v) => panic!("bundle verified: {}", v.sentence()),
        Err(e) => e,
    };
    let took = t.elapsed();
    let msg = e.to_string();
    for w in words {
        assert!(msg.contains(w), "error {msg:?} should mention {w:?}");
    }
    assert!(
        took < Duration::from_secs(1),
        "refusing a {}-byte bundle took {took:?}",
        bundle.len()
    );
    e
}

fn hash_line(i: usize) -> String {
    let mut h = [0u8; 32];
    h[..8].copy_from_slice(&(i as u64).to_be_bytes());
    b64::encode(h)
}

/// The entry's tlog-proof of an inclusion bundle with `extra` more hash
/// lines after its real ones.
fn with_hashes(b: &str, extra: usize) -> String {
    let mut v: serde_json::Value = serde_json::from_str(b).unwrap();
    let entry = v["entry"].as_str().unwrap().to_owned();
    let (head, cp) = entry.split_once("\n\n").unwrap();
    let mut head = head.to_owned();
    for i in 0..extra {
        head.push('\n');
        head += &hash_line(i);
    }
    v["entry"] = format!("{head}\n\n{cp}").into();
    v.to_string()
}

#[test]
fn a_proof_of_a_hundred_thousand_hashes_is_refused_at_its_65th() {
    let (mut log, _) = world();
    let b = log.bundle(2);
    let big = with_hashes(&b, 100_000);
    assert!(big.len() > 4_000_000);
    refused_fast(
        big.as_bytes(),
        &log.keyring(),
        &[
            "malformed tlog-proof in entry",
            "more than 64 proof hashes",
            "an inclusion proof in a tree of any 64-bit size has at most 64",
        ],
    );
    // Exactly the limit is read, and fails as the wrong proof it is.
    let v: serde_json::Value = serde_json::from_str(&b).unwrap();
    let p = bundle::TlogProof::parse(v["entry"].as_str().unwrap(), "entry").unwrap();
    let at_limit = with_hashes(&b, MAX_INCLUSION_HASHES - p.proof.len());
    refused_fast(
        at_limit.as_bytes(),
        &log.keyring(),
        &["Merkle proof in entry"],
    );
}

#[test]
fn an_extra_line_longer_than_any_leaf_is_refused_before_decoding() {
    let (mut log, _) = world();
    let b = log.bundle(2);
    let mut v: serde_json::Value = serde_json::from_str(&b).unwrap();
    let entry = v["entry"].as_str().unwrap().to_owned();
    let (first, rest) = entry.split_once('\n').unwrap();
    let huge = b64::encode(vec![b'x'; 70_000]);
    v["entry"] = format!(
        "{first}\nextra {huge}\n{}",
        rest.split_once('\n').unwrap().1
    )
    .into();
    refused_fast(
        v.to_string().as_bytes(),
        &log.keyring(),
        &["extra is 93336 characters", "at most 65536 bytes"],
    );
}

#[test]
fn a_checkpoint_over_the_signed_note_limit_is_refused_before_copying() {
    let (mut log, _) = world();
    let b = log.bundle(2);
    let mut v: serde_json::Value = serde_json::from_str(&b).unwrap();
    let entry = v["entry"].as_str().unwrap().to_owned();
    let padding = format!("\u{2014} x {}\n", "A".repeat(100)).repeat(MAX_NOTE_BYTES / 100);
    v["entry"] = format!("{entry}{padding}").into();
    refused_fast(
        v.to_string().as_bytes(),
        &log.keyring(),
        &["a signed note is at most 1000000 bytes"],
    );
}

#[test]
fn a_consistency_proof_longer_than_any_64_bit_tree_has_is_refused() {
    let (mut log, _) = world();
    let cp = String::from_utf8(log.checkpoint()).unwrap();
    let claim = |n: usize| {
        serde_json::json!({
            "checkpoint": cp,
            "size": 2,
            "root": hash_line(0),
            "consistency": (0..n).map(hash_line).collect::<Vec<_>>(),
        })
    };
    let b = serde_json::json!({
        "bundle": "hotline/equivocation/v1",
        "origin": "hotline/us",
        "a": claim(100_000),
        "b": claim(1),
    });
    refused_fast(
        b.to_string().as_bytes(),
        &log.keyring(),
        &[
            "consistency has more than 65 entries",
            "at most 65 base64 SHA-256 hashes",
        ],
    );
    // The limit itself is read, and then fails as a wrong proof.
    let b = serde_json::json!({
        "bundle": "hotline/equivocation/v1",
        "origin": "hotline/us",
        "a": claim(MAX_CONSISTENCY_HASHES),
        "b": claim(1),
    });
    refused_fast(
        b.to_string().as_bytes(),
        &log.keyring(),
        &["Merkle proof in a"],
    );
}

/// An absence bundle (v2) whose channel run has these siblings and leaves.
fn absence(log: &mut Log, siblings: Vec<String>, leaves: Vec<serde_json::Value>) -> Vec<u8> {
    let cp = log.checkpoint();
    let ev = log.evidence(&cp);
    let l = serde_json::to_value(hotline_proto::claims::LogJson::from(&ev)).unwrap();
    serde_json::json!({
        "bundle": "hotline/absence/v2",
        "kind": "inquiry",
        "from": "us/fbi",
        "to": "ru/fsb",
        "since": "2021-07-01T00:00:00Z",
        "until": "2021-08-01T00:00:00Z",
        "log": l,
        "run": {
            "key": "kind/inquiry/us/fbi/ru/fsb",
            "state": {"count": 0, "chain": b64::encode([0u8; 32])},
            "proof": {"siblings": siblings},
            "leaves": leaves,
        },
    })
    .to_string()
    .into_bytes()
}

#[test]
fn an_index_path_longer_than_the_index_tree_is_refused() {
    let (mut log, _) = world();
    let hashes = |n: usize| (0..n).map(hash_line).collect::<Vec<_>>();
    let keys = log.keyring();
    refused_fast(
        &absence(&mut log, hashes(1_000_000), vec![]),
        &keys,
        &[
            "siblings has more than 256 entries",
            "per level of the 256-level index tree",
        ],
    );
    refused_fast(
        &absence(&mut log, vec!["short".into()], vec![]),
        &keys,
        &["siblings[0] is 5 characters long"],
    );
}

/// A million empty leaves cost no memory: the first is refused as it is read.
#[test]
fn leaves_shorter_than_any_entry_are_refused_as_they_are_read() {
    let (mut log, _) = world();
    let keys = log.keyring();
    let empty = serde_json::json!({"index": 0, "leaf": ""});
    refused_fast(
        &absence(&mut log, vec![], vec![empty; 1_000_000]),
        &keys,
        &["a leaf of 0 characters", "136 to 87384 characters"],
    );
    let big = serde_json::json!({"index": 0, "leaf": b64::encode(vec![b'x'; 65_540])});
    refused_fast(
        &absence(&mut log, vec![], vec![big]),
        &keys,
        &["a leaf of 87388 characters"],
    );
}

#[test]
fn entry_proofs_shorter_than_any_tlog_proof_are_refused_as_they_are_read() {
    let (mut log, _) = world();
    let cp = log.checkpoint();
    let ev = log.evidence(&cp);
    let l = serde_json::to_value(hotline_proto::claims::LogJson::from(&ev)).unwrap();
    let b = serde_json::json!({
        "bundle": "hotline/answered/v2",
        "sender": l,
        "receiver": l,
        "inquiry": "x",
        "replies": ev.key_history.key,
    });
    refused_fast(
        b.to_string().as_bytes(),
        &log.keyring(),
        &[
            "a tlog-proof of 1 characters; every tlog-proof (header, index, checkpoint) is longer than 64",
        ],
    );
    // A list of half a million empty proofs stops at its first.
    let b = serde_json::json!({"bundle": "hotline/answered/v2", "seen": vec![""; 500_000]});
    refused_fast(
        b.to_string().as_bytes(),
        &log.keyring(),
        &[
            "seen[0] is 0 characters long",
            "each is a C2SP tlog-proof text",
        ],
    );
}

/// A field the bundle type does not have is refused when its name is read,
/// before its value is: a million numbers after it are never parsed into
/// anything. (A JSON tree of them would take over 30 bytes per 2 of input.)
#[test]
fn an_unknown_field_is_refused_before_its_value_is_read() {
    let (mut log, _) = world();
    let b = log.bundle(2);
    let mut v: serde_json::Value = serde_json::from_str(&b).unwrap();
    v["padding"] = vec![0; 3_000_000].into();
    refused_fast(
        v.to_string().as_bytes(),
        &log.keyring(),
        &["malformed bundle: unknown field `padding`"],
    );
}

#[test]
fn a_bundle_type_that_is_not_a_string_is_named_as_missing() {
    let (log, _) = world();
    for b in [
        r#"{"bundle": 1}"#,
        r#"{"bundle": ["hotline/inclusion/v1"]}"#,
        r#"{"bundle": {"v": "hotline/inclusion/v1"}}"#,
        r#"{"entry": "…"}"#,
        r#"{"bundle": null}"#,
    ] {
        refused_fast(
            b.as_bytes(),
            &log.keyring(),
            &["malformed bundle: no \"bundle\" type field"],
        );
    }
    refused_fast(
        br#"{"bundle": "hotline/inclusion/v1", "#,
        &log.keyring(),
        &["malformed bundle: EOF while parsing"],
    );
    refused_fast(
        br#"["hotline/inclusion/v1"]"#,
        &log.keyring(),
        &["malformed bundle: invalid type: sequence, expected a bundle: a JSON object"],
    );
}

#[test]
fn a_bundle_over_the_limit_says_the_limit() {
    let (log, _) = world();
    let big = vec![b' '; bundle::MAX_BUNDLE_BYTES + 1];
    refused_fast(
        &big,
        &log.keyring(),
        &["the bundle is 67108865 bytes; the limit is 64 MiB (67108864 bytes)"],
    );
    let e = bundle::check_size(u64::MAX).unwrap_err();
    assert!(e.to_string().contains("the limit is 64 MiB"), "{e}");
    bundle::check_size(bundle::MAX_BUNDLE_BYTES as u64).unwrap();
}

/// An opening of a plaintext with many fields lists the first names and
/// counts the rest, without building the plaintext as a JSON tree.
#[test]
fn an_opening_of_many_fields_lists_a_few_and_counts_the_rest() {
    let (mut log, fbi) = world();
    let mut fields = serde_json::Map::new();
    fields.insert("text".into(), "the text".into());
    for i in 0..1_000 {
        fields.insert(format!("f{i:04}"), i.into());
    }
    fields.insert("subject".into(), serde_json::json!(["not", "a", "string"]));
    let plaintext = serde_json::to_vec(&fields).unwrap();
    let salt = [3u8; 32];
    let mut h = header(Kind::Message, "us/fbi", Some("ru/fsb"), 9);
    h.body = Some(BodyCommitment {
        sealed: b64::encode(seal::sealed_hash(b"sealed")),
        size: 6,
        commitment: b64::encode(seal::commitment(&salt, &plaintext)),
    });
    let i = log.append(&SignedEntry::sign(h, |m| fbi.sign_raw(m)).unwrap());
    let cp = log.checkpoint();
    let ev = log.evidence(&cp);
    let b = opening_bundle(&ev, &log.tlog_proof(i, &cp), &salt, &plaintext);
    let v = bundle::verify(b.as_bytes(), &log.keyring()).unwrap();
    let bundle::Verified::Opening(p) = v else {
        panic!("not an opening")
    };
    assert_eq!(p.text.as_deref(), Some("the text"));
    assert_eq!(
        p.subject, None,
        "a subject that is not a string is not quoted"
    );
    assert_eq!(p.other_fields.len(), 33, "{:?}", p.other_fields);
    assert_eq!(p.other_fields[0], "f0000");
    assert_eq!(p.other_fields[32], "and 969 more");
    assert!(
        p.sentence()
            .contains("(its other fields, f0000, f0001, f0002"),
        "{}",
        p.sentence()
    );
}
