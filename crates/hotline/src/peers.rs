//! `hotline peer list`: the parties this node pinned, and, when the node
//! runs, whether each link is up.

use std::process::ExitCode;

use anyhow::{Context as _, Result};
use hotline_node::dir::NodeDir;
use hotline_proto::keys::{NoteVerifier, PartyIdentity};
use serde_json::{Value, json};

use crate::client::NodeClient;

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
    let link = |party: &str| -> Value {
        status
            .as_ref()
            .and_then(|s| s["peers"].as_array())
            .and_then(|ps| ps.iter().find(|p| p["peer"] == party))
            .map(|p| p["link"].clone())
            .unwrap_or(Value::Null)
    };
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
                    "url": id.url,
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
        println!(
            "{:<8} {key}  {}  {state}",
            id.party.as_str(),
            id.url.as_deref().unwrap_or("(no URL)")
        );
        let o = offices(id);
        if !o.is_empty() {
            println!("         offices: {}", o.join(", "));
        }
    }
    Ok(ExitCode::SUCCESS)
}
