//! Issue 10, item 1: content that does not match its commitment.
//!
//! A hostile sender seals one text to the receiving office and commits (the
//! header's salted hash) to another, hoping the receiver shows the first and
//! writes `delivered` while the sender can later "open" the second to a third
//! party. The receiver opens every body addressed to it and receipts the
//! mismatch as a refusal; no page, list or bundle of the receiver carries the
//! sealed text.

use std::process::Command;

use hotline_console::config::ConsoleConfig;
use hotline_console::operators::Operators;
use hotline_node::dir::NodeDir;
use hotline_proto::entry::Kind;
use hotline_proto::party::Party as PartyName;

use super::hostile::*;
use super::util::*;

const SEALED: &str = "the sealed text kestrel-7f3a";
const COMMITTED: &str = "the committed text osprey-91c2";
const MISMATCH: &str = "refused: content does not match its commitment";
const NOT_CONTENT: &str = "refused: content is not in hotline's content format";

/// A console session on `party`'s node for a new operator acting for
/// `office`: the session token (the cookie's value).
/// What a push of one entry addressed to ru may change there: its mirror
/// of us grows by that entry and its own log by the receipt `r`, and
/// nothing before either moves.
fn one_mirror_entry_and_one_receipt(before: &Snapshot, after: &Snapshot, r: &serde_json::Value) {
    assert_eq!(after.mirrors["us"].len(), before.mirrors["us"].len() + 1);
    assert_eq!(
        after.mirrors["us"][..before.mirrors["us"].len()],
        before.mirrors["us"][..]
    );
    assert_eq!(after.own[..before.own.len()], before.own[..]);
    assert_eq!(
        after.own[before.own.len()..].to_vec(),
        vec![r.clone()],
        "one receipt, nothing else"
    );
}

fn console_session(party: &Party, office: &str) -> String {
    let pw = password_file(party, "operator.pw", "a long enough password");
    ok(&operator_add_args(party, office, "duty", &pw, &[]));
    let name = party.dir.file_name().unwrap().to_str().unwrap();
    let ops = Operators::open(
        &NodeDir::new(&party.dir),
        PartyName::new(name).unwrap(),
        ConsoleConfig::default(),
    )
    .unwrap();
    ops.login("duty", "a long enough password", jiff::Timestamp::now())
        .unwrap()
        .token
}

/// A console page as the operator with session `token` sees it.
fn console_get(served: &Served, party: &str, token: &str, path: &str) -> (u16, String) {
    let o = Command::new("curl")
        .args(["-sS", "--max-time", "20", "-w", "\n%{http_code}", "-H"])
        .arg(format!("Cookie: hotline_session_{party}={token}"))
        .arg(format!("http://{}{path}", served.addr))
        .output()
        .expect("curl must be installed (scripts/test installs it)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8(o.stdout).unwrap();
    let (body, code) = out.rsplit_once('\n').unwrap();
    (code.parse().unwrap(), body.to_owned())
}

/// The sealed text and the committed text differ: the entry is mirrored (it
/// is in the sender's signed log regardless), its receipt says the content
/// was refused, and the receiver shows neither text anywhere nor makes an
/// opening of it. An honest message afterwards is still delivered.
#[test]
fn content_that_does_not_match_its_commitment_is_receipted_as_refused() {
    let (us, ru, a, b, agreement) = stage();
    let token = console_session(&ru, "ru/fsb");
    a.kill9();
    let mut us = Hostile::take_over(us);
    let victim = Target::new(&ru, &b);
    let before = Snapshot::of(&ru, &["us"]);
    let now = jiff::Timestamp::now().to_string();
    let i = us.message(&ru, Msg::mismatched(&agreement, &now, SEALED, COMMITTED));
    let (s, t) = us.push(victim, i);
    assert_eq!(s, 200, "mirrored like any entry of us's signed log: {t}");
    let r = receipt_for(&ru, "us", i);
    assert_eq!(r["header"]["status"], MISMATCH, "{r}");
    assert_eq!(r["header"]["from"], "ru/fsb", "{r}");
    assert_eq!(r["header"]["refs"][0]["index"], i, "{r}");
    assert_eq!(
        r["header"]["refs"][0]["leaf_hash"],
        Hostile::reference("us", i, &us.leaves[i as usize]).leaf_hash,
        "{r}"
    );

    // Exactly one entry more in the mirror (the refused one) and one in ru's
    // own log (its receipt).
    let after = Snapshot::of(&ru, &["us"]);
    one_mirror_entry_and_one_receipt(&before, &after, &r);

    // The console shows the refusal, never either text.
    let id = format!("us:{i}");
    for path in [
        "/channels/ru/fsb/us/fbi".to_owned(),
        format!("/entries/us/{i}"),
    ] {
        let (s, page) = console_get(&b, "ru", &token, &path);
        assert_eq!(s, 200, "{path}: {page}");
        assert!(page.contains(&id), "{path} does not show {id}");
        assert!(page.contains(MISMATCH), "{path} does not say why: {page}");
        assert!(!page.contains(SEALED), "{path} shows the sealed text");
        assert!(!page.contains(COMMITTED), "{path} shows the committed text");
    }
    let (s, _) = console_get(&b, "ru", &token, &format!("/entries/us/{i}/attachments/0"));
    assert_ne!(s, 200, "an attachment of refused content");

    // The receiver makes no opening of it: one would not verify.
    let err = fails(&["open", &id, "--dir", ru.d()]);
    assert!(
        err.contains("content does not match its commitment"),
        "{err}"
    );
    // Nor does any listing carry the text.
    for args in [
        vec!["log", "--dir", ru.d(), "--peer", "us", "--json"],
        vec!["log", "--dir", ru.d(), "--json"],
        vec!["inquiries", "--dir", ru.d(), "--json"],
    ] {
        let out = ok(&args);
        assert!(
            !out.contains(SEALED) && !out.contains(COMMITTED),
            "{args:?}"
        );
    }

    // An honest message right after is delivered and shown.
    let before = Snapshot::of(&ru, &["us"]);
    let j = us.message(
        &ru,
        Msg::fbi_to_fsb(
            &agreement,
            &jiff::Timestamp::now().to_string(),
            "an honest text",
        ),
    );
    let (s, t) = us.push(victim, j);
    assert_eq!(s, 200, "{t}");
    let r = receipt_for(&ru, "us", j);
    assert_eq!(r["header"]["status"], "delivered", "{r}");
    let after = Snapshot::of(&ru, &["us"]);
    one_mirror_entry_and_one_receipt(&before, &after, &r);
    let (s, page) = console_get(&b, "ru", &token, &format!("/entries/us/{j}"));
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("an honest text"), "{page}");
}

/// Bodies that open and match their commitment, sealed by a hostile sender
/// with its own keys: a content whose STIX bundle holds a number no double
/// holds (`1e400`, which a parser that only skipped values would let pass)
/// and a body that is not JSON are each receipted as not content; a content
/// with an honest bundle is delivered. Each adds its entry to the mirror and
/// one receipt to the receiver's log, and nothing else.
#[test]
fn a_body_no_reader_can_parse_is_receipted_as_not_content() {
    let (us, ru, a, b, agreement) = stage();
    a.kill9();
    let mut us = Hostile::take_over(us);
    let mut honest = hotline_proto::entry::Content::text("two objects", None);
    honest.stix = Some(
        serde_json::json!({"type": "bundle", "id": "bundle--6a2f1c52-1f0e-4a57-9b1e-0d1c2b3a4f5e", "objects": [{"a": 1}, {"b": [2.5, "x"]}]}),
    );
    let cases: [(Vec<u8>, &str); 3] = [
        (
            br#"{"stix":{"objects":[1e400]},"text":"t"}"#.to_vec(),
            NOT_CONTENT,
        ),
        (b"not json".to_vec(), NOT_CONTENT),
        (honest.to_bytes(), "delivered"),
    ];
    let to = office_of(&ru, "ru/fsb");
    for (plain, status) in cases {
        let before = Snapshot::of(&ru, &["us"]);
        let (sealed, body) = us.seal_bytes("us/fbi", &to, &plain, &plain);
        let now = jiff::Timestamp::now().to_string();
        let mut h = us.header(Kind::Message, "us/fbi", Some("ru/fsb"), &now);
        h.agreement = Some(agreement.clone());
        h.body = Some(body);
        let e = us.sign(h);
        let i = us.append(&e, Some(sealed));
        let (s, t) = us.push(Target::new(&ru, &b), i);
        assert_eq!(s, 200, "mirrored like any entry of us's signed log: {t}");
        let r = receipt_for(&ru, "us", i);
        assert_eq!(
            r["header"]["status"],
            status,
            "{}: {r}",
            String::from_utf8_lossy(&plain)
        );
        let after = Snapshot::of(&ru, &["us"]);
        one_mirror_entry_and_one_receipt(&before, &after, &r);
    }
}
