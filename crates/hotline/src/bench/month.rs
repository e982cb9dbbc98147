//! The log a proof benchmark reads: a real node's directory and store,
//! written through the same index code the sequencer runs.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::Result;
use hotline_node::dir::{Mode, NodeDir};
use hotline_node::store::{AppendBatch, NewLeaf, Store};
use hotline_node::{InitOptions, Node};
use hotline_proto::entry::{Header, Kind, Ref, SignedEntry};
use hotline_proto::keys::{NoteKey, OfficeKeys, os_rng};
use hotline_proto::party::{Office, Party};
use hotline_proto::{Hash, checkpoint, tree};

use super::absence::{BEFORE, FROM, KIND, SINCE, TO, UNTIL};
use super::progress;

/// Entries per group commit (one signed checkpoint, one cosignature each).
const BATCH: u64 = 1_000;

/// A node directory whose log holds a month of entries between two
/// witness-cosigned checkpoints, and the keys a verifier pins for it.
pub(super) struct MonthLog {
    pub dir: NodeDir,
    pub keys: hotline_proto::bundle::Keyring,
    /// The same keys as vkeys.
    pub vkeys: Vec<String>,
    /// Entries before the month.
    pub before: u64,
    pub checkpoints: u64,
    pub seconds: f64,
}

/// Writes the log of a real node (`Node::init`, then its SQLite store, its
/// log key and the tree code the sequencer uses): `entries / 3` entries
/// dated in the month before, a checkpoint cosigned by ru's witness before
/// the month starts, `entries` entries spread over the month, and a
/// checkpoint cosigned after it ends. Every group commit of
/// [`BATCH`] entries signs a checkpoint that the witness cosigns a
/// second after its last entry.
pub(super) fn absence_log(root: &std::path::Path, entries: u64, quiet: bool) -> Result<MonthLog> {
    let started = Instant::now();
    let dir = NodeDir::new(root.join("us"));
    Node::init(
        &dir,
        InitOptions::local(
            Party::new("us")?,
            hotline_console::config::ConsoleConfig::default_table(),
        ),
    )?;
    // Written as the node writes it: holding the directory's writer lock.
    let opened = dir.open(Mode::ReadWrite)?;
    let log = opened.own_log()?;
    let (config, _lock) = (opened.config, opened.lock);
    let store = opened.store;
    let log_key = NoteKey::from_skey(&std::fs::read_to_string(dir.log_key())?)?;
    let witness = NoteKey::generate(
        "hotline/ru/witness",
        hotline_proto::keys::ALG_COSIGNATURE_V1,
        &mut os_rng(),
    )?;
    let offices = ["us/fbi", "us/state", "us/cisa"]
        .into_iter()
        .map(|o| Ok(OfficeKeys::generate(Office::new(o)?, &mut os_rng())))
        .collect::<Result<Vec<_>>>()?;
    let peers = ["ru/fsb", "ru/mid", "cn/mps"]
        .into_iter()
        .map(Office::new)
        .collect::<Result<Vec<_>, _>>()?;
    let mut w = MonthWriter {
        store: &*store,
        log,
        party: Party::new(&config.party)?,
        key: &log_key,
        witness: &witness,
        offices,
        peers,
        size: store.size(log)?,
        prev: HashMap::new(),
        index: hotline_node::indexes::LogIndex::new(),
        checkpoints: 0,
        total: entries + entries / 3,
        started,
        quiet,
        ref_offset: 0,
        pending: Vec::new(),
    };
    let (before, since, until): (jiff::Timestamp, jiff::Timestamp, jiff::Timestamp) =
        (BEFORE.parse()?, SINCE.parse()?, UNTIL.parse()?);
    let minute = jiff::SignedDuration::from_secs(60);
    let half = jiff::SignedDuration::from_secs(30);
    w.announce_offices(before.checked_sub(minute)?)?;
    // The history before the month may hold the very kind claimed absent.
    w.span(
        entries / 3,
        before,
        since.checked_sub(minute)?,
        since.checked_sub(half)?,
        true,
    )?;
    let start = w.size;
    w.span(entries, since, until, until.checked_add(half)?, false)?;
    anyhow::ensure!(w.size == start + entries, "the month was not written whole");
    let checkpoints = w.checkpoints;
    // us's own witness dates its latest tree when the bundle is built:
    // on us's own signatures, that tree covers the month's end.
    let own_witness = NoteKey::from_skey(std::fs::read_to_string(dir.witness_key())?.trim())?;
    let keys = hotline_proto::bundle::Keyring::new([
        log_key.verifier(),
        witness.verifier(),
        own_witness.verifier(),
    ]);
    let vkeys = vec![
        log_key.verifier().to_vkey(),
        witness.verifier().to_vkey(),
        own_witness.verifier().to_vkey(),
    ];
    progress(
        &format!(
            "wrote {} entries and {checkpoints} cosigned checkpoints in {:.1} s",
            start + entries,
            started.elapsed().as_secs_f64()
        ),
        quiet,
    );
    Ok(MonthLog {
        dir,
        keys,
        vkeys,
        before: start,
        checkpoints,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Appends realistic traffic to a log (a node's own, or its mirror of a
/// peer's) through the node's store, indexed as the sequencer indexes it.
pub(super) struct MonthWriter<'a> {
    pub store: &'a dyn Store,
    pub log: hotline_node::store::LogId,
    pub party: Party,
    pub key: &'a NoteKey,
    pub witness: &'a NoteKey,
    pub offices: Vec<OfficeKeys>,
    pub peers: Vec<Office>,
    pub size: u64,
    /// The last index on each channel (kind, from, to), as the sequencer keeps it.
    pub prev: HashMap<(Kind, String, String), u64>,
    /// The log's index, as the sequencer keeps it.
    pub index: hotline_node::indexes::LogIndex,
    pub checkpoints: u64,
    pub total: u64,
    pub started: Instant,
    pub quiet: bool,
    /// Added to the index every background reference names, so that no
    /// background entry refers to an entry a claim is about.
    pub ref_offset: u64,
    /// Entries signed but not yet committed, in log order.
    pub pending: Vec<SignedEntry>,
}

/// 32 bytes that look like a hash, different for each `(i, tag)`.
fn fake_hash(i: u64, tag: u8) -> [u8; 32] {
    let mut b = i.to_le_bytes().to_vec();
    b.push(tag);
    tree::leaf_hash(&b).0
}

impl MonthWriter<'_> {
    /// Appends a `key` entry announcing each office's keys, dated `time`,
    /// in one group commit, as the node writes them when offices are added:
    /// entries signed by an office verify only after the key entry.
    pub fn announce_offices(&mut self, time: jiff::Timestamp) -> Result<()> {
        let mut leaves = Vec::new();
        let mut staged = hotline_node::indexes::Staged::default();
        for o in &self.offices {
            let h = Header {
                key: Some(hotline_proto::entry::KeyAnnouncement {
                    action: hotline_proto::entry::KeyAction::Announce,
                    keys: o.public(),
                }),
                ..Header::new(
                    self.party.clone(),
                    Kind::Key,
                    self.party.to_string(),
                    None,
                    time,
                )
            };
            let e = SignedEntry::sign(h, |m| self.key.sign_raw(m))?;
            let at = self.size + leaves.len() as u64;
            self.index.apply_entry(at, &e, &mut staged);
            leaves.push(NewLeaf::from_entry(&e, None));
        }
        self.commit(&leaves, &staged, time)?;
        Ok(())
    }

    /// Stores `leaves` (applied to the index into `staged`) in one group
    /// commit with the checkpoint the sequencer would sign for them.
    fn commit(
        &mut self,
        leaves: &[NewLeaf],
        staged: &hotline_node::indexes::Staged,
        now: jiff::Timestamp,
    ) -> Result<(u64, Vec<u8>)> {
        let hashes: Vec<Hash> = leaves.iter().map(|l| l.leaf_hash).collect();
        let (pending, root) =
            hotline_node::store::extend_tree(self.store, self.log, self.size, &hashes)?;
        let size = self.size + leaves.len() as u64;
        let note = checkpoint::sign_indexed(self.key, size, root, self.index.root())?;
        self.store.append(&AppendBatch {
            log: self.log,
            first: self.size,
            leaves,
            first_hash: tree::stored_hash_count(self.size),
            hashes: &pending,
            checkpoint: Some((size, &note)),
            now: now.as_second(),
            index: Some(&staged.rows),
            epoch: None,
        })?;
        self.size = size;
        Ok((size, note))
    }

    /// The index `e` gets when the pending entries are committed.
    pub fn push(&mut self, e: SignedEntry) -> u64 {
        self.pending.push(e);
        self.size + self.pending.len() as u64 - 1
    }

    /// Commits the pending entries (dated up to `now`) in one group commit,
    /// its checkpoint cosigned at `cosign_at`.
    pub fn flush(&mut self, now: jiff::Timestamp, cosign_at: jiff::Timestamp) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut staged = hotline_node::indexes::Staged::default();
        let entries = std::mem::take(&mut self.pending);
        let mut leaves = Vec::with_capacity(entries.len());
        for (k, e) in entries.iter().enumerate() {
            self.index.apply_entry(self.size + k as u64, e, &mut staged);
            leaves.push(NewLeaf::from_entry(e, None));
        }
        let (size, note) = self.commit(&leaves, &staged, now)?;
        self.cosign(size, &note, u64::try_from(cosign_at.as_second())?)
    }

    /// An entry of the party itself (a key or agreement entry), signed with
    /// its log key as the node signs them.
    pub fn party_entry(
        &self,
        kind: Kind,
        time: jiff::Timestamp,
        status: Option<&str>,
        terms: Option<hotline_proto::agreement::Terms>,
        refs: Vec<Ref>,
    ) -> Result<SignedEntry> {
        let h = Header {
            refs,
            status: status.map(str::to_owned),
            terms,
            ..Header::new(self.party.clone(), kind, self.party.to_string(), None, time)
        };
        Ok(SignedEntry::sign(h, |m| self.key.sign_raw(m))?)
    }

    /// Appends `count` entries dated evenly from `from` to before `to`, in
    /// group commits; the last checkpoint is cosigned at `last_cosign`.
    /// Unless `claimed_too`, no entry is of the claimed kind and channel.
    fn span(
        &mut self,
        count: u64,
        from: jiff::Timestamp,
        to: jiff::Timestamp,
        last_cosign: jiff::Timestamp,
        claimed_too: bool,
    ) -> Result<()> {
        let (a, b) = (from.as_nanosecond(), to.as_nanosecond());
        let mut k = 0;
        while k < count {
            let end = (k + BATCH).min(count);
            let mut leaves = Vec::with_capacity((end - k) as usize);
            let mut last = from;
            let mut staged = hotline_node::indexes::Staged::default();
            for j in k..end {
                let time = jiff::Timestamp::from_nanosecond(
                    a + (b - a) * i128::from(j) / i128::from(count),
                )?;
                let at = self.size + leaves.len() as u64;
                let e = self.entry(at, time, claimed_too)?;
                self.index.apply_entry(at, &e, &mut staged);
                leaves.push(NewLeaf::from_entry(&e, None));
                last = time;
            }
            let before = self.size;
            let (size, note) = self.commit(&leaves, &staged, last)?;
            let crossed = before / 20_000 != size / 20_000;
            let at = if end == count {
                last_cosign
            } else {
                last.checked_add(jiff::SignedDuration::from_secs(1))?
            };
            self.cosign(size, &note, u64::try_from(at.as_second())?)?;
            k = end;
            if !self.quiet && (crossed || end == count) {
                eprintln!(
                    "bench: wrote {} of {} entries ({:.0} s)",
                    self.size,
                    self.total,
                    self.started.elapsed().as_secs_f64()
                );
            }
        }
        Ok(())
    }

    /// The witness cosigns checkpoint `size` at `time`, stored as the node
    /// stores a cosignature it gets back.
    pub fn cosign(&mut self, size: u64, note: &[u8], time: u64) -> Result<()> {
        let (text, _) = checkpoint::split(note)?;
        let line = checkpoint::cosign_line(self.witness, text, time)?;
        self.store.add_cosignature(
            self.log,
            size,
            self.witness.name(),
            time,
            line.trim_end(),
            &|current| checkpoint::add_lines(current, &line),
        )?;
        self.checkpoints += 1;
        Ok(())
    }

    /// The entry at `index`: of 20, 9 messages, 8 receipts, an inquiry, an
    /// ack and an answer, from one of three offices to one of three foreign
    /// offices, under an agreement, with sealed-body commitments or
    /// references as the node writes them.
    pub fn entry(
        &mut self,
        index: u64,
        time: jiff::Timestamp,
        claimed_too: bool,
    ) -> Result<SignedEntry> {
        let r = index.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 20;
        let office = &self.offices[(r % 3) as usize];
        let mut to = self.peers[((r >> 8) % 3) as usize].clone();
        let kind = match index % 20 {
            0..=8 => Kind::Message,
            9..=16 => Kind::Receipt,
            17 => Kind::Inquiry,
            18 => Kind::Ack,
            _ => Kind::Answer,
        };
        if !claimed_too && kind == KIND && office.office().as_str() == FROM && to.as_str() == TO {
            to = Office::new("ru/mid")?;
        }
        let foreign = Ref {
            log: to.party(),
            index: self.ref_offset + index / 2 + r % 50,
            leaf_hash: hotline_proto::b64::encode(fake_hash(index, 0)),
        };
        let body = || hotline_proto::entry::BodyCommitment {
            sealed: hotline_proto::b64::encode(fake_hash(index, 1)),
            size: 600 + (r >> 16) % 3000,
            commitment: hotline_proto::b64::encode(fake_hash(index, 2)),
        };
        let (refs, body, status) = match kind {
            Kind::Message | Kind::Inquiry => (vec![], Some(body()), None),
            Kind::Receipt => (vec![foreign], None, Some("delivered".to_owned())),
            Kind::Ack => (vec![foreign], None, None),
            _ => (vec![foreign], Some(body()), None),
        };
        let channel = (kind, office.office().to_string(), to.to_string());
        let h = Header {
            agreement: Some(format!("us:{}", 3 + (r >> 8) % 3)),
            refs,
            prev: self.prev.insert(channel, index),
            body,
            status,
            ..Header::new(
                self.party.clone(),
                kind,
                office.office().to_string(),
                Some(to),
                time,
            )
        };
        Ok(SignedEntry::sign(h, |m| office.sign_raw(m))?)
    }
}
