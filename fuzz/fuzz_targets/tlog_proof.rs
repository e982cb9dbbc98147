//! A C2SP tlog-proof text, as every bundle carries its entries:
//! `TlogProof::parse`, which round-trips through `to_text`, then the proof
//! checked against the fixture keys (whether its signer's key was valid is
//! the key history's question, which the `bundle` target asks).
#![no_main]
use hotline_fuzz::KEYRING;
use hotline_proto::bundle::{self, TlogProof};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(p) = TlogProof::parse(text, "entry") else {
        return;
    };
    assert_eq!(p.to_text(), text, "a parsed tlog-proof is its text");
    let _ = bundle::check_tlog_proof(&p, &KEYRING, "entry");
});
