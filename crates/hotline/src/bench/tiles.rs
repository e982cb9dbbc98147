//! `hotline bench tiles`: what serving one C2SP tlog-tiles resource costs
//! on a log of many entries — a full level-0 hash tile, a full level-1 hash
//! tile, a full entry bundle — read from a node's SQLite store and encoded
//! by the code `/tiles/` serves with (the HTTP round trip is not counted).

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use hotline_node::tiles::{entries, hashes};
use serde::Serialize;

use super::{median_ms, progress};

#[derive(Serialize)]
pub(super) struct TilesFigures {
    entries: u64,
    runs: usize,
    build_seconds: f64,
    /// Medians and p99s in microseconds.
    hash_tile_level0_median_us: f64,
    hash_tile_level0_p99_us: f64,
    hash_tile_level1_median_us: f64,
    hash_tile_level1_p99_us: f64,
    entry_bundle_median_us: f64,
    entry_bundle_p99_us: f64,
    entry_bundle_bytes: usize,
}

fn us(times: &mut [Duration]) -> (f64, f64) {
    let median = median_ms(times) * 1e3;
    let p99 = times
        .get(times.len() * 99 / 100)
        .map_or(0.0, |d| d.as_secs_f64() * 1e6);
    (median, p99)
}

pub(super) fn tiles(size: u64, runs: usize, quiet: bool) -> Result<TilesFigures> {
    if size < 256 * 256 {
        bail!("--entries must be at least 65536, for a full level-1 tile");
    }
    let tmp = tempfile::tempdir()?;
    progress(&format!("building a log of {size} signed entries"), quiet);
    let (store, log, build) = super::signed_log(tmp.path(), size, quiet)?;
    let (level0, level1) = (size / 256, size / 65_536);
    let (mut t0, mut t1, mut tb) = (Vec::new(), Vec::new(), Vec::new());
    let mut bytes = 0;
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    progress(&format!("serving {runs} of each tile"), quiet);
    for _ in 0..runs {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let t = Instant::now();
        let a = hashes::read(&*store, log, size, 0, x % level0, 256)?;
        t0.push(t.elapsed());
        let t = Instant::now();
        let b = hashes::read(&*store, log, size, 1, x % level1, 256)?;
        t1.push(t.elapsed());
        let t = Instant::now();
        let c = entries::read(&*store, log, size, x % level0, 256)?;
        tb.push(t.elapsed());
        let (Some(a), Some(b), Some(c)) = (a, b, c) else {
            bail!("a tile inside the tree was not served");
        };
        assert_eq!((a.len(), b.len()), (256 * 32, 256 * 32));
        bytes = c.len();
    }
    let ((m0, p0), (m1, p1), (mb, pb)) = (us(&mut t0), us(&mut t1), us(&mut tb));
    Ok(TilesFigures {
        entries: size,
        runs,
        build_seconds: build,
        hash_tile_level0_median_us: m0,
        hash_tile_level0_p99_us: p0,
        hash_tile_level1_median_us: m1,
        hash_tile_level1_p99_us: p1,
        entry_bundle_median_us: mb,
        entry_bundle_p99_us: pb,
        entry_bundle_bytes: bytes,
    })
}

pub(super) fn print(f: &TilesFigures) {
    println!();
    println!(
        "hotline bench tiles — log of {} entries (SQLite), {} of each, read and encoded as /tiles/ serves them (HTTP not counted)",
        f.entries, f.runs
    );
    println!(
        "  full hash tile, level 0 (8 KiB):   median {:>8.1} µs, p99 {:>8.1} µs",
        f.hash_tile_level0_median_us, f.hash_tile_level0_p99_us
    );
    println!(
        "  full hash tile, level 1 (8 KiB):   median {:>8.1} µs, p99 {:>8.1} µs",
        f.hash_tile_level1_median_us, f.hash_tile_level1_p99_us
    );
    println!(
        "  full entry bundle ({} bytes):   median {:>8.1} µs, p99 {:>8.1} µs",
        f.entry_bundle_bytes, f.entry_bundle_median_us, f.entry_bundle_p99_us
    );
    println!("  (building that log took {:.1} s)", f.build_seconds);
}
