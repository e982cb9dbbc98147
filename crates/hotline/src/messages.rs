//! `hotline send`: a message from one of this party's offices.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;
use hotline_node::api::{AppendedJson, SendMessage};

use crate::DirArg;
use crate::client::NodeClient;

#[derive(Args)]
pub struct SendArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// Sending office, e.g. `us/fbi`.
    #[arg(long)]
    pub from: String,
    /// Receiving office, e.g. `ru/fsb`.
    #[arg(long)]
    pub to: String,
    /// The text (UTF-8, at most limits.max_text_bytes, 65536 by default).
    #[arg(
        long,
        conflicts_with = "text_file",
        required_unless_present = "text_file"
    )]
    pub text: Option<String>,
    /// Read the text from a file (`-` for standard input).
    #[arg(long)]
    pub text_file: Option<PathBuf>,
    /// The text's language (BCP 47, e.g. `en`, `ru`).
    #[arg(long)]
    pub lang: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn send(args: SendArgs) -> Result<ExitCode> {
    let SendArgs {
        dir,
        from,
        to,
        text,
        text_file,
        lang,
        json,
    } = args;
    let dir = crate::node_access::configured_dir(dir.dir)?;
    let text = match (text, text_file) {
        (Some(t), _) => t,
        (None, Some(p)) => crate::files::read_text(&p, "--text-file")?,
        (None, None) => bail!("give the text with --text or --text-file"),
    };
    crate::suggest::office(&dir, &from, "--from")?;
    crate::suggest::office(&dir, &to, "--to")?;
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
    Ok(ExitCode::SUCCESS)
}
