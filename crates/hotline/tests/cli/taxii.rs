//! TAXII 2.1 against real nodes: `us` and `ru` served and federated under
//! the cyber agreement. The refused requests (invalid STIX, a wrong
//! Content-Type, a body over the limit, another office's collection) each
//! get their TAXII status and error body, and nothing is written; then an
//! independent client (tests/taxii, on taxii2-client and stix2-validator
//! from PyPI, which scripts/test installs) writes objects to us's
//! collection, pages through them, validates them, and reads the same
//! objects from ru's collection after delivery.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use base64::Engine as _;

use super::federation::federated;
use super::util::*;

const MEDIA: &str = "application/taxii+json;version=2.1";
const PASSWORD: &str = "correct horse battery";

/// One TAXII request: status, headers and body.
fn taxii(
    addr: &str,
    method: &str,
    path: &str,
    auth: &str,
    content_type: &str,
    body: &[u8],
) -> (u16, String, serde_json::Value) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {auth}\r\nAccept: {MEDIA}\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    // The server may answer (413) before reading a large body.
    let _ = s.write_all(body);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text[9..12].parse().unwrap();
    let (headers, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let body = body.trim();
    // Small bodies arrive with a length; a chunked one has one chunk here.
    let json = serde_json::from_str(body)
        .or_else(|_| {
            let inner = body.split_once("\r\n").map_or("", |(_, b)| b);
            serde_json::from_str(inner.rsplit_once("\r\n0").map_or(inner, |(b, _)| b))
        })
        .unwrap_or(serde_json::Value::Null);
    (status, headers.to_ascii_lowercase(), json)
}

fn basic(name: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{name}:{PASSWORD}"))
    )
}

fn assert_taxii_error(got: &(u16, String, serde_json::Value), status: u16) {
    assert_eq!(got.0, status, "{:?}", got.2);
    assert!(
        got.1.contains(&format!("content-type: {MEDIA}")),
        "{}",
        got.1
    );
    assert_eq!(got.2["http_status"], status.to_string(), "{:?}", got.2);
}

/// A valid indicator.
fn indicator(n: u32) -> serde_json::Value {
    let t = "2026-03-01T12:00:00.000Z";
    serde_json::json!({
        "type": "indicator", "spec_version": "2.1",
        "id": format!("indicator--6b2a3c4d-0000-4000-8000-{n:012}"),
        "created": t, "modified": t, "pattern_type": "stix", "valid_from": t,
        "pattern": format!("[ipv4-addr:value = '203.0.113.{n}']"),
    })
}

/// The Python with taxii2-client and stix2-validator: scripts/test's venv
/// under target/, or the system's. `None` when neither has them.
fn python() -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/taxii-venv/bin/python");
    [venv, PathBuf::from("python3")].into_iter().find(|p| {
        Command::new(p)
            .args(["-c", "import taxii2client, stix2validator"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

#[test]
fn taxii_clients_read_and_write_a_channel_and_hostile_requests_write_nothing() {
    let (us, ru, a, b) = federated();
    let agreement = agree(&us, &ru, &example("cyber-agreement.toml"));
    ok(&["office", "add", "us/cia", "--dir", us.d()]);
    let pw_us = password_file(&us, "pw", PASSWORD);
    let pw_ru = password_file(&ru, "pw", PASSWORD);
    ok(&operator_add_args(&us, "us/fbi", "alice", &pw_us, &[]));
    ok(&operator_add_args(&us, "us/cia", "carol", &pw_us, &[]));
    ok(&operator_add_args(&ru, "ru/fsb", "boris", &pw_ru, &[]));
    let token = json(&ok(&[
        "operator",
        "token",
        "boris",
        "--dir",
        ru.d(),
        "--json",
    ]))["token"]
        .as_str()
        .unwrap()
        .to_owned();

    let cols = taxii(
        &a.addr,
        "GET",
        "/taxii2/hotline/collections/",
        &basic("alice"),
        MEDIA,
        b"",
    );
    assert_eq!(cols.0, 200, "{:?}", cols.2);
    let list = cols.2["collections"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    let id = list[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(list[0]["can_write"], true);
    let title = list[0]["title"].as_str().unwrap();
    assert!(
        title.contains("us/fbi") && title.contains("ru/fsb") && title.contains("Cybercrime"),
        "{title}"
    );
    let objects = format!("/taxii2/hotline/collections/{id}/objects/");

    // Refused, each with its TAXII error, and nothing written.
    let size = log_json(us.d()).len();
    let invalid = serde_json::json!({"objects": [
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--not-a-uuid"}
    ]});
    let envelope = serde_json::json!({"objects": [indicator(1)]}).to_string();
    // A byte that is not UTF-8 inside the object's id.
    let mut not_utf8 = envelope.clone().into_bytes();
    not_utf8[envelope.find("indicator--").expect("an id")] = 0xff;
    for (what, auth, ct, body, status) in [
        (
            "invalid STIX",
            basic("alice"),
            MEDIA,
            invalid.to_string().into_bytes(),
            422,
        ),
        (
            "not an envelope",
            basic("alice"),
            MEDIA,
            b"[1, 2]".to_vec(),
            400,
        ),
        ("not UTF-8", basic("alice"), MEDIA, not_utf8, 400),
        (
            "nested past serde_json's limit",
            basic("alice"),
            MEDIA,
            format!("{{\"objects\": [{}1{}]}}", "[".repeat(200), "]".repeat(200)).into_bytes(),
            400,
        ),
        (
            "a wrong Content-Type",
            basic("alice"),
            "application/json",
            envelope.clone().into_bytes(),
            415,
        ),
        (
            "over the limit",
            basic("alice"),
            MEDIA,
            vec![b' '; 9 * 1024 * 1024],
            413,
        ),
        (
            "another office's collection",
            basic("carol"),
            MEDIA,
            envelope.clone().into_bytes(),
            404,
        ),
        (
            "a reader with no account",
            "Basic bm9ib2R5Og==".to_owned(),
            MEDIA,
            envelope.clone().into_bytes(),
            401,
        ),
    ] {
        let got = taxii(&a.addr, "POST", &objects, &auth, ct, &body);
        assert_taxii_error(&got, status);
        assert_eq!(log_json(us.d()).len(), size, "{what} wrote nothing");
    }
    let other = taxii(&a.addr, "GET", &objects, &basic("carol"), MEDIA, b"");
    assert_taxii_error(&other, 404);
    let unknown = taxii(
        &a.addr,
        "GET",
        "/taxii2/hotline/collections/nope/objects/",
        &basic("alice"),
        MEDIA,
        b"",
    );
    assert_eq!(
        unknown.2["description"]
            .as_str()
            .map(|d| d.replace("\"nope\"", "ID")),
        other.2["description"]
            .as_str()
            .map(|d| d.replace(&format!("\"{id}\""), "ID")),
        "an unknown collection and another office's read alike"
    );
    let wrong_accept = {
        let mut s = TcpStream::connect(&a.addr).unwrap();
        write!(s, "GET {objects} HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\nAccept: text/html\r\nConnection: close\r\n\r\n", a.addr, basic("alice")).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    };
    assert!(wrong_accept.starts_with("HTTP/1.1 406"), "{wrong_accept}");

    // Like PostgreSQL and Go, the independent client is required: a test
    // that skipped silently could not fail.
    let python = python().expect(
        "the independent TAXII client is missing: python has no taxii2client/stix2validator; \
         run scripts/test, which installs them into target/taxii-venv",
    );
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/taxii/taxii_client_test.py");
    let out = Command::new(python)
        .arg(script)
        .env("US_URL", format!("http://{}", a.addr))
        .env("RU_URL", format!("http://{}", b.addr))
        .env("US_USER", "alice")
        .env("US_PASSWORD", PASSWORD)
        .env("RU_TOKEN", &token)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the TAXII client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{stdout}");
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    // One message entry for the one POST, under the agreement in force.
    let log = log_json(us.d());
    assert_eq!(log.len(), size + 1);
    let h = &log[size]["header"];
    assert_eq!(h["kind"], "message", "{h}");
    assert_eq!(h["agreement"], agreement.as_str(), "{h}");
}
