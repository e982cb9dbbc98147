//! Inclusion bundles (v3): built from a small indexed log in memory,
//! verified offline with nothing but pinned keys, and refused — with a
//! message naming the part that failed — whenever anything meaningful in
//! them is changed. The key history is the log's complete run of key
//! entries, so a revocation cannot be left out.

use std::time::Instant;

use hotline_proto::bundle::{self, BundleError, Keyring, ProvedEntry, TlogProof, Verified};
use hotline_proto::checkpoint::{CheckpointError, Cosignature};
use hotline_proto::claims::inclusion::inclusion_bundle;
use hotline_proto::entry::{EntryError, KeyAction, Kind, SignedEntry};
use hotline_proto::keys::{ALG_COSIGNATURE_V1, ALG_ED25519, NoteKey, OfficeKeys, os_rng};
use hotline_proto::tree::TreeError;

use super::common::{COSIGN_TIME, Log, ORIGIN, WITNESS, flipped, header, office};

/// Log of `us`: 0 announces us/fbi, 1-3 are messages from us/fbi.
fn world() -> (Log, OfficeKeys) {
    let mut log = Log::new();
    let fbi = OfficeKeys::generate(office("us/fbi"), &mut os_rng());
    assert_eq!(log.announce(fbi.public(), KeyAction::Announce), 0);
    assert_eq!(log.message(&fbi, "ru/fsb"), 1);
    assert_eq!(log.message(&fbi, "ru/fsb"), 2);
    assert_eq!(log.message(&fbi, "ru/svr"), 3);
    (log, fbi)
}

fn proved(v: Verified) -> ProvedEntry {
    match v {
        Verified::Inclusion(p) => *p,
        other => panic!("expected an inclusion proof, got {}", other.sentence()),
    }
}

fn refused(bundle: &str, keys: &Keyring) -> BundleError {
    match bundle::verify(bundle.as_bytes(), keys) {
        Ok(v) => panic!("bundle verified: {}", v.sentence()),
        Err(e) => e,
    }
}

fn assert_says(e: &BundleError, words: &[&str]) {
    let msg = e.to_string();
    for w in words {
        assert!(msg.contains(w), "error {msg:?} should mention {w:?}");
    }
}

/// The bundle with its entry's tlog-proof replaced.
fn with_entry(log: &mut Log, p: &TlogProof) -> String {
    let cp = log.checkpoint();
    let ev = log.evidence(&cp);
    inclusion_bundle(&ev, p)
}

#[test]
fn office_entry_verifies_and_the_sentence_names_everything() {
    let (mut log, _) = world();
    let b = log.bundle(2);
    let v = bundle::verify(b.as_bytes(), &log.keyring()).unwrap();
    let s = v.sentence();
    let p = proved(v);
    assert_eq!(p.index, 2);
    assert_eq!(p.key_index, Some(0));
    assert_eq!(p.entry.leaf(), &log.leaves[2][..]);
    assert_eq!(
        (p.checkpoint.origin.as_str(), p.checkpoint.size),
        (ORIGIN, 4)
    );
    assert_eq!(p.checkpoint.root, log.tree.root());
    assert_eq!(p.checkpoint.index, Some(log.index.root()));
    assert_eq!(
        p.checkpoint.cosignatures,
        vec![Cosignature {
            name: WITNESS.into(),
            time: COSIGN_TIME
        }]
    );
    for part in [
        "Entry us:2 of log hotline/us",
        "a message from us/fbi to ru/fsb",
        "dated 2021-07-01T12:00:02Z",
        "tree of size 4",
        "cosigned by ru's witness (hotline/ru/witness) at 2023-11-14T22:13:20Z",
        "Signed by us/fbi with the key us's log announced in entry 0",
        "complete key history up to size 4",
        "us's index, recomputed and cosigned by ru's witness",
    ] {
        assert!(s.contains(part), "sentence {s:?} lacks {part:?}");
    }
}

#[test]
fn key_entry_verifies_under_the_party_key_alone() {
    let (mut log, _) = world();
    let v = bundle::verify(log.bundle(0).as_bytes(), &log.keyring()).unwrap();
    let s = v.sentence();
    let p = proved(v);
    assert_eq!((p.index, p.key_index), (0, None));
    assert!(s.contains("Signed by party us with its log key"), "{s}");
}

#[test]
fn without_a_pinned_witness_no_cosignature_is_claimed() {
    let (mut log, _) = world();
    let b = log.bundle(1);
    let party_only = Keyring::new([log.party.verifier()]);
    let v = bundle::verify(b.as_bytes(), &party_only).unwrap();
    let s = v.sentence();
    assert!(s.contains("no pinned witness cosigned it"), "{s}");
    assert!(s.contains("us's own index alone"), "{s}");
    assert!(proved(v).checkpoint.cosignatures.is_empty());
    let impostor = NoteKey::generate(WITNESS, ALG_COSIGNATURE_V1, &mut os_rng()).unwrap();
    let keys = Keyring::new([log.party.verifier(), impostor.verifier()]);
    let v = bundle::verify(b.as_bytes(), &keys).unwrap();
    assert!(proved(v).checkpoint.cosignatures.is_empty());
}

/// Every byte of the bundle file, flipped in turn: no change may verify and
/// prove something else. The only changes that still verify turn one of the
/// witness's cosignature lines (on the log's checkpoint, or on the entry's
/// copy of it, whose cosignatures are not used) into a signature by an
/// unknown key, which a verifier ignores.
#[test]
fn every_flipped_byte_fails_or_only_drops_a_cosignature() {
    let (mut log, _) = world();
    let b = log.bundle(2);
    let keys = log.keyring();
    let orig = proved(bundle::verify(b.as_bytes(), &keys).unwrap());
    let orig_json: serde_json::Value = serde_json::from_str(&b).unwrap();
    let marker = format!("\u{2014} {WITNESS} ");
    let cosig_lines: Vec<std::ops::Range<usize>> = b
        .match_indices(&marker)
        .map(|(i, _)| i..i + b[i..].find("\\n").unwrap())
        .collect();
    assert_eq!(cosig_lines.len(), 2, "{b}");
    let start = Instant::now();
    let (mut refused_count, mut weakened) = (0, 0);
    for at in 0..b.len() {
        let bad = flipped(b.as_bytes(), at, 0x01);
        let Ok(v) = bundle::verify(&bad, &keys) else {
            refused_count += 1;
            continue;
        };
        let p = proved(v);
        assert_eq!(p.entry.leaf(), orig.entry.leaf(), "flip at {at}");
        assert_eq!((p.index, p.key_index), (orig.index, orig.key_index));
        assert_eq!(p.checkpoint.root, orig.checkpoint.root);
        assert!(
            p.checkpoint
                .cosignatures
                .iter()
                .all(|c| orig.checkpoint.cosignatures.contains(c))
        );
        let same_json = serde_json::from_slice::<serde_json::Value>(&bad)
            .ok()
            .as_ref()
            == Some(&orig_json);
        assert!(
            same_json || cosig_lines.iter().any(|r| r.contains(&at)),
            "flip of byte {at} verified"
        );
        weakened += 1;
    }
    assert!(refused_count > 0 && weakened <= 2 * (WITNESS.len() + 6));
    eprintln!(
        "bundle of {} bytes: {refused_count} flips refused, {weakened} only dropped a cosignature, in {:?}",
        b.len(),
        start.elapsed()
    );
}

#[test]
fn wrong_or_missing_pinned_log_key_is_refused() {
    let (mut log, _) = world();
    let b = log.bundle(2);
    let other = NoteKey::generate(ORIGIN, ALG_ED25519, &mut os_rng()).unwrap();
    let e = refused(
        &b,
        &Keyring::new([other.verifier(), log.witness.verifier()]),
    );
    assert_says(&e, &["log: checkpoint in checkpoint", "no valid signature"]);
    for keys in [Keyring::new([log.witness.verifier()]), Keyring::default()] {
        assert_says(&refused(&b, &keys), &["no pinned log key for hotline/us"]);
    }
}

/// Attack f: an entry signed with an office key the same log had revoked
/// (or rotated away) earlier. The key history is complete, so the prover
/// cannot leave the revocation out.
#[test]
fn entries_after_a_revocation_or_rotation_are_refused() {
    let (mut log, fbi) = world();
    let cia = OfficeKeys::generate(office("us/cia"), &mut os_rng());
    assert_eq!(log.announce(cia.public(), KeyAction::Announce), 4);
    assert_eq!(log.announce(fbi.public(), KeyAction::Revoke), 5);
    assert_eq!(log.message(&fbi, "ru/fsb"), 6);
    let e = refused(&log.bundle(6), &log.keyring());
    assert!(matches!(e, BundleError::In { .. }), "{e:?}");
    assert_says(
        &e,
        &[
            "us:6",
            "entry 5 revoked the keys of us/fbi",
            "complete key history",
        ],
    );
    // Before the revocation the same key signs.
    assert!(bundle::verify(log.bundle(2).as_bytes(), &log.keyring()).is_ok());
    // Leaving the revocation out of the key history breaks the run.
    let cp = log.checkpoint();
    let mut ev = log.evidence(&cp);
    ev.key_history.leaves.retain(|(i, _)| *i != 5);
    let b = inclusion_bundle(&ev, &log.tlog_proof(6, &cp));
    let e = refused(&b, &log.keyring());
    assert_says(&e, &["key_history", "do not make up its committed chain"]);
    // A base (some key entries not disclosed) is refused outright.
    let mut ev = log.evidence(&cp);
    ev.key_history.base = Some(Default::default());
    assert_says(
        &refused(
            &inclusion_bundle(&ev, &log.tlog_proof(6, &cp)),
            &log.keyring(),
        ),
        &["must disclose every key entry"],
    );
    // A rotation: the old key no longer signs, the new one does.
    let cia2 = OfficeKeys::generate(office("us/cia"), &mut os_rng());
    assert_eq!(log.announce(cia2.public(), KeyAction::Rotate), 7);
    assert_eq!(log.message(&cia, "ru/svr"), 8);
    assert_eq!(log.message(&cia2, "ru/svr"), 9);
    assert_says(
        &refused(&log.bundle(8), &log.keyring()),
        &["which entry 7 rotated away"],
    );
    let p = proved(bundle::verify(log.bundle(9).as_bytes(), &log.keyring()).unwrap());
    assert_eq!(p.key_index, Some(7));
}

#[test]
fn key_entries_must_be_signed_by_the_party_key() {
    let (mut log, fbi) = world();
    let h = log
        .key_entry(fbi.public(), KeyAction::Announce)
        .header()
        .clone();
    let by_office = SignedEntry::sign(h, |m| fbi.sign_raw(m)).unwrap();
    log.append(&by_office); // 4
    let e = refused(&log.bundle(1), &log.keyring());
    assert!(
        matches!(&e, BundleError::In { source, .. } if matches!(**source, BundleError::Entry { part: "key_history", source: EntryError::BadSignature { .. } })),
        "{e:?}"
    );
}

/// A party must not be able to put words in the other party's mouth.
#[test]
fn entries_from_another_partys_office_are_refused() {
    let (mut log, _) = world();
    let fsb = OfficeKeys::generate(office("ru/fsb"), &mut os_rng());
    log.announce(fsb.public(), KeyAction::Announce); // 4
    let m = log.message(&fsb, "us/fbi"); // 5
    assert_says(
        &refused(&log.bundle(m), &log.keyring()),
        &["ru/fsb", "log of us"],
    );
}

#[test]
fn entry_of_another_log_in_this_tree_is_refused() {
    let (mut log, fbi) = world();
    let mut h = header(Kind::Message, "us/fbi", Some("ru/fsb"), 4);
    h.log = "ru".parse().unwrap();
    let e = SignedEntry::sign(h, |m| fbi.sign_raw(m)).unwrap();
    let i = log.append(&e);
    assert_says(
        &refused(&log.bundle(i), &log.keyring()),
        &["says log ru but sits in hotline/us"],
    );
}

#[test]
fn altered_proofs_and_checkpoints_are_refused_by_name() {
    let (mut log, _) = world();
    let keys = log.keyring();
    let cp = log.checkpoint();
    let entry = log.tlog_proof(2, &cp);
    let mut p = entry.clone();
    p.proof[0].0[0] ^= 1;
    let e = refused(&with_entry(&mut log, &p), &keys);
    assert!(
        matches!(&e, BundleError::In { source, .. } if matches!(**source, BundleError::Proof { part: "entry", source: TreeError::Inclusion { index: 2, size: 4 } })),
        "{e:?}"
    );
    let mut p = entry.clone();
    p.extra = Some(log.leaves[1].clone());
    assert_says(
        &refused(&with_entry(&mut log, &p), &keys),
        &["Merkle proof in entry"],
    );
    let mut p = entry.clone();
    p.extra = None;
    assert_says(
        &refused(&with_entry(&mut log, &p), &keys),
        &["no extra line"],
    );
    let text = String::from_utf8(entry.checkpoint.clone()).unwrap();
    let mut p = entry.clone();
    p.checkpoint = text.replacen("\n4\n", "\n5\n", 1).into_bytes();
    let e = refused(&with_entry(&mut log, &p), &keys);
    assert!(
        matches!(&e, BundleError::In { source, .. } if matches!(&**source, BundleError::Checkpoint { source: CheckpointError::BadSignature { .. }, .. })),
        "{e:?}"
    );
}

#[test]
fn an_entry_under_another_tree_than_the_key_history_is_refused() {
    let (mut log, fbi) = world();
    let cp3 = log.checkpoint();
    let p = log.tlog_proof(2, &cp3);
    log.message(&fbi, "ru/fsb");
    let b = with_entry(&mut log, &p);
    assert_says(
        &refused(&b, &log.keyring()),
        &["under hotline/us at size 4, not under the bundle's checkpoint of hotline/us at size 5"],
    );
}

#[test]
fn a_checkpoint_without_an_index_line_is_refused() {
    let (mut log, _) = world();
    let cp = log.checkpoint();
    let entry = log.tlog_proof(2, &cp);
    let mut ev = log.evidence(&cp);
    ev.checkpoint = hotline_proto::checkpoint::sign(&log.party, 4, log.tree.root()).unwrap();
    assert_says(
        &refused(&inclusion_bundle(&ev, &entry), &log.keyring()),
        &["commits to no index"],
    );
}

#[test]
fn malformed_bundles_say_what_is_wrong() {
    let (mut log, _) = world();
    let keys = log.keyring();
    let v: serde_json::Value = serde_json::from_str(&log.bundle(2)).unwrap();
    let mut w = v.clone();
    w["bundle"] = "hotline/absence/v9".into();
    let e = refused(&w.to_string(), &keys);
    assert!(matches!(&e, BundleError::UnknownType(t) if t == "hotline/absence/v9"));
    assert_says(&e, &["unknown bundle type", "hotline/inclusion/v3"]);
    let mut w = v.clone();
    w.as_object_mut().unwrap().remove("bundle");
    assert_says(&refused(&w.to_string(), &keys), &["\"bundle\""]);
    let mut w = v.clone();
    w["note"] = "trust me".into();
    assert_says(&refused(&w.to_string(), &keys), &["unknown field"]);
    let mut w = v.clone();
    w["log"]["key_history"]["extra"] = 1.into();
    assert_says(&refused(&w.to_string(), &keys), &["unknown field"]);
    assert_says(&refused("", &keys), &["malformed bundle"]);
    let big = vec![b' '; bundle::MAX_BUNDLE_BYTES + 1];
    assert!(
        bundle::verify(&big, &keys)
            .unwrap_err()
            .to_string()
            .contains("limit")
    );
}

#[test]
fn tlog_proof_text_round_trips() {
    let (mut log, _) = world();
    let cp = log.checkpoint();
    for i in 0..4 {
        let p = log.tlog_proof(i, &cp);
        let text = p.to_text();
        assert!(text.starts_with("c2sp.org/tlog-proof@v1\nextra "), "{text}");
        assert_eq!(TlogProof::parse(&text, "entry").unwrap(), p);
    }
}

#[test]
fn a_cosigner_is_named_as_the_party_whose_log_names_it() {
    assert_eq!(bundle::witness_party("hotline/ru/witness"), Some("ru"));
    for name in [
        "hotline/ru",
        "witness",
        "/witness",
        "hotline//witness",
        "hotline/ru/witness2",
    ] {
        assert_eq!(bundle::witness_party(name), None, "{name}");
    }
    assert_eq!(
        bundle::describe_cosigner("witness.example.org"),
        "witness witness.example.org (named after no party's log)"
    );
}

#[test]
fn inclusion_v1_and_v2_are_refused_saying_why() {
    let (mut log, _) = world();
    let cp = log.checkpoint();
    let entry = log.tlog_proof(2, &cp).to_text();
    for (v, why) in [
        ("hotline/inclusion/v1", "rotated or revoked"),
        ("hotline/inclusion/v2", "a later revocation can be left out"),
    ] {
        let b = serde_json::json!({"bundle": v, "entry": entry}).to_string();
        let e = refused(&b, &log.keyring());
        assert!(matches!(e, BundleError::Superseded { .. }), "{e:?}");
        assert_says(
            &e,
            &[
                &format!("{v} is no longer accepted"),
                why,
                "hotline/inclusion/v3",
                "hotline prove entry",
            ],
        );
    }
}

/// A node's record of a checkpoint it refused for its index line is not a
/// bundle: `verify` says what it is and how it is checked, instead of
/// "unknown type".
#[test]
fn a_refused_index_record_is_named_not_verified() {
    let (log, _) = world();
    let keys = Keyring::new([log.party.verifier()]);
    let record = r#"{"bundle": "hotline/index-refused/v1", "origin": "hotline/us", "size": 3}"#;
    let e = refused(record, &keys);
    assert!(matches!(e, BundleError::RefusalRecord(_)), "{e}");
    assert_says(
        &e,
        &[
            "not a bundle",
            "recomputes the index root",
            "hotline/index-mismatch/v1",
        ],
    );
}
