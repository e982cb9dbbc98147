//! The console database's contract (moved here with its tables from the
//! node store's conformance suite), and the one-time carry-over of an older
//! node directory's rows.

use rusqlite::Connection;

use super::{ConsoleStore, OperatorRow, SessionRow};
use hotline_node::store::sqlite::SqliteStore;

fn fresh() -> (tempfile::TempDir, ConsoleStore) {
    let tmp = tempfile::tempdir().unwrap();
    let s = ConsoleStore::open_at(
        &tmp.path().join(super::FILE),
        &tmp.path().join("hotline.db"),
    )
    .unwrap();
    (tmp, s)
}

#[test]
fn seen_marks_move_forward() {
    let (_tmp, s) = fresh();
    assert_eq!(s.seen_mark("alice", "us/a>ru/b").unwrap(), None);
    s.set_seen_mark("alice", "us/a>ru/b", 5).unwrap();
    s.set_seen_mark("alice", "us/a>ru/b", 3).unwrap();
    assert_eq!(
        s.seen_mark("alice", "us/a>ru/b").unwrap(),
        Some(5),
        "never back"
    );
    s.set_seen_mark("alice", "us/a>ru/b", 7).unwrap();
    assert_eq!(s.seen_mark("alice", "us/a>ru/b").unwrap(), Some(7));
    assert_eq!(s.seen_mark("bob", "us/a>ru/b").unwrap(), None);
    assert_eq!(s.seen_mark("alice", "us/c>ru/b").unwrap(), None);
}

fn operator(name: &str, hash: &str) -> OperatorRow {
    OperatorRow {
        name: name.to_owned(),
        offices: vec!["us/state".into(), "us/fbi".into()],
        admin: name == "alice",
        password_hash: hash.to_owned(),
        failures: 0,
        locked_until: None,
        created: 1000,
    }
}

fn session(token: u8, operator: &str, created: i64) -> SessionRow {
    SessionRow {
        token_hash: [token; 32],
        operator: operator.to_owned(),
        csrf: format!("csrf{token}"),
        created,
        last_seen: created,
    }
}

#[test]
fn operators() {
    let (_tmp, s) = fresh();
    assert!(s.operators().unwrap().is_empty());
    assert!(s.add_operator(&operator("bob", "h-bob")).unwrap());
    assert!(s.add_operator(&operator("alice", "h-alice")).unwrap());
    assert!(
        !s.add_operator(&operator("bob", "other")).unwrap(),
        "name taken"
    );
    let names: Vec<String> = s.operators().unwrap().into_iter().map(|o| o.name).collect();
    assert_eq!(names, ["alice", "bob"]);
    assert_eq!(s.operator("bob").unwrap(), Some(operator("bob", "h-bob")));
    assert_eq!(s.operator("carol").unwrap(), None);

    // Failed logins count up, one at a time; unlock clears the count.
    assert_eq!(s.operator_login_failed("bob").unwrap(), Some(1));
    assert_eq!(s.operator_login_failed("bob").unwrap(), Some(2));
    assert_eq!(s.operator_login_failed("carol").unwrap(), None);
    assert_eq!(s.operator("bob").unwrap().unwrap().failures, 2);
    assert!(s.unlock_operator("bob").unwrap());
    assert!(!s.unlock_operator("carol").unwrap());
    assert_eq!(s.operator("bob").unwrap().unwrap().failures, 0);

    // A new password ends the operator's sessions.
    assert!(
        s.operator_login_succeeded("h-bob", &session(1, "bob", 50), 0, 0)
            .unwrap()
    );
    assert!(s.operator_session(&[1; 32]).unwrap().is_some());
    assert!(s.set_operator_password("bob", "h-bob-2").unwrap());
    assert!(!s.set_operator_password("carol", "x").unwrap());
    assert_eq!(s.operator("bob").unwrap().unwrap().password_hash, "h-bob-2");
    assert!(s.operator_session(&[1; 32]).unwrap().is_none());

    // Removing an operator removes its sessions.
    assert!(
        s.operator_login_succeeded("h-bob-2", &session(2, "bob", 60), 0, 0)
            .unwrap()
    );
    assert!(s.remove_operator("bob").unwrap());
    assert!(!s.remove_operator("bob").unwrap());
    assert_eq!(s.operator("bob").unwrap(), None);
    assert!(s.operator_session(&[2; 32]).unwrap().is_none());
    assert_eq!(s.operators().unwrap().len(), 1);
}

#[test]
fn sessions() {
    let (_tmp, s) = fresh();
    s.add_operator(&operator("alice", "h-alice")).unwrap();
    s.operator_login_failed("alice").unwrap();
    // A login against a stale password hash stores nothing.
    assert!(
        !s.operator_login_succeeded("old", &session(1, "alice", 100), 0, 0)
            .unwrap()
    );
    assert!(s.operator_session(&[1; 32]).unwrap().is_none());
    assert_eq!(s.operator("alice").unwrap().unwrap().failures, 1);
    assert!(
        !s.operator_login_succeeded("h", &session(1, "carol", 100), 0, 0)
            .unwrap()
    );

    assert!(
        s.operator_login_succeeded("h-alice", &session(1, "alice", 100), 0, 0)
            .unwrap()
    );
    assert_eq!(s.operator("alice").unwrap().unwrap().failures, 0, "reset");
    let (sess, op) = s.operator_session(&[1; 32]).unwrap().unwrap();
    assert_eq!(sess, session(1, "alice", 100));
    assert_eq!(op, operator("alice", "h-alice"));

    // last_seen moves forward only.
    s.touch_operator_session(&[1; 32], 150).unwrap();
    s.touch_operator_session(&[1; 32], 120).unwrap();
    s.touch_operator_session(&[9; 32], 150).unwrap();
    assert_eq!(
        s.operator_session(&[1; 32]).unwrap().unwrap().0.last_seen,
        150
    );

    // A later login drops sessions idle since `idle_before` or created
    // before `created_before`, and keeps the others.
    assert!(
        s.operator_login_succeeded("h-alice", &session(2, "alice", 200), 0, 0)
            .unwrap()
    );
    assert!(
        s.operator_login_succeeded("h-alice", &session(3, "alice", 300), 150, 0)
            .unwrap()
    );
    assert!(
        s.operator_session(&[1; 32]).unwrap().is_none(),
        "idle since 150"
    );
    assert!(s.operator_session(&[2; 32]).unwrap().is_some());
    assert!(
        s.operator_login_succeeded("h-alice", &session(4, "alice", 400), 0, 200)
            .unwrap()
    );
    assert!(
        s.operator_session(&[2; 32]).unwrap().is_none(),
        "created at 200"
    );
    assert!(s.operator_session(&[3; 32]).unwrap().is_some());

    s.end_operator_session(&[3; 32]).unwrap();
    s.end_operator_session(&[9; 32]).unwrap();
    assert!(s.operator_session(&[3; 32]).unwrap().is_none());
    assert!(s.operator_session(&[4; 32]).unwrap().is_some());
}

/// The console tables as older versions created them in `hotline.db`
/// (node migrations 0007 and 0008).
const OLD_TABLES: &str = "
CREATE TABLE operators (
    name TEXT PRIMARY KEY, offices TEXT NOT NULL, admin INTEGER NOT NULL DEFAULT 0,
    password_hash TEXT NOT NULL, failures INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER, created INTEGER NOT NULL
);
CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    operator TEXT NOT NULL REFERENCES operators(name) ON DELETE CASCADE,
    csrf TEXT NOT NULL, created INTEGER NOT NULL, last_seen INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE console_seen (
    operator TEXT NOT NULL, channel TEXT NOT NULL, idx INTEGER NOT NULL,
    PRIMARY KEY (operator, channel)
);
";

/// A node database laid out as an older version left it: the node's own
/// tables, and the console's beside them with `rows` of each.
fn old_node_db(path: &std::path::Path) -> Connection {
    drop(SqliteStore::open(path).unwrap());
    let c = Connection::open(path).unwrap();
    c.execute_batch(OLD_TABLES).unwrap();
    c.execute_batch(
        r#"
        INSERT INTO operators VALUES ('alice', '["us/fbi"]', 1, 'h-alice', 2, NULL, 1000);
        INSERT INTO operators VALUES ('bob', '["us/state","us/fbi"]', 0, 'h-bob', 0, 5000, 1001);
        INSERT INTO sessions VALUES (zeroblob(32), 'alice', 'csrf-a', 1100, 1200);
        INSERT INTO console_seen VALUES ('alice', 'us/fbi ru/fsb', 7);
        INSERT INTO console_seen VALUES ('bob', 'us/fbi ru/fsb', 3);
        "#,
    )
    .unwrap();
    c
}

fn count(c: &Connection, table: &str) -> i64 {
    c.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[test]
fn an_older_directory_is_carried_over_once() {
    let tmp = tempfile::tempdir().unwrap();
    let node_db = tmp.path().join("hotline.db");
    let path = tmp.path().join(super::FILE);
    let old = old_node_db(&node_db);

    let s = ConsoleStore::open_at(&path, &node_db).unwrap();
    let names: Vec<String> = s.operators().unwrap().into_iter().map(|o| o.name).collect();
    assert_eq!(names, ["alice", "bob"]);
    assert_eq!(
        s.operator("bob").unwrap().unwrap(),
        OperatorRow {
            name: "bob".into(),
            offices: vec!["us/state".into(), "us/fbi".into()],
            admin: false,
            password_hash: "h-bob".into(),
            failures: 0,
            locked_until: Some(5000),
            created: 1001,
        }
    );
    let (session, op) = s.operator_session(&[0; 32]).unwrap().unwrap();
    assert_eq!(
        (session.csrf.as_str(), session.created, session.last_seen),
        ("csrf-a", 1100, 1200)
    );
    assert_eq!(
        (op.name.as_str(), op.failures, op.admin),
        ("alice", 2, true)
    );
    assert_eq!(s.seen_mark("alice", "us/fbi ru/fsb").unwrap(), Some(7));
    assert_eq!(s.seen_mark("bob", "us/fbi ru/fsb").unwrap(), Some(3));

    // The old tables stay as they were.
    assert_eq!(count(&old, "operators"), 2);
    assert_eq!(count(&old, "sessions"), 1);
    assert_eq!(count(&old, "console_seen"), 2);

    // Changes after the copy are the console's own; reopening copies nothing
    // again, not even rows the old tables gained since.
    assert!(s.remove_operator("bob").unwrap());
    drop(s);
    old.execute(
        "INSERT INTO operators VALUES ('carol', '[\"us/fbi\"]', 0, 'h', 0, NULL, 1)",
        [],
    )
    .unwrap();
    let s = ConsoleStore::open_at(&path, &node_db).unwrap();
    let names: Vec<String> = s.operators().unwrap().into_iter().map(|o| o.name).collect();
    assert_eq!(names, ["alice"]);
    let c = Connection::open(&path).unwrap();
    let record: (i64, i64, i64, i64) = c
        .query_row(
            "SELECT COUNT(*), SUM(operators), SUM(sessions), SUM(seen_marks) FROM carried_over",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(record, (1, 2, 1, 2));
}

#[test]
fn a_new_directory_has_nothing_to_carry() {
    let tmp = tempfile::tempdir().unwrap();
    let node_db = tmp.path().join("hotline.db");
    drop(SqliteStore::open(&node_db).unwrap());
    let s = ConsoleStore::open_at(&tmp.path().join(super::FILE), &node_db).unwrap();
    assert!(s.operators().unwrap().is_empty());
    // Nor does a node database that is not there yet.
    let (_tmp, s) = fresh();
    assert!(s.operators().unwrap().is_empty());
}

#[test]
fn the_file_is_private_and_a_newer_schema_is_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let (tmp, s) = fresh();
    drop(s);
    let path = tmp.path().join(super::FILE);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    Connection::open(&path)
        .unwrap()
        .execute("INSERT INTO schema_version (version) VALUES (99)", [])
        .unwrap();
    let e = ConsoleStore::open_at(&path, &tmp.path().join("hotline.db"))
        .err()
        .expect("refused");
    assert!(e.to_string().contains("version 99"), "{e}");
}

/// A status is written without waiting for the disk, and only it: every
/// other write of the console database still syncs in full.
#[test]
fn a_taxii_status_is_kept_and_leaves_full_sync_behind() {
    let (_tmp, s) = fresh();
    let sync = |s: &ConsoleStore| -> i64 {
        s.conn()
            .unwrap()
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap()
    };
    assert_eq!(sync(&s), 2, "FULL from the start");
    assert!(s.add_operator(&operator("alice", "h-alice")).unwrap());
    s.add_taxii_status("st-1", "alice", "hotline", "{\"id\":\"st-1\"}", 1)
        .unwrap();
    assert_eq!(sync(&s), 2, "FULL again after the status");
    assert_eq!(
        s.taxii_status("st-1", "alice", "hotline")
            .unwrap()
            .as_deref(),
        Some("{\"id\":\"st-1\"}")
    );
    assert_eq!(s.taxii_status("st-1", "bob", "hotline").unwrap(), None);
    // A second status under the same id is refused, and FULL still holds.
    assert!(
        s.add_taxii_status("st-1", "alice", "hotline", "{}", 2)
            .is_err()
    );
    assert_eq!(sync(&s), 2, "FULL again after a refused status");
}
