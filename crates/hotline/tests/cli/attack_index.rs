//! A log that signs a false index: every checkpoint commits (its
//! `hotline-index` line) to the index of the log's entries, from which
//! keyed proofs show "these are all the entries of this channel". A hostile
//! party that signs a checkpoint whose index leaves its latest entry out, or
//! that carries no index at all, has its push refused by the mirror (422,
//! nothing stored), its cosignature request refused by the witness (422),
//! and the evidence kept and raised in `hotline status` like a fork; the
//! honest push of the same entries is then accepted.

use super::hostile::*;
use super::util::*;

/// The status alerts `ru` raises about `us`.
fn alerts(ru: &Party) -> Vec<String> {
    let s: serde_json::Value =
        serde_json::from_str(&ok(&["status", "--dir", ru.d(), "--json"])).unwrap();
    s["peers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["peer"] == "us")
        .unwrap()["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect()
}

fn refused_with_evidence(line: IndexLine, says: &str) {
    let (mut us, ru, b, agreement) = taken_over();
    let victim = Target::new(&ru, &b);
    let held = us.size();
    let now = jiff::Timestamp::now().to_string();
    let i = us.message(&ru, Msg::fbi_to_fsb(&agreement, &now, "left out"));
    let before = Snapshot::of(&ru, &["us"]);
    assert!(
        alerts(&ru).iter().all(|a| !a.starts_with("EQUIVOCATION")),
        "no alert before the attack"
    );

    // The push: refused whole, nothing stored, evidence kept.
    us.index_line = line;
    let (s, t) = us.push(victim, i);
    assert_eq!(s, 422, "{t}");
    assert!(t.contains(says), "{t}");
    assert!(t.contains("nothing of this push was stored"), "{t}");
    assert!(t.contains("evidence kept as #1"), "{t}");
    before.unchanged(&ru, "a push whose checkpoint's index line is bad");
    assert_eq!(
        receipts_held(&ru, "hotline/ru", "us", i),
        0,
        "the refused entry is not receipted"
    );

    // The witness: a checkpoint of what it holds, with the same bad index
    // line, is not cosigned.
    let old = witness_state(&ru, "hotline/us").map_or(0, |(s, _)| s);
    let cosigned = cosignatures_of(&ru, "hotline/us");
    let (s, t) = us.add_checkpoint(victim, old, held);
    assert_eq!(s, 422, "{t}");
    assert!(t.contains(says), "{t}");
    assert!(t.contains("this witness does not cosign it"), "{t}");
    assert_eq!(
        cosignatures_of(&ru, "hotline/us"),
        cosigned,
        "no cosignature given"
    );

    // Raised like a fork: status, the evidence list.
    let a = alerts(&ru);
    let raised: Vec<_> = a
        .iter()
        .filter(|a| {
            a.starts_with("EQUIVOCATION: hotline/us signed a checkpoint whose index is not the index of its entries")
        })
        .collect();
    assert_eq!(
        raised.len(),
        2,
        "one for the push, one for the witness: {a:?}"
    );
    let s: serde_json::Value =
        serde_json::from_str(&ok(&["status", "--dir", ru.d(), "--json"])).unwrap();
    assert_eq!(s["equivocations"], 2, "{s}");
    let listed = ok(&["prove", "equivocation", "--dir", ru.d()]);
    assert!(listed.contains("#1") && listed.contains("#2"), "{listed}");
    let f = ru.dir.join("../index-refused.json");
    ok(&[
        "prove",
        "equivocation",
        "1",
        "--dir",
        ru.d(),
        "-o",
        f.to_str().unwrap(),
    ]);
    let kept: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
    assert_eq!(kept["bundle"], "hotline/index-refused/v1", "{kept}");
    assert_eq!(kept["size"], i + 1, "{kept}");
    assert_eq!(
        kept["checkpoint"].as_str().unwrap(),
        us.checkpoint(i + 1),
        "the checkpoint as signed"
    );
    let right = b64_of(index_root(&us.leaves));
    assert_eq!(kept["recomputed"], right, "the mirror's own root: {kept}");

    // The same entries under an honest checkpoint are accepted.
    us.index_line = IndexLine::Right;
    let (s, t) = us.push(victim, i);
    assert_eq!(s, 200, "{t}");
    let r = receipt_for(&ru, "us", i);
    assert_eq!(r["header"]["status"], "delivered", "{r}");
}

fn b64_of(h: hotline_proto::Hash) -> String {
    hotline_proto::b64::encode(h.0)
}

#[test]
fn a_checkpoint_with_a_wrong_index_is_refused_kept_as_evidence_and_raised() {
    refused_with_evidence(
        IndexLine::Wrong,
        "commits to an index that its entries do not make",
    );
}

#[test]
fn a_checkpoint_without_an_index_is_refused_kept_as_evidence_and_raised() {
    refused_with_evidence(IndexLine::Missing, "has no hotline-index line");
}
