//! The third-party verifier in `examples/verify_bundle.rs`, driven through
//! the same functions its `main` calls: it verifies what hotline verifies
//! and refuses what hotline refuses, with only the keys it is given.

#[allow(dead_code)] // its `main` runs only as the example binary
#[path = "../../examples/verify_bundle.rs"]
mod verify_bundle;

use hotline_proto::entry::KeyAction;
use hotline_proto::keys::{ALG_ED25519, NoteKey, OfficeKeys, PartyIdentity, os_rng};
use hotline_proto::party::Party;
use verify_bundle::{check, report};

use super::common::{Log, office};

fn world() -> (Log, String) {
    let mut log = Log::new();
    let fbi = OfficeKeys::generate(office("us/fbi"), &mut os_rng());
    log.announce(fbi.public(), KeyAction::Announce);
    log.message(&fbi, "ru/fsb");
    let b = log.bundle(1);
    (log, b)
}

/// A `hotline keys export` file of `party` holding this log's key and the
/// given witness key.
fn identity_with(log: &Log, party: &str, witness: String) -> String {
    serde_json::to_string(&PartyIdentity {
        party: Party::new(party).unwrap(),
        log_key: log.party.verifier().to_vkey(),
        witness_key: witness,
        offices: vec![],
        url: None,
        urls: vec![],
        tls_pin: None,
    })
    .unwrap()
}

/// `party`'s keys export as `hotline keys export` writes it: its own
/// witness key is named after its log.
fn identity(log: &Log, party: &str) -> String {
    let own = NoteKey::generate(
        &format!("hotline/{party}/witness"),
        ALG_ED25519,
        &mut os_rng(),
    );
    identity_with(log, party, own.unwrap().verifier().to_vkey())
}

#[test]
fn a_keys_export_verifies_an_inclusion_and_names_its_signers() {
    let (log, b) = world();
    // The reader pins us's export and the witness that cosigned (ru's).
    let keys = [identity(&log, "us"), log.witness.verifier().to_vkey()];
    let out = report(&check(b.as_bytes(), &keys).unwrap());
    assert!(out.starts_with("Verified. "), "{out}");
    assert!(out.contains("checkpoint signed by"), "{out}");
}

#[test]
fn a_file_of_vkeys_verifies_and_a_missing_log_key_is_refused() {
    let (log, b) = world();
    let both = format!(
        "{}\n\n{}\n",
        log.party.verifier().to_vkey(),
        log.witness.verifier().to_vkey()
    );
    assert!(check(b.as_bytes(), &[both]).is_ok());
    let witness_only = log.witness.verifier().to_vkey();
    assert!(check(b.as_bytes(), &[witness_only]).is_err());
}

#[test]
fn a_keys_export_naming_another_partys_log_is_refused() {
    let (log, _) = world();
    let export = identity(&log, "ru");
    let why = check(b"", &[export]).unwrap_err();
    assert!(
        why.contains("the keys of party ru name their log hotline/us, which is party us's"),
        "{why}"
    );
}

/// The example pins with hotline verify's own checks: a keys export whose
/// witness key is named otherwise than after its log, and two keys under
/// one name, are refused before any bundle is read.
#[test]
fn a_misnamed_witness_and_two_keys_under_one_name_are_refused() {
    let (log, b) = world();
    // ru's witness key inside us's export would lend ru's cosignatures to us.
    let export = identity_with(&log, "us", log.witness.verifier().to_vkey());
    let why = check(b.as_bytes(), &[export]).unwrap_err();
    assert!(
        why.contains("name their witness key hotline/ru/witness, not hotline/us/witness"),
        "{why}"
    );
    let twin = NoteKey::generate(log.party.verifier().name(), ALG_ED25519, &mut os_rng()).unwrap();
    let keys = [identity(&log, "us"), twin.verifier().to_vkey()];
    let why = check(b.as_bytes(), &keys).unwrap_err();
    assert!(
        why.contains(&format!(
            "two pinned keys are named {}",
            log.party.verifier().name()
        )),
        "{why}"
    );
}
