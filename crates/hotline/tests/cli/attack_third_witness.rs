//! A third witness sees headers, not content: nato, pinned by us and by ru,
//! mirrors, verifies and cosigns both logs without ever holding a sealed
//! body of their traffic; the addressee still gets and opens every body.
//! And a body pushed to a witness for an entry addressed to someone else is
//! refused, with nothing stored.

use hotline_proto::checkpoint;
use hotline_proto::entry::Kind;
use hotline_proto::keys::{NoteVerifier, OfficeKeys, os_rng};
use hotline_proto::party::Office;

use super::federation::log_json_peer;
use super::hostile::*;
use super::util::*;

/// Whether `log`'s latest checkpoint covers `size` entries and carries a
/// cosignature by `witness`'s cosigner key.
fn cosigned_by(log: &Party, witness: &Party, size: u64) -> bool {
    let note = ok(&["checkpoint", "--dir", log.d()]);
    let wit =
        NoteVerifier::from_vkey(ok(&["key", "--witness", "--dir", witness.d()]).trim()).unwrap();
    let v = checkpoint::verify(
        note.as_bytes(),
        &NoteVerifier::from_vkey(&log.vkey()).unwrap(),
        &[wit],
    )
    .unwrap();
    v.size >= size && v.cosignatures.len() == 1
}

#[test]
fn a_third_witness_mirrors_and_cosigns_both_logs_without_their_content() {
    let (us, ru, nato, _a, _b, _c, _agreement) = stage_with_witness();
    let sent = send(&us, "us/fbi", "ru/fsb", "for ru only");
    let back = send(&ru, "ru/fsb", "us/fbi", "for us only");

    // Each addressee got the body: it receipted the entry as delivered.
    let r = receipt_for(&ru, "us", sent);
    assert_eq!(r["header"]["status"], "delivered", "{r}");
    let r = receipt_for(&us, "ru", back);
    assert_eq!(r["header"]["status"], "delivered", "{r}");
    assert!(bodies(&ru, "hotline/us").contains(&sent));
    assert!(bodies(&us, "hotline/ru").contains(&back));

    // nato holds both entries, leaf for leaf, and cosigns both logs over them.
    for (log, name, index) in [(&us, "us", sent), (&ru, "ru", back)] {
        wait_until(30, "nato mirroring and cosigning the entry", || {
            log_json_peer(nato.d(), name).len() as u64 > index && cosigned_by(log, &nato, index + 1)
        });
        let own = log_json(log.d());
        let mirrored = log_json_peer(nato.d(), name);
        assert_eq!(
            mirrored[index as usize]["leaf"],
            own[index as usize]["leaf"]
        );
        assert!(
            mirrored[index as usize]["header"]["body"]["commitment"].is_string(),
            "the header nato holds commits to the content: {}",
            mirrored[index as usize]
        );
    }
    // …but not one sealed body of either log.
    assert_eq!(bodies(&nato, "hotline/us"), Vec::<u64>::new());
    assert_eq!(bodies(&nato, "hotline/ru"), Vec::<u64>::new());

    // The addressee opens the entry for a third party from its mirror;
    // nato has nothing to open.
    let opening = ru.dir.join("../opening.json");
    let opening = opening.to_str().unwrap();
    let id = format!("us:{sent}");
    ok(&["open", &id, "--dir", ru.d(), "-o", opening]);
    let out = ok(&["verify", opening, "--key", &us.vkey()]);
    assert!(out.contains("text \"for ru only\""), "{out}");
    let err = fails(&["open", &id, "--dir", nato.d()]);
    assert!(
        err.contains(&format!("{id} has no sealed body held here")),
        "{err}"
    );
}

/// us, gone hostile, pushes nato the sealed body of a message it addressed
/// to ru: refused, nothing stored. The same leaf alone is accepted (the
/// refusal is about the body, not the entry), and a message addressed to
/// nato itself still needs its body.
#[test]
fn a_body_pushed_to_a_witness_for_an_entry_addressed_to_another_party_is_refused() {
    let (us, ru, nato, a, _b, c, agreement) = stage_with_witness();
    a.kill9();
    let mut us = Hostile::take_over(us);
    let victim = Target::new(&nato, &c);
    let now = jiff::Timestamp::now().to_string();
    let i = us.message(&ru, Msg::fbi_to_fsb(&agreement, &now, "for ru only"));
    let before = Snapshot::of(&nato, &["us", "ru"]);
    let (s, t) = us.push(victim, i);
    assert_eq!(s, 422, "{t}");
    assert!(
        t.contains(&format!(
            "entry {i}: a sealed body came for an entry addressed to ru/fsb, not to an office of nato; a body goes only to the party it is addressed to (push the leaf alone)"
        )),
        "{t}"
    );
    before.unchanged(&nato, "a body pushed to a third witness");
    assert_eq!(bodies(&nato, "hotline/us"), Vec::<u64>::new());

    // The leaf alone: mirrored, and nato owes no receipt for it.
    let leaf_alone = push_leaves(
        &us.origin(),
        &us.checkpoint(i + 1),
        i,
        &[us.leaves[i as usize].clone()],
    );
    let (s, t) = us.post(victim, "/fed/v1/push", "application/json", &leaf_alone);
    assert_eq!(s, 200, "{t}");
    let after = Snapshot::of(&nato, &["us", "ru"]);
    assert_eq!(after.mirrors["us"].len(), before.mirrors["us"].len() + 1);
    assert_eq!(after.own, before.own, "nato wrote nothing");
    assert_eq!(bodies(&nato, "hotline/us"), Vec::<u64>::new());

    // A message addressed to an office of nato, pushed without its body.
    let hq = OfficeKeys::generate(Office::new("nato/hq").unwrap(), &mut os_rng()).public();
    let (_, body) = us.seal("us/fbi", &hq, "for nato", "for nato");
    let mut h = us.header(Kind::Message, "us/fbi", Some("nato/hq"), &now);
    h.body = Some(body);
    let e = us.sign(h);
    let j = us.append(&e, None);
    let (s, t) = us.push(victim, j);
    assert_eq!(s, 422, "{t}");
    assert!(
        t.contains(&format!("entry {j}: the sealed body is missing")),
        "{t}"
    );
    after.unchanged(&nato, "an entry addressed to nato without its body");
}
