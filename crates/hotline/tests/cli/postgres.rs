//! A node whose log is stored in PostgreSQL (`hotline init --store URL`)
//! beside one on SQLite: federation, receipts, mirrors and status as on
//! SQLite; a wrong password, database or host refused at init, saying
//! what is wrong and never the password; one party per database; a running
//! node following its database to a promoted synchronous standby.

use super::federation::{log_json_peer, wait_converged};
use super::util::*;

#[test]
fn a_node_on_postgresql_federates_with_one_on_sqlite() {
    let url = format!("postgresql://postgres@127.0.0.1:{}/postgres", pg_server());
    let us = Party::init("us", &["--store", &url]);
    let ru = Party::new("ru");
    let toml = std::fs::read_to_string(us.dir.join("hotline.toml")).unwrap();
    assert!(
        toml.contains(&format!("[store]\nurl = \"{url}\"\n")),
        "{toml}"
    );
    assert!(
        !us.dir.join("hotline.db").exists(),
        "SQLite made beside PostgreSQL"
    );
    let toml = std::fs::read_to_string(ru.dir.join("hotline.toml")).unwrap();
    assert!(!toml.contains("[store]"), "{toml}");

    ok(&["office", "add", "us/fbi", "--dir", us.d()]);
    ok(&["office", "add", "ru/fsb", "--dir", ru.d()]);
    set_cosign_interval(&us.dir, 1);
    set_cosign_interval(&ru.dir, 1);
    let (a, b) = (Served::start(&us.dir), Served::start(&ru.dir));
    federate(&us, &ru);
    agree(&us, &ru, &example("cyber-agreement.toml"));
    let sent = send(&us, "us/fbi", "ru/fsb", "stored in PostgreSQL");
    let answer = send(&ru, "ru/fsb", "us/fbi", "stored in SQLite");
    // Mirrors equal their logs, every entry owed a receipt has exactly one,
    // both logs cosigned in full.
    wait_converged(&us, &ru, 60);

    let own = log_json(us.d());
    assert_eq!(header_of(&own, &format!("us:{sent}"))["kind"], "message");
    let mirrored = log_json_peer(ru.d(), "us");
    assert_eq!(
        header_of(&mirrored, &format!("us:{sent}"))["kind"],
        "message"
    );
    let receipt = log_json_peer(us.d(), "ru").into_iter().find(|l| {
        l["header"]["kind"] == "receipt"
            && l["header"]["refs"][0]["log"] == "us"
            && l["header"]["refs"][0]["index"] == sent
    });
    assert!(receipt.is_some(), "no receipt of us:{sent} mirrored by us");
    let read = ok(&["read", &format!("us:{sent}"), "--dir", us.d()]);
    assert!(read.contains("stored in PostgreSQL"), "{read}");
    assert!(read.contains("receipt   ru:"), "{read}");
    let read = ok(&["read", &format!("ru:{answer}"), "--dir", us.d()]);
    assert!(read.contains("stored in SQLite"), "{read}");

    let st = json(&ok(&["status", "--dir", us.d(), "--json"]));
    assert_eq!(st["store"]["engine"], "postgresql", "{st}");
    assert_eq!(st["store"]["url"], url.as_str(), "{st}");
    assert_eq!(st["log_size"].as_u64(), Some(own.len() as u64), "{st}");
    let st = json(&ok(&["status", "--dir", ru.d(), "--json"]));
    assert_eq!(st["store"]["engine"], "sqlite", "{st}");
    let file = st["store"]["file"].as_str().unwrap_or_default();
    assert!(file.ends_with("/ru/hotline.db"), "{st}");
    let text = ok(&["status", "--dir", us.d()]);
    assert!(
        text.contains(&format!("stored in PostgreSQL, {url}")),
        "{text}"
    );

    // A restart finds the log where it left it.
    drop(a);
    let a = Served::start(&us.dir);
    assert_eq!(log_json(us.d()).len(), own.len());
    drop((a, b));
}

/// `hotline init --store url` for party us in `dir`, which must fail and
/// leave no hotline.toml behind: what it said.
fn init_refused(dir: &std::path::Path, url: &str) -> String {
    init_refused_as("us", dir, url)
}

/// The same for `party`.
fn init_refused_as(party: &str, dir: &std::path::Path, url: &str) -> String {
    let err = fails(&[
        "init",
        "--party",
        party,
        "--dir",
        dir.to_str().unwrap(),
        "--store",
        url,
    ]);
    assert!(
        !dir.join("hotline.toml").exists(),
        "a failed init left hotline.toml"
    );
    err
}

#[test]
fn a_wrong_password_fails_init_and_is_never_printed() {
    let port = pg_server();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("us");
    let url = format!("postgresql://hotline_pw:not-the-password@127.0.0.1:{port}/postgres");
    let err = init_refused(&dir, &url);
    assert!(err.contains("password authentication failed"), "{err}");
    assert!(
        err.contains(&format!(
            "postgresql://hotline_pw@127.0.0.1:{port}/postgres"
        )),
        "{err}"
    );
    assert!(!err.contains("not-the-password"), "{err}");
}

#[test]
fn a_server_nobody_runs_fails_init_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("us");
    // A port just freed: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let url = format!("postgresql://hotline:secret-word@127.0.0.1:{port}/hotline");
    let err = init_refused(&dir, &url);
    assert!(
        err.contains(&format!(
            "connecting to postgresql://hotline@127.0.0.1:{port}/hotline"
        )),
        "{err}"
    );
    assert!(err.contains("refused"), "{err}");
    assert!(!err.contains("secret-word"), "{err}");

    let err = init_refused(&dir, "mysql://x");
    assert!(err.contains("--store is not a PostgreSQL URL"), "{err}");
}

#[test]
fn a_wrong_database_fails_init_in_the_servers_words() {
    let port = pg_server();
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("postgresql://postgres:some-pw@127.0.0.1:{port}/no_such_db");
    let err = init_refused(&tmp.path().join("us"), &url);
    assert!(
        err.contains(&format!(
            "connecting to postgresql://postgres@127.0.0.1:{port}/no_such_db: FATAL: database \"no_such_db\" does not exist (SQLSTATE 3D000)"
        )),
        "{err}"
    );
    assert!(!err.contains("some-pw"), "{err}");
    // A host that does not resolve.
    let err = init_refused(
        &tmp.path().join("us"),
        "postgresql://postgres:some-pw@no-such-host.invalid:5432/x",
    );
    assert!(
        err.contains("connecting to postgresql://postgres@no-such-host.invalid:5432/x: error connecting to server"),
        "{err}"
    );
    assert!(!err.contains("some-pw"), "{err}");
}

/// One party per database: a second party's init against it is refused
/// before anything is made, and so is a node of another party pointed at
/// it by hand; neither writes anything there.
#[test]
fn a_second_party_on_one_database_is_refused_and_changes_nothing() {
    let url = fresh_database("one_party");
    let us = Party::init("us", &["--store", &url]);
    let us_key = us.vkey();
    let before = log_json(us.d());

    let tmp = tempfile::tempdir().unwrap();
    let err = init_refused_as("ru", &tmp.path().join("ru"), &url);
    assert!(
        err.contains(&format!(
            "the PostgreSQL database {url} holds party us's log (log key {us_key}); `init` would make party ru's with new keys: give each party its own database"
        )),
        "{err}"
    );
    assert!(
        !tmp.path().join("ru").exists(),
        "a refused init left its directory"
    );

    // ru made on SQLite, then pointed at us's database.
    let ru = Party::new("ru");
    let ru_key = ru.vkey();
    let toml = ru.dir.join("hotline.toml");
    let mut text = std::fs::read_to_string(&toml).unwrap();
    text.push_str(&format!("\n[store]\nurl = \"{url}\"\n"));
    std::fs::write(&toml, text).unwrap();
    let err = fails(&["serve", "--dir", ru.d()]);
    assert!(
        err.contains(&format!(
            "refusing to start on PostgreSQL {url}: this database holds party us's log (log key {us_key}); this directory is party ru's (log key {ru_key}): give each party its own database"
        )),
        "{err}"
    );
    let err = fails(&["log", "--dir", ru.d()]);
    assert!(err.contains("no log hotline/ru"), "ru wrote its log: {err}");
    assert_eq!(log_json(us.d()), before, "us's log changed");
    // us itself still starts on it.
    drop(Served::start(&us.dir));
}

/// A primary and its synchronous standby of one test's own (the test stops
/// the primary), stopped and removed once the test process ends.
pub struct PgPair {
    pub primary: std::path::PathBuf,
    pub standby: std::path::PathBuf,
    ports: (u16, u16),
}

impl PgPair {
    const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/pg-test-cluster");

    pub fn run(args: &[&str]) {
        let out = std::process::Command::new(Self::SCRIPT)
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg-test-cluster {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn start() -> Self {
        let dir = |prefix: &str| {
            tempfile::Builder::new()
                .prefix(prefix)
                .tempdir()
                .unwrap()
                .keep()
        };
        let port = || {
            std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .unwrap()
                .port()
        };
        let pair = Self {
            primary: dir("hotline-cli-pg-primary-"),
            standby: dir("hotline-cli-pg-standby-"),
            ports: (port(), port()),
        };
        let pid = std::process::id().to_string();
        let (p, s) = (
            pair.primary.to_str().unwrap(),
            pair.standby.to_str().unwrap(),
        );
        Self::run(&["start", p, &pair.ports.0.to_string(), &pid]);
        Self::run(&["standby", p, s, &pair.ports.1.to_string(), &pid]);
        pair
    }

    pub fn url(&self) -> String {
        format!(
            "postgresql://postgres@127.0.0.1:{},127.0.0.1:{}/postgres?target_session_attrs=read-write",
            self.ports.0, self.ports.1
        )
    }
}

/// PostgreSQL's own failover under a running node: the primary stopped
/// hard, its synchronous standby promoted, and the node carries on through
/// its two-host URL without a restart, with nothing it reported lost.
#[test]
fn a_running_node_follows_its_database_to_the_promoted_standby() {
    let pair = PgPair::start();
    let us = Party::init("us", &["--store", &pair.url()]);
    ok(&["office", "add", "us/fbi", "--dir", us.d()]);
    ok(&["office", "add", "us/state", "--dir", us.d()]);
    let node = Served::start(&us.dir);
    let before = send(&us, "us/fbi", "us/state", "sent to the primary");
    PgPair::run(&["stop", pair.primary.to_str().unwrap(), "immediate"]);
    PgPair::run(&["promote", pair.standby.to_str().unwrap()]);
    let after = send(&us, "us/fbi", "us/state", "sent to the promoted standby");
    assert_eq!(after, before + 1);
    let read = ok(&["read", &format!("us:{before}"), "--dir", us.d()]);
    assert!(read.contains("sent to the primary"), "{read}");
    let read = ok(&["read", &format!("us:{after}"), "--dir", us.d()]);
    assert!(read.contains("sent to the promoted standby"), "{read}");
    let st = json(&ok(&["status", "--dir", us.d(), "--json"]));
    assert_eq!(st["log_size"].as_u64(), Some(after + 1), "{st}");
    assert_eq!(
        st["store"]["url"],
        format!(
            "postgresql://postgres@127.0.0.1:{},127.0.0.1:{}/postgres",
            pair.ports.0, pair.ports.1
        ),
        "{st}"
    );
    drop(node);
}
