//! Oversized and absurd input: a bundle whose proof has a hundred thousand
//! hashes, a bundle file of a hundred gigabytes, a device that never ends,
//! and peer requests past every limit. Each is refused with the limit named,
//! at once, before the verifier or the node allocates for it, and a node
//! refusing them stores nothing.

use std::io::Write as _;
use std::process::Command;
use std::time::{Duration, Instant};

use hotline_proto::b64;

use super::hostile::{Snapshot, Target, taken_over};
use super::util::*;

/// `hotline verify FILE --key KEY` (and `--json`), which must fail within
/// `within`; returns stderr and the JSON answer.
fn verify_fails(file: &str, key: &str, within: Duration) -> (String, serde_json::Value) {
    let t = Instant::now();
    let err = fails(&["verify", file, "--key", key]);
    let took = t.elapsed();
    assert!(took < within, "hotline verify took {took:?} to refuse it");
    let o = hotline(&["verify", file, "--key", key, "--json"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "verify --json exits 1 when not verified"
    );
    let json = serde_json::from_slice(&o.stdout).expect("--json prints one JSON object");
    (err, json)
}

/// A real inclusion bundle of entry 2 of a one-node log, and the key to check it.
fn real_bundle() -> (Party, String, String) {
    let us = Party::new("us");
    ok(&["office", "add", "us/fbi", "--dir", us.d()]);
    ok(&["office", "add", "us/state", "--dir", us.d()]);
    let node = Served::start(&us.dir);
    ok(&send_args(&us, "us/fbi", "us/state", &["--text", "one"]));
    let file = us.dir.join("../proof.json");
    let file = file.to_str().unwrap().to_owned();
    ok(&["prove", "entry", "2", "--dir", us.d(), "-o", &file]);
    drop(node);
    let key = us.vkey();
    ok(&["verify", &file, "--key", &key]);
    (us, file, key)
}

#[test]
fn verify_refuses_a_proof_of_a_hundred_thousand_hashes_at_its_65th() {
    let (us, file, key) = real_bundle();
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let entry = v["entry"].as_str().unwrap().to_owned();
    let (head, cp) = entry.split_once("\n\n").unwrap();
    let mut head = head.to_owned();
    for i in 0..100_000u64 {
        let mut h = [0u8; 32];
        h[..8].copy_from_slice(&i.to_be_bytes());
        head.push('\n');
        head += &b64::encode(h);
    }
    v["entry"] = format!("{head}\n\n{cp}").into();
    let bad = us.dir.join("../long-proof.json");
    std::fs::write(&bad, v.to_string()).unwrap();
    assert!(std::fs::metadata(&bad).unwrap().len() > 4_500_000);

    let (err, json) = verify_fails(bad.to_str().unwrap(), &key, Duration::from_secs(5));
    let why = "malformed tlog-proof in entry: more than 64 proof hashes; an inclusion proof in a tree of any 64-bit size has at most 64";
    assert!(
        err.contains(&format!("NOT verified: entry: {why}")),
        "{err}"
    );
    assert_eq!(json["verified"], false);
    assert_eq!(json["error"], format!("entry: {why}"));
}

#[test]
fn verify_refuses_an_oversized_file_without_reading_it() {
    let tmp = tempfile::tempdir().unwrap();
    let key = Party::new("us").vkey();
    // A sparse file of 100 GiB: reading it would take minutes and the memory
    // of the machine; its length alone refuses it.
    let huge = tmp.path().join("huge.json");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(100 << 30)
        .unwrap();
    let (err, json) = verify_fails(huge.to_str().unwrap(), &key, Duration::from_secs(5));
    let why =
        "malformed bundle: the bundle is 107374182400 bytes; the limit is 64 MiB (67108864 bytes)";
    assert!(err.contains(&format!("NOT verified: {why}")), "{err}");
    assert_eq!(json["error"], why);

    // One byte over the limit is over it.
    let over = tmp.path().join("over.json");
    std::fs::File::create(&over)
        .unwrap()
        .set_len((64 << 20) + 1)
        .unwrap();
    let (err, _) = verify_fails(over.to_str().unwrap(), &key, Duration::from_secs(5));
    assert!(
        err.contains("the bundle is 67108865 bytes; the limit is 64 MiB (67108864 bytes)"),
        "{err}"
    );

    // A file whose length is not known ahead is read only up to the limit.
    let (err, _) = verify_fails("/dev/zero", &key, Duration::from_secs(20));
    assert!(
        err.contains(
            "NOT verified: malformed bundle: the bundle is over 67108864 bytes; the limit is 64 MiB (67108864 bytes)"
        ),
        "{err}"
    );
}

/// The peer port's limits, mounted by a hostile party against a real node:
/// an add-checkpoint proof of a hundred thousand lines, a push over the body
/// limit, a push of more entries than one push may carry, an oversized
/// signal. Each is refused with its limit, and the victim stores nothing.
#[test]
fn the_peer_port_refuses_oversized_requests_and_stores_nothing() {
    let (us, ru, b, _) = taken_over();
    let victim = Target::new(&ru, &b);
    let before = Snapshot::of(&ru, &["us"]);
    let size = us.size();

    // C2SP tlog-witness allows 63 proof lines; the 64th is refused as it is read.
    let line = b64::encode([9u8; 32]);
    let mut body = format!("old {}\n", size - 1);
    for _ in 0..100_000 {
        body += &line;
        body.push('\n');
    }
    body.push('\n');
    body += &us.checkpoint(size);
    let t = Instant::now();
    let (s, text) = us.post(
        victim,
        "/fed/v1/witness/add-checkpoint",
        "text/plain",
        body.as_bytes(),
    );
    assert_eq!(s, 400, "{text}");
    assert_eq!(
        text,
        "malformed add-checkpoint request: more than 63 proof lines\n"
    );
    assert!(t.elapsed() < Duration::from_secs(10));

    // A push body over 32 MiB is refused while it is read.
    let mut f = tempfile::NamedTempFile::new().unwrap();
    write!(
        f,
        r#"{{"origin":"hotline/us","checkpoint":"x","entries":[{{"index":{size},"leaf":""#
    )
    .unwrap();
    f.write_all(&vec![b'A'; 33 << 20]).unwrap();
    f.write_all(br#""}]}"#).unwrap();
    let (s, text) = us.post(
        victim,
        "/fed/v1/push",
        "application/json",
        &std::fs::read(f.path()).unwrap(),
    );
    assert_eq!(s, 413, "{text}");
    assert!(text.contains("length limit exceeded"), "{text}");

    // More entries than one push may carry.
    let many: Vec<Vec<u8>> = (0..1001).map(|_| us.leaves[0].clone()).collect();
    let body = super::hostile::push_leaves(&us.origin(), &us.checkpoint(size), 0, &many);
    let (s, text) = us.post(victim, "/fed/v1/push", "application/json", &body);
    assert_eq!(s, 413, "{text}");
    assert!(
        text.contains("1001 entries in one push; the limit is 1000"),
        "{text}"
    );

    // A signal over 64 KiB.
    let signal = vec![b' '; 64 * 1024 + 1];
    let (s, text) = us.post(victim, "/fed/v1/signal", "application/json", &signal);
    assert_eq!(s, 413, "{text}");
    assert!(
        text.contains("a signal of 65537 bytes; the limit is 65536"),
        "{text}"
    );

    before.unchanged(&ru, "oversized peer requests");
    // The victim still serves its peer port.
    let o = Command::new("curl")
        .args([
            "-sS",
            "-k",
            "--max-time",
            "10",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
        ])
        .arg("--cert")
        .arg(us.party.dir.join("keys/tls.crt"))
        .arg("--key")
        .arg(us.party.dir.join("keys/tls.key"))
        .arg(format!("https://{}/fed/v1/checkpoint", b.peer_addr))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "200");
}
