//! Building proof bundles from what a node holds: its own log, its verified
//! mirrors, and the cosignatures it was given or gave.
//!
//! Read-only and lock-free, so `hotline prove …` works beside a running node.
//! Either party can prove claims about either log: the sender about its own,
//! the receiver from its mirror and the cosignatures it gave as a witness.

use std::collections::BTreeMap;
use std::sync::Arc;

use hotline_proto::agreement::{self, Agreement};
use hotline_proto::bundle::{self, TlogProof};
use hotline_proto::claims::EntryProof;
use hotline_proto::claims::absence::{AbsenceClaim, absence_bundle};
use hotline_proto::claims::answered::answered_bundle;
use hotline_proto::claims::delivery::delivery_bundle;
use hotline_proto::claims::opening::opening_bundle;
use hotline_proto::claims::range::LogRange;
use hotline_proto::claims::statement::statement_bundle;
use hotline_proto::claims::stats::{Channel, stats_bundle};
use hotline_proto::entry::{Kind, SignedEntry};
use hotline_proto::keys::{NoteVerifier, PartyIdentity};
use hotline_proto::name::{Office, Party};
use hotline_proto::{checkpoint, seal, tree};
use jiff::Timestamp;

pub mod index;

use crate::dir::NodeDir;
use crate::error::{NodeError, Result};
use crate::store::sqlite::SqliteStore;
use crate::store::{HashesOf, LogId, Store, StoredLeaf};

/// The logs a node holds, for building proofs.
pub struct ProofSource {
    store: Arc<dyn Store>,
    dir: NodeDir,
    own: Party,
    logs: BTreeMap<Party, (LogId, String)>,
    indexes: index::IndexCache,
}

fn internal(e: impl std::fmt::Display) -> NodeError {
    NodeError::Internal(e.to_string())
}

/// Keeps the log's own signature lines and adds one cosignature line: a
/// checkpoint exactly as it was cosigned at one moment.
fn with_line(note: &[u8], origin: &str, line: Option<&str>) -> Result<Vec<u8>> {
    let extra = line
        .map(|l| format!("{}\n", l.trim_end()))
        .unwrap_or_default();
    checkpoint::filter_lines(note, |l| checkpoint::signed_by(l, origin), &extra).map_err(internal)
}

impl ProofSource {
    /// Opens a node directory read-only.
    pub fn open(dir: &NodeDir) -> Result<Self> {
        let config = dir
            .read_config()
            .map_err(|e| NodeError::NotFound(e.to_string()))?;
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open_read_only(&dir.db()).map_err(|e| {
                NodeError::Internal(format!("opening {}: {e}", dir.db().display()))
            })?);
        let own = Party::new(&config.party).map_err(internal)?;
        let mut logs = BTreeMap::new();
        logs.insert(
            own.clone(),
            (
                store.log_id_existing(&config.origin)?,
                config.origin.clone(),
            ),
        );
        if let Ok(rd) = std::fs::read_dir(dir.peers()) {
            for e in rd.flatten() {
                let Ok(text) = std::fs::read_to_string(e.path()) else {
                    continue;
                };
                let Ok(id) = serde_json::from_str::<PartyIdentity>(&text) else {
                    continue;
                };
                let Ok(v) = NoteVerifier::from_vkey(&id.log_key) else {
                    continue;
                };
                if let Ok(log) = store.log_id_existing(v.name()) {
                    logs.insert(id.party.clone(), (log, v.name().to_owned()));
                }
            }
        }
        Ok(Self {
            store,
            dir: dir.clone(),
            own,
            logs,
            indexes: index::IndexCache::new(),
        })
    }

    /// The state of `key` in `party`'s log after its first `size` entries.
    pub fn key_state_at(
        &self,
        party: &Party,
        key: &str,
        size: u64,
    ) -> Result<hotline_proto::index::KeyState> {
        let (log, _) = self.log(party)?;
        self.indexes.key_state_at(&*self.store, log, key, size)
    }

    /// The entries of `key` in `party`'s log below `size`, from the key's
    /// `from_count`-th entry on: (index, leaf).
    pub fn key_entries(
        &self,
        party: &Party,
        key: &str,
        size: u64,
        from_count: u64,
    ) -> Result<Vec<(u64, Vec<u8>)>> {
        let (log, _) = self.log(party)?;
        self.indexes
            .key_entries(&*self.store, log, key, size, from_count)
    }

    /// `key`'s state in `party`'s log at `size` and its proof against the
    /// index root a checkpoint at `size` commits to.
    pub fn index_proof_at(
        &self,
        party: &Party,
        key: &str,
        size: u64,
    ) -> Result<(
        hotline_proto::index::KeyState,
        hotline_proto::index::IndexProof,
    )> {
        let (log, _) = self.log(party)?;
        self.indexes.index_proof_at(&*self.store, log, key, size)
    }

    fn log(&self, party: &Party) -> Result<(LogId, &str)> {
        self.logs
            .get(party)
            .map(|(l, o)| (*l, o.as_str()))
            .ok_or_else(|| {
                NodeError::NotFound(format!(
                    "this node holds no log of {party} (pin it and let its node push first)"
                ))
            })
    }

    fn leaf(&self, party: &Party, index: u64) -> Result<(StoredLeaf, SignedEntry)> {
        let (log, _) = self.log(party)?;
        let l = self
            .store
            .leaves(log, index, 1)?
            .into_iter()
            .find(|l| l.index == index)
            .ok_or_else(|| {
                NodeError::NotFound(format!("entry {party}:{index} is not held here"))
            })?;
        let e = SignedEntry::from_leaf(&l.leaf).map_err(internal)?;
        Ok((l, e))
    }

    fn parse_id(id: &str) -> Result<(Party, u64)> {
        agreement::parse_id(id).ok_or_else(|| {
            NodeError::BadInput(format!(
                "{id:?} is not an entry id (party:index, e.g. us:12)"
            ))
        })
    }

    /// The best checkpoint of `party`'s log covering `index`: cosigned if
    /// any cosigned one covers it, else the newest.
    fn covering(&self, party: &Party, index: u64) -> Result<(u64, Vec<u8>)> {
        let (log, origin) = self.log(party)?;
        let latest = self
            .store
            .latest_checkpoint(log)?
            .ok_or_else(|| NodeError::NotFound(format!("no checkpoint of {origin}")))?;
        let cosigned_latest = checkpoint::split(&latest.1).is_ok_and(|(_, s)| {
            String::from_utf8_lossy(s)
                .lines()
                .any(|l| !checkpoint::signed_by(l, origin))
        });
        if cosigned_latest && latest.0 > index {
            return Ok(latest);
        }
        if let Some(r) = self.store.cosignature_near(log, u64::MAX >> 1, true)?
            && r.size > index
        {
            let note = match &r.note {
                Some(n) => n.clone(),
                None => self
                    .store
                    .checkpoint_at(log, r.size)?
                    .ok_or_else(|| internal("cosigned checkpoint missing"))?,
            };
            return Ok((r.size, with_line(&note, origin, Some(&r.line))?));
        }
        if latest.0 > index {
            return Ok(latest);
        }
        Err(NodeError::NotFound(format!(
            "no checkpoint of {origin} covers entry {index} yet"
        )))
    }

    fn tlog_proof(&self, party: &Party, index: u64, size: u64, note: &[u8]) -> Result<TlogProof> {
        let (log, _) = self.log(party)?;
        let (l, _) = self.leaf(party, index)?;
        let proof = tree::prove_inclusion(
            &HashesOf {
                store: &*self.store,
                log,
            },
            size,
            index,
        )
        .map_err(internal)?;
        Ok(bundle::tlog_proof(&l.leaf, index, proof, note.to_vec()))
    }

    /// A `hotline/inclusion/v2` bundle of entry `party:index` (own log or a
    /// mirror), under the best checkpoint covering it, with its key history.
    pub fn inclusion(&self, party: &Party, index: u64) -> Result<String> {
        let (size, note) = self.covering(party, index)?;
        let (_, e) = self.leaf(party, index)?;
        let (log, origin) = self.log(party)?;
        let history = crate::reader::key_history(&self.store.key_leaves(log)?, &e, index, origin)?
            .into_iter()
            .map(|k| self.tlog_proof(party, k, size, &note))
            .collect::<Result<Vec<_>>>()?;
        Ok(bundle::inclusion_bundle(
            &self.tlog_proof(party, index, size, &note)?,
            &history,
        ))
    }

    /// An entry with its signer's key announcement, under one checkpoint.
    pub fn entry_proof(&self, party: &Party, index: u64) -> Result<EntryProof> {
        let (size, note) = self.covering(party, index)?;
        let (_, e) = self.leaf(party, index)?;
        let h = e.header();
        let signer_key = if h.from == h.log.as_str() {
            None
        } else {
            let (log, _) = self.log(party)?;
            let k = self
                .store
                .key_entry_before(log, &h.from, index)?
                .ok_or_else(|| {
                    internal(format!(
                        "no key entry for {} before {party}:{index}",
                        h.from
                    ))
                })?;
            Some(self.tlog_proof(party, k, size, &note)?)
        };
        Ok(EntryProof {
            entry: self.tlog_proof(party, index, size, &note)?,
            signer_key,
        })
    }

    fn replies(
        &self,
        to_party: &Party,
        party: &Party,
        index: u64,
    ) -> Result<Vec<(u64, SignedEntry)>> {
        let Ok((log, _)) = self.log(to_party) else {
            return Ok(vec![]);
        };
        self.store
            .referencing(log, party.as_str(), index)?
            .into_iter()
            .map(|l| {
                SignedEntry::from_leaf(&l.leaf)
                    .map(|e| (l.index, e))
                    .map_err(internal)
            })
            .collect()
    }

    fn addressee(e: &SignedEntry) -> Result<Office> {
        e.header()
            .to
            .clone()
            .ok_or_else(|| NodeError::BadInput("the entry is addressed to no office".into()))
    }

    /// `hotline/delivery/v1` for the entry `id`.
    pub fn delivery(&self, id: &str) -> Result<String> {
        let (party, index) = Self::parse_id(id)?;
        let (_, e) = self.leaf(&party, index)?;
        let to = Self::addressee(&e)?;
        let receiver = to.party();
        let (ri, _) = self
            .replies(&receiver, &party, index)?
            .into_iter()
            .find(|(_, r)| r.header().kind == Kind::Receipt)
            .ok_or_else(|| {
                NodeError::NotFound(format!(
                    "no receipt for {id} is held here yet ({receiver} writes one when it arrives)"
                ))
            })?;
        Ok(delivery_bundle(
            &self.entry_proof(&party, index)?,
            &self.entry_proof(&receiver, ri)?,
        ))
    }

    fn agreements(&self) -> Result<Vec<(Agreement, Party, u64)>> {
        let mut entries = Vec::new();
        for (party, (log, _)) in &self.logs {
            for l in self.store.leaves_of_kind(*log, Kind::Agreement.as_str())? {
                entries.push((
                    party.clone(),
                    l.index,
                    SignedEntry::from_leaf(&l.leaf).map_err(internal)?,
                ));
            }
        }
        let folded = agreement::fold(entries.iter().map(|(_, i, e)| (*i, e)));
        Ok(folded
            .into_iter()
            .filter_map(|a| {
                let (p, i) = agreement::parse_id(&a.id)?;
                Some((a, p, i))
            })
            .collect())
    }

    /// The proposal and the counterparty's signature of an agreement.
    fn agreement_proofs(
        &self,
        a: &Agreement,
        p: &Party,
        i: u64,
    ) -> Result<(EntryProof, EntryProof)> {
        let (si, _) = self
            .replies(&a.counterparty, p, i)?
            .into_iter()
            .find(|(_, r)| {
                r.header().kind == Kind::Agreement
                    && r.header().status.as_deref() == Some(agreement::status::SIGNED)
            })
            .ok_or_else(|| {
                NodeError::NotFound(format!(
                    "{} has not signed {} (as far as this node holds)",
                    a.counterparty, a.id
                ))
            })?;
        Ok((
            self.entry_proof(p, i)?,
            self.entry_proof(&a.counterparty, si)?,
        ))
    }

    /// `hotline/answered/v1` for the inquiry `id`.
    pub fn answered(&self, id: &str) -> Result<String> {
        let (party, index) = Self::parse_id(id)?;
        let (_, e) = self.leaf(&party, index)?;
        if e.header().kind != Kind::Inquiry {
            return Err(NodeError::BadInput(format!(
                "{id} is a {}, not an inquiry",
                e.header().kind
            )));
        }
        let to = Self::addressee(&e)?;
        let agreement_id = e
            .header()
            .agreement
            .clone()
            .ok_or_else(|| NodeError::BadInput(format!("{id} names no agreement")))?;
        let (a, ap, ai) = self
            .agreements()?
            .into_iter()
            .find(|(a, _, _)| a.id == agreement_id)
            .ok_or_else(|| {
                NodeError::NotFound(format!("agreement {agreement_id} is not held here"))
            })?;
        let (prop, sig) = self.agreement_proofs(&a, &ap, ai)?;
        let replies = self.replies(&to.party(), &party, index)?;
        let receipt = replies
            .iter()
            .find(|(_, r)| r.header().kind == Kind::Receipt)
            .map(|(i, _)| *i);
        let by_to = |r: &SignedEntry| r.header().from == to.as_str();
        let acks: Vec<u64> = replies
            .iter()
            .filter(|(_, r)| r.header().kind == Kind::Ack && by_to(r))
            .map(|(i, _)| *i)
            .collect();
        let answers: Vec<u64> = replies
            .iter()
            .filter(|(_, r)| r.header().kind == Kind::Answer && by_to(r))
            .map(|(i, _)| *i)
            .collect();
        if acks.is_empty() && answers.is_empty() {
            return Err(NodeError::NotFound(format!(
                "{id} has no acknowledgement or answer held here yet"
            )));
        }
        let receiver = to.party();
        let receipt = receipt
            .map(|i| self.entry_proof(&receiver, i))
            .transpose()?;
        let acks = acks
            .iter()
            .map(|i| self.entry_proof(&receiver, *i))
            .collect::<Result<Vec<_>>>()?;
        let answers = answers
            .iter()
            .map(|i| self.entry_proof(&receiver, *i))
            .collect::<Result<Vec<_>>>()?;
        Ok(answered_bundle(
            &self.entry_proof(&party, index)?,
            receipt.as_ref(),
            &prop,
            &sig,
            &acks,
            &answers,
        ))
    }

    /// The disclosed run of `party`'s log between checkpoints cosigned at or
    /// before `since` and at or after `until`.
    fn range(&self, party: &Party, since: Timestamp, until: Option<Timestamp>) -> Result<LogRange> {
        let (log, origin) = self.log(party)?;
        let secs = |t: Timestamp| u64::try_from(t.as_second()).unwrap_or(0);
        // Cosignature times are whole seconds: the end of a window must be
        // bracketed at or after it, so a fraction of a second rounds up.
        let secs_up = |t: Timestamp| secs(t) + u64::from(t.subsec_nanosecond() > 0);
        // Without a cosignature at or before `since`, the run starts at the
        // log's beginning: everything it ever appended is disclosed.
        let a = self.store.cosignature_near(log, secs(since), true)?;
        let b = match until {
            Some(u) => self.store.cosignature_near(log, secs_up(u), false)?.ok_or_else(|| {
                NodeError::NotFound(format!(
                    "no checkpoint of {origin} has been cosigned at or after {u} yet; wait for the next cosignature (cosign_interval_secs) and try again"
                ))
            })?,
            None => self.store.cosignature_near(log, u64::MAX >> 1, true)?.ok_or_else(|| internal("no cosignature"))?,
        };
        let note = |r: &crate::store::CosignatureRecord| -> Result<Vec<u8>> {
            let n = match &r.note {
                Some(n) => n.clone(),
                None => self.store.checkpoint_at(log, r.size)?.ok_or_else(|| {
                    internal(format!("checkpoint {} of {origin} missing", r.size))
                })?,
            };
            with_line(&n, origin, Some(&r.line))
        };
        let held = self.store.size(log)?;
        if b.size > held {
            return Err(internal(format!(
                "{origin}: cosigned size {} is beyond the {held} entries held",
                b.size
            )));
        }
        let a_size = a.as_ref().map_or(0, |a| a.size);
        let frontier = tree::frontier_hashes(
            &HashesOf {
                store: &*self.store,
                log,
            },
            a_size,
        )
        .map_err(internal)?;
        let mut leaves = Vec::new();
        let mut next = a_size;
        while next < b.size {
            let chunk = self.store.leaves(log, next, (b.size - next).min(10_000))?;
            let Some(last) = chunk.last().map(|l| l.index) else {
                break;
            };
            leaves.extend(chunk.into_iter().map(|l| l.leaf));
            next = last + 1;
        }
        let start = match &a {
            Some(a) => note(a)?,
            None => vec![],
        };
        Ok(LogRange {
            start,
            end: note(&b)?,
            frontier,
            leaves,
        })
    }

    /// `hotline/absence/v1`: no entry of `kind` from `from` to `to` in
    /// `party`'s log in the window. Refuses to write a false bundle, naming
    /// the entry that contradicts the claim.
    pub fn absence(
        &self,
        party: &Party,
        kind: Kind,
        from: &Office,
        to: &Office,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<String> {
        if until <= since {
            return Err(NodeError::BadInput("--until must be after --since".into()));
        }
        if &from.party() != party {
            return Err(NodeError::BadInput(format!(
                "{from} writes to {}'s log, not {party}'s: a claim about {from}'s entries is about --log {}",
                from.party(),
                from.party()
            )));
        }
        let (_, origin) = self.log(party)?;
        let range = self.range(party, since, Some(until))?;
        let start_size = if range.start.is_empty() {
            0
        } else {
            checkpoint::peek(&range.start).map_err(internal)?.1
        };
        for (i, leaf) in range.leaves.iter().enumerate() {
            let e = SignedEntry::from_leaf(leaf).map_err(internal)?;
            let h = e.header();
            if h.kind == kind && h.from == from.as_str() && h.to.as_ref() == Some(to) {
                return Err(NodeError::Conflict(format!(
                    "the claim is false: {party}:{} is {} {kind} from {from} to {to} dated {} — no bundle written",
                    start_size + i as u64,
                    if kind.as_str().starts_with(['a', 'e', 'i', 'o', 'u']) {
                        "an"
                    } else {
                        "a"
                    },
                    h.time
                )));
            }
        }
        let claim = AbsenceClaim {
            origin: origin.to_owned(),
            kind,
            from: from.clone(),
            to: to.clone(),
            since,
            until,
        };
        Ok(absence_bundle(&claim, &range))
    }

    /// `hotline/stats/v1` for one channel and month (`YYYY-MM`).
    pub fn stats(&self, from: &Office, to: &Office, month: &str) -> Result<String> {
        let start: Timestamp = format!("{month}-01T00:00:00Z")
            .parse()
            .map_err(|_| NodeError::BadInput(format!("{month:?} is not a month (YYYY-MM)")))?;
        let end = start
            .to_zoned(jiff::tz::TimeZone::UTC)
            .checked_add(jiff::Span::new().months(1))
            .map_err(internal)?
            .timestamp();
        if end > crate::clock::now() {
            return Err(NodeError::BadInput(format!(
                "{month} is not over yet: figures cover whole months, each bracketed by cosignatures (try the previous month)"
            )));
        }
        let (a, ap, ai) = self
            .agreements()?
            .into_iter()
            .find(|(a, _, _)| a.terms.allows(from, to, Kind::Inquiry))
            .ok_or_else(|| {
                NodeError::NotFound(format!(
                    "no agreement held here opens {from} → {to} for inquiries"
                ))
            })?;
        let (prop, sig) = self.agreement_proofs(&a, &ap, ai)?;
        let sender = self.range(&from.party(), start, Some(end))?;
        let receiver = self.range(&to.party(), start, None)?;
        Ok(stats_bundle(
            &Channel {
                from: from.clone(),
                to: to.clone(),
            },
            month,
            &prop,
            &sig,
            &sender,
            &receiver,
        ))
    }

    /// `hotline/opening/v1`: reveals one entry's plaintext, opened with one
    /// of this party's office keys (the sender's or the recipient's).
    /// Content that does not match its commitment has no opening: one would
    /// not verify, and the receipt already says it was refused.
    pub fn opening(&self, id: &str) -> Result<String> {
        let (party, index) = Self::parse_id(id)?;
        let (_, e) = self.leaf(&party, index)?;
        let opened = self.open_own(&party, index, &e)?.ok_or_else(|| {
            let h = e.header();
            NodeError::Forbidden(format!(
                "{id} is sealed to {} and {}; this party holds neither office's key",
                h.from,
                h.to.as_ref().map(ToString::to_string).unwrap_or_default()
            ))
        })?;
        Ok(opening_bundle(
            &self.entry_proof(&party, index)?,
            &opened.salt,
            &opened.plaintext,
        ))
    }

    /// Entry `party:index` opened with the key of one of its two offices
    /// that belongs to this party, and checked against its commitment;
    /// `None` if neither office is this party's.
    fn open_own(&self, party: &Party, index: u64, e: &SignedEntry) -> Result<Option<seal::Opened>> {
        let (log, _) = self.log(party)?;
        let h = e.header();
        let id = format!("{party}:{index}");
        let sealed = match (&h.body, self.store.body(log, index)?) {
            (Some(_), Some(s)) => s,
            _ => {
                return Err(NodeError::NotFound(format!(
                    "{id} has no sealed body held here"
                )));
            }
        };
        let mut offices: Vec<Office> = Office::new(&h.from).into_iter().collect();
        offices.extend(h.to.clone());
        let mut refused = None;
        for o in offices.into_iter().filter(|o| o.party() == self.own) {
            // The office's current key, then any it rotated away or revoked;
            // a body at fault itself is refused for every office and key.
            let keys = crate::offices::held_on_disk(&self.dir, &o);
            if keys.is_empty() {
                continue;
            }
            match crate::content::open_sealed_with(h, &sealed, &o, &keys) {
                Ok(opened) => return Ok(Some(opened)),
                Err(u) if u.is_the_entrys_fault() => {
                    refused = Some(u);
                    break;
                }
                Err(u) => {
                    refused.get_or_insert(u);
                }
            }
        }
        match refused {
            Some(u) => Err(NodeError::Conflict(format!(
                "{id} was refused: {u}; it cannot be opened to anyone"
            ))),
            None => Ok(None),
        }
    }

    /// `hotline/statement/v1` for statement `id`: its text (opened with
    /// this party's key of one of its two offices), the statement, and the
    /// counterpart's endorsement if it is held here (else the bundle proves
    /// a one-sided statement).
    pub fn statement(&self, id: &str) -> Result<String> {
        let (party, index) = Self::parse_id(id)?;
        let (_, e) = self.leaf(&party, index)?;
        let h = e.header();
        if h.kind != Kind::Statement {
            return Err(NodeError::BadInput(format!(
                "{id} is a {}, not a statement",
                h.kind
            )));
        }
        let to = Self::addressee(&e)?;
        let opened = self.open_own(&party, index, &e)?.ok_or_else(|| {
            NodeError::Forbidden(format!(
                "{id} is sealed to {} and {to}; this party holds neither office's key, so it cannot show the text",
                h.from
            ))
        })?;
        let content: hotline_proto::entry::Content =
            serde_json::from_slice(&opened.plaintext).map_err(internal)?;
        let digest = h.digest.clone().unwrap_or_default();
        if hotline_proto::entry::text_digest(&content.text) != digest {
            return Err(internal(format!(
                "the sealed text of {id} does not hash to its digest"
            )));
        }
        let target = hotline_proto::claims::reference(&e, index);
        let endorsement = self
            .replies(&to.party(), &party, index)?
            .into_iter()
            .find(|(_, r)| {
                let g = r.header();
                g.kind == Kind::Endorsement
                    && g.from == to.as_str()
                    && g.refs.first() == Some(&target)
                    && g.digest.as_deref() == Some(digest.as_str())
            })
            .map(|(i, _)| self.entry_proof(&to.party(), i))
            .transpose()?;
        Ok(statement_bundle(
            &content.text,
            content.lang.as_deref(),
            &self.entry_proof(&party, index)?,
            endorsement.as_ref(),
        ))
    }
}
