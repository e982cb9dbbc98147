//! `hotline keys export` files, as `peer add` reads them: the
//! `PartyIdentity` JSON and the node's `check_identity`, and each line as a
//! verifier key (`--key` files).
#![no_main]
use hotline_node::node::check_identity;
use hotline_proto::keys::{NoteVerifier, PartyIdentity};
use hotline_proto::party::Party;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(id) = serde_json::from_slice::<PartyIdentity>(data)
        && let Ok(own) = Party::new("zz")
    {
        let _ = check_identity(&id, &own);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if let Ok(v) = NoteVerifier::from_vkey(line) {
                let again = NoteVerifier::from_vkey(&v.to_vkey()).ok();
                assert_eq!(again.as_ref(), Some(&v), "a verifier key reads back");
            }
        }
    }
});
