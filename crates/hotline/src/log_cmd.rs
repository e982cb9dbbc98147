//! `hotline log` and `hotline checkpoint`: this party's log as it stands.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use hotline_node::dir::NodeDir;
use hotline_node::log::LogReader;

use crate::DirArg;

#[derive(Args)]
pub struct LogArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// First index to list.
    #[arg(long, default_value_t = 0)]
    pub start: u64,
    /// Most entries to list.
    #[arg(long)]
    pub limit: Option<u64>,
    /// One JSON object a line.
    #[arg(long)]
    pub json: bool,
    /// List this node's verified mirror of a peer's log instead of the own log.
    #[arg(long)]
    pub peer: Option<String>,
}

#[derive(Args)]
pub struct CheckpointArgs {
    #[command(flatten)]
    pub dir: DirArg,
}

pub async fn log(args: LogArgs) -> Result<ExitCode> {
    let LogArgs {
        dir,
        start,
        limit,
        json,
        peer,
    } = args;
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
                let s = |k: &str| h.get(k).and_then(|v| v.as_str()).unwrap_or("-").to_owned();
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
    Ok(ExitCode::SUCCESS)
}

pub async fn checkpoint(args: CheckpointArgs) -> Result<ExitCode> {
    let CheckpointArgs { dir } = args;
    let dir = NodeDir::new(dir.dir);
    let (_, reader) = LogReader::open(&dir)?;
    let (_, note) = reader.checkpoint()?;
    std::io::stdout().write_all(&note)?;
    Ok(ExitCode::SUCCESS)
}
