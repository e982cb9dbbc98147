//! The sequencer: the single writer of a party's log.
//!
//! One thread owns the write connection. Callers hand it drafts (already
//! sealed, since sealing is the expensive part and needs no ordering); it
//! drains whatever is waiting into one batch, assigns indices, fills in the
//! parts of each header that depend on order (`prev`, `time`), signs, computes
//! the new tree hashes and the log's index ([`crate::indexes`]), signs a
//! checkpoint for the new size that commits to both, and commits it all in
//! one transaction. Only then does any caller hear "appended" — an entry is
//! reported sent only once it is durable (DESIGN.md guarantee 1).
//!
//! An entry is dated by this node's clock, but never earlier than the
//! previous entry nor than the latest cosignature any witness gave of this
//! log: a witness refuses entries dated before its own latest cosignature of
//! the log less its allowed skew, so a node whose clock lags a witness's
//! would otherwise lose that link for good. Only cosignatures dated within
//! `max_clock_skew_secs` of this node's clock count, so that a witness with a
//! clock far ahead (or a hostile one) cannot push this log's dates into the
//! future; `hotline status` raises an alert for such a witness.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc;

use hotline_proto::checkpoint::{self, CheckpointError};
use hotline_proto::entry::{
    BodyCommitment, EntryError, HEADER_VERSION, Header, KeyAnnouncement, Kind, Ref, SignedEntry,
};
use hotline_proto::keys::{NoteKey, OfficeKeys};
use hotline_proto::party::{Office, Party};
use hotline_proto::tree::{self, TreeError};
use hotline_proto::{Hash, b64};
use jiff::{SignedDuration, Timestamp, Unit};
use tokio::sync::oneshot;

use crate::indexes::{LogIndex, Staged};
use crate::metrics::Metrics;
use crate::offices::OwnOffices;
use crate::store::{AppendBatch, LogId, NewLeaf, Overlay, Store, StoreError};

/// Most entries committed in one transaction.
pub const MAX_BATCH: usize = 1024;

/// Who signs an entry.
#[derive(Clone)]
pub enum Signer {
    /// The party's log key (for `key` entries).
    Party(Arc<NoteKey>, Party),
    /// An office key.
    Office(Arc<OfficeKeys>),
}

impl Signer {
    fn name(&self) -> String {
        match self {
            Signer::Party(_, p) => p.to_string(),
            Signer::Office(k) => k.office().to_string(),
        }
    }
    fn sign(&self, m: &[u8]) -> [u8; 64] {
        match self {
            Signer::Party(k, _) => k.sign_raw(m),
            Signer::Office(k) => k.sign_raw(m),
        }
    }
}

/// A sealed body ready to be committed to. Its fields are read-only, so
/// the hash kept beside the bytes is always theirs.
pub struct SealedBody {
    bytes: Vec<u8>,
    commitment: [u8; 32],
    /// SHA-256 of `bytes`, which the header commits to.
    hash: [u8; 32],
}

impl SealedBody {
    /// Hashes the sealed bytes here, where the body was sealed, rather than
    /// on the sequencer's one thread that every append of the log waits for
    /// (0.1–0.2 ms for a body of 230 KB).
    pub fn new(bytes: Vec<u8>, commitment: [u8; 32]) -> Self {
        let hash = hotline_proto::seal::sealed_hash(&bytes);
        Self {
            bytes,
            commitment,
            hash,
        }
    }

    /// The sealed bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The salted plaintext commitment.
    pub fn commitment(&self) -> [u8; 32] {
        self.commitment
    }
}

impl From<hotline_proto::seal::Sealed> for SealedBody {
    fn from(s: hotline_proto::seal::Sealed) -> Self {
        Self::new(s.bytes, s.commitment)
    }
}

/// An entry before the sequencer gives it its place.
pub struct Draft {
    /// Kind.
    pub kind: Kind,
    /// Signer.
    pub signer: Signer,
    /// Addressee.
    pub to: Option<Office>,
    /// Agreement.
    pub agreement: Option<String>,
    /// References.
    pub refs: Vec<Ref>,
    /// Sealed body.
    pub body: Option<SealedBody>,
    /// Key announcement.
    pub key: Option<KeyAnnouncement>,
    /// Receipt, agreement or ack status.
    pub status: Option<String>,
    /// Agreement terms (proposals only).
    pub terms: Option<hotline_proto::agreement::Terms>,
    /// A time to write instead of the clock (simulated clocks in the demo).
    pub time: Option<Timestamp>,
    /// For statements and endorsements: the digest of the text.
    pub digest: Option<String>,
}

impl Draft {
    /// A draft of `kind` signed by `signer`, with nothing else set.
    pub fn new(kind: Kind, signer: Signer) -> Self {
        Self {
            kind,
            signer,
            to: None,
            agreement: None,
            refs: vec![],
            body: None,
            key: None,
            status: None,
            terms: None,
            time: None,
            digest: None,
        }
    }
}

/// An entry that is durable in the log.
#[derive(Clone, Debug)]
pub struct Appended {
    /// Its index.
    pub index: u64,
    /// Its leaf hash.
    pub leaf_hash: Hash,
    /// Its header.
    pub header: Header,
}

/// Why an append failed. Nothing was written.
#[derive(Debug, thiserror::Error, Clone)]
#[non_exhaustive]
pub enum AppendError {
    /// Storage failed; the whole batch was rolled back. Shared, because one
    /// failed commit is the answer of every entry of its batch.
    #[error("storage: {0}")]
    Store(#[source] Arc<StoreError>),
    /// The log's cosignatures, which bound the entries' times, could not be
    /// read; nothing of the batch was built.
    #[error("storage: reading the log's cosignatures: {0}")]
    Cosignatures(#[source] Arc<StoreError>),
    /// The stored tree hashes do not give the new tree.
    #[error("storage: {0}")]
    Tree(#[source] Arc<TreeError>),
    /// The entry could not be built.
    #[error("{0}")]
    Invalid(String),
    /// The entry as drafted does not make a valid entry (its shape, or its
    /// encoding for signing).
    #[error("{0}")]
    Entry(#[source] Arc<EntryError>),
    /// The new checkpoint could not be signed.
    #[error("{0}")]
    Checkpoint(#[source] Arc<CheckpointError>),
    /// The sequencer has stopped (node shutting down).
    #[error("the node is shutting down")]
    Stopped,
    /// This replica does not hold the sequencer lease and knows no replica
    /// that does (a takeover is under way).
    #[error(
        "no replica of this node holds the sequencer lease just now (a takeover is under way); nothing was written, retry in a few seconds"
    )]
    NoHolder,
    /// The lease holder could not be reached, or refused the forwarded entry.
    #[error("forwarding to the replica that holds the sequencer lease: {0}")]
    Forward(String),
}

type Reply = oneshot::Sender<Result<Appended, AppendError>>;

/// Set once an entry of a chain ([`Sequencer::submit_chain`]) was not
/// appended: no later entry of that chain is.
type Broken = Arc<std::sync::atomic::AtomicBool>;

struct Job {
    draft: Draft,
    reply: Reply,
    chain: Option<Broken>,
}

/// Forwards a draft to the replica that holds the sequencer lease and
/// resolves with what it appended (see `replica`).
pub type Forward = Arc<
    dyn Fn(
            Draft,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<Appended, AppendError>> + Send>,
        > + Send
        + Sync,
>;

/// What a sequencer thread is started from, kept so that a replica that
/// takes the lease starts one over the store as it is then.
#[derive(Clone)]
struct Start {
    store: Arc<dyn Store>,
    log: LogId,
    party: Party,
    key: Arc<NoteKey>,
    offices: OwnOffices,
    metrics: Arc<Metrics>,
    sizes: Arc<tokio::sync::watch::Sender<u64>>,
    skew: SignedDuration,
}

/// Where drafts go now: this process's sequencer thread (the lease holder,
/// or the only process of a single-process store), the lease holder's
/// replica, or nowhere while no replica holds the lease.
#[derive(Default)]
enum Route {
    Local(mpsc::Sender<Job>),
    Forward(Forward, tokio::runtime::Handle),
    #[default]
    Nowhere,
}

/// Handle to the sequencer: one per node, whichever replica appends.
#[derive(Clone)]
pub struct Sequencer {
    route: Arc<std::sync::RwLock<Route>>,
    start: Arc<Start>,
}

impl Sequencer {
    /// Starts the sequencer for `log`; cosignatures dated more than
    /// `max_skew_secs` after this node's clock do not date its entries.
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        store: Arc<dyn Store>,
        log: LogId,
        party: Party,
        key: Arc<NoteKey>,
        offices: OwnOffices,
        metrics: Arc<Metrics>,
        sizes: tokio::sync::watch::Sender<u64>,
        max_skew_secs: u64,
    ) -> Result<Self, StoreError> {
        let s = Self::standby(
            store,
            log,
            party,
            key,
            offices,
            metrics,
            sizes,
            max_skew_secs,
        );
        s.lead(None)?;
        Ok(s)
    }

    /// A sequencer that appends nothing until [`Sequencer::lead`] or
    /// forwards nothing until [`Sequencer::follow`]: a replica that does
    /// not hold the lease writes nothing at start.
    #[allow(clippy::too_many_arguments)]
    pub fn standby(
        store: Arc<dyn Store>,
        log: LogId,
        party: Party,
        key: Arc<NoteKey>,
        offices: OwnOffices,
        metrics: Arc<Metrics>,
        sizes: tokio::sync::watch::Sender<u64>,
        max_skew_secs: u64,
    ) -> Self {
        let skew = SignedDuration::from_secs(i64::try_from(max_skew_secs).unwrap_or(i64::MAX));
        Self {
            route: Arc::default(),
            start: Arc::new(Start {
                store,
                log,
                party,
                key,
                offices,
                metrics,
                sizes: Arc::new(sizes),
                skew,
            }),
        }
    }

    /// Starts appending here, under the lease at `epoch` (`None`: the
    /// store needs no lease). The state is read afresh from the store, so a
    /// replica taking over continues exactly where the last holder's
    /// durable appends end.
    pub fn lead(&self, epoch: Option<u64>) -> Result<(), StoreError> {
        let mut state = State::load(self.start.clone(), epoch)?;
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("hotline-sequencer".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut jobs = vec![first];
                    while jobs.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(j) => jobs.push(j),
                            Err(_) => break,
                        }
                    }
                    state.run(jobs);
                }
            })
            .map_err(|e| StoreError::Start(Box::new(e)))?;
        *self.route.write().unwrap_or_else(|e| e.into_inner()) = Route::Local(tx);
        Ok(())
    }

    /// Stops appending here and hands drafts to `forward` (the lease
    /// holder), or refuses them while `None` (no holder known). The thread
    /// of a local sequencer ends once its queue is drained; anything it
    /// still commits is checked against its old epoch.
    pub fn follow(&self, forward: Option<Forward>) {
        let route = match (forward, tokio::runtime::Handle::try_current()) {
            (Some(f), Ok(rt)) => Route::Forward(f, rt),
            _ => Route::Nowhere,
        };
        *self.route.write().unwrap_or_else(|e| e.into_inner()) = route;
    }

    /// Whether this process appends (it holds the lease, or needs none).
    pub fn is_local(&self) -> bool {
        matches!(
            *self.route.read().unwrap_or_else(|e| e.into_inner()),
            Route::Local(_)
        )
    }

    /// Appends one entry; resolves once it is durable.
    pub async fn append(&self, draft: Draft) -> Result<Appended, AppendError> {
        self.submit(draft).await.map_err(|_| AppendError::Stopped)?
    }

    /// Hands an entry to the sequencer now and returns where its result will
    /// arrive: entries submitted one after another are appended in that order.
    pub fn submit(&self, draft: Draft) -> oneshot::Receiver<Result<Appended, AppendError>> {
        self.send(draft, None)
    }

    /// Hands `drafts` to the sequencer as a chain: appended in order, and
    /// once one of them is not (it cannot be built, or its batch is rolled
    /// back) none after it is. Receipts need this: the receipt cursor is
    /// the highest entry receipted, so a receipt written after one that
    /// failed would leave that entry unreceipted for good.
    pub fn submit_chain(
        &self,
        drafts: Vec<Draft>,
    ) -> Vec<oneshot::Receiver<Result<Appended, AppendError>>> {
        let broken: Broken = Arc::default();
        drafts
            .into_iter()
            .map(|draft| self.send(draft, Some(broken.clone())))
            .collect()
    }

    /// Appends one entry from a thread that is not async.
    pub fn append_blocking(&self, draft: Draft) -> Result<Appended, AppendError> {
        self.submit(draft)
            .blocking_recv()
            .map_err(|_| AppendError::Stopped)?
    }

    /// Queues `draft` for the sequencer thread. If that thread has stopped,
    /// the job (and its reply) is dropped and the receiver reports that,
    /// which every caller reads as [`AppendError::Stopped`].
    fn send(
        &self,
        draft: Draft,
        chain: Option<Broken>,
    ) -> oneshot::Receiver<Result<Appended, AppendError>> {
        let (reply, rx) = oneshot::channel();
        match &*self.route.read().unwrap_or_else(|e| e.into_inner()) {
            Route::Local(tx) => {
                let _ = tx.send(Job {
                    draft,
                    reply,
                    chain,
                });
            }
            Route::Forward(forward, rt) => {
                let f = forward(draft);
                rt.spawn(async move {
                    let _ = reply.send(f.await);
                });
            }
            Route::Nowhere => {
                let _ = reply.send(Err(AppendError::NoHolder));
            }
        }
        rx
    }
}

type Channel = (Kind, String, Option<String>);

struct State {
    store: Arc<dyn Store>,
    log: LogId,
    party: Party,
    key: Arc<NoteKey>,
    /// Which office key signs, by the log's `key` entries.
    offices: OwnOffices,
    metrics: Arc<Metrics>,
    sizes: Arc<tokio::sync::watch::Sender<u64>>,
    /// The lease epoch every commit carries (`None`: no lease needed).
    epoch: Option<u64>,
    /// What it was loaded from, to load it afresh.
    from: Arc<Start>,
    size: u64,
    last_time: Option<Timestamp>,
    prev: HashMap<Channel, Option<u64>>,
    /// The log's index at `size` (during a batch: with the batch's entries
    /// applied; undone if the batch is not committed).
    index: LogIndex,
    /// How far after this node's clock a cosignature may be dated and still
    /// date its entries.
    skew: SignedDuration,
}

/// The earliest time an entry written at `now` may carry: `now`, unless the
/// log's previous entry or the latest cosignature of the log that counts
/// (`cosigned`, at most `now` + skew) is later.
pub fn earliest_time(
    now: Timestamp,
    last: Option<Timestamp>,
    cosigned: Option<Timestamp>,
) -> Timestamp {
    now.max(last.unwrap_or(now)).max(cosigned.unwrap_or(now))
}

/// The latest cosignature time of `log` that may date its entries at `now`:
/// the newest any witness gave, among those not beyond `now` + `skew`.
pub fn cosigned_floor(
    store: &dyn Store,
    log: LogId,
    now: Timestamp,
    skew: SignedDuration,
) -> Result<Option<Timestamp>, StoreError> {
    let bound = now.checked_add(skew).unwrap_or(Timestamp::MAX).as_second();
    let Some(c) = store.cosignature_near(log, u64::try_from(bound).unwrap_or(0), true)? else {
        return Ok(None);
    };
    Ok(i64::try_from(c.time)
        .ok()
        .and_then(|t| Timestamp::from_second(t).ok()))
}

impl State {
    /// The state over the store as it is now, appending under `epoch`.
    fn load(from: Arc<Start>, epoch: Option<u64>) -> Result<Self, StoreError> {
        let Start {
            store,
            log,
            party,
            key,
            offices,
            metrics,
            sizes,
            skew,
        } = (*from).clone();
        let size = store.size(log)?;
        let last_time = store.last_time(log)?.and_then(|t| t.parse().ok());
        // A log written before the index existed is indexed here, once.
        let mut index = LogIndex::load(&*store, log)?;
        let index_root = index.root();
        let s = Self {
            store,
            log,
            party,
            key,
            offices,
            metrics,
            sizes,
            epoch,
            size,
            last_time,
            prev: HashMap::new(),
            index,
            skew,
            from,
        };
        let current = s.store.latest_checkpoint(log)?;
        if current.is_none_or(|(n, note)| n != size || !s.commits_to(&note, index_root)) {
            // A fresh log, one written before checkpoints were kept, or
            // one whose latest checkpoint does not commit to its index
            // (written before the index existed): sign one now.
            s.commit(&[], &[], &[], index_root, crate::clock::now())
                .map_err(|e| StoreError::Start(Box::new(e)))?;
        }
        s.metrics
            .log_size
            .set(i64::try_from(size).unwrap_or(i64::MAX));
        Ok(s)
    }

    fn run(&mut self, jobs: Vec<Job>) {
        let started = std::time::Instant::now();
        let now = crate::clock::now()
            .round(Unit::Millisecond)
            .unwrap_or_else(|_| crate::clock::now());
        let cosigned = match cosigned_floor(&*self.store, self.log, now, self.skew) {
            Ok(c) => c,
            Err(e) => {
                let e = AppendError::Cosignatures(Arc::new(e));
                for job in jobs {
                    let _ = job.reply.send(Err(e.clone()));
                }
                return;
            }
        };
        let mut built: Vec<(Appended, NewLeaf, Reply, Option<Broken>)> = Vec::new();
        let mut hashes = Vec::new();
        let (saved_time, saved_prev) = (self.last_time, self.prev.clone());
        let mut staged = Staged::default();
        // The key history as this batch changes it; kept only if it commits.
        let mut keys: Option<hotline_proto::keylog::KeyLog> = None;
        use std::sync::atomic::Ordering;
        for job in jobs {
            if job.chain.as_ref().is_some_and(|c| c.load(Ordering::SeqCst)) {
                let _ = job.reply.send(Err(AppendError::Invalid(
                    "an earlier entry of its chain was not appended".into(),
                )));
                continue;
            }
            let index = self.size + built.len() as u64;
            match self.build(
                job.draft,
                index,
                now,
                cosigned,
                &hashes,
                &mut keys,
                &mut staged,
            ) {
                Ok((a, leaf, new_hashes)) => {
                    hashes.extend(new_hashes);
                    built.push((a, leaf, job.reply, job.chain));
                }
                Err(e) => {
                    if let Some(c) = &job.chain {
                        c.store(true, Ordering::SeqCst);
                    }
                    let _ = job.reply.send(Err(e));
                }
            }
        }
        let leaves: Vec<NewLeaf> = built.iter().map(|(_, l, _, _)| l.clone()).collect();
        let index_root = self.index.root();
        match self.commit(&leaves, &hashes, &staged.rows, index_root, now) {
            Ok(()) => {
                if let Some(k) = keys {
                    self.offices.set_key_log(k);
                }
                self.size += leaves.len() as u64;
                self.metrics.appended.inc_by(leaves.len() as u64);
                self.sizes.send_replace(self.size);
                self.metrics
                    .log_size
                    .set(i64::try_from(self.size).unwrap_or(i64::MAX));
                self.metrics.batch_size.observe(leaves.len() as f64);
                self.metrics
                    .commit_seconds
                    .observe(started.elapsed().as_secs_f64());
                for (a, _, reply, _) in built {
                    let _ = reply.send(Ok(a));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "append batch failed; rolled back");
                self.index.undo(staged);
                self.last_time = saved_time;
                self.prev = saved_prev;
                // Before anyone hears of the failure: a caller that then
                // reopens the store (or another replica that takes over)
                // must not race this thread's catching up.
                self.resync();
                for (_, _, reply, chain) in built {
                    if let Some(c) = chain {
                        c.store(true, Ordering::SeqCst);
                    }
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }

    /// After a failed commit: if the log moved anyway (a commit whose
    /// answer was lost with the connection), read the state afresh so the
    /// next batch continues the log as it is.
    fn resync(&mut self) {
        let moved = self.store.size(self.log).is_ok_and(|n| n != self.size);
        if !moved {
            return;
        }
        match State::load(self.from.clone(), self.epoch) {
            Ok(fresh) => {
                tracing::warn!(
                    from = self.size,
                    to = fresh.size,
                    "the log moved under a failed commit; state read afresh"
                );
                fresh.sizes.send_replace(fresh.size);
                *self = fresh;
            }
            Err(e) => tracing::error!(error = %e, "reading the log afresh"),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn build(
        &mut self,
        d: Draft,
        index: u64,
        now: Timestamp,
        cosigned: Option<Timestamp>,
        pending: &[Hash],
        keys: &mut Option<hotline_proto::keylog::KeyLog>,
        staged: &mut Staged,
    ) -> Result<(Appended, NewLeaf, Vec<Hash>), AppendError> {
        let time = match d.time {
            Some(t) if self.last_time.is_some_and(|l| t < l) => {
                return Err(AppendError::Invalid(format!(
                    "time {t} is before the log's last entry ({}); entry times never go back",
                    self.last_time.map(|l| l.to_string()).unwrap_or_default()
                )));
            }
            Some(t) => t,
            None => earliest_time(now, self.last_time, cosigned),
        };
        // An office signs with the key its log names at this index, whatever
        // the draft was made with (a rotation may have come in between).
        let signer = match &d.signer {
            Signer::Office(k) => Signer::Office(
                self.offices
                    .signer_for(k, keys.as_ref())
                    .map_err(AppendError::Invalid)?,
            ),
            party => party.clone(),
        };
        let from = signer.name();
        let channel: Channel = (d.kind, from.clone(), d.to.as_ref().map(|o| o.to_string()));
        let prev = match self.prev.get(&channel) {
            Some(p) => *p,
            None => self
                .store
                .last_on_channel(self.log, d.kind.as_str(), &channel.1, channel.2.as_deref())
                .map_err(|e| AppendError::Store(Arc::new(e)))?,
        };
        let header = Header {
            v: HEADER_VERSION,
            log: self.party.clone(),
            kind: d.kind,
            from: from.clone(),
            to: d.to,
            agreement: d.agreement,
            time,
            refs: d.refs,
            prev,
            body: d.body.as_ref().map(|b| BodyCommitment {
                sealed: b64::encode(b.hash),
                size: b.bytes.len() as u64,
                commitment: b64::encode(b.commitment),
            }),
            key: d.key,
            status: d.status,
            terms: d.terms,
            digest: d.digest,
        };
        let entry = SignedEntry::sign(header, |m| signer.sign(m))
            .map_err(|e| AppendError::Entry(Arc::new(e)))?;
        if entry.leaf().len() > hotline_proto::entry::MAX_LEAF_BYTES {
            return Err(AppendError::Invalid(format!(
                "the entry would be {} bytes; entries are at most {} bytes (shorten the terms or names; bodies are sealed apart and have their own limit)",
                entry.leaf().len(),
                hotline_proto::entry::MAX_LEAF_BYTES
            )));
        }
        let leaf_hash = entry.leaf_hash();
        let overlay = Overlay {
            store: &*self.store,
            log: self.log,
            base: tree::stored_hash_count(self.size),
            pending,
        };
        let new_hashes = tree::hashes_to_store(&overlay, index, leaf_hash)
            .map_err(|e| AppendError::Tree(Arc::new(e)))?;
        // Nothing below fails: the entry is in the batch.
        self.index.apply_entry(index, &entry, staged);
        self.prev.insert(channel, Some(index));
        self.last_time = Some(time);
        if d.kind == Kind::Key && matches!(signer, Signer::Party(..)) {
            keys.get_or_insert_with(|| self.offices.key_log())
                .learn(index, &entry);
        }
        let header = entry.header().clone();
        let leaf = NewLeaf::from_entry(&entry, d.body.map(|b| b.bytes));
        Ok((
            Appended {
                index,
                leaf_hash,
                header,
            },
            leaf,
            new_hashes,
        ))
    }

    /// Whether `note` is the checkpoint this log signs at its size with
    /// index root `index_root` (its signed text, signatures aside).
    fn commits_to(&self, note: &[u8], index_root: Hash) -> bool {
        let hashes = crate::store::HashesOf {
            store: &*self.store,
            log: self.log,
        };
        let Ok(root) = tree::root(&hashes, self.size) else {
            return false;
        };
        let Ok(want) = checkpoint::body_indexed(self.key.name(), self.size, root, index_root)
        else {
            return false;
        };
        checkpoint::split(note).is_ok_and(|(have, _)| have == want.as_slice())
    }

    fn commit(
        &self,
        leaves: &[NewLeaf],
        hashes: &[Hash],
        rows: &[crate::store::IndexRow],
        index_root: Hash,
        now: Timestamp,
    ) -> Result<(), AppendError> {
        let store_err = |e: StoreError| AppendError::Store(Arc::new(e));
        let new_size = self.size + leaves.len() as u64;
        let overlay = Overlay {
            store: &*self.store,
            log: self.log,
            base: tree::stored_hash_count(self.size),
            pending: hashes,
        };
        let root = tree::root(&overlay, new_size).map_err(|e| AppendError::Tree(Arc::new(e)))?;
        let note = checkpoint::sign_indexed(&self.key, new_size, root, index_root)
            .map_err(|e| AppendError::Checkpoint(Arc::new(e)))?;
        self.store
            .append(&AppendBatch {
                log: self.log,
                first: self.size,
                leaves,
                first_hash: tree::stored_hash_count(self.size),
                hashes,
                checkpoint: Some((new_size, &note)),
                now: now.as_second(),
                index: Some(rows),
                epoch: self.epoch,
            })
            .map_err(store_err)
    }
}

#[cfg(test)]
mod tests {
    use hotline_proto::keys::{ALG_ED25519, os_rng};

    use super::*;
    use crate::dir::NodeDir;
    use crate::store::sqlite::SqliteStore;
    use crate::store::{IndexStore as _, LogStore as _};

    const SKEW: u64 = 300;

    struct Fixture {
        _tmp: tempfile::TempDir,
        store: Arc<dyn Store>,
        log: LogId,
        seq: Sequencer,
        signer: Signer,
    }

    /// The sequencer of `us`'s log `log` on `store`, signing with `key`,
    /// its offices read from the node directory at `dir`.
    fn start(
        store: Arc<dyn Store>,
        log: LogId,
        dir: &std::path::Path,
        key: &Arc<NoteKey>,
    ) -> Sequencer {
        let offices = OwnOffices::load(&NodeDir::new(dir), &*store, log).unwrap();
        let (sizes, _) = tokio::sync::watch::channel(0);
        Sequencer::start(
            store,
            log,
            Party::new("us").unwrap(),
            key.clone(),
            offices,
            Arc::new(Metrics::new()),
            sizes,
            SKEW,
        )
        .unwrap()
    }

    fn fixture() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&tmp.path().join("t.db")).unwrap());
        let log = store.log_id("hotline/us", "us").unwrap();
        let key = Arc::new(NoteKey::generate("hotline/us", ALG_ED25519, &mut os_rng()).unwrap());
        let seq = start(store.clone(), log, tmp.path(), &key);
        Fixture {
            _tmp: tmp,
            store,
            log,
            seq,
            signer: Signer::Party(key, Party::new("us").unwrap()),
        }
    }

    impl Fixture {
        fn signer_key(&self) -> Arc<NoteKey> {
            match &self.signer {
                Signer::Party(k, _) => k.clone(),
                Signer::Office(_) => unreachable!("the fixture signs as the party"),
            }
        }

        fn append(&self) -> Appended {
            let mut d = Draft::new(Kind::Receipt, self.signer.clone());
            d.status = Some("delivered".into());
            self.seq.append_blocking(d).unwrap()
        }

        /// Records a cosignature of the checkpoint at `size` by `witness`,
        /// dated `time`, as `witness::record` does.
        fn cosigned(&self, size: u64, witness: &str, time: Timestamp) {
            let t = u64::try_from(time.as_second()).unwrap();
            self.store
                .add_cosignature(self.log, size, witness, t, "— line", &|n| n.to_vec())
                .unwrap();
        }
    }

    /// The index of the log's leaves, rebuilt from scratch.
    fn fresh_index(store: &dyn Store, log: LogId) -> Hash {
        let mut ix = hotline_proto::index::Index::new();
        for l in store.leaves(log, 0, u64::MAX >> 1).unwrap() {
            ix.apply_entry(l.index, &SignedEntry::from_leaf(&l.leaf).unwrap());
        }
        ix.root()
    }

    #[test]
    fn every_checkpoint_commits_to_the_index_of_its_entries() {
        let f = fixture();
        let vkey = f.signer_key().verifier();
        for n in 1..=3u64 {
            // Batches of several entries, and single ones.
            let rx: Vec<_> = (0..n)
                .map(|_| {
                    let mut d = Draft::new(Kind::Receipt, f.signer.clone());
                    d.status = Some("delivered".into());
                    d.refs = vec![Ref {
                        log: Party::new("ru").unwrap(),
                        index: n,
                        leaf_hash: b64::encode([1u8; 32]),
                    }];
                    f.seq.submit(d)
                })
                .collect();
            for r in rx {
                r.blocking_recv().unwrap().unwrap();
            }
            let (size, note) = f.store.latest_checkpoint(f.log).unwrap().unwrap();
            assert_eq!(size, f.store.size(f.log).unwrap());
            let cp = checkpoint::verify(&note, &vkey, &[]).unwrap();
            assert_eq!(cp.index, Some(fresh_index(&*f.store, f.log)), "at {size}");
            assert_eq!(f.store.index_states(f.log).unwrap().0, size);
        }
    }

    #[test]
    fn a_batch_that_is_not_committed_leaves_the_index_as_before() {
        let f = fixture();
        f.append();
        // Make the next commit fail inside its transaction, where the index
        // rows are written.
        let db = rusqlite::Connection::open(f._tmp.path().join("t.db")).unwrap();
        db.execute_batch("ALTER TABLE index_rows RENAME TO index_rows_away")
            .unwrap();
        let mut d = Draft::new(Kind::Receipt, f.signer.clone());
        d.refs = vec![Ref {
            log: Party::new("ru").unwrap(),
            index: 40,
            leaf_hash: b64::encode([1u8; 32]),
        }];
        assert!(f.seq.append_blocking(d).is_err(), "the commit must fail");
        db.execute_batch("ALTER TABLE index_rows_away RENAME TO index_rows")
            .unwrap();
        assert_eq!(f.store.size(f.log).unwrap(), 1);
        assert_eq!(f.store.index_states(f.log).unwrap().0, 1);
        // The next batch commits to the index of exactly the entries held:
        // nothing of the failed one (its key ref/ru/40) is left in memory.
        f.append();
        let (_, note) = f.store.latest_checkpoint(f.log).unwrap().unwrap();
        let cp = checkpoint::verify(&note, &f.signer_key().verifier(), &[]).unwrap();
        assert_eq!(cp.size, 2);
        assert_eq!(cp.index, Some(fresh_index(&*f.store, f.log)));
    }

    #[test]
    fn a_log_written_before_the_index_gets_an_indexed_checkpoint_at_start() {
        let f = fixture();
        for _ in 0..4 {
            f.append();
        }
        let size = f.store.size(f.log).unwrap();
        // As an older node left it: no index rows, and a checkpoint without
        // the index line.
        let tmp = tempfile::tempdir().unwrap();
        let db = tmp.path().join("old.db");
        let old: Arc<dyn Store> = Arc::new(SqliteStore::open(&db).unwrap());
        let log = old.log_id("hotline/us", "us").unwrap();
        let leaves: Vec<NewLeaf> = f
            .store
            .leaves(f.log, 0, size)
            .unwrap()
            .iter()
            .map(|l| NewLeaf::from_entry(&SignedEntry::from_leaf(&l.leaf).unwrap(), None))
            .collect();
        let hashes: Vec<Hash> = leaves.iter().map(|l| l.leaf_hash).collect();
        let (pending, root) = crate::store::extend_tree(&*old, log, 0, &hashes).unwrap();
        let key = f.signer_key();
        let unindexed = checkpoint::sign(&key, size, root).unwrap();
        old.append(&AppendBatch {
            log,
            first: 0,
            leaves: &leaves,
            first_hash: 0,
            hashes: &pending,
            checkpoint: Some((size, &unindexed)),
            now: 0,
            index: None,
            epoch: None,
        })
        .unwrap();
        let _seq = start(old.clone(), log, tmp.path(), &key);
        assert_eq!(old.index_states(log).unwrap().0, size, "indexed at start");
        let (at, note) = old.latest_checkpoint(log).unwrap().unwrap();
        assert_eq!(at, size);
        let cp = checkpoint::verify(&note, &key.verifier(), &[]).unwrap();
        assert_eq!(cp.root, root);
        assert_eq!(cp.index, Some(fresh_index(&*old, log)));
    }

    /// A sequencer over an in-memory store whose failpoints the test sets.
    fn on_memory(
        store: &Arc<crate::store::memory::MemoryStore>,
        key: &Arc<NoteKey>,
    ) -> (LogId, Sequencer) {
        let tmp = tempfile::tempdir().unwrap();
        let dyn_store: Arc<dyn Store> = store.clone();
        let log = dyn_store.log_id("hotline/us", "us").unwrap();
        let seq = start(dyn_store, log, tmp.path(), key);
        (log, seq)
    }

    /// A sequencer over a new in-memory store with one receipt appended,
    /// the store set to fail at `step` in the next append.
    fn on_memory_failing_at(
        step: crate::store::memory::Step,
    ) -> (
        Arc<crate::store::memory::MemoryStore>,
        Arc<NoteKey>,
        LogId,
        Sequencer,
    ) {
        let store = Arc::new(crate::store::memory::MemoryStore::new());
        let key = Arc::new(NoteKey::generate("hotline/us", ALG_ED25519, &mut os_rng()).unwrap());
        let (log, seq) = on_memory(&store, &key);
        seq.append_blocking(receipt(&key, 1)).unwrap();
        store.fail_on(step, 1);
        (store, key, log, seq)
    }

    fn receipt(key: &Arc<NoteKey>, n: u64) -> Draft {
        let mut d = Draft::new(
            Kind::Receipt,
            Signer::Party(key.clone(), Party::new("us").unwrap()),
        );
        d.refs = vec![Ref {
            log: Party::new("ru").unwrap(),
            index: n,
            leaf_hash: b64::encode([1u8; 32]),
        }];
        d
    }

    /// The checkpoint the store holds verifies and commits to the tree and
    /// index of exactly the leaves stored.
    fn assert_checkpoint_fresh(store: &dyn Store, log: LogId, key: &NoteKey, size: u64) {
        let (at, note) = store.latest_checkpoint(log).unwrap().unwrap();
        assert_eq!((at, store.size(log).unwrap()), (size, size));
        let cp = checkpoint::verify(&note, &key.verifier(), &[]).unwrap();
        let hashes: Vec<Hash> = store
            .leaves(log, 0, size)
            .unwrap()
            .iter()
            .map(|l| l.leaf_hash)
            .collect();
        let fresh = crate::store::memory::MemoryStore::new();
        let other = fresh.log_id("hotline/us", "us").unwrap();
        let (_, root) = crate::store::extend_tree(&fresh, other, 0, &hashes).unwrap();
        assert_eq!(cp.root, root);
        assert_eq!(cp.index, Some(fresh_index(store, log)));
    }

    #[test]
    fn a_failed_commit_writes_nothing_and_the_next_append_succeeds() {
        let (store, key, log, seq) = on_memory_failing_at(crate::store::memory::Step::AppendCommit);
        assert!(
            seq.append_blocking(receipt(&key, 2)).is_err(),
            "the commit must fail"
        );
        assert_eq!(store.size(log).unwrap(), 1);
        assert_eq!(store.index_states(log).unwrap().0, 1);
        // The failed batch's key (ref/ru/2) is not left in the sequencer's index.
        let next = seq.append_blocking(receipt(&key, 3)).unwrap();
        assert_eq!(next.index, 1);
        assert_checkpoint_fresh(&*store, log, &key, 2);
    }

    #[test]
    fn a_crash_between_leaves_and_index_rows_recovers_when_reopened() {
        let (store, key, log, seq) = on_memory_failing_at(crate::store::memory::Step::AppendIndex);
        assert!(
            seq.append_blocking(receipt(&key, 2)).is_err(),
            "the process dies"
        );
        assert!(store.crashed());
        // The leaves are stored, the index rows are not.
        assert_eq!(store.size(log).unwrap(), 2);
        assert_eq!(store.index_states(log).unwrap().0, 1);
        drop(seq);
        store.reopen();
        let (_, seq) = on_memory(&store, &key);
        assert_eq!(store.index_states(log).unwrap().0, 2, "indexed at start");
        assert_checkpoint_fresh(&*store, log, &key, 2);
        seq.append_blocking(receipt(&key, 3)).unwrap();
        assert_checkpoint_fresh(&*store, log, &key, 3);
    }

    fn secs(n: i64) -> SignedDuration {
        SignedDuration::from_secs(n)
    }

    #[test]
    fn the_earliest_time_is_the_latest_of_clock_previous_entry_and_cosignature() {
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        assert_eq!(earliest_time(now, None, None), now);
        assert_eq!(earliest_time(now, Some(now - secs(5)), None), now);
        assert_eq!(earliest_time(now, Some(now + secs(5)), None), now + secs(5));
        assert_eq!(
            earliest_time(now, Some(now + secs(5)), Some(now + secs(9))),
            now + secs(9)
        );
        assert_eq!(
            earliest_time(now, Some(now + secs(9)), Some(now + secs(5))),
            now + secs(9)
        );
        assert_eq!(earliest_time(now, None, Some(now - secs(9))), now);
    }

    #[test]
    fn an_entry_is_dated_no_earlier_than_a_witness_cosignature_within_the_skew() {
        let f = fixture();
        let first = f.append();
        // A witness whose clock is 200 s ahead of this node's (within the
        // 300 s skew) cosigned the checkpoint of the first entry.
        let ahead = crate::clock::now() + secs(200);
        f.cosigned(first.index + 1, "hotline/ru/witness", ahead);
        let second = f.append();
        assert!(
            second.header.time >= Timestamp::from_second(ahead.as_second()).unwrap(),
            "dated {} although ru's witness cosigned at {ahead}",
            second.header.time
        );
        // An earlier cosignature by another witness changes nothing.
        f.cosigned(
            second.index + 1,
            "hotline/nato/witness",
            crate::clock::now(),
        );
        let third = f.append();
        assert!(third.header.time >= second.header.time);
    }

    #[test]
    fn a_cosignature_beyond_the_clock_and_skew_does_not_date_entries() {
        let f = fixture();
        let first = f.append();
        let honest = crate::clock::now() + secs(100);
        f.cosigned(first.index + 1, "hotline/nato/witness", honest);
        // An hour ahead: a wrong clock or a hostile witness.
        let far = crate::clock::now() + secs(3600);
        f.cosigned(first.index + 1, "hotline/ru/witness", far);
        let second = f.append();
        let t = second.header.time;
        assert!(
            t < far - secs(3000),
            "dated {t} by a cosignature an hour ahead"
        );
        assert!(
            t >= Timestamp::from_second(honest.as_second()).unwrap(),
            "dated {t}, before nato's cosignature at {honest} that is within the skew"
        );
    }
}
