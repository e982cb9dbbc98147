//! What only the PostgreSQL engine has: its migrations, its refusal of a
//! newer schema, its connection errors, and calls from async code. The
//! roles themselves are held to the conformance suite (`store::conformance`).

use std::sync::Arc;

use super::testing::{PASSWORD_ROLE, database, execute};
use super::{PostgresStore, migrate, redact};
use crate::store::conformance::{append, leaf};
use crate::store::prelude::*;
use crate::store::{HashesOf, StoreError};

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
    let on = |c: &tokio_postgres::Client| -> String {
        super::wait(c.query_one("SHOW synchronous_commit", &[]))
            .unwrap()
            .get(0)
    };
    assert_eq!(on(&s.writer().unwrap()), "on");
    for r in &s.readers {
        assert_eq!(on(r), "on");
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
