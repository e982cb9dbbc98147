use std::io::{BufRead as _, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use super::util::{Party, Served, fails, http, json, ok, send_args, try_http};

/// After a crash, `run/api.addr` still names the port the node had. Whoever
/// binds it next must not receive the API token from the CLI: the CLI
/// reaches its own node over the Unix socket in `run/`, never over that
/// port, and says the node is not running.
#[test]
fn a_stale_address_file_does_not_leak_the_api_token() {
    let us = Party::new("us");
    let served = Served::start(&us.dir);
    let (addr, token) = (served.addr.clone(), served.token.clone());
    served.kill9();
    assert!(
        us.dir.join("run/api.addr").exists(),
        "a killed node leaves its address file"
    );

    // A listener that pretends to be the node and records what it gets.
    let squatter = TcpListener::bind(&addr).expect("binding the node's old port");
    let got = Arc::new(Mutex::new(Vec::<u8>::new()));
    let record = got.clone();
    std::thread::spawn(move || {
        for s in squatter.incoming() {
            let Ok(mut s) = s else { continue };
            let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
            let mut buf = [0u8; 4096];
            while let Ok(n) = s.read(&mut buf) {
                if n == 0 {
                    break;
                }
                record.lock().unwrap().extend_from_slice(&buf[..n]);
                let body = br#"{"status":"ok","party":"us","log_size":1}"#;
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(body);
            }
        }
    });

    let err = fails(&["status", "--dir", us.d()]);
    assert!(err.contains("is not running"), "{err}");
    let err = fails(&send_args(&us, "us/fbi", "ru/fsb", &["--text", "hi"]));
    assert!(err.contains("is not running"), "{err}");
    std::thread::sleep(Duration::from_millis(200));
    let seen = String::from_utf8_lossy(&got.lock().unwrap()).into_owned();
    assert!(
        !seen.contains(&token),
        "the API token reached the process on the node's old port:\n{seen}"
    );
}

/// `/healthz` and `/metrics` answer anyone, but without the token they say
/// only that the node is up: nothing about peers or traffic.
#[test]
fn health_and_metrics_say_nothing_about_traffic_without_the_token() {
    let us = Party::new("us");
    let served = Served::start(&us.dir);
    let (s, body) = http(&served.addr, "GET", "/healthz", None, b"");
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        json(&body),
        serde_json::json!({"status": "ok", "party": "us"})
    );
    let (s, body) = served.request("GET", "/healthz", b"");
    assert_eq!(s, 200, "{body}");
    assert_eq!(json(&body)["log_size"], 0, "{body}");

    let (s, body) = http(&served.addr, "GET", "/metrics", None, b"");
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        body,
        "# HELP hotline_up The node is serving. Every other metric needs the API token (Authorization: Bearer).\n# TYPE hotline_up gauge\nhotline_up 1\n# EOF\n"
    );
    let (s, body) = served.request("GET", "/metrics", b"");
    assert_eq!(s, 200, "{body}");
    assert!(body.contains("hotline_log_size"), "{body}");
    assert!(
        body.contains("hotline_peer_tls_handshake_failures"),
        "{body}"
    );
}

/// DNS rebinding: a request whose Host is not the node's (its listen
/// address, localhost, its certificate's names, `[api] allowed_hosts`) is
/// answered 421 and reaches no handler; one without a Host, 400.
#[test]
fn a_host_the_node_does_not_serve_is_answered_421() {
    let us = Party::new("us");
    let toml = us.dir.join("hotline.toml");
    let mut t = std::fs::read_to_string(&toml).unwrap();
    t.push_str("\n[api]\nallowed_hosts = [\"duty.example\"]\n");
    std::fs::write(&toml, t).unwrap();
    let served = Served::start(&us.dir);
    let port = served.addr.rsplit_once(':').unwrap().1.to_owned();
    let get = |host: Option<&str>| {
        let mut s = TcpStream::connect(&served.addr).unwrap();
        let host = host.map(|h| format!("Host: {h}\r\n")).unwrap_or_default();
        write!(
            s,
            "GET /healthz HTTP/1.1\r\n{host}Authorization: Bearer {}\r\nConnection: close\r\n\r\n",
            served.token
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    };
    for ok in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        "LOCALHOST".to_owned(),
        format!("[::1]:{port}"),
        format!("duty.example:{port}"),
    ] {
        let out = get(Some(&ok));
        assert!(out.starts_with("HTTP/1.1 200"), "Host {ok}: {out}");
    }
    for bad in [
        format!("evil.example:{port}"),
        "10.0.0.9".to_owned(),
        "localhost.evil.example".to_owned(),
    ] {
        let out = get(Some(&bad));
        assert!(out.starts_with("HTTP/1.1 421"), "Host {bad}: {out}");
        assert!(out.contains("does not answer to the host name"), "{out}");
        assert!(!out.contains("log_size"), "{out}");
    }
    let out = get(None);
    assert!(out.starts_with("HTTP/1.1 400"), "{out}");
    // The console too.
    let out = get(Some("evil.example"));
    assert!(out.starts_with("HTTP/1.1 421"), "{out}");
}

/// `hotline serve` of the node in `d` with its API on every address and
/// its peer port on loopback.
fn serve_off_loopback(d: &str) -> [&str; 7] {
    [
        "serve",
        "--dir",
        d,
        "--listen",
        "0.0.0.0:0",
        "--peer-listen",
        "127.0.0.1:0",
    ]
}

/// Asks for plain HTTP (`[api] tls = false`) at the end of the config file
/// `toml`; returns the config as it was before.
fn ask_plain_http(toml: &Path) -> String {
    let before = std::fs::read_to_string(toml).unwrap();
    std::fs::write(toml, format!("{before}\n[api]\ntls = false\n")).unwrap();
    before
}

/// Off loopback the API speaks HTTPS from the certificate `init` made
/// (naming the --san given), whose fingerprint `status` prints; plain HTTP
/// there is refused unless --insecure-plain-http is given.
#[test]
fn off_loopback_the_api_speaks_https_or_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("us");
    let d = dir.to_str().unwrap();
    ok(&["init", "--party", "us", "--dir", d, "--san", "duty.example"]);

    // Plain HTTP asked for off loopback: refused, saying what to do.
    let toml = dir.join("hotline.toml");
    let before = ask_plain_http(&toml);
    let err = fails(&serve_off_loopback(d));
    assert!(
        err.contains("refusing to serve the API and console in plain HTTP on 0.0.0.0:"),
        "{err}"
    );
    assert!(err.contains("--insecure-plain-http"), "{err}");
    std::fs::write(&toml, format!("{before}\n")).unwrap();

    let served = Served::start_at(&dir, "0.0.0.0:0", "127.0.0.1:0");
    let port = served.addr.rsplit_once(':').unwrap().1.to_owned();
    let st = json(&ok(&["status", "--dir", d, "--json"]));
    assert_eq!(st["api"]["scheme"], "https", "{st}");
    let pem = std::fs::read_to_string(dir.join("keys/api.crt")).unwrap();
    let der: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(der)
        .unwrap();
    let want: Vec<String> = Sha256::digest(&der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    assert_eq!(st["api"]["fingerprint_sha256"], want.join(":"), "{st}");
    let text = ok(&["status", "--dir", d]);
    assert!(
        text.contains(&format!(
            "certificate SHA-256 fingerprint {}",
            want.join(":")
        )),
        "{text}"
    );

    let curl = |name: &str, path: &str| {
        let o = Command::new("curl")
            .args([
                "-sS",
                "--max-time",
                "20",
                "-w",
                "\n%{http_code}",
                "--cacert",
            ])
            .arg(dir.join("keys/api.crt"))
            .arg("--resolve")
            .arg(format!("{name}:{port}:127.0.0.1"))
            .arg(format!("https://{name}:{port}{path}"))
            .output()
            .unwrap();
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
        )
    };
    // The certificate names localhost and the --san; curl checks both.
    for name in ["localhost", "duty.example"] {
        let (good, out) = curl(name, "/healthz");
        assert!(good, "{name}: {out}");
        let (body, code) = out.rsplit_once('\n').unwrap();
        assert_eq!(code, "200", "{name}: {out}");
        assert_eq!(
            json(body),
            serde_json::json!({"status": "ok", "party": "us"}),
            "{name}"
        );
    }
    // The console, over HTTPS.
    let (good, out) = curl("localhost", "/login");
    assert!(good && out.ends_with("\n200"), "{out}");
    // A name the certificate does not carry fails verification in curl.
    let (good, out) = curl("evil.example", "/healthz");
    assert!(!good, "{out}");
    // Plain HTTP to the HTTPS port gets no answer from the API.
    assert!(
        try_http(&format!("127.0.0.1:{port}"), "GET", "/healthz", None, b"")
            .map_or(true, |(s, _)| s != 200)
    );
    // The CLI still reaches its node (over the socket).
    ok(&["office", "add", "us/fbi", "--dir", d]);
    drop(served);

    // With the switch, plain HTTP off loopback is served.
    ask_plain_http(&toml);
    let mut child = Command::new(super::util::bin())
        .args(serve_off_loopback(d))
        .arg("--insecure-plain-http")
        .env("HOTLINE_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        line.contains("serving the API and console on http://0.0.0.0:"),
        "{line}"
    );
}
