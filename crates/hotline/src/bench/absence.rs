//! `hotline bench absence`: the size and cost of "no inquiry on this
//! channel in the month" on a log whose month holds none of the channel's
//! entries among many others — what the index lets a bundle leave out.

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use hotline_proto::entry::Kind;
use hotline_proto::party::Office;
use serde::Serialize;

use super::month::{self, MonthLog};
use super::startup::{self, StartupFigures};
use super::{Ticker, median_ms, progress, status_mb};

/// The month an absence is claimed for, and the channel and kind claimed absent.
pub(super) const SINCE: &str = "2021-07-01T00:00:00Z";
pub(super) const UNTIL: &str = "2021-08-01T00:00:00Z";
/// Where the log's history before the month starts.
pub(super) const BEFORE: &str = "2021-06-01T00:00:00Z";
pub(super) const FROM: &str = "us/fbi";
pub(super) const TO: &str = "ru/fsb";
pub(super) const KIND: Kind = Kind::Inquiry;

/// The goals for a month of a million entries.
const GOAL_BYTES: u64 = 16 * 1024;
const GOAL_VERIFY_MS: f64 = 10.0;

#[derive(Serialize)]
pub(super) struct AbsenceFigures {
    /// Entries in the month (none of them on the claimed channel and kind).
    entries: u64,
    /// The log's size at the start of the month (history, key entries).
    entries_before: u64,
    /// The log's size at the checkpoint the bundle shows.
    log_size: u64,
    /// Signed checkpoints (each cosigned) in the whole log.
    checkpoints: u64,
    bundle_bytes: u64,
    goal_bundle_bytes: u64,
    /// Entries the bundle holds (key history, the channel's last entry
    /// before the month): none of them depends on the log's size.
    disclosed_entries: u64,
    runs: usize,
    /// `ProofSource::open` + `absence` (what `hotline prove absence` runs), median.
    build_ms: f64,
    /// `bundle::verify`, median, min and max.
    verify_ms: f64,
    verify_min_ms: f64,
    verify_max_ms: f64,
    goal_verify_ms: f64,
    meets_goals: bool,
    /// What a node on this log pays before it serves.
    startup: StartupFigures,
    log_build_seconds: f64,
    cores: usize,
    rss_mb: f64,
    peak_rss_mb: f64,
}

pub(super) fn print(f: &AbsenceFigures) {
    let row = |label: &str, value: String| println!("  {label:<46} {value}");
    let verdict = |ok: bool| if ok { "within" } else { "ABOVE" };
    println!();
    println!(
        "hotline bench absence — no {KIND} {FROM} → {TO} in {}, a month of {} entries (log at {} before it, {} at the checkpoint), {} cores",
        &SINCE[..7],
        f.entries,
        f.entries_before,
        f.log_size,
        f.cores
    );
    row(
        "bundle size:",
        format!(
            "{} bytes, {} entries disclosed ({} the goal of {} bytes)",
            f.bundle_bytes,
            f.disclosed_entries,
            verdict(f.bundle_bytes <= f.goal_bundle_bytes),
            f.goal_bundle_bytes
        ),
    );
    row(
        "build (hotline prove absence's code, SQLite):",
        format!("median {:.1} ms of {}", f.build_ms, f.runs),
    );
    row(
        "bundle::verify:",
        format!(
            "median {:.2} ms of {} (min {:.2}, max {:.2}; {} the goal of {} ms)",
            f.verify_ms,
            f.runs,
            f.verify_min_ms,
            f.verify_max_ms,
            verdict(f.verify_ms <= f.goal_verify_ms),
            f.goal_verify_ms
        ),
    );
    startup::print_rows(&f.startup, &row);
    println!(
        "  (writing the log took {:.1} s, {} checkpoints; memory {:.0} MB now, {:.0} MB peak)",
        f.log_build_seconds, f.checkpoints, f.rss_mb, f.peak_rss_mb
    );
}

/// Writes a node's log with a month of `entries`, then builds the absence
/// bundle for it `runs` times, verifies it `runs` times, and opens the node
/// on it `runs` times.
pub(super) fn absence(
    entries: u64,
    runs: usize,
    output: Option<&std::path::Path>,
    quiet: bool,
) -> Result<AbsenceFigures> {
    let tmp = tempfile::tempdir().context("making a temporary directory")?;
    let log = month::absence_log(tmp.path(), entries, quiet)?;
    let (since, until): (jiff::Timestamp, jiff::Timestamp) = (SINCE.parse()?, UNTIL.parse()?);
    let (from, to) = (Office::new(FROM)?, Office::new(TO)?);

    progress(&format!("building the absence bundle {runs} times"), quiet);
    let mut builds = Vec::with_capacity(runs);
    let mut bundle = String::new();
    let mut ticker = Ticker::new("absence bundles built", runs as u64, quiet);
    for i in 0..runs {
        ticker.tick(i as u64);
        let t = Instant::now();
        let source = hotline_node::proofs::ProofSource::open(&log.dir)?;
        bundle = source.absence(&from.party(), KIND, &from, &to, since, until)?;
        builds.push(t.elapsed());
    }
    let bytes = bundle.into_bytes();
    if let Some(path) = output {
        write_output(path, &bytes, &log, quiet)?;
    }

    progress(
        &format!("verifying it {runs} times ({} bytes)", bytes.len()),
        quiet,
    );
    let mut verifies = Vec::with_capacity(runs);
    let mut log_size = 0;
    let mut ticker = Ticker::new("absence bundles verified", runs as u64, quiet);
    for i in 0..runs {
        ticker.tick(i as u64);
        let t = Instant::now();
        let v = hotline_proto::bundle::verify(&bytes, &log.keys);
        verifies.push(t.elapsed());
        match v {
            Ok(hotline_proto::bundle::Verified::Absence(p)) => {
                anyhow::ensure!(
                    p.size >= log.before + entries
                        && p.claim.since == since
                        && p.claim.until == until,
                    "the bundle proved something else: {}",
                    p.sentence()
                );
                log_size = p.size;
            }
            Ok(_) => anyhow::bail!("the bundle verified as another kind of claim"),
            Err(e) => anyhow::bail!("the bundle did not verify: {e}"),
        }
    }
    let disclosed = disclosed_leaves(&bytes)?;

    // Last: opening the node may sign a checkpoint, which the bundle above
    // must not see.
    let startup = startup::measure(&log.dir, runs, quiet)?;

    let verify_ms = median_ms(&mut verifies);
    let n = bytes.len() as u64;
    Ok(AbsenceFigures {
        entries,
        entries_before: log.before,
        log_size,
        checkpoints: log.checkpoints,
        bundle_bytes: n,
        goal_bundle_bytes: GOAL_BYTES,
        disclosed_entries: disclosed,
        runs,
        build_ms: median_ms(&mut builds),
        verify_ms,
        verify_min_ms: verifies.first().map_or(0.0, ms),
        verify_max_ms: verifies.last().map_or(0.0, ms),
        goal_verify_ms: GOAL_VERIFY_MS,
        meets_goals: n <= GOAL_BYTES && verify_ms <= GOAL_VERIFY_MS,
        startup,
        log_build_seconds: log.seconds,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        rss_mb: status_mb("VmRSS:"),
        peak_rss_mb: status_mb("VmHWM:"),
    })
}

fn ms(d: &Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The bundle and the keys that verify it (one vkey a line), so that
/// `hotline verify FILE --key FILE.keys` can be timed on its own.
pub(super) fn write_output(
    path: &std::path::Path,
    bytes: &[u8],
    log: &MonthLog,
    quiet: bool,
) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
    let keys = path.with_extension("keys");
    std::fs::write(&keys, log.vkeys.join("\n") + "\n")
        .with_context(|| format!("writing {}", keys.display()))?;
    progress(
        &format!(
            "wrote {} and {} (hotline verify {} --key {})",
            path.display(),
            keys.display(),
            path.display(),
            keys.display()
        ),
        quiet,
    );
    Ok(())
}

/// How many entries a bundle discloses, wherever they sit in it: every
/// leaf of a keyed run, and every tlog-proof (one entry each).
pub(super) fn disclosed_leaves(bytes: &[u8]) -> Result<u64> {
    fn walk(v: &serde_json::Value) -> u64 {
        match v {
            serde_json::Value::Object(m) => m
                .iter()
                .map(|(k, v)| u64::from(k == "leaf" && v.is_string()) + walk(v))
                .sum(),
            serde_json::Value::Array(a) => a.iter().map(walk).sum(),
            serde_json::Value::String(s) => u64::from(s.starts_with("c2sp.org/tlog-proof@")),
            _ => 0,
        }
    }
    let v: serde_json::Value = serde_json::from_slice(bytes).context("the bundle is not JSON")?;
    Ok(walk(&v))
}
