//! The hostile-party harness: a party that holds its own secret keys, knows
//! hotline's documented formats, and writes whatever it likes.
//!
//! A hostile party usually starts honest: it ran a real node, federated, and
//! agreed terms with its victim. Then [`Hostile::take_over`] stops that node
//! (SIGKILL) and the test holds the party's keys and its log as its own
//! mirror-to-be: every later entry, sealed body, checkpoint, push and
//! cosignature is built here from the formats (RFC 8785 headers signed with
//! Ed25519, HPKE sealed bodies, C2SP signed notes, the push and
//! add-checkpoint bodies of docs/federation.md), never through the node's own
//! write path. It talks to the victim's peer port over TLS with its own
//! pinned certificate, using curl, an independent client.
//!
//! [`Snapshot`] records everything a victim holds (its own log and its
//! mirrors) so a test can assert that a refused attack stored nothing.

// Not every attack module uses every tool of the kit.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use hotline_proto::b64;
use hotline_proto::bundle::TlogProof;
use hotline_proto::checkpoint;
use hotline_proto::entry::{
    BodyCommitment, Header, KeyAction, KeyAnnouncement, Kind, Ref, SignedEntry,
};
use hotline_proto::keys::{NoteKey, OfficeKeys, OfficePublic, PartyIdentity, os_rng};
use hotline_proto::party::{Office, Party as PartyName};
use hotline_proto::seal;
use hotline_proto::tree::MemoryTree;

use super::util::*;

/// POSTs `body` to a peer endpoint as the party in `client` (its TLS key and
/// certificate), pinning the server's key; returns status and body.
pub fn curl(
    client: &Path,
    server_addr: &str,
    server_pin: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> Result<(u16, String), String> {
    curl_typed(client, server_addr, server_pin, path, content_type, body)
        .map(|(status, _, body)| (status, body))
}

/// [`curl`], also returning the answer's content type (the tlog-witness
/// conflict answer is recognised by it).
pub fn curl_typed(
    client: &Path,
    server_addr: &str,
    server_pin: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> Result<(u16, String, String), String> {
    curl_with_headers(client, server_addr, server_pin, path, content_type, body).map(
        |(status, headers, body)| {
            let ty = headers.get("content-type").cloned().unwrap_or_default();
            (status, ty, body)
        },
    )
}

/// [`curl`], also returning the response headers (names in lower case).
pub fn curl_with_headers(
    client: &Path,
    server_addr: &str,
    server_pin: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> Result<(u16, BTreeMap<String, String>, String), String> {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), body).unwrap();
    let h = tempfile::NamedTempFile::new().unwrap();
    let o = Command::new("curl")
        .args(["-sS", "-k", "--max-time", "20", "-w", "\n%{http_code}"])
        .arg("-D")
        .arg(h.path())
        .arg("--cert")
        .arg(client.join("keys/tls.crt"))
        .arg("--key")
        .arg(client.join("keys/tls.key"))
        .arg("--pinnedpubkey")
        .arg(format!("sha256//{server_pin}"))
        .args([
            "-H",
            &format!("content-type: {content_type}"),
            "--data-binary",
        ])
        .arg(format!("@{}", f.path().display()))
        .arg(format!("https://{server_addr}{path}"))
        .output()
        .expect("curl must be installed (scripts/test installs it)");
    if !o.status.success() {
        return Err(String::from_utf8_lossy(&o.stderr).into_owned());
    }
    let out = String::from_utf8(o.stdout).unwrap();
    let (body, code) = out.rsplit_once('\n').unwrap();
    let headers = std::fs::read_to_string(h.path())
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok((code.parse().unwrap(), headers, body.to_owned()))
}

/// The indices of `origin`'s log whose sealed bodies `holder` stores (its
/// own log, or its mirror of a peer's), read from its database. The API
/// shows headers only, so this is how a test sees what ciphertext a node
/// keeps; SQLite (WAL) lets it read beside the running node.
pub fn bodies(holder: &Party, origin: &str) -> Vec<u64> {
    let db = rusqlite::Connection::open_with_flags(
        holder.dir.join("hotline.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut st = db
        .prepare(
            "SELECT b.idx FROM bodies b JOIN logs l ON l.id = b.log WHERE l.origin = ?1 ORDER BY b.idx",
        )
        .unwrap();
    st.query_map([origin], |r| r.get::<_, i64>(0))
        .unwrap()
        .map(|i| u64::try_from(i.unwrap()).unwrap())
        .collect()
}

/// Opens `holder`'s database read-only, beside its running node (WAL).
fn db_of(holder: &Party) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(
        holder.dir.join("hotline.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap()
}

/// What `holder`'s witness last cosigned of `origin`'s log (its tlog-witness
/// state): the size, and when it cosigned it (seconds since the epoch).
pub fn witness_state(holder: &Party, origin: &str) -> Option<(u64, i64)> {
    use rusqlite::OptionalExtension;
    db_of(holder)
        .query_row(
            "SELECT size, updated FROM witness_state WHERE origin = ?1",
            [origin],
            |r| Ok((u64::try_from(r.get::<_, i64>(0)?).unwrap(), r.get(1)?)),
        )
        .optional()
        .unwrap()
}

/// Every cosignature `holder`'s witness recorded of `origin`'s log: size and
/// time of each, oldest first.
pub fn cosignatures_of(holder: &Party, origin: &str) -> Vec<(u64, u64)> {
    let db = db_of(holder);
    let mut st = db
        .prepare(
            "SELECT c.size, c.time FROM cosignatures c JOIN logs l ON l.id = c.log \
             WHERE l.origin = ?1 ORDER BY c.time, c.size",
        )
        .unwrap();
    st.query_map([origin], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
        .unwrap()
        .map(|r| {
            let (s, t) = r.unwrap();
            (u64::try_from(s).unwrap(), u64::try_from(t).unwrap())
        })
        .collect()
}

/// How many receipts `holder`'s own log (`own_origin`) holds for entry
/// `index` of `party`'s log, read from its database at once (no waiting, no
/// CLI start-up): what a test uses to see what was written before an answer.
pub fn receipts_held(holder: &Party, own_origin: &str, party: &str, index: u64) -> u64 {
    db_of(holder)
        .query_row(
            "SELECT COUNT(*) FROM entries e JOIN logs l ON l.id = e.log \
             WHERE l.origin = ?1 AND e.kind = 'receipt' AND e.ref_log = ?2 AND e.ref_index = ?3",
            rusqlite::params![own_origin, party, i64::try_from(index).unwrap()],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| u64::try_from(n).unwrap())
        .unwrap()
}

/// A party's public identity, as `hotline keys export` prints it.
pub fn identity(p: &Party) -> PartyIdentity {
    serde_json::from_str(&ok(&["keys", "export", "--dir", p.d()])).unwrap()
}

/// The TLS pin of a party's peer port.
pub fn pin(p: &Party) -> String {
    identity(p).tls_pin.unwrap()
}

/// A party's leaves as `hotline log --json` shows them.
pub fn leaves(p: &Party) -> Vec<Vec<u8>> {
    log_json(p.d())
        .iter()
        .map(|l| b64::decode(l["leaf"].as_str().unwrap()).unwrap())
        .collect()
}

/// What the `hotline-index` line of a checkpoint the harness signs says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexLine {
    /// The index of the leaves, as an honest log signs it.
    Right,
    /// The index of the leaves with the last one left out (a log hiding
    /// an entry from keyed proofs); an index with one key more if there is
    /// only one leaf.
    Wrong,
    /// No index line (a checkpoint as signed before the index existed).
    Missing,
}

/// The index root of `leaves` (leaves that do not parse are left out: a
/// push carrying them is refused before its index is looked at).
pub fn index_root(leaves: &[Vec<u8>]) -> hotline_proto::Hash {
    let mut ix = hotline_proto::index::Index::new();
    for (i, l) in leaves.iter().enumerate() {
        if let Ok(e) = SignedEntry::from_leaf(l) {
            ix.apply_entry(i as u64, &e);
        }
    }
    ix.root()
}

/// A signed checkpoint of `leaves` (all of them) under `key`, committing
/// to their index.
pub fn checkpoint_for(key: &NoteKey, leaves: &[Vec<u8>]) -> String {
    checkpoint_with(key, leaves, IndexLine::Right)
}

/// [`checkpoint_for`] with the index line `line` says.
pub fn checkpoint_with(key: &NoteKey, leaves: &[Vec<u8>], line: IndexLine) -> String {
    let mut t = MemoryTree::new();
    leaves.iter().for_each(|l| {
        t.push(l);
    });
    let note = match line {
        IndexLine::Right => checkpoint::sign_indexed(key, t.size(), t.root(), index_root(leaves)),
        IndexLine::Wrong => {
            let wrong = if leaves.len() > 1 {
                index_root(&leaves[..leaves.len() - 1])
            } else {
                let mut ix = hotline_proto::index::Index::new();
                ix.apply(0, hotline_proto::Hash([7; 32]), &["ref/nobody/0".into()]);
                ix.root()
            };
            checkpoint::sign_indexed(key, t.size(), t.root(), wrong)
        }
        IndexLine::Missing => checkpoint::sign(key, t.size(), t.root()),
    };
    String::from_utf8(note.unwrap()).unwrap()
}

/// A push body (docs/federation.md): `leaves` from index `first`, with their
/// sealed bodies where given, under checkpoint `cp`.
pub fn push_body(
    origin: &str,
    cp: &str,
    first: u64,
    entries: &[(Vec<u8>, Option<Vec<u8>>)],
) -> Vec<u8> {
    let entries: Vec<serde_json::Value> = entries
        .iter()
        .enumerate()
        .map(|(i, (l, s))| {
            let mut e = serde_json::json!({ "index": first + i as u64, "leaf": b64::encode(l) });
            if let Some(s) = s {
                e["sealed"] = b64::encode(s).into();
            }
            e
        })
        .collect();
    serde_json::to_vec(
        &serde_json::json!({ "origin": origin, "checkpoint": cp, "entries": entries }),
    )
    .unwrap()
}

/// A push body of bare leaves (entries without sealed bodies).
pub fn push_leaves(origin: &str, cp: &str, first: u64, leaves: &[Vec<u8>]) -> Vec<u8> {
    let run: Vec<_> = leaves.iter().map(|l| (l.clone(), None)).collect();
    push_body(origin, cp, first, &run)
}

/// The node a hostile party attacks: its directory and its running process.
#[derive(Clone, Copy)]
pub struct Target<'a> {
    pub party: &'a Party,
    pub served: &'a Served,
}

/// A sealed message a hostile party writes: the body holds `text`, the
/// header commits to `committed` (the same text for an honest message).
#[derive(Clone, Copy)]
pub struct Msg<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub agreement: Option<&'a str>,
    /// RFC 3339.
    pub time: &'a str,
    pub text: &'a str,
    pub committed: &'a str,
}

impl<'a> Target<'a> {
    /// The party in `party`, served by `served`.
    pub fn new(party: &'a Party, served: &'a Served) -> Self {
        Self { party, served }
    }
}

impl<'a> Msg<'a> {
    /// A message whose header commits to exactly the text it seals.
    pub fn honest(
        from: &'a str,
        to: &'a str,
        agreement: Option<&'a str>,
        time: &'a str,
        text: &'a str,
    ) -> Self {
        Self {
            from,
            to,
            agreement,
            time,
            text,
            committed: text,
        }
    }

    /// An honest message us/fbi → ru/fsb, the channel [`stage`] opens.
    pub fn fbi_to_fsb(agreement: &'a str, time: &'a str, text: &'a str) -> Self {
        Self::honest("us/fbi", "ru/fsb", Some(agreement), time, text)
    }

    /// A message us/fbi → ru/fsb that seals `sealed` but commits its header
    /// to `committed`.
    pub fn mismatched(
        agreement: &'a str,
        time: &'a str,
        sealed: &'a str,
        committed: &'a str,
    ) -> Self {
        Self {
            committed,
            ..Self::fbi_to_fsb(agreement, time, sealed)
        }
    }
}

/// The `error` of a refusal's JSON body.
pub fn error_of(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("{body}"));
    v["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned()
}

/// A party gone hostile, holding its own secret keys and its log.
pub struct Hostile {
    /// Its node directory (keys/, the TLS certificate the victim pinned).
    pub party: Party,
    /// Its name (`us`).
    pub name: String,
    /// Its log key (signs checkpoints, `key` and `agreement` entries).
    pub log_key: NoteKey,
    /// Its cosigner key.
    pub witness_key: NoteKey,
    /// Its offices' secret keys.
    pub offices: BTreeMap<String, OfficeKeys>,
    /// Its log as it now claims it: leaf bytes…
    pub leaves: Vec<Vec<u8>>,
    /// …and the sealed body of each, where the test made one.
    pub sealed: Vec<Option<Vec<u8>>>,
    /// What the index line of the checkpoints it signs says (the true
    /// index unless a test says otherwise).
    pub index_line: IndexLine,
}

impl Hostile {
    /// Takes over `party` once its node has stopped (kill the `Served`
    /// first): its keys from disk and its log as the node left it.
    pub fn take_over(party: Party) -> Self {
        let name = party.dir.file_name().unwrap().to_str().unwrap().to_owned();
        let read = |p: &str| std::fs::read_to_string(party.dir.join(p)).unwrap();
        let log_key = NoteKey::from_skey(&read("keys/log.key")).unwrap();
        let witness_key = NoteKey::from_skey(&read("keys/witness.key")).unwrap();
        let mut offices = BTreeMap::new();
        for e in std::fs::read_dir(party.dir.join("keys/offices")).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "json") {
                let k =
                    OfficeKeys::from_secret_json(&std::fs::read_to_string(&p).unwrap()).unwrap();
                offices.insert(k.office().to_string(), k);
            }
        }
        let leaves = leaves(&party);
        let sealed = vec![None; leaves.len()];
        Self {
            party,
            name,
            log_key,
            witness_key,
            offices,
            leaves,
            sealed,
            index_line: IndexLine::Right,
        }
    }

    /// The log origin (`hotline/us`).
    pub fn origin(&self) -> String {
        self.log_key.name().to_owned()
    }

    /// How many entries its log holds.
    pub fn size(&self) -> u64 {
        self.leaves.len() as u64
    }

    /// Entry `index` of its log, parsed.
    pub fn entry(&self, index: u64) -> SignedEntry {
        SignedEntry::from_leaf(&self.leaves[index as usize]).unwrap()
    }

    /// The index of the latest entry of `kind` from `from` to `to` (the
    /// header's `prev`).
    fn prev(&self, kind: Kind, from: &str, to: Option<&Office>) -> Option<u64> {
        (0..self.size()).rev().find(|&i| {
            let e = self.entry(i);
            let h = e.header();
            h.kind == kind && h.from == from && h.to.as_ref() == to
        })
    }

    /// A header of `kind` from `from` (an office, or the party itself) to
    /// `to`, dated `time` (RFC 3339), with `prev` filled in. Adjust any field
    /// before signing.
    pub fn header(&self, kind: Kind, from: &str, to: Option<&str>, time: &str) -> Header {
        let to = to.map(|t| Office::new(t).unwrap());
        let prev = self.prev(kind, from, to.as_ref());
        let mut h = Header::new(
            PartyName::new(&self.name).unwrap(),
            kind,
            from,
            to,
            time.parse().unwrap(),
        );
        h.prev = prev;
        h
    }

    /// Signs `h` as its `from` says: the party's log key, or an office's key.
    pub fn sign(&self, h: Header) -> SignedEntry {
        if h.from == self.name {
            SignedEntry::sign(h, |m| self.log_key.sign_raw(m)).unwrap()
        } else {
            let k = self
                .offices
                .get(&h.from)
                .unwrap_or_else(|| panic!("{} holds no keys for {}", self.name, h.from));
            SignedEntry::sign(h, |m| k.sign_raw(m)).unwrap()
        }
    }

    /// Signs `h` with keys of the test's choosing (a stranger's, a revoked office's).
    pub fn sign_with(&self, h: Header, k: &OfficeKeys) -> SignedEntry {
        SignedEntry::sign(h, |m| k.sign_raw(m)).unwrap()
    }

    /// A `key` entry announcing `keys` for one of its offices, dated `time`,
    /// signed by its log key, with `prev` the previous `key` entry (adjust
    /// `prev` to break the chain).
    pub fn key_header(&self, action: KeyAction, keys: &OfficePublic, time: &str) -> Header {
        let mut h = self.header(Kind::Key, &self.name, None, time);
        h.key = Some(KeyAnnouncement {
            action,
            keys: keys.clone(),
        });
        h
    }

    /// Appends a signed entry (and its sealed body) to its log; returns its index.
    pub fn append(&mut self, e: &SignedEntry, sealed: Option<Vec<u8>>) -> u64 {
        self.leaves.push(e.leaf().to_vec());
        self.sealed.push(sealed);
        self.size() - 1
    }

    /// Seals `text` to the office `to` (its public keys, as the victim
    /// announced them) and to the sender, and returns the sealed bytes with a
    /// header commitment to `committed` under the same salt. With
    /// `committed == text` this is an honest body.
    pub fn seal(
        &self,
        from: &str,
        to: &OfficePublic,
        text: &str,
        committed: &str,
    ) -> (Vec<u8>, BodyCommitment) {
        let plain = |t: &str| hotline_proto::entry::Content::text(t, None).to_bytes();
        self.seal_bytes(from, to, &plain(text), &plain(committed))
    }

    /// [`Hostile::seal`] for any plaintext bytes, content or not.
    pub fn seal_bytes(
        &self,
        from: &str,
        to: &OfficePublic,
        plain: &[u8],
        committed: &[u8],
    ) -> (Vec<u8>, BodyCommitment) {
        let own = self.offices[from].public();
        let s = seal::seal(
            plain,
            &[
                (&to.office, &to.seal_key().unwrap()),
                (&own.office, &own.seal_key().unwrap()),
            ],
            &mut os_rng(),
        )
        .unwrap();
        let commitment = seal::commitment(&s.salt, committed);
        let body = BodyCommitment {
            sealed: b64::encode(seal::sealed_hash(&s.bytes)),
            size: s.bytes.len() as u64,
            commitment: b64::encode(commitment),
        };
        (s.bytes, body)
    }

    /// Writes a sealed `message` as `m` describes, to an office of
    /// `victim`; returns its index.
    pub fn message(&mut self, victim: &Party, m: Msg<'_>) -> u64 {
        let to_keys = office_of(victim, m.to);
        let (sealed, body) = self.seal(m.from, &to_keys, m.text, m.committed);
        let mut h = self.header(Kind::Message, m.from, Some(m.to), m.time);
        h.agreement = m.agreement.map(str::to_owned);
        h.body = Some(body);
        let e = self.sign(h);
        self.append(&e, Some(sealed))
    }

    /// A reference to entry `index` of `party`'s log with leaf `leaf`.
    pub fn reference(party: &str, index: u64, leaf: &[u8]) -> Ref {
        Ref {
            log: PartyName::new(party).unwrap(),
            index,
            leaf_hash: b64::encode(hotline_proto::tree::leaf_hash(leaf).0),
        }
    }

    /// Its checkpoint at `size`, signed with its log key, with the index
    /// line [`Hostile::index_line`] says.
    pub fn checkpoint(&self, size: u64) -> String {
        checkpoint_with(
            &self.log_key,
            &self.leaves[..size as usize],
            self.index_line,
        )
    }

    /// A cosignature line by its own witness key over `note`, dated `time`
    /// (seconds since the epoch).
    pub fn cosign(&self, note: &str, time: u64) -> String {
        let (text, _) = checkpoint::split(note.as_bytes()).unwrap();
        checkpoint::cosign_line(&self.witness_key, text, time).unwrap()
    }

    /// The push body for entries `from..to` under a checkpoint at `to`.
    pub fn push_body(&self, from: u64, to: u64) -> Vec<u8> {
        let run: Vec<(Vec<u8>, Option<Vec<u8>>)> = (from..to)
            .map(|i| {
                (
                    self.leaves[i as usize].clone(),
                    self.sealed[i as usize].clone(),
                )
            })
            .collect();
        push_body(&self.origin(), &self.checkpoint(to), from, &run)
    }

    /// The C2SP tlog-proof of entry `index` under its checkpoint at `size`.
    pub fn tlog_proof(&self, index: u64, size: u64) -> String {
        let mut t = MemoryTree::new();
        self.leaves[..size as usize].iter().for_each(|l| {
            t.push(l);
        });
        hotline_proto::bundle::tlog_proof(
            &self.leaves[index as usize],
            index,
            t.inclusion(index, size).unwrap(),
            self.checkpoint(size).into_bytes(),
        )
        .to_text()
    }

    /// A `hotline/inclusion/v3` bundle of entry `index` as docs/claims.md
    /// describes it, under a checkpoint of the whole log: the log part (the
    /// checkpoint and the complete keyed run of its `key` entries, from the
    /// index this harness computes as any node would) and the entry.
    pub fn inclusion_bundle(&self, index: u64) -> String {
        let size = self.size();
        let key = hotline_proto::claims::history::key_history_key(&self.name);
        let mut ix = hotline_proto::index::Index::new();
        let mut leaves = vec![];
        for (i, l) in self.leaves[..size as usize].iter().enumerate() {
            if let Ok(e) = SignedEntry::from_leaf(l) {
                ix.apply_entry(i as u64, &e);
                if hotline_proto::index::keys_of(&e).contains(&key) {
                    leaves.push((i as u64, l.clone()));
                }
            }
        }
        let run = hotline_proto::index::KeyedRun {
            state: ix.state(&key),
            proof: ix.prove(&key),
            key,
            base: None,
            leaves,
        };
        serde_json::to_string_pretty(&serde_json::json!({
            "bundle": "hotline/inclusion/v3",
            "log": {
                "checkpoint": self.checkpoint(size),
                "key_history": hotline_proto::index::KeyedRunJson::from(&run),
            },
            "entry": self.tlog_proof(index, size),
        }))
        .unwrap()
    }

    /// `bundle` (an inclusion bundle, say from [`Hostile::inclusion_bundle`])
    /// with the key history cut to the key entries that `keep` accepts by
    /// index: what a prover who leaves key entries out hands over.
    pub fn with_key_history(bundle: &str, keep: impl Fn(u64) -> bool) -> String {
        let mut b: serde_json::Value = serde_json::from_str(bundle).unwrap();
        let kept: Vec<serde_json::Value> = b["log"]["key_history"]["leaves"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| keep(l["index"].as_u64().unwrap()))
            .cloned()
            .collect();
        b["log"]["key_history"]["leaves"] = kept.into();
        serde_json::to_string_pretty(&b).unwrap()
    }

    /// `bundle` with a cosignature by each of `cosigners`, dated `time`
    /// (seconds since the epoch), added to the checkpoint of every
    /// tlog-proof in it.
    pub fn cosigned_bundle(bundle: &str, cosigners: &[&NoteKey], time: u64) -> String {
        let cosign = |text: &str| {
            let mut p = TlogProof::parse(text, "entry").unwrap();
            let (body, _) = checkpoint::split(&p.checkpoint).unwrap();
            let lines: String = cosigners
                .iter()
                .map(|k| checkpoint::cosign_line(k, body, time).unwrap())
                .collect();
            p.checkpoint = checkpoint::add_lines(&p.checkpoint, &lines);
            serde_json::Value::from(p.to_text())
        };
        let mut b: serde_json::Value = serde_json::from_str(bundle).unwrap();
        b["entry"] = cosign(b["entry"].as_str().unwrap());
        if let Some(note) = b["log"]["checkpoint"].as_str().map(str::to_owned) {
            let (body, _) = checkpoint::split(note.as_bytes()).unwrap();
            let lines: String = cosigners
                .iter()
                .map(|k| checkpoint::cosign_line(k, body, time).unwrap())
                .collect();
            b["log"]["checkpoint"] =
                String::from_utf8(checkpoint::add_lines(note.as_bytes(), &lines))
                    .unwrap()
                    .into();
        }
        serde_json::to_string_pretty(&b).unwrap()
    }

    /// POSTs `body` to `path` on the victim's peer port, as this party.
    pub fn post(
        &self,
        victim: Target<'_>,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> (u16, String) {
        let (status, _, body) = self.post_with_headers(victim, path, content_type, body);
        (status, body)
    }

    /// POSTs `body` to `path` on the victim's peer port; returns status,
    /// response headers (lower-case names) and body.
    pub fn post_with_headers(
        &self,
        victim: Target<'_>,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> (u16, BTreeMap<String, String>, String) {
        curl_with_headers(
            &self.party.dir,
            &victim.served.peer_addr,
            &pin(victim.party),
            path,
            content_type,
            body,
        )
        .expect("TLS with pinned keys works")
    }

    /// [`Hostile::post`], also returning the answer's content type.
    pub fn post_typed(
        &self,
        victim: Target<'_>,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> (u16, String, String) {
        let (status, headers, body) = self.post_with_headers(victim, path, content_type, body);
        let ty = headers.get("content-type").cloned().unwrap_or_default();
        (status, ty, body)
    }

    /// Pushes entries `from..` (to the end of its log) to the victim.
    pub fn push(&self, victim: Target<'_>, from: u64) -> (u16, String) {
        let body = self.push_body(from, self.size());
        self.post(victim, "/fed/v1/push", "application/json", &body)
    }

    /// The C2SP tlog-witness add-checkpoint body: `old`, a consistency proof
    /// from `old` to `size`, and the checkpoint `note`.
    pub fn add_checkpoint_body(&self, old: u64, size: u64, note: &str) -> Vec<u8> {
        let mut t = MemoryTree::new();
        self.leaves[..size as usize].iter().for_each(|l| {
            t.push(l);
        });
        let proof = if old == 0 || old == size {
            vec![]
        } else {
            t.consistency(old, size).unwrap()
        };
        let mut b = format!("old {old}\n");
        for h in proof {
            b.push_str(&b64::encode(h.0));
            b.push('\n');
        }
        b.push('\n');
        b.push_str(note);
        b.into_bytes()
    }

    /// Asks the victim's witness to cosign its checkpoint at `size`, claiming
    /// the witness last cosigned `old`.
    pub fn add_checkpoint(&self, victim: Target<'_>, old: u64, size: u64) -> (u16, String) {
        let body = self.add_checkpoint_body(old, size, &self.checkpoint(size));
        self.post(
            victim,
            "/fed/v1/witness/add-checkpoint",
            "text/plain",
            &body,
        )
    }

    /// [`Hostile::add_checkpoint`], also returning the answer's content
    /// type: status, content type, body.
    pub fn add_checkpoint_typed(
        &self,
        victim: Target<'_>,
        old: u64,
        size: u64,
    ) -> (u16, String, String) {
        let body = self.add_checkpoint_body(old, size, &self.checkpoint(size));
        self.post_typed(
            victim,
            "/fed/v1/witness/add-checkpoint",
            "text/plain",
            &body,
        )
    }
}

/// The public keys of `office` as `party` exports them.
pub fn office_of(party: &Party, office: &str) -> OfficePublic {
    identity(party)
        .offices
        .into_iter()
        .find(|o| o.office.as_str() == office)
        .unwrap_or_else(|| panic!("{office} is not among the exported offices"))
}

/// Everything a victim holds: its own log and its mirrors of `peers`.
#[derive(Debug, PartialEq)]
pub struct Snapshot {
    pub own: Vec<serde_json::Value>,
    pub mirrors: BTreeMap<String, Vec<serde_json::Value>>,
}

impl Snapshot {
    /// Reads it (through the running node's API, or offline).
    pub fn of(victim: &Party, peers: &[&str]) -> Self {
        Self {
            own: log_json(victim.d()),
            mirrors: peers
                .iter()
                .map(|p| {
                    (
                        (*p).to_owned(),
                        super::federation::log_json_peer(victim.d(), p),
                    )
                })
                .collect(),
        }
    }

    /// Asserts that `victim` holds exactly what it held at the snapshot.
    pub fn unchanged(&self, victim: &Party, what: &str) {
        let peers: Vec<&str> = self.mirrors.keys().map(String::as_str).collect();
        let now = Self::of(victim, &peers);
        assert_eq!(
            now.own.len(),
            self.own.len(),
            "{what}: the victim's own log grew"
        );
        assert_eq!(&now, self, "{what}: the victim's log or mirrors changed");
    }

    /// Asserts that `victim`'s mirrors are unchanged and that its own log
    /// only grew (what it held is the same); returns the entries it added,
    /// for the test to account for (a receipt of a refusal, say).
    pub fn added(&self, victim: &Party, what: &str) -> Vec<serde_json::Value> {
        let peers: Vec<&str> = self.mirrors.keys().map(String::as_str).collect();
        let now = Self::of(victim, &peers);
        assert_eq!(
            now.mirrors, self.mirrors,
            "{what}: the victim's mirrors changed"
        );
        assert!(
            now.own.len() >= self.own.len() && now.own[..self.own.len()] == self.own[..],
            "{what}: the victim's own log changed what it held"
        );
        now.own[self.own.len()..].to_vec()
    }
}

/// The usual stage: `us` and `ru`, both running and federated, with the
/// cybercrime agreement (examples/cyber-agreement.toml) in force and every
/// log mirrored and cosigned both ways. Returns us, ru, their nodes and the
/// agreement id; the test then kills us's node and [`Hostile::take_over`]s it.
pub fn stage() -> (Party, Party, Served, Served, String) {
    stage_with(|_, _| {})
}

/// [`stage`], with `prepare` run on us's and ru's directories before their
/// nodes start (to set limits in hotline.toml, say).
pub fn stage_with(prepare: impl FnOnce(&Party, &Party)) -> (Party, Party, Served, Served, String) {
    let (us, ru) = super::federation::pair();
    prepare(&us, &ru);
    let (a, b) = (Served::start(&us.dir), Served::start(&ru.dir));
    federate(&us, &ru);
    let id = agree(&us, &ru, &example("cyber-agreement.toml"));
    settle_between(&us, &ru);
    (us, ru, a, b, id)
}

/// [`stage`] with a third witness, `nato` (no offices), pinned both ways by
/// us and by ru, and every log mirrored by both of the other parties.
/// Returns us, ru, nato, their nodes and the agreement id.
pub fn stage_with_witness() -> (Party, Party, Party, Served, Served, Served, String) {
    let (us, ru, nato, a, b, c) = super::federation::trio();
    let id = agree(&us, &ru, &example("cyber-agreement.toml"));
    settle_between(&us, &ru);
    settle_between(&us, &nato);
    settle_between(&ru, &nato);
    (us, ru, nato, a, b, c, id)
}

/// [`stage`], then us's node stopped (SIGKILL) and us taken over by the
/// test: returns hostile us, ru, ru's running node and the agreement id.
pub fn taken_over() -> (Hostile, Party, Served, String) {
    let (us, ru, a, b, agreement) = stage();
    a.kill9();
    (Hostile::take_over(us), ru, b, agreement)
}

/// Waits until each one's mirror holds the other's whole log.
pub fn settle_between(a: &Party, b: &Party) {
    use super::federation::log_json_peer;
    let name = |p: &Party| p.dir.file_name().unwrap().to_str().unwrap().to_owned();
    wait_until(30, "both mirrors caught up", || {
        log_json_peer(b.d(), &name(a)).len() == log_json(a.d()).len()
            && log_json_peer(a.d(), &name(b)).len() == log_json(b.d()).len()
    });
}

/// The receipt `receiver` wrote for entry `index` of `sender`'s log, once it exists.
pub fn receipt_for(receiver: &Party, sender: &str, index: u64) -> serde_json::Value {
    let find = || {
        log_json(receiver.d()).into_iter().find(|e| {
            let h = &e["header"];
            h["kind"] == "receipt"
                && h["refs"][0]["log"] == sender
                && h["refs"][0]["index"] == index
        })
    };
    wait_until(30, "the receipt", || find().is_some());
    find().unwrap()
}

/// The harness itself builds entries the victim accepts: an honest sealed
/// message written by the hostile party is mirrored and receipted
/// `delivered`. (Without this, a refusal in the attack tests could come from
/// a harness bug rather than from the check under test.)
#[test]
fn an_honest_entry_built_by_the_harness_is_accepted() {
    let (mut us, ru, b, agreement) = taken_over();
    let now = jiff::Timestamp::now().to_string();
    let before = Snapshot::of(&ru, &["us"]);
    let i = us.message(&ru, Msg::fbi_to_fsb(&agreement, &now, "hello"));
    let (s, t) = us.push(Target::new(&ru, &b), i);
    assert_eq!(s, 200, "{t}");
    let r = receipt_for(&ru, "us", i);
    assert_eq!(r["header"]["status"], "delivered", "{r}");
    assert_eq!(r["header"]["from"], "ru/fsb");
    let after = Snapshot::of(&ru, &["us"]);
    assert_eq!(after.mirrors["us"].len(), before.mirrors["us"].len() + 1);
    assert_eq!(
        after.own.len(),
        before.own.len() + 1,
        "one receipt, nothing else"
    );
}

// ---- Claim bundles (issue 11): what a hostile party assembles from the
// documented v2 formats, its own keys and what the honest nodes gave it. ----

/// The keyed run of `key` over the first `size` of `leaves` (a log as its
/// writer or a mirror holds it), disclosing the key's entries from its
/// `from`-th on (0: every one, no base) — the index as every witness
/// recomputes it.
pub fn keyed_run(
    leaves: &[Vec<u8>],
    size: u64,
    key: &str,
    from: usize,
) -> hotline_proto::index::KeyedRun {
    use hotline_proto::index::{self, Index, KeyState, KeyedRun};
    let mut ix = Index::new();
    let mut all = vec![];
    for (i, l) in leaves[..size as usize].iter().enumerate() {
        let e = SignedEntry::from_leaf(l).unwrap();
        ix.apply_entry(i as u64, &e);
        if index::keys_of(&e).iter().any(|k| k == key) {
            all.push((i as u64, l.clone()));
        }
    }
    let base = (from > 0).then(|| {
        all[..from].iter().fold(KeyState::default(), |s, (i, l)| {
            s.push(*i, hotline_proto::tree::leaf_hash(l))
        })
    });
    KeyedRun {
        key: key.to_owned(),
        state: ix.state(key),
        proof: ix.prove(key),
        base,
        leaves: all[from..].to_vec(),
    }
}

/// A log part of a v2 bundle: `note` (a checkpoint of the first
/// `size` of `leaves`, with whatever cosignatures it carries) and the
/// complete key history of `party` under it.
pub fn log_part(party: &str, leaves: &[Vec<u8>], note: &str) -> hotline_proto::claims::LogEvidence {
    let (_, size, _) = checkpoint::peek(note.as_bytes()).unwrap();
    hotline_proto::claims::LogEvidence {
        checkpoint: note.as_bytes().to_vec(),
        key_history: keyed_run(
            leaves,
            size,
            &hotline_proto::claims::history::key_history_key(party),
            0,
        ),
    }
}

/// The tlog-proof of entry `index` of `leaves` under `note` (a checkpoint
/// of their first `size`).
pub fn entry_proof(leaves: &[Vec<u8>], index: u64, note: &str) -> TlogProof {
    let (_, size, _) = checkpoint::peek(note.as_bytes()).unwrap();
    let mut t = MemoryTree::new();
    leaves[..size as usize].iter().for_each(|l| {
        t.push(l);
    });
    hotline_proto::bundle::tlog_proof(
        &leaves[index as usize],
        index,
        t.inclusion(index, size).unwrap(),
        note.as_bytes().to_vec(),
    )
}

/// `note` with a cosignature line by each `(key, time)` added (time in
/// seconds since the epoch), dated as the cosigner likes.
pub fn with_cosignatures(note: &str, cosigners: &[(&NoteKey, u64)]) -> String {
    let (text, _) = checkpoint::split(note.as_bytes()).unwrap();
    let lines: String = cosigners
        .iter()
        .map(|(k, t)| checkpoint::cosign_line(k, text, *t).unwrap())
        .collect();
    String::from_utf8(checkpoint::add_lines(note.as_bytes(), &lines)).unwrap()
}

/// `note` without its cosignature lines (the log's own signature kept).
pub fn without_cosignatures(note: &str) -> String {
    let (_, sigs) = note.split_once("\n\n").unwrap();
    let (text, _) = note.split_once("\n\n").unwrap();
    let origin = text.lines().next().unwrap();
    let own: String = sigs
        .lines()
        .filter(|l| l.starts_with(&format!("\u{2014} {origin} ")))
        .map(|l| format!("{l}\n"))
        .collect();
    format!("{text}\n\n{own}")
}

/// `note` with a cosignature line by each `(key, time)` placed before the
/// cosignatures it carries: a verifier that keeps the first line of a key
/// (C2SP signed notes ignore a key's later lines) sees these.
pub fn with_cosignatures_first(note: &str, cosigners: &[(&NoteKey, u64)]) -> String {
    let bare = without_cosignatures(note);
    let theirs = &note[bare.len()..];
    with_cosignatures(&bare, cosigners) + theirs
}

/// What `holder`'s database keeps of `origin`'s checkpoint at `size`, if
/// it stored one (a mirror keeps the signed notes it was pushed).
pub fn checkpoint_held(holder: &Party, origin: &str, size: u64) -> Option<String> {
    use rusqlite::OptionalExtension;
    db_of(holder)
        .query_row(
            "SELECT c.note FROM checkpoints c JOIN logs l ON l.id = c.log \
             WHERE l.origin = ?1 AND c.size = ?2",
            rusqlite::params![origin, i64::try_from(size).unwrap()],
            |r| r.get::<_, Vec<u8>>(0),
        )
        .optional()
        .unwrap()
        .map(|n| String::from_utf8(n).unwrap())
}

/// Writes `bundle` next to `p`'s directory as `name` and verifies it.
pub fn verify_bundle(
    p: &Party,
    name: &str,
    bundle: &str,
    keys: &[String],
) -> Result<String, String> {
    let f = p.dir.join("..").join(name);
    std::fs::write(&f, bundle).unwrap();
    verify(f.to_str().unwrap(), keys)
}
