//! The peer endpoints under attack: bad input refused with the documented
//! status, nothing stored; a forked log caught and proved. The client is curl
//! (an independent TLS implementation) holding a node's pinned certificate.

use hotline_proto::entry::{Header, Kind, SignedEntry};
use hotline_proto::keys::{NoteKey, OfficeKeys, os_rng};
use hotline_proto::party::{Office, Party as PartyName};

use super::federation::{log_json_peer, pair};
use super::hostile::{checkpoint_for, curl, leaves, pin, push_leaves};
use super::util::*;

struct Keys {
    log: NoteKey,
    fbi: OfficeKeys,
}

fn keys_of(us: &Party) -> Keys {
    Keys {
        log: NoteKey::from_skey(&std::fs::read_to_string(us.dir.join("keys/log.key")).unwrap())
            .unwrap(),
        fbi: OfficeKeys::from_secret_json(
            &std::fs::read_to_string(us.dir.join("keys/offices/us_fbi.json")).unwrap(),
        )
        .unwrap(),
    }
}

fn forged_message(k: &OfficeKeys, text_time: &str) -> SignedEntry {
    let h = Header::new(
        PartyName::new("us").unwrap(),
        Kind::Message,
        "us/fbi",
        Some(Office::new("ru/fsb").unwrap()),
        text_time.parse().unwrap(),
    );
    SignedEntry::sign(h, |m| k.sign_raw(m)).unwrap()
}

/// us and ru federated; us has sent no sealed messages, only key entries and
/// body-less forged-free state, so its whole log can be replayed by the test.
fn setup() -> (Party, Party, Served, Served, u64) {
    let (us, ru) = pair();
    ok(&["office", "add", "us/state", "--dir", us.d()]);
    let (a, b) = (Served::start(&us.dir), Served::start(&ru.dir));
    federate(&us, &ru);
    let size = log_json(us.d()).len() as u64;
    wait_until(30, "ru mirroring us", || {
        log_json_peer(ru.d(), "us").len() as u64 == size
    });
    (us, ru, a, b, size)
}

#[test]
fn peer_endpoints_refuse_bad_input_and_store_nothing() {
    let (us, ru, _a, b, size) = setup();
    let k = keys_of(&us);
    let ru_pin = pin(&ru);
    let peer = b.peer_addr.clone();
    let mirror_before = log_json_peer(ru.d(), "us");
    let ru_log_before = log_json(ru.d()).len();
    let all = leaves(&us);
    let post = |path: &str, ct: &str, body: &[u8]| {
        curl(&us.dir, &peer, &ru_pin, path, ct, body).expect("TLS with pinned keys works")
    };
    // A push of `run` from index `from`, under us's checkpoint of `signed`.
    let push = |log: &str, signed: &[Vec<u8>], from: u64, run: &[Vec<u8>]| {
        post(
            "/fed/v1/push",
            "application/json",
            &push_leaves(log, &checkpoint_for(&k.log, signed), from, run),
        )
    };
    // us's log with one more message, signed by `key` and dated `time`.
    let with_forged = |key: &OfficeKeys, time: &str| {
        let mut l = all.clone();
        l.push(forged_message(key, time).leaf().to_vec());
        l
    };
    let add_checkpoint = |body: &[u8]| post("/fed/v1/witness/add-checkpoint", "text/plain", body);
    let mirror_size =
        |t: &str| serde_json::from_str::<serde_json::Value>(t).unwrap()["mirror_size"].clone();

    // Malformed body.
    let (s, t) = post("/fed/v1/push", "application/json", br#"{"origin": "#);
    assert_eq!(s, 400, "{t}");
    assert!(t.contains("malformed push"), "{t}");
    // An entry signed by a key us never announced.
    let stranger = OfficeKeys::generate(Office::new("us/fbi").unwrap(), &mut os_rng());
    let l = with_forged(&stranger, "2025-06-01T00:00:00Z");
    let (s, t) = push("hotline/us", &l, size, &l[size as usize..]);
    assert_eq!(s, 422, "{t}");
    assert!(t.contains("signature of us/fbi does not verify"), "{t}");
    // A genuine entry dated beyond ru's clock and its allowed skew.
    let l = with_forged(&k.fbi, "2099-01-01T00:00:00Z");
    let (s, t) = push("hotline/us", &l, size, &l[size as usize..]);
    assert_eq!(s, 422, "{t}");
    assert!(t.contains("later than this node's clock allows"), "{t}");
    // An entry at the wrong index (a gap): the answer says where to resume.
    let l = with_forged(&k.fbi, "2025-06-01T00:00:00Z");
    let (s, t) = push("hotline/us", &l, size + 5, &l[size as usize..]);
    assert_eq!(s, 409, "{t}");
    assert_eq!(mirror_size(&t), size);
    // A signed checkpoint that is not at the end of the pushed run.
    let (s, t) = push("hotline/us", &all, size, &l[size as usize..]);
    assert_eq!(s, 422, "{t}");
    // A replayed batch: accepted as already held, nothing added.
    let (s, t) = push("hotline/us", &all, 0, &all);
    assert_eq!(s, 200, "{t}");
    assert_eq!(mirror_size(&t), size);
    // An oversized batch.
    let many: Vec<Vec<u8>> = (0..1001).map(|_| all[0].clone()).collect();
    let (s, t) = push("hotline/us", &all, 0, &many);
    assert_eq!(s, 413, "{t}");
    // us pushing a log that is not its own.
    let (s, t) = push("hotline/ru", &all, 0, &all);
    assert_eq!(s, 403, "{t}");

    // C2SP tlog-witness status codes.
    let stranger_log = NoteKey::generate("hotline/xx", 1, &mut os_rng()).unwrap();
    let body = |old: u64, cp: &str| format!("old {old}\n\n{cp}").into_bytes();
    let (s, t) = add_checkpoint(&body(0, &checkpoint_for(&stranger_log, &all)));
    assert_eq!(s, 404, "unknown origin: {t}");
    let impostor = NoteKey::generate("hotline/us", 1, &mut os_rng()).unwrap();
    let (s, t) = add_checkpoint(&body(0, &checkpoint_for(&impostor, &all)));
    assert_eq!(s, 403, "wrong key: {t}");
    let (s, t) = add_checkpoint(&body(size + 1, &checkpoint_for(&k.log, &all)));
    assert_eq!(s, 400, "old > size: {t}");
    let (s, t) = add_checkpoint(b"new 0\n\nnothing");
    assert_eq!(s, 400, "malformed: {t}");
    let mut longer = all.clone();
    longer.extend(std::iter::repeat_n(all[0].clone(), 8));
    let (s, t) = add_checkpoint(&body(size + 7, &checkpoint_for(&k.log, &longer)));
    assert!(
        s == 409 || s == 425,
        "a stale old size or an unmirrored size: {s} {t}"
    );

    // A client whose certificate is not pinned is refused in the handshake.
    let outsider = Party::new("xx");
    let err = curl(
        &outsider.dir,
        &peer,
        &ru_pin,
        "/fed/v1/push",
        "application/json",
        b"{}",
    )
    .unwrap_err();
    assert!(!err.is_empty());
    // And a server whose pin is not the expected one is refused by the client.
    assert!(
        curl(
            &us.dir,
            &peer,
            &pin(&us),
            "/fed/v1/push",
            "application/json",
            b"{}"
        )
        .is_err()
    );

    // Nothing was stored: the mirror and ru's own log are as before.
    let after: Vec<_> = log_json_peer(ru.d(), "us");
    assert_eq!(after, mirror_before, "the mirror is unchanged");
    assert_eq!(
        log_json(ru.d()).len(),
        ru_log_before,
        "no receipt was written"
    );
}

#[test]
fn a_forked_log_is_refused_kept_as_evidence_and_proved() {
    let (us, ru, a, b, size) = setup();
    let ru_wit = ok(&["key", "--witness", "--dir", ru.d()]).trim().to_owned();
    wait_until(30, "ru cosigning us's log", || {
        let s: serde_json::Value =
            serde_json::from_str(&ok(&["status", "--dir", ru.d(), "--json"])).unwrap();
        s["peers"][0]["peer_log_cosigned"]["size"].as_u64() == Some(size)
    });
    a.kill9(); // us goes rogue from here on, with its own keys.
    let k = keys_of(&us);
    let (ru_pin, peer) = (pin(&ru), b.peer_addr.clone());
    let mut forked = leaves(&us);
    let last = forked.len() - 1;
    forked[last] = forged_message(&k.fbi, "2021-07-09T00:00:00Z")
        .leaf()
        .to_vec();

    // 1. A checkpoint of the same size with another root, sent to ru's witness.
    let cp = checkpoint_for(&k.log, &forked);
    let (s, t) = curl(
        &us.dir,
        &peer,
        &ru_pin,
        "/fed/v1/witness/add-checkpoint",
        "text/plain",
        format!("old {size}\n\n{cp}").as_bytes(),
    )
    .unwrap();
    assert_eq!(
        (s, t.as_str()),
        (409, format!("{size}\n").as_str()),
        "refused with the cosigned size"
    );
    // 2. A push that rewrites an entry ru already holds.
    let (s, t) = curl(
        &us.dir,
        &peer,
        &ru_pin,
        "/fed/v1/push",
        "application/json",
        &push_leaves("hotline/us", &cp, last as u64, &forked[last..]),
    )
    .unwrap();
    assert_eq!(s, 409, "{t}");
    assert!(t.contains("equivocation"), "{t}");

    // The alert: status, metrics, and the evidence on record.
    let status: serde_json::Value =
        serde_json::from_str(&ok(&["status", "--dir", ru.d(), "--json"])).unwrap();
    // Both routes to the same fork yield the same evidence, kept once.
    assert_eq!(status["equivocations"], 1, "{status}");
    assert!(
        status["peers"][0]["alerts"][0]
            .as_str()
            .unwrap()
            .starts_with("EQUIVOCATION"),
        "{status}"
    );
    wait_until(10, "the equivocation gauge", || {
        b.request("GET", "/metrics", b"")
            .1
            .contains("hotline_equivocations 1")
    });
    let listed = ok(&["prove", "equivocation", "--dir", ru.d()]);
    assert!(listed.contains("#1") && !listed.contains("#2"), "{listed}");
    // ru still refuses to cosign the fork, and its mirror still holds the original.
    assert_eq!(log_json_peer(ru.d(), "us").len() as u64, size);

    let id = "1";
    let f = ru.dir.join(format!("../fork-{id}.json"));
    ok(&[
        "prove",
        "equivocation",
        id,
        "--dir",
        ru.d(),
        "-o",
        f.to_str().unwrap(),
    ]);
    // Anyone with us's pinned key can check it; ru's word is not needed.
    let out = ok(&[
        "verify",
        f.to_str().unwrap(),
        "--key",
        &us.vkey(),
        "--key",
        &ru_wit,
    ]);
    assert!(out.contains("Log hotline/us equivocated"), "{out}");
    // Claiming that two agreeing views disagree does not verify.
    let mut j: serde_json::Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
    j["b"] = j["a"].clone();
    std::fs::write(&f, serde_json::to_vec(&j).unwrap()).unwrap();
    let err = fails(&["verify", f.to_str().unwrap(), "--key", &us.vkey()]);
    assert!(err.contains("agree"), "{err}");
}

/// An entry no agreement in force allows, pushed anyway (a sender whose own
/// policy check was bypassed): the receiver mirrors it — it is in the
/// sender's log regardless — and its receipt says it was refused and why.
#[test]
fn traffic_outside_every_agreement_is_mirrored_and_receipted_as_refused() {
    let (us, ru, _a, b, size) = setup();
    let k = keys_of(&us);
    let mut l = leaves(&us);
    // Dated now: an entry dated before us's previous one is refused whole
    // (attack_time.rs); this one is only outside every agreement.
    l.push(
        forged_message(&k.fbi, &jiff::Timestamp::now().to_string())
            .leaf()
            .to_vec(),
    );
    let (s, t) = curl(
        &us.dir,
        &b.peer_addr,
        &pin(&ru),
        "/fed/v1/push",
        "application/json",
        &push_leaves(
            "hotline/us",
            &checkpoint_for(&k.log, &l),
            size,
            &l[size as usize..],
        ),
    )
    .unwrap();
    assert_eq!(s, 200, "the mirror keeps it: {t}");
    assert_eq!(log_json_peer(ru.d(), "us").len() as u64, size + 1);
    wait_until(20, "ru's receipt for the entry", || {
        log_json(ru.d())
            .iter()
            .any(|e| e["header"]["kind"] == "receipt" && e["header"]["refs"][0]["index"] == size)
    });
    let log = log_json(ru.d());
    let receipt = log
        .iter()
        .find(|e| e["header"]["kind"] == "receipt" && e["header"]["refs"][0]["index"] == size)
        .unwrap();
    let status = receipt["header"]["status"].as_str().unwrap();
    assert!(
        status.starts_with("refused: no agreement in force opens us/fbi ↔ ru/fsb for message"),
        "{status}"
    );
    assert_eq!(
        receipt["header"]["from"], "ru/fsb",
        "the addressed office signs the refusal"
    );
}
