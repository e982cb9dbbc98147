//! Writes the fuzz targets' seed inputs: real leaves, checkpoints,
//! tlog-proofs, pushes, add-checkpoint bodies, sealed bodies, identities and
//! one bundle of every kind, all built with the fixture keys the targets pin
//! (`hotline_fuzz::US`, `RU`), so that each seed passes every check and the
//! fuzzer mutates from there. Checks that every bundle verifies.
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
//! with their receipts, acknowledgements and answers, and a joint statement
//! of the two presidents.

use std::path::{Path, PathBuf};

use hotline_fuzz::{KEYRING, PartyKeys, RU, Seeded, US};
use hotline_node::federation::wire::{Push, PushEntry};
use hotline_proto::bundle::{self, RootClaim, TlogProof};
use hotline_proto::checkpoint;
use hotline_proto::claims::absence::{AbsenceClaim, absence_bundle};
use hotline_proto::claims::answered::answered_bundle;
use hotline_proto::claims::delivery::delivery_bundle;
use hotline_proto::claims::opening::opening_bundle;
use hotline_proto::claims::statement::statement_bundle;
use hotline_proto::claims::stats::{Channel, stats_bundle};
use hotline_proto::claims::{EntryProof, LogRange};
use hotline_proto::entry::{
    BodyCommitment, Content, HEADER_VERSION, Header, KeyAction, KeyAnnouncement, Kind, Ref,
    SignedEntry, text_digest,
};
use hotline_proto::keys::{NoteKey, OfficeKeys, PartyIdentity};
use hotline_proto::name::Office;
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

    fn header(&self, kind: Kind, from: &str, to: Option<&str>, time: Timestamp) -> Header {
        Header {
            v: HEADER_VERSION,
            log: self.keys.party.clone(),
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

    fn announce(&mut self, office: &str, time: Timestamp) -> u64 {
        let mut h = self.header(Kind::Key, self.keys.party.as_str(), None, time);
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

    fn checkpoint(&self, size: u64, cosigs: &[(&NoteKey, u64)]) -> Vec<u8> {
        let root = self.tree.root_at(size).expect("a size the log has");
        let note = checkpoint::sign(&self.keys.log, size, root).expect("a checkpoint");
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

    fn proof(&self, index: u64, cp: &[u8], key: Option<u64>) -> EntryProof {
        EntryProof {
            entry: self.tlog_proof(index, cp),
            signer_key: key.map(|k| self.tlog_proof(k, cp)),
        }
    }

    /// The proof of `index` under `cp`, with the key entry of its office.
    fn signed_proof(&self, index: u64, cp: &[u8]) -> EntryProof {
        let from = &self.entries[index as usize].header().from;
        let key = (from != self.keys.party.as_str()).then(|| {
            self.entries
                .iter()
                .position(|e| {
                    e.header()
                        .key
                        .as_ref()
                        .is_some_and(|k| k.keys.office.as_str() == from)
                })
                .expect("the office was announced") as u64
        });
        self.proof(index, cp, key)
    }

    fn range(&self, start: &[u8], end: &[u8]) -> LogRange {
        let (_, a, _) = checkpoint::peek(start).expect("a checkpoint");
        let (_, b, _) = checkpoint::peek(end).expect("a checkpoint");
        LogRange {
            start: start.to_vec(),
            end: end.to_vec(),
            frontier: tree::frontier_hashes(&self.tree, a).expect("the tree's hashes"),
            leaves: (a..b)
                .map(|i| self.entries[i as usize].leaf().to_vec())
                .collect(),
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

    // The claims world of hotline-proto's tests.
    us.announce("us/fbi", at(-30 * DAY));
    ru.announce("ru/fsb", at(-30 * DAY));
    let mut h = us.header(Kind::Agreement, "us", None, at(-29 * DAY));
    h.status = Some("proposed".into());
    h.terms = Some(serde_json::from_value(terms()).expect("valid terms"));
    us.by_party(h);
    let mut h = ru.header(Kind::Agreement, "ru", None, at(-28 * DAY));
    h.status = Some("signed".into());
    h.refs = vec![us.reference(1)];
    ru.by_party(h);

    let receipt = |ru: &mut Side, us: &Side, i: u64, t: i64| {
        let mut h = ru.header(Kind::Receipt, "ru/fsb", Some("us/fbi"), at(t));
        h.refs = vec![us.reference(i)];
        h.status = Some("delivered".into());
        ru.by_office(fsb, h)
    };
    let reply = |ru: &mut Side, us: &Side, kind: Kind, i: u64, t: i64| {
        let mut h = ru.header(kind, "ru/fsb", Some("us/fbi"), at(t));
        h.refs = vec![us.reference(i)];
        h.agreement = Some("us:1".into());
        ru.by_office(fsb, h)
    };

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

    let m = us.header(Kind::Message, "us/fbi", Some("ru/fsb"), at(-11 * DAY));
    us.by_office(fbi, m);
    receipt(&mut ru, &us, 2, -11 * DAY + 60);
    let mut h = us.header(Kind::Inquiry, "us/fbi", Some("ru/fsb"), at(DAY + 10 * HOUR));
    h.agreement = Some("us:1".into());
    h.body = Some(BodyCommitment {
        sealed: b64::encode(seal::sealed_hash(&sealed.bytes)),
        size: sealed.bytes.len() as u64,
        commitment: b64::encode(sealed.commitment),
    });
    us.by_office(fbi, h);
    receipt(&mut ru, &us, 3, DAY + 10 * HOUR + 60);
    reply(&mut ru, &us, Kind::Ack, 3, DAY + 12 * HOUR);
    reply(&mut ru, &us, Kind::Answer, 3, 4 * DAY + 10 * HOUR);
    let m = us.header(Kind::Message, "us/fbi", Some("ru/fsb"), at(4 * DAY));
    us.by_office(fbi, m);
    receipt(&mut ru, &us, 4, 4 * DAY + 60);
    let mut h = us.header(Kind::Inquiry, "us/fbi", Some("ru/fsb"), at(9 * DAY));
    h.agreement = Some("us:1".into());
    us.by_office(fbi, h);
    receipt(&mut ru, &us, 5, 9 * DAY + 60);
    reply(&mut ru, &us, Kind::Ack, 5, 11 * DAY);
    reply(&mut ru, &us, Kind::Answer, 5, 50 * DAY);
    let mut h = us.header(Kind::Inquiry, "us/fbi", Some("ru/fsb"), at(19 * DAY));
    h.agreement = Some("us:1".into());
    us.by_office(fbi, h);
    receipt(&mut ru, &us, 6, 19 * DAY + 60);
    let mut h = us.header(Kind::Ack, "us/fbi", Some("ru/fsb"), at(31 * DAY));
    h.refs = vec![us.reference(3)];
    h.status = Some("closed".into());
    us.by_office(fbi, h);
    let m = us.header(Kind::Message, "us/fbi", Some("ru/svr"), at(40 * DAY));
    us.by_office(fbi, m);
    let mut h = ru.header(Kind::Receipt, "ru", Some("us/fbi"), at(40 * DAY + 60));
    h.refs = vec![us.reference(8)];
    h.status = Some("refused: ru/svr is not an office of this party".into());
    ru.by_party(h);
    // The presidents' joint statement: us:9 key, us:10 statement; ru:12 key, ru:13 endorsement.
    us.announce("us/president", at(41 * DAY));
    let mut h = us.header(
        Kind::Statement,
        "us/president",
        Some("ru/president"),
        at(42 * DAY),
    );
    h.digest = Some(text_digest(JOINT_TEXT));
    us.by_office(usp, h);
    ru.announce("ru/president", at(41 * DAY));
    let mut h = ru.header(
        Kind::Endorsement,
        "ru/president",
        Some("us/president"),
        at(43 * DAY),
    );
    h.refs = vec![us.reference(10)];
    h.digest = Some(text_digest(JOINT_TEXT));
    ru.by_office(rup, h);

    let us_start = us.checkpoint(3, &[(&RU.witness, unix(-6 * DAY))]);
    let us_end = us.checkpoint(9, &[(&RU.witness, unix(55 * DAY))]);
    let ru_start = ru.checkpoint(2, &[(&US.witness, unix(-6 * DAY))]);
    let ru_end = ru.checkpoint(12, &[(&US.witness, unix(62 * DAY))]);
    let us_all = us.checkpoint(11, &[(&RU.witness, unix(63 * DAY))]);
    let ru_all = ru.checkpoint(14, &[(&US.witness, unix(64 * DAY))]);

    eprintln!("bundles:");
    let inclusion =
        bundle::inclusion_bundle(&us.tlog_proof(3, &us_end), Some(&us.tlog_proof(0, &us_end)));
    out.bundle("inclusion", &inclusion);
    out.bundle(
        "inclusion-key",
        &bundle::inclusion_bundle(&ru.tlog_proof(0, &ru_end), None),
    );
    out.bundle(
        "delivery",
        &delivery_bundle(&us.signed_proof(3, &us_end), &ru.signed_proof(3, &ru_end)),
    );
    out.bundle(
        "delivery-refused",
        &delivery_bundle(&us.signed_proof(8, &us_end), &ru.signed_proof(11, &ru_end)),
    );
    out.bundle(
        "answered",
        &answered_bundle(
            &us.signed_proof(3, &us_end),
            Some(&ru.signed_proof(3, &ru_end)),
            &us.signed_proof(1, &us_end),
            &ru.signed_proof(1, &ru_end),
            &[ru.signed_proof(4, &ru_end), us.signed_proof(7, &us_end)],
            &[ru.signed_proof(5, &ru_end)],
        ),
    );
    out.bundle(
        "absence",
        &absence_bundle(
            &AbsenceClaim {
                origin: "hotline/us".into(),
                kind: Kind::Inquiry,
                from: office("us/fbi"),
                to: office("ru/svr"),
                since: at(0),
                until: at(31 * DAY),
            },
            &us.range(&us_start, &us_end),
        ),
    );
    out.bundle(
        "stats",
        &stats_bundle(
            &Channel {
                from: office("us/fbi"),
                to: office("ru/fsb"),
            },
            "2021-07",
            &us.signed_proof(1, &us_end),
            &ru.signed_proof(1, &ru_end),
            &us.range(&us_start, &us_end),
            &ru.range(&ru_start, &ru_end),
        ),
    );
    out.bundle(
        "opening",
        &opening_bundle(&us.signed_proof(3, &us_end), &sealed.salt, &plaintext),
    );
    out.bundle(
        "statement",
        &statement_bundle(
            JOINT_TEXT,
            Some("en"),
            &us.signed_proof(10, &us_all),
            Some(&ru.signed_proof(13, &ru_all)),
        ),
    );
    // A fork of us at entry 8: the same first 8 entries, then another message.
    let mut fork = MemoryTree::new();
    for e in &us.entries[..8] {
        fork.push(e.leaf());
    }
    let m = us.header(Kind::Message, "us/fbi", Some("ru/fsb"), at(40 * DAY));
    fork.push(
        SignedEntry::sign(m, |x| fbi.sign_raw(x))
            .expect("a header")
            .leaf(),
    );
    fork.push(us.entries[8].leaf());
    let fork_cp = checkpoint::sign(&US.log, 10, fork.root()).expect("a checkpoint");
    let claim = |cp: &[u8], root: Hash, consistency: Vec<Hash>| RootClaim {
        checkpoint: String::from_utf8(cp.to_vec()).expect("a UTF-8 note"),
        size: 9,
        root: b64::encode(root.0),
        consistency: consistency.iter().map(|h| b64::encode(h.0)).collect(),
    };
    out.bundle(
        "equivocation",
        &bundle::equivocation_bundle(
            "hotline/us",
            claim(&us_end, us.tree.root_at(9).expect("size 9"), vec![]),
            claim(
                &fork_cp,
                fork.root_at(9).expect("size 9"),
                fork.consistency(9, 10).expect("a consistency proof"),
            ),
        ),
    );

    // Leaves, checkpoints and tlog-proofs.
    for (side, name) in [(&us, "us"), (&ru, "ru")] {
        for (i, e) in side.entries.iter().enumerate() {
            out.put("leaf", &format!("{name}-{i}-{}", e.header().kind), e.leaf());
        }
    }
    for (name, cp) in [
        ("us-start", &us_start),
        ("us-end", &us_end),
        ("ru-start", &ru_start),
        ("ru-end", &ru_end),
        ("us-all", &us_all),
        ("ru-all", &ru_all),
    ] {
        out.put("note", name, cp);
    }
    out.put(
        "note",
        "unsigned-by-witness",
        checkpoint::sign(&US.log, 0, tree::empty_root()).expect("a checkpoint"),
    );
    out.put("tlog_proof", "us-3", us.tlog_proof(3, &us_end).to_text());
    out.put("tlog_proof", "ru-13", ru.tlog_proof(13, &ru_all).to_text());
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
