//! What only the PostgreSQL engine has: its migrations, its refusal of a
//! newer schema, its connection errors, and calls from async code. The
//! roles themselves are held to the conformance suite (`store::conformance`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::testing::{PASSWORD_ROLE, Pair, database, execute};
use super::{PostgresStore, migrate, redact};
use crate::store::conformance::{append, leaf};
use crate::store::prelude::*;
use crate::store::{HashesOf, Holder, StoreError};

fn versions(url: &str) -> Vec<i64> {
    let client = super::connect(&url.parse().unwrap(), url).unwrap();
    super::wait(client.query("SELECT version FROM schema_version ORDER BY version", &[]))
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[test]
fn migrations_are_applied_once_and_reopening_changes_nothing() {
    let db = database();
    let s = PostgresStore::open(&db.url).unwrap();
    let log = s.log_id("hotline/us", "us").unwrap();
    drop(s);
    let all: Vec<i64> = (1..=migrate::supported()).collect();
    assert_eq!(versions(&db.url), all);
    let s = PostgresStore::open(&db.url).unwrap();
    assert_eq!(versions(&db.url), all, "reopening applies nothing again");
    assert_eq!(
        s.log_id_existing("hotline/us").unwrap(),
        log,
        "and keeps the data"
    );
}

#[test]
fn a_schema_newer_than_this_build_is_refused() {
    let db = database();
    drop(PostgresStore::open(&db.url).unwrap());
    let newer = migrate::supported() + 1;
    execute(
        &db.url,
        &format!("INSERT INTO schema_version VALUES ({newer})"),
    );
    let e = PostgresStore::open(&db.url).unwrap_err();
    assert!(
        matches!(e, StoreError::TooNew { found, .. } if found == newer),
        "{e:?}"
    );
    assert!(e.to_string().contains("newer than this build"), "{e}");
}

/// What a store error shows, every way it can be printed.
fn shown(e: &StoreError) -> String {
    format!("{e} / {e:?} / {:?}", std::error::Error::source(e))
}

#[test]
fn a_wrong_password_says_so_without_the_password() {
    let db = database();
    let url = format!(
        "postgresql://{PASSWORD_ROLE}:not-the-S3cret@127.0.0.1:{}/postgres",
        db.port
    );
    let e = PostgresStore::open(&url).unwrap_err();
    let text = shown(&e);
    assert!(text.contains("password authentication failed"), "{text}");
    assert!(text.contains(PASSWORD_ROLE), "{text}");
    assert!(text.contains(&format!("127.0.0.1:{}", db.port)), "{text}");
    assert!(!text.contains("not-the-S3cret"), "{text}");
    let logged = redact(&url);
    assert_eq!(
        logged,
        format!(
            "postgresql://{PASSWORD_ROLE}@127.0.0.1:{}/postgres",
            db.port
        )
    );
    let kv = format!(
        "host=127.0.0.1 port={} user={PASSWORD_ROLE} password=not-the-S3cret dbname=postgres",
        db.port
    );
    assert!(!shown(&PostgresStore::open(&kv).unwrap_err()).contains("not-the-S3cret"));
    assert!(!redact(&kv).contains("not-the-S3cret"));
}

#[test]
fn an_unreachable_server_is_named_without_the_password() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgresql://someone:hunter2-pw@127.0.0.1:{port}/nowhere");
    let e = PostgresStore::open(&url).unwrap_err();
    let text = shown(&e);
    assert!(matches!(e, StoreError::Connect { .. }), "{text}");
    assert!(
        text.contains(&format!("postgresql://someone@127.0.0.1:{port}/nowhere")),
        "{text}"
    );
    assert!(text.contains("error connecting to server"), "{text}");
    assert!(!text.contains("hunter2-pw"), "{text}");
    let e = PostgresStore::open("postgresql://a:hunter2-pw@127.0.0.1:notaport/x").unwrap_err();
    assert!(!shown(&e).contains("hunter2-pw"), "{}", shown(&e));
}

/// The node calls the store from async handlers and from blocking threads:
/// neither may panic (as a client that starts its own runtime would).
#[tokio::test(flavor = "multi_thread")]
async fn the_store_is_called_from_async_code_and_from_blocking_threads() {
    let db = database();
    let s = Arc::new(PostgresStore::open(&db.url).unwrap());
    let log = s.log_id("hotline/us", "us").unwrap();
    assert_eq!(s.size(log).unwrap(), 0);
    let blocking = Arc::clone(&s);
    let size = tokio::task::spawn_blocking(move || {
        let log = blocking.log_id("hotline/us", "us").unwrap();
        blocking.size(log).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(size, 0);
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let s = Arc::clone(&s);
            tokio::spawn(async move { s.log_id(&format!("hotline/p{i}"), "p").unwrap() })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    drop(s);
}

#[test]
fn commits_are_durable_on_every_connection() {
    let db = database();
    let s = PostgresStore::open(&db.url).unwrap();
    assert_eq!(synchronous_commit(&s.writer().unwrap()), "on");
    for r in &s.readers {
        assert_eq!(synchronous_commit(&r.lock().unwrap()), "on");
    }
}

/// Two stores on one database (as two nodes will be) appending to one log
/// at once: each batch lands once, after the last, or is refused whole.
#[test]
fn two_stores_appending_to_one_log_leave_no_gap_and_no_overlap() {
    const EACH: u64 = 25;
    let db = database();
    let stores = [
        PostgresStore::open(&db.url).unwrap(),
        PostgresStore::open(&db.url).unwrap(),
    ];
    let log = stores[0].log_id("hotline/us", "us").unwrap();
    std::thread::scope(|scope| {
        for (w, s) in stores.iter().enumerate() {
            scope.spawn(move || {
                let from = format!("us/writer{w}");
                for n in 0..EACH {
                    let one = [leaf(n, "message", &from, Some("ru/desk"))];
                    // A batch built on a size the other store has moved past is refused: rebuild it.
                    let mut tries = 0;
                    while let Err(e) = append(s, log, &one, None, None) {
                        tries += 1;
                        assert!(tries < 1000, "{e}");
                    }
                }
            });
        }
    });
    let s = &stores[0];
    assert_eq!(s.size(log).unwrap(), 2 * EACH);
    let leaves = s.leaves(log, 0, 1000).unwrap();
    let idx: Vec<u64> = leaves.iter().map(|l| l.index).collect();
    assert_eq!(idx, (0..2 * EACH).collect::<Vec<_>>());
    let mut seen: Vec<Vec<u8>> = leaves.iter().map(|l| l.leaf.clone()).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len() as u64, 2 * EACH, "every leaf once");
    let hashes: Vec<_> = leaves.iter().map(|l| l.leaf_hash).collect();
    let stored = hotline_proto::tree::root(&HashesOf { store: s, log }, 2 * EACH).unwrap();
    let (_, fresh) = {
        let other = PostgresStore::open(&database().url).unwrap();
        let log = other.log_id("hotline/us", "us").unwrap();
        crate::store::extend_tree(&other, log, 0, &hashes).unwrap()
    };
    assert_eq!(
        stored, fresh,
        "the stored tree is the tree of the stored leaves"
    );
}

/// Waits (up to a minute, polling) until `done` holds; fails saying `what`.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "still not {what} after a minute");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every leaf of `log`: at 0, 1, 2, … with no gap, each once, and the
/// stored tree is the tree of these leaves (as a fresh store computes it).
fn check_continuous(s: &PostgresStore, log: crate::store::LogId) -> Vec<Vec<u8>> {
    let size = s.size(log).unwrap();
    let leaves = s.leaves(log, 0, size + 1).unwrap();
    let idx: Vec<u64> = leaves.iter().map(|l| l.index).collect();
    assert_eq!(idx, (0..size).collect::<Vec<_>>(), "no gap, no overlap");
    let mut seen: Vec<Vec<u8>> = leaves.iter().map(|l| l.leaf.clone()).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len() as u64, size, "every leaf once");
    let stored = hotline_proto::tree::root(&HashesOf { store: s, log }, size).unwrap();
    let fresh = crate::store::memory::MemoryStore::new();
    let fresh_log = fresh.log_id("hotline/us", "us").unwrap();
    let hashes: Vec<_> = leaves.iter().map(|l| l.leaf_hash).collect();
    let (_, root) = crate::store::extend_tree(&fresh, fresh_log, 0, &hashes).unwrap();
    assert_eq!(
        stored, root,
        "the stored tree is the tree of the stored leaves"
    );
    leaves.into_iter().map(|l| l.leaf).collect()
}

/// The streaming-replication failover: the primary stopped hard mid-stream,
/// its synchronous standby promoted, and the same store object carries on
/// against it through the two-host URL. Nothing that was reported durable
/// is lost. Prints the time from the hard stop to the next durable append.
#[test]
fn appends_carry_on_after_the_primary_is_lost_and_its_synchronous_standby_promoted() {
    const BEFORE: usize = 40;
    const AFTER: usize = 40;
    let pair = Pair::start();
    let s = PostgresStore::open(&pair.url()).unwrap();
    let both = format!(
        "postgresql://postgres@127.0.0.1:{},127.0.0.1:{}/postgres",
        pair.primary_port, pair.standby_port
    );
    assert_eq!(s.target(), both);
    assert_eq!(
        redact(&format!("{both}?target_session_attrs=read-write")),
        both,
        "the URL form reads as the key=value form"
    );
    let log = s.log_id("hotline/us", "us").unwrap();
    let stop = AtomicBool::new(false);
    // Each attempt appends a leaf of its own number: (number, when it returned Ok).
    let durable: Mutex<Vec<(u64, Instant)>> = Mutex::new(Vec::new());
    let failed: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let count = || durable.lock().unwrap().len();
    let (killed, promoted) = std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let one = [leaf(n, "message", "us/writer", Some("ru/desk"))];
                match append(&s, log, &one, None, None) {
                    Ok(_) => durable.lock().unwrap().push((n, Instant::now())),
                    Err(e) => failed.lock().unwrap().push(e.to_string()),
                }
                n += 1;
            }
        });
        eventually("appending to the primary", || count() >= BEFORE);
        let killed = Instant::now();
        pair.kill_primary();
        let at_kill = count();
        pair.promote();
        let promoted = Instant::now();
        eventually("appending to the promoted standby", || {
            count() >= at_kill + AFTER
        });
        stop.store(true, Ordering::Relaxed);
        (killed, promoted)
    });
    let durable = durable.into_inner().unwrap();
    let failed = failed.into_inner().unwrap();
    let first_after = durable
        .iter()
        .map(|(_, t)| *t)
        .find(|t| *t > promoted)
        .expect("an append after the promotion");
    eprintln!(
        "failover: {} appends durable, {} failed while the primary was lost ({:?}); \
         hard stop to promoted standby accepting writes {:?}, hard stop to the next durable append {:?}",
        durable.len(),
        failed.len(),
        failed.first(),
        promoted - killed,
        first_after - killed,
    );
    let stored = check_continuous(&s, log);
    for (n, _) in &durable {
        let want = leaf(*n, "message", "us/writer", Some("ru/desk")).leaf;
        assert!(
            stored.contains(&want),
            "append {n} returned Ok and is not in the log"
        );
    }
    // The store is now on the promoted standby, alone.
    let on = super::wait(
        s.writer()
            .unwrap()
            .query_one("SELECT pg_is_in_recovery(), inet_server_port()", &[]),
    )
    .unwrap();
    assert!(!on.get::<_, bool>(0));
    assert_eq!(on.get::<_, i32>(1), i32::from(pair.standby_port));
}

/// A backend the server terminated (`pg_terminate_backend`, as an
/// administrator or a restart does) leaves a closed client; the next call
/// on each connection replaces it and succeeds.
#[test]
fn a_connection_the_server_dropped_is_replaced_on_its_next_use() {
    let db = database();
    let s = PostgresStore::open(&db.url).unwrap();
    let log = s.log_id("hotline/us", "us").unwrap();
    append(&s, log, &[leaf(0, "message", "us/a", None)], None, None).unwrap();
    terminate_backends(&s, &db.url);
    // Through readers (size, hashes) and the writer.
    append(&s, log, &[leaf(1, "message", "us/a", None)], None, None).unwrap();
    for _ in 0..READERS_AND_MORE {
        assert_eq!(s.size(log).unwrap(), 2);
    }
    assert!(!s.writer.lock().unwrap().is_closed());
    assert!(s.readers.iter().all(|r| !r.lock().unwrap().is_closed()));
    check_continuous(&s, log);
    assert_eq!(
        synchronous_commit(&s.writer().unwrap()),
        "on",
        "set again on the new connection"
    );
}

/// Each connection prepares a statement once and runs it from then on: the
/// writer's session holds a fixed set however many appends it makes, and a
/// replaced connection prepares afresh on its new session.
#[test]
fn statements_are_prepared_once_per_connection() {
    let db = database();
    let s = PostgresStore::open(&db.url).unwrap();
    let log = s.log_id("hotline/us", "us").unwrap();
    let prepared = |s: &PostgresStore| -> i64 {
        super::wait(
            s.writer()
                .unwrap()
                .client()
                .query_one("SELECT count(*) FROM pg_prepared_statements", &[]),
        )
        .unwrap()
        .get(0)
    };
    append(&s, log, &[leaf(0, "message", "us/a", None)], None, None).unwrap();
    let after_one = prepared(&s);
    assert!(
        after_one >= 4,
        "the append's statements are kept: {after_one}"
    );
    for n in 1..20 {
        append(&s, log, &[leaf(n, "message", "us/a", None)], None, None).unwrap();
    }
    assert_eq!(
        prepared(&s),
        after_one,
        "19 more appends prepared nothing new"
    );
    check_continuous(&s, log);
    terminate_backends(&s, &db.url);
    append(&s, log, &[leaf(20, "message", "us/a", None)], None, None).unwrap();
    let again = prepared(&s);
    assert!(
        (1..=after_one).contains(&again),
        "the new session prepared the append's statements afresh: {again} of {after_one}"
    );
    assert_eq!(s.size(log).unwrap(), 21);
}

/// A command that only reads (`hotline log`, `status`) holds two
/// connections, not a node's five.
#[test]
fn a_read_only_open_holds_two_connections() {
    let db = database();
    let node = PostgresStore::open(&db.url).unwrap();
    let name = db.url.rsplit('/').next().unwrap().to_owned();
    let c = super::connect(&db.url.parse().unwrap(), &db.url).unwrap();
    let count = || -> i64 {
        super::wait(c.query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[&name],
        ))
        .unwrap()
        .get(0)
    };
    assert_eq!(count(), 1 + super::READERS as i64);
    let reader = PostgresStore::open_read_only(&db.url).unwrap();
    assert_eq!(count(), 3 + super::READERS as i64);
    drop((node, reader));
}

/// Ends every server session on `url`'s database but the caller's, as a
/// restart or an administrator would, and waits until `s` sees each of its
/// connections closed.
fn terminate_backends(s: &PostgresStore, url: &str) {
    let name = url.rsplit('/').next().unwrap();
    execute(
        url,
        &format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ),
    );
    eventually("seeing every connection closed", || {
        s.writer.lock().unwrap().is_closed()
            && s.readers.iter().all(|r| r.lock().unwrap().is_closed())
    });
}

/// What the connection's session says of `synchronous_commit`.
fn synchronous_commit(c: &super::conn::Conn) -> String {
    super::wait(c.query_one("SHOW synchronous_commit", &[]))
        .unwrap()
        .get(0)
}

/// Enough calls to go round every reader connection.
const READERS_AND_MORE: usize = 2 * super::READERS;

#[test]
fn a_server_error_says_what_the_server_said() {
    let db = database();
    let client = super::connect(&db.url.parse().unwrap(), &db.url).unwrap();
    let e = super::wait(client.batch_execute("SELECT * FROM no_such_table")).unwrap_err();
    let text = StoreError::Postgres(e).to_string();
    assert_eq!(
        text,
        "PostgreSQL: ERROR: relation \"no_such_table\" does not exist (SQLSTATE 42P01)"
    );
    super::wait(
        client.batch_execute("CREATE TABLE once (k INT PRIMARY KEY); INSERT INTO once VALUES (7)"),
    )
    .unwrap();
    let e = super::wait(client.batch_execute("INSERT INTO once VALUES (7)")).unwrap_err();
    let text = StoreError::Postgres(e).to_string();
    assert!(
        text.contains("duplicate key value violates unique constraint \"once_pkey\""),
        "{text}"
    );
    assert!(
        text.contains("(SQLSTATE 23505); detail: Key (k)=(7) already exists."),
        "{text}"
    );
    // A login refused: the server's words, in one line, once.
    let url = format!("postgresql://postgres@127.0.0.1:{}/no_such_db", db.port);
    let text = PostgresStore::open(&url).unwrap_err().to_string();
    assert_eq!(
        text,
        format!(
            "connecting to {url}: FATAL: database \"no_such_db\" does not exist (SQLSTATE 3D000)"
        )
    );
}

fn holder(party: &str, key: &str) -> Holder {
    Holder {
        party: party.into(),
        log_key: format!("hotline/{party}+{key}"),
        witness_key: format!("hotline/{party}/witness+{key}"),
    }
}

#[test]
fn a_database_holds_one_partys_log() {
    let db = database();
    let s = PostgresStore::open(&db.url).unwrap();
    assert_eq!(s.holder().unwrap(), None);
    let us = holder("us", "aaaa");
    s.claim(&us).unwrap();
    // A restart, or a replica (another store on the database), of the same party.
    s.claim(&us).unwrap();
    let replica = PostgresStore::open(&db.url).unwrap();
    replica.claim(&us).unwrap();

    let e = replica.claim(&holder("ru", "bbbb")).unwrap_err();
    assert!(matches!(e, StoreError::OtherParty { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        "this database holds party us's log (log key hotline/us+aaaa); this directory is party ru's (log key hotline/ru+bbbb): give each party its own database"
    );
    let e = replica.claim(&holder("us", "cccc")).unwrap_err();
    let text = e.to_string();
    assert!(
        text.starts_with("this database holds party us's log (log key hotline/us+aaaa, witness key hotline/us/witness+aaaa); this directory is party us's with other keys (log key hotline/us+cccc"),
        "{text}"
    );
    assert!(
        text.ends_with(
            "restore the keys this party was created with, or give each party its own database"
        ),
        "{text}"
    );
    let mut other_witness = us.clone();
    other_witness.witness_key = "hotline/us/witness+dddd".into();
    assert!(
        replica.claim(&other_witness).is_err(),
        "the witness key counts too"
    );
    assert_eq!(s.holder().unwrap(), Some(us), "the record is unchanged");
    // A reader sees the record without migrating.
    let reader = PostgresStore::open_read_only(&db.url).unwrap();
    assert_eq!(reader.holder().unwrap().unwrap().party, "us");
}

#[test]
fn an_older_database_has_no_holder_to_read() {
    let db = database();
    // What a build before migration 0002 left: no holder table.
    execute(
        &db.url,
        "CREATE TABLE schema_version (version BIGINT PRIMARY KEY); INSERT INTO schema_version VALUES (1)",
    );
    let reader = PostgresStore::open_read_only(&db.url).unwrap();
    assert_eq!(reader.holder().unwrap(), None);
}

/// With no primary to be found (stopped, its standby not yet promoted), a
/// call gives up after the bounded retry and says why, naming the servers
/// without a password; once the standby is promoted, the next call works.
#[test]
fn with_no_primary_a_call_gives_up_saying_why_and_a_later_one_recovers() {
    let pair = Pair::start();
    let url = pair
        .url()
        .replace("user=postgres", "user=postgres password=never-shown");
    let s = PostgresStore::open(&url).unwrap();
    let log = s.log_id("hotline/us", "us").unwrap();
    pair.kill_primary();
    let started = Instant::now();
    let e = s.writer().map(|_| ()).unwrap_err();
    let text = shown(&e);
    eprintln!("gave up after {:?}: {text}", started.elapsed());
    assert!(matches!(e, StoreError::Connect { .. }), "{text}");
    assert!(
        text.contains(&format!(
            "connecting to postgresql://postgres@127.0.0.1:{},127.0.0.1:{}/postgres: ",
            pair.primary_port, pair.standby_port
        )),
        "{text}"
    );
    assert!(!text.contains("never-shown"), "{text}");
    // A read fails too (its connection is as dead), then both recover.
    assert!(s.size(log).is_err());
    pair.promote();
    append(&s, log, &[leaf(0, "message", "us/a", None)], None, None).unwrap();
    assert_eq!(s.size(log).unwrap(), 1);
}
