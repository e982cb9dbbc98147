//! The signed-note example of Go's `golang.org/x/mod/sumdb/note`: a note by
//! `PeterNeumann` and the verifier key that must verify it.

use hotline_proto::b64;
use hotline_proto::keys::{ALG_ED25519, KeyError, NoteKey, NoteVerifier, os_rng};
use signed_note::{Note, NoteError, StandardVerifier, Verifier, VerifierList};

use super::common::{flipped, read_vector};

const NAME: &str = "PeterNeumann";
const KEY_ID: u32 = 0xc74f20a3;

fn note() -> Vec<u8> {
    read_vector("note/go-sumdb-example.note")
}

fn vkey() -> String {
    let v = String::from_utf8(read_vector("note/go-sumdb-example.vkey")).unwrap();
    v.trim_end().to_owned()
}

fn verifiers() -> VerifierList {
    VerifierList::new(vec![Box::new(StandardVerifier::new(&vkey()).unwrap())])
}

#[test]
fn go_example_verifies_with_signed_note() {
    let v = StandardVerifier::new(&vkey()).unwrap();
    assert_eq!((v.name(), v.key_id()), (NAME, KEY_ID));
    let n = Note::from_bytes(&note()).unwrap();
    assert!(
        n.text().starts_with(b"If you think cryptography"),
        "{:?}",
        String::from_utf8_lossy(n.text())
    );
    let (verified, unverified) = n.verify(&verifiers()).unwrap();
    assert!(unverified.is_empty());
    assert_eq!(verified.len(), 1);
    assert_eq!((verified[0].name(), verified[0].id()), (NAME, KEY_ID));
    // Re-encoding the parsed note gives the file back byte for byte.
    assert_eq!(n.to_bytes(), note());
}

#[test]
fn our_verifier_reads_the_go_vkey_and_checks_the_go_signature() {
    let v = NoteVerifier::from_vkey(&vkey()).unwrap();
    assert_eq!(v.name(), NAME);
    assert_eq!(v.alg(), ALG_ED25519);
    assert_eq!(v.key_id(), KEY_ID);
    assert_eq!(
        format!("{:08x}", v.key_id()),
        vkey().split('+').nth(1).unwrap()
    );

    // The signature line is `— name base64(key id ‖ Ed25519 signature)`.
    let n = Note::from_bytes(&note()).unwrap();
    let text = n.text().to_vec();
    let sig_line = std::str::from_utf8(&note()[text.len() + 1..])
        .unwrap()
        .trim_end()
        .to_owned();
    let b64sig = sig_line
        .strip_prefix(&format!("\u{2014} {NAME} "))
        .expect("signature line names PeterNeumann");
    let raw = b64::decode(b64sig).unwrap();
    assert_eq!(raw.len(), 4 + 64);
    assert_eq!(u32::from_be_bytes(raw[..4].try_into().unwrap()), KEY_ID);
    assert!(v.verify_raw(&text, &raw[4..]));
    assert!(!v.verify_raw(&text[1..], &raw[4..]));
    assert!(!v.verify_raw(&text, &raw[5..]), "a 63-byte signature");
}

#[test]
fn to_vkey_reproduces_the_vector_exactly() {
    let v = NoteVerifier::from_vkey(&vkey()).unwrap();
    assert_eq!(v.to_vkey(), vkey());
    // Trailing newline, as read from a file, is tolerated.
    assert_eq!(NoteVerifier::from_vkey(&(vkey() + "\n")).unwrap(), v);
}

#[test]
fn altered_vkeys_are_refused() {
    let vk = vkey();
    let renamed = vk.replacen(NAME, "PeterNeumanm", 1);
    assert!(matches!(
        NoteVerifier::from_vkey(&renamed),
        Err(KeyError::WrongId { .. })
    ));
    let other_id = vk.replacen("c74f20a3", "c74f20a4", 1);
    assert!(matches!(
        NoteVerifier::from_vkey(&other_id),
        Err(KeyError::WrongId { .. })
    ));
    let short_id = vk.replacen("c74f20a3", "c74f20a", 1);
    let e = NoteVerifier::from_vkey(&short_id).unwrap_err();
    assert!(e.to_string().contains("8 hex digits"), "{e}");
    // Type byte 0x01 -> 0x02: base64 "AR" -> "Ai".
    let b64part = vk.splitn(3, '+').nth(2).unwrap();
    assert!(b64part.starts_with("AR"));
    let mut material = b64::decode(b64part).unwrap();
    material[0] = 0x02;
    let other_alg = format!("{NAME}+c74f20a3+{}", b64::encode(&material));
    let e = NoteVerifier::from_vkey(&other_alg).unwrap_err();
    assert!(matches!(e, KeyError::UnknownAlg { alg: 0x02, .. }), "{e}");
}

#[test]
fn every_flipped_text_byte_fails() {
    let bytes = note();
    let text_len = Note::from_bytes(&bytes).unwrap().text().len();
    assert!(text_len > 50);
    for at in 0..text_len {
        let bad = flipped(&bytes, at, 0x01);
        let result = Note::from_bytes(&bad).and_then(|n| n.verify(&verifiers()));
        assert!(
            result.is_err(),
            "flipping text byte {at} still verified: {:?}",
            String::from_utf8_lossy(&bad)
        );
    }
    // A letter changed in the middle specifically reports the bad signature.
    let at = bytes.iter().position(|&b| b == b'c').unwrap();
    let err = Note::from_bytes(&flipped(&bytes, at, 0x01))
        .unwrap()
        .verify(&verifiers())
        .unwrap_err();
    assert!(
        matches!(&err, NoteError::InvalidSignature { name, id } if name == NAME && *id == KEY_ID),
        "{err}"
    );
}

#[test]
fn another_key_with_the_same_name_does_not_verify_it() {
    let k = NoteKey::generate(NAME, ALG_ED25519, &mut os_rng()).unwrap();
    let list = VerifierList::new(vec![Box::new(
        StandardVerifier::new(&k.verifier().to_vkey()).unwrap(),
    )]);
    let err = Note::from_bytes(&note())
        .unwrap()
        .verify(&list)
        .unwrap_err();
    assert!(matches!(err, NoteError::UnverifiedNote), "{err}");
}
