//! Writes the fuzz targets' seed inputs: real leaves, indexed checkpoints,
//! tlog-proofs, pushes, add-checkpoint bodies, sealed bodies, identities and
//! v2 bundles of every kind, all built with the fixture keys the targets pin
//! (`hotline_fuzz::US`, `RU`, `NEUTRAL`), so that each seed passes every
//! check and the fuzzer mutates from there. Checks that every bundle
//! verifies, and that a stub of each superseded kind (claim bundles v1,
//! inclusion v1 and v2) is refused.
//!
//! ```text
//! cargo run --manifest-path fuzz/Cargo.toml --example seeds -- OUT_DIR
//! ```
//!
//! writes `OUT_DIR/<target>/seed-<name>` (deterministic: the same bytes
//! every run). `scripts/fuzz --seeds` runs it into `fuzz/corpus`.
//!
//! The world is the one of hotline-proto's claim tests (July 2021): us and
//! ru, offices us/fbi and ru/fsb under an agreement, messages, inquiries
//! with their receipts, acknowledgements and answers (and us's receipts of
//! those), and a joint statement of the two presidents. Each log's entries
//! are dated in order, and each log is indexed.

use std::path::{Path, PathBuf};

use hotline_fuzz::{KEYRING, NEUTRAL, PartyKeys, RU, Seeded, US};
use hotline_node::federation::wire::{Push, PushEntry};
use hotline_proto::bundle::{self, TlogProof};
use hotline_proto::checkpoint;
use hotline_proto::claims::LogEvidence;
use hotline_proto::claims::absence::{AbsenceClaim, absence_bundle};
use hotline_proto::claims::answered::{AgreementProofs, answered_bundle};
use hotline_proto::claims::delivery::delivery_bundle;
use hotline_proto::claims::equivocation::RootClaim;
use hotline_proto::claims::history::key_history_key;
use hotline_proto::claims::inclusion::inclusion_bundle;
use hotline_proto::claims::mismatch::index_mismatch_bundle;
use hotline_proto::claims::opening::opening_bundle;
use hotline_proto::claims::statement::statement_bundle;
use hotline_proto::claims::stats::{Channel, StatsRuns, month_bounds, stats_bundle};
use hotline_proto::entry::{
    BodyCommitment, Content, Header, KeyAction, KeyAnnouncement, Kind, Ref, SignedEntry,
    text_digest,
};
use hotline_proto::index::{self, Index, KeyState, KeyedRun};
use hotline_proto::keys::{NoteKey, OfficeKeys, PartyIdentity};
use hotline_proto::party::Office;
use hotline_proto::seal;
use hotline_proto::tree::{self, MemoryTree};
use hotline_proto::{Hash, b64};
use jiff::Timestamp;

const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;
/// 2021-07-01T00:00:00Z.
const JULY: i64 = 1_625_097_600;

fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(JULY + secs).expect("a time in 2021")
}

fn unix(secs: i64) -> u64 {
    (JULY + secs) as u64
}

fn office(s: &str) -> Office {
    Office::new(s).expect("a valid office")
}

/// One party's log in memory.
struct Side<'k> {
    keys: &'k PartyKeys,
    tree: MemoryTree,
    entries: Vec<SignedEntry>,
}

impl<'k> Side<'k> {
    fn new(keys: &'k PartyKeys) -> Self {
        Self {
            keys,
            tree: MemoryTree::new(),
            entries: vec![],
        }
    }

    fn party(&self) -> &str {
        self.keys.party.as_str()
    }

    fn header(&self, kind: Kind, from: &str, to: Option<&str>, time: Timestamp) -> Header {
        Header::new(self.keys.party.clone(), kind, from, to.map(office), time)
    }

    fn push(&mut self, e: SignedEntry) -> u64 {
        let i = self.tree.push(e.leaf());
        self.entries.push(e);
        i
    }

    fn by_party(&mut self, h: Header) -> u64 {
        let e = SignedEntry::sign(h, |m| self.keys.log.sign_raw(m)).expect("a valid header");
        self.push(e)
    }

    fn by_office(&mut self, k: &OfficeKeys, h: Header) -> u64 {
        let e = SignedEntry::sign(h, |m| k.sign_raw(m)).expect("a valid header");
        self.push(e)
    }

    /// A `key` entry announcing `office`, naming the log's previous one in `prev`.
    fn announce(&mut self, office: &str, time: Timestamp) -> u64 {
        let mut h = self.header(Kind::Key, self.party(), None, time);
        h.prev = self
            .entries
            .iter()
            .rposition(|e| e.header().kind == Kind::Key)
            .map(|i| i as u64);
        h.key = Some(KeyAnnouncement {
            action: KeyAction::Announce,
            keys: self.keys.office(office).public(),
        });
        self.by_party(h)
    }

    fn reference(&self, index: u64) -> Ref {
        Ref {
            log: self.keys.party.clone(),
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
        let root = self.tree.root_at(size).expect("a size the log has");
        let note = checkpoint::sign_indexed(&self.keys.log, size, root, self.index_at(size).root())
            .expect("a checkpoint");
        let (text, _) = checkpoint::split(&note).expect("a signed note");
        let lines: String = cosigs
            .iter()
            .map(|(k, t)| checkpoint::cosign_line(k, text, *t).expect("a cosignature"))
            .collect();
        checkpoint::add_lines(&note, &lines)
    }

    fn tlog_proof(&self, index: u64, cp: &[u8]) -> TlogProof {
        let (_, size, _) = checkpoint::peek(cp).expect("a checkpoint");
        bundle::tlog_proof(
            self.entries[index as usize].leaf(),
            index,
            self.tree
                .inclusion(index, size)
                .expect("an index in the tree"),
            cp.to_vec(),
        )
    }

    /// The run of `key` in the tree of `cp`, disclosing its entries from
    /// the `from`-th on (0: all, no base).
    fn run_from(&self, key: &str, cp: &[u8], from: usize) -> KeyedRun {
        let (_, size, _) = checkpoint::peek(cp).expect("a checkpoint");
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
                s.push(*i, tree::leaf_hash(l))
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

    /// The checkpoint and the log's complete key history at it.
    fn evidence(&self, cp: &[u8]) -> LogEvidence {
        LogEvidence {
            checkpoint: cp.to_vec(),
            key_history: self.run(&key_history_key(self.party()), cp),
        }
    }

    fn identity(&self) -> PartyIdentity {
        PartyIdentity {
            party: self.keys.party.clone(),
            log_key: self.keys.log.verifier().to_vkey(),
            witness_key: self.keys.witness.verifier().to_vkey(),
            offices: self.keys.offices.iter().map(OfficeKeys::public).collect(),
            url: Some(format!("https://{}.example:7443", self.keys.party)),
            tls_pin: Some(b64::encode([7u8; 32])),
        }
    }
}

fn terms() -> serde_json::Value {
    serde_json::json!({
        "title": "Cybercrime cooperation channel",
        "start": "2021-06-01T00:00:00Z",
        "notice_secs": 30 * DAY,
        "languages": ["en", "ru"],
        "ack_within_secs": DAY,
        "answer_within_secs": 30 * DAY,
        "channels": [{"offices": ["us/fbi", "ru/fsb"], "kinds": ["message", "inquiry", "ack", "answer"]}]
    })
}

const JOINT_TEXT: &str = "The United States and Russia will embark together on an integrated bilateral Strategic Stability Dialogue.";

struct Out {
    root: PathBuf,
    written: usize,
}

impl Out {
    fn put(&mut self, target: &str, name: &str, bytes: impl AsRef<[u8]>) {
        let dir = self.root.join(target);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        let path = dir.join(format!("seed-{name}"));
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        self.written += 1;
    }

    /// A bundle seed, which must verify with the fixture keys.
    fn bundle(&mut self, name: &str, b: &str) {
        match bundle::verify(b.as_bytes(), &KEYRING) {
            Ok(v) => eprintln!("  {name}: {}", v.sentence()),
            Err(e) => panic!("the {name} seed does not verify: {e}"),
        }
        self.put("bundle", name, b);
    }

    /// A bundle seed that must be refused with `why` in the error.
    fn refused(&mut self, name: &str, b: &str, why: &str) {
        match bundle::verify(b.as_bytes(), &KEYRING) {
            Ok(v) => panic!("the {name} seed verifies: {}", v.sentence()),
            Err(e) => {
                let e = e.to_string();
                assert!(
                    e.contains(why),
                    "the {name} seed is refused for {e:?}, not {why:?}"
                );
                eprintln!(
                    "  {name}: refused: {}",
                    e.chars().take(100).collect::<String>()
                );
            }
        }
        self.put("bundle", name, b);
    }

    /// A v2 (v3 for inclusion) bundle, and a stub of its superseded
    /// version, which verify refuses by its type tag alone.
    fn bundle_and_old(&mut self, name: &str, b: &str, new: &str, old: &str) {
        assert!(b.contains(new), "the {name} seed is not a {new} bundle");
        self.bundle(name, b);
        self.superseded(old);
    }

    /// A stub bundle of a superseded type.
    fn superseded(&mut self, kind: &str) {
        let name = kind.trim_start_matches("hotline/").replace('/', "-");
        let stub = serde_json::json!({"bundle": kind, "entry": {"entry": "x"}}).to_string();
        self.refused(&name, &stub, "is no longer accepted");
    }
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

/// The runs `ref/us/<i>` in ru's log of inquiry `us:i`, and `ref/ru/<j>` in
/// us's log of each ack or answer `ru:j` among them.
fn replies_and_receipts(
    us: &Side,
    ru: &Side,
    i: u64,
    uc: &[u8],
    rc: &[u8],
) -> (KeyedRun, Vec<KeyedRun>) {
    let replies = ru.run(&index::ref_key("us", i), rc);
    let receipts = replies
        .leaves
        .iter()
        .filter(|(_, l)| {
            let e = SignedEntry::from_leaf(l).expect("a leaf of ru");
            matches!(e.header().kind, Kind::Ack | Kind::Answer)
        })
        .map(|(j, _)| us.run(&index::ref_key("ru", *j), uc))
        .collect();
    (replies, receipts)
}

fn main() {
    let root = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus"));
    let mut out = Out { root, written: 0 };
    let (fbi, fsb) = (US.office("us/fbi"), RU.office("ru/fsb"));
    let (usp, rup) = (US.office("us/president"), RU.office("ru/president"));
    let mut us = Side::new(&US);
    let mut ru = Side::new(&RU);

    // A real sealed body: the plaintext of inquiry us:3, sealed to ru/fsb and to us/fbi.
    let mut content = Content::text(
        "Please identify the operators of 203.0.113.7.",
        Some("en".into()),
    );
    content.subject = Some("Ransomware on a hospital network".into());
    content.stix = Some(
        serde_json::from_slice(
            &std::fs::read(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/stix-ransomware.json"),
            )
            .expect("the STIX example"),
        )
        .expect("the STIX example is JSON"),
    );
    let plaintext = content.to_bytes();
    let sealed = seal::seal(
        &plaintext,
        &[
            (
                fsb.office(),
                &fsb.public().seal_key().expect("a sealing key"),
            ),
            (
                fbi.office(),
                &fbi.public().seal_key().expect("a sealing key"),
            ),
        ],
        &mut Seeded::new("sealed us:3"),
    )
    .expect("sealing works");

    // The claims world, in the order it was written (each log's dates in order).
    assert_eq!(us.announce("us/fbi", at(-30 * DAY)), 0);
    assert_eq!(ru.announce("ru/fsb", at(-30 * DAY)), 0);
    let mut h = us.header(Kind::Agreement, "us", None, at(-29 * DAY));
    h.status = Some("proposed".into());
    h.terms = Some(serde_json::from_value(terms()).expect("valid terms"));
    assert_eq!(us.by_party(h), 1);
    let mut h = ru.header(Kind::Agreement, "ru", None, at(-28 * DAY));
    h.status = Some("signed".into());
    h.refs = vec![us.reference(1)];
    assert_eq!(ru.by_party(h), 1);
    let m = us.header(Kind::Message, "us/fbi", Some("ru/fsb"), at(-11 * DAY));
    assert_eq!(us.by_office(fbi, m), 2);
    assert_eq!(receipt(&mut ru, fsb, &us, 2, -11 * DAY + 60), 2);
    // Inquiry us:3, with the sealed body: acknowledged and answered in time.
    let body = BodyCommitment {
        sealed: b64::encode(seal::sealed_hash(&sealed.bytes)),
        size: sealed.bytes.len() as u64,
        commitment: b64::encode(sealed.commitment),
    };
    assert_eq!(inquiry(&mut us, fbi, DAY + 10 * HOUR, Some(body)), 3);
    assert_eq!(receipt(&mut ru, fsb, &us, 3, DAY + 10 * HOUR + 60), 3);
    assert_eq!(reply(&mut ru, fsb, &us, Kind::Ack, 3, DAY + 12 * HOUR), 4);
    assert_eq!(receipt(&mut us, fbi, &ru, 4, DAY + 12 * HOUR + 60), 4);
    let m = us.header(Kind::Message, "us/fbi", Some("ru/fsb"), at(4 * DAY));
    assert_eq!(us.by_office(fbi, m), 5);
    assert_eq!(receipt(&mut ru, fsb, &us, 5, 4 * DAY + 60), 5);
    assert_eq!(
        reply(&mut ru, fsb, &us, Kind::Answer, 3, 4 * DAY + 10 * HOUR),
        6
    );
    assert_eq!(receipt(&mut us, fbi, &ru, 6, 4 * DAY + 10 * HOUR + 60), 6);
    // ru's tree after the answer, cosigned by us's witness an hour later.
    let ru_seen = ru.checkpoint(7, &[(&US.witness, unix(4 * DAY + 11 * HOUR))]);
    // Inquiry us:7: acknowledged late, answered late (ru:13).
    assert_eq!(inquiry(&mut us, fbi, 9 * DAY, None), 7);
    assert_eq!(receipt(&mut ru, fsb, &us, 7, 9 * DAY + 60), 7);
    assert_eq!(reply(&mut ru, fsb, &us, Kind::Ack, 7, 11 * DAY), 8);
    assert_eq!(receipt(&mut us, fbi, &ru, 8, 11 * DAY + 60), 8);
    // Inquiry us:9: receipted, never answered.
    assert_eq!(inquiry(&mut us, fbi, 19 * DAY, None), 9);
    assert_eq!(receipt(&mut ru, fsb, &us, 9, 19 * DAY + 60), 9);
    let mut h = us.header(Kind::Ack, "us/fbi", Some("ru/fsb"), at(31 * DAY));
    h.refs = vec![us.reference(3)];
    h.status = Some("closed".into());
    assert_eq!(us.by_office(fbi, h), 10);
    let m = us.header(Kind::Message, "us/fbi", Some("ru/svr"), at(40 * DAY));
    assert_eq!(us.by_office(fbi, m), 11);
    let mut h = ru.header(Kind::Receipt, "ru", Some("us/fbi"), at(40 * DAY + 60));
    h.refs = vec![us.reference(11)];
    h.status = Some("refused: ru/svr is not an office of this party".into());
    assert_eq!(ru.by_party(h), 10);
    // The presidents' joint statement: us:12 key, us:13 statement; ru:11 key, ru:12 endorsement.
    assert_eq!(us.announce("us/president", at(41 * DAY)), 12);
    assert_eq!(ru.announce("ru/president", at(41 * DAY)), 11);
    let mut h = us.header(
        Kind::Statement,
        "us/president",
        Some("ru/president"),
        at(42 * DAY),
    );
    h.digest = Some(text_digest(JOINT_TEXT));
    assert_eq!(us.by_office(usp, h), 13);
    let mut h = ru.header(
        Kind::Endorsement,
        "ru/president",
        Some("us/president"),
        at(43 * DAY),
    );
    h.refs = vec![us.reference(13)];
    h.digest = Some(text_digest(JOINT_TEXT));
    assert_eq!(ru.by_office(rup, h), 12);
    assert_eq!(reply(&mut ru, fsb, &us, Kind::Answer, 7, 50 * DAY), 13);
    assert_eq!(receipt(&mut us, fbi, &ru, 13, 50 * DAY + 60), 14);

    // Each whole log, cosigned by the other party's witness and its own.
    let (un, rn) = (us.tree.size(), ru.tree.size());
    let uc = us.checkpoint(
        un,
        &[(&RU.witness, unix(63 * DAY)), (&US.witness, unix(63 * DAY))],
    );
    let rc = ru.checkpoint(
        rn,
        &[(&US.witness, unix(64 * DAY)), (&RU.witness, unix(64 * DAY))],
    );
    let us_neutral = us.checkpoint(un, &[(&NEUTRAL, unix(65 * DAY))]);
    let us_12 = us.checkpoint(12, &[(&RU.witness, unix(41 * DAY))]);
    let (ue, re) = (us.evidence(&uc), ru.evidence(&rc));

    eprintln!("bundles:");
    out.bundle_and_old(
        "inclusion",
        &inclusion_bundle(&ue, &us.tlog_proof(3, &uc)),
        "hotline/inclusion/v3",
        "hotline/inclusion/v1",
    );
    out.superseded("hotline/inclusion/v2");
    out.bundle(
        "inclusion-key",
        &inclusion_bundle(&re, &ru.tlog_proof(0, &rc)),
    );
    out.bundle_and_old(
        "delivery",
        &delivery_bundle(
            &ue,
            &us.tlog_proof(3, &uc),
            Some((&re, &ru.run(&index::ref_key("us", 3), &rc))),
        ),
        "hotline/delivery/v2",
        "hotline/delivery/v1",
    );
    out.bundle(
        "delivery-refused",
        &delivery_bundle(
            &ue,
            &us.tlog_proof(11, &uc),
            Some((&re, &ru.run(&index::ref_key("us", 11), &rc))),
        ),
    );
    out.bundle(
        "delivery-sent",
        &delivery_bundle(&ue, &us.tlog_proof(10, &uc), None),
    );
    let agreement = AgreementProofs {
        proposal: us.tlog_proof(1, &uc),
        signature: ru.tlog_proof(1, &rc),
    };
    let (replies, receipts) = replies_and_receipts(&us, &ru, 3, &uc, &rc);
    out.bundle_and_old(
        "answered",
        &answered_bundle(
            &ue,
            &re,
            &us.tlog_proof(3, &uc),
            &agreement,
            &replies,
            &receipts,
            &[ru.tlog_proof(6, &ru_seen)],
        ),
        "hotline/answered/v2",
        "hotline/answered/v1",
    );
    let (replies, receipts) = replies_and_receipts(&us, &ru, 7, &uc, &rc);
    out.bundle(
        "answered-late",
        &answered_bundle(
            &ue,
            &re,
            &us.tlog_proof(7, &uc),
            &agreement,
            &replies,
            &receipts,
            &[],
        ),
    );
    // No inquiry to ru/fsb after us:9 until August, on us's own witness;
    // the run discloses from us:9 on, the earlier inquiries folded in its base.
    let claim = AbsenceClaim {
        kind: Kind::Inquiry,
        from: office("us/fbi"),
        to: office("ru/fsb"),
        since: at(20 * DAY),
        until: at(31 * DAY),
    };
    out.bundle_and_old(
        "absence",
        &absence_bundle(&claim, &ue, &us.run_from(&claim.key(), &uc, 2)),
        "hotline/absence/v2",
        "hotline/absence/v1",
    );
    // No inquiry to ru/svr in July, on a neutral witness: an empty run.
    let claim = AbsenceClaim {
        kind: Kind::Inquiry,
        from: office("us/fbi"),
        to: office("ru/svr"),
        since: at(0),
        until: at(31 * DAY),
    };
    out.bundle(
        "absence-neutral",
        &absence_bundle(
            &claim,
            &us.evidence(&us_neutral),
            &us.run(&claim.key(), &us_neutral),
        ),
    );
    let inquiries = us.run(
        &index::channel_key(Kind::Inquiry, "us/fbi", Some("ru/fsb")),
        &uc,
    );
    let (lo, hi) = month_bounds("2021-07").expect("a month");
    let mut runs = StatsRuns {
        inquiries,
        replies: vec![],
        receipts: vec![],
        seen: vec![],
    };
    for (i, l) in &runs.inquiries.leaves {
        let t = SignedEntry::from_leaf(l)
            .expect("a leaf of us")
            .header()
            .time;
        if t >= lo && t < hi {
            let (r, mut c) = replies_and_receipts(&us, &ru, *i, &uc, &rc);
            runs.replies.push(r);
            runs.receipts.append(&mut c);
        }
    }
    out.bundle_and_old(
        "stats",
        &stats_bundle(
            &Channel {
                from: office("us/fbi"),
                to: office("ru/fsb"),
            },
            "2021-07",
            &ue,
            &re,
            &agreement,
            &runs,
        ),
        "hotline/stats/v2",
        "hotline/stats/v1",
    );
    out.bundle_and_old(
        "opening",
        &opening_bundle(&ue, &us.tlog_proof(3, &uc), &sealed.salt, &plaintext),
        "hotline/opening/v2",
        "hotline/opening/v1",
    );
    out.bundle_and_old(
        "statement",
        &statement_bundle(
            JOINT_TEXT,
            Some("en"),
            &ue,
            &us.tlog_proof(13, &uc),
            Some((&re, &ru.tlog_proof(12, &rc))),
        ),
        "hotline/statement/v2",
        "hotline/statement/v1",
    );
    out.bundle(
        "statement-one-sided",
        &statement_bundle(JOINT_TEXT, None, &ue, &us.tlog_proof(13, &uc), None),
    );

    // A fork of us at entry 11: the same first 11 entries, then another message.
    let mut fork = MemoryTree::new();
    let mut fork_ix = Index::new();
    let other = SignedEntry::sign(
        us.header(Kind::Message, "us/fbi", Some("ru/fsb"), at(40 * DAY)),
        |x| fbi.sign_raw(x),
    )
    .expect("a header");
    for e in us.entries[..11].iter().chain([&other, &us.entries[11]]) {
        let i = fork.push(e.leaf());
        fork_ix.apply_entry(i, e);
    }
    let fork_cp = checkpoint::sign_indexed(&US.log, fork.size(), fork.root(), fork_ix.root())
        .expect("a checkpoint");
    let claim = |cp: &[u8], size: u64, root: Hash, consistency: Vec<Hash>| RootClaim {
        checkpoint: String::from_utf8(cp.to_vec()).expect("a UTF-8 note"),
        size,
        root: b64::encode(root.0),
        consistency: consistency.iter().map(|h| b64::encode(h.0)).collect(),
    };
    let fork_bundle = bundle::equivocation_bundle(
        "hotline/us",
        claim(&us_12, 12, us.tree.root_at(12).expect("size 12"), vec![]),
        claim(
            &fork_cp,
            12,
            fork.root_at(12).expect("size 12"),
            fork.consistency(12, 13).expect("a consistency proof"),
        ),
    );
    out.bundle("equivocation", &fork_bundle);
    // One tree of us under two different index lines.
    let root = us.tree.root();
    let other_index = checkpoint::sign_indexed(&US.log, un, root, Hash([9; 32])).expect("a note");
    out.bundle(
        "equivocation-index",
        &bundle::equivocation_bundle(
            "hotline/us",
            claim(&uc, un, root, vec![]),
            claim(&other_index, un, root, vec![]),
        ),
    );
    // us signs an index whose inquiry channel leaves out us:7.
    let key = index::channel_key(Kind::Inquiry, "us/fbi", Some("ru/fsb"));
    let mut ix = Index::new();
    for (i, e) in us.entries.iter().enumerate() {
        let keys: Vec<String> = index::keys_of(e)
            .into_iter()
            .filter(|k| !(i == 7 && *k == key))
            .collect();
        ix.apply(i as u64, e.leaf_hash(), &keys);
    }
    let wrong = checkpoint::sign_indexed(&US.log, un, root, ix.root()).expect("a checkpoint");
    let run = KeyedRun {
        key: key.clone(),
        state: ix.state(&key),
        proof: ix.prove(&key),
        base: None,
        leaves: [3usize, 9]
            .iter()
            .map(|&i| (i as u64, us.entries[i].leaf().to_vec()))
            .collect(),
    };
    out.bundle(
        "index-mismatch",
        &index_mismatch_bundle(&wrong, &run, &us.tlog_proof(7, &wrong)),
    );
    out.refused(
        "index-refused",
        r#"{"bundle":"hotline/index-refused/v1"}"#,
        "index-refused",
    );

    // Leaves, checkpoints and tlog-proofs.
    // The first leaf of each kind in each log (us:3 carries the sealed body).
    for (side, name) in [(&us, "us"), (&ru, "ru")] {
        let mut kinds = vec![];
        for (i, e) in side.entries.iter().enumerate() {
            let kind = e.header().kind;
            if !kinds.contains(&kind) {
                kinds.push(kind);
                out.put("leaf", &format!("{name}-{i}-{kind}"), e.leaf());
            }
        }
    }
    for (name, cp) in [
        ("us-all", &uc),
        ("ru-all", &rc),
        ("us-neutral", &us_neutral),
        ("us-12", &us_12),
        ("ru-seen", &ru_seen),
        ("us-wrong-index", &wrong),
    ] {
        out.put("note", name, cp);
    }
    out.put(
        "note",
        "us-unindexed",
        checkpoint::sign(&US.log, un, root).expect("a checkpoint"),
    );
    out.put(
        "note",
        "unsigned-by-witness",
        checkpoint::sign(&US.log, 0, tree::empty_root()).expect("a checkpoint"),
    );
    out.put("tlog_proof", "us-3", us.tlog_proof(3, &uc).to_text());
    out.put("tlog_proof", "ru-12", ru.tlog_proof(12, &rc).to_text());
    out.put(
        "tlog_proof",
        "us-0-size-1",
        us.tlog_proof(0, &us.checkpoint(1, &[])).to_text(),
    );

    // Pushes: the first run of us, and a later run with a sealed body.
    let push = |side: &Side, from: u64, to: u64, sealed_at: Option<(u64, &[u8])>| {
        let cp = side.checkpoint(to, &[]);
        serde_json::to_vec(&Push {
            origin: side.keys.log.name().to_owned(),
            checkpoint: String::from_utf8(cp).expect("a UTF-8 note"),
            entries: (from..to)
                .map(|i| PushEntry {
                    index: i,
                    leaf: b64::encode(side.entries[i as usize].leaf()),
                    sealed: sealed_at
                        .filter(|(at, _)| *at == i)
                        .map(|(_, s)| b64::encode(s)),
                })
                .collect(),
        })
        .expect("a push serialises")
    };
    out.put("push", "us-0-3", push(&us, 0, 3, None));
    out.put(
        "push",
        "us-3-5-sealed",
        push(&us, 3, 5, Some((3, &sealed.bytes))),
    );
    out.put("push", "ru-0-14", push(&ru, 0, 14, None));
    out.put("push", "empty", push(&us, 11, 11, None));

    // add-checkpoint bodies, with real consistency proofs.
    for (old, size) in [(0u64, 3u64), (3, 9), (9, 11), (1, 11), (11, 11)] {
        let proof = if old == 0 || old == size {
            vec![]
        } else {
            us.tree.consistency(old, size).expect("a consistency proof")
        };
        let note = us.checkpoint(size, &[]);
        out.put(
            "add_checkpoint",
            &format!("us-{old}-{size}"),
            hotline_proto::witness::body(old, &proof, &note),
        );
    }

    // Sealed bodies, opened by the target as ru/fsb.
    out.put("sealed", "inquiry", &sealed.bytes);
    let note = Content::text("short", None).to_bytes();
    let s = seal::seal(
        &note,
        &[(
            fsb.office(),
            &fsb.public().seal_key().expect("a sealing key"),
        )],
        &mut Seeded::new("sealed short"),
    )
    .expect("sealing works");
    out.put("sealed", "short", &s.bytes);

    // Terms: the example files, and terms as an agreement header carries them.
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    for name in [
        "cyber-agreement",
        "defense-agreement",
        "presidential-agreement",
    ] {
        let text =
            std::fs::read(examples.join(format!("{name}.toml"))).expect("an example terms file");
        out.put("terms", name, text);
    }
    out.put("terms", "json", serde_json::to_vec(&terms()).expect("JSON"));

    // STIX bundles.
    out.put(
        "stix",
        "ransomware",
        std::fs::read(examples.join("stix-ransomware.json")).expect("the STIX example"),
    );
    out.put(
        "stix",
        "minimal",
        br#"{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[]}"#,
    );

    // Keys export files.
    for side in [&us, &ru] {
        let id = side.identity();
        out.put(
            "keys_export",
            side.keys.party.as_str(),
            serde_json::to_vec_pretty(&id).expect("JSON"),
        );
    }
    eprintln!("wrote {} seeds under {}", out.written, out.root.display());
}
