//! `hotline operator`: console operators added, listed, re-passworded,
//! unlocked and removed from the command line, with or without a running
//! node; the logins themselves are checked through the library.

use std::path::Path;

use hotline_console::config::ConsoleConfig;
use hotline_console::operators::{LoginError, Operators};
use hotline_node::dir::NodeDir;
use hotline_proto::party::Party as PartyName;

use super::util::{
    Party, Served, fails, ok, operator_add_args, operator_passwd_args, password_file, with_stdin,
};

const PW: &str = "correct horse battery";

/// A party `us` with office `us/fbi`, and a password file holding `PW`.
fn setup() -> (Party, String) {
    let p = Party::new("us");
    ok(&["office", "add", "us/fbi", "--dir", p.d()]);
    let pw = password_file(&p, "pw.txt", PW);
    (p, pw)
}

/// The node's operators, through the library, on the same database.
fn operators(dir: &Path) -> Operators {
    Operators::open(
        &NodeDir::new(dir),
        PartyName::new("us").unwrap(),
        ConsoleConfig::default(),
    )
    .unwrap()
}

fn list(p: &Party) -> Vec<serde_json::Value> {
    let v: serde_json::Value =
        serde_json::from_str(&ok(&["operator", "list", "--dir", p.d(), "--json"])).unwrap();
    v.as_array().expect("a JSON array").clone()
}

#[test]
fn add_with_password_file_and_list() {
    let (p, pw) = setup();
    ok(&["office", "add", "us/state", "--dir", p.d()]);
    let out = ok(&operator_add_args(&p, "us/fbi", "alice", &pw, &["--admin"]));
    assert_eq!(
        out.trim(),
        "Operator alice can now log in to the console as us/fbi (admin)."
    );
    let out: serde_json::Value = serde_json::from_str(&ok(&operator_add_args(
        &p,
        "us/fbi",
        "bob",
        &pw,
        &["--office", "us/state", "--json"],
    )))
    .unwrap();
    assert_eq!(
        out,
        serde_json::json!({ "name": "bob", "offices": ["us/fbi", "us/state"], "admin": false })
    );
    let l = list(&p);
    assert_eq!(l.len(), 2);
    assert_eq!(l[0]["name"], "alice");
    assert_eq!(l[0]["offices"], serde_json::json!(["us/fbi"]));
    assert_eq!(l[0]["admin"], true);
    assert_eq!(l[0]["failures"], 0);
    assert!(l[0]["locked_until"].is_null());
    assert_eq!(l[1]["name"], "bob");
    assert_eq!(l[1]["offices"], serde_json::json!(["us/fbi", "us/state"]));
    let text = ok(&["operator", "list", "--dir", p.d()]);
    assert!(text.contains("alice") && text.contains("admin"), "{text}");
    // The password from the file logs in; the newline is no part of it.
    let ops = operators(&p.dir);
    let s = ops.login("alice", PW, jiff::Timestamp::now()).unwrap();
    assert!(
        ops.session(&s.token, jiff::Timestamp::now())
            .unwrap()
            .is_some()
    );
    assert_eq!(
        ops.login("alice", &format!("{PW}\n"), jiff::Timestamp::now())
            .unwrap_err(),
        LoginError::Refused
    );
}

#[test]
fn password_file_first_line_and_stdin() {
    let (p, _) = setup();
    let f = p.dir.join("../crlf.txt");
    std::fs::write(&f, "windows password\r\nsecond line\n").unwrap();
    ok(&operator_add_args(
        &p,
        "us/fbi",
        "carol",
        f.to_str().unwrap(),
        &[],
    ));
    let o = with_stdin(
        &operator_add_args(&p, "us/fbi", "dave", "-", &[]),
        "piped in password\n",
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ops = operators(&p.dir);
    let now = jiff::Timestamp::now();
    ops.login("carol", "windows password", now).unwrap();
    ops.login("dave", "piped in password", now).unwrap();
    // Too short, from a file: refused, nothing added.
    std::fs::write(&f, "short\n").unwrap();
    let e = fails(&operator_add_args(
        &p,
        "us/fbi",
        "erin",
        f.to_str().unwrap(),
        &[],
    ));
    assert!(e.contains("at least 12 characters"), "{e}");
    assert!(ops.get("erin").unwrap().is_none());
}

#[test]
fn unknown_or_foreign_office_and_bad_names_refused() {
    let (p, pw) = setup();
    let e = fails(&operator_add_args(&p, "us/cia", "alice", &pw, &[]));
    assert!(
        e.contains("unknown office us/cia") && e.contains("hotline office add us/cia"),
        "{e}"
    );
    let e = fails(&operator_add_args(
        &p,
        "us/fbi",
        "alice",
        &pw,
        &["--office", "ru/fsb"],
    ));
    assert!(e.contains("ru/fsb is not an office of this party"), "{e}");
    let e = fails(&operator_add_args(&p, "us/fbi", "Alice Smith", &pw, &[]));
    assert!(e.contains("invalid operator name"), "{e}");
    assert!(list(&p).is_empty(), "nothing was added");
}

#[test]
fn duplicate_refused() {
    let (p, pw) = setup();
    let args = operator_add_args(&p, "us/fbi", "alice", &pw, &[]);
    ok(&args);
    let e = fails(&args);
    assert!(e.contains("already an operator alice"), "{e}");
    assert_eq!(list(&p).len(), 1);
}

#[test]
fn no_terminal_and_no_file_is_a_clear_error() {
    let (p, pw) = setup();
    // The test harness gives no terminal on standard input.
    let e = fails(&["operator", "add", "us/fbi", "alice", "--dir", p.d()]);
    assert!(
        e.contains("no terminal to ask for a password; pass --password-file F"),
        "{e}"
    );
    ok(&operator_add_args(&p, "us/fbi", "alice", &pw, &[]));
    let e = fails(&["operator", "passwd", "alice", "--dir", p.d()]);
    assert!(e.contains("no terminal to ask for a password"), "{e}");
    assert!(list(&p).len() == 1);
}

#[test]
fn works_while_the_node_serves() {
    let (p, pw) = setup();
    let served = Served::start(&p.dir);
    ok(&operator_add_args(&p, "us/fbi", "alice", &pw, &[]));
    assert_eq!(list(&p)[0]["name"], "alice");
    ok(&operator_passwd_args(&p, "alice", &pw));
    ok(&["operator", "unlock", "alice", "--dir", p.d()]);
    // The node is still up and still writes.
    let (status, _) = served.request("GET", "/healthz", b"");
    assert_eq!(status, 200);
    ok(&["office", "add", "us/state", "--dir", p.d()]);
    ok(&["operator", "remove", "alice", "--dir", p.d()]);
    assert!(list(&p).is_empty());
    drop(served);
}

#[test]
fn passwd_remove_unlock() {
    let (p, pw) = setup();
    ok(&operator_add_args(&p, "us/fbi", "alice", &pw, &[]));
    let ops = operators(&p.dir);
    let now = jiff::Timestamp::now();

    // passwd: the new password works, the old one and its sessions do not.
    let s = ops.login("alice", PW, now).unwrap();
    let new = p.dir.join("../new.txt");
    std::fs::write(&new, "a brand new password\n").unwrap();
    let out = ok(&operator_passwd_args(&p, "alice", new.to_str().unwrap()));
    assert!(out.contains("sessions have ended"), "{out}");
    assert!(ops.session(&s.token, now).unwrap().is_none());
    assert_eq!(
        ops.login("alice", PW, now).unwrap_err(),
        LoginError::Refused
    );
    ops.login("alice", "a brand new password", now).unwrap();
    let e = fails(&operator_passwd_args(&p, "bob", &pw));
    assert!(e.contains("no operator \"bob\""), "{e}");

    // unlock: failures never lock alice (sign-ins are throttled per client
    // address, in the console); the CLI clears the count an admin sees.
    for _ in 0..5 {
        assert_eq!(
            ops.login("alice", "wrong wrong wrong", now).unwrap_err(),
            LoginError::Refused
        );
    }
    let l = list(&p);
    assert_eq!(l[0]["failures"], 5);
    let text = ok(&["operator", "list", "--dir", p.d()]);
    assert!(text.contains("5 failed logins"), "{text}");
    assert!(!text.contains("LOCKED"), "{text}");
    let out = ok(&["operator", "unlock", "alice", "--dir", p.d()]);
    assert!(out.contains("failed logins are cleared"), "{out}");
    assert_eq!(list(&p)[0]["failures"], 0);
    let s = ops.login("alice", "a brand new password", now).unwrap();
    let e = fails(&["operator", "unlock", "bob", "--dir", p.d()]);
    assert!(e.contains("no operator \"bob\""), "{e}");

    // remove: gone, with its sessions.
    let out = ok(&["operator", "remove", "alice", "--dir", p.d()]);
    assert!(out.contains("Removed operator alice"), "{out}");
    assert!(ops.session(&s.token, now).unwrap().is_none());
    assert!(list(&p).is_empty());
    let e = fails(&["operator", "remove", "alice", "--dir", p.d()]);
    assert!(e.contains("no operator \"alice\""), "{e}");
}

#[test]
fn not_a_node_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let e = fails(&["operator", "list", "--dir", tmp.path().to_str().unwrap()]);
    assert!(e.contains("hotline init"), "{e}");
    assert!(
        !tmp.path().join("hotline.db").exists(),
        "no database created"
    );
}

#[test]
fn a_taxii_token_is_printed_once_kept_only_as_a_hash_and_ends_with_its_operator() {
    let (p, pw) = setup();
    let e = fails(&["operator", "token", "alice", "--dir", p.d()]);
    assert!(e.contains("no operator \"alice\""), "{e}");
    ok(&operator_add_args(&p, "us/fbi", "alice", &pw, &[]));
    let plain = ok(&["operator", "token", "alice", "--dir", p.d()]);
    let token = plain.trim().to_owned();
    assert_eq!(token.len(), 43, "32 bytes, base64url: {plain}");
    let out: serde_json::Value = serde_json::from_str(&ok(&[
        "operator",
        "token",
        "alice",
        "--dir",
        p.d(),
        "--json",
    ]))
    .unwrap();
    assert_eq!(out["name"], "alice");
    let second = out["token"].as_str().unwrap();
    assert_ne!(second, token, "each token is new");
    let ops = operators(&p.dir);
    for t in [token.as_str(), second] {
        assert_eq!(ops.taxii_token(t).unwrap().unwrap().name, "alice");
    }
    // The database holds neither token.
    let db = std::fs::read(p.dir.join(hotline_console::store::FILE)).unwrap();
    let wal = std::fs::read(p.dir.join(format!("{}-wal", hotline_console::store::FILE)))
        .unwrap_or_default();
    for t in [token.as_str(), second] {
        for bytes in [&db, &wal] {
            assert!(
                !bytes.windows(t.len()).any(|w| w == t.as_bytes()),
                "a token is stored in the clear"
            );
        }
    }
    ok(&["operator", "remove", "alice", "--dir", p.d()]);
    assert!(ops.taxii_token(&token).unwrap().is_none());
}
