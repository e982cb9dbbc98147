//! Agreement terms: terms files (`terms_file::parse`, whose `render` is its
//! inverse) and the `Terms` JSON an agreement header carries, validated.
#![no_main]
use hotline_node::terms_file;
use hotline_proto::agreement::Terms;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = serde_json::from_slice::<Terms>(data)
        && t.validate().is_ok()
    {
        let _ = terms_file::render(&t);
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = terms_file::parse(text) {
        let again = terms_file::parse(&terms_file::render(&t));
        assert_eq!(
            again.ok().as_ref(),
            Some(&t),
            "render is the inverse of parse"
        );
    }
});
