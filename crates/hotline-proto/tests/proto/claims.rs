//! Claim bundles v2 over two indexed logs in memory, verified offline with
//! nothing but pinned keys — and the hostile cases of issue 11, (a)–(f),
//! mounted by a party that holds its own keys and knows the formats.
//!
//! The world: `us` and `ru`, each with a log key and a witness; a neutral
//! witness `hotline/ch/witness`; offices `us/fbi` and `ru/fsb`; an agreement
//! (acknowledge within 1 day, answer within 3 days). July 2021:
//!
//! | us | | ru | |
//! |---|---|---|---|
//! | 0 key us/fbi (Jun 20) | | 0 key ru/fsb (Jun 20) | |
//! | 1 agreement proposal (Jun 21) | | 1 agreement signature (Jun 22) | |
//! | 2 inquiry I1 (Jul 2) | | 2 receipt of us:2 (+1m), 3 ack (+2h), 4 answer (Jul 3) | |
//! | 3 receipt of ru:3, 4 receipt of ru:4 | | | in time |
//! | 5 inquiry I2 (Jul 10) | | 5 receipt (+1m), 6 ack (Jul 12) | late, never answered |
//! | 6 receipt of ru:6 (Jul 12) | | | |
//! | 7 message to ru/fsb (Jul 15), 8 message to ru/svr (Jul 16) | | 7 receipt of us:7 | |
//!
//! Checkpoints: us at size 9 and ru at size 8, each cosigned on Aug 2 by the
//! other party's witness and by its own (the log's own word on its time).

use hotline_proto::b64;
use hotline_proto::bundle::{self, BundleError, Keyring, TlogProof, Verified};
use hotline_proto::checkpoint;
use hotline_proto::claims::LogEvidence;
use hotline_proto::claims::absence::{AbsenceClaim, Cover, absence_bundle};
use hotline_proto::claims::answered::{AgreementProofs, ProvedAnswered, answered_bundle};
use hotline_proto::claims::deadline::Verdict;
use hotline_proto::claims::delivery::{ReceiptStatus, delivery_bundle};
use hotline_proto::claims::equivocation::RootClaim;
use hotline_proto::claims::history::key_history_key;
use hotline_proto::claims::mismatch::index_mismatch_bundle;
use hotline_proto::claims::opening::opening_bundle;
use hotline_proto::claims::statement::statement_bundle;
use hotline_proto::claims::stats::{Channel, StatsRuns, stats_bundle};
use hotline_proto::entry::{
    BodyCommitment, Header, KeyAction, KeyAnnouncement, Kind, Ref, SignedEntry, text_digest,
};
use hotline_proto::index::{self, Index, KeyState, KeyedRun};
use hotline_proto::keys::{
    ALG_COSIGNATURE_V1, ALG_ED25519, NoteKey, OfficeKeys, OfficePublic, os_rng,
};
use hotline_proto::party::Party;
use hotline_proto::seal;
use hotline_proto::tree::MemoryTree;
use jiff::Timestamp;

use super::common::{header_in, office};

const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;
/// 2021-07-01T00:00:00Z.
const JULY: i64 = 1_625_097_600;
/// When the final checkpoints were cosigned (Aug 2).
const AUG2: i64 = 32 * DAY;

fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(JULY + secs).unwrap()
}

fn unix(secs: i64) -> u64 {
    (JULY + secs) as u64
}

/// One party's log, its log key, its witness, and its index.
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

    fn header(&self, kind: Kind, from: &str, to: Option<&str>, time: Timestamp) -> Header {
        header_in(self.party, kind, from, to, time)
    }

    fn by_party(&mut self, h: Header) -> u64 {
        let e = SignedEntry::sign(h, |m| self.log.sign_raw(m)).unwrap();
        self.push(e)
    }

    fn by_office(&mut self, k: &OfficeKeys, h: Header) -> u64 {
        let e = SignedEntry::sign(h, |m| k.sign_raw(m)).unwrap();
        self.push(e)
    }

    fn key(&mut self, keys: OfficePublic, action: KeyAction, time: Timestamp) -> u64 {
        let mut h = self.header(Kind::Key, self.party, None, time);
        h.key = Some(KeyAnnouncement { action, keys });
        self.by_party(h)
    }

    fn reference(&self, index: u64) -> Ref {
        Ref {
            log: Party::new(self.party).unwrap(),
            index,
            leaf_hash: b64::encode(self.entries[index as usize].leaf_hash().0),
        }
    }

    /// The index of the first `size` entries.
    fn index_at(&self, size: u64) -> Index {
        let mut ix = Index::new();
        for (i, e) in self.entries.iter().take(size as usize).enumerate() {
            ix.apply_entry(i as u64, e);
        }
        ix
    }

    /// The signed, indexed checkpoint of the first `size` entries with these cosignatures.
    fn checkpoint(&self, size: u64, cosigs: &[(&NoteKey, u64)]) -> Vec<u8> {
        let root = self.index_at(size).root();
        let note =
            checkpoint::sign_indexed(&self.log, size, self.tree.root_at(size).unwrap(), root)
                .unwrap();
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

    /// The run of `key` in the tree of `cp`, disclosing its entries from
    /// the `from`-th on (0: all, no base).
    fn run_from(&self, key: &str, cp: &[u8], from: usize) -> KeyedRun {
        let (_, size, _) = checkpoint::peek(cp).unwrap();
        let mut ix = self.index_at(size);
        let all: Vec<(u64, Vec<u8>)> = self
            .entries
            .iter()
            .take(size as usize)
            .enumerate()
            .filter(|(_, e)| index::keys_of(e).iter().any(|k| k == key))
            .map(|(i, e)| (i as u64, e.leaf().to_vec()))
            .collect();
        let base = (from > 0).then(|| {
            all[..from].iter().fold(KeyState::default(), |s, (i, l)| {
                s.push(*i, hotline_proto::tree::leaf_hash(l))
            })
        });
        KeyedRun {
            key: key.into(),
            state: ix.state(key),
            proof: ix.prove(key),
            base,
            leaves: all[from..].to_vec(),
        }
    }

    fn run(&self, key: &str, cp: &[u8]) -> KeyedRun {
        self.run_from(key, cp, 0)
    }

    fn evidence(&self, cp: &[u8]) -> LogEvidence {
        LogEvidence {
            checkpoint: cp.to_vec(),
            key_history: self.run(&key_history_key(self.party), cp),
        }
    }
}

struct World {
    us: Side,
    ru: Side,
    ch: NoteKey,
    fbi: OfficeKeys,
    fsb: OfficeKeys,
    salt: [u8; 32],
    plaintext: Vec<u8>,
}

fn terms() -> serde_json::Value {
    serde_json::json!({
        "title": "Cybercrime cooperation channel",
        "start": "2021-06-01T00:00:00Z",
        "notice_secs": 30 * DAY,
        "ack_within_secs": DAY,
        "answer_within_secs": 3 * DAY,
        "channels": [{"offices": ["us/fbi", "ru/fsb"], "kinds": ["message", "inquiry", "ack", "answer", "statement", "endorsement"]}]
    })
}

fn receipt(side: &mut Side, k: &OfficeKeys, of: &Side, i: u64, t: i64) -> u64 {
    let to = of.entries[i as usize].header().from.clone();
    let mut h = side.header(Kind::Receipt, k.office().as_str(), Some(&to), at(t));
    h.refs = vec![of.reference(i)];
    h.status = Some("delivered".into());
    side.by_office(k, h)
}

fn reply(ru: &mut Side, fsb: &OfficeKeys, us: &Side, kind: Kind, i: u64, t: i64) -> u64 {
    let mut h = ru.header(kind, "ru/fsb", Some("us/fbi"), at(t));
    h.refs = vec![us.reference(i)];
    h.agreement = Some("us:1".into());
    ru.by_office(fsb, h)
}

fn inquiry(us: &mut Side, fbi: &OfficeKeys, t: i64, body: Option<BodyCommitment>) -> u64 {
    let mut h = us.header(Kind::Inquiry, "us/fbi", Some("ru/fsb"), at(t));
    h.agreement = Some("us:1".into());
    h.body = body;
    us.by_office(fbi, h)
}

/// Keys, agreement: us:0, us:1, ru:0, ru:1.
fn founded() -> World {
    let mut us = Side::new("us");
    let mut ru = Side::new("ru");
    let fbi = OfficeKeys::generate(office("us/fbi"), &mut os_rng());
    let fsb = OfficeKeys::generate(office("ru/fsb"), &mut os_rng());
    us.key(fbi.public(), KeyAction::Announce, at(-11 * DAY));
    ru.key(fsb.public(), KeyAction::Announce, at(-11 * DAY));
    let mut h = us.header(Kind::Agreement, "us", None, at(-10 * DAY));
    h.status = Some("proposed".into());
    h.terms = Some(serde_json::from_value(terms()).unwrap());
    assert_eq!(us.by_party(h), 1);
    let mut h = ru.header(Kind::Agreement, "ru", None, at(-9 * DAY));
    h.status = Some("signed".into());
    h.refs = vec![us.reference(1)];
    assert_eq!(ru.by_party(h), 1);
    let salt = [7u8; 32];
    let plaintext = serde_json::to_vec(&serde_json::json!({
        "subject": "Ransomware on a hospital network",
        "text": "Please identify the operators of 203.0.113.7.",
    }))
    .unwrap();
    World {
        us,
        ru,
        ch: NoteKey::generate("hotline/ch/witness", ALG_COSIGNATURE_V1, &mut os_rng()).unwrap(),
        fbi,
        fsb,
        salt,
        plaintext,
    }
}

fn world() -> World {
    let mut w = founded();
    let (us, ru, fbi, fsb) = (&mut w.us, &mut w.ru, &w.fbi, &w.fsb);
    let body = BodyCommitment {
        sealed: b64::encode(seal::sealed_hash(b"sealed")),
        size: 6,
        commitment: b64::encode(seal::commitment(&w.salt, &w.plaintext)),
    };
    assert_eq!(inquiry(us, fbi, DAY, Some(body)), 2);
    assert_eq!(receipt(ru, fsb, us, 2, DAY + 60), 2);
    assert_eq!(reply(ru, fsb, us, Kind::Ack, 2, DAY + 2 * HOUR), 3);
    assert_eq!(reply(ru, fsb, us, Kind::Answer, 2, 2 * DAY), 4);
    assert_eq!(receipt(us, fbi, ru, 3, DAY + 2 * HOUR + 60), 3);
    assert_eq!(receipt(us, fbi, ru, 4, 2 * DAY + 60), 4);
    assert_eq!(inquiry(us, fbi, 9 * DAY, None), 5);
    assert_eq!(receipt(ru, fsb, us, 5, 9 * DAY + 60), 5);
    assert_eq!(reply(ru, fsb, us, Kind::Ack, 5, 11 * DAY), 6);
    assert_eq!(receipt(us, fbi, ru, 6, 11 * DAY + 60), 6);
    let m = us.header(Kind::Message, "us/fbi", Some("ru/fsb"), at(14 * DAY));
    assert_eq!(us.by_office(fbi, m), 7);
    assert_eq!(receipt(ru, fsb, us, 7, 14 * DAY + 60), 7);
    let m = us.header(Kind::Message, "us/fbi", Some("ru/svr"), at(15 * DAY));
    assert_eq!(us.by_office(fbi, m), 8);
    w
}

impl World {
    fn keys(&self) -> Keyring {
        Keyring::new([
            self.us.log.verifier(),
            self.ru.log.verifier(),
            self.us.witness.verifier(),
            self.ru.witness.verifier(),
            self.ch.verifier(),
        ])
    }

    /// us's whole tree, cosigned on Aug 2 by ru's witness and us's own.
    fn us_cp(&self) -> Vec<u8> {
        let n = self.us.tree.size();
        self.us.checkpoint(
            n,
            &[
                (&self.ru.witness, unix(AUG2)),
                (&self.us.witness, unix(AUG2)),
            ],
        )
    }

    /// ru's whole tree, cosigned on Aug 2 by us's witness and ru's own.
    fn ru_cp(&self) -> Vec<u8> {
        let n = self.ru.tree.size();
        self.ru.checkpoint(
            n,
            &[
                (&self.us.witness, unix(AUG2)),
                (&self.ru.witness, unix(AUG2)),
            ],
        )
    }

    fn agreement(&self, us_cp: &[u8], ru_cp: &[u8]) -> AgreementProofs {
        AgreementProofs {
            proposal: self.us.tlog_proof(1, us_cp),
            signature: self.ru.tlog_proof(1, ru_cp),
        }
    }

    /// The answered bundle of inquiry `us:i`, honest: every reply, every receipt.
    /// The delivery bundle of us:`i` with ru's run of the entries
    /// referring to it, each log under its latest checkpoint.
    fn delivered(&self, i: u64) -> String {
        let (uc, rc) = (self.us_cp(), self.ru_cp());
        delivery_bundle(
            &self.us.evidence(&uc),
            &self.us.tlog_proof(i, &uc),
            Some((
                &self.ru.evidence(&rc),
                &self.ru.run(&index::ref_key("us", i), &rc),
            )),
        )
    }

    fn answered(&self, i: u64) -> String {
        let (uc, rc) = (self.us_cp(), self.ru_cp());
        let replies = self.ru.run(&index::ref_key("us", i), &rc);
        let receipts: Vec<KeyedRun> = replies
            .leaves
            .iter()
            .filter(|(_, l)| {
                let e = SignedEntry::from_leaf(l).unwrap();
                matches!(e.header().kind, Kind::Ack | Kind::Answer)
            })
            .map(|(j, _)| self.us.run(&index::ref_key("ru", *j), &uc))
            .collect();
        answered_bundle(
            &self.us.evidence(&uc),
            &self.ru.evidence(&rc),
            &self.us.tlog_proof(i, &uc),
            &self.agreement(&uc, &rc),
            &replies,
            &receipts,
            &[],
        )
    }
}

fn verified(b: &str, keys: &Keyring) -> Verified {
    bundle::verify(b.as_bytes(), keys).unwrap_or_else(|e| panic!("refused: {e}\n{b}"))
}

fn refused(b: &str, keys: &Keyring) -> BundleError {
    match bundle::verify(b.as_bytes(), keys) {
        Ok(v) => panic!("verified: {}", v.sentence()),
        Err(e) => e,
    }
}

fn says(s: &str, parts: &[&str]) {
    for p in parts {
        assert!(s.contains(p), "{s:?} should contain {p:?}");
    }
}

/// The bundle as JSON with one change.
fn edit(b: &str, f: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut v: serde_json::Value = serde_json::from_str(b).unwrap();
    f(&mut v);
    v.to_string()
}

/// Each bundle with one disclosed leaf of the run at JSON pointer `path` dropped.
fn each_leaf_dropped(b: &str, path: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(b).unwrap();
    let n = v.pointer(path).unwrap()["leaves"].as_array().unwrap().len();
    assert!(n > 0, "{path} discloses nothing");
    (0..n)
        .map(|k| {
            edit(b, |v| {
                v.pointer_mut(path).unwrap()["leaves"]
                    .as_array_mut()
                    .unwrap()
                    .remove(k);
            })
        })
        .collect()
}

// ---- delivery ----

#[test]
fn delivery_rests_on_the_receivers_receipt_and_witness() {
    let w = world();
    let b = w.delivered(2);
    let Verified::Delivery(p) = verified(&b, &w.keys()) else {
        panic!()
    };
    let r = p.receipt.as_ref().unwrap();
    assert_eq!(
        (r.id.as_str(), &r.status),
        ("ru:2", &ReceiptStatus::Delivered)
    );
    says(
        &p.sentence(),
        &[
            "Entry us:2 — an inquiry from us/fbi to ru/fsb",
            "ru received it by 2021-07-02T00:01:00Z, on ru's own signature: its receipt ru:2",
            "ru was shown a tree holding it by 2021-08-02T00:00:00Z",
        ],
    );
    // Without ru's log, ru's witness's cosignature of us's tree still shows it.
    let uc = w.us_cp();
    let b = delivery_bundle(&w.us.evidence(&uc), &w.us.tlog_proof(2, &uc), None);
    let Verified::Delivery(p) = verified(&b, &w.keys()) else {
        panic!()
    };
    assert!(p.receipt.is_none());
    says(&p.sentence(), &["ru was shown a tree holding it"]);
    // us's own and a neutral witness show nothing about ru.
    let own =
        w.us.checkpoint(9, &[(&w.us.witness, unix(AUG2)), (&w.ch, unix(AUG2))]);
    let b = delivery_bundle(&w.us.evidence(&own), &w.us.tlog_proof(2, &own), None);
    says(
        &refused(&b, &w.keys()).to_string(),
        &["nothing in this bundle rests on ru's signatures"],
    );
}

// ---- answered: honest, (c), (d) ----

#[test]
fn answered_in_time_rests_on_the_senders_receipts() {
    let w = world();
    let Verified::Answered(p) = verified(&w.answered(2), &w.keys()) else {
        panic!()
    };
    assert!(
        matches!(p.ack.verdict, Verdict::Met { ref by, .. } if by == "ru:3"),
        "{:?}",
        p.ack
    );
    assert!(matches!(p.answer.verdict, Verdict::Met { ref by, .. } if by == "ru:4"));
    says(
        &p.sentence(),
        &[
            "It was acknowledged within the agreed 1d, on us's observation: ru:3 was seen at 2021-07-02T02:01:00Z (us's receipt us:3",
            "It was answered within the agreed 3d, on us's observation: ru:4",
            "complete by ru's index, recomputed and cosigned by us's witness",
        ],
    );
}

#[test]
fn missed_deadlines_rest_on_the_receivers_own_signatures() {
    let w = world();
    let Verified::Answered(p) = verified(&w.answered(5), &w.keys()) else {
        panic!()
    };
    assert!(
        matches!(p.ack.verdict, Verdict::Missed { .. }),
        "{:?}",
        p.ack
    );
    assert!(
        matches!(p.answer.verdict, Verdict::Missed { .. }),
        "{:?}",
        p.answer
    );
    says(
        &p.sentence(),
        &[
            "It was not acknowledged within the agreed 1d, on ru's own signatures: ru receipted it at 2021-07-10T00:01:00Z",
            "It was not answered within the agreed 3d, on ru's own signatures",
            "ru's own witness cosigned its tree of size 8 at 2021-08-02T00:00:00Z",
        ],
    );
}

/// Attack c: the timely acknowledgement left out. The replies run is
/// complete by ru's index, so any entry dropped from it breaks the run —
/// and so does any receipt dropped from us's runs.
#[test]
fn attack_c_a_left_out_reply_or_receipt_is_refused() {
    let w = world();
    let keys = w.keys();
    let b = w.answered(2);
    for (k, bad) in each_leaf_dropped(&b, "/replies").into_iter().enumerate() {
        let e = refused(&bad, &keys).to_string();
        says(
            &e,
            &["replies to us:2", "do not make up its committed chain"],
        );
        let _ = k;
    }
    for bad in each_leaf_dropped(&b, "/receipts/0") {
        says(
            &refused(&bad, &keys).to_string(),
            &["receipts of ru:3", "committed chain"],
        );
    }
    // A receipts run left out entirely is refused: what us observed must be
    // complete, or "us shows no receipt" could be said on an omission.
    for n in 0..2 {
        let bad = edit(&b, |v| {
            v["receipts"].as_array_mut().unwrap().remove(n);
        });
        says(
            &refused(&bad, &keys).to_string(),
            &["is left out", "one for every ack and answer"],
        );
    }
    // A base on the replies (entries not disclosed) is refused too.
    let bad =
        edit(
            &b,
            |v| {
                v["replies"]["base"] =
                    serde_json::json!({"count": 1, "chain": b64::encode([0u8; 32])})
            },
        );
    says(
        &refused(&bad, &keys).to_string(),
        &["must disclose every entry of the key"],
    );
}

/// Attack d: an answer written after its deadline but dated inside it by
/// its writer. us received it only after the deadline: not "within".
#[test]
fn attack_d_a_late_answer_dated_inside_is_not_within() {
    let mut w = world();
    let (us, ru, fbi, fsb) = (&mut w.us, &mut w.ru, &w.fbi, &w.fsb);
    let i = inquiry(us, fbi, 19 * DAY, None); // us:9, Jul 20
    receipt(ru, fsb, us, i, 19 * DAY + 60); // ru:8
    let a = reply(ru, fsb, us, Kind::Answer, i, 20 * DAY); // ru:9 dated Jul 21, written late
    receipt(us, fbi, ru, a, 29 * DAY); // us:10, Jul 30: after the deadline (Jul 23)
    let Verified::Answered(p) = verified(&w.answered(i), &w.keys()) else {
        panic!()
    };
    let s = p.sentence();
    assert!(
        matches!(p.answer.verdict, Verdict::Undetermined(_)),
        "{:?}",
        p.answer
    );
    assert!(!s.contains("It was answered within"), "{s}");
    says(
        &s,
        &[
            "Whether it was answered within the agreed 3d is not settled by either side's signatures",
            "us's signatures show ru:9 only at 2021-07-30T00:00:00Z",
            "ru dated ru:9 2021-07-21T00:00:00Z by its own clock",
        ],
    );
}

/// Inquiry us:9, receipted by ru (ru:8) and acknowledged an hour later
/// (ru:9, never receipted by us); ru's tree of size 10, holding the ack,
/// cosigned by `cosigner` an hour after that and shown among the trees seen.
fn acked_under_an_early_tree(cosigner: fn(&World) -> &NoteKey) -> Box<ProvedAnswered> {
    let mut w = world();
    let (us, ru, fbi, fsb) = (&mut w.us, &mut w.ru, &w.fbi, &w.fsb);
    let i = inquiry(us, fbi, 19 * DAY, None);
    receipt(ru, fsb, us, i, 19 * DAY + 60);
    let a = reply(ru, fsb, us, Kind::Ack, i, 19 * DAY + HOUR);
    let early =
        w.ru.checkpoint(10, &[(cosigner(&w), unix(19 * DAY + 2 * HOUR))]);
    let (uc, rc) = (w.us_cp(), w.ru_cp());
    let b = answered_bundle(
        &w.us.evidence(&uc),
        &w.ru.evidence(&rc),
        &w.us.tlog_proof(i, &uc),
        &w.agreement(&uc, &rc),
        &w.ru.run(&index::ref_key("us", i), &rc),
        &[w.us.run(&index::ref_key("ru", a), &uc)],
        &[w.ru.tlog_proof(a, &early)],
    );
    let Verified::Answered(p) = verified(&b, &w.keys()) else {
        panic!()
    };
    p
}

#[test]
fn an_earlier_tree_cosigned_by_the_senders_witness_shows_a_reply_in_time() {
    let p = acked_under_an_early_tree(|w| &w.us.witness);
    assert!(matches!(p.ack.verdict, Verdict::Met { .. }), "{:?}", p.ack);
    says(
        &p.sentence(),
        &[
            "us's witness (hotline/us/witness) at 2021-07-20T02:00:00Z cosigned ru's tree of size 10 holding it",
        ],
    );
}

/// A party's own witness adds nothing in its favour: ru's own witness
/// cosigning an early tree of ru holding its ack does not make the ack timely.
#[test]
fn the_receivers_own_witness_does_not_show_its_reply_in_time() {
    let p = acked_under_an_early_tree(|w| &w.ru.witness);
    assert!(
        matches!(p.ack.verdict, Verdict::Undetermined(_)),
        "{:?}",
        p.ack
    );
    let s = p.sentence();
    says(
        &s,
        &[
            "us's signatures show ru:9 only at 2021-08-02T00:00:00Z",
            "ru dated ru:9",
        ],
    );
    assert!(!s.contains("2021-07-20T02:00:00Z"), "{s}");
}

#[test]
fn a_refused_delivery_says_so() {
    let mut w = world();
    let mut h =
        w.ru.header(Kind::Receipt, "ru", Some("us/fbi"), at(15 * DAY + 60));
    h.refs = vec![w.us.reference(8)];
    h.status = Some("refused: ru/svr is not an office of this party".into());
    w.ru.by_party(h); // ru:8
    let b = w.delivered(8);
    let Verified::Delivery(p) = verified(&b, &w.keys()) else {
        panic!()
    };
    assert!(matches!(
        p.receipt.as_ref().unwrap().status,
        ReceiptStatus::Refused(_)
    ));
    says(
        &p.sentence(),
        &[
            "its receipt ru:8",
            "and refused it (status \"refused: ru/svr is not an office of this party\")",
        ],
    );
    // The receipts run left incomplete: refused.
    for bad in each_leaf_dropped(&b, "/receipts") {
        says(&refused(&bad, &w.keys()).to_string(), &["committed chain"]);
    }
}

// ---- absence: honest, (a), (b), completeness, no other channel ----

fn window() -> AbsenceClaim {
    AbsenceClaim {
        kind: Kind::Inquiry,
        from: office("us/fbi"),
        to: office("ru/fsb"),
        since: at(19 * DAY),
        until: at(31 * DAY),
    }
}

/// The channel's run at `cp` from the last inquiry before the window (us:5).
fn absence_of(w: &World, c: &AbsenceClaim, cp: &[u8]) -> String {
    absence_bundle(c, &w.us.evidence(cp), &w.us.run_from(&c.key(), cp, 1))
}

#[test]
fn absence_discloses_only_its_channel_and_rests_on_the_senders_own_signatures() {
    let w = world();
    let c = window();
    let b = absence_of(&w, &c, &w.us_cp());
    let Verified::Absence(p) = verified(&b, &w.keys()) else {
        panic!()
    };
    assert!(matches!(p.cover, Cover::Own(..)), "{:?}", p.cover);
    assert_eq!(p.count, 2);
    says(
        &p.sentence(),
        &[
            "No inquiry from us/fbi to ru/fsb dated (by us's clock) between 2021-07-20T00:00:00Z and 2021-08-01T00:00:00Z is in hotline/us up to its tree of size 9",
            "the channel has 2 such entries there, complete by us's index, recomputed and cosigned by ru's witness",
            "us:5 dated 2021-07-10T00:00:00Z",
            "on us's own signatures, that tree covers the window's end: us's own witness cosigned it at 2021-08-02T00:00:00Z",
            "ru's witness (hotline/ru/witness) at 2021-08-02T00:00:00Z cosigned that tree, so ru was shown it by then",
        ],
    );
    // No header of any other channel: every leaf the bundle holds is of the
    // claim's channel or one of the log's key entries.
    let v: serde_json::Value = serde_json::from_str(&b).unwrap();
    let mut leaves = vec![];
    for run in [&v["run"], &v["log"]["key_history"]] {
        for l in run["leaves"].as_array().unwrap() {
            leaves.push(
                SignedEntry::from_leaf(&b64::decode(l["leaf"].as_str().unwrap()).unwrap()).unwrap(),
            );
        }
    }
    assert_eq!(leaves.len(), 2);
    for e in &leaves {
        let keys = index::keys_of(e);
        assert!(
            keys.contains(&c.key()) || keys.contains(&key_history_key("us")),
            "{keys:?}"
        );
    }
    for i in [2, 3, 4, 6, 7, 8] {
        let leaf = b64::encode(w.us.entries[i].leaf());
        assert!(!b.contains(&leaf), "us:{i} is in the bundle");
    }
    assert!(!b.contains("ru/svr") && !b.contains("\"message\""));
}

#[test]
fn a_neutral_witness_covers_the_window_and_the_sentence_says_so() {
    let w = world();
    let cp = w.us.checkpoint(9, &[(&w.ch, unix(AUG2))]);
    let Verified::Absence(p) = verified(&absence_of(&w, &window(), &cp), &w.keys()) else {
        panic!()
    };
    assert!(matches!(p.cover, Cover::Neutral(_)));
    says(
        &p.sentence(),
        &["covered by a neutral witness: ch's witness (hotline/ch/witness)"],
    );
}

/// Attack a: us cosigns its own checkpoint with its own witness key, dated
/// before an entry that tree holds.
#[test]
fn attack_a_an_own_cosignature_dated_before_an_entry_it_holds_is_refused() {
    let w = world();
    let c = AbsenceClaim {
        since: at(-DAY),
        until: at(0),
        ..window()
    };
    let cp = w.us.checkpoint(9, &[(&w.us.witness, unix(0))]);
    let b = absence_bundle(&c, &w.us.evidence(&cp), &w.us.run(&c.key(), &cp));
    let e = refused(&b, &w.keys());
    assert!(
        matches!(&e, BundleError::In { source, .. } if matches!(**source, BundleError::Time(_))),
        "{e:?}"
    );
    says(
        &e.to_string(),
        &[
            "us's own witness hotline/us/witness cosigned its tree of size 9 at 2021-07-01T00:00:00Z, but that tree holds us:5 dated 2021-07-10",
            "a tree cannot be dated before an entry it holds",
        ],
    );
}

/// Attack b: ru, which cosigns us's log, cosigns an older tree of us after
/// the window and uses it as the window's end. ru's cosignature alone never
/// covers it: refused.
#[test]
fn attack_b_only_the_receivers_witness_after_the_window_is_refused() {
    let w = world();
    let c = AbsenceClaim {
        since: at(4 * DAY),
        until: at(12 * DAY),
        ..window()
    };
    // The tree of size 5 does not hold us:5 (the inquiry of Jul 10).
    let old = w.us.checkpoint(
        5,
        &[
            (&w.ru.witness, unix(13 * DAY)),
            (&w.us.witness, unix(3 * DAY)),
        ],
    );
    let b = absence_bundle(&c, &w.us.evidence(&old), &w.us.run(&c.key(), &old));
    let e = refused(&b, &w.keys());
    assert!(matches!(e, BundleError::NotBracketed(_)), "{e:?}");
    says(
        &e.to_string(),
        &[
            "only ru's witness (hotline/ru/witness) at 2021-07-14T00:00:00Z cosigned it after the window",
            "ru's cosignature alone never covers it",
        ],
    );
    // The same for a month's statistics over that tree.
    let rc = w.ru_cp();
    let st = stats_of(&w, "2021-07", &old, &rc, 0);
    says(
        &refused(&st, &w.keys()).to_string(),
        &["ru's cosignature alone does not"],
    );
    // The honest tree holds it: contradicted.
    let b = absence_bundle(
        &c,
        &w.us.evidence(&w.us_cp()),
        &w.us.run(&c.key(), &w.us_cp()),
    );
    let e = refused(&b, &w.keys());
    assert!(
        matches!(&e, BundleError::Contradicted { entry, .. } if entry == "us:5"),
        "{e:?}"
    );
}

#[test]
fn absence_completeness_dropping_any_disclosed_entry_is_refused() {
    let w = world();
    let c = window();
    let keys = w.keys();
    let b = absence_bundle(
        &c,
        &w.us.evidence(&w.us_cp()),
        &w.us.run(&c.key(), &w.us_cp()),
    );
    assert!(bundle::verify(b.as_bytes(), &keys).is_ok());
    for bad in each_leaf_dropped(&b, "/run")
        .into_iter()
        .chain(each_leaf_dropped(&b, "/log/key_history"))
    {
        says(
            &refused(&bad, &keys).to_string(),
            &["do not make up its committed chain"],
        );
    }
    // A base that skips the inquiry before the window's start is refused.
    let late = absence_bundle(
        &c,
        &w.us.evidence(&w.us_cp()),
        &w.us.run_from(&c.key(), &w.us_cp(), 2),
    );
    says(
        &refused(&late, &keys).to_string(),
        &["the run has a base but discloses no entry"],
    );
}

// ---- stats: honest, (e), completeness ----

fn stats_of(w: &World, month: &str, uc: &[u8], rc: &[u8], from: usize) -> String {
    let inquiries = w.us.run_from(
        &index::channel_key(Kind::Inquiry, "us/fbi", Some("ru/fsb")),
        uc,
        from,
    );
    let (lo, hi) = hotline_proto::claims::stats::month_bounds(month).unwrap();
    let mut replies = vec![];
    let mut receipts = vec![];
    for (i, l) in &inquiries.leaves {
        let t = SignedEntry::from_leaf(l).unwrap().header().time;
        if t < lo || t >= hi {
            continue;
        }
        let r = w.ru.run(&index::ref_key("us", *i), rc);
        for (j, l) in &r.leaves {
            if matches!(
                SignedEntry::from_leaf(l).unwrap().header().kind,
                Kind::Ack | Kind::Answer
            ) {
                receipts.push(w.us.run(&index::ref_key("ru", *j), uc));
            }
        }
        replies.push(r);
    }
    stats_bundle(
        &Channel {
            from: office("us/fbi"),
            to: office("ru/fsb"),
        },
        month,
        &w.us.evidence(uc),
        &w.ru.evidence(rc),
        &w.agreement(uc, rc),
        &StatsRuns {
            inquiries,
            replies,
            receipts,
            seen: vec![],
        },
    )
}

#[test]
fn stats_count_each_deadline_on_whose_signatures() {
    let w = world();
    let b = stats_of(&w, "2021-07", &w.us_cp(), &w.ru_cp(), 0);
    let Verified::Stats(p) = verified(&b, &w.keys()) else {
        panic!()
    };
    assert_eq!((p.sent(), p.delivered()), (2, 2));
    assert_eq!(
        (p.ack().met, p.ack().missed, p.ack().undetermined),
        (1, 1, 0)
    );
    assert_eq!(
        (p.answer().met, p.answer().missed, p.answer().undetermined),
        (1, 1, 0)
    );
    assert_eq!(p.missed(), vec!["us:5"]);
    says(
        &p.sentence(),
        &[
            "2 inquiries sent",
            "Acknowledgement: 1 met (on us's observation), 1 missed (on ru's own signatures), 0 undetermined",
            "Missed: us:5.",
        ],
    );
    for bad in each_leaf_dropped(&b, "/inquiries")
        .into_iter()
        .chain(each_leaf_dropped(&b, "/replies/1"))
        .chain(each_leaf_dropped(&b, "/receipts/0"))
    {
        let e = refused(&bad, &w.keys()).to_string();
        assert!(
            e.contains("committed chain") || e.contains("no replies run"),
            "{e}"
        );
    }
    // A replies run left out.
    let bad = edit(&b, |v| {
        v["replies"].as_array_mut().unwrap().remove(1);
    });
    says(
        &refused(&bad, &w.keys()).to_string(),
        &["inquiry us:5 of the month has no replies run"],
    );
}

/// Attack e: inquiries written today but dated last month. ru's deadline
/// runs from its receipt, so they are not counted as missed.
#[test]
fn attack_e_inquiries_dated_last_month_but_receipted_today_are_not_missed() {
    let mut w = founded();
    let (us, ru, fbi, fsb) = (&mut w.us, &mut w.ru, &w.fbi, &w.fsb);
    let a = inquiry(us, fbi, -6 * DAY, None); // dated Jun 25, written Aug 1
    let b = inquiry(us, fbi, -6 * DAY + 60, None);
    receipt(ru, fsb, us, a, 31 * DAY); // ru received them Aug 1
    receipt(ru, fsb, us, b, 31 * DAY + 60);
    let uc = w.us.checkpoint(
        4,
        &[
            (&w.us.witness, unix(31 * DAY + 600)),
            (&w.ru.witness, unix(31 * DAY + 600)),
        ],
    );
    let rc = w.ru.checkpoint(
        4,
        &[
            (&w.ru.witness, unix(31 * DAY + 600)),
            (&w.us.witness, unix(31 * DAY + 600)),
        ],
    );
    let bundle = stats_of(&w, "2021-06", &uc, &rc, 0);
    let Verified::Stats(p) = verified(&bundle, &w.keys()) else {
        panic!()
    };
    assert_eq!(p.sent(), 2);
    assert_eq!(
        (p.ack().met, p.ack().missed, p.ack().undetermined),
        (0, 0, 2)
    );
    assert!(p.missed().is_empty());
    let Verdict::Undetermined(why) = &p.rows[0].ack.verdict else {
        panic!()
    };
    says(
        why,
        &[
            "ru's own signed state reaches only 2021-08-01T00:10:00Z",
            "before 2021-08-02T00:00:00Z, when ru's deadline fell (its receipt at 2021-08-01T00:00:00Z",
        ],
    );
}

// ---- opening, statement, inclusion: attack f ----

#[test]
fn opening_verifies_and_attack_f_a_revoked_key_is_refused() {
    let mut w = world();
    let cp = w.us_cp();
    let b = opening_bundle(
        &w.us.evidence(&cp),
        &w.us.tlog_proof(2, &cp),
        &w.salt,
        &w.plaintext,
    );
    let Verified::Opening(p) = verified(&b, &w.keys()) else {
        panic!()
    };
    assert_eq!(
        p.text.as_deref(),
        Some("Please identify the operators of 203.0.113.7.")
    );
    says(
        &p.sentence(),
        &["Signed by us/fbi with the key us's log announced in entry 0"],
    );
    // Attack f: us revokes us/fbi, then an entry signed with its key.
    w.us.key(w.fbi.public(), KeyAction::Revoke, at(16 * DAY)); // us:9
    let body = BodyCommitment {
        sealed: b64::encode(seal::sealed_hash(b"sealed")),
        size: 6,
        commitment: b64::encode(seal::commitment(&w.salt, &w.plaintext)),
    };
    let i = inquiry(&mut w.us, &w.fbi, 17 * DAY, Some(body)); // us:10
    let cp = w.us_cp();
    let b = opening_bundle(
        &w.us.evidence(&cp),
        &w.us.tlog_proof(i, &cp),
        &w.salt,
        &w.plaintext,
    );
    says(
        &refused(&b, &w.keys()).to_string(),
        &["entry us:10", "entry 9 revoked the keys of us/fbi"],
    );
    // And in a delivery bundle the same.
    let b = delivery_bundle(&w.us.evidence(&cp), &w.us.tlog_proof(i, &cp), None);
    says(
        &refused(&b, &w.keys()).to_string(),
        &["entry 9 revoked the keys of us/fbi"],
    );
}

#[test]
fn a_joint_statement_verifies_and_a_one_sided_one_says_so() {
    let mut w = world();
    const TEXT: &str = "Both sides will keep this channel open.";
    let mut h =
        w.us.header(Kind::Statement, "us/fbi", Some("ru/fsb"), at(16 * DAY));
    h.digest = Some(text_digest(TEXT));
    let s = w.us.by_office(&w.fbi, h);
    let mut h = w.ru.header(
        Kind::Endorsement,
        "ru/fsb",
        Some("us/fbi"),
        at(16 * DAY + HOUR),
    );
    h.refs = vec![w.us.reference(s)];
    h.digest = Some(text_digest(TEXT));
    let e = w.ru.by_office(&w.fsb, h);
    let (uc, rc) = (w.us_cp(), w.ru_cp());
    let ue = w.us.evidence(&uc);
    let b = statement_bundle(
        TEXT,
        Some("en"),
        &ue,
        &w.us.tlog_proof(s, &uc),
        Some((&w.ru.evidence(&rc), &w.ru.tlog_proof(e, &rc))),
    );
    let Verified::Statement(p) = verified(&b, &w.keys()) else {
        panic!()
    };
    says(
        &p.sentence(),
        &["Joint statement: us/fbi (us:9", "ru/fsb (ru:8"],
    );
    let b = statement_bundle(TEXT, None, &ue, &w.us.tlog_proof(s, &uc), None);
    let Verified::Statement(p) = verified(&b, &w.keys()) else {
        panic!()
    };
    says(&p.sentence(), &["One-sided statement: only us/fbi signed"]);
    let b = statement_bundle("Another text.", None, &ue, &w.us.tlog_proof(s, &uc), None);
    says(
        &refused(&b, &w.keys()).to_string(),
        &["it is not the text that was signed"],
    );
}

// ---- equivocation v2, index mismatch ----

#[test]
fn one_tree_with_two_index_lines_is_an_equivocation() {
    let w = world();
    let n = w.us.tree.size();
    let root = w.us.tree.root();
    let good = w.us.checkpoint(n, &[]);
    let bad = checkpoint::sign_indexed(&w.us.log, n, root, hotline_proto::Hash([9; 32])).unwrap();
    let claim = |cp: &[u8]| RootClaim {
        checkpoint: String::from_utf8(cp.to_vec()).unwrap(),
        size: n,
        root: b64::encode(root.0),
        consistency: vec![],
    };
    let b = bundle::equivocation_bundle("hotline/us", claim(&good), claim(&bad));
    assert!(b.contains("hotline/equivocation/v2"));
    let Verified::Equivocation(f) = verified(&b, &w.keys()) else {
        panic!()
    };
    assert!(f.index_only);
    says(
        &f.sentence(),
        &[
            "equivocated about its index",
            "different hotline-index lines",
        ],
    );
    // A checkpoint of the same tree without an index line is no fork: a log
    // that started indexing signs both, honestly.
    let plain = checkpoint::sign(&w.us.log, n, root).unwrap();
    let b2 = bundle::equivocation_bundle("hotline/us", claim(&good), claim(&plain));
    says(
        &refused(&b2, &w.keys()).to_string(),
        &["no equivocation shown"],
    );
    // The same pair as v1 shows no fork of the tree: refused.
    let v1 = b.replace("hotline/equivocation/v2", "hotline/equivocation/v1");
    says(
        &refused(&v1, &w.keys()).to_string(),
        &["agree about the first 9 entries"],
    );
}

#[test]
fn an_index_that_leaves_out_an_entry_is_proved_wrong() {
    let w = world();
    let key = index::channel_key(Kind::Inquiry, "us/fbi", Some("ru/fsb"));
    // us signs an index that skips us:5 for the inquiry channel.
    let mut ix = Index::new();
    for (i, e) in w.us.entries.iter().enumerate() {
        let keys: Vec<String> = index::keys_of(e)
            .into_iter()
            .filter(|k| !(i == 5 && *k == key))
            .collect();
        ix.apply(i as u64, e.leaf_hash(), &keys);
    }
    let n = w.us.tree.size();
    let cp = checkpoint::sign_indexed(&w.us.log, n, w.us.tree.root(), ix.root()).unwrap();
    let run = KeyedRun {
        key: key.clone(),
        state: ix.state(&key),
        proof: ix.prove(&key),
        base: None,
        leaves: vec![(2, w.us.entries[2].leaf().to_vec())],
    };
    let b = index_mismatch_bundle(&cp, &run, &w.us.tlog_proof(5, &cp));
    let Verified::IndexMismatch(m) = verified(&b, &w.keys()) else {
        panic!()
    };
    assert_eq!(m.index, 5);
    says(
        &m.sentence(),
        &[
            "Log hotline/us signed a wrong index",
            "its tree holds us:5",
            "leaves it out",
        ],
    );
    // An entry the run does hold shows nothing.
    let b = index_mismatch_bundle(&cp, &run, &w.us.tlog_proof(2, &cp));
    says(&refused(&b, &w.keys()).to_string(), &["no mismatch shown"]);
}

// ---- v1 bundles ----

#[test]
fn version_1_claim_bundles_are_refused_saying_why() {
    let w = world();
    for (kind, why, instead) in [
        (
            "hotline/delivery/v1",
            "rotated or revoked",
            "hotline/delivery/v2",
        ),
        (
            "hotline/answered/v1",
            "a timely one can be left out",
            "hotline/answered/v2",
        ),
        (
            "hotline/absence/v1",
            "the party the claim favours",
            "hotline/absence/v2",
        ),
        ("hotline/stats/v1", "blame the receiver", "hotline/stats/v2"),
        (
            "hotline/opening/v1",
            "rotated or revoked",
            "hotline/opening/v2",
        ),
        (
            "hotline/statement/v1",
            "rotated or revoked",
            "hotline/statement/v2",
        ),
    ] {
        let b = serde_json::json!({"bundle": kind, "entry": {"entry": "x"}}).to_string();
        let e = refused(&b, &w.keys());
        assert!(matches!(e, BundleError::Superseded { .. }), "{e:?}");
        says(
            &e.to_string(),
            &[
                &format!("{kind} is no longer accepted"),
                why,
                instead,
                if kind.contains("opening") {
                    "`hotline open` writes one"
                } else {
                    "hotline prove"
                },
            ],
        );
    }
}

/// The absence bundle grows with the channel, not with the log: five
/// thousand entries on other channels add nothing to it but index path.
#[test]
fn an_absence_bundle_stays_small_in_a_busy_log() {
    let mut w = world();
    for k in 0..5_000 {
        let m =
            w.us.header(Kind::Message, "us/fbi", Some("ru/svr"), at(16 * DAY + k));
        w.us.by_office(&w.fbi, m);
    }
    let c = window();
    let started = std::time::Instant::now();
    let b = absence_of(&w, &c, &w.us_cp());
    eprintln!(
        "absence bundle in a log of {} entries: {} bytes, written in {:?}",
        w.us.tree.size(),
        b.len(),
        started.elapsed()
    );
    assert!(b.len() < 16 * 1024, "{} bytes", b.len());
    let started = std::time::Instant::now();
    assert!(matches!(verified(&b, &w.keys()), Verified::Absence(_)));
    eprintln!("verified in {:?}", started.elapsed());
}
