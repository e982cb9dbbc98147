//! `hotline prove …` and `hotline open`: the proof bundles and openings a
//! third party checks offline.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use hotline_node::dir::NodeDir;
use hotline_node::log::LogReader;
use hotline_proto::party::Party;

use crate::DirArg;
use crate::client::NodeClient;

#[derive(Subcommand)]
pub enum ProveCmd {
    /// Prove that an entry was sent (sender's log) and received (the receiver's receipt).
    Delivery {
        /// The entry's id, `party:index` (a plain index: this party's own log).
        id: String,
        #[command(flatten)]
        dir: DirArg,
        /// Where to write the bundle (`-` for standard output).
        #[arg(short = 'o', long = "output", default_value = "-")]
        output: PathBuf,
    },
    /// Prove that an inquiry was acknowledged and answered, and whether within the agreement's deadlines.
    Answered {
        /// The inquiry's id, `party:index` (a plain index: this party's own log).
        id: String,
        #[command(flatten)]
        dir: DirArg,
        /// Where to write the bundle (`-` for standard output).
        #[arg(short = 'o', long = "output", default_value = "-")]
        output: PathBuf,
    },
    /// Prove that a log holds no entry of a kind on a channel in a window (refuses if it does).
    Absence {
        /// The party whose log the claim is about, e.g. `us`.
        #[arg(long)]
        log: String,
        /// The kind of entry, e.g. `inquiry`.
        #[arg(long)]
        kind: String,
        /// The sending office.
        #[arg(long)]
        from: String,
        /// The addressed office.
        #[arg(long)]
        to: String,
        /// Window start (RFC 3339, e.g. 2021-06-09T00:00:00Z).
        #[arg(long)]
        since: jiff::Timestamp,
        /// Window end (RFC 3339).
        #[arg(long)]
        until: jiff::Timestamp,
        #[command(flatten)]
        dir: DirArg,
        /// Where to write the bundle (`-` for standard output).
        #[arg(short = 'o', long = "output", default_value = "-")]
        output: PathBuf,
    },
    /// Prove a month's figures for one channel: sent, delivered, and per deadline met (on the sender's observation), missed (on the receiver's own signatures) or not settled.
    Stats {
        /// The channel as `FROM:TO`, e.g. `us/fbi:ru/fsb`.
        #[arg(long)]
        channel: String,
        /// The month, `YYYY-MM`.
        #[arg(long)]
        month: String,
        #[command(flatten)]
        dir: DirArg,
        /// Where to write the bundle (`-` for standard output).
        #[arg(short = 'o', long = "output", default_value = "-")]
        output: PathBuf,
    },
    /// Write the evidence that a log equivocated (showed two histories); without ID, list what is on record.
    Equivocation {
        /// The evidence's id, as `hotline status` shows it.
        id: Option<i64>,
        #[command(flatten)]
        dir: DirArg,
        /// Where to write the bundle (`-` for standard output).
        #[arg(short = 'o', long = "output", default_value = "-")]
        output: PathBuf,
    },
    /// Prove a joint statement: its text, signed by the proposing office and (if held) endorsed by the other.
    Statement {
        /// The statement's id, `party:index` (a plain index: this party's own log).
        id: String,
        #[command(flatten)]
        dir: DirArg,
        /// Where to write the bundle (`-` for standard output).
        #[arg(short = 'o', long = "output", default_value = "-")]
        output: PathBuf,
    },
    /// Prove that an entry is in this party's log.
    Entry {
        /// The entry's index, or its id `party:index` in this party's own log.
        index: String,
        #[command(flatten)]
        dir: DirArg,
        /// Where to write the bundle (`-` for standard output).
        #[arg(short = 'o', long = "output", default_value = "-")]
        output: PathBuf,
    },
}

#[derive(Args)]
pub struct OpenArgs {
    /// The entry's id, `party:index` (a plain index: this party's own log); sent or received
    /// by one of this party's offices.
    pub id: String,
    #[command(flatten)]
    pub dir: DirArg,
    /// Where to write the opening (`-` for standard output).
    #[arg(short = 'o', long = "output", default_value = "-")]
    pub output: PathBuf,
}

pub async fn run(cmd: ProveCmd) -> Result<ExitCode> {
    match cmd {
        ProveCmd::Delivery { id, dir, output } => {
            let id = crate::ids::entry_id(&NodeDir::new(&dir.dir), &id, "entry")?;
            let b = proof_source(&dir.dir)?.delivery(&id)?;
            wrote(&output, &b, &format!("the delivery bundle for {id}"))?;
        }
        ProveCmd::Answered { id, dir, output } => {
            let id = crate::ids::entry_id(&NodeDir::new(&dir.dir), &id, "entry")?;
            let b = proof_source(&dir.dir)?.answered(&id)?;
            wrote(&output, &b, &format!("the answered bundle for {id}"))?;
        }
        ProveCmd::Absence {
            log,
            kind,
            from,
            to,
            since,
            until,
            dir,
            output,
        } => {
            let kind = crate::suggest::kind(&kind)?;
            let nd = NodeDir::new(&dir.dir);
            let (f, t) = (
                crate::suggest::office(&nd, &from, "--from")?,
                crate::suggest::office(&nd, &to, "--to")?,
            );
            let b =
                proof_source(&dir.dir)?.absence(&Party::new(&log)?, kind, &f, &t, since, until)?;
            wrote(
                &output,
                &b,
                &format!(
                    "the absence bundle for {kind} {from} → {to} in {log}'s log, {since} – {until}"
                ),
            )?;
        }
        ProveCmd::Stats {
            channel,
            month,
            dir,
            output,
        } => {
            let (f, t) = channel.split_once(':').with_context(|| {
                format!("--channel {channel:?}: write FROM:TO, e.g. us/fbi:ru/fsb")
            })?;
            let nd = NodeDir::new(&dir.dir);
            let (f, t) = (
                crate::suggest::office(&nd, f, "--channel")?,
                crate::suggest::office(&nd, t, "--channel")?,
            );
            let b = proof_source(&dir.dir)?.stats(&f, &t, &month)?;
            wrote(&output, &b, &format!("the {month} figures of {channel}"))?;
        }
        ProveCmd::Statement { id, dir, output } => {
            let id = crate::ids::entry_id(&NodeDir::new(&dir.dir), &id, "statement")?;
            let b = proof_source(&dir.dir)?.statement(&id)?;
            wrote(&output, &b, &format!("the statement bundle for {id}"))?;
        }
        ProveCmd::Equivocation { id, dir, output } => {
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
                        // The API gives Unix seconds; shown as RFC 3339 like every other time.
                        let detected = e["detected"]
                            .as_i64()
                            .and_then(|t| jiff::Timestamp::from_second(t).ok())
                            .map_or_else(|| e["detected"].to_string(), |t| t.to_string());
                        println!(
                            "#{}  {}  detected {detected}",
                            e["id"],
                            e["origin"].as_str().unwrap_or("?"),
                        );
                    }
                }
            }
        }
        ProveCmd::Entry { index, dir, output } => {
            let dir = NodeDir::new(dir.dir);
            let index = crate::ids::own_index(&dir, &index)?;
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
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn open(args: OpenArgs) -> Result<ExitCode> {
    let OpenArgs { id, dir, output } = args;
    let id = crate::ids::entry_id(&NodeDir::new(&dir.dir), &id, "entry")?;
    let b = proof_source(&dir.dir)?.opening(&id)?;
    wrote(&output, &b, &format!("the opening of {id}"))?;
    Ok(ExitCode::SUCCESS)
}

fn proof_source(dir: &Path) -> Result<hotline_node::proofs::ProofSource> {
    Ok(hotline_node::proofs::ProofSource::open(&NodeDir::new(dir))?)
}

fn wrote(output: &Path, bundle: &str, what: &str) -> Result<()> {
    write_output(output, bundle.as_bytes())?;
    if output.as_os_str() != "-" {
        eprintln!(
            "Wrote {what} to {}; check it with `hotline verify {} --key …`.",
            output.display(),
            output.display()
        );
    }
    Ok(())
}

fn write_output(path: &Path, bytes: &[u8]) -> Result<()> {
    if path.as_os_str() == "-" {
        std::io::stdout().write_all(bytes)?;
    } else {
        std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
