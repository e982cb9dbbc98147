//! `POST /fed/v1/push` bodies: the `Push` JSON and the decoding the mirror
//! does of each entry (`mirror::decode`), and the push's checkpoint under
//! the pushing party's pinned key.
#![no_main]
use hotline_fuzz::US;
use hotline_node::federation::{mirror, wire::Push};
use hotline_proto::checkpoint;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(push) = serde_json::from_slice::<Push>(data) else {
        return;
    };
    if let Ok(entries) = mirror::decode(&push) {
        assert_eq!(entries.len(), push.entries.len());
        for ((index, entry, _), pushed) in entries.iter().zip(&push.entries) {
            assert_eq!(*index, pushed.index);
            let _ = entry.leaf_hash();
        }
    }
    let _ = checkpoint::verify(push.checkpoint.as_bytes(), &US.log.verifier(), &[]);
});
