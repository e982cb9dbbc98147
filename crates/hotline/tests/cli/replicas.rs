//! Two replicas of one party on one PostgreSQL database (copies of the
//! party directory, served on other ports) and a peer on SQLite: one
//! replica holds the sequencer lease and appends, the other forwards to
//! it; when the holder is SIGKILLed the other takes over with the next
//! epoch and carries on, and the restarted one comes back as a follower.
//! Federation runs on the holder only: a follower's peer link answers 503
//! naming the holder, and only a replica of the party may forward drafts.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use super::federation::log_json_peer;
use super::hostile::{curl, pin};
use super::util::*;

/// A fresh database on the test server; its URL.
fn fresh_database(name: &str) -> String {
    let port = pg_server();
    let o = Command::new("psql")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "postgres"])
        .args(["-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c"])
        .arg(format!("CREATE DATABASE {name}"))
        .output()
        .expect("psql (PostgreSQL's client) must be installed");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    format!("postgresql://postgres@127.0.0.1:{port}/{name}")
}

/// A copy of `p`'s directory: another replica of the same node.
fn replica_of(p: &Party) -> Party {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(p.dir.file_name().unwrap());
    let o = Command::new("cp")
        .arg("-a")
        .arg(&p.dir)
        .arg(&dir)
        .output()
        .unwrap();
    assert!(o.status.success());
    Party { _tmp: tmp, dir }
}

fn lease(p: &Party) -> serde_json::Value {
    json(&ok(&["status", "--dir", p.d(), "--json"]))["lease"].clone()
}

/// Texts of us's messages, each with how often the log holds it.
fn texts(holder: &Party) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for l in log_json(holder.d()) {
        if l["header"]["kind"] == "message" {
            let id = format!("us:{}", l["index"]);
            let read = ok(&["read", &id, "--dir", holder.d()]);
            if let Some(t) = read.lines().find_map(|l| l.split("replica-test ").nth(1)) {
                *seen.entry(t.trim().to_owned()).or_insert(0) += 1;
            }
        }
    }
    seen
}

#[test]
fn replicas_share_one_log_and_the_survivor_takes_the_lease_when_the_holder_dies() {
    let url = fresh_database("replicas");
    let us = Party::init("us", &["--store", &url]);
    let ru = Party::new("ru");
    ok(&["office", "add", "us/fbi", "--dir", us.d()]);
    ok(&["office", "add", "ru/fsb", "--dir", ru.d()]);
    set_cosign_interval(&us.dir, 1);
    set_cosign_interval(&ru.dir, 1);
    let r = Served::start(&ru.dir);
    let keys = |p: &Party| {
        let f = p.dir.join("../exported.keys");
        std::fs::write(&f, ok(&["keys", "export", "--dir", p.d()])).unwrap();
        f
    };
    let (uk, rk) = (keys(&us), keys(&ru));
    let ru_url = format!("https://{}", r.peer_addr);
    ok(&[
        "peer",
        "add",
        "ru",
        "--keys",
        rk.to_str().unwrap(),
        "--url",
        &ru_url,
        "--dir",
        us.d(),
    ]);
    // The second replica: the same directory, keys and peers, copied.
    let us2 = replica_of(&us);

    let a = Served::start(&us.dir);
    wait_until(20, "the first replica holding the lease", || {
        lease(&us)["this_replica"] == true
    });
    let b = Served::start(&us2.dir);
    let (la, lb) = (lease(&us), lease(&us2));
    assert_eq!(lb["this_replica"], false, "{lb}");
    assert_eq!(la["holder"], lb["holder"], "one holder: {la} {lb}");
    assert_eq!(la["epoch"], lb["epoch"]);
    assert_eq!(la["url"], format!("https://{}", a.peer_addr), "{la}");
    let text = ok(&["status", "--dir", us2.d()]);
    assert!(text.contains("sequencer lease: another replica"), "{text}");
    let epoch = la["epoch"].as_u64().unwrap();

    ok(&[
        "peer",
        "add",
        "us",
        "--keys",
        uk.to_str().unwrap(),
        "--url",
        &format!("https://{}", a.peer_addr),
        "--dir",
        ru.d(),
    ]);
    agree(&us, &ru, &example("cyber-agreement.toml"));

    // Sends through both replicas: the follower's are forwarded.
    let mut sent = Vec::new();
    for n in 0..40 {
        let via = if n % 2 == 0 { &us } else { &us2 };
        let i = send(via, "us/fbi", "ru/fsb", &format!("replica-test {n}"));
        sent.push((n, i));
    }
    let indexes: std::collections::BTreeSet<u64> = sent.iter().map(|s| s.1).collect();
    assert_eq!(indexes.len(), sent.len(), "an index given twice: {sent:?}");

    // A follower's peer link does no federation: it names the holder.
    let (status, body) = curl(
        &ru.dir,
        &b.peer_addr,
        &pin(&us),
        "/fed/v1/checkpoint",
        "application/json",
        b"",
    )
    .unwrap();
    assert_eq!(status, 503, "{body}");
    assert!(body.contains(&a.peer_addr), "{body}");
    // Only a replica of us forwards drafts, not a pinned peer.
    let before = log_json(us.d()).len();
    let (status, body) = curl(
        &ru.dir,
        &a.peer_addr,
        &pin(&us),
        "/fed/v1/replica/append",
        "application/json",
        br#"{"kind":"message","signer":{"office":"us/fbi"},"to":"ru/fsb","agreement":null,"refs":[],"body":null,"key":null,"status":null,"terms":null,"time":null,"digest":null}"#,
    )
    .unwrap();
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        log_json(us.d()).len(),
        before,
        "the refused draft wrote nothing"
    );

    // The holder dies; the follower takes over with the next epoch.
    let died = Instant::now();
    a.kill9();
    let mut n = 40;
    let taken = loop {
        let o = hotline(&send_args(
            &us2,
            "us/fbi",
            "ru/fsb",
            &["--text", &format!("replica-test {n}"), "--json"],
        ));
        if o.status.success() {
            sent.push((
                n,
                json(&String::from_utf8(o.stdout).unwrap())["index"]
                    .as_u64()
                    .unwrap(),
            ));
            n += 1;
            break died.elapsed();
        }
        assert!(
            died.elapsed() < Duration::from_secs(30),
            "no takeover after 30 s: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    eprintln!(
        "takeover: {} ms from SIGKILL to the next durable append",
        taken.as_millis()
    );
    let lb = lease(&us2);
    assert_eq!(lb["this_replica"], true, "{lb}");
    assert_eq!(lb["epoch"].as_u64(), Some(epoch + 1), "{lb}");

    // The restarted replica follows, and what it is sent is forwarded.
    let a = Served::start(&us.dir);
    let la = lease(&us);
    assert_eq!(la["this_replica"], false, "{la}");
    assert_eq!(la["epoch"].as_u64(), Some(epoch + 1));
    for _ in 0..10 {
        let via = if n % 2 == 0 { &us } else { &us2 };
        sent.push((
            n,
            send(via, "us/fbi", "ru/fsb", &format!("replica-test {n}")),
        ));
        n += 1;
    }

    // Every send that succeeded is in the log exactly once; no index twice.
    let seen = texts(&us2);
    for (n, _) in &sent {
        assert_eq!(seen.get(&n.to_string()), Some(&1), "send {n}: {seen:?}");
    }
    let log = log_json(us2.d());
    let mut idx: Vec<u64> = log.iter().map(|l| l["index"].as_u64().unwrap()).collect();
    idx.dedup();
    assert_eq!(idx, (0..log.len() as u64).collect::<Vec<_>>());
    assert_eq!(log_json(us.d()), log, "both replicas read one log");
    // The new holder's outbox carried on: ru's mirror equals us's log.
    wait_until(60, "ru's mirror of us catching up", || {
        log_json_peer(ru.d(), "us") == log_json(us2.d())
    });
    drop((a, b, r));
}
