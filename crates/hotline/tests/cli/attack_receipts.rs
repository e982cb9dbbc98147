//! What a receipt copies from the entry it answers must be checked first:
//! a receipt carries the entry's `agreement` id, signed by the receiver. A
//! hostile sender that puts anything else there (64 KB of its own text, a
//! name that is no agreement id) would have the receiver sign it into its
//! log, and a receipt too large to write would stall the receipts owed
//! after it. Such an entry is refused with its push (422), nothing stored.

use jiff::Timestamp;

use super::hostile::*;

#[test]
fn an_entry_whose_agreement_is_not_an_agreement_id_is_refused() {
    let (mut us, ru, b, agreement) = taken_over();
    let victim = Target::new(&ru, &b);
    let before = Snapshot::of(&ru, &["us"]);
    let now = Timestamp::now().to_string();
    let huge = "x".repeat(64_000);
    let overflow = format!("{agreement}99999999999999999999");
    let absurd: [(&str, String); 3] = [
        (
            &huge,
            format!(
                "its agreement \"{}\"… (64000 bytes) is not an agreement id (party:index, as in us:6)",
                "x".repeat(32)
            ),
        ),
        (
            "the cybercrime one",
            "its agreement \"the cybercrime one\" is not an agreement id (party:index, as in us:6)"
                .to_owned(),
        ),
        (
            &overflow,
            format!("its agreement {overflow:?} is not an agreement id (party:index, as in us:6)"),
        ),
    ];
    for (field, why) in &absurd {
        let i = us.message(&ru, Msg::fbi_to_fsb(field, &now, "hello"));
        let (s, body) = us.push(victim, i);
        assert_eq!(s, 422, "{body}");
        assert_eq!(error_of(&body), format!("entry {i}: {why}"));
        std::thread::sleep(std::time::Duration::from_millis(500));
        before.unchanged(&ru, "an entry with an absurd agreement");
        us.leaves.pop();
        us.sealed.pop();
    }
    // The same message naming the agreement properly is delivered.
    let i = us.message(&ru, Msg::fbi_to_fsb(&agreement, &now, "hello"));
    let (s, body) = us.push(victim, i);
    assert_eq!(s, 200, "{body}");
    let r = receipt_for(&ru, "us", i);
    assert_eq!(r["header"]["status"], "delivered", "{r}");
    assert_eq!(r["header"]["agreement"], agreement.as_str(), "{r}");
}
