use std::os::unix::fs::PermissionsExt as _;

use hotline_proto::b64;
use hotline_proto::tree::MemoryTree;

use super::util::*;

#[test]
fn init_makes_private_keys_and_refuses_to_overwrite() {
    let p = Party::new("us");
    for f in ["keys/log.key", "keys/witness.key", "api.token"] {
        let mode = std::fs::metadata(p.dir.join(f))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{f} has mode {mode:o}");
    }
    let before = std::fs::read(p.dir.join("keys/log.key")).unwrap();
    let err = fails(&["init", "--party", "us", "--dir", p.d()]);
    assert!(err.contains("refusing to overwrite"), "{err}");
    assert_eq!(
        std::fs::read(p.dir.join("keys/log.key")).unwrap(),
        before,
        "the key must be untouched"
    );
    let err = fails(&[
        "init",
        "--party",
        "US!",
        "--dir",
        p.dir.join("x").to_str().unwrap(),
    ]);
    assert!(err.contains("invalid party name"), "{err}");
}

#[test]
fn keys_are_c2sp_vkeys_of_the_right_type() {
    let p = Party::new("us");
    let log = p.vkey();
    let wit = ok(&["key", "--witness", "--dir", p.d()]).trim().to_owned();
    // Parsed by an independent implementation of C2SP signed-note.
    signed_note::StandardVerifier::new(&log).expect("log vkey is a standard Ed25519 note key");
    assert!(log.starts_with("hotline/us+"), "{log}");
    // name+hexid+base64: the base64 may itself hold '+', so split from the left.
    let raw = b64::decode(wit.splitn(3, '+').nth(2).unwrap()).unwrap();
    assert_eq!(raw[0], 0x04, "cosigner key type");
    assert!(wit.starts_with("hotline/us/witness+"), "{wit}");
}

#[test]
fn office_send_log_checkpoint_prove_verify() {
    let us = Party::new("us");
    let ru = Party::new("ru");
    ok(&["office", "add", "us/fbi", "--dir", us.d()]);
    ok(&["office", "add", "ru/fsb", "--dir", ru.d()]);
    // Out-of-band exchange of identities, then pinning.
    let ru_keys = ru.dir.join("../ru.keys");
    std::fs::write(&ru_keys, ok(&["keys", "export", "--dir", ru.d()])).unwrap();
    let out = ok(&[
        "peer",
        "add",
        "ru",
        "--keys",
        ru_keys.to_str().unwrap(),
        "--url",
        "https://127.0.0.1:1",
        "--dir",
        us.d(),
    ]);
    assert!(out.contains("Pinned party ru"), "{out}");
    let err = fails(&[
        "peer",
        "add",
        "fr",
        "--keys",
        ru_keys.to_str().unwrap(),
        "--dir",
        us.d(),
    ]);
    assert!(err.contains("not fr"), "{err}");

    let node = Served::start(&us.dir);
    // office add also works through the running node.
    ok(&["office", "add", "us/state", "--dir", us.d()]);
    let sent: serde_json::Value = serde_json::from_str(&ok(&send_args(
        &us,
        "us/fbi",
        "us/state",
        &["--text", "Inquiry about a ransomware group", "--json"],
    )))
    .unwrap();
    let index = sent["index"].as_u64().unwrap();
    assert_eq!(index, 2);

    let log = log_json(us.d());
    assert_eq!(log.len(), 3);
    for (i, l) in log.iter().enumerate() {
        assert_eq!(l["index"].as_u64(), Some(i as u64));
        let leaf = b64::decode(l["leaf"].as_str().unwrap()).unwrap();
        assert_eq!(
            b64::encode(hotline_proto::tree::leaf_hash(&leaf).0),
            l["leaf_hash"].as_str().unwrap()
        );
    }
    assert_eq!(log[2]["leaf_hash"], sent["leaf_hash"]);
    assert_eq!(log[2]["header"]["kind"], "message");
    assert_eq!(log[2]["header"]["to"], "us/state");
    assert!(log[2]["header"]["body"]["sealed"].is_string());
    assert_eq!(log[1]["header"]["key"]["office"], "us/state");

    // The checkpoint, read by an independent C2SP implementation.
    let cp = ok(&["checkpoint", "--dir", us.d()]);
    let note = signed_note::Note::from_bytes(cp.as_bytes()).unwrap();
    let v = signed_note::StandardVerifier::new(&us.vkey()).unwrap();
    note.verify(&signed_note::VerifierList::new(vec![Box::new(v)]))
        .expect("checkpoint verifies");
    let parsed = tlog_tiles::Checkpoint::from_bytes(note.text()).unwrap();
    assert_eq!(parsed.size(), 3);
    let mut t = MemoryTree::new();
    for l in &log {
        t.push(&b64::decode(l["leaf"].as_str().unwrap()).unwrap());
    }
    assert_eq!(
        *parsed.hash(),
        t.root(),
        "checkpoint root = recomputed root"
    );

    let bundle = us.dir.join("../proof.json");
    ok(&[
        "prove",
        "entry",
        &index.to_string(),
        "--dir",
        us.d(),
        "-o",
        bundle.to_str().unwrap(),
    ]);
    let out = ok(&["verify", bundle.to_str().unwrap(), "--key", &us.vkey()]);
    assert!(
        out.starts_with(
            "Verified. Entry us:2 of log hotline/us — a message from us/fbi to us/state"
        ),
        "{out}"
    );
    // An exported keys file works as --key too.
    let us_keys = us.dir.join("../us.keys");
    std::fs::write(&us_keys, ok(&["keys", "export", "--dir", us.d()])).unwrap();
    ok(&[
        "verify",
        bundle.to_str().unwrap(),
        "--key",
        us_keys.to_str().unwrap(),
    ]);
    let json: serde_json::Value = serde_json::from_str(&ok(&[
        "verify",
        bundle.to_str().unwrap(),
        "--key",
        &us.vkey(),
        "--json",
    ]))
    .unwrap();
    assert_eq!(json["verified"], true);

    // The wrong party's key proves nothing.
    let err = fails(&["verify", bundle.to_str().unwrap(), "--key", &ru.vkey()]);
    assert!(err.contains("no pinned log key for hotline/us"), "{err}");
    drop(node);
}

#[test]
fn a_changed_bundle_fails_and_names_what_failed() {
    let us = Party::new("us");
    ok(&["office", "add", "us/fbi", "--dir", us.d()]);
    ok(&["office", "add", "us/state", "--dir", us.d()]);
    let _node = Served::start(&us.dir);
    ok(&send_args(&us, "us/fbi", "us/state", &["--text", "one"]));
    let bundle = us.dir.join("../b.json");
    ok(&[
        "prove",
        "entry",
        "2",
        "--dir",
        us.d(),
        "-o",
        bundle.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&bundle).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let entry = json["entry"].as_str().unwrap();

    // One hash line of the inclusion proof, one bit changed.
    let line = entry.lines().nth(3).unwrap();
    let mut raw = b64::decode(line).unwrap();
    raw[0] ^= 1;
    let mut j = json.clone();
    j["entry"] = entry.replacen(line, &b64::encode(raw), 1).into();
    let p = us.dir.join("../bad1.json");
    std::fs::write(&p, serde_json::to_string(&j).unwrap()).unwrap();
    let err = fails(&["verify", p.to_str().unwrap(), "--key", &us.vkey()]);
    assert!(err.contains("Merkle proof in entry"), "{err}");

    // The checkpoint's size changed: its signature no longer holds.
    let mut j = json.clone();
    j["entry"] = entry
        .replacen("\nhotline/us\n3\n", "\nhotline/us\n4\n", 1)
        .into();
    std::fs::write(&p, serde_json::to_string(&j).unwrap()).unwrap();
    let err = fails(&["verify", p.to_str().unwrap(), "--key", &us.vkey()]);
    assert!(err.contains("checkpoint in entry"), "{err}");

    // Not JSON at all.
    std::fs::write(&p, &text[1..]).unwrap();
    let err = fails(&["verify", p.to_str().unwrap(), "--key", &us.vkey()]);
    assert!(err.contains("malformed bundle"), "{err}");
}
