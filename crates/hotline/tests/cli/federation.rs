//! Two real node processes on loopback, pinned TLS between them.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hotline_proto::checkpoint;
use hotline_proto::keys::NoteVerifier;

use super::util::*;

/// Two parties, each with one office, cosigning every second.
pub fn pair() -> (Party, Party) {
    let us = Party::new("us");
    let ru = Party::new("ru");
    ok(&["office", "add", "us/fbi", "--dir", us.d()]);
    ok(&["office", "add", "ru/fsb", "--dir", ru.d()]);
    set_cosign_interval(&us.dir, 1);
    set_cosign_interval(&ru.dir, 1);
    (us, ru)
}

/// [`pair`], both running and each pinned by the other.
pub fn federated() -> (Party, Party, Served, Served) {
    let (us, ru) = pair();
    let (a, b) = (Served::start(&us.dir), Served::start(&ru.dir));
    federate(&us, &ru);
    (us, ru, a, b)
}

/// [`pair`] and a third witness, `nato` (no offices, cosigning every
/// second), all three running and each pinned by the other two.
pub fn trio() -> (Party, Party, Party, Served, Served, Served) {
    let (us, ru) = pair();
    let nato = Party::new("nato");
    set_cosign_interval(&nato.dir, 1);
    let (a, b, c) = (
        Served::start(&us.dir),
        Served::start(&ru.dir),
        Served::start(&nato.dir),
    );
    federate(&us, &ru);
    federate(&us, &nato);
    federate(&ru, &nato);
    (us, ru, nato, a, b, c)
}

/// Whether `log`'s current checkpoint, as its node serves it, is cosigned
/// by `witness` at the log's full size.
pub fn cosigned_in_full(log: &Party, witness: &Party) -> bool {
    let note = ok(&["checkpoint", "--dir", log.d()]);
    let lk = NoteVerifier::from_vkey(&log.vkey()).unwrap();
    let wk =
        NoteVerifier::from_vkey(ok(&["key", "--witness", "--dir", witness.d()]).trim()).unwrap();
    let v = checkpoint::verify(note.as_bytes(), &lk, &[wk]).expect("the checkpoint verifies");
    !v.cosignatures.is_empty() && v.size == log_json(log.d()).len() as u64
}

/// Waits until each mirror equals its source and each log's checkpoint at
/// its full size is cosigned by the other party.
pub fn settled(us: &Party, ru: &Party) {
    wait_until(
        30,
        "both mirrors complete and both logs cosigned in full",
        || {
            log_json_peer(ru.d(), "us").len() == log_json(us.d()).len()
                && log_json_peer(us.d(), "ru").len() == log_json(ru.d()).len()
                && cosigned_in_full(us, ru)
                && cosigned_in_full(ru, us)
        },
    );
}

fn leaves(v: &[serde_json::Value]) -> Vec<(u64, String)> {
    v.iter()
        .map(|l| {
            (
                l["index"].as_u64().unwrap(),
                l["leaf"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Receipts in `receiver`'s log for entries of `sender`'s log: ref index → count.
fn receipts(receiver_log: &[serde_json::Value], sender: &str) -> BTreeMap<u64, usize> {
    let mut m = BTreeMap::new();
    for l in receiver_log {
        let h = &l["header"];
        if h["kind"] == "receipt" && h["refs"][0]["log"] == sender {
            *m.entry(h["refs"][0]["index"].as_u64().unwrap())
                .or_default() += 1;
        }
    }
    m
}

/// Indices of `sender`'s entries that the receiving party owes a receipt for.
fn owed(sender_log: &[serde_json::Value], receiver: &str) -> BTreeSet<u64> {
    sender_log
        .iter()
        .filter(|l| {
            let h = &l["header"];
            h["kind"] != "receipt"
                && h["to"]
                    .as_str()
                    .is_some_and(|t| t.starts_with(&format!("{receiver}/")))
        })
        .map(|l| l["index"].as_u64().unwrap())
        .collect()
}

fn cosigned_size(party: &Party, witness_vkey: &str) -> Option<u64> {
    let note = ok(&["checkpoint", "--dir", party.d()]);
    let log = NoteVerifier::from_vkey(&party.vkey()).unwrap();
    let wit = NoteVerifier::from_vkey(witness_vkey).unwrap();
    let v = checkpoint::verify(note.as_bytes(), &log, &[wit]).expect("checkpoint verifies");
    (!v.cosignatures.is_empty()).then_some(v.size)
}

/// Everything has arrived: mirrors equal their sources byte for byte, every
/// entry owed a receipt has exactly one, and each side has cosigned the
/// other's latest checkpoint.
fn converged(us: &Party, ru: &Party) -> Result<(), String> {
    let (ul, rl) = (log_json(us.d()), log_json(ru.d()));
    let (um, rm) = (log_json_peer(ru.d(), "us"), log_json_peer(us.d(), "ru"));
    if leaves(&ul) != leaves(&um) {
        return Err(format!(
            "ru's mirror of us: {} of {} entries",
            um.len(),
            ul.len()
        ));
    }
    if leaves(&rl) != leaves(&rm) {
        return Err(format!(
            "us's mirror of ru: {} of {} entries",
            rm.len(),
            rl.len()
        ));
    }
    for (sender, slog, receiver, rlog) in [("us", &ul, "ru", &rl), ("ru", &rl, "us", &ul)] {
        let got = receipts(rlog, sender);
        let want = owed(slog, receiver);
        if got.keys().copied().collect::<BTreeSet<_>>() != want {
            return Err(format!(
                "{receiver} has receipts for {} of {} {sender} entries",
                got.len(),
                want.len()
            ));
        }
        if let Some((i, n)) = got.iter().find(|(_, n)| **n != 1) {
            panic!("{sender} entry {i} has {n} receipts in {receiver}'s log");
        }
    }
    let ru_wit = ok(&["key", "--witness", "--dir", ru.d()]).trim().to_owned();
    let us_wit = ok(&["key", "--witness", "--dir", us.d()]).trim().to_owned();
    if cosigned_size(us, &ru_wit) != Some(ul.len() as u64)
        || cosigned_size(ru, &us_wit) != Some(rl.len() as u64)
    {
        return Err("latest checkpoints not cosigned yet".into());
    }
    Ok(())
}

pub fn log_json_peer(dir: &str, peer: &str) -> Vec<serde_json::Value> {
    let o = hotline(&["log", "--dir", dir, "--peer", peer, "--json"]);
    if !o.status.success() {
        return vec![];
    }
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Waits until [`converged`] holds, failing with what is missing after `secs`.
pub fn wait_converged(us: &Party, ru: &Party, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        match converged(us, ru) {
            Ok(()) => return,
            Err(why) => {
                assert!(
                    Instant::now() < deadline,
                    "no convergence after {secs} s: {why}"
                );
                std::thread::sleep(Duration::from_millis(250));
            }
        }
    }
}

#[test]
fn messages_receipts_mirrors_and_cosignatures_flow_both_ways() {
    let (us, ru, a, b) = federated();
    agree(&us, &ru, &example("cyber-agreement.toml"));
    ok(&send_args(&us, "us/fbi", "ru/fsb", &["--text", "inquiry"]));
    ok(&send_args(&ru, "ru/fsb", "us/fbi", &["--text", "answer"]));
    wait_converged(&us, &ru, 30);
    let status: serde_json::Value =
        serde_json::from_str(&ok(&["status", "--dir", us.d(), "--json"])).unwrap();
    let p = &status["peers"][0];
    assert_eq!(p["peer"], "ru");
    assert_eq!(p["link"]["up"], true, "{status}");
    assert_eq!(p["outbox_depth"], 0);
    assert!(p["own_log_cosigned"]["size"].as_u64().is_some(), "{status}");
    assert_eq!(
        p["mirror_size"].as_u64(),
        Some(log_json(ru.d()).len() as u64)
    );
    // The gauges follow within a second or two.
    wait_until(
        10,
        "metrics showing the link up and the outbox empty",
        || {
            let (_, m) = a.request("GET", "/metrics", b"");
            m.contains("hotline_peer_link_up{peer=\"ru\"} 1")
                && m.contains("hotline_outbox_depth{peer=\"ru\"} 0")
        },
    );
    // The inclusion bundle now carries ru's cosignature, with its time.
    let bundle = us.dir.join("../p.json");
    prove_entry(&us, 1, &bundle);
    let ru_wit = ok(&["key", "--witness", "--dir", ru.d()]).trim().to_owned();
    let out = ok(&[
        "verify",
        bundle.to_str().unwrap(),
        "--key",
        &us.vkey(),
        "--key",
        &ru_wit,
    ]);
    assert!(
        out.contains("cosigned by ru's witness (hotline/ru/witness) at 20"),
        "{out}"
    );
    // Witnessing continues while nothing is sent: the cosignature time moves.
    let t0 = p["own_log_cosigned"]["time"].as_str().unwrap().to_owned();
    wait_until(10, "a fresh cosignature with nothing sent", || {
        let s: serde_json::Value =
            serde_json::from_str(&ok(&["status", "--dir", us.d(), "--json"])).unwrap();
        s["peers"][0]["own_log_cosigned"]["time"].as_str() != Some(t0.as_str())
    });
    drop((a, b));
}

/// The issue's acceptance test: ≥2,000 entries each way while either node is
/// SIGKILLed and restarted, and the link is cut, at seeded random moments.
#[test]
fn stream_both_ways_through_kills_and_cuts() {
    const EACH_WAY: usize = 2000;
    let (us, ru) = pair();
    let first = (Served::start(&us.dir), Served::start(&ru.dir));
    federate(&us, &ru);
    agree(&us, &ru, &example("cyber-agreement.toml"));
    let addrs = [
        (first.0.addr.clone(), first.0.peer_addr.clone()),
        (first.1.addr.clone(), first.1.peer_addr.clone()),
    ];
    let nodes = Arc::new([Mutex::new(Some(first.0)), Mutex::new(Some(first.1))]);
    let dirs = [us.dir.clone(), ru.dir.clone()];
    let done = Arc::new(AtomicBool::new(false));
    let acked: Arc<[Mutex<BTreeMap<u64, String>>; 2]> = Arc::default();

    // Senders: through whichever node process is up, retrying while it is down.
    let mut senders = Vec::new();
    for side in 0..2 {
        let (nodes, acked) = (nodes.clone(), acked.clone());
        let (from, to) = if side == 0 {
            ("us/fbi", "ru/fsb")
        } else {
            ("ru/fsb", "us/fbi")
        };
        senders.push(std::thread::spawn(move || {
            let mut i = 0;
            while acked[side].lock().unwrap().len() < EACH_WAY {
                let target = nodes[side]
                    .lock()
                    .unwrap()
                    .as_ref()
                    .map(|n| (n.addr.clone(), n.token.clone()));
                let Some((addr, token)) = target else {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                };
                // Batches of concurrent sends keep the group commit busy.
                let handles: Vec<_> = (0..8)
                    .map(|_| {
                        i += 1;
                        let body =
                            format!(r#"{{"from":"{from}","to":"{to}","text":"{from} #{i}"}}"#);
                        let (addr, token) = (addr.clone(), token.clone());
                        std::thread::spawn(move || {
                            try_http(&addr, "POST", "/v1/messages", Some(&token), body.as_bytes())
                        })
                    })
                    .collect();
                for h in handles {
                    if let Ok(Ok((201, text))) = h.join() {
                        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                        let prev = acked[side].lock().unwrap().insert(
                            v["index"].as_u64().unwrap(),
                            v["leaf_hash"].as_str().unwrap().to_owned(),
                        );
                        assert!(prev.is_none(), "an index was acknowledged twice");
                    }
                }
            }
        }));
    }

    // Chaos: seeded, so a failure can be replayed.
    let mut seed = 0x2022_1021u64;
    let mut rnd = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let (mut kills, mut cuts) = (0, 0);
    while acked.iter().any(|a| a.lock().unwrap().len() < EACH_WAY) {
        std::thread::sleep(Duration::from_millis(300 + rnd(500)));
        let side = rnd(2) as usize;
        if rnd(2) == 0 {
            // SIGKILL, stay down a moment, restart where the peer pinned it.
            if let Some(n) = nodes[side].lock().unwrap().take() {
                n.kill9();
            }
            kills += 1;
            std::thread::sleep(Duration::from_millis(100 + rnd(400)));
            let n = Served::start_at(&dirs[side], &addrs[side].0, &addrs[side].1);
            *nodes[side].lock().unwrap() = Some(n);
        } else {
            // Cut the link: the node's peer listener stops accepting.
            let guard = nodes[side].lock().unwrap();
            if let Some(n) = guard.as_ref() {
                let (s, t) = n.request("PUT", "/v1/peer-listener", br#"{"open":false}"#);
                assert_eq!(s, 200, "{t}");
                drop(guard);
                cuts += 1;
                std::thread::sleep(Duration::from_millis(200 + rnd(800)));
                if let Some(n) = nodes[side].lock().unwrap().as_ref() {
                    n.request("PUT", "/v1/peer-listener", br#"{"open":true}"#);
                }
            }
        }
    }
    done.store(true, Ordering::Relaxed);
    for s in senders {
        s.join().unwrap();
    }
    assert!(
        kills > 0 && cuts > 0,
        "the chaos must have happened ({kills} kills, {cuts} cuts)"
    );
    wait_converged(&us, &ru, 120);

    // Every acknowledged send is in its log at its index (nothing lost), once.
    for (side, party) in [(0, &us), (1, &ru)] {
        acked_once(
            &log_json(party.d()),
            &acked[side].lock().unwrap(),
            party.d(),
        );
    }
    eprintln!(
        "federation stress: {} + {} acknowledged, {kills} kills, {cuts} cuts",
        acked[0].lock().unwrap().len(),
        acked[1].lock().unwrap().len()
    );
}

/// Every acknowledged send (`acked`: index → leaf hash) is in `log` at its
/// index, nothing lost, and no entry appears twice in it.
pub fn acked_once(log: &[serde_json::Value], acked: &BTreeMap<u64, String>, what: &str) {
    for (index, leaf_hash) in acked {
        assert_eq!(
            log[*index as usize]["leaf_hash"].as_str().unwrap(),
            leaf_hash,
            "entry {index} of {what}"
        );
    }
    let hashes: BTreeSet<&str> = log
        .iter()
        .map(|l| l["leaf_hash"].as_str().unwrap())
        .collect();
    assert_eq!(hashes.len(), log.len(), "no entry of {what} appears twice");
}

/// A third party pinned by both sides witnesses both logs: each log's
/// checkpoint carries the counterparty's and the third party's cosignature.
#[test]
fn a_third_party_witnesses_both_logs() {
    let (us, ru, nato, _a, _b, _c) = trio();
    agree(&us, &ru, &example("cyber-agreement.toml"));
    ok(&send_args(&us, "us/fbi", "ru/fsb", &["--text", "inquiry"]));
    let wit = |p: &Party| {
        NoteVerifier::from_vkey(ok(&["key", "--witness", "--dir", p.d()]).trim()).unwrap()
    };
    for (log, others) in [(&us, [&ru, &nato]), (&ru, [&us, &nato])] {
        let size = log_json(log.d()).len() as u64;
        let keys: Vec<NoteVerifier> = others.iter().map(|p| wit(p)).collect();
        wait_until(30, "cosignatures from both witnesses", || {
            let note = ok(&["checkpoint", "--dir", log.d()]);
            let v = checkpoint::verify(
                note.as_bytes(),
                &NoteVerifier::from_vkey(&log.vkey()).unwrap(),
                &keys,
            )
            .unwrap();
            v.size >= size && v.cosignatures.len() == 2
        });
    }
    // nato mirrors both logs without being a party to them.
    assert_eq!(log_json_peer(nato.d(), "us").len(), log_json(us.d()).len());
}

/// `[federation] push_gap_ms`: after a quiet spell a push goes at once;
/// entries that follow it within the gap wait it out and travel together.
#[test]
fn a_push_after_a_quiet_spell_goes_at_once_and_a_stream_waits_out_the_gap() {
    const GAP: Duration = Duration::from_secs(6);
    let (us, ru) = pair();
    let toml = us.dir.join("hotline.toml");
    let mut text = std::fs::read_to_string(&toml).unwrap();
    text.push_str(&format!(
        "\n[federation]\npush_gap_ms = {}\n",
        GAP.as_millis()
    ));
    std::fs::write(&toml, text).unwrap();
    let (a, b) = (Served::start(&us.dir), Served::start(&ru.dir));
    federate(&us, &ru);
    agree(&us, &ru, &example("cyber-agreement.toml"));
    wait_converged(&us, &ru, 60);
    let mirrored = || log_json_peer(ru.d(), "us").len() as u64;
    // Quiet for longer than the gap: the next entry goes at once.
    std::thread::sleep(GAP + Duration::from_millis(500));
    let t0 = Instant::now();
    let first = send(&us, "us/fbi", "ru/fsb", "alone after a quiet spell");
    wait_until(30, "the first message in ru's mirror", || {
        mirrored() > first
    });
    let took = t0.elapsed();
    assert!(
        took < GAP - Duration::from_secs(2),
        "a push after a quiet spell waited {took:?}"
    );
    // A stream right behind it waits out the gap, then arrives whole.
    let mut last = first;
    for i in 0..3 {
        last = send(&us, "us/fbi", "ru/fsb", &format!("stream {i}"));
    }
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        mirrored(),
        first + 1,
        "entries within the gap were pushed before it ended"
    );
    wait_until(30, "the stream in ru's mirror", || mirrored() > last);
    // The first push went after t0, and the next at least the gap later.
    assert!(
        t0.elapsed() >= GAP,
        "the stream arrived {:?} after the first message was sent, inside the gap",
        t0.elapsed()
    );
    assert_eq!(mirrored(), last + 1);
    wait_converged(&us, &ru, 30);
    drop((a, b));
}
