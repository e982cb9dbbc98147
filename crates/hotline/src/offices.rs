//! `hotline office …`: creating, listing, rotating and revoking this
//! party's offices.

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use hotline_node::Node;
use hotline_node::api::{AddOffice, AppendedJson};
use hotline_node::dir::NodeDir;
use hotline_proto::party::Office;

use crate::DirArg;
use crate::client::NodeClient;
use crate::node_access::offline_node;

#[derive(Subcommand)]
pub enum OfficeCmd {
    /// Create an office: keys, announced as a `key` entry in the log.
    Add {
        /// The office, e.g. `us/fbi`.
        office: String,
        #[command(flatten)]
        dir: DirArg,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Give an office new keys, announced as a `key` entry (action `rotate`); later entries are
    /// signed with them and peers seal to them. The old keys are kept in keys/offices/retired/.
    Rotate {
        /// The office, e.g. `us/fbi`.
        office: String,
        #[command(flatten)]
        dir: DirArg,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke an office (a `key` entry, action `revoke`): it can no longer sign, and nothing can
    /// be sent to it. Its keys are kept in keys/offices/retired/ to open earlier sealed bodies.
    Revoke {
        /// The office, e.g. `us/fbi`.
        office: String,
        #[command(flatten)]
        dir: DirArg,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List this party's offices.
    List {
        #[command(flatten)]
        dir: DirArg,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(cmd: OfficeCmd) -> Result<ExitCode> {
    match cmd {
        OfficeCmd::Add { office, dir, json } => {
            let dir = NodeDir::new(dir.dir);
            let office = Office::new(&office)?;
            let a = office_entry(&dir, &office, "/v1/offices", async |n| {
                Ok(n.add_office(office.clone()).await?.into())
            })
            .await?;
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
        OfficeCmd::Rotate { office, dir, json } => {
            change_office_keys(KeyChange::Rotate, &office, dir, json).await?;
        }
        OfficeCmd::Revoke { office, dir, json } => {
            change_office_keys(KeyChange::Revoke, &office, dir, json).await?;
        }
        OfficeCmd::List { dir, json } => {
            let dir = crate::node_access::configured_dir(dir.dir)?;
            let mut names = Vec::new();
            for e in std::fs::read_dir(dir.offices())? {
                let path = e?.path();
                // Current keys only: not retired/, not a rotation under way.
                if !path.is_file() || path.extension().is_none_or(|x| x != "json") {
                    continue;
                }
                let t = std::fs::read_to_string(path)?;
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
    }
    Ok(ExitCode::SUCCESS)
}

/// One entry about `office`: through the node itself when no node process
/// holds the directory, else posted to the running node's API at `route`.
async fn office_entry(
    dir: &NodeDir,
    office: &Office,
    route: &str,
    offline: impl AsyncFnOnce(&Node) -> Result<AppendedJson>,
) -> Result<AppendedJson> {
    match offline_node(dir)? {
        Some(node) => offline(&node).await,
        None => {
            NodeClient::connect(dir)
                .await?
                .post(
                    route,
                    &AddOffice {
                        office: office.to_string(),
                    },
                )
                .await
        }
    }
}

/// `hotline office rotate` and `hotline office revoke`.
#[derive(Clone, Copy)]
enum KeyChange {
    Rotate,
    Revoke,
}

/// Rotates or revokes an office's keys, through the node itself when it is
/// not running, else through the running node's API.
async fn change_office_keys(
    change: KeyChange,
    office: &str,
    dir: crate::DirArg,
    json: bool,
) -> Result<()> {
    let dir = NodeDir::new(dir.dir);
    let office = crate::suggest::office(&dir, office, "office")?;
    let (action, route) = match change {
        KeyChange::Rotate => ("rotate", "/v1/offices/rotate"),
        KeyChange::Revoke => ("revoke", "/v1/offices/revoke"),
    };
    let a = office_entry(&dir, &office, route, async |n| {
        Ok(match change {
            KeyChange::Rotate => n.rotate_office(office.clone()).await?.into(),
            KeyChange::Revoke => n.revoke_office(office.clone()).await?.into(),
        })
    })
    .await?;
    if json {
        println!(
            "{}",
            serde_json::json!({ "office": office.as_str(), "action": action, "index": a.index, "leaf_hash": a.leaf_hash })
        );
    } else {
        match change {
            KeyChange::Rotate => println!(
                "Rotated office {office}: its new keys are announced in entry {} ({}); it signs with them from there on, and peers seal to them once they mirror it. The old keys are kept in keys/offices/retired/ to open earlier sealed bodies.",
                a.index, a.leaf_hash
            ),
            KeyChange::Revoke => println!(
                "Revoked office {office} in entry {} ({}): it can no longer sign, and nothing can be sent to it. Its keys are kept in keys/offices/retired/ to open earlier sealed bodies.",
                a.index, a.leaf_hash
            ),
        }
    }
    Ok(())
}
