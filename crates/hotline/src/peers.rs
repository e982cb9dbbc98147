//! `hotline peer list`: the parties this node pinned, and, when the node
//! runs, whether each link is up.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::Subcommand;
use hotline_node::dir::NodeDir;
use hotline_proto::keys::{NoteVerifier, PartyIdentity};
use serde_json::{Value, json};

use crate::DirArg;
use crate::client::NodeClient;
use crate::node_access::offline_node;

/// Every pinned party from the peer files, with the offices of its export
/// and those its mirrored log announced since; the link's state only if
/// the node is running.
pub async fn list(dir: &NodeDir, json_out: bool) -> Result<ExitCode> {
    dir.read_config()?;
    let mut ids: Vec<PartyIdentity> = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir.peers()) {
        for e in rd.flatten() {
            let p = e.path();
            let text =
                std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
            let id: PartyIdentity = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a pinned party's identity", p.display()))?;
            ids.push(id);
        }
    }
    ids.sort_by(|a, b| a.party.as_str().cmp(b.party.as_str()));
    // A node that is not running has no link to report: not an error here.
    let status: Option<Value> = match NodeClient::connect(dir).await {
        Ok(c) => c
            .get_bytes("/v1/status")
            .await
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok()),
        Err(_) => None,
    };
    let of_peer = |party: &str, what: &str| -> Value {
        status
            .as_ref()
            .and_then(|s| s["peers"].as_array())
            .and_then(|ps| ps.iter().find(|p| p["peer"] == party))
            .map(|p| p[what].clone())
            .unwrap_or(Value::Null)
    };
    let link = |party: &str| of_peer(party, "link");
    let offices = |id: &PartyIdentity| -> Vec<String> {
        let mut o: Vec<String> = id.offices.iter().map(|o| o.office.to_string()).collect();
        o.extend(
            crate::suggest::known_offices(dir)
                .into_iter()
                .filter(|k| k.split('/').next() == Some(id.party.as_str())),
        );
        o.sort();
        o.dedup();
        o
    };
    if json_out {
        let list: Vec<Value> = ids
            .iter()
            .map(|id| {
                json!({
                    "party": id.party.as_str(),
                    "log_key": id.log_key,
                    "witness_key": id.witness_key,
                    "url": of_peer(id.party.as_str(), "url")
                        .as_str()
                        .map(str::to_owned)
                        .or_else(|| id.addresses().first().map(|u| (*u).to_owned())),
                    "urls": id.addresses(),
                    "addresses": of_peer(id.party.as_str(), "addresses"),
                    "tls_pin": id.tls_pin,
                    "offices": offices(id),
                    "link": link(id.party.as_str()),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(ExitCode::SUCCESS);
    }
    if ids.is_empty() {
        println!(
            "No party pinned. Pin one from its keys file: hotline peer add PARTY --keys FILE --dir {}",
            dir.root().display()
        );
    }
    for id in &ids {
        let key = NoteVerifier::from_vkey(&id.log_key)
            .map(|v| format!("log {} (key id {:08x})", v.name(), v.key_id()))
            .unwrap_or_else(|_| "log key unreadable".into());
        let l = link(id.party.as_str());
        let state = match l["up"].as_bool() {
            Some(true) => format!("link up since {}", l["since"].as_str().unwrap_or("-")),
            Some(false) => format!("link DOWN since {}", l["since"].as_str().unwrap_or("-")),
            None => "link: node not running".into(),
        };
        let addresses = of_peer(id.party.as_str(), "addresses");
        let in_use = of_peer(id.party.as_str(), "url");
        let urls = id.addresses();
        println!(
            "{:<8} {key}  {}  {state}",
            id.party.as_str(),
            in_use
                .as_str()
                .or_else(|| urls.first().copied())
                .unwrap_or("(no URL)")
        );
        if urls.len() > 1 {
            for u in &urls {
                let a = addresses
                    .as_array()
                    .and_then(|a| a.iter().find(|a| a["url"] == *u));
                println!("         address {u}{}", address_note(a));
            }
        }
        let o = offices(id);
        if !o.is_empty() {
            println!("         offices: {}", o.join(", "));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What `peer list` says of one address of several, from the status.
fn address_note(a: Option<&Value>) -> String {
    let Some(a) = a else {
        return String::new();
    };
    let mut notes = vec![];
    if a["in_use"] == true {
        notes.push("in use".to_owned());
    }
    if let Some(t) = a["last_ok"].as_str() {
        notes.push(format!("last answered {t}"));
    }
    if let Some(e) = a["last_error"].as_str() {
        notes.push(format!(
            "last error {}: {e}",
            a["last_error_at"].as_str().unwrap_or("-")
        ));
    }
    if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join("; "))
    }
}

#[derive(Subcommand)]
pub enum PeerCmd {
    /// Pin another party from its exported keys file.
    Add {
        /// The party's name, e.g. `ru`; must match the file.
        party: String,
        /// The file written by the other party's `hotline keys export`.
        #[arg(long)]
        keys: PathBuf,
        /// Its node's URL (overrides the file's). Repeat it for each replica
        /// of its node (at most 8): they are tried in the order given, the
        /// next one when one cannot be reached or answers 503.
        #[arg(long = "url", value_name = "URL")]
        url: Vec<String>,
        #[command(flatten)]
        dir: DirArg,
    },
    /// List the pinned parties: keys, URL, offices, and the link's state when the node runs.
    List {
        #[command(flatten)]
        dir: DirArg,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(cmd: PeerCmd) -> Result<ExitCode> {
    match cmd {
        PeerCmd::Add {
            party,
            keys,
            url,
            dir,
        } => {
            let dir = NodeDir::new(dir.dir);
            let text = crate::files::read_text(&keys, "--keys")?;
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
            if !url.is_empty() {
                let given: Vec<&str> = url.iter().map(String::as_str).collect();
                hotline_node::federation::addresses::check_urls(&given)
                    .map_err(|e| anyhow::anyhow!("--url: {e}; nothing was pinned"))?;
                id.set_addresses(url);
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
        PeerCmd::List { dir, json } => {
            let dir = NodeDir::new(dir.dir);
            return crate::peers::list(&dir, json).await;
        }
    }
    Ok(ExitCode::SUCCESS)
}
