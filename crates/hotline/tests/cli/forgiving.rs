//! Issue 15, item 6: a CLI that forgives. One id form everywhere
//! (`party:index`, a plain index for the own log); `hotline read` shows an
//! entry as its operator may see it, refusals as refusals; `peer list`;
//! `verify -`; "did you mean" for a mistyped office, the kinds for a
//! mistyped kind, "no such file" for a missing file; subjects and both
//! deadlines in `inquiries`; RFC 3339 times in every `--json`.

use serde_json::Value;

use super::hostile::*;
use super::util::*;

fn file(p: &Party, name: &str, bytes: &str) -> String {
    let path = p.dir.join("..").join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_owned()
}

/// Every string under a key that names a time is RFC 3339 in UTC with `Z`,
/// and no such key holds a number (Unix seconds).
fn times_are_rfc3339(what: &str, v: &Value) {
    const TIME_KEYS: [&str; 12] = [
        "time",
        "sent",
        "since",
        "acknowledged",
        "closed",
        "ack_due",
        "answer_due",
        "requested_at",
        "start",
        "end",
        "detected",
        "effective",
    ];
    fn walk(what: &str, key: &str, v: &Value, seen: &mut usize) {
        match v {
            Value::Object(m) => m.iter().for_each(|(k, v)| walk(what, k, v, seen)),
            Value::Array(a) => a.iter().for_each(|v| walk(what, key, v, seen)),
            Value::String(s) if TIME_KEYS.contains(&key) => {
                *seen += 1;
                let t: jiff::Timestamp = s
                    .parse()
                    .unwrap_or_else(|e| panic!("{what}: {key} = {s:?} is not RFC 3339: {e}"));
                assert!(
                    s.ends_with('Z'),
                    "{what}: {key} = {s:?} is not in UTC with Z"
                );
                assert_eq!(
                    t.to_string(),
                    *s,
                    "{what}: {key} = {s:?} is not jiff's RFC 3339"
                );
            }
            Value::Number(n) if TIME_KEYS.contains(&key) => {
                panic!("{what}: {key} = {n} is a number, not an RFC 3339 time")
            }
            _ => {}
        }
    }
    let mut seen = 0;
    walk(what, "", v, &mut seen);
    assert!(seen > 0, "{what} has no time to check: {v}");
}

#[test]
fn an_operator_reads_lists_and_verifies_without_a_json_bundle() {
    let (us, ru, _a, _b, agreement) = stage();
    let body = file(&us, "q.txt", "Please preserve the logs of 198.51.100.23.\n");
    let out = json(&ok(&inquire_args(
        &us,
        "us/fbi",
        "ru/fsb",
        "Ransomware group X",
        &body,
        &["--json"],
    )));
    let id = out["id"].as_str().unwrap().to_owned();
    let index = out["index"].as_u64().unwrap().to_string();
    times_are_rfc3339("inquire --json", &out);

    // A plain index is an entry of the own log; the text, in words, no JSON.
    let text = ok(&["read", &index, "--dir", us.d()]);
    assert!(
        text.starts_with(&format!("{id}: inquiry from us/fbi to ru/fsb")),
        "{text}"
    );
    assert!(text.contains("subject   Ransomware group X"), "{text}");
    assert!(
        text.contains("Please preserve the logs of 198.51.100.23."),
        "{text}"
    );
    assert!(
        text.contains(&format!("under     agreement {agreement}")),
        "{text}"
    );
    assert!(
        !text.trim_start().starts_with('{'),
        "not a JSON bundle: {text}"
    );
    let (plain, full) = (
        json(&ok(&["read", &index, "--dir", us.d(), "--json"])),
        json(&ok(&["read", &id, "--dir", us.d(), "--json"])),
    );
    assert_eq!(plain["id"], full["id"], "both id forms");
    assert_eq!(plain["content"], full["content"], "both id forms");

    // The receiver reads it from its mirror once it is there, with its receipt.
    wait_until(30, "ru holds the inquiry", || {
        hotline(&["read", &id, "--dir", ru.d()]).status.success()
    });
    wait_until(30, "ru's receipt is mirrored by us", || {
        ok(&["read", &id, "--dir", us.d()]).contains("receipt   ru:")
    });
    let j = json(&ok(&["read", &id, "--dir", ru.d(), "--json"]));
    assert_eq!(j["content"]["subject"], "Ransomware group X", "{j}");
    assert_eq!(j["kind"], "inquiry", "{j}");
    assert!(j["refused"].is_null(), "{j}");
    times_are_rfc3339("read --json", &j);
    let err = fails(&["read", "us:999", "--dir", ru.d()]);
    assert!(err.contains("entry us:999 is not held here"), "{err}");
    let err = fails(&["read", "banana", "--dir", ru.d()]);
    assert!(
        err.contains(r#""banana" is not an entry id (party:index, e.g. us:12)"#),
        "{err}"
    );

    // Ack by the receiver with the full id; its own answer by a plain index
    // would be its own log's, so ids of the other log stay party:index.
    ok(&["ack", &id, "--dir", ru.d()]);
    let listed = ok(&["inquiries", "--dir", us.d()]);
    assert!(listed.contains("Ransomware group X"), "{listed}");
    wait_until(30, "us sees the ack", || {
        ok(&["inquiries", "--dir", us.d()]).contains("ack done")
    });
    let listed = ok(&["inquiries", "--dir", us.d()]);
    assert!(listed.contains("in time (due "), "{listed}");
    assert!(
        listed.contains(" left"),
        "the answer deadline with the time left: {listed}"
    );
    let list = json(&ok(&["inquiries", "--dir", us.d(), "--json"]));
    assert_eq!(list[0]["subject"], "Ransomware group X", "{list}");
    times_are_rfc3339("inquiries --json", &list);
    times_are_rfc3339(
        "status --json",
        &json(&ok(&["status", "--dir", us.d(), "--json"])),
    );
    times_are_rfc3339(
        "agreements --json",
        &json(&ok(&["agreements", "--dir", us.d(), "--json"])),
    );

    // The pinned peers, in words and as JSON.
    let peers = ok(&["peer", "list", "--dir", us.d()]);
    assert!(peers.starts_with("ru "), "{peers}");
    assert!(peers.contains("link up since"), "{peers}");
    assert!(peers.contains("ru/fsb"), "{peers}");
    let peers = json(&ok(&["peer", "list", "--dir", us.d(), "--json"]));
    assert_eq!(peers[0]["party"], "ru", "{peers}");
    assert_eq!(peers[0]["link"]["up"], true, "{peers}");
    assert!(
        peers[0]["offices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o == "ru/fsb"),
        "{peers}"
    );
    times_are_rfc3339("peer list --json", &peers);

    // `prove entry` takes either form for the own log; another log's is refused with the way.
    // The same bundle but for us's own dating of its tree, which its node
    // renews at every cosignature round.
    let own_dating = |b: &str| {
        b.split("\\n")
            .filter(|l| !l.starts_with("— hotline/us/witness "))
            .collect::<Vec<_>>()
            .join("\\n")
    };
    // ru cosigns us's latest checkpoint (grown by the receipt of ru's ack)
    // in its next round, not at once.
    wait_until(30, "ru cosigns us's log in full", || {
        super::federation::cosigned_in_full(&us, &ru)
    });
    let bundle = ok(&["prove", "entry", "us:0", "--dir", us.d()]);
    assert!(bundle.contains("— hotline/ru/witness "), "{bundle}");
    assert_eq!(
        own_dating(&bundle),
        own_dating(&ok(&["prove", "entry", "0", "--dir", us.d()]))
    );
    let err = fails(&["prove", "entry", "ru:0", "--dir", us.d()]);
    assert!(
        err.contains("is an entry of ru's log") && err.contains("prove delivery"),
        "{err}"
    );

    // `verify -` reads the bundle from standard input.
    let key = us.vkey();
    let o = with_stdin(&["verify", "-", "--key", &key], bundle.as_bytes());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out} {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        out.starts_with("Verified. Entry us:0 of log hotline/us"),
        "{out}"
    );
    let mut tampered = bundle.clone().into_bytes();
    let at = tampered.len() / 2;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let o = with_stdin(&["verify", "-", "--key", &key], &tampered);
    assert!(!o.status.success(), "a tampered bundle on stdin verified");
}

#[test]
fn typos_get_a_hint_and_nothing_is_written() {
    let us = Party::new("us");
    ok(&["office", "add", "us/fbi", "--dir", us.d()]);
    ok(&["office", "add", "us/president", "--dir", us.d()]);
    let ru = Party::new("ru");
    ok(&["office", "add", "ru/fsb", "--dir", ru.d()]);
    let keys = file(&ru, "ru.keys", &ok(&["keys", "export", "--dir", ru.d()]));
    ok(&["peer", "add", "ru", "--keys", &keys, "--dir", us.d()]);
    let before = log_json(us.d()).len();
    let body = file(&us, "q.txt", "x");

    let err = fails(&inquire_args(&us, "us/fib", "ru/fsb", "s", &body, &[]));
    assert!(err.contains("did you mean us/fbi?"), "{err}");
    let err = fails(&send_args(&us, "us/fbi", "ru/fbs", &["--text", "x"]));
    assert!(err.contains("did you mean ru/fsb?"), "{err}");
    let err = fails(&["office", "rotate", "us/presidnet", "--dir", us.d()]);
    assert!(err.contains("did you mean us/president?"), "{err}");
    let err = fails(&[
        "prove",
        "absence",
        "--log",
        "us",
        "--kind",
        "inquiri",
        "--from",
        "us/fbi",
        "--to",
        "ru/fsb",
        "--since",
        "2026-01-01T00:00:00Z",
        "--until",
        "2026-01-02T00:00:00Z",
        "--dir",
        us.d(),
    ]);
    assert!(err.contains(r#"unknown kind "inquiri""#), "{err}");
    assert!(err.contains("did you mean inquiry?"), "{err}");
    for k in [
        "message",
        "inquiry",
        "call.request",
        "readout",
        "statement",
        "endorsement",
    ] {
        assert!(err.contains(k), "the list of kinds names {k}: {err}");
    }

    // Every file argument: "no such file: PATH".
    let missing = us.dir.join("../nowhere.txt");
    let m = missing.to_str().unwrap();
    for args in [
        vec!["verify", m, "--key", &us.vkey()],
        vec!["verify", &body, "--key", m],
        vec!["verify", &body, "--key", "keys/ru.keys"],
        vec!["peer", "add", "ru", "--keys", m, "--dir", us.d()],
        vec!["agreement", "propose", "--file", m, "--dir", us.d()],
        inquire_args(&us, "us/fbi", "ru/fsb", "s", m, &[]),
        inquire_args(&us, "us/fbi", "ru/fsb", "s", &body, &["--attach", m]),
        inquire_args(&us, "us/fbi", "ru/fsb", "s", &body, &["--stix", m]),
        send_args(&us, "us/fbi", "ru/fsb", &["--text-file", m]),
    ] {
        let err = fails(&args);
        let named = if args.contains(&"keys/ru.keys") {
            "keys/ru.keys"
        } else {
            m
        };
        assert!(
            err.contains(&format!("no such file: {named}")),
            "{args:?}: {err}"
        );
    }
    assert_eq!(log_json(us.d()).len(), before, "a typo wrote something");
}

/// Content that does not match its commitment is read as the refusal it
/// is: neither the sealed nor the committed text is shown.
#[test]
fn refused_content_is_read_as_refused() {
    const SEALED: &str = "the sealed text heron-22ab";
    const COMMITTED: &str = "the committed text plover-51d0";
    let (mut us, ru, b, agreement) = taken_over();
    let now = jiff::Timestamp::now().to_string();
    let i = us.message(&ru, Msg::mismatched(&agreement, &now, SEALED, COMMITTED));
    let (s, t) = us.push(Target::new(&ru, &b), i);
    assert_eq!(s, 200, "{t}");
    receipt_for(&ru, "us", i);
    let id = format!("us:{i}");
    let text = ok(&["read", &id, "--dir", ru.d()]);
    assert!(
        text.contains("REFUSED: content does not match its commitment"),
        "{text}"
    );
    assert!(
        text.contains("refused: content does not match its commitment"),
        "the receipt: {text}"
    );
    assert!(
        !text.contains(SEALED) && !text.contains(COMMITTED),
        "{text}"
    );
    let j = json(&ok(&["read", &id, "--dir", ru.d(), "--json"]));
    assert_eq!(
        j["refused"], "refused: content does not match its commitment",
        "{j}"
    );
    assert!(j["content"].is_null(), "{j}");
    assert!(
        !j.to_string().contains(SEALED) && !j.to_string().contains(COMMITTED),
        "{j}"
    );
}
