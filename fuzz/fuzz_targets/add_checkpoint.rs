//! `POST /fed/v1/witness/add-checkpoint` bodies (C2SP tlog-witness):
//! `witness::parse`, which round-trips through `witness::body`, then what the
//! witness does with one before its store: peek and verify the note, check
//! the consistency proof.
#![no_main]
use hotline_fuzz::US;
use hotline_proto::{Hash, checkpoint, tree, witness};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(req) = witness::parse(data) else {
        return;
    };
    assert_eq!(witness::body(req.old, &req.proof, &req.note), data);
    let Ok((_, size, root)) = checkpoint::peek(&req.note) else {
        return;
    };
    let _ = checkpoint::verify(&req.note, &US.log.verifier(), &[]);
    // The witness checks the proof from the size it holds; any old root will do here.
    let old_root = req.proof.first().copied().unwrap_or(Hash([0; 32]));
    let _ = tree::verify_consistency(req.old, size, old_root, root, &req.proof);
});
