//! Issue 11, attacks (c), (d) and (e) against real nodes: deadlines.
//!
//! us/fbi and ru/fsb run real nodes under an agreement with deadlines of
//! seconds, so a test can pass them. A party gone hostile leaves the timely
//! acknowledgement out of an answered bundle (c), writes an answer after
//! its deadline dated inside it (d), or dates its inquiries before it wrote
//! them (e). `hotline verify`, a real process with the keys a reader pins,
//! refuses the incomplete bundle and prints of the others only what each
//! side's own signatures show; the honest node holds only what it would
//! have held anyway.

use hotline_proto::bundle::TlogProof;
use hotline_proto::claims::answered::{AgreementProofs, answered_bundle};
use hotline_proto::entry::Kind;
use hotline_proto::index;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use super::attack_claims::{
    beside, each_leaf_dropped, inquire, mirrored, receipted, refused_with, unix, verified_with,
};
use super::federation::{federated, log_json_peer, settled, trio};
use super::hostile::*;
use super::util::*;

/// us and ru running, federated, under an agreement us/fbi ↔ ru/fsb with
/// these deadlines (`"5s"`), mirrored and cosigned both ways.
fn staged(ack: &str, answer: &str) -> (Party, Party, Served, Served, String) {
    let (us, ru, a, b) = federated();
    let terms = beside(&us, "terms.toml");
    std::fs::write(
        &terms,
        format!(
            r#"title = "Test channel"
start = "2021-06-01T00:00:00Z"
notice = "1d"
ack_within = "{ack}"
answer_within = "{answer}"

[[channel]]
offices = ["us/fbi", "ru/fsb"]
kinds = ["message", "inquiry", "ack", "answer"]
"#
        ),
    )
    .unwrap();
    let id = agree(&us, &ru, terms.to_str().unwrap());
    settled(&us, &ru);
    (us, ru, a, b, id)
}

/// `hotline ack ID` on ru's node; the ack's index in ru's log.
fn ack(ru: &Party, id: &str) -> u64 {
    index_of(&json(&ok(&["ack", id, "--dir", ru.d(), "--json"])))
}

/// ru acks and answers inquiry `id`, us holds the receipts of both, and
/// both logs are settled; the ack's and the answer's indexes in ru's log.
fn ack_and_answer(us: &Party, ru: &Party, id: &str) -> (u64, u64) {
    let k = ack(ru, id);
    let n = answer(ru, id);
    receipted(us, "ru", k);
    receipted(us, "ru", n);
    settled(us, ru);
    (k, n)
}

/// `hotline answer ID` on ru's node; the answer's index in ru's log.
fn answer(ru: &Party, id: &str) -> u64 {
    let body = beside(ru, "answer.txt");
    std::fs::write(&body, "First findings attached.").unwrap();
    index_of(&json(&ok(&[
        "answer",
        id,
        "--dir",
        ru.d(),
        "--body-file",
        body.to_str().unwrap(),
        "--json",
    ])))
}

/// us inquires, ru acknowledges, each receipts the other's entry and both
/// are settled: the inquiry's id, its index in us's log and the ack's in ru's.
fn inquired_and_acked(us: &Party, ru: &Party) -> (String, u64, u64) {
    let (id, i) = inquire(us, "REvil intrusion");
    receipted(ru, "us", i);
    let k = ack(ru, &id);
    receipted(us, "ru", k);
    settled(us, ru);
    (id, i, k)
}

/// Hostile ru appends an answer to us's inquiry `us:i` under `agreement`,
/// dated `at` whatever its clock says; the answer's index in ru's log
/// (appended, not pushed).
fn answer_dated(ru: &mut Hostile, us: &Party, i: u64, agreement: &str, at: Timestamp) -> u64 {
    let inquiry_leaf = mirrored(&ru.party, "us")[i as usize].clone();
    let (sealed, body) = ru.seal(
        "ru/fsb",
        &office_of(us, "us/fbi"),
        "First findings attached.",
        "First findings attached.",
    );
    let mut h = ru.header(Kind::Answer, "ru/fsb", Some("us/fbi"), &at.to_string());
    h.agreement = Some(agreement.to_owned());
    h.refs = vec![Hostile::reference("us", i, &inquiry_leaf)];
    h.body = Some(body);
    let e = ru.sign(h);
    ru.append(&e, Some(sealed))
}

/// Hostile us appends an inquiry `text` to ru/fsb under `agreement`, dated
/// `at` whatever its clock says; its index in us's log (appended, not pushed).
fn inquiry_dated(us: &mut Hostile, ru: &Party, agreement: &str, at: Timestamp, text: &str) -> u64 {
    let (sealed, body) = us.seal("us/fbi", &office_of(ru, "ru/fsb"), text, text);
    let mut h = us.header(Kind::Inquiry, "us/fbi", Some("ru/fsb"), &at.to_string());
    h.agreement = Some(agreement.to_owned());
    h.body = Some(body);
    let e = us.sign(h);
    us.append(&e, Some(sealed))
}

/// The index of `ru:N` in an answer of `ack`/`answer --json`.
fn index_of(out: &Value) -> u64 {
    if let Some(i) = out["index"].as_u64() {
        return i;
    }
    let id = out["id"].as_str().unwrap_or_else(|| panic!("{out}"));
    id.rsplit_once(':').unwrap().1.parse().unwrap()
}

/// `hotline prove answered ID` on `p`'s node; the bundle's text.
fn prove_answered(p: &Party, id: &str, name: &str) -> String {
    let f = beside(p, name);
    ok(&[
        "prove",
        "answered",
        id,
        "--dir",
        p.d(),
        "-o",
        f.to_str().unwrap(),
    ]);
    std::fs::read_to_string(f).unwrap()
}

/// The time an entry of `p`'s log (as `hotline log --json` shows it) is dated.
fn dated(p: &Party, index: u64) -> Timestamp {
    log_json(p.d())[index as usize]["header"]["time"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Attack (c): us, the sender, wants "not acknowledged within". It takes
/// the answered bundle its node wrote and leaves out ru's timely
/// acknowledgement (or us's own receipt of it, or hides the replies behind
/// a base): each is refused, since the replies are complete by ru's index.
/// Built from the formats over ru's tree from before the ack (complete
/// there), the bundle verifies, but says only that it is not settled.
#[test]
fn attack_c_an_answered_bundle_without_the_timely_ack_is_refused() {
    let (us, ru, a, _b, _agreement) = staged("20s", "40s");
    let (id, i) = inquire(&us, "REvil intrusion");
    let receipt = receipted(&ru, "us", i);
    let ru_before_ack = log_json(ru.d()).len() as u64;
    let (k, n) = ack_and_answer(&us, &ru, &id);
    let keys = pinned_keys(&[&us, &ru]);
    let honest = prove_answered(&us, &id, "answered-honest.json");
    let out = verified_with(
        verify_bundle(&us, "answered-honest-check.json", &honest, &keys),
        "the honest answered bundle",
        &[
            &format!("It was acknowledged within the agreed 20s, on us's observation: ru:{k}"),
            &format!("It was answered within the agreed 40s, on us's observation: ru:{n}"),
        ],
    );
    assert!(!out.contains("not within"), "{out}");

    // us goes hostile, with the bundle and ru's log as its mirror holds it.
    let ru_before = Snapshot::of(&ru, &["us"]);
    a.kill9();
    let us = Hostile::take_over(us);
    let v: Value = serde_json::from_str(&honest).unwrap();
    let replies = v["replies"]["leaves"].as_array().unwrap();
    assert_eq!(
        replies
            .iter()
            .map(|l| l["index"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        vec![receipt, k, n],
        "the replies to {id}: ru's receipt, ack and answer"
    );
    for bad in each_leaf_dropped(&honest, "/replies") {
        refused_with(
            verify_bundle(&us.party, "attack-c-replies.json", &bad, &keys),
            "the answered bundle with a reply left out",
            &[
                &format!("replies to {id}"),
                "do not make up its committed chain",
            ],
        );
    }
    let runs = v["receipts"].as_array().unwrap().len();
    assert_eq!(runs, 2, "one receipts run per reply");
    for r in 0..runs {
        for bad in each_leaf_dropped(&honest, &format!("/receipts/{r}")) {
            refused_with(
                verify_bundle(&us.party, "attack-c-receipts.json", &bad, &keys),
                "the answered bundle with a receipt of us left out",
                &["committed chain"],
            );
        }
    }
    let mut based = v.clone();
    based["replies"]["base"] = v["replies"]["state"].clone();
    based["replies"]["leaves"] = Value::Array(vec![]);
    refused_with(
        verify_bundle(&us.party, "attack-c-base.json", &based.to_string(), &keys),
        "the replies hidden behind a base",
        &["must disclose every entry of the key"],
    );
    // A receipts run dropped whole is refused too: what us observed is
    // complete, or "us shows no receipt of it" could rest on an omission.
    let mut fewer = v.clone();
    fewer["receipts"].as_array_mut().unwrap().remove(0);
    refused_with(
        verify_bundle(&us.party, "attack-c-fewer.json", &fewer.to_string(), &keys),
        "the answered bundle without the receipts of the ack",
        &["is left out", "one for every ack and answer"],
    );

    // ru's tree before the ack, as us's mirror kept ru's checkpoint of it:
    // the replies run is complete there (the receipt alone).
    let ru_leaves = mirrored(&us.party, "ru");
    let old = checkpoint_held(&us.party, "hotline/ru", ru_before_ack)
        .unwrap_or_else(|| panic!("us holds no checkpoint of ru at size {ru_before_ack}"));
    let us_cp = v["sender"]["checkpoint"].as_str().unwrap();
    let proof = |field: &str| TlogProof::parse(v[field].as_str().unwrap(), "proof").unwrap();
    let signature = entry_proof(&ru_leaves, proof("agreement_signature").index, &old);
    let bundle = answered_bundle(
        &log_part(&us.name, &us.leaves, us_cp),
        &log_part("ru", &ru_leaves, &old),
        &proof("inquiry"),
        &AgreementProofs {
            proposal: proof("agreement"),
            signature,
        },
        &keyed_run(&ru_leaves, ru_before_ack, &index::ref_key("us", i), 0),
        &[],
        &[],
    );
    let out = verified_with(
        verify_bundle(&us.party, "attack-c-old.json", &bundle, &keys),
        "the answered bundle over ru's tree before the ack",
        &["Whether it was acknowledged within the agreed 20s is not settled"],
    );
    assert!(!out.contains("not acknowledged within"), "{out}");
    assert!(!out.contains("It was acknowledged within"), "{out}");
    ru_before.unchanged(&ru, "attack (c)");
}

/// Completeness of a real "not within": ru acknowledges and answers after
/// both deadlines. us's node proves it on ru's own signatures; dropping any
/// one disclosed reply or receipt, or any key entry, makes `verify` refuse
/// the bundle.
#[test]
fn a_real_not_within_is_complete() {
    let (us, ru, _a, _b, _agreement) = staged("2s", "4s");
    let (id, i) = inquire(&us, "REvil intrusion");
    let receipt = receipted(&ru, "us", i);
    sleep_past(dated(&ru, receipt) + SignedDuration::from_secs(5));
    ack_and_answer(&us, &ru, &id);
    let keys = pinned_keys(&[&us, &ru]);
    let b = prove_answered(&us, &id, "answered-late.json");
    verified_with(
        verify_bundle(&us, "answered-late-check.json", &b, &keys),
        "the late answered bundle",
        &[
            &format!(
                "It was not acknowledged within the agreed 2s, on ru's own signatures: ru receipted it at {}",
                dated(&ru, receipt)
            ),
            "It was not answered within the agreed 4s, on ru's own signatures",
        ],
    );
    let v: Value = serde_json::from_str(&b).unwrap();
    let mut bad = each_leaf_dropped(&b, "/replies");
    for r in 0..v["receipts"].as_array().unwrap().len() {
        bad.extend(each_leaf_dropped(&b, &format!("/receipts/{r}")));
    }
    bad.extend(each_leaf_dropped(&b, "/sender/key_history"));
    bad.extend(each_leaf_dropped(&b, "/receiver/key_history"));
    for (j, x) in bad.iter().enumerate() {
        refused_with(
            verify_bundle(&us, &format!("answered-late-{j}.json"), x, &keys),
            "a not-within bundle with a disclosed entry dropped",
            &["do not make up its committed chain"],
        );
    }
}

/// Attack (d): ru acknowledged in time, then went hostile. After the answer
/// deadline has passed it writes the answer dated inside it — later than
/// its ack and within us's allowed clock skew of what us cosigned, so us's
/// honest mirror accepts it and receipts it, at its own time. The answered
/// bundle us's node writes verifies but never says "answered within": us's
/// signatures show the answer only after the deadline, ru's only its own
/// dating. ru's own witness cosigning its tree inside the deadline, put on
/// that bundle, changes nothing.
#[test]
fn attack_d_a_late_answer_dated_inside_its_deadline_is_not_within() {
    let (us, ru, a, b, agreement) = staged("4s", "8s");
    let (id, i, k) = inquired_and_acked(&us, &ru);
    let written = dated(&us, i);
    let deadline = written + SignedDuration::from_secs(8);
    let inside = deadline - SignedDuration::from_secs(2);
    assert!(
        inside > dated(&ru, k),
        "the ack came too late for this test"
    );

    b.kill9();
    let mut ru = Hostile::take_over(ru);
    sleep_past(deadline + SignedDuration::from_secs(2));
    let us_before = Snapshot::of(&us, &["ru"]);
    let n = answer_dated(&mut ru, &us, i, &agreement, inside);
    let (s, t) = ru.push(Target::new(&us, &a), n);
    assert_eq!(s, 200, "us refused the late answer: {t}");
    let r = receipted(&us, "ru", n);
    // us's node took the answer and receipted it, at its own time; nothing else.
    let added = us_before.own.len();
    let now = log_json(us.d());
    assert_eq!(
        now[..added],
        us_before.own[..],
        "us's log changed what it held"
    );
    assert_eq!(
        now.len(),
        added + 1,
        "one receipt, nothing else: {:?}",
        &now[added..]
    );
    assert_eq!(now[added]["index"].as_u64(), Some(r));
    let seen_at = dated(&us, r);
    assert!(
        seen_at > deadline,
        "us receipted it at {seen_at}, before {deadline}"
    );
    let mirror = log_json_peer(us.d(), "ru");
    assert_eq!(mirror.len(), us_before.mirrors["ru"].len() + 1);
    assert_eq!(
        mirror[..us_before.mirrors["ru"].len()],
        us_before.mirrors["ru"][..]
    );

    let keys = pinned_keys(&[&us, &ru.party]);
    let bundle = prove_answered(&us, &id, "answered-d.json");
    let says = [
        "Whether it was answered within the agreed 8s is not settled by either side's signatures",
        &format!("us's signatures show ru:{n} only at {seen_at}"),
        &format!("ru dated ru:{n} {inside} by its own clock"),
    ];
    let out = verified_with(
        verify_bundle(&us, "answered-d-check.json", &bundle, &keys),
        "the answered bundle of the late answer",
        &says,
    );
    assert!(!out.contains("It was answered within"), "{out}");
    assert!(
        out.contains(&format!(
            "It was acknowledged within the agreed 4s, on us's observation: ru:{k}"
        )),
        "{out}"
    );

    // ru's own witness cosigns its tree holding the answer, inside the
    // deadline (after the answer's own date: consistent), first.
    let mut v: Value = serde_json::from_str(&bundle).unwrap();
    let cp = v["receiver"]["checkpoint"].as_str().unwrap().to_owned();
    let own = unix(inside) + 1;
    v["receiver"]["checkpoint"] = with_cosignatures_first(&cp, &[(&ru.witness_key, own)]).into();
    let out = verified_with(
        verify_bundle(&ru.party, "attack-d-own.json", &v.to_string(), &keys),
        "the bundle with ru's own witness inside the deadline",
        &says,
    );
    assert!(!out.contains("It was answered within"), "{out}");
}

/// Attack (e): us, gone hostile, writes an inquiry dated as early as ru's
/// mirror accepts (its previous entry's date, before what ru last
/// cosigned), well after that date. By us's date the acknowledgement
/// deadline had passed before ru received it; ru acknowledges within the
/// limit of its own receipt. The answered bundle ru's node writes — and
/// every complete bundle holds the same entries — does not count it
/// missed: ru's deadline runs from ru's receipt. A second one, acknowledged
/// late by ru's own clock, is missed, counted from ru's receipt. (A stats
/// bundle cannot show this on real nodes: a month must be over, and no
/// receiver accepts entries dated that far back.)
#[test]
fn attack_e_an_inquiry_dated_before_it_was_written_does_not_blame_the_receiver() {
    let (us, ru, a, b, agreement) = staged("5s", "1h");
    a.kill9();
    let mut us = Hostile::take_over(us);
    let last = us.entry(us.size() - 1).header().time;
    sleep_past(last + SignedDuration::from_secs(8));
    let ru_before = Snapshot::of(&ru, &["us"]);
    let i = inquiry_dated(
        &mut us,
        &ru,
        &agreement,
        last,
        "Ransomware hit a hospital; indicators attached.",
    );
    let (s, t) = us.push(Target::new(&ru, &b), i);
    assert_eq!(s, 200, "ru refused the backdated inquiry: {t}");
    let receipt = receipted(&ru, "us", i);
    let received = dated(&ru, receipt);
    assert!(
        received > last + SignedDuration::from_secs(5),
        "ru received it at {received}, within 5s of its date {last}"
    );
    let id = format!("us:{i}");
    let k = ack(&ru, &id);
    let acked = dated(&ru, k);
    assert!(
        acked <= received + SignedDuration::from_secs(5),
        "ru acked at {acked}"
    );
    // ru's node took the inquiry and wrote its receipt and its ack; its
    // mirror holds the inquiry; nothing else changed.
    let now = log_json(ru.d());
    let held = ru_before.own.len();
    assert_eq!(
        now[..held],
        ru_before.own[..],
        "ru's log changed what it held"
    );
    let added: Vec<u64> = now[held..]
        .iter()
        .map(|l| l["index"].as_u64().unwrap())
        .collect();
    assert_eq!(
        added,
        vec![receipt, k],
        "ru wrote more than its receipt and ack"
    );
    let mirror = log_json_peer(ru.d(), "us");
    let had = ru_before.mirrors["us"].len();
    assert_eq!(mirror[..had], ru_before.mirrors["us"][..]);
    assert_eq!(mirror.len(), had + 1, "ru mirrored more than the inquiry");

    let keys = pinned_keys(&[&us.party, &ru]);
    let bundle = prove_answered(&ru, &id, "answered-e.json");
    let out = verified_with(
        verify_bundle(&ru, "answered-e-check.json", &bundle, &keys),
        "the answered bundle of the backdated inquiry",
        &[
            &format!("ru receipted it as delivered in ru:{receipt} dated {received} (ru's clock)"),
            &format!(
                "ru dated ru:{k} {acked} by its own clock, within 5s of its receipt of the inquiry ({received})"
            ),
        ],
    );
    assert!(!out.contains("not acknowledged within"), "{out}");
    assert!(!out.contains("It was acknowledged within"), "{out}");
    assert!(
        out.contains("Whether it was acknowledged within the agreed 5s is not settled"),
        "{out}"
    );
    // The same with us's own witness cosigning ru's tree late (us's word
    // about ru's log adds nothing against ru): still not missed.
    let mut v: Value = serde_json::from_str(&bundle).unwrap();
    let cp = v["receiver"]["checkpoint"].as_str().unwrap().to_owned();
    v["receiver"]["checkpoint"] =
        with_cosignatures_first(&cp, &[(&us.witness_key, unix(now_floor()) + 60)]).into();
    let out = verify_bundle(&us.party, "attack-e-cosigned.json", &v.to_string(), &keys)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!out.contains("not acknowledged within"), "{out}");

    // A second inquiry dated the same way, which ru acknowledges only after
    // 5s of its receipt: that is a miss, on ru's own signatures — and it is
    // counted from ru's receipt, not from us's date.
    let j = inquiry_dated(&mut us, &ru, &agreement, last, "A second incident.");
    let (s, t) = us.push(Target::new(&ru, &b), j);
    assert_eq!(s, 200, "ru refused the second backdated inquiry: {t}");
    let receipt = receipted(&ru, "us", j);
    let received = dated(&ru, receipt);
    sleep_past(received + SignedDuration::from_secs(6));
    let id = format!("us:{j}");
    let k = ack(&ru, &id);
    let bundle = prove_answered(&ru, &id, "answered-e-late.json");
    verified_with(
        verify_bundle(&ru, "answered-e-late-check.json", &bundle, &keys),
        "the answered bundle of the late-acknowledged backdated inquiry",
        &[
            &format!(
                "It was not acknowledged within the agreed 5s, on ru's own signatures: ru receipted it at {received}, its own signed state reaches {}",
                received + SignedDuration::from_secs(5)
            ),
            &format!("(first: ru:{k}, dated {} by ru)", dated(&ru, k)),
        ],
    );
}

/// Completeness of a real stats bundle. Real nodes date their entries now,
/// so the last finished month holds none of the channel's inquiries; its
/// bundle still discloses the channel's inquiries after the month (this
/// month's, which show the month held no more) and both key histories.
/// Dropping any one of them makes `verify` refuse the bundle.
#[test]
fn a_real_stats_bundle_is_complete() {
    let (us, ru, _a, _b, _agreement) = staged("5s", "1h");
    let (_, i, _) = inquired_and_acked(&us, &ru);
    let keys = pinned_keys(&[&us, &ru]);
    let month = previous_month();
    for p in [&us, &ru] {
        let f = beside(p, "stats.json");
        ok(&stats_args(p.d(), &month, f.to_str().unwrap()));
        let b = std::fs::read_to_string(&f).unwrap();
        verified_with(
            verify(f.to_str().unwrap(), &keys),
            "the real stats bundle",
            &[
                &format!("Channel us/fbi → ru/fsb, {month} (UTC, by us's clock)"),
                "0 inquiries sent",
            ],
        );
        let v: Value = serde_json::from_str(&b).unwrap();
        let disclosed: Vec<u64> = v["inquiries"]["leaves"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["index"].as_u64().unwrap())
            .collect();
        assert_eq!(
            disclosed,
            vec![i],
            "the channel's inquiries after the month"
        );
        let mut bad = each_leaf_dropped(&b, "/inquiries");
        bad.extend(each_leaf_dropped(&b, "/sender/key_history"));
        bad.extend(each_leaf_dropped(&b, "/receiver/key_history"));
        for (j, x) in bad.iter().enumerate() {
            refused_with(
                verify_bundle(p, &format!("stats-dropped-{j}.json"), x, &keys),
                "a stats bundle with a disclosed entry dropped",
                &["do not make up its committed chain"],
            );
        }
    }
}

/// Attack (d) with a neutral witness: nato mirrors and cosigns both logs.
/// Hostile ru pushes its late answer, dated inside the deadline, to us and
/// to nato, and has nato cosign its tree holding it; nato does so at its
/// own time, after the deadline. With nato pinned, the bundle shows what
/// nato saw and when — still not "answered within".
#[test]
fn attack_d_a_neutral_witness_shows_the_late_answer_only_after_its_deadline() {
    let (us, ru, nato, a, b, c) = trio();
    let terms = beside(&us, "terms.toml");
    std::fs::write(
        &terms,
        "title = \"Test channel\"\nstart = \"2021-06-01T00:00:00Z\"\nnotice = \"1d\"\n\
         ack_within = \"4s\"\nanswer_within = \"8s\"\n\n[[channel]]\n\
         offices = [\"us/fbi\", \"ru/fsb\"]\nkinds = [\"message\", \"inquiry\", \"ack\", \"answer\"]\n",
    )
    .unwrap();
    let agreement = agree(&us, &ru, terms.to_str().unwrap());
    settle_between(&us, &ru);
    settle_between(&us, &nato);
    settle_between(&ru, &nato);
    let (id, i) = inquire(&us, "REvil intrusion");
    receipted(&ru, "us", i);
    let deadline = dated(&us, i) + SignedDuration::from_secs(8);
    let inside = deadline - SignedDuration::from_secs(2);
    settle_between(&us, &ru);
    settle_between(&ru, &nato);

    b.kill9();
    let mut ru = Hostile::take_over(ru);
    sleep_past(deadline + SignedDuration::from_secs(2));
    let n = answer_dated(&mut ru, &us, i, &agreement, inside);
    let nato_before = Snapshot::of(&nato, &["us", "ru"]);
    // A third witness takes headers only. nato first: its cosignature is
    // then the sender side's first sight of the answer.
    let header_only = push_leaves(
        &ru.origin(),
        &ru.checkpoint(ru.size()),
        n,
        &[ru.leaves[n as usize].clone()],
    );
    let (s, t) = ru.post(
        Target::new(&nato, &c),
        "/fed/v1/push",
        "application/json",
        &header_only,
    );
    assert_eq!(s, 200, "nato refused the late answer's header: {t}");
    let size = ru.size();
    let old = witness_state(&nato, "hotline/ru").map_or(0, |(s, _)| s);
    let (s, line) = ru.add_checkpoint(Target::new(&nato, &c), old, size);
    assert_eq!(s, 200, "nato did not cosign ru's tree: {line}");
    let (s, t) = ru.push(Target::new(&us, &a), n);
    assert_eq!(s, 200, "us refused the late answer: {t}");
    let r = receipted(&us, "ru", n);
    // nato took the answer's header into its mirror of ru, and wrote
    // nothing (us's receipt of it reaches nato's mirror of us, honestly).
    let now = Snapshot::of(&nato, &["ru"]);
    assert_eq!(now.own, nato_before.own, "nato's own log changed");
    let had = nato_before.mirrors["ru"].len();
    assert_eq!(now.mirrors["ru"][..had], nato_before.mirrors["ru"][..]);
    assert_eq!(now.mirrors["ru"].len(), had + 1);
    let (_, cosigned) = witness_state(&nato, "hotline/ru").unwrap();
    assert!(
        cosigned > deadline.as_second(),
        "nato cosigned at {cosigned}, not after the deadline {deadline}"
    );

    let keys = pinned_keys(&[&us, &ru.party, &nato]);
    let bundle = prove_answered(&us, &id, "answered-d-nato.json");
    let mut v: Value = serde_json::from_str(&bundle).unwrap();
    let cp = v["receiver"]["checkpoint"].as_str().unwrap().to_owned();
    let (_, at, _) = hotline_proto::checkpoint::peek(cp.as_bytes()).unwrap();
    assert_eq!(at, size, "us's bundle is over ru's tree nato cosigned");
    let line = if line.ends_with('\n') {
        line
    } else {
        format!("{line}\n")
    };
    v["receiver"]["checkpoint"] = format!("{cp}{line}").into();
    let seen_at = dated(&us, r);
    let out = verified_with(
        verify_bundle(&us, "answered-d-nato-check.json", &v.to_string(), &keys),
        "the answered bundle with nato's cosignature of ru's tree",
        &[
            "Whether it was answered within the agreed 8s is not settled by either side's signatures",
            &format!("ru dated ru:{n} {inside} by its own clock"),
        ],
    );
    assert!(!out.contains("It was answered within"), "{out}");
    // The earliest observation on the sender's side is nato's, after the
    // deadline; us's own receipt came later still.
    let nato_at = Timestamp::from_second(cosigned).unwrap();
    assert!(nato_at <= seen_at, "{out}");
    assert!(
        out.contains(&format!(
            "only at {nato_at} (nato's witness (hotline/nato/witness) at {nato_at} cosigned ru's tree of size {size} holding it), after {deadline}, the deadline on us's clock"
        )),
        "{out}"
    );
}
