//! `hotline key` and `hotline keys export`: the keys this party shows others.

use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use hotline_node::dir::NodeDir;
use hotline_proto::keys::{NoteKey, PartyIdentity};

use crate::DirArg;
use crate::client::NodeClient;
use crate::node_access::offline_node;

#[derive(Args)]
pub struct KeyArgs {
    /// Print the cosigner key (type 0x04) instead of the log key.
    #[arg(long)]
    pub witness: bool,
    #[command(flatten)]
    pub dir: DirArg,
}

#[derive(Subcommand)]
pub enum KeysCmd {
    /// Print this party's public identity (log key, cosigner key, offices) as JSON.
    Export {
        #[command(flatten)]
        dir: DirArg,
        /// The URL where peers reach this node, to include in the export.
        #[arg(long)]
        url: Option<String>,
    },
}

pub async fn key(args: KeyArgs) -> Result<ExitCode> {
    let KeyArgs { witness, dir } = args;
    let dir = crate::node_access::configured_dir(dir.dir)?;
    let path = if witness {
        dir.witness_key()
    } else {
        dir.log_key()
    };
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    println!("{}", NoteKey::from_skey(&text)?.verifier().to_vkey());
    Ok(ExitCode::SUCCESS)
}

pub async fn run(cmd: KeysCmd) -> Result<ExitCode> {
    match cmd {
        KeysCmd::Export { dir, url } => {
            let dir = NodeDir::new(dir.dir);
            let mut id = identity(&dir).await?;
            // Without --url, a running node's actual peer address.
            let running = std::fs::read_to_string(dir.peer_addr())
                .ok()
                .map(|a| format!("https://{}", a.trim()));
            id.url = url.or(running).or(id.url);
            println!("{}", serde_json::to_string_pretty(&id)?);
        }
    }
    Ok(ExitCode::SUCCESS)
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
