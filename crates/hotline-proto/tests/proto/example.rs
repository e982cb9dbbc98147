//! The third-party verifier in `examples/verify_bundle.rs`, driven through
//! the same functions its `main` calls: it verifies what hotline verifies
//! and refuses what hotline refuses, with only the keys it is given.

#[allow(dead_code)] // its `main` runs only as the example binary
#[path = "../../examples/verify_bundle.rs"]
mod verify_bundle;

use hotline_proto::entry::KeyAction;
use hotline_proto::keys::{OfficeKeys, PartyIdentity, os_rng};
use hotline_proto::name::Party;
use verify_bundle::{check, pinned_keys, report};

use super::common::{Log, office};

fn world() -> (Log, String) {
    let mut log = Log::new();
    let fbi = OfficeKeys::generate(office("us/fbi"), &mut os_rng());
    log.announce(fbi.public(), KeyAction::Announce);
    log.message(&fbi, "ru/fsb");
    let b = log.bundle(1);
    (log, b)
}

/// A `hotline keys export` file of `party` holding this log's keys.
fn identity(log: &Log, party: &str) -> String {
    serde_json::to_string(&PartyIdentity {
        party: Party::new(party).unwrap(),
        log_key: log.party.verifier().to_vkey(),
        witness_key: log.witness.verifier().to_vkey(),
        offices: vec![],
        url: None,
        tls_pin: None,
    })
    .unwrap()
}

#[test]
fn a_keys_export_verifies_an_inclusion_and_names_its_signers() {
    let (log, b) = world();
    let export = identity(&log, "us");
    let out = report(&check(b.as_bytes(), &[export]).unwrap());
    assert!(out.starts_with("Verified. "), "{out}");
    assert!(out.contains("checkpoint signed by"), "{out}");
}

#[test]
fn a_file_of_vkeys_verifies_and_a_missing_log_key_is_refused() {
    let (log, b) = world();
    let both = format!(
        "# pinned\n{}\n\n{}\n",
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
    let why = pinned_keys(&export).unwrap_err();
    assert!(why.contains("another party"), "{why}");
}
