//! What the index costs the store on appends: the same receipts written in
//! group commits with and without their index rows. Ignored by default (it
//! writes hundreds of thousands of entries); run it in release:
//!
//! `cargo test --release -p hotline-node --test append_cost -- --ignored --nocapture`
//!
//! `HOTLINE_APPEND_N` sets how many receipts (default 200,000).

use std::time::{Duration, Instant};

use hotline_node::indexes::{LogIndex, Staged};
use hotline_node::store::prelude::*;
use hotline_node::store::sqlite::SqliteStore;
use hotline_node::store::{AppendBatch, NewLeaf, extend_tree};
use hotline_proto::Hash;
use hotline_proto::entry::{Header, Kind, Ref, SignedEntry};
use hotline_proto::keys::{ALG_ED25519, NoteKey, os_rng};
use hotline_proto::party::Party;

/// Entries per group commit, as the sequencer batches under load.
const BATCH: usize = 50;

/// Receipt `i` of `us`'s log, referring to `ru:i` (a key new to the index)
/// on the one receipt channel (a key every entry updates).
fn receipt(key: &NoteKey, i: u64) -> SignedEntry {
    let mut h = Header::new(
        Party::new("us").unwrap(),
        Kind::Receipt,
        "us",
        None,
        jiff::Timestamp::from_second(1_700_000_000 + i as i64).unwrap(),
    );
    h.refs = vec![Ref {
        log: Party::new("ru").unwrap(),
        index: i,
        leaf_hash: hotline_proto::b64::encode([7u8; 32]),
    }];
    h.status = Some("delivered".into());
    SignedEntry::sign(h, |m| key.sign_raw(m)).unwrap()
}

/// Writes `entries` in batches, indexed or not; the time spent appending.
fn write(entries: &[SignedEntry], indexed: bool) -> Duration {
    let tmp = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&tmp.path().join("t.db")).unwrap();
    let log = store.log_id("hotline/us", "us").unwrap();
    let mut ix = LogIndex::new();
    let mut size = 0u64;
    let started = Instant::now();
    for chunk in entries.chunks(BATCH) {
        let leaves: Vec<NewLeaf> = chunk.iter().map(|e| NewLeaf::from_entry(e, None)).collect();
        let hashes: Vec<Hash> = leaves.iter().map(|l| l.leaf_hash).collect();
        let (pending, _) = extend_tree(&store, log, size, &hashes).unwrap();
        let mut staged = Staged::default();
        if indexed {
            for (i, e) in chunk.iter().enumerate() {
                ix.apply_entry(size + i as u64, e, &mut staged);
            }
        }
        store
            .append(&AppendBatch {
                log,
                first: size,
                leaves: &leaves,
                first_hash: hotline_proto::tree::stored_hash_count(size),
                hashes: &pending,
                checkpoint: None,
                now: 0,
                index: indexed.then_some(staged.rows.as_slice()),
                epoch: None,
            })
            .unwrap();
        size += chunk.len() as u64;
    }
    let took = started.elapsed();
    assert_eq!(store.size(log).unwrap(), entries.len() as u64);
    took
}

#[test]
#[ignore = "a measurement: run in release with --ignored"]
fn appends_with_and_without_index_rows() {
    let n: u64 = std::env::var("HOTLINE_APPEND_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let key = NoteKey::generate("hotline/us", ALG_ED25519, &mut os_rng()).unwrap();
    let entries: Vec<SignedEntry> = (0..n).map(|i| receipt(&key, i)).collect();
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    let plain = write(&entries, false);
    let indexed = write(&entries, true);
    println!(
        "append_cost n={n} batch={BATCH}: without index {:.2} s ({:.0}/s), with index {:.2} s ({:.0}/s), cost {:+.1} %",
        plain.as_secs_f64(),
        rate(plain),
        indexed.as_secs_f64(),
        rate(indexed),
        (indexed.as_secs_f64() / plain.as_secs_f64() - 1.0) * 100.0
    );
}
