//! What each subcommand does.

use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use hotline_node::api::{AddOffice, AppendedJson, SendMessage};
use hotline_node::dir::NodeDir;
use hotline_node::reader::LogReader;
use hotline_node::{InitOptions, Node, NodeError};
use hotline_proto::bundle::{self, Keyring};
use hotline_proto::keys::{NoteKey, NoteVerifier, PartyIdentity};
use hotline_proto::name::{Office, Party};

use crate::client::NodeClient;
use crate::{Command, KeysCmd, OfficeCmd, PeerCmd, ProveCmd};

pub async fn run(cmd: Command) -> Result<ExitCode> {
    match cmd {
        Command::Init {
            party,
            origin,
            listen,
            dir,
            json,
        } => {
            let dir = NodeDir::new(dir.dir);
            let party = Party::new(&party)?;
            Node::init(
                &dir,
                InitOptions {
                    party: party.clone(),
                    origin,
                    listen,
                },
            )?;
            let (config, _) = LogReader::open(&dir)?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "party": party.as_str(), "origin": config.origin, "dir": dir.root() })
                );
            } else {
                println!(
                    "Created party {party} in {} (log {}).",
                    dir.root().display(),
                    config.origin
                );
                println!(
                    "Next: `hotline office add {party}/NAME --dir {}` and `hotline serve --dir {}`.",
                    dir.root().display(),
                    dir.root().display()
                );
            }
        }
        Command::Key { witness, dir } => {
            let dir = NodeDir::new(dir.dir);
            dir.read_config()?;
            let path = if witness {
                dir.witness_key()
            } else {
                dir.log_key()
            };
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            println!("{}", NoteKey::from_skey(&text)?.verifier().to_vkey());
        }
        Command::Office(OfficeCmd::Add { office, dir, json }) => {
            let dir = NodeDir::new(dir.dir);
            let office = Office::new(&office)?;
            let a: AppendedJson = match offline_node(&dir)? {
                Some(node) => node.add_office(office.clone()).await?.into(),
                None => {
                    NodeClient::connect(&dir)
                        .await?
                        .post(
                            "/v1/offices",
                            &AddOffice {
                                office: office.to_string(),
                            },
                        )
                        .await?
                }
            };
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "office": office.as_str(), "index": a.index, "leaf_hash": a.leaf_hash })
                );
            } else {
                println!(
                    "Created office {office}; its keys are announced in entry {} ({}).",
                    a.index, a.leaf_hash
                );
            }
        }
        Command::Office(OfficeCmd::List { dir, json }) => {
            let dir = NodeDir::new(dir.dir);
            dir.read_config()?;
            let mut names = Vec::new();
            for e in std::fs::read_dir(dir.offices())? {
                let t = std::fs::read_to_string(e?.path())?;
                names.push(
                    hotline_proto::keys::OfficeKeys::from_secret_json(&t)?
                        .office()
                        .to_string(),
                );
            }
            names.sort();
            if json {
                println!("{}", serde_json::to_string(&names)?);
            } else {
                names.iter().for_each(|n| println!("{n}"));
            }
        }
        Command::Keys(KeysCmd::Export { dir, url }) => {
            let dir = NodeDir::new(dir.dir);
            let mut id = identity(&dir).await?;
            // Without --url, a running node's actual peer address.
            let running = std::fs::read_to_string(dir.peer_addr())
                .ok()
                .map(|a| format!("https://{}", a.trim()));
            id.url = url.or(running).or(id.url);
            println!("{}", serde_json::to_string_pretty(&id)?);
        }
        Command::Peer(PeerCmd::Add {
            party,
            keys,
            url,
            dir,
        }) => {
            let dir = NodeDir::new(dir.dir);
            let text = std::fs::read_to_string(&keys)
                .with_context(|| format!("reading {}", keys.display()))?;
            let mut id: PartyIdentity = serde_json::from_str(&text).with_context(|| {
                format!("{} is not a `hotline keys export` file", keys.display())
            })?;
            if id.party.as_str() != party {
                bail!(
                    "{} holds the keys of party {}, not {party}",
                    keys.display(),
                    id.party
                );
            }
            if url.is_some() {
                id.url = url;
            }
            match offline_node(&dir)? {
                Some(node) => node.add_peer(id.clone())?,
                None => NodeClient::connect(&dir)
                    .await?
                    .post::<_, serde_json::Value>("/v1/peers", &id)
                    .await
                    .map(|_| ())?,
            }
            let log = NoteVerifier::from_vkey(&id.log_key)?;
            println!(
                "Pinned party {} (log {}, key id {:08x}) with {} offices.",
                id.party,
                log.name(),
                log.key_id(),
                id.offices.len()
            );
        }
        Command::Serve {
            dir,
            listen,
            peer_listen,
        } => serve(NodeDir::new(dir.dir), listen, peer_listen).await?,
        Command::Status { dir, json } => {
            let dir = NodeDir::new(dir.dir);
            dir.read_config()?;
            let bytes = NodeClient::connect(&dir)
                .await?
                .get_bytes("/v1/status")
                .await?;
            let v: serde_json::Value = serde_json::from_slice(&bytes)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                print_status(&v);
            }
        }
        Command::Prove(ProveCmd::Equivocation { id, dir, output }) => {
            let dir = NodeDir::new(dir.dir);
            dir.read_config()?;
            let client = NodeClient::connect(&dir).await?;
            match id {
                Some(id) => {
                    let b = client
                        .get_bytes(&format!("/v1/proofs/equivocation/{id}"))
                        .await?;
                    write_output(&output, &b)?;
                    if output.as_os_str() != "-" {
                        eprintln!(
                            "Wrote the equivocation evidence #{id} to {}.",
                            output.display()
                        );
                    }
                }
                None => {
                    let list: serde_json::Value =
                        serde_json::from_slice(&client.get_bytes("/v1/equivocations").await?)?;
                    let items = list.as_array().cloned().unwrap_or_default();
                    if items.is_empty() {
                        println!("No equivocation on record.");
                    }
                    for e in items {
                        println!(
                            "#{}  {}  detected {}",
                            e["id"],
                            e["origin"].as_str().unwrap_or("?"),
                            e["detected"]
                        );
                    }
                }
            }
        }
        Command::Send {
            dir,
            from,
            to,
            text,
            text_file,
            lang,
            json,
        } => {
            let dir = NodeDir::new(dir.dir);
            dir.read_config()?;
            let text = match (text, text_file) {
                (Some(t), _) => t,
                (None, Some(p)) if p.as_os_str() == "-" => {
                    let mut s = String::new();
                    std::io::stdin()
                        .read_to_string(&mut s)
                        .context("reading the text from standard input")?;
                    s
                }
                (None, Some(p)) => std::fs::read_to_string(&p)
                    .with_context(|| format!("reading {}", p.display()))?,
                (None, None) => bail!("give the text with --text or --text-file"),
            };
            Office::new(&from).context("--from")?;
            Office::new(&to).context("--to")?;
            let client = NodeClient::connect(&dir).await?;
            let a: AppendedJson = client
                .post(
                    "/v1/messages",
                    &SendMessage {
                        from: from.clone(),
                        to: to.clone(),
                        text,
                        lang,
                    },
                )
                .await?;
            if json {
                println!("{}", serde_json::to_string(&a)?);
            } else {
                println!(
                    "Sent: entry {} from {from} to {to}, leaf hash {} (durable in the log).",
                    a.index, a.leaf_hash
                );
            }
        }
        Command::Log {
            dir,
            start,
            limit,
            json,
            peer,
        } => {
            let dir = NodeDir::new(dir.dir);
            let (_, reader) = match &peer {
                Some(p) => LogReader::open_peer(&dir, p)?,
                None => LogReader::open(&dir)?,
            };
            let mut next = start;
            let mut left = limit.unwrap_or(u64::MAX);
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            while left > 0 {
                let lines = reader.lines(next, left.min(1000))?;
                if lines.is_empty() {
                    break;
                }
                for l in &lines {
                    if json {
                        serde_json::to_writer(&mut out, l)?;
                        writeln!(out)?;
                    } else {
                        let h = &l.header;
                        let s =
                            |k: &str| h.get(k).and_then(|v| v.as_str()).unwrap_or("-").to_owned();
                        let subject = h
                            .get("key")
                            .and_then(|k| k.get("office"))
                            .and_then(|v| v.as_str());
                        let to = subject
                            .map(|o| format!("announces {o}"))
                            .unwrap_or_else(|| format!("to {}", s("to")));
                        writeln!(
                            out,
                            "{:>6}  {}  {:<12} {:<14} {}",
                            l.index,
                            s("time"),
                            s("kind"),
                            s("from"),
                            to
                        )?;
                    }
                }
                next = lines.last().map_or(next, |l| l.index + 1);
                left = left.saturating_sub(lines.len() as u64);
            }
            out.flush()?;
        }
        Command::Checkpoint { dir } => {
            let dir = NodeDir::new(dir.dir);
            let (_, reader) = LogReader::open(&dir)?;
            let (_, note) = reader.checkpoint()?;
            std::io::stdout().write_all(&note)?;
        }
        Command::Prove(ProveCmd::Entry { index, dir, output }) => {
            let dir = NodeDir::new(dir.dir);
            let (_, reader) = LogReader::open(&dir)?;
            let b = reader.prove_entry(index)?;
            write_output(&output, b.as_bytes())?;
            if output.as_os_str() != "-" {
                eprintln!(
                    "Wrote the inclusion bundle for entry {index} to {}.",
                    output.display()
                );
            }
        }
        Command::Verify { file, keys, json } => return verify(&file, &keys, json),
        Command::Bench(b) => crate::bench::run(b).await?,
        Command::Demo { dir } => crate::demo::run(&dir).await?,
    }
    Ok(ExitCode::SUCCESS)
}

fn print_status(v: &serde_json::Value) {
    let s = |v: &serde_json::Value| {
        v.as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| v.to_string())
    };
    println!(
        "party {} — log {} holds {} entries",
        s(&v["party"]),
        s(&v["origin"]),
        v["log_size"]
    );
    let peers = v["peers"].as_array().cloned().unwrap_or_default();
    if peers.is_empty() {
        println!("no peers pinned (hotline peer add PARTY --keys FILE)");
    }
    for p in peers {
        let link = &p["link"];
        let state = if link["up"].as_bool() == Some(true) {
            "UP"
        } else {
            "DOWN"
        };
        println!(
            "\npeer {}  link {state} since {}",
            s(&p["peer"]),
            s(&link["since"])
        );
        let cos = |c: &serde_json::Value| {
            if c.is_null() {
                "never".to_owned()
            } else {
                format!(
                    "size {} at {} ({} s ago)",
                    c["size"],
                    s(&c["time"]),
                    c["age_seconds"]
                )
            }
        };
        println!(
            "  our log, last cosigned by {}:   {}",
            s(&p["peer"]),
            cos(&p["own_log_cosigned"])
        );
        println!(
            "  their log, mirrored:            {} entries",
            p["mirror_size"]
        );
        println!(
            "  their log, last cosigned by us: {}",
            cos(&p["peer_log_cosigned"])
        );
        let oldest = p["oldest_undelivered_seconds"]
            .as_i64()
            .map(|a| format!(", oldest {a} s"))
            .unwrap_or_default();
        println!(
            "  outbox:                         {} undelivered{oldest}",
            p["outbox_depth"]
        );
        for a in p["alerts"].as_array().cloned().unwrap_or_default() {
            println!("  ALERT: {}", s(&a));
        }
    }
}

/// Opens the node directly if no node process holds it; `None` if one does.
fn offline_node(dir: &NodeDir) -> Result<Option<Node>> {
    match Node::open(dir) {
        Ok(n) => Ok(Some(n)),
        Err(NodeError::Busy(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn identity(dir: &NodeDir) -> Result<PartyIdentity> {
    match offline_node(dir)? {
        Some(node) => Ok(node.identity()),
        None => {
            let bytes = NodeClient::connect(dir)
                .await?
                .get_bytes("/v1/identity")
                .await?;
            Ok(serde_json::from_slice(&bytes)?)
        }
    }
}

fn write_output(path: &Path, bytes: &[u8]) -> Result<()> {
    if path.as_os_str() == "-" {
        std::io::stdout().write_all(bytes)?;
    } else {
        std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Reads `--key` values: a vkey, a file with vkeys (one a line), or an export file.
pub fn read_keys(args: &[String]) -> Result<Vec<NoteVerifier>> {
    let mut out = Vec::new();
    for a in args {
        let text = if Path::new(a).is_file() {
            std::fs::read_to_string(a)?
        } else {
            a.clone()
        };
        if let Ok(id) = serde_json::from_str::<PartyIdentity>(&text) {
            out.push(NoteVerifier::from_vkey(&id.log_key)?);
            out.push(NoteVerifier::from_vkey(&id.witness_key)?);
            continue;
        }
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            out.push(NoteVerifier::from_vkey(line).with_context(|| format!("--key {a}"))?);
        }
    }
    Ok(out)
}

fn verify(file: &Path, keys: &[String], json: bool) -> Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let keyring = Keyring::new(read_keys(keys)?);
    match bundle::verify(&bytes, &keyring) {
        Ok(v) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "verified": true, "claim": v.sentence() })
                );
            } else {
                println!("Verified. {}", v.sentence());
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "verified": false, "error": e.to_string() })
                );
            }
            eprintln!("NOT verified: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

async fn serve(dir: NodeDir, listen: Option<String>, peer_listen: Option<String>) -> Result<()> {
    let node = Node::open(&dir)?;
    let addr = listen.unwrap_or_else(|| node.config().listen.clone());
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| {
            format!("listening on {addr} (is another node using it? pick another with --listen)")
        })?;
    let paddr = peer_listen.unwrap_or_else(|| node.config().peer_listen.clone());
    let peer_listener = tokio::net::TcpListener::bind(&paddr)
        .await
        .with_context(|| {
            format!("listening for peers on {paddr} (pick another with --peer-listen)")
        })?;
    let bound = listener.local_addr()?;
    let pbound = peer_listener.local_addr()?;
    tracing::info!(party = %node.party(), origin = %node.config().origin, %bound, peers = %pbound, "hotline node serving");
    eprintln!(
        "hotline: party {} serving the API on http://{bound} (docs at /openapi.json) and peers on https://{pbound} (pinned TLS); Ctrl-C stops.",
        node.party()
    );
    let shutdown = async {
        let ctrl_c = tokio::signal::ctrl_c();
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = ctrl_c => {},
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {},
        }
        tracing::info!("shutting down");
    };
    hotline_node::api::serve(node, listener, Some(peer_listener), shutdown).await?;
    Ok(())
}
