//! Calls, readouts and joint statements between two real node processes
//! under the shipped presidential agreement: a call requested, seen by the
//! other side, accepted, recorded by both (the later record referencing the
//! earlier) and read out by both; a declined call; bad input refused with
//! nothing written; a joint statement proved and verified offline, a
//! one-sided one said to be one-sided, and tampered bundles refused.

use serde_json::Value;

use super::federation::log_json_peer;
use super::inquiries::{settled, sizes};
use super::util::*;

/// The times of the storyline's first call (SCENARIO.md step 2).
const T1: &str = "2021-01-26T15:00:00Z";
const T2: &str = "2021-01-27T15:00:00Z";
const END: &str = "2021-01-26T15:55:00Z";

/// us with us/president and us/fbi, ru with ru/president, both serving,
/// pinned both ways, with the presidential agreement in force.
fn presidents() -> (Party, Party, Served, Served) {
    let us = Party::new("us");
    let ru = Party::new("ru");
    for (p, o) in [
        (&us, "us/president"),
        (&us, "us/fbi"),
        (&ru, "ru/president"),
    ] {
        ok(&["office", "add", o, "--dir", p.d()]);
    }
    set_cosign_interval(&us.dir, 1);
    set_cosign_interval(&ru.dir, 1);
    let (a, b) = (Served::start(&us.dir), Served::start(&ru.dir));
    federate(&us, &ru);
    agree(&us, &ru, &example("presidential-agreement.toml"));
    (us, ru, a, b)
}

/// Writes `text` next to the party's directory; returns the path.
fn file(p: &Party, name: &str, text: &str) -> String {
    let path = p.dir.join("..").join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

/// `hotline ARGS --json`, returning the new entry's id.
fn created(args: &[&str]) -> String {
    let mut args = args.to_vec();
    args.push("--json");
    let out = json(&ok(&args));
    out["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id: {out}"))
        .to_owned()
}

/// `hotline statement propose` us/president → ru/president of the text in
/// `body_file`, MORE… (`--lang …`); the new entry's id.
fn propose(p: &Party, body_file: &str, more: &[&str]) -> String {
    let mut args = office_args(
        &["statement", "propose"],
        p,
        "us/president",
        "ru/president",
        &["--body-file", body_file],
    );
    args.extend_from_slice(more);
    created(&args)
}

/// `hotline call record ID --start START --end END MORE… --dir P`.
fn record_args<'a>(
    p: &'a Party,
    id: &'a str,
    start: &'a str,
    end: &'a str,
    more: &[&'a str],
) -> Vec<&'a str> {
    let command = ["call", "record", id, "--start", start, "--end", end];
    [&command[..], more, &["--dir", p.d()]].concat()
}

/// `hotline statement endorse ID --body-file FILE --dir P`.
fn endorse_args<'a>(p: &'a Party, id: &'a str, body_file: &'a str) -> Vec<&'a str> {
    vec![
        "statement",
        "endorse",
        id,
        "--body-file",
        body_file,
        "--dir",
        p.d(),
    ]
}

/// `hotline readout ID --from OFFICE --body-file FILE --dir P`.
fn readout_args<'a>(p: &'a Party, id: &'a str, from: &'a str, body_file: &'a str) -> Vec<&'a str> {
    vec![
        "readout",
        id,
        "--from",
        from,
        "--body-file",
        body_file,
        "--dir",
        p.d(),
    ]
}

fn calls(p: &Party) -> Vec<Value> {
    json(&ok(&["calls", "--dir", p.d(), "--json"]))
        .as_array()
        .expect("an array of calls")
        .clone()
}

/// The call `id` on `p` once `cond` holds for it.
fn call_when(p: &Party, id: &str, what: &str, cond: impl Fn(&Value) -> bool) -> Value {
    let mut last = None;
    wait_until(30, what, || {
        last = calls(p).into_iter().find(|c| c["id"] == id);
        last.as_ref().is_some_and(&cond)
    });
    last.unwrap()
}

fn statements(p: &Party) -> Vec<Value> {
    json(&ok(&["statements", "--dir", p.d(), "--json"]))
        .as_array()
        .expect("an array of statements")
        .clone()
}

/// `(log, index)` of a header's reference `i`.
fn reference(h: &Value, i: usize) -> (String, u64) {
    (
        h["refs"][i]["log"].as_str().unwrap_or_default().to_owned(),
        h["refs"][i]["index"].as_u64().unwrap_or(u64::MAX),
    )
}

fn id_pair(id: &str) -> (String, u64) {
    let (p, _) = id.split_once(':').unwrap();
    (p.to_owned(), index_of(id))
}

/// Runs `hotline ARGS` expecting failure naming each of `expect`, and
/// asserts that neither log grew.
fn refused(us: &Party, ru: &Party, args: &[&str], expect: &[&str]) {
    let before = sizes(us, ru);
    let err = fails(args);
    for e in expect {
        assert!(err.contains(e), "hotline {args:?}: {e:?} not in: {err}");
    }
    assert_eq!(
        sizes(us, ru),
        before,
        "hotline {args:?} was refused but wrote"
    );
}

#[test]
fn a_call_is_requested_accepted_recorded_by_both_and_read_out_by_both() {
    let (us, ru, _a, _b) = presidents();

    // ru/president requests a call (SCENARIO step 2).
    let note = "The President of the Russian Federation asks for a telephone conversation.";
    let id = created(&call_request_args(
        &ru,
        "ru/president",
        "us/president",
        &[
            "--at",
            T1,
            "--at",
            T2,
            "--topic",
            "New START extension",
            "--topic",
            "Navalny",
            "--topic",
            "SolarWinds",
            "--note",
            note,
        ],
    ));
    assert!(id.starts_with("ru:"), "{id}");
    let h = header_of(&log_json(ru.d()), &id);
    assert_eq!(h["kind"], "call.request", "{h}");
    assert_eq!(
        (&h["from"], &h["to"]),
        (&"ru/president".into(), &"us/president".into())
    );
    assert!(
        h["agreement"]
            .as_str()
            .is_some_and(|a| a.starts_with("us:")),
        "{h}"
    );
    assert!(
        h["body"]["size"].as_u64().unwrap() > 0,
        "the request is sealed: {h}"
    );
    let leaf = log_json(ru.d())
        .into_iter()
        .find(|l| l["index"].as_u64() == Some(index_of(&id)))
        .unwrap();
    assert!(
        !leaf["leaf"].as_str().unwrap().contains("Navalny"),
        "topics are sealed, not in the leaf"
    );

    // us sees it, and opens it with us/president's key.
    let c = call_when(&us, &id, "us seeing the request", |c| {
        c["state"] == "requested"
    });
    assert_eq!(c["from"], "ru/president", "{c}");
    assert_eq!(c["to"], "us/president", "{c}");
    assert_eq!(c["media"], "voice", "{c}");
    assert_eq!(c["times"], serde_json::json!([T1, T2]), "{c}");
    assert_eq!(
        c["topics"],
        serde_json::json!(["New START extension", "Navalny", "SolarWinds"]),
        "{c}"
    );
    assert_eq!(c["note"], note, "{c}");
    assert!(c["accepted"].is_null() && c["declined"].is_null(), "{c}");
    let listing = ok(&["calls", "--dir", us.d()]);
    assert!(
        listing.contains(&id) && listing.contains("requested"),
        "{listing}"
    );

    // us/president accepts for the first proposed time.
    let accept = created(&[
        "call",
        "accept",
        &id,
        "--at",
        T1,
        "--note",
        "Agreed.",
        "--dir",
        us.d(),
    ]);
    let ah = header_of(&log_json(us.d()), &accept);
    assert_eq!(ah["kind"], "call.accept", "{ah}");
    assert_eq!(
        (&ah["from"], &ah["to"]),
        (&"us/president".into(), &"ru/president".into())
    );
    assert_eq!(reference(&ah, 0), id_pair(&id), "{ah}");
    let c = call_when(&ru, &id, "ru seeing the acceptance", |c| {
        c["state"] == "accepted"
    });
    assert_eq!(c["accepted"], serde_json::json!([accept, T1]), "{c}");

    // A record dated in the future is refused, nothing written. ru's node
    // may meanwhile write a receipt for an entry of us's arriving late; the
    // refused command writes no receipt, so those are not counted.
    let written = |d: &str| {
        log_json(d)
            .iter()
            .filter(|l| l["header"]["kind"] != "receipt")
            .count()
    };
    let before = written(ru.d());
    let e = fails(&record_args(&ru, &id, T1, "2999-01-01T00:00:00Z", &[]));
    assert!(
        e.contains("cannot be recorded as ending at 2999-01-01T00:00:00Z, after now"),
        "{e}"
    );
    assert_eq!(written(ru.d()), before, "nothing written");

    // Both record it: ru first; us once its mirror holds ru's record, so
    // us's record references ru's.
    let ru_record = created(&record_args(
        &ru,
        &id,
        T1,
        END,
        &["--participant", "President Putin"],
    ));
    call_when(&us, &id, "us seeing ru's record", |c| {
        c["records"].as_array().is_some_and(|r| r.len() == 1)
    });
    let us_record = created(&record_args(
        &us,
        &id,
        T1,
        END,
        &[
            "--participant",
            "President Biden",
            "--participant",
            "Secretary Blinken",
        ],
    ));
    let rh = header_of(&log_json(ru.d()), &ru_record);
    let uh = header_of(&log_json(us.d()), &us_record);
    assert_eq!(rh["kind"], "call.record", "{rh}");
    assert_eq!(uh["kind"], "call.record", "{uh}");
    assert_eq!(
        rh["refs"].as_array().unwrap().len(),
        1,
        "the earlier record: {rh}"
    );
    assert_eq!(reference(&rh, 0), id_pair(&id), "{rh}");
    assert_eq!(reference(&uh, 0), id_pair(&id), "{uh}");
    assert_eq!(
        reference(&uh, 1),
        id_pair(&ru_record),
        "the later record: {uh}"
    );
    // Both records are in both logs: each in its writer's, mirrored by the other.
    wait_until(30, "both records mirrored", || {
        log_json_peer(ru.d(), "us").len() > index_of(&us_record) as usize
            && log_json_peer(us.d(), "ru").len() > index_of(&ru_record) as usize
    });
    assert_eq!(header_of(&log_json_peer(ru.d(), "us"), &us_record), uh);
    assert_eq!(header_of(&log_json_peer(us.d(), "ru"), &ru_record), rh);

    // Readouts from both sides, at their own pace; us amends its own.
    let mut readouts = Vec::new();
    for (p, office, text, lang) in [
        (
            &us,
            "us/president",
            "President Biden made clear that the United States will act firmly in defense of its national interests.",
            "en",
        ),
        (
            &ru,
            "ru/president",
            "Владимир Путин и Джозеф Байден обсудили продление Договора о СНВ.",
            "ru",
        ),
        (
            &us,
            "us/president",
            "The leaders agreed to complete the extension of New START by February 5.",
            "en",
        ),
    ] {
        let f = file(p, "readout.txt", text);
        let r = created(&[
            "readout",
            &id,
            "--from",
            office,
            "--body-file",
            &f,
            "--lang",
            lang,
            "--dir",
            p.d(),
        ]);
        let h = header_of(&log_json(p.d()), &r);
        assert_eq!(h["kind"], "readout", "{h}");
        assert_eq!(h["from"], office, "{h}");
        assert_eq!(reference(&h, 0), id_pair(&id), "{h}");
        readouts.push((r, office, text));
    }
    for p in [&us, &ru] {
        let c = call_when(p, &id, "both sides seeing everything", |c| {
            c["records"].as_array().is_some_and(|r| r.len() == 2)
                && c["readouts"].as_array().is_some_and(|r| r.len() == 3)
        });
        assert_eq!(c["state"], "held", "{c}");
        let records = c["records"].as_array().unwrap();
        let ours = |office: &str| records.iter().find(|r| r["office"] == office).unwrap();
        let (u, r) = (ours("us/president"), ours("ru/president"));
        assert_eq!(u["id"], us_record.as_str(), "{c}");
        assert_eq!(r["id"], ru_record.as_str(), "{c}");
        assert_eq!(u["other_record"], ru_record.as_str(), "{c}");
        assert_eq!(r["other_record"], us_record.as_str(), "{c}");
        assert_eq!(u["duration_secs"], 55 * 60, "{c}");
        assert_eq!((&u["start"], &u["end"]), (&T1.into(), &END.into()), "{c}");
        assert_eq!(
            u["participants"],
            serde_json::json!(["President Biden", "Secretary Blinken"]),
            "{c}"
        );
        assert_eq!(
            r["participants"],
            serde_json::json!(["President Putin"]),
            "{c}"
        );
        let listed: Vec<(&str, &str)> = c["readouts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["id"].as_str().unwrap(), r["office"].as_str().unwrap()))
            .collect();
        for (rid, office, _) in &readouts {
            assert!(
                listed.contains(&(rid.as_str(), *office)),
                "{rid} not in {c}"
            );
        }
    }
    // Each side reads the other's readout: an opening of it verifies and quotes it.
    let (rid, _, text) = &readouts[1];
    let out = us.dir.join("../ru-readout.json");
    ok(&["open", rid, "--dir", us.d(), "-o", out.to_str().unwrap()]);
    let said = verify(out.to_str().unwrap(), &pinned_keys(&[&us, &ru])).unwrap();
    assert!(said.contains(text), "{said}");
    let listing = ok(&["calls", "--dir", ru.d()]);
    assert!(
        listing.contains("held")
            && listing.contains(&us_record)
            && listing.contains(&readouts[0].0),
        "{listing}"
    );
}

#[test]
fn a_declined_call_and_bad_input_are_refused_with_nothing_written() {
    let (us, ru, a, _b) = presidents();

    // us asks for a video call; ru declines it, with a reason.
    let declined = created(&call_request_args(
        &us,
        "us/president",
        "ru/president",
        &["--at", T1, "--video"],
    ));
    call_when(&ru, &declined, "ru seeing the request", |c| {
        c["media"] == "video"
    });
    let reason = "The President is travelling; please propose dates in February.";
    let d = created(&[
        "call",
        "decline",
        &declined,
        "--reason",
        reason,
        "--dir",
        ru.d(),
    ]);
    let c = call_when(&us, &declined, "us seeing the refusal", |c| {
        c["state"] == "declined"
    });
    assert_eq!(c["declined"], serde_json::json!([d, reason]), "{c}");
    assert!(c["accepted"].is_null(), "{c}");
    assert_eq!(header_of(&log_json(ru.d()), &d)["kind"], "call.decline");

    // A call ru requests and us accepts; a message between the presidents.
    let accepted = created(&call_request_args(
        &ru,
        "ru/president",
        "us/president",
        &["--at", T1],
    ));
    call_when(&us, &accepted, "us seeing the second request", |_| true);
    created(&["call", "accept", &accepted, "--at", T2, "--dir", us.d()]);
    let requested = created(&call_request_args(
        &ru,
        "ru/president",
        "us/president",
        &["--at", T1],
    ));
    let message = json(&ok(&send_args(
        &us,
        "us/president",
        "ru/president",
        &["--text", "hello", "--json"],
    )));
    let message = format!("us:{}", message["index"]);
    let statement_text = "Text one.";
    let st = file(&us, "statement.txt", statement_text);
    let statement = propose(&us, &st, &[]);
    settled(&us, &ru);
    call_when(&ru, &accepted, "ru seeing the acceptance", |c| {
        c["state"] == "accepted"
    });
    call_when(&us, &requested, "us seeing the third request", |_| true);

    let r = file(&us, "readout.txt", "A readout.");
    let mut eleven_times = call_request_args(&us, "us/president", "ru/president", &[]);
    eleven_times.extend(std::iter::repeat_n(["--at", T1], 11).flatten());
    let cases: Vec<(Vec<&str>, Vec<String>)> = vec![
        // Accepting a call that was never requested.
        (
            vec!["call", "accept", &message, "--at", T1, "--dir", ru.d()],
            vec![format!("{message} is a message, not a call request")],
        ),
        (
            vec!["call", "accept", "us:999", "--at", T1, "--dir", ru.d()],
            vec!["no call request us:999 is held here".into()],
        ),
        (
            vec!["call", "accept", "nonsense", "--at", T1, "--dir", ru.d()],
            vec!["\"nonsense\" is not a call id".into()],
        ),
        (
            vec!["call", "accept", &accepted, "--at", T1, "--dir", us.d()],
            vec![format!("call {accepted} was already accepted in us:")],
        ),
        (
            vec![
                "call",
                "decline",
                &declined,
                "--reason",
                "no",
                "--dir",
                ru.d(),
            ],
            vec![format!("call {declined} was already declined in {d}")],
        ),
        // Accepting as the side that asked.
        (
            vec!["call", "accept", &declined, "--at", T1, "--dir", us.d()],
            vec![format!(
                "call request {declined} is addressed to ru/president; only ru's node can accept or decline it"
            )],
        ),
        (
            vec![
                "call",
                "decline",
                &requested,
                "--reason",
                " ",
                "--dir",
                us.d(),
            ],
            vec!["give the reason for declining".into()],
        ),
        // A readout for a call of another channel.
        (
            readout_args(&us, &accepted, "us/fbi", &r),
            vec![format!(
                "call {accepted} is between ru/president and us/president; a readout from us/fbi belongs to another channel"
            )],
        ),
        (
            readout_args(&us, &declined, "us/president", &r),
            vec![format!("call {declined} was declined in {d}")],
        ),
        (
            readout_args(&us, &requested, "us/president", &r),
            vec![format!("call {requested} has not been accepted yet")],
        ),
        // Records: only of an accepted call, not ending before it starts.
        (
            record_args(&us, &requested, T1, END, &[]),
            vec![format!(
                "call {requested} has not been accepted; a record follows an accepted call"
            )],
        ),
        (
            record_args(&us, &accepted, END, T1, &[]),
            vec![format!(
                "the call cannot end ({T1}) before it starts ({END})"
            )],
        ),
        // Requests: at most 10 times, to another office.
        (
            eleven_times,
            vec!["11 proposed times; propose at most 10".into()],
        ),
        (
            call_request_args(&us, "us/fbi", "ru/president", &["--at", T1]),
            vec!["no agreement in force opens us/fbi ↔ ru/president for call.request".into()],
        ),
        // An endorsement of a changed text; of a call request; by the proposer.
        (
            endorse_args(&ru, &statement, &r),
            vec![
                format!(
                    "the text differs from statement {statement} (its SHA-256 is {}",
                    digest(statement_text)
                ),
                "endorse exactly the proposed text".into(),
            ],
        ),
        (
            endorse_args(&us, &requested, &st),
            vec![format!("{requested} is a call.request, not a statement")],
        ),
        (
            endorse_args(&us, &statement, &st),
            vec![format!(
                "statement {statement} is addressed to ru/president; only ru/president can endorse it"
            )],
        ),
    ];
    for (args, expect) in &cases {
        let expect: Vec<&str> = expect.iter().map(String::as_str).collect();
        refused(&us, &ru, args, &expect);
    }

    // A record twice by one side; an endorsement twice.
    created(&record_args(&us, &accepted, T1, END, &[]));
    created(&endorse_args(&ru, &statement, &st));
    settled(&us, &ru);
    refused(
        &us,
        &ru,
        &record_args(&us, &accepted, T1, END, &[]),
        &[
            "us/president already recorded call",
            "each side records a call once",
        ],
    );
    refused(
        &us,
        &ru,
        &endorse_args(&ru, &statement, &st),
        &[&format!(
            "statement {statement} is already endorsed by ru/president in ru:"
        )],
    );

    // The API refuses malformed bodies too, writing nothing.
    let before = sizes(&us, &ru);
    for (path, body, expect) in [
        (
            "/v1/calls",
            r#"{"from":"us/president","to":"ru/president","times":[]}"#,
            "propose at least one time",
        ),
        (
            "/v1/calls",
            r#"{"from":"us/president","to":"ru/president","times":["2021-01-26T15:00:00Z"],"media":"fax"}"#,
            "malformed request",
        ),
        (
            "/v1/calls",
            r#"{"from":"us/president","to":"ru/president","times":["2021-01-26T15:00:00Z"],"urgent":true}"#,
            "unknown field",
        ),
        (
            &format!("/v1/calls/{accepted}/readouts"),
            r#"{"from":"us/president","to":"ru/president","content":{"text":"x"}}"#,
            "a readout has no `to`",
        ),
        (
            &format!("/v1/calls/{accepted}/readouts"),
            r#"{"from":"us/president","content":{"text":"  "}}"#,
            "the readout is empty",
        ),
        (
            "/v1/statements",
            r#"{"from":"us/president","to":"ru/president","content":{"text":"x","call":{"type":"accept","at":"2021-01-26T15:00:00Z"}}}"#,
            "carries no call fields",
        ),
    ] {
        let (status, out) = a.request("POST", path, body.as_bytes());
        assert_eq!(status, 400, "{path} {body}: {out}");
        assert!(out.contains(expect), "{path}: {expect:?} not in {out}");
    }
    let (status, out) = a.request("GET", "/v1/calls/us:999", b"");
    assert_eq!(status, 404, "{out}");
    assert_eq!(sizes(&us, &ru), before, "a refused API request wrote");
}

fn digest(text: &str) -> String {
    hotline_proto::entry::text_digest(text)
}

#[test]
fn a_joint_statement_is_proved_and_verified_and_a_one_sided_one_says_so() {
    let (us, ru, a, _b) = presidents();
    let keys = pinned_keys(&[&us, &ru]);
    // Exact bytes matter: non-ASCII, and a final newline.
    let text = "The United States and Russia will embark together on an integrated bilateral \
                Strategic Stability Dialogue — «стратегическая стабильность».\n";
    let f = file(&us, "joint.txt", text);
    let joint = propose(&us, &f, &["--lang", "en"]);
    let h = header_of(&log_json(us.d()), &joint);
    assert_eq!(h["kind"], "statement", "{h}");
    assert_eq!(h["digest"], digest(text), "{h}");
    wait_until(30, "ru seeing the statement", || {
        statements(&ru).iter().any(|s| s["id"] == joint.as_str())
    });
    let rf = file(&ru, "joint.txt", text);
    let endorsement = created(&endorse_args(&ru, &joint, &rf));
    let eh = header_of(&log_json(ru.d()), &endorsement);
    assert_eq!(eh["kind"], "endorsement", "{eh}");
    assert_eq!(eh["from"], "ru/president", "{eh}");
    assert_eq!(eh["digest"], digest(text), "{eh}");
    assert_eq!(reference(&eh, 0), id_pair(&joint), "{eh}");
    wait_until(30, "us seeing the endorsement", || {
        statements(&us)
            .iter()
            .any(|s| s["id"] == joint.as_str() && s["endorsement"][0] == endorsement.as_str())
    });
    let listing = ok(&["statements", "--dir", us.d()]);
    assert!(
        listing.contains(&format!("endorsed in {endorsement}")),
        "{listing}"
    );

    // Either side proves it; verify says joint, with both signers and the text.
    for p in [&us, &ru] {
        let out = p.dir.join("../joint.json");
        let out = out.to_str().unwrap();
        ok(&["prove", "statement", &joint, "--dir", p.d(), "-o", out]);
        let said = verify(out, &keys).unwrap_or_else(|e| panic!("{e}"));
        for want in [
            &format!("Joint statement: us/president ({joint}, dated "),
            &format!("and ru/president ({endorsement}, dated "),
            &format!("signed the same text (SHA-256 {})", digest(text)),
            "«The United States and Russia will embark together",
        ] {
            assert!(said.contains(want), "{want:?} not in: {said}");
        }
    }
    // The API writes the same claim.
    let (status, bundle) = a.request("GET", &format!("/v1/proofs/statement/{joint}"), b"");
    assert_eq!(status, 200, "{bundle}");
    let api = us.dir.join("../api-joint.json");
    std::fs::write(&api, &bundle).unwrap();
    assert!(
        verify(api.to_str().unwrap(), &keys)
            .unwrap()
            .contains("Joint statement")
    );

    // Tampered: another text, a flipped byte in a proof, the endorsement of
    // another statement.
    let joint_file = us.dir.join("../joint.json");
    let good: Value = json(&std::fs::read_to_string(&joint_file).unwrap());
    let mut changed = good.clone();
    changed["text"] = text.replace("together", "jointly").into();
    let bad = us.dir.join("../bad.json");
    std::fs::write(&bad, changed.to_string()).unwrap();
    let err = verify(bad.to_str().unwrap(), &keys).unwrap_err();
    assert!(err.contains("it is not the text that was signed"), "{err}");
    let mut flipped = good.clone();
    let proof = flipped["statement"].as_str().unwrap().to_owned();
    let at = proof.find("\nindex ").unwrap() + 7;
    let mut bytes = proof.into_bytes();
    bytes[at] = if bytes[at] == b'9' {
        b'8'
    } else {
        bytes[at] + 1
    };
    flipped["statement"] = String::from_utf8(bytes).unwrap().into();
    std::fs::write(&bad, flipped.to_string()).unwrap();
    assert!(verify(bad.to_str().unwrap(), &keys).is_err());

    // A one-sided statement: proposed, never endorsed.
    let g = file(&us, "alone.txt", "Only one side signs this.");
    let alone = propose(&us, &g, &[]);
    settled(&us, &ru);
    let out = us.dir.join("../alone.json");
    let out = out.to_str().unwrap();
    ok(&["prove", "statement", &alone, "--dir", us.d(), "-o", out]);
    let said = verify(out, &keys).unwrap();
    assert!(
        said.contains("One-sided statement: only us/president signed")
            && said.contains("the bundle holds no endorsement by ru/president"),
        "{said}"
    );
    assert!(!said.contains("Joint"), "{said}");
    // Grafting the joint statement's endorsement onto it is refused.
    let mut grafted: Value = json(&std::fs::read_to_string(out).unwrap());
    grafted["endorsement"] = good["endorsement"].clone();
    grafted["counterpart"] = good["counterpart"].clone();
    std::fs::write(&bad, grafted.to_string()).unwrap();
    let err = verify(bad.to_str().unwrap(), &keys).unwrap_err();
    assert!(
        err.contains(&format!(
            "endorsement {endorsement} does not reference statement {alone}"
        )),
        "{err}"
    );
    // Nothing to prove for what is not a statement.
    let err = fails(&[
        "prove",
        "statement",
        "us:0",
        "--dir",
        us.d(),
        "-o",
        &format!("{out}.x"),
    ]);
    assert!(err.contains("us:0 is a key, not a statement"), "{err}");
}
