//! `hotline demo`: the storyline of SCENARIO.md on embedded defaults, live.
//!
//! One process runs three nodes on loopback: the parties `us` and `ru` with
//! the scenario's offices, and `nato`, a third witness that holds no offices.
//! Every pair is pinned both ways (party keys and TLS certificates), so each
//! log is mirrored and cosigned by both other parties. The demo sends a first
//! set of sealed messages, waits until each has its receipt back at the sender
//! and every log is cosigned by both others, prints where to look and what to
//! try, and keeps the nodes running until Ctrl-C. Running it again resumes in
//! the same directory.
//!
//! The helpers that create, pin and serve local parties are shared with
//! `hotline bench link`.

use std::collections::HashMap;
use std::io::{IsTerminal as _, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail, ensure};
use clap::Args;
use hotline_node::dir::{NodeDir, write_atomic};
use hotline_node::federation::status::peer_status;
use hotline_node::{InitOptions, Node, NodeError};
use hotline_proto::bundle::{self, Keyring};
use hotline_proto::checkpoint;
use hotline_proto::entry::{Content, Kind, SignedEntry};
use hotline_proto::name::{Office, Party};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// `hotline demo` options.
#[derive(Args, Clone)]
pub struct DemoArgs {
    /// Where to keep the demo's parties (one node directory each).
    #[arg(long, default_value = "hotline-demo")]
    pub dir: PathBuf,
    /// Exit once the first exchange is receipted and cosigned, instead of
    /// running until Ctrl-C (for scripts and tests).
    #[arg(long)]
    pub once: bool,
}

/// A demo party: its name, offices, and the loopback ports tried first.
struct Cast {
    name: &'static str,
    offices: &'static [&'static str],
    api_port: u16,
    peer_port: u16,
}

const CAST: [Cast; 3] = [
    Cast {
        name: "us",
        offices: &["president", "defense", "state", "fbi"],
        api_port: 7700,
        peer_port: 7701,
    },
    Cast {
        name: "ru",
        offices: &["president", "defense", "foreign", "fsb"],
        api_port: 7710,
        peer_port: 7711,
    },
    Cast {
        name: "nato",
        offices: &[],
        api_port: 7720,
        peer_port: 7721,
    },
];

/// Seconds between cosignature rounds in the demo (the default is 60).
const DEMO_COSIGN_SECS: u64 = 5;
/// How long the first exchange may take before the demo gives up.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(90);

/// The first exchange: SCENARIO.md steps 2 and 5 (dates in the text; the
/// entries carry the real clock).
const MESSAGES: [(&str, &str, &str, &str, &str); 5] = [
    (
        "2021-01-19",
        "ru/president",
        "us/president",
        "ru",
        "Президент Российской Федерации просит о телефонном разговоре с Президентом Соединённых Штатов.",
    ),
    (
        "2021-01-20",
        "us/president",
        "ru/president",
        "en",
        "Call request received. The President proposes 26 January 2021; topics: Navalny, SolarWinds, and extending New START before it expires on 5 February 2021.",
    ),
    (
        "2021-06-21",
        "us/fbi",
        "ru/fsb",
        "en",
        "Inquiry: ransomware attack on a US supplier; indicators follow. Please acknowledge within 24 hours under the cybercrime cooperation channel.",
    ),
    (
        "2021-06-22",
        "ru/fsb",
        "us/fbi",
        "ru",
        "Запрос получен, проверяем. Ответ последует в установленный срок.",
    ),
    (
        "2022-05-13",
        "us/defense",
        "ru/defense",
        "en",
        "Proposal: keep the defence communications line open and tested hourly.",
    ),
];

// ---------------------------------------------------------------------------
// Local parties on loopback (shared with `hotline bench link`).

/// A party's node with its loopback listeners, before and while it serves.
pub(crate) struct Local {
    pub node: Node,
    pub api: SocketAddr,
    pub peer: SocketAddr,
    listeners: Option<(TcpListener, TcpListener)>,
}

/// Creates a party in `dir` whose API and peer listener default to the given
/// addresses and whose witnesses are asked to cosign every `cosign_secs`.
pub(crate) fn create_party(
    dir: &NodeDir,
    name: &str,
    listen: &str,
    peer_listen: &str,
    cosign_secs: u64,
) -> Result<()> {
    Node::init(
        dir,
        InitOptions {
            party: Party::new(name)?,
            origin: None,
            listen: listen.into(),
        },
    )?;
    // The binary does not link a TOML writer; the file `init` wrote has one
    // `key = value` line per setting, so replace the two lines and read the
    // result back through the node's own parser.
    let path = dir.config();
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let text = set_toml_key(&text, "peer_listen", &format!("\"{peer_listen}\""));
    let text = set_toml_key(&text, "cosign_interval_secs", &cosign_secs.to_string());
    write_atomic(&path, text.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
    let config = dir.read_config()?;
    ensure!(
        config.cosign_interval_secs == cosign_secs && config.peer_listen == peer_listen,
        "{}: the settings written did not read back",
        path.display()
    );
    Ok(())
}

/// Sets a top-level `key = value` in TOML text (added before the first table
/// if missing).
fn set_toml_key(text: &str, key: &str, value: &str) -> String {
    let line = format!("{key} = {value}");
    let is_key = |l: &str| l.split_once('=').is_some_and(|(k, _)| k.trim() == key);
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    if let Some(i) = lines.iter().position(|l| is_key(l)) {
        lines[i] = line;
    } else {
        let at = lines
            .iter()
            .position(|l| l.trim_start().starts_with('['))
            .unwrap_or(lines.len());
        lines.insert(at, line);
    }
    lines.join("\n") + "\n"
}

/// Binds `127.0.0.1:port`, or any free port if that one is taken (or 0).
async fn bind_loopback(port: u16) -> Result<(TcpListener, bool)> {
    if port != 0
        && let Ok(l) = TcpListener::bind(("127.0.0.1", port)).await
    {
        return Ok((l, false));
    }
    let l = TcpListener::bind(("127.0.0.1", 0))
        .await
        .context("binding a loopback port")?;
    Ok((l, port != 0))
}

impl Local {
    /// Binds the node's API and peer listeners on loopback, preferring the
    /// given ports. Says on standard error when a preferred port was taken.
    pub(crate) async fn bind(node: Node, api_port: u16, peer_port: u16) -> Result<Self> {
        let (api, moved_api) = bind_loopback(api_port).await?;
        let (peer, moved_peer) = bind_loopback(peer_port).await?;
        let (a, p) = (api.local_addr()?, peer.local_addr()?);
        for (moved, port, now) in [(moved_api, api_port, a), (moved_peer, peer_port, p)] {
            if moved {
                eprintln!(
                    "  note: port {port} is taken; {} listens on {now} instead",
                    node.party()
                );
            }
        }
        Ok(Self {
            node,
            api: a,
            peer: p,
            listeners: Some((api, peer)),
        })
    }

    /// The URL where the other parties reach this node.
    pub(crate) fn peer_url(&self) -> String {
        format!("https://{}", self.peer)
    }
}

/// Pins every pair both ways with the real peer URLs and TLS pins. Done
/// before serving, so each node's federation loops start with the current
/// URLs. Pinning the same keys again (a resumed demo) only updates the URL.
pub(crate) fn pin_all(parties: &[Local]) -> Result<()> {
    for a in parties {
        for b in parties {
            if a.node.party() == b.node.party() {
                continue;
            }
            let mut id = b.node.identity();
            id.url = Some(b.peer_url());
            a.node
                .add_peer(id)
                .with_context(|| format!("{} pinning {}", a.node.party(), b.node.party()))?;
        }
    }
    Ok(())
}

/// Nodes serving in tokio tasks, and the switch that stops them.
pub(crate) struct Serving {
    stop: watch::Sender<bool>,
    tasks: Vec<(String, JoinHandle<std::io::Result<()>>)>,
}

/// Starts `api::serve` (API, peer link, federation loops) for each party.
pub(crate) fn serve_all(parties: &mut [Local]) -> Result<Serving> {
    let (stop, rx) = watch::channel(false);
    let mut tasks = Vec::new();
    for p in parties {
        let (api, peer) = p
            .listeners
            .take()
            .context("this party is already serving")?;
        let mut rx = rx.clone();
        let shutdown = async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        tasks.push((
            p.node.party().to_string(),
            tokio::spawn(hotline_node::api::serve(
                p.node.clone(),
                api,
                Some(peer),
                shutdown,
            )),
        ));
    }
    Ok(Serving { stop, tasks })
}

impl Serving {
    /// Signals every node to stop and waits for each to finish.
    pub(crate) async fn stop(self) -> Result<()> {
        let _ = self.stop.send(true);
        for (party, task) in self.tasks {
            match tokio::time::timeout(Duration::from_secs(15), task).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => bail!("node {party} stopped with an error: {e}"),
                Ok(Err(e)) => bail!("node {party}'s task failed: {e}"),
                Err(_) => bail!("node {party} did not stop within 15 s"),
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// The demo.

/// Opens (creating if missing) one demo party and its offices.
async fn open_party(root: &Path, cast: &Cast) -> Result<Node> {
    let dir = NodeDir::new(root.join(cast.name));
    let created = !dir.config().exists();
    if created {
        create_party(
            &dir,
            cast.name,
            &format!("127.0.0.1:{}", cast.api_port),
            &format!("127.0.0.1:{}", cast.peer_port),
            DEMO_COSIGN_SECS,
        )?;
    }
    let node = match Node::open(&dir) {
        Ok(n) => n,
        Err(NodeError::Busy(_)) => bail!(
            "another process is running {} (a `hotline demo` or `hotline serve` on it?); stop it first",
            dir.root().display()
        ),
        Err(e) => return Err(e.into()),
    };
    let mut announced = Vec::new();
    for o in cast.offices {
        let office = Office::new(&format!("{}/{o}", cast.name))?;
        if !node.offices().contains(&office) {
            let a = node.add_office(office.clone()).await?;
            announced.push(format!("{office} (entry {})", a.index));
        }
    }
    let what = if created { "created" } else { "resumed" };
    let size = node.reader().size()?;
    if announced.is_empty() {
        println!(
            "  {:<5} {what} in {}: log of {size} entries, cosigned every {} s",
            cast.name,
            dir.root().display(),
            node.config().cosign_interval_secs
        );
    } else {
        println!(
            "  {:<5} {what} in {}; office keys announced: {}",
            cast.name,
            dir.root().display(),
            announced.join(", ")
        );
    }
    Ok(node)
}

/// One message of the first exchange, once sent.
struct Sent {
    date: &'static str,
    from: usize,
    to: usize,
    from_office: &'static str,
    to_office: &'static str,
    index: u64,
    /// Where the receiver's receipt sits in its log, once the sender's mirror holds it.
    receipt: Option<u64>,
}

/// What the wait has seen so far.
struct Progress {
    /// Per (sender, receiver): how far the sender's mirror has been read.
    cursors: HashMap<(usize, usize), u64>,
    receipted: usize,
    cosigned: usize,
}

fn party_index(office: &str) -> usize {
    let p = office.split('/').next().unwrap_or_default();
    CAST.iter().position(|c| c.name == p).unwrap_or(0)
}

/// Reads what is new in each sender's mirror of each receiver's log and
/// notes the receipts for the messages sent.
fn read_receipts(parties: &[Local], sent: &mut [Sent], prog: &mut Progress) -> Result<()> {
    for (&(s, r), cursor) in &mut prog.cursors {
        let mirror = parties[s].node.mirror_reader(parties[r].node.party())?;
        loop {
            let leaves = mirror.store.leaves(mirror.log, *cursor, 1000)?;
            let Some(last) = leaves.last().map(|l| l.index) else {
                break;
            };
            for l in &leaves {
                let e = SignedEntry::from_leaf(&l.leaf)?;
                let h = e.header();
                if h.kind != Kind::Receipt {
                    continue;
                }
                let Some(rf) = h.refs.first() else { continue };
                if &rf.log != parties[s].node.party() {
                    continue;
                }
                for m in sent.iter_mut() {
                    if m.from == s && m.to == r && m.index == rf.index && m.receipt.is_none() {
                        m.receipt = Some(l.index);
                    }
                }
            }
            *cursor = last + 1;
        }
    }
    prog.receipted = sent.iter().filter(|m| m.receipt.is_some()).count();
    Ok(())
}

/// The (log writer, witness) pairs whose cosignature the writer's latest
/// checkpoint does not carry yet, checked as a verifier would: each line
/// against the pinned key.
fn missing_cosignatures(parties: &[Local]) -> Result<Vec<(usize, usize)>> {
    let mut missing = Vec::new();
    for (i, p) in parties.iter().enumerate() {
        let (size, note) = p.node.reader().checkpoint()?;
        let others: Vec<usize> = (0..parties.len()).filter(|&j| j != i).collect();
        let keys: Vec<_> = others
            .iter()
            .map(|&j| parties[j].node.witness_vkey())
            .collect();
        let cp = checkpoint::verify(&note, &p.node.log_vkey(), &keys)?;
        let current = size == p.node.reader().size()?;
        for (&j, key) in others.iter().zip(&keys) {
            if current && cp.cosignatures.iter().any(|c| c.name == key.name()) {
                continue;
            }
            missing.push((i, j));
        }
    }
    Ok(missing)
}

/// Waits until every message has its receipt back at its sender and every
/// log's latest checkpoint is cosigned by both other parties, showing
/// progress on standard error.
/// Where each sender's mirror of each receiver's log stands before this
/// run's messages: their receipts can only come after.
fn receipt_cursors(parties: &[Local]) -> Result<HashMap<(usize, usize), u64>> {
    let mut cursors = HashMap::new();
    for s in 0..parties.len() {
        for r in 0..parties.len() {
            if s != r {
                cursors.insert(
                    (s, r),
                    parties[s]
                        .node
                        .mirror_reader(parties[r].node.party())?
                        .size()?,
                );
            }
        }
    }
    Ok(cursors)
}

async fn settle(
    parties: &[Local],
    sent: &mut [Sent],
    cursors: HashMap<(usize, usize), u64>,
) -> Result<Duration> {
    let started = Instant::now();
    let mut prog = Progress {
        cursors,
        receipted: 0,
        cosigned: 0,
    };
    let tty = std::io::stderr().is_terminal();
    let mut shown = String::new();
    loop {
        read_receipts(parties, sent, &mut prog)?;
        let missing = missing_cosignatures(parties)?;
        prog.cosigned = (0..parties.len())
            .filter(|i| !missing.iter().any(|m| m.0 == *i))
            .count();
        let done = prog.receipted == sent.len() && prog.cosigned == parties.len();
        let line = format!(
            "  waiting: receipts back at the sender {}/{}, logs cosigned by both other parties {}/{}",
            prog.receipted,
            sent.len(),
            prog.cosigned,
            parties.len()
        );
        if tty {
            eprint!("\r{line} ({:.1} s) ", started.elapsed().as_secs_f64());
            let _ = std::io::stderr().flush();
        } else if line != shown {
            eprintln!("{line}");
        }
        shown = line;
        if done {
            if tty {
                eprintln!();
            }
            return Ok(started.elapsed());
        }
        if started.elapsed() > SETTLE_TIMEOUT {
            if tty {
                eprintln!();
            }
            let mut why = Vec::new();
            for p in parties {
                for peer in p.node.federation().all() {
                    let st = peer_status(&p.node, &peer)?;
                    why.extend(
                        st.alerts
                            .iter()
                            .map(|a| format!("{} → {}: {a}", p.node.party(), st.peer)),
                    );
                }
            }
            bail!(
                "the first exchange did not settle within {} s ({shown}){}",
                SETTLE_TIMEOUT.as_secs(),
                if why.is_empty() {
                    String::new()
                } else {
                    format!("; {}", why.join("; "))
                }
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn short_time(t: &jiff::Timestamp) -> String {
    t.strftime("%H:%M:%S").to_string()
}

/// One block per party: log size, mirrors held, last cosignatures of its log.
fn print_table(parties: &[Local]) -> Result<()> {
    println!(
        "  {:<5} {:>5}  {:<22} last cosignature of its log (witness time, UTC)",
        "party", "log", "mirrors held"
    );
    for p in parties {
        let mut mirrors = Vec::new();
        let mut cosigs = Vec::new();
        for peer in p.node.federation().all() {
            let st = peer_status(&p.node, &peer)?;
            mirrors.push(format!("{} {}", st.peer, st.mirror_size));
            cosigs.push(match &st.own_log_cosigned {
                Some(c) => format!("{} at {} (size {})", st.peer, short_time(&c.time), c.size),
                None => format!("{} never", st.peer),
            });
        }
        println!(
            "  {:<5} {:>5}  {:<22} {}",
            p.node.party().as_str(),
            p.node.reader().size()?,
            mirrors.join(", "),
            cosigs.join(", ")
        );
    }
    Ok(())
}

/// Waits for Ctrl-C or SIGTERM.
async fn interrupted() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async {
            match term.as_mut() {
                Some(t) => { t.recv().await; }
                None => std::future::pending::<()>().await,
            }
        } => {}
    }
}

pub async fn run(args: &DemoArgs) -> Result<()> {
    let root = args.dir.as_path();
    println!(
        "hotline demo in {} — three parties' nodes on loopback, in this one process",
        root.display()
    );

    println!(
        "\n1. Parties, each with its own node, keys and log (nato: a third witness, no offices):"
    );
    let mut parties = Vec::new();
    for cast in &CAST {
        let node = open_party(root, cast).await?;
        parties.push(Local::bind(node, cast.api_port, cast.peer_port).await?);
    }

    println!(
        "\n2. Each pair pins the other's party keys and TLS certificate, both ways (us⇄ru, us⇄nato, ru⇄nato);"
    );
    println!(
        "   every log is pushed to both other parties, who verify each entry, mirror it and cosign its checkpoints."
    );
    pin_all(&parties)?;
    for p in &parties {
        println!(
            "  {:<5} API http://{}   peer link {} (pinned TLS 1.3)",
            p.node.party().as_str(),
            p.api,
            p.peer_url()
        );
    }
    let serving = serve_all(&mut parties)?;
    // From here on Ctrl-C stops the nodes cleanly, during the exchange too.
    let stop = interrupted();
    tokio::pin!(stop);
    let result = tokio::select! {
        r = exchange(root, &parties, args.once) => r.map(|()| false),
        () = &mut stop => Ok(true),
    };
    if matches!(result, Ok(false)) && !args.once {
        println!(
            "\nRunning. Ctrl-C stops all three nodes; `hotline demo --dir {}` resumes.",
            root.display()
        );
        stop.await;
    }
    let stopping = matches!(result, Ok(true)) || !args.once;
    if stopping {
        eprintln!("\nstopping the nodes…");
    }
    let stopped = serving.stop().await;
    drop(parties);
    result?;
    stopped?;
    if stopping {
        eprintln!(
            "stopped cleanly; `hotline demo --dir {}` resumes.",
            root.display()
        );
    }
    Ok(())
}

/// Steps 3 onwards: the messages, the wait, what to look at.
/// The agreements of SCENARIO.md step 1, shipped in examples/ and built in.
pub const AGREEMENTS: [&str; 3] = [
    include_str!("../../../examples/presidential-agreement.toml"),
    include_str!("../../../examples/defense-agreement.toml"),
    include_str!("../../../examples/cyber-agreement.toml"),
];

/// `a` proposes each agreement, `b` signs it once its mirror holds the
/// proposal, and both wait until it is in force on both sides. Agreements
/// already in force with the same title are kept (a resumed demo).
pub async fn agree_all(a: &Node, b: &Node, texts: &[&str], quiet: bool) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    for text in texts {
        let terms = hotline_node::terms_file::parse(text)?;
        let now = hotline_node::clock::now();
        if let Some(existing) = a
            .agreements()?
            .into_iter()
            .find(|x| x.terms.title == terms.title && x.in_force(now))
        {
            ids.push(existing.id);
            continue;
        }
        let title = terms.title.clone();
        let p = a.propose_agreement(terms).await?;
        let id = format!("{}:{}", a.party(), p.index);
        wait_for(
            || b.agreement(&id).is_ok(),
            "the proposal reaching the other party",
        )
        .await?;
        b.sign_agreement(&id).await?;
        wait_for(
            || {
                a.agreement(&id)
                    .is_ok_and(|x| x.in_force(hotline_node::clock::now()))
            },
            "the signature reaching the proposer",
        )
        .await?;
        if !quiet {
            println!(
                "  {id:<6} {title}: proposed by {}, signed by {}, in force",
                a.party(),
                b.party()
            );
        }
        ids.push(id);
    }
    Ok(ids)
}

async fn wait_for(mut cond: impl FnMut() -> bool, what: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond() {
        anyhow::ensure!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

async fn exchange(root: &Path, parties: &[Local], once: bool) -> Result<()> {
    println!(
        "\n3. Agreements in force, each proposed by one party and signed by the other (SCENARIO step 1):"
    );
    agree_all(&parties[0].node, &parties[1].node, &AGREEMENTS, false).await?;
    println!(
        "\n4. Sealed messages, each signed by its office and durable in the sender's own log:"
    );
    let cursors = receipt_cursors(parties)?;
    let mut sent = Vec::new();
    for (date, from, to, lang, text) in MESSAGES {
        let (fi, ti) = (party_index(from), party_index(to));
        let a = parties[fi]
            .node
            .send_message(
                &Office::new(from)?,
                &Office::new(to)?,
                Content::text(text, Some(lang.into())),
                None,
            )
            .await?;
        println!(
            "  {date}  {from:<12} → {to:<12}  {} entry {}",
            CAST[fi].name, a.index
        );
        sent.push(Sent {
            date,
            from: fi,
            to: ti,
            from_office: from,
            to_office: to,
            index: a.index,
            receipt: None,
        });
    }

    println!(
        "\n5. Delivery: each receiver verifies the entry, writes a signed receipt into its own log, and the"
    );
    println!(
        "   sender's mirror of that log receives it; the witnesses cosign each log as it grows."
    );
    let took = settle(parties, &mut sent, cursors).await?;
    for m in &sent {
        println!(
            "  {} {}'s entry {} ({} → {}): receipt in {}'s log, entry {}",
            m.date,
            CAST[m.from].name,
            m.index,
            m.from_office,
            m.to_office,
            CAST[m.to].name,
            m.receipt.unwrap_or_default()
        );
    }
    println!(
        "  all receipted and cosigned {:.1} s after the last send",
        took.as_secs_f64()
    );

    println!("\n6. Where each party stands:");
    print_table(parties)?;

    let us = &parties[0];
    let fbi = sent
        .iter()
        .find(|m| m.from_office == "us/fbi")
        .map_or(0, |m| m.index);
    println!(
        "\n7. A proof anyone can check offline, with the pinned keys only (us's log key, ru's and nato's witness keys):"
    );
    let bundle_path = root.join(format!("us-entry-{fbi}.json"));
    std::fs::write(&bundle_path, us.node.reader().prove_entry(fbi)?)
        .with_context(|| format!("writing {}", bundle_path.display()))?;
    let keys = Keyring::new([
        us.node.log_vkey(),
        parties[1].node.witness_vkey(),
        parties[2].node.witness_vkey(),
    ]);
    let v = bundle::verify(&std::fs::read(&bundle_path)?, &keys)?;
    println!("  {}: {}", bundle_path.display(), v.sentence());

    let d = |name: &str| root.join(name).display().to_string();
    let (u, r, n) = (d("us"), d("ru"), d("nato"));
    let api = |i: usize| format!("http://{}", parties[i].api);
    println!("\nLook:");
    println!(
        "  {0}/healthz   {0}/metrics   {0}/openapi.json   (us; ru at {1}, nato at {2})",
        api(0),
        api(1),
        api(2)
    );
    let when = if once {
        "Try next (run `hotline demo` without --once to keep the nodes up for these):"
    } else {
        "Try next, in another terminal, while this runs:"
    };
    println!("\n{when}");
    println!("  hotline status --dir {u}                      # links, cosignatures, outbox");
    println!(
        "  hotline log --dir {u} --peer ru               # us's verified mirror of ru's log, receipts included"
    );
    println!(
        "  hotline checkpoint --dir {u}                  # us's checkpoint with ru's and nato's cosignatures"
    );
    println!("  hotline prove entry {fbi} --dir {u} -o x.json");
    println!(
        "  hotline verify x.json --key \"$(hotline key --dir {u})\" --key \"$(hotline key --witness --dir {r})\" --key \"$(hotline key --witness --dir {n})\""
    );
    println!("  hotline send --dir {u} --from us/fbi --to ru/fsb --text hi");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::set_toml_key;

    #[test]
    fn toml_key_is_replaced_or_added_before_tables() {
        let t = "party = \"us\"\ncosign_interval_secs = 60\n\n[limits]\nmax_text_bytes = 1\n";
        assert_eq!(
            set_toml_key(t, "cosign_interval_secs", "5"),
            "party = \"us\"\ncosign_interval_secs = 5\n\n[limits]\nmax_text_bytes = 1\n"
        );
        assert_eq!(
            set_toml_key(t, "peer_listen", "\"127.0.0.1:1\""),
            "party = \"us\"\ncosign_interval_secs = 60\n\npeer_listen = \"127.0.0.1:1\"\n[limits]\nmax_text_bytes = 1\n"
        );
    }
}
