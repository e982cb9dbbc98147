//! Every bundle kind, through the entry point `hotline verify` uses
//! (`bundle::verify`), under the fixture keys the seeds are signed with.
#![no_main]
use hotline_fuzz::KEYRING;
use hotline_proto::bundle;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match bundle::verify(data, &KEYRING) {
        Ok(v) => {
            let _ = v.sentence();
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
