//! C2SP witnesses that are not hotline nodes, against real node processes.
//!
//! - An independent tlog-witness, aics-witness (PyPI; scripts/test installs
//!   it into target/witness-venv), cosigns us's log through `hotline witness
//!   add`, following it across consistency proofs, and `hotline verify`
//!   counts its cosignature when the reader pins its key, and only then.
//! - A hostile witness (this file, holding its own keys and knowing the
//!   formats) answers with another key's lines, forged signatures, a size
//!   beyond the log, 422, an oversized body and a cosignature dated ahead:
//!   each round fails with its reason in `hotline status`, and nothing of it
//!   reaches the stored checkpoint; then its one honest answer is merged.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use hotline_proto::checkpoint;
use hotline_proto::keys::{ALG_COSIGNATURE_V1, NoteKey, os_rng};

use super::federation::federated;
use super::util::*;

/// The venv's Python with aics-witness.
fn witness_python() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/witness-venv/bin/python");
    let has = Command::new(&p)
        .args(["-c", "import aics_witness"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        has,
        "the independent C2SP witness is missing: run scripts/test, which installs aics-witness into target/witness-venv"
    );
    p
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running aics-witness that witnesses `log` (origin and vkey), killed on drop.
struct AicsWitness {
    child: Child,
    url: String,
    vkey: String,
    config: PathBuf,
    _tmp: tempfile::TempDir,
}

impl AicsWitness {
    fn start(origin: &str, log_vkey: &str) -> Self {
        let py = witness_python();
        let tmp = tempfile::tempdir().unwrap();
        let config = tmp.path().join("witness.json");
        let port = free_port();
        let run = |args: &[&str]| {
            let o = Command::new(&py)
                .args(["-m", "aics_witness"])
                .args(args)
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "aics-witness {args:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            String::from_utf8(o.stdout).unwrap()
        };
        let c = config.to_str().unwrap();
        let listen = format!("127.0.0.1:{port}");
        let out = run(&[
            "init",
            "-c",
            c,
            "--name",
            "witness.example.org/w1",
            "--listen",
            &listen,
        ]);
        let vkey = out
            .lines()
            .rev()
            .find(|l| l.starts_with("witness.example.org/w1+"))
            .unwrap_or_else(|| panic!("no vkey in {out:?}"))
            .to_owned();
        run(&["add-log", "-c", c, "--origin", origin, "--vkey", log_vkey]);
        // hotline's checkpoints carry the hotline-index extension line.
        let mut cfg: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
        cfg["logs"][0]["extension_lines"] = true.into();
        std::fs::write(&config, cfg.to_string()).unwrap();
        let child = Command::new(&py)
            .args(["-m", "aics_witness", "serve", "-c", c])
            .stdout(Stdio::null())
            .stderr(server_stderr())
            .spawn()
            .unwrap();
        wait_until(20, "aics-witness listening", || {
            TcpStream::connect(&listen).is_ok()
        });
        Self {
            child,
            url: format!("http://{listen}"),
            vkey,
            config,
            _tmp: tmp,
        }
    }

    /// The size it holds for `origin`, by its own `status --json`.
    fn size_of(&self, origin: &str) -> Option<u64> {
        let o = Command::new(witness_python())
            .args(["-m", "aics_witness", "status", "--json", "-c"])
            .arg(&self.config)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).ok()?;
        let logs = v["logs"].as_array()?;
        logs.iter()
            .find(|l| l["origin"] == origin)
            .and_then(|l| l["size"].as_u64().or_else(|| l["state"]["size"].as_u64()))
    }
}

impl Drop for AicsWitness {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn status(p: &Party) -> serde_json::Value {
    json(&ok(&["status", "--dir", p.d(), "--json"]))
}

fn witness_status(p: &Party) -> serde_json::Value {
    status(p)["witnesses"][0].clone()
}

/// The names on the signature lines of the node's current checkpoint.
fn signers(p: &Party) -> Vec<String> {
    let note = ok(&["checkpoint", "--dir", p.d()]);
    let (_, sigs) = note.split_once("\n\n").unwrap();
    sigs.lines()
        .filter_map(|l| l.strip_prefix("\u{2014} "))
        .map(|l| l.split(' ').next().unwrap().to_owned())
        .collect()
}

#[test]
fn an_independent_c2sp_witness_cosigns_the_log_and_verify_counts_it_only_when_pinned() {
    let (us, ru, a, _b) = federated();
    let w = AicsWitness::start("hotline/us", &us.vkey());
    // Added while the node runs: it starts asking at once.
    let added = json(&ok(&[
        "witness",
        "add",
        &w.url,
        "--key",
        &w.vkey,
        "--dir",
        us.d(),
        "--json",
    ]));
    assert_eq!(added["name"], "witness.example.org/w1");
    let config = std::fs::read_to_string(us.dir.join("hotline.toml")).unwrap();
    assert!(
        config.contains("[[witnesses]]") && config.contains(&w.vkey),
        "{config}"
    );
    // The same witness twice is refused, and the file keeps one entry.
    let again = fails(&["witness", "add", &w.url, "--key", &w.vkey, "--dir", us.d()]);
    assert!(again.contains("already configured"), "{again}");
    let config = std::fs::read_to_string(us.dir.join("hotline.toml")).unwrap();
    assert_eq!(config.matches("[[witnesses]]").count(), 1, "{config}");

    // The log grows in steps: each cosignature after the first rests on a
    // consistency proof the witness checked itself.
    let mut sizes = Vec::new();
    for office in ["us/cia", "us/nsa", "us/dhs"] {
        ok(&["office", "add", office, "--dir", us.d()]);
        let size = status(&us)["log_size"].as_u64().unwrap();
        wait_until(30, "the witness to cosign the grown log", || {
            witness_status(&us)["cosigned_size"].as_u64() == Some(size)
        });
        sizes.push(size);
    }
    assert!(sizes.windows(2).all(|s| s[0] < s[1]), "{sizes:?}");
    let last = *sizes.last().unwrap();
    assert_eq!(
        w.size_of("hotline/us"),
        Some(last),
        "the witness's own record"
    );
    let ws = witness_status(&us);
    assert!(ws["cosignatures"].as_u64().unwrap() >= 3, "{ws}");
    assert_eq!(ws["last_error"], serde_json::Value::Null, "{ws}");
    let metrics = a.request("GET", "/metrics", b"").1;
    assert!(
        metrics.contains(&format!(
            "hotline_witness_cosigned_size{{witness=\"witness.example.org/w1\"}} {last}"
        )),
        "{metrics}"
    );
    assert!(
        metrics.contains("hotline_witness_cosignatures_total{witness=\"witness.example.org/w1\"}")
    );

    // Both witnesses, ru's and the C2SP one, on one checkpoint of the full log.
    wait_until(
        30,
        "ru's and the C2SP witness's cosignatures on one checkpoint",
        || {
            let s = signers(&us);
            s.iter().any(|n| n == "witness.example.org/w1")
                && s.iter().any(|n| n == "hotline/ru/witness")
        },
    );
    let bundle = us.dir.join("entry.json");
    prove_entry(&us, 1, &bundle);
    let b = bundle.to_str().unwrap();
    let mut keys = pinned_keys(&[&us, &ru]);
    let without = verify(b, &keys).unwrap();
    assert!(!without.contains("witness.example.org/w1"), "{without}");
    keys.extend(["--key".to_owned(), w.vkey.clone()]);
    let with = verify(b, &keys).unwrap();
    assert!(
        with.contains("cosigned by") && with.contains("witness witness.example.org/w1"),
        "{with}"
    );
    let mut args = vec!["verify", "--json", b];
    args.extend(keys.iter().map(String::as_str));
    let v = json(&ok(&args));
    let rests = v["parts"][0]["rests_on"].to_string();
    assert!(rests.contains("witness.example.org/w1"), "{v}");

    // After a restart the node asks from the size the witness last cosigned
    // (kept in its store), which the witness takes without a 409.
    drop(a);
    let offline = json(&ok(&["witness", "list", "--dir", us.d(), "--json"]));
    assert_eq!(
        offline[0]["cosigned_size"].as_u64(),
        Some(last),
        "{offline}"
    );
    let _a = Served::start(&us.dir);
    ok(&["office", "add", "us/doj", "--dir", us.d()]);
    wait_until(30, "the witness to cosign after the restart", || {
        witness_status(&us)["cosigned_size"].as_u64() == Some(last + 1)
    });
    assert_eq!(w.size_of("hotline/us"), Some(last + 1));
    assert_eq!(witness_status(&us)["failures"], 0);

    // Removed: the file loses it, the cosignatures on record stay.
    ok(&[
        "witness",
        "remove",
        "witness.example.org/w1",
        "--dir",
        us.d(),
    ]);
    let config = std::fs::read_to_string(us.dir.join("hotline.toml")).unwrap();
    assert!(!config.contains("witnesses"), "{config}");
    assert!(status(&us)["witnesses"].as_array().unwrap().is_empty());
    assert!(signers(&us).iter().any(|n| n == "witness.example.org/w1"));
}

#[test]
fn witness_entries_that_would_mislead_are_refused_and_nothing_is_written() {
    let us = Party::new("us");
    let before = std::fs::read_to_string(us.dir.join("hotline.toml")).unwrap();
    let key = |name: &str, alg: u8| {
        NoteKey::generate(name, alg, &mut os_rng())
            .unwrap()
            .verifier()
            .to_vkey()
    };
    for (url, k, words) in [
        (
            "ftp://w.example",
            key("w.example/1", ALG_COSIGNATURE_V1),
            "not http:// or https://",
        ),
        ("https://w.example", key("w.example/1", 0x01), "type 0x01"),
        (
            "https://w.example",
            key("hotline/ru/witness", ALG_COSIGNATURE_V1),
            "party ru's own witness",
        ),
        (
            "https://w.example",
            "w.example+00000000+garbage".into(),
            "witness key",
        ),
    ] {
        let err = fails(&["witness", "add", url, "--key", &k, "--dir", us.d()]);
        assert!(err.contains(words), "{err} lacks {words}");
    }
    assert_eq!(
        std::fs::read_to_string(us.dir.join("hotline.toml")).unwrap(),
        before
    );
    let none = fails(&["witness", "remove", "w.example/1", "--dir", us.d()]);
    assert!(none.contains("no witness named"), "{none}");
}

/// How the hostile witness answers, switched by the test.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    /// Lines under its name by another key, a forged line for ru's
    /// witness, and junk: none by its pinned key.
    OtherKeys,
    /// Its name and key id, with a signature that does not verify.
    Forged,
    /// 409 naming a size beyond the log.
    Beyond,
    /// 422.
    Unprocessable,
    /// 200 with a 1 MiB body.
    Huge,
    /// A valid cosignature dated a day ahead.
    Ahead,
    /// A valid cosignature dated now.
    Honest,
}

/// A witness that holds its own keys and knows the formats.
struct Hostile {
    url: String,
    vkey: String,
    mode: Arc<Mutex<Mode>>,
}

impl Hostile {
    fn start() -> Self {
        let key = Arc::new(
            NoteKey::generate("evil.example/w", ALG_COSIGNATURE_V1, &mut os_rng()).unwrap(),
        );
        let impostor = Arc::new(
            NoteKey::generate("evil.example/w", ALG_COSIGNATURE_V1, &mut os_rng()).unwrap(),
        );
        let ru = Arc::new(
            NoteKey::generate("hotline/ru/witness", ALG_COSIGNATURE_V1, &mut os_rng()).unwrap(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let mode = Arc::new(Mutex::new(Mode::OtherKeys));
        let m = mode.clone();
        let vkey = key.verifier().to_vkey();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let mode = *m.lock().unwrap();
                let _ = answer(conn, mode, &key, &impostor, &ru);
            }
        });
        Self { url, vkey, mode }
    }

    fn set(&self, m: Mode) {
        *self.mode.lock().unwrap() = m;
    }
}

fn answer(
    conn: TcpStream,
    mode: Mode,
    key: &NoteKey,
    impostor: &NoteKey,
    ru: &NoteKey,
) -> std::io::Result<()> {
    let mut r = BufReader::new(conn.try_clone()?);
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        r.read_line(&mut line)?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body)?;
    let body = String::from_utf8_lossy(&body).into_owned();
    let (_, note) = body.split_once("\n\n").unwrap_or(("", ""));
    let (text, _) = checkpoint::split(note.as_bytes()).unwrap_or((b"", b""));
    let now = u64::try_from(jiff::Timestamp::now().as_second()).unwrap();
    let line = |k: &NoteKey, t: u64| checkpoint::cosign_line(k, text, t).unwrap_or_default();
    let (status, ctype, reply) = match mode {
        Mode::OtherKeys => (
            200,
            "text/plain",
            format!("{}{}junk\n", line(impostor, now), line(ru, now)),
        ),
        Mode::Forged => {
            let good = line(key, now);
            // Keep the name and key id; flip the signature's last bytes.
            let (head, sig) = good.trim_end().rsplit_once(' ').unwrap();
            let mut raw = hotline_proto::b64::decode(sig).unwrap();
            let n = raw.len();
            raw[n - 1] ^= 0xff;
            (
                200,
                "text/plain",
                format!("{head} {}\n", hotline_proto::b64::encode(raw)),
            )
        }
        Mode::Beyond => (409, "text/x.tlog.size", "1000000\n".into()),
        Mode::Unprocessable => (
            422,
            "text/plain",
            "consistency proof does not verify\n".into(),
        ),
        Mode::Huge => (200, "text/plain", "x".repeat(1 << 20)),
        Mode::Ahead => (200, "text/plain", line(key, now + 86_400)),
        Mode::Honest => (200, "text/plain", line(key, now)),
    };
    let mut w = conn;
    write!(
        w,
        "HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reply.len()
    )?;
    let _ = w.write_all(reply.as_bytes());
    Ok(())
}

#[test]
fn a_hostile_witness_gets_nothing_into_the_checkpoint_and_status_says_why() {
    let us = Party::new("us");
    set_cosign_interval(&us.dir, 1);
    ok(&["office", "add", "us/fbi", "--dir", us.d()]);
    let evil = Hostile::start();
    ok(&[
        "witness",
        "add",
        &evil.url,
        "--key",
        &evil.vkey,
        "--dir",
        us.d(),
    ]);
    let a = Served::start(&us.dir);
    let note_before = ok(&["checkpoint", "--dir", us.d()]);
    let clean = |why: &str| {
        let s = signers(&us);
        assert!(
            s.iter()
                .all(|n| n == "hotline/us" || n == "hotline/us/witness"),
            "{why}: the checkpoint took {s:?}"
        );
        assert_eq!(
            status(&us)["witnesses"][0]["cosigned_size"],
            serde_json::Value::Null
        );
    };
    for (mode, words) in [
        (
            Mode::OtherKeys,
            "without a signature line of its pinned key",
        ),
        (Mode::Forged, "cosignature from evil.example/w"),
        (Mode::Beyond, "larger than this log's"),
        (Mode::Unprocessable, "does not verify"),
        (Mode::Huge, "over 16384 bytes"),
        (Mode::Ahead, "the cosignature was not merged"),
    ] {
        evil.set(mode);
        wait_until(30, &format!("the node to refuse {mode:?}"), || {
            witness_status(&us)["last_error"]
                .as_str()
                .is_some_and(|e| e.contains(words))
        });
        clean(&format!("{mode:?}"));
    }
    let failures = witness_status(&us)["failures"].as_u64().unwrap();
    assert!(failures >= 6, "{failures}");
    let metrics = a.request("GET", "/metrics", b"").1;
    assert!(
        metrics.contains("hotline_witness_failures_total{witness=\"evil.example/w\"}"),
        "{metrics}"
    );
    // The note changed only by the node's own doing (its own witness's
    // time stamp), never by a line of the hostile witness.
    assert!(!note_before.contains("evil.example"));
    // Its one honest answer is taken.
    evil.set(Mode::Honest);
    wait_until(30, "the honest cosignature", || {
        witness_status(&us)["cosigned_size"].as_u64() == Some(1)
    });
    assert_eq!(witness_status(&us)["last_error"], serde_json::Value::Null);
    assert!(signers(&us).iter().any(|n| n == "evil.example/w"));
}
