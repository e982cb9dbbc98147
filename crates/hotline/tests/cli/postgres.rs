//! A node whose log is stored in PostgreSQL (`hotline init --store URL`)
//! beside one on SQLite: federation, receipts, mirrors and status as on
//! SQLite; a wrong password or a server nobody runs refused at init,
//! saying what is wrong and never the password.

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
    let err = fails(&[
        "init",
        "--party",
        "us",
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
