//! Inclusion bundles: built from a small log in memory, verified offline with
//! nothing but pinned keys, and refused — with a message naming the part that
//! failed — whenever anything meaningful in them is changed.

use std::time::Instant;

use hotline_proto::bundle::{self, BundleError, Keyring, ProvedEntry, TlogProof, Verified};
use hotline_proto::checkpoint::{self, CheckpointError, Cosignature};
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

/// The bundle's tlog-proofs: the entry's and its key history's.
fn parts(bundle: &str) -> (TlogProof, Vec<TlogProof>) {
    let v: serde_json::Value = serde_json::from_str(bundle).unwrap();
    let entry = TlogProof::parse(v["entry"].as_str().unwrap(), "entry").unwrap();
    let history = v
        .get("key_history")
        .map(|h| {
            h.as_array()
                .unwrap()
                .iter()
                .map(|s| TlogProof::parse(s.as_str().unwrap(), "key_history").unwrap())
                .collect()
        })
        .unwrap_or_default();
    (entry, history)
}

fn assert_says(e: &BundleError, words: &[&str]) {
    let msg = e.to_string();
    for w in words {
        assert!(msg.contains(w), "error {msg:?} should mention {w:?}");
    }
}

#[test]
fn office_entry_verifies_and_the_sentence_names_everything() {
    let (log, _) = world();
    let b = log.bundle(2, Some(0));
    let v = bundle::verify(b.as_bytes(), &log.keyring()).unwrap();
    let s = v.sentence();
    let p = proved(v);
    assert_eq!(p.index, 2);
    assert_eq!(p.key_index, Some(0));
    assert_eq!(p.entry.leaf(), &log.leaves[2][..]);
    assert_eq!(p.entry.header().kind, Kind::Message);
    assert_eq!(
        (p.checkpoint.origin.as_str(), p.checkpoint.size),
        (ORIGIN, 4)
    );
    assert_eq!(p.checkpoint.root, log.tree.root());
    assert_eq!(
        p.checkpoint.cosignatures,
        vec![Cosignature {
            name: WITNESS.into(),
            time: COSIGN_TIME
        }]
    );
    for part in [
        "Entry 2 of log hotline/us",
        "a message from us/fbi to ru/fsb",
        "dated 2021-07-01T12:00:02Z",
        "tree of size 4",
        "checkpoint signed by hotline/us",
        "cosigned by ru's witness (hotline/ru/witness) at 2023-11-14T22:13:20Z",
        "signed by us/fbi with the key the log announced in entry 0",
    ] {
        assert!(s.contains(part), "sentence {s:?} lacks {part:?}");
    }
}

#[test]
fn key_entry_verifies_under_the_party_key_alone() {
    let (log, _) = world();
    let b = log.bundle(0, None);
    assert!(!b.contains("key_history"));
    let v = bundle::verify(b.as_bytes(), &log.keyring()).unwrap();
    let s = v.sentence();
    let p = proved(v);
    assert_eq!((p.index, p.key_index), (0, None));
    assert_eq!(p.entry.header().kind, Kind::Key);
    assert!(s.contains("a key from us,"), "{s}");
    assert!(s.contains("signed by party us with its log key"), "{s}");
}

#[test]
fn without_a_pinned_witness_no_cosignature_is_claimed() {
    let (log, _) = world();
    let b = log.bundle(1, Some(0));
    let party_only = Keyring::new([log.party.verifier()]);
    let v = bundle::verify(b.as_bytes(), &party_only).unwrap();
    assert!(
        v.sentence().contains("no pinned witness cosigned it"),
        "{}",
        v.sentence()
    );
    assert!(proved(v).checkpoint.cosignatures.is_empty());
    // A witness key of the right name but another key is not trusted either.
    let impostor = NoteKey::generate(WITNESS, ALG_COSIGNATURE_V1, &mut os_rng()).unwrap();
    let keys = Keyring::new([log.party.verifier(), impostor.verifier()]);
    let v = bundle::verify(b.as_bytes(), &keys).unwrap();
    assert!(proved(v).checkpoint.cosignatures.is_empty());
}

/// Every byte of the bundle file, flipped in turn (two bit masks each): no
/// change may verify and prove something else. The only changes that still
/// verify are those that turn the witness's cosignature line into a
/// signature by an unknown key (its name or key id), which a verifier
/// ignores: the bundle then proves the same entry with one cosigner fewer,
/// never more.
#[test]
fn every_flipped_byte_fails_or_only_drops_a_cosignature() {
    let (log, _) = world();
    let b = log.bundle(2, Some(0));
    let keys = log.keyring();
    let orig = proved(bundle::verify(b.as_bytes(), &keys).unwrap());
    let orig_json: serde_json::Value = serde_json::from_str(&b).unwrap();

    // Where the witness's signature lines sit (once per tlog-proof).
    let marker = format!("\u{2014} {WITNESS} ");
    let cosig_lines: Vec<std::ops::Range<usize>> = b
        .match_indices(&marker)
        .map(|(i, _)| i..i + b[i..].find("\\n").unwrap())
        .collect();
    assert_eq!(cosig_lines.len(), 2, "{b}");

    let start = Instant::now();
    let (mut refused_count, mut weakened) = (0, 0);
    for at in 0..b.len() {
        for mask in [0x01u8, 0x20] {
            let bad = flipped(b.as_bytes(), at, mask);
            let Ok(v) = bundle::verify(&bad, &keys) else {
                refused_count += 1;
                continue;
            };
            let p = proved(v);
            let ctx =
                String::from_utf8_lossy(&bad[at.saturating_sub(20)..(at + 20).min(bad.len())])
                    .into_owned();
            // Same entry, same place, same tree.
            assert_eq!(p.entry.leaf(), orig.entry.leaf(), "flip at {at}: {ctx:?}");
            assert_eq!(
                (p.index, p.key_index),
                (orig.index, orig.key_index),
                "flip at {at}"
            );
            assert_eq!(
                (&p.checkpoint.origin, p.checkpoint.size, p.checkpoint.root),
                (
                    &orig.checkpoint.origin,
                    orig.checkpoint.size,
                    orig.checkpoint.root
                ),
                "flip at {at}"
            );
            // Never a cosignature that was not there.
            assert!(
                p.checkpoint
                    .cosignatures
                    .iter()
                    .all(|c| orig.checkpoint.cosignatures.contains(c)),
                "flip at {at}"
            );
            let same_json = serde_json::from_slice::<serde_json::Value>(&bad)
                .ok()
                .as_ref()
                == Some(&orig_json);
            let dropped = p.checkpoint.cosignatures.len() < orig.checkpoint.cosignatures.len()
                || cosig_lines[1].contains(&at);
            assert!(
                same_json || (dropped && cosig_lines.iter().any(|r| r.contains(&at))),
                "flip of byte {at} with {mask:#04x} verified: {ctx:?}"
            );
            weakened += 1;
        }
    }
    let elapsed = start.elapsed();
    assert!(refused_count > 0 && refused_count + weakened == 2 * b.len());
    // Only the name and the key id (first 6 base64 characters) of the two
    // witness lines, under two masks.
    assert!(
        weakened <= 2 * 2 * (WITNESS.len() + 6),
        "{weakened} flips verified"
    );
    eprintln!(
        "bundle of {} bytes: {refused_count} flips refused, {weakened} only dropped a cosignature, in {elapsed:?}",
        b.len()
    );
}

#[test]
fn wrong_or_missing_pinned_log_key_is_refused() {
    let (log, _) = world();
    let b = log.bundle(2, Some(0));
    let other = NoteKey::generate(ORIGIN, ALG_ED25519, &mut os_rng()).unwrap();
    let e = refused(
        &b,
        &Keyring::new([other.verifier(), log.witness.verifier()]),
    );
    assert!(
        matches!(
            e,
            BundleError::Checkpoint {
                part: "entry",
                source: CheckpointError::Unsigned { .. }
            }
        ),
        "{e:?}"
    );
    assert_says(
        &e,
        &[
            "checkpoint in entry",
            "no valid signature",
            "pinned log key",
        ],
    );

    let ru = NoteKey::generate("hotline/ru", ALG_ED25519, &mut os_rng()).unwrap();
    for keys in [Keyring::new([ru.verifier()]), Keyring::default()] {
        let e = refused(&b, &keys);
        assert!(
            matches!(&e, BundleError::UnknownLog { origin } if origin == ORIGIN),
            "{e:?}"
        );
        assert_says(&e, &["no pinned log key for hotline/us"]);
    }
    // The witness key alone is not a log key.
    let e = refused(&b, &Keyring::new([log.witness.verifier()]));
    assert!(matches!(e, BundleError::UnknownLog { .. }), "{e:?}");
}

#[test]
fn missing_key_history_is_refused() {
    let (log, _) = world();
    let (entry, _) = parts(&log.bundle(2, Some(0)));
    let e = refused(&bundle::inclusion_bundle(&entry, &[]), &log.keyring());
    assert!(matches!(e, BundleError::SignerKey(_)), "{e:?}");
    assert_says(&e, &["signer key", "us/fbi", "no key history"]);
}

#[test]
fn key_entry_after_the_entry_is_refused() {
    let (mut log, _) = world();
    let cia = OfficeKeys::generate(office("us/cia"), &mut os_rng());
    let m = log.message(&cia, "ru/svr"); // 4, before its key
    let k = log.announce(cia.public(), KeyAction::Announce); // 5
    let e = refused(&log.bundle(m, Some(k)), &log.keyring());
    assert!(matches!(e, BundleError::SignerKey(_)), "{e:?}");
    assert_says(&e, &["key entry 5 does not precede entry 4"]);
}

#[test]
fn key_entry_of_another_office_is_refused() {
    let (mut log, fbi) = world();
    let cia = OfficeKeys::generate(office("us/cia"), &mut os_rng());
    let k = log.announce(cia.public(), KeyAction::Announce); // 4
    let m = log.message(&fbi, "ru/fsb"); // 5
    let e = refused(&log.bundle(m, Some(k)), &log.keyring());
    assert!(matches!(e, BundleError::SignerKey(_)), "{e:?}");
    assert_says(&e, &["key entry 4 announces us/cia, not us/fbi"]);
    // And a message signed by cia but claiming to be from fbi fails its signature.
    let forged = log.office_entry(&cia, Kind::Message, "ru/fsb");
    let mut h = forged.header().clone();
    h.from = "us/fbi".into();
    let forged = SignedEntry::sign(h, |m| cia.sign_raw(m)).unwrap();
    let f = log.append(&forged);
    let e = refused(&log.bundle(f, Some(0)), &log.keyring());
    assert!(
        matches!(
            e,
            BundleError::Entry {
                part: "entry",
                source: EntryError::BadSignature { .. }
            }
        ),
        "{e:?}"
    );
    assert_says(
        &e,
        &["entry in entry", "signature of us/fbi does not verify"],
    );
}

#[test]
fn revoked_or_non_key_signer_entries_are_refused() {
    let (mut log, fbi) = world();
    let r = log.announce(fbi.public(), KeyAction::Revoke); // 4
    let m = log.message(&fbi, "ru/fsb"); // 5
    let e = refused(&log.bundle(m, Some(r)), &log.keyring());
    assert_says(&e, &["signer key", "entry 4 revoked the keys of us/fbi"]);
    let e = refused(&log.bundle(m, Some(1)), &log.keyring());
    assert_says(&e, &["key history: entry 1 is not a key entry"]);
    // A rotation is a valid source of the key.
    let rot = log.announce(fbi.public(), KeyAction::Rotate); // 6
    let m = log.message(&fbi, "ru/fsb"); // 7
    let v = bundle::verify(log.bundle(m, Some(rot)).as_bytes(), &log.keyring()).unwrap();
    assert_eq!(proved(v).key_index, Some(rot));
}

#[test]
fn key_entries_must_be_signed_by_the_party_key() {
    let (mut log, fbi) = world();
    // A key entry in the party's name but signed by the office.
    let mut h = log
        .key_entry(fbi.public(), KeyAction::Announce)
        .header()
        .clone();
    let by_office = SignedEntry::sign(h.clone(), |m| fbi.sign_raw(m)).unwrap();
    let k = log.append(&by_office); // 4
    let m = log.message(&fbi, "ru/fsb"); // 5
    let e = refused(&log.bundle(m, Some(k)), &log.keyring());
    assert!(
        matches!(
            e,
            BundleError::Entry {
                part: "key_history",
                source: EntryError::BadSignature { .. }
            }
        ),
        "{e:?}"
    );
    assert_says(
        &e,
        &["entry in key_history", "signature of us does not verify"],
    );
    // Its own bundle fails the same way.
    let e = refused(&log.bundle(k, None), &log.keyring());
    assert_says(&e, &["signature of us does not verify"]);
    // A key entry written as from the office is not the party's.
    h.from = "us/fbi".into();
    let from_office = SignedEntry::sign(h, |m| fbi.sign_raw(m)).unwrap();
    let k = log.append(&from_office); // 6
    let m = log.message(&fbi, "ru/fsb"); // 7
    let e = refused(&log.bundle(m, Some(k)), &log.keyring());
    assert_says(&e, &["key entry is not signed by the party"]);
}

/// A party must not be able to put words in the other party's mouth: an
/// entry in log `us` that claims to be from `ru/fsb`, under a key that `us`
/// itself announced for `ru/fsb`, proves nothing about `ru/fsb`.
#[test]
fn entries_from_another_partys_office_are_refused() {
    let (mut log, _) = world();
    let fsb = OfficeKeys::generate(office("ru/fsb"), &mut os_rng());
    let k = log.announce(fsb.public(), KeyAction::Announce); // 4
    let m = log.message(&fsb, "us/fbi"); // 5
    let e = refused(&log.bundle(m, Some(k)), &log.keyring());
    assert!(matches!(e, BundleError::SignerKey(_)), "{e:?}");
    assert_says(&e, &["ru/fsb", "log of us"]);
    // Nor can a `from` that is no office name at all pass as one.
    let mut h = log
        .office_entry(&fsb, Kind::Message, "ru/fsb")
        .header()
        .clone();
    h.from = "us/".into();
    let odd = SignedEntry::sign(h, |m| fsb.sign_raw(m)).unwrap();
    let o = log.append(&odd);
    let e = refused(&log.bundle(o, Some(0)), &log.keyring());
    assert!(matches!(e, BundleError::SignerKey(_)), "{e:?}");
}

#[test]
fn entry_of_another_log_in_this_tree_is_refused() {
    let (mut log, fbi) = world();
    let mut h = header(Kind::Message, "us/fbi", Some("ru/fsb"), 4);
    h.log = "ru".parse().unwrap();
    let e = SignedEntry::sign(h, |m| fbi.sign_raw(m)).unwrap();
    let i = log.append(&e);
    let err = refused(&log.bundle(i, Some(0)), &log.keyring());
    assert_says(
        &err,
        &["entry in entry", "says log ru but sits in hotline/us"],
    );
}

#[test]
fn key_history_from_another_log_is_refused() {
    let (log, _) = world();
    // Party ru announces an office named like ours in its own log.
    let mut ru = Log::new();
    ru.party = NoteKey::generate("hotline/ru", ALG_ED25519, &mut os_rng()).unwrap();
    let twin = OfficeKeys::generate(office("us/fbi"), &mut os_rng());
    let mut h = ru
        .key_entry(twin.public(), KeyAction::Announce)
        .header()
        .clone();
    h.log = "ru".parse().unwrap();
    h.from = "ru".into();
    let k = SignedEntry::sign(h, |m| ru.party.sign_raw(m)).unwrap();
    ru.append(&k);
    let cp = ru.checkpoint();
    let key_proof = ru.tlog_proof(0, &cp);
    let (entry, _) = parts(&log.bundle(2, Some(0)));
    let keys = Keyring::new([log.party.verifier(), ru.party.verifier()]);
    let e = refused(&bundle::inclusion_bundle(&entry, &[key_proof]), &keys);
    assert_says(&e, &["signer key", "another log"]);
}

#[test]
fn altered_proofs_and_checkpoints_are_refused_by_name() {
    let (log, _) = world();
    let keys = log.keyring();
    let (entry, signer) = parts(&log.bundle(2, Some(0)));
    assert_eq!(signer.len(), 1);

    // A proof hash changed.
    let mut p = entry.clone();
    p.proof[0].0[0] ^= 1;
    let e = refused(&bundle::inclusion_bundle(&p, &signer), &keys);
    assert!(
        matches!(
            e,
            BundleError::Proof {
                part: "entry",
                source: TreeError::Inclusion { index: 2, size: 4 }
            }
        ),
        "{e:?}"
    );
    assert_says(&e, &["Merkle proof in entry", "index 2", "size 4"]);

    // The entry claimed at another index.
    let mut p = entry.clone();
    p.index = 3;
    let e = refused(&bundle::inclusion_bundle(&p, &signer), &keys);
    assert_says(&e, &["Merkle proof in entry", "index 3"]);

    // The key history's proof broken.
    let mut s = signer.clone();
    s[0].proof.pop();
    let e = refused(&bundle::inclusion_bundle(&entry, &s), &keys);
    assert_says(&e, &["Merkle proof in key_history"]);

    // Another leaf in place of the entry.
    let mut p = entry.clone();
    p.extra = Some(log.leaves[1].clone());
    let e = refused(&bundle::inclusion_bundle(&p, &signer), &keys);
    assert_says(&e, &["Merkle proof in entry"]);

    // The leaf missing.
    let mut p = entry.clone();
    p.extra = None;
    let e = refused(&bundle::inclusion_bundle(&p, &signer), &keys);
    assert_says(&e, &["tlog-proof in entry", "no extra line"]);

    // A checkpoint whose size was edited: the log signature breaks.
    let text = String::from_utf8(entry.checkpoint.clone()).unwrap();
    let mut p = entry.clone();
    p.checkpoint = text.replacen("\n4\n", "\n5\n", 1).into_bytes();
    let e = refused(&bundle::inclusion_bundle(&p, &signer), &keys);
    assert!(
        matches!(e, BundleError::Checkpoint { part: "entry", source: CheckpointError::BadSignature { ref name } } if name == ORIGIN),
        "{e:?}"
    );
    assert_says(
        &e,
        &[
            "checkpoint in entry",
            "signature by hotline/us",
            "does not verify",
        ],
    );

    // A genuine, signed checkpoint of an older tree does not hold entry 3.
    let old = checkpoint::sign(&log.party, 3, log.tree.root_at(3).unwrap()).unwrap();
    let p = bundle::tlog_proof(
        &log.leaves[2],
        2,
        log.tree.inclusion(2, 4).unwrap(),
        old.clone(),
    );
    let e = refused(&bundle::inclusion_bundle(&p, &signer), &keys);
    assert_says(&e, &["Merkle proof in entry", "size 3"]);
    // With the proof for that size it verifies, under that checkpoint.
    let p = bundle::tlog_proof(&log.leaves[2], 2, log.tree.inclusion(2, 3).unwrap(), old);
    let v = bundle::verify(bundle::inclusion_bundle(&p, &signer).as_bytes(), &keys).unwrap();
    assert!(v.sentence().contains("tree of size 3"), "{}", v.sentence());

    // A checkpoint without signatures.
    let mut p = entry.clone();
    let (body, _) = checkpoint::split(&entry.checkpoint).unwrap();
    p.checkpoint = [body, b"\n"].concat();
    let e = refused(&bundle::inclusion_bundle(&p, &signer), &keys);
    assert_says(&e, &["checkpoint in entry"]);
}

#[test]
fn malformed_bundles_say_what_is_wrong() {
    let (log, _) = world();
    let keys = log.keyring();
    let b = log.bundle(2, Some(0));
    let v: serde_json::Value = serde_json::from_str(&b).unwrap();

    let mut w = v.clone();
    w["bundle"] = "hotline/absence/v9".into();
    let e = refused(&w.to_string(), &keys);
    assert!(
        matches!(&e, BundleError::UnknownType(t) if t == "hotline/absence/v9"),
        "{e:?}"
    );
    assert_says(&e, &["unknown bundle type", bundle::INCLUSION_V2]);

    let mut w = v.clone();
    w.as_object_mut().unwrap().remove("bundle");
    assert_says(
        &refused(&w.to_string(), &keys),
        &["malformed bundle", "\"bundle\""],
    );

    let mut w = v.clone();
    w["note"] = "trust me".into();
    assert_says(
        &refused(&w.to_string(), &keys),
        &["malformed bundle", "unknown field"],
    );

    assert_says(&refused("", &keys), &["malformed bundle"]);
    assert_says(&refused("[]", &keys), &["malformed bundle"]);

    let mut w = v.clone();
    let entry = w["entry"]
        .as_str()
        .unwrap()
        .replacen("index 2\n", "index 02\n", 1);
    w["entry"] = entry.into();
    assert_says(
        &refused(&w.to_string(), &keys),
        &["tlog-proof in entry", "leading zeroes"],
    );

    let mut w = v.clone();
    let s = w["key_history"][0].as_str().unwrap().replacen(
        "c2sp.org/tlog-proof@v1",
        "c2sp.org/tlog-proof@v2",
        1,
    );
    w["key_history"][0] = s.into();
    assert_says(
        &refused(&w.to_string(), &keys),
        &["tlog-proof in key_history", "first line"],
    );

    let big = vec![b' '; bundle::MAX_BUNDLE_BYTES + 1];
    let e = bundle::verify(&big, &keys).unwrap_err();
    assert!(e.to_string().contains("limit"), "{e}");
}

#[test]
fn tlog_proof_text_round_trips() {
    let (log, _) = world();
    let cp = log.checkpoint();
    for i in 0..4 {
        let p = log.tlog_proof(i, &cp);
        let text = p.to_text();
        assert!(text.starts_with("c2sp.org/tlog-proof@v1\nextra "), "{text}");
        assert!(text.contains(&format!("\nindex {i}\n")));
        assert!(text.ends_with(std::str::from_utf8(&cp).unwrap()));
        assert_eq!(TlogProof::parse(&text, "entry").unwrap(), p);
    }
}

/// A cosigner key is tied to a party by its name alone, `<origin>/witness`;
/// a verifier reports any other name as no party's, never as the nearest one.
#[test]
fn a_cosigner_is_named_as_the_party_whose_log_names_it() {
    assert_eq!(bundle::witness_party("hotline/ru/witness"), Some("ru"));
    assert_eq!(
        bundle::witness_party("example/gov/nato/witness"),
        Some("nato")
    );
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
        bundle::describe_cosigner("hotline/ru/witness"),
        "ru's witness (hotline/ru/witness)"
    );
    assert_eq!(
        bundle::describe_cosigner("witness.example.org"),
        "witness witness.example.org (named after no party's log)"
    );
}

/// The tlog-proofs of entries `at` of `log`, under one checkpoint of the whole log.
fn proofs(log: &Log, at: &[u64]) -> Vec<TlogProof> {
    let cp = log.checkpoint();
    at.iter().map(|&i| log.tlog_proof(i, &cp)).collect()
}

fn bundle_of(log: &Log, index: u64, history: &[u64]) -> String {
    let cp = log.checkpoint();
    bundle::inclusion_bundle(&log.tlog_proof(index, &cp), &proofs(log, history))
}

#[test]
fn version_1_bundles_are_refused_saying_why() {
    let (log, _) = world();
    let (entry, history) = parts(&log.bundle(2, Some(0)));
    let v1 = serde_json::json!({
        "bundle": bundle::INCLUSION_V1,
        "entry": entry.to_text(),
        "signer_key": history[0].to_text(),
    });
    let e = refused(&v1.to_string(), &log.keyring());
    assert!(matches!(e, BundleError::Superseded { .. }), "{e:?}");
    assert_says(
        &e,
        &[
            "hotline/inclusion/v1 is no longer accepted",
            "rotated or revoked",
            bundle::INCLUSION_V2,
            "hotline prove entry",
        ],
    );
}

#[test]
fn the_key_history_follows_prev_and_the_sentence_names_how_far() {
    let (mut log, fbi) = world();
    let cia = OfficeKeys::generate(office("us/cia"), &mut os_rng());
    assert_eq!(log.announce(cia.public(), KeyAction::Announce), 4);
    assert_eq!(log.message(&fbi, "ru/fsb"), 5);
    assert_eq!(log.key_chain(5, 0), vec![4, 0]);
    let b = log.bundle(5, Some(0));
    let v = bundle::verify(b.as_bytes(), &log.keyring()).unwrap();
    let s = v.sentence();
    assert!(
        s.contains(
            "signed by us/fbi with the key the log announced in entry 0 and had not rotated or revoked by key entry 4, the latest this bundle shows"
        ),
        "{s}"
    );
    let p = proved(v);
    assert_eq!((p.key_index, p.key_through), (Some(0), Some(4)));
    // A chain of one says so.
    let v = bundle::verify(log.bundle(2, Some(0)).as_bytes(), &log.keyring()).unwrap();
    assert!(
        v.sentence().contains(
            "with the key the log announced in entry 0, the latest key entry this bundle shows"
        ),
        "{}",
        v.sentence()
    );
    // Out of order, or not linked by prev: refused.
    for (chain, why) in [
        (
            &[0, 4][..],
            "key entry 0 names none as the previous key entry, not 4",
        ),
        (
            &[4, 4][..],
            "key entry 4 names 0 as the previous key entry, not 4",
        ),
    ] {
        let e = refused(&bundle_of(&log, 5, chain), &log.keyring());
        assert_says(&e, &["key history", why]);
    }
    // The key history of a party-signed entry is refused, not ignored.
    let e = refused(&bundle_of(&log, 4, &[0]), &log.keyring());
    assert_says(
        &e,
        &[
            "signed by party us with its log key",
            "needs no key history",
        ],
    );
}

#[test]
fn an_entry_after_its_office_was_revoked_is_refused() {
    let (mut log, fbi) = world();
    let cia = OfficeKeys::generate(office("us/cia"), &mut os_rng());
    let svr = OfficeKeys::generate(office("us/svr"), &mut os_rng());
    assert_eq!(log.announce(cia.public(), KeyAction::Announce), 4);
    assert_eq!(log.announce(fbi.public(), KeyAction::Revoke), 5);
    assert_eq!(log.announce(svr.public(), KeyAction::Announce), 6);
    assert_eq!(log.message(&fbi, "ru/fsb"), 7);
    assert_eq!(log.key_chain(7, 0), vec![6, 5, 4, 0]);
    let e = refused(&log.bundle(7, Some(0)), &log.keyring());
    assert!(matches!(e, BundleError::SignerKey(_)), "{e:?}");
    assert_says(
        &e,
        &[
            "entry 7",
            "entry 5 revoked the keys of us/fbi",
            "can no longer sign",
        ],
    );
    // Leaving the revocation out of the chain breaks the prev links…
    let e = refused(&bundle_of(&log, 7, &[6, 4, 0]), &log.keyring());
    assert_says(
        &e,
        &["key entry 6 names 5 as the previous key entry, not 4"],
    );
    // …and so does ending the chain before the key of the signing office.
    let e = refused(&bundle_of(&log, 7, &[6, 5, 4]), &log.keyring());
    assert_says(&e, &["key entry 4 announces us/cia, not us/fbi"]);
    // What the history cannot show: a chain that starts before the
    // revocation verifies, and its sentence says how far it looked.
    let v = bundle::verify(bundle_of(&log, 7, &[4, 0]).as_bytes(), &log.keyring()).unwrap();
    assert!(
        v.sentence()
            .contains("had not rotated or revoked by key entry 4, the latest this bundle shows"),
        "{}",
        v.sentence()
    );
    // An entry from before the revocation still verifies.
    let v = bundle::verify(log.bundle(3, Some(0)).as_bytes(), &log.keyring()).unwrap();
    assert_eq!(proved(v).key_index, Some(0));
}

#[test]
fn an_entry_signed_with_a_rotated_away_key_is_refused() {
    let (mut log, fbi) = world();
    let fbi2 = OfficeKeys::generate(office("us/fbi"), &mut os_rng());
    assert_eq!(log.announce(fbi2.public(), KeyAction::Rotate), 4);
    assert_eq!(log.message(&fbi, "ru/fsb"), 5);
    assert_eq!(log.message(&fbi2, "ru/fsb"), 6);
    let e = refused(&log.bundle(5, Some(0)), &log.keyring());
    assert!(matches!(e, BundleError::SignerKey(_)), "{e:?}");
    assert_says(
        &e,
        &[
            "entry 5",
            "signed with the key of us/fbi announced in entry 0, which entry 4 rotated away",
        ],
    );
    // Without the old announcement, the signature just fails under the new key.
    let e = refused(&bundle_of(&log, 5, &[4]), &log.keyring());
    assert!(
        matches!(
            e,
            BundleError::Entry {
                part: "entry",
                source: EntryError::BadSignature { .. }
            }
        ),
        "{e:?}"
    );
    // The new key signs from the rotation on; the old one signed before it.
    let v = bundle::verify(log.bundle(6, Some(4)).as_bytes(), &log.keyring()).unwrap();
    assert_eq!(proved(v).key_index, Some(4));
    let v = bundle::verify(log.bundle(3, Some(0)).as_bytes(), &log.keyring()).unwrap();
    assert_eq!(proved(v).key_index, Some(0));
    // The new key does not reach back before the rotation.
    let mut log = Log::new();
    log.announce(fbi.public(), KeyAction::Announce); // 0
    let early = log.message(&fbi2, "ru/fsb"); // 1
    log.announce(fbi2.public(), KeyAction::Rotate); // 2
    let e = refused(&log.bundle(early, Some(0)), &log.keyring());
    assert_says(
        &e,
        &["entry in entry", "signature of us/fbi does not verify"],
    );
}

/// A bundle whose key history starts before a revocation verifies (the
/// history cannot show what it leaves out), so its sentence says on what
/// the key's currency rests: on another party's pinned witness that cosigned
/// the tree (whose mirror refuses an entry signed with a revoked or
/// rotated-away key), or else on the log's own bundle alone — never on a
/// witness of the log's own party, nor on a cosigner named after no
/// party's log.
#[test]
fn the_sentence_says_on_whom_the_keys_currency_rests() {
    let (mut log, fbi) = world();
    let cia = OfficeKeys::generate(office("us/cia"), &mut os_rng());
    assert_eq!(log.announce(cia.public(), KeyAction::Announce), 4);
    assert_eq!(log.announce(fbi.public(), KeyAction::Revoke), 5);
    assert_eq!(log.message(&fbi, "ru/fsb"), 6);
    let shown = "signed by us/fbi with the key the log announced in entry 0 and had not rotated or revoked by key entry 4, the latest this bundle shows";
    let weak = format!(
        "{shown}; that no later key entry before this entry rotated or revoked that key rests on the log's own bundle alone (no other party's witness cosigned this tree)."
    );
    let strong = format!(
        "{shown}; that no later key entry before this entry rotated or revoked that key rests on ru's witness (hotline/ru/witness), which cosigned this tree: a hotline witness cosigns only a log its mirror verified entry by entry, key entries included."
    );
    let sentence = |log: &Log, keys: &Keyring| {
        bundle::verify(bundle_of(log, 6, &[4, 0]).as_bytes(), keys)
            .unwrap()
            .sentence()
    };
    let s = sentence(&log, &log.keyring());
    assert!(s.ends_with(&strong), "{s}");
    let party_only = Keyring::new([log.party.verifier()]);
    let s = sentence(&log, &party_only);
    assert!(s.ends_with(&weak), "{s}");
    for name in ["hotline/us/witness", "witness.example.org"] {
        log.witness = NoteKey::generate(name, ALG_COSIGNATURE_V1, &mut os_rng()).unwrap();
        let s = sentence(&log, &log.keyring());
        assert!(s.contains("cosigned by "), "{name}: {s}");
        assert!(s.ends_with(&weak), "{name}: {s}");
    }
    // An honest bundle of an entry before the revocation says the same
    // about its key; the party's own entries need no key and say nothing.
    let s = bundle::verify(log.bundle(3, Some(0)).as_bytes(), &party_only)
        .unwrap()
        .sentence();
    assert!(
        s.ends_with(
            "signed by us/fbi with the key the log announced in entry 0, the latest key entry this bundle shows; that no later key entry before this entry rotated or revoked that key rests on the log's own bundle alone (no other party's witness cosigned this tree)."
        ),
        "{s}"
    );
    let s = bundle::verify(log.bundle(4, None).as_bytes(), &log.keyring())
        .unwrap()
        .sentence();
    assert!(s.ends_with("signed by party us with its log key."), "{s}");
}
