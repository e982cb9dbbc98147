//! `hotline agreement …` and `hotline agreements`: proposing, signing and
//! withdrawing agreements, and listing them.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};

use crate::DirArg;
use crate::client::NodeClient;
use crate::node_access::offline_node;
use crate::publish::show;

#[derive(Subcommand)]
pub enum AgreementCmd {
    /// Propose an agreement from a terms file (see examples/cyber-agreement.toml); prints its id.
    Propose {
        /// The terms, as TOML.
        #[arg(long)]
        file: PathBuf,
        #[command(flatten)]
        dir: DirArg,
        /// Print as JSON (an object with an `id` field).
        #[arg(long)]
        json: bool,
    },
    /// Sign the other party's proposal: from then on (and from its start date) it is in force.
    Sign {
        /// The agreement's id, `party:index` (a plain index: this party's own log).
        id: String,
        #[command(flatten)]
        dir: DirArg,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Withdraw from an agreement; it ends after the notice its terms give.
    Withdraw {
        /// The agreement's id, `party:index` (a plain index: this party's own log).
        id: String,
        #[command(flatten)]
        dir: DirArg,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct AgreementsArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(cmd: AgreementCmd) -> Result<ExitCode> {
    use hotline_node::api::CreatedJson;
    let (dir, json, what) = match &cmd {
        AgreementCmd::Propose { dir, json, .. } => (dir, *json, "Proposed"),
        AgreementCmd::Sign { dir, json, .. } => (dir, *json, "Signed"),
        AgreementCmd::Withdraw { dir, json, .. } => (dir, *json, "Withdrew"),
    };
    let dir = crate::node_access::configured_dir(&dir.dir)?;
    let mut cmd = cmd;
    if let AgreementCmd::Sign { id, .. } | AgreementCmd::Withdraw { id, .. } = &mut cmd {
        *id = crate::ids::entry_id(&dir, id, "agreement").map_err(|e| {
            anyhow::anyhow!("no agreement {id} is known here: {e}; `hotline agreements` lists them")
        })?;
    }
    let terms = match &cmd {
        AgreementCmd::Propose { file, .. } => {
            let text = crate::files::read_text(file, "--file")?;
            Some(
                hotline_node::terms_file::parse(&text)
                    .with_context(|| format!("{}", file.display()))?,
            )
        }
        _ => None,
    };
    let c: CreatedJson = match offline_node(&dir)? {
        Some(node) => {
            let mk = |id: String,
                      a: &hotline_node::sequencer::Appended,
                      eff: Option<jiff::Timestamp>| CreatedJson {
                id,
                index: a.index,
                leaf_hash: hotline_proto::b64::encode(a.leaf_hash.0),
                time: a.header.time.to_string(),
                effective: eff.map(|t| t.to_string()),
            };
            match &cmd {
                AgreementCmd::Propose { .. } => {
                    let a = node
                        .propose_agreement(terms.clone().unwrap_or_else(|| unreachable!()))
                        .await?;
                    mk(format!("{}:{}", node.party(), a.index), &a, None)
                }
                AgreementCmd::Sign { id, .. } => {
                    mk(id.clone(), &node.sign_agreement(id).await?, None)
                }
                AgreementCmd::Withdraw { id, .. } => {
                    let (a, eff) = node.withdraw_agreement(id).await?;
                    mk(id.clone(), &a, Some(eff))
                }
            }
        }
        None => {
            let client = NodeClient::connect(&dir).await?;
            match &cmd {
                AgreementCmd::Propose { .. } => client.post("/v1/agreements", &terms).await?,
                AgreementCmd::Sign { id, .. } => {
                    client
                        .post(&format!("/v1/agreements/{id}/sign"), &())
                        .await?
                }
                AgreementCmd::Withdraw { id, .. } => {
                    client
                        .post(&format!("/v1/agreements/{id}/withdraw"), &())
                        .await?
                }
            }
        }
    };
    if json {
        println!("{}", serde_json::to_string(&c)?);
    } else {
        match &c.effective {
            Some(eff) => println!(
                "{what} {}: entry {} of this party's log; it stops being in force at {eff}.",
                c.id, c.index
            ),
            None => println!("{what} {} (entry {} of this party's log).", c.id, c.index),
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn list(args: AgreementsArgs) -> Result<ExitCode> {
    let AgreementsArgs { dir, json } = args;
    let dir = crate::node_access::configured_dir(dir.dir)?;
    show(
        &dir,
        json,
        |n| {
            let now = hotline_node::clock::now();
            let list: Vec<_> = n
                .agreements()?
                .into_iter()
                .map(|a| hotline_node::api::agreement_json(a, now))
                .collect();
            Ok(list)
        },
        "/v1/agreements",
        |list| {
            let items = list.as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                println!(
                    "No agreement yet. Propose one: hotline agreement propose --file examples/cyber-agreement.toml"
                );
            }
            for a in items {
                let s = |k: &str| a[k].as_str().unwrap_or("-").to_owned();
                println!(
                    "{:<8} {:<10} {}  ({} ↔ {}, from {})",
                    s("id"),
                    s("state"),
                    s("title"),
                    s("proposer"),
                    s("counterparty"),
                    a["terms"]["start"].as_str().unwrap_or("-")
                );
            }
        },
    )
    .await?;
    Ok(ExitCode::SUCCESS)
}
