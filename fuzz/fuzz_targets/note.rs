//! A signed note / checkpoint with cosignature lines, as a push, an
//! add-checkpoint request or a bundle carries it: `checkpoint::peek`,
//! `split`, `verify` under the fixture keys, `filter_lines`, `signed_by`.
#![no_main]
use hotline_fuzz::{KEYRING, RU, US};
use hotline_proto::checkpoint;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let peeked = checkpoint::peek(data).ok();
    if let Ok((text, sigs)) = checkpoint::split(data) {
        assert_eq!(text.len() + 1 + sigs.len(), data.len());
        for l in String::from_utf8_lossy(sigs).lines() {
            let _ = checkpoint::signed_by(l, "hotline/ru/witness");
        }
    }
    let cosigners = [US.witness.verifier(), RU.witness.verifier()];
    for log in [US.log.verifier(), RU.log.verifier()] {
        if let Ok(v) = checkpoint::verify(data, &log, &cosigners) {
            assert_eq!(
                peeked.as_ref(),
                Some(&(v.origin.clone(), v.size, v.root)),
                "what routing peeks is what the signature covers"
            );
        }
    }
    if let Ok(kept) = checkpoint::filter_lines(
        data,
        |l| !checkpoint::signed_by(l, "hotline/ru/witness"),
        "",
    ) {
        let _ = checkpoint::verify(&kept, &US.log.verifier(), &cosigners);
    }
    let _ = KEYRING.checkpoint(data, "note");
});
