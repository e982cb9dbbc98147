//! Claims about the channel, proved by either party from what its running
//! node holds and checked offline by `hotline verify` with the four pinned
//! keys: delivery, answered, opening, absence (true, false, not yet
//! provable) and a month's statistics; tampered bundles and bad input refused.

use std::path::{Path, PathBuf};

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use super::federation::{cosigned_in_full, federated, pair, settled};
use super::util::*;

fn name(p: &Party) -> &str {
    p.dir.file_name().unwrap().to_str().unwrap()
}

/// A path next to the party's directory (nothing is written there).
fn path(p: &Party, file: &str) -> String {
    p.dir.join("..").join(file).to_str().unwrap().to_owned()
}

/// Verifies `file`, asserting success and that the sentence holds each of `want`.
fn verified(file: &str, keys: &[String], want: &[&str]) -> String {
    let out = verify(file, keys).unwrap_or_else(|e| panic!("{file} does not verify: {e}"));
    assert!(out.starts_with("Verified. "), "{out}");
    for w in want {
        assert!(out.contains(w), "{w:?} not in the claim of {file}: {out}");
    }
    out
}

/// Runs `hotline ARGS` expecting failure with each of `expect` in stderr,
/// and asserts that `output` was not written.
fn refused(args: &[&str], output: &str, expect: &[&str]) -> String {
    let err = fails(args);
    for e in expect {
        assert!(err.contains(e), "hotline {args:?}: {e:?} not in: {err}");
    }
    assert!(
        !Path::new(output).exists(),
        "hotline {args:?} failed but wrote {output}"
    );
    err
}

fn second(t: i64) -> Timestamp {
    Timestamp::from_second(t).unwrap()
}

fn inquiry_on(p: &Party, id: &str) -> Option<Value> {
    json(&ok(&["inquiries", "--dir", p.d(), "--json"]))
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["id"] == id)
        .cloned()
}

/// Two live nodes, federated and cosigning every second, under the shipped
/// cyber agreement, after one inquiry's whole exchange: us/fbi inquired,
/// ru/fsb receipted, acknowledged and answered.
struct Exchange {
    us: Party,
    ru: Party,
    _nodes: (Served, Served),
    inquiry: String,
    receipt: String,
    ack: String,
    answer: String,
    /// The inquiry's text, as sealed.
    text: String,
    /// A whole second, cosigned on us's log, before the inquiry was written.
    before: Timestamp,
    /// A whole second after everything had been written and cosigned.
    after: Timestamp,
}

impl Exchange {
    fn new() -> Self {
        let (us, ru) = pair();
        let nodes = (Served::start(&us.dir), Served::start(&ru.dir));
        federate(&us, &ru);
        agree(&us, &ru, &example("cyber-agreement.toml"));
        settled(&us, &ru);
        // Cosignatures come every second; the inquiry comes more than a
        // second after `before`, so no cosignature dated `before` can hold it.
        let before = now_floor();
        sleep_past(before + SignedDuration::from_millis(1200));

        let text = "Ransomware hit a hospital; indicators attached.";
        let body = path(&us, "inquiry.txt");
        std::fs::write(&body, text).unwrap();
        let out = json(&ok(&inquire_args(
            &us,
            "us/fbi",
            "ru/fsb",
            "REvil intrusion",
            &body,
            &["--json"],
        )));
        let inquiry = out["id"].as_str().unwrap().to_owned();
        assert_eq!(inquiry, format!("us:{}", out["index"]), "{out}");
        wait_until(30, "ru receipting the inquiry", || {
            inquiry_on(&ru, &inquiry).is_some_and(|q| q["status"] == "delivered")
        });
        let index = out["index"].as_u64().unwrap();
        let receipt = log_json(ru.d())
            .iter()
            .find(|l| {
                l["header"]["kind"] == "receipt"
                    && l["header"]["refs"][0]["log"] == "us"
                    && l["header"]["refs"][0]["index"] == index
            })
            .map(|l| format!("ru:{}", l["index"]))
            .expect("ru's receipt for the inquiry");
        let ack = json(&ok(&["ack", &inquiry, "--dir", ru.d(), "--json"]))["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let answer_body = path(&ru, "answer.txt");
        std::fs::write(&answer_body, "First findings attached.").unwrap();
        let answer = json(&ok(&[
            "answer",
            &inquiry,
            "--dir",
            ru.d(),
            "--body-file",
            &answer_body,
            "--json",
        ]))["id"]
            .as_str()
            .unwrap()
            .to_owned();
        wait_until(30, "us seeing the answer", || {
            inquiry_on(&us, &inquiry).is_some_and(|q| q["status"] == "answered")
        });
        settled(&us, &ru);
        let after = second(Timestamp::now().as_second() + 1);
        Self {
            us,
            ru,
            _nodes: nodes,
            inquiry,
            receipt,
            ack,
            answer,
            text: text.to_owned(),
            before,
            after,
        }
    }

    fn keys(&self) -> Vec<String> {
        pinned_keys(&[&self.us, &self.ru])
    }
}

/// Ranges of `bundle` where a witness's cosignature line names its key (the
/// name and the key id, the first bytes of its base64 signature). See
/// `a_cosignature_altered_in_a_bundle_fails_verification`.
fn cosigner_names(bundle: &[u8]) -> Vec<std::ops::Range<usize>> {
    let dash = "\u{2014} ".as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = bundle[at..].windows(dash.len()).position(|w| w == dash) {
        let start = at + i;
        let name_start = start + dash.len();
        let name_len = bundle[name_start..]
            .iter()
            .position(|&b| b == b' ')
            .unwrap_or(0);
        let name = &bundle[name_start..name_start + name_len];
        if name.ends_with(b"/witness") {
            // 4 bytes of key id are the first 6 base64 characters (and 2 bits).
            out.push(start..name_start + name_len + 1 + 6);
        }
        at = name_start;
    }
    out
}

/// About `n` positions spread over `bundle` (seeded, so a failure replays),
/// outside `skip`.
fn positions(bundle: &[u8], n: usize, skip: &[std::ops::Range<usize>]) -> Vec<usize> {
    let mut seed = 0x5eed_0fb0_u64 ^ bundle.len() as u64;
    let mut rnd = move |m: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % m as u64) as usize
    };
    let stride = bundle.len() / n;
    (0..n)
        .map(|k| k * stride + rnd(stride))
        .filter(|p| !skip.iter().any(|r| r.contains(p)))
        .collect()
}

/// Flips one bit of each byte at `at`, one copy at a time: `verify` must
/// refuse every copy.
fn each_flip_fails(file: &str, keys: &[String], at: &[usize]) {
    let bytes = std::fs::read(file).unwrap();
    let chunks: Vec<&[usize]> = at.chunks(at.len().div_ceil(8).max(1)).collect();
    std::thread::scope(|s| {
        for (w, chunk) in chunks.into_iter().enumerate() {
            let bytes = &bytes;
            s.spawn(move || {
                let copy = PathBuf::from(format!("{file}.tampered-{w}"));
                for &p in chunk {
                    let mut b = bytes.clone();
                    b[p] ^= 1;
                    std::fs::write(&copy, &b).unwrap();
                    let r = verify(copy.to_str().unwrap(), keys);
                    let context = String::from_utf8_lossy(&bytes[p.saturating_sub(40)..(p + 10).min(bytes.len())]);
                    match r {
                        Ok(out) => panic!(
                            "{file} with byte {p} changed ({:?} → {:?}, in …{context}…) still verifies: {out}",
                            bytes[p] as char, b[p] as char
                        ),
                        Err(e) => assert!(e.contains("NOT verified: "), "byte {p}: {e}"),
                    }
                }
                std::fs::remove_file(copy).unwrap();
            });
        }
    });
}

#[test]
fn either_party_proves_delivery_answered_and_opening() {
    let x = Exchange::new();
    let keys = x.keys();
    let (q, receipt, ack, answer) = (&x.inquiry, &x.receipt, &x.ack, &x.answer);
    let mut files = Vec::new();
    for p in [&x.us, &x.ru] {
        let who = name(p);
        let delivery = path(p, &format!("delivery-{who}.json"));
        let answered = path(p, &format!("answered-{who}.json"));
        let opening = path(p, &format!("opening-{who}.json"));
        // us's own witness dates us's tree a moment after ru's witness has
        // cosigned it, and ru's mirror holds that dating only once us pushes
        // its checkpoint again: wait for it rather than race it.
        let own_dating = "us's witness (hotline/us/witness) at 20";
        wait_until(
            30,
            &format!("{who}'s delivery bundle carrying us's own dating"),
            || {
                ok(&["prove", "delivery", q, "--dir", p.d(), "-o", &delivery]);
                verify(&delivery, &keys).is_ok_and(|out| out.contains(own_dating))
            },
        );
        ok(&["prove", "answered", q, "--dir", p.d(), "-o", &answered]);
        ok(&["open", q, "--dir", p.d(), "-o", &opening]);

        verified(
            &delivery,
            &keys,
            &[
                &format!("Entry {q} — an inquiry from us/fbi to ru/fsb, dated "),
                "is in hotline/us (tree of size",
                "ru received it by ",
                &format!("on ru's own signature: its receipt {receipt} dated"),
                "by ru/fsb (ru's clock)",
                "the first of its receipts by ru's index, recomputed and cosigned by us's witness",
                "ru was shown a tree holding it by 20",
                "ru's witness (hotline/ru/witness) at 20",
                // us's own dating of its tree, in the bundle for what it binds us to.
                own_dating,
            ],
        );
        let out = verified(
            &answered,
            &keys,
            &[
                &format!("Inquiry {q} — an inquiry from us/fbi to ru/fsb"),
                "\"Cybercrime cooperation channel\", proposed by us and signed by ru",
                &format!("ru receipted it as delivered in {receipt} dated"),
                "ru's log holds 1 ack(s) and 1 answer(s) of it, complete by ru's index",
                &format!(
                    "It was acknowledged within the agreed 1d, on us's observation: {ack} was seen at"
                ),
                &format!(
                    "It was answered within the agreed 30d, on us's observation: {answer} was seen at"
                ),
            ],
        );
        assert!(!out.contains("not within"), "{out}");
        verified(
            &opening,
            &keys,
            &[
                &format!("Entry {q} — an inquiry from us/fbi to ru/fsb"),
                "subject \"REvil intrusion\"",
                &format!("text {}", serde_json::to_string(&x.text).unwrap()),
                "match the commitment",
            ],
        );

        // `--json`: the claim, the bundle type, the sentence, and each part
        // with the signatures it rests on.
        let mut args = vec!["verify", delivery.as_str(), "--json"];
        args.extend(keys.iter().map(String::as_str));
        let v = json(&ok(&args));
        assert_eq!(v["verified"], true, "{v}");
        assert_eq!(v["claim"], "delivery", "{v}");
        assert_eq!(v["bundle"], "hotline/delivery/v2", "{v}");
        assert!(
            verify(&delivery, &keys)
                .unwrap()
                .trim_end()
                .ends_with(v["sentence"].as_str().unwrap()),
            "{v}"
        );
        let part = |name: &str| {
            v["parts"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["part"] == name)
                .unwrap_or_else(|| panic!("no part {name}: {v}"))
                .clone()
        };
        let rests = part("receipt")["rests_on"].to_string();
        assert!(
            rests.contains(&format!("ru's receipt {receipt} signed by ru/fsb")),
            "{rests}"
        );
        assert!(
            part("entry")["rests_on"]
                .to_string()
                .contains("us's log signature (hotline/us)"),
            "{v}"
        );

        // Only the other party's keys: the log the claim rests on is not pinned.
        let ru_only = pinned_keys(&[&x.ru]);
        for f in [&delivery, &answered, &opening] {
            let err = verify(f, &ru_only).expect_err("verified without us's keys");
            assert!(
                err.contains("no pinned log key for hotline/us; pass its verifier key with --key"),
                "{f}: {err}"
            );
        }
        let us_only = pinned_keys(&[&x.us]);
        for f in [&delivery, &answered] {
            let err = verify(f, &us_only).expect_err("verified without ru's keys");
            assert!(
                err.contains("no pinned log key for hotline/ru; pass its verifier key with --key"),
                "{f}: {err}"
            );
        }
        files.extend([delivery, answered, opening]);
    }

    // Any one byte changed: not verified.
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let at = positions(&bytes, 50, &cosigner_names(&bytes));
        assert!(at.len() >= 40, "{f}: only {} positions", at.len());
        each_flip_fails(f, &keys, &at);
    }
}

/// A witness's cosignature line altered in its name or key id stops
/// matching the pinned key; a one-byte change must still fail verification
/// (README: "Change one byte … and `verify` exits non-zero").
#[test]
fn a_cosignature_altered_in_a_bundle_is_never_counted() {
    // Per C2SP signed-note, a signature line from an unknown key is ignored,
    // not an error (bundles may carry witnesses the verifier does not pin).
    // So a changed witness name or key id cannot fail the bundle; what must
    // hold is that the changed line is never counted: the claim can only get
    // weaker, never stronger or different.
    let x = Exchange::new();
    let keys = x.keys();
    let f = path(&x.us, "delivery.json");
    ok(&["prove", "delivery", &x.inquiry, "--dir", x.us.d(), "-o", &f]);
    let original = verified(
        &f,
        &keys,
        &["cosigned by ru's witness (hotline/ru/witness) at 20"],
    );
    let bytes = std::fs::read(&f).unwrap();
    let names = cosigner_names(&bytes);
    assert!(names.len() >= 4, "{} cosignature lines", names.len());
    let count = |s: &str| s.matches("cosigned by").count() + s.matches("'s witness (").count();
    for r in &names {
        for p in [r.start + 6, r.end - 9, r.end - 3] {
            let mut b = bytes.clone();
            b[p] ^= 1;
            let copy = format!("{f}.tampered");
            std::fs::write(&copy, &b).unwrap();
            match verify(&copy, &keys) {
                Err(e) => assert!(e.contains("NOT verified: "), "byte {p}: {e}"),
                Ok(out) => {
                    assert!(
                        out.contains("Entry us:") && out.contains("ru received it by"),
                        "byte {p}: {out}"
                    );
                    assert!(
                        count(&out) <= count(&original),
                        "byte {p} made the claim stronger: {out}"
                    );
                }
            }
        }
    }
}

#[test]
fn absence_is_proved_by_either_party_when_true() {
    let x = Exchange::new();
    let keys = x.keys();
    // A window after the exchange, in which us/fbi sends a message (not an
    // inquiry) to ru/fsb.
    // It is sent more than a second after `since`, so that no cosignature
    // dated `since` holds it, and well before `until`.
    let since = x.after;
    let until = since + SignedDuration::from_secs(5);
    sleep_past(since + SignedDuration::from_millis(1200));
    let sent = json(&ok(&[
        "send",
        "--dir",
        x.us.d(),
        "--from",
        "us/fbi",
        "--to",
        "ru/fsb",
        "--text",
        "Meeting on Tuesday?",
        "--json",
    ]));
    let message = format!("us:{}", sent["index"]);
    sleep_past(until + SignedDuration::from_secs(2));
    let (s, u) = (since.to_string(), until.to_string());
    // The receiver (the Kremlin's position: "no inquiries came") and the sender.
    for p in [&x.ru, &x.us] {
        let f = path(p, &format!("absence-{}.json", name(p)));
        let mut last = String::new();
        wait_until(15, "a cosignature after the window's end", || {
            let o = hotline(&absence_args(p.d(), &s, &u, &f));
            last = String::from_utf8_lossy(&o.stderr).into_owned();
            o.status.success()
        });
        let out = verified(
            &f,
            &keys,
            &[
                &format!(
                    "No inquiry from us/fbi to ru/fsb dated (by us's clock) between {s} and {u} is in hotline/us up to its tree of size"
                ),
                "the channel has 1 such entries there, complete by us's index, recomputed and cosigned by ru's witness (hotline/ru/witness)",
                &format!("headers only: {} dated", x.inquiry),
                "on us's own signatures, that tree covers the window's end: us's own witness cosigned it at",
                "ru's witness (hotline/ru/witness) at 20",
                "so ru was shown it by then",
            ],
        );
        // Only the channel's own entries: the message on another channel
        // (kind) is not disclosed, not even its header.
        assert!(!out.contains(&message), "{out}");
        let bundle = std::fs::read_to_string(&f).unwrap();
        let leaf = |id: &str| {
            let i: u64 = id.split(':').nth(1).unwrap().parse().unwrap();
            log_json(x.us.d())
                .iter()
                .find(|l| l["index"] == i)
                .map(|l| l["leaf"].as_str().unwrap().to_owned())
                .unwrap()
        };
        assert!(
            !bundle.contains(&leaf(&message)),
            "the message's header is in {f}"
        );
        let err = verify(&f, &pinned_keys(&[&x.ru])).expect_err("verified without us's log key");
        assert!(err.contains("no pinned log key for hotline/us"), "{err}");
    }
}

#[test]
fn absence_is_refused_when_false() {
    let x = Exchange::new();
    // The window holds the inquiry.
    let (s, u) = (x.before.to_string(), x.after.to_string());
    sleep_past(x.after + SignedDuration::from_secs(2));
    for p in [&x.ru, &x.us] {
        let f = path(p, &format!("absence-{}.json", name(p)));
        let q = &x.inquiry;
        let mut last = String::new();
        wait_until(15, "prove absence refusing (not waiting)", || {
            let o = hotline(&absence_args(p.d(), &s, &u, &f));
            assert!(
                !o.status.success(),
                "a false absence was proved by {}",
                name(p)
            );
            last = String::from_utf8_lossy(&o.stderr).into_owned();
            !last.contains("wait")
        });
        assert!(
            last.contains(&format!(
                "the claim is false: {q} is an inquiry from us/fbi to ru/fsb dated"
            )) && last.contains("no bundle written"),
            "{last}"
        );
        assert!(!Path::new(&f).exists(), "{f} was written");
    }
}

#[test]
fn absence_needs_a_cosignature_after_the_window() {
    let (us, ru, _a, _b) = federated();
    wait_until(30, "ru cosigning us's log", || cosigned_in_full(&us, &ru));
    let keys = pinned_keys(&[&us, &ru]);
    sleep_past(now_floor() + SignedDuration::from_millis(1200));
    let now = now_floor();
    sleep_past(now + SignedDuration::from_secs(2));
    for p in [&ru, &us] {
        let f = path(p, &format!("absence-{}.json", name(p)));
        // The end is not cosigned yet: wait, and nothing is written.
        let (s, u) = (
            now.to_string(),
            (now + SignedDuration::from_secs(60)).to_string(),
        );
        refused(
            &absence_args(p.d(), &s, &u, &f),
            &f,
            &[
                &format!("no checkpoint of hotline/us has been cosigned at or after {u} yet"),
                "wait for the next cosignature",
            ],
        );
        // The start precedes every cosignature: the run starts at the log's
        // beginning and discloses all of it (us's key entry, us:0).
        let (s, u) = ("2021-06-01T00:00:00Z", now.to_string());
        ok(&absence_args(p.d(), s, &u, &f));
        verified(
            &f,
            &keys,
            &[
                &format!(
                    "No inquiry from us/fbi to ru/fsb dated (by us's clock) between {s} and {u} is in hotline/us"
                ),
                "the channel has 0 such entries there",
                "and it has none",
                "on us's own signatures, that tree covers the window's end",
            ],
        );
    }
}

/// A window ending within a second: the node must not pick a cosignature
/// from earlier in that second, which the verifier rightly refuses.
#[test]
fn absence_with_a_window_ending_mid_second_verifies() {
    let (us, ru, _a, _b) = federated();
    wait_until(30, "ru cosigning us's log", || cosigned_in_full(&us, &ru));
    let keys = pinned_keys(&[&us, &ru]);
    sleep_past(now_floor() + SignedDuration::from_millis(1200));
    let since = Timestamp::now();
    let until = second(since.as_second() + 2) + SignedDuration::from_millis(500);
    sleep_past(until + SignedDuration::from_secs(2));
    let (s, u) = (since.to_string(), until.to_string());
    for p in [&ru, &us] {
        let f = path(p, "absence.json");
        ok(&absence_args(p.d(), &s, &u, &f));
        verified(
            &f,
            &keys,
            &[&format!(
                "between {s} and {u} is in hotline/us up to its tree"
            )],
        );
    }
}

/// The month's figures for the channel, from either side: refused while
/// the month is not over; the previous month, before either log began,
/// proved with nothing sent.
#[test]
fn stats_cover_whole_months() {
    let x = Exchange::new();
    let keys = x.keys();
    let now = Timestamp::now();
    let month = now.strftime("%Y-%m").to_string();
    let previous = previous_month();
    for p in [&x.ru, &x.us] {
        let f = path(p, &format!("stats-{}.json", name(p)));
        let stats = |m: &str| hotline(&stats_args(p.d(), m, &f));
        let o = stats(&month);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "stats for {month}, not over yet");
        assert!(
            err.contains(&format!("{month} is not over yet"))
                && err.contains("try the previous month"),
            "{err}"
        );
        assert!(!Path::new(&f).exists(), "{f} was written");
        let o = stats(&previous);
        assert!(
            o.status.success(),
            "stats for {previous}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        verified(
            &f,
            &keys,
            &[
                &format!("Channel us/fbi → ru/fsb, {previous} (UTC, by us's clock)"),
                "0 inquiries sent, complete by us's index",
                "0 receipted by ru as delivered",
                "Acknowledgement: 0 met (on us's observation), 0 missed (on ru's own signatures), 0 undetermined.",
            ],
        );
    }
}

#[test]
fn bad_input_is_refused_clearly() {
    let us = Party::new("us");
    ok(&["office", "add", "us/fbi", "--dir", us.d()]);
    let f = path(&us, "out.json");
    let d = us.d();
    for (id, msg) in [
        (
            "banana",
            r#""banana" is not an entry id (party:index, e.g. us:12)"#.to_owned(),
        ),
        ("us:-1", r#""us:-1" is not an entry id"#.to_owned()),
        ("us:", r#""us:" is not an entry id"#.to_owned()),
        ("us:9999", "entry us:9999 is not held here".to_owned()),
        ("xx:1", "this node holds no log of xx".to_owned()),
    ] {
        refused(
            &["prove", "delivery", id, "--dir", d, "-o", &f],
            &f,
            &[&msg],
        );
        refused(
            &["prove", "answered", id, "--dir", d, "-o", &f],
            &f,
            &[&msg],
        );
        refused(&["open", id, "--dir", d, "-o", &f], &f, &[&msg]);
    }
    // Entries that are not what the claim is about.
    refused(
        &["prove", "answered", "us:0", "--dir", d, "-o", &f],
        &f,
        &["us:0 is a key, not an inquiry"],
    );
    refused(
        &["prove", "delivery", "us:0", "--dir", d, "-o", &f],
        &f,
        &["addressed to no office"],
    );

    let absence = |kind: &'static str, since: &'static str, until: &'static str| {
        vec![
            "prove", "absence", "--log", "us", "--kind", kind, "--from", "us/fbi", "--to",
            "ru/fsb", "--since", since, "--until", until, "--dir", d, "-o", &f,
        ]
    };
    refused(
        &absence("nonsense", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"),
        &f,
        &[r#"unknown kind "nonsense""#],
    );
    refused(
        &absence("inquiry", "2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z"),
        &f,
        &["--until must be after --since"],
    );
    refused(
        &absence("inquiry", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
        &f,
        &["--until must be after --since"],
    );
    refused(
        &absence("inquiry", "yesterday", "2026-01-01T00:00:00Z"),
        &f,
        &["--since"],
    );

    let stats = |channel: &'static str, month: &'static str| {
        vec![
            "prove",
            "stats",
            "--channel",
            channel,
            "--month",
            month,
            "--dir",
            d,
            "-o",
            &f,
        ]
    };
    refused(
        &stats("us/fbi-ru/fsb", "2026-01"),
        &f,
        &[r#"--channel "us/fbi-ru/fsb": write FROM:TO, e.g. us/fbi:ru/fsb"#],
    );
    refused(
        &stats("us/fbi:ru/fsb", "2026-13"),
        &f,
        &[r#""2026-13" is not a month (YYYY-MM)"#],
    );
}

/// An entry from ru/fsb can only be in ru's log: a claim that us's log holds
/// none is malformed (`verify` says so), so `prove absence` must refuse it
/// at once — not write it, and not ask to wait for a cosignature.
#[test]
fn absence_of_another_party_s_entries_is_refused() {
    let us = Party::new("us");
    let f = path(&us, "out.json");
    let now = Timestamp::now().to_string();
    let err = refused(
        &[
            "prove",
            "absence",
            "--log",
            "us",
            "--kind",
            "inquiry",
            "--from",
            "ru/fsb",
            "--to",
            "us/fbi",
            "--since",
            "2026-01-01T00:00:00Z",
            "--until",
            &now,
            "--dir",
            us.d(),
            "-o",
            &f,
        ],
        &f,
        &["ru/fsb", "log"],
    );
    assert!(!err.contains("wait"), "{err}");
}
