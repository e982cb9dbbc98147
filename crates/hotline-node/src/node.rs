//! The node: a party's keys, its log, and the operations that write to it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};

use hotline_proto::entry::{Content, ContentOf, KeyAction, KeyAnnouncement, Kind};
use hotline_proto::json::Json;
use hotline_proto::keys::{
    ALG_COSIGNATURE_V1, ALG_ED25519, NoteKey, NoteVerifier, OfficeKeys, PartyIdentity, os_rng,
};
use hotline_proto::party::{Office, Party};
use hotline_proto::seal;
use jiff::Timestamp;
use rand_core::RngCore as _;

use crate::dir::{Config, Limits, Mode, NodeDir, WriterLock, write_atomic, write_secret};
use crate::error::{Corrupt, InputError, NodeError, Result};
use crate::federation::link::{Appender, Holdings, Notices, Settings, Signers};
use crate::federation::{Federation, Link, Peer};
use crate::log::LogReader;
use crate::metrics::Metrics;
use crate::offices::{OfficeError, OwnOffices, Signing, current_path, keep_retired, pending_path};
use crate::sequencer::{Appended, Draft, SealedBody, Sequencer, Signer};
use crate::store::{LogId, Store};
use crate::tls::{PinSet, TlsIdentity, client_config};

/// A running node's state. Cheap to clone.
#[derive(Clone)]
pub struct Node {
    inner: Arc<Inner>,
}

struct Inner {
    dir: NodeDir,
    config: Config,
    party: Party,
    log_key: Arc<NoteKey>,
    witness_key: Arc<NoteKey>,
    /// Own office keys, and which signs by the own log's `key` entries.
    offices: OwnOffices,
    /// The pinned identities; their `offices` only hint at keys the mirror
    /// has not learnt yet (see [`Node::seal_key_pub`]).
    peers: RwLock<BTreeMap<Party, PartyIdentity>>,
    reader: LogReader,
    seq: Sequencer,
    /// This process's side of the sequencer lease.
    replica: Arc<crate::replica::Replica>,
    metrics: Arc<Metrics>,
    tls: TlsIdentity,
    pins: PinSet,
    fed: Arc<Federation>,
    /// The C2SP witnesses (`[[witnesses]]`) and what each last answered.
    witnesses: Arc<crate::witnesses::Witnesses>,
    /// What federation runs on, built from the parts above. It also holds
    /// the own log's size watch, the counter bumped whenever a mirror takes
    /// new entries (so that live views such as the console's event stream
    /// learn of arrivals without polling the store), and the call signals
    /// from peers for this node's consoles.
    link: Link,
    /// Serialises actions whose check and write must not interleave (signing
    /// an agreement once, acknowledging once, closing once).
    acts: tokio::sync::Mutex<()>,
    /// Whether the peer listener accepts connections (operators can close it).
    peer_listener: tokio::sync::watch::Sender<bool>,
    /// How `serve` serves the API address (scheme, address, certificate
    /// fingerprint), for `hotline status`.
    served_api: Mutex<Option<serde_json::Value>>,
    /// Set once `serve` starts the federation loops; peers pinned later join them.
    running: Mutex<Option<tokio::sync::watch::Receiver<bool>>>,
    /// The writer lock, released when the last clone of the node drops.
    _lock: Option<WriterLock>,
}

/// The API, the console and the CLI hold a node: they call the public
/// federation functions (peer status, call signals) with it.
impl AsRef<Link> for Node {
    fn as_ref(&self) -> &Link {
        self.link()
    }
}

/// A sealed `message` entry under its agreement, not yet appended
/// ([`Node::prepare_message`]).
pub struct PreparedMessage {
    draft: Draft,
    from: Office,
    to: Office,
}

/// Options for `hotline init`.
pub struct InitOptions {
    /// Party name.
    pub party: Party,
    /// Log origin; defaults to `hotline/<party>`.
    pub origin: Option<String>,
    /// Default API listen address.
    pub listen: String,
    /// More names for the API's certificate (a LAN address or host name)
    /// besides localhost, the loopback addresses and the listen host.
    pub api_names: Vec<String>,
    /// The `[console]` section written to hotline.toml (the console's
    /// defaults, which the node does not know; empty: none written).
    pub console: toml::Table,
    /// A PostgreSQL URL to store the log in (`[store] url`); `None`: SQLite
    /// in the directory.
    pub store: Option<String>,
}

impl InitOptions {
    /// A party whose API listens on a free port of the loopback address,
    /// with the default origin, no more certificate names and `console` as
    /// its `[console]` section: the node the tests set up.
    pub fn local(party: Party, console: toml::Table) -> Self {
        Self {
            party,
            origin: None,
            listen: "127.0.0.1:0".into(),
            api_names: vec![],
            console,
            store: None,
        }
    }
}

fn io(what: &'static str) -> impl Fn(std::io::Error) -> NodeError {
    move |source| NodeError::File { what, source }
}

impl Node {
    /// Creates a new party in `dir`: keys, configuration, API token and an
    /// empty log with its first checkpoint. Refuses to touch an existing party.
    pub fn init(dir: &NodeDir, opts: InitOptions) -> Result<()> {
        if dir.config().exists() || dir.log_key().exists() || dir.db().exists() {
            return Err(NodeError::Conflict(format!(
                "{} already holds a hotline party; refusing to overwrite it (choose another --dir)",
                dir.root().display()
            )));
        }
        let origin = opts
            .origin
            .unwrap_or_else(|| format!("hotline/{}", opts.party));
        if hotline_proto::bundle::origin_party(&origin) != opts.party.as_str() {
            return Err(NodeError::BadInput(format!(
                "origin {origin:?} must end with /{} so verifiers can tell whose log it is",
                opts.party
            )));
        }
        if let Some(url) = &opts.store {
            crate::dir::engine::check_new_postgres(url, &origin)?;
        }
        let witness_name = format!("{origin}/witness");
        let mut rng = os_rng();
        let log_key = NoteKey::generate(&origin, ALG_ED25519, &mut rng).map_err(InputError::Key)?;
        let wit_key = NoteKey::generate(&witness_name, ALG_COSIGNATURE_V1, &mut rng)
            .map_err(InputError::Key)?;
        crate::dir::create_private_dir(dir.root()).map_err(io("creating the directory"))?;
        crate::dir::create_private_dir(&dir.root().join("keys")).map_err(io("creating keys"))?;
        write_secret(&dir.log_key(), &log_key.to_skey()).map_err(io("writing the log key"))?;
        write_secret(&dir.witness_key(), &wit_key.to_skey())
            .map_err(io("writing the witness key"))?;
        let mut token = [0u8; 32];
        rng.fill_bytes(&mut token);
        write_secret(&dir.api_token(), &hotline_proto::b64::encode(token))
            .map_err(io("writing the API token"))?;
        let config = Config {
            party: opts.party.to_string(),
            origin,
            witness_name,
            listen: opts.listen,
            peer_listen: "127.0.0.1:7701".into(),
            cosign_interval_secs: 60,
            max_clock_skew_secs: 300,
            limits: Limits::default(),
            console: opts.console,
            calls: crate::dir::CallsConfig::default(),
            api: crate::dir::ApiConfig::default(),
            store: crate::dir::StoreConfig {
                url: opts.store,
                ..Default::default()
            },
            tiles: crate::dir::TilesConfig::default(),
            federation: crate::dir::FederationConfig::default(),
            witnesses: Vec::new(),
        };
        let text = toml::to_string_pretty(&config)?;
        write_atomic(&dir.config(), text.as_bytes()).map_err(io("writing hotline.toml"))?;
        crate::dir::create_private_dir(&dir.offices()).map_err(io("creating keys/offices"))?;
        crate::dir::create_private_dir(&dir.peers()).map_err(io("creating peers"))?;
        crate::dir::create_private_dir(&dir.run()).map_err(io("creating run"))?;
        let mut names = opts.api_names.clone();
        names.extend(crate::api::transport::listen_host(&config.listen));
        crate::tls::ApiCert::generate(
            opts.party.as_str(),
            &names,
            &dir.api_key(&config.api),
            &dir.api_cert(&config.api),
            false,
        )
        .map_err(|e| NodeError::BadInput(format!("the API's certificate: {e}")))?;
        // Opening creates the database and signs the empty log's checkpoint.
        drop(Self::open(dir)?);
        Ok(())
    }

    /// Opens the node in `dir`, taking the writer lock.
    pub fn open(dir: &NodeDir) -> Result<Self> {
        let opened = dir.open(Mode::ReadWrite)?;
        let config = opened.config.clone();
        let party = Party::new(&config.party).map_err(InputError::Name)?;
        let read_key = |p: &std::path::Path| -> Result<NoteKey> {
            let t = std::fs::read_to_string(p).map_err(io("reading a key"))?;
            Ok(NoteKey::from_skey(&t).map_err(|source| Corrupt::KeyFile {
                path: p.to_owned(),
                source,
            })?)
        };
        let log_key = Arc::new(read_key(&dir.log_key())?);
        let witness_key = Arc::new(read_key(&dir.witness_key())?);
        check_own_keys(dir, &config, &party, &log_key, &witness_key)?;
        opened.claim(&log_key.verifier(), &witness_key.verifier())?;
        let mut files = Vec::new();
        for e in std::fs::read_dir(dir.peers()).map_err(io("reading peers"))? {
            let p = e.map_err(io("reading peers"))?.path();
            if p.extension().is_some_and(|x| x == "json") {
                files.push(p);
            }
        }
        files.sort();
        // A peer file edited by hand gets no more trust than `peer add` gives.
        let mut holders = vec![KeyHolder::own(&party, &log_key, &witness_key)];
        let mut peers = BTreeMap::new();
        for p in files {
            let t = std::fs::read_to_string(&p).map_err(io("reading a peer"))?;
            let id: PartyIdentity =
                serde_json::from_str(&t).map_err(|source| Corrupt::PeerFile {
                    path: p.clone(),
                    source,
                })?;
            let refused = |e: NodeError| {
                reword(e, |why| {
                    format!(
                        "{}: {why}; this node does not start with it: remove the file, or pin the party again from its own `hotline keys export`",
                        p.display()
                    )
                })
            };
            if p.file_stem().and_then(|s| s.to_str()) != Some(id.party.as_str()) {
                return Err(refused(NodeError::BadInput(format!(
                    "it holds the keys of party {}, and a peer file is named after its party ({}.json)",
                    id.party, id.party
                ))));
            }
            check_identity(&id, &party).map_err(refused)?;
            crate::federation::addresses::check_urls(&id.addresses())
                .map_err(|e| refused(NodeError::BadInput(e)))?;
            check_distinct(&id, &holders).map_err(refused)?;
            holders.push(KeyHolder::pinned(&id)?);
            peers.insert(id.party.clone(), id);
        }
        let log = opened.own_log()?;
        let (store, lock) = (opened.store, opened.lock);
        let offices = OwnOffices::load(dir, &*store, log)?;
        let metrics = Arc::new(Metrics::new());
        let (size_tx, sizes) = tokio::sync::watch::channel(store.size(log)?);
        let seq = Sequencer::standby(
            store.clone(),
            log,
            party.clone(),
            log_key.clone(),
            offices.clone(),
            metrics.clone(),
            size_tx,
            config.max_clock_skew_secs,
        );
        let ttl = std::time::Duration::from_secs_f64(
            config
                .store
                .lease_secs
                .unwrap_or(crate::replica::DEFAULT_LEASE_SECS)
                .clamp(0.3, 3600.0),
        );
        let replica = Arc::new(crate::replica::Replica::new(
            store.clone(),
            seq.clone(),
            config.store.replica.as_deref(),
            ttl,
        ));
        // A replica that finds the lease held by another writes nothing
        // now: it forwards once `serve` learns where the holder is.
        replica.try_lead("")?;
        let tls = if dir.tls_key().exists() {
            TlsIdentity::load(&dir.tls_key(), &dir.tls_cert())
        } else {
            TlsIdentity::generate(party.as_str())
                .and_then(|t| t.save(&dir.tls_key(), &dir.tls_cert()).map(|()| t))
        }
        .map_err(NodeError::Tls)?;
        let pins = PinSet::new();
        if store.shared() {
            // Replicas share this directory's TLS key: the holder takes
            // forwarded drafts from a client presenting it.
            pins.insert(tls.pin().to_owned(), party.to_string());
        }
        let fed = Arc::new(Federation::default());
        for id in peers.values() {
            fed.insert(Arc::new(peer_record(
                &*store,
                &tls,
                &pins,
                id.clone(),
                None,
            )?));
        }
        let link = Link {
            reads: Holdings {
                store: store.clone(),
                own: log,
                origin: config.origin.clone(),
                party: party.clone(),
                log_key: log_key.verifier(),
                sizes,
                peers: fed.clone(),
                offices: offices.clone(),
                folded: Arc::default(),
            },
            appends: Appender { seq: seq.clone() },
            signs: Signers {
                log: log_key.clone(),
                witness: witness_key.clone(),
                party: party.clone(),
                offices: offices.clone(),
            },
            tells: Notices {
                metrics: metrics.clone(),
                mirrored: tokio::sync::watch::Sender::new(0),
                signals: tokio::sync::broadcast::Sender::new(256),
            },
            settings: Settings {
                cosign_interval_secs: config.cosign_interval_secs,
                push_gap: std::time::Duration::from_millis(config.federation.push_gap_ms),
                cosign_gap: std::time::Duration::from_millis(config.federation.cosign_gap_ms),
                max_clock_skew_secs: config.max_clock_skew_secs,
                max_receipts_per_window: config.limits.max_receipts_per_window,
                receipt_window_secs: config.limits.receipt_window_secs,
            },
        };
        let witnesses = Arc::new(crate::witnesses::Witnesses::default());
        for (i, c) in config.witnesses.iter().enumerate() {
            let key = crate::witnesses::check_entry(c).map_err(|why| {
                NodeError::BadInput(format!(
                    "{} [[witnesses]] entry {}: {why}; fix it, or remove it with `hotline witness remove`",
                    dir.config().display(),
                    i + 1
                ))
            })?;
            let last = store.last_cosignature(log, key.name())?;
            witnesses
                .insert(Arc::new(crate::witnesses::External::new(&c.url, key, last)))
                .map_err(NodeError::BadInput)?;
        }
        let reader = LogReader {
            store,
            log,
            origin: config.origin.clone(),
        };
        Ok(Self {
            inner: Arc::new(Inner {
                dir: dir.clone(),
                config,
                party,
                log_key,
                witness_key,
                offices,
                peers: RwLock::new(peers),
                reader,
                seq,
                replica,
                metrics,
                tls,
                pins,
                fed,
                witnesses,
                link,
                running: Mutex::new(None),
                served_api: Mutex::new(None),
                peer_listener: tokio::sync::watch::Sender::new(true),
                acts: tokio::sync::Mutex::new(()),
                _lock: lock,
            }),
        })
    }

    /// The node directory.
    pub fn dir(&self) -> &NodeDir {
        &self.inner.dir
    }
    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }
    /// This party.
    pub fn party(&self) -> &Party {
        &self.inner.party
    }
    /// Read access to the own log.
    pub fn reader(&self) -> &LogReader {
        &self.inner.reader
    }
    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }
    /// The sequencer (benchmarks drive it through [`crate::bench`]).
    pub(crate) fn sequencer(&self) -> &Sequencer {
        &self.inner.seq
    }
    /// This process's side of the sequencer lease (replicas on a shared database).
    pub fn replica(&self) -> &Arc<crate::replica::Replica> {
        &self.inner.replica
    }
    /// The log verifier key.
    pub fn log_vkey(&self) -> NoteVerifier {
        self.inner.log_key.verifier()
    }
    /// The cosigner verifier key.
    pub fn witness_vkey(&self) -> NoteVerifier {
        self.inner.witness_key.verifier()
    }

    /// This party's public identity, for `hotline keys export`.
    pub fn identity(&self) -> PartyIdentity {
        PartyIdentity {
            party: self.inner.party.clone(),
            log_key: self.log_vkey().to_vkey(),
            witness_key: self.witness_vkey().to_vkey(),
            offices: self
                .inner
                .offices
                .current()
                .iter()
                .map(|k| k.public())
                .collect(),
            url: None,
            urls: vec![],
            tls_pin: Some(self.inner.tls.pin().to_string()),
        }
    }

    /// The offices this node can sign for (held and not revoked).
    pub fn offices(&self) -> Vec<Office> {
        self.inner
            .offices
            .current()
            .iter()
            .map(|k| k.office().clone())
            .collect()
    }

    fn office_keys(&self, office: &Office) -> Result<Arc<OfficeKeys>> {
        if office.party() != self.inner.party {
            return Err(NodeError::BadInput(format!(
                "{office} is not an office of this party ({}); entries are written by your own offices",
                self.inner.party
            )));
        }
        match self.inner.offices.signing(office, None) {
            Signing::Key(k) => Ok(k),
            Signing::Revoked(at) => Err(NodeError::Forbidden(format!(
                "{office} was revoked in entry {at} of this log; it can no longer send or receive (its retired keys only open earlier sealed bodies)"
            ))),
            Signing::NotHeld(at) => Err(NodeError::Internal(format!(
                "this node holds no secret key for the key of {office} that entry {at} announced; restore keys/offices/{}.json from a backup",
                office.file_stem()
            ))),
            Signing::Unknown => Err(NodeError::NotFound(format!(
                "unknown office {office}: create it with `hotline office add {office} --dir {}`",
                self.inner.dir.root().display()
            ))),
        }
    }

    /// An own office's keys, or an error saying how to create it.
    pub fn office_keys_pub(&self, office: &Office) -> Result<Arc<OfficeKeys>> {
        self.office_keys(office)
    }

    /// The sealing key of any office this node knows: its own, or a pinned
    /// peer's as the verified mirror of that peer's log last announced or
    /// rotated it. The pinned keys-export file's list of offices is used only
    /// for an office the mirror holds no `key` entry for yet (it is out-of-band
    /// material the operator vouched for, but may be stale); a revocation in
    /// the mirror always wins.
    pub fn seal_key_pub(&self, office: &Office) -> Result<hotline_proto::keys::SealPublic> {
        self.seal_key_of(office)
    }

    fn seal_key_of(&self, office: &Office) -> Result<hotline_proto::keys::SealPublic> {
        let public = if office.party() == self.inner.party {
            self.office_keys(office)?.public()
        } else {
            let party = office.party();
            let unknown = || {
                NodeError::NotFound(format!(
                    "unknown party {party}: pin it first with `hotline peer add {party} --keys FILE --dir {}`",
                    self.inner.dir.root().display()
                ))
            };
            let peer = self.inner.fed.peer(&party).ok_or_else(unknown)?;
            let learnt = peer.learnt_keys(|k| k.latest(office).cloned());
            match learnt {
                Some(k) if k.action == KeyAction::Revoke => {
                    return Err(revoked_peer_office(office, k.index));
                }
                Some(k) => k.keys,
                None => {
                    let peers = self
                        .inner
                        .peers
                        .read()
                        .map_err(|_| NodeError::Internal("peer table poisoned".into()))?;
                    let id = peers.get(&party).ok_or_else(unknown)?;
                    id.offices.iter().find(|o| &o.office == office).cloned().ok_or_else(|| {
                        NodeError::NotFound(format!(
                            "unknown office {office}: this node's verified mirror of {party}'s log holds no `key` entry announcing it; check the name, or wait until {party}'s node has pushed it (`hotline log --peer {party}`)"
                        ))
                    })?
                }
            }
        };
        Ok(public.seal_key().map_err(Corrupt::Key)?)
    }

    /// The entry of `office`'s own log that revoked it, if it was revoked:
    /// this party's log for its own offices, the verified mirror for a
    /// peer's.
    pub fn office_revoked(&self, office: &Office) -> Option<u64> {
        self.inner.link.reads.office_revoked(office)
    }

    /// Refuses traffic to or from an office its log revoked.
    pub fn require_live(&self, office: &Office) -> Result<()> {
        match self.office_revoked(office) {
            None => Ok(()),
            Some(at) if office.party() == self.inner.party => Err(NodeError::Forbidden(format!(
                "{office} was revoked in entry {at} of this log; it can no longer send or receive"
            ))),
            Some(at) => Err(revoked_peer_office(office, at)),
        }
    }

    /// Every secret key this node holds that may open a body sealed to
    /// `office`: its current key first, then keys rotated away or revoked.
    pub fn openers(&self, office: &Office) -> Vec<Arc<OfficeKeys>> {
        self.inner.offices.openers(office)
    }

    fn own_office(&self, office: &Office) -> Result<()> {
        if office.party() != self.inner.party {
            return Err(NodeError::BadInput(format!(
                "{office} does not belong to this party ({}); offices are named {}/NAME",
                self.inner.party, self.inner.party
            )));
        }
        Ok(())
    }

    fn key_draft(&self, action: KeyAction, keys: hotline_proto::keys::OfficePublic) -> Draft {
        let mut d = Draft::new(Kind::Key, self.party_signer());
        d.key = Some(KeyAnnouncement { action, keys });
        d
    }

    /// Appends the `key` entry (`action`) of new office keys `keys`, written
    /// to `path`. They are held from before the append, so that entries
    /// after it are signed with them; if the append fails they are let go
    /// and `path` removed, as if they were never made.
    async fn announce(
        &self,
        action: KeyAction,
        keys: &Arc<OfficeKeys>,
        path: &std::path::Path,
    ) -> Result<Appended> {
        self.inner.offices.hold(keys.clone());
        self.inner
            .seq
            .append(self.key_draft(action, keys.public()))
            .await
            .map_err(|e| {
                self.inner.offices.unhold(keys);
                let _ = std::fs::remove_file(path);
                NodeError::from(e)
            })
    }

    /// Creates an office: keys on disk (0600), then a `key` entry announcing them.
    pub async fn add_office(&self, office: Office) -> Result<Appended> {
        self.own_office(&office)?;
        let _one = self.act().await;
        if let Some(at) = self.inner.offices.revoked(&office) {
            return Err(NodeError::Conflict(format!(
                "office {office} was revoked in entry {at} of this log; a revoked office stays revoked (create one under another name)"
            )));
        }
        if self.inner.offices.known(&office) {
            return Err(NodeError::Conflict(format!(
                "office {office} already exists"
            )));
        }
        let keys = Arc::new(OfficeKeys::generate(office.clone(), &mut os_rng()));
        let path = current_path(&self.inner.dir, &office);
        write_secret(&path, &keys.to_secret_json()).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                NodeError::Conflict(format!("office {office} already exists"))
            } else {
                OfficeError::Write {
                    what: "writing the office key",
                    source: e,
                }
                .into()
            }
        })?;
        self.announce(KeyAction::Announce, &keys, &path).await
    }

    /// Gives an office new keys: the old secret keys go to
    /// `keys/offices/retired/` (so bodies sealed to them still open), the new
    /// ones are announced in a `key` entry (action `rotate`), and every entry
    /// the office writes after it is signed with them. Peers learn the new
    /// keys from their mirror of this log and seal to them from then on.
    pub async fn rotate_office(&self, office: Office) -> Result<Appended> {
        self.own_office(&office)?;
        let _one = self.act().await;
        let old = self.office_keys(&office).map_err(|e| match e {
            NodeError::Forbidden(m) => NodeError::Conflict(format!(
                "{m}; a revoked office cannot be rotated (create one under another name)"
            )),
            other => other,
        })?;
        let dir = &self.inner.dir;
        keep_retired(dir, &old)?;
        let new = Arc::new(OfficeKeys::generate(office.clone(), &mut os_rng()));
        let pending = pending_path(dir, &office);
        let _ = std::fs::remove_file(&pending);
        write_secret(&pending, &new.to_secret_json()).map_err(|source| OfficeError::Write {
            what: "writing the new office key",
            source,
        })?;
        let a = self.announce(KeyAction::Rotate, &new, &pending).await?;
        // The log names the new key now; a crash before this rename is
        // finished at the next start (`OwnOffices::load`).
        std::fs::rename(&pending, current_path(dir, &office)).map_err(|source| {
            OfficeError::Install {
                index: a.index,
                source,
            }
        })?;
        Ok(a)
    }

    /// Revokes an office: a `key` entry (action `revoke`) after which the
    /// office can no longer sign, and nothing can be sent to it. Its secret
    /// keys move to `keys/offices/retired/`, kept to open earlier bodies.
    pub async fn revoke_office(&self, office: Office) -> Result<Appended> {
        self.own_office(&office)?;
        let _one = self.act().await;
        let current = self.office_keys(&office).map_err(|e| match e {
            NodeError::Forbidden(m) => NodeError::Conflict(m),
            other => other,
        })?;
        let dir = &self.inner.dir;
        keep_retired(dir, &current)?;
        // No receipt may be in flight for this office while it is revoked:
        // one drafted before and appended after would be refused, and the
        // receipt cursor would pass over its entry.
        let peers = self.inner.fed.all();
        let mut rounds = Vec::with_capacity(peers.len());
        for p in &peers {
            rounds.push(p.receipt_lock.lock().await);
        }
        let a = self
            .inner
            .seq
            .append(self.key_draft(KeyAction::Revoke, current.public()))
            .await?;
        drop(rounds);
        if let Err(e) = std::fs::remove_file(current_path(dir, &office))
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(error = %e, %office, "the revoked office's key file stays until the next start");
        }
        Ok(a)
    }

    /// Pins another party's public identity.
    pub fn add_peer(&self, id: PartyIdentity) -> Result<()> {
        check_identity(&id, &self.inner.party)?;
        let path = self.inner.dir.peers().join(format!("{}.json", id.party));
        let mut peers = self
            .inner
            .peers
            .write()
            .map_err(|_| NodeError::Internal("peer table poisoned".into()))?;
        // Against this node and every other pinned party (a re-pin of the
        // same party is checked against the others only).
        let mut holders = vec![KeyHolder::own(
            &self.inner.party,
            &self.inner.log_key,
            &self.inner.witness_key,
        )];
        for other in peers.values().filter(|o| o.party != id.party) {
            holders.push(KeyHolder::pinned(other)?);
        }
        check_distinct(&id, &holders)
            .map_err(|e| reword(e, |why| format!("refusing to pin {}: {why}", id.party)))?;
        if let Some(old) = peers.get(&id.party)
            && (old.log_key != id.log_key || old.witness_key != id.witness_key)
        {
            return Err(NodeError::Conflict(format!(
                "party {} is already pinned with different keys; if the change is genuine, remove peers/{}.json and add it again",
                id.party, id.party
            )));
        }
        let text = serde_json::to_string_pretty(&id)?;
        // A re-pin with a new TLS key: the old key stops being accepted.
        if let Some(old_pin) = peers.get(&id.party).and_then(|o| o.tls_pin.clone())
            && id.tls_pin.as_ref() != Some(&old_pin)
        {
            self.inner.pins.remove(&old_pin);
        }
        if let Some(pin) = &id.tls_pin {
            crate::tls::check_pin(pin).map_err(|e| NodeError::BadInput(format!("tls_pin: {e}")))?;
        }
        let previous = self.inner.fed.peer(&id.party);
        let record = Arc::new(peer_record(
            &*self.inner.reader.store,
            &self.inner.tls,
            &self.inner.pins,
            id.clone(),
            previous.as_deref(),
        )?);
        write_atomic(&path, text.as_bytes()).map_err(io("writing the peer file"))?;
        peers.insert(id.party.clone(), id);
        drop(peers);
        self.inner.fed.insert(record.clone());
        if let Some(shutdown) = self.inner.running.lock().ok().and_then(|r| r.clone()) {
            crate::federation::start_peer(&self.inner.link, record, shutdown);
        }
        Ok(())
    }

    /// Holds off other check-then-write actions until the guard drops.
    pub async fn act(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.inner.acts.lock().await
    }

    /// The open/closed switch of the peer listener.
    pub fn peer_listener(&self) -> &tokio::sync::watch::Sender<bool> {
        &self.inner.peer_listener
    }

    /// Read access to the mirror of a pinned peer's log.
    pub fn mirror_reader(&self, party: &Party) -> Result<LogReader> {
        let peer = self
            .inner
            .fed
            .peer(party)
            .ok_or_else(|| NodeError::NotFound(format!("{party} is not a pinned peer")))?;
        Ok(LogReader {
            store: self.inner.reader.store.clone(),
            log: peer.mirror,
            origin: peer.log_key.name().to_owned(),
        })
    }

    /// The federation: pinned peers and their links.
    pub fn federation(&self) -> &Federation {
        &self.inner.fed
    }
    /// The store (benchmarks and the demo reach it through [`crate::bench`]).
    pub(crate) fn store(&self) -> &Arc<dyn Store> {
        &self.inner.reader.store
    }
    /// The own log.
    pub fn log_id(&self) -> LogId {
        self.inner.reader.log
    }
    /// The handles federation runs on (see [`crate::federation::link`]).
    pub(crate) fn link(&self) -> &Link {
        &self.inner.link
    }
    /// The party as a signer (for `key` entries and receipts to unknown offices).
    pub(crate) fn party_signer(&self) -> Signer {
        self.inner.link.signs.party_signer()
    }
    /// An own office's current signer, if this node holds its keys and the
    /// office is not revoked.
    pub(crate) fn office_signer(&self, office: &Office) -> Option<Arc<OfficeKeys>> {
        self.inner.link.signs.office(office)
    }
    /// Watches the own log's size.
    pub fn size_watch(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.link.reads.sizes.clone()
    }
    /// Watches arrivals in the mirrors (a counter that only moves forward).
    pub fn mirrored_watch(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.link.tells.mirrored.subscribe()
    }
    /// Call signals arriving from peers (see [`crate::federation::signal`]).
    pub fn signals(&self) -> &tokio::sync::broadcast::Sender<crate::federation::signal::Signal> {
        &self.inner.link.tells.signals
    }
    /// Turns true when `serve` is stopping (`None` before it starts): long
    /// responses such as event streams end on it so shutdown is not held up.
    pub fn stopping(&self) -> Option<tokio::sync::watch::Receiver<bool>> {
        self.inner.running.lock().ok().and_then(|r| r.clone())
    }
    /// Records how the API address is served (see [`Node::served_api`]).
    pub fn set_served_api(&self, about: serde_json::Value) {
        if let Ok(mut a) = self.inner.served_api.lock() {
            *a = Some(about);
        }
    }
    /// How the API address is served, once `serve` runs: `scheme`,
    /// `address`, and for HTTPS the certificate's `fingerprint_sha256` and
    /// `spki_sha256`.
    pub fn served_api(&self) -> Option<serde_json::Value> {
        self.inner.served_api.lock().ok().and_then(|a| a.clone())
    }
    /// The TLS identity of the peer link.
    pub fn tls(&self) -> &TlsIdentity {
        &self.inner.tls
    }
    /// The pins of the peers accepted on the peer link.
    pub fn pins(&self) -> &PinSet {
        &self.inner.pins
    }
    /// Starts pushing, cosigning and receipting with every peer until `shutdown` turns true.
    pub fn start_federation(&self, shutdown: tokio::sync::watch::Receiver<bool>) {
        if let Ok(mut r) = self.inner.running.lock() {
            *r = Some(shutdown.clone());
        }
        for peer in self.inner.fed.all() {
            crate::federation::start_peer(&self.inner.link, peer, shutdown.clone());
        }
        for w in self.inner.witnesses.all() {
            self.start_witness(w, shutdown.clone());
        }
    }

    fn start_witness(
        &self,
        w: Arc<crate::witnesses::External>,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        match self
            .store()
            .last_cosignature(self.inner.link.reads.own, &w.name)
        {
            Ok(last) => w.reload(last),
            Err(e) => tracing::warn!(error = %e, witness = %w.name, "reading its last cosignature"),
        }
        let every = std::time::Duration::from_secs(self.inner.config.cosign_interval_secs.max(1));
        tokio::spawn(crate::witnesses::submit::run(
            self.inner.link.clone(),
            self.inner.witnesses.clone(),
            w,
            every,
            self.inner.metrics.clone(),
            shutdown,
        ));
    }

    /// The C2SP witnesses and their status.
    pub fn witnesses(&self) -> &Arc<crate::witnesses::Witnesses> {
        &self.inner.witnesses
    }

    /// Adds a C2SP witness: checked, written to `hotline.toml` (in place),
    /// and asked at once if the node is serving (on the lease holder).
    pub fn add_witness(
        &self,
        c: crate::dir::WitnessConfig,
    ) -> Result<crate::witnesses::WitnessStatus> {
        let key = crate::witnesses::check_entry(&c).map_err(NodeError::BadInput)?;
        let last = self
            .store()
            .last_cosignature(self.inner.link.reads.own, key.name())?;
        let w = Arc::new(crate::witnesses::External::new(&c.url, key, last));
        self.inner
            .witnesses
            .insert(w.clone())
            .map_err(NodeError::Conflict)?;
        let entry = crate::dir::WitnessConfig {
            url: w.url.clone(),
            key: w.key.to_vkey(),
        };
        if let Err(why) = crate::witnesses::config_file::add(&self.inner.dir.config(), &entry) {
            self.inner.witnesses.remove(&w.name);
            return Err(NodeError::Internal(format!(
                "{why}; the witness was not added"
            )));
        }
        let running = self.inner.running.lock().ok().and_then(|r| r.clone());
        if let Some(stop) = running {
            self.start_witness(w.clone(), stop);
        }
        Ok(w.status())
    }

    /// Removes a C2SP witness by key name or URL, from `hotline.toml` too.
    /// Its cosignatures already merged into checkpoints stay.
    pub fn remove_witness(&self, which: &str) -> Result<()> {
        let gone = self.inner.witnesses.remove(which);
        let name_of = |k: &str| NoteVerifier::from_vkey(k).ok().map(|v| v.name().to_owned());
        let edited =
            crate::witnesses::config_file::remove(&self.inner.dir.config(), which, name_of)
                .map_err(NodeError::Internal)?;
        if gone.is_none() && edited == 0 {
            return Err(NodeError::NotFound(format!(
                "no witness named or at {which}; `hotline witness list` shows them"
            )));
        }
        Ok(())
    }

    /// Reads afresh what this process keeps in memory of logs another
    /// replica may have moved: the office keys each peer's mirror and the
    /// own log announced, and the mirrors' indexes (loaded again at the
    /// next push). A replica taking the lease does this before it federates.
    pub fn reread_logs(&self) -> Result<()> {
        let store = &**self.store();
        for peer in self.inner.fed.all() {
            peer.set_learnt_keys(crate::federation::mirror::load_keys(store, peer.mirror)?);
            *peer.index.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
        let own = self.inner.link.reads.own;
        self.inner
            .offices
            .set_key_log(crate::federation::mirror::load_keys(store, own)?);
        Ok(())
    }

    /// Forgets the federation loops' stop signal (a replica that stepped
    /// down): peers added now start no loops here.
    pub fn stop_federation(&self) {
        if let Ok(mut r) = self.inner.running.lock() {
            *r = None;
        }
    }

    /// Seals and appends a `message` entry; resolves once it is durable.
    pub async fn send_message(
        &self,
        from: &Office,
        to: &Office,
        content: Content,
        time: Option<Timestamp>,
    ) -> Result<Appended> {
        let (node, from2, to2) = (self.clone(), from.clone(), to.clone());
        let prepared = tokio::task::spawn_blocking(move || {
            node.prepare_message(&from2, &to2, &content, time, |_| {
                Ok::<_, std::convert::Infallible>(())
            })
        })
        .await??;
        match prepared {
            Ok(p) => self.append_prepared(p).await,
            Err(never) => match never {},
        }
    }

    /// A `message` entry from `from` to `to`, sealed and under the agreement
    /// in force, ready for [`Node::append_prepared`]; with `check` run on
    /// the content on another thread while it is sealed, so that a check as
    /// long as the sealing (the STIX validator on a TAXII POST) costs the
    /// caller no time of its own. `Ok(Err(_))` when the check fails.
    ///
    /// Blocking: it seals. It takes the content by reference, so a caller
    /// can hold the bundle in a tree borrowed from the request's bytes.
    pub fn prepare_message<S: Json + Sync, E: Send>(
        &self,
        from: &Office,
        to: &Office,
        content: &ContentOf<S>,
        time: Option<Timestamp>,
        check: impl FnOnce(&ContentOf<S>) -> std::result::Result<(), E> + Send,
    ) -> Result<std::result::Result<PreparedMessage, E>> {
        let limit = self.inner.config.limits.max_text_bytes;
        if content.text.len() > limit {
            return Err(NodeError::TooLarge(format!(
                "text is {} bytes; the limit is {limit} bytes (split it, or raise limits.max_text_bytes in hotline.toml)",
                content.text.len()
            )));
        }
        if content.text.is_empty() {
            return Err(NodeError::BadInput("text is empty; say something".into()));
        }
        if let Some(lang) = &content.lang
            && !valid_lang(lang)
        {
            return Err(NodeError::BadInput(format!(
                "lang {lang:?} is not a language tag (BCP 47, e.g. en, ru, pt-BR)"
            )));
        }
        let keys = self.office_keys(from)?;
        let to_key = self.seal_key_of(to)?;
        let own_key = keys.public().seal_key().map_err(Corrupt::Key)?;
        let at = time.unwrap_or_else(crate::clock::now);
        // The policy and the caller's check beside the sealing: each about
        // as long as the other on a large content.
        let (checks, sealed) = std::thread::scope(|s| {
            let checks = s.spawn(|| {
                let agreement = self.require_agreement(from, to, Kind::Message, at);
                (agreement, check(content))
            });
            let sealed = seal::seal(
                &content.to_bytes(),
                &[(to, &to_key), (from, &own_key)],
                &mut os_rng(),
            )
            .map(SealedBody::from);
            let checks = checks
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            (checks, sealed)
        });
        let (agreement, checked) = checks;
        // No agreement outranks the caller's check, as when it came first.
        // Which agreement the entry names is asked at its append.
        agreement?;
        if let Err(e) = checked {
            return Ok(Err(e));
        }
        Ok(Ok(PreparedMessage {
            from: from.clone(),
            to: to.clone(),
            draft: Draft {
                kind: Kind::Message,
                signer: Signer::Office(keys),
                to: Some(to.clone()),
                agreement: None,
                refs: vec![],
                body: Some(sealed?),
                key: None,
                status: None,
                terms: None,
                time,
                digest: None,
            },
        }))
    }

    /// Appends a message [`Node::prepare_message`] made; resolves once it
    /// is durable. The policy is asked again, as of now: a message kept
    /// while its agreement ended, or an office was revoked, is refused and
    /// not appended, and the entry names the agreement in force then.
    /// (From the cache, this costs next to nothing.)
    pub async fn append_prepared(&self, message: PreparedMessage) -> Result<Appended> {
        let PreparedMessage {
            mut draft,
            from,
            to,
        } = message;
        let at = draft.time.unwrap_or_else(crate::clock::now);
        draft.agreement = self.require_agreement(&from, &to, Kind::Message, at)?;
        Ok(self.inner.seq.append(draft).await?)
    }
}

fn revoked_peer_office(office: &Office, at: u64) -> NodeError {
    NodeError::Forbidden(format!(
        "{office} was revoked in entry {at} of {}'s log (as this node's verified mirror shows); nothing can be sent to it any more",
        office.party()
    ))
}

/// A plausible BCP 47 tag: alphanumeric subtags of 1-8 characters joined by `-`.
pub(crate) fn valid_lang(tag: &str) -> bool {
    tag.len() <= 35
        && tag
            .split('-')
            .all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
        && tag.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
}

/// Builds the federation record of a pinned peer: its mirror, its pin, its client.
fn peer_record(
    store: &dyn Store,
    tls: &TlsIdentity,
    pins: &PinSet,
    id: PartyIdentity,
    replaces: Option<&Peer>,
) -> Result<Peer> {
    let log = NoteVerifier::from_vkey(&id.log_key).map_err(InputError::Key)?;
    let urls = id.addresses();
    crate::federation::addresses::check_urls(&urls)
        .map_err(|e| NodeError::BadInput(format!("peer {}: {e}", id.party)))?;
    let mirror = store.log_id(log.name(), id.party.as_str())?;
    if let Some(pin) = &id.tls_pin {
        pins.insert(pin.clone(), id.party.to_string());
    }
    let client = match (urls.is_empty(), &id.tls_pin) {
        (false, Some(pin)) => {
            let config = client_config(tls, pin)
                .map_err(|e| NodeError::BadInput(format!("peer {}: {e}", id.party)))?;
            Some(
                crate::federation::addresses::Addresses::new(
                    id.party.clone(),
                    &urls,
                    config,
                    std::time::Duration::from_secs(30),
                )
                .map_err(|e| NodeError::BadInput(format!("peer {}: {e}", id.party)))?,
            )
        }
        _ => None,
    };
    let peer = Peer::new(id, mirror, client, replaces).map_err(InputError::Peer)?;
    if replaces.is_none() {
        let keys = crate::federation::mirror::load_keys(store, mirror)?;
        peer.set_learnt_keys(keys);
    }
    Ok(peer)
}

/// Refuses to open a party whose own keys are not named after its log: a
/// cosigner key named like another party's witness would have its
/// cosignatures reported as that party's.
fn check_own_keys(
    dir: &NodeDir,
    config: &Config,
    party: &Party,
    log_key: &NoteKey,
    witness_key: &NoteKey,
) -> Result<()> {
    let toml = dir.config();
    if hotline_proto::bundle::origin_party(&config.origin) != party.as_str() {
        return Err(NodeError::BadInput(format!(
            "{} says origin = {:?}, which is not a log of party {party} (an origin ends with /{party}); restore it",
            toml.display(),
            config.origin
        )));
    }
    let restore = "restore the key this party was created with";
    if log_key.alg() != ALG_ED25519 {
        return Err(NodeError::BadInput(format!(
            "{} holds a key of type 0x{:02x}, but a log key is an Ed25519 note key (type 0x01); {restore}",
            dir.log_key().display(),
            log_key.alg()
        )));
    }
    if log_key.name() != config.origin {
        return Err(NodeError::BadInput(format!(
            "{} holds a log key named {}, but {} says origin = {:?}: a log key is named after its log; {restore}",
            dir.log_key().display(),
            log_key.name(),
            toml.display(),
            config.origin
        )));
    }
    let want = hotline_proto::claims::witness_of(&config.origin);
    if config.witness_name != want {
        return Err(NodeError::BadInput(format!(
            "{} says witness_name = {:?}, but a party's witness key is named after its own log: {want}; restore it (cosignatures under another name would be reported as another witness's)",
            toml.display(),
            config.witness_name
        )));
    }
    if witness_key.alg() != ALG_COSIGNATURE_V1 {
        return Err(NodeError::BadInput(format!(
            "{} holds a key of type 0x{:02x}, but a witness key is a cosigner key (type 0x04, C2SP tlog-cosignature); {restore}",
            dir.witness_key().display(),
            witness_key.alg()
        )));
    }
    if witness_key.name() != want {
        return Err(NodeError::BadInput(format!(
            "{} holds a cosigner key named {}, but a party's witness key is named after its own log: {want}; {restore}",
            dir.witness_key().display(),
            witness_key.name()
        )));
    }
    Ok(())
}

/// A party whose keys this node knows: itself, or a pinned party.
struct KeyHolder {
    party: String,
    /// Where this node holds it: "this node's own", "pinned in peers/us.json".
    whose: String,
    origin: String,
    log: [u8; 32],
    witness_name: String,
    witness: [u8; 32],
}

impl KeyHolder {
    fn own(party: &Party, log: &NoteKey, witness: &NoteKey) -> Self {
        Self {
            party: party.to_string(),
            whose: "this node's own".into(),
            origin: log.name().to_owned(),
            log: log.verifier().public_key().to_bytes(),
            witness_name: witness.name().to_owned(),
            witness: witness.verifier().public_key().to_bytes(),
        }
    }

    fn pinned(id: &PartyIdentity) -> Result<Self> {
        let parse = |k: &str| {
            NoteVerifier::from_vkey(k).map_err(|source| {
                NodeError::from(Corrupt::PinnedKeys {
                    party: id.party.to_string(),
                    source,
                })
            })
        };
        let (log, witness) = (parse(&id.log_key)?, parse(&id.witness_key)?);
        Ok(Self {
            party: id.party.to_string(),
            whose: format!("pinned in peers/{}.json", id.party),
            origin: log.name().to_owned(),
            log: log.public_key().to_bytes(),
            witness_name: witness.name().to_owned(),
            witness: witness.public_key().to_bytes(),
        })
    }
}

/// Refuses an identity (already well-formed, see [`check_identity`]) whose
/// witness is not named after its own log, or that reuses a log name, a
/// witness name or a key (in either role) that `holders` hold: one key, one
/// party, so that no signature or cosignature can be read as another's.
fn check_distinct(id: &PartyIdentity, holders: &[KeyHolder]) -> Result<()> {
    let parse =
        |k: &str| NoteVerifier::from_vkey(k).map_err(|e| NodeError::BadInput(e.to_string()));
    let (log, witness) = (parse(&id.log_key)?, parse(&id.witness_key)?);
    let want = hotline_proto::claims::witness_of(log.name());
    if witness.name() != want {
        let taken = holders.iter().find(|h| h.witness_name == witness.name());
        return Err(match taken {
            Some(h) => NodeError::Conflict(format!(
                "its witness key is named {}, the name of {}'s witness ({}); a party's witness key is named after its own log: {want}",
                witness.name(),
                h.party,
                h.whose
            )),
            None => NodeError::BadInput(format!(
                "its witness key is named {}; a party's witness key is named after its own log: {want} (ask {} for the file its own `hotline keys export` writes)",
                witness.name(),
                id.party
            )),
        });
    }
    for h in holders {
        if h.origin == log.name() {
            return Err(NodeError::Conflict(format!(
                "its log {} is {}'s log ({}); one log belongs to one party",
                log.name(),
                h.party,
                h.whose
            )));
        }
        for (role, key) in [
            ("log", log.public_key().as_bytes()),
            ("witness", witness.public_key().as_bytes()),
        ] {
            for (theirs, held) in [("log", &h.log), ("witness", &h.witness)] {
                if key == held {
                    return Err(NodeError::Conflict(format!(
                        "its {role} key is {}'s {theirs} key ({}); one key belongs to one party (ask {} for its own keys)",
                        h.party, h.whose, id.party
                    )));
                }
            }
        }
    }
    Ok(())
}

/// The same refusal with its message rewritten (to say where it came from).
/// The node's own failures are passed on as they are: their words say what
/// failed, and their sources stay theirs.
fn reword(e: NodeError, f: impl FnOnce(&str) -> String) -> NodeError {
    match e {
        NodeError::BadInput(m) => NodeError::BadInput(f(&m)),
        NodeError::NotFound(m) => NodeError::NotFound(f(&m)),
        NodeError::Forbidden(m) => NodeError::Forbidden(f(&m)),
        NodeError::Conflict(m) => NodeError::Conflict(f(&m)),
        NodeError::TooLarge(m) => NodeError::TooLarge(f(&m)),
        NodeError::Busy(m) => NodeError::Busy(f(&m)),
        NodeError::Internal(m) => NodeError::Internal(f(&m)),
        other => other,
    }
}

/// Checks that an identity file is well-formed and not our own.
pub fn check_identity(id: &PartyIdentity, own: &Party) -> Result<()> {
    if &id.party == own {
        return Err(NodeError::BadInput(format!(
            "{} is this party; import the other party's keys",
            id.party
        )));
    }
    let log = NoteVerifier::from_vkey(&id.log_key)
        .map_err(|e| NodeError::BadInput(format!("log_key: {e}")))?;
    let wit = NoteVerifier::from_vkey(&id.witness_key)
        .map_err(|e| NodeError::BadInput(format!("witness_key: {e}")))?;
    if log.alg() != ALG_ED25519 || wit.alg() != ALG_COSIGNATURE_V1 {
        return Err(NodeError::BadInput(
            "log_key must be type 0x01 and witness_key type 0x04".into(),
        ));
    }
    if hotline_proto::bundle::origin_party(log.name()) != id.party.as_str() {
        return Err(NodeError::BadInput(format!(
            "log key {} is not a log of party {}",
            log.name(),
            id.party
        )));
    }
    for o in &id.offices {
        if o.office.party() != id.party {
            return Err(NodeError::BadInput(format!(
                "office {} does not belong to party {}",
                o.office, id.party
            )));
        }
        o.verifying_key()
            .map_err(|e| NodeError::BadInput(e.to_string()))?;
        o.seal_key()
            .map_err(|e| NodeError::BadInput(e.to_string()))?;
    }
    Ok(())
}

/// A node of party `us` in a fresh directory, for the crate's unit tests
/// (the directory lives as long as the guard).
#[cfg(test)]
pub(crate) fn fresh_us() -> (tempfile::TempDir, Node) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = NodeDir::new(tmp.path().join("us"));
    Node::init(
        &dir,
        InitOptions::local(Party::new("us").unwrap(), Default::default()),
    )
    .unwrap();
    let node = Node::open(&dir).unwrap();
    (tmp, node)
}

#[cfg(test)]
mod tests {
    use hotline_proto::entry::Content;
    use hotline_proto::party::Office;

    #[tokio::test]
    async fn a_prepared_message_is_refused_when_its_office_is_revoked_before_it_is_appended() {
        let (_tmp, node) = super::fresh_us();
        let o = |s: &str| Office::new(s).unwrap();
        for x in ["us/a", "us/b", "us/c"] {
            node.add_office(o(x)).await.unwrap();
        }
        let prepare = |to: &str| {
            let content = Content::text(format!("a to {to}"), None);
            node.prepare_message(&o("us/a"), &o(to), &content, None, |_| {
                Ok::<_, std::convert::Infallible>(())
            })
            .unwrap()
            .unwrap()
        };
        let (kept, fresh) = (prepare("us/b"), prepare("us/c"));
        let size = node.append_prepared(fresh).await.unwrap().index + 1;
        node.revoke_office(o("us/b")).await.unwrap();
        let Err(e) = node.append_prepared(kept).await else {
            panic!("appended for a revoked office");
        };
        assert!(e.to_string().contains("us/b"), "{e}");
        // The revocation alone was appended after the fresh message.
        assert_eq!(node.reader().size().unwrap(), size + 1);
    }
}
