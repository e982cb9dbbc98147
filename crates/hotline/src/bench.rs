//! `hotline bench`: throughput and proof cost, each figure printed beside the
//! limit it should be compared with, measured in the same run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use clap::Subcommand;
use hotline_node::dir::NodeDir;
use hotline_node::reader::LogReader;
use hotline_node::store::sqlite::SqliteStore;
use hotline_node::store::{AppendBatch, NewLeaf, Store};
use hotline_node::{InitOptions, Node};
use hotline_proto::entry::{Content, HEADER_VERSION, Header, Kind, SignedEntry};
use hotline_proto::keys::{ALG_ED25519, NoteKey, OfficeKeys, os_rng};
use hotline_proto::name::{Office, Party};
use hotline_proto::tree::{self, HashReader, TlogError};
use hotline_proto::{Hash, checkpoint, seal};
use serde::Serialize;
use tokio::task::JoinSet;

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
            json,
        } => {
            let f = append(count, concurrency.max(1), proof_size, json).await?;
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

fn progress(msg: &str, quiet: bool) {
    if !quiet {
        eprintln!("bench: {msg}");
    }
}

async fn append(
    count: u64,
    concurrency: usize,
    proof_size: u64,
    quiet: bool,
) -> Result<AppendFigures> {
    let tmp = tempfile::tempdir().context("making a temporary directory")?;
    let dir = NodeDir::new(tmp.path().join("us"));
    Node::init(
        &dir,
        InitOptions {
            party: Party::new("us")?,
            origin: None,
            listen: "127.0.0.1:0".into(),
        },
    )?;
    let node = Node::open(&dir)?;
    let (fbi, state) = (Office::new("us/fbi")?, Office::new("us/state")?);
    node.add_office(fbi.clone()).await?;
    node.add_office(state.clone()).await?;
    let text =
        "Request for assistance regarding a ransomware incident; indicators attached. ".repeat(4);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    // Crypto only: the same seal + sign work, on the same runtime, with nothing stored.
    progress(&format!("crypto only: {count} seals and signatures"), quiet);
    let keys = Arc::new(OfficeKeys::generate(fbi.clone(), &mut os_rng()));
    let to_key = Arc::new(
        OfficeKeys::generate(state.clone(), &mut os_rng())
            .public()
            .seal_key()?,
    );
    let started = Instant::now();
    let mut set = JoinSet::new();
    for i in 0..count {
        make_room(&mut set, concurrency).await?;
        let (keys, to_key, fbi, state, text) = (
            keys.clone(),
            to_key.clone(),
            fbi.clone(),
            state.clone(),
            text.clone(),
        );
        set.spawn_blocking(move || -> Result<()> {
            let own = keys.public().seal_key()?;
            let s = seal::seal(
                &Content { text, lang: None }.to_bytes(),
                &[(&state, &to_key), (&fbi, &own)],
                &mut os_rng(),
            )?;
            let h = Header {
                v: HEADER_VERSION,
                log: Party::new("us")?,
                kind: Kind::Message,
                from: fbi.to_string(),
                to: Some(state),
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
            };
            let e = SignedEntry::sign(h, |m| keys.sign_raw(m))?;
            std::hint::black_box(e.leaf_hash());
            Ok(())
        });
    }
    make_room(&mut set, 1).await?;
    let crypto = count as f64 / started.elapsed().as_secs_f64();

    progress(
        &format!("durable appends: {count} messages through the node"),
        quiet,
    );
    let started = Instant::now();
    let mut set = JoinSet::new();
    for _ in 0..count {
        make_room(&mut set, concurrency).await?;
        let (node, fbi, state, text) = (node.clone(), fbi.clone(), state.clone(), text.clone());
        set.spawn(async move {
            node.send_message(&fbi, &state, Content { text, lang: None }, None)
                .await
                .map(|_| ())
                .map_err(anyhow::Error::from)
        });
    }
    make_room(&mut set, 1).await?;
    let durable = count as f64 / started.elapsed().as_secs_f64();
    drop(node);

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
        proof_log_size: proof_size,
        proof_mean_us: mean,
        proof_p99_us: p99,
        proof_max_us: max,
        build_seconds: build,
        rss_mb: status_mb("VmRSS:"),
        peak_rss_mb: status_mb("VmHWM:"),
    })
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
            checkpoint: &note,
            now: 0,
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
    let build = started.elapsed().as_secs_f64();
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
