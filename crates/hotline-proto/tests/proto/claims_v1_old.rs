//! Claim bundles (delivery, answered, absence, stats, opening, statement) built from two
//! small logs in memory, verified offline with nothing but pinned keys, and
//! refused — naming what failed — when anything in them is changed.
//!
//! The world: `us` and `ru`, each with a log key and a witness that cosigns
//! the other's checkpoints, offices `us/fbi` and `ru/fsb`, and an agreement
//! (acknowledge within 1 day, answer within 30 days). July 2021:
//!
//! | us | | ru | |
//! |---|---|---|---|
//! | 0 key us/fbi | | 0 key ru/fsb | |
//! | 1 agreement proposal | | 1 agreement signature | |
//! | 2 message (June 20) | | 2 receipt of us:2 | |
//! | 3 inquiry (Jul 2) | | 3 receipt of us:3, 4 ack (+2h), 5 answer (+3d) | in time |
//! | 4 message (Jul 5) | | 6 receipt of us:4 | |
//! | 5 inquiry (Jul 10) | | 7 receipt, 8 ack (+2d), 9 answer (+41d) | late |
//! | 6 inquiry (Jul 20) | | 10 receipt | never answered |
//! | 7 closing ack of us:3 | | | |
//! | 8 message to ru/svr | | 11 receipt by ru: refused | |
//!
//! Checkpoints: us at size 3 cosigned by ru's witness on June 25, at size 9
//! on Aug 25; ru at size 2 cosigned by us's witness on June 25, at size 12
//! on Sep 1.

use std::time::Instant;

use hotline_proto::b64;
use hotline_proto::bundle::{self, BundleError, Keyring, TlogProof, Verified};
use hotline_proto::checkpoint;
use hotline_proto::claims::absence::{AbsenceClaim, absence_bundle};
use hotline_proto::claims::answered::answered_bundle;
use hotline_proto::claims::delivery::{ReceiptStatus, delivery_bundle};
use hotline_proto::claims::opening::opening_bundle;
use hotline_proto::claims::statement::statement_bundle;
use hotline_proto::claims::stats::{Channel, Outcome, stats_bundle};
use hotline_proto::claims::{EntryProof, LogRange};
use hotline_proto::entry::{
    BodyCommitment, HEADER_VERSION, Header, KeyAction, KeyAnnouncement, Kind, Ref, SignedEntry,
    text_digest,
};
use hotline_proto::keys::{
    ALG_COSIGNATURE_V1, ALG_ED25519, NoteKey, OfficeKeys, OfficePublic, os_rng,
};
use hotline_proto::name::{Office, Party};
use hotline_proto::seal;
use hotline_proto::tree::{self, MemoryTree};
use jiff::Timestamp;

use super::common::flipped;

const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;
/// 2021-07-01T00:00:00Z.
const JULY: i64 = 1_625_097_600;

fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(JULY + secs).unwrap()
}

fn unix(secs: i64) -> u64 {
    (JULY + secs) as u64
}

fn office(s: &str) -> Office {
    Office::new(s).unwrap()
}

fn header(log: &str, kind: Kind, from: &str, to: Option<&str>, time: Timestamp) -> Header {
    Header {
        v: HEADER_VERSION,
        log: Party::new(log).unwrap(),
        kind,
        from: from.into(),
        to: to.map(office),
        agreement: None,
        time,
        refs: vec![],
        prev: None,
        body: None,
        key: None,
        status: None,
        terms: None,
        digest: None,
    }
}

/// One party's log, its log key, and its witness (which cosigns the other
/// party's checkpoints).
struct Side {
    party: &'static str,
    log: NoteKey,
    witness: NoteKey,
    tree: MemoryTree,
    entries: Vec<SignedEntry>,
}

impl Side {
    fn new(party: &'static str) -> Self {
        let origin = format!("hotline/{party}");
        Self {
            party,
            log: NoteKey::generate(&origin, ALG_ED25519, &mut os_rng()).unwrap(),
            witness: NoteKey::generate(
                &format!("{origin}/witness"),
                ALG_COSIGNATURE_V1,
                &mut os_rng(),
            )
            .unwrap(),
            tree: MemoryTree::new(),
            entries: vec![],
        }
    }

    fn push(&mut self, e: SignedEntry) -> u64 {
        let i = self.tree.push(e.leaf());
        self.entries.push(e);
        i
    }

    fn by_party(&mut self, h: Header) -> u64 {
        let e = SignedEntry::sign(h, |m| self.log.sign_raw(m)).unwrap();
        self.push(e)
    }

    fn by_office(&mut self, k: &OfficeKeys, h: Header) -> u64 {
        let e = SignedEntry::sign(h, |m| k.sign_raw(m)).unwrap();
        self.push(e)
    }

    fn header(&self, kind: Kind, from: &str, to: Option<&str>, time: Timestamp) -> Header {
        header(self.party, kind, from, to, time)
    }

    fn announce(&mut self, keys: OfficePublic, time: Timestamp) -> u64 {
        let mut h = self.header(Kind::Key, self.party, None, time);
        h.key = Some(KeyAnnouncement {
            action: KeyAction::Announce,
            keys,
        });
        self.by_party(h)
    }

    fn reference(&self, index: u64) -> Ref {
        Ref {
            log: Party::new(self.party).unwrap(),
            index,
            leaf_hash: b64::encode(self.entries[index as usize].leaf_hash().0),
        }
    }

    /// The signed checkpoint of the first `size` entries with these cosignatures.
    fn checkpoint(&self, size: u64, cosigs: &[(&NoteKey, u64)]) -> Vec<u8> {
        let note = checkpoint::sign(&self.log, size, self.tree.root_at(size).unwrap()).unwrap();
        let (text, _) = checkpoint::split(&note).unwrap();
        let lines: String = cosigs
            .iter()
            .map(|(k, t)| checkpoint::cosign_line(k, text, *t).unwrap())
            .collect();
        checkpoint::add_lines(&note, &lines)
    }

    fn tlog_proof(&self, index: u64, cp: &[u8]) -> TlogProof {
        let (_, size, _) = checkpoint::peek(cp).unwrap();
        bundle::tlog_proof(
            self.entries[index as usize].leaf(),
            index,
            self.tree.inclusion(index, size).unwrap(),
            cp.to_vec(),
        )
    }

    /// The proof of entry `index` under `cp`, with the key entry `key` if an office signed.
    fn proof(&self, index: u64, cp: &[u8], key: Option<u64>) -> EntryProof {
        EntryProof {
            entry: self.tlog_proof(index, cp),
            signer_key: key.map(|k| self.tlog_proof(k, cp)),
        }
    }

    fn range(&self, start: &[u8], end: &[u8]) -> LogRange {
        let (_, a, _) = checkpoint::peek(start).unwrap();
        let (_, b, _) = checkpoint::peek(end).unwrap();
        LogRange {
            start: start.to_vec(),
            end: end.to_vec(),
            frontier: tree::frontier_hashes(&self.tree, a).unwrap(),
            leaves: (a..b)
                .map(|i| self.entries[i as usize].leaf().to_vec())
                .collect(),
        }
    }
}

struct World {
    us: Side,
    ru: Side,
    fbi: OfficeKeys,
    fsb: OfficeKeys,
    /// The opened inquiry's salt and plaintext.
    salt: [u8; 32],
    plaintext: Vec<u8>,
    /// us at size 3 (June 25) and 9 (Aug 25), cosigned by ru's witness.
    us_start: Vec<u8>,
    us_end: Vec<u8>,
    /// ru at size 2 (June 25) and 12 (Sep 1), cosigned by us's witness.
    ru_start: Vec<u8>,
    ru_end: Vec<u8>,
}

fn terms() -> serde_json::Value {
    serde_json::json!({
        "title": "Cybercrime cooperation channel",
        "start": "2021-06-01T00:00:00Z",
        "notice_secs": 30 * DAY,
        "ack_within_secs": DAY,
        "answer_within_secs": 30 * DAY,
        "channels": [{"offices": ["us/fbi", "ru/fsb"], "kinds": ["message", "inquiry", "ack", "answer"]}]
    })
}

fn world() -> World {
    let mut us = Side::new("us");
    let mut ru = Side::new("ru");
    let fbi = OfficeKeys::generate(office("us/fbi"), &mut os_rng());
    let fsb = OfficeKeys::generate(office("ru/fsb"), &mut os_rng());

    assert_eq!(us.announce(fbi.public(), at(-30 * DAY)), 0);
    assert_eq!(ru.announce(fsb.public(), at(-30 * DAY)), 0);
    let mut h = us.header(Kind::Agreement, "us", None, at(-29 * DAY));
    h.status = Some("proposed".into());
    h.terms = Some(serde_json::from_value(terms()).unwrap());
    assert_eq!(us.by_party(h), 1);
    let mut h = ru.header(Kind::Agreement, "ru", None, at(-28 * DAY));
    h.status = Some("signed".into());
    h.refs = vec![us.reference(1)];
    assert_eq!(ru.by_party(h), 1);

    let receipt = |ru: &mut Side, us: &Side, i: u64, t: i64| {
        let mut h = ru.header(Kind::Receipt, "ru/fsb", Some("us/fbi"), at(t));
        h.refs = vec![us.reference(i)];
        h.status = Some("delivered".into());
        ru.by_office(&fsb, h)
    };
    let reply = |ru: &mut Side, us: &Side, kind: Kind, i: u64, t: i64| {
        let mut h = ru.header(kind, "ru/fsb", Some("us/fbi"), at(t));
        h.refs = vec![us.reference(i)];
        h.agreement = Some("us:1".into());
        ru.by_office(&fsb, h)
    };
    let inquiry = |us: &mut Side, t: i64, body: Option<BodyCommitment>| {
        let mut h = us.header(Kind::Inquiry, "us/fbi", Some("ru/fsb"), at(t));
        h.agreement = Some("us:1".into());
        h.body = body;
        us.by_office(&fbi, h)
    };

    let m = us.header(Kind::Message, "us/fbi", Some("ru/fsb"), at(-11 * DAY));
    assert_eq!(us.by_office(&fbi, m), 2);
    assert_eq!(receipt(&mut ru, &us, 2, -11 * DAY + 60), 2);

    let salt = [7u8; 32];
    let plaintext = serde_json::to_vec(&serde_json::json!({
        "subject": "Ransomware on a hospital network",
        "text": "Please identify the operators of 203.0.113.7.",
        "lang": "en",
        "stix": {"type": "bundle"}
    }))
    .unwrap();
    let body = BodyCommitment {
        sealed: b64::encode(seal::sealed_hash(b"sealed")),
        size: 6,
        commitment: b64::encode(seal::commitment(&salt, &plaintext)),
    };
    assert_eq!(inquiry(&mut us, DAY + 10 * HOUR, Some(body)), 3);
    assert_eq!(receipt(&mut ru, &us, 3, DAY + 10 * HOUR + 60), 3);
    assert_eq!(reply(&mut ru, &us, Kind::Ack, 3, DAY + 12 * HOUR), 4);
    assert_eq!(reply(&mut ru, &us, Kind::Answer, 3, 4 * DAY + 10 * HOUR), 5);

    let m = us.header(Kind::Message, "us/fbi", Some("ru/fsb"), at(4 * DAY));
    assert_eq!(us.by_office(&fbi, m), 4);
    assert_eq!(receipt(&mut ru, &us, 4, 4 * DAY + 60), 6);

    assert_eq!(inquiry(&mut us, 9 * DAY, None), 5);
    assert_eq!(receipt(&mut ru, &us, 5, 9 * DAY + 60), 7);
    assert_eq!(reply(&mut ru, &us, Kind::Ack, 5, 11 * DAY), 8);
    assert_eq!(reply(&mut ru, &us, Kind::Answer, 5, 50 * DAY), 9);

    assert_eq!(inquiry(&mut us, 19 * DAY, None), 6);
    assert_eq!(receipt(&mut ru, &us, 6, 19 * DAY + 60), 10);

    let mut h = us.header(Kind::Ack, "us/fbi", Some("ru/fsb"), at(31 * DAY));
    h.refs = vec![us.reference(3)];
    h.status = Some("closed".into());
    assert_eq!(us.by_office(&fbi, h), 7);

    let m = us.header(Kind::Message, "us/fbi", Some("ru/svr"), at(40 * DAY));
    assert_eq!(us.by_office(&fbi, m), 8);
    let mut h = ru.header(Kind::Receipt, "ru", Some("us/fbi"), at(40 * DAY + 60));
    h.refs = vec![us.reference(8)];
    h.status = Some("refused: ru/svr is not an office of this party".into());
    assert_eq!(ru.by_party(h), 11);

    let us_start = us.checkpoint(3, &[(&ru.witness, unix(-6 * DAY))]);
    let us_end = us.checkpoint(9, &[(&ru.witness, unix(55 * DAY))]);
    let ru_start = ru.checkpoint(2, &[(&us.witness, unix(-6 * DAY))]);
    let ru_end = ru.checkpoint(12, &[(&us.witness, unix(62 * DAY))]);
    World {
        us,
        ru,
        fbi,
        fsb,
        salt,
        plaintext,
        us_start,
        us_end,
        ru_start,
        ru_end,
    }
}

impl World {
    fn keys(&self) -> Keyring {
        Keyring::new([
            self.us.log.verifier(),
            self.ru.log.verifier(),
            self.us.witness.verifier(),
            self.ru.witness.verifier(),
        ])
    }

    /// An entry of us under us's end checkpoint (office entries with key us:0).
    fn us_proof(&self, i: u64) -> EntryProof {
        let key = (self.us.entries[i as usize].header().from != "us").then_some(0);
        self.us.proof(i, &self.us_end, key)
    }

    fn ru_proof(&self, i: u64) -> EntryProof {
        let key = (self.ru.entries[i as usize].header().from != "ru").then_some(0);
        self.ru.proof(i, &self.ru_end, key)
    }

    fn delivery(&self, entry: u64, receipt: u64) -> String {
        delivery_bundle(&self.us_proof(entry), &self.ru_proof(receipt))
    }

    fn answered(
        &self,
        inquiry: u64,
        receipt: Option<u64>,
        acks: &[u64],
        answers: &[u64],
    ) -> String {
        let acks: Vec<EntryProof> = acks
            .iter()
            .map(|&i| {
                if self.ru.entries.len() > i as usize
                    && self.ru.entries[i as usize].header().kind == Kind::Ack
                {
                    self.ru_proof(i)
                } else {
                    self.us_proof(i)
                }
            })
            .collect();
        let answers: Vec<EntryProof> = answers.iter().map(|&i| self.ru_proof(i)).collect();
        answered_bundle(
            &self.us_proof(inquiry),
            receipt.map(|r| self.ru_proof(r)).as_ref(),
            &self.us_proof(1),
            &self.ru_proof(1),
            &acks,
            &answers,
        )
    }

    fn absence_claim(&self, to: &str) -> AbsenceClaim {
        AbsenceClaim {
            origin: "hotline/us".into(),
            kind: Kind::Inquiry,
            from: office("us/fbi"),
            to: office(to),
            since: at(0),
            until: at(31 * DAY),
        }
    }

    fn absence(&self, to: &str) -> String {
        absence_bundle(
            &self.absence_claim(to),
            &self.us.range(&self.us_start, &self.us_end),
        )
    }

    fn stats(&self) -> String {
        stats_bundle(
            &Channel {
                from: office("us/fbi"),
                to: office("ru/fsb"),
            },
            "2021-07",
            &self.us_proof(1),
            &self.ru_proof(1),
            &self.us.range(&self.us_start, &self.us_end),
            &self.ru.range(&self.ru_start, &self.ru_end),
        )
    }

    fn opening(&self, salt: &[u8; 32], plaintext: &[u8]) -> String {
        opening_bundle(&self.us_proof(3), salt, plaintext)
    }
}

fn refused(bundle: &str, keys: &Keyring) -> BundleError {
    match bundle::verify(bundle.as_bytes(), keys) {
        Ok(v) => panic!("bundle verified: {}", v.sentence()),
        Err(e) => e,
    }
}

fn says(text: &str, parts: &[&str]) {
    for p in parts {
        assert!(text.contains(p), "{text:?} should contain {p:?}");
    }
}

fn sentence(bundle: &str, keys: &Keyring) -> String {
    match bundle::verify(bundle.as_bytes(), keys) {
        Ok(v) => {
            let s = v.sentence();
            eprintln!("{s}");
            s
        }
        Err(e) => panic!("bundle refused: {e}"),
    }
}

/// Flips a dense sample of the bundle's bytes (about `samples` positions,
/// two bit masks each, with an odd stride). A flip may only verify if it
/// lies in the name or key id of a witness's cosignature line — which turns
/// that cosignature into one by an unknown key that is ignored, so the
/// bundle proves the same with one cosigner fewer, and the sentence may lose,
/// never gain, a cosigner — or in the bundle's own statement of its claim
/// before `claim_end` (an absence's office names, kind and window), where it
/// may only verify as *another* claim that the evidence also proves, which
/// the sentence must then state instead of the original.
fn flips_fail(bundle: &str, keys: &Keyring, samples: usize) {
    flips_fail_with_claim(bundle, keys, samples, 0)
}

fn flips_fail_with_claim(bundle: &str, keys: &Keyring, samples: usize, claim_end: usize) {
    let orig = sentence(bundle, keys);
    let mut weak = vec![];
    for name in ["hotline/us/witness", "hotline/ru/witness"] {
        let marker = format!("\u{2014} {name} ");
        for (i, _) in bundle.match_indices(&marker) {
            weak.push(i..i + marker.len() + 6);
        }
    }
    let stride = (bundle.len() / samples).max(1) | 1;
    let start = Instant::now();
    let (mut refused_n, mut weakened, mut changed) = (0, 0, 0);
    for at in (0..bundle.len()).step_by(stride) {
        for mask in [0x01u8, 0x20] {
            let bad = flipped(bundle.as_bytes(), at, mask);
            let Ok(v) = bundle::verify(&bad, keys) else {
                refused_n += 1;
                continue;
            };
            let ctx =
                String::from_utf8_lossy(&bad[at.saturating_sub(30)..(at + 30).min(bad.len())])
                    .into_owned();
            let s = v.sentence();
            if at < claim_end {
                assert_ne!(
                    s, orig,
                    "flip of byte {at} in the claim verified as the same claim"
                );
                changed += 1;
                continue;
            }
            assert!(
                weak.iter().any(|r| r.contains(&at)),
                "flip of byte {at} with {mask:#04x} verified: {ctx:?}\n{s}"
            );
            assert!(
                s.matches(" at 2021-").count() <= orig.matches(" at 2021-").count(),
                "flip at {at} gained a cosignature: {s}"
            );
            weakened += 1;
        }
    }
    assert!(refused_n > 0);
    eprintln!(
        "{} bytes, stride {stride}: {refused_n} flips refused, {weakened} only dropped a cosignature, {changed} proved another claim, in {:?}",
        bundle.len(),
        start.elapsed()
    );
}

// ---------------------------------------------------------------- delivery

#[test]
fn delivery_verifies_and_names_both_logs_and_both_witnesses() {
    let w = world();
    let b = w.delivery(3, 3);
    let v = bundle::verify(b.as_bytes(), &w.keys()).unwrap();
    let s = v.sentence();
    eprintln!("{s}");
    let Verified::Delivery(d) = v else {
        panic!("not a delivery: {s}")
    };
    assert_eq!(d.status, ReceiptStatus::Delivered);
    assert_eq!((d.entry.index, d.receipt.index), (3, 3));
    says(
        &s,
        &[
            "Entry us:3 — an inquiry from us/fbi to ru/fsb, dated 2021-07-02T10:00:00Z by its writer — is in hotline/us (tree of size 9",
            "cosigned by ru's witness (hotline/ru/witness) at 2021-08-25T00:00:00Z)",
            "ru acknowledged receiving it in its own log, entry ru:3 dated 2021-07-02T10:01:00Z by ru/fsb (tree of size 12",
            "cosigned by us's witness (hotline/us/witness) at 2021-09-01T00:00:00Z)",
        ],
    );
    assert!(!s.contains("does not show"), "{s}");
}

#[test]
fn delivery_says_when_the_receiver_was_not_shown_the_entrys_tree() {
    let w = world();
    let third = NoteKey::generate("hotline/un/witness", ALG_COSIGNATURE_V1, &mut os_rng()).unwrap();
    let cp = w.us.checkpoint(9, &[(&third, unix(56 * DAY))]);
    let b = delivery_bundle(&w.us.proof(3, &cp, Some(0)), &w.ru_proof(3));
    let mut keys = vec![
        w.us.log.verifier(),
        w.ru.log.verifier(),
        w.us.witness.verifier(),
        w.ru.witness.verifier(),
        third.verifier(),
    ];
    let s = sentence(&b, &Keyring::new(keys.clone()));
    says(
        &s,
        &[
            "cosigned by un's witness (hotline/un/witness) at 2021-08-26T00:00:00Z; not cosigned by ru's witness hotline/ru/witness, so this evidence does not show that ru was shown it",
        ],
    );
    // Without any pinned cosignature the same is said, and it still verifies.
    keys.pop();
    let s = sentence(&b, &Keyring::new(keys));
    says(
        &s,
        &["no pinned witness cosigned it; not cosigned by ru's witness hotline/ru/witness"],
    );
}

#[test]
fn a_refusal_receipt_proves_delivery_and_refusal() {
    let w = world();
    let v = bundle::verify(w.delivery(8, 11).as_bytes(), &w.keys()).unwrap();
    let s = v.sentence();
    eprintln!("{s}");
    let Verified::Delivery(d) = v else { panic!() };
    assert!(matches!(d.status, ReceiptStatus::Refused(_)));
    says(
        &s,
        &[
            "a message from us/fbi to ru/svr",
            "ru acknowledged receiving it and refused it (status \"refused: ru/svr is not an office of this party\") in its own log, entry ru:11",
            "by ru (",
        ],
    );
}

#[test]
fn delivery_parts_that_do_not_fit_are_refused() {
    let w = world();
    let keys = w.keys();
    // The receipt of another entry.
    let e = refused(&w.delivery(3, 6), &keys);
    assert!(matches!(e, BundleError::Mismatch(_)), "{e:?}");
    says(
        &e.to_string(),
        &["receipt ru:6 does not reference entry us:3"],
    );
    // An ack in place of the receipt.
    let e = refused(&w.delivery(3, 4), &keys);
    says(
        &e.to_string(),
        &["receipt ru:4 is an ack from ru/fsb to us/fbi, not a receipt"],
    );
    // An entry addressed to no office.
    let e = refused(&w.delivery(1, 3), &keys);
    says(&e.to_string(), &["entry us:1 is addressed to no office"]);
    // Entry and receipt swapped.
    let b = delivery_bundle(&w.ru_proof(3), &w.us_proof(3));
    says(&refused(&b, &keys).to_string(), &["not a receipt"]);
    // A receipt whose proof is broken says which part failed.
    let mut r = w.ru_proof(3);
    r.entry.proof[0].0[0] ^= 1;
    let e = refused(&delivery_bundle(&w.us_proof(3), &r), &keys);
    assert!(
        matches!(&e, BundleError::In { part, .. } if part == "receipt"),
        "{e:?}"
    );
    says(&e.to_string(), &["receipt: Merkle proof in entry"]);
    // The entry under another (older, genuine) checkpoint that does not hold it.
    let mut p = w.us_proof(3);
    p.entry.checkpoint = w.us_start.clone();
    let e = refused(&delivery_bundle(&p, &w.ru_proof(3)), &keys);
    says(
        &e.to_string(),
        &[
            "entry: Merkle proof in entry",
            "index 3 in a tree of size 3",
        ],
    );
    // The receipt under the other log's checkpoint.
    let mut r = w.ru_proof(3);
    r.entry.checkpoint = w.us_end.clone();
    let e = refused(&delivery_bundle(&w.us_proof(3), &r), &keys);
    says(&e.to_string(), &["receipt: Merkle proof in entry"]);
    // The receipt's office key entry missing.
    let mut r = w.ru_proof(3);
    r.signer_key = None;
    let e = refused(&delivery_bundle(&w.us_proof(3), &r), &keys);
    says(
        &e.to_string(),
        &["receipt: signer key", "no signer_key proof"],
    );
    // Without ru's pinned log key, the receipt proves nothing.
    let only_us = Keyring::new([w.us.log.verifier(), w.ru.witness.verifier()]);
    says(
        &refused(&w.delivery(3, 3), &only_us).to_string(),
        &["receipt: no pinned log key for hotline/ru"],
    );
    // A receipt signed by another office of ru.
    let mut ru = Side::new("ru");
    ru.log = NoteKey::from_skey(&w.ru.log.to_skey()).unwrap();
    ru.entries = w.ru.entries.clone();
    ru.tree = w.ru.tree.clone();
    let svr = OfficeKeys::generate(office("ru/svr"), &mut os_rng());
    let k = ru.announce(svr.public(), at(DAY));
    let mut h = ru.header(
        Kind::Receipt,
        "ru/svr",
        Some("us/fbi"),
        at(DAY + 10 * HOUR + 60),
    );
    h.refs = vec![w.us.reference(3)];
    h.status = Some("delivered".into());
    let r = ru.by_office(&svr, h);
    let cp = ru.checkpoint(ru.tree.size(), &[]);
    let b = delivery_bundle(&w.us_proof(3), &ru.proof(r, &cp, Some(k)));
    says(
        &refused(&b, &keys).to_string(),
        &["is signed by ru/svr, not by the addressed office ru/fsb or party ru"],
    );
}

#[test]
fn delivery_flipped_bytes_fail() {
    let w = world();
    flips_fail(&w.delivery(3, 3), &w.keys(), 500);
}

// ---------------------------------------------------------------- answered

#[test]
fn answered_in_time_verifies_and_reports_both_deadlines() {
    let w = world();
    let b = w.answered(3, Some(3), &[4, 7], &[5]);
    let v = bundle::verify(b.as_bytes(), &w.keys()).unwrap();
    let s = v.sentence();
    eprintln!("{s}");
    let Verified::Answered(a) = v else { panic!() };
    assert_eq!(a.ack.met, Some(true));
    assert_eq!(a.ack.delay_secs, Some(2 * HOUR));
    assert_eq!(a.answer.met, Some(true));
    assert_eq!(a.answer.delay_secs, Some(3 * DAY));
    assert_eq!(a.closed.len(), 1);
    says(
        &s,
        &[
            "Inquiry us:3 — an inquiry from us/fbi to ru/fsb, dated 2021-07-02T10:00:00Z by its writer — was sent under agreement us:1 (\"Cybercrime cooperation channel\", proposed by us and signed by ru), in force at that time",
            "cosigned by ru's witness (hotline/ru/witness) at 2021-08-25T00:00:00Z",
            "ru receipted it as delivered in entry ru:3",
            "It was acknowledged within the agreed 1d: first by ack ru:4 dated 2021-07-02T12:00:00Z by ru/fsb, 2h after the inquiry; a tree holding it was cosigned by us's witness (hotline/us/witness) at 2021-09-01T00:00:00Z.",
            "It was answered within the agreed 30d: first by answer ru:5 dated 2021-07-05T10:00:00Z by ru/fsb, 3d after the inquiry",
            "us/fbi closed it in us:7",
            "writers' clocks",
        ],
    );
    // The receipt is optional, and answers alone acknowledge.
    let s = sentence(&w.answered(3, None, &[], &[5]), &w.keys());
    says(
        &s,
        &["It was acknowledged not within the agreed 1d: first by answer ru:5"],
    );
    assert!(!s.contains("receipted"), "{s}");
}

#[test]
fn answered_late_says_not_within() {
    let w = world();
    let v = bundle::verify(w.answered(5, Some(7), &[8], &[9]).as_bytes(), &w.keys()).unwrap();
    let s = v.sentence();
    eprintln!("{s}");
    let Verified::Answered(a) = v else { panic!() };
    assert_eq!((a.ack.met, a.answer.met), (Some(false), Some(false)));
    says(
        &s,
        &[
            "It was acknowledged not within the agreed 1d: first by ack ru:8 dated 2021-07-12T00:00:00Z by ru/fsb, 2d after the inquiry",
            "It was answered not within the agreed 30d: first by answer ru:9 dated 2021-08-20T00:00:00Z by ru/fsb, 41d after the inquiry",
        ],
    );
    // An ack alone: the answer is reported missing.
    let s = sentence(&w.answered(5, None, &[8], &[]), &w.keys());
    says(
        &s,
        &["It was not answered in this evidence (the agreed limit is 30d)."],
    );
}

#[test]
fn answered_parts_that_do_not_fit_are_refused() {
    let w = world();
    let keys = w.keys();
    let cases: Vec<(String, &str)> = vec![
        (
            w.answered(6, None, &[], &[]),
            "the bundle holds no ack or answer by ru/fsb for inquiry us:6",
        ),
        (
            w.answered(5, None, &[4], &[]),
            "acks[0] (ru:4, an ack from ru/fsb to us/fbi) is not an ack referencing inquiry us:5",
        ),
        (
            w.answered(3, None, &[], &[9]),
            "answers[0] (ru:9, an answer from ru/fsb to us/fbi) is not an answer referencing inquiry us:3",
        ),
        (
            w.answered(3, Some(7), &[4], &[]),
            "receipt ru:7 does not reference entry us:3",
        ),
        (
            w.answered(4, None, &[4], &[]),
            "inquiry us:4 is a message from us/fbi to ru/fsb, not an inquiry",
        ),
    ];
    for (b, msg) in cases {
        let e = refused(&b, &keys);
        says(&e.to_string(), &[msg]);
    }
    // The agreement's signature is the proposer's own entry, or another.
    let b = answered_bundle(
        &w.us_proof(3),
        None,
        &w.us_proof(1),
        &w.us_proof(1),
        &[w.ru_proof(4)],
        &[],
    );
    says(
        &refused(&b, &keys).to_string(),
        &["agreement_signature us:1 is not an agreement entry with status \"signed\""],
    );
    let b = answered_bundle(
        &w.us_proof(3),
        None,
        &w.ru_proof(1),
        &w.ru_proof(1),
        &[w.ru_proof(4)],
        &[],
    );
    says(
        &refused(&b, &keys).to_string(),
        &["agreement ru:1 has status \"signed\""],
    );
    // A broken answer proof names its place in the list.
    let mut bad = w.ru_proof(5);
    bad.entry.index = 6;
    let b = answered_bundle(
        &w.us_proof(3),
        None,
        &w.us_proof(1),
        &w.ru_proof(1),
        &[w.ru_proof(4)],
        &[bad],
    );
    let e = refused(&b, &keys);
    says(&e.to_string(), &["answers[0]: Merkle proof in entry"]);
}

#[test]
fn answered_needs_the_agreement_named_and_in_force_and_the_right_offices() {
    let mut w = world();
    let fsb2 = OfficeKeys::generate(office("ru/fsb"), &mut os_rng());
    // us:9, an inquiry naming no agreement; us:10, one dated before the agreement's start.
    let h =
        w.us.header(Kind::Inquiry, "us/fbi", Some("ru/fsb"), at(2 * DAY));
    w.us.by_office(&w.fbi, h);
    let mut h =
        w.us.header(Kind::Inquiry, "us/fbi", Some("ru/fsb"), at(-60 * DAY));
    h.agreement = Some("us:1".into());
    let fbi = OfficeKeys::from_secret_json(&w.fbi.to_secret_json()).unwrap();
    w.us.by_office(&fbi, h);
    // ru:12, an ack of us:3 by ru itself rather than ru/fsb.
    let mut h =
        w.ru.header(Kind::Ack, "ru", Some("us/fbi"), at(DAY + 11 * HOUR));
    h.refs = vec![w.us.reference(3)];
    w.ru.by_party(h);
    // ru:13, an answer of us:3 signed with a key ru never announced.
    let mut h =
        w.ru.header(Kind::Answer, "ru/fsb", Some("us/fbi"), at(DAY + 11 * HOUR));
    h.refs = vec![w.us.reference(3)];
    w.ru.by_office(&fsb2, h);
    w.us_end = w.us.checkpoint(11, &[(&w.ru.witness, unix(55 * DAY))]);
    w.ru_end = w.ru.checkpoint(14, &[(&w.us.witness, unix(62 * DAY))]);
    let keys = w.keys();
    let b = |inq: u64, acks: &[EntryProof], answers: &[EntryProof]| {
        answered_bundle(
            &w.us_proof(inq),
            None,
            &w.us_proof(1),
            &w.ru_proof(1),
            acks,
            answers,
        )
    };
    says(
        &refused(&b(9, &[w.ru_proof(4)], &[]), &keys).to_string(),
        &["inquiry us:9 names agreement \"\", not us:1"],
    );
    says(
        &refused(&b(10, &[w.ru_proof(4)], &[]), &keys).to_string(),
        &["agreement us:1 was not in force at the inquiry's time 2021-05-02T00:00:00Z"],
    );
    says(
        &refused(&b(3, &[w.ru_proof(12)], &[]), &keys).to_string(),
        &["ack ru:12 is by ru in the log of ru, not by the addressed office ru/fsb"],
    );
    says(
        &refused(&b(3, &[], &[w.ru_proof(13)]), &keys).to_string(),
        &["answers[0]: entry in entry: signature of ru/fsb does not verify"],
    );
    // A closing ack by the receiver is not a closing ack (ru:14).
    let mut h =
        w.ru.header(Kind::Ack, "ru/fsb", Some("us/fbi"), at(DAY + 11 * HOUR));
    h.refs = vec![w.us.reference(3)];
    h.status = Some("closed".into());
    let fsb = OfficeKeys::from_secret_json(&w.fsb.to_secret_json()).unwrap();
    w.ru.by_office(&fsb, h);
    w.ru_end = w.ru.checkpoint(15, &[(&w.us.witness, unix(62 * DAY))]);
    let keys = w.keys();
    let b = |inq: u64, acks: &[EntryProof], answers: &[EntryProof]| {
        answered_bundle(
            &w.us_proof(inq),
            None,
            &w.us_proof(1),
            &w.ru_proof(1),
            acks,
            answers,
        )
    };
    says(
        &refused(&b(3, &[w.ru_proof(4), w.ru_proof(14)], &[]), &keys).to_string(),
        &["closing ack ru:14 is by ru/fsb in the log of ru, not by the sending office us/fbi"],
    );
    // A closing ack in the sender's log must be by the sending office: us:7 is.
    let s = sentence(&b(3, &[w.ru_proof(4), w.us_proof(7)], &[]), &keys);
    says(&s, &["us/fbi closed it in us:7"]);
}

#[test]
fn answered_flipped_bytes_fail() {
    let w = world();
    flips_fail(&w.answered(3, Some(3), &[4], &[5]), &w.keys(), 220);
}

// ---------------------------------------------------------------- absence

#[test]
fn absence_verifies_and_says_whose_clock() {
    let w = world();
    let b = w.absence("ru/svr");
    let v = bundle::verify(b.as_bytes(), &w.keys()).unwrap();
    let s = v.sentence();
    eprintln!("{s}");
    let Verified::Absence(a) = v else { panic!() };
    assert_eq!(a.range.entries.len(), 6);
    says(
        &s,
        &[
            "No inquiry from us/fbi to ru/svr became visible in log hotline/us between 2021-06-25T00:00:00Z and 2021-08-25T00:00:00Z (the clock of ru's witness (hotline/ru/witness)), a span that covers 2021-07-01T00:00:00Z – 2021-08-01T00:00:00Z",
            "all 6 entries appended in that span (us:3–us:8) are disclosed (headers only, contents sealed) and none is one",
            "The times rest on the cosigners' clocks",
        ],
    );
    // Nothing appended: an empty range between two checkpoints of one size.
    let cp_a = w.us.checkpoint(9, &[(&w.ru.witness, unix(-DAY))]);
    let cp_b = w.us.checkpoint(9, &[(&w.ru.witness, unix(40 * DAY))]);
    let b = absence_bundle(&w.absence_claim("ru/fsb"), &w.us.range(&cp_a, &cp_b));
    says(
        &sentence(&b, &w.keys()),
        &["the log appended nothing in that span (it stayed at size 9)"],
    );
}

#[test]
fn absence_contradicted_by_a_leaf_names_the_entry() {
    let w = world();
    let e = refused(&w.absence("ru/fsb"), &w.keys());
    assert!(
        matches!(&e, BundleError::Contradicted { entry, .. } if entry == "us:3"),
        "{e:?}"
    );
    says(
        &e.to_string(),
        &[
            "the claim is contradicted by entry us:3: it is an inquiry from us/fbi to ru/fsb, dated 2021-07-02T10:00:00Z",
        ],
    );
}

#[test]
fn absence_window_not_bracketed_is_refused_clearly() {
    let w = world();
    let keys = w.keys();
    let mut claim = w.absence_claim("ru/svr");
    claim.since = at(-7 * DAY);
    let e = refused(
        &absence_bundle(&claim, &w.us.range(&w.us_start, &w.us_end)),
        &keys,
    );
    assert!(matches!(e, BundleError::NotBracketed(_)), "{e:?}");
    says(
        &e.to_string(),
        &[
            "the checkpoints do not bracket the window",
            "no pinned witness cosigned the start checkpoint (size 3) at or before 2021-06-24T00:00:00Z (cosigned by ru's witness (hotline/ru/witness) at 2021-06-25T00:00:00Z)",
        ],
    );
    let mut claim = w.absence_claim("ru/svr");
    claim.until = at(60 * DAY);
    let e = refused(
        &absence_bundle(&claim, &w.us.range(&w.us_start, &w.us_end)),
        &keys,
    );
    says(
        &e.to_string(),
        &[
            "the checkpoints do not bracket the window",
            "end checkpoint (size 9) at or after 2021-08-30",
        ],
    );
    // Without the witness's key pinned, its cosignatures bracket nothing.
    let keys_no_ru_witness = Keyring::new([w.us.log.verifier(), w.us.witness.verifier()]);
    let e = refused(&w.absence("ru/svr"), &keys_no_ru_witness);
    says(
        &e.to_string(),
        &["do not bracket", "no pinned witness cosigned it"],
    );
}

#[test]
fn absence_ranges_that_are_not_the_log_are_refused() {
    let w = world();
    let keys = w.keys();
    let claim = w.absence_claim("ru/svr");
    let good = w.us.range(&w.us_start, &w.us_end);

    let mut r = good.clone();
    r.leaves.remove(2);
    says(
        &refused(&absence_bundle(&claim, &r), &keys).to_string(),
        &["disclosed range: 5 leaves are disclosed but the log appended 6 between sizes 3 and 9"],
    );
    // Dropped and replaced by a duplicate: the count is right, the root is not.
    let mut r = good.clone();
    r.leaves[2] = r.leaves[1].clone();
    says(
        &refused(&absence_bundle(&claim, &r), &keys).to_string(),
        &["do not turn the start tree (size 3) into the end checkpoint's tree (size 9)"],
    );
    let mut r = good.clone();
    r.leaves.swap(0, 1);
    says(
        &refused(&absence_bundle(&claim, &r), &keys).to_string(),
        &["out of order"],
    );
    // A wrong frontier.
    let mut r = good.clone();
    r.frontier[0].0[5] ^= 1;
    says(
        &refused(&absence_bundle(&claim, &r), &keys).to_string(),
        &["the frontier does not fold to the root of the start checkpoint (size 3)"],
    );
    // Swapped checkpoints: another start (size 4) with the same leaves.
    let mut r = good.clone();
    r.start = w.us.checkpoint(4, &[(&w.ru.witness, unix(-6 * DAY))]);
    assert!(
        refused(&absence_bundle(&claim, &r), &keys)
            .to_string()
            .contains("disclosed range")
    );
    // Start and end exchanged.
    let mut r = good.clone();
    std::mem::swap(&mut r.start, &mut r.end);
    says(
        &refused(&absence_bundle(&claim, &r), &keys).to_string(),
        &["start (size 9) is larger than end (size 3)"],
    );
    // The end checkpoint of the other log.
    let mut r = good.clone();
    r.end = w.ru_end.clone();
    says(
        &refused(&absence_bundle(&claim, &r), &keys).to_string(),
        &["start is a checkpoint of hotline/us but end of hotline/ru"],
    );
    // A claim about the other party's offices in this log.
    let mut c = claim.clone();
    c.from = office("ru/fsb");
    c.to = office("us/fbi");
    says(
        &refused(&absence_bundle(&c, &good), &keys).to_string(),
        &["an entry from ru/fsb can only be in the log of ru"],
    );
    // An end checkpoint whose size was edited.
    let mut r = good.clone();
    r.end = String::from_utf8(r.end)
        .unwrap()
        .replacen("\n9\n", "\n8\n", 1)
        .into_bytes();
    r.leaves.pop();
    says(
        &refused(&absence_bundle(&claim, &r), &keys).to_string(),
        &["disclosed range: checkpoint in end", "does not verify"],
    );
}

#[test]
fn absence_flipped_bytes_fail() {
    let w = world();
    let b = w.absence("ru/svr");
    let claim_end = b.find("\"start\"").unwrap();
    flips_fail_with_claim(&b, &w.keys(), 700, claim_end);
}

/// Bundle size for 1,000 disclosed inquiry headers.
#[test]
fn absence_bundle_size_per_thousand_leaves() {
    let mut us = Side::new("us");
    let ru = Side::new("ru");
    let fbi = OfficeKeys::generate(office("us/fbi"), &mut os_rng());
    us.announce(fbi.public(), at(0));
    for i in 0..1000 {
        let mut h = us.header(Kind::Message, "us/fbi", Some("ru/fsb"), at(i));
        h.agreement = Some("us:1".into());
        h.prev = Some(i as u64);
        h.body = Some(BodyCommitment {
            sealed: b64::encode([1u8; 32]),
            size: 12_345,
            commitment: b64::encode([2u8; 32]),
        });
        us.by_office(&fbi, h);
    }
    let a = us.checkpoint(1, &[(&ru.witness, unix(-1))]);
    let b = us.checkpoint(1001, &[(&ru.witness, unix(2000))]);
    let claim = AbsenceClaim {
        origin: "hotline/us".into(),
        kind: Kind::Inquiry,
        from: office("us/fbi"),
        to: office("ru/fsb"),
        since: at(0),
        until: at(1999),
    };
    let bundle = absence_bundle(&claim, &us.range(&a, &b));
    let keys = Keyring::new([us.log.verifier(), ru.witness.verifier()]);
    let start = Instant::now();
    let s = sentence(&bundle, &keys);
    says(
        &s,
        &["all 1000 entries appended in that span (us:1–us:1000)"],
    );
    let leaf = us.entries[1].leaf().len();
    eprintln!(
        "absence bundle with 1000 message headers: {} bytes ({leaf}-byte leaves), verified in {:?}",
        bundle.len(),
        start.elapsed()
    );
    assert!(bundle.len() < 1000 * 700, "{} bytes", bundle.len());
}

// ---------------------------------------------------------------- stats

#[test]
fn stats_count_the_month_from_both_logs() {
    let w = world();
    let v = bundle::verify(w.stats().as_bytes(), &w.keys()).unwrap();
    let s = v.sentence();
    eprintln!("{s}");
    let Verified::Stats(st) = v else { panic!() };
    let ids: Vec<&str> = st.rows.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["us:3", "us:5", "us:6"]);
    assert_eq!(st.sent(), 3);
    assert_eq!(st.delivered(), 3);
    assert_eq!(st.acknowledged_in_time(), 1);
    assert_eq!(st.answered_in_time(), 1);
    let overdue: Vec<&str> = st.overdue().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(overdue, ["us:5", "us:6"]);
    assert_eq!(st.rows[2].ack_outcome, Outcome::Overdue);
    assert_eq!(st.rows[2].receipt.as_ref().unwrap().0, "ru:10");
    says(
        &s,
        &[
            "Channel us/fbi → ru/fsb, 2021-07 (UTC), under agreement us:1 (\"Cybercrime cooperation channel\", proposed by us and signed by ru) (acknowledge within 1d, answer within 30d): 3 inquiries sent",
            "among all 6 entries that log hotline/us appended between 2021-06-25T00:00:00Z and 2021-08-25T00:00:00Z (the clock of ru's witness (hotline/ru/witness))",
            "3 delivered, 1 acknowledged in time, 1 answered in time, 2 overdue by 2021-09-01T00:00:00Z (us:5, us:6) and 0 still open",
            "from all 10 entries that log hotline/ru appended between 2021-06-25T00:00:00Z and 2021-09-01T00:00:00Z (the clock of us's witness (hotline/us/witness))",
        ],
    );
}

#[test]
fn stats_with_an_earlier_horizon_leave_deadlines_open() {
    let w = world();
    // ru's log up to ru:8 (the late ack), cosigned on July 21 at 12:00.
    let end =
        w.ru.checkpoint(9, &[(&w.us.witness, unix(20 * DAY + 12 * HOUR))]);
    let b = stats_bundle(
        &Channel {
            from: office("us/fbi"),
            to: office("ru/fsb"),
        },
        "2021-07",
        &w.us_proof(1),
        &w.ru_proof(1),
        &w.us.range(&w.us_start, &w.us_end),
        &w.ru.range(&w.ru_start, &end),
    );
    let v = bundle::verify(b.as_bytes(), &w.keys()).unwrap();
    let s = v.sentence();
    eprintln!("{s}");
    let Verified::Stats(st) = v else { panic!() };
    // us:5: ack late (overdue); answer due Aug 9, still open. us:6: ack due July 21 00:00, overdue.
    assert_eq!(st.rows[1].answer_outcome, Outcome::Open);
    assert_eq!(st.rows[2].ack_outcome, Outcome::Overdue);
    assert_eq!(st.rows[2].answer_outcome, Outcome::Open);
    says(
        &s,
        &[
            "2 overdue by 2021-07-21T12:00:00Z (us:5, us:6)",
            "0 still open",
        ],
    );
}

#[test]
fn stats_ranges_that_do_not_cover_the_month_or_the_log_are_refused() {
    let w = world();
    let keys = w.keys();
    let ch = Channel {
        from: office("us/fbi"),
        to: office("ru/fsb"),
    };
    let us_range = w.us.range(&w.us_start, &w.us_end);
    let ru_range = w.ru.range(&w.ru_start, &w.ru_end);
    let make = |month: &str, s: &LogRange, r: &LogRange| {
        stats_bundle(&ch, month, &w.us_proof(1), &w.ru_proof(1), s, r)
    };
    // The sender's range ends before the month does.
    let early = w.us.checkpoint(9, &[(&w.ru.witness, unix(20 * DAY))]);
    let e = refused(
        &make("2021-07", &w.us.range(&w.us_start, &early), &ru_range),
        &keys,
    );
    says(
        &e.to_string(),
        &[
            "the checkpoints do not bracket the window: sender range end: no pinned witness cosigned the end checkpoint (size 9) at or after 2021-08-01T00:00:00Z",
        ],
    );
    // A month the ranges do not start before.
    let e = refused(&make("2021-06", &us_range, &ru_range), &keys);
    says(
        &e.to_string(),
        &["do not bracket the window: sender range start"],
    );
    // The two logs swapped.
    let e = refused(&make("2021-07", &ru_range, &us_range), &keys);
    says(
        &e.to_string(),
        &["the sender range is of hotline/ru, not of us's log"],
    );
    // A receiver leaf dropped (the late ack) — the range no longer verifies.
    let mut r = ru_range.clone();
    r.leaves.remove(8 - 2);
    let e = refused(&make("2021-07", &us_range, &r), &keys);
    says(
        &e.to_string(),
        &["receiver range: 9 leaves are disclosed but the log appended 10"],
    );
    // A sender leaf swapped for another with the count kept.
    let mut s = us_range.clone();
    s.leaves[0] = s.leaves[1].clone();
    let e = refused(&make("2021-07", &s, &ru_range), &keys);
    says(
        &e.to_string(),
        &["sender range: the disclosed leaves do not turn"],
    );
    // A receiver end checkpoint nobody pinned cosigned.
    let bare = w.ru.checkpoint(12, &[]);
    let e = refused(
        &make("2021-07", &us_range, &w.ru.range(&w.ru_start, &bare)),
        &keys,
    );
    says(
        &e.to_string(),
        &["receiver range end: no pinned witness cosigned the end checkpoint (size 12)"],
    );
    // Not a month.
    says(
        &refused(&make("2021-13", &us_range, &ru_range), &keys).to_string(),
        &["month \"2021-13\" is not YYYY-MM"],
    );
}

#[test]
fn stats_flipped_bytes_fail() {
    let w = world();
    flips_fail(&w.stats(), &w.keys(), 400);
}

// ---------------------------------------------------------------- opening

#[test]
fn opening_quotes_the_text_and_reveals_nothing_else() {
    let w = world();
    let b = w.opening(&w.salt, &w.plaintext);
    let v = bundle::verify(b.as_bytes(), &w.keys()).unwrap();
    let s = v.sentence();
    eprintln!("{s}");
    let Verified::Opening(o) = v else { panic!() };
    assert_eq!(o.plaintext, w.plaintext);
    says(
        &s,
        &[
            "Entry us:3 — an inquiry from us/fbi to ru/fsb, dated 2021-07-02T10:00:00Z by its writer — is in hotline/us (tree of size 9",
            "its content is: subject \"Ransomware on a hospital network\", text \"Please identify the operators of 203.0.113.7.\" (its other fields, lang, stix, are in the bundle but not quoted here)",
            "nothing else about this or any other entry's content is revealed",
        ],
    );
}

#[test]
fn opening_that_does_not_match_the_commitment_is_refused() {
    let w = world();
    let keys = w.keys();
    let mut p = w.plaintext.clone();
    let at_ = p.len() - 3;
    p[at_] ^= 1;
    says(
        &refused(&w.opening(&w.salt, &p), &keys).to_string(),
        &["opening: the salt and plaintext do not match entry us:3's commitment"],
    );
    says(
        &refused(&w.opening(&[8u8; 32], &w.plaintext), &keys).to_string(),
        &["do not match entry us:3's commitment"],
    );
    let b = opening_bundle(&w.us_proof(5), &w.salt, &w.plaintext);
    says(
        &refused(&b, &keys).to_string(),
        &["entry us:5 has no content to open"],
    );
    flips_fail(&w.opening(&w.salt, &w.plaintext), &keys, 400);
}

#[test]
fn opening_of_a_plaintext_without_text_gives_its_size() {
    let mut w = world();
    let salt = [3u8; 32];
    let raw = b"\x00\x01binary".to_vec();
    let mut h =
        w.us.header(Kind::Message, "us/fbi", Some("ru/fsb"), at(41 * DAY));
    h.body = Some(BodyCommitment {
        sealed: b64::encode([0u8; 32]),
        size: 1,
        commitment: b64::encode(seal::commitment(&salt, &raw)),
    });
    let fbi = OfficeKeys::from_secret_json(&w.fbi.to_secret_json()).unwrap();
    let i = w.us.by_office(&fbi, h);
    let cp = w.us.checkpoint(i + 1, &[(&w.ru.witness, unix(56 * DAY))]);
    let b = opening_bundle(&w.us.proof(i, &cp, Some(0)), &salt, &raw);
    says(
        &sentence(&b, &w.keys()),
        &["its content is: a plaintext of 8 bytes without a text field to quote"],
    );
}

#[test]
fn unknown_fields_and_types_are_refused() {
    let w = world();
    let keys = w.keys();
    for b in [
        w.delivery(3, 3),
        w.absence("ru/svr"),
        w.stats(),
        w.opening(&w.salt, &w.plaintext),
    ] {
        let mut v: serde_json::Value = serde_json::from_str(&b).unwrap();
        v["trust_me"] = true.into();
        says(
            &refused(&v.to_string(), &keys).to_string(),
            &["malformed bundle", "unknown field"],
        );
    }
    let e = refused(r#"{"bundle":"hotline/absence/v2"}"#, &keys);
    says(
        &e.to_string(),
        &[
            "unknown bundle type",
            "hotline/absence/v1",
            "hotline/stats/v1",
        ],
    );
}

// --------------------------------------------------------------- statement

/// Two presidents' logs: us:1 a statement by us/president to ru/president,
/// us:2 another statement, us:3 a message; ru:1 the endorsement of us:1,
/// ru:2 the endorsement of us:2, ru:3 an "endorsement" of us:1 with another
/// digest, ru:4 one of us:1 by ru/fsb.
struct Statements {
    us: Side,
    ru: Side,
    us_cp: Vec<u8>,
    ru_cp: Vec<u8>,
}

const JOINT_TEXT: &str = "The United States and Russia will embark together on an integrated bilateral Strategic Stability Dialogue in the near future that will be deliberate and robust. Through this Dialogue, we seek to lay the groundwork for future arms control and risk reduction measures.";

fn statements() -> Statements {
    let mut us = Side::new("us");
    let mut ru = Side::new("ru");
    let usp = OfficeKeys::generate(office("us/president"), &mut os_rng());
    let rup = OfficeKeys::generate(office("ru/president"), &mut os_rng());
    let fsb = OfficeKeys::generate(office("ru/fsb"), &mut os_rng());
    assert_eq!(us.announce(usp.public(), at(0)), 0);
    assert_eq!(ru.announce(rup.public(), at(0)), 0);
    let statement = |us: &mut Side, text: &str, t: i64| {
        let mut h = us.header(Kind::Statement, "us/president", Some("ru/president"), at(t));
        h.digest = Some(text_digest(text));
        us.by_office(&usp, h)
    };
    assert_eq!(statement(&mut us, JOINT_TEXT, 15 * DAY), 1);
    assert_eq!(statement(&mut us, "Another text.", 15 * DAY + HOUR), 2);
    let m = us.header(
        Kind::Message,
        "us/president",
        Some("ru/president"),
        at(16 * DAY),
    );
    assert_eq!(us.by_office(&usp, m), 3);
    let endorse = |ru: &mut Side, us: &Side, keys: &OfficeKeys, i: u64, text: &str, t: i64| {
        let mut h = ru.header(
            Kind::Endorsement,
            keys.office().as_str(),
            Some("us/president"),
            at(t),
        );
        h.refs = vec![us.reference(i)];
        h.digest = Some(text_digest(text));
        ru.by_office(keys, h)
    };
    assert_eq!(endorse(&mut ru, &us, &rup, 1, JOINT_TEXT, 16 * DAY), 1);
    assert_eq!(endorse(&mut ru, &us, &rup, 2, "Another text.", 16 * DAY), 2);
    assert_eq!(
        endorse(&mut ru, &us, &rup, 1, "A changed text.", 17 * DAY),
        3
    );
    let k = ru.announce(fsb.public(), at(17 * DAY));
    assert_eq!(k, 4);
    assert_eq!(endorse(&mut ru, &us, &fsb, 1, JOINT_TEXT, 17 * DAY), 5);
    let us_cp = us.checkpoint(4, &[(&ru.witness, unix(20 * DAY))]);
    let ru_cp = ru.checkpoint(6, &[(&us.witness, unix(21 * DAY))]);
    Statements {
        us,
        ru,
        us_cp,
        ru_cp,
    }
}

impl Statements {
    fn keys(&self) -> Keyring {
        Keyring::new([
            self.us.log.verifier(),
            self.ru.log.verifier(),
            self.us.witness.verifier(),
            self.ru.witness.verifier(),
        ])
    }

    fn bundle(&self, text: &str, lang: Option<&str>, s: u64, e: Option<u64>) -> String {
        let key = |i: u64| if i == 5 { 4 } else { 0 };
        statement_bundle(
            text,
            lang,
            &self.us.proof(s, &self.us_cp, Some(0)),
            e.map(|e| self.ru.proof(e, &self.ru_cp, Some(key(e))))
                .as_ref(),
        )
    }
}

#[test]
fn a_joint_statement_verifies_and_quotes_the_text() {
    let w = statements();
    let b = w.bundle(JOINT_TEXT, Some("en"), 1, Some(1));
    let v = bundle::verify(b.as_bytes(), &w.keys()).unwrap();
    let s = v.sentence();
    eprintln!("{s}");
    let Verified::Statement(p) = v else {
        panic!("not a statement: {s}")
    };
    assert_eq!(p.text, JOINT_TEXT);
    assert_eq!(p.lang.as_deref(), Some("en"));
    assert_eq!(p.digest, text_digest(JOINT_TEXT));
    assert_eq!(p.endorsement.as_ref().map(|e| e.index), Some(1));
    says(
        &s,
        &[
            "Joint statement: us/president (us:1, dated 2021-07-16T00:00:00Z) and ru/president (ru:1, dated 2021-07-17T00:00:00Z) signed the same text (SHA-256 ",
            &format!(
                "{}): «The United States and Russia will embark",
                text_digest(JOINT_TEXT)
            ),
            "we seek to lay t…»",
            "Statement us:1 is in hotline/us (tree of size 4",
            "cosigned by ru's witness (hotline/ru/witness) at 2021-07-21T00:00:00Z",
            "endorsement ru:1 is in hotline/ru (tree of size 6",
            "cosigned by us's witness (hotline/us/witness) at 2021-07-22T00:00:00Z",
        ],
    );
    assert!(!s.contains("One-sided"), "{s}");
    assert!(!s.contains("does not show"), "{s}");
}

#[test]
fn a_statement_without_endorsement_is_one_sided() {
    let w = statements();
    let s = sentence(&w.bundle("Another text.", None, 2, None), &w.keys());
    says(
        &s,
        &[
            "One-sided statement: only us/president signed the text (SHA-256 ",
            "in us:2 dated 2021-07-16T01:00:00Z, addressed to ru/president: «Another text.»",
            "the bundle holds no endorsement by ru/president.",
        ],
    );
    assert!(!s.contains("Joint"), "{s}");
}

#[test]
fn a_changed_text_is_refused() {
    let w = statements();
    let keys = w.keys();
    for text in [
        "The United States and Russia will embark together",
        &JOINT_TEXT.replace("robust", "robust,"),
        &format!("{JOINT_TEXT} "),
        "",
    ] {
        for e in [None, Some(1)] {
            let err = refused(&w.bundle(text, None, 1, e), &keys).to_string();
            says(
                &err,
                &[
                    "the evidence does not fit together",
                    &format!(
                        "but statement us:1 signed {}: it is not the text that was signed",
                        text_digest(JOINT_TEXT)
                    ),
                ],
            );
        }
    }
}

#[test]
fn endorsements_that_do_not_fit_are_refused() {
    let w = statements();
    let keys = w.keys();
    // ru:2 endorses us:2, not us:1.
    let err = refused(&w.bundle(JOINT_TEXT, None, 1, Some(2)), &keys).to_string();
    says(
        &err,
        &["endorsement ru:2 does not reference statement us:1"],
    );
    // ru:3 references us:1 but signs another text's digest.
    let err = refused(&w.bundle(JOINT_TEXT, None, 1, Some(3)), &keys).to_string();
    says(
        &err,
        &[
            &format!(
                "endorsement ru:3 signs digest {}",
                text_digest("A changed text.")
            ),
            "not statement us:1's",
        ],
    );
    // ru:5 is by ru/fsb, not the addressed ru/president.
    let err = refused(&w.bundle(JOINT_TEXT, None, 1, Some(5)), &keys).to_string();
    says(
        &err,
        &[
            "endorsement ru:5 is by ru/fsb in the log of ru, not by the addressed office ru/president",
        ],
    );
    // The statement proof holds a message; the endorsement proof a key entry.
    let err = refused(&w.bundle(JOINT_TEXT, None, 3, None), &keys).to_string();
    says(
        &err,
        &["statement us:3 is a message from us/president to ru/president, not a statement"],
    );
    let b = statement_bundle(
        JOINT_TEXT,
        None,
        &w.us.proof(1, &w.us_cp, Some(0)),
        Some(&w.ru.proof(0, &w.ru_cp, None)),
    );
    says(
        &refused(&b, &keys).to_string(),
        &["endorsement ru:0 is a key from ru, not an endorsement"],
    );
    // Swapped: the endorsement given as the statement.
    let b = statement_bundle(JOINT_TEXT, None, &w.ru.proof(1, &w.ru_cp, Some(0)), None);
    says(
        &refused(&b, &keys).to_string(),
        &["statement ru:1 is an endorsement"],
    );
    // Without ru's log key pinned the endorsement cannot be checked.
    let us_only = Keyring::new([w.us.log.verifier(), w.ru.witness.verifier()]);
    says(
        &refused(&w.bundle(JOINT_TEXT, None, 1, Some(1)), &us_only).to_string(),
        &["endorsement", "no pinned log key for hotline/ru"],
    );
    // Unknown fields are refused.
    let mut v: serde_json::Value =
        serde_json::from_str(&w.bundle(JOINT_TEXT, None, 1, Some(1))).unwrap();
    v["signed_by_both"] = true.into();
    says(
        &refused(&v.to_string(), &keys).to_string(),
        &["malformed bundle", "unknown field"],
    );
}

#[test]
fn statement_flipped_bytes_fail() {
    let w = statements();
    // Without `lang`, which is the one field no signature covers.
    flips_fail(&w.bundle(JOINT_TEXT, None, 1, Some(1)), &w.keys(), 500);
    flips_fail(&w.bundle("Another text.", None, 2, None), &w.keys(), 300);
}
