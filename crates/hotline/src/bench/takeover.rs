//! How long one party's replicas are without a writer when the lease
//! holder dies: two `hotline serve` processes of one party directory (a
//! copy of it, on the same PostgreSQL database); each round SIGKILLs the
//! one holding the sequencer lease and sends through the other's API until
//! an append is durable (201), then restarts the killed one as a follower.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use serde::Serialize;

use super::progress;

/// Set on Ctrl-C: every wait of the run ends with an error, and the
/// processes and folders are cleaned up on the way out.
static STOP: AtomicBool = AtomicBool::new(false);

pub(super) fn interrupt() {
    STOP.store(true, Ordering::Relaxed);
}

/// Sleeps `ms`, unless the run was interrupted.
fn pause(ms: u64) -> Result<()> {
    if STOP.load(Ordering::Relaxed) {
        bail!("interrupted: the replicas were stopped and the temporary folder removed");
    }
    std::thread::sleep(Duration::from_millis(ms));
    Ok(())
}

/// How long a replica may take to come up, or the lease to be taken.
const WAIT: Duration = Duration::from_secs(60);

#[derive(Serialize)]
pub(super) struct TakeoverFigures {
    rounds: usize,
    /// The sequencer lease's time to live (`[store] lease_secs`).
    lease_secs: f64,
    /// Milliseconds from the holder's SIGKILL to the next 201 from the other replica.
    min_ms: f64,
    median_ms: f64,
    max_ms: f64,
    round_ms: Vec<f64>,
    /// The database, without the password.
    store: String,
}

pub(super) fn print(f: &TakeoverFigures) {
    println!();
    println!(
        "hotline bench takeover — 2 replicas on {}, lease {} s, {} rounds",
        f.store, f.lease_secs, f.rounds
    );
    println!(
        "  SIGKILL of the lease holder → next durable append (201) through the other replica:"
    );
    println!(
        "  min {:.0} ms, median {:.0} ms, max {:.0} ms",
        f.min_ms, f.median_ms, f.max_ms
    );
}

/// One `hotline serve` of a replica's directory; killed and reaped on drop.
struct Replica {
    dir: PathBuf,
    name: &'static str,
    child: Option<Child>,
    api: String,
}

impl Replica {
    fn new(dir: PathBuf, name: &'static str) -> Self {
        Self {
            dir,
            name,
            child: None,
            api: String::new(),
        }
    }

    /// Starts `hotline serve` on loopback ports the system picks and waits
    /// until its API answers.
    fn start(&mut self) -> Result<()> {
        let addr_file = self.dir.join("run/api.addr");
        let _ = std::fs::remove_file(&addr_file);
        let log = self.dir.join(format!("../serve-{}.log", self.name));
        let err = std::fs::File::options()
            .create(true)
            .append(true)
            .open(&log)
            .context("making the serve log")?;
        let child = Command::new(std::env::current_exe().context("finding this program")?)
            .arg("serve")
            .arg("--dir")
            .arg(&self.dir)
            .args(["--listen", "127.0.0.1:0", "--peer-listen", "127.0.0.1:0"])
            .env("HOTLINE_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .context("starting hotline serve")?;
        self.child = Some(child);
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(a) = std::fs::read_to_string(&addr_file)
                && !a.trim().is_empty()
                && TcpStream::connect(a.trim()).is_ok()
            {
                self.api = a.trim().to_owned();
                return Ok(());
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                self.child = None;
                bail!(
                    "hotline serve of replica {} exited ({status}): {}",
                    self.name,
                    tail(&log)
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "hotline serve of replica {} did not come up in {} s: {}",
                    self.name,
                    WAIT.as_secs(),
                    tail(&log)
                );
            }
            pause(20)?;
        }
    }

    /// SIGKILL: no chance to release the lease.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Whether this replica says it holds the lease (None: it did not answer).
    fn holds_lease(&self, token: &str) -> Option<bool> {
        let (status, body) = http(&self.api, "GET", "/v1/status", token, b"").ok()?;
        if status != 200 {
            return None;
        }
        let v: serde_json::Value = serde_json::from_str(&body).ok()?;
        v["lease"]["this_replica"].as_bool()
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The last lines of a serve log, for an error.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let last = lines[lines.len().saturating_sub(5)..].join(" / ");
    if last.is_empty() {
        "(it said nothing)".into()
    } else {
        last
    }
}

/// One HTTP/1.1 request on loopback; status and body.
fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: &str,
    body: &[u8],
) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
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
    let mut body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    if text.split_once("\r\n\r\n").is_some_and(|(h, _)| {
        h.to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
    }) {
        body = dechunk(&body);
    }
    Ok((status, body))
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

/// Runs `hotline ARGS` to completion; its stderr on failure.
fn hotline(args: &[&std::ffi::OsStr]) -> Result<()> {
    let o = Command::new(std::env::current_exe().context("finding this program")?)
        .args(args)
        .env("HOTLINE_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .context("running hotline")?;
    if !o.status.success() {
        let said = String::from_utf8_lossy(&o.stderr);
        bail!("{}", said.trim().trim_start_matches("error: "));
    }
    Ok(())
}

/// Sets `[store] lease_secs` and the replica's name in its `hotline.toml`.
fn configure(dir: &Path, name: &str, lease_secs: Option<f64>) -> Result<()> {
    let p = dir.join("hotline.toml");
    let t = std::fs::read_to_string(&p).context("reading hotline.toml")?;
    let mut add = format!("replica = \"{name}\"\n");
    if let Some(s) = lease_secs {
        add.push_str(&format!("lease_secs = {s:?}\n"));
    }
    let Some((before, after)) = t.split_once("[store]\n") else {
        bail!("hotline.toml of the new party has no [store] table");
    };
    std::fs::write(&p, format!("{before}[store]\n{add}{after}")).context("writing hotline.toml")
}

/// Which of the two holds the lease, once exactly one says so and the
/// other answers that it does not.
fn holder(replicas: &[Replica; 2], token: &str) -> Result<usize> {
    let deadline = Instant::now() + WAIT;
    loop {
        match (
            replicas[0].holds_lease(token),
            replicas[1].holds_lease(token),
        ) {
            (Some(true), Some(false)) => return Ok(0),
            (Some(false), Some(true)) => return Ok(1),
            _ if Instant::now() > deadline => {
                bail!(
                    "no replica held the sequencer lease after {} s",
                    WAIT.as_secs()
                )
            }
            _ => pause(20)?,
        }
    }
}

pub(super) fn takeover(
    url: &str,
    rounds: usize,
    lease_secs: Option<f64>,
    // Progress goes to stderr, so it is shown with --json too.
    quiet: bool,
) -> Result<TakeoverFigures> {
    let store = hotline_node::store::postgres::redact(url);
    if lease_secs.is_some_and(|s| !(0.3..=3600.0).contains(&s)) {
        bail!("--lease-secs must be between 0.3 and 3600");
    }
    // Declared first, so removed last: after the processes are gone.
    let tmp = tempfile::tempdir().context("making a temporary directory")?;
    let (a_dir, b_dir) = (tmp.path().join("a/us"), tmp.path().join("b/us"));
    std::fs::create_dir_all(tmp.path().join("a")).context("making a replica's folder")?;
    std::fs::create_dir_all(tmp.path().join("b")).context("making a replica's folder")?;

    progress(&format!("init party us on {store}"), quiet);
    hotline(&[
        "init".as_ref(),
        "--party".as_ref(),
        "us".as_ref(),
        "--dir".as_ref(),
        a_dir.as_os_str(),
        "--store".as_ref(),
        url.as_ref(),
    ])
    .context("hotline init --store (the benchmark needs a database holding no log)")?;
    for office in ["us/fbi", "us/state"] {
        hotline(&[
            "office".as_ref(),
            "add".as_ref(),
            office.as_ref(),
            "--dir".as_ref(),
            a_dir.as_os_str(),
        ])
        .with_context(|| format!("hotline office add {office}"))?;
    }
    // The second replica: a copy of the directory (keys, offices, token).
    let o = Command::new("cp")
        .arg("-a")
        .arg(&a_dir)
        .arg(&b_dir)
        .output()
        .context("running cp -a to copy the party directory")?;
    if !o.status.success() {
        bail!(
            "copying the party directory: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        );
    }
    configure(&a_dir, "a", lease_secs)?;
    configure(&b_dir, "b", lease_secs)?;
    let token = std::fs::read_to_string(a_dir.join("api.token"))
        .context("reading the API token")?
        .trim()
        .to_owned();

    let mut replicas = [Replica::new(a_dir, "a"), Replica::new(b_dir, "b")];
    progress("starting replica a, then b once a holds the lease", quiet);
    replicas[0].start()?;
    let deadline = Instant::now() + WAIT;
    while replicas[0].holds_lease(&token) != Some(true) {
        if Instant::now() > deadline {
            bail!(
                "replica a did not take the sequencer lease in {} s",
                WAIT.as_secs()
            );
        }
        pause(20)?;
    }
    replicas[1].start()?;

    let mut times = Vec::with_capacity(rounds);
    for round in 1..=rounds {
        let held = holder(&replicas, &token)?;
        let other = 1 - held;
        let survivor = replicas[other].api.clone();
        let body =
            format!(r#"{{"from":"us/fbi","to":"us/state","text":"takeover round {round}"}}"#);
        let killed = Instant::now();
        replicas[held].kill();
        let mut last;
        let taken = loop {
            match http(&survivor, "POST", "/v1/messages", &token, body.as_bytes()) {
                Ok((201, _)) => break killed.elapsed(),
                Ok((status, text)) => last = format!("{status} {}", text.trim()),
                Err(e) => last = e.to_string(),
            }
            if killed.elapsed() > WAIT {
                bail!(
                    "round {round}: replica {} took no append in {} s after replica {} was killed (last answer: {last})",
                    replicas[other].name,
                    WAIT.as_secs(),
                    replicas[held].name
                );
            }
            pause(5)?;
        };
        progress(
            &format!(
                "round {round} of {rounds}: killed replica {}, replica {} appended after {:.0} ms",
                replicas[held].name,
                replicas[other].name,
                taken.as_secs_f64() * 1e3
            ),
            quiet,
        );
        times.push(taken.as_secs_f64() * 1e3);
        replicas[held].start()?;
    }
    drop(replicas);
    drop(tmp);

    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    Ok(TakeoverFigures {
        rounds,
        lease_secs: lease_secs.unwrap_or(hotline_node::replica::DEFAULT_LEASE_SECS),
        min_ms: sorted.first().copied().unwrap_or(0.0),
        median_ms: sorted.get(sorted.len() / 2).copied().unwrap_or(0.0),
        max_ms: sorted.last().copied().unwrap_or(0.0),
        round_ms: times,
        store,
    })
}
