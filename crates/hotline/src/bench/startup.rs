//! What a node pays before it serves, on a log of many entries: opening it
//! as `hotline serve` does (keys, peers, store, offices, the sequencer with
//! the log's index loaded from the store), and the index load alone.

use std::time::Instant;

use anyhow::Result;
use hotline_node::Node;
use hotline_node::dir::{Mode, NodeDir};
use hotline_node::indexes::LogIndex;
use serde::Serialize;

use super::{median_ms, progress};

#[derive(Serialize)]
pub(super) struct StartupFigures {
    runs: usize,
    /// `Node::open`, what `hotline serve` runs before it listens: median, and the first (cold) one.
    node_open_ms: f64,
    node_open_first_ms: f64,
    /// Of that: the index's states read from the store and its tree's root computed.
    index_load_ms: f64,
    index_root_ms: f64,
    /// Keys the log's index holds (channels and referenced entries).
    index_keys: usize,
}

pub(super) fn print_rows(f: &StartupFigures, row: &dyn Fn(&str, String)) {
    row(
        "start-up (Node::open, as hotline serve):",
        format!(
            "median {:.0} ms of {} (first {:.0} ms)",
            f.node_open_ms, f.runs, f.node_open_first_ms
        ),
    );
    row(
        "  of which the index, loaded from the store:",
        format!(
            "{:.0} ms to read {} keys' states, {:.0} ms for its root",
            f.index_load_ms, f.index_keys, f.index_root_ms
        ),
    );
}

/// Opens the node in `dir` `runs` times (each closed before the next), then
/// loads its log's index alone `runs` times.
pub(super) fn measure(dir: &NodeDir, runs: usize, quiet: bool) -> Result<StartupFigures> {
    progress(&format!("opening the node {runs} times"), quiet);
    let mut opens = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let node = Node::open(dir)?;
        opens.push(t.elapsed());
        drop(node);
    }
    let first = opens.first().map_or(0.0, |d| d.as_secs_f64() * 1e3);

    let opened = dir.open(Mode::ReadOnly)?;
    let (log, store) = (opened.own_log()?, opened.store);
    let (mut loads, mut roots) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    let mut keys = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let mut ix = LogIndex::load_read_only(&*store, log)?;
        loads.push(t.elapsed());
        let t = Instant::now();
        std::hint::black_box(ix.root());
        roots.push(t.elapsed());
        keys = ix.index().len();
    }
    Ok(StartupFigures {
        runs,
        node_open_ms: median_ms(&mut opens),
        node_open_first_ms: first,
        index_load_ms: median_ms(&mut loads),
        index_root_ms: median_ms(&mut roots),
        index_keys: keys,
    })
}
