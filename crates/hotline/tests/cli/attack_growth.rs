//! Bounded growth: a peer cannot make this node owe receipts (entries in its
//! own log) faster than `[limits] max_receipts_per_window` per
//! `receipt_window_secs`. A push beyond the budget is refused with 429 and a
//! `Retry-After`, storing nothing; an honest sender paces itself and every
//! entry is still delivered and receipted exactly once.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use super::federation::log_json_peer;
use super::hostile::*;
use super::util::*;

/// Sets the receipts budget in `p`'s hotline.toml (before its node starts).
fn set_receipts_budget(p: &Party, per_window: u64, window_secs: u64) {
    let path = p.dir.join("hotline.toml");
    let t = std::fs::read_to_string(&path).unwrap();
    let t = t
        .replace(
            "max_receipts_per_window = 6000",
            &format!("max_receipts_per_window = {per_window}"),
        )
        .replace(
            "receipt_window_secs = 60",
            &format!("receipt_window_secs = {window_secs}"),
        );
    assert!(
        t.contains(&format!("max_receipts_per_window = {per_window}\n"))
            && t.contains(&format!("receipt_window_secs = {window_secs}\n")),
        "hotline.toml has no receipts budget: {t}"
    );
    std::fs::write(path, t).unwrap();
}

/// `receiver`'s receipts for entries of `sender`'s log: index → how many.
fn receipts(receiver: &Party, sender: &str) -> BTreeMap<u64, usize> {
    let mut m = BTreeMap::new();
    for l in log_json(receiver.d()) {
        let h = &l["header"];
        if h["kind"] == "receipt" && h["refs"][0]["log"] == sender {
            *m.entry(h["refs"][0]["index"].as_u64().unwrap())
                .or_default() += 1;
        }
    }
    m
}

fn throttled(served: &Served, peer: &str) -> u64 {
    let (_, m) = served.request("GET", "/metrics", b"");
    let key = format!("hotline_pushes_throttled_total{{peer=\"{peer}\"}} ");
    m.lines()
        .find_map(|l| l.strip_prefix(&key))
        .map_or(0, |v| v.trim().parse().unwrap())
}

/// us, gone hostile, pushes 20 entries addressed to ru in one push, against
/// a budget of 5 receipts: 429 with Retry-After, nothing stored. Five fit and
/// are receipted; after that nothing more fits in the window.
#[test]
fn a_push_owing_more_receipts_than_the_budget_is_refused_with_429() {
    // An hour's window: the whole test runs inside one.
    let (us, ru, a, b, agreement) = stage_with(|_, ru| set_receipts_budget(ru, 5, 3600));
    a.kill9();
    let mut us = Hostile::take_over(us);
    let victim = Target::new(&ru, &b);
    let now = jiff::Timestamp::now().to_string();
    let first = us.size();
    for n in 0..20 {
        us.message(
            &ru,
            Msg::fbi_to_fsb(&agreement, &now, &format!("flood {n}")),
        );
    }
    let push = |from: u64, to: u64| {
        us.post_with_headers(
            victim,
            "/fed/v1/push",
            "application/json",
            &us.push_body(from, to),
        )
    };
    let refused = |(s, headers, t): (u16, BTreeMap<String, String>, String),
                   owed: u64,
                   allowed: u64| {
        assert_eq!(s, 429, "{t}");
        let retry: u64 = headers["retry-after"].parse().unwrap();
        assert!((1..=3600).contains(&retry), "Retry-After: {retry}");
        let v: serde_json::Value = serde_json::from_str(&t).unwrap();
        assert_eq!(v["status"], 429);
        assert_eq!(v["receipts_allowed"], allowed, "{t}");
        assert_eq!(v["receipts_per_window"], 5, "{t}");
        assert_eq!(v["retry_after_secs"], retry, "{t}");
        let msg = v["error"].as_str().unwrap();
        assert!(
            msg.contains(&format!(
                "this push would make ru owe {owed} receipts to us, and only {allowed} more are allowed in the current window (5 every 3600 s: limits.max_receipts_per_window and limits.receipt_window_secs in ru's hotline.toml); nothing was stored: push at most {allowed} entries addressed to ru now, or retry after {retry} s"
            )),
            "{msg}"
        );
        v["mirror_size"].as_u64().unwrap()
    };

    let before = Snapshot::of(&ru, &["us"]);
    let held = refused(push(first, first + 20), 20, 5);
    assert_eq!(held, before.mirrors["us"].len() as u64);
    before.unchanged(&ru, "a push over the receipts budget");

    // Five fit: mirrored and receipted, once each.
    let (s, _, t) = push(first, first + 5);
    assert_eq!(s, 200, "{t}");
    for i in first..first + 5 {
        assert_eq!(receipt_for(&ru, "us", i)["header"]["status"], "delivered");
    }
    let after = Snapshot::of(&ru, &["us"]);
    assert_eq!(after.mirrors["us"].len(), before.mirrors["us"].len() + 5);
    assert_eq!(after.own.len(), before.own.len() + 5, "five receipts");

    // The window's budget is spent: not even one more.
    refused(push(first + 5, first + 20), 15, 0);
    refused(push(first + 5, first + 6), 1, 0);
    after.unchanged(&ru, "pushes after the budget was spent");
    assert_eq!(throttled(&b, "us"), 3);
}

/// A real us node sends 20 messages to a ru that takes 5 receipts every 3
/// seconds: the outbox honours the 429s (the link stays up, the status says
/// it is paced), and in the end every entry is mirrored and receipted
/// exactly once.
#[test]
fn an_honest_sender_over_the_budget_is_paced_and_nothing_is_lost_or_doubled() {
    let (us, ru, a, b, _agreement) = stage_with(|_, ru| set_receipts_budget(ru, 5, 3));
    let mut sent = BTreeSet::new();
    for n in 0..20 {
        sent.insert(send(&us, "us/fbi", "ru/fsb", &format!("message {n}")));
    }
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut saw_paced = false;
    loop {
        let status: serde_json::Value =
            serde_json::from_str(&ok(&["status", "--dir", us.d(), "--json"])).unwrap();
        let peer = &status["peers"][0];
        saw_paced |= peer["alerts"].as_array().unwrap().iter().any(|a| {
            a.as_str()
                .unwrap()
                .starts_with("ru paces this node's pushes until ")
        });
        let got = receipts(&ru, "us");
        if got.keys().copied().collect::<BTreeSet<_>>() == sent {
            assert!(
                got.values().all(|n| *n == 1),
                "an entry receipted twice: {got:?}"
            );
            assert_eq!(peer["link"]["up"], true, "{status}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "after 90 s ru has receipted {} of {} entries",
            got.len(),
            sent.len()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let own: Vec<_> = log_json(us.d())
        .into_iter()
        .map(|l| l["leaf"].clone())
        .collect();
    wait_until(30, "ru's mirror holding all of us's log", || {
        log_json_peer(ru.d(), "us").len() >= own.len()
    });
    let mirrored: Vec<_> = log_json_peer(ru.d(), "us")
        .into_iter()
        .map(|l| l["leaf"].clone())
        .collect();
    assert_eq!(mirrored[..own.len()], own[..], "the mirror is us's log");
    assert!(throttled(&b, "us") > 0, "ru paced us at least once");
    assert!(saw_paced, "us's status showed that ru paced it");
    drop((a, b));
}
