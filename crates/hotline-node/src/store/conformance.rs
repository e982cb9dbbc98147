//! The contract every engine keeps, written once: each case is generic over
//! the engine and runs against a fresh `SqliteStore`, a fresh
//! `PostgresStore` (a database of its own on the tests' server) and a fresh
//! `MemoryStore`, so that every engine is held to the same
//! values and an engine that drifts from the trait docs fails here first.

use std::cell::Cell;

use hotline_proto::Hash;
use hotline_proto::index::KeyState;
use hotline_proto::tree;

use super::memory::{MemoryStore, Step};
use super::postgres::{PostgresStore, testing};
use super::prelude::*;
use super::sqlite::SqliteStore;
use super::{
    Advance, AppendBatch, Evidence, IndexRow, LogId, NewLeaf, Store, WitnessRequest, extend_tree,
};

/// Runs each case once per engine, each on its own fresh store.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod sqlite_engine {
            $(
                #[test]
                fn $case() {
                    let tmp = tempfile::tempdir().unwrap();
                    let s = super::SqliteStore::open(&tmp.path().join("t.db")).unwrap();
                    super::$case(&s);
                }
            )*
        }
        mod postgres_engine {
            $(
                #[test]
                fn $case() {
                    let db = super::testing::database();
                    let s = super::PostgresStore::open(&db.url).unwrap();
                    super::$case(&s);
                }
            )*
        }
        mod memory_engine {
            $(
                #[test]
                fn $case() {
                    super::$case(&super::MemoryStore::new());
                }
            )*
        }
    };
}

conformance!(
    logs_are_registered_once_by_origin,
    append_and_read,
    a_batch_must_start_at_the_log_size,
    entry_queries,
    index_rows_and_key_states,
    add_index_follows_the_index,
    witness_advance_rules,
    cosignatures,
    evidence,
);

/// One entry's row, with made-up leaf bytes (the store never parses them).
pub(super) fn leaf(n: u64, kind: &str, from: &str, to: Option<&str>) -> NewLeaf {
    let bytes = format!("leaf {n} {kind} {from}").into_bytes();
    NewLeaf {
        leaf_hash: tree::leaf_hash(&bytes),
        leaf: bytes,
        kind: kind.to_owned(),
        from: from.to_owned(),
        to: to.map(str::to_owned),
        subject: None,
        time: format!("2026-01-01T00:00:{n:02}Z"),
        sealed: None,
        reference: None,
    }
}

fn with_ref(mut l: NewLeaf, log: &str, index: u64) -> NewLeaf {
    l.reference = Some((log.to_owned(), index));
    l
}

fn key_entry(n: u64, office: &str) -> NewLeaf {
    let mut l = leaf(n, "key", office, None);
    l.subject = Some(office.to_owned());
    l
}

/// The batch that puts `leaves` at the end of `log`, as the sequencer
/// builds it: returns the new stored hashes and the root.
pub(super) fn append<S: Store>(
    s: &S,
    log: LogId,
    leaves: &[NewLeaf],
    checkpoint: Option<&[u8]>,
    index: Option<&[IndexRow]>,
) -> super::Result<(Vec<Hash>, Hash)> {
    let size = s.size(log)?;
    let leaf_hashes: Vec<Hash> = leaves.iter().map(|l| l.leaf_hash).collect();
    let (hashes, root) = extend_tree(s, log, size, &leaf_hashes)?;
    let new_size = size + leaves.len() as u64;
    s.append(&AppendBatch {
        log,
        first: size,
        leaves,
        first_hash: tree::stored_hash_count(size),
        hashes: &hashes,
        checkpoint: checkpoint.map(|n| (new_size, n)),
        now: 1_700_000_000,
        index,
        epoch: None,
    })?;
    Ok((hashes, root))
}

fn indexes(leaves: &[super::StoredLeaf]) -> Vec<u64> {
    leaves.iter().map(|l| l.index).collect()
}

fn logs_are_registered_once_by_origin<S: Store>(s: &S) {
    assert!(
        s.log_id_existing("hotline/us").is_err(),
        "not registered yet"
    );
    let us = s.log_id("hotline/us", "us").unwrap();
    let ru = s.log_id("hotline/ru", "ru").unwrap();
    assert_ne!(us, ru);
    assert_eq!(s.log_id("hotline/us", "us").unwrap(), us);
    assert_eq!(s.log_id_existing("hotline/us").unwrap(), us);
    assert_eq!(s.size(us).unwrap(), 0);
    assert!(s.leaves(us, 0, 10).unwrap().is_empty());
    assert_eq!(s.latest_checkpoint(us).unwrap(), None);
    assert_eq!(s.last_time(us).unwrap(), None);
}

fn append_and_read<S: Store>(s: &S) {
    let log = s.log_id("hotline/us", "us").unwrap();
    let other = s.log_id("hotline/ru", "ru").unwrap();
    let mut first: Vec<NewLeaf> = (0..3)
        .map(|n| leaf(n, "message", "us/state", Some("ru/mfa")))
        .collect();
    first[1].sealed = Some(b"sealed one".to_vec());
    let second: Vec<NewLeaf> = (3..5)
        .map(|n| leaf(n, "message", "us/state", Some("ru/mfa")))
        .collect();
    let (h1, _) = append(s, log, &first, Some(b"note 3"), None).unwrap();
    let (h2, root) = append(s, log, &second, Some(b"note 5"), None).unwrap();

    assert_eq!(s.size(log).unwrap(), 5);
    assert_eq!(s.size(other).unwrap(), 0, "other logs are untouched");
    let all: Vec<&NewLeaf> = first.iter().chain(&second).collect();
    let read = s.leaves(log, 0, 100).unwrap();
    assert_eq!(indexes(&read), vec![0, 1, 2, 3, 4]);
    for (r, l) in read.iter().zip(&all) {
        assert_eq!(r.leaf, l.leaf);
        assert_eq!(r.leaf_hash, l.leaf_hash);
    }
    assert_eq!(indexes(&s.leaves(log, 1, 2).unwrap()), vec![1, 2]);
    assert_eq!(indexes(&s.leaves(log, 4, 10).unwrap()), vec![4]);
    assert!(s.leaves(log, 5, 10).unwrap().is_empty());

    let stored: Vec<Hash> = h1.iter().chain(&h2).copied().collect();
    assert_eq!(stored.len() as u64, tree::stored_hash_count(5));
    let ids: Vec<u64> = (0..stored.len() as u64).collect();
    assert_eq!(s.read_hashes(log, &ids).unwrap(), stored);
    assert_eq!(
        s.read_hashes(log, &[2, 0]).unwrap(),
        vec![stored[2], stored[0]]
    );
    let reader = super::HashesOf { store: s, log };
    assert_eq!(tree::root(&reader, 5).unwrap(), root);

    assert_eq!(s.body(log, 1).unwrap(), Some(b"sealed one".to_vec()));
    assert_eq!(s.body(log, 0).unwrap(), None);
    assert_eq!(s.body(log, 9).unwrap(), None);
    assert_eq!(
        s.last_time(log).unwrap().as_deref(),
        Some("2026-01-01T00:00:04Z")
    );

    assert_eq!(
        s.latest_checkpoint(log).unwrap(),
        Some((5, b"note 5".to_vec()))
    );
    assert_eq!(s.checkpoint_at(log, 3).unwrap(), Some(b"note 3".to_vec()));
    assert_eq!(s.checkpoint_at(log, 4).unwrap(), None);
    assert_eq!(
        s.checkpoint_within(log, 0, 4).unwrap(),
        Some((3, b"note 3".to_vec()))
    );
    assert_eq!(
        s.checkpoint_within(log, 0, 5).unwrap(),
        Some((5, b"note 5".to_vec()))
    );
    assert_eq!(
        s.checkpoint_within(log, 3, 4).unwrap(),
        None,
        "(above, at_most]"
    );
    assert_eq!(s.latest_checkpoint(other).unwrap(), None);
}

/// `AppendBatch::first` must equal the log's size (and `first_hash` its
/// hash count): a batch that overlaps the log or leaves a gap is refused
/// whole.
fn a_batch_must_start_at_the_log_size<S: Store>(s: &S) {
    let log = s.log_id("hotline/us", "us").unwrap();
    let two: Vec<NewLeaf> = (0..2).map(|n| leaf(n, "message", "us/a", None)).collect();
    append(s, log, &two, Some(b"note 2"), None).unwrap();
    let at = |first: u64, first_hash: u64| {
        let l = [leaf(10 + first, "message", "us/a", None)];
        let (hashes, _) = extend_tree(s, log, first.min(2), &[l[0].leaf_hash]).unwrap();
        s.append(&AppendBatch {
            log,
            first,
            leaves: &l,
            first_hash,
            hashes: &hashes,
            checkpoint: Some((first + 1, b"bad")),
            now: 0,
            index: None,
            epoch: None,
        })
    };
    let hashes_at = tree::stored_hash_count;
    assert!(at(1, hashes_at(1)).is_err(), "a batch overlapping the log");
    assert!(at(3, hashes_at(3)).is_err(), "a batch leaving a gap");
    assert!(at(2, hashes_at(3)).is_err(), "its hashes leaving a gap");
    assert_eq!(s.size(log).unwrap(), 2);
    assert_eq!(
        s.latest_checkpoint(log).unwrap(),
        Some((2, b"note 2".to_vec()))
    );
    assert!(s.leaves(log, 2, 10).unwrap().is_empty());
    assert!(
        at(2, hashes_at(2)).is_ok(),
        "the batch at the size is taken"
    );
    assert_eq!(s.size(log).unwrap(), 3);
}

/// A small log: key entries, messages, inquiries, receipts and references.
fn channel_log<S: Store>(s: &S) -> LogId {
    let log = s.log_id("hotline/us", "us").unwrap();
    let leaves = vec![
        key_entry(0, "us/state"),                                          // 0
        leaf(1, "message", "us/state", Some("ru/mfa")),                    // 1
        leaf(2, "message", "us/state", Some("ru/mfa")),                    // 2
        with_ref(leaf(3, "receipt", "us/state", Some("ru/mfa")), "ru", 4), // 3
        leaf(4, "message", "us/fbi", Some("rus/x")),                       // 4: another party
        key_entry(5, "us/state"),                                          // 5
        with_ref(leaf(6, "receipt", "us/state", Some("ru/mfa")), "ru", 2), // 6
        with_ref(leaf(7, "inquiry", "us/fbi", Some("ru/mfa")), "ru", 9),   // 7
        leaf(8, "message", "ru/mfa", Some("us/state")),                    // 8
        key_entry(9, "us/fbi"),                                            // 9
    ];
    append(s, log, &leaves, None, None).unwrap();
    log
}

fn entry_queries<S: Store>(s: &S) {
    let log = channel_log(s);
    let chan = |kind, from, to| s.last_on_channel(log, kind, from, to).unwrap();
    assert_eq!(chan("message", "us/state", Some("ru/mfa")), Some(2));
    assert_eq!(chan("receipt", "us/state", Some("ru/mfa")), Some(6));
    assert_eq!(chan("key", "us/state", None), Some(5));
    assert_eq!(
        chan("message", "us/state", None),
        None,
        "no addressee is its own channel"
    );
    assert_eq!(chan("inquiry", "us/state", Some("ru/mfa")), None);

    assert_eq!(s.key_entry_before(log, "us/state", 9).unwrap(), Some(5));
    assert_eq!(s.key_entry_before(log, "us/state", 5).unwrap(), Some(0));
    assert_eq!(s.key_entry_before(log, "us/state", 0).unwrap(), None);
    assert_eq!(s.key_entry_before(log, "us/fbi", 9).unwrap(), None);
    assert_eq!(s.key_entry_before(log, "us/fbi", 10).unwrap(), Some(9));

    assert_eq!(indexes(&s.key_leaves(log).unwrap()), vec![0, 5, 9]);
    assert_eq!(
        indexes(&s.leaves_of_kind(log, "message").unwrap()),
        vec![1, 2, 4, 8]
    );
    assert_eq!(indexes(&s.leaves_of_kind(log, "inquiry").unwrap()), vec![7]);
    assert_eq!(s.last_of_kind(log, "message").unwrap(), Some(8));
    assert_eq!(s.last_of_kind(log, "inquiry").unwrap(), Some(7));
    assert_eq!(s.last_of_kind(log, "agreement").unwrap(), None);
    let receipts = s.leaves_of_kind(log, "receipt").unwrap();
    assert_eq!(indexes(&receipts), vec![3, 6]);
    assert_eq!(receipts[0].leaf, b"leaf 3 receipt us/state");

    assert_eq!(indexes(&s.referencing(log, "ru", 4).unwrap()), vec![3]);
    assert_eq!(indexes(&s.referencing(log, "ru", 9).unwrap()), vec![7]);
    assert!(s.referencing(log, "ru", 3).unwrap().is_empty());
    assert!(s.referencing(log, "rus", 4).unwrap().is_empty());

    // Receipts only (the inquiry's reference to ru:9 is no receipt).
    assert_eq!(s.receipt_cursor(log, "ru", 100).unwrap(), Some(4));
    assert_eq!(s.receipt_cursor(log, "ru", 4).unwrap(), Some(2));
    assert_eq!(s.receipt_cursor(log, "ru", 2).unwrap(), None);
    assert_eq!(s.receipt_cursor(log, "fr", 100).unwrap(), None);

    // Offices of `ru` are `ru/…`: not `rus/x`, and no receipts.
    let to_ru = |after, limit| indexes(&s.addressed_to(log, "ru", after, limit).unwrap());
    assert_eq!(to_ru(None, 100), vec![1, 2, 7]);
    assert_eq!(to_ru(Some(1), 100), vec![2, 7]);
    assert_eq!(to_ru(None, 2), vec![1, 2]);
    assert_eq!(to_ru(Some(7), 100), Vec::<u64>::new());
    assert_eq!(
        indexes(&s.addressed_to(log, "rus", None, 100).unwrap()),
        vec![4]
    );
    assert_eq!(
        indexes(&s.addressed_to(log, "us", None, 100).unwrap()),
        vec![8]
    );

    // Both directions, receipts included, the newest `limit` in log order.
    let between = |limit| indexes(&s.between(log, "us/state", "ru/mfa", limit).unwrap());
    assert_eq!(between(100), vec![1, 2, 3, 6, 8]);
    assert_eq!(between(2), vec![6, 8]);
    assert_eq!(
        indexes(&s.between(log, "ru/mfa", "us/state", 100).unwrap()),
        vec![1, 2, 3, 6, 8]
    );

    assert_eq!(s.count_from_to(log, "us/state", "ru/mfa", None).unwrap(), 2);
    assert_eq!(
        s.count_from_to(log, "us/state", "ru/mfa", Some(1)).unwrap(),
        1
    );
    assert_eq!(
        s.count_from_to(log, "us/state", "ru/mfa", Some(2)).unwrap(),
        0
    );
    assert_eq!(s.count_from_to(log, "ru/mfa", "us/state", None).unwrap(), 1);
    assert_eq!(s.count_from_to(log, "us/fbi", "ru/mfa", None).unwrap(), 1);
}

/// Three entries, two keys: key 0 in every entry, key 1 in entries 0 and
/// 2. Returns the leaves, the rows, and the states after each entry.
fn keyed() -> (Vec<NewLeaf>, Vec<IndexRow>, [[KeyState; 2]; 4]) {
    let leaves: Vec<NewLeaf> = (0..3)
        .map(|n| leaf(n, "message", "us/a", Some("ru/b")))
        .collect();
    let kh = [Hash([1; 32]), Hash([2; 32])];
    let mut states = [[KeyState::default(); 2]; 4];
    let mut rows = Vec::new();
    for (i, l) in leaves.iter().enumerate() {
        let i64 = i as u64;
        states[i + 1] = states[i];
        for key in [0usize, 1] {
            if key == 1 && i == 1 {
                continue;
            }
            states[i + 1][key] = states[i][key].push(i64, l.leaf_hash);
            rows.push(IndexRow {
                index: i64,
                key: key as u64,
                kh: kh[key],
                state: states[i + 1][key],
            });
        }
    }
    (leaves, rows, states)
}

fn index_rows_and_key_states<S: Store>(s: &S) {
    let log = s.log_id("hotline/us", "us").unwrap();
    let (leaves, rows, st) = keyed();
    let kh = [rows[0].kh, rows[1].kh];
    assert_eq!(s.index_states(log).unwrap(), (0, vec![]));
    // Two batches: entries 0 and 1, then 2.
    let split = rows.iter().position(|r| r.index == 2).unwrap();
    append(s, log, &leaves[..2], None, Some(&rows[..split])).unwrap();
    append(s, log, &leaves[2..], None, Some(&rows[split..])).unwrap();

    assert_eq!(
        s.index_states(log).unwrap(),
        (3, vec![(kh[0], st[3][0]), (kh[1], st[3][1])])
    );
    assert_eq!(s.index_states_at(log, 0).unwrap(), vec![]);
    assert_eq!(
        s.index_states_at(log, 2).unwrap(),
        vec![(kh[0], st[2][0]), (kh[1], st[2][1])]
    );
    for (size, states) in (0u64..).zip(&st) {
        for (key, state) in (0u64..).zip(states) {
            assert_eq!(
                s.key_state_at(log, key, size).unwrap(),
                *state,
                "key {key} at {size}"
            );
        }
    }
    assert_eq!(s.key_state_at(log, 1, 2).unwrap().count, 1);

    let of = |key, size, from| {
        s.key_entries(log, key, size, from)
            .unwrap()
            .into_iter()
            .map(|(i, leaf)| {
                assert_eq!(leaf, leaves[usize::try_from(i).unwrap()].leaf);
                i
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(of(0, 3, 0), vec![0, 1, 2]);
    assert_eq!(of(1, 3, 0), vec![0, 2]);
    assert_eq!(of(1, 3, 1), vec![2]);
    assert_eq!(of(1, 2, 0), vec![0]);
    assert_eq!(of(0, 0, 0), Vec::<u64>::new());
}

/// Rows added after the entries must continue the index exactly.
fn add_index_follows_the_index<S: Store>(s: &S) {
    let log = s.log_id("hotline/us", "us").unwrap();
    let (leaves, rows, st) = keyed();
    append(s, log, &leaves, None, None).unwrap();
    assert_eq!(s.index_states(log).unwrap().0, 0, "stored unindexed");
    let split = rows.iter().position(|r| r.index == 2).unwrap();
    assert!(
        s.add_index(log, 2, 3, &rows[split..]).is_err(),
        "the index covers 0 entries, not 2"
    );
    assert_eq!(s.index_states(log).unwrap(), (0, vec![]));
    s.add_index(log, 0, 2, &rows[..split]).unwrap();
    assert_eq!(s.index_states(log).unwrap().0, 2);
    s.add_index(log, 2, 3, &rows[split..]).unwrap();
    assert_index(s, log, 3, &st[3]);
}

/// The store refuses a checkpoint whose `old` is not the recorded size (a
/// submitter skipping or going back), and one `accept` refuses (the
/// caller's consistency check, which sees the recorded state); either way
/// the record is unchanged.
fn witness_advance_rules<S: Store>(s: &S) {
    let origin = "hotline/ru";
    assert!(s.witness_state(origin).unwrap().is_none());
    assert_eq!(s.witness_updated(origin).unwrap(), None);
    let req = |old, size, n: u8, now| WitnessRequest {
        old,
        size,
        root: Hash([n; 32]),
        note: if n == 5 { b"note 5" } else { b"note other" },
        now,
    };
    let seen = Cell::new(None);
    let record = |c: &super::WitnessState| {
        seen.set(Some((c.size, c.root)));
        true
    };
    // The first checkpoint: `accept` sees the empty tree.
    let r = s
        .witness_advance(origin, &req(0, 5, 5, 100), &record)
        .unwrap();
    assert!(matches!(r, Advance::Advanced), "{r:?}");
    assert_eq!(seen.get(), Some((0, tree::empty_root())));
    let check = |size, n: u8, updated| {
        let w = s.witness_state(origin).unwrap().unwrap();
        assert_eq!((w.size, w.root), (size, Hash([n; 32])));
        assert_eq!(
            w.note,
            if n == 5 {
                &b"note 5"[..]
            } else {
                b"note other"
            }
        );
        assert_eq!(s.witness_updated(origin).unwrap(), Some(updated));
    };
    check(5, 5, 100);

    // An old size that is not the recorded one, behind or ahead of it.
    for old in [0, 3, 7] {
        let r = s
            .witness_advance(origin, &req(old, 9, 9, 200), &|_| panic!("not asked"))
            .unwrap();
        assert!(matches!(r, Advance::OldSizeMismatch(5)), "old {old}: {r:?}");
        check(5, 5, 100);
    }
    // Going backwards: the caller's check refuses it, given the record.
    let backwards = |c: &super::WitnessState| {
        seen.set(Some((c.size, c.root)));
        c.size <= 3
    };
    let r = s
        .witness_advance(origin, &req(5, 3, 3, 200), &backwards)
        .unwrap();
    match r {
        Advance::Refused(Some(w)) => assert_eq!((w.size, w.root), (5, Hash([5; 32]))),
        other => panic!("{other:?}"),
    }
    assert_eq!(seen.get(), Some((5, Hash([5; 32]))));
    check(5, 5, 100);
    // Forward from the recorded size.
    let r = s
        .witness_advance(origin, &req(5, 8, 8, 300), &record)
        .unwrap();
    assert!(matches!(r, Advance::Advanced), "{r:?}");
    check(8, 8, 300);
    assert!(
        s.witness_state("hotline/fr").unwrap().is_none(),
        "per origin"
    );
}

fn cosignatures<S: Store>(s: &S) {
    let log = s.log_id("hotline/us", "us").unwrap();
    let leaves = [leaf(0, "message", "us/a", None)];
    append(s, log, &leaves, Some(b"note 1"), None).unwrap();
    let add = |size, witness, time, line: &'static str| {
        s.add_cosignature(log, size, witness, time, line, &|n| {
            let mut n = n.to_vec();
            n.extend_from_slice(line.as_bytes());
            n
        })
    };
    add(1, "w1", 10, "+a").unwrap();
    add(1, "w2", 20, "+b").unwrap();
    assert_eq!(
        s.checkpoint_at(log, 1).unwrap(),
        Some(b"note 1+a+b".to_vec())
    );
    assert!(add(2, "w1", 30, "+c").is_err(), "no checkpoint of size 2");
    assert_eq!(
        s.checkpoint_at(log, 1).unwrap(),
        Some(b"note 1+a+b".to_vec())
    );

    let mirror = s.log_id("hotline/ru", "ru").unwrap();
    s.record_cosignature(mirror, 4, "us", 15, "line4", b"ru note 4")
        .unwrap();
    s.record_cosignature(mirror, 6, "us", 25, "line6", b"ru note 6")
        .unwrap();
    // The same record again is kept once.
    s.record_cosignature(mirror, 6, "us", 25, "line6", b"ru note 6")
        .unwrap();

    let near = |log, time, before| s.cosignature_near(log, time, before).unwrap();
    let own = near(log, 15, true).unwrap();
    assert_eq!((own.size, own.witness.as_str(), own.time), (1, "w1", 10));
    assert_eq!((own.line.as_str(), own.note), ("+a", None));
    assert_eq!(near(log, 15, false).unwrap().witness, "w2");
    assert_eq!(
        near(log, 20, true).unwrap().witness,
        "w2",
        "at the time counts"
    );
    assert!(near(log, 9, true).is_none());
    assert!(near(log, 21, false).is_none());
    let given = near(mirror, 100, true).unwrap();
    assert_eq!(
        (given.size, given.time, given.line.as_str()),
        (6, 25, "line6")
    );
    assert_eq!(given.note.as_deref(), Some(&b"ru note 6"[..]));
    assert_eq!(near(mirror, 0, false).unwrap().size, 4);

    assert_eq!(s.last_cosignature(log, "w1").unwrap(), Some((1, 10)));
    assert_eq!(s.last_cosignature(log, "w2").unwrap(), Some((1, 20)));
    assert_eq!(s.last_cosignature(mirror, "us").unwrap(), Some((6, 25)));
    assert_eq!(s.last_cosignature(log, "us").unwrap(), None);
}

fn evidence<S: Store>(s: &S) {
    assert!(s.equivocations().unwrap().is_empty());
    let a = s.add_equivocation("hotline/ru", 100, b"bundle a").unwrap();
    let b = s.add_equivocation("hotline/fr", 200, b"bundle b").unwrap();
    assert_ne!(a, b);
    assert_eq!(
        s.add_equivocation("hotline/ru", 300, b"bundle a").unwrap(),
        a,
        "kept once"
    );
    let all = s.equivocations().unwrap();
    assert_eq!(all.len(), 2);
    let fields = |e: &Evidence| (e.id, e.origin.clone(), e.detected, e.bundle.clone());
    assert_eq!(
        all.iter().map(fields).collect::<Vec<_>>(),
        [
            (a, "hotline/ru".to_owned(), 100, b"bundle a".to_vec()),
            (b, "hotline/fr".to_owned(), 200, b"bundle b".to_vec()),
        ]
    );
}

/// A memory store (the engine that injects failures) with one empty log.
fn memory_log() -> (MemoryStore, LogId) {
    let s = MemoryStore::new();
    let log = s.log_id("hotline/us", "us").unwrap();
    (s, log)
}

#[test]
fn a_failed_commit_leaves_the_log_as_it_was() {
    let (s, log) = memory_log();
    let (leaves, rows, _) = keyed();
    let split = rows.iter().position(|r| r.index == 2).unwrap();
    append(&s, log, &leaves[..2], Some(b"note 2"), Some(&rows[..split])).unwrap();
    let before = s.index_states(log).unwrap();
    s.fail_on(Step::AppendCommit, 1);
    assert!(append(&s, log, &leaves[2..], Some(b"note 3"), Some(&rows[split..])).is_err());
    assert!(!s.crashed(), "a failed commit is no crash");
    assert_eq!(s.size(log).unwrap(), 2);
    assert_eq!(indexes(&s.leaves(log, 0, 10).unwrap()), vec![0, 1]);
    assert_eq!(
        s.latest_checkpoint(log).unwrap(),
        Some((2, b"note 2".to_vec()))
    );
    assert_eq!(s.checkpoint_at(log, 3).unwrap(), None);
    assert_eq!(s.index_states(log).unwrap(), before);
    let ids: Vec<u64> = (0..tree::stored_hash_count(3)).collect();
    assert!(s.read_hashes(log, &ids).is_err(), "no hash of the batch");
    // The same batch again succeeds.
    append(&s, log, &leaves[2..], Some(b"note 3"), Some(&rows[split..])).unwrap();
    assert_eq!(s.size(log).unwrap(), 3);
    assert_eq!(s.index_states(log).unwrap().0, 3);
}

#[test]
fn a_crash_before_the_index_keeps_the_leaves_unindexed() {
    let (s, log) = memory_log();
    let (leaves, rows, st) = keyed();
    let split = rows.iter().position(|r| r.index == 2).unwrap();
    s.fail_on(Step::AppendIndex, 2);
    append(&s, log, &leaves[..2], Some(b"note 2"), Some(&rows[..split])).unwrap();
    assert!(append(&s, log, &leaves[2..], Some(b"note 3"), Some(&rows[split..])).is_err());
    assert!(s.crashed());
    assert_eq!(s.size(log).unwrap(), 3, "the leaves stay");
    assert_eq!(
        s.latest_checkpoint(log).unwrap(),
        Some((3, b"note 3".to_vec()))
    );
    assert_eq!(s.index_states(log).unwrap().0, 2, "their rows do not");
    assert!(
        s.add_index(log, 2, 3, &rows[split..]).is_err(),
        "no write until reopened"
    );
    assert!(s.log_id("hotline/fr", "fr").is_err(), "nor any other write");
    s.reopen();
    s.add_index(log, 2, 3, &rows[split..]).unwrap();
    assert_index(&s, log, 3, &st[3]);
}

/// Asserts that the stored index covers `size` entries and holds `states`
/// as every key's state there, in the order of the keys' ids.
fn assert_index<S: Store>(s: &S, log: LogId, size: u64, states: &[KeyState]) {
    let (covered, got) = s.index_states(log).unwrap();
    assert_eq!(covered, size);
    assert_eq!(got.into_iter().map(|(_, k)| k).collect::<Vec<_>>(), states);
}
