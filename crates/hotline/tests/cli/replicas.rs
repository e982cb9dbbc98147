//! Two replicas of one party on one PostgreSQL database (copies of the
//! party directory, served on other ports) and a peer on SQLite: one
//! replica holds the sequencer lease and appends, the other forwards to
//! it; when the holder is SIGKILLed the other takes over with the next
//! epoch and carries on, and the restarted one comes back as a follower.
//! Federation runs on the holder only: a follower's peer link answers 503
//! naming the holder, and only a replica of the party may forward drafts.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hotline_proto::checkpoint;
use hotline_proto::keys::NoteVerifier;
use hotline_proto::tree::MemoryTree;

use super::federation::{acked_once, log_json_peer, wait_converged};
use super::hostile::{curl, pin};
use super::postgres::PgPair;
use super::util::*;

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

/// us on the database at `url` with office us/fbi, and its second replica
/// (a copy of the directory, keys and peers); ru on SQLite with ru/fsb,
/// served, and pinned by us at its peer address. Both cosign every second.
struct Setup {
    us: Party,
    us2: Party,
    ru: Party,
    r: Served,
    /// us's exported keys, for ru to pin once us's replicas serve.
    us_keys: std::path::PathBuf,
}

fn setup(url: &str) -> Setup {
    let us = Party::init("us", &["--store", url]);
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
    let (us_keys, rk) = (keys(&us), keys(&ru));
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
    let us2 = replica_of(&us);
    Setup {
        us,
        us2,
        ru,
        r,
        us_keys,
    }
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
    let Setup {
        us,
        us2,
        ru,
        r,
        us_keys: uk,
    } = setup(&url);

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
        "--url",
        &format!("https://{}", b.peer_addr),
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
    // The new holder's outbox carried on and ru found it at its second
    // address: mirrors equal, one receipt each, both logs cosigned.
    wait_converged(&us, &ru, 60);
    assert_eq!(log_json_peer(ru.d(), "us"), log_json(us2.d()));
    drop((a, b, r));
}

/// A free loopback address.
fn free_addr() -> String {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .to_string()
}

/// Whether the replica answering at `n` holds the lease.
fn holds(n: &Served) -> bool {
    let (status, body) = n.request("GET", "/v1/status", b"");
    status == 200
        && serde_json::from_str::<serde_json::Value>(&body)
            .is_ok_and(|v| v["lease"]["this_replica"] == true)
}

/// The issue's failover test: two replicas of us on a PostgreSQL primary
/// with a synchronous standby, and ru on SQLite; a stream of sends each way,
/// us's through both replicas, while the lease holder is SIGKILLed and
/// restarted at seeded moments; then the primary is stopped hard, the
/// standby promoted, and the stream goes on. Every send that returned
/// success is in its log once at its index, no index was given twice, the
/// root recomputed from the leaves is the checkpoint's, ru's mirror equals
/// us's log, every entry has exactly one receipt, both logs are cosigned.
#[test]
fn a_stream_both_ways_survives_holder_kills_and_the_loss_of_the_primary() {
    const EACH_WAY: usize = 2000;
    const AFTER_PROMOTION: usize = 100;
    let pair = PgPair::start();
    let Setup {
        us,
        us2,
        ru,
        r,
        us_keys: uk,
    } = setup(&pair.url());
    let dirs = [us.dir.clone(), us2.dir.clone()];
    // Fixed addresses, so a restarted replica is where ru pinned it.
    let addrs = [(free_addr(), free_addr()), (free_addr(), free_addr())];
    let start = |i: usize| Served::start_at(&dirs[i], &addrs[i].0, &addrs[i].1);
    let reps = Arc::new([Mutex::new(Some(start(0))), Mutex::new(Some(start(1)))]);
    ok(&[
        "peer",
        "add",
        "us",
        "--keys",
        uk.to_str().unwrap(),
        "--url",
        &format!("https://{}", addrs[0].1),
        "--url",
        &format!("https://{}", addrs[1].1),
        "--dir",
        ru.d(),
    ]);
    agree(&us, &ru, &example("cyber-agreement.toml"));
    let ru_api = (r.addr.clone(), r.token.clone());

    // acked[side]: index → leaf hash of every send that returned 201.
    let acked: Arc<[Mutex<BTreeMap<u64, String>>; 2]> = Arc::default();
    let target = Arc::new(std::sync::atomic::AtomicUsize::new(EACH_WAY));
    let stream = |target: Arc<std::sync::atomic::AtomicUsize>| {
        let mut senders = Vec::new();
        for side in 0..2 {
            let (reps, acked, ru_api, target) =
                (reps.clone(), acked.clone(), ru_api.clone(), target.clone());
            let (from, to) = if side == 0 {
                ("us/fbi", "ru/fsb")
            } else {
                ("ru/fsb", "us/fbi")
            };
            senders.push(std::thread::spawn(move || {
                let mut i = 0usize;
                while acked[side].lock().unwrap().len() < target.load(Ordering::Relaxed) {
                    // us's sends alternate between the replicas that are up.
                    let api = if side == 1 {
                        Some(ru_api.clone())
                    } else {
                        reps[i % 2]
                            .lock()
                            .unwrap()
                            .as_ref()
                            .map(|n| (n.addr.clone(), n.token.clone()))
                    };
                    let Some((addr, token)) = api else {
                        i += 1;
                        std::thread::sleep(Duration::from_millis(20));
                        continue;
                    };
                    let handles: Vec<_> = (0..8)
                        .map(|_| {
                            i += 1;
                            let body =
                                format!(r#"{{"from":"{from}","to":"{to}","text":"{from} #{i}"}}"#);
                            let (addr, token) = (addr.clone(), token.clone());
                            std::thread::spawn(move || {
                                try_http(
                                    &addr,
                                    "POST",
                                    "/v1/messages",
                                    Some(&token),
                                    body.as_bytes(),
                                )
                            })
                        })
                        .collect();
                    let mut failed = 0;
                    for h in handles {
                        match h.join() {
                            Ok(Ok((201, text))) => {
                                let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                                let prev = acked[side].lock().unwrap().insert(
                                    v["index"].as_u64().unwrap(),
                                    v["leaf_hash"].as_str().unwrap().to_owned(),
                                );
                                assert!(prev.is_none(), "index {} acknowledged twice", v["index"]);
                            }
                            _ => failed += 1,
                        }
                    }
                    if failed > 0 {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
            }));
        }
        senders
    };

    // Chaos: seeded, so a failure can be replayed.
    let senders = stream(target.clone());
    let mut seed = 0x2026_1202u64;
    let mut rnd = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut kills = 0;
    while acked.iter().any(|a| a.lock().unwrap().len() < EACH_WAY) {
        std::thread::sleep(Duration::from_millis(1500 + rnd(2500)));
        let holder = (0..2).find(|&i| reps[i].lock().unwrap().as_ref().is_some_and(holds));
        let Some(i) = holder else { continue };
        if let Some(n) = reps[i].lock().unwrap().take() {
            n.kill9();
        }
        kills += 1;
        std::thread::sleep(Duration::from_millis(200 + rnd(1500)));
        *reps[i].lock().unwrap() = Some(start(i));
    }
    for s in senders {
        s.join().unwrap();
    }
    assert!(kills >= 2, "the chaos must have happened ({kills} kills)");

    // PostgreSQL's own failover: the primary stopped hard, the synchronous
    // standby promoted; the replicas follow it through the two-host URL.
    PgPair::run(&["stop", pair.primary.to_str().unwrap(), "immediate"]);
    PgPair::run(&["promote", pair.standby.to_str().unwrap()]);
    target.store(EACH_WAY + AFTER_PROMOTION, Ordering::Relaxed);
    for s in stream(target) {
        s.join().unwrap();
    }
    wait_converged(&us, &ru, 180);

    // Every acknowledged send is in its log at its index, and nothing twice.
    for (side, party) in [(0, &us), (1, &ru)] {
        let log = log_json(party.d());
        acked_once(&log, &acked[side].lock().unwrap(), party.d());
        let idx: Vec<u64> = log.iter().map(|l| l["index"].as_u64().unwrap()).collect();
        assert_eq!(
            idx,
            (0..log.len() as u64).collect::<Vec<_>>(),
            "indexes 0..n, once each"
        );
        // The root recomputed from the leaves is the one the checkpoint signs.
        let mut tree = MemoryTree::new();
        for l in &log {
            tree.push(&hotline_proto::b64::decode(l["leaf"].as_str().unwrap()).unwrap());
        }
        let other = if side == 0 { &ru } else { &us };
        let note = ok(&["checkpoint", "--dir", party.d()]);
        let v = checkpoint::verify(
            note.as_bytes(),
            &NoteVerifier::from_vkey(&party.vkey()).unwrap(),
            &[
                NoteVerifier::from_vkey(ok(&["key", "--witness", "--dir", other.d()]).trim())
                    .unwrap(),
            ],
        )
        .unwrap();
        assert_eq!(
            (v.size, v.root),
            (tree.size(), tree.root()),
            "{}",
            party.d()
        );
        assert_eq!(v.cosignatures.len(), 1, "cosigned by the other party");
    }
    // Both replicas read the one log.
    assert_eq!(log_json(us.d()), log_json(us2.d()));
    eprintln!(
        "replica failover: {} + {} acknowledged, {kills} holder kills, then the primary lost",
        acked[0].lock().unwrap().len(),
        acked[1].lock().unwrap().len()
    );
    drop((reps, r));
}
