//! C2SP tlog-tiles from a real `hotline serve`, read by code that is not
//! hotline's: `tlog_tiles` (Cloudflare's port of Go's `sumdb/tlog`) reads
//! the hash tiles through its own authenticating `TileHashReader` and makes
//! and checks the inclusion proof, `signed_note` checks the checkpoint's
//! signature. Our reader only maps its tile coordinates to C2SP paths. And
//! a small Go program on Go's own `golang.org/x/mod/sumdb/tlog` and
//! `sumdb/note` (`tiles_reader/main.go`, built offline in GOPATH mode
//! against Debian's golang-golang-x-mod-dev) does the same.

use std::cell::RefCell;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use hotline_proto::b64;
use tlog_tiles::{Tile, TileHashReader, TileReader};

use super::federation::{federated, settled};
use super::util::*;

/// A GET with an optional bearer token: status, headers (lowercase names),
/// body bytes.
fn get(addr: &str, path: &str, token: Option<&str>) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header block");
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.lines();
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        let mut out = Vec::new();
        let mut rest = &body[..];
        loop {
            let eol = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let n = usize::from_str_radix(std::str::from_utf8(&rest[..eol]).unwrap().trim(), 16)
                .unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&rest[eol + 2..eol + 2 + n]);
            rest = &rest[eol + 4 + n..];
        }
        body = out;
    }
    (status, headers, body)
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> &'a str {
    h.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

/// `tlog_tiles`' tile coordinates (Go's `tile/H/L/N`, `tile/H/data/N`)
/// as C2SP paths (`tile/L/N`, `tile/entries/N`), height 8.
fn c2sp_path(t: &Tile) -> String {
    assert_eq!(t.height(), 8);
    let go = t.path();
    let rest = go.strip_prefix("tile/8/").unwrap();
    match rest.strip_prefix("data/") {
        Some(n) => format!("tile/entries/{n}"),
        None => format!("tile/{rest}"),
    }
}

/// Tiles fetched over HTTP from `prefix` (e.g. `/tiles/us/`).
struct HttpTiles<'a> {
    addr: &'a str,
    prefix: String,
    token: Option<&'a str>,
    fetched: RefCell<Vec<String>>,
}

impl TileReader for HttpTiles<'_> {
    fn height(&self) -> u8 {
        8
    }
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
        tiles
            .iter()
            .map(|t| {
                let path = format!("{}{}", self.prefix, c2sp_path(t));
                let (status, h, body) = get(self.addr, &path, self.token);
                if status != 200 {
                    return Err(tlog_tiles::Error::InvalidInput(format!(
                        "GET {path}: {status} {}",
                        String::from_utf8_lossy(&body)
                    )));
                }
                assert_eq!(header(&h, "content-type"), "application/octet-stream");
                self.fetched.borrow_mut().push(path);
                Ok(body)
            })
            .collect()
    }
    fn save_tiles(&self, _: &[Tile], _: &[Vec<u8>]) {}
}

/// Splits an entry bundle into its entries (uint16 big-endian length, bytes).
fn bundle_entries(mut b: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let n = usize::from(u16::from_be_bytes([b[0], b[1]]));
        out.push(b[2..2 + n].to_vec());
        b = &b[2 + n..];
    }
    out
}

/// The served checkpoint of the log at `prefix`, verified with `vkey` by
/// `signed_note`: (size, root hash).
fn checkpoint(
    addr: &str,
    prefix: &str,
    token: Option<&str>,
    vkey: &str,
) -> (u64, tlog_tiles::Hash) {
    let (status, h, body) = get(addr, &format!("{prefix}checkpoint"), token);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(header(&h, "content-type"), "text/plain; charset=utf-8");
    let note = signed_note::Note::from_bytes(&body).unwrap();
    let v = signed_note::StandardVerifier::new(vkey).unwrap();
    note.verify(&signed_note::VerifierList::new(vec![Box::new(v)]))
        .expect("the served checkpoint verifies against the log key");
    let cp = tlog_tiles::Checkpoint::from_bytes(note.text()).unwrap();
    (cp.size(), *cp.hash())
}

/// Verifies, with `tlog_tiles` only, that entry `index` of the log served at
/// `prefix` is in the checkpointed tree; returns the entry's bytes.
fn verify_entry(
    addr: &str,
    prefix: &str,
    token: Option<&str>,
    vkey: &str,
    index: u64,
) -> Result<Vec<u8>, tlog_tiles::Error> {
    let (size, root) = checkpoint(addr, prefix, token, vkey);
    let tiles = HttpTiles {
        addr,
        prefix: prefix.to_owned(),
        token,
        fetched: RefCell::default(),
    };
    let reader = TileHashReader::new(size, root, &tiles);
    let proof = tlog_tiles::prove_record(size, index, &reader)?;
    // The bundle holding the entry: full, or the partial at the tree's edge.
    let n = index / 256;
    let w = u32::try_from((size - n * 256).min(256)).unwrap();
    let t = Tile::new(8, 0, n, w, true);
    let path = format!("{prefix}{}", c2sp_path(&t));
    let (status, h, body) = get(addr, &path, token);
    assert_eq!(
        status,
        200,
        "GET {path}: {}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(header(&h, "content-type"), "application/octet-stream");
    let entries = bundle_entries(&body);
    assert_eq!(entries.len() as u32, w, "{path}");
    let leaf = entries[usize::try_from(index % 256).unwrap()].clone();
    tlog_tiles::check_record(&proof, size, root, index, tlog_tiles::record_hash(&leaf))?;
    assert!(!tiles.fetched.borrow().is_empty());
    Ok(leaf)
}

fn leaf_of(log: &[serde_json::Value], index: u64) -> Vec<u8> {
    b64::decode(
        log[usize::try_from(index).unwrap()]["leaf"]
            .as_str()
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn an_independent_reader_verifies_inclusion_from_the_own_log_and_a_mirror() {
    let (us, ru, a, b) = federated();
    ok(&["office", "add", "us/state", "--dir", us.d()]);
    ok(&["office", "add", "ru/mvd", "--dir", ru.d()]);
    // More than one full tile in us's log: a level-1 tile and partials.
    for i in 0..300 {
        let body = format!(r#"{{"from":"us/fbi","to":"us/state","text":"note {i}"}}"#);
        let (s, t) = a.request("POST", "/v1/messages", body.as_bytes());
        assert_eq!(s, 201, "{t}");
    }
    for i in 0..20 {
        let body = format!(r#"{{"from":"ru/fsb","to":"ru/mvd","text":"note {i}"}}"#);
        let (s, t) = b.request("POST", "/v1/messages", body.as_bytes());
        assert_eq!(s, 201, "{t}");
    }
    settled(&us, &ru);
    let token = Some(a.token.as_str());

    // The listing names both logs with their sizes.
    let (s, _, body) = get(&a.addr, "/tiles/", token);
    assert_eq!(s, 200);
    let list: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let logs = list["logs"].as_array().unwrap();
    assert_eq!(logs.len(), 2, "{list}");
    assert_eq!(logs[0]["name"], "us");
    assert_eq!(logs[0]["own"], true);
    assert_eq!(logs[1]["name"], "ru");
    assert_eq!(logs[1]["own"], false);

    let us_log = log_json(us.d());
    let (size, _) = checkpoint(&a.addr, "/tiles/us/", token, &us.vkey());
    assert!(size > 300, "{size}");
    for i in [0, 1, 255, 256, 257, size / 2, size - 1] {
        let leaf = verify_entry(&a.addr, "/tiles/us/", token, &us.vkey(), i)
            .unwrap_or_else(|e| panic!("entry {i}: {e}"));
        assert_eq!(leaf, leaf_of(&us_log, i), "entry {i} is the leaf as logged");
    }
    // Full tiles say they never change; partial ones do not.
    let (s, h, full) = get(&a.addr, "/tiles/us/tile/0/000", token);
    assert_eq!(s, 200);
    assert_eq!(full.len(), 256 * 32);
    assert!(header(&h, "cache-control").contains("immutable"), "{h:?}");
    let (s, h, level1) = get(&a.addr, "/tiles/us/tile/1/000.p/1", token);
    assert_eq!(s, 200);
    assert_eq!(level1.len(), 32);
    assert_eq!(header(&h, "cache-control"), "no-cache");
    // The level-1 hash is the root of the level-0 tile.
    assert_eq!(tlog_tiles::Tile::subtree_hash(&full).0[..], level1[..]);

    // ru's log, as us mirrors it, checks against ru's key.
    let ru_log = log_json(ru.d());
    let (ru_size, _) = checkpoint(&a.addr, "/tiles/ru/", token, &ru.vkey());
    assert_eq!(ru_size, ru_log.len() as u64);
    for i in 0..ru_size {
        let leaf = verify_entry(&a.addr, "/tiles/ru/", token, &ru.vkey(), i)
            .unwrap_or_else(|e| panic!("ru entry {i}: {e}"));
        assert_eq!(leaf, leaf_of(&ru_log, i));
    }
    // And not against us's: the reader is not fooled by a swapped key.
    let (s, _, body) = get(&a.addr, "/tiles/ru/checkpoint", token);
    assert_eq!(s, 200);
    let note = signed_note::Note::from_bytes(&body).unwrap();
    let wrong = signed_note::StandardVerifier::new(&us.vkey()).unwrap();
    assert!(
        note.verify(&signed_note::VerifierList::new(vec![Box::new(wrong)]))
            .is_err()
    );

    // A reader that pairs a tile set with the wrong root finds out.
    let (_, us_root) = checkpoint(&a.addr, "/tiles/us/", token, &us.vkey());
    let tiles = HttpTiles {
        addr: &a.addr,
        prefix: "/tiles/ru/".into(),
        token,
        fetched: RefCell::default(),
    };
    let mismatched = TileHashReader::new(ru_size, us_root, &tiles);
    assert!(tlog_tiles::prove_record(ru_size, 0, &mismatched).is_err());
}

#[test]
fn tiles_refuse_strangers_bad_paths_and_what_is_beyond_the_tree() {
    let us = Party::new("us");
    ok(&["office", "add", "us/fbi", "--dir", us.d()]);
    ok(&["office", "add", "us/state", "--dir", us.d()]);
    let config = us.dir.join("hotline.toml");
    let mut toml = std::fs::read_to_string(&config).unwrap();
    toml.push_str("\n[tiles]\ntoken_file = \"reader.token\"\n");
    std::fs::write(&config, &toml).unwrap();
    std::fs::write(us.dir.join("reader.token"), "managed-reader-token\n").unwrap();
    let node = Served::start(&us.dir);
    let size = log_json(us.d()).len() as u64;
    assert_eq!(size, 2);

    // No token, a wrong token: 401 with a JSON error saying what to do.
    for token in [None, Some("nope"), Some("")] {
        let (s, h, body) = get(&node.addr, "/tiles/us/checkpoint", token);
        assert_eq!(s, 401, "{token:?}");
        assert!(
            header(&h, "www-authenticate").starts_with("Bearer"),
            "{h:?}"
        );
        let err: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert!(
            err["error"]
                .as_str()
                .unwrap()
                .contains("hotline tiles token"),
            "{err}"
        );
        for path in [
            "/tiles/",
            "/tiles/us/tile/0/000.p/2",
            "/tiles/us/tile/entries/000.p/1",
        ] {
            assert_eq!(get(&node.addr, path, token).0, 401, "{path}");
        }
    }

    // A read token from the CLI, shown once, kept as a hash only.
    let t1 = ok(&["tiles", "token", "--dir", us.d()]).trim().to_owned();
    let t2 = json(&ok(&["tiles", "token", "--dir", us.d(), "--json"]));
    let t2 = t2["token"].as_str().unwrap().to_owned();
    assert_ne!(t1, t2);
    let kept = std::fs::read_to_string(us.dir.join("tiles.tokens")).unwrap();
    assert!(!kept.contains(&t1) && !kept.contains(&t2), "{kept}");
    assert_eq!(kept.lines().count(), 2);
    for t in [
        t1.as_str(),
        t2.as_str(),
        "managed-reader-token",
        &node.token,
    ] {
        let (s, _, body) = get(&node.addr, "/tiles/us/checkpoint", Some(t));
        assert_eq!(s, 200, "{t}: {}", String::from_utf8_lossy(&body));
    }
    // A read token is not the API token.
    let (s, _) = http(&node.addr, "GET", "/v1/log", Some(&t1), b"");
    assert_eq!(s, 401);
    let err = fails(&[
        "tiles",
        "token",
        "--dir",
        us.dir.join("nowhere").to_str().unwrap(),
    ]);
    assert!(err.contains("not a node directory"), "{err}");

    let t = Some(t1.as_str());
    // What the tree has, and what it has not yet.
    for (path, status) in [
        ("/tiles/us/tile/0/000.p/2", 200),
        ("/tiles/us/tile/0/000.p/1", 200),
        ("/tiles/us/tile/entries/000.p/2", 200),
        ("/tiles/us/tile/0/000.p/3", 404),
        ("/tiles/us/tile/0/000", 404),
        ("/tiles/us/tile/entries/000", 404),
        ("/tiles/us/tile/1/000.p/1", 404),
        ("/tiles/us/tile/0/001.p/1", 404),
        // The largest N there is: no tree holds it, and nothing overflows.
        ("/tiles/us/tile/0/x018/x446/x744/x073/x709/x551/615", 404),
        (
            "/tiles/us/tile/7/x018/x446/x744/x073/x709/x551/615.p/255",
            404,
        ),
        (
            "/tiles/us/tile/entries/x018/x446/x744/x073/x709/x551/615",
            404,
        ),
        // Beyond u64, widths over 255 in a partial, levels past 7, bad forms.
        (
            "/tiles/us/tile/0/x999/x999/x999/x999/x999/x999/x999/999",
            400,
        ),
        ("/tiles/us/tile/0/000.p/256", 400),
        ("/tiles/us/tile/0/000.p/65537", 400),
        ("/tiles/us/tile/0/000.p/0", 400),
        ("/tiles/us/tile/8/000", 400),
        ("/tiles/us/tile/0/0", 400),
        ("/tiles/us/tile/0/x000/000", 400),
        ("/tiles/us/tile/data/000", 400),
        // Path traversal, raw and encoded.
        ("/tiles/us/tile/../../v1/log", 400),
        ("/tiles/us/tile/0/../../../api.token", 400),
        ("/tiles/us/tile/%2e%2e/%2e%2e/v1/log", 400),
        ("/tiles/../v1/log", 404),
        ("/tiles/%2e%2e/checkpoint", 404),
        ("/tiles/..%2fv1/checkpoint", 404),
        ("/tiles/nope/checkpoint", 404),
        ("/tiles/US/checkpoint", 404),
    ] {
        let (s, h, body) = get(&node.addr, path, t);
        assert_eq!(s, status, "{path}: {}", String::from_utf8_lossy(&body));
        if status != 200 {
            assert_eq!(header(&h, "content-type"), "application/json", "{path}");
            let err: serde_json::Value = serde_json::from_slice(&body)
                .unwrap_or_else(|_| panic!("{path}: not JSON: {}", String::from_utf8_lossy(&body)));
            assert_eq!(err["status"], status, "{path}");
            assert!(!String::from_utf8_lossy(&body).contains(&node.token));
        }
    }
    let (_, _, bundle) = get(&node.addr, "/tiles/us/tile/entries/000.p/2", t);
    let log = log_json(us.d());
    assert_eq!(
        bundle_entries(&bundle),
        vec![leaf_of(&log, 0), leaf_of(&log, 1)]
    );
    // Still serving after all of that.
    let (s, _) = http(&node.addr, "GET", "/healthz", None, b"");
    assert_eq!(s, 200);
    drop(node);

    // Public: no token needed, and full tiles may be cached by anyone.
    toml.push_str("public = true\n");
    std::fs::write(&config, &toml).unwrap();
    let node = Served::start(&us.dir);
    let (s, _, _) = get(&node.addr, "/tiles/us/checkpoint", None);
    assert_eq!(s, 200);
    let (s, _, body) = get(&node.addr, "/tiles/", None);
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&body));
    let (s, _, _) = get(&node.addr, "/tiles/us/tile/0/000.p/2", None);
    assert_eq!(s, 200);
    // The rest of the API still wants its token.
    let (s, _) = http(&node.addr, "GET", "/v1/log", None, b"");
    assert_eq!(s, 401);
}

/// Builds the Go reader in `tiles_reader/main.go` (Go's `sumdb/tlog` and
/// `sumdb/note`) in GOPATH mode against Debian's golang-golang-x-mod-dev,
/// offline; returns the binary.
fn go_reader() -> std::path::PathBuf {
    const SRC: &str = include_str!("tiles_reader/main.go");
    const XMOD: &str = "/usr/share/gocode";
    assert!(
        std::process::Command::new("go")
            .arg("version")
            .output()
            .is_ok()
            && std::path::Path::new(XMOD)
                .join("src/golang.org/x/mod/sumdb/tlog")
                .is_dir(),
        "this test needs Go and golang.org/x/mod from Debian: apt-get install golang-go golang-golang-x-mod-dev (scripts/test does)"
    );
    let root = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("tiles-go");
    let src = root.join("src/tilesreader");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("main.go"), SRC).unwrap();
    let bin = root.join("tiles_reader");
    let out = std::process::Command::new("go")
        .args(["build", "-o"])
        .arg(&bin)
        .arg("tilesreader")
        .current_dir(&root)
        .env("GO111MODULE", "off")
        .env("GOPATH", format!("{}:{XMOD}", root.display()))
        .env("GOCACHE", root.join("cache"))
        .env("GOFLAGS", "")
        .env("GOPROXY", "off")
        .env("CGO_ENABLED", "0")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "go build: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    bin
}

#[test]
fn go_sumdb_tlog_verifies_inclusion_from_the_served_tiles() {
    let reader = go_reader();
    let us = Party::new("us");
    let other = Party::new("ru");
    ok(&["office", "add", "us/fbi", "--dir", us.d()]);
    ok(&["office", "add", "us/state", "--dir", us.d()]);
    let node = Served::start(&us.dir);
    for i in 0..270 {
        let body = format!(r#"{{"from":"us/fbi","to":"us/state","text":"note {i}"}}"#);
        let (s, t) = node.request("POST", "/v1/messages", body.as_bytes());
        assert_eq!(s, 201, "{t}");
    }
    let log = log_json(us.d());
    let size = log.len() as u64;
    let prefix = format!("http://{}/tiles/us/", node.addr);
    let token = ok(&["tiles", "token", "--dir", us.d()]).trim().to_owned();
    let run = |vkey: &str, indexes: &[u64]| {
        let mut c = std::process::Command::new(&reader);
        c.args([prefix.as_str(), token.as_str(), vkey]);
        c.args(indexes.iter().map(u64::to_string));
        c.output().unwrap()
    };
    let indexes = [0, 1, 255, 256, size / 2, size - 1];
    let out = run(&us.vkey(), &indexes);
    assert!(
        out.status.success(),
        "the Go reader: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), indexes.len());
    for (line, &i) in lines.iter().zip(&indexes) {
        let f: Vec<&str> = line.split(' ').collect();
        assert_eq!(f[0], i.to_string());
        assert_eq!(f[1], size.to_string());
        assert_eq!(
            f[2],
            log[usize::try_from(i).unwrap()]["leaf_hash"],
            "{line}"
        );
        assert_eq!(f[3], log[usize::try_from(i).unwrap()]["leaf"], "{line}");
    }
    // Another log's key: the checkpoint does not verify.
    let out = run(&other.vkey(), &[0]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("checkpoint"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Past the end of the tree: nothing to prove.
    let out = run(&us.vkey(), &[size]);
    assert!(!out.status.success());
}
