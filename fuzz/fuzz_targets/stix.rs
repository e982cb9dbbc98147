//! STIX 2.1 bundles carried in inquiries and answers: `stix::validate_bytes`.
#![no_main]
use hotline_proto::stix;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = stix::validate_bytes(data) {
        let _ = s.to_string();
    }
});
