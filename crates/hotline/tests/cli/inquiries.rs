//! Agreements, policy and inquiries between two real node processes: the
//! whole life of an inquiry (sent, delivered, acknowledged, answered, closed)
//! as both sides see it, traffic refused without an agreement in force, a
//! refusal receipted by the receiver, bad input refused with nothing written,
//! and overdue inquiries in `status` and `/metrics`.

use std::collections::BTreeSet;

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use super::federation::{federated, log_json_peer, pair};
use super::util::*;

fn ts(v: &Value) -> Timestamp {
    v.as_str()
        .unwrap_or_else(|| panic!("not a time: {v}"))
        .parse()
        .unwrap_or_else(|e| panic!("not a time ({e}): {v}"))
}

fn inquiries(p: &Party) -> Vec<Value> {
    json(&ok(&["inquiries", "--dir", p.d(), "--json"]))
        .as_array()
        .expect("an array of inquiries")
        .clone()
}

/// The inquiry `id` as `p` sees it, if it sees it.
fn inquiry(p: &Party, id: &str) -> Option<Value> {
    inquiries(p).into_iter().find(|q| q["id"] == id)
}

/// The inquiry `id` on `p` once `cond` holds for it.
fn inquiry_when(p: &Party, id: &str, what: &str, cond: impl Fn(&Value) -> bool) -> Value {
    let mut last = None;
    wait_until(30, what, || {
        last = inquiry(p, id);
        last.as_ref().is_some_and(&cond)
    });
    last.unwrap()
}

fn agreement(p: &Party, id: &str) -> Option<Value> {
    json(&ok(&["agreements", "--dir", p.d(), "--json"]))
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .cloned()
}

/// Both log sizes.
pub(super) fn sizes(us: &Party, ru: &Party) -> (usize, usize) {
    (log_json(us.d()).len(), log_json(ru.d()).len())
}

/// Whether `receiver_log` holds a receipt for every entry of `sender_log`
/// addressed to one of `receiver`'s offices.
fn receipted(sender_log: &[Value], receiver_log: &[Value], receiver: &str) -> bool {
    let got: BTreeSet<(String, u64)> = receiver_log
        .iter()
        .map(|l| &l["header"])
        .filter(|h| h["kind"] == "receipt")
        .map(|h| {
            (
                h["refs"][0]["log"].as_str().unwrap().to_owned(),
                h["refs"][0]["index"].as_u64().unwrap(),
            )
        })
        .collect();
    sender_log.iter().all(|l| {
        let h = &l["header"];
        h["kind"] == "receipt"
            || !h["to"]
                .as_str()
                .is_some_and(|t| t.starts_with(&format!("{receiver}/")))
            || got.contains(&(
                h["log"].as_str().unwrap().to_owned(),
                l["index"].as_u64().unwrap(),
            ))
    })
}

/// Waits until nothing is in flight: each mirror equals its source and every
/// receipt owed is written. Log sizes only change after this when someone acts.
pub(super) fn settled(us: &Party, ru: &Party) {
    wait_until(
        30,
        "both mirrors complete and every receipt written",
        || {
            let (ul, rl) = (log_json(us.d()), log_json(ru.d()));
            let (um, rm) = (log_json_peer(ru.d(), "us"), log_json_peer(us.d(), "ru"));
            um.len() == ul.len()
                && rm.len() == rl.len()
                && receipted(&ul, &rl, "ru")
                && receipted(&rl, &ul, "us")
        },
    );
}

/// Writes `bytes` next to the party's directory; returns the path.
fn file(p: &Party, name: &str, bytes: impl AsRef<[u8]>) -> String {
    let path = p.dir.join("..").join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_owned()
}

/// A terms file for us/fbi ↔ ru/fsb with the given notice, deadlines and kinds.
fn terms(p: &Party, notice: &str, ack: &str, answer: &str, kinds: &[&str]) -> String {
    let kinds: Vec<String> = kinds.iter().map(|k| format!("{k:?}")).collect();
    file(
        p,
        "terms.toml",
        format!(
            r#"title = "Test channel"
start = "2021-06-01T00:00:00Z"
notice = "{notice}"
ack_within = "{ack}"
answer_within = "{answer}"

[[channel]]
offices = ["us/fbi", "ru/fsb"]
kinds = [{}]
"#,
            kinds.join(", ")
        ),
    )
}

/// `hotline inquire` from `from` to `to` on `p`, with `extra` arguments;
/// returns the inquiry's id.
fn inquire(p: &Party, from: &str, to: &str, extra: &[&str]) -> String {
    let body = file(
        p,
        "inquiry.txt",
        "Ransomware hit a hospital; indicators attached.",
    );
    let mut args = inquire_args(p, from, to, "REvil intrusion", &body, &["--json"]);
    args.extend_from_slice(extra);
    let out = json(&ok(&args));
    let id = out["id"].as_str().unwrap().to_owned();
    let party = p.dir.file_name().unwrap().to_str().unwrap();
    assert_eq!(id, format!("{party}:{}", out["index"]), "{out}");
    id
}

/// Runs `hotline ARGS` expecting failure; returns stderr.
fn refused(args: &[&str], expect: &[&str]) -> String {
    let err = fails(args);
    for e in expect {
        assert!(err.contains(e), "hotline {args:?}: {e:?} not in: {err}");
    }
    err
}

fn example_stix() -> Value {
    json(&std::fs::read_to_string(example("stix-ransomware.json")).unwrap())
}

#[test]
fn an_inquiry_lives_from_sent_to_closed_on_both_sides() {
    let (us, ru, _a, _b) = federated();
    let agreement_id = agree(&us, &ru, &example("cyber-agreement.toml"));

    let attachment: Vec<u8> = (0..20_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let attach = file(&us, "memo.pdf", &attachment);
    let stix = example("stix-ransomware.json");
    let id = inquire(
        &us,
        "us/fbi",
        "ru/fsb",
        &["--attach", &attach, "--stix", &stix, "--lang", "en"],
    );

    // The entry in us's log: an inquiry under the agreement, sealed with its
    // attachment and STIX bundle inside.
    let h = header_of(&log_json(us.d()), &id);
    assert_eq!(h["kind"], "inquiry", "{h}");
    assert_eq!(h["from"], "us/fbi", "{h}");
    assert_eq!(h["to"], "ru/fsb", "{h}");
    assert_eq!(h["agreement"], agreement_id.as_str(), "{h}");
    let sealed = h["body"]["size"].as_u64().unwrap() as usize;
    let inside = attachment.len() * 4 / 3 + example_stix().to_string().len();
    assert!(
        sealed > inside,
        "the sealed body ({sealed} bytes) cannot hold the attachment and the STIX bundle ({inside} bytes)"
    );
    let sent = ts(&h["time"]);

    // ru: delivered once its receipt is written.
    let q = inquiry_when(&ru, &id, "ru seeing the inquiry delivered", |q| {
        q["status"] == "delivered"
    });
    assert_eq!(q["from"], "us/fbi", "{q}");
    assert_eq!(q["to"], "ru/fsb", "{q}");
    assert_eq!(q["agreement"], agreement_id.as_str(), "{q}");
    assert_eq!(ts(&q["sent"]), sent, "{q}");
    assert_eq!(q["delivered"][1], "delivered", "{q}");
    assert!(ts(&q["delivered"][0]) >= sent, "{q}");
    assert_eq!(
        ts(&q["ack_due"]),
        sent.checked_add(SignedDuration::from_hours(24)).unwrap(),
        "{q}"
    );
    assert_eq!(
        ts(&q["answer_due"]),
        sent.checked_add(SignedDuration::from_hours(30 * 24))
            .unwrap(),
        "{q}"
    );
    assert_eq!(q["overdue"], false, "{q}");
    assert!(q["acknowledged"].is_null() && q["closed"].is_null(), "{q}");
    assert_eq!(q["answers"], serde_json::json!([]), "{q}");
    assert_eq!(inquiries(&ru).len(), 1, "ru lists one inquiry");
    // The receipt in ru's log names the inquiry and its agreement.
    let receipt = log_json(ru.d())
        .into_iter()
        .map(|l| l["header"].clone())
        .find(|h| h["kind"] == "receipt" && h["refs"][0]["index"] == index_of(&id))
        .expect("ru's receipt for the inquiry");
    assert_eq!(receipt["refs"][0]["log"], "us");
    assert_eq!(receipt["from"], "ru/fsb");
    assert_eq!(receipt["status"], "delivered");
    // us sees the same once it has mirrored the receipt.
    let q = inquiry_when(&us, &id, "us seeing the inquiry delivered", |q| {
        q["status"] == "delivered"
    });
    assert_eq!(ts(&q["ack_due"]), sent + SignedDuration::from_hours(24));

    // ru/fsb acknowledges.
    let ack = json(&ok(&["ack", &id, "--dir", ru.d(), "--json"]));
    let ack_id = ack["id"].as_str().unwrap().to_owned();
    assert!(ack_id.starts_with("ru:"), "{ack}");
    let ah = header_of(&log_json(ru.d()), &ack_id);
    assert_eq!(ah["kind"], "ack", "{ah}");
    assert_eq!(ah["from"], "ru/fsb", "{ah}");
    assert_eq!(ah["to"], "us/fbi", "{ah}");
    assert_eq!(ah["agreement"], agreement_id.as_str(), "{ah}");
    assert_eq!(ah["refs"][0]["log"], "us", "{ah}");
    assert_eq!(ah["refs"][0]["index"], index_of(&id), "{ah}");
    let q = inquiry_when(&us, &id, "us seeing the acknowledgement", |q| {
        q["status"] == "acknowledged"
    });
    assert_eq!(ts(&q["acknowledged"]), ts(&ah["time"]), "{q}");
    assert!(ts(&q["acknowledged"]) >= sent, "{q}");
    assert_eq!(q["overdue"], false, "{q}");

    // ru/fsb answers, twice.
    let mut answer_ids = Vec::new();
    for (n, text) in [(1, "First findings attached."), (2, "Arrests made.")] {
        let body = file(&ru, &format!("answer{n}.txt"), text);
        let out = json(&ok(&[
            "answer",
            &id,
            "--dir",
            ru.d(),
            "--body-file",
            &body,
            "--lang",
            "ru",
            "--json",
        ]));
        answer_ids.push(out["id"].as_str().unwrap().to_owned());
        let q = inquiry_when(&us, &id, &format!("us seeing answer {n}"), |q| {
            q["answers"].as_array().map(Vec::len) == Some(n)
        });
        assert_eq!(q["status"], "answered", "{q}");
        assert_eq!(q["overdue"], false, "{q}");
    }
    let ru_log = log_json(ru.d());
    let q = inquiry(&us, &id).unwrap();
    for (i, aid) in answer_ids.iter().enumerate() {
        let h = header_of(&ru_log, aid);
        assert_eq!(h["kind"], "answer", "{h}");
        assert_eq!((&h["from"], &h["to"]), (&"ru/fsb".into(), &"us/fbi".into()));
        assert_eq!(h["refs"][0]["index"], index_of(&id), "{h}");
        assert_eq!(h["agreement"], agreement_id.as_str(), "{h}");
        assert_eq!(q["answers"][i][0], aid.as_str(), "{q}");
        assert_eq!(ts(&q["answers"][i][1]), ts(&h["time"]), "{q}");
        assert!(ts(&h["time"]) >= ts(&q["acknowledged"]), "{q}");
    }

    // us/fbi closes; both sides show it closed.
    let close = json(&ok(&["close", &id, "--dir", us.d(), "--json"]));
    let ch = header_of(&log_json(us.d()), close["id"].as_str().unwrap());
    assert_eq!(ch["kind"], "ack", "{ch}");
    assert_eq!(ch["status"], "closed", "{ch}");
    assert_eq!(ch["from"], "us/fbi", "{ch}");
    assert_eq!(ch["refs"][0]["index"], index_of(&id), "{ch}");
    for p in [&us, &ru] {
        let q = inquiry_when(p, &id, "the inquiry closed on both sides", |q| {
            q["status"] == "closed"
        });
        assert_eq!(ts(&q["closed"]), ts(&ch["time"]), "{q}");
        assert_eq!(q["answers"].as_array().unwrap().len(), 2, "{q}");
        assert_eq!(q["overdue"], false, "{q}");
        assert_eq!(q["agreement"], agreement_id.as_str(), "{q}");
    }
    // The human listing says the same.
    let text = ok(&["inquiries", "--dir", ru.d()]);
    assert!(
        text.contains(&id) && text.contains("closed") && text.contains("us/fbi → ru/fsb"),
        "{text}"
    );
}

#[test]
fn traffic_moves_only_under_an_agreement_in_force() {
    let (us, ru) = pair();
    ok(&["office", "add", "ru/president", "--dir", ru.d()]);
    let (_a, _b) = (Served::start(&us.dir), Served::start(&ru.dir));
    federate(&us, &ru);
    let body = file(&us, "q.txt", "Who did it?");
    let inquiry_to =
        |to: &'static str| inquire_args(&us, "us/fbi", to, "REvil", body.as_str(), &[]);
    let message_to = |to: &'static str| send_args(&us, "us/fbi", to, &["--text", "hello"]);

    // No agreement at all.
    let before = sizes(&us, &ru);
    refused(
        &inquiry_to("ru/fsb"),
        &[
            "no agreement in force opens us/fbi ↔ ru/fsb for inquiry",
            "in force: none",
            "hotline agreement propose",
        ],
    );
    refused(
        &message_to("ru/fsb"),
        &["no agreement in force opens us/fbi ↔ ru/fsb for message"],
    );
    assert_eq!(sizes(&us, &ru), before, "a refused entry was written");

    // Proposed, not signed: still nothing moves.
    let proposal = json(&ok(&[
        "agreement",
        "propose",
        "--file",
        &example("cyber-agreement.toml"),
        "--dir",
        us.d(),
        "--json",
    ]));
    let id = proposal["id"].as_str().unwrap().to_owned();
    wait_until(30, "ru seeing the proposal", || {
        agreement(&ru, &id).is_some_and(|a| a["state"] == "proposed")
    });
    assert_eq!(agreement(&us, &id).unwrap()["state"], "proposed");
    let before = sizes(&us, &ru);
    refused(
        &inquiry_to("ru/fsb"),
        &[
            "no agreement in force opens us/fbi ↔ ru/fsb",
            "in force: none",
        ],
    );
    // ru cannot write to us either.
    refused(
        &send_args(&ru, "ru/fsb", "us/fbi", &["--text", "hi"]),
        &["no agreement in force opens ru/fsb ↔ us/fbi for message"],
    );
    assert_eq!(sizes(&us, &ru), before, "a refused entry was written");

    // Signed: in force for us/fbi ↔ ru/fsb, and for nothing else.
    ok(&["agreement", "sign", &id, "--dir", ru.d()]);
    wait_until(30, "us seeing the agreement in force", || {
        agreement(&us, &id).is_some_and(|a| a["state"] == "in_force")
    });
    settled(&us, &ru);
    let before = sizes(&us, &ru);
    let in_force = format!("in force: {id} (Cybercrime cooperation channel)");
    refused(
        &inquiry_to("ru/president"),
        &[
            "no agreement in force opens us/fbi ↔ ru/president for inquiry",
            &in_force,
        ],
    );
    refused(
        &message_to("ru/president"),
        &["no agreement in force opens us/fbi ↔ ru/president for message"],
    );
    refused(
        &send_args(&ru, "ru/president", "us/fbi", &["--text", "hi"]),
        &["no agreement in force opens ru/president ↔ us/fbi for message"],
    );
    assert_eq!(sizes(&us, &ru), before, "a refused entry was written");

    // Withdrawn: in force for the 30 days of notice, and traffic still moves.
    let w = json(&ok(&[
        "agreement",
        "withdraw",
        &id,
        "--dir",
        us.d(),
        "--json",
    ]));
    assert_eq!(w["id"], id.as_str(), "{w}");
    let effective = ts(&w["effective"]);
    assert_eq!(
        effective,
        ts(&w["time"]) + SignedDuration::from_hours(30 * 24),
        "{w}"
    );
    let wh = header_of(&log_json(us.d()), &format!("us:{}", w["index"]));
    assert_eq!(
        (&wh["kind"], &wh["status"]),
        (&"agreement".into(), &"withdrawn".into())
    );
    for p in [&us, &ru] {
        let mut a = None;
        wait_until(30, "both sides seeing the withdrawal", || {
            a = agreement(p, &id);
            a.as_ref().is_some_and(|a| a["withdrawn_by"] == "us")
        });
        let a = a.unwrap();
        assert_eq!(a["state"], "in_force", "{a}");
        assert_eq!(ts(&a["withdrawal_effective"]), effective, "{a}");
    }
    refused(
        &["agreement", "withdraw", &id, "--dir", ru.d()],
        &["already withdrawn"],
    );
    let q = inquire(&us, "us/fbi", "ru/fsb", &[]);
    let q = inquiry_when(&ru, &q, "ru receipting the inquiry", |q| {
        !q["delivered"].is_null()
    });
    assert_eq!(q["status"], "delivered", "ru's policy let it in too: {q}");
    assert_eq!(q["agreement"], id.as_str(), "{q}");
}

/// A real race: ru withdraws (notice 0 s) while its withdrawal cannot reach
/// us, so us still sees the agreement in force and sends; ru, checking the
/// inquiry's time against the agreements it holds, mirrors it and writes a
/// receipt that says why it refused it.
#[test]
fn the_receiver_receipts_a_refusal() {
    let (us, ru, a, _b) = federated();
    let t = terms(&us, "0s", "24h", "30d", &["inquiry", "ack", "answer"]);
    let id = agree(&us, &ru, &t);
    settled(&us, &ru);

    // ru's pushes to us stop: us's peer listener closes.
    let (s, text) = a.request("PUT", "/v1/peer-listener", br#"{"open":false}"#);
    assert_eq!(s, 200, "{text}");
    let w = json(&ok(&[
        "agreement",
        "withdraw",
        &id,
        "--dir",
        ru.d(),
        "--json",
    ]));
    assert_eq!(ts(&w["effective"]), ts(&w["time"]), "no notice: {w}");
    assert_eq!(agreement(&ru, &id).unwrap()["state"], "withdrawn");
    let ua = agreement(&us, &id).unwrap();
    assert_eq!(ua["state"], "in_force", "us must not know yet: {ua}");

    let q = inquire(&us, "us/fbi", "ru/fsb", &[]);
    let on_ru = inquiry_when(&ru, &q, "ru receipting the inquiry", |q| {
        !q["delivered"].is_null()
    });
    assert_eq!(on_ru["status"], "refused", "{on_ru}");
    let why = on_ru["delivered"][1].as_str().unwrap();
    assert!(
        why.starts_with("refused: no agreement in force opens us/fbi ↔ ru/fsb for inquiry"),
        "{on_ru}"
    );
    assert_eq!(on_ru["overdue"], false, "{on_ru}");
    // ru still mirrors it: it is in us's log anyway.
    assert!(
        log_json_peer(ru.d(), "us")
            .iter()
            .any(|l| l["index"].as_u64() == Some(index_of(&q)) && l["header"]["kind"] == "inquiry"),
        "ru's mirror lacks the refused inquiry"
    );
    // ru cannot acknowledge it under the withdrawn agreement.
    let before = sizes(&us, &ru);
    refused(
        &["ack", &q, "--dir", ru.d()],
        &["no agreement in force opens ru/fsb ↔ us/fbi for ack"],
    );
    assert_eq!(sizes(&us, &ru), before);

    // The link back opens: us learns of the withdrawal and the refusal.
    let (s, text) = a.request("PUT", "/v1/peer-listener", br#"{"open":true}"#);
    assert_eq!(s, 200, "{text}");
    let on_us = inquiry_when(&us, &q, "us seeing the refusal", |q| {
        q["status"] == "refused"
    });
    assert_eq!(on_us["delivered"][1], why, "{on_us}");
    assert_eq!(on_us["overdue"], false, "{on_us}");
    assert_eq!(agreement(&us, &id).unwrap()["state"], "withdrawn");
    let before = sizes(&us, &ru);
    refused(
        &inquire_args(
            &us,
            "us/fbi",
            "ru/fsb",
            "again",
            &file(&us, "again.txt", "again"),
            &[],
        ),
        &["no agreement in force opens us/fbi ↔ ru/fsb for inquiry"],
    );
    assert_eq!(sizes(&us, &ru), before);
}

#[test]
fn bad_input_is_refused_and_nothing_is_written() {
    let (us, ru, a, b) = federated();
    agree(&us, &ru, &example("cyber-agreement.toml"));
    let id = inquire(&us, "us/fbi", "ru/fsb", &[]);
    settled(&us, &ru);
    let unchanged = |what: &str, before: (usize, usize)| {
        assert_eq!(sizes(&us, &ru), before, "{what} wrote something");
    };

    // The wrong office.
    let before = sizes(&us, &ru);
    refused(
        &["ack", &id, "--dir", us.d()],
        &[&format!("only ru/fsb may do this for {id}")],
    );
    refused(
        &[
            "answer",
            &id,
            "--dir",
            us.d(),
            "--body-file",
            &file(&us, "a.txt", "x"),
        ],
        &[&format!("only ru/fsb may do this for {id}")],
    );
    refused(
        &["close", &id, "--dir", ru.d()],
        &[&format!("only us/fbi may do this for {id}")],
    );
    let (s, t) = a.request("POST", &format!("/v1/inquiries/{id}/ack"), b"");
    assert_eq!(s, 403, "{t}");
    unchanged("acting as another party's office", before);

    // Ids: unknown, of another kind, malformed.
    for (bad, status, msg) in [
        ("us:9999", 404, "no entry us:9999 is held here".to_owned()),
        ("xx:1", 404, "xx is not a pinned peer".to_owned()),
        ("us:0", 400, "us:0 is a key, not an inquiry".to_owned()),
        (
            "banana",
            400,
            r#""banana" is not an inquiry id (party:index, e.g. us:12)"#.to_owned(),
        ),
        ("us:-1", 400, r#""us:-1" is not an inquiry id"#.to_owned()),
    ] {
        refused(&["ack", bad, "--dir", ru.d()], &[&msg]);
        refused(&["close", bad, "--dir", us.d()], &[&msg]);
        let (s, t) = b.request("POST", &format!("/v1/inquiries/{bad}/ack"), b"");
        assert_eq!(s, status, "ack {bad}: {t}");
        let err = json(&t)["error"].as_str().unwrap_or_default().to_owned();
        assert!(err.contains(&msg), "ack {bad}: {t}");
    }
    unchanged("a bad id", before);

    // An invalid STIX bundle: an indicator without its pattern.
    let mut stix = example_stix();
    let objects = stix["objects"].as_array_mut().unwrap();
    let (n, indicator) = objects
        .iter_mut()
        .enumerate()
        .find(|(_, o)| o["type"] == "indicator")
        .unwrap();
    indicator
        .as_object_mut()
        .unwrap()
        .remove("pattern")
        .unwrap();
    let indicator_id = indicator["id"].as_str().unwrap().to_owned();
    let bad_stix = file(&us, "bad-stix.json", stix.to_string());
    let object = format!("object {n} ({indicator_id})");
    let body = file(&us, "b.txt", "see bundle");
    refused(
        &inquire_args(
            &us,
            "us/fbi",
            "ru/fsb",
            "bad bundle",
            &body,
            &["--stix", &bad_stix],
        ),
        &[&object, "missing required property pattern"],
    );
    // The node checks too, not only the CLI.
    let req = serde_json::json!({
        "from": "us/fbi", "to": "ru/fsb",
        "content": { "text": "see bundle", "subject": "bad bundle", "stix": stix },
    });
    let (s, t) = a.request("POST", "/v1/inquiries", req.to_string().as_bytes());
    assert_eq!(s, 400, "{t}");
    assert!(
        t.contains(&object) && t.contains("missing required property pattern"),
        "{t}"
    );
    let req = serde_json::json!({ "content": { "text": "see bundle", "stix": stix } });
    let (s, t) = b.request(
        "POST",
        &format!("/v1/inquiries/{id}/answer"),
        req.to_string().as_bytes(),
    );
    assert_eq!(s, 400, "{t}");
    assert!(t.contains("missing required property pattern"), "{t}");
    // No subject.
    let req = serde_json::json!({
        "from": "us/fbi", "to": "ru/fsb", "content": { "text": "no subject" },
    });
    let (s, t) = a.request("POST", "/v1/inquiries", req.to_string().as_bytes());
    assert_eq!(s, 400, "{t}");
    assert!(t.contains("an inquiry needs a subject"), "{t}");
    unchanged("an invalid inquiry", before);

    // Acknowledged once only.
    ok(&["ack", &id, "--dir", ru.d()]);
    settled(&us, &ru);
    let before = sizes(&us, &ru);
    refused(&["ack", &id, "--dir", ru.d()], &["already acknowledged"]);
    unchanged("a second acknowledgement", before);

    // Closed: nothing more can be added, by either side.
    ok(&["close", &id, "--dir", us.d()]);
    inquiry_when(&ru, &id, "ru seeing the inquiry closed", |q| {
        q["status"] == "closed"
    });
    settled(&us, &ru);
    let before = sizes(&us, &ru);
    let answer = file(&ru, "late.txt", "too late");
    refused(
        &["answer", &id, "--dir", ru.d(), "--body-file", &answer],
        &[&format!("{id} was closed by us/fbi at")],
    );
    let req = serde_json::json!({ "content": { "text": "too late" } });
    let (s, t) = b.request(
        "POST",
        &format!("/v1/inquiries/{id}/answer"),
        req.to_string().as_bytes(),
    );
    assert_eq!(s, 409, "{t}");
    assert!(t.contains("was closed"), "{t}");
    refused(&["close", &id, "--dir", us.d()], &["was closed"]);
    unchanged("adding to a closed inquiry", before);
}

#[test]
fn overdue_inquiries_show_in_status_and_metrics() {
    let (us, ru, a, b) = federated();
    let t = terms(&us, "30d", "2s", "3s", &["inquiry", "ack", "answer"]);
    let agreement_id = agree(&us, &ru, &t);

    // A kind the agreement does not list is refused.
    let before = sizes(&us, &ru);
    refused(
        &send_args(&us, "us/fbi", "ru/fsb", &["--text", "hi"]),
        &["no agreement in force opens us/fbi ↔ ru/fsb for message"],
    );
    assert_eq!(sizes(&us, &ru), before, "a refused message was written");

    let id = inquire(&us, "us/fbi", "ru/fsb", &[]);
    let q = inquiry(&us, &id).unwrap();
    assert_eq!(q["agreement"], agreement_id.as_str(), "{q}");
    let sent = ts(&q["sent"]);
    assert_eq!(
        ts(&q["ack_due"]),
        sent + SignedDuration::from_secs(2),
        "{q}"
    );
    assert_eq!(
        ts(&q["answer_due"]),
        sent + SignedDuration::from_secs(3),
        "{q}"
    );
    assert_eq!(q["overdue"], false, "not overdue yet: {q}");

    // Both deadlines pass with nothing done.
    let answer_due = ts(&q["answer_due"]);
    let left = Timestamp::now().duration_until(answer_due);
    if left.is_positive() {
        std::thread::sleep(left.unsigned_abs() + std::time::Duration::from_millis(200));
    }

    for (p, n) in [(&us, &a), (&ru, &b)] {
        let q = inquiry_when(p, &id, "the inquiry delivered", |q| {
            q["status"] == "delivered"
        });
        assert_eq!(q["overdue"], true, "both deadlines passed: {q}");
        let st = json(&ok(&["status", "--dir", p.d(), "--json"]));
        assert_eq!(
            st["inquiries_overdue"],
            serde_json::json!([id.as_str()]),
            "{st}"
        );
        let text = ok(&["status", "--dir", p.d()]);
        assert!(
            text.contains("OVERDUE inquiries (1)") && text.contains(&id),
            "{text}"
        );
        wait_until(10, "/metrics counting the overdue inquiry", || {
            let (_, m) = n.request("GET", "/metrics", b"");
            m.contains("\nhotline_inquiries_overdue 1\n")
        });
    }
    let text = ok(&["inquiries", "--dir", ru.d()]);
    assert!(text.contains("OVERDUE"), "{text}");

    // Acknowledged late, but the answer is still owed: overdue.
    ok(&["ack", &id, "--dir", ru.d()]);
    let q = inquiry_when(&us, &id, "us seeing the late acknowledgement", |q| {
        q["status"] == "acknowledged"
    });
    assert!(ts(&q["acknowledged"]) > ts(&q["ack_due"]), "{q}");
    assert_eq!(q["overdue"], true, "the answer is still owed: {q}");
    // Answered late: nothing is owed any more.
    ok(&[
        "answer",
        &id,
        "--dir",
        ru.d(),
        "--body-file",
        &file(&ru, "late.txt", "late"),
    ]);
    for (p, n) in [(&us, &a), (&ru, &b)] {
        let q = inquiry_when(p, &id, "the answer arriving", |q| q["status"] == "answered");
        assert_eq!(q["overdue"], false, "{q}");
        let st = json(&ok(&["status", "--dir", p.d(), "--json"]));
        assert_eq!(st["inquiries_overdue"], serde_json::json!([]), "{st}");
        let (_, m) = n.request("GET", "/metrics", b"");
        assert!(m.contains("\nhotline_inquiries_overdue 0\n"), "{m}");
    }
}

/// Ids the node never reaches, or reaches with an index no log can have, must
/// still get the clear error any other bad id gets.
#[test]
fn ids_that_do_not_fit_a_url_or_a_log_are_refused_clearly() {
    let us = Party::new("us");
    ok(&["office", "add", "us/fbi", "--dir", us.d()]);
    let a = Served::start(&us.dir);
    let before = log_json(us.d()).len();
    for bad in ["us/1", "us 1", "us:1/ack"] {
        let msg = format!("{bad:?} is not an inquiry id (party:index, e.g. us:12)");
        refused(&["ack", bad, "--dir", us.d()], &[&msg]);
        refused(&["close", bad, "--dir", us.d()], &[&msg]);
        let body = file(&us, "a.txt", "x");
        refused(
            &["answer", bad, "--dir", us.d(), "--body-file", &body],
            &[&msg],
        );
        for cmd in ["sign", "withdraw"] {
            refused(
                &["agreement", cmd, bad, "--dir", us.d()],
                &[&format!("no agreement {bad} is known here")],
            );
        }
    }
    for bad in ["us:9223372036854775808", "us:18446744073709551615"] {
        let err = refused(&["ack", bad, "--dir", us.d()], &[bad]);
        assert!(!err.contains("corrupt"), "{err}");
        let (s, t) = a.request("POST", &format!("/v1/inquiries/{bad}/ack"), b"");
        assert!(s == 400 || s == 404, "ack {bad}: {s} {t}");
    }
    assert_eq!(log_json(us.d()).len(), before, "a bad id wrote something");
}
