//! The in-process multi-node set-up `hotline demo` and `hotline bench link`
//! share: parties created in node directories, pinned to each other both
//! ways, served on loopback in tokio tasks, and agreements proposed by one
//! and signed by the other.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail, ensure};
use hotline_node::clock;
use hotline_node::dir::{NodeDir, write_atomic};
use hotline_node::{InitOptions, Node};
use hotline_proto::party::Party;
use jiff::Timestamp;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

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
            api_names: vec![],
            console: hotline_console::config::ConsoleConfig::default_table(),
            store: None,
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

/// Starts `serve::serve` (API, peer link, federation loops) for each party.
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
        let console = hotline_console::router(p.node.clone())?;
        tasks.push((
            p.node.party().to_string(),
            tokio::spawn(hotline_node::serve::serve(
                p.node.clone(),
                console,
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

/// The agreements of SCENARIO.md step 1, shipped in examples/ and built in.
pub(crate) const AGREEMENTS: [&str; 3] = [
    include_str!("../../../examples/presidential-agreement.toml"),
    include_str!("../../../examples/defense-agreement.toml"),
    include_str!("../../../examples/cyber-agreement.toml"),
];

/// `a` proposes each agreement, `b` signs it once its mirror holds the
/// proposal, and both wait until the signature is back at the proposer (in
/// force, or from its start if that is still ahead). Agreements already
/// signed with the same title and not ended are kept (a resumed demo).
pub(crate) async fn agree_all(
    a: &Node,
    b: &Node,
    texts: &[&str],
    quiet: bool,
) -> Result<Vec<String>> {
    use hotline_proto::agreement::State;
    let signed = |x: &hotline_proto::agreement::Agreement| {
        matches!(x.state(clock::now()), State::InForce | State::Pending)
    };
    let mut ids = Vec::new();
    for text in texts {
        let terms = hotline_node::terms_file::parse(text)?;
        if let Some(existing) = a
            .agreements()?
            .into_iter()
            .find(|x| x.terms.title == terms.title && signed(x))
        {
            if !quiet {
                println!(
                    "  {:<6} {}: signed earlier, {}",
                    existing.id,
                    existing.terms.title,
                    in_force_from(&existing.terms.start)
                );
            }
            ids.push(existing.id);
            continue;
        }
        let title = terms.title.clone();
        let start = terms.start;
        let p = a.propose_agreement(terms).await?;
        let id = format!("{}:{}", a.party(), p.index);
        wait_for(
            || b.agreement(&id).is_ok(),
            "the proposal reaching the other party",
        )
        .await?;
        b.sign_agreement(&id).await?;
        wait_for(
            || a.agreement(&id).is_ok_and(|x| signed(&x)),
            "the signature reaching the proposer",
        )
        .await?;
        if !quiet {
            println!(
                "  {id:<6} {title}: proposed by {}, signed by {}, {}",
                a.party(),
                b.party(),
                in_force_from(&start)
            );
        }
        ids.push(id);
    }
    Ok(ids)
}

fn in_force_from(start: &Timestamp) -> String {
    if *start <= clock::now() {
        "in force".into()
    } else {
        format!("in force from {}", start.strftime("%Y-%m-%d"))
    }
}

/// Polls `cond` every 20 ms for up to a minute.
pub(crate) async fn wait_for(mut cond: impl FnMut() -> bool, what: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond() {
        anyhow::ensure!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
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
