//! Issue 11, attacks (a), (b) and (f) against real nodes, and what an
//! absence bundle discloses.
//!
//! Two real nodes exchange real traffic under a real agreement; then one
//! party goes hostile with its own keys ([`Hostile::take_over`]) and builds
//! the bundle it would like a reader to believe, from the documented v2
//! formats and what the honest node gave it, or edits one `hotline prove`
//! wrote. `hotline verify`, a real process with the keys a reader pins,
//! refuses it, naming why. The honest node, where the attack talked to it,
//! holds what it held.

use std::path::PathBuf;
use std::time::Duration;

use hotline_proto::b64;
use hotline_proto::claims::absence::{AbsenceClaim, absence_bundle};
use hotline_proto::claims::delivery::delivery_bundle;
use hotline_proto::claims::history::key_history_key;
use hotline_proto::claims::inclusion::inclusion_bundle;
use hotline_proto::entry::{KeyAction, Kind, SignedEntry};
use hotline_proto::index;
use hotline_proto::party::Office;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use super::federation::{log_json_peer, settled};
use super::hostile::*;
use super::util::*;

/// Seconds since the epoch of `t`.
pub fn unix(t: Timestamp) -> u64 {
    u64::try_from(t.as_second()).unwrap()
}

/// A path next to `p`'s directory.
pub fn beside(p: &Party, name: &str) -> PathBuf {
    p.dir.join("..").join(name)
}

/// `hotline inquire` us/fbi → ru/fsb on `p`; returns the inquiry's id and index.
pub fn inquire(p: &Party, subject: &str) -> (String, u64) {
    let body = beside(p, "inquiry.txt");
    std::fs::write(&body, "Ransomware hit a hospital; indicators attached.").unwrap();
    let out = json(&ok(&inquire_args(
        p,
        "us/fbi",
        "ru/fsb",
        subject,
        body.to_str().unwrap(),
        &["--json"],
    )));
    (
        out["id"].as_str().unwrap().to_owned(),
        out["index"].as_u64().unwrap(),
    )
}

/// Waits until `receiver` receipted entry `index` of `sender`'s log;
/// returns the receipt's index in `receiver`'s log.
pub fn receipted(receiver: &Party, sender: &str, index: u64) -> u64 {
    receipt_for(receiver, sender, index)["index"]
        .as_u64()
        .unwrap()
}

/// The leaves of `peer`'s log as `holder`'s mirror holds them.
pub fn mirrored(holder: &Party, peer: &str) -> Vec<Vec<u8>> {
    log_json_peer(holder.d(), peer)
        .iter()
        .map(|l| b64::decode(l["leaf"].as_str().unwrap()).unwrap())
        .collect()
}

/// The claim "no inquiry us/fbi → ru/fsb dated in [since, until]".
pub fn window(since: Timestamp, until: Timestamp) -> AbsenceClaim {
    AbsenceClaim {
        kind: Kind::Inquiry,
        from: Office::new("us/fbi").unwrap(),
        to: Office::new("ru/fsb").unwrap(),
        since,
        until,
    }
}

/// `hotline prove absence` of inquiries us/fbi → ru/fsb in us's log, by `p`.
fn prove_absence(
    p: &Party,
    since: Timestamp,
    until: Timestamp,
    name: &str,
) -> Result<PathBuf, String> {
    let f = beside(p, name);
    let (s, u) = (since.to_string(), until.to_string());
    let o = hotline(&absence_args(p.d(), &s, &u, f.to_str().unwrap()));
    if o.status.success() {
        Ok(f)
    } else {
        Err(String::from_utf8_lossy(&o.stderr).into_owned())
    }
}

/// Asserts `r` is a refusal holding each of `want`; returns the error.
pub fn refused_with(r: Result<String, String>, what: &str, want: &[&str]) -> String {
    let e = match r {
        Ok(out) => panic!("{what} verified: {out}"),
        Err(e) => e,
    };
    assert!(e.contains("NOT verified"), "{what}: {e}");
    for w in want {
        assert!(e.contains(w), "{what}: {w:?} not in: {e}");
    }
    e
}

/// Asserts `r` verified with each of `want` in its sentence; returns it.
pub fn verified_with(r: Result<String, String>, what: &str, want: &[&str]) -> String {
    let out = r.unwrap_or_else(|e| panic!("{what} does not verify: {e}"));
    assert!(out.starts_with("Verified. "), "{what}: {out}");
    for w in want {
        assert!(out.contains(w), "{what}: {w:?} not in: {out}");
    }
    out
}

/// Each copy of `bundle` with one disclosed leaf of the keyed run at JSON
/// pointer `path` dropped (the run must disclose some).
pub fn each_leaf_dropped(bundle: &str, path: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(bundle).unwrap();
    let n = v
        .pointer(path)
        .unwrap_or_else(|| panic!("no {path} in the bundle"))["leaves"]
        .as_array()
        .unwrap()
        .len();
    assert!(n > 0, "{path} discloses nothing");
    (0..n)
        .map(|k| {
            let mut v = v.clone();
            v.pointer_mut(path).unwrap()["leaves"]
                .as_array_mut()
                .unwrap()
                .remove(k);
            v.to_string()
        })
        .collect()
}

/// The real traffic the absence attacks start from: [`stage`], then (after
/// `before`) a message us/fbi → ru/fsb, another index key, and an inquiry
/// on the channel, both receipted by ru, both logs mirrored and cosigned.
struct Traffic {
    us: Party,
    ru: Party,
    nodes: (Served, Served),
    /// A whole second before the message and the inquiry were written.
    before: Timestamp,
    /// The message's index in us's log (kind message: another index key).
    message: u64,
    /// The inquiry's index in us's log.
    inquiry: u64,
    /// us's log size before the message (every entry of it dated ≤ `before`).
    size_before: u64,
    /// A whole second after everything was written and cosigned.
    after: Timestamp,
}

impl Traffic {
    fn new() -> Self {
        let (us, ru, a, b, _agreement) = stage();
        settled(&us, &ru);
        let size_before = log_json(us.d()).len() as u64;
        let before = now_floor();
        sleep_past(before + SignedDuration::from_millis(1200));
        let message = send(&us, "us/fbi", "ru/fsb", "Meeting moved to Tuesday.");
        let (_, inquiry) = inquire(&us, "REvil intrusion");
        receipted(&ru, "us", message);
        receipted(&ru, "us", inquiry);
        settled(&us, &ru);
        let after = Timestamp::from_second(Timestamp::now().as_second() + 1).unwrap();
        sleep_past(after);
        Self {
            us,
            ru,
            nodes: (a, b),
            before,
            message,
            inquiry,
            size_before,
            after,
        }
    }

    fn keys(&self) -> Vec<String> {
        pinned_keys(&[&self.us, &self.ru])
    }
}

/// Attack (a): us holds its log key and its witness key. It cosigns its
/// own checkpoint — a tree holding its inquiry — with its own witness,
/// dated before the inquiry, and offers it as the end of a window: either
/// a window before the inquiry (true, but dated by a cosignature that
/// contradicts the tree), or the window holding the inquiry, with the
/// inquiry left out of the run or hidden behind a base. Each is refused;
/// the honest bundle for the window before the inquiry verifies.
#[test]
fn attack_a_an_own_witness_cosignature_dated_before_a_window_proves_no_absence() {
    let t = Traffic::new();
    let keys = t.keys();
    // The honest bundle for a window before the inquiry, written by us's
    // node: true, and it verifies.
    // Its end lies more than the 300 s tolerance before the inquiry.
    let (since, until) = (
        t.before - SignedDuration::from_hours(1),
        t.before - SignedDuration::from_secs(400),
    );
    let honest = prove_absence(&t.us, since, until, "absence-honest.json").unwrap();
    verified_with(
        verify(honest.to_str().unwrap(), &keys),
        "the honest absence",
        &["No inquiry from us/fbi to ru/fsb dated (by us's clock) between"],
    );
    let honest = std::fs::read_to_string(&honest).unwrap();

    let ru_before = Snapshot::of(&t.ru, &["us"]);
    let (a, _b) = t.nodes;
    a.kill9();
    let us = Hostile::take_over(t.us);
    let size = us.size();
    let key = window(since, until).key();

    // 1. The prove bundle with us's own witness cosignature dated at the
    // window's end put on its checkpoint, which holds the inquiry, before
    // the cosignatures the node gave it.
    let mut v: Value = serde_json::from_str(&honest).unwrap();
    let cp = v["log"]["checkpoint"].as_str().unwrap().to_owned();
    let forged = with_cosignatures_first(&cp, &[(&us.witness_key, unix(until))]);
    v["log"]["checkpoint"] = forged.into();
    let inquiry_id = format!("us:{}", t.inquiry);
    let e = refused_with(
        verify_bundle(&us.party, "attack-a-1.json", &v.to_string(), &keys),
        "a prove bundle with us's own cosignature dated before its inquiry",
        &[
            &format!(
                "us's own witness hotline/us/witness cosigned its tree of size {size} at {until}"
            ),
            "a tree cannot be dated before an entry it holds",
        ],
    );
    assert!(
        e.contains(&format!("but that tree holds us:{}", t.message))
            || e.contains(&format!("but that tree holds {inquiry_id}")),
        "{e}"
    );

    // The same line after the node's own cosignature by that key: a signed
    // note counts a key's first line only, so the sentence rests on the
    // node's line alone and never shows the forged time.
    let early = until - SignedDuration::from_secs(10);
    v["log"]["checkpoint"] = with_cosignatures(&cp, &[(&us.witness_key, unix(early))]).into();
    let out = verified_with(
        verify_bundle(&us.party, "attack-a-1b.json", &v.to_string(), &keys),
        "a later duplicate line of us's own witness",
        &["No inquiry from us/fbi to ru/fsb"],
    );
    assert!(!out.contains(&early.to_string()), "{out}");

    // 2. The window holding the inquiry, built by hostile us from the
    // formats: its own checkpoint of the whole log, its own witness
    // cosigning it before the window; the inquiry in the run.
    let (since2, until2) = (t.before, t.after);
    let cp = with_cosignatures(
        &us.checkpoint(size),
        &[(&us.witness_key, unix(since2) - 3600)],
    );
    let part = log_part(&us.name, &us.leaves, &cp);
    let claim = window(since2, until2);
    let whole = keyed_run(&us.leaves, size, &key, 0);
    refused_with(
        verify_bundle(
            &us.party,
            "attack-a-2.json",
            &absence_bundle(&claim, &part, &whole),
            &keys,
        ),
        "an absence over a window holding the inquiry",
        &[&format!(
            "the claim is contradicted by entry {inquiry_id}: it is an inquiry from us/fbi to ru/fsb, dated"
        )],
    );
    // …with the inquiry dropped from the run: the chain breaks.
    let mut dropped = whole.clone();
    dropped.leaves.retain(|(i, _)| *i != t.inquiry);
    refused_with(
        verify_bundle(
            &us.party,
            "attack-a-3.json",
            &absence_bundle(&claim, &part, &dropped),
            &keys,
        ),
        "an absence with the inquiry left out of the run",
        &["do not make up its committed chain"],
    );
    // …or hidden behind a base: a base stands for the entries before the
    // window, so one must be disclosed.
    let hidden = keyed_run(&us.leaves, size, &key, whole.leaves.len());
    refused_with(
        verify_bundle(
            &us.party,
            "attack-a-4.json",
            &absence_bundle(&claim, &part, &hidden),
            &keys,
        ),
        "an absence with the inquiry behind a base",
        &["the run has a base but discloses no entry"],
    );
    // Without the forged cosignature the run contradicts the claim: the
    // inquiry is dated in the window by us's own signature.
    let honest_cp = without_cosignatures(&cp);
    let part = log_part(&us.name, &us.leaves, &honest_cp);
    refused_with(
        verify_bundle(
            &us.party,
            "attack-a-5.json",
            &absence_bundle(&claim, &part, &whole),
            &keys,
        ),
        "an absence over a window holding the inquiry, honestly cosigned",
        &[&format!("the claim is contradicted by entry {inquiry_id}")],
    );
    // The attack never talked to ru: ru holds what it held.
    ru_before.unchanged(&t.ru, "attack (a)");
}

/// Attack (b): ru, which cosigns us's log, goes hostile. It takes an older
/// checkpoint of us (signed by us, as us pushed it, before the inquiry),
/// cosigns it with its own witness after the window, and offers it as the
/// window's end with the channel's complete run at that tree. ru's
/// cosignature alone never covers a window in ru's favour: refused, naming
/// it. The same claim at us's current tree is contradicted by the inquiry;
/// `hotline prove absence` refuses to write it on either node.
#[test]
fn attack_b_the_receivers_late_cosignature_of_an_older_tree_is_no_window_end() {
    let t = Traffic::new();
    let keys = t.keys();
    let (since, until) = (t.before, t.after);
    // What us pushed to ru before the message and the inquiry: its signed
    // checkpoint at that size, as ru's mirror keeps it.
    let old = checkpoint_held(&t.ru, "hotline/us", t.size_before)
        .unwrap_or_else(|| panic!("ru holds no checkpoint of us at size {}", t.size_before));
    for p in [&t.us, &t.ru] {
        let e = prove_absence(p, since, until, "absence-false.json")
            .expect_err("prove absence wrote a false absence");
        assert!(
            e.contains(&format!("us:{}", t.inquiry)),
            "prove absence on {}: {e}",
            p.d()
        );
        assert!(!beside(p, "absence-false.json").exists());
    }

    let us_before = Snapshot::of(&t.us, &["ru"]);
    let (_a, b) = t.nodes;
    b.kill9();
    let ru = Hostile::take_over(t.ru);
    let us_leaves = mirrored(&ru.party, "us");
    let late = unix(until) + 60;
    let cp = with_cosignatures(&without_cosignatures(&old), &[(&ru.witness_key, late)]);
    let claim = window(since, until);
    let run = keyed_run(&us_leaves, t.size_before, &claim.key(), 0);
    let bundle = absence_bundle(&claim, &log_part("us", &us_leaves, &cp), &run);
    let late_t = Timestamp::from_second(late as i64).unwrap();
    refused_with(
        verify_bundle(&ru.party, "attack-b-1.json", &bundle, &keys),
        "an absence closed by ru's late cosignature of an older tree",
        &[
            &format!(
                "only ru's witness (hotline/ru/witness) at {late_t} cosigned it after the window"
            ),
            "ru's cosignature alone never covers it",
        ],
    );
    // With every cosignature the old checkpoint carried kept too: none of
    // them is us's own or a neutral witness's after the window.
    let cp = with_cosignatures(&old, &[(&ru.witness_key, late)]);
    let bundle = absence_bundle(&claim, &log_part("us", &us_leaves, &cp), &run);
    refused_with(
        verify_bundle(&ru.party, "attack-b-2.json", &bundle, &keys),
        "the same with the old checkpoint's own cosignatures",
        &["ru's cosignature alone never covers it"],
    );
    // us's current tree, as ru mirrors it, holds the inquiry: contradicted.
    let size = us_leaves.len() as u64;
    let now = checkpoint_held(&ru.party, "hotline/us", size).expect("ru holds us's checkpoint");
    let cp = with_cosignatures(&now, &[(&ru.witness_key, late)]);
    let run = keyed_run(&us_leaves, size, &claim.key(), 0);
    let bundle = absence_bundle(&claim, &log_part("us", &us_leaves, &cp), &run);
    refused_with(
        verify_bundle(&ru.party, "attack-b-3.json", &bundle, &keys),
        "an absence at us's current tree",
        &[&format!(
            "the claim is contradicted by entry us:{}",
            t.inquiry
        )],
    );
    // Offline: us was never asked anything, and holds what it held.
    us_before.unchanged(&t.us, "attack (b)");
}

/// Attack (f): us revokes us/fbi's keys in its own log, then writes an
/// inquiry signed with the revoked key. ru refuses the push (nothing
/// stored); the bundles us builds of it — inclusion, delivery — under the
/// complete key history are refused, naming the revocation; with the
/// revocation left out of the key history the run breaks; the entry under
/// a tree before the revocation does not exist.
#[test]
fn attack_f_an_entry_under_a_revoked_key_is_refused() {
    let (us, ru, a, b, agreement) = stage();
    let (_, inquiry) = inquire(&us, "REvil intrusion");
    receipted(&ru, "us", inquiry);
    settled(&us, &ru);
    let keys = pinned_keys(&[&us, &ru]);
    a.kill9();
    let mut us = Hostile::take_over(us);
    let ru_before = Snapshot::of(&ru, &["us"]);
    let pushed = us.size();

    let now = Timestamp::now().to_string();
    let fbi = us.offices["us/fbi"].public();
    let revoke = us.sign(us.key_header(KeyAction::Revoke, &fbi, &now));
    let revocation = us.append(&revoke, None);
    let bad_index = us.message(
        &ru,
        Msg::fbi_to_fsb(&agreement, &now, "signed after the revocation"),
    );
    let (s, body) = us.push(Target::new(&ru, &b), pushed);
    assert_eq!(s, 422, "ru accepted an entry under a revoked key: {body}");
    assert!(
        body.contains(&format!("entry {revocation} revoked the keys of us/fbi")),
        "{body}"
    );
    std::thread::sleep(Duration::from_millis(500));
    ru_before.unchanged(&ru, "the push of an entry under a revoked key");

    // us cosigns its own tree (its own witness, dated now: consistent).
    let size = us.size();
    let cp = with_cosignatures(
        &us.checkpoint(size),
        &[(&us.witness_key, unix(now_floor()) + 1)],
    );
    let part = log_part(&us.name, &us.leaves, &cp);
    let entry = entry_proof(&us.leaves, bad_index, &cp);
    let bad_id = format!("us:{bad_index}");
    let why = format!("entry {revocation} revoked the keys of us/fbi");
    refused_with(
        verify_bundle(
            &us.party,
            "attack-f-inclusion.json",
            &inclusion_bundle(&part, &entry),
            &keys,
        ),
        "an inclusion bundle of an entry under a revoked key",
        &[&bad_id, &why],
    );
    refused_with(
        verify_bundle(
            &us.party,
            "attack-f-delivery.json",
            &delivery_bundle(&part, &entry, None),
            &keys,
        ),
        "a delivery bundle of an entry under a revoked key",
        &[&why],
    );
    // The key history without the revocation: the chain breaks.
    let mut cut = part.clone();
    cut.key_history.leaves.retain(|(i, _)| *i != revocation);
    refused_with(
        verify_bundle(
            &us.party,
            "attack-f-cut.json",
            &inclusion_bundle(&cut, &entry),
            &keys,
        ),
        "the key history with the revocation left out",
        &[&key_history_key("us"), "do not make up its committed chain"],
    );
    // …and with a base standing for it: a key history discloses every entry.
    let mut based = part.clone();
    based.key_history = keyed_run(
        &us.leaves,
        size,
        &key_history_key("us"),
        part.key_history.leaves.len() - 1,
    );
    based.key_history.leaves.clear();
    refused_with(
        verify_bundle(
            &us.party,
            "attack-f-base.json",
            &inclusion_bundle(&based, &entry),
            &keys,
        ),
        "the key history with a base",
        &["the key history must disclose every key entry of us's log (no base)"],
    );
    // The honest inquiry, signed before the revocation, still verifies
    // under the same complete history.
    let part = log_part(&us.name, &us.leaves, &cp);
    verified_with(
        verify_bundle(
            &us.party,
            "attack-f-honest.json",
            &inclusion_bundle(&part, &entry_proof(&us.leaves, inquiry, &cp)),
            &keys,
        ),
        "the inquiry signed before the revocation",
        &[&format!("us:{inquiry}")],
    );
    ru_before.unchanged(&ru, "attack (f)");
}

/// Completeness of a real absence bundle: dropping any one disclosed entry
/// of its channel run or of the key history makes `verify` refuse it. And
/// it discloses no header of any other channel, although us's log holds a
/// message to the same office, ru's receipts are mirrored and the
/// agreement is there: every leaf it holds is of the claim's channel or a
/// key entry of us.
#[test]
fn a_real_absence_bundle_is_complete_and_discloses_only_its_channel() {
    let t = Traffic::new();
    let keys = t.keys();
    // A window after the inquiry: the run discloses the inquiry (the last
    // entry before the window).
    sleep_past(t.after + SignedDuration::from_secs(2));
    let (since, until) = (t.after, t.after + SignedDuration::from_secs(1));
    settled(&t.us, &t.ru);
    let f = prove_absence(&t.us, since, until, "absence-after.json")
        .or_else(|e| {
            // The window's end needs a cosignature after it; one comes each second.
            std::thread::sleep(Duration::from_secs(2));
            prove_absence(&t.us, since, until, "absence-after.json")
                .map_err(|e2| format!("{e}\n{e2}"))
        })
        .unwrap();
    verified_with(
        verify(f.to_str().unwrap(), &keys),
        "the real absence",
        &["No inquiry from us/fbi to ru/fsb"],
    );
    let bundle = std::fs::read_to_string(&f).unwrap();
    for (k, bad) in each_leaf_dropped(&bundle, "/run")
        .into_iter()
        .chain(each_leaf_dropped(&bundle, "/log/key_history"))
        .enumerate()
    {
        refused_with(
            verify_bundle(&t.us, &format!("absence-dropped-{k}.json"), &bad, &keys),
            "an absence bundle with a disclosed entry dropped",
            &["do not make up its committed chain"],
        );
    }

    // What it discloses.
    let v: Value = serde_json::from_str(&bundle).unwrap();
    let channel = window(since, until).key();
    let mut disclosed = vec![];
    for run in [&v["run"], &v["log"]["key_history"]] {
        for l in run["leaves"].as_array().unwrap() {
            let leaf = b64::decode(l["leaf"].as_str().unwrap()).unwrap();
            let e = SignedEntry::from_leaf(&leaf).unwrap();
            let ks = index::keys_of(&e);
            assert!(
                ks.contains(&channel) || ks.contains(&key_history_key("us")),
                "entry {} of another channel is in the bundle: {ks:?}",
                l["index"]
            );
            disclosed.push(l["index"].as_u64().unwrap());
        }
    }
    assert!(disclosed.contains(&t.inquiry), "{disclosed:?}");
    // The log holds other channels' traffic; none of it is there.
    let us_log = log_json(t.us.d());
    let others: Vec<&Value> = us_log
        .iter()
        .filter(|l| {
            let e =
                SignedEntry::from_leaf(&b64::decode(l["leaf"].as_str().unwrap()).unwrap()).unwrap();
            let ks = index::keys_of(&e);
            !ks.contains(&channel) && !ks.contains(&key_history_key("us"))
        })
        .collect();
    assert!(
        others.iter().any(|l| l["index"] == t.message),
        "the message is not among us's other channels"
    );
    assert!(others.len() >= 2, "{} other entries only", others.len());
    for l in &others {
        let leaf = l["leaf"].as_str().unwrap();
        assert!(!bundle.contains(leaf), "us:{} is in the bundle", l["index"]);
        assert!(!disclosed.contains(&l["index"].as_u64().unwrap()));
    }
    // Nor any header of ru's log, nor anything of the message.
    for l in log_json(t.ru.d()) {
        assert!(
            !bundle.contains(l["leaf"].as_str().unwrap()),
            "ru:{} is in the bundle",
            l["index"]
        );
    }
    for word in [
        "\"message\"",
        "\"receipt\"",
        "\"agreement\"",
        "Meeting moved",
    ] {
        assert!(!bundle.contains(word), "{word} is in the bundle");
    }
    // The only checkpoint is us's: one log part.
    assert_eq!(
        bundle.matches("hotline/ru\n").count(),
        0,
        "ru's log is in the bundle"
    );
}

/// Attack (b) where a neutral witness would matter: nato mirrors and
/// cosigns both logs, and a reader pins it. Hostile ru cannot have nato
/// cosign us's older tree after the window (only us asks nato to cosign
/// us's log: 403, nato unchanged), and with nato pinned, ru's own late
/// cosignature of that tree still closes no window; us's current tree,
/// which nato did cosign, holds the inquiry.
#[test]
fn attack_b_a_neutral_witness_does_not_cosign_the_older_tree_for_the_receiver() {
    let (us, ru, nato, _a, b, c, _agreement) = stage_with_witness();
    settled(&us, &ru);
    let size_before = log_json(us.d()).len() as u64;
    let old = checkpoint_held(&ru, "hotline/us", size_before)
        .unwrap_or_else(|| panic!("ru holds no checkpoint of us at size {size_before}"));
    let since = now_floor();
    sleep_past(since + SignedDuration::from_millis(1200));
    let (_, inquiry) = inquire(&us, "REvil intrusion");
    receipted(&ru, "us", inquiry);
    settled(&us, &ru);
    settle_between(&us, &nato);
    let until = Timestamp::from_second(Timestamp::now().as_second() + 1).unwrap();
    sleep_past(until);
    let keys = pinned_keys(&[&us, &ru, &nato]);

    b.kill9();
    let ru = Hostile::take_over(ru);
    let nato_state = witness_state(&nato, "hotline/us");
    let nato_before = Snapshot::of(&nato, &["us"]);
    let body = format!("old {size_before}\n\n{}", without_cosignatures(&old));
    let (s, t) = ru.post(
        Target::new(&nato, &c),
        "/fed/v1/witness/add-checkpoint",
        "text/plain",
        body.as_bytes(),
    );
    assert_eq!(s, 403, "{t}");
    assert!(
        t.contains(
            "ru asks for a cosignature of hotline/us, which is us's log: only us asks this witness to cosign it"
        ),
        "{t}"
    );
    assert_eq!(witness_state(&nato, "hotline/us"), nato_state);
    nato_before.unchanged(&nato, "ru asking nato to cosign us's old tree");

    let us_leaves = mirrored(&ru.party, "us");
    let late = unix(until) + 60;
    let claim = window(since, until);
    let cp = with_cosignatures(&old, &[(&ru.witness_key, late)]);
    let run = keyed_run(&us_leaves, size_before, &claim.key(), 0);
    refused_with(
        verify_bundle(
            &ru.party,
            "attack-b-nato.json",
            &absence_bundle(&claim, &log_part("us", &us_leaves, &cp), &run),
            &keys,
        ),
        "an absence closed by ru's late cosignature, nato pinned",
        &["ru's cosignature alone never covers it"],
    );
    // The tree nato cosigned after the window is us's whole log, with the
    // inquiry: `prove absence` refuses on either honest node.
    let f = beside(&us, "absence-nato.json");
    let (s, u) = (since.to_string(), until.to_string());
    let e = fails(&absence_args(nato.d(), &s, &u, f.to_str().unwrap()));
    assert!(
        e.contains(&format!("us:{inquiry}")),
        "prove absence on nato: {e}"
    );
    assert!(!f.exists());
}
