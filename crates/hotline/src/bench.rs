//! `hotline bench`: throughput and proof cost, each figure printed beside the
//! limit it should be compared with, measured in the same run.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use clap::Subcommand;
use hotline_node::dir::NodeDir;
use hotline_node::log::LogReader;
use hotline_node::store::sqlite::SqliteStore;
use hotline_node::store::{AppendBatch, NewLeaf, Store};
use hotline_node::{InitOptions, Node};
use hotline_proto::entry::{Content, HEADER_VERSION, Header, Kind, Ref, SignedEntry};
use hotline_proto::keys::{ALG_ED25519, NoteKey, OfficeKeys, SealPublic, os_rng};
use hotline_proto::party::{Office, Party};
use hotline_proto::tree::{self, HashReader, TlogError};
use hotline_proto::{Hash, checkpoint, seal};
use serde::Serialize;
use tokio::task::JoinSet;

use crate::harness::{self, Local};

mod absence;
mod month;
mod startup;
mod stats;
mod takeover;
mod tiles;

#[derive(Subcommand)]
pub enum BenchCmd {
    /// Durable appends/s (sign + seal + append + commit) beside the crypto-only rate; proof time at a million entries.
    Append {
        /// Entries to append.
        #[arg(long, default_value_t = 20_000)]
        count: u64,
        /// Appends in flight at once (as many concurrent senders).
        #[arg(long, default_value_t = 256)]
        concurrency: usize,
        /// Log size at which to time inclusion proofs (0 to skip).
        #[arg(long, default_value_t = 1_000_000)]
        proof_size: u64,
        /// Also run the durable appends on PostgreSQL (`postgresql://USER@HOST:PORT/DB`, a
        /// database holding no log `hotline/us`; the run leaves its log there), beside SQLite.
        #[arg(long, value_name = "URL")]
        store: Option<String>,
        /// Print the figures as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Two local nodes over pinned TLS: delivered entries/s (send → verified receipt back at the
    /// sender) and latency, beside the crypto-only limit of the same work.
    Link {
        /// Entries to deliver in the throughput phase.
        #[arg(long, default_value_t = 10_000)]
        count: u64,
        /// Sends in flight at once in the throughput phase.
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Entries sent one at a time in the light-load phase (0 to skip it).
        #[arg(long, default_value_t = 200)]
        light_count: u64,
        /// Pause between light-load sends, in milliseconds.
        #[arg(long, default_value_t = 10)]
        light_gap_ms: u64,
        /// Print the figures as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Pinned TLS 1.3 handshakes per second on the peer port (the node's listener and
    /// configurations, loopback, full handshakes), alone and with idle sockets held open.
    Handshakes {
        /// Handshakes per phase.
        #[arg(long, default_value_t = 2_000)]
        count: u64,
        /// Handshakes in flight at once.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Idle TCP connections (never starting a handshake) held open in the second phase
        /// (0 to skip it).
        #[arg(long, default_value_t = 256)]
        idle: usize,
        /// Print the figures as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Size, build time and verify time of an absence proof ("no inquiry us/fbi → ru/fsb in
    /// July") on a log whose month holds many entries and none of that channel (a node's SQLite
    /// store and index, real signed entries, witness-cosigned indexed checkpoints), built and
    /// checked by the same code `hotline prove absence` and `hotline verify` run; then the
    /// node's start-up on that log (`Node::open`, the index loaded from the store).
    Absence {
        /// Entries the month holds (none on the claimed channel; the log holds a third more before it).
        #[arg(long, default_value_t = 100_000)]
        entries: u64,
        /// Builds and verifications to time (medians are reported).
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Also write the bundle to this file, and the keys that verify it to FILE.keys
        /// (one vkey a line), to measure `hotline verify FILE --key FILE.keys` on its own.
        #[arg(long)]
        output: Option<std::path::PathBuf>,
        /// Print the figures as JSON.
        #[arg(long)]
        json: bool,
    },
    /// What serving one C2SP tlog-tiles resource costs on a log of many entries: a full hash
    /// tile at levels 0 and 1 and a full entry bundle, read from SQLite and encoded by the code
    /// `/tiles/` serves with (the HTTP round trip is not counted).
    Tiles {
        /// Entries in the log (at least 65536, for a full level-1 tile).
        #[arg(long, default_value_t = 100_000)]
        entries: u64,
        /// Tiles of each kind to serve (medians and p99s are reported).
        #[arg(long, default_value_t = 1_000)]
        runs: usize,
        /// Print the figures as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Size, build time and verify time of a month's figures for one channel ("K inquiries
    /// us/fbi → ru/fsb in July, acknowledged and answered in time or not"): K threads (inquiry,
    /// receipt, ack, answer, the receipts of both) among N entries in each log's month, in one
    /// node's store (its own log, its mirror of the receiver's), built and checked by the code
    /// `hotline prove stats` and `hotline verify` run. `--compare` runs it at 100,000 and
    /// 1,000,000 entries with the same K, to show the bundle follows the channel, not the log.
    Stats {
        /// Entries in each log's month (the threads and other traffic).
        #[arg(long, default_value_t = 100_000)]
        entries: u64,
        /// Inquiries on the channel in the month, each with its whole thread.
        #[arg(long, default_value_t = 1_000)]
        inquiries: u64,
        /// Builds and verifications to time (medians are reported).
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Run at 100,000 and at 1,000,000 entries (ignores --entries) and compare.
        #[arg(long)]
        compare: bool,
        /// Print the figures as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Replicas on PostgreSQL: milliseconds from SIGKILL of the sequencer lease's holder to the
    /// next durable append (201) through the other replica. Makes party `us` in a temporary
    /// folder on `--store`, serves two replicas of it (copies of the directory), and each round
    /// kills whichever holds the lease, sends through the other until one is appended, and
    /// restarts the killed one as a follower.
    Takeover {
        /// A PostgreSQL database holding no log (`postgresql://USER@HOST:PORT/DB`), e.g. a fresh
        /// `createdb`: the run refuses one that holds a log, and leaves its own there, so each run
        /// needs another fresh database.
        #[arg(long, value_name = "URL")]
        store: String,
        /// Holders killed, one after the other.
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// The sequencer lease's time to live, `[store] lease_secs` of both replicas (default 3).
        #[arg(long, value_name = "S")]
        lease_secs: Option<f64>,
        /// Print the figures as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Serialize)]
struct AppendFigures {
    entries: u64,
    concurrency: usize,
    cores: usize,
    crypto_only_per_sec: f64,
    durable_appends_per_sec: f64,
    ratio: f64,
    /// The same appends on PostgreSQL (`--store`), and its URL without the password.
    postgres_durable_appends_per_sec: Option<f64>,
    postgres: Option<String>,
    proof_log_size: u64,
    proof_mean_us: f64,
    proof_p99_us: f64,
    proof_max_us: f64,
    build_seconds: f64,
    rss_mb: f64,
    peak_rss_mb: f64,
}

pub async fn run(cmd: BenchCmd) -> Result<()> {
    match cmd {
        BenchCmd::Append {
            count,
            concurrency,
            proof_size,
            store,
            json,
        } => {
            let f = append(count, concurrency.max(1), proof_size, store, json).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&f)?);
            } else {
                println!();
                println!(
                    "hotline bench append — {} entries, {} in flight, {} cores",
                    f.entries, f.concurrency, f.cores
                );
                println!(
                    "  crypto only (seal to 2 offices + sign):   {:>10.0} entries/s",
                    f.crypto_only_per_sec
                );
                println!(
                    "  durable appends (+ append + commit):      {:>10.0} entries/s  ({:.0}% of crypto only)",
                    f.durable_appends_per_sec,
                    f.ratio * 100.0
                );
                if let (Some(rate), Some(url)) = (f.postgres_durable_appends_per_sec, &f.postgres) {
                    println!(
                        "  durable appends on PostgreSQL:            {rate:>10.0} entries/s  ({:.0}% of crypto only; {url})",
                        rate / f.crypto_only_per_sec * 100.0
                    );
                }
                if f.proof_log_size > 0 {
                    println!(
                        "  inclusion proof at {} entries:     mean {:.1} µs, p99 {:.1} µs, max {:.1} µs",
                        f.proof_log_size, f.proof_mean_us, f.proof_p99_us, f.proof_max_us
                    );
                    println!("  (building that log took {:.1} s)", f.build_seconds);
                }
                println!(
                    "  process memory: {:.0} MB now, {:.0} MB peak",
                    f.rss_mb, f.peak_rss_mb
                );
            }
        }
        BenchCmd::Link {
            count,
            concurrency,
            light_count,
            light_gap_ms,
            json,
        } => {
            let f = link(
                count.max(1),
                concurrency.max(1),
                light_count,
                Duration::from_millis(light_gap_ms),
                json,
            )
            .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&f)?);
            } else {
                print_link(&f);
            }
        }
        BenchCmd::Handshakes {
            count,
            concurrency,
            idle,
            json,
        } => handshakes(count.max(1), concurrency.max(1), idle, json).await?,
        BenchCmd::Absence {
            entries,
            runs,
            output,
            json,
        } => {
            let f = absence::absence(entries.max(1), runs.max(1), output.as_deref(), json)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&f)?);
            } else {
                absence::print(&f);
            }
        }
        BenchCmd::Tiles {
            entries,
            runs,
            json,
        } => {
            let f = tiles::tiles(entries, runs.max(1), json)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&f)?);
            } else {
                tiles::print(&f);
            }
        }
        BenchCmd::Stats {
            entries,
            inquiries,
            runs,
            compare,
            json,
        } => {
            let (inquiries, runs) = (inquiries.max(1), runs.max(1));
            if compare {
                let mut figures = Vec::new();
                for n in [100_000, 1_000_000] {
                    figures.push(stats::stats(n, inquiries, runs, json)?);
                }
                let c = stats::Comparison { runs: figures };
                if json {
                    println!("{}", serde_json::to_string_pretty(&c)?);
                } else {
                    stats::print_comparison(&c);
                }
            } else {
                let f = stats::stats(entries.max(inquiries * 6), inquiries, runs, json)?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&f)?);
                } else {
                    stats::print(&f);
                }
            }
        }
        BenchCmd::Takeover {
            store,
            rounds,
            lease_secs,
            json,
        } => {
            let mut task = tokio::task::spawn_blocking(move || {
                takeover::takeover(&store, rounds.max(1), lease_secs, false)
            });
            // Ctrl-C: the run stops waiting, kills its replicas and removes its folder.
            let f = tokio::select! {
                r = &mut task => r??,
                _ = tokio::signal::ctrl_c() => {
                    takeover::interrupt();
                    task.await??
                }
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&f)?);
            } else {
                takeover::print(&f);
            }
        }
    }
    Ok(())
}

/// `hotline bench handshakes`: one phase alone, one beside `idle` idle
/// sockets (what a stranger can hold open against the handshake limits).
async fn handshakes(count: u64, concurrency: usize, idle: usize, json: bool) -> Result<()> {
    use hotline_node::tls::handshakes::measure;
    use hotline_node::tls::server::PeerLimits;
    let mut phases = Vec::new();
    for idle in [0, idle] {
        if idle == 0 && !phases.is_empty() {
            continue;
        }
        progress(
            &format!("handshakes: {count}, {concurrency} at once, {idle} idle sockets open…"),
            json,
        );
        phases.push(measure(count, concurrency, idle, PeerLimits::default()).await?);
    }
    if json {
        println!(
            "{}",
            serde_json::json!({ "cores": std::thread::available_parallelism().map_or(1, usize::from), "phases": phases })
        );
        return Ok(());
    }
    println!();
    println!("hotline bench handshakes — pinned TLS 1.3, full handshakes, loopback");
    for f in &phases {
        println!(
            "  {:>3} idle sockets open: {:>8.0} handshakes/s  (median {:.2} ms, p99 {:.2} ms, {} at once, {} failed)",
            f.idle_sockets, f.per_sec, f.median_ms, f.p99_ms, f.concurrency, f.failed
        );
    }
    Ok(())
}

fn status_mb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn median_ms(times: &mut [Duration]) -> f64 {
    times.sort();
    times
        .get(times.len() / 2)
        .map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

fn progress(msg: &str, quiet: bool) {
    if !quiet {
        eprintln!("bench: {msg}");
    }
}

/// Progress within one phase, a line every few seconds, so that no phase
/// of a full-size run sits silent long enough to look hung.
struct Ticker {
    what: &'static str,
    total: u64,
    started: Instant,
    last: Instant,
    quiet: bool,
}

impl Ticker {
    const EVERY: Duration = Duration::from_secs(3);

    fn new(what: &'static str, total: u64, quiet: bool) -> Self {
        let now = Instant::now();
        Self {
            what,
            total,
            started: now,
            last: now,
            quiet,
        }
    }

    fn tick(&mut self, done: u64) {
        if self.quiet || self.last.elapsed() < Self::EVERY {
            return;
        }
        self.last = Instant::now();
        eprintln!(
            "bench: {}: {done} of {} ({:.0}%), {:.0} s",
            self.what,
            self.total,
            done as f64 * 100.0 / self.total.max(1) as f64,
            self.started.elapsed().as_secs_f64()
        );
    }
}

async fn append(
    count: u64,
    concurrency: usize,
    proof_size: u64,
    store: Option<String>,
    quiet: bool,
) -> Result<AppendFigures> {
    let tmp = tempfile::tempdir().context("making a temporary directory")?;
    let (fbi, state) = (Office::new("us/fbi")?, Office::new("us/state")?);
    let text =
        "Request for assistance regarding a ransomware incident; indicators attached. ".repeat(4);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    // Crypto only: the same seal + sign work, on the same runtime, with nothing stored.
    progress(&format!("crypto only: {count} seals and signatures"), quiet);
    let work = Arc::new(CryptoWork::new(fbi, state, text.clone())?);
    let crypto = crypto_only(&work, count, concurrency, false, quiet).await?;

    let run = Appends {
        count,
        concurrency,
        text,
        quiet,
    };
    let durable = run
        .through_node(&NodeDir::new(tmp.path().join("us")), None)
        .await?;
    let postgres = match &store {
        Some(url) => Some(
            run.through_node(&NodeDir::new(tmp.path().join("us-postgres")), Some(url))
                .await?,
        ),
        None => None,
    };

    let (mut mean, mut p99, mut max, mut build) = (0.0, 0.0, 0.0, 0.0);
    if proof_size > 0 {
        let (b, times) = proofs_at(tmp.path(), proof_size, quiet)?;
        build = b;
        let n = times.len().max(1);
        mean = times.iter().sum::<Duration>().as_secs_f64() * 1e6 / n as f64;
        p99 = times[(n * 99 / 100).min(n - 1)].as_secs_f64() * 1e6;
        max = times.last().map_or(0.0, |d| d.as_secs_f64() * 1e6);
    }
    Ok(AppendFigures {
        entries: count,
        concurrency,
        cores,
        crypto_only_per_sec: crypto,
        durable_appends_per_sec: durable,
        ratio: durable / crypto,
        postgres_durable_appends_per_sec: postgres,
        postgres: store.as_deref().map(hotline_node::store::postgres::redact),
        proof_log_size: proof_size,
        proof_mean_us: mean,
        proof_p99_us: p99,
        proof_max_us: max,
        build_seconds: build,
        rss_mb: status_mb("VmRSS:"),
        peak_rss_mb: status_mb("VmHWM:"),
    })
}

/// The durable-append run: `count` messages us/fbi → us/state through a
/// fresh node, `concurrency` in flight, timed from the first send to the
/// last commit.
struct Appends {
    count: u64,
    concurrency: usize,
    text: String,
    quiet: bool,
}

impl Appends {
    /// Entries per second through a node made in `dir`, its log in SQLite
    /// or in the PostgreSQL database at `store`.
    async fn through_node(&self, dir: &NodeDir, store: Option<&str>) -> Result<f64> {
        let mut opts = InitOptions::local(
            Party::new("us")?,
            hotline_console::config::ConsoleConfig::default_table(),
        );
        opts.store = store.map(str::to_owned);
        Node::init(dir, opts)?;
        let node = Node::open(dir)?;
        let (fbi, state) = (Office::new("us/fbi")?, Office::new("us/state")?);
        node.add_office(fbi.clone()).await?;
        node.add_office(state.clone()).await?;
        let (count, engine) = (
            self.count,
            if store.is_some() {
                "PostgreSQL"
            } else {
                "SQLite"
            },
        );
        progress(
            &format!("durable appends: {count} messages through the node ({engine})"),
            self.quiet,
        );
        let started = Instant::now();
        let mut ticker = Ticker::new("durable appends", count, self.quiet);
        let mut set = JoinSet::new();
        for i in 0..count {
            make_room(&mut set, self.concurrency).await?;
            ticker.tick(i);
            let (node, fbi, state) = (node.clone(), fbi.clone(), state.clone());
            let text = self.text.clone();
            set.spawn(async move {
                node.send_message(&fbi, &state, Content::text(text, None), None)
                    .await
                    .map(|_| ())
                    .map_err(anyhow::Error::from)
            });
        }
        make_room(&mut set, 1).await?;
        Ok(count as f64 / started.elapsed().as_secs_f64())
    }
}

/// The per-entry crypto of a send (seal to both offices, sign) and, for a
/// delivery, of the rest of its round trip.
struct CryptoWork {
    from: OfficeKeys,
    to: OfficeKeys,
    to_seal: SealPublic,
    text: String,
    verify_from: Box<dyn Fn(&SignedEntry) -> bool + Send + Sync>,
    verify_to: Box<dyn Fn(&SignedEntry) -> bool + Send + Sync>,
}

impl CryptoWork {
    fn new(from: Office, to: Office, text: String) -> Result<Self> {
        let from = OfficeKeys::generate(from, &mut os_rng());
        let to = OfficeKeys::generate(to, &mut os_rng());
        // Verifying keys decoded once, as the mirror keeps them.
        let (vf, vt) = (from.public().verifying_key()?, to.public().verifying_key()?);
        Ok(Self {
            to_seal: to.public().seal_key()?,
            from,
            to,
            text,
            verify_from: Box::new(move |e| e.verify(&vf).is_ok()),
            verify_to: Box::new(move |e| e.verify(&vt).is_ok()),
        })
    }

    /// What a send costs: seal to the addressee and to the sender's own
    /// office, sign the header. Returns the entry and the sealed body.
    fn send(&self, i: u64) -> Result<(SignedEntry, Vec<u8>)> {
        let (from, to) = (self.from.office(), self.to.office());
        let own = self.from.public().seal_key()?;
        let s = seal::seal(
            &Content::text(self.text.clone(), None).to_bytes(),
            &[(to, &self.to_seal), (from, &own)],
            &mut os_rng(),
        )?;
        let h = Header {
            v: HEADER_VERSION,
            log: from.party(),
            kind: Kind::Message,
            from: from.to_string(),
            to: Some(to.clone()),
            agreement: None,
            time: jiff::Timestamp::now(),
            refs: vec![],
            prev: Some(i),
            body: Some(hotline_proto::entry::BodyCommitment {
                sealed: hotline_proto::b64::encode(seal::sealed_hash(&s.bytes)),
                size: s.bytes.len() as u64,
                commitment: hotline_proto::b64::encode(s.commitment),
            }),
            key: None,
            status: None,
            terms: None,
            digest: None,
        };
        let e = SignedEntry::sign(h, |m| self.from.sign_raw(m))?;
        std::hint::black_box(e.leaf_hash());
        Ok((e, s.bytes))
    }

    /// What a delivery costs: the send; at the receiver, verify the entry's
    /// signature and its sealed body's hash, then sign a receipt; at the
    /// sender, verify the receipt. (Checkpoint signatures and tree hashes,
    /// one per batch, are left out.)
    fn deliver(&self, i: u64) -> Result<()> {
        let (e, sealed) = self.send(i)?;
        anyhow::ensure!((self.verify_from)(&e), "entry signature");
        let body = e.header().body.as_ref().context("no body")?;
        anyhow::ensure!(
            hotline_proto::b64::encode(seal::sealed_hash(&sealed)) == body.sealed,
            "sealed body hash"
        );
        let to = self.to.office();
        let h = Header {
            v: HEADER_VERSION,
            log: to.party(),
            kind: Kind::Receipt,
            from: to.to_string(),
            to: Some(self.from.office().clone()),
            agreement: None,
            time: jiff::Timestamp::now(),
            refs: vec![Ref {
                log: e.header().log.clone(),
                index: i,
                leaf_hash: hotline_proto::b64::encode(e.leaf_hash().0),
            }],
            prev: i.checked_sub(1),
            body: None,
            key: None,
            status: Some("delivered".into()),
            terms: None,
            digest: None,
        };
        let r = SignedEntry::sign(h, |m| self.to.sign_raw(m))?;
        anyhow::ensure!((self.verify_to)(&r), "receipt signature");
        std::hint::black_box(r.leaf_hash());
        Ok(())
    }
}

/// Entries/s of the crypto alone (`delivery`: the whole round trip's, else a
/// send's), spread over the blocking pool with `concurrency` in flight.
async fn crypto_only(
    work: &Arc<CryptoWork>,
    count: u64,
    concurrency: usize,
    delivery: bool,
    quiet: bool,
) -> Result<f64> {
    let started = Instant::now();
    let mut ticker = Ticker::new("crypto only", count, quiet);
    let mut set = JoinSet::new();
    for i in 0..count {
        make_room(&mut set, concurrency).await?;
        ticker.tick(i);
        let work = work.clone();
        set.spawn_blocking(move || {
            if delivery {
                work.deliver(i)
            } else {
                work.send(i).map(|_| ())
            }
        });
    }
    make_room(&mut set, 1).await?;
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

#[derive(Serialize)]
struct LinkFigures {
    entries: u64,
    concurrency: usize,
    cores: usize,
    /// Seal + sign + verify + receipt sign + receipt verify, per entry.
    crypto_only_per_sec: f64,
    delivered_per_sec: f64,
    ratio: f64,
    /// Durable sends/s during the throughput phase (the sender's side alone).
    sent_per_sec: f64,
    load_latency_p50_ms: f64,
    load_latency_p99_ms: f64,
    load_sender_commits: u64,
    load_receiver_commits: u64,
    load_receipt_arrivals: u64,
    light_entries: u64,
    light_gap_ms: u64,
    light_latency_p50_ms: f64,
    light_latency_p99_ms: f64,
    light_latency_max_ms: f64,
    light_send_p50_ms: f64,
    light_send_p99_ms: f64,
    cosign_interval_secs: u64,
    rss_mb: f64,
    peak_rss_mb: f64,
}

fn print_link(f: &LinkFigures) {
    let row = |label: &str, value: String| println!("  {label:<52} {value}");
    println!();
    println!(
        "hotline bench link — two nodes on loopback over pinned TLS 1.3; {} entries, {} in flight, {} cores",
        f.entries, f.concurrency, f.cores
    );
    row(
        "crypto only, per delivered entry (see below):",
        format!("{:>7.0} entries/s", f.crypto_only_per_sec),
    );
    row(
        "delivered (send → verified receipt back):",
        format!(
            "{:>7.0} entries/s  ({:.0}% of crypto only)",
            f.delivered_per_sec,
            f.ratio * 100.0
        ),
    );
    row(
        "  of which sends durable at the sender:",
        format!("{:>7.0} entries/s", f.sent_per_sec),
    );
    row(
        "  latency under that load (sent → receipt back):",
        format!(
            "p50 {:.1} ms, p99 {:.1} ms",
            f.load_latency_p50_ms, f.load_latency_p99_ms
        ),
    );
    row(
        "  group commits (sender, receiver), receipt pushes:",
        format!(
            "{}, {}, {}",
            f.load_sender_commits, f.load_receiver_commits, f.load_receipt_arrivals
        ),
    );
    if f.light_entries > 0 {
        println!(
            "  light load, {} entries one at a time, {} ms apart:",
            f.light_entries, f.light_gap_ms
        );
        row(
            "  latency (sent → verified receipt back):",
            format!(
                "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                f.light_latency_p50_ms, f.light_latency_p99_ms, f.light_latency_max_ms
            ),
        );
        row(
            "  the send itself (until durable at the sender):",
            format!(
                "p50 {:.1} ms, p99 {:.1} ms",
                f.light_send_p50_ms, f.light_send_p99_ms
            ),
        );
    }
    println!(
        "  crypto only = per entry: seal to 2 offices + sign (sender); verify + sealed-body hash + sign a receipt"
    );
    println!(
        "  (receiver); verify the receipt (sender); no storage, no network. Witnesses cosign every {} s and",
        f.cosign_interval_secs
    );
    println!(
        "  after each delivery. Process memory {:.0} MB now, {:.0} MB peak.",
        f.rss_mb, f.peak_rss_mb
    );
}

/// Receipts for the sender's entries as they reach its mirror of the
/// receiver's log: first-seen time by the referenced index.
struct ReceiptWatch {
    seen: Arc<Mutex<HashMap<u64, Instant>>>,
    arrivals: Arc<std::sync::atomic::AtomicU64>,
    failed: Arc<Mutex<Option<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ReceiptWatch {
    /// Polls `sender`'s mirror of `receiver`'s log every millisecond when idle.
    fn start(sender: &Node, receiver: &Party) -> Result<Self> {
        let mirror = sender.mirror_reader(receiver)?;
        let me = sender.party().clone();
        let mut next = mirror.size()?;
        let seen = Arc::new(Mutex::new(HashMap::new()));
        let arrivals = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let failed = Arc::new(Mutex::new(None));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, a, f, st) = (seen.clone(), arrivals.clone(), failed.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("bench-receipts".into())
            .spawn(move || {
                while !st.load(Ordering::Relaxed) {
                    let leaves = match mirror.store.leaves(mirror.log, next, 1000) {
                        Ok(l) => l,
                        Err(e) => {
                            *f.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                            return;
                        }
                    };
                    let Some(last) = leaves.last().map(|l| l.index) else {
                        std::thread::sleep(Duration::from_millis(1));
                        continue;
                    };
                    let now = Instant::now();
                    a.fetch_add(1, Ordering::Relaxed);
                    let mut seen = s.lock().unwrap_or_else(|p| p.into_inner());
                    for l in &leaves {
                        let Ok(e) = SignedEntry::from_leaf(&l.leaf) else {
                            continue;
                        };
                        let h = e.header();
                        if let (Kind::Receipt, Some(r)) = (h.kind, h.refs.first())
                            && r.log == me
                        {
                            seen.entry(r.index).or_insert(now);
                        }
                    }
                    next = last + 1;
                }
            })?;
        Ok(Self {
            seen,
            arrivals,
            failed,
            stop,
            thread: Some(thread),
        })
    }

    fn arrivals(&self) -> u64 {
        self.arrivals.load(Ordering::Relaxed)
    }
}

impl Drop for ReceiptWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One phase of `bench link`: what was sent and when each receipt came back.
struct Delivered {
    /// From the first send to the last receipt seen.
    seconds: f64,
    /// From the first send to the last send durable.
    send_seconds: f64,
    /// Sent (durable) → receipt seen, sorted.
    latency: Vec<Duration>,
    /// Send call → durable, sorted.
    send: Vec<Duration>,
}

/// The sending side of `bench link`: who sends what to whom, and the watch
/// on receipts coming back.
struct Line<'a> {
    node: &'a Node,
    watch: ReceiptWatch,
    from: &'a Office,
    to: &'a Office,
    text: &'a str,
    quiet: bool,
}

impl Line<'_> {
    /// Sends `count` messages — `concurrency` at once, or one at a time
    /// `gap` apart — and waits for every receipt.
    async fn deliver(
        &self,
        count: u64,
        concurrency: usize,
        gap: Option<Duration>,
    ) -> Result<Delivered> {
        let (node, watch, from, to, text, quiet) = (
            self.node,
            &self.watch,
            self.from,
            self.to,
            self.text,
            self.quiet,
        );
        let started = Instant::now();
        let mut sends: Vec<(u64, Instant, Instant)> = Vec::with_capacity(count as usize);
        let mut set: JoinSet<Result<(u64, Instant, Instant)>> = JoinSet::new();
        for _ in 0..count {
            if let Some(gap) = gap {
                let t0 = Instant::now();
                let a = node
                    .send_message(from, to, Content::text(text, None), None)
                    .await?;
                sends.push((a.index, t0, Instant::now()));
                tokio::time::sleep(gap).await;
                continue;
            }
            while set.len() >= concurrency {
                if let Some(r) = set.join_next().await {
                    sends.push(r??);
                }
            }
            let (node, from, to, text) = (node.clone(), from.clone(), to.clone(), text.to_owned());
            set.spawn(async move {
                let t0 = Instant::now();
                let a = node
                    .send_message(&from, &to, Content::text(text, None), None)
                    .await?;
                Ok((a.index, t0, Instant::now()))
            });
        }
        while let Some(r) = set.join_next().await {
            sends.push(r??);
        }
        let send_seconds = started.elapsed().as_secs_f64();

        // Wait for every receipt; give up if none arrives for 30 s.
        let (mut have, mut last_change, mut last_report) = (0, Instant::now(), Instant::now());
        loop {
            if let Some(e) = watch
                .failed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
            {
                anyhow::bail!("reading the mirror: {e}");
            }
            let n = {
                let seen = watch.seen.lock().unwrap_or_else(|p| p.into_inner());
                sends.iter().filter(|s| seen.contains_key(&s.0)).count()
            };
            if n == sends.len() {
                break;
            }
            if n != have {
                have = n;
                last_change = Instant::now();
            }
            if last_change.elapsed() > Duration::from_secs(30) {
                let links: Vec<String> = node
                    .federation()
                    .all()
                    .iter()
                    .filter_map(|p| hotline_node::federation::status::peer_status(node, p).ok())
                    .flat_map(|s| s.alerts)
                    .collect();
                anyhow::bail!(
                    "no receipt for 30 s; {n} of {} delivered{}",
                    sends.len(),
                    if links.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", links.join("; "))
                    }
                );
            }
            if !quiet && last_report.elapsed() > Duration::from_secs(2) {
                eprintln!("bench: {n} of {} receipts back", sends.len());
                last_report = Instant::now();
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let seen = watch.seen.lock().unwrap_or_else(|p| p.into_inner());
        let mut end = started;
        let mut latency = Vec::with_capacity(sends.len());
        let mut send = Vec::with_capacity(sends.len());
        for (index, t0, t1) in &sends {
            let back = seen[index];
            end = end.max(back);
            latency.push(back.saturating_duration_since(*t1));
            send.push(t1.duration_since(*t0));
        }
        latency.sort();
        send.sort();
        Ok(Delivered {
            seconds: end.duration_since(started).as_secs_f64(),
            send_seconds,
            latency,
            send,
        })
    }
}

/// The `p`th percentile (nearest rank) of sorted durations, in milliseconds.
fn pct_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1e3
}

/// A counter or histogram total from a node's `/metrics` text.
fn metric(node: &Node, name: &str) -> u64 {
    node.metrics()
        .render()
        .lines()
        .find_map(|l| {
            l.strip_prefix(name)?
                .strip_prefix(' ')?
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(0, |v| v as u64)
}

async fn link(
    count: u64,
    concurrency: usize,
    light_count: u64,
    light_gap: Duration,
    quiet: bool,
) -> Result<LinkFigures> {
    const COSIGN_SECS: u64 = 1;
    let text =
        "Request for assistance regarding a ransomware incident; indicators attached. ".repeat(4);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (fbi, fsb) = (Office::new("us/fbi")?, Office::new("ru/fsb")?);

    progress(
        &format!("crypto only: {count} deliveries' worth of seals, signatures and verifications"),
        quiet,
    );
    let work = Arc::new(CryptoWork::new(fbi.clone(), fsb.clone(), text.clone())?);
    let crypto = crypto_only(&work, count, concurrency, true, quiet).await?;

    let tmp = tempfile::tempdir().context("making a temporary directory")?;
    let mut parties = Vec::new();
    for office in [&fbi, &fsb] {
        let name = office.party();
        let dir = NodeDir::new(tmp.path().join(name.as_str()));
        harness::create_party(
            &dir,
            name.as_str(),
            "127.0.0.1:0",
            "127.0.0.1:0",
            COSIGN_SECS,
        )?;
        no_receipts_budget(&dir)?;
        let node = Node::open(&dir)?;
        node.add_office(office.clone()).await?;
        parties.push(Local::bind(node, 0, 0).await?);
    }
    harness::pin_all(&parties)?;
    let serving = harness::serve_all(&mut parties)?;
    // Traffic between the parties moves only under an agreement in force.
    harness::agree_all(
        &parties[0].node,
        &parties[1].node,
        &[harness::AGREEMENTS[2]],
        true,
    )
    .await?;
    let result = match ReceiptWatch::start(&parties[0].node, parties[1].node.party()) {
        Ok(watch) => {
            let line = Line {
                node: &parties[0].node,
                watch,
                from: &fbi,
                to: &fsb,
                text: &text,
                quiet,
            };
            link_phases(
                &line,
                &parties[1].node,
                (count, concurrency),
                (light_count, light_gap),
            )
            .await
        }
        Err(e) => Err(e),
    };
    let stopped = serving.stop().await;
    let (load, light) = result?;
    stopped?;
    let (load, l) = (load, light.as_ref());
    let (us_commits, ru_commits, arrivals) = load.1;
    let load = load.0;
    Ok(LinkFigures {
        entries: count,
        concurrency,
        cores,
        crypto_only_per_sec: crypto,
        delivered_per_sec: count as f64 / load.seconds,
        ratio: count as f64 / load.seconds / crypto,
        sent_per_sec: count as f64 / load.send_seconds,
        load_latency_p50_ms: pct_ms(&load.latency, 50.0),
        load_latency_p99_ms: pct_ms(&load.latency, 99.0),
        load_sender_commits: us_commits,
        load_receiver_commits: ru_commits,
        load_receipt_arrivals: arrivals,
        light_entries: if l.is_some() { light_count } else { 0 },
        light_gap_ms: u64::try_from(light_gap.as_millis()).unwrap_or(u64::MAX),
        light_latency_p50_ms: l.map_or(0.0, |d| pct_ms(&d.latency, 50.0)),
        light_latency_p99_ms: l.map_or(0.0, |d| pct_ms(&d.latency, 99.0)),
        light_latency_max_ms: l.map_or(0.0, |d| pct_ms(&d.latency, 100.0)),
        light_send_p50_ms: l.map_or(0.0, |d| pct_ms(&d.send, 50.0)),
        light_send_p99_ms: l.map_or(0.0, |d| pct_ms(&d.send, 99.0)),
        cosign_interval_secs: COSIGN_SECS,
        rss_mb: status_mb("VmRSS:"),
        peak_rss_mb: status_mb("VmHWM:"),
    })
}

/// Lifts the receiver's receipts budget (`limits.max_receipts_per_window`):
/// the bench measures how fast the link can go, and ten thousand entries at
/// full speed are exactly what the default budget is there to pace.
fn no_receipts_budget(dir: &NodeDir) -> Result<()> {
    let path = dir.config();
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let default = dir.read_config()?.limits.max_receipts_per_window;
    let text = text.replace(
        &format!("max_receipts_per_window = {default}"),
        "max_receipts_per_window = 0",
    );
    hotline_node::dir::write_atomic(&path, text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    anyhow::ensure!(
        dir.read_config()?.limits.max_receipts_per_window == 0,
        "{}: the receipts budget could not be lifted",
        path.display()
    );
    Ok(())
}

/// Warm-up, the throughput phase, then the light-load phase.
async fn link_phases(
    line: &Line<'_>,
    receiver: &Node,
    (count, concurrency): (u64, usize),
    (light_count, light_gap): (u64, Duration),
) -> Result<((Delivered, (u64, u64, u64)), Option<Delivered>)> {
    let quiet = line.quiet;
    progress("warming up: 100 deliveries", quiet);
    line.deliver(100, 16, None).await?;

    progress(
        &format!(
            "throughput: {count} messages {} → {}, {concurrency} in flight",
            line.from, line.to
        ),
        quiet,
    );
    let commits = "hotline_append_batch_entries_count";
    let before = (
        metric(line.node, commits),
        metric(receiver, commits),
        line.watch.arrivals(),
    );
    let load = line.deliver(count, concurrency, None).await?;
    let counts = (
        metric(line.node, commits) - before.0,
        metric(receiver, commits) - before.1,
        line.watch.arrivals() - before.2,
    );

    let light = if light_count > 0 {
        progress(
            &format!(
                "light load: {light_count} messages one at a time, {} ms apart",
                light_gap.as_millis()
            ),
            quiet,
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        Some(line.deliver(light_count, 1, Some(light_gap)).await?)
    } else {
        None
    };
    Ok(((load, counts), light))
}

/// Waits until fewer than `limit` tasks are in flight (1: until all are done),
/// propagating the first failure.
async fn make_room(set: &mut JoinSet<Result<()>>, limit: usize) -> Result<()> {
    while set.len() >= limit {
        match set.join_next().await {
            Some(r) => r??,
            None => break,
        }
    }
    Ok(())
}

/// Every stored hash, in memory, while the big log is being written.
struct AllHashes(Vec<Hash>);

impl HashReader for AllHashes {
    fn read_hashes(&self, ids: &[u64]) -> Result<Vec<Hash>, TlogError> {
        ids.iter()
            .map(|&i| {
                self.0
                    .get(i as usize)
                    .copied()
                    .ok_or(TlogError::IndexesNotInTree)
            })
            .collect()
    }
}

/// Writes a log of `size` entries straight into a store (the leaves are real
/// signed entries; the checkpoints are signed) and times inclusion proofs in
/// it through the same reader the node uses.
fn proofs_at(root: &std::path::Path, size: u64, quiet: bool) -> Result<(f64, Vec<Duration>)> {
    let (store, log, build) = signed_log(root, size, quiet)?;
    let origin = "hotline/us";
    let reader = LogReader {
        store,
        log,
        origin: origin.into(),
    };
    let mut times = Vec::new();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..2000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let index = x % size;
        let t = Instant::now();
        let p = reader.tlog_proof(index)?;
        times.push(t.elapsed());
        std::hint::black_box(p);
    }
    times.sort();
    Ok((build, times))
}

/// A SQLite store in `root` holding log `hotline/us` of `size` real signed
/// entries, with its tree hashes and signed checkpoints: the store, the log,
/// and the seconds building it took.
fn signed_log(
    root: &std::path::Path,
    size: u64,
    quiet: bool,
) -> Result<(Arc<dyn Store>, hotline_node::store::LogId, f64)> {
    let started = Instant::now();
    let path = root.join("big.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path)?);
    let origin = "hotline/us";
    let log = store.log_id(origin, "us")?;
    let key = NoteKey::generate(origin, ALG_ED25519, &mut os_rng())?;
    let office = OfficeKeys::generate(Office::new("us/fbi")?, &mut os_rng());
    let mut all = AllHashes(Vec::with_capacity(usize::try_from(2 * size).unwrap_or(0)));
    let batch = 20_000u64;
    let template = Header {
        v: HEADER_VERSION,
        log: Party::new("us")?,
        kind: Kind::Message,
        from: "us/fbi".into(),
        to: Some(Office::new("ru/fsb")?),
        agreement: None,
        time: "2021-07-01T00:00:00Z".parse()?,
        refs: vec![],
        prev: None,
        body: None,
        key: None,
        status: None,
        terms: None,
        digest: None,
    };
    let mut n = 0;
    while n < size {
        let end = (n + batch).min(size);
        let first_hash = all.0.len() as u64;
        let mut leaves = Vec::with_capacity((end - n) as usize);
        for i in n..end {
            let mut h = template.clone();
            h.prev = i.checked_sub(1);
            let e = SignedEntry::sign(h, |m| office.sign_raw(m))?;
            let lh = e.leaf_hash();
            let new = tree::hashes_to_store(&all, i, lh)?;
            all.0.extend(new);
            leaves.push(NewLeaf {
                leaf: e.leaf().to_vec(),
                leaf_hash: lh,
                kind: "message".into(),
                from: "us/fbi".into(),
                to: Some("ru/fsb".into()),
                subject: None,
                time: "2021-07-01T00:00:00Z".into(),
                sealed: None,
                reference: None,
            });
        }
        let root_hash = tree::root(&all, end)?;
        let note = checkpoint::sign(&key, end, root_hash)?;
        store.append(&AppendBatch {
            log,
            first: n,
            leaves: &leaves,
            first_hash,
            hashes: &all.0[first_hash as usize..],
            checkpoint: Some((end, &note)),
            now: 0,
            // Unindexed: this log only measures inclusion proofs.
            index: None,
            epoch: None,
        })?;
        n = end;
        if !quiet && (n % 200_000 == 0 || n == size) {
            eprintln!(
                "bench: built {n} of {size} entries ({:.0} s)",
                started.elapsed().as_secs_f64()
            );
        }
    }
    drop(all);
    Ok((store, log, started.elapsed().as_secs_f64()))
}
