//! Office keys are learnt from the log, not from the keys-export file: an
//! office announced after the parties pinned each other is reachable at once,
//! a rotated office is sealed to its new key at once, and an entry signed
//! with a key its own log revoked or rotated away before it is refused — by
//! the receiving node (nothing stored) and by `hotline verify` (the inclusion
//! bundle carries the log's chain of key entries). A `key` entry must link to
//! the log's previous one, and a bundle whose chain leaves key entries out
//! verifies only with a sentence that says on whom the key's currency rests.

use std::os::unix::fs::PermissionsExt as _;

use hotline_proto::keys::OfficeKeys;
use serde_json::Value;

use super::federation::log_json_peer;
use super::hostile::*;
use super::util::*;

/// The `key` entry `party` wrote for `office` with `action`, once `watcher`'s
/// mirror holds it; returns its index.
fn mirrored_key_entry(watcher: &Party, party: &str, office: &str, action: &str) -> u64 {
    let find = || {
        log_json_peer(watcher.d(), party).into_iter().find(|l| {
            let h = &l["header"];
            h["kind"] == "key" && h["key"]["office"] == office && h["key"]["action"] == action
        })
    };
    wait_until(30, &format!("{action} of {office} mirrored"), || {
        find().is_some()
    });
    find().unwrap()["index"].as_u64().unwrap()
}

/// The secret keys `party` retired for `office` (rotated away or revoked).
fn retired(party: &Party, office: &str) -> Vec<OfficeKeys> {
    let dir = party.dir.join("keys/offices/retired");
    let mut out = vec![];
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let meta = std::fs::metadata(&p).unwrap();
        assert_eq!(
            meta.permissions().mode() & 0o777,
            0o600,
            "{} must be readable by its owner only",
            p.display()
        );
        let k = OfficeKeys::from_secret_json(&std::fs::read_to_string(&p).unwrap()).unwrap();
        if k.office().as_str() == office {
            out.push(k);
        }
    }
    out
}

/// `hotline open ID --dir P -o OUTPUT`.
fn open_args<'a>(p: &'a Party, id: &'a str, output: &'a str) -> [&'a str; 6] {
    ["open", id, "--dir", p.d(), "-o", output]
}

/// The text an opening bundle (`hotline open`) reveals.
fn opened_text(path: &str) -> String {
    let b = json(&std::fs::read_to_string(path).unwrap());
    let plain = hotline_proto::b64::decode(b["plaintext"].as_str().unwrap()).unwrap();
    json(std::str::from_utf8(&plain).unwrap())["text"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn write(p: &Party, name: &str, text: &str) -> String {
    let path = p.dir.join("..").join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

/// The scenario, as a new user meets it: after both sides pinned
/// each other, ru creates ru/president; us asks ru/president for a call
/// with no re-export of ru's keys. us seals to the key its verified mirror
/// of ru's log learnt, and ru receipts the request `delivered`.
#[test]
fn an_office_announced_after_pinning_is_reachable_without_re_export() {
    let (us, ru, _a, _b, _) = stage();
    ok(&["office", "add", "us/president", "--dir", us.d()]);
    ok(&["office", "add", "ru/president", "--dir", ru.d()]);
    // The export us pinned predates ru/president.
    let pinned = std::fs::read_to_string(us.dir.join("peers/ru.json")).unwrap();
    assert!(!pinned.contains("ru/president"), "{pinned}");
    agree(&us, &ru, &example("presidential-agreement.toml"));
    mirrored_key_entry(&us, "ru", "ru/president", "announce");

    let out = json(&ok(&call_request_args(
        &us,
        "us/president",
        "ru/president",
        &["--at", "2031-01-26T15:00:00Z", "--json"],
    )));
    let id = out["id"].as_str().unwrap();
    let index: u64 = id.strip_prefix("us:").unwrap().parse().unwrap();
    let r = receipt_for(&ru, "us", index);
    assert_eq!(r["header"]["status"], "delivered", "{r}");
    assert_eq!(r["header"]["from"], "ru/president", "{r}");
    // And a message between the presidents opens on ru's side.
    let m = send(&us, "us/president", "ru/president", "Mr President");
    let r = receipt_for(&ru, "us", m);
    assert_eq!(r["header"]["status"], "delivered", "{r}");
    let opening = write(&ru, "opening.json", "");
    ok(&open_args(&ru, &format!("us:{m}"), &opening));
    assert_eq!(opened_text(&opening), "Mr President");
}

/// ru rotates ru/fsb through its running node; us, without re-importing
/// anything, seals its next message to the new key (ru opens it with the new
/// key alone), and ru's receipts, now signed with the new key, are accepted
/// by us's mirror. An earlier body still opens with the retired key.
#[test]
fn a_rotated_office_is_sealed_to_its_new_key_without_re_export() {
    let (us, ru, _a, _b, _) = stage();
    let before = send(&us, "us/fbi", "ru/fsb", "before the rotation");
    assert_eq!(
        receipt_for(&ru, "us", before)["header"]["status"],
        "delivered"
    );
    let old = office_of(&ru, "ru/fsb");

    let out = key_change(&ru, "rotate", "ru/fsb");
    let rotation = out["index"].as_u64().unwrap();
    let new = office_of(&ru, "ru/fsb");
    assert_ne!(old.sign, new.sign);
    assert_ne!(old.seal, new.seal);
    let kept = retired(&ru, "ru/fsb");
    assert_eq!(kept.len(), 1, "the old keys are kept, once");
    assert_eq!(kept[0].public(), old);
    assert_eq!(
        mirrored_key_entry(&us, "ru", "ru/fsb", "rotate"),
        rotation,
        "us learns the rotation from its mirror"
    );

    let after = send(&us, "us/fbi", "ru/fsb", "after the rotation");
    let r = receipt_for(&ru, "us", after);
    assert_eq!(r["header"]["status"], "delivered", "{r}");
    assert_eq!(r["header"]["from"], "ru/fsb");
    // The receipt, signed with the new key, reaches us's mirror.
    settle_between(&us, &ru);

    // With the retired keys out of reach, ru opens the later body (sealed
    // to the new key) and not the earlier one.
    let keys = ru.dir.join("keys/offices/retired");
    let hidden = ru.dir.join("keys/retired.hidden");
    std::fs::rename(&keys, &hidden).unwrap();
    let opening = write(&ru, "opening.json", "");
    ok(&open_args(&ru, &format!("us:{after}"), &opening));
    assert_eq!(opened_text(&opening), "after the rotation");
    fails(&open_args(&ru, &format!("us:{before}"), &opening));
    std::fs::rename(&hidden, &keys).unwrap();
    ok(&open_args(&ru, &format!("us:{before}"), &opening));
    assert_eq!(opened_text(&opening), "before the rotation");
}

/// `hotline office ACTION OFFICE --json` on `p` (`rotate`, `revoke`): what it printed.
fn key_change(p: &Party, action: &str, office: &str) -> Value {
    json(&ok(&["office", action, office, "--dir", p.d(), "--json"]))
}

/// `hotline office revoke OFFICE` on `p`; the index of its `key` entry.
fn revoke(p: &Party, office: &str) -> u64 {
    let out = key_change(p, "revoke", office);
    out["index"]
        .as_u64()
        .unwrap_or_else(|| panic!("no index: {out}"))
}

/// us revokes us/fbi with the real CLI. Sending as or to it is refused from
/// then on. Gone hostile, us signs a message with the revoked key, dated
/// after the revocation, and pushes it: ru refuses it (422, naming the
/// revocation) and stores nothing. An inclusion bundle of that entry, built
/// from the hostile log with its key history, is refused by `hotline verify`.
#[test]
fn an_entry_signed_with_a_revoked_key_is_refused() {
    let (us, ru, a, b, agreement) = stage();
    let revocation = revoke(&us, "us/fbi");
    assert_eq!(
        mirrored_key_entry(&ru, "us", "us/fbi", "revoke"),
        revocation
    );
    let e = fails(&send_args(
        &us,
        "us/fbi",
        "ru/fsb",
        &["--text", "still here?"],
    ));
    assert!(e.contains("us/fbi") && e.contains("revoked"), "{e}");
    let e = fails(&send_args(&ru, "ru/fsb", "us/fbi", &["--text", "anyone?"]));
    assert!(e.contains("us/fbi") && e.contains("revoked"), "{e}");
    assert_eq!(retired(&us, "us/fbi").len(), 1, "its keys are kept");
    settle_between(&us, &ru);

    a.kill9();
    let mut us = Hostile::take_over(us);
    assert!(
        !us.offices.contains_key("us/fbi"),
        "a revoked office's keys are retired"
    );
    let old = retired(&us.party, "us/fbi").remove(0);
    us.offices.insert("us/fbi".into(), old);
    let before = Snapshot::of(&ru, &["us"]);
    let now = jiff::Timestamp::now().to_string();
    let i = us.message(
        &ru,
        Msg::fbi_to_fsb(&agreement, &now, "signed after the revocation"),
    );
    let (s, t) = us.push(Target::new(&ru, &b), i);
    assert_eq!(s, 422, "{t}");
    assert!(
        t.contains(&format!("entry {i}"))
            && t.contains(&format!("entry {revocation} revoked the keys of us/fbi")),
        "{t}"
    );
    std::thread::sleep(std::time::Duration::from_millis(500));
    before.unchanged(&ru, "an entry signed with a revoked key");

    let file = write(&us.party, "revoked.json", &us.inclusion_bundle(i));
    let e = fails(&["verify", &file, "--key", &us.party.vkey()]);
    assert!(
        e.contains(&format!("entry {revocation} revoked the keys of us/fbi")),
        "{e}"
    );
}

/// us rotates us/fbi with the real CLI; entries it writes after that are
/// signed with the new key (a bundle of one says so). Gone hostile, it signs
/// a message with the old key and pushes it: ru refuses it (422, naming the
/// rotation), nothing stored, and `hotline verify` refuses its bundle. The
/// same message signed with the new key is accepted, so the refusal is the
/// key's.
#[test]
fn an_entry_signed_with_a_rotated_away_key_is_refused() {
    let (us, ru, a, b, agreement) = stage();
    let announced = log_json(us.d())
        .iter()
        .find(|l| l["header"]["kind"] == "key" && l["header"]["key"]["office"] == "us/fbi")
        .unwrap()["index"]
        .as_u64()
        .unwrap();
    let early = send(&us, "us/fbi", "ru/fsb", "before the rotation");
    let out = key_change(&us, "rotate", "us/fbi");
    let rotation = out["index"].as_u64().unwrap();
    let late = send(&us, "us/fbi", "ru/fsb", "after the rotation");
    assert_eq!(
        receipt_for(&ru, "us", late)["header"]["status"],
        "delivered"
    );
    settle_between(&us, &ru);
    // Honest bundles of both, each naming the key it was signed with.
    for (i, k) in [(early, announced), (late, rotation)] {
        let file = write(&us, &format!("entry-{i}.json"), "");
        ok(&[
            "prove",
            "entry",
            &i.to_string(),
            "--dir",
            us.d(),
            "-o",
            &file,
        ]);
        let v = ok(&["verify", &file, "--key", &us.vkey()]);
        assert!(
            v.contains(&format!(
                "Signed by us/fbi with the key us's log announced in entry {k}, neither rotated nor revoked before it"
            )),
            "{v}"
        );
    }

    a.kill9();
    let mut us = Hostile::take_over(us);
    let new = us.offices.remove("us/fbi").unwrap();
    let old = retired(&us.party, "us/fbi").remove(0);
    us.offices.insert("us/fbi".into(), old);
    let before = Snapshot::of(&ru, &["us"]);
    let now = jiff::Timestamp::now().to_string();
    let msg = Msg::fbi_to_fsb(&agreement, &now, "signed with the old key");
    let i = us.message(&ru, msg);
    let target = Target::new(&ru, &b);
    let (s, t) = us.push(target, i);
    assert_eq!(s, 422, "{t}");
    let why = format!(
        "the key of us/fbi announced in entry {announced}, which entry {rotation} rotated away"
    );
    assert!(t.contains(&format!("entry {i}")) && t.contains(&why), "{t}");
    std::thread::sleep(std::time::Duration::from_millis(500));
    before.unchanged(&ru, "an entry signed with a rotated-away key");

    let file = write(&us.party, "rotated.json", &us.inclusion_bundle(i));
    let e = fails(&["verify", &file, "--key", &us.party.vkey()]);
    assert!(e.contains(&why), "{e}");

    // The same message under the new key goes through.
    us.leaves.pop();
    us.sealed.pop();
    us.offices.insert("us/fbi".into(), new);
    let j = us.message(&ru, msg);
    assert_eq!(i, j);
    let (s, t) = us.push(target, j);
    assert_eq!(s, 200, "{t}");
    assert_eq!(receipt_for(&ru, "us", j)["header"]["status"], "delivered");
}

/// `office rotate` and `office revoke` on a stopped node, their refusals,
/// and a rotation or revocation a crash interrupted, finished at the next
/// start by what the log says.
#[test]
fn rotate_and_revoke_work_offline_and_a_crash_between_is_finished_by_the_log() {
    let us = Party::new("us");
    ok(&["office", "add", "us/fbi", "--dir", us.d()]);
    ok(&["office", "add", "us/cia", "--dir", us.d()]);
    let first = office_of(&us, "us/fbi");
    let out = key_change(&us, "rotate", "us/fbi");
    assert_eq!(out["action"], "rotate");
    let second = office_of(&us, "us/fbi");
    assert_ne!(first, second);
    let log = log_json(us.d());
    let h = &log[out["index"].as_u64().unwrap() as usize]["header"];
    assert_eq!(
        (&h["kind"], &h["key"]["action"]),
        (&"key".into(), &"rotate".into())
    );
    assert_eq!(h["key"]["sign"], second.sign.as_str());
    assert_eq!(retired(&us, "us/fbi")[0].public(), first);

    // A crash after the rotation was appended, before its key file was
    // installed: the next start installs it.
    let offices = us.dir.join("keys/offices");
    std::fs::rename(offices.join("us_fbi.json"), offices.join("us_fbi.json.new")).unwrap();
    std::fs::write(
        offices.join("us_fbi.json"),
        retired(&us, "us/fbi")[0].to_secret_json().as_str(),
    )
    .unwrap();
    assert_eq!(office_of(&us, "us/fbi"), second);
    assert!(!offices.join("us_fbi.json.new").exists());
    // A crash before it was appended: the unannounced key is dropped.
    let other = Party::new("us");
    ok(&["office", "add", "us/fbi", "--dir", other.d()]);
    std::fs::copy(
        other.dir.join("keys/offices/us_fbi.json"),
        offices.join("us_fbi.json.new"),
    )
    .unwrap();
    assert_eq!(office_of(&us, "us/fbi"), second);
    assert!(!offices.join("us_fbi.json.new").exists());
    let listed = json(&ok(&["office", "list", "--dir", us.d(), "--json"]));
    assert_eq!(listed, serde_json::json!(["us/cia", "us/fbi"]));

    let revocation = revoke(&us, "us/fbi");
    assert!(!offices.join("us_fbi.json").exists());
    assert_eq!(retired(&us, "us/fbi").len(), 2, "both keys kept");
    let listed = json(&ok(&["office", "list", "--dir", us.d(), "--json"]));
    assert_eq!(listed, serde_json::json!(["us/cia"]));
    assert!(
        identity(&us)
            .offices
            .iter()
            .all(|o| o.office.as_str() != "us/fbi"),
        "a revoked office is not exported"
    );
    // A crash before the revoked key file moved: the next start moves it.
    std::fs::write(
        offices.join("us_fbi.json"),
        retired(&us, "us/fbi")[0].to_secret_json().as_str(),
    )
    .unwrap();
    assert_eq!(identity(&us).offices.len(), 1);
    assert!(!offices.join("us_fbi.json").exists());

    let why = format!("us/fbi was revoked in entry {revocation} of this log");
    for (args, words) in [
        (&["office", "revoke", "us/fbi"][..], vec![why.as_str()]),
        (
            &["office", "rotate", "us/fbi"][..],
            vec![why.as_str(), "a revoked office cannot be rotated"],
        ),
        (
            &["office", "add", "us/fbi"][..],
            vec![
                "office us/fbi was revoked in entry",
                "a revoked office stays revoked",
            ],
        ),
        (
            &["office", "rotate", "us/nsa"][..],
            vec!["unknown office us/nsa", "hotline office add us/nsa"],
        ),
        (
            &["office", "revoke", "ru/fsb"][..],
            vec!["ru/fsb does not belong to this party (us)"],
        ),
    ] {
        let size = log_json(us.d()).len();
        let mut a = args.to_vec();
        a.extend(["--dir", us.d()]);
        let e = fails(&a);
        for w in words {
            assert!(e.contains(w), "{args:?}: {e:?} should say {w:?}");
        }
        assert_eq!(log_json(us.d()).len(), size, "{args:?} wrote nothing");
    }
}

/// A hostile us announces a new office with a `key` entry whose `prev` does
/// not name its log's previous `key` entry (none, or an older one): a proof
/// of any later entry of that office follows `prev` back to its key, so ru
/// would mirror a chain it could not prove from. ru refuses the push (422,
/// naming both indices) and stores nothing; the same entry with the right
/// `prev` is accepted, so the refusal is the link's.
#[test]
fn a_key_entry_whose_prev_is_not_the_previous_key_entry_is_refused() {
    use hotline_proto::entry::KeyAction;
    use hotline_proto::keys::os_rng;
    use hotline_proto::party::Office;

    let (mut us, ru, b, _) = taken_over();
    let target = Target::new(&ru, &b);
    let svr = OfficeKeys::generate(Office::new("us/svr").unwrap(), &mut os_rng());
    let now = jiff::Timestamp::now().to_string();
    let honest = us.key_header(KeyAction::Announce, &svr.public(), &now);
    let last = honest.prev.expect("the stage announced us's offices");
    let key_entries: Vec<u64> = (0..us.size())
        .filter(|&i| us.entry(i).header().kind == hotline_proto::entry::Kind::Key)
        .collect();
    assert_eq!(key_entries.last(), Some(&last));
    let mut wrong = vec![(None, "none".to_owned())];
    if key_entries[0] != last {
        wrong.push((Some(key_entries[0]), format!("entry {}", key_entries[0])));
    }
    // Another entry than a key entry, below the last key entry or above it.
    if let Some(other) = (0..us.size()).find(|i| !key_entries.contains(i)) {
        wrong.push((Some(other), format!("entry {other}")));
    }
    let before = Snapshot::of(&ru, &["us"]);
    for (prev, shown) in wrong {
        let mut h = honest.clone();
        h.prev = prev;
        let e = us.sign(h);
        let i = us.append(&e, None);
        let (s, t) = us.push(target, i);
        assert_eq!(s, 422, "prev {shown}: {t}");
        assert!(
            t.contains(&format!(
                "entry {i}: a key entry whose prev is {shown}, but the previous key entry of us's log is entry {last}"
            )),
            "prev {shown}: {t}"
        );
        std::thread::sleep(std::time::Duration::from_millis(300));
        before.unchanged(&ru, &format!("a key entry with prev {shown}"));
        us.leaves.pop();
        us.sealed.pop();
    }

    let e = us.sign(honest);
    let i = us.append(&e, None);
    let (s, t) = us.push(target, i);
    assert_eq!(s, 200, "{t}");
    let mirrored = log_json_peer(ru.d(), "us");
    assert_eq!(mirrored.len(), before.mirrors["us"].len() + 1);
    assert_eq!(mirrored[i as usize]["header"]["key"]["office"], "us/svr");
}

/// us revokes us/fbi; gone hostile, it signs a message with the revoked key
/// and hands out an inclusion bundle of it whose key history leaves the
/// revocation out (built by the harness, then cut). The key history is the
/// complete keyed run of us's `key` entries in its index, so the cut breaks
/// the chain the checkpoint commits to: `hotline verify` refuses it, with no
/// cosignature, with us's own witness's, and with ru's (here the test signs
/// with ru's cosigner key, standing in for a witness that failed its duty).
/// The whole bundle is refused for the revocation.
#[test]
fn a_bundle_that_leaves_out_a_revocation_is_refused_whoever_cosigned_it() {
    use hotline_proto::keys::NoteKey;

    let (us, ru, a, _b, agreement) = stage();
    let revocation = revoke(&us, "us/fbi");
    mirrored_key_entry(&ru, "us", "us/fbi", "revoke");
    a.kill9();
    let mut us = Hostile::take_over(us);
    let old = retired(&us.party, "us/fbi").remove(0);
    us.offices.insert("us/fbi".into(), old);
    let now = jiff::Timestamp::now().to_string();
    let i = us.message(
        &ru,
        Msg::fbi_to_fsb(&agreement, &now, "signed after the revocation"),
    );
    let whole = us.inclusion_bundle(i);
    let file = write(&us.party, "whole.json", &whole);
    let e = fails(&["verify", &file, "--key", &us.party.vkey()]);
    assert!(
        e.contains(&format!("entry {revocation} revoked the keys of us/fbi")),
        "{e}"
    );

    let cut = Hostile::with_key_history(&whole, |k| k < revocation);
    let kept = serde_json::from_str::<Value>(&cut).unwrap()["log"]["key_history"]["leaves"]
        .as_array()
        .unwrap()
        .len();
    assert!(
        kept > 0,
        "the cut keeps the key entries before the revocation"
    );
    // The key history is a keyed run of the log's index: the revocation left
    // out breaks its chain, whoever cosigned the tree.
    let refused = "do not make up its committed chain";
    let t = 1_700_000_000;
    let ru_witness =
        NoteKey::from_skey(&std::fs::read_to_string(ru.dir.join("keys/witness.key")).unwrap())
            .unwrap();
    let us_witness = us.witness_key.verifier().to_vkey();
    let ru_vkey = ru_witness.verifier().to_vkey();
    let log_key = us.party.vkey();
    for (what, bundle, keys) in [
        (
            "no cosignature",
            cut.clone(),
            vec![&log_key, &us_witness, &ru_vkey],
        ),
        (
            "us's own witness",
            Hostile::cosigned_bundle(&cut, &[&us.witness_key], t),
            vec![&log_key, &us_witness, &ru_vkey],
        ),
        (
            "ru's witness",
            Hostile::cosigned_bundle(&cut, &[&us.witness_key, &ru_witness], t),
            vec![&log_key, &us_witness, &ru_vkey],
        ),
    ] {
        let file = write(&us.party, "cut.json", &bundle);
        let mut args = vec!["verify", file.as_str()];
        for k in keys {
            args.extend(["--key", k.as_str()]);
        }
        let e = fails(&args);
        assert!(
            e.contains(refused) && e.contains("kind/key/us/-"),
            "{what}: {e}"
        );
    }
}
