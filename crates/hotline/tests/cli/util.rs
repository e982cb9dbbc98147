use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_hotline")
}

/// Runs `hotline ARGS` to completion.
pub fn hotline(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .env("HOTLINE_LOG", "warn")
        .output()
        .expect("running hotline")
}

/// Runs `hotline ARGS` to completion with `input` on standard input.
pub fn with_stdin(args: &[&str], input: impl AsRef<[u8]>) -> Output {
    let mut child = Command::new(bin())
        .args(args)
        .env("HOTLINE_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running hotline");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_ref())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Runs `hotline ARGS`, asserting success; returns stdout.
pub fn ok(args: &[&str]) -> String {
    let o = hotline(args);
    assert!(
        o.status.success(),
        "hotline {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&o.stderr),
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8(o.stdout).expect("utf-8 output")
}

/// Runs `hotline ARGS`, asserting failure; returns stderr.
pub fn fails(args: &[&str]) -> String {
    let o = hotline(args);
    assert!(
        !o.status.success(),
        "hotline {args:?} should have failed; stdout: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8(o.stderr).expect("utf-8 output")
}

/// A party directory in a fresh temp dir.
pub struct Party {
    pub _tmp: tempfile::TempDir,
    pub dir: PathBuf,
}

impl Party {
    pub fn new(name: &str) -> Self {
        Self::init(name, &[])
    }
    /// `hotline init` with more arguments (`--store URL`, …).
    pub fn init(name: &str, more: &[&str]) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(name);
        let mut args = vec!["init", "--party", name, "--dir", dir.to_str().unwrap()];
        args.extend_from_slice(more);
        ok(&args);
        Self { _tmp: tmp, dir }
    }
    pub fn d(&self) -> &str {
        self.dir.to_str().unwrap()
    }
    pub fn vkey(&self) -> String {
        ok(&["key", "--dir", self.d()]).trim().to_owned()
    }
}

/// Where a server a test starts writes its log: nowhere, unless
/// HOTLINE_TEST_NODE_LOG is set.
pub fn server_stderr() -> Stdio {
    if std::env::var_os("HOTLINE_TEST_NODE_LOG").is_some() {
        Stdio::inherit()
    } else {
        Stdio::null()
    }
}

/// `hotline prove entry INDEX` of `p`'s log, written to `out`.
pub fn prove_entry(p: &Party, index: u64, out: &Path) {
    let i = index.to_string();
    ok(&[
        "prove",
        "entry",
        &i,
        "--dir",
        p.d(),
        "-o",
        out.to_str().unwrap(),
    ]);
}

/// A running `hotline serve`, killed on drop.
pub struct Served {
    pub child: Child,
    pub addr: String,
    pub token: String,
    /// The peer listener's address.
    pub peer_addr: String,
}

impl Served {
    pub fn start(dir: &Path) -> Self {
        Self::start_at(dir, "127.0.0.1:0", "127.0.0.1:0")
    }

    /// Starts on given addresses (a restarted peer must come back where it was pinned).
    // The child is waited for in `Drop` or `kill9`.
    #[allow(clippy::zombie_processes)]
    pub fn start_at(dir: &Path, api: &str, peer: &str) -> Self {
        let addr_file = dir.join("run/api.addr");
        let _ = std::fs::remove_file(&addr_file);
        let mut child = Command::new(bin())
            .args([
                "serve",
                "--dir",
                dir.to_str().unwrap(),
                "--listen",
                api,
                "--peer-listen",
                peer,
            ])
            // HOTLINE_TEST_NODE_LOG=info (or debug) shows the nodes' logs.
            .env(
                "HOTLINE_LOG",
                std::env::var("HOTLINE_TEST_NODE_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::null())
            .stderr(server_stderr())
            .spawn()
            .expect("starting hotline serve");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(a) = std::fs::read_to_string(&addr_file)
                && !a.is_empty()
                && TcpStream::connect(a.trim()).is_ok()
            {
                let token = std::fs::read_to_string(dir.join("api.token"))
                    .unwrap()
                    .trim()
                    .to_owned();
                let peer_addr = std::fs::read_to_string(dir.join("run/peer.addr"))
                    .unwrap()
                    .trim()
                    .to_owned();
                return Self {
                    child,
                    addr: a.trim().to_owned(),
                    token,
                    peer_addr,
                };
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("hotline serve did not come up");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: no chance to flush or clean up.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn request(&self, method: &str, path: &str, body: &[u8]) -> (u16, String) {
        http(&self.addr, method, path, Some(&self.token), body)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal HTTP/1.1 request (Connection: close); returns status and body.
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
) -> (u16, String) {
    try_http(addr, method, path, token, body).expect("HTTP request")
}

pub fn try_http(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes())?;
    s.write_all(body)?;
    let mut out = Vec::new();
    s.read_to_end(&mut out)?;
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .get(9..12)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status line"))?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, dechunk(&body)))
}

fn dechunk(body: &str) -> String {
    // Responses without Content-Length arrive chunked; undo that.
    let mut out = String::new();
    let mut rest = body;
    loop {
        let Some((size, after)) = rest.split_once("\r\n") else {
            return body.to_owned();
        };
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            return body.to_owned();
        };
        if n == 0 {
            return out;
        }
        if after.len() < n {
            return body.to_owned();
        }
        out.push_str(&after[..n]);
        rest = after[n..].strip_prefix("\r\n").unwrap_or(&after[n..]);
    }
}

/// The log as `hotline log --json` prints it.
pub fn log_json(dir: &str) -> Vec<serde_json::Value> {
    ok(&["log", "--dir", dir, "--json"])
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect()
}

/// Sets a node's cosign interval (seconds) in its hotline.toml.
pub fn set_cosign_interval(dir: &Path, secs: u64) {
    let p = dir.join("hotline.toml");
    let t = std::fs::read_to_string(&p).unwrap();
    let t = t.replace(
        "cosign_interval_secs = 60",
        &format!("cosign_interval_secs = {secs}"),
    );
    assert!(
        t.contains(&format!("cosign_interval_secs = {secs}")),
        "hotline.toml has no cosign interval: {t}"
    );
    std::fs::write(p, t).unwrap();
}

/// Pins each running node on the other, with its real URL and TLS pin.
pub fn federate(a: &Party, b: &Party) {
    let ak = a.dir.join("../exported.keys");
    let bk = b.dir.join("../exported.keys");
    std::fs::write(&ak, ok(&["keys", "export", "--dir", a.d()])).unwrap();
    std::fs::write(&bk, ok(&["keys", "export", "--dir", b.d()])).unwrap();
    let name = |p: &Party| p.dir.file_name().unwrap().to_str().unwrap().to_owned();
    ok(&[
        "peer",
        "add",
        &name(b),
        "--keys",
        bk.to_str().unwrap(),
        "--dir",
        a.d(),
    ]);
    ok(&[
        "peer",
        "add",
        &name(a),
        "--keys",
        ak.to_str().unwrap(),
        "--dir",
        b.d(),
    ]);
}

/// Polls `cond` until it holds or `secs` pass.
pub fn wait_until(secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out after {secs} s waiting for: {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The shipped example terms file `name` (in the repository's examples/).
pub fn example(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name);
    assert!(p.is_file(), "{} is missing", p.display());
    p.to_str().unwrap().to_owned()
}

/// `a` proposes the terms in `file`, `b` signs once it has mirrored the
/// proposal, and both see the agreement in force. Both nodes must be running
/// and federated. Returns the agreement id.
pub fn agree(a: &Party, b: &Party, file: &str) -> String {
    let out: serde_json::Value = serde_json::from_str(&ok(&[
        "agreement",
        "propose",
        "--file",
        file,
        "--dir",
        a.d(),
        "--json",
    ]))
    .unwrap();
    let id = out["id"].as_str().unwrap().to_owned();
    let in_state = |p: &Party, state: &str| {
        let list: serde_json::Value =
            serde_json::from_str(&ok(&["agreements", "--dir", p.d(), "--json"])).unwrap();
        list.as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == id.as_str() && x["state"] == state)
    };
    wait_until(30, "the proposal reaching the other party", || {
        in_state(b, "proposed")
    });
    ok(&["agreement", "sign", &id, "--dir", b.d()]);
    wait_until(30, "the signature reaching the proposer", || {
        in_state(a, "in_force")
    });
    id
}

/// Parses a command's `--json` output.
pub fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

/// `hotline COMMAND… --dir P --from FROM --to TO MORE…`: the arguments of
/// a command that writes from one office to another.
pub fn office_args<'a>(
    command: &[&'a str],
    p: &'a Party,
    from: &'a str,
    to: &'a str,
    more: &[&'a str],
) -> Vec<&'a str> {
    let mut args = command.to_vec();
    args.extend(["--dir", p.d(), "--from", from, "--to", to]);
    args.extend_from_slice(more);
    args
}

/// `hotline operator add OFFICE NAME --password-file FILE MORE… --dir P`.
pub fn operator_add_args<'a>(
    p: &'a Party,
    office: &'a str,
    name: &'a str,
    password_file: &'a str,
    more: &[&'a str],
) -> Vec<&'a str> {
    let command = [
        "operator",
        "add",
        office,
        name,
        "--password-file",
        password_file,
    ];
    [&command[..], more, &["--dir", p.d()]].concat()
}

/// `hotline operator passwd NAME --password-file FILE --dir P`.
pub fn operator_passwd_args<'a>(
    p: &'a Party,
    name: &'a str,
    password_file: &'a str,
) -> Vec<&'a str> {
    let command = ["operator", "passwd", name, "--password-file", password_file];
    [&command[..], &["--dir", p.d()]].concat()
}

/// Writes `password` and a newline to the file `name` next to the party's
/// directory, as an operator's `--password-file`; returns its path.
pub fn password_file(p: &Party, name: &str, password: &str) -> String {
    let path = p.dir.join("..").join(name);
    std::fs::write(&path, format!("{password}\n")).unwrap();
    path.to_str().unwrap().to_owned()
}

/// `hotline inquire … --subject SUBJECT --body-file FILE MORE…`.
pub fn inquire_args<'a>(
    p: &'a Party,
    from: &'a str,
    to: &'a str,
    subject: &'a str,
    body_file: &'a str,
    more: &[&'a str],
) -> Vec<&'a str> {
    let mut args = office_args(
        &["inquire"],
        p,
        from,
        to,
        &["--subject", subject, "--body-file", body_file],
    );
    args.extend_from_slice(more);
    args
}

/// `hotline send … MORE…` (`--text …` or `--text-file …`, `--json`, …).
pub fn send_args<'a>(p: &'a Party, from: &'a str, to: &'a str, more: &[&'a str]) -> Vec<&'a str> {
    office_args(&["send"], p, from, to, more)
}

/// `hotline call request … MORE…` (`--at TIME`, `--topic …`, `--video`, …).
pub fn call_request_args<'a>(
    p: &'a Party,
    from: &'a str,
    to: &'a str,
    more: &[&'a str],
) -> Vec<&'a str> {
    office_args(&["call", "request"], p, from, to, more)
}

/// `hotline send` (through the running node when it runs); the entry's index.
pub fn send(p: &Party, from: &str, to: &str, text: &str) -> u64 {
    let out = json(&ok(&send_args(p, from, to, &["--text", text, "--json"])));
    out["index"]
        .as_u64()
        .unwrap_or_else(|| panic!("no index: {out}"))
}

/// `prove absence` of inquiries us/fbi → ru/fsb in us's log, by the node in
/// `dir`, written to `output`.
pub fn absence_args<'a>(
    dir: &'a str,
    since: &'a str,
    until: &'a str,
    output: &'a str,
) -> Vec<&'a str> {
    vec![
        "prove", "absence", "--log", "us", "--kind", "inquiry", "--from", "us/fbi", "--to",
        "ru/fsb", "--since", since, "--until", until, "--dir", dir, "-o", output,
    ]
}

/// The log key and cosigner key of each of `parties`, as `--key`
/// arguments of `hotline verify`: what a reader pins.
pub fn pinned_keys(parties: &[&Party]) -> Vec<String> {
    let mut out = Vec::new();
    for p in parties {
        for witness in [false, true] {
            let mut args = vec!["key", "--dir", p.d()];
            if witness {
                args.push("--witness");
            }
            out.push("--key".to_owned());
            out.push(ok(&args).trim().to_owned());
        }
    }
    out
}

/// `hotline verify FILE KEYS…` as a real process: the claim it printed,
/// or its error.
pub fn verify(file: &str, keys: &[String]) -> Result<String, String> {
    let mut args = vec!["verify", file];
    args.extend(keys.iter().map(String::as_str));
    let o = hotline(&args);
    if o.status.success() {
        Ok(String::from_utf8_lossy(&o.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&o.stderr).into_owned())
    }
}

/// `prove stats` of the channel us/fbi ↔ ru/fsb for `month` (`YYYY-MM`), by
/// the node in `dir`, written to `output`.
pub fn stats_args<'a>(dir: &'a str, month: &'a str, output: &'a str) -> Vec<&'a str> {
    vec![
        "prove",
        "stats",
        "--channel",
        "us/fbi:ru/fsb",
        "--month",
        month,
        "--dir",
        dir,
        "-o",
        output,
    ]
}

/// The month before this one, `YYYY-MM` (the last finished month).
pub fn previous_month() -> String {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .first_of_month()
        .unwrap()
        .yesterday()
        .unwrap()
        .strftime("%Y-%m")
        .to_string()
}

/// The index in `party:index`.
pub fn index_of(id: &str) -> u64 {
    id.split_once(':').unwrap().1.parse().unwrap()
}

/// The header of entry `id` (`party:index`) in `log` (as [`log_json`] reads it).
pub fn header_of(log: &[serde_json::Value], id: &str) -> serde_json::Value {
    log.iter()
        .find(|l| l["index"].as_u64() == Some(index_of(id)))
        .unwrap_or_else(|| panic!("no entry {id}"))["header"]
        .clone()
}

/// The current time rounded down to a whole second.
pub fn now_floor() -> jiff::Timestamp {
    jiff::Timestamp::from_second(jiff::Timestamp::now().as_second()).unwrap()
}

/// Sleeps until `t` has passed on this machine's clock (every node here
/// shares it).
pub fn sleep_past(t: jiff::Timestamp) {
    let left = jiff::Timestamp::now().duration_until(t);
    if left.is_positive() {
        std::thread::sleep(left.unsigned_abs() + Duration::from_millis(50));
    }
}

/// The port of a throwaway PostgreSQL server on loopback, one per test
/// process, started on first use by `scripts/pg-test-cluster` (trust for
/// every role but `hotline_pw`, whose password is `right-password`). A
/// watcher stops it and removes its folder once the test process has gone,
/// however it ended. Without PostgreSQL the test fails, saying why.
pub fn pg_server() -> u16 {
    static PORT: OnceLock<u16> = OnceLock::new();
    *PORT.get_or_init(|| {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/pg-test-cluster");
        let dir = tempfile::Builder::new()
            .prefix("hotline-cli-pg-")
            .tempdir()
            .unwrap()
            .keep();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let out = Command::new(script)
            .arg("start")
            .arg(&dir)
            .arg(port.to_string())
            // The script stops the server once this process ends.
            .arg(std::process::id().to_string())
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("running scripts/pg-test-cluster: {e}"));
        assert!(
            out.status.success(),
            "these tests need PostgreSQL, and scripts/pg-test-cluster could not start it:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        port
    })
}

/// A new empty database on the test server, named after `what` and this
/// process (the server is shared by every test of the run): its URL.
pub fn fresh_database(what: &str) -> String {
    let port = pg_server();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/pg-test-cluster");
    let name = format!("{what}_{}", std::process::id());
    let out = std::process::Command::new(script)
        .args(["createdb", &port.to_string(), &name])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    format!("postgresql://postgres@127.0.0.1:{port}/{name}")
}
