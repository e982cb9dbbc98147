//! A witness belongs to one party, and says no more than it holds (issue 10,
//! items 3 and 4).
//!
//! A hostile party tries to have its cosignatures pass for another witness's
//! (a cosigner key named `hotline/nato/witness`, or a key another party
//! already holds), and asks its victim's witness to cosign an old checkpoint
//! again, with a fresh time, although the victim's mirror holds more.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hotline_proto::b64;
use hotline_proto::keys::{ALG_COSIGNATURE_V1, NoteKey, os_rng};

use super::hostile::*;
use super::util::*;

/// A party's `hotline keys export`, as JSON to edit.
fn export(p: &Party) -> serde_json::Value {
    serde_json::from_str(&ok(&["keys", "export", "--dir", p.d()])).unwrap()
}

/// Writes a keys file next to `p`'s directory; returns its path.
fn keys_file(p: &Party, name: &str, keys: &serde_json::Value) -> PathBuf {
    let f = p.dir.join(format!("../{name}.keys"));
    std::fs::write(&f, serde_json::to_string_pretty(keys).unwrap()).unwrap();
    f
}

/// The vkey of the same public key under another name (what a party that
/// reuses someone else's key would publish: the key id follows the name).
fn renamed(vkey: &str, name: &str) -> String {
    let material = material(vkey);
    format!(
        "{name}+{:08x}+{}",
        signed_note::key_id(name, &material),
        b64::encode(&material)
    )
}

/// The `type ‖ public key` bytes of a vkey (`name+id+base64`; base64 may hold `+`).
fn material(vkey: &str) -> Vec<u8> {
    b64::decode(vkey.splitn(3, '+').nth(2).unwrap()).unwrap()
}

/// A fresh cosigner key named `name`.
fn cosigner_named(name: &str) -> NoteKey {
    NoteKey::generate(name, ALG_COSIGNATURE_V1, &mut os_rng()).unwrap()
}

/// What `p` has pinned: each peer file on disk with its content.
fn pinned(p: &Party) -> BTreeMap<String, String> {
    std::fs::read_dir(p.dir.join("peers"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect()
}

/// The peers a running node's status lists.
fn status_peers(p: &Party) -> Vec<String> {
    status(p)["peers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["peer"].as_str().unwrap().to_owned())
        .collect()
}

fn status(p: &Party) -> serde_json::Value {
    serde_json::from_str(&ok(&["status", "--dir", p.d(), "--json"])).unwrap()
}

/// `hotline peer add PARTY --keys FILE --dir P`, which must fail; returns
/// stderr, and checks that nothing was pinned.
fn refused_pin(p: &Party, party: &str, keys: &Path) -> String {
    let (files, listed) = (pinned(p), status_peers(p));
    let e = fails(&[
        "peer",
        "add",
        party,
        "--keys",
        keys.to_str().unwrap(),
        "--dir",
        p.d(),
    ]);
    assert_eq!(pinned(p), files, "a refused pin changed peers/: {e}");
    assert_eq!(
        status_peers(p),
        listed,
        "a refused pin reached the node: {e}"
    );
    e
}

/// Starts `hotline serve` on `dir`, which must refuse to start; returns its
/// stderr. (A node that starts is killed and the test fails.)
fn refused_serve(dir: &Path) -> String {
    let mut child = Command::new(bin())
        .args(["serve", "--dir", dir.to_str().unwrap()])
        .args(["--listen", "127.0.0.1:0", "--peer-listen", "127.0.0.1:0"])
        .env("HOTLINE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut e = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut e).unwrap();
            assert!(!status.success(), "serve exited successfully: {e}");
            return e;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("hotline serve started on {}", dir.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A party `xx` names its cosigner key like another party's witness
/// (`hotline/nato/witness`): its cosignatures would be reported as nato's.
/// `peer add` refuses it, naming the party whose name it took, and so does
/// `hotline verify` given the file as a pinned key. The same file with xx's
/// own witness key pins.
#[test]
fn a_witness_key_named_like_another_partys_is_not_pinned() {
    let ru = Party::new("ru");
    let _b = Served::start(&ru.dir);
    let nato = Party::new("nato");
    let nato_keys = keys_file(&nato, "nato", &export(&nato));
    ok(&[
        "peer",
        "add",
        "nato",
        "--keys",
        nato_keys.to_str().unwrap(),
        "--dir",
        ru.d(),
    ]);
    let xx = Party::new("xx");
    let genuine = export(&xx);
    let with_witness = |name: &str| {
        let mut k = genuine.clone();
        k["witness_key"] = cosigner_named(name).verifier().to_vkey().into();
        keys_file(&xx, name.replace('/', "_").as_str(), &k)
    };

    let e = refused_pin(&ru, "xx", &with_witness("hotline/nato/witness"));
    assert!(
        e.contains(
            "refusing to pin xx: its witness key is named hotline/nato/witness, the name of nato's witness (pinned in peers/nato.json); a party's witness key is named after its own log: hotline/xx/witness"
        ),
        "{e}"
    );
    let e = refused_pin(&ru, "xx", &with_witness("hotline/ru/witness"));
    assert!(
        e.contains(
            "refusing to pin xx: its witness key is named hotline/ru/witness, the name of ru's witness (this node's own); a party's witness key is named after its own log: hotline/xx/witness"
        ),
        "{e}"
    );
    // Named after no party this node knows: still not xx's name.
    let e = refused_pin(&ru, "xx", &with_witness("hotline/yy/witness"));
    assert!(
        e.contains(
            "refusing to pin xx: its witness key is named hotline/yy/witness; a party's witness key is named after its own log: hotline/xx/witness"
        ),
        "{e}"
    );
    // A verifier given the file as a pinned key refuses it too, before
    // reading any bundle.
    let bundle = xx.dir.join("../any.json");
    std::fs::write(&bundle, "{}").unwrap();
    let o = hotline(&[
        "verify",
        bundle.to_str().unwrap(),
        "--key",
        with_witness("hotline/nato/witness").to_str().unwrap(),
    ]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{e}");
    assert!(
        e.contains(
            "names its witness key hotline/nato/witness; a party's witness key is named after its own log: hotline/xx/witness, so this is not a `hotline keys export` file of xx"
        ),
        "{e}"
    );

    // xx's own keys pin: the refusals above came from the names alone.
    let own = keys_file(&xx, "xx-genuine", &genuine);
    ok(&[
        "peer",
        "add",
        "xx",
        "--keys",
        own.to_str().unwrap(),
        "--dir",
        ru.d(),
    ]);
    assert!(pinned(&ru).contains_key("xx.json"));
    assert!(status_peers(&ru).contains(&"xx".to_owned()));
}

/// `hotline verify --key` given ru's own keys renamed as nato's
/// (`{"party":"ru","log_key":"hotline/nato+<ru's key>","witness_key":
/// "hotline/nato/witness+<ru's cosigner>"}`) would report ru's cosignatures
/// as nato's witness: it refuses the file, since a party's log is named after
/// the party. Two pinned keys of one name and different keys are refused
/// too, naming both (whichever came first would otherwise be trusted); the
/// same key given twice is not a conflict.
#[test]
fn verify_refuses_keys_that_lend_another_party_its_name() {
    let ru = Party::new("ru");
    let nato = Party::new("nato");
    let run = |keys: &[&str]| {
        let bundle = ru.dir.join("../any.json");
        std::fs::write(&bundle, "{}").unwrap();
        let mut args = vec!["verify", bundle.to_str().unwrap()];
        for k in keys {
            args.extend(["--key", k]);
        }
        let o = hotline(&args);
        assert!(!o.status.success());
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    // Keys that pass reach the bundle, which is no bundle at all.
    let read_past_keys = |e: &str| e.contains("no \"bundle\" type field");

    let genuine = export(&ru);
    let mut posing = genuine.clone();
    posing["log_key"] = renamed(genuine["log_key"].as_str().unwrap(), "hotline/nato").into();
    posing["witness_key"] = renamed(
        genuine["witness_key"].as_str().unwrap(),
        "hotline/nato/witness",
    )
    .into();
    let file = keys_file(&ru, "ru-as-nato", &posing);
    let e = run(&[file.to_str().unwrap()]);
    assert!(
        e.contains(&format!(
            "--key {} is the keys of party ru but names its log hotline/nato, which is party nato's; a party's log is named after the party, so this is not a `hotline keys export` file of ru",
            file.display()
        )),
        "{e}"
    );
    assert!(!read_past_keys(&e), "{e}");
    let own = keys_file(&ru, "ru", &genuine);
    assert!(read_past_keys(&run(&[own.to_str().unwrap()])));

    // nato's genuine keys, and another cosigner key of the name of nato's witness.
    let nato_keys = keys_file(&nato, "nato", &export(&nato));
    let nato_witness = export(&nato)["witness_key"].as_str().unwrap().to_owned();
    let impostor = cosigner_named("hotline/nato/witness").verifier().to_vkey();
    let nato_file = nato_keys.to_str().unwrap();
    for (keys, first, second) in [
        (
            [nato_file, impostor.as_str()],
            (&nato_witness, nato_file),
            (&impostor, impostor.as_str()),
        ),
        (
            [impostor.as_str(), nato_file],
            (&impostor, impostor.as_str()),
            (&nato_witness, nato_file),
        ),
    ] {
        let e = run(&keys);
        assert!(
            e.contains(&format!(
                "two pinned keys are named hotline/nato/witness: {} (from --key {}) and {} (from --key {}); a name denotes one key, so pin only the one its party's own `hotline keys export` gives",
                first.0, first.1, second.0, second.1
            )),
            "{e}"
        );
        assert!(!read_past_keys(&e), "{e}");
    }
    // The same key twice (the file, and its witness key alone) is one key.
    assert!(read_past_keys(&run(&[nato_file, &nato_witness, nato_file])));
}

/// A party `xx` publishes, under its own names, a key another party holds:
/// the victim's own witness or log key, or a pinned party's. One key, one
/// party: `peer add` refuses each, naming the holder; nothing is pinned.
#[test]
fn a_key_another_party_holds_is_not_pinned() {
    let (us, ru) = super::federation::pair();
    let _b = Served::start(&ru.dir);
    federate(&us, &ru);
    let (us_id, ru_id) = (export(&us), export(&ru));
    let xx = Party::new("xx");
    let genuine = export(&xx);
    let vk = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap().to_owned();
    let cases = [
        (
            "witness_key",
            renamed(&vk(&ru_id, "witness_key"), "hotline/xx/witness"),
            "refusing to pin xx: its witness key is ru's witness key (this node's own); one key belongs to one party",
        ),
        (
            "witness_key",
            renamed(&vk(&us_id, "witness_key"), "hotline/xx/witness"),
            "refusing to pin xx: its witness key is us's witness key (pinned in peers/us.json); one key belongs to one party",
        ),
        (
            "log_key",
            renamed(&vk(&ru_id, "log_key"), "hotline/xx"),
            "refusing to pin xx: its log key is ru's log key (this node's own); one key belongs to one party",
        ),
        (
            "log_key",
            renamed(&vk(&us_id, "log_key"), "hotline/xx"),
            "refusing to pin xx: its log key is us's log key (pinned in peers/us.json); one key belongs to one party",
        ),
        (
            // The same Ed25519 key in another role (cosigner type 0x04).
            "witness_key",
            {
                let mut m = material(&vk(&us_id, "log_key"));
                m[0] = ALG_COSIGNATURE_V1;
                let name = "hotline/xx/witness";
                format!(
                    "{name}+{:08x}+{}",
                    signed_note::key_id(name, &m),
                    b64::encode(&m)
                )
            },
            "refusing to pin xx: its witness key is us's log key (pinned in peers/us.json); one key belongs to one party",
        ),
    ];
    for (i, (field, key, want)) in cases.iter().enumerate() {
        let mut k = genuine.clone();
        k[*field] = key.clone().into();
        let f = keys_file(&xx, &format!("xx-{i}"), &k);
        let e = refused_pin(&ru, "xx", &f);
        assert!(e.contains(want), "case {i}: {e}");
    }
    // The refusals hold a re-pin of a known party too: us cannot take ru's
    // witness key (its file pinned on ru is left as it was).
    let mut k = us_id.clone();
    k["witness_key"] = renamed(&vk(&ru_id, "witness_key"), "hotline/us/witness").into();
    let e = refused_pin(&ru, "us", &keys_file(&us, "us-repin", &k));
    assert!(
        e.contains("refusing to pin us: its witness key is ru's witness key (this node's own)"),
        "{e}"
    );
}

/// A node whose own witness key is not named after its log (a hand-edited
/// hotline.toml, a swapped keys/witness.key), or that holds a pinned peer
/// with a key it already knows, refuses to start and to export its keys.
#[test]
fn a_node_with_a_witness_not_named_after_its_log_refuses_to_start() {
    let us = Party::new("us");
    let toml = us.dir.join("hotline.toml");
    let genuine_toml = std::fs::read_to_string(&toml).unwrap();
    assert!(genuine_toml.contains("witness_name = \"hotline/us/witness\""));

    std::fs::write(
        &toml,
        genuine_toml.replace("hotline/us/witness", "hotline/nato/witness"),
    )
    .unwrap();
    let want = "hotline.toml says witness_name = \"hotline/nato/witness\", but a party's witness key is named after its own log: hotline/us/witness";
    let e = refused_serve(&us.dir);
    assert!(e.contains(want), "{e}");
    let e = fails(&["keys", "export", "--dir", us.d()]);
    assert!(e.contains(want), "{e}");
    std::fs::write(&toml, &genuine_toml).unwrap();

    let key = us.dir.join("keys/witness.key");
    let genuine_key = std::fs::read_to_string(&key).unwrap();
    std::fs::write(&key, &*cosigner_named("hotline/nato/witness").to_skey()).unwrap();
    let want = "holds a cosigner key named hotline/nato/witness, but a party's witness key is named after its own log: hotline/us/witness";
    let e = refused_serve(&us.dir);
    assert!(e.contains(want), "{e}");
    assert!(e.contains("witness.key"), "names the file: {e}");
    let e = fails(&["keys", "export", "--dir", us.d()]);
    assert!(e.contains(want), "{e}");
    std::fs::write(&key, &genuine_key).unwrap();

    // A peer file written by hand that holds us's own witness key.
    let xx = Party::new("xx");
    let mut k = export(&xx);
    let own = ok(&["key", "--witness", "--dir", us.d()]);
    k["witness_key"] = renamed(own.trim(), "hotline/xx/witness").into();
    let peer = us.dir.join("peers/xx.json");
    std::fs::write(&peer, serde_json::to_string_pretty(&k).unwrap()).unwrap();
    let e = refused_serve(&us.dir);
    assert!(
        e.contains("xx.json: its witness key is us's witness key (this node's own); one key belongs to one party"),
        "{e}"
    );
    std::fs::remove_file(&peer).unwrap();

    // Restored, it serves.
    let a = Served::start(&us.dir);
    a.kill9();
}

/// ru has mirrored and cosigned us's log at size N; us pushes two more
/// entries (honest ones), so ru's mirror holds N+2. Hostile us then asks ru
/// to cosign its checkpoint at N again, and at N+1: each time ru answers
/// tlog-witness's conflict (409, `text/x.tlog.size`) with the size it holds,
/// N+2, and records no cosignature; nothing else changes. At N+2, ru cosigns.
#[test]
fn a_witness_does_not_cosign_less_than_it_holds() {
    let (mut us, ru, b, agreement) = taken_over();
    let victim = Target::new(&ru, &b);
    // Whatever us wrote last before it stopped (a receipt, say) reaches ru's
    // mirror, and ru cosigns the whole log: size N.
    let held = super::federation::log_json_peer(ru.d(), "us").len() as u64;
    if held < us.size() {
        let (s, t) = us.push(victim, held);
        assert_eq!(s, 200, "{t}");
    }
    let n = us.size();
    // What ru reports of its last cosignature of us's log: size and time.
    let peer_cosigned = || {
        let c = status(&ru)["peers"][0]["peer_log_cosigned"].clone();
        (c["size"].as_u64(), c["time"].as_str().map(str::to_owned))
    };
    let w = peer_cosigned().0.unwrap_or(0);
    if w < n {
        let (s, t) = us.add_checkpoint(victim, w, n);
        assert_eq!(s, 200, "cosigning the whole log at {n}: {t}");
    }
    assert_eq!(peer_cosigned().0, Some(n));

    // Two more honest messages, pushed: ru's mirror holds N+2 (and ru
    // receipts them in its own log).
    let now = jiff::Timestamp::now().to_string();
    for text in ["first", "second"] {
        us.message(&ru, Msg::fbi_to_fsb(&agreement, &now, text));
    }
    let (s, t) = us.push(victim, n);
    assert_eq!(s, 200, "{t}");
    assert!(t.contains(&format!("\"mirror_size\":{}", n + 2)), "{t}");
    receipt_for(&ru, "us", n);
    receipt_for(&ru, "us", n + 1);

    let before = Snapshot::of(&ru, &["us"]);
    let cosigned = peer_cosigned();
    assert_eq!(cosigned.0, Some(n), "{cosigned:?}");
    // A fresh cosignature would carry a later second.
    std::thread::sleep(Duration::from_millis(1100));
    for size in [n, n + 1] {
        let (s, ty, body) = us.add_checkpoint_typed(victim, n, size);
        assert_eq!(
            (s, ty.as_str(), body.as_str()),
            (409, "text/x.tlog.size", format!("{}\n", n + 2).as_str()),
            "asked to cosign size {size}"
        );
    }
    // An old size that does not match either: still the size held.
    let (s, ty, body) = us.add_checkpoint_typed(victim, 0, n);
    assert_eq!(
        (s, ty.as_str(), body.as_str()),
        (409, "text/x.tlog.size", format!("{}\n", n + 2).as_str())
    );
    assert_eq!(peer_cosigned(), cosigned, "a cosignature was recorded");
    before.unchanged(&ru, "stale add-checkpoint requests");

    // The largest size ru holds is cosigned.
    let (s, t) = us.add_checkpoint(victim, n, n + 2);
    assert_eq!(s, 200, "{t}");
    assert!(t.starts_with("— hotline/ru/witness "), "{t}");
    assert_eq!(peer_cosigned().0, Some(n + 2));
}

/// ru and us both pin nato as a third witness. ru, gone hostile, holds us's
/// signed checkpoints (its own mirror has them) and asks nato to cosign
/// us's log: a fresh cosignature there would move the date below which
/// nato refuses us's entries as backdated, so us's backlog after a link
/// outage would be refused for good. Only the log's own party may ask:
/// 403, and nato records nothing. The same request from us is cosigned (the
/// refusal is about who asks, not what).
#[test]
fn a_party_cannot_ask_a_witness_to_cosign_another_partys_log() {
    let (us, ru, nato, a, b, c, _agreement) = stage_with_witness();
    // From here on nobody honest asks nato about us's log.
    a.kill9();
    b.kill9();
    let us = Hostile::take_over(us);
    let origin = us.origin();
    let size = super::federation::log_json_peer(nato.d(), "us").len() as u64;
    assert!(size > 0 && size <= us.size());
    let state = witness_state(&nato, &origin);
    let old = state.map_or(0, |(s, _)| s);
    let cosigned = cosignatures_of(&nato, &origin);
    let before = Snapshot::of(&nato, &["us", "ru"]);
    // A fresh cosignature would carry a later time than the one held.
    std::thread::sleep(Duration::from_millis(1100));
    // us's checkpoint, byte for byte as us's node signed it (Ed25519 is
    // deterministic), with a consistency proof from what nato last cosigned.
    let body = us.add_checkpoint_body(old, size, &us.checkpoint(size));
    let (status, text) = curl(
        &ru.dir,
        &c.peer_addr,
        &pin(&nato),
        "/fed/v1/witness/add-checkpoint",
        "text/plain",
        &body,
    )
    .unwrap();
    assert_eq!(status, 403, "{text}");
    assert_eq!(
        text,
        format!(
            "ru asks for a cosignature of {origin}, which is us's log: only us asks this witness to cosign it\n"
        )
    );
    assert_eq!(
        witness_state(&nato, &origin),
        state,
        "nato's witness state moved"
    );
    assert_eq!(
        cosignatures_of(&nato, &origin),
        cosigned,
        "nato recorded a cosignature"
    );
    before.unchanged(&nato, "a cosignature asked for by another party");

    // The log's own party asks the same: cosigned.
    let (status, line) = us.post(
        Target::new(&nato, &c),
        "/fed/v1/witness/add-checkpoint",
        "text/plain",
        &body,
    );
    assert_eq!(status, 200, "{line}");
    assert!(line.starts_with("— hotline/nato/witness "), "{line}");
    assert_ne!(witness_state(&nato, &origin), state);
}
