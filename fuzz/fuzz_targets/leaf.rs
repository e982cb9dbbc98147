//! A leaf, as a push or a bundle carries it: `SignedEntry::from_leaf`.
//! A leaf that parses is exactly its one canonical form, and parses again.
#![no_main]
use hotline_fuzz::US;
use hotline_proto::entry::SignedEntry;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(e) = SignedEntry::from_leaf(data) else {
        return;
    };
    assert_eq!(e.leaf(), data, "a parsed leaf is its input, byte for byte");
    assert_eq!(SignedEntry::from_leaf(e.leaf()).ok().as_ref(), Some(&e));
    let _ = e.header().signing_message();
    let _ = e.header().channel();
    if let Ok(k) = US.office("us/fbi").public().verifying_key() {
        let _ = e.verify(&k);
    }
});
