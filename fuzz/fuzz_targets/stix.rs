//! STIX 2.1 bundles carried in inquiries and answers, and TAXII envelopes:
//! `stix::validate_bytes`; and the two JSON trees (`serde_json::Value`, and
//! `json::Borrowed`, which a TAXII POST parses) accepting the same texts,
//! writing the same canonical form and drawing the same verdict.
#![no_main]
use hotline_proto::json::Borrowed;
use hotline_proto::{canonical, stix};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = stix::validate_bytes(data) {
        let _ = s.to_string();
    }
    let value = serde_json::from_slice::<Value>(data);
    let borrowed = std::str::from_utf8(data)
        .ok()
        .and_then(|t| serde_json::from_str::<Borrowed<'_>>(t).ok());
    assert_eq!(
        value.is_ok(),
        borrowed.is_some(),
        "one tree refused what the other took"
    );
    if let (Ok(v), Some(b)) = (value, borrowed) {
        let mut out = Vec::new();
        canonical::write(&b, &mut out).unwrap();
        assert_eq!(out, canonical::to_vec(&v).unwrap());
        assert_eq!(
            stix::validate(&v).map_err(|e| e.to_string()),
            stix::validate(&b).map_err(|e| e.to_string())
        );
    }
});
