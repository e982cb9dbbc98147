//! A sealed body, as a push carries it to the receiving office:
//! `seal::open` as ru/fsb, then the plaintext as the content it must be
//! (`Content` JSON, its STIX bundle validated).
#![no_main]
use hotline_fuzz::RU;
use hotline_proto::entry::Content;
use hotline_proto::{seal, stix};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fsb = RU.office("ru/fsb");
    let Ok(opened) = seal::open(data, fsb.office(), fsb.seal_secret()) else {
        return;
    };
    let _ = seal::commitment(&opened.salt, &opened.plaintext);
    if let Ok(c) = serde_json::from_slice::<Content>(&opened.plaintext)
        && let Some(s) = &c.stix
    {
        let _ = stix::validate(s);
    }
});
