//! `hotline witness`: the C2SP witnesses (not hotline nodes) this party
//! submits its checkpoints to. Through the running node when there is one
//! (it starts asking at once), else on `hotline.toml` directly.

use std::process::ExitCode;

use anyhow::{Result, anyhow};
use clap::Subcommand;
use hotline_node::dir::{NodeDir, WitnessConfig};
use hotline_node::witnesses::WitnessStatus;

use crate::DirArg;
use crate::client::NodeClient;
use crate::node_access::offline_node;

#[derive(Subcommand)]
pub enum WitnessCmd {
    /// Add a C2SP tlog-witness: the node submits each checkpoint to URL/add-checkpoint,
    /// with a consistency proof from the size it last cosigned, and merges its cosignature.
    Add {
        /// The witness's submission prefix, e.g. https://witness.example.org
        url: String,
        /// Its cosignature/v1 verifier key (C2SP vkey, type 0x04). Its name names the
        /// witness in status, metrics and bundles.
        #[arg(long, value_name = "VKEY")]
        key: String,
        #[command(flatten)]
        dir: DirArg,
        /// Print the witness's status as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the witnesses: URL, key, last cosigned size and time, last error.
    List {
        #[command(flatten)]
        dir: DirArg,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Stop submitting to a witness (by key name or URL); its cosignatures on record stay.
    Remove {
        /// The witness's key name or URL.
        witness: String,
        #[command(flatten)]
        dir: DirArg,
    },
}

pub async fn run(cmd: WitnessCmd) -> Result<ExitCode> {
    match cmd {
        WitnessCmd::Add {
            url,
            key,
            dir,
            json,
        } => {
            let dir = NodeDir::new(dir.dir);
            let entry = WitnessConfig { url, key };
            let st: WitnessStatus = match offline_node(&dir)? {
                Some(node) => node.add_witness(entry)?,
                None => {
                    NodeClient::connect(&dir)
                        .await?
                        .post("/v1/witnesses", &entry)
                        .await?
                }
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&st)?);
            } else {
                println!(
                    "Added witness {} at {}: the node submits each checkpoint to {}/add-checkpoint. Its operator must witness log {} with this party's log key (`hotline key`).",
                    st.name,
                    st.url,
                    st.url,
                    dir.read_config()?.origin
                );
            }
        }
        WitnessCmd::List { dir, json } => {
            let dir = NodeDir::new(dir.dir);
            let list = list(&dir).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if list.is_empty() {
                println!("No witnesses. Add one with `hotline witness add URL --key VKEY`.");
            } else {
                for w in &list {
                    println!("{}", describe(w));
                }
            }
        }
        WitnessCmd::Remove { witness, dir } => {
            let dir = NodeDir::new(dir.dir);
            match offline_node(&dir)? {
                Some(node) => node.remove_witness(&witness)?,
                None => {
                    let q = url_escape(&witness);
                    NodeClient::connect(&dir)
                        .await?
                        .delete(&format!("/v1/witnesses?witness={q}"))
                        .await?
                }
            }
            println!("Removed witness {witness}; its cosignatures on record stay.");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The witnesses with their status: from the running node, else as
/// configured (nothing asked yet).
async fn list(dir: &NodeDir) -> Result<Vec<WitnessStatus>> {
    match offline_node(dir)? {
        Some(node) => Ok(node.witnesses().status()),
        None => {
            let b = NodeClient::connect(dir)
                .await?
                .get_bytes("/v1/witnesses")
                .await?;
            serde_json::from_slice(&b).map_err(|e| anyhow!("decoding the node's answer: {e}"))
        }
    }
}

/// One line per witness for people.
pub fn describe(w: &WitnessStatus) -> String {
    let cosigned = match (&w.cosigned_size, &w.cosigned_at) {
        (Some(s), Some(t)) => format!("cosigned size {s} at {t} (its clock)"),
        _ => "no cosignature yet".into(),
    };
    let error = match &w.last_error {
        Some(e) => format!("; failing ({} in a row): {e}", w.failing_rounds),
        None => String::new(),
    };
    format!("{} at {}: {cosigned}{error}", w.name, w.url)
}

/// The witness's name or URL as a query value.
fn url_escape(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}
