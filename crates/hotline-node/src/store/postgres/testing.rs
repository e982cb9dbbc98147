//! PostgreSQL for tests: one throwaway server per test process, started on
//! first use by `scripts/pg-test-cluster`, and a fresh database per test.
//! A watcher process stops the server and removes its folder once the test
//! process has gone, however it ended. When the server cannot be started,
//! the tests that need it fail, saying why: they are never skipped.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use super::{connect, wait};

/// The role with a password (trust is for every other role, on loopback only).
pub(crate) const PASSWORD_ROLE: &str = "hotline_pw";

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/pg-test-cluster");

struct Server {
    port: u16,
}

/// A database of its own for one test.
pub(crate) struct TestDb {
    /// Its URL (trust authentication: no password).
    pub url: String,
    /// The server's port.
    pub port: u16,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let dir: PathBuf = tempfile::Builder::new()
            .prefix("hotline-pg-")
            .tempdir()
            .expect("a folder for the test PostgreSQL server")
            .keep();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let out = Command::new(SCRIPT)
            .arg("start")
            .arg(&dir)
            .arg(port.to_string())
            // The script stops the server once this process ends.
            .arg(std::process::id().to_string())
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("running scripts/pg-test-cluster: {e}"));
        assert!(
            out.status.success(),
            "the tests need PostgreSQL, and scripts/pg-test-cluster could not start it \
             (is PostgreSQL installed? scripts/test installs it):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Server { port }
    })
}

/// A fresh, empty database on the test server.
pub(crate) fn database() -> TestDb {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    // CREATE DATABASE copies a template that must not be in use: one at a time.
    static CREATING: Mutex<()> = Mutex::new(());
    let port = server().port;
    let name = format!(
        "t{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let admin = format!("postgresql://postgres@127.0.0.1:{port}/postgres");
    let _one = CREATING.lock().unwrap_or_else(|e| e.into_inner());
    let client = connect(&admin.parse().expect("the admin URL"), &admin)
        .unwrap_or_else(|e| panic!("connecting to the test PostgreSQL server: {e}"));
    wait(client.batch_execute(&format!("CREATE DATABASE {name}")))
        .unwrap_or_else(|e| panic!("creating database {name}: {e}"));
    TestDb {
        url: format!("postgresql://postgres@127.0.0.1:{port}/{name}"),
        port,
    }
}

/// Runs SQL on `url` outside the store (to set up what a test needs).
pub(crate) fn execute(url: &str, sql: &str) {
    let client = connect(&url.parse().expect("a test URL"), url)
        .unwrap_or_else(|e| panic!("connecting to {url}: {e}"));
    wait(client.batch_execute(sql)).unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// A free loopback port (bound, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Runs `scripts/pg-test-cluster ARGS`, failing the test with its words.
fn script(args: &[&str]) {
    let out = Command::new(SCRIPT)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running scripts/pg-test-cluster: {e}"));
    assert!(
        out.status.success(),
        "scripts/pg-test-cluster {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A primary and its synchronous streaming standby, of one test's own
/// (the test stops the primary), both stopped and removed once the test
/// process ends.
pub(crate) struct Pair {
    primary: PathBuf,
    standby: PathBuf,
    /// The primary's port.
    pub primary_port: u16,
    /// The standby's port.
    pub standby_port: u16,
}

impl Pair {
    pub(crate) fn start() -> Self {
        let dir = |name: &str| -> PathBuf {
            tempfile::Builder::new()
                .prefix(name)
                .tempdir()
                .expect("a folder for a test PostgreSQL server")
                .keep()
        };
        let (primary, standby) = (dir("hotline-pg-primary-"), dir("hotline-pg-standby-"));
        let (primary_port, standby_port) = (free_port(), free_port());
        let pid = std::process::id().to_string();
        let path = |p: &PathBuf| p.to_str().expect("a UTF-8 temporary path").to_owned();
        script(&["start", &path(&primary), &primary_port.to_string(), &pid]);
        script(&[
            "standby",
            &path(&primary),
            &path(&standby),
            &standby_port.to_string(),
            &pid,
        ]);
        Self {
            primary,
            standby,
            primary_port,
            standby_port,
        }
    }

    /// Both servers in one libpq URL: the node follows the primary.
    pub(crate) fn url(&self) -> String {
        format!(
            "host=127.0.0.1,127.0.0.1 port={},{} user=postgres dbname=postgres target_session_attrs=read-write",
            self.primary_port, self.standby_port
        )
    }

    /// Stops the primary hard, as a crash.
    pub(crate) fn kill_primary(&self) {
        script(&["stop", self.primary.to_str().unwrap(), "immediate"]);
    }

    /// Promotes the standby; returns once it accepts writes.
    pub(crate) fn promote(&self) {
        script(&["promote", self.standby.to_str().unwrap()]);
    }
}
