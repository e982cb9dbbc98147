//! Issue 10, item 2: time that goes backwards.
//!
//! A hostile party dates an entry before the previous entry of its own log,
//! or before the latest checkpoint of its log that the victim has already
//! cosigned (less the victim's allowed clock skew): to slip an entry in
//! before its own withdrawal from an agreement, or an answer inside its
//! deadline. The victim refuses the whole push (422, nothing mirrored) and,
//! where the entry is addressed to one of its offices, writes exactly one
//! receipt that says so, however often the push is retried. Entries written
//! while the link was down are dated after the last cosignature and stay
//! accepted. A node whose clock lags a witness's dates its entries no
//! earlier than that witness's latest cosignature of its log, so the link
//! survives; a cosignature dated beyond the node's clock plus its skew does
//! not move its dates and raises an alert instead.

use jiff::{SignedDuration, Timestamp};

use super::hostile::*;
use super::util::*;

/// Sets `key = value` in a node's hotline.toml (the key must be there).
fn set_toml(dir: &std::path::Path, key: &str, value: &str) {
    let p = dir.join("hotline.toml");
    let t = std::fs::read_to_string(&p).unwrap();
    let line = t
        .lines()
        .find(|l| l.starts_with(&format!("{key} =")))
        .unwrap_or_else(|| panic!("hotline.toml has no {key}: {t}"))
        .to_owned();
    std::fs::write(&p, t.replace(&line, &format!("{key} = {value}"))).unwrap();
}

/// Like [`stage`], with `ru` allowing only `skew` seconds of clock skew and
/// the agreement from `terms`.
fn stage_with(skew: u64, terms: &str) -> (Party, Party, Served, Served, String) {
    let (us, ru) = super::federation::pair();
    set_toml(&ru.dir, "max_clock_skew_secs", &skew.to_string());
    let (a, b) = (Served::start(&us.dir), Served::start(&ru.dir));
    federate(&us, &ru);
    let id = agree(&us, &ru, terms);
    settle_between(&us, &ru);
    (us, ru, a, b, id)
}

/// When `ru`'s node last cosigned a checkpoint of us's log.
fn cosigned_at(ru: &Party) -> Option<Timestamp> {
    let v: serde_json::Value =
        serde_json::from_str(&ok(&["status", "--dir", ru.d(), "--json"])).unwrap();
    let p = v["peers"].as_array()?.iter().find(|p| p["peer"] == "us")?;
    p["peer_log_cosigned"]["time"].as_str()?.parse().ok()
}

/// The time of the last entry of a party's log.
fn last_time(p: &Party) -> Timestamp {
    log_json(p.d()).last().unwrap()["header"]["time"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

fn secs(n: i64) -> SignedDuration {
    SignedDuration::from_secs(n)
}

/// Every receipt in `receiver`'s log for entry `index` of `sender`'s log.
fn receipts_for(receiver: &Party, sender: &str, index: u64) -> Vec<serde_json::Value> {
    log_json(receiver.d())
        .into_iter()
        .filter(|e| {
            let h = &e["header"];
            h["kind"] == "receipt"
                && h["refs"][0]["log"] == sender
                && h["refs"][0]["index"] == index
        })
        .collect()
}

/// Pushes entries `from..to` of the hostile log.
fn push_range(us: &Hostile, victim: Target<'_>, from: u64, to: u64) -> (u16, String) {
    us.post(
        victim,
        "/fed/v1/push",
        "application/json",
        &us.push_body(from, to),
    )
}

/// Asserts the refusal of a backdated entry `index`: the push answered 422
/// with `entry INDEX: WHY…`, one receipt from `ru/fsb` saying `refused: WHY`
/// naming the entry, and nothing else stored. Retries the same push and
/// checks that it is refused the same way without a second receipt.
fn assert_refused(
    us: &Hostile,
    victim: Target<'_>,
    push: (u64, u64),
    index: u64,
    why: &str,
    before: &Snapshot,
) {
    let ru = victim.party;
    let (s, body) = push_range(us, victim, push.0, push.1);
    assert_eq!(s, 422, "{body}");
    let err = error_of(&body);
    assert!(
        err.starts_with(&format!("entry {index}: {why}")),
        "{err}\nwanted: entry {index}: {why}"
    );
    let r = receipt_for(ru, "us", index);
    let status = r["header"]["status"].as_str().unwrap();
    assert_eq!(status, format!("refused: {why}"), "{r}");
    assert_eq!(r["header"]["from"], "ru/fsb", "{r}");
    assert_eq!(r["header"]["to"], "us/fbi", "{r}");
    let target = Hostile::reference("us", index, &us.leaves[index as usize]);
    assert_eq!(r["header"]["refs"][0]["log"], "us", "{r}");
    assert_eq!(r["header"]["refs"][0]["leaf_hash"], target.leaf_hash, "{r}");
    assert_eq!(
        before.added(ru, "the backdated push"),
        vec![r.clone()],
        "one receipt, nothing else"
    );
    // The sender retries, as its outbox does: the same answer, no second receipt.
    for _ in 0..2 {
        let (s2, body2) = push_range(us, victim, push.0, push.1);
        assert_eq!(s2, 422, "{body2}");
        assert_eq!(error_of(&body2), err);
    }
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(
        before.added(ru, "the retried push"),
        vec![r],
        "a retry wrote another receipt"
    );
}

/// (a) Within one log an entry's time never goes back: a push whose second
/// entry is dated before its first is refused as a whole; the earlier entry
/// alone is accepted afterwards, and the refused one stays refused with its
/// one receipt.
#[test]
fn an_entry_dated_before_the_previous_entry_of_its_log_is_refused() {
    let (mut us, ru, b, agreement) = taken_over();
    let victim = Target::new(&ru, &b);
    let before = Snapshot::of(&ru, &["us"]);
    let now = Timestamp::now();
    let (first_time, earlier) = (now.to_string(), (now - secs(60)).to_string());
    let first = us.message(&ru, Msg::fbi_to_fsb(&agreement, &first_time, "first"));
    let second = us.message(
        &ru,
        Msg::fbi_to_fsb(
            &agreement,
            &earlier,
            "second, dated a minute before the first",
        ),
    );
    let why = format!(
        "dated {}, earlier than the previous entry of us's log (dated {})",
        us.entry(second).header().time,
        us.entry(first).header().time
    );
    assert_refused(&us, victim, (first, second + 1), second, &why, &before);

    // The first entry alone is fine, and gets its own receipt…
    let (s, body) = push_range(&us, victim, first, first + 1);
    assert_eq!(s, 200, "{body}");
    let r = receipt_for(&ru, "us", first);
    assert_eq!(r["header"]["status"], "delivered", "{r}");
    // …and the second is still refused, still with one receipt.
    let (s, body) = us.push(victim, second);
    assert_eq!(s, 422, "{body}");
    assert!(
        error_of(&body).starts_with(&format!("entry {second}: {why}")),
        "{body}"
    );
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert_eq!(receipts_for(&ru, "us", second).len(), 1);
    assert_eq!(receipts_for(&ru, "us", first).len(), 1);
    let mirror = super::federation::log_json_peer(ru.d(), "us");
    assert_eq!(
        mirror.len() as u64,
        first + 1,
        "the mirror holds the first only"
    );
}

/// (b) An entry dated after the previous entry of its log, but before the
/// latest checkpoint of that log this node has cosigned (less the allowed
/// skew), is refused; and the log cannot then put another entry in its place.
#[test]
fn an_entry_dated_before_what_this_node_cosigned_is_refused() {
    let (us, ru, a, b, agreement) = stage_with(1, &example("cyber-agreement.toml"));
    let last = last_time(&us);
    wait_until(30, "ru cosigning us's log 4 s after its last entry", || {
        cosigned_at(&ru).is_some_and(|t| t >= last + secs(4))
    });
    a.kill9();
    let mut us = Hostile::take_over(us);
    let victim = Target::new(&ru, &b);
    let before = Snapshot::of(&ru, &["us"]);
    let time = (us.entry(us.size() - 1).header().time + secs(1)).to_string();
    let i = us.message(
        &ru,
        Msg::fbi_to_fsb(
            &agreement,
            &time,
            "dated after the previous entry, before the cosignature",
        ),
    );
    let cosigned = cosigned_at(&ru).unwrap();
    let why = format!(
        "dated {}, earlier than this node's cosignature of us's log at {cosigned} less the allowed clock skew (1 s)",
        us.entry(i).header().time
    );
    assert_refused(&us, victim, (i, i + 1), i, &why, &before);

    // The log now writes another entry at that index, properly dated: it
    // contradicts the entry it was refused for, and is refused too.
    us.leaves.pop();
    us.sealed.pop();
    let j = us.message(
        &ru,
        Msg::fbi_to_fsb(&agreement, &Timestamp::now().to_string(), "a replacement"),
    );
    assert_eq!(j, i);
    let (s, body) = us.push(victim, j);
    assert_eq!(s, 422, "{body}");
    assert!(
        error_of(&body).starts_with(&format!(
            "entry {j}: this node already refused entry {j} of us's log"
        )),
        "{body}"
    );
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert_eq!(receipts_for(&ru, "us", j).len(), 1, "still the one receipt");
    assert_eq!(
        super::federation::log_json_peer(ru.d(), "us"),
        before.mirrors["us"],
        "the mirror is unchanged"
    );
}

/// (c) The issue's scenario: a party withdraws from an agreement (no
/// notice), then writes a message dated just before its withdrawal, while
/// the agreement was still in force. Refused, with a receipt that says why.
#[test]
fn an_entry_dated_before_its_own_withdrawal_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let terms = dir.path().join("terms.toml");
    std::fs::write(
        &terms,
        r#"title = "Test channel"
start = "2021-06-01T00:00:00Z"
notice = "0s"
ack_within = "24h"
answer_within = "30d"

[[channel]]
offices = ["us/fbi", "ru/fsb"]
kinds = ["message", "inquiry", "ack", "answer"]
"#,
    )
    .unwrap();
    let (us, ru, a, b, agreement) = stage_with(300, terms.to_str().unwrap());
    ok(&["agreement", "withdraw", &agreement, "--dir", us.d()]);
    settle_between(&us, &ru);
    a.kill9();
    let mut us = Hostile::take_over(us);
    let w = us.entry(us.size() - 1);
    assert_eq!(w.header().status.as_deref(), Some("withdrawn"));
    let victim = Target::new(&ru, &b);
    let before = Snapshot::of(&ru, &["us"]);
    let time = (w.header().time - secs(2)).to_string();
    let i = us.message(
        &ru,
        Msg::fbi_to_fsb(
            &agreement,
            &time,
            "written after the withdrawal, dated before it",
        ),
    );
    let why = format!(
        "dated {}, earlier than the previous entry of us's log (dated {})",
        us.entry(i).header().time,
        w.header().time
    );
    assert_refused(&us, victim, (i, i + 1), i, &why, &before);
}

/// Entries written while the link was down are dated after the victim's
/// last cosignature, however long the link stayed down: still accepted,
/// even with a skew of one second.
#[test]
fn entries_written_while_the_link_was_down_are_still_accepted() {
    let (us, ru, _a, b, _) = stage_with(1, &example("cyber-agreement.toml"));
    let last = last_time(&us);
    wait_until(30, "ru cosigning us's log", || {
        cosigned_at(&ru).is_some_and(|t| t >= last + secs(2))
    });
    let (s, t) = b.request("PUT", "/v1/peer-listener", br#"{"open":false}"#);
    assert_eq!(s, 200, "{t}");
    let index = send_us(&us, "written while the link was down");
    std::thread::sleep(std::time::Duration::from_secs(3));
    let (s, t) = b.request("PUT", "/v1/peer-listener", br#"{"open":true}"#);
    assert_eq!(s, 200, "{t}");
    let r = receipt_for(&ru, "us", index);
    assert_eq!(r["header"]["status"], "delivered", "{r}");
    settle_between(&us, &ru);
}

/// Keeps, in `holder`'s database, a cosignature of `holder`'s latest
/// checkpoint by `witness`'s cosigner key dated `time`: what `holder`'s
/// outbox records when that witness answers add-checkpoint with its own
/// clock's time. (Real nodes here share one clock, so a witness whose clock
/// is ahead is played by writing its answer where the node keeps it.)
fn cosigned_by_clock_ahead(holder: &Party, witness: &Party, time: Timestamp) {
    let key = hotline_proto::keys::NoteKey::from_skey(
        &std::fs::read_to_string(witness.dir.join("keys/witness.key")).unwrap(),
    )
    .unwrap();
    let db = rusqlite::Connection::open(holder.dir.join("hotline.db")).unwrap();
    db.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    let (log, size, note): (i64, i64, Vec<u8>) = db
        .query_row(
            "SELECT c.log, c.size, c.note FROM checkpoints c JOIN logs l ON l.id = c.log
             WHERE l.origin = 'hotline/us' ORDER BY c.size DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let (text, _) = hotline_proto::checkpoint::split(&note).unwrap();
    let t = u64::try_from(time.as_second()).unwrap();
    let line = hotline_proto::checkpoint::cosign_line(&key, text, t).unwrap();
    db.execute(
        "INSERT INTO cosignatures (log, size, witness, time, line) VALUES (?1, ?2, ?3, ?4, ?5)",
        rusqlite::params![log, size, key.name(), time.as_second(), line.trim_end()],
    )
    .unwrap();
}

/// us's alerts in `hotline status` about its peer ru.
fn alerts_about_ru(us: &Party) -> Vec<String> {
    let v: serde_json::Value =
        serde_json::from_str(&ok(&["status", "--dir", us.d(), "--json"])).unwrap();
    let p = v["peers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["peer"] == "ru")
        .unwrap_or_else(|| panic!("{v}"))
        .clone();
    p["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect()
}

/// A message from us/fbi to ru/fsb through us's running node; its index.
fn send_us(us: &Party, text: &str) -> u64 {
    send(us, "us/fbi", "ru/fsb", text)
}

/// A witness (ru) whose clock runs ahead of us's, within the skew: us's next
/// entry is dated no earlier than ru's latest cosignature of us's log, so ru
/// does not refuse it as backdated; ru mirrors it and receipts it. A
/// cosignature an hour ahead (beyond us's clock plus its 300 s skew) does
/// not move us's dates, and `hotline status` names ru and how far ahead.
#[test]
fn a_node_dates_its_entries_by_a_witness_clock_ahead_within_the_skew_only() {
    let (us, ru, _a, _b, _) = stage_with(300, &example("cyber-agreement.toml"));
    let ahead = Timestamp::now() + secs(120);
    cosigned_by_clock_ahead(&us, &ru, ahead);
    assert!(
        alerts_about_ru(&us).iter().all(|a| !a.contains("clock")),
        "{:?}",
        alerts_about_ru(&us)
    );
    let index = send_us(&us, "written by a clock two minutes behind ru's");
    let e = &log_json(us.d())[index as usize];
    let time: Timestamp = e["header"]["time"].as_str().unwrap().parse().unwrap();
    assert!(
        time.as_second() >= ahead.as_second(),
        "entry {index} dated {time}, before ru's cosignature of us's log at {ahead}"
    );
    let r = receipt_for(&ru, "us", index);
    assert_eq!(r["header"]["status"], "delivered", "{r}");
    settle_between(&us, &ru);

    let far = Timestamp::now() + secs(3600);
    cosigned_by_clock_ahead(&us, &ru, far);
    let alerts = alerts_about_ru(&us);
    let alert = alerts
        .iter()
        .find(|a| a.starts_with("ru's witness clock is ahead of this node's by "))
        .unwrap_or_else(|| panic!("no clock alert: {alerts:?}"));
    let secs_ahead: i64 = alert
        .trim_start_matches("ru's witness clock is ahead of this node's by ")
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((3500..=3600).contains(&secs_ahead), "{alert}");
    assert!(alert.contains("fix the clock"), "{alert}");
    let index = send_us(&us, "not dated by a witness an hour ahead");
    let e = &log_json(us.d())[index as usize];
    let time: Timestamp = e["header"]["time"].as_str().unwrap().parse().unwrap();
    assert!(
        time < far - secs(3000),
        "entry {index} dated {time} by a cosignature an hour ahead ({far})"
    );
    assert!(time.as_second() >= ahead.as_second(), "{time} went back");
}

/// The refusal receipt of a backdated entry is written before the push is
/// answered, under the mirror lock: a push racing the refusal must not be
/// mirrored past the refused index while its receipt is still unwritten
/// (the receipt cursor would then skip every entry below it). A race is hard
/// to stage deterministically, so this checks its cause: the receipt is in
/// the victim's log the moment the 422 arrives.
#[test]
fn the_refusal_receipt_is_written_before_the_push_is_answered() {
    let (mut us, ru, b, agreement) = taken_over();
    let victim = Target::new(&ru, &b);
    let now = Timestamp::now();
    let (t1, t0) = (now.to_string(), (now - secs(60)).to_string());
    let first = us.message(&ru, Msg::fbi_to_fsb(&agreement, &t1, "first"));
    let second = us.message(
        &ru,
        Msg::fbi_to_fsb(&agreement, &t0, "second, dated a minute before the first"),
    );
    let (s, body) = push_range(&us, victim, first, second + 1);
    assert_eq!(s, 422, "{body}");
    assert_eq!(
        receipts_held(&ru, "hotline/ru", "us", second),
        1,
        "the 422 arrived before the refusal receipt was written"
    );
    let r = receipt_for(&ru, "us", second);
    assert!(
        r["header"]["status"]
            .as_str()
            .unwrap()
            .starts_with(&format!(
                "refused: dated {}",
                us.entry(second).header().time
            )),
        "{r}"
    );
    // The first entry alone, pushed at once, is mirrored and receipted.
    let (s, body) = push_range(&us, victim, first, first + 1);
    assert_eq!(s, 200, "{body}");
    let r = receipt_for(&ru, "us", first);
    assert_eq!(r["header"]["status"], "delivered", "{r}");
}
